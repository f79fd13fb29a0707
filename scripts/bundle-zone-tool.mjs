#!/usr/bin/env node
// Build step after tsc: bundle zone_tool into one CommonJS file, dist/zone_tool.cjs, and warm its V8 code cache.
//
// Why: a one-shot `zone_tool ls` is bound by start-up, not by the database. From dist/ it loads ~350 ES modules
// (kysely alone is ~280 files) and compiles them on every run: ~250 ms. One bundled file whose compiled code is
// cached by V8 (bin/zone_tool reads dist/zone_tool.cjs.cache) starts in a fraction of that. The bundle is a build
// product of dist/ only — the sources stay the ES modules that dmsd and the tests use.
//
// pg (loaded only for PostgreSQL) stays outside the bundle, and so does better-sqlite3's compiled addon; both are
// resolved from node_modules at run time. better-sqlite3's JavaScript is bundled: it finds its addon with the
// `bindings` package, which searches the file system from the caller's stack (several ms, and it would search from
// dist/); in the bundle that one call names the addon's path inside the package instead.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'zone_tool.cjs');

const ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';
const BINDINGS_CALL = "require('bindings')('better_sqlite3.node')";
const require = createRequire(join(root, 'package.json'));
const databaseJs = require.resolve('better-sqlite3/lib/database.js');
let addonFound = true;
try {
  require.resolve(ADDON);
} catch {
  addonFound = false;
}
// A better-sqlite3 that loads its addon differently (or was installed elsewhere) is simply left outside the bundle.
const bundleSqlite = addonFound && readFileSync(databaseJs, 'utf8').includes(BINDINGS_CALL);

/** esbuild plugin: better-sqlite3 loads its addon by path, which stays external. */
const sqliteAddon = {
  name: 'better-sqlite3-addon',
  setup(b) {
    b.onResolve({ filter: /better_sqlite3\.node$/ }, (a) => ({ path: a.path, external: true }));
    b.onLoad({ filter: /better-sqlite3[\\/]lib[\\/]database\.js$/ }, (a) => ({
      contents: readFileSync(a.path, 'utf8').replace(BINDINGS_CALL, `require('${ADDON}')`),
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [join(root, 'dist', 'cli', 'zone_tool', 'main.js')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: bundleSqlite ? ['pg'] : ['pg', 'better-sqlite3'],
  plugins: bundleSqlite ? [sqliteAddon] : [],
  // Smaller source to read and hash; names are kept so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  // import.meta.url in a CommonJS bundle: the bundle's own file URL (store.ts resolves pg from it).
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The launcher runs the bundle as a vm.Script with a code cache, where import() has no loader: everything must be
// bundled or loaded with require.
const dynamicImport = /\bimport\(\s*["'`]/.exec(readFileSync(out, 'latin1'));
if (dynamicImport) {
  process.stderr.write(`zone_tool bundle: a dynamic import() is left in ${out} at offset ${dynamicImport.index}\n`);
  process.exit(1);
}

// Warm the code cache with a real one-shot command on a throwaway store, so the first operator command is fast too.
// The cache holds what its run compiled: the first run creates the store (migrations), the second — an `ls` on an
// existing store, the common case — makes the cache that is kept.
const data = mkdtempSync(join(tmpdir(), 'dms-zone-tool-warm-'));
try {
  for (const args of [['ls'], ['ls']]) {
    rmSync(`${out}.cache`, { force: true });
    const r = spawnSync(process.execPath, [join(root, 'bin', 'zone_tool'), '--data', data, ...args], {
      encoding: 'utf8',
      env: { ...process.env, DMS_DATABASE_URL: '' },
    });
    if (r.status !== 0) {
      process.stderr.write(`zone_tool bundle: warm-up run failed (${r.status}):\n${r.stderr}`);
      process.exit(1);
    }
  }
} finally {
  rmSync(data, { recursive: true, force: true });
}
