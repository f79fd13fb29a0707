// An immutable, compiled snapshot of one zone: nodes keyed on their wire key (see key.ts), each holding its RRsets
// and the flags the lookup needs, computed once by a precompute pass (delegation points, names below a cut or a
// DNAME, empty non-terminals, wildcard children). Pure: no I/O.
//
// Memory layout. A large zone has millions of records, and one JS object per record, per label or per RDATA view
// costs several times the bytes of the data itself. So a node keeps its RRsets encoded in a shared byte slab
// (see ZoneNode), its name only as its wire key (plus the original-case wire form when it differs), and builds
// Name, RR and RRset objects on demand. The query path needs none of them: it looks nodes up by key and reads
// flags; answers are encoded once and memoized by the server.

import { RRType, isMetaType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { soaSerial } from '../dns/serial.js';
import { readU32, WireReader, writeU32 } from '../dns/wire.js';
import { keyIsBelowOrAt, keyParent, latin1, ROOT_KEY } from './key.js';
import { VersionedMap } from './versioned-map.js';

export interface RRset {
  /** Owner name as written in the zone (original case). */
  readonly name: Name;
  readonly type: number;
  /** The records, deduplicated, in the order given. */
  readonly rrs: readonly RR[];
}

/** The RRsets of one node by type: the read side of a Map, backed by a small array. */
export class RRsets {
  constructor(private readonly sets: readonly RRset[]) {}
  get size(): number {
    return this.sets.length;
  }
  get(type: number): RRset | undefined {
    const sets = this.sets;
    for (let i = 0; i < sets.length; i++) if (sets[i].type === type) return sets[i];
    return undefined;
  }
  has(type: number): boolean {
    return this.get(type) !== undefined;
  }
  values(): IterableIterator<RRset> {
    return this.sets.values();
  }
  keys(): number[] {
    return this.sets.map((s) => s.type);
  }
}

const NO_RRSETS = new RRsets([]);

/** @internal Node flags (ZoneNode.bits), shared with delta.ts. */
export const DELEGATION = 1;
/** @internal */ export const BELOW_CUT = 2;
/** @internal */ export const BELOW_DNAME = 4;
/** @internal */ export const EMPTY_NON_TERMINAL = 8;
/** @internal */ export const HAS_DNAME = 16;
/** @internal */ export const HAS_CNAME = 32;
/** @internal */ export const HAS_NS = 64;

/** Transient mark while compiling: the node's flags are final. */
const SETTLED = 128;
/**
 * Transient mark while building: the node's data was encoded by the zone-file thread (ZoneBuilder.addPacked); more
 * records of its name turn it back into staged records. Dropped with the other transient flags by inheritBits.
 */
const PACKED = 256;

/**
 * @internal The flags of a node (not the apex) from its own (HAS_* and EMPTY_NON_TERMINAL kept) and its parent's,
 * which must be final: a zone cut at an NS RRset, names below a cut or a DNAME occluded.
 */
export function inheritBits(own: number, parent: number): number {
  let bits = own & (HAS_NS | HAS_DNAME | HAS_CNAME | EMPTY_NON_TERMINAL);
  if (bits & HAS_NS) bits |= DELEGATION;
  if (parent & (BELOW_CUT | DELEGATION)) bits |= BELOW_CUT;
  if (parent & (BELOW_DNAME | HAS_DNAME)) bits |= BELOW_DNAME;
  return bits;
}

/** Bytes before the records of an encoded RRset: TYPE, CLASS, TTL (u16, u16, u32) and the records' length (u32). */
const SET_HEADER = 12;

/**
 * One name of the zone. Its RRsets are bytes [start, end) of `data`, a chunk shared with other nodes: per RRset a
 * 12-octet header (TYPE, CLASS, TTL, length of what follows) then each record as RDLENGTH + RDATA. The `name`,
 * `rrsets` and `rrset()` accessors build fresh objects on every call: callers on a hot path keep what they need.
 */
export class ZoneNode {
  /** The "*.<this>" node, when the zone has one (source of synthesis, RFC 4592). */
  wildcard: ZoneNode | undefined = undefined;
  /**
   * @internal Number of child nodes (names one label longer): when a change removes a name's last record, it stays
   * as an empty non-terminal exactly while this is above zero (delta.ts).
   */
  kids = 0;

  /** @internal */
  constructor(
    readonly key: string,
    /** @internal The owner's wire form in its original case, when it differs from the key. */
    public owner: string | undefined,
    /** @internal */ public data: Uint8Array | undefined,
    /** @internal While the zone is being built: the node's index in the builder's staging arrays. */
    public start: number,
    /** @internal */ public end: number,
    /** @internal */ public bits: number,
  ) {}

  /** Owner name (original case as first written in the zone; lower case for empty non-terminals). */
  get name(): Name {
    return nameFromWire(this.owner ?? this.key);
  }
  /** RRsets by type; empty for an empty non-terminal. */
  get rrsets(): RRsets {
    if (this.start === this.end) return NO_RRSETS;
    const name = this.name;
    const sets: RRset[] = [];
    for (let p = this.start; p < this.end; p = this.setEnd(p)) sets.push(this.decodeSet(p, name));
    return new RRsets(sets);
  }
  /** The RRset of `type`, if the node has one. */
  rrset(type: number): RRset | undefined {
    const p = this.find(type);
    return p < 0 ? undefined : this.decodeSet(p, this.name);
  }
  hasType(type: number): boolean {
    return this.find(type) >= 0;
  }
  /** No RRsets at all. */
  get isEmpty(): boolean {
    return this.start === this.end;
  }
  /** NS here and not the apex: a zone cut (RFC 1034 §4.2.1). */
  get delegation(): boolean {
    return (this.bits & DELEGATION) !== 0;
  }
  /** A strict ancestor inside the zone is a zone cut: this node's data is glue/occluded, never answered with AA. */
  get belowCut(): boolean {
    return (this.bits & BELOW_CUT) !== 0;
  }
  /** A strict ancestor inside the zone has a DNAME: the node is occluded (RFC 6672 §2.4). */
  get belowDname(): boolean {
    return (this.bits & BELOW_DNAME) !== 0;
  }
  /** No RRsets: exists only because names below it exist (RFC 4592 §2.2.2). */
  get emptyNonTerminal(): boolean {
    return (this.bits & EMPTY_NON_TERMINAL) !== 0;
  }
  get hasDname(): boolean {
    return (this.bits & HAS_DNAME) !== 0;
  }
  get hasCname(): boolean {
    return (this.bits & HAS_CNAME) !== 0;
  }

  /**
   * @internal This node's encoded RRsets with the RRset of `set.type` replaced by `set` (put first when the node has
   * none), the other RRsets' bytes copied as they are: no decode, no re-encode.
   */
  withSetReplaced(set: RawSet): Uint8Array {
    const enc = encodeSets([set]).data;
    const d = this.data;
    const p = this.find(set.type);
    if (d === undefined) return enc;
    const [from, to] = p < 0 ? [this.start, this.start] : [p, this.setEnd(p)];
    const out = new Uint8Array(this.end - this.start - (to - from) + enc.length);
    out.set(d.subarray(this.start, from), 0);
    out.set(enc, from - this.start);
    out.set(d.subarray(to, this.end), from - this.start + enc.length);
    return out;
  }

  private find(type: number): number {
    const d = this.data;
    if (d === undefined) return -1;
    for (let p = this.start; p < this.end; p = this.setEnd(p)) if (((d[p] << 8) | d[p + 1]) === type) return p;
    return -1;
  }
  private setEnd(p: number): number {
    const d = this.data!;
    return p + SET_HEADER + ((d[p + 8] << 24) | (d[p + 9] << 16) | (d[p + 10] << 8) | d[p + 11]);
  }
  private decodeSet(p: number, name: Name): RRset {
    const d = this.data!;
    const type = (d[p] << 8) | d[p + 1];
    const klass = (d[p + 2] << 8) | d[p + 3];
    const ttl = ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
    const end = this.setEnd(p);
    const rrs: RR[] = [];
    for (let q = p + SET_HEADER; q < end; ) {
      const len = (d[q] << 8) | d[q + 1];
      const rdata = d.subarray(q + 2, q + 2 + len);
      // An RRSIG's TTL is the TTL of the RRset it covers (RFC 4034 §3), not one TTL for all the signatures at the
      // name: the encoding keeps one per RRset, so it is taken from the covered RRset here.
      rrs.push({ name, type, class: klass, ttl: type === RRType.RRSIG && len >= 2 ? this.coveredTtl((rdata[0] << 8) | rdata[1], ttl) : ttl, rdata });
      q += 2 + len;
    }
    return { name, type, rrs };
  }
  /** The TTL of this node's RRset of `type`, or `otherwise` when it has none. */
  private coveredTtl(type: number, otherwise: number): number {
    const p = this.find(type);
    if (p < 0) return otherwise;
    const d = this.data!;
    return ((d[p + 4] << 24) | (d[p + 5] << 16) | (d[p + 6] << 8) | d[p + 7]) >>> 0;
  }
}

/** A Name from an uncompressed wire form held as a latin1 string (a key or an owner). */
export function nameFromWire(wire: string): Name {
  const bytes = new Uint8Array(wire.length);
  for (let i = 0; i < wire.length; i++) bytes[i] = wire.charCodeAt(i);
  const labels: Uint8Array[] = [];
  for (let p = 0; bytes[p] !== 0; ) {
    const len = bytes[p];
    labels.push(bytes.subarray(p + 1, p + 1 + len));
    p += len + 1;
  }
  return labels.length === 0 ? Name.root : new Name(labels);
}

export interface Zone {
  readonly origin: Name;
  readonly originKey: string;
  readonly apex: ZoneNode;
  readonly soa: RR;
  readonly serial: number;
  /** TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  readonly negativeTtl: number;
  /** The SOA record as placed in the authority section of negative answers (TTL = negativeTtl). */
  readonly negativeSoa: RR;
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** NSEC3 records and the RRSIGs covering them, by owner key: kept apart from the names of the zone. */
  readonly nsec3: ReadonlyMap<string, readonly RR[]>;
  /** Records served (after merging duplicates). */
  readonly recordCount: number;
  /** Non-fatal problems found while compiling (records ignored, CNAME beside other data...). */
  readonly warnings: readonly string[];
  /**
   * Memo owned by the server: pre-encoded responses per query name key and type, dropped together with this
   * snapshot when the zone is replaced. The zone module never reads it.
   */
  readonly responseMemo: Map<string, Map<number, Uint8Array>>;
}

/** The zone cannot be served (no SOA at the apex, ...). */
export class ZoneError extends Error {
  constructor(
    readonly origin: string,
    message: string,
  ) {
    super(`zone ${origin}: ${message}`);
    this.name = 'ZoneError';
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Build the snapshot of the zone `origin` from its records. Records outside the zone, of meta types or of a class
 * other than the SOA's are ignored with a warning; duplicate records are merged. Throws ZoneError when the zone has
 * no SOA at its apex (nothing can be answered without one). `records` may be any iterable (a generator streaming
 * from a parser or a database cursor): nothing keeps a reference to the records, only copies of their bytes.
 */
export function compileZone(origin: Name, records: Iterable<RR>): Zone {
  const b = new ZoneBuilder(origin);
  for (const rr of records) b.add(rr);
  return b.finish();
}

/** RRsets longer than this are merged through a Set of their RDATA rather than by comparing with each record. */
const LINEAR_MERGE_LIMIT = 32;

/** Size of a fresh chunk of node data (one node larger than this gets a chunk of its own). */
const CHUNK = 1 << 20;
/**
 * Staging arrays start this small and double: a server with 100,000 zones of twenty records builds 100,000 zones,
 * and zero-filled kilobytes per zone would cost more than the records.
 */
const STAGE_START = 32;

const keyScratch = Buffer.alloc(256);

/**
 * compileZone one record at a time, for callers that stream records (the zone-file parser's `onRecord`, a database
 * cursor): only compact copies of the records are kept until finish().
 */
export class ZoneBuilder {
  private readonly originKey: string;
  private readonly nodes = new Map<string, ZoneNode>();
  private readonly warnings: string[] = [];
  private soa: RR | undefined;
  private soaCount = 0;
  private readonly nsec3: RR[] = [];
  /** Records outside the zone seen before the SOA (their class decides between a warning and the class count). */
  private readonly outsideEarly: RR[] = [];
  private otherClass = 0;

  // Staged records: parallel arrays indexed by record number, chained per node in arrival order.
  private count = 0;
  private rType = new Uint16Array(STAGE_START);
  private rClass = new Uint16Array(STAGE_START);
  private rTtl = new Uint32Array(STAGE_START);
  private rOff = new Float64Array(STAGE_START);
  private rLen = new Uint16Array(STAGE_START);
  private rNext = new Int32Array(STAGE_START);
  private bytes = new Uint8Array(STAGE_START * 16);
  private bytesUsed = 0;
  // Per node (by staging index): first and last record.
  private nodeCount = 0;
  private nHead = new Int32Array(STAGE_START);
  private nTail = new Int32Array(STAGE_START);

  private lastName: Name | undefined;
  private lastKey = '';
  private lastOwner: string | undefined;
  /** The node of lastName once a record of it was staged (saves a Map lookup per record of a repeated owner). */
  private lastNode: ZoneNode | undefined;
  private finished = false;

  constructor(readonly origin: Name) {
    ownerWire(origin);
    this.originKey = lastLowerKey;
  }

  add(rr: RR): void {
    if (this.finished) throw new Error('ZoneBuilder: add() after finish()');
    const type = rr.type;
    if (type === RRType.SOA) {
      // Only the first SOA at the apex is kept; an SOA elsewhere is not zone data.
      if (this.keyOf(rr.name) !== this.originKey) return;
      this.soaCount++;
      if (this.soa) return;
      this.soa = rr;
    }
    if (isNsec3Data(rr)) {
      // NSEC3 records (and their signatures) live in a tree of their own (RFC 5155 §7.2.9): their owners are not
      // names of the zone, as in Knot.
      if (keyIsBelowOrAt(this.keyOf(rr.name), this.originKey)) this.nsec3.push({ name: rr.name, type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata.slice() });
      return;
    }
    if (isMetaType(type) || type === 0) {
      this.warnings.push(`${rr.name}: type ${type} cannot be stored in a zone; record ignored`);
      return;
    }
    this.keyOf(rr.name);
    this.addData(rr.name, type, rr.class, rr.ttl, rr.rdata, 0, rr.rdata.length);
  }

  /**
   * add() for a record of a plain type (not SOA, NSEC3 or an RRSIG over one, not a meta type) of the owner whose key
   * is `key` (and original-case wire form `wire`, when it differs), given as bytes [start, start + len) of `data`,
   * which the builder copies: the zone-file parser's fast path (RecordSink) hands records this way, without a record
   * object, an RDATA view or a Name per record.
   */
  addRaw(key: string, wire: string | undefined, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    if (this.finished) throw new Error('ZoneBuilder: addRaw() after finish()');
    if (key !== this.lastKey || this.lastName !== undefined) {
      this.lastName = undefined;
      this.lastKey = key;
      this.lastOwner = wire;
      this.lastNode = undefined;
    }
    this.addData(undefined, type, klass, ttl, data, start, len);
  }

  /** The key of `name`; the builder keeps the last one (zone files repeat owners: the parser hands the same Name). */
  private keyOf(name: Name): string {
    if (name !== this.lastName) {
      this.lastOwner = ownerWire(name);
      this.lastKey = lastLowerKey;
      this.lastName = name;
      this.lastNode = undefined;
    }
    return this.lastKey;
  }

  /** A record of the owner keyOf()/addRaw() set last (`name`: that owner, or undefined to make it from the key). */
  private addData(name: Name | undefined, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    const key = this.lastKey;
    if (this.soa !== undefined && klass !== this.soa.class) {
      this.otherClass++;
      return;
    }
    let node = this.lastNode ?? this.nodes.get(key);
    if (node === undefined) {
      if (!keyIsBelowOrAt(key, this.originKey)) {
        const owner = name ?? nameFromWire(this.lastOwner ?? key);
        if (this.soa === undefined) this.outsideEarly.push({ name: owner, type, class: klass, ttl, rdata: EMPTY });
        else this.warnings.push(`${owner} is outside the zone ${this.origin}; record ignored`);
        return;
      }
      node = new ZoneNode(key, this.lastOwner, undefined, this.newNode(), 0, 0);
      this.nodes.set(key, node);
    }
    if (node.data !== undefined) {
      // A node given encoded by a snapshot (addEncoded) takes no records: its start is a byte offset, not a staging
      // index. One encoded by the zone-file thread (addPacked) whose name comes back later in the file does.
      if (!(node.bits & PACKED)) throw new Error(`ZoneBuilder: ${name ?? nameFromWire(this.lastOwner ?? key)} was given encoded; records of it must come first`);
      this.restage(node);
    }
    this.lastNode = node;
    this.stage(node.start, type, klass, ttl, data, start, len);
  }

  /**
   * @internal A node whose RRsets are already encoded (bytes [start, end) of `data`, in the node layout; `own` its
   * HAS_* flags), as a zone snapshot (snapshot.ts) holds it. Ignored when the zone has the name already (records
   * given by add() win). False (and nothing added) when the name is outside the zone.
   */
  addEncoded(key: string, owner: string | undefined, own: number, data: Uint8Array, start: number, end: number): boolean {
    if (this.finished) throw new Error('ZoneBuilder: addEncoded() after finish()');
    if (!keyIsBelowOrAt(key, this.originKey)) return false;
    if (start >= end || this.nodes.has(key)) return true;
    this.lastName = undefined;
    this.lastNode = undefined;
    this.nodes.set(key, new ZoneNode(key, owner, data, start, end, own & (HAS_NS | HAS_DNAME | HAS_CNAME)));
    return true;
  }

  /**
   * @internal A name's records as the zone-file thread encoded them (zonefile/batch.ts with RunEncoder): bytes
   * [start, end) of `data` in the node layout, `bits` their HAS_* flags — what finish() would make of the records
   * given by add() one by one, which is what happens when the name has records already (it comes back later in the
   * file) or the zone has no SOA yet.
   */
  addPacked(key: string, owner: string | undefined, bits: number, data: Uint8Array, start: number, end: number): void {
    if (this.finished) throw new Error('ZoneBuilder: addPacked() after finish()');
    this.lastName = undefined;
    this.lastKey = key;
    this.lastOwner = owner;
    this.lastNode = undefined;
    if (this.soa !== undefined && !this.nodes.has(key) && keyIsBelowOrAt(key, this.originKey)) {
      this.nodes.set(key, new ZoneNode(key, owner, data, start, end, bits | PACKED));
      return;
    }
    forEachRecord(data, start, end, (type, klass, ttl, at, len) => this.addData(undefined, type, klass, ttl, data, at, len));
  }

  /** A node addPacked filed, turned back into staged records (its name has more of them). */
  private restage(node: ZoneNode): void {
    const data = node.data!;
    const { start, end } = node;
    node.data = undefined;
    node.bits = 0;
    node.start = this.newNode();
    node.end = 0;
    forEachRecord(data, start, end, (type, klass, ttl, at, len) => this.stage(node.start, type, klass, ttl, data, at, len));
  }

  private newNode(): number {
    const i = this.nodeCount++;
    if (i === this.nHead.length) {
      this.nHead = grow(this.nHead);
      this.nTail = grow(this.nTail);
    }
    this.nHead[i] = -1;
    return i;
  }

  private stage(node: number, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    const i = this.count++;
    if (i === this.rType.length) {
      this.rType = grow(this.rType);
      this.rClass = grow(this.rClass);
      this.rTtl = grow(this.rTtl);
      this.rOff = grow(this.rOff);
      this.rLen = grow(this.rLen);
      this.rNext = grow(this.rNext);
    }
    const used = this.bytesUsed;
    if (used + len > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < used + len) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.bytes.subarray(0, used));
      this.bytes = next;
    }
    // Short RDATA (addresses, most texts) byte by byte: a subarray view would cost more than the copy.
    if (len <= 32) {
      const bytes = this.bytes;
      for (let k = 0; k < len; k++) bytes[used + k] = data[start + k];
    } else this.bytes.set(start === 0 && len === data.length ? data : data.subarray(start, start + len), used);
    this.rType[i] = type;
    this.rClass[i] = klass;
    this.rTtl[i] = ttl;
    this.rOff[i] = this.bytesUsed;
    this.rLen[i] = len;
    this.rNext[i] = -1;
    this.bytesUsed += len;
    if (this.nHead[node] < 0) this.nHead[node] = i;
    else this.rNext[this.nTail[node]] = i;
    this.nTail[node] = i;
  }

  /** The compiled zone. The builder cannot be used afterwards. */
  finish(): Zone {
    if (this.finished) throw new Error('ZoneBuilder: finish() called twice');
    this.finished = true;
    const { origin, originKey, nodes, warnings } = this;
    const soaRecord = this.soa;
    if (!soaRecord) throw new ZoneError(origin.toString(), 'no SOA record at the apex');
    if (this.soaCount > 1) warnings.push('more than one SOA at the apex; the first is used');
    const zoneClass = soaRecord.class;
    for (const rr of this.outsideEarly) {
      if (rr.class === zoneClass) warnings.push(`${rr.name} is outside the zone ${origin}; record ignored`);
      else this.otherClass++;
    }

    // Encode every node's RRsets into the chunks; nodes left without records (other class only) are dropped.
    const enc = new Encoder(this.staged(), this.encodedBound(), zoneClass, warnings);
    const dropped: string[] = [];
    let preEncoded = 0;
    for (const node of nodes.values()) {
      // Staged nodes have no data until encoded; a snapshot's nodes come encoded (addEncoded).
      if (node.data !== undefined) preEncoded += nodeRecordCount(node);
      else if (!enc.encode(node)) dropped.push(node.key);
    }
    for (const key of dropped) nodes.delete(key);
    this.otherClass += enc.otherClass;
    if (this.otherClass > 0) warnings.push(`${this.otherClass} records of a class other than the SOA's ignored`);
    this.release();

    // A node's parent. Consecutive nodes are mostly siblings (a zone lists a parent's children together), so the last
    // parent found is tried first, by comparing the key's tail with it: most nodes need no substring and no lookup.
    let lastParent: ZoneNode | undefined;
    const parentOf = (key: string): ZoneNode | undefined => {
      const cut = key.charCodeAt(0) + 1;
      const last = lastParent;
      if (last !== undefined && last.key.length === key.length - cut && key.endsWith(last.key)) return last;
      const parent = nodes.get(key.substring(cut));
      if (parent !== undefined) lastParent = parent;
      return parent;
    };

    // Empty non-terminals: every ancestor of an existing name, up to the apex, exists (RFC 4592 §2.2.2). Nodes
    // added during the iteration are visited too; their parent exists by then, so their walk stops at once.
    for (const node of nodes.values()) {
      if (node.key === originKey || parentOf(node.key) !== undefined) continue;
      let key = node.key;
      while (key !== originKey) {
        key = keyParent(key);
        // An existing parent is either an original node (walked on its own turn) or an ENT made by an earlier walk
        // that went all the way up: either way its ancestors are covered.
        if (nodes.has(key)) break;
        nodes.set(key, new ZoneNode(key, undefined, undefined, 0, 0, EMPTY_NON_TERMINAL));
      }
    }

    // Child counts, wildcards and flags, each node settled once after its parent (so it can inherit from it): one
    // parent lookup per node, in any iteration order.
    const settle = (node: ZoneNode): void => {
      const parent = parentOf(node.key)!;
      if (!(parent.bits & SETTLED) && parent.key !== originKey) settle(parent);
      parent.kids++;
      // Only a name whose first label is "*" is its parent's wildcard; checking the key is cheaper.
      if (node.key.charCodeAt(0) === 1 && node.key.charCodeAt(1) === 0x2a) parent.wildcard = node;
      node.bits = inheritBits(node.bits, parent.bits) | SETTLED;
    };
    for (const node of nodes.values()) if (!(node.bits & SETTLED) && node.key !== originKey) settle(node);
    for (const node of nodes.values()) node.bits &= ~SETTLED;

    const nsec3 = new Map<string, RR[]>();
    for (const rr of this.nsec3) {
      if (rr.class !== zoneClass) continue;
      ownerWire(rr.name);
      const key = lastLowerKey;
      let list = nsec3.get(key);
      if (!list) nsec3.set(key, (list = []));
      if (!list.some((x) => x.type === rr.type && sameBytes(x.rdata, rr.rdata))) list.push(rr);
    }

    const apex = nodes.get(originKey)!;
    const soa = apex.rrset(RRType.SOA)!.rrs[0];
    const negativeTtl = Math.min(soa.ttl, soaMinimum(soa.rdata));
    return {
      origin,
      originKey,
      apex,
      soa,
      serial: soaSerial(soa.rdata),
      negativeTtl,
      negativeSoa: { ...soa, ttl: negativeTtl },
      nodes: new VersionedMap(nodes),
      nsec3: new VersionedMap<readonly RR[]>(nsec3),
      recordCount: enc.records + preEncoded,
      warnings,
      responseMemo: new Map(),
    };
  }

  /** Staged record fields, for the encoder. */
  staged(): Staged {
    return {
      type: this.rType, klass: this.rClass, ttl: this.rTtl, off: this.rOff, len: this.rLen, next: this.rNext,
      bytes: this.bytes, head: this.nHead,
    };
  }

  /** An upper bound of the encoded size of everything staged (each record its own RRset at worst). */
  encodedBound(): number {
    return this.bytesUsed + this.count * (2 + SET_HEADER);
  }

  private release(): void {
    const none8 = new Uint8Array(0);
    this.rType = new Uint16Array(0);
    this.rClass = new Uint16Array(0);
    this.rTtl = new Uint32Array(0);
    this.rOff = new Float64Array(0);
    this.rLen = new Uint16Array(0);
    this.rNext = new Int32Array(0);
    this.nHead = new Int32Array(0);
    this.nTail = new Int32Array(0);
    this.bytes = none8;
    this.lastName = undefined;
    this.lastNode = undefined;
    this.soa = undefined;
  }
}

const EMPTY = new Uint8Array(0);

/** @internal One RRset of a node as delta.ts handles it: the records' RDATA in order, one TTL. */
export interface RawSet {
  type: number;
  klass: number;
  ttl: number;
  rdatas: Uint8Array[];
}

/** @internal Records in the node's RRsets. */
export function nodeRecordCount(node: ZoneNode): number {
  const d = node.data;
  if (d === undefined) return 0;
  let n = 0;
  for (let p = node.start; p < node.end; ) {
    const end = p + SET_HEADER + ((d[p + 8] << 24) | (d[p + 9] << 16) | (d[p + 10] << 8) | d[p + 11]);
    for (let q = p + SET_HEADER; q < end; q += 2 + ((d[q] << 8) | d[q + 1])) n++;
    p = end;
  }
  return n;
}

/** Writes an RRset's header at `p` of `d`: type, class, TTL (its length is written when the set is complete, at p + 8). */
function writeSetHeader(d: Uint8Array, p: number, type: number, klass: number, ttl: number): void {
  d[p] = type >>> 8;
  d[p + 1] = type & 0xff;
  d[p + 2] = klass >>> 8;
  d[p + 3] = klass & 0xff;
  writeU32(d, p + 4, ttl);
}

/** The HAS_* flag an RRset of `type` gives its node (0: none). */
function typeBit(type: number): number {
  return type === RRType.NS ? HAS_NS : type === RRType.DNAME ? HAS_DNAME : type === RRType.CNAME ? HAS_CNAME : 0;
}

/** Whether an RRset of `type` may stand beside a CNAME in a compiled node (the CNAME itself, DNSSEC data of the name). */
function cnameCompanion(type: number): boolean {
  return type === RRType.CNAME || type === RRType.RRSIG || type === RRType.NSEC;
}

/**
 * @internal The node layout (see ZoneNode) of `sets`, in one fresh array, with the HAS_* flags they give. The sets
 * must be non-empty and deduplicated.
 */
export function encodeSets(sets: readonly RawSet[]): { data: Uint8Array; bits: number } {
  let size = 0;
  for (const s of sets) {
    size += SET_HEADER;
    for (const r of s.rdatas) size += 2 + r.length;
  }
  const d = new Uint8Array(size);
  let p = 0;
  let bits = 0;
  for (const s of sets) {
    const at = p;
    writeSetHeader(d, p, s.type, s.klass, s.ttl);
    p += SET_HEADER;
    for (const r of s.rdatas) {
      d[p] = r.length >>> 8;
      d[p + 1] = r.length & 0xff;
      d.set(r, p + 2);
      p += 2 + r.length;
    }
    writeU32(d, at + 8, p - at - SET_HEADER);
    bits |= typeBit(s.type);
  }
  return { data: d, bits };
}

/** Staged records (ZoneBuilder's, or RunEncoder's run): parallel arrays by record number, chained per node. */
interface Staged {
  type: Uint16Array;
  klass: Uint16Array;
  ttl: Uint32Array;
  off: Float64Array;
  len: Uint16Array;
  next: Int32Array;
  bytes: Uint8Array;
  head: Int32Array;
}

/** Calls `f` for each record of node-layout bytes [start, end) of `data`: its set's fields, its RDATA's offset and length. */
function forEachRecord(data: Uint8Array, start: number, end: number, f: (type: number, klass: number, ttl: number, at: number, len: number) => void): void {
  for (let p = start; p < end; ) {
    const type = (data[p] << 8) | data[p + 1];
    const klass = (data[p + 2] << 8) | data[p + 3];
    const ttl = readU32(data, p + 4);
    const setEnd = p + SET_HEADER + readU32(data, p + 8);
    for (let q = p + SET_HEADER; q < setEnd; ) {
      const len = (data[q] << 8) | data[q + 1];
      f(type, klass, ttl, q + 2, len);
      q += 2 + len;
    }
    p = setEnd;
  }
}

/** Turns one node's staged records into its encoded RRsets (merging duplicates, one TTL per RRset). */
class Encoder {
  private chunk: Uint8Array;
  private used = 0;
  otherClass = 0;
  records = 0;
  // Scratch per node, reset by count (no array is emptied): the distinct types in first-seen order and, per type,
  // its unique records chained in arrival order: first, last and count per type; per kept record (by its index
  // within the node) the staged record and the next of its type.
  private types = 0;
  private typeOf = new Int32Array(16);
  private first = new Int32Array(16);
  private last = new Int32Array(16);
  private count = new Int32Array(16);
  private rec = new Int32Array(64);
  private link = new Int32Array(64);
  /** Per type slot, once its RRset is long: the RDATA of its records as strings, so that merging stays linear. */
  private readonly seen: (Set<string> | undefined)[] = [];

  /**
   * `s`: the staged records (replaced by RunEncoder when its arrays grow); `boundLeft`: the bytes the nodes not yet
   * encoded can need at most — chunks are never larger than that.
   */
  constructor(
    public s: Staged,
    private boundLeft: number,
    private readonly zoneClass: number,
    private readonly warnings: string[],
  ) {
    // A small zone gets one chunk of its own size, not a megabyte that its nodes would keep alive.
    this.chunk = new Uint8Array(Math.min(CHUNK, boundLeft));
  }

  /** False when the node ends up with no records. */
  encode(node: ZoneNode): boolean {
    const size = this.collect(node.start);
    if (size < 0) return false;
    if (this.used + size > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(size, Math.min(CHUNK, this.boundLeft)));
      this.used = 0;
    }
    this.boundLeft -= size;
    const start = this.used;
    this.used = this.write(node, this.chunk, start);
    node.data = this.chunk;
    node.start = start;
    node.end = this.used;
    return true;
  }

  /**
   * The staged records of node `head` (a staging index) grouped by type, duplicates left out: the encoded size, or -1
   * when no record of the zone's class is left.
   */
  collect(head: number): number {
    const s = this.s;
    let types = 0;
    let kept = 0;
    let size = 0;
    for (let r = s.head[head]; r >= 0; r = s.next[r]) {
      if (s.klass[r] !== this.zoneClass) {
        this.otherClass++;
        continue;
      }
      const type = s.type[r];
      let t = 0;
      while (t < types && this.typeOf[t] !== type) t++;
      if (t === types) {
        if (t === this.typeOf.length) this.growTypes();
        types++;
        this.typeOf[t] = type;
        this.first[t] = -1;
        this.count[t] = 0;
        this.seen[t] = undefined;
        size += SET_HEADER;
      }
      if (this.isDuplicate(t, r)) continue;
      if (kept === this.rec.length) {
        this.rec = grow(this.rec);
        this.link = grow(this.link);
      }
      const i = kept++;
      this.rec[i] = r;
      this.link[i] = -1;
      if (this.first[t] < 0) this.first[t] = i;
      else this.link[this.last[t]] = i;
      this.last[t] = i;
      this.count[t]++;
      size += 2 + s.len[r];
    }
    this.types = types;
    return types === 0 ? -1 : size;
  }

  /** Writes what collect() gathered at `p` of `d` (room for its size) and sets the node's HAS_* bits: the end. */
  write(node: ZoneNode, d: Uint8Array, p: number): number {
    const s = this.s;
    const types = this.types;
    const rec = this.rec;
    const link = this.link;
    let bits = 0;
    for (let t = 0; t < types; t++) {
      const type = this.typeOf[t];
      const ttl = s.ttl[rec[this.last[t]]];
      // One TTL per RRset (RFC 2181 §5.2). When the records disagree, the last one's TTL is used for all, as Knot's
      // zone loader does.
      // (Signatures at one name cover RRsets of different TTLs: theirs are the covered RRsets', see decodeSet.)
      if (type !== RRType.RRSIG) for (let i = this.first[t]; i >= 0; i = link[i]) {
        if (s.ttl[rec[i]] !== ttl) {
          this.warnings.push(`${node.name} type ${type}: records with different TTLs; TTL set to ${ttl} (RFC 2181 §5.2)`);
          break;
        }
      }
      const headerAt = p;
      writeSetHeader(d, p, type, this.zoneClass, ttl);
      p += SET_HEADER;
      for (let i = this.first[t]; i >= 0; i = link[i]) {
        const r = rec[i];
        const len = s.len[r];
        const off = s.off[r];
        d[p] = len >>> 8;
        d[p + 1] = len & 0xff;
        // Short RDATA byte by byte: a subarray view per record would cost more than the copy.
        if (len <= 32) for (let k = 0; k < len; k++) d[p + 2 + k] = s.bytes[off + k];
        else d.set(s.bytes.subarray(off, off + len), p + 2);
        p += 2 + len;
      }
      writeU32(d, headerAt + 8, p - headerAt - SET_HEADER);
      this.records += this.count[t];
      bits |= typeBit(type);
    }
    node.bits = bits;
    if (types > 1 && bits & HAS_CNAME) {
      for (let t = 0; t < types; t++) {
        if (!cnameCompanion(this.typeOf[t])) {
          this.warnings.push(`${node.name}: CNAME beside other data (RFC 1034 §3.6.2)`);
          break;
        }
      }
    }
    return p;
  }

  private growTypes(): void {
    this.typeOf = grow(this.typeOf);
    this.first = grow(this.first);
    this.last = grow(this.last);
    this.count = grow(this.count);
  }

  /** Record r repeats one already kept for type slot t (same RDATA). */
  private isDuplicate(t: number, r: number): boolean {
    const s = this.s;
    const len = s.len[r];
    const off = s.off[r];
    const bytes = s.bytes;
    if (this.count[t] >= LINEAR_MERGE_LIMIT) {
      // A large RRset (thousands of addresses on one name): a set of RDATA strings, or merging would be quadratic.
      let seen = this.seen[t];
      if (seen === undefined) {
        seen = new Set();
        for (let i = this.first[t]; i >= 0; i = this.link[i]) {
          const x = this.rec[i];
          seen.add(latin1(bytes, s.off[x], s.off[x] + s.len[x]));
        }
        this.seen[t] = seen;
      }
      const key = latin1(bytes, off, off + len);
      if (seen.has(key)) return true;
      seen.add(key);
      return false;
    }
    // A linear scan keeps the common case (a handful of records) allocation-free.
    for (let i = this.first[t]; i >= 0; i = this.link[i]) {
      const x = this.rec[i];
      if (s.len[x] !== len) continue;
      const xo = s.off[x];
      let k = 0;
      while (k < len && bytes[xo + k] === bytes[off + k]) k++;
      if (k === len) return true;
    }
    return false;
  }
}

