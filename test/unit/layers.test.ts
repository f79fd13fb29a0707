// The layer rules of scripts/check-layers.mjs (run by `npm run lint`) catch what they are for: a wrong import
// direction, I/O in the pure core, and import cycles — and the real tree passes.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkLayers } from '../../scripts/check-layers.mjs';

const check = checkLayers as (dir: string) => string[];
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A throwaway src/ tree from { 'folder/file.ts': 'source' }. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'dms-layers-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('the real src/ tree follows the rules', () => {
  assert.deepEqual(check('src'), []);
});

test('a server file importing the services is refused', () => {
  const root = tree({
    'services/zones.ts': 'export const x = 1;\n',
    'server/primary.ts': "import { x } from '../services/zones.js';\nexport const y = x;\n",
  });
  const p = check(root);
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0], /server\/primary\.ts:1: server\/ may not import services\//);
});

test('zone_tool importing the store, even for a type, is refused', () => {
  const root = tree({
    'store/index.ts': 'export interface Store { x: number }\n',
    'cli/main.ts': "\n\nimport type { Store } from '../store/index.js';\nexport const s: Store | undefined = undefined;\n",
  });
  assert.match(check(root).join('\n'), /cli\/main\.ts:3: cli\/ may not import store\//);
});

test('the web UI (browser code) may import nothing from src/, not even a type', () => {
  const root = tree({
    'api/session.ts': 'export interface Me { login: string }\n',
    'web/main.tsx': "import { render } from 'preact';\nimport type { Me } from '../api/session.js';\nexport const m: Me | undefined = undefined;\nrender;\n",
  });
  const p = check(root);
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0], /web\/main\.tsx:2: web\/ may not import api\//);
});

test('the pure core may not do I/O', () => {
  const root = tree({ 'zone/load.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n" });
  assert.match(check(root).join('\n'), /zone\/load\.ts:1: the pure core may not import node:fs/);
  const ok = tree({ 'dns/tsig.ts': "const c = process.getBuiltinModule('node:crypto');\nexport { c };\n" });
  assert.deepEqual(check(ok), []);
});

test('import cycles are found; type-only imports do not make one', () => {
  const cyclic = tree({
    'cli/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'cli/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  });
  assert.match(check(cyclic).join('\n'), /import cycle: .*a\.ts → .*b\.ts → .*a\.ts/);
  const typed = tree({
    'cli/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
    'cli/b.ts': "import { type A } from './a.js';\nexport type B = A | 1;\n",
  });
  assert.deepEqual(check(typed), []);
});

test('a new top-level folder must be given its place', () => {
  const root = tree({ 'gadgets/x.ts': 'export const x = 1;\n' });
  assert.match(check(root).join('\n'), /src\/gadgets\/ is not a known layer/);
});
