// The signing threads (issue 9: "signing work runs off the query path and uses all cores for a full sign"): a zone
// signed by the pool of worker threads (src/daemon/sign-pool.ts) must be what the inline signer makes — the same
// RRsets signed by the same keys with the same inception and expiration, the same chain — and must pass BIND's
// dnssec-verify and ldns-verify-zone; so must a change re-signed through the pool. Then a real dmsd with
// --signing-threads 2: the AXFR of the zone it signed passes both verifiers and its log shows the threads computed
// the signatures.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SignPool, signDeferred, signZoneInPool } from '../../src/daemon/sign-pool.js';
import { RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { generateKey, KSK_FLAGS, type SignPolicy, signZone, type ZoneKey, ZSK_FLAGS } from '../../src/dnssec/index.js';
import { parseZoneText, writeZoneText } from '../../src/zonefile/index.js';
import { type Server, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';

const dir = mkdtempSync(join(tmpdir(), 'dms-sign-pool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const origin = Name.from('pool.example');
const ZONE = `$TTL 300
@ 3600 IN SOA ns1 hostmaster 2024010101 3600 600 86400 300
@ 3600 NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.2
www A 192.0.2.3
*.w TXT "wildcard"
x.y.z TXT "empty non-terminals above"
alias CNAME www
dn DNAME example.net.
below.dn A 192.0.2.9
secure NS ns.secure
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
ns.secure A 192.0.2.5
insecure NS ns.example.net.
${Array.from({ length: 400 }, (_, i) => `h${i} A 10.0.${i >> 8}.${i & 255}\nh${i} TXT "host ${i}"`).join('\n')}
`;
const records = (): RR[] => {
  const r = parseZoneText(ZONE, { origin });
  assert.deepEqual(r.problems, []);
  return r.records;
};

function verify(path: string): void {
  const b = spawnSync('dnssec-verify', ['-o', origin.toString(), path], { encoding: 'utf8' });
  assert.equal(b.status, 0, `dnssec-verify ${path}:\n${b.stdout}${b.stderr}`);
  const l = spawnSync('ldns-verify-zone', [path], { encoding: 'utf8' });
  assert.equal(l.status, 0, `ldns-verify-zone ${path}:\n${l.stdout}${l.stderr}`);
}

/** Everything but the signature bytes (ECDSA signatures differ each time): name, type, TTL, RDATA fields. */
function shape(rrs: readonly RR[]): string[] {
  return rrs
    .map((r) => {
      const rd = r.type === RRType.RRSIG ? r.rdata.subarray(0, r.rdata.length - 64) : r.rdata;
      return `${r.name.key} ${r.type} ${r.ttl} ${Buffer.from(rd).toString('hex')}`;
    })
    .sort();
}

const now = Math.floor(Date.now() / 1000);
const keys: ZoneKey[] = [
  { key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: false },
  { key: generateKey(13, { flags: ZSK_FLAGS }), ksk: false, zsk: true },
];

describe('signing threads: same result as inline, accepted by dnssec-verify and ldns-verify-zone', () => {
  // Small batches and nothing inline: many messages to both threads, each signature made there.
  const pool = new SignPool({ size: 2, batch: 37, inlineBelow: 0 });
  after(() => pool.close());

  for (const denial of [{ kind: 'nsec' }, { kind: 'nsec3', optOut: true }] as const) {
    test(`${denial.kind}${'optOut' in denial ? ' opt-out' : ''}: full sign in the pool, then a change through the pool`, async () => {
      const policy: SignPolicy = { denial, validity: 14 * 86400, jitter: 43200, dnskeyTtl: 3600 };
      const before = { ...pool.stats };
      // Tiny slices (a 0.01 ms target: 50 records each): the chain is built across many applies, as dmsd does for a
      // large zone; at most two batches in flight, so the slices wait for the threads as a large zone's do.
      const z = await signZoneInPool(origin, records(), keys, policy, now, pool, 0.01, 2);
      const sigs = z.generated().filter((r) => r.type === RRType.RRSIG);
      assert.ok(sigs.length > 800, `${sigs.length} signatures`);
      // Each slice's signatures go to the threads while the next slices are added. With NSEC (names added in canonical
      // order) only the chain record at a slice's end is re-made, so at most one signature per slice (≥ 50 records)
      // is computed in vain; NSEC3 records are signed once the chain is complete: none.
      const wasted = pool.stats.threaded - before.threaded - sigs.length;
      if (denial.kind === 'nsec') assert.ok(wasted >= 0 && wasted <= Math.ceil(records().length / 50), `${wasted} signatures computed in vain`);
      else assert.equal(wasted, 0, 'every signature of the zone was computed by the threads (none wasted)');
      assert.ok(pool.stats.batches - before.batches >= sigs.length / 37, `${pool.stats.batches - before.batches} batches`);
      assert.deepEqual(shape(z.records()), shape(signZone(origin, records(), keys, policy, now).records()), 'the same records, RRSIG fields and times as inline');
      const full = join(dir, `full-${denial.kind}.zone`);
      writeFileSync(full, writeZoneText(origin, z.records()));
      verify(full);

      // A change of 300 records (removed and added) re-signed through the pool at a later time.
      const rm = z.records().filter((r) => r.type === RRType.TXT && /^h\d+\./.test(r.name.toString()) && Number(/^h(\d+)/.exec(r.name.toString())?.[1]) < 150);
      const add = parseZoneText(Array.from({ length: 150 }, (_, i) => `n${i} 300 A 172.16.0.${i}`).join('\n'), { origin }).records;
      const t0 = pool.stats.threaded;
      const d = await signDeferred(z, pool, () => z.apply({ remove: rm, add }, keys, now + 60));
      assert.ok(pool.stats.threaded - t0 >= 150, `${pool.stats.threaded - t0} signatures of the change in the threads`);
      // ECDSA P-256: RDATA = 18 octets of fields + the signer's name + a 64-octet signature.
      const complete = 18 + origin.toWire().length + 64;
      assert.ok(d.add.every((r) => r.type !== RRType.RRSIG || r.rdata.length === complete), 'every RRSIG of the delta complete');
      const changed = join(dir, `changed-${denial.kind}.zone`);
      writeFileSync(changed, writeZoneText(origin, z.records()));
      verify(changed);
    });
  }
});

test('idle signing threads stop (their memory given back) and start again with the next large change', async () => {
  let stops = 0;
  const pool = new SignPool({ size: 2, batch: 50, inlineBelow: 0, idleMs: 150, afterIdleStop: () => stops++ });
  after(() => pool.close());
  const policy: SignPolicy = { denial: { kind: 'nsec' }, validity: 14 * 86400 };
  assert.equal(pool.threads, 0, 'no thread before the first use');
  const z = await signZoneInPool(origin, records(), keys, policy, now, pool);
  assert.equal(pool.threads, 2, 'two threads after a full sign');
  await waitFor(() => pool.threads === 0 && stops === 1, 5000, 'the idle threads stopped');
  // The next large change starts threads again and is signed by them, complete.
  const t0 = pool.stats.threaded;
  const add = parseZoneText(Array.from({ length: 100 }, (_, i) => `idle${i} 300 A 172.17.0.${i}`).join('\n'), { origin }).records;
  const d = await signDeferred(z, pool, () => z.apply({ remove: [], add }, keys, now + 60));
  assert.equal(pool.threads, 2, 'threads started again');
  assert.ok(pool.stats.threaded - t0 >= 100, `${pool.stats.threaded - t0} signatures in the new threads`);
  const complete = 18 + origin.toWire().length + 64;
  assert.ok(d.add.every((r) => r.type !== RRType.RRSIG || r.rdata.length === complete), 'every RRSIG complete');
  const file = join(dir, 'after-idle.zone');
  writeFileSync(file, writeZoneText(origin, z.records()));
  verify(file);
  // Busy threads are not stopped: the timer starts when the last signing ends.
  await waitFor(() => pool.threads === 0 && stops === 2, 5000, 'the threads stopped again');
});

describe('dmsd --signing-threads 2: the AXFR of the zone it signed validates, and the threads signed it', () => {
  let data = '';
  let dmsd: Server | undefined;
  after(async () => {
    await dmsd?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('full sign of 2,000 RRsets in the threads; dnssec-verify and ldns-verify-zone accept the AXFR', async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-sign-pool-dmsd-'));
    const store = sqliteArgs(data);
    const kek = ['--dnssec-kek', join(data, 'kek')];
    const lines = ['$TTL 60', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1'];
    for (let i = 0; i < 2_000; i++) lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`);
    const file = join(data, 'zone.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    zoneToolOk(store, ['load_zone', file, origin.toString()]);
    const xfr = /^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(zoneToolOk(store, ['generate_tsig_key', 'xfr.key']))?.[1] ?? '';
    assert.notEqual(xfr, '');
    zoneToolOk(store, ['add_transfer_rule', origin.toString(), 'key=xfr.key']);
    zoneToolOk(store, [...kek, 'set_zone_dnssec_policy', origin.toString(), 'default']);
    // As operators start it (bin/dmsd, the bundle): the sign worker threads must be found from there too.
    dmsd = await startDmsdDb(store, ['--no-http', ...kek, '--signing-threads', '2'], 'bin');
    const signedLine = () => dmsd!.output().split('\n').find((l) => /"full":true/.test(l) && /"msg":"zone signed"/.test(l));
    await waitFor(() => signedLine() !== undefined, 120_000, 'zone signed in full');
    const axfr = () =>
      spawnSync('dig', ['@127.0.0.1', '-p', String(dmsd!.tcpPort), '+tcp', '-y', xfr, '+onesoa', '+noall', '+answer', origin.toString(), 'AXFR'], { encoding: 'utf8' }).stdout;
    let text = '';
    await waitFor(() => /\sRRSIG\s+NSEC\s/.test((text = axfr())), 30_000, 'signed AXFR');
    const path = join(data, 'axfr.zone');
    writeFileSync(path, text);
    // The default policy has one CSK: dnssec-verify needs -z (it signs everything, SEP bit or not).
    const b = spawnSync('dnssec-verify', ['-z', '-o', origin.toString(), path], { encoding: 'utf8' });
    assert.equal(b.status, 0, `dnssec-verify:\n${b.stdout}${b.stderr}`);
    assert.match(b.stdout + b.stderr, /Zone fully signed/);
    const l = spawnSync('ldns-verify-zone', [path], { encoding: 'utf8' });
    assert.equal(l.status, 0, `ldns-verify-zone:\n${l.stdout}${l.stderr}`);
    const zone = parseZoneText(text, { origin }).records;
    const sigs = zone.filter((r) => r.type === RRType.RRSIG).length;
    const threaded = Number(/"threaded":(\d+)/.exec(signedLine() as string)?.[1]);
    // At most one signature per slice (≥ 50 records, one RRset each here) computed in vain: the NSEC at its end.
    assert.ok(threaded >= sigs && threaded - sigs <= Math.ceil(sigs / 2 / 50), `signatures computed by the threads (${threaded}) against RRSIGs served (${sigs})`);
  });
});
