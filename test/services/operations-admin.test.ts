// The administration, primary and server operations (src/services/operations/{admin,primary,servers}.ts) on both
// backends, through `invoke` as the JSON-RPC API and zone_tool call them: every operation works with good
// parameters; parameters that do not fit are refused with InvalidParams naming the field and nothing changes; the
// tiers hold (helpdesk and customers are refused what is admin's, customers everything here); a TSIG secret never
// appears in a listing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import { ADMIN_OPERATIONS } from '../../src/services/operations/admin.js';
import { PRIMARY_OPERATIONS } from '../../src/services/operations/primary.js';
import { SERVER_OPERATIONS } from '../../src/services/operations/servers.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { dumpTables } from '../helpers/dump.js';

const { backends } = testBackends();

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const DAY = 86_400_000;

const MINE = { ...ADMIN_OPERATIONS, ...PRIMARY_OPERATIONS, ...SERVER_OPERATIONS };
const NAMES = Object.keys(MINE).sort();

/**
 * What only admin may do: security tags (issue 16), TSIG key material, configuration changes, server groups and
 * servers (infrastructure every zone of a group depends on), vacuum and failing events.
 */
const ADMIN_ONLY = [
  'list_sectag', 'create_sectag', 'delete_sectag', 'list_zone_sectags', 'add_zone_sectag', 'delete_zone_sectag', 'replace_zone_sectags',
  'set_config', 'create_sg', 'delete_sg', 'rename_sg', 'set_sg_apex_ns', 'set_zone_sg', 'set_zone_alt_sg', 'swap_zone_sg',
  'vacuum_zis', 'vacuum_zones', 'vacuum_pare_deleted_zone_zis', 'vacuum_event_queue', 'vacuum_audit_log', 'vacuum_all', 'fail_event',
  'generate_tsig_key', 'show_tsig_key', 'delete_tsig_key',
  'create_server', 'delete_server', 'set_server_address', 'set_server_type', 'rename_server', 'move_server_sg', 'enable_server', 'disable_server',
].sort();

/** Every row of every table: "nothing changed" after a refused call. */
const dump = (store: Store) =>
  dumpTables(store, [
    'server_groups', 'servers', 'zone_references', 'sectags', 'zones', 'zone_sectags', 'zone_instances', 'records', 'config',
    'events', 'zone_changes', 'tsig_keys', 'zone_update_grants', 'transfer_rules', 'also_notify',
  ]);

async function refused(p: Promise<unknown>, cls: new (...a: never[]) => Error, what: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `${what}: ${(e as Error).name}: ${(e as Error).message}`);
    return e as Error;
  }
  assert.fail(`${what}: not refused`);
}

