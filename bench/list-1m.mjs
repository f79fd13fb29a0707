// The zone list (issue 16: "a page at 1,000,000 zones in < 50 ms") on a SQLite store of --zones zones (default
// 1,000,000). Loading a million zones through the services takes close to an hour, so the store is filled this way:
//   1. a fresh store (openStore, every migration); create_reference ref-dense / ref-rare, create_sectag
//      tenant-dense / tenant-rare and create_sg sg-other through the operations (invoke, as an admin);
//   2. --seed zones (default 2,000) loaded with services.loadZones: z0000000.list.test … (SOA, two NS replaced by the
//      server group's apex NS, ns1/ns2 glue, www A, www AAAA, a TXT: 7 records, every name inside the zone);
//   3. the seed replicated by SQL in one transaction per 50 copies: copy c of seed zone k gets id c*SEED+k and the
//      name z%07d.list.test. (number c*SEED+k-1); INSERT … SELECT into zones (every column copied, ctime/mtime kept),
//      zone_instances (the published version, soa_rname rewritten to the new name) and records (owner and owner_key
//      rewritten: the seed name suffix replaced by the new name; the rdata holds no name of the zone). Every index and
//      constraint of the schema stays in place during the inserts (no index dropped or rebuilt, foreign keys on);
//      no ANALYZE (the store never runs one, so neither does this). Not copied: zone_changes and audit_log rows
//      (history of the load, read by neither the list nor dmsd's start).
//   4. the filters' rows, spread by the zone number n (over seeds and copies alike) with SQL updates/inserts:
//      reference ref-dense n%10==1 (10%), ref-rare n%1000==7 (0.1%); sectag tenant-dense n%20==3 (5%), tenant-rare
//      n%1000==9 (0.1%); server group sg-other n%100==2 (1%, as primary) ; state DELETED (deleted_start set,
//      published_version kept as delete leaves it) n%50==5 (2%), DISABLED n%200==6 (0.5%).
// Then, on that store (after `npm run build`):
//   - dmsd --data DIR --http 127.0.0.1:0 (it serves every published zone: it loads them all before the API listens),
//     an admin account made by `zone_tool create_api_account`; list_zone over /jsonrpc with HTTP Basic, one request at
//     a time (Node fetch, keep-alive), --requests each (default 30): median and p90 of request → whole body;
//   - the same pages through services.listZoneBriefs in this process (what list_zone returns without detail) and
//     services.listZones (detail: whole zone info), and a customer's first page;
//   - `zone_tool --data DIR ls 'z0500*'` one-shot (process start to exit; 980 live names), --cli-runs times (default 10).
// The pages: first; middle (after the name at n = zones/2); last (after the name 1,000 before the end, by cursor);
// pattern with a literal prefix (z050*: 1% of the names, from the middle) and without one (*7.list.test: 10%);
// reference dense/rare; sectag dense/rare; server group sg-other and default (99%); state deleted (which=deleted);
// state DISABLED (first page and from the middle), PUBLISHED, and DISABLED + DELETED together (the state filter);
// in-process also a customer's first page (tenant-dense, tenant-rare: the tenancy filter). Each is checked to
// return a full page (or all that match) of zones that fit the filter. Writes bench/out/list-1m.json.
//
//   node bench/list-1m.mjs [--zones 1000000] [--seed 2000] [--requests 30] [--cli-runs 10] [--keep] [--data DIR]
//   (--data DIR: reuse a store filled by an earlier --keep run instead of filling one)

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ROOT, sleep, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ZONES = Number(argOf('--zones', 1_000_000));
const SEED = Number(argOf('--seed', 2000));
const REQUESTS = Number(argOf('--requests', 30));
const CLI_RUNS = Number(argOf('--cli-runs', 10));
const keep = argv.includes('--keep');
const reuse = argOf('--data', undefined);
const PAGE = 1000;
if (ZONES % SEED !== 0) throw new Error('--zones must be a multiple of --seed');
const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const ADMIN = { login: 'benchadmin', password: 'bench-admin-password-1' };
/** The literal prefix of the pattern page (z050 at 1,000,000: 10,000 names from the middle) and of zone_tool ls (z0500: 1,000). */
const PREFIX = `z${String(Math.floor(ZONES / 2)).padStart(7, '0').slice(0, 3)}`;
const LS_PREFIX = `z${String(Math.floor(ZONES / 2)).padStart(7, '0').slice(0, 4)}`;
const name = (n) => `z${String(n).padStart(7, '0')}.list.test.`;
const zoneText = (n) =>
  `$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\nwww A 10.${(n >> 8) & 255}.${n & 255}.1\nwww AAAA 2001:db8::${(n & 0xffff).toString(16)}\n@ TXT "seed ${n}"\n`;

