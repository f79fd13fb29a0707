// The pure pieces of serving signed zones: SignedZone.restore takes stored signatures over (a restart signs nothing)
// and re-signs only what the keys in force did not make; replaceOwners (the served-zone patch shape) re-signs only the
// RRsets that changed; addDnssec puts the right signatures and denial records in DO=1 answers, and every signature it
// serves verifies (the validating peers are in test/interop/dnssec-serving.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString, rrsigFields } from '../../src/dns/rdata.js';
import { generateKey, KSK_FLAGS, nsec3Hash, rrsetFromRRs, SignedZone, signZone, verifyRrsig, type ZoneKey } from '../../src/dnssec/index.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { QueryHandler } from '../../src/server/query.js';
import { addDnssec } from '../../src/zone/dnssec-answer.js';
import { ZoneTable } from '../../src/zone/table.js';
import { answer } from '../../src/zone/lookup.js';
import { buildSections } from '../../src/zone/sections.js';
import { wireKey } from '../../src/zone/key.js';
import { compileZone } from '../../src/zone/zone.js';

const origin = Name.from('example.org');
const NOW = 1_750_000_000;

function rr(text: string): RR {
  const [owner, ttl, type, ...rest] = text.split(/\s+/);
  const t = RRType[type as keyof typeof RRType];
  return { name: Name.parse(owner, origin), type: t, class: 1, ttl: Number(ttl), rdata: rdataFromString(t, rest.join(' '), origin) };
}

const RECORDS = [
  '@ 300 SOA ns1 host 1 3600 600 86400 300',
  '@ 300 NS ns1',
  'ns1 300 A 192.0.2.1',
  'www 300 A 192.0.2.2',
  'www 300 TXT "hello"',
  '*.wild 300 TXT "wild"',
  'a.b.ent 300 A 192.0.2.3',
  'cn 300 CNAME www',
  'dn 300 DNAME target',
  'x.target 300 A 192.0.2.4',
  'sub 300 NS ns.sub',
  'ns.sub 300 A 192.0.2.9',
].map(rr);

const key = generateKey(13, { flags: KSK_FLAGS });
const KEYS: ZoneKey[] = [{ key, ksk: true, zsk: true }];
const sigCount = (z: SignedZone) => z.generated().filter((r) => r.type === RRType.RRSIG).length;

