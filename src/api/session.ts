// Browser sessions for the web UI (issue 10): a login form posts the API account's login and password once; the
// answer sets an HttpOnly, SameSite=Strict cookie holding a random session id, and carries a CSRF token that the UI
// sends back in the X-DMS-CSRF header of every JSON-RPC POST made with the cookie. Why both: SameSite=Strict keeps
// other sites' requests from carrying the cookie in current browsers; the header (which a cross-site page cannot set
// without a CORS preflight that this server never grants) covers older browsers and same-site subdomains.
//
// Sessions live in this process's memory: a dmsd restart logs everybody out (the UI then asks to log in again,
// keeping what was typed). The account is looked up again on every call, so a deleted account or a changed tier
// takes effect at once; a password change ends the account's sessions.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { type AccountInfo, getAccount, type Principal, type ServiceContext } from '../services/index.js';
import { authenticate, type LoginGuard } from './auth.js';

export const SESSION_COOKIE = 'dms_session';
export const CSRF_HEADER = 'x-dms-csrf';

export interface SessionOptions {
  /** A session unused for this long ends (default 1 hour). */
  idleMs?: number;
  /** A session ends this long after the login whatever its use (default 12 hours). */
  maxMs?: number;
  /** Most live sessions (default 100,000): past it the oldest are dropped, so memory stays bounded. */
  maxSessions?: number;
}

interface Session {
  id: string;
  csrf: string;
  login: string;
  createdAt: number;
  usedAt: number;
  /** The account's mtime at login: a later password change (or any change of the account) ends the session. */
  accountMtime: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  readonly idleMs: number;
  readonly maxMs: number;
  private readonly maxSessions: number;

  constructor(o: SessionOptions = {}) {
    this.idleMs = o.idleMs ?? 3600_000;
    this.maxMs = o.maxMs ?? 12 * 3600_000;
    this.maxSessions = o.maxSessions ?? 100_000;
  }