function zoneToolEnv() {
  const env = { ...process.env, DMS_CHANGE_BY: 'bench@list-1m/Admin' };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  return env;
}

// ---- filling --------------------------------------------------------------------------------------------------------

async function fill(dataDir) {
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const t0 = Date.now();
  try {
    const ctx = api.serviceContext(store, { actor: 'bench@list-1m/Admin' });
    for (const reference of ['ref-dense', 'ref-rare']) await api.invoke(ctx, 'create_reference', { reference });
    for (const sectag of ['tenant-dense', 'tenant-rare']) await api.invoke(ctx, 'create_sectag', { sectag });
    await api.invoke(ctx, 'create_sg', { sg: 'sg-other', apexNs: ['ns1.other.invalid.', 'ns2.other.invalid.'] });
    function* items() {
      for (let n = 0; n < SEED; n++) yield { name: name(n), text: zoneText(n) };
    }
    const rs = await api.loadZones(ctx, items(), { replace: false });
    const bad = rs.filter((r) => r.action !== 'created');
    if (bad.length > 0) throw new Error(`${bad.length} seed zones not created: ${bad[0].error?.message}`);
  } finally {
    await store.close();
  }
  const seedMs = Date.now() - t0;
  log(`  seed: ${fmt(SEED)} zones through services.loadZones in ${fmt(seedMs / 1000, 1)} s`);

  const t1 = Date.now();
  const db = new Database(join(dataDir, 'dms.sqlite'));
  db.pragma('foreign_keys = ON');
  db.pragma('journal_mode = WAL');
  const ids = db.prepare('select min(id) lo, max(id) hi, count(*) n from zones').get();
  if (ids.lo !== 1 || ids.hi !== SEED || ids.n !== SEED) throw new Error(`seed zone ids are not 1..${SEED}: ${JSON.stringify(ids)}`);
  const zoneCols = db
    .prepare('select name from pragma_table_info(?)')
    .all('zones')
    .map((r) => r.name)
    .filter((c) => c !== 'id' && c !== 'name');
  const ziCols = db
    .prepare('select name from pragma_table_info(?)')
    .all('zone_instances')
    .map((r) => r.name)
    .filter((c) => !['id', 'zone_id', 'soa_rname'].includes(c));
  const recCols = db
    .prepare('select name from pragma_table_info(?)')
    .all('records')
    .map((r) => r.name)
    .filter((c) => !['id', 'zone_id', 'owner', 'owner_key'].includes(c));
  // The copy number range [c0, c1): zone ids c*SEED + k, names from the number c*SEED + k - 1.
  const newName = `printf('z%07d.list.test.', c.c * ${SEED} + s.id - 1)`;
  const copies = `with recursive c(c) as (select ? union all select c + 1 from c where c + 1 < ?)`;
  const insZones = db.prepare(
    `${copies} insert into zones (id, name, ${zoneCols.join(', ')}) select c.c * ${SEED} + s.id, ${newName}, ${zoneCols.map((x) => `s.${x}`).join(', ')} from c, zones s where s.id <= ${SEED} order by c.c, s.id`,
  );
  const insZi = db.prepare(
    `${copies} insert into zone_instances (zone_id, soa_rname, ${ziCols.join(', ')}) select c.c * ${SEED} + s.id, substr(i.soa_rname, 1, length(i.soa_rname) - length(s.name)) || ${newName}, ${ziCols.map((x) => `i.${x}`).join(', ')} from c, zones s join zone_instances i on i.zone_id = s.id where s.id <= ${SEED} order by c.c, s.id, i.id`,
  );
  const insRec = db.prepare(
    `${copies} insert into records (zone_id, owner, owner_key, ${recCols.join(', ')}) select c.c * ${SEED} + s.id, substr(r.owner, 1, length(r.owner) - length(s.name)) || ${newName}, substr(r.owner_key, 1, length(r.owner_key) - length(s.name)) || ${newName}, ${recCols.map((x) => `r.${x}`).join(', ')} from c, zones s join records r on r.zone_id = s.id where s.id <= ${SEED} order by c.c, s.id, r.id`,
  );
  // The seed's names must end with the seed zone name (the rewrite above relies on it).
  const odd = db.prepare("select count(*) n from records r join zones s on s.id = r.zone_id where substr(r.owner, -length(s.name)) <> s.name or substr(r.owner_key, -length(s.name)) <> s.name").get();
  if (odd.n !== 0) throw new Error(`${odd.n} seed records not under their zone name`);
  const total = ZONES / SEED;
  const STEP = 50;
  for (let c = 1; c < total; c += STEP) {
    const c1 = Math.min(total, c + STEP);
    db.transaction(() => {
      insZones.run(c, c1);
      insZi.run(c, c1);
      insRec.run(c, c1);
    })();
    process.stdout.write(`\r  replicated ${fmt(c1 * SEED)} zones, ${fmt((Date.now() - t1) / 1000, 0)} s`);
  }
  process.stdout.write('\n');
  const copyMs = Date.now() - t1;

  // The filters' rows, by zone number n = id - 1.
  const t2 = Date.now();
  const refId = (r) => db.prepare('select id from zone_references where name = ?').get(r).id;
  const tagId = (t) => db.prepare('select id from sectags where name = ?').get(t).id;
  const sgId = db.prepare("select id from server_groups where name = 'sg-other'").get().id;
  const now = Date.now();
  db.transaction(() => {
    db.prepare('update zones set reference_id = ? where (id - 1) % 10 = 1').run(refId('ref-dense'));
    db.prepare('update zones set reference_id = ? where (id - 1) % 1000 = 7').run(refId('ref-rare'));
    db.prepare('insert into zone_sectags (zone_id, sectag_id) select id, ? from zones where (id - 1) % 20 = 3').run(tagId('tenant-dense'));
    db.prepare('insert into zone_sectags (zone_id, sectag_id) select id, ? from zones where (id - 1) % 1000 = 9').run(tagId('tenant-rare'));
    db.prepare('update zones set sg_id = ? where (id - 1) % 100 = 2').run(sgId);
    db.prepare("update zones set state = 'DELETED', deleted_start = ? where (id - 1) % 50 = 5").run(now);
    db.prepare("update zones set state = 'DISABLED' where (id - 1) % 200 = 6").run();
  })();
  const fk = db.prepare('pragma foreign_key_check').all();
  if (fk.length > 0) throw new Error(`foreign key violations: ${JSON.stringify(fk.slice(0, 3))}`);
  const count = db.prepare('select count(*) n from zones').get().n;
  if (count !== ZONES) throw new Error(`${count} zones, not ${ZONES}`);
  const counts = {
    zones: count,
    zoneInstances: db.prepare('select count(*) n from zone_instances').get().n,
    records: db.prepare('select count(*) n from records').get().n,
  };
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const filterMs = Date.now() - t2;
  return { seedMs, copyMs, filterMs, counts };
}

