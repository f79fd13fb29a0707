// The differences between knotd (the reference) and dmsd that the RFCs allow. Each allowance names the RFC section
// that permits it and matches as narrowly as it can; every other difference fails the differential test.

import { RRType, classToString, typeToString } from '../../src/dns/constants.js';
import type { Message } from '../../src/dns/message.js';
import type { Name } from '../../src/dns/name.js';
import { rdataTargetName } from '../../src/dns/rdata.js';
import type { Answer } from './dns-client.js';
import type { DiffQuery, Difference } from './differential.js';

export interface Allowance {
  id: string;
  rfc: string;
  why: string;
  /** a = reference (knotd), b = server under test. */
  applies(q: DiffQuery, a: Answer, b: Answer, d: Difference): boolean;
}

const contentKinds = /^(answer|authority|additional)\./;

/** A referral: no answer, not authoritative, an NS RRset below the zone apex in the authority section. */
function referralCut(m: Message): Name | undefined {
  if (m.answer.length > 0 && m.answer.every((rr) => rr.type !== RRType.CNAME && rr.type !== RRType.DNAME)) return undefined;
  const ns = m.authority.find((rr) => rr.type === RRType.NS);
  if (!ns || m.authority.some((rr) => rr.type === RRType.SOA)) return undefined;
  return ns.name;
}

/** Names of in-domain glue (RFC 9471 §2.1) the referral in `m` requires: NS targets at or below the cut. */
function requiredGlue(m: Message): Set<string> {
  const cut = referralCut(m);
  const out = new Set<string>();
  if (!cut) return out;
  for (const rr of m.authority) {
    if (rr.type !== RRType.NS || !rr.name.equals(cut)) continue;
    const t = rdataTargetName(rr.type, rr.rdata);
    if (t?.isSubdomainOf(cut)) out.add(t.key);
  }
  return out;
}

function rrsetOwner(d: Difference): string | undefined {
  return d.rrset?.split('|')[0];
}
function rrsetType(d: Difference): string | undefined {
  return d.rrset?.split('|')[1];
}

/** When one side set TC only because its own payload limit is below the other's answer (RFC 6891 §6.2.5). */
function tcFromOwnLimit(q: DiffQuery, a: Answer, b: Answer): boolean {
  if (q.tcp || q.ednsSize === undefined || !a.msg || !b.msg || a.msg.tc === b.msg.tc) return false;
  const [trunc, full] = a.msg.tc ? [a, b] : [b, a];
  const own = trunc.msg!.edns?.udpSize;
  return own !== undefined && own < q.ednsSize && full.bytes.length > own && full.bytes.length <= q.ednsSize;
}

/** The distinct RDATA of one RRset of a section (duplicates removed). */
function distinctRdata(m: Message | undefined, key: string | undefined): string | undefined {
  if (!m || !key) return undefined;
  const out = new Set<string>();
  for (const s of [m.answer, m.authority, m.additional])
    for (const rr of s)
      if (`${rr.name.key}|${typeToString(rr.type)}|${classToString(rr.class)}` === key) out.add(Buffer.from(rr.rdata).toString('hex').toLowerCase());
  return [...out].sort().join(',');
}

export const ALLOWANCES: Allowance[] = [
  {
    id: 'opt-udp-size',
    rfc: 'RFC 6891 §6.2.3',
    why: "the OPT record's UDP payload size in a response is the responder's own maximum, which is a local choice",
    applies: (_q, _a, _b, d) => d.kind === 'edns.udpSize',
  },
  {
    id: 'minimal-any',
    rfc: 'RFC 8482 §4.1-§4.2',
    why: 'an ANY query may be answered with one RRset (knotd does) or a subset of the RRsets at the name; authority and additional follow what was chosen',
    applies: (q, a, b, d) =>
      q.type === RRType.ANY &&
      !!a.msg && !!b.msg &&
      a.msg.rcode === b.msg.rcode &&
      (a.msg.answer.length > 0) === (b.msg.answer.length > 0) &&
      /^(answer|authority|additional)\.rrset-only-in-/.test(d.kind),
  },
  {
    id: 'extended-dns-error',
    rfc: 'RFC 8914 §3',
    why: 'an Extended DNS Error option (code 15) is optional extra information ("MAY"), knotd adds one to REFUSED answers',
    applies: (_q, a, b, d) => {
      if (d.kind !== 'edns.options') return false;
      const codes = (m?: Message) => (m?.edns?.options ?? []).map((o) => o.code).filter((c) => c !== 15).sort().join(',');
      return codes(a.msg) === codes(b.msg);
    },
  },
  {
    id: 'no-duplicate-rrs',
    rfc: 'RFC 2181 §5',
    why: 'on a DNAME loop knotd repeats the same synthesized CNAME several times; an RRset never holds duplicate records, so the deduplicated set is the same answer',
    applies: (_q, a, b, d) =>
      d.kind.endsWith('.rdata') && distinctRdata(a.msg, d.rrset) === distinctRdata(b.msg, d.rrset),
  },
  {
    id: 'truncated-content',
    rfc: 'RFC 2181 §9, RFC 1035 §4.2.1',
    why: 'when both answers are truncated (TC=1) their content is incomplete and a client must retry over TCP; what each server packed before truncating may differ',
    applies: (q, a, b, d) => !q.tcp && !!a.msg?.tc && !!b.msg?.tc && contentKinds.test(d.kind),
  },
  {
    id: 'tc-own-payload-limit',
    rfc: 'RFC 6891 §6.2.5',
    why: "a responder must not exceed its own advertised payload size either, so a server with a smaller limit truncates an answer the other sends whole (that answer's sections then differ too)",
    applies: (q, a, b, d) => (d.kind === 'header.tc' || contentKinds.test(d.kind)) && tcFromOwnLimit(q, a, b),
  },
  {
    id: 'optional-additional-addresses',
    rfc: 'RFC 1034 §4.3.2 step 6, RFC 9471 §3',
    why: 'address records for names mentioned in the answer are optional additional data ("attempt to add ... RRs which may be useful"); only in-domain glue of a referral is mandatory',
    applies: (_q, a, b, d) => {
      if (!/^additional\.rrset-only-in-/.test(d.kind)) return false;
      const t = rrsetType(d);
      if (t !== 'A' && t !== 'AAAA') return false;
      const owner = rrsetOwner(d)!;
      return !requiredGlue(a.msg!).has(owner) && !requiredGlue(b.msg!).has(owner);
    },
  },
];

export function findAllowance(q: DiffQuery, a: Answer, b: Answer, d: Difference): Allowance | undefined {
  return ALLOWANCES.find((x) => x.applies(q, a, b, d));
}
