// Start-up with many zones (issue 17): --zones N zone files (default 100,000, --records per zone, default 20: SOA,
// NS, glue, A/AAAA/MX/TXT) are loaded into a fresh SQLite store (in-process services.loadZones; not measured), then
//   dmsd --data DIR: time from spawn until every zone of an evenly spread sample of --sample zones (default 500,
//   the first and last included) answers its SOA authoritatively, and resident memory then (process + children);
//   knotd with the same N zone files: the same measure (knotd loads zones in the background after it starts).
//
//   node bench/startup.mjs [--zones N] [--records N] [--sample N] [--keep]      (after npm run build)

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dmsdUdpPort, freePort, ROOT, rssBytes, testHelper, udpQuery } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ZONES = argOf('--zones', 100_000);
const RECORDS = argOf('--records', 20);
const SAMPLE = Math.min(ZONES, argOf('--sample', 500));
const keep = argv.includes('--keep');
const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const zoneName = (i) => `z${String(i).padStart(6, '0')}.startup.test`;

function zoneText(i) {
  const lines = ['$TTL 3600', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', '@ NS ns2', 'ns1 A 192.0.2.1', 'ns2 A 192.0.2.2'];
  for (let k = 0; lines.length - 1 < RECORDS; k++) {
    const t = k % 4;
    if (t === 0) lines.push(`h${k} A 10.${(i >> 8) & 255}.${i & 255}.${k & 255}`);
    else if (t === 1) lines.push(`h${k - 1} AAAA 2001:db8:${(i & 0xffff).toString(16)}::${k.toString(16)}`);
    else if (t === 2) lines.push(`@ MX ${k} ns1`);
    else lines.push(`h${k} TXT "zone ${i} record ${k}"`);
  }
  return `${lines.join('\n')}\n`;
}

const sample = [...new Set(Array.from({ length: SAMPLE }, (_, k) => Math.round((k * (ZONES - 1)) / Math.max(1, SAMPLE - 1))))];

/** Until every sampled zone answers its SOA with AA: resolves with ms since t0. */
async function untilAllServed(port, t0, proc, what) {
  const pending = new Set(sample);
  while (pending.size > 0) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode})`);
    if (Date.now() - t0 > 600_000) throw new Error(`${what}: ${pending.size} sampled zones still not served after 600 s`);
    for (const i of [...pending]) {
      const r = await udpQuery(port, zoneName(i), 6, 300).catch(() => undefined);
      if (r && (r[2] & 0x04) !== 0 && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0) pending.delete(i);
      else break; // zones are loaded in order more or less: wait for this one before asking the rest
    }
    if (pending.size > 0) await new Promise((res) => setTimeout(res, 20));
  }
  return Date.now() - t0;
}

const work = mkdtempSync(join(tmpdir(), 'dms-bench-startup-'));
const results = { date: new Date().toISOString(), zones: ZONES, recordsPerZone: RECORDS, sample: sample.length };
results.loadAverageAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
try {
  const zonesDir = join(work, 'zones');
  mkdirSync(zonesDir);
  for (let i = 0; i < ZONES; i++) writeFileSync(join(zonesDir, zoneName(i)), zoneText(i));
  log(`bench/startup: ${fmt(ZONES)} zones of ${RECORDS} records (${fmt(ZONES * RECORDS)} records); load average ${results.loadAverageAtStart}`);

  // The store, filled in this process (the quickest way in; not what is measured).
  const dataDir = join(work, 'data');
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const tLoad = Date.now();
  try {
    function* items() {
      for (let i = 0; i < ZONES; i++) yield { name: zoneName(i), text: readFileSync(join(zonesDir, zoneName(i)), 'utf8') };
    }
    const rs = await api.loadZones(api.serviceContext(store, { actor: 'bench@startup/Admin' }), items(), { replace: false });
    const failed = rs.filter((r) => r.action !== 'created');
    if (failed.length > 0) throw new Error(`${failed.length} zones not created: ${failed[0].error?.message}`);
  } finally {
    await store.close();
  }
  log(`  store filled in ${fmt((Date.now() - tLoad) / 1000, 1)} s (services.loadZones, not measured)`);

  const { spawnLogged, knotConf } = await testHelper('servers');
  // dmsd on the store.
  {
    const t0 = Date.now();
    const d = spawnLogged(process.execPath, [join(ROOT, 'bin', 'dmsd'), '--data', dataDir, '--listen', '127.0.0.1:0', '--no-http'], {
      cwd: ROOT,
      killAfterMs: 5000,
      maxOutput: 1 << 20,
    });
    try {
      const port = await dmsdUdpPort(d.proc, d.output);
      const listenMs = Date.now() - t0;
      const ms = await untilAllServed(port, t0, d.proc, 'dmsd');
      const rss = rssBytes(d.proc.pid);
      results.dmsd = { listeningSeconds: listenMs / 1000, servedSeconds: ms / 1000, rssBytes: rss, bytesPerRecord: rss / (ZONES * RECORDS) };
      log(`  dmsd --data: listening after ${fmt(listenMs / 1000, 2)} s, every sampled zone served after ${fmt(ms / 1000, 2)} s, RSS ${fmt(rss / 1048576)} MiB`);
    } finally {
      await d.stop();
    }
  }
  // knotd on the zone files.
  {
    const dir = join(work, 'knotd');
    mkdirSync(dir);
    const port = await freePort();
    const zones = Array.from({ length: ZONES }, (_, i) => ({ name: zoneName(i), file: join(zonesDir, zoneName(i)) }));
    writeFileSync(join(dir, 'knot.conf'), knotConf(dir, port, zones, { logLevel: 'notice', udpWorkers: 1 }));
    const t0 = Date.now();
    const k = spawnLogged('knotd', ['-c', join(dir, 'knot.conf')], { dir, killAfterMs: 10_000 });
    try {
      const ms = await untilAllServed(port, t0, k.proc, 'knotd');
      const rss = rssBytes(k.proc.pid);
      results.knotd = { servedSeconds: ms / 1000, rssBytes: rss, bytesPerRecord: rss / (ZONES * RECORDS) };
      log(`  knotd:       every sampled zone served after ${fmt(ms / 1000, 2)} s, RSS ${fmt(rss / 1048576)} MiB`);
    } finally {
      await k.stop();
    }
  }
  results.ratio = results.dmsd.servedSeconds / results.knotd.servedSeconds;
  log(`  dmsd / knotd: ${fmt(results.ratio, 2)}; dmsd target: every zone served within 20 s (${results.dmsd.servedSeconds <= 20 ? 'met' : 'NOT met'})`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'startup.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
