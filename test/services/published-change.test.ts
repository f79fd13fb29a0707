// services.loadPublishedChange: what dmsd reads to bring its served zone from one version to the published one. The
// served snapshot patched with it (src/zone/delta.ts) must be the zone a reload gives — record order, TTLs,
// spelling, empty non-terminals, delegations, wildcards — after deltas, whole saves, pokes and rollbacks, on both
// backends; and it says when patching cannot work (too big, version vacuumed, zone gone).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { RRClass, RRType, typeFromString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText, rdataToText } from '../../src/dns/rdata.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { patchZone } from '../../src/zone/delta.js';
import { compileZone } from '../../src/zone/zone.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { assertSameZone } from '../helpers/zone-compare.js';

const { sqlite, backends } = testBackends();

const by = 'dyn.key';

function rr(zone: string, owner: string, type: number, text: string, ttl = 300, klass: number = RRClass.IN): RR {
  const origin = Name.from(zone);
  return { name: Name.parse(owner, origin), type, class: klass, ttl, rdata: rdataFromText(type, text.split(' ').map((t) => (t.startsWith('"') ? { text: t.slice(1, -1), quoted: true } : { text: t, quoted: false })), origin) };
}

const PATCH_BODY = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.10
www A 192.0.2.11
Mixed TXT "one"
mixed AAAA 2001:db8::1
*.wild A 192.0.2.5
a.b.c A 192.0.2.6
h.deleg A 192.0.2.8
mail A 192.0.2.25
@ MX 10 mail
`;

for (const backend of backends) {
  describe(`loadPublishedChange on ${backend.name}: the served zone patched with it is the zone a reload gives`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
      await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
      await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
    });
    after(async () => s.close());

    test('deltas, whole saves (order, TTLs, spelling, disabled records), subtrees, delegations, pokes, rollbacks', async () => {
      const zone = 'patch.example';
      await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true }, text: PATCH_BODY });
      // The served snapshot (patched from the one before), and the zone compiled at its version.
      const reload = async () => {
        const p = await svc.loadPublishedZone(ctxOf(s), zone);
        assert.ok(p);
        return { zone: compileZone(p.origin, p.records), compiled: compileZone(p.origin, p.records), version: p.version };
      };
      let served = await reload();
      const step = async (what: string, change: () => Promise<unknown>, rows?: number) => {
        const done = (await change()) as { committed?: svc.CommittedChange } | undefined;
        const c = await svc.loadPublishedChange(ctxOf(s), zone, served.version);
        assert.equal(c.kind, 'change', what);
        if (c.kind !== 'change') return;
        if (rows !== undefined) assert.equal(c.changes, rows, `${what}: rows born or died`);
        const patched = patchZone(served.zone, { owners: c.owners, soa: c.soa });
        const want = await reload();
        assert.equal(c.version, want.version);
        assertSameZone(patched, want.compiled, what);
        assertSameZone(served.zone, served.compiled, `${what}: the snapshot patched from is unchanged`);
        if (done?.committed) {
          // An RFC 2136 commit's own account of the change (what dmsd patches with after its UPDATE) is the same.
          assert.deepEqual([done.committed.fromVersion, done.committed.version], [served.version, c.version], what);
          assertSameZone(patchZone(served.zone, { owners: done.committed.owners, soa: done.committed.soa }), want.compiled, `${what} (committed)`);
        }
        served = { zone: patched, compiled: want.compiled, version: c.version };
      };
      const edit = async (fn: (records: svc.ZoneRecord[]) => svc.ZoneRecord[]) => {
        const c = await svc.getZoneContent(ctxOf(s), zone, 'latest');
        await svc.saveZone(ctxOf(s, by), zone, fn(c.records));
      };
      const at = (owner: string) => (r: { name: Name }) => r.name.key === `${owner}.${zone}.`;

      await step('an UPDATE-style delta: an ENT gets records, new ENTs appear', async () => {
        const v = (await svc.getZoneContent(ctxOf(s), zone, 'latest')).zi.version;
        return svc.applyRecordDelta(ctxOf(s, by), zone, {
          baseVersion: v,
          removed: [rr(zone, 'www', RRType.A, '192.0.2.10')],
          added: [rr(zone, 'b.c', RRType.TXT, '"b"'), rr(zone, 'x.y.z', RRType.A, '192.0.2.30'), rr(zone, 'www', RRType.A, '192.0.2.12')],
        });
      }, 4);
      await step('a whole save: a record inserted before the others, one TTL of an RRset changed, an owner respelled, a record disabled', () =>
        edit((rs) => {
          const out: svc.ZoneRecord[] = [];
          for (const r of rs) {
            if (at('www')(r) && rdataToText(r.type, r.rdata) === '192.0.2.11') out.push(rr(zone, 'www', RRType.A, '192.0.2.9'), { ...r, ttl: 600 });
            else if (at('mixed')(r) && r.type === RRType.TXT) out.push({ ...r, name: Name.parse(`MIXED.${zone}.`) });
            else if (at('mail')(r)) out.push({ ...r, flags: { disable: true } }, rr(zone, 'mail', RRType.AAAA, '2001:db8::25'));
            else out.push(r);
          }
          return out;
        }),
      );
      await step('an UPDATE at owners with a disabled record and a respelled one, the SOA changed', async () => {
        const v = (await svc.getZoneContent(ctxOf(s), zone, 'latest')).zi.version;
        const r = await svc.applyRecordDelta(ctxOf(s, by), zone, {
          baseVersion: v,
          removed: [rr(zone, 'mixed', RRType.AAAA, '2001:db8::1')],
          added: [rr(zone, 'mail', RRType.TXT, '"m"'), rr(zone, 'Mixed', RRType.AAAA, '2001:db8::2'), rr(zone, '@', RRType.SOA, 'ns1 hostmaster 900 7200 900 604800 60', 600)],
        });
        assert.ok(r.committed, 'a published delta says what it changed');
        return r;
      });
      await step('a subtree deleted: its empty non-terminals go', () => edit((rs) => rs.filter((r) => !r.name.isSubdomainOf(Name.from(`c.${zone}`)))));
      await step('a delegation over an existing name, glue kept', () => edit((rs) => [...rs, rr(zone, 'deleg', RRType.NS, 'h.deleg')]));
      await step('a wildcard removed, one added deeper', () => edit((rs) => [...rs.filter((r) => !at('*.wild')(r)), rr(zone, '*.x.y.z', RRType.TXT, '"w"')]));
      await step('the serial poked: only the SOA changes', () => svc.pokeZoneSetSerial(ctxOf(s, by), zone, undefined), 0);
      const first = (await svc.listZis(ctxOf(s), zone))[0].version;
      await step('an older version published again', () => svc.publishZi(ctxOf(s, by), zone, first));

      // Too many rows changed for the caller's limit; the served version vacuumed; the zone disabled.
      await edit((rs) => [...rs, ...Array.from({ length: 20 }, (_, i) => rr(zone, `bulk${i}`, RRType.A, `198.51.100.${i}`))]);
      const big = await svc.loadPublishedChange(ctxOf(s), zone, served.version, { maxChanges: 10 });
      assert.equal(big.kind, 'too-big');
      const stale = served.version;
      served = await reload();
      await svc.deleteZi(ctxOf(s, by), zone, stale);
      assert.equal((await svc.loadPublishedChange(ctxOf(s), zone, stale)).kind, 'unavailable');
      assert.equal((await svc.loadPublishedChange(ctxOf(s), zone, served.version)).kind, 'change');
      await svc.disableZone(ctxOf(s, by), zone);
      assert.equal((await svc.loadPublishedChange(ctxOf(s), zone, served.version)).kind, 'gone');
    });
  });
}

describe('loadPublishedChange and applyRecordDelta.committed, property: random whole saves and deltas, the patched zone is the reloaded one', () => {
  let s: Store;
  before(async () => {
    s = await sqlite.open();
    await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
    await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
  });
  after(async () => s.close());
  const OWNERS = ['www', 'WWW', 'a.b', 'b', '*.w', 'x.*.w', 'sub', 'ns.sub', 'deep.e.f', '@'];
  const recordArb = fc.record({
    owner: fc.constantFrom(...OWNERS),
    kind: fc.constantFrom('A', 'AAAA', 'TXT', 'MX', 'NS'),
    value: fc.nat(3),
    ttl: fc.constantFrom(60, 300),
    disabled: fc.boolean(),
  });
  type Spec = { owner: string; kind: string; value: number; ttl: number; disabled: boolean };
  const toRecord = (zone: string, r: Spec): svc.ZoneRecord => {
    const text = { A: `192.0.2.${r.value}`, AAAA: `2001:db8::${r.value}`, TXT: `"t${r.value}"`, MX: `${r.value} mx.elsewhere.net.`, NS: `ns${r.value}.elsewhere.net.` }[r.kind]!;
    const rec: svc.ZoneRecord = rr(zone, r.owner, typeFromString(r.kind)!, text, r.ttl);
    if (r.disabled && r.owner !== '@') rec.flags = { disable: true };
    return rec;
  };
  let n = 0;
  test('random sequences of changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ save: fc.array(recordArb, { maxLength: 14 }) }), fc.record({ add: fc.array(recordArb, { maxLength: 3 }), drop: fc.nat(20) })), { minLength: 1, maxLength: 4 }),
        async (steps) => {
          const zone = `prop${n++}.example`;
          await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true }, text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1.elsewhere.net.\n' });
          const load = async () => {
            const p = (await svc.loadPublishedZone(ctxOf(s), zone))!;
            return { zone: compileZone(p.origin, p.records), version: p.version };
          };
          let served = await load();
          for (const step of steps) {
            const head = await svc.getZoneContent(ctxOf(s), zone, 'latest');
            const apexNs = head.records.filter((r) => r.type === RRType.NS && r.name.key === `${zone}.`);
            let committed: svc.CommittedChange | undefined;
            try {
              if ('save' in step) await svc.saveZone(ctxOf(s, by), zone, [head.records[0], ...apexNs, ...step.save.map((r) => toRecord(zone, r))]);
              else {
                const body = head.records.slice(1).filter((r) => !r.flags?.disable && !(r.type === RRType.NS && r.name.key === `${zone}.`));
                const removed = body.length > 0 ? [body[step.drop % body.length]] : [];
                const res = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: head.zi.version, removed, added: step.add.map((r) => ({ ...toRecord(zone, r), flags: undefined })) });
                // A published delta says itself what changed; nothing changed, nothing to say.
                assert.equal(res.committed !== undefined, res.changed);
                committed = res.committed;
              }
            } catch (e) {
              if (e instanceof svc.ZoneValidationFailed) continue;
              throw e;
            }
            const c = await svc.loadPublishedChange(ctxOf(s), zone, served.version);
            assert.equal(c.kind, 'change');
            if (c.kind !== 'change') return;
            const want = await load();
            const patched = patchZone(served.zone, { owners: c.owners, soa: c.soa });
            assertSameZone(patched, want.zone, `after ${JSON.stringify(step)}`);
            if (committed) {
              // The commit's own account of the change patches to the same zone, without reading it back.
              assert.equal(committed.fromVersion, served.version);
              assert.equal(committed.version, c.version);
              assertSameZone(patchZone(served.zone, { owners: committed.owners, soa: committed.soa }), want.zone, `committed ${JSON.stringify(step)}`);
            }
            served = { zone: patched, version: c.version };
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
