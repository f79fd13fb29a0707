// dmsd serving from the database, as a user runs it: the real dmsd process on a data directory (SQLite) or a
// PostgreSQL URL, zones changed with the real zone_tool, answers checked with dig. A published change must be served
// within one second; --zones imports new/changed zones only and leaves a broken one out; a restart keeps serving.

import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { logged } from '../helpers/secondaries.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import {
  dig,
  postgresArgs,
  type Server,
  type StoreArgs,
  servedSerial,
  sqliteArgs,
  startDmsdDb,
  waitFor,
  zoneToolOk,
} from '../helpers/dmsd-db.support.js';

const GOOD = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.10
`;
// CNAME and other data at one name: the services' validation refuses it.
const BAD = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www CNAME ns1
www A 192.0.2.11
`;

function zisOf(store: StoreArgs, zone: string): string[] {
  return zoneToolOk(store, ['ls_zi', zone])
    .split('\n')
    .filter((l) => /^\s*\d+\s/.test(l));
}

/** A change made with zone_tool is served (new serial seen by dig) within one second. */
async function changeIsServedFast(store: StoreArgs, srv: Server, dir: string): Promise<void> {
  const file = join(dir, 'new.example.zone');
  writeFileSync(file, GOOD.replace('192.0.2.10', '192.0.2.99'));
  zoneToolOk(store, ['load_zone', file, 'new.example']);
  const tookCreate = await waitFor(() => /192\.0\.2\.99/.test(dig(srv.port, ['www.new.example', 'A', '+short'])), 1000, 'new zone served');
  const before = servedSerial(srv.port, 'new.example');
  assert.ok(before !== undefined);
  const target = before + 1000;
  zoneToolOk(store, ['poke_zone_set_serial', 'new.example', String(target)]);
  const tookPoke = await waitFor(() => servedSerial(srv.port, 'new.example') === target, 1000, 'new serial served');
  // The zone was served: the new version came as a patch of it (only the SOA changed), not a reload.
  await waitFor(() => /"zone":"new\.example\."[^\n]*"delta":0[^\n]*"msg":"zone published"/.test(srv.output()), 3000, 'the patch logged');
  // Disabled zones leave the table.
  zoneToolOk(store, ['disable_zone', 'new.example']);
  await waitFor(() => servedSerial(srv.port, 'new.example') === undefined, 1000, 'disabled zone no longer served');
  zoneToolOk(store, ['enable_zone', 'new.example']);
  await waitFor(() => servedSerial(srv.port, 'new.example') === target, 1000, 'enabled zone served again');
  zoneToolOk(store, ['delete_zone', 'new.example']);
  await waitFor(() => servedSerial(srv.port, 'new.example') === undefined, 1000, 'deleted zone no longer served');
  assert.ok(tookCreate < 1000 && tookPoke < 1000);
}

describe('dmsd on SQLite (--data DIR)', () => {
  let data: string;
  let zones: string;
  let srv: Server | undefined;
  const store = () => sqliteArgs(data);
  before(() => {
    data = mkdtempSync(join(tmpdir(), 'dms-dmsd-db-'));
    zones = mkdtempSync(join(tmpdir(), 'dms-dmsd-zones-'));
    writeFileSync(join(zones, 'good.example.zone'), GOOD);
    writeFileSync(join(zones, 'bad.example.zone'), BAD);
  });
  after(async () => {
    await srv?.stop();
    rmSync(data, { recursive: true, force: true });
    rmSync(zones, { recursive: true, force: true });
  });

  test('--zones imports the valid zones, reports and skips the broken one', async () => {
    srv = await startDmsdDb(store(), ['--zones', zones]);
    await waitFor(() => servedSerial(srv!.port, 'good.example') !== undefined, 3000, 'good.example served');
    assert.equal(dig(srv.port, ['www.good.example', 'A', '+short']).trim(), '192.0.2.10');
    assert.equal(servedSerial(srv.port, 'bad.example'), undefined);
    await logged(srv!.output, /"zone":"bad\.example\.".*zone not imported/);
    // --zones given: the example zone is not published.
    assert.equal(servedSerial(srv.port, 'example.org'), undefined);
    const ls = zoneToolOk(store(), ['ls']);
    assert.match(ls, /good\.example/);
    assert.doesNotMatch(ls, /bad\.example/);
  });

  test('a zone_tool change is served within one second; disable/enable/delete follow', async () => {
    assert.ok(srv);
    await changeIsServedFast(store(), srv, data);
  });

  test('restart keeps serving; unchanged --zones files make no new ZI, a changed file does', async () => {
    assert.ok(srv);
    zoneToolOk(store(), ['poke_zone_set_serial', 'good.example', '7000']);
    const zis = zisOf(store(), 'good.example');
    await srv.stop();
    srv = await startDmsdDb(store(), ['--zones', zones]);
    await waitFor(() => servedSerial(srv!.port, 'good.example') === 7000, 3000, 'good.example served after restart');
    assert.deepEqual(zisOf(store(), 'good.example'), zis);
    await logged(srv!.output, /"zone":"good\.example\.".*"action":"unchanged"/);
    // The file changes: the next start (or SIGHUP) imports a new version, the serial goes on from the database's.
    writeFileSync(join(zones, 'good.example.zone'), `${GOOD}extra TXT "x"\n`);
    srv.proc.kill('SIGHUP');
    await waitFor(() => /"x"/.test(dig(srv!.port, ['extra.good.example', 'TXT', '+short'])), 3000, 'changed file imported on SIGHUP');
    assert.ok((servedSerial(srv.port, 'good.example') ?? 0) > 7000);
    assert.equal(zisOf(store(), 'good.example').length, zis.length + 1);
  });
});

