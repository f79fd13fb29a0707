// QueryHandler.handle() in process (no sockets): header/question checks, RCODEs, EDNS, truncation, the memo path
// and its patching, and robustness against arbitrary bytes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Opcode, Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, type Edns, emptyMessage, encodeMessage, type Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { type HandlerResult, QueryHandler } from '../../src/server/query.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

function zone(text: string, origin: string) {
  const o = Name.from(origin);
  const p = parseZoneText(text, { origin: o, defaultTtl: 3600 });
  assert.deepEqual(p.problems, []);
  return compileZone(o, p.records);
}

const table = new ZoneTable();
let big = '';
for (let i = 0; i < 60; i++) big += `big TXT "${'x'.repeat(40)} ${i}"\n`;
let manyNs = '';
for (let i = 0; i < 40; i++) manyNs += `deleg NS ns${i}.deleg\nns${i}.deleg A 192.0.2.${i}\n`;
table.set(
  zone(
    `@ SOA ns1 host 1 2 3 4 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.3
www AAAA 2001:db8::3
*.wild A 192.0.2.5
${big}${manyNs}`,
    'example.org',
  ),
);
table.set(zone('@ SOA ns1 host 9 2 3 4 300\n@ NS ns1\nns1 A 192.0.2.9\n', 'child.example.org'));
const handler = new QueryHandler(table);

function query(name: string, type: number, opts: { id?: number; edns?: Partial<Edns> | false; rd?: boolean; opcode?: number; qclass?: number } = {}): Uint8Array {
  const m: Message = emptyMessage(opts.id ?? 0x1234);
  m.rd = opts.rd ?? false;
  m.opcode = opts.opcode ?? 0;
  m.question.push({ name: Name.parse(name.endsWith('.') ? name : `${name}.`), type, class: opts.qclass ?? 1 });
  if (opts.edns !== false && opts.edns !== undefined) {
    m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: [], ...opts.edns };
  }
  return encodeMessage(m);
}

function one(r: HandlerResult | Promise<HandlerResult>): Uint8Array {
  assert.ok(r instanceof Uint8Array, 'a single synchronous response');
  return r;
}

function ask(bytes: Uint8Array, via: 'udp' | 'tcp' | QueryHandler = 'udp'): Message {
  const h = via instanceof QueryHandler ? via : handler;
  return decodeMessage(one(h.handle(bytes, { transport: via === 'tcp' ? 'tcp' : 'udp' })));
}

test('a positive answer: id, flags, question case preserved, answer owner compressed to the question', () => {
  for (let i = 0; i < 3; i++) {
    // The second and third rounds come from the memo, patched per query.
    const id = 0x4000 + i;
    const name = ['WwW.Example.ORG', 'www.example.org', 'WWW.EXAMPLE.ORG'][i];
    const resp = one(handler.handle(query(name, RRType.A, { id, rd: i === 1 }), { transport: 'udp' }));
    const m = decodeMessage(resp);
    assert.equal(m.id, id);
    assert.ok(m.qr);
    assert.ok(m.aa);
    assert.equal(m.rd, i === 1);
    assert.equal(m.ra, false);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.question[0].name.toString(), `${name}.`);
    assert.equal(m.answer.length, 1);
    assert.equal(m.answer[0].name.toString(), `${name}.`, 'owner shows the query case');
    assert.equal(m.edns, undefined, 'no OPT without EDNS in the query');
  }
});

test('EDNS: OPT echoed with our payload size and the DO bit; BADVERS for version 1; options ignored', () => {
  const m = ask(query('www.example.org', RRType.A, { edns: { udpSize: 4096, do: true } }));
  assert.ok(m.edns);
  assert.equal(m.edns.udpSize, 1232);
  assert.equal(m.edns.version, 0);
  assert.equal(m.edns.do, true);
  assert.equal(m.answer.length, 1);
  const bad = ask(query('www.example.org', RRType.A, { edns: { version: 1 } }));
  assert.equal(bad.rcode, Rcode.BADVERS);
  assert.equal(bad.answer.length, 0);
  assert.ok(bad.edns);
  assert.equal(bad.edns.version, 0);
  const withOpts = ask(
    query('www.example.org', RRType.A, { edns: { options: [{ code: 65001, data: Uint8Array.of(1, 2, 3) }, { code: 10, data: new Uint8Array(8) }] } }),
  );
  assert.equal(withOpts.rcode, Rcode.NOERROR);
  assert.equal(withOpts.answer.length, 1);
  assert.deepEqual(withOpts.edns?.options, []);
});

