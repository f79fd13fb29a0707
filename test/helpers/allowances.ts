// The differences between knotd (the reference) and dmsd that the RFCs allow. Each allowance names the RFC section
// that permits it and matches as narrowly as it can; every other difference fails the differential test.

import { RRType, classToString, typeToString } from '../../src/dns/constants.js';
import { type Message, decodeMessage } from '../../src/dns/message.js';
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

/** RRsets of the fixtures whose records are written with different TTLs, and those TTLs. */
const MIXED_TTL_RRSETS: Record<string, number[]> = { 'ttlmix.types.test.|A|IN': [100, 200] };

/** The TTLs of one RRset (by comparison key) in all sections of a message. */
function rrsetTtls(m: Message | undefined, key: string | undefined): number[] {
  if (!m || !key) return [];
  const out: number[] = [];
  for (const s of [m.answer, m.authority, m.additional])
    for (const rr of s) if (`${rr.name.key}|${typeToString(rr.type)}|${classToString(rr.class)}` === key) out.push(rr.ttl);
  return out;
}

function queryFlagCd(q: DiffQuery): boolean {
  return q.raw ? (q.raw[3] & 0x10) !== 0 : false;
}

/** Does our own decoder reject the query packet, or does it not hold exactly one question? */
function isMalformedQuery(q: DiffQuery): boolean {
  if (!q.raw) return false;
  try {
    const m = decodeMessage(q.raw);
    return m.question.length !== 1;
  } catch {
    return true;
  }
}

/** A packet one server answered and the other dropped: allowed when the query is malformed and the answer is FORMERR. */
export function droppedVsFormerr(q: DiffQuery, a: Answer | Error, b: Answer | Error): Allowance | undefined {
  if (!(a instanceof Error) || b instanceof Error || !isMalformedQuery(q)) return undefined;
  const rcode = b.bytes.length >= 4 ? b.bytes[3] & 0x0f : -1;
  return rcode === 1 ? ALLOWANCES.find((x) => x.id === 'formerr-for-malformed-query') : undefined;
}

/** Key of an RRset as compareMessages builds it (owner key, type mnemonic, class mnemonic). */
function rrsetKeyOf(rr: { name: Name; type: number; class: number }): string {
  return `${rr.name.key}|${typeToString(rr.type)}|${classToString(rr.class)}`;
}

/** RDATA for comparison: the names of CNAME and DNAME records in lower case (their case may follow the query's). */
function rdataView(rr: { type: number; rdata: Uint8Array }): string {
  if (rr.type === RRType.CNAME || rr.type === RRType.DNAME) {
    const t = rdataTargetName(rr.type, rr.rdata);
    if (t) return t.key;
  }
  return Buffer.from(rr.rdata).toString('hex').toLowerCase();
}

/** The distinct RDATA of RRset `key` in the given sections of `m` (sorted, joined), or undefined when absent. */
function rrsetIn(m: Message, key: string, sections: ('answer' | 'authority' | 'additional')[]): string | undefined {
  const out = new Set<string>();
  for (const s of sections) for (const rr of m[s]) if (rrsetKeyOf(rr) === key) out.add(rdataView(rr));
  return out.size > 0 ? [...out].sort().join(',') : undefined;
}

/** Owners (keys) of ServiceMode SVCB/HTTPS records with TargetName "." in the answer section of `m`. */
function dotTargetOwners(m: Message): Set<string> {
  const out = new Set<string>();
  for (const rr of m.answer) {
    if (rr.type !== RRType.SVCB && rr.type !== RRType.HTTPS) continue;
    const serviceMode = rr.rdata.length >= 3 && (rr.rdata[0] !== 0 || rr.rdata[1] !== 0);
    if (serviceMode && rr.rdata[2] === 0) out.add(rr.name.key);
  }
  return out;
}

/**
 * For an additional RRset present on one side only: the same type and RDATA on the other side, with one owner the
 * wildcard "*.P" and the other a name below P (the same wildcard records, literal on one side, synthesized on the other).
 */
