// A new zone snapshot from an old one and a change, in time proportional to the change: only the nodes the change
// touches are copied (copy-on-write), with whatever precomputed data depends on them — empty non-terminals that
// appear or go, parents' child counts and wildcard pointers, delegation and DNAME flags of the names below a node
// whose NS or DNAME came or went. The old snapshot stays valid and unchanged (the node maps are versioned, see
// versioned-map.ts), so a query sees the old or the new zone, never a mix. Pure: no I/O.
//
// What is not precomputed here needs no invalidation: answers (with their additional section, which depends on
// other names: the addresses of NS/MX/SRV targets) are assembled from the snapshot when first asked, and the
// server's memo of them is per zone version (server/query.ts: an entry is stale once its zone is replaced), so a
// changed address at ns1 is in the next answer of every name whose NS points at it.
//
// The new snapshot's `warnings` are those of the patch itself (the touched owners), not the zone's accumulated ones.
//
// The result equals compileZone over the new records: patchZone is exact by construction (each touched owner comes
// with its complete new record list); patchZoneRecords (records removed and added) is exact when every RRset keeps
// one TTL and every owner one spelling, since a compiled node keeps neither per-record TTLs nor per-record case.

import { isMetaType, RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { soaSerial } from '../dns/serial.js';
import { carryDnssecOrder } from './dnssec-answer.js';
import { keyIsBelowOrAt, keyLabelCount, keyParent, latin1, wildcardKey } from './key.js';
import { VersionedMap } from './versioned-map.js';
import {
  EMPTY_NON_TERMINAL,
  encodeSets,
  HAS_DNAME,
  HAS_NS,
  inheritBits,
  isNsec3Data,
  nameForms,
  nodeRecordCount,
  type RawSet,
  soaMinimum,
  type Zone,
  ZoneError,
  ZoneNode,
} from './zone.js';

/** One owner's complete record list in the new version (empty: the owner has no records left). */
export interface OwnerRecords {
  name: Name;
  records: readonly RR[];
}

export interface ZonePatch {
  /** The owners that change, each with every record it has in the new version (NSEC3 data included). */
  owners: Iterable<OwnerRecords>;
  /** The new SOA. Absent: the first apex SOA among the owners' records, else the zone's. */
  soa?: RR;
}

export interface RecordDelta {
  /** Records taken out, matched on owner, type and RDATA (TTL and case of the owner ignored). SOA records ignored. */
  removed: Iterable<RR>;
  /** Records put in (appended to their RRset; one already there changes nothing). */
  added: Iterable<RR>;
  /** The new SOA. Absent: the first apex SOA among `added`, else the zone's. */
  soa?: RR;
}

/**
 * The zone after replacing the records of some owners (and the SOA). Cost: the touched owners' records and a few
 * map operations per touched name, plus, only when a name that has names below it gains or loses its NS or DNAME
 * RRset, the names below it. Throws ZoneError for an SOA of another class.
 */
export function patchZone(zone: Zone, patch: ZonePatch): Zone {
  const p = new Patcher(zone);
  for (const o of patch.owners) p.setOwner(o.name, o.records);
  return p.finish(patch.soa);
}

/**
 * The zone after removing and adding records: each touched owner's new list is its records in the zone, without the
 * removed ones, followed by the added ones — what compileZone would be given by a store that appends new records.
 */
export function patchZoneRecords(zone: Zone, delta: RecordDelta): Zone {
  const touched = new Map<string, { name: Name; removed: Set<string>; added: RR[] }>();
  const entry = (name: Name) => {
    const { key } = nameForms(name);
    let e = touched.get(key);
    if (!e) touched.set(key, (e = { name, removed: new Set(), added: [] }));
    return e;
  };
  for (const rr of delta.removed) if (rr.type !== RRType.SOA) entry(rr.name).removed.add(recordId(rr));
  let soa = delta.soa;
  for (const rr of delta.added) {
    if (rr.type === RRType.SOA) {
      if (soa === undefined && nameForms(rr.name).key === zone.originKey) soa = rr;
      continue;
    }
    entry(rr.name).added.push(rr);
  }
  const owners: OwnerRecords[] = [];
  for (const [key, e] of touched) {
    const node = zone.nodes.get(key);
    const records: RR[] = [];
    if (node !== undefined) for (const set of node.rrsets.values()) for (const rr of set.rrs) if (!e.removed.has(recordId(rr))) records.push(rr);
    for (const rr of zone.nsec3.get(key) ?? []) if (!e.removed.has(recordId(rr))) records.push(rr);
    records.push(...e.added);
    owners.push({ name: records.length > 0 ? records[0].name : e.name, records });
  }
  return patchZone(zone, { owners, ...(soa ? { soa } : {}) });
}

function recordId(rr: RR): string {
  return `${rr.type}:${latin1(rr.rdata, 0, rr.rdata.length)}`;
}

/** RRsets longer than this are deduplicated through a Set of their RDATA (as the compiler does). */
const LINEAR_MERGE_LIMIT = 32;

class Patcher {
  private readonly base: VersionedMap<ZoneNode>;
  /** New state of touched names: a node, or undefined once the name is gone. */
  private readonly changes = new Map<string, ZoneNode | undefined>();
  /** Nodes made during this patch: private to it, so changed in place. */
  private readonly fresh = new Set<ZoneNode>();
  private readonly nsec3Changes = new Map<string, readonly RR[] | undefined>();
  private readonly originKey: string;
  private readonly zoneClass: number;
  private readonly warnings: string[] = [];
  private recordDelta = 0;
  /** The apex's new RRsets other than the SOA, when the apex owner was replaced. */
  private apexSets: RawSet[] | undefined;
  private apexSoa: RR | undefined;

  constructor(private readonly zone: Zone) {
    this.originKey = zone.originKey;
    this.zoneClass = zone.soa.class;
    const nodes = zone.nodes;
    // A zone built by hand with a plain Map is copied once; compiled and patched zones share theirs.
    this.base = nodes instanceof VersionedMap ? (nodes as VersionedMap<ZoneNode>) : new VersionedMap(new Map(nodes));
  }

  private get(key: string): ZoneNode | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.base.get(key);
  }

  /** The node at `key` (which must exist), copied into this patch unless it already was. */
  private writable(key: string): ZoneNode {
    const cur = this.get(key)!;
    if (this.fresh.has(cur)) return cur;
    const copy = new ZoneNode(key, cur.owner, cur.data, cur.start, cur.end, cur.bits);
    copy.kids = cur.kids;
    copy.wildcard = this.get(wildcardKey(key));
    this.put(copy);
    return copy;
  }

  /** Install a node made in this patch; a wildcard node is also its parent's wildcard. */
  private put(node: ZoneNode): void {
    this.fresh.add(node);
    this.changes.set(node.key, node);
    if (isWildcardKey(node.key)) this.writable(keyParent(node.key)).wildcard = node;
  }

  setOwner(name: Name, records: readonly RR[]): void {
    const { key } = nameForms(name);
    if (!keyIsBelowOrAt(key, this.originKey)) {
      if (records.length > 0) this.warnings.push(`${name} is outside the zone ${this.zone.origin}; records ignored`);
      return;
    }
    const isApex = key === this.originKey;
    const kept: RR[] = [];
    const nsec3: RR[] = [];
    for (const rr of records) {
      if (rr.type === RRType.SOA) {
        // Only the apex SOA is zone data, and it goes through finish().
        if (isApex && this.apexSoa === undefined) this.apexSoa = rr;
      } else if (isNsec3Data(rr)) {
        if (rr.class === this.zoneClass && !nsec3.some((x) => x.type === rr.type && sameBytes(x.rdata, rr.rdata)))
          nsec3.push({ name: rr.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata.slice() });
      } else if (isMetaType(rr.type) || rr.type === 0) {
        this.warnings.push(`${rr.name}: type ${rr.type} cannot be stored in a zone; record ignored`);
      } else if (rr.class === this.zoneClass) kept.push(rr);
    }
    if (nsec3.length > 0 || this.zone.nsec3.get(key) !== undefined || this.nsec3Changes.has(key))
      this.nsec3Changes.set(key, nsec3.length > 0 ? nsec3 : undefined);
    const sets = this.buildSets(kept);
    if (isApex) {
      this.apexSets = sets;
      return;
    }
    this.setContent(key, kept.length > 0 ? nameForms(kept[0].name).owner : undefined, sets);
  }

  /** Group records into RRsets: types in first-seen order, duplicates folded, the last record's TTL for the set. */
  private buildSets(records: readonly RR[]): RawSet[] {
    const sets: RawSet[] = [];
    const seen: (Set<string> | undefined)[] = [];
    const ttls: number[][] = [];
    for (const rr of records) {
      let i = 0;
      while (i < sets.length && sets[i].type !== rr.type) i++;
      if (i === sets.length) {
        sets.push({ type: rr.type, klass: rr.class, ttl: rr.ttl, rdatas: [] });
        ttls.push([]);
        seen.push(undefined);
      }
      const set = sets[i];
      if (set.rdatas.length >= LINEAR_MERGE_LIMIT) {
        let s = seen[i];
        if (s === undefined) {
          s = new Set(set.rdatas.map((r) => latin1(r, 0, r.length)));
          seen[i] = s;
        }
        const k = latin1(rr.rdata, 0, rr.rdata.length);
        if (s.has(k)) continue;
        s.add(k);
      } else if (set.rdatas.some((r) => sameBytes(r, rr.rdata))) continue;
      set.rdatas.push(rr.rdata);
      ttls[i].push(rr.ttl);
      set.ttl = rr.ttl;
    }
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i];
      if (set.type !== RRType.RRSIG && ttls[i].some((t) => t !== set.ttl))
        this.warnings.push(`${records[0].name} type ${set.type}: records with different TTLs; TTL set to ${set.ttl} (RFC 2181 §5.2)`);
    }
    if (sets.length > 1 && sets.some((s) => s.type === RRType.CNAME)) {
      if (sets.some((s) => s.type !== RRType.CNAME && s.type !== RRType.RRSIG && s.type !== RRType.NSEC))
        this.warnings.push(`${records[0].name}: CNAME beside other data (RFC 1034 §3.6.2)`);
    }
    return sets;
  }

  /** Give the name `key` (not the apex) the RRsets `sets` (none: it loses its records). */
  private setContent(key: string, owner: string | undefined, sets: readonly RawSet[]): void {
    const old = this.get(key);
    const oldRecords = old === undefined ? 0 : nodeRecordCount(old);
    if (sets.length === 0) {
      if (old === undefined || old.isEmpty) return;
      this.recordDelta -= oldRecords;
      if (old.kids > 0) {
        // Names below keep it in existence as an empty non-terminal (RFC 4592 §2.2.2), owner in lower case.
        const n = this.writable(key);
        n.owner = undefined;
        n.data = undefined;
        n.start = n.end = 0;
        n.bits = EMPTY_NON_TERMINAL;
      } else this.remove(key);
      return;
    }
    let records = 0;
    for (const s of sets) records += s.rdatas.length;
    this.recordDelta += records - oldRecords;
    const enc = encodeSets(sets);
    if (old !== undefined) {
      const n = this.writable(key);
      n.owner = owner;
      n.data = enc.data;
      n.start = 0;
      n.end = enc.data.length;
      n.bits = enc.bits;
      return;
    }
    this.ensureParent(key);
    this.put(new ZoneNode(key, owner, enc.data, 0, enc.data.length, enc.bits));
  }

  /** The parent of `key` exists (made an empty non-terminal, with its own ancestors, if need be) and counts it. */
  private ensureParent(key: string): void {
    const parentKey = keyParent(key);
    if (this.get(parentKey) === undefined) {
      this.ensureParent(parentKey);
      this.put(new ZoneNode(parentKey, undefined, undefined, 0, 0, EMPTY_NON_TERMINAL));
    }
    this.writable(parentKey).kids++;
  }

  /** The name `key` (no children, not the apex) goes; so does an empty non-terminal parent left without children. */
  private remove(key: string): void {
    this.changes.set(key, undefined);
    const parentKey = keyParent(key);
    const parent = this.writable(parentKey);
    if (isWildcardKey(key)) parent.wildcard = undefined;
    parent.kids--;
    if (parent.kids === 0 && parent.isEmpty && parentKey !== this.originKey) this.remove(parentKey);
  }

  finish(newSoa: RR | undefined): Zone {
    const zone = this.zone;
    const originKey = this.originKey;
    const soa = newSoa ?? this.apexSoa;
    if (soa !== undefined || this.apexSets !== undefined) {
      if (soa !== undefined && soa.class !== this.zoneClass) throw new ZoneError(zone.origin.toString(), 'the new SOA is of another class');
      const soaRR = soa ?? zone.soa;
      const soaSet: RawSet = { type: RRType.SOA, klass: soaRR.class, ttl: soaRR.ttl, rdatas: [soaRR.rdata] };
      const apex = this.get(originKey)!;
      // The apex owner is spelled as the zone's origin unless its first record says otherwise (as compiled from a
      // store that lists the SOA first).
      const owner = nameForms(soa?.name ?? zone.apex.name).owner;
      if (this.apexSets === undefined && owner === apex.owner) {
        // Only the SOA changes (every committed change moves the serial): its RRset's bytes are replaced and the
        // apex's other RRsets kept as encoded (a signed apex's DNSKEYs and signatures are not decoded for it).
        const data = apex.withSetReplaced(soaSet);
        const n = this.writable(originKey);
        n.data = data;
        n.start = 0;
        n.end = data.length;
        return this.done();
      }
      let rest: RawSet[];
      if (this.apexSets !== undefined) rest = this.apexSets;
      else rest = [...apex.rrsets.values()].filter((s) => s.type !== RRType.SOA).map((s) => ({ type: s.type, klass: s.rrs[0].class, ttl: s.rrs[0].ttl, rdatas: s.rrs.map((r) => r.rdata) }));
      const sets = [soaSet, ...rest];
      let records = 0;
      for (const s of sets) records += s.rdatas.length;
      this.recordDelta += records - nodeRecordCount(apex);
      const enc = encodeSets(sets);
      const n = this.writable(originKey);
      n.owner = owner;
      n.data = enc.data;
      n.start = 0;
      n.end = enc.data.length;
      n.bits = enc.bits;
    }
    return this.done();
  }

  /** The new snapshot, once the touched nodes have their records. */
  private done(): Zone {
    const zone = this.zone;
    const originKey = this.originKey;
    // Names whose NS or DNAME came or went while names below them stayed: their subtrees' flags change.
    const subtrees = new Set<string>();
    for (const [key, node] of this.changes) {
      if (node === undefined) continue;
      const before = this.base.get(key);
      if (before === undefined || before.kids === 0) continue;
      const mask = key === originKey ? HAS_DNAME : HAS_NS | HAS_DNAME;
      if ((before.bits & mask) !== (node.bits & mask)) subtrees.add(key);
    }
    if (subtrees.size > 0) {
      // Rare (a delegation or DNAME placed over existing names, or taken away): one pass over the names.
      for (const key of this.base.keys()) {
        if (this.changes.has(key)) continue;
        for (let k = key; k !== originKey; ) {
          k = keyParent(k);
          if (subtrees.has(k)) {
            this.writable(key);
            break;
          }
        }
      }
    }
    // Inherited flags of every copied node, parents first (a node not copied has no ancestor whose flags changed).
    const copied = [...this.fresh].filter((n) => n.key !== originKey && this.changes.get(n.key) === n);
    copied.sort((a, b) => keyLabelCount(a.key) - keyLabelCount(b.key));
    for (const n of copied) n.bits = inheritBits(n.bits, this.get(keyParent(n.key))!.bits);

    const nodes = this.base.with(this.changes);
    const nsec3Base = zone.nsec3 instanceof VersionedMap ? (zone.nsec3 as VersionedMap<readonly RR[]>) : new VersionedMap(new Map(zone.nsec3));
    const nsec3 = this.nsec3Changes.size > 0 ? nsec3Base.with(this.nsec3Changes) : nsec3Base;
    const apex = nodes.get(originKey)!;
    const soaRR = apex.rrset(RRType.SOA)!.rrs[0];
    const negativeTtl = Math.min(soaRR.ttl, soaMinimum(soaRR.rdata));
    const next: Zone = {
      origin: zone.origin,
      originKey,
      apex,
      soa: soaRR,
      serial: soaSerial(soaRR.rdata),
      negativeTtl,
      negativeSoa: { ...soaRR, ttl: negativeTtl },
      nodes,
      nsec3,
      recordCount: zone.recordCount + this.recordDelta,
      warnings: this.warnings,
      responseMemo: new Map(),
    };
    // A signed zone's canonical order (DO=1 denial proofs) follows the change instead of being sorted again.
    carryDnssecOrder(zone, next, this.changes.keys(), this.nsec3Changes.keys());
    return next;
  }
}

function isWildcardKey(key: string): boolean {
  return key.charCodeAt(0) === 1 && key.charCodeAt(1) === 0x2a;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
