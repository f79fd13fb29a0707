// Secondary configuration (issue 11): show_server_config for bind9, knot and nsd servers, each output checked by the
// REAL checker of its type (named-checkconf, knotc conf-check, nsd-checkconf) included from a minimal main
// configuration; and the refusals: a server group without master address, a deleted key, two zones meeting in one
// file name, a private group on Knot: refused with the reason, nothing in the database changed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call } from '../../src/services/operations/index.js';
import * as services from '../../src/services/index.js';
import { checkRendered } from '../../src/services/server-config/checker.js';
import { configProblems, configWarnings, type ConfigInput, renderServerConfig, zoneFileName } from '../../src/services/server-config/render.js';
import { ServerConfigRefused } from '../../src/services/errors.js';
import { NOTIFY_EVENT } from '../../src/daemon/events/notify.js';
import { checkServer, recordServerHealth, type ServerCheck } from '../../src/services/server-config/health.js';
import { syncCatalogs } from '../../src/services/server-config/catalog.js';
import { pullServerConfig } from '../../src/services/server-config/publish.js';
import { NOTIFY_EVENT_TYPE } from '../../src/services/server-config/sg-ops.js';
import { dumpTables } from '../helpers/dump.js';
import { testBackends } from '../helpers/postgres.js';
import { ctxOf } from '../helpers/context.js';
import { haveProgram } from '../helpers/servers.js';

for (const p of ['named-checkconf', 'knotc', 'nsd-checkconf'])
  if (!haveProgram(p)) throw new Error(`${p} is not installed: apt-get install bind9 knot nsd`);

const { backends, postgres: needPg } = testBackends({ lazy: true });
// refresh_sg queues the events dmsd's NOTIFY handler runs: the type must be the daemon's.
assert.equal(NOTIFY_EVENT_TYPE, NOTIFY_EVENT);
const TABLES = ['server_groups', 'servers', 'sg_config', 'server_config', 'zones'];
const TYPES = ['bind9', 'knot', 'nsd'] as const;

function input(type: (typeof TYPES)[number], over: Partial<ConfigInput['sg']> = {}): ConfigInput {
  return {
    server: { name: `s-${type}`, type, address: '192.0.2.10', port: 53 },
    sg: {
      name: 'sg1',
      primaries: [
        { address: '192.0.2.1', port: 5353 },
        { address: '2001:db8::1', port: 53 },
      ],
      key: { name: 'xfr.sg1.', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 7).toString('base64') },
      private: false,
      queryAcl: [],
      catalog: null,
      zones: [
        { name: 'example.com.', alt: false },
        { name: '0/25.2.0.192.in-addr.arpa.', alt: false },
        { name: 'under_score.example.', alt: true },
      ],
      ...over,
    },
  };
}

