// The JSON-RPC API (issue 16) beside PowerDNS Authoritative's HTTP API, on the same zones, in the same run, with the
// same HTTP client (Node's fetch = undici, keep-alive). For each size (--zones, default 10,000 and 100,000 zones of
// --records records, default 20: SOA, NS, glue, A/AAAA/MX/TXT):
//   - dmsd --data DIR --http 127.0.0.1:0 on a fresh SQLite store filled in this process (services.loadZones, not
//     measured), with an admin API account made by zone_tool create_api_account (HTTP Basic, as a panel calls it);
//   - pdns_server (Debian pdns-server + pdns-backend-sqlite3) on unprivileged ports with its own configuration
//     directory, api=yes, on a fresh gsqlite3 database made from the schema the package ships and filled with SQL
//     inserts in the rows pdnsutil load-zone writes (not measured), SOA-EDIT-API=DEFAULT on every zone as on the
//     zones its API creates (so a PATCH bumps the serial, as update_rrs does). Both SQLite databases in WAL mode
//     with synchronous=FULL (DMS's setting; set explicitly for PowerDNS).
// Measured, one request at a time, DMS and PowerDNS requests interleaved (a slow spell of the shared machine hits
// both alike), --requests requests each (default 200; at most --seconds seconds per operation and server, at least
// 10 requests): the time from sending the request until the whole body is received (parsing by the client is not
// counted); requests/s = requests / the sum of their times (a sequential client):
//   list    DMS list_zone, first page of 1,000; PowerDNS GET /zones (no paging: its whole list)
//   last    DMS list_zone, the last page (cursor: the last name of the page before), so paging cost can be seen not
//           to grow with the position in the list
//   walk    DMS every page of 1,000 by cursor (the whole list, as PowerDNS's list gives it) — a few times
//   show    DMS show_zone (zone-file text), PowerDNS GET /zones/{zone} (JSON with its RRsets), random loaded zones
//   create  DMS create_zone with the zone text, PowerDNS POST /zones with the same records as RRsets
//   replace DMS update_rrs replacing one A RRset, PowerDNS PATCH /zones/{zone} with changetype REPLACE
// After the runs both servers are asked for a created zone and a replaced RRset (the results are checked, not just
// the HTTP status). Writes bench/out/api.json.
//
//   node bench/api.mjs [--zones 10000,100000] [--quick] [--records 20] [--requests 200] [--seconds 60] [--keep]
//   (after npm run build; --quick = --zones 1000)

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { freePort, have, ROOT, sleep, startDmsdApi, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SIZES = argv.includes('--quick')
  ? [1000]
  : String(argOf('--zones', '10000,100000'))
      .split(',')
      .map(Number);
const RECORDS = Number(argOf('--records', 20));
const REQUESTS = Number(argOf('--requests', 200));
const SECONDS = Number(argOf('--seconds', 60));
const PAGE = 1000;
const keep = argv.includes('--keep');
const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const ADMIN = { login: 'benchadmin', password: 'bench-admin-password-1' };
const PDNS_KEY = 'bench-pdns-api-key';
const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

for (const p of ['pdns_server', 'pdnsutil']) if (!have(p)) throw new Error(`${p} missing: apt-get install pdns-server pdns-backend-sqlite3`);

const zoneName = (i) => `z${String(i).padStart(6, '0')}.api.test`;
const newZoneName = (k) => `new${String(k).padStart(5, '0')}.created.test`;

/**
 * The records of zone `name` (number i) as [owner relative to the zone or '@', type, rdata in master-file form with
 * relative names], RECORDS of them: SOA, two NS with glue, then A, AAAA, MX, TXT in turn.
 */
function zoneRecords(i) {
  const rs = [
    ['@', 'SOA', 'ns1 hostmaster 1 3600 900 604800 300'],
    ['@', 'NS', 'ns1'],
    ['@', 'NS', 'ns2'],
    ['ns1', 'A', '192.0.2.1'],
    ['ns2', 'A', '192.0.2.2'],
  ];
  for (let k = 0; rs.length < RECORDS; k++) {
    const t = k % 4;
    if (t === 0) rs.push([`h${k}`, 'A', `10.${(i >> 8) & 255}.${i & 255}.${k & 255}`]);
    else if (t === 1) rs.push([`h${k - 1}`, 'AAAA', `2001:db8:${(i & 0xffff).toString(16)}::${k.toString(16)}`]);
    else if (t === 2) rs.push(['@', 'MX', `${k} ns1`]);
    else rs.push([`h${k}`, 'TXT', `"zone ${i} record ${k}"`]);
  }
  return rs;
}
const TTL = 3600;
const zoneText = (i) => `$TTL ${TTL}\n${zoneRecords(i).map((r) => r.join(' ')).join('\n')}\n`;
const abs = (rel, zone) => (rel === '@' ? zone : `${rel}.${zone}`);
/** rdata with its names made absolute (no trailing dot: PowerDNS's SQL form; the API form adds one). */
function absRdata(type, rdata, zone) {
  if (type === 'SOA') {
    const [m, r, ...rest] = rdata.split(' ');
    return [abs(m, zone), abs(r, zone), ...rest].join(' ');
  }
  if (type === 'NS') return abs(rdata, zone);
  if (type === 'MX') {
    const [pref, host] = rdata.split(' ');
    return `${pref} ${abs(host, zone)}`;
  }
  return rdata;
}
/** The zone's RRsets in PowerDNS API form (absolute names with the trailing dot). */
function pdnsRrsets(i, zone) {
  const sets = new Map();
  const dot = (n) => `${n}.`;
  for (const [owner, type, rdata] of zoneRecords(i)) {
    const name = dot(abs(owner, zone));
    const key = `${name} ${type}`;
    if (!sets.has(key)) sets.set(key, { name, type, ttl: TTL, records: [] });
    let content = absRdata(type, rdata, zone);
    if (type === 'SOA') content = content.replace(/^(\S+) (\S+)/, '$1. $2.');
    else if (type === 'NS') content = dot(content);
    else if (type === 'MX') content = content.replace(/ (\S+)$/, ' $1.');
    sets.get(key).records.push({ content, disabled: false });
  }
  return [...sets.values()];
}

// --- measurement ---------------------------------------------------------------------------------------------------

/** One request with the shared client; resolves with ms until the whole body arrived, the status and the body. */
async function timed(url, init) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(url, init);
  const body = await r.text();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, status: r.status, body };
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const sum = s.reduce((a, b) => a + b, 0);
  return { requests: s.length, medianMs: q(0.5), p90Ms: q(0.9), meanMs: sum / s.length, requestsPerSecond: s.length / (sum / 1000) };
}

