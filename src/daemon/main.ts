// dmsd: the DMS authoritative DNS server. This file parses flags, sets up logging, opens the database, serves what it
// publishes (zones.ts: bulk load, then the change feed) and starts the listeners (in this process, or in
// node:cluster workers sharing the sockets with --workers). `--zones DIR` imports a directory into the database at
// start and on SIGHUP; `--no-database` serves the directory straight from the files as before. SIGTERM/SIGINT stop.

import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import pino, { type Logger } from 'pino';
import { readFileSync, writeSync } from 'node:fs';
import { fixMmapThreshold, type ListenAddress, type Listening, trimNativeHeap, type UdpIo } from '../server/listeners.js';
import { parseListenAddress, startDnsServer } from '../server/server.js';
import { CHECK_LATER_MAX_BYTES, checkZoneFileThreaded, loadZoneDirectoryThreaded } from '../server/zonedir.js';
import { Name } from '../dns/name.js';
import type { RR } from '../dns/message.js';
import { ZoneTable } from '../zone/table.js';
import type { Store } from '../store/index.js';
import type { ZoneFileProblem } from '../zonefile/types.js';
import * as services from '../services/index.js';
import { importZoneDirectory, openDmsdStore, publishExamplesIfEmpty, startZoneFeed, type ZoneFeed } from './zones.js';
import { attachDbPrimary, DbKeyStore, startNotifier } from './primary.js';
import { SignPool } from './sign-pool.js';
import { startSigningFeed, ZoneSigner } from './signer.js';
import { checkParentDs, parseAgent } from './parent-ds.js';
import { type ServedView, startSgTasks } from './sg-tasks.js';
import { gitHandlers, startGitTasks } from './events/git.js';
import { DbQueryAcl } from './query-acl.js';
import { addLimitOptions, resolveLimits, type ServingLimits } from './limits.js';
import { type Leadership, startLeadership } from './leader.js';
import { replicaExpiry } from './replica-expiry.js';
import { Foreground } from './foreground.js';
import { collectAfterLoad, startIdleMemoryReturn, youngGenerationForChanges } from './idle-memory.js';
import { QueryHandler } from '../server/query.js';
import { TCP_DEFAULTS } from '../server/tcp-guard.js';
import { requestRehearsal } from './rehearsal.js';
import type { startDmsdHttp } from './http.js';
import type { DnsCounters } from '../api/metrics.js';
import { collectWorkerRrl, makeRateLimiter, type ProtectionConfig, readProtectionConfig, reportRrlToSupervisor, serverIdentity, startCookieSecrets } from './protection.js';

export interface DmsdOptions {
  zones?: string;
  listen: ListenAddress[];
  /** undefined: DMS_DATA_DIR, the config file, else ./data. */
  data?: string;
  /** false with --no-database: serve the --zones directory (default examples/) straight from the files. */
  database: boolean;
  workers: number;
  /** UDP socket I/O: auto (native batches when the addon was built), native, libuv. */
  udpIo?: UdpIo;
  logLevel: string;
  databaseUrl?: string;
  config?: string;
  /** undefined with --no-http (or --no-database). */
  http?: string;
  /** The DNSSEC key-encryption key file (also DMS_DNSSEC_KEK; default <data dir>/dnssec-kek). */
  dnssecKek?: string;
  /** Seconds between the signer's checks of key timings and signatures due (default 60). */
  dnssecInterval?: number;
  /** DNSSEC signing threads (default: the cores available). */
  signingThreads?: number;
  /** Resolvers asked for a parent zone's name servers (checkds=auto); default the system's. */
  dnssecResolvers?: string[];
  /** --http not given: the default address (a busy port is then a warning). */
  httpDefault?: boolean;
  httpCert?: string;
  httpKey?: string;
  httpInsecure?: boolean;
  httpBodyLimit?: number;
  /** Seconds between the scheduled checks of the secondary servers (ServerSM); 0: none. */
  healthInterval?: number;
  /** TCP and transfer limits (flags, else the --config file's keys, else the defaults). */
  limits?: ServingLimits;
  /** The other site's PostgreSQL (fencing: a promoted peer with a newer epoch stops this one leading; docs/HA.md). */
  peerDatabaseUrl?: string;
  /** Milliseconds between leader-lease rounds (default 1000). */
  leaseIntervalMs?: number;
  /** --rrl: UDP responses per second per source prefix and class; 0 = off (undefined: the config file's, else off). */
  rrl?: number;
}

/** Where the JSON-RPC API listens unless --http or --no-http says otherwise. */
export const DEFAULT_HTTP = '127.0.0.1:8080';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The shipped example zones, served when no --zones is given. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

