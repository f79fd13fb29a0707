// The floor under dmsd's sequential UPDATE, layer by layer: minimal Node.js responders over dmsd's own store (made as
// operators make one: zone_tool load_zone of a zone of --records A records; opened with better-sqlite3 as dmsd opens
// it, WAL, synchronous=FULL), each answering one UPDATE at a time, so that what each layer of dmsd adds to an UPDATE
// shows beside what Node.js, SQLite and the fsync cost alone:
//
//   floor    an HMAC-SHA256 of the request, BEGIN IMMEDIATE, the zone's row and the rows at the new owner read, the
//            new zone version, the record, the zone row, the change-feed row and the audit row written, COMMIT (its
//            fsync), an HMAC of the answer, the answer sent. No DNS parsing, no checks, no zone patched, no log.
//   dns      the floor's SQL, plus the DNS core's own work: the request decoded and its TSIG verified, the RFC 2136
//            engine (zone/update.ts) on the SOA and the rows at the owners, the served zone (compiled from the store at
//            start) patched with the owners' new lists and the new SOA (zone/delta.ts), the answer encoded and signed.
//            What an UPDATE costs with nothing between the DNS core and SQLite.
//   service  the dns layer with the transaction made by the service layer (services.applyUpdateInOneTx: the zone and
//            its settings read, the delta's checks, the serial policy, the version, feed and audit rows, the reverse
//            step) instead of the hand-written SQL; the patch from the change it returns. dmsd itself adds its server
//            around this (the UPDATE queue, the zone table, logs, the followers).
//   dmsd     bin/dmsd itself on such a store (a TSIG key and an update grant added with zone_tool), as operators run it.
//   named    BIND's named, primary of the same zone file with an update-policy for the key and its journal on disk
//            (one worker thread, as bench/update.mjs runs it): the peer in the same run.
//
// The layers run one after the other, each on a store of its own, --rounds times (order alternating); printed: each
// layer's median and mean send → answer per round and the medians of those. Measured in session 33 (floor only): the
// floor ~0.38–0.43 ms, named ~0.60, dmsd ~0.65–0.70 (medians; BENCHMARKS.md).
//
//   node bench/update-floor.mjs [--records 100000] [--updates 3000] [--warmup 2000] [--rounds 1] [--layers floor,dns,service,dmsd,named] [--spin US]
//   (a layer given as LAYER=PATH runs with the build in PATH, a dist/ directory: e.g. --layers service=/tmp/old/dist,service
//   compares two builds' service layers, taking turns)
//   (--spin: the client stays busy US µs after each answer, as nsupdate takes ~70–90 µs; default 0)
// Environment: FLOOR_NODE_ARGS (Node.js flags for the floor, dns and service responders, e.g. --cpu-prof),
// FLOOR_DMSD_ARGS (more flags for the dmsd layer, e.g. --no-http), FLOOR_SQLTIME=1
// (those responders time every SQLite statement and print, at the end, each statement's count and mean and the SQL
// time per UPDATE).

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dmsdUdpPort, ROOT, startNamedPrimary, testHelper, waitSoa, zoneToolSync } from './lib.mjs';
import { writeUpdateZone } from './zones.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ZONE = 'upd.bench.test';
const KEY_NAME = 'bench.key';
const SECRET = Buffer.alloc(32, 1).toString('base64');

// The build the responders load (a layer given as LAYER=PATH runs with PATH's dist/: two builds side by side).
const DIST = process.env.FLOOR_DIST ? `${pathToFileURL(resolve(process.env.FLOOR_DIST)).href}/` : new URL('../dist/', import.meta.url).href;
const { decodeMessage, emptyMessage, encodeMessage } = await import(`${DIST}dns/message.js`);
const { verifyRequest, signMessage, keyFromText } = await import(`${DIST}dns/tsig.js`);
const { Name } = await import(`${DIST}dns/name.js`);
const { Opcode, RRClass, RRType, Rcode } = await import(`${DIST}dns/constants.js`);
const tsigKey = keyFromText(`hmac-sha256:${KEY_NAME}:${SECRET}`);

