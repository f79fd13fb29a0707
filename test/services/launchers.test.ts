// The launchers. bin/zone_tool runs the bundle the build makes (dist/zone_tool.cjs) with a V8 code cache beside it. The cache must
// never change what zone_tool does: a missing, corrupt, stale or foreign cache is ignored and replaced, and without the
// bundle the launcher falls back to the ES modules in dist/. A closed output pipe ends zone_tool quietly.
// Needs the build (npm test builds first).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const ROOT = resolve('.');
let work: string;
let install: string;
let data: string;

/** A copy of the launcher and the bundle in their own tree (node_modules and dist/cli linked), so the cache is ours. */
function makeInstall(dir: string, withBundle: boolean): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'bin', 'zone_tool'), join(dir, 'bin', 'zone_tool'));
  copyFileSync(join(ROOT, 'bin', 'bundle.js'), join(dir, 'bin', 'bundle.js'));
  copyFileSync(join(ROOT, 'bin', 'package.json'), join(dir, 'bin', 'package.json'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const sub of ['cli', 'dns', 'services', 'store', 'zone', 'zonefile', 'server']) symlinkSync(join(ROOT, 'dist', sub), join(dir, 'dist', sub));
  if (withBundle) copyFileSync(join(ROOT, 'dist', 'zone_tool.cjs'), join(dir, 'dist', 'zone_tool.cjs'));
}

