// RDATA codecs: presentation ↔ wire vectors (mostly from the RFCs' own examples), error reporting, compression
// rules, canonical form and the typed views.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType, typeFromString } from '../../src/dns/constants.js';
import { DecodeError, TextError } from '../../src/dns/errors.js';
import { Name } from '../../src/dns/name.js';
import {
  canonicalRRsetRdata,
  canonicalRdata,
  compareRdata,
  makeSoa,
  makeNsec,
  nsecFields,
  nsec3Fields,
  rdataFromString,
  rdataFieldTexts,
  rdataFromText,
  rdataNames,
  rdataTargetName,
  rdataToText,
  readRdata,
  rrsigFields,
  setSoaSerial,
  soaFields,
  soaSerial,
  tokenizeRdata,
  writeRdata,
} from '../../src/dns/rdata.js';
import { WireReader, WireWriter } from '../../src/dns/wire.js';

const origin = Name.from('example.org');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const T = (name: string) => {
  const t = typeFromString(name);
  assert.ok(t !== undefined, name);
  return t;
};

/** [type, input text, wire hex, printed text (when it differs from the input)] */
const VECTORS: [string, string, string, string?][] = [
  ['A', '192.0.2.1', 'c0000201'],
  ['AAAA', '2001:db8::1', '20010db8000000000000000000000001'],
  ['AAAA', '2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
  ['AAAA', '::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
  ['AAAA', '::', '00000000000000000000000000000000'],
  ['AAAA', '1::', '00010000000000000000000000000000'],
  ['NS', 'ns1', '036e7331076578616d706c65036f726700', 'ns1.example.org.'],
  ['CNAME', '@', '076578616d706c65036f726700', 'example.org.'],
  ['MX', '10 mail.example.', '000a046d61696c076578616d706c6500'],
  ['SOA', 'ns1.x. h.x. 2024010101 1h 15m 1w 300', '036e73310178000168017800 78a3f175 00000e10 00000384 00093a80 0000012c',
    'ns1.x. h.x. 2024010101 3600 900 604800 300'],
  ['TXT', '"a" ""', '016100', '"a" ""'],
  ['TXT', 'héllo', '0668c3a96c6c6f', '"h\\195\\169llo"'],
  ['TXT', 'unquoted words', '08756e71756f74656405776f726473', '"unquoted" "words"'],
  ['TXT', '"\\065\\"\\\\" \\;x', '03 41225c 02 3b78', '"A\\"\\\\" ";x"'],
  ['HINFO', 'INTEL-386 Unix', '09494e54454c2d33383604556e6978', '"INTEL-386" "Unix"'],
  ['SRV', '1 2 3 t.', '000100020003017400'],
  ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
    '0064000a0175074532552b736970 1b 215e2e2a24217369703a696e666f406578616d706c652e636f6d21 00'],
  // RFC 4034 §5.4
  ['DS', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118', 'ec4505012bb183af5f22588179a53b0a98631fad1a292118'],
  ['DS', '60485 RSASHA1 1 2BB183AF5F22588179A53B0A9863 1FAD1A292118', 'ec4505012bb183af5f22588179a53b0a98631fad1a292118',
    '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
  // RFC 4034 §4.3
  ['NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234',
    '04686f7374076578616d706c6503636f6d00 0006400100000003 041b000000000000000000000000000000000000000000000000000020'],
  ['NSEC3PARAM', '1 0 12 aabbccdd', '0100000c04aabbccdd', '1 0 12 AABBCCDD'],
  ['NSEC3PARAM', '1 0 0 -', '0100000000'],
  ['NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG',
    '0101000c04aabbccdd14174eb2409fe28bcb4887a1836f957f0a8425e27b0006400000000002',
    '1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG'],
  ['RRSIG', 'A 5 3 86400 20030322173103 20030220173103 2642 Example.COM. AQID',
    '0001050300015180 3e7c9dd7 3e5510d7 0a52 074578616d706c6503434f4d00 010203',
    'A 5 3 86400 20030322173103 20030220173103 2642 Example.COM. AQID'],
  ['RRSIG', 'TYPE65000 RSASHA256 0 86400 1048354263 0 0 . AQID', 'fde8080000015180 3e7c9dd7 00000000 0000 00 010203',
    'TYPE65000 8 0 86400 20030322173103 19700101000000 0 . AQID'],
  ['DNSKEY', '256 3 8 AQID BA==', '01000308 01020304', '256 3 8 AQIDBA=='],
  // RFC 8659 §4.4
  ['CAA', '0 issue "ca.example.net"', '0005697373756563612e6578616d706c652e6e6574'],
  ['CAA', '128 tbs ""', '8003746273', '128 tbs ""'],
  ['URI', '10 1 "ftp://ftp1.example.com/public"', '000a0001 6674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963'],
  // RFC 3123 §4 style
  ['APL', '1:192.168.32.0/21 !1:192.168.38.0/28 1:0.0.0.0/0 2:FF00::/8',
    '00011503c0a820 00011c83c0a826 00010000 00020801ff', '1:192.168.32.0/21 !1:192.168.38.0/28 1:0.0.0.0/0 2:ff00::/8'],
  ['APL', '', ''],
  // RFC 7043
  ['EUI48', '00-00-5e-00-53-2a', '00005e00532a'],
  ['EUI64', '00-00-5E-EF-10-00-00-2A', '00005eef1000002a', '00-00-5e-ef-10-00-00-2a'],
  // RFC 6742
  ['NID', '10 14:4fff:ff20:ee64', '000a00144fffff20ee64', '10 0014:4fff:ff20:ee64'],
  ['L32', '10 10.1.2.0', '000a0a010200'],
  ['LP', '10 l64-subnet1.example.com.', '000a0b6c36342d7375626e657431076578616d706c6503636f6d00'],
  ['SSHFP', '2 1 123456789abcdef67890123456789abcdef67890', '0201123456789abcdef67890123456789abcdef67890',
    '2 1 123456789ABCDEF67890123456789ABCDEF67890'],
  ['TLSA', '3 1 1 0C72AC70', '0301010c72ac70'],
  ['OPENPGPKEY', 'AQID', '010203'],
  ['CSYNC', '66 3 A NS AAAA', '00000042 0003 0004 60000008', '66 3 A NS AAAA'],
  ['IPSECKEY', '10 1 2 192.0.2.38 AQID', '0a0102c0000226010203'],
  ['IPSECKEY', '10 0 2 .', '0a0002', '10 0 2 .'],
  ['IPSECKEY', '10 3 2 gw.example.com. AQID', '0a0302026777076578616d706c6503636f6d00010203'],
  ['IPSECKEY', '10 2 2 2001:db8::1 AQID', '0a020220010db8000000000000000000000001010203'],
  ['AMTRELAY', '128 1 3 amt.example.', '8083 03616d74076578616d706c6500'],
  ['CERT', 'PGP 0 0 AQID', '0003 0000 00 010203'],
  ['CERT', '1 2 RSASHA256 AQID', '000100020801020 3'.replace(' ', ''), 'PKIX 2 RSASHA256 AQID'],
  ['LOC', '42 21 54 N 71 06 18 W -24m 30m', '0033161389172dd070be15f000988d20',
    '42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m'],
  ['LOC', '0 N 0 E 0 0 0.01 0.5m', '00001051 80000000 80000000 00989680', '0 0 0.000 N 0 0 0.000 E 0.00m 0.00m 0.01m 0.50m'],
  ['ZONEMD', '2018031900 1 240 FEBE3D4CE2EC2FFA4BA99D46', '7848b91c01f0febe3d4ce2ec2ffa4ba99d46'],
  ['DS', '1 13 SHA-256 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6',
    '00010d020c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6',
    '1 13 2 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'],
  ['TSIG', 'hmac-sha256. 1700000000 300 4 AQIDBA== 1234 16 0',
    '0b686d61632d73686132353600 00006553f100 012c 0004 01020304 04d2 0010 0000'],
  ['HIP', '2 200100107B1A74DF365639CC39F1D578 AQID rvs.example.com.',
    '10020003200100107b1a74df365639cc39f1d578010203 03727673076578616d706c6503636f6d00'],
  ['TYPE65534', '\\# 3 abcdef', 'abcdef', '\\# 3 ABCDEF'],
  ['TYPE65534', '\\# 0', '', '\\# 0'],
  ['A', '\\# 4 c0 00 02 01', 'c0000201', '192.0.2.1'],
  ['NULL', '\\# 2 0102', '0102', '\\# 2 0102'],
  // RFC 9460 Appendix D
  ['HTTPS', '0 foo.example.com.', '0000 03666f6f076578616d706c6503636f6d00'],
  ['SVCB', '1 .', '000100'],
  ['SVCB', '1 . ech=""', '000100 00050000', '1 . ech'],
  ['SVCB', '16 foo.example.com. port=53', '0010 03666f6f076578616d706c6503636f6d00 000300020035'],
  ['SVCB', '1 foo.example.com. key667=hello', '0001 03666f6f076578616d706c6503636f6d00 029b000568656c6c6f',
    '1 foo.example.com. key667="hello"'],
  ['SVCB', '1 foo.example.com. key667="hello\\210qoo"', '0001 03666f6f076578616d706c6503636f6d00 029b000968656c6c6fd2716f6f'],
  ['SVCB', '1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
    '0001 03666f6f076578616d706c6503636f6d00 0006002020010db800000000000000000000000120010db8000000000000000000530001',
    '1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1'],
  ['SVCB', '1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"',
    '0001 076578616d706c6503636f6d00 0006001020010db8012203440000 0000c0000221',
    '1 example.com. ipv6hint=2001:db8:122:344::c000:221'],
  ['SVCB', '16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1)',
    '0010 03666f6f076578616d706c65036f726700 00000004 00010004 00010009 0268320568332d3139 00040004c0000201',
    '16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" ipv4hint=192.0.2.1'],
  ['SVCB', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"',
    '0010 03666f6f076578616d706c65036f726700 0001000c08665c6f6f2c62617202 6832'],
  ['SVCB', '1 . alpn=h3 no-default-alpn ech=AQID ohttp dohpath="/q{?dns}" key65000', '000100 0001000302 6833 00020000 000500 03010203 0007 0008 2f717b3f646e737d 00080000 fde80000',
    '1 . alpn="h3" no-default-alpn ech=AQID dohpath="/q{?dns}" ohttp key65000'],
];

test('presentation ↔ wire vectors', () => {
  for (const [tn, text, wireHex, printed] of VECTORS) {
    const type = T(tn);
    const rd = rdataFromString(type, text, origin);
    assert.equal(hex(rd), wireHex.replace(/\s+/g, '').toLowerCase(), `${tn} ${text}`);
    assert.equal(rdataToText(type, rd), printed ?? text, `${tn} print`);
    // what we print parses back to the same bytes
    assert.equal(hex(rdataFromString(type, rdataToText(type, rd), origin)), hex(rd), `${tn} reparse`);
    // and the wire decoder accepts exactly these bytes inside a message
    const msg = new Uint8Array(rd.length + 5);
    msg.set(rd, 5);
    const r = new WireReader(msg, 5);
    assert.equal(hex(readRdata(type, r, rd.length)), hex(rd), `${tn} wire`);
    assert.equal(r.pos, msg.length);
  }
});

test('RRSIG times: both forms, RFC 4034 §3.3 value', () => {
  const rd = rdataFromString(RRType.RRSIG, 'A 5 3 86400 20030322173103 1045762263 2642 example.com. AQID');
  const f = rrsigFields(rd);
  assert.equal(f.expiration, 1048354263);
  assert.equal(f.inception, 1045762263);
  assert.equal(f.signer.toString(), 'example.com.');
  assert.throws(() => rdataFromString(RRType.RRSIG, 'A 5 3 86400 20030231000000 0 1 . AQID'), TextError);
});

test('names print relative to an origin when given', () => {
  const rd = rdataFromString(RRType.MX, '10 mail', origin);
  assert.equal(rdataToText(RRType.MX, rd, origin), '10 mail');
  assert.equal(rdataToText(RRType.MX, rd), '10 mail.example.org.');
  assert.equal(rdataToText(RRType.CNAME, origin.toWire(), origin), '@');
  assert.equal(rdataToText(RRType.CNAME, Name.from('www.example.com').toWire(), origin), 'www.example.com.');
});

test('text errors carry the offending token index', () => {
  const cases: [string, string, number, RegExp][] = [
    ['A', '192.0.2.256', 0, /IPv4/],
    ['A', '192.0.2.01', 0, /IPv4/],
    ['A', '1.2.3.4 5', 1, /unexpected/],
    ['A', '', 0, /missing/],
    ['AAAA', '2001:db8::1::2', 0, /IPv6/],
    ['MX', '65536 mx.', 0, /preference/],
    ['MX', '10', 1, /missing exchange/],
    ['SOA', 'a. b. 1h 1 1 1 1', 2, /serial/],
    ['SOA', 'a. b. 1 1 1 1', 6, /missing minimum/],
    ['TXT', '"\\256"', 0, /escape/],
    ['TXT', `"${'x'.repeat(256)}"`, 0, /255/],
    ['DS', '1 5 1 xyz', 3, /hex/],
    ['DS', '1 5 1', 3, /missing digest/],
    ['DNSKEY', '256 3 8 AQI', 3, /base64/],
    ['DNSKEY', '256 3 NOPE AQID', 2, /algorithm/],
    ['NSEC', 'next. A BOGUS', 2, /unknown type/],
    ['NSEC3', '1 0 1 - 2t7b4g4vsa5smi47k61mv5bv1a22boj', 4, /base32hex/],
    ['LOC', '91 N 0 E 0', 0, /latitude/],
    ['LOC', '42 21 54 X 71 06 18 W -24m', 3, /N or S/],
    ['CAA', '0 is-sue "x"', 1, /tag/],
    ['SVCB', '1 . alpn=h2 alpn=h3-19', 3, /duplicate/],
    ['SVCB', '1 . mandatory=key123', 2, /missing/],
    ['SVCB', '1 . mandatory=mandatory', 2, /itself/],
    ['SVCB', '1 . no-default-alpn=abc', 2, /no value/],
    ['SVCB', '1 . port', 2, /port/],
    ['SVCB', '1 . no-default-alpn port=53', 3, /needs alpn/],
    ['SVCB', '1 . key65535=x', 2, /unknown SvcParam key/],
    ['SVCB', '1 . constructor=x', 2, /unknown SvcParam key/],
    ['DS', '1 __proto__ 1 00', 1, /algorithm/],
    ['SVCB', '1 . ipv4hint=1.2.3', 2, /IPv4/],
    ['APL', '3:1.2.3.4/8', 0, /APL/],
    ['APL', '1:1.2.3.4/33', 0, /prefix/],
    ['IPSECKEY', '10 4 2 . AQID', 1, /gateway type/],
    ['IPSECKEY', '10 0 2 x. AQID', 3, /gateway/],
    ['TYPE65534', 'abc', 0, /RFC 3597/],
    ['TYPE65534', '\\# 2 abcdef', 2, /length/],
    ['TYPE65534', '\\# x', 1, /length/],
    ['A', '\\# 3 010203', 2, /not valid A/],
    ['AAAA', '\\# 4 01020304', 2, /not valid AAAA/],
    ['NSEC', '\\# 3 000001', 2, /not valid NSEC/],
    ['NS', '\\# 2 c000', 2, /pointer/],
    ['NS', '\\# 3 400000', 2, /label type/],
    ['NS', '\\# 3 056100', 2, /runs past/],
    ['EUI48', '00-00-5e-00-53', 0, /EUI-48/],
    ['DS', '1 1 1 0C72', 3, /20-octet digest/],
    ['CDS', '1 1 SHA-384 0C72', 3, /48-octet digest/],
    ['SSHFP', '1 2 0C72', 2, /32-octet digest/],
    ['ZONEMD', '1 1 240 AABB', 3, /shorter than 12/],
    ['ZONEMD', '1 1 1 AABBCCDDEEFF00112233445566', 3, /48-octet/],
    ['NSEC', 'next.', 0, /empty/],
    ['RRSIG', 'A 5 3 1h 20030322173103 20030220173103 2642 example.com. AQID', 3, /original TTL/],
    ['TSIG', 'hmac-sha256. 1 300 5 AQIDBA== 1 0 0', 4, /5 octets/],
  ];
  for (const [tn, text, index, re] of cases) {
    try {
      rdataFromString(T(tn), text, origin);
      assert.fail(`${tn} "${text}" was accepted`);
    } catch (e) {
      assert.ok(e instanceof TextError, `${tn} "${text}": ${e}`);
      assert.equal(e.token, index, `${tn} "${text}": token of ${e.message}`);
      assert.match(e.message, re, `${tn} "${text}"`);
    }
  }
});

test('lexer-style tokens: quoted flag, SVCB key="value with spaces", \\# only unquoted', () => {
  assert.deepEqual(tokenizeRdata('1 . key65000="x y" alpn=h2 ( "q\\"s" ) ; comment'), [
    { text: '1', quoted: false },
    { text: '.', quoted: false },
    { text: 'key65000="x y"', quoted: false },
    { text: 'alpn=h2', quoted: false },
    { text: 'q\\"s', quoted: true },
  ]);
  const rd = rdataFromString(RRType.SVCB, '1 . key65000="x y"');
  assert.equal(rdataToText(RRType.SVCB, rd), '1 . key65000="x y"');
  // key= followed by a separate quoted token (another lexer's split)
  const rd2 = rdataFromText(RRType.SVCB, [{ text: '1', quoted: false }, { text: '.', quoted: false }, { text: 'alpn=', quoted: false }, { text: 'h2,h3', quoted: true }], origin);
  assert.equal(rdataToText(RRType.SVCB, rd2), '1 . alpn="h2,h3"');
  // a quoted "\#" is TXT data, not RFC 3597
  assert.equal(rdataToText(RRType.TXT, rdataFromText(RRType.TXT, [{ text: '\\#', quoted: true }], origin)), '"#"');
  assert.throws(() => tokenizeRdata('"open'), TextError);
});

test('SVCB params are sorted on the wire whatever the text order', () => {
  const a = rdataFromString(RRType.HTTPS, '1 . port=443 alpn=h2 ipv4hint=192.0.2.1');
  const b = rdataFromString(RRType.HTTPS, '1 . ipv4hint=192.0.2.1 alpn=h2 port=443');
  assert.equal(hex(a), hex(b));
  assert.equal(rdataToText(RRType.HTTPS, a), '1 . alpn="h2" port=443 ipv4hint=192.0.2.1');
});

/** A message holding `prefix` bytes then RDATA, for decoding with pointers into the prefix. */
function wireWith(prefix: Uint8Array, rdata: Uint8Array): { msg: Uint8Array; at: number } {
  const msg = new Uint8Array(prefix.length + rdata.length);
  msg.set(prefix);
  msg.set(rdata, prefix.length);
  return { msg, at: prefix.length };
}

test('decompression: allowed for RFC 3597 §4 types, refused elsewhere', () => {
  const prefix = Name.from('mail.example').toWire(); // offset 0
  const ptr = [0xc0, 0x00];
  const mx = wireWith(prefix, Uint8Array.from([0, 10, ...ptr]));
  const got = readRdata(RRType.MX, new WireReader(mx.msg, mx.at), 4);
  assert.equal(rdataToText(RRType.MX, got), '10 mail.example.');
  const srv = wireWith(prefix, Uint8Array.from([0, 1, 0, 2, 0, 3, ...ptr]));
  assert.equal(rdataToText(RRType.SRV, readRdata(RRType.SRV, new WireReader(srv.msg, srv.at), 8)), '1 2 3 mail.example.');
  const nsec = wireWith(prefix, Uint8Array.from([...ptr, 0, 1, 0x40]));
  assert.throws(() => readRdata(RRType.NSEC, new WireReader(nsec.msg, nsec.at), 5), (e) => e instanceof DecodeError && e.kind === 'rdata');
  const dname = wireWith(prefix, Uint8Array.from(ptr));
  assert.throws(() => readRdata(RRType.DNAME, new WireReader(dname.msg, dname.at), 2), DecodeError);
  const rrsig = wireWith(prefix, Uint8Array.from([0, 1, 8, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...ptr, 1]));
  assert.throws(() => readRdata(RRType.RRSIG, new WireReader(rrsig.msg, rrsig.at), 21), DecodeError);
});

/** Decode RDATA given as hex on its own (no message around it). */
const dec = (type: number, h: string) => {
  const b = unhex(h);
  return readRdata(type, new WireReader(b), b.length);
};

test('names running past RDLENGTH and trailing octets are rejected', () => {
  // NS whose name runs past RDLENGTH 3 (the bytes after it belong to the next record)
  const buf = Uint8Array.from([3, 0x61, 0x62, 0x63, 0]);
  assert.throws(() => readRdata(RRType.NS, new WireReader(buf), 3), (e) => e instanceof DecodeError && e.kind === 'rdata');
  assert.throws(() => readRdata(RRType.A, new WireReader(Uint8Array.from([1, 2, 3, 4, 5])), 5), DecodeError);
  assert.throws(() => readRdata(RRType.NS, new WireReader(Uint8Array.from([0, 0])), 2), /octets after/);
  // bitmap with trailing zero octet, with windows out of order
  assert.throws(() => dec(RRType.NSEC, '00 0002 4000'), /trailing zero/);
  assert.throws(() => dec(RRType.NSEC, '00 010140 000140'), /order/);
  assert.throws(() => readRdata(RRType.NSEC, new WireReader(unhex('00 000021' + '01'.repeat(33))), 36), /window length/);
  // SVCB keys out of order, mandatory key absent
  assert.throws(() => dec(RRType.SVCB, '000100 000300020035 00010003026832'), /increasing/);
  assert.throws(() => dec(RRType.SVCB, '000100 000000020003'), /missing/);
  assert.throws(() => dec(RRType.SVCB, '000100 00020000'), /needs alpn/);
  // LOC with version 1
  assert.throws(() => dec(RRType.LOC, '01331613 89170dd0 70bd8c30 00989620'), /version/);
  // TXT with no strings; CAA with an empty tag
  assert.throws(() => readRdata(RRType.TXT, new WireReader(new Uint8Array(0)), 0), DecodeError);
  assert.throws(() => dec(RRType.CAA, '0000'), /tag/);
  // digest lengths of known digest types, also on the wire
  assert.throws(() => dec(RRType.DS, '0001 08 02 0c72'), /32-octet/);
  assert.throws(() => dec(RRType.NSEC, '00'), /empty/);
  assert.equal(hex(dec(RRType.NSEC3, '01000000 00 01 ff')), '0100000000' + '01ff');
});

test('writeRdata compresses only the RFC 1035 well-known types', () => {
  const w = new WireWriter(512, true);
  w.name(Name.from('example.org'));
  const start = w.pos;
  writeRdata(RRType.MX, rdataFromString(RRType.MX, '10 mx.example.org.'), w);
  assert.equal(w.pos - start, 2 + 1 + 2 + 2); // preference, "mx", pointer
  const s2 = w.pos;
  const srv = rdataFromString(RRType.SRV, '1 2 3 example.org.');
  writeRdata(RRType.SRV, srv, w);
  assert.equal(hex(w.buf.subarray(s2, w.pos)), hex(srv));
  const s3 = w.pos;
  const rrsig = rdataFromString(RRType.RRSIG, 'A 8 2 300 1 0 1 example.org. AQID');
  writeRdata(RRType.RRSIG, rrsig, w);
  assert.equal(hex(w.buf.subarray(s3, w.pos)), hex(rrsig));
  // and the compressed message decodes back to the internal form
  const msg = w.finish();
  assert.equal(hex(readRdata(RRType.MX, new WireReader(msg, start), 7)), hex(rdataFromString(RRType.MX, '10 mx.example.org.')));
});

test('canonical form lowers names for the RFC 4034/6840 list only', () => {
  const lowered: [string, string, string][] = [
    ['MX', '10 MX.Example.ORG.', '10 mx.example.org.'],
    ['SOA', 'NS.X. H.X. 1 2 3 4 5', 'ns.x. h.x. 1 2 3 4 5'],
    ['RRSIG', 'A 8 2 300 1 0 1 Example.ORG. AQID', 'A 8 2 300 19700101000001 19700101000000 1 example.org. AQID'],
    ['SRV', '1 2 3 T.Example.', '1 2 3 t.example.'],
    ['NAPTR', '1 2 "U" "S" "" Repl.Example.', '1 2 "U" "S" "" repl.example.'],
    ['DNAME', 'Target.Example.', 'target.example.'],
    ['RP', 'Mbox.X. Txt.X.', 'mbox.x. txt.x.'],
    ['PTR', 'A\\066.X.', 'ab.x.'],
  ];
  for (const [tn, text, want] of lowered) {
    const rd = rdataFromString(T(tn), text);
    assert.equal(rdataToText(T(tn), canonicalRdata(T(tn), rd)), want, tn);
  }
  // NSEC (RFC 6840 §5.1), HINFO and HIP keep their case
  for (const [tn, text] of [['NSEC', 'Next.Example. A'], ['HINFO', '"CPU" "OS"'], ['SVCB', '1 Target.Example.']] as const) {
    const rd = rdataFromString(T(tn), text);
    assert.equal(hex(canonicalRdata(T(tn), rd)), hex(rd), tn);
  }
});

test('compareRdata: octet order, prefix first', () => {
  const a = Uint8Array.from([1, 2]);
  const b = Uint8Array.from([1, 2, 0]);
  const c = Uint8Array.from([1, 3]);
  assert.ok(compareRdata(a, b) < 0);
  assert.ok(compareRdata(b, c) < 0);
  assert.equal(compareRdata(a, Uint8Array.from([1, 2])), 0);
  assert.ok(compareRdata(c, a) > 0);
});

test('canonical RRset order: lower-cased, sorted, duplicates removed (RFC 4034 §6.3)', () => {
  const rds = ['20 B.x.', '10 b.x.', '10 a.x.', '10 B.X.'].map((t) => rdataFromString(RRType.MX, t));
  assert.deepEqual(canonicalRRsetRdata(RRType.MX, rds).map((rd) => rdataToText(RRType.MX, rd)), ['10 a.x.', '10 b.x.', '20 b.x.']);
  // whole RDATA compared as octets, so the length octet of a character-string sorts first
  const txt = ['"ab"', '"a"'].map((t) => rdataFromString(RRType.TXT, t));
  assert.deepEqual(canonicalRRsetRdata(RRType.TXT, txt).map((rd) => rdataToText(RRType.TXT, rd)), ['"a"', '"ab"']);
});

test('SOA view, makeSoa, setSoaSerial', () => {
  const rd = rdataFromString(RRType.SOA, 'ns1 hostmaster 2024010101 3600 900 604800 300', origin);
  const f = soaFields(rd);
  assert.equal(f.mname.toString(), 'ns1.example.org.');
  assert.equal(f.rname.toString(), 'hostmaster.example.org.');
  assert.deepEqual([f.serial, f.refresh, f.retry, f.expire, f.minimum], [2024010101, 3600, 900, 604800, 300]);
  assert.equal(hex(makeSoa(f)), hex(rd));
  const patched = setSoaSerial(rd, 4294967295);
  assert.equal(soaSerial(patched), 4294967295);
  assert.equal(soaSerial(rd), 2024010101, 'original untouched');
  assert.equal(rdataToText(RRType.SOA, patched), 'ns1.example.org. hostmaster.example.org. 4294967295 3600 900 604800 300');
  assert.throws(() => setSoaSerial(Uint8Array.from([0, 0, 1]), 1), DecodeError);
  // SOA RDATA that is a view into a larger buffer (zone parser slabs)
  const slab = new Uint8Array(rd.length + 10).fill(0xee);
  slab.set(rd, 5);
  const view = slab.subarray(5, 5 + rd.length);
  assert.equal(soaSerial(view), 2024010101);
  assert.equal(soaSerial(setSoaSerial(view, 7)), 7);
  assert.equal(slab[4], 0xee);
  assert.equal(soaSerial(view), 2024010101, 'slab untouched');
});

test('target names, all names, NSEC/NSEC3 views', () => {
  assert.equal(rdataTargetName(RRType.SRV, rdataFromString(RRType.SRV, '1 2 3 t.x.'))?.toString(), 't.x.');
  assert.equal(rdataTargetName(RRType.MX, rdataFromString(RRType.MX, '1 m.x.'))?.toString(), 'm.x.');
  assert.equal(rdataTargetName(RRType.KX, rdataFromString(RRType.KX, '1 k.x.'))?.toString(), 'k.x.');
  assert.equal(rdataTargetName(RRType.DNAME, rdataFromString(RRType.DNAME, 'd.x.'))?.toString(), 'd.x.');
  assert.equal(rdataTargetName(RRType.TXT, rdataFromString(RRType.TXT, 'x')), undefined);
  assert.deepEqual(rdataNames(RRType.SOA, rdataFromString(RRType.SOA, 'a.x. b.x. 1 2 3 4 5')).map(String), ['a.x.', 'b.x.']);
  assert.deepEqual(rdataNames(RRType.NAPTR, rdataFromString(RRType.NAPTR, '1 2 "" "" "" r.x.')).map(String), ['r.x.']);
  const nsec = makeNsec(Name.from('b.x'), [RRType.NSEC, RRType.A, RRType.RRSIG, 1234]);
  assert.equal(rdataToText(RRType.NSEC, nsec), 'b.x. A RRSIG NSEC TYPE1234');
  assert.deepEqual(nsecFields(nsec).types, [1, 46, 47, 1234]);
  const n3 = nsec3Fields(rdataFromString(RRType.NSEC3, '1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR'));
  assert.equal(n3.nextHashed.length, 20);
  assert.deepEqual(n3.types, []);
});

test('per-field presentation for display', () => {
  assert.deepEqual(rdataFieldTexts(RRType.MX, rdataFromString(RRType.MX, '10 mx.x.')), [
    { label: 'preference', text: '10' },
    { label: 'exchange', text: 'mx.x.' },
  ]);
  assert.deepEqual(rdataFieldTexts(65534, unhex('ab')), [{ label: 'data', text: '\\# 1 AB' }]);
  assert.throws(() => rdataFieldTexts(RRType.A, unhex('ab')), DecodeError);
});

test('unknown and invalid RDATA print as RFC 3597 and never throw', () => {
  assert.equal(rdataToText(65534, unhex('abcdef')), '\\# 3 ABCDEF');
  assert.equal(rdataToText(RRType.A, unhex('0102')), '\\# 2 0102');
  assert.equal(rdataToText(RRType.NS, new Uint8Array(0)), '\\# 0');
});
