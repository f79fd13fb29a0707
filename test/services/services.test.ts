// The management rules on both backends (fresh SQLite file and fresh PostgreSQL database per suite).

import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import * as svc from '../../src/services/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { testBackends } from '../helpers/postgres.js';
import { ctxOf } from '../helpers/context.js';
import { dumpTables } from '../helpers/dump.js';

const { backends } = testBackends();

const admin = 'admin@test/Admin';

/** Every row of every table, for "a failing save stores nothing". */
const dump = (store: Store) =>
  dumpTables(store, [
    'server_groups', 'zone_references', 'sectags', 'zones', 'zone_sectags', 'zone_instances', 'records', 'config',
    'events', 'zone_changes',
  ]);

/** "owner TYPE rdata" lines of the served zone, sorted. */
function lines(records: { name: Name; type: number; rdata: Uint8Array }[]): string[] {
  return records.map((r) => `${r.name.key} ${RRType.SOA === r.type ? 'SOA' : r.type} ${rdataToText(r.type, r.rdata)}`).sort();
}

function zoneText(origin: string, body: string): string {
  return `$ORIGIN ${origin}\n$TTL 3600\n@ IN SOA ns1.${origin} hostmaster.${origin} 1 600 600 604800 600\n@ IN NS ns1.${origin}\nns1 IN A 192.0.2.1\n${body}\n`;
}

