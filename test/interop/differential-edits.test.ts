// Whole-zone edits (zone_tool load_zone_zi: a new version of the zone from a file, as edit_zone saves one) of a random
// zone (test/helpers/random-zone.ts) served by dmsd, one after the other, each a random change of the text before
// it — records dropped, added (now and then to an RRset of another TTL: the RRset then takes one, RFC 2181 §5.2),
// given another TTL or owner case, RRsets replaced, records disabled (kept, not served) — with a named and a knotd
// secondary of dmsd following by NOTIFY and IXFR (the condensed difference of the versions each has not seen). After
// every edit both must serve dmsd's serial and their copies must be dmsd's zone record for record (AXFR of each); an
// edit DMS refuses (a target left without addresses, say) must leave the served zone as it was. Unsigned, and signed
// by dmsd (NSEC3).
// DMS_EDIT_SEED=N picks other edits; DMS_EDIT_COUNT=N how many.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFromText } from '../../src/dns/tsig.js';
import { dig, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { prng } from '../helpers/differential.js';
import { randomZone } from '../helpers/random-zone.js';
import { type Secondary, startKnotSecondary, startNamedSecondary, until } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';

const SEED = Number(process.env.DMS_EDIT_SEED ?? 20261206);
const COUNT = Number(process.env.DMS_EDIT_COUNT ?? 25);
const ZONE = 'edit.test';

/** The zone as AXFR gives it: one record per line, blanks squeezed, lower-cased, sorted (the random zones' strings
 * are lower case). */
function axfr(port: number, keySpec: string): string {
  const r = spawnSync('dig', ['-p', String(port), '@127.0.0.1', ZONE, 'AXFR', '-y', keySpec, '+nocmd', '+nostats', '+noall', '+answer'], { encoding: 'utf8', timeout: 20000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.trim() && !/\sTSIG\s/.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      // Names compare without case (RFC 4343): a name in RDATA may be compressed to an owner written in another case.
      return f.join(' ').toLowerCase();
    });
  return [...new Set(lines)].sort().join('\n');
}

/** A random change of the record lines `lines` (absolute owners, "owner TTL IN TYPE RDATA"); the SOA stays first. */
function edit(lines: string[], rnd: () => number, round: number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const [soa, ...rest] = lines;
  let out = [...rest];
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const op = Math.floor(rnd() * 7);
    const i = Math.floor(rnd() * out.length);
    const f = out[i]?.split(' ');
    if (op === 0 && out.length > 8) out.splice(i, 1 + Math.floor(rnd() * 3)); // records dropped
    else if (op === 1) {
      // new records at a new name and at an existing one
      const owner = pick([`n${round}-${k}.${ZONE}.`, f?.[0] ?? `${ZONE}.`]);
      out.push(pick([`${owner} 300 IN TXT "r${round}"`, `${owner} 300 IN A 192.0.2.${(round * 7 + k) % 250}`, `${owner} 3600 IN AAAA 2001:db8::${round}:${k}`]));
    } else if (op === 2 && f) {
      // another TTL for a whole RRset (one TTL per RRset)
      const ttl = pick(['60', '120', '7200']);
      out = out.map((l) => {
        const g = l.split(' ');
        return g[0] === f[0] && g[3] === f[3] ? [g[0], ttl, ...g.slice(2)].join(' ') : l;
      });
    } else if (op === 3 && f && f[3] !== 'NS') {
      // an owner written in another case
      out = out.map((l) => (l.split(' ')[0] === f[0] ? l.replace(f[0], f[0].toUpperCase()) : l));
    } else if (op === 4 && f && (f[3] === 'TXT' || f[3] === 'A')) {
      // an RRset replaced
      out = out.filter((l) => !(l.split(' ')[0] === f[0] && l.split(' ')[3] === f[3]));
      out.push(f[3] === 'TXT' ? `${f[0]} ${f[1]} IN TXT "replaced ${round}"` : `${f[0]} ${f[1]} IN A 198.51.100.${round % 250}`);
    } else if (op === 5 && f) out.splice(i, 1); // one record dropped
    else if (op === 6 && f && f[3] !== 'NS') out.splice(i, 0, ';!disable'); // one record kept but not served
  }
  return [soa, ...out];
}

