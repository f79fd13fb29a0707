// Writing zone snapshots (services/snapshots.ts, zone/snapshot.ts): after dmsd compiled a large zone whole from its
// rows — or from a snapshot that many owners changed since — it stores the served version's snapshot, so that the
// next start reads that zone at memory speed. Off the start-up's path: queued, written once the start-up load is done,
// one zone at a time, the encoding cut into slices of ~2 ms so that queries and changes are answered meanwhile. Only by the
// process that may write (the leader; with --workers the worker in slot 0; never on a hot standby).

import type { Logger } from 'pino';
import type { Name } from '../dns/name.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import { SnapshotEncoder, zoneNsec3 } from '../zone/snapshot.js';
import type { Zone } from '../zone/zone.js';

/** The zone served now for `origin` and its version (undefined: not served, or served signed). */
export type ServedLookup = (origin: Name) => { zone: Zone; version: number } | undefined;

/**
 * Parts of 256 KB: each is one transaction (services/snapshots.ts saveZoneSnapshot) that a change arriving meanwhile
 * waits for; with 1 MB parts an UPDATE waited up to ~19 ms for one at 100,000 records.
 */
const WRITER_PART_BYTES = 256 << 10;

export class ZoneSnapshotWriter {
  /** Zones to write (by the key of their origin). */
  private readonly queue = new Map<string, Name>();
  /** Rows changed, per zone, since its stored snapshot (or since it was compiled, when it has none yet). */
  private readonly since = new Map<string, number>();
  private started = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly served: ServedLookup,
    private readonly mayWrite: () => boolean,
  ) {}

  /**
   * A zone was compiled whole: from its rows (`changedSinceSnapshot` undefined) or from a snapshot with this many
   * owners read from the rows. Queued when it is large and has no snapshot worth keeping.
   */
  compiled(origin: Name, records: number, changedSinceSnapshot?: number): void {
    if (records < services.SNAPSHOT_MIN_RECORDS) {
      this.since.delete(origin.key);
      return;
    }
    this.since.set(origin.key, changedSinceSnapshot ?? Number.POSITIVE_INFINITY);
    this.check(origin, records);
  }

  /** A served zone was patched with a change of `changes` rows: a large zone far from its snapshot gets a new one. */
  patched(origin: Name, records: number, changes: number): void {
    if (records < services.SNAPSHOT_MIN_RECORDS) return;
    this.since.set(origin.key, (this.since.get(origin.key) ?? 0) + changes);
    this.check(origin, records);
  }

  /** The start-up load is done: write what was queued. */
  start(): void {
    this.started = true;
    this.kick();
  }

  /** Worth a new snapshot: more rows changed since the stored one than a twentieth of the zone (1,000 at least). */
  private check(origin: Name, records: number): void {
    if ((this.since.get(origin.key) ?? 0) <= Math.max(1000, records / 20)) return;
    this.queue.set(origin.key, origin);
    if (this.started) this.kick();
  }

  private kick(): void {
    if (this.running || this.queue.size === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.size > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (const [key, origin] of this.queue) {
      this.queue.delete(key);
      // Skipped, not kept: the next change or compile of the zone queues it again. (Not writing them at all, as a
      // --workers worker other than the first, is no news.)
      if (!this.mayWrite()) continue;
      const now = this.served(origin);
      if (!now || now.zone.recordCount < services.SNAPSHOT_MIN_RECORDS) {
        this.log.info({ zone: origin.toString(), served: now !== undefined }, 'zone snapshot not written: the zone is not served unsigned with enough records');
        continue;
      }
      try {
        if (await this.write(origin, now.zone, now.version)) this.since.set(key, 0);
      } catch (e) {
        this.log.warn({ zone: origin.toString(), err: (e as Error).message }, 'cannot store the zone snapshot; the zone is loaded from its rows at the next start');
      }
    }
  }

  private async write(origin: Name, zone: Zone, version: number): Promise<boolean> {
    const started = performance.now();
    // The nodes of this version, taken at once (a version's nodes never change; iterating it across turns of the
    // event loop would meet the next version once the zone is patched).
    const nodes = [...zone.nodes.values()];
    const nsec3 = zoneNsec3(zone);
    const enc = new SnapshotEncoder(WRITER_PART_BYTES);
    let slice = performance.now();
    for (let i = 0; i < nodes.length; i++) {
      enc.add(nodes[i], zone.apex);
      // Slices of ~2 ms: an UPDATE arriving meanwhile waits for one slice, and at each of its own turns of the event
      // loop for another (slices of 10 ms made UPDATEs of 25–35 ms here, at 100,000 records).
      if ((i & 255) === 255 && performance.now() - slice > 2) {
        await new Promise<void>((res) => setImmediate(res));
        slice = performance.now();
      }
    }
    const parts = enc.finish(nsec3);
    const ctx = services.serviceContext(this.store, { actor: 'dmsd' });
    const stored = await services.saveZoneSnapshot(ctx, { name: origin.toString(), version, records: enc.records, parts });
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    if (stored)
      this.log.info({ zone: origin.toString(), version, records: enc.records, parts: parts.length, bytes, ms: Math.round(performance.now() - started) }, 'zone snapshot stored');
    else this.log.info({ zone: origin.toString(), version }, 'zone snapshot not stored: the database is a read-only standby, or the zone or that version is gone');
    return stored;
  }
}
