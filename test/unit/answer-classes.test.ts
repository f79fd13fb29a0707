// Two answer classes, checked on a compiled zone without sockets: DNAME synthesis against the query type (RFC 6672
// §3.2 with RFC 1034 §4.3.2 step 3a) and the additional section of SVCB/HTTPS answers (RFC 9460 §4.1) beside NS, MX
// and SRV. Each case is asked twice: through lookup + sections, and through the query handler, whose second answer
// comes from its memo of pre-encoded responses, so the fast path is held to the same result.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rcode, RRType, typeToString } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { QueryHandler } from '../../src/server/query.js';
import { wireKey } from '../../src/zone/key.js';
import { answer, lookupName } from '../../src/zone/lookup.js';
import { buildSections } from '../../src/zone/sections.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone, type Zone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

function zoneFrom(text: string, origin: string): Zone {
  const o = Name.from(origin);
  const parsed = parseZoneText(text, { origin: o, defaultTtl: 3600 });
  assert.deepEqual(parsed.problems, []);
  return compileZone(o, parsed.records);
}

const EXAMPLE = zoneFrom(
  `@          SOA   ns1 host 1 7200 3600 1209600 300
@          NS    ns1
@          MX    10 mail
ns1        A     192.0.2.1
mail       A     192.0.2.2
mail       AAAA  2001:db8::2
mail       SVCB  1 other
www        A     192.0.2.3
dn         DNAME target
dn         A     192.0.2.4
www.target A     192.0.2.5
cn.target  CNAME www
dn2        DNAME dn.example.
dnout      DNAME other.net.
dnlong     DNAME ${'l'.repeat(60)}.${'m'.repeat(60)}.${'n'.repeat(60)}.net.
c1         CNAME c2
c2         CNAME www
cdn        CNAME www.dn
cdn2       CNAME x.dn2
svc        SVCB  1 t1 alpn=h2
t1         A     192.0.2.11
t1         AAAA  2001:db8::11
t1         SVCB  1 beyond
beyond     A     192.0.2.12
dot        SVCB  1 . port=8443
dot        A     192.0.2.13
dot        AAAA  2001:db8::13
aliasdot   HTTPS 0 .
aliasdot   A     192.0.2.14
alias      SVCB  0 svc
halias     HTTPS 0 h
h          HTTPS 1 t1
h          SVCB  1 beyond
h          A     192.0.2.15
out        SVCB  1 svc.other.net.
tocname    SVCB  1 cn.target
todname    HTTPS 1 www.dn
self       SVCB  0 self
self2      SVCB  1 self2
self2      A     192.0.2.16
twice      SVCB  1 t1
twice      SVCB  2 t1 port=1
towild     SVCB  1 foo.wild
*.wild     A     192.0.2.17
*.wild     SVCB  1 t1
*.wdot     SVCB  1 .
*.wdot     AAAA  2001:db8::18
toglue     SVCB  1 ns.deleg
deleg      NS    ns.deleg
ns.deleg   A     192.0.2.19
mx         MX    10 t1
mx         MX    20 foo.wild
_s._tcp    SRV   0 0 443 t1
`,
  'example',
);
const APEX = zoneFrom('@ SOA ns1.example. host 1 2 3 4 300\n@ NS ns1.example.\n@ DNAME example.\n@ A 192.0.2.20\n', 'apex.test');

const table = new ZoneTable();
table.set(EXAMPLE);
table.set(APEX);

interface View {
  rcode: number;
  aa: boolean;
  answer: string[];
  authority: string[];
  additional: string[];
}

const show = (rrs: readonly RR[]) => rrs.map((r) => `${r.name.key} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata).toLowerCase()}`);

