// API accounts, tokens, the audit log and the HTTP application (in process, fastify inject) on SQLite and
// PostgreSQL: passwords only as scrypt hashes and tokens only as SHA-256, expiry, audit entries written with the
// change (and rolled back with it), customers seeing only their own zones' entries, a tenant matrix through the
// JSON-RPC layer with the database unchanged, and /health answering 503 when the zone table is not current.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildHttpApi } from '../../src/api/server.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import pino from 'pino';

const { backends } = testBackends();
const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 0 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n';

async function rows(s: Store, table: string): Promise<Record<string, unknown>[]> {
  return (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by 1`.execute(s.db)).rows;
}

async function dump(s: Store): Promise<string> {
  const out: unknown[] = [];
  for (const t of ['zones', 'zone_instances', 'records', 'zone_sectags', 'zone_changes', 'audit_log', 'api_accounts', 'api_tokens', 'config'])
    out.push([t, await rows(s, t)]);
  return JSON.stringify(out, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v));
}

for (const backend of backends)
  describe(`API accounts and audit on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
      const admin = ctxOf(s);
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.call(admin, 'create_zone', { zone: 'free.test', text: TEXT });
    });
    after(async () => {
      await s?.close();
    });

    test('passwords are kept as salted scrypt hashes; tokens as SHA-256; both verify', async () => {
      const admin = ctxOf(s);
      await svc.call(admin, 'create_api_account', { login: 'Ops', tier: 'admin', password: 'correct horse' });
      await svc.call(admin, 'create_api_account', { login: 'ops2', tier: 'admin', password: 'correct horse' });
      const accounts = await rows(s, 'api_accounts');
      const hashes = accounts.map((a) => String(a.password_hash));
      assert.ok(hashes.every((h) => h.startsWith('scrypt$') && !h.includes('correct horse')));
      assert.notEqual(hashes[0].split('$')[4], hashes[1].split('$')[4], 'a salt per account');
      assert.equal((await svc.verifyPassword(admin, 'ops', 'correct horse'))?.account.login, 'Ops', 'logins are case-insensitive');
      assert.equal(await svc.verifyPassword(admin, 'Ops', 'wrong horse'), null);
      assert.equal(await svc.verifyPassword(admin, 'nobody', 'correct horse'), null);
      await assert.rejects(svc.call(admin, 'create_api_account', { login: 'OPS', tier: 'admin' }), svc.AccountExists);
      await assert.rejects(svc.call(admin, 'create_api_account', { login: 'c1', tier: 'customer' }), /security tag/);
      await assert.rejects(svc.call(admin, 'create_api_account', { login: 'c1', tier: 'customer', sectag: 'NOPE' }), svc.SectagNotFound);

      const t = await svc.call(admin, 'create_api_token', { login: 'Ops', zone: 'free.test', readOnly: true });
      const stored = await rows(s, 'api_tokens');
      assert.ok(!JSON.stringify(stored).includes(t.token), 'the secret is not stored');
      assert.match(String(stored[0].token_hash), /^[0-9a-f]{64}$/);
      const who = await svc.verifyToken(admin, t.token);
      assert.equal(who?.token?.zone, 'free.test.');
      assert.equal(who?.token?.readOnly, true);
      // A remembered login does not outlive a password change.
      assert.ok(await svc.verifyPassword(admin, 'Ops', 'correct horse'));
      await svc.call(admin, 'set_api_account_password', { login: 'Ops', password: 'battery staple' });
      assert.equal(await svc.verifyPassword(admin, 'Ops', 'correct horse'), null);
      assert.ok(await svc.verifyPassword(admin, 'Ops', 'battery staple'));
      await svc.call(admin, 'set_api_account_password', { login: 'Ops', password: null });
      assert.equal(await svc.verifyPassword(admin, 'Ops', 'correct horse'), null, 'no password: tokens only');
      await svc.call(admin, 'revoke_api_token', { tokenId: t.info.id });
      assert.equal(await svc.verifyToken(admin, t.token), null);
      await assert.rejects(svc.call(admin, 'revoke_api_token', { tokenId: t.info.id }), svc.TokenNotFound);
    });

    test('a token expires by the context clock', async () => {
      const clock = manualClock(Date.UTC(2030, 0, 1));
      const c = ctxOf(s, 'tester@test/Admin', { clock });
      const t = await svc.call(c, 'create_api_token', { login: 'ops2', expires: '2h' });
      assert.ok(await svc.verifyToken(c, t.token));
      clock.advance(2 * 3600_000 + 1);
      assert.equal(await svc.verifyToken(c, t.token), null);
      await assert.rejects(svc.call(c, 'create_api_token', { login: 'ops2', expires: '2029-01-01' }), /past/);
    });

    test('audit: a change and its entry commit together; a failed change leaves neither', async () => {
      const c = svc.serviceContext(s, { actor: 'alice/Admin', source: '192.0.2.7' });
      await svc.call(c, 'disable_zone', { zone: 'free.test' });
      const [e] = await svc.listAudit(ctxOf(s), { zone: 'free.test', limit: 1 });
      assert.equal(e.operation, 'disable_zone');
      assert.equal(e.actor, 'alice/Admin');
      assert.equal(e.source, '192.0.2.7');
      assert.equal(e.summary, 'zone disabled');
      await svc.call(c, 'enable_zone', { zone: 'free.test' });
      const before = await dump(s);
      await assert.rejects(svc.call(c, 'create_zone', { zone: 'bad.test', text: 'www A nonsense\n' }), svc.ZoneValidationFailed);
      assert.equal(await dump(s), before, 'no zone, no audit entry');
      // Operations outside the zone commit path are audited by invoke, secrets left out.
      await svc.call(c, 'create_api_account', { login: 'aud1', tier: 'helpdesk', password: 'hunter2hunter2' });
      const [acc] = await svc.listAudit(ctxOf(s), { actor: 'alice/Admin', limit: 1 });
      assert.equal(acc.operation, 'create_api_account');
      assert.ok(!acc.summary.includes('hunter2'));
    });

    test('tenants: the JSON-RPC layer over every operation on another tenant\'s zone changes nothing', async () => {
      const admin = ctxOf(s);
      await svc.createSectag(admin, 'TA');
      await svc.createSectag(admin, 'TB');
      await svc.call(admin, 'create_api_account', { login: 'ta', tier: 'customer', sectag: 'TA', password: 'ta-password' });
      await svc.call(admin, 'create_api_account', { login: 'tb', tier: 'customer', sectag: 'TB', password: 'tb-password' });
      const ta = svc.serviceContext(s, { actor: 'ta/TA', tenant: { tier: 'customer', sectag: 'TA' } });
      const tb = svc.serviceContext(s, { actor: 'tb/TB', tenant: { tier: 'customer', sectag: 'TB' } });
      await svc.call(ta, 'create_zone', { zone: 'ta.test', text: TEXT });
      const app = buildHttpApi({ store: s, log: pino({ level: 'silent' }) });
      const auth = `Basic ${Buffer.from('tb:tb-password').toString('base64')}`;
      const before = await dump(s);
      for (const op of svc.listOperations()) {
        const r = await app.inject({ method: 'POST', url: '/jsonrpc', headers: { authorization: auth }, payload: JSON.stringify({ jsonrpc: '2.0', id: 1, method: op.name, params: { zone: 'ta.test' } }) });
        const j = r.json();
        if (j.result !== undefined) assert.ok(!JSON.stringify(j.result).includes('192.0.2.2'), `${op.name} shows another tenant's records`);
        else if (j.error.data.exception_type !== 'INVALID_PARAMS')
          assert.ok(['ZONE_NOT_FOUND', 'PERMISSION_DENIED', 'ZONE_EXISTS'].includes(j.error.data.exception_type), `${op.name}: ${JSON.stringify(j.error)}`);
      }
      assert.equal(await dump(s), before);
      // The audit log: a customer sees its own zones' entries only.
      const mine = await svc.listAudit(ta);
      assert.ok(mine.length > 0 && mine.every((e) => e.zone === 'ta.test.'));
      assert.deepEqual(await svc.listAudit(tb), []);
      await app.close();
    });

    test('/health: 200 when current, 503 when the zone table lags or the database is gone', async () => {
      let current = true;
      const app = buildHttpApi({ store: s, log: pino({ level: 'silent' }), feed: async () => ({ current, lag: current ? 0 : 5, seq: 1 }) });
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      current = false;
      const r = await app.inject({ method: 'GET', url: '/health' });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().zoneTable.lag, 5);
      await app.close();
      const gone = await backend.reopen();
      await gone.close();
      const dead = buildHttpApi({ store: gone, log: pino({ level: 'silent' }) });
      const d = await dead.inject({ method: 'GET', url: '/health' });
      assert.equal(d.statusCode, 503);
      assert.match(d.json().database, /unreachable/);
      await dead.close();
    });
  });
