// dmsd: the DMS authoritative DNS server. This file parses flags, sets up logging, loads zones and starts the
// listeners (in this process, or in node:cluster workers sharing the sockets with --workers). SIGHUP reloads the
// zone directory; SIGTERM/SIGINT stop cleanly.

import cluster from 'node:cluster';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import pino, { type Logger } from 'pino';
import type { ListenAddress } from '../server/listeners.js';
import { parseListenAddress, startDnsServer } from '../server/server.js';
import { loadZoneDirectory } from '../server/zonedir.js';
import { Name } from '../dns/name.js';
import { ZoneTable } from '../zone/table.js';

export interface DmsdOptions {
  zones?: string;
  listen: ListenAddress[];
  data: string;
  workers: number;
  logLevel: string;
  databaseUrl?: string;
  config?: string;
  http?: string;
}

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

function parseWorkers(value: string): number {
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError('expected a positive integer or "auto"');
  return n;
}

export function buildCommand(): Command {
  return new Command()
    .name('dmsd')
    .description('DMS authoritative DNS server')
    .option('--zones <dir>', 'serve the zone files of this directory (one file per zone, file name = zone name, optional ".zone" suffix); default: the shipped examples/')
    .option('--listen <addr:port>', 'DNS address to serve on UDP and TCP, repeatable; IPv6 as [::1]:53; port 0 picks a free port (logged) (default: 127.0.0.1:5353)', collectListen)
    .option('--data <dir>', 'state directory', './data')
    .option('--workers <n>', 'serving processes (node:cluster workers sharing the sockets); "auto" = one per core', parseWorkers, 1)
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--database-url <url>', 'database URL (also DMS_DATABASE_URL); reserved: used by the zone database feature')
    .option('--config <file>', 'configuration file; reserved: used by a later feature')
    .option('--http <addr:port>', 'JSON-RPC/HTTP API address; reserved: used by the API feature')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', '\nSignals: SIGHUP reloads the zone directory; SIGTERM or SIGINT stops cleanly.\nLogs: JSON lines (pino) on stdout; {"msg":"listening","proto":"udp"|"tcp","address":...,"port":...} per socket.')
    .allowExcessArguments(false);
}

export function parseArgs(argv: string[]): DmsdOptions {
  const cmd = buildCommand();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts();
  if (!LOG_LEVELS.includes(o.logLevel)) {
    cmd.error(`error: option '--log-level <level>' must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    zones: o.zones,
    listen: o.listen ?? [{ address: '127.0.0.1', port: 5353 }],
    data: o.data,
    workers: o.workers,
    logLevel: o.logLevel,
    databaseUrl: o.databaseUrl ?? process.env.DMS_DATABASE_URL,
    config: o.config,
    http: o.http,
  };
}

function makeLogger(level: string): Logger {
  return pino({ level, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Load the zone directory into `table`, logging each zone and each problem. On a reload, a zone whose file now has
 * errors keeps being served in its previous version; a zone whose file is gone stops being served.
 */
function loadZones(dir: string, log: Logger, table: ZoneTable, fromDir: Set<string>): void {
  const seen = new Set<string>();
  for (const r of loadZoneDirectory(dir)) {
    seen.add(r.origin);
    for (const p of r.problems) {
      const entry = { file: p.file, line: p.line, column: p.column, zone: r.origin };
      if (p.severity === 'error') log.error(entry, p.message);
      else log.warn(entry, p.message);
    }
    if (r.zone) {
      table.set(r.zone);
      fromDir.add(r.origin);
      log.info({ zone: r.origin, serial: r.zone.serial, names: r.zone.nodes.size, file: r.file }, 'zone loaded');
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
}

/** Serve in this process until SIGTERM/SIGINT. `report` is told the bound addresses (cluster workers use it). */
async function serve(opts: DmsdOptions, log: Logger, report?: (l: { proto: string; address: string; port: number }[]) => void): Promise<void> {
  const dir = opts.zones ?? EXAMPLES_DIR;
  const table = new ZoneTable();
  const fromDir = new Set<string>();
  try {
    loadZones(dir, log, table, fromDir);
  } catch (err) {
    log.fatal({ dir, err: (err as Error).message }, 'cannot read the zone directory');
    process.exit(1);
  }
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  try {
    server = await startDnsServer(table, log, { listen: opts.listen });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot listen');
    process.exit(1);
  }
  const bound = server.listening.map((l) => ({
    proto: l.proto,
    address: l.address,
    port: l.port,
    ...(l.recvBuffer !== undefined ? { recvBuffer: l.recvBuffer } : {}),
  }));
  if (report) report(bound);
  else for (const b of bound) log.info(b, 'listening');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(() => {
      log.info('stopped');
      process.exit(0);
    });
    // Do not hang on a stuck connection.
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP: read the zone directory again (each zone replaced atomically through the table).
  process.on('SIGHUP', () => {
    log.info({ dir }, 'reloading zones (SIGHUP)');
    try {
      loadZones(dir, log, table, fromDir);
    } catch (err) {
      log.error({ dir, err: (err as Error).message }, 'cannot read the zone directory; zones unchanged');
    }
  });
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

async function runPrimary(opts: DmsdOptions, log: Logger): Promise<void> {
  const listen = await resolvePorts(opts.listen);
  // Workers accept TCP connections themselves (no round-robin hop through the primary).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ silent: false });
  // "listening" is logged once every worker has bound, so a client starting on that line finds them all serving.
  let ready = 0;
  let stopping = false;
  const env = { DMSD_WORKER_LISTEN: JSON.stringify(listen) };
  const fork = (): void => {
    const w = cluster.fork(env);
    w.on('message', (m: { type?: string; bound?: { proto: string; address: string; port: number }[] }) => {
      if (m?.type === 'listening' && m.bound && ++ready === opts.workers) {
        for (const b of m.bound) log.info({ ...b, workers: opts.workers }, 'listening');
      }
    });
  };
  for (let i = 0; i < opts.workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('stopped');
        process.exit(0);
      }
      return;
    }
    log.error({ worker: w.id, code, signal }, 'worker exited; starting another');
    setTimeout(fork, 500);
  });
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}

export async function main(argv: string[]): Promise<void> {
  const opts = parseArgs(argv);
  const log = makeLogger(opts.logLevel);
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
  if (cluster.isWorker) {
    const listen = JSON.parse(process.env.DMSD_WORKER_LISTEN ?? '[]') as ListenAddress[];
    await serve({ ...opts, listen }, log.child({ worker: cluster.worker?.id }), (bound) =>
      process.send?.({ type: 'listening', bound }),
    );
    return;
  }
  log.info(
    { zones: opts.zones ?? EXAMPLES_DIR, data: opts.data, workers: opts.workers, node: process.version },
    'dmsd starting',
  );
  for (const [flag, v] of [['--database-url', opts.databaseUrl], ['--config', opts.config], ['--http', opts.http]] as const)
    if (v !== undefined) log.warn({ flag }, 'flag accepted but not used yet');
  if (opts.workers > 1) await runPrimary(opts, log);
  else await serve(opts, log);
}

// Run when executed directly (node --import tsx src/cli/dmsd.ts); bin/dmsd imports main() from the build instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