/** The response to (name, type) through lookup + sections, and twice through a fresh handler (build, then memo). */
function ask(name: string, type: number): View {
  const qname = Name.from(name);
  const zone = name.endsWith('apex.test') ? APEX : EXAMPLE;
  const outcome = answer(zone, qname, type);
  const s = buildSections(outcome, { minimalAny: true });
  const pure: View = { rcode: s.rcode, aa: s.aa, answer: show(s.answer), authority: show(s.authority), additional: show(s.additional).sort() };
  const handler = new QueryHandler(table);
  for (let round = 0; round < 2; round++) {
    // The second time in upper case: the memo is keyed case-insensitively and must serve the same sections.
    const m = emptyMessage(0x4242 + round);
    m.question.push({ name: round === 0 ? qname : Name.from(name.toUpperCase()), type, class: 1 });
    m.edns = { udpSize: 4096, extRcode: 0, version: 0, do: false, flags: 0, options: [] };
    const r = decodeMessage(handler.handle(encodeMessage(m), { transport: 'udp' }) as Uint8Array);
    const served: View = { rcode: r.rcode, aa: r.aa, answer: show(r.answer), authority: show(r.authority), additional: show(r.additional).sort() };
    assert.deepEqual(served, pure, `${name} ${typeToString(type)}: handler answer ${round === 0 ? 'built' : 'from the memo'} differs`);
  }
  // Pre-encoded once, except negative answers at the name itself (assembled per query from the SOA) and answers where
  // a DNAME rewrote the name (the synthesized CNAME carries the query's case).
  const first = lookupName(zone, qname, wireKey(qname), type).kind;
  const memoized = first !== 'nxdomain' && first !== 'nodata' && !outcome.chain.some((r) => r.type === RRType.DNAME);
  assert.equal(handler.memoSize, memoized ? 1 : 0, `${name} ${typeToString(type)}: memo entries`);
  return pure;
}

const SOA = 'example. SOA ns1.example. host.example. 1 7200 3600 1209600 300';

// --- DNAME ------------------------------------------------------------------------------------------------------

test('below a DNAME, QTYPE CNAME is answered by the synthesized CNAME: NOERROR, AA, target not followed', () => {
  for (const name of ['x.dn.example', 'www.dn.example', 'a.b.dn.example', 'cn.dn.example']) {
    const first = name.split('.dn.')[0];
    assert.deepEqual(ask(name, RRType.CNAME), {
      rcode: Rcode.NOERROR,
      aa: true,
      answer: ['dn.example. DNAME target.example.', `${first}.dn.example. CNAME ${first}.target.example.`],
      authority: [],
      additional: [],
    }, name);
  }
  const outcome = answer(EXAMPLE, Name.from('x.dn.example'), RRType.CNAME);
  assert.deepEqual(outcome.final, { kind: 'chain-end', reason: 'answered' });
});

test('below a DNAME, QTYPE ANY matches the synthesized CNAME too (RFC 1034 §3.7.1): the same answer', () => {
  assert.deepEqual(ask('x.dn.example', RRType.ANY), ask('x.dn.example', RRType.CNAME));
  assert.deepEqual(ask('www.dn.example', RRType.ANY).answer, ['dn.example. DNAME target.example.', 'www.dn.example. CNAME www.target.example.']);
});

test('below a DNAME, other types follow the synthesized target (including QTYPE DNAME)', () => {
  assert.deepEqual(ask('x.dn.example', RRType.A), {
    rcode: Rcode.NXDOMAIN, aa: true,
    answer: ['dn.example. DNAME target.example.', 'x.dn.example. CNAME x.target.example.'],
    authority: [SOA],
    additional: [],
  });
  assert.deepEqual(ask('www.dn.example', RRType.A).answer, [
    'dn.example. DNAME target.example.', 'www.dn.example. CNAME www.target.example.', 'www.target.example. A 192.0.2.5',
  ]);
  // A stored CNAME at the rewritten name is followed for A ...
  assert.deepEqual(ask('cn.dn.example', RRType.A).answer, [
    'dn.example. DNAME target.example.', 'cn.dn.example. CNAME cn.target.example.', 'cn.target.example. CNAME www.example.',
    'www.example. A 192.0.2.3',
  ]);
  const dname = ask('x.dn.example', RRType.DNAME);
  assert.equal(dname.rcode, Rcode.NXDOMAIN);
  assert.equal(dname.answer.length, 2);
  assert.deepEqual(ask('www.dn.example', RRType.DNAME).authority, [SOA]);
});