for (const backend of backends)
  describe(`admin, primary and server operations on ${backend.name}`, () => {
    let s: Store;
    const clock = manualClock(Date.now());
    let admin: svc.ServiceContext;
    let helpdesk: svc.ServiceContext;
    let customer: svc.ServiceContext;
    const called = new Set<string>();
    /** invoke as admin, noting which operations the good-parameter test reached. */
    const run = <T = unknown>(name: string, params: unknown = {}) => {
      called.add(name);
      return svc.invoke(admin, name, params) as Promise<T>;
    };

    before(async () => {
      s = await backend.open();
      admin = ctxOf(s, 'admin@test/Admin', { clock });
      helpdesk = ctxOf(s, 'help@desk', { clock, tenant: { tier: 'helpdesk', sectag: null } });
      customer = ctxOf(s, 'wile@acme', { clock, tenant: { tier: 'customer', sectag: 'acme' } });
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.setConfig(admin, 'edit_lock', 'false');
      await svc.createSectag(admin, 'acme');
      await svc.createZone(admin, 'a.test', { text: TEXT, sectags: ['acme'] });
      await svc.createZone(admin, 'b.test', { text: TEXT });
    });
    after(async () => {
      await s?.close();
    });

    test('the tiers: admin-only as listed, nothing here for customers, the rest for staff', () => {
      assert.deepEqual(NAMES.filter((n) => !MINE[n as keyof typeof MINE].tiers.includes('helpdesk')), ADMIN_ONLY);
      for (const n of NAMES) {
        const o = MINE[n as keyof typeof MINE];
        assert.equal(o.name, n, `${n}: table key and name agree`);
        assert.ok(o.tiers.includes('admin'), `${n}: admin may`);
        assert.ok(!o.tiers.includes('customer'), `${n}: not for customers`);
      }
    });

    test('references, sectags and configuration with good parameters', async () => {
      assert.deepEqual(await run('create_reference', { reference: 'ref-one' }), { reference: 'ref-one' });
      await run('create_reference', { reference: 'ref-two' });
      assert.deepEqual(
        (await run<{ name: string }[]>('list_reference', { pattern: 'ref-*' })).map((r) => r.name),
        ['ref-one', 'ref-two'],
      );
      await run('rename_reference', { reference: 'ref-two', to: 'ref-2' });
      assert.deepEqual(await run('set_zone_reference', { zone: 'A.TEST', reference: 'ref-2' }), { zone: 'a.test.', reference: 'ref-2' });
      assert.equal((await svc.getZone(admin, 'a.test')).reference, 'ref-2');
      assert.deepEqual(await run('delete_reference', { reference: 'ref-one' }), { reference: 'ref-one', deleted: true });
      assert.deepEqual((await run<{ name: string; zoneCount: number }[]>('list_reference', {})).map((r) => [r.name, r.zoneCount]), [['ref-2', 1]]);

      await run('create_sectag', { sectag: 'globex' });
      assert.deepEqual(await run('list_sectag'), ['acme', 'globex']);
      await run('add_zone_sectag', { zone: 'a.test', sectag: 'globex' });
      assert.deepEqual(await run('list_zone_sectags', { zone: 'a.test' }), ['acme', 'globex']);
      await run('delete_zone_sectag', { zone: 'a.test', sectag: 'globex' });
      await run('replace_zone_sectags', { zone: 'b.test', sectags: ['globex', 'acme'] });
      assert.deepEqual(await svc.listZoneSectags(admin, 'b.test'), ['acme', 'globex']);
      await run('replace_zone_sectags', { zone: 'b.test', sectags: [] });
      assert.deepEqual(await run('delete_sectag', { sectag: 'globex' }), { sectag: 'globex', deleted: true });

      assert.deepEqual(await run('set_config', { key: 'zi_max_num', value: '30' }), { key: 'zi_max_num', value: '30', sg: null });
      assert.deepEqual(await run('get_config_value', { key: 'zi_max_num' }), { key: 'zi_max_num', value: '30', sg: null });
      assert.ok((await run<svc.ConfigEntry[]>('show_config')).some((e) => e.key === 'zi_max_num' && e.value === '30'));
    });

    test('server groups and servers with good parameters', async () => {
      const sg2 = await run<svc.ServerGroupInfo>('create_sg', { sg: 'sg2', apexNs: ['ns1.sg2.test'], masterAddress: '192.0.2.53' });
      assert.deepEqual([sg2.name, sg2.apexNs, sg2.masterAddress], ['sg2', ['ns1.sg2.test.'], '192.0.2.53']);
      assert.ok((await run<svc.ServerGroupInfo[]>('list_sg')).some((g) => g.name === 'sg2'));
      assert.equal((await run<svc.ServerGroupInfo>('show_sg', { sg: 'sg2' })).masterAddress, '192.0.2.53');
      await svc.createZone(admin, 'apex.test', { text: TEXT, sg: 'sg2', flags: { useApexNs: true } });
      const set = await run<{ sg: svc.ServerGroupInfo; refreshed: string[] }>('set_sg_apex_ns', { sg: 'sg2', apexNs: ['ns9.sg2.test', 'ns8.sg2.test.'] });
      assert.deepEqual(set.refreshed, ['apex.test.']);
      assert.deepEqual(await run('show_apex_ns', { sg: 'sg2' }), { sg: 'sg2', apexNs: ['ns9.sg2.test.', 'ns8.sg2.test.'] });
      assert.match(await svc.getZoneText(admin, 'apex.test'), /NS\s+ns9\.sg2\.test\./);
      const dflt = (await run<{ value: string }>('get_config_value', { key: 'default_sg' })).value;
      assert.equal((await run<{ sg: string }>('show_apex_ns', {})).sg, dflt);

      assert.equal((await run<svc.ZoneInfo>('set_zone_sg', { zone: 'b.test', sg: 'sg2' })).sg, 'sg2');
      assert.equal((await run<svc.ZoneInfo>('set_zone_alt_sg', { zone: 'b.test', sg: dflt })).altSg, dflt);
      const swapped = await run<svc.ZoneInfo>('swap_zone_sg', { zone: 'b.test' });
      assert.deepEqual([swapped.sg, swapped.altSg], [dflt, 'sg2']);
      assert.equal((await run<svc.ZoneInfo>('set_zone_alt_sg', { zone: 'b.test', sg: null })).altSg, null);
      await run('create_sg', { sg: 'sg3' });
      assert.deepEqual(await run('rename_sg', { sg: 'sg3', to: 'sg4' }), { from: 'sg3', to: 'sg4' });
      assert.deepEqual(await run('delete_sg', { sg: 'sg4' }), { sg: 'sg4', deleted: true });

      const v = await run<{ name: string; sg: string; port: number; type: string }>('create_server', { server: 's1', address: '192.0.2.1', sg: 'sg2', type: 'nsd' });
      assert.deepEqual([v.name, v.sg, v.port, v.type], ['s1', 'sg2', 53, 'nsd']);
      assert.deepEqual((await run<{ name: string }[]>('list_server', { sg: 'sg2' })).map((x) => x.name), ['s1']);
      assert.equal((await run<{ address: string }>('show_server', { server: 's1' })).address, '192.0.2.1');
      assert.equal((await run<{ port: number }>('set_server_address', { server: 's1', address: '192.0.2.2', port: 5353 })).port, 5353);
      assert.deepEqual((await run<{ name: string }[]>('show_server_byaddr', { address: '192.0.2.2#5353' })).map((x) => x.name), ['s1']);
      assert.equal((await run<{ type: string }>('set_server_type', { server: 's1', type: 'knot' })).type, 'knot');
      assert.equal((await run<{ name: string }>('rename_server', { server: 's1', to: 's2' })).name, 's2');
      assert.equal((await run<{ sg: string }>('move_server_sg', { server: 's2', sg: dflt })).sg, dflt);
      assert.equal((await run<{ enabled: boolean }>('disable_server', { server: 's2' })).enabled, false);
      assert.equal((await run<{ enabled: boolean }>('enable_server', { server: 's2' })).enabled, true);
      assert.deepEqual(await run('delete_server', { server: 's2' }), { server: 's2', deleted: true });
      assert.deepEqual(await run('list_server'), []);
    });

    test('TSIG keys, update grants, transfer rules, also-notify with good parameters; no secret in a listing', async () => {
      const k1 = await run<svc.TsigKeyInfo>('generate_tsig_key', { name: 'k1.test' });
      const k2 = await run<svc.TsigKeyInfo>('generate_tsig_key', { name: 'k2.test', algorithm: 'hmac-sha512' });
      assert.deepEqual([k1.name, k1.algorithm, k2.algorithm], ['k1.test.', 'hmac-sha256', 'hmac-sha512']);
      assert.equal(Buffer.from(k2.secret, 'base64').length, 64);
      assert.deepEqual(await run('show_tsig_key', { name: 'k1.test' }), { name: 'k1.test.', algorithm: 'hmac-sha256', secret: k1.secret });
      for (const who of [admin, helpdesk]) {
        const list = (await svc.invoke(who, 'list_tsig_key', {})) as Record<string, unknown>[];
        assert.deepEqual(list.map((k) => k.name), ['k1.test.', 'k2.test.']);
        const text = JSON.stringify(list);
        for (const secret of [k1.secret, k2.secret]) assert.ok(!text.includes(secret), 'a secret in list_tsig_key');
        for (const k of list) assert.deepEqual(Object.keys(k).sort(), ['algorithm', 'ctime', 'name']);
      }
      called.add('list_tsig_key');

      const g1 = 'grant k1.test zonesub TXT';
      const g2 = 'grant k2.test name www.a.test. A';
      await run('add_update_grant', { zone: 'a.test', grant: g1 });
      assert.deepEqual(await run('add_update_grant', { zone: 'a.test', grant: `  ${g2.replace(/ /g, '   ')} ` }), { zone: 'a.test.', grants: [g1, g2] });
      assert.deepEqual(await run('list_update_grants', { zone: 'a.test' }), [g1, g2]);
      assert.deepEqual(await run('delete_update_grant', { zone: 'a.test', n: 1 }), { zone: 'a.test.', grants: [g2] });
      assert.deepEqual(await run('delete_update_grant', { zone: 'a.test', grant: g2 }), { zone: 'a.test.', grants: [] });

      const r1 = await run<svc.TransferRuleInfo>('add_transfer_rule', { zone: 'a.test', key: 'k1.test' });
      const r2 = await run<svc.TransferRuleInfo>('add_transfer_rule', { sg: 'sg2', address: '192.0.2.0/24' });
      assert.deepEqual([r1.zone, r1.key, r2.sg, r2.address], ['a.test.', 'k1.test.', 'sg2', '192.0.2.0/24']);
      assert.deepEqual((await run<svc.TransferRuleInfo[]>('list_transfer_rules', { zone: 'a.test' })).map((r) => r.id), [r1.id]);
      assert.deepEqual((await run<svc.TransferRuleInfo[]>('list_transfer_rules', {})).map((r) => r.id).sort(), [r1.id, r2.id].sort());
      assert.deepEqual(await run('delete_transfer_rule', { id: r2.id }), { id: r2.id, deleted: true });

      const n1 = await run<svc.AlsoNotifyInfo>('add_also_notify', { zone: 'a.test', address: '192.0.2.7', port: 5300, key: 'k2.test' });
      const n2 = await run<svc.AlsoNotifyInfo>('add_also_notify', { sg: 'sg2', address: '2001:db8::7' });
      assert.deepEqual([n1.port, n1.key, n2.port, n2.sg], [5300, 'k2.test.', 53, 'sg2']);
      assert.deepEqual((await run<svc.AlsoNotifyInfo[]>('list_also_notify', { sg: 'sg2' })).map((r) => r.id), [n2.id]);
      assert.deepEqual(await run('delete_also_notify', { id: n2.id }), { id: n2.id, deleted: true });
      // A publish of a.test queues a NOTIFY to its also-notify target.
      await svc.saveZoneText(admin, 'a.test', `${TEXT}www A 192.0.2.9\n`);
      const pending = await run<svc.EventInfo[]>('list_pending_notifies');
      assert.ok(pending.every((e) => e.type === 'notify' && (e.state === 'NEW' || e.state === 'RETRY')));

      await run('delete_transfer_rule', { id: r1.id });
      await run('delete_also_notify', { id: n1.id });
      assert.deepEqual(await run('delete_tsig_key', { name: 'k2.test' }), { name: 'k2.test', deleted: true });
    });

    test('events, vacuum and status with good parameters', async () => {
      const id = await svc.enqueueEvent(admin, 'ZoneTestEvent', { zone: 'a.test', payload: { zi_id: 1 }, delaySec: 3600 });
      assert.ok((await run<svc.EventInfo[]>('list_events', { which: 'pending' })).some((e) => e.id === id));
      assert.equal((await run<svc.EventInfo>('show_event', { eventId: id })).type, 'ZoneTestEvent');
      assert.deepEqual(await run('fail_event', { eventId: id }), { eventId: id, state: 'FAILURE' });
      const failed = await run<svc.EventInfo[]>('list_events', { which: 'failed', limit: 5 });
      assert.equal(failed[0].id, id);
      assert.equal(failed[0].lastError, 'failed by admin@test/Admin with fail_event');
      assert.ok((await run<svc.EventInfo[]>('list_events', {})).some((e) => e.id === id));
      const status = await run<{ store: { kind: string }; serverGroups: unknown[]; failed: svc.EventInfo[] }>('show_dms_status');
      assert.equal(status.store.kind, backend.name);
      assert.ok(status.failed.some((e) => e.id === id));

      await svc.createZone(admin, 'v.test', { text: TEXT });
      for (let i = 2; i <= 4; i++) await svc.saveZoneText(admin, 'v.test', `${TEXT}www${i} A 192.0.2.${i}\n`);
      await svc.createZone(admin, 'gone.test', { text: TEXT });
      await svc.deleteZone(admin, 'gone.test');
      clock.advance(3 * DAY);
      const zis = await run<svc.VacuumResult>('vacuum_zis', { zone: 'v.test', ageDays: 1, maxNum: 1 });
      // Four ZIs, all older than a day: only the newest (published) one stays with maxNum 1.
      assert.deepEqual([zis.zisDeleted, zis.zonesDestroyed, zis.eventsDeleted], [3, 0, 0]);
      const left = await svc.listZis(admin, 'v.test');
      assert.deepEqual(left.map((z) => z.version), [(await svc.getZone(admin, 'v.test')).publishedVersion]);
      const zones = await run<svc.VacuumResult>('vacuum_zones', { ageDays: 1 });
      assert.deepEqual([zones.zonesDestroyed, zones.zisDeleted, zones.eventsDeleted], [1, 0, 0]);
      // Paring: a zone deleted more than ageDays ago keeps its last published ZI only, and can still be undeleted.
      await svc.createZone(admin, 'pared.test', { text: TEXT });
      for (let i = 2; i <= 3; i++) await svc.saveZoneText(admin, 'pared.test', `${TEXT}www${i} A 192.0.2.${i}\n`);
      await svc.deleteZone(admin, 'pared.test');
      const early = await run<svc.VacuumResult>('vacuum_pare_deleted_zone_zis', { ageDays: 1 });
      assert.deepEqual([early.zonesPared, early.zisDeleted], [0, 0], 'deleted less than a day ago: left alone');
      clock.advance(3 * DAY);
      const pared = await run<svc.VacuumResult>('vacuum_pare_deleted_zone_zis', { ageDays: 1 });
      assert.deepEqual([pared.zonesPared, pared.zisDeleted, pared.zonesDestroyed, pared.eventsDeleted, pared.auditDeleted], [1, 2, 0, 0, 0]);
      await svc.undeleteZone(admin, 'pared.test');
      assert.equal((await svc.listZis(admin, 'pared.test')).length, 1, 'one ZI left, and the zone came back');
      const events = await run<svc.VacuumResult>('vacuum_event_queue', { ageDays: 1 });
      assert.ok(events.eventsDeleted >= 1);
      // The audit log: the other vacuums left it alone; entries older than ageDays go, newer ones stay.
      assert.deepEqual([zis.auditDeleted, zones.auditDeleted, events.auditDeleted], [0, 0, 0]);
      const cutoff = clock.now().getTime() - DAY;
      const old = (await svc.listAudit(admin, { limit: 100_000 })).filter((e) => e.at.getTime() < cutoff);
      assert.ok(old.length > 0);
      await svc.createZone(admin, 'recent.test', { text: TEXT });
      const audit = await run<svc.VacuumResult>('vacuum_audit_log', { ageDays: 1 });
      assert.equal(audit.auditDeleted, old.length, 'every entry older than a day is gone');
      const kept = await svc.listAudit(admin, { limit: 100_000 });
      assert.ok(kept.every((e) => e.at.getTime() >= cutoff));
      assert.ok(kept.some((e) => e.zone === 'recent.test.'), 'the newer entries stay');
      await refused(svc.getEvent(admin, id), svc.EventNotFound, 'the failed event is vacuumed');
      const all = await run<svc.VacuumResult>('vacuum_all');
      assert.equal(typeof all.changesDeleted, 'number');
    });

    test('every operation of the three tables was run with good parameters above', () => {
      assert.deepEqual([...called].sort(), NAMES);
    });

    test('bad parameters: InvalidParams naming the field, nothing changed', async () => {
      const cases: [string, unknown, string][] = [
        ['create_reference', {}, 'reference'],
        ['create_reference', { reference: 5 }, 'reference'],
        ['rename_reference', { reference: 'ref-2' }, 'to'],
        ['set_zone_reference', { zone: 'a.test', reference: 'ref-2', colour: 'blue' }, 'colour'],
        ['create_sectag', { sectag: '-leading-dash' }, 'sectag'],
        ['create_sectag', { sectag: 'x'.repeat(61) }, 'sectag'],
        ['add_zone_sectag', { zone: 'a.test', sectag: 'has space' }, 'sectag'],
        ['replace_zone_sectags', { zone: 'a.test', sectags: ['acme', 'bad/tag'] }, 'sectags[1]'],
        ['set_config', { key: 'zi_max_num' }, 'value'],
        ['create_sg', { sg: '' }, 'sg'],
        ['set_zone_alt_sg', { zone: 'a.test' }, 'sg'],
        ['set_sg_apex_ns', { sg: 'sg2', apexNs: 'ns1.example.' }, 'apexNs'],
        ['vacuum_zis', { ageDays: -1 }, 'ageDays'],
        ['vacuum_zis', { maxNum: 1.5 }, 'maxNum'],
        ['list_events', { which: 'some' }, 'which'],
        ['fail_event', { eventId: '1' }, 'eventId'],
        ['generate_tsig_key', { name: '' }, 'name'],
        ['delete_update_grant', { zone: 'a.test' }, 'grant'],
        ['delete_update_grant', { zone: 'a.test', n: 1.5 }, 'n'],
        ['add_transfer_rule', { zone: 'a.test', sg: 'sg2', key: 'k1.test' }, 'zone'],
        ['add_transfer_rule', { zone: 'a.test' }, 'key'],
        ['add_also_notify', { zone: 'a.test', address: '192.0.2.1', port: 70000 }, 'port'],
        ['create_server', { server: 'x' }, 'address'],
        ['set_server_type', { server: 'x', type: 3 }, 'type'],
        ['move_server_sg', { server: 'x', sg: null }, 'sg'],
      ];
      const before = await dump(s);
      for (const [name, params, field] of cases) {
        const e = (await refused(svc.invoke(admin, name, params), svc.InvalidParams, `${name} ${JSON.stringify(params)}`)) as InstanceType<
          typeof svc.InvalidParams
        >;
        assert.ok(
          e.problems.some((p) => p.path === field || p.message.includes(`"${field}"`)),
          `${name}: ${field} named in ${JSON.stringify(e.problems)}`,
        );
        assert.match(e.message, new RegExp(`^${name}: invalid parameters: `));
      }
      assert.equal(await dump(s), before, 'nothing changed');
    });

    test('helpdesk and customers are refused what is not theirs, before anything is read; nothing changed', async () => {
      const before = await dump(s);
      for (const name of NAMES) {
        // Customers: none of these; the tier is checked before the parameters, so {} is enough.
        await refused(svc.invoke(customer, name, {}), svc.PermissionDenied, `customer ${name}`);
        if (ADMIN_ONLY.includes(name)) await refused(svc.invoke(helpdesk, name, {}), svc.PermissionDenied, `helpdesk ${name}`);
      }
      // A server group's access entries apply to all its zones: admin's, even through the staff operations.
      await refused(svc.invoke(helpdesk, 'add_transfer_rule', { sg: 'sg2', address: '192.0.2.0/24' }), svc.PermissionDenied, 'helpdesk SG rule');
      await refused(svc.invoke(helpdesk, 'add_also_notify', { sg: 'sg2', address: '192.0.2.8' }), svc.PermissionDenied, 'helpdesk SG also-notify');
      const sgRule = await svc.addTransferRule(admin, { sg: 'sg2' }, { address: '198.51.100.0/24' });
      const sgNotify = await svc.addAlsoNotify(admin, { sg: 'sg2' }, { address: '198.51.100.1' });
      const mid = await dump(s);
      await refused(svc.invoke(helpdesk, 'delete_transfer_rule', { id: sgRule.id }), svc.PermissionDenied, 'helpdesk deletes an SG rule');
      await refused(svc.invoke(helpdesk, 'delete_also_notify', { id: sgNotify.id }), svc.PermissionDenied, 'helpdesk deletes an SG also-notify');
      assert.equal(await dump(s), mid, 'nothing changed by the refused helpdesk calls');
      await svc.deleteTransferRule(admin, sgRule.id);
      await svc.deleteAlsoNotify(admin, sgNotify.id);
      assert.equal(await dump(s), before, 'nothing changed');
    });

    test('helpdesk reads everything here and manages references and zone-level settings', async () => {
      assert.ok(Array.isArray(await svc.invoke(helpdesk, 'list_sg', {})));
      assert.ok(Array.isArray(await svc.invoke(helpdesk, 'show_config', {})));
      assert.ok(Array.isArray(await svc.invoke(helpdesk, 'list_events', { which: 'all' })));
      await svc.invoke(helpdesk, 'create_reference', { reference: 'desk-ref' });
      await svc.invoke(helpdesk, 'set_zone_reference', { zone: 'b.test', reference: 'desk-ref' });
      assert.equal((await svc.getZone(admin, 'b.test')).reference, 'desk-ref');
      await svc.invoke(helpdesk, 'add_update_grant', { zone: 'b.test', grant: 'grant k1.test zonesub TXT' });
      const rule = (await svc.invoke(helpdesk, 'add_transfer_rule', { zone: 'b.test', key: 'k1.test' })) as svc.TransferRuleInfo;
      await svc.invoke(helpdesk, 'delete_transfer_rule', { id: rule.id });
      assert.deepEqual(await svc.listUpdateGrants(admin, 'b.test'), ['grant k1.test zonesub TXT']);
      // A refused rule of the services (unknown key) leaves the zone as it was.
      const before = await dump(s);
      await refused(svc.invoke(helpdesk, 'add_transfer_rule', { zone: 'b.test', key: 'missing.key' }), svc.TsigKeyNotFound, 'unknown key');
      await refused(svc.invoke(admin, 'create_sg', { sg: 'sg9', masterAddress: 'not-an-address' }), svc.InvalidArgument, 'bad master address');
      for (const n of [0, 2])
        await refused(svc.invoke(helpdesk, 'delete_update_grant', { zone: 'b.test', n }), svc.InvalidArgument, `no grant ${n}`);
      assert.equal(await dump(s), before);
    });
  });
