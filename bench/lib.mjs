// Shared pieces of the benchmark: free ports, starting dmsd / knotd / nsd (optionally pinned with taskset), a tiny
// readiness probe, RSS from /proc, dnsperf runs and their parsing. Plain ESM JavaScript: `npm run bench` runs it
// with node after `npm run build`, so dmsd comes from dist/. Child processes and knotd's configuration come from the
// test helpers (TypeScript, loaded through tsx: testHelper).

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One zone_tool command on the SQLite store in `dataDir`, as an operator runs it (the build's launcher; DMS_CHANGE_BY
 * `actor`; the environment's other store settings left out); its standard output, or an error with both outputs.
 */
export function zoneToolSync(dataDir, args, actor) {
  const env = { ...process.env, DMS_CHANGE_BY: actor };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', dataDir, ...args], { encoding: 'utf8', env, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const helpers = new Map();
/**
 * test/helpers/NAME.ts, loaded through tsx's scoped ESM hook (only this import and what it imports go through tsx;
 * dist/ is imported as it is). Loaded once per name.
 */
export function testHelper(name) {
  if (!helpers.has(name))
    helpers.set(name, import('tsx/esm/api').then(({ tsImport }) => tsImport(`../test/helpers/${name}.ts`, import.meta.url)));
  return helpers.get(name);
}

export function have(prog) {
  const r = spawnSync('sh', ['-c', `command -v ${prog}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** A port free on 127.0.0.1 for both UDP and TCP (test/helpers/servers.ts). */
export async function freePort() {
  return (await testHelper('servers')).freePort();
}

function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const out = [];
  for (const p of parts) out.push(p.length, ...Buffer.from(p, 'latin1'));
  out.push(0);
  return out;
}

/** One UDP query; resolves with the response bytes or undefined on timeout. */
export function udpQuery(port, name, type, timeoutMs = 500) {
  return new Promise((res) => {
    const id = Math.floor(Math.random() * 65536);
    const pkt = Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...encodeName(name), type >> 8, type & 0xff, 0, 1]);
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      res(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      if (m.readUInt16BE(0) !== id) return;
      clearTimeout(t);
      s.close();
      res(m);
    });
    s.on('error', () => {});
    s.send(pkt, port, '127.0.0.1');
  });
}

/** Wait until `port` answers SOA for `zone` authoritatively (AA set, NOERROR, one answer or more). */
export async function waitSoa(port, zone, proc, timeoutMs = 120000) {
  const start = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}) before answering`);
    const r = await udpQuery(port, zone, 6, 300);
    if (r && (r[2] & 0x04) !== 0 && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`no SOA answer for ${zone} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Resident set size of a process and its children (node:cluster workers), in bytes. */
export function rssBytes(pid) {
  const one = (p) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  let total = one(pid);
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const k of kids) total += rssBytes(Number(k));
  } catch {
    // no children file
  }
  return total;
}

/** How the servers and dnsperf are run and stopped (test/helpers/servers.ts spawnLogged). */
const LOGGED = { killAfterMs: 5000, maxOutput: 400000 };

const pinned = (cpu, cmd, args) => (cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]]);

/** The port a starting dmsd logs for `proto` (pino line "listening": udp, tcp or http); rejects if dmsd exits first. */
export function dmsdUdpPort(proc, output = () => '', proto = 'udp') {
  return new Promise((res, rej) => {
    let buf = '';
    const onData = (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'listening' && j.proto === proto) res(j.port);
        } catch {
          // not JSON
        }
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (c) => rej(new Error(`dmsd exited (${c}):\n${output()}`)));
  });
}

/** dmsd as operators start it (bin/dmsd: the build's bundle); resolves once it logged its listening ports; `loadMs` is spawn → "listening". */
export async function startDmsd({ zonesDir, cpu, workers, zone }) {
  const entry = join(ROOT, 'bin', 'dmsd');
  if (!existsSync(join(ROOT, 'dist', 'dmsd.cjs'))) throw new Error('dist/dmsd.cjs missing: run npm run build');
  const args = [entry, '--no-database', '--zones', zonesDir, '--listen', '127.0.0.1:0', ...(workers ? ['--workers', String(workers)] : [])];
  const { spawnLogged } = await testHelper('servers');
  const t0 = Date.now();
  const [cmd, argv] = pinned(cpu, process.execPath, args);
  const { proc, output, stop } = spawnLogged(cmd, argv, { cwd: ROOT, ...LOGGED });
  const port = await dmsdUdpPort(proc, output);
  const loadMs = Date.now() - t0;
  await waitSoa(port, zone, proc);
  return { label: 'dmsd', port, pid: proc.pid, proc, loadMs, output, stop };
}

export async function startKnotd({ zones, cpu, udpWorkers = 1, readyZone, serial }) {
  const dir = mkdtempSync(join(tmpdir(), 'dms-bench-knotd-'));
  const port = await freePort();
  const { knotConf, spawnLogged } = await testHelper('servers');
  const conf = knotConf(dir, port, zones, { udpWorkers, logLevel: 'notice' });
  writeFileSync(join(dir, 'knot.conf'), conf);
  const t0 = Date.now();
  const [cmd, argv] = pinned(cpu, 'knotd', ['-c', join(dir, 'knot.conf')]);
  const { proc, output, stop } = spawnLogged(cmd, argv, { dir, ...LOGGED });
  await waitSoa(port, readyZone ?? zones[0].name, proc);
  void serial;
  const loadMs = Date.now() - t0;
  return { label: 'knotd', port, pid: proc.pid, proc, loadMs, output, stop };
}

/**
 * named as the primary of one zone file in `dir` (made here), an update-policy granting the TSIG key every name in the
 * zone, its journal on disk, one worker thread (`-n 1`): the UPDATE benchmarks' peer. `keyConfig` (default: an
 * hmac-sha256 key statement of `keyName` and `secret`), `options` (more lines for the options block) and `zoneOptions`
 * (more statements in the zone's block: transfers, NOTIFY) as a benchmark needs them.
 */
export async function startNamedPrimary({ dir, zoneFile, zone, keyName, secret, keyConfig, options = [], zoneOptions = '' }) {
  const { namedOptions, spawnLogged } = await testHelper('servers');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'zone.db');
  copyFileSync(zoneFile, file);
  const port = await freePort();
  const conf = join(dir, 'named.conf');
  writeFileSync(
    conf,
    [
      ...namedOptions(dir, port, ['check-names primary ignore;', 'check-integrity no;', ...options]),
      keyConfig ?? `key "${keyName}" { algorithm hmac-sha256; secret "${secret}"; };`,
      `zone "${zone}" { type primary; file "${file}"; update-policy { grant ${keyName} zonesub ANY; };${zoneOptions ? ` ${zoneOptions}` : ''} };`,
      '',
    ].join('\n'),
  );
  const { proc, output, stop } = spawnLogged('named', ['-g', '-c', conf, '-n', '1'], { dir, killAfterMs: 5000 });
  await waitSoa(port, zone, proc);
  return { label: 'named', port, proc, output, stop };
}

export async function startNsd({ zones, cpu }) {
  const dir = mkdtempSync(join(tmpdir(), 'dms-bench-nsd-'));
  const port = await freePort();
  const conf = [
    'server:',
    '    server-count: 1',
    `    ip-address: 127.0.0.1@${port}`,
    `    zonesdir: "${dir}"`,
    `    pidfile: "${dir}/nsd.pid"`,
    '    database: ""',
    `    xfrdfile: "${dir}/xfrd.state"`,
    `    zonelistfile: "${dir}/zone.list"`,
    '    username: ""',
    '    chroot: ""',
    '    verbosity: 0',
    '    logfile: ""',
    // NSD's default response rate limiting would throttle a benchmark client on 127.0.0.1.
    '    rrl-ratelimit: 0',
    '    rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '    control-enable: no',
    ...zones.flatMap((z) => ['zone:', `    name: "${z.name}"`, `    zonefile: "${z.file}"`]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nsd.conf'), conf);
  const { spawnLogged } = await testHelper('servers');
  const t0 = Date.now();
  const [cmd, argv] = pinned(cpu, 'nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  const { proc, output, stop } = spawnLogged(cmd, argv, { dir, ...LOGGED });
  await waitSoa(port, zones[0].name, proc);
  return { label: 'nsd', port, pid: proc.pid, proc, loadMs: Date.now() - t0, output, stop };
}

/** Run dnsperf against a port; returns { qps, sent, completed, lost, raw }. `maxQps` paces it (-Q), `statsInterval` prints
 * its rate every N seconds (-S). */
export async function dnsperf({ port, queryFile, seconds, cpu, clients = 8, outstanding = 200, threads = 1, maxQps, statsInterval, onStart }) {
  const { spawnLogged } = await testHelper('servers');
  return new Promise((res, rej) => {
    const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', String(clients), '-q', String(outstanding), '-T', String(threads), '-t', '2'];
    if (maxQps) args.push('-Q', String(Math.round(maxQps)));
    if (statsInterval) args.push('-S', String(statsInterval));
    const [cmd, argv] = pinned(cpu, 'dnsperf', args);
    const child = spawnLogged(cmd, argv, LOGGED);
    onStart?.(child);
    const { proc: p, output: out } = child;
    p.once('exit', (code) => {
      const raw = out();
      const num = (re) => {
        const m = re.exec(raw);
        return m ? Number(m[1]) : Number.NaN;
      };
      const r = {
        qps: num(/Queries per second:\s+([\d.]+)/),
        sent: num(/Queries sent:\s+(\d+)/),
        completed: num(/Queries completed:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        noerror: num(/NOERROR (\d+)/),
        nxdomain: num(/NXDOMAIN (\d+)/),
        raw,
      };
      if (code !== 0 || Number.isNaN(r.qps)) rej(new Error(`dnsperf failed (${code}):\n${raw}`));
      else res(r);
    });
  });
}

/** The HTTP port a starting dmsd (--http …:0) logs. */
export const dmsdHttpPort = (proc, output = () => '') => dmsdUdpPort(proc, output, 'http');

/** Wait until dmsd's /health answers 200 (its zone table is current); throws if dmsd exits or after `timeoutMs`. */
export async function waitHealthy(base, proc, output = () => '', timeoutMs = 600_000) {
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`dmsd exited:\n${output()}`);
    const r = await fetch(`${base}/health`).catch(() => undefined);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`dmsd /health not 200 after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/**
 * The JSON-RPC API of a real dmsd on `dataDir`, as a panel meets it: an admin account made with zone_tool
 * create_api_account, dmsd started with --http on a free port, returned once /health is 200 (its start-up is not what
 * the caller measures). `healthyMs`: spawn → healthy. `d.stop()` stops it.
 */
export async function startDmsdApi({ dataDir, login, password, actor = 'bench/Admin' }) {
  const env = { ...process.env, DMS_CHANGE_BY: actor };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  const zt = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', dataDir, 'create_api_account', '-P', login, 'admin'], {
    input: `${password}\n`,
    encoding: 'utf8',
    env,
  });
  if (zt.status !== 0) throw new Error(`zone_tool create_api_account failed:\n${zt.stdout}${zt.stderr}`);
  const { spawnLogged } = await testHelper('servers');
  const t0 = Date.now();
  const d = spawnLogged(process.execPath, [join(ROOT, 'dist', 'daemon', 'main.js'), '--data', dataDir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
    cwd: ROOT,
    killAfterMs: 5000,
    maxOutput: 1 << 20,
  });
  try {
    const base = `http://127.0.0.1:${await dmsdHttpPort(d.proc, d.output)}`;
    await waitHealthy(base, d.proc, d.output);
    return { d, base, auth: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`, healthyMs: Date.now() - t0 };
  } catch (e) {
    await d.stop();
    throw e;
  }
}

/**
 * One `nsupdate` session (TSIG hmac-sha256 with `key`, UDP) against 127.0.0.1:`srv.port`: `n` UPDATEs one after the
 * other, each adding one A record at `<prefix><i>.<zone>` for i from `from`. Resolves with its wall time in ms.
 */
export function nsupdatePass(srv, zone, key, prefix, from, n) {
  let script = `server 127.0.0.1 ${srv.port}\nzone ${zone}\n`;
  for (let i = from; i < from + n; i++) script += `update add ${prefix}${i}.${zone}. 300 A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\nsend\n`;
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn('nsupdate', ['-y', `hmac-sha256:${key}:${srv.secret}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) rej(new Error(`nsupdate against ${srv.label} failed (${code}):\n${out.slice(-2000)}`));
      else res(ms);
    });
    p.stdin.end(script);
  });
}
