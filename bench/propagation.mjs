#!/usr/bin/env node

// Commit → secondary (issue 17, "Propagation"), run after `npm run build`: how long after a primary acknowledges an
// RFC 2136 UPDATE (its NOERROR answer: the change is committed and durable) a BIND and a Knot secondary answer the
// new data (NOTIFY → SOA query → IXFR → served). Three primaries of the same zone, each measured the same way in the
// same run, one after the other:
//   - dmsd (SQLite database, configured with zone_tool) → named and knotd secondaries;
//   - named (primary, update-policy, journal on disk) → a knotd secondary;
//   - knotd (primary, update ACL, journal on disk) → a named secondary.
// Each round sends one TSIG-signed UPDATE adding a name to each primary in turn, and polls the primary and its
// secondaries over UDP (one query at a time, a new one as soon as the last is answered) until each answers the name.
// Reported: median and p90 from the UPDATE's answer, and from the UPDATE being sent. Peers run with their defaults but
// named's notify-delay, set to 0 (its default of 5 s paces NOTIFYs to a secondary; dmsd and knotd send at once).
//
//   node bench/propagation.mjs [--rounds 30] [--records 1000] [--out bench/out/propagation.json] [--keep]

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, have, startNamedPrimary as namedPrimary, ROOT, sleep, testHelper, udpQuery } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ROUNDS = argOf('--rounds', 30);
const RECORDS = argOf('--records', 1000);
const KEEP = argv.includes('--keep');
const outIdx = argv.indexOf('--out');
const outFile = resolve(outIdx >= 0 ? argv[outIdx + 1] : join(ROOT, 'bench', 'out', 'propagation.json'));
const ZONE = 'prop.bench';
const TARGET_MEDIAN_MS = 20;
const TARGET_P90_MS = 50;

for (const p of ['knotd', 'named', 'dig']) {
  if (!have(p)) {
    console.error(`bench/propagation: ${p} is required (apt-get install knot bind9 bind9-dnsutils)`);
    process.exit(1);
  }
}

const { signMessage, verifyResponse, keyToBindConfig, keyToKnotConfig } = await import('../dist/dns/tsig.js');
const { emptyMessage, encodeMessage, decodeMessage } = await import('../dist/dns/message.js');
const { Name } = await import('../dist/dns/name.js');
const { Opcode, RRClass, RRType } = await import('../dist/dns/constants.js');
const { spawnLogged, knotServerConf } = await testHelper('servers');
const { startKnotSecondary, startNamedSecondary, until } = await testHelper('secondaries');
const { startDmsdOn, zoneTool, zoneToolKey } = await testHelper('acme');

const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : Number.NaN;
};
const summary = (xs) => ({ medianMs: Math.round(quantile(xs, 0.5) * 10) / 10, p90Ms: Math.round(quantile(xs, 0.9) * 10) / 10, maxMs: Math.round(Math.max(...xs) * 10) / 10, n: xs.length });
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const work = mkdtempSync(join(tmpdir(), 'dms-bench-propagation-'));
const stops = [];

function zoneText() {
  const lines = ['$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; lines.length - 1 < RECORDS; i++) lines.push(i % 2 ? `n${i} TXT "record ${i}"` : `n${i} A 198.18.${(i >> 8) & 0xff}.${i & 0xff}`);
  return `${lines.join('\n')}\n`;
}

const keyId = (k) => k.name.toString().replace(/\.$/, '');

async function soaSerial(port) {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+short', '+norec', ZONE, 'SOA'], { encoding: 'utf8' });
  const f = (r.stdout ?? '').trim().split(/\s+/);
  return f.length >= 7 ? Number(f[2]) : undefined;
}

/** Does the server on `port` answer `name` A authoritatively with data? */
async function answers(port, name) {
  const r = await udpQuery(port, name, 1, 200);
  return r !== undefined && (r[2] & 0x04) !== 0 && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0;
}

/** One signed UPDATE adding `owner` A; resolves with [sent, answered] (ms, nowMs clock); throws unless NOERROR and verified. */
function update(port, key, owner, ip) {
  const sock = dgram.createSocket('udp4');
  const id = Math.floor(Math.random() * 65536);
  const m = emptyMessage(id);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
  m.authority = [{ name: Name.from(owner), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: Uint8Array.from(ip) }];
  const { bytes, mac } = signMessage(encodeMessage(m), key, Date.now() / 1000);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      sock.close();
      rej(new Error(`UPDATE ${owner} to port ${port}: no answer within 10 s`));
    }, 10_000);
    let sent;
    sock.on('message', (raw) => {
      if (raw.readUInt16BE(0) !== id) return;
      const answered = nowMs();
      clearTimeout(timer);
      sock.close();
      const a = decodeMessage(new Uint8Array(raw));
      if (a.rcode !== 0) return rej(new Error(`UPDATE ${owner} to port ${port}: rcode ${a.rcode}`));
      if (a.tsigOffset === undefined || verifyResponse(new Uint8Array(raw), a.tsigOffset, key, mac, Date.now() / 1000) !== 0) return rej(new Error(`UPDATE ${owner}: answer not verified`));
      res([sent, answered]);
    });
    sent = nowMs();
    sock.send(bytes, port, '127.0.0.1');
  });
}

