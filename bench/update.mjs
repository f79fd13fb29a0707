// RFC 2136 UPDATE throughput on a large zone, dmsd beside named and knotd, same data, same run, same client:
// `nsupdate` (TSIG hmac-sha256, UDP) sends N updates, each adding one A record, into a zone of --records A records
// (plus SOA, NS and the NS's address): first one client sending them one after the other, then --clients nsupdate
// processes at once (N/clients each, different names). dmsd runs as operators run it (SQLite in --data, zone loaded
// and configured with zone_tool); named and knotd are primaries of the same zone file with an update policy/ACL for
// the same key, each keeping a journal on disk. Each figure is N / (wall time until every nsupdate finished); every
// added name is checked on each server afterwards.
//
// Then --latency-updates UPDATEs (default 200) from our own client, one after the other, each timed from sending to
// its answer: the latency of one UPDATE (median, p90, p99) without nsupdate's own time per message; and --clients
// sockets of our own client at once (one UPDATE in flight each): the throughput without nsupdate's cost.
// --idle-updates N (default 0) more, each --idle-ms (default 100) after the answer before: one UPDATE arriving at an idle
// server (the machine's idle CPU and cold caches are in it: a trivial Node.js UDP echo takes ~3× as long here then).
// Options: --records N (default 100000), --updates N (default 500), --clients N (default 8), --warmup N (UPDATEs sent
// before measuring, default 2000), --only dmsd|named|knotd (or a list: dmsd,named), --rounds N (default 1; more: N further sequential nsupdate
// passes, dmsd and named taking turns, medians compared — one pass of each moves ±10 % from run to run here),
// --prof DIR (dmsd runs with --cpu-prof into DIR, sampling every BENCH_PROF_INTERVAL µs, default 1000; --unbundled:
// from dist/daemon/main.js, so the profile names source files), --out FILE (default bench/out/update.json), --keep.
// Environment: BENCH_DMSD_ARGS (more dmsd flags), BENCH_NODE_ARGS (Node.js flags for dmsd, e.g. --trace-gc).

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { dmsdUdpPort, freePort, have, nsupdatePass, ROOT, startNamedPrimary, testHelper, udpQuery, waitSoa, zoneToolSync } from './lib.mjs';
import { writeUpdateZone } from './zones.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RECORDS = Number(argOf('--records', 100_000));
const UPDATES = Number(argOf('--updates', 500));
const ONLY = argOf('--only', undefined);
const CLIENTS = Number(argOf('--clients', 8));
const LATENCY_UPDATES = Number(argOf('--latency-updates', 200));
// UPDATEs each sent after --idle-ms of silence (default 100): one arriving at an idle server, as a DHCP server's or an
// ACME client's do. 0: not measured.
const IDLE_UPDATES = Number(argOf('--idle-updates', 0));
const IDLE_MS = Number(argOf('--idle-ms', 100));
const WARMUP = Number(argOf('--warmup', 2000));
// Sequential nsupdate passes after the measurement, dmsd and named taking turns on the running servers (see rounds()).
const ROUNDS = Number(argOf('--rounds', 1));
const wanted = (label) => ONLY === undefined || ONLY.split(',').includes(label);
const PROF = argOf('--prof', undefined);
const UNBUNDLED = argv.includes('--unbundled');
const keep = argv.includes('--keep');
const outFile = resolve(argOf('--out', join(ROOT, 'bench', 'out', 'update.json')));
const ZONE = 'upd.bench.test';
const KEY = 'upd.key';
const SECRET = randomBytes(32).toString('base64');
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n));
const log = (...a) => console.log(...a);

if (!have('nsupdate') || (wanted('named') && !have('named')) || (wanted('knotd') && !have('knotd'))) {
  console.error('bench/update needs nsupdate, named and knotd (apt-get install bind9 bind9-dnsutils knot)');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'dms-bench-update-'));
const stops = [];

const zoneTool = (dataDir, args) => zoneToolSync(dataDir, args, 'bench@update/Admin');

