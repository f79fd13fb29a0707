// Authoritative lookup in one zone snapshot (RFC 1034 §4.3.2 step 3, RFC 4592 wildcards, RFC 6672 DNAME) as a pure
// function returning a discriminated-union outcome; sections.ts turns the outcome into response sections.

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { WireReader } from '../dns/wire.js';
import { keyIsBelowOrAt, wireKey } from './key.js';
import type { RRset, Zone, ZoneNode } from './zone.js';

/** How one name resolved inside the zone, before any CNAME/DNAME is followed. */
export type Step =
  /** The name has the type (or ANY: every RRset of the node). Owners are the query name for wildcard matches. */
  | { kind: 'hit'; rrsets: RRset[]; wildcard: boolean }
  /** The name exists (possibly as an empty non-terminal or through a wildcard) without the type. */
  | { kind: 'nodata'; wildcard: boolean }
  | { kind: 'nxdomain' }
  /** The name is at or below a zone cut: refer to the child's servers. */
  | { kind: 'delegation'; cut: ZoneNode }
  /** The name owns a CNAME (or matched a wildcard CNAME): `rr` has the query name as owner. */
  | { kind: 'cname'; rr: RR; target: Name; wildcard: boolean }
  /** A DNAME above the name: the DNAME record, the synthesized CNAME and its target (RFC 6672 §3.1). */
  | { kind: 'dname'; dname: RR; cname: RR; target: Name }
  /** DNAME substitution produced a name longer than 255 octets (RFC 6672 §2.2). */
  | { kind: 'yxdomain'; dname: RR };

/** The final state after following CNAME/DNAME records inside the zone. */
export type Final =
  | { kind: 'hit'; rrsets: RRset[]; wildcard: boolean }
  | { kind: 'nodata'; wildcard: boolean }
  | { kind: 'nxdomain' }
  | { kind: 'delegation'; cut: ZoneNode }
  | { kind: 'yxdomain' }
  /**
   * The answer is the chain so far: it left the zone, looped or grew too long (RFC 1034 §4.3.2 step 3a), or its last
   * record, a CNAME synthesized from a DNAME, is itself what the question asks for ('answered').
   */
  | { kind: 'chain-end'; reason: 'outside' | 'loop' | 'limit' | 'answered' };

export interface Outcome {
  readonly zone: Zone;
  readonly qname: Name;
  readonly qtype: number;
  /** CNAME and DNAME records met along the way, in answer-section order. */
  readonly chain: RR[];
  readonly final: Final;
}

export interface LookupOptions {
  /** Longest CNAME/DNAME chain followed inside the zone (default 12). */
  maxChain?: number;
}

/**
 * Resolve one name in the zone without following CNAME/DNAME (`key` is `wireKey(qname)`, inside the zone). `qname`
 * is only needed to synthesize records (wildcard owners, DNAME targets): without it the name is rebuilt from the key
 * in lower case, which is enough for callers that only want to know whether the answer is negative.
 */
export function lookupName(zone: Zone, given: Name | undefined, key: string, qtype: number): Step {
  const qname = (): Name => given ?? (given = nameFromKey(key));
  const nodes = zone.nodes;
  const originKey = zone.originKey;
  // Label offsets of the labels below the origin, leftmost first.
  const stop = key.length - originKey.length;
  const offsets: number[] = [];
  for (let p = 0; p < stop; p += key.charCodeAt(p) + 1) offsets.push(p);

  let encloser: ZoneNode = zone.apex;
  if (offsets.length > 0) {
    if (zone.apex.hasDname) return synthesizeDname(zone.apex, zone.apex.rrset(RRType.DNAME)!, qname());
  }
  let exact: ZoneNode | undefined = offsets.length === 0 ? zone.apex : undefined;
  // Walk down from the apex: a cut or a DNAME on the way ends the walk (RFC 1034 §4.3.2 step 3b, RFC 6672 §3.2).
  for (let i = offsets.length - 1; i >= 0; i--) {
    const node = nodes.get(i === 0 ? key : key.substring(offsets[i]));
    if (!node) break;
    // DS lives on the parent side of a cut (RFC 4035 §3.1.4.1): at the cut itself it is answered from this zone.
    if (node.delegation && !(i === 0 && qtype === RRType.DS)) return { kind: 'delegation', cut: node };
    if (i > 0 && node.hasDname) return synthesizeDname(node, node.rrset(RRType.DNAME)!, qname());
    encloser = node;
    if (i === 0) exact = node;
  }
  if (exact) return fromNode(exact, qname, qtype, false);
  // RFC 4592 §3.3.1: only the wildcard child of the closest encloser may match.
  const wild = encloser.wildcard;
  if (wild) return fromNode(wild, qname, qtype, true);
  return { kind: 'nxdomain' };
}