test('truncation: over 512 octets without EDNS, over the EDNS size with it; TCP is not truncated', () => {
  const plain = ask(query('big.example.org', RRType.TXT));
  assert.ok(plain.tc);
  assert.equal(plain.answer.length, 0);
  assert.equal(plain.question.length, 1);
  const small = ask(query('big.example.org', RRType.TXT, { edns: { udpSize: 1000 } }));
  assert.ok(small.tc);
  assert.ok(small.edns, 'OPT kept in a truncated answer');
  const below512 = one(handler.handle(query('big.example.org', RRType.TXT, { edns: { udpSize: 100 } }), { transport: 'udp' }));
  assert.ok(below512.length <= 512, 'an EDNS size below 512 counts as 512');
  const tcp = ask(query('big.example.org', RRType.TXT), 'tcp');
  assert.equal(tcp.tc, false);
  assert.equal(tcp.answer.length, 60);
  // After a memoized full answer exists, UDP still truncates.
  assert.ok(ask(query('big.example.org', RRType.TXT)).tc);
});

test('a referral too big for UDP keeps the NS and drops optional glue or sets TC', () => {
  const r = one(handler.handle(query('x.deleg.example.org', RRType.A), { transport: 'udp' }));
  assert.ok(r.length <= 512);
  const m = decodeMessage(r);
  assert.equal(m.aa, false);
  // 40 NS records do not all fit in 512 octets with their in-domain glue: TC (RFC 9471).
  assert.ok(m.tc);
  const tcp = ask(query('x.deleg.example.org', RRType.A), 'tcp');
  assert.equal(tcp.authority.length, 40);
  assert.equal(tcp.additional.length, 40);
});

test('REFUSED outside the served zones; the most specific zone answers', () => {
  const r = ask(query('www.example.net', RRType.A, { edns: {} }));
  assert.equal(r.rcode, Rcode.REFUSED);
  assert.equal(r.aa, false);
  assert.equal(r.question.length, 1);
  assert.ok(r.edns, 'OPT echoed on errors too');
  assert.deepEqual(r.edns.options.map((o) => [o.code, ...o.data]), [[15, 0, 20]], 'EDE 20: not authoritative (RFC 8914)');
  assert.equal(ask(query('www.example.net', RRType.A)).rcode, Rcode.REFUSED);
  const child = ask(query('child.example.org', RRType.SOA));
  assert.equal(child.answer.length, 1);
  assert.ok(child.aa);
  // SOA serial 9 is the child's.
  assert.equal(child.answer[0].rdata.at(-17), 9);
});

test('NXDOMAIN and NODATA via the handler, and wildcard answers stay correct from the memo', () => {
  const nx = ask(query('nope.example.org', RRType.A));
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.authority[0].type, RRType.SOA);
  assert.equal(nx.authority[0].ttl, 300);
  for (const n of ['a.wild.example.org', 'b.wild.example.org', 'A.wild.example.org']) {
    const w = ask(query(n, RRType.A));
    assert.equal(w.answer[0].name.toString(), `${n}.`);
  }
});