async function startDmsd(zoneFile) {
  const dataDir = join(work, 'dmsd');
  mkdirSync(dataDir);
  const t0 = Date.now();
  zoneTool(dataDir, ['load_zone', '-i', zoneFile, ZONE]);
  const loadMs = Date.now() - t0;
  // The key is made with zone_tool, as an operator would; nsupdate gets the secret the tool printed.
  const out = zoneTool(dataDir, ['generate_tsig_key', KEY]);
  const secret = /secret\s+"?([A-Za-z0-9+/=]{16,})"?/.exec(out)?.[1] ?? /:([A-Za-z0-9+/=]{16,})\s*$/m.exec(out)?.[1];
  if (!secret) throw new Error(`no secret in the output of generate_tsig_key:\n${out}`);
  zoneTool(dataDir, ['add_update_grant', ZONE, `grant ${KEY} zonesub ANY`]);
  const { spawnLogged } = await testHelper('servers');
  const prof = PROF ? ['--cpu-prof', '--cpu-prof-interval', process.env.BENCH_PROF_INTERVAL ?? '1000', '--cpu-prof-dir', resolve(PROF)] : [];
  const { proc, output, stop } = spawnLogged(process.execPath, [...prof, ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), UNBUNDLED ? join(ROOT, 'dist', 'daemon', 'main.js') : join(ROOT, 'bin', 'dmsd'), '--data', dataDir, '--listen', '127.0.0.1:0', ...(process.env.BENCH_DMSD_ARGS ? process.env.BENCH_DMSD_ARGS.split(' ') : [])], {
    cwd: ROOT,
    killAfterMs: 10_000,
    maxOutput: 1 << 20,
  });
  // SIGINT: a clean exit, so --cpu-prof writes its profile.
  stops.push(async () => {
    proc.kill('SIGINT');
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    await stop();
    if (keep) writeFileSync(join(work, 'dmsd.log'), output());
  });
  const port = await dmsdUdpPort(proc, output);
  await waitSoa(port, ZONE, proc);
  return { label: 'dmsd', port, secret, loadMs, output };
}

async function startNamed(zoneFile) {
  const n = await startNamedPrimary({ dir: join(work, 'named'), zoneFile, zone: ZONE, keyName: KEY, secret: SECRET });
  stops.push(n.stop);
  return { label: 'named', port: n.port, secret: SECRET, output: n.output };
}

async function startKnot(zoneFile) {
  const { knotServerConf, spawnLogged } = await testHelper('servers');
  const dir = join(work, 'knotd');
  mkdirSync(dir);
  const file = join(dir, 'zone.db');
  copyFileSync(zoneFile, file);
  const port = await freePort();
  const conf = join(dir, 'knot.conf');
  writeFileSync(
    conf,
    [
      ...knotServerConf(dir, port, { logLevel: 'notice' }),
      'key:',
      `  - id: ${KEY}`,
      '    algorithm: hmac-sha256',
      `    secret: ${SECRET}`,
      'acl:',
      '  - id: upd',
      `    key: ${KEY}`,
      '    action: update',
      'template:',
      '  - id: default',
      `    storage: "${dir}"`,
      '    semantic-checks: off',
      '    zonefile-sync: -1',
      '    zonefile-load: whole',
      // Updates go to the journal (on disk), as named's .jnl and dmsd's database.
      '    journal-content: changes',
      'zone:',
      `  - domain: "${ZONE}"`,
      `    file: "${file}"`,
      '    acl: upd',
      '',
    ].join('\n'),
  );
  const { proc, output, stop } = spawnLogged('knotd', ['-c', conf], { dir, killAfterMs: 5000 });
  stops.push(stop);
  await waitSoa(port, ZONE, proc);
  return { label: 'knotd', port, secret: SECRET, output };
}

/** `n` updates through one nsupdate session, starting at name index `from`; resolves with the wall time in ms. */
const nsupdate = (srv, from, n) => nsupdatePass(srv, ZONE, KEY, 'u', from, n);

/**
 * `clients` sockets at once, each sending `n` UPDATEs one after the other (own names from `from`), each waiting for its
 * answer: the server's UPDATE throughput without nsupdate's own cost per message (8 nsupdate processes on 2 cores
 * are themselves a ceiling: named and dmsd both stop near the same figure) and without its port collisions (BIND
 * 9.18's nsupdate binds each request's random port with SO_REUSEPORT: two processes sometimes hold the same port, the
 * kernel hands one's answer to the other, which drops it, and the first resends after 3 s — seen as a 3 s stall in
 * about one run in four, traced with strace). Returns the wall time in ms.
 */
