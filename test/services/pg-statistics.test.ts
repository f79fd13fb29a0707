// PostgreSQL plans from its statistics. A table that has just grown by a large zone has none for those rows until
// autovacuum's next analyze, and meanwhile the alive rows at an owner (read several times by every UPDATE) were read
// by scanning every alive row of the zone: 34 ms per read at 100,000 records. writeTx analyzes a table a write
// transaction grew by a bulk write (store.ts wroteRows: 10,000 rows, or 1,000 that are a tenth of the table) once it
// commits. Checked here on a real PostgreSQL: the
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

  const zoneText = (n: number) => {
    const lines = ['$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
    for (let i = 0; i < n; i++) lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`);
    return { text: `${lines.join('\n')}\n` };
  };

  test('a few records leave the statistics alone; 1,500 in a new table, or 12,000 in any, are analyzed with their load', async () => {
    await svc.createZone(ctxOf(s, 'tester'), 'small.test', zoneText(0));
    assert.equal(await lastAnalyze('records'), null, 'no analyze for three records');
    // A new database's first zone of some size: the table has never been analyzed (2,000 records in a new database:
    // an UPDATE's reads at its owners scanned every alive row, 1.3-1.5 ms each).
    await svc.createZone(ctxOf(s, 'tester'), 'some.test', zoneText(1_500));
    const first = await lastAnalyze('records');
    assert.notEqual(first, null, 'records analyzed after the first zone of 1,500');
    await svc.createZone(ctxOf(s, 'tester'), 'big.test', zoneText(12_000));
    const second = await lastAnalyze('records');
    assert.ok(second && first && second > first, 'records analyzed after the load of 12,000');
    // 1,100 records into a table of ~13,500 analyzed: less than a tenth, autovacuum's business.
    await svc.createZone(ctxOf(s, 'tester'), 'more.test', zoneText(1_100));
    assert.deepEqual(await lastAnalyze('records'), second, 'no analyze for a twelfth of the table');
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
