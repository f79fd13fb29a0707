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
      } finally {
        await store.close();
      }
    });
  });
