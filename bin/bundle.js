// Loads a bundle the build makes (dist/<name>.cjs, see scripts/bundle.mjs) with a V8 code cache kept next to it:
// both commands are dominated at start by compiling their ~350–590 modules, which one cached file spares.
// CommonJS (bin/package.json): an ES module launcher would start the ES module loader first, ~5 ms.
'use strict';
const { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist');

/**
 * The exports of dist/<name>.cjs and saveCache(), or null when there is no bundle or it is older than `entry` (tsc
 * alone, which re-emits every file, ran after the last bundle: then the caller runs what tsc wrote).
 */
function loadBundle(name, entry) {
  const bundle = join(dist, `${name}.cjs`);
  let stat;
  try {
    stat = statSync(bundle);
    if (statSync(join(dist, entry)).mtimeMs > stat.mtimeMs) return null;
  } catch {
    return null;
  }
  // V8 checks a cache against the source's length, not its content: the header ties it to this exact bundle file
  // and this Node.js.
  const header = `dms-${name}-cache ${stat.size} ${stat.mtimeMs} ${process.version} ${process.arch}\n`;
  const read = (file) => {
    try {
      const buf = readFileSync(file);
      if (buf.subarray(0, header.length).toString('latin1') === header) return buf.subarray(header.length);
    } catch {
      // no cache yet
    }
    return undefined;
  };
  // V8 also refuses a cache made under other V8 flags (--max-old-space-size, --expose-gc, --trace-gc, …). The build's
  // cache (made by a run with a change, scripts/bundle.mjs) is for no flags; a process started with flags that V8
  // counts keeps a cache of its own beside it, named after its flags, and never replaces the build's: a run with other
  // flags (a large zone needs a larger heap) used to overwrite it with a start-only cache.
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const main = `${bundle}.cache`;
  const own = flags ? `${bundle}.cache-${createHash('sha256').update(flags).digest('hex').slice(0, 16)}` : main;
  let cacheFile = own;
  let cachedData = read(own);
  // Flags V8 does not count (--cpu-prof, --import …) take the build's cache.
  if (!cachedData && own !== main) {
    cachedData = read(main);
    if (cachedData) cacheFile = main;
  }
  // The bundle is ASCII (esbuild escapes everything else), so latin1 is an exact and faster decoding.
  const source = readFileSync(bundle, 'latin1');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  // A cache refused: this process's flags need their own (written to `own`, never over another flag set's).
  if (cachedData && script.cachedDataRejected) cacheFile = own;
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dist);
  /** Whether this process runs without a cache that V8 took (saveCache writes one). */
  const needsCache = !cachedData || script.cachedDataRejected === true;
  /** Made after the command ran (or the server started), the cache also holds the functions compiled on the way. */
  const saveCache = () => {
    if (!needsCache) return;
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(tmp, Buffer.concat([Buffer.from(header, 'latin1'), script.createCachedData()]));
      renameSync(tmp, cacheFile);
    } catch {
      // read-only installation: run without a cache
      try {
        unlinkSync(tmp);
      } catch {}
    }
  };
  return { exports: module.exports, saveCache, needsCache };
}

module.exports = { loadBundle };
