// Test support for the Let's Encrypt DNS-01 proofs: the ACME test CA `pebble` and the ACME client `lego` (both real
// programs from Debian), a TLS certificate for pebble's HTTPS API made with openssl, and the recursive resolver
// `unbound` in front of one authoritative server (what Let's Encrypt asks: it follows a CNAME into another zone, which
// authoritative servers like ours and Knot answer with the CNAME alone).
// Also shared with the crash test: dmsd (or another server process) on a data directory, and zone_tool runs.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { keyFromText, type TsigAlgorithm, type TsigKey } from '../../src/dns/tsig.js';
import type { RunResult } from './xfr.support.js';
import { dmsdEntry, freePort, haveProgram, REPO_ROOT } from './servers.js';

export interface TlsFiles {
  /** The CA certificate lego must trust (LEGO_CA_CERTIFICATES). */
  caCert: string;
  /** pebble's server certificate (for 127.0.0.1 and localhost) and its key. */
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A throw-away CA and a server certificate it signed, for pebble's HTTPS listener (the Debian package ships none). */
export function makeTlsFiles(dir: string): TlsFiles {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert,
    '-days', '2', '-subj', '/CN=DMS test CA for pebble', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { caCert, cert, key };
}

/** Everything a child process printed so far, and a way to kill it and wait for the exit. */
export interface Child {
  proc: ChildProcess;
  output(): string;
  /** Kill (SIGKILL unless told otherwise; SIGTERM lets dmsd stop its cluster workers) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function watchChild(proc: ChildProcess): Child {
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) res();
    else proc.once('exit', () => res());
  });
  return {
    proc,
    output: () => out,
    stop: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        // a graceful stop that hangs still ends
        const force = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      await exited;
    },
  };
}

/** Resolve once `pattern` appears in the child's output; reject when it exits first or after `ms`. */
export function waitForOutput(child: Child, pattern: RegExp, ms: number, what: string): Promise<void> {
  return new Promise((res, rej) => {
    const check = () => {
      if (pattern.test(child.output())) {
        done();
        res();
      }
    };
    const onExit = () => {
      done();
      rej(new Error(`${what} exited before it was ready:\n${child.output()}`));
    };
    const timer = setTimeout(() => {
      done();
      rej(new Error(`${what} not ready after ${ms} ms:\n${child.output()}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', check);
      child.proc.stderr?.off('data', check);
      child.proc.off('exit', onExit);
    };
    child.proc.stdout?.on('data', check);
    child.proc.stderr?.on('data', check);
    child.proc.once('exit', onExit);
    check();
  });
}

export const ZONE_TOOL = join(REPO_ROOT, 'bin', 'zone_tool');
/** Stand-in for dmsd serving from the database (see the file). */
export const DURABLE_PRIMARY = join(REPO_ROOT, 'test', 'fixtures', 'acme', 'durable-primary.ts');

/** Where the database is: a data directory (SQLite), or a PostgreSQL URL. */
export type StoreLocation = string | { dataDir: string; databaseUrl?: string };

/** The global options of zone_tool and dmsd selecting that database. */
export function storeArgs(where: StoreLocation): string[] {
  if (typeof where === 'string') return ['--data', where];
  return ['--data', where.dataDir, ...(where.databaseUrl ? ['--database-url', where.databaseUrl] : [])];
}

/** Run bin/zone_tool on the database; returns stdout, throws with the output on a non-zero exit. */
export function zoneTool(where: StoreLocation, args: string[]): string {
  const r = spawnSync(process.execPath, [ZONE_TOOL, ...storeArgs(where), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DMS_CHANGE_BY: 'tester@test/Admin' },
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Create a TSIG key in the database with zone_tool and return it (the secret is read from the command's output:
 * a BIND key block `secret "…";` or `-y` text `alg:name:secret`).
 */
export function zoneToolKey(where: StoreLocation, name: string, algorithm: TsigAlgorithm = 'hmac-sha256'): TsigKey {
  const out = zoneTool(where, ['generate_tsig_key', name, algorithm]);
  const secret = /secret\s+"?([A-Za-z0-9+/=]{16,})"?/.exec(out)?.[1] ?? /:([A-Za-z0-9+/=]{16,})\s*$/m.exec(out)?.[1];
  if (!secret) throw new Error(`no secret in the output of generate_tsig_key:\n${out}`);
  return keyFromText(`${algorithm}:${name}:${secret}`);
}

/**
 * Start dmsd on the database, listening on a free port of 127.0.0.1. The build (dist/, made by `npm test`) is
 * preferred, as for bin/zone_tool: it starts in a third of the time of the source through tsx, which matters when
 * a test restarts dmsd again and again; without a build the source is run.
 */
export function startDmsdOn(where: StoreLocation, extra: string[] = []): Promise<Server> {
  const entry = dmsdEntry(true) ?? dmsdEntry();
  if (!entry) throw new Error('dmsd not found: neither dist/daemon/main.js nor src/daemon/main.ts exists');
  return spawnServer([...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, ...storeArgs(where), '--listen', '127.0.0.1:0', ...extra], 'dmsd');
}

/** A DNS server process (dmsd or the stand-in): UDP and TCP ports from its JSON "listening" log lines. */
export interface Server extends Child {
  port: number;
  tcpPort: number;
}

/** Spawn a server and wait for its JSON "listening" lines (udp and tcp). */
export async function spawnServer(args: string[], what: string): Promise<Server> {
  const child = watchChild(spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const ports = await new Promise<{ udp: number; tcp: number }>((res, rej) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not report its ports:\n${child.output()}`)), 30_000);
    const onExit = () => fail(new Error(`${what} exited before listening:\n${child.output()}`));
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.proc.stdout?.off('data', scan);
      child.proc.off('exit', onExit);
      rej(e);
    };
    const scan = () => {
      const found: Record<string, number> = {};
      for (const line of child.output().split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; proto?: string; port?: number };
          if (j.msg === 'listening' && typeof j.port === 'number' && j.proto) found[j.proto] = j.port;
        } catch {
          // not a JSON line
        }
      }
      if (found.udp !== undefined && found.tcp !== undefined) {
        clearTimeout(timer);
        child.proc.stdout?.off('data', scan);
        child.proc.off('exit', onExit);
        res({ udp: found.udp, tcp: found.tcp });
      }
    };
    child.proc.stdout?.on('data', scan);
    child.proc.once('exit', onExit);
  });
  return { ...child, port: ports.udp, tcpPort: ports.tcp };
}

