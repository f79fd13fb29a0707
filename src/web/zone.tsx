// One zone: its records as a table and as text, its history, its DNSSEC state.
//
// Changes are never published directly: a change made here (a record added, edited or deleted; the text saved) is
// saved as a new, unpublished version, and publishing is a separate step after the diff against the published
// version has been shown. Every change carries what it was based on (the newest version's serial for update_rrs,
// the edit token or base version for text): if someone else changed the zone meanwhile, the server refuses and the
// UI shows what they changed, keeping what was typed.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Me, type Problem, RpcError, rpc } from './api.js';
import { parseRecords, type Rec } from './records.js';
import { DiffView, ErrorBox, FieldError, fmtTime, Heading, href, messageOf, Notice } from './ui.js';

interface ZoneInfo {
  id: number;
  name: string;
  state: string;
  flags: Record<string, boolean>;
  sg: string | null;
  reference: string | null;
  sectags: string[];
  publishedVersion: number | null;
  latestVersion: number | null;
  soaSerial: number | null;
  lockedBy: string | null;
  lockExpires: string | null;
  lockedSince: string | null;
}

interface Zi {
  version: number;
  soaSerial: number;
  changeBy: string;
  comment: string | null;
  ctime: string;
  ptime: string | null;
  published: boolean;
}

interface Loaded {
  zone: ZoneInfo;
  zis: Zi[];
  text: string;
  latest: number;
  serial: number;
}

const recKey = (r: Rec) => `${r.name}\u0000${r.type}\u0000${r.rdata}`;

export type Tab = 'records' | 'text' | 'history' | 'dnssec' | 'settings';

