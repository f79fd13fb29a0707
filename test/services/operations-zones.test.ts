// The zone and ZI operations through `invoke`, on both backends: good parameters do what the operation says; bad ones
// are InvalidParams naming the field, with the database unchanged; a customer gets ZoneNotFound for another tenant's
// zone (never a hint that it exists) and PermissionDenied for the operations its tier may not call.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { typeToString } from '../../src/dns/constants.js';
import { rdataToText } from '../../src/dns/rdata.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { dumpTables } from '../helpers/dump.js';

/** The text of a show_zone / edit_zone result in the default format. */
const textOf = (r: object): string => ('text' in r && typeof r.text === 'string' ? r.text : assert.fail('a result without its text'));
/** The records of a show_zone / edit_zone result in the "records" format. */
const recordsOf = (r: object): svc.ZoneRecordData[] =>
  'records' in r && Array.isArray(r.records) ? (r.records as svc.ZoneRecordData[]) : assert.fail('a result without its records');

const { backends } = testBackends();

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const ACME: svc.Tenant = { tier: 'customer', sectag: 'acme' };
const HELPDESK: svc.Tenant = { tier: 'helpdesk', sectag: null };

/** Every row of every table: "nothing changed" after a refused call. */
const dump = (store: Store) =>
  dumpTables(store, [
    'server_groups', 'zone_references', 'sectags', 'zones', 'zone_sectags', 'zone_instances', 'records', 'config',
    'events', 'zone_changes', 'tsig_keys', 'zone_update_grants', 'transfer_rules', 'also_notify',
  ]);

/** The error `fn` rejects with (fails the test when it resolves). */
async function rejection(fn: () => Promise<unknown>, what: string): Promise<svc.DmsError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof svc.DmsError, `${what}: ${e}`);
    return e;
  }
  assert.fail(`${what}: resolved`);
}

/** The operations these tests cover, with the tiers that may NOT call them. */
const DENIED: Record<string, svc.Tier[]> = {
  list_zi: [],
  show_zi: [],
  load_zone: [],
  load_zones: ['customer'],
  copy_zone: [],
  copy_zi: [],
  publish_zi: [],
  delete_zi: ['customer'],
  update_zone_text: [],
  update_zone: [],
  edit_zone: [],
  tickle_editlock: [],
  cancel_edit_zone: [],
  clear_edit_lock: ['customer'],
  diff_zones: [],
  diff_zi: [],
  poke_zone_set_serial: ['customer', 'helpdesk'],
  poke_zone_wrap_serial: ['customer', 'helpdesk'],
  update_rrs: [],
  refresh_zone: ['customer'],
  nuke_zone: ['customer', 'helpdesk'],
  destroy_zone: ['customer', 'helpdesk'],
};