async function concurrentTimedUpdates(srv, from, n, clients) {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, (_, c) => timedUpdates(srv, from + c * n, n)));
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * `n` UPDATEs one after the other from our own client (TSIG hmac-sha256 over UDP, one A record added each), each
 * timed from its sending to its answer (NOERROR, TSIG verified): the latency of one UPDATE without nsupdate's own
 * time per message in it. Returns the latencies in ms.
 */
async function timedUpdates(srv, from, n, pauseMs = 0) {
  const { signMessage, verifyResponse, keyFromText } = await import('../dist/dns/tsig.js');
  const { emptyMessage, encodeMessage, decodeMessage } = await import('../dist/dns/message.js');
  const { Name } = await import('../dist/dns/name.js');
  const { Opcode, RRClass, RRType } = await import('../dist/dns/constants.js');
  const key = keyFromText(`hmac-sha256:${KEY}:${srv.secret}`);
  const sock = dgram.createSocket('udp4');
  let waiting;
  sock.on('message', (m) => waiting?.(new Uint8Array(m)));
  const lat = [];
  try {
    for (let i = from; i < from + n; i++) {
      const msg = emptyMessage(i & 0xffff);
      msg.opcode = Opcode.UPDATE;
      msg.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
      msg.authority = [{ name: Name.from(`t${i}.${ZONE}`), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: Uint8Array.from([10, 201, (i >> 8) & 255, i & 255]) }];
      const { bytes, mac } = signMessage(encodeMessage(msg), key, Date.now() / 1000);
      const t0 = process.hrtime.bigint();
      const raw = await new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`${srv.label}: UPDATE t${i} not answered within 10 s`)), 10_000);
        waiting = (r) => {
          if (((r[0] << 8) | r[1]) !== (i & 0xffff)) return;
          clearTimeout(timer);
          res(r);
        };
        sock.send(bytes, srv.port, '127.0.0.1');
      });
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      const a = decodeMessage(raw);
      if (a.rcode !== 0) throw new Error(`${srv.label}: UPDATE t${i} answered rcode ${a.rcode}`);
      if (a.tsigOffset === undefined || verifyResponse(raw, a.tsigOffset, key, mac, Date.now() / 1000) !== 0) throw new Error(`${srv.label}: UPDATE t${i} answer not verified`);
    }
  } finally {
    sock.close();
  }
  return lat;
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(xs.length * p) - 1))];

async function answers(port, name) {
  const r = await udpQuery(port, name, 1, 1000);
  return !!r && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0;
}