function collectListen(value: string, prev: ListenAddress[] | undefined): ListenAddress[] {
  try {
    return [...(prev ?? []), parseListenAddress(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function parseBytes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1024 || n > 1024 ** 3) throw new InvalidArgumentError('expected a number of bytes from 1024 to 1073741824');
  return n;
}

function parseWorkers(value: string): number {
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('expected a positive integer or "auto"');
  return n;
}

/** The signing process's signer; the parent DS check (checkds=auto) finds the parent's servers through --dnssec-resolver. */
function newSigner(opts: DmsdOptions, ctx: services.ServiceContext, log: Logger): ZoneSigner {
  const resolvers = opts.dnssecResolvers;
  return new ZoneSigner(ctx, log, undefined, (w) => checkParentDs(w, undefined, resolvers));
}

export function buildCommand(): Command {
  return addLimitOptions(new Command())
    .name('dmsd')
    .description('DMS authoritative DNS server')
    .option('--zones <dir>', 'import the zone files of this directory into the database at start and on SIGHUP (one file per zone, file name = zone name, optional ".zone" suffix; new or changed zones only); without it an empty database gets the shipped examples/; with --no-database the files are served directly')
    .option('--listen <addr:port>', 'DNS address to serve on UDP and TCP, repeatable; IPv6 as [::1]:53; port 0 picks a free port (logged) (default: 127.0.0.1:5353)', collectListen)
    .option('--data <dir>', 'data directory holding the SQLite database dms.sqlite (also DMS_DATA_DIR; default ./data)')
    .option('--no-database', 'serve the --zones directory (default examples/) straight from the files, without a database')
    .option('--workers <n>', 'serving processes (node:cluster workers sharing the sockets); "auto" = one per core', parseWorkers, 1)
    .option('--udp-io <mode>', 'UDP socket I/O: "native" = recvmmsg/sendmmsg batches through the optional addon dms-udp-native (start fails without it), "libuv" = one system call per datagram, "auto" = native when the addon was built (also DMSD_UDP_IO; default auto)', parseUdpIo)
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--database-url <url>', 'PostgreSQL URL postgres://… (also DMS_DATABASE_URL); default: SQLite in the data directory')
    .option('--config <file>', 'configuration file: data / database_url (key = value lines or JSON)')
    .option('--dnssec-kek <file>', 'DNSSEC key-encryption key file sealing the private keys in the database (also DMS_DNSSEC_KEK; default <data dir>/dnssec-kek, mode 0600, made with the first key)')
    .option('--dnssec-interval <seconds>', 'how often the signer checks the keys\' timings (rollovers) and signatures due for refresh (default 60)', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds above 0');
      return n;
    })
    .option('--dnssec-resolver <addr[#port]>', 'resolver asked for a parent zone\'s name servers when a DNSSEC policy checks the parent\'s DS with checkds=auto, repeatable (default: the system\'s, /etc/resolv.conf)', (v: string, prev: string[] | undefined) => {
      try {
        parseAgent(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message.replace('parental agent', 'resolver'));
      }
      return [...(prev ?? []), v];
    })
    .option('--signing-threads <n>', 'DNSSEC signing threads: a full sign and large re-signs run there, off the query path (default: the cores available; stopped after 30 s without work, started again when needed)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('a whole number from 1 to 256');
      return n;
    })
    .option('--http <addr:port>', `JSON-RPC API, /openrpc.json, /metrics and /health on this address (needs the database); port 0 picks a free port (logged) (default: ${DEFAULT_HTTP})`)
    .option('--no-http', 'no HTTP API')
    .option('--http-cert <file>', 'PEM certificate (chain) for HTTPS on --http')
    .option('--http-key <file>', 'PEM private key for HTTPS on --http')
    .option('--http-insecure', 'allow plain HTTP on a non-loopback --http address (behind a TLS-terminating proxy)')
    .option('--http-body-limit <bytes>', 'largest JSON-RPC request body (default 65 MiB)', parseBytes)
    .option('--peer-database-url <url>', 'the other site\'s PostgreSQL (also DMS_PEER_DATABASE_URL): when it is a primary at a newer fencing epoch (promote_replica ran there), this dmsd does not lead and refuses UPDATEs (docs/HA.md)')
    .option('--rrl <responses per second>', 'response rate limiting of UDP answers per source prefix (/24, /56) and response class; 0 = off (default); the other settings (rrl_slip, rrl_window, rrl_ipv4_prefix, rrl_ipv6_prefix, rrl_whitelist, rrl_log_only) come from --config; with --workers each worker limits its share', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 1_000_000) throw new InvalidArgumentError('responses per second from 0 (off) to 1000000');
      return n;
    })
    .option('--health-interval <sec>', 'seconds between the checks of the secondary servers (reachable, in sync); 0: none (default 60)', parseHealthInterval)
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', '\nZones are served from the database (SQLite in --data, or PostgreSQL); changes made with zone_tool or UPDATE are\nserved within a second (change feed polled every 250 ms, by every worker). NOTIFYs go out from the supervising\nprocess through the persistent event queue; the database is vacuumed daily. With several dmsd on one PostgreSQL,\nonly the one holding the leader lease sends NOTIFYs, signs and vacuums; on a hot standby dmsd serves read-only\n(docs/HA.md).\nPrimary: AXFR/IXFR (IXFR from the stored versions) to clients matching the zone transfer rules, RFC 2136 UPDATE\nfor inc_updates zones under their update grants, TSIG keys from the database (zone_tool generate_tsig_key,\nadd_transfer_rule, add_update_grant, add_also_notify). Transfers and updates are logged (msg "transfer"/"update").\nPublic address: --rrl (response rate limiting, settings rrl_* in --config) and DNS Cookies (RFC 7873/9018; the secret\nis kept in the database, shared by workers and instances, rotated daily): docs/RRL-AND-COOKIES.md.\nSignals: SIGHUP imports the --zones directory again (or reloads it with --no-database); SIGTERM or SIGINT stops cleanly.\nLogs: JSON lines (pino) on stdout; {"msg":"listening","proto":"udp"|"tcp","address":...,"port":...} per socket.')
    .allowExcessArguments(false);
}

function parseUdpIo(v: string): UdpIo {
  if (v !== 'auto' && v !== 'native' && v !== 'libuv') throw new InvalidArgumentError('auto, native or libuv');
  return v;
}

function parseHealthInterval(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 86400) throw new InvalidArgumentError('seconds from 0 to 86400');
  return n;
}

export function parseArgs(argv: string[]): DmsdOptions {
  const cmd = buildCommand();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts();
  if (!LOG_LEVELS.includes(o.logLevel)) {
    cmd.error(`error: option '--log-level <level>' must be one of ${LOG_LEVELS.join(', ')}`);
  }
  let limits: ServingLimits = { tcp: {}, xfr: {} };
  try {
    limits = resolveLimits(o, o.config);
  } catch (err) {
    cmd.error(`error: ${(err as Error).message}`);
  }
  return {
    zones: o.zones,
    listen: o.listen ?? [{ address: '127.0.0.1', port: 5353 }],
    data: o.data,
    database: o.database !== false,
    workers: o.workers,
    ...(o.udpIo !== undefined ? { udpIo: o.udpIo } : {}),
    logLevel: o.logLevel,
    databaseUrl: o.databaseUrl,
    config: o.config,
    dnssecKek: o.dnssecKek,
    ...(o.dnssecInterval !== undefined ? { dnssecInterval: o.dnssecInterval } : {}),
    ...(o.signingThreads !== undefined ? { signingThreads: o.signingThreads } : {}),
    ...(o.dnssecResolver !== undefined ? { dnssecResolvers: o.dnssecResolver as string[] } : {}),
    ...(o.http === false ? {} : { http: o.http ?? DEFAULT_HTTP, httpDefault: o.http === undefined }),
    ...(o.httpCert !== undefined ? { httpCert: o.httpCert } : {}),
    ...(o.httpKey !== undefined ? { httpKey: o.httpKey } : {}),
    ...(o.httpInsecure ? { httpInsecure: true } : {}),
    ...(o.httpBodyLimit !== undefined ? { httpBodyLimit: o.httpBodyLimit } : {}),
    ...(o.healthInterval !== undefined ? { healthInterval: o.healthInterval } : {}),
    limits,
    ...((o.peerDatabaseUrl ?? process.env.DMS_PEER_DATABASE_URL) ? { peerDatabaseUrl: o.peerDatabaseUrl ?? process.env.DMS_PEER_DATABASE_URL } : {}),
    ...(process.env.DMSD_LEASE_INTERVAL_MS ? { leaseIntervalMs: Number(process.env.DMSD_LEASE_INTERVAL_MS) } : {}),
    ...(o.rrl !== undefined ? { rrl: o.rrl } : {}),
  };
}

