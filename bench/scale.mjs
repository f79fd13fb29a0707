#!/usr/bin/env node
// Scale benchmark (issue 3), run after `npm run build`: the real zone_tool CLI loading many generated zone files into
// a fresh SQLite database, then zone listing and show_zone latency at that size.
//  1. load_zones of N1 zone files (default 10,000; 20–200 records each): seconds, zones/s, database size
//     (dms.sqlite + -wal + -shm). load_zones takes file names only (no directory, no glob), so the files are passed in
//     batches of --batch (default 5,000) names per process to stay far below ARG_MAX; times are summed and the
//     number of processes is reported.
//  2. At that size: `zone_tool ls` (every zone: the CLI has no paging option; it reads listZones pages of 1,000
//     internally), `zone_tool ls 'z001*'` (one page: 1,000 zones) and `zone_tool show_zone <random zone>`, each as
//     a whole process (what a user waits for) and, separately, the service calls alone in this process (listZones
//     limit 1,000 — one page — first and at a random position, getZoneContent + getZoneText), so node start-up is
//     visible apart from the command's own cost. Baseline: `zone_tool help` (start-up without opening the database).
//  3. Add zones up to N2 (default 100,000) and measure again.
// Targets: N1 = 10,000 zones loaded in under 60 s; `ls` of one page under 100 ms at 100,000 zones.
// Options: --quick (1,000 then 10,000), --zones N1[,N2] (e.g. --zones 10000 for one step), --batch K,
//          --pg (also run step 1 on a throwaway PostgreSQL cluster, fsync off, from test/helpers/postgres.ts),
//          --pg-only (every step on PostgreSQL, no SQLite), --out FILE (default bench/out/scale.json),
//          --no-service-compare (skip the in-process comparison of step 1: the same files through ONE
//          services.loadZones call into a second fresh database), --keep (leave the temp dir),
//          --measure-only DIR (only the latency figures, on the data directory a --keep run left).
// Results: bench/out/scale.json.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.mjs';
import { rng } from './zones.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const keep = argv.includes('--keep');
const withPg = argv.includes('--pg');
const apiCompare = !argv.includes('--no-service-compare');
const pgOnly = argv.includes('--pg-only');
const argOf = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const STEPS = (argOf('--zones') ?? (quick ? '1000,10000' : '10000,100000')).split(',').map(Number);
if (STEPS.some((n) => !Number.isInteger(n) || n <= 0) || STEPS.some((n, i) => i > 0 && n <= STEPS[i - 1])) {
  console.error('bench/scale: --zones wants increasing positive integers, e.g. --zones 10000,100000');
  process.exit(2);
}
const BATCH = Number(argOf('--batch') ?? 5000);
const outFile = resolve(argOf('--out') ?? join(ROOT, 'bench', 'out', 'scale.json'));
const CLI_RUNS = quick ? 5 : 21;
const API_RUNS = quick ? 10 : 30;
const ZONE_TOOL = join(ROOT, 'bin', 'zone_tool');
if (!existsSync(join(ROOT, 'dist', 'cli', 'zone_tool', 'main.js'))) {
  console.error('bench/scale: dist/ missing: run npm run build');
  process.exit(1);
}

const log = (...a) => console.log(...a);
const fmt = (n, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const stats = (xs) => ({ medianMs: median(xs), minMs: Math.min(...xs), maxMs: Math.max(...xs), runs: xs.length });
const showStats = (label, st) =>
  log(`  ${label.padEnd(46)} ${fmt(st.medianMs, 1).padStart(9)} ms median  (min ${fmt(st.minMs, 1)}, max ${fmt(st.maxMs, 1)}, ${st.runs} runs)`);


const zoneName = (i) => `z${String(i).padStart(6, '0')}.scale.test`;

/**
 * Zone file i: SOA, 2 NS, then enough A / AAAA / MX / TXT / CNAME records for a total between 20 and 200
 * (deterministic per zone). Returns the record count.
 */
function writeZoneFile(dir, i) {
  const rnd = rng(1000 + i);
  const total = 20 + Math.floor(rnd() * 181);
  const name = zoneName(i);
  const lines = [
    `$ORIGIN ${name}.`,
    '$TTL 3600',
    `@ SOA ns1.example.net. hostmaster.example.net. 2024010101 7200 3600 1209600 300`,
    '@ NS ns1.example.net.',
    '@ NS ns2.example.net.',
  ];
  let n = 3;
  for (let h = 0; n < total; h++) {
    const k = h % 10;
    if (k < 5) lines.push(`h${h} A 198.18.${(h >> 8) & 0xff}.${h & 0xff}`);
    else if (k < 7) lines.push(`h${h} AAAA 2001:db8::${h.toString(16)}`);
    else if (k === 7) lines.push(`h${h} MX 10 h${h - 7}`);
    else if (k === 8) lines.push(`h${h} TXT "scale benchmark ${i} ${h}"`);
    else lines.push(`h${h} CNAME h${h - 9}`);
    n++;
  }
  writeFileSync(join(dir, name), `${lines.join('\n')}\n`);
  return n;
}

/** Run bin/zone_tool; resolves with wall time, exit status, output (the last 1 MB of stdout) and stdout's line count. */
function zoneTool(location, args) {
  return runTimed(process.execPath, [ZONE_TOOL, ...location, ...args]);
}

/** Run a process with stdout and stderr piped, as zone_tool runs under a user's shell pipe or a script. */
function runTimed(cmd, args) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DMS_CHANGE_BY: 'bench@scale/Admin' },
    });
    let out = '';
    let outBytes = 0;
    let outLines = 0;
    let err = '';
    p.stdout.on('data', (d) => {
      outBytes += d.length;
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) outLines++;
      out += d.toString();
      if (out.length > 1 << 20) out = out.slice(-(1 << 19));
    });
    p.stderr.on('data', (d) => {
      err += d.toString();
      if (err.length > 1 << 16) err = err.slice(-(1 << 15));
    });
    p.once('error', rej);
    p.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      res({ ms, code, out, outBytes, outLines, err });
    });
  });
}

