// Lookup in one compiled zone: RFC 1034 §4.3.2, RFC 2308, RFC 4592 wildcards, RFC 6672 DNAME, glue and additional
// addresses, ZoneTable zone selection. Pure: no sockets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rcode, RRType, typeToString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { wireKey } from '../../src/zone/key.js';
import { answer } from '../../src/zone/lookup.js';
import { buildSections } from '../../src/zone/sections.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone, ZoneBuilder, ZoneError } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const LONG = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.net.`;

const ZONE = `$TTL 3600
@          SOA   ns1 host 1 7200 3600 1209600 300
@          NS    ns1
@          NS    ns2.other.net.
@          MX    10 mail
ns1        A     192.0.2.1
mail       A     192.0.2.2
mail       AAAA  2001:db8::2
www        A     192.0.2.3
alias      CNAME www
chain1     CNAME chain2
chain2     CNAME www
loop1      CNAME loop2
loop2      CNAME loop1
ext        CNAME www.elsewhere.net.
tonx       CNAME missing
tocut      CNAME host.child
a.b.c.ent  A     192.0.2.4
*.wild     A     192.0.2.5
*.wild     MX    10 mail
sub.wild   A     192.0.2.6
*.wcname   CNAME www
child      NS    ns.child
child      NS    ns1
child      DS    12345 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE
ns.child   A     192.0.2.7
_sip._tcp  SRV   0 5 5060 sip
sip        A     192.0.2.8
dn         DNAME target
x.target   A     192.0.2.9
dnx        DNAME other.net.
dlong      DNAME ${LONG}
`;

function zoneFrom(text: string, origin = 'example') {
  const o = Name.from(origin);
  const parsed = parseZoneText(text, { origin: o, defaultTtl: 3600 });
  assert.deepEqual(parsed.problems, []);
  return compileZone(o, parsed.records);
}

const zone = zoneFrom(ZONE);

function show(rrs: readonly RR[]): string[] {
  return rrs.map((r) => `${r.name.key} ${r.ttl} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}`);
}

function ask(name: string, type: number, minimalAny = false) {
  const outcome = answer(zone, Name.from(name), type);
  return { outcome, s: buildSections(outcome, { minimalAny }) };
}

test('exact match: answer, AA, nothing in authority', () => {
  const { s, outcome } = ask('www.example', RRType.A);
  assert.equal(outcome.final.kind, 'hit');
  assert.equal(s.rcode, Rcode.NOERROR);
  assert.ok(s.aa);
  assert.deepEqual(show(s.answer), ['www.example. 3600 A 192.0.2.3']);
  assert.deepEqual(s.authority, []);
});

test('NODATA and NXDOMAIN carry the SOA at the negative TTL min(SOA TTL, MINIMUM)', () => {
  const nodata = ask('www.example', RRType.MX).s;
  assert.equal(nodata.rcode, Rcode.NOERROR);
  assert.deepEqual(nodata.answer, []);
  assert.equal(nodata.authority.length, 1);
  assert.equal(nodata.authority[0].type, RRType.SOA);
  assert.equal(nodata.authority[0].ttl, 300);
  const nx = ask('nope.example', RRType.A).s;
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.ok(nx.aa);
  assert.equal(nx.authority[0].type, RRType.SOA);
  assert.equal(nx.authority[0].ttl, 300);
  // SOA TTL below MINIMUM: the TTL wins.
  const low = zoneFrom('@ 60 SOA ns host 1 2 3 4 3600\n@ 60 NS ns\n');
  assert.equal(low.negativeTtl, 60);
});

test('empty non-terminals answer NODATA, not NXDOMAIN', () => {
  for (const n of ['c.ent.example', 'b.c.ent.example', 'ent.example']) {
    const { s, outcome } = ask(n, RRType.A);
    assert.equal(outcome.final.kind, 'nodata', n);
    assert.equal(s.rcode, Rcode.NOERROR, n);
    assert.equal(s.authority[0].type, RRType.SOA);
  }
  assert.deepEqual(show(ask('a.b.c.ent.example', RRType.A).s.answer), ['a.b.c.ent.example. 3600 A 192.0.2.4']);
  // Below the ENT but not existing: NXDOMAIN.
  assert.equal(ask('z.c.ent.example', RRType.A).s.rcode, Rcode.NXDOMAIN);
});

