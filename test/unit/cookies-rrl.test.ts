// SipHash-2-4 (reference vectors), RFC 9018 server cookies (its Appendix A vectors), cookie validation (age, skew,
// secret rollover, address binding), the RRL token buckets (rate, window, slip, prefixes, whitelist, log-only,
// classes) with an injected clock, and both wired into QueryHandler in process.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpv6 } from '../../src/dns/address.js';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { checkCookie, clientIpOctets, CookieState, cookieLengthOk, makeServerCookie } from '../../src/dns/cookie.js';
import { decodeMessage, emptyMessage, encodeMessage, type Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { siphash24 } from '../../src/dns/siphash.js';
import { QueryHandler } from '../../src/server/query.js';
import {
  CLS_ANSWER,
  CLS_ERROR,
  CLS_NODATA,
  CLS_NXDOMAIN,
  CLS_REFERRAL,
  RateLimiter,
  RRL_DROP,
  RRL_PASS,
  RRL_SLIP,
  responseClass,
  shortResponse,
} from '../../src/server/rrl.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) => assert.equal(a && toHex(a), b && toHex(b));

function sip(key: Uint8Array, msg: Uint8Array): string {
  const out = new Uint8Array(8);
  siphash24(key, msg, 0, msg.length, out, 0);
  return toHex(out);
}

test('SipHash-2-4: reference vectors (key 00..0f, message 00..len-1)', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  // From the SipHash paper (Appendix A: the 15-octet example) and the reference implementation's vectors.h.
  assert.equal(sip(key, msg(0)), '310e0edd47db6f72');
  assert.equal(sip(key, msg(1)), 'fd67dc93c539f874');
  assert.equal(sip(key, msg(15)), 'e545be4961ca29a1');
  // An offset into a larger buffer hashes the same octets.
  const big = new Uint8Array(40);
  big.set(msg(15), 7);
  const out = new Uint8Array(8);
  siphash24(key, big, 7, 15, out, 0);
  assert.equal(toHex(out), 'e545be4961ca29a1');
});