test('negative answers are assembled from the zone SOA (owner points into the question), never memoized', () => {
  const before = handler.memoSize;
  for (let i = 0; i < 50; i++) {
    const name = `nx${i}.deep.EXAMPLE.org`;
    const m = ask(query(name, RRType.A, { edns: i % 2 === 0 ? {} : false, rd: i % 3 === 0 }));
    assert.equal(m.rcode, Rcode.NXDOMAIN);
    assert.ok(m.aa);
    assert.equal(m.rd, i % 3 === 0);
    assert.equal(m.question[0].name.toString(), `${name}.`);
    assert.equal(m.authority.length, 1);
    assert.equal(m.authority[0].name.toString(), 'EXAMPLE.org.', 'the SOA owner is the zone name as the query wrote it');
    assert.equal(m.authority[0].ttl, 300);
    assert.equal(m.edns !== undefined, i % 2 === 0);
  }
  const nodata = ask(query('www.example.org', RRType.MX));
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.equal(nodata.answer.length, 0);
  assert.equal(nodata.authority[0].type, RRType.SOA);
  const wildNodata = ask(query('q.wild.example.org', RRType.MX));
  assert.equal(wildNodata.authority[0].type, RRType.SOA);
  assert.equal(handler.memoSize, before);
  // A positive answer is memoized (so the count above could have moved).
  ask(query('www.example.org', RRType.AAAA));
  assert.equal(handler.memoSize, before + 1);
  // Another zone replaced (a change patched into it): the memoized answers of this zone stay; its own entries are
  // stale and rebuilt one by one (covered in 'zone replaced in the table').
  table.set(table.get(Name.from('child.example.org'))!);
  ask(query('www.example.org', RRType.AAAA));
  assert.equal(handler.memoSize, before + 1);
  // A zone added or removed may change which zone answers a name: the memo is emptied.
  table.set(zone('@ SOA ns1 host 9 2 3 4 300\n@ NS ns1\nns1 A 192.0.2.9\n', 'other.example.org'));
  ask(query('www.example.org', RRType.A));
  assert.equal(handler.memoSize, 1);
  table.delete(Name.from('other.example.org'));
});

test('FORMERR: QDCOUNT 0 or 2, truncated question, trailing garbage, bad OPT', () => {
  const q = query('www.example.org', RRType.A);
  const zeroQd = q.slice(0, 12);
  const r0 = decodeMessage(one(handler.handle(zeroQd, { transport: 'udp' })));
  assert.equal(r0.rcode, Rcode.FORMERR);
  assert.equal(r0.question.length, 0);
  const two = q.slice();
  two[5] = 2;
  assert.equal(decodeMessage(one(handler.handle(two, { transport: 'udp' }))).rcode, Rcode.FORMERR);
  const cut = q.slice(0, q.length - 2);
  assert.equal(decodeMessage(one(handler.handle(cut, { transport: 'udp' }))).rcode, Rcode.FORMERR);
  const trailing = Uint8Array.from([...q, 0, 0, 0]);
  assert.equal(decodeMessage(one(handler.handle(trailing, { transport: 'udp' }))).rcode, Rcode.FORMERR);
  const optBad = query('www.example.org', RRType.A, { edns: {} });
  optBad[optBad.length - 1] = 5; // RDLENGTH says 5, nothing follows
  assert.equal(decodeMessage(one(handler.handle(optBad, { transport: 'udp' }))).rcode, Rcode.FORMERR);
  // A compression pointer in the question name.
  const ptr = Uint8Array.from([...q.slice(0, 12), 0xc0, 0x0c, 0, 1, 0, 1]);
  assert.equal(decodeMessage(one(handler.handle(ptr, { transport: 'udp' }))).rcode, Rcode.FORMERR);
});