/**
 * Runs `sides` (label → (k) => Promise<ms>) interleaved, REQUESTS rounds, stopping a side after SECONDS (at least
 * 10 requests) — PowerDNS's whole list at 100,000 zones is slow.
 */
async function interleaved(sides) {
  const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  const spent = Object.fromEntries(Object.keys(sides).map((k) => [k, 0]));
  for (let k = 0; k < REQUESTS; k++) {
    let any = false;
    for (const [label, fn] of Object.entries(sides)) {
      if (times[label].length >= 10 && spent[label] > SECONDS * 1000) continue;
      const ms = await fn(k);
      times[label].push(ms);
      spent[label] += ms;
      any = true;
    }
    if (!any) break;
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)]));
}

// --- DMS -----------------------------------------------------------------------------------------------------------

/** zone_tool's environment: the store named by --data only. */
async function startDms(work, zones) {
  const dataDir = join(work, 'dms');
  mkdirSync(dataDir);
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const t0 = Date.now();
  try {
    function* items() {
      for (let i = 0; i < zones; i++) yield { name: zoneName(i), text: zoneText(i) };
    }
    const rs = await api.loadZones(api.serviceContext(store, { actor: 'bench@api/Admin' }), items(), { replace: false });
    const failed = rs.filter((r) => r.action !== 'created');
    if (failed.length > 0) throw new Error(`${failed.length} zones not created: ${failed[0].error?.message}`);
  } finally {
    await store.close();
  }
  const loadMs = Date.now() - t0;
  // Measured once the served zone table is current (/health 200): dmsd's start-up building it is not API work.
  const t1 = Date.now();
  const { d, base, auth } = await startDmsdApi({ dataDir, login: ADMIN.login, password: ADMIN.password, actor: 'bench@api/Admin' });
  let id = 0;
  /** One JSON-RPC call: { ms, result } (throws on an HTTP or JSON-RPC error). */
  const call = async (method, params) => {
    const r = await timed(`${base}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const j = JSON.parse(r.body);
    if (r.status !== 200 || !('result' in j)) throw new Error(`DMS ${method}: HTTP ${r.status} ${r.body.slice(0, 500)}`);
    return { ms: r.ms, result: j.result };
  };
  return { label: 'DMS', loadMs, readyMs: Date.now() - t1, call, stop: d.stop, output: d.output };
}

// --- PowerDNS ------------------------------------------------------------------------------------------------------

async function startPdns(work, zones) {
  const dir = join(work, 'pdns');
  mkdirSync(dir);
  const dbFile = join(dir, 'pdns.sqlite3');
  const t0 = Date.now();
  const db = new Database(dbFile);
  db.exec(readFileSync(SCHEMA, 'utf8'));
  db.pragma('journal_mode = WAL');
  // The rows pdnsutil load-zone writes (checked against it once by hand): names and name rdata without the trailing
  // dot, MX preference in prio, NATIVE zones, no ordername (no DNSSEC).
  const insDomain = db.prepare("insert into domains (id, name, type, account) values (?, ?, 'NATIVE', '')");
  const insMeta = db.prepare("insert into domainmetadata (domain_id, kind, content) values (?, 'SOA-EDIT-API', 'DEFAULT')");
  const insRec = db.prepare('insert into records (domain_id, name, type, content, ttl, prio, disabled, auth) values (?, ?, ?, ?, ?, ?, 0, 1)');
  db.transaction(() => {
    for (let i = 0; i < zones; i++) {
      const zone = zoneName(i);
      const id = i + 1;
      insDomain.run(id, zone);
      insMeta.run(id);
      for (const [owner, type, rdata] of zoneRecords(i)) {
        let content = absRdata(type, rdata, zone);
        let prio = 0;
        if (type === 'MX') {
          const [p, host] = content.split(' ');
          prio = Number(p);
          content = host;
        }
        insRec.run(id, abs(owner, zone), type, content, TTL, prio);
      }
    }
  })();
  db.close();
  const loadMs = Date.now() - t0;
  const [webPort, dnsPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'pdns.conf'),
    [
      'launch=gsqlite3',
      `gsqlite3-database=${dbFile}`,
      'gsqlite3-pragma-journal-mode=WAL',
      'gsqlite3-pragma-synchronous=2',
      'api=yes',
      `api-key=${PDNS_KEY}`,
      'webserver=yes',
      'webserver-address=127.0.0.1',
      `webserver-port=${webPort}`,
      'webserver-allow-from=127.0.0.1',
      'local-address=127.0.0.1',
      `local-port=${dnsPort}`,
      `socket-dir=${dir}`,
      'guardian=no',
      'daemon=no',
      'disable-syslog=yes',
      'loglevel=4',
      '',
    ].join('\n'),
  );
  const { spawnLogged } = await testHelper('servers');
  const t1 = Date.now();
  const p = spawnLogged('pdns_server', [`--config-dir=${dir}`], { dir, killAfterMs: 5000, maxOutput: 1 << 20 });
  const base = `http://127.0.0.1:${webPort}/api/v1/servers/localhost`;
  const headers = { 'x-api-key': PDNS_KEY };
  for (;;) {
    if (p.proc.exitCode !== null) throw new Error(`pdns_server exited:\n${p.output()}`);
    const r = await fetch(base, { headers }).catch(() => undefined);
    if (r) await r.arrayBuffer();
    if (r?.status === 200) break;
    if (Date.now() - t1 > 120_000) throw new Error(`pdns_server API not up after 120 s:\n${p.output()}`);
    await sleep(100);
  }
  /** One API request: { ms, status, body } (throws unless the status is the expected one). */
  const req = async (method, path, expect, payload) => {
    const r = await timed(`${base}${path}`, {
      method,
      headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { body: JSON.stringify(payload) } : {}),
    });
    if (r.status !== expect) throw new Error(`PowerDNS ${method} ${path}: HTTP ${r.status} ${r.body.slice(0, 500)}`);
    return r;
  };
  return { label: 'PowerDNS', loadMs, readyMs: Date.now() - t1, req, stop: p.stop, output: p.output };
}

// --- one size ------------------------------------------------------------------------------------------------------

/** A fixed pseudo-random sequence (the same zones asked of both servers). */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

async function runSize(zones) {
  const work = mkdtempSync(join(tmpdir(), 'dms-bench-api-'));
  const out = { zones, recordsPerZone: RECORDS, loadAverageAtStart: loadAverage() };
  log(`\nbench/api: ${fmt(zones)} zones of ${RECORDS} records; load average ${out.loadAverageAtStart}`);
  let dms;
  let pdns;
  try {
    dms = await startDms(work, zones);
    log(`  DMS: store filled in ${fmt(dms.loadMs / 1000, 1)} s (services.loadZones, not measured); dmsd healthy after ${fmt(dms.readyMs / 1000, 1)} s`);
    pdns = await startPdns(work, zones);
    log(`  PowerDNS: database filled in ${fmt(pdns.loadMs / 1000, 1)} s (SQL inserts, not measured); API up after ${fmt(pdns.readyMs / 1000, 1)} s`);
    const ops = {};

    // Warm-up: a few of each read on both (connections open, statements prepared).
    for (let k = 0; k < 5; k++) {
      await dms.call('list_zone', { limit: PAGE });
      await dms.call('show_zone', { zone: zoneName(k) });
      await pdns.req('GET', `/zones/${zoneName(k)}.`, 200);
    }
    await pdns.req('GET', '/zones', 200);

    // The whole list, both ways: PowerDNS in one request, DMS by walking pages (which also finds the last page).
    const firstPage = (await dms.call('list_zone', { limit: PAGE })).result;
    if (firstPage.length !== Math.min(PAGE, zones)) throw new Error(`DMS first page has ${firstPage.length} zones`);
    const walk = async () => {
      const t0 = process.hrtime.bigint();
      let after;
      let n = 0;
      let lastCursor;
      for (;;) {
        const page = (await dms.call('list_zone', { limit: PAGE, ...(after ? { after } : {}) })).result;
        n += page.length;
        if (page.length < PAGE) break;
        lastCursor = after;
        after = page[page.length - 1].name ?? page[page.length - 1].zone;
        if (after === undefined) throw new Error(`a list_zone entry without a name: ${JSON.stringify(page[0])}`);
      }
      // A page shorter than PAGE ended the walk; when the count is a multiple of PAGE the last full page was followed
      // by an empty one, and the cursor for the last page is the one before.
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, n, lastAfter: zones % PAGE === 0 ? lastCursor : after };
    };
    const w0 = await walk();
    if (w0.n !== zones) throw new Error(`DMS walk listed ${w0.n} zones, not ${zones}`);
    const pdnsList = JSON.parse((await pdns.req('GET', '/zones', 200)).body);
    if (pdnsList.length !== zones) throw new Error(`PowerDNS listed ${pdnsList.length} zones, not ${zones}`);
    const lastAfter = w0.lastAfter;
    const lastPage = (await dms.call('list_zone', { limit: PAGE, ...(lastAfter ? { after: lastAfter } : {}) })).result;
    const lastName = (e) => e.name ?? e.zone;
    if (lastName(lastPage[lastPage.length - 1]).replace(/\.$/, '') !== zoneName(zones - 1))
      throw new Error(`DMS last page ends with ${JSON.stringify(lastPage[lastPage.length - 1])}, not ${zoneName(zones - 1)}`);

    log('  measuring list (DMS first page of 1,000 / PowerDNS whole list) …');
    ops.list = await interleaved({
      DMS: async () => (await dms.call('list_zone', { limit: PAGE })).ms,
      PowerDNS: async () => (await pdns.req('GET', '/zones', 200)).ms,
    });
    log('  measuring DMS last page and whole walk …');
    ops.lastPage = await interleaved({ DMS: async () => (await dms.call('list_zone', { limit: PAGE, ...(lastAfter ? { after: lastAfter } : {}) })).ms });
    const walks = [];
    for (let k = 0; k < 5; k++) walks.push((await walk()).ms);
    ops.walk = { DMS: { ...stats(walks), pages: Math.ceil(zones / PAGE) } };

    log('  measuring show …');
    {
      const rd = rng(zones * 7 + 1);
      const pick = Array.from({ length: REQUESTS }, () => Math.floor(rd() * zones));
      ops.show = await interleaved({
        DMS: async (k) => (await dms.call('show_zone', { zone: zoneName(pick[k]) })).ms,
        PowerDNS: async (k) => (await pdns.req('GET', `/zones/${zoneName(pick[k])}.`, 200)).ms,
      });
    }
    log('  measuring create …');
    ops.create = await interleaved({
      DMS: async (k) => (await dms.call('create_zone', { zone: newZoneName(k), text: zoneText(zones + k) })).ms,
      PowerDNS: async (k) =>
        (await pdns.req('POST', '/zones', 201, { name: `${newZoneName(k)}.`, kind: 'Native', nameservers: [], rrsets: pdnsRrsets(zones + k, newZoneName(k)) })).ms,
    });
    log('  measuring replace …');
    const replaced = [];
    {
      const rd = rng(zones * 13 + 5);
      const pick = Array.from({ length: REQUESTS }, () => Math.floor(rd() * zones));
      const addr = (k) => `198.51.100.${k % 250}`;
      ops.replace = await interleaved({
        DMS: async (k) => {
          replaced[k] = pick[k];
          return (await dms.call('update_rrs', { zone: zoneName(pick[k]), records: [{ action: 'replace', name: 'h0', type: 'A', ttl: TTL, rdata: addr(k) }] })).ms;
        },
        PowerDNS: async (k) =>
          (
            await pdns.req('PATCH', `/zones/${zoneName(pick[k])}.`, 204, {
              rrsets: [{ name: `h0.${zoneName(pick[k])}.`, type: 'A', ttl: TTL, changetype: 'REPLACE', records: [{ content: addr(k), disabled: false }] }],
            })
          ).ms,
      });
      // The changes are there on both (the last one made to a zone wins; checked on the last request's zone).
      const k = ops.replace.PowerDNS.requests - 1;
      const kd = ops.replace.DMS.requests - 1;
      const lastFor = (n, z) => {
        for (let j = n; j >= 0; j--) if (pick[j] === z) return j;
      };
      const zDms = zoneName(pick[kd]);
      const text = (await dms.call('show_zone', { zone: zDms })).result.text;
      const want = addr(lastFor(kd, pick[kd]));
      if (!new RegExp(`^h0(\\.${zDms.replace(/\./g, '\\.')}\\.)?\\s.*\\bA\\s+${want.replace(/\./g, '\\.')}\\s*$`, 'm').test(text))
        throw new Error(`DMS ${zDms}: h0 A ${want} not in\n${text}`);
      const zP = zoneName(pick[k]);
      const j = JSON.parse((await pdns.req('GET', `/zones/${zP}.`, 200)).body);
      const set = j.rrsets.find((s) => s.name === `h0.${zP}.` && s.type === 'A');
      const wantP = addr(lastFor(k, pick[k]));
      if (set?.records.length !== 1 || set.records[0].content !== wantP) throw new Error(`PowerDNS ${zP}: h0 A is ${JSON.stringify(set)}, not ${wantP}`);
      const soa = j.rrsets.find((s) => s.type === 'SOA').records[0].content.split(' ')[2];
      if (Number(soa) <= 1) throw new Error(`PowerDNS ${zP}: serial ${soa} not bumped by the PATCH`);
    }
    // The created zones are there on both, with their records.
    {
      const z = newZoneName(ops.create.DMS.requests - 1);
      const t = (await dms.call('show_zone', { zone: z })).result.text;
      if (!/\bTXT\b/.test(t) || !/\bMX\b/.test(t)) throw new Error(`DMS created ${z} lacks its records:\n${t}`);
      const zp = newZoneName(ops.create.PowerDNS.requests - 1);
      const j = JSON.parse((await pdns.req('GET', `/zones/${zp}.`, 200)).body);
      const n = j.rrsets.reduce((a, s) => a + s.records.length, 0);
      if (n !== RECORDS) throw new Error(`PowerDNS created ${zp} has ${n} records, not ${RECORDS}`);
    }
    out.operations = ops;
    out.loadAverageAtEnd = loadAverage();
    out.pdnsListBytes = pdnsList.length > 0 ? JSON.stringify(pdnsList).length : 0;
    return out;
  } finally {
    await dms?.stop();
    await pdns?.stop();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else log(`  kept ${work}`);
  }
}

