// The JSON-RPC API through a real dmsd (--http 127.0.0.1:0) and real HTTP clients (fetch/undici, curl once):
// every tier and the original URLs, a tenant isolation matrix over every operation, token scopes, bad input (parse
// errors, wrong types, unknown methods, oversized bodies, a 1,000-call batch) with the database compared before and
// after, audit entries for changes through the API, zone_tool and nsupdate, /openrpc.json, /metrics, /health, TLS
// and the refusal of plain HTTP off loopback.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { listOperations } from '../../src/services/index.js';
import { makeTlsFiles, watchChild } from '../helpers/acme.js';
import { dig, listeningPort, postgresArgs, type Server, sqliteArgs, startDmsdDb, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { logged } from '../helpers/secondaries.js';
import { startPostgres } from '../helpers/postgres.js';
import { dmsdEntry, REPO_ROOT } from '../helpers/servers.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are read as loosely typed JSON
type J = any;

const PW = { admin: 'admin-pass-1', help: 'help-pass-1', custA: 'custA-pass-1', custB: 'custB-pass-1' };
const BODY_LIMIT = 256 * 1024;

let data: string;
let srv: Server;
let base: string;

function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}
const AUTH = {
  admin: basic('admin1', PW.admin),
  help: basic('help1', PW.help),
  custA: basic('custA', PW.custA),
  custB: basic('custB', PW.custB),
};

interface RpcReply {
  status: number;
  body: J;
  headers: Headers;
}

async function post(path: string, auth: string | undefined, body: string): Promise<RpcReply> {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: r.headers };
}

