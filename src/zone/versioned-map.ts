// A persistent map from string keys for zone snapshots: a new version is made from the newest one in O(changes),
// every older version stays readable and unchanged, and reads of the newest version are one native Map.get.
//
// How: the newest version owns the one Map. Making a new version moves the Map to it (changed in place) and turns the
// old version into an "undo layer": the old values of the keys that changed plus a pointer to the newer version
// (shallow binding, as in Baker's persistent arrays). A read of an old version walks its layers towards the newest;
// old versions are rarely read (a transfer or an UPDATE that started before the swap), and a version nobody holds
// is garbage with its layer (layers point only forward, to newer versions). Making a version from an old one copies
// it whole, once: correct, O(size), and not what the server does (it always patches what it serves).
//
// Iterating a version is synchronous: a version superseded while one of its iterators is open would see the newer
// version's entries, so such an iterator throws instead.

export class VersionedMap<V> implements ReadonlyMap<string, V> {
  /** The Map, while this is the newest version. */
  private map: Map<string, V> | undefined;
  /** Once superseded: this version's value of every key the next version changed (undefined = absent here). */
  private undo: Map<string, V | undefined> | undefined;
  private next: VersionedMap<V> | undefined;
  private count: number;

  /** A first version holding `map` (taken over: the caller must not change it afterwards). */
  constructor(map: Map<string, V> = new Map()) {
    this.map = map;
    this.count = map.size;
  }

  get size(): number {
    return this.count;
  }

  /** True while no newer version was made from this one. */
  get isNewest(): boolean {
    return this.map !== undefined;
  }

  get(key: string): V | undefined {
    const m = this.map;
    if (m !== undefined) return m.get(key);
    return this.getOld(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private getOld(key: string): V | undefined {
    let v: VersionedMap<V> = this;
    for (;;) {
      const m = v.map;
      if (m !== undefined) return m.get(key);
      const u = v.undo!;
      if (u.has(key)) return u.get(key);
      v = v.next!;
    }
  }

  /**
   * A new version: this one with `changes` applied (a value sets the key, undefined removes it). This version keeps
   * its content. O(changes) when this is the newest version, O(size) otherwise.
   */
  with(changes: ReadonlyMap<string, V | undefined>): VersionedMap<V> {
    if (this.map === undefined) return new VersionedMap(new Map(this.entries())).with(changes);
    const map = this.map;
    const undo = new Map<string, V | undefined>();
    let count = this.count;
    for (const [k, v] of changes) {
      const old = map.get(k);
      if (!undo.has(k)) undo.set(k, old);
      if (v === undefined) {
        if (old !== undefined) {
          map.delete(k);
          count--;
        }
      } else {
        if (old === undefined) count++;
        map.set(k, v);
      }
    }
    const next = new VersionedMap<V>(map);
    next.count = count;
    this.map = undefined;
    this.undo = undo;
    this.next = next;
    return next;
  }

  *entries(): MapIterator<[string, V]> {
    const m = this.map;
    if (m !== undefined) {
      for (const e of m) {
        yield e;
        if (this.map === undefined) throw new Error('VersionedMap: version superseded while being iterated');
      }
      return;
    }
    // This version = the newest Map, with the keys changed since taken from the nearest layer that has them.
    const overlay = new Map<string, V | undefined>();
    let v: VersionedMap<V> = this;
    while (v.map === undefined) {
      for (const [k, x] of v.undo!) if (!overlay.has(k)) overlay.set(k, x);
      v = v.next!;
    }
    // Collected first: the newest Map may change under a consumer that pauses between entries.
    const out: [string, V][] = [];
    for (const e of v.map) if (!overlay.has(e[0])) out.push(e);
    for (const [k, x] of overlay) if (x !== undefined) out.push([k, x]);
    yield* out;
  }

  /** This version's values, at once, in one array (the newest version's straight from its Map, without an iterator per entry). */
  valueArray(): V[] {
    const m = this.map;
    if (m !== undefined) return Array.from(m.values());
    const out: V[] = [];
    for (const [, v] of this.entries()) out.push(v);
    return out;
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