describe('rendered configuration passes the real checkers', () => {
  for (const type of TYPES) {
    test(`${type}: zones listed; with catalog; private; no key`, async () => {
      const variants: [string, Partial<ConfigInput['sg']>][] = [
        ['listed', {}],
        ['catalog', { catalog: 'sg1.catalog.invalid.' }],
        ['no key, one master', { key: null, primaries: [{ address: '127.0.0.1', port: 53 }] }],
        ['no zones', { zones: [] }],
        ['zone dir', { catalog: type === 'nsd' ? null : 'sg1.catalog.invalid.' }],
      ];
      if (type !== 'knot') variants.push(['private', { private: true, queryAcl: ['10.0.0.0/8', '2001:db8::/32'] }]);
      for (const [what, over] of variants) {
        const i = input(type, over);
        if (what === 'zone dir') i.server.zoneDir = '/var/lib/dms-secondary';
        const r = renderServerConfig(i);
        if (what === 'zone dir') assert.match(`${r.main}${r.options ?? ''}`, /\/var\/lib\/dms-secondary/);
        const c = await checkRendered(type, r);
        assert.equal(c.ok, true, `${type} ${what}: ${c.message}\n${r.main}\n${r.options ?? ''}`);
        if (what === 'catalog' && type !== 'nsd') {
          assert.equal(r.catalog, true);
          assert.deepEqual(r.zones, ['sg1.catalog.invalid.']);
          if (type === 'bind9') assert.match(r.options ?? '', /catalog-zones \{ zone "sg1\.catalog\.invalid" default-primaries/);
          if (type === 'knot') assert.match(r.main, /catalog-role: interpret/);
        } else if (what !== 'no zones' && what !== 'zone dir') assert.deepEqual(r.zones, ['example.com.', '0/25.2.0.192.in-addr.arpa.', 'under_score.example.']);
        if (what === 'private' && type === 'bind9') assert.match(r.main, /allow-query \{ 10\.0\.0\.0\/8; 2001:db8::\/32; \}; allow-transfer \{ none; \}/);
        if (what === 'private' && type === 'nsd') assert.match(r.main, /allow-query: 10\.0\.0\.0\/8 NOKEY/);
      }
    });
  }

  test('the checker catches what the generator did not: its message is returned', async () => {
    const r = renderServerConfig(input('bind9'));
    const broken = { ...r, main: r.main.replace('type secondary;', 'type secondary; bogus-option yes;') };
    const c = await checkRendered('bind9', broken);
    assert.equal(c.ok, false);
    assert.match(c.message, /unknown option 'bogus-option'/);
    const k = await checkRendered('knot', { ...renderServerConfig(input('knot')), main: 'zone:\n  - domain: [\n' });
    assert.equal(k.ok, false);
    assert.notEqual(k.message, '');
    const n = await checkRendered('nsd', { ...renderServerConfig(input('nsd')), main: 'zone:\n  nme: "x"\n' });
    assert.equal(n.ok, false);
    assert.match(n.message, /error/i);
  });
});

describe('refused input, with every reason', () => {
  test('no master address, bad address, bad key, colliding file names, unsafe names, private on knot', () => {
    const reasons = (i: ConfigInput) => configProblems(i).join('\n');
    assert.match(reasons(input('bind9', { primaries: [] })), /has no master address/);
    assert.match(reasons(input('nsd', { primaries: [{ address: '192.0.2.300', port: 53 }] })), /"192\.0\.2\.300" is not an IPv4 or IPv6 address/);
    assert.match(reasons(input('knot', { key: { name: 'k.', algorithm: 'hmac-sha256', secret: 'not base64!' } })), /secret that is not base64/);
    assert.match(reasons(input('knot', { key: { name: 'k.', algorithm: 'gss-tsig', secret: 'AAAA' } })), /algorithm "gss-tsig"/);
    assert.match(
      reasons(input('nsd', { zones: [{ name: 'a_b.example.', alt: false }, { name: 'a/b.example.', alt: false }] })),
      /zones a_b\.example\. and a\/b\.example\. map to one file name a_b\.example\.zone/,
    );
    assert.match(reasons(input('bind9', { zones: [{ name: 'a\\"b.example.', alt: false }] })), /characters a bind9 configuration cannot carry/);
    assert.match(reasons(input('knot', { private: true, queryAcl: ['10.0.0.0/8'] })), /Knot DNS cannot refuse queries/);
    assert.match(reasons(input('bind9', { private: true, queryAcl: [] })), /has no query ACL/);
    // Transfer rules: the key must match (or the rule names none) and the address must be in the prefix.
    const admitted = (rules: { key: string | null; address: string | null }[]) => configWarnings(input('nsd', { transferRules: rules })).length === 0;
    assert.equal(admitted([]), false);
    assert.equal(admitted([{ key: 'xfr.sg1.', address: null }]), true);
    assert.equal(admitted([{ key: 'other.', address: null }]), false);
    assert.equal(admitted([{ key: null, address: '192.0.2.0/28' }]), true);
    assert.equal(admitted([{ key: 'xfr.sg1.', address: '198.51.100.0/24' }]), false);
    // Colliding names do not matter when the server takes its zones from the catalog (no file names are written).
    assert.equal(reasons(input('bind9', { catalog: 'c.invalid.', zones: [{ name: 'a_b.', alt: false }, { name: 'a/b.', alt: false }] })), '');
    assert.throws(() => renderServerConfig(input('bind9', { primaries: [] })), ServerConfigRefused);
    assert.equal(zoneFileName('.'), 'root.zone');
    const rel = input('knot');
    rel.server.zoneDir = 'relative/dir';
    assert.match(reasons(rel), /zone directory "relative\/dir" must be an absolute path/);
  });
});

for (const backend of backends)
  describe(`show_server_config and the set commands on ${backend.name}`, () => {
    test('generated from the store; refused commands change nothing', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await services.createTsigKey(ctx, 'xfr.sg1', { algorithm: 'hmac-sha256' });
        await services.createServerGroup(ctx, 'sg1', { apexNs: ['ns1.example.org.'] });
        for (const t of TYPES) await call(ctx, 'create_server', { server: `s-${t}`, address: `192.0.2.${TYPES.indexOf(t) + 20}`, sg: 'sg1', type: t });
        await services.createZone(ctx, 'example.com', { sg: 'sg1' });
        await services.createZone(ctx, 'other.example', {});
        // No master address yet: refused, with the reason.
        await assert.rejects(call(ctx, 'show_server_config', { server: 's-bind9' }), /server group sg1 has no master address/);
        // A bad address is refused at the command, and nothing changes.
        const before = await dumpTables(s, TABLES);
        await assert.rejects(call(ctx, 'set_sg_master_address', { sg: 'sg1', address: '192.0.2.999' }), /bad server address/);
        await assert.rejects(call(ctx, 'set_sg_config', { sg: 'sg1', xfrKey: 'nosuch' }), /nosuch/);
        assert.equal(await dumpTables(s, TABLES), before);
        await call(ctx, 'set_sg_master_address', { sg: 'sg1', address: '127.0.0.1#5353' });
        // Without a transfer rule admitting them, the servers' transfers would be refused: said so (in the file too).
        const warned = await call(ctx, 'show_server_config', { server: 's-bind9' });
        assert.match(warned.warnings.join(), /no transfer rule of server group sg1 admits server s-bind9 \(192\.0\.2\.20, no key\)/);
        assert.match(warned.main, /^# WARNING: no transfer rule of server group sg1 admits server s-bind9/m);
        await call(ctx, 'add_transfer_rule', { sg: 'sg1', key: 'xfr.sg1' });
        await call(ctx, 'set_sg_alt_master_address', { sg: 'sg1', address: '::1' });
        await call(ctx, 'set_sg_config', { sg: 'sg1', xfrKey: 'xfr.sg1' });
        for (const t of TYPES) {
          const r = await call(ctx, 'show_server_config', { server: `s-${t}`, check: true });
          assert.deepEqual(r.zones, ['example.com.'], t);
          assert.match(r.main, /127\.0\.0\.1/);
          // The alternate master (the replica site, issue 13) is a primary too: secondaries follow either site.
          assert.match(r.main, /(^|[\s[,])::1[@ ]/m, `${t}: the alternate master address is listed`);
          assert.match(r.main, /xfr\.sg1/);
        }
        // Private on a group with a knot server: refused (knot cannot restrict queries), the transaction rolled back.
        const before2 = await dumpTables(s, TABLES);
        await assert.rejects(call(ctx, 'set_sg_config', { sg: 'sg1', private: true, queryAcl: ['10.0.0.0/8'] }), (e: unknown) => {
          assert.ok(e instanceof ServerConfigRefused);
          assert.equal(e.server, 's-knot');
          assert.match(e.message, /Knot DNS cannot refuse queries/);
          return true;
        });
        assert.equal(await dumpTables(s, TABLES), before2);
        // The server commands are guarded the same way: a Knot server into a private group, an NSD server of a
        // private group made Knot.
        await services.createServerGroup(ctx, 'priv', { apexNs: ['ns1.example.org.'], masterAddress: '192.0.2.1' });
        await call(ctx, 'add_transfer_rule', { sg: 'priv', address: '192.0.2.0/24' });
        await call(ctx, 'set_sg_config', { sg: 'priv', private: true, queryAcl: ['10.0.0.0/8'] });
        await call(ctx, 'create_server', { server: 'p-nsd', address: '192.0.2.30', sg: 'priv', type: 'nsd' });
        const before3 = await dumpTables(s, TABLES);
        await assert.rejects(call(ctx, 'move_server_sg', { server: 's-knot', sg: 'priv' }), /s-knot refused: Knot DNS cannot refuse queries/);
        await assert.rejects(call(ctx, 'set_server_type', { server: 'p-nsd', type: 'knot' }), /p-nsd refused: Knot DNS cannot refuse queries/);
        assert.equal(await dumpTables(s, TABLES), before3);
        await call(ctx, 'set_server_type', { server: 'p-nsd', type: 'bind9' });
        // The alternate SG membership puts the zone on sg1's servers too.
        await call(ctx, 'set_zone_alt_sg', { zone: 'other.example', sg: 'sg1' });
        assert.deepEqual((await call(ctx, 'show_server_config', { server: 's-nsd' })).zones, ['example.com.', 'other.example.']);
        // A disabled zone is not served by dmsd: it leaves the secondaries' configuration until enabled again.
        await services.disableZone(ctx, 'other.example');
        assert.deepEqual((await call(ctx, 'show_server_config', { server: 's-nsd' })).zones, ['example.com.']);
        await services.enableZone(ctx, 'other.example');
        // The replica group holds every zone.
        await services.createServerGroup(ctx, 'replica', { apexNs: ['ns1.example.org.'], masterAddress: '192.0.2.1' });
        await call(ctx, 'add_transfer_rule', { sg: 'replica', address: '192.0.2.0/24' });
        await call(ctx, 'create_server', { server: 'r1', address: '192.0.2.40', sg: 'replica', type: 'nsd' });
        assert.deepEqual((await call(ctx, 'show_server_config', { server: 'r1' })).zones, []);
        await call(ctx, 'set_sg_config', { sg: 'replica', replica: true });
        assert.deepEqual((await call(ctx, 'show_server_config', { server: 'r1', check: true })).zones, ['example.com.', 'other.example.']);
        // Deleting the key the group uses leaves a configuration that is refused, not one naming a missing key.
        await services.deleteTsigKey(ctx, 'xfr.sg1');
        await assert.rejects(call(ctx, 'show_server_config', { server: 's-nsd' }), /algorithm "\(deleted key\)"/);
      } finally {
        await s.close();
      }
    });

    test('ServerSM transitions: RETRY, BROKEN after 3, re-NOTIFY while lagging, OK again; reset_server; DISABLED', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await call(ctx, 'create_server', { server: 'h1', address: '192.0.2.50' });
        const base = { server: 'h1', address: '192.0.2.50', port: 53, enabled: true, zones: 2 };
        const lag = [{ zone: 'a.example.', served: 1, published: 2 }];
        const ok: ServerCheck = { ...base, udp: true, tcp: true, state: 'OK', lagging: [], message: null };
        const lagging: ServerCheck = { ...base, udp: true, tcp: true, state: 'BROKEN', lagging: lag, message: '1 of 2 zones behind the published serial' };
        const down: ServerCheck = { ...base, udp: false, tcp: false, state: 'BROKEN', lagging: [], message: 'no UDP answer' };
        const steps: [ServerCheck, string, string[]][] = [
          [ok, 'OK', []],
          [lagging, 'RETRY', ['a.example.']],
          [down, 'RETRY', []],
          [lagging, 'BROKEN', ['a.example.']],
          [ok, 'OK', []],
        ];
        for (const [check, state, renotify] of steps) {
          const h = await recordServerHealth(ctx, check);
          assert.deepEqual([h.state, h.renotify], [state, renotify]);
          const v = await call(ctx, 'show_server', { server: 'h1' });
          assert.equal(v.state, state);
          assert.equal(v.retryMsg, check.message);
          assert.deepEqual(v.lagging, check.lagging);
        }
        assert.ok((await call(ctx, 'show_server', { server: 'h1' })).lastReply instanceof Date);
        await recordServerHealth(ctx, down);
        assert.equal((await call(ctx, 'show_server', { server: 'h1' })).state, 'RETRY');
        await call(ctx, 'reset_server', { server: 'h1' });
        const r = await call(ctx, 'show_server', { server: 'h1' });
        assert.deepEqual([r.state, r.retryMsg, r.lagging], ['OK', null, []]);
        await call(ctx, 'disable_server', { server: 'h1' });
        assert.equal((await checkServer(ctx, 'h1')).state, 'DISABLED');
        assert.equal((await call(ctx, 'show_dms_status', {})).servers.find((v) => v.name === 'h1')?.state, 'DISABLED');
      } finally {
        await s.close();
      }
    });

    test('ServerSM: lagging but catching up (lagging zones advance between checks) stays RETRY; stuck goes BROKEN', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await call(ctx, 'create_server', { server: 'slow1', address: '192.0.2.51' });
        const base = { server: 'slow1', address: '192.0.2.51', port: 53, enabled: true, zones: 10, udp: true, tcp: true };
        const ok: ServerCheck = { ...base, state: 'OK', lagging: [], message: null };
        const lag = (z: Record<string, number | null>, extra: Partial<ServerCheck> = {}): ServerCheck => {
          const lagging = Object.entries(z).map(([zone, served]) => ({ zone: `${zone}.example.`, served, published: 7 }));
          return { ...base, state: 'BROKEN', lagging, message: `${lagging.length} of 10 zones behind the published serial`, ...extra };
        };
        const names = (...z: string[]) => z.map((x) => `${x}.example.`);
        // A secondary taking in a bulk creation: each check, some of the zones that lagged are in sync (or at a newer
        // serial) — never BROKEN for it however many checks it takes; the zones that did not move are NOTIFYed again.
        const steps: [ServerCheck, string, string[], RegExp | null][] = [
          [ok, 'OK', [], null],
          [lag({ a: null, b: null, c: null }), 'RETRY', names('a', 'b', 'c'), /^3 of 10 zones behind/],
          [lag({ b: null, c: null, d: null }), 'RETRY', names('b', 'c'), /^catching up: 3 of 10 zones behind \(3 at the last check\)/],
          [lag({ c: 5, d: null }), 'RETRY', names('d'), /^catching up: 2 of 10/],
          [lag({ c: 5, d: null }), 'RETRY', names('c', 'd'), /^2 of 10 zones behind/],
          [lag({ c: 5, d: null }), 'RETRY', names('c', 'd'), /^2 of 10 zones behind/],
          [lag({ c: 5, d: null }), 'BROKEN', names('c', 'd'), /^2 of 10 zones behind/],
          // Moving again: back to RETRY (catching up), then OK.
          [lag({ d: null }), 'RETRY', names('d'), /^catching up: 1 of 10/],
          // A sampled check that did not probe the zone lagging before cannot tell: a failure like any other.
          [lag({ e: null }, { sampled: true, rechecked: [] }), 'RETRY', names('e'), /^1 of 10 zones behind/],
          [ok, 'OK', [], null],
        ];
        let i = 0;
        for (const [check, state, renotify, msg] of steps) {
          const h = await recordServerHealth(ctx, check);
          assert.deepEqual([h.state, h.renotify], [state, renotify], `step ${i}`);
          const v = await call(ctx, 'show_server', { server: 'slow1' });
          assert.equal(v.state, state, `step ${i}`);
          if (msg) assert.match(v.retryMsg ?? '', msg, `step ${i}`);
          else assert.equal(v.retryMsg, null);
          i++;
        }
      } finally {
        await s.close();
      }
    });

    test('catalog members follow a served filter (held until served); catalog zones in list_zone: listed, exclude, only', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await services.createServerGroup(ctx, 'cat', { apexNs: ['ns1.cat.example.'], masterAddress: '192.0.2.1' });
        await call(ctx, 'add_transfer_rule', { sg: 'cat', address: '192.0.2.0/24' });
        await call(ctx, 'create_server', { server: 'k1', address: '192.0.2.21', sg: 'cat', type: 'knot' });
        await call(ctx, 'create_server', { server: 'n2', address: '192.0.2.22', sg: 'cat', type: 'nsd' });
        for (const z of ['a.cat.example', 'b.cat.example']) await services.createZone(ctx, z, { sg: 'cat' });
        // dmsd serves a.cat.example only (b still loading): the catalog and NSD's file list a; b is held.
        const servedSet = new Set(['a.cat.example.']);
        const served = (z: string) => servedSet.has(z) || z.endsWith('.catalog.invalid.');
        const [c1] = await syncCatalogs(ctx, { sg: 'cat', served });
        assert.deepEqual([c1.catalog, c1.members, c1.held], ['cat.catalog.invalid.', 1, ['b.cat.example.']]);
        assert.match(await services.getZoneText(ctx, 'cat.catalog.invalid'), /PTR\s+a\.cat\.example\./);
        assert.doesNotMatch(await services.getZoneText(ctx, 'cat.catalog.invalid'), /b\.cat\.example/);
        const pulled = await pullServerConfig(ctx, 'n2', { served });
        assert.ok(pulled.ok);
        assert.match(pulled.text, /name: "a\.cat\.example\.?"/);
        assert.doesNotMatch(pulled.text, /b\.cat\.example/);
        // The catalog itself not served yet: Knot's file is not published with it (held), nor handed out.
        const notCatalog = (z: string) => servedSet.has(z);
        assert.deepEqual(await pullServerConfig(ctx, 'k1', { served: notCatalog }), {
          ok: false,
          server: 'k1',
          status: 503,
          message: 'catalog zone cat.catalog.invalid. not served by dmsd yet: try again shortly',
        });
        servedSet.add('b.cat.example.');
        const [c2] = await syncCatalogs(ctx, { sg: 'cat', served });
        assert.deepEqual([c2.members, c2.held, c2.changed], [2, [], true]);
        // Without a filter (zone_tool's reconfig commands): the database's zones.
        assert.equal((await syncCatalogs(ctx, { sg: 'cat' }))[0].changed, false);
        // list_zone: the catalog is a zone like the others (knotc and rndc list catalogs too), or filtered.
        const names = async (catalogs?: 'include' | 'exclude' | 'only') =>
          ((await call(ctx, 'list_zone', { pattern: '*cat*', ...(catalogs ? { catalogs } : {}) })) as { name: string }[]).map((z) => z.name);
        assert.deepEqual(await names(), ['a.cat.example.', 'b.cat.example.', 'cat.catalog.invalid.']);
        assert.deepEqual(await names('exclude'), ['a.cat.example.', 'b.cat.example.']);
        assert.deepEqual(await names('only'), ['cat.catalog.invalid.']);
        assert.deepEqual(
          ((await call(ctx, 'list_zone', { catalogs: 'only', detail: true })) as { name: string }[]).map((z) => z.name),
          ['cat.catalog.invalid.'],
        );
      } finally {
        await s.close();
      }
    });

    test('alternate-SG migration (apex NS change over), replica SG, refresh_sg, show_master_status', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await services.createServerGroup(ctx, 'old', { apexNs: ['ns1.old.example.'], masterAddress: '192.0.2.1' });
        await services.createServerGroup(ctx, 'new', { apexNs: ['ns1.new.example.'], masterAddress: '192.0.2.2' });
        for (const sg of ['old', 'new']) await call(ctx, 'add_transfer_rule', { sg, address: '192.0.2.0/24' });
        await call(ctx, 'create_server', { server: 'o1', address: '192.0.2.11', sg: 'old', type: 'nsd' });
        await call(ctx, 'create_server', { server: 'n1', address: '192.0.2.12', sg: 'new', type: 'nsd' });
        await services.createZone(ctx, 'move.example', { sg: 'old' });
        const apexNs = async () =>
          (await services.getZoneText(ctx, 'move.example'))
            .split('\n')
            .filter((l) => /\tNS\t/.test(l))
            .map((l) => l.split('\t').pop());
        assert.deepEqual(await apexNs(), ['ns1.old.example.']);
        const zonesOf = async (server: string) => (await call(ctx, 'show_server_config', { server })).zones;
        assert.deepEqual([await zonesOf('o1'), await zonesOf('n1')], [['move.example.'], []]);
        // dupe: both groups' servers carry it; the apex NS stay the primary group's.
        await call(ctx, 'dupe_zone_alt_sg', { zone: 'move.example', sg: 'new' });
        assert.deepEqual([await zonesOf('o1'), await zonesOf('n1')], [['move.example.'], ['move.example.']]);
        assert.deepEqual(await apexNs(), ['ns1.old.example.']);
        await assert.rejects(call(ctx, 'dupe_zone_alt_sg', { zone: 'move.example', sg: 'default' }), /already has alternate server group new/);
        // swap: the apex NS change over to the new primary group.
        await call(ctx, 'swap_zone_sg', { zone: 'move.example' });
        assert.deepEqual(await apexNs(), ['ns1.new.example.']);
        assert.deepEqual([await zonesOf('o1'), await zonesOf('n1')], [['move.example.'], ['move.example.']]);
        // delete: only the new group serves it.
        await call(ctx, 'delete_zone_alt_sg', { zone: 'move.example' });
        assert.deepEqual([await zonesOf('o1'), await zonesOf('n1')], [[], ['move.example.']]);
        await assert.rejects(call(ctx, 'delete_zone_alt_sg', { zone: 'move.example' }), /has no alternate server group/);
        // The replica group holds every zone; there is only one.
        await services.createServerGroup(ctx, 'rep', { apexNs: ['ns1.rep.example.'], masterAddress: '192.0.2.3' });
        await call(ctx, 'add_transfer_rule', { sg: 'rep', address: '192.0.2.13' });
        await call(ctx, 'create_server', { server: 'r1', address: '192.0.2.13', sg: 'rep', type: 'nsd' });
        await call(ctx, 'set_sg_replica_sg', { sg: 'old' });
        await call(ctx, 'set_sg_replica_sg', { sg: 'rep' });
        assert.deepEqual(await call(ctx, 'show_replica_sg', {}), { replicaSg: 'rep' });
        assert.equal((await call(ctx, 'show_sg_config', { sg: 'old' })).replica, false);
        assert.deepEqual(await zonesOf('r1'), ['move.example.']);
        // refresh_sg queues one NOTIFY per zone and target (the group's enabled servers).
        const r = await call(ctx, 'refresh_sg', { sg: 'new' });
        assert.deepEqual(r, { sg: 'new', zones: 1, notifies: 1 });
        const queued = await services.listEvents(ctx, { state: ['NEW'] });
        assert.ok(queued.some((e) => e.type === NOTIFY_EVENT && e.zone === 'move.example.' && (e.payload as { address: string }).address === '192.0.2.12'));
        const m = await call(ctx, 'show_master_status', {});
        const g = m.groups.find((x) => x.sg === 'new');
        assert.deepEqual(g?.servers.map((v) => [v.name, v.state, v.configTime]), [['n1', 'OK', null]]);
        assert.equal(m.groups.find((x) => x.sg === 'rep')?.replica, true);
        assert.ok(m.pendingNotifies >= 1);
      } finally {
        await s.close();
      }
    });
  });

