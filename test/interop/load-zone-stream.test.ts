// The streaming load_zone (services/load-stream.ts: zone_tool load_zone of a file) against the whole-text load
// (createZone with `text`), on SQLite and a real PostgreSQL: for random zones — owners repeated far apart,
// duplicates, disabled records, comments, groups, $TTL, ;!REF: on the SOA, DNAMEs with names and targets below them, RRsets of
// more than 100 records, with and without SOA and apex NS, and
// errors of every kind the checks know — both give exactly the same stored zone (every record row with its order,
// the ZI, the zone row, the references) or exactly the same error with the same problems. Text is fed in random
// pieces, as bytes cut anywhere (inside UTF-8 sequences too) or as strings. An error on line 50,000 of a large file
// leaves the database as it was and is reported with its line and column (and by zone_tool as file:line:column).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import { loadZoneStream, streamLoadLimits } from '../../src/services/load-stream.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { dumpTables } from '../helpers/dump.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();
const ROOT = join(import.meta.dirname, '..', '..');
const TABLES = ['zones', 'zone_instances', 'records', 'zone_references', 'zone_sectags', 'zone_changes', 'events'];

/** Small deterministic PRNG (mulberry32): a failing seed can be run again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random zone file: mostly valid, with each kind of problem now and then. */
function randomZone(seed: number): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const chance = (p: number) => r() < p;
  const lines: string[] = [];
  if (chance(0.7)) lines.push(`$TTL ${pick([300, 3600, '1h', 86400])}`);
  const soa = `@ ${chance(0.2) ? '600 ' : ''}SOA ns1 hostmaster ${Math.floor(r() * 100000)} 7200 3600 1209600 300`;
  const hosts = ['www', 'mail', 'h1', 'h2', 'h3', 'a.b', 'x', 'ns1', 'ns2', 'Mixed'];
  const body: string[] = [];
  body.push('ns1 A 192.0.2.1', 'mail A 192.0.2.25');
  if (chance(0.6)) body.push('@ NS ns1');
  if (chance(0.3)) body.push('@ NS ns2', 'ns2 AAAA 2001:db8::2');
  const n = 5 + Math.floor(r() * 60);
  for (let i = 0; i < n; i++) {
    let h = pick(hosts);
    let owner = chance(0.1) ? ' ' : h; // inherited owner (a blank at the start)
    const ttl = chance(0.15) ? `${pick([60, 300, 600])} ` : '';
    const klass = chance(0.1) ? 'IN ' : '';
    const x = r();
    let rec: string;
    if (x < 0.3) rec = `A 192.0.2.${Math.floor(r() * 6)}`;
    else if (x < 0.45) rec = `AAAA 2001:db8::${Math.floor(r() * 4).toString(16)}`;
    else if (x < 0.6) rec = `TXT "${pick(['t', 'été', '🙂 x', 'two words'])}${Math.floor(r() * 3)}"`;
    else if (x < 0.7) rec = `MX ${pick([10, 20])} ${chance(0.1) ? 'nohost' : pick(['mail', 'ns1'])}`;
    else if (x < 0.75) rec = `SRV 0 5 5060 ${pick(['mail', 'www'])}`;
    else if (x < 0.8) {
      const d = `d${Math.floor(r() * 3)}`;
      body.push(`${d} NS ns.${d}`);
      rec = chance(0.8) ? `A 192.0.2.9` : 'TXT "no glue"';
      body.push(`ns.${d} ${rec}`);
      continue;
    } else if (x < 0.82) {
      rec = `CNAME ${pick(['www', 'mail', 'elsewhere.example.'])}`;
      if (chance(0.85)) owner = h = `alias${Math.floor(r() * 3)}`; // alone mostly: CNAME and other data now and then
    }
    else if (x < 0.835) {
      // A DNAME (twice now and then: one per owner), with a target below it now and then (occluded: refused).
      body.push(`dn DNAME ${pick(['example.net.', 'www'])}`);
      if (chance(0.4)) body.push('h.dn A 192.0.2.7', `mail MX 5 h.dn`);
      // Names below it (occluded: a warning naming the first), one of them disabled or spelled otherwise now and
      // then; an NS beside it (the delegation occludes it: a warning).
      if (chance(0.4)) body.push(chance(0.3) ? ';!DISABLE' : `;# below ${i}`, `${pick(['Deep.x', 'deep.x', 'y'])}.dn TXT "below"`);
      if (chance(0.2)) body.push('dn NS ns1');
      continue;
    }
    else if (x < 0.86) rec = `HINFO "pc" "os"`;
    else if (x < 0.88) rec = `${chance(0.1) ? 'CH' : 'IN'} TXT "class"`;
    else rec = `A 198.51.100.${Math.floor(r() * 3)}`;
    if (chance(0.08)) body.push(';!DISABLE');
    if (chance(0.08)) body.push(`;# comment ${i}`);
    if (chance(0.05)) body.push(`;| group ${i}`);
    if (chance(0.03)) body.push(`;!TRACKREV`);
    body.push(`${owner === ' ' ? '' : owner} ${ttl}${klass}${rec}`.replace(/^ /, '\t'));
  }
  // An RRset BIND secondaries refuse (more than 100 records: a warning), its records apart now and then.
  if (chance(0.15)) for (let k = 0, m = 101 + Math.floor(r() * 20); k < m; k++) body.splice(chance(0.9) ? body.length : Math.floor(r() * body.length), 0, `big A 10.9.${k >> 8}.${k & 255}`);
  if (chance(0.04)) body.push('out.of.zone.example. A 192.0.2.1');
  if (chance(0.04)) body.push('h1 SOA ns1 hostmaster 1 2 3 4 5');
  if (chance(0.04)) body.push('@ TXT "apex again"');
  if (chance(0.03)) body.push(soa); // a second SOA
  if (chance(0.03)) body.push('bad A 300.1.2.3'); // a parse error
  if (chance(0.1)) body.push(`www ( A\n  192.0.2.77 ) ; spread over lines`);
  const withSoa = chance(0.85);
  const soaAt = chance(0.8) ? 0 : Math.floor(r() * body.length);
  if (withSoa) {
    if (chance(0.2)) body.splice(soaAt, 0, `;!REF:ref${Math.floor(r() * 2)}`, soa);
    else body.splice(soaAt, 0, soa);
  }
  // The first record must have an owner: the inherited-owner lines come after one.
  if (body[0].startsWith('\t')) body.unshift('first A 192.0.2.200');
  return `${[...lines, ...body].join(chance(0.2) ? '\r\n' : '\n')}${chance(0.8) ? '\n' : ''}`;
}