async function measure(srv) {
  // Warm-up, not measured, the same for every server: steady state, not dmsd's JIT compiling the UPDATE path nor the
  // WAL file growing to its working size (measured, session 11: dmsd's CPU per UPDATE 1,400–1,500 µs over its first
  // 2,500 UPDATEs, 1,000–1,090 µs after; 300 warm-up UPDATEs left the measured run in the slow part).
  await nsupdate(srv, 1_000_000, WARMUP);
  const ms = await nsupdate(srv, 0, UPDATES);
  if (!(await answers(srv.port, `u${UPDATES - 1}.${ZONE}`))) throw new Error(`${srv.label} does not answer the last name added`);
  const perSecond = UPDATES / (ms / 1000);
  log(`  ${srv.label.padEnd(6)} sequential: ${fmt(UPDATES)} updates in ${fmt(ms / 1000, 2)} s = ${fmt(perSecond, 1)} UPDATE/s`);
  // The latency of one UPDATE, timed by our own client.
  const lat = await timedUpdates(srv, 0, LATENCY_UPDATES);
  if (!(await answers(srv.port, `t${LATENCY_UPDATES - 1}.${ZONE}`))) throw new Error(`${srv.label} does not answer the last name of the timed run`);
  const latency = { n: lat.length, meanMs: lat.reduce((a, b) => a + b, 0) / lat.length, medianMs: pct(lat, 0.5), p90Ms: pct(lat, 0.9), p99Ms: pct(lat, 0.99), maxMs: Math.max(...lat) };
  log(
    `  ${srv.label.padEnd(6)} one UPDATE, send → answer (${fmt(lat.length)} in a row, own client): mean ${fmt(latency.meanMs, 2)} ms, median ${fmt(latency.medianMs, 2)} ms, ` +
      `p90 ${fmt(latency.p90Ms, 2)} ms, p99 ${fmt(latency.p99Ms, 2)} ms, max ${fmt(latency.maxMs, 2)} ms`,
  );
  let idle;
  if (IDLE_UPDATES > 0) {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const il = await timedUpdates(srv, 300_000, IDLE_UPDATES, IDLE_MS);
    idle = { n: il.length, pauseMs: IDLE_MS, medianMs: pct(il, 0.5), p90Ms: pct(il, 0.9), maxMs: Math.max(...il) };
    log(
      `  ${srv.label.padEnd(6)} one UPDATE after ${fmt(IDLE_MS)} ms idle (${fmt(il.length)}, own client): median ${fmt(idle.medianMs, 2)} ms, ` +
        `p90 ${fmt(idle.p90Ms, 2)} ms, max ${fmt(idle.maxMs, 2)} ms`,
    );
  }
  // CLIENTS at once, each its own names, UPDATES in all.
  const per = Math.ceil(UPDATES / CLIENTS);
  const t0 = process.hrtime.bigint();
  // A client that gives up after its retries (the port collision below, seen for named and dmsd alike) runs its
  // batch again — the adds are idempotent — and the time counts; the count of such reruns is printed.
  let reruns = 0;
  const client = (c) =>
    nsupdate(srv, 100_000 + c * per, per).catch((e) => {
      if (!/timed out/.test(e.message)) throw e;
      reruns++;
      return nsupdate(srv, 100_000 + c * per, per);
    });
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const cms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (let c = 0; c < CLIENTS; c++)
    for (let i = 0; i < per; i += Math.max(1, Math.floor(per / 10)))
      if (!(await answers(srv.port, `u${100_000 + c * per + i}.${ZONE}`))) throw new Error(`${srv.label}: name u${100_000 + c * per + i} missing after the concurrent run`);
  const concurrent = (per * CLIENTS) / (cms / 1000);
  log(
    `  ${srv.label.padEnd(6)} ${CLIENTS} clients: ${fmt(per * CLIENTS)} updates in ${fmt(cms / 1000, 2)} s = ${fmt(concurrent, 1)} UPDATE/s` +
      (reruns > 0 ? ` (${reruns} nsupdate client(s) timed out and ran again)` : ''),
  );
  // The same with our own client: CLIENTS sockets, each one UPDATE in flight.
  const own = await concurrentTimedUpdates(srv, 200_000, per, CLIENTS);
  for (let c = 0; c < CLIENTS; c++)
    for (let i = 0; i < per; i += Math.max(1, Math.floor(per / 10)))
      if (!(await answers(srv.port, `t${200_000 + c * per + i}.${ZONE}`))) throw new Error(`${srv.label}: name t${200_000 + c * per + i} missing after the concurrent run`);
  const ownConcurrent = (per * CLIENTS) / (own / 1000);
  log(`  ${srv.label.padEnd(6)} ${CLIENTS} clients (own client): ${fmt(per * CLIENTS)} updates in ${fmt(own / 1000, 2)} s = ${fmt(ownConcurrent, 1)} UPDATE/s`);
  return {
    updates: UPDATES,
    seconds: ms / 1000,
    perSecond,
    latency,
    ...(idle ? { idle } : {}),
    clients: CLIENTS,
    concurrentSeconds: cms / 1000,
    concurrentPerSecond: concurrent,
    ownClientConcurrentPerSecond: ownConcurrent,
  };
}

/**
 * ROUNDS more sequential nsupdate passes of UPDATES each on the servers as they are (loaded, warm, both running), dmsd
 * and named taking turns (the first of each round alternates): whatever drifts on the machine meanwhile falls on both
 * alike. The medians and their ratio, and each round's ratio.
 */
