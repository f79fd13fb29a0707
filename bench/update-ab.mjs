// Two dmsd side by side, one sequential UPDATE at a time taking turns between them: A/B for a change to the UPDATE
// path (another build, another store layout) finer than runs taking turns. Whatever drifts on the machine meanwhile
// (another process, the disk, the CPU's frequency) falls on A and B within a millisecond of each other, so a
// difference of ~10 µs in the median shows, where a pass of nsupdate moves ±10 % from run to run.
//
// Each dmsd gets its own store made as operators make one (zone_tool load_zone of a zone of --records A records, a
// TSIG key, an update grant) and runs with --data. The client is ours: UDP, TSIG hmac-sha256, one A record added per
// UPDATE, the next one sent when the answer (NOERROR) is in. After --warmup UPDATEs each, --updates each are timed,
// the order within each pair alternating. Printed: median, p90 and mean of each, the difference of the medians, and
// (with --block) the differences paired block by block with a 90 % bootstrap interval.
//
// Options: --records N (default 100000), --updates N (default 4000), --warmup N (default 2000),
//   --a-main PATH, --b-main PATH (dmsd's entry for A / B: default bin/dmsd; e.g. another tree's dist/daemon/main.js),
//   --a-sql SQL, --b-sql SQL (run by the sqlite3 shell on that store before its dmsd starts, e.g. a dropped index),
//   --single (one dmsd, the UPDATEs one after the other without the other's turn between them: the latency of one
//   UPDATE as a lone sequential client sees it; A and B are then two halves of the same run),
//   --under NAME (each UPDATE adds t<n>.NAME.<zone>: a name below NAME, as _acme-challenge.<host> is below a host),
//   --pause MS (the client waits MS milliseconds after each answer: UPDATEs that arrive at an idle server, as
//   DHCP servers and ACME clients send them; default 0).
//   --spin US (the client stays busy US microseconds after each answer before it sends the next UPDATE, as nsupdate
//   takes ~70–90 µs here: what a dmsd does after its answer then meets the next UPDATE, as in bench/update.mjs),
//   --block N (N UPDATEs to one dmsd, then N to the other, instead of one each: with --spin, each dmsd sees a
//   sequential client's stream, not one UPDATE a millisecond; default 1),
//   --notify (each zone gets an also-notify target, added with zone_tool, that answers every NOTIFY at once: a zone
//   with a secondary, whose NOTIFYs follow the UPDATEs).
//   --a-node-args 'FLAGS', --b-node-args 'FLAGS' (Node.js flags for that dmsd only); --a-args 'FLAGS', --b-args 'FLAGS'
//   (dmsd's own flags for that dmsd only, e.g. --no-http).
//   --dump FILE (every timed UPDATE as a line "label index µs sent", in the order sent, sent = process.hrtime.bigint()
//   when it was sent: where the slow ones fall, beside a server's own marks of the same clock).
//   --nsupdate ROUNDS (after the own client's part: ROUNDS rounds of one `nsupdate` pass of --ns-updates UPDATEs,
//   default 1000, to A and to B, the order alternating round by round — the figure bench/update.mjs's rounds give,
//   A beside B; printed: each round's UPDATE/s, the medians and the median of the rounds' B / A with a 90 % interval.
//   The same build on both sides gave 1.03 [1.00, 1.06] with 12 rounds here, the rounds themselves moving ±8 %: read
//   a B / A within ±4 % as no difference. With --updates 0 the own client's part is only the warm-up).
// Environment: BENCH_NODE_ARGS (Node.js flags for both dmsd).

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dmsdUdpPort, have, nsupdatePass, ROOT, testHelper, waitSoa, zoneToolSync } from './lib.mjs';
import { writeUpdateZone } from './zones.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RECORDS = Number(argOf('--records', 100_000));
const UPDATES = Number(argOf('--updates', 4000));
const WARMUP = Number(argOf('--warmup', 2000));
const SINGLE = argv.includes('--single');
const PAUSE_MS = Number(argOf('--pause', 0));
// Each UPDATE adds t<n>.UNDER.<zone> instead of t<n>.<zone>: a name below another, as an ACME client's
// _acme-challenge.<host> (records at UNDER itself come from --a-sql/--b-sql).
const UNDER = argOf('--under', undefined);
const SPIN_US = Number(argOf('--spin', 0));
const BLOCK = Math.max(1, Number(argOf('--block', 1)));
const NOTIFY = argv.includes('--notify');
const NS_ROUNDS = Number(argOf('--nsupdate', 0));
const NS_UPDATES = Number(argOf('--ns-updates', 1000));
const ZONE = 'upd.bench.test';
const KEY = 'upd.key';