/** The rrl_* / dns_cookie* settings of --config; a bad value stops dmsd with the reason. */
function protectionConfigOrExit(opts: DmsdOptions, log: Logger): ProtectionConfig {
  try {
    return readProtectionConfig(opts.config);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'bad configuration');
    process.exit(1);
  }
}

function makeLogger(level: string): Logger {
  // Lines are gathered and written together: once LOG_BUFFER characters wait, or LOG_DELAY_MS after the first line
  // waiting. Under a stream of UPDATEs (two lines each) a write per line cost ~100 µs of each UPDATE (measured,
  // session 24: a thread-pool write and its completion per line; synchronous writes to a pipe cost more still).
  // sonic-boom does the writing (asynchronous, retried when a pipe is full); whatever is pending is written when the
  // process exits (including process.exit after a fatal error).
  const dest = pino.destination({ dest: 1, sync: false, minLength: 0 });
  let waiting: string[] = [];
  let waitingChars = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const text = waiting.length === 1 ? waiting[0] : waiting.join('');
    waiting = [];
    waitingChars = 0;
    dest.write(text);
  };
  const out = {
    write(line: string): boolean {
      waiting.push(line);
      waitingChars += line.length;
      if (waitingChars >= LOG_BUFFER) flush();
      else timer ??= setTimeout(flush, LOG_DELAY_MS).unref();
      return true;
    },
  };
  // At exit nothing asynchronous completes: what sonic-boom holds, then the lines still gathered here, written now
  // (a fatal error's line before process.exit must not be lost).
  process.once('exit', () => {
    if (timer) clearTimeout(timer);
    try {
      dest.flushSync();
      if (waiting.length > 0) writeAllSync(1, waiting.join(''));
    } catch {
      // stdout closed: nothing more can be written
    }
  });
  return pino({ level, timestamp: isoTimestamp }, out);
}

/** Write all of `text` to `fd` synchronously, waiting out a full non-blocking pipe (EAGAIN) for up to ~1 s. */
function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let tries = 0; buf.length > 0 && tries < 1000; ) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      tries++;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Log characters waiting before they are written at once, and the longest a line waits (see makeLogger). */
const LOG_BUFFER = 16 * 1024;
const LOG_DELAY_MS = 50;

/**
 * pino's "time" as ISO 8601 (as pino.stdTimeFunctions.isoTime writes it), the date and time of the current second
 * made once per second: a Date and its toISOString per line cost ~5 µs each here.
 */
let isoSecond = -1;
let isoPrefix = '';
function isoTimestamp(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
}

/**
 * Load the zone directory into `table`, logging each zone and each problem. On a reload, a zone whose file now has
 * errors keeps being served in its previous version; a zone whose file is gone stops being served.
 */
async function loadZones(dir: string, log: Logger, table: ZoneTable, fromDir: Set<string>): Promise<void> {
  const seen = new Set<string>();
  const checkLater: { file: string; origin: string }[] = [];
  for (const r of await loadZoneDirectoryThreaded(dir)) {
    seen.add(r.origin);
    logProblems(log, r.origin, r.problems);
    if (r.zone) {
      if (r.checkLater) checkLater.push({ file: r.file, origin: r.origin });
      if (r.unchecked)
        log.warn({ zone: r.origin, file: r.file, maxBytes: CHECK_LATER_MAX_BYTES }, 'zone served without the zone check: its file is larger than the check takes (check it with named-checkzone, or serve it from the database, where every zone is checked as it is stored)');
      table.set(r.zone);
      fromDir.add(r.origin);
      log.info({ zone: r.origin, serial: r.zone.serial, names: r.zone.nodes.size, file: r.file, ...(r.inThread ? { parsedInThread: true } : {}) }, 'zone loaded');
    } else if (fromDir.has(r.origin)) {
      log.error({ zone: r.origin, file: r.file }, 'zone file has errors: the previous version stays served');
    } else log.error({ zone: r.origin, file: r.file }, 'zone not served: it has errors');
  }
  for (const origin of [...fromDir]) {
    if (seen.has(origin)) continue;
    table.delete(Name.parse(origin));
    fromDir.delete(origin);
    log.info({ zone: origin }, 'zone removed: its file is gone');
  }
  if (table.size === 0) log.warn({ dir }, 'no zone is served');
  // Large files were served unchecked: checked now, one at a time, beside the serving — by one process of a --workers
  // set (they all load the same files). Not awaited: a reload does not wait for it; a reload's checks wait for the
  // ones still running (one check thread at a time: each holds a file's records).
  if (checkLater.length > 0 && (!cluster.isWorker || process.env.DMSD_WORKER_SLOT === '0'))
    servedFileChecks = servedFileChecks
      .then(() => checkServedFiles(log, checkLater))
      .catch((err) => log.error({ err: (err as Error).message }, 'zone check of the served files failed'));
}

/** The checks of large served files (loadZones), one after the other. */
let servedFileChecks: Promise<void> = Promise.resolve();

function logProblems(log: Logger, zone: string, problems: readonly ZoneFileProblem[], extra: object = {}): void {
  for (const p of problems) {
    const entry = { file: p.file, line: p.line, column: p.column, zone, ...extra };
    if (p.severity === 'error') log.error(entry, p.message);
    else log.warn(entry, p.message);
  }
}

/** The zone check of zones served from large files (zonedir.ts checkLater): its problems logged. */
async function checkServedFiles(log: Logger, files: readonly { file: string; origin: string }[]): Promise<void> {
  for (const f of files) {
    const problems = await checkZoneFileThreaded(f.file, f.origin);
    logProblems(log, f.origin, problems, { checkedAfterServing: true });
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (errors > 0)
      log.error({ zone: f.origin, file: f.file, errors }, 'zone check: errors in a zone served from a large file (checked once served, it stays served): fix the file and reload (SIGHUP)');
    else log.info({ zone: f.origin, file: f.file, warnings: problems.length }, 'zone checked');
  }
}

type Report = (l: { proto: string; address: string; port: number }[]) => void;

function storeLocation(opts: DmsdOptions) {
  return { data: opts.data, databaseUrl: opts.databaseUrl, config: opts.config, dnssecKek: opts.dnssecKek };
}

