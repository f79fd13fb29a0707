// Two control panels editing one zone through the JSON-RPC API of a real dmsd (fetch over HTTP): the second writer
// gets a conflict and nothing is lost or overwritten silently — edit lock + token (edit_zone / update_zone_text),
// base versions (update_zone_text with baseVersion), expected serials (update_rrs), stale and foreign tokens, and
// a race of many concurrent update_rrs calls that each name the serial they read.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { dumpTables } from '../helpers/dump.js';
import { dig as digRaw, listeningPort, type Server, sqliteArgs, startDmsdDb, zoneToolOk } from '../helpers/dmsd-db.support.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are read as loosely typed JSON
type J = any;

const ZONE = 'race.test';
const basic = (login: string, pw: string) => `Basic ${Buffer.from(`${login}:${pw}`).toString('base64')}`;
const PANEL1 = basic('panel1', 'panel1-pass');
const PANEL2 = basic('panel2', 'panel2-pass');

let data: string;
let srv: Server;
let base: string;

async function rpc(auth: string, method: string, params: unknown): Promise<J> {
  const r = await fetch(`${base}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  assert.equal(r.status, 200);
  return r.json();
}
async function ok(auth: string, method: string, params: unknown): Promise<J> {
  const r = await rpc(auth, method, params);
  assert.ok('result' in r, `${method}: ${JSON.stringify(r)}`);
  return r.result;
}
/** The error's class name and code (e.g. "EditLockConflict EDIT_LOCK_CONFLICT"), matched against `type`. */
async function refused(auth: string, method: string, params: unknown, type: RegExp): Promise<J> {
  const r = await rpc(auth, method, params);
  assert.ok('error' in r, `${method} should be refused: ${JSON.stringify(r)}`);
  assert.match(`${r.error.data?.name} ${r.error.data?.exception_type}`, type, JSON.stringify(r.error));
  return r.error;
}

/** dig +short through dmsd. */
async function dig(server: Server, name: string, type: string): Promise<string> {
  return digRaw(server.port, [name, type, '+short', '+norec']).trim();
}

/** The zone data: versions and records (the audit log and token times may move on a refusal). */
async function dump(): Promise<string> {
  const st = await openStore({ dataDir: data });
  try {
    return await dumpTables(st, ['zone_instances', 'records']);
  } finally {
    await st.close();
  }
}


before(async () => {
  data = mkdtempSync(join(tmpdir(), 'dms-api-race-'));
  const st = sqliteArgs(data);
  zoneToolOk(st, ['create_api_account', '-P', 'panel1', 'admin'], 'panel1-pass\n');
  zoneToolOk(st, ['create_api_account', '-P', 'panel2', 'admin'], 'panel2-pass\n');
  srv = await startDmsdDb(st, ['--http', '127.0.0.1:0']);
  base = `http://127.0.0.1:${await listeningPort(srv, 'http')}`;
  await ok(PANEL1, 'create_zone', { zone: ZONE, text: 'www 300 IN A 192.0.2.1\n' });
});