// ---- measuring ------------------------------------------------------------------------------------------------------

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { requests: s.length, medianMs: q(0.5), p90Ms: q(0.9), minMs: s[0], maxMs: s[s.length - 1] };
}

/** The pages measured: label → list_zone params, and a check of one returned zone (name, state, reference). */
function pages(zones) {
  const mid = Math.floor(zones / 2);
  return [
    ['first', 'first page', {}, (z) => z.state !== 'DELETED'],
    ['middle', `middle (after ${name(mid)})`, { after: name(mid) }, (z) => z.name > name(mid)],
    ['last', 'last page (cursor)', { after: name(zones - PAGE - 1) }, (z) => z.name > name(zones - PAGE - 1)],
    ['patternPrefix', `pattern ${PREFIX}* (literal prefix)`, { pattern: `${PREFIX}*` }, (z) => z.name.startsWith(PREFIX)],
    ['patternNoPrefix', "pattern *7.list.test (no prefix)", { pattern: '*7.list.test' }, (z) => z.name.endsWith('7.list.test.')],
    ['refDense', 'reference ref-dense (10%)', { reference: 'ref-dense' }, (z) => z.reference === 'ref-dense'],
    ['refRare', 'reference ref-rare (0.1%)', { reference: 'ref-rare' }, (z) => z.reference === 'ref-rare'],
    ['sectagDense', 'sectag tenant-dense (5%)', { sectag: 'tenant-dense' }, (z) => (Number(z.name.slice(1, 8)) % 20) === 3],
    ['sectagRare', 'sectag tenant-rare (0.1%)', { sectag: 'tenant-rare' }, (z) => (Number(z.name.slice(1, 8)) % 1000) === 9],
    ['sg', 'server group sg-other (1%)', { sg: 'sg-other' }, (z) => (Number(z.name.slice(1, 8)) % 100) === 2],
    ['sgDefault', 'server group default (99%)', { sg: 'default' }, (z) => (Number(z.name.slice(1, 8)) % 100) !== 2],
    ['deleted', 'state: which=deleted (2%)', { which: 'deleted' }, (z) => z.state === 'DELETED'],
    ['stateDisabled', 'state DISABLED (0.5%)', { state: 'DISABLED' }, (z) => z.state === 'DISABLED'],
    ['stateDisabledMid', `state DISABLED after ${name(mid)}`, { state: 'DISABLED', after: name(mid) }, (z) => z.state === 'DISABLED' && z.name > name(mid)],
    ['statePublished', 'state PUBLISHED (97.5%)', { state: 'PUBLISHED' }, (z) => z.state === 'PUBLISHED'],
    ['stateSeveral', 'states DISABLED + DELETED (2.5%)', { state: ['DISABLED', 'DELETED'] }, (z) => z.state === 'DISABLED' || z.state === 'DELETED'],
  ];
}