if (NS_ROUNDS > 0 && !have('nsupdate')) {
  console.error('bench/update-ab: --nsupdate needs nsupdate (apt-get install bind9-dnsutils)');
  process.exit(2);
}
if (argOf('--a-sql') !== undefined || argOf('--b-sql') !== undefined) {
  if (!have('sqlite3')) {
    console.error('bench/update-ab: --a-sql/--b-sql need the sqlite3 shell (apt-get install sqlite3)');
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'dms-bench-update-ab-'));
const zoneFile = join(work, 'zone.txt');
await writeUpdateZone(zoneFile, RECORDS);

const zoneTool = (dataDir, args) => zoneToolSync(dataDir, args, 'bench@update-ab/Admin');

const { spawnLogged } = await testHelper('servers');
const stops = [];

// --notify: the secondary's part of a NOTIFY, acknowledged at once (RFC 1996 §3.7: the answer echoes the query).
let notifyPort = 0;
let notified = 0;
if (NOTIFY) {
  const ack = dgram.createSocket('udp4');
  ack.on('message', (m, r) => {
    notified++;
    const o = Buffer.from(m);
    o[2] |= 0x80;
    o[3] &= 0xf0;
    ack.send(o, r.port, r.address);
  });
  await new Promise((res) => ack.bind(0, '127.0.0.1', res));
  notifyPort = ack.address().port;
  stops.push(async () => ack.close());
}

