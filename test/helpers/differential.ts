// Differential testing support: a deterministic query mix built from the fixture zones, a section-by-section
// comparison of two servers' answers (RRsets order-insensitive) and the list of differences the RFCs allow.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPRESSIBLE_TYPES, RRType, classToString, typeToString } from '../../src/dns/constants.js';
import { type Message, type RR, decodeHeader, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { WireReader } from '../../src/dns/wire.js';
import { ALLOWANCES, droppedVsFormerr, findAllowance } from './allowances.js';
import { type Answer, type QuerySpec, buildQuery, parseAnswer, tcpExchange, udpExchange } from './dns-client.js';

/** Small deterministic PRNG (mulberry32) so every run sends the same queries. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureZone {
  name: string;
  file: string;
  /** Owner names as written in the file (absolute). */
  owners: Name[];
}

/**
 * The fixture zones: one file per zone, file name = zone name. Owner names are read with a deliberately simple
 * scanner (first column of lines that do not start with blank, ';' or '$') because the fixtures are written that way;
 * the real parser under test must not be used to build its own test input.
 */
export function loadFixtureZones(dir: string): FixtureZone[] {
  const zones: FixtureZone[] = [];
  for (const f of readdirSync(dir).sort()) {
    const origin = Name.from(f);
    const text = readFileSync(join(dir, f), 'utf8');
    const owners = new Map<string, Name>();
    for (const line of text.split('\n')) {
      if (line.length === 0 || /^[\s;$]/.test(line)) continue;
      const tok = line.split(/\s+/)[0];
      const n = Name.parse(tok, origin);
      owners.set(n.key, n);
    }
    zones.push({ name: f, file: join(dir, f), owners: [...owners.values()] });
  }
  return zones;
}

/** Every type the issue lists, plus unknown types (RFC 3597) and ANY. */
export const ALL_TYPES: number[] = [
  RRType.A, RRType.AAAA, RRType.NS, RRType.CNAME, RRType.DNAME, RRType.SOA, RRType.PTR, RRType.MX, RRType.TXT,
  RRType.SPF, RRType.HINFO, RRType.RP, RRType.AFSDB, RRType.SRV, RRType.NAPTR, RRType.KX, RRType.CERT, RRType.DS,
  RRType.CDS, RRType.SSHFP, RRType.IPSECKEY, RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.CDNSKEY, RRType.NSEC3,
  RRType.NSEC3PARAM, RRType.TLSA, RRType.SMIMEA, RRType.OPENPGPKEY, RRType.CSYNC, RRType.ZONEMD, RRType.SVCB,
  RRType.HTTPS, RRType.URI, RRType.CAA, RRType.LOC, 65280, 65281, 1234,
];
const CORE_TYPES: number[] = [RRType.A, RRType.AAAA, RRType.NS, RRType.SOA, RRType.MX, RRType.TXT, RRType.CNAME, RRType.DS, RRType.SRV, RRType.PTR];

export interface DiffQuery extends QuerySpec {
  tcp: boolean;
  /** A hand-made packet sent instead of the query built from the fields (protocol edge cases); id is patched in. */
  raw?: Uint8Array;
  /** What the raw packet is, for reports. */
  note?: string;
}

export function describeQuery(q: DiffQuery): string {
  if (q.raw) return `${q.note ?? 'raw packet'} ${q.tcp ? 'TCP' : 'UDP'} ${Buffer.from(q.raw).toString('hex')}`;
  const parts = [q.name.toString(), typeToString(q.type)];
  if (q.class !== undefined && q.class !== 1) parts.push(classToString(q.class));
  parts.push(q.tcp ? 'TCP' : 'UDP');
  parts.push(q.ednsSize === undefined ? 'no-EDNS' : `EDNS=${q.ednsSize}`);
  if (q.dnssecOk) parts.push('DO');
  if (q.rd) parts.push('RD');
  return parts.join(' ');
}

/** Randomise the case of ASCII letters (as 0x20-encoding resolvers do). */
export function randomCase(n: Name, rnd: () => number): Name {
  return new Name(
    n.labels.map((l) => Uint8Array.from(l, (b) => ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ? (rnd() < 0.5 ? b & ~0x20 : b | 0x20) : b))),
  );
}