/** The Name of a wire key (lower case). */
export function nameFromKey(key: string): Name {
  const labels: Uint8Array[] = [];
  for (let p = 0; key.charCodeAt(p) !== 0; ) {
    const len = key.charCodeAt(p);
    labels.push(Uint8Array.from(key.substring(p + 1, p + 1 + len), (c) => c.charCodeAt(0)));
    p += len + 1;
  }
  return new Name(labels);
}

function withOwner(rrs: readonly RR[], owner: Name): RR[] {
  return rrs.map((r) => ({ name: owner, type: r.type, class: r.class, ttl: r.ttl, rdata: r.rdata }));
}

function fromNode(node: ZoneNode, qname: () => Name, qtype: number, wildcard: boolean): Step {
  if (node.isEmpty) return { kind: 'nodata', wildcard };
  if (qtype === RRType.ANY) {
    const all = [...node.rrsets.values()].sort((a, b) => a.type - b.type);
    return { kind: 'hit', rrsets: wildcard ? all.map((s) => synthesized(s, qname())) : all, wildcard };
  }
  const set = node.rrset(qtype);
  if (set) return { kind: 'hit', rrsets: [wildcard ? synthesized(set, qname()) : set], wildcard };
  // RRSIG and NSEC may sit beside a CNAME (RFC 4035 §2.5): asked for, they are not redirected (as in Knot).
  const cname = qtype === RRType.RRSIG || qtype === RRType.NSEC || !node.hasCname ? undefined : node.rrset(RRType.CNAME);
  if (cname) {
    const rr = cname.rrs[0];
    const owned = wildcard ? { ...rr, name: qname() } : rr;
    return { kind: 'cname', rr: owned, target: new WireReader(rr.rdata).name(), wildcard };
  }
  return { kind: 'nodata', wildcard };
}

function synthesized(set: RRset, owner: Name): RRset {
  return { name: owner, type: set.type, rrs: withOwner(set.rrs, owner) };
}

function synthesizeDname(node: ZoneNode, set: RRset, qname: Name): Step {
  const dname = set.rrs[0];
  const target = new WireReader(dname.rdata).name();
  const keep = qname.labels.slice(0, qname.labels.length - node.name.labels.length);
  const newName = new Name([...keep, ...target.labels]);
  if (newName.wireLength > 255) return { kind: 'yxdomain', dname };
  const cname: RR = { name: qname, type: RRType.CNAME, class: dname.class, ttl: dname.ttl, rdata: newName.toWire() };
  return { kind: 'dname', dname, cname, target: newName };
}

/**
 * Answer `qtype` for `qname` (which must be at or below the zone's origin) from the zone, following CNAME and DNAME
 * records while their targets stay inside the zone.
 */
export function answer(zone: Zone, qname: Name, qtype: number, opts: LookupOptions = {}): Outcome {
  const maxChain = opts.maxChain ?? 12;
  const chain: RR[] = [];
  let name = qname;
  let key = wireKey(qname);
  const seen = new Set<string>([key]);
  for (;;) {
    const step = lookupName(zone, name, key, qtype);
    let target: Name;
    switch (step.kind) {
      case 'hit':
      case 'nodata':
      case 'nxdomain':
      case 'delegation':
        return { zone, qname, qtype, chain, final: step };
      case 'yxdomain':
        chain.push(step.dname);
        return { zone, qname, qtype, chain, final: { kind: 'yxdomain' } };
      case 'cname':
        chain.push(step.rr);
        target = step.target;
        break;
      case 'dname':
        chain.push(step.dname, step.cname);
        // The synthesized CNAME stands at the name asked for (RFC 6672 §3.2), so RFC 1034 §4.3.2 step 3a applies to
        // it as to a stored one: a QTYPE that matches CNAME (CNAME itself, or ANY, which matches every type, RFC 1034
        // §3.7.1) is answered by it and the target is not followed. A stored CNAME is never followed for these
        // QTYPEs either (lookupName returns it as a hit), so only a DNAME can get here with them.
        if (qtype === RRType.CNAME || qtype === RRType.ANY)
          return { zone, qname, qtype, chain, final: { kind: 'chain-end', reason: 'answered' } };
        target = step.target;
        break;
    }
    key = wireKey(target);
    const end = (reason: 'outside' | 'loop' | 'limit'): Outcome => ({
      zone, qname, qtype, chain, final: { kind: 'chain-end', reason },
    });
    if (!keyIsBelowOrAt(key, zone.originKey)) return end('outside');
    if (seen.has(key)) return end('loop');
    if (seen.size > maxChain) return end('limit');
    seen.add(key);
    name = target;
  }
}
