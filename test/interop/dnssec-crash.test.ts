// kill -9 of the signing dmsd (issue 9, "Bad input"): during a full sign of a zone, and right after a rollover step
// committed its key transition (before the version that serves it). The restarted dmsd must serve a zone that unbound
// validates (trust anchor: the DS show_dnssec printed before the kill), keep every key (same tags, same states or
// further along), and carry the rollover on to its end.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startUnbound, type Unbound } from '../helpers/acme.js';
import { postgresArgs, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const ZONE = 'crash.example';

function resolve(port: number, name: string, type: string): { status: string; ad: boolean } {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=5', '+dnssec', name, type], { encoding: 'utf8', timeout: 30_000 });
  const raw = r.stdout ?? '';
  return { status: /status: (\w+)/.exec(raw)?.[1] ?? 'none', ad: /;; flags: [^;]*\bad\b/.test(raw) };
}

/** Wait until `s`'s output has a line matching `re`, looking every 5 ms (so a kill lands close after it). */
async function waitLine(s: Server, re: RegExp, ms: number): Promise<void> {
  const start = Date.now();
  while (!s.output().split('\n').some((l) => re.test(l))) {
    if (Date.now() - start > ms) throw new Error(`no line ${re} within ${ms} ms:\n${s.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function kill9(s: Server): Promise<void> {
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGKILL');
  await gone;
}

interface Status {
  keys: { tag: number; role: string; state: string }[];
  ds: string[];
}

// On both backends: what a kill must not lose is in the database.
for (const backend of ['sqlite', 'postgres'] as const)
describe(`kill -9 of dmsd during a full sign and during a rollover step (${backend}): the restarted dmsd resumes; unbound validates; no key lost`, () => {
  let data = '';
  let pg: TestPostgres | undefined;
  let url = '';
  let dmsd: Server | undefined;
  let unbound: Unbound | undefined;
  const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
  const kek = () => ['--dnssec-kek', join(data, 'kek')];
  const start = () => startDmsdDb(store(), ['--no-http', ...kek(), '--dnssec-interval', '1']);
  const status = () => JSON.parse(zoneToolOk(store(), ['--json', 'show_dnssec', ZONE])) as Status;
  after(async () => {
    await unbound?.stop();
    await dmsd?.stop();
    await pg?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('a full sign killed: the restarted dmsd signs with the same keys and unbound validates', async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-sign-crash-'));
    if (backend === 'postgres') {
      pg = await startPostgres();
      url = await pg.createDatabase();
    }
    // Big enough that signing takes a while (five thousand RRsets, ten thousand signatures): the kill lands inside it.
    const lines = ['$TTL 60', '@ SOA ns1 hostmaster 1 3600 900 604800 60', '@ NS ns1', 'ns1 A 192.0.2.1', 'www A 192.0.2.2'];
    for (let i = 0; i < 5_000; i++) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const file = join(data, 'zone.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);
    zoneToolOk(store(), ['load_zone', file, ZONE]);
    zoneToolOk(store(), [
      'create_dnssec_policy', 'fast', 'keys=ksk-zsk', 'ksk_lifetime=unlimited', 'zsk_lifetime=unlimited', 'signatures_validity=600',
      'signatures_validity_dnskey=600', 'signatures_refresh=100', 'signatures_jitter=0', 'dnskey_ttl=1', 'max_zone_ttl=60',
      'zone_propagation_delay=0', 'publish_safety=0', 'retire_safety=0', 'parent_ds_ttl=1', 'parent_propagation_delay=0', 'checkds=no',
    ]);
    dmsd = await start();
    await waitFor(() => servedSerial(dmsd!.port, ZONE) !== undefined, 30000, 'zone served unsigned');
    const shown = zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', ZONE, 'fast']);
    const ds = /IN DS (\d+ \d+ \d+ [0-9A-F]+)/.exec(shown)?.[1] ?? '';
    assert.notEqual(ds, '', shown);
    const before = status().keys.map((k) => `${k.tag}/${k.role}/${k.state}`).sort();
    // The signer picks the change up at once; the kill comes while it signs (no "zone signed" line yet).
    await waitLine(dmsd, /"msg":"full sign started"/, 30_000);
    await new Promise((r) => setTimeout(r, 50));
    const signedBefore = /"msg":"zone signed"/.test(dmsd.output());
    await kill9(dmsd);
    assert.equal(signedBefore, false, 'the kill came after the sign finished: make the zone bigger');
    dmsd = await start();
    await waitLine(dmsd, /"full":true.*"msg":"zone signed"/, 120_000);
    await waitFor(() => /RRSIG/.test(spawnSync('dig', ['@127.0.0.1', '-p', String(dmsd!.port), '+norec', '+dnssec', `www.${ZONE}`, 'A'], { encoding: 'utf8' }).stdout), 30000, 'signed answers');
    assert.deepEqual(status().keys.map((k) => `${k.tag}/${k.role}/${k.state}`).sort(), before, 'the keys are the ones made before the kill');
    unbound = await startUnbound(data, [ZONE], dmsd.port, { trustAnchors: [`${ZONE}. DS ${ds}`] });
    for (const [name, type, st] of [[`www.${ZONE}`, 'A', 'NOERROR'], [`h1234.${ZONE}`, 'A', 'NOERROR'], [`nx.${ZONE}`, 'A', 'NXDOMAIN']] as const) {
      const r = resolve(unbound.port, name, type);
      assert.deepEqual([r.status, r.ad], [st, true], `${name} ${type}`);
    }

  });

  test('a ZSK rollover with dmsd killed right after each key transition is committed (before the version serving it)', async () => {
    // Same data directory and dmsd as the test above (run the file whole).
    assert.ok(data !== '' && dmsd, 'runs after the full-sign test');
    const ROLL = 'roll.example';
    const file = join(data, 'roll.txt');
    writeFileSync(file, '$TTL 2\n@ SOA ns1 hostmaster 1 3600 900 604800 2\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n');
    zoneToolOk(store(), ['load_zone', file, ROLL]);
    // ZSK retire interval: validity − refresh + max zone TTL = 22 s.
    zoneToolOk(store(), [
      'create_dnssec_policy', 'quick', 'keys=ksk-zsk', 'ksk_lifetime=unlimited', 'zsk_lifetime=unlimited', 'signatures_validity=30',
      'signatures_validity_dnskey=30', 'signatures_refresh=10', 'signatures_jitter=0', 'dnskey_ttl=2', 'max_zone_ttl=2',
      'zone_propagation_delay=0', 'publish_safety=0', 'retire_safety=0', 'parent_ds_ttl=1', 'parent_propagation_delay=0', 'checkds=no',
    ]);
    const ds = /IN DS (\d+ \d+ \d+ [0-9A-F]+)/.exec(zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', ROLL, 'quick']))?.[1] ?? '';
    const st = () => JSON.parse(zoneToolOk(store(), ['--json', 'show_dnssec', ROLL])) as Status;
    const servedKeys = () =>
      spawnSync('dig', ['@127.0.0.1', '-p', String(dmsd!.port), '+norec', '+short', ROLL, 'DNSKEY'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter((l) => /^25[67] 3 /.test(l)).length;
    await waitFor(() => servedKeys() === 2, 30000, 'roll.example signed');
    await unbound?.stop();
    unbound = await startUnbound(data, [ROLL], dmsd!.port, { trustAnchors: [`${ROLL}. DS ${ds}`] });
    const failures: string[] = [];
    const ask = () => {
      for (const [name, type, want] of [[`www.${ROLL}`, 'A', 'NOERROR'], [`nx.${ROLL}`, 'A', 'NXDOMAIN']] as const) {
        const r = resolve(unbound!.port, name, type);
        if (r.status !== want || !r.ad) failures.push(`${new Date().toISOString()} ${name} ${type}: ${r.status} ad=${r.ad}`);
      }
    };
    ask();
    zoneToolOk(store(), ['rollover_zone_key', ROLL, 'zsk']);
    const movesIn = (s: Server) => s.output().split('\n').filter((l) => l.includes('"msg":"DNSSEC keys moved along the policy"') && l.includes(ROLL));
    const seen = new Set<string>();
    for (let round = 0; round < 6 && !seen.has('removed'); round++) {
      const t0 = Date.now();
      while (movesIn(dmsd!).length === 0) {
        if (Date.now() - t0 > 60_000) throw new Error(`no key transition within 60 s:\n${dmsd!.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await kill9(dmsd!);
      for (const m of (movesIn(dmsd!).at(-1) as string).matchAll(/"to":"(\w+)"/g)) seen.add(m[1]);
      // The transition is in the database; the version that serves it was (most likely) never made.
      const inDb = st().keys.filter((k) => k.state !== 'removed' && k.state !== 'hidden').length;
      dmsd = await start();
      // The restarted signer notices the key set changed and publishes it: the served DNSKEY RRset follows the keys.
      try {
        await waitFor(() => servedKeys() === inDb || seen.has('removed'), 30000, `served DNSKEY RRset has the ${inDb} keys in the database`);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${dmsd!.output().slice(-4000)}`);
      }
      await unbound!.stop();
      unbound = await startUnbound(data, [ROLL], dmsd!.port, { trustAnchors: [`${ROLL}. DS ${ds}`] });
      for (let i = 0; i < 5; i++) ask();
    }
    for (const to of ['published', 'active', 'retired', 'removed']) assert.ok(seen.has(to), `transition to ${to} not seen: ${[...seen].join(', ')}`);
    await waitFor(() => servedKeys() === 2, 30000, 'two keys served after the rollover');
    for (let i = 0; i < 5; i++) ask();
    assert.deepEqual(failures, [], failures.join('\n'));
    const end = st();
    assert.deepEqual(end.keys.map((k) => k.role).sort(), ['ksk', 'zsk'], JSON.stringify(end.keys));
  });
});
