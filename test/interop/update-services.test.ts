// The primary wired to the real service layer (SQLite store): nsupdate changes become ZIs with change_by = the key
// name, and dig's IXFR from an older serial is answered from the stored version history.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType, typeFromString } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { attachPrimary, zoneTableSource } from '../../src/server/primary.js';
import { servicesUpdateSink, servicesXfrHistory } from '../../src/daemon/primary-ports.js';
import { QueryHandler } from '../../src/server/query.js';
import * as services from '../../src/services/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ZoneTable } from '../../src/zone/table.js';
import { parseGrant } from '../../src/zone/update.js';
import { compileZone } from '../../src/zone/zone.js';
import { serveQueries } from '../helpers/query-server.js';
import { digRecords, type Responder, run } from '../helpers/xfr.support.js';
import { ctxOf } from '../helpers/context.js';

const origin = Name.from('example.org');
const KEY: TsigKey = { name: Name.from('dyn.key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };
const spec = `hmac-sha256:dyn.key:${Buffer.from(KEY.secret).toString('base64')}`;

describe('primary over the service layer (SQLite)', () => {
  let dir: string;
  let store: Store;
  let table: ZoneTable;
  let server: Responder;
  const publish = async () => {
    const p = await services.loadPublishedZone(ctxOf(store), 'example.org');
    assert.ok(p);
    table.set(compileZone(p.origin, p.records));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-primary-svc-'));
    store = await openStore({ dataDir: dir });
    await services.createZone(ctxOf(store, 'test'), 'example.org', { flags: { incUpdates: true }, // Enough records that a two-record difference is smaller than the zone (else IXFR answers with the zone).
      text: `$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\n${Array.from({ length: 10 }, (_, i) => `h${i} A 198.51.100.${i}\n`).join('')}` });
    await services.createZone(ctxOf(store, 'test'), 'static.example', { flags: { incUpdates: false }, text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n' });
    table = new ZoneTable();
    await publish();
    const qh = new QueryHandler(table);
    const sink = servicesUpdateSink(store, () => [parseGrant('grant dyn.key. zonesub A TXT', (s) => Name.parse(s, origin), typeFromString)]);
    attachPrimary(qh, {
      transfers: zoneTableSource(table, servicesXfrHistory(store, () => [{ key: KEY.name }])),
      // dmsd republishes from the change feed; here the commit does it directly.
      updates: { getZone: sink.getZone, commit: async (c) => { const r = await sink.commit(c); await publish(); return r; } },
      keys: { get: (n) => (n.equals(KEY.name) ? KEY : undefined) },
    });
    server = await serveQueries(qh);
  });
  after(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const nsupdate = (zone: string, lines: string[]) =>
    run('nsupdate', ['-y', spec], [`server 127.0.0.1 ${server.port}`, `zone ${zone}`, ...lines, 'send', ''].join('\n'));
  const dig = (args: string[]) => run('dig', ['-p', String(server.port), '@127.0.0.1', ...args, '+tries=1', '+time=3']);

  test('each accepted UPDATE is one new ZI with change_by = key; the serial follows the policy', async () => {
    const before = await services.getZoneContent(ctxOf(store), 'example.org', 'latest');
    const res = await nsupdate('example.org', ['update add new.example.org. 60 A 192.0.2.77', 'update delete www.example.org. A']);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const after = await services.getZoneContent(ctxOf(store), 'example.org', 'latest');
    assert.equal(after.zi.version, before.zi.version + 1);
    assert.equal(after.zi.changeBy, 'dyn.key');
    assert.ok(after.zi.soaSerial !== before.zi.soaSerial);
    assert.ok(after.records.some((r) => r.name.key === 'new.example.org.'));
    assert.ok(!after.records.some((r) => r.name.key === 'www.example.org.'));
    assert.equal((await dig(['new.example.org', 'A', '+short'])).stdout.trim(), '192.0.2.77');
    // A no-op update stores nothing.
    const noop = await nsupdate('example.org', ['update add new.example.org. 60 A 192.0.2.77']);
    assert.equal(noop.code, 0);
    assert.equal((await services.getZoneContent(ctxOf(store), 'example.org', 'latest')).zi.version, after.zi.version);
  });

  test('refused updates change nothing; zones without inc_updates refuse', async () => {
    const v = (await services.getZoneContent(ctxOf(store), 'example.org', 'latest')).zi.version;
    const res = await nsupdate('example.org', ['update add mx.example.org. 60 MX 10 ns1.example.org.']);
    assert.match(res.stdout + res.stderr, /REFUSED/);
    assert.equal((await services.getZoneContent(ctxOf(store), 'example.org', 'latest')).zi.version, v);
    const st = await nsupdate('static.example', ['update add a.static.example. 60 A 192.0.2.1']);
    assert.match(st.stdout + st.stderr, /REFUSED|NOTAUTH/);
  });

  test('an UPDATE growing an RRset past max_records_per_type (BIND secondaries\' limit, 100) is REFUSED; 0 lifts it', async () => {
    // A zone of its own: the IXFR test below compares example.org's history.
    await services.createZone(ctxOf(store, 'test'), 'size.example', { flags: { incUpdates: true }, text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n' });
    const version = async () => (await services.getZoneContent(ctxOf(store), 'size.example', 'latest')).zi.version;
    const adds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `update add big.size.example. 60 A 10.1.0.${from + i}`);
    const hundred = await nsupdate('size.example', adds(1, 100));
    assert.equal(hundred.code, 0, hundred.stdout + hundred.stderr);
    const v = await version();
    const more = await nsupdate('size.example', [...adds(101, 101), 'update add other.size.example. 60 A 10.1.1.1']);
    assert.match(more.stdout + more.stderr, /REFUSED/);
    assert.equal(await version(), v, 'nothing stored: not even the other name');
    // Not growing that RRset: another type at the name, and a deletion, go through.
    assert.equal((await nsupdate('size.example', ['update add big.size.example. 60 TXT "x"'])).code, 0);
    assert.equal((await nsupdate('size.example', ['update delete big.size.example. A 10.1.0.1'])).code, 0);
    // The limit is the configuration's: 0 takes it away.
    await services.setConfig(ctxOf(store, 'test'), 'max_records_per_type', '0');
    try {
      const lifted = await nsupdate('size.example', adds(101, 102));
      assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
      const a = (await services.getZoneContent(ctxOf(store), 'size.example', 'latest')).records.filter((r) => r.name.key === 'big.size.example.' && r.type === RRType.A);
      assert.equal(a.length, 101);
    } finally {
      await services.setConfig(ctxOf(store, 'test'), 'max_records_per_type', '100');
    }
    // At 101 records now, the RRset may shrink, but not grow.
    const grow = await nsupdate('size.example', adds(103, 103));
    assert.match(grow.stdout + grow.stderr, /REFUSED/);
    assert.equal((await nsupdate('size.example', ['update delete big.size.example. A 10.1.0.2'])).code, 0);
  });

  test('IXFR from the first serial is answered from the stored history', async () => {
    const zis = await services.listZis(ctxOf(store), 'example.org');
    const first = Math.min(...zis.map((z) => z.soaSerial));
    const res = await dig(['-y', spec, '+tcp', 'example.org', `IXFR=${first}`]);
    assert.doesNotMatch(res.stdout + res.stderr, /failed|Couldn't verify/i);
    const recs = digRecords(res.stdout).map((l) => l.split(/\s+/));
    assert.deepEqual(recs.map((f) => (f[3] === 'SOA' ? 'SOA' : `${f[0]} ${f[3]} ${f[4]}`)), [
      'SOA', 'SOA', 'www.example.org. A 192.0.2.10', 'SOA', 'new.example.org. A 192.0.2.77', 'SOA',
    ]);
    assert.equal(recs[1][6], String(first));
  });
});
