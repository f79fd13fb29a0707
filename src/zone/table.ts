// The set of zones being served. Zones enter and leave only through set()/delete(), each replacing one snapshot in a
// single synchronous step, so a query sees either the old or the new version of a zone, never a mix.

import type { Name } from '../dns/name.js';
import { wireKey } from './key.js';
import type { Zone } from './zone.js';

export class ZoneTable {
  private readonly byKey = new Map<string, Zone>();
  /** Incremented on every change (lets callers notice that the table moved). */
  generation = 0;
  /**
   * Incremented when a zone is added or removed: which zone answers a name may then change. Replacing a zone by a
   * new version of itself does not count here but bumps that zone's epoch.
   */
  structure = 0;
  /**
   * Per served origin a slot number and, in `epochs`, a counter bumped whenever the zone at that slot is replaced
   * or removed: an answer memoized from a zone stays valid while the epoch of its slot is unchanged (server/query.ts),
   * so a change to one zone does not throw away what was memoized for the others.
   */
  epochs = new Uint32Array(64);
  private readonly slots = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  /**
   * Told after a zone version starts being served (the NOTIFY sender waits for exactly that: RFC 1996 §3.11). Called
   * synchronously, after the swap; keep it cheap.
   */
  onServed?: (zone: Zone) => void;

  /** Serve `zone`, replacing any zone with the same origin. */
  set(zone: Zone): void {
    const slot = this.slots.get(zone.originKey);
    if (slot === undefined) {
      let s = this.freeSlots.pop();
      if (s === undefined) {
        s = this.slots.size;
        if (s === this.epochs.length) {
          const next = new Uint32Array(this.epochs.length * 2);
          next.set(this.epochs);
          this.epochs = next;
        }
      }
      this.slots.set(zone.originKey, s);
      this.structure++;
    } else this.epochs[slot]++;
    this.byKey.set(zone.originKey, zone);
    this.generation++;
    this.onServed?.(zone);
  }

  /** Stop serving the zone `origin`; false when it was not served. */
  delete(origin: Name): boolean {
    const key = wireKey(origin);
    const had = this.byKey.delete(key);
    if (had) {
      const slot = this.slots.get(key)!;
      this.slots.delete(key);
      this.epochs[slot]++;
      this.freeSlots.push(slot);
      this.structure++;
      this.generation++;
    }
    return had;
  }

  /** The epoch slot of the served zone `zone` (see `epochs`). */
  slotOf(zone: Zone): number {
    return this.slots.get(zone.originKey) ?? -1;
  }

  get(origin: Name): Zone | undefined {
    return this.byKey.get(wireKey(origin));
  }

  get size(): number {
    return this.byKey.size;
  }

  zones(): IterableIterator<Zone> {
    return this.byKey.values();
  }

  /**
   * The most specific zone containing the name with wire key `key`, starting the search `skip` labels up (1 for DS
   * queries, answered by the parent side of a cut when the parent is served).
   */
  findByKey(key: string, skip = 0): Zone | undefined {
    const map = this.byKey;
    let p = 0;
    for (let i = 0; i < skip && key.charCodeAt(p) !== 0; i++) p += key.charCodeAt(p) + 1;
    for (;;) {
      const z = map.get(p === 0 ? key : key.substring(p));
      if (z) return z;
      const len = key.charCodeAt(p);
      if (len === 0 || Number.isNaN(len)) return undefined;
      p += len + 1;
    }
  }

  /** The zone to answer `qname`/`qtype` from: DS goes to the parent side when that is served (RFC 4035 §3.1.4.1). */
  findForQuery(key: string, qtype: number): Zone | undefined {
    if (qtype === 43 && key.length > 1) return this.findByKey(key, 1) ?? this.findByKey(key);
    return this.findByKey(key);
  }
}