/** dmsd serves (set once listening): the change path is rehearsed from then on (rehearsal.ts). */
let serving = false;
/** Records of a signed zone served whole after which the change path is rehearsed again. */
const REHEARSE_AFTER_RECORDS = 50_000;

/** The DNSSEC key-encryption key of this process (read only when a key is sealed or opened). */
function kekOf(opts: DmsdOptions): services.KekSource {
  return services.kekFile(services.kekLocation(storeLocation(opts)));
}

/** Load the served zones into `table`: from the files (--no-database) or from the database plus its change feed. */
async function fillTable(
  opts: DmsdOptions,
  log: Logger,
  table: ZoneTable,
  store: Store | undefined,
  signs = false,
  mayLead: () => boolean = () => true,
  acl?: DbQueryAcl,
): Promise<{
  stop: () => Promise<void>;
  reload?: () => void;
  refresh?: ZoneFeed['refresh'];
  keys?: DbKeyStore;
  /** UPDATEs, which background slices of work (zone snapshots) wait for. */
  foreground?: Foreground;
  seq?: () => number;
  signer?: ZoneSigner;
  signAll?: () => Promise<void>;
}> {
  if (!store) {
    const dir = opts.zones ?? EXAMPLES_DIR;
    const fromDir = new Set<string>();
    try {
      await loadZones(dir, log, table, fromDir);
    } catch (err) {
      log.fatal({ dir, err: (err as Error).message }, 'cannot read the zone directory');
      process.exit(1);
    }
    // Reloads run one after another: a SIGHUP during a reload starts the next once it is done.
    let reloading: Promise<void> = Promise.resolve();
    const reload = () => {
      reloading = reloading.then(async () => {
        log.info({ dir }, 'reloading zones (SIGHUP)');
        try {
          await loadZones(dir, log, table, fromDir);
        } catch (err) {
          log.error({ dir, err: (err as Error).message }, 'cannot read the zone directory; zones unchanged');
        }
      });
    };
    return { stop: async () => {}, reload };
  }
  const keys = new DbKeyStore(store, log);
  await keys.reload();
  // The process that signs zones with a DNSSEC policy (the supervising one): keys opened with the KEK.
  const signer = signs ? newSigner(opts, services.serviceContext(store, { kek: kekOf(opts), actor: 'dmsd signer' }), log) : undefined;
  // Only the leader signs (issue 13); the others serve what it stores.
  if (signer) {
    signer.mayAct = mayLead;
    signer.pool = new SignPool({ ...(opts.signingThreads ? { size: opts.signingThreads } : {}), afterIdleStop: trimNativeHeap });
  }
  await acl?.reload();
  // Scavenges between changes rather than inside the next one (a large heap makes each one long).
  const afterServed = youngGenerationForChanges();
  // UPDATEs go before the zone snapshots' slices of work (foreground.ts).
  const foreground = new Foreground();
  const feed = await startZoneFeed(store, table, log, {
    foreground,
    // Zone snapshots: stored by the leader, or with --workers by the worker in slot 0 (the supervisor holds no zones).
    writeSnapshots: signs ? mayLead : cluster.isWorker && process.env.DMSD_WORKER_SLOT === '0' ? () => !workerFenced : () => false,
    // A large signed zone served whole once serving (its full sign ran after the start): the change path rehearsed
    // again, its code having sat through the sign's many collections (rehearsal.ts).
    ...(signer ? { onSignedWhole: (records: number) => serving && records >= REHEARSE_AFTER_RECORDS && requestRehearsal(log, store) } : {}),
    onKeys: () => keys.reload(),
    ...(afterServed ? { afterServed } : {}),
    ...(signer ? { signer } : {}),
    ...(acl ? { onAcl: (changed: boolean, zones: string[]) => acl.onFeed(changed, zones) } : {}),
  });
  // Key timings (rollovers) and signatures about to expire, checked every --dnssec-interval (60 s).
  const refreshTimer = signer ? setInterval(() => void signer.refreshAll(), (opts.dnssecInterval ?? 60) * 1000) : undefined;
  refreshTimer?.unref();
  const stop = async () => {
    if (refreshTimer) clearInterval(refreshTimer);
    await feed.stop();
    await signer?.pool?.close();
  };
  // A new leader signs what was published while no one led (and rebuilds its states from the stored rows).
  const signAll = async () => {
    for (const name of await services.signedZoneNames(services.serviceContext(store))) {
      if (!mayLead()) return;
      await feed.refresh(name).catch((e) => log.error({ zone: name, err: (e as Error).message }, 'cannot sign the published version'));
    }
  };
  return { stop, refresh: feed.refresh, keys, foreground, seq: () => feed.seq, ...(signer ? { signer, signAll } : {}) };
}

/**
 * Say once what UDP receive buffer the kernel granted against what was asked (Linux reports twice the usable size and
 * caps the request at net.core.rmem_max): under a flood it is what absorbs the moments dmsd is not running.
 */
function noteUdpRecvBuffer(listening: readonly Listening[], log: Logger): void {
  const l = listening.find((x) => x.proto === 'udp' && x.recvBuffer !== undefined);
  if (!l || l.recvBuffer === undefined || !l.recvBufferRequested) return;
  const granted = process.platform === 'linux' ? l.recvBuffer / 2 : l.recvBuffer;
  let rmemMax: number | undefined;
  try {
    rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    rmemMax = undefined;
  }
  const fields = { asked: l.recvBufferRequested, granted, ...(rmemMax !== undefined ? { rmemMax } : {}) };
  if (granted < l.recvBufferRequested)
    log.info(fields, `UDP receive buffer: ${granted} octets granted of ${l.recvBufferRequested} asked (net.core.rmem_max caps it; raise it for more)`);
  else log.info(fields, `UDP receive buffer: ${granted} octets`);
}

/**
 * Serve in this process until SIGTERM/SIGINT. `report` is told the bound addresses (cluster workers use it). With a
 * store, `supervisor` also runs the once-per-installation tasks (SIGHUP import, NOTIFY queue, vacuum).
 */