const label = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

/**
 * The query mix: systematic (every owner × core types; every types.test owner × every type), names that do not exist
 * beside and below every owner, out-of-zone names, then transport/EDNS/case variants, and a full variant sweep for the
 * large RRsets that force truncation.
 */
export function generateQueries(
  zones: FixtureZone[],
  seed = 20240601,
  /** fixtureSweeps false: only the queries built from the zones' owners (no names of test/fixtures/diff). */
  o: { fixtureSweeps?: boolean } = {},
): DiffQuery[] {
  const sweeps = o.fixtureSweeps !== false;
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const base: { name: Name; type: number }[] = [];
  for (const z of zones) {
    const origin = Name.from(z.name);
    const allTypes = z.name.startsWith('types.');
    for (const o of z.owners) {
      for (const t of allTypes ? ALL_TYPES : CORE_TYPES) base.push({ name: o, type: t });
      if (!allTypes) for (let i = 0; i < 3; i++) base.push({ name: o, type: pick(ALL_TYPES) });
      // below every owner: NXDOMAIN, wildcard, referral, DNAME rewrite or occlusion depending on the owner
      base.push({ name: o.prepend(label('below')), type: pick([RRType.A, RRType.TXT, RRType.AAAA]) });
      base.push({ name: o.prepend(label('x'), label('y')), type: RRType.A });
      base.push({ name: o, type: RRType.ANY });
      // every ancestor up to the apex (empty non-terminals) and wildcard owners with the '*' replaced
      for (let up = 1; up < o.labelCount - origin.labelCount; up++) base.push({ name: o.parent(up), type: pick(CORE_TYPES) });
      const star = o.labels.findIndex((l) => l.length === 1 && l[0] === 0x2a);
      if (star >= 0) {
        const sub = (repl: Uint8Array[]) => new Name([...o.labels.slice(0, star), ...repl, ...o.labels.slice(star + 1)]);
        base.push({ name: sub([label('wc')]), type: pick(CORE_TYPES) });
        base.push({ name: sub([label('a'), label('b')]), type: RRType.A });
        base.push({ name: sub([label('real')]), type: RRType.TXT });
      }
    }
    for (let i = 0; i < 15; i++) base.push({ name: origin.prepend(label(`nx${i}`)), type: pick(ALL_TYPES) });
  }
  const outside = ['www.outside.invalid.', 'test.', '.', 'example.', 'xexample.test.', 'sub.example.testing.', 'in-addr.arpa.'];
  for (const o of outside) for (const t of [RRType.A, RRType.SOA, RRType.NS]) base.push({ name: Name.from(o), type: t });
  // DNAME rewrites that make the name too long (RFC 6672 §2.2 YXDOMAIN) and that stay legal
  const l63 = 'q'.repeat(63);
  if (sweeps) {
    base.push({ name: Name.from(`${l63}.${l63}.dnlong.example.test`), type: RRType.A });
    base.push({ name: Name.from(`short.dnlong.example.test`), type: RRType.A });
    base.push({ name: Name.from(`${l63}.${'r'.repeat(40)}.dn.example.test`), type: RRType.A });
    base.push({ name: Name.from(`a.b.c.d.e.f.dnloop.example.test`), type: RRType.A });
  } else {
    // Long names below every owner: a DNAME rewrite of one may overflow (YXDOMAIN).
    for (const z of zones) for (const ow of z.owners) if (rnd() < 0.3 && ow.toString().length < 120) base.push({ name: Name.from(`${l63}.${l63}.${ow}`), type: RRType.A });
  }

  const out: DiffQuery[] = [];
  for (const b of base) {
    const r = rnd();
    const q: DiffQuery = {
      name: rnd() < 0.4 ? randomCase(b.name, rnd) : b.name,
      type: b.type,
      tcp: rnd() < 0.15,
      ednsSize: r < 0.3 ? undefined : r < 0.55 ? 1232 : r < 0.75 ? 4096 : r < 0.9 ? 512 : 1400,
    };
    if (q.ednsSize !== undefined && rnd() < 0.25) q.dnssecOk = true;
    if (rnd() < 0.1) q.rd = true;
    out.push(q);
  }
  if (!sweeps) return out;
  // Truncation sweep: the large RRsets and referrals with every transport/buffer combination.
  const bigNames = ['big.example.test.', 'bigA.example.test.', 'bigAAAA.example.test.', 'bigmx.example.test.', 'x.manyns.example.test.', 'manyns.example.test.', 'example.test.', 'txt-long.types.test.', 'dnskey.types.test.'];
  const bigTypes = [RRType.TXT, RRType.A, RRType.AAAA, RRType.MX, RRType.ANY, RRType.NS, RRType.DNSKEY];
  for (const n of bigNames)
    for (const t of bigTypes)
      for (const e of [undefined, 512, 1232, 1400, 4096, 65535])
        for (const tcp of [false, true]) {
          if (tcp && e !== undefined && e !== 1232) continue;
          out.push({ name: Name.from(n), type: t, tcp, ednsSize: e });
        }
  // DO sweep: DNSSEC-related answers (DS at and below cuts, DNSSEC types stored as data, negative answers).
  const doNames: [string, number][] = [
    ['x.secure.example.test.', RRType.A], ['secure.example.test.', RRType.DS], ['x.deleg.example.test.', RRType.A],
    ['deleg.example.test.', RRType.DS], ['sub.example.test.', RRType.DS], ['sub.example.test.', RRType.DNSKEY],
    ['nx.example.test.', RRType.A], ['www.example.test.', RRType.NSEC], ['x.wild.example.test.', RRType.A],
    ['www.example.test.', RRType.A], ['dnskey.types.test.', RRType.DNSKEY], ['rrsig.types.test.', RRType.RRSIG],
    ['rrsig.types.test.', RRType.A], ['nsec.types.test.', RRType.NSEC], ['nsec3param.types.test.', RRType.NSEC3PARAM],
    ['x.y.secure.types.test.', RRType.A], ['secure.types.test.', RRType.DS], ['www.dn.example.test.', RRType.A],
    ['cds.types.test.', RRType.CDS], ['c1.example.test.', RRType.A], ['example.test.', RRType.DNSKEY],
  ];
  for (const [n, t] of doNames)
    for (const e of [1232, 4096])
      for (const tcp of [false, true]) out.push({ name: Name.from(n), type: t, tcp, ednsSize: e, dnssecOk: true });
  out.push(...protocolEdgeCases());
  return out;
}

