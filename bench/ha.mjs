// High availability (issue 13), on real PostgreSQL clusters on loopback: a primary and a hot standby made with
// pg_basebackup -R (test/helpers/pg-replica.ts), two dmsd (dist/) on the primary, one on the standby. Run once per
// replication mode (synchronous, asynchronous):
//   - replica lag under a steady UPDATE load: --rate TSIG-signed UPDATEs a second for --seconds to a dmsd on the
//     primary; for each NOERROR, the time until the replica's dmsd answers the new record (polled every 5 ms);
//   - failover time: kill -9 of the leader → the first NOTIFY from the new leader reaching a NOTIFY target (a UDP
//     socket registered with add_also_notify that answers every NOTIFY);
//   - promotion time: promote_replica on the standby → the first UPDATE its dmsd accepts (tried every 20 ms).
// Prints a table and writes bench/out/ha.json.
//
//   node bench/ha.mjs [--rate 20] [--seconds 10] [--mode sync|async|both]   (after npm run build)

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, sleep, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RATE = Number(argOf('--rate', 20));
const SECONDS = Number(argOf('--seconds', 10));
const MODE = argOf('--mode', 'both');
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] : NaN);

const { startReplicatedPostgres } = await testHelper('pg-replica');
const { startDmsdOn, zoneTool, zoneToolKey } = await testHelper('acme');
const { udpExchange, query } = await testHelper('dns-client');
const { Name } = await import('../dist/dns/name.js');
const { Opcode, Rcode, RRClass, RRType } = await import('../dist/dns/constants.js');
const { decodeMessage, emptyMessage, encodeMessage } = await import('../dist/dns/message.js');
const { signMessage } = await import('../dist/dns/tsig.js');
const { rrText } = await testHelper('xfr.support');

const ZONE = Name.from('ha.bench');

function update(i, key) {
  const m = emptyMessage((i * 7919) & 0xffff);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: ZONE, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [rrText(`u${i} 300 TXT v${i}`, ZONE)];
  return signMessage(encodeMessage(m), key, Date.now() / 1000).bytes;
}

async function send(server, key, i) {
  try {
    const r = decodeMessage(await udpExchange(server.port, update(i, key), 2000));
    return r.rcode;
  } catch {
    return undefined;
  }
}

async function has(port, i) {
  const a = await query(port, { name: Name.parse(`u${i}`, ZONE), type: RRType.TXT }, 500).catch(() => undefined);
  return (a?.msg?.answer ?? []).some((x) => x.type === RRType.TXT);
}