for (const backend of backends) {
  describe(`services on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
      // Zones in these tests carry their own apex unless a test says otherwise.
      await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
      await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
    });
    after(async () => {
      await s?.close();
    });

    test('create_zone: published at version 1 with a YYYYMMDDnn serial, SOA and apex from config/SG', async () => {
      const z = await svc.createZone(ctxOf(s, admin), 'Example.COM', { flags: { useApexNs: true } });
      assert.equal(z.name, 'example.com.');
      assert.equal(z.state, 'PUBLISHED');
      assert.equal(z.publishedVersion, 1);
      assert.equal(z.sg, 'default');
      assert.equal(z.soaSerial, svc.dateSerial(new Date()));
      const pub = await svc.loadPublishedZone(ctxOf(s), 'example.com');
      assert.ok(pub);
      assert.equal(pub.serial, z.soaSerial);
      assert.equal(pub.records[0].type, RRType.SOA);
      assert.deepEqual(lines(pub.records.filter((r) => r.type === RRType.NS)), ['example.com. 2 ns1.dms.invalid.']);
      await assert.rejects(svc.createZone(ctxOf(s, admin), 'example.com.'), svc.ZoneExists);
      await assert.rejects(svc.createZone(ctxOf(s, admin), 'bad..name'), svc.BadZoneName);
      await assert.rejects(svc.createZone(ctxOf(s, admin), '*.wild.test'), svc.BadZoneName);
      // Without use_apex_ns and without records, a new zone still starts with its server group's apex.
      const bare = await svc.createZone(ctxOf(s, admin), 'bare.test');
      assert.equal(bare.flags.useApexNs, false);
      assert.deepEqual(lines(((await svc.loadPublishedZone(ctxOf(s), 'bare.test'))?.records ?? []).filter((r) => r.type === RRType.NS)), ['bare.test. 2 ns1.dms.invalid.']);
      const rev = await svc.createZone(ctxOf(s, admin), svc.operatorZoneName('192.0.2.0/24'), { flags: { useApexNs: true } });
      assert.equal(rev.name, '2.0.192.in-addr.arpa.');
      assert.equal(svc.cidrToReverseZone('2001:db8:1::/48'), '1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
    });

    test('saving text makes a new version; the diff between versions is the records born and died', async () => {
      await svc.createZone(ctxOf(s, admin), 'diff.test', { text: zoneText('diff.test.', 'www IN A 192.0.2.10\nold IN A 192.0.2.11') });
      const v1 = await svc.getZone(ctxOf(s), 'diff.test');
      const r = await svc.saveZoneText(ctxOf(s, admin), 'diff.test', zoneText('diff.test.', ';# a comment now\nwww IN A 192.0.2.10\nnew IN AAAA 2001:db8::1'));
      assert.equal(r.changed, true);
      assert.equal(r.version, 2);
      assert.ok(svc.serialGt(r.serial, v1.soaSerial as number));
      const d = await svc.diffVersions(ctxOf(s), 'diff.test', 1, 2);
      assert.deepEqual(lines(d.removed), ['old.diff.test. 1 192.0.2.11']);
      assert.equal(d.added.length, 1);
      assert.equal(d.added[0].type, RRType.AAAA);
      assert.equal(d.fromSoa.type, RRType.SOA);
      assert.equal(d.from.serial, v1.soaSerial);
      // By serial (IXFR asks with the client's serial), and backwards.
      const bySerial = await svc.diffVersions(ctxOf(s), 'diff.test', { serial: v1.soaSerial as number });
      assert.deepEqual(lines(bySerial.removed), lines(d.removed));
      const back = await svc.diffVersions(ctxOf(s), 'diff.test', 2, 1);
      assert.deepEqual(lines(back.added), lines(d.removed));
      assert.deepEqual(lines(back.removed), lines(d.added));
      // The comment survived as data of the record.
      const c = await svc.getZoneContent(ctxOf(s), 'diff.test');
      assert.equal(c.records.find((x) => x.name.key === 'www.diff.test.')?.comment, 'a comment now');
      // Saving the same content again stores nothing.
      const same = await svc.saveZoneText(ctxOf(s, admin), 'diff.test', await svc.getZoneText(ctxOf(s), 'diff.test'));
      assert.equal(same.changed, false);
      assert.equal((await svc.listZis(ctxOf(s), 'diff.test')).length, 2);
      await assert.rejects(svc.diffVersions(ctxOf(s), 'diff.test', { serial: 12345 }), svc.ZiNotFound);
    });

    test('a failing save stores nothing (full dump before and after)', async () => {
      await svc.createZone(ctxOf(s, admin), 'valid.test', { text: zoneText('valid.test.', 'www IN A 192.0.2.10') });
      const before = await dump(s);
      const bad = [
        'www IN CNAME elsewhere.example.\nwww IN TXT "x"', // CNAME and other data
        'mail IN MX 10 nomail', // in-zone MX target without address
        'srv IN SRV 0 0 25 nohost', // in-zone SRV target without address
        'deleg IN NS ns.deleg', // in-zone NS target without glue
        'outside.example. IN A 192.0.2.1', // out of zone
        '@ IN SOA a. b. 2 1 1 1 1', // second SOA
        'sub IN SOA a. b. 2 1 1 1 1', // SOA below the apex
        'www IN A 999.1.1.1', // syntax
      ];
      for (const body of bad) {
        await assert.rejects(svc.saveZoneText(ctxOf(s, admin), 'valid.test', zoneText('valid.test.', body)), (e: unknown) => {
          assert.ok(e instanceof svc.ZoneValidationFailed, `${body}: ${e}`);
          assert.ok(e.problems.some((p) => p.severity === 'error'));
          return true;
        });
      }
      // No apex NS at all.
      await assert.rejects(
        svc.saveZoneText(ctxOf(s, admin), 'valid.test', '$ORIGIN valid.test.\n@ 3600 IN SOA a. b. 1 1 1 1 1\nwww 3600 IN A 192.0.2.1\n'),
        svc.ZoneValidationFailed,
      );
      await assert.rejects(svc.createZone(ctxOf(s, admin), 'newbad.test', { text: zoneText('newbad.test.', 'x IN MX 1 y') }), svc.ZoneValidationFailed);
      assert.equal(await dump(s), before);
    });

    test('edit lock: token, conflict for the second editor, stale and foreign tokens refused', async () => {
      await svc.createZone(ctxOf(s, admin), 'lock.test', { flags: { editLock: true }, text: zoneText('lock.test.', 'www IN A 192.0.2.10') });
      const alice = await svc.editZone(ctxOf(s, 'alice'), 'lock.test');
      assert.ok(alice.expiresAt && alice.expiresAt.getTime() > Date.now() + 29 * 60_000, 'default timeout 30 min');
      assert.match(alice.text, /www/);
      await assert.rejects(svc.editZone(ctxOf(s, 'bob'), 'lock.test'), svc.EditLockConflict);
      // Other writers are refused while the lock is held (the original's inc-update lock check never fired).
      await assert.rejects(svc.changeZone(ctxOf(s, 'tsig-key.'), 'lock.test', (r) => r), svc.EditLockConflict);
      const z = await svc.getZone(ctxOf(s), 'lock.test');
      assert.equal(z.lockedBy, 'alice');
      const tickled = await svc.tickleEditLock(ctxOf(s), 'lock.test', alice.token);
      assert.ok(tickled && tickled.getTime() >= (alice.expiresAt as Date).getTime());
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, admin), 'lock.test', 'deadbeef', { text: alice.text }), svc.StaleEditToken);
      const saved = await svc.saveZoneEdit(ctxOf(s, 'alice'), 'lock.test', alice.token, { text: alice.text.replace('192.0.2.10', '192.0.2.20') });
      assert.equal(saved.changed, true);
      assert.equal(saved.published, true);
      assert.equal((await svc.getZone(ctxOf(s), 'lock.test')).lockedBy, null);
      // The same token again: the lock is gone.
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, admin), 'lock.test', alice.token, { text: alice.text }), svc.StaleEditToken);
      // An expired lock.
      const short = await svc.editZone(ctxOf(s, 'alice'), 'lock.test', { timeoutSec: 0.05 });
      await new Promise((r) => setTimeout(r, 120));
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, admin), 'lock.test', short.token, { text: short.text }), (e: unknown) => {
        assert.ok(e instanceof svc.StaleEditToken);
        assert.match(e.message, /expired/);
        return true;
      });
      // Expired: bob may now take it; alice's cleared lock then refuses her token.
      const bob = await svc.editZone(ctxOf(s, 'bob'), 'lock.test');
      await svc.clearEditLock(ctxOf(s), 'lock.test');
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, admin), 'lock.test', bob.token, { text: bob.text }), svc.StaleEditToken);
      // A failed validation keeps the lock so the editor can fix and save.
      const carol = await svc.editZone(ctxOf(s, 'carol'), 'lock.test');
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, admin), 'lock.test', carol.token, { text: `${carol.text}\nx IN CNAME y.\nx IN A 192.0.2.9\n` }), svc.ZoneValidationFailed);
      assert.equal((await svc.getZone(ctxOf(s), 'lock.test')).lockedBy, 'carol');
      await svc.cancelEditZone(ctxOf(s), 'lock.test', carol.token);
      assert.equal((await svc.getZone(ctxOf(s), 'lock.test')).lockedBy, null);
    });

    test('two operators racing without a lock: the later save gets EditConflict, nothing is lost', async () => {
      await svc.createZone(ctxOf(s, admin), 'race.test', { text: zoneText('race.test.', 'www IN A 192.0.2.10') });
      const a = await svc.editZone(ctxOf(s, 'a'), 'race.test');
      const b = await svc.editZone(ctxOf(s, 'b'), 'race.test');
      assert.equal(a.expiresAt, null);
      await svc.saveZoneEdit(ctxOf(s, 'a'), 'race.test', a.token, { text: `${a.text}\na IN A 192.0.2.1\n` });
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, 'b'), 'race.test', b.token, { text: `${b.text}\nb IN A 192.0.2.2\n` }), svc.EditConflict);
      await assert.rejects(svc.saveZone(ctxOf(s, 'c'), 'race.test', [], { baseVersion: 1 }), svc.EditConflict);
      const names = (await svc.getZoneContent(ctxOf(s), 'race.test')).records.map((r) => r.name.key);
      assert.ok(names.includes('a.race.test.'));
      assert.ok(!names.includes('b.race.test.'));
    });

    test('operators racing for the edit lock: exactly one gets it; racing saves: exactly one lands', async () => {
      await svc.createZone(ctxOf(s, admin), 'grab.test', { flags: { editLock: true }, text: zoneText('grab.test.', '') });
      const tries = await Promise.allSettled(['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => svc.editZone(ctxOf(s, u), 'grab.test')));
      const won = tries.filter((t) => t.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const t of tries) if (t.status === 'rejected') assert.ok(t.reason instanceof svc.EditLockConflict, String(t.reason));
      const w = (won[0] as PromiseFulfilledResult<svc.EditSession>).value;
      const saves = await Promise.allSettled([1, 2, 3].map((i) => svc.saveZoneEdit(ctxOf(s, admin), 'grab.test', w.token, { text: `${w.text}\nx${i} IN A 192.0.2.${i}\n` })));
      assert.equal(saves.filter((t) => t.status === 'fulfilled').length, 1);
      for (const t of saves) if (t.status === 'rejected') assert.ok(t.reason instanceof svc.StaleEditToken, String(t.reason));
      assert.equal((await svc.listZis(ctxOf(s), 'grab.test')).length, 2);

      await svc.setZoneFlags(ctxOf(s, admin), 'grab.test', { editLock: false });
      const sessions = await Promise.all(['a', 'b', 'c'].map((u) => svc.editZone(ctxOf(s, u), 'grab.test')));
      const racing = await Promise.allSettled(
        sessions.map((e, i) => svc.saveZoneEdit(ctxOf(s, admin), 'grab.test', e.token, { text: `${e.text}\ny${i} IN A 192.0.2.${i}\n` })),
      );
      assert.equal(racing.filter((t) => t.status === 'fulfilled').length, 1);
      for (const t of racing) if (t.status === 'rejected') assert.ok(t.reason instanceof svc.EditConflict, String(t.reason));
    });

    test('concurrent read-modify-write changes all land, serials strictly increase', async () => {
      await svc.createZone(ctxOf(s, admin), 'busy.test', { text: zoneText('busy.test.', '') });
      const n = 8;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          svc.changeZone(
            ctxOf(s, `key${i}.`),
            'busy.test',
            (recs) => [...recs, { name: Name.from(`h${i}.busy.test`), type: RRType.A, class: 1, ttl: 60, rdata: Uint8Array.from([192, 0, 2, i]) }],
          ),
        ),
      );
      const c = await svc.getZoneContent(ctxOf(s), 'busy.test');
      for (let i = 0; i < n; i++) assert.ok(c.records.some((r) => r.name.key === `h${i}.busy.test.`), `h${i} present`);
      const zis = (await svc.listZis(ctxOf(s), 'busy.test')).reverse();
      assert.equal(zis.length, n + 1);
      for (let i = 1; i < zis.length; i++) assert.ok(svc.serialGt(zis[i].soaSerial, zis[i - 1].soaSerial));
      assert.ok(zis.slice(1).every((z) => /^key\d\.$/.test(z.changeBy)));
    });

    test('serial policy: file serial taken when ahead, set/wrap pokes, always increasing', async () => {
      await svc.createZone(ctxOf(s, admin), 'serial.test', { text: zoneText('serial.test.', '').replace(' 1 600', ' 2030010100 600') });
      assert.equal((await svc.getZone(ctxOf(s), 'serial.test')).soaSerial, 2030010100);
      // Edit with an unchanged serial: policy → last + 1 (today's date is behind).
      const e1 = await svc.saveZoneText(ctxOf(s, admin), 'serial.test', zoneText('serial.test.', 'a IN A 192.0.2.1'));
      assert.equal(e1.serial, 2030010101);
      await assert.rejects(svc.pokeZoneSetSerial(ctxOf(s, admin), 'serial.test', 2030010101), svc.SerialInvalid);
      await assert.rejects(svc.pokeZoneSetSerial(ctxOf(s, admin), 'serial.test', 5), svc.SerialInvalid);
      const set = await svc.pokeZoneSetSerial(ctxOf(s, admin), 'serial.test', 2030010500);
      assert.equal(set.serial, 2030010500);
      const inc = await svc.pokeZoneSetSerial(ctxOf(s, admin), 'serial.test', undefined);
      assert.equal(inc.serial, 2030010501);
      const w1 = await svc.pokeZoneWrapSerial(ctxOf(s, admin), 'serial.test');
      assert.equal(w1.serial, (2030010501 + 2 ** 31 - 1) % 2 ** 32);
      // After the wrap step the date-based serial (far "below") is reachable and greater in RFC 1982 terms.
      const after = await svc.saveZoneText(ctxOf(s, admin), 'serial.test', zoneText('serial.test.', 'b IN A 192.0.2.2'));
      assert.equal(after.serial, svc.dateSerial(new Date()));
      const zis = (await svc.listZis(ctxOf(s), 'serial.test')).reverse();
      for (let i = 1; i < zis.length; i++) assert.ok(svc.serialGt(zis[i].soaSerial, zis[i - 1].soaSerial), `${zis[i].soaSerial} > ${zis[i - 1].soaSerial}`);
      // RFC 1982 arithmetic at the edge.
      assert.ok(svc.serialGt(0, 4294967295));
      assert.ok(!svc.serialGt(4294967295, 0));
      assert.equal(svc.nextSerial(4294967295, new Date('2026-01-01')), svc.dateSerial(new Date('2026-01-01')));
      assert.equal(svc.nextSerial(2026010199, new Date('2026-01-01T12:00:00Z')), 2026010200);
    });

    test('the zone reference shows as ;!REF: on the SOA; an edit may keep it but not change it', async () => {
      await svc.createReference(ctxOf(s), 'ref-shown');
      await svc.createZone(ctxOf(s, admin), 'refshow.test', { reference: 'ref-shown', text: zoneText('refshow.test.', 'a IN A 192.0.2.5') });
      const text = await svc.getZoneText(ctxOf(s), 'refshow.test');
      assert.match(text, /^;!REF:ref-shown\n@\s+\d+\s+IN\s+SOA/m);
      const session = await svc.editZone(ctxOf(s, admin), 'refshow.test');
      assert.match(session.text, /^;!REF:ref-shown$/m);
      const before = await svc.listZis(ctxOf(s), 'refshow.test');
      await assert.rejects(
        svc.saveZoneEdit(ctxOf(s, admin), 'refshow.test', session.token, { text: session.text.replace(';!REF:ref-shown', ';!REF:someone-else') }),
        /set_zone_reference/,
      );
      assert.deepEqual(await svc.listZis(ctxOf(s), 'refshow.test'), before, 'nothing stored');
      const saved = await svc.saveZoneEdit(ctxOf(s, admin), 'refshow.test', session.token, { text: session.text.replace('192.0.2.5', '192.0.2.6') });
      assert.equal(saved.changed, true);
      assert.equal((await svc.getZone(ctxOf(s), 'refshow.test')).reference, 'ref-shown');
      await svc.setZoneReference(ctxOf(s), 'refshow.test', null);
      assert.doesNotMatch(await svc.getZoneText(ctxOf(s), 'refshow.test'), /;!REF:/);
    });

    test('copy_zone keeps the source zone TTL and re-roots the owners', async () => {
      await svc.createZone(ctxOf(s, admin), 'ttlsrc.test', { text: zoneText('ttlsrc.test.', 'www IN A 192.0.2.7') });
      const copy = await svc.copyZone(ctxOf(s, admin), 'ttlsrc.test', 'ttlcopy.test');
      assert.equal(copy.name, 'ttlcopy.test.');
      const src = await svc.getZoneContent(ctxOf(s), 'ttlsrc.test');
      const dst = await svc.getZoneContent(ctxOf(s), 'ttlcopy.test');
      assert.equal(src.zi.zoneTtl, 3600);
      assert.equal(dst.zi.zoneTtl, 3600, 'the $TTL of the source, not the configured default');
      assert.ok(dst.records.some((r) => r.name.key === 'www.ttlcopy.test.'));
    });

    test('copy_zi / republish: old content, new serial', async () => {
      await svc.createZone(ctxOf(s, admin), 'copy.test', { text: zoneText('copy.test.', 'v1 IN A 192.0.2.1') });
      await svc.saveZoneText(ctxOf(s, admin), 'copy.test', zoneText('copy.test.', 'v2 IN A 192.0.2.2'));
      const r = await svc.copyZi(ctxOf(s, admin), 'copy.test', 1);
      assert.equal(r.version, 3);
      const pub = await svc.loadPublishedZone(ctxOf(s), 'copy.test');
      assert.ok(pub?.records.some((x) => x.name.key === 'v1.copy.test.'));
      assert.ok(!pub?.records.some((x) => x.name.key === 'v2.copy.test.'));
      const zis = await svc.listZis(ctxOf(s), 'copy.test');
      assert.ok(svc.serialGt(zis[0].soaSerial, zis[1].soaSerial));
      // Unpublished ZI, then publish it.
      const staged = await svc.saveZoneText(ctxOf(s, admin), 'copy.test', zoneText('copy.test.', 'v4 IN A 192.0.2.4'), { publish: false });
      assert.equal(staged.published, false);
      assert.equal((await svc.getZone(ctxOf(s), 'copy.test')).state, 'UPDATE');
      assert.equal((await svc.loadPublishedZone(ctxOf(s), 'copy.test'))?.version, 3);
      await svc.publishZi(ctxOf(s, admin), 'copy.test', 'latest');
      assert.equal((await svc.getZone(ctxOf(s), 'copy.test')).state, 'PUBLISHED');
      assert.equal((await svc.loadPublishedZone(ctxOf(s), 'copy.test'))?.version, 4);
      // publishing an old ZI copies it (serial must not go back)
      const again = await svc.publishZi(ctxOf(s, admin), 'copy.test', 2);
      assert.equal(again.version, 5);
      await assert.rejects(svc.deleteZi(ctxOf(s), 'copy.test', 5), svc.InvalidArgument);
      await svc.deleteZi(ctxOf(s), 'copy.test', 3);
      assert.deepEqual(
        (await svc.listZis(ctxOf(s), 'copy.test')).map((z) => z.version),
        [5, 4, 2, 1],
      );
      const v2 = await svc.getZoneContent(ctxOf(s), 'copy.test', 2);
      assert.ok(v2.records.some((x) => x.name.key === 'v2.copy.test.'));
    });

    test('use_apex_ns: apex NS and SOA mname from the server group, refreshed when the group changes', async () => {
      await svc.createServerGroup(ctxOf(s), 'external', { apexNs: ['ns1.ext.example', 'ns2.ext.example.'], soaMname: 'master.ext.example.' });
      await svc.createZone(ctxOf(s, admin), 'apex.test', { sg: 'external', flags: { useApexNs: true }, text: zoneText('apex.test.', 'www IN A 192.0.2.1') });
      let pub = await svc.loadPublishedZone(ctxOf(s), 'apex.test');
      assert.deepEqual(lines((pub?.records ?? []).filter((r) => r.type === RRType.NS)), ['apex.test. 2 ns1.ext.example.', 'apex.test. 2 ns2.ext.example.']);
      assert.match(rdataToText(RRType.SOA, pub?.records[0].rdata as Uint8Array), /^master\.ext\.example\. /);
      await svc.updateServerGroup(ctxOf(s), 'external', { apexNs: ['ns3.ext.example.'] });
      pub = await svc.loadPublishedZone(ctxOf(s), 'apex.test');
      assert.deepEqual(lines((pub?.records ?? []).filter((r) => r.type === RRType.NS)), ['apex.test. 2 ns3.ext.example.']);
      assert.equal(pub?.version, 2);
      // Moving to the default group changes the apex again; the alternate SG never does.
      await assert.rejects(svc.setZoneAltServerGroup(ctxOf(s), 'apex.test', 'external'), svc.InvalidArgument);
      await assert.rejects(svc.setZoneAltServerGroup(ctxOf(s), 'apex.test', 'nonexistent'), svc.ServerGroupNotFound);
      const withAlt = await svc.setZoneAltServerGroup(ctxOf(s), 'apex.test', 'default');
      assert.equal(withAlt.altSg, 'default');
      pub = await svc.loadPublishedZone(ctxOf(s), 'apex.test');
      assert.equal(pub?.version, 2, 'the alternate SG never sets the apex');
      const swapped = await svc.swapZoneServerGroup(ctxOf(s, admin), 'apex.test');
      assert.deepEqual([swapped.sg, swapped.altSg], ['default', 'external']);
      pub = await svc.loadPublishedZone(ctxOf(s), 'apex.test');
      assert.deepEqual(lines((pub?.records ?? []).filter((r) => r.type === RRType.NS)), ['apex.test. 2 ns1.dms.invalid.']);
      const z = await svc.setZoneServerGroup(ctxOf(s, admin), 'apex.test', 'external');
      assert.deepEqual([z.sg, z.altSg], ['external', null]);
      pub = await svc.loadPublishedZone(ctxOf(s), 'apex.test');
      assert.deepEqual(lines((pub?.records ?? []).filter((r) => r.type === RRType.NS)), ['apex.test. 2 ns3.ext.example.']);
      await svc.setZoneServerGroup(ctxOf(s, admin), 'apex.test', 'default');
      await assert.rejects(svc.deleteServerGroup(ctxOf(s), 'default'), svc.ServerGroupInUse);
      const sgs = await svc.listServerGroups(ctxOf(s));
      assert.deepEqual(sgs.map((g) => g.name), ['default', 'external']);
    });

    test('lifecycle: disable, enable, delete, undelete, destroy — and the change feed sees each', async () => {
      const seq0 = await svc.currentChangeSeq(ctxOf(s));
      const z = await svc.createZone(ctxOf(s, admin), 'life.test', { text: zoneText('life.test.', '') });
      await svc.disableZone(ctxOf(s), 'life.test');
      assert.equal(await svc.loadPublishedZone(ctxOf(s), 'life.test'), null);
      assert.ok(!(await svc.listServedZones(ctxOf(s))).includes('life.test.'));
      await svc.enableZone(ctxOf(s), 'life.test');
      assert.ok(await svc.loadPublishedZone(ctxOf(s), 'life.test'));
      await svc.deleteZone(ctxOf(s), 'life.test');
      await assert.rejects(svc.getZone(ctxOf(s), 'life.test'), svc.ZoneNotFound);
      assert.equal(await svc.loadPublishedZone(ctxOf(s), 'life.test'), null);
      await assert.rejects(svc.destroyZone(ctxOf(s), 999999), svc.ZoneNotFound);
      // The name is free again; undelete then collides.
      const z2 = await svc.createZone(ctxOf(s, admin), 'life.test', { text: zoneText('life.test.', 'second IN A 192.0.2.2') });
      await assert.rejects(svc.undeleteZone(ctxOf(s), 'life.test'), svc.ZoneExists);
      await assert.rejects(svc.destroyZone(ctxOf(s), z2.id), svc.ZoneNotDeleted);
      await svc.deleteZone(ctxOf(s), 'life.test');
      const deleted = await svc.listZones(ctxOf(s), { which: 'deleted', pattern: 'life.test' });
      assert.equal(deleted.length, 2);
      // Two deleted copies: by name is ambiguous and refused; a live zone's id is "not deleted", not "exists".
      await assert.rejects(svc.undeleteZone(ctxOf(s), 'life.test'), /2 deleted zones named life\.test\..*ls_deleted/);
      const back = await svc.undeleteZone(ctxOf(s), z.id);
      await assert.rejects(svc.undeleteZone(ctxOf(s), z.id), svc.ZoneNotDeleted);
      assert.equal(back.id, z.id);
      assert.equal(back.state, 'PUBLISHED');
      assert.ok(await svc.loadPublishedZone(ctxOf(s), 'life.test'));
      await svc.destroyZone(ctxOf(s), z2.id);
      const remaining = await s.db.selectFrom('records').select('id').where('zone_id', '=', z2.id).execute();
      assert.equal(remaining.length, 0);
      const poll = await svc.pollChanges(ctxOf(s), seq0);
      assert.deepEqual(
        poll.changes.filter((c) => c.zone === 'life.test.').map((c) => c.kind),
        ['publish', 'disable', 'enable', 'delete', 'publish', 'delete', 'undelete', 'destroy'],
      );
      assert.equal(poll.resync, false);
      assert.ok(poll.changes.every((c, i, a) => i === 0 || c.seq > a[i - 1].seq));
    });

    test('followChanges delivers a newly published ZI within a second', async () => {
      await svc.createZone(ctxOf(s, admin), 'feed.test', { text: zoneText('feed.test.', '') });
      const since = await svc.currentChangeSeq(ctxOf(s));
      const got: svc.ZoneChange[] = [];
      let resolveSeen: () => void = () => {};
      const seen = new Promise<void>((r) => {
        resolveSeen = r;
      });
      const stop = svc.followChanges(ctxOf(s), since, (p) => {
        got.push(...p.changes);
        if (got.some((c) => c.zone === 'feed.test.' && c.kind === 'publish')) resolveSeen();
      });
      const t0 = Date.now();
      await svc.saveZoneText(ctxOf(s, admin), 'feed.test', zoneText('feed.test.', 'new IN A 192.0.2.3'));
      await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error('no change within 1 s')), 1000))]);
      assert.ok(Date.now() - t0 < 1000);
      await stop();
      const pub = await svc.loadPublishedZone(ctxOf(s), 'feed.test');
      assert.ok(pub?.records.some((r) => r.name.key === 'new.feed.test.'));
    });

    test('a commit by another connection wakes a follower at once (PostgreSQL LISTEN/NOTIFY, SQLite doorbell file), long before its next poll', async () => {
      assert.ok(s.listen, 'the store can wake followers');
      // SQLite: the writer is a second store on the same file, as zone_tool is another process (the doorbell is then
      // heard through inotify, not the in-process call).
      const writer = s.kind === 'sqlite' ? await openStore({ dataDir: dirname(s.location) }) : s;
      try {
        await wakeTest(writer);
      } finally {
        if (writer !== s) await writer.close();
      }
    });
    const wakeTest = async (w: typeof s) => {
      await svc.createZone(ctxOf(s, admin), 'notify.test', { text: zoneText('notify.test.', '') });
      const since = await svc.currentChangeSeq(ctxOf(s));
      let resolveSeen: () => void = () => {};
      const seen = new Promise<void>((r) => {
        resolveSeen = r;
      });
      // A 60 s poll interval: only the notification can deliver the change within the test's 2 s.
      const stop = svc.followChanges(ctxOf(s), since, (p) => {
        if (p.changes.some((c) => c.zone === 'notify.test.' && c.kind === 'publish')) resolveSeen();
      }, { intervalMs: 60_000 });
      try {
        // The first poll runs at once; give the LISTEN connection a moment to be up before committing.
        await new Promise((r) => setTimeout(r, 300));
        const t0 = Date.now();
        await svc.saveZoneText(ctxOf(w, admin), 'notify.test', zoneText('notify.test.', 'n IN A 192.0.2.9'));
        await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error('not woken within 2 s')), 2000))]);
        assert.ok(Date.now() - t0 < 2000);
      } finally {
        await stop();
      }
    };

    test('one commit wakes a listener of the committing store once (SQLite: its own doorbell write is not heard again)', async () => {
      assert.ok(s.listen, 'the store can wake followers');
      await svc.createZone(ctxOf(s, admin), 'once.test', { text: zoneText('once.test.', '') });
      let calls = 0;
      const stop = await s.listen('dms_zone_changes', () => {
        calls++;
      });
      try {
        // The LISTEN connection up (PostgreSQL) and any earlier commit's wake-up over.
        await new Promise((r) => setTimeout(r, 300));
        calls = 0;
        await svc.saveZoneText(ctxOf(s, admin), 'once.test', zoneText('once.test.', 'o IN A 192.0.2.7'));
        // inotify (SQLite) and LISTEN (PostgreSQL) deliver within milliseconds: a second wake-up would be here by now.
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(calls, 1);
      } finally {
        await stop();
      }
    });

    test('a follower polling during concurrent publishes misses none', async () => {
      const since = await svc.currentChangeSeq(ctxOf(s));
      const seen: number[] = [];
      const stop = svc.followChanges(ctxOf(s), since, (p) => {
        seen.push(...p.changes.map((c) => c.seq));
      }, { intervalMs: 1 });
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          await svc.createZone(ctxOf(s, admin), `f${i}.follow.test`, { text: zoneText(`f${i}.follow.test.`, '') });
          await svc.saveZoneText(ctxOf(s, admin), `f${i}.follow.test`, zoneText(`f${i}.follow.test.`, 'x IN A 192.0.2.1'));
        }),
      );
      const all = (await svc.pollChanges(ctxOf(s), since)).changes.map((c) => c.seq);
      const deadline = Date.now() + 5000;
      while (seen.length < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await stop();
      assert.equal(all.length, 24);
      assert.deepEqual(seen, all);
    });

    test('references and sectags', async () => {
      await svc.createReference(ctxOf(s), 'customer-1');
      await assert.rejects(svc.createReference(ctxOf(s), 'customer-1'), svc.ReferenceExists);
      await assert.rejects(svc.createZone(ctxOf(s, admin), 'ref.test', { reference: 'nope' }), svc.ReferenceNotFound);
      await svc.createZone(ctxOf(s, admin), 'ref.test', { reference: 'customer-1', text: zoneText('ref.test.', '') });
      assert.equal((await svc.getZone(ctxOf(s), 'ref.test')).reference, 'customer-1');
      await assert.rejects(svc.deleteReference(ctxOf(s), 'customer-1'), svc.ReferenceInUse);
      const refs = await svc.listReferences(ctxOf(s), 'customer-*');
      assert.deepEqual(refs, [{ name: 'customer-1', zoneCount: 1 }]);
      await svc.renameReference(ctxOf(s), 'customer-1', 'customer-one');
      assert.equal((await svc.getZone(ctxOf(s), 'ref.test')).reference, 'customer-one');
      assert.equal((await svc.listZones(ctxOf(s), { reference: 'customer-one' })).length, 1);
      await svc.setZoneReference(ctxOf(s), 'ref.test', null);
      await svc.deleteReference(ctxOf(s), 'customer-one');
      await assert.rejects(svc.deleteReference(ctxOf(s), 'customer-one'), svc.ReferenceNotFound);

      await svc.createSectag(ctxOf(s), 'HelpDesk');
      await svc.createSectag(ctxOf(s), 'Reseller');
      await svc.addZoneSectag(ctxOf(s), 'ref.test', 'HelpDesk');
      await svc.addZoneSectag(ctxOf(s), 'ref.test', 'HelpDesk');
      assert.deepEqual(await svc.listZoneSectags(ctxOf(s), 'ref.test'), ['HelpDesk']);
      await svc.replaceZoneSectags(ctxOf(s), 'ref.test', ['Reseller', 'HelpDesk']);
      assert.deepEqual((await svc.getZone(ctxOf(s), 'ref.test')).sectags, ['HelpDesk', 'Reseller']);
      assert.deepEqual((await svc.listZones(ctxOf(s), { sectag: 'Reseller' })).map((z) => z.name), ['ref.test.']);
      await assert.rejects(svc.deleteSectag(ctxOf(s), 'Reseller'), svc.SectagInUse);
      await svc.deleteZoneSectag(ctxOf(s), 'ref.test', 'Reseller');
      await svc.deleteSectag(ctxOf(s), 'Reseller');
      await assert.rejects(svc.addZoneSectag(ctxOf(s), 'ref.test', 'Reseller'), svc.SectagNotFound);
      assert.deepEqual(await svc.listSectags(ctxOf(s)), ['HelpDesk']);
    });

    test('TSIG keys and update grants are stored, listed, and announced on the change feed', async () => {
      const since = await svc.currentChangeSeq(ctxOf(s));
      const k = await svc.createTsigKey(ctxOf(s), 'LetsEncrypt-Key');
      assert.equal(k.name, 'letsencrypt-key.');
      assert.equal(k.algorithm, 'hmac-sha256');
      assert.equal(Buffer.from(k.secret, 'base64').length, 32);
      await assert.rejects(svc.createTsigKey(ctxOf(s), 'letsencrypt-key.'), svc.TsigKeyExists);
      await assert.rejects(svc.createTsigKey(ctxOf(s), 'x', { algorithm: 'rot13' }), svc.InvalidArgument);
      await svc.createTsigKey(ctxOf(s), 'given', { algorithm: 'hmac-sha512', secret: 'c2VjcmV0' });
      const got = await svc.getTsigKey(ctxOf(s), 'given.');
      assert.equal(got.algorithm, 'hmac-sha512');
      assert.equal(Buffer.from(got.secret).toString(), 'secret');
      assert.deepEqual((await svc.loadTsigKeys(ctxOf(s))).map((x) => x.name.key), ['given.', 'letsencrypt-key.']);
      await svc.deleteTsigKey(ctxOf(s), 'given');
      await assert.rejects(svc.getTsigKey(ctxOf(s), 'given'), svc.TsigKeyNotFound);

      await svc.createZone(ctxOf(s, admin), 'grants.test', { text: zoneText('grants.test.', '') });
      await svc.addUpdateGrant(ctxOf(s), 'grants.test', 'grant letsencrypt-key.  zonesub TXT');
      await svc.addUpdateGrant(ctxOf(s), 'grants.test', 'grant letsencrypt-key. zonesub TXT');
      await svc.addUpdateGrant(ctxOf(s), 'grants.test', 'grant other. name a.grants.test. A');
      assert.deepEqual(await svc.listUpdateGrants(ctxOf(s), 'grants.test'), ['grant letsencrypt-key. zonesub TXT', 'grant other. name a.grants.test. A']);
      // The UPDATE path reads them with the owners it needs, in the same transaction: the same list.
      const atOwners = await svc.getZoneAtOwners(ctxOf(s), 'grants.test', ['a.grants.test.'], { grants: true });
      assert.deepEqual(atOwners.updateGrants, ['grant letsencrypt-key. zonesub TXT', 'grant other. name a.grants.test. A']);
      assert.equal((await svc.getZoneAtOwners(ctxOf(s), 'grants.test', ['a.grants.test.'])).updateGrants, undefined);
      await svc.deleteUpdateGrant(ctxOf(s), 'grants.test', 'grant other. name a.grants.test. A');
      await assert.rejects(svc.deleteUpdateGrant(ctxOf(s), 'grants.test', 'grant nobody. zonesub TXT'), svc.InvalidArgument);
      // A grant the UPDATE path could not enforce is refused by the service itself, whoever calls it.
      await assert.rejects(svc.addUpdateGrant(ctxOf(s), 'grants.test', 'grant k. nonsense TXT'), /bad update grant/);
      await assert.rejects(svc.setUpdateGrants(ctxOf(s), 'grants.test', ['grant k. zonesub TXT', 'allow everything']), svc.InvalidArgument);
      assert.deepEqual(await svc.listUpdateGrants(ctxOf(s), 'grants.test'), ['grant letsencrypt-key. zonesub TXT']);
      const kinds = (await svc.pollChanges(ctxOf(s), since)).changes.map((c) => `${c.zone} ${c.kind}`);
      assert.deepEqual(kinds.filter((k) => k.endsWith(' keys')), ['. keys', '. keys', '. keys']);
      assert.ok(kinds.filter((k) => k === 'grants.test. update').length >= 3);
    });

    test('configuration: defaults, validation, per-SG soa_mname', async () => {
      const cfg = await svc.showConfig(ctxOf(s));
      const get = (k: string) => cfg.find((c) => c.key === k && c.sg === null)?.value;
      assert.equal(get('zi_max_num'), '25');
      assert.equal(get('zone_ttl'), '24h');
      assert.equal(get('edit_lock_timeout'), '30m');
      assert.equal(get('use_apex_ns'), 'false'); // set in before()
      await assert.rejects(svc.setConfig(ctxOf(s), 'no_such_key', '1'), svc.ConfigKeyUnknown);
      await assert.rejects(svc.setConfig(ctxOf(s), 'zi_max_num', 'lots'), svc.ConfigValueInvalid);
      await assert.rejects(svc.setConfig(ctxOf(s), 'soa_refresh', '1x'), svc.ConfigValueInvalid);
      await assert.rejects(svc.setConfig(ctxOf(s), 'default_sg', 'nope'), svc.ServerGroupNotFound);
      await svc.setConfig(ctxOf(s), 'soa_refresh', '2h');
      assert.equal(await svc.getConfigValue(ctxOf(s), 'soa_refresh'), '2h');
      await svc.createServerGroup(ctxOf(s), 'internal', { apexNs: ['ns.int.example.'] });
      await svc.setConfig(ctxOf(s), 'soa_mname', 'ns0.int.example', 'internal');
      assert.equal(await svc.getConfigValue(ctxOf(s), 'soa_mname', 'internal'), 'ns0.int.example.');
      assert.ok((await svc.showConfig(ctxOf(s))).some((c) => c.key === 'soa_mname' && c.sg === 'internal'));
      const z = await svc.createZone(ctxOf(s, admin), 'cfg.test', { sg: 'internal', flags: { useApexNs: true } });
      const c = await svc.getZoneContent(ctxOf(s), z.name);
      assert.equal(c.zi.soaMname, 'ns0.int.example.');
      assert.equal(c.zi.soaRefresh, 7200);
      await svc.setConfig(ctxOf(s), 'soa_refresh', '600');
    });

    test('event queue: retry with exponential backoff, then FAILURE', async () => {
      const id = await svc.enqueueEvent(ctxOf(s), 'ServerCheck', { payload: { server: 'ns1' } });
      const due = await svc.dueEvents(ctxOf(s));
      assert.ok(due.some((e) => e.id === id && e.state === 'NEW'));
      let prevDelay = 0;
      for (let i = 1; i < 4; i++) {
        const t = Date.now();
        const ev = await svc.retryEvent(ctxOf(s), id, `timeout ${i}`, { maxAttempts: 4, now: t });
        assert.equal(ev.state, 'RETRY');
        const delay = ev.scheduled.getTime() - t;
        assert.ok(delay > prevDelay, 'backoff grows');
        prevDelay = delay;
        assert.ok(!(await svc.dueEvents(ctxOf(s))).some((e) => e.id === id), 'not due during backoff');
      }
      const last = await svc.retryEvent(ctxOf(s), id, 'timeout 4', { maxAttempts: 4 });
      assert.equal(last.state, 'FAILURE');
      assert.equal(last.lastError, 'timeout 4');
      const id2 = await svc.enqueueEvent(ctxOf(s), 'Noop');
      await svc.completeEvent(ctxOf(s), id2);
      assert.equal((await svc.getEvent(ctxOf(s), id2)).state, 'SUCCESS');
      assert.ok((await svc.listEvents(ctxOf(s), { state: 'FAILURE' })).some((e) => e.id === id));
      await assert.rejects(svc.getEvent(ctxOf(s), 9_999_999), svc.EventNotFound);
      // Claiming: concurrent claimers never get the same event; a lease that runs out makes it due again.
      const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => svc.enqueueEvent(ctxOf(s), 'Claim', { payload: i })));
      const claims = await Promise.all([1, 2, 3].map(() => svc.claimDueEvents(ctxOf(s), { limit: 4, leaseSec: 60 })));
      const claimed = claims.flat().map((e) => e.id).filter((id) => ids.includes(id));
      assert.equal(claimed.length, 6);
      assert.equal(new Set(claimed).size, 6);
      assert.deepEqual((await svc.claimDueEvents(ctxOf(s))).filter((e) => ids.includes(e.id)), []);
      const later = await svc.claimDueEvents(ctxOf(s), { now: Date.now() + 61_000, limit: 1000 });
      assert.equal(later.filter((e) => ids.includes(e.id)).length, 6);
      for (const id of ids) await svc.completeEvent(ctxOf(s), id);
    });

    test('vacuum: old ZIs beyond zi_max_num, their dead records, deleted zones, old events', async () => {
      await svc.createZone(ctxOf(s, admin), 'vac.test', { text: zoneText('vac.test.', 'r0 IN A 192.0.2.0') });
      for (let i = 1; i <= 12; i++) await svc.saveZoneText(ctxOf(s, admin), 'vac.test', zoneText('vac.test.', `r${i} IN A 192.0.2.${i}\nkeep IN A 192.0.2.200`));
      const before = await svc.listZis(ctxOf(s), 'vac.test');
      assert.equal(before.length, 13);
      const kept = new Map<number, string[]>();
      for (const zi of before.slice(0, 5)) kept.set(zi.version, lines((await svc.getZoneContent(ctxOf(s), 'vac.test', zi.version)).records));
      const zoneId = (await svc.getZone(ctxOf(s), 'vac.test')).id;
      const rowsBefore = (await s.db.selectFrom('records').select('id').where('zone_id', '=', zoneId).execute()).length;
      await svc.createZone(ctxOf(s, admin), 'gone.test', { text: zoneText('gone.test.', '') });
      const gone = await svc.deleteZone(ctxOf(s), 'gone.test');
      await s.db.updateTable('zones').set({ deleted_start: Date.now() - 250 * 86_400_000 }).where('id', '=', gone.id).execute();
      const evId = await svc.enqueueEvent(ctxOf(s), 'Old');
      await svc.completeEvent(ctxOf(s), evId);
      const future = new Date(Date.now() + 200 * 86_400_000);
      // A deleted zone young enough to keep but old enough to pare down to its published ZI.
      await svc.createZone(ctxOf(s, admin), 'pare.test', { text: zoneText('pare.test.', 'a IN A 192.0.2.1') });
      await svc.saveZoneText(ctxOf(s, admin), 'pare.test', zoneText('pare.test.', 'b IN A 192.0.2.2'));
      await svc.saveZoneText(ctxOf(s, admin), 'pare.test', zoneText('pare.test.', 'c IN A 192.0.2.3'), { publish: false });
      const pare = await svc.deleteZone(ctxOf(s), 'pare.test');
      const r = await svc.vacuumAll(ctxOf(s), { now: future, ziMaxNum: 5, zoneDelAgeDays: 300, zoneDelPareAgeDays: 100 });
      assert.ok(r.zonesPared >= 1);
      const pared = await svc.undeleteZone(ctxOf(s), pare.id);
      assert.deepEqual((await svc.listZis(ctxOf(s), 'pare.test')).map((z) => z.version), [2]);
      assert.equal(pared.publishedVersion, 2);
      assert.ok((await svc.loadPublishedZone(ctxOf(s), 'pare.test'))?.records.some((x) => x.name.key === 'b.pare.test.'));
      assert.equal(pared.state, 'PUBLISHED');
      // The pared zone is whole again: its newest version is the kept one, and it takes changes.
      const next = await svc.saveZoneText(ctxOf(s, admin), 'pare.test', zoneText('pare.test.', 'b IN A 192.0.2.2\nd IN A 192.0.2.4'));
      assert.equal(next.version, 3);
      const dd = await svc.diffVersions(ctxOf(s), 'pare.test', 2, 3);
      assert.deepEqual(lines(dd.added), ['d.pare.test. 1 192.0.2.4']);
      assert.deepEqual(dd.removed, []);
      assert.ok(r.zisDeleted >= 8);
      assert.ok(r.recordsDeleted > 0);
      assert.ok(r.zonesDestroyed >= 1);
      assert.ok(r.eventsDeleted >= 1);
      const after = await svc.listZis(ctxOf(s), 'vac.test');
      assert.deepEqual(after.map((z) => z.version), before.slice(0, 5).map((z) => z.version));
      for (const [v, l] of kept) assert.deepEqual(lines((await svc.getZoneContent(ctxOf(s), 'vac.test', v)).records), l, `version ${v} intact`);
      const rowsAfter = (await s.db.selectFrom('records').select('id').where('zone_id', '=', zoneId).execute()).length;
      assert.ok(rowsAfter < rowsBefore);
      await assert.rejects(svc.getZoneById(ctxOf(s), gone.id), svc.ZoneNotFound);
      await assert.rejects(svc.diffVersions(ctxOf(s), 'vac.test', 1), svc.ZiNotFound);
      // The change feed was vacuumed: a follower from 0 must resync, one at the head need not.
      const poll = await svc.pollChanges(ctxOf(s), 0);
      assert.equal(poll.resync, true);
      assert.equal((await svc.pollChanges(ctxOf(s), await svc.currentChangeSeq(ctxOf(s)))).resync, false);
    });

    test('vacuum_zis of one zone leaves the other zones alone', async () => {
      for (const z of ['vz1.test', 'vz2.test']) {
        await svc.createZone(ctxOf(s, admin), z, { text: zoneText(`${z}.`, 'r0 IN A 192.0.2.0') });
        for (let i = 1; i <= 4; i++) await svc.saveZoneText(ctxOf(s, admin), z, zoneText(`${z}.`, `r${i} IN A 192.0.2.${i}`));
      }
      const future = new Date(Date.now() + 200 * 86_400_000);
      const r = await svc.vacuumAll(ctxOf(s), { now: future, ziMaxNum: 2, zone: 'vz1.test', zoneDelAgeDays: 0, zoneDelPareAgeDays: 0 });
      assert.equal(r.zisDeleted, 3);
      assert.equal((await svc.listZis(ctxOf(s), 'vz1.test')).length, 2);
      assert.equal((await svc.listZis(ctxOf(s), 'vz2.test')).length, 5);
      await assert.rejects(svc.vacuumAll(ctxOf(s), { now: future, zone: 'missing.test' }), svc.ZoneNotFound);
    });

    test('load_zones: created, unchanged, updated, failed', async () => {
      const items = [
        { name: 'l1.test', text: zoneText('l1.test.', 'a IN A 192.0.2.1') },
        { name: 'l2.test', text: zoneText('l2.test.', 'b IN CNAME c\nb IN A 192.0.2.1') },
      ];
      const r1 = await svc.loadZones(ctxOf(s, admin), items);
      assert.deepEqual(r1.map((r) => r.action), ['created', 'failed']);
      assert.ok(r1[1].error instanceof svc.ZoneValidationFailed);
      await assert.rejects(svc.getZone(ctxOf(s), 'l2.test'), svc.ZoneNotFound);
      const r2 = await svc.loadZones(ctxOf(s, admin), [items[0]]);
      assert.equal(r2[0].action, 'failed');
      assert.ok(r2[0].error instanceof svc.ZoneExists);
      const r3 = await svc.loadZones(
        ctxOf(s, admin),
        [items[0], { name: 'l1.test', text: zoneText('l1.test.', 'a IN A 192.0.2.2') }],
        { replace: true },
      );
      assert.deepEqual(r3.map((r) => r.action), ['unchanged', 'updated']);
      // Only the serial raised in the file: that is a change too (the operator wants it out).
      const bumped = zoneText('l1.test.', 'a IN A 192.0.2.2').replace(' 1 600 600', ' 4000000000 600 600');
      const r4 = await svc.loadZones(ctxOf(s, admin), [{ name: 'l1.test', text: bumped }], { replace: true });
      assert.equal(r4[0].action, 'updated');
      assert.equal(r4[0].serial, 4000000000);
    });

    test('listing: glob, keyset paging, filters', async () => {
      for (const n of ['p1', 'p2', 'p3', 'p4']) await svc.createZone(ctxOf(s, admin), `${n}.page.test`, { text: zoneText(`${n}.page.test.`, '') });
      const page1 = await svc.listZones(ctxOf(s), { pattern: '*.page.test', limit: 2 });
      assert.deepEqual(page1.map((z) => z.name), ['p1.page.test.', 'p2.page.test.']);
      const page2 = await svc.listZones(ctxOf(s), { pattern: '*.page.test', limit: 2, after: page1[1].name });
      assert.deepEqual(page2.map((z) => z.name), ['p3.page.test.', 'p4.page.test.']);
      assert.deepEqual((await svc.listZones(ctxOf(s), { pattern: 'p?.page.test' })).length, 4);
      assert.deepEqual((await svc.listZones(ctxOf(s), { pattern: 'p1.page.test' })).map((z) => z.name), ['p1.page.test.']);
      assert.equal((await svc.listZones(ctxOf(s), { pattern: 'p%.page.test' })).length, 0, 'LIKE wildcards are literal');
      assert.ok((await svc.listZones(ctxOf(s), { sg: 'default' })).length >= 4);
    });

    test('listing by server group: primary or alternate group, paged, every state; the same as filtering by hand', async () => {
      await svc.createServerGroup(ctxOf(s), 'sgl-a');
      await svc.createServerGroup(ctxOf(s), 'sgl-b');
      const names = Array.from({ length: 11 }, (_, i) => `s${String(i).padStart(2, '0')}.sgl.test`);
      for (const [i, n] of names.entries()) {
        await svc.createZone(ctxOf(s, admin), n, { text: zoneText(`${n}.`, ''), sg: i % 3 === 0 ? 'sgl-a' : 'sgl-b' });
        if (i % 4 === 1) await svc.setZoneAltServerGroup(ctxOf(s), n, i % 3 === 0 ? 'sgl-b' : 'sgl-a');
      }
      await svc.deleteZone(ctxOf(s), names[3]);
      await svc.disableZone(ctxOf(s), names[6]);
      const all = await svc.listZones(ctxOf(s), { pattern: '*.sgl.test', which: 'all', limit: 1000 });
      for (const which of ['active', 'deleted', 'all'] as const)
        for (const sg of ['sgl-a', 'sgl-b']) {
          const want = all
            .filter((z) => (which === 'all' || (which === 'deleted') === (z.state === 'DELETED')) && (z.sg === sg || z.altSg === sg))
            .map((z) => z.name);
          for (const limit of [1, 2, 3, 1000]) {
            const got: string[] = [];
            let after: string | undefined;
            for (let n = 0; n < 50; n++) {
              const page = await svc.listZones(ctxOf(s), { sg, which, limit, ...(after !== undefined ? { after } : {}) });
              got.push(...page.filter((z) => z.name.endsWith('.sgl.test.')).map((z) => z.name));
              if (page.length < limit) break;
              after = page[page.length - 1].name;
            }
            assert.deepEqual(got, want, `${sg} ${which} limit ${limit}`);
          }
        }
    });

    test('listZoneBriefs: the same pages as listZones; a glob prefix is a range but never loses or adds a name', async () => {
      // Names around the edges of the prefix range: 'pr' is the prefix of 'pr*', 'ps' its successor, '-' and '.'
      // sort before letters, 'pr0' is between.
      const names = ['pr.pfx.test', 'pr-a.pfx.test', 'pr0.pfx.test', 'pra.pfx.test', 'prz.pfx.test', 'ps.pfx.test', 'p.pfx.test', 'q.pfx.test'];
      await svc.createReference(ctxOf(s), 'pfx-customer');
      for (const n of names)
        await svc.createZone(ctxOf(s, admin), n, { text: zoneText(`${n}.`, ''), ...(n.startsWith('pr0') ? { reference: 'pfx-customer' } : {}) });
      await svc.disableZone(ctxOf(s), 'prz.pfx.test');
      await svc.deleteZone(ctxOf(s), 'pra.pfx.test');
      const options: Parameters<typeof svc.listZones>[1][] = [
        { pattern: 'pr*' },
        { pattern: 'pr*.pfx.test' },
        { pattern: 'pr?.pfx.test' },
        { pattern: 'p*', limit: 2 },
        { pattern: 'p*', after: 'pr-a.pfx.test.' },
        { pattern: 'pr*', after: 'a' },
        { pattern: 'pr*', after: 'zzz' },
        { pattern: '*.pfx.test' },
        { pattern: 'pr*', which: 'deleted' },
        { pattern: 'pr*', which: 'all' },
        { pattern: 'pr*', sg: 'default' },
        { pattern: 'pr*', sg: 'no-such-sg' },
        { pattern: 'pr0.pfx.test' },
        { pattern: 'pr*', reference: 'pfx-customer' },
      ];
      for (const o of options) {
        const full = await svc.listZones(ctxOf(s), o);
        const brief = await svc.listZoneBriefs(ctxOf(s), o);
        assert.deepEqual(
          brief,
          full.map((z) => ({ id: z.id, name: z.name, state: z.state, reference: z.reference, soaSerial: z.soaSerial })),
          JSON.stringify(o),
        );
      }
      const pr = (await svc.listZoneBriefs(ctxOf(s), { pattern: 'pr*' })).map((z) => z.name);
      assert.deepEqual(pr, ['pr-a.pfx.test.', 'pr.pfx.test.', 'pr0.pfx.test.', 'prz.pfx.test.'].sort());
      assert.equal((await svc.listZoneBriefs(ctxOf(s), { pattern: 'pr*', which: 'deleted' }))[0]?.state, 'DELETED');
      assert.deepEqual((await svc.listZoneBriefs(ctxOf(s), { pattern: 'prz*' }))[0]?.state, 'DISABLED');
      const pr0 = (await svc.listZoneBriefs(ctxOf(s), { pattern: 'pr0*' }))[0];
      assert.equal(pr0?.reference, 'pfx-customer');
      assert.ok(pr0 && pr0.soaSerial !== null && pr0.soaSerial > 0);
    });

    test('set_zone flags; turning use_apex_ns on refreshes the apex', async () => {
      await svc.createZone(ctxOf(s, admin), 'flags.test', { text: zoneText('flags.test.', '') });
      const z = await svc.setZoneFlags(ctxOf(s, admin), 'flags.test', { useApexNs: true, incUpdates: true, nsec3: true });
      assert.deepEqual(z.flags, { useApexNs: true, editLock: false, autoDnssec: false, nsec3: true, incUpdates: true });
      assert.equal(z.publishedVersion, 2);
      const pub = await svc.loadPublishedZone(ctxOf(s), 'flags.test');
      assert.deepEqual(lines((pub?.records ?? []).filter((r) => r.type === RRType.NS)), ['flags.test. 2 ns1.dms.invalid.']);
    });

    test('$TTL of loaded or edited text is the zone TTL (apex NS follow it)', async () => {
      await svc.createZone(ctxOf(s, admin), 'ttl.test', { flags: { useApexNs: true }, text: zoneText('ttl.test.', 'www IN A 192.0.2.1') });
      let c = await svc.getZoneContent(ctxOf(s), 'ttl.test');
      assert.equal(c.zi.zoneTtl, 3600);
      assert.equal(c.zi.soaTtl, null);
      assert.ok(c.records.filter((r) => r.type === RRType.NS).every((r) => r.ttl === 3600));
      const ed = await svc.editZone(ctxOf(s, admin), 'ttl.test');
      assert.match(ed.text, /^\$TTL 3600$/m);
      await svc.saveZoneEdit(ctxOf(s, admin), 'ttl.test', ed.token, { text: ed.text.replace('$TTL 3600', '$TTL 7200') });
      c = await svc.getZoneContent(ctxOf(s), 'ttl.test');
      assert.equal(c.zi.zoneTtl, 7200);
      assert.ok(c.records.filter((r) => r.type === RRType.NS).every((r) => r.ttl === 7200));
    });

    test('disabled records are stored but not served, and their toggling shows in the diff', async () => {
      await svc.createZone(ctxOf(s, admin), 'dis.test', { text: zoneText('dis.test.', ';!DISABLE\noff IN A 192.0.2.5') });
      let pub = await svc.loadPublishedZone(ctxOf(s), 'dis.test');
      assert.ok(!pub?.records.some((r) => r.name.key === 'off.dis.test.'));
      const c = await svc.getZoneContent(ctxOf(s), 'dis.test');
      assert.equal(c.records.find((r) => r.name.key === 'off.dis.test.')?.flags?.disable, true);
      await svc.saveZoneText(ctxOf(s, admin), 'dis.test', zoneText('dis.test.', 'off IN A 192.0.2.5'));
      pub = await svc.loadPublishedZone(ctxOf(s), 'dis.test');
      assert.ok(pub?.records.some((r) => r.name.key === 'off.dis.test.'));
      const d = await svc.diffVersions(ctxOf(s), 'dis.test', 1, 2);
      assert.deepEqual(lines(d.added), ['off.dis.test. 1 192.0.2.5']);
      assert.deepEqual(d.removed, []);
    });

    test('bulk start-up load equals zone-by-zone load', async () => {
      const bulk = new Map<string, string[]>();
      const n = await svc.loadPublishedZones(ctxOf(s), (z) => {
        bulk.set(z.origin.key, [String(z.serial), ...lines([...z.records])]);
      }, { pageSize: 3 });
      const names = await svc.listServedZones(ctxOf(s));
      assert.equal(n, names.length);
      assert.ok(n > 5);
      for (const name of names) {
        const z = await svc.loadPublishedZone(ctxOf(s), name);
        assert.ok(z);
        assert.deepEqual(bulk.get(name), [String(z.serial), ...lines(z.records)], name);
      }
    });
  });
}
