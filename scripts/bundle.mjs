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

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
async function bundle(name, entry, urlEntry = entry) {
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
    banner: { js: `const __bundleUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(urlEntry)})).href;` },
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

/** The bundle's code caches: the one for no V8 flags and those of other flag sets (bin/bundle.js), all stale now. */
function removeCaches(out) {
  rmSync(`${out}.cache`, { force: true });
  const base = `${out.slice(out.lastIndexOf('/') + 1)}.cache-`;
  for (const f of readdirSync(dirname(out))) if (f.startsWith(base)) rmSync(join(dirname(out), f), { force: true });
}

/** Run bin/<name> with each `runs` entry's arguments (given a throwaway data directory); the last run's cache is kept. */
function warm(name, runs) {
  const out = join(root, 'dist', `${name}.cjs`);
  const data = mkdtempSync(join(tmpdir(), `dms-${name}-warm-`));
  try {
    for (const args of runs) {
      removeCaches(out);
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
// The zone-file thread (a large zone's parse, server/zonefile-worker.ts): the load waits for its first batch, so its
// ~30 ES modules, loaded one by one, are on the load's path (~25 ms). server/threads.ts starts this bundle, beside the
// module, when it is not older than the module.
await bundle(join('server', 'zonefile-worker'), join('server', 'zonefile-worker.js'), 'zonefile-worker.js');

// Warm the code caches with real runs on a throwaway store, so the first operator command is fast too. A cache holds
// what its run compiled: zone_tool's first run creates the store (migrations), the second — an `ls` on an existing
// store, the common case — makes the cache that is kept. dmsd's: a start that signs a zone and takes two UPDATEs
// (warmDmsdWithChange), or else a start on the shipped examples that stops as soon as it serves
// (DMSD_EXIT_WHEN_SERVING, bin/dmsd saves the cache then).
warm('zone_tool', [(d) => ['--data', d, 'ls'], (d) => ['--data', d, 'ls']]);
if (!(await warmDmsdWithChange())) warm('dmsd', [(d) => ['--data', d, '--listen', '127.0.0.1:0', '--no-http']]);

/**
 * dmsd's cache from a run that also makes a change: a throwaway store holding one small zone signed with the default
 * policy and a TSIG key that may update it; dmsd starts on it, signs it, takes two RFC 2136 UPDATEs (an addition and
 * a deletion) and stops (DMSD_SAVE_CACHE_AT_EXIT: bin/dmsd saves the cache as it exits). The cache then holds the
 * change path's functions — the UPDATE, its commit, the re-signing, the served patch — beside start-up's: the first
 * UPDATE after a start does not compile them (a signed zone's first UPDATE took twice as long as the next ones).
 * False, with the reason printed, when the run did not get that far (the caller then warms on a start alone).
 */
async function warmDmsdWithChange() {
  const out = join(root, 'dist', 'dmsd.cjs');
  const data = mkdtempSync(join(tmpdir(), 'dms-dmsd-warm-'));
  const env = { ...process.env, DMS_DATABASE_URL: '', DMS_CHANGE_BY: 'build@warm-up/Admin' };
  delete env.DMS_DATA_DIR;
  const store = ['--data', data, '--dnssec-kek', join(data, 'kek')];
  let proc;
  try {
    const zone = 'warm-up.test';
    const zoneFile = join(data, zone);
    writeFileSync(zoneFile, `$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n`);
    const tool = (args) => {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'zone_tool'), ...store, ...args], { encoding: 'utf8', env, timeout: 60_000 });
      if (r.status !== 0) throw new Error(`zone_tool ${args[0]}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    tool(['load_zone', '-i', zoneFile, zone]);
    const secret = /^hmac-sha256:warm\.key:([A-Za-z0-9+/=]+)$/m.exec(tool(['generate_tsig_key', 'warm.key']))?.[1];
    if (!secret) throw new Error('no TSIG secret');
    tool(['add_update_grant', zone, 'grant warm.key zonesub ANY']);
    tool(['set_zone_dnssec_policy', zone, 'default']);
    removeCaches(out);
    proc = spawn(process.execPath, [join(root, 'bin', 'dmsd'), ...store, '--listen', '127.0.0.1:0', '--no-http'], {
      env: { ...env, DMSD_SAVE_CACHE_AT_EXIT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    proc.stdout.on('data', (d) => (log += d));
    proc.stderr.on('data', (d) => (log += d));
    const exited = new Promise((res) => proc.on('exit', res));
    const until = async (re, what) => {
      for (let i = 0; i < 600 && !re.test(log); i++) {
        if (proc.exitCode !== null) throw new Error(`dmsd exited before ${what}:\n${log.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!re.test(log)) throw new Error(`dmsd: no ${what} in 30 s:\n${log.slice(-2000)}`);
      return re.exec(log);
    };
    const port = Number((await until(/"proto":"udp"[^\n]*"port":(\d+)[^\n]*"msg":"listening"/, 'listening'))[1]);
    await until(/"full":true[^\n]*"msg":"zone signed"/, 'signed zone');
    const lib = async (m) => import(pathToFileURL(join(root, 'dist', m)).href);
    const { decodeMessage, emptyMessage, encodeMessage } = await lib('dns/message.js');
    const { keyFromText, signMessage } = await lib('dns/tsig.js');
    const { Name } = await lib('dns/name.js');
    const { udpAsk } = await lib('services/dns-ask.js');
    const key = keyFromText(`hmac-sha256:warm.key:${secret}`);
    for (const [i, klass, ttl] of [[1, 1, 300], [2, 254, 0]]) {
      // An addition, then its deletion (class NONE, RFC 2136 §2.5.4).
      const m = emptyMessage(4000 + i);
      m.opcode = 5;
      m.question.push({ name: Name.parse(`${zone}.`), type: 6, class: 1 });
      m.authority.push({ name: Name.parse(`warm.${zone}.`), type: 1, class: klass, ttl, rdata: Uint8Array.of(192, 0, 2, 9) });
      const answer = decodeMessage(await udpAsk('127.0.0.1', port, signMessage(encodeMessage(m), key, Math.floor(Date.now() / 1000)).bytes, 5000));
      if (answer.rcode !== 0) throw new Error(`UPDATE answered rcode ${answer.rcode}`);
    }
    proc.kill('SIGTERM');
    await exited;
    if (!existsSync(`${out}.cache`)) throw new Error(`no cache written:\n${log.slice(-2000)}`);
    return true;
  } catch (err) {
    process.stderr.write(`dmsd bundle: warm-up with a change skipped (${err.message.split('\n')[0]}); warming on a start alone\n`);
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    return false;
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
