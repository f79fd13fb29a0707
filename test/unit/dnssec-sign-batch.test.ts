// Deferred signing (SignedZone.deferSigning) and the batch format that carries signing jobs to the signing threads
// (src/dnssec/sign-batch.ts), without threads: jobs survive the trip byte for byte, a zone signed deferred is the zone
// signed inline (same records, same RRSIG fields and times) and its signatures verify, a signature superseded before
// it was computed is not handed out, and a result put on the wrong record is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import {
  completeSignBatch,
  completeSignature,
  decodeSignJobs,
  decodeSignResults,
  encodeSignJobs,
  encodeSignResults,
  generateKey,
  KSK_FLAGS,
  rrsetFromRRs,
  signPackedJobs,
  type SignJob,
  SignedZone,
  type SignPolicy,
  signRRsetBytes,
  signZone,
  verifyRrsig,
  ZSK_FLAGS,
} from '../../src/dnssec/index.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const origin = Name.from('batch.example');
const records = (): RR[] =>
  parseZoneText(
    `$TTL 300\n@ SOA ns1 hm 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n*.w TXT "w"\nsub NS ns.example.net.\n${Array.from({ length: 50 }, (_, i) => `h${i} A 10.0.0.${i}\nh${i} AAAA 2001:db8::${i}`).join('\n')}\n`,
    { origin },
  ).records;
const key = generateKey(13, { flags: KSK_FLAGS });
const keys = [{ key, ksk: true, zsk: true }];
const now = 1_800_000_000;
const policy: SignPolicy = { denial: { kind: 'nsec3' }, jitter: 3600 };

const shape = (rrs: readonly RR[]) =>
  rrs.map((r) => `${r.name.key} ${r.type} ${r.ttl} ${Buffer.from(r.type === RRType.RRSIG ? r.rdata.subarray(0, r.rdata.length - 64) : r.rdata).toString('hex')}`).sort();

test('jobs and results survive the batch format; truncated or trailing bytes are refused', () => {
  const jobs: SignJob[] = [
    {
      owner: Name.from('A.batch.example').toWire(), type: 1, class: 1, ttl: 300, rdatas: [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5, 6, 7, 8)],
      labels: 3, algorithm: 13, keyTag: 4242, signer: origin.toWire(), inception: 1, expiration: 0xfffffffe,
    },
    { owner: origin.toWire(), type: 48, class: 1, ttl: 3600, rdatas: [new Uint8Array(300)], labels: 2, algorithm: 8, keyTag: 1, signer: origin.toWire(), inception: 5, expiration: 6 },
  ];
  const buf = encodeSignJobs(jobs, [0, 255]);
  const back = decodeSignJobs(buf);
  assert.deepEqual(back.keyIndex, [0, 255]);
  assert.deepEqual(
    back.jobs.map((j) => ({ ...j, owner: [...j.owner], signer: [...j.signer], rdatas: j.rdatas.map((r) => [...r]) })),
    jobs.map((j) => ({ ...j, owner: [...j.owner], signer: [...j.signer], rdatas: j.rdatas.map((r) => [...r]) })),
  );
  assert.throws(() => decodeSignJobs(buf.subarray(0, buf.length - 1)), /truncated/);
  assert.throws(() => decodeSignJobs(Uint8Array.from([...buf, 0])), /trailing/);
  assert.throws(() => encodeSignJobs(jobs, [0, 256]), /key index/);
  const res = [Uint8Array.of(9, 9), new Uint8Array(0), new Uint8Array(600).fill(7)];
  assert.deepEqual(decodeSignResults(encodeSignResults(res)).map((r) => [...r]), res.map((r) => [...r]));
  assert.throws(() => decodeSignResults(encodeSignResults(res).subarray(0, 10)), /truncated/);
});