/** Records one run may hold: a longer one goes as records (the builder merges large RRsets through a Set). */
const RUN_MAX = 64;

/**
 * One name's records encoded in the node layout away from the ZoneBuilder, by the builder's own Encoder: the zone-file
 * thread encodes each run of records of one owner this way (zonefile/batch.ts), so that the thread compiling the zone
 * only files the node (ZoneBuilder.addPacked). A run the builder would have something to say about — a record of
 * another class than the zone's, an RRset whose records have different TTLs, a CNAME beside other data — is declined:
 * it goes to the builder as records, which says it.
 */
export class RunEncoder {
  private readonly s: Staged;
  private count = 0;
  private bytesUsed = 0;
  private readonly warnings: string[] = [];
  private readonly encoder: Encoder;
  /** Stands for the run's node in the Encoder (the warnings that decline a run name it). */
  private readonly node = new ZoneNode(ROOT_KEY, undefined, undefined, 0, 0, 0);
  // Streaming (after begin()): the run written straight to its place in the output as its records come, while they
  // come one type after another, each type with one TTL and the zone's class — the common case, in which staging,
  // grouping and writing come to these same bytes. Any other record turns what was written into staged records
  // (unstream) and the Encoder decides, as for any run.
  private out: Uint8Array | undefined;
  private at = 0;
  private pos = 0;
  private setAt = -1;
  private setType = -1;
  private setTtl = 0;
  private readonly typesSeen = new Int32Array(RUN_MAX);
  private typeCount = 0;
  private streamBits = 0;

