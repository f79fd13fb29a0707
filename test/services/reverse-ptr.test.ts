// Automatic reverse PTRs (issue 14) on SQLite and PostgreSQL: the manual's walk-through, FORCEREV, TRACKREV (change
// and removal), LOCKPTR, inc_updates, a missing reverse zone, the privilege rules for a customer (its own reference
// allowed, another's refused and reported, nothing written), the delta path (update_rrs), RFC 2317 classless zones
// with the parent's delegation and CNAMEs, names with '/' on the service paths dmsd uses, refresh_zone_ptrs (dry run)
// and check_reverse.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RRType, typeToString } from '../../src/dns/constants.js';
import { reverseNameOfAddress } from '../../src/dns/address.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { dumpTables } from '../helpers/dump.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

const head = (extra = '') => `$TTL 300\n@ SOA ns1.dms.invalid. hostmaster 0 3600 900 604800 300\n@ NS ns1.dms.invalid.\n${extra}`;
const ACME: svc.Tenant = { tier: 'customer', sectag: 'acme' };

/** The PTR targets at `owner` in the newest version of `zone`. */
async function ptrs(ctx: svc.ServiceContext, zone: string, owner: string): Promise<string[]> {
  const c = await svc.getZoneContent(ctx, svc.operatorZoneName(zone), 'latest');
  const key = Name.parse(owner).key;
  return c.records.filter((r) => r.type === RRType.PTR && r.name.key === key).map((r) => rdataToText(r.type, r.rdata));
}

async function typesAt(ctx: svc.ServiceContext, zone: string, owner: string): Promise<string[]> {
  const c = await svc.getZoneContent(ctx, svc.operatorZoneName(zone), 'latest');
  const key = Name.parse(owner).key;
  return c.records.filter((r) => r.name.key === key).map((r) => `${typeToString(r.type)} ${rdataToText(r.type, r.rdata)}`);
}

