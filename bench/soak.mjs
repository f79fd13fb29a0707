#!/usr/bin/env node
// Soak (issue 15, "a 1-hour soak in the bench"), run after `npm run build`: one dmsd (dist/) on a fresh SQLite
// database, configured with zone_tool, with knotd and named as TSIG secondaries of its dynamic zone, kept busy for
// --minutes by three things at once:
//   - queries at --load (default half) of the capacity dnsperf measured just before, for the whole run (dnsperf -Q);
//   - a probe: 100 queries a second from our own client, each timed (its latencies are what the p99 windows show:
//     the probe waits in the same queues as dnsperf's queries);
//   - a steady stream of TSIG-signed UPDATEs (--update-rate a second), each replacing the A record of one of 500 names,
//     round robin, so the zone keeps its size while every update is a real change that the secondaries transfer
//     (NOTIFY → IXFR).
// Sampled every 10 s: dmsd's RSS (anonymous and file-backed apart); every minute: the probe's median, p99 and lost queries, updates acknowledged.
// Judged at the end, as the issue asks: memory growth after warm-up (the median anonymous RSS of the last three samples
// over the median of the three samples at the end of the warm-up, --warmup-minutes, default min(10, a quarter of the
// run)) < 5 % — the file-backed part is SQLite's map of the database file, which grows with the history; shown apart; the p99 of the last quarter of the minutes against the first quarter after warm-up (steady: within 1.5×);
// all changes present: the secondaries reach dmsd's serial, and dmsd, knotd and named answer every name with the
// address of its last acknowledged UPDATE. Writes bench/out/soak.json.
//
//   node bench/soak.mjs [--minutes 60] [--warmup-minutes N] [--update-rate 10] [--load 0.5] [--records 20000]
//                       [--zones 200] [--profile DIR]

import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dnsperf, freePort, ROOT, rssBytes, sleep, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const MINUTES = argOf('--minutes', 60);
const WARMUP = argOf('--warmup-minutes', Math.min(10, MINUTES / 4));
const UPDATE_RATE = argOf('--update-rate', 10);
const LOAD = argOf('--load', 0.5);
const RECORDS = argOf('--records', 20_000);
const ZONES = argOf('--zones', 200);
const NAMES = 500;
const PROBE_PER_SECOND = 100;
const ZONE = 'soak.bench';
/** --profile DIR: dmsd runs with node --cpu-prof, its profile written to DIR when it stops (finding what a soak costs). */
const PROFILE = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined;

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)] : Number.NaN);
const median = (xs) => pct(xs, 0.5);
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const log = (...a) => console.log(...a);

const { spawnServer, startDmsdOn, zoneTool, zoneToolKey } = await testHelper('acme');
const { startKnotSecondary, startNamedSecondary, until } = await testHelper('secondaries');
const { rrText } = await testHelper('xfr.support');
const { query } = await testHelper('dns-client');
const { Name } = await import('../dist/dns/name.js');
const { Opcode, RRClass, RRType } = await import('../dist/dns/constants.js');
const { decodeMessage, emptyMessage, encodeMessage } = await import('../dist/dns/message.js');
const { signMessage } = await import('../dist/dns/tsig.js');