test('NOTIMP for unserved opcodes, REFUSED for AXFR/IXFR until a handler is registered, responses ignored', () => {
  for (const op of [Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE, 3, 15]) {
    const r = decodeMessage(one(handler.handle(query('example.org', RRType.SOA, { opcode: op }), { transport: 'udp' })));
    assert.equal(r.rcode, Rcode.NOTIMP, `opcode ${op}`);
    assert.equal(r.opcode, op);
  }
  assert.equal(ask(query('example.org', RRType.AXFR), 'tcp').rcode, Rcode.REFUSED);
  assert.equal(ask(query('example.org', RRType.IXFR)).rcode, Rcode.REFUSED);
  // As Knot: meta types other than transfers get an ordinary NODATA, type 0 NOTIMP.
  const mailb = ask(query('example.org', RRType.MAILB));
  assert.equal(mailb.rcode, Rcode.NOERROR);
  assert.equal(mailb.authority[0].type, RRType.SOA);
  assert.equal(ask(query('example.org', 0)).rcode, Rcode.NOTIMP);
  assert.equal(ask(query('example.org', RRType.A, { qclass: 3 })).rcode, Rcode.REFUSED);
  // QCLASS ANY is answered from the IN data, the question keeping class ANY (memo path too).
  for (let i = 0; i < 2; i++) {
    const any = ask(query('www.example.org', RRType.A, { qclass: 255 }));
    assert.equal(any.answer.length, 1);
    assert.equal(any.question[0].class, 255);
    assert.equal(any.answer[0].class, 1);
  }
  const resp = query('www.example.org', RRType.A);
  resp[2] |= 0x80;
  assert.equal(handler.handle(resp, { transport: 'udp' }), null);
  assert.equal(handler.handle(new Uint8Array(5), { transport: 'udp' }), null);
});

test('registered handlers: opcode and AXFR hooks get the decoded message and may be async', async () => {
  const h = new QueryHandler(table);
  h.opcodeHandlers.set(Opcode.NOTIFY, (req) => {
    const m = { ...req.message, qr: true, aa: true };
    return encodeMessage(m);
  });
  h.qtypeHandlers.set(RRType.AXFR, async (req) => [encodeMessage({ ...req.message, qr: true }), encodeMessage({ ...req.message, qr: true })]);
  const n = h.handle(query('example.org', RRType.SOA, { opcode: Opcode.NOTIFY }), { transport: 'udp' });
  assert.ok(n instanceof Uint8Array);
  assert.equal(decodeMessage(n).opcode, Opcode.NOTIFY);
  const x = await h.handle(query('example.org', RRType.AXFR), { transport: 'tcp' });
  assert.ok(Array.isArray(x));
  assert.equal(x.length, 2);
  // TSIG-signed queries without a TSIG handler: NOTAUTH, never answered as if unsigned.
  const m = emptyMessage(7);
  m.question.push({ name: Name.from('www.example.org'), type: RRType.A, class: 1 });
  const alg = Name.from('hmac-sha256').toWire();
  // Algorithm, time signed (48 bits), fudge, MAC size 0, original id, error, other length.
  const tsigRdata = Uint8Array.from([...alg, 0, 0, 0, 0, 0, 1, 1, 44, 0, 0, 0, 7, 0, 0, 0, 0]);
  m.additional.push({ name: Name.from('key'), type: RRType.TSIG, class: 255, ttl: 0, rdata: tsigRdata });
  const signed = decodeMessage(one(h.handle(encodeMessage(m), { transport: 'udp' })));
  assert.equal(signed.rcode, Rcode.NOTAUTH);
});

test('ANY: one RRset, the lowest type, over UDP and TCP (RFC 8482, as Knot)', () => {
  for (const t of ['udp', 'tcp'] as const) {
    const m = ask(query('www.example.org', RRType.ANY), t);
    assert.deepEqual(m.answer.map((r) => r.type), [RRType.A]);
    assert.equal(ask(query('example.org', RRType.ANY), t).answer[0].type, RRType.NS);
  }
});

