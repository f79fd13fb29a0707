// A zone file parsed by a thread of its own while this one compiles it (server/zonedir.ts loadZoneThreaded, what
// dmsd --no-database does for large files) gives exactly what loading it in this thread gives: the zone, or the
// problems with their lines and columns; $INCLUDE confined the same way.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CHECK_INLINE_MAX_BYTES, CHECK_LATER_MAX_BYTES, checkZoneFileThreaded, loadZone, loadZoneDirectory, loadZoneDirectoryThreaded, loadZoneThreaded, type ZoneLoadResult } from '../../src/server/zonedir.js';

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
  writeFileSync(join(d, 'root.zone'), '$TTL 60\n. SOA a. b. 1 2 3 4 5\n. NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\n');
  writeFileSync(join(d, 'not a zone~'), 'ignored');
  const threaded = await loadZoneDirectoryThreaded(d, 0);
  const here = loadZoneDirectory(d);
  assert.deepEqual(threaded.map((r) => r.origin), ['a.test.', 'b.test.', '.']);
  assert.deepEqual(threaded.map(comparable), here.map(comparable));
  assert.deepEqual(threaded.map((r) => r.checkLater), [true, undefined, true], 'the zones served from a thread are checked later; b.test was not served');
  assert.deepEqual(here.map((r) => r.checkLater), [undefined, undefined, undefined], 'small files are checked as they are loaded');
});

test('a small file is checked before it is served: an error (CNAME beside other data) keeps it out, warnings come with their lines', () => {
  const d = join(root, 'checked');
  mkdirSync(d, { recursive: true });
  const head = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
  writeFileSync(join(d, 'bad.test'), `${head}www CNAME ns1\nwww A 192.0.2.2\n`);
  const bad = loadZone(join(d, 'bad.test'), 'bad.test');
  assert.equal(bad.zone, undefined, 'a zone with a CNAME beside other data is not served (BIND, Knot and NSD refuse it)');
  const errors = bad.problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(bad.problems));
  assert.match(errors[0].message, /CNAME/);
  assert.ok(errors[0].line >= 5 && errors[0].column > 0, `the error has its position: ${JSON.stringify(errors[0])}`);

  writeFileSync(join(d, 'warn.test'), `${head}d DNAME target.example.\nx.d A 192.0.2.3\n`);
  const warn = loadZone(join(d, 'warn.test'), 'warn.test');
  assert.ok(warn.zone, 'warnings do not keep a zone out');
  assert.equal(warn.problems.length, 1, JSON.stringify(warn.problems));
  assert.deepEqual([warn.problems[0].severity, warn.problems[0].line], ['warning', 5]);
  assert.match(warn.problems[0].message, /DNAME/);
});

test('a large file is served unchecked and checked by a thread after: the same problems the check gives a small file', async () => {
  const d = join(root, 'large');
  mkdirSync(join(d, 'inc'), { recursive: true });
  writeFileSync(join(d, 'inc', 'hosts'), 'h1 A 192.0.2.1\n');
  // CNAME beside other data near the end of a file past the in-line check's size.
  let text = bigZone(10);
  const tail = 'www CNAME host1\nwww TXT "beside"\nd DNAME target.example.\nx.d A 192.0.2.3\n';
  const filler: string[] = [];
  for (let i = 0, size = text.length + tail.length; size < CHECK_INLINE_MAX_BYTES + 1000; i++) {
    const line = `f${i} A 198.51.${(i >> 8) & 255}.${i & 255}\n`;
    filler.push(line);
    size += line.length;
  }
  text += filler.join('') + tail;
  const path = join(d, 'large.test');
  writeFileSync(path, text);
  const lines = text.split('\n').length - 1;
  const served = loadZone(path, 'large.test');
  assert.ok(served.zone, 'a large file is served before it is checked');
  assert.equal(served.checkLater, true);
  const problems = await checkZoneFileThreaded(path, 'large.test');
  const errors = problems.filter((p) => p.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(problems));
  assert.match(errors[0].message, /CNAME/);
  assert.equal(errors[0].line, lines - 2, `the error is at the TXT beside the CNAME (${lines} lines)`);
  assert.ok(problems.some((p) => p.severity === 'warning' && /DNAME/.test(p.message) && p.line === lines - 1), JSON.stringify(problems));

  // The same text small enough to be checked in line gives the same problems (lines shifted by the filler).
  const small = join(d, 'small.test');
  writeFileSync(small, bigZone(10) + tail);
  const inline = loadZone(small, 'small.test');
  assert.equal(inline.zone, undefined);
  const shape = (p: { severity: string; message: string }) => [p.severity, p.message.replaceAll('small.test', 'large.test').replace(/line \d+ of/g, 'line N of')];
  assert.deepEqual(inline.problems.map(shape), problems.map(shape));

  // Past the size the check takes, a file is served unchecked (the size the directory listing read decides).
  const huge = loadZone(small, 'small.test', CHECK_LATER_MAX_BYTES + 1);
  assert.ok(huge.zone, 'served');
  assert.deepEqual([huge.checkLater, huge.unchecked], [undefined, true]);
  assert.deepEqual(loadZone(small, 'small.test', CHECK_LATER_MAX_BYTES).checkLater, true);

  // A check thread that fails says so, as a warning.
  const failed = await checkZoneFileThreaded(path, 'large.test', { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 });
  assert.equal(failed.length, 1);
  assert.equal(failed[0].severity, 'warning');
  assert.match(failed[0].message, /^the zone check could not run \(.+\)$/);
});