function table(res) {
  const rows = [
    ['list', 'list one page (DMS: 1,000 zones; PowerDNS: all, no paging)'],
    ['lastPage', 'DMS: last page of 1,000 (cursor)'],
    ['walk', 'DMS: every page (the whole list)'],
    ['show', 'show one zone'],
    ['create', 'create a zone'],
    ['replace', 'replace one RRset'],
  ];
  const cell = (s) => (s ? `${fmt(s.requestsPerSecond, 1).padStart(8)}/s ${fmt(s.medianMs, 2).padStart(8)} ${fmt(s.p90Ms, 2).padStart(8)}` : ' '.repeat(28));
  log(`\n${fmt(res.zones)} zones (load ${res.loadAverageAtStart} → ${res.loadAverageAtEnd})`);
  log(`${'operation'.padEnd(62)} ${'DMS req/s   median ms   p90 ms'.padEnd(32)} PowerDNS req/s  median ms   p90 ms`);
  for (const [k, label] of rows) {
    const o = res.operations[k];
    log(`${label.padEnd(62)} ${cell(o.DMS)}   ${cell(o.PowerDNS)}`);
  }
}

const results = { date: new Date().toISOString(), requests: REQUESTS, secondsCap: SECONDS, pageSize: PAGE, client: `Node.js ${process.version} fetch (undici), keep-alive, one request at a time`, runs: [] };
results.pdnsVersion = spawnSync('pdns_server', ['--version'], { encoding: 'utf8' }).stderr.split('\n').find((l) => /PowerDNS/.test(l))?.replace(/^.*?PowerDNS/, 'PowerDNS');
for (const n of SIZES) {
  const r = await runSize(n);
  results.runs.push(r);
  table(r);
  const lp = r.operations.lastPage.DMS.medianMs;
  log(`  DMS last page median ${fmt(lp, 2)} ms vs first page ${fmt(r.operations.list.DMS.medianMs, 2)} ms; target < 50 ms: ${lp < 50 ? 'met' : 'NOT met'}`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'api.json'), `${JSON.stringify(results, null, 2)}\n`);
}
