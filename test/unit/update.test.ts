import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType, typeFromString } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, type Message, type RR, writeHeader } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText } from '../../src/dns/rdata.js';
import { WireWriter } from '../../src/dns/wire.js';
import { applyUpdate, checkGrant, parseGrant, type UpdateGrant } from '../../src/zone/update.js';
import { updateOwners } from '../../src/server/primary.js';

const origin = Name.from('example.org');
const n = (s: string) => Name.parse(s, origin);

/** "name ttl [class] type rdata..." relative to the origin; class ANY/NONE with no rdata allowed. */
function rr(text: string): RR {
  const w = text.split(/\s+/);
  const name = Name.parse(w[0], origin);
  const ttl = Number(w[1]);
  let i = 2;
  let klass: number = RRClass.IN;
  if (['IN', 'ANY', 'NONE'].includes(w[i])) klass = RRClass[w[i++] as 'IN' | 'ANY' | 'NONE'];
  const type = typeFromString(w[i++]) as number;
  const rest = w.slice(i);
  const rdata = rest.length === 0 ? new Uint8Array(0) : rdataFromText(type, rest.map((t) => ({ text: t, quoted: false })), origin);
  return { name, type, class: klass, ttl, rdata };
}

const zone: RR[] = [
  rr('@ 3600 SOA ns1 hostmaster 100 3600 900 604800 300'),
  rr('@ 3600 NS ns1'),
  rr('@ 3600 NS ns2'),
  rr('ns1 3600 A 192.0.2.1'),
  rr('ns2 3600 A 192.0.2.2'),
  rr('www 300 A 192.0.2.10'),
  rr('www 300 A 192.0.2.11'),
  rr('alias 300 CNAME www'),
  rr('mail 300 MX 10 www'),
];

function update(prereq: string[], updates: string[]): Message {
  const m = emptyMessage(1);
  m.opcode = Opcode.UPDATE;
  m.question.push({ name: origin, type: RRType.SOA, class: RRClass.IN });
  m.answer = prereq.map(rr);
  m.authority = updates.map(rr);
  return m;
}

const show = (rrs: RR[]) => rrs.map((x) => `${x.name.toRelativeString(origin)} ${x.ttl} ${x.type} ${Buffer.from(x.rdata).toString('hex')}`).sort();

describe('RFC 2136 prerequisites', () => {
  const cases: [string, string[], number][] = [
    ['name in use (yes)', ['www 0 ANY ANY'], Rcode.NOERROR],
    ['name in use (no)', ['nope 0 ANY ANY'], Rcode.NXDOMAIN],
    ['RRset exists value-independent (yes)', ['www 0 ANY A'], Rcode.NOERROR],
    ['RRset exists value-independent (no)', ['www 0 ANY AAAA'], Rcode.NXRRSET],
    ['name not in use (yes)', ['nope 0 NONE ANY'], Rcode.NOERROR],
    ['name not in use (no)', ['www 0 NONE ANY'], Rcode.YXDOMAIN],
    ['RRset does not exist (yes)', ['www 0 NONE AAAA'], Rcode.NOERROR],
    ['RRset does not exist (no)', ['www 0 NONE A'], Rcode.YXRRSET],
    ['RRset exists value-dependent (yes, any order)', ['www 0 A 192.0.2.11', 'www 0 A 192.0.2.10'], Rcode.NOERROR],
    ['RRset exists value-dependent (subset)', ['www 0 A 192.0.2.10'], Rcode.NXRRSET],
    ['RRset exists value-dependent (other value)', ['www 0 A 192.0.2.10', 'www 0 A 192.0.2.99'], Rcode.NXRRSET],
    ['TTL not zero', ['www 5 ANY A'], Rcode.FORMERR],
    ['outside the zone', ['www.example.com. 0 ANY A'], Rcode.NOTZONE],
    ['ANY with rdata', ['www 0 ANY A 192.0.2.1'], Rcode.FORMERR],
  ];
  for (const [title, pre, rcode] of cases) {
    test(title, () => {
      const r = applyUpdate(zone, origin, update(pre, ['new 60 A 192.0.2.50']));
      assert.equal(r.rcode, rcode, r.reason);
      assert.equal(r.changed, rcode === Rcode.NOERROR);
      if (rcode !== Rcode.NOERROR) assert.deepEqual(r.newRecords, zone);
    });
  }
});

