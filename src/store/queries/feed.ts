// The change feed (zone_changes: one row per committed change, in commit order) and what dmsd reads to serve zones.

import { sql } from 'kysely';
import type { Dialect } from '../migrations.js';
import { preparedStatement } from '../prepared.js';
import { type CommittedFeedRow, type Db, noteFeedRow, type Store, type Tx } from '../store.js';
import { type ZoneScope, scopeVariant, scopeZones } from './zones.js';

/** The PostgreSQL NOTIFY channel of the change feed. */
export const CHANGE_CHANNEL = 'dms_zone_changes';
/** The advisory lock that makes the feed's commit order its sequence order (PostgreSQL). */
const FEED_LOCK = 7340033;

export type ChangeRow = CommittedFeedRow;

/**
 * Append a change inside the writer's transaction. On PostgreSQL sequence values are handed out before commit, so
 * concurrent writers could commit out of order and a follower could skip a change: one advisory lock held to commit
 * makes commit order = sequence order, and a NOTIFY wakes LISTENing followers when it commits. SQLite's single writer
 * needs neither.
 */
export async function appendChange(
  trx: Tx,
  dialect: Dialect,
  change: { zone_id: number; zone_name: string; kind: string; version: number | null; at: number },
): Promise<void> {
  let seq: number | undefined;
  if (dialect === 'postgres') {
    // One statement (a round trip, not three): the lock is taken as the inserted row is formed, before its seq is
    // drawn (the row's columns come from the locking subquery), and the NOTIFY goes with the commit.
    const r = await sql<{ seq: number }>`insert into zone_changes (zone_id, zone_name, kind, version, at)
      select ${change.zone_id}::bigint, ${change.zone_name}::text, ${change.kind}::text, ${change.version}::bigint, ${change.at}::bigint
      from (select pg_advisory_xact_lock(${FEED_LOCK})) as serialized
      returning seq, pg_notify(${CHANGE_CHANNEL}, '')`.execute(trx);
    seq = r.rows[0] ? Number(r.rows[0].seq) : undefined;
  } else seq = await insertChange.insertId(trx, '', change.zone_id, change.zone_name, change.kind, change.version, change.at);
  if (seq !== undefined) noteFeedRow(trx, { seq, ...change });
}

const insertChange = preparedStatement((db: Db, _v, zone_id: number, zone_name: string, kind: string, version: number | null, at: number) =>
  db.insertInto('zone_changes').values({ zone_id, zone_name, kind, version, at }),
);
const vacuumedTo = preparedStatement((db: Db) => db.selectFrom('store_meta').select('changes_vacuumed_to').where('id', '=', 1));
// The page size a literal (the variant): SQLite prepares a statement with a bound LIMIT again each time it is bound
// (about 5 µs a run, measured with better-sqlite3).
const changesSince = preparedStatement((db: Db, limit: string, since: number) =>
  db.selectFrom('zone_changes').selectAll().where('seq', '>', since).orderBy('seq').limit(sql.lit(Number(limit))),
);

/** The sequence number up to which the feed was vacuumed (followers behind it must reload everything). */
export async function changesVacuumedTo(db: Db): Promise<number> {
  const meta = await vacuumedTo.first(db, '');
  return Number(meta?.changes_vacuumed_to ?? 0);
}

/** The newest sequence number (0 on an empty feed). */
export async function lastChangeSeq(db: Db): Promise<number> {
  const r = await db.selectFrom('zone_changes').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  return Number(r?.m ?? 0);
}

/** Changes after `since`, in order. */
export async function changesAfter(db: Db, since: number, limit: number): Promise<ChangeRow[]> {
  const rows = await changesSince.rows(db, String(Math.max(1, Math.floor(limit))), since);
  return rows.map((r) => ({ ...r, seq: Number(r.seq), zone_id: Number(r.zone_id), at: Number(r.at) }));
}

/**
 * Drop change rows older than `before`, always keeping the newest (so the sequence never restarts), and remember how
 * far the feed was vacuumed. Returns how many rows went.
 */