  create(account: AccountInfo, now = Date.now()): Session {
    if (this.sessions.size >= this.maxSessions) {
      this.sweep(now);
      // Map iteration is insertion order: the first entries are the oldest logins.
      for (const k of this.sessions.keys()) {
        if (this.sessions.size < this.maxSessions) break;
        this.sessions.delete(k);
      }
    }
    const s: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      login: account.login,
      createdAt: now,
      usedAt: now,
      accountMtime: new Date(account.mtime).getTime(),
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id (its idle time starts again), or undefined. */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (now - s.usedAt > this.idleMs || now - s.createdAt > this.maxMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.usedAt = now;
    return s;
  }

  /** When the session ends if it stays unused. */
  expiresAt(s: Session): number {
    return Math.min(s.usedAt + this.idleMs, s.createdAt + this.maxMs);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(now: number): void {
    for (const [k, s] of this.sessions) if (now - s.usedAt > this.idleMs || now - s.createdAt > this.maxMs) this.sessions.delete(k);
  }
}

/** The cookies of a Cookie header (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Record<string, string> {
  // A Map, not an object: a cookie named __proto__ or constructor is just a name.
  const out = new Map<string, string>();
  if (!header) return {};
  for (const raw of header.split(';')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    if (!out.has(k)) out.set(k, part.slice(eq + 1).trim());
  }
  return Object.fromEntries(out);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a JSON-RPC request's cookie comes to: no session cookie at all, a principal, or why it is refused. */
export type CookieAuth =
  | { kind: 'none' }
  | { kind: 'ok'; principal: Principal }
  | { kind: 'refused'; status: 401 | 403; message: string };

/** Authenticate a request by its session cookie; the CSRF header must match the session's token. */
export async function cookieAuth(base: ServiceContext, sessions: SessionStore, req: FastifyRequest): Promise<CookieAuth> {
  const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  if (!id) return { kind: 'none' };
  const s = sessions.get(id);
  if (!s) return { kind: 'refused', status: 401, message: 'session expired: log in again' };
  const csrf = req.headers[CSRF_HEADER];
  if (typeof csrf !== 'string' || !sameSecret(csrf, s.csrf))
    return { kind: 'refused', status: 403, message: `a request with the session cookie needs the ${CSRF_HEADER} header of the session` };
  let account: AccountInfo;
  try {
    account = await getAccount(base, s.login);
  } catch {
    sessions.delete(id);
    return { kind: 'refused', status: 401, message: 'session expired: log in again' };
  }
  if (new Date(account.mtime).getTime() !== s.accountMtime) {
    sessions.delete(id);
    return { kind: 'refused', status: 401, message: 'the account changed: log in again' };
  }
  return { kind: 'ok', principal: { account } };
}

export interface SessionRoutes {
  base: ServiceContext;
  sessions: SessionStore;
  guard: LoginGuard;
  log: Logger;
  /** HTTPS: the cookie gets Secure. */
  secure: boolean;
  send: (reply: FastifyReply, status: number, body: unknown) => FastifyReply;
}

function cookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`;
}

function who(sessions: SessionStore, s: Session, a: AccountInfo) {
  return { login: a.login, tier: a.tier, sectag: a.sectag, csrf: s.csrf, expiresAt: new Date(sessions.expiresAt(s)).toISOString() };
}

/** Log the account in: a new session, its cookie, and the answer of POST /session (login, tier, CSRF token…). */
export function openSession(o: Pick<SessionRoutes, 'sessions' | 'secure' | 'send'>, reply: FastifyReply, account: AccountInfo): FastifyReply {
  const s = o.sessions.create(account);
  reply.header('set-cookie', cookie(s.id, Math.ceil(o.sessions.maxMs / 1000), o.secure));
  reply.header('cache-control', 'no-store');
  return o.send(reply, 200, who(o.sessions, s, account));
}

/** POST /session (log in), GET /session (who am I, and the CSRF token after a reload), DELETE /session (log out). */
export function registerSessionRoutes(app: FastifyInstance, o: SessionRoutes): void {
  const { sessions, guard, log, send } = o;
  const fail = (reply: FastifyReply, status: number, message: string, type: string) =>
    send(reply, status, { error: { message, exception_type: type } });

  app.post('/session', async (req, reply) => {
    const source = req.ip;
    const wait = guard.retryAfter(source);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return fail(reply, 429, `too many failed logins from ${source}: try again in ${wait} s`, 'RATE_LIMITED');
    }
    // A JSON body only: an HTML form of another site cannot send one without a preflight (no login CSRF).
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? '')))
      return fail(reply, 415, 'log in with a JSON body {"login", "password"}', 'INVALID_REQUEST');
    let body: { login?: unknown; password?: unknown };
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      return fail(reply, 400, 'the body is not JSON', 'PARSE_ERROR');
    }
    if (typeof body?.login !== 'string' || typeof body.password !== 'string' || body.login.length > 200 || body.password.length > 1024)
      return fail(reply, 400, 'login and password must be strings', 'INVALID_REQUEST');
    // The same check as HTTP Basic (auth.ts): one place decides what a password login is.
    const principal = await authenticate(o.base, { kind: 'basic', login: body.login, password: body.password });
    if (!principal) {
      guard.failed(source);
      log.warn({ source, login: body.login, url: '/session' }, 'API login failed');
      return fail(reply, 401, 'wrong login or password', 'AUTHENTICATION_REQUIRED');
    }
    guard.succeeded(source);
    return openSession(o, reply, principal.account);
  });

  app.get('/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const s = sessions.get(id);
    if (!s) return fail(reply, 401, 'not logged in', 'AUTHENTICATION_REQUIRED');
    try {
      const a = await getAccount(o.base, s.login);
      if (new Date(a.mtime).getTime() !== s.accountMtime) throw new Error('account changed');
      return send(reply, 200, who(sessions, s, a));
    } catch {
      sessions.delete(s.id);
      return fail(reply, 401, 'not logged in', 'AUTHENTICATION_REQUIRED');
    }
  });

  app.delete('/session', async (req, reply) => {
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const s = sessions.get(id);
    // Logging out needs the CSRF token too: another site must not be able to end a session either.
    if (s) {
      const csrf = req.headers[CSRF_HEADER];
      if (typeof csrf !== 'string' || !sameSecret(csrf, s.csrf)) return fail(reply, 403, `log out needs the ${CSRF_HEADER} header`, 'PERMISSION_DENIED');
      sessions.delete(s.id);
    }
    reply.header('set-cookie', cookie('', 0, o.secure));
    return send(reply, 200, { loggedOut: true });
  });
}
