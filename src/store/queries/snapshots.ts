// Zone snapshots (migration 0026): a large zone's served version as a few blobs (src/zone/snapshot.ts).

import type { Kysely } from 'kysely';
import type { ZoneSnapshotTables } from '../migrations-snapshots.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type TDb = Kysely<Database & ZoneSnapshotTables>;
/** The table comes from a later migration, outside the base Database type. */
const tdb = (d: Db): TDb => d as unknown as TDb;

export interface SnapshotHead {
  zoneId: number;
  ziId: number;
  version: number;
  parts: number;
  records: number;
}

/** The snapshot (if any) of each of these zones: which ZI it is of, in how many parts. */
export async function snapshotHeads(db: Db, zoneIds: readonly number[]): Promise<Map<number, SnapshotHead>> {
  const out = new Map<number, SnapshotHead>();
  for (let i = 0; i < zoneIds.length; i += 500) {
    const rows = await tdb(db)
      .selectFrom('zone_snapshots')
      .select(['zone_id', 'zi_id', 'version', 'parts', 'records'])
      .where('zone_id', 'in', zoneIds.slice(i, i + 500))
      .where('part', '=', 0)
      .execute();
    for (const r of rows)
      out.set(Number(r.zone_id), { zoneId: Number(r.zone_id), ziId: Number(r.zi_id), version: r.version, parts: r.parts, records: Number(r.records) });
  }
  return out;
}

/** The parts of a zone's snapshot of ZI `ziId`, in order; undefined unless every part is there and of that ZI. */
export async function snapshotParts(db: Db, zoneId: number, ziId: number): Promise<Uint8Array[] | undefined> {
  const rows = await tdb(db).selectFrom('zone_snapshots').select(['part', 'zi_id', 'parts', 'data']).where('zone_id', '=', zoneId).orderBy('part').execute();
  if (rows.length === 0 || rows.length !== rows[0].parts) return undefined;
  for (let i = 0; i < rows.length; i++) if (rows[i].part !== i || Number(rows[i].zi_id) !== ziId) return undefined;
  return rows.map((r) => r.data);
}

/** The ZI a zone's snapshot is of (undefined without one). */
export async function snapshotZiId(db: Db, zoneId: number): Promise<number | undefined> {
  const r = await tdb(db).selectFrom('zone_snapshots').select('zi_id').where('zone_id', '=', zoneId).where('part', '=', 0).executeTakeFirst();
  return r ? Number(r.zi_id) : undefined;
}

export interface SnapshotRowHead {
  zoneId: number;
  ziId: number;
  version: number;
  records: number;
  ctime: number;
  /** How many parts the snapshot has. */
  parts: number;
}

/** Replace a zone's snapshot. */
export async function putSnapshot(db: Db, s: Omit<SnapshotRowHead, 'parts'>, parts: readonly Uint8Array[]): Promise<void> {
  await deleteSnapshots(db, s.zoneId);
  for (let part = 0; part < parts.length; part++) await putSnapshotPart(db, { ...s, parts: parts.length }, part, parts[part]);
}

/**
 * Store one part of a zone's snapshot, over the part of that number it had (a snapshot replaced a part at a time reuses
 * the pages the old part frees, and is no snapshot until its last part is in: snapshotParts).
 */
export async function putSnapshotPart(db: Db, s: SnapshotRowHead, part: number, data: Uint8Array): Promise<void> {
  const row = { zi_id: s.ziId, version: s.version, parts: s.parts, records: s.records, data, ctime: s.ctime };
  await tdb(db)
    .insertInto('zone_snapshots')
    .values({ zone_id: s.zoneId, part, ...row })
    .onConflict((oc) => oc.columns(['zone_id', 'part']).doUpdateSet(row))
    .execute();
}

/** Drop a zone's snapshot parts numbered `from` and above (what a snapshot of fewer parts leaves of the one it replaces). */
export async function deleteSnapshotPartsFrom(db: Db, zoneId: number, from: number): Promise<void> {
  await tdb(db).deleteFrom('zone_snapshots').where('zone_id', '=', zoneId).where('part', '>=', from).execute();
}

/** Drop a zone's snapshot (every one when `ziIds` is not given; else only one of those ZIs). */
export async function deleteSnapshots(db: Db, zoneId: number, ziIds?: readonly number[]): Promise<void> {
  if (ziIds === undefined) {
    await tdb(db).deleteFrom('zone_snapshots').where('zone_id', '=', zoneId).execute();
    return;
  }
  for (let i = 0; i < ziIds.length; i += 500)
    await tdb(db).deleteFrom('zone_snapshots').where('zone_id', '=', zoneId).where('zi_id', 'in', ziIds.slice(i, i + 500)).execute();
}

/** Drop the snapshot of one ZI (whatever its zone). */
export async function deleteSnapshotOfZi(db: Db, ziId: number): Promise<void> {
  await tdb(db).deleteFrom('zone_snapshots').where('zi_id', '=', ziId).execute();
}