// RFC 9018 Appendix A: (secret, client cookie, client address, time) → server cookie.
const VECTORS = [
  { secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', client: '2464c4abcf10c957', ip: '198.51.100.100', at: 1559731985, want: '010000005cf79f111f8130c3eee29480' },
  { secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', client: '2464c4abcf10c957', ip: '198.51.100.100', at: 1559734385, want: '010000005cf7a871d4a564a1442aca77' },
  { secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', client: 'fc93fc62807ddb86', ip: '203.0.113.203', at: 1559734700, want: '010000005cf7a9acf73a7810aca2381e' },
  { secret: '445536bcd2513298075a5d379663c962', client: '22681ab97d52c298', ip: '2001:db8:220:1:59de:d0f4:8769:82b8', at: 1559741961, want: '010000005cf7c609a6bb79d16625507a' },
];

function ipOf(text: string): { ip: Uint8Array; len: number } {
  const ip = new Uint8Array(16);
  return { ip, len: clientIpOctets(text, ip) };
}

test('RFC 9018 Appendix A: server cookies for IPv4 and IPv6 clients', () => {
  for (const v of VECTORS) {
    const { ip, len } = ipOf(v.ip);
    const out = new Uint8Array(16);
    makeServerCookie(hex(v.secret), hex(v.client), 0, ip, len, v.at, out, 0);
    assert.equal(toHex(out), v.want, `${v.ip} at ${v.at}`);
  }
});

test('RFC 9018 Appendix A: cookies validate (reserved octets set by the client, rolled-over secrets)', () => {
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  const a1 = hex('2464c4abcf10c957010000005cf79f111f8130c3eee29480');
  const v4 = ipOf('198.51.100.100');
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, v4.ip, v4.len, 1559731985 + 10), CookieState.Valid);
  // Past half an hour: still valid, renewed in the response; past an hour: not ours any more.
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, v4.ip, v4.len, 1559731985 + 2400), CookieState.Renew);
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, v4.ip, v4.len, 1559731985 + 3601), CookieState.Client);
  // From the future beyond the 5-minute skew allowance: not valid.
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, v4.ip, v4.len, 1559731985 - 301), CookieState.Client);
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, v4.ip, v4.len, 1559731985 - 299), CookieState.Valid);
  // Another address, another secret, a garbled hash: not valid.
  const other = ipOf('198.51.100.101');
  assert.equal(checkCookie({ current: secret }, a1, 0, 24, other.ip, other.len, 1559731985), CookieState.Client);
  assert.equal(checkCookie({ current: hex('00'.repeat(16)) }, a1, 0, 24, v4.ip, v4.len, 1559731985), CookieState.Client);
  const garbled = a1.slice();
  garbled[23] ^= 1;
  assert.equal(checkCookie({ current: secret }, garbled, 0, 24, v4.ip, v4.len, 1559731985), CookieState.Client);
  // A.3: the client's reserved octets (01abcdef) are part of the hash (made at 1559727985).
  const a3 = hex('fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5');
  const v4b = ipOf('203.0.113.203');
  assert.equal(checkCookie({ current: secret }, a3, 0, 24, v4b.ip, v4b.len, 0x5cf78f71 + 10), CookieState.Valid);
  // A.4: the old secret's cookie validates while the old secret is the previous one (and is then renewed).
  const a4 = hex('22681ab97d52c298010000005cf7c57926556bd0934c72f8');
  const v6 = ipOf('2001:db8:220:1:59de:d0f4:8769:82b8');
  assert.equal(v6.len, 16);
  const rolled = { current: hex('445536bcd2513298075a5d379663c962'), previous: hex('dd3bdf9344b678b185a6f5cb60fca715') };
  assert.equal(checkCookie(rolled, a4, 0, 24, v6.ip, v6.len, 1559741961), CookieState.Renew);
  assert.equal(checkCookie({ current: rolled.current }, a4, 0, 24, v6.ip, v6.len, 1559741961), CookieState.Client);
  // A server cookie of another length or version cannot be ours.
  assert.equal(checkCookie({ current: secret }, a1.subarray(0, 16), 0, 16, v4.ip, v4.len, 1559731985), CookieState.Client);
});

test('COOKIE option lengths: 8, or 16 to 40 (RFC 7873 §5.2.2)', () => {
  for (let n = 0; n < 50; n++) assert.equal(cookieLengthOk(n), n === 8 || (n >= 16 && n <= 40), String(n));
});

test('client addresses as octets: IPv4, IPv6, IPv4-mapped, garbage', () => {
  assert.deepEqual([...ipOf('192.0.2.1').ip.subarray(0, 4)], [192, 0, 2, 1]);
  assert.equal(ipOf('2001:db8::1').len, 16);
  assert.deepEqual(ipOf('2001:db8::1').ip, parseIpv6('2001:db8::1'));
  const mapped = ipOf('::ffff:192.0.2.7');
  assert.equal(mapped.len, 4);
  assert.deepEqual([...mapped.ip.subarray(0, 4)], [192, 0, 2, 7]);
  assert.equal(ipOf('').len, 0);
  assert.equal(ipOf('1.2.3').len, 0);
  assert.equal(ipOf('1.2.3.256').len, 0);
  assert.equal(ipOf('not an address').len, 0);
});

// ---- RRL buckets ----

function limiter(opts: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) {
  let now = 1_000_000;
  const events: { prefix: string; class: string }[] = [];
  const rrl = new RateLimiter({ responsesPerSecond: 5, clock: () => now, onLimit: (e) => events.push(e), ...opts });
  return { rrl, events, advance: (ms: number) => (now += ms) };
}
const v4 = (s: string) => ipOf(s);

