// Differential test of the message level, beside knotd and named: hand-made requests of every odd shape a server meets
// on the Internet — EDNS versions, flags, unknown and malformed options, cookies, EXPIRE, question counts, opcodes,
// classes (CHAOS), meta types, compression pointers and label types a question may not hold, records where a query
// has none — go to the three servers serving the same zones, and each answer is reduced to what a client acts on:
// RCODE (extended), header flags, section counts, the OPT (size, version, DO, option codes and lengths), the types in
// each section and the message length.
//
// knotd and named do not always agree; each case names the server dmsd must answer like (`both` when they agree),
// and why when it is one of them. Cases where neither is the reference (our own text in CHAOS answers) check dmsd's
// answer alone.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tcpExchange, udpExchange } from '../helpers/dns-client.js';
import { haveProgram, REPO_ROOT, type RunningServer, startDmsd, startKnotd, startNamed } from '../helpers/servers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diff');
// wild.test is left out: named refuses its wildcard NS.
const zones = ['example.test', 'sub.example.test', 'types.test'].map((name) => ({ name, file: join(FIXTURES, name) }));

function nameWire(n: string): number[] {
  const out: number[] = [];
  for (const l of n.split('.').filter(Boolean)) out.push(l.length, ...Buffer.from(l));
  out.push(0);
  return out;
}

function question(name: string, type = 1, cls = 1): number[] {
  return [...nameWire(name), type >> 8, type & 255, cls >> 8, cls & 255];
}

interface OptSpec {
  size?: number;
  version?: number;
  do?: boolean;
  options?: number[];
  owner?: number[];
  extRcode?: number;
}

interface Request {
  flags?: number;
  questions?: number[][];
  /** QDCOUNT as sent (default: the number of questions). */
  qdcount?: number;
  an?: number;
  ns?: number;
  ar?: number;
  /** Octets after the questions (records of the other sections, garbage). */
  extra?: number[];
  opt?: OptSpec;
  secondOpt?: boolean;
}

function optRecord(o: OptSpec): number[] {
  const size = o.size ?? 1232;
  const od = o.options ?? [];
  return [...(o.owner ?? [0]), 0, 41, size >> 8, size & 255, o.extRcode ?? 0, o.version ?? 0, o.do ? 0x80 : 0, 0, od.length >> 8, od.length & 255, ...od];
}

function build(r: Request): Buffer {
  const qs = r.questions ?? [];
  const ar = (r.ar ?? 0) + (r.opt ? 1 : 0) + (r.secondOpt ? 1 : 0);
  const flags = r.flags ?? 0;
  const b = [0x12, 0x34, flags >> 8, flags & 255, 0, r.qdcount ?? qs.length, 0, r.an ?? 0, 0, r.ns ?? 0, 0, ar];
  for (const q of qs) b.push(...q);
  if (r.extra) b.push(...r.extra);
  if (r.opt) b.push(...optRecord(r.opt));
  if (r.secondOpt) b.push(...optRecord({}));
  return Buffer.from(b);
}

function skipName(m: Buffer, o: number): number {
  for (;;) {
    const l = m[o];
    if (l === 0) return o + 1;
    if ((l & 0xc0) === 0xc0) return o + 2;
    o += l + 1;
  }
}

/** What a client acts on in an answer (or that none came). */
function summary(m: Buffer | null): string {
  if (!m) return 'no answer';
  const f = m.readUInt16BE(2);
  const flags = ['qr', 'aa', 'tc', 'rd', 'ra', 'z', 'ad', 'cd'].filter((_, i) => f & [0x8000, 0x400, 0x200, 0x100, 0x80, 0x40, 0x20, 0x10][i]);
  let rcode = f & 15;
  const counts = [4, 6, 8, 10].map((i) => m.readUInt16BE(i));
  let o = 12;
  for (let i = 0; i < counts[0]; i++) o = skipName(m, o) + 4;
  let opt = 'no OPT';
  const types: string[] = [];
  for (let s = 1; s < 4; s++)
    for (let i = 0; i < counts[s]; i++) {
      o = skipName(m, o);
      const type = m.readUInt16BE(o);
      const klass = m.readUInt16BE(o + 2);
      const ttl = m.readUInt32BE(o + 4);
      const len = m.readUInt16BE(o + 8);
      if (type === 41) {
        rcode |= (ttl >>> 24) << 4;
        const codes: string[] = [];
        for (let p = o + 10; p < o + 10 + len; p += 4 + m.readUInt16BE(p + 2)) codes.push(`${m.readUInt16BE(p)}/${m.readUInt16BE(p + 2)}`);
        opt = `OPT size=${klass} version=${(ttl >> 16) & 255} do=${(ttl >> 15) & 1} options=[${codes.join(' ')}]`;
      } else types.push(`${['', 'an', 'ns', 'ar'][s]}:${type}/${klass}`);
      o += 10 + len;
    }
  return `rcode=${rcode} flags=${flags.join(',')} counts=${counts.join('/')} ${opt} ${types.join(' ')} length=${m.length}`;
}