describe('dmsd on an empty database without --zones', () => {
  test('publishes the shipped example zone once; www.example.org answers', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dms-dmsd-ex-'));
    let srv: Server | undefined;
    try {
      srv = await startDmsdDb(sqliteArgs(data));
      await waitFor(() => dig(srv!.port, ['www.example.org', 'A', '+short']).trim() !== '', 3000, 'example served');
      assert.match(dig(srv.port, ['www.example.org', 'A', '+short']), /^\d+\.\d+\.\d+\.\d+/);
      // Deleting it is respected: the next start does not publish it again.
      zoneToolOk(sqliteArgs(data), ['delete_zone', 'example.org']);
      await srv.stop();
      srv = await startDmsdDb(sqliteArgs(data));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(servedSerial(srv.port, 'example.org'), undefined);
    } finally {
      await srv?.stop();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('dmsd --workers 2 on SQLite', () => {
  test('every worker follows the feed; an answered UPDATE is served by all workers; the supervisor NOTIFYs', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dms-dmsd-workers-'));
    const sock = dgram.createSocket('udp4');
    const notifies: Buffer[] = [];
    // Acknowledge like a secondary (same message as a response), so nothing is retried.
    sock.on('message', (m, rinfo) => {
      notifies.push(m);
      const ack = Buffer.from(m);
      ack[2] |= 0x80;
      sock.send(ack, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    let srv: Server | undefined;
    try {
      const file = join(data, 'w.zone');
      writeFileSync(file, GOOD);
      zoneToolOk(sqliteArgs(data), ['load_zone', '-i', file, 'w.example']);
      const keyLine = zoneToolOk(sqliteArgs(data), ['generate_tsig_key', 'w.key']).trim().split('\n').pop() as string;
      zoneToolOk(sqliteArgs(data), ['add_update_grant', 'w.example', 'grant w.key zonesub TXT']);
      zoneToolOk(sqliteArgs(data), ['add_also_notify', 'w.example', `127.0.0.1#${sock.address().port}`]);
      srv = await startDmsdDb(sqliteArgs(data), ['--workers', '2']);
      await waitFor(() => servedSerial(srv!.port, 'w.example') !== undefined, 5000, 'w.example served');
      // At start the supervisor NOTIFYs every zone with targets (a change made while dmsd was down).
      await waitFor(() => notifies.length > 0, 5000, 'start-up NOTIFY');
      await new Promise((r) => setTimeout(r, 300));
      notifies.length = 0;
      const target = (servedSerial(srv.port, 'w.example') as number) + 10;
      zoneToolOk(sqliteArgs(data), ['poke_zone_set_serial', 'w.example', String(target)]);
      await new Promise((r) => setTimeout(r, 1000));
      // Queries from fresh sockets spread over both workers: every answer has the new serial.
      for (let i = 0; i < 12; i++) assert.equal(servedSerial(srv.port, 'w.example'), target);
      await waitFor(() => notifies.length > 0, 5000, 'NOTIFY from the supervisor after the change');
      // An answered UPDATE is served by every worker at once: the committing worker has the others reload first.
      const misses: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r: SpawnSyncReturns<string> = spawnSync('nsupdate', ['-y', keyLine], {
          input: `server 127.0.0.1 ${srv.port}\nzone w.example\nupdate add t.w.example. 60 TXT "v${i}"\nsend\n`,
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        for (let j = 0; j < 4; j++) if (!dig(srv.port, ['t.w.example', 'TXT', '+short']).includes(`"v${i}"`)) misses.push(`v${i}#${j}`);
      }
      assert.deepEqual(misses, [], 'reads right after NOERROR that missed the update');
      // Each worker patched its zone with the UPDATE's one new record; none reloaded the zone whole.
      for (const w of [1, 2])
        await waitFor(() => new RegExp(`"worker":${w},[^\\n]*"delta":1,[^\\n]*"msg":"zone published"`).test(srv!.output()), 3000, `worker ${w} patched`);
      assert.doesNotMatch(srv.output(), /reloading the whole zone/);
      // The worker that committed patched with what its commit changed (no read back); the other read the change.
      await logged(srv!.output, /"delta":1,"from":"commit",[^\n]*"msg":"zone published"/);
      await logged(srv!.output, /"delta":1,"ms":[^\n]*"msg":"zone published"/);
      const n = notifies[0];
      assert.equal((n[2] >>> 3) & 0xf, 4, 'opcode NOTIFY');
      assert.match(n.toString('latin1'), /\x01w\x07example/);
    } finally {
      await srv?.stop();
      sock.close();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('dmsd on PostgreSQL (--database-url)', () => {
  let pg: TestPostgres;
  let srv: Server | undefined;
  let url: string;
  let dir: string;
  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'dms-dmsd-pg-'));
  });
  after(async () => {
    await srv?.stop();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves the example, then a zone_tool change within one second', async () => {
    srv = await startDmsdDb(postgresArgs(url));
    await waitFor(() => servedSerial(srv!.port, 'example.org') !== undefined, 3000, 'example served');
    await changeIsServedFast(postgresArgs(url), srv, dir);
  });
});