test('zone replaced in the table: the next query sees the new version (memo not reused)', () => {
  const t = new ZoneTable();
  const h = new QueryHandler(t);
  t.set(zone('@ SOA ns host 1 2 3 4 5\nwww A 192.0.2.1\n', 'swap.test'));
  const a1 = decodeMessage(one(h.handle(query('www.swap.test', RRType.A), { transport: 'udp' })));
  assert.deepEqual([...a1.answer[0].rdata], [192, 0, 2, 1]);
  t.set(zone('@ SOA ns host 1 2 3 4 5\nwww A 192.0.2.7\n', 'other.test'));
  t.set(zone('@ SOA ns host 2 2 3 4 5\nwww A 192.0.2.2\n', 'swap.test'));
  const a2 = decodeMessage(one(h.handle(query('www.swap.test', RRType.A), { transport: 'udp' })));
  assert.deepEqual([...a2.answer[0].rdata], [192, 0, 2, 2]);
  // Memoized, then the zone replaced again: the stale entry gives way to the new answer, the other zone's stays.
  decodeMessage(one(h.handle(query('www.other.test', RRType.A), { transport: 'udp' })));
  const size = h.memoSize;
  t.set(zone('@ SOA ns host 3 2 3 4 5\nwww A 192.0.2.3\n', 'swap.test'));
  const a3 = decodeMessage(one(h.handle(query('www.swap.test', RRType.A), { transport: 'udp' })));
  assert.deepEqual([...a3.answer[0].rdata], [192, 0, 2, 3]);
  assert.equal(h.memoSize, size, 'one entry replaced, none added, none lost');
  assert.deepEqual([...decodeMessage(one(h.handle(query('www.other.test', RRType.A), { transport: 'udp' }))).answer[0].rdata], [192, 0, 2, 7]);
  t.delete(Name.from('swap.test'));
  assert.equal(decodeMessage(one(h.handle(query('www.swap.test', RRType.A), { transport: 'udp' }))).rcode, Rcode.REFUSED);
});

test('no input throws, stalls or is answered with something undecodable', () => {
  const seed = query('www.example.org', RRType.A, { edns: {} });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        // Mutations of a valid query reach deeper than random bytes.
        fc.tuple(fc.integer({ min: 0, max: seed.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: seed.length })).map(
          ([i, v, cut]) => {
            const b = seed.slice(0, Math.max(cut, 12));
            if (i < b.length) b[i] = v;
            return b;
          },
        ),
      ),
      fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'),
      (bytes, transport) => {
        const r = handler.handle(bytes, { transport });
        if (r === null) return;
        assert.ok(r instanceof Uint8Array);
        const m = decodeMessage(r);
        assert.ok(m.qr);
        assert.equal(m.id, (bytes[0] << 8) | bytes[1]);
        if (transport === 'udp') assert.ok(r.length <= 1232);
      },
    ),
    { numRuns: 3000 },
  );
});

test('memo: bounded by memoLimit, keyed case-insensitively on name and type, answers unchanged from it', () => {
  const small = new QueryHandler(table, { memoLimit: 3 });
  const names = ['www', 'ns1', 'a.wild', 'b.wild', 'c.wild', 'd.wild'];
  const first = names.map((n) => ask(query(`${n}.example.org`, RRType.A), small));
  assert.ok(small.memoSize <= 3);
  // Asked again (from the memo or rebuilt after a clear), in another case: the same answers, the query's case.
  names.forEach((n, i) => {
    const again = ask(query(`${n.toUpperCase()}.example.org`, RRType.A), small);
    assert.equal(again.question[0].name.toString(), `${n.toUpperCase()}.example.org.`);
    assert.deepEqual(again.answer.map((r) => r.rdata), first[i].answer.map((r) => r.rdata));
    assert.ok(again.answer.length > 0);
  });
  // Same name, another type: a separate entry, not the A answer.
  const before = small.memoSize;
  const aaaa = ask(query('www.example.org', RRType.AAAA), small);
  assert.equal(aaaa.answer[0].type, RRType.AAAA);
  assert.ok(small.memoSize === before + 1 || small.memoSize === 1);
});

test('memo key: a name asked after a longer one finds its entry (nothing of the earlier question in the key)', () => {
  const h = new QueryHandler(table);
  ask(query('www.example.org', RRType.A), h);
  ask(query('a-much-longer-name.wild.example.org', RRType.A), h);
  assert.equal(h.memoSize, 2);
  ask(query('www.example.org', RRType.A), h);
  assert.equal(h.memoSize, 2, 'answered from its entry, not memoized a second time');
});