/** The answer (null: none came — some servers drop what they cannot parse). */
const overUdp = (port: number, request: Buffer): Promise<Buffer | null> =>
  udpExchange(port, request, 800).then(
    (m) => Buffer.from(m),
    () => null,
  );
const overTcp = (port: number, request: Buffer): Promise<Buffer | null> =>
  tcpExchange(port, request, 2000).then(
    (m) => Buffer.from(m),
    () => null,
  );

type Reference = 'both' | 'knotd' | 'named' | ((dmsd: string) => void);

interface Case {
  label: string;
  request: Request;
  tcp?: boolean;
  ref: Reference;
  /** Why one server is the reference and not the other. */
  why?: string;
}

const www = question('www.example.test');
const opt = (o: OptSpec = {}) => o;
const rr = (name: string) => [...nameWire(name), 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, 1];
const COOKIE_WHY = 'named answers DNS Cookies (RFC 7873) as dmsd does; the knotd here has no cookie module';
const KNOT_DROPS = 'knotd drops a request it cannot parse; named and dmsd answer FORMERR (RFC 1035 §4.1.1)';
const EXPIRE_WHY = 'RFC 7314 §3: EXPIRE goes with the answers to a zone\'s SOA, AXFR and IXFR, as named sends it; knotd adds it to any answer';
const META_WHY = 'meta types: knotd (and dmsd) answer NODATA from the zone, named refuses them; RFC 6895 §3.1 leaves it open';

