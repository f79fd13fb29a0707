// Writing zone snapshots (services/snapshots.ts, zone/snapshot.ts): after dmsd compiled a large zone whole from its
// rows — or from a snapshot that many owners changed since — it stores the served version's snapshot, so that the
// next start reads that zone at memory speed. Off the start-up's path: queued, written once the start-up load is done,
// one zone at a time, the encoding cut into slices of ~10 ms so that queries are answered meanwhile. Only by the
// process that may write (the leader: not a hot standby, not a --workers worker).

import type { Logger } from 'pino';
import type { Name } from '../dns/name.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import { SnapshotEncoder, zoneNsec3 } from '../zone/snapshot.js';
import type { Zone } from '../zone/zone.js';

/** The zone served now for `origin` and its version (undefined: not served, or served signed). */
export type ServedLookup = (origin: Name) => { zone: Zone; version: number } | undefined;

export class ZoneSnapshotWriter {
  private readonly queue = new Map<number, Name>();
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
  compiled(zoneId: number, origin: Name, records: number, changedSinceSnapshot?: number): void {
    if (records < services.SNAPSHOT_MIN_RECORDS) return;
    if (changedSinceSnapshot !== undefined && changedSinceSnapshot <= Math.max(1000, records / 20)) return;
    this.queue.set(zoneId, origin);
    if (this.started) this.kick();
  }

  /** The start-up load is done: write what was queued. */
  start(): void {
    this.started = true;
    this.kick();
  }

  /** Resolves when nothing is queued or being written (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private kick(): void {
    if (this.running || this.queue.size === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.size > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (const [zoneId, origin] of this.queue) {
      this.queue.delete(zoneId);
      if (!this.mayWrite()) continue;
      const now = this.served(origin);
      if (!now || now.zone.recordCount < services.SNAPSHOT_MIN_RECORDS) continue;
      try {
        await this.write(zoneId, origin, now.zone, now.version);
      } catch (e) {
        this.log.warn({ zone: origin.toString(), err: (e as Error).message }, 'cannot store the zone snapshot; the zone is loaded from its rows at the next start');
      }
    }
  }

  private async write(zoneId: number, origin: Name, zone: Zone, version: number): Promise<void> {
    const started = performance.now();
    // The nodes of this version, taken at once (a version's nodes never change; iterating it across turns of the
    // event loop would meet the next version once the zone is patched).
    const nodes = [...zone.nodes.values()];
    const nsec3 = zoneNsec3(zone);
    const enc = new SnapshotEncoder();
    let slice = performance.now();
    for (let i = 0; i < nodes.length; i++) {
      enc.add(nodes[i], zone.apex);
      if ((i & 1023) === 1023 && performance.now() - slice > 10) {
        await new Promise<void>((res) => setImmediate(res));
        slice = performance.now();
      }
    }
    const parts = enc.finish(nsec3);
    const stored = await services.saveZoneSnapshot(services.serviceContext(this.store, { actor: 'dmsd' }), { zoneId, version, records: enc.records, parts });
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    if (stored)
      this.log.info({ zone: origin.toString(), version, records: enc.records, parts: parts.length, bytes, ms: Math.round(performance.now() - started) }, 'zone snapshot stored');
  }
}