export async function vacuumChanges(trx: Tx, before: number): Promise<number> {
  const maxSeq = await lastChangeSeq(trx);
  const doomed = await trx
    .selectFrom('zone_changes')
    .select((eb) => [eb.fn.max('seq').as('m'), eb.fn.countAll().as('n')])
    .where('at', '<', before)
    .where('seq', '<', maxSeq)
    .executeTakeFirst();
  const upTo = Number(doomed?.m ?? 0);
  if (upTo <= 0) return 0;
  const d = await trx.deleteFrom('zone_changes').where('seq', '<=', upTo).executeTakeFirst();
  await trx
    .updateTable('store_meta')
    .set({ changes_vacuumed_to: sql<number>`case when changes_vacuumed_to > ${upTo} then changes_vacuumed_to else ${upTo} end` })
    .where('id', '=', 1)
    .execute();
  return Number(d.numDeletedRows);
}

// ---- served zones ------------------------------------------------------------------------------------------------------

/** The states of a served zone (published, or with an unpublished newer version). */
export const SERVED_STATES = ['PUBLISHED', 'UPDATE'];

/**
 * The zone row of a served zone (published or with an unpublished newer version) the scope sees: the columns its
 * readers use. Every follower of a change reads it (about ten per signed UPDATE), and better-sqlite3 makes a row's
 * columns at ~0.3 µs each: all 22 of them cost 10.8 µs against 3.6 for the id alone.
 */
const servedZoneByName = preparedStatement((db: Db, _v, name: string, ...scope: string[]) =>
  scopeZones(
    db.selectFrom('zones').select(['zones.id', 'zones.name', 'zones.state', 'zones.published_version', 'zones.latest_version']).where('name', '=', name).where('state', 'in', SERVED_STATES),
    scope[0] ?? null,
    'zones.id',
  ),
);

export async function servedZoneRow(db: Db, scope: ZoneScope, name: string) {
  const s = scopeVariant(scope);
  return servedZoneByName.first(db, s.variant, name, ...s.args);
}

/** A page of served zones (by name, after `after`) with the SOA fields of their published version. */
export async function servedZonePage(db: Db, scope: ZoneScope, after: string, pageSize: number) {
  const q = db
    .selectFrom('zones as z')
    .innerJoin('zone_instances as zi', (j) => j.onRef('zi.zone_id', '=', 'z.id').onRef('zi.version', '=', 'z.published_version'))
    .select(['z.id', 'z.name', 'zi.version', 'zi.soa_serial', 'zi.soa_mname', 'zi.soa_rname', 'zi.soa_refresh', 'zi.soa_retry', 'zi.soa_expire', 'zi.soa_minimum', 'zi.soa_ttl', 'zi.zone_ttl'])
    // The state through an expression: an index on state would be taken for the IN and every page sorted whole (SQLite:
    // 45 ms a page of 500 at 100,000 zones, 7.5 s of a 100,000-zone start-up); on the name index, a page is a range.
    .where(sql<string>`(${sql.ref('z.state')} || '')`, 'in', SERVED_STATES);
  return scopeZones(q, scope, 'z.id').where('z.name', '>', after).orderBy('z.name').limit(sql.lit(pageSize)).execute();
}

/**
 * The served (not disabled) records of these zones' published versions, per zone in order, each with the published
 * version it was read for (`pv`: a zone published again since its page was read shows a different one), row by row,
 * straight from SQLite's cursor (one statement: one snapshot): a 1,000,000-record zone is never held as an array of
 * rows. Undefined when the store is not SQLite (PostgreSQL: cursorPublishedRecordsOf). Meant to run under
 * withoutMemoryMap.
 */
export function streamPublishedRecordsOf(store: Store, zoneIds: readonly number[]): IterableIterator<PublishedRecordTuple> | undefined {
  const db = store.sqlite;
  if (!db) return undefined;
  const q = publishedRecordsQuery(store.db, zoneIds).compile();
  // Rows as arrays (the statement's column order), not objects: 3.2 instead of 4.6 µs a row through the driver, 2.5 s
  // of a 100,000-zone start-up.
  return db.prepare(q.sql).raw(true).iterate(...(q.parameters as unknown[])) as IterableIterator<PublishedRecordTuple>;
}