describe('RFC 2136 updates', () => {
  test('add, duplicate add ignored, TTL change applies to the RRset', () => {
    const r = applyUpdate(zone, origin, update([], ['new 60 A 192.0.2.50', 'new 60 A 192.0.2.50']));
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.deepEqual(show(r.added), show([rr('new 60 A 192.0.2.50')]));
    assert.deepEqual(r.removed, []);
    const dup = applyUpdate(zone, origin, update([], ['www 300 A 192.0.2.10']));
    assert.equal(dup.changed, false);
    assert.deepEqual(dup.newRecords, zone);
    const ttl = applyUpdate(zone, origin, update([], ['www 600 A 192.0.2.12']));
    assert.deepEqual(show(ttl.added), show([rr('www 600 A 192.0.2.10'), rr('www 600 A 192.0.2.11'), rr('www 600 A 192.0.2.12')]));
    assert.deepEqual(show(ttl.removed), show([rr('www 300 A 192.0.2.10'), rr('www 300 A 192.0.2.11')]));
  });

  test('deletes: RRset, one RR, all RRsets of a name; apex keeps SOA and NS', () => {
    const r1 = applyUpdate(zone, origin, update([], ['www 0 ANY A']));
    assert.deepEqual(show(r1.removed), show([rr('www 300 A 192.0.2.10'), rr('www 300 A 192.0.2.11')]));
    const r2 = applyUpdate(zone, origin, update([], ['www 0 NONE A 192.0.2.10']));
    assert.deepEqual(show(r2.removed), show([rr('www 300 A 192.0.2.10')]));
    const r3 = applyUpdate(zone, origin, update([], ['mail 0 ANY ANY']));
    assert.deepEqual(show(r3.removed), show([rr('mail 300 MX 10 www')]));
    const withTxt = [...zone, rr('@ 300 TXT hello')];
    const r4 = applyUpdate(withTxt, origin, update([], ['@ 0 ANY ANY']));
    assert.deepEqual(show(r4.removed), show([rr('@ 300 TXT hello')]));
    const r5 = applyUpdate(zone, origin, update([], ['@ 0 ANY SOA', '@ 0 ANY NS', '@ 0 NONE SOA ns1 hostmaster 100 3600 900 604800 300']));
    assert.equal(r5.rcode, Rcode.NOERROR);
    assert.equal(r5.changed, false);
    // Missing RRs: deleting them is not an error.
    assert.equal(applyUpdate(zone, origin, update([], ['nope 0 ANY A', 'www 0 NONE A 10.9.9.9'])).changed, false);
  });

  test('the last apex NS is kept', () => {
    const r = applyUpdate(zone, origin, update([], ['@ 0 NONE NS ns1', '@ 0 NONE NS ns2']));
    assert.deepEqual(show(r.removed), show([rr('@ 3600 NS ns1')]));
    assert.ok(r.newRecords.some((x) => x.type === RRType.NS));
    // Below the apex (a delegation) every NS may go.
    const deleg = [...zone, rr('sub 3600 NS ns.sub')];
    assert.equal(applyUpdate(deleg, origin, update([], ['sub 0 NONE NS ns.sub'])).removed.length, 1);
  });

  test('CNAME versus other data', () => {
    assert.equal(applyUpdate(zone, origin, update([], ['alias 60 A 192.0.2.9'])).changed, false);
    assert.equal(applyUpdate(zone, origin, update([], ['www 60 CNAME mail'])).changed, false);
    const r = applyUpdate(zone, origin, update([], ['alias 60 CNAME mail']));
    assert.deepEqual(show(r.removed), show([rr('alias 300 CNAME www')]));
    assert.deepEqual(show(r.added), show([rr('alias 60 CNAME mail')]));
    // delete then add in one message works (updates apply in order)
    const r2 = applyUpdate(zone, origin, update([], ['alias 0 ANY CNAME', 'alias 60 A 192.0.2.9']));
    assert.deepEqual(show(r2.added), show([rr('alias 60 A 192.0.2.9')]));
  });

  test('a DNAME added where one is replaces it (one DNAME per owner, RFC 6672 §2.4), as BIND does', () => {
    const withDname = [...zone, rr('old 300 DNAME a.example.net.')];
    const r = applyUpdate(withDname, origin, update([], ['old 60 DNAME b.example.net.']));
    assert.deepEqual(show(r.removed), show([rr('old 300 DNAME a.example.net.')]));
    assert.deepEqual(show(r.added), show([rr('old 60 DNAME b.example.net.')]));
    assert.equal(r.newRecords.filter((x) => x.type === RRType.DNAME).length, 1);
  });

  test('NS and DNAME at a wildcard owner are ignored (RFC 4592 §4.2, §4.4), as BIND ignores them', () => {
    for (const u of ['*.dyn 60 NS ns1', '*.dyn 60 DNAME example.net.', '* 60 NS ns1']) {
      const r = applyUpdate(zone, origin, update([], [u]));
      assert.equal(r.rcode, Rcode.NOERROR, u);
      assert.equal(r.changed, false, u);
    }
    // other types at a wildcard are records like any other
    assert.equal(applyUpdate(zone, origin, update([], ['*.dyn 60 TXT x'])).changed, true);
  });

  test('an add below a DNAME is ignored unless it is a DNAME (RFC 6672 §5.2); the names between are among those read', () => {
    const withDname = [...zone, rr('dn 300 DNAME example.net.')];
    for (const u of ['x.dn 60 A 192.0.2.9', 'a.b.dn 60 TXT hidden', '*.dn 60 MX 10 mail']) {
      const r = applyUpdate(withDname, origin, update([], [u, 'kept 60 TXT yes']));
      assert.equal(r.rcode, Rcode.NOERROR, u);
      assert.deepEqual(show(r.added), show([rr('kept 60 TXT yes')]), u);
    }
    // a DNAME added first in the same message occludes what the message adds below it afterwards...
    const r = applyUpdate(zone, origin, update([], ['new 60 DNAME example.net.', 'x.new 60 A 192.0.2.9']));
    assert.deepEqual(show(r.added), show([rr('new 60 DNAME example.net.')]));
    // ...but not what was there before (the DNAME occludes it) nor a DNAME below (RFC 6672 §5.2 names non-DNAME RRs)
    assert.equal(applyUpdate(withDname, origin, update([], ['x.dn 60 DNAME example.org.'])).changed, true);
    // deleting the DNAME first lets the add through
    assert.equal(applyUpdate(withDname, origin, update([], ['dn 0 ANY DNAME', 'x.dn 60 A 192.0.2.9'])).added.length, 1);
    // the owners read for an UPDATE are the names it names (the DNAMEs above them are read apart: services)
    const keys = updateOwners(update(['b.dn 0 ANY ANY'], ['a.b.dn 60 TXT x', 'c.d 0 ANY A', 'e.f 60 DNAME example.org.']));
    assert.deepEqual([...keys].sort(), ['b.dn', 'a.b.dn', 'c.d', 'e.f'].map((x) => n(x).key).sort());
  });

  test('a DS is only kept at a delegation point (RFC 4034 §5): added elsewhere, or left without its NS, it goes', () => {
    const withCut = [...zone, rr('sub 300 NS ns.sub'), rr('ns.sub 300 A 192.0.2.30'), rr('sub 300 DS 60485 13 2 ' + 'ab'.repeat(32))];
    // a DS beside NS stays; at a name without NS it is dropped (the update is otherwise applied)
    const r = applyUpdate(withCut, origin, update([], [`www 60 DS 1 13 2 ${'cd'.repeat(32)}`, 'www 60 TXT kept']));
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.deepEqual(show(r.added), show([rr('www 60 TXT kept')]));
    const r2 = applyUpdate(withCut, origin, update([], [`sub 60 DS 2 13 2 ${'cd'.repeat(32)}`]));
    assert.equal(r2.newRecords.filter((x) => x.type === RRType.DS).length, 2);
    // the NS of the delegation deleted: its DS goes with it
    const r3 = applyUpdate(withCut, origin, update([], ['sub 0 ANY NS']));
    assert.deepEqual(show(r3.removed), show([rr('sub 300 NS ns.sub'), rr(`sub 300 DS 60485 13 2 ${'ab'.repeat(32)}`)]));
    // NS replaced in the same message: the DS stays
    const r4 = applyUpdate(withCut, origin, update([], ['sub 0 ANY NS', 'sub 300 NS ns1']));
    assert.ok(r4.newRecords.some((x) => x.type === RRType.DS));
  });

  test("a signed zone's delete of every RRset at its apex leaves the signer's DNSKEY and NSEC3PARAM (keptAtApex)", () => {
    const signed = [...zone, rr('@ 300 TXT apex'), rr(`@ 3600 DNSKEY 257 3 13 ${Buffer.alloc(64, 1).toString('base64')}`), rr('@ 0 NSEC3PARAM 1 0 0 -')];
    const keptAtApex = new Set([RRType.DNSKEY, RRType.NSEC3PARAM]);
    const r = applyUpdate(signed, origin, update([], ['@ 0 ANY ANY']), { keptAtApex, allowed: (_n, t) => t !== RRType.DNSKEY });
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.deepEqual(show(r.removed), show([rr('@ 300 TXT apex')]));
    // without the option (an unsigned zone's DNSKEY rows are records like any other) they go, RFC 2136 §3.4.2.3
    assert.equal(applyUpdate(signed, origin, update([], ['@ 0 ANY ANY'])).removed.length, 3);
  });

  test('SOA: replaced only by a larger serial (RFC 1982), never deleted, only at the apex', () => {
    const up = applyUpdate(zone, origin, update([], ['@ 3600 SOA ns1 hostmaster 200 3600 900 604800 300']));
    assert.equal(up.explicitSerial, 200);
    assert.equal(up.removed.length, 1);
    const down = applyUpdate(zone, origin, update([], ['@ 3600 SOA ns1 hostmaster 99 3600 900 604800 300']));
    assert.equal(down.changed, false);
    const wrapped = applyUpdate([rr('@ 3600 SOA ns1 hostmaster 4294967000 3600 900 604800 300'), ...zone.slice(1)], origin,
      update([], ['@ 3600 SOA ns1 hostmaster 5 3600 900 604800 300']));
    assert.equal(wrapped.explicitSerial, 5);
    assert.equal(applyUpdate(zone, origin, update([], ['www 3600 SOA ns1 hostmaster 200 3600 900 604800 300'])).changed, false);
  });

  test('prescan errors', () => {
    assert.equal(applyUpdate(zone, origin, update([], ['x.example.com. 60 A 192.0.2.1'])).rcode, Rcode.NOTZONE);
    assert.equal(applyUpdate(zone, origin, update([], ['www 60 ANY A'])).rcode, Rcode.FORMERR);
    assert.equal(applyUpdate(zone, origin, update([], ['www 60 NONE A 192.0.2.10'])).rcode, Rcode.FORMERR);
    assert.equal(applyUpdate(zone, origin, update([], ['www 0 ANY AXFR'])).rcode, Rcode.FORMERR);
    const bad = update([], []);
    bad.question[0] = { name: Name.from('example.com'), type: RRType.SOA, class: 1 };
    assert.equal(applyUpdate(zone, origin, bad).rcode, Rcode.NOTAUTH);
    bad.question[0] = { name: origin, type: RRType.A, class: 1 };
    assert.equal(applyUpdate(zone, origin, bad).rcode, Rcode.FORMERR);
  });

  test('a refused RRset refuses the whole update', () => {
    const allowed = (n: Name, t: number) => n.key === 'www.example.org.' && t === RRType.A;
    const ok = applyUpdate(zone, origin, update([], ['www 60 A 192.0.2.77']), { allowed });
    assert.equal(ok.rcode, Rcode.NOERROR);
    const r = applyUpdate(zone, origin, update([], ['www 60 A 192.0.2.77', 'mail 0 ANY MX']), { allowed });
    assert.equal(r.rcode, Rcode.REFUSED);
    assert.deepEqual(r.newRecords, zone);
    // Deleting every RRset of a name needs permission for each of them.
    const withTxt = [...zone, rr('www 60 TXT x')];
    assert.equal(applyUpdate(withTxt, origin, update([], ['www 0 ANY ANY']), { allowed }).rcode, Rcode.REFUSED);
    assert.equal(applyUpdate(zone, origin, update([], ['www 0 ANY ANY']), { allowed }).rcode, Rcode.NOERROR);
  });
});

