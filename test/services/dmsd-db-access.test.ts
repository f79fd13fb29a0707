// The primary's access configuration in the services (transfer rules, also-notify targets) on SQLite and
// PostgreSQL, and the zone_tool commands that manage keys, grants, rules and targets.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as services from '../../src/services/index.js';
import { testBackends } from '../helpers/postgres.js';
import { sqliteArgs, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { ctxOf } from '../helpers/context.js';

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

// PostgreSQL is started when a test first needs it.
const { backends, postgres } = testBackends({ lazy: true });

for (const backend of backends)
  describe(`transfer rules and also-notify on ${backend.name}`, () => {
    test('rules per zone and per server group; targets with the transfer key; validation; cascade', async () => {
      if (backend.name === 'postgres') await postgres();
      const s = await backend.open();
      try {
        await services.createZone(ctxOf(s, 't'), 'a.example', { text: TEXT });
        await services.createZone(ctxOf(s, 't'), 'b.example', { text: TEXT });
        await services.createTsigKey(ctxOf(s), 'xfr.key');
        await services.createTsigKey(ctxOf(s), 'other.key');

        const r1 = await services.addTransferRule(ctxOf(s), { zone: 'a.example' }, { key: 'XFR.key' });
        await services.addTransferRule(ctxOf(s), { sg: 'default' }, { address: '192.0.2.0/24' });
        await services.addTransferRule(ctxOf(s), { zone: 'a.example' }, { key: 'other.key', address: '2001:db8::/32' });
        assert.equal(r1.key, 'xfr.key.');
        // The zone's own rules first, then its server group's.
        assert.deepEqual(await services.zoneTransferRules(ctxOf(s), 'a.example'), [
          { key: 'xfr.key.' },
          { key: 'other.key.', address: '2001:db8::/32' },
          { address: '192.0.2.0/24' },
        ]);
        assert.deepEqual(await services.zoneTransferRules(ctxOf(s), 'b.example'), [{ address: '192.0.2.0/24' }]);
        assert.equal((await services.listTransferRules(ctxOf(s))).length, 3);
        assert.equal((await services.listTransferRules(ctxOf(s), { sg: 'default' })).length, 1);

        // Validation: nothing stored on any of these.
        await assert.rejects(services.addTransferRule(ctxOf(s), { zone: 'a.example' }, {}), /key=NAME and\/or address/);
        await assert.rejects(services.addTransferRule(ctxOf(s), { zone: 'a.example' }, { address: '192.0.2.0/33' }), /bad address/);
        await assert.rejects(services.addTransferRule(ctxOf(s), { zone: 'a.example' }, { key: 'nobody.key' }), services.TsigKeyNotFound);
        await assert.rejects(services.addTransferRule(ctxOf(s), { zone: 'nowhere.example' }, { key: 'xfr.key' }), services.ZoneNotFound);
        await assert.rejects(services.addTransferRule(ctxOf(s), { sg: 'nosuch' }, { key: 'xfr.key' }), services.ServerGroupNotFound);
        await assert.rejects(services.addTransferRule(ctxOf(s), { zone: 'a.example', sg: 'default' }, { key: 'xfr.key' }), /either a zone or a server group/);
        await assert.rejects(services.addAlsoNotify(ctxOf(s), { zone: 'a.example' }, { address: 'not-an-ip' }), /bad address/);
        await assert.rejects(services.addAlsoNotify(ctxOf(s), { zone: 'a.example' }, { address: '192.0.2.1', port: 70000 }), /bad port/);
        assert.equal((await services.listTransferRules(ctxOf(s))).length, 3);

        // Targets: the zone's own, then the SG's; one per address#port; unsigned entries take the zone's transfer key.
        await services.addAlsoNotify(ctxOf(s), { zone: 'a.example' }, { address: '192.0.2.53' });
        await services.addAlsoNotify(ctxOf(s), { sg: 'default' }, { address: '192.0.2.53' });
        await services.addAlsoNotify(ctxOf(s), { sg: 'default' }, { address: '::1', port: 5300, key: 'other.key' });
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'a.example'), [
          { address: '192.0.2.53', port: 53, key: 'xfr.key.' },
          { address: '::1', port: 5300, key: 'other.key.' },
        ]);
        // b.example has no key rule: its SG entry without a key goes unsigned.
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'b.example'), [
          { address: '192.0.2.53', port: 53 },
          { address: '::1', port: 5300, key: 'other.key.' },
        ]);
        assert.deepEqual(await services.zonesWithNotifyTargets(ctxOf(s)), ['a.example.', 'b.example.']);

        // Deleting by id; unknown ids are errors.
        await services.deleteTransferRule(ctxOf(s), r1.id);
        await assert.rejects(services.deleteTransferRule(ctxOf(s), r1.id), /no transfer rule/);
        const an = await services.listAlsoNotify(ctxOf(s), { zone: 'a.example' });
        assert.equal(an.length, 1);
        await services.deleteAlsoNotify(ctxOf(s), an[0].id);
        await assert.rejects(services.deleteAlsoNotify(ctxOf(s), an[0].id), /no also-notify/);

        // A destroyed zone takes its rules and targets with it (the SG's stay).
        await services.deleteZone(ctxOf(s), 'a.example');
        const gone = (await services.listZones(ctxOf(s), { which: 'deleted' })).find((z) => z.name === 'a.example.');
        assert.ok(gone);
        await services.destroyZone(ctxOf(s), gone.id);
        assert.deepEqual(
          (await services.listTransferRules(ctxOf(s))).map((r) => r.sg),
          ['default'],
        );
        assert.deepEqual(await services.zoneTransferRules(ctxOf(s), 'a.example'), []);
      } finally {
        await s.close();
      }
    });
  });