async function rounds(srvs) {
  const per = { dmsd: [], named: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ['dmsd', 'named'] : ['named', 'dmsd'];
    for (const label of order) {
      const from = 300_000 + r * UPDATES;
      // nsupdate gives up on an UPDATE after its retries now and then (named's and dmsd's runs alike, see
      // concurrentTimedUpdates): that pass is not a figure of the server; it is counted and left out.
      const ms = await nsupdate(srvs[label], from, UPDATES).catch((e) => {
        if (!/timed out/.test(e.message)) throw e;
        log(`  round ${r + 1}: nsupdate timed out against ${label}; the round is left out`);
        return NaN;
      });
      if (Number.isFinite(ms) && !(await answers(srvs[label].port, `u${from + UPDATES - 1}.${ZONE}`))) throw new Error(`${label} does not answer the last name of round ${r + 1}`);
      per[label].push(UPDATES / (ms / 1000));
    }
  }
  // Rounds where either pass timed out are left out for both: each median is over the same rounds.
  const both = per.dmsd.map((x, i) => Number.isFinite(x) && Number.isFinite(per.named[i]));
  const med = (xs) => {
    const v = xs.filter((_, i) => both[i]).sort((a, b) => a - b);
    return v.length === 0 ? NaN : v.length % 2 === 1 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const out = { rounds: ROUNDS, counted: both.filter(Boolean).length, dmsd: per.dmsd, named: per.named, dmsdMedian: med(per.dmsd), namedMedian: med(per.named) };
  out.ratio = out.dmsdMedian / out.namedMedian;
  log(
    `  ${ROUNDS} rounds (${out.counted} counted), taking turns: dmsd ${per.dmsd.map((x) => fmt(x, 0)).join(' ')} (median ${fmt(out.dmsdMedian, 1)}), ` +
      `named ${per.named.map((x) => fmt(x, 0)).join(' ')} (median ${fmt(out.namedMedian, 1)}) UPDATE/s: ratio of medians ${fmt(out.ratio, 2)}, ` +
      `per round ${per.dmsd.map((x, i) => fmt(x / per.named[i], 2)).join(' ')}`,
  );
  return out;
}

const servers = {};
const results = {
  date: new Date().toISOString(),
  machine: { nproc: cpus().length, node: process.version },
  loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  records: RECORDS,
  updates: UPDATES,
};
try {
  const zoneFile = join(work, 'zone.txt');
  await writeUpdateZone(zoneFile, RECORDS);
  log(`bench/update: ${fmt(UPDATES)} nsupdate UPDATEs (one A record each, TSIG) into a zone of ${fmt(RECORDS)} A records, sequential and ${CLIENTS} clients`);
  if (wanted('dmsd')) {
    const d = await startDmsd(zoneFile);
    log(`  dmsd: zone loaded with zone_tool in ${fmt(d.loadMs / 1000, 1)} s`);
    servers.dmsd = d;
    results.dmsd = await measure(d);
  }
  if (wanted('named')) results.named = await measure((servers.named = await startNamed(zoneFile)));
  if (wanted('knotd')) results.knotd = await measure(await startKnot(zoneFile));
  if (ROUNDS > 1 && results.dmsd && results.named) results.rounds = await rounds({ dmsd: servers.dmsd, named: servers.named });
  for (const peer of ['named', 'knotd'])
    if (results.dmsd && results[peer])
      log(
        `  dmsd / ${peer}: sequential ${fmt(results.dmsd.perSecond / results[peer].perSecond, 2)}, ` +
          `${CLIENTS} clients ${fmt(results.dmsd.concurrentPerSecond / results[peer].concurrentPerSecond, 2)} ` +
          `(own client ${fmt(results.dmsd.ownClientConcurrentPerSecond / results[peer].ownClientConcurrentPerSecond, 2)}), ` +
          `one UPDATE's median latency ${fmt(results.dmsd.latency.medianMs, 2)} / ${fmt(results[peer].latency.medianMs, 2)} ms`,
      );
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  for (const s of stops.reverse()) await s().catch(() => {});
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`work directory kept: ${work}`);
}