describe('update grants', () => {
  const key = Name.from('acme.key');
  const A = RRType.A;
  const TXT = RRType.TXT;
  const n = (s: string) => Name.parse(s, origin);
  const pn = (s: string) => Name.parse(s, origin);
  const g = (text: string): UpdateGrant => parseGrant(text, pn, typeFromString);

  test('zonesub, name, subdomain, wildcard, self, types, deny, first match wins', () => {
    assert.ok(checkGrant([g('grant acme.key. zonesub TXT')], key, n('_acme-challenge.www'), TXT, origin));
    assert.ok(!checkGrant([g('grant acme.key. zonesub TXT')], key, n('www'), A, origin));
    assert.ok(!checkGrant([g('grant acme.key. zonesub TXT')], Name.from('other.key'), n('www'), TXT, origin));
    assert.ok(checkGrant([g('grant acme.key. name _acme-challenge.www TXT')], key, n('_acme-challenge.www'), TXT, origin));
    assert.ok(!checkGrant([g('grant acme.key. name _acme-challenge.www TXT')], key, n('x._acme-challenge.www'), TXT, origin));
    assert.ok(checkGrant([g('grant acme.key. subdomain dyn A AAAA')], key, n('a.b.dyn'), A, origin));
    assert.ok(checkGrant([g('grant acme.key. subdomain dyn A AAAA')], key, n('dyn'), A, origin));
    assert.ok(!checkGrant([g('grant acme.key. subdomain dyn A AAAA')], key, n('dyn2'), A, origin));
    assert.ok(checkGrant([g('grant acme.key. wildcard *.dyn A')], key, n('h.dyn'), A, origin));
    assert.ok(!checkGrant([g('grant acme.key. wildcard *.dyn A')], key, n('dyn'), A, origin));
    const host = Name.from('host1.example.org');
    assert.ok(checkGrant([g('grant *.example.org. self . A')], host, host, A, origin));
    assert.ok(!checkGrant([g('grant *.example.org. self . A')], host, n('host2'), A, origin));
    // Empty type list: everything but SOA, NS and the signer's types; ANY adds SOA/NS.
    assert.ok(checkGrant([g('grant acme.key. zonesub')], key, n('x'), RRType.MX, origin));
    assert.ok(!checkGrant([g('grant acme.key. zonesub')], key, origin, RRType.NS, origin));
    assert.ok(checkGrant([g('grant acme.key. zonesub ANY')], key, origin, RRType.NS, origin));
    assert.ok(!checkGrant([g('grant acme.key. zonesub ANY')], key, n('x'), RRType.RRSIG, origin));
    const rules = [g('deny acme.key. name www A'), g('grant acme.key. zonesub A')];
    assert.ok(!checkGrant(rules, key, n('www'), A, origin));
    assert.ok(checkGrant(rules, key, n('www2'), A, origin));
    assert.ok(!checkGrant(rules, undefined, n('www2'), A, origin), 'unsigned is never allowed');
    assert.throws(() => g('allow x zonesub'));
    assert.throws(() => g('grant x external'));
    assert.throws(() => g('grant x zonesub BOGUS'));
  });

  test('ocaml-dns convention: <name>._update.<domain>', () => {
    assert.ok(checkGrant([], Name.from('personal._update.example.org'), n('anything.deep'), A, origin));
    assert.ok(checkGrant([], Name.from('personal._update.example.org'), origin, RRType.MX, origin));
    assert.ok(checkGrant([], Name.from('p._update.dyn.example.org'), n('h.dyn'), A, origin));
    assert.ok(!checkGrant([], Name.from('p._update.dyn.example.org'), n('www'), A, origin));
    assert.ok(!checkGrant([], Name.from('p._update.example.com'), n('www'), A, origin));
    assert.ok(!checkGrant([], Name.from('_update.example.org'), n('www'), A, origin));
    assert.ok(!checkGrant([], Name.from('personal._transfer.example.org'), n('www'), A, origin));
  });
});

