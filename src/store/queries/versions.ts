// Zone versions (zone_instances: one ZI per version) and their record rows (records: alive in
// [from_version, to_version)).

import type { Selectable } from 'kysely';
import type { ZoneInstanceTable } from '../schema.js';
import type { Db } from '../store.js';

export type ZiRow = Selectable<ZoneInstanceTable>;

/** The ZI of a zone's version, or undefined. */
export async function ziRow(db: Db, zoneId: number, version: number): Promise<ZiRow | undefined> {
  return db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('version', '=', version).executeTakeFirst();
}