async function serve(opts: DmsdOptions, log: Logger, report?: Report, store?: Store, supervisor = true): Promise<void> {
  const table = new ZoneTable();
  // Issue 13: every dmsd serves; the once-only work (NOTIFY queue, server-group tasks, health checks, signing,
  // vacuum) runs in the one holding the leader lease (leader.ts), started and stopped as the lease comes and goes.
  let leadership: Leadership | undefined;
  const mayLead = () => leadership?.leading ?? false;
  // A replica's lag (seconds; 0 on a primary), measured by the leadership rounds (a --workers worker: told by its
  // supervisor): zones whose SOA EXPIRE it passed are answered SERVFAIL (replica-expiry.ts).
  let replicaLag = 0;
  let onReplicaLag = (_seconds: number): void => {};
  let filled: Awaited<ReturnType<typeof fillTable>> | undefined;
  let tasks: Awaited<ReturnType<typeof startLeaderTasks>> | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  if (store && supervisor) {
    leadership = await startLeadership(store, log, {
      ...(opts.peerDatabaseUrl ? { peerUrl: opts.peerDatabaseUrl } : {}),
      ...(opts.leaseIntervalMs ? { intervalMs: opts.leaseIntervalMs } : {}),
      onReplication: (st) => {
        replicaLag = st?.lagSeconds ?? 0;
        onReplicaLag(replicaLag);
      },
      onLead: async () => {
        await ready;
        if (!mayLead()) return;
        tasks = await startLeaderTasks(opts, log, store, (zone) => table.get(zone)?.soa, mayLead, servedView());
        // A NOTIFY waits until this process serves the version it announces: once it does, send without waiting; a
        // zone held back from the catalogs and NSD's configuration until served goes in now.
        table.onServed = (zone) => {
          tasks?.notifierServed();
          tasks?.sgServed(zone.origin.toString());
        };
        await filled?.signAll?.();
      },
      onStepDown: async () => {
        table.onServed = undefined;
        filled?.signer?.reset();
        const t = tasks;
        tasks = undefined;
        await t?.stop();
      },
    });
  }
  // allow-query lists (database only): loaded with the zones, followed through the change feed.
  const acl = store ? new DbQueryAcl(store, log) : undefined;
  // What this process serves is what the server groups' secondaries are told about (sg-tasks.ts).
  const servedView = (): ServedView | undefined => {
    const seq = filled?.seq;
    return seq ? { seq, has: (zone) => table.get(Name.from(zone)) !== undefined } : undefined;
  };
  try {
    filled = await fillTable(opts, log, table, store, supervisor, mayLead, acl);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot load the zones from the database');
    process.exit(1);
  }
  const protection = protectionConfigOrExit(opts, log);
  let rrl: ReturnType<typeof makeRateLimiter>;
  try {
    rrl = makeRateLimiter(opts.rrl, protection, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'bad response rate limiting settings');
    process.exit(1);
  }
  if (rrl && cluster.isWorker) reportRrlToSupervisor(rrl);
  const cookies = await startCookieSecrets(store, protection, log);
  const handler = new QueryHandler(table, {
    ...(acl ? { queryAcl: acl.lists } : {}),
    ...(rrl ? { rrl } : {}),
    cookieSecrets: cookies.get,
    ...serverIdentity(protection, os.hostname(), `DMS ${DMS_VERSION}`),
    tcpKeepaliveMs: opts.limits?.tcp?.tcpIdleMs ?? TCP_DEFAULTS.idleMs,
  });
  if (store) {
    onReplicaLag = replicaExpiry(handler, log);
    onReplicaLag(replicaLag);
    if (cluster.isWorker)
      process.on('message', (m: { type?: string; seconds?: number }) => {
        if (m?.type === 'replica-lag' && typeof m.seconds === 'number') onReplicaLag(m.seconds);
      });
  }
  const xfrLimited: Record<string, number> = {};
  if (store && filled.keys && filled.refresh) {
    const refresh = cluster.isWorker ? workerRefresh(filled.refresh, log) : filled.refresh;
    const fencedWhy = () => (leadership?.fenced || workerFenced ? 'fenced: this database is the old primary (a promoted replica runs at a newer epoch); send UPDATEs to the new primary' : undefined);
    attachDbPrimary(handler, table, store, filled.keys, log, refresh, {
      refuseUpdates: fencedWhy,
      foreground: filled.foreground,
      ...(opts.limits?.xfr ? { xfrLimits: opts.limits.xfr } : {}),
      onXfrLimited: (scope) => {
        xfrLimited[scope] = (xfrLimited[scope] ?? 0) + 1;
      },
      // A signed NOTIFY queued a git pull: the leader's event runner runs it now (a cluster worker asks its
      // supervisor, which runs the events; a dmsd not leading leaves it to the leader's next round, 250 ms at most).
      onGitPull: () => (tasks ? tasks.kickNotifier() : cluster.isWorker ? process.send?.({ type: 'run-events' }) : undefined),
    });
  }
  // The query counters of /metrics: kept only where the API runs (this process serving alone, with a database);
  // wrapped around the primary's routing (attachPrimary replaces handle), so UPDATE/NOTIFY/XFR are counted too.
  // The HTTP API's modules (fastify, prom-client, the JSON-RPC layer) are loaded only when it runs: a dmsd with
  // --no-http (or a --workers worker) starts faster and smaller (measured: 0.66 s and ~50 MB of the process's start).
  const httpModule = store && supervisor && opts.http !== undefined ? await import('./http.js') : undefined;
  const dns: DnsCounters | undefined = httpModule ? { ...httpModule.countQueries(handler), ...(rrl ? { rrl: () => rrl.snapshot() } : {}) } : undefined;
  // The signing process rehearses the change path on a throwaway zone before it takes UPDATEs (rehearsal.ts), so that
  // the first UPDATE of a signed zone does not wait for V8 to compile the code it runs (~0.2 s; 0.6 s beside a
  // signed zone of 1,000,000 records).
  if (store && filled.signer) await requestRehearsal(log, store);
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  try {
    server = await startDnsServer(table, log, { listen: opts.listen, handler, ...opts.limits?.tcp, ...opts.limits?.udp, ...(opts.udpIo ? { udpIo: opts.udpIo } : {}) });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot listen');
    process.exit(1);
  }
  if (dns) {
    dns.tcp = () => server.tcpStats();
    dns.xfrLimited = () => xfrLimited;
  }
  const reimport = store && supervisor ? reimporter(opts, log, store) : undefined;
  // After a burst (a flood, a fuzzer, a large transfer) the heap V8 grew for it is given back once traffic stops.
  startIdleMemoryReturn({
    trimNativeHeap,
    onCollect: (before, after, ms) =>
      log.debug({ heapBefore: before, heapAfter: after, ms: Math.round(ms) }, 'idle: heap collected after a busy period'),
    onSkip: (used, ms) =>
      log.debug({ heapUsed: used, estimatedMs: Math.round(ms) }, 'idle: heap not collected (the pause would be too long)'),
  });
  markReady();
  // A cluster worker tells the supervisor how far its zone table has followed the change feed: the supervisor lists
  // a new zone in the catalogs once every worker serves it.
  const workerSeq = filled.seq;
  if (cluster.isWorker && workerSeq) {
    let last = -1;
    setInterval(() => {
      const at = workerSeq();
      if (at !== last) process.send?.({ type: 'feed-seq', seq: at });
      last = at;
    }, 200).unref();
  }
  const bound = server.listening.map((l) => ({
    proto: l.proto,
    address: l.address,
    port: l.port,
    ...(l.recvBuffer !== undefined ? { recvBuffer: l.recvBuffer } : {}),
    ...(l.recvBufferRequested !== undefined ? { recvBufferRequested: l.recvBufferRequested } : {}),
    ...(l.udpIo !== undefined ? { udpIo: l.udpIo } : {}),
  }));
  if (report) report(bound);
  else for (const b of bound) log.info(b, 'listening');
  noteUdpRecvBuffer(server.listening, log);
  // The start-up load's garbage goes back once dmsd serves (a full collection of a large zone's heap takes tens of
  // milliseconds: the answers can wait for it, the start need not).
  const collected = collectAfterLoad(trimNativeHeap);
  if (collected) log.debug({ heapBefore: collected.before, heapAfter: collected.after, ms: Math.round(collected.ms) }, 'start-up load: heap collected');
  if (store && filled.signer) serving = true;
  const seq = filled.seq;
  const http =
    store && httpModule
      ? await startHttpOrExit(opts, store, log, {
          ...(seq ? { feed: httpModule.feedHealth(store, seq) } : {}),
          ...(dns ? { dns } : {}),
          // GET /config/<server>: what the leader's server-group tasks count as served (this dmsd's table otherwise).
          served: (zone: string) => tasks?.isServed?.(zone) ?? table.get(Name.from(zone)) !== undefined,
        })
      : undefined;
  const served = filled;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    (async () => {
      await http?.close();
      await server.close();
      await leadership?.stop();
      await reimport?.idle();
      cookies.stop();
      await served.stop();
      await store?.close();
    })()
      .catch((err) => log.error({ err: (err as Error).message }, 'error while stopping'))
      .finally(() => {
        log.info('stopped');
        process.exit(0);
      });
    // Do not hang on a stuck connection.
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP: without a database, read the zone directory again (each zone replaced atomically through the table);
  // with one, import --zones again (the feed then serves what changed).
  process.on('SIGHUP', () => {
    if (served.reload) served.reload();
    else reimport?.run();
  });
}

