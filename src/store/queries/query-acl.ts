// Query ACLs (allow-query) of zones and server groups: rows, and the lists that apply to served zones.

import type { Kysely, Selectable } from 'kysely';
import type { QueryAclTable, QueryAclTables } from '../migrations-query-acl.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';
import type { AccessOwner } from './keys.js';

type QDb = Kysely<Database & QueryAclTables>;
/** The query_acl table comes from a later migration, outside the base Database type. */
const qdb = (d: Db): QDb => d as unknown as QDb;

export type QueryAclRow = Selectable<QueryAclTable>;

export async function insertQueryAcl(db: Db, at: AccessOwner, entry: { address: string; ctime: number }): Promise<number> {
  const row = await qdb(db).insertInto('query_acl').values({ zone_id: at.zoneId, sg_id: at.sgId, ...entry }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The entries of one zone or server group, or every entry; in creation order. */
export async function queryAclRows(db: Db, at?: AccessOwner): Promise<QueryAclRow[]> {
  let q = qdb(db).selectFrom('query_acl').selectAll().orderBy('id');
  if (at) q = at.zoneId !== null ? q.where('zone_id', '=', at.zoneId) : q.where('sg_id', '=', at.sgId);
  return q.execute();
}

export async function deleteQueryAclRow(db: Db, id: number): Promise<boolean> {
  const r = await qdb(db).deleteFrom('query_acl').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Zone-level entries with their zone's name (live zones). */
export async function zoneQueryAclEntries(db: Db): Promise<{ name: string; address: string }[]> {
  return qdb(db)
    .selectFrom('query_acl')
    .innerJoin('zones', 'zones.id', 'query_acl.zone_id')
    .select(['zones.name as name', 'query_acl.address as address'])
    .where('zones.state', '<>', 'DELETED')
    .orderBy('query_acl.id')
    .execute();
}

/** Group-level entries by server group id. */
export async function groupQueryAclEntries(db: Db): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  const rows = await qdb(db).selectFrom('query_acl').select(['sg_id', 'address']).where('sg_id', 'is not', null).orderBy('id').execute();
  for (const r of rows) {
    const id = Number(r.sg_id);
    const list = out.get(id) ?? [];
    list.push(r.address);
    out.set(id, list);
  }
  return out;
}

/** Live zones of the given server groups (optionally only those named), with their group. */
export async function zonesOfGroups(db: Db, sgIds: readonly number[], names?: readonly string[]): Promise<{ name: string; sgId: number }[]> {
  if (sgIds.length === 0 || (names && names.length === 0)) return [];
  let q = qdb(db).selectFrom('zones').select(['name', 'sg_id']).where('sg_id', 'in', sgIds).where('state', '<>', 'DELETED');
  if (names) q = q.where('name', 'in', names);
  return (await q.execute()).map((r) => ({ name: r.name, sgId: Number(r.sg_id) }));
}
