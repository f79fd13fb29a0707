// A sorted set kept as a list of bounded chunks: finding an element or its neighbours is two binary searches
// (O(log n)); an insertion or deletion moves at most one chunk's elements plus the chunk index. This is what lets a
// zone change touch only the NSEC/NSEC3 links next to the names it changes, instead of walking the zone.

const MAX_CHUNK = 512;

export class SortedSet<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  /** Build from values in any order (duplicates dropped): one sort instead of n insertions. */
  static from<T>(values: Iterable<T>, cmp: (a: T, b: T) => number): SortedSet<T> {
    const s = new SortedSet(cmp);
    const all = [...values].sort(cmp);
    const uniq = all.filter((v, i) => i === 0 || cmp(all[i - 1], v) !== 0);
    for (let i = 0; i < uniq.length; i += MAX_CHUNK / 2) s.chunks.push(uniq.slice(i, i + MAX_CHUNK / 2));
    s.count = uniq.length;
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** Index of the first chunk whose last element is ≥ v (chunks.length when none). */
  private chunkFor(v: T): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (this.cmp(c[c.length - 1], v) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index in `c` of the first element ≥ v. */
  private indexIn(c: T[], v: T): number {
    let lo = 0;
    let hi = c.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(c[mid], v) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(v: T): boolean {
    const ci = this.chunkFor(v);
    if (ci === this.chunks.length) return false;
    const c = this.chunks[ci];
    const i = this.indexIn(c, v);
    return i < c.length && this.cmp(c[i], v) === 0;
  }

  /** Add v; false when it was there already. */
  add(v: T): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([v]);
      this.count = 1;
      return true;
    }
    let ci = this.chunkFor(v);
    if (ci === this.chunks.length) ci--; // larger than everything: append to the last chunk
    const c = this.chunks[ci];
    const i = this.indexIn(c, v);
    if (i < c.length && this.cmp(c[i], v) === 0) return false;
    c.splice(i, 0, v);
    this.count++;
    if (c.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, c.splice(MAX_CHUNK / 2));
    return true;
  }

  /** Remove v; false when it was not there. */
  delete(v: T): boolean {
    const ci = this.chunkFor(v);
    if (ci === this.chunks.length) return false;
    const c = this.chunks[ci];
    const i = this.indexIn(c, v);
    if (i >= c.length || this.cmp(c[i], v) !== 0) return false;
    c.splice(i, 1);
    this.count--;
    if (c.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  last(): T | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c?.[c.length - 1];
  }

  /** The largest element < v. */
  lower(v: T): T | undefined {
    const ci = this.chunkFor(v);
    if (ci < this.chunks.length) {
      const c = this.chunks[ci];
      const i = this.indexIn(c, v);
      if (i > 0) return c[i - 1];
    }
    const prev = this.chunks[ci - 1];
    return prev?.[prev.length - 1];
  }

  /** The smallest element > v. */
  higher(v: T): T | undefined {
    const ci = this.chunkFor(v);
    if (ci === this.chunks.length) return undefined;
    const c = this.chunks[ci];
    let i = this.indexIn(c, v);
    if (i < c.length && this.cmp(c[i], v) === 0) i++;
    if (i < c.length) return c[i];
    return this.chunks[ci + 1]?.[0];
  }

  /** Predecessor with wrap-around (the last element for the first): the owner whose NSEC points at v. */
  lowerCyclic(v: T): T | undefined {
    return this.lower(v) ?? this.last();
  }

  /** Successor with wrap-around (the first element after the last): the next owner in a denial chain. */
  higherCyclic(v: T): T | undefined {
    return this.higher(v) ?? this.first();
  }

  /** Elements ≥ v in order. */
  *from(v: T): IterableIterator<T> {
    let ci = this.chunkFor(v);
    if (ci === this.chunks.length) return;
    let i = this.indexIn(this.chunks[ci], v);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci];
      for (; i < c.length; i++) yield c[i];
    }
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const c of this.chunks) yield* c;
  }
}
