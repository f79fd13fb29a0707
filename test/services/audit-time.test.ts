// The audit log has no index on time (one page less for every change's commit): its ids, appended in time order,
// are the time index. A listing since a time and the vacuum before a time give what a scan of `at` gives, on both
// backends, with gaps in the ids and with a clock that stepped back once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../../src/store/index.js';
import { auditRows, deleteAuditBefore, insertAudit } from '../../src/store/queries/audit.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

const entry = (at: number, actor = 'a') => ({ at, actor, source: null, operation: null, zone_id: null, zone_name: 'z.test', zi_before: null, zi_after: null, kind: 'change', summary: `at ${at}` });

for (const backend of backends) {
  describe(`audit log by time on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(async () => {
      await store?.close();
    });

    test('the time index is not there (migration 0025)', async () => {
      const names =
        backend.name === 'sqlite'
          ? (store.sqlite?.prepare(`select name from sqlite_master where type = 'index' and tbl_name = 'audit_log'`).all() as { name: string }[])
          : (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'audit_log'`.execute(store.db)).rows;
      assert.ok(!names.some((n) => n.name === 'audit_log_at'), JSON.stringify(names));
      assert.ok(names.some((n) => n.name === 'audit_log_zone'));
    });

    test('since and vacuum agree with the times, with gaps in the ids and a clock stepped back', async () => {
      const MIN = 60_000;
      const t0 = 1_700_000_000_000;
      // An entry a minute for 100 minutes; the one written after minute 60 has the time of minute 58 (the clock
      // stepped back two minutes); some ids missing.
      const times = Array.from({ length: 100 }, (_, i) => t0 + i * MIN);
      times.splice(61, 0, t0 + 58 * MIN);
      for (const [i, at] of times.entries()) await insertAudit(store.db, { ...entry(at), summary: `#${i}` });
      await store.db.deleteFrom('audit_log' as never).where('summary' as never, 'in', ['#20', '#21', '#22', '#70'] as never).execute();
      const all = await auditRows(store.db, null, { limit: 1000 });
      assert.equal(all.length, 97);
      for (const m of [-5, 0, 1, 20, 21, 23, 40, 57, 58, 59, 60, 61, 70, 99, 100, 200]) {
        for (const since of [t0 + m * MIN, t0 + m * MIN + 1]) {
          const got = await auditRows(store.db, null, { since, limit: 1000 });
          const want = all.filter((r) => Number(r.at) >= since);
          assert.deepEqual(
            got.map((r) => r.summary),
            want.map((r) => r.summary),
            `since minute ${m}`,
          );
          const two = await auditRows(store.db, null, { since, limit: 2 });
          assert.deepEqual(
            two.map((r) => r.summary),
            want.slice(0, 2).map((r) => r.summary),
          );
        }
      }
      // Vacuum: entries before the first one at or after the cut-off go; nothing at or after it goes.
      const cut = t0 + 30 * MIN + 1;
      const gone = await deleteAuditBefore(store.db, cut);
      const left = await auditRows(store.db, null, { limit: 1000 });
      assert.equal(gone, all.length - left.length);
      assert.deepEqual(
        left.map((r) => r.summary),
        all.filter((r) => Number(r.at) >= cut).map((r) => r.summary),
      );
      // Everything older: all but the newest entry, which carries the ids on (SQLite numbers a row one past the
      // largest there is: migration 0028), so the next entry's id is larger than any before.
      const newest = left.reduce((a, b) => (Number(b.id) > Number(a.id) ? b : a));
      await deleteAuditBefore(store.db, t0 + 1000 * MIN);
      const last = await auditRows(store.db, null, { since: 0, limit: 10 });
      assert.deepEqual(last.map((r) => r.summary), [newest.summary], 'the newest entry stays');
      await insertAudit(store.db, entry(t0 + 2000 * MIN));
      const next = await auditRows(store.db, null, { since: t0 + 2000 * MIN, limit: 10 });
      assert.ok(next.length === 1 && Number(next[0].id) > Math.max(...all.map((r) => Number(r.id))), 'ids never go back');
    });
  });
}
