// The set of zones being served. Zones enter and leave only through set()/delete(), each replacing one snapshot in a
// single synchronous step, so a query sees either the old or the new version of a zone, never a mix.

import type { Name } from '../dns/name.js';
import { wireKey } from './key.js';
import type { Zone } from './zone.js';

export class ZoneTable {
  private readonly byKey = new Map<string, Zone>();
  /** Incremented on every change (lets callers notice that the table moved). */
  generation = 0;

  /** Serve `zone`, replacing any zone with the same origin. */
  set(zone: Zone): void {
    this.byKey.set(zone.originKey, zone);
    this.generation++;
  }

  /** Stop serving the zone `origin`; false when it was not served. */
  delete(origin: Name): boolean {
    const had = this.byKey.delete(wireKey(origin));
    if (had) this.generation++;
    return had;
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