function openDatabase(file) {
  const Database = createRequire(join(ROOT, 'package.json'))('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

/** The statements the floor and dns layers run, prepared once. */
function handStatements(db) {
  return {
    begin: db.prepare('begin immediate'),
    commit: db.prepare('commit'),
    zoneRow: db.prepare("select * from zones where name = ? and state <> 'DELETED'"),
    ziRow: db.prepare('select * from zone_instances where zone_id = ? and version = ?'),
    ownerRows: db.prepare('select * from records where zone_id = ? and to_version is null and owner_key = ?'),
    insertRecord: db.prepare(
      'insert into records (zone_id, from_version, to_version, owner_key, owner, type, rclass, ttl, rdata, comment, group_comment, flags, disabled, ord) values (?, ?, null, ?, ?, ?, ?, ?, ?, null, null, null, 0, 0)',
    ),
    insertZi: db.prepare(
      'insert into zone_instances (zone_id, version, soa_serial, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, zone_ttl, change_by, comment, ctime, mtime, ptime) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateZone: db.prepare('update zones set latest_version = ?, mtime = ?, published_version = ? where id = ?'),
    insertFeed: db.prepare('insert into zone_changes (zone_id, zone_name, kind, version, at) values (?, ?, ?, ?, ?)'),
    insertAudit: db.prepare(
      'insert into audit_log (at, actor, source, operation, zone_id, zone_name, zi_before, zi_after, kind, summary) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  };
}

/** The zone as served: compiled from the store's rows at the newest version. */
async function compiledZone(file) {
  const { compileZone } = await import(`${DIST}zone/zone.js`);
  const { soaRecord } = await import(`${DIST}services/core.js`);
  const Database = createRequire(join(ROOT, 'package.json'))('better-sqlite3');
  const db = new Database(file, { readonly: true });
  const zone = db.prepare('select * from zones where name = ?').get(`${ZONE}.`);
  const zi = db.prepare('select * from zone_instances where zone_id = ? and version = ?').get(zone.id, zone.latest_version);
  const rows = db.prepare('select owner, type, rclass, ttl, rdata from records where zone_id = ? and to_version is null').all(zone.id);
  db.close();
  const origin = Name.from(ZONE);
  return compileZone(origin, [soaRecord(origin, zi), ...rows.map((r) => ({ name: Name.parse(r.owner), type: r.type, class: r.rclass, ttl: r.ttl, rdata: r.rdata }))]);
}

/** The answer to an UPDATE: the zone section echoed, signed with the request's key. */
function signedAnswer(msg, verified, now) {
  const a = emptyMessage(msg.id);
  a.qr = true;
  a.opcode = Opcode.UPDATE;
  a.question = msg.question.slice(0, 1);
  return signMessage(encodeMessage(a), tsigKey, now, verified.requestMac, { macSize: verified.requestMac.length }).bytes;
}

/** The responder of one layer (a process of its own, as a server is): prints its port, then serves until SIGTERM. */
async function serve(layer, file) {
  const sock = dgram.createSocket('udp4');
  const sqlTimes = new Map();
  if (process.env.FLOOR_SQLTIME) {
    const Database = createRequire(join(ROOT, 'package.json'))('better-sqlite3');
    const proto = Object.getPrototypeOf(new Database(':memory:').prepare('select 1'));
    for (const m of ['run', 'get', 'all']) {
      const orig = proto[m];
      proto[m] = function (...a) {
        const t = performance.now();
        try {
          return orig.apply(this, a);
        } finally {
          const k = this.source.slice(0, 90);
          const e = sqlTimes.get(k) ?? [0, 0];
          e[0]++;
          e[1] += performance.now() - t;
          sqlTimes.set(k, e);
        }
      };
    }
    process.on('SIGTERM', () => {
      const n = Math.max(...[...sqlTimes.values()].map((e) => e[0]).filter((c) => c < 1e6)) || 1;
      let total = 0;
      for (const [k, [c, ms]] of [...sqlTimes].sort((a, b) => b[1][1] - a[1][1])) {
        total += ms;
        process.stderr.write(`${String(c).padStart(7)} ${((ms * 1000) / c).toFixed(1).padStart(7)} µs each  ${k}\n`);
      }
      process.stderr.write(`${layer}: SQL ${((total * 1000) / n).toFixed(1)} µs per UPDATE (n=${n})\n`);
      process.exit(0);
    });
  }
  let handle;
  if (layer === 'floor') {
    const db = openDatabase(file);
    const s = handStatements(db);
    const zone = s.zoneRow.get(`${ZONE}.`);
    const zi = s.ziRow.get(zone.id, zone.latest_version);
    let version = zone.latest_version;
    const key = Buffer.alloc(32, 1);
    let n = 0;
    handle = (m, from) => {
      createHmac('sha256', key).update(m).digest();
      const t = Date.now();
      n++;
      s.begin.run();
      const z = s.zoneRow.get(`${ZONE}.`);
      const owner = `f${n}.${ZONE}.`;
      s.ownerRows.all(z.id, owner);
      version++;
      s.insertZi.run(z.id, version, version, zi.soa_mname, zi.soa_rname, 3600, 900, 604800, 300, null, 300, KEY_NAME, 'RFC 2136 update: 1 added, 0 removed', t, t, t);
      s.insertRecord.run(z.id, version, owner, owner, RRType.A, RRClass.IN, 300, Buffer.from([10, 0, (n >> 8) & 255, n & 255]));
      s.updateZone.run(version, t, version, z.id);
      s.insertFeed.run(z.id, z.name, 'publish', version, t);
      s.insertAudit.run(t, KEY_NAME, from.address, 'rfc2136_update', z.id, z.name, version - 1, version, 'version', `version ${version}`);
      s.commit.run();
      const answer = Buffer.from(m);
      answer[2] |= 0x80;
      createHmac('sha256', key).update(answer).digest();
      sock.send(answer, from.port, from.address);
    };
  } else if (layer === 'dns') {
    const { applyUpdate } = await import(`${DIST}zone/update.js`);
    const { patchZone } = await import(`${DIST}zone/delta.js`);
    const { soaRecord, soaRdata, ziSoaFields } = await import(`${DIST}services/core.js`);
    const origin = Name.from(ZONE);
    let served = await compiledZone(file);
    const db = openDatabase(file);
    const s = handStatements(db);
    handle = (m, from) => {
      const now = Date.now() / 1000;
      const msg = decodeMessage(m);
      const verified = verifyRequest(m, msg.tsigOffset, () => tsigKey, now);
      if (!verified.ok) throw new Error('TSIG did not verify');
      const t = Date.now();
      s.begin.run();
      const z = s.zoneRow.get(`${ZONE}.`);
      const zi = s.ziRow.get(z.id, z.latest_version);
      const owners = new Set(msg.authority.map((rr) => rr.name.key));
      const scope = [soaRecord(origin, zi)];
      for (const k of owners) for (const r of s.ownerRows.all(z.id, k)) scope.push({ name: Name.parse(r.owner), type: r.type, class: r.rclass, ttl: r.ttl, rdata: r.rdata });
      const res = applyUpdate(scope, origin, msg, { allowed: () => true });
      if (res.rcode !== Rcode.NOERROR) throw new Error(res.reason);
      const version = z.latest_version + 1;
      const serial = Number(zi.soa_serial) + 1;
      const f = ziSoaFields(zi);
      s.insertZi.run(z.id, version, serial, f.mname, f.rname, f.refresh, f.retry, f.expire, f.minimum, zi.soa_ttl, zi.zone_ttl, KEY_NAME, `RFC 2136 update: ${res.added.length} added, ${res.removed.length} removed`, t, t, t);
      for (const r of res.added) s.insertRecord.run(z.id, version, r.name.key, r.name.toString(), r.type, r.class, r.ttl, r.rdata);
      s.updateZone.run(version, t, version, z.id);
      s.insertFeed.run(z.id, z.name, 'publish', version, t);
      s.insertAudit.run(t, KEY_NAME, from.address, 'rfc2136_update', z.id, z.name, version - 1, version, 'version', `version ${version} (serial ${serial})`);
      s.commit.run();
      // The served zone: every touched owner with its complete new list, and the new SOA.
      const soa = { name: origin, type: RRType.SOA, class: RRClass.IN, ttl: Number(zi.soa_ttl ?? zi.zone_ttl), rdata: soaRdata(f, serial) };
      const byOwner = new Map();
      for (const r of res.newRecords) {
        if (!owners.has(r.name.key) || r.type === RRType.SOA) continue;
        let o = byOwner.get(r.name.key);
        if (!o) byOwner.set(r.name.key, (o = { name: r.name, records: [] }));
        o.records.push(r);
      }
      served = patchZone(served, { owners: byOwner.values(), soa });
      sock.send(signedAnswer(msg, verified, now), from.port, from.address);
    };
  } else if (layer === 'service') {
    const { applyUpdate } = await import(`${DIST}zone/update.js`);
    const { patchZone } = await import(`${DIST}zone/delta.js`);
    const { openStore } = await import(`${DIST}store/index.js`);
    const services = await import(`${DIST}services/index.js`);
    const { updateOwners } = await import(`${DIST}server/primary.js`);
    const origin = Name.from(ZONE);
    let served = await compiledZone(file);
    const store = await openStore({ dataDir: dirname(file) });
    handle = async (m, from) => {
      const now = Date.now() / 1000;
      const msg = decodeMessage(m);
      const verified = verifyRequest(m, msg.tsigOffset, () => tsigKey, now);
      if (!verified.ok) throw new Error('TSIG did not verify');
      // The owners as dmsd's UPDATE sink hands them to the service (daemon/primary-ports.ts).
      const owners = updateOwners(msg);
      const ctx = services.serviceContext(store, { actor: KEY_NAME, operation: 'rfc2136_update', source: from.address });
      const r = await services.applyUpdateInOneTx(
        ctx,
        ZONE,
        owners,
        async (scope) => {
          const res = applyUpdate(scope.records, origin, msg, { allowed: () => true });
          if (res.rcode !== Rcode.NOERROR) throw new Error(res.reason);
          return { removed: res.removed, added: res.added, comment: `RFC 2136 update: ${res.added.length} added, ${res.removed.length} removed` };
        },
        { signed: true },
      );
      if (!r?.committed) throw new Error('no change committed');
      served = patchZone(served, { owners: r.committed.owners, soa: r.committed.soa });
      sock.send(signedAnswer(msg, verified, now), from.port, from.address);
    };
  } else throw new Error(`unknown layer ${layer}`);
  sock.on('message', (m, from) => {
    Promise.resolve(handle(m, from)).catch((e) => {
      process.stderr.write(`${layer}: ${e.stack ?? e}\n`);
      process.exit(1);
    });
  });
  process.on('SIGTERM', () => process.exit(0));
  sock.bind(0, '127.0.0.1', () => process.stdout.write(`${sock.address().port}\n`));
}

/** One layer's pass: a fresh store, its responder, `updates` sequential UPDATEs after `warmup` unmeasured; µs each. */
async function pass(spec, zoneFile, updates, warmup, spinUs, n) {
  const [layer, dist] = spec.split('=');
  const work = mkdtempSync(join(tmpdir(), `dms-bench-update-floor-${layer}-`));
  try {
    const dataDir = join(work, 'data');
    if (layer !== 'named') zoneToolSync(dataDir, ['load_zone', '-i', zoneFile, `${ZONE}.`], 'bench@update-floor/Admin');
    let key = tsigKey;
    let port;
    let stop;
    if (layer === 'named') {
      const n = await startNamedPrimary({ dir: dataDir, zoneFile, zone: ZONE, keyName: KEY_NAME, secret: SECRET });
      port = n.port;
      stop = () => n.stop();
    } else if (layer === 'dmsd') {
      const out = zoneToolSync(dataDir, ['generate_tsig_key', KEY_NAME], 'bench@update-floor/Admin');
      const secret = /:([A-Za-z0-9+/=]{16,})\s*$/m.exec(out)?.[1];
      if (!secret) throw new Error(`no secret in the output of generate_tsig_key:\n${out}`);
      key = keyFromText(`hmac-sha256:${KEY_NAME}:${secret}`);
      zoneToolSync(dataDir, ['add_update_grant', ZONE, `grant ${KEY_NAME} zonesub ANY`], 'bench@update-floor/Admin');
      const { spawnLogged } = await testHelper('servers');
      // With a build of its own: that tree's dist/daemon/main.js (bin/dmsd runs this tree's bundle).
      const main = dist ? join(resolve(dist), 'daemon', 'main.js') : join(ROOT, 'bin', 'dmsd');
      const d = spawnLogged(process.execPath, [main, '--data', dataDir, '--listen', '127.0.0.1:0', ...(process.env.FLOOR_DMSD_ARGS ? process.env.FLOOR_DMSD_ARGS.split(' ') : [])], { cwd: ROOT, killAfterMs: 10_000 });
      port = await dmsdUdpPort(d.proc, d.output);
      await waitSoa(port, ZONE, d.proc);
      stop = () => d.stop();
    } else {
      const server = spawn(process.execPath, [...(process.env.FLOOR_NODE_ARGS ? process.env.FLOOR_NODE_ARGS.split(' ') : []), import.meta.filename, '--serve', layer, join(dataDir, 'dms.sqlite')], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: dist ? { ...process.env, FLOOR_DIST: dist } : process.env,
      });
      let out = '';
      server.stdout.on('data', (d) => (out += d));
      const exited = new Promise((r) => server.on('exit', r));
      while (!out.includes('\n')) {
        if (server.exitCode !== null) throw new Error(`the ${layer} responder exited`);
        await new Promise((r) => setTimeout(r, 20));
      }
      port = Number(out.split('\n')[0]);
      stop = async () => {
        server.kill('SIGTERM');
        await exited;
      };
    }
    const sock = dgram.createSocket('udp4');
    let waiting;
    sock.on('message', (r) => waiting?.(r));
    const lat = [];
    for (let i = 0; i < updates + warmup; i++) {
      const id = (n + i) & 0xffff;
      let bytes;
      if (layer === 'floor') bytes = Buffer.alloc(140, 7);
      else {
        const msg = emptyMessage(id);
        msg.opcode = Opcode.UPDATE;
        msg.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
        msg.authority = [{ name: Name.from(`t${n + i}.${ZONE}`), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: Uint8Array.from([10, ((n + i) >> 16) & 255, ((n + i) >> 8) & 255, (n + i) & 255]) }];
        bytes = signMessage(encodeMessage(msg), key, Date.now() / 1000).bytes;
      }
      const t0 = process.hrtime.bigint();
      await new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`${layer}: no answer within 10 s`)), 10_000);
        waiting = (r) => {
          clearTimeout(timer);
          if (layer !== 'floor' && (r[3] & 0x0f) !== 0) rej(new Error(`${layer}: rcode ${r[3] & 0x0f}`));
          else res();
        };
        sock.send(bytes, port, '127.0.0.1');
      });
      if (i >= warmup) lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (spinUs > 0) {
        const until = process.hrtime.bigint() + BigInt(Math.round(spinUs * 1000));
        while (process.hrtime.bigint() < until);
      }
    }
    sock.close();
    await stop();
    return lat;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (argv[0] === '--serve') await serve(argv[1], argv[2]);
else {
  const RECORDS = Number(argOf('--records', 100_000));
  const UPDATES = Number(argOf('--updates', 3000));
  const ROUNDS = Number(argOf('--rounds', 1));
  const SPIN_US = Number(argOf('--spin', 0));
  const WARMUP = Number(argOf('--warmup', 2000));
  const LAYERS = argOf('--layers', 'floor,dns,service,dmsd,named').split(',');
  const work = mkdtempSync(join(tmpdir(), 'dms-bench-update-floor-'));
  try {
    const zoneFile = join(work, 'zone.txt');
    await writeUpdateZone(zoneFile, RECORDS);
    console.log(
      `bench/update-floor: ${UPDATES} UPDATEs one after the other per pass, ${ROUNDS} round(s), zone of ${RECORDS} A records${SPIN_US > 0 ? `, the client busy ${SPIN_US} µs after each answer` : ''}`,
    );
    const stats = Object.fromEntries(LAYERS.map((l) => [l, { medians: [], means: [] }]));
    const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? LAYERS : [...LAYERS].reverse();
      for (const layer of order) {
        const lat = await pass(layer, zoneFile, UPDATES, WARMUP, SPIN_US, r * 100_000);
        const med = median(lat);
        const mean = lat.reduce((p, q) => p + q, 0) / lat.length;
        stats[layer].medians.push(med);
        stats[layer].means.push(mean);
        console.log(`  round ${r + 1} ${layer.padEnd(8)} send → answer: median ${med.toFixed(0)} µs, p90 ${[...lat].sort((p, q) => p - q)[Math.floor(lat.length * 0.9)].toFixed(0)} µs, mean ${mean.toFixed(0)} µs`);
      }
    }
    if (ROUNDS > 1 || LAYERS.length > 1)
      console.log(`  medians of the rounds: ${LAYERS.map((l) => `${l} ${median(stats[l].medians).toFixed(0)} µs (mean ${median(stats[l].means).toFixed(0)})`).join(', ')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
