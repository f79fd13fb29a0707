// The original DMS's calling convention on its URLs, through a real dmsd and real HTTP clients (fetch, and Python's
// urllib as the original's front ends used): a control panel written for the original (positional parameters, or
// `name` / `login_id` / `zi_data` / `update_data` / `edit_lock_token`) gets the original's result shapes (show_zone's
// rr_groups and all_zis, edit_zone's [zi_data, token], `true` from changes); its edit cycle saves and is served
// (dig); tenants stay apart; bad input is answered with the original's field paths and changes nothing; DMS's own
// form on the same URLs is untouched.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, listeningPort, type Server, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are read as loosely typed JSON
type J = any;

let data: string;
let srv: Server;
let base: string;
let dnsPort: number;

const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const ADMIN = basic('noc', 'noc-pass-1');
const CUST_A = basic('panelA', 'panelA-pass-1');
const CUST_B = basic('panelB', 'panelB-pass-1');
let readOnly: string;

let nextId = 0;
async function call(auth: string, path: string, method: string, params?: unknown): Promise<J> {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++nextId, method, ...(params === undefined ? {} : { params }) }),
  });
  assert.equal(r.status, 200, `${method} on ${path}: HTTP ${r.status}`);
  return r.json();
}

async function ok(auth: string, path: string, method: string, params?: unknown): Promise<J> {
  const r = await call(auth, path, method, params);
  assert.ok('result' in r, `${method}: ${JSON.stringify(r)}`);
  return r.result;
}

const ZONE = 'orig.test';
const ZONE_TEXT = '@ 300 IN MX 10 mail\nmail 300 IN A 192.0.2.25\nwww 300 IN A 192.0.2.80\n';

before(async () => {
  data = mkdtempSync(join(tmpdir(), 'dms-api-orig-'));
  const st = sqliteArgs(data);
  zoneToolOk(st, ['create_sectag', 'RESELLER_A']);
  zoneToolOk(st, ['create_sectag', 'RESELLER_B']);
  zoneToolOk(st, ['create_api_account', '-P', 'noc', 'admin'], 'noc-pass-1\n');
  zoneToolOk(st, ['create_api_account', '-P', '-s', 'RESELLER_A', 'panelA', 'customer'], 'panelA-pass-1\n');
  zoneToolOk(st, ['create_api_account', '-P', '-s', 'RESELLER_B', 'panelB', 'customer'], 'panelB-pass-1\n');
  const tok = zoneToolOk(st, ['create_api_token', '--read-only', 'noc']);
  const secret = /dms_[A-Za-z0-9_-]+/.exec(tok)?.[0];
  assert.ok(secret, `no token in: ${tok}`);
  readOnly = `Bearer ${secret}`;
  srv = await startDmsdDb(st, ['--http', '127.0.0.1:0']);
  base = `http://127.0.0.1:${await listeningPort(srv, 'http')}`;
  dnsPort = await listeningPort(srv, 'udp');
  await ok(ADMIN, '/jsonrpc', 'create_zone', { zone: ZONE, text: ZONE_TEXT, flags: { editLock: true } });
});

