// The floor under dmsd's sequential UPDATE: a minimal Node.js program doing what one UPDATE's commit does to dmsd's
// store, and nothing else. The store is made as operators make one (zone_tool load_zone of a zone of --records A
// records); the program opens it with better-sqlite3 as dmsd does (WAL, synchronous=FULL) and answers each datagram
// with: an HMAC-SHA256 of the request, BEGIN IMMEDIATE, the zone's row and the rows at the new owner read, the new
// zone version, the record, the zone row, the change-feed row and the audit row written, COMMIT (its fsync), an
// HMAC of the answer, the answer sent. No DNS parsing, no checks, no zone patched, no log.
//
// Its latency beside dmsd's and named's (bench/update-ab.mjs, bench/update.mjs: same machine, same kind of client)
// says what Node.js, SQLite and the fsync cost together and what dmsd's own layers add: measured in session 33
// (BENCHMARKS.md), this floor answers in ~0.38–0.43 ms, named in ~0.60, dmsd in ~0.65–0.70 (medians).
//
//   node bench/update-floor.mjs [--records 100000] [--updates 3000] [--spin US]
//   (--spin: the client stays busy US µs after each answer, as nsupdate takes ~70–90 µs; default 0)

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, zoneToolSync } from './lib.mjs';
import { writeUpdateZone } from './zones.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ZONE = 'upd.bench.test.';

if (argv[0] === '--serve') {
  // The responder (a process of its own, as a server is): --serve DBFILE; prints its port, then on SIGTERM the
  // medians of its transaction body and of its commit.
  const Database = createRequire(join(ROOT, 'package.json'))('better-sqlite3');
  const db = new Database(argv[1]);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const zone = db.prepare('select * from zones where name = ?').get(ZONE);
  const zi = db.prepare('select * from zone_instances where zone_id = ? and version = ?').get(zone.id, zone.latest_version);
  let version = zone.latest_version;
  const begin = db.prepare('begin immediate');
  const commit = db.prepare('commit');
  const zoneRow = db.prepare("select * from zones where name = ? and state <> 'DELETED'");
  const ownerRows = db.prepare('select * from records where zone_id = ? and to_version is null and owner_key = ?');
  const insertRecord = db.prepare(
    'insert into records (zone_id, from_version, to_version, owner_key, owner, type, rclass, ttl, rdata, comment, group_comment, flags, disabled, ord) values (?, ?, null, ?, ?, 1, 1, 300, ?, null, null, null, 0, 0)',
  );
  const insertZi = db.prepare(
    'insert into zone_instances (zone_id, version, soa_serial, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, zone_ttl, change_by, comment, ctime, mtime, ptime) values (?, ?, ?, ?, ?, 3600, 900, 604800, 300, null, 300, ?, ?, ?, ?, ?)',
  );
  const updateZone = db.prepare('update zones set latest_version = ?, mtime = ?, published_version = ? where id = ?');
  const insertFeed = db.prepare('insert into zone_changes (zone_id, zone_name, kind, version, at) values (?, ?, ?, ?, ?)');
  const insertAudit = db.prepare(
    'insert into audit_log (at, actor, source, operation, zone_id, zone_name, zi_before, zi_after, kind, summary) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const key = Buffer.alloc(32, 1);
  const bodies = [];
  const commits = [];
  const sock = dgram.createSocket('udp4');
  let n = 0;
  sock.on('message', (m, from) => {
    createHmac('sha256', key).update(m).digest();
    const t = Date.now();
    n++;
    const b0 = performance.now();
    begin.run();
    const z = zoneRow.get(ZONE);
    const owner = `f${n}.${ZONE}`;
    ownerRows.all(z.id, owner);
    version++;
    insertZi.run(z.id, version, version, zi.soa_mname, zi.soa_rname, 'bench.key', 'RFC 2136 update: 1 added, 0 removed', t, t, t);
    insertRecord.run(z.id, version, owner, owner, Buffer.from([10, 0, (n >> 8) & 255, n & 255]));
    updateZone.run(version, t, version, z.id);
    insertFeed.run(z.id, z.name, 'publish', version, t);
    insertAudit.run(t, 'bench.key', from.address, 'rfc2136_update', z.id, z.name, version - 1, version, 'version', `version ${version}`);
    const c0 = performance.now();
    commit.run();
    commits.push(performance.now() - c0);
    bodies.push(c0 - b0);
    const answer = Buffer.from(m);
    answer[2] |= 0x80;
    createHmac('sha256', key).update(answer).digest();
    sock.send(answer, from.port, from.address);
  });
  process.on('SIGTERM', () => {
    const med = (xs) => (xs.length ? [...xs].sort((p, q) => p - q)[xs.length >> 1] * 1000 : 0);
    process.stdout.write(`${JSON.stringify({ bodyUs: med(bodies), commitUs: med(commits) })}\n`);
    process.exit(0);
  });
  sock.bind(0, '127.0.0.1', () => process.stdout.write(`${sock.address().port}\n`));
} else {
  const RECORDS = Number(argOf('--records', 100_000));
  const UPDATES = Number(argOf('--updates', 3000));
  const SPIN_US = Number(argOf('--spin', 0));
  const work = mkdtempSync(join(tmpdir(), 'dms-bench-update-floor-'));
  try {
    const zoneFile = join(work, 'zone.txt');
    await writeUpdateZone(zoneFile, RECORDS);
    zoneToolSync(join(work, 'data'), ['load_zone', '-i', zoneFile, ZONE], 'bench@update-floor/Admin');
    const server = spawn(process.execPath, [import.meta.filename, '--serve', join(work, 'data', 'dms.sqlite')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (d) => (out += d));
    while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 20));
    const port = Number(out.split('\n')[0]);
    const sock = dgram.createSocket('udp4');
    let waiting;
    sock.on('message', () => waiting?.());
    const request = Buffer.alloc(140, 7);
    const lat = [];
    for (let i = 0; i < UPDATES + 1000; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise((res) => {
        waiting = res;
        sock.send(request, port, '127.0.0.1');
      });
      if (i >= 1000) lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (SPIN_US > 0) {
        const until = process.hrtime.bigint() + BigInt(Math.round(SPIN_US * 1000));
        while (process.hrtime.bigint() < until);
      }
    }
    sock.close();
    const done = new Promise((r) => server.on('exit', r));
    server.kill('SIGTERM');
    await done;
    const inside = JSON.parse(out.split('\n')[1]);
    lat.sort((p, q) => p - q);
    const mean = lat.reduce((p, q) => p + q, 0) / lat.length;
    console.log(
      `bench/update-floor: ${UPDATES} requests one after the other${SPIN_US > 0 ? `, the client busy ${SPIN_US} µs after each answer` : ''}, zone of ${RECORDS} A records`,
    );
    console.log(
      `  send → answer: median ${lat[lat.length >> 1].toFixed(0)} µs, p90 ${lat[Math.floor(lat.length * 0.9)].toFixed(0)} µs, mean ${mean.toFixed(0)} µs; ` +
        `inside: transaction body ${inside.bodyUs.toFixed(0)} µs, commit ${inside.commitUs.toFixed(0)} µs (medians)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
