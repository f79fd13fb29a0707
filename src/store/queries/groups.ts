// Server groups and their member servers.

import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { ServerTable, ServerTables } from '../migrations-servers.js';
import type { Database, ServerGroupTable } from '../schema.js';
import { preparedStatement } from '../prepared.js';
import type { Db } from '../store.js';

type SDb = Kysely<Database & ServerTables>;
/** The servers table comes from a later migration, outside the base Database type. */
const sdb = (d: Db): SDb => d as unknown as SDb;

export type GroupRow = Selectable<ServerGroupTable>;
export type ServerRow = Selectable<ServerTable>;

/** Server groups with their own SOA MNAME, by name. */
export async function groupMnames(db: Db): Promise<{ name: string; soa_mname: string | null }[]> {
  return db.selectFrom('server_groups').select(['name', 'soa_mname']).where('soa_mname', 'is not', null).orderBy('name').execute();
}

/** The SOA MNAME of a server group: null when it has none, undefined when there is no such group. */
export async function groupMname(db: Db, name: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('server_groups').select('soa_mname').where('name', '=', name).executeTakeFirst();
  return row ? row.soa_mname : undefined;
}

/** Set a server group's SOA MNAME; false when there is no such group. */
export async function setGroupMname(db: Db, name: string, mname: string | null): Promise<boolean> {
  const r = await db.updateTable('server_groups').set({ soa_mname: mname }).where('name', '=', name).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The id of the server group of that name, or undefined. */
export async function groupIdByName(db: Db, name: string): Promise<number | undefined> {
  const sg = await db.selectFrom('server_groups').select('id').where('name', '=', name).executeTakeFirst();
  return sg ? Number(sg.id) : undefined;
}

/** Server group names by id. */
export async function groupNamesById(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length) for (const g of await db.selectFrom('server_groups').select(['id', 'name']).where('id', 'in', ids).execute()) out.set(Number(g.id), g.name);
  return out;
}

export async function groupRowById(db: Db, id: number): Promise<GroupRow | undefined> {
  return db.selectFrom('server_groups').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Server groups (one by name, or all) by name, each with its number of live zones (as primary group). */
export async function groupRowsWithZoneCount(db: Db, name?: string): Promise<(GroupRow & { zone_count: number })[]> {
  let q = db
    .selectFrom('server_groups as sg')
    .selectAll('sg')
    .select((eb) =>
      eb
        .selectFrom('zones as z')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('z.sg_id', '=', 'sg.id')
        .where('z.state', '<>', sql.lit('DELETED'))
        .as('zone_count'),
    )
    .orderBy('sg.name');
  if (name !== undefined) q = q.where('sg.name', '=', name);
  return (await q.execute()).map((r) => ({ ...r, zone_count: Number(r.zone_count ?? 0) }));
}

/** Insert a server group (a duplicate name fails with the store's unique violation). */
export async function insertGroup(db: Db, row: Insertable<ServerGroupTable>): Promise<void> {
  await db.insertInto('server_groups').values(row).execute();
}

export async function deleteGroupRow(db: Db, id: number): Promise<void> {
  await db.deleteFrom('server_groups').where('id', '=', id).execute();
}

/** Rename; false when there is no group `from` (a taken name fails with the unique violation). */
export async function renameGroupRow(db: Db, from: string, to: string): Promise<boolean> {
  const r = await db.updateTable('server_groups').set({ name: to }).where('name', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function updateGroupRow(db: Db, id: number, set: Updateable<ServerGroupTable>): Promise<void> {
  await db.updateTable('server_groups').set(set).where('id', '=', id).execute();
}

/** Zones (any state: deleted ones keep their group for undelete) whose primary or alternate group this is. */
export async function zonesUsingGroup(db: Db, sgId: number): Promise<number> {
  const c = await db
    .selectFrom('zones')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb.or([eb('sg_id', '=', sgId), eb('alt_sg_id', '=', sgId)]))
    .executeTakeFirstOrThrow();
  return Number(c.n);
}

/** Servers (secondaries) defined in a server group. */
export async function serversInGroup(db: Db, sgId: number): Promise<number> {
  const c = await sdb(db).selectFrom('servers').select((eb) => eb.fn.countAll<number>().as('n')).where('sg_id', '=', sgId).executeTakeFirstOrThrow();
  return Number(c.n);
}

/** Live zones per primary server group. */
export async function liveZoneCountsByGroup(db: Db, sgIds: readonly number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  if (sgIds.length === 0) return counts;
  const c = await db
    .selectFrom('zones')
    .select(['sg_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('sg_id', 'in', sgIds)
    .where('state', '<>', 'DELETED')
    .groupBy('sg_id')
    .execute();
  for (const r of c) counts.set(Number(r.sg_id), Number(r.n));
  return counts;
}

// ---- servers -------------------------------------------------------------------------------------------------------

export async function serverRowByName(db: Db, name: string): Promise<ServerRow | undefined> {
  return sdb(db).selectFrom('servers').selectAll().where('name', '=', name).executeTakeFirst();
}

/** The name of the server at address#port (other than `exceptId`), or undefined. */
export async function serverAt(db: Db, address: string, port: number, exceptId?: number): Promise<string | undefined> {
  let q = sdb(db).selectFrom('servers').select('name').where('address', '=', address).where('port', '=', port);
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  return (await q.executeTakeFirst())?.name;
}

/** Servers with their group's name, by server name: all, one by name, a group's, or those at an address (and port). */
export async function serverRowsWithGroup(
  db: Db,
  where: { name?: string; sg?: string; address?: { address: string; port?: number } },
): Promise<(ServerRow & { sg_name: string })[]> {
  let q = sdb(db)
    .selectFrom('servers as s')
    .innerJoin('server_groups as g', 'g.id', 's.sg_id')
    .selectAll('s')
    .select('g.name as sg_name')
    .orderBy('s.name');
  if (where.name !== undefined) q = q.where('s.name', '=', where.name);
  if (where.sg !== undefined) q = q.where('g.name', '=', where.sg);
  if (where.address !== undefined) {
    q = q.where('s.address', '=', where.address.address);
    if (where.address.port !== undefined) q = q.where('s.port', '=', where.address.port);
  }
  return q.execute();
}

/** Insert a server (a duplicate name fails with the store's unique violation). */
export async function insertServer(db: Db, row: Insertable<ServerTable>): Promise<void> {
  await sdb(db).insertInto('servers').values(row).execute();
}

export async function deleteServerRow(db: Db, name: string): Promise<boolean> {
  const r = await sdb(db).deleteFrom('servers').where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function updateServerRow(db: Db, id: number, set: Updateable<ServerTable>): Promise<void> {
  await sdb(db).updateTable('servers').set(set).where('id', '=', id).execute();
}

const enabledServers = preparedStatement((db: Db, _v, sgId: number) =>
  sdb(db).selectFrom('servers').select(['name', 'address', 'port']).where('sg_id', '=', sgId).where('enabled', '=', 1).orderBy('name'),
);

/** The enabled servers of a server group, by name. */
export async function enabledServersOfGroup(db: Db, sgId: number): Promise<{ name: string; address: string; port: number }[]> {
  const rows = await enabledServers.rows(db, '', sgId);
  return rows.map((r) => ({ name: r.name, address: r.address, port: Number(r.port) }));
}