/** A NOTIFY target: answers each NOTIFY (QR set) and keeps the arrival times. */
async function notifyTarget() {
  const sock = dgram.createSocket('udp4');
  const times = [];
  sock.on('message', (msg, rinfo) => {
    times.push(Date.now());
    const out = Buffer.from(msg);
    out[2] |= 0x80;
    sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, times, close: () => sock.close() };
}

async function runMode(synchronous) {
  const mode = synchronous ? 'synchronous' : 'asynchronous';
  console.log(`\n-- ${mode} replication`);
  const cluster = await startReplicatedPostgres({ synchronous });
  const dirs = [mkdtempSync(join(tmpdir(), 'dms-bha-p-')), mkdtempSync(join(tmpdir(), 'dms-bha-s-'))];
  const servers = [];
  const target = await notifyTarget();
  try {
    const db = await cluster.createDatabase();
    const P = { dataDir: dirs[0], databaseUrl: cluster.primaryUrl(db) };
    const S = { dataDir: dirs[1], databaseUrl: cluster.standbyUrl(db) };
    zoneTool(P, ['create_zone', '-i', ZONE.toString()]);
    const key = zoneToolKey(P, 'ha._update.ha.bench');
    zoneTool(P, ['add_also_notify', ZONE.toString(), `127.0.0.1#${target.port}`]);
    const a = await startDmsdOn(P, ['--no-http', '--peer-database-url', S.databaseUrl]);
    const b = await startDmsdOn(P, ['--no-http', '--peer-database-url', S.databaseUrl]);
    servers.push(a, b);
    await cluster.waitReplayed();
    const r = await startDmsdOn(S, ['--no-http', '--peer-database-url', P.databaseUrl]);
    servers.push(r);
    // Which one leads (the one that logged taking the lease).
    await sleep(2500);
    const bLeads = /leader lease taken/.test(b.output());
    const leader = bLeads ? b : a;
    const follower = bLeads ? a : b;

    // 1. Replica lag under a steady load, sent to the follower (so the kill below does not interrupt it).
    const lags = [];
    const polls = [];
    let i = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < SECONDS * 1000) {
      const due = t0 + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const n = ++i;
      // Sent at the rate whatever the answer time (each waits for its own NOERROR, then polls the replica).
      polls.push(
        (async () => {
          const rc = await send(follower, key, n);
          if (rc !== Rcode.NOERROR) throw new Error(`update ${n}: rcode ${rc}`);
          const acked = Date.now();
          while (!(await has(r.port, n))) {
            if (Date.now() - acked > 30_000) throw new Error(`u${n} never reached the replica`);
            await sleep(5);
          }
          lags.push(Date.now() - acked);
        })(),
      );
    }
    const achieved = i / ((Date.now() - t0) / 1000);
    await Promise.all(polls);
    const lag = { updates: i, rate: RATE, achievedRate: Math.round(achieved * 10) / 10, p50: pct(lags, 0.5), p90: pct(lags, 0.9), max: Math.max(...lags) };
    console.log(`replica lag (NOERROR on the primary → served by the replica's dmsd), ${i} updates at ${lag.achievedRate}/s: median ${lag.p50} ms, p90 ${lag.p90} ms, max ${lag.max} ms`);

    // 2. Failover: kill -9 of the leader → first NOTIFY (from the new leader) at the target, updates continuing.
    await sleep(1000);
    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    let firstNotify;
    while (firstNotify === undefined) {
      await send(follower, key, ++i);
      firstNotify = target.times.find((t) => t > killedAt);
      if (Date.now() - killedAt > 60_000) throw new Error('no NOTIFY after the kill');
      await sleep(20);
    }
    const failoverMs = firstNotify - killedAt;
    console.log(`failover: kill -9 of the leader → first NOTIFY by the new leader: ${failoverMs} ms`);

    // 3. Promotion: promote_replica → first UPDATE accepted by the replica's dmsd.
    await cluster.waitReplayed();
    const p0 = Date.now();
    const pr = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', S.dataDir, '--database-url', S.databaseUrl, 'promote_replica'], { encoding: 'utf8' });
    if (pr.status !== 0) throw new Error(`promote_replica failed: ${pr.stdout}${pr.stderr}`);
    const promotedMs = Date.now() - p0;
    let acceptedMs;
    while (acceptedMs === undefined) {
      if ((await send(r, key, ++i)) === Rcode.NOERROR) acceptedMs = Date.now() - p0;
      else if (Date.now() - p0 > 60_000) throw new Error(`the promoted side accepts no UPDATE:\n${r.output().slice(-2000)}`);
      else await sleep(20);
    }
    console.log(`promotion: promote_replica returned after ${promotedMs} ms; first UPDATE accepted after ${acceptedMs} ms`);
    return { mode, lag, failoverMs, promotion: { promoteReturnedMs: promotedMs, firstUpdateMs: acceptedMs } };
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    target.close();
    await cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

const results = { date: new Date().toISOString(), loadAverageAtStart: loadavg(), rate: RATE, seconds: SECONDS, runs: [] };
console.log(`bench/ha: load average at start ${results.loadAverageAtStart}`);
let failed = false;
try {
  if (MODE === 'sync' || MODE === 'both') results.runs.push(await runMode(true));
  if (MODE === 'async' || MODE === 'both') results.runs.push(await runMode(false));
} catch (e) {
  failed = true;
  console.error(`bench/ha failed: ${e.stack ?? e}`);
}
results.loadAverageAtEnd = loadavg();
console.log(`load average at end ${results.loadAverageAtEnd}`);
mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'out', 'ha.json'), `${JSON.stringify(results, null, 2)}\n`);
process.exit(failed ? 1 : 0);
