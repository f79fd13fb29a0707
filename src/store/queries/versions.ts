// Zone versions (zone_instances: one ZI per version) and their record rows (records: alive in
// [from_version, to_version)).

import type { Selectable } from 'kysely';
import type { ZoneInstanceTable } from '../schema.js';
import type { Db, Tx } from '../store.js';

export type ZiRow = Selectable<ZoneInstanceTable>;

/** The ZI of a zone's version, or undefined. */
export async function ziRow(db: Db, zoneId: number, version: number): Promise<ZiRow | undefined> {
  return db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('version', '=', version).executeTakeFirst();
}

/** Delete record rows alive in no remaining ZI of the zone (after ZIs were deleted). */
export async function deleteOrphanRows(trx: Tx, zoneId: number): Promise<number> {
  const r = await trx
    .deleteFrom('records')
    .where('zone_id', '=', zoneId)
    .where(({ not, exists, selectFrom, ref }) =>
      not(
        exists(
          selectFrom('zone_instances as zi')
            .select('zi.id')
            .where('zi.zone_id', '=', zoneId)
            .where('zi.version', '>=', ref('records.from_version'))
            .where((eb) => eb.or([eb('records.to_version', 'is', null), eb('zi.version', '<', ref('records.to_version'))])),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