/** Before serving (once, in the supervising process): import --zones, or publish the example on an empty database. */
async function prepareDatabase(opts: DmsdOptions, log: Logger, store: Store): Promise<void> {
  if (opts.zones) {
    try {
      await importZoneDirectory(store, opts.zones, log, kekOf(opts));
    } catch (err) {
      log.fatal({ dir: opts.zones, err: (err as Error).message }, 'cannot read the zone directory');
      process.exit(1);
    }
  } else await publishExamplesIfEmpty(store, EXAMPLES_DIR, log);
}

/**
 * The leader's duties with a database (issue 13: one dmsd of those on a database runs them, leader.ts): the NOTIFY
 * queue, the server-group tasks and health checks, the daily vacuum. `active` is checked before every round.
 */
async function startLeaderTasks(
  opts: DmsdOptions,
  log: Logger,
  store: Store,
  soaOf: ((zone: Name) => RR | undefined) | undefined,
  active: () => boolean,
  served?: ServedView,
): Promise<{ kickNotifier: () => void; notifierServed: () => void; sgServed: (zone?: string) => void; isServed?: (zone: string) => boolean; stop: () => Promise<void> }> {
  const keys = new DbKeyStore(store, log);
  await keys.reload();
  // A new leader NOTIFYs every zone with targets once (as at start): a change committed while the old leader was
  // dying reaches the secondaries now, not at their next refresh. One event runner for NOTIFYs and git pushes/pulls
  // (issue 12). One process: NOTIFYs wait until it serves the announced serial; a cluster supervisor: until every
  // worker's feed is there.
  const notifier = await startNotifier(store, keys, log, {
    ...(soaOf ? { soaOf } : served && !served.has ? { servedSeq: served.seq } : {}),
    active,
    handlers: gitHandlers(store, log),
  });
  const gitTasks = await startGitTasks(store, log, notifier.kick);
  // Catalog zones and secondary configuration follow zone changes, batched (issue 11).
  const sgTasks = await startSgTasks(store, log, { healthIntervalMs: (opts.healthInterval ?? 60) * 1000, active, ...(served ? { served } : {}) });
  const stopVacuum = services.scheduleVacuum(services.serviceContext(store), {
    onResult: (r) => log.info({ result: r }, 'vacuum done'),
    onError: (e) => log.error({ err: (e as Error).message }, 'vacuum failed'),
  });
  return {
    kickNotifier: notifier.kick,
    notifierServed: notifier.served,
    sgServed: sgTasks.served,
    ...(sgTasks.isServed ? { isServed: sgTasks.isServed } : {}),
    stop: async () => {
      stopVacuum();
      await sgTasks.stop();
      await gitTasks.stop();
      await notifier.stop();
    },
  };
}

/** SIGHUP: import the --zones directory again (any dmsd on a primary database; the feed serves what changed). */
function reimporter(opts: DmsdOptions, log: Logger, store: Store): { run: () => void; idle: () => Promise<unknown> } {
  let importing: Promise<unknown> = Promise.resolve();
  const reimport = () => {
    if (!opts.zones) {
      log.info('SIGHUP: no --zones directory to import; zones follow the database');
      return;
    }
    const dir = opts.zones;
    log.info({ dir }, 'importing the zone directory (SIGHUP)');
    importing = importing
      .then(() => importZoneDirectory(store, dir, log, kekOf(opts)))
      .catch((err) => log.error({ dir, err: (err as Error).message }, 'cannot read the zone directory; zones unchanged'));
  };
  return { run: reimport, idle: () => importing };
}

/**
 * In a cluster worker: reload a zone here, then have the supervisor make every other worker reload it, and wait for
 * that (at most 2 s). Also answers the supervisor's requests to reload a zone another worker changed.
 */