  constructor(private readonly zoneClass: number) {
    this.s = {
      type: new Uint16Array(RUN_MAX),
      klass: new Uint16Array(RUN_MAX),
      ttl: new Uint32Array(RUN_MAX),
      off: new Float64Array(RUN_MAX),
      len: new Uint16Array(RUN_MAX),
      next: new Int32Array(RUN_MAX),
      bytes: new Uint8Array(4096),
      head: new Int32Array(1),
    };
    this.encoder = new Encoder(this.s, 0, zoneClass, this.warnings);
  }

  /** A new run, whose encoding is to go at `at` of `out` (where encodeInto will be asked to put it). */
  begin(out: Uint8Array, at: number): void {
    this.reset();
    this.out = out;
    this.at = at;
    this.pos = at;
    this.setAt = -1;
    this.setType = -1;
    this.typeCount = 0;
    this.streamBits = 0;
  }

  /** Adds a record (RDATA bytes [start, start + len) of `data`, copied) to the run; false when the run is too long. */
  add(type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): boolean {
    const out = this.out;
    if (out !== undefined) {
      if (this.stream(out, type, klass, ttl, data, start, len)) return true;
      this.unstream();
    }
    const i = this.count;
    if (i === RUN_MAX) return false;
    const s = this.s;
    const used = this.bytesUsed;
    if (used + len > s.bytes.length) {
      const next = new Uint8Array(Math.max(s.bytes.length * 2, used + len));
      next.set(s.bytes.subarray(0, used));
      s.bytes = next;
    }
    const bytes = s.bytes;
    for (let k = 0; k < len; k++) bytes[used + k] = data[start + k];
    s.type[i] = type;
    s.klass[i] = klass;
    s.ttl[i] = ttl;
    s.off[i] = used;
    s.len[i] = len;
    s.next[i] = -1;
    if (i === 0) s.head[0] = 0;
    else s.next[i - 1] = i;
    this.count = i + 1;
    this.bytesUsed = used + len;
    return true;
  }

