// The zone-file parser's fast path (plain lines read from their positions, Lexer.scanPlain / fastRecord) must give
// exactly what the general path gives. The general path is forced by writing the same record with its fields in
// parentheses (`owner ( ttl type rdata )`, the same record by RFC 1035 §5.1), which the fast path never takes.

import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { test } from 'node:test';
import { parseIpv6, parseIpv6Into } from '../../src/dns/address.js';
import { Name } from '../../src/dns/name.js';
import { nameFromWire } from '../../src/zone/zone.js';
import { createZoneParser, parseZoneText } from '../../src/zonefile/index.js';
import type { ParseResult, ZoneRecord } from '../../src/zonefile/types.js';

let seed = 0x5eed;
const rnd = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];

const OWNERS = [
  '@', 'www', 'WWW', 'a.b', 'x', 'x', 'x', 'host-1', 'Mail.example.org.', 'other.test.', '*.w', 'sub.x', 'a..b', '-', 'é', '.', 'x.',
  'y'.repeat(63), 'z'.repeat(64), 'esc\\.aped', 'x\\065', // escapes: the general path; a blank line after it inherits

  // 255 and 256 octets in wire form under example.org. (13 octets), and absolute.
  `${Array(60).fill('abc').join('.')}.a`, `${Array(60).fill('abc').join('.')}.ab`,
  `${Array(63).fill('abc').join('.')}.a.`, `${Array(63).fill('abc').join('.')}.ab.`,
];
const TTLS = ['', '', '300', '0', '1h', '2D', '4294967296', '2147483648', '07'];
const CLASSES = ['', '', 'IN', 'in', 'CH'];
const RDATA: Record<string, readonly string[]> = {
  A: ['192.0.2.1', '10.0.0.255', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4 5', '"1.2.3.4"', '::1'],
  a: ['198.51.100.7'],
  AAAA: ['2001:db8::1', '::', '::ffff:192.0.2.1', '2001:DB8:0:0:0:0:0:1', '1:2:3:4:5:6:7:8', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '12345::1', '::1.2.3', '1:2:3:4:5:6::1.2.3.4', '2001:db8::'],
  TXT: ['"hello world"', 'plain', '"a" "b" c', '""', `"${'x'.repeat(255)}"`, `"${'x'.repeat(256)}"`, '"caf\u00e9"', '"tab\there"', '"semi;colon"'],
  tXt: ['"mixed case type"'],
  MX: ['10 mail', '10 mail.example.org.', 'x mail', '70000 mail'],
  NS: ['ns1', 'ns1.example.net.'],
  CNAME: ['target', 'target.example.net.'],
  PTR: ['host.example.org.'],
  SRV: ['0 5 5060 sip', '1 2 3'],
  CAA: ['0 issue "ca.example.net"', '0 issue ca.example.net'],
  FOO: ['bar'],
  TYPE65280: ['\\# 2 abcd'],
  ANY: ['x'],
};
const TYPES = Object.keys(RDATA);

/** A random zone text: records (some with blank starts), $ORIGIN/$TTL, DMS comments, blank lines. */
function randomZone(): { lines: string[] } {
  // Without $TTL now and then (the SOA minimum, then the last TTL written, apply), and a zone of another class.
  const lines = ['$ORIGIN example.org.'];
  if (rnd(3) > 0) lines.push(`$TTL ${pick(['3600', '1h'])}`);
  lines.push(`@ ${pick(['', '600'])} ${pick(['IN', '', 'CH'])} SOA ns1 hostmaster 1 7200 3600 1209600 300`);
  const n = 20 + rnd(60);
  for (let i = 0; i < n; i++) {
    const r = rnd(100);
    if (r < 3) lines.push(pick(['$ORIGIN sub.example.org.', '$ORIGIN example.org.', '$ORIGIN Sub.EXAMPLE.org.', '$TTL 60']));
    else if (r < 5) lines.push(pick([';| a group', ';# a record comment', ';!FORCEREV', '; plain comment', '']));
    else {
      const type = pick(TYPES);
      const owner = rnd(6) === 0 && i > 0 ? '' : pick(OWNERS);
      const head = [pick(TTLS), pick(CLASSES)];
      if (rnd(2)) head.reverse();
      if (rnd(12) === 0) head.push(pick(['60', 'IN', '1h'])); // a second TTL or class: an error
      const fields = [...head.filter((x) => x !== ''), type, pick(RDATA[type])];
      lines.push(`${owner === '' ? pick([' ', '\t']) : owner}${pick([' ', '\t', '  '])}${fields.join(pick([' ', '\t']))}${pick(['', ' ', '\r'])}`);
    }
  }
  return { lines };
}

/** The same zone with every record's fields after the owner in parentheses: the general path reads every record. */
function parenthesized(lines: string[]): string[] {
  return lines.map((l) => {
    if (l === '' || l.startsWith('$') || l.startsWith(';')) return l;
    const m = /^(\S*)([ \t]+)(.*?)(\r?)$/.exec(l);
    if (!m) return l;
    return `${m[1]}${m[2]}( ${m[3]} )${m[4]}`;
  });
}

const rec = (r: ZoneRecord) =>
  JSON.stringify([r.name.toString(), r.type, r.class, r.ttl, Buffer.from(r.rdata).toString('hex'), r.comment, r.group, r.flags, r.line]);
const problems = (p: ParseResult) => p.problems.map((x) => `${x.severity} ${x.line} ${x.message}`);

test('fast path: random zones parse to the same records and problems as with the general path', () => {
  const origin = Name.parse('example.org.');
  let raw = 0;
  for (let round = 0; round < 400; round++) {
    const { lines } = randomZone();
    const text = `${lines.join('\n')}\n`;
    const fast = parseZoneText(text, { origin, maxErrors: 1000 });
    const general = parseZoneText(`${parenthesized(lines).join('\n')}\n`, { origin, maxErrors: 1000 });
    assert.deepEqual(fast.records.map(rec), general.records.map(rec), text);
    assert.deepEqual(problems(fast), problems(general), text);

    // With a sink (the zone builder's way): the records it takes plus the others, in file order, are the same.
    const got: string[] = [];
    const viaSink = parseZoneText(text, {
      origin,
      maxErrors: 1000,
      onRecord: (r) => got.push(rec({ ...r, line: 0 })),
      sink: {
        addRaw: (key, wire, type, klass, ttl, data, start, len) => {
          raw++;
          if (wire !== undefined) assert.equal(wire.replace(/[A-Z]/g, (c) => c.toLowerCase()), key, 'the key is the wire form, A-Z lower-cased');
          got.push(rec({ name: nameFromWire(wire ?? key), type, class: klass, ttl, rdata: data.slice(start, start + len), line: 0 }));
        },
      },
    });
    assert.deepEqual(got, general.records.map((r) => rec({ ...r, line: 0 })), text);
    assert.deepEqual(problems(viaSink), problems(general));

    // Fed in pieces cut anywhere: the same again.
    const parser = createZoneParser({ origin, maxErrors: 1000 });
    for (let at = 0; at < text.length; ) {
      const step = 1 + rnd(40);
      parser.push(text.slice(at, at + step));
      at += step;
    }
    const pieces = parser.end();
    assert.deepEqual(pieces.records.map(rec), general.records.map(rec), text);
    assert.deepEqual(problems(pieces), problems(general));
  }
  assert.ok(raw > 1000, `the fast path was taken (${raw} records through the sink)`);
});

test('parseIpv6Into reads an address inside a longer text exactly as parseIpv6 reads it alone', () => {
  const groups = () => Array.from({ length: 8 }, () => rnd(3) === 0 ? '0' : rnd(0x10000).toString(16));
  for (let i = 0; i < 20000; i++) {
    const g = groups();
    let s: string;
    const form = rnd(4);
    if (form === 0) s = g.join(':');
    else if (form === 1) {
      const a = rnd(8);
      const b = a + 1 + rnd(8 - a); // "::" stands for one zero group at least
      s = `${g.slice(0, a).join(':')}::${g.slice(b).join(':')}`;
    } else if (form === 2) s = `${g.slice(0, 6).join(':')}:${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
    else {
      // Damaged: a character dropped, doubled or replaced.
      const t = g.join(':');
      const k = rnd(t.length);
      s = pick([t.slice(0, k) + t.slice(k + 1), t.slice(0, k) + t[k] + t.slice(k), `${t.slice(0, k)}${pick([':', 'g', '.', '::'])}${t.slice(k + 1)}`]);
    }
    const alone = parseIpv6(s);
    if (form < 3) assert.ok(alone, s);
    if (alone) assert.ok(isIPv6(s), `accepted what node:net refuses: ${s}`);
    else if (!/(^|[:.])0\d/.test(s)) assert.ok(!isIPv6(s), `refused what node:net accepts: ${s}`);
    const text = `xx ${s} yy`;
    const out = new Uint8Array(20).fill(0xee);
    const ok = parseIpv6Into(text, 3, 3 + s.length, out, 2);
    assert.equal(ok, alone !== undefined, s);
    if (alone) {
      assert.deepEqual(out.subarray(2, 18), alone, s);
      assert.equal(out[0], 0xee);
      assert.equal(out[18], 0xee, 'nothing written past the address');
    }
  }
});
