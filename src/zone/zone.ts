// An immutable, compiled snapshot of one zone: nodes keyed on their wire key (see key.ts), each holding its RRsets
// and the flags the lookup needs, computed once by a precompute pass (delegation points, names below a cut or a
// DNAME, empty non-terminals, wildcard children). Pure: no I/O.

import { RRType, isMetaType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { WireReader } from '../dns/wire.js';
import { keyIsBelowOrAt, keyParent, wireKey } from './key.js';

export interface RRset {
  /** Owner name as written in the zone (original case). */
  readonly name: Name;
  readonly type: number;
  /** The records, deduplicated, in the order given. */
  readonly rrs: readonly RR[];
}

/**
 * The RRsets of one node by type: the read side of a Map, backed by a small array (a node rarely has more than a
 * few types, and a Map per node costs several times the memory of the records of a typical name).
 */
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

export interface ZoneNode {
  readonly name: Name;
  readonly key: string;
  /** RRsets by type; empty for an empty non-terminal. */
  readonly rrsets: RRsets;
  /** NS here and not the apex: a zone cut (RFC 1034 §4.2.1). */
  readonly delegation: boolean;
  /** A strict ancestor inside the zone is a zone cut: this node's data is glue/occluded, never answered with AA. */
  readonly belowCut: boolean;
  /** A strict ancestor inside the zone has a DNAME: the node is occluded (RFC 6672 §2.4). */
  readonly belowDname: boolean;
  /** No RRsets: exists only because names below it exist (RFC 4592 §2.2.2). */
  readonly emptyNonTerminal: boolean;
  /** The "*.<this>" node, when the zone has one (source of synthesis, RFC 4592). */
  readonly wildcard: ZoneNode | undefined;
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

interface BuildingRRset {
  name: Name;
  type: number;
  rrs: RR[];
}

interface MutableNode {
  name: Name;
  key: string;
  rrsets: RRsets;
  /** The RRsets while records are being added. */
  building: BuildingRRset[] | undefined;
  delegation: boolean;
  belowCut: boolean;
  belowDname: boolean;
  emptyNonTerminal: boolean;
  wildcard: ZoneNode | undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Build the snapshot of the zone `origin` from its records. Records outside the zone, of meta types or of a class
 * other than the SOA's are ignored with a warning; duplicate records are merged. Throws ZoneError when the zone has
 * no SOA at its apex (nothing can be answered without one).
 */
export function compileZone(origin: Name, records: readonly RR[]): Zone {
  const originKey = wireKey(origin);
  const warnings: string[] = [];
  const nodes = new Map<string, MutableNode>();

  // The SOA first: its class is the zone's class.
  let soa: RR | undefined;
  let soaCount = 0;
  for (const rr of records) {
    if (rr.type === RRType.SOA && wireKey(rr.name) === originKey) {
      soaCount++;
      soa ??= rr;
    }
  }
  if (!soa) throw new ZoneError(origin.toString(), 'no SOA record at the apex');
  if (soaCount > 1) warnings.push('more than one SOA at the apex; the first is used');
  const zoneClass = soa.class;

  // Group records into nodes and RRsets.
  const nsec3 = new Map<string, RR[]>();
  let otherClass = 0;
  let lastName: Name | undefined;
  let lastKey = '';
  for (const rr of records) {
    if (rr.type === RRType.SOA && rr !== soa) continue;
    // Zone files repeat owners: the parser hands the same Name object for consecutive records of one owner.
    const key = rr.name === lastName ? lastKey : wireKey(rr.name);
    lastName = rr.name;
    lastKey = key;
    if (isNsec3Data(rr)) {
      // NSEC3 records (and their signatures) live in a tree of their own (RFC 5155 §7.2.9): their owners are not
      // names of the zone, as in Knot.
      if (rr.class !== zoneClass || !keyIsBelowOrAt(key, originKey)) continue;
      let list = nsec3.get(key);
      if (!list) nsec3.set(key, (list = []));
      if (!list.some((x) => x.type === rr.type && sameBytes(x.rdata, rr.rdata))) list.push(rr);
      continue;
    }
    if (isMetaType(rr.type) || rr.type === 0) {
      warnings.push(`${rr.name}: type ${rr.type} cannot be stored in a zone; record ignored`);
      continue;
    }
    if (rr.class !== zoneClass) {
      otherClass++;
      continue;
    }
    let node = nodes.get(key);
    if (!node) {
      if (!keyIsBelowOrAt(key, originKey)) {
        warnings.push(`${rr.name} is outside the zone ${origin}; record ignored`);
        continue;
      }
      // Array literals are allocated at their exact size (push on an empty array reserves 16 slots).
      node = {
        name: rr.name, key, rrsets: NO_RRSETS, building: [{ name: rr.name, type: rr.type, rrs: [compact(rr, rr.name)] }],
        delegation: false, belowCut: false, belowDname: false, emptyNonTerminal: false, wildcard: undefined,
      };
      nodes.set(key, node);
      continue;
    }
    const building = node.building!;
    let set: BuildingRRset | undefined;
    for (let i = 0; i < building.length; i++) if (building[i].type === rr.type) set = building[i];
    if (!set) building.push({ name: node.name, type: rr.type, rrs: [compact(rr, node.name)] });
    else if (!set.rrs.some((x) => sameBytes(x.rdata, rr.rdata))) set.rrs.push(compact(rr, node.name));
  }
  if (otherClass > 0) warnings.push(`${otherClass} records of a class other than the SOA's ignored`);
  for (const node of nodes.values()) {
    const building = node.building!;
    node.building = undefined;
    // Trim arrays that grew by push to their length: a large zone keeps millions of them.
    for (const set of building) set.rrs = sameTtl(set.rrs.length > 1 ? set.rrs.slice() : set.rrs, warnings);
    node.rrsets = new RRsets(building.length > 1 ? building.slice() : building);
    if (building.length > 1 && node.rrsets.has(RRType.CNAME)) {
      for (const set of building) {
        if (set.type !== RRType.CNAME && set.type !== RRType.RRSIG && set.type !== RRType.NSEC) {
          warnings.push(`${node.name}: CNAME beside other data (RFC 1034 §3.6.2)`);
          break;
        }
      }
    }
  }

  // Empty non-terminals: every ancestor of an existing name, up to the apex, exists (RFC 4592 §2.2.2).
  const originLabels = origin.labelCount;
  for (const node of [...nodes.values()]) {
    let key = node.key;
    let up = 0;
    while (key !== originKey) {
      key = keyParent(key);
      up++;
      // An existing parent is either an original node (walked on its own turn) or an ENT made by an earlier walk
      // that went all the way up: either way its ancestors are covered.
      if (nodes.has(key)) break;
      nodes.set(key, {
        name: node.name.parent(up), key, rrsets: NO_RRSETS, building: undefined, delegation: false, belowCut: false,
        belowDname: false, emptyNonTerminal: true, wildcard: undefined,
      });
    }
  }

  // Flags. Processing nodes by increasing depth lets each node inherit from its parent, already final.
  const byDepth: MutableNode[][] = [];
  for (const node of nodes.values()) {
    const d = node.name.labelCount - originLabels;
    (byDepth[d] ??= []).push(node);
  }
  for (let d = 1; d < byDepth.length; d++) {
    for (const node of byDepth[d] ?? []) {
      const parent = nodes.get(keyParent(node.key))!;
      node.belowCut = parent.belowCut || parent.delegation;
      node.belowDname = parent.belowDname || parent.rrsets.has(RRType.DNAME);
      node.delegation = node.rrsets.has(RRType.NS);
    }
  }
  for (const node of nodes.values()) {
    // Only a name whose first label is "*"'s parent can have a wildcard child; checking the key is cheaper.
    if (node.key.charCodeAt(0) === 1 && node.key.charCodeAt(1) === 0x2a) {
      const parent = nodes.get(keyParent(node.key));
      if (parent) parent.wildcard = node;
    }
  }

  soa = nodes.get(originKey)!.rrsets.get(RRType.SOA)!.rrs[0];
  const soaTtl = soa.ttl;
  const minimum = soaMinimum(soa.rdata);
  const negativeTtl = Math.min(soaTtl, minimum);
  return {
    origin,
    originKey,
    apex: nodes.get(originKey)!,
    soa,
    serial: soaSerial(soa.rdata),
    negativeTtl,
    negativeSoa: { ...soa, ttl: negativeTtl },
    nodes,
    nsec3,
    warnings,
    responseMemo: new Map(),
  };
}

/**
 * The record as the zone keeps it: the five RR fields only (no parser annotations) and the node's Name shared by all
 * its records, so the caller's record objects and their per-record Names can be freed.
 */
function compact(rr: RR, name: Name): RR {
  return { name, type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata };
}

function isNsec3Data(rr: RR): boolean {
  if (rr.type === RRType.NSEC3) return true;
  // RRSIG RDATA starts with the type covered.
  return rr.type === RRType.RRSIG && rr.rdata.length >= 2 && ((rr.rdata[0] << 8) | rr.rdata[1]) === RRType.NSEC3;
}

/**
 * One TTL per RRset (RFC 2181 §5.2). When the records disagree, the last one's TTL is used for all, as Knot's zone
 * loader does.
 */
function sameTtl(rrs: RR[], warnings: string[]): RR[] {
  const ttl = rrs[rrs.length - 1].ttl;
  if (rrs.every((r) => r.ttl === ttl)) return rrs;
  warnings.push(`${rrs[0].name} type ${rrs[0].type}: records with different TTLs; TTL set to ${ttl} (RFC 2181 §5.2)`);
  return rrs.map((r) => (r.ttl === ttl ? r : { ...r, ttl }));
}

function soaFields(rdata: Uint8Array): WireReader {
  const r = new WireReader(rdata);
  r.name();
  r.name();
  return r;
}

/** SERIAL of SOA RDATA (internal form). */
export function soaSerial(rdata: Uint8Array): number {
  return soaFields(rdata).u32();
}

/** MINIMUM of SOA RDATA (internal form). */
export function soaMinimum(rdata: Uint8Array): number {
  const r = soaFields(rdata);
  r.bytes(16);
  return r.u32();
}