async function timedRuns(n, fn) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

function dbBytes(dataDir) {
  const size = (f) => (existsSync(f) ? statSync(f).size : 0);
  const main = size(join(dataDir, 'dms.sqlite'));
  const wal = size(join(dataDir, 'dms.sqlite-wal'));
  const shm = size(join(dataDir, 'dms.sqlite-shm'));
  return { main, wal, shm, total: main + wal + shm };
}

async function pgDatabaseBytes(url) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('select pg_database_size(current_database()) as b');
    return Number(r.rows[0].b);
  } finally {
    await c.end();
  }
}

/** Load zones [from, to) with the CLI in batches; returns timing and counts. */
async function loadStep(location, zonesDir, from, to) {
  const t0 = Date.now();
  let records = 0;
  const files = [];
  for (let i = from; i < to; i++) {
    records += writeZoneFile(zonesDir, i);
    files.push(join(zonesDir, zoneName(i)));
  }
  const genMs = Date.now() - t0;
  let loadMs = 0;
  let processes = 0;
  for (let b = 0; b < files.length; b += BATCH) {
    const batch = files.slice(b, b + BATCH);
    const r = await zoneTool(location, ['load_zones', ...batch]);
    processes++;
    loadMs += r.ms;
    if (r.code !== 0) throw new Error(`load_zones failed (exit ${r.code}):\n${r.err.slice(-4000)}`);
    process.stdout.write(`\r  loading: ${from + b + batch.length} zones, ${fmt(loadMs / 1000, 1)} s so far`);
  }
  process.stdout.write('\r\x1b[K');
  return { zones: to - from, records, generateMs: genMs, loadMs, processes };
}

/**
 * The same zone files loaded by one services.loadZones call in this process into a separate fresh SQLite database:
 * what load_zones would cost without a loadZones call (and its checkpoint) per file and without process start-up.
 */