export interface Pebble extends Child {
  /** The ACME directory URL for lego's --server. */
  directory: string;
  /** pebble's management API (https; /roots/0 is the root of the certificates it issues). */
  management: string;
}

/**
 * Start pebble with its DNS-01 validation resolving through `dnsPort` on 127.0.0.1. Validation is real
 * (PEBBLE_VA_ALWAYS_VALID is removed from the environment), without pebble's random sleeps and nonce rejections.
 */
export async function startPebble(dir: string, tls: TlsFiles, dnsPort: number): Promise<Pebble> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const mgmt = await freePort();
    const config = join(dir, `pebble-${port}.json`);
    writeFileSync(config, JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: tls.cert,
        privateKey: tls.key,
        // HTTP-01/TLS-ALPN-01 are not used; ports nobody listens on keep them from reaching anything.
        httpPort: 9,
        tlsPort: 9,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }));
    const env: NodeJS.ProcessEnv = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };
    delete env.PEBBLE_VA_ALWAYS_VALID;
    const child = watchChild(spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitForOutput(child, new RegExp(`Listening on: 127\\.0\\.0\\.1:${port}`), 15000, 'pebble');
      return { ...child, directory: `https://127.0.0.1:${port}/dir`, management: `https://127.0.0.1:${mgmt}` };
    } catch (e) {
      await child.stop();
      if (!/address already in use/i.test(child.output())) throw e;
    }
  }
  throw new Error('pebble: no free port');
}

export interface LegoRun {
  /** lego's working directory (--path): certificates/<domain>.crt after a success. */
  path: string;
  server: string;
  caCert: string;
  domains: string[];
  /** The DNS server for the rfc2136 updates and for lego's own lookups. */
  dnsPort: number;
  tsig: { name: string; algorithm: string; secretBase64: string };
  timeoutMs?: number;
}