  /** The record written at `pos` while streaming lasts: false when it cannot be (the caller unstreams). */
  private stream(out: Uint8Array, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): boolean {
    if (klass !== this.zoneClass || this.count === RUN_MAX) return false;
    let p = this.pos;
    if (type === this.setType) {
      if (ttl !== this.setTtl) return false;
      // A record the set has already is left out, as the Encoder merges it.
      for (let q = this.setAt + SET_HEADER; q < p; ) {
        const l = (out[q] << 8) | out[q + 1];
        if (l === len) {
          let k = 0;
          while (k < len && out[q + 2 + k] === data[start + k]) k++;
          if (k === len) return true;
        }
        q += 2 + l;
      }
      if (p + 2 + len > out.length) return false;
    } else {
      for (let t = 0; t < this.typeCount; t++) if (this.typesSeen[t] === type) return false;
      if (p + SET_HEADER + 2 + len > out.length) return false;
      this.closeSet();
      this.setAt = p;
      this.setType = type;
      this.setTtl = ttl;
      this.typesSeen[this.typeCount++] = type;
      writeSetHeader(out, p, type, klass, ttl);
      p += SET_HEADER;
      this.streamBits |= typeBit(type);
    }
    out[p] = len >>> 8;
    out[p + 1] = len & 0xff;
    for (let k = 0; k < len; k++) out[p + 2 + k] = data[start + k];
    this.pos = p + 2 + len;
    this.count++;
    return true;
  }

