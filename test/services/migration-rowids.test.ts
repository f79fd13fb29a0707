// Migration 0028 (SQLite): the change feed and the audit log number their rows without AUTOINCREMENT, so a change's
// commit no longer writes sqlite_sequence's page. An existing database keeps every row, number and index; new rows
// go on from the largest number; the change feed's vacuum keeps the newest row (the numbers never go back); down
// puts AUTOINCREMENT back. And a store opened now writes no sqlite_sequence entry for a change.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider, openStore, writeTx } from '../../src/store/index.js';
import { vacuumChanges } from '../../src/store/queries/feed.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'dms-rowids-'));
  dirs.push(d);
  return d;
};

test('0028 on a database with rows: rows, numbers and indexes kept, no AUTOINCREMENT; down puts it back', async () => {
  const file = join(tmp(), 'dms.sqlite');
  const raw = new BetterSqlite3(file);
  const db = new Kysely<never>({ dialect: new SqliteDialect({ database: raw }) });
  const migrator = new Migrator({ db, provider: migrationProvider('sqlite') });
  try {
    const to27 = await migrator.migrateTo('0027_signer_rows_alive_owner');
    assert.equal(to27.error, undefined, String(to27.error));
    const defOf = (t: string) => (raw.prepare(`select sql from sqlite_master where type = 'table' and name = ?`).get(t) as { sql: string }).sql;
    assert.match(defOf('zone_changes'), /autoincrement/i, 'before: AUTOINCREMENT');
    for (let i = 1; i <= 5; i++) {
      raw.prepare(`insert into zone_changes (zone_id, zone_name, kind, version, at) values (1, 'a.test.', 'publish', ?, ?)`).run(i, 1000 + i);
      raw.prepare(`insert into audit_log (at, actor, kind, summary, zone_name) values (?, 'x', 'change', ?, 'a.test.')`).run(1000 + i, `#${i}`);
    }
    // Gaps below the largest numbers stay gaps.
    raw.prepare('delete from zone_changes where seq = 2').run();
    raw.prepare('delete from audit_log where id = 3').run();
    const before = {
      changes: raw.prepare('select * from zone_changes order by seq').all(),
      audit: raw.prepare('select * from audit_log order by id').all(),
      indexes: raw.prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name in ('zone_changes', 'audit_log') order by name`).all(),
    };
    const to28 = await migrator.migrateTo('0028_feed_audit_rowids');
    assert.equal(to28.error, undefined, String(to28.error));
    for (const t of ['zone_changes', 'audit_log']) assert.doesNotMatch(defOf(t), /autoincrement/i, `${t}: no AUTOINCREMENT`);
    assert.deepEqual(raw.prepare('select * from zone_changes order by seq').all(), before.changes, 'the feed rows, numbers kept');
    assert.deepEqual(raw.prepare('select * from audit_log order by id').all(), before.audit, 'the audit entries, ids kept');
    assert.deepEqual(
      raw.prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name in ('zone_changes', 'audit_log') order by name`).all(),
      before.indexes,
      'the indexes, as they were',
    );
    assert.ok(
      before.indexes.some((i) => (i as { name: string }).name === 'audit_log_zone'),
      'the audit log had its indexes to keep',
    );
    // New rows go on from the largest number.
    const seq = raw.prepare(`insert into zone_changes (zone_id, zone_name, kind, version, at) values (1, 'a.test.', 'publish', 6, 1006)`).run().lastInsertRowid;
    const id = raw.prepare(`insert into audit_log (at, actor, kind, summary) values (1006, 'x', 'change', '#6')`).run().lastInsertRowid;
    assert.deepEqual([Number(seq), Number(id)], [6, 6]);
    const down = await migrator.migrateTo('0027_signer_rows_alive_owner');
    assert.equal(down.error, undefined, String(down.error));
    for (const t of ['zone_changes', 'audit_log']) assert.match(defOf(t), /autoincrement/i, `${t}: AUTOINCREMENT again`);
    assert.equal((raw.prepare('select count(*) as n from audit_log').get() as { n: number }).n, 5);
  } finally {
    await db.destroy();
  }
});

test('a store opened now: a change writes no sqlite_sequence entry; the feed vacuum keeps the newest, numbers go on', async () => {
  const store = await openStore({ dataDir: tmp() });
  try {
    const raw = store.sqlite;
    assert.ok(raw, 'an SQLite store');
    const add = (version: number) =>
      Number(raw.prepare(`insert into zone_changes (zone_id, zone_name, kind, version, at) values (1, 'a.test.', 'publish', ?, ?)`).run(version, 1000 + version).lastInsertRowid);
    const seqs: number[] = [];
    for (let i = 1; i <= 4; i++) seqs.push(add(i));
    raw.prepare(`insert into audit_log (at, actor, kind, summary) values (1, 'x', 'change', 'one')`).run();
    const sequence = raw.prepare(`select name from sqlite_master where name = 'sqlite_sequence'`).get()
      ? (raw.prepare(`select name from sqlite_sequence where name in ('zone_changes', 'audit_log')`).all() as { name: string }[])
      : [];
    assert.deepEqual(sequence, [], 'no sqlite_sequence entry for the feed or the audit log');
    // Every row is older than the cut-off: all but the newest go, and the next row is numbered after it.
    const gone = await writeTx(store, (trx) => vacuumChanges(trx, 1_000_000));
    assert.equal(gone, 3);
    const next = add(5);
    assert.ok(next > Math.max(...seqs), `the feed's numbers never go back (${next} after ${seqs.join(',')})`);
  } finally {
    await store.close();
  }
});