/** `lego run` with the rfc2136 provider; never throws for a non-zero exit. */
export function runLego(o: LegoRun): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEGO_CA_CERTIFICATES: o.caCert,
    RFC2136_NAMESERVER: `127.0.0.1:${o.dnsPort}`,
    RFC2136_TSIG_KEY: o.tsig.name,
    RFC2136_TSIG_ALGORITHM: `${o.tsig.algorithm}.`,
    RFC2136_TSIG_SECRET: o.tsig.secretBase64,
    RFC2136_TTL: '60',
    RFC2136_POLLING_INTERVAL: '1',
    RFC2136_PROPAGATION_TIMEOUT: '20',
    RFC2136_DNS_TIMEOUT: '5',
    // lego follows a CNAME on _acme-challenge.<domain> (the OCF layout) unless this is true.
    LEGO_DISABLE_CNAME_SUPPORT: 'false',
  };
  const args = [
    '--accept-tos', '--email', 'hostmaster@example.org', '--server', o.server, '--path', o.path, '--key-type', 'ec256',
    '--dns', 'rfc2136', '--dns.resolvers', `127.0.0.1:${o.dnsPort}`,
    // The complete-propagation check asks every authoritative NS on port 53; pebble's validation is the real check.
    '--dns.disable-cp',
    ...o.domains.flatMap((d) => ['--domains', d]),
    'run',
  ];
  return new Promise((res, rej) => {
    const p = spawn('lego', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 45000);
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** GET from pebble's management API (e.g. "/roots/0": the root certificate, regenerated at every start). */
export function pebbleGet(pebble: Pebble, tls: TlsFiles, path: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = httpsGet(`${pebble.management}${path}`, { ca: readFileSync(tls.caCert) }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => (r.statusCode === 200 ? res(body) : rej(new Error(`GET ${path}: HTTP ${r.statusCode}: ${body}`))));
    });
    req.on('error', rej);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path} timed out`)));
  });
}

// ---- unbound: the recursive resolver a CA asks ---------------------------------------------------------------

/** unbound is in /usr/sbin, which a non-root PATH may lack. */
function unboundProgram(): string | undefined {
  if (haveProgram('unbound')) return 'unbound';
  return existsSync('/usr/sbin/unbound') ? '/usr/sbin/unbound' : undefined;
}

export interface Unbound extends Child {
  port: number;
  /** Questions clients asked unbound so far (its log-queries lines), as "name. TYPE". */
  asked(): string[];
}

/** unbound.conf asking only `authPort` on 127.0.0.1: every served zone as a stub, and the root too, so nothing leaves. */
function unboundConf(
  dir: string,
  port: number,
  zones: string[],
  authPort: number,
  trustAnchors: readonly string[] = [],
  extra: readonly string[] = [],
): string {
  const stub = (zone: string) => [
    'stub-zone:',
    `  name: "${zone}"`,
    `  stub-addr: 127.0.0.1@${authPort}`,
    // no NS priming (the zones' NS names resolve to TEST-NET addresses) and no fallback to the root
    '  stub-prime: no',
    '  stub-first: no',
  ];
  return [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    // a port taken by another process must fail the bind, not be shared with it
    '  so-reuseport: no',
    '  do-ip6: no',
    '  do-not-query-localhost: no',
    '  do-daemonize: no',
    '  use-syslog: no',
    '  logfile: ""',
    '  chroot: ""',
    // unbound refuses to run as root unless told not to switch users
    '  username: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  num-threads: 1',
    '  verbosity: 1',
    '  log-queries: yes',
    // iterator only when no trust anchor is given (unsigned test zones); with anchors, a validating resolver
    ...(trustAnchors.length === 0
      ? ['  module-config: "iterator"']
      : ['  module-config: "validator iterator"', '  val-log-level: 2', ...trustAnchors.map((a) => `  trust-anchor: "${a}"`)]),
    '  access-control: 127.0.0.0/8 allow',
    '  qname-minimisation: no',
    // the challenge TXT comes and goes between runs: nothing may be answered from the cache
    '  cache-max-ttl: 0',
    '  cache-max-negative-ttl: 0',
    ...extra.map((l) => `  ${l}`),
    'remote-control:',
    '  control-enable: no',
    ...['.', ...zones].flatMap(stub),
    '',
  ].join('\n');
}

/**
 * Start unbound as a recursive resolver on a free port of 127.0.0.1 for the given zones of the authoritative server
 * on `authPort` (and for the root, also there, so no question reaches the network). It follows a CNAME into another
 * zone as Let's Encrypt's resolver does. `extra`: more server: lines (e.g. `local-zone: "2.0.192.in-addr.arpa." nodefault`
 * for a reverse zone unbound answers locally by default). Throws when unbound is not installed.
 */
export async function startUnbound(
  dir: string,
  zones: string[],
  authPort: number,
  o: { trustAnchors?: readonly string[]; extra?: readonly string[] } = {},
): Promise<Unbound> {
  const program = unboundProgram();
  if (!program) throw new Error('unbound is not installed: apt-get install -y unbound (the recursive resolver pebble asks in the CNAME layout)');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const home = mkdtempSync(join(dir, 'unbound-'));
    const conf = join(home, 'unbound.conf');
    writeFileSync(conf, unboundConf(home, port, zones, authPort, o.trustAnchors, o.extra));
    const child = watchChild(spawn(program, ['-d', '-c', conf], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitForOutput(child, /start of service/, 15000, 'unbound');
      const asked = () => [...child.output().matchAll(/ info: 127\.0\.0\.1 (\S+) (\S+) \S+$/gm)].map((m) => `${m[1]} ${m[2]}`);
      return { ...child, port, asked };
    } catch (e) {
      await child.stop();
      if (!/already in use|could not open ports/i.test(child.output())) throw e;
    }
  }
  throw new Error('unbound: no free port');
}