test('RRL: a burst of `rate`, then slip every 2nd (default) and drop the rest; credit returns with time', () => {
  const { rrl, events, advance } = limiter();
  const a = v4('192.0.2.1');
  const verdicts = Array.from({ length: 15 }, () => rrl.decide(a.ip, a.len, CLS_ANSWER));
  assert.deepEqual(verdicts.slice(0, 5), Array(5).fill(RRL_PASS));
  assert.deepEqual(verdicts.slice(5), [RRL_DROP, RRL_SLIP, RRL_DROP, RRL_SLIP, RRL_DROP, RRL_SLIP, RRL_DROP, RRL_SLIP, RRL_DROP, RRL_SLIP]);
  assert.deepEqual(events, [{ prefix: '192.0.2.0/24', class: 'answer', logOnly: false }]);
  // 10 responses of debt: two seconds of credit repay it; the next second gives 5 again (capped at the rate).
  advance(2000);
  assert.equal(rrl.decide(a.ip, a.len, CLS_ANSWER), RRL_DROP); // balance 0 - 1 < 0
  advance(10_000);
  const after = Array.from({ length: 6 }, () => rrl.decide(a.ip, a.len, CLS_ANSWER));
  assert.deepEqual(after, [RRL_PASS, RRL_PASS, RRL_PASS, RRL_PASS, RRL_PASS, RRL_SLIP]);
  const snap = rrl.snapshot();
  assert.equal(snap.get('answer|passed'), 10);
  assert.equal(snap.get('answer|slipped'), 6);
  assert.equal(snap.get('answer|dropped'), 6);
});

test('RRL: sustained flood stays limited; debt capped at `window` seconds of credit', () => {
  const { rrl, advance } = limiter({ window: 2 });
  const a = v4('192.0.2.1');
  let passed = 0;
  // 100 responses a second for 10 seconds at a 5/s limit: after the first second's burst nothing passes.
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 100; i++) {
      if (rrl.decide(a.ip, a.len, CLS_ANSWER) === RRL_PASS) passed++;
      advance(10);
    }
  }
  assert.ok(passed >= 5 && passed <= 7, `passed ${passed}`);
  // Debt is at most window × rate = 10: after 2 s of silence (+ one response's worth) answers resume.
  advance(2300);
  assert.equal(rrl.decide(a.ip, a.len, CLS_ANSWER), RRL_PASS);
});

test('RRL: buckets per /24 and /56 prefix and per class; whitelist; slip 0 and 1', () => {
  const { rrl } = limiter();
  const a = v4('192.0.2.1');
  const sameNet = v4('192.0.2.200');
  const otherNet = v4('192.0.3.1');
  for (let i = 0; i < 5; i++) assert.equal(rrl.decide(a.ip, a.len, CLS_ANSWER), RRL_PASS);
  assert.notEqual(rrl.decide(sameNet.ip, sameNet.len, CLS_ANSWER), RRL_PASS);
  assert.equal(rrl.decide(otherNet.ip, otherNet.len, CLS_ANSWER), RRL_PASS);
  assert.equal(rrl.decide(a.ip, a.len, CLS_NXDOMAIN), RRL_PASS);
  const x = v4('2001:db8:0:ab00::1');
  const y = v4('2001:db8:0:abff::2'); // same /56
  const z = v4('2001:db8:0:ac00::1'); // another /56
  for (let i = 0; i < 5; i++) assert.equal(rrl.decide(x.ip, x.len, CLS_ERROR), RRL_PASS);
  assert.notEqual(rrl.decide(y.ip, y.len, CLS_ERROR), RRL_PASS);
  assert.equal(rrl.decide(z.ip, z.len, CLS_ERROR), RRL_PASS);

  const wl = limiter({ whitelist: ['192.0.2.0/25', '2001:db8::/32'], slip: 0 }).rrl;
  for (let i = 0; i < 50; i++) assert.equal(wl.decide(a.ip, a.len, CLS_ANSWER), RRL_PASS);
  for (let i = 0; i < 50; i++) assert.equal(wl.decide(x.ip, x.len, CLS_ANSWER), RRL_PASS);
  const out = Array.from({ length: 10 }, () => wl.decide(sameNet.ip, sameNet.len, CLS_ANSWER));
  assert.deepEqual(out.slice(5), Array(5).fill(RRL_DROP)); // slip 0: never truncated
  const all = limiter({ slip: 1 }).rrl;
  const s1 = Array.from({ length: 8 }, () => all.decide(a.ip, a.len, CLS_ANSWER));
  assert.deepEqual(s1.slice(5), Array(3).fill(RRL_SLIP));
  const narrow = limiter({ ipv4Prefix: 32 }).rrl;
  for (let i = 0; i < 5; i++) narrow.decide(a.ip, a.len, CLS_ANSWER);
  assert.equal(narrow.decide(sameNet.ip, sameNet.len, CLS_ANSWER), RRL_PASS);
  assert.throws(() => new RateLimiter({ responsesPerSecond: 0 }));
  assert.throws(() => new RateLimiter({ responsesPerSecond: 5, whitelist: ['192.0.2.0/33'] }));
  assert.throws(() => new RateLimiter({ responsesPerSecond: 5, slip: -1 }));
});

