// A stream of RFC 2136 UPDATEs on a signed zone served by a real dmsd (issue 9: a change to a signed zone costs the
// change — the signer's delta is stored as rows and patched into the served snapshot, the canonical order of the
// denial proofs derived from the previous snapshot's). After 30 random UPDATEs (names added and removed, so empty
// non-terminals come and go; a wildcard; RRsets replaced), NSEC and NSEC3:
//  - dnssec-verify and ldns-verify-zone accept dmsd's AXFR (every RRset signed, the chain whole);
//  - dmsd killed with SIGKILL and restarted (the zone then compiled whole from the stored rows) gives the same DO=1
//    answers as the patched one did, for every name the stream touched, names below them and names that never
//    existed (NXDOMAIN/NODATA proofs): the patched snapshot equals the one compiled from scratch, and what was
//    stored survives kill -9.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFromText, type TsigKey } from '../../src/dns/tsig.js';
import { dig, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';

const ZONE = 'stream.example';
const ZONE_TEXT = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
a.b.ent A 192.0.2.3
*.w TXT "wild"
`;
const LABELS = ['a', 'b', 'c', 'ent', 'w', 'www', 'x'];

const spec = (k: TsigKey) => `${k.algorithm}:${k.name.toString().replace(/\.$/, '')}:${Buffer.from(k.secret).toString('base64')}`;

function run(cmd: string, args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...(input !== undefined ? { input } : {}) });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A small deterministic PRNG (mulberry32): the stream is the same on every run, the seed is in the test's name. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261203;

for (const policy of ['default', 'default-nsec3'])
  describe(`a stream of UPDATEs on a signed zone (${policy}, seed ${SEED}): verifiers accept the AXFR; kill -9 and restart answer the same`, () => {
    let data: string;
    let dmsd: Server;
    let xfrKey: TsigKey;
    let dynKey: TsigKey;
    const store = () => sqliteArgs(data);
    const touched = new Set<string>(['www', 'a.b.ent', 'b.ent', 'ent', 'x.w', 'nx', 'nx.www', 'zz.x.a']);

    before(async () => {
      data = mkdtempSync(join(tmpdir(), 'dms-signed-stream-'));
      const file = join(data, 'zone.txt');
      writeFileSync(file, ZONE_TEXT);
      zoneToolOk(store(), ['load_zone', '-i', file, ZONE]);
      const keyOf = (out: string, name: string) => keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? `x:${name}:`);
      xfrKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'xfr.key']), 'xfr.key');
      dynKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'dyn.key']), 'dyn.key');
      zoneToolOk(store(), ['add_transfer_rule', ZONE, 'key=xfr.key']);
      zoneToolOk(store(), ['add_update_grant', ZONE, 'grant dyn.key zonesub A TXT']);
      zoneToolOk(store(), ['--dnssec-kek', join(data, 'kek'), 'set_zone_dnssec_policy', ZONE, policy]);
      dmsd = await startDmsdDb(store(), ['--no-http', '--dnssec-kek', join(data, 'kek')]);
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 20000, 'zone served');
    });
    after(async () => {
      await dmsd?.stop();
      if (data) rmSync(data, { recursive: true, force: true });
    });

    /** DO=1 answers (answer and authority sections, lines sorted: RRset order is not compared) for the names touched. */
    const answers = (): string[] => {
      const out: string[] = [];
      for (const n of [...touched].sort())
        for (const type of ['A', 'TXT', 'NS'])
          out.push(`${n} ${type}\n${dig(dmsd.port, ['+dnssec', '+norec', '+nocookie', '+noall', '+answer', '+authority', '+comments', `${n}.${ZONE}`, type])
            .split('\n')
            .filter((l) => l.trim() !== '' && !/^;; (Got answer|->>HEADER|flags|OPT|;; EDNS|QUESTION|Query time|SERVER|WHEN|MSG)/.test(l) && !l.startsWith('; EDNS'))
            .map((l) => l.replace(/, id: \d+/, ''))
            .sort()
            .join('\n')}`);
      return out;
    };

    test('dmsd rehearsed its change path on a throwaway signed zone, and the store is as it was', async () => {
      const line = () => dmsd.output().split('\n').find((l) => l.includes('"msg":"change path rehearsed"'));
      await waitFor(() => line() !== undefined, 20000, 'change path rehearsed');
      const r = JSON.parse(line() as string) as { updates: number; statements: number; zones: number; dir: string };
      assert.equal(r.updates, 30);
      assert.equal(r.zones, 1, 'the signed zone read once');
      assert.ok(r.statements > 10, `statements made ready: ${r.statements}`);
      assert.ok(!existsSync(r.dir), 'the throwaway store is gone');
      assert.doesNotMatch(zoneToolOk(store(), ['ls']), /rehearsal/);
      assert.doesNotMatch(zoneToolOk(store(), ['ls_tsig_key']), /rehearsal/);
      assert.doesNotMatch(zoneToolOk(store(), ['ls_audit']), /rehearsal/);
      assert.doesNotMatch(dmsd.output(), /rehearsal\.dmsd\.example/, 'nothing of the throwaway zone in the log');
    });

    test('30 random UPDATEs answered NOERROR, each served signed; dnssec-verify and ldns-verify-zone accept the AXFR', async () => {
      const rnd = prng(SEED + policy.length);
      const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
      for (let i = 0; i < 30; i++) {
        const lines: string[] = [];
        for (let j = 0, n = 1 + Math.floor(rnd() * 3); j < n; j++) {
          const depth = 1 + Math.floor(rnd() * 3);
          const rel = Array.from({ length: depth }, () => pick(LABELS)).join('.');
          const owner = `${rel}.${ZONE}.`;
          touched.add(rel);
          touched.add(`q.${rel}`);
          const r = rnd();
          if (r < 0.5) lines.push(`update add ${owner} 300 A 192.0.2.${1 + Math.floor(rnd() * 250)}`);
          else if (r < 0.65) lines.push(`update add ${owner} 300 TXT "u${i}"`);
          else if (r < 0.85) lines.push(`update delete ${owner} A`);
          else lines.push(`update delete ${owner} TXT`);
        }
        const res = run('nsupdate', ['-y', spec(dynKey)], [`server 127.0.0.1 ${dmsd.port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n'));
        assert.equal(res.code, 0, `UPDATE ${i}: ${lines.join('; ')}\n${res.out}`);
      }
      const text = run('dig', ['@127.0.0.1', '-p', String(dmsd.tcpPort), '+tcp', '-y', spec(xfrKey), '+onesoa', '+noall', '+answer', ZONE, 'AXFR']).out;
      assert.match(text, /\sRRSIG\s/);
      const file = join(data, `${policy}.axfr`);
      writeFileSync(file, text);
      const b = run('dnssec-verify', ['-z', '-o', ZONE, file]);
      assert.equal(b.code, 0, `dnssec-verify:\n${b.out}`);
      assert.match(b.out, /Zone fully signed/);
      const l = run('ldns-verify-zone', [file]);
      assert.equal(l.code, 0, `ldns-verify-zone:\n${l.out}`);
      assert.match(l.out, /Zone is verified and complete/);
      // Every change was patched into the served zone (no whole reload of the signed zone after the first load).
      // (dmsd's log lines may reach us a moment after the answers.)
      const published = () => dmsd.output().split('\n').filter((x) => x.includes('"signed":true') && x.includes('"msg":"zone published"'));
      // (An UPDATE that deletes what is not there makes no version: fewer lines than UPDATEs.)
      const serial = servedSerial(dmsd.port, ZONE);
      await waitFor(() => published().some((x) => x.includes(`"serial":${serial},`)), 10000, `serial ${serial} published in the log`);
      assert.ok(published().length >= 10, published().join('\n'));
      assert.deepEqual(published().slice(1).filter((x) => !x.includes('"how":"patch"')), [], 'signed changes applied as patches');
    });

    test('kill -9 and restart: the zone compiled whole from the stored rows answers DO=1 queries as the patched one did', async () => {
      const serial = servedSerial(dmsd.port, ZONE);
      const patched = answers();
      assert.ok(patched.some((a) => /\sNSEC3?\s/.test(a)), 'denial proofs among the answers');
      dmsd.proc.kill('SIGKILL');
      await new Promise((r) => dmsd.proc.once('exit', r));
      dmsd = await startDmsdDb(store(), ['--no-http', '--dnssec-kek', join(data, 'kek')]);
      await waitFor(() => servedSerial(dmsd.port, ZONE) === serial, 20000, 'zone served after restart');
      assert.doesNotMatch(dmsd.output(), /"full":true[^\n]*"msg":"zone signed"/, 'no full re-sign after the restart');
      assert.deepEqual(answers(), patched);
    });
  });
