// Writing zone snapshots (services/snapshots.ts, zone/snapshot.ts): after dmsd compiled a large zone whole from its
// rows — or from a snapshot that many owners changed since — it stores the served version's snapshot, so that the
// next start reads that zone at memory speed. Off the start-up's path: queued, written once the start-up load is done,
// one zone at a time, the encoding cut into slices of ~0.2 ms so that queries and changes are answered meanwhile, and
// every slice waiting while an UPDATE is in progress (foreground.ts). Only by the process that may write (the leader;
// with --workers the worker in slot 0; never on a hot standby).

import type { Logger } from 'pino';
import type { Name } from '../dns/name.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import { SnapshotEncoder, zoneNodeArray, zoneNsec3 } from '../zone/snapshot.js';
import type { Zone } from '../zone/zone.js';
import { Foreground } from './foreground.js';

/** The zone served now for `origin` and its version (undefined: not served, or served signed). */
export type ServedLookup = (origin: Name) => { zone: Zone; version: number } | undefined;

/**
 * Parts of 64 KB: each is one transaction (services/snapshots.ts saveZoneSnapshot) that an UPDATE arriving meanwhile
 * waits for (~0.3 ms); with 1 MB parts an UPDATE waited up to ~19 ms for one at 100,000 records, with 256 KB ~1 ms.
 */
const WRITER_PART_BYTES = 64 << 10;

/** The encoding's slices between turns of the event loop, in ms. */
const SLICE_MS = 0.2;

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
    /** The process's foreground work (UPDATEs), which every slice of the writing waits for. */
    private readonly foreground: Foreground = new Foreground(),
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
      // The changes patched in from now on count towards the next snapshot (this one takes the version served once it
      // begins, with them). Counted from its end, they queued the zone again at once: each snapshot was written twice.
      const counted = this.since.get(key) ?? 0;
      this.since.set(key, 0);
      let stored = false;
      // Begun on a turn of its own: the change whose patch queued this zone is answered first.
      await this.foreground.yield();
      const now = this.served(origin);
      if (!now || now.zone.recordCount < services.SNAPSHOT_MIN_RECORDS)
        this.log.info({ zone: origin.toString(), served: now !== undefined }, 'zone snapshot not written: the zone is not served unsigned with enough records');
      else {
        try {
          stored = await this.write(origin, now.zone, now.version);
        } catch (e) {
          this.log.warn({ zone: origin.toString(), err: (e as Error).message }, 'cannot store the zone snapshot; the zone is loaded from its rows at the next start');
        }
      }
      if (!stored) this.since.set(key, (this.since.get(key) ?? 0) + counted);
    }
  }

  private async write(origin: Name, zone: Zone, version: number): Promise<boolean> {
    const started = performance.now();
    const nodes = zoneNodeArray(zone);
    const nsec3 = zoneNsec3(zone);
    const enc = new SnapshotEncoder(WRITER_PART_BYTES);
    let slice = performance.now();
    for (let i = 0; i < nodes.length; i++) {
      enc.add(nodes[i], zone.apex);
      // Slices of ~0.2 ms (~30 µs of nodes between looks at the clock): an UPDATE arriving meanwhile waits for the rest
      // of one slice, ~0.1 ms on average, and none starts while it is in progress (slices of 10 ms made UPDATEs of
      // 25–35 ms here at 100,000 records; of 2 ms without waiting for the UPDATE, ~3 ms each).
      if ((i & 63) === 63 && performance.now() - slice > SLICE_MS) {
        await this.foreground.yield();
        slice = performance.now();
      }
    }
    const parts = enc.finish(nsec3);
    const ctx = services.serviceContext(this.store, { actor: 'dmsd' });
    const stored = await services.saveZoneSnapshot(ctx, { name: origin.toString(), version, records: enc.records, parts }, () => this.foreground.yield());
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    if (stored)
      this.log.info({ zone: origin.toString(), version, records: enc.records, parts: parts.length, bytes, ms: Math.round(performance.now() - started) }, 'zone snapshot stored');
    else this.log.info({ zone: origin.toString(), version }, 'zone snapshot not stored: the database is a read-only standby, or the zone or that version is gone');
    return stored;
  }
}