  /** The open RRset's length written into its header. */
  private closeSet(): void {
    if (this.setAt >= 0) writeU32(this.out!, this.setAt + 8, this.pos - this.setAt - SET_HEADER);
  }

  /** Streaming ends: the records written so far become staged records (in the order written, which groups them as before). */
  private unstream(): void {
    const out = this.out!;
    this.closeSet();
    this.out = undefined;
    this.count = 0;
    this.bytesUsed = 0;
    forEachRecord(out, this.at, this.pos, (type, klass, ttl, q, len) => this.add(type, klass, ttl, out, q, len));
  }

  /** Bytes the run's encoding needs at most. */
  bound(): number {
    return this.out !== undefined ? this.pos - this.at : this.bytesUsed + this.count * (2 + SET_HEADER);
  }

  /**
   * Encodes the run at `at` of `out` (room for bound() bytes; begin()'s place, when it was called) and empties it: the
   * encoding's end. Or -1 when the run is declined (nothing to use is written then): it is kept, for replay().
   */
  encodeInto(out: Uint8Array, at: number): number {
    if (this.out !== undefined) {
      if (this.count > 0 && !this.cnameBeside()) {
        this.closeSet();
        const end = this.pos;
        this.node.bits = this.streamBits;
        this.reset();
        return end;
      }
      this.unstream();
    }
    const enc = this.encoder;
    enc.otherClass = 0;
    if (this.count === 0 || enc.collect(0) < 0 || enc.otherClass > 0) return -1;
    const end = enc.write(this.node, out, at);
    if (this.warnings.length > 0) {
      this.warnings.length = 0;
      return -1;
    }
    this.reset();
    return end;
  }

