import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType, typeToString } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { type ParseOptions, parseTtl, parseZoneText, type ZoneFileProblem, type ZoneRecord } from '../../src/zonefile/index.js';

const origin = Name.from('example.org');

function parse(text: string, opts: ParseOptions = {}) {
  return parseZoneText(text, { origin, ...opts });
}
function ok(text: string, opts: ParseOptions = {}): ZoneRecord[] {
  const r = parse(text, opts);
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), [], 'unexpected errors');
  return r.records;
}
/** One line per record: "owner ttl type rdata". */
function show(recs: ZoneRecord[]): string[] {
  return recs.map((r) => `${r.name} ${r.ttl} ${r.class === 1 ? 'IN' : r.class} ${RRTypeName(r.type)} ${rdataToText(r.type, r.rdata)}`);
}
function RRTypeName(t: number): string {
  return Object.entries(RRType).find(([, v]) => v === t)?.[0] ?? `TYPE${t}`;
}
function errs(text: string, opts: ParseOptions = {}): ZoneFileProblem[] {
  return parse(text, opts).problems.filter((p) => p.severity === 'error');
}

test('owner forms: @, relative, absolute, inherited (leading blank), escapes', () => {
  const recs = ok(`$TTL 60
@ A 192.0.2.1
www A 192.0.2.2
  A 192.0.2.3
\tTXT "x"
abs.example.org. A 192.0.2.4
other.test. A 192.0.2.5
a\\.b A 192.0.2.6
\\065bc A 192.0.2.7
`);
  assert.deepEqual(recs.map((r) => r.name.toString()), [
    'example.org.', 'www.example.org.', 'www.example.org.', 'www.example.org.', 'abs.example.org.', 'other.test.',
    'a\\.b.example.org.', 'Abc.example.org.',
  ]);
  assert.equal(recs[6].name.labels.length, 3);
});

test('TTL and class optional, in either order; TTL units; $TTL; RFC 1035 last-TTL semantics', () => {
  const recs = ok(`a 1h30m IN A 192.0.2.1
b IN 2W A 192.0.2.1
c A 192.0.2.1
$TTL 1d
d A 192.0.2.1
e in 5 a 192.0.2.1
f 1H2m3S A 192.0.2.1
`);
  assert.deepEqual(recs.map((r) => r.ttl), [5400, 1209600, 1209600, 86400, 5, 3723]);
  assert.ok(recs.every((r) => r.class === 1));
});

test('parseTtl: units, limits, messages', () => {
  assert.equal(parseTtl('0'), 0);
  assert.equal(parseTtl('2147483647'), 2147483647);
  assert.equal(parseTtl('1w1d1h1m1s'), 694861);
  assert.match(String(parseTtl('2147483648')), /larger than 2147483647/);
  assert.match(String(parseTtl('1h30')), /expected a unit/);
  assert.match(String(parseTtl('1x')), /expected a TTL/);
  assert.match(String(parseTtl('h')), /expected a number/);
});

test('no TTL anywhere: SOA minimum with a warning, then last TTL; other records without any TTL are errors', () => {
  const r = parse('@ SOA ns host 1 2 3 4 77\nx A 192.0.2.1\n');
  assert.deepEqual(r.records.map((x) => x.ttl), [77, 77]);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].severity, 'warning');
  const e = errs('x A 192.0.2.1\n');
  assert.equal(e.length, 1);
  assert.match(e[0].message, /expected a TTL/);
  assert.deepEqual([e[0].line, e[0].column], [1, 3]);
  // The defaultTtl option acts as an initial $TTL.
  assert.equal(ok('x A 192.0.2.1\n', { defaultTtl: 42 })[0].ttl, 42);
});

