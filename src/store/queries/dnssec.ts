// DNSSEC policies, the keys of each zone (private part sealed, see migrations-dnssec.ts) and each zone's policy and
// pending requests.

import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { DnssecKeyTable, DnssecPolicyTable, DnssecTables, ZoneDnssecTable } from '../migrations-dnssec.js';
import type { Database } from '../schema.js';
import { preparedStatement } from '../prepared.js';
import type { Db } from '../store.js';

type DDb = Kysely<Database & DnssecTables>;
/** The DNSSEC tables come from a later migration, outside the base Database type. */
const ddb = (d: Db): DDb => d as unknown as DDb;

export type DnssecPolicyRow = Selectable<DnssecPolicyTable>;
export type DnssecKeyRow = Selectable<DnssecKeyTable>;
export type ZoneDnssecRow = Selectable<ZoneDnssecTable>;

// ---- policies -----------------------------------------------------------------------------------------------------

export async function dnssecPolicyRows(db: Db): Promise<DnssecPolicyRow[]> {
  return ddb(db).selectFrom('dnssec_policies').selectAll().orderBy('name').execute();
}

export async function dnssecPolicyRow(db: Db, name: string): Promise<DnssecPolicyRow | undefined> {
  return ddb(db).selectFrom('dnssec_policies').selectAll().where('name', '=', name).executeTakeFirst();
}

const policyById = preparedStatement((db: Db, _v, id: number) => ddb(db).selectFrom('dnssec_policies').selectAll().where('id', '=', id));
const keysOfZone = preparedStatement((db: Db, _v, zoneId: number) => ddb(db).selectFrom('dnssec_keys').selectAll().where('zone_id', '=', zoneId).orderBy('id'));

export async function dnssecPolicyRowById(db: Db, id: number): Promise<DnssecPolicyRow | undefined> {
  return policyById.first(db, '', id);
}

/** Insert a policy (a duplicate name fails with the store's unique violation); its id. */
export async function insertDnssecPolicy(db: Db, row: Insertable<DnssecPolicyTable>): Promise<number> {
  const r = await ddb(db).insertInto('dnssec_policies').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

/** How many zones follow the policy, by policy id. */
export async function policyZoneCounts(db: Db): Promise<Map<number, number>> {
  const rows = await ddb(db)
    .selectFrom('zone_dnssec')
    .select(['policy_id', ddb(db).fn.countAll<number>().as('n')])
    .where('policy_id', 'is not', null)
    .groupBy('policy_id')
    .execute();
  return new Map(rows.map((r) => [Number(r.policy_id), Number(r.n)]));
}

// ---- zone → policy ------------------------------------------------------------------------------------------------

const zoneDnssecOf = preparedStatement((db: Db, _v, zoneId: number) => ddb(db).selectFrom('zone_dnssec').selectAll().where('zone_id', '=', zoneId));

export async function zoneDnssecRow(db: Db, zoneId: number): Promise<ZoneDnssecRow | undefined> {
  return zoneDnssecOf.first(db, '', zoneId);
}

/** Create or change the zone's row (the fields given; a new row starts with no requests). */
export async function upsertZoneDnssec(
  db: Db,
  zoneId: number,
  set: Omit<Updateable<ZoneDnssecTable>, 'zone_id'> & { mtime: number },
): Promise<void> {
  const d = ddb(db);
  const r = await d.updateTable('zone_dnssec').set(set).where('zone_id', '=', zoneId).executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) return;
  await d
    .insertInto('zone_dnssec')
    .values({ zone_id: zoneId, policy_id: null, rollover_role: null, rollover_requested: null, resign_requested: null, ...set })
    .execute();
}

// ---- keys ---------------------------------------------------------------------------------------------------------

/** The zone's keys, oldest first. */
export async function dnssecKeyRows(db: Db, zoneId: number): Promise<DnssecKeyRow[]> {
  return keysOfZone.rows(db, '', zoneId);
}

export async function insertDnssecKey(db: Db, row: Insertable<DnssecKeyTable>): Promise<number> {
  const r = await ddb(db).insertInto('dnssec_keys').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function updateDnssecKey(db: Db, id: number, set: Updateable<DnssecKeyTable>): Promise<void> {
  await ddb(db).updateTable('dnssec_keys').set(set).where('id', '=', id).execute();
}

/** The fingerprints of the key-encryption keys sealing any stored key (empty: no key stored yet). */
export async function dnssecKekIds(db: Db): Promise<string[]> {
  const rows = await ddb(db).selectFrom('dnssec_keys').select('kek_id').distinct().execute();
  return rows.map((r) => r.kek_id);
}

/** The newest stored key sealed under each KEK, with its zone's name (to prove a KEK opens what it sealed). */
export async function newestKeyPerKek(db: Db): Promise<(DnssecKeyRow & { zone_name: string })[]> {
  const d = ddb(db);
  const newest = d.selectFrom('dnssec_keys').select([d.fn.max('id').as('id')]).groupBy('kek_id');
  return d
    .selectFrom('dnssec_keys as k')
    .innerJoin('zones as z', 'z.id', 'k.zone_id')
    .selectAll('k')
    .select('z.name as zone_name')
    .where('k.id', 'in', newest)
    .execute();
}

export async function dnssecKeyCount(db: Db): Promise<number> {
  const r = await ddb(db).selectFrom('dnssec_keys').select(ddb(db).fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