const origin = Name.from(ZONE);
const work = mkdtempSync(join(tmpdir(), 'dms-bench-soak-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const P = { dataDir };
const children = [];
// Stopped by a signal (an hour is long): the servers and dnsperf go with it.
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => {
    for (const c of children) c.proc.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });

// ---- zones and the query mix --------------------------------------------------------------------------------------

const addrOf = (n) => `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
function zoneText() {
  const lines = ['$TTL 3600', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; lines.length < RECORDS; i++) {
    if (i % 3 === 0) lines.push(`n${i} A 198.18.${(i >> 8) & 0xff}.${i & 0xff}`);
    else if (i % 3 === 1) lines.push(`n${i} AAAA 2001:db8::${i.toString(16)}`);
    else lines.push(`n${i} TXT "record ${i}"`);
  }
  for (let k = 0; k < NAMES; k++) lines.push(`k${k} 300 A ${addrOf(k)}`);
  return `${lines.join('\n')}\n`;
}
const SMALL_ZONE = `$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n${Array.from({ length: 50 }, (_, i) => `h${i} A 192.0.2.${i + 2}`).join('\n')}\n`;
const smallName = (i) => `z${i}.soak`;

function queryFile() {
  const lines = [];
  const nRecords = RECORDS - 4;
  for (let i = 0; i < 100_000; i++) {
    const r = i % 10;
    if (r < 7) {
      const n = (i * 7919) % nRecords;
      lines.push(`n${n}.${ZONE} ${['A', 'AAAA', 'TXT'][n % 3]}`);
    } else if (r === 7) lines.push(`k${i % NAMES}.${ZONE} A`);
    else if (r === 8) lines.push(`h${i % 50}.${smallName(i % ZONES)} A`);
    else lines.push(`missing${i}.${ZONE} A`);
  }
  const f = join(work, 'queries.txt');
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

// ---- the probe: timed queries over one socket ---------------------------------------------------------------------

function startProbe(port) {
  const sock = dgram.createSocket('udp4');
  const pending = new Map();
  let window = { lat: [], lost: 0, sent: 0 };
  let id = 0;
  sock.on('message', (m) => {
    const p = pending.get(m.readUInt16BE(0));
    if (!p) return;
    pending.delete(m.readUInt16BE(0));
    clearTimeout(p.timer);
    window.lat.push(nowMs() - p.t0);
  });
  sock.on('error', () => {});
  const names = Array.from({ length: 1000 }, (_, i) => (i % 2 ? `n${(i * 31) % (RECORDS - 4)}.${ZONE}` : `k${i % NAMES}.${ZONE}`));
  const q = (name) => {
    id = (id + 1) & 0xffff;
    const m = emptyMessage(id);
    m.question = [{ name: Name.from(name), type: RRType.A, class: RRClass.IN }];
    return encodeMessage(m);
  };
  let i = 0;
  const start = nowMs();
  // Paced by the clock, not by the timer's ticks (they drift when the machine is busy).
  const timer = setInterval(() => {
    const due = Math.floor(((nowMs() - start) * PROBE_PER_SECOND) / 1000);
    while (i < due) {
      const bytes = q(names[i++ % names.length]);
      const qid = id;
      const w = window;
      w.sent++;
      pending.set(qid, {
        t0: nowMs(),
        timer: setTimeout(() => {
          pending.delete(qid);
          w.lost++;
        }, 1000),
      });
      sock.send(bytes, port, '127.0.0.1');
    }
  }, 10);
  return {
    take() {
      const w = window;
      window = { lat: [], lost: 0, sent: 0 };
      return w;
    },
    stop() {
      clearInterval(timer);
      setTimeout(() => sock.close(), 1100);
    },
  };
}

// ---- the UPDATE stream --------------------------------------------------------------------------------------------

function updateBytes(key, k, n, msgId) {
  const m = emptyMessage(msgId);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: origin, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [rrText(`k${k} 0 ANY A`, origin), rrText(`k${k} 300 A ${addrOf(n)}`, origin)];
  return signMessage(encodeMessage(m), key, Date.now() / 1000).bytes;
}

function startUpdates(port, key) {
  const sock = dgram.createSocket('udp4');
  const pending = new Map();
  sock.on('message', (m) => pending.get(m.readUInt16BE(0))?.(m));
  sock.on('error', () => {});
  /** The address of each name's last acknowledged UPDATE; undefined while one of its UPDATEs is unanswered. */
  const expected = new Map(Array.from({ length: NAMES }, (_, k) => [k, addrOf(k)]));
  const st = { acked: 0, refused: 0, unanswered: 0, lat: [] };
  let stopped = false;
  let n = NAMES;
  const loop = (async () => {
    const t0 = Date.now();
    for (let i = 0; !stopped; i++) {
      const due = t0 + (i * 1000) / UPDATE_RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const k = i % NAMES;
      const value = n++;
      const msgId = i & 0xffff;
      const sent = nowMs();
      const rcode = await new Promise((res) => {
        const timer = setTimeout(() => {
          pending.delete(msgId);
          res(undefined);
        }, 5000);
        pending.set(msgId, (m) => {
          clearTimeout(timer);
          pending.delete(msgId);
          res(decodeMessage(new Uint8Array(m)).rcode);
        });
        sock.send(updateBytes(key, k, value, msgId), port, '127.0.0.1');
      });
      if (rcode === 0) {
        st.acked++;
        st.lat.push(nowMs() - sent);
        expected.set(k, addrOf(value));
      } else if (rcode === undefined) {
        st.unanswered++;
        expected.set(k, undefined);
      } else {
        st.refused++;
      }
    }
  })();
  return {
    st,
    expected,
    takeLatencies() {
      const l = st.lat;
      st.lat = [];
      return l;
    },
    async stop() {
      stopped = true;
      await loop;
      sock.close();
    },
  };
}

async function soaSerial(port) {
  const a = await query(port, { name: origin, type: RRType.SOA }, 1000).catch(() => undefined);
  const soa = a?.msg?.answer?.find((r) => r.type === RRType.SOA);
  return soa ? new DataView(soa.rdata.buffer, soa.rdata.byteOffset).getUint32(soa.rdata.length - 20) : undefined;
}

async function addressOf(port, k) {
  const a = await query(port, { name: Name.parse(`k${k}`, origin), type: RRType.A }, 1000).catch(() => undefined);
  const r = a?.msg?.answer?.filter((x) => x.type === RRType.A) ?? [];
  return r.map((x) => Array.from(x.rdata).join('.')).sort().join(',');
}

/**
 * The resident memory of a process split as the kernel counts it: anonymous (the heap, its own memory) and file-backed
 * (SQLite maps the database file, mmap_size: those pages are the page cache of a file that grows with the zone
 * history, reclaimable, not memory the process holds on to).
 */
function rssParts(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') };
}

/**
 * Where the anonymous memory is (from /proc/PID/smaps): the malloc heap grown by brk ("[heap]": SQLite's page caches
 * and statements, the native addons, libuv) apart from the other anonymous mappings (V8's heap spaces, the malloc
 * arenas of other threads, thread stacks).
 */
function anonSplit(pid) {
  let name = '';
  let brk = 0;
  let other = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1];
      continue;
    }
    const m = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (m) {
      if (name === '[heap]') brk += Number(m[1]) * 1024;
      else other += Number(m[1]) * 1024;
    }
  }
  return { brk, otherAnon: other };
}

/** V8's heap (used, total) and the memory of objects outside it (Buffers...), from dmsd's /metrics (prom-client's defaults). */
async function v8Figures(httpPort) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const v = (n) => Number(new RegExp(`^${n} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { heapUsed: v('nodejs_heap_size_used_bytes'), heapTotal: v('nodejs_heap_size_total_bytes'), external: v('nodejs_external_memory_bytes') };
  } catch {
    return { heapUsed: Number.NaN, heapTotal: Number.NaN, external: Number.NaN };
  }
}