  /** The streamed run has a CNAME beside other data (the Encoder's warning: its way declines the run). */
  private cnameBeside(): boolean {
    if (!(this.streamBits & HAS_CNAME) || this.typeCount < 2) return false;
    for (let t = 0; t < this.typeCount; t++) if (!cnameCompanion(this.typesSeen[t])) return true;
    return false;
  }

  /** The run's records, in the order added (each as its RDATA's place in a buffer of the encoder's). */
  replay(f: (type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number) => void): void {
    const out = this.out;
    if (out !== undefined) {
      this.closeSet();
      forEachRecord(out, this.at, this.pos, (type, klass, ttl, q, len) => f(type, klass, ttl, out, q, len));
      return;
    }
    const s = this.s;
    for (let i = 0; i < this.count; i++) f(s.type[i], s.klass[i], s.ttl[i], s.bytes, s.off[i], s.len[i]);
  }

  /** The HAS_* flags of the run encodeInto encoded last. */
  get bits(): number {
    return this.node.bits;
  }

  /** Empties the run. */
  reset(): void {
    this.count = 0;
    this.bytesUsed = 0;
    this.out = undefined;
  }
}

function grow<T extends Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T): T {
  const next = new (a.constructor as new (n: number) => T)(a.length * 2);
  next.set(a as never);
  return next;
}