/** The text in random pieces: bytes cut anywhere (also inside a UTF-8 sequence), or strings. */
function* pieces(text: string, seed: number): Generator<string | Uint8Array> {
  const r = rng(seed);
  const asBytes = r() < 0.7;
  const data: string | Uint8Array = asBytes ? new TextEncoder().encode(text) : text;
  let i = 0;
  while (i < data.length) {
    const len = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 300));
    yield data.slice(i, i + len);
    i += len;
  }
}

/** What a load gives: its warnings and the stored zone (rows, ZI, zone row, references), or the error with its problems. */
async function outcome(store: Store, zone: string, load: () => Promise<unknown>): Promise<unknown> {
  let warnings: unknown;
  try {
    warnings = ((await load()) as { warnings?: unknown }).warnings ?? [];
  } catch (e) {
    const err = e as { code?: string; message?: string; problems?: unknown };
    return { error: err.code ?? String(e), message: err.message, problems: err.problems };
  }
  // biome-ignore lint/suspicious/noExplicitAny: rows compared as plain data
  const db = store.db as any;
  const z = await db.selectFrom('zones').selectAll().where('name', '=', `${zone}.`).executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('records')
    .select(['from_version', 'to_version', 'owner_key', 'owner', 'type', 'rclass', 'ttl', 'rdata', 'comment', 'group_comment', 'flags', 'disabled', 'ord'])
    .where('zone_id', '=', z.id)
    .orderBy('ord')
    .execute();
  const zi = await db.selectFrom('zone_instances').selectAll().where('zone_id', '=', z.id).execute();
  // References by name: ids are not compared (PostgreSQL's sequences move on in rolled-back transactions too).
  const refs = (await db.selectFrom('zone_references').select(['name']).orderBy('name').execute()).map((x: { name: string }) => x.name);
  const ref = z.reference_id === null ? null : (await db.selectFrom('zone_references').select('name').where('id', '=', z.reference_id).executeTakeFirst())?.name;
  const plain = (v: unknown) =>
    JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x?.type === 'Buffer' ? Buffer.from(x.data).toString('hex') : x)));
  const { id: _id, ctime: _c, mtime: _m, reference_id: _r, ...zoneRow } = z;
  return plain({
    warnings,
    rows: rows.map((x: Record<string, unknown>) => ({ ...x, ttl: Number(x.ttl), ord: Number(x.ord) })),
    zi: zi.map(({ id: _i, zone_id: _z, ...rest }: Record<string, unknown>) => rest),
    zone: { ...zoneRow, reference: ref },
    refs,
  });
}