test('decodeMessage accepts the empty RDATA of UPDATE class ANY/NONE records (RFC 2136 §2.4, §2.5)', () => {
  const w = new WireWriter(512, true);
  writeHeader(w, { ...emptyMessage(77), opcode: Opcode.UPDATE }, [1, 1, 2, 0]);
  w.name(origin);
  w.u16(RRType.SOA);
  w.u16(RRClass.IN);
  const rec = (name: Name, type: number, klass: number, ttl: number, rdata: number[]) => {
    w.name(name);
    w.u16(type);
    w.u16(klass);
    w.u32(ttl);
    w.u16(rdata.length);
    for (const b of rdata) w.u8(b);
  };
  rec(Name.from('www.example.org'), RRType.A, RRClass.ANY, 0, []);
  rec(Name.from('www.example.org'), RRType.A, RRClass.ANY, 0, []);
  rec(Name.from('www.example.org'), RRType.A, RRClass.IN, 60, [10, 0, 0, 1]);
  const m = decodeMessage(w.finish());
  assert.equal(m.answer.length, 1);
  assert.equal(m.authority[0].rdata.length, 0);
  const r = applyUpdate(zone, origin, m);
  assert.equal(r.rcode, Rcode.NOERROR, r.reason);
  assert.deepEqual(show(r.added), show([rr('www 60 A 10.0.0.1')]));
  assert.equal(r.removed.length, 2);
});