// Per-SG templates (set_sg_template): stored only when the real checker accepts the file they produce for every
// server of that type in the group; a refusal carries the checker's own message and changes nothing. A template that
// a later generation breaks is refused by reconfig like any other bad file: the last good file stays, a FAILURE event
// records it. And the per-server pull token for GET /config/<server>.
for (const backend of backends)
  describe(`per-SG templates and server pull tokens on ${backend.name}`, () => {
    test('set/show/delete_sg_template: checked by the real checkers, refusals change nothing, reconfig keeps the last good file', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      const fs = await import('node:fs');
      const path = await import('node:path');
      const os = await import('node:os');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dms-sg-tpl-'));
      try {
        const ctx = ctxOf(s);
        const tables = [...TABLES, 'sg_template', 'events'];
        await services.createTsigKey(ctx, 'xfr.tpl', { algorithm: 'hmac-sha256' });
        await services.createServerGroup(ctx, 'tpl', { apexNs: ['ns1.example.org.'], masterAddress: '127.0.0.1#5353' });
        await call(ctx, 'add_transfer_rule', { sg: 'tpl', key: 'xfr.tpl' });
        await call(ctx, 'set_sg_config', { sg: 'tpl', xfrKey: 'xfr.tpl' });
        for (const t of TYPES) await call(ctx, 'create_server', { server: `t-${t}`, address: `192.0.2.${TYPES.indexOf(t) + 60}`, sg: 'tpl', type: t });
        await services.createZone(ctx, 'tpl.example', { sg: 'tpl' });
        await call(ctx, 'set_sg_config', { sg: 'tpl', useCatalog: false });

        // A public group made to behave like a private one, per type.
        const good = {
          bind9: 'allow-query { 10.0.0.0/8; {master}; };\nallow-transfer { none; };\n',
          knot: 'semantic-checks: on\nzonefile-sync: -1\n',
          nsd: '  allow-query: 10.0.0.0/8 NOKEY\n  allow-notify: {master} {key}\n',
        };
        const want = {
          bind9: /zone "tpl\.example" \{ type secondary; [^\n]* allow-query \{ 10\.0\.0\.0\/8; 127\.0\.0\.1; \}; allow-transfer \{ none; \}; \};/,
          knot: /^ {4}semantic-checks: on\n {4}zonefile-sync: -1$/m,
          nsd: /^ {2}allow-query: 10\.0\.0\.0\/8 NOKEY\n {2}allow-notify: 127\.0\.0\.1 xfr\.tpl\.$/m,
        };
        for (const t of TYPES) {
          const r = await call(ctx, 'set_sg_template', { sg: 'tpl', type: t, template: good[t] });
          assert.deepEqual(r.checked, [`t-${t}`]);
          const cfg = await call(ctx, 'show_server_config', { server: `t-${t}`, check: true });
          assert.match(cfg.main, want[t], `${t}: the template is in the generated file`);
        }
        assert.deepEqual((await call(ctx, 'show_sg_template', { sg: 'tpl' })).map((x) => x.type), ['bind9', 'knot', 'nsd']);
        assert.equal((await call(ctx, 'show_sg_template', { sg: 'tpl', type: 'nsd' }))[0].template, good.nsd);

        // Broken templates: refused with the checker's own message, nothing in the database changed.
        const broken = {
          bind9: ['allow-query { 10.0.0.0/8 };', /named-checkconf .*\.\/dms\.conf:\d+: missing ';' before '}'/],
          knot: ['no-such-item: on', /knotc .*conf-check: error: config, file '\.\/dms\.conf', line \d+, item 'no-such-item', value 'on' \(invalid item\)/],
          nsd: ['allow-query: not-an-address NOKEY', /nsd-checkconf .*\.\/dms\.conf:\d+: error: Bad ip4 address 'not'/],
        } as const;
        for (const t of TYPES) {
          const before = await dumpTables(s, tables);
          await assert.rejects(call(ctx, 'set_sg_template', { sg: 'tpl', type: t, template: broken[t][0] }), (e: unknown) => {
            assert.ok(e instanceof ServerConfigRefused, String(e));
            assert.equal(e.server, `t-${t}`);
            assert.match(e.message, broken[t][1]);
            return true;
          });
          assert.equal(await dumpTables(s, tables), before, `${t}: nothing changed`);
          assert.equal((await call(ctx, 'show_sg_template', { sg: 'tpl', type: t }))[0].template, good[t]);
        }
        // Bad input at the command: unknown type, control characters, a group that does not exist.
        await assert.rejects(call(ctx, 'set_sg_template', { sg: 'tpl', type: 'djbdns' as 'nsd', template: 'x' }), /type/);
        await assert.rejects(call(ctx, 'set_sg_template', { sg: 'tpl', type: 'nsd', template: 'a\u0001b' }), /control characters/);
        await assert.rejects(call(ctx, 'set_sg_template', { sg: 'nosuch', type: 'nsd', template: 'x' }), /nosuch/);

        // A group without servers of that type (nor zones, nor master address): checked on a stand-in.
        await services.createServerGroup(ctx, 'empty', { apexNs: ['ns1.example.org.'] });
        assert.deepEqual((await call(ctx, 'set_sg_template', { sg: 'empty', type: 'bind9', template: 'notify no;' })).checked, ['(stand-in bind9 server)']);
        await assert.rejects(call(ctx, 'set_sg_template', { sg: 'empty', type: 'bind9', template: 'notify perhaps;' }), /named-checkconf/);

        // Publication: the good template is installed; then one stored behind the checker's back (as a template
        // that a later change breaks) is refused by reconfig, the last good file stays and a FAILURE event says why.
        await call(ctx, 'set_server_config', { server: 't-bind9', configDir: dir });
        assert.equal((await call(ctx, 'reconfig_server', { server: 't-bind9' })).outcome, 'installed');
        const file = path.join(dir, 'dms-t-bind9.conf');
        const installed = fs.readFileSync(file, 'utf8');
        assert.match(installed, want.bind9);
        const { putSgTemplate } = await import('../../src/store/queries/sg-templates.js');
        const sgId = (await services.listServerGroups(ctx)).find((g) => g.name === 'tpl')?.id;
        assert.ok(sgId !== undefined);
        await putSgTemplate(s.db, Number(sgId), 'bind9', 'allow-query { broken', Date.now());
        const r = await call(ctx, 'reconfig_server', { server: 't-bind9' });
        assert.equal(r.outcome, 'refused');
        assert.match(r.message ?? '', /named-checkconf/);
        assert.equal(fs.readFileSync(file, 'utf8'), installed, 'the last good file stays');
        const failed = await services.listEvents(ctx, { state: ['FAILURE'] });
        assert.ok(failed.some((e) => e.type === 'server_config' && /named-checkconf/.test(e.lastError ?? '')));

        // delete_sg_template: the generator's file alone again.
        await call(ctx, 'delete_sg_template', { sg: 'tpl', type: 'bind9' });
        assert.doesNotMatch((await call(ctx, 'show_server_config', { server: 't-bind9', check: true })).main, /allow-query/);
        await assert.rejects(call(ctx, 'delete_sg_template', { sg: 'tpl', type: 'bind9' }), /no bind9 template/);
        assert.deepEqual((await call(ctx, 'show_sg_template', { sg: 'tpl' })).map((x) => x.type), ['knot', 'nsd']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await s.close();
      }
    });

    test('create_server_token: one token per server, shown once, stored hashed', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxOf(s);
        await call(ctx, 'create_server', { server: 'pull1', address: '192.0.2.70' });
        await call(ctx, 'create_server', { server: 'pull2', address: '192.0.2.71' });
        const t1 = (await call(ctx, 'create_server_token', { server: 'pull1' })).token;
        const t2 = (await call(ctx, 'create_server_token', { server: 'pull2' })).token;
        assert.match(t1, /^dmssrv_[A-Za-z0-9_-]{43}$/);
        assert.equal(await services.verifyServerToken(ctx, t1), 'pull1');
        assert.equal(await services.verifyServerToken(ctx, t2), 'pull2');
        assert.equal(await services.verifyServerToken(ctx, `${t1}x`), null);
        // Not an API token, and an API token is not a pull token.
        assert.equal(await services.verifyToken(ctx, t1), null);
        assert.equal(await services.verifyServerToken(ctx, 'dms_abc'), null);
        // Stored as a hash only.
        assert.doesNotMatch(await dumpTables(s, ['server_token']), new RegExp(t1.slice(7)));
        // A new token replaces the old one; rename keeps it; delete revokes it.
        const t1b = (await call(ctx, 'create_server_token', { server: 'pull1' })).token;
        assert.equal(await services.verifyServerToken(ctx, t1), null);
        await call(ctx, 'rename_server', { server: 'pull1', to: 'pull1b' });
        assert.equal(await services.verifyServerToken(ctx, t1b), 'pull1b');
        assert.deepEqual(await call(ctx, 'delete_server_token', { server: 'pull1b' }), { server: 'pull1b', deleted: true });
        assert.equal(await services.verifyServerToken(ctx, t1b), null);
        await assert.rejects(call(ctx, 'create_server_token', { server: 'nosuch' }), /nosuch/);
      } finally {
        await s.close();
      }
    });
  });
