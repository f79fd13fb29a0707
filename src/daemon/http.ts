// dmsd's HTTP API (issue 16): starts src/api's server on --http with the daemon's view of things the API cannot see
// itself: whether the served zone table follows the database (for /health and the change-feed lag metric) and the
// DNS query counters (kept here by wrapping the query handler: src/server stays free of a metrics library).

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { type HttpApi, startHttpApi } from '../api/server.js';
import type { DnsCounters } from '../api/metrics.js';
import { typeToString } from '../dns/constants.js';
import type { QueryHandler, HandlerResult } from '../server/query.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';

export interface HttpFlags {
  http?: string;
  httpCert?: string;
  httpKey?: string;
  httpInsecure?: boolean;
  httpBodyLimit?: number;
  /** The address came from the default, not the command line: a busy port is a warning, not a failure. */
  httpDefault?: boolean;
}

/** A zone table behind the database for longer than this is not current (the feed polls every 250 ms). */
const STALE_AFTER_MS = 5000;

/**
 * Health of the zone table: current while the feed keeps up with the database — behind only since just now, or
 * past every point it was seen behind. Each time it is seen behind, the database's position then is the target: once
 * the feed passes it, that lag is over (checks may be far apart: an old sighting must not count against a feed that
 * has long caught up, as it did when only a check seeing no lag at all cleared it).
 */
export function feedHealth(store: Store, seq: () => number, clock: () => number = Date.now): () => Promise<{ current: boolean; lag: number; seq: number }> {
  let behind: { since: number; target: number } | undefined;
  return async () => {
    const db = await services.currentChangeSeq(services.serviceContext(store));
    const at = seq();
    const lag = Math.max(0, db - at);
    const now = clock();
    if (behind && at >= behind.target) behind = undefined;
    if (lag > 0) behind ??= { since: now, target: db };
    return { current: behind === undefined || now - behind.since < STALE_AFTER_MS, lag, seq: at };
  };
}

/** The query type of a DNS message (first question), or undefined when it has none or is malformed. */
function qtypeOf(b: Uint8Array): number | undefined {
  if (b.length < 17 || ((b[4] << 8) | b[5]) === 0) return undefined;
  let i = 12;
  for (let n = 0; n < 128 && i < b.length; n++) {
    const len = b[i];
    if (len === 0) return i + 2 < b.length ? (b[i + 1] << 8) | b[i + 2] : undefined;
    if (len >= 0xc0) return undefined;
    i += len + 1;
  }
  return undefined;
}

const OPCODES: Record<number, string> = { 0: 'QUERY', 4: 'NOTIFY', 5: 'UPDATE' };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/**
 * Count every message the handler answers by transport, rcode, query type and opcode (queries, transfers by their
 * AXFR/IXFR type, NOTIFY, UPDATE) (a Map increment per query). Unknown
 * query types are counted as "other" so that clients cannot grow the label set.
 */
export function countQueries(handler: QueryHandler): DnsCounters {
  const counts = new Map<string, number>();
  const note = (bytes: Uint8Array, transport: string, r: HandlerResult) => {
    const first = Array.isArray(r) ? r[0] : r;
    const rcode = first && first.length >= 4 ? (RCODES[first[3] & 0x0f] ?? String(first[3] & 0x0f)) : 'none';
    const t = qtypeOf(bytes);
    const name = t === undefined ? 'none' : typeToString(t);
    const opcode = bytes.length >= 3 ? (OPCODES[(bytes[2] >> 3) & 0x0f] ?? 'other') : 'none';
    const key = `${transport}|${rcode}|${name.startsWith('TYPE') ? 'other' : name}|${opcode}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const handle = handler.handle.bind(handler);
  handler.handle = (bytes, meta) => {
    const r = handle(bytes, meta);
    if (r !== null && typeof (r as { then?: unknown }).then === 'function')
      return (r as Promise<HandlerResult>).then((x) => {
        note(bytes, meta.transport, x);
        return x;
      });
    note(bytes, meta.transport, r as HandlerResult);
    return r;
  };
  return { queries: () => counts };
}

/**
 * The first-run set-up token (api/setup.ts), printed once: on stderr as plain text for the operator who started dmsd,
 * not in the JSON log on stdout (which log shippers collect and keep); the log gets a line without it.
 */
function printSetupToken(log: Logger, token: string, url: string): void {
  log.warn({ url }, 'first-run set-up: no admin API account yet; open the URL and give the one-time set-up token printed on stderr');
  process.stderr.write(
    `\nDMS first-run set-up: no admin API account exists yet.\n  Open ${url}\n  set-up token: ${token}\n` +
      '  (valid until the first admin account exists; a restart of dmsd prints a new one; or use zone_tool create_api_account)\n\n',
  );
}

export async function startDmsdHttp(
  flags: HttpFlags,
  store: Store,
  log: Logger,
  o: { feed?: () => Promise<{ current: boolean; lag: number; seq: number }>; dns?: DnsCounters; version?: string; served?: (zone: string) => boolean } = {},
): Promise<HttpApi | undefined> {
  if (flags.http === undefined) return undefined;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(flags.http) ?? /^([^:]+):(\d{1,5})$/.exec(flags.http);
  if (!m || Number(m[2]) > 65535) throw new Error(`bad --http address "${flags.http}" (expected ADDR:PORT or [IPv6]:PORT)`);
  if ((flags.httpCert === undefined) !== (flags.httpKey === undefined)) throw new Error('--http-cert and --http-key go together');
  const tls = flags.httpCert && flags.httpKey ? { cert: readFileSync(flags.httpCert), key: readFileSync(flags.httpKey) } : undefined;
  try {
    const api = await startHttpApi({
      store,
      log,
      listen: { address: m[1], port: Number(m[2]) },
      ...(tls ? { tls } : {}),
      insecure: flags.httpInsecure === true,
      ...(flags.httpBodyLimit !== undefined ? { bodyLimit: flags.httpBodyLimit } : {}),
      ...(o.feed ? { feed: o.feed } : {}),
      ...(o.dns ? { dns: o.dns } : {}),
      ...(o.served ? { served: o.served } : {}),
      version: o.version ?? '0',
      onSetupToken: (token, url) => printSetupToken(log, token, url),
    });
    log.info({ proto: api.tls ? 'https' : 'http', address: api.address, port: api.port }, 'listening');
    return api;
  } catch (err) {
    if (flags.httpDefault && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      log.warn({ address: flags.http, err: (err as Error).message }, 'HTTP API not started: the default address is in use (name one with --http, or --no-http)');
      return undefined;
    }
    throw err;
  }
}
