// Answers with DO=1 from a signed zone (RFC 4035 §3.1, RFC 5155 §7.2): the sections of buildSections plus the RRSIGs
// of every authoritative RRset in them, and the NSEC or NSEC3 records that prove a negative answer, a wildcard
// expansion or the absence of DS at a delegation. Pure: the NSEC3 hash comes in as a function (the zone module does
// not depend on the signer), everything else is read from the compiled snapshot (RRSIG and NSEC RRsets live on their
// owners' nodes, NSEC3 records in zone.nsec3).
//
// Finding the NSEC or NSEC3 record that covers a name needs the owners in canonical (or hash) order; a snapshot has
// only maps, so the order is built on the first query that needs it and kept beside the snapshot (WeakMap). A
// snapshot patched from one whose order is built (zone/delta.ts calls carryDnssecOrder) gets its order derived from
// the old one with the touched owners (layered-sorted.ts), in time proportional to the change: sorting the whole
// zone again per UPDATE was the largest cost of a change to a large signed zone.

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { WireReader } from '../dns/wire.js';
import { keyIsBelowOrAt, keyParent, wildcardKey, wireKey } from './key.js';
import type { Outcome } from './lookup.js';
import type { Sections } from './sections.js';
import { LayeredSorted } from './layered-sorted.js';
import type { Zone, ZoneNode } from './zone.js';

/** RFC 5155 §5 hash of a name with the zone's parameters (src/dnssec nsec3Hash). */
export type Nsec3Hasher = (name: Name, salt: Uint8Array, iterations: number) => Uint8Array;

/** True when the snapshot is signed (its apex has RRSIGs): DO=1 answers then carry DNSSEC records. */
export function isSignedZone(zone: Zone): boolean {
  return zone.apex.hasType(RRType.RRSIG);
}

interface Nsec3Param {
  salt: Uint8Array;
  iterations: number;
}

interface Order {
  /** NSEC zones: the sort forms (sortForm) of the owners with an NSEC RRset. */
  nsec?: LayeredSorted;
  /** NSEC3 zones: hashed labels (base32hex, lower case) in hash order, and the NSEC3PARAM. */
  nsec3Labels?: LayeredSorted;
  nsec3?: Nsec3Param;
}

const orders = new WeakMap<Zone, Order>();

/** A string whose code-unit order is the canonical order of names (RFC 4034 §6.1): labels from the right. */
function sortForm(key: string): string {
  const offs: number[] = [];
  for (let p = 0; key.charCodeAt(p) !== 0; p += key.charCodeAt(p) + 1) offs.push(p);
  let s = '';
  for (let i = offs.length - 1; i >= 0; i--) {
    const p = offs[i];
    const len = key.charCodeAt(p);
    // Octets shifted up by one so that the separator (0) sorts before any octet: a shorter label sorts first.
    for (let j = 1; j <= len; j++) s += String.fromCharCode(key.charCodeAt(p + j) + 1);
    s += '\u0000';
  }
  return s;
}

/** The owner key of a sort form (sortForm's inverse). */
function keyOfSortForm(form: string): string {
  const labels = form.split('\u0000');
  labels.pop();
  let k = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    const l = labels[i];
    k += String.fromCharCode(l.length);
    for (let j = 0; j < l.length; j++) k += String.fromCharCode(l.charCodeAt(j) - 1);
  }
  return `${k}\u0000`;
}

/** The NSEC3PARAM at the apex when the zone has NSEC3 records (else the zone is NSEC or unsigned). */
function nsec3ParamOf(zone: Zone): Nsec3Param | undefined {
  const param = zone.apex.rrset(RRType.NSEC3PARAM)?.rrs[0];
  if (!param || zone.nsec3.size === 0) return undefined;
  const r = new WireReader(param.rdata);
  r.u8();
  r.u8();
  const iterations = r.u16();
  const saltLen = r.u8();
  return { iterations, salt: r.bytes(saltLen).slice() };
}

/** The hashed label of an NSEC3 owner key. */
const nsec3Label = (k: string): string => k.substring(1, 1 + k.charCodeAt(0));

function orderOf(zone: Zone): Order {
  let o = orders.get(zone);
  if (o) return o;
  o = {};
  const p = nsec3ParamOf(zone);
  if (p) {
    o.nsec3 = p;
    const labels: string[] = [];
    for (const k of zone.nsec3.keys()) labels.push(nsec3Label(k));
    labels.sort();
    o.nsec3Labels = LayeredSorted.of(labels);
  } else {
    const forms: string[] = [];
    for (const [k, node] of zone.nodes) if (node.hasType(RRType.NSEC)) forms.push(sortForm(k));
    forms.sort();
    o.nsec = LayeredSorted.of(forms);
  }
  orders.set(zone, o);
  return o;
}

