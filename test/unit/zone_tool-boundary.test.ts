// zone_tool is a presentation layer over the operations table: its handlers reach the services only through
// `s.call('operation', params)`. The one file that opens the store (services.ts) is the only one that may load the
// services module as a value; the others import types, the error catalogue and pure text helpers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const CLI = join('src', 'cli');
const OPENER = join(CLI, 'zone_tool', 'services.ts');
/** Value imports from the services that are not service calls. */
const ALLOWED_VALUE_MODULES = new Set(['services/errors.js', 'services/textdiff.js', 'services/dnssec-text.js']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('zone_tool calls no service function directly, only operations', () => {
  const offences: string[] = [];
  for (const f of files(CLI)) {
    if (f === OPENER) continue;
    const text = readFileSync(f, 'utf8');
    const lineAt = (i: number) => `${relative('.', f)}:${text.slice(0, i).split('\n').length}`;
    for (const m of text.matchAll(/import\s+(type\s+)?(\{[^}]*\}|[\w*\s,]+?)\s+from\s+'([^']*services\/[^']*)'/g)) {
      const typeOnly = Boolean(m[1]) || (m[2].startsWith('{') && m[2].slice(1, -1).split(',').filter((s) => s.trim()).every((s) => /^\s*type\s/.test(s)));
      const mod = m[3].slice(m[3].indexOf('services/'));
      if (!typeOnly && !ALLOWED_VALUE_MODULES.has(mod)) offences.push(`${lineAt(m.index)}: value import of ${mod}`);
    }
    for (const m of text.matchAll(/(typeof |: |type \w+ = )?import\(\s*'[^']*services\//g)) {
      if (!m[1]) offences.push(`${lineAt(m.index)}: loads the services module`);
    }
    for (const m of text.matchAll(/\bs\.api\.|\bapi\.\w+\(/g)) offences.push(`${lineAt(m.index)}: calls a service function`);
  }
  assert.deepEqual(offences, []);
});
