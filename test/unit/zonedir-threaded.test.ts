// A zone file parsed by a thread of its own while this one compiles it (server/zonedir.ts loadZoneThreaded, what
// dmsd --no-database does for large files) gives exactly what loading it in this thread gives: the zone, or the
// problems with their lines and columns; $INCLUDE confined the same way.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadZone, loadZoneDirectory, loadZoneDirectoryThreaded, loadZoneThreaded, type ZoneLoadResult } from '../../src/server/zonedir.js';

const root = mkdtempSync(join(tmpdir(), 'zonedir-threaded-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'zones');
mkdirSync(join(dir, 'inc'), { recursive: true });
writeFileSync(join(root, 'outside.inc'), 'stolen A 192.0.2.66\n');
writeFileSync(join(dir, 'inc', 'hosts'), 'h1 A 192.0.2.1\nH2 AAAA 2001:db8::2\n');

/** A zone of `n` names with several types each, upper case, an owner coming back at the end, an $INCLUDE. */
function bigZone(n: number): string {
  const lines = ['$TTL 300', '@ SOA ns1 hostmaster 7 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.53', '$INCLUDE inc/hosts'];
  for (let i = 0; i < n; i++) {
    lines.push(`${i % 7 === 0 ? `Host${i}` : `host${i}`} A 198.18.${(i >> 8) & 255}.${i & 255}`);
    lines.push(`  AAAA 2001:db8::${i.toString(16)}`);
    lines.push(`  TXT "record ${i}" "${'x'.repeat(i % 90)}"`);
    if (i % 50 === 0) lines.push(`mx${i} 60 MX 10 host${i}`, `*.w${i} CNAME host${i}`, `a.b.c${i} A 192.0.2.9`);
  }
  lines.push('host1 A 192.0.2.250', 'host1 300 TXT "record 1"');
  return `${lines.join('\n')}\n`;
}

function comparable(r: ZoneLoadResult): unknown {
  const z = r.zone;
  return {
    origin: r.origin,
    problems: r.problems,
    zone: z && {
      serial: z.serial,
      records: z.recordCount,
      warnings: z.warnings,
      nodes: [...z.nodes.entries()]
        .map(([key, n]) => [key, n.owner, n.bits, n.kids, n.wildcard?.key, n.data && Buffer.from(n.data.subarray(n.start, n.end)).toString('hex')])
        .sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    },
  };
}

test('a large zone parsed in a thread is the zone parsed here', async () => {
  const path = join(dir, 'example.org');
  writeFileSync(path, bigZone(6000));
  const threaded = await loadZoneThreaded(path, 'example.org');
  assert.deepEqual(threaded.problems, []);
  assert.ok(threaded.zone && threaded.zone.recordCount > 18_000);
  assert.equal(threaded.inThread, true);
  assert.deepEqual(comparable(threaded), comparable(loadZone(path, 'example.org')));
});

test('a thread that fails (out of memory here) leaves the file to this thread: the same zone, and a warning', async () => {
  const path = join(dir, 'oom.test');
  writeFileSync(path, bigZone(20_000));
  const r = await loadZoneThreaded(path, 'oom.test', { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 });
  assert.equal(r.inThread, undefined);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].message, /^the parsing thread failed \(.+\): parsed in the main thread$/);
  assert.equal(r.problems[0].severity, 'warning');
  const here = loadZone(path, 'oom.test');
  assert.deepEqual(comparable({ ...r, problems: [] }), comparable(here));
});

test('problems come back with their lines and columns; a missing file and a refused $INCLUDE too', async () => {
  const bad = join(dir, 'bad.test');
  writeFileSync(bad, `${bigZone(300)}oops A 300.1.1.1\n$INCLUDE ../outside.inc\nfine A 192.0.2.1\n`);
  const threaded = await loadZoneThreaded(bad, 'bad.test');
  assert.equal(threaded.zone, undefined);
  assert.ok(threaded.problems.length >= 2, JSON.stringify(threaded.problems));
  assert.ok(threaded.problems.some((p) => p.line > 900 && p.column > 0 && p.severity === 'error'));
  assert.deepEqual(threaded.problems, loadZone(bad, 'bad.test').problems);

  const missing = join(dir, 'missing.test');
  assert.deepEqual(comparable(await loadZoneThreaded(missing, 'missing.test')), comparable(loadZone(missing, 'missing.test')));
});

test('a directory loaded with every file in a thread equals the directory loaded here', async () => {
  const d = join(root, 'dir');
  mkdirSync(join(d, 'inc'), { recursive: true });
  writeFileSync(join(d, 'inc', 'hosts'), 'h1 A 192.0.2.1\n');
  writeFileSync(join(d, 'a.test'), bigZone(50));
  writeFileSync(join(d, 'b.test.zone'), bigZone(10).replace('@ NS ns1', '@ NS ns1\nbroken AAAA 1::2::3'));
  writeFileSync(join(d, 'root.zone'), '$TTL 60\n. SOA a. b. 1 2 3 4 5\n. NS a.root-servers.net.\n');
  writeFileSync(join(d, 'not a zone~'), 'ignored');
  const threaded = await loadZoneDirectoryThreaded(d, 0);
  const here = loadZoneDirectory(d);
  assert.deepEqual(threaded.map((r) => r.origin), ['a.test.', 'b.test.', '.']);
  assert.deepEqual(threaded.map(comparable), here.map(comparable));
});