/** How many zones a filter selects (a page holds min(that, 1,000)). */
function expected(key, zones) {
  const mid = Math.floor(zones / 2);
  const live = (pred) => {
    let n = 0;
    for (let i = 0; i < zones; i++) if (pred(i) && i % 50 !== 5) n++;
    return n;
  };
  const all = {
    first: zones,
    middle: zones,
    last: live((i) => i >= zones - PAGE),
    patternPrefix: live((i) => name(i).startsWith(PREFIX)),
    patternNoPrefix: live((i) => i % 10 === 7),
    refDense: live((i) => i % 10 === 1 && i % 1000 !== 7),
    refRare: live((i) => i % 1000 === 7),
    sectagDense: live((i) => i % 20 === 3),
    sectagRare: live((i) => i % 1000 === 9),
    sg: live((i) => i % 100 === 2),
    sgDefault: zones,
    deleted: Math.floor((zones - 6) / 50) + 1,
    stateDisabled: live((i) => i % 200 === 6),
    stateDisabledMid: live((i) => i % 200 === 6 && i > mid),
    statePublished: live((i) => i % 200 !== 6),
    stateSeveral: zones,
  };
  return Math.min(PAGE, all[key]);
}

function check(label, rows, want, pred) {
  if (rows.length !== want) throw new Error(`${label}: ${rows.length} zones, expected ${want}`);
  const bad = rows.find((z) => !pred(z));
  if (bad) throw new Error(`${label}: ${JSON.stringify(bad)} does not fit the filter`);
}

