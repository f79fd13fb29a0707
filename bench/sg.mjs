// Server groups at scale (issue 11): --zones N small zones (default 10,000) created in bulk in a server group with
// three secondaries of the three types — BIND 9 (named), Knot (knotd) and NSD — on loopback ports, configured ONLY
// from the files dmsd publishes (their main configuration sets ports and directories and includes DMS's file, as in
// test/interop/server-groups.test.ts). BIND and Knot get the zones through the group's RFC 9432 catalog zone, NSD
// through its regenerated configuration and `nsd-control reconfig`.
//   - a real dmsd (dist/) on a fresh SQLite store, default settings (hold 1 s, health checks every 60 s);
//   - the zones are created as an operator would in bulk: `zone_tool load_zones -g sg1 FILE...` in invocations of
//     --batch files (default 1,000), one after the other;
//   - measured from the start of the first load_zones until each secondary serves every zone (an authoritative SOA
//     answer over UDP): a spread sample of --sample zones is polled while loading; once a server serves the whole
//     sample, every zone it does not serve yet is asked again until none is left (the time a zone was first seen
//     served is kept, so the figure is the time the last zone was first seen, within one polling round);
//   - counted from dmsd's log: catalog zone versions, reconfigurations (file installed, reload command run) per
//     server, transfers of the catalog and of the zones per server.
// Peer figure: Knot's own catalog generation — a knotd primary with `catalog-role: generate` and a knotd secondary
// with `catalog-role: interpret` (members from a template naming the primary); the same N zone files are added to
// the primary's configuration at once (`knotc reload`), timed until the secondary serves every zone, polled the same
// way.
// Prints a table and writes bench/out/sg.json.
//
//   node bench/sg.mjs [--zones 10000] [--batch 1000] [--sample 200] [--timeout 1800] [--skip-peer] [--keep]
//   (after npm run build)

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, have, ROOT, sleep, testHelper, udpQuery } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const N = Number(argOf('--zones', 10000));
const BATCH = Number(argOf('--batch', 1000));
const SAMPLE = Math.min(N, Number(argOf('--sample', 200)));
const TIMEOUT_MS = Number(argOf('--timeout', 1800)) * 1000;
const keep = argv.includes('--keep');
const skipPeer = argv.includes('--skip-peer');
const log = (...a) => console.log(...a);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : String(n));

for (const p of ['named', 'knotd', 'knotc', 'nsd', 'nsd-control', 'named-checkconf', 'nsd-checkconf'])
  if (!have(p)) throw new Error(`${p} is not installed: apt-get install bind9 knot nsd`);
const DMSD = join(ROOT, 'dist', 'daemon', 'main.js');
const ZONE_TOOL = join(ROOT, 'bin', 'zone_tool');
if (!existsSync(DMSD)) throw new Error('dist/daemon/main.js missing: run npm run build');

const zoneName = (i) => `z${String(i).padStart(6, '0')}.sgbench.test`;
/** A small zone: SOA, NS, four addresses. */
const zoneText = (i) =>
  [
    '$TTL 300',
    '@ SOA ns1 hostmaster 1 3600 900 604800 300',
    '@ NS ns1',
    'ns1 A 192.0.2.1',
    `www A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    `mail A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    `@ AAAA 2001:db8::${(i & 0xffff).toString(16)}`,
    '',
  ].join('\n');

/** How many of `xs` have each value of `key`. */
function countBy(xs, key) {
  const m = {};
  for (const x of xs) m[x[key]] = (m[x[key]] ?? 0) + 1;
  return m;
}

/** A spread sample of the zones: evenly spaced, first and last included. */
function spread(names, k) {
  if (k >= names.length) return [...names];
  const out = new Set([names[0], names[names.length - 1]]);
  for (let j = 0; out.size < k; j++) out.add(names[Math.floor((j * names.length) / k)]);
  return [...out];
}

/** Does the server on `port` answer SOA for `zone` authoritatively (AA, NOERROR, an answer)? */
async function serves(port, zone) {
  const r = await udpQuery(port, zone, 6, 1000);
  return !!r && (r[2] & 0x04) !== 0 && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0;
}