for (const signed of [false, true])
  describe(`whole-zone edits of a random zone${signed ? ' signed by dmsd (NSEC3)' : ''}: a named secondary follows by IXFR`, () => {
    let dir = '';
    let dmsd: Server;
    let named: Secondary;
    let knot: Secondary;
    let keySpec = '';
    const store = () => sqliteArgs(join(dir, 'dms'));

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dms-diff-edits-'));
      const zone = randomZone(`${ZONE}.`, SEED + (signed ? 1 : 0), undefined, { addressedTargets: true });
      writeFileSync(join(dir, 'zone.txt'), zone.text);
      zoneToolOk(store(), ['load_zone', '-i', join(dir, 'zone.txt'), ZONE, 'no_use_apex_ns']);
      const out = zoneToolOk(store(), ['generate_tsig_key', 'edit.key', 'hmac-sha256']);
      keySpec = /^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? '';
      assert.ok(keySpec, out);
      zoneToolOk(store(), ['add_transfer_rule', ZONE, 'key=edit.key']);
      const namedPort = await freePort();
      zoneToolOk(store(), ['add_also_notify', ZONE, `127.0.0.1#${namedPort}`, 'key=edit.key']);
      const knotPort = await freePort();
      zoneToolOk(store(), ['add_also_notify', ZONE, `127.0.0.1#${knotPort}`, 'key=edit.key']);
      const kek = ['--dnssec-kek', join(dir, 'kek')];
      if (signed) zoneToolOk(store(), [...kek, 'set_zone_dnssec_policy', ZONE, 'default-nsec3']);
      dmsd = await startDmsdDb(store(), ['--no-http', ...kek]);
      if (signed) await waitFor(() => /\sRRSIG\s/.test(dig(dmsd.port, ['+dnssec', '+norec', '+noall', '+answer', `${ZONE}.`, 'SOA'])), 60000, 'zone signed');
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 10000, 'zone served by dmsd');
      named = startNamedSecondary({ zone: ZONE, primaryPort: dmsd.port, key: keyFromText(keySpec), port: namedPort, serveTransfers: true, debugLevel: 3 });
      await until('named to transfer the zone', () => servedSerial(namedPort, ZONE) === servedSerial(dmsd.port, ZONE), named.output);
      knot = startKnotSecondary({ zone: ZONE, primaryPort: dmsd.port, key: keyFromText(keySpec), port: knotPort, serveTransfers: true });
      await until('knotd to transfer the zone', () => servedSerial(knotPort, ZONE) === servedSerial(dmsd.port, ZONE), knot.output);
    });

    after(async () => {
      await dmsd?.stop();
      await named?.stop();
      await knot?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`${COUNT} edits (seed ${SEED}): named's copy is dmsd's zone after each`, async () => {
      const rnd = prng(SEED ^ 0xed17 ^ (signed ? 1 : 0));
      // The operator's records as dmsd holds them (the signer's left out), one per line, owners absolute.
      const current = () =>
        axfr(dmsd.port, keySpec)
          .split('\n')
          .filter((l) => !/ (RRSIG|NSEC|NSEC3|NSEC3PARAM|DNSKEY|CDS|CDNSKEY|TYPE65534) /i.test(l));
      let saved = 0;
      let refused = 0;
      for (let round = 0; round < COUNT; round++) {
        const before = current();
        const soa = before.find((l) => l.split(' ')[3] === 'SOA') as string;
        const lines = edit([soa, ...before.filter((l) => l !== soa)], rnd, round);
        const file = join(dir, `edit${round}.zone`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const servedBefore = servedSerial(dmsd.port, ZONE);
        const r = zoneTool(store(), ['load_zone_zi', file, ZONE]);
        if (r.code !== 0) {
          // Refused (a rule of DMS's, said in the output): the zone served stays as it was.
          refused++;
          assert.match(`${r.stdout}${r.stderr}`, /\S/, 'a refusal says why');
          assert.equal(servedSerial(dmsd.port, ZONE), servedBefore, `edit ${round} refused but the zone changed`);
          continue;
        }
        if (/unchanged/.test(`${r.stdout}${r.stderr}`)) continue; // the edit changed nothing DMS stores
        await waitFor(() => servedSerial(dmsd.port, ZONE) !== servedBefore, 10000, `edit ${round} served by dmsd`);
        const wanted = servedSerial(dmsd.port, ZONE);
        const b = axfr(dmsd.port, keySpec);
        for (const peer of [named, knot]) {
          await until(`${peer.label} at dmsd's serial ${wanted} after edit ${round}`, () => servedSerial(peer.port, ZONE) === wanted, peer.output, 20000);
          const a = axfr(peer.port, keySpec);
          if (a !== b) {
            const la = new Set(a.split('\n'));
            const lb = new Set(b.split('\n'));
            assert.fail(`after edit ${round}: ${peer.label}'s copy differs from dmsd's zone\nonly ${peer.label}: ${[...la].filter((l) => !lb.has(l)).join(' | ')}\nonly dmsd: ${[...lb].filter((l) => !la.has(l)).join(' | ')}`);
          }
        }
        saved++;
      }
      const answers = [...named.output().matchAll(/transfer of '[^']*' from 127\.0\.0\.1#\d+: got (incremental|nonincremental) response/g)].map((x) => x[1]);
      assert.ok(answers.filter((x) => x === 'incremental').length >= saved / 2, `named took too few IXFRs (${answers.join(', ')})`);
      assert.doesNotMatch(named.output(), /IXFR.*(failed|refused)|bad SOA|Transfer status: (?!success)/i);
      const knotIxfrs = (knot.output().match(/IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/g) ?? []).length;
      assert.ok(knotIxfrs >= saved / 2, `knotd took ${knotIxfrs} IXFRs:\n${knot.output().slice(-3000)}`);
      assert.doesNotMatch(knot.output(), /IXFR.*failed|fallback to AXFR|ACL, denied/i);
      assert.ok(saved >= COUNT / 2, `only ${saved} of ${COUNT} edits saved (${refused} refused)`);
      console.log(`whole-zone edits (seed ${SEED}${signed ? ', signed' : ''}): ${saved} saved, ${refused} refused; named's transfers: ${answers.join(' ')}`);
    });
  });
