// DNSSEC key management (issue 9) on SQLite and PostgreSQL: policies (BIND's defaults built in, impossible timings
// refused with the reason), keys generated per policy and stored sealed under the key-encryption key (the raw
// column and the database file hold no private key; a wrong or missing KEK is a clear error, never a fresh KEK or
// an unsigned zone), the zone flags auto_dnssec / nsec3, the operator's requests, and the zone_tool commands spawned
// as an operator runs them. The BIND tools (dnssec-keygen, dnssec-dsfromkey) are in test/interop/dnssec-keys-bind.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type DnssecKey, importBindKey, keyFromPkcs8, privateKeyPem, privateKeyPkcs8 } from '../../src/dnssec/index.js';
import { Name } from '../../src/dns/name.js';
import * as dnssec from '../../src/services/dnssec.js';
import * as services from '../../src/services/index.js';
import { kekFile, kekLocation, memoryKek } from '../../src/services/kek.js';
import type { Store } from '../../src/store/index.js';
import { cleanEnv, postgresArgs, sqliteArgs, startDmsdDb, ZONE_TOOL } from '../helpers/dmsd-db.support.js';
import { dmsdEntry } from '../helpers/servers.js';
import { manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends, postgres: needPg } = testBackends({ lazy: true });
const work = mkdtempSync(join(tmpdir(), 'dms-dnssec-keys-'));
after(() => rmSync(work, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
let n = 0;
const kekPath = () => join(work, `kek-${++n}`, 'dnssec-kek');

function ctxWith(store: Store, kek?: services.KekSource, clock = manualClock(T0)): services.ServiceContext {
  return services.serviceContext(store, { actor: 'tester@test/Admin', clock, ...(kek ? { kek } : {}) });
}

async function rawKeys(store: Store): Promise<{ key_tag: number; private_enc: Uint8Array; kek_id: string; role: string; algorithm: number; flags: number }[]> {
  const r = await sql<{ key_tag: number; private_enc: Uint8Array; kek_id: string; role: string; algorithm: number; flags: number }>`
    select key_tag, private_enc, kek_id, role, algorithm, flags from dnssec_keys order by id`.execute(store.db);
  return r.rows;
}

/** The private key of a stored key, through the service that opens it (the KEK in `ctx`). */
async function privateOf(ctx: services.ServiceContext, zone: string, tag: number): Promise<DnssecKey> {
  const files = await dnssec.exportDnssecKey(ctx, zone, tag);
  return importBindKey({ zone: Name.parse(zone), keyText: files.keyText, privateText: files.privateText }).key;
}

const ZONE_TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

test('where the KEK file is: --dnssec-kek, DMS_DNSSEC_KEK, dnssec_kek in --config, <data dir>/dnssec-kek', () => {
  const cfg = join(work, 'dms.conf');
  writeFileSync(cfg, 'data = /srv/dms\ndnssec_kek = /etc/dms/kek\n');
  assert.equal(kekLocation({ data: '/d' }, {}), '/d/dnssec-kek');
  assert.equal(kekLocation({ config: cfg }, {}), '/etc/dms/kek');
  assert.equal(kekLocation({ config: cfg }, { DMS_DNSSEC_KEK: '/e/kek' }), '/e/kek');
  assert.equal(kekLocation({ config: cfg, dnssecKek: '/f/kek' }, { DMS_DNSSEC_KEK: '/e/kek' }), '/f/kek');
  assert.equal(kekLocation({}, { DMS_DATA_DIR: '/g' }), '/g/dnssec-kek');
});

for (const backend of backends)
  describe(`DNSSEC keys on ${backend.name}`, () => {
    test('policies: the built-in default is BIND 9.20\'s; a good policy is stored; impossible ones are refused with the reasons', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const ctx = ctxWith(s);
        const d = await dnssec.getDnssecPolicy(ctx, 'default');
        assert.deepEqual(
          {
            keys: d.keys, algorithm: d.algorithm, lifetimes: d.lifetimes, validity: d.signatureValidity, refresh: d.signatureRefresh,
            jitter: d.signatureJitter, dnskeyTtl: d.dnskeyTtl, denial: d.denial, maxZoneTtl: d.maxZoneTtl, builtin: d.builtin,
          },
          { keys: 'csk', algorithm: 'ECDSAP256SHA256', lifetimes: { csk: 0 }, validity: 14 * 86400, refresh: 5 * 86400, jitter: 12 * 3600, dnskeyTtl: 3600, denial: 'nsec', maxZoneTtl: 86400, builtin: true },
        );
        const d3 = await dnssec.getDnssecPolicy(ctx, 'default-nsec3');
        assert.deepEqual([d3.denial, d3.nsec3], ['nsec3', { iterations: 0, saltLength: 0, optOut: false }]);

        const p = await dnssec.createDnssecPolicy(ctx, 'split', {
          keys: 'ksk-zsk', algorithm: 'ED25519', kskLifetime: 'unlimited', zskLifetime: '90d', signatureValidity: 'P21D', signatureRefresh: '7d',
          denial: 'nsec3', nsec3OptOut: true, checkDs: 'explicit', parentalAgents: ['192.0.2.53', '[2001:db8::53]#5353'],
        });
        assert.deepEqual([p.algorithmNumber, p.lifetimes, p.signatureValidity, p.nsec3.optOut], [15, { ksk: 0, zsk: 90 * 86400 }, 21 * 86400, true]);
        const again = await dnssec.getDnssecPolicy(ctx, 'split');
        assert.deepEqual({ ...again, zones: 0 }, { ...p, zones: 0 });
        await assert.rejects(dnssec.createDnssecPolicy(ctx, 'split'), services.DnssecPolicyExists);
        const rsa = await dnssec.createDnssecPolicy(ctx, 'rsa', { algorithm: 'RSASHA256' });
        assert.deepEqual([rsa.algorithmNumber, rsa.keyBits], [8, 2048]);

        const refused = async (name: string, input: dnssec.DnssecPolicyInput, ...reasons: RegExp[]) => {
          const e = await dnssec.createDnssecPolicy(ctx, name, input).then(
            () => assert.fail(`${name} accepted`),
            (e: unknown) => e,
          );
          assert.ok(e instanceof services.DnssecPolicyInvalid, `${name}: ${e}`);
          for (const r of reasons) assert.ok(e.reasons.some((x) => r.test(x)), `${name}: no reason matching ${r} in ${JSON.stringify(e.reasons)}`);
          await assert.rejects(dnssec.getDnssecPolicy(ctx, name), services.DnssecPolicyNotFound);
        };
        // A ZSK rollover needs publication (1h TTL + 5m + 1h) and retirement (14d−5d + 1d + 5m + 1h): 1 day is too short.
        await refused('short', { keys: 'ksk-zsk', zskLifetime: '1d', kskLifetime: 0 }, /ZSK lifetime 1d is shorter than a rollover needs: publication 2h5m \+ retirement 10d1h5m/);
        await refused('csk-short', { cskLifetime: '3d' }, /CSK lifetime 3d is shorter than a rollover needs/);
        await refused('refresh', { signatureValidity: '5d', signatureRefresh: '5d' }, /signature refresh \(5d\) ≥ signature validity \(5d\)/);
        await refused('refresh90', { signatureValidity: '10d', signatureRefresh: '9d12h' }, /is 90% or more of the signature validity/);
        await refused('jitter', { signatureValidity: '10d', signatureRefresh: '5d', signatureJitter: '6d' }, /jitter \(6d\) ≥ signature validity − refresh/);
        await refused('iter', { denial: 'nsec3', nsec3Iterations: 10 }, /RFC 9276/);
        await refused('explicit', { checkDs: 'explicit' }, /needs parental agents/);
        await refused('agents', { parentalAgents: ['ns1.example.'] }, /not an address/);
        await refused('sha1', { cdsDigestTypes: [1] }, /SHA-1 MUST NOT/);
        await refused('alg', { algorithm: 'RSAMD5' }, /not supported/);
        await refused('rsabits', { algorithm: 'RSASHA256', keyBits: 1024 }, /RSA key size 1024/);
        await refused('zsk-in-csk', { zskLifetime: '30d' }, /no ZSK/);
        await refused('dur', { signatureValidity: '2 weeks' }, /not a duration/);
        // Every reason at once, not only the first.
        await refused('many', { signatureValidity: '5d', signatureRefresh: '6d', checkDs: 'explicit' }, /refresh/, /parental agents/);
        await assert.rejects(dnssec.createDnssecPolicy(ctx, 'none'), services.InvalidArgument);
        await assert.rejects(dnssec.createDnssecPolicy(ctx, 'bad name'), services.InvalidArgument);
        assert.deepEqual((await dnssec.listDnssecPolicies(ctx)).map((x) => x.name), ['default', 'default-nsec3', 'rsa', 'split']);
      } finally {
        await s.close();
      }
    });

    test('keys per policy, sealed at rest: the column and the database hold no private key; a wrong KEK cannot open them', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const path = kekPath();
        const ctx = ctxWith(s, kekFile(path));
        await services.createZone(ctx, 'split.example.', { text: ZONE_TEXT });
        await dnssec.createDnssecPolicy(ctx, 'split', { keys: 'ksk-zsk', algorithm: 'ED25519', zskLifetime: '60d' });
        assert.equal(existsSync(path), false, 'no KEK before a key needs one');
        const st = await dnssec.setZoneDnssecPolicy(ctx, 'split.example', 'split');
        assert.deepEqual(st.keys.map((k) => [k.role, k.algorithm, k.flags, k.state]), [['ksk', 'ED25519', 257, 'active'], ['zsk', 'ED25519', 256, 'active']]);
        assert.equal(statSync(path).mode & 0o777, 0o600, 'KEK file mode');
        assert.equal(st.policy, 'split');
        const zsm = await services.getZone(ctx, 'split.example.');
        assert.deepEqual([zsm.flags.autoDnssec, zsm.flags.nsec3], [true, false]);
        // The ZSK's next step is its rollover, a lifetime (minus the publication interval) after activation.
        const zsk = st.keys.find((k) => k.role === 'zsk');
        assert.equal(zsk?.next?.at?.getTime(), T0 + (60 * 86400 - (3600 + 300 + 3600)) * 1000);

        await services.createZone(ctx, 'rsa.example.', { text: ZONE_TEXT });
        await dnssec.createDnssecPolicy(ctx, 'rsa', { algorithm: 'RSASHA256', keyBits: 2048 });
        const rs = await dnssec.setZoneDnssecPolicy(ctx, 'rsa.example', 'rsa');
        assert.deepEqual(rs.keys.map((k) => [k.role, k.algorithmNumber, k.flags]), [['csk', 8, 257]]);

        const rows = await rawKeys(s);
        assert.equal(rows.length, 3);
        assert.equal(new Set(rows.map((r) => r.kek_id)).size, 1);
        const zones = ['split.example.', 'split.example.', 'rsa.example.'];
        const secrets: Buffer[] = [];
        for (const [i, r] of rows.entries()) {
          const key = await privateOf(ctx, zones[i], r.key_tag);
          const der = Buffer.from(privateKeyPkcs8(key));
          const jwk = key.privateKey?.export({ format: 'jwk' }) as { d: string };
          const d = Buffer.from(jwk.d, 'base64url');
          secrets.push(der, d);
          const col = Buffer.from(r.private_enc);
          assert.equal(col.includes(der), false, 'PKCS#8 DER in the column');
          assert.equal(col.includes(d), false, 'private scalar in the column');
          assert.equal(col.toString('latin1').includes('PRIVATE KEY'), false);
          assert.equal(col.includes(Buffer.from(privateKeyPem(key))), false);
          // Opening gives back the same key pair as the stored DNSKEY.
          assert.equal(keyFromPkcs8(r.algorithm, r.flags, der).keyTag, r.key_tag);
        }
        // The database itself (SQLite: the file and its WAL, what a copy or dump holds) has none of the secrets.
        if (backend.name === 'sqlite') {
          const dir = s.location.replace(/\/[^/]+$/, '');
          const bytes = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('dms.sqlite')).map((f) => readFileSync(join(dir, f))));
          assert.ok(bytes.length > 0);
          for (const x of secrets) assert.equal(bytes.includes(x), false, 'a private key in the database file');
        } else {
          const dump = await sql<{ t: string }>`select string_agg(encode(private_enc, 'hex') || encode(dnskey, 'hex'), '') as t from dnssec_keys`.execute(s.db);
          for (const x of secrets) assert.equal(dump.rows[0].t.includes(x.toString('hex')), false);
        }

        // Another KEK: refused by fingerprint, with both ids named; no key is opened.
        const other = ctxWith(s, memoryKek(new Uint8Array(32).fill(7)));
        await assert.rejects(dnssec.exportDnssecKey(other, 'rsa.example', rows[2].key_tag), (e: unknown) => e instanceof services.DnssecKekUnavailable && /sealed with key-encryption key [0-9a-f]{16}, but memory holds key-encryption key [0-9a-f]{16}/.test(e.message));
        // …nor may it seal new keys beside the old ones (they would be split between two KEKs).
        await services.createZone(ctx, 'third.example.', { text: ZONE_TEXT });
        await assert.rejects(dnssec.setZoneDnssecPolicy(other, 'third.example', 'default'), /not the one the stored keys are sealed with/);
        // A sealed key altered in the database: GCM refuses it.
        const tampered = Buffer.from(rows[2].private_enc);
        tampered[20] ^= 1;
        await sql`update dnssec_keys set private_enc = ${tampered} where key_tag = ${rows[2].key_tag}`.execute(s.db);
        await assert.rejects(dnssec.exportDnssecKey(ctx, 'rsa.example', rows[2].key_tag), /cannot decrypt a DNSSEC private key .*wrong key-encryption key, or the stored key was altered/);
        // No secret in what lists and shows return.
        const shown = JSON.stringify([await dnssec.showDnssec(ctx, 'split.example'), await dnssec.listDnssecPolicies(ctx), await services.call(ctx, 'show_dnssec', { zone: 'rsa.example' })]);
        for (const x of secrets) {
          assert.equal(shown.includes(x.toString('base64')), false);
          assert.equal(shown.includes(x.toString('hex')), false);
        }
        assert.doesNotMatch(shown, /private/i);
      } finally {
        await s.close();
      }
    });

    test('a missing KEK is a clear error, never a fresh KEK or an unsigned zone; a KEK file others can read is refused', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        // No KEK configured at all: auto_dnssec is refused and the zone is left as it was.
        const bare = ctxWith(s);
        await services.createZone(bare, 'a.example.', { text: ZONE_TEXT });
        await assert.rejects(services.setZoneFlags(bare, 'a.example.', { autoDnssec: true }), (e: unknown) => e instanceof services.DnssecKekUnavailable && e.code === 'DNSSEC_KEK_UNAVAILABLE');
        assert.equal((await services.getZone(bare, 'a.example.')).flags.autoDnssec, false);
        await assert.rejects(services.createZone(bare, 'b.example.', { text: ZONE_TEXT, flags: { autoDnssec: true } }), services.DnssecKekUnavailable);
        await assert.rejects(services.getZone(bare, 'b.example.'), services.ZoneNotFound);

        const path = kekPath();
        const ctx = ctxWith(s, kekFile(path));
        assert.deepEqual(await dnssec.checkDnssecKek(ctx), { keys: 0, kekId: null });
        assert.equal(existsSync(path), false, 'the start check makes no KEK');
        await services.setZoneFlags(ctx, 'a.example.', { autoDnssec: true });
        const tag = (await dnssec.showDnssec(ctx, 'a.example')).keys[0].tag;
        const kekId = (await ctx.kek!.load({ create: false })).id;
        assert.deepEqual(await dnssec.checkDnssecKek(ctxWith(s, kekFile(path))), { keys: 1, kekId });
        await assert.rejects(dnssec.checkDnssecKek(ctxWith(s, memoryKek(new Uint8Array(32)))), /is sealed with key-encryption key/);
        await assert.rejects(dnssec.checkDnssecKek(bare), /no DNSSEC key-encryption key is configured/);
        unlinkSync(path);
        // A new process (a new KekSource) finds the file gone while keys exist.
        const lost = ctxWith(s, kekFile(path));
        await assert.rejects(dnssec.exportDnssecKey(lost, 'a.example', tag), /key-encryption key file .* does not exist: the stored DNSSEC keys cannot be used without it/);
        await assert.rejects(services.createZone(lost, 'c.example.', { text: ZONE_TEXT, flags: { autoDnssec: true } }), /does not exist/);
        await assert.rejects(services.getZone(lost, 'c.example.'), services.ZoneNotFound);
        assert.equal(existsSync(path), false, 'no fresh KEK was made');
        await assert.rejects(dnssec.checkDnssecKek(lost), /does not exist/);
        // The public side needs no KEK: the status and the DS are still there.
        assert.equal((await dnssec.showDnssec(lost, 'a.example')).ds.length, 1);

        const loose = join(work, `loose-${++n}`);
        writeFileSync(loose, `${Buffer.alloc(32, 1).toString('base64')}\n`, { mode: 0o644 });
        chmodSync(loose, 0o644);
        await assert.rejects(ctxWith(s, kekFile(loose)).kek!.load({ create: false }), /accessible to group or others \(mode 644\): chmod 600 it/);
        chmodSync(loose, 0o600);
        assert.match((await kekFile(loose).load({ create: false })).id, /^[0-9a-f]{16}$/);
        writeFileSync(loose, 'not a key\n');
        await assert.rejects(kekFile(loose).load({ create: false }), /not a DMS DNSSEC key-encryption key file/);
      } finally {
        await s.close();
      }
    });

    test('zone flags auto_dnssec / nsec3 switch between default, default-nsec3 and unsigned; requests are recorded', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        const clock = manualClock(T0);
        const ctx = ctxWith(s, kekFile(kekPath()), clock);
        await services.createZone(ctx, 'f.example.', { text: ZONE_TEXT, flags: { autoDnssec: true } });
        let st = await dnssec.showDnssec(ctx, 'f.example');
        assert.deepEqual([st.policy, st.denial, st.keys.length, st.keys[0].role, st.keys[0].algorithmNumber], ['default', 'nsec', 1, 'csk', 13]);
        const csk = st.keys[0].tag;
        assert.match(st.ds[0], new RegExp(`^f\\.example\\. IN DS ${csk} 13 2 [0-9A-F]{64}$`));
        // Until the DNSKEY has propagated the DS waits; after, the operator is told to hand it to the registrar.
        assert.equal(st.keys[0].next?.at?.getTime(), T0 + (3600 + 300 + 3600) * 1000);
        clock.advance(3 * 3600_000);
        st = await dnssec.showDnssec(ctx, 'f.example');
        assert.match(st.waiting.join('\n'), new RegExp(`waiting for DS ${csk} at the parent of f\\.example\\.: give the registrar the DS record, then run ds_seen f\\.example\\. ${csk}`));

        // nsec3 flag: the same key, NSEC3 denial.
        await services.setZoneFlags(ctx, 'f.example.', { nsec3: true });
        st = await dnssec.showDnssec(ctx, 'f.example');
        assert.deepEqual([st.policy, st.denial, st.keys.map((k) => k.tag)], ['default-nsec3', 'nsec3', [csk]]);
        // A zone on a policy of its own keeps it; the nsec3 flag cannot contradict it.
        await dnssec.createDnssecPolicy(ctx, 'mine', { denial: 'nsec3' });
        await dnssec.setZoneDnssecPolicy(ctx, 'f.example', 'mine');
        assert.deepEqual((await dnssec.showDnssec(ctx, 'f.example')).keys.map((k) => k.tag), [csk], 'same algorithm and scheme: keys kept');
        await assert.rejects(services.setZoneFlags(ctx, 'f.example.', { nsec3: false }), /follows DNSSEC policy mine \(NSEC3\)/);
        assert.equal((await services.getZone(ctx, 'f.example.')).flags.nsec3, true);

        // Requests: rollover (one at a time, only of the policy's roles), DS seen, full re-sign.
        await assert.rejects(dnssec.rolloverZoneKey(ctx, 'f.example', 'zsk'), /has CSK keys, no ZSK/);
        st = await dnssec.rolloverZoneKey(ctx, 'f.example', 'csk');
        assert.deepEqual(st.rollover, { role: 'csk', requested: clock.now() });
        await assert.rejects(dnssec.rolloverZoneKey(ctx, 'f.example', 'csk'), services.DnssecRolloverPending);
        await assert.rejects(dnssec.dsSeen(ctx, 'f.example', (csk + 1) % 65536), services.DnssecKeyNotFound);
        const k = await dnssec.dsSeen(ctx, 'f.example', csk);
        assert.deepEqual([k.dsState, k.dsSeen?.getTime()], ['seen', clock.now().getTime()]);
        const r = await dnssec.signZoneRequest(ctx, 'f.example');
        assert.equal((await dnssec.showDnssec(ctx, 'f.example')).resignRequested?.getTime(), r.resignRequested.getTime());

        // A policy of another algorithm: new keys made hidden, an algorithm rollover asked for — but not while one is pending.
        await dnssec.createDnssecPolicy(ctx, 'ed', { algorithm: 'ED25519' });
        await assert.rejects(dnssec.setZoneDnssecPolicy(ctx, 'f.example', 'ed'), services.DnssecRolloverPending);
        await services.createZone(ctx, 'g.example.', { text: ZONE_TEXT, flags: { autoDnssec: true } });
        st = await dnssec.setZoneDnssecPolicy(ctx, 'g.example', 'ed');
        assert.deepEqual(st.keys.map((x) => [x.algorithmNumber, x.state]), [[13, 'active'], [15, 'hidden']]);
        assert.equal(st.rollover?.role, 'algorithm');

        // auto_dnssec off: unsigned wanted — secure → insecure: the policy and keys stay (still signing) until the DS
        // is gone from the parent; the CSK rollover only asked for is dropped.
        await services.setZoneFlags(ctx, 'f.example.', { autoDnssec: false });
        st = await dnssec.showDnssec(ctx, 'f.example');
        assert.equal(st.policy, 'mine');
        assert.equal(st.rollover?.role, 'unsign');
        assert.equal(st.keys.length, 1);
        assert.match(st.waiting.join('\n'), /going insecure/);
        assert.match(st.events.map((e) => e.summary).join('\n'), /unsign requested/);
        assert.deepEqual((await services.getZone(ctx, 'f.example.')).flags.autoDnssec, false);
        // set_zone_dnssec_policy none on g: flags follow; the algorithm rollover asked for is dropped with its hidden keys.
        await dnssec.setZoneDnssecPolicy(ctx, 'g.example', 'none');
        assert.equal((await services.getZone(ctx, 'g.example.')).flags.autoDnssec, false);
        st = await dnssec.showDnssec(ctx, 'g.example');
        assert.deepEqual([st.rollover?.role, st.keys.map((x) => [x.algorithmNumber, x.state])], ['unsign', [[13, 'active']]]);
        await assert.rejects(dnssec.setZoneDnssecPolicy(ctx, 'g.example', 'nosuch'), services.DnssecPolicyNotFound);
        // f follows 'mine' until its keys have left.
        assert.equal((await dnssec.listDnssecPolicies(ctx)).find((p) => p.name === 'mine')?.zones, 1);

        // The configured defaults (set_config auto_dnssec / nsec3) sign a new zone as the flags do.
        await services.setConfig(ctx, 'auto_dnssec', 'true');
        await services.setConfig(ctx, 'nsec3', 'true');
        await services.createZone(ctx, 'h.example.', { text: ZONE_TEXT });
        st = await dnssec.showDnssec(ctx, 'h.example');
        assert.deepEqual([st.policy, st.keys.length], ['default-nsec3', 1]);
        await services.createZone(ctx, 'i.example.', { text: ZONE_TEXT, flags: { autoDnssec: false } });
        assert.deepEqual((await dnssec.showDnssec(ctx, 'i.example')).policy, null);
        assert.equal((await dnssec.listDnssecPolicies(ctx)).find((p) => p.name === 'default-nsec3')?.zones, 1);
      } finally {
        await s.close();
      }
    });
  });

