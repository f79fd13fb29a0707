// Zone signing: what is signed and chained where (apex keys, delegations, glue, DNAME, ENTs, opt-out), every RRSIG
// verifies, a change touches only the links next to it, and — the property — any sequence of deltas signed
// incrementally ends with the same NSEC/NSEC3 chain, apex records and signature set as a full sign of the final data.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRType, typeToString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { nsec3Fields, nsecFields, rdataFromString, rrsigFields } from '../../src/dns/rdata.js';
import {
  type Denial,
  generateKey,
  KSK_FLAGS,
  keyFromDnskey,
  nsec3Label,
  type RecordDelta,
  rrsetFromRRs,
  type SignedZone,
  signZone,
  verifyRrsig,
  type ZoneKey,
  ZSK_FLAGS,
} from '../../src/dnssec/index.js';

const origin = Name.from('example.org');
const NOW = 1_750_000_000;

function rr(text: string): RR {
  const [owner, ttl, type, ...rest] = text.split(/\s+/);
  const t = RRType[type as keyof typeof RRType];
  return { name: Name.parse(owner, origin), type: t, class: 1, ttl: Number(ttl), rdata: rdataFromString(t, rest.join(' '), origin) };
}

const csk = generateKey(13, { flags: KSK_FLAGS });
const ksk = generateKey(13, { flags: KSK_FLAGS });
const zsk = generateKey(13, { flags: ZSK_FLAGS });
const CSK: ZoneKey[] = [{ key: csk, ksk: true, zsk: true }];
const SPLIT: ZoneKey[] = [
  { key: ksk, ksk: true, zsk: false, publishCds: true },
  { key: zsk, ksk: false, zsk: true },
];

const BASE = [
  '@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300',
  '@ 3600 NS ns1',
  'ns1 3600 A 192.0.2.1',
  'www 300 A 192.0.2.2',
  'www 300 AAAA 2001:db8::2',
  'x.y.z 300 TXT "deep"', // y.z and z are empty non-terminals
  '*.w 300 TXT "wild"',
  'alias 300 CNAME www',
  'dn 300 DNAME example.net.',
  'secure 300 NS ns.secure',
  'secure 300 DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000',
  'ns.secure 300 A 192.0.2.3', // glue
  'insecure.a.b 300 NS ns.insecure.a.b', // a.b and b are ENTs leading only to an insecure delegation
  'ns.insecure.a.b 300 A 192.0.2.4',
  'insecure.a.b 300 A 192.0.2.5', // at a delegation point: not authoritative
].map(rr);

