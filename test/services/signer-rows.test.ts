// The signer's rows at owners (store/queries/signing.ts): what a signed zone's change reads and kills. The rows alive
// at a version are those alive now plus those that died after it, read as two seeks on (zone_id, to_version,
// owner_key) — checked against a model over a random history on both backends — and on SQLite the plan seeks the
// owners' alive rows: an owner's history (the apex's grows by a dead RRSIG with every change) is never scanned.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { insertSignerRows, killSignerRows, signerOwnerStatementsSql, signerRowsAtOwners } from '../../src/store/queries/signing.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { sqlite, backends } = testBackends();

const OWNERS = ['sr.example.', 'a.sr.example.', 'b.sr.example.', 'c.sr.example.', 'd.sr.example.'];

interface ModelRow {
  owner: string;
  type: number;
  rdata: number;
  from: number;
  to: number | null;
}

for (const backend of backends) {
  describe(`signer rows at owners on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
    });
    after(async () => s.close());

    test('rows alive at a version at some owners are exactly the model’s, after a random history of kills and births', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Per version: rows born (owner index, type, rdata byte) and alive rows killed (indexes into the alive list).
          fc.array(fc.record({ born: fc.array(fc.tuple(fc.nat(OWNERS.length - 1), fc.constantFrom(46, 47, 1), fc.nat(3)), { maxLength: 4 }), kill: fc.array(fc.nat(50), { maxLength: 3 }) }), { minLength: 1, maxLength: 25 }),
          fc.array(fc.tuple(fc.nat(30), fc.subarray(OWNERS, { minLength: 1 })), { minLength: 1, maxLength: 8 }),
          async (history, asks) => {
            const zone = `sr${Math.floor(Math.random() * 1e9)}.test`;
            await svc.createZone(ctxOf(s, 'tester'), zone, { text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n' });
            const head = await svc.publishedVersion(ctxOf(s), zone);
            assert.ok(head);
            const owners = OWNERS.map((o) => o.replace('sr.example.', `${zone}.`));
            const model: ModelRow[] = [];
            for (let i = 0; i < history.length; i++) {
              const v = i + 1;
              const alive = model.filter((r) => r.to === null);
              const doomed = [...new Set(history[i].kill.filter((k) => k < alive.length))].map((k) => alive[k]);
              await killSignerRows(s.db, head.zoneId, v, doomed.map((r) => ({ owner_key: owners[OWNERS.indexOf(r.owner)], type: r.type, rdata: Uint8Array.of(r.rdata) })));
              for (const r of doomed) r.to = v;
              // One row per (owner, type, rdata) alive at a time, as the signer keeps them.
              const born = history[i].born.filter(([o, t, d], k, all) => all.findIndex((x) => x[0] === o && x[1] === t && x[2] === d) === k && !model.some((r) => r.to === null && r.owner === OWNERS[o] && r.type === t && r.rdata === d));
              await insertSignerRows(s.db, head.zoneId, v, born.map(([o, t, d]) => ({ owner_key: owners[o], owner: owners[o], type: t, rclass: 1, ttl: 300, rdata: Uint8Array.of(d) })));
              for (const [o, t, d] of born) model.push({ owner: OWNERS[o], type: t, rdata: d, from: v, to: null });
            }
            for (const [version, ask] of asks) {
              const keys = ask.map((o) => owners[OWNERS.indexOf(o)]);
              const got = (await signerRowsAtOwners(s.db, head.zoneId, keys, version)).map((r) => `${r.owner_key} ${r.type} ${r.rdata[0]} ${r.from_version}`).sort();
              const want = model
                .filter((r) => ask.includes(r.owner) && r.from <= version && (r.to === null || r.to > version))
                .map((r) => `${owners[OWNERS.indexOf(r.owner)]} ${r.type} ${r.rdata} ${r.from}`)
                .sort();
              assert.deepEqual(got, want, `version ${version}, owners ${keys.join(' ')}`);
            }
          },
        ),
        { numRuns: backend.name === 'sqlite' ? 40 : 15 },
      );
    });

    if (backend === sqlite)
      test('the plans seek the owners’ alive rows and the recent dead ones, never the zone’s rows by birth', async () => {
        const db = s.sqlite;
        assert.ok(db);
        for (const owners of [1, 3, 16]) {
          const [read, kill] = signerOwnerStatementsSql(s.db, owners);
          const plan = (text: string): string[] => {
            const params: number[] = Array.from({ length: (text.match(/\?/g) ?? []).length }, () => 1);
            const rows = db.prepare(`explain query plan ${text}`).all(...params) as { detail: string }[];
            return rows.map((r) => r.detail);
          };
          const readPlan: string[] = plan(read);
          const searches = readPlan.filter((d: string) => d.startsWith('SEARCH'));
          assert.equal(searches.length, 2, readPlan.join('\n'));
          assert.match(searches[0], /dnssec_records_alive_owner \(zone_id=\? AND to_version=\? AND owner_key=\?\)/, readPlan.join('\n'));
          assert.match(searches[1], /dnssec_records_alive_owner \(zone_id=\? AND to_version>\?\)/, readPlan.join('\n'));
          const killPlan: string[] = plan(kill);
          assert.ok(killPlan.some((d: string) => /dnssec_records_alive_owner \(zone_id=\? AND to_version=\? AND owner_key=\?\)/.test(d)), killPlan.join('\n'));
        }
      });
  });
}