for (const backend of backends)
  describe(`zone operations on ${backend.name}`, () => {
    let s: Store;
    let admin: svc.ServiceContext;
    let acme: svc.ServiceContext;
    let help: svc.ServiceContext;
    before(async () => {
      s = await backend.open();
      admin = ctxOf(s, 'admin@test/Admin');
      acme = ctxOf(s, 'wile@acme', { tenant: ACME });
      help = ctxOf(s, 'help@desk', { tenant: HELPDESK });
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.setConfig(admin, 'edit_lock', 'false');
      await svc.createSectag(admin, 'acme');
      await svc.createSectag(admin, 'globex');
      await svc.createZone(admin, 'a.acme.test', { text: TEXT, sectags: ['acme'] });
      await svc.createZone(admin, 'g.globex.test', { text: TEXT, sectags: ['globex'] });
    });
    after(async () => {
      await s?.close();
    });

    test('the tiers: every operation is in the table with the tiers an operator expects', async () => {
      for (const [name, denied] of Object.entries(DENIED)) {
        const o = svc.findOperation(name);
        assert.ok(o, `${name} is an operation`);
        for (const tier of ['admin', 'helpdesk', 'customer'] as const)
          assert.equal(o.tiers.includes(tier), !denied.includes(tier), `${name} for ${tier}`);
      }
    });

    test('PermissionDenied for a tier that may not call the operation, before anything is read or changed', async () => {
      const zoneId = (await svc.getZone(admin, 'a.acme.test')).id;
      const params: Record<string, unknown> = {
        load_zones: { zones: [{ zone: 'denied.acme.test', text: TEXT }] },
        delete_zi: { zone: 'a.acme.test', zi: 1 },
        clear_edit_lock: { zone: 'a.acme.test' },
        refresh_zone: { zone: 'a.acme.test' },
        poke_zone_set_serial: { zone: 'a.acme.test' },
        poke_zone_wrap_serial: { zone: 'a.acme.test' },
        nuke_zone: { zoneId },
        destroy_zone: { zoneId },
      };
      const before = await dump(s);
      for (const [name, denied] of Object.entries(DENIED))
        for (const tier of denied) {
          const c = tier === 'customer' ? acme : help;
          const e = await rejection(() => svc.invoke(c, name, params[name]), `${name} as ${tier}`);
          assert.ok(e instanceof svc.PermissionDenied, `${name} as ${tier}: ${e.message}`);
        }
      assert.equal(await dump(s), before);
    });

    test("ZoneNotFound for another tenant's zone, whatever the operation; nothing changed", async () => {
      const other = 'g.globex.test';
      const calls: [string, unknown][] = [
        ['list_zi', { zone: other }],
        ['show_zi', { zone: other }],
        ['copy_zone', { zone: other, to: 'stolen.acme.test' }],
        ['copy_zi', { zone: other, zi: 1 }],
        ['publish_zi', { zone: other, zi: 'latest' }],
        ['update_zone_text', { zone: other, text: `${TEXT}www A 192.0.2.9\n` }],
        ['update_zone_text', { zone: other, text: 'not a zone file (((' }],
        ['edit_zone', { zone: other }],
        ['tickle_editlock', { zone: other, token: 'v:1:x' }],
        ['cancel_edit_zone', { zone: other, token: 'v:1:x' }],
        ['diff_zones', { zone: 'a.acme.test', zone2: other }],
        ['diff_zi', { zone: other, zi: 1 }],
        ['update_rrs', { zone: other, records: [{ action: 'add', name: 'www', type: 'A', rdata: '192.0.2.9' }] }],
        ['list_zone', { pattern: other }],
      ];
      const before = await dump(s);
      for (const [name, params] of calls) {
        if (name === 'list_zone') {
          assert.deepEqual(await svc.invoke(acme, name, params), []);
          continue;
        }
        const e = await rejection(() => svc.invoke(acme, name, params), name);
        assert.ok(e instanceof svc.ZoneNotFound, `${name}: ${e.message}`);
      }
      assert.equal(await dump(s), before);
    });

    test('InvalidParams names the field; nothing changed', async () => {
      const z = 'a.acme.test';
      const good = { action: 'add', name: 'www', type: 'A', rdata: '192.0.2.80' };
      const cases: [string, unknown, string][] = [
        ['list_zi', { zone: 5 }, 'zone'],
        ['show_zi', { zone: z, zi: 'newest' }, 'zi'],
        ['load_zone', { zone: 'x.acme.test' }, 'text'],
        ['load_zones', { zones: [] }, 'zones'],
        ['load_zones', { zones: [{ zone: 'x.test', text: TEXT }, { zone: 'y.test', text: 1 }] }, 'zones[1].text'],
        ['copy_zone', { zone: z, to: '' }, 'to'],
        ['copy_zi', { zone: z, zi: 0 }, 'zi'],
        ['publish_zi', { zone: z }, 'zi'],
        ['delete_zi', { zone: z, zi: 'latest' }, 'zi'],
        ['update_zone_text', { zone: z, text: TEXT, token: 'v:1:x', baseVersion: 1 }, 'baseVersion'],
        ['edit_zone', { zone: z, timeoutSec: -1 }, 'timeoutSec'],
        ['tickle_editlock', { zone: z }, 'token'],
        ['cancel_edit_zone', { zone: z, token: '' }, 'token'],
        ['clear_edit_lock', {}, 'zone'],
        ['diff_zones', { zone: z }, 'zone2'],
        ['diff_zi', { zone: z, zi: -1 }, 'zi'],
        ['poke_zone_set_serial', { zone: z, serial: 2 ** 32 }, 'serial'],
        ['poke_zone_set_serial', { zone: z, serial: 5, today: true }, 'today'],
        ['poke_zone_wrap_serial', { zone: '' }, 'zone'],
        ['nuke_zone', { zoneId: 'x' }, 'zoneId'],
        ['refresh_zone', { zone: ['a.acme.test'] }, 'zone'],
        ['update_rrs', { zone: z, records: [] }, 'records'],
        ['update_rrs', { zone: z, records: [good, { ...good, rdata: '192.0.2.1\nevil A 192.0.2.2' }] }, 'records[1].rdata'],
        ['update_rrs', { zone: z, records: [good, { ...good, action: 'upsert' }] }, 'records[1].action'],
        ['update_rrs', { zone: z, records: [good, { ...good, ttl: -1 }] }, 'records[1].ttl'],
        // These pass the schema and fail the zone-file checks: still InvalidParams with the record's path.
        ['update_rrs', { zone: z, records: [good, { ...good, rdata: '192.0.2.300' }] }, 'records[1].rdata'],
        ['update_rrs', { zone: z, records: [good, good, { ...good, type: 'NOPE' }] }, 'records[2].type'],
        ['update_rrs', { zone: z, records: [{ ...good, name: 'www.elsewhere.test.' }] }, 'records[0].name'],
        ['update_rrs', { zone: z, records: [{ ...good, type: 'SOA', rdata: 'a b 1 2 3 4 5' }] }, 'records[0].type'],
        ['update_rrs', { zone: z, records: [{ ...good, action: 'replace', rdata: undefined }] }, 'records[0].rdata'],
        ['update_rrs', { zone: z, records: [good, { ...good, rdata: '192.0.2.81', ttl: 60 }, { ...good, ttl: 120 }] }, 'records[2].ttl'],
        // Type ANY only deletes everything at a name: not added, not deleted by its data.
        ['update_rrs', { zone: z, records: [good, { ...good, type: 'ANY' }] }, 'records[1].type'],
        ['update_rrs', { zone: z, records: [{ action: 'delete', name: 'www', type: 'ANY', rdata: '192.0.2.1' }] }, 'records[0].type'],
      ];
      const before = await dump(s);
      for (const [name, params, path] of cases) {
        const e = await rejection(() => svc.invoke(admin, name, params), `${name} ${path}`);
        assert.ok(e instanceof svc.InvalidParams, `${name}: ${e.message}`);
        assert.ok(
          e.problems.some((p) => p.path === path),
          `${name}: expected a problem at ${path}, got ${JSON.stringify(e.problems)}`,
        );
      }
      assert.equal(await dump(s), before);
    });

    test('list_zi, show_zi, update_zone_text (base version), copy_zi, publish_zi, delete_zi, diff_zi', async () => {
      const z = 'a.acme.test';
      const listed = await svc.call(acme, 'list_zi', { zone: z });
      assert.equal(listed.zone.name, 'a.acme.test.');
      const base = listed.zone.latestVersion;
      assert.deepEqual(listed.zis.map((x) => x.version), [base]);
      const saved = await svc.call(acme, 'update_zone_text', { zone: z, text: `${TEXT}www A 192.0.2.7\n`, baseVersion: base });
      assert.equal(saved.changed, true);
      assert.equal(saved.version, base + 1);
      // The same base again: someone (we) saved meanwhile.
      const before = await dump(s);
      const stale = await rejection(
        () => svc.call(acme, 'update_zone_text', { zone: z, text: `${TEXT}www A 192.0.2.8\n`, baseVersion: base }),
        'stale base',
      );
      assert.ok(stale instanceof svc.EditConflict, stale.message);
      const bad = await rejection(() => svc.call(acme, 'update_zone_text', { zone: z, text: `${TEXT}www A 192.0.2.300\n` }), 'bad text');
      assert.ok(bad instanceof svc.ZoneValidationFailed, bad.message);
      assert.equal(await dump(s), before);

      const shown = await svc.call(acme, 'show_zi', { zone: z, zi: base });
      assert.equal(shown.zi.version, base);
      assert.equal(shown.zi.published, false);
      assert.equal((await svc.call(acme, 'show_zi', { zone: z })).zi.version, base + 1);
      assert.equal(
        (await rejection(() => svc.call(acme, 'show_zi', { zone: z, zi: 999 }), 'missing zi')).code,
        'ZI_NOT_FOUND',
      );

      const copied = await svc.call(acme, 'copy_zi', { zone: z, zi: base });
      assert.equal(copied.version, base + 2);
      assert.doesNotMatch(textOf(await svc.call(acme, 'show_zone', { zone: z })), /192\.0\.2\.7/);
      const republished = await svc.call(acme, 'publish_zi', { zone: z, zi: base + 1 });
      assert.equal(republished.version, base + 3);
      assert.match(textOf(await svc.call(acme, 'show_zone', { zone: z })), /192\.0\.2\.7/);

      const d = await svc.call(acme, 'diff_zi', { zone: z, zi: base, zi2: base + 1 });
      assert.deepEqual([d.from.zi, d.to.zi], [base, base + 1]);
      assert.equal(d.diff, svc.unifiedDiff(d.from.text, d.to.text, `${z}. (zi ${base})`, `${z}. (zi ${base + 1})`));
      assert.match(d.diff, /^\+www\s+300\s+IN\s+A\s+192\.0\.2\.7$/m);
      assert.equal((await svc.call(acme, 'diff_zi', { zone: z })).diff, '');

      // Deleting history is staff work; the published and the newest ZI stay.
      await svc.call(help, 'delete_zi', { zone: z, zi: base });
      assert.ok(!(await svc.call(acme, 'list_zi', { zone: z })).zis.some((x) => x.version === base));
      const kept = await dump(s);
      assert.equal(
        (await rejection(() => svc.call(help, 'delete_zi', { zone: z, zi: base + 3 }), 'published')).code,
        'INVALID_ARGUMENT',
      );
      assert.equal(await dump(s), kept);
    });

    test('edit_zone, tickle_editlock, cancel_edit_zone, clear_edit_lock, update_zone_text with the token', async () => {
      const z = 'a.acme.test';
      // Without edit_lock the token only carries the base version.
      const open = await svc.call(acme, 'edit_zone', { zone: z });
      assert.equal(open.lock, null);
      assert.equal(open.baseVersion, open.zi.version);
      const saved = await svc.call(acme, 'update_zone_text', { zone: z, text: `${textOf(open)}edited A 192.0.2.10\n`, token: open.token });
      assert.equal(saved.version, open.baseVersion + 1);
      const before = await dump(s);
      const again = await rejection(
        () => svc.call(acme, 'update_zone_text', { zone: z, text: `${textOf(open)}twice A 192.0.2.11\n`, token: open.token }),
        'second save with the old token',
      );
      assert.ok(again instanceof svc.EditConflict, again.message);
      assert.equal(await dump(s), before);

      await svc.call(admin, 'set_zone', { zone: z, flags: { editLock: true } });
      const locked = await svc.call(acme, 'edit_zone', { zone: z });
      assert.equal(locked.lock?.lockedBy, 'wile@acme');
      const other = await rejection(() => svc.call(help, 'edit_zone', { zone: z }), 'someone else');
      assert.ok(other instanceof svc.EditLockConflict, other.message);
      const tickled = await svc.call(acme, 'tickle_editlock', { zone: z, token: locked.token });
      assert.ok(tickled.expiresAt instanceof Date);
      assert.deepEqual(await svc.call(acme, 'cancel_edit_zone', { zone: z, token: locked.token }), { zone: 'a.acme.test.', cancelled: true });
      assert.equal((await svc.call(acme, 'show_zonesm', { zone: z })).zone.lockedBy, null);

      const third = await svc.call(acme, 'edit_zone', { zone: z });
      assert.deepEqual(await svc.call(help, 'clear_edit_lock', { zone: z }), { zone: 'a.acme.test.', cleared: true });
      const kept = await dump(s);
      const refused = await rejection(
        () => svc.call(acme, 'update_zone_text', { zone: z, text: textOf(third), token: third.token }),
        'token after clear_edit_lock',
      );
      assert.ok(refused instanceof svc.StaleEditToken, refused.message);
      assert.equal(await dump(s), kept);
      await svc.call(admin, 'set_zone', { zone: z, flags: { editLock: false } });
    });

    test('edit_zone and show_zone with format "records", update_zone: a zone edited record by record', async () => {
      const z = 'a.acme.test';
      const open = await svc.call(acme, 'edit_zone', { zone: z, format: 'records' });
      assert.ok(!('text' in open), 'records instead of the text');
      const records = recordsOf(open);
      assert.deepEqual(records[0].name, '@');
      assert.equal(records[0].type, 'SOA', 'the SOA first');
      assert.ok(records.some((r) => r.name === 'ns1' && r.type === 'A' && r.rdata === '192.0.2.1'), JSON.stringify(records));
      // The same ZI as show_zone's text.
      const shown = await svc.call(acme, 'show_zone', { zone: z, zi: open.baseVersion, format: 'records' });
      assert.deepEqual(recordsOf(shown), records);
      assert.deepEqual(recordsOf(await svc.call(acme, 'show_zone_byid', { zoneId: open.zi.zoneId, zi: open.baseVersion, format: 'records' })), records);

      // Bad records: every problem by its path, nothing saved.
      const before = await dump(s);
      const bad = await rejection(
        () =>
          svc.call(acme, 'update_zone', {
            zone: z,
            token: open.token,
            records: [...records, { name: 'x', type: 'A', rdata: '300.1.2.3' }, { name: 'y', type: 'NOPE', rdata: '1' }, { name: 'out.example.', type: 'A', rdata: '192.0.2.9' }],
          }),
        'bad records',
      );
      assert.equal(bad.code, 'INVALID_PARAMS');
      const paths = ((bad as svc.InvalidParams).problems ?? []).map((p) => p.path);
      assert.deepEqual(paths, [`records[${records.length}].rdata`, `records[${records.length + 1}].type`], bad.message);
      const outside = await rejection(
        () => svc.call(acme, 'update_zone', { zone: z, token: open.token, records: [...records, { name: 'out.example.', type: 'A', rdata: '192.0.2.9' }] }),
        'out of zone',
      );
      assert.equal(outside.code, 'ZONE_VALIDATION_FAILED', outside.message);
      assert.equal(await dump(s), before);

      // One record more (a comment, a group, FORCEREV, no TTL: the zone's default), one less, one TTL changed.
      const edited = [
        ...records.filter((r) => !(r.name === 'edited' && r.type === 'A')).map((r) => (r.name === 'ns1' && r.type === 'A' ? { ...r, ttl: 900 } : r)),
        { name: 'web', type: 'AAAA', rdata: '2001:db8::80', comment: 'the web server', group: 'hosts', forceRev: true },
        { name: 'txt', type: 'TXT', rdata: '"v=spf1 -all"', ttl: 60, disabled: true },
      ];
      const saved = await svc.call(acme, 'update_zone', { zone: z, token: open.token, records: edited, comment: 'by records' });
      assert.equal(saved.version, open.baseVersion + 1);
      const after = await svc.call(acme, 'show_zone', { zone: z, format: 'records' });
      const got = recordsOf(after);
      const web = got.find((r) => r.name === 'web');
      assert.deepEqual(web, { name: 'web', ttl: 300, type: 'AAAA', rdata: '2001:db8::80', comment: 'the web server', group: 'hosts', forceRev: true });
      assert.deepEqual(got.find((r) => r.name === 'txt'), { name: 'txt', ttl: 60, type: 'TXT', rdata: '"v=spf1 -all"', disabled: true });
      assert.equal(got.find((r) => r.name === 'ns1' && r.type === 'A')?.ttl, 900);
      assert.ok(!got.some((r) => r.name === 'edited'), 'the record left out is gone');
      const text = textOf(await svc.call(acme, 'show_zone', { zone: z }));
      assert.match(text, /;!DISABLE/);
      assert.match(text, /;# the web server/);

      // Against a base version: a stale one is refused; the records saved again change nothing.
      const stale = await rejection(() => svc.call(acme, 'update_zone', { zone: z, baseVersion: open.baseVersion, records: got }), 'stale base');
      assert.ok(stale instanceof svc.EditConflict, stale.message);
      const same = await svc.call(acme, 'update_zone', { zone: z, baseVersion: saved.version, records: got });
      assert.equal(same.changed, false);
      // Another tenant's zone is not there for a customer.
      const hidden = await rejection(() => svc.call(acme, 'update_zone', { zone: 'b1.test', records: got }), 'other tenant');
      assert.equal(hidden.code, 'ZONE_NOT_FOUND');
    });

    test('load_zone, copy_zone, diff_zones: customers create zones carrying their tag', async () => {
      const loaded = await svc.call(acme, 'load_zone', { zone: 'loaded.acme.test', text: `${TEXT}www A 192.0.2.20\n` });
      assert.deepEqual([loaded.name, loaded.sectags], ['loaded.acme.test.', ['acme']]);
      const copy = await svc.call(acme, 'copy_zone', { zone: 'loaded.acme.test', to: 'copy.acme.test' });
      assert.deepEqual([copy.name, copy.sectags], ['copy.acme.test.', ['acme']]);
      const d = await svc.call(acme, 'diff_zones', { zone: 'loaded.acme.test', zone2: 'copy.acme.test' });
      assert.equal(d.from.zone, 'loaded.acme.test.');
      assert.equal(d.to.zone, 'copy.acme.test.');
      assert.equal(d.diff, svc.unifiedDiff(d.from.text, d.to.text, `loaded.acme.test. (zi ${d.from.zi})`, `copy.acme.test. (zi ${d.to.zi})`));
      const before = await dump(s);
      const exists = await rejection(() => svc.call(acme, 'load_zone', { zone: 'copy.acme.test', text: TEXT }), 'exists');
      assert.ok(exists instanceof svc.ZoneExists);
      const broken = await rejection(() => svc.call(acme, 'load_zone', { zone: 'broken.acme.test', text: 'www A 192.0.2.300\n' }), 'bad');
      assert.ok(broken instanceof svc.ZoneValidationFailed);
      assert.equal(await dump(s), before);
    });

    test('load_zones: one call for the batch, failures reported per zone, the reference made in each zone transaction', async () => {
      const before = await dump(s);
      // Every zone fails: the reference named with createReference is not left behind.
      const none = await svc.call(admin, 'load_zones', {
        zones: [
          { zone: 'bad1.test', text: 'www A 192.0.2.300\n' },
          { zone: 'a.acme.test', text: TEXT },
        ],
        reference: 'batchref',
        createReference: true,
      });
      assert.deepEqual(none.map((r) => [r.name, r.action, r.error?.code]), [
        ['bad1.test.', 'failed', 'ZONE_VALIDATION_FAILED'],
        ['a.acme.test.', 'failed', 'ZONE_EXISTS'],
      ]);
      assert.equal(none[0].error?.problems?.[0].line, 1);
      assert.equal(await dump(s), before);

      const r = await svc.call(admin, 'load_zones', {
        zones: [
          { zone: 'b1.test', text: TEXT },
          { zone: 'bad2.test', text: '@ CNAME x\n@ A 192.0.2.1\n' },
          { zone: 'b2.test', text: TEXT },
        ],
        reference: 'batchref',
        createReference: true,
      });
      assert.deepEqual(r.map((x) => [x.name, x.action]), [
        ['b1.test.', 'created'],
        ['bad2.test.', 'failed'],
        ['b2.test.', 'created'],
      ]);
      assert.equal((await svc.call(admin, 'show_zonesm', { zone: 'b2.test' })).zone.reference, 'batchref');
      // stopOnError: nothing after the first failure is looked at.
      const stopped = await svc.call(admin, 'load_zones', {
        zones: [
          { zone: 'b3.test', text: TEXT },
          { zone: 'b1.test', text: TEXT },
          { zone: 'b4.test', text: TEXT },
        ],
        stopOnError: true,
      });
      assert.deepEqual(stopped.map((x) => [x.name, x.action]), [
        ['b3.test.', 'created'],
        ['b1.test.', 'failed'],
      ]);
      assert.equal((await rejection(() => svc.call(admin, 'show_zonesm', { zone: 'b4.test' }), 'b4')).code, 'ZONE_NOT_FOUND');
    });

    test('poke_zone_set_serial (given, next, today) and poke_zone_wrap_serial', async () => {
      const z = 'b1.test';
      const start = (await svc.call(admin, 'show_zi', { zone: z })).zi.soaSerial;
      const next = (await svc.call(admin, 'poke_zone_set_serial', { zone: z })).serial;
      assert.equal(next, svc.nextSerial(start, new Date()));
      assert.equal((await svc.call(admin, 'poke_zone_set_serial', { zone: z, serial: next + 10 })).serial, next + 10);
      const before = await dump(s);
      assert.equal((await rejection(() => svc.call(admin, 'poke_zone_set_serial', { zone: z, serial: 1 }), 'older')).code, 'SERIAL_INVALID');
      assert.equal(await dump(s), before);
      // today: the operation's clock decides (UTC), and within today's block the serial just moves on.
      const clocked = ctxOf(s, 'admin@test/Admin', { clock: manualClock(Date.UTC(2099, 0, 2, 23, 30)) });
      assert.equal((await svc.call(clocked, 'poke_zone_set_serial', { zone: z, today: true })).serial, 2099010200);
      assert.equal((await svc.call(clocked, 'poke_zone_set_serial', { zone: z, today: true })).serial, 2099010201);
      const wrapped = await svc.call(admin, 'poke_zone_wrap_serial', { zone: z });
      assert.equal(wrapped.serial, (2099010201 + 2 ** 31 - 1) % 2 ** 32);
    });

    test('update_rrs: add, delete and replace records and RRsets, against the expected serial', async () => {
      const z = 'b2.test';
      /** "owner ttl TYPE rdata" of the newest ZI, SOA left out. */
      const rrs = async () =>
        (await svc.getZoneContent(admin, z, 'latest')).records
          .slice(1)
          .map((r) => `${r.name.toString()} ${r.ttl} ${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}`)
          .sort();
      const serial0 = (await svc.call(admin, 'show_zi', { zone: z, zi: 'latest' })).zi.soaSerial;
      const r1 = await svc.call(admin, 'update_rrs', {
        zone: z,
        serial: serial0,
        records: [
          { action: 'add', name: 'www', type: 'A', rdata: '192.0.2.1' },
          { action: 'add', name: 'www', type: 'A', rdata: '192.0.2.2', ttl: 600 },
          { action: 'add', name: '@', type: 'MX', rdata: '10 mail' },
          { action: 'add', name: 'mail.b2.test.', type: 'AAAA', rdata: '2001:db8::25' },
          { action: 'add', name: 'txt', type: 'TXT', rdata: '"v=spf1 -all" "two; strings"' },
        ],
      });
      assert.equal(r1.changed, true);
      // One TTL for the RRset: the later ttl applies to both www A records.
      assert.deepEqual(await rrs(), [
        'b2.test. 300 MX 10 mail.b2.test.',
        'b2.test. 300 NS ns1.b2.test.',
        'mail.b2.test. 300 AAAA 2001:db8::25',
        'ns1.b2.test. 300 A 192.0.2.1',
        'txt.b2.test. 300 TXT "v=spf1 -all" "two; strings"',
        'www.b2.test. 600 A 192.0.2.1',
        'www.b2.test. 600 A 192.0.2.2',
      ]);

      const before = await dump(s);
      const conflict = await rejection(
        () => svc.call(admin, 'update_rrs', { zone: z, serial: serial0, records: [{ action: 'delete', name: 'www', type: 'A' }] }),
        'old serial',
      );
      assert.ok(conflict instanceof svc.SerialConflict && conflict.code === 'EDIT_CONFLICT', conflict.message);
      const invalid = await rejection(
        () => svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'add', name: 'www', type: 'CNAME', rdata: 'elsewhere.test.' }] }),
        'CNAME and other data',
      );
      assert.ok(invalid instanceof svc.ZoneValidationFailed, invalid.message);
      const lonely = await rejection(
        () => svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'delete', name: 'mail', type: 'AAAA' }] }),
        'MX target without address',
      );
      assert.ok(lonely instanceof svc.ZoneValidationFailed, lonely.message);
      assert.equal(await dump(s), before);

      await svc.call(admin, 'update_rrs', {
        zone: z,
        serial: r1.serial,
        records: [
          { action: 'delete', name: 'www', type: 'A', rdata: '192.0.2.1' },
          { action: 'replace', name: 'txt', type: 'TXT', rdata: '"replaced"' },
          { action: 'delete', name: 'nothing-here', type: 'A' },
        ],
      });
      const after = await rrs();
      assert.ok(after.includes('www.b2.test. 600 A 192.0.2.2') && !after.includes('www.b2.test. 600 A 192.0.2.1'), `${after}`);
      assert.ok(after.includes('txt.b2.test. 300 TXT "replaced"') && !after.some((l) => l.includes('v=spf1')), `${after}`);
      await svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'delete', name: 'www', type: 'A' }] });
      assert.ok(!(await rrs()).some((l) => l.startsWith('www.')));
      // Nothing to do: no new ZI.
      const same = await svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'delete', name: 'www', type: 'A' }] });
      assert.equal(same.changed, false);
      // Type ANY: every RRset at a name; at the apex the NS set stays (RFC 2136 §3.4.2.3), and the SOA.
      await svc.call(admin, 'update_rrs', {
        zone: z,
        records: [
          { action: 'add', name: 'multi', type: 'A', rdata: '192.0.2.7' },
          { action: 'add', name: 'multi', type: 'TXT', rdata: '"x"' },
          { action: 'delete', name: '@', type: 'MX' },
        ],
      });
      await svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'delete', name: 'multi', type: 'ANY' }, { action: 'add', name: '@', type: 'TXT', rdata: '"apex"' }] });
      assert.ok(!(await rrs()).some((l) => l.startsWith('multi.')), 'every RRset at multi deleted');
      await svc.call(admin, 'update_rrs', { zone: z, records: [{ action: 'delete', name: '@', type: 'ANY' }] });
      const apex = (await rrs()).filter((l) => l.startsWith('b2.test. '));
      assert.deepEqual(apex, ['b2.test. 300 NS ns1.b2.test.']);
      assert.equal((await svc.call(admin, 'show_zi', { zone: z, zi: 'latest' })).zi.soaSerial > r1.serial, true);
    });

    test('flags: null sets the configured default (zone_tool def_flag), for set_zone and new zones', async () => {
      await svc.setConfig(admin, 'inc_updates', 'true');
      await svc.call(admin, 'set_zone', { zone: 'b2.test', flags: { incUpdates: false, nsec3: true } });
      const z = await svc.call(admin, 'set_zone', { zone: 'b2.test', flags: { incUpdates: null, nsec3: null } });
      assert.deepEqual([z.flags.incUpdates, z.flags.nsec3], [true, false]);
      const created = await svc.call(admin, 'load_zone', { zone: 'flags.test', text: TEXT, flags: { incUpdates: null, nsec3: true } });
      assert.deepEqual([created.flags.incUpdates, created.flags.nsec3], [true, true]);
      await svc.setConfig(admin, 'inc_updates', 'false');
      const bad = await rejection(() => svc.invoke(admin, 'set_zone', { zone: 'b2.test', flags: { nsec3: 'default' } }), 'bad flag');
      assert.ok(bad instanceof svc.InvalidParams && bad.problems.some((p) => p.path === 'flags.nsec3'), bad.message);
    });

    test('list_zone reports an unknown reference or server group filter; nuke_zone removes a zone for good', async () => {
      assert.ok((await rejection(() => svc.call(admin, 'list_zone', { reference: 'no-such-ref' }), 'ref')) instanceof svc.ReferenceNotFound);
      assert.equal((await rejection(() => svc.call(admin, 'list_zone', { sg: 'no-such-sg' }), 'sg')).code, 'SG_NOT_FOUND');
      assert.deepEqual((await svc.call(admin, 'list_zone', { reference: 'batchref', pattern: 'nomatch*' })), []);
      const id = (await svc.call(admin, 'show_zonesm', { zone: 'b3.test' })).zone.id;
      assert.deepEqual(await svc.call(admin, 'nuke_zone', { zoneId: id }), { zoneId: id, zone: 'b3.test.', destroyed: true });
      assert.deepEqual(await svc.call(admin, 'list_zone', { pattern: 'b3.test', which: 'all' }), []);
    });

    test('list_zone by state: one state or several, paged in name order, within the tenant; DELETED lists deleted zones', async () => {
      const make = async (name: string, ctx = admin) => svc.call(ctx, 'load_zone', { zone: name, text: TEXT });
      for (const n of ['st-a.test', 'st-b.test', 'st-c.test', 'st-d.test', 'st-e.test', 'st-f.test']) await make(n);
      await make('st-g.acme.test', acme);
      await svc.call(admin, 'disable_zone', { zone: 'st-b.test' });
      await svc.call(admin, 'disable_zone', { zone: 'st-e.test' });
      await svc.call(admin, 'update_zone_text', { zone: 'st-c.test', text: `${TEXT}www A 192.0.2.9\n`, publish: false });
      await svc.call(acme, 'update_zone_text', { zone: 'st-g.acme.test', text: `${TEXT}www A 192.0.2.9\n`, publish: false });
      await svc.call(admin, 'delete_zone', { zone: 'st-f.test' });
      const names = async (ctx: svc.ServiceContext, p: Record<string, unknown>) =>
        ((await svc.call(ctx, 'list_zone', { pattern: 'st-*', ...p })) as { name: string; state: string }[]).map((z) => `${z.name}:${z.state}`);
      assert.deepEqual(await names(admin, { state: 'DISABLED' }), ['st-b.test.:DISABLED', 'st-e.test.:DISABLED']);
      assert.deepEqual(await names(admin, { state: 'UPDATE' }), ['st-c.test.:UPDATE', 'st-g.acme.test.:UPDATE']);
      assert.deepEqual(await names(admin, { state: ['PUBLISHED'] }), ['st-a.test.:PUBLISHED', 'st-d.test.:PUBLISHED']);
      assert.deepEqual(await names(admin, { state: 'DELETED' }), ['st-f.test.:DELETED']);
      // Several states: one list in name order, paged by the cursor.
      const want = ['st-a.test.:PUBLISHED', 'st-b.test.:DISABLED', 'st-d.test.:PUBLISHED', 'st-e.test.:DISABLED', 'st-f.test.:DELETED'];
      assert.deepEqual(await names(admin, { state: ['PUBLISHED', 'DISABLED', 'DELETED'] }), want);
      const pages: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await names(admin, { state: ['DELETED', 'DISABLED', 'PUBLISHED'], limit: 2, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        pages.push(...page);
        after = page[page.length - 1].split(':')[0];
      }
      assert.deepEqual(pages, want, 'paged by two');
      // With the other filters, and within the tenant: the customer sees only its own.
      assert.deepEqual(await names(admin, { state: 'UPDATE', sg: 'default' }), ['st-c.test.:UPDATE', 'st-g.acme.test.:UPDATE']);
      assert.deepEqual(await names(admin, { state: ['UPDATE', 'PUBLISHED'], pattern: 'st-?.test' }), ['st-a.test.:PUBLISHED', 'st-c.test.:UPDATE', 'st-d.test.:PUBLISHED']);
      assert.deepEqual(await names(acme, { state: ['UPDATE', 'DISABLED'] }), ['st-g.acme.test.:UPDATE']);
      assert.deepEqual(await names(acme, { state: 'DISABLED' }), []);
      const bad = await rejection(() => svc.call(admin, 'list_zone', { state: 'LIVE' } as never), 'bad state');
      assert.match(bad.message, /state/);
    });

    test('refresh_zone: the apex from the server group, the servers told again', async () => {
      await svc.updateServerGroup(admin, 'default', { apexNs: ['ns-c.example.net.'] });
      await svc.call(admin, 'set_zone', { zone: 'b1.test', flags: { useApexNs: true } });
      assert.match(textOf(await svc.call(admin, 'show_zone', { zone: 'b1.test' })), /NS\s+ns-c\.example\.net\./);
      // Already following its group: no new ZI, but the change feed tells dmsd (and so the servers) again.
      const seq = await svc.currentChangeSeq(admin);
      const r = await svc.call(help, 'refresh_zone', { zone: 'b1.test' });
      assert.equal(r.changed, false);
      assert.ok((await svc.currentChangeSeq(admin)) > seq);
    });
  });
