// Secondary configuration and health (issue 11): the sg_config and server_config side tables, and the zone lists a
// server group's generated configuration and catalog zone are made from.

import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { ServerConfigTable, SgConfigTable, SgConfigTables } from '../migrations-sgconfig.js';
import type { ServerTables } from '../migrations-servers.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type CDb = Kysely<Database & ServerTables & SgConfigTables>;
/** The side tables come from a later migration, outside the base Database type. */
const cdb = (d: Db): CDb => d as unknown as CDb;

export type SgConfigRow = Selectable<SgConfigTable>;
export type ServerConfigRow = Selectable<ServerConfigTable>;

export const SG_CONFIG_DEFAULTS: Omit<SgConfigRow, 'sg_id'> = {
  xfr_key: null,
  private: 0,
  query_acl: null,
  replica: 0,
  use_catalog: 1,
  catalog_zone_id: null,
};

export const SERVER_CONFIG_DEFAULTS: Omit<ServerConfigRow, 'server_id'> = {
  config_dir: null,
  zone_dir: null,
  reload_cmd: null,
  config_hash: null,
  config_time: null,
  config_error: null,
  health_state: null,
  last_reply: null,
  retry_msg: null,
  lagging: null,
  failures: 0,
  checked: null,
};

/** A group's row, or the defaults when it has none. */
export async function sgConfigRow(db: Db, sgId: number): Promise<SgConfigRow> {
  const r = await cdb(db).selectFrom('sg_config').selectAll().where('sg_id', '=', sgId).executeTakeFirst();
  return r ? { ...r, catalog_zone_id: r.catalog_zone_id === null ? null : Number(r.catalog_zone_id) } : { sg_id: sgId, ...SG_CONFIG_DEFAULTS };
}

export async function allSgConfigRows(db: Db): Promise<SgConfigRow[]> {
  return (await cdb(db).selectFrom('sg_config').selectAll().execute()).map((r) => ({
    ...r,
    sg_id: Number(r.sg_id),
    catalog_zone_id: r.catalog_zone_id === null ? null : Number(r.catalog_zone_id),
  }));
}

export async function upsertSgConfig(db: Db, sgId: number, set: Updateable<SgConfigTable>): Promise<void> {
  const row = { ...(await sgConfigRow(db, sgId)), ...set, sg_id: sgId };
  await cdb(db)
    .insertInto('sg_config')
    .values(row as SgConfigRow)
    .onConflict((oc) => oc.column('sg_id').doUpdateSet(set))
    .execute();
}

export async function serverConfigRow(db: Db, serverId: number): Promise<ServerConfigRow> {
  const r = await cdb(db).selectFrom('server_config').selectAll().where('server_id', '=', serverId).executeTakeFirst();
  return r ?? { server_id: serverId, ...SERVER_CONFIG_DEFAULTS };
}

export async function serverConfigRows(db: Db, serverIds: readonly number[]): Promise<Map<number, ServerConfigRow>> {
  const out = new Map<number, ServerConfigRow>();
  if (serverIds.length === 0) return out;
  for (const r of await cdb(db).selectFrom('server_config').selectAll().where('server_id', 'in', serverIds).execute()) out.set(Number(r.server_id), r);
  return out;
}

export async function upsertServerConfig(db: Db, serverId: number, set: Updateable<ServerConfigTable>): Promise<void> {
  const row = { ...(await serverConfigRow(db, serverId)), ...set, server_id: serverId };
  await cdb(db)
    .insertInto('server_config')
    .values(row as ServerConfigRow)
    .onConflict((oc) => oc.column('server_id').doUpdateSet(set))
    .execute();
}

/**
 * The zones a server group's secondaries serve, by name: those dmsd serves (published, not disabled or deleted —
 * as feed.ts's servedZoneNames) whose primary or alternate group it is (alt = only through the alternate), or every
 * served zone for the replica group. Catalog zones (`exclude`) are left out. A disabled zone leaves the secondaries'
 * configuration and catalogs, as it left the original's named.conf.
 */
export async function zonesOfGroup(db: Db, sgId: number, o: { replica: boolean; exclude: readonly number[] }): Promise<{ id: number; name: string; alt: boolean }[]> {
  let q = db
    .selectFrom('zones')
    .select(['id', 'name', 'sg_id', 'alt_sg_id'])
    .where('state', 'in', [sql.lit('PUBLISHED'), sql.lit('UPDATE')])
    .where('published_version', 'is not', null)
    .orderBy('name');
  if (!o.replica) q = q.where((eb) => eb.or([eb('sg_id', '=', sgId), eb('alt_sg_id', '=', sgId)]));
  if (o.exclude.length) q = q.where('id', 'not in', o.exclude);
  return (await q.execute()).map((r) => ({ id: Number(r.id), name: r.name, alt: !o.replica && Number(r.sg_id) !== sgId }));
}

/** Every catalog zone id (any group's). */
export async function catalogZoneIds(db: Db): Promise<number[]> {
  const rows = await cdb(db).selectFrom('sg_config').select('catalog_zone_id').where('catalog_zone_id', 'is not', null).execute();
  return rows.map((r) => Number(r.catalog_zone_id));
}

/** Servers (id, name, sg) of all groups or one group, by name. */
export async function serverIdsOfGroups(db: Db, sgId?: number): Promise<{ id: number; name: string; sg_id: number; enabled: number; server_type: string }[]> {
  let q = cdb(db).selectFrom('servers').select(['id', 'name', 'sg_id', 'enabled', 'server_type']).orderBy('name');
  if (sgId !== undefined) q = q.where('sg_id', '=', sgId);
  return (await q.execute()).map((r) => ({ id: Number(r.id), name: r.name, sg_id: Number(r.sg_id), enabled: Number(r.enabled), server_type: r.server_type }));
}
