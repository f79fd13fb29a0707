// The HTTP side of the API (fastify): the JSON-RPC URLs (endpoints.ts), GET /openrpc.json, /metrics and /health.
// Every JSON-RPC request is authenticated (HTTP Basic or a bearer token), gets a ServiceContext of its own (actor
// login/sectag, the account's tenant or the URL's tier, source = the client's address) and goes through the
// operations table like zone_tool's commands. Plain HTTP is allowed only on loopback addresses unless asked for.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  accountActor,
  findOperation,
  type Principal,
  type ServiceContext,
  serviceContext,
  type Store,
  type Tenant,
} from '../services/index.js';
import * as services from '../services/index.js';
import { ServerNotFound } from '../services/errors.js';
import { checkServer } from '../services/server-config/health.js';
import { pullServerConfig } from '../services/server-config/publish.js';
import { authenticate, LoginGuard, parseAuthorization, tokenScopeCheck } from './auth.js';
import { type Endpoint, ENDPOINTS } from './endpoints.js';
import { isLoopback } from './loopback.js';
import { AUTH_REQUIRED, handleRpc, INVALID_REQUEST, KIND_CODE, PARSE_ERROR, RATE_LIMITED, rpcError, toJson } from './jsonrpc.js';
import { ApiMetrics, type DnsCounters } from './metrics.js';
import { openRpcDocument } from './openrpc.js';
import { CSRF_HEADER, cookieAuth, registerSessionRoutes, type SessionOptions, SessionStore } from './session.js';
import { FirstRunSetup, issueIfNeeded, registerSetupRoutes, setupUrl } from './setup.js';
import { defaultWebRoot, registerWebUi } from './web.js';

export interface HttpListen {
  address: string;
  port: number;
}

export interface HttpApiOptions {
  store: Store;
  log: Logger;
  listen: HttpListen;
  /** PEM certificate chain and key: HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy). */
  insecure?: boolean;
  /** Largest request body in bytes (default 64 MiB + 1 MiB: the largest zone text create_zone takes, with room). */
  bodyLimit?: number;
  /** Most calls in one batch (default 100). */
  batchLimit?: number;
  version?: string;
  /** Whether the served zone table follows the database (health), and by how many change-feed rows it is behind. */
  feed?: () => Promise<{ current: boolean; lag: number; seq: number }>;
  dns?: DnsCounters;
  guard?: LoginGuard;
  /** dmsd: the zones it serves (GET /config lists only those, as its own reconfiguration does). */
  served?: (zone: string) => boolean;
  /** Browser sessions of the web UI (cookie + CSRF header). */
  sessions?: SessionOptions;
  /** The built web UI (default: dist/web); null: none. */
  webRoot?: string | null;
  /**
   * The first-run set-up (setup.ts): when the database holds no admin account as the listener starts, a one-time
   * token is made and handed here once, with the URL of the set-up screen (dmsd prints both). Without it, no set-up.
   */
  onSetupToken?: (token: string, url: string) => void;
  /** The set-up's state (buildHttpApi; startHttpApi makes it). */
  setup?: FirstRunSetup;
}

export interface HttpApi {
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export { isLoopback };

const DEFAULT_BODY_LIMIT = 65 * 1024 * 1024;

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(toJson(body));
}