// ---- the three primaries --------------------------------------------------------------------------------------------

async function startNamedPrimary(zoneFile, key, secondaryPort) {
  const p = await namedPrimary({
    dir: join(work, 'named-primary'),
    zoneFile,
    zone: ZONE,
    keyName: keyId(key),
    keyConfig: keyToBindConfig(key),
    options: ['notify-delay 0;'],
    zoneOptions: `allow-transfer { key "${keyId(key)}"; }; notify explicit; also-notify { 127.0.0.1 port ${secondaryPort} key "${keyId(key)}"; };`,
  });
  stops.push(p.stop);
  return { label: 'named', port: p.port, output: p.output };
}

async function startKnotPrimary(zoneFile, key, secondaryPort) {
  const dir = join(work, 'knotd-primary');
  mkdirSync(dir);
  const file = join(dir, 'zone.db');
  copyFileSync(zoneFile, file);
  const port = await freePort();
  const conf = join(dir, 'knot.conf');
  writeFileSync(
    conf,
    [
      ...knotServerConf(dir, port, { logLevel: 'notice' }),
      keyToKnotConfig(key).trimEnd(),
      'remote:',
      '  - id: secondary',
      `    address: 127.0.0.1@${secondaryPort}`,
      `    key: ${keyId(key)}`,
      'acl:',
      '  - id: upd-xfr',
      `    key: ${keyId(key)}`,
      '    action: [update, transfer]',
      'template:',
      '  - id: default',
      `    storage: "${dir}"`,
      '    semantic-checks: off',
      '    zonefile-sync: -1',
      '    zonefile-load: whole',
      '    journal-content: changes',
      'zone:',
      `  - domain: "${ZONE}"`,
      `    file: "${file}"`,
      '    acl: upd-xfr',
      '    notify: secondary',
      '',
    ].join('\n'),
  );
  const p = spawnLogged('knotd', ['-c', conf], { dir, killAfterMs: 5000 });
  stops.push(p.stop);
  await until('knotd primary serving', async () => (await soaSerial(port)) !== undefined, p.output, 60_000, 50);
  return { label: 'knotd', port, output: p.output };
}

// ---- the run --------------------------------------------------------------------------------------------------------

const results = {
  date: new Date().toISOString(),
  command: `node bench/propagation.mjs ${argv.join(' ')}`.trim(),
  machine: { nproc: cpus().length, node: process.version },
  loadAverageAtStart: loadavg(),
  rounds: ROUNDS,
  records: RECORDS,
  method:
    'one TSIG-signed UPDATE adding a name; the primary and its secondaries polled over UDP back to back until each answers it; times from the UPDATE answer (commit) and from its sending',
  targets: { medianMs: TARGET_MEDIAN_MS, p90Ms: TARGET_P90_MS },
};
log(`bench/propagation: ${ROUNDS} rounds, ${fmt(RECORDS)}-record zone; load ${results.loadAverageAtStart}`);

