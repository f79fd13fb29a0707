// From a lookup outcome to the sections of the response (RFC 1034 §4.3.2, RFC 2308 negative answers, RFC 9471 glue,
// RFC 9460 §4.1 SVCB/HTTPS additional records).
// Pure; encoding and fitting to a size are the caller's business.

import { Rcode, RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { rdataTargetName } from '../dns/rdata.js';
import type { Name } from '../dns/name.js';
import { keyIsBelowOrAt, keyParent, wireKey } from './key.js';
import type { Outcome } from './lookup.js';
import type { RRset, Zone, ZoneNode } from './zone.js';

export interface Sections {
  rcode: number;
  /** Authoritative answer (clear for a pure referral). */
  aa: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** Additional records that must not be dropped silently to fit (in-domain glue of a referral, RFC 9471). */
  requiredAdditional: ReadonlySet<RR>;
}

export interface SectionOptions {
  /**
   * RFC 8482: answer ANY with one RRset (the one with the lowest type, as Knot picks) instead of all of them.
   */
  minimalAny?: boolean;
}

const NO_REQUIRED: ReadonlySet<RR> = new Set();

/**
 * Types whose RDATA names a host the client will look up next, so the additional section gets that host's records
 * when the zone has them: NS, MX and SRV targets (RFC 1035 §3.3.9, §3.3.11, RFC 2782), SVCB and HTTPS TargetNames
 * (RFC 9460 §4.1). Records the RDATA points to are not followed any further (no CNAME at the target, RFC 2181 §10.3).
 */
function wantsAdditional(type: number): boolean {
  return type === RRType.NS || type === RRType.MX || type === RRType.SRV || type === RRType.SVCB || type === RRType.HTTPS;
}

/**
 * Where the zone keeps the data of `key`: its own node, or the wildcard that synthesizes it (RFC 4592 §3.3.1: the
 * wildcard child of the closest encloser), as knotd looks targets up. Undefined outside the zone and for names a
 * DNAME occludes or rewrites (RFC 6672 §2.4): those are aliases, their addresses would not be the target's.
 */
function dataNode(zone: Zone, key: string): { node: ZoneNode; synthesized: boolean } | undefined {
  if (!keyIsBelowOrAt(key, zone.originKey)) return undefined;
  const node = zone.nodes.get(key);
  if (node) return node.belowDname ? undefined : { node, synthesized: false };
  // The apex is always a node, so the walk up ends at the latest there.
  for (let k = keyParent(key); ; k = keyParent(k)) {
    const encloser = zone.nodes.get(k);
    if (!encloser) continue;
    if (encloser.hasDname || encloser.belowDname || !encloser.wildcard) return undefined;
    return { node: encloser.wildcard, synthesized: true };
  }
}

/** Identity of an RRset in a response: an RRset appears in one section only, once (RFC 2181 §5.5). */
function rrsetId(owner: Name, type: number): string {
  return `${type}|${wireKey(owner)}`;
}

/**
 * Additional records for the targets named by `rrs`: the target's A and AAAA and, for SVCB/HTTPS, its RRset of the
 * same type (RFC 9460 §4.1: "A, AAAA, and SVCB records ... for any TargetNames that are in the zone"; an AliasMode
 * chain is not followed past that one step, as in knotd). A TargetName of "." is the record's owner in ServiceMode
 * (RFC 9460 §2.5.2) and means "no service" in AliasMode (§2.5.1). Records synthesized from a wildcard take the
 * target as owner. `sections` are the response's sections so far: an RRset already in them is not repeated.
 */
function additionalFor(zone: Zone, rrs: readonly RR[], sections: readonly (readonly RR[])[], out: RR[]): void {
  // Built at the first target found: most answers (A, TXT...) name none and pay nothing.
  let present: Set<string> | undefined;
  for (const rr of rrs) {
    if (!wantsAdditional(rr.type)) continue;
    let target = rdataTargetName(rr.type, rr.rdata);
    if (!target) continue;
    const svcb = rr.type === RRType.SVCB || rr.type === RRType.HTTPS;
    if (svcb && target.isRoot()) {
      const aliasMode = rr.rdata[0] === 0 && rr.rdata[1] === 0;
      if (aliasMode) continue;
      target = rr.name;
    }
    const found = dataNode(zone, wireKey(target));
    if (!found) continue;
    present ??= presentIn(sections);
    addRRset(found, target, RRType.A, present, out);
    addRRset(found, target, RRType.AAAA, present, out);
    if (svcb) addRRset(found, target, rr.type, present, out);
  }
}

function addRRset(
  found: { node: ZoneNode; synthesized: boolean },
  target: Name,
  type: number,
  present: Set<string>,
  out: RR[],
): void {
  const set = found.node.rrset(type);
  if (!set) return;
  const owner = found.synthesized ? target : set.name;
  const id = rrsetId(owner, type);
  if (present.has(id)) return;
  present.add(id);
  for (const rr of set.rrs) out.push(found.synthesized ? { name: owner, type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata } : rr);
}

/** The RRsets of the given sections. */
function presentIn(sections: readonly (readonly RR[])[]): Set<string> {
  const ids = new Set<string>();
  for (const s of sections) for (const rr of s) ids.add(rrsetId(rr.name, rr.type));
  return ids;
}

function flatten(sets: readonly RRset[]): RR[] {
  const out: RR[] = [];
  for (const s of sets) out.push(...s.rrs);
  return out;
}

export function buildSections(outcome: Outcome, opts: SectionOptions = {}): Sections {
  const { zone, final } = outcome;
  const answer: RR[] = [...outcome.chain];
  const authority: RR[] = [];
  const additional: RR[] = [];
  let rcode: number = Rcode.NOERROR;
  let aa = true;
  let required = NO_REQUIRED;
  switch (final.kind) {
    case 'hit': {
      let sets = final.rrsets;
      if (opts.minimalAny && outcome.qtype === RRType.ANY && sets.length > 1) sets = [sets[0]];
      const rrs = flatten(sets);
      answer.push(...rrs);
      additionalFor(zone, rrs, [answer], additional);
      break;
    }
    case 'nxdomain':
      rcode = Rcode.NXDOMAIN;
      authority.push(zone.negativeSoa);
      break;
    case 'nodata':
      authority.push(zone.negativeSoa);
      break;
    case 'delegation': {
      const ns = final.cut.rrset(RRType.NS)!.rrs;
      // A referral is not authoritative; behind an in-zone CNAME the answer section still is (as Knot does).
      aa = outcome.chain.length > 0;
      authority.push(...ns);
      additionalFor(zone, ns, [answer, authority], additional);
      const cut = final.cut.key;
      const req = new Set<RR>();
      for (const rr of additional) if (keyIsBelowOrAt(wireKey(rr.name), cut)) req.add(rr);
      required = req;
      break;
    }
    case 'yxdomain':
      rcode = Rcode.YXDOMAIN;
      break;
    case 'chain-end':
      break;
  }
  return { rcode, aa, answer, authority, additional, requiredAdditional: required };
}
