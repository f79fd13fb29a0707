// A sorted set kept as a list of bounded chunks: finding an element or its neighbours is two binary searches
// (O(log n)); an insertion or deletion moves at most one chunk's elements plus the chunk index. This is what lets a
// zone change touch only the NSEC/NSEC3 links next to the names it changes, instead of walking the zone.

const MAX_CHUNK = 512;

export class SortedSet<T> {
  private chunks: T[][] = [];
  private count = 0;
  /**
   * Where the last higher() answer is (chunk, index; -1: nowhere, reset by every change): asked next for the element
   * it returned — a walk along the set, as a chain flush in name order does — higher() answers without a search.
   */
  private fingerChunk = -1;
  private fingerIndex = -1;

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
    this.fingerChunk = -1;
    if (this.chunks.length === 0) {
      this.chunks.push([v]);
      this.count = 1;
      return true;
    }
    const lastChunk = this.chunks[this.chunks.length - 1];
    // Larger than everything (a set built in order, a full sign's sorted names): one comparison, not a search.
    if (this.cmp(lastChunk[lastChunk.length - 1], v) < 0) {
      lastChunk.push(v);
      this.count++;
      if (lastChunk.length > MAX_CHUNK) this.chunks.push(lastChunk.splice(MAX_CHUNK / 2));
      return true;
    }
    const ci = this.chunkFor(v);
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
    this.fingerChunk = -1;
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
    const lastChunk = this.chunks[this.chunks.length - 1];
    if (lastChunk) {
      // v the last element or past it (what an append asks next): no search.
      const d = this.cmp(lastChunk[lastChunk.length - 1], v);
      if (d < 0) return lastChunk[lastChunk.length - 1];
      if (d === 0) return lastChunk.length > 1 ? lastChunk[lastChunk.length - 2] : this.chunks[this.chunks.length - 2]?.at(-1);
    }
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
    let ci: number;
    let i: number;
    const fc = this.chunks[this.fingerChunk];
    if (fc && this.cmp(fc[this.fingerIndex], v) === 0) {
      ci = this.fingerChunk;
      i = this.fingerIndex + 1;
    } else {
      ci = this.chunkFor(v);
      if (ci === this.chunks.length) return undefined;
      const c = this.chunks[ci];
      i = this.indexIn(c, v);
      if (i < c.length && this.cmp(c[i], v) === 0) i++;
    }
    if (i === this.chunks[ci].length) {
      ci++;
      i = 0;
    }
    const c = this.chunks[ci];
    if (!c) return undefined;
    this.fingerChunk = ci;
    this.fingerIndex = i;
    return c[i];
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