export function buildHttpApi(o: Omit<HttpApiOptions, 'listen'> & { tlsEnabled?: boolean }): FastifyInstance {
  const log = o.log;
  const guard = o.guard ?? new LoginGuard();
  const batchLimit = o.batchLimit ?? 100;
  const base = serviceContext(o.store);
  const sessions = new SessionStore(o.sessions);
  const metrics = new ApiMetrics({
    zoneStates: () => services.zoneStateCounts(base),
    eventQueueDepth: () => services.eventQueueDepth(base),
    ...(o.feed ? { feedLag: async () => (await o.feed?.())?.lag } : {}),
    replicaLag: async () => (await services.replicationStatus(base))?.lagSeconds,
    ...(o.dns ? { dns: o.dns } : {}),
  });
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  // The body is parsed here, not by fastify, so that bad JSON is a JSON-RPC parse error (-32700), whatever the
  // content type said.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return send(reply, 413, rpcError(null, INVALID_REQUEST, `request body too large: at most ${o.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes`, { exception_type: 'BODY_TOO_LARGE' }));
    if (err.statusCode && err.statusCode < 500) return send(reply, err.statusCode, rpcError(null, INVALID_REQUEST, `invalid request: ${err.message}`));
    log.error({ err: err.message }, 'HTTP API error');
    return send(reply, 500, rpcError(null, KIND_CODE.internal, 'internal error'));
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.http.inc({ route: req.routeOptions.url ?? '(none)', status: String(reply.statusCode) });
  });

  const refuse = (reply: FastifyReply, status: number, code: number, message: string, browser = false) => {
    // Not to the web UI (it sends the CSRF header): a Basic challenge would make the browser pop up its own login box.
    if (status === 401 && !browser) reply.header('www-authenticate', 'Basic realm="DMS", Bearer realm="DMS"');
    return send(reply, status, rpcError(null, code, message, { exception_type: status === 429 ? 'RATE_LIMITED' : status === 403 ? 'PERMISSION_DENIED' : 'AUTHENTICATION_REQUIRED' }));
  };

  /** The request's principal (Basic, Bearer or the web UI's session), or null once a refusal has been sent. */
  const principalOf = async (req: FastifyRequest, reply: FastifyReply, url: string): Promise<Principal | null> => {
    const source = req.ip;
    const wait = guard.retryAfter(source);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      refuse(reply, 429, RATE_LIMITED, `too many failed logins from ${source}: try again in ${wait} s`);
      return null;
    }
    const creds = parseAuthorization(req.headers.authorization);
    if (!creds) {
      // No Authorization header: the web UI's session cookie, with its CSRF header.
      let c: Awaited<ReturnType<typeof cookieAuth>>;
      try {
        c = await cookieAuth(base, sessions, req);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'API session check failed with an error');
        send(reply, 500, rpcError(null, KIND_CODE.internal, 'internal error'));
        return null;
      }
      const browser = req.headers[CSRF_HEADER] !== undefined;
      if (c.kind === 'none') {
        refuse(reply, 401, AUTH_REQUIRED, browser ? 'not logged in' : 'authentication required: HTTP Basic (API account) or Bearer token', browser);
        return null;
      }
      if (c.kind === 'refused') {
        refuse(reply, c.status, c.status === 401 ? AUTH_REQUIRED : KIND_CODE.denied, c.message, true);
        return null;
      }
      return c.principal;
    }
    let who: Principal | null;
    try {
      who = await authenticate(base, creds);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'API authentication failed with an error');
      send(reply, 500, rpcError(null, KIND_CODE.internal, 'internal error'));
      return null;
    }
    if (!who) {
      guard.failed(source);
      // The login tried is logged (it is how an operator spots guessing); the password or token never is.
      log.warn({ source, scheme: creds.kind, login: creds.kind === 'basic' ? creds.login : undefined, url }, 'API login failed');
      refuse(reply, 401, AUTH_REQUIRED, 'authentication failed');
      return null;
    }
    guard.succeeded(source);
    return who;
  };

  const rpc = (ep: Endpoint) => async (req: FastifyRequest, reply: FastifyReply) => {
    const source = req.ip;
    const who = await principalOf(req, reply, ep.path);
    if (!who) return reply;
    const account = who.account;
    if (!ep.accounts.includes(account.tier)) return refuse(reply, 403, KIND_CODE.denied, `${ep.path} is not for ${account.tier} accounts`);
    const tenant: Tenant = ep.tier === null || ep.tier === account.tier ? services.accountTenant(account) : { tier: ep.tier, sectag: null };
    const ctx = serviceContext(o.store, { actor: accountActor(account), tenant, source });
    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch (err) {
      return send(reply, 200, rpcError(null, PARSE_ERROR, `parse error: ${(err as Error).message}`, { exception_type: 'PARSE_ERROR' }));
    }
    const check = tokenScopeCheck(ctx, who.token);
    const out = await handleRpc(ctx, body, {
      methods: ep.methods,
      original: ep.original,
      ...(check ? { check } : {}),
      batchLimit,
      onCall: (method, outcome, ms) => metrics.call(method, outcome, ms, findOperation(method) !== undefined),
      onInternal: (err, method) => log.error({ method, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), source }, 'API call failed'),
    });
    if (out === undefined) return reply.code(204).send();
    return send(reply, 200, out);
  };

  for (const ep of ENDPOINTS) app.post(ep.path, rpc(ep));
  registerSessionRoutes(app, { base, sessions, guard, log, secure: !!o.tls || !!o.tlsEnabled, send });
  registerSetupRoutes(app, { store: o.store, setup: o.setup ?? new FirstRunSetup(), guard, log, sessions, secure: !!o.tls || !!o.tlsEnabled, send });
  registerWebUi(app, o.webRoot === null ? undefined : (o.webRoot ?? defaultWebRoot()));

  app.get('/openrpc.json', async (_req, reply) => send(reply, 200, openRpcDocument(o.version ?? '0', '/jsonrpc')));
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.code(200).header('content-type', metrics.registry.contentType).send(text);
  });
  app.get('/health', async (_req, reply) => {
    const out: { status: string; database: string; reason?: string; replication?: unknown; zoneTable?: unknown } = { status: 'ok', database: 'ok' };
    let ok = true;
    try {
      await services.pingStore(base);
    } catch (err) {
      ok = false;
      out.database = `unreachable: ${(err as Error).message}`;
    }
    // A replica further behind its primary than replica_max_lag is not healthy (issue 13, docs/HA.md): a load
    // balancer takes it out and sends its clients to a current server.
    if (ok) {
      try {
        const r = await services.replicationStatus(base);
        if (r) {
          out.replication = r;
          if (r.overLimit) {
            ok = false;
            out.reason = r.message ?? 'replica behind the primary';
          }
        }
      } catch (err) {
        ok = false;
        out.reason = `replication state unknown: ${(err as Error).message}`;
      }
    }
    if (ok && o.feed) {
      try {
        const f = await o.feed();
        out.zoneTable = f;
        if (!f.current) ok = false;
      } catch (err) {
        ok = false;
        out.zoneTable = { current: false, error: (err as Error).message };
      }
    }
    if (!ok) out.status = 'unavailable';
    return send(reply, ok ? 200 : 503, out);
  });
  // An anycast router's probe (issue 11): the answer of check_server, without authentication like /health, so without
  // the names of the lagging zones (only how many). 200 when the server answers over UDP and TCP and is in sync.
  app.get<{ Params: { server: string } }>('/health/:server', async (req, reply) => {
    try {
      const c = await checkServer(base, req.params.server, { sample: { max: 500, offset: 0 } });
      const out = { server: c.server, state: c.state, udp: c.udp, tcp: c.tcp, zones: c.zones, lagging: c.lagging.length };
      return send(reply, c.state === 'OK' ? 200 : 503, out);
    } catch (err) {
      if (err instanceof ServerNotFound) return send(reply, 404, { server: req.params.server, state: 'UNKNOWN', error: 'no such server' });
      throw err;
    }
  });
  // Pull of a secondary's generated configuration (issue 11), for a server whose files are not pushed by reconfig: the
  // same file reconfig would write (checked by the real checker first), for admin accounts as /admin_dms. ETag is
  // the file's hash: a puller sending If-None-Match gets 304 and need not reload.
  // A server's own pull token (create_server_token) is good here, for that server's file only: a secondary pulling its
  // configuration needs no admin account. The token means nothing anywhere else (authenticate() does not know it).
  app.get<{ Params: { server: string }; Querystring: { part?: string } }>('/config/:server', async (req, reply) => {
    const creds = parseAuthorization(req.headers.authorization);
    let ctx: ServiceContext;
    if (creds?.kind === 'bearer' && services.isServerToken(creds.token)) {
      const wait = guard.retryAfter(req.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return refuse(reply, 429, RATE_LIMITED, `too many failed logins from ${req.ip}: try again in ${wait} s`);
      }
      const owner = await services.verifyServerToken(base, creds.token);
      if (owner === null) {
        guard.failed(req.ip);
        log.warn({ source: req.ip, scheme: 'server-token', url: '/config' }, 'API login failed');
        return refuse(reply, 401, AUTH_REQUIRED, 'authentication failed');
      }
      guard.succeeded(req.ip);
      if (owner !== req.params.server.trim())
        return refuse(reply, 403, KIND_CODE.denied, `/config: this token is server ${owner}'s, not ${req.params.server}'s`);
      ctx = serviceContext(o.store, { actor: `server:${owner}`, source: req.ip });
    } else {
      const who = await principalOf(req, reply, '/config');
      if (!who) return reply;
      if (who.account.tier !== 'admin') return refuse(reply, 403, KIND_CODE.denied, '/config is for admin accounts');
      if (who.token && (who.token.acmeOnly || who.token.zone !== null)) return refuse(reply, 403, KIND_CODE.denied, '/config: this token is limited to ACME records or one zone');
      ctx = serviceContext(o.store, { actor: accountActor(who.account), tenant: services.accountTenant(who.account), source: req.ip });
    }
    const part = req.query.part ?? 'main';
    if (part !== 'main' && part !== 'options') return send(reply, 400, { server: req.params.server, error: 'part is main or options' });
    let r: Awaited<ReturnType<typeof pullServerConfig>>;
    try {
      r = await pullServerConfig(ctx, req.params.server, { part, ...(o.served ? { served: o.served } : {}) });
    } catch (err) {
      if (err instanceof ServerNotFound) return send(reply, 404, { server: req.params.server, error: 'no such server' });
      throw err;
    }
    if (!r.ok) return send(reply, r.status, { server: r.server, error: r.message });
    reply.header('etag', `"${r.hash}"`).header('x-dms-server-type', r.type);
    if (req.headers['if-none-match'] === `"${r.hash}"`) return reply.code(304).send();
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(r.text);
  });
  return app;
}

/** Listen on `listen` (port 0: any free port); refuses plain HTTP on a non-loopback address unless `insecure`. */
export async function startHttpApi(o: HttpApiOptions): Promise<HttpApi> {
  if (!o.tls && !o.insecure && !isLoopback(o.listen.address))
    throw new Error(
      `refusing plain HTTP on ${o.listen.address}: passwords and tokens would cross the network in clear; give --http-cert and --http-key, or --http-insecure behind a TLS proxy`,
    );
  const setup = new FirstRunSetup();
  const app = buildHttpApi({ ...o, setup });
  await app.listen({ host: o.listen.address, port: o.listen.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.listen.port;
  if (o.onSetupToken) {
    const token = await issueIfNeeded(o.store, setup).catch((err: Error) => {
      o.log.warn({ err: err.message }, 'first-run set-up: cannot tell whether an admin account exists; no set-up token');
      return undefined;
    });
    if (token !== undefined) o.onSetupToken(token, setupUrl(o.listen.address, port, !!o.tls));
  }
  return { address: o.listen.address, port, tls: !!o.tls, app, close: () => app.close() };
}
