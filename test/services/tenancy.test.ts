// Tenant scoping on both backends: a customer sees only the zones carrying its security tag — any other zone behaves
// as absent (ZoneNotFound, nothing changed in the database), by name, by id, in listings, deleted or live — while
// helpdesk and admin see every zone. A zone a customer creates carries the customer's tag.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { dumpTables } from '../helpers/dump.js';

const { backends } = testBackends();

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 0 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const ACME: svc.Tenant = { tier: 'customer', sectag: 'acme' };
const HELPDESK: svc.Tenant = { tier: 'helpdesk', sectag: null };

/** Every row of every table: "DB unchanged" after a refused call. */
const dump = (store: Store) =>
  dumpTables(store, [
    'server_groups', 'zone_references', 'sectags', 'zones', 'zone_sectags', 'zone_instances', 'records', 'config',
    'events', 'zone_changes', 'tsig_keys', 'zone_update_grants', 'transfer_rules', 'also_notify',
  ]);

for (const backend of backends)
  describe(`tenant scoping on ${backend.name}`, () => {
    let s: Store;
    let admin: svc.ServiceContext;
    let acme: svc.ServiceContext;
    let globexId: number;
    let globexDeletedId: number;
    before(async () => {
      s = await backend.open();
      admin = ctxOf(s, 'admin@test/Admin');
      acme = ctxOf(s, 'wile@acme', { tenant: ACME });
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.setConfig(admin, 'edit_lock', 'false');
      await svc.createSectag(admin, 'acme');
      await svc.createSectag(admin, 'globex');
      await svc.createZone(admin, 'a.acme.test', { text: TEXT, sectags: ['acme'] });
      await svc.createZone(admin, 'shared.test', { text: TEXT, sectags: ['acme', 'globex'] });
      globexId = (await svc.createZone(admin, 'g.globex.test', { text: TEXT, sectags: ['globex'] })).id;
      await svc.createZone(admin, 'untagged.test', { text: TEXT });
      globexDeletedId = (await svc.createZone(admin, 'gone.globex.test', { text: TEXT, sectags: ['globex'] })).id;
      await svc.deleteZone(admin, 'gone.globex.test');
      await svc.createTsigKey(admin, 'k.test');
    });
    after(async () => {
      await s?.close();
    });

    test("a customer cannot read, list, change or delete another tenant's zone: ZoneNotFound, database unchanged", async () => {
      const before = await dump(s);
      const calls: [string, () => Promise<unknown>][] = [];
      for (const zone of ['g.globex.test', 'untagged.test']) {
        calls.push(
          ['getZone', () => svc.getZone(acme, zone)],
          ['getZoneContent', () => svc.getZoneContent(acme, zone)],
          ['getZoneText', () => svc.getZoneText(acme, zone)],
          ['getZoneHead', () => svc.getZoneHead(acme, zone)],
          ['listZis', () => svc.listZis(acme, zone)],
          ['diffVersions', () => svc.diffVersions(acme, zone, 1, 1)],
          ['listZoneSectags', () => svc.listZoneSectags(acme, zone)],
          ['listUpdateGrants', () => svc.listUpdateGrants(acme, zone)],
          ['saveZoneText', () => svc.saveZoneText(acme, zone, `${TEXT}www A 192.0.2.9\n`)],
          ['changeZone', () => svc.changeZone(acme, zone, (r) => r)],
          ['editZone', () => svc.editZone(acme, zone)],
          ['setZoneFlags', () => svc.setZoneFlags(acme, zone, { incUpdates: true })],
          ['disableZone', () => svc.disableZone(acme, zone)],
          ['deleteZone', () => svc.deleteZone(acme, zone)],
          ['pokeZoneSetSerial', () => svc.pokeZoneSetSerial(acme, zone, undefined)],
          ['publishZi', () => svc.publishZi(acme, zone, 1)],
          ['copyZi', () => svc.copyZi(acme, zone, 1)],
          ['copyZone', () => svc.copyZone(acme, zone, `copy-of.${zone}`)],
          ['setZoneReference', () => svc.setZoneReference(acme, zone, null)],
          ['addZoneSectag', () => svc.addZoneSectag(acme, zone, 'acme')],
          ['setUpdateGrants', () => svc.setUpdateGrants(acme, zone, [])],
          ['addTransferRule', () => svc.addTransferRule(acme, { zone }, { key: 'k.test' })],
          ['vacuumAll zone', () => svc.vacuumAll(acme, { zone })],
        );
      }
      calls.push(
        ['getZoneById', () => svc.getZoneById(acme, globexId)],
        ['getZoneContentById', () => svc.getZoneContentById(acme, globexId)],
        ['getZoneContentById deleted', () => svc.getZoneContentById(acme, globexDeletedId)],
        ['getZiById', () => svc.getZiById(acme, globexId)],
        ['getZiById deleted', () => svc.getZiById(acme, globexDeletedId)],
        ['undeleteZone by name', () => svc.undeleteZone(acme, 'gone.globex.test')],
        ['undeleteZone by id', () => svc.undeleteZone(acme, globexDeletedId)],
        ['destroyZone', () => svc.destroyZone(acme, globexDeletedId)],
      );
      for (const [what, call] of calls)
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof svc.ZoneNotFound, `${what}: ${e}`);
          return true;
        });
      assert.equal(await dump(s), before);
      // Nothing of theirs in the listings either, whatever the filter.
      const names = async (o: svc.ListZonesOptions) => (await svc.listZones(acme, o)).map((z) => z.name);
      const briefs = async (o: svc.ListZonesOptions) => (await svc.listZoneBriefs(acme, o)).map((z) => z.name);
      assert.deepEqual(await names({}), ['a.acme.test.', 'shared.test.']);
      assert.deepEqual(await briefs({}), ['a.acme.test.', 'shared.test.']);
      assert.deepEqual(await names({ pattern: '*.globex.test' }), []);
      assert.deepEqual(await names({ sectag: 'globex' }), ['shared.test.']);
      assert.deepEqual(await names({ which: 'deleted' }), []);
      assert.deepEqual(await briefs({ which: 'all' }), ['a.acme.test.', 'shared.test.']);
      assert.equal(await svc.loadPublishedZone(acme, 'g.globex.test'), null);
      assert.deepEqual(await svc.listServedZones(acme), ['a.acme.test.', 'shared.test.']);
      assert.deepEqual(await svc.zoneTransferRules(acme, 'g.globex.test'), []);
      // rr_query_db: records of zones the customer may not see are not found (not an error: nothing at that name).
      assert.deepEqual((await svc.queryRecords(acme, 'ns1.g.globex.test')).records, []);
      assert.deepEqual((await svc.queryRecords(acme, 'ns1.untagged.test')).records, []);
      assert.deepEqual((await svc.queryRecords(acme, 'ns1.a.acme.test')).records.map((r) => [r.zone, r.type, r.rdata]), [['a.acme.test.', 'A', '192.0.2.1']]);
      assert.equal((await svc.queryRecords(admin, 'ns1.g.globex.test')).records.length, 1, 'the admin finds it');
    });

    test('a customer works on its own zones; the zones it creates carry its tag', async () => {
      assert.equal((await svc.getZone(acme, 'a.acme.test')).name, 'a.acme.test.');
      assert.equal((await svc.getZone(acme, 'shared.test')).name, 'shared.test.');
      const r = await svc.saveZoneText(acme, 'a.acme.test', `${TEXT}www A 192.0.2.7\n`);
      assert.equal(r.changed, true);
      assert.equal((await svc.listZis(admin, 'a.acme.test'))[0].changeBy, 'wile@acme');
      const created = await svc.createZone(acme, 'new.acme.test', { text: TEXT });
      assert.deepEqual(created.sectags, ['acme']);
      const tagged = await svc.createZone(acme, 'two.acme.test', { text: TEXT, sectags: ['globex'] });
      assert.deepEqual(tagged.sectags, ['acme', 'globex']);
      const copy = await svc.copyZone(acme, 'a.acme.test', 'copy.acme.test');
      assert.deepEqual(copy.sectags, ['acme']);
      assert.equal((await svc.getZoneById(acme, created.id)).name, 'new.acme.test.');
      await svc.deleteZone(acme, 'new.acme.test');
      assert.deepEqual((await svc.listZones(acme, { which: 'deleted' })).map((z) => z.name), ['new.acme.test.']);
      await svc.undeleteZone(acme, 'new.acme.test');
      await svc.deleteZone(acme, 'new.acme.test');
      await svc.destroyZone(acme, created.id);
      // A name taken by another tenant's zone is still taken (names are global).
      // Names are global, but another tenant's zone does not show through: "not permitted", not "exists".
      await assert.rejects(svc.createZone(acme, 'g.globex.test', { text: TEXT }), (e: Error) => {
        assert.ok(e instanceof svc.PermissionDenied, e.message);
        assert.doesNotMatch(e.message, /exist/);
        return true;
      });
    });

    test('helpdesk and admin see every zone', async () => {
      for (const c of [admin, ctxOf(s, 'help@desk', { tenant: HELPDESK })]) {
        const names = (await svc.listZones(c)).map((z) => z.name);
        for (const z of ['a.acme.test.', 'g.globex.test.', 'shared.test.', 'untagged.test.']) assert.ok(names.includes(z), `${z} in ${names}`);
        assert.equal((await svc.getZoneById(c, globexId)).name, 'g.globex.test.');
        assert.equal((await svc.getZoneContent(c, 'untagged.test')).zone.name, 'untagged.test.');
        assert.deepEqual((await svc.listZones(c, { which: 'deleted', pattern: 'gone.globex.test' })).map((z) => z.id), [globexDeletedId]);
      }
    });
  });
