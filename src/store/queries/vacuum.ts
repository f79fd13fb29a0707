// What vacuum finds and removes: deleted zones past their age, old ZIs beyond the kept number. (Events and the change
// feed are vacuumed by their own modules: events.ts deleteFinishedEvents, feed.ts vacuumChanges.)

import type { Db, Tx } from '../store.js';
import { deleteOrphanSignerRows, reviveSignerRowsAfter } from './signing.js';
import { deleteSnapshots } from './snapshots.js';
import { deleteOrphanRows } from './versions.js';

/** Deleted zones whose deletion started before `before`. */
export async function deletedZonesBefore(db: Db, before: number): Promise<number[]> {
  const rows = await db.selectFrom('zones').select('id').where('state', '=', 'DELETED').where('deleted_start', '<', before).execute();
  return rows.map((r) => Number(r.id));
}

/** Deleted zones whose deletion started before `before` and that still have more than one ZI. */
export async function deletedZonesWithHistory(db: Db, before: number): Promise<number[]> {
  const rows = await db
    .selectFrom('zones as z')
    .select('z.id')
    .where('z.state', '=', 'DELETED')
    .where('z.deleted_start', '<', before)
    .where(({ selectFrom }) => selectFrom('zone_instances as zi').select((eb) => eb.fn.countAll().as('n')).whereRef('zi.zone_id', '=', 'z.id'), '>', 1)
    .execute();
  return rows.map((r) => Number(r.id));
}

/**
 * Keep only version `keep` of a zone: the other ZIs and the rows alive in none of what remains go, and `keep` becomes
 * the newest version (rows that died after it are alive again: their killers are gone).
 */
export async function pareZoneTo(trx: Tx, zoneId: number, keep: number): Promise<{ zis: number; records: number }> {
  const d = await trx.deleteFrom('zone_instances').where('zone_id', '=', zoneId).where('version', '<>', keep).executeTakeFirst();
  // Versions after `keep` will be numbered again: no snapshot may stay (not even of `keep`, whose rows change below).
  await deleteSnapshots(trx, zoneId);
  const records = await deleteOrphanRows(trx, zoneId);
  await deleteOrphanSignerRows(trx, zoneId);
  await trx.updateTable('records').set({ to_version: null }).where('zone_id', '=', zoneId).where('to_version', '>', keep).execute();
  await reviveSignerRowsAfter(trx, zoneId, keep);
  await trx.updateTable('zones').set({ latest_version: keep }).where('id', '=', zoneId).execute();
  return { zis: Number(d.numDeletedRows), records };
}

/** Zones (one, or all) with more than `max` ZIs. */
export async function zonesWithMoreZis(db: Db, max: number, onlyZoneId?: number): Promise<number[]> {
  const rows = await db
    .selectFrom('zone_instances')
    .select('zone_id')
    .$if(onlyZoneId !== undefined, (q) => q.where('zone_id', '=', onlyZoneId as number))
    .groupBy('zone_id')
    .having((eb) => eb.fn.countAll(), '>', max)
    .execute();
  return rows.map((r) => Number(r.zone_id));
}

/** A zone's ZIs, newest first, with their creation times. */
export async function ziAges(db: Db, zoneId: number): Promise<{ id: number; version: number; ctime: number }[]> {
  const rows = await db.selectFrom('zone_instances').select(['id', 'version', 'ctime']).where('zone_id', '=', zoneId).orderBy('version', 'desc').execute();
  return rows.map((r) => ({ id: Number(r.id), version: r.version, ctime: Number(r.ctime) }));
}

/** Delete these ZIs of a zone and the rows left alive in none of its remaining ZIs; returns [ZIs, rows] deleted. */
export async function deleteZis(trx: Tx, zoneId: number, ids: readonly number[]): Promise<{ zis: number; records: number }> {
  for (let i = 0; i < ids.length; i += 500) await trx.deleteFrom('zone_instances').where('id', 'in', ids.slice(i, i + 500)).execute();
  await deleteSnapshots(trx, zoneId, ids);
  const records = await deleteOrphanRows(trx, zoneId);
  // The signer's rows (dnssec_records) follow the same versions.
  await deleteOrphanSignerRows(trx, zoneId);
  return { zis: ids.length, records };
}
