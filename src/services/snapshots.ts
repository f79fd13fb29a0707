// Zone snapshots (issue 17): a large zone's served version stored as a few blobs of its compiled form
// (src/zone/snapshot.ts), so that dmsd's start-up reads it at memory speed instead of one row per record — better-sqlite3
// hands a row to JavaScript at ≥ 1.4 µs, 1.4–2.2 s for 1,000,000 records before any compiling. The rows stay the
// truth: a snapshot is taken only while the ZI it was made of is still stored (same id), and the owners changed since
// are read from the rows (as a served zone is patched: loadPublishedChange). dmsd writes one after compiling a large
// zone from its rows, or when the one it started from is far behind (daemon/zone-snapshots.ts). Loading from one:
// feed.ts loadZoneFromSnapshot.

import { Name } from '../dns/name.js';
import { checkpointNow, type Tx, writeTx } from '../store/index.js';
import { cursorPublishedRecordsOf, type PublishedRecordTuple, servedZoneRow, streamPublishedRecordsOf } from '../store/queries/feed.js';
import { deleteSnapshotPartsFrom, deleteSnapshots, putSnapshot, putSnapshotPart, snapshotZiId } from '../store/queries/snapshots.js';
import { ziRow } from '../store/queries/versions.js';
import { encodeZoneSnapshot } from '../zone/snapshot.js';
import { ZoneBuilder } from '../zone/zone.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { soaRecord } from './core.js';
import { normalizeZoneName } from './names.js';
import { isReplica } from './ha.js';

/** Zones with fewer served records are loaded from their rows and get no snapshot. */
export const SNAPSHOT_MIN_RECORDS = 20_000;

/** saveZoneSnapshot's parts written between two WAL checkpoints, in bytes. */
const CHECKPOINT_BYTES = 1 << 20;

/**
 * Store `parts` as the snapshot of the zone's version `version` (replacing the one it has). False when the zone or
 * that version is no longer stored. Not durable: a snapshot lost in a crash is made again.
 *
 * One transaction per part: a large zone's snapshot is tens of megabytes, and one transaction writing it all (and the
 * WAL checkpoint its commit sets off) held the database, and on SQLite the event loop, for that long — 50–75 ms of
 * stalled UPDATEs and queries at 100,000 records, ten times that at 1,000,000. Between parts the UPDATEs commit. A
 * snapshot still being written (or cut short by a crash, or mixed with another writer's) is not one: its parts do not
 * all name the same ZI and count (snapshotParts), and the zone is then read from its rows.
 */
export async function saveZoneSnapshot(
  ctx: ServiceContext,
  s: { name: string; version: number; records: number; parts: readonly Uint8Array[] },
  /**
   * Awaited before each further part and each checkpoint (default: the next turn of the event loop); dmsd passes one
   * that also waits while an UPDATE is in progress (daemon/foreground.ts).
   */
  between: () => Promise<void> = () => new Promise<void>((res) => setImmediate(res)),
): Promise<boolean> {
  // A hot standby cannot be written (a --workers worker does not know it is on one).
  if (await isReplica(ctx)) return false;
  const head = await writeTx(
    ctx.store,
    async (trx) => {
      const zone = await servedZoneRow(trx, zoneScope(ctx), normalizeZoneName(s.name));
      if (!zone) return undefined;
      const zi = await ziRow(trx, Number(zone.id), s.version);
      if (!zi) return undefined;
      const h = { zoneId: Number(zone.id), ziId: Number(zi.id), version: s.version, records: s.records, ctime: nowMs(ctx), parts: s.parts.length };
      // The old snapshot's parts are replaced one by one (deleting them all at once took ~5 ms in one transaction at
      // 100,000 records); those beyond the new one's count go now. Parts of two snapshots are told apart by their ZI,
      // so one of the same ZI (a damaged one, or one cut into other parts) goes whole first.
      if ((await snapshotZiId(trx, h.zoneId)) === h.ziId) await deleteSnapshots(trx, h.zoneId);
      else await deleteSnapshotPartsFrom(trx, h.zoneId, s.parts.length);
      await putSnapshotPart(trx, h, 0, s.parts[0]);
      return h;
    },
    { durable: false },
  );
  if (!head) return false;
  let sinceCheckpoint = s.parts[0].length;
  for (let part = 1; part < s.parts.length; part++) {
    // The event loop gets a turn before each part and each checkpoint: an UPDATE that came meanwhile commits before
    // it, instead of waiting for the parts a run of statements takes before the store's own pause (SLICE_MS) — stalls
    // of 27–47 ms were measured at 100,000 records.
    await between();
    await writeTx(ctx.store, (trx) => putSnapshotPart(trx, head, part, s.parts[part]), { durable: false });
    sinceCheckpoint += s.parts[part].length;
    // A checkpoint every ~1 MB, so that the WAL never reaches the automatic checkpoint's size (1,000 pages) and an
    // UPDATE's commit never runs that one; not after every part: each checkpoint that empties the WAL makes the next
    // commit start it again, which cost the UPDATE after it ~0.5 ms here.
    if (sinceCheckpoint >= CHECKPOINT_BYTES) {
      await between();
      checkpointNow(ctx.store);
      sinceCheckpoint = 0;
    }
  }
  if (sinceCheckpoint > 0) {
    await between();
    checkpointNow(ctx.store);
  }
  return true;
}

/**
 * In a write transaction that just published a large zone's version (zone_tool load_zone): its snapshot, made from
 * the rows as dmsd would read them (same statement, same order; SQLite: from its cursor, PostgreSQL: a cursor of the
 * transaction, in batches), so that even dmsd's first start after the load reads the zone at memory speed. False when
 * nothing was stored.
 */
export async function snapshotPublishedIn(trx: Tx, ctx: ServiceContext, zoneId: number, name: string): Promise<boolean> {
  const origin = Name.parse(name);
  const b = new ZoneBuilder(origin);
  let version: number | null = null;
  let lastOwner = '';
  let lastName = origin;
  const add = ([, pv, owner, type, rclass, ttl, rdata]: PublishedRecordTuple) => {
    version = pv;
    if (owner !== lastOwner) {
      lastOwner = owner;
      lastName = Name.parse(owner);
    }
    b.add({ name: lastName, type, class: rclass, ttl: Number(ttl), rdata });
  };
  const stream = streamPublishedRecordsOf(ctx.store, [zoneId]);
  if (stream) for (const row of stream) add(row);
  else for await (const rows of cursorPublishedRecordsOf(trx, [zoneId])) for (const row of rows) add(row);
  if (version === null) return false;
  const zi = await ziRow(trx, zoneId, version);
  if (!zi) return false;
  const soa = soaRecord(origin, zi);
  b.add({ name: origin, type: soa.type, class: soa.class, ttl: soa.ttl, rdata: soa.rdata });
  const zone = b.finish();
  if (zone.recordCount < SNAPSHOT_MIN_RECORDS) return false;
  await putSnapshot(trx, { zoneId, ziId: Number(zi.id), version, records: zone.recordCount, ctime: nowMs(ctx) }, encodeZoneSnapshot(zone));
  return true;
}
