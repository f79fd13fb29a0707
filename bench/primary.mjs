#!/usr/bin/env node
// Primary benchmark (issue 4), run after `npm run build`: dmsd serving from a fresh SQLite database as a primary
// (TSIG, NOTIFY, IXFR, UPDATE), configured only with zone_tool as an operator would.
//  1. Publish-to-secondary latency: knotd and named are TSIG secondaries of a small zone (also-notify + transfer
//     rule); each round `zone_tool load_zone_zi` adds one name, and we poll dmsd, knotd and named (UDP, every 10 ms)
//     until each answers it. Reported from the start of the zone_tool process (what the operator waits for) and from
//     its exit (the change committed). Target: under 1 s median for both secondaries.
//  2. UPDATE throughput: TSIG-signed (hmac-sha256) RFC 2136 updates over UDP, each adding one A record to an
//     inc_updates zone, from our own client (dist/dns/tsig.js signMessage; responses verified): sequentially, then
//     16 concurrent clients on one zone (dmsd applies a zone's updates one at a time), and 16 clients with a zone
//     each. Updates per second and latency percentiles; every answer must be NOERROR and its TSIG must verify.
//  3. IXFR versus AXFR bytes: a 100,000-record zone, one record added by a signed UPDATE, then `dig AXFR` and
//     `dig IXFR=<old serial>` (TSIG-signed, TCP): bytes, messages and records from dig's "XFR size" line.
// Options: --quick (fewer rounds, 10,000-record zone), --rounds N (publish rounds), --updates N (sequential count;
//          the concurrent run sends 2N), --records N (size of the transfer zone), --keep, --out FILE (default
//          bench/out/primary.json).

import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, freePort, have, sleep, testHelper, udpQuery } from './lib.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const keep = argv.includes('--keep');
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ROUNDS = argOf('--rounds', quick ? 5 : 20);
const UPDATES = argOf('--updates', quick ? 100 : 500);
const CONCURRENCY = 16;
const outIdx = argv.indexOf('--out');
const outFile = resolve(outIdx >= 0 ? argv[outIdx + 1] : join(ROOT, 'bench', 'out', 'primary.json'));
const BIG_RECORDS = argOf('--records', quick ? 10_000 : 100_000);
const PUB = 'pub.bench';
// Two zones of the same starting content, so that the sequential and the concurrent run start from the same size.
const UPD_SEQ = 'upd-seq.bench';
const UPD_CONC = 'upd-conc.bench';
const updZone = (c) => `upd-z${c}.bench`;
const BIG = 'big.bench';

for (const p of ['knotd', 'named', 'dig']) {
  if (!have(p)) {
    console.error(`bench/primary: ${p} is required (apt-get install knot bind9 bind9-dnsutils)`);
    process.exit(1);
  }
}
const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
if (!existsSync(join(ROOT, 'dist', 'daemon', 'main.js'))) {
  console.error('bench/primary: dist/ missing: run npm run build');
  process.exit(1);
}
const { signMessage, verifyResponse, readTsigAt, keyFromText } = await import(dist('dns/tsig.js'));
const { emptyMessage, encodeMessage, decodeMessage } = await import(dist('dns/message.js'));
const { Name } = await import(dist('dns/name.js'));
const { Opcode, RRClass, RRType } = await import(dist('dns/constants.js'));
// The secondaries' set-up and the child processes are the tests' (TypeScript, through tsx).
const { spawnLogged } = await testHelper('servers');
const { startKnotSecondary, startNamedSecondary, until } = await testHelper('secondaries');