test('RRL: log-only passes everything and counts what it would have limited', () => {
  const { rrl, events } = limiter({ logOnly: true });
  const a = v4('192.0.2.1');
  for (let i = 0; i < 20; i++) assert.equal(rrl.decide(a.ip, a.len, CLS_NXDOMAIN), RRL_PASS);
  assert.equal(rrl.snapshot().get('nxdomain|passed'), 5);
  assert.equal(rrl.snapshot().get('nxdomain|logged'), 15);
  assert.equal(events.length, 1);
});

test('RRL: a table full of spoofed sources recycles buckets, memory stays fixed', () => {
  const { rrl } = limiter({ tableSize: 1024 });
  const ip = new Uint8Array(4);
  for (let i = 0; i < 100_000; i++) {
    ip[0] = 10;
    ip[1] = (i >>> 16) & 0xff;
    ip[2] = (i >>> 8) & 0xff;
    ip[3] = i & 0xff;
    rrl.decide(ip, 4, CLS_ANSWER);
  }
  const a = v4('192.0.2.1');
  assert.equal(rrl.decide(a.ip, a.len, CLS_ANSWER), RRL_PASS);
});

// ---- in QueryHandler ----

const Z = `@ SOA ns1 host 1 2 3 4 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.80
sub NS ns.sub
ns.sub A 192.0.2.99
`;
const table = new ZoneTable();
{
  const o = Name.from('example.');
  const p = parseZoneText(Z, { origin: o, defaultTtl: 3600 });
  table.set(compileZone(o, p.records));
}

function query(name: string, cookie?: Uint8Array, type: number = RRType.A): Uint8Array {
  const m: Message = emptyMessage(0x1234);
  m.question = [{ name: Name.from(name), type, class: 1 }];
  m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: cookie ? [{ code: 10, data: cookie }] : [] };
  return encodeMessage(m);
}

function cookieOf(r: Uint8Array): Uint8Array | undefined {
  return decodeMessage(r).edns?.options.find((o) => o.code === 10)?.data;
}

test('QueryHandler: responseClass of real answers; shortResponse keeps question and OPT (with the COOKIE)', () => {
  const h = new QueryHandler(table);
  const udp = { transport: 'udp' as const, address: '192.0.2.1', port: 5 };
  const cls = (name: string, type: number = RRType.A) => responseClass(h.handle(query(name, undefined, type), udp) as Uint8Array);
  assert.equal(cls('www.example.'), CLS_ANSWER);
  assert.equal(cls('www.example.', RRType.TXT), CLS_NODATA);
  assert.equal(cls('nope.example.'), CLS_NXDOMAIN);
  assert.equal(cls('a.sub.example.'), CLS_REFERRAL);
  assert.equal(cls('www.example.org.'), CLS_ERROR); // REFUSED
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  const hc = new QueryHandler(table, { cookieSecrets: () => ({ current: secret }) });
  const full = hc.handle(query('www.example.', hex('0102030405060708')), udp) as Uint8Array;
  const tc = decodeMessage(shortResponse(full, false));
  assert.equal(tc.tc, true);
  assert.equal(tc.answer.length + tc.authority.length, 0);
  assert.equal(tc.question[0].name.toString(), 'www.example.');
  sameBytes(tc.edns?.options.find((o) => o.code === 10)?.data, cookieOf(full));
  const bad = decodeMessage(shortResponse(full, true));
  assert.equal(bad.rcode, Rcode.BADCOOKIE);
  assert.equal(bad.tc, false);
  sameBytes(bad.edns?.options.find((o) => o.code === 10)?.data, cookieOf(full));
});