test('deferred signing completed elsewhere = inline signing; every signature verifies', () => {
  const z = new SignedZone(origin, policy);
  z.deferSigning();
  z.apply({ remove: [], add: records() }, keys, now);
  // A change before completion: the superseded signatures (h0's A RRset, chain links) are not handed out.
  const h0 = records().filter((r) => r.name.toString() === 'h0.batch.example.' && r.type === RRType.A);
  z.apply({ remove: h0, add: [] }, keys, now);
  const pending = z.takeSignJobs();
  const sigCount = z.generated().filter((r) => r.type === RRType.RRSIG).length;
  assert.equal(pending.length, sigCount, 'one job per signature in the zone, none for superseded ones');
  // Through the batch format, as a thread sees it.
  const { jobs, keyIndex } = decodeSignJobs(encodeSignJobs(pending.map((p) => p.job), pending.map(() => 0)));
  const out = decodeSignResults(encodeSignResults(jobs.map((j, i) => signRRsetBytes(j, [key.privateKey!][keyIndex[i]]))));
  for (let i = 0; i < pending.length; i++) completeSignature(pending[i], out[i]);
  const inline = signZone(origin, records().filter((r) => !(r.name.toString() === 'h0.batch.example.' && r.type === RRType.A)), keys, policy, now);
  assert.deepEqual(shape(z.records()), shape(inline.records()));
  const sets = new Map<string, RR[]>();
  for (const r of z.records()) if (r.type !== RRType.RRSIG) sets.set(`${r.name.key}/${r.type}`, [...(sets.get(`${r.name.key}/${r.type}`) ?? []), r]);
  for (const s of z.generated().filter((r) => r.type === RRType.RRSIG)) {
    const set = sets.get(`${s.name.key}/${(s.rdata[0] << 8) | s.rdata[1]}`);
    assert.ok(set, `RRSIG at ${s.name.toString()} covers an RRset`);
    assert.deepEqual(verifyRrsig(rrsetFromRRs(set), s.rdata, key, { now }), { ok: true });
  }
  assert.deepEqual(z.takeSignJobs(), [], 'deferring ended with takeSignJobs');
});

test('a result for another job is refused', () => {
  const z = new SignedZone(origin, policy);
  z.deferSigning();
  z.apply({ remove: [], add: records() }, keys, now);
  const [a, b] = z.takeSignJobs();
  assert.throws(() => completeSignature(a, signRRsetBytes(b.job, key.privateKey!)), /does not match its job/);
  completeSignature(a, signRRsetBytes(a.job, key.privateKey!));
});

test('streamed signing (a full sign): batches signed by signPackedJobs = inline signing; every signature verifies', () => {
  // A KSK (ECDSA) and an RSA ZSK (results longer than the thread's first guess), an RRset of ~8 KB (larger than the
  // thread's first buffer), names in mixed case (lower-cased where signed).
  const rsa = generateKey(8, { flags: ZSK_FLAGS });
  const two = [
    { key, ksk: true, zsk: false },
    { key: rsa, ksk: false, zsk: true },
  ];
  const big = Array.from({ length: 40 }, (_, i) => `Big TXT "${String(i).padStart(3, '0')}${'x'.repeat(190)}"`).join('\n');
  const recs = () => [...records(), ...parseZoneText(`$TTL 300\n${big}\nMiXeD A 192.0.2.9\n`, { origin }).records];
  for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3' }] as const) {
    const pol: SignPolicy = { denial, jitter: 3600 };
    const z = new SignedZone(origin, pol);
    z.streamSigning({ batch: 7, held: denial.kind === 'nsec3' ? [RRType.NSEC3] : [] });
    z.apply({ remove: [], add: recs() }, two, now, { noDelta: true });
    const batches = [...z.takeSignBatches(), ...z.endSignStream()];
    assert.ok(batches.length > 10);
    for (const b of batches.slice(0, -1)) assert.equal(b.rrs.length, 7, 'full batches of 7 jobs');
    const results = batches.map((b) => decodeSignResults(signPackedJobs(b.jobs, b.keys as never)));
    // Results put on the wrong records are refused (the covered types differ: h0's A and AAAA are neighbours).
    const i = batches.findIndex((b) => new Set(b.covered).size > 1);
    assert.throws(() => completeSignBatch(batches[i], [...results[i]].reverse()), /does not match its job/);
    for (const [k, b] of batches.entries()) completeSignBatch(b, results[k]);
    const held = z.takeSignJobs();
    if (denial.kind === 'nsec') assert.equal(held.length, 0);
    else {
      assert.ok(held.length > 50 && held.every((p) => p.job.type === RRType.NSEC3), 'NSEC3 signatures held back until the chain is complete');
      for (const p of held) completeSignature(p, signRRsetBytes(p.job, p.key.privateKey!));
    }
    assert.deepEqual(shape(z.records()), shape(signZone(origin, recs(), two, pol, now).records()), `${denial.kind}: the same records as inline`);
    const sets = new Map<string, RR[]>();
    for (const r of z.records()) if (r.type !== RRType.RRSIG) sets.set(`${r.name.key}/${r.type}`, [...(sets.get(`${r.name.key}/${r.type}`) ?? []), r]);
    const sigs = z.generated().filter((r) => r.type === RRType.RRSIG);
    for (const s of sigs) {
      const set = sets.get(`${s.name.key}/${(s.rdata[0] << 8) | s.rdata[1]}`) as RR[];
      const by = s.rdata[2] === 8 ? rsa : key;
      assert.deepEqual(verifyRrsig(rrsetFromRRs(set), s.rdata, by, { now }), { ok: true }, `${s.name.toString()} ${s.rdata[0] * 256 + s.rdata[1]}`);
    }
    assert.ok(sigs.some((s) => s.name.key === 'big.batch.example.') && sigs.some((s) => s.rdata[2] === 8));
  }
});