const log = (...a) => console.log(...a);
const fmt = (n, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (xs) => ({ medianMs: median(xs), p90Ms: quantile(xs, 0.9), maxMs: Math.max(...xs), minMs: Math.min(...xs), n: xs.length });
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---- processes ------------------------------------------------------------------------------------------------------

const children = [];
/** Stopped (and their directories removed) at the end of the run. */
const track = (child) => {
  children.push(child);
  return child;
};

const ZONE_TOOL = join(ROOT, 'bin', 'zone_tool');
const toolEnv = { ...process.env, DMS_CHANGE_BY: 'bench@primary/Admin' };
delete toolEnv.DMS_DATA_DIR;
delete toolEnv.DMS_DATABASE_URL;

/** zone_tool, synchronously (set-up steps); throws with its output on failure. */
function zoneToolOk(args) {
  const r = spawnSync(process.execPath, [ZONE_TOOL, '--data', dataDir, ...args], { encoding: 'utf8', env: toolEnv, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** zone_tool, asynchronously (the measured change): the event loop keeps polling the servers meanwhile. */
function zoneToolAsync(args) {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [ZONE_TOOL, '--data', dataDir, ...args], { env: toolEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.once('error', rej);
    p.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`zone_tool ${args.join(' ')} failed (${code}):\n${out}`))));
  });
}

function keyFromToolOutput(out, name) {
  const secret = /secret\s+"?([A-Za-z0-9+/=]{16,})"?/.exec(out)?.[1] ?? /:([A-Za-z0-9+/=]{16,})\s*$/m.exec(out)?.[1];
  if (!secret) throw new Error(`no secret in the output of generate_tsig_key:\n${out}`);
  return keyFromText(`hmac-sha256:${name}:${secret}`);
}
const keyId = (k) => k.name.toString().replace(/\.$/, '');
const keySpec = (k) => `${k.algorithm}:${keyId(k)}:${Buffer.from(k.secret).toString('base64')}`;

let dmsdOutput;
const secondaryOutputs = [];
async function startDmsd() {
  const child = track(spawnLogged(process.execPath, [join(ROOT, 'dist', 'daemon', 'main.js'), '--data', dataDir, '--listen', '127.0.0.1:0'], { cwd: ROOT, killAfterMs: 5000, maxOutput: 1 << 21 }));
  dmsdOutput = child.output;
  const ports = {};
  const t0 = Date.now();
  while (ports.udp === undefined || ports.tcp === undefined) {
    if (child.proc.exitCode !== null) throw new Error(`dmsd exited (${child.proc.exitCode}):\n${child.output()}`);
    if (Date.now() - t0 > 60_000) throw new Error(`dmsd did not report its ports:\n${child.output()}`);
    for (const line of child.output().split('\n')) {
      try {
        const j = JSON.parse(line);
        if (j.msg === 'listening' && j.proto && typeof j.port === 'number') ports[j.proto] = j.port;
      } catch {
        // not JSON
      }
    }
    await sleep(50);
  }
  return { ...child, port: ports.udp, tcpPort: ports.tcp };
}

/** Does `port` answer `name` A with an answer (AA, NOERROR)? */
async function answers(port, name) {
  const r = await udpQuery(port, name, 1, 200);
  return r !== undefined && (r[2] & 0x04) !== 0 && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0;
}

async function soaSerial(port, zone) {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+short', '+norec', zone, 'SOA'], { encoding: 'utf8' });
  const f = (r.stdout ?? '').trim().split(/\s+/);
  return f.length >= 7 ? Number(f[2]) : undefined;
}

// ---- zone files -----------------------------------------------------------------------------------------------------

const pubText = (rounds) =>
  [
    '$TTL 300',
    '@ SOA ns1 hostmaster 1 3600 900 604800 300',
    '@ NS ns1',
    'ns1 A 192.0.2.1',
    'www A 192.0.2.10',
    ...Array.from({ length: 20 }, (_, i) => `h${i} TXT "filler ${i}"`),
    ...Array.from({ length: rounds }, (_, i) => `v${i + 1} A 192.0.2.${(i % 250) + 1}`),
    '',
  ].join('\n');

