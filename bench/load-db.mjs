// Zone loading the way operators run dmsd: a --records zone (default 1,000,000; bench/zones.mjs writeLargeZone) is
// loaded into a fresh SQLite store with `zone_tool load_zone` (wall time and peak RSS of the zone_tool process, from
// /usr/bin/time or /proc), then `dmsd --data DIR` is started on that store: time from spawn to its "listening" line
// (every zone is compiled before it listens; load_zone stored the zone's snapshot, which dmsd reads it from) and
// resident memory once it serves (1.5 s after) and settled (12 s after: past dmsd's first idle collection). The peer:
// knotd loading the same zone file (spawn → first SOA answer, RSS at the same moments), as in step 3 of bench/run.mjs,
// same run, same machine. Also `dmsd --no-database` serving the same zone file (the files path). dmsd is started as
// operators start it: bin/dmsd (the bundle the build makes, with its code cache).
//
// With --postgres the store is a database of a throwaway PostgreSQL server (test/helpers/postgres.ts) instead.
//
//   node bench/load-db.mjs [--records N] [--postgres] [--keep]      (after npm run build)

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dmsdUdpPort, ROOT, rssBytes, sleep, startKnotd, testHelper, waitSoa } from './lib.mjs';
import { writeLargeZone } from './zones.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RECORDS = Number(argOf('--records', 1_000_000));
/** When the resident size is read again ("settled"): past dmsd's first idle collection (5 s intervals, two of them). */
const SETTLE_MS = 12_000;
const keep = argv.includes('--keep');
const postgres = argv.includes('--postgres');
const ZONE = 'load.test';
const log = (...a) => console.log(...a);
const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`;

/** Run a command; resolves with wall ms and the peak RSS of the process (sampled from /proc every 20 ms). */
function timed(cmd, args, env) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, rssBytes(p.pid));
    }, 20);
    p.on('exit', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) rej(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out.slice(-3000)}`));
      else res({ ms, peak, out });
    });
  });
}

let pgServer;
const work = mkdtempSync(join(tmpdir(), 'dms-bench-load-db-'));
const results = { date: new Date().toISOString(), records: RECORDS, loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
try {
  const zoneFile = join(work, ZONE);
  const n = await writeLargeZone(zoneFile, ZONE, RECORDS);
  results.records = n;
  log(`bench/load-db: ${n.toLocaleString('en-US')}-record zone ${ZONE}; load average ${results.loadAverageAtStart}`);

  // zone_tool load_zone into a fresh store.
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  let storeArgs = ['--data', dataDir];
  if (postgres) {
    const { startPostgres } = await testHelper('postgres');
    pgServer = await startPostgres();
    storeArgs = ['--database-url', await pgServer.createDatabase()];
    results.store = 'postgresql';
    log('  store: a throwaway PostgreSQL server');
  } else results.store = 'sqlite';
  const env = { ...process.env, DMS_CHANGE_BY: 'bench@load-db/Admin' };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  const zt = await timed(process.execPath, [join(ROOT, 'bin', 'zone_tool'), ...storeArgs, 'load_zone', '-i', zoneFile, ZONE], env);
  results.zoneToolLoad = { seconds: zt.ms / 1000, peakRssBytes: zt.peak, peakBytesPerRecord: zt.peak / n };
  log(`  zone_tool load_zone: ${(zt.ms / 1000).toFixed(2)} s, peak RSS ${mib(zt.peak)} (${(zt.peak / n).toFixed(0)} bytes/record)`);

  // dmsd on that store, then on the zone file.
  const { spawnLogged } = await testHelper('servers');
  const measureDmsd = async (label, args) => {
    const t0 = Date.now();
    const d = spawnLogged(process.execPath, [join(ROOT, 'bin', 'dmsd'), ...args, '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      killAfterMs: 5000,
      maxOutput: 1 << 20,
    });
    try {
      const port = await dmsdUdpPort(d.proc, d.output);
      const ms = Date.now() - t0;
      await waitSoa(port, ZONE, d.proc);
      const atReady = rssBytes(d.proc.pid);
      await sleep(1500);
      const rss = Math.max(atReady, rssBytes(d.proc.pid));
      // Settled: after the idle collection that gives back the young generation V8 grew for the load (idle-memory.ts).
      await sleep(SETTLE_MS - 1500);
      const settled = rssBytes(d.proc.pid);
      const fromSnapshot = /zone loaded from its snapshot/.test(d.output());
      const r = { seconds: ms / 1000, rssBytes: rss, bytesPerRecord: rss / n, settledRssBytes: settled, settledBytesPerRecord: settled / n, fromSnapshot };
      log(
        `  ${label.padEnd(19)} ${(ms / 1000).toFixed(2)} s to serve${fromSnapshot ? ' (from the snapshot load_zone stored)' : ''}, RSS ${mib(rss)} = ${(rss / n).toFixed(0)} bytes/record; ` +
          `${SETTLE_MS / 1000} s after: ${mib(settled)} = ${(settled / n).toFixed(0)} bytes/record`,
      );
      return r;
    } finally {
      await d.stop();
    }
  };
  results.dmsd = await measureDmsd(postgres ? 'dmsd --database-url:' : 'dmsd --data:', [...storeArgs, '--no-http']);
  results.dmsdFiles = await measureDmsd('dmsd --no-database:', ['--no-database', '--zones', work]);

  const k = await startKnotd({ zones: [{ name: ZONE, file: zoneFile }], udpWorkers: 1 });
  try {
    const atReady = rssBytes(k.pid);
    await sleep(1500);
    const rss = Math.max(atReady, rssBytes(k.pid));
    await sleep(SETTLE_MS - 1500);
    const settled = rssBytes(k.pid);
    results.knotd = { seconds: k.loadMs / 1000, rssBytes: rss, bytesPerRecord: rss / n, settledRssBytes: settled, settledBytesPerRecord: settled / n };
    log(`  knotd (zone file):   ${(k.loadMs / 1000).toFixed(2)} s to serve, RSS ${mib(rss)} = ${(rss / n).toFixed(0)} bytes/record; ${SETTLE_MS / 1000} s after: ${mib(settled)} = ${(settled / n).toFixed(0)} bytes/record`);
  } finally {
    await k.stop();
  }
  for (const [label, r] of [[postgres ? 'dmsd --database-url' : 'dmsd --data', results.dmsd], ['dmsd --no-database', results.dmsdFiles]])
    log(
      `  ${label} / knotd: time ${(r.seconds / results.knotd.seconds).toFixed(2)} (target ≤ 1.5), ` +
        `memory ${(r.bytesPerRecord / results.knotd.bytesPerRecord).toFixed(2)}; dmsd ${r.bytesPerRecord.toFixed(0)} bytes/record, ` +
        `settled ${r.settledBytesPerRecord.toFixed(0)} (target ≤ 200)`,
    );
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', postgres ? 'load-db-postgres.json' : 'load-db.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await pgServer?.stop();
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
