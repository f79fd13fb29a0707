// PostgreSQL plans from its statistics. A table that has just grown by a large zone has none for those rows until
// autovacuum's next analyze, and meanwhile the alive rows at an owner (read several times by every UPDATE) were read
// by scanning every alive row of the zone: 34 ms per read at 100,000 records. writeTx analyzes a table a write
// transaction grew by a bulk write (store.ts wroteRows) once it commits. Checked here on a real PostgreSQL: the
// statistics are there right after a large zone's load, and the read at an owner seeks the owner in the index.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();
const pg = backends.find((b) => b.name === 'postgres');
if (!pg) throw new Error('no PostgreSQL backend');

describe('PostgreSQL statistics after a bulk write', () => {
  let s: Store;
  before(async () => {
    s = await pg.open();
  });
  after(async () => s.close());

  const lastAnalyze = async (table: string) =>
    (await sql<{ at: Date | null }>`select last_analyze as at from pg_stat_user_tables where relname = ${table}`.execute(s.db)).rows[0]?.at ?? null;

  test('a small zone leaves the statistics alone; a zone of 12,000 records is analyzed with its load', async () => {
    await svc.createZone(ctxOf(s, 'tester'), 'small.test', { text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n' });
    assert.equal(await lastAnalyze('records'), null, 'no analyze for three records');
    const lines = ['$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
    for (let i = 0; i < 12_000; i++) lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`);
    await svc.createZone(ctxOf(s, 'tester'), 'big.test', { text: `${lines.join('\n')}\n` });
    assert.notEqual(await lastAnalyze('records'), null, 'records analyzed after the load');
    const head = await svc.publishedVersion(ctxOf(s), 'big.test');
    assert.ok(head);
    // The read of an UPDATE's owners (alive rows at two owners): the owners are an index condition, not a filter.
    const plan = (
      await sql<{ 'QUERY PLAN': string }>`explain select id from records where zone_id = ${head.zoneId} and to_version is null and owner_key in ('big.test.', 'h5.big.test.')`.execute(s.db)
    ).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    assert.match(plan, /Index Cond: .*owner_key/, plan);
    assert.doesNotMatch(plan, /Filter: .*owner_key/, plan);
  });
});