const cases: Case[] = [
  { label: 'a plain A query', request: { questions: [www] }, ref: 'both' },
  { label: 'EDNS version 1: BADVERS (RFC 6891 §6.1.3)', request: { questions: [www], opt: opt({ version: 1 }) }, ref: 'both' },
  { label: 'EDNS version 1 with DO', request: { questions: [www], opt: opt({ version: 1, do: true }) }, ref: 'both' },
  { label: 'an unknown EDNS option is ignored', request: { questions: [www], opt: opt({ options: [0xfd, 0xe9, 0, 2, 1, 2] }) }, ref: 'both' },
  { label: 'EDNS size below 512', request: { questions: [www], opt: opt({ size: 100 }) }, ref: 'both' },
  { label: 'EDNS size 0', request: { questions: [www], opt: opt({ size: 0 }) }, ref: 'both' },
  { label: 'two OPT records: FORMERR', request: { questions: [www], opt: opt(), secondOpt: true }, ref: 'both' },
  { label: 'OPT owner not the root', request: { questions: [www], opt: opt({ owner: nameWire('x') }) }, ref: 'named', why: 'RFC 6891 §6.1.1: the owner MUST be 0; knotd ignores it' },
  { label: 'extended RCODE bits in a query', request: { questions: [www], opt: opt({ extRcode: 5 }) }, ref: 'both' },
  { label: 'an option running past the OPT', request: { questions: [www], opt: opt({ options: [0, 10, 0, 8, 1, 2] }) }, ref: 'both' },
  { label: 'a client cookie', request: { questions: [www], opt: opt({ options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8] }) }, ref: 'named', why: COOKIE_WHY },
  { label: 'a cookie of 5 octets: FORMERR', request: { questions: [www], opt: opt({ options: [0, 10, 0, 5, 1, 2, 3, 4, 5] }) }, ref: 'named', why: COOKIE_WHY },
  { label: 'a server cookie not ours', request: { questions: [www], opt: opt({ options: [0, 10, 0, 16, ...Array(16).fill(7)] }) }, ref: 'named', why: COOKIE_WHY },
  { label: 'a cookie of 41 octets: FORMERR', request: { questions: [www], opt: opt({ options: [0, 10, 0, 41, ...Array(41).fill(1)] }) }, ref: 'named', why: COOKIE_WHY },
  { label: 'EXPIRE asked with SOA (RFC 7314)', request: { questions: [question('example.test', 6)], opt: opt({ options: [0, 9, 0, 0] }) }, ref: 'both' },
  { label: 'EXPIRE asked with SOA over TCP', request: { questions: [question('example.test', 6)], opt: opt({ options: [0, 9, 0, 0] }) }, tcp: true, ref: 'both' },
  { label: 'EXPIRE asked with SOA below the apex', request: { questions: [question('www.example.test', 6)], opt: opt({ options: [0, 9, 0, 0] }) }, ref: 'named', why: EXPIRE_WHY },
  { label: 'EXPIRE asked with A', request: { questions: [www], opt: opt({ options: [0, 9, 0, 0] }) }, ref: 'named', why: EXPIRE_WHY },
  { label: 'NSID asked, none configured', request: { questions: [www], opt: opt({ options: [0, 3, 0, 0] }) }, ref: 'named', why: 'an NSID only when configured (dmsd: nsid = …), as named; knotd sends its host name by default' },
  { label: 'padding option', request: { questions: [www], opt: opt({ options: [0, 12, 0, 4, 0, 0, 0, 0] }) }, ref: 'both' },
  { label: 'TCP keepalive over UDP', request: { questions: [www], opt: opt({ options: [0, 11, 0, 0] }) }, ref: 'both' },
  { label: 'client subnet', request: { questions: [www], opt: opt({ options: [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2] }) }, ref: 'knotd', why: 'an authoritative server without ECS support ignores the option (RFC 7871 §7.1.3); named echoes it' },
  { label: 'no question', request: {}, ref: 'both' },
  { label: 'no question, with EDNS: FORMERR with the OPT', request: { opt: opt() }, ref: 'both' },
  { label: 'no question, with a cookie: a server cookie (RFC 7873 §5.4)', request: { opt: opt({ options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8] }) }, ref: 'named', why: COOKIE_WHY },
  { label: 'two questions (RFC 9619)', request: { questions: [www, question('ns1.example.test')] }, ref: 'named', why: KNOT_DROPS },
  { label: 'QDCOUNT 1 and no question', request: { qdcount: 1 }, ref: 'named', why: KNOT_DROPS },
  { label: 'opcode IQUERY', request: { flags: 1 << 11, questions: [www] }, ref: 'knotd', why: 'NOTIMP echoing the question (named drops it)' },
  { label: 'opcode STATUS', request: { flags: 2 << 11, questions: [www] }, ref: 'knotd', why: 'NOTIMP echoing the question (named drops it)' },
  { label: 'opcode 3', request: { flags: 3 << 11, questions: [www] }, ref: 'knotd', why: 'NOTIMP echoing the question (named drops it)' },
  { label: 'opcode DSO without a question', request: { flags: 6 << 11 }, ref: 'both' },
  { label: 'opcode 15 with EDNS: NOTIMP with the OPT', request: { flags: 15 << 11, questions: [www], opt: opt() }, ref: 'knotd', why: 'NOTIMP echoing the question (named drops it)' },
  { label: 'RD echoed', request: { flags: 0x100, questions: [www] }, ref: 'both' },
  { label: 'CD echoed', request: { flags: 0x10, questions: [www] }, ref: 'named', why: 'RFC 4035 §3.1.6: CD is copied into the response; knotd clears it' },
  { label: 'AD in a query', request: { flags: 0x20, questions: [www] }, ref: 'both' },
  { label: 'AD and DO', request: { flags: 0x20, questions: [www], opt: opt({ do: true }) }, ref: 'both' },
  { label: 'Z set', request: { flags: 0x40, questions: [www] }, ref: 'both' },
  { label: 'TC in a query', request: { flags: 0x200, questions: [www] }, ref: 'both' },
  { label: 'AA in a query', request: { flags: 0x400, questions: [www] }, ref: 'both' },
  { label: 'RA in a query', request: { flags: 0x80, questions: [www] }, ref: 'both' },
  { label: 'an RCODE in a query', request: { flags: 3, questions: [www] }, ref: 'both' },
  { label: 'a response (QR set) is not answered', request: { flags: 0x8000, questions: [www] }, ref: 'both' },
  {
    label: 'CHAOS hostname.bind: our host name, not authoritative as from knotd',
    request: { questions: [question('hostname.bind', 16, 3)] },
    ref: (d) => assert.match(d, /^rcode=0 flags=qr counts=1\/1\/0\/0 no OPT an:16\/3 /),
  },
  {
    label: 'CHAOS version.bind: our version (RFC 4892)',
    request: { questions: [question('version.bind', 16, 3)] },
    ref: (d) => assert.match(d, /^rcode=0 flags=qr counts=1\/1\/0\/0 no OPT an:16\/3 /),
  },
  {
    label: 'CHAOS id.server: our host name (RFC 4892)',
    request: { questions: [question('id.server', 16, 3)], opt: opt() },
    ref: (d) => assert.match(d, /^rcode=0 flags=qr counts=1\/1\/0\/1 OPT size=1232 version=0 do=0 options=\[\] an:16\/3 /),
  },
  { label: 'CHAOS other names: REFUSED', request: { questions: [question('www.example.test', 1, 3)] }, ref: 'both' },
  { label: 'class HS', request: { questions: [question('www.example.test', 1, 4)] }, ref: 'both' },
  { label: 'class ANY', request: { questions: [question('www.example.test', 1, 255)] }, ref: 'knotd', why: 'answered from the IN data as knotd does (named: FORMERR)' },
  { label: 'class NONE', request: { questions: [question('www.example.test', 1, 254)] }, ref: 'knotd', why: 'REFUSED as knotd (named: FORMERR)' },
  { label: 'class 0', request: { questions: [question('www.example.test', 1, 0)] }, ref: 'knotd', why: 'REFUSED as knotd (named: FORMERR)' },
  { label: 'type 0', request: { questions: [question('www.example.test', 0)] }, ref: 'knotd', why: 'NOTIMP as knotd (named: FORMERR)' },
  { label: 'type OPT', request: { questions: [question('www.example.test', 41)] }, ref: 'knotd', why: META_WHY },
  { label: 'type TSIG', request: { questions: [question('www.example.test', 250)] }, ref: 'knotd', why: META_WHY },
  { label: 'type TKEY', request: { questions: [question('www.example.test', 249)] }, ref: 'knotd', why: META_WHY },
  { label: 'type MAILA', request: { questions: [question('www.example.test', 254)] }, ref: 'knotd', why: META_WHY },
  { label: 'type 128', request: { questions: [question('www.example.test', 128)] }, ref: 'knotd', why: META_WHY },
  { label: 'type ANY (RFC 8482)', request: { questions: [question('www.example.test', 255)] }, ref: 'both' },
  { label: 'type ANY over TCP', request: { questions: [question('www.example.test', 255)] }, tcp: true, ref: 'knotd', why: 'minimal ANY on every transport as knotd (named answers all over TCP)' },
  { label: 'type RRSIG in an unsigned zone: NODATA, SOA compressed', request: { questions: [question('www.example.test', 46)] }, ref: 'both' },
  { label: 'type NSEC in an unsigned zone', request: { questions: [question('www.example.test', 47)] }, ref: 'both' },
  { label: 'type 65535: NODATA', request: { questions: [question('www.example.test', 65535)] }, ref: 'both' },
  { label: 'NXDOMAIN', request: { questions: [question('nothere.example.test')] }, ref: 'both' },
  { label: 'a name outside the zones: REFUSED', request: { questions: [question('www.other.invalid')] }, ref: 'both' },
  { label: 'the root', request: { questions: [question('.', 2)] }, ref: 'both' },
  { label: 'octets after the question', request: { questions: [www], extra: [1, 2, 3] }, ref: 'knotd', why: 'FORMERR as knotd (named ignores them)' },
  { label: 'ANCOUNT 1 and nothing there', request: { questions: [www], an: 1 }, ref: 'both' },
  { label: 'a record in the answer section', request: { questions: [www], an: 1, extra: rr('www.example.test') }, ref: 'both' },
  { label: 'a record in the authority section', request: { questions: [www], ns: 1, extra: rr('www.example.test') }, ref: 'both' },
  { label: 'a record before the OPT', request: { questions: [www], ar: 1, extra: rr('www.example.test'), opt: opt() }, ref: 'both' },
  { label: 'a compression pointer loop in the question', request: { questions: [[0xc0, 12, 0, 1, 0, 1]] }, ref: 'named', why: KNOT_DROPS },
  { label: 'a forward compression pointer', request: { questions: [[0xc0, 20, 0, 1, 0, 1, 0, 0]] }, ref: 'named', why: KNOT_DROPS },
  { label: 'a label of 64 octets', request: { questions: [[64, ...Array(64).fill(97), 0, 0, 1, 0, 1]] }, ref: 'named', why: KNOT_DROPS },
  { label: 'a name of 256 octets', request: { questions: [[...Array(4).fill([63, ...Array(63).fill(97)]).flat(), 0, 0, 1, 0, 1]] }, ref: 'named', why: KNOT_DROPS },
  { label: 'label type 0x40', request: { questions: [[0x41, 0, 0, 1, 0, 1]] }, ref: 'named', why: KNOT_DROPS },
  { label: 'a question cut short', request: { questions: [[3, 119, 119, 119, 0, 0, 1]] }, ref: 'named', why: KNOT_DROPS },
];

