// dmsd's protections for a public address (issue 15): response rate limiting (src/server/rrl.ts) configured from
// --rrl and the configuration file, the DNS Cookie secrets (database, rotated: services/cookies.ts) and the RRL
// counters for /metrics (with --workers each worker limits its own share of the traffic, as knotd's threads do, and
// reports its counters to the supervisor, which sums them); and what the server tells of itself (CHAOS id.server,
// version.bind, NSID), which an operator may set or hide.

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CookieSecrets } from '../dns/cookie.js';
import { RateLimiter, type RrlOptions } from '../server/rrl.js';
import * as services from '../services/index.js';
import { readConfigEntries, type Store } from '../store/index.js';

/** The protection settings of the configuration file (besides --rrl). */
export interface ProtectionConfig {
  rrl?: Omit<RrlOptions, 'responsesPerSecond' | 'clock' | 'onLimit'> & { responsesPerSecond?: number };
  /** dns_cookies = false: COOKIE options ignored (default true). */
  cookies: boolean;
  /** dns_cookie_rotation: seconds between new secrets (default a day). */
  cookieRotationMs?: number;
  /**
   * server_identity / server_version: the answers to CHAOS TXT id.server and hostname.bind / version.server and
   * version.bind (undefined: the default, the host name / "DMS <version>"; "" or "none": not told, REFUSED).
   */
  identity?: string;
  version?: string;
  /** nsid: the NSID (RFC 5001) answered to queries asking for it: text, 0x<hex>, or "hostname" (default: none). */
  nsid?: string;
}

/**
 * What the server tells of itself (QueryHandlerOptions.chaos and .nsid) under these settings: as BIND and Knot, the
 * host name and our version to CHAOS queries by default; an NSID only when one is configured (as BIND).
 */
export function serverIdentity(cfg: ProtectionConfig, hostname: string, ourVersion: string): { chaos: { identity?: string; version?: string }; nsid?: Uint8Array } {
  const told = (v: string | undefined, dflt: string) => {
    const t = v ?? dflt;
    return t === '' || t.toLowerCase() === 'none' ? undefined : t;
  };
  const identity = told(cfg.identity, hostname);
  const version = told(cfg.version, ourVersion);
  const nsidText = told(cfg.nsid, 'none');
  const nsid =
    nsidText === undefined
      ? undefined
      : nsidText.toLowerCase() === 'hostname'
        ? Buffer.from(hostname, 'utf8')
        : /^0x/i.test(nsidText)
          ? Buffer.from(nsidText.slice(2), 'hex')
          : Buffer.from(nsidText, 'utf8');
  return {
    chaos: { ...(identity !== undefined ? { identity } : {}), ...(version !== undefined ? { version } : {}) },
    ...(nsid !== undefined ? { nsid: new Uint8Array(nsid) } : {}),
  };
}

function text(key: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`configuration: ${key} must be text`);
  const t = String(v);
  // The answer is one TXT record of a UDP message: a short line of text.
  if (t.length > 255 || /[\u0000-\u001f\u007f]/.test(t)) throw new Error(`configuration: ${key} must be one line of at most 255 characters`);
  return t;
}

