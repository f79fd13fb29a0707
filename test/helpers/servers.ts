// Start real DNS servers for tests on free loopback ports: knotd and named (the references) and dmsd (ours).
// Every server runs in its own temporary directory and is killed by stop(); the directory is removed.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { query } from './dns-client.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export interface ZoneSpec {
  name: string;
  file: string;
}

export interface RunningServer {
  label: string;
  port: number;
  /** TCP port; the same as `port` for the reference servers. */
  tcpPort: number;
  pid: number;
  proc: ChildProcess;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Is an executable on PATH (or an absolute path)? */
export function haveProgram(prog: string): boolean {
  if (prog.includes('/')) return existsSync(prog);
  const r = spawnSync('sh', ['-c', `command -v ${prog}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

function bindUdp(port: number): Promise<dgram.Socket | undefined> {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      res(undefined);
    });
    s.bind(port, '127.0.0.1', () => res(s));
  });
}

function bindTcp(port: number): Promise<net.Server | undefined> {
  return new Promise((res) => {
    const s = net.createServer();
    s.once('error', () => res(undefined));
    s.listen(port, '127.0.0.1', () => res(s));
  });
}

/** A port free on 127.0.0.1 for both UDP and TCP at the time of the call. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const t = await bindTcp(0);
    if (!t) continue;
    const port = (t.address() as net.AddressInfo).port;
    const u = await bindUdp(port);
    await new Promise<void>((r) => t.close(() => r()));
    if (u) {
      await new Promise<void>((r) => u.close(() => r()));
      return port;
    }
  }
  throw new Error('no free port found on 127.0.0.1');
}

/** Everything `proc` printed so far; beyond `max` characters only the last half of that is kept. */
export function collect(proc: ChildProcess, max = 200_000): () => string {
  let out = '';
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > max) out = out.slice(-max / 2);
  };
  proc.stdout?.on('data', add);
  proc.stderr?.on('data', add);
  return () => out;
}

/** SIGTERM (SIGKILL after `killAfterMs`), wait for the exit, then remove `dir`. */
export function stopper(proc: ChildProcess, dir?: string, killAfterMs = 3000): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(t);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

/** A child process, what it printed so far, and its stop (see `stopper`). */
export interface LoggedProcess {
  proc: ChildProcess;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnLoggedOptions {
  cwd?: string;
  /** The process's own temporary directory, removed by stop(). */
  dir?: string;
  killAfterMs?: number;
  /** See `collect`. */
  maxOutput?: number;
}

/** Spawn `cmd` with its output collected (stdin closed). */
export function spawnLogged(cmd: string, args: string[], opts: SpawnLoggedOptions = {}): LoggedProcess {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  return { proc, pid: proc.pid!, output: collect(proc, opts.maxOutput), stop: stopper(proc, opts.dir, opts.killAfterMs) };
}

/** Wait until the server answers a SOA query for every zone authoritatively over UDP. */
async function waitReady(port: number, zones: string[], proc: ChildProcess, output: () => string, label: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(zones);
  while (pending.size > 0) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${label} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`${label} not ready after ${timeoutMs} ms (zones ${[...pending].join(', ')}):\n${output()}`);
    for (const z of [...pending]) {
      try {
        const a = await query(port, { name: Name.from(z), type: RRType.SOA }, 300);
        if (a.msg?.aa && a.msg.answer.some((rr) => rr.type === RRType.SOA)) pending.delete(z);
      } catch {
        // not listening yet
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
}

export interface KnotOptions {
  /** Extra lines appended to the `server:` section (indented by the caller's text as-is). */
  serverExtra?: string[];
  /** Run knotd through `taskset -c CPU`. */
  cpu?: string;
  udpWorkers?: number;
  tcpWorkers?: number;
  /** knotd's log level on stderr (default info). */
  logLevel?: string;
  port?: number;
  /** Skip the readiness wait (the caller measures loading itself). */
  noWait?: boolean;
  readyTimeoutMs?: number;
}

/** The `server:`, `log:` (stderr) and `database:` sections of a knotd on 127.0.0.1@`port` keeping everything in `dir`. */
export function knotServerConf(dir: string, port: number, opts: Pick<KnotOptions, 'serverExtra' | 'udpWorkers' | 'tcpWorkers' | 'logLevel'> = {}): string[] {
  return [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    `    udp-workers: ${opts.udpWorkers ?? 1}`,
    `    tcp-workers: ${opts.tcpWorkers ?? 1}`,
    '    background-workers: 1',
    ...(opts.serverExtra ?? []).map((l) => `    ${l}`),
    'log:',
    '  - target: stderr',
    `    any: ${opts.logLevel ?? 'info'}`,
    'database:',
    `    storage: "${dir}"`,
  ];
}

export function knotConf(dir: string, port: number, zones: ZoneSpec[], opts: KnotOptions = {}): string {
  const lines = [
    ...knotServerConf(dir, port, opts),
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    semantic-checks: off',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...zones.flatMap((z) => [`  - domain: "${z.name}"`, `    file: "${resolve(z.file)}"`]),
  ];
  return `${lines.join('\n')}\n`;
}

export async function startKnotd(zones: ZoneSpec[], opts: KnotOptions = {}): Promise<RunningServer> {
  if (!haveProgram('knotd')) throw new Error('knotd is not installed: apt-get install knot knot-dnsutils');
  const dir = mkdtempSync(join(tmpdir(), 'dms-knotd-'));
  const port = opts.port ?? (await freePort());
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, knotConf(dir, port, zones, opts));
  const [cmd, args] = opts.cpu ? ['taskset', ['-c', opts.cpu, 'knotd', '-c', conf]] : ['knotd', ['-c', conf]];
  const { proc, pid, output, stop } = spawnLogged(cmd, args, { dir });
  const srv: RunningServer = { label: 'knotd', port, tcpPort: port, pid, proc, output, stop };
  if (!opts.noWait) {
    try {
      await waitReady(port, zones.map((z) => z.name), proc, output, 'knotd', opts.readyTimeoutMs);
    } catch (e) {
      await srv.stop();
      throw e;
    }
  }
  return srv;
}

/**
 * The `options` and `controls` of a named on 127.0.0.1 port `port` keeping everything in `dir`: authoritative only,
 * sending no NOTIFY of its own, no control channel. `extra` options are added as they are.
 */
export function namedOptions(dir: string, port: number, extra: string[] = []): string[] {
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  notify no;',
    '  dnssec-validation no;',
    ...extra.map((l) => `  ${l}`),
    '};',
    'controls { };',
  ];
}

export async function startNamed(zones: ZoneSpec[]): Promise<RunningServer> {
  if (!haveProgram('named')) throw new Error('named is not installed: apt-get install bind9');
  const dir = mkdtempSync(join(tmpdir(), 'dms-named-'));
  const port = await freePort();
  const conf = join(dir, 'named.conf');
  const text = [
    ...namedOptions(dir, port, [
      'check-names primary ignore;',
      'check-integrity no;',
      'check-mx ignore;',
      'check-wildcard no;',
      'check-sibling no;',
      'minimal-responses no-auth;',
      'minimal-any yes;',
    ]),
    ...zones.map((z) => `zone "${z.name}" { type primary; file "${resolve(z.file)}"; };`),
    '',
  ].join('\n');
  writeFileSync(conf, text);
  const { proc, pid, output, stop } = spawnLogged('named', ['-g', '-c', conf, '-n', '1'], { dir });
  const srv: RunningServer = { label: 'named', port, tcpPort: port, pid, proc, output, stop };
  try {
    await waitReady(port, zones.map((z) => z.name), proc, output, 'named');
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}

export interface DmsdOptions {
  workers?: number | 'auto';
  extraArgs?: string[];
  /** Run the compiled dist/daemon/main.js instead of the TypeScript source through tsx. */
  compiled?: boolean;
  readyTimeoutMs?: number;
}

/** Where dmsd can be run from, or undefined when it does not exist yet. */
export function dmsdEntry(compiled = false): string | undefined {
  const src = join(REPO_ROOT, 'src', 'daemon', 'main.ts');
  const dist = join(REPO_ROOT, 'dist', 'daemon', 'main.js');
  if (compiled) return existsSync(dist) ? dist : undefined;
  return existsSync(src) ? src : existsSync(dist) ? dist : undefined;
}

/** Start dmsd serving every file in `zonesDir` (file name = zone name); ports come from its JSON "listening" logs. */
export async function startDmsd(zonesDir: string, zoneNames: string[], opts: DmsdOptions = {}): Promise<RunningServer> {
  const entry = dmsdEntry(opts.compiled);
  if (!entry) throw new Error('dmsd not found: neither src/daemon/main.ts nor dist/daemon/main.js exists');
  const args = [
    ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
    entry,
    '--no-database', // fixture zones are served as files: the harness compares the serving core, not the import
    '--zones', zonesDir,
    '--listen', '127.0.0.1:0',
    ...(opts.workers !== undefined ? ['--workers', String(opts.workers)] : []),
    ...(opts.extraArgs ?? []),
  ];
  const { proc, pid, output, stop } = spawnLogged(process.execPath, args, { cwd: REPO_ROOT });
  const ports = await new Promise<{ udp: number; tcp: number }>((res, rej) => {
    const found: { udp?: number; tcp?: number } = {};
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`dmsd did not log its listening ports in time:\n${output()}`)), opts.readyTimeoutMs ?? 30000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        try {
          const j = JSON.parse(line) as { msg?: string; proto?: string; port?: number };
          if (j.msg === 'listening' && typeof j.port === 'number') {
            if (j.proto === 'udp') found.udp = j.port;
            else if (j.proto === 'tcp') found.tcp = j.port;
          }
        } catch {
          // not a JSON line
        }
        if (found.udp !== undefined && found.tcp !== undefined) {
          clearTimeout(timer);
          res({ udp: found.udp, tcp: found.tcp });
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (c, s) => {
      clearTimeout(timer);
      rej(new Error(`dmsd exited (${c ?? s}) before listening:\n${output()}`));
    });
  });
  const srv: RunningServer = { label: 'dmsd', port: ports.udp, tcpPort: ports.tcp, pid, proc, output, stop };
  try {
    await waitReady(ports.udp, zoneNames, proc, output, 'dmsd');
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}
