// Zone references (customer / reference labels) and security tags, and which zones carry them.

import { sql } from 'kysely';
import type { Db } from '../store.js';

// ---- references ------------------------------------------------------------------------------------------------------

/** Insert a reference; returns its id (a duplicate name fails with the store's unique violation). */
export async function insertReference(db: Db, name: string, ctime: number): Promise<number> {
  const r = await db.insertInto('zone_references').values({ name, ctime }).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function referenceId(db: Db, name: string): Promise<number | undefined> {
  const r = await db.selectFrom('zone_references').select('id').where('name', '=', name).executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

export async function referenceName(db: Db, id: number): Promise<string | undefined> {
  return (await db.selectFrom('zone_references').select('name').where('id', '=', id).executeTakeFirst())?.name;
}

/** Zones (deleted ones too: undelete restores their reference) pointing at a reference. */
export async function zonesUsingReference(db: Db, id: number): Promise<number> {
  const c = await db.selectFrom('zones').select((eb) => eb.fn.countAll<number>().as('n')).where('reference_id', '=', id).executeTakeFirstOrThrow();
  return Number(c.n);
}

export async function deleteReferenceRow(db: Db, id: number): Promise<void> {
  await db.deleteFrom('zone_references').where('id', '=', id).execute();
}

/** Rename (a taken name fails with the store's unique violation). */
export async function renameReferenceRow(db: Db, id: number, name: string): Promise<void> {
  await db.updateTable('zone_references').set({ name }).where('id', '=', id).execute();
}

/** References by name with their number of live zones; `match` is a LIKE pattern (backslash escapes) or an exact name. */
export async function referencesWithZoneCount(db: Db, match?: { like: string } | { name: string }): Promise<{ name: string; zoneCount: number }[]> {
  let q = db
    .selectFrom('zone_references as r')
    .leftJoin('zones as z', (j) => j.onRef('z.reference_id', '=', 'r.id').on('z.state', '<>', sql.lit('DELETED')))
    .select(['r.name', (eb) => eb.fn.count<number>('z.id').as('n')])
    .groupBy(['r.id', 'r.name'])
    .orderBy('r.name');
  if (match) q = 'like' in match ? q.where(sql<boolean>`r.name like ${match.like} escape '\\'`) : q.where('r.name', '=', match.name);
  return (await q.execute()).map((r) => ({ name: r.name, zoneCount: Number(r.n) }));
}

// ---- security tags -------------------------------------------------------------------------------------------------------

/** Insert a security tag (a duplicate name fails with the store's unique violation). */
export async function insertSectag(db: Db, name: string): Promise<void> {
  await db.insertInto('sectags').values({ name }).execute();
}

export async function sectagId(db: Db, name: string): Promise<number | undefined> {
  const r = await db.selectFrom('sectags').select('id').where('name', '=', name).executeTakeFirst();
  return r ? Number(r.id) : undefined;
}

export async function zonesWithSectag(db: Db, id: number): Promise<number> {
  const c = await db.selectFrom('zone_sectags').select((eb) => eb.fn.countAll<number>().as('n')).where('sectag_id', '=', id).executeTakeFirstOrThrow();
  return Number(c.n);
}

export async function deleteSectagRow(db: Db, id: number): Promise<void> {
  await db.deleteFrom('sectags').where('id', '=', id).execute();
}

export async function sectagNames(db: Db): Promise<string[]> {
  return (await db.selectFrom('sectags').select('name').orderBy('name').execute()).map((r) => r.name);
}

/** The security tags of each zone, by name. */
export async function sectagsOfZones(db: Db, zoneIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (zoneIds.length === 0) return out;
  const rows = await db
    .selectFrom('zone_sectags as zs')
    .innerJoin('sectags as s', 's.id', 'zs.sectag_id')
    .select(['zs.zone_id', 's.name'])
    .where('zs.zone_id', 'in', zoneIds)
    .orderBy('s.name')
    .execute();
  for (const r of rows) {
    const id = Number(r.zone_id);
    const l = out.get(id);
    if (l) l.push(r.name);
    else out.set(id, [r.name]);
  }
  return out;
}

/** Tag a zone (nothing when it has the tag already). */
export async function addSectagToZone(db: Db, zoneId: number, sectagIdValue: number): Promise<void> {
  const have = await db.selectFrom('zone_sectags').select('zone_id').where('zone_id', '=', zoneId).where('sectag_id', '=', sectagIdValue).executeTakeFirst();
  if (!have) await db.insertInto('zone_sectags').values({ zone_id: zoneId, sectag_id: sectagIdValue }).execute();
}

/** Untag a zone; false when it did not have the tag. */
export async function removeSectagFromZone(db: Db, zoneId: number, sectagIdValue: number): Promise<boolean> {
  const r = await db.deleteFrom('zone_sectags').where('zone_id', '=', zoneId).where('sectag_id', '=', sectagIdValue).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Replace a zone's tags (a new zone: no tags yet). */
export async function setZoneSectags(db: Db, zoneId: number, sectagIds: readonly number[]): Promise<void> {
  await db.deleteFrom('zone_sectags').where('zone_id', '=', zoneId).execute();
  if (sectagIds.length) await db.insertInto('zone_sectags').values(sectagIds.map((id) => ({ zone_id: zoneId, sectag_id: id }))).execute();
}