for (const backend of backends) {
  describe(`streaming load_zone on ${backend.name}`, () => {
    let whole: Store;
    let streamed: Store;
    const clock = manualClock(Date.parse('2026-12-03T12:00:00Z'));
    before(async () => {
      whole = await backend.open();
      streamed = await backend.open();
    });
    after(async () => {
      await whole.close();
      await streamed.close();
    });

    test('random zones: the same rows, ZI and zone row, or the same error, as the whole-text load', async () => {
      const count = backend.name === 'sqlite' ? 150 : 60;
      let loaded = 0;
      let refused = 0;
      let belowDname = 0;
      let besideNs = 0;
      for (let seed = 1; seed <= count; seed++) {
        const zone = `r${seed}.test`;
        const text = randomZone(seed);
        const useApexNs = seed % 3 === 0;
        const o = { flags: { useApexNs }, inhibitPublish: seed % 7 === 0 };
        const a = await outcome(whole, zone, () => svc.createZone(ctxOf(whole, 'tester@test/Admin', { clock }), zone, { ...o, text }));
        // Every fourth zone takes the path of a file whose owners are all scattered (all rows read back by owner).
        streamLoadLimits.splitMax = seed % 4 === 0 ? 0 : 20_000;
        const b = await outcome(streamed, zone, () => loadZoneStream(ctxOf(streamed, 'tester@test/Admin', { clock }), zone, pieces(text, seed), o));
        streamLoadLimits.splitMax = 20_000;
        assert.deepEqual(b, a, `seed ${seed}, zone text:\n${text}`);
        if ((a as { error?: string }).error) refused++;
        else loaded++;
        // The warnings (of a zone loaded, or beside the errors of one refused).
        const w = JSON.stringify(a);
        if (w.includes('below the DNAME')) belowDname++;
        if (w.includes('beside NS')) besideNs++;
      }
      // Both kinds must occur, or the comparison proves less than it says; so must the DNAME warnings.
      assert.ok(loaded >= count / 5 && refused >= count / 10, `loaded ${loaded}, refused ${refused}`);
      assert.ok(belowDname > 0 && besideNs > 0, `zones warned of names below a DNAME: ${belowDname}, of a DNAME beside NS: ${besideNs}`);
      console.log(`# ${backend.name}: ${loaded} zones loaded alike, ${refused} refused alike`);
    });

    test('an MX or SRV target that is an alias: refused alike, the error naming the alias', async () => {
      const text = `$TTL 300\n@ SOA ns1 hostmaster 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\nsip CNAME www\n@ MX 10 sip\n_sip._tcp SRV 0 5 5060 sip\n`;
      const zone = 'alias-target.test';
      const a = await outcome(whole, zone, () => svc.createZone(ctxOf(whole, 'tester@test/Admin', { clock }), zone, { text }));
      const b = await outcome(streamed, zone, () => loadZoneStream(ctxOf(streamed, 'tester@test/Admin', { clock }), zone, pieces(text, 1), {}));
      assert.deepEqual(b, a);
      const problems = (a as { problems?: { message: string; severity: string; line?: number }[] }).problems ?? [];
      const errors = problems.filter((p) => p.severity === 'error');
      assert.deepEqual(
        errors.map((p) => [p.line, p.message]),
        [
          [7, 'target sip.alias-target.test. is inside the zone and an alias (CNAME), not a name with an A or AAAA record (RFC 2181 §10.3)'],
          [8, 'target sip.alias-target.test. is inside the zone and an alias (CNAME), not a name with an A or AAAA record (RFC 2181 §10.3)'],
        ],
        JSON.stringify(problems),
      );
    });

    test('an error on line 50,000 leaves the database untouched and names its line and column', async () => {
      const body = ['$TTL 300', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
      for (let i = 0; body.length < 49_999; i++) body.push(`n${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      const cases = [
        { last: 'n5 A 10.0.0.300', line: 50_000, column: 6, pattern: /10\.0\.0\.300/ },
        // Reported at n7's A record (line 12), naming the CNAME 49,988 lines further on.
        { last: 'n7 CNAME ns1', line: 12, column: 1, pattern: /CNAME and other data: n7\.big\.test\. has a CNAME \(line 50000 of big\.test\.\) and A records/ },
        { last: 'out.example. A 192.0.2.1', line: 50_000, column: 1, pattern: /out of zone/ },
      ];
      for (const c of cases) {
        const text = `${[...body, c.last].join('\n')}\n`;
        const before = await dumpTables(streamed, TABLES);
        await assert.rejects(
          loadZoneStream(ctxOf(streamed), 'big.test', pieces(text, 7)),
          (e: { code?: string; problems?: { line?: number; column?: number; message: string; severity: string }[] }) => {
            assert.equal(e.code, 'ZONE_VALIDATION_FAILED');
            const errs = (e.problems ?? []).filter((p) => p.severity === 'error');
            assert.equal(errs.length, 1, JSON.stringify(errs));
            assert.equal(errs[0].line, c.line);
            assert.equal(errs[0].column, c.column);
            assert.match(errs[0].message, c.pattern);
            return true;
          },
        );
        assert.equal(await dumpTables(streamed, TABLES), before, 'nothing changed');
      }
      // And the same file without the bad line loads.
      const text = `${body.join('\n')}\n`;
      await loadZoneStream(ctxOf(streamed), 'big.test', pieces(text, 8));
      const content = await svc.getZoneContent(ctxOf(streamed), 'big.test', 'latest');
      assert.equal(content.records.filter((r) => /^n\d/.test(r.name.toString()) && r.type === 1).length, 49_999 - 4);
    });

    test('the automatic reverse step over many chunks of born addresses: the same PTRs, skips and reverse version as the whole-text load', async () => {
      // 20,000 AAAA records (the reverse step takes them 8,192 at a time): those in 2001:db8:51::/48 get their PTR in
      // that reverse zone (one new version of it), the others are reported skipped, the list capped.
      const lines = ['$TTL 300', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
      const N = 20_000;
      for (let i = 0; i < N; i++) lines.push(`h${i} AAAA 2001:db8:${i % 5 === 4 ? 52 : 51}::${(i >> 8).toString(16)}:${(i & 255).toString(16)}`);
      const text = `${lines.join('\n')}\n`;
      const inRev = Array.from({ length: N }, (_, i) => i).filter((i) => i % 5 !== 4).length;
      const results = [];
      for (const [s, load] of [
        [streamed, (ctx: svc.ServiceContext) => loadZoneStream(ctx, 'ptrs.test', pieces(text, 9))],
        [whole, (ctx: svc.ServiceContext) => svc.createZone(ctx, 'ptrs.test', { text })],
      ] as const) {
        const ctx = ctxOf(s, 'tester@test/Admin', { clock });
        await svc.invoke(ctx, 'create_zone', { zone: '2001:db8:51::/48', flags: { incUpdates: true } });
        const r = (await load(ctx)) as { reverse?: svc.ReverseReport };
        assert.ok(r.reverse, 'a reverse report');
        assert.equal(r.reverse.changes.length, inRev, 'one PTR per address in the reverse zone');
        assert.ok(r.reverse.changes.every((c) => c.action === 'create'), 'all created');
        assert.equal(r.reverse.skipped.length + (r.reverse.skippedMore ?? 0), N - inRev, 'the others skipped');
        assert.ok(r.reverse.skipped.every((k) => k.reason === 'no_reverse_zone'), 'skipped for want of a reverse zone');
        assert.deepEqual(r.reverse.zones.map((z) => z.zone), ['1.5.0.0.8.b.d.0.1.0.0.2.ip6.arpa.'], 'one new version of the reverse zone');
        const rev = await svc.getZoneContent(ctx, '1.5.0.0.8.b.d.0.1.0.0.2.ip6.arpa.', 'latest');
        assert.equal(rev.records.filter((x) => x.type === 12).length, inRev, 'the PTRs stored');
        results.push({ changes: r.reverse.changes, skipped: r.reverse.skipped, more: r.reverse.skippedMore });
      }
      assert.deepEqual(results[0], results[1], 'streamed and whole-text loads report alike');
    });
  });
}

describe('zone_tool load_zone streams a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-load-stream-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an error on line 50,000: exit 65, file:line:column, nothing saved; the fixed file loads', () => {
    const data = join(dir, 'data');
    const env: NodeJS.ProcessEnv = { ...process.env, DMS_CHANGE_BY: 'tester@test/Admin' };
    delete env.DMS_DATA_DIR;
    delete env.DMS_DATABASE_URL;
    const zt = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', data, ...args], { encoding: 'utf8', env, timeout: 120_000, maxBuffer: 256 << 20 });
    const lines = ['@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
    for (let i = 0; lines.length < 49_999; i++) lines.push(`n${i} TXT "é ${i}"`);
    const file = join(dir, 'big.test');
    writeFileSync(file, `${[...lines, 'n3 A 192.0.2.999'].join('\n')}\n`);
    const r = zt('load_zone', file, 'big.test');
    assert.equal(r.status, 65, r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:50000:6: `), r.stderr);
    assert.match(r.stderr, /nothing saved/);
    const ls = zt('ls');
    assert.equal(ls.status, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /big\.test/);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const ok = zt('load_zone', file, 'big.test');
    assert.equal(ok.status, 0, ok.stderr);
    const show = zt('show_zone', 'big.test');
    assert.match(show.stdout, /^n49995\s.*TXT\s+"\\195\\169 49995"$/m);
  });
});