for (const denial of [{ kind: 'nsec' as const }, { kind: 'nsec3' as const }]) {
  test(`restore takes the stored signatures over; other keys re-sign (${denial.kind})`, () => {
    const signed = signZone(origin, RECORDS, KEYS, { denial }, NOW);
    const stored = signed.generated();
    const { zone, delta } = SignedZone.restore(origin, { denial }, RECORDS, stored, KEYS, NOW + 100);
    assert.deepEqual(delta, { remove: [], add: [] });
    assert.equal(zone.generated().length, stored.length);
    // A change applied to the restored zone equals the change applied to the original.
    const change = { remove: [], add: [rr('new 300 A 192.0.2.50')] };
    const a = signed.apply(change, KEYS, NOW + 200);
    const b = zone.apply(change, KEYS, NOW + 200);
    assert.equal(a.add.length, b.add.length);
    assert.equal(a.remove.length, b.remove.length);
    // Another key: every signature is made again, chain and apex records stay as they are, DNSKEY changes.
    const other = generateKey(13, { flags: KSK_FLAGS });
    const r = SignedZone.restore(origin, { denial }, RECORDS, stored, [{ key: other, ksk: true, zsk: true }], NOW + 100);
    assert.equal(r.delta.remove.filter((x) => x.type === RRType.RRSIG).length, stored.filter((x) => x.type === RRType.RRSIG).length);
    assert.equal(r.delta.add.filter((x) => x.type === RRType.RRSIG).length, sigCount(r.zone));
  });

  test(`generatedAt gives each owner's part of generated(): together exactly generated(), after a change too (${denial.kind})`, () => {
    const signed = signZone(origin, RECORDS, KEYS, { denial }, NOW);
    const check = () => {
      const byOwner = new Map<string, Name>();
      for (const r of signed.generated()) byOwner.set(r.name.key, r.name);
      const parts = [...byOwner.values()].flatMap((n) => signed.generatedAt(n).map((r) => { assert.equal(r.name.key, n.key); return r; }));
      const text = (rs: RR[]) => rs.map((r) => `${r.name.key} ${r.type} ${Buffer.from(r.rdata).toString('hex')}`).sort();
      assert.deepEqual(text(parts), text(signed.generated()));
      assert.deepEqual(signed.generatedAt(Name.from('never.example.org')), []);
    };
    check();
    signed.replaceOwners([{ name: Name.from('new.example.org'), records: [rr('new 300 A 192.0.2.50')] }, { name: Name.from('www.example.org'), records: [] }], KEYS, NOW + 10);
    check();
  });

  test(`restore with two signing keys (as in an algorithm rollover) takes their signatures over, in either order of the keys; a third key re-signs (${denial.kind})`, () => {
    const keys: ZoneKey[] = [
      { key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: true },
      { key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: true },
    ];
    const signed = signZone(origin, RECORDS, keys, { denial }, NOW);
    const stored = signed.generated();
    // Every RRset carries two signatures.
    const covering = (type: number) => stored.filter((r) => r.type === RRType.RRSIG && ((r.rdata[0] << 8) | r.rdata[1]) === type);
    assert.equal(covering(RRType.DNSKEY).length, 2);
    assert.equal(covering(RRType.SOA).length, 2);
    for (const order of [keys, [...keys].reverse()])
      assert.deepEqual(SignedZone.restore(origin, { denial }, RECORDS, stored, order, NOW + 100).delta, { remove: [], add: [] });
    const more = [...keys, { key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: false }];
    const r = SignedZone.restore(origin, { denial }, RECORDS, stored, more, NOW + 100);
    assert.ok(r.delta.add.some((x) => x.type === RRType.RRSIG && ((x.rdata[0] << 8) | x.rdata[1]) === RRType.DNSKEY), 'the DNSKEY RRset signed by the new KSK too');
  });

  test(`replaceOwners re-signs only the RRsets that changed (${denial.kind})`, () => {
    const z = signZone(origin, RECORDS, KEYS, { denial }, NOW);
    const wwwOwner = Name.parse('www', origin);
    // The same list: nothing to do.
    assert.deepEqual(z.replaceOwners([{ name: wwwOwner, records: z.recordsAt(wwwOwner) }], KEYS, NOW), { remove: [], add: [] });
    // One TXT changed at www: its RRSIG only (no chain change: the types at www stay).
    const next = [...z.recordsAt(wwwOwner).filter((r) => r.type !== RRType.TXT), rr('www 300 TXT "bye"')];
    const d = z.replaceOwners([{ name: wwwOwner, records: next }], KEYS, NOW);
    assert.deepEqual(
      d.add.map((r) => [r.type, rrsigFields(r.rdata).typeCovered]),
      [[RRType.RRSIG, RRType.TXT]],
    );
    assert.equal(d.remove.length, 1);
  });

  test(`DO=1 answers carry signatures and denial proofs that verify (${denial.kind})`, () => {
    const s = signZone(origin, RECORDS, KEYS, { denial }, NOW);
    const zone = compileZone(origin, s.records());
    const ask = (name: string, type: number) => {
      const o = answer(zone, Name.parse(name, origin), type);
      return addDnssec(o, buildSections(o, { minimalAny: true }), nsec3Hash);
    };
    const types = (rrs: RR[]) => rrs.map((r) => (r.type === RRType.RRSIG ? `RRSIG/${rrsigFields(r.rdata).typeCovered}` : String(r.type)));
    const denialType = denial.kind === 'nsec' ? RRType.NSEC : RRType.NSEC3;
    const verifyAll = (rrs: RR[]) => {
      for (const sig of rrs.filter((r) => r.type === RRType.RRSIG)) {
        const f = rrsigFields(sig.rdata);
        const set = rrs.filter((r) => r.type === f.typeCovered && r.name.equals(sig.name));
        assert.ok(set.length > 0, `RRset for ${sig.name} ${f.typeCovered}`);
        assert.deepEqual(verifyRrsig(rrsetFromRRs(set), sig.rdata, key, { now: NOW }), { ok: true }, `${sig.name} ${f.typeCovered}`);
      }
    };
    // Positive: the RRset and its signature.
    let a = ask('www', RRType.A);
    assert.deepEqual(types(a.answer), [String(RRType.A), `RRSIG/${RRType.A}`]);
    verifyAll(a.answer);
    // NXDOMAIN: SOA + its RRSIG, and denial records (NSEC: 2 spans at most; NSEC3: encloser, next closer, wildcard).
    a = ask('nx', RRType.A);
    assert.ok(a.authority.some((r) => r.type === RRType.SOA));
    assert.ok(a.authority.filter((r) => r.type === denialType).length >= (denial.kind === 'nsec' ? 1 : 2));
    verifyAll(a.authority);
    // NODATA at an empty non-terminal.
    a = ask('b.ent', RRType.A);
    assert.equal(a.rcode, 0);
    assert.ok(a.authority.some((r) => r.type === denialType));
    verifyAll(a.authority);
    // Wildcard expansion: the signature with the query name as owner (labels field of the wildcard) + a proof.
    a = ask('x.wild', RRType.TXT);
    const sig = a.answer.find((r) => r.type === RRType.RRSIG)!;
    assert.equal(sig.name.toString(), 'x.wild.example.org.');
    assert.equal(rrsigFields(sig.rdata).labels, 3);
    assert.ok(a.authority.some((r) => r.type === denialType));
    // Wildcard NODATA (NSEC: here one record both covers x.wild and matches *.wild; NSEC3: encloser, next closer,
    // wildcard — the next closer's cover may be one of the two others).
    a = ask('x.wild', RRType.A);
    assert.ok(a.authority.filter((r) => r.type === denialType).length >= (denial.kind === 'nsec' ? 1 : 2));
    verifyAll(a.authority);
    // CNAME and DNAME chains: every stored record signed, the synthesized CNAME not.
    a = ask('cn', RRType.A);
    assert.deepEqual(types(a.answer), [String(RRType.CNAME), `RRSIG/${RRType.CNAME}`, String(RRType.A), `RRSIG/${RRType.A}`]);
    a = ask('x.dn', RRType.A);
    assert.deepEqual(types(a.answer), [String(RRType.DNAME), `RRSIG/${RRType.DNAME}`, String(RRType.CNAME), String(RRType.A), `RRSIG/${RRType.A}`]);
    // Insecure delegation: NS unsigned, no DS, the denial record of the cut.
    a = ask('host.sub', RRType.A);
    assert.equal(a.aa, false);
    assert.ok(!a.authority.some((r) => r.type === RRType.DS));
    assert.ok(a.authority.some((r) => r.type === denialType));
    assert.ok(!a.authority.some((r) => r.type === RRType.RRSIG && rrsigFields(r.rdata).typeCovered === RRType.NS));
  });
}

