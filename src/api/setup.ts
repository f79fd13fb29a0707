// The first-run set-up (issue 10): an operator who never used zone_tool makes the first admin account in the browser.
// When dmsd starts its HTTP API on a database without any admin-tier API account, it makes a one-time set-up token
// and prints it once on stderr with the URL to open (daemon/http.ts); whoever can read dmsd's output is the operator.
// GET /setup tells the web UI whether to show the set-up screen (a boolean and nothing else); POST /setup with the
// token, a login and a password creates the account through the operations table (create_api_account, the operation
// zone_tool uses: same rules, same audit entry) and logs the browser in.
//
// The token is kept only as its SHA-256, in this process's memory, never in the database: it proves that the caller
// read this process's output, which a restart prints again (with a new token) as long as the set-up is needed, so
// there is nothing to store, expire or migrate, and a database copy or backup never holds a usable set-up secret.
// Several dmsd on one database each print their own token; whichever is used first makes the account.
// What makes the set-up single-use is the database, not the token: the account is inserted only while no admin
// account exists, checked in the inserting transaction (services/accounts.ts createAccount, firstAdminOnly), so of
// two concurrent set-ups, here or on another dmsd, exactly one wins; this process then forgets the token.
//
// Accepted only from a loopback client unless the listener has TLS: the password crosses the network otherwise (the
// rule of the listener's default, loopback.ts). Wrong tokens count as failed logins (auth.ts LoginGuard).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import {
  type AccountInfo,
  DmsError,
  ERROR_KIND,
  hasAdminAccount,
  InvalidParams,
  invoke,
  type Store,
  serviceContext,
  SetupDone,
} from '../services/index.js';
import type { LoginGuard } from './auth.js';
import { isLoopback } from './loopback.js';
import { openSession, type SessionStore } from './session.js';

/** The actor of the audit entry of the account the set-up creates (there is no account to name before it). */
export const SETUP_ACTOR = 'first-run-setup/Admin';
const TOKEN_PREFIX = 'dms-setup-';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** This process's set-up token, as its hash; spent (forgotten) once an admin account exists. */
export class FirstRunSetup {
  private hash: Buffer | null = null;

  /** A new token (256 random bits); only its hash is kept. The caller prints it once. */
  issue(): string {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.hash = digest(token);
    return token;
  }

  /** Whether this process still holds a token (it may be dead all the same: an admin account made elsewhere). */
  get open(): boolean {
    return this.hash !== null;
  }

  /** Constant time: both sides are hashed first, so neither length nor content shows in the timing. */
  matches(token: string): boolean {
    if (this.hash === null) return false;
    return timingSafeEqual(digest(token), this.hash);
  }

  spend(): void {
    this.hash = null;
  }
}

/** Where to open the set-up screen: the listener's address, a wildcard one as its loopback. */
export function setupUrl(address: string, port: number, tls: boolean): string {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/#/setup`;
}

/**
 * Issue the token when the database holds no admin account: undefined when the set-up is not needed. On a database
 * this process cannot read, none is issued (the API then fails on every call anyway; a restart asks again).
 */
export async function issueIfNeeded(store: Store, setup: FirstRunSetup): Promise<string | undefined> {
  if (await hasAdminAccount(serviceContext(store))) return undefined;
  return setup.issue();
}

export interface SetupRoutes {
  store: Store;
  setup: FirstRunSetup;
  guard: LoginGuard;
  log: Logger;
  sessions: SessionStore;
  /** HTTPS listener: any client address may set up, and the cookie gets Secure. */
  secure: boolean;
  send: (reply: FastifyReply, status: number, body: unknown) => FastifyReply;
}

const STATUS_OF_KIND: Record<string, number> = { invalid: 400, exists: 409, conflict: 409, not_found: 404, denied: 403, unavailable: 503, in_use: 409 };

/** GET /setup ({needed}) and POST /setup ({token, login, password}: the first admin account, logged in). */
export function registerSetupRoutes(app: FastifyInstance, o: SetupRoutes): void {
  const { setup, guard, log, send } = o;
  const base = serviceContext(o.store);
  const fail = (reply: FastifyReply, status: number, message: string, type: string, extra: Record<string, unknown> = {}) =>
    send(reply, status, { error: { message, exception_type: type, ...extra } });

  /** Still needed: this process holds a token and no admin account exists (made here, by zone_tool or another dmsd). */
  const needed = async (): Promise<boolean> => {
    if (!setup.open) return false;
    if (await hasAdminAccount(base)) {
      setup.spend();
      log.info('first-run set-up: an admin API account exists; the set-up token is spent');
      return false;
    }
    return true;
  };

  app.get('/setup', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return send(reply, 200, { needed: await needed() });
  });

  app.post('/setup', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const source = req.ip;
    if (!(await needed())) return fail(reply, 409, new SetupDone().message, 'SETUP_DONE');
    if (!o.secure && !isLoopback(source))
      return fail(
        reply,
        403,
        `the first-run set-up is accepted only from this machine (a loopback address such as 127.0.0.1) or over HTTPS: not from ${source}, where the password would cross the network in clear`,
        'PERMISSION_DENIED',
      );
    const wait = guard.retryAfter(source);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return fail(reply, 429, `too many failed logins from ${source}: try again in ${wait} s`, 'RATE_LIMITED');
    }
    // A JSON body only, as POST /session: another site's HTML form cannot send one without a preflight.
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? '')))
      return fail(reply, 415, 'send a JSON body {"token", "login", "password"}', 'INVALID_REQUEST');
    let body: { token?: unknown; login?: unknown; password?: unknown };
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      return fail(reply, 400, 'the body is not JSON', 'PARSE_ERROR');
    }
    if (typeof body?.token !== 'string' || typeof body.login !== 'string' || typeof body.password !== 'string' || body.token.length > 200)
      return fail(reply, 400, 'token, login and password must be strings', 'INVALID_REQUEST');
    if (!setup.matches(body.token.trim())) {
      guard.failed(source);
      // Never the token tried: it may be the real one with a typo.
      log.warn({ source, url: '/setup' }, 'first-run set-up: wrong set-up token');
      return fail(reply, 401, "wrong set-up token: use the one dmsd printed when it started (look for 'set-up token' in its output)", 'AUTHENTICATION_REQUIRED');
    }
    const ctx = serviceContext(o.store, { actor: SETUP_ACTOR, source, firstAdminOnly: true });
    let account: AccountInfo;
    try {
      account = (await invoke(ctx, 'create_api_account', { login: body.login, tier: 'admin', password: body.password })) as AccountInfo;
    } catch (err) {
      if (err instanceof InvalidParams)
        return fail(reply, 400, `check the fields: ${err.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, err.code, { problems: err.problems });
      if (err instanceof DmsError) {
        if (err.code === 'SETUP_DONE') setup.spend();
        return fail(reply, STATUS_OF_KIND[ERROR_KIND[err.code]] ?? 500, err.message, err.code);
      }
      log.error({ err: (err as Error).message, source }, 'first-run set-up failed with an error');
      return fail(reply, 500, 'internal error', 'INTERNAL');
    }
    guard.succeeded(source);
    setup.spend();
    log.info({ login: account.login, source }, 'first-run set-up: admin API account created; the set-up token is spent');
    return openSession(o, reply, account);
  });
}
