// services.applyRecordDelta: an RFC 2136 change stored as its difference only. History stays exact (diffVersions,
// old versions), the checks a difference can break are enforced from the touched owners, and the UPDATE sink reads
// the records from the server's compiled zone when that is the newest version.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { RRClass, RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText, rdataToText } from '../../src/dns/rdata.js';
import { typeFromString } from '../../src/dns/constants.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { attachPrimary } from '../../src/server/primary.js';
import { servicesUpdateSink } from '../../src/daemon/primary-ports.js';
import { QueryHandler } from '../../src/server/query.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ZoneTable } from '../../src/zone/table.js';
import { parseGrant } from '../../src/zone/update.js';
import { compileZone } from '../../src/zone/zone.js';
import { testBackends } from '../helpers/postgres.js';
import { serveQueries } from '../helpers/query-server.js';
import { type Responder, run } from '../helpers/xfr.support.js';
import { ctxOf } from '../helpers/context.js';

const { sqlite, backends } = testBackends();

const by = 'dyn.key';

function rr(zone: string, owner: string, type: number, text: string, ttl = 300, klass: number = RRClass.IN): RR {
  const origin = Name.from(zone);
  return { name: Name.parse(owner, origin), type, class: klass, ttl, rdata: rdataFromText(type, text.split(' ').map((t) => (t.startsWith('"') ? { text: t.slice(1, -1), quoted: true } : { text: t, quoted: false })), origin) };
}
const line = (r: { name: Name; type: number; ttl: number; rdata: Uint8Array }) => `${r.name.key} ${r.ttl} ${r.type} ${rdataToText(r.type, r.rdata)}`;
const lines = (rs: readonly { name: Name; type: number; ttl: number; rdata: Uint8Array }[]) => rs.map(line).sort();

type Sent = { stdout: string; stderr: string };
/** The RCODE nsupdate reports for a step (NOERROR when it reports none). */
const nsStatus = (r: Sent) => (r.stdout + r.stderr).match(/status: (\w+)|(REFUSED|NXDOMAIN|YXDOMAIN|NXRRSET|YXRRSET|SERVFAIL)/)?.[0] ?? 'NOERROR';

/** Each step of `script` (ZONE: the zone's name) sent to zone `a`, then to zone `b`: the same answer each time. */
async function sameAnswers(send: (zone: string, lines: string[]) => Promise<Sent>, [a, b]: [string, string], script: string[][]): Promise<void> {
  for (const step of script) {
    const ra = await send(a, step);
    const rb = await send(b, step);
    assert.equal(nsStatus(ra), nsStatus(rb), `${step.join('; ')}: ${ra.stdout}${ra.stderr} vs ${rb.stdout}${rb.stderr}`);
  }
}

/** Zones `a` and `b` went through the same versions: serials, records and each version's difference (names aside). */
async function sameVersions(s: Store, [a, b]: [string, string]): Promise<svc.ZiInfo[]> {
  const norm = (zone: string, rs: readonly { name: Name; type: number; ttl: number; rdata: Uint8Array }[]) =>
    lines(rs)
      .map((l) => l.replaceAll(`${zone}.`, 'Z'))
      .sort();
  const za = await svc.listZis(ctxOf(s), a);
  const zb = await svc.listZis(ctxOf(s), b);
  assert.deepEqual(
    za.map((z) => z.soaSerial),
    zb.map((z) => z.soaSerial),
    'the same versions',
  );
  for (const zi of za) {
    const ca = await svc.getZoneContent(ctxOf(s), a, zi.version);
    const cb = await svc.getZoneContent(ctxOf(s), b, zi.version);
    assert.deepEqual(norm(a, ca.records.slice(1)), norm(b, cb.records.slice(1)), `version ${zi.version}`);
    if (zi.version > 1) {
      const da = await svc.diffVersions(ctxOf(s), a, zi.version - 1, zi.version);
      const db = await svc.diffVersions(ctxOf(s), b, zi.version - 1, zi.version);
      assert.deepEqual(norm(a, da.added), norm(b, db.added));
      assert.deepEqual(norm(a, da.removed), norm(b, db.removed));
    }
  }
  return za;
}