test('$ORIGIN: absolute and relative to the current origin; @ and relative rdata names follow it', () => {
  const recs = ok(`$TTL 1
$ORIGIN sub
@ CNAME x
$ORIGIN other.test.
y NS ns
`);
  assert.deepEqual(show(recs), ['sub.example.org. 1 IN CNAME x.sub.example.org.', 'y.other.test. 1 IN NS ns.other.test.']);
  const r = parseZoneText('$ORIGIN example.net.\n$TTL 5\n@ A 192.0.2.1\n');
  assert.equal(r.origin?.toString(), 'example.net.');
  assert.equal(r.records[0].name.toString(), 'example.net.');
});

test('no origin: relative owner is an error that says what is expected', () => {
  const r = parseZoneText('$TTL 1\nwww A 192.0.2.1\nabs.test. A 192.0.2.1\n', { file: 'z' });
  assert.equal(r.records.length, 1);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /expected an origin/);
  assert.deepEqual([r.problems[0].file, r.problems[0].line, r.problems[0].column], ['z', 2, 1]);
});

test('parentheses span lines, comments inside them are ignored; quoted strings keep blanks and escapes', () => {
  const recs = ok(`$TTL 1
@ IN SOA ( ns1 ; primary
   hostmaster ; rname
   2024010101 ; serial
   1h 15m 1w 5m )
t TXT ( "a b" ; first
  "c\\"d" plain )
u TXT "semi;colon" "(paren)"
`);
  assert.equal(show(recs)[0], 'example.org. 1 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 3600 900 604800 300');
  assert.equal(show(recs)[1], 'example.org. 1 IN TXT "a b" "c\\"d" "plain"'.replace('example.org.', 't.example.org.'));
  assert.equal(show(recs)[2], 'u.example.org. 1 IN TXT "semi;colon" "(paren)"');
});

test('\\DDD and \\X escapes in TXT and names', () => {
  const recs = ok('$TTL 1\nt TXT "\\065\\066" a\\ b\nx\\032y A 192.0.2.1\n');
  assert.deepEqual(Array.from(recs[0].rdata), [2, 65, 66, 3, 97, 32, 98]);
  assert.deepEqual(Array.from(recs[1].name.labels[0]), [120, 32, 121]);
});

test('RFC 3597 generic RDATA and TYPEnnn / CLASS1', () => {
  const recs = ok('$TTL 1\na TYPE65280 \\# 3 abcdef\nb CLASS1 A \\# 4 c0000201\nc TYPE1 192.0.2.9\nd A \\# 4 ( c000 0202 )\n');
  assert.equal(recs[0].type, 65280);
  assert.deepEqual(Array.from(recs[0].rdata), [0xab, 0xcd, 0xef]);
  assert.deepEqual(Array.from(recs[1].rdata), [192, 0, 2, 1]);
  assert.deepEqual(Array.from(recs[2].rdata), [192, 0, 2, 9]);
  assert.deepEqual(Array.from(recs[3].rdata), [192, 0, 2, 2]);
});

test('CRLF line ends, last line without newline, blank and comment-only lines', () => {
  const recs = ok('$TTL 1\r\n\r\n; plain comment\r\na A 192.0.2.1 ; trailing\r\n   \r\nb A 192.0.2.2');
  assert.deepEqual(recs.map((r) => r.name.toString()), ['a.example.org.', 'b.example.org.']);
  assert.equal(recs[1].line, 6);
});

test('records carry file and line (the line where the entry starts)', () => {
  const recs = ok('$TTL 1\n\n@ SOA ( ns host\n 1 2 3 4 5 )\nx A 192.0.2.1\n', { file: 'f.zone' });
  assert.deepEqual(recs.map((r) => [r.file, r.line]), [['f.zone', 3], ['f.zone', 5]]);
});