function num(key: string, v: unknown, min: number, max: number, integer = true): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new Error(`configuration: ${key} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  return n;
}

function bool(key: string, v: unknown): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  const l = String(v).toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(l)) return true;
  if (['false', 'no', 'off', '0'].includes(l)) return false;
  throw new Error(`configuration: ${key} must be true or false`);
}

/**
 * Read rrl_*, dns_cookie*, server_identity / server_version and nsid from the configuration file (none: defaults).
 * Throws with the key on a bad value.
 */
export function readProtectionConfig(path: string | undefined): ProtectionConfig {
  if (path === undefined) return { cookies: true };
  const e = readConfigEntries(path);
  const wl = e.rrl_whitelist;
  const whitelist = Array.isArray(wl) ? wl.map(String) : typeof wl === 'string' && wl.trim() !== '' ? wl.split(/[\s,]+/).filter(Boolean) : undefined;
  const rrl: NonNullable<ProtectionConfig['rrl']> = {};
  const rps = num('rrl_responses_per_second', e.rrl_responses_per_second ?? e.rrl, 0, 1_000_000, false);
  if (rps !== undefined) rrl.responsesPerSecond = rps;
  const slip = num('rrl_slip', e.rrl_slip, 0, 10);
  if (slip !== undefined) rrl.slip = slip;
  const window = num('rrl_window', e.rrl_window, 1, 3600);
  if (window !== undefined) rrl.window = window;
  const v4 = num('rrl_ipv4_prefix', e.rrl_ipv4_prefix, 8, 32);
  if (v4 !== undefined) rrl.ipv4Prefix = v4;
  const v6 = num('rrl_ipv6_prefix', e.rrl_ipv6_prefix, 16, 128);
  if (v6 !== undefined) rrl.ipv6Prefix = v6;
  if (whitelist) rrl.whitelist = whitelist;
  const logOnly = bool('rrl_log_only', e.rrl_log_only);
  if (logOnly !== undefined) rrl.logOnly = logOnly;
  const tableSize = num('rrl_table_size', e.rrl_table_size, 1024, 1 << 24);
  if (tableSize !== undefined) rrl.tableSize = tableSize;
  const rotation = num('dns_cookie_rotation', e.dns_cookie_rotation, 600, 365 * 86400);
  const identity = text('server_identity', e.server_identity);
  const version = text('server_version', e.server_version);
  const nsid = text('nsid', e.nsid);
  if (nsid !== undefined && /^0x/i.test(nsid) && !/^0x([0-9a-f]{2})+$/i.test(nsid)) throw new Error('configuration: nsid 0x… must be whole octets in hexadecimal');
  return {
    rrl,
    cookies: bool('dns_cookies', e.dns_cookies) ?? true,
    ...(rotation !== undefined ? { cookieRotationMs: rotation * 1000 } : {}),
    ...(identity !== undefined ? { identity } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(nsid !== undefined ? { nsid } : {}),
  };
}

/** The rate limiter for `--rrl N` (the flag wins over rrl_responses_per_second); undefined when off (0). */
export function makeRateLimiter(flag: number | undefined, cfg: ProtectionConfig, log: Logger): RateLimiter | undefined {
  const rps = flag ?? cfg.rrl?.responsesPerSecond ?? 0;
  if (!(rps > 0)) return undefined;
  const { responsesPerSecond: _ignored, ...rest } = cfg.rrl ?? {};
  return new RateLimiter({
    ...rest,
    responsesPerSecond: rps,
    // Once per prefix and class per episode (until it is answered again): a flood of one source is one line.
    onLimit: (e) => log.info({ prefix: e.prefix, class: e.class, logOnly: e.logOnly }, e.logOnly ? 'rrl: would limit (log only)' : 'rrl: limiting'),
  });
}

/** How often a process re-reads the cookie secrets (a rotation reaches every process within this). */
const COOKIE_POLL_MS = 60_000;

/**
 * The DNS Cookie secrets for this process: from the database (read now, then every minute; the first call on a new
 * installation creates one), or without a database a random secret made by the supervising process and handed to
 * the workers in DMSD_COOKIE_SECRET (not rotated: it lasts as long as the process).
 */
export async function startCookieSecrets(
  store: Store | undefined,
  cfg: ProtectionConfig,
  log: Logger,
): Promise<{ get: () => CookieSecrets | undefined; stop: () => void }> {
  if (!cfg.cookies) return { get: () => undefined, stop: () => {} };
  if (!store) {
    const hex = process.env.DMSD_COOKIE_SECRET ?? randomBytes(16).toString('hex');
    process.env.DMSD_COOKIE_SECRET = hex;
    const secrets = { current: Uint8Array.from(Buffer.from(hex, 'hex')) };
    return { get: () => secrets, stop: () => {} };
  }
  const ctx = services.serviceContext(store, { actor: 'dmsd cookies' });
  const opts = cfg.cookieRotationMs !== undefined ? { rotationMs: cfg.cookieRotationMs } : {};
  let secrets: CookieSecrets | undefined;
  const load = async () => {
    try {
      secrets = await services.dnsCookieSecrets(ctx, opts);
    } catch (err) {
      // Keep the secrets we have; without any, COOKIE options are ignored until the next try.
      log.error({ err: (err as Error).message }, 'cannot read the DNS cookie secrets');
    }
  };
  await load();
  const timer = setInterval(() => void load(), COOKIE_POLL_MS);
  timer.unref();
  return { get: () => secrets, stop: () => clearInterval(timer) };
}

/** RRL counters as "class|action" → count, for /metrics. */
export type RrlCounts = () => ReadonlyMap<string, number>;

/** In a cluster worker: send the limiter's counters to the supervisor every two seconds. */
export function reportRrlToSupervisor(rrl: RateLimiter): void {
  const t = setInterval(() => process.send?.({ type: 'rrl-counts', counts: [...rrl.snapshot()] }), 2000);
  t.unref();
}

/** In the supervisor: the latest counters of each worker, summed (a restarted worker's counts start again). */
export function collectWorkerRrl(): { note: (worker: number, counts: [string, number][]) => void; counts: RrlCounts } {
  const perWorker = new Map<number, Map<string, number>>();
  return {
    note: (worker, counts) => perWorker.set(worker, new Map(counts)),
    counts: () => {
      const sum = new Map<string, number>();
      for (const m of perWorker.values()) for (const [k, n] of m) sum.set(k, (sum.get(k) ?? 0) + n);
      return sum;
    },
  };
}
