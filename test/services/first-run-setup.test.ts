// The first-run set-up (src/api/setup.ts, issue 10) on SQLite and PostgreSQL: the first admin account is created
// only while none exists, checked in the inserting transaction, so that concurrent set-ups from two store handles
// (two dmsd on one database) give exactly one account; and the HTTP routes in process (fastify inject, whose
// remoteAddress stands for the client's address): loopback-only without TLS, wrong tokens counted by the failed-login
// limiter shared with POST /session, the token in no answer, log line, metric or database row.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { LoginGuard } from '../../src/api/auth.js';
import { buildHttpApi } from '../../src/api/server.js';
import { FirstRunSetup, SETUP_ACTOR, setupUrl } from '../../src/api/setup.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

async function rows(s: Store, table: string): Promise<Record<string, unknown>[]> {
  return (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by 1`.execute(s.db)).rows;
}

async function admins(s: Store): Promise<string[]> {
  return (await svc.listAccounts(ctxOf(s))).filter((a) => a.tier === 'admin').map((a) => a.login);
}

const setupCtx = (s: Store, source = '127.0.0.1') => svc.serviceContext(s, { actor: SETUP_ACTOR, source, firstAdminOnly: true });

/** PostgreSQL: a transaction holding SHARE ROW EXCLUSIVE on api_accounts (no INSERT gets through) until release(). */
function holdInserts(s: Store): { held: Promise<void>; release(): void; done: Promise<void> } {
  let release!: () => void;
  let held!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const heldP = new Promise<void>((r) => {
    held = r;
  });
  const done = s.db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    await sql`lock table api_accounts in share row exclusive mode`.execute(conn);
    held();
    await gate;
    await sql`commit`.execute(conn);
  });
  return { held: heldP, release, done };
}

/** How many sessions of this database wait on a lock, once there are `n` (or at `ms`, however many there are). */
async function waitingOnLocks(s: Store, n: number, ms: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const r = await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(s.db);
    const got = Number(r.rows[0].n);
    if (got >= n || Date.now() - t0 > ms) return got;
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** A pino logger whose lines are kept in `lines`. */
function capturedLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

for (const backend of backends)
  describe(`first-run set-up on ${backend.name}`, () => {
    let s: Store;
    let s2: Store;
    before(async () => {
      s = await backend.open();
      // A second handle on the same database: another dmsd's view, with its own connections.
      s2 = await backend.reopen();
    });
    after(async () => {
      await s2?.close();
      await s?.close();
    });

    test('concurrent set-ups from two store handles: exactly one admin account, the others SETUP_DONE', async () => {
      // Accounts of other tiers do not count: the set-up is for a database no one can administer through the API.
      await svc.createSectag(ctxOf(s), 'CUST');
      await svc.call(ctxOf(s), 'create_api_account', { login: 'help', tier: 'helpdesk', password: 'help-password' });
      await svc.call(ctxOf(s), 'create_api_account', { login: 'cust', tier: 'customer', sectag: 'CUST', password: 'cust-password' });
      assert.equal(await svc.hasAdminAccount(ctxOf(s)), false);
      // On PostgreSQL the set-ups are made to overlap for sure: a transaction of the test holds back every INSERT into
      // api_accounts (reads go on) until all 8 set-ups wait on a lock; only then is it released. Without the set-up's
      // lock each would have seen "no admin" and inserted (8 admins); with it, 1 waits on the INSERT, 7 on the lock.
      const gate = backend.name === 'postgres' ? holdInserts(s) : undefined;
      if (gate) await gate.held;
      const tries = Array.from({ length: 8 }, (_, i) =>
        svc.invoke(setupCtx(i % 2 ? s2 : s), 'create_api_account', { login: `first${i}`, tier: 'admin', password: `password-${i}` }),
      );
      if (gate) {
        const waiting = await waitingOnLocks(s, 8, 30_000);
        gate.release();
        await gate.done;
        assert.equal(waiting, 8);
      }
      const out = await Promise.allSettled(tries);
      const won = out.filter((r) => r.status === 'fulfilled');
      const lost = out.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, JSON.stringify(out.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
      for (const r of lost) assert.ok(r.reason instanceof svc.SetupDone, String(r.reason));
      assert.equal((await admins(s)).length, 1);
      assert.equal(await svc.hasAdminAccount(ctxOf(s2)), true);
      // One audit entry, the set-up's, the password left out.
      const audit = (await svc.listAudit(ctxOf(s), { actor: SETUP_ACTOR })).map((e) => e.summary);
      assert.equal(audit.length, 1);
      assert.match(audit[0], /^create_api_account login=first\d tier=admin$/);
      // Afterwards nothing more through the set-up; zone_tool's way (an admin's create_api_account) still works.
      await assert.rejects(svc.invoke(setupCtx(s), 'create_api_account', { login: 'late', tier: 'admin', password: 'late-password' }), svc.SetupDone);
      await svc.call(ctxOf(s), 'create_api_account', { login: 'second', tier: 'admin', password: 'second-password' });
      assert.equal((await admins(s)).length, 2);
    });
  });

describe('first-run set-up over HTTP (in process)', () => {
  const backend = backends[0];
  let s: Store;
  before(async () => {
    s = await backend.open();
  });
  after(async () => {
    await s?.close();
  });

  test('the URL printed: the listener, a wildcard address as loopback, IPv6 in brackets', () => {
    assert.equal(setupUrl('127.0.0.1', 8080, false), 'http://127.0.0.1:8080/#/setup');
    assert.equal(setupUrl('0.0.0.0', 8080, true), 'https://127.0.0.1:8080/#/setup');
    assert.equal(setupUrl('::', 8443, true), 'https://[::1]:8443/#/setup');
    assert.equal(setupUrl('2001:db8::1', 443, true), 'https://[2001:db8::1]:443/#/setup');
  });

  test('loopback only without TLS; wrong tokens hit the login limiter; the right one makes the admin and logs in; then dead', async () => {
    const { log, lines } = capturedLog();
    const setup = new FirstRunSetup();
    const guard = new LoginGuard(3, 60_000, 60_000);
    const app = buildHttpApi({ store: s, log, setup, guard, webRoot: null });
    const answers: string[] = [];
    const post = async (body: unknown, remoteAddress = '127.0.0.1', type = 'application/json') => {
      const r = await app.inject({ method: 'POST', url: '/setup', remoteAddress, headers: { 'content-type': type }, payload: JSON.stringify(body) });
      answers.push(r.body, JSON.stringify(r.headers));
      return r;
    };
    const get = async () => (await app.inject({ method: 'GET', url: '/setup' })).json();

    // No token issued by this process (startHttpApi issues one only when asked and no admin exists): nothing to set up.
    assert.deepEqual(await get(), { needed: false });
    assert.equal((await post({ token: 'dms-setup-x', login: 'noc', password: 'noc-password' })).statusCode, 409);

    const token = setup.issue();
    assert.match(token, /^dms-setup-[A-Za-z0-9_-]{43}$/, '256 random bits');
    assert.notEqual(new FirstRunSetup().issue(), token);
    assert.deepEqual(await get(), { needed: true }, 'a boolean and nothing else');

    // A non-loopback client over plain HTTP: refused with the reason, before the token is even looked at.
    let r = await post({ token, login: 'noc', password: 'noc-password' }, '192.0.2.7');
    assert.equal(r.statusCode, 403);
    assert.match(r.json().error.message, /only from this machine .*loopback.* or over HTTPS: not from 192\.0\.2\.7/);
    r = await post({ token, login: 'noc', password: 'noc-password' }, 'fd00::7');
    assert.equal(r.statusCode, 403);
    assert.equal(guard.retryAfter('192.0.2.7'), 0, 'a refused address is not a failed login');
    // Not JSON: refused (another site's form cannot post here).
    assert.equal((await post({ token, login: 'noc', password: 'noc-password' }, '127.0.0.1', 'text/plain')).statusCode, 415);

    // Wrong tokens: 401 with a message, counted by the limiter that POST /session uses; past its limit even the right
    // token and a password login from that address wait.
    // (The last character replaced by one it is not: a digit could be the token's own last character.)
    const others = '01234'.replace(token.slice(-1), '');
    for (let i = 0; i < 4; i++) {
      r = await post({ token: `${token.slice(0, -1)}${others[i]}`, login: 'noc', password: 'noc-password' }, '::ffff:127.0.0.1');
      assert.equal(r.statusCode, 401);
      assert.match(r.json().error.message, /wrong set-up token/);
    }
    r = await post({ token, login: 'noc', password: 'noc-password' }, '::ffff:127.0.0.1');
    assert.equal(r.statusCode, 429);
    assert.ok(Number(r.headers['retry-after']) > 0);
    const login = await app.inject({ method: 'POST', url: '/session', remoteAddress: '::ffff:127.0.0.1', headers: { 'content-type': 'application/json' }, payload: '{"login":"x","password":"y"}' });
    assert.equal(login.statusCode, 429, 'the same limiter as the login form');
    assert.deepEqual(await admins(s), []);

    // The right token with fields create_api_account refuses: the field and its message; the token stays good.
    r = await post({ token, login: 'noc', password: 'short' }, '127.0.0.2');
    assert.equal(r.statusCode, 400);
    assert.deepEqual(r.json().error.problems, [{ path: 'password', message: 'too short: at least 8 characters' }]);
    r = await post({ token, login: 'bad login!', password: 'noc-password' }, '127.0.0.2');
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error.message, /bad login/);
    assert.deepEqual(await get(), { needed: true });

    // The right token: the admin account, a session (cookie and CSRF token) for it, the token spent.
    r = await post({ token: ` ${token}\n`, login: 'noc', password: 'noc-password' }, '::1');
    assert.equal(r.statusCode, 200, r.body);
    const me = r.json();
    assert.equal(me.login, 'noc');
    assert.equal(me.tier, 'admin');
    const cookie = String(r.headers['set-cookie']);
    assert.match(cookie, /^dms_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const call = await app.inject({
      method: 'POST',
      url: '/jsonrpc',
      headers: { cookie: cookie.split(';')[0], 'x-dms-csrf': me.csrf, 'content-type': 'application/json' },
      payload: '{"jsonrpc":"2.0","id":1,"method":"ls_api_account"}',
    });
    assert.deepEqual(
      call.json().result.map((a: { login: string; tier: string }) => [a.login, a.tier]),
      [['noc', 'admin']],
    );
    assert.equal(setup.open, false);
    assert.deepEqual(await get(), { needed: false });
    r = await post({ token, login: 'noc2', password: 'noc-password' }, '127.0.0.1');
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().error.exception_type, 'SETUP_DONE');
    assert.deepEqual(await admins(s), ['noc']);

    // The token is in no answer, log line, metric or stored row.
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /route="\/setup"/, 'the set-up calls are counted, by route');
    const stored = JSON.stringify([await rows(s, 'api_accounts'), await rows(s, 'audit_log'), await rows(s, 'config')]);
    for (const [what, text] of [
      ['answers', answers.join('\n')],
      ['log', lines.join('')],
      ['metrics', metrics],
      ['database', stored],
    ])
      assert.ok(!text.includes(token) && !text.includes(token.slice('dms-setup-'.length)), `the token is in the ${what}`);
    assert.ok(lines.some((l) => /wrong set-up token/.test(l)), 'failed attempts are logged (without the token)');
    assert.ok(lines.some((l) => /admin API account created/.test(l)));
    await app.close();
  });

  test('with TLS a client of any address may set up', async () => {
    const t = await backend.open();
    try {
      const setup = new FirstRunSetup();
      const token = setup.issue();
      const app = buildHttpApi({ store: t, log: pino({ level: 'silent' }), setup, tlsEnabled: true, webRoot: null });
      const r = await app.inject({
        method: 'POST',
        url: '/setup',
        remoteAddress: '192.0.2.7',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ token, login: 'remote', password: 'remote-password' }),
      });
      assert.equal(r.statusCode, 200, r.body);
      assert.match(String(r.headers['set-cookie']), /; Secure$/);
      assert.deepEqual(await admins(t), ['remote']);
      await app.close();
    } finally {
      await t.close();
    }
  });
});