const BODY = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.10
www A 192.0.2.11
alias CNAME www
mail A 192.0.2.25
@ MX 10 mail
off A 192.0.2.99
`;

for (const backend of backends) {
  describe(`applyRecordDelta on ${backend.name}`, () => {
    let s: Store;
    let n = 0;
    before(async () => {
      s = await backend.open();
      await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
      await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
    });
    after(async () => s.close());
    const fresh = async (editLock = false) => {
      const zone = `z${n++}.example`;
      await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true, editLock }, text: BODY });
      return zone;
    };
    const latest = async (zone: string) => (await svc.getZoneContent(ctxOf(s), zone, 'latest')).zi.version;

    test('writes only the difference; diffVersions and old versions stay exact', async () => {
      const zone = await fresh();
      const before = await svc.getZoneContent(ctxOf(s), zone, 'latest');
      const v = before.zi.version;
      const res = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v, removed: [rr(zone, 'www', RRType.A, '192.0.2.10')], added: [rr(zone, 'new', RRType.A, '192.0.2.77'), rr(zone, 'www', RRType.A, '192.0.2.12'), rr(zone, 'new', RRType.TXT, '"hi"', 60)], comment: 'delta' });
      assert.equal(res.changed, true);
      assert.equal(res.version, v + 1);
      assert.equal(res.published, true);
      assert.ok(res.serial > before.zi.soaSerial);
      const d = await svc.diffVersions(ctxOf(s), zone, v, v + 1);
      assert.deepEqual(lines(d.removed), [`www.${zone}. 300 1 192.0.2.10`]);
      assert.deepEqual(lines(d.added), [`new.${zone}. 300 1 192.0.2.77`, `new.${zone}. 60 16 "hi"`, `www.${zone}. 300 1 192.0.2.12`].sort());
      // The old version reads as before; the new one is the old plus the change.
      assert.deepEqual(lines((await svc.getZoneContent(ctxOf(s), zone, v)).records.slice(1)), lines(before.records.slice(1)));
      const now = await svc.getZoneContent(ctxOf(s), zone, 'latest');
      const expect = [...lines(before.records.slice(1)).filter((l) => l !== `www.${zone}. 300 1 192.0.2.10`), ...lines(d.added)].sort();
      assert.deepEqual(lines(now.records.slice(1)), expect);
      assert.equal(now.zi.changeBy, 'dyn.key');
      assert.equal(now.zi.comment, 'delta');
      assert.equal(now.zi.soaSerial, res.serial);
      const zis = await svc.listZis(ctxOf(s), zone);
      assert.equal(zis.length, 2);
      assert.equal(zis.find((z) => z.version === v + 1)?.published, true);
      // Published: what the servers load is the new version.
      const published = await svc.loadPublishedZone(ctxOf(s), zone);
      assert.equal(published?.version, v + 1);
      assert.equal(published?.serial, res.serial);
      const { changes } = await svc.pollChanges(ctxOf(s), 0);
      assert.ok(changes.some((c) => c.zone.replace(/\.$/, '') === zone && c.kind === 'publish' && c.version === v + 1));
    });

    test('a removed record that is gone, or a moved base version, is an EditConflict; nothing stored', async () => {
      const zone = await fresh();
      const v = await latest(zone);
      await assert.rejects(
        svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v, removed: [rr(zone, 'www', RRType.A, '192.0.2.200')], added: [] }),
        svc.EditConflict,
      );
      await assert.rejects(
        svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v - 1, removed: [], added: [rr(zone, 'x', RRType.A, '192.0.2.1')] }),
        svc.EditConflict,
      );
      assert.equal(await latest(zone), v);
    });

    test('checks what a difference can break, at the touched owners', async () => {
      const zone = await fresh();
      const v = await latest(zone);
      const refused = async (removed: RR[], added: RR[], pattern: RegExp) => {
        await assert.rejects(svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v, removed, added }), (e: unknown) => {
          assert.ok(e instanceof svc.ZoneValidationFailed, String(e));
          assert.match(e.message + JSON.stringify(e.problems), pattern);
          return true;
        });
      };
      await refused([], [rr(zone, 'www', RRType.CNAME, 'mail')], /CNAME and other data/);
      await refused([], [rr(zone, 'alias', RRType.A, '192.0.2.5')], /CNAME and other data/);
      await refused([], [rr(zone, 'alias', RRType.CNAME, 'mail')], /more than one CNAME/);
      await refused([rr(zone, '@', RRType.NS, 'ns1')], [], /no NS records at the zone apex/);
      await refused([], [{ ...rr(zone, 'x', RRType.A, '192.0.2.1'), name: Name.from('x.elsewhere.test') }], /out of zone/);
      await refused([], [rr(zone, 'x', RRType.A, '192.0.2.1', 300, RRClass.CH)], /class IN/);
      await refused([], [rr(zone, 'sub', RRType.SOA, 'ns1 hostmaster 5 3600 900 604800 300')], /not the zone apex/);
      await refused([], [rr(zone, '@', RRType.MX, '20 nohost')], /no A or AAAA/);
      await refused([rr(zone, 'mail', RRType.A, '192.0.2.25')], [], /target mail\..* no A or AAAA/);
      // A target that is an alias is named so (RFC 2181 §10.3), not as a name without addresses.
      await refused([], [rr(zone, '@', RRType.MX, '40 alias')], /target alias\.\S* is inside the zone and an alias \(CNAME\)/);
      await refused([], [rr(zone, 'dn', RRType.DNAME, 'a.example.net.'), rr(zone, 'dn', RRType.DNAME, 'b.example.net.')], /more than one DNAME/);
      // A target below a DNAME is occluded (RFC 6672 §2.3): its address is not served.
      await refused([], [rr(zone, 'd', RRType.DNAME, 'example.net.'), rr(zone, 'h.d', RRType.A, '192.0.2.9'), rr(zone, '@', RRType.MX, '30 h.d')], /h\.d\..* below the DNAME at d\./);
      await refused([], [rr(zone, '@', RRType.DNAME, 'example.net.')], /target ns1\..* below the DNAME at z/);
      assert.equal(await latest(zone), v);
      // Allowed: DNSSEC companions next to a CNAME, an MX whose target gets its address in the same change, a
      // target's address replaced, apex NS replaced.
      const ok = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v, removed: [rr(zone, 'mail', RRType.A, '192.0.2.25'), rr(zone, '@', RRType.NS, 'ns1')], added: [
          rr(zone, 'alias', RRType.NSEC, 'www A RRSIG NSEC'),
          rr(zone, '@', RRType.MX, '20 mx2'),
          rr(zone, 'mx2', RRType.AAAA, '2001:db8::25'),
          rr(zone, 'mail', RRType.A, '192.0.2.26'),
          rr(zone, '@', RRType.NS, 'ns1.example.net.'),
        ] });
      assert.equal(ok.version, v + 1);
    });

    test('edit lock held by someone else: refused, as saving is', async () => {
      const zone = await fresh(true);
      const v = await latest(zone);
      await svc.editZone(ctxOf(s, 'operator'), zone);
      await assert.rejects(
        svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: v, removed: [], added: [rr(zone, 'x', RRType.A, '192.0.2.1')] }),
        svc.EditLockConflict,
      );
      assert.equal(await latest(zone), v);
    });

    test('serial: an explicit larger serial is taken; otherwise the policy; no-op stores nothing', async () => {
      const zone = await fresh();
      const c = await svc.getZoneContent(ctxOf(s), zone, 'latest');
      const want = c.zi.soaSerial + 1000;
      const r = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: c.zi.version, removed: [], added: [rr(zone, 'a', RRType.A, '192.0.2.3')], explicitSerial: want });
      assert.equal(r.serial, want);
      // SOA fields changed through the apex SOA.
      const soa = rr(zone, '@', RRType.SOA, `ns1 hostmaster ${want} 7200 900 604800 300`);
      const r2 = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: r.version, removed: [c.records[0]], added: [soa] });
      assert.equal(r2.changed, true);
      assert.ok(r2.serial > want);
      assert.equal((await svc.getZoneContent(ctxOf(s), zone, 'latest')).zi.soaRefresh, 7200);
      // An add of what is already there changes nothing.
      const r3 = await svc.applyRecordDelta(ctxOf(s, by), zone, { baseVersion: r2.version, removed: [], added: [rr(zone, 'a', RRType.A, '192.0.2.3')] });
      assert.equal(r3.changed, false);
      assert.equal(await latest(zone), r2.version);
    });
  });
}

describe('UPDATE sink reads from the compiled zone when it is current', () => {
  let s: Store;
  before(async () => {
    s = await sqlite.open();
    await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
    await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
  });
  after(async () => s.close());

  test('table current → its records; stale table or disabled records → the database', async () => {
    const zone = 'sink.example';
    await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true }, text: BODY });
    const table = new ZoneTable();
    const publish = async () => {
      const p = await svc.loadPublishedZone(ctxOf(s), zone);
      assert.ok(p);
      table.set(compileZone(p.origin, p.records));
    };
    await publish();
    const sink = servicesUpdateSink(s, () => [], { table });
    const origin = Name.from(zone);
    const z1 = await sink.getZone(origin);
    assert.ok(z1);
    // Prove the table is what was read: a record only the table has.
    const marker = rr(zone, 'only-in-table', RRType.A, '192.0.2.250');
    const p = await svc.loadPublishedZone(ctxOf(s), zone);
    assert.ok(p);
    table.set(compileZone(p.origin, [...p.records, marker]));
    const z2 = await sink.getZone(origin);
    assert.ok(z2);
    assert.ok(z2.records.some((r) => r.name.key === marker.name.key));
    // A commit moves the database ahead of the table: the next read is from the database.
    const r = await sink.commit({ origin, baseSerial: z2.serial, baseVersion: z2.version, removed: [], added: [rr(zone, 'n1', RRType.A, '192.0.2.51')], records: [], changeBy: 'dyn.key' });
    const z3 = await sink.getZone(origin);
    assert.equal(z3?.serial, r.serial);
    assert.ok(!z3.records.some((r) => r.name.key === marker.name.key));
    assert.ok(z3.records.some((x) => x.name.key === `n1.${zone}.`));
    // Removing a record the table claims but the database lacks: conflict, and the retry reads the database.
    table.set(compileZone(p.origin, [...(await svc.loadPublishedZone(ctxOf(s), zone))!.records, marker]));
    const z4 = await sink.getZone(origin);
    assert.ok(z4);
    assert.ok(z4.records.some((r) => r.name.key === marker.name.key));
    await assert.rejects(sink.commit({ origin, baseSerial: z4.serial, baseVersion: z4.version, removed: [marker], added: [], records: [], changeBy: 'dyn.key' }), { name: 'UpdateConflict' });
    const z5 = await sink.getZone(origin);
    assert.ok(!z5?.records.some((r) => r.name.key === marker.name.key));
    // A disabled record is not in the table but is in the zone: such zones are read from the database.
    const c = await svc.getZoneContent(ctxOf(s), zone, 'latest');
    await svc.saveZone(ctxOf(s, by), zone, c.records.map((r) => (r.name.key === `off.${zone}.` ? { ...r, flags: { disable: true } } : r)));
    const pub = await svc.loadPublishedZone(ctxOf(s), zone);
    assert.ok(pub && !pub.records.some((r) => r.name.key === `off.${zone}.`));
    table.set(compileZone(pub.origin, [...pub.records, marker]));
    const z6 = await sink.getZone(origin);
    assert.ok(z6);
    assert.ok(z6.records.some((r) => r.name.key === `off.${zone}.`));
    assert.ok(!z6.records.some((r) => r.name.key === marker.name.key));
  });
});

describe('UPDATE through Primary with a name-scoped read equals the whole-zone read', () => {
  let s: Store;
  let server: Responder;
  const KEY: TsigKey = { name: Name.from('dyn.key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };
  const spec = `hmac-sha256:dyn.key:${Buffer.from(KEY.secret).toString('base64')}`;
  const wholeReads: string[] = [];
  const scopedReads: string[][] = [];
  const transacted: string[][] = [];
  before(async () => {
    s = await sqlite.open();
    await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
    await svc.setConfig(ctxOf(s), 'edit_lock', 'false');
    for (const zone of ['scoped.example', 'whole.example'])
      await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true }, text: `${BODY}${Array.from({ length: 50 }, (_, i) => `h${i} A 198.51.100.${i}\n`).join('')}` });
    // A heavy apex (what operators' zones have: verification strings, MX, CAA) with a DNAME, its name servers out of the
    // zone (a DNAME at the apex occludes every name below it, RFC 6672 §2.3).
    const apex = `$TTL 300\n@ SOA ns1.other.example. hostmaster.other.example. 1 3600 900 604800 300\n@ NS ns1.other.example.\n@ NS ns2.other.example.\n${Array.from({ length: 20 }, (_, i) => `@ TXT "site-verification=${i}"\n`).join('')}@ CAA 0 issue "letsencrypt.org"\n@ DNAME elsewhere.example.\n`;
    for (const zone of ['dname.example', 'whole-dname.example']) await svc.createZone(ctxOf(s, by), zone, { flags: { incUpdates: true }, text: apex });
    const table = new ZoneTable();
    const qh = new QueryHandler(table);
    const inner = servicesUpdateSink(s, () => [parseGrant('grant dyn.key. zonesub ANY', (t) => Name.from(t), typeFromString)]);
    // One zone through the scoped read, the other through the whole-zone read only.
    attachPrimary(qh, {
      transfers: { getZone: () => undefined, getDiffs: () => undefined, transferRules: () => [] },
      updates: {
        getZone: (o) => {
          wholeReads.push(o.key);
          return inner.getZone(o);
        },
        getZoneAt: (o, keys) => {
          if (o.key.startsWith('whole')) {
            wholeReads.push(o.key);
            return inner.getZone(o);
          }
          scopedReads.push([...keys].sort());
          return inner.getZoneAt(o, keys);
        },
        // dname.example: dmsd's way, read and commit in one transaction; the others read, then commit.
        transact: (o, keys, author, decide) => {
          if (o.key !== 'dname.example.') return Promise.resolve('apart' as const);
          transacted.push([...keys]);
          return inner.transact(o, keys, author, decide);
        },
        commit: (c) => inner.commit(c),
      },
      keys: { get: (n) => (n.equals(KEY.name) ? KEY : undefined) },
    });
    server = await serveQueries(qh);
  });
  after(async () => {
    await server?.close();
    await s?.close();
  });
  const nsupdate = (zone: string, lines: string[]) =>
    run('nsupdate', ['-y', spec], [`server 127.0.0.1 ${server.port}`, `zone ${zone}`, ...lines.map((l) => l.replaceAll('ZONE', zone)), 'send', ''].join('\n'));

  test('same answers, same resulting versions, only the named owners read', async () => {
    const script: string[][] = [
      ['update add new.ZONE. 60 A 192.0.2.77', 'update delete www.ZONE. A 192.0.2.10'],
      ['prereq nxdomain new.ZONE.', 'update add never.ZONE. 60 A 192.0.2.1'],
      ['prereq yxrrset www.ZONE. A', 'update add www.ZONE. 120 A 192.0.2.13'],
      ['update add alias.ZONE. 60 A 192.0.2.5'],
      ['update delete h7.ZONE.', 'update add h8.ZONE. 300 TXT "x"'],
      ['update delete ZONE. NS'],
      ['update add mx2.ZONE. 60 CNAME www.ZONE.', 'update add mx2.ZONE. 60 A 192.0.2.6'],
      ['update add ZONE. 300 MX 20 nohost.ZONE.'],
      ['update delete mail.ZONE. A'],
      ['update add ZONE. 300 SOA ns1.ZONE. hostmaster.ZONE. 2999999999 7200 900 604800 300'],
    ];
    await sameAnswers(nsupdate, ['scoped.example', 'whole.example'], script);
    const za = await sameVersions(s, ['scoped.example', 'whole.example']);
    assert.ok(za.length >= 6, `versions: ${za.length}`);
    // The explicit serial was taken; the refused steps stored nothing.
    assert.equal(za.reduce((a, b) => (b.version > a.version ? b : a)).soaSerial, 2999999999);
    // The scoped reads named only the owners of the message's prerequisites and updates (the apex only when they
    // name it; its SOA comes with the version, a DNAME there is read apart), never the whole zone.
    assert.ok(scopedReads.length >= script.length);
    for (const keys of scopedReads) assert.ok(keys.length <= 2, keys.join(' '));
    assert.ok(scopedReads.some((keys) => keys.includes('scoped.example.')), 'the steps naming the apex pass it');
    assert.ok(scopedReads.some((keys) => !keys.includes('scoped.example.')), 'the others do not');
    assert.ok(!wholeReads.includes('scoped.example.'));
  });

  test('adds below an apex DNAME are ignored, the apex itself changes, versions equal', async () => {
    const script: string[][] = [
      ['update add below.ZONE. 60 A 192.0.2.77'],
      ['update add ZONE. 300 TXT "added-at-the-apex"'],
      ['prereq yxrrset ZONE. DNAME', 'update add below2.ZONE. 60 TXT "x"'],
      ['update add mx.ZONE. 300 MX 10 ZONE.'],
      ['update delete ZONE. DNAME'],
      ['update add below.ZONE. 60 A 192.0.2.77'],
      // A DNAME between an added name and the apex, and a host with records of its own under an ACME challenge name.
      ['update add sub.ZONE. 60 DNAME elsewhere2.example.', 'update add host.ZONE. 60 A 192.0.2.80', 'update add host.ZONE. 60 TXT "v=spf1 -all"'],
      ['update add x.y.sub.ZONE. 60 A 192.0.2.81'],
      ['update add _acme-challenge.host.ZONE. 60 TXT "token"'],
      ['prereq yxrrset sub.ZONE. DNAME', 'update add x.sub.ZONE. 60 TXT "x"', 'update add after.ZONE. 60 TXT "y"'],
      ['update add ZONE. 60 DNAME other.example.'],
      ['update add below3.ZONE. 60 A 192.0.2.78'],
    ];
    await sameAnswers(nsupdate, ['dname.example', 'whole-dname.example'], script);
    await sameVersions(s, ['dname.example', 'whole-dname.example']);
    const last = await svc.getZoneContent(ctxOf(s), 'dname.example', 'latest');
    const owners = new Set(last.records.map((r) => r.name.key));
    assert.ok(!owners.has('below2.dname.example.') && !owners.has('below3.dname.example.'), 'adds below the apex DNAME were ignored');
    assert.ok(owners.has('below.dname.example.'), 'the add after the DNAME went is in');
    assert.ok(!owners.has('x.y.sub.dname.example.') && !owners.has('x.sub.dname.example.'), 'adds below sub\'s DNAME were ignored');
    assert.ok(owners.has('_acme-challenge.host.dname.example.') && owners.has('after.dname.example.'), 'adds beside them are in');
    assert.ok(last.records.some((r) => r.type === RRType.TXT && r.name.key === 'dname.example.' && rdataToText(r.type, r.rdata) === '"added-at-the-apex"'), 'the apex TXT is in');
    // dmsd's path (one transaction) named the apex only for the steps that name it.
    const own = transacted.filter((keys) => keys.some((k) => k.endsWith('dname.example.')));
    assert.ok(own.length >= 6, `transactions: ${own.length}`);
    assert.ok(own.some((keys) => !keys.includes('dname.example.')), 'steps below the apex do not name it');
    assert.ok(own.some((keys) => keys.includes('dname.example.')), 'steps at the apex name it');
    assert.ok(own.some((keys) => keys.includes('_acme-challenge.host.dname.example.') && !keys.includes('host.dname.example.')), 'the names above are not owners');
  });
});
