// Zone snapshots (issue 17): a large zone's served version stored as a few blobs of its compiled form
// (src/zone/snapshot.ts), so that dmsd's start-up reads it at memory speed instead of one row per record — better-sqlite3
// hands a row to JavaScript at ≥ 1.4 µs, 1.4–2.2 s for 1,000,000 records before any compiling. The rows stay the
// truth: a snapshot is taken only while the ZI it was made of is still stored (same id), and the owners changed since
// are read from the rows (as a served zone is patched: loadPublishedChange). dmsd writes one after compiling a large
// zone from its rows, or when the one it started from is far behind (daemon/zone-snapshots.ts). Loading from one:
// feed.ts loadZoneFromSnapshot.

import { writeTx } from '../store/index.js';
import { putSnapshot } from '../store/queries/snapshots.js';
import { ziRow } from '../store/queries/versions.js';
import { nowMs, type ServiceContext } from './context.js';
import { isReplica } from './ha.js';

/** Zones with fewer served records are loaded from their rows and get no snapshot. */
export const SNAPSHOT_MIN_RECORDS = 20_000;

/**
 * Store `parts` as the snapshot of the zone's version `version` (replacing the one it has). False when that version
 * is no longer stored. Not durable: a snapshot lost in a crash is made again.
 */
export async function saveZoneSnapshot(ctx: ServiceContext, s: { zoneId: number; version: number; records: number; parts: readonly Uint8Array[] }): Promise<boolean> {
  // A hot standby cannot be written (a --workers worker does not know it is on one).
  if (await isReplica(ctx)) return false;
  return writeTx(
    ctx.store,
    async (trx) => {
      const zi = await ziRow(trx, s.zoneId, s.version);
      if (!zi) return false;
      await putSnapshot(trx, { zoneId: s.zoneId, ziId: Number(zi.id), version: s.version, records: s.records, ctime: nowMs(ctx) }, s.parts);
      return true;
    },
    { durable: false },
  );
}