export function ZonePage({ me, name, tab }: { me: Me; name: string; tab: Tab }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [review, setReview] = useState(false);

  const load = async (): Promise<Loaded | null> => {
    try {
      const [list, shown] = await Promise.all([
        rpc<{ zone: ZoneInfo; zis: Zi[] }>('list_zi', { zone: name }),
        rpc<{ text: string; zi: Zi }>('show_zone', { zone: name, zi: 'latest' }),
      ]);
      const d = { zone: list.zone, zis: list.zis, text: shown.text, latest: shown.zi.version, serial: shown.zi.soaSerial };
      setData(d);
      setError(null);
      return d;
    } catch (e) {
      setError(e);
      return null;
    }
  };
  useEffect(() => {
    setData(null);
    setReview(false);
  }, [name]);
  // Each view loads the zone afresh: a lock taken or a version saved elsewhere shows up when switching views.
  useEffect(() => {
    load();
  }, [name, tab]);

  if (error && !data)
    return (
      <section>
        <Heading>Zone {name}</Heading>
        <ErrorBox error={error} />
        <p>
          <a href={href('/zones')}>Back to the zones</a>
        </p>
      </section>
    );
  if (!data) return <p aria-busy="true">Loading {name}…</p>;
  const z = data.zone;
  const draft = z.latestVersion !== null && z.latestVersion !== z.publishedVersion;
  const lockedByOther = !!z.lockedBy && z.lockedBy !== me.login && !z.lockedBy.startsWith(`${me.login}/`) && (!z.lockExpires || new Date(z.lockExpires).getTime() > Date.now());
  const tabs: [Tab, string][] = [
    ['records', 'Records'],
    ['text', 'Text'],
    ['history', 'History'],
    ['dnssec', 'DNSSEC'],
    ...(me.tier !== 'customer' ? ([['settings', 'Settings']] as [Tab, string][]) : []),
  ];
  const breakLock = async () => {
    if (!confirm(`Break ${z.lockedBy}'s edit lock? Their save will then be refused.`)) return;
    try {
      await rpc('clear_edit_lock', { zone: z.name });
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <Heading>Zone {z.name}</Heading>
      <p class="meta">
        State <strong>{z.state}</strong> · published version {z.publishedVersion ?? '–'} (serial {z.soaSerial ?? '–'}) · newest version {z.latestVersion ?? '–'}
        {z.reference ? ` · reference ${z.reference}` : ''}
        {z.sg ? ` · server group ${z.sg}` : ''}
      </p>
      {z.lockedBy && (
        <Notice kind="warn">
          Edit lock held by <strong>{z.lockedBy}</strong>
          {z.lockedSince ? ` since ${fmtTime(z.lockedSince)}` : ''}
          {z.lockExpires ? ` until ${fmtTime(z.lockExpires)}` : ''}
          {lockedByOther ? ': changes are refused until it is released.' : '.'}{' '}
          {lockedByOther && me.tier !== 'customer' && (
            <button type="button" onClick={breakLock}>
              Break the lock
            </button>
          )}{' '}
          <button type="button" onClick={() => load()}>
            Check again
          </button>
        </Notice>
      )}
      {draft && !review && (
        <Notice kind="warn">
          Version {z.latestVersion} is not published yet.{' '}
          <button type="button" onClick={() => setReview(true)}>
            Review and publish
          </button>
        </Notice>
      )}
      {review && <PublishReview zone={z.name} reviewed={z.latestVersion!} onDone={() => {
            setReview(false);
            load();
          }} reload={load} />}
      <nav class="tabs" aria-label="Zone views">
        {tabs.map(([t, label]) => (
          <a href={href(`/zone/${z.name}${t === 'records' ? '' : `/${t}`}`)} aria-current={t === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'records' && <RecordsTab data={data} reload={load} locked={lockedByOther} onSaved={() => setReview(true)} />}
      {tab === 'text' && <TextTab data={data} reload={load} locked={lockedByOther} onSaved={() => setReview(true)} />}
      {tab === 'history' && <HistoryTab data={data} reload={load} />}
      {tab === 'dnssec' && <DnssecTab zone={z.name} me={me} />}
      {tab === 'settings' && me.tier !== 'customer' && <SettingsTab zone={z} me={me} reload={load} />}
      {error && data ? <ErrorBox error={error} /> : null}
    </section>
  );
}

/** The diff of the newest version against the published one, and the button that publishes it. */
function PublishReview({ zone, reviewed, onDone, reload }: { zone: string; reviewed: number; onDone: () => void; reload: () => Promise<Loaded | null> }) {
  const [diff, setDiff] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [moved, setMoved] = useState<string | null>(null);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    rpc<{ diff: string }>('diff_zi', { zone, zi: 'published', zi2: reviewed })
      .then((d) => setDiff(d.diff))
      .catch(setError);
    ref.current?.focus();
  }, [zone, reviewed]);
  const publish = async () => {
    setError(null);
    try {
      // Someone may have saved a newer version since this diff was shown: then show theirs, publish nothing.
      const now = await rpc<{ zone: ZoneInfo }>('list_zi', { zone });
      if (now.zone.latestVersion !== reviewed) {
        const d = await rpc<{ diff: string }>('diff_zi', { zone, zi: reviewed, zi2: 'latest' });
        setMoved(d.diff);
        return;
      }
      await rpc('publish_zi', { zone, zi: reviewed });
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="review" tabIndex={-1} ref={ref} aria-label="Review before publishing">
      <h2>Review version {reviewed} before publishing</h2>
      {diff !== null && <DiffView diff={diff} label={`Published version → version ${reviewed}`} />}
      {moved !== null ? (
        <>
          <Notice kind="warn">Someone saved a newer version meanwhile. Their changes since the version you reviewed:</Notice>
          <DiffView diff={moved} label={`Version ${reviewed} → newest`} />
          <button type="button" onClick={() => {
            setMoved(null);
            reload();
          }}>
            Reload and review again
          </button>
        </>
      ) : (
        <div class="buttons">
          <button type="button" class="primary" onClick={publish} disabled={diff === null}>
            Publish version {reviewed}
          </button>
          <button type="button" onClick={onDone}>
            Not now
          </button>
        </div>
      )}
      <ErrorBox error={error} />
    </section>
  );
}

/** A refused save because the zone moved on: what changed since the version the user started from. */
function ConflictView({ zone, base, reload, label }: { zone: string; base: number; reload: () => void; label?: string }) {
  const [diff, setDiff] = useState<string | null>(null);
  useEffect(() => {
    rpc<{ diff: string }>('diff_zi', { zone, zi: base, zi2: 'latest' })
      .then((d) => setDiff(d.diff))
      .catch(() => setDiff(''));
  }, [zone, base]);
  return (
    <div class="conflict" role="alert">
      <p>Someone else changed the zone after you loaded it: nothing of yours was saved. Their changes:</p>
      {diff !== null && <DiffView diff={diff} label={`Version ${base} → newest`} />}
      <button type="button" onClick={reload}>
        {label ?? 'Load their version (your typed input stays)'}
      </button>
    </div>
  );
}

const TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'PTR', 'CAA', 'DS', 'TLSA', 'SSHFP', 'NAPTR', 'HTTPS', 'SVCB', 'DNAME', 'LOC', 'HINFO', 'RP', 'URI'];

/** Above this many rows the table renders only what is in view. */
const VIRTUAL_AT = 300;
const OVERSCAN = 15;

type SortKey = 'name' | 'ttl' | 'type' | 'rdata' | 'line';
interface Draft {
  name: string;
  ttl: string;
  type: string;
  rdata: string;
}

/** Field → message from a server error on update_rrs's records[i].field (i: the index of the add in the call). */
function fieldProblems(e: unknown, index: number): Record<string, string> & { _?: string } {
  const out: Record<string, string> = {};
  if (!(e instanceof RpcError)) return e ? { _: messageOf(e) } : out;
  const probs: Problem[] = e.problems;
  for (const p of probs) {
    const m = /^records\[(\d+)\]\.(\w+)$/.exec(p.path ?? '');
    if (m && Number(m[1]) === index) out[m[2]] = p.message;
  }
  if (Object.keys(out).length === 0 && e.type !== 'EDIT_CONFLICT') out._ = e.message;
  return out;
}

function RecordFields({ d, set, errs, idp, compact }: { d: Draft; set: (d: Draft) => void; errs: Record<string, string>; idp: string; compact?: boolean }) {
  const field = (k: keyof Draft, label: string, extra: Record<string, unknown> = {}) => (
    <label class={`f-${k}`}>
      <span class={compact ? 'sr-only' : ''}>{label}</span>
      <input
        name={k}
        value={d[k]}
        onInput={(e) => set({ ...d, [k]: e.currentTarget.value })}
        aria-invalid={!!errs[k]}
        aria-describedby={errs[k] ? `${idp}-${k}-err` : undefined}
        {...extra}
      />
      <FieldError id={`${idp}-${k}-err`} message={errs[k]} />
    </label>
  );
  return (
    <>
      {field('name', 'Name', { required: true, placeholder: '@ or www' })}
      {field('ttl', 'TTL', { inputMode: 'numeric', placeholder: 'zone default', size: 7 })}
      {field('type', 'Type', { required: true, list: 'rr-types', size: 7 })}
      {field('rdata', 'Data', { required: true, placeholder: '192.0.2.1' })}
    </>
  );
}

function RecordsTab({ data, reload, locked, onSaved }: { data: Loaded; reload: () => Promise<Loaded | null>; locked: boolean; onSaved: () => void }) {
  const recs = useMemo(() => parseRecords(data.text), [data.text]);
  const [sort, setSort] = useState<{ key: SortKey; asc: boolean }>({ key: 'line', asc: true });
  const [nameFilter, setNameFilter] = useState('');
  const [typeFilter, setTypeFilter] = useState('');
  const [add, setAdd] = useState<Draft>({ name: '', ttl: '', type: 'A', rdata: '' });
  const [addErr, setAddErr] = useState<Record<string, string>>({});
  // The record being edited, by its content (its line moves when the zone is reloaded).
  const [editing, setEditing] = useState<string | null>(null);
  const [edit, setEdit] = useState<Draft>({ name: '', ttl: '', type: '', rdata: '' });
  const [editErr, setEditErr] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<number | null>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [rowH, setRowH] = useState(34);
  const [viewH, setViewH] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setViewH(el.clientHeight || 600);
    // The mean height of the rendered rows (they may be fractional: 45.5 px renders as 45 and 46).
    const rows = el.querySelectorAll<HTMLElement>('tbody tr.rec');
    if (rows.length < 2) return;
    const h = (rows[rows.length - 1].getBoundingClientRect().bottom - rows[0].getBoundingClientRect().top) / rows.length;
    if (h > 0 && Math.abs(h - rowH) > 1) setRowH(h);
  });

  const shown = useMemo(() => {
    const n = nameFilter.trim().toLowerCase();
    const t = typeFilter.trim().toUpperCase();
    const f = recs.filter((r) => (!n || r.name.toLowerCase().includes(n)) && (!t || r.type === t));
    const k = sort.key;
    f.sort((a, b) => {
      const x = a[k];
      const y = b[k];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return sort.asc ? c : -c;
    });
    return f;
  }, [recs, sort, nameFilter, typeFilter]);

  /** One update_rrs call against the newest version's serial; a conflict shows the other side's changes. */
  const change = async (records: Record<string, unknown>[], what: string): Promise<unknown> => {
    setBusy(true);
    setNotice('');
    try {
      const r = await rpc<{ version: number; changed: boolean }>('update_rrs', { zone: data.zone.name, records, serial: data.serial, publish: false });
      setConflict(null);
      setNotice(r.changed ? `${what}: saved as version ${r.version}, not published yet.` : `${what}: nothing changed.`);
      await reload();
      if (r.changed) onSaved();
      return null;
    } catch (e) {
      if (e instanceof RpcError && e.type === 'EDIT_CONFLICT') setConflict(data.latest);
      return e;
    } finally {
      setBusy(false);
    }
  };
  const draftToChange = (d: Draft, action: string) => {
    const c: Record<string, unknown> = { action, name: d.name.trim(), type: d.type.trim().toUpperCase(), rdata: d.rdata.trim() };
    if (d.ttl.trim() !== '') c.ttl = /^\d+$/.test(d.ttl.trim()) ? Number(d.ttl.trim()) : d.ttl.trim();
    return c;
  };
  const submitAdd = async (e: Event) => {
    e.preventDefault();
    const err = await change([draftToChange(add, 'add')], `Added ${add.name} ${add.type}`);
    if (err) setAddErr(fieldProblems(err, 0));
    else {
      setAddErr({});
      setAdd({ name: '', ttl: '', type: add.type, rdata: '' });
    }
  };
  const startEdit = (r: Rec) => {
    setEditing(recKey(r));
    setEdit({ name: r.name, ttl: String(r.ttl), type: r.type, rdata: r.rdata });
    setEditErr({});
  };
  const saveEdit = async (r: Rec) => {
    const err = await change(
      [{ action: 'delete', name: r.name, type: r.type, rdata: r.rdata }, draftToChange(edit, 'add')],
      `Changed ${r.name} ${r.type}`,
    );
    if (err) setEditErr(fieldProblems(err, 1));
    else setEditing(null);
  };
  const del = async (r: Rec) => {
    if (!confirm(`Delete ${r.name} ${r.type} ${r.rdata}?`)) return;
    const err = await change([{ action: 'delete', name: r.name, type: r.type, rdata: r.rdata }], `Deleted ${r.name} ${r.type}`);
    if (err) setNotice(messageOf(err));
  };
  const th = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.asc ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" onClick={() => setSort({ key, asc: sort.key === key ? !sort.asc : true })}>
        {label}
        <span aria-hidden="true">{sort.key === key ? (sort.asc ? ' ▲' : ' ▼') : ''}</span>
      </button>
    </th>
  );
  // Large zones: only the rows in view (and a margin) are in the DOM, between two spacer rows of the height of
  // the rows left out; rows do not wrap then, so they are all as high as the first one measured.
  const virtual = shown.length > VIRTUAL_AT;
  const first = virtual ? Math.max(0, Math.floor(scrollTop / rowH) - OVERSCAN) : 0;
  const last = virtual ? Math.min(shown.length, first + Math.ceil(viewH / rowH) + 2 * OVERSCAN) : shown.length;
  const editable = (r: Rec) => r.type !== 'SOA' && !locked;
  return (
    <div>
      <datalist id="rr-types">
        {TYPES.map((t) => (
          <option value={t} />
        ))}
      </datalist>
      {conflict !== null && <ConflictView zone={data.zone.name} base={conflict} reload={() => {
            setConflict(null);
            reload();
          }} />}
      {locked ? (
        <Notice kind="warn">The zone is locked for editing by someone else.</Notice>
      ) : (
        <form class="record-form" onSubmit={submitAdd} aria-label="Add a record">
          <h2>Add a record</h2>
          <div class="row">
            <RecordFields d={add} set={setAdd} errs={addErr} idp="add" />
            <button type="submit" disabled={busy}>
              Add record
            </button>
          </div>
          {addErr._ && <ErrorBox error={addErr._} />}
        </form>
      )}
      {notice && <Notice kind="ok">{notice}</Notice>}
      <div class="filters">
        <label>
          Filter by name
          <input type="search" value={nameFilter} onInput={(e) => setNameFilter(e.currentTarget.value)} />
        </label>
        <label>
          Filter by type
          <input list="rr-types" value={typeFilter} onInput={(e) => setTypeFilter(e.currentTarget.value)} size={7} />
        </label>
        <span role="status">
          {shown.length} of {recs.length} records
        </span>
      </div>
      <div class={`table-wrap${virtual ? ' virtual' : ''}`} ref={scroller} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <table class={`records${virtual ? ' virtual' : ''}`}>
          <caption>Records of version {data.latest}</caption>
          <thead>
            <tr>
              {th('name', 'Name')}
              {th('ttl', 'TTL')}
              {th('type', 'Type')}
              {th('rdata', 'Data')}
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {first > 0 && <tr class="spacer" style={{ height: `${first * rowH}px` }} />}
            {shown.slice(first, last).map((r) =>
              editing === recKey(r) ? (
                <tr class="editing">
                  <td colSpan={4}>
                    <form
                      class="row"
                      aria-label={`Edit ${r.name} ${r.type}`}
                      onSubmit={(e) => {
                        e.preventDefault();
                        saveEdit(r);
                      }}
                    >
                      <RecordFields d={edit} set={setEdit} errs={editErr} idp="edit" compact />
                      <button type="submit" disabled={busy}>
                        Save
                      </button>
                      <button type="button" onClick={() => setEditing(null)}>
                        Cancel
                      </button>
                    </form>
                    {editErr._ && <ErrorBox error={editErr._} />}
                  </td>
                  <td />
                </tr>
              ) : (
                <tr class="rec">
                  <td>{r.name}</td>
                  <td>{r.ttl}</td>
                  <td>{r.type}</td>
                  <td class="rdata">
                    {r.rdata}
                    {r.notes && <span class="notes">{r.notes}</span>}
                  </td>
                  <td class="actions">
                    {editable(r) && (
                      <>
                        {r.notes ? (
                          // A table edit would re-add the record without its DMS comment and flags: text mode keeps them.
                          <a href={href(`/zone/${data.zone.name}/text`)} aria-label={`Edit ${r.name} ${r.type} ${r.rdata} in text mode (it has DMS comments or flags)`}>
                            Edit as text
                          </a>
                        ) : (
                          <button type="button" onClick={() => startEdit(r)} aria-label={`Edit ${r.name} ${r.type} ${r.rdata}`}>
                            Edit
                          </button>
                        )}
                        <button type="button" class="danger" onClick={() => del(r)} aria-label={`Delete ${r.name} ${r.type} ${r.rdata}`}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ),
            )}
            {last < shown.length && <tr class="spacer" style={{ height: `${(shown.length - last) * rowH}px` }} />}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function TextTab({ data, reload, locked, onSaved }: { data: Loaded; reload: () => Promise<Loaded | null>; locked: boolean; onSaved: () => void }) {
  const [edit, setEdit] = useState<{ token: string; base: number } | null>(null);
  const [text, setText] = useState(data.text);
  const [error, setError] = useState<unknown>(null);
  const [conflict, setConflict] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  /** The zone check's warnings of the last save (it went through): shown until the next edit. */
  const [warnings, setWarnings] = useState<{ line?: number; message: string }[]>([]);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLPreElement>(null);
  const zone = data.zone.name;
  useEffect(() => {
    if (!edit) setText(data.text);
  }, [data.text, edit]);
  // Keep the edit lock while the editor is open.
  useEffect(() => {
    if (!edit) return;
    const t = setInterval(() => rpc('tickle_editlock', { zone, token: edit.token }).catch(() => {}), 60_000);
    return () => clearInterval(t);
  }, [edit, zone]);

  const problems = error instanceof RpcError ? error.problems.filter((p) => p.line !== undefined) : [];
  const badLines = new Set(problems.map((p) => p.line));
  const lineCount = text.split('\n').length;

  const start = async () => {
    setError(null);
    setWarnings([]);
    try {
      const r = await rpc<{ token: string; baseVersion: number; text: string }>('edit_zone', { zone });
      setEdit({ token: r.token, base: r.baseVersion });
      setText(r.text);
      setTimeout(() => area.current?.focus(), 0);
    } catch (e) {
      setError(e);
    }
  };
  /** A new edit of the newest version, keeping the typed text: the next save is checked against that version. */
  const restart = async () => {
    setError(null);
    try {
      const r = await rpc<{ token: string; baseVersion: number }>('edit_zone', { zone });
      setEdit({ token: r.token, base: r.baseVersion });
      setConflict(null);
      await reload();
      area.current?.focus();
    } catch (e) {
      setError(e);
    }
  };
  const cancel = async () => {
    if (edit) await rpc('cancel_edit_zone', { zone, token: edit.token }).catch(() => {});
    setEdit(null);
    setError(null);
    setConflict(null);
    await reload();
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!edit) return;
    setBusy(true);
    setError(null);
    try {
      const r = await rpc<{ warnings?: { line?: number; message: string; severity?: string }[] }>('update_zone_text', { zone, text, token: edit.token, publish: false });
      setWarnings((r.warnings ?? []).filter((w) => w.severity !== 'error'));
      setEdit(null);
      setConflict(null);
      await reload();
      onSaved();
    } catch (err) {
      setError(err);
      // The zone moved on, or the lock was broken: show what changed; the typed text stays.
      if (err instanceof RpcError && (err.type === 'EDIT_CONFLICT' || err.type === 'STALE_EDIT_TOKEN')) setConflict(edit.base);
    } finally {
      setBusy(false);
    }
  };
  const goLine = (n: number) => {
    const a = area.current;
    if (!a) return;
    const lines = text.split('\n');
    const startAt = lines.slice(0, n - 1).reduce((s, l) => s + l.length + 1, 0);
    a.focus();
    a.setSelectionRange(startAt, startAt + (lines[n - 1]?.length ?? 0));
  };
  return (
    <div>
      {!edit ? (
        <>
          <div class="buttons">
            <button type="button" onClick={start} disabled={locked}>
              Edit as text
            </button>
          </div>
          {warnings.length > 0 && (
            <Notice kind="warn">
              <p>Saved. The zone check warns (lines of the text as saved):</p>
              <ul>
                {warnings.map((w) => (
                  <li>
                    {w.line ? `Line ${w.line}: ` : ''}
                    {w.message}
                  </li>
                ))}
              </ul>
            </Notice>
          )}
          <ErrorBox error={error} />
          {/* Focusable: a scrolling box must be reachable by keyboard (WCAG 2.1.1). */}
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable region */}
          <pre class="zonetext" tabIndex={0}>
            {data.text}
          </pre>
        </>
      ) : (
        <form onSubmit={save} aria-label="Edit the zone file">
          {conflict !== null && (
            <ConflictView
              zone={zone}
              base={conflict}
              label="Continue on the newest version (your text stays: check it against their changes)"
              reload={restart}
            />
          )}
          {problems.length > 0 && (
            <div class="error" role="alert">
              <p>{(error as RpcError).message.split('\n')[0]}</p>
              <ul>
                {problems.map((p) => (
                  <li>
                    <button type="button" class="link" onClick={() => goLine(p.line!)}>
                      Line {p.line}
                    </button>
                    : {p.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {!problems.length && conflict === null && <ErrorBox error={error} />}
          <label for="zonetext">Zone file (version {edit.base}; DMS comments and flags as the server writes them)</label>
          <div class="editor">
            <pre class="gutter" aria-hidden="true" ref={gutter}>
              {Array.from({ length: lineCount }, (_, i) => (
                <span class={badLines.has(i + 1) ? 'bad' : ''}>{`${i + 1}\n`}</span>
              ))}
            </pre>
            <textarea
              id="zonetext"
              ref={area}
              value={text}
              spellcheck={false}
              rows={Math.min(40, Math.max(10, lineCount + 2))}
              onInput={(e) => setText(e.currentTarget.value)}
              onScroll={(e) => {
                if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
              }}
              aria-invalid={problems.length > 0}
            />
          </div>
          <div class="buttons">
            <button type="submit" class="primary" disabled={busy}>
              Save and review
            </button>
            <button type="button" onClick={cancel}>
              Cancel editing
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function HistoryTab({ data, reload }: { data: Loaded; reload: () => Promise<Loaded | null> }) {
  const zone = data.zone.name;
  const zis = data.zis;
  const [from, setFrom] = useState<number | null>(zis[1]?.version ?? null);
  const [to, setTo] = useState<number | null>(zis[0]?.version ?? null);
  const [diff, setDiff] = useState<{ label: string; text: string } | null>(null);
  const [restore, setRestore] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const showDiff = async (a: number, b: number | 'published', label: string) => {
    setError(null);
    try {
      const d = await rpc<{ diff: string }>('diff_zi', { zone, zi: a, zi2: b });
      setDiff({ label, text: d.diff });
    } catch (e) {
      setError(e);
    }
  };
  const compare = (e: Event) => {
    e.preventDefault();
    setRestore(null);
    if (from !== null && to !== null) showDiff(from, to, `Version ${from} → version ${to}`);
  };
  const preview = (v: number) => {
    setRestore(v);
    showDiff(data.zone.publishedVersion ?? data.latest, v, `Published version → version ${v} (what restoring changes)`);
  };
  const doRestore = async () => {
    if (restore === null) return;
    setError(null);
    try {
      const r = await rpc<{ version?: number }>('copy_zi', { zone, zi: restore, publish: true, comment: `restored from version ${restore}` });
      setNotice(`Version ${restore} restored and published${r.version ? ` as version ${r.version}` : ''}.`);
      setRestore(null);
      setDiff(null);
      await reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      {notice && <Notice kind="ok">{notice}</Notice>}
      <form onSubmit={compare} aria-label="Compare two versions">
        <div class="table-wrap">
          <table>
            <caption>Versions of {zone}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Version</th>
                <th scope="col">Serial</th>
                <th scope="col">Author</th>
                <th scope="col">Saved</th>
                <th scope="col">Published</th>
                <th scope="col">Comment</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {zis.map((zi) => (
                <tr class={zi.published ? 'current' : ''}>
                  <td>
                    <input type="radio" name="from" aria-label={`Compare from version ${zi.version}`} checked={from === zi.version} onChange={() => setFrom(zi.version)} />
                  </td>
                  <td>
                    <input type="radio" name="to" aria-label={`Compare to version ${zi.version}`} checked={to === zi.version} onChange={() => setTo(zi.version)} />
                  </td>
                  <td>{zi.version}</td>
                  <td>{zi.soaSerial}</td>
                  <td>{zi.changeBy}</td>
                  <td>{fmtTime(zi.ctime)}</td>
                  <td>{zi.published ? 'published' : zi.ptime ? fmtTime(zi.ptime) : 'no'}</td>
                  <td>{zi.comment ?? ''}</td>
                  <td>
                    {!zi.published && (
                      <button type="button" onClick={() => preview(zi.version)} aria-label={`Restore version ${zi.version}`}>
                        Restore…
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <button type="submit" disabled={from === null || to === null}>
          Compare
        </button>
      </form>
      <ErrorBox error={error} />
      {diff && <DiffView diff={diff.text} label={diff.label} />}
      {restore !== null && diff && (
        <div class="buttons">
          <button type="button" class="primary" onClick={doRestore}>
            Restore version {restore} and publish
          </button>
          <button type="button" onClick={() => {
            setRestore(null);
            setDiff(null);
          }}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

interface DnssecKey {
  tag: number;
  role: string;
  algorithm: string;
  state: string;
  dsState: string | null;
  origin: string;
  next: { transition: string; at: string | null; waitingFor: string } | null;
}

interface Dnssec {
  zone: string;
  policy: string | null;
  denial: string | null;
  keys: DnssecKey[];
  ds: string[];
  waiting: string[];
  rollover: { role: string; requested: string } | null;
  /** Key transitions and requests, newest first (the audit log's DNSSEC events). */
  events?: { at: string; actor: string; summary: string }[];
  resignRequested: string | null;
}

/** show_dnssec: the keys with their states and next steps, the DS for the registrar (copy button), what it waits for. */
function DnssecTab({ zone }: { zone: string; me: Me }) {
  const [d, setD] = useState<Dnssec | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState('');
  useEffect(() => {
    rpc<Dnssec>('show_dnssec', { zone }).then(setD).catch(setError);
  }, [zone]);
  const copy = async (t: string) => {
    try {
      await navigator.clipboard.writeText(t);
      setCopied(t);
    } catch {
      setCopied('');
    }
  };
  if (error) return <ErrorBox error={error} />;
  if (!d) return <p aria-busy="true">Loading…</p>;
  return (
    <div class="dnssec">
      <h2>DNSSEC</h2>
      <p>
        Policy: {d.policy ?? 'none (the zone is not signed)'}
        {d.denial ? ` · denial of existence: ${String(d.denial).toUpperCase()}` : ''}
        {d.rollover ? ` · ${d.rollover.role.toUpperCase()} rollover requested ${fmtTime(d.rollover.requested)}` : ''}
      </p>
      {d.keys.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Keys</caption>
            <thead>
              <tr>
                <th scope="col">Tag</th>
                <th scope="col">Role</th>
                <th scope="col">Algorithm</th>
                <th scope="col">State</th>
                <th scope="col">DS</th>
                <th scope="col">Next step</th>
              </tr>
            </thead>
            <tbody>
              {d.keys.map((k) => (
                <tr>
                  <td>{k.tag}</td>
                  <td>{k.role.toUpperCase()}</td>
                  <td>{k.algorithm}</td>
                  <td>{k.state}</td>
                  <td>{k.dsState ?? ''}</td>
                  <td>{k.next ? `${k.next.transition}${k.next.at ? ` at ${fmtTime(k.next.at)}` : ''} (waiting for ${k.next.waitingFor})` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>DS records for the registrar</h3>
      {d.ds.length === 0 ? (
        <p>No DS records (the zone has no key-signing key).</p>
      ) : (
        <ul class="ds">
          {d.ds.map((t) => (
            <li>
              <code class="ds-record">{t}</code>{' '}
              <button type="button" onClick={() => copy(t)} aria-label={`Copy DS record ${t}`}>
                Copy
              </button>
            </li>
          ))}
        </ul>
      )}
      {copied && <Notice kind="ok">Copied to the clipboard.</Notice>}
      {d.waiting.length > 0 && (
        <>
          <h3>Waiting for</h3>
          <ul>
            {d.waiting.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </>
      )}
      {d.events && d.events.length > 0 && (
        <>
          <h3>Key events</h3>
          <ul>
            {d.events.slice(0, 20).map((e) => (
              <li>
                {fmtTime(e.at)} {e.summary} ({e.actor})
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

const FLAGS: [string, string][] = [
  ['editLock', 'Edit lock (an edit locks the zone for others)'],
  ['useApexNs', 'Apex NS from the server group'],
  ['autoDnssec', 'Sign with DNSSEC (default policy)'],
  ['nsec3', 'NSEC3 instead of NSEC'],
  ['incUpdates', 'Accept dynamic updates (RFC 2136)'],
];

/** Staff: the zone's flags, reference and server group. */
function SettingsTab({ zone, me, reload }: { zone: ZoneInfo; me: Me; reload: () => Promise<Loaded | null> }) {
  const [flags, setFlags] = useState<Record<string, boolean>>({ ...zone.flags });
  const [reference, setReference] = useState(zone.reference ?? '');
  const [sg, setSg] = useState(zone.sg ?? '');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      const changed = Object.fromEntries(Object.entries(flags).filter(([k, v]) => zone.flags[k] !== v));
      if (Object.keys(changed).length) await rpc('set_zone', { zone: zone.name, flags: changed });
      if (reference.trim() && reference.trim() !== (zone.reference ?? '')) await rpc('set_zone_reference', { zone: zone.name, reference: reference.trim() });
      if (me.tier === 'admin' && sg.trim() && sg.trim() !== (zone.sg ?? '')) await rpc('set_zone_sg', { zone: zone.name, sg: sg.trim() });
      setDone('Settings saved.');
      await reload();
    } catch (x) {
      setError(x);
    }
  };
  return (
    <form onSubmit={save} aria-label="Zone settings">
      <fieldset>
        <legend>Flags</legend>
        {FLAGS.map(([k, label]) => (
          <label class="check">
            <input type="checkbox" checked={!!flags[k]} onChange={(e) => setFlags({ ...flags, [k]: e.currentTarget.checked })} /> {label}
          </label>
        ))}
      </fieldset>
      <label>
        Reference
        <input value={reference} onInput={(e) => setReference(e.currentTarget.value)} />
      </label>
      {me.tier === 'admin' && (
        <label>
          Server group
          <input value={sg} onInput={(e) => setSg(e.currentTarget.value)} />
        </label>
      )}
      <div class="buttons">
        <button type="submit" class="primary">
          Save settings
        </button>
      </div>
      <ErrorBox error={error} />
      {done && <Notice kind="ok">{done}</Notice>}
    </form>
  );
}
