// TSIG keys, the per-zone RFC 2136 update grants, and the primary's transfer rules and also-notify targets (a zone's
// or a server group's).

import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { AlsoNotifyTable, PrimaryTables, TransferRuleTable } from '../migrations-primary.js';
import type { ServerTables } from '../migrations-servers.js';
import type { Database, TsigKeyTable } from '../schema.js';
import { preparedStatement } from '../prepared.js';
import type { Db } from '../store.js';
import { type ZoneScope, scopeVariant, scopeZones } from './zones.js';

type PDb = Kysely<Database & PrimaryTables & ServerTables>;
/** The transfer/notify and servers tables come from later migrations, outside the base Database type. */
const pdb = (d: Db): PDb => d as unknown as PDb;

export type TsigKeyRow = Selectable<TsigKeyTable>;
export type TransferRuleRow = Selectable<TransferRuleTable>;
export type AlsoNotifyRow = Selectable<AlsoNotifyTable>;
/** A zone's (zoneId) or a server group's (sgId) rules and targets: exactly one is set. */
export type AccessOwner = { zoneId: number; sgId: null } | { zoneId: null; sgId: number };

// ---- TSIG keys -------------------------------------------------------------------------------------------------------

/** Insert a key (a duplicate name fails with the store's unique violation). */
export async function insertTsigKey(db: Db, row: Insertable<TsigKeyTable>): Promise<void> {
  await db.insertInto('tsig_keys').values(row).execute();
}

