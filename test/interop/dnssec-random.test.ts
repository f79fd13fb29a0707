// Random zones (test/helpers/random-zone.ts: delegations with and without DS, wildcards, empty non-terminals, CNAMEs,
// DNAMEs, many types) loaded with zone_tool and signed by dmsd with NSEC, NSEC3 and NSEC3 opt-out, then every answer
// that stays inside the zone — data, NODATA, NXDOMAIN, wildcard expansions, NODATA at wildcards, DS at cuts — checked
// by delv (BIND's validator) from the zone's DS: each must come out "fully validated" (or "insecure" under an opt-out
// span, never bogus). Proof of denial is where signers go wrong on shapes nobody wrote a fixture for; here the shapes
// are drawn at random.
// DMS_DNSSEC_SEED=N picks another zone; DMS_DNSSEC_QUERIES=N how many answers are validated per policy.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType, typeToString } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { dig, type Server, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { generateQueries, loadFixtureZones, prng } from '../helpers/differential.js';
import { query } from '../helpers/dns-client.js';
import { randomZone } from '../helpers/random-zone.js';

const SEED = Number(process.env.DMS_DNSSEC_SEED ?? 20261206);
const QUERIES = Number(process.env.DMS_DNSSEC_QUERIES ?? 120);
const ZONE = 'rs.test';

// optout: NSEC3 with opt-out (RFC 5155 §6), where a validator may answer without AD what an opt-out span covers
// (RFC 5155 §9.2): "insecure" is then the right outcome, "bogus" never.
for (const policy of ['default', 'default-nsec3', 'optout'])
  describe(`a random zone signed by dmsd (${policy}, seed ${SEED}): delv validates every answer inside it`, () => {
    let dir = '';
    let dmsd: Server;
    let ds = '';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dms-dnssec-random-'));
      mkdirSync(join(dir, 'zones'));
      writeFileSync(join(dir, 'zones', ZONE), randomZone(`${ZONE}.`, SEED, undefined, { addressedTargets: true }).text);
      const store = sqliteArgs(join(dir, 'dms'));
      zoneToolOk(store, ['load_zone', join(dir, 'zones', ZONE), ZONE, 'no_use_apex_ns']);
      const kek = ['--dnssec-kek', join(dir, 'kek')];
      if (policy === 'optout') zoneToolOk(store, ['create_dnssec_policy', 'optout', 'nsec3', 'nsec3_opt_out=yes']);
      const shown = zoneToolOk(store, [...kek, 'set_zone_dnssec_policy', ZONE, policy]);
      ds = /IN DS (\d+ \d+ \d+ [0-9A-F]+)/.exec(shown)?.[1] ?? '';
      assert.notEqual(ds, '', shown);
      dmsd = await startDmsdDb(store, ['--no-http', ...kek]);
      await waitFor(() => /\sRRSIG\s/.test(dig(dmsd.port, ['+dnssec', '+norec', '+noall', '+answer', `${ZONE}.`, 'SOA'])), 60000, 'zone signed');
    });
    after(async () => {
      await dmsd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('every answer that stays inside the zone validates', async () => {
      const anchors = join(dir, 'anchors.conf');
      const [tag, alg, digestType, digest] = ds.split(' ');
      writeFileSync(anchors, `trust-anchors { ${ZONE}. static-ds ${tag} ${alg} ${digestType} "${digest}"; };\n`);
      const origin = Name.from(ZONE);
      // The queries of the differential tests, one per name and type; the meta and DNSSEC types left to the signer.
      const seen = new Set<string>();
      const skipTypes = new Set<number>([RRType.ANY, RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);
      const candidates = generateQueries(loadFixtureZones(join(dir, 'zones')).filter((z) => z.name === ZONE), SEED, { fixtureSweeps: false }).filter((q) => {
        const k = `${q.name.key}|${q.type}`;
        // (the DS of the apex is the parent's: nothing here answers it)
        if (q.raw || skipTypes.has(q.type) || !q.name.isSubdomainOf(origin) || seen.has(k) || (q.type === RRType.DS && q.name.equals(origin))) return false;
        seen.add(k);
        return true;
      });
      // Kept: answers that do not leave the zone (delv would follow a CNAME or a referral out of it, where nothing answers).
      const rnd = prng(SEED);
      const kept: { name: string; type: string; kind: string }[] = [];
      for (const q of candidates.sort(() => rnd() - 0.5)) {
        if (kept.length >= QUERIES) break;
        const a = await query(dmsd.port, { name: q.name, type: q.type, ednsSize: 1232 });
        const m = a.msg;
        if (!m?.aa || (m.rcode !== 0 && m.rcode !== 3)) continue;
        if (m.answer.some((rr) => rr.type === RRType.CNAME || rr.type === RRType.DNAME)) continue;
        const kind = m.rcode === 3 ? 'NXDOMAIN' : m.answer.length === 0 ? 'NODATA' : m.answer.some((rr) => !rr.name.equals(q.name)) ? 'other' : m.answer[0].name.isWildcard() ? 'wildcard' : 'data';
        kept.push({ name: q.name.toString(), type: typeToString(q.type), kind });
      }
      const kinds = new Set(kept.map((k) => k.kind));
      for (const k of ['data', 'NODATA', 'NXDOMAIN']) assert.ok(kinds.has(k), `no ${k} answer among ${kept.length}`);
      const failed: string[] = [];
      for (const { name, type, kind } of kept) {
        const r = spawnSync('delv', ['@127.0.0.1', '-p', String(dmsd.port), '-a', anchors, `+root=${ZONE}`, name, type], { encoding: 'utf8', timeout: 30_000 });
        const out = `${r.stdout}${r.stderr}`;
        const ok = policy === 'optout' ? /fully validated|unsigned answer|insecure/ : /fully validated/;
        if (!ok.test(out) || /resolution failed: (?!ncache)/.test(out)) failed.push(`${name} ${type} (${kind}):\n${out}`);
      }
      assert.deepEqual(failed, [], `${failed.length} of ${kept.length} answers did not validate`);
      console.log(`# ${policy}: ${kept.length} answers validated (${[...kinds].join(', ')})`);
    });
  });