test('class mismatch with the first record, meta types and bad classes are errors', () => {
  const e = errs('$TTL 1\na IN A 192.0.2.1\nb CH TXT "x"\nc ANY A 192.0.2.1\nd TYPE255 x\ne AXFR x\n');
  assert.equal(e.length, 4);
  assert.match(e[0].message, /class CH does not match the zone's class IN/);
  assert.deepEqual([e[0].line, e[0].column], [3, 6]);
  assert.match(e[1].message, /class ANY is not allowed/);
  assert.match(e[2].message, /type ANY cannot appear/);
  assert.match(e[3].message, /type AXFR cannot appear/);
});

test('error positions: line and column point at the offending token, messages say what was expected', () => {
  const cases: [string, number, number, RegExp][] = [
    ['www A 192.0.2.300\n', 1, 7, /IPv4/],
    ['www XYZ 192.0.2.1\n', 1, 5, /expected a TTL, class or RR type, got "XYZ"/],
    ['www 1h30 A 192.0.2.1\n', 1, 5, /expected a unit/],
    ['www 300 IN\n', 1, 11, /expected an RR type/],
    ['www MX 10\n', 1, 10, /MX/],
    ['www MX ten mail\n', 1, 8, /MX/],
    ['ok A 192.0.2.1\n   bad..name A 192.0.2.1\n', 2, 4, /expected a TTL, class or RR type/],
    ['a..b A 192.0.2.1\n', 1, 1, /empty label/],
    ['x TXT "unterminated\n', 1, 7, /closing '"'/],
    ['x A 192.0.2.1 )\n', 1, 15, /unexpected "\)"/],
    ['x SOA ( ns host 1 2 3 4 5\n\n', 1, 7, /expected "\)" to close/],
    ['$FOO bar\n', 1, 1, /unknown directive "\$FOO" \(expected \$ORIGIN, \$TTL, \$INCLUDE or \$GENERATE\)/],
    ['$TTL\n', 1, 5, /expected a TTL after \$TTL/],
    ['$TTL 1 2\n', 1, 8, /expected only one TTL/],
    ['$ORIGIN\n', 1, 8, /expected a domain name after \$ORIGIN/],
    ['$TTL 99999999999\n', 1, 6, /larger than 2147483647/],
    ['  A 192.0.2.1\n', 1, 3, /expected an owner name/],
    ['x 10 20 A 192.0.2.1\n', 1, 6, /second TTL/],
    ['x IN IN A 192.0.2.1\n', 1, 6, /second class/],
    ['x\tA\t1.2.3\n', 1, 5, /IPv4/],
  ];
  for (const [text, line, column, re] of cases) {
    const e = errs(`$TTL 1\n${text}`, { file: 'pos.zone' });
    assert.equal(e.length, 1, `${JSON.stringify(text)} gave ${JSON.stringify(e)}`);
    assert.equal(e[0].file, 'pos.zone');
    assert.deepEqual([e[0].line - 1, e[0].column], [line, column], `${JSON.stringify(text)}: ${e[0].message}`);
    assert.match(e[0].message, re, JSON.stringify(text));
  }
});

test('several errors are all reported, good records around them are kept', () => {
  const r = parse(`$TTL 1
a A 192.0.2.1
b A 192.0.2.999
c A 192.0.2.3
d BOGUS x
e MX x y
f A 192.0.2.6
`);
  assert.deepEqual(r.records.map((x) => x.name.toString()), ['a.example.org.', 'c.example.org.', 'f.example.org.']);
  assert.deepEqual(r.problems.map((p) => p.line), [3, 5, 6]);
  assert.ok(r.problems.every((p) => p.severity === 'error'));
});

test('maxErrors caps the report and says so', () => {
  const text = `$TTL 1\n${'x A bad\n'.repeat(100)}`;
  const r = parse(text, { maxErrors: 5 });
  assert.equal(r.problems.length, 6);
  assert.match(r.problems[5].message, /too many errors \(limit 5\)/);
  assert.equal(parse(text).problems.length, 51);
});

test('$INCLUDE goes through the callback; its origin applies to the included text only; errors name the included file', () => {
  const files: Record<string, string> = {
    'hosts.inc': 'h1 A 192.0.2.1\nbad A nope\n',
    'sub.inc': '@ A 192.0.2.2\n$ORIGIN deeper\n@ A 192.0.2.3\n',
  };
  const calls: [string, string][] = [];
  const include = (p: string, from: string) => {
    calls.push([p, from]);
    const t = files[p];
    if (t === undefined) throw new Error('no such file');
    return t;
  };
  const r = parse('$TTL 1\n$INCLUDE hosts.inc\n$INCLUDE "sub.inc" sub\nafter A 192.0.2.4\n$INCLUDE missing.inc\n', { include, file: 'main.zone' });
  assert.deepEqual(r.records.map((x) => x.name.toString()), [
    'h1.example.org.', 'sub.example.org.', 'deeper.sub.example.org.', 'after.example.org.',
  ]);
  assert.deepEqual(r.records.map((x) => x.file), ['hosts.inc', 'sub.inc', 'sub.inc', 'main.zone']);
  assert.deepEqual(calls, [['hosts.inc', 'main.zone'], ['sub.inc', 'main.zone'], ['missing.inc', 'main.zone']]);
  const e = r.problems.filter((p) => p.severity === 'error');
  assert.deepEqual(e.map((p) => [p.file, p.line, p.column]), [['hosts.inc', 2, 7], ['main.zone', 5, 10]]);
  assert.match(e[1].message, /cannot include "missing.inc": no such file/);
});

test('$INCLUDE without a callback is refused; include loops stop', () => {
  const e = errs('$INCLUDE x\n');
  assert.match(e[0].message, /no include handler/);
  const loop = parse('$TTL 1\n$INCLUDE self\n', { include: () => '$INCLUDE self\n' });
  assert.ok(loop.problems.some((p) => /nested more than 16/.test(p.message)));
  let reads = 0;
  const include = () => {
    reads++;
    return '$INCLUDE b\n$INCLUDE b\n';
  };
  const bomb = parse('$TTL 1\n$INCLUDE b\n', { include, maxErrors: 1e6 });
  assert.ok(reads <= 1000, `${reads} reads`);
  assert.ok(bomb.problems.some((p) => /more than 1000 \$INCLUDEs/.test(p.message)));
});

test('$GENERATE: ranges, steps, modifiers, bases, escapes, ttl/class, quoted rhs re-read', () => {
  const recs = ok(`$TTL 300
$GENERATE 1-3 h$ A 10.0.0.$
$GENERATE 10-12/2 \${0,4,n}n PTR x$$y.
$GENERATE 10-11 \${0,3,N}m PTR x\${-5,4,x}.
$GENERATE 26-26 \${0,2,n}w PTR x\${1,0,o}.
$GENERATE 26-26 \${0,5,n}q PTR x\${1,3}.
$GENERATE 1-2 m$ MX "10 mail$"
$GENERATE 1-1 t$ TXT "hello $ \\$"
$GENERATE 1-1 y$ IN 60 CNAME a
$GENERATE 1-1 z\\$$ 60 IN CNAME a
`);
  assert.deepEqual(show(recs), [
    'h1.example.org. 300 IN A 10.0.0.1',
    'h2.example.org. 300 IN A 10.0.0.2',
    'h3.example.org. 300 IN A 10.0.0.3',
    'a.0.n.example.org. 300 IN PTR x\\$y.',
    'c.0.n.example.org. 300 IN PTR x\\$y.',
    'A.0m.example.org. 300 IN PTR x0005.',
    'B.0m.example.org. 300 IN PTR x0006.',
    'a.1w.example.org. 300 IN PTR x33.',
    'a.1.0q.example.org. 300 IN PTR x027.',
    'm1.example.org. 300 IN MX 10 mail1.example.org.',
    'm2.example.org. 300 IN MX 10 mail2.example.org.',
    't1.example.org. 300 IN TXT "hello" "1" "$"',
    'y1.example.org. 60 IN CNAME a.example.org.',
    'z\\$1.example.org. 60 IN CNAME a.example.org.',
  ]);
});

test('$GENERATE errors: bad range, limit, bad modifier, bad rdata for one value', () => {
  const e = errs(`$TTL 1
$GENERATE 5-1 x$ A 10.0.0.$
$GENERATE 1-100000 x$ A 10.0.0.1
$GENERATE 1-2 x\${0,2,q} A 10.0.0.1
$GENERATE 250-260 x$ A 10.0.0.$
$GENERATE 1-2 x$ A
`, { generateLimit: 1000 });
  assert.deepEqual(e.map((p) => [p.line, p.column]), [[2, 11], [3, 11], [4, 15], [5, 24], [6, 19]]);
  assert.match(e[0].message, /no larger than its stop/);
  assert.match(e[1].message, /more than the limit of 1000/);
  assert.match(e[2].message, /expected a base/);
  assert.match(e[3].message, /value 256/);
  assert.match(e[4].message, /expected "\$GENERATE range lhs/);
  // The records before the failing value are kept.
  assert.equal(parse('$TTL 1\n$GENERATE 250-260 x$ A 10.0.0.$\n').records.length, 6);
});

test('DMS comments: ;| groups, ;# record comments (line before or trailing), ;! flags, plain ; ignored', () => {
  const r = parse(`$TTL 1
a A 192.0.2.1
;| Apex records
;| second line
;!REF:anathoth
@ SOA ns host 1 2 3 4 5
; just a comment
;# primary
;#  name server
;!LOCKPTR forcerev TRACKREV DISABLE RROP:UPDATE_RRTYPE
ns A 192.0.2.2 ;# on the line
b A 192.0.2.3 ; plain trailing
;|Hosts
c A 192.0.2.4
;!RROP:DELETE BOGUS
d A 192.0.2.5
`);
  const recs = r.records;
  assert.equal(recs[0].group, undefined);
  assert.equal(recs[0].comment, undefined);
  assert.equal(recs[1].group, 'Apex records\nsecond line');
  assert.deepEqual(recs[1].flags, { ref: 'anathoth' });
  assert.equal(recs[2].comment, 'primary\nname server\non the line');
  assert.deepEqual(recs[2].flags, { lockPtr: true, forceRev: true, trackRev: true, disable: true, rrop: 'UPDATE_RRTYPE' });
  assert.equal(recs[2].group, 'Apex records\nsecond line');
  assert.equal(recs[3].comment, undefined);
  assert.equal(recs[3].flags, undefined);
  assert.equal(recs[4].group, 'Hosts');
  assert.deepEqual(recs[5].flags, { rrop: 'DELETE' });
  assert.deepEqual(r.problems.map((p) => [p.severity, p.line, p.column]), [['warning', 15, 15]]);
  assert.match(r.problems[0].message, /unknown RR flag "BOGUS"/);
});

test('update files (the original DMS format): $UPDATE_TYPE, and DELETEs of a whole RRset ("" or no RDATA) or of a name (ANY)', () => {
  const text = `$ORIGIN foo.example.
$UPDATE_TYPE SpannerReplacement
;!RROP:DELETE
ns5 IN ANY "" ; all records for ns5
;!RROP:DELETE
ns7 IN A ""
;!RROP:DELETE
ns8 TXT
;!RROP:DELETE
ns67 IN A 192.168.2.3
;!RROP:ADD
ns99 IN TXT ""
`;
  const r = parseZoneText(text, { updateFile: true, defaultTtl: 300 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.updateType, 'SpannerReplacement');
  assert.deepEqual(
    r.records.map((x) => [x.name.toString(), typeToString(x.type), x.wholeSet ?? false, x.rdata.length, x.flags?.rrop]),
    [
      ['ns5.foo.example.', 'ANY', true, 0, 'DELETE'],
      ['ns7.foo.example.', 'A', true, 0, 'DELETE'],
      ['ns8.foo.example.', 'TXT', true, 0, 'DELETE'],
      ['ns67.foo.example.', 'A', false, 4, 'DELETE'],
      ['ns99.foo.example.', 'TXT', false, 1, 'ADD'], // an added TXT "" is the record with one empty string
    ],
  );
  // ANY with RDATA is refused; outside an update file none of this is accepted.
  const bad = parseZoneText(';!RROP:DELETE\nx.example. 1 IN ANY 1.2.3.4\n', { updateFile: true });
  assert.match(bad.problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('|'), /^2:21 a DELETE of type ANY takes no RDATA/);
  const plain = parseZoneText(text, { defaultTtl: 300 });
  const messages = plain.problems.filter((p) => p.severity === 'error').map((p) => `${p.line}: ${p.message}`);
  assert.deepEqual(messages.slice(0, 3), [
    '2: $UPDATE_TYPE belongs in an update file (zone_tool update_rrs), not a zone file',
    '4: expected an RR type, got a second class "ANY"',
    '6: bad A RDATA: bad IPv4 address ""',
  ]);
  assert.match(messages[3] ?? '', /^8: bad TXT RDATA/);
});

test(';! flags after a record on its own line flag that record, merged with flags on the line before', () => {
  const r = parse(`$TTL 1
mail A 192.0.2.30 ;!FORCEREV
;!LOCKPTR
ns A 192.0.2.31 ;!TRACKREV
www A 192.0.2.32 ; plain comment ;!FORCEREV is part of it
x A 192.0.2.33 ;!NOPE
y A 192.0.2.34
`);
  const recs = r.records;
  assert.deepEqual(recs[0].flags, { forceRev: true });
  assert.deepEqual(recs[1].flags, { lockPtr: true, trackRev: true });
  assert.equal(recs[2].flags, undefined, 'only a comment that starts with ! is flags');
  assert.equal(recs[3].flags, undefined);
  assert.equal(recs[4].flags, undefined, 'flags do not leak onto the next record');
  assert.deepEqual(r.problems.map((p) => [p.severity, p.line, p.column]), [['warning', 6, 18]]);
  assert.match(r.problems[0].message, /unknown RR flag "NOPE"/);
});

test('DMS comments before an erroneous record do not leak onto the next record', () => {
  const r = parse('$TTL 1\n;# for bad\n;!LOCKPTR\nbad A nope\ngood A 192.0.2.1\n;# dangling\n');
  assert.equal(r.records.length, 1);
  assert.equal(r.records[0].comment, undefined);
  assert.equal(r.records[0].flags, undefined);
  assert.ok(r.problems.some((p) => p.severity === 'warning' && /not followed by a record/.test(p.message)));
});

test('never throws on garbage input', () => {
  const junk = ['(', ')', '"', '\\', '$', '$GENERATE', '$INCLUDE', '\0\u00ff\u4e00', '((((', '@ @ @', ';|', ';!'];
  for (let i = 0; i < 200; i++) {
    let s = '';
    for (let j = 0; j < 20; j++) s += junk[(i * 7 + j * 13) % junk.length] + (j % 3 ? ' ' : '\n');
    assert.doesNotThrow(() => parseZoneText(s, { origin }));
    assert.doesNotThrow(() => parseZoneText(s));
  }
});

test('an inherited owner right after $ORIGIN is kept but warned about (as BIND does)', () => {
  const r = parse('$TTL 1\na A 192.0.2.1\n$ORIGIN sub.example.org.\n  A 192.0.2.2\n  A 192.0.2.3\n');
  assert.deepEqual(r.records.map((x) => x.name.toString()), ['a.example.org.', 'a.example.org.', 'a.example.org.']);
  assert.deepEqual(r.problems.map((p) => [p.severity, p.line]), [['warning', 4]]);
  assert.match(r.problems[0].message, /inherited \(a.example.org.\) right after a \$ORIGIN change/);
});