/** Classes, opcodes and malformed or unusual queries: how a server refuses matters as much as how it answers. */
export function protocolEdgeCases(): DiffQuery[] {
  const www = Name.from('www.example.test');
  const apex = Name.from('example.test');
  const out: DiffQuery[] = [];
  for (const tcp of [false, true]) {
    // other classes
    for (const [n, t, c] of [
      ['version.bind', RRType.TXT, 3], ['id.server', RRType.TXT, 3], ['hostname.bind', RRType.TXT, 3],
      ['www.example.test', RRType.A, 3], ['www.example.test', RRType.A, 4], ['www.example.test', RRType.A, 255],
      ['www.example.test', RRType.A, 254], ['www.example.test', RRType.A, 1234],
    ] as const)
      out.push({ name: Name.from(n), type: t, class: c, tcp, ednsSize: 1232 });
    // meta and obsolete query types
    for (const t of [RRType.OPT, RRType.TSIG, RRType.TKEY, RRType.MAILA, RRType.MAILB, RRType.MD, RRType.MF, 0, 65535])
      out.push({ name: www, type: t, tcp, ednsSize: 1232 });
    const q = encodeMessage({ ...emptyMessage(0), question: [{ name: www, type: RRType.A, class: 1 }] });
    const patch = (f: (b: Uint8Array) => void, note: string) => {
      const b = Uint8Array.from(q);
      f(b);
      out.push({ name: www, type: RRType.A, tcp, raw: b, note });
    };
    for (const op of [1, 2, 3, 6, 15]) patch((b) => (b[2] = (b[2] & 0x87) | (op << 3)), `opcode ${op}`);
    // NOTIFY and an empty UPDATE (no prerequisites, no updates, no TSIG: must not be accepted as authorised)
    const soaQ = encodeMessage({ ...emptyMessage(0), opcode: 4, aa: true, question: [{ name: apex, type: RRType.SOA, class: 1 }] });
    out.push({ name: apex, type: RRType.SOA, tcp, raw: soaQ, note: 'NOTIFY without TSIG' });
    const upd = encodeMessage({ ...emptyMessage(0), opcode: 5, question: [{ name: apex, type: RRType.SOA, class: 1 }] });
    out.push({ name: apex, type: RRType.SOA, tcp, raw: upd, note: 'empty UPDATE without TSIG' });
    // zone transfers without any ACL
    for (const t of [RRType.AXFR, RRType.IXFR]) out.push({ name: apex, type: t, tcp, ednsSize: tcp ? undefined : 1232 });
    patch((b) => (b[3] |= 0x40), 'Z bit set');
    patch((b) => (b[3] |= 0x20), 'AD bit set');
    patch((b) => (b[3] |= 0x10), 'CD bit set');
    patch((b) => (b[2] |= 0x02), 'TC bit set in the query');
    patch((b) => (b[3] |= 0x05), 'RCODE set in the query');
    patch((b) => (b[5] = 0), 'QDCOUNT 0 with a question present');
    out.push({ name: www, type: RRType.A, tcp, raw: q.subarray(0, 12).map((x, i) => (i === 5 ? 0 : x)), note: 'header only, QDCOUNT 0' });
    patch((b) => (b[5] = 2), 'QDCOUNT 2, one question');
    out.push({ name: www, type: RRType.A, tcp, raw: q.subarray(0, q.length - 2), note: 'question cut short' });
    out.push({ name: www, type: RRType.A, tcp, raw: Uint8Array.from([...q, 0xde, 0xad]), note: 'trailing garbage' });
    const two = encodeMessage({ ...emptyMessage(0), question: [{ name: www, type: RRType.A, class: 1 }, { name: apex, type: RRType.MX, class: 1 }] });
    out.push({ name: www, type: RRType.A, tcp, raw: two, note: 'two questions' });
    const edns = (e: Partial<NonNullable<Message['edns']>>, note: string) =>
      out.push({
        name: www, type: RRType.A, tcp, note,
        raw: encodeMessage({ ...emptyMessage(0), question: [{ name: www, type: RRType.A, class: 1 }], edns: { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: [], ...e } }),
      });
    edns({ version: 1 }, 'EDNS version 1 (BADVERS)');
    edns({ version: 1, do: true }, 'EDNS version 1 with DO');
    edns({ udpSize: 0 }, 'EDNS UDP size 0');
    edns({ udpSize: 100 }, 'EDNS UDP size 100');
    edns({ flags: 0x4000 }, 'unknown EDNS flag');
    edns({ options: [{ code: 65001, data: Uint8Array.from([1, 2, 3]) }] }, 'unknown EDNS option');
    edns({ options: [{ code: 10, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }] }, 'EDNS client cookie');
    edns({ options: [{ code: 3, data: new Uint8Array(0) }] }, 'NSID request');
    edns({ options: [{ code: 12, data: new Uint8Array(20) }] }, 'EDNS padding');
    // two OPT records: FORMERR (RFC 6891 §6.1.1)
    const opt2 = Uint8Array.from([...q.subarray(0, 10), 0, 2, ...q.subarray(12), 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    out.push({ name: www, type: RRType.A, tcp, raw: opt2, note: 'two OPT records' });
    // OPT with a non-root owner: FORMERR
    const optName = Uint8Array.from([...q.subarray(0, 10), 0, 1, ...q.subarray(12), 1, 0x61, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    out.push({ name: www, type: RRType.A, tcp, raw: optName, note: 'OPT owner not root' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison

export type Section = 'answer' | 'authority' | 'additional';

export interface Difference {
  /** What differs: 'header.<field>', 'question', 'edns.<field>', '<section>.rrset-missing' etc. */
  kind: string;
  section?: Section;
  /** The RRset key (owner|type) when the difference is about one RRset. */
  rrset?: string;
  detail: string;
}

export function rrToText(rr: RR): string {
  let rd: string;
  try {
    rd = rdataToText(rr.type, rr.rdata);
  } catch {
    rd = `\\# ${rr.rdata.length} ${Buffer.from(rr.rdata).toString('hex')}`;
  }
  return `${rr.name.toString()} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)} ${rd}`;
}

export function answerToText(a: Answer | Error): string {
  if (a instanceof Error) return `  (no answer: ${a.message})`;
  if (!a.msg) return `  (undecodable: ${a.decodeError}) ${Buffer.from(a.bytes).toString('hex')}`;
  const m = a.msg;
  const flags = (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => m[f]).join(' ');
  const lines = [`  rcode=${m.rcode} opcode=${m.opcode} flags=[${flags}] size=${a.bytes.length}`];
  if (m.edns) lines.push(`  OPT udp=${m.edns.udpSize} version=${m.edns.version} do=${m.edns.do} options=${m.edns.options.map((o) => o.code).join(',')}`);
  for (const q of m.question) lines.push(`  Q ${q.name.toString()} ${classToString(q.class)} ${typeToString(q.type)}`);
  for (const s of ['answer', 'authority', 'additional'] as const) for (const rr of m[s]) lines.push(`  ${s.slice(0, 3).toUpperCase()} ${rrToText(rr)}`);
  return lines.join('\n');
}

/**
 * RDATA with the embedded names of the RFC 1035 types lower-cased. Servers may compress those names against the
 * question, whose case is the client's (Knot does), so their case legitimately follows the query: names compare
 * case-insensitively (RFC 1034 §3.1, RFC 4343 §3). Other types are never compressed, so their bytes compare exactly.
 */
function caseFoldedRdata(rr: RR): Uint8Array {
  if (!COMPRESSIBLE_TYPES.has(rr.type)) return rr.rdata;
  try {
    const r = new WireReader(rr.rdata);
    const parts: Uint8Array[] = [];
    const name = () => parts.push(r.name().toCanonicalWire());
    if (rr.type === RRType.MX) parts.push(r.bytes(2));
    name();
    if (rr.type === RRType.SOA || rr.type === RRType.MINFO) name();
    parts.push(r.bytes(r.remaining));
    return Buffer.concat(parts);
  } catch {
    return rr.rdata;
  }
}

interface RRsetView {
  ttls: number[];
  rdatas: string[];
}

function rrsets(rrs: RR[]): Map<string, RRsetView> {
  const m = new Map<string, RRsetView>();
  for (const rr of rrs) {
    // RRSIGs are grouped by the type they cover as well (RFC 4034 §3: each covered type is its own "set").
    const covered = rr.type === RRType.RRSIG && rr.rdata.length >= 2 ? `/${typeToString((rr.rdata[0] << 8) | rr.rdata[1])}` : '';
    const k = `${rr.name.key}|${typeToString(rr.type)}${covered}|${classToString(rr.class)}`;
    let v = m.get(k);
    if (!v) m.set(k, (v = { ttls: [], rdatas: [] }));
    v.ttls.push(rr.ttl);
    v.rdatas.push(Buffer.from(caseFoldedRdata(rr)).toString('hex'));
  }
  for (const v of m.values()) v.rdatas.sort();
  return m;
}

/** Compare two decoded answers section by section; RRsets are compared as sets, order-insensitive. */
export function compareMessages(a: Message, b: Message): Difference[] {
  const d: Difference[] = [];
  for (const f of ['qr', 'opcode', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd', 'rcode'] as const)
    if (a[f] !== b[f]) d.push({ kind: `header.${f}`, detail: `${f}: ${a[f]} vs ${b[f]}` });
  const qa = a.question.map((q) => `${q.name.toString()} ${q.class} ${q.type}`).join(';');
  const qb = b.question.map((q) => `${q.name.toString()} ${q.class} ${q.type}`).join(';');
  if (qa !== qb) d.push({ kind: 'question', detail: `question: ${qa} vs ${qb}` });
  if (!!a.edns !== !!b.edns) d.push({ kind: 'edns.presence', detail: `OPT present: ${!!a.edns} vs ${!!b.edns}` });
  else if (a.edns && b.edns) {
    if (a.edns.udpSize !== b.edns.udpSize) d.push({ kind: 'edns.udpSize', detail: `OPT UDP size: ${a.edns.udpSize} vs ${b.edns.udpSize}` });
    if (a.edns.version !== b.edns.version) d.push({ kind: 'edns.version', detail: `EDNS version: ${a.edns.version} vs ${b.edns.version}` });
    if (a.edns.do !== b.edns.do) d.push({ kind: 'edns.do', detail: `DO: ${a.edns.do} vs ${b.edns.do}` });
    const oa = a.edns.options.map((o) => o.code).sort().join(',');
    const ob = b.edns.options.map((o) => o.code).sort().join(',');
    if (oa !== ob) d.push({ kind: 'edns.options', detail: `EDNS options: [${oa}] vs [${ob}]` });
  }
  for (const s of ['answer', 'authority', 'additional'] as const) {
    const sa = rrsets(a[s]);
    const sb = rrsets(b[s]);
    for (const [k, va] of sa) {
      const vb = sb.get(k);
      if (!vb) {
        d.push({ kind: `${s}.rrset-only-in-first`, section: s, rrset: k, detail: `${s}: ${k} only in the first answer` });
        continue;
      }
      if (va.rdatas.join() !== vb.rdatas.join())
        d.push({ kind: `${s}.rdata`, section: s, rrset: k, detail: `${s}: ${k} RDATA differs (${va.rdatas.length} vs ${vb.rdatas.length} records)` });
      const ta = [...new Set(va.ttls)].join('/');
      const tb = [...new Set(vb.ttls)].join('/');
      if (ta !== tb) d.push({ kind: `${s}.ttl`, section: s, rrset: k, detail: `${s}: ${k} TTL ${ta} vs ${tb}` });
    }
    for (const k of sb.keys())
      if (!sa.has(k)) d.push({ kind: `${s}.rrset-only-in-second`, section: s, rrset: k, detail: `${s}: ${k} only in the second answer` });
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Running

export interface Endpoint {
  label: string;
  port: number;
  tcpPort: number;
}

export interface Exchange {
  query: DiffQuery;
  a: Answer | Error;
  b: Answer | Error;
}

async function ask(ep: Endpoint, q: DiffQuery, payload: Uint8Array): Promise<Answer | Error> {
  // Well-formed queries get a second chance: on a loaded machine a UDP datagram can be lost without any server
  // fault. Hand-made packets are not retried, since not answering them may be the behaviour under test.
  const tries = q.raw ? 1 : 2;
  let last: Error = new Error('no attempt');
  for (let i = 0; i < tries; i++) {
    try {
      const bytes = q.tcp ? await tcpExchange(ep.tcpPort, payload, 4000) : await udpExchange(ep.port, payload, 3000);
      return parseAnswer(bytes);
    } catch (e) {
      last = e as Error;
    }
  }
  return last;
}

/** Send every query (same id, same bytes) to both endpoints, `parallel` at a time. */
export async function runExchanges(qs: DiffQuery[], first: Endpoint, second: Endpoint, parallel = 16): Promise<Exchange[]> {
  const out: Exchange[] = new Array(qs.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= qs.length) return;
      const q = { ...qs[i], id: (i * 7919 + 1) & 0xffff };
      let payload: Uint8Array;
      if (q.raw) {
        payload = Uint8Array.from(q.raw);
        if (payload.length >= 2) {
          payload[0] = q.id! >> 8;
          payload[1] = q.id! & 0xff;
        }
      } else payload = buildQuery(q);
      const [a, b] = await Promise.all([ask(first, q, payload), ask(second, q, payload)]);
      out[i] = { query: q, a, b };
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** The verdict on a run of exchanges: every difference not explained by an allowance, grouped by its shape. */
export interface Judgement {
  exchanges: number;
  unexplained: number;
  /** One line: counts and the allowances used. */
  summary: string;
  /** The failure text: one example per kind of difference (the full list is in `reportFile`). */
  message: string;
  reportFile: string;
}

/**
 * Judge `exchanges` (a = knotd, the reference; b = `target`): headers of undecodable answers, one side silent, UDP
 * answers over the size limit (never excusable), then section by section with the allowances.
 */
export function judgeExchanges(exchanges: readonly Exchange[], target: string, reportName = target): Judgement {
  const unexplained: string[] = [];
  const groups = new Map<string, { count: number; example: string }>();
  const note = (sig: string, text: string) => {
    unexplained.push(text);
    const g = groups.get(sig);
    if (g) g.count++;
    else groups.set(sig, { count: 1, example: text });
  };
  const allowedCount = new Map<string, number>();
  let bothDropped = 0;
  for (const e of exchanges) {
    const q: DiffQuery = e.query;
    const head = `QUERY ${describeQuery(q)} (id ${q.id})`;
    const both = `--- knotd\n${answerToText(e.a)}\n--- ${target}\n${answerToText(e.b)}\n`;
    if (e.a instanceof Error && e.b instanceof Error) {
      // Both dropped the packet (no answer within the timeout): the same behaviour.
      bothDropped++;
      continue;
    }
    if (!(e.a instanceof Error) && !(e.b instanceof Error) && (!e.a.msg || !e.b.msg)) {
      // At least one answer does not decode as a whole message (e.g. an echoed malformed question): compare headers.
      const ha = decodeHeader(e.a.bytes);
      const hb = decodeHeader(e.b.bytes);
      const keyOf = (h: typeof ha) => `qr=${h.qr} op=${h.opcode} aa=${h.aa} tc=${h.tc} rcode=${h.rcode}`;
      if (keyOf(ha) !== keyOf(hb)) note(`headers ${keyOf(ha)} vs ${keyOf(hb)}`, `${head}\n  headers differ: ${keyOf(ha)} vs ${keyOf(hb)}\n${both}`);
      continue;
    }
    const dropAllowed = droppedVsFormerr(q, e.a, e.b);
    if (dropAllowed) {
      allowedCount.set(dropAllowed.id, (allowedCount.get(dropAllowed.id) ?? 0) + 1);
      continue;
    }
    if (e.a instanceof Error || e.b instanceof Error || !e.a.msg || !e.b.msg) {
      note(`only ${e.a instanceof Error || !e.a.msg ? target : 'knotd'} answered`, `${head}\n  one server answered, the other did not\n${both}`);
      continue;
    }
    // A UDP answer never exceeds 512 octets without EDNS, nor the requestor's advertised size with it
    // (RFC 1035 §4.2.1, RFC 6891 §6.2.3-§6.2.5): checked for both servers, never excusable.
    if (!q.tcp && !q.raw) {
      const limit = q.ednsSize === undefined ? 512 : Math.max(512, q.ednsSize);
      for (const [who, ans] of [['knotd', e.a], [target, e.b]] as const)
        if (ans.bytes.length > limit)
          note(`${who} UDP answer over the size limit`, `${head}\n  ${who} sent ${ans.bytes.length} octets over UDP, limit ${limit}\n--- ${who}\n${answerToText(ans)}\n`);
    }
    const bad = [];
    for (const d of compareMessages(e.a.msg, e.b.msg)) {
      const allow = findAllowance(q, e.a, e.b, d);
      if (allow) allowedCount.set(allow.id, (allowedCount.get(allow.id) ?? 0) + 1);
      else bad.push(d);
    }
    if (bad.length > 0)
      note(
        bad.map((d) => (d.rrset ? `${d.kind} ${d.rrset.split('|').slice(1).join('|')}` : d.kind.startsWith('header') ? d.detail : d.kind)).join(', '),
        `${head}\n${bad.map((d) => `  ${d.detail}`).join('\n')}\n${both}`,
      );
  }
  const reportFile = join(tmpdir(), `dms-differential-${reportName}.txt`);
  writeFileSync(reportFile, unexplained.join(''));
  const allowed = ALLOWANCES.map((a) => `${a.id} (${a.rfc}): ${allowedCount.get(a.id) ?? 0}`).join('; ');
  return {
    exchanges: exchanges.length,
    unexplained: unexplained.length,
    summary: `${exchanges.length} queries (${bothDropped} dropped by both), ${unexplained.length} with unexplained differences; allowed: ${allowed}`,
    message: `${unexplained.length} of ${exchanges.length} answers differ from knotd (full list in ${reportFile}); one example per kind of difference:\n${[...groups]
      .map(([sig, g]) => `### ${g.count} × ${sig}\n${g.example}`)
      .join('\n')}`,
    reportFile,
  };
}