test('errors before the question is read keep the OPT (RFC 6891 §7); a question-less COOKIE query gets a server cookie (RFC 7873 §5.4)', () => {
  const withOpt = query('www.example.org', RRType.A, { edns: {} });
  // QDCOUNT 0 and 2 with an OPT: FORMERR (RFC 9619) with our OPT.
  const noQuestion = Uint8Array.from([...withOpt.slice(0, 12), ...withOpt.slice(withOpt.length - 11)]);
  noQuestion[5] = 0;
  const r0 = ask(noQuestion);
  assert.equal(r0.rcode, Rcode.FORMERR);
  assert.equal(r0.question.length, 0);
  assert.equal(r0.edns?.udpSize, 1232);
  const q2 = query('www.example.org', RRType.A, { edns: {} });
  const m2 = decodeMessage(q2);
  m2.question.push({ name: Name.parse('ns1.example.org.'), type: RRType.A, class: 1 });
  const r2 = ask(encodeMessage(m2));
  assert.equal(r2.rcode, Rcode.FORMERR);
  assert.ok(r2.edns, 'OPT kept');
  // An unserved opcode with an OPT: NOTIMP with our OPT; a version we do not speak: BADVERS.
  const op = ask(query('example.org', RRType.SOA, { opcode: 15, edns: {} }));
  assert.equal(op.rcode, Rcode.NOTIMP);
  assert.ok(op.edns, 'NOTIMP keeps the OPT');
  const bad = ask(noQuestionWith({ version: 1 }));
  assert.equal(bad.rcode, Rcode.BADVERS);
  assert.equal(bad.edns?.version, 0);
  // No OPT asked, none given.
  assert.equal(ask(query('example.org', RRType.SOA, { opcode: 15 })).edns, undefined);
  // With cookies on: a COOKIE alone asks for a server cookie (NOERROR, no question, client cookie echoed).
  const secret = Uint8Array.from({ length: 16 }, (_, i) => i);
  const withCookies = new QueryHandler(table, { cookieSecrets: () => ({ current: secret }) });
  const clientCookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const c = ask(noQuestionWith({ options: [{ code: 10, data: clientCookie }] }), withCookies);
  assert.equal(c.rcode, Rcode.NOERROR);
  assert.equal(c.question.length, 0);
  const cookie = c.edns?.options.find((o) => o.code === 10);
  assert.equal(cookie?.data.length, 24);
  assert.deepEqual([...cookie!.data.subarray(0, 8)], [...clientCookie]);
  // Without a COOKIE it stays FORMERR; a COOKIE of a length no cookie has is FORMERR too.
  assert.equal(ask(noQuestionWith({}), withCookies).rcode, Rcode.FORMERR);
  assert.equal(ask(noQuestionWith({ options: [{ code: 10, data: clientCookie.subarray(0, 5) }] }), withCookies).rcode, Rcode.FORMERR);
});

/** A query without a question, with this OPT. */
function noQuestionWith(edns: Partial<Edns>): Uint8Array {
  const m = emptyMessage(0x4321);
  m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: [], ...edns };
  return encodeMessage(m);
}

test('EDNS EXPIRE (RFC 7314): a SOA query at a zone apex asking for it gets the SOA EXPIRE; other answers do not', () => {
  const expire = (r: Message) => r.edns?.options.find((o) => o.code === 9);
  for (const via of ['udp', 'tcp'] as const) {
    for (let i = 0; i < 2; i++) {
      // twice: the second from the memo
      const r = ask(query('Example.ORG', RRType.SOA, { edns: { options: [{ code: 9, data: new Uint8Array(0) }] } }), via);
      assert.equal(r.answer[0].type, RRType.SOA);
      assert.deepEqual([...(expire(r)?.data ?? [])], [0, 0, 0, 4], via); // the fixture's SOA EXPIRE is 4
    }
  }
  const child = ask(query('child.example.org', RRType.SOA, { edns: { options: [{ code: 9, data: new Uint8Array(0) }] } }));
  assert.equal(child.answer[0].name.toString(), 'child.example.org.');
  assert.ok(expire(child), 'EXPIRE at the child apex');
  // Not asked, not at an apex, not SOA: no EXPIRE.
  assert.equal(expire(ask(query('example.org', RRType.SOA, { edns: {} }))), undefined);
  assert.equal(expire(ask(query('www.example.org', RRType.SOA, { edns: { options: [{ code: 9, data: new Uint8Array(0) }] } }))), undefined);
  assert.equal(expire(ask(query('www.example.org', RRType.A, { edns: { options: [{ code: 9, data: new Uint8Array(0) }] } }))), undefined);
});

