// The configuration table (global keys; sg_name '' — per-server-group soa_mname lives on the server group row).

import { preparedStatement } from '../prepared.js';
import type { Db } from '../store.js';

const globalValues = preparedStatement((db: Db) => db.selectFrom('config').select(['key', 'value']).where('sg_name', '=', ''));

/** Stored global values (keys without a row use their defaults). */
export async function configValues(db: Db): Promise<{ key: string; value: string }[]> {
  return globalValues.rows(db, '');
}

/** Insert or replace a global value. */
export async function putConfigValue(db: Db, key: string, value: string): Promise<void> {
  await db
    .insertInto('config')
    .values({ key, sg_name: '', value })
    .onConflict((oc) => oc.columns(['key', 'sg_name']).doUpdateSet({ value }))
    .execute();
}

/** Change a stored global value; a key still at its default (no row) stays so. */
export async function updateStoredConfigValue(db: Db, key: string, value: string): Promise<void> {
  await db.updateTable('config').set({ value }).where('key', '=', key).where('sg_name', '=', '').execute();
}