try {
  const zoneFile = join(work, 'zone.txt');
  writeFileSync(zoneFile, zoneText());

  // dmsd, configured as an operator would.
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const P = { dataDir };
  zoneTool(P, ['load_zone', '-i', zoneFile, ZONE]);
  const key = zoneToolKey(P, 'prop.key');
  zoneTool(P, ['add_transfer_rule', ZONE, 'key=prop.key']);
  zoneTool(P, ['add_update_grant', ZONE, 'grant prop.key zonesub ANY']);
  const ports = { dmsdNamed: await freePort(), dmsdKnot: await freePort(), namedKnot: await freePort(), knotNamed: await freePort() };
  zoneTool(P, ['add_also_notify', ZONE, `127.0.0.1#${ports.dmsdNamed}`, 'key=prop.key']);
  zoneTool(P, ['add_also_notify', ZONE, `127.0.0.1#${ports.dmsdKnot}`, 'key=prop.key']);
  const dmsdProc = await startDmsdOn(P, ['--no-http']);
  stops.push(() => dmsdProc.stop('SIGTERM'));
  await until('dmsd serving', async () => (await soaSerial(dmsdProc.port)) !== undefined, dmsdProc.output, 60_000, 50);
  const dmsd = { label: 'dmsd', port: dmsdProc.port, tcpPort: dmsdProc.tcpPort, output: dmsdProc.output };

  const named = await startNamedPrimary(zoneFile, key, ports.namedKnot);
  const knot = await startKnotPrimary(zoneFile, key, ports.knotNamed);

  const secondary = (start, label, primary, port) => {
    const s = start({ zone: ZONE, primaryPort: primary.tcpPort ?? primary.port, port, key });
    stops.push(() => s.stop());
    return { label, port, output: s.output };
  };
  const pairs = [
    { primary: dmsd, secondaries: [secondary(startNamedSecondary, 'named', dmsd, ports.dmsdNamed), secondary(startKnotSecondary, 'knotd', dmsd, ports.dmsdKnot)] },
    { primary: named, secondaries: [secondary(startKnotSecondary, 'knotd', named, ports.namedKnot)] },
    { primary: knot, secondaries: [secondary(startNamedSecondary, 'named', knot, ports.knotNamed)] },
  ];
  for (const { primary, secondaries } of pairs) {
    const serial = await soaSerial(primary.port);
    for (const s of secondaries) await until(`${primary.label} → ${s.label} first transfer`, async () => (await soaSerial(s.port)) === serial, s.output, 60_000, 50);
  }
  log('every secondary holds its primary\'s zone');

  // Warm-up: two rounds not counted (first IXFRs, first NOTIFY paths).
  const rows = {};
  for (let r = -1; r <= ROUNDS; r++) {
    for (const { primary, secondaries } of pairs) {
      const owner = `u${r + 2}.${ZONE}`;
      const [sent, acked] = await update(primary.port, key, owner, [10, 0, (r + 2) >> 8, (r + 2) & 0xff]);
      const seen = {};
      await Promise.all(
        [primary, ...secondaries].map(async (s) => {
          const deadline = nowMs() + 30_000;
          while (!(await answers(s.port, owner))) if (nowMs() > deadline) throw new Error(`${primary.label} → ${s.label}: ${owner} not answered within 30 s\n${s.output().slice(-3000)}`);
          seen[s.label] = nowMs();
        }),
      );
      if (r < 1) continue;
      for (const s of [primary, ...secondaries]) {
        const k = s === primary ? `${primary.label} (primary)` : `${primary.label} → ${s.label}`;
        rows[k] ??= { fromAck: [], fromSend: [] };
        rows[k].fromAck.push(seen[s.label] - acked);
        rows[k].fromSend.push(seen[s.label] - sent);
      }
      (rows[`${primary.label} UPDATE answer`] ??= { fromAck: [], fromSend: [] }).fromSend.push(acked - sent);
      await sleep(100 + Math.floor(Math.random() * 200));
    }
  }

  results.pairs = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { fromAck: v.fromAck.length ? summary(v.fromAck) : undefined, fromSend: summary(v.fromSend) }]));
  results.loadAverageAtEnd = loadavg();
  log(`\ncommit → answering (ms; median / p90 / max over ${ROUNDS} rounds), load at the end ${results.loadAverageAtEnd}:`);
  log(`  ${'path'.padEnd(24)} ${'from UPDATE answer'.padStart(26)} ${'from UPDATE sent'.padStart(26)}`);
  const cell = (s) => (s ? `${fmt(s.medianMs, 1)} / ${fmt(s.p90Ms, 1)} / ${fmt(s.maxMs, 1)}` : '—').padStart(26);
  for (const [k, v] of Object.entries(results.pairs)) log(`  ${k.padEnd(24)} ${cell(v.fromAck)} ${cell(v.fromSend)}`);
  const judged = ['dmsd → named', 'dmsd → knotd'].map((k) => [k, results.pairs[k].fromAck]);
  results.met = judged.every(([, s]) => s.medianMs <= TARGET_MEDIAN_MS && s.p90Ms <= TARGET_P90_MS);
  log(
    `target (from commit) median ≤ ${TARGET_MEDIAN_MS} ms, p90 ≤ ${TARGET_P90_MS} ms: ${judged.map(([k, s]) => `${k} ${fmt(s.medianMs, 1)} / ${fmt(s.p90Ms, 1)}`).join(', ')}: ${results.met ? 'met' : 'NOT met'}`,
  );
  const peer = (k) => results.pairs[k]?.fromAck?.medianMs;
  log(`peers, same run: named → knotd ${fmt(peer('named → knotd'), 1)} ms, knotd → named ${fmt(peer('knotd → named'), 1)} ms (median from the UPDATE answer)`);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`written ${outFile}`);
} finally {
  for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
