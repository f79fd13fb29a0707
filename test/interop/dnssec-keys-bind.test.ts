// DNSSEC key management against BIND's own tools (issue 9), on SQLite and PostgreSQL: keys made by dnssec-keygen
// are imported (and mismatching ones refused with the reason); the DS show_dnssec gives for the registrar is what
// dnssec-dsfromkey computes from the same key; a key DMS generated, stored sealed and exported as BIND files signs a
// zone with dnssec-signzone that dnssec-verify accepts (the private key survives the KEK round trip intact).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as dnssec from '../../src/services/dnssec.js';
import * as services from '../../src/services/index.js';
import { kekFile } from '../../src/services/kek.js';
import { testBackends } from '../helpers/postgres.js';

const { backends, postgres: needPg } = testBackends({ lazy: true });
const work = mkdtempSync(join(tmpdir(), 'dms-dnssec-bind-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** dnssec-keygen in `dir`: the key's base name (K<zone>.+<alg>+<tag>). */
function keygen(dir: string, zone: string, alg: string, o: { ksk?: boolean; bits?: number } = {}): string {
  return run('dnssec-keygen', ['-q', '-K', dir, '-a', alg, ...(o.bits ? ['-b', String(o.bits)] : []), ...(o.ksk ? ['-f', 'KSK'] : []), zone], dir).trim();
}

const dsfromkey = (dir: string, base: string): string => run('dnssec-dsfromkey', ['-2', join(dir, `${base}.key`)], dir).trim();

const ZONE_TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n';

const files = (dir: string, base: string) => ({
  keyText: readFileSync(join(dir, `${base}.key`), 'utf8'),
  privateText: readFileSync(join(dir, `${base}.private`), 'utf8'),
  fileName: `${base}.private`,
});

for (const backend of backends)
  describe(`BIND key files on ${backend.name}`, () => {
    test('dnssec-keygen keys imported, mismatches refused, DS = dnssec-dsfromkey, exported keys sign for dnssec-signzone', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      const dir = mkdtempSync(join(work, `${backend.name}-`));
      try {
        const ctx = services.serviceContext(s, { actor: 'tester@test/Admin', kek: kekFile(join(dir, 'kek')) });
        for (const z of ['ec.example.', 'ed.example.', 'rsa.example.', 'gen.example.', 'kz.example.']) await services.createZone(ctx, z, { text: ZONE_TEXT });

        // Imports of keys BIND made: accepted, active (BIND's Activate is now), DS exactly dnssec-dsfromkey's.
        const cases: [string, string, { ksk?: boolean; bits?: number }, number][] = [
          ['ec.example', 'ECDSAP256SHA256', { ksk: true }, 13],
          ['ed.example', 'ED25519', { ksk: true }, 15],
          ['rsa.example', 'RSASHA256', { ksk: true, bits: 2048 }, 8],
        ];
        for (const [zone, alg, o, num] of cases) {
          const base = keygen(dir, zone, alg, o);
          const k = await dnssec.importDnssecKey(ctx, zone, files(dir, base));
          assert.deepEqual([k.role, k.algorithmNumber, k.origin, k.state, k.flags], ['csk', num, 'imported', 'active', 257], zone);
          assert.equal(base, `K${zone}.+${String(num).padStart(3, '0')}+${String(k.tag).padStart(5, '0')}`);
          const st = await dnssec.showDnssec(ctx, zone);
          assert.deepEqual(st.ds, [dsfromkey(dir, base)], `${zone}: DS`);
          // The same key again: refused.
          await assert.rejects(dnssec.importDnssecKey(ctx, zone, files(dir, base)), /already a key of/);
        }
        // A zone that then takes a policy of the imported key's algorithm keeps the key (migration from BIND).
        const edPolicy = await dnssec.createDnssecPolicy(ctx, 'ed', { algorithm: 'ED25519' });
        const edTag = (await dnssec.showDnssec(ctx, 'ed.example')).keys[0].tag;
        const ed = await dnssec.setZoneDnssecPolicy(ctx, 'ed.example', edPolicy.name);
        assert.deepEqual(ed.keys.map((k) => k.tag), [edTag]);
        assert.equal(ed.rollover, null);

        // Mismatches, each refused with its reason and nothing stored.
        const a = keygen(dir, 'ec.example', 'ECDSAP256SHA256', { ksk: true });
        const b = keygen(dir, 'ec.example', 'ECDSAP256SHA256', { ksk: true });
        const before = (await dnssec.showDnssec(ctx, 'ec.example')).keys.length;
        const refused = async (zone: string, input: dnssec.ImportDnssecKeyInput, reason: RegExp) =>
          assert.rejects(dnssec.importDnssecKey(ctx, zone, input), (e: unknown) => e instanceof services.DnssecKeyRefused && reason.test(e.message));
        await refused('ec.example', { ...files(dir, a), privateText: files(dir, b).privateText, fileName: undefined }, /the private key does not belong to the public key/);
        await refused('ec.example', { ...files(dir, a), fileName: `${b}.private` }, /is named for key tag/);
        await refused('gen.example', files(dir, a), /the key file is for zone ec\.example\., not gen\.example\./);
        // ed.example follows an ED25519 policy: an ECDSA key does not fit it.
        const ecForEd = keygen(dir, 'ed.example', 'ECDSAP256SHA256', { ksk: true });
        await refused('ed.example', files(dir, ecForEd), /the key is algorithm 13 \(ECDSAP256SHA256\), the zone's policy uses 15/);
        // A ZSK into a zone whose (default) policy uses one CSK.
        const zsk = keygen(dir, 'ec.example', 'ECDSAP256SHA256');
        await refused('ec.example', files(dir, zsk), /a ZSK \(DNSKEY flags 256\) does not fit/);
        assert.equal((await dnssec.showDnssec(ctx, 'ec.example')).keys.length, before);
        // …but a KSK+ZSK policy takes BIND's ZSK as a ZSK.
        await dnssec.createDnssecPolicy(ctx, 'kz', { keys: 'ksk-zsk', zskLifetime: '90d' });
        await dnssec.setZoneDnssecPolicy(ctx, 'kz.example', 'kz');
        const kzZsk = keygen(dir, 'kz.example', 'ECDSAP256SHA256');
        assert.equal((await dnssec.importDnssecKey(ctx, 'kz.example', files(dir, kzZsk))).role, 'zsk');

        // Keys DMS generated: DS = dnssec-dsfromkey of the exported .key; the exported pair signs a zone that
        // dnssec-verify accepts (-z: a CSK, the KSK flag signs everything), so the private key came back out of the KEK intact.
        await services.setZoneFlags(ctx, 'gen.example.', { autoDnssec: true });
        const gen = await dnssec.showDnssec(ctx, 'gen.example');
        assert.equal(gen.keys.length, 1);
        const out = join(dir, 'export');
        mkdirSync(out);
        const exp = await dnssec.exportDnssecKey(ctx, 'gen.example', gen.keys[0].tag);
        writeFileSync(join(out, `${exp.baseName}.key`), exp.keyText);
        writeFileSync(join(out, `${exp.baseName}.private`), exp.privateText, { mode: 0o600 });
        assert.deepEqual(gen.ds, [dsfromkey(out, exp.baseName)]);
        writeFileSync(join(out, 'gen.example.zone'), `$ORIGIN gen.example.\n${ZONE_TEXT}$INCLUDE ${exp.baseName}.key\n`);
        run('dnssec-signzone', ['-z', '-K', out, '-o', 'gen.example.', '-f', 'signed.zone', 'gen.example.zone', exp.baseName], out);
        const verify = spawnSync('dnssec-verify', ['-z', '-o', 'gen.example.', 'signed.zone'], { cwd: out, encoding: 'utf8', timeout: 60_000 });
        assert.equal(verify.status, 0, `${verify.stdout}\n${verify.stderr}`);
        assert.match(`${verify.stdout}${verify.stderr}`, /Zone fully signed/);
        // The exported .private imports back into DMS as the same key, in another database's zone of that name.
        await services.deleteZone(ctx, 'gen.example.');
        await services.createZone(ctx, 'gen.example.', { text: ZONE_TEXT });
        const back = await dnssec.importDnssecKey(ctx, 'gen.example', { ...files(out, exp.baseName) });
        assert.equal(back.tag, gen.keys[0].tag);
      } finally {
        await s.close();
      }
    });
  });
