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

/** Vacuum: entries older than `before` (ms); returns how many went. */
export async function deleteAuditBefore(trx: Tx | Db, before: number): Promise<number> {
  const r = await adb(trx).deleteFrom('audit_log').where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows ?? 0);
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
  if (f.since !== undefined) q = q.where('at', '>=', f.since);
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  if (scope !== null)
    q = q.where(
      sql<boolean>`exists (select 1 from zone_sectags vis_zs inner join sectags vis_st on vis_st.id = vis_zs.sectag_id where vis_zs.zone_id = audit_log.zone_id and vis_st.name = ${scope})`,
    );
  return q.orderBy('id', 'desc').limit(f.limit).execute();
}
