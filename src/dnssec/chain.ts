// The part NSEC and NSEC3 chains share: a sorted set of chain positions, the type list of each, the record now in
// the zone for each, and the positions whose record may have to change. A change marks the position itself and the
// one before it (whose "next" field may now be wrong); flush() rebuilds only those records, each in O(log n), and
// returns what to remove and add. See nsec.ts and nsec3.ts for the two record formats.

import type { RR } from '../dns/message.js';
import { compareRdata, encodeTypeBitmap } from '../dns/rdata.js';
import { packRdata } from '../dns/slab.js';
import { SortedSet } from './sorted.js';

export interface RecordDelta {
  remove: RR[];
  add: RR[];
}

/**
 * One shared copy of each type list (readonly, never changed in place): nearly every owner of a zone lists the same
 * few types, and a list of its own cost each owner an array (~70 bytes). Capped, so that data making ever new type
 * sets cannot grow it without end (lists past the cap are kept as given).
 */
const typeLists = new Map<string, readonly number[]>();
const TYPE_LISTS_MAX = 4096;

/** Records rebuilt at once from which on a flush packs their RDATA. */
const BULK_FLUSH = 32;

/** The type bitmap (RFC 4034 §4.1.2) of each shared list, made once: most owners' NSECs carry the same one. */
const bitmaps = new Map<readonly number[], Uint8Array>();

export function sharedTypeList(types: readonly number[]): readonly number[] {
  const k = types.join(',');
  const known = typeLists.get(k);
  if (known) return known;
  if (typeLists.size < TYPE_LISTS_MAX) {
    typeLists.set(k, types);
    bitmaps.set(types, encodeTypeBitmap(types));
  }
  return types;
}

/** The type bitmap of `types` (sorted, without duplicates): the shared one for a shared list. Never written to. */
export function typeBitmapOf(types: readonly number[]): Uint8Array {
  return bitmaps.get(types) ?? encodeTypeBitmap(types);
}

export abstract class LinkedChain<T> {
  protected readonly order: SortedSet<T>;
  /** Position key → the position and the types its record lists. */
  private readonly entries = new Map<string, { at: T; types: readonly number[] }>();
  /** Position key → the chain record now in the zone. */
  private readonly current = new Map<string, RR>();
  private readonly dirty = new Set<string>();

  constructor(
    cmp: (a: T, b: T) => number,
    protected ttl: number,
  ) {
    this.order = new SortedSet(cmp);
  }

  protected abstract keyOf(at: T): string;
  /** The chain record at `at` pointing to `next`, listing `types`. */
  protected abstract build(at: T, next: T, types: readonly number[]): RR;

  get size(): number {
    return this.order.size;
  }

  private mark(at: T): void {
    this.dirty.add(this.keyOf(at));
  }

  /** Put `at` in the chain with these types, or take it out (undefined). */
  protected setAt(at: T, types: readonly number[] | undefined): void {
    const k = this.keyOf(at);
    const old = this.entries.get(k);
    if (types === undefined) {
      if (!old) return;
      this.entries.delete(k);
      this.order.delete(old.at);
      this.mark(old.at);
      const prev = this.order.lowerCyclic(old.at);
      if (prev !== undefined) this.mark(prev);
      return;
    }
    if (old) {
      if (sameTypes(old.types, types)) return;
      this.entries.set(k, { at: old.at, types: sharedTypeList(types) });
      this.mark(old.at);
      return;
    }
    this.entries.set(k, { at, types: sharedTypeList(types) });
    this.order.add(at);
    // The predecessor marked first: names added in order are then marked in order, and flush walks them
    // (SortedSet.higher).
    const prev = this.order.lowerCyclic(at);
    if (prev !== undefined) this.mark(prev);
    this.mark(at);
  }

  /** A new TTL for every record (the SOA's negative TTL changed): every record is rebuilt. */
  setTtl(ttl: number): void {
    if (ttl === this.ttl) return;
    this.ttl = ttl;
    for (const e of this.entries.values()) this.mark(e.at);
  }

  /** Rebuild the records of the marked positions; the records that changed. */
  flush(): RecordDelta {
    const remove: RR[] = [];
    const add: RR[] = [];
    for (const k of this.dirty) {
      const e = this.entries.get(k);
      const old = this.current.get(k);
      if (!e) {
        if (old) {
          remove.push(old);
          this.current.delete(k);
        }
        continue;
      }
      const next = this.order.higherCyclic(e.at) as T;
      const rr = this.build(e.at, next, e.types);
      if (old && old.ttl === rr.ttl && compareRdata(old.rdata, rr.rdata) === 0) continue;
      if (old) remove.push(old);
      add.push(rr);
      this.current.set(k, rr);
    }
    this.dirty.clear();
    // Records made in bulk (a full sign's slices) keep their RDATA in one buffer per flush (dns/slab.ts): made together
    // and mostly kept together. An UPDATE's few links allocate their own.
    if (add.length >= BULK_FLUSH) packRdata(add);
    return { remove, add };
  }

  /** The chain records now in the zone (after the last flush). */
  records(): RR[] {
    return [...this.current.values()];
  }
}

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