/** Ask `zones` with at most `conc` queries in flight; returns the ones served. */
async function servedOf(port, zones, conc = 32) {
  const got = [];
  let next = 0;
  const worker = async () => {
    while (next < zones.length) {
      const z = zones[next++];
      if (await serves(port, z)) got.push(z);
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, zones.length) }, worker));
  return got;
}

/**
 * Polls each server until it serves every zone: the sample while it is incomplete, then every zone not seen yet.
 * Returns per server { sampleMs, allMs } measured from t0 (ms since t0 when the last zone was first seen served).
 */
async function watchServers(servers, names, t0, isAlive) {
  const sample = spread(names, SAMPLE);
  const state = servers.map((s) => ({ ...s, samplePending: new Set(sample), pending: null, sampleMs: null, allMs: null, lastSeen: 0 }));
  const deadline = t0 + TIMEOUT_MS;
  while (state.some((s) => s.allMs === null)) {
    if (Date.now() > deadline) throw new Error(`timeout: ${state.map((s) => `${s.label} ${s.pending ? s.pending.size : `sample ${s.samplePending.size}`} left`).join(', ')}`);
    isAlive();
    await Promise.all(
      state.map(async (s) => {
        if (s.allMs !== null) return;
        if (s.pending === null) {
          for (const z of await servedOf(s.port, [...s.samplePending])) s.samplePending.delete(z);
          if (s.samplePending.size === 0) {
            s.sampleMs = Date.now() - t0;
            log(`  ${s.label}: serves the sample of ${sample.length} at ${fmt(s.sampleMs / 1000, 1)} s; checking every zone`);
            s.pending = new Set(names);
          }
          return;
        }
        const before = s.pending.size;
        for (const z of await servedOf(s.port, [...s.pending])) s.pending.delete(z);
        if (s.pending.size < before) s.lastSeen = Date.now() - t0;
        if (s.pending.size === 0) {
          s.allMs = s.lastSeen;
          log(`  ${s.label}: serves all ${fmt(names.length)} zones at ${fmt(s.allMs / 1000, 1)} s`);
        }
      }),
    );
    await sleep(500);
  }
  return Object.fromEntries(state.map((s) => [s.label, { sampleMs: s.sampleMs, allMs: s.allMs }]));
}

/** A process with stdout and stderr into a file (the logs of 10,000 transfers are long). */
function spawnToFile(cmd, args, file, opts = {}) {
  const fd = openSync(file, 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], ...opts });
  closeSync(fd);
  const stop = () =>
    new Promise((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      proc.once('exit', () => {
        clearTimeout(t);
        res();
      });
      proc.kill('SIGTERM');
    });
  return { proc, stop, file };
}
const tail = (file, n = 30) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-n).join('\n') : '');
const alive = (label, p) => () => {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) throw new Error(`${label} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${tail(p.file)}`);
};

const env = { ...process.env, DMS_CHANGE_BY: 'bench@sg/Admin' };
delete env.DMS_DATA_DIR;
delete env.DMS_DATABASE_URL;

