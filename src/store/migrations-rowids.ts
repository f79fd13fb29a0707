// 0028: the change feed (zone_changes) and the audit log (audit_log) number their rows without AUTOINCREMENT (SQLite).
// AUTOINCREMENT keeps each table's last number in sqlite_sequence, a page of its own that every change's commit
// wrote once more (an RFC 2136 UPDATE writes a row to both tables): one page of the ~12 each UPDATE's commit appends to
// the WAL and syncs, ~10-25 µs of its latency (bench/update-ab.mjs, session 32). Without it SQLite numbers a row one
// past the largest number in the table, so a number is used again only after the row holding the largest one is
// deleted; the two vacuums keep each table's newest row (queries/feed.ts vacuumChanges, queries/audit.ts
// deleteAuditBefore), so neither sequence ever goes back. PostgreSQL's sequences are left as they are.

import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

const TABLES = ['zone_changes', 'audit_log'] as const;

/** Rebuild `table` with its own definition less (or plus) AUTOINCREMENT, rows, numbers and indexes kept. */
async function rebuild(db: AnyDb, table: string, autoincrement: boolean): Promise<void> {
  const def = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const create = def.rows[0]?.sql;
  if (!create) throw new Error(`migration 0028: no table ${table}`);
  const has = /\bautoincrement\b/i.test(create);
  if (has === autoincrement) return;
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(db);
  const temp = `${table}_0028`;
  const head = create.replace(/^CREATE TABLE\s+("?)[A-Za-z_]+\1/i, `CREATE TABLE "${temp}"`);
  const body = autoincrement ? head.replace(/\binteger primary key\b/i, 'integer primary key autoincrement') : head.replace(/\s+autoincrement\b/i, '');
  await sql.raw(body).execute(db);
  await sql.raw(`insert into "${temp}" select * from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${temp}" rename to "${table}"`).execute(db);
  for (const i of indexes.rows) await sql.raw(i.sql).execute(db);
}

export function rowidSequences(dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      if (dialect !== 'sqlite') return;
      for (const t of TABLES) await rebuild(db, t, false);
    },
    async down(db: AnyDb) {
      if (dialect !== 'sqlite') return;
      for (const t of TABLES) await rebuild(db, t, true);
    },
  };
}