function workerRefresh(local: ZoneFeed['refresh'], log: Logger): ZoneFeed['refresh'] {
  const waiting = new Map<number, () => void>();
  let seq = 0;
  process.on('message', (m: { type?: string; zone?: string; id?: string | number }) => {
    if (m?.type === 'zone-refresh' && m.zone !== undefined) {
      local(m.zone)
        .catch((err) => log.error({ zone: m.zone, err: (err as Error).message }, 'reload for another worker failed'))
        .finally(() => process.send?.({ type: 'zone-refreshed', id: m.id }));
    } else if (m?.type === 'zone-refresh-done' && typeof m.id === 'number') {
      waiting.get(m.id)?.();
    }
  });
  // The committing worker patches with what its commit changed; the others read the change from the database.
  return async (zone, committed) => {
    await local(zone, committed);
    if (!process.send) return;
    const id = ++seq;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve();
      }, 2500);
      waiting.set(id, () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      });
      process.send?.({ type: 'zone-refresh', zone, id });
    });
  };
}

/** In the primary with --workers N: pick concrete ports (so all workers share them), fork, supervise. */
async function resolvePorts(listen: ListenAddress[]): Promise<ListenAddress[]> {
  const out: ListenAddress[] = [];
  for (const at of listen) {
    if (at.port !== 0) {
      out.push(at);
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      const port = await freeUdpTcpPort(at.address).catch(() => undefined);
      if (port !== undefined) {
        out.push({ address: at.address, port });
        break;
      }
      if (attempt > 20) throw new Error(`no free port on ${at.address}`);
    }
  }
  return out;
}

function freeUdpTcpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    udp.once('error', reject);
    udp.bind({ address, port: 0, exclusive: true }, () => {
      const port = udp.address().port;
      const tcp = net.createServer();
      tcp.once('error', (err) => udp.close(() => reject(err)));
      tcp.listen({ host: address, port, exclusive: true }, () => {
        tcp.close(() => udp.close(() => resolve(port)));
      });
    });
  });
}

async function runPrimary(opts: DmsdOptions, log: Logger, store?: Store): Promise<void> {
  const listen = await resolvePorts(opts.listen);
  // Workers accept TCP connections themselves (no round-robin hop through the primary).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ silent: false });
  // "listening" is logged once every worker has bound, so a client starting on that line finds them all serving.
  let ready = 0;
  let stopping = false;
  let fenced = false;
  // The replica lag last told to the workers (they answer expired zones SERVFAIL).
  let lagTold = 0;
  // Without a database the workers share one cookie secret made here (with one, they read it from the database).
  if (!store) process.env.DMSD_COOKIE_SECRET ??= randomBytes(16).toString('hex');
  const env = { DMSD_WORKER_LISTEN: JSON.stringify(listen) };
  const rrlCounts = collectWorkerRrl();
  // Each worker's change-feed position; the zones every worker serves are what the secondaries are told about.
  const workerSeq = new Map<number, number>();
  const workersSeq = (): number | undefined => {
    const live = Object.values(cluster.workers ?? {}).filter((x): x is Worker => !!x && x.isConnected());
    if (live.length < opts.workers) return undefined;
    let min: number | undefined;
    for (const x of live) {
      const at = workerSeq.get(x.id);
      if (at === undefined) return undefined;
      min = min === undefined ? at : Math.min(min, at);
    }
    return min;
  };
  let tasks: Awaited<ReturnType<typeof startLeaderTasks>> | undefined;
  // Slot 0's worker (started again in the same slot when it dies) stores the zone snapshots (zone-snapshots.ts).
  const slotOf = new Map<number, number>();
  const fork = (slot: number): void => {
    const w = cluster.fork({ ...env, DMSD_WORKER_SLOT: String(slot) });
    slotOf.set(w.id, slot);
    w.on('message', (m: { type?: string; bound?: { proto: string; address: string; port: number }[]; zone?: string; id?: string | number; seq?: number; counts?: [string, number][] }) => {
      // A worker started while this dmsd is fenced refuses UPDATEs from the start.
      if (m?.type === 'listening' && fenced) w.send({ type: 'fenced', fenced });
      if (m?.type === 'listening' && lagTold !== 0) w.send({ type: 'replica-lag', seconds: lagTold });
      if (m?.type === 'rrl-counts' && Array.isArray(m.counts)) rrlCounts.note(w.id, m.counts);
      else if (m?.type === 'listening' && m.bound && ++ready === opts.workers) {
        for (const b of m.bound) log.info({ ...b, workers: opts.workers }, 'listening');
      } else if (m?.type === 'feed-seq' && typeof m.seq === 'number') {
        const before = workersSeq();
        workerSeq.set(w.id, m.seq);
        if (workersSeq() !== before) tasks?.sgServed();
      } else if (m?.type === 'zone-refresh' && m.zone !== undefined && m.id !== undefined) relayRefresh(w, m.zone, m.id);
      else if (m?.type === 'zone-refreshed' && typeof m.id === 'string') refreshed(m.id);
      else if (m?.type === 'run-events') tasks?.kickNotifier();
    });
  };
  // A worker that committed an UPDATE asks, through us, every other worker to load the zone now, and answers the
  // client once they all have (or after 2 s): a client reading right after NOERROR sees its change on any worker.
  const relays = new Map<string, { left: number; origin: Worker; id: string | number; timer: NodeJS.Timeout }>();
  let relaySeq = 0;
  const finishRelay = (key: string) => {
    const r = relays.get(key);
    if (!r) return;
    relays.delete(key);
    clearTimeout(r.timer);
    if (r.origin.isConnected()) r.origin.send({ type: 'zone-refresh-done', id: r.id });
  };
  const relayRefresh = (origin: Worker, zone: string, id: string | number) => {
    const others = Object.values(cluster.workers ?? {}).filter((x): x is Worker => !!x && x !== origin && x.isConnected());
    const key = `r${++relaySeq}`;
    relays.set(key, { left: others.length, origin, id, timer: setTimeout(() => finishRelay(key), 2000) });
    if (others.length === 0) finishRelay(key);
    for (const o of others) o.send({ type: 'zone-refresh', zone, id: key });
  };
  const refreshed = (key: string) => {
    const r = relays.get(key);
    if (r && --r.left <= 0) finishRelay(key);
  };
  for (let i = 0; i < opts.workers; i++) fork(i);
  const reimport = store ? reimporter(opts, log, store) : undefined;
  // The leader's work runs here, once for all workers, while this dmsd holds the lease (issue 13): NOTIFYs, server
  // groups, vacuum, and signing (the workers serve the signed versions it stores).
  if (store) {
    const ctx = services.serviceContext(store, { kek: kekOf(opts), actor: 'dmsd signer' });
    const signer = newSigner(opts, ctx, log);
    signer.pool = new SignPool({ ...(opts.signingThreads ? { size: opts.signingThreads } : {}), afterIdleStop: trimNativeHeap });
    let leadership: Leadership | undefined;
    const mayLead = () => leadership?.leading ?? false;
    signer.mayAct = mayLead;
    let stopSigning: (() => Promise<void>) | undefined;
    leadership = await startLeadership(store, log, {
      ...(opts.peerDatabaseUrl ? { peerUrl: opts.peerDatabaseUrl } : {}),
      ...(opts.leaseIntervalMs ? { intervalMs: opts.leaseIntervalMs } : {}),
      onReplication: (st) => {
        const seconds = st?.lagSeconds ?? 0;
        if (seconds === lagTold) return;
        lagTold = seconds;
        for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ type: 'replica-lag', seconds });
      },
      onFenced: (f) => {
        fenced = f;
        for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ type: 'fenced', fenced: f });
      },
      onLead: async () => {
        tasks = await startLeaderTasks(opts, log, store, undefined, mayLead, { seq: workersSeq });
        stopSigning = await startSigningFeed(ctx, signer, log);
      },
      onStepDown: async () => {
        signer.reset();
        const [t, s] = [tasks, stopSigning];
        tasks = undefined;
        stopSigning = undefined;
        await t?.stop();
        await s?.();
      },
    });
    setInterval(() => void signer.refreshAll(), (opts.dnssecInterval ?? 60) * 1000).unref();
  }
  // The API runs here, beside the workers; /health then checks the database (each worker follows the feed itself).
  const http = store ? await startHttpOrExit(opts, store, log, { served: (zone: string) => tasks?.isServed?.(zone) ?? true, dns: { rrl: rrlCounts.counts } }) : undefined;
  cluster.on('exit', (w, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('stopped');
        process.exit(0);
      }
      return;
    }
    workerSeq.delete(w.id);
    log.error({ worker: w.id, code, signal }, 'worker exited; starting another');
    const slot = slotOf.get(w.id) ?? 0;
    slotOf.delete(w.id);
    setTimeout(() => fork(slot), 500);
  });
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    http?.close().catch(() => {});
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    // With a database the supervisor imports and the workers' feeds pick it up; without, each worker rereads the files.
    if (reimport) reimport.run();
    else for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}

