// RRSIG signing and verification, NSEC3 hashing (RFC 5155 Appendix A) and the sorted set the chains are built on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString, rrsigFields } from '../../src/dns/rdata.js';
import {
  generateKey,
  KSK_FLAGS,
  keyFromDnskey,
  nsec3Label,
  rrsigLabels,
  SortedSet,
  signRRset,
  verifyRrsig,
} from '../../src/dnssec/index.js';

test('RFC 5155 Appendix A: hashed owner names (SHA-1, 12 iterations, salt aabbccdd)', () => {
  const salt = Uint8Array.from([0xaa, 0xbb, 0xcc, 0xdd]);
  const vectors: [string, string][] = [
    ['example', '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom'],
    ['a.example', '35mthgpgcu1qg68fab165klnsnk3dpvl'],
    ['ai.example', 'gjeqe526plbf1g8mklp59enfd789njgi'],
    ['ns1.example', '2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
    ['ns2.example', 'q04jkcevqvmu85r014c7dkba38o0ji5r'],
    ['w.example', 'k8udemvp1j2f7eg6jebps17vp3n8i58h'],
    ['*.w.example', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'],
    ['x.w.example', 'b4um86eghhds6nea196smvmlo4ors995'],
    ['y.w.example', 'ji6neoaepv8b5o6k4ev33abha8ht9fgc'],
    ['x.y.w.example', '2vptu5timamqttgl4luu9kg21e0aor3s'],
    ['xx.example', 't644ebqk9bibcna874givr6joj62mlhv'],
  ];
  for (const [n, h] of vectors) assert.equal(nsec3Label(Name.from(n), salt, 12), h, n);
  // The hash is of the canonical (lower-case) name.
  assert.equal(nsec3Label(Name.from('A.EXAMPLE'), salt, 12), '35mthgpgcu1qg68fab165klnsnk3dpvl');
});

const zone = Name.from('example.org');
const txt = (s: string) => rdataFromString(RRType.TXT, s);

for (const alg of [8, 13, 14, 15, 16]) {
  test(`algorithm ${alg}: sign and verify an RRset; any change to data, TTL, owner or signature fails`, () => {
    const key = generateKey(alg);
    const pub = keyFromDnskey(key.rdata);
    const rrset = { name: Name.from('www.example.org'), type: RRType.TXT, class: 1, ttl: 300, rdatas: [txt('"b"'), txt('"a"'), txt('"a"')] };
    const times = { inception: 1_700_000_000, expiration: 1_700_000_000 + 14 * 86400 };
    const sig = signRRset(rrset, key, zone, times);
    const f = rrsigFields(sig);
    assert.equal(f.typeCovered, RRType.TXT);
    assert.equal(f.labels, 3);
    assert.equal(f.originalTtl, 300);
    assert.equal(f.keyTag, key.keyTag);
    if (alg === 13) assert.equal(f.signature.length, 64); // r|s, RFC 6605 §4 — not DER
    if (alg === 14) assert.equal(f.signature.length, 96);
    assert.deepEqual(verifyRrsig(rrset, sig, pub), { ok: true });
    // Order, duplicates and owner case do not matter (canonical form and order, RFC 4034 §6).
    assert.deepEqual(verifyRrsig({ ...rrset, name: Name.from('WWW.Example.ORG'), rdatas: [txt('"a"'), txt('"b"')] }, sig, pub), { ok: true });
    // The TTL the RRset arrives with does not matter either: the original TTL is signed.
    assert.deepEqual(verifyRrsig({ ...rrset, ttl: 17 }, sig, pub), { ok: true });
    assert.equal(verifyRrsig({ ...rrset, rdatas: [txt('"a"')] }, sig, pub).ok, false);
    assert.equal(verifyRrsig({ ...rrset, name: Name.from('www2.example.org') }, sig, pub).ok, false);
    const bad = sig.slice();
    bad[bad.length - 5] ^= 1;
    assert.equal(verifyRrsig(rrset, bad, pub).ok, false);
    const badTtl = sig.slice();
    badTtl[7] ^= 1;
    assert.equal(verifyRrsig(rrset, badTtl, pub).ok, false);
    // Another key of the same algorithm does not verify it.
    assert.equal(verifyRrsig(rrset, sig, keyFromDnskey(generateKey(alg).rdata)).ok, false);
  });
}

test('time window: inception in the future and expiration in the past are refused when now is given', () => {
  const key = generateKey(13);
  const rrset = { name: zone, type: RRType.TXT, class: 1, ttl: 300, rdatas: [txt('"a"')] };
  const sig = signRRset(rrset, key, zone, { inception: 1000, expiration: 2000 });
  assert.deepEqual(verifyRrsig(rrset, sig, key, { now: 1500 }), { ok: true });
  assert.match((verifyRrsig(rrset, sig, key, { now: 999 }) as { reason: string }).reason, /not yet valid/);
  assert.match((verifyRrsig(rrset, sig, key, { now: 2001 }) as { reason: string }).reason, /expired/);
  // Serial-number arithmetic: a window across 2^32 (RFC 4034 §3.1.5).
  const wrap = signRRset(rrset, key, zone, { inception: 0xffffff00, expiration: 0x100 });
  assert.deepEqual(verifyRrsig(rrset, wrap, key, { now: 0x10 }), { ok: true });
  assert.equal(verifyRrsig(rrset, wrap, key, { now: 0x200 }).ok, false);
});

test('wildcards: Labels excludes "*", and an expanded answer verifies against the wildcard signature', () => {
  assert.equal(rrsigLabels(Name.from('*.w.example.org')), 3);
  assert.equal(rrsigLabels(Name.from('a.w.example.org')), 4);
  const key = generateKey(15, { flags: KSK_FLAGS });
  const wild = { name: Name.from('*.w.example.org'), type: RRType.TXT, class: 1, ttl: 60, rdatas: [txt('"w"')] };
  const sig = signRRset(wild, key, zone, { inception: 1, expiration: 2 });
  assert.equal(rrsigFields(sig).labels, 3);
  assert.deepEqual(verifyRrsig(wild, sig, key), { ok: true });
  assert.deepEqual(verifyRrsig({ ...wild, name: Name.from('x.y.w.example.org') }, sig, key), { ok: true });
  assert.equal(verifyRrsig({ ...wild, name: Name.from('x.other.example.org') }, sig, key).ok, false);
});

test('signing refuses an RRSIG RRset, a name outside the zone and a key without its private part', () => {
  const key = generateKey(13);
  const rr = { name: zone, type: RRType.TXT, class: 1, ttl: 1, rdatas: [txt('"a"')] };
  assert.throws(() => signRRset({ ...rr, type: RRType.RRSIG }, key, zone, { inception: 0, expiration: 1 }), /never signed/);
  assert.throws(() => signRRset({ ...rr, name: Name.from('example.com') }, key, zone, { inception: 0, expiration: 1 }), /not in zone/);
  assert.throws(() => signRRset(rr, keyFromDnskey(key.rdata), zone, { inception: 0, expiration: 1 }), /no private key/);
});

test('SortedSet behaves as a sorted array (add, delete, has, lower/higher with wrap, from)', () => {
  const cmp = (a: number, b: number) => a - b;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }), fc.integer({ min: -1, max: 3001 }), (ops, probe) => {
      const s = new SortedSet<number>(cmp);
      const model = new Set<number>();
      for (const [add, v] of ops) {
        assert.equal(add ? s.add(v) : s.delete(v), add ? !model.has(v) : model.has(v));
        if (add) model.add(v);
        else model.delete(v);
      }
      const sorted = [...model].sort(cmp);
      assert.deepEqual([...s], sorted);
      assert.equal(s.size, sorted.length);
      assert.equal(s.has(probe), model.has(probe));
      const lower = sorted.filter((v) => v < probe).pop();
      const higher = sorted.find((v) => v > probe);
      assert.equal(s.lower(probe), lower);
      assert.equal(s.higher(probe), higher);
      assert.equal(s.lowerCyclic(probe), lower ?? sorted[sorted.length - 1]);
      assert.equal(s.higherCyclic(probe), higher ?? sorted[0]);
      assert.deepEqual([...s.from(probe)], sorted.filter((v) => v >= probe));
      assert.deepEqual([...SortedSet.from(ops.map((o) => o[1]), cmp)], [...new Set(ops.map((o) => o[1]))].sort(cmp));
    }),
    { numRuns: 60 },
  );
});

