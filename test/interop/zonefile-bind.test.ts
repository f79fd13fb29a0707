// Differential check against the real named-checkzone (BIND 9): for every fixture zone our verdict (parse errors +
// checkZone errors) must match BIND's, and for good zones BIND's canonical dump (`-D`) must hold the same records as
// ours (after duplicate folding and BIND's "TTL set to prior TTL" RRset normalisation).
//
// Known, deliberate divergences are NOT in these fixtures but tested in zonefile-check.test.ts: out-of-zone data
// (BIND ignores it with a warning; we reject it) and TTLs above 2^31-1 (BIND sets 0 with a warning; RFC 2181 §8 and
// our brief make it an error).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { canonicalRdata } from '../../src/dns/rdata.js';
import { loadZoneFile } from '../../src/server/zonefile-files.js';
import { checkZone, formatProblem, parseZoneText, type ZoneRecord } from '../../src/zonefile/index.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'zonefile');
const origin = Name.from('example.org');

function named(args: string[], cwd: string) {
  return spawnSync('named-checkzone', args, { cwd, encoding: 'utf8' });
}

test('named-checkzone is installed (the differential tests below need it)', () => {
  const v = execFileSync('named-checkzone', ['-v'], { encoding: 'utf8' });
  assert.match(v, /^9\./);
});

function ours(path: string) {
  const r = loadZoneFile(path, { origin });
  const c = checkZone(origin, r.records);
  const problems = [...r.problems, ...c.problems];
  return { records: c.records, given: r.records, errors: problems.filter((p) => p.severity === 'error'), problems };
}

/** `ttlsFrom`: the records as written (checkZone gives an RRset of mixed TTLs its last record's). */
function keys(records: ZoneRecord[], ttlsFrom: ZoneRecord[] = records): string[] {
  // BIND gives a whole RRset the TTL of its first record.
  const first = new Map<string, number>();
  for (const r of ttlsFrom) {
    const k = `${r.name.key} ${r.type}`;
    if (!first.has(k)) first.set(k, r.ttl);
  }
  return records
    .map((r) => `${r.name.key} ${first.get(`${r.name.key} ${r.type}`)} ${r.class} ${r.type} ${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('hex')}`)
    .sort();
}

for (const kind of ['good', 'bad'] as const) {
  const sub = join(dir, kind);
  const files = readdirSync(sub).filter((f) => f.endsWith('.zone')).sort();
  test(`${kind} fixtures exist`, () => assert.ok(files.length >= 8));
  for (const f of files) {
    test(`${kind}/${f}: verdict agrees with named-checkzone${kind === 'good' ? ', same record set as its -D dump' : ''}`, () => {
      const bind = named(['example.org', f], sub);
      const mine = ours(join(sub, f));
      const bindOk = bind.status === 0;
      assert.equal(bindOk, kind === 'good', `named-checkzone on ${f}: ${bind.stdout}${bind.stderr}`);
      assert.equal(mine.errors.length === 0, bindOk, `ours on ${f}:\n${mine.problems.map(formatProblem).join('\n')}\nBIND:\n${bind.stdout}${bind.stderr}`);
      if (kind === 'bad') {
        // Every error names a file and a position.
        for (const e of mine.errors) assert.ok(e.file && e.line >= 0 && e.column >= 0, formatProblem(e));
        return;
      }
      const dump = named(['-D', '-o', '-', 'example.org', f], sub);
      assert.equal(dump.status, 0, dump.stderr);
      const parsed = parseZoneText(dump.stdout, { origin, file: `${f} (BIND dump)` });
      assert.deepEqual(parsed.problems.filter((p) => p.severity === 'error'), []);
      assert.deepEqual(keys(mine.records, mine.given), keys(parsed.records));
    });
  }
}

test('bad/many-errors.zone: all errors come back at once, each with line and column', () => {
  const mine = ours(join(dir, 'bad', 'many-errors.zone'));
  assert.deepEqual(
    mine.errors.map((e) => [e.line, e.column]),
    [[5, 5], [6, 5], [7, 5], [8, 3]],
    mine.problems.map(formatProblem).join('\n'),
  );
});
