// From a lookup outcome to the sections of the response (RFC 1034 §4.3.2, RFC 2308 negative answers, RFC 9471 glue).
// Pure; encoding and fitting to a size are the caller's business.

import { Rcode, RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { rdataTargetName } from '../dns/rdata.js';
import { keyIsBelowOrAt, wireKey } from './key.js';
import type { Outcome } from './lookup.js';
import type { RRset, Zone } from './zone.js';

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

/** Types whose RDATA target gets its addresses added to the additional section (RFC 1035 §3.3.9, §3.3.11, RFC 2782). */
function wantsAdditional(type: number): boolean {
  return type === RRType.NS || type === RRType.MX || type === RRType.SRV;
}

/** A and AAAA records of the in-zone targets of `rrs` (glue included), each target once. */
function addressesFor(zone: Zone, rrs: readonly RR[], seen: Set<string>, out: RR[]): void {
  for (const rr of rrs) {
    if (!wantsAdditional(rr.type)) continue;
    const target = rdataTargetName(rr.type, rr.rdata);
    if (!target) continue;
    const key = wireKey(target);
    if (seen.has(key)) continue;
    seen.add(key);
    const node = zone.nodes.get(key);
    if (!node) continue;
    const a = node.rrset(RRType.A);
    if (a) out.push(...a.rrs);
    const aaaa = node.rrset(RRType.AAAA);
    if (aaaa) out.push(...aaaa.rrs);
  }
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
      addressesFor(zone, rrs, new Set(), additional);
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
      addressesFor(zone, ns, new Set(), additional);
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