async function startDms(dataDir) {
  const zt = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), '--data', dataDir, 'create_api_account', '-P', ADMIN.login, 'admin'], {
    input: `${ADMIN.password}\n`,
    encoding: 'utf8',
    env: zoneToolEnv(),
  });
  if (zt.status !== 0 && !/exists/i.test(zt.stdout + zt.stderr)) throw new Error(`zone_tool create_api_account failed:\n${zt.stdout}${zt.stderr}`);
  const { spawnLogged } = await testHelper('servers');
  const t0 = Date.now();
  // A million served zones need more than V8's default heap limit.
  const d = spawnLogged(process.execPath, ['--max-old-space-size=16000', join(ROOT, 'dist', 'daemon', 'main.js'), '--data', dataDir, '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0', '--health-interval', '0'], {
    cwd: ROOT,
    killAfterMs: 5000,
    maxOutput: 1 << 20,
  });
  const port = await new Promise((res, rej) => {
    let buf = '';
    d.proc.stdout.on('data', (b) => {
      buf += b.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line);
          if (j.msg === 'listening' && j.proto === 'http') res(j.port);
        } catch {
          // not JSON
        }
      }
    });
    d.proc.once('exit', (c) => rej(new Error(`dmsd exited (${c}):\n${d.output().slice(-3000)}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (d.proc.exitCode !== null) throw new Error(`dmsd exited:\n${d.output().slice(-3000)}`);
    const r = await fetch(`${base}/health`).catch(() => undefined);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) break;
    if (Date.now() - t0 > 1_200_000) throw new Error('dmsd /health not 200 after 1,200 s');
    await sleep(500);
  }
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const auth = `Basic ${Buffer.from(`${ADMIN.login}:${ADMIN.password}`).toString('base64')}`;
  let id = 0;
  const call = async (method, params) => {
    const t = process.hrtime.bigint();
    const r = await fetch(`${base}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const body = await r.text();
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const j = JSON.parse(body);
    if (r.status !== 200 || !('result' in j)) throw new Error(`${method}: HTTP ${r.status} ${body.slice(0, 500)}`);
    return { ms, result: j.result };
  };
  return { readyMs: Date.now() - t0, rssBytes: rss, call, stop: d.stop };
}

/** One-shot zone_tool run: wall ms from spawn to exit, and its stdout. */
function runCli(args) {
  return new Promise((res, rej) => {
    const t = process.hrtime.bigint();
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'zone_tool'), ...args], { env: zoneToolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0) rej(new Error(`zone_tool ${args.join(' ')} (${code}): ${err.slice(-2000)}`));
      else res({ ms, out });
    });
  });
}

// ---- run --------------------------------------------------------------------------------------------------------------