/** Delete a key; false when there is none of that name. */
export async function deleteTsigKeyRow(db: Db, name: string): Promise<boolean> {
  const r = await db.deleteFrom('tsig_keys').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function tsigKeyRows(db: Db): Promise<TsigKeyRow[]> {
  return db.selectFrom('tsig_keys').selectAll().orderBy('name').execute();
}

export async function tsigKeyRow(db: Db, name: string): Promise<TsigKeyRow | undefined> {
  return db.selectFrom('tsig_keys').selectAll().where('name', '=', name).executeTakeFirst();
}

// ---- update grants -----------------------------------------------------------------------------------------------------

const grantsOf = preparedStatement((db: Db, _v, zoneId: number) => db.selectFrom('zone_update_grants').select('grant_text').where('zone_id', '=', zoneId).orderBy('id'));
/** The rows of `variant` (transfer_rules or also_notify) of a zone or of its server group, by id. */
const zoneOrGroupRows = preparedStatement((db: Db, variant, zoneId: number, sgId: number) =>
  pdb(db)
    .selectFrom(variant as 'transfer_rules' | 'also_notify')
    .selectAll()
    .where((eb) => eb.or([eb('zone_id', '=', zoneId), eb('sg_id', '=', sgId)]))
    .orderBy('id'),
);

/** The zone's grants in the order given (the server applies the first match). */
export async function grantTexts(db: Db, zoneId: number): Promise<string[]> {
  const rows = await grantsOf.rows(db, '', zoneId);
  return rows.map((r) => r.grant_text);
}

export async function replaceGrants(db: Db, zoneId: number, grants: readonly string[]): Promise<void> {
  await db.deleteFrom('zone_update_grants').where('zone_id', '=', zoneId).execute();
  if (grants.length) await db.insertInto('zone_update_grants').values(grants.map((g) => ({ zone_id: zoneId, grant_text: g }))).execute();
}

// ---- transfer rules and also-notify ---------------------------------------------------------------------------------------

export async function insertTransferRule(db: Db, at: AccessOwner, rule: { key_name: string | null; address: string | null; ctime: number }): Promise<number> {
  const row = await pdb(db)
    .insertInto('transfer_rules')
    .values({ zone_id: at.zoneId, sg_id: at.sgId, ...rule })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The rules of one zone or server group, or every rule; in creation order. */
export async function transferRuleRows(db: Db, at?: AccessOwner): Promise<TransferRuleRow[]> {
  let q = pdb(db).selectFrom('transfer_rules').selectAll().orderBy('id');
  if (at) q = at.zoneId !== null ? q.where('zone_id', '=', at.zoneId) : q.where('sg_id', '=', at.sgId);
  return q.execute();
}

export async function deleteTransferRuleRow(db: Db, id: number): Promise<boolean> {
  const r = await pdb(db).deleteFrom('transfer_rules').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The rules that apply to a zone: its own first, then its server group's, each in creation order. */
export async function zoneAndGroupTransferRules(db: Db, zoneId: number, sgId: number): Promise<TransferRuleRow[]> {
  const rows = (await zoneOrGroupRows.rows(db, 'transfer_rules', zoneId, sgId)) as TransferRuleRow[];
  return rows.sort((a, b) => Number(a.zone_id === null) - Number(b.zone_id === null) || Number(a.id) - Number(b.id));
}

export async function insertAlsoNotify(
  db: Db,
  at: AccessOwner,
  target: { address: string; port: number; key_name: string | null; ctime: number },
): Promise<number> {
  const row = await pdb(db)
    .insertInto('also_notify')
    .values({ zone_id: at.zoneId, sg_id: at.sgId, ...target })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function alsoNotifyRows(db: Db, at?: AccessOwner): Promise<AlsoNotifyRow[]> {
  let q = pdb(db).selectFrom('also_notify').selectAll().orderBy('id');
  if (at) q = at.zoneId !== null ? q.where('zone_id', '=', at.zoneId) : q.where('sg_id', '=', at.sgId);
  return q.execute();
}

export async function deleteAlsoNotifyRow(db: Db, id: number): Promise<boolean> {
  const r = await pdb(db).deleteFrom('also_notify').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The also-notify entries that apply to a zone: its own first, then its server group's. */
export async function zoneAndGroupAlsoNotify(db: Db, zoneId: number, sgId: number): Promise<AlsoNotifyRow[]> {
  const rows = (await zoneOrGroupRows.rows(db, 'also_notify', zoneId, sgId)) as AlsoNotifyRow[];
  return rows.sort((a, b) => Number(a.zone_id === null) - Number(b.zone_id === null) || Number(a.id) - Number(b.id));
}

/**
 * The live zone of that name the scope sees, with whether it may have NOTIFY targets (an also-notify entry of its own
 * or of its server group, or an enabled server in its group): one statement for the step after every change of a
 * zone, which mostly finds none.
 */
export async function liveZoneNotifyProbe(db: Db, scope: ZoneScope, name: string): Promise<{ id: number; sgId: number; mayHaveTargets: boolean } | undefined> {
  const s = scopeVariant(scope);
  const r = await liveZoneNotifyProbeByName.first(db, s.variant, name, ...s.args);
  return r ? { id: Number(r.id), sgId: Number(r.sg_id), mayHaveTargets: Number(r.notify) > 0 || Number(r.servers) > 0 } : undefined;
}

const liveZoneNotifyProbeByName = preparedStatement((db: Db, _v, name: string, ...scope: string[]) =>
  scopeZones(
    pdb(db)
      .selectFrom('zones')
      .where('zones.name', '=', name)
      .where('zones.state', '<>', sql.lit('DELETED'))
      .select((eb) => [
        'zones.id',
        'zones.sg_id',
        eb
          .exists(
            eb
              .selectFrom('also_notify')
              .select('also_notify.id')
              .where((w) => w.or([w('also_notify.zone_id', '=', w.ref('zones.id')), w('also_notify.sg_id', '=', w.ref('zones.sg_id'))])),
          )
          .as('notify'),
        eb.exists(eb.selectFrom('servers').select('servers.id').where('servers.sg_id', '=', eb.ref('zones.sg_id')).where('servers.enabled', '=', 1)).as('servers'),
      ]),
    scope[0] ?? null,
    'zones.id',
  ),
);

/**
 * Of these zone names, the live ones (any state but DELETED) with an also-notify entry of their own or of their server
 * group, or an enabled member server: the zones zoneAndGroupAlsoNotify / enabledGroupServers could give targets for.
 * Three queries per 500 names, however many zones.
 */
export async function zonesWithNotifyTargetsAmong(db: Db, names: readonly string[]): Promise<Set<string>> {
  const d = pdb(db);
  const out = new Set<string>();
  for (let i = 0; i < names.length; i += 500) {
    const chunk = names.slice(i, i + 500);
    const live = () => d.selectFrom('zones as z').where('z.name', 'in', chunk).where('z.state', '<>', 'DELETED');
    for (const r of await live().innerJoin('also_notify as n', 'n.zone_id', 'z.id').select('z.name').distinct().execute()) out.add(r.name);
    for (const r of await live().innerJoin('also_notify as n', 'n.sg_id', 'z.sg_id').select('z.name').distinct().execute()) out.add(r.name);
    for (const r of await live().innerJoin('servers as v', 'v.sg_id', 'z.sg_id').select('z.name').where('v.enabled', '=', 1).distinct().execute()) out.add(r.name);
  }
  return out;
}

/** Served zones with an also-notify entry of their own or of their server group, or an enabled member server. */
export async function servedZonesWithNotifyTargets(db: Db): Promise<string[]> {
  const d = pdb(db);
  const served = () => d.selectFrom('zones as z').where('z.state', 'in', ['PUBLISHED', 'UPDATE']).where('z.published_version', 'is not', null);
  const own = await served().innerJoin('also_notify as n', 'n.zone_id', 'z.id').select('z.name').distinct().execute();
  const bySg = await served().innerJoin('also_notify as n', 'n.sg_id', 'z.sg_id').select('z.name').distinct().execute();
  const byServer = await served().innerJoin('servers as v', 'v.sg_id', 'z.sg_id').select('z.name').where('v.enabled', '=', 1).distinct().execute();
  return [...new Set([...own, ...bySg, ...byServer].map((r) => r.name))].sort();
}