test('at the DNAME owner: its own data, nothing rewritten (DNAME for QTYPE DNAME, NODATA for CNAME)', () => {
  assert.deepEqual(ask('dn.example', RRType.DNAME).answer, ['dn.example. DNAME target.example.']);
  assert.deepEqual(ask('dn.example', RRType.A).answer, ['dn.example. A 192.0.2.4']);
  const cname = ask('dn.example', RRType.CNAME);
  assert.deepEqual([cname.rcode, cname.answer, cname.authority], [Rcode.NOERROR, [], [SOA]]);
  // Minimal ANY: the lowest type of the node.
  assert.deepEqual(ask('dn.example', RRType.ANY).answer, ['dn.example. A 192.0.2.4']);
});

test('a stored CNAME answers QTYPE CNAME and ANY without being chased', () => {
  for (const t of [RRType.CNAME, RRType.ANY]) {
    assert.deepEqual(ask('c1.example', t), { rcode: 0, aa: true, answer: ['c1.example. CNAME c2.example.'], authority: [], additional: [] });
    assert.deepEqual(ask('cdn.example', t).answer, ['cdn.example. CNAME www.dn.example.']);
  }
});

test('chains: CNAME into a DNAME, DNAME into a DNAME; QTYPE CNAME stops at the first synthesized CNAME', () => {
  assert.deepEqual(ask('cdn.example', RRType.A).answer, [
    'cdn.example. CNAME www.dn.example.', 'dn.example. DNAME target.example.', 'www.dn.example. CNAME www.target.example.',
    'www.target.example. A 192.0.2.5',
  ]);
  const viaTwo = ask('cdn2.example', RRType.A);
  assert.equal(viaTwo.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(viaTwo.answer, [
    'cdn2.example. CNAME x.dn2.example.', 'dn2.example. DNAME dn.example.', 'x.dn2.example. CNAME x.dn.example.',
    'dn.example. DNAME target.example.', 'x.dn.example. CNAME x.target.example.',
  ]);
  assert.deepEqual(ask('www.dn2.example', RRType.CNAME).answer, ['dn2.example. DNAME dn.example.', 'www.dn2.example. CNAME www.dn.example.']);
  assert.equal(ask('www.dn2.example', RRType.A).answer.length, 5);
});

test('DNAME out of the zone, overflowing, and at a zone apex: the same rules for every QTYPE', () => {
  for (const t of [RRType.A, RRType.CNAME, RRType.ANY])
    assert.deepEqual(ask('a.dnout.example', t), {
      rcode: 0, aa: true, answer: ['dnout.example. DNAME other.net.', 'a.dnout.example. CNAME a.other.net.'], authority: [], additional: [],
    });
  const long = `${'q'.repeat(60)}.${'r'.repeat(10)}.dnlong.example`;
  for (const t of [RRType.A, RRType.CNAME, RRType.ANY]) {
    const y = ask(long, t);
    assert.equal(y.rcode, Rcode.YXDOMAIN);
    assert.deepEqual(y.answer, [`dnlong.example. DNAME ${'l'.repeat(60)}.${'m'.repeat(60)}.${'n'.repeat(60)}.net.`]);
  }
  assert.deepEqual(ask('x.apex.test', RRType.CNAME).answer, ['apex.test. DNAME example.', 'x.apex.test. CNAME x.example.']);
  assert.deepEqual(ask('x.apex.test', RRType.A).answer, ['apex.test. DNAME example.', 'x.apex.test. CNAME x.example.']);
  assert.deepEqual(ask('apex.test', RRType.A).answer, ['apex.test. A 192.0.2.20']);
});

// --- SVCB / HTTPS additional section -------------------------------------------------------------------------------

test('ServiceMode: the TargetName\'s A, AAAA and SVCB, not followed further', () => {
  const s = ask('svc.example', RRType.SVCB);
  assert.deepEqual(s.answer, ['svc.example. SVCB 1 t1.example. alpn="h2"']);
  // t1's own SVCB comes along (RFC 9460 §4.1: A, AAAA and SVCB of the TargetName); its target "beyond" does not.
  assert.deepEqual(s.additional, ['t1.example. A 192.0.2.11', 't1.example. AAAA 2001:db8::11', 't1.example. SVCB 1 beyond.example.']);
});

test('TargetName ".": the owner in ServiceMode (RFC 9460 §2.5.2), no service in AliasMode (§2.5.1)', () => {
  assert.deepEqual(ask('dot.example', RRType.SVCB).additional, ['dot.example. A 192.0.2.13', 'dot.example. AAAA 2001:db8::13']);
  assert.deepEqual(ask('aliasdot.example', RRType.HTTPS).additional, []);
  // A wildcard answer: the owner is the query name, and so are the addresses synthesized for it.
  assert.deepEqual(ask('q.wdot.example', RRType.SVCB), {
    rcode: 0, aa: true, answer: ['q.wdot.example. SVCB 1 .'], authority: [], additional: ['q.wdot.example. AAAA 2001:db8::18'],
  });
});

test('AliasMode: the target\'s records of the same type and its addresses, one step only', () => {
  assert.deepEqual(ask('alias.example', RRType.SVCB).additional, ['svc.example. SVCB 1 t1.example. alpn="h2"']);
  // HTTPS alias: the target's HTTPS (not its SVCB) and addresses; t1 behind it is not added.
  assert.deepEqual(ask('halias.example', RRType.HTTPS).additional, ['h.example. A 192.0.2.15', 'h.example. HTTPS 1 t1.example.']);
});

test('targets out of the zone, owning a CNAME, below a DNAME or missing get nothing; glue does', () => {
  for (const [n, t] of [['out', RRType.SVCB], ['tocname', RRType.SVCB], ['todname', RRType.HTTPS]] as const)
    assert.deepEqual(ask(`${n}.example`, t).additional, [], n);
  assert.deepEqual(ask('toglue.example', RRType.SVCB).additional, ['ns.deleg.example. A 192.0.2.19']);
});

test('each RRset once (RFC 2181 §5.5): a self-referencing alias, two records with one target', () => {
  const self = ask('self.example', RRType.SVCB);
  assert.deepEqual([self.answer, self.additional], [['self.example. SVCB 0 self.example.'], []]);
  assert.deepEqual(ask('self2.example', RRType.SVCB).additional, ['self2.example. A 192.0.2.16']);
  assert.deepEqual(ask('twice.example', RRType.SVCB).additional, [
    't1.example. A 192.0.2.11', 't1.example. AAAA 2001:db8::11', 't1.example. SVCB 1 beyond.example.',
  ]);
});

test('a target covered by a wildcard: records synthesized with the target as owner (RFC 4592)', () => {
  assert.deepEqual(ask('towild.example', RRType.SVCB).additional, ['foo.wild.example. A 192.0.2.17', 'foo.wild.example. SVCB 1 t1.example.']);
});

test('through a CNAME, and for minimal ANY: the additional records of the SVCB answered', () => {
  const viaCname = zoneFrom('@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nc CNAME s\ns SVCB 1 t\nt A 192.0.2.2\n', 'c.test');
  const s = buildSections(answer(viaCname, Name.from('c.c.test'), RRType.SVCB));
  assert.deepEqual(show(s.additional), ['t.c.test. A 192.0.2.2']);
  assert.deepEqual(ask('svc.example', RRType.ANY).additional, ask('svc.example', RRType.SVCB).additional);
});

test('NS, MX and SRV keep their rule: addresses only (no SVCB of the target), wildcard targets synthesized', () => {
  assert.deepEqual(ask('example', RRType.MX).additional, ['mail.example. A 192.0.2.2', 'mail.example. AAAA 2001:db8::2']);
  assert.deepEqual(ask('example', RRType.NS).additional, ['ns1.example. A 192.0.2.1']);
  assert.deepEqual(ask('mx.example', RRType.MX).additional, ['foo.wild.example. A 192.0.2.17', 't1.example. A 192.0.2.11', 't1.example. AAAA 2001:db8::11']);
  assert.deepEqual(ask('_s._tcp.example', RRType.SRV).additional, ['t1.example. A 192.0.2.11', 't1.example. AAAA 2001:db8::11']);
});