function byKey(records: RR[]): Map<string, RR[]> {
  const m = new Map<string, RR[]>();
  for (const r of records) {
    const k = `${r.name.key} ${r.type === RRType.RRSIG ? `RRSIG/${typeToString(rrsigFields(r.rdata).typeCovered)}` : typeToString(r.type)}`;
    const l = m.get(k);
    if (l) l.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** Every RRSIG verifies against the zone's DNSKEYs and covers an RRset that exists; returns the covered set keys. */
function verifyAll(records: RR[], now = NOW): Set<string> {
  const keys = records.filter((r) => r.type === RRType.DNSKEY).map((r) => keyFromDnskey(r.rdata));
  const sets = byKey(records.filter((r) => r.type !== RRType.RRSIG));
  const covered = new Set<string>();
  for (const s of records.filter((r) => r.type === RRType.RRSIG)) {
    const f = rrsigFields(s.rdata);
    const k = `${s.name.key} ${typeToString(f.typeCovered)}`;
    const set = sets.get(k);
    assert.ok(set, `RRSIG over a missing RRset ${k}`);
    const key = keys.find((x) => x.keyTag === f.keyTag && x.algorithm === f.algorithm);
    assert.ok(key, `no DNSKEY ${f.keyTag} for ${k}`);
    assert.deepEqual(verifyRrsig(rrsetFromRRs(set), s.rdata, key, { now }), { ok: true }, k);
    assert.equal(s.ttl, rrsetFromRRs(set).ttl);
    covered.add(k);
  }
  return covered;
}

test('NSEC: signed and chained exactly where RFC 4035 §2.2/§2.3 say', () => {
  const z = signZone(origin, BASE, SPLIT, { denial: { kind: 'nsec' } }, NOW);
  const all = z.records();
  const covered = verifyAll(all);
  const k = (n: string, t: string) => `${Name.parse(n, origin).key} ${t}`;
  for (const want of ['@ SOA', '@ NS', '@ DNSKEY', '@ CDS', '@ CDNSKEY', 'ns1 A', 'www A', 'www AAAA', 'x.y.z TXT', '*.w TXT', 'alias CNAME', 'dn DNAME', 'secure DS'])
    assert.ok(covered.has(k(want.split(' ')[0], want.split(' ')[1])), `${want} signed`);
  for (const not of ['secure NS', 'ns.secure A', 'insecure.a.b NS', 'insecure.a.b A', 'ns.insecure.a.b A'])
    assert.ok(!covered.has(k(not.split(' ')[0], not.split(' ')[1])), `${not} not signed`);
  // DNSKEY/CDS/CDNSKEY by the KSK only, everything else by the ZSK only.
  for (const s of all.filter((r) => r.type === RRType.RRSIG)) {
    const f = rrsigFields(s.rdata);
    const apexKeyType = s.name.equals(origin) && ([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY] as number[]).includes(f.typeCovered);
    assert.equal(f.keyTag, apexKeyType ? ksk.keyTag : zsk.keyTag);
    assert.equal(f.inception, NOW - 3600);
    assert.equal(f.expiration, NOW + 14 * 86400);
    assert.ok(f.signer.equals(origin));
    assert.equal(f.labels, s.name.isWildcard() ? s.name.labelCount - 1 : s.name.labelCount);
  }
  // The chain: authoritative names and delegations in canonical order, a closed loop, no ENT, glue or DNAME child.
  const nsecs = all.filter((r) => r.type === RRType.NSEC).sort((a, b) => a.name.compareCanonical(b.name));
  assert.deepEqual(
    nsecs.map((r) => r.name.toRelativeString(origin)),
    ['@', '*.w', 'alias', 'insecure.a.b', 'dn', 'ns1', 'secure', 'www', 'x.y.z'].sort((a, b) => Name.parse(a, origin).compareCanonical(Name.parse(b, origin))),
  );
  for (let i = 0; i < nsecs.length; i++) {
    const f = nsecFields(nsecs[i].rdata);
    assert.ok(f.next.equals(nsecs[(i + 1) % nsecs.length].name));
    assert.equal(nsecs[i].ttl, 300); // RFC 9077: min(SOA TTL, SOA MINIMUM)
  }
  const types = (n: string) => nsecFields((nsecs.find((r) => r.name.equals(Name.parse(n, origin))) as RR).rdata).types.map(typeToString);
  assert.deepEqual(types('@'), ['NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY', 'CDS', 'CDNSKEY']);
  assert.deepEqual(types('secure'), ['NS', 'DS', 'RRSIG', 'NSEC']);
  assert.deepEqual(types('insecure.a.b'), ['NS', 'RRSIG', 'NSEC']);
  assert.deepEqual(types('dn'), ['DNAME', 'RRSIG', 'NSEC']);
});

for (const optOut of [false, true]) {
  test(`NSEC3${optOut ? ' opt-out' : ''}: hashed owners, ENTs, delegations, NSEC3PARAM`, () => {
    const z = signZone(origin, BASE, CSK, { denial: { kind: 'nsec3', optOut } }, NOW);
    const all = z.records();
    verifyAll(all);
    const nsec3 = all.filter((r) => r.type === RRType.NSEC3);
    const hashed = new Map(nsec3.map((r) => [r.name.key, r]));
    const at = (n: string) => hashed.get(`${nsec3Label(Name.parse(n, origin), new Uint8Array(0), 0)}.example.org.`);
    const expect = ['@', 'ns1', 'www', 'x.y.z', 'y.z', 'z', '*.w', 'w', 'alias', 'dn', 'secure'];
    if (!optOut) expect.push('insecure.a.b', 'a.b', 'b');
    assert.equal(nsec3.length, expect.length);
    for (const n of expect) assert.ok(at(n), `NSEC3 for ${n}`);
    const f = (n: string) => nsec3Fields((at(n) as RR).rdata);
    assert.deepEqual(f('y.z').types, []);
    assert.deepEqual(f('secure').types.map(typeToString), ['NS', 'DS', 'RRSIG']);
    assert.deepEqual(f('@').types.map(typeToString), ['NS', 'SOA', 'RRSIG', 'DNSKEY', 'NSEC3PARAM']);
    if (!optOut) assert.deepEqual(f('insecure.a.b').types.map(typeToString), ['NS']);
    for (const r of nsec3) {
      const x = nsec3Fields(r.rdata);
      assert.equal(x.flags, optOut ? 1 : 0);
      assert.equal(x.iterations, 0);
      assert.equal(x.salt.length, 0);
    }
    // One closed loop in hash order.
    const sorted = nsec3.map((r) => r.name.labels[0]).map((l) => Buffer.from(l).toString()).sort();
    for (let i = 0; i < sorted.length; i++) {
      const next = Buffer.from(nsec3Fields((hashed.get(`${sorted[i]}.example.org.`) as RR).rdata).nextHashed);
      assert.equal(next.toString('hex'), Buffer.from(fromB32(sorted[(i + 1) % sorted.length])).toString('hex'));
    }
    const param = all.filter((r) => r.type === RRType.NSEC3PARAM);
    assert.equal(param.length, 1);
    assert.deepEqual([...param[0].rdata], [1, 0, 0, 0, 0]);
    assert.equal(all.filter((r) => r.type === RRType.NSEC).length, 0);
  });
}

function fromB32(s: string): Uint8Array {
  const a = '0123456789abcdefghijklmnopqrstuv';
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of s) {
    acc = (acc << 5) | a.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

test('input the signer makes itself is refused; so is a zone without SOA or without keys for a role', () => {
  const soaless = BASE.filter((r) => r.type !== RRType.SOA);
  assert.throws(() => signZone(origin, soaless, CSK, { denial: { kind: 'nsec' } }, NOW), /no SOA/);
  assert.throws(() => signZone(origin, [...BASE, rr('www 300 NSEC www A')], CSK, { denial: { kind: 'nsec' } }, NOW), /made by the signer/);
  assert.throws(() => signZone(origin, [...BASE, rr('@ 0 NSEC3PARAM 1 0 0 -')], CSK, { denial: { kind: 'nsec' } }, NOW), /comes from the signing policy/);
  assert.throws(() => signZone(origin, [...BASE, { ...BASE[3], name: Name.from('www.example.com') }], CSK, { denial: { kind: 'nsec' } }, NOW), /not in zone/);
  assert.throws(() => signZone(origin, BASE, [SPLIT[1]], { denial: { kind: 'nsec' } }, NOW), /no active key with the KSK role/);
  assert.throws(() => signZone(origin, BASE, [{ key: keyFromDnskey(csk.rdata), ksk: true, zsk: true }], { denial: { kind: 'nsec' } }, NOW), /private key is not loaded/);
  assert.throws(() => signZone(origin, BASE, CSK, { denial: { kind: 'nsec3', iterations: 151 } }, NOW), /RFC 9276/);
});

test('a published but inactive key is in the DNSKEY RRset and signs nothing; jitter spreads expirations deterministically', () => {
  const standby = generateKey(13, { flags: ZSK_FLAGS });
  const keys: ZoneKey[] = [...CSK, { key: standby, ksk: false, zsk: true, active: false }];
  const policy = { denial: { kind: 'nsec' } as Denial, jitter: 43200, validity: 86400 * 14 };
  const z = signZone(origin, BASE, keys, policy, NOW);
  const all = z.records();
  assert.equal(all.filter((r) => r.type === RRType.DNSKEY).length, 2);
  const sigs = all.filter((r) => r.type === RRType.RRSIG).map((r) => rrsigFields(r.rdata));
  assert.ok(sigs.every((f) => f.keyTag === csk.keyTag));
  const exps = new Set(sigs.map((f) => f.expiration));
  assert.ok(exps.size > 3, 'expirations spread');
  assert.ok(sigs.every((f) => f.expiration <= NOW + 14 * 86400 && f.expiration > NOW + 14 * 86400 - 43200));
  const again = signZone(origin, BASE, keys, policy, NOW).records().filter((r) => r.type === RRType.RRSIG).map((r) => rrsigFields(r.rdata).expiration);
  assert.deepEqual(again.sort(), sigs.map((f) => f.expiration).sort());
});

test('one new name in a 3000-name zone changes its own records and its predecessor\'s NSEC only', () => {
  const recs = [...BASE];
  for (let i = 0; i < 3000; i++) recs.push(rr(`h${i} 300 A 192.0.2.${i % 250}`));
  for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3' }] as Denial[]) {
    const z = signZone(origin, recs, CSK, { denial }, NOW);
    const d = z.apply({ remove: [], add: [rr('h1500x 300 A 192.0.2.99')] }, CSK, NOW);
    const chainType = denial.kind === 'nsec' ? RRType.NSEC : RRType.NSEC3;
    // Added: NSEC(3) of the new name and the predecessor's new one, and an RRSIG over each plus one over the A.
    assert.deepEqual(d.add.map((r) => typeToString(r.type)).sort(), [typeToString(chainType), typeToString(chainType), 'RRSIG', 'RRSIG', 'RRSIG'].sort());
    assert.deepEqual(d.remove.map((r) => typeToString(r.type)).sort(), [typeToString(chainType), 'RRSIG'].sort());
    // A no-op changes nothing; removing the name again restores the old chain.
    assert.deepEqual(z.apply({ remove: [], add: [] }, CSK, NOW), { remove: [], add: [] });
    const back = z.apply({ remove: [rr('h1500x 300 A 192.0.2.99')], add: [] }, CSK, NOW);
    assert.equal(back.add.length, 2); // predecessor's NSEC(3) and its RRSIG
    assert.equal(back.remove.length, 5);
  }
});

test('refresh re-signs exactly the RRsets whose signatures expire before the given time', () => {
  const policy = { denial: { kind: 'nsec' } as Denial, jitter: 86400 };
  const z = signZone(origin, BASE, CSK, policy, NOW);
  const before = z.generated().filter((r) => r.type === RRType.RRSIG);
  const exps = before.map((r) => rrsigFields(r.rdata).expiration).sort((a, b) => a - b);
  const later = NOW + 10 * 86400;
  assert.deepEqual(z.refresh(CSK, later, exps[0] - 1), { remove: [], add: [] });
  const cut = exps[Math.floor(exps.length / 2)];
  const due = before.filter((r) => rrsigFields(r.rdata).expiration < cut);
  const d = z.refresh(CSK, later, cut);
  assert.equal(d.remove.length, due.length);
  assert.ok(d.remove.every((r) => due.includes(r)));
  assert.equal(d.add.length, due.length);
  assert.ok(d.add.every((r) => rrsigFields(r.rdata).inception === later - 3600));
  verifyAll(z.records(), later);
  // Everything refreshed: all signatures now carry the new inception.
  z.refresh(CSK, later, later + 30 * 86400);
  assert.ok(z.generated().filter((r) => r.type === RRType.RRSIG).every((r) => rrsigFields(r.rdata).inception === later - 3600));
});

test('refresh and oldestExpiration stay exact while changes drop and add signatures (the expiry floor)', () => {
  const policy = { denial: { kind: 'nsec' } as Denial, jitter: 86400 };
  const z = signZone(origin, BASE, CSK, policy, NOW);
  const sigs = () => z.generated().filter((r) => r.type === RRType.RRSIG);
  const oldest = () => Math.min(...sigs().map((r) => rrsigFields(r.rdata).expiration));
  assert.equal(z.oldestExpiration(), oldest());
  // Changes at different times: the owners whose signatures are the oldest go, others come (signed later: newer).
  for (let i = 0; i < 6; i++) {
    const t = NOW + i * 3600;
    const first = sigs().sort((a, b) => rrsigFields(a.rdata).expiration - rrsigFields(b.rdata).expiration)[0];
    const victim = z.recordsAt(first.name).filter((r) => r.type !== RRType.SOA && r.type !== RRType.NS);
    z.apply({ remove: first.name.equals(origin) ? [] : victim, add: [rr(`n${i} 300 A 192.0.2.${i + 1}`)] }, CSK, t);
    assert.equal(z.oldestExpiration(), oldest());
    // Nothing due before the oldest signature; the floor may only be a lower bound, the answer stays right.
    assert.deepEqual(z.refresh(CSK, t, oldest() - 1), { remove: [], add: [] });
    assert.equal(z.oldestExpiration(), oldest());
    const cut = oldest() + 1;
    const due = sigs().filter((r) => rrsigFields(r.rdata).expiration < cut);
    const d = z.refresh(CSK, t, cut);
    assert.equal(d.remove.length, due.length);
    assert.ok(due.length > 0);
    assert.equal(z.oldestExpiration(), oldest());
  }
  verifyAll(z.records(), NOW + 6 * 3600);
});

// --- the property ---------------------------------------------------------------------------------------------

const POOL = [
  '@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300',
  '@ 3600 NS ns1',
  'ns1 3600 A 192.0.2.1',
  '@ 300 MX 10 mail',
  'mail 300 A 192.0.2.7',
  'a 300 A 192.0.2.10',
  'a 300 TXT "a"',
  'c.a 300 A 192.0.2.11',
  'd.c.a 300 TXT "deep"',
  '*.a 300 TXT "wild"',
  'b 300 NS ns.b',
  'b 300 DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000001',
  'ns.b 300 A 192.0.2.12',
  'x.ns.b 300 A 192.0.2.13',
  'b 300 A 192.0.2.14',
  'e.f.g 300 NS ns.other.',
  'e.f.g 300 DS 2 13 2 0000000000000000000000000000000000000000000000000000000000000002',
  'h.f.g 300 NS ns.other.',
  'f.g 300 TXT "f"',
  'dn 300 DNAME example.net.',
  'x.dn 300 A 192.0.2.15',
  'c.a 300 DNAME example.com.',
  'z.d.c.a 300 A 192.0.2.16',
  'a 300 NS ns.a.example.net.',
  'Mixed.Case 300 TXT "m"',
  '@ 300 DNSKEY 256 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=',
].map(rr);
const SOA2 = rr('@ 600 SOA ns1 hostmaster 2 3600 600 86400 120');

const strip = (r: RR): string => {
  // An RRSIG without its signature (ECDSA signatures differ on every run).
  const rd = r.type === RRType.RRSIG ? r.rdata.subarray(0, 18 + rrsigFields(r.rdata).signer.wireLength) : r.rdata;
  return `${r.name.key} ${r.type} ${r.ttl} ${Buffer.from(rd).toString('hex')}`;
};
const exact = (r: RR): string => `${r.name.key} ${r.type} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;

function applyDelta(generated: Map<string, number>, d: RecordDelta): void {
  for (const r of d.remove) {
    const k = exact(r);
    const n = generated.get(k);
    assert.ok(n, `delta removes a record that is not there: ${k}`);
    if (n === 1) generated.delete(k);
    else generated.set(k, n - 1);
  }
  for (const r of d.add) generated.set(exact(r), (generated.get(exact(r)) ?? 0) + 1);
}
const counts = (rs: RR[], f: (r: RR) => string) => {
  const m = new Map<string, number>();
  for (const r of rs) m.set(f(r), (m.get(f(r)) ?? 0) + 1);
  return m;
};
const sortedEntries = (m: Map<string, number>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

test('incremental signing of random deltas = a full sign of the final data (NSEC, NSEC3, NSEC3 opt-out)', () => {
  const subset = fc.array(fc.boolean(), { minLength: POOL.length, maxLength: POOL.length });
  const step = fc.record({ flips: subset, soa: fc.boolean(), split: fc.boolean() });
  const denial = fc.constantFrom<Denial[]>({ kind: 'nsec' }, { kind: 'nsec3' }, { kind: 'nsec3', optOut: true }, { kind: 'nsec3', iterations: 2, salt: Uint8Array.of(0xab) });
  fc.assert(
    fc.property(denial, subset, fc.array(step, { minLength: 1, maxLength: 4 }), (den, init, steps) => {
      let live = POOL.filter((_r, i) => init[i] || i === 0 || i === 1);
      const z: SignedZone = signZone(origin, live, CSK, { denial: den }, NOW);
      const generated = counts(z.generated(), exact);
      for (const s of steps) {
        const keys = s.split ? SPLIT : CSK;
        // Flip the membership of a random subset of the pool; SOA and apex NS stay (a zone needs them).
        const next = POOL.filter((r, i) => (i <= 1 ? true : live.includes(r) !== s.flips[i]));
        if (s.soa) next[0] = live[0] === SOA2 ? POOL[0] : SOA2;
        else next[0] = live[0];
        const delta = { remove: live.filter((r) => !next.includes(r)), add: next.filter((r) => !live.includes(r)) };
        const d = z.apply(delta, keys, NOW);
        applyDelta(generated, d);
        live = next;
        // The returned delta took the signer's records exactly to its new state...
        assert.deepEqual(sortedEntries(generated), sortedEntries(counts(z.generated(), exact)));
        // ...which is what a full sign of the same data gives (signatures aside: ECDSA is randomised).
        const full = signZone(origin, live, keys, { denial: den }, NOW);
        assert.deepEqual(sortedEntries(counts(z.records(), strip)), sortedEntries(counts(full.records(), strip)));
        verifyAll(z.records());
      }
    }),
    { numRuns: 100 },
  );
});