/** dmsd's "transfer" log lines by kind (ixfr, ixfr-as-axfr, up-to-date, axfr...): incremental answers stay incremental. */
function transferKinds(output) {
  const kinds = {};
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"transfer"')) continue;
    try {
      const k = JSON.parse(line).kind;
      kinds[k] = (kinds[k] ?? 0) + 1;
    } catch {
      // not JSON
    }
  }
  return kinds;
}

// ---- the run --------------------------------------------------------------------------------------------------------

const results = {
  date: new Date().toISOString(),
  command: `node bench/soak.mjs ${argv.join(' ')}`.trim(),
  minutes: MINUTES,
  warmupMinutes: WARMUP,
  updateRate: UPDATE_RATE,
  load: LOAD,
  records: RECORDS,
  zones: ZONES + 1,
  loadAverageAtStart: loadavg(),
  samples: [],
  minutesStats: [],
};
log(`bench/soak: ${MINUTES} min (warm-up ${WARMUP} min), ${fmt(RECORDS)}-record dynamic zone + ${ZONES} small zones, ${UPDATE_RATE} UPDATE/s, queries at ${LOAD} of capacity; load ${loadavg()}`);

try {
  writeFileSync(join(work, 'soak.txt'), zoneText());
  zoneTool(P, ['load_zone', '-i', join(work, 'soak.txt'), ZONE]);
  const small = [];
  for (let i = 0; i < ZONES; i++) {
    small.push(join(work, smallName(i)));
    writeFileSync(small[i], SMALL_ZONE);
  }
  for (let i = 0; i < small.length; i += 100) zoneTool(P, ['load_zones', ...small.slice(i, i + 100)]);
  const xfrKey = zoneToolKey(P, 'xfr.key');
  const dynKey = zoneToolKey(P, 'dyn.key');
  zoneTool(P, ['add_transfer_rule', ZONE, 'key=xfr.key']);
  zoneTool(P, ['add_update_grant', ZONE, 'grant dyn.key zonesub ANY']);
  const knotPort = await freePort();
  const namedPort = await freePort();
  zoneTool(P, ['add_also_notify', ZONE, `127.0.0.1#${knotPort}`, 'key=xfr.key']);
  zoneTool(P, ['add_also_notify', ZONE, `127.0.0.1#${namedPort}`, 'key=xfr.key']);

  const httpPort = await freePort();
  const dmsd = PROFILE
    ? await spawnServer(['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, join(ROOT, 'dist', 'daemon', 'main.js'), '--data', dataDir, '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${httpPort}`], 'dmsd')
    : await startDmsdOn(P, ['--http', `127.0.0.1:${httpPort}`]);
  children.push(dmsd);
  await until('dmsd serving', async () => (await soaSerial(dmsd.port)) !== undefined, dmsd.output, 120_000, 50);
  const knot = startKnotSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: knotPort, key: xfrKey });
  const named = startNamedSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: namedPort, key: xfrKey });
  children.push(knot, named);
  const serial0 = await soaSerial(dmsd.port);
  for (const s of [knot, named]) await until(`${s.label} first transfer`, async () => (await soaSerial(s.port)) === serial0, s.output, 60_000, 100);
  log(`dmsd udp ${dmsd.port} (pid ${dmsd.proc.pid}); knotd and named have serial ${serial0}`);

  const qf = queryFile();
  const cap = await dnsperf({ port: dmsd.port, queryFile: qf, seconds: 10 });
  results.capacityQps = Math.round(cap.qps);
  const rate = Math.round(cap.qps * LOAD);
  results.queryRate = rate;
  log(`capacity (dnsperf, 10 s, 8 clients × 200 outstanding): ${fmt(cap.qps)} qps → soak queries at ${fmt(rate)} qps`);

  const load = dnsperf({ port: dmsd.port, queryFile: qf, seconds: MINUTES * 60, maxQps: rate, statsInterval: 60, onStart: (p) => children.push(p) });
  const probe = startProbe(dmsd.port);
  const updates = startUpdates(dmsd.port, dynKey);
  const t0 = Date.now();
  let nextMinute = t0 + 60_000;
  let minute = 0;
  while (Date.now() - t0 < MINUTES * 60_000) {
    await sleep(10_000);
    if (dmsd.proc.exitCode !== null || dmsd.proc.signalCode !== null) throw new Error(`dmsd died during the soak:\n${dmsd.output().slice(-4000)}`);
    const s = { t: Math.round((Date.now() - t0) / 1000), rss: rssBytes(dmsd.proc.pid), ...rssParts(dmsd.proc.pid) };
    results.samples.push(s);
    if (Date.now() >= nextMinute) {
      nextMinute += 60_000;
      minute++;
      const w = probe.take();
      const ul = updates.takeLatencies();
      const split = anonSplit(dmsd.proc.pid);
      const v8 = await v8Figures(httpPort);
      const mb = (n) => Math.round(n / 1e5) / 10;
      const m = {
        minute,
        probeSent: w.sent,
        probeLost: w.lost,
        p50: Math.round(median(w.lat) * 100) / 100,
        p99: Math.round(pct(w.lat, 0.99) * 100) / 100,
        updates: ul.length,
        updateP99: Math.round(pct(ul, 0.99) * 10) / 10,
        rssMB: Math.round(s.rss / 1e5) / 10,
        anonMB: Math.round(s.anon / 1e5) / 10,
        brkHeapMB: mb(split.brk),
        otherAnonMB: mb(split.otherAnon),
        v8HeapUsedMB: mb(v8.heapUsed),
        v8HeapTotalMB: mb(v8.heapTotal),
        externalMB: mb(v8.external),
        load: loadavg(),
      };
      results.minutesStats.push(m);
      log(
        `  min ${String(minute).padStart(3)}: probe p50 ${fmt(m.p50, 2)} ms p99 ${fmt(m.p99, 2)} ms lost ${m.probeLost}/${m.probeSent}; ` +
          `${m.updates} UPDATEs (p99 ${fmt(m.updateP99, 1)} ms); RSS ${fmt(m.rssMB, 1)} MB (anonymous ${fmt(m.anonMB, 1)}: ` +
          `malloc heap ${fmt(m.brkHeapMB, 1)}, other ${fmt(m.otherAnonMB, 1)}; V8 heap ${fmt(m.v8HeapUsedMB, 1)} used of ${fmt(m.v8HeapTotalMB, 1)}, external ${fmt(m.externalMB, 1)}); load ${m.load}`,
      );
    }
  }
  probe.stop();
  await updates.stop();
  const perf = await load;
  results.dnsperf = { qps: perf.qps, sent: perf.sent, completed: perf.completed, lost: perf.lost };
  results.updates = { acked: updates.st.acked, refused: updates.st.refused, unanswered: updates.st.unanswered };
  log(`dnsperf: ${fmt(perf.completed)} of ${fmt(perf.sent)} queries answered (${fmt(perf.qps)} qps, ${fmt(perf.lost)} lost); UPDATEs acknowledged ${fmt(updates.st.acked)}, refused ${updates.st.refused}, unanswered ${updates.st.unanswered}`);

  // All changes present: the secondaries reach dmsd's serial; every name answers its last acknowledged address.
  const final = await soaSerial(dmsd.port);
  for (const s of [knot, named]) await until(`${s.label} at serial ${final}`, async () => (await soaSerial(s.port)) === final, s.output, 120_000, 200);
  const wrong = { dmsd: 0, knotd: 0, named: 0 };
  let checked = 0;
  for (const [k, addr] of updates.expected) {
    if (addr === undefined) continue;
    checked++;
    for (const [label, port] of [['dmsd', dmsd.port], ['knotd', knot.port], ['named', named.port]]) if ((await addressOf(port, k)) !== addr) wrong[label]++;
  }
  results.final = { serial: final, namesChecked: checked, wrong };

  // The judgement.
  const warmEnd = WARMUP * 60;
  const atWarm = results.samples.filter((s) => s.t >= warmEnd).slice(0, 3);
  const atEnd = results.samples.slice(-3);
  const grown = (k) => median(atEnd.map((s) => s[k])) / median(atWarm.map((s) => s[k])) - 1;
  // Judged on the process's own (anonymous) memory; the whole RSS, with the mapped database file, is shown beside it.
  const growth = grown('anon');
  const rssGrowth = grown('rss');
  const after = results.minutesStats.filter((m) => m.minute > WARMUP);
  const q = Math.max(1, Math.floor(after.length / 4));
  const p99First = median(after.slice(0, q).map((m) => m.p99));
  const p99Last = median(after.slice(-q).map((m) => m.p99));
  results.judgement = {
    anonAfterWarmupMB: Math.round(median(atWarm.map((s) => s.anon)) / 1e5) / 10,
    anonAtEndMB: Math.round(median(atEnd.map((s) => s.anon)) / 1e5) / 10,
    memoryGrowthPct: Math.round(growth * 1000) / 10,
    rssAfterWarmupMB: Math.round(median(atWarm.map((s) => s.rss)) / 1e5) / 10,
    rssAtEndMB: Math.round(median(atEnd.map((s) => s.rss)) / 1e5) / 10,
    rssGrowthPct: Math.round(rssGrowth * 1000) / 10,
    mappedDatabaseAtEndMB: Math.round(median(atEnd.map((s) => s.file)) / 1e5) / 10,
    memoryMet: growth < 0.05,
    p99FirstQuarterMs: p99First,
    p99LastQuarterMs: p99Last,
    p99Ratio: Math.round((p99Last / p99First) * 100) / 100,
    p99Steady: p99Last / p99First <= 1.5,
    probeLost: after.reduce((a, m) => a + m.probeLost, 0),
    probeSent: after.reduce((a, m) => a + m.probeSent, 0),
    allChangesPresent: wrong.dmsd + wrong.knotd + wrong.named === 0 && checked > 0,
    dmsdAlive: dmsd.proc.exitCode === null,
    errorLogLines: dmsd.output().split('\n').filter((l) => /"level":(50|60)/.test(l)).length,
    transfers: transferKinds(dmsd.output()),
  };
  // Where the anonymous memory went between the first minute after warm-up and the last one.
  const mFirst = results.minutesStats.find((m) => m.minute === WARMUP) ?? after[0];
  const mLast = after.at(-1);
  if (mFirst && mLast) {
    const parts = ['brkHeapMB', 'otherAnonMB', 'v8HeapUsedMB', 'v8HeapTotalMB', 'externalMB'];
    results.judgement.grewBy = Object.fromEntries(parts.map((k) => [k, Math.round((mLast[k] - mFirst[k]) * 10) / 10]));
  }
  results.loadAverageAtEnd = loadavg();
  const j = results.judgement;
  log('\nsoak judgement:');
  log(`  memory (anonymous): ${fmt(j.anonAfterWarmupMB, 1)} MB after warm-up → ${fmt(j.anonAtEndMB, 1)} MB at the end: ${j.memoryGrowthPct} % (target < 5 %): ${j.memoryMet ? 'met' : 'NOT met'}${MINUTES < 30 ? ` — a ${MINUTES}-minute run is too short to judge (V8's heap still settles after warm-up): the target is for the hour-long run` : ''}`);
  if (j.grewBy)
    log(
      `  where it went (minute ${mFirst.minute} → ${mLast.minute}, MB): malloc heap ${j.grewBy.brkHeapMB}, other anonymous ${j.grewBy.otherAnonMB} ` +
        `(V8 heap used ${j.grewBy.v8HeapUsedMB}, V8 heap total ${j.grewBy.v8HeapTotalMB}), external ${j.grewBy.externalMB}`,
    );
  log(`  RSS with the mapped database file: ${fmt(j.rssAfterWarmupMB, 1)} → ${fmt(j.rssAtEndMB, 1)} MB (${j.rssGrowthPct} %; file-backed at the end ${fmt(j.mappedDatabaseAtEndMB, 1)} MB)`);
  log(`  p99 latency (probe, per minute): first quarter after warm-up ${fmt(p99First, 2)} ms, last quarter ${fmt(p99Last, 2)} ms (×${j.p99Ratio}): ${j.p99Steady ? 'steady' : 'NOT steady'}`);
  log(`  probe queries lost after warm-up: ${j.probeLost} of ${fmt(j.probeSent)}`);
  log(`  all changes present: serial ${final} at dmsd, knotd and named; ${checked} names checked, wrong: dmsd ${wrong.dmsd}, knotd ${wrong.knotd}, named ${wrong.named}: ${j.allChangesPresent ? 'met' : 'NOT met'}`);
  log(`  transfers answered by dmsd: ${Object.entries(j.transfers).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log(`  dmsd alive: ${j.dmsdAlive}; error log lines: ${j.errorLogLines}; load average at the end ${results.loadAverageAtEnd}`);
} finally {
  for (const c of [...children].reverse()) await c.stop('SIGTERM').catch(() => {});
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'soak.json'), `${JSON.stringify(results, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
}