test('QueryHandler cookies: fresh server cookie, echo when valid, replace when garbled, FORMERR on bad length, TCP too', () => {
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  let now = 1_700_000_000;
  const h = new QueryHandler(table, { cookieSecrets: () => ({ current: secret }), now: () => now });
  const udp = { transport: 'udp' as const, address: '198.51.100.100', port: 5 };
  const client = hex('2464c4abcf10c957');
  const r1 = h.handle(query('www.example.', client), udp) as Uint8Array;
  const d1 = decodeMessage(r1);
  assert.equal(d1.rcode, Rcode.NOERROR);
  assert.equal(d1.answer.length, 1);
  const c1 = cookieOf(r1)!;
  assert.equal(c1.length, 24);
  sameBytes(c1.subarray(0, 8), client);
  const v = ipOf(udp.address);
  assert.equal(checkCookie({ current: secret }, c1, 0, 24, v.ip, v.len, now), CookieState.Valid);
  // Echoed unchanged while fresh (the memo path and the negative path alike).
  now += 60;
  sameBytes(cookieOf(h.handle(query('www.example.', c1), udp) as Uint8Array), c1);
  sameBytes(cookieOf(h.handle(query('nope.example.', c1), udp) as Uint8Array), c1);
  // Renewed after half an hour.
  now += 1900;
  const c2 = cookieOf(h.handle(query('www.example.', c1), udp) as Uint8Array)!;
  assert.notEqual(toHex(c2), toHex(c1));
  assert.equal(checkCookie({ current: secret }, c2, 0, 24, v.ip, v.len, now), CookieState.Valid);
  // Garbled: answered normally with a new, valid cookie.
  const g = c2.slice();
  g[20] ^= 0xff;
  const rg = h.handle(query('www.example.', g), udp) as Uint8Array;
  assert.equal(decodeMessage(rg).answer.length, 1);
  const cg = cookieOf(rg)!;
  assert.notEqual(toHex(cg), toHex(g));
  assert.equal(checkCookie({ current: secret }, cg, 0, 24, v.ip, v.len, now), CookieState.Valid);
  // Bad lengths: FORMERR, no answer.
  for (const n of [0, 7, 9, 15, 41]) {
    const r = decodeMessage(h.handle(query('www.example.', new Uint8Array(n)), udp) as Uint8Array);
    assert.equal(r.rcode, Rcode.FORMERR, `length ${n}`);
    assert.equal(r.answer.length, 0);
  }
  // TCP: the cookie comes back too; errors carry it; no EDNS, no cookie.
  const rt = h.handle(query('www.example.', client), { transport: 'tcp', address: '198.51.100.100', port: 5 }) as Uint8Array;
  assert.equal(cookieOf(rt)?.length, 24);
  assert.equal(cookieOf(h.handle(query('www.example.org.', client), udp) as Uint8Array)?.length, 24);
  // Without secrets configured, COOKIE options are ignored as before.
  const plain = new QueryHandler(table);
  assert.equal(cookieOf(plain.handle(query('www.example.', client), udp) as Uint8Array), undefined);
  assert.equal(decodeMessage(plain.handle(query('www.example.', new Uint8Array(3)), udp) as Uint8Array).rcode, Rcode.NOERROR);
});