async function rpc(auth: string, method: string, params: unknown = {}, path = '/jsonrpc'): Promise<J> {
  const r = await post(path, auth, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function ok(auth: string, method: string, params: unknown = {}, path = '/jsonrpc'): Promise<J> {
  const r = await rpc(auth, method, params, path);
  assert.ok('result' in r, `${method}: ${JSON.stringify(r)}`);
  return r.result;
}

/** Every table's rows, for "the database is unchanged" (the audit log and token use times included). */
function dump(): string {
  const db = new Database(join(data, 'dms.sqlite'), { readonly: true });
  try {
    const tables = (db.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((t) => t.name);
    return JSON.stringify(tables.map((t) => [t, db.prepare(`select * from "${t}" order by rowid`).all()]), (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v,
    );
  } finally {
    db.close();
  }
}

/** The API's port (http or https, whichever dmsd logged). */
const httpPort = (s: Server): Promise<number> => Promise.any([listeningPort(s, 'http'), listeningPort(s, 'https')]);

const ZONE_A = 'a-zone.test';
const ZONE_B = 'b-zone.test';
const ZONE_ADMIN = 'admin-zone.test';
const ZONE_TEXT = '@ 300 IN MX 10 mail\nmail 300 IN A 192.0.2.25\nwww 300 IN A 192.0.2.80\n';

before(async () => {
  data = mkdtempSync(join(tmpdir(), 'dms-api-'));
  const st = sqliteArgs(data);
  zoneToolOk(st, ['create_sectag', 'CUST_A']);
  zoneToolOk(st, ['create_sectag', 'CUST_B']);
  zoneToolOk(st, ['create_api_account', '-P', 'admin1', 'admin'], `${PW.admin}\n`);
  zoneToolOk(st, ['create_api_account', '--password-stdin', 'help1', 'helpdesk'], `${PW.help}\n`);
  zoneToolOk(st, ['create_api_account', '-P', '-s', 'CUST_A', 'custA', 'customer'], `${PW.custA}\n`);
  zoneToolOk(st, ['create_api_account', '-P', '--sectag', 'CUST_B', 'custB', 'customer'], `${PW.custB}\n`);
  srv = await startDmsdDb(st, ['--http', '127.0.0.1:0', '--http-body-limit', String(BODY_LIMIT)]);
  base = `http://127.0.0.1:${await httpPort(srv)}`;
  // One zone per customer (created through their own URL: the zone gets the customer's tag) and one of the admin's.
  await ok(AUTH.custA, 'create_zone', { zone: ZONE_A, text: ZONE_TEXT }, '/hosted_dms');
  await ok(AUTH.custB, 'create_zone', { zone: ZONE_B, text: ZONE_TEXT }, '/value_reseller_dms');
  await ok(AUTH.admin, 'create_zone', { zone: ZONE_ADMIN, text: ZONE_TEXT, flags: { incUpdates: true } });
});

after(async () => {
  await srv?.stop('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

describe('tiers and the original URLs', () => {
  test('admin sees every zone; a customer only its own; a zone created by a customer carries its tag', async () => {
    const all = (await ok(AUTH.admin, 'list_zone')).map((z: { name: string }) => z.name);
    for (const z of [ZONE_A, ZONE_B, ZONE_ADMIN]) assert.ok(all.includes(`${z}.`), z);
    const a = (await ok(AUTH.custA, 'list_zone')).map((z: { name: string }) => z.name);
    assert.deepEqual(a, [`${ZONE_A}.`]);
    const sm = await ok(AUTH.admin, 'show_zonesm', { zone: ZONE_A });
    assert.deepEqual(sm.zone.sectags, ['CUST_A']);
    assert.match(sm.zi.changeBy, /^custA\/CUST_A$/, 'change_by is login/sectag');
    const shown = await ok(AUTH.custA, 'show_zone', { zone: ZONE_A });
    assert.match(shown.text, /192\.0\.2\.80/);
  });

  test('helpdesk: zone operations yes, account administration no (PermissionDenied)', async () => {
    assert.ok(Array.isArray(await ok(AUTH.help, 'list_zone')));
    const r = await rpc(AUTH.help, 'create_api_account', { login: 'x1', tier: 'admin' });
    assert.equal(r.error.code, -32006);
    assert.equal(r.error.data.exception_type, 'PERMISSION_DENIED');
    const c = await rpc(AUTH.custA, 'ls_api_account');
    assert.equal(c.error.data.exception_type, 'PERMISSION_DENIED');
  });

  test('each original URL fixes its tier and method list; wrong accounts are refused', async () => {
    // /admin_dms: admin accounts only.
    assert.equal((await post('/admin_dms', AUTH.custA, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list_zone' }))).status, 403);
    assert.equal((await post('/admin_dms', AUTH.help, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list_zone' }))).status, 403);
    assert.ok(Array.isArray(await ok(AUTH.admin, 'list_zone', {}, '/admin_dms')));
    // /helpdesk_dms: an admin account works there at the helpdesk tier.
    const d = await rpc(AUTH.admin, 'create_api_account', { login: 'x2', tier: 'admin' }, '/helpdesk_dms');
    assert.equal(d.error.data.exception_type, 'PERMISSION_DENIED');
    assert.ok(Array.isArray(await ok(AUTH.help, 'list_zone', {}, '/helpdesk_dms')));
    // /list_zone: listings and shows only.
    assert.ok(Array.isArray(await ok(AUTH.help, 'list_zone', {}, '/list_zone')));
    const lz = await rpc(AUTH.admin, 'create_zone', { zone: 'never.test' }, '/list_zone');
    assert.equal(lz.error.code, -32601);
    assert.equal((await post('/list_zone', AUTH.custA, '{}')).status, 403);
    // Customer URLs: customers only, the customer method list.
    assert.equal((await post('/hosted_dms', AUTH.admin, '{}')).status, 403);
    const sz = await rpc(AUTH.custA, 'set_zone', { zone: ZONE_A, flags: { editLock: false } }, '/hosted_dms');
    assert.equal(sz.error.code, -32601, 'set_zone is not offered on a customer URL');
    const vr = await ok(AUTH.custB, 'list_zone', {}, '/value_reseller_dms');
    assert.deepEqual(vr.map((z: { name: string }) => z.name), [`${ZONE_B}.`]);
    // An edit started on a customer URL is saved there too (edit_zone, then update_zone_text with its token).
    const ed = await ok(AUTH.custB, 'edit_zone', { zone: ZONE_B }, '/value_reseller_dms');
    const saved = await ok(AUTH.custB, 'update_zone_text', { zone: ZONE_B, text: `${ed.text}edited A 192.0.2.123\n`, token: ed.token }, '/value_reseller_dms');
    assert.equal(saved.changed, true);
    assert.match((await ok(AUTH.custB, 'show_zone', { zone: ZONE_B }, '/value_reseller_dms')).text, /^edited\s.*192\.0\.2\.123$/m);
    // The same record by record, as a control panel's form would (edit_zone format "records", then update_zone), and a
    // bad record told by its parameter path over HTTP.
    const er = await ok(AUTH.custB, 'edit_zone', { zone: ZONE_B, format: 'records' }, '/hosted_dms');
    assert.ok(Array.isArray(er.records) && er.records.some((r: { name: string }) => r.name === 'edited'), JSON.stringify(er));
    const badRecord = await rpc(AUTH.custB, 'update_zone', { zone: ZONE_B, token: er.token, records: [...er.records, { name: 'x', type: 'A', rdata: 'not-an-address' }] }, '/hosted_dms');
    assert.equal(badRecord.error?.data?.exception_type, 'INVALID_PARAMS', JSON.stringify(badRecord));
    assert.match(JSON.stringify(badRecord.error), new RegExp(`records\\[${er.records.length}\\]\\.rdata`));
    const records = [...er.records.filter((r: { name: string }) => r.name !== 'edited'), { name: 'form', type: 'A', rdata: '192.0.2.124', comment: 'from the form' }];
    const savedRecords = await ok(AUTH.custB, 'update_zone', { zone: ZONE_B, token: er.token, records }, '/hosted_dms');
    assert.equal(savedRecords.changed, true);
    const afterForm = (await ok(AUTH.custB, 'show_zone', { zone: ZONE_B }, '/value_reseller_dms')).text;
    assert.match(afterForm, /^form\s.*192\.0\.2\.124$/m);
    assert.doesNotMatch(afterForm, /192\.0\.2\.123/);
    // No credentials: 401 with the challenge.
    const none = await post('/jsonrpc', undefined, '{}');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Basic/);
  });

  test('curl with HTTP Basic, as a front end would', () => {
    const r = spawnSync('curl', ['-sS', '-u', `admin1:${PW.admin}`, '-H', 'content-type: application/json', '--data-binary',
      JSON.stringify({ jsonrpc: '2.0', id: 'c1', method: 'show_zonesm', params: { zone: ZONE_B } }), `${base}/admin_dms`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.id, 'c1');
    assert.equal(j.result.zone.name, `${ZONE_B}.`);
  });
});

/** Parameters that satisfy an operation's schema as far as can be made up: the zone is the target, the rest plausible. */
function paramsFor(schema: J, zone: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = schema?.properties ?? {};
  for (const [name, s] of Object.entries<J>(props)) {
    const required = (schema.required ?? []).includes(name);
    if (name === 'zone') {
      out.zone = zone;
      continue;
    }
    if (!required) continue;
    const t = s.type ?? s.anyOf?.[0]?.type;
    if (s.enum) out[name] = s.enum[0];
    else if (s.anyOf?.[0]?.const !== undefined) out[name] = s.anyOf[0].const;
    else if (t === 'string') out[name] = name.includes('text') ? ZONE_TEXT : 'x-test';
    else if (t === 'integer' || t === 'number') out[name] = 1;
    else if (t === 'boolean') out[name] = false;
    else if (t === 'array') out[name] = [];
    else if (t === 'object') out[name] = {};
  }
  return out;
}

describe('tenant isolation', () => {
  test('every method with a zone of another customer: ZoneNotFound or PermissionDenied, nothing changed', async () => {
    const doc: J = await (await fetch(`${base}/openrpc.json`)).json();
    const before = dump();
    const exercised: string[] = [];
    for (const m of doc.methods) {
      const schema = { properties: Object.fromEntries(m.params.map((p: J) => [p.name, p.schema])), required: m.params.filter((p: J) => p.required).map((p: J) => p.name) };
      const takesZone = m.params.some((p: J) => p.name === 'zone');
      const params = paramsFor(schema, ZONE_A);
      const r = await rpc(AUTH.custB, m.name, params);
      if (takesZone && r.result !== undefined) {
        // Only an answer that says nothing about the zone may succeed: the same as for a zone that does not exist.
        const absent = await rpc(AUTH.custB, m.name, paramsFor(schema, 'no-such-zone.test'));
        assert.equal(JSON.stringify(r.result).replaceAll('a-zone', 'no-such-zone'), JSON.stringify(absent.result), `${m.name} on another tenant's zone`);
        exercised.push(m.name);
      } else if (takesZone) {
        const t = r.error.data?.exception_type;
        // Names are unique across tenants: creating one that exists says so (the original did too).
        const allowed = m.name.startsWith('create_') ? ['ZONE_NOT_FOUND', 'PERMISSION_DENIED', 'ZONE_EXISTS'] : ['ZONE_NOT_FOUND', 'PERMISSION_DENIED'];
        if (t === 'INVALID_PARAMS') {
          assert.ok(!r.error.data.problems.some((p: { path: string }) => p.path === 'zone'), `${m.name}: ${JSON.stringify(r.error)}`);
          continue;
        }
        assert.ok(allowed.includes(t), `${m.name}: ${JSON.stringify(r.error)}`);
        exercised.push(m.name);
      } else if (r.result !== undefined) {
        assert.ok(!JSON.stringify(r.result).includes(ZONE_A), `${m.name} shows another tenant's zone`);
      }
    }
    for (const m of ['show_zone', 'show_zonesm', 'set_zone', 'enable_zone', 'disable_zone', 'delete_zone', 'find_zone', 'create_zone'])
      assert.ok(exercised.includes(m), `${m} exercised`);
    assert.equal(dump(), before, 'the database is unchanged');
    // The same for the customer's own URL.
    const r = await rpc(AUTH.custB, 'delete_zone', { zone: ZONE_A }, '/value_reseller_dms');
    assert.equal(r.error.data.exception_type, 'ZONE_NOT_FOUND');
    assert.equal(dump(), before);
  });
});

describe('tokens', () => {
  const st = () => sqliteArgs(data);
  function token(args: string[]): { id: number; token: string } {
    const j = JSON.parse(zoneToolOk(st(), ['--json', 'create_api_token', ...args]));
    return { id: j.info.id, token: j.token };
  }
  const bearer = (t: string) => `Bearer ${t}`;

  test('a plain token acts as its account; revoked or expired it is refused', async () => {
    const t = token(['admin1']);
    assert.ok((await ok(bearer(t.token), 'list_zone')).length >= 3);
    zoneToolOk(st(), ['revoke_api_token', String(t.id)]);
    assert.equal((await post('/jsonrpc', bearer(t.token), '{}')).status, 401);
    assert.equal((await post('/jsonrpc', bearer('dms_not-a-token'), '{}')).status, 401);
    const r = zoneTool(st(), ['create_api_token', '--expires', '2001-01-01', 'admin1']);
    assert.notEqual(r.code, 0, 'an expiry in the past is refused');
  });

  test('read-only, zone-scoped and ACME-only tokens are refused outside their scope', async () => {
    const ro = token(['--read-only', 'admin1']);
    const zs = token(['-z', ZONE_ADMIN, 'admin1']);
    const acme = token(['--acme-only', '--zone', ZONE_ADMIN, 'admin1']);
    const before = dump();
    assert.ok(Array.isArray(await ok(bearer(ro.token), 'list_zone')));
    const w = await rpc(bearer(ro.token), 'disable_zone', { zone: ZONE_ADMIN });
    assert.equal(w.error.data.exception_type, 'PERMISSION_DENIED');

    assert.equal((await ok(bearer(zs.token), 'show_zonesm', { zone: ZONE_ADMIN })).zone.name, `${ZONE_ADMIN}.`);
    for (const [m, p] of [['show_zonesm', { zone: ZONE_A }], ['list_zone', {}], ['destroy_zone', { zoneId: 1 }]] as const) {
      const r = await rpc(bearer(zs.token), m, p);
      assert.equal(r.error?.data?.exception_type, 'PERMISSION_DENIED', `${m}: ${JSON.stringify(r)}`);
    }

    for (const [m, p] of [['list_zone', {}], ['show_zone', { zone: ZONE_ADMIN }], ['create_zone', { zone: 'acme-x.test' }], ['disable_zone', { zone: ZONE_ADMIN }]] as const) {
      const r = await rpc(bearer(acme.token), m, p);
      assert.equal(r.error?.data?.exception_type, 'PERMISSION_DENIED', `${m}: ${JSON.stringify(r)}`);
    }
    // update_rrs (when the operations table has it): only TXT under _acme-challenge.
    if (listOperations().some((o) => o.name === 'update_rrs')) {
      const r = await rpc(bearer(acme.token), 'update_rrs', { zone: ZONE_ADMIN, add: [{ name: 'www', type: 'A', ttl: 60, rdata: '192.0.2.9' }] });
      assert.equal(r.error?.data?.exception_type, 'PERMISSION_DENIED');
    }
    // Token use updates only last_used.
    const strip = (s: string) => s.replace(/"last_used":\d+/g, '"last_used":null');
    assert.equal(strip(dump()), strip(before), 'nothing changed but the tokens\' last use');
  });
});

describe('bad input', () => {
  test('malformed JSON, invalid requests, wrong types, unknown methods, positional params', async () => {
    const before = dump();
    const bad = await post('/jsonrpc', AUTH.admin, '{"jsonrpc": "2.0", "method": ');
    assert.equal(bad.body.error.code, -32700);
    assert.equal(bad.body.id, null);
    const inv = await post('/jsonrpc', AUTH.admin, JSON.stringify({ method: 'list_zone', id: 3 }));
    assert.equal(inv.body.error.code, -32600);
    assert.equal(inv.body.id, 3);
    const types = await rpc(AUTH.admin, 'set_zone', { zone: 42, flags: { editLock: 'yes' } });
    assert.equal(types.error.code, -32602);
    assert.deepEqual(types.error.data.problems.map((p: { path: string }) => p.path).sort(), ['flags.editLock', 'zone']);
    const extra = await rpc(AUTH.admin, 'list_zone', { bogus: 1 });
    assert.equal(extra.error.code, -32602);
    const unknown = await rpc(AUTH.admin, 'no_such_method');
    assert.equal(unknown.error.code, -32601);
    const pos = await rpc(AUTH.admin, 'show_zone', [ZONE_ADMIN]);
    assert.equal(pos.error.code, -32602);
    const badZone = await rpc(AUTH.admin, 'create_zone', { zone: 'bad-zone.test', text: 'www IN A not-an-address\n' });
    assert.equal(badZone.error.data.exception_type, 'ZONE_VALIDATION_FAILED');
    assert.ok(badZone.error.data.details.problems.some((p: { line?: number }) => p.line === 1), JSON.stringify(badZone.error.data));
    assert.equal(dump(), before);
  });

  test('notifications get no answer; a batch answers each call in order', async () => {
    const n = await post('/jsonrpc', AUTH.admin, JSON.stringify({ jsonrpc: '2.0', method: 'list_zone' }));
    assert.equal(n.status, 204);
    const b = await post('/jsonrpc', AUTH.admin, JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'find_zone', params: { zone: ZONE_ADMIN } },
      { jsonrpc: '2.0', method: 'list_zone' },
      { jsonrpc: '2.0', id: 2, method: 'nope' },
      5,
    ]));
    assert.equal(b.body.length, 3);
    assert.equal(b.body[0].result.zone, `${ZONE_ADMIN}.`);
    assert.equal(b.body[1].error.code, -32601);
    assert.equal(b.body[2].error.code, -32600);
    assert.equal((await post('/jsonrpc', AUTH.admin, '[]')).body.error.code, -32600);
  });

  test('oversized bodies and a 1,000-call batch are refused; the database is unchanged; the server keeps serving', async () => {
    const before = dump();
    const big = await post('/jsonrpc', AUTH.admin, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'create_zone', params: { zone: 'big.test', text: 'x'.repeat(BODY_LIMIT + 10) } }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, -32600);
    const calls = Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'create_zone', params: { zone: `batch${i}.test` } }));
    const batch = await post('/jsonrpc', AUTH.admin, JSON.stringify(calls));
    assert.equal(batch.body.error.code, -32600);
    assert.equal(batch.body.error.data.exception_type, 'BATCH_TOO_LARGE');
    assert.equal(dump(), before);
    assert.ok((await ok(AUTH.admin, 'list_zone')).length >= 3, 'still serving');
    assert.match(dig(srv.port, [ZONE_ADMIN, 'SOA', '+short']), /\d+/);
  });

});

describe('audit, schema, metrics, health', () => {
  test('changes through the API, zone_tool and nsupdate are audited with actor, source and versions', async () => {
    const st = sqliteArgs(data);
    // API (in before()): the customer created its zone through /hosted_dms.
    const a = await ok(AUTH.admin, 'list_audit', { zone: ZONE_A });
    const created = a.find((e: J) => e.operation === 'create_zone');
    assert.ok(created, JSON.stringify(a));
    assert.equal(created.actor, 'custA/CUST_A');
    assert.equal(created.source, '127.0.0.1');
    assert.equal(created.ziBefore, null);
    assert.equal(created.ziAfter, 1);
    // zone_tool.
    zoneToolOk(st, ['disable_zone', ZONE_ADMIN]);
    zoneToolOk(st, ['enable_zone', ZONE_ADMIN]);
    // nsupdate (RFC 2136) signed with a key that has a grant on the zone.
    const keyLine = zoneToolOk(st, ['generate_tsig_key', 'audit.key']).trim().split('\n').pop() as string;
    zoneToolOk(st, ['add_update_grant', ZONE_ADMIN, 'grant audit.key zonesub TXT']);
    await new Promise((r) => setTimeout(r, 600));
    const u = spawnSync('nsupdate', ['-y', keyLine], {
      input: `server 127.0.0.1 ${srv.port}\nzone ${ZONE_ADMIN}\nupdate add t.${ZONE_ADMIN}. 60 TXT "audited"\nsend\n`,
      encoding: 'utf8',
    });
    assert.equal(u.status, 0, u.stdout + u.stderr);
    const list = JSON.parse(zoneToolOk(st, ['--json', 'ls_audit', '-z', ZONE_ADMIN]));
    const cli = list.find((e: J) => e.operation === 'disable_zone');
    assert.ok(cli, JSON.stringify(list));
    assert.equal(cli.actor, 'tester@test/Admin');
    assert.equal(cli.source, 'cli');
    const upd = list.find((e: J) => e.operation === 'rfc2136_update');
    assert.ok(upd, JSON.stringify(list));
    assert.match(upd.actor, /^audit\.key/);
    assert.equal(upd.source, '127.0.0.1');
    assert.equal(upd.ziAfter, upd.ziBefore + 1);
    assert.match(upd.summary, /1 record\(s\) added/);
    const api = list.find((e: J) => e.operation === 'create_zone');
    assert.equal(api.actor, 'admin1/Admin');
    // Filters: by actor and since.
    const byActor = JSON.parse(zoneToolOk(st, ['--json', 'ls_audit', '-a', 'custB/CUST_B']));
    assert.ok(byActor.length > 0 && byActor.every((e: J) => e.actor === 'custB/CUST_B'));
    assert.deepEqual(JSON.parse(zoneToolOk(st, ['--json', 'ls_audit', '--since', '2099-01-01'])), []);
    // A customer sees its own zones' entries only.
    const mine = await ok(AUTH.custA, 'list_audit');
    assert.ok(mine.length > 0);
    assert.ok(mine.every((e: J) => e.zone === `${ZONE_A}.`), JSON.stringify(mine));
  });

  test('/metrics is Prometheus text with the API, zone, queue and DNS series', async () => {
    dig(srv.port, [ZONE_ADMIN, 'SOA']);
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const samples = parseProm(await r.text());
    const has = (name: string, labels: Record<string, string> = {}) =>
      samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    assert.ok(has('dms_api_calls_total', { method: 'list_zone', outcome: 'ok' }));
    assert.ok(has('dms_api_call_duration_seconds_bucket', { method: 'list_zone' }));
    assert.ok(has('dms_zones', { state: 'PUBLISHED' }));
    assert.ok(has('dms_change_feed_lag'));
    assert.ok(has('dms_event_queue_depth'));
    // The process's own figures, as any Node service exports them: resident memory, V8 heap, external memory.
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      const v = samples.find((s) => s.name === name)?.value;
      assert.ok(v !== undefined && v > 0, `${name} = ${v}`);
    }
    assert.ok(has('dms_dns_queries_total', { transport: 'udp', rcode: 'NOERROR', qtype: 'SOA', opcode: 'QUERY' }), 'DNS counters');
    assert.ok(has('dms_dns_queries_total', { opcode: 'UPDATE', rcode: 'NOERROR' }), `the nsupdate of the audit test: ${JSON.stringify(samples.filter((s) => s.name === 'dms_dns_queries_total'))}`);
    assert.ok(has('dms_http_requests_total', { route: '/jsonrpc', status: '200' }));
    const published = samples.find((s) => s.name === 'dms_zones' && s.labels.state === 'PUBLISHED');
    assert.ok((published?.value ?? 0) >= 3);
  });

  test('/health: 200 with the database reachable and the zone table current', async () => {
    const r = await fetch(`${base}/health`);
    assert.equal(r.status, 200);
    const j: J = await r.json();
    assert.equal(j.status, 'ok');
    assert.equal(j.zoneTable.current, true);
  });

  test('openrpc.json lists every operation in OpenRPC 1.x shape', async () => {
    const doc: J = await (await fetch(`${base}/openrpc.json`)).json();
    assert.match(doc.openrpc, /^1\.\d+\.\d+$/);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    assert.ok(Array.isArray(doc.methods));
    const names = doc.methods.map((m: { name: string }) => m.name);
    assert.equal(new Set(names).size, names.length, 'unique method names');
    assert.deepEqual([...names].sort(), listOperations().map((o) => o.name).sort());
    for (const m of doc.methods) {
      assert.equal(typeof m.name, 'string');
      assert.ok(Array.isArray(m.params), m.name);
      for (const p of m.params) {
        assert.equal(typeof p.name, 'string');
        assert.equal(typeof p.schema, 'object');
      }
      assert.equal(typeof m.result?.name, 'string');
      assert.equal(m.paramStructure, 'by-name');
    }
    const sz = doc.methods.find((m: { name: string }) => m.name === 'set_zone');
    const flags = sz.params.find((p: { name: string }) => p.name === 'flags');
    // From the zod parameters: a boolean, or null for "the configured default" (zone_tool's def_edit_lock).
    assert.deepEqual([flags.schema.properties.editLock.type].flat().sort(), ['boolean', 'null']);
  });
});

describe('login failures (last: they hold off this address)', () => {
  test('failed logins: refused, logged without the password, rate-limited per address', async () => {
    for (let i = 0; i < 11; i++) assert.equal((await post('/jsonrpc', basic('admin1', 'wrong-password-x'), '{}')).status, 401);
    const blocked = await post('/jsonrpc', AUTH.admin, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'list_zone' }));
    assert.equal(blocked.status, 429, 'even a correct login is held off for a while');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    await logged(srv!.output, /"msg":"API login failed"/);
    assert.ok(!srv.output().includes('wrong-password-x'), 'the password is never logged');
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text exposition format (0.0.4), strictly: HELP/TYPE comments and samples; anything else throws. */
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]), line);
        types.set(m[2], m[3]);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g;
      let consumed = 0;
      for (let l = re.exec(m[2]); l; l = re.exec(m[2])) {
        labels[l[1]] = l[2];
        consumed = re.lastIndex;
      }
      assert.equal(consumed, m[2].length, `bad labels: ${line}`);
    }
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : m[3] === '-Inf' ? Number.NEGATIVE_INFINITY : Number(m[3]);
    assert.ok(!Number.isNaN(value) || m[3] === 'NaN', line);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]) || types.has(family), `sample without TYPE: ${line}`);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