async function start(label, main, sqlText, ownNodeArgs, dmsdArgs) {
  const dataDir = join(work, label);
  mkdirSync(dataDir);
  zoneTool(dataDir, ['load_zone', '-i', zoneFile, ZONE]);
  const out = zoneTool(dataDir, ['generate_tsig_key', KEY]);
  const secret = /:([A-Za-z0-9+/=]{16,})\s*$/m.exec(out)?.[1];
  if (!secret) throw new Error(`no secret in the output of generate_tsig_key:\n${out}`);
  zoneTool(dataDir, ['add_update_grant', ZONE, `grant ${KEY} zonesub ANY`]);
  if (NOTIFY) zoneTool(dataDir, ['add_also_notify', ZONE, `127.0.0.1#${notifyPort}`]);
  if (sqlText !== undefined) {
    const r = spawnSync('sqlite3', [join(dataDir, 'dms.sqlite'), sqlText], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sqlite3 ${sqlText}: ${r.stderr}`);
  }
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), ...(ownNodeArgs ? ownNodeArgs.split(' ') : [])];
  const { proc, output, stop } = spawnLogged(process.execPath, [...nodeArgs, resolve(main ?? join(ROOT, 'bin', 'dmsd')), '--data', dataDir, '--listen', '127.0.0.1:0', ...(dmsdArgs ? dmsdArgs.split(' ') : [])], {
    cwd: ROOT,
    killAfterMs: 10_000,
    maxOutput: 1 << 20,
  });
  stops.push(stop);
  const port = await dmsdUdpPort(proc, output);
  await waitSoa(port, ZONE, proc);
  return { label, port, secret };
}

const { signMessage, keyFromText } = await import('../dist/dns/tsig.js');
const { emptyMessage, encodeMessage } = await import('../dist/dns/message.js');
const { Name } = await import('../dist/dns/name.js');
const { Opcode, RRClass, RRType } = await import('../dist/dns/constants.js');

let a;
let b;
try {
  a = await start('a', argOf('--a-main'), argOf('--a-sql'), argOf('--a-node-args'), argOf('--a-args'));
  // --single: B is the same dmsd (its names kept apart from A's).
  b = SINGLE ? { ...a, label: 'b' } : await start('b', argOf('--b-main'), argOf('--b-sql'), argOf('--b-node-args'), argOf('--b-args'));
} catch (e) {
  // One dmsd failed to start: the other must not outlive us (it would keep its ports, the HTTP API's 8080 among them).
  for (const stop of stops) await stop();
  rmSync(work, { recursive: true, force: true });
  throw e;
}

const sock = dgram.createSocket('udp4');
let waiting;
sock.on('message', (m) => waiting?.(m));

/** One UPDATE adding t<i> (B's names numbered apart from A's), timed from its sending to its NOERROR answer, in µs. */
async function timedUpdate(srv, i) {
  const n = srv.label === 'b' ? i + 500_000 : i;
  const key = keyFromText(`hmac-sha256:${KEY}:${srv.secret}`);
  const msg = emptyMessage(n & 0xffff);
  msg.opcode = Opcode.UPDATE;
  msg.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
  msg.authority = [{ name: Name.from(`t${n}.${UNDER ? `${UNDER}.` : ''}${ZONE}`), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: Uint8Array.from([10, (n >> 16) & 255, (n >> 8) & 255, n & 255]) }];
  const { bytes } = signMessage(encodeMessage(msg), key, Date.now() / 1000);
  const t0 = process.hrtime.bigint();
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${srv.label}: UPDATE t${n} not answered within 10 s`)), 10_000);
    waiting = (r) => {
      if (r.readUInt16BE(0) !== (n & 0xffff)) return;
      clearTimeout(timer);
      if ((r[3] & 0x0f) !== 0) rej(new Error(`${srv.label}: UPDATE t${n} answered rcode ${r[3] & 0x0f}`));
      else res();
    };
    sock.send(bytes, srv.port, '127.0.0.1');
  });
  sentAt.push(t0);
  return Number(process.hrtime.bigint() - t0) / 1000;
}
const sentAt = [];

const nsRounds = [];