/** Build the order of a signed snapshot now (after a whole load), so the first negative DO=1 answer does not wait for it. */
export function prepareDnssecOrder(zone: Zone): void {
  if (isSignedZone(zone)) orderOf(zone);
}

/**
 * `next` was patched from `prev` by replacing the owners `nodeKeys` (names) and `nsec3Keys` (NSEC3 owners): when the
 * order of `prev` is built, derive the order of `next` from it with those owners only. Nothing when `prev` has no
 * order yet, or the denial of existence changed (NSEC ↔ NSEC3, other NSEC3 parameters): built on demand then.
 */
export function carryDnssecOrder(prev: Zone, next: Zone, nodeKeys: Iterable<string>, nsec3Keys: Iterable<string>): void {
  const o = orders.get(prev);
  if (!o) return;
  const p = nsec3ParamOf(next);
  if (o.nsec3Labels) {
    if (!p || p.iterations !== o.nsec3!.iterations || Buffer.compare(p.salt, o.nsec3!.salt) !== 0) return;
    const remove: string[] = [];
    const add: string[] = [];
    for (const k of nsec3Keys) (next.nsec3.has(k) ? add : remove).push(nsec3Label(k));
    orders.set(next, { nsec3: p, nsec3Labels: o.nsec3Labels.with(remove, add) });
    return;
  }
  if (p || !o.nsec) return;
  const remove: string[] = [];
  const add: string[] = [];
  for (const k of nodeKeys) (next.nodes.get(k)?.hasType(RRType.NSEC) ? add : remove).push(sortForm(k));
  orders.set(next, { nsec: o.nsec.with(remove, add) });
}

function coveredType(rr: RR): number {
  return (rr.rdata[0] << 8) | rr.rdata[1];
}