test('QueryHandler: DO=1 answers from a signed zone are memoized apart from DO=0 ones and follow zone changes', () => {
  const signed = signZone(origin, RECORDS, KEYS, { denial: { kind: 'nsec' } }, NOW);
  const table = new ZoneTable();
  table.set(compileZone(origin, signed.records()));
  const h = new QueryHandler(table);
  const ask = (name: string, type: number, dnssecOk: boolean, id = 7) => {
    const m = emptyMessage(id);
    m.question.push({ name: Name.parse(name, origin), type, class: 1 });
    m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: dnssecOk, flags: 0, options: [] };
    const r = h.handle(encodeMessage(m), { transport: 'udp' });
    assert.ok(r instanceof Uint8Array);
    return decodeMessage(r);
  };
  const sigs = (m: ReturnType<typeof ask>) => m.answer.filter((r) => r.type === RRType.RRSIG).length;
  // DO=0 first, then DO=1, then both again (from their memos): neither leaks into the other.
  assert.equal(sigs(ask('www', RRType.A, false)), 0);
  assert.equal(sigs(ask('www', RRType.A, true)), 1);
  assert.equal(sigs(ask('www', RRType.A, false, 8)), 0);
  const again = ask('WWW', RRType.A, true, 9);
  assert.equal(again.id, 9);
  assert.equal(again.edns?.do, true);
  assert.equal(sigs(again), 1);
  assert.equal(again.question[0].name.toString(), 'WWW.example.org.');
  // A new version of the zone: the memoized DO=1 answer is not served any more.
  const delta = signed.apply({ remove: [rr('www 300 A 192.0.2.2')], add: [rr('www 300 A 192.0.2.99')] }, KEYS, NOW + 10);
  assert.ok(delta.add.length > 0);
  table.set(compileZone(origin, signed.records()));
  const after = ask('www', RRType.A, true, 10);
  assert.deepEqual([...after.answer.find((r) => r.type === RRType.A)!.rdata], [192, 0, 2, 99]);
  assert.equal(sigs(after), 1);
  // Negative DO=1 answers carry their proofs (built per query).
  const nx = ask('nx', RRType.A, true, 11);
  assert.equal(nx.rcode, 3);
  assert.ok(nx.authority.some((r) => r.type === RRType.NSEC));
});

test('an RRSIG is served with the TTL of the RRset it covers (RFC 4034 §3), in answers and in the zone walked for AXFR', () => {
  // Different TTLs at one name: the apex's SOA, NS and TXT; www's A and TXT.
  const records = [
    '@ 3600 SOA ns1 host 1 3600 600 86400 300',
    '@ 300 NS ns1',
    '@ 86400 TXT "apex"',
    'ns1 300 A 192.0.2.1',
    'www 60 A 192.0.2.2',
    'www 7200 TXT "hello"',
  ].map(rr);
  for (const denial of [{ kind: 'nsec' as const }, { kind: 'nsec3' as const }]) {
    const signed = signZone(origin, records, KEYS, { denial }, NOW);
    const zone = compileZone(origin, [...records, ...signed.generated()]);
    for (const node of [zone.apex, zone.nodes.get(wireKey(Name.from('www.example.org')))!]) {
      const sigs = node.rrset(RRType.RRSIG)!.rrs;
      assert.ok(sigs.length >= 2);
      for (const sig of sigs) {
        const covered = rrsigFields(sig.rdata).typeCovered;
        assert.equal(sig.ttl, node.rrset(covered)!.rrs[0].ttl, `${sig.name} RRSIG ${covered} (${denial.kind})`);
      }
      const walked = [...node.rrsets.values()].filter((set) => set.type === RRType.RRSIG).flatMap((set) => set.rrs);
      for (const sig of walked) assert.equal(sig.ttl, node.rrset(rrsigFields(sig.rdata).typeCovered)!.rrs[0].ttl);
    }
    // and in a DO=1 answer
    const o = answer(zone, Name.parse('www', origin), RRType.TXT);
    const a = addDnssec(o, buildSections(o, { minimalAny: true }), nsec3Hash);
    assert.deepEqual(a.answer.map((r) => `${r.type} ${r.ttl}`), [`${RRType.TXT} 7200`, `${RRType.RRSIG} 7200`], denial.kind);
  }
});
