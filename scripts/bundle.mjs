#!/usr/bin/env node
// Build step after tsc: bundle zone_tool and dmsd into one CommonJS file each, dist/zone_tool.cjs and dist/dmsd.cjs,
// and warm their V8 code caches.
//
// Why: a one-shot `zone_tool ls` is bound by start-up, not by the database. From dist/ it loads ~350 ES modules
// (kysely alone is ~280 files) and compiles them on every run: ~250 ms. One bundled file whose compiled code is
// cached by V8 (bin/zone_tool reads dist/zone_tool.cjs.cache, bin/bundle.js) starts in a fraction of that. dmsd
// loads ~590 files before it reads its first zone (0.5 s of a 1 s start-up with a million records): the same. The
// bundles are build products of dist/ only — the sources stay the ES modules that the tests run.
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

/**
 * Bundle dist/<entry> into dist/<name>.cjs. In the bundle import.meta.url stands for the entry's own file, so that
 * paths resolved from it (dmsd's sign worker and examples/, the web UI beside dist/api: one folder up, then down) are
 * the ones the ES modules resolve; other modules resolve only packages from it (createRequire).
 */
async function bundle(name, entry) {
  const out = join(root, 'dist', `${name}.cjs`);
  await build({
    entryPoints: [join(root, 'dist', entry)],
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
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: `const __bundleUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(entry)})).href;` },
    logLevel: 'warning',
    // sign-pool.ts reads import.meta.resolve only when it runs from TypeScript sources (tsx), never in a bundle.
    logOverride: { 'empty-import-meta': 'silent' },
  });
  // The launcher runs the bundle as a vm.Script with a code cache, where import() has no loader: everything must be
  // bundled or loaded with require.
  const dynamicImport = /\bimport\(\s*["'`]/.exec(readFileSync(out, 'latin1'));
  if (dynamicImport) {
    process.stderr.write(`${name} bundle: a dynamic import() is left in ${out} at offset ${dynamicImport.index}\n`);
    process.exit(1);
  }
}

/** Run bin/<name> with each `runs` entry's arguments (given a throwaway data directory); the last run's cache is kept. */
function warm(name, runs) {
  const out = join(root, 'dist', `${name}.cjs`);
  const data = mkdtempSync(join(tmpdir(), `dms-${name}-warm-`));
  try {
    for (const args of runs) {
      rmSync(`${out}.cache`, { force: true });
      const r = spawnSync(process.execPath, [join(root, 'bin', name), ...args(data)], {
        encoding: 'utf8',
        env: { ...process.env, DMS_DATABASE_URL: '', DMSD_EXIT_WHEN_SERVING: '1' },
        timeout: 60_000,
      });
      if (r.status !== 0) {
        process.stderr.write(`${name} bundle: warm-up run failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
        process.exit(1);
      }
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

await bundle('zone_tool', join('cli', 'zone_tool', 'main.js'));
await bundle('dmsd', join('daemon', 'main.js'));

// Warm the code caches with real runs on a throwaway store, so the first operator command is fast too. A cache holds
// what its run compiled: zone_tool's first run creates the store (migrations), the second — an `ls` on an existing
// store, the common case — makes the cache that is kept. dmsd's: a start on the shipped examples that stops as soon
// as it serves (DMSD_EXIT_WHEN_SERVING, bin/dmsd saves the cache then).
warm('zone_tool', [(d) => ['--data', d, 'ls'], (d) => ['--data', d, 'ls']]);
warm('dmsd', [(d) => ['--data', d, '--listen', '127.0.0.1:0', '--no-http']]);