function wildcardOwnerTwin(one: Message, other: Message, key: string): boolean {
  const [owner, type, klass] = key.split('|');
  const mine = rrsetIn(one, key, ['additional']);
  if (!mine) return false;
  for (const rr of other.additional) {
    const k = rrsetKeyOf(rr);
    const [o2, t2, c2] = k.split('|');
    if (t2 !== type || c2 !== klass || o2 === owner) continue;
    const [wild, name] = owner.startsWith('*.') ? [owner, o2] : o2.startsWith('*.') ? [o2, owner] : [undefined, undefined];
    if (!wild || !name) continue;
    const parent = wild.slice(2);
    if (!(name.endsWith(`.${parent}`) && name.length > parent.length + 1)) continue;
    if (rrsetIn(other, k, ['additional']) === mine) return true;
  }
  return false;
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
    id: 'optional-edns-options',
    rfc: 'RFC 8914 §3, RFC 5001 §2.1',
    why: 'Extended DNS Errors (option 15, knotd adds one to REFUSED answers) and the NSID answer (option 3) are optional ("MAY")',
    applies: (_q, a, b, d) => {
      if (d.kind !== 'edns.options') return false;
      const codes = (m?: Message) => (m?.edns?.options ?? []).map((o) => o.code).filter((c) => c !== 15 && c !== 3).sort().join(',');
      return codes(a.msg) === codes(b.msg);
    },
  },
  {
    id: 'dns-cookie-answer',
    rfc: 'RFC 7873 §5.2.3-§5.2.4, RFC 9018',
    why: 'dmsd supports DNS Cookies and answers a query carrying a client cookie with its server cookie (option 10); the reference knotd runs without mod-cookies and ignores the option',
    applies: (q, a, b, d) => {
      if (d.kind !== 'edns.options' || !q.raw || !b.msg?.edns) return false;
      let asked = false;
      try {
        asked = (decodeMessage(q.raw).edns?.options ?? []).some((o) => o.code === 10);
      } catch {
        return false;
      }
      if (!asked) return false;
      const codes = (m?: Message) => (m?.edns?.options ?? []).map((o) => o.code).filter((c) => c !== 15 && c !== 3 && c !== 10).sort().join(',');
      return b.msg.edns.options.some((o) => o.code === 10) && codes(a.msg) === codes(b.msg);
    },
  },
  {
    id: 'chaos-identity',
    rfc: 'RFC 4892 §2-§3',
    why: 'version.bind / id.server / hostname.bind in class CH are a convention a server MAY answer; refusing them is allowed (and hides the version), and the text is each server\'s own (its version, its host name)',
    applies: (q, a, b, d) =>
      q.class === 3 &&
      !!b.msg &&
      d.kind !== 'question' &&
      (((b.msg.rcode === 5 || b.msg.rcode === 4) && b.msg.answer.length === 0) ||
        (d.kind.startsWith('answer.rdata') && b.msg.rcode === 0 && b.msg.answer.length === 1 && b.msg.answer[0].type === RRType.TXT && a.msg?.answer.length === 1)),
  },
  {
    id: 'qclass-any',
    rfc: 'RFC 6895 §3.2, RFC 1035 §4.1.1',
    why: 'an answer to QCLASS ANY can never be authoritative for all classes; a server may refuse such queries (named answers FORMERR, dmsd REFUSED) instead of answering from class IN as knotd does',
    applies: (q, _a, b, d) =>
      q.class === 255 && !!b.msg && [1, 4, 5].includes(b.msg.rcode) && b.msg.answer.length === 0 && d.kind !== 'question',
  },
  {
    id: 'reserved-or-meta-qtype',
    rfc: 'RFC 6895 §3.1, RFC 1035 §4.1.1',
    why: 'a question for TYPE0, a meta-TYPE (OPT, TSIG, TKEY) or the obsolete MAILA/MAILB asks for data no zone can hold; NODATA, NOTIMP and FORMERR are all used (knotd: NODATA or NOTIMP; named: FORMERR/NOTIMP/NODATA)',
    applies: (q, a, b, d) =>
      [0, RRType.OPT, RRType.TSIG, RRType.TKEY, RRType.MAILA, RRType.MAILB].includes(q.type) &&
      !!a.msg && !!b.msg && a.msg.answer.length === 0 && b.msg.answer.length === 0 && d.kind !== 'question',
  },
  {
    id: 'unauthorised-transfer-notify-update',
    rfc: 'RFC 1035 §4.1.1',
    why: 'a zone transfer, NOTIFY or UPDATE with no TSIG from an address with no grant is refused; knotd answers NOTAUTH, dmsd REFUSED (transfers, "refuses ... for policy reasons") or NOTIMP (opcodes it does not serve yet, "does not support the requested kind of query"); none of them carries data',
    applies: (q, a, b, d) => {
      const op = q.raw ? (q.raw[2] >> 3) & 0xf : 0;
      const isTransferish = op === 4 || op === 5 || (!q.raw && (q.type === RRType.AXFR || q.type === RRType.IXFR));
      const refusals = [4, 5, 9];
      return (
        isTransferish && !!a.msg && !!b.msg && refusals.includes(a.msg.rcode) && refusals.includes(b.msg.rcode) &&
        a.msg.answer.length === 0 && b.msg.answer.length === 0 && d.kind !== 'question'
      );
    },
  },
  {
    id: 'cd-bit-copied',
    rfc: 'RFC 4035 §3.1.6',
    why: 'the CD bit MUST be copied from the query to the response; knotd 3.2 clears it on unsigned zones, dmsd copies it',
    applies: (q, _a, b, d) => d.kind === 'header.cd' && queryFlagCd(q) && !!b.msg?.cd,
  },
  {
    id: 'formerr-for-malformed-query',
    rfc: 'RFC 1035 §4.1.1, RFC 6891 §6.1.2',
    why: 'a query that does not parse (bad counts, a question cut short, trailing bytes, an OPT owner other than the root) may be answered FORMERR ("unable to interpret the query"); knotd often drops it or ignores the fault',
    applies: (q, _a, b) => isMalformedQuery(q) && !!b.msg && b.msg.rcode === 1,
  },
  {
    id: 'no-duplicate-rrs',
    rfc: 'RFC 2181 §5',
    why: 'on a DNAME loop knotd repeats the same synthesized CNAME several times; an RRset never holds duplicate records, so the deduplicated set is the same answer',
    applies: (_q, a, b, d) =>
      d.kind.endsWith('.rdata') && distinctRdata(a.msg, d.rrset) === distinctRdata(b.msg, d.rrset),
  },
  {
    id: 'rrset-ttl-normalised',
    rfc: 'RFC 2181 §5.2',
    why: 'an RRset written in the zone file with different TTLs must still be served with one TTL; knotd keeps the last one, BIND the first, RFC 2181 §5.2 suggests the lowest: any single TTL among those written is acceptable, mixed TTLs are not',
    applies: (_q, a, b, d) => {
      if (!d.kind.endsWith('.ttl') || !d.rrset) return false;
      const written = MIXED_TTL_RRSETS[d.rrset];
      const tb = new Set(rrsetTtls(b.msg, d.rrset));
      const ta = new Set(rrsetTtls(a.msg, d.rrset));
      return !!written && ta.size === 1 && tb.size === 1 && written.includes([...tb][0]);
    },
  },
  {
    id: 'wildcard-ns',
    rfc: 'RFC 4592 §4.2',
    why: 'an NS RRset owned by a wildcard has no well-defined meaning ("the semantics ... are undefined", discouraged); knotd sends a referral to the literal *.name, dmsd treats the NS as ordinary wildcard data (authoritative NODATA for other types)',
    applies: (_q, a, _b, d) =>
      !!a.msg?.authority.some((rr) => rr.type === RRType.NS && rr.name.isWildcard()) &&
      (d.kind === 'header.aa' || /^(authority|additional)\./.test(d.kind)),
  },
  {
    id: 'truncated-content',
    rfc: 'RFC 2181 §9, RFC 1035 §4.2.1',
    why: 'when both answers are truncated (TC=1) their content is incomplete and a client must retry over TCP; what each server packed before truncating may differ',
    applies: (q, a, b, d) => !q.tcp && !!a.msg?.tc && !!b.msg?.tc && contentKinds.test(d.kind),
  },
  {
    id: 'truncated-chain-rcode',
    rfc: 'RFC 2181 §9, RFC 6604 §2.1',
    why: 'a CNAME/DNAME chain too long for the UDP payload: both set TC=1 (the client ignores the reply and asks over TCP, where both answer alike); knotd stops following the chain where the packet is full and leaves NOERROR, dmsd gives the rcode of the whole chain (its last name, RFC 6604 §2.1) — NXDOMAIN',
    applies: (q, a, b, d) =>
      d.kind === 'header.rcode' && !q.tcp && !!a.msg?.tc && !!b.msg?.tc &&
      [a.msg.rcode, b.msg.rcode].sort().join() === '0,3' &&
      [a.msg, b.msg].some((m) => m.answer.some((rr) => rr.type === RRType.CNAME || rr.type === RRType.DNAME)),
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
  {
    id: 'rrset-once',
    rfc: 'RFC 2181 §5.5',
    why: 'an RRset "should only be included once in any DNS reply"; knotd repeats an RRset of the answer (an SVCB whose TargetName is its own owner) in the additional section, dmsd sends it once',
    applies: (_q, a, b, d) =>
      d.kind === 'additional.rrset-only-in-first' && !!a.msg && !!b.msg && !!d.rrset &&
      rrsetIn(a.msg, d.rrset, ['additional']) === rrsetIn(b.msg, d.rrset, ['answer', 'authority']),
  },
  {
    id: 'wildcard-additional-owner',
    rfc: 'RFC 4592 §2.1.1, §3.3.1',
    why: 'records a wildcard supplies for a name are synthesized with that name as owner; knotd writes the additional records of an SVCB/HTTPS target covered by a wildcard with the literal "*" owner (its MX/NS/SRV additional records come out synthesized, by name compression), dmsd synthesizes them for the target, as named does',
    applies: (_q, a, b, d) => {
      if (!/^additional\.rrset-only-in-/.test(d.kind) || !a.msg || !b.msg || !d.rrset) return false;
      const [one, other] = d.kind.endsWith('first') ? [a.msg, b.msg] : [b.msg, a.msg];
      return wildcardOwnerTwin(one, other, d.rrset);
    },
  },
  {
    id: 'svcb-dot-target-addresses',
    rfc: 'RFC 9460 §2.5.2, §4.1',
    why: 'a ServiceMode SVCB/HTTPS record with TargetName "." designates its owner, and authoritative servers SHOULD add the A/AAAA of TargetNames in the zone; dmsd adds the owner\'s addresses (as named does), knotd 3.2 adds nothing for "."',
    applies: (_q, _a, b, d) => {
      if (d.kind !== 'additional.rrset-only-in-second' || !b.msg) return false;
      const t = rrsetType(d);
      return (t === 'A' || t === 'AAAA') && dotTargetOwners(b.msg).has(rrsetOwner(d)!);
    },
  },
  {
    id: 'dname-any-answered',
    rfc: 'RFC 1034 §3.7.1, §4.3.2 step 3a; RFC 6672 §3.2',
    why: 'the CNAME synthesized from a DNAME stands at the query name, and QTYPE ANY matches CNAME ("*" matches all types), so the DNAME and the synthesized CNAME answer the question (as for a stored CNAME, where knotd does stop, and as named does); knotd 3.2 goes on following the target for ANY only below a DNAME',
    applies: (q, a, b, d) => {
      if (q.type !== RRType.ANY || !a.msg || !b.msg) return false;
      const ours = b.msg;
      const last = ours.answer[ours.answer.length - 1];
      if (!last || last.type !== RRType.CNAME || !ours.answer.some((rr) => rr.type === RRType.DNAME)) return false;
      if (ours.rcode !== 0 || !ours.aa || ours.authority.length > 0 || ours.additional.length > 0) return false;
      // Our answer is the start of knotd's: every RRset of ours is in knotd's answer with the same records.
      const prefix = ours.answer.every((rr) => rrsetIn(a.msg!, rrsetKeyOf(rr), ['answer']) === rrsetIn(ours, rrsetKeyOf(rr), ['answer']));
      return prefix && (d.kind === 'header.rcode' || /^(answer|authority|additional)\.rrset-only-in-first$/.test(d.kind));
    },
  },
];

export function findAllowance(q: DiffQuery, a: Answer, b: Answer, d: Difference, list: readonly Allowance[] = ALLOWANCES): Allowance | undefined {
  return list.find((x) => x.applies(q, a, b, d));
}
