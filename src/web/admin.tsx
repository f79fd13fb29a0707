// Admin pages: references, security tags, API accounts and tokens, server groups and servers, events, audit log.
// Each is a thin view of list operations; what a tier may not call the server refuses (the page shows that).

import { useEffect, useState } from 'preact/hooks';
import { type Me, rpc } from './api.js';
import { DataTable, ErrorBox, Heading, href, Notice } from './ui.js';

export type AdminPage = 'references' | 'sectags' | 'accounts' | 'servers' | 'events' | 'audit';

const PAGES: [AdminPage, string][] = [
  ['references', 'References'],
  ['sectags', 'Security tags'],
  ['accounts', 'API accounts'],
  ['servers', 'Servers'],
  ['events', 'Events'],
  ['audit', 'Audit log'],
];

type Row = Record<string, unknown>;

function useList(method: string, params: Record<string, unknown>, key: string): { rows: Row[] | null; error: unknown; reload: () => void } {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    setError(null);
    rpc<Row[] | Record<string, unknown>>(method, params)
      .then((r) => setRows(Array.isArray(r) ? r : ((Object.values(r).find(Array.isArray) as Row[]) ?? [r])))
      .catch((e) => {
        setError(e);
        setRows([]);
      });
  }, [method, key, n]);
  return { rows, error, reload: () => setN(n + 1) };
}

export function AdminScreen({ me, page, query }: { me: Me; page: AdminPage; query: Record<string, string> }) {
  return (
    <section>
      <Heading>Administration: {PAGES.find(([p]) => p === page)?.[1]}</Heading>
      <nav class="tabs" aria-label="Administration pages">
        {PAGES.filter(([p]) => me.tier === 'admin' || (p !== 'sectags' && p !== 'accounts')).map(([p, label]) => (
          <a href={href(`/admin/${p}`)} aria-current={p === page ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {page === 'references' && <References />}
      {page === 'sectags' && <Simple method="list_sectag" caption="Security tags" />}
      {page === 'accounts' && <Accounts />}
      {page === 'servers' && <Servers />}
      {page === 'events' && <Events />}
      {page === 'audit' && <Audit query={query} />}
    </section>
  );
}

function Simple({ method, caption, params = {} }: { method: string; caption: string; params?: Record<string, unknown> }) {
  const { rows, error } = useList(method, params, JSON.stringify(params));
  return (
    <>
      <ErrorBox error={error} />
      {rows && <DataTable rows={rows} caption={caption} />}
    </>
  );
}

function References() {
  const { rows, error, reload } = useList('list_reference', {}, '');
  const [name, setName] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      await rpc('create_reference', { reference: name.trim() });
      setDone(`Reference ${name.trim()} created.`);
      setName('');
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  return (
    <>
      <form class="row" onSubmit={create} aria-label="Create a reference">
        <label>
          New reference
          <input value={name} required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit">Create reference</button>
      </form>
      <ErrorBox error={err} />
      {done && <Notice kind="ok">{done}</Notice>}
      <ErrorBox error={error} />
      {rows && <DataTable rows={rows} caption="References" />}
    </>
  );
}

function Accounts() {
  return (
    <>
      <Simple method="ls_api_account" caption="API accounts" />
      <Simple method="ls_api_token" caption="API tokens" />
    </>
  );
}

function Servers() {
  return (
    <>
      <Simple method="list_sg" caption="Server groups" />
      <Simple method="list_server" caption="Servers" />
    </>
  );
}

function Events() {
  const [which, setWhich] = useState('pending');
  return (
    <>
      <label>
        Show events
        <select value={which} onChange={(e) => setWhich(e.currentTarget.value)}>
          <option value="pending">pending</option>
          <option value="failed">failed</option>
          <option value="all">all (recent)</option>
        </select>
      </label>
      <Simple method="list_events" caption={`Events (${which})`} params={{ which }} />
    </>
  );
}

function Audit({ query }: { query: Record<string, string> }) {
  const [f, setF] = useState({ zone: query.zone ?? '', actor: query.actor ?? '', since: query.since ?? '' });
  const [applied, setApplied] = useState(f);
  const params: Record<string, unknown> = { limit: 200 };
  if (applied.zone) params.zone = applied.zone;
  if (applied.actor) params.actor = applied.actor;
  if (applied.since) params.since = applied.since;
  return (
    <>
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(f);
        }}
      >
        <label>
          Zone
          <input value={f.zone} onInput={(e) => setF({ ...f, zone: e.currentTarget.value })} />
        </label>
        <label>
          Actor
          <input value={f.actor} onInput={(e) => setF({ ...f, actor: e.currentTarget.value })} />
        </label>
        <label>
          Since
          <input value={f.since} placeholder="3d, 12h or a date" onInput={(e) => setF({ ...f, since: e.currentTarget.value })} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Simple method="list_audit" caption="Audit log (newest first)" params={params} />
    </>
  );
}
