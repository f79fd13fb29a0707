// Server groups and their member servers.

import type { Db } from '../store.js';

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
