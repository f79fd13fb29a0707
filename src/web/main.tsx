// The DMS web UI: one page, hash routes (#/zones, #/zone/NAME[/text|/history|/dnssec], #/admin/PAGE), Preact.
// It talks to dmsd only through the JSON-RPC API with a session cookie (see api.ts); what a tier may not do is
// hidden here and refused by the server.

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type AdminPage, AdminScreen } from './admin.js';
import { currentSession, firstRunSetup, login, logout, type Me, RpcError, setSession, setupNeeded, whenLoggedOut } from './api.js';
import { ErrorBox, FieldError, go, href, Notice } from './ui.js';
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

/** create_api_account's shortest password (src/services/accounts.ts MIN_PASSWORD_LENGTH; web-setup.test.ts checks the text). */
const MIN_PASSWORD = 8;

/**
 * The first-run set-up (src/api/setup.ts): shown while dmsd has no admin account and has printed a set-up token.
 * The token proves that the person at the browser can read dmsd's output; the account made is an admin's.
 */
function SetupForm({ onDone }: { onDone: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<{ login?: string; password?: string; again?: string }>({});
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (password !== again) {
      setFields({ again: 'the two passwords differ' });
      return;
    }
    setFields({});
    setBusy(true);
    try {
      onDone(await firstRunSetup(token, name, password));
    } catch (err) {
      // A field's problem goes next to the field; the rest (wrong token, set-up done, refused address) above the button.
      const problems = err instanceof RpcError ? err.problems : [];
      const at = (f: string) => problems.find((p) => p.path === f)?.message;
      const f = { login: at('login'), password: at('password') };
      setFields(f);
      setError(f.login || f.password ? null : err);
      if (f.password) {
        setPassword('');
        setAgain('');
      }
    } finally {
      setBusy(false);
    }
  };
  const described = (id: string, has: unknown) => (has ? id : undefined);
  return (
    <form class="login setup" onSubmit={submit} aria-labelledby="setup-title">
      <h1 id="setup-title">Set up DMS</h1>
      <p>
        No administrator account exists yet. dmsd printed a one-time <strong>set-up token</strong> on its standard error when it started
        (look for “set-up token”). Give it here with the login and password of the first administrator.
      </p>
      <label>
        Set-up token
        <input
          ref={first}
          name="setup-token"
          autocomplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
      </label>
      <label>
        Administrator login
        <input
          name="login"
          autocomplete="username"
          required
          value={name}
          aria-invalid={fields.login ? 'true' : undefined}
          aria-describedby={described('setup-login-error', fields.login)}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <FieldError id="setup-login-error" message={fields.login} />
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="new-password"
          required
          value={password}
          aria-invalid={fields.password ? 'true' : undefined}
          aria-describedby={fields.password ? 'setup-password-error setup-password-rule' : 'setup-password-rule'}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <span class="hint" id="setup-password-rule">
        At least {MIN_PASSWORD} characters.
      </span>
      <FieldError id="setup-password-error" message={fields.password} />
      <label>
        Password again
        <input
          name="password-again"
          type="password"
          autocomplete="new-password"
          required
          value={again}
          aria-invalid={fields.again ? 'true' : undefined}
          aria-describedby={described('setup-again-error', fields.again)}
          onInput={(e) => setAgain(e.currentTarget.value)}
        />
      </label>
      <FieldError id="setup-again-error" message={fields.again} />
      <button type="submit" class="primary" disabled={busy}>
        Create administrator and log in
      </button>
      <ErrorBox error={error} />
      <p class="hint">More accounts, for staff and customers, are made afterwards under Administration → API accounts.</p>
    </form>
  );
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
  const [setup, setSetup] = useState(false);
  const [expired, setExpired] = useState(false);
  const route = useRoute();
  useEffect(() => {
    whenLoggedOut(() => setExpired(true));
    currentSession()
      .catch(() => null)
      .then(async (m) => {
        // Not logged in: a server without an admin account offers the first-run set-up instead of the login.
        if (m === null) setSetup(await setupNeeded());
        setSession(m);
        setMe(m);
      });
  }, []);
  const loggedIn = (m: Me) => {
    setSession(m);
    setMe(m);
    setExpired(false);
    // Logged in from the "set-up is done" notice: on to the zones, not a #/setup that no longer means anything.
    if (route.path[0] === 'setup') go('/zones');
  };
  if (me === undefined) return <p aria-busy="true">Loading…</p>;
  if (me === null)
    return (
      <main id="main">
        {setup ? (
          <SetupForm
            onDone={(m) => {
              setSetup(false);
              loggedIn(m);
              go('/zones');
            }}
          />
        ) : (
          <>
            {route.path[0] === 'setup' && <Notice>The first-run set-up is done: log in with an administrator account.</Notice>}
            <LoginForm onLogin={loggedIn} />
          </>
        )}
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