/** Start the HTTP API when --http says so; a failure to listen on an address the operator named is fatal. */
async function startHttpOrExit(
  opts: DmsdOptions,
  store: Store,
  log: Logger,
  o: Parameters<typeof startDmsdHttp>[3],
): Promise<Awaited<ReturnType<typeof startDmsdHttp>>> {
  if (opts.http === undefined) return undefined;
  try {
    const { startDmsdHttp } = await import('./http.js');
    return await startDmsdHttp(opts, store, log, { ...o, version: DMS_VERSION });
  } catch (err) {
    log.fatal({ err: (err as Error).message, http: opts.http }, 'cannot start the HTTP API');
    process.exit(1);
  }
}

const DMS_VERSION = '0.1.0';

async function openStoreOrExit(opts: DmsdOptions, log: Logger): Promise<Store> {
  try {
    const store = await openDmsdStore(storeLocation(opts));
    log.info({ database: store.location, kind: store.kind }, 'database opened');
    return store;
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot open the database');
    process.exit(1);
  }
}

/**
 * DNSSEC keys in the database need the key-encryption key that sealed them: without it (or with another one) dmsd
 * stops at start with the reason, rather than serve the zones unsigned or sign them with new keys (issue 9).
 */
async function checkKekOrExit(opts: DmsdOptions, log: Logger, store: Store): Promise<void> {
  try {
    const r = await services.checkDnssecKek(services.serviceContext(store, { kek: kekOf(opts) }));
    if (r.keys > 0) log.info({ keys: r.keys, kek: r.kekId }, 'DNSSEC key-encryption key loaded');
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot use the DNSSEC keys');
    process.exit(1);
  }
}

/** In a --workers worker: the supervisor's fencing verdict (leader.ts), told by message; UPDATEs refused while set. */
let workerFenced = false;
if (cluster.isWorker)
  process.on('message', (m: { type?: string; fenced?: boolean }) => {
    if (m?.type === 'fenced') workerFenced = m.fenced === true;
  });

export async function main(argv: string[]): Promise<void> {
  const opts = parseArgs(argv);
  const log = makeLogger(opts.logLevel);
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
  // Before any large buffer is made: the memory a load frees goes back to the system (listeners.ts).
  fixMmapThreshold();
  if (cluster.isWorker) {
    const listen = JSON.parse(process.env.DMSD_WORKER_LISTEN ?? '[]') as ListenAddress[];
    const wlog = log.child({ worker: cluster.worker?.id });
    const store = opts.database ? await openStoreOrExit(opts, wlog) : undefined;
    await serve({ ...opts, listen }, wlog, (bound) => process.send?.({ type: 'listening', bound }), store, false);
    return;
  }
  log.info(
    { zones: opts.zones ?? (opts.database ? undefined : EXAMPLES_DIR), data: opts.data, workers: opts.workers, node: process.version },
    'dmsd starting',
  );
  if (!opts.database) log.info({ dir: opts.zones ?? EXAMPLES_DIR }, 'serving the zone files directly, without a database (name --data DIR to import them)');
  // Bad rrl_* / dns_cookie* settings stop dmsd here, before any worker is forked (a worker exiting is restarted).
  try {
    makeRateLimiter(opts.rrl, protectionConfigOrExit(opts, log), log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'bad response rate limiting settings');
    process.exit(1);
  }
  if (!opts.database && opts.http !== undefined && !opts.httpDefault) log.warn({ flag: '--http' }, 'the HTTP API needs the database: not started with --no-database');
  let store: Store | undefined;
  if (opts.database) {
    store = await openStoreOrExit(opts, log);
    await checkKekOrExit(opts, log, store);
    // A hot standby (issue 13) cannot be written: nothing is imported; it serves what the primary replicates.
    if (await services.isReplica(services.serviceContext(store)).catch(() => false))
      log.warn({ database: store.location }, 'the database is a hot standby: serving read-only (changes are refused until promote_replica); --zones not imported');
    else await prepareDatabase(opts, log, store);
  }
  if (opts.workers > 1) await runPrimary(opts, log, store);
  else await serve(opts, log, undefined, store, true);
}

// Run when executed directly (node --import tsx src/daemon/main.ts); bin/dmsd imports main() from the build instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