const lat = { a: [], b: [] };
const order = [];
try {
  for (let i = 0; i < WARMUP; i++) {
    await timedUpdate(a, 100_000 + i);
    await timedUpdate(b, 100_000 + i);
  }
  for (let i = 0; i < UPDATES; i += BLOCK) {
    const [first, second] = (i / BLOCK) % 2 === 0 ? [a, b] : [b, a];
    for (const srv of [first, second])
      for (let k = i; k < Math.min(i + BLOCK, UPDATES); k++) {
        lat[srv.label].push(await timedUpdate(srv, k));
        order.push(srv.label);
        if (PAUSE_MS > 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
        if (SPIN_US > 0) {
          const until = process.hrtime.bigint() + BigInt(Math.round(SPIN_US * 1000));
          while (process.hrtime.bigint() < until);
        }
      }
  }
  for (let r = 0; r < NS_ROUNDS; r++) {
    const from = 1_000_000 + r * NS_UPDATES;
    const [first, second] = r % 2 === 0 ? [a, b] : [b, a];
    const ms = {};
    // B's names numbered apart from A's (each has its own store, but the logs stay readable).
    for (const srv of [first, second]) ms[srv.label] = await nsupdatePass(srv, ZONE, KEY, 'n', srv.label === 'b' ? from + 5_000_000 : from, NS_UPDATES);
    nsRounds.push({ a: (NS_UPDATES * 1000) / ms.a, b: (NS_UPDATES * 1000) / ms.b });
  }
} finally {
  sock.close();
  for (const stop of stops) await stop();
  rmSync(work, { recursive: true, force: true });
}

const dumpFile = argOf('--dump');
if (dumpFile !== undefined) {
  const next = { a: 0, b: 0 };
  writeFileSync(dumpFile, order.map((l, k) => `${l} ${k} ${lat[l][next[l]++].toFixed(1)} ${sentAt[WARMUP * 2 + k]}\n`).join(''));
}

const stats = (xs) => {
  const s = [...xs].sort((p, q) => p - q);
  return { median: s[s.length >> 1], p90: s[Math.floor(s.length * 0.9)], mean: xs.reduce((p, q) => p + q, 0) / xs.length };
};
const sa = stats(lat.a);
const sb = stats(lat.b);
const line = (label, s) => `  ${label}: median ${s.median.toFixed(0)} µs, p90 ${s.p90.toFixed(0)} µs, mean ${s.mean.toFixed(0)} µs`;
console.log(
  `bench/update-ab: ${UPDATES} UPDATEs each, taking turns${BLOCK > 1 ? ` ${BLOCK} at a time` : ''}${SINGLE ? ' (one dmsd)' : ''}${PAUSE_MS > 0 ? `, ${PAUSE_MS} ms after each answer` : ''}${SPIN_US > 0 ? `, the client busy ${SPIN_US} µs after each answer` : ''}, zone of ${RECORDS} A records${NOTIFY ? `, an also-notify target (${notified} NOTIFYs answered)` : ''}`,
);
if (UPDATES > 0) {
  console.log(line('A', sa));
  console.log(line('B', sb));
  console.log(`  B − A: median ${(sb.median - sa.median).toFixed(0)} µs, mean ${(sb.mean - sa.mean).toFixed(0)} µs`);
}

// Paired by block: each block of B beside the block of A run right before or after it (the machine's drift falls on
// both), the difference of their medians and of their means; the mean of those differences with a 90 % bootstrap
// interval (deterministic resampling). An interval that holds 0 is no difference this run could tell.
const pairs = [];
for (let i = 0; i < UPDATES; i += BLOCK) {
  const ba = lat.a.slice(i, i + BLOCK);
  const bb = lat.b.slice(i, i + BLOCK);
  if (ba.length === 0 || bb.length === 0) continue;
  const [pa, pb] = [stats(ba), stats(bb)];
  pairs.push({ median: pb.median - pa.median, mean: pb.mean - pa.mean });
}
let seed = 0x9e3779b9;
const random = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const interval = (xs) => {
  const means = [];
  for (let r = 0; r < 2000; r++) {
    let sum = 0;
    for (let k = 0; k < xs.length; k++) sum += xs[Math.floor(random() * xs.length)];
    means.push(sum / xs.length);
  }
  means.sort((p, q) => p - q);
  const mean = xs.reduce((p, q) => p + q, 0) / xs.length;
  return `${mean.toFixed(0)} µs [${means[Math.floor(means.length * 0.05)].toFixed(0)}, ${means[Math.floor(means.length * 0.95)].toFixed(0)}]`;
};
if (pairs.length >= 5)
  console.log(
    `  B − A paired by block (${pairs.length} pairs of ${BLOCK}): block medians ${interval(pairs.map((p) => p.median))}, block means ${interval(pairs.map((p) => p.mean))} (90 % interval)`,
  );
if (nsRounds.length > 0) {
  const med = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
  const ratios = nsRounds.map((r) => r.b / r.a);
  const boot = [];
  for (let k = 0; k < 2000; k++) boot.push(med(ratios.map(() => ratios[Math.floor(random() * ratios.length)])));
  boot.sort((p, q) => p - q);
  console.log(`  nsupdate, ${nsRounds.length} rounds of ${NS_UPDATES} (UPDATE/s, A / B): ${nsRounds.map((r) => `${r.a.toFixed(0)} / ${r.b.toFixed(0)}`).join(', ')}`);
  console.log(
    `  nsupdate medians: A ${med(nsRounds.map((r) => r.a)).toFixed(0)}, B ${med(nsRounds.map((r) => r.b)).toFixed(0)} UPDATE/s; B / A by round: median ${med(ratios).toFixed(3)} [${boot[Math.floor(boot.length * 0.05)].toFixed(3)}, ${boot[Math.floor(boot.length * 0.95)].toFixed(3)}] (90 % interval)`,
  );
}
