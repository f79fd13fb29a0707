// The service layer issues no SQL of its own: every statement is a named query of src/store/queries, where the
// dialect branches and the tenancy filter live once. A service file that imports kysely or asks which dialect it runs
// on has SQL creeping back in.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const dir = join(import.meta.dirname, '../../src/services');

test('no file in src/services imports kysely or branches on the dialect', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10, `found only ${files.length} service files in ${dir}`);
  const offences: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/from\s+['"]kysely['"]|import\(\s*['"]kysely['"]\s*\)/.test(line)) offences.push(`${f}:${i + 1} imports kysely`);
      if (/\.kind\s*[!=]==|[!=]==\s*['"](sqlite|postgres)['"]|\.sqlite\b/.test(line)) offences.push(`${f}:${i + 1} branches on the dialect: ${line.trim()}`);
      if (/\.(selectFrom|insertInto|updateTable|deleteFrom)\(/.test(line)) offences.push(`${f}:${i + 1} builds a query: ${line.trim()}`);
    });
  }
  assert.deepEqual(offences, []);
});