function bigText(records) {
  const lines = ['$TTL 3600', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
  let n = 3;
  for (let i = 0; n < records; i++, n++) {
    if (i % 2 === 0) lines.push(`n${i} A 198.18.${(i >> 8) & 0xff}.${i & 0xff}`);
    else lines.push(`n${i} TXT "record ${i}"`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- signed UPDATE client ------------------------------------------------------------------------------------------

/** One signed UPDATE adding `owner` A `ip` over UDP; resolves with its latency in ms; throws on any failure. */
function sendUpdate(sock, pending, port, key, zone, owner, ip, timeoutMs = 10_000) {
  const id = Math.floor(Math.random() * 65536);
  const m = emptyMessage(id);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: Name.from(zone), type: RRType.SOA, class: RRClass.IN }];
  m.authority = [{ name: Name.from(owner), type: RRType.A, class: RRClass.IN, ttl: 60, rdata: Uint8Array.from(ip) }];
  const { bytes, mac } = signMessage(encodeMessage(m), key, Date.now() / 1000);
  const t0 = nowMs();
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      rej(new Error(`UPDATE ${owner}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    pending.set(id, (raw) => {
      clearTimeout(timer);
      pending.delete(id);
      const ms = nowMs() - t0;
      const a = decodeMessage(raw);
      if (a.rcode !== 0) return rej(new Error(`UPDATE ${owner}: rcode ${a.rcode}`));
      if (a.tsigOffset === undefined) return rej(new Error(`UPDATE ${owner}: unsigned answer`));
      const v = verifyResponse(raw, a.tsigOffset, key, mac, Date.now() / 1000);
      if (v !== 0) return rej(new Error(`UPDATE ${owner}: answer TSIG error ${v} (${readTsigAt(raw, a.tsigOffset).error})`));
      res(ms);
    });
    sock.send(bytes, port, '127.0.0.1');
  });
}

function updateClient() {
  const sock = dgram.createSocket('udp4');
  const pending = new Map();
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    pending.get(id)?.(new Uint8Array(msg));
  });
  return { sock, pending, close: () => sock.close() };
}

/** `clients` clients, each sending `perClient` updates one after the other to zoneOf(client). */
async function updateRun(port, key, zoneOf, clients, perClient, tag) {
  const lat = [];
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const cl = updateClient();
      try {
        for (let i = 0; i < perClient; i++) {
          const n = c * perClient + i;
          const zone = zoneOf(c);
          lat.push(await sendUpdate(cl.sock, cl.pending, port, key, zone, `${tag}-c${c}-${i}.${zone}`, [10, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]));
        }
      } finally {
        cl.close();
      }
    }),
  );
  const seconds = (nowMs() - t0) / 1000;
  // Each update rewrites the whole zone version, so its cost grows with the zone: the first and last tenth apart.
  const tenth = Math.max(1, Math.floor(lat.length / 10));
  return {
    updates: lat.length,
    clients,
    seconds,
    perSecond: lat.length / seconds,
    latency: summary(lat),
    firstTenthMedianMs: median(lat.slice(0, tenth)),
    lastTenthMedianMs: median(lat.slice(-tenth)),
  };
}

// ---- the run --------------------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'dms-bench-primary-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const cpuModel = (/model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? 'unknown';
const results = {
  date: new Date().toISOString(),
  machine: { nproc: cpus().length, cpu: cpuModel, node: process.version },
  loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  backend: 'sqlite',
  targets: { publishMedianMs: 1000 },
};
log(`bench/primary: ${cpus().length} CPUs (${cpuModel}), node ${process.version}; work dir ${work}`);

try {
  // Set-up, all with zone_tool.
  const t0 = Date.now();
  const pubFile = join(work, 'pub.txt');
  writeFileSync(pubFile, pubText(0));
  zoneToolOk(['load_zone', '-i', pubFile, PUB]);
  writeFileSync(join(work, 'upd.txt'), pubText(0));
  for (const z of [UPD_SEQ, UPD_CONC]) zoneToolOk(['load_zone', '-i', join(work, 'upd.txt'), z]);
  // One zone per client for the run across zones (load_zones takes the zone name from the file name).
  const perZoneFiles = [];
  for (let c = 0; c < CONCURRENCY; c++) {
    perZoneFiles.push(join(work, updZone(c)));
    writeFileSync(perZoneFiles[c], pubText(0));
  }
  zoneToolOk(['load_zones', '-i', ...perZoneFiles]);
  const bigFile = join(work, 'big.txt');
  writeFileSync(bigFile, bigText(BIG_RECORDS));
  const tBig = Date.now();
  zoneToolOk(['load_zone', '-i', bigFile, BIG]);
  const bigLoadMs = Date.now() - tBig;
  const xfrKey = keyFromToolOutput(zoneToolOk(['generate_tsig_key', 'xfr.key']), 'xfr.key');
  const dynKey = keyFromToolOutput(zoneToolOk(['generate_tsig_key', 'dyn.key']), 'dyn.key');
  for (const z of [PUB, BIG]) zoneToolOk(['add_transfer_rule', z, 'key=xfr.key']);
  for (const z of [UPD_SEQ, UPD_CONC, BIG, ...perZoneFiles.map((_, c) => updZone(c))]) zoneToolOk(['add_update_grant', z, 'grant dyn.key zonesub ANY']);
  const namedPort = await freePort();
  const knotPort = await freePort();
  zoneToolOk(['add_also_notify', PUB, `127.0.0.1#${namedPort}`, 'key=xfr.key']);
  zoneToolOk(['add_also_notify', PUB, `127.0.0.1#${knotPort}`, 'key=xfr.key']);
  log(`set-up with zone_tool: ${fmt((Date.now() - t0) / 1000, 1)} s (the ${fmt(BIG_RECORDS)}-record zone loaded in ${fmt(bigLoadMs / 1000, 1)} s)`);

  const tStart = Date.now();
  const dmsd = await startDmsd();
  await until('dmsd serving', async () => (await soaSerial(dmsd.port, BIG)) !== undefined && (await soaSerial(dmsd.port, PUB)) !== undefined, dmsd.output, 120_000, 20);
  log(`dmsd: udp ${dmsd.port}, tcp ${dmsd.tcpPort}; serving all three zones ${fmt((Date.now() - tStart) / 1000, 1)} s after start`);
  const named = track(startNamedSecondary({ zone: PUB, primaryPort: dmsd.tcpPort, port: namedPort, key: xfrKey }));
  const knot = track(startKnotSecondary({ zone: PUB, primaryPort: dmsd.tcpPort, port: knotPort, key: xfrKey }));
  secondaryOutputs.push(['named', named.output], ['knotd', knot.output]);
  const pubSerial = await soaSerial(dmsd.port, PUB);
  for (const s of [named, knot])
    await until(`${s.label} initial transfer`, async () => (await soaSerial(s.port, PUB)) === pubSerial, s.output, 60_000, 20);
  log('named and knotd have the zone (initial AXFR)');

  // 1. Publish-to-secondary latency.
  log(`\n1. publish → secondaries: ${ROUNDS} rounds of zone_tool load_zone_zi adding one name to ${PUB}`);
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    writeFileSync(pubFile, pubText(r));
    const name = `v${r}.${PUB}`;
    const seen = {};
    const start = nowMs();
    let toolEnd;
    const tool = zoneToolAsync(['load_zone_zi', pubFile, PUB]).then(() => {
      toolEnd = nowMs();
    });
    const targets = [
      ['dmsd', dmsd.port],
      ['knotd', knot.port],
      ['named', named.port],
    ];
    await Promise.all(
      targets.map(async ([label, port]) => {
        const end = start + 30_000;
        while (!(await answers(port, name))) {
          if (nowMs() > end) throw new Error(`${label} did not answer ${name} within 30 s\n${label === 'dmsd' ? dmsd.output().slice(-3000) : ''}`);
          await sleep(10);
        }
        seen[label] = nowMs() - start;
      }),
    );
    await tool;
    const row = { round: r, zoneToolMs: toolEnd - start, ...Object.fromEntries(Object.entries(seen).map(([k, v]) => [`${k}Ms`, v])) };
    rows.push(row);
    log(
      `  round ${String(r).padStart(2)}: zone_tool ${fmt(row.zoneToolMs)} ms; answering after ${fmt(row.dmsdMs)} ms (dmsd), ` +
        `${fmt(row.knotdMs)} ms (knotd), ${fmt(row.namedMs)} ms (named) from the command's start`,
    );
    await sleep(200 + Math.floor(Math.random() * 300));
  }
  const col = (k) => rows.map((x) => x[k]);
  const afterTool = (k) => rows.map((x) => x[k] - x.zoneToolMs);
  results.publish = {
    rounds: ROUNDS,
    method: 'zone_tool load_zone_zi (one name added), then UDP polls every 10 ms until each server answers it',
    fromCommandStart: { zoneTool: summary(col('zoneToolMs')), dmsd: summary(col('dmsdMs')), knotd: summary(col('knotdMs')), named: summary(col('namedMs')) },
    fromCommandExit: { dmsd: summary(afterTool('dmsdMs')), knotd: summary(afterTool('knotdMs')), named: summary(afterTool('namedMs')) },
    rows,
  };
  const p = results.publish;
  log('  median (p90) from the start of zone_tool:');
  for (const k of ['zoneTool', 'dmsd', 'knotd', 'named'])
    log(`    ${k.padEnd(9)} ${fmt(p.fromCommandStart[k].medianMs).padStart(6)} ms (${fmt(p.fromCommandStart[k].p90Ms)} ms)`);
  log('  median (p90) from zone_tool exit (change committed):');
  for (const k of ['dmsd', 'knotd', 'named']) log(`    ${k.padEnd(9)} ${fmt(p.fromCommandExit[k].medianMs).padStart(6)} ms (${fmt(p.fromCommandExit[k].p90Ms)} ms)`);
  const worst = Math.max(p.fromCommandStart.knotd.medianMs, p.fromCommandStart.named.medianMs);
  log(`  target < 1 s median (from command start, slower secondary ${fmt(worst)} ms): ${worst < 1000 ? 'met' : 'NOT met'}`);

  // 2. UPDATE throughput.
  log(`\n2. signed UPDATE throughput (hmac-sha256, UDP, one A record added per update; zones start with ${pubText(0).split('\n').length - 3} records)`);
  for (const z of [UPD_SEQ, UPD_CONC]) await updateRun(dmsd.port, dynKey, () => z, 1, 10, 'warm');
  const show = (label, r) =>
    log(
      `  ${label.padEnd(40)} ${fmt(r.updates)} updates in ${fmt(r.seconds, 2)} s = ${fmt(r.perSecond, 1)}/s; ` +
        `latency median ${fmt(r.latency.medianMs, 1)} ms, p90 ${fmt(r.latency.p90Ms, 1)} ms, max ${fmt(r.latency.maxMs, 1)} ms ` +
        `(first tenth ${fmt(r.firstTenthMedianMs, 1)} ms, last tenth ${fmt(r.lastTenthMedianMs, 1)} ms)`,
    );
  const seq = await updateRun(dmsd.port, dynKey, () => UPD_SEQ, 1, UPDATES, 'seq');
  show('sequential, one zone:', seq);
  const perClient = Math.ceil(UPDATES / CONCURRENCY);
  const conc = await updateRun(dmsd.port, dynKey, () => UPD_CONC, CONCURRENCY, perClient, 'conc');
  show(`${CONCURRENCY} concurrent clients, one zone:`, conc);
  const spread = await updateRun(dmsd.port, dynKey, updZone, CONCURRENCY, perClient, 'spread');
  show(`${CONCURRENCY} concurrent clients, a zone each:`, spread);
  // Acknowledged means applied: the last name of each run is served.
  const probe = [`seq-c0-${UPDATES - 1}.${UPD_SEQ}`, `conc-c${CONCURRENCY - 1}-${perClient - 1}.${UPD_CONC}`, `spread-c${CONCURRENCY - 1}-${perClient - 1}.${updZone(CONCURRENCY - 1)}`];
  for (const n of probe) await until(`dmsd answering ${n} (its UPDATE was acknowledged)`, () => answers(dmsd.port, n), dmsd.output, 5000, 20);
  results.update = { sequential: seq, concurrentOneZone: conc, concurrentZoneEach: spread, verified: probe };

  // 3. IXFR versus AXFR after a one-record change.
  log(`\n3. IXFR vs AXFR: ${fmt(BIG_RECORDS)}-record zone ${BIG}, one A record added by a signed UPDATE`);
  const oldSerial = await soaSerial(dmsd.port, BIG);
  const cl = updateClient();
  let bigUpdateMs;
  try {
    // dmsd reads and saves the whole zone for an update: on a large zone that takes seconds, so wait long (one
    // request, no retransmission: the measured time is one update's).
    bigUpdateMs = await sendUpdate(cl.sock, cl.pending, dmsd.port, dynKey, BIG, `one-change.${BIG}`, [192, 0, 2, 77], 300_000);
  } finally {
    cl.close();
  }
  log(`  the UPDATE (one A record) on the ${fmt(BIG_RECORDS)}-record zone was answered after ${fmt(bigUpdateMs)} ms`);
  await until('dmsd serves the change', async () => (await soaSerial(dmsd.port, BIG)) !== oldSerial, dmsd.output, 30_000, 20);
  const newSerial = await soaSerial(dmsd.port, BIG);
  const xfr = (type, plain = false) => {
    const t = nowMs();
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(dmsd.tcpPort), '+tcp', '+tries=1', '+time=30', '-y', keySpec(xfrKey), BIG, type], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const ms = nowMs() - t;
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (plain) {
      if (!/status: NOERROR/.test(out)) throw new Error(`dig ${type} failed:\n${out.slice(-3000)}`);
      return { wallMs: ms };
    }
    const m = /XFR size:\s+(\d+) records \(messages (\d+), bytes (\d+)\)/.exec(out);
    if (!m) throw new Error(`dig ${type} failed:\n${out.slice(-3000)}`);
    if (/Transfer failed|tsig verify failure|TSIG.*fail/i.test(out)) throw new Error(`dig ${type}: ${out.slice(-2000)}`);
    const q = /Query time:\s+(\d+) msec/.exec(out);
    return {
      records: Number(m[1]),
      messages: Number(m[2]),
      bytes: Number(m[3]),
      wallMs: ms,
      ...(q ? { digQueryTimeMs: Number(q[1]) } : {}),
      hasChange: out.includes('one-change.big.bench.'),
    };
  };
  const soaOverTcp = xfr('SOA', true);
  const axfr = xfr('AXFR');
  const ixfr = xfr(`IXFR=${oldSerial}`);
  if (!ixfr.hasChange || !axfr.hasChange) throw new Error('the transferred data lacks the changed record');
  log(`  serial ${oldSerial} → ${newSerial}`);
  log(`  AXFR: ${fmt(axfr.bytes)} bytes, ${fmt(axfr.messages)} messages, ${fmt(axfr.records)} records, ${fmt(axfr.wallMs)} ms (dig process)`);
  log(`  IXFR: ${fmt(ixfr.bytes)} bytes, ${fmt(ixfr.messages)} messages, ${fmt(ixfr.records)} records, ${fmt(ixfr.wallMs)} ms (dig process)`);
  log(`  IXFR is ${fmt(axfr.bytes / ixfr.bytes)} times smaller; for scale, a signed SOA query with dig over TCP took ${fmt(soaOverTcp.wallMs)} ms`);
  results.transfer = { zoneRecords: BIG_RECORDS, updateMs: bigUpdateMs, digSoaOverTcpMs: soaOverTcp.wallMs, oldSerial, newSerial, axfr, ixfr, ratio: axfr.bytes / ixfr.bytes };

  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwritten to ${outFile}`);
} finally {
  for (const c of children.reverse()) await c.stop();
  if (keep && dmsdOutput) writeFileSync(join(work, 'dmsd.log'), dmsdOutput());
  if (keep) for (const [label, out] of secondaryOutputs) writeFileSync(join(work, `${label}.log`), out());
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
