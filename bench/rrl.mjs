#!/usr/bin/env node
// Response rate limiting under a flood (issue 15): dmsd --rrl against knotd with mod-rrl, the same limit and slip.
// One UDP socket floods one name as fast as it can send (a worker thread) while another source (another /24 on
// loopback) asks normal queries 50 times a second. Printed per server: what the flooder sent and got back (answers,
// truncated slips), the normal source's answered share and slowest answer, and the server's CPU time per flood
// packet sent (utime + stime from /proc: how cheap limiting is), and the datagrams the kernel dropped at the server's
// socket (its receive queue full: where a normal source's losses happen).
//
//   node bench/rrl.mjs [--seconds 5] [--rate 100]
// Results also in bench/out/rrl.json.

import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dmsdUdpPort, freePort, ROOT, testHelper, waitSoa } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SECONDS = opt('--seconds', 5);
const RATE = opt('--rate', 100);
const ZONE = 'example.org';
const ZONE_FILE = join(ROOT, 'examples', `${ZONE}.zone`);

function query(name, id) {
  const labels = name.split('.');
  const parts = [Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
}

/** Datagrams the kernel dropped at the UDP sockets bound to `port` ("drops" of /proc/net/udp): a full receive queue. */
function socketDrops(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const c = line.trim().split(/\s+/);
    if (c.length >= 13 && c[1].endsWith(hex)) n += Number(c[12]);
  }
  return n;
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
}

/** The test suite's one-socket flooder (test/helpers/flood.ts), from 127.0.0.1 for `ms`. */
async function flood(port, ms) {
  const { flood: floodFrom } = await testHelper('flood');
  return floodFrom(port, '127.0.0.1', ms, `www.${ZONE}`);
}

async function normal(port, ms) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.1.0.1', r));
  const sentAt = new Map();
  let answered = 0;
  let maxMs = 0;
  sock.on('message', (m) => {
    const id = (m[0] << 8) | m[1];
    const t = sentAt.get(id);
    if (t === undefined) return;
    sentAt.delete(id);
    if (!(m[2] & 0x02) && (m[3] & 0x0f) === 0 && ((m[6] << 8) | m[7]) > 0) {
      answered++;
      maxMs = Math.max(maxMs, Date.now() - t);
    }
  });
  let sent = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    sock.send(query(`mail.${ZONE}`, sent & 0xffff), port, '127.0.0.1');
    sentAt.set(sent & 0xffff, Date.now());
    sent++;
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1000));
  sock.close();
  return { sent, answered, maxMs };
}

async function run(label, port, pid) {
  // Let the previous run's debt expire (knotd's and dmsd's buckets are keyed on the same loopback prefixes).
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = cpuMs(pid);
  const drops0 = socketDrops(port);
  const [f, n] = await Promise.all([flood(port, SECONDS * 1000), normal(port, SECONDS * 1000)]);
  const cpu = cpuMs(pid) - cpu0;
  const serverSocketDrops = socketDrops(port) - drops0;
  const r = {
    label,
    floodSent: f.sent,
    floodPps: Math.round(f.sent / SECONDS),
    floodAnswers: f.answers,
    floodTruncated: f.truncated,
    floodOther: f.other,
    normalSent: n.sent,
    normalAnswered: n.answered,
    normalPct: Math.round((1000 * n.answered) / n.sent) / 10,
    normalSlowestMs: n.maxMs,
    serverSocketDrops,
    serverCpuMs: Math.round(cpu),
    cpuUsPerFloodPacket: Math.round((cpu * 1000 * 100) / f.sent) / 100,
  };
  console.log(
    `${label.padEnd(6)} flood ${r.floodSent} sent (${r.floodPps}/s): ${r.floodAnswers} answers, ${r.floodTruncated} TC, ${r.floodOther} other; ` +
      `normal ${r.normalAnswered}/${r.normalSent} (${r.normalPct} %, slowest ${r.normalSlowestMs} ms); server socket drops ${r.serverSocketDrops}; server CPU ${r.serverCpuMs} ms = ${r.cpuUsPerFloodPacket} µs per flood packet`,
  );
  return r;
}

const { spawnLogged } = await testHelper('servers');
const { knotRrlConf } = await testHelper('flood');
const results = { seconds: SECONDS, rate: RATE, slip: 2, loadAverageAtStart: loadavg() };

// dmsd
const dmsdEntry = join(ROOT, 'dist', 'daemon', 'main.js');
if (!existsSync(dmsdEntry)) throw new Error('dist/daemon/main.js missing: run npm run build');
const dir = mkdtempSync(join(tmpdir(), 'dms-bench-rrl-'));
const zonesDir = join(dir, 'zones');
mkdirSync(zonesDir);
writeFileSync(join(zonesDir, ZONE), readFileSync(ZONE_FILE));
writeFileSync(join(dir, 'dmsd.conf'), 'rrl_slip = 2\n');
const d = spawnLogged(process.execPath, [dmsdEntry, '--no-database', '--zones', zonesDir, '--listen', '127.0.0.1:0', '--rrl', String(RATE), '--config', join(dir, 'dmsd.conf')], { cwd: ROOT });
const dport = await dmsdUdpPort(d.proc, d.output);
await waitSoa(dport, ZONE, d.proc);
console.log(`RRL under flood, ${SECONDS} s each, ${RATE} responses/s, slip 2 (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
try {
  results.dmsd = await run('dmsd', dport, d.proc.pid);
} finally {
  await d.stop();
}

// knotd with mod-rrl
const kdir = mkdtempSync(join(tmpdir(), 'dms-bench-rrl-knot-'));
const kport = await freePort();
const conf = knotRrlConf(kdir, kport, RATE, ZONE, ZONE_FILE, 'notice');
writeFileSync(join(kdir, 'knot.conf'), conf);
const k = spawnLogged('knotd', ['-c', join(kdir, 'knot.conf')], { dir: kdir });
await waitSoa(kport, ZONE, k.proc);
try {
  results.knotd = await run('knotd', kport, k.proc.pid);
} finally {
  await k.stop();
}

results.loadAverageAtEnd = loadavg();
mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'out', 'rrl.json'), `${JSON.stringify(results, null, 2)}\n`);