test('CNAME: followed inside the zone; the CNAME itself for QTYPE CNAME', () => {
  assert.deepEqual(show(ask('alias.example', RRType.A).s.answer), [
    'alias.example. 3600 CNAME www.example.',
    'www.example. 3600 A 192.0.2.3',
  ]);
  assert.deepEqual(show(ask('alias.example', RRType.CNAME).s.answer), ['alias.example. 3600 CNAME www.example.']);
  assert.deepEqual(show(ask('chain1.example', RRType.A).s.answer), [
    'chain1.example. 3600 CNAME chain2.example.',
    'chain2.example. 3600 CNAME www.example.',
    'www.example. 3600 A 192.0.2.3',
  ]);
  // Target without the type: NODATA after the chain (SOA in authority).
  const nd = ask('alias.example', RRType.MX).s;
  assert.equal(nd.answer.length, 1);
  assert.equal(nd.authority[0].type, RRType.SOA);
});

test('CNAME chains: NXDOMAIN at the end (RFC 6604), loops and out-of-zone targets stop', () => {
  const nx = ask('tonx.example', RRType.A);
  assert.equal(nx.s.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(show(nx.s.answer), ['tonx.example. 3600 CNAME missing.example.']);
  const loop = ask('loop1.example', RRType.A);
  assert.deepEqual(loop.outcome.final, { kind: 'chain-end', reason: 'loop' });
  assert.equal(loop.s.rcode, Rcode.NOERROR);
  assert.equal(loop.s.answer.length, 2);
  const ext = ask('ext.example', RRType.A);
  assert.deepEqual(ext.outcome.final, { kind: 'chain-end', reason: 'outside' });
  assert.deepEqual(show(ext.s.answer), ['ext.example. 3600 CNAME www.elsewhere.net.']);
  assert.deepEqual(ext.s.authority, []);
});

test('delegation: referral with NS in authority, glue in additional, AA clear', () => {
  for (const n of ['host.child.example', 'child.example', 'a.b.ns.child.example']) {
    const { s, outcome } = ask(n, RRType.A);
    assert.equal(outcome.final.kind, 'delegation', n);
    assert.equal(s.aa, false);
    assert.equal(s.rcode, Rcode.NOERROR);
    assert.deepEqual(s.answer, []);
    assert.deepEqual(show(s.authority).sort(), ['child.example. 3600 NS ns.child.example.', 'child.example. 3600 NS ns1.example.']);
    assert.deepEqual(show(s.additional).sort(), ['ns.child.example. 3600 A 192.0.2.7', 'ns1.example. 3600 A 192.0.2.1']);
    // In-domain glue is required (RFC 9471); sibling glue is not.
    assert.deepEqual(show([...s.requiredAdditional]), ['ns.child.example. 3600 A 192.0.2.7']);
  }
  // Glue is never an authoritative answer.
  assert.equal(ask('ns.child.example', RRType.A).outcome.final.kind, 'delegation');
  // NS at the cut is the child's: a referral too.
  assert.equal(ask('child.example', RRType.NS).s.aa, false);
});

test('DS is answered from the parent side of the cut, authoritatively', () => {
  const { s } = ask('child.example', RRType.DS);
  assert.ok(s.aa);
  assert.equal(s.answer.length, 1);
  assert.equal(s.answer[0].type, RRType.DS);
  // DS below the cut is the child's business: referral.
  assert.equal(ask('x.child.example', RRType.DS).outcome.final.kind, 'delegation');
  // No DS at an ordinary name: NODATA.
  assert.equal(ask('www.example', RRType.DS).outcome.final.kind, 'nodata');
});

test('CNAME into a delegation: the CNAME, then the referral', () => {
  const { s } = ask('tocut.example', RRType.A);
  assert.deepEqual(show(s.answer), ['tocut.example. 3600 CNAME host.child.example.']);
  assert.equal(s.authority[0].type, RRType.NS);
  assert.ok(s.aa);
});

test('DNAME: the DNAME, a synthesized CNAME with the DNAME TTL, the target followed', () => {
  const { s } = ask('x.dn.example', RRType.A);
  assert.deepEqual(show(s.answer), [
    'dn.example. 3600 DNAME target.example.',
    'x.dn.example. 3600 CNAME x.target.example.',
    'x.target.example. 3600 A 192.0.2.9',
  ]);
  // Synthesized target that does not exist: NXDOMAIN.
  assert.equal(ask('y.dn.example', RRType.A).s.rcode, Rcode.NXDOMAIN);
  // The DNAME owner itself is not redirected.
  assert.deepEqual(show(ask('dn.example', RRType.DNAME).s.answer), ['dn.example. 3600 DNAME target.example.']);
  assert.equal(ask('dn.example', RRType.A).outcome.final.kind, 'nodata');
  // Out of zone: DNAME and CNAME only.
  const out = ask('a.b.dnx.example', RRType.A);
  assert.deepEqual(show(out.s.answer), ['dnx.example. 3600 DNAME other.net.', 'a.b.dnx.example. 3600 CNAME a.b.other.net.']);
  assert.equal(out.s.rcode, Rcode.NOERROR);
});

test('DNAME substitution overflowing 255 octets is YXDOMAIN (RFC 6672 §2.2)', () => {
  const labels = `${'d'.repeat(50)}.${'e'.repeat(50)}.`;
  const { s } = ask(`${labels}dlong.example`, RRType.A);
  assert.equal(s.rcode, Rcode.YXDOMAIN);
  assert.equal(s.answer[0].type, RRType.DNAME);
});

test('wildcards: synthesis with the query name as owner, no match below an existing name', () => {
  assert.deepEqual(show(ask('foo.wild.example', RRType.A).s.answer), ['foo.wild.example. 3600 A 192.0.2.5']);
  // Several labels below the closest encloser still match (RFC 4592 §2.1.1).
  assert.deepEqual(show(ask('a.b.wild.example', RRType.A).s.answer), ['a.b.wild.example. 3600 A 192.0.2.5']);
  const mx = ask('foo.wild.example', RRType.MX).s;
  assert.deepEqual(show(mx.answer), ['foo.wild.example. 3600 MX 10 mail.example.']);
  assert.deepEqual(mx.additional.map((r) => `${r.name.key} ${typeToString(r.type)}`), ['mail.example. A', 'mail.example. AAAA']);
  assert.equal(mx.additional.length, 2);
  const nd = ask('foo.wild.example', RRType.TXT);
  assert.deepEqual(nd.outcome.final, { kind: 'nodata', wildcard: true });
  // An existing name is answered as itself, and names below it do not use the parent's wildcard.
  assert.deepEqual(show(ask('sub.wild.example', RRType.A).s.answer), ['sub.wild.example. 3600 A 192.0.2.6']);
  assert.equal(ask('x.sub.wild.example', RRType.A).s.rcode, Rcode.NXDOMAIN);
  // The wildcard name itself, asked literally, is an ordinary name.
  assert.deepEqual(show(ask('*.wild.example', RRType.A).s.answer), ['*.wild.example. 3600 A 192.0.2.5']);
});

test('wildcard CNAME: synthesized for the query name and followed', () => {
  assert.deepEqual(show(ask('q.wcname.example', RRType.A).s.answer), [
    'q.wcname.example. 3600 CNAME www.example.',
    'www.example. 3600 A 192.0.2.3',
  ]);
});

test('additional section: addresses of NS, MX and SRV targets in the zone', () => {
  assert.deepEqual(show(ask('example', RRType.NS).s.additional), ['ns1.example. 3600 A 192.0.2.1']);
  assert.equal(ask('example', RRType.MX).s.additional.length, 2);
  assert.deepEqual(show(ask('_sip._tcp.example', RRType.SRV).s.additional), ['sip.example. 3600 A 192.0.2.8']);
  assert.deepEqual(ask('www.example', RRType.A).s.additional, []);
});

test('ANY: every RRset, or one RRset when minimal (RFC 8482)', () => {
  const full = ask('mail.example', RRType.ANY).s;
  assert.deepEqual(full.answer.map((r) => r.type), [RRType.A, RRType.AAAA]);
  const min = ask('mail.example', RRType.ANY, true).s;
  assert.equal(min.answer.length, 1);
  assert.ok(min.aa);
});

test('name matching ignores ASCII case only', () => {
  assert.equal(ask('WWW.Example', RRType.A).outcome.final.kind, 'hit');
  const z = zoneFrom('@ SOA ns host 1 2 3 4 5\n\\195 A 192.0.2.1\n');
  // 0xC3 is not an upper-case letter: \\227 (its Latin-1 lower case) is another name.
  assert.equal(answer(z, Name.parse('\\227.example.'), RRType.A).final.kind, 'nxdomain');
  assert.equal(answer(z, Name.parse('\\195.example.'), RRType.A).final.kind, 'hit');
});

test('compileZone: SOA required, outside records ignored with a warning, duplicates merged', () => {
  assert.throws(() => zoneFrom('www A 192.0.2.1\n'), ZoneError);
  const o = Name.from('example');
  const parsed = parseZoneText('@ SOA ns host 1 2 3 4 5\nwww A 192.0.2.1\nwww A 192.0.2.1\n', { origin: o, defaultTtl: 60 });
  const outside = parseZoneText('www A 192.0.2.9\n', { origin: Name.from('other'), defaultTtl: 60 });
  const z = compileZone(o, [...parsed.records, ...outside.records]);
  assert.equal(z.warnings.length, 1);
  assert.match(z.warnings[0], /outside/);
  assert.equal(z.nodes.get(wireKey(Name.from('www.example')))!.rrsets.get(RRType.A)!.rrs.length, 1);
  assert.equal(z.serial, 1);
});

test('ZoneTable: most specific zone, DS from the parent, replace and delete', () => {
  const table = new ZoneTable();
  const parent = zoneFrom('@ SOA ns host 1 2 3 4 5\n@ NS ns\nchild NS ns.child\nchild DS 1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE\n');
  const child = zoneFrom('@ SOA ns host 7 2 3 4 5\n@ NS ns\nwww A 192.0.2.1\n', 'child.example');
  table.set(parent);
  table.set(child);
  const k = (n: string) => wireKey(Name.from(n));
  assert.equal(table.findForQuery(k('www.child.example'), RRType.A), child);
  assert.equal(table.findForQuery(k('child.example'), RRType.SOA), child);
  assert.equal(table.findForQuery(k('child.example'), RRType.DS), parent);
  assert.equal(table.findForQuery(k('www.example'), RRType.A), parent);
  assert.equal(table.findForQuery(k('www.example.net'), RRType.A), undefined);
  assert.equal(table.findForQuery(k('example'), RRType.DS), parent, 'DS at an apex whose parent is not served');
  const child2 = zoneFrom('@ SOA ns host 8 2 3 4 5\n@ NS ns\n', 'child.example');
  const g = table.generation;
  table.set(child2);
  assert.equal(table.get(Name.from('CHILD.example'))!.serial, 8);
  assert.ok(table.generation > g);
  assert.ok(table.delete(Name.from('child.example')));
  assert.equal(table.findForQuery(k('www.child.example'), RRType.A), parent);
  assert.equal(table.delete(Name.from('child.example')), false);
  assert.equal(table.size, 1);
});

test('as Knot: RRSIG/NSEC at a CNAME are not redirected, NSEC3 owners are not names, mixed TTLs take the last', () => {
  const z = zoneFrom(`@ SOA ns host 1 2 3 4 300
@ NS ns
ns A 192.0.2.1
c CNAME ns
h4sh NSEC3 1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG
ttl 100 A 192.0.2.10
ttl 200 A 192.0.2.11
`);
  for (const t of [RRType.RRSIG, RRType.NSEC]) {
    const o = answer(z, Name.from('c.example'), t);
    assert.deepEqual(o.final, { kind: 'nodata', wildcard: false });
    assert.deepEqual(o.chain, []);
  }
  assert.equal(answer(z, Name.from('c.example'), RRType.A).chain.length, 1);
  assert.equal(answer(z, Name.from('h4sh.example'), RRType.NSEC3).final.kind, 'nxdomain');
  assert.equal(answer(z, Name.from('h4sh.example'), RRType.A).final.kind, 'nxdomain');
  assert.equal(z.nsec3.get(wireKey(Name.from('h4sh.example')))?.length, 1);
  const ttl = answer(z, Name.from('ttl.example'), RRType.A);
  assert.equal(ttl.final.kind, 'hit');
  if (ttl.final.kind === 'hit') assert.deepEqual(ttl.final.rrsets[0].rrs.map((r) => r.ttl), [200, 200]);
  assert.ok(z.warnings.some((w) => /different TTLs/.test(w)));
});

test('compact nodes: large RRsets merged in linear time, records of a name apart, streaming equals compileZone', () => {
  const lines = ['@ SOA ns1 host 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1', 'MiXeD TXT "first"'];
  // 3,000 addresses on one name, then every one of them again and other names in between: duplicates far apart.
  for (let i = 0; i < 3000; i++) lines.push(`big A 10.0.${i >> 8}.${i & 0xff}`);
  lines.push('other A 192.0.2.9');
  for (let i = 2999; i >= 0; i--) lines.push(`big A 10.0.${i >> 8}.${i & 0xff}`);
  lines.push('mixed A 192.0.2.10', 'big AAAA 2001:db8::1', 'ns1 AAAA 2001:db8::53');
  const o = Name.from('example');
  const parsed = parseZoneText(`${lines.join('\n')}\n`, { origin: o, defaultTtl: 3600 });
  assert.deepEqual(parsed.problems, []);
  const t0 = performance.now();
  const z = compileZone(o, parsed.records);
  assert.ok(performance.now() - t0 < 2000, 'merging 6,000 records of one name is not quadratic');
  assert.equal(z.recordCount, 1 + 1 + 2 + 3000 + 1 + 2 + 1);
  const big = z.nodes.get(wireKey(Name.from('big.example')))!;
  assert.deepEqual(big.rrsets.keys(), [RRType.A, RRType.AAAA]);
  const a = big.rrset(RRType.A)!;
  assert.equal(a.rrs.length, 3000);
  assert.equal(rdataToText(RRType.A, a.rrs[0].rdata), '10.0.0.0', 'first-seen order kept');
  assert.equal(rdataToText(RRType.A, a.rrs[2999].rdata), '10.0.11.183');
  // The owner keeps the case it was first written in; both spellings are one node.
  const mixed = z.nodes.get(wireKey(Name.from('mixed.example')))!;
  assert.equal(mixed.name.toString(), 'MiXeD.example.');
  assert.deepEqual(mixed.rrsets.keys(), [RRType.TXT, RRType.A]);
  assert.ok(!mixed.isEmpty && !mixed.delegation && !mixed.emptyNonTerminal);
  assert.deepEqual(z.nodes.get(wireKey(Name.from('ns1.example')))!.rrsets.keys(), [RRType.A, RRType.AAAA]);
  // The same records one at a time through a ZoneBuilder give the same zone.
  const b = new ZoneBuilder(o);
  for (const rr of parsed.records) b.add(rr);
  const streamed = b.finish();
  assert.deepEqual([...streamed.nodes.keys()], [...z.nodes.keys()]);
  for (const [key, node] of z.nodes) {
    const other = streamed.nodes.get(key)!;
    assert.deepEqual(show([...other.rrsets.values()].flatMap((s) => s.rrs)), show([...node.rrsets.values()].flatMap((s) => s.rrs)));
  }
  assert.throws(() => b.add(parsed.records[0]), /after finish/);
});
