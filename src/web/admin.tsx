// Admin pages: references, security tags, API accounts and tokens, server groups and servers, events, audit log.
// Each is a thin view of list operations; what a tier may not call the server refuses (the page shows that).

import { useEffect, useState } from 'preact/hooks';
import { type Me, rpc } from './api.js';
import { DataTable, ErrorBox, fmtTime, Heading, href, Notice } from './ui.js';

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

interface Account {
  login: string;
  tier: string;
  sectag: string | null;
  hasPassword: boolean;
  tokens: unknown[];
}
interface Token {
  id: number;
  login: string;
  zone: string | null;
  readOnly: boolean;
  acmeOnly: boolean;
  expires: string | null;
  lastUsed: string | null;
}

/** API accounts and their bearer tokens: create, delete, make a token (its secret shown once), revoke. */
function Accounts() {
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [acct, setAcct] = useState({ login: '', tier: 'customer', sectag: '', password: '' });
  const [tok, setTok] = useState({ login: '', zone: '', readOnly: false, acmeOnly: false, expires: '' });
  const [secret, setSecret] = useState('');
  const [done, setDone] = useState('');
  const load = async () => {
    try {
      setAccounts(await rpc<Account[]>('ls_api_account'));
      setTokens(await rpc<Token[]>('ls_api_token'));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, []);
  const run = async (f: () => Promise<string>) => {
    setError(null);
    setDone('');
    try {
      setDone(await f());
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const createAccount = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const p: Record<string, unknown> = { login: acct.login.trim(), tier: acct.tier };
      if (acct.sectag.trim()) p.sectag = acct.sectag.trim();
      if (acct.password) p.password = acct.password;
      await rpc('create_api_account', p);
      setAcct({ login: '', tier: acct.tier, sectag: '', password: '' });
      return `Account ${p.login} created.`;
    });
  };
  const createToken = (e: Event) => {
    e.preventDefault();
    run(async () => {
      const p: Record<string, unknown> = { login: tok.login.trim() };
      if (tok.zone.trim()) p.zone = tok.zone.trim();
      if (tok.readOnly) p.readOnly = true;
      if (tok.acmeOnly) p.acmeOnly = true;
      if (tok.expires.trim()) p.expires = tok.expires.trim();
      const r = await rpc<{ token: string; info: Token }>('create_api_token', p);
      setSecret(r.token);
      return `Token ${r.info.id} made for ${r.info.login}.`;
    });
  };
  return (
    <>
      <ErrorBox error={error} />
      {done && <Notice kind="ok">{done}</Notice>}
      {secret && (
        <div class="notice warn" role="status">
          <p>The token's secret, shown only now: copy it to where it is used.</p>
          <code class="secret">{secret}</code>{' '}
          <button type="button" onClick={() => navigator.clipboard.writeText(secret).catch(() => {})}>
            Copy
          </button>{' '}
          <button type="button" onClick={() => setSecret('')}>
            Done
          </button>
        </div>
      )}
      <form class="row" onSubmit={createAccount} aria-label="Create an API account">
        <label>
          Login
          <input name="login" required value={acct.login} onInput={(e) => setAcct({ ...acct, login: e.currentTarget.value })} />
        </label>
        <label>
          Tier
          <select name="tier" value={acct.tier} onChange={(e) => setAcct({ ...acct, tier: e.currentTarget.value })}>
            <option value="customer">customer</option>
            <option value="helpdesk">helpdesk</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Security tag (customers)
          <input name="sectag" value={acct.sectag} onInput={(e) => setAcct({ ...acct, sectag: e.currentTarget.value })} />
        </label>
        <label>
          Password (8 or more characters; none: tokens only)
          <input name="password" type="password" autocomplete="new-password" value={acct.password} onInput={(e) => setAcct({ ...acct, password: e.currentTarget.value })} />
        </label>
        <button type="submit">Create account</button>
      </form>
      {accounts && (
        <div class="table-wrap">
          <table>
            <caption>API accounts</caption>
            <thead>
              <tr>
                <th scope="col">Login</th>
                <th scope="col">Tier</th>
                <th scope="col">Security tag</th>
                <th scope="col">Password</th>
                <th scope="col">Tokens</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr>
                  <td>{a.login}</td>
                  <td>{a.tier}</td>
                  <td>{a.sectag ?? ''}</td>
                  <td>{a.hasPassword ? 'yes' : 'no'}</td>
                  <td>{a.tokens.length}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete account ${a.login}`}
                      onClick={() => {
                        if (confirm(`Delete the API account ${a.login} and its tokens?`))
                          run(async () => {
                            await rpc('delete_api_account', { login: a.login });
                            return `Account ${a.login} deleted.`;
                          });
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="row" onSubmit={createToken} aria-label="Make an API token">
        <label>
          Account
          <input name="token-login" required value={tok.login} onInput={(e) => setTok({ ...tok, login: e.currentTarget.value })} />
        </label>
        <label>
          Only this zone (optional)
          <input name="token-zone" value={tok.zone} onInput={(e) => setTok({ ...tok, zone: e.currentTarget.value })} />
        </label>
        <label>
          Expires (30d, 12h, a date; optional)
          <input name="token-expires" value={tok.expires} onInput={(e) => setTok({ ...tok, expires: e.currentTarget.value })} />
        </label>
        <label class="check">
          <input type="checkbox" checked={tok.readOnly} onChange={(e) => setTok({ ...tok, readOnly: e.currentTarget.checked })} /> Read-only
        </label>
        <label class="check">
          <input type="checkbox" checked={tok.acmeOnly} onChange={(e) => setTok({ ...tok, acmeOnly: e.currentTarget.checked })} /> ACME only
        </label>
        <button type="submit">Make token</button>
      </form>
      {tokens && (
        <div class="table-wrap">
          <table>
            <caption>API tokens (secrets are never shown again)</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Account</th>
                <th scope="col">Scope</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr>
                  <td>{t.id}</td>
                  <td>{t.login}</td>
                  <td>{[t.zone ? `zone ${t.zone}` : '', t.readOnly ? 'read-only' : '', t.acmeOnly ? 'ACME only' : ''].filter(Boolean).join(', ') || 'full'}</td>
                  <td>{fmtTime(t.expires)}</td>
                  <td>{fmtTime(t.lastUsed)}</td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Revoke token ${t.id}`}
                      onClick={() =>
                        run(async () => {
                          await rpc('revoke_api_token', { tokenId: t.id });
                          return `Token ${t.id} revoked.`;
                        })
                      }
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/**
 * Server groups and their secondaries: create a group (with the address its secondaries transfer from) and a server
 * (bind9, knot or nsd) in it, enable/disable a server; the servers table shows each one's health (state, last
 * reply, lagging zones) as the scheduled checks found it. What a tier may not do the server refuses.
 */
function Servers() {
  const sgs = useList('list_sg', {}, '');
  const servers = useList('list_server', {}, '');
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const [sg, setSg] = useState({ name: '', master: '' });
  const [srv, setSrv] = useState({ name: '', address: '', type: 'bind9', sg: '' });
  /** True when done; on an error the form keeps what was typed and the server's message is shown. */
  const act = async (what: string, method: string, params: Record<string, unknown>): Promise<boolean> => {
    setErr(null);
    setDone('');
    try {
      await rpc(method, params);
      setDone(what);
      sgs.reload();
      servers.reload();
      return true;
    } catch (x) {
      setErr(x);
      return false;
    }
  };
  return (
    <>
      <form
        class="row"
        aria-label="Create a server group"
        onSubmit={(e) => {
          e.preventDefault();
          const name = sg.name.trim();
          void act(`Server group ${name} created.`, 'create_sg', { sg: name, ...(sg.master.trim() ? { masterAddress: sg.master.trim() } : {}) }).then(
            (ok) => ok && setSg({ name: '', master: '' }),
          );
        }}
      >
        <label>
          Server group name
          <input value={sg.name} required onInput={(e) => setSg({ ...sg, name: e.currentTarget.value })} />
        </label>
        <label>
          Master address (optional)
          <input value={sg.master} placeholder="192.0.2.1" onInput={(e) => setSg({ ...sg, master: e.currentTarget.value })} />
        </label>
        <button type="submit">Create server group</button>
      </form>
      <form
        class="row"
        aria-label="Create a server"
        onSubmit={(e) => {
          e.preventDefault();
          const name = srv.name.trim();
          void act(`Server ${name} created.`, 'create_server', {
            server: name,
            address: srv.address.trim(),
            type: srv.type,
            ...(srv.sg.trim() ? { sg: srv.sg.trim() } : {}),
          }).then((ok) => ok && setSrv({ ...srv, name: '', address: '' }));
        }}
      >
        <label>
          Server name
          <input value={srv.name} required onInput={(e) => setSrv({ ...srv, name: e.currentTarget.value })} />
        </label>
        <label>
          Address
          <input value={srv.address} required placeholder="192.0.2.53" onInput={(e) => setSrv({ ...srv, address: e.currentTarget.value })} />
        </label>
        <label>
          Type
          <select value={srv.type} onChange={(e) => setSrv({ ...srv, type: e.currentTarget.value })}>
            <option value="bind9">bind9</option>
            <option value="knot">knot</option>
            <option value="nsd">nsd</option>
          </select>
        </label>
        <label>
          Server group (default if empty)
          <input value={srv.sg} onInput={(e) => setSrv({ ...srv, sg: e.currentTarget.value })} />
        </label>
        <button type="submit">Create server</button>
      </form>
      <ErrorBox error={err} />
      {done && <Notice kind="ok">{done}</Notice>}
      <ErrorBox error={sgs.error} />
      {sgs.rows && <DataTable rows={sgs.rows} caption="Server groups" />}
      <ErrorBox error={servers.error} />
      {servers.rows && servers.rows.length > 0 && (
        <ul class="plain" aria-label="Server actions">
          {servers.rows.map((r) => {
            const name = String(r.name);
            const enabled = r.enabled !== false;
            return (
              <li>
                <span>
                  {name}: {String(r.state ?? '')}
                </span>{' '}
                <button type="button" onClick={() => act(`Server ${name} ${enabled ? 'disabled' : 'enabled'}.`, enabled ? 'disable_server' : 'enable_server', { server: name })}>
                  {enabled ? `Disable ${name}` : `Enable ${name}`}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {servers.rows && <DataTable rows={servers.rows} caption="Servers" />}
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