test('QueryHandler RRL: UDP limited, TCP never; valid cookies exempt; a client cookie slips as BADCOOKIE', () => {
  const ms = 0;
  const rrl = new RateLimiter({ responsesPerSecond: 3, slip: 1, clock: () => ms });
  const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
  const h = new QueryHandler(table, { rrl, cookieSecrets: () => ({ current: secret }), now: () => 1_700_000_000 });
  const udp = { transport: 'udp' as const, address: '192.0.2.1', port: 5 };
  const out = Array.from({ length: 6 }, () => h.handle(query('www.example.'), udp) as Uint8Array | null);
  assert.equal(out.filter((r) => r !== null && decodeMessage(r).answer.length === 1).length, 3);
  assert.ok(out.slice(3).every((r) => r !== null && decodeMessage(r).tc));
  for (let i = 0; i < 10; i++) {
    const t = h.handle(query('www.example.'), { transport: 'tcp', address: '192.0.2.1', port: 5 }) as Uint8Array;
    assert.equal(decodeMessage(t).answer.length, 1);
  }
  // Same /24 with a client cookie only: limited, slipped as BADCOOKIE with a server cookie...
  const client = hex('0102030405060708');
  const bad = decodeMessage(h.handle(query('www.example.', client), { ...udp, address: '192.0.2.2' }) as Uint8Array);
  assert.equal(bad.rcode, Rcode.BADCOOKIE);
  const learnt = bad.edns!.options.find((o) => o.code === 10)!.data;
  assert.equal(learnt.length, 24);
  // ...which, sent back, makes it exempt.
  for (let i = 0; i < 10; i++) {
    const r = decodeMessage(h.handle(query('www.example.', learnt), { ...udp, address: '192.0.2.2' }) as Uint8Array);
    assert.equal(r.answer.length, 1);
  }
  assert.equal(rrl.snapshot().get('answer|exempt'), 10);
  assert.equal(rrl.snapshot().get('answer|slipped'), 4);
});

test('QueryHandler RRL before building: memoized and negative answers decided first, each response accounted once', () => {
  const ms = 0;
  const rrl = new RateLimiter({ responsesPerSecond: 4, slip: 2, clock: () => ms });
  const h = new QueryHandler(table, { rrl });
  const udp = { transport: 'udp' as const, address: '192.0.2.9', port: 5 };
  // 20 of the same question: the first is built (and memoized), the rest are memo hits decided before patching.
  const answers = Array.from({ length: 20 }, () => h.handle(query('www.example.'), udp) as Uint8Array | null);
  const passed = answers.filter((r) => r !== null && !decodeMessage(r).tc);
  const slipped = answers.filter((r) => r !== null && decodeMessage(r).tc);
  assert.equal(passed.length, 4);
  assert.equal(slipped.length, 8);
  assert.equal(answers.filter((r) => r === null).length, 8);
  for (const r of passed) assert.equal(decodeMessage(r!).answer.length, 1);
  for (const r of slipped) {
    const m = decodeMessage(r!);
    assert.equal(m.answer.length, 0);
    assert.equal(m.question[0].name.toString(), 'www.example.');
    assert.ok(m.edns, 'the slip keeps OPT');
  }
  // NXDOMAIN: its own class, decided before the negative answer is assembled.
  const nx = Array.from({ length: 10 }, (_, i) => h.handle(query(`nx${i}.example.`), udp) as Uint8Array | null);
  assert.equal(nx.filter((r) => r !== null && decodeMessage(r).rcode === Rcode.NXDOMAIN && !decodeMessage(r).tc).length, 4);
  assert.equal(nx.filter((r) => r !== null && decodeMessage(r).tc).length, 3);
  const s = rrl.snapshot();
  // Every response accounted exactly once (no second decision in handle()).
  assert.deepEqual([s.get('answer|passed'), s.get('answer|slipped'), s.get('answer|dropped')], [4, 8, 8]);
  assert.deepEqual([s.get('nxdomain|passed'), s.get('nxdomain|slipped'), s.get('nxdomain|dropped')], [4, 3, 3]);
  // TCP is never limited, memo hit or not.
  for (let i = 0; i < 5; i++) assert.equal(decodeMessage(h.handle(query('www.example.'), { ...udp, transport: 'tcp' }) as Uint8Array).answer.length, 1);
  assert.equal(rrl.snapshot().get('answer|passed'), 4);
});