// ---- zone_tool, spawned ---------------------------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

for (const target of ['sqlite', 'postgres'] as const)
  describe(`zone_tool DNSSEC commands on ${target}`, () => {
    test('policies, flags, show_dnssec, requests, export/import, KEK file, missing KEK', async () => {
      const dir = mkdtempSync(join(work, 'zt-'));
      const kek = join(dir, 'kek', 'dnssec-kek');
      const store = target === 'sqlite' ? sqliteArgs(join(dir, 'data')) : postgresArgs(await (await needPg()).createDatabase());
      const zt = (args: string[], o: { kek?: string | null } = {}): Run => {
        const env = cleanEnv();
        const kekArgs = o.kek === null ? [] : ['--dnssec-kek', o.kek ?? kek];
        const r = spawnSync(process.execPath, [ZONE_TOOL, ...store, ...kekArgs, ...args], { encoding: 'utf8', env: { ...env, TZ: 'UTC' }, timeout: 60_000 });
        return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
      };
      const ok = (args: string[], o: { kek?: string | null } = {}): string => {
        const r = zt(args, o);
        assert.equal(r.code, 0, `zone_tool ${args.join(' ')}: ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r.stdout;
      };
      const fails = (args: string[], code: number, pattern: RegExp, o: { kek?: string | null } = {}): void => {
        const r = zt(args, o);
        assert.equal(r.code, code, `zone_tool ${args.join(' ')}: expected ${code}, got ${r.code}\n${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr.replace(/\s+/g, ' '), pattern);
        assert.equal(r.stdout, '');
      };

      ok(['create_zone', 'example.org']);
      assert.equal(existsSync(kek), false);
      ok(['set_zone', 'example.org', 'auto_dnssec']);
      assert.equal(statSync(kek).mode & 0o777, 0o600);
      const st = JSON.parse(ok(['--json', 'show_dnssec', 'example.org'])) as services.ZoneDnssecStatus;
      assert.equal(st.policy, 'default');
      assert.equal(st.keys.length, 1);
      const tag = st.keys[0].tag;
      const text = ok(['show_dnssec', 'example.org']);
      assert.match(text, new RegExp(`${tag} +CSK +ECDSAP256SHA256 +active +submit`));
      assert.match(text, /DS records for the registrar:\n +example\.org\. IN DS \d+ 13 2 [0-9A-F]{64}/);
      assert.ok(text.includes(st.ds[0]));

      fails(['create_dnssec_policy', 'fast', 'keys=ksk-zsk', 'zsk_lifetime=1h'], 65, /DNSSEC policy fast refused: ZSK lifetime 1h is shorter than a rollover needs/);
      fails(['create_dnssec_policy', 'fast', 'signatures_refresh=14d'], 65, /signature refresh \(2w\) ≥ signature validity \(2w\)/);
      fails(['create_dnssec_policy', 'fast', 'colour=blue'], 64, /unknown policy setting "colour=blue"/);
      assert.match(ok(['create_dnssec_policy', 'kz', 'keys=ksk-zsk', 'zsk_lifetime=60d', 'algorithm=ED25519', 'nsec3']), /NSEC3 iterations 0, salt length 0/);
      assert.match(ok(['ls_dnssec_policy']), /default +csk +ECDSAP256SHA256 +NSEC +1 zone\n[\s\S]*kz +ksk-zsk +ED25519 +NSEC3 +0 zones/);
      ok(['create_zone', 'kz.example']);
      const kz = JSON.parse(ok(['--json', 'set_zone_dnssec_policy', 'kz.example', 'kz'])) as services.ZoneDnssecStatus;
      assert.deepEqual(kz.keys.map((k) => k.role), ['ksk', 'zsk']);
      assert.match(ok(['show_zonesm', 'kz.example']), /nsec3: +True/);

      fails(['rollover_zone_key', 'example.org', 'zsk'], 65, /has CSK keys, no ZSK/);
      assert.match(ok(['rollover_zone_key', 'example.org', 'csk']), /rollover: +csk requested/);
      fails(['rollover_zone_key', 'example.org', 'csk'], 69, /already has a CSK rollover pending/);
      assert.match(ok(['ds_seen', 'example.org', String(tag)]), new RegExp(`DS ${tag} seen at the parent`));
      assert.match(ok(['sign_zone', 'example.org']), /full re-sign of example\.org\. requested/);

      // Export: files as dnssec-keygen writes them, the private one 0600, no private key on stdout.
      const out = join(dir, 'out');
      ok(['create_zone', 'other.example']);
      spawnSync('mkdir', ['-p', out]);
      const exp = ok(['export_dnssec_key', 'example.org', String(tag), out]);
      const base = `Kexample.org.+013+${String(tag).padStart(5, '0')}`;
      assert.equal(statSync(join(out, `${base}.private`)).mode & 0o777, 0o600);
      assert.doesNotMatch(exp, /PrivateKey/);
      assert.match(readFileSync(join(out, `${base}.private`), 'utf8'), /^Private-key-format: v1\.3\nAlgorithm: 13 \(ECDSAP256SHA256\)\nPrivateKey: /);
      fails(['export_dnssec_key', 'example.org', String(tag), out], 73, /exists: not overwritten/);
      // Import: into the wrong zone refused with the reason; into a zone whose policy uses another algorithm refused.
      fails(['import_dnssec_key', 'other.example', join(out, `${base}.private`)], 65, /DNSSEC key refused: the key file is for zone example\.org\., not other\.example\./);
      fails(['import_dnssec_key', 'kz.example', join(out, `${base}.private`)], 65, /DNSSEC key refused/);

      const backup = join(dir, 'kek.bak');
      copyFileSync(kek, backup);
      chmodSync(backup, 0o600);
      // The KEK file gone: the public status still shows, every use of a private key is refused, nothing is created.
      unlinkSync(kek);
      assert.match(ok(['show_dnssec', 'example.org']), /IN DS/);
      fails(['export_dnssec_key', 'example.org', String(tag), join(dir)], 69, /key-encryption key file .*dnssec-kek does not exist/);
      ok(['create_zone', 'new.example']);
      fails(['set_zone', 'new.example', 'auto_dnssec'], 69, /does not exist/);
      assert.match(ok(['show_zonesm', 'new.example']), /auto_dnssec: +False/);
      assert.equal(existsSync(kek), false);
      // Through the environment, as dmsd and scripts name it.
      const r = spawnSync(process.execPath, [ZONE_TOOL, ...store, 'set_zone', 'new.example', 'auto_dnssec'], {
        encoding: 'utf8', env: { ...cleanEnv(), DMS_DNSSEC_KEK: kek }, timeout: 60_000,
      });
      assert.equal(r.status, 69, r.stderr);
      // dmsd refuses to start on a database with keys and no KEK, with the reason; with the KEK it starts.
      const entry = dmsdEntry();
      assert.ok(entry);
      const node = [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry];
      const d = spawnSync(process.execPath, [...node, ...store, '--dnssec-kek', kek, '--listen', '127.0.0.1:0'], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
      assert.equal(d.status, 1, `dmsd without its KEK: ${d.status}\n${d.stdout}\n${d.stderr}`);
      assert.match(d.stdout, /"msg":"cannot use the DNSSEC keys"/);
      assert.match(d.stdout, /dnssec-kek does not exist/);
      const srv = await startDmsdDb(store, ['--dnssec-kek', backup]);
      try {
        assert.match(srv.output(), /"msg":"DNSSEC key-encryption key loaded"/);
      } finally {
        await srv.stop('SIGTERM');
      }
    });
  });