function zoneToolOk(data, args) {
  const r = spawnSync(process.execPath, [ZONE_TOOL, '--data', data, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zone_tool ${args.slice(0, 4).join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
/** zone_tool asynchronously (the polling goes on while it runs). */
function zoneToolAsync(data, args) {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [ZONE_TOOL, '--data', data, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('exit', (c) => (c === 0 ? res() : rej(new Error(`zone_tool ${args[0]} failed (${c}): ${err}`))));
  });
}

async function waitUntil(what, check, ms, isAlive = () => {}) {
  const end = Date.now() + ms;
  for (;;) {
    isAlive();
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(200);
  }
}

// ---- DMS -----------------------------------------------------------------------------------------------------------

async function benchDms(work, names) {
  const data = join(work, 'dms');
  mkdirSync(data);
  const zdir = join(work, 'zones');
  const dirs = { bind: join(work, 'bind'), knot: join(work, 'knot'), nsd: join(work, 'nsd') };
  const ports = {};
  for (const k of Object.keys(dirs)) {
    mkdirSync(dirs[k]);
    ports[k] = await freePort();
  }
  const dmsdPort = await freePort();
  zoneToolOk(data, ['generate_tsig_key', 'xfr.sg1']);
  zoneToolOk(data, ['create_sg', 'sg1', 'none', `127.0.0.1#${dmsdPort}`]);
  zoneToolOk(data, ['add_transfer_rule', '-g', 'sg1', 'key=xfr.sg1']);
  // zone_tool sets the apex NS through an editor (edit_apex_ns); the operation is the same one.
  const { openStore } = await import('../dist/store/index.js');
  const { serviceContext } = await import('../dist/services/context.js');
  const { call } = await import('../dist/services/operations/index.js');
  const s = await openStore({ dataDir: data });
  await call(serviceContext(s), 'set_sg_apex_ns', { sg: 'sg1', apexNs: ['ns1.example.org.'] });
  await s.close();
  zoneToolOk(data, ['set_sg_config', 'sg1', 'xfr_key=xfr.sg1']);
  zoneToolOk(data, ['create_server', '-g', 'sg1', 'bind1', `127.0.0.1#${ports.bind}`, 'bind9']);
  zoneToolOk(data, ['create_server', '-g', 'sg1', 'knot1', `127.0.0.1#${ports.knot}`, 'knot']);
  zoneToolOk(data, ['create_server', '-g', 'sg1', 'nsd1', `127.0.0.1#${ports.nsd}`, 'nsd']);
  zoneToolOk(data, ['set_server_config', 'bind1', `dir=${dirs.bind}`]);
  zoneToolOk(data, ['set_server_config', 'knot1', `dir=${dirs.knot}`, `zone_dir=${dirs.knot}`]);
  zoneToolOk(data, ['set_server_config', 'nsd1', `dir=${dirs.nsd}`, `reload=nsd-control -c ${join(dirs.nsd, 'nsd.conf')} reconfig`]);

  const dmsdLog = join(work, 'dmsd.log');
  const dmsd = spawnToFile(process.execPath, [DMSD, '--data', data, '--listen', `127.0.0.1:${dmsdPort}`], dmsdLog, { cwd: ROOT, env });
  const dmsdAlive = alive('dmsd', dmsd);
  await waitUntil('dmsd wrote the three files', () => ['bind', 'knot', 'nsd'].every((k) => existsSync(join(dirs[k], `dms-${k}1.conf`))), 30000, dmsdAlive);
  await waitUntil('dmsd serves the catalog', () => serves(dmsdPort, 'sg1.catalog.invalid'), 10000, dmsdAlive);

  // The secondaries' own main configurations: ports, directories, DMS's include lines.
  const { knotServerConf, namedOptions } = await testHelper('servers');
  writeFileSync(
    join(dirs.bind, 'named.conf'),
    [...namedOptions(dirs.bind, ports.bind, [`include "${dirs.bind}/dms-bind1-options.conf";`]), `include "${dirs.bind}/dms-bind1.conf";`, ''].join('\n'),
  );
  writeFileSync(
    join(dirs.knot, 'knot.conf'),
    [...knotServerConf(dirs.knot, ports.knot, { logLevel: 'notice' }), 'template:', '  - id: default', `    storage: "${dirs.knot}"`, `include: ${dirs.knot}/dms-knot1.conf`, ''].join('\n'),
  );
  writeFileSync(
    join(dirs.nsd, 'nsd.conf'),
    [
      'server:',
      `  ip-address: 127.0.0.1@${ports.nsd}`,
      `  zonesdir: "${dirs.nsd}"`,
      `  pidfile: "${dirs.nsd}/nsd.pid"`,
      '  database: ""',
      `  xfrdfile: "${dirs.nsd}/xfrd.state"`,
      `  zonelistfile: "${dirs.nsd}/zone.list"`,
      '  username: ""',
      '  verbosity: 1',
      'remote-control:',
      '  control-enable: yes',
      `  control-interface: ${join(dirs.nsd, 'ctl.sock')}`,
      `include: "${dirs.nsd}/dms-nsd1.conf"`,
      '',
    ].join('\n'),
  );
  const named = spawnToFile('named', ['-g', '-c', join(dirs.bind, 'named.conf'), '-n', '1'], join(work, 'named.log'), { cwd: dirs.bind });
  const knot = spawnToFile('knotd', ['-c', join(dirs.knot, 'knot.conf')], join(work, 'knotd.log'), { cwd: dirs.knot });
  const nsd = spawnToFile('nsd', ['-d', '-c', join(dirs.nsd, 'nsd.conf')], join(work, 'nsd.log'), { cwd: dirs.nsd });
  const procs = { dmsd, named, knot, nsd };
  const allAlive = () => {
    for (const [k, p] of Object.entries(procs)) alive(k, p)();
  };
  try {
    // Ready: BIND answers for the catalog; Knot and NSD answer a query at all (nothing to serve yet).
    await waitUntil('named serves the catalog', () => serves(ports.bind, 'sg1.catalog.invalid'), 30000, allAlive);
    for (const k of ['knot', 'nsd'])
      await waitUntil(`${k} answers`, async () => (await udpQuery(ports[k], 'sgbench.test', 6, 300)) !== undefined, 30000, allAlive);
    const logLinesBefore = readFileSync(dmsdLog, 'utf8').split('\n').length - 1;

    log(`DMS: creating ${fmt(N)} zones with zone_tool load_zones -g sg1 in invocations of ${fmt(BATCH)} files; load average ${loadAverage()}`);
    const loadAvgStart = loadAverage();
    const t0 = Date.now();
    // Does dmsd keep answering while it takes in the zones? One SOA query every 250 ms (2 s timeout); the longest
    // stretch without an answer is kept.
    const probe = { stop: false, lastAnswer: Date.now(), longestGapMs: 0, unanswered: 0, asked: 0 };
    const probing = (async () => {
      while (!probe.stop) {
        probe.asked++;
        const ok = await serves(dmsdPort, 'sg1.catalog.invalid');
        const now = Date.now();
        if (ok) {
          probe.longestGapMs = Math.max(probe.longestGapMs, now - probe.lastAnswer);
          probe.lastAnswer = now;
        } else probe.unanswered++;
        await sleep(250);
      }
      probe.longestGapMs = Math.max(probe.longestGapMs, Date.now() - probe.lastAnswer);
    })();
    const loaded = (async () => {
      for (let i = 0; i < names.length; i += BATCH) await zoneToolAsync(data, ['load_zones', '-g', 'sg1', ...names.slice(i, i + BATCH).map((n) => join(zdir, n))]);
      const ms = Date.now() - t0;
      log(`  load_zones: all ${fmt(N)} zones created in ${fmt(ms / 1000, 1)} s`);
      return ms;
    })();
    let loadErr;
    loaded.catch((e) => {
      loadErr = e;
    });
    const watched = await watchServers(
      [
        { label: 'bind9', port: ports.bind },
        { label: 'knot', port: ports.knot },
        { label: 'nsd', port: ports.nsd },
      ],
      names,
      t0,
      () => {
        if (loadErr) throw loadErr;
        allAlive();
      },
    );
    const createMs = await loaded;
    probe.stop = true;
    await probing;
    log(`  dmsd's own answers meanwhile: ${probe.unanswered} of ${probe.asked} SOA queries unanswered, longest gap ${fmt(probe.longestGapMs / 1000, 1)} s`);
    const loadAvgEnd = loadAverage();
    // Let the last hold run finish (nothing more should happen), then count.
    await sleep(3000);
    const lines = readFileSync(dmsdLog, 'utf8')
      .split('\n')
      .slice(logLinesBefore)
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      });
    const catalogVersions = lines.filter((j) => j.msg === 'catalog zone updated');
    const reconf = (server) => lines.filter((j) => j.msg === 'server reconfiguration' && j.server === server);
    const xfrLines = lines.filter((j) => j.msg === 'transfer');
    const perServer = {};
    for (const [label, server] of [
      ['bind9', 'bind1'],
      ['knot', 'knot1'],
      ['nsd', 'nsd1'],
    ]) {
      const r = reconf(server);
      perServer[label] = {
        ...watched[label],
        reconfigurations: r.length,
        reconfigOutcomes: countBy(r, 'outcome'),
      };
    }
    // Transfers as dmsd logged them (the client is the secondary's address and source port, so per-server figures
    // come from kinds and zones, not ports): catalog transfers and zone transfers.
    const catXfr = xfrLines.filter((j) => j.zone === 'sg1.catalog.invalid.' || j.zone === 'sg1.catalog.invalid');
    const zoneXfr = xfrLines.filter((j) => !(j.zone === 'sg1.catalog.invalid.' || j.zone === 'sg1.catalog.invalid'));
    const byKind = (xs) => countBy(xs, 'kind');
    const lastCatalog = catalogVersions.at(-1);
    return {
      zones: N,
      batch: BATCH,
      createMs,
      loadAverage: { start: loadAvgStart, end: loadAvgEnd },
      dmsdAnswers: { asked: probe.asked, unanswered: probe.unanswered, longestGapMs: probe.longestGapMs },
      servers: perServer,
      catalogVersions: catalogVersions.length,
      catalogMembersAtEnd: lastCatalog?.members ?? null,
      catalogTransfers: byKind(catXfr),
      zoneTransfers: byKind(zoneXfr),
      nsdReloads: perServer.nsd.reconfigOutcomes.installed ?? 0,
    };
  } catch (e) {
    log(`dmsd log tail:\n${tail(dmsdLog)}\nnamed:\n${tail(join(work, 'named.log'))}\nknotd:\n${tail(join(work, 'knotd.log'))}\nnsd:\n${tail(join(work, 'nsd.log'))}`);
    throw e;
  } finally {
    for (const p of [named, knot, nsd, dmsd]) await p.stop();
  }
}

// ---- Knot's own catalog generation (the peer figure) ---------------------------------------------------------------

async function benchKnotCatalog(work, names) {
  const pdir = join(work, 'knot-primary');
  const sdir = join(work, 'knot-secondary');
  mkdirSync(pdir);
  mkdirSync(sdir);
  const zdir = join(work, 'zones');
  const pport = await freePort();
  const sport = await freePort();
  const { knotServerConf } = await testHelper('servers');
  // Knot needs NS at a zone's apex (a mandatory check); the DMS zones get theirs from the group.
  const pconf = (members) =>
    [
      ...knotServerConf(pdir, pport, { logLevel: 'notice' }),
      'remote:',
      '  - id: secondary',
      `    address: 127.0.0.1@${sport}`,
      'acl:',
      '  - id: xfr',
      '    address: 127.0.0.1',
      '    action: transfer',
      'template:',
      '  - id: default',
      `    storage: "${zdir}"`,
      '    semantic-checks: off',
      '    zonefile-sync: -1',
      '    journal-content: changes',
      '    notify: secondary',
      '    acl: xfr',
      'zone:',
      '  - domain: catalog.sgbench.',
      '    catalog-role: generate',
      ...members.flatMap((n) => [`  - domain: ${n}.`, `    file: "${join(zdir, n)}"`, '    catalog-role: member', '    catalog-zone: catalog.sgbench.']),
      '',
    ].join('\n');
  // Knot generates no catalog without members: one seed zone (not among the N measured) makes it exist at start.
  writeFileSync(join(zdir, 'seed.sgbench.test'), `$ORIGIN seed.sgbench.test.\n${zoneText(0)}`);
  writeFileSync(join(pdir, 'knot.conf'), pconf(['seed.sgbench.test']));
  writeFileSync(
    join(sdir, 'knot.conf'),
    [
      ...knotServerConf(sdir, sport, { logLevel: 'notice' }),
      'remote:',
      '  - id: primary',
      `    address: 127.0.0.1@${pport}`,
      'acl:',
      '  - id: notify',
      '    address: 127.0.0.1',
      '    action: notify',
      'template:',
      '  - id: default',
      `    storage: "${sdir}"`,
      '  - id: members',
      `    storage: "${sdir}"`,
      '    master: primary',
      '    acl: notify',
      'zone:',
      '  - domain: catalog.sgbench.',
      '    master: primary',
      '    acl: notify',
      '    catalog-role: interpret',
      '    catalog-template: members',
      '',
    ].join('\n'),
  );
  const primary = spawnToFile('knotd', ['-c', join(pdir, 'knot.conf')], join(work, 'knot-primary.log'), { cwd: pdir });
  const secondary = spawnToFile('knotd', ['-c', join(sdir, 'knot.conf')], join(work, 'knot-secondary.log'), { cwd: sdir });
  const allAlive = () => {
    alive('knotd primary', primary)();
    alive('knotd secondary', secondary)();
  };
  try {
    // Knot refuses queries for a catalog zone (generated or interpreted): readiness is the seed zone on both.
    await waitUntil('knotd primary serves the seed zone', () => serves(pport, 'seed.sgbench.test'), 30000, allAlive);
    await waitUntil('knotd secondary serves the seed zone', () => serves(sport, 'seed.sgbench.test'), 30000, allAlive);
    await sleep(1000);
    // All N member zones added to the primary's configuration at once, as a bulk creation there looks.
    writeFileSync(join(pdir, 'knot.conf'), pconf(['seed.sgbench.test', ...names]));
    log(`Knot catalog generation: ${fmt(N)} member zones added to the knotd primary (knotc reload); load average ${loadAverage()}`);
    const loadAvgStart = loadAverage();
    const t0 = Date.now();
    const r = spawnSync('knotc', ['-c', join(pdir, 'knot.conf'), '-t', '600', 'reload'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`knotc reload: ${r.stdout}${r.stderr}`);
    const reloadMs = Date.now() - t0;
    log(`  knotc reload returned after ${fmt(reloadMs / 1000, 1)} s`);
    const watched = await watchServers([{ label: 'knot-secondary', port: sport }], names, t0, allAlive);
    const status = spawnSync('knotc', ['-c', join(pdir, 'knot.conf'), 'zone-status', 'catalog.sgbench.'], { encoding: 'utf8' }).stdout.trim();
    return { zones: N, reloadMs, loadAverage: { start: loadAvgStart, end: loadAverage() }, secondary: watched['knot-secondary'], catalogStatus: status };
  } catch (e) {
    log(`primary:\n${tail(join(work, 'knot-primary.log'))}\nsecondary:\n${tail(join(work, 'knot-secondary.log'))}`);
    throw e;
  } finally {
    await secondary.stop();
    await primary.stop();
  }
}

// ---- main ----------------------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'dms-bench-sg-'));
const zdir = join(work, 'zones');
mkdirSync(zdir);
const names = Array.from({ length: N }, (_, i) => zoneName(i + 1));
for (const [i, n] of names.entries()) writeFileSync(join(zdir, n), `$ORIGIN ${n}.\n${zoneText(i + 1)}`);
log(`bench sg: ${fmt(N)} zones, work dir ${work}, load average ${loadAverage()}`);
const results = { date: new Date().toISOString(), machine: { nproc: (await import('node:os')).cpus().length, node: process.version } };
try {
  results.dms = await benchDms(work, names);
  if (!skipPeer) results.knotCatalog = await benchKnotCatalog(work, names);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

const sec = (ms) => (ms === null || ms === undefined ? '-' : fmt(ms / 1000, 1));
const d = results.dms;
log('');
log(`${fmt(N)} zones; DMS: load_zones took ${sec(d.createMs)} s; ${d.catalogVersions} catalog versions (${d.catalogMembersAtEnd} members at the end)`);
log(`dmsd's SOA answers during the run: ${d.dmsdAnswers.unanswered} of ${d.dmsdAnswers.asked} unanswered, longest gap ${sec(d.dmsdAnswers.longestGapMs)} s`);
log('secondary              sample s   all s   reconfigurations');
for (const [k, v] of Object.entries(d.servers)) log(`${`DMS → ${k}`.padEnd(22)} ${sec(v.sampleMs).padStart(8)} ${sec(v.allMs).padStart(7)}   ${v.reconfigurations} ${JSON.stringify(v.reconfigOutcomes)}`);
if (results.knotCatalog) {
  const k = results.knotCatalog;
  log(`${'knotd gen → knotd'.padEnd(22)} ${sec(k.secondary.sampleMs).padStart(8)} ${sec(k.secondary.allMs).padStart(7)}   (knotc reload ${sec(k.reloadMs)} s)`);
}
log(`catalog transfers ${JSON.stringify(d.catalogTransfers)}; zone transfers ${JSON.stringify(d.zoneTransfers)}`);
mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'out', 'sg.json'), `${JSON.stringify(results, null, 2)}\n`);
log('wrote bench/out/sg.json');