describe('zone_tool: keys, grants, transfer rules, also-notify', () => {
  test('commands, their output and their refusals', () => {
    const data = mkdtempSync(join(tmpdir(), 'dms-zt-primary-'));
    const st = sqliteArgs(data);
    try {
      writeFileSync(join(data, 'z'), TEXT);
      zoneToolOk(st, ['load_zone', '-i', join(data, 'z'), 'dyn.example']);
      const gen = zoneToolOk(st, ['generate_tsig_key', 'k1.example', 'hmac-sha512']);
      assert.match(gen, /key "k1\.example" \{\n\talgorithm hmac-sha512;\n\tsecret "[A-Za-z0-9+/=]{80,}";\n\};/);
      assert.match(gen, /key:\n {2}- id: k1\.example\n {4}algorithm: hmac-sha512\n {4}secret: /);
      assert.match(zoneToolOk(st, ['show_tsig_key', 'k1.example']), /hmac-sha512:k1\.example:[A-Za-z0-9+/=]+/);
      assert.match(zoneToolOk(st, ['ls_tsig_key']), /k1\.example\.\s+hmac-sha512/);
      assert.equal(zoneTool(st, ['generate_tsig_key', 'k1.example']).code === 0, false, 'a second key of that name is refused');
      assert.notEqual(zoneTool(st, ['generate_tsig_key', 'k2.example', 'hmac-foo']).code, 0);

      zoneToolOk(st, ['add_update_grant', 'dyn.example', 'grant k1.example zonesub TXT']);
      zoneToolOk(st, ['add_update_grant', 'dyn.example', 'grant', 'k1.example', 'name', 'www.dyn.example.', 'A']);
      const bad = zoneTool(st, ['add_update_grant', 'dyn.example', 'grant k1.example nonsense TXT']);
      assert.equal(bad.code, 65, bad.stderr);
      assert.match(bad.stderr, /bad update grant/);
      assert.equal(zoneToolOk(st, ['ls_update_grants', 'dyn.example']).trim().split('\n').length, 2);
      zoneToolOk(st, ['delete_update_grant', 'dyn.example', '1']);
      assert.match(zoneToolOk(st, ['ls_update_grants', 'dyn.example']), /^\s+1\s+grant k1\.example name www\.dyn\.example\. A$/m);
      assert.notEqual(zoneTool(st, ['delete_update_grant', 'dyn.example', '5']).code, 0);

      assert.match(zoneToolOk(st, ['add_transfer_rule', 'dyn.example', 'key=k1.example', 'address=127.0.0.0/8']), /transfer rule 1 added/);
      assert.match(zoneToolOk(st, ['add_transfer_rule', '-g', 'default', 'address=::1']), /transfer rule 2 added/);
      assert.equal(zoneTool(st, ['add_transfer_rule', 'dyn.example', 'color=blue']).code, 64);
      assert.notEqual(zoneTool(st, ['add_transfer_rule', 'dyn.example', 'key=missing.key']).code, 0);
      const rules = zoneToolOk(st, ['ls_transfer_rules']);
      assert.match(rules, /1\s+dyn\.example\.\s+key=k1\.example\. address=127\.0\.0\.0\/8/);
      assert.match(rules, /2\s+sg:default\s+address=::1/);
      zoneToolOk(st, ['delete_transfer_rule', '2']);
      assert.doesNotMatch(zoneToolOk(st, ['ls_transfer_rules']), /sg:default/);

      zoneToolOk(st, ['add_also_notify', '-g', 'default', '127.0.0.1#5301']);
      zoneToolOk(st, ['add_also_notify', 'dyn.example', '[::1]#5302', 'key=k1.example']);
      const an = zoneToolOk(st, ['ls_also_notify']);
      assert.match(an, /sg:default\s+127\.0\.0\.1#5301/);
      assert.match(an, /dyn\.example\.\s+::1#5302 key=k1\.example\./);
      assert.equal(zoneToolOk(st, ['ls_pending_notifies']).trim(), '');
      const json = JSON.parse(zoneToolOk(st, ['--json', 'ls_also_notify', '-g', 'default'])) as { address: string; port: number }[];
      assert.deepEqual(json.map((j) => [j.address, j.port]), [['127.0.0.1', 5301]]);
      zoneToolOk(st, ['delete_tsig_key', 'k1.example']);
      assert.doesNotMatch(zoneToolOk(st, ['ls_tsig_key']), /k1/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