after(async () => {
  await srv?.stop('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

describe("the original's calls on /admin_dms", () => {
  test("show_zone, positional or by the original's names, answers in the original's shape; DMS's own form is unchanged", async () => {
    const byPos = await ok(ADMIN, '/admin_dms', 'show_zone', [ZONE]);
    const byName = await ok(ADMIN, '/admin_dms', 'show_zone', { name: ZONE });
    assert.deepEqual(byPos, byName);
    assert.equal(byPos.name, `${ZONE}.`);
    assert.equal(byPos.state, 'PUBLISHED');
    assert.equal(byPos.edit_lock, true);
    assert.equal(typeof byPos.zone_id, 'number');
    assert.equal(byPos.zi.zi_id, byPos.zi_id, 'the published ZI is shown');
    assert.ok(Array.isArray(byPos.all_zis) && byPos.all_zis.length === 1, JSON.stringify(byPos.all_zis));
    const apex = byPos.zi.rr_groups.find((g: J) => g.tag === 'APEX_RRS');
    assert.ok(apex?.rrs.some((rr: J) => rr.type === 'SOA' && rr.label === '@'), JSON.stringify(byPos.zi.rr_groups));
    const all = byPos.zi.rr_groups.flatMap((g: J) => g.rrs);
    const www = all.find((rr: J) => rr.label === 'www');
    assert.deepEqual(
      { label: www.label, type: www.type, rdata: www.rdata, ttl: www.ttl, class: www.class, disable: www.disable, lock_ptr: www.lock_ptr },
      { label: 'www', type: 'A', rdata: '192.0.2.80', ttl: 300, class: 'IN', disable: false, lock_ptr: false },
    );
    const own = await ok(ADMIN, '/admin_dms', 'show_zone', { zone: ZONE });
    assert.match(own.text, /^www\s+300\s+IN\s+A\s+192\.0\.2\.80$/m, "DMS's own form keeps its text answer");
  });

  test('a Python client (urllib, HTTP Basic), as the original DMIs were written, calls the original URL', () => {
    const script = `
import base64, json, sys, urllib.request
base, zone = sys.argv[1], sys.argv[2]
def call(method, params):
    req = urllib.request.Request(base + '/admin_dms', data=json.dumps({'jsonrpc': '2.0', 'id': 'c0ffee', 'method': method, 'params': params}).encode(),
        headers={'Content-Type': 'application/json', 'Authorization': 'Basic ' + base64.b64encode(b'noc:noc-pass-1').decode()})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
z = call('show_zone', [zone])['result']
print(json.dumps({'name': z['name'], 'groups': [g['tag'] for g in z['zi']['rr_groups']], 'zis': len(z['all_zis']),
                  'missing': call('show_zone', {'name': 'no-such.test'})['error']['data']['exception_type']}))
`;
    const r = spawnSync('python3', ['-c', script, base, ZONE], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: `${ZONE}.`, groups: ['APEX_RRS', 'DEFAULT'], zis: 1, missing: 'ZONE_NOT_FOUND' });
  });

  test('the edit cycle: edit_zone gives [zi_data, token], update_zone saves it, the new data is served', async () => {
    const [zi, token] = await ok(ADMIN, '/admin_dms', 'edit_zone', { name: ZONE, login_id: 'jo@noc.example' });
    assert.match(token, /^\S{16,}$/, 'an edit-locked zone gives a token');
    assert.equal(zi.lock_state, 'EDIT_LOCK');
    zi.zi.soa_refresh = '3h';
    zi.zi.rr_groups.push({ comment: 'shop', rrs: [{ label: 'shop', type: 'A', rdata: '192.0.2.81', ttl: '10m', class: 'IN', comment: 'the shop front', disable: false }] });
    const saved = await ok(ADMIN, '/admin_dms', 'update_zone', [ZONE, zi.zi, 'jo@noc.example', token]);
    assert.equal(saved, true);
    const text = (await ok(ADMIN, '/admin_dms', 'show_zone_text', [ZONE])).zi_text as string;
    assert.match(text, /;\| shop\n;# the shop front\nshop\s+600\s+IN\s+A\s+192\.0\.2\.81/, text);
    const shown = await ok(ADMIN, '/admin_dms', 'show_zone', { name: ZONE });
    assert.equal(shown.zi.soa_refresh, '10800');
    assert.equal(shown.lock_state, 'EDIT_UNLOCK', 'the save let the lock go');
    assert.equal(shown.all_zis.length, 2);
    await waitFor(() => dig(dnsPort, ['+short', `shop.${ZONE}`, 'A']).trim() === '192.0.2.81', 10_000, 'the saved record served');
    assert.match(dig(dnsPort, ['+short', ZONE, 'SOA']), / 10800 /, 'the new SOA refresh served');
  });

  test('update_rrs with update_data: DELETE of a whole name (type ANY), ADD, UPDATE_RRTYPE', async () => {
    const r = await ok(ADMIN, '/admin_dms', 'update_rrs', [
      ZONE,
      {
        rr_groups: [
          { rrs: [{ label: 'www', type: 'ANY', rdata: null, update_op: 'DELETE' }, { label: 'ns9', type: 'AAAA', rdata: '2001:db8::9', update_op: 'ADD' }] },
          { rrs: [{ label: 'mail', type: 'A', rdata: '192.0.2.26', update_op: 'UPDATE_RRTYPE' }] },
        ],
      },
      'panel-op-1',
      'jo',
    ]);
    assert.equal(r, true);
    const text = (await ok(ADMIN, '/admin_dms', 'show_zone_text', { name: ZONE })).zi_text as string;
    assert.doesNotMatch(text, /^www\s/m);
    assert.match(text, /^ns9\s+\d+\s+IN\s+AAAA\s+2001:db8::9$/m);
    assert.match(text, /^mail\s+300\s+IN\s+A\s+192\.0\.2\.26$/m);
    assert.doesNotMatch(text, /192\.0\.2\.25/);
  });

  test('delete_zone, show_zone_byid of the deleted zone, undelete_zone by its id', async () => {
    await ok(ADMIN, '/jsonrpc', 'create_zone', { zone: 'gone.test', text: ZONE_TEXT });
    const id = (await ok(ADMIN, '/admin_dms', 'show_zone', ['gone.test'])).zone_id;
    assert.equal(await ok(ADMIN, '/admin_dms', 'delete_zone', ['gone.test']), true);
    assert.equal((await call(ADMIN, '/admin_dms', 'show_zone', ['gone.test'])).error?.data?.exception_type, 'ZONE_NOT_FOUND');
    const gone = await ok(ADMIN, '/admin_dms', 'show_zone_byid', [id]);
    assert.equal(gone.state, 'DELETED');
    assert.ok(gone.deleted_start, 'deleted_start is set');
    assert.equal(gone.all_zis.length, 1);
    assert.ok(gone.zi.rr_groups.flatMap((g: J) => g.rrs).some((rr: J) => rr.label === 'www'));
    assert.deepEqual(
      (await ok(ADMIN, '/admin_dms', 'list_zone', { names: ['gone.*'], toggle_deleted: true })).map((z: J) => [z.zone_id, z.state]),
      [[id, 'DELETED']],
    );
    assert.equal(await ok(ADMIN, '/admin_dms', 'undelete_zone', [id]), true);
    assert.notEqual((await ok(ADMIN, '/admin_dms', 'show_zone', { name: 'gone.test' })).state, 'DELETED');
  });

  test('sectags, references and server groups in the original shapes', async () => {
    assert.deepEqual(await ok(ADMIN, '/admin_dms', 'show_sectags', []), [{ sectag_label: 'RESELLER_A' }, { sectag_label: 'RESELLER_B' }]);
    assert.equal(await ok(ADMIN, '/admin_dms', 'replace_zone_sectags', [ZONE, [{ sectag_label: 'RESELLER_B' }]]), true);
    assert.deepEqual(await ok(ADMIN, '/admin_dms', 'show_zone_sectags', [ZONE]), [{ sectag_label: 'RESELLER_B' }]);
    assert.equal(await ok(ADMIN, '/admin_dms', 'delete_zone_sectag', { name: ZONE, sectag: 'RESELLER_B' }), true);
    assert.equal(await ok(ADMIN, '/admin_dms', 'create_reference', ['ACME-42']), true);
    assert.equal(await ok(ADMIN, '/admin_dms', 'set_zone_reference', [ZONE, 'ACME-42']), true);
    assert.deepEqual(await ok(ADMIN, '/admin_dms', 'list_reference', ['ACME*']), [{ reference: 'ACME-42' }]);
    const sgs = await ok(ADMIN, '/admin_dms', 'list_sg', []);
    assert.ok(sgs.some((g: J) => g.sg_name === 'default' && typeof g.sg_id === 'number' && g.zone_count >= 1), JSON.stringify(sgs));
    const listed = await ok(ADMIN, '/admin_dms', 'list_zone', { names: ['orig.*'] });
    assert.deepEqual(
      listed.map((z: J) => [z.name, z.reference, z.state]),
      [[`${ZONE}.`, 'ACME-42', 'PUBLISHED']],
    );
  });
});

describe("the original's calls on /admin_dms: zone TTL and the master's state", () => {
  test('refresh_zone_ttl sets the zone TTL in a new ZI (records with a TTL of their own keep it); show_configsm', async () => {
    const before = await ok(ADMIN, '/admin_dms', 'show_zone', [ZONE]);
    assert.equal(await ok(ADMIN, '/admin_dms', 'refresh_zone_ttl', [ZONE, '2h']), true);
    const after = await ok(ADMIN, '/admin_dms', 'show_zone', [ZONE]);
    assert.equal(after.zi.zone_ttl, '7200');
    assert.equal(after.all_zis.length, before.all_zis.length + 1);
    const mx = after.zi.rr_groups.flatMap((g: J) => g.rrs).find((rr: J) => rr.type === 'MX');
    assert.equal(mx.ttl, 300, 'a record with its own TTL keeps it');
    await waitFor(() => / 7200 IN NS /.test(dig(dnsPort, ['+noall', '+answer', ZONE, 'NS']).replace(/\s+/g, ' ')), 10_000, 'the apex NS follows the new zone TTL');
    const status = await ok(ADMIN, '/admin_dms', 'show_configsm', []);
    assert.ok(Array.isArray(status.groups), JSON.stringify(status));
  });
});

describe("the original's calls as its source defines them (keyword parameters)", () => {
  test('helpdesk load_zone and load_zi; refresh_zone and reset_zone with zi_id; normalize_ttls; use_apex_ns', async () => {
    const Z = 'loaded-orig.test';
    const text = '$TTL 600\n@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\n';
    assert.equal(await ok(ADMIN, '/helpdesk_dms', 'load_zone', { name: Z, login_id: 'op1', zi_text: text, edit_lock: false }), true);
    await waitFor(() => dig(dnsPort, ['+short', `www.${Z}`, 'A']).trim() === '192.0.2.1', 10_000, 'the loaded zone served');
    assert.equal(await ok(ADMIN, '/helpdesk_dms', 'load_zi', { name: Z, login_id: 'op1', zi_text: text.replace('192.0.2.1', '192.0.2.2') }), true);
    await waitFor(() => dig(dnsPort, ['+short', `www.${Z}`, 'A']).trim() === '192.0.2.2', 10_000, 'the loaded ZI served');
    // login_id names the panel's user: its changes are recorded as the original recorded them, "<login_id>/<sectag>".
    const byWhom = ((await ok(ADMIN, '/admin_dms', 'list_zi', { name: Z })).all_zis as J[]).map((z) => z.change_by);
    assert.ok(byWhom.length === 2 && byWhom.every((b) => b === 'op1/Helpdesk'), JSON.stringify(byWhom));
    // rr_query_db as the original's: one zone, label patterns, several types, the ZI's number, labels within the zone.
    const www = await ok(ADMIN, '/admin_dms', 'rr_query_db', { label: 'www', name: Z });
    assert.deepEqual(www, [{ name: `${Z}.`, zi_id: 2, label: 'www', ttl: 600, class: 'IN', type: 'A', rdata: '192.0.2.2' }]);
    const pattern = (await ok(ADMIN, '/admin_dms', 'rr_query_db', { label: `*.${Z}`, type: 'A NS' })) as J[];
    assert.deepEqual(pattern.map((r) => `${r.label} ${r.type}`).sort(), ['@ NS', 'ns1 A', 'www A'], JSON.stringify(pattern));
    assert.equal(((await ok(ADMIN, '/admin_dms', 'rr_query_db', { label: 'www', name: Z, zi_id: 1 })) as J[])[0].rdata, '192.0.2.1', 'the first ZI');
    const badLogin = await call(ADMIN, '/helpdesk_dms', 'load_zi', { name: Z, login_id: 'op 1; drop', zi_text: text });
    assert.ok(badLogin.error && badLogin.error.data?.problems?.[0]?.path === 'login_id', JSON.stringify(badLogin));
    // refresh_zone with the first ZI's id publishes it again (as a copy with a new serial).
    const zis = (await ok(ADMIN, '/admin_dms', 'list_zi', { name: Z })).all_zis as J[];
    const first = Math.min(...zis.map((z) => Number(z.zi_id)));
    assert.equal(await ok(ADMIN, '/admin_dms', 'refresh_zone', { name: Z, zi_id: first }), true);
    await waitFor(() => dig(dnsPort, ['+short', `www.${Z}`, 'A']).trim() === '192.0.2.1', 10_000, 'refresh_zone with zi_id publishes that ZI');
    assert.equal(await ok(ADMIN, '/admin_dms', 'reset_zone', { name: Z }), true);
    // update_zone_text with normalize_ttls (admin_dms): accepted; a non-boolean is refused by its name.
    assert.equal(await ok(ADMIN, '/admin_dms', 'update_zone_text', { name: Z, zi_text: text, login_id: 'op1', normalize_ttls: true }), true);
    const badNorm = await call(ADMIN, '/admin_dms', 'update_zone_text', { name: Z, zi_text: text, login_id: 'op1', normalize_ttls: 'yes' });
    assert.ok(badNorm.error && /normalize_ttls/.test(JSON.stringify(badNorm.error)), JSON.stringify(badNorm));
    // set_zone and create_zone take use_apex_ns by name on admin_dms.
    assert.equal(await ok(ADMIN, '/admin_dms', 'set_zone', { name: Z, use_apex_ns: true }), true);
    assert.equal((await ok(ADMIN, '/admin_dms', 'show_zone', { name: Z })).use_apex_ns, true);
    assert.equal(await ok(ADMIN, '/admin_dms', 'create_zone', { name: 'apexns-orig.test', login_id: 'op1', use_apex_ns: false }), true);
    assert.equal((await ok(ADMIN, '/admin_dms', 'show_zone', { name: 'apexns-orig.test' })).use_apex_ns, false);
  });
});

describe("the original's calls on the customer URLs", () => {
  test('a panel creates a zone from zi_data; it carries the panel’s tag; another panel cannot see or change it', async () => {
    const created = await ok(CUST_A, '/hosted_dms', 'create_zone', {
      name: 'shop-a.test',
      reference: 'CUST-A1',
      login_id: 'alice',
      zi_data: { zone_ttl: '1h', rr_groups: [{ comment: 'web', rrs: [{ label: '@', type: 'A', rdata: '192.0.2.44' }, { label: 'www', type: 'CNAME', rdata: 'shop-a.test.' }] }] },
    });
    assert.equal(created, true);
    const mine = await ok(CUST_A, '/hosted_dms', 'list_zone', [['*']]);
    assert.deepEqual(
      mine.map((z: J) => z.name),
      ['shop-a.test.'],
    );
    const shown = await ok(CUST_A, '/hosted_dms', 'show_zone', ['shop-a.test']);
    assert.deepEqual(shown.sectags, [{ sectag_label: 'RESELLER_A' }]);
    assert.equal(shown.zi.zone_ttl, '3600');
    assert.ok(
      shown.zi.rr_groups.some((g: J) => g.comment === 'web' && g.rrs.some((rr: J) => rr.label === 'www' && rr.type === 'CNAME')),
      JSON.stringify(shown.zi.rr_groups),
    );
    await waitFor(() => dig(dnsPort, ['+short', 'shop-a.test', 'A']).trim() === '192.0.2.44', 10_000, 'the new zone served');

    const before = await ok(ADMIN, '/admin_dms', 'show_zone_text', ['shop-a.test']);
    for (const [method, params] of [
      ['show_zone', ['shop-a.test']],
      ['edit_zone', { name: 'shop-a.test', login_id: 'mallory' }],
      ['update_zone', { name: 'shop-a.test', login_id: 'mallory', zi_data: { rr_groups: [{ rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.1' }] }] } }],
      ['update_rrs', ['shop-a.test', { rr_groups: [{ rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.1', update_op: 'ADD' }] }] }, 't', 'mallory']],
      ['delete_zone', ['shop-a.test']],
    ] as const) {
      const r = await call(CUST_B, '/value_reseller_dms', method, params);
      assert.equal(r.error?.data?.exception_type, 'ZONE_NOT_FOUND', `${method} by another tenant: ${JSON.stringify(r)}`);
    }
    assert.deepEqual(await ok(ADMIN, '/admin_dms', 'show_zone_text', ['shop-a.test']), before, 'nothing changed');
    // Security tags of a new zone are the admin tier's: refused before anything is made.
    const tagged = await call(CUST_A, '/hosted_dms', 'create_zone', { name: 'tagged-a.test', login_id: 'alice', sectags: [{ sectag_label: 'RESELLER_B' }] });
    assert.equal(tagged.error?.data?.exception_type, 'PERMISSION_DENIED', JSON.stringify(tagged));
    assert.deepEqual(
      (await ok(ADMIN, '/admin_dms', 'list_zone', [['tagged-a.*']])).map((z: J) => z.name),
      [],
      'no zone made',
    );
    // The customer URLs offer the original's customer methods only.
    const r = await call(CUST_A, '/hosted_dms', 'show_sectags', []);
    assert.equal(r.error?.code, -32601);
  });
});

describe('bad input in the original form', () => {
  test("errors name the original's field paths; nothing is stored; every operation a call runs is checked for the token's scope", async () => {
    const before = await ok(ADMIN, '/admin_dms', 'show_zone', [ZONE]);
    const badRdata = await call(ADMIN, '/admin_dms', 'update_zone', {
      name: ZONE,
      login_id: 'jo',
      zi_data: { rr_groups: [{ rrs: [{ label: 'ok', type: 'A', rdata: '192.0.2.1' }] }, { rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.999' }] }] },
    });
    assert.equal(badRdata.error?.code, -32602, JSON.stringify(badRdata));
    assert.equal(badRdata.error.data.problems[0].path, 'zi_data.rr_groups[1].rrs[0].rdata');
    const badTtl = await call(ADMIN, '/admin_dms', 'update_zone', [ZONE, { rr_groups: [{ rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.1', ttl: 'soon' }] }] }, 'jo']);
    assert.equal(badTtl.error?.data?.problems?.[0]?.path, 'zi_data.rr_groups[0].rrs[0].ttl');
    const badOp = await call(ADMIN, '/admin_dms', 'update_rrs', [ZONE, { rr_groups: [{ rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.1', update_op: 'MERGE' }] }] }, 't', 'jo']);
    assert.equal(badOp.error?.data?.problems?.[0]?.path, 'update_data.rr_groups[0].rrs[0].update_op');
    const unknown = await call(ADMIN, '/admin_dms', 'show_zone', { name: ZONE, colour: 'blue' });
    assert.equal(unknown.error?.data?.problems?.[0]?.path, 'colour');
    const tooMany = await call(ADMIN, '/admin_dms', 'show_zone', [ZONE, 1, 2]);
    assert.equal(tooMany.error?.code, -32602);
    const noZi = await call(ADMIN, '/admin_dms', 'delete_zi', [ZONE]);
    assert.equal(noZi.error?.data?.problems?.[0]?.path, 'zi_id');
    const ro = await call(readOnly, '/admin_dms', 'update_rrs', [ZONE, { rr_groups: [{ rrs: [{ label: 'x', type: 'A', rdata: '192.0.2.1', update_op: 'ADD' }] }] }, 't', 'jo']);
    assert.equal(ro.error?.code, -32006, `a read-only token: ${JSON.stringify(ro)}`);
    assert.deepEqual(await ok(ADMIN, '/admin_dms', 'show_zone', [ZONE]), before, 'the zone is as it was');
    // Values of every wrong kind, positional and by name, for each of the original's methods: answered with an error
    // or a result, never an internal error.
    const values: unknown[] = [null, true, 0, -1, 1.5, '', 'x', ' ', '192.0.2.999', '*', [], [null], [1, 'a'], {}, { rr_groups: 7 }, { rr_groups: [{ rrs: [null] }] }, { rr_groups: [{ rrs: [{ label: 5 }] }] }, { rr_groups: [{ rrs: [{ label: 'a', type: 'A', rdata: '1.2.3.4', update_op: 'ADD', ttl: [] }] }] }, [{ sectag_label: 3 }]];
    let seed = 29;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return values[seed % values.length];
    };
    const methods = ['list_zone', 'list_zi', 'show_zone', 'show_zone_byid', 'show_zone_text', 'show_zi', 'create_zone', 'copy_zone', 'set_zone', 'undelete_zone', 'destroy_zone', 'copy_zi', 'delete_zi', 'edit_zone', 'tickle_editlock', 'cancel_edit_zone', 'update_zone', 'update_zone_text', 'show_zone_sectags', 'add_zone_sectag', 'replace_zone_sectags', 'rename_reference', 'list_reference', 'rr_query_db', 'update_rrs', 'set_zone_sg', 'set_zone_alt_sg'];
    let answered = 0;
    for (const method of methods)
      for (let i = 0; i < 12; i++) {
        const positional = i % 2 === 0;
        const first = i % 3 === 0 ? ZONE : pick();
        const params = positional ? [first, pick(), pick(), pick()].slice(0, 1 + (i % 4)) : { name: first, zi_id: pick(), zi_data: pick(), update_data: pick(), login_id: pick() };
        const r = await call(ADMIN, '/admin_dms', method, params);
        assert.notEqual(r.error?.code, -32603, `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
        answered++;
      }
    assert.equal(answered, methods.length * 12);
    await ok(ADMIN, '/admin_dms', 'cancel_edit_zone', { zone: ZONE, token: 'none' }).catch(() => undefined);
    // /jsonrpc is DMS's own: positional parameters stay refused there.
    const own = await call(ADMIN, '/jsonrpc', 'show_zone', [ZONE]);
    assert.equal(own.error?.code, -32602);
  });
});