describe('TLS and the loopback rule', () => {
  test('--http-cert/--http-key serve HTTPS (curl verifies the chain); plain HTTP off loopback is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dms-api-tls-'));
    let tls: Server | undefined;
    try {
      const files = makeTlsFiles(dir);
      tls = await startDmsdDb(sqliteArgs(data), ['--http', '127.0.0.1:0', '--http-cert', files.cert, '--http-key', files.key]);
      const port = await httpPort(tls);
      await logged(tls!.output, /"proto":"https"/);
      const r = spawnSync('curl', ['-sS', '--cacert', files.caCert, '-u', `help1:${PW.help}`, '--data-binary',
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'find_zone', params: { zone: ZONE_ADMIN } }), `https://127.0.0.1:${port}/helpdesk_dms`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).result.zone, `${ZONE_ADMIN}.`);
      const plain = spawnSync('curl', ['-sS', `http://127.0.0.1:${port}/health`], { encoding: 'utf8' });
      assert.ok(plain.status !== 0 || !plain.stdout.includes('"status":"ok"'), 'no plain HTTP on the TLS port');
    } finally {
      await tls?.stop('SIGTERM');
    }
    // A non-loopback address without TLS: dmsd refuses to start (unless --http-insecure).
    const entry = dmsdEntry(true) ?? dmsdEntry();
    const child = watchChild(
      spawn(process.execPath, [...(entry?.endsWith('.ts') ? ['--import', 'tsx'] : []), entry as string, ...sqliteArgs(data), '--listen', '127.0.0.1:0', '--http', '0.0.0.0:0'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const code = await new Promise<number | null>((res) => child.proc.once('exit', (c) => res(c)));
    assert.notEqual(code, 0);
    await logged(child!.output, /refusing plain HTTP on 0\.0\.0\.0/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('on PostgreSQL', () => {
  test('a dmsd on PostgreSQL: tiers, another tenant\'s zone, a refused batch, audit of API and nsupdate changes, /health', async () => {
    const pg = await startPostgres();
    let p: Server | undefined;
    try {
      const st = postgresArgs(await pg.createDatabase());
      zoneToolOk(st, ['create_sectag', 'PA']);
      zoneToolOk(st, ['create_sectag', 'PB']);
      zoneToolOk(st, ['create_api_account', '-P', 'padmin', 'admin'], 'padmin-pass\n');
      zoneToolOk(st, ['create_api_account', '-P', '-s', 'PA', 'pa', 'customer'], 'pa-pass-123\n');
      zoneToolOk(st, ['create_api_account', '-P', '-s', 'PB', 'pb', 'customer'], 'pb-pass-123\n');
      p = await startDmsdDb(st, ['--http', '127.0.0.1:0']);
      const url = `http://127.0.0.1:${await httpPort(p)}`;
      const call = async (auth: string, method: string, params: unknown, path = '/jsonrpc'): Promise<J> =>
        (await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json();
      const pa = basic('pa', 'pa-pass-123');
      const pb = basic('pb', 'pb-pass-123');
      const padmin = basic('padmin', 'padmin-pass');
      assert.ok((await call(pa, 'create_zone', { zone: 'pa.test', text: ZONE_TEXT }, '/hosted_dms')).result);
      assert.ok((await call(padmin, 'create_zone', { zone: 'pg-admin.test', text: ZONE_TEXT, flags: { incUpdates: true } })).result);
      const zonesBefore = JSON.stringify((await call(padmin, 'list_zone', { which: 'all' })).result);
      const auditBefore = (await call(padmin, 'list_audit', {})).result.length;
      for (const m of ['show_zone', 'delete_zone', 'disable_zone', 'set_zone', 'show_zonesm'])
        assert.match(JSON.stringify((await call(pb, m, m === 'set_zone' ? { zone: 'pa.test', flags: { editLock: false } } : { zone: 'pa.test' })).error.data.exception_type), /ZONE_NOT_FOUND|PERMISSION_DENIED/, m);
      assert.deepEqual((await call(pb, 'list_zone', {})).result, []);
      const batch = await fetch(`${url}/jsonrpc`, {
        method: 'POST',
        headers: { authorization: padmin },
        body: JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'delete_zone', params: { zone: 'pa.test' } }))),
      });
      assert.equal(((await batch.json()) as J).error.code, -32600);
      assert.equal(JSON.stringify((await call(padmin, 'list_zone', { which: 'all' })).result), zonesBefore, 'nothing changed');
      assert.equal((await call(padmin, 'list_audit', {})).result.length, auditBefore);
      // An nsupdate and its audit entry.
      const keyLine = zoneToolOk(st, ['generate_tsig_key', 'pg.key']).trim().split('\n').pop() as string;
      zoneToolOk(st, ['add_update_grant', 'pg-admin.test', 'grant pg.key zonesub TXT']);
      await new Promise((r) => setTimeout(r, 600));
      const u = spawnSync('nsupdate', ['-y', keyLine], { input: `server 127.0.0.1 ${p.port}\nzone pg-admin.test\nupdate add t.pg-admin.test. 60 TXT "pg"\nsend\n`, encoding: 'utf8' });
      assert.equal(u.status, 0, u.stdout + u.stderr);
      const audit = (await call(padmin, 'list_audit', { zone: 'pg-admin.test' })).result;
      assert.ok(audit.some((e: J) => e.operation === 'rfc2136_update' && e.source === '127.0.0.1'), JSON.stringify(audit));
      assert.ok(audit.some((e: J) => e.operation === 'create_zone' && e.actor === 'padmin/Admin'));
      const mine = (await call(pa, 'list_audit', {})).result;
      assert.ok(mine.length > 0 && mine.every((e: J) => e.zone === 'pa.test.'));
      const h = await fetch(`${url}/health`);
      assert.equal(h.status, 200);
    } finally {
      await p?.stop('SIGTERM');
      await pg.stop();
    }
  });
});