async function serviceBatchLoad(zonesDir, count) {
  const dataDir = join(work, 'data-service-batch');
  mkdirSync(dataDir, { recursive: true });
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  try {
    function* items() {
      for (let i = 0; i < count; i++) {
        const file = join(zonesDir, zoneName(i));
        yield { name: zoneName(i), text: readFileSync(file, 'utf8'), file };
      }
    }
    const t0 = process.hrtime.bigint();
    const rs = await api.loadZones(api.serviceContext(store, { actor: 'bench@scale/Admin' }), items(), { replace: false });
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const failed = rs.filter((r) => r.action !== 'created');
    if (failed.length > 0) throw new Error(`services.loadZones: ${failed.length} zones not created, first ${failed[0].name}: ${failed[0].error?.message}`);
    return { zones: count, loadMs, zonesPerSecond: count / (loadMs / 1000) };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The latency figures at the current size. */
async function measureAt(location, storeOpts, total) {
  const rnd = rng(total);
  const pick = () => zoneName(Math.floor(rnd() * total));
  const out = {};
  // Whole processes, as a user types them. Node.js itself (an empty script) is the floor every one-shot command
  // stands on; `help` adds zone_tool's own start-up without the database. The commands run in interleaved rounds
  // (each once per round), so a slow spell of the machine hits all of them alike rather than one command's runs.
  // Pages: 1,000 names near the start and at the end of the name order (block b = z<b>000 … z<b>999).
  const pagePatterns = total >= 2000 ? ['z001*', `z${String(Math.floor(total / 1000) - 1).padStart(3, '0')}*`] : ['z0000*'];
  const pagePattern = pagePatterns[0];
  const probes = [
    { key: 'nodeStartup', label: 'node -e 0 (Node.js start-up alone)', run: () => runTimed(process.execPath, ['-e', '0']) },
    { key: 'cliHelpStartup', label: 'zone_tool help (start-up, no database)', run: () => zoneTool(location, ['help']) },
    { key: 'cliLsAll', label: `zone_tool ls (all ${fmt(total)} zones)`, lines: total, run: () => zoneTool(location, ['ls']) },
    ...pagePatterns.flatMap((pattern) =>
      [['ls', pattern], ['ls', '-v', pattern]].map((args) => ({
        key: 'page',
        args: args.join(' '),
        label: `zone_tool ${args.join(' ')}`,
        lines: total >= 2000 ? 1000 : undefined,
        run: () => zoneTool(location, args),
      })),
    ),
    { key: 'cliShowZone', label: 'zone_tool show_zone <random zone>', run: () => zoneTool(location, ['show_zone', pick()]) },
  ];
  const times = probes.map(() => []);
  for (let i = 0; i < CLI_RUNS; i++) {
    for (const [k, p] of probes.entries()) {
      const r = await p.run();
      if (r.code !== 0) throw new Error(`${p.label} failed: ${r.err}`);
      if (p.lines !== undefined && r.outLines !== p.lines) throw new Error(`${p.label} listed ${r.outLines} lines, expected ${p.lines}`);
      times[k].push(r.ms);
    }
  }
  out.cliLsPages = [];
  for (const [k, p] of probes.entries()) {
    const st = { ...stats(times[k]), ...(p.args ? { args: p.args } : {}), ...(p.lines !== undefined ? { zonesListed: p.lines } : {}) };
    if (p.key === 'page') out.cliLsPages.push(st);
    else out[p.key] = st;
    showStats(p.label, st);
  }
  out.cliLsPage = out.cliLsPages[0];

  // The service calls alone (the command's own cost without node start-up), in this process.
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore(storeOpts);
  const ctx = api.serviceContext(store);
  try {
    await api.listZones(ctx, { limit: 1000 }); // warm the statement cache and the page cache
    out.apiListFirstPage = stats(
      await timedRuns(API_RUNS, async () => {
        const page = await api.listZones(ctx, { limit: 1000 });
        if (page.length !== Math.min(1000, total)) throw new Error(`listZones gave ${page.length} zones`);
      }),
    );
    showStats('listZones limit 1000 (first page)', out.apiListFirstPage);
    out.apiListPageAfter = stats(
      await timedRuns(API_RUNS, async () => {
        await api.listZones(ctx, { limit: 1000, after: `${pick()}.` });
      }),
    );
    showStats('listZones limit 1000 after <random zone>', out.apiListPageAfter);
    out.apiListPattern = stats(
      await timedRuns(API_RUNS, async () => {
        await api.listZones(ctx, { limit: 1000, pattern: `${pagePattern}` });
      }),
    );
    showStats(`listZones pattern '${pagePattern}' limit 1000`, out.apiListPattern);
    out.apiListNamesPattern = stats(
      await timedRuns(API_RUNS, async () => {
        await api.listZoneBriefs(ctx, { limit: 1000, pattern: `${pagePattern}` });
      }),
    );
    showStats(`listZoneBriefs pattern '${pagePattern}' limit 1000`, out.apiListNamesPattern);
    out.apiShowZone = stats(
      await timedRuns(API_RUNS, async () => {
        const name = pick();
        const content = await api.getZoneContent(ctx, name);
        await api.getZoneText(ctx, name, { version: content.zi.version });
      }),
    );
    showStats('getZoneContent + getZoneText <random zone>', out.apiShowZone);
  } finally {
    await store.close();
  }
  return out;
}

async function runBackend(label, location, storeOpts, steps, sizeOf) {
  const res = { backend: label, steps: [] };
  const zonesDir = join(work, `zones-${label}`);
  mkdirSync(zonesDir, { recursive: true });
  let have = 0;
  for (const target of steps) {
    log(`\n[${label}] load_zones ${fmt(have)} → ${fmt(target)} zones (batches of ${fmt(BATCH)} files per zone_tool process)`);
    const load = await loadStep(location, zonesDir, have, target);
    const compare = label === 'sqlite' && have === 0 && apiCompare ? await serviceBatchLoad(zonesDir, target) : undefined;
    have = target;
    rmSync(zonesDir, { recursive: true, force: true });
    mkdirSync(zonesDir, { recursive: true });
    const size = await sizeOf();
    const zps = load.zones / (load.loadMs / 1000);
    log(
      `  loaded ${fmt(load.zones)} zones (${fmt(load.records)} records) in ${fmt(load.loadMs / 1000, 1)} s ` +
        `with ${load.processes} zone_tool process(es): ${fmt(zps, 1)} zones/s, ${fmt(load.records / (load.loadMs / 1000))} records/s`,
    );
    log(`  database now ${fmt(size.total / 2 ** 20, 1)} MiB for ${fmt(target)} zones${size.wal !== undefined ? ` (main ${fmt(size.main / 2 ** 20, 1)} MiB, -wal ${fmt(size.wal / 2 ** 20, 1)} MiB, -shm ${fmt(size.shm / 2 ** 10)} KiB)` : ''}; ${fmt(size.total / target)} bytes/zone`);
    if (compare)
      log(
        `  for comparison, the same files in ONE in-process services.loadZones call (as dmsd --zones imports) into another ` +
          `fresh database: ${fmt(compare.loadMs / 1000, 1)} s, ${fmt(compare.zonesPerSecond, 1)} zones/s`,
      );
    const lat = await measureAt(location, storeOpts, target);
    const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    log(`  load average now ${loadAverage} (${cpus().length} CPUs)`);
    res.steps.push({ totalZones: target, loadAverage, load: { ...load, zonesPerSecond: zps }, ...(compare ? { serviceBatchLoad: compare } : {}), databaseBytes: size, latency: lat });
  }
  return res;
}

// --measure-only DIR: the latency figures again on a data directory kept by an earlier run (--keep), no loading.
const measureOnly = argOf('--measure-only');
if (measureOnly) {
  const dataDir = resolve(measureOnly);
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const { n } = await store.db.selectFrom('zones').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  await store.close();
  log(`bench/scale --measure-only: ${fmt(Number(n))} zones in ${dataDir}, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  await measureAt(['--data', dataDir], { dataDir }, Number(n));
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'dms-bench-scale-'));
const cpuModel = (/model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? 'unknown';
const results = {
  date: new Date().toISOString(),
  machine: { nproc: cpus().length, cpu: cpuModel, node: process.version },
  loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  steps: STEPS,
  batch: BATCH,
  targets: { load10kSeconds: 60, lsPageMsAt100k: 100 },
};
log(`bench/scale: ${cpus().length} CPUs (${cpuModel}), node ${process.version}; steps ${STEPS.map((n) => fmt(n)).join(' → ')} zones; work dir ${work}`);

let pgServer;
try {
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  if (!pgOnly) results.sqlite = await runBackend('sqlite', ['--data', dataDir], { dataDir }, STEPS, async () => dbBytes(dataDir));

  if (withPg || pgOnly) {
    // The test helper is TypeScript: load it through tsx's ESM hook.
    const { register } = await import('tsx/esm/api');
    register();
    const { startPostgres } = await import(pathToFileURL(join(ROOT, 'test', 'helpers', 'postgres.ts')).href);
    pgServer = await startPostgres();
    const url = await pgServer.createDatabase();
    const pgSteps = pgOnly ? STEPS : [STEPS[0]];
    results.postgres = await runBackend('postgres', ['--database-url', url], { dataDir, databaseUrl: url }, pgSteps, async () => ({
      total: await pgDatabaseBytes(url),
    }));
    results.postgres.note = 'throwaway cluster from test/helpers/postgres.ts: fsync=off, synchronous_commit=off';
  }

  log('\nsummary:');
  for (const b of [results.sqlite, results.postgres]) {
    if (!b) continue;
    const first = b.steps[0];
    const last = b.steps[b.steps.length - 1];
    log(
      `  ${b.backend}: load_zones of ${fmt(first.totalZones)} zones: ${fmt(first.load.loadMs / 1000, 1)} s (${fmt(first.load.zonesPerSecond, 1)} zones/s)` +
        (first.totalZones === 10000 ? `  target < 60 s: ${first.load.loadMs < 60000 ? 'met' : 'NOT met'}` : ''),
    );
    log(
      `  ${b.backend}: at ${fmt(last.totalZones)} zones one ls page (1,000 zones) takes ${fmt(last.latency.apiListFirstPage.medianMs, 1)} ms in the service ` +
        `(listZones limit 1000); as a zone_tool process: ${last.latency.cliLsPages.map((p) => `${p.args} ${fmt(p.medianMs, 1)} ms`).join(', ')} ` +
        `(Node.js start-up alone ${fmt(last.latency.nodeStartup.medianMs, 1)} ms)` +
        (last.totalZones === 100000
          ? `  target < 100 ms: ${Math.max(...last.latency.cliLsPages.map((p) => p.medianMs)) < 100 ? 'met by every ls page process' : 'NOT met'}`
          : ''),
    );
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`  written to ${outFile}`);
} finally {
  await pgServer?.stop();
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