function run(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'zone_tool'), '--data', data, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DMS_DATABASE_URL: '', DMS_CHANGE_BY: 'tester@test/Admin' },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cacheOf = (dir: string) => join(dir, 'dist', 'zone_tool.cjs.cache');
const header = (dir: string) => readFileSync(cacheOf(dir)).subarray(0, 200).toString('latin1').split('\n')[0];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'dms-launcher-'));
  install = join(work, 'install');
  data = join(work, 'data');
  makeInstall(install, true);
  const zone = join(work, 'one.test.zone');
  writeFileSync(zone, '$TTL 300\n@ SOA ns1.one.test. hostmaster.one.test. 1 600 600 86400 300\n@ NS ns1.one.test.\nns1 A 192.0.2.1\n');
  // The store is made with the repository's launcher: these tests are about the copy's cache.
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', data, 'load_zone', zone, 'one.test'], {
    encoding: 'utf8',
    env: { ...process.env, DMS_DATABASE_URL: '', DMS_CHANGE_BY: 'tester@test/Admin' },
  });
  assert.equal(r.status, 0, r.stderr);
  // A zone whose listing is larger than a pipe's buffer (64 KiB), for the closed-pipe test.
  const big = join(work, 'big.test.zone');
  const rows = Array.from({ length: 6000 }, (_, i) => `host-${i} A 198.51.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(big, `$TTL 300\n@ SOA ns1.big.test. hostmaster.big.test. 1 600 600 86400 300\n@ NS ns1.big.test.\nns1 A 192.0.2.1\n${rows.join('\n')}\n`);
  const b = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', data, 'load_zone', big, 'big.test'], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  for (let i = 0; i < 50; i++) {
    const c = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', data, 'copy_zone', 'one.test', `c${i}.test`], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
  }
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('zone_tool launcher and code cache', () => {
  test('the build leaves a bundle and a cache made for it', () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'zone_tool.cjs')));
    const st = statSync(join(ROOT, 'dist', 'zone_tool.cjs'));
    assert.equal(header(ROOT), `dms-zone_tool-cache ${st.size} ${st.mtimeMs} ${process.version} ${process.arch}`);
  });

  test('no cache: the command runs and leaves a cache; with it, the same output', () => {
    rmSync(cacheOf(install), { force: true });
    const first = run(install, ['ls']);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(existsSync(cacheOf(install)), 'cache written');
    const second = run(install, ['ls']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(first.stdout.trim().split('\n').length, 52);
    assert.match(run(install, ['show_zone', 'c7.test']).stdout, /ns1\s.*192\.0\.2\.1/);
  });

  test('a corrupt cache with the right header is rejected by V8 and replaced', () => {
    const good = run(install, ['ls']).stdout;
    const h = `${header(install)}\n`;
    writeFileSync(cacheOf(install), Buffer.concat([Buffer.from(h, 'latin1'), Buffer.alloc(50_000, 0xab)]));
    const r = run(install, ['ls']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, good);
    assert.ok(statSync(cacheOf(install)).size > 100_000, 'a real cache replaced the garbage');
  });

  test('a cache for another bundle (changed file) or another Node.js is ignored and replaced', () => {
    const good = run(install, ['ls']).stdout;
    const bundle = join(install, 'dist', 'zone_tool.cjs');
    const t = new Date(Date.now() + 5_000);
    utimesSync(bundle, t, t);
    const r = run(install, ['ls']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, good);
    assert.match(header(install), new RegExp(` ${statSync(bundle).mtimeMs} `));
    writeFileSync(cacheOf(install), readFileSync(cacheOf(install)).toString('latin1').replace(process.version, 'v0.0.0'), 'latin1');
    assert.equal(run(install, ['ls']).stdout, good);
    assert.match(header(install), new RegExp(` ${process.version.replace(/\./g, '\\.')} `));
  });

  test('a bundle older than what tsc last wrote is stale: the launcher runs the ES modules in dist/', () => {
    const good = run(install, ['ls']).stdout;
    const bundle = join(install, 'dist', 'zone_tool.cjs');
    const saved = statSync(bundle).mtime;
    const old = new Date(statSync(join(ROOT, 'dist', 'cli', 'zone_tool', 'main.js')).mtimeMs - 3_600_000);
    utimesSync(bundle, old, old);
    rmSync(cacheOf(install), { force: true });
    try {
      const r = run(install, ['ls']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, good);
      assert.equal(existsSync(cacheOf(install)), false, 'the stale bundle was not run (no cache made for it)');
    } finally {
      utimesSync(bundle, saved, saved);
    }
  });

  test('without the bundle the launcher runs the ES modules in dist/', () => {
    const plain = join(work, 'plain');
    makeInstall(plain, false);
    const r = run(plain, ['ls', 'c1*']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['c1.test.', 'c10.test.', 'c11.test.', 'c12.test.', 'c13.test.', 'c14.test.', 'c15.test.', 'c16.test.', 'c17.test.', 'c18.test.', 'c19.test.']);
    assert.equal(existsSync(cacheOf(plain)), false);
  });

  test('errors keep their message and exit status through the bundle', () => {
    const r = run(install, ['show_zone', 'missing.test']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /missing\.test/);
  });

  test('a reader that closes the pipe early (zone_tool show_zone | head -1) ends zone_tool quietly', async () => {
    // ~200 KB of output: zone_tool is still writing when the reader goes away.
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', data, 'show_zone', 'big.test'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Read the first chunk, then close our end before zone_tool has finished writing.
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.stdout.destroy();
    const status = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(status, 0, stderr);
    assert.equal(stderr, '');
  });
});

// bin/dmsd runs dist/dmsd.cjs the same way (bin/bundle.js); its import.meta.url stands for dist/daemon/main.js, so
// what the daemon finds beside it (the sign worker, the web UI) is where the ES modules find it.
describe('dmsd launcher and code cache', () => {
  const dmsdCache = (dir: string) => join(dir, 'dist', 'dmsd.cjs.cache');
  let copy: string;
  let zones: string;
  before(() => {
    copy = join(work, 'dmsd-install');
    mkdirSync(join(copy, 'bin'), { recursive: true });
    mkdirSync(join(copy, 'dist'), { recursive: true });
    for (const f of ['dmsd', 'bundle.js', 'package.json']) copyFileSync(join(ROOT, 'bin', f), join(copy, 'bin', f));
    copyFileSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    symlinkSync(join(ROOT, 'dist', 'daemon'), join(copy, 'dist', 'daemon'));
    copyFileSync(join(ROOT, 'dist', 'dmsd.cjs'), join(copy, 'dist', 'dmsd.cjs'));
    zones = join(work, 'dmsd-zones');
    mkdirSync(zones);
    writeFileSync(join(zones, 'one.test'), '$TTL 300\n@ SOA ns1.one.test. hostmaster.one.test. 1 600 600 86400 300\n@ NS ns1.one.test.\nns1 A 192.0.2.1\n');
  });
  const start = () =>
    spawnSync(process.execPath, [join(copy, 'bin', 'dmsd'), '--no-database', '--zones', zones, '--listen', '127.0.0.1:0'], {
      encoding: 'utf8',
      env: { ...process.env, DMSD_EXIT_WHEN_SERVING: '1' },
      timeout: 60_000,
    });

  test('the build leaves a bundle and a cache made for it', () => {
    const st = statSync(join(ROOT, 'dist', 'dmsd.cjs'));
    const h = readFileSync(dmsdCache(ROOT)).subarray(0, 200).toString('latin1').split('\n')[0];
    assert.equal(h, `dms-dmsd-cache ${st.size} ${st.mtimeMs} ${process.version} ${process.arch}`);
  });

  test('no cache: dmsd serves from the bundle and leaves a cache once it serves; with it, the same start', () => {
    rmSync(dmsdCache(copy), { force: true });
    const first = start();
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /"zone":"one\.test\.".*"msg":"zone loaded"/);
    assert.match(first.stdout, /"msg":"listening"/);
    assert.ok(existsSync(dmsdCache(copy)), 'cache written');
    const cached = readFileSync(dmsdCache(copy));
    const second = start();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /"msg":"zone loaded"/);
    assert.deepEqual(readFileSync(dmsdCache(copy)), cached, 'a good cache is kept as it is');
  });

  test('a start under other V8 flags keeps a cache of its own and leaves the one for no flags as it is', () => {
    if (!existsSync(dmsdCache(copy))) assert.equal(start().status, 0);
    const plain = readFileSync(dmsdCache(copy));
    const flagged = () => readdirSync(join(copy, 'dist')).filter((f) => f.startsWith('dmsd.cjs.cache-'));
    for (const f of flagged()) rmSync(join(copy, 'dist', f));
    // V8 refuses a cache made under other flags (here the heap limit, as a large zone needs).
    const withFlags = () =>
      spawnSync(process.execPath, ['--max-old-space-size=3000', join(copy, 'bin', 'dmsd'), '--no-database', '--zones', zones, '--listen', '127.0.0.1:0'], {
        encoding: 'utf8',
        env: { ...process.env, DMSD_EXIT_WHEN_SERVING: '1' },
        timeout: 60_000,
      });
    const first = withFlags();
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /"msg":"listening"/);
    assert.deepEqual(readFileSync(dmsdCache(copy)), plain, 'the cache for no flags is not replaced');
    assert.equal(flagged().length, 1, 'one cache for the flagged start');
    const own = readFileSync(join(copy, 'dist', flagged()[0]));
    const second = withFlags();
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(readFileSync(join(copy, 'dist', flagged()[0])), own, 'taken by the next start with the same flags, kept as it is');
    assert.equal(start().status, 0);
    assert.deepEqual(readFileSync(dmsdCache(copy)), plain, 'and a start without flags still takes its own');
  });
});
