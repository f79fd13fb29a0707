// The DMS web UI: one page, hash routes (#/zones, #/zone/NAME[/text|/history|/dnssec], #/admin/PAGE), Preact.
// It talks to dmsd only through the JSON-RPC API with a session cookie (see api.ts); what a tier may not do is
// hidden here and refused by the server.

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type AdminPage, AdminScreen } from './admin.js';
import { currentSession, login, logout, type Me, setSession, whenLoggedOut } from './api.js';
import { ErrorBox, go, href } from './ui.js';
import { type Tab, ZonePage } from './zone.js';
import { ZonesPage } from './zones.js';

interface Route {
  path: string[];
  query: Record<string, string>;
}

function parseHash(): Route {
  const h = location.hash.replace(/^#/, '') || '/zones';
  const [p, q = ''] = h.split('?');
  const query: Record<string, string> = {};
  for (const kv of q.split('&')) {
    if (!kv) continue;
    const [k, v = ''] = kv.split('=');
    query[decodeURIComponent(k)] = decodeURIComponent(v);
  }
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query };
}

function useRoute(): Route {
  const [r, setR] = useState(parseHash());
  useEffect(() => {
    const f = () => setR(parseHash());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return r;
}

function LoginForm({ onLogin, again }: { onLogin: (me: Me) => void; again?: boolean }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(name, password));
    } catch (err) {
      setError(err);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">{again ? 'Your session ended: log in again' : 'Log in to DMS'}</h1>
      {again && <p>What you typed on the page is kept.</p>}
      <label>
        Login
        <input ref={first} name="login" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Log in
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function Screen({ me, route }: { me: Me; route: Route }) {
  const [a, b, c] = route.path;
  if (a === 'zone' && b) return <ZonePage key={b} me={me} name={b} tab={(['text', 'history', 'dnssec', 'settings'].includes(c) ? c : 'records') as Tab} />;
  if (a === 'admin' && me.tier !== 'customer') return <AdminScreen key={b} me={me} page={(b || 'references') as AdminPage} query={route.query} />;
  return <ZonesPage me={me} query={route.query} />;
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const route = useRoute();
  useEffect(() => {
    whenLoggedOut(() => setExpired(true));
    currentSession()
      .then((m) => {
        setSession(m);
        setMe(m);
      })
      .catch(() => setMe(null));
  }, []);
  const loggedIn = (m: Me) => {
    setSession(m);
    setMe(m);
    setExpired(false);
  };
  if (me === undefined) return <p aria-busy="true">Loading…</p>;
  if (me === null)
    return (
      <main id="main">
        <LoginForm onLogin={loggedIn} />
      </main>
    );
  const section = route.path[0] === 'admin' ? 'admin' : 'zones';
  return (
    <>
      {/* A button, not a link: #main would be taken for a route. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header>
        <a class="brand" href={href('/zones')}>
          DMS
        </a>
        <nav aria-label="Main">
          <a href={href('/zones')} aria-current={section === 'zones' ? 'page' : undefined}>
            Zones
          </a>
          {me.tier !== 'customer' && (
            <a href={href('/admin/references')} aria-current={section === 'admin' ? 'page' : undefined}>
              Administration
            </a>
          )}
        </nav>
        <span class="who">
          {me.login} ({me.tier}
          {me.sectag ? `, ${me.sectag}` : ''})
        </span>
        <button
          type="button"
          onClick={async () => {
            await logout().catch(() => {});
            setSession(null);
            setMe(null);
            go('/zones');
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen me={me} route={route} />
      </main>
      {expired && (
        <div class="modal" role="dialog" aria-modal="true" aria-labelledby="login-title">
          <LoginForm again onLogin={loggedIn} />
        </div>
      )}
    </>
  );
}

render(<App />, document.getElementById('app')!);
