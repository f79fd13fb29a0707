// The event queue table.

import type { Insertable, Selectable } from 'kysely';
import type { Dialect } from '../migrations.js';
import type { EventTable } from '../schema.js';
import type { Db, Tx } from '../store.js';

export type EventRow = Selectable<EventTable>;

export async function insertEvent(db: Db, row: Insertable<EventTable>): Promise<number> {
  const r = await db.insertInto('events').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

/** NEW or RETRY events scheduled at or before `now`, soonest first. */
export async function dueEventRows(db: Db, now: number, limit: number): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('state', 'in', ['NEW', 'RETRY'])
    .where('scheduled', '<=', now)
    .orderBy('scheduled')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Lease due events inside `trx`: their `scheduled` moves to `leaseUntil`. On PostgreSQL the rows are locked and rows
 * another transaction holds are skipped, so concurrent claimers never take the same event; SQLite's write lock
 * serialises claimers already.
 */
export async function leaseDueEvents(trx: Tx, dialect: Dialect, now: number, leaseUntil: number, limit: number): Promise<EventRow[]> {
  let q = trx
    .selectFrom('events')
    .select('id')
    .where('state', 'in', ['NEW', 'RETRY'])
    .where('scheduled', '<=', now)
    .orderBy('scheduled')
    .orderBy('id')
    .limit(limit);
  if (dialect === 'postgres') q = q.forUpdate().skipLocked();
  const ids = (await q.execute()).map((r) => Number(r.id));
  if (ids.length === 0) return [];
  await trx.updateTable('events').set({ scheduled: leaseUntil }).where('id', 'in', ids).execute();
  return trx.selectFrom('events').selectAll().where('id', 'in', ids).orderBy('id').execute();
}

export async function eventRow(db: Db, id: number): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Update an event; false when there is no such event. */
export async function updateEvent(
  db: Db,
  id: number,
  set: Partial<Pick<EventRow, 'state' | 'attempts' | 'last_error' | 'scheduled' | 'processed'>>,
): Promise<boolean> {
  const r = await db.updateTable('events').set(set).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Newest first; optionally only events in these states. */
export async function eventRows(db: Db, states: readonly string[] | undefined, limit: number): Promise<EventRow[]> {
  let q = db.selectFrom('events').selectAll();
  if (states !== undefined) q = q.where('state', 'in', states);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

/** Finished (SUCCESS / FAILURE) events processed before `before`; returns how many. */
export async function deleteFinishedEvents(db: Db, before: number): Promise<number> {
  const d = await db.deleteFrom('events').where('state', 'in', ['SUCCESS', 'FAILURE']).where('processed', '<', before).executeTakeFirst();
  return Number(d.numDeletedRows);
}