test('CHAOS TXT id.server / hostname.bind / version.bind / version.server: the configured texts, else REFUSED', () => {
  const h = new QueryHandler(table, { chaos: { identity: 'ns-a.example', version: 'DMS 9.9' } });
  const txt = (r: Message) => Buffer.from(r.answer[0].rdata.subarray(1)).toString();
  for (const [name, want] of [
    ['id.server', 'ns-a.example'],
    ['HOSTNAME.bind', 'ns-a.example'],
    ['version.bind', 'DMS 9.9'],
    ['version.server', 'DMS 9.9'],
  ] as const) {
    const r = ask(query(name, RRType.TXT, { qclass: 3, edns: {} }), h);
    assert.equal(r.rcode, Rcode.NOERROR, name);
    assert.ok(!r.aa, 'not authoritative, as Knot');
    assert.equal(r.question[0].name.toString().toLowerCase(), `${name.toLowerCase()}.`);
    assert.equal(r.answer[0].class, 3);
    assert.equal(txt(r), want);
    assert.ok(r.edns, 'OPT in the CHAOS answer');
  }
  // Another type at those names: no data; another CHAOS name, or the default handler (no texts): REFUSED.
  const a = ask(query('version.bind', RRType.A, { qclass: 3 }), h);
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.equal(a.answer.length, 0);
  assert.equal(ask(query('authors.bind', RRType.TXT, { qclass: 3 }), h).rcode, Rcode.REFUSED);
  assert.equal(ask(query('version.bind', RRType.TXT, { qclass: 3 })).rcode, Rcode.REFUSED);
  assert.equal(ask(query('version.bind', RRType.TXT, { qclass: 3 }), new QueryHandler(table, { chaos: { identity: 'x' } })).rcode, Rcode.REFUSED);
});

test('NSID (RFC 5001): the configured identifier when asked, beside a cookie and EXPIRE; none unless asked and configured', () => {
  const h = new QueryHandler(table, { nsid: Uint8Array.from(Buffer.from('ns-a')) });
  const nsid = (r: Message) => r.edns?.options.find((o) => o.code === 3);
  const asked = { options: [{ code: 3, data: new Uint8Array(0) }] };
  for (const via of ['udp', 'tcp'] as const) {
    for (let i = 0; i < 2; i++) {
      const r = ask(query('www.example.org', RRType.A, { edns: asked }), h);
      assert.equal(r.answer.length, 1);
      assert.equal(Buffer.from(nsid(r)?.data ?? []).toString(), 'ns-a', via);
    }
    // Negative answers, referrals, REFUSED: every answer with our OPT.
    assert.ok(nsid(ask(query('nothere.example.org', RRType.A, { edns: asked }), h)), 'NSID in a negative answer');
    assert.ok(nsid(ask(query('www.example.com', RRType.A, { edns: asked }), h)), 'NSID in REFUSED (with its EDE)');
  }
  const both = ask(query('example.org', RRType.SOA, { edns: { options: [{ code: 9, data: new Uint8Array(0) }, { code: 3, data: new Uint8Array(0) }] } }), h);
  assert.deepEqual(
    both.edns?.options.map((o) => o.code),
    [9, 3],
  );
  assert.equal(nsid(ask(query('www.example.org', RRType.A, { edns: {} }), h)), undefined);
  assert.equal(nsid(ask(query('www.example.org', RRType.A, { edns: asked }))), undefined);
});