function base32hex(bytes: Uint8Array): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Collects the records to add to one section, each RRset (owner, type) once. */
class Adder {
  private readonly seen = new Set<string>();
  constructor(readonly out: RR[]) {
    for (const rr of out) this.seen.add(`${wireKey(rr.name)}|${rr.type}|${rr.type === RRType.RRSIG ? coveredType(rr) : ''}`);
  }
  add(rrs: readonly RR[]): void {
    if (rrs.length === 0) return;
    const rr = rrs[0];
    const id = `${wireKey(rr.name)}|${rr.type}|${rr.type === RRType.RRSIG ? coveredType(rr) : ''}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.out.push(...rrs);
  }
}

/** The signatures over (node, type), with `owner` as their owner when synthesized from a wildcard. */
function sigsAt(node: ZoneNode | undefined, type: number, owner?: Name): RR[] {
  const set = node?.rrset(RRType.RRSIG);
  if (!set) return [];
  const out: RR[] = [];
  for (const rr of set.rrs) if (coveredType(rr) === type) out.push(owner ? { ...rr, name: owner } : rr);
  return out;
}

/** Where a name's data comes from: its node, or (not existing) the closest encloser and its wildcard. */
function locate(zone: Zone, key: string): { node?: ZoneNode; encloser: ZoneNode; encloserKey: string } {
  const node = zone.nodes.get(key);
  if (node) return { node, encloser: node, encloserKey: key };
  for (let k = keyParent(key); ; k = keyParent(k)) {
    const n = zone.nodes.get(k);
    if (n) return { encloser: n, encloserKey: k };
    if (k === zone.originKey) return { encloser: zone.apex, encloserKey: k };
  }
}

/** The name one label longer than the encloser on the way to `key` (RFC 5155 §1.3 "next closer name"). */
function nextCloser(key: string, encloserKey: string): string {
  let k = key;
  while (keyParent(k) !== encloserKey && k !== encloserKey) k = keyParent(k);
  return k;
}

class Prover {
  private readonly order: Order;
  constructor(
    private readonly zone: Zone,
    private readonly hash: Nsec3Hasher,
    private readonly out: Adder,
  ) {
    this.order = orderOf(zone);
  }

  get nsec3(): boolean {
    return this.order.nsec3 !== undefined;
  }

  // --- NSEC ---

  /** The NSEC at an existing owner, with its signatures. */
  nsecAt(key: string): void {
    const node = this.zone.nodes.get(key);
    const set = node?.rrset(RRType.NSEC);
    if (!set) return;
    this.out.add(set.rrs);
    this.out.add(sigsAt(node, RRType.NSEC));
  }

  /** The NSEC whose span holds `key` (its owner precedes the name in canonical order), or the name's own. */
  nsecCovering(key: string): void {
    const set = this.order.nsec!;
    // None before the name: the last NSEC (its span wraps around to the apex).
    const form = set.floor(sortForm(key)) ?? set.last();
    if (form !== undefined) this.nsecAt(keyOfSortForm(form));
  }

  // --- NSEC3 ---

  private label(key: string): string {
    const p = this.order.nsec3!;
    return base32hex(this.hash(nameOfKey(key), p.salt, p.iterations));
  }

  private nsec3ByLabel(label: string): void {
    const key = `${String.fromCharCode(label.length)}${label}${this.zone.originKey}`;
    const rrs = this.zone.nsec3.get(key);
    if (!rrs) return;
    const recs = rrs.filter((r) => r.type === RRType.NSEC3);
    const sigs = rrs.filter((r) => r.type === RRType.RRSIG);
    this.out.add(recs);
    this.out.add(sigs);
  }

  /** The NSEC3 matching the name; false when there is none. */
  nsec3Match(key: string): boolean {
    const l = this.label(key);
    if (!this.order.nsec3Labels!.has(l)) return false;
    this.nsec3ByLabel(l);
    return true;
  }

  /** The NSEC3 covering the name's hash (the last one wraps around). */
  nsec3Cover(key: string): void {
    const labels = this.order.nsec3Labels!;
    if (labels.size === 0) return;
    const l = this.label(key);
    // A match (should not happen for a name proven absent) is given as it is: the validator decides.
    const cover = labels.floor(l) ?? labels.last();
    if (cover !== undefined) this.nsec3ByLabel(cover);
  }

  /** RFC 5155 §7.2.1 closest encloser proof: the encloser's NSEC3 and the one covering the next closer name. */
  closestEncloser(key: string, encloserKey: string): void {
    // The closest *provable* encloser: an ancestor with an NSEC3 (opt-out may leave names without one).
    let ce = encloserKey;
    while (!this.nsec3Match(ce) && ce !== this.zone.originKey) ce = keyParent(ce);
    this.nsec3Cover(nextCloser(key, ce));
  }

  // --- proofs by answer kind ---

  nxdomain(key: string): void {
    const { encloserKey } = locate(this.zone, key);
    if (this.nsec3) {
      this.closestEncloser(key, encloserKey);
      this.nsec3Cover(wildcardKey(encloserKey));
      return;
    }
    this.nsecCovering(key);
    this.nsecCovering(wildcardKey(encloserKey));
  }

  /** NODATA at an existing name (possibly an empty non-terminal). */
  nodata(key: string, qtype: number): void {
    if (this.nsec3) {
      // A DS query at an opt-out delegation has no NSEC3 of its own: the closest provable encloser proof.
      if (!this.nsec3Match(key)) this.closestEncloser(key, keyParent(key));
      void qtype;
      return;
    }
    const node = this.zone.nodes.get(key);
    if (node?.hasType(RRType.NSEC)) this.nsecAt(key);
    else this.nsecCovering(key); // an empty non-terminal: the NSEC spanning over it
  }

  /** The query name does not exist; the wildcard at its closest encloser answered (RFC 4035 §3.1.3.3). */
  wildcardExpansion(key: string): void {
    const { encloserKey } = locate(this.zone, key);
    if (this.nsec3) this.nsec3Cover(nextCloser(key, encloserKey));
    else this.nsecCovering(key);
  }

  /** Wildcard NODATA (RFC 4035 §3.1.3.4, RFC 5155 §7.2.5). */
  wildcardNodata(key: string): void {
    const { encloserKey } = locate(this.zone, key);
    const wild = wildcardKey(encloserKey);
    if (this.nsec3) {
      this.nsec3Match(encloserKey);
      this.nsec3Cover(nextCloser(key, encloserKey));
      this.nsec3Match(wild);
      return;
    }
    this.nsecCovering(key);
    this.nsecAt(wild);
  }

  /** No DS at a delegation: the cut's NSEC/NSEC3 (or, under NSEC3 opt-out, the closest provable encloser). */
  noDs(cutKey: string): void {
    if (this.nsec3) {
      if (!this.nsec3Match(cutKey)) this.closestEncloser(cutKey, keyParent(cutKey));
      return;
    }
    this.nsecAt(cutKey);
  }
}

function nameOfKey(key: string): Name {
  const labels: Uint8Array[] = [];
  for (let p = 0; key.charCodeAt(p) !== 0; ) {
    const len = key.charCodeAt(p);
    labels.push(Uint8Array.from(key.substring(p + 1, p + 1 + len), (c) => c.charCodeAt(0)));
    p += len + 1;
  }
  return new Name(labels);
}

/**
 * Add the DNSSEC records of a DO=1 answer to `s` (from buildSections on `outcome`), in place: RRSIGs after the
 * RRsets of the answer and authority sections (and of authoritative additional records), the denial proofs in the
 * authority section, DS or its absence at a referral.
 */
export function addDnssec(outcome: Outcome, s: Sections, hash: Nsec3Hasher): Sections {
  const zone = outcome.zone;
  const answer = new Adder([]);
  const authority = new Adder([]);
  const prover = new Prover(zone, hash, authority);

  // Answer section: each RRset followed by its signatures. Records of one RRset are consecutive in s.answer.
  let finalKey = wireKey(outcome.qname);
  for (let i = 0; i < s.answer.length; ) {
    const first = s.answer[i];
    let j = i + 1;
    while (j < s.answer.length && s.answer[j].type === first.type && s.answer[j].name.equals(first.name)) j++;
    const set = s.answer.slice(i, j);
    answer.add(set);
    const key = wireKey(first.name);
    if (first.type !== RRType.RRSIG) {
      const node = zone.nodes.get(key);
      if (first.type === RRType.CNAME && isDnameSynth(outcome, first)) {
        // Synthesized from a DNAME (RFC 6672 §5.3.1): unsigned, the DNAME's signature covers it.
      } else if (node?.hasType(first.type) && !node.belowCut && !node.belowDname) answer.add(sigsAt(node, first.type));
      else if (!node && keyIsBelowOrAt(key, zone.originKey)) {
        // Synthesized from a wildcard: the wildcard's signatures with the name as owner, and the proof that the name
        // itself does not exist.
        const { encloser } = locate(zone, key);
        const wild = encloser.wildcard;
        if (wild?.hasType(first.type)) {
          answer.add(sigsAt(wild, first.type, first.name));
          prover.wildcardExpansion(key);
        }
      }
    }
    if (first.type === RRType.CNAME) finalKey = wireKey(new WireReader(first.rdata).name());
    i = j;
  }

  const f = outcome.final;
  const authorityIn = s.authority;
  const soaSigs = () => sigsAt(zone.apex, RRType.SOA);
  switch (f.kind) {
    case 'nxdomain':
      authority.add(authorityIn);
      authority.add(soaSigs());
      prover.nxdomain(finalKey);
      break;
    case 'nodata':
      authority.add(authorityIn);
      authority.add(soaSigs());
      if (f.wildcard) prover.wildcardNodata(finalKey);
      else prover.nodata(finalKey, outcome.qtype);
      break;
    case 'delegation': {
      authority.add(authorityIn);
      const ds = f.cut.rrset(RRType.DS);
      if (ds) {
        authority.add(ds.rrs);
        authority.add(sigsAt(f.cut, RRType.DS));
      } else prover.noDs(f.cut.key);
      break;
    }
    default:
      // Hits: the authority section (empty for hits from this module's callers) keeps what it had, signed.
      for (const rr of authorityIn) authority.add([rr]);
  }

  // Additional records: signed when authoritative (not glue below a cut, not occluded).
  const additional = new Adder([]);
  for (let i = 0; i < s.additional.length; ) {
    const first = s.additional[i];
    let j = i + 1;
    while (j < s.additional.length && s.additional[j].type === first.type && s.additional[j].name.equals(first.name)) j++;
    additional.add(s.additional.slice(i, j));
    const node = zone.nodes.get(wireKey(first.name));
    if (node && !node.belowCut && !node.delegation && !node.belowDname) additional.add(sigsAt(node, first.type));
    i = j;
  }
  return { ...s, answer: answer.out, authority: authority.out, additional: additional.out };
}

/** A CNAME of the chain that directly follows a DNAME (synthesized, RFC 6672 §3.1). */
function isDnameSynth(outcome: Outcome, rr: RR): boolean {
  const i = outcome.chain.indexOf(rr);
  return i > 0 && outcome.chain[i - 1].type === RRType.DNAME;
}
