// Server groups end to end (issue 11): BIND, Knot and NSD secondaries on loopback ports configured ONLY from DMS's
// output — their main configuration sets ports and directories and includes the file dmsd wrote (reconfig, with the
// real checker first). A zone created with zone_tool reaches all three without touching them (BIND and Knot through
// the group's RFC 9432 catalog zone, NSD through its regenerated configuration and reload command); a change arrives
// by IXFR; a deleted zone goes away. A broken checker result keeps the last good file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serviceContext } from '../../src/services/context.js';
import { call } from '../../src/services/operations/index.js';
import { reconfigServer } from '../../src/services/server-config/publish.js';
import { openStore } from '../../src/store/index.js';
import { dig, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { until, logged } from '../helpers/secondaries.js';
import { freePort, haveProgram, knotServerConf, type LoggedProcess, namedOptions, spawnLogged } from '../helpers/servers.js';

for (const p of ['named', 'knotd', 'nsd', 'nsd-control', 'named-checkconf', 'knotc', 'nsd-checkconf', 'dig', 'curl'])
  if (!haveProgram(p)) throw new Error(`${p} is not installed: apt-get install bind9 knot nsd dnsutils curl`);

const zoneText = (www: string) =>
  `$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\nns1 A 192.0.2.1\nwww A ${www}\n${Array.from({ length: 20 }, (_, i) => `h${i} TXT "filler ${i}"\n`).join('')}`;

const short = (port: number, name: string, type: string) => dig(port, [name, type, '+short', '+norec']).trim();
/** The serial a secondary answers authoritatively for, or undefined. */
const serialAt = (port: number, zone: string) => servedSerial(port, zone);

describe('BIND, Knot and NSD secondaries configured only from DMS output', () => {
  let data: string;
  let dmsd: Server;
  let dmsdPort: number;
  let httpPort: number;
  const dirs: Record<'bind' | 'knot' | 'nsd', string> = { bind: '', knot: '', nsd: '' };
  const ports = { bind: 0, knot: 0, nsd: 0 };
  const procs: LoggedProcess[] = [];
  let named: LoggedProcess;
  let knot: LoggedProcess;
  let nsd: LoggedProcess;
  const store = () => sqliteArgs(data);
  const all = () => `${named?.output() ?? ''}\n---knot\n${knot?.output() ?? ''}\n---nsd\n${nsd?.output() ?? ''}\n---dmsd\n${dmsd?.output() ?? ''}`;

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-sg-'));
    for (const k of ['bind', 'knot', 'nsd'] as const) {
      dirs[k] = join(data, k);
      mkdirSync(dirs[k]);
      ports[k] = await freePort();
    }
    dmsdPort = await freePort();
    zoneToolOk(store(), ['generate_tsig_key', 'xfr.sg1']);
    zoneToolOk(store(), ['create_sg', 'sg1', 'none', `127.0.0.1#${dmsdPort}`]);
    zoneToolOk(store(), ['add_transfer_rule', '-g', 'sg1', 'key=xfr.sg1']);
    // zone_tool sets apex NS through an editor (edit_apex_ns); the operation is the same one.
    const s = await openStore({ dataDir: data });
    await call(serviceContext(s), 'set_sg_apex_ns', { sg: 'sg1', apexNs: ['ns1.example.org.'] });
    await s.close();
    zoneToolOk(store(), ['set_sg_config', 'sg1', 'xfr_key=xfr.sg1']);
    zoneToolOk(store(), ['create_server', '-g', 'sg1', 'bind1', `127.0.0.1#${ports.bind}`, 'bind9']);
    zoneToolOk(store(), ['create_server', '-g', 'sg1', 'knot1', `127.0.0.1#${ports.knot}`, 'knot']);
    zoneToolOk(store(), ['create_server', '-g', 'sg1', 'nsd1', `127.0.0.1#${ports.nsd}`, 'nsd']);
    // NSD re-reads its configuration through nsd-control on a local socket.
    const nsdCtl = join(dirs.nsd, 'ctl.sock');
    zoneToolOk(store(), ['set_server_config', 'bind1', `dir=${dirs.bind}`]);
    // Knot's templates would otherwise keep zone files in the compiled-in /var/lib/knot.
    zoneToolOk(store(), ['set_server_config', 'knot1', `dir=${dirs.knot}`, `zone_dir=${dirs.knot}`]);
    zoneToolOk(store(), ['set_server_config', 'nsd1', `dir=${dirs.nsd}`, `reload=nsd-control -c ${join(dirs.nsd, 'nsd.conf')} reconfig`]);
    writeFileSync(join(data, 'first.txt'), zoneText('192.0.2.10'));
    zoneToolOk(store(), ['load_zone', '-g', 'sg1', join(data, 'first.txt'), 'first.example']);
    httpPort = await freePort();
    // Checks every second (ServerSM), and the HTTP API for GET /health/<server>.
    dmsd = await startDmsdDb(store(), ['--listen', `127.0.0.1:${dmsdPort}`, '--health-interval', '1', '--http', `127.0.0.1:${httpPort}`]);
    procs.push(dmsd as unknown as LoggedProcess);
    // dmsd's first run makes the catalog and writes the three files.
    await until('dmsd wrote the three files', () => ['bind', 'knot', 'nsd'].every((k) => existsSync(join(dirs[k as 'bind'], `dms-${k}1.conf`))), () => dmsd.output(), 20000);
    assert.ok(existsSync(join(dirs.bind, 'dms-bind1-options.conf')));
    await waitFor(() => servedSerial(dmsdPort, 'sg1.catalog.invalid') !== undefined, 5000, 'catalog served');

    // The main configurations: ports, directories, one include line (two for BIND: options fragment and file).
    writeFileSync(
      join(dirs.bind, 'named.conf'),
      [...namedOptions(dirs.bind, ports.bind, [`include "${dirs.bind}/dms-bind1-options.conf";`]), `include "${dirs.bind}/dms-bind1.conf";`, ''].join('\n'),
    );
    writeFileSync(
      join(dirs.knot, 'knot.conf'),
      [...knotServerConf(dirs.knot, ports.knot), 'template:', '  - id: default', `    storage: "${dirs.knot}"`, `include: ${dirs.knot}/dms-knot1.conf`, ''].join('\n'),
    );
    writeFileSync(
      join(dirs.nsd, 'nsd.conf'),
      [
        'server:',
        `  ip-address: 127.0.0.1@${ports.nsd}`,
        `  zonesdir: "${dirs.nsd}"`,
        `  pidfile: "${dirs.nsd}/nsd.pid"`,
        `  database: ""`,
        `  xfrdfile: "${dirs.nsd}/xfrd.state"`,
        `  zonelistfile: "${dirs.nsd}/zone.list"`,
        '  username: ""',
        '  verbosity: 2',
        'remote-control:',
        '  control-enable: yes',
        `  control-interface: ${nsdCtl}`,
        `include: "${dirs.nsd}/dms-nsd1.conf"`,
        '',
      ].join('\n'),
    );
    named = spawnLogged('named', ['-g', '-c', join(dirs.bind, 'named.conf'), '-n', '1'], { cwd: dirs.bind });
    knot = spawnLogged('knotd', ['-c', join(dirs.knot, 'knot.conf')], { cwd: dirs.knot });
    nsd = spawnLogged('nsd', ['-d', '-c', join(dirs.nsd, 'nsd.conf')], { cwd: dirs.nsd });
  });

  after(async () => {
    // DMS_SG_DEBUG=FILE keeps every log (the peers' and dmsd's) for a failure's post-mortem.
    if (process.env.DMS_SG_DEBUG) writeFileSync(process.env.DMS_SG_DEBUG, all());
    await named?.stop();
    await knot?.stop();
    await nsd?.stop();
    await dmsd?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('the existing zone reaches all three (catalog for BIND and Knot, listed for NSD)', async () => {
    assert.match(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /name: "first\.example"/);
    assert.doesNotMatch(readFileSync(join(dirs.bind, 'dms-bind1.conf'), 'utf8'), /first\.example/);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k} serves first.example`, () => short(ports[k], 'www.first.example', 'A') === '192.0.2.10', all, 30000);
  });

  test('GET /config/<server>: an admin account pulls the file reconfig wrote (curl); ETag; other accounts refused', async () => {
    zoneToolOk(store(), ['create_api_account', '-P', 'cfgadmin', 'admin'], 'cfg-admin-pass\n');
    zoneToolOk(store(), ['create_api_account', '-P', 'cfghelp', 'helpdesk'], 'cfg-help-pass\n');
    const url = `http://127.0.0.1:${httpPort}/config`;
    const curl = (args: string[]) => spawnSync('curl', ['-sS', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
    const got = (args: string[]) => {
      const r = curl(args);
      const i = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
    };
    // The same bytes reconfig wrote: the NSD file, BIND's file and its options fragment, Knot's file.
    for (const [server, dir, file, part] of [
      ['nsd1', dirs.nsd, 'dms-nsd1.conf', ''],
      ['knot1', dirs.knot, 'dms-knot1.conf', ''],
      ['bind1', dirs.bind, 'dms-bind1.conf', ''],
      ['bind1', dirs.bind, 'dms-bind1-options.conf', '?part=options'],
    ] as const) {
      const r = got(['-u', 'cfgadmin:cfg-admin-pass', `${url}/${server}${part}`]);
      assert.equal(r.status, 200, `${server}${part}: ${r.body}`);
      assert.equal(r.body, readFileSync(join(dir, file), 'utf8'), `${server}${part}`);
    }
    // A bearer token of the admin account works too; ETag: unchanged → 304, so a pulling cron job skips the reload.
    const token = (JSON.parse(zoneToolOk(store(), ['--json', 'create_api_token', '--read-only', 'cfgadmin'])) as { token: string }).token;
    const head = await fetch(`${url}/nsd1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(head.status, 200);
    const etag = head.headers.get('etag') ?? '';
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    assert.equal(head.headers.get('x-dms-server-type'), 'nsd');
    assert.equal((await fetch(`${url}/nsd1`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } })).status, 304);
    // Refused: no credentials, a wrong password, a helpdesk account; 404 for an unknown server; 400 for a part the
    // type does not have.
    assert.equal(got([`${url}/nsd1`]).status, 401);
    assert.equal(got(['-u', 'cfgadmin:wrong', `${url}/nsd1`]).status, 401);
    assert.equal(got(['-u', 'cfghelp:cfg-help-pass', `${url}/nsd1`]).status, 403);
    assert.equal(got(['-u', 'cfgadmin:cfg-admin-pass', `${url}/nosuch`]).status, 404);
    assert.equal(got(['-u', 'cfgadmin:cfg-admin-pass', `${url}/knot1?part=options`]).status, 400);
    // The server's own pull token (create_server_token): its file only, and nothing else.
    const pull = (JSON.parse(zoneToolOk(store(), ['--json', 'create_server_token', 'nsd1'])) as { token: string }).token;
    const own = got(['-H', `Authorization: Bearer ${pull}`, `${url}/nsd1`]);
    assert.equal(own.status, 200, own.body);
    assert.equal(own.body, readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'));
    const other = got(['-H', `Authorization: Bearer ${pull}`, `${url}/bind1`]);
    assert.equal(other.status, 403);
    assert.match(other.body, /this token is server nsd1's, not bind1's/);
    assert.equal(got(['-H', `Authorization: Bearer ${pull}x`, `${url}/nsd1`]).status, 401);
    const rpc = await fetch(`http://127.0.0.1:${httpPort}/jsonrpc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pull}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'show_server_config', params: { server: 'nsd1' } }),
    });
    assert.equal(rpc.status, 401, 'a pull token is not an API token');
    // A new token replaces it.
    zoneToolOk(store(), ['create_server_token', 'nsd1']);
    assert.equal(got(['-H', `Authorization: Bearer ${pull}`, `${url}/nsd1`]).status, 401);
  });

  test('create_zone: all three serve it without touching them; a change arrives by IXFR; delete_zone removes it', async () => {
    const bindConf = readFileSync(join(dirs.bind, 'dms-bind1.conf'), 'utf8');
    const knotConf = readFileSync(join(dirs.knot, 'dms-knot1.conf'), 'utf8');
    writeFileSync(join(data, 'new.txt'), zoneText('192.0.2.20'));
    const t0 = Date.now();
    zoneToolOk(store(), ['load_zone', '-g', 'sg1', join(data, 'new.txt'), 'new.example']);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k} serves new.example`, () => short(ports[k], 'www.new.example', 'A') === '192.0.2.20', all, 30000);
    const took = Date.now() - t0;
    assert.ok(took < 20000, `took ${took} ms`);
    // BIND's and Knot's files did not change: the catalog brought the zone.
    assert.equal(readFileSync(join(dirs.bind, 'dms-bind1.conf'), 'utf8'), bindConf);
    assert.equal(readFileSync(join(dirs.knot, 'dms-knot1.conf'), 'utf8'), knotConf);
    assert.match(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /name: "new\.example"/);

    // A change: every secondary follows by IXFR.
    const before = servedSerial(dmsdPort, 'new.example') ?? 0;
    writeFileSync(join(data, 'new2.txt'), zoneText('192.0.2.21'));
    zoneToolOk(store(), ['load_zone_zi', join(data, 'new2.txt'), 'new.example']);
    await waitFor(() => (servedSerial(dmsdPort, 'new.example') ?? 0) > before, 5000, 'dmsd serves the change');
    const serial = servedSerial(dmsdPort, 'new.example');
    for (const k of ['bind', 'knot', 'nsd'] as const) await until(`${k} follows the change`, () => serialAt(ports[k], 'new.example') === serial, all, 30000);
    for (const k of ['bind', 'knot', 'nsd'] as const) assert.equal(short(ports[k], 'www.new.example', 'A'), '192.0.2.21', k);
    await until('IXFRs in the log of dmsd', () => dmsd.output().split('\n').filter((l) => l.includes('"kind":"ixfr"') && l.includes(`"clientSerial":${before}`)).length >= 3, all, 10000);

    // delete_zone: gone from all three.
    zoneToolOk(store(), ['delete_zone', 'new.example']);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k} no longer serves new.example`, () => !/flags:[^;]*\baa\b/.test(dig(ports[k], ['new.example', 'SOA', '+norec'])), all, 30000);
    assert.doesNotMatch(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /new\.example/);
  });

  test('check_server: exit 0 when in sync; non-zero with the lagging zones when not', async () => {
    for (const k of ['bind', 'knot', 'nsd'] as const) {
      const r = zoneTool(store(), ['--json', 'check_server', `${k}1`]);
      assert.equal(r.code, 0, `${k}: ${r.stdout}${r.stderr}`);
      const j = JSON.parse(r.stdout) as { state: string; udp: boolean; tcp: boolean; zones: number; lagging: unknown[] };
      assert.deepEqual([j.state, j.udp, j.tcp, j.lagging.length], ['OK', true, true, 0], k);
      // first.example, and the catalog where it can be asked (BIND; Knot does not answer for an interpreted catalog).
      assert.equal(j.zones, k === 'bind' ? 2 : 1, k);
    }
    // NSD stopped: unreachable, non-zero.
    await nsd.stop();
    const down = zoneTool(store(), ['check_server', 'nsd1']);
    assert.notEqual(down.code, 0);
    assert.match(down.stdout, /nsd1: BROKEN \(udp FAIL, tcp FAIL/);
    nsd = spawnLogged('nsd', ['-d', '-c', join(dirs.nsd, 'nsd.conf')], { cwd: dirs.nsd });
    await until('nsd back', () => zoneTool(store(), ['check_server', 'nsd1']).code === 0, all, 20000);
    // Lagging: with the group's transfer rule gone, a change is NOTIFYed but cannot be transferred; every server
    // still answers but serves the old serial, and check_server names the zone with both serials.
    const rules = JSON.parse(zoneToolOk(store(), ['--json', 'ls_transfer_rules', '-g', 'sg1'])) as { id: number }[];
    zoneToolOk(store(), ['delete_transfer_rule', String(rules[0].id)]);
    const old = servedSerial(dmsdPort, 'first.example') ?? 0;
    writeFileSync(join(data, 'first2.txt'), zoneText('192.0.2.11'));
    zoneToolOk(store(), ['load_zone_zi', join(data, 'first2.txt'), 'first.example']);
    await waitFor(() => (servedSerial(dmsdPort, 'first.example') ?? 0) > old, 5000, 'dmsd serves the change');
    const published = servedSerial(dmsdPort, 'first.example');
    for (const k of ['bind', 'knot', 'nsd'] as const) {
      const r = zoneTool(store(), ['--json', 'check_server', `${k}1`]);
      assert.notEqual(r.code, 0, k);
      const j = JSON.parse(r.stdout) as { state: string; udp: boolean; lagging: { zone: string; served: number | null; published: number }[] };
      assert.equal(j.state, 'BROKEN', k);
      assert.deepEqual(j.lagging, [{ zone: 'first.example.', served: old, published }], k);
    }
    // dmsd's scheduled checks see the same: RETRY, then BROKEN, with the lagging zone.
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k}1 BROKEN in show_server`, () => /state:\s+BROKEN/.test(zoneTool(store(), ['show_server', `${k}1`]).stdout), all, 20000);
    const shown = zoneToolOk(store(), ['show_server', 'nsd1']);
    assert.match(shown, /retry_msg:\s+1 of 1 zones behind the published serial/);
    assert.match(shown, new RegExp(`lagging:\\s+first\\.example\\.\\(${old}<${published}\\)`));
    // dmsd's log reaches us through a pipe read between the zone_tool runs: wait for the line rather than expect it.
    await until('nsd1 RETRY logged', () => /"server":"nsd1","state":"RETRY"/.test(dmsd.output()), all, 15000);
    // The rule back: dmsd's re-NOTIFY of the lagging zone (no change made, and the secondaries' own SOA retry is
    // 900 s away) brings all three back in sync, and the checks say OK again.
    zoneToolOk(store(), ['add_transfer_rule', '-g', 'sg1', 'key=xfr.sg1']);
    // While the rule was gone, the files written carried a warning about it; the operator republishes them.
    zoneToolOk(store(), ['reconfig_all']);
    assert.doesNotMatch(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /WARNING/);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k} in sync again`, () => zoneTool(store(), ['check_server', `${k}1`]).code === 0, all, 30000);
    await logged(dmsd!.output, /lagging zones NOTIFYed again/);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k}1 OK in show_server`, () => /state:\s+OK/.test(zoneTool(store(), ['show_server', `${k}1`]).stdout), all, 20000);
    assert.equal(short(ports.knot, 'www.first.example', 'A'), '192.0.2.11');
  });

  test('ServerSM: a stopped server goes RETRY then BROKEN (ls_server -v, show_dms_status, GET /health), back to OK', async () => {
    const health = async (server: string) => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/health/${server}`);
      return { status: r.status, body: (await r.json()) as { state: string; lagging: number } };
    };
    assert.deepEqual((await health('bind1')).status, 200);
    assert.equal((await health('nosuch')).status, 404);
    const retries = () => dmsd.output().split('"server":"nsd1","state":"RETRY"').length;
    const before = retries();
    await nsd.stop();
    await until('nsd1 RETRY', () => retries() > before, all, 20000);
    await until('nsd1 BROKEN', () => /nsd1\s+sg1\s+nsd\s+\d+\s+BROKEN/.test(zoneToolOk(store(), ['ls_server', '-v'])), all, 20000);
    const ls = zoneToolOk(store(), ['ls_server', '-v']);
    assert.match(ls, /no UDP answer from 127\.0\.0\.1#\d+/);
    assert.match(zoneToolOk(store(), ['show_dms_status']), /nsd1\s+sg1\s+BROKEN/);
    // ls_server -j asks each server's DNS service: the stopped one answers none, the running ones every query.
    const pinged = zoneToolOk(store(), ['ls_server', '-j', '?sd1', 'bind*']);
    assert.match(pinged, /^nsd1 [^\n]*\n {8}127\.0\.0\.1#\d+\n {8}ping: 5 queries sent, none answered$/m, pinged);
    assert.match(pinged, /^bind1 [^\n]*\n {8}127\.0\.0\.1#\d+\n {8}ping: 5 queries sent, 5 answered, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms$/m, pinged);
    assert.doesNotMatch(pinged, /knot1/, 'only the servers named');
    const h = await health('nsd1');
    assert.equal(h.status, 503);
    assert.equal(h.body.state, 'BROKEN');
    nsd = spawnLogged('nsd', ['-d', '-c', join(dirs.nsd, 'nsd.conf')], { cwd: dirs.nsd });
    await until('nsd1 OK again', () => /nsd1\s+sg1\s+nsd\s+\d+\s+OK/.test(zoneToolOk(store(), ['ls_server', '-v'])), all, 30000);
    assert.equal((await health('nsd1')).status, 200);
  });

  test('batched: 60 zones in one load_zones → one catalog version and one NSD reconfiguration, all served', async () => {
    const count = (re: RegExp) => dmsd.output().split('\n').filter((l) => re.test(l)).length;
    const catalogsBefore = count(/"msg":"catalog zone updated"/);
    const nsdBefore = count(/"server":"nsd1","outcome":"installed"/);
    const bindBefore = count(/"server":"bind1","outcome":"installed"/);
    const files: string[] = [];
    for (let i = 0; i < 60; i++) {
      const f = join(data, `bulk${i}.example`);
      writeFileSync(f, `$ORIGIN bulk${i}.example.\n${zoneText(`192.0.2.${100 + (i % 100)}`)}`);
      files.push(f);
    }
    zoneToolOk(store(), ['load_zones', '-g', 'sg1', ...files]);
    for (const k of ['bind', 'knot', 'nsd'] as const)
      for (const i of [0, 29, 59]) await until(`${k} serves bulk${i}.example`, () => short(ports[k], `www.bulk${i}.example`, 'A') === `192.0.2.${100 + i}`, all, 60000);
    assert.equal(count(/"msg":"catalog zone updated"/) - catalogsBefore, 1);
    assert.equal(count(/"server":"nsd1","outcome":"installed"/) - nsdBefore, 1);
    // BIND's and Knot's files do not change with the zone list (the catalog carries it).
    assert.equal(count(/"server":"bind1","outcome":"installed"/) - bindBefore, 0);
    const nsdConf = readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8');
    assert.equal(nsdConf.split('\n').filter((l) => /name: "bulk\d+\.example"/.test(l)).length, 60);
  });

  test('a file the checker refuses: last good file kept, failure recorded with the checker message', async () => {
    const good = readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8');
    // A checker that refuses everything stands for a broken template: zone_tool's reconfig goes through the same path.
    const fake = join(data, 'refuse.sh');
    writeFileSync(fake, '#!/bin/sh\necho "dms.conf:3: syntax error (test checker)" >&2\nexit 1\n', { mode: 0o755 });
    const s = await openStore({ dataDir: data });
    try {
      const r = await reconfigServer(serviceContext(s), 'nsd1', { checker: { nsd: fake } });
      assert.equal(r.outcome, 'refused');
      assert.match(r.message ?? '', /syntax error \(test checker\)/);
    } finally {
      await s.close();
    }
    assert.equal(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), good);
    const failed = zoneTool(store(), ['ls_failed_events']);
    assert.match(failed.stdout + failed.stderr, /server_config|test checker/);
    // The secondaries still serve.
    assert.equal(short(ports.nsd, 'www.first.example', 'A'), '192.0.2.11');
  });

  test('set_sg_template: a broken template refused with the checker message, secondaries unaffected; a valid one restricts queries', async () => {
    const files = () => ['bind', 'knot', 'nsd'].map((k) => readFileSync(join(dirs[k as 'bind'], `dms-${k}1.conf`), 'utf8'));
    const before = files();
    const broken = join(data, 'broken.tpl');
    writeFileSync(broken, 'allow-query { 127.0.0.1 };\n');
    const r = zoneTool(store(), ['set_sg_template', 'sg1', 'bind9', broken]);
    assert.notEqual(r.code, 0);
    // zone_tool wraps the message: compared with its line breaks folded.
    assert.match(r.stderr.replace(/\s+/g, ' '), /bind1 refused: template for bind9 of sg1: named-checkconf \.\/main\.conf: \.\/dms\.conf:\d+: missing ';' before '}'/);
    assert.match(zoneToolOk(store(), ['show_sg_template', 'sg1']), /no templates/);
    zoneToolOk(store(), ['reconfig_sg', 'sg1']);
    assert.deepEqual(files(), before, 'the files did not change');
    // named stops answering while it reconfigures (its exclusive mode): "still serving" is asked until it answers.
    for (const k of ['bind', 'knot', 'nsd'] as const)
      await until(`${k} still serving`, () => short(ports[k], 'www.first.example', 'A') === '192.0.2.11', all, 15000);
    // A valid template: NSD's pattern restricts queries (what a private group does) — NSD refuses the loopback client.
    const valid = join(data, 'nsd.tpl');
    writeFileSync(valid, 'allow-query: 10.0.0.0/8 NOKEY\n');
    assert.match(zoneToolOk(store(), ['set_sg_template', 'sg1', 'nsd', valid]), /checked with: nsd1/);
    zoneToolOk(store(), ['reconfig_sg', 'sg1']);
    assert.match(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /^ {2}allow-query: 10\.0\.0\.0\/8 NOKEY$/m);
    await until('nsd refuses 127.0.0.1', () => /status: REFUSED/.test(dig(ports.nsd, ['www.first.example', 'A', '+norec'])), all, 30000);
    await until('the other secondaries unaffected (bind answers)', () => short(ports.bind, 'www.first.example', 'A') === '192.0.2.11', all, 15000);
    zoneToolOk(store(), ['delete_sg_template', 'sg1', 'nsd']);
    zoneToolOk(store(), ['reconfig_sg', 'sg1']);
    await until('nsd answers again', () => short(ports.nsd, 'www.first.example', 'A') === '192.0.2.11', all, 30000);
  });

  test('a private group: BIND and NSD reconfigured (zones listed, catalog dropped) refuse queries outside the ACL', async () => {
    // Knot cannot restrict queries by client address: sg1 cannot go private while knot1 is in it (refused).
    assert.match(zoneTool(store(), ['set_sg_config', 'sg1', 'private=yes', 'query_acl=10.0.0.0/8']).stderr, /knot1 refused: Knot DNS cannot refuse\s+queries/);
    zoneToolOk(store(), ['create_sg', 'parking', 'none', `127.0.0.1#${dmsdPort}`]);
    zoneToolOk(store(), ['move_server_sg', 'knot1', 'parking']);
    // Its file says that no transfer rule of 'parking' admits it yet.
    assert.match(zoneToolOk(store(), ['show_server_config', 'knot1']), /# WARNING: no transfer rule of server group parking admits server knot1/);
    zoneToolOk(store(), ['add_transfer_rule', '-g', 'parking', 'key=xfr.sg1']);
    zoneToolOk(store(), ['set_sg_config', 'parking', 'xfr_key=xfr.sg1']);
    // BIND reads its configuration again on SIGHUP (the test's named has no control channel for rndc).
    const reload = join(data, 'reload-bind.sh');
    writeFileSync(reload, `#!/bin/sh\nkill -HUP "$(cat '${dirs.bind}/named.pid')"\n`, { mode: 0o755 });
    zoneToolOk(store(), ['set_server_config', 'bind1', `dir=${dirs.bind}`, `reload=${reload}`]);
    zoneToolOk(store(), ['set_sg_config', 'sg1', 'private=yes', 'query_acl=10.0.0.0/8']);
    zoneToolOk(store(), ['reconfig_sg', 'sg1']);
    const bindConf = readFileSync(join(dirs.bind, 'dms-bind1.conf'), 'utf8');
    assert.match(bindConf, /zone "first\.example" \{ type secondary;.*allow-query \{ 10\.0\.0\.0\/8; \}; allow-transfer \{ none; \}/);
    assert.doesNotMatch(readFileSync(join(dirs.bind, 'dms-bind1-options.conf'), 'utf8'), /catalog-zones/);
    const refused = (port: number) => /status: REFUSED/.test(dig(port, ['www.first.example', 'A', '+norec']));
    for (const k of ['bind', 'nsd'] as const) await until(`${k} refuses 127.0.0.1`, () => refused(ports[k]), all, 30000);
    // Refused by the ACL, not for want of the zone: BIND says so, NSD still has the zone loaded.
    await until('BIND logs the denial', () => /query 'www\.first\.example\/A\/IN' denied/.test(named.output()), all, 10000);
    const status = spawnSync('nsd-control', ['-c', join(dirs.nsd, 'nsd.conf'), 'zonestatus', 'first.example'], { encoding: 'utf8' });
    assert.match(status.stdout, /zone:\s+first\.example\s+state: ok\s+served-serial: "\d+ since/);
    // The ACL opened to the loopback address: answered again.
    zoneToolOk(store(), ['set_sg_config', 'sg1', 'query_acl=127.0.0.1/32']);
    zoneToolOk(store(), ['reconfig_sg', 'sg1']);
    for (const k of ['bind', 'nsd'] as const)
      await until(`${k} answers 127.0.0.1`, () => short(ports[k], 'www.first.example', 'A') === '192.0.2.11', all, 30000);
  });

  test('moving a zone between groups: dupe_zone_alt_sg, swap_zone_sg (apex NS change over), delete_zone_alt_sg', async () => {
    // knot1 is in 'parking' now (previous test); its file follows the group through dmsd's batched reconfiguration.
    zoneToolOk(store(), ['set_server_config', 'knot1', `dir=${dirs.knot}`, `zone_dir=${dirs.knot}`, `reload=knotc -c ${join(dirs.knot, 'knot.conf')} reload`]);
    const s = await openStore({ dataDir: data });
    await call(serviceContext(s), 'set_sg_apex_ns', { sg: 'parking', apexNs: ['ns1.parking.example.'] });
    await s.close();
    const ns = (port: number) => short(port, 'mig.example', 'NS');
    writeFileSync(join(data, 'mig.txt'), zoneText('192.0.2.30'));
    zoneToolOk(store(), ['load_zone', '-g', 'sg1', join(data, 'mig.txt'), 'mig.example']);
    for (const k of ['bind', 'nsd'] as const) await until(`${k} serves mig.example`, () => ns(ports[k]) === 'ns1.example.org.', all, 30000);
    assert.equal(ns(ports.knot), '');
    // dupe: parking's servers (knot1, through parking's catalog) serve it too; the apex NS stay sg1's.
    zoneToolOk(store(), ['dupe_zone_alt_sg', 'mig.example', 'parking']);
    await until('knot serves mig.example', () => ns(ports.knot) === 'ns1.example.org.', all, 30000);
    assert.match(zoneToolOk(store(), ['show_server_config', 'knot1']), /catalog-role: interpret/);
    // swap: parking is the primary group; the apex NS change over on every server (a new version, by IXFR).
    zoneToolOk(store(), ['swap_zone_sg', 'mig.example']);
    for (const k of ['bind', 'knot', 'nsd'] as const) await until(`${k} has the new apex NS`, () => ns(ports[k]) === 'ns1.parking.example.', all, 30000);
    // delete the alternate: sg1's servers drop it, knot1 keeps serving it.
    zoneToolOk(store(), ['delete_zone_alt_sg', 'mig.example']);
    for (const k of ['bind', 'nsd'] as const) await until(`${k} no longer serves mig.example`, () => ns(ports[k]) === '', all, 30000);
    assert.equal(ns(ports.knot), 'ns1.parking.example.');
    assert.doesNotMatch(readFileSync(join(dirs.nsd, 'dms-nsd1.conf'), 'utf8'), /mig\.example/);
  });
});