/** Set by ownerWire: the lower-case wire key of the name it was given. */
let lastLowerKey = '';

/**
 * The wire key of `name` (left in lastLowerKey, to avoid an allocation per call) and, when the name has upper-case
 * letters, its original-case wire form (else undefined).
 */
function ownerWire(name: Name): string | undefined {
  const wire = name.toWire();
  const lower = keyScratch;
  let upper = false;
  // Length octets are < 64: lowering every octet of the wire form leaves them as they are.
  for (let p = 0; p < wire.length; p++) {
    const c = wire[p];
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      lower[p] = c | 0x20;
    } else lower[p] = c;
  }
  lastLowerKey = latin1String(lower, wire.length);
  return upper ? latin1String(wire, wire.length) : undefined;
}

function latin1String(b: Uint8Array, n: number): string {
  return latin1(b, 0, n);
}

/** @internal The wire key of `name` and, when it has upper-case letters, its original-case wire form. */
export function nameForms(name: Name): { key: string; owner: string | undefined } {
  const owner = ownerWire(name);
  return { key: lastLowerKey, owner };
}

/** @internal An NSEC3 record or an RRSIG over one: kept apart from the names of the zone. */
export function isNsec3Data(rr: RR): boolean {
  if (rr.type === RRType.NSEC3) return true;
  // RRSIG RDATA starts with the type covered.
  return rr.type === RRType.RRSIG && rr.rdata.length >= 2 && ((rr.rdata[0] << 8) | rr.rdata[1]) === RRType.NSEC3;
}

function soaFields(rdata: Uint8Array): WireReader {
  const r = new WireReader(rdata);
  r.name();
  r.name();
  return r;
}

/** MINIMUM of SOA RDATA (internal form). */
export function soaMinimum(rdata: Uint8Array): number {
  const r = soaFields(rdata);
  r.bytes(16);
  return r.u32();
}