const work = reuse ? undefined : mkdtempSync(join(tmpdir(), 'dms-bench-list-1m-'));
const dataDir = reuse ?? join(work, 'data');
const results = { date: new Date().toISOString(), zones: ZONES, seed: SEED, pageSize: PAGE, requests: REQUESTS, loadAverageAtStart: loadAverage(), node: process.version };
log(`bench/list-1m: ${fmt(ZONES)} zones; load average ${results.loadAverageAtStart}`);
let dms;
try {
  if (!reuse) {
    mkdirSync(dataDir);
    results.fill = await fill(dataDir);
    log(`  filled: ${JSON.stringify(results.fill)}`);
  } else if (!existsSync(join(dataDir, 'dms.sqlite'))) throw new Error(`${dataDir}/dms.sqlite missing`);
  results.databaseBytes = statSync(join(dataDir, 'dms.sqlite')).size;
  const P = pages(ZONES);

  // In-process service calls (one store, as a panel's backend would hold it).
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const inproc = {};
  try {
    const ctx = api.serviceContext(store, { actor: 'bench@list-1m/Admin' });
    for (const [key, label, rpcParams, pred] of P) {
      // The service functions take the states as a list (list_zone also takes one).
      const { state, ...rest } = rpcParams;
      const params = state === undefined ? rest : { ...rest, states: [state].flat() };
      const want = expected(key, ZONES);
      const briefs = [];
      const full = [];
      for (let k = 0; k < REQUESTS; k++) {
        let t = process.hrtime.bigint();
        const b = await api.listZoneBriefs(ctx, { ...params, limit: PAGE });
        briefs.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (k === 0) check(`listZoneBriefs ${label}`, b, want, pred);
        t = process.hrtime.bigint();
        const f = await api.listZones(ctx, { ...params, limit: PAGE });
        full.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (k === 0) check(`listZones ${label}`, f, want, pred);
      }
      inproc[key] = { label, briefs: stats(briefs), detail: stats(full) };
    }
    // A customer's listing: the tenancy filter (zoneVisible) is the sectag filter again.
    for (const [key, tag, mod, rest] of [
      ['customerDense', 'tenant-dense', 20, 3],
      ['customerRare', 'tenant-rare', 1000, 9],
    ]) {
      const cust = api.serviceContext(store, { actor: `bench@list-1m/${tag}`, tenant: { tier: 'customer', sectag: tag } });
      const custMs = [];
      for (let k = 0; k < REQUESTS; k++) {
        const t = process.hrtime.bigint();
        const b = await api.listZoneBriefs(cust, { limit: PAGE });
        custMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (k === 0) check(`customer ${tag} first page`, b, expected(key === 'customerDense' ? 'sectagDense' : 'sectagRare', ZONES), (z) => Number(z.name.slice(1, 8)) % mod === rest);
      }
      inproc[key] = { label: `customer (${tag}) first page`, briefs: stats(custMs) };
    }
  } finally {
    await store.close();
  }
  results.inProcess = inproc;

  // zone_tool ls one-shot.
  const cli = [];
  for (let k = 0; k < CLI_RUNS; k++) {
    const r = await runCli(['--data', dataDir, 'ls', `${LS_PREFIX}*`]);
    const lines = r.out.trim().split('\n');
    // 1,000 names, less the deleted ones (n%50==5: 20 of them).
    if (lines.length !== PAGE - 20 || !lines.every((l) => l.startsWith(LS_PREFIX))) throw new Error(`zone_tool ls ${LS_PREFIX}*: ${lines.length} lines: ${lines.slice(0, 3)}`);
    cli.push(r.ms);
  }
  results.zoneToolLs = { command: `zone_tool --data DIR ls '${LS_PREFIX}*'`, zonesListed: PAGE - 20, ...stats(cli) };

  // dmsd JSON-RPC.
  log('  starting dmsd (it loads every published zone before the API listens)…');
  dms = await startDms(dataDir);
  results.dmsd = { readyMs: dms.readyMs, rssBytes: dms.rssBytes };
  log(`  dmsd ready in ${fmt(dms.readyMs / 1000, 1)} s, RSS ${fmt(dms.rssBytes / 1048576)} MiB`);
  const http = {};
  for (const [key, label, params, pred] of P) {
    const want = expected(key, ZONES);
    const ms = [];
    for (let k = 0; k < REQUESTS; k++) {
      const r = await dms.call('list_zone', { ...params, limit: PAGE });
      if (k === 0) check(`list_zone ${label}`, r.result, want, pred);
      ms.push(r.ms);
    }
    http[key] = { label, ...stats(ms) };
  }
  results.jsonRpc = http;
  results.loadAverageAtEnd = loadAverage();

  const cell = (s) => (s ? `${fmt(s.medianMs, 1).padStart(7)} ${fmt(s.p90Ms, 1).padStart(7)}` : ' '.repeat(15));
  log(`\n${fmt(ZONES)} zones, pages of ${fmt(PAGE)}; median / p90 ms over ${REQUESTS} requests (load ${results.loadAverageAtStart} → ${results.loadAverageAtEnd})`);
  log(`${'page'.padEnd(40)} ${'JSON-RPC'.padStart(15)} ${'listZoneBriefs'.padStart(15)} ${'listZones'.padStart(15)}  < 50 ms`);
  for (const [key, label] of P) {
    const ok = http[key].medianMs < 50 ? 'met' : 'NOT met';
    log(`${label.padEnd(40)} ${cell(http[key])} ${cell(inproc[key].briefs)} ${cell(inproc[key].detail)}  ${ok}`);
  }
  for (const key of ['customerDense', 'customerRare']) log(`${inproc[key].label.padEnd(40)} ${' '.repeat(15)} ${cell(inproc[key].briefs)}`);
  log(`zone_tool ls '${LS_PREFIX}*' (${PAGE - 20} zones, one-shot process): median ${fmt(results.zoneToolLs.medianMs, 0)} ms, p90 ${fmt(results.zoneToolLs.p90Ms, 0)} ms`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'list-1m.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await dms?.stop();
  if (work && !keep) rmSync(work, { recursive: true, force: true });
  else if (work) log(`  kept ${dataDir}`);
}
