// Zone snapshots (issue 17), as an operator meets them: the real dmsd on SQLite and on PostgreSQL, a zone above the
// snapshot threshold loaded with the real zone_tool, which stores the zone's snapshot. A restart after changes made
// meanwhile loads it from the snapshot plus the owners changed since and serves exactly what a load from the rows
// serves (AXFR compared, changed names asked with dig); a damaged snapshot is reported and the zone loaded from its
// rows (and a fresh snapshot stored); deleting the snapshot's ZI deletes the snapshot; changes patched in while dmsd
// runs lead to a new snapshot; a zone mostly rewritten while dmsd was down is read from its rows.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type StoreOptions } from '../../src/store/index.js';
import { dig, postgresArgs, type Server, type StoreArgs, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { until } from '../helpers/secondaries.js';

const ZONE = 'big.example';
const HOSTS = 20_500;

function zoneText(serial: number, extra: string[] = [], drop: (line: string) => boolean = () => false): string {
  const lines = [
    '$TTL 300',
    `@ SOA ns1 hostmaster ${serial} 3600 900 604800 300`,
    '@ NS ns1',
    'ns1 A 192.0.2.1',
    'deleg NS ns.deleg',
    'ns.deleg A 192.0.2.53',
    'MiXeD TXT "case kept"',
    '*.wild A 192.0.2.5',
    'a.b.c TXT "below an empty non-terminal"',
    'alias CNAME h1',
    'dn DNAME elsewhere.example.',
  ];
  for (let i = 0; i < HOSTS; i++) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return `${[...lines.filter((l) => !drop(l)), ...extra].join('\n')}\n`;
}

const sorted = (axfr: string) =>
  axfr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';'))
    .map((l) => l.replace(/\s+/g, ' '))
    .sort();

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`zone snapshots on ${backend}`, () => {
    let dir: string;
    let pg: TestPostgres | undefined;
    let store: StoreArgs;
    let opts: StoreOptions;
    let srv: Server | undefined;
    let key = '';
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dms-snapshot-'));
      if (backend === 'sqlite') {
        store = sqliteArgs(join(dir, 'data'));
        opts = { dataDir: join(dir, 'data') };
      } else {
        pg = await startPostgres();
        const url = await pg.createDatabase();
        store = postgresArgs(url);
        opts = { dataDir: dir, databaseUrl: url };
      }
      writeFileSync(join(dir, 'zone'), zoneText(1));
      zoneToolOk(store, ['load_zone', '-i', join(dir, 'zone'), ZONE]);
      key = /^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(zoneToolOk(store, ['generate_tsig_key', 'xfr.key']))?.[1] ?? '';
      assert.notEqual(key, '');
      zoneToolOk(store, ['add_transfer_rule', ZONE, 'key=xfr.key']);
    });
    after(async () => {
      await srv?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const axfr = (s: Server) =>
      sorted(spawnSync('dig', ['@127.0.0.1', '-p', String(s.tcpPort), '+tcp', '-y', key, '+onesoa', '+noall', '+answer', ZONE, 'AXFR'], { encoding: 'utf8' }).stdout);
    const start = async () => {
      await srv?.stop();
      // As operators start it: bin/dmsd (the bundle).
      srv = await startDmsdDb(store, ['--no-http'], 'bin');
      await waitFor(() => /"msg":"zones loaded from the database"/.test(srv!.output()), 20_000, 'zones loaded');
      return srv;
    };
    const snapshotRows = async () => {
      const s = await openStore(opts);
      try {
        return (await sql<{ version: number; parts: number }>`select version, parts from zone_snapshots where part = 0`.execute(s.db)).rows;
      } finally {
        await s.close();
      }
    };

    test('a snapshot from load_zone; a restart after changes loads from it and serves the same', async () => {
      // load_zone stored the snapshot of the version it published (from the rows, as dmsd reads them).
      let s = await start();
      assert.match(s.output(), /zone loaded from its snapshot/);
      const first = axfr(s);
      assert.equal(first.length, HOSTS + 10, 'every record transferred (the SOA once)');
      assert.deepEqual(
        (await snapshotRows()).map((r) => Number(r.version)),
        [1],
      );

      // Changes while dmsd is down: a name added, one removed, one changed, a delegation and a wildcard moved, the
      // apex's records changed (the snapshot never holds the apex).
      await s.stop();
      srv = undefined;
      writeFileSync(
        join(dir, 'zone'),
        zoneText(
          2,
          ['h7 A 192.0.2.77', 'new.name AAAA 2001:db8::1', 'deleg2 NS ns.deleg2', 'ns.deleg2 A 192.0.2.54', '*.wild2 TXT "w"', '@ MX 10 h1', '@ TXT "apex"'],
          (l) => l.startsWith('h7 ') || l.startsWith('h9 ') || l.startsWith('deleg ') || l.startsWith('*.wild '),
        ),
      );
      zoneToolOk(store, ['load_zone_zi', join(dir, 'zone'), ZONE]);
      s = await start();
      const line = s.output().split('\n').find((l) => l.includes('zone loaded from its snapshot'));
      assert.ok(line, s.output().slice(-2000));
      const logged = JSON.parse(line) as { snapshotVersion: number; version: number; ownersSince: number };
      assert.equal(logged.snapshotVersion, 1);
      assert.ok(logged.version > 1);
      // The owners changed and the apex, not the zone.
      assert.ok(logged.ownersSince >= 7 && logged.ownersSince < 20, line);
      assert.equal(dig(s.port, ['h7.big.example', 'A', '+short']).trim(), '192.0.2.77');
      assert.equal(dig(s.port, ['h9.big.example', 'A', '+short']).trim(), '');
      assert.match(dig(s.port, ['x.wild2.big.example', 'TXT']), /"w"/);
      assert.match(dig(s.port, ['x.wild.big.example', 'A']), /NXDOMAIN/);
      assert.match(dig(s.port, ['host.deleg2.big.example', 'A', '+norec']), /AUTHORITY: 1/);
      assert.match(dig(s.port, ['x.dn.big.example', 'A']), /DNAME/);
      assert.match(dig(s.port, ['mixed.big.example', 'TXT']), /"case kept"/);
      const fromSnapshot = axfr(s);
      // The owner's spelling as written (the snapshot keeps it beside the lower-case key).
      assert.ok(fromSnapshot.includes('MiXeD.big.example. 300 IN TXT "case kept"'), fromSnapshot.slice(0, 20).join('\n'));

      // The same version loaded from its rows: the snapshot damaged on purpose.
      await s.stop();
      srv = undefined;
      const st = await openStore(opts);
      await sql`update zone_snapshots set data = ${new Uint8Array([1, 2, 3, 4, 5])} where part = 0`.execute(st.db);
      await st.close();
      s = await start();
      assert.match(s.output(), /zone snapshot damaged: loading the zone from its rows/);
      assert.deepEqual(axfr(s), fromSnapshot);
      // Loaded whole from its rows: a fresh snapshot of the served version is stored.
      await until('snapshot stored again', () => /"msg":"zone snapshot stored"/.test(s.output()), () => s.output(), 20_000, 50);
      const rows = await snapshotRows();
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        [logged.version],
      );

      // Deleting the ZI a snapshot is of deletes the snapshot (a later ZI may be given its id or version).
      await s.stop();
      srv = undefined;
      writeFileSync(join(dir, 'zone'), zoneText(3, ['h7 A 192.0.2.78'], (l) => l.startsWith('h7 ')));
      zoneToolOk(store, ['load_zone_zi', join(dir, 'zone'), ZONE]);
      zoneToolOk(store, ['delete_zi', ZONE, String(logged.version)]);
      assert.deepEqual(await snapshotRows(), []);
      s = await start();
      assert.doesNotMatch(s.output(), /zone loaded from its snapshot/);
      assert.equal(dig(s.port, ['h7.big.example', 'A', '+short']).trim(), '192.0.2.78');
      await until('snapshot of the reloaded zone stored', () => /"msg":"zone snapshot stored"/.test(s.output()), () => s.output(), 20_000, 50);

      // While dmsd runs, changes patched into the served zone add up: past a twentieth of the zone, a new snapshot.
      const changed = Array.from({ length: 1100 }, (_, i) => `h${i} A 192.0.2.${i % 250}`);
      writeFileSync(join(dir, 'zone'), zoneText(4, changed, (l) => /^h(\d+) /.test(l) && Number(/^h(\d+) /.exec(l)?.[1]) < 1100));
      zoneToolOk(store, ['load_zone_zi', join(dir, 'zone'), ZONE]);
      await waitFor(() => dig(s.port, ['h1099.big.example', 'A', '+short']).trim() === '192.0.2.99', 5000, 'change served');
      const patchedLine = () => /"version":(\d+),"delta":2200[^\n]*"msg":"zone published"/.exec(s.output());
      await until('the change patched in', () => patchedLine() !== null, () => s.output(), 5000, 50);
      // A snapshot of the patched version (whatever else was stored meanwhile).
      const patchedVersion = patchedLine()?.[1];
      await until('snapshot after the patches', () => new RegExp(`"version":${patchedVersion},[^\n]*"msg":"zone snapshot stored"`).test(s.output()), () => s.output(), 20_000, 50);
      const latest = Math.max(...(await snapshotRows()).map((r) => Number(r.version)));
      await s.stop();
      srv = undefined;
      s = await start();
      const again = JSON.parse(s.output().split('\n').find((l) => l.includes('zone loaded from its snapshot')) ?? '{}') as { snapshotVersion?: number; ownersSince?: number };
      assert.equal(again.snapshotVersion, latest);
      assert.equal(again.ownersSince, 1, 'only the apex read from the rows');
      assert.equal(dig(s.port, ['h1099.big.example', 'A', '+short']).trim(), '192.0.2.99');

      // Most of the zone changed while dmsd was down: the snapshot is not worth patching; the rows are streamed.
      await s.stop();
      srv = undefined;
      writeFileSync(join(dir, 'zone'), zoneText(5, [], () => false).replace(/ A 10\./g, ' A 172.'));
      zoneToolOk(store, ['load_zone_zi', join(dir, 'zone'), ZONE]);
      s = await start();
      assert.doesNotMatch(s.output(), /zone loaded from its snapshot/);
      assert.equal(dig(s.port, ['h5.big.example', 'A', '+short']).trim(), '172.0.0.5');
      await until('a fresh snapshot', () => /"msg":"zone snapshot stored"/.test(s.output()), () => s.output(), 20_000, 50);
    });
  });
}