let knot: RunningServer | undefined;
let named: RunningServer | undefined;
let dmsd: RunningServer | undefined;

before(async () => {
  assert.ok(haveProgram('knotd'), 'knotd is required: apt-get install knot');
  assert.ok(haveProgram('named'), 'named is required: apt-get install bind9');
  [knot, named, dmsd] = await Promise.all([startKnotd(zones), startNamed(zones), startDmsd(FIXTURES, zones.map((z) => z.name))]);
});

after(async () => {
  await Promise.all([knot?.stop(), named?.stop(), dmsd?.stop()]);
});

test('every odd request is answered as the reference server answers it', async () => {
  const wrong: string[] = [];
  for (const c of cases) {
    const request = build(c.request);
    const ask = (s: RunningServer) => (c.tcp ? overTcp(s.tcpPort, request) : overUdp(s.port, request));
    const [k, n, d] = await Promise.all([ask(knot!), ask(named!), ask(dmsd!)]);
    const [ks, ns, ds] = [summary(k), summary(n), summary(d)];
    if (typeof c.ref === 'function') {
      try {
        c.ref(ds);
      } catch (e) {
        wrong.push(`${c.label}: ${(e as Error).message}`);
      }
      continue;
    }
    // A case whose reference servers disagree among themselves is not a reference any more (a new peer version).
    if (c.ref === 'both' && ks !== ns) wrong.push(`${c.label}: knotd and named now differ — knotd ${ks} | named ${ns}`);
    const want = c.ref === 'named' ? ns : ks;
    if (ds !== want) wrong.push(`${c.label}${c.tcp ? ' (TCP)' : ''}:\n    ${c.ref === 'named' ? 'named' : 'knotd'} ${want}\n    dmsd  ${ds}`);
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${cases.length} requests answered otherwise:\n${wrong.join('\n')}`);
});

test('EXPIRE carries the SOA EXPIRE of the zone (1209600 in the fixture), as knotd and named send it', async () => {
  const request = build({ questions: [question('example.test', 6)], opt: opt({ options: [0, 9, 0, 0] }) });
  for (const s of [knot!, named!, dmsd!]) {
    const m = await overUdp(s.port, request);
    assert.ok(m, s.label);
    const i = m.indexOf(Buffer.from([0, 9, 0, 4]), m.length - 8);
    assert.ok(i > 0, `${s.label}: EXPIRE option`);
    assert.equal(m.readUInt32BE(i + 4), 1209600, s.label);
  }
});
