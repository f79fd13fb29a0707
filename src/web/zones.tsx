// The zone list: search by name pattern, filters (state, reference, sectag, server group), server-side cursor
// paging (list_zone's `after`), create, enable/disable, delete/undelete.

import { useEffect, useState } from 'preact/hooks';
import { type Me, RpcError, rpc } from './api.js';
import { ErrorBox, FieldError, go, Heading, href, Notice } from './ui.js';

export interface ZoneBrief {
  id: number;
  name: string;
  state: string;
  reference: string | null;
  soaSerial: number | null;
}

const PAGE = 50;

export interface ZonesQuery {
  q?: string;
  which?: string;
  reference?: string;
  sectag?: string;
  sg?: string;
  after?: string;
}

export function ZonesPage({ me, query }: { me: Me; query: ZonesQuery }) {
  const staff = me.tier !== 'customer';
  const [form, setForm] = useState<ZonesQuery>(query);
  const [rows, setRows] = useState<ZoneBrief[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  // The cursors of the pages before this one, for "previous" (list_zone pages forward by the last name).
  const [trail, setTrail] = useState<string[]>([]);
  const key = JSON.stringify(query);

  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      const which = query.which ?? 'active';
      // One state (PUBLISHED, UPDATE, DISABLED) or a group of them (active, deleted, all).
      const p: Record<string, unknown> = { limit: PAGE + 1, ...(/^[A-Z]+$/.test(which) ? { state: which } : { which }) };
      if (query.q) p.pattern = query.q.includes('*') || query.q.includes('?') ? query.q : `*${query.q}*`;
      if (query.reference) p.reference = query.reference;
      if (query.sectag) p.sectag = query.sectag;
      if (query.sg) p.sg = query.sg;
      if (query.after) p.after = query.after;
      const r = await rpc<ZoneBrief[]>('list_zone', p);
      setMore(r.length > PAGE);
      setRows(r.slice(0, PAGE));
    } catch (e) {
      setError(e);
      setRows([]);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setForm(query);
    load();
  }, [key]);

  const search = (e: Event) => {
    e.preventDefault();
    setTrail([]);
    go('/zones', { ...form, after: undefined });
  };
  const next = () => {
    if (!rows?.length) return;
    setTrail([...trail, query.after ?? '']);
    go('/zones', { ...query, after: rows[rows.length - 1].name });
  };
  const prev = () => {
    const t = [...trail];
    const after = t.pop();
    setTrail(t);
    go('/zones', { ...query, after: after || undefined });
  };

  const act = async (method: string, z: ZoneBrief) => {
    setError(null);
    setDone('');
    try {
      await rpc(method, method === 'undelete_zone' ? { zoneId: z.id } : { zone: z.name });
      setDone(`${method.replace('_zone', '').replace('_', '')}: ${z.name} done`);
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section>
      <Heading>Zones</Heading>
      <CreateZone me={me} />
      <form class="filters" onSubmit={search} aria-label="Find zones">
        <label>
          Name
          <input type="search" name="q" value={form.q ?? ''} onInput={(e) => setForm({ ...form, q: e.currentTarget.value })} placeholder="part of a name, or a pattern (* ?)" />
        </label>
        <label>
          State
          <select name="which" value={form.which ?? 'active'} onChange={(e) => setForm({ ...form, which: e.currentTarget.value })}>
            <option value="active">active</option>
            <option value="PUBLISHED">published</option>
            <option value="UPDATE">unpublished changes</option>
            <option value="DISABLED">disabled</option>
            <option value="deleted">deleted</option>
            <option value="all">all</option>
          </select>
        </label>
        {staff && (
          <>
            <label>
              Reference
              <input name="reference" value={form.reference ?? ''} onInput={(e) => setForm({ ...form, reference: e.currentTarget.value })} />
            </label>
            {me.tier === 'admin' && (
              <label>
                Security tag
                <input name="sectag" value={form.sectag ?? ''} onInput={(e) => setForm({ ...form, sectag: e.currentTarget.value })} />
              </label>
            )}
            <label>
              Server group
              <input name="sg" value={form.sg ?? ''} onInput={(e) => setForm({ ...form, sg: e.currentTarget.value })} />
            </label>
          </>
        )}
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={error} />
      {done && <Notice kind="ok">{done}</Notice>}
      {rows && (
        <div class="table-wrap">
          <table aria-busy={busy}>
            <caption>
              Zones{query.q ? ` matching “${query.q}”` : ''} ({query.which ?? 'active'}){query.after ? `, after ${query.after}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Serial</th>
                <th scope="col">Reference</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={5}>No zones.</td>
                </tr>
              )}
              {rows.map((z) => (
                <tr>
                  <td>{z.state === 'DELETED' ? z.name : <a href={href(`/zone/${z.name}`)}>{z.name}</a>}</td>
                  <td>{z.state}</td>
                  <td>{z.soaSerial ?? ''}</td>
                  <td>{z.reference ?? ''}</td>
                  <td class="actions">
                    {z.state === 'DELETED' ? (
                      <button type="button" onClick={() => act('undelete_zone', z)} aria-label={`Undelete ${z.name}`}>
                        Undelete
                      </button>
                    ) : (
                      <>
                        {z.state === 'DISABLED' ? (
                          <button type="button" onClick={() => act('enable_zone', z)} aria-label={`Enable ${z.name}`}>
                            Enable
                          </button>
                        ) : (
                          <button type="button" onClick={() => act('disable_zone', z)} aria-label={`Disable ${z.name}`}>
                            Disable
                          </button>
                        )}
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete ${z.name}`}
                          onClick={() => {
                            if (confirm(`Delete zone ${z.name}? It can be undeleted until vacuumed.`)) act('delete_zone', z);
                          }}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" onClick={prev} disabled={!query.after}>
          Previous page
        </button>
        <button type="button" onClick={next} disabled={!more}>
          Next page
        </button>
      </nav>
    </section>
  );
}

function CreateZone({ me }: { me: Me }) {
  const [name, setName] = useState('');
  const [reference, setReference] = useState('');
  const [editLock, setEditLock] = useState(false);
  const [autoDnssec, setAutoDnssec] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const p: Record<string, unknown> = { zone: name.trim() };
      if (reference.trim()) p.reference = reference.trim();
      const flags: Record<string, boolean> = {};
      if (editLock) flags.editLock = true;
      if (autoDnssec) flags.autoDnssec = true;
      if (Object.keys(flags).length) p.flags = flags;
      const z = await rpc<{ name: string }>('create_zone', p);
      go(`/zone/${z.name}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldMsg = (f: string) => (error instanceof RpcError ? error.problems.find((p) => p.path === f)?.message : undefined);
  const zoneMsg = fieldMsg('zone') ?? (error instanceof RpcError && !error.problems.length ? error.message : undefined);
  return (
    <details class="create">
      <summary>Create a zone</summary>
      <form onSubmit={submit} aria-label="Create a zone">
        <label>
          Zone name, or a network for a reverse zone
          <input
            name="zone"
            required
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            placeholder="example.org or 192.0.2.0/24"
            aria-invalid={!!zoneMsg}
            aria-describedby="create-zone-err"
          />
          <FieldError id="create-zone-err" message={zoneMsg} />
        </label>
        {me.tier !== 'customer' && (
          <label>
            Reference (optional)
            <input name="reference" value={reference} onInput={(e) => setReference(e.currentTarget.value)} aria-describedby="create-ref-err" />
            <FieldError id="create-ref-err" message={fieldMsg('reference')} />
          </label>
        )}
        <fieldset>
          <legend>Flags</legend>
          <label class="check">
            <input type="checkbox" checked={editLock} onChange={(e) => setEditLock(e.currentTarget.checked)} /> Edit lock
          </label>
          <label class="check">
            <input type="checkbox" checked={autoDnssec} onChange={(e) => setAutoDnssec(e.currentTarget.checked)} /> Sign with DNSSEC
          </label>
        </fieldset>
        <button type="submit" disabled={busy}>
          Create zone
        </button>
        {error && !zoneMsg && <ErrorBox error={error} />}
      </form>
    </details>
  );
}