/** A row of publishedRecordsOf as streamPublishedRecordsOf gives it: zone_id, pv, owner, type, rclass, ttl, rdata. */
export type PublishedRecordTuple = [zoneId: number, pv: number | null, owner: string, type: number, rclass: number, ttl: number, rdata: Uint8Array];

/**
 * Run `fn` (dmsd's start-up read of every served record, once) with SQLite reading through its small page cache
 * instead of the memory map of the database file: the map would leave every page of the file resident in the process
 * afterwards (file-backed, reclaimable, but counted in its RSS: 120 MB for a 1,000,000-record zone, more than the zone
 * compiled from it), for records read once. Set once for the whole load (each change of mmap_size maps or unmaps the
 * file: per page of zones it cost 1 s of a 100,000-zone start-up) and set back after it, for the queries that follow.
 */
export async function withoutMemoryMap<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const db = store.sqlite;
  const before = db ? (db.pragma('mmap_size', { simple: true }) as number) : 0;
  if (db && before > 0) db.pragma('mmap_size = 0');
  try {
    return await fn();
  } finally {
    if (db && before > 0) db.pragma(`mmap_size = ${before}`);
  }
}

/** `literal`: the values written into the statement, not bound (a PostgreSQL DECLARE takes no parameters). */
function publishedRecordsQuery(db: Db, zoneIds: readonly number[], literal = false) {
  return db
    .selectFrom('records as r')
    .innerJoin('zones as z', 'z.id', 'r.zone_id')
    .select(['r.zone_id', 'z.published_version as pv', 'r.owner', 'r.type', 'r.rclass', 'r.ttl', 'r.rdata'])
    .where('r.zone_id', 'in', literal ? zoneIds.map((id) => sql.lit(Math.trunc(id))) : zoneIds)
    .where('r.disabled', '=', literal ? sql.lit(0) : 0)
    .whereRef('r.from_version', '<=', 'z.published_version')
    .where((eb) => eb.or([eb('r.to_version', 'is', null), eb('r.to_version', '>', eb.ref('z.published_version'))]))
    .orderBy('r.zone_id')
    .orderBy('r.ord')
    .orderBy('r.id');
}

/**
 * PostgreSQL: these zones' rows as streamPublishedRecordsOf gives them (same statement, same order), in batches through
 * a cursor of the transaction `trx`, so that a 1,000,000-record zone is never held as rows. Inside a transaction only.
 */
export async function* cursorPublishedRecordsOf(trx: Tx, zoneIds: readonly number[], batch = 20_000): AsyncGenerator<PublishedRecordTuple[]> {
  const q = publishedRecordsQuery(trx, zoneIds, true).compile();
  await sql.raw(`declare dms_published_rows no scroll cursor for ${q.sql}`).execute(trx);
  try {
    for (;;) {
      const r = await sql.raw<{ zone_id: number | string; pv: number | null; owner: string; type: number; rclass: number; ttl: number | string; rdata: Uint8Array }>(`fetch ${Math.trunc(batch)} from dms_published_rows`).execute(trx);
      if (r.rows.length === 0) return;
      yield r.rows.map((x): PublishedRecordTuple => [Number(x.zone_id), x.pv, x.owner, x.type, x.rclass, Number(x.ttl), x.rdata]);
    }
  } finally {
    await sql.raw('close dms_published_rows').execute(trx);
  }
}

/** Names of the served zones with a published version, by name. */
export async function servedZoneNames(db: Db, scope: ZoneScope): Promise<string[]> {
  const q = db.selectFrom('zones').select('name').where('state', 'in', SERVED_STATES).where('published_version', 'is not', null);
  return (await scopeZones(q, scope, 'zones.id').orderBy('name').execute()).map((r) => r.name);
}
