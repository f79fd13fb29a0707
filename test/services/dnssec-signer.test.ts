// dmsd's signer on the store (SQLite and PostgreSQL): a published version is signed once and its signer records are
// stored (a second signer — a restart, another dmsd — takes them over instead of signing again, so all serve the same
// signatures); a change re-signs only what it touches (the stored rows born at the new version); signatures due for
// refresh (accelerated clock) make a new version whose signing replaces exactly them; the operator's versions never
// hold DNSSEC records.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import pino from 'pino';
import { sql } from 'kysely';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString, rrsigFields } from '../../src/dns/rdata.js';
import { keyFromDnskey, rrsetFromRRs, verifyRrsig } from '../../src/dnssec/index.js';
import { ZoneSigner } from '../../src/daemon/signer.js';
import * as dnssec from '../../src/services/dnssec.js';
import * as services from '../../src/services/index.js';
import { memoryKek } from '../../src/services/kek.js';
import type { Store } from '../../src/store/index.js';
import { manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends({ lazy: true });
const ZONE = 'signer.example.';
const ZONE_TEXT = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
mail A 192.0.2.3
*.w TXT "wild"
`;
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const log = pino({ level: 'silent' });

async function signerRows(store: Store): Promise<{ n: number; born: Map<number, number> }> {
  const rows = (await sql<{ from_version: number; to_version: number | null }>`select from_version, to_version from dnssec_records`.execute(store.db)).rows;
  const born = new Map<number, number>();
  for (const r of rows) born.set(Number(r.from_version), (born.get(Number(r.from_version)) ?? 0) + 1);
  return { n: rows.filter((r) => r.to_version === null).length, born };
}

for (const backend of backends)
  describe(`the signer on ${backend.name}`, () => {
    test('sign once, store, take over; a change re-signs what it touches; refresh by a new version', async () => {
      const store = await backend.open();
      const kek = memoryKek(randomBytes(32));
      const clock = manualClock(T0);
      const ctx = services.serviceContext(store, { actor: 'tester@test/Admin', clock, kek });
      let now = Math.floor(T0 / 1000);
      const signer = new ZoneSigner(ctx, log, () => now);
      try {
        await services.createZone(ctx, ZONE, { text: ZONE_TEXT });
        await dnssec.setZoneDnssecPolicy(ctx, ZONE, 'default');
        const v1 = await signer.signPublished(ZONE);
        assert.equal(v1, 1);
        const first = await signerRows(store);
        assert.ok(first.n > 10, `signer rows: ${first.n}`);

        // A second signer (another dmsd, or this one restarted) signs nothing: it takes the stored records over.
        const other = new ZoneSigner(services.serviceContext(await backend.reopen(), { kek, clock }), log, () => now);
        assert.equal(await other.signPublished(ZONE), 1);
        assert.deepEqual(await signerRows(store), first);

        // A change: one record added. Only the new RRset, the chain links next to it and the SOA are signed anew.
        const head = await services.publishedVersion(ctx, ZONE);
        const origin = Name.parse(ZONE);
        await services.applyRecordDelta(ctx, ZONE, {
          baseVersion: head!.version,
          removed: [],
          added: [{ name: Name.parse('new', origin), type: RRType.A, class: 1, ttl: 300, rdata: rdataFromString(RRType.A, '192.0.2.9', origin) }],
        });
        now += 60;
        const v2 = await signer.signPublished(ZONE);
        assert.equal(v2, 2);
        const second = await signerRows(store);
        // RRSIG of the new A, its NSEC + RRSIG, the predecessor NSEC + RRSIG, the SOA RRSIG (the A is operator data).
        assert.ok((second.born.get(2) ?? 0) <= 8, `rows born at v2: ${second.born.get(2)}`);
        assert.equal(second.n, first.n + 3);
        // The other signer, one version behind, takes v2 over from the store (it lost no race: v2 is marked).
        assert.equal(await other.signPublished(ZONE), 2);
        assert.deepEqual(await signerRows(store), second);

        // The operator's history holds no DNSSEC records.
        const text = await services.getZoneText(ctx, ZONE);
        assert.doesNotMatch(text, /RRSIG|NSEC|DNSKEY/);

        // Nothing due yet.
        assert.equal(await signer.refreshDue(ZONE), false);
        // Accelerated: 10 days later (14 d validity - 12 h jitter - 5 d refresh has passed): a new version is made...
        now += 10 * 86400;
        clock.advance(10 * 86400 * 1000);
        assert.equal(await signer.refreshDue(ZONE), true);
        const v3 = await signer.signPublished(ZONE);
        assert.equal(v3, 3);
        // ...whose signing replaced every signature (all were due) and nothing else.
        const rows = (await sql<{ type: number; rdata: Uint8Array; from_version: number }>`select type, rdata, from_version from dnssec_records where to_version is null`.execute(store.db)).rows;
        assert.equal(rows.length, second.n);
        for (const r of rows.filter((x) => x.type === RRType.RRSIG)) {
          assert.equal(Number(r.from_version), 3);
          assert.ok(rrsigFields(new Uint8Array(r.rdata)).expiration - now > 5 * 86400);
        }
        assert.equal(await signer.refreshDue(ZONE), false);
        const zis = await services.listZis(ctx, ZONE);
        assert.equal(zis.length, 3);

        // sign_zone: the next version is signed in full (every signer row made anew), and the request is cleared.
        await dnssec.signZoneRequest(ctx, ZONE);
        now += 60;
        assert.equal(await signer.fullResignIfAsked(ZONE), true);
        assert.equal(await signer.signPublished(ZONE), 4);
        const full = await signerRows(store);
        assert.equal(full.n, second.n);
        assert.equal(full.born.get(4), second.n);
        assert.equal((await services.zoneSigning(ctx, ZONE))?.resignRequested, null);
        assert.equal(await signer.fullResignIfAsked(ZONE), false);

        // Vacuum of old versions takes their dead signer rows and marks too; what is served stays.
        await services.vacuumAll(ctx, { now: new Date(clock.now().getTime() + 100 * 86400_000), ziMaxAgeDays: 1, ziMaxNum: 1 });
        const total = (await sql<{ n: number }>`select count(*) as n from dnssec_records`.execute(store.db)).rows[0].n;
        assert.equal(Number(total), second.n);
        const marks = (await sql<{ version: number }>`select version from dnssec_signed`.execute(store.db)).rows.map((r) => Number(r.version));
        assert.deepEqual(marks, [4]);
        const third = new ZoneSigner(services.serviceContext(await backend.reopen(), { kek, clock }), log, () => now);
        assert.equal(await third.signPublished(ZONE), 4);
        assert.equal((await signerRows(store)).n, second.n);

        // NSEC → NSEC3 by a policy change: a new version, signed in full with the NSEC3 chain, no NSEC left.
        await dnssec.setZoneDnssecPolicy(ctx, ZONE, 'default-nsec3');
        assert.equal(await signer.setupChanged(ZONE), true);
        assert.equal(await signer.signPublished(ZONE), 5);
        const types = (await sql<{ type: number }>`select type from dnssec_records where to_version is null`.execute(store.db)).rows.map((r) => Number(r.type));
        assert.ok(types.includes(RRType.NSEC3) && types.includes(RRType.NSEC3PARAM));
        assert.ok(!types.includes(RRType.NSEC));
        assert.equal(await signer.setupChanged(ZONE), false);
      } finally {
        await store.close();
      }
    });
  });

/** Verify every RRSIG of a version with the DNSKEYs it publishes; the keys that signed each type. */
async function checkVersion(store: Store, zone: string): Promise<{ dnskeyTags: number[]; zoneSigners: Set<number>; dnskeySigners: Set<number>; cds: number }> {
  const rows = (
    await sql<{ owner: string; type: number; ttl: number; rdata: Uint8Array }>`select owner, type, ttl, rdata from dnssec_records where to_version is null`.execute(store.db)
  ).rows.map((r) => ({ owner: r.owner, type: Number(r.type), ttl: Number(r.ttl), rdata: new Uint8Array(r.rdata) }));
  const dnskeys = rows.filter((r) => r.type === RRType.DNSKEY).map((r) => keyFromDnskey(r.rdata));
  const zoneSigners = new Set<number>();
  const dnskeySigners = new Set<number>();
  for (const r of rows.filter((x) => x.type === RRType.RRSIG)) {
    const f = rrsigFields(r.rdata);
    assert.ok(dnskeys.some((k) => k.keyTag === f.keyTag), `RRSIG by ${f.keyTag} whose DNSKEY is published (${zone})`);
    // DNSKEY, CDS and CDNSKEY are the KSK's; everything else the ZSK's.
    (f.typeCovered === RRType.DNSKEY || f.typeCovered === RRType.CDS || f.typeCovered === RRType.CDNSKEY ? dnskeySigners : zoneSigners).add(f.keyTag);
  }
  // The DNSKEY RRset's signatures verify.
  const dk = rows.filter((r) => r.type === RRType.DNSKEY);
  const set = rrsetFromRRs(dk.map((r) => ({ name: Name.parse(r.owner), type: r.type, class: 1, ttl: r.ttl, rdata: r.rdata })));
  for (const r of rows.filter((x) => x.type === RRType.RRSIG && rrsigFields(x.rdata).typeCovered === RRType.DNSKEY)) {
    const k = dnskeys.find((x) => x.keyTag === rrsigFields(r.rdata).keyTag)!;
    assert.equal(verifyRrsig(set, r.rdata, k, { now: rrsigFields(r.rdata).inception + 3600 }).ok, true);
  }
  return { dnskeyTags: dnskeys.map((k) => k.keyTag).sort(), zoneSigners, dnskeySigners, cds: rows.filter((r) => r.type === RRType.CDS).length };
}

for (const backend of backends)
  describe(`the rollover engine on ${backend.name} (accelerated clock)`, () => {
    test('ZSK by pre-publication, KSK by double-DS waiting for ds_seen', async () => {
      const store = await backend.open();
      const kek = memoryKek(randomBytes(32));
      const clock = manualClock(T0);
      const ctx = services.serviceContext(store, { actor: 'tester@test/Admin', clock, kek });
      const signer = new ZoneSigner(ctx, log, () => Math.floor(clock.now().getTime() / 1000));
      const step = async (seconds: number) => {
        clock.advance(seconds * 1000);
        const moved = await signer.rolloverStep(ZONE);
        await signer.signPublished(ZONE);
        return moved.map((m) => `${m.role} ${m.to}`);
      };
      try {
        await services.createZone(ctx, ZONE, { text: ZONE_TEXT });
        await dnssec.createDnssecPolicy(ctx, 'fast', {
          keys: 'ksk-zsk', kskLifetime: 0, zskLifetime: 4000, signatureValidity: 3600, signatureValidityDnskey: 3600, signatureRefresh: 600,
          signatureJitter: 0, dnskeyTtl: 60, maxZoneTtl: 300, zonePropagationDelay: 10, publishSafety: 10, retireSafety: 10,
          parentDsTtl: 60, parentPropagationDelay: 10,
        });
        await dnssec.setZoneDnssecPolicy(ctx, ZONE, 'fast');
        await signer.signPublished(ZONE);
        const v0 = await checkVersion(store, ZONE);
        assert.equal(v0.dnskeyTags.length, 2);
        const [zsk1] = [...v0.zoneSigners];
        const [ksk1] = [...v0.dnskeySigners];
        // Publication interval: 60 + 10 + 10 = 80 s; ZSK successor due at lifetime − publication = 3920 s.
        assert.deepEqual(await step(3000), []);
        assert.deepEqual(await step(920), ['zsk published']);
        let v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeyTags.length, 3, 'successor ZSK pre-published');
        assert.deepEqual([...v.zoneSigners], [zsk1], 'the old ZSK still signs');
        assert.deepEqual(await step(40), []);
        assert.deepEqual(await step(40), ['zsk active', 'zsk retired']);
        v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeyTags.length, 3, 'the old ZSK stays published while its signatures are cached');
        assert.equal(v.zoneSigners.size, 1);
        assert.ok(!v.zoneSigners.has(zsk1), 'the new ZSK signs');
        // ZSK retire interval: 3600 − 600 + 300 + 10 + 10 = 3320 s.
        assert.deepEqual(await step(3300), []);
        assert.deepEqual(await step(20), ['zsk removed']);
        v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeyTags.length, 2);

        // KSK: asked for by the operator; double-DS.
        await dnssec.rolloverZoneKey(ctx, ZONE, 'ksk');
        assert.deepEqual(await step(1), ['ksk published']);
        v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeyTags.length, 3);
        assert.deepEqual([...v.dnskeySigners], [ksk1]);
        assert.deepEqual(await step(80), ['ksk active']);
        v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeySigners.size, 2, 'both KSKs sign the DNSKEY RRset');
        assert.equal(v.cds, 2, 'CDS of both KSKs while the parent changes over');
        // Without ds_seen, the KSKs do not move, however long; the ZSK, due by its lifetime meanwhile, waits its turn
        // (one rollover at a time per zone).
        const ksk = (moved: string[]) => moved.filter((m) => m.startsWith('ksk'));
        assert.deepEqual(await step(100000), []);
        const ksk2 = [...v.dnskeySigners].find((t) => t !== ksk1)!;
        await dnssec.dsSeen(ctx, ZONE, ksk2);
        // Parent DS TTL + propagation: 70 s.
        assert.deepEqual(ksk(await step(60)), []);
        // The KSK retires; the ZSK's rollover, waiting, starts right then.
        assert.deepEqual(await step(10), ['ksk retired', 'zsk published']);
        v = await checkVersion(store, ZONE);
        assert.deepEqual([...v.dnskeySigners], [ksk2]);
        assert.equal(v.cds, 1, 'only the new CDS');
        // KSK retire interval: 60 + 10 + 10 = 80 s.
        assert.deepEqual(ksk(await step(80)), ['ksk removed']);
        v = await checkVersion(store, ZONE);
        assert.deepEqual([...v.dnskeySigners], [ksk2]);
        assert.ok(!v.dnskeyTags.includes(ksk1), 'the old KSK is gone from the DNSKEY RRset');
        // Every step was a version of its own; the operator's records never changed.
        assert.doesNotMatch(await services.getZoneText(ctx, ZONE), /RRSIG|NSEC|DNSKEY/);
      } finally {
        await store.close();
      }
    });
  });

for (const backend of backends)
  describe(`the signer's read on ${backend.name}`, () => {
    test("signerRead: the zone, its DNSSEC row, its policy and the signed mark in one read; a tenant's scope kept", async () => {
      const store = await backend.open();
      const kek = memoryKek(randomBytes(32));
      const clock = manualClock(T0);
      const ctx = services.serviceContext(store, { actor: 'tester@test/Admin', clock, kek });
      const signer = new ZoneSigner(ctx, log, () => Math.floor(T0 / 1000));
      try {
        await services.createSectag(ctx, 'acme');
        await services.createSectag(ctx, 'globex');
        await services.createZone(ctx, ZONE, { text: ZONE_TEXT, sectags: ['acme'] });
        await services.createZone(ctx, 'other.example.', { text: ZONE_TEXT, sectags: ['globex'] });
        // No policy: nothing to sign; an unknown zone likewise.
        assert.equal(await services.signerRead(ctx, ZONE, {}), null);
        assert.equal(await services.signerRead(ctx, 'nowhere.example.', {}), null);
        await dnssec.setZoneDnssecPolicy(ctx, ZONE, 'default');
        await dnssec.setZoneDnssecPolicy(ctx, 'other.example.', 'default-nsec3');
        const before = await services.signerRead(ctx, ZONE, {});
        assert.ok(before && before.kind === 'sign');
        assert.equal(before.version, 1);
        assert.equal(before.signed, false, 'version 1 has no signed mark yet');
        assert.equal(before.s.policy.denial.kind, 'nsec');
        assert.equal(before.s.keys.length, 1);
        const other = await services.signerRead(ctx, 'other.example.', {});
        assert.ok(other && other.kind === 'sign');
        assert.equal(other.s.policy.denial.kind, 'nsec3', "each zone's own policy");
        assert.equal(await signer.signPublished(ZONE), 1);
        const after = await services.signerRead(ctx, ZONE, {});
        assert.ok(after && after.kind === 'sign');
        assert.equal(after.signed, true, 'the signed mark of version 1 is read');
        assert.deepEqual(await services.signerRead(ctx, ZONE, { heldVersion: 1 }), { kind: 'held', version: 1 });
        // A customer's scope: its own zone is read, another tenant's is not there.
        const acme = services.serviceContext(store, { actor: 'wile@acme', clock, kek, tenant: { tier: 'customer', sectag: 'acme' } });
        assert.deepEqual(await services.signerRead(acme, ZONE, { heldVersion: 1 }), { kind: 'held', version: 1 });
        assert.equal(await services.signerRead(acme, 'other.example.', {}), null);
      } finally {
        await store.close();
      }
    });
  });

