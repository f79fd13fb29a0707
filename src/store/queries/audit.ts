// The audit log (issue 16): one row per change, written in the change's own transaction; read newest first.

import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { ApiTables, AuditLogTable } from '../migrations-api.js';
import type { Database } from '../schema.js';
import { preparedRowWrite } from '../prepared.js';
import type { Db, Tx } from '../store.js';
import type { ZoneScope } from './zones.js';

type ADb = Kysely<Database & ApiTables>;
const adb = (d: Db): ADb => d as unknown as ADb;

export type AuditRow = Selectable<AuditLogTable>;

// Entries are appended in time order, so ids grow with `at`: the ids are the time index (the table has none on `at`,
// one page less for every change's commit to write). A clock stepped back makes a few entries out of order: a listing
// looks for its first id STEP_MARGIN_MS before the time asked for (and filters by time exactly), the vacuum keeps
// what comes after the first entry it must keep.
const STEP_MARGIN_MS = 10 * 60_000;

/**
 * Vacuum: entries older than `before` (ms); returns how many went. The newest entry always stays, even when older: on
 * SQLite the ids are the table's row numbers (no AUTOINCREMENT, migration 0028), one past the largest there is, so an
 * emptied log would number its next entries from 1 again.
 */
export async function deleteAuditBefore(trx: Tx | Db, before: number): Promise<number> {
  // The first entry at or after `before`, walking from the oldest: a walk over the entries that go.
  const first = await adb(trx).selectFrom('audit_log').select('id').where('at', '>=', before).orderBy('id').limit(1).executeTakeFirst();
  const upTo = first ?? (await adb(trx).selectFrom('audit_log').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst());
  if (!upTo) return 0;
  const r = await adb(trx).deleteFrom('audit_log').where('id', '<', upTo.id).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
}

/**
 * The smallest id such that no entry from it on is older than `at` (bisecting the ids; each step one look-up by id),
 * or undefined for an empty log.
 */
async function firstIdAtOrAfter(db: Db, at: number): Promise<number | undefined> {
  const bounds = await adb(db)
    .selectFrom('audit_log')
    .select((eb) => [eb.fn.min('id').as('lo'), eb.fn.max('id').as('hi')])
    .executeTakeFirst();
  if (bounds?.lo === null || bounds?.lo === undefined || bounds.hi === null) return undefined;
  // From `lo` on, the first entry is at or after `at`, or there is none (true at hi + 1, false below the answer).
  const atOrAfter = async (id: number) => {
    const row = await adb(db).selectFrom('audit_log').select('at').where('id', '>=', id).orderBy('id').limit(1).executeTakeFirst();
    return row === undefined || Number(row.at) >= at;
  };
  let lo = Number(bounds.lo);
  let hi = Number(bounds.hi) + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await atOrAfter(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const insertAuditRow = preparedRowWrite('audit_log');

export async function insertAudit(trx: Tx | Db, row: Insertable<AuditLogTable>): Promise<void> {
  await insertAuditRow(trx, row);
}

export interface AuditFilter {
  zone?: string;
  actor?: string;
  /** Only entries of this kind ('dnssec': key transitions). */
  kind?: string;
  since?: number;
  /** Cursor: entries with a smaller id (the last id of the previous page). */
  before?: number;
  limit: number;
}

/**
 * Entries newest first. A scoped caller (customer) sees only entries about zones that carry its security tag now
 * (the tenancy rule of zones.ts, applied to the entry's zone id).
 */
export async function auditRows(db: Db, scope: ZoneScope, f: AuditFilter): Promise<AuditRow[]> {
  let q = adb(db).selectFrom('audit_log').selectAll();
  if (f.zone !== undefined) q = q.where('zone_name', '=', f.zone);
  if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.since !== undefined) {
    q = q.where('at', '>=', f.since);
    const from = await firstIdAtOrAfter(db, f.since - STEP_MARGIN_MS);
    if (from !== undefined) q = q.where('id', '>=', from);
  }
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  if (scope !== null)
    q = q.where(
      sql<boolean>`exists (select 1 from zone_sectags vis_zs inner join sectags vis_st on vis_st.id = vis_zs.sectag_id where vis_zs.zone_id = audit_log.zone_id and vis_st.name = ${scope})`,
    );
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}