test('SortedSet: lower/higher asked between changes, in walks and at random, answer as a sorted array does', () => {
  // higher() remembers where its last answer was (a walk along the set costs no search) and add() appends without a
  // search past the end: both must hold through every interleaving of changes and questions.
  const cmp = (a: number, b: number) => a - b;
  const op = fc.oneof(
    fc.record({ add: fc.integer({ min: 0, max: 2000 }) }),
    fc.record({ del: fc.integer({ min: 0, max: 2000 }) }),
    fc.record({ append: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ higher: fc.integer({ min: -1, max: 2001 }) }),
    fc.record({ lower: fc.integer({ min: -1, max: 2001 }) }),
    fc.record({ walk: fc.integer({ min: 1, max: 1200 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const s = new SortedSet<number>(cmp);
      const model = new Set<number>();
      let last: number | undefined;
      for (const o of ops) {
        const sorted = () => [...model].sort(cmp);
        if ('add' in o || 'append' in o) {
          const v = 'add' in o ? o.add : (sorted().at(-1) ?? 0) + o.append;
          assert.equal(s.add(v), !model.has(v));
          model.add(v);
        } else if ('del' in o) {
          assert.equal(s.delete(o.del), model.has(o.del));
          model.delete(o.del);
        } else if ('lower' in o) assert.equal(s.lower(o.lower), sorted().filter((v) => v < o.lower).pop());
        else {
          // A walk starts from the last answer (or from below everything) and asks for each next one in turn.
          let at = 'higher' in o ? o.higher : (last ?? -1);
          for (let k = 0; k < ('walk' in o ? o.walk : 1); k++) {
            const want = sorted().find((v) => v > at);
            assert.equal(s.higher(at), want);
            last = want;
            if (want === undefined) break;
            at = want;
          }
        }
      }
      assert.deepEqual([...s], [...model].sort(cmp));
    }),
    { numRuns: 150 },
  );
});