for (const backend of backends.slice(0, 1))
  describe(`the rollover engine on ${backend.name}: CSK (the default scheme) by double-DS`, () => {
    test('the new CSK signs beside the old until its DS is seen; then the old retires and goes', async () => {
      const store = await backend.open();
      const kek = memoryKek(randomBytes(32));
      const clock = manualClock(T0);
      const ctx = services.serviceContext(store, { actor: 'tester@test/Admin', clock, kek });
      const signer = new ZoneSigner(ctx, log, () => Math.floor(clock.now().getTime() / 1000));
      const step = async (seconds: number) => {
        clock.advance(seconds * 1000);
        const moved = await signer.rolloverStep(ZONE);
        await signer.signPublished(ZONE);
        return moved.map((m) => `${m.role} ${m.to}`);
      };
      try {
        await services.createZone(ctx, ZONE, { text: ZONE_TEXT });
        await dnssec.createDnssecPolicy(ctx, 'fastcsk', {
          keys: 'csk', cskLifetime: 0, signatureValidity: 3600, signatureValidityDnskey: 3600, signatureRefresh: 600, signatureJitter: 0,
          dnskeyTtl: 60, maxZoneTtl: 300, zonePropagationDelay: 10, publishSafety: 10, retireSafety: 10, parentDsTtl: 60, parentPropagationDelay: 10,
        });
        await dnssec.setZoneDnssecPolicy(ctx, ZONE, 'fastcsk');
        await signer.signPublished(ZONE);
        const [csk1] = [...(await checkVersion(store, ZONE)).zoneSigners];
        await dnssec.rolloverZoneKey(ctx, ZONE, 'csk');
        assert.deepEqual(await step(1), ['csk published']);
        let v = await checkVersion(store, ZONE);
        assert.equal(v.dnskeyTags.length, 2);
        assert.deepEqual([...v.zoneSigners], [csk1]);
        assert.deepEqual(await step(80), ['csk active']);
        v = await checkVersion(store, ZONE);
        assert.equal(v.zoneSigners.size, 2, 'both CSKs sign while the DS changes over');
        const csk2 = [...v.zoneSigners].find((t) => t !== csk1)!;
        assert.deepEqual(await step(5000), []);
        await dnssec.dsSeen(ctx, ZONE, csk2);
        assert.deepEqual(await step(70), ['csk retired']);
        v = await checkVersion(store, ZONE);
        assert.deepEqual([...v.zoneSigners], [csk2]);
        assert.equal(v.cds, 1);
        // CSK retire interval: max(ZSK 3320, KSK 80) s.
        assert.deepEqual(await step(3300), []);
        assert.deepEqual(await step(20), ['csk removed']);
        v = await checkVersion(store, ZONE);
        assert.deepEqual(v.dnskeyTags, [csk2]);
      } finally {
        await store.close();
      }
    });
  });