for (const backend of backends)
  describe(`automatic reverse PTRs on ${backend.name}`, () => {
    let s: Store;
    let admin: svc.ServiceContext;
    let acme: svc.ServiceContext;
    const call = <K extends svc.OperationName>(ctx: svc.ServiceContext, name: K, p: svc.OperationParams<K>) =>
      svc.invoke(ctx, name, p) as Promise<svc.OperationResult<K>>;
    before(async () => {
      s = await backend.open();
      admin = ctxOf(s, 'admin@test/Admin');
      acme = ctxOf(s, 'wile@acme', { tenant: ACME });
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.setConfig(admin, 'edit_lock', 'false');
      await svc.createSectag(admin, 'acme');
    });
    after(async () => {
      await s?.close();
    });

    test("the manual's walk-through: a /52 reverse zone with inc_updates, a forward zone with a reference, an AAAA → the PTR with ;!REF:", async () => {
      const rev = await call(admin, 'create_zone', { zone: '2001:db8:1:2:3::/52', flags: { incUpdates: true } });
      assert.equal(rev.name, '0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
      await call(admin, 'create_zone', { zone: 'my-new.zone.org', reference: 'nuts@SQUIRREL-NZ', createReference: true, text: head() });
      const r = await call(admin, 'update_zone_text', { zone: 'my-new.zone.org', text: head('@ IN AAAA 2001:db8:1:2:3::1\n') });
      assert.equal(r.changed, true);
      assert.deepEqual(r.reverse?.changes.map((c) => [c.action, c.ptr, c.forward, c.zone]), [
        ['create', reverseNameOfAddress('2001:db8:1:2:3::1'), 'my-new.zone.org.', rev.name],
      ]);
      // show_zone given the address finds the reverse zone CIDR-fashion; the PTR carries the forward zone's reference.
      const shown = await call(admin, 'show_zone', { zone: '2001:db8:1:2:3::1' });
      const text = (shown as { text: string }).text;
      assert.match(text, /;!REF:nuts@SQUIRREL-NZ\n1(\.0){11}\.3\.0\.0\.0\.2\.0\.0\s+300\s+IN\s+PTR\s+my-new\.zone\.org\./);
      // The reverse zone's new version is published, by the actor on behalf of the forward zone, and audited.
      const zi = await svc.getZi(admin, rev.name, 'latest');
      assert.equal(zi.zi.published, true);
      assert.equal(zi.zi.changeBy, 'admin@test/Admin (auto PTR from my-new.zone.org.)');
      const audit = await svc.invoke(admin, 'list_audit', { zone: rev.name });
      assert.ok(JSON.stringify(audit).includes('auto PTR from my-new.zone.org.'), JSON.stringify(audit));
      // Saving again changes nothing in the reverse zone.
      const again = await call(admin, 'update_zone_text', { zone: 'my-new.zone.org', text: head('@ IN AAAA 2001:db8:1:2:3::1\nwww IN TXT "x"\n') });
      assert.equal(again.reverse, undefined);
      assert.equal((await svc.getZi(admin, rev.name, 'latest')).zi.version, zi.zi.version);
    });

    test('A records need FORCEREV (or auto_reverse_ipv4); FORCEREV replaces a PTR naming another host, a plain AAAA does not', async () => {
      await call(admin, 'create_zone', { zone: '198.51.100.0/24', flags: { incUpdates: true }, text: head('9 PTR other.example.\n') });
      await call(admin, 'create_zone', { zone: '2001:db8:f::/48', flags: { incUpdates: true }, text: head() });
      const revAaaa = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.';
      await call(admin, 'create_zone', { zone: 'v4.test', text: head() });
      let r = await call(admin, 'update_zone_text', { zone: 'v4.test', text: head('plain A 198.51.100.7\n') });
      assert.equal(r.reverse, undefined, 'an A record without FORCEREV gets no PTR');
      assert.deepEqual(await ptrs(admin, '100.51.198.in-addr.arpa', '7.100.51.198.in-addr.arpa.'), []);
      r = await call(admin, 'update_zone_text', { zone: 'v4.test', text: head('plain A 198.51.100.7\n;!FORCEREV\nforced A 198.51.100.8\n') });
      assert.deepEqual(await ptrs(admin, '100.51.198.in-addr.arpa', '8.100.51.198.in-addr.arpa.'), ['forced.v4.test.']);
      await svc.setConfig(admin, 'auto_reverse_ipv4', 'true');
      await call(admin, 'update_zone_text', { zone: 'v4.test', text: head('plain A 198.51.100.7\n;!FORCEREV\nforced A 198.51.100.8\nother A 198.51.100.6\n') });
      assert.deepEqual(await ptrs(admin, '100.51.198.in-addr.arpa', '6.100.51.198.in-addr.arpa.'), ['other.v4.test.']);
      await svc.setConfig(admin, 'auto_reverse_ipv4', 'false');
      // An existing PTR naming someone else: a plain record leaves it, FORCEREV takes it over.
      r = await call(admin, 'update_zone_text', { zone: 'v4.test', text: head('plain A 198.51.100.7\nthief AAAA 2001:db8:f::1\n;!FORCEREV\nforced A 198.51.100.8\nwant A 198.51.100.9 ;!FORCEREV\n') });
      assert.deepEqual(await ptrs(admin, '100.51.198.in-addr.arpa', '9.100.51.198.in-addr.arpa.'), ['want.v4.test.']);
      assert.deepEqual(r.reverse?.changes.find((c) => c.ptr.startsWith('9.'))?.previous, ['other.example.']);
      assert.deepEqual(await ptrs(admin, '2001:db8:f::/48', revAaaa), ['thief.v4.test.']);
      r = await call(admin, 'update_zone_text', { zone: 'v4.test', text: head('plain A 198.51.100.7\nthief AAAA 2001:db8:f::1\nsecond AAAA 2001:db8:f::1\n') });
      assert.deepEqual(await ptrs(admin, '2001:db8:f::/48', revAaaa), ['thief.v4.test.'], 'the first AAAA keeps its PTR');
    });

    test('TRACKREV: the PTR follows the record when its address changes and goes when the record goes', async () => {
      await call(admin, 'create_zone', { zone: '2001:db8:7::/48', flags: { incUpdates: true }, text: head() });
      await call(admin, 'create_zone', { zone: 'track.test', text: head(';!TRACKREV\nhost AAAA 2001:db8:7::10\n') });
      const at = (n: string) => reverseNameOfAddress(`2001:db8:7::${n.split('.').reverse().join('')}`)!;
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('0.1')), ['host.track.test.']);
      const r = await call(admin, 'update_zone_text', { zone: 'track.test', text: head(';!TRACKREV\nhost AAAA 2001:db8:7::11\n') });
      assert.deepEqual(r.reverse?.changes.map((c) => c.action).sort(), ['create', 'remove']);
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('0.1')), []);
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('1.1')), ['host.track.test.']);
      // Both PTR changes of one save are one new version of the reverse zone.
      assert.equal(r.reverse?.zones.length, 1);
      await call(admin, 'update_zone_text', { zone: 'track.test', text: head() });
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('1.1')), []);
      // Through update_rrs (the delta path RFC 2136 uses too): add with TRACKREV, then delete.
      await call(admin, 'update_zone_text', { zone: 'track.test', text: head(';!TRACKREV\nhost AAAA 2001:db8:7::12\n') });
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('2.1')), ['host.track.test.']);
      const d = await call(admin, 'update_rrs', { zone: 'track.test', records: [{ action: 'delete', name: 'host', type: 'AAAA' }] });
      assert.deepEqual(d.reverse?.changes.map((c) => c.action), ['remove']);
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('2.1')), []);
      const a = await call(admin, 'update_rrs', { zone: 'track.test', records: [{ action: 'add', name: 'dyn', type: 'AAAA', rdata: '2001:db8:7::13' }] });
      assert.deepEqual(a.reverse?.changes.map((c) => c.action), ['create']);
      assert.deepEqual(await ptrs(admin, '2001:db8:7::/48', at('3.1')), ['dyn.track.test.']);
    });

    test('LOCKPTR is never touched; a reverse zone without inc_updates and a missing reverse zone are reported, the forward save stands', async () => {
      // The /24 also delegates 203.0.113.64/26 to another organisation, RFC 2317 style (NS + CNAME), and a /56 of
      // the IPv6 /48 below; PTRs there are not this zone's to write.
      await call(admin, 'create_zone', {
        zone: '203.0.113.0/24',
        flags: { incUpdates: true },
        text: head(';!LOCKPTR\n25 PTR mail.example.\n64/26 NS ns.other.example.\n70 CNAME 70.64/26\n'),
      });
      await call(admin, 'create_zone', { zone: '2001:db8:d::/48', flags: { incUpdates: true }, text: head('0.0 NS ns.other.example.\n') });
      await call(admin, 'create_zone', { zone: '2001:db8:e::/48', flags: { incUpdates: false }, text: head() });
      await call(admin, 'create_zone', { zone: 'lock.test', text: head() });
      const revLock = await svc.getZi(admin, '113.0.203.in-addr.arpa', 'latest');
      const revNoInc = await svc.getZi(admin, 'e.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'latest');
      const r = await call(admin, 'update_zone_text', {
        zone: 'lock.test',
        text: head(';!FORCEREV\nmx A 203.0.113.25\nv6 AAAA 2001:db8:e::1\nnowhere AAAA 2001:db8:9999::1\n;!FORCEREV\nclassless A 203.0.113.70\nsub AAAA 2001:db8:d:1::1\n'),
      });
      assert.equal(r.changed, true, 'the forward save stands');
      assert.deepEqual(r.reverse?.changes, []);
      assert.deepEqual(r.reverse?.skipped.map((k) => k.reason).sort(), ['delegated', 'delegated', 'locked', 'no_inc_updates', 'no_reverse_zone']);
      assert.match(r.reverse?.skipped.find((k) => k.forward === 'classless.lock.test.')?.message ?? '', /is a CNAME \(RFC 2317 classless delegation\)/);
      assert.match(r.reverse?.skipped.find((k) => k.forward === 'sub.lock.test.')?.message ?? '', /delegated away .* \(NS at 0\.0\.d\.0\.0\.0\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa\.\)/);
      assert.deepEqual(await ptrs(admin, '113.0.203.in-addr.arpa', '25.113.0.203.in-addr.arpa.'), ['mail.example.']);
      assert.equal((await svc.getZi(admin, '113.0.203.in-addr.arpa', 'latest')).zi.version, revLock.zi.version);
      assert.equal((await svc.getZi(admin, 'e.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', 'latest')).zi.version, revNoInc.zi.version);
      // check_reverse lists them; refresh_zone_ptrs (dry run) would change nothing.
      const chk = await call(admin, 'check_reverse', { zone: 'lock.test' });
      assert.deepEqual(chk.items.map((i) => [i.forward, i.status]).sort(), [
        ['classless.lock.test.', 'missing'],
        ['mx.lock.test.', 'elsewhere'],
        ['nowhere.lock.test.', 'no_reverse_zone'],
        ['sub.lock.test.', 'missing'],
        ['v6.lock.test.', 'missing'],
      ]);
    });

    test("a customer writes PTRs only where its forward zone's reference is the reverse zone's or the PTR's REF:; refusals are reported, nothing written", async () => {
      await svc.createReference(admin, 'ACME-REF');
      await svc.createReference(admin, 'GLOBEX-REF');
      // Reverse zones the customer cannot even see (no acme sectag): the reference decides.
      await call(admin, 'create_zone', { zone: '2001:db8:aaaa::/48', reference: 'ACME-REF', flags: { incUpdates: true }, text: head() });
      await call(admin, 'create_zone', {
        zone: '2001:db8:bbbb::/48',
        reference: 'GLOBEX-REF',
        flags: { incUpdates: true },
        text: head(';!REF:acme-ref\n2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR old.example.\n3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR globex.example.\n'),
      });
      await call(acme, 'create_zone', { zone: 'shop.acme.test', reference: 'ACME-REF', text: head() });
      const dump = async () => JSON.parse(await dumpTables(s, ['records'])) as { records: unknown[] };
      const before = await dump();
      const bbbb = await svc.getZi(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', 'latest');
      const r = await call(acme, 'update_zone_text', {
        zone: 'shop.acme.test',
        text: head('own AAAA 2001:db8:aaaa::1\nforeign AAAA 2001:db8:bbbb::1\n;!FORCEREV\ndelegated AAAA 2001:db8:bbbb::2\n;!FORCEREV\ntheirs AAAA 2001:db8:bbbb::3\n'),
      });
      assert.equal(r.changed, true);
      // Own reverse zone: created. A PTR delegated to ACME-REF by its REF: in GLOBEX's zone: replaced.
      assert.deepEqual(r.reverse?.changes.map((c) => [c.action, c.forward]).sort(), [
        ['create', 'own.shop.acme.test.'],
        ['replace', 'delegated.shop.acme.test.'],
      ]);
      // A new PTR in GLOBEX's zone and GLOBEX's own PTR: refused, with the reason.
      const refused = r.reverse?.skipped.filter((k) => k.reason === 'refused') ?? [];
      assert.deepEqual(refused.map((k) => k.forward).sort(), ['foreign.shop.acme.test.', 'theirs.shop.acme.test.']);
      assert.match(refused[0].message, /is delegated to the forward zone's reference \(ACME-REF\)/);
      // The other customer's reference is not disclosed to this one.
      for (const k of refused) assert.doesNotMatch(k.message, /GLOBEX/);
      assert.deepEqual(await ptrs(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa.'), ['globex.example.']);
      assert.deepEqual(await ptrs(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa.'), []);
      // The refusal is an event for the operators.
      const ev = (await svc.listEvents(admin)).filter((e) => e.type === 'auto_ptr_refused');
      assert.equal(ev.length, 1);
      assert.equal(ev[0].zone, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa.');
      assert.match(ev[0].lastError ?? '', /2 PTR change\(s\) from shop\.acme\.test\. refused/);
      // GLOBEX's zone got one version (the delegated PTR), the forward zone one: nothing else was written.
      assert.equal((await svc.getZi(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', 'latest')).zi.version, bbbb.zi.version + 1);
      const after = await dump();
      const newRows = after.records.length - before.records.length;
      assert.equal(newRows, 4 + 1 + 1, 'four AAAA rows, the new PTR in ACME-REF\'s zone and the replaced one in GLOBEX\'s');
      // Staff may write anywhere.
      const staff = await call(admin, 'refresh_zone_ptrs', { zone: 'shop.acme.test', dryRun: true });
      assert.deepEqual(staff.changes.map((c) => c.forward).sort(), ['foreign.shop.acme.test.', 'theirs.shop.acme.test.']);
      assert.equal(staff.dryRun, true);
      assert.deepEqual(await ptrs(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa.'), [], 'a dry run writes nothing');
      const done = await call(admin, 'refresh_zone_ptrs', { zone: 'shop.acme.test' });
      assert.equal(done.changes.length, 2);
      assert.deepEqual(await ptrs(admin, 'b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.b.b.b.8.b.d.0.1.0.0.2.ip6.arpa.'), ['foreign.shop.acme.test.']);
    });

    test('a bulk save (1,500 AAAA) writes every PTR as one new version of the reverse zone; removing them all (TRACKREV) too', async () => {
      await call(admin, 'create_zone', { zone: '2001:db8:b0::/48', flags: { incUpdates: true }, text: head() });
      const recs = Array.from({ length: 1500 }, (_, i) => `;!TRACKREV\nh${i} AAAA 2001:db8:b0:${(i % 64).toString(16)}::${(i + 1).toString(16)}\n`).join('');
      await call(admin, 'create_zone', { zone: 'bulk.test', text: head() });
      const rev = '0.b.0.0.8.b.d.0.1.0.0.2.ip6.arpa.';
      const v0 = (await svc.getZi(admin, rev, 'latest')).zi.version;
      const r = await call(admin, 'update_zone_text', { zone: 'bulk.test', text: head(recs) });
      assert.equal(r.reverse?.changes.length, 1500);
      assert.deepEqual(r.reverse?.zones.map((z) => z.version), [v0 + 1]);
      const content = await svc.getZoneContent(admin, rev, 'latest');
      assert.equal(content.records.filter((x) => x.type === RRType.PTR).length, 1500);
      assert.deepEqual(await ptrs(admin, rev, reverseNameOfAddress('2001:db8:b0:1b::5dc')!), ['h1499.bulk.test.']);
      const gone = await call(admin, 'update_zone_text', { zone: 'bulk.test', text: head() });
      assert.equal(gone.reverse?.changes.filter((c) => c.action === 'remove').length, 1500);
      assert.equal((await svc.getZoneContent(admin, rev, 'latest')).records.filter((x) => x.type === RRType.PTR).length, 0);
      assert.equal((await svc.getZi(admin, rev, 'latest')).zi.version, v0 + 2);
    });

    test('RFC 2317: a classless zone gets the delegation and CNAMEs in the parent /24, auto PTRs go into it, deleting it takes them out', async () => {
      const parent = await call(admin, 'create_zone', { zone: '192.0.2.0/24', flags: { incUpdates: true }, text: head() });
      const child = await call(admin, 'create_zone', { zone: '192.0.2.64/26', flags: { incUpdates: true }, text: head() });
      assert.equal(child.name, '64/26.2.0.192.in-addr.arpa.');
      assert.deepEqual(await typesAt(admin, parent.name, '64/26.2.0.192.in-addr.arpa.'), ['NS ns1.dms.invalid.']);
      assert.deepEqual(await typesAt(admin, parent.name, '70.2.0.192.in-addr.arpa.'), ['CNAME 70.64/26.2.0.192.in-addr.arpa.']);
      const content = await svc.getZoneContent(admin, parent.name, 'latest');
      assert.equal(content.records.filter((r) => r.type === RRType.CNAME).length, 64);
      // An address finds the classless zone (most specific), by zone_tool argument and by the auto-PTR step.
      assert.equal((await call(admin, 'find_zone', { zone: '192.0.2.70' })).zone, child.name);
      assert.equal((await call(admin, 'find_zone', { zone: '192.0.2.10' })).zone, parent.name);
      await call(admin, 'create_zone', { zone: 'classless.test', text: head(';!FORCEREV\nweb A 192.0.2.70\n;!FORCEREV\nlow A 192.0.2.10\n;!FORCEREV\nhigh A 192.0.2.130\n') });
      assert.deepEqual(await ptrs(admin, parent.name, '130.2.0.192.in-addr.arpa.'), ['high.classless.test.']);
      assert.deepEqual(await ptrs(admin, child.name, '70.64/26.2.0.192.in-addr.arpa.'), ['web.classless.test.']);
      assert.deepEqual(await ptrs(admin, parent.name, '10.2.0.192.in-addr.arpa.'), ['low.classless.test.']);
      // Service paths dmsd uses (NOTIFY, UPDATE): the '/' name is a name.
      const atOwners = await svc.getZoneAtOwners(admin, child.name, [Name.parse('70.64/26.2.0.192.in-addr.arpa.').key]);
      assert.equal(atOwners.zone.name, child.name);
      assert.equal((await svc.getZoneHead(admin, '64/26.2.0.192.in-addr.arpa.')).zone.name, child.name);
      // Deleting the child takes its delegation and CNAMEs out of the parent, in the same transaction.
      await call(admin, 'delete_zone', { zone: '192.0.2.64/26' });
      assert.deepEqual(await typesAt(admin, parent.name, '64/26.2.0.192.in-addr.arpa.'), []);
      assert.deepEqual(await typesAt(admin, parent.name, '70.2.0.192.in-addr.arpa.'), []);
      assert.deepEqual(await ptrs(admin, parent.name, '10.2.0.192.in-addr.arpa.'), ['low.classless.test.']);
      // PTRs the parent held for the block move into a classless zone created later (the CNAME takes their name).
      await call(admin, 'create_zone', { zone: '192.0.2.128/26', flags: { incUpdates: true }, text: head() });
      assert.deepEqual(await ptrs(admin, parent.name, '130.2.0.192.in-addr.arpa.'), []);
      assert.deepEqual(await typesAt(admin, parent.name, '130.2.0.192.in-addr.arpa.'), ['CNAME 130.128/26.2.0.192.in-addr.arpa.']);
      assert.deepEqual(await ptrs(admin, '128/26.2.0.192.in-addr.arpa.', '130.128/26.2.0.192.in-addr.arpa.'), ['high.classless.test.']);
      // A /24 created after its classless child takes the child's delegation then.
      await call(admin, 'create_zone', { zone: '198.18.0.128/25', flags: { incUpdates: true }, text: head() });
      await call(admin, 'create_zone', { zone: '198.18.0.0/24', text: head() });
      assert.deepEqual(await typesAt(admin, '0.18.198.in-addr.arpa', '255.0.18.198.in-addr.arpa.'), ['CNAME 255.128/25.0.18.198.in-addr.arpa.']);
    });
    test('migration 0013 gives existing reverse zones their network key (down, then up: the backfill)', async () => {
      const { reverseNetworks } = await import('../../src/store/migrations-reverse.js');
      // biome-ignore lint/suspicious/noExplicitAny: the migration works on the untyped schema
      const db = s.db as any;
      await reverseNetworks.down?.(db);
      await reverseNetworks.up(db);
      const rows = (await db.selectFrom('zones').select(['name', 'rev_net']).where('state', '<>', 'DELETED').execute()) as { name: string; rev_net: string | null }[];
      const byName = new Map(rows.map((r) => [r.name, r.rev_net]));
      assert.equal(byName.get('my-new.zone.org.'), null);
      assert.equal(byName.get('2.0.192.in-addr.arpa.')?.length, 25);
      assert.equal(byName.get('128/26.2.0.192.in-addr.arpa.')?.length, 27);
      assert.equal((await call(admin, 'find_zone', { zone: '192.0.2.130' })).zone, '128/26.2.0.192.in-addr.arpa.');
      assert.equal((await call(admin, 'find_zone', { zone: '2001:db8:1:2:3::1' })).zone, '0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
    });
  });