after(async () => {
  await srv?.stop('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

describe('two clients editing one zone', () => {
  test('edit lock: the second edit_zone is refused while the first holds it; the holder saves; the lock is gone after', async () => {
    const e1 = await ok(PANEL1, 'edit_zone', { zone: ZONE });
    assert.ok(e1.token && e1.text.includes('192.0.2.1'));
    const before = await dump();
    const err = await refused(PANEL2, 'edit_zone', { zone: ZONE }, /EditLock/);
    assert.match(err.message, /panel1/, 'the refusal names who holds the lock');
    // A save without the token while the lock is held: refused, nothing written.
    await refused(PANEL2, 'update_zone_text', { zone: ZONE, text: 'www 300 IN A 192.0.2.99\n' }, /EditLock/);
    assert.equal(await dump(), before, 'nothing stored by the refused calls');
    const saved = await ok(PANEL1, 'update_zone_text', { zone: ZONE, token: e1.token, text: e1.text.replace('192.0.2.1', '192.0.2.2') });
    assert.ok(saved.version > e1.baseVersion);
    // The token is spent: saving again with it is refused.
    await refused(PANEL1, 'update_zone_text', { zone: ZONE, token: e1.token, text: 'www 300 IN A 192.0.2.3\n' }, /StaleEditToken|EditToken/);
    // The lock is released: the second panel can edit now, from the saved text.
    const e2 = await ok(PANEL2, 'edit_zone', { zone: ZONE });
    assert.match(e2.text, /192\.0\.2\.2/);
    await ok(PANEL2, 'cancel_edit_zone', { zone: ZONE, token: e2.token });
    assert.equal(await dig(srv, `www.${ZONE}`, 'A'), '192.0.2.2');
  });

  test('a token of another zone or a made-up token is refused', async () => {
    await ok(PANEL1, 'create_zone', { zone: 'other.test', text: 'x 300 IN A 192.0.2.7\n' });
    const e = await ok(PANEL1, 'edit_zone', { zone: 'other.test' });
    const before = await dump();
    await refused(PANEL1, 'update_zone_text', { zone: ZONE, token: e.token, text: 'www 300 IN A 192.0.2.66\n' }, /StaleEditToken|EditToken/);
    await refused(PANEL1, 'update_zone_text', { zone: ZONE, token: 'f'.repeat(32), text: 'www 300 IN A 192.0.2.66\n' }, /StaleEditToken|EditToken|InvalidParams/);
    assert.equal(await dump(), before);
    await ok(PANEL1, 'cancel_edit_zone', { zone: 'other.test', token: e.token });
  });

  test('baseVersion: the second of two writers from the same version gets EditConflict, and the first change stays', async () => {
    const head = await ok(PANEL1, 'show_zone', { zone: ZONE });
    const v = head.zone.latestVersion;
    assert.ok(Number.isInteger(v), JSON.stringify(head.zone));
    await ok(PANEL1, 'update_zone_text', { zone: ZONE, baseVersion: v, text: 'www 300 IN A 192.0.2.10\nfirst 300 IN A 192.0.2.11\n' });
    const before = await dump();
    const err = await refused(PANEL2, 'update_zone_text', { zone: ZONE, baseVersion: v, text: 'www 300 IN A 192.0.2.20\n' }, /EditConflict/);
    assert.match(err.message, new RegExp(String(v)), 'the conflict says which version it was based on');
    assert.equal(await dump(), before, 'the second writer stored nothing');
    assert.equal(await dig(srv, `first.${ZONE}`, 'A'), '192.0.2.11');
  });

  test('update_rrs with the serial read: concurrent writers — exactly the ones that saw the newest serial win, none is lost', async () => {
    const serialNow = async () => Number((await ok(PANEL1, 'show_zone', { zone: ZONE })).zi.soaSerial);
    const s0 = await serialNow();
    // Eight clients read the same serial and each add their own name: one wins, the others conflict.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rpc(i % 2 ? PANEL2 : PANEL1, 'update_rrs', { zone: ZONE, serial: s0, records: [{ action: 'add', name: `c${i}`, type: 'A', ttl: 300, rdata: `192.0.2.${100 + i}` }] }),
      ),
    );
    const won = results.map((r, i) => ('result' in r ? i : -1)).filter((i) => i >= 0);
    const lost = results.filter((r) => 'error' in r);
    assert.equal(won.length, 1, `one writer wins: ${JSON.stringify(results)}`);
    for (const r of lost) assert.match(`${r.error.data?.name} ${r.error.data?.exception_type}`, /Conflict|CONFLICT/, JSON.stringify(r.error));
    // The winner's record is served; the losers' are not (nothing half-applied).
    for (let i = 0; i < 8; i++) assert.equal(await dig(srv, `c${i}.${ZONE}`, 'A'), won.includes(i) ? `192.0.2.${100 + i}` : '');
    // Retrying with the new serial, each loser gets through in turn: nothing lost in the end.
    for (let i = 0; i < 8; i++) {
      if (won.includes(i)) continue;
      for (let attempt = 0; ; attempt++) {
        const r = await rpc(PANEL1, 'update_rrs', { zone: ZONE, serial: await serialNow(), records: [{ action: 'add', name: `c${i}`, type: 'A', ttl: 300, rdata: `192.0.2.${100 + i}` }] });
        if ('result' in r) break;
        assert.ok(attempt < 3, JSON.stringify(r));
      }
    }
    for (let i = 0; i < 8; i++) assert.equal(await dig(srv, `c${i}.${ZONE}`, 'A'), `192.0.2.${100 + i}`);
  });

  test('update_rrs without a serial: concurrent writers are all applied, in some order, none lost', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        rpc(i % 2 ? PANEL2 : PANEL1, 'update_rrs', { zone: ZONE, records: [{ action: 'add', name: `n${i}`, type: 'TXT', ttl: 300, rdata: `"writer ${i}"` }] }),
      ),
    );
    for (const r of results) assert.ok('result' in r, JSON.stringify(r));
    for (let i = 0; i < 10; i++) assert.equal(await dig(srv, `n${i}.${ZONE}`, 'TXT'), `"writer ${i}"`);
  });
});
