// The first-run set-up (issue 10: "an operator who never used zone_tool can run DMS from the browser") end to end: a
// real dmsd on an empty database prints a one-time set-up token on its output; Debian's headless Chromium (playwright-
// core) opens the web UI, is offered the set-up screen (axe-checked, photographed into test-artifacts/web-ui/), is
// refused a wrong token, makes the first admin with the right one, lands logged in and creates a zone that dig then
// gets from dmsd. After it the endpoint refuses and the screen is gone, also for a dmsd started later. Over plain HTTP
// against real dmsd processes: concurrent set-ups (exactly one wins), a client on a non-loopback address of this
// machine refused, zone_tool create_api_account still the other way (and it kills the printed token), and the token
// printed once and found nowhere else (log, /metrics, audit log, answers). Needs `npm run build`.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { MIN_PASSWORD_LENGTH } from '../../src/services/index.js';
import { type Browser, launchChromium, seriousA11yViolations } from '../helpers/browser.js';
import { dig, listeningPort, type Server, sqliteArgs, startDmsdDb, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { REPO_ROOT } from '../helpers/servers.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read as loosely typed JSON
type J = any;

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web-ui');
const TOKEN_RE = /set-up token: (dms-setup-[A-Za-z0-9_-]+)/g;
const PASSWORD = 'first-admin-pw';
const ZONE = 'first-run.test';

/** Every set-up token dmsd has printed so far. */
function printed(s: Server): string[] {
  return [...s.output().matchAll(TOKEN_RE)].map((m) => m[1]);
}

/** The set-up token dmsd prints once it listens (after its "listening" line for http). */
async function tokenOf(s: Server): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const t = printed(s);
    if (t.length > 0) return t[0];
    if (Date.now() - t0 > 20_000) throw new Error(`no set-up token printed:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How often `needle` occurs in `hay`. */
function count(hay: string, needle: string): number {
  return hay.split(needle).length - 1;
}

async function setupPost(base: string, body: unknown): Promise<{ status: number; body: J; text: string }> {
  const r = await fetch(`${base}/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text), text };
}

async function setupNeeded(base: string): Promise<J> {
  return (await fetch(`${base}/setup`)).json();
}

async function rpc(base: string, login: string, password: string, method: string, params: unknown = {}): Promise<J> {
  const r = await fetch(`${base}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const j = (await r.json()) as J;
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

/** A fresh database (no account at all) and a dmsd on it with the HTTP API on `http`. */
async function freshDmsd(http = '127.0.0.1:0', extra: string[] = []): Promise<{ data: string; srv: Server; base: string }> {
  const data = mkdtempSync(join(tmpdir(), 'dms-setup-'));
  const srv = await startDmsdDb(sqliteArgs(data), ['--http', http, ...extra]);
  const port = await listeningPort(srv, 'http');
  const host = http.startsWith('[') ? http.slice(0, http.indexOf(']') + 1) : http.slice(0, http.lastIndexOf(':'));
  return { data, srv, base: `http://${host}:${port}` };
}

describe('first-run set-up in headless Chromium', { concurrency: false }, () => {
  let data: string;
  let srv: Server;
  let base: string;
  let dnsPort: number;
  let token: string;
  let browser: Browser;
  let page: Page;
  const answers: string[] = [];

  async function screen(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    const v = await seriousA11yViolations(page);
    assert.deepEqual(v, [], `${name}: axe-core serious/critical violations:\n${JSON.stringify(v, null, 2)}`);
  }

  async function fillSetup(t: string, login: string, pw: string, again = pw): Promise<void> {
    const form = page.getByRole('form', { name: 'Set up DMS' });
    await form.getByLabel('Set-up token').fill(t);
    await form.getByLabel('Administrator login').fill(login);
    await form.getByLabel('Password', { exact: true }).fill(pw);
    await form.getByLabel('Password again').fill(again);
    await form.getByRole('button', { name: 'Create administrator and log in' }).click();
  }

  before(async () => {
    assert.ok(existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html')), 'the UI is built: run npm run build');
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ data, srv, base } = await freshDmsd());
    dnsPort = await listeningPort(srv, 'udp');
    token = await tokenOf(srv);
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('response', async (r) => {
      answers.push(`${r.url()} ${JSON.stringify(await r.allHeaders())} ${await r.text().catch(() => '')}`);
    });
  });

  after(async () => {
    await browser?.close();
    await srv?.stop('SIGTERM');
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('dmsd on an empty database prints a set-up token (256 bits) and the URL, once; GET /setup says only that it is needed', async () => {
    assert.match(token, /^dms-setup-[A-Za-z0-9_-]{43}$/);
    assert.match(srv.output(), new RegExp(`Open ${base.replace(/[.]/g, '\\.')}/#/setup\\n`));
    assert.equal(count(srv.output(), token), 1);
    assert.deepEqual(await setupNeeded(base), { needed: true });
  });

  test('the set-up screen instead of the login: labelled fields, the password rule, axe-clean', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Set up DMS' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Log in to DMS' }).count(), 0);
    // The rule the screen states is create_api_account's.
    assert.match((await page.locator('form').textContent()) ?? '', new RegExp(`At least ${MIN_PASSWORD_LENGTH} characters`));
    // The first field has the focus: the token can be pasted at once.
    assert.equal(await page.evaluate(() => (globalThis as J).document.activeElement?.name), 'setup-token');
    await screen('setup');
  });

  test('a wrong token is refused with a message; differing or short passwords are refused at their field; nothing is created', async () => {
    await fillSetup('dms-setup-not-the-token', 'noc', PASSWORD);
    await page.getByRole('alert').filter({ hasText: 'wrong set-up token' }).waitFor();
    await screen('setup-wrong-token');
    await fillSetup(token, 'noc', PASSWORD, `${PASSWORD}x`);
    await page.getByRole('alert').filter({ hasText: 'the two passwords differ' }).waitFor();
    await fillSetup(token, 'noc', 'short');
    await page.locator('#setup-password-error').filter({ hasText: `at least ${MIN_PASSWORD_LENGTH} characters` }).waitFor();
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await setupNeeded(base), { needed: true }, 'refused attempts do not spend the token');
  });

  test('the right token: the operator lands logged in as the new admin and creates a zone that dmsd serves', async () => {
    await fillSetup(token, 'noc', PASSWORD);
    await page.getByRole('heading', { name: 'Zones' }).waitFor();
    assert.match((await page.locator('header .who').textContent()) ?? '', /noc \(admin\)/);
    const c = (await browser.context.cookies(base)).find((x) => x.name === 'dms_session');
    assert.ok(c?.httpOnly && c.sameSite === 'Strict', 'a session cookie like the login form gives');
    await page.getByText('Create a zone').click();
    await page.getByLabel('Zone name, or a network for a reverse zone').fill(ZONE);
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.getByRole('heading', { name: `Zone ${ZONE}.` }).waitFor();
    const t0 = Date.now();
    let soa = '';
    while (!/\sSOA\s/.test(soa) && Date.now() - t0 < 10_000) {
      soa = dig(dnsPort, ['+norec', '+noall', '+answer', ZONE, 'SOA']);
      if (!/\sSOA\s/.test(soa)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(soa, new RegExp(`^${ZONE.replace('.', '\\.')}\\.\\s+\\d+\\s+IN\\s+SOA\\s`, 'm'));
    await screen('setup-done-zone');
  });

  test('after the set-up: the endpoint refuses, the set-up screen is not offered, the token is nowhere but its one print', async () => {
    const again = await setupPost(base, { token, login: 'noc2', password: PASSWORD });
    answers.push(again.text);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.exception_type, 'SETUP_DONE');
    assert.match(again.body.error.message, /set-up is done/);
    assert.deepEqual(await setupNeeded(base), { needed: false });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to DMS' }).waitFor();
    await page.goto(`${base}/#/setup`);
    await page.reload();
    await page.getByRole('heading', { name: 'Log in to DMS' }).waitFor();
    await page.getByText('The first-run set-up is done').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Set up DMS' }).count(), 0);
    await screen('setup-after');
    // The account works with HTTP Basic too; its creation is in the audit log as create_api_account, without secrets.
    const audit = await rpc(base, 'noc', PASSWORD, 'list_audit', { actor: 'first-run-setup/Admin' });
    assert.deepEqual(
      audit.map((e: J) => [e.operation, e.summary, e.source]),
      [['create_api_account', 'create_api_account login=noc tier=admin', '127.0.0.1']],
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const auditAll = JSON.stringify(await rpc(base, 'noc', PASSWORD, 'list_audit', {}));
    for (const [what, text] of [
      ['metrics', metrics],
      ['audit log', auditAll],
      ['answers', answers.join('\n')],
    ])
      assert.equal(count(text, token), 0, `the token is in the ${what}`);
    assert.equal(count(srv.output(), token), 1, 'printed once, never logged again');
  });

  test('a dmsd started later on the same database prints no token, offers no set-up and refuses the old token', async () => {
    await srv.stop('SIGTERM');
    srv = await startDmsdDb(sqliteArgs(data), ['--http', '127.0.0.1:0']);
    base = `http://127.0.0.1:${await listeningPort(srv, 'http')}`;
    // dmsd decides about the set-up (and prints a token) before it logs its http "listening" line.
    assert.deepEqual(await setupNeeded(base), { needed: false });
    assert.deepEqual(printed(srv), []);
    assert.doesNotMatch(srv.output(), /first-run set-up/);
    const r = await setupPost(base, { token, login: 'noc3', password: PASSWORD });
    assert.equal(r.status, 409);
    // zone_tool create_api_account works beside it, as before.
    zoneToolOk(sqliteArgs(data), ['create_api_account', '-P', 'noc4', 'admin'], `${PASSWORD}\n`);
    assert.deepEqual(
      (await rpc(base, 'noc4', PASSWORD, 'ls_api_account')).map((a: J) => a.login),
      ['noc', 'noc4'],
    );
  });
});

describe('first-run set-up against real dmsd processes', () => {
  test('concurrent set-ups with the right token: exactly one wins, the others get SETUP_DONE', async () => {
    const { data, srv, base } = await freshDmsd();
    try {
      const token = await tokenOf(srv);
      const out = await Promise.all(Array.from({ length: 8 }, (_, i) => setupPost(base, { token, login: `racer${i}`, password: `${PASSWORD}-${i}` })));
      const statuses = out.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(out.map((r) => r.body)));
      for (const r of out.filter((x) => x.status === 409)) assert.equal(r.body.error.exception_type, 'SETUP_DONE');
      const winner = out.find((r) => r.status === 200)?.body.login;
      const accounts = await rpc(base, winner, `${PASSWORD}-${winner.slice('racer'.length)}`, 'ls_api_account');
      assert.deepEqual(
        accounts.map((a: J) => [a.login, a.tier]),
        [[winner, 'admin']],
      );
      assert.equal(count(srv.output(), token), 1);
    } finally {
      await srv.stop('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    }
  });

  test('zone_tool create_api_account on the fresh database instead: the printed token is dead', async () => {
    const { data, srv, base } = await freshDmsd();
    try {
      const token = await tokenOf(srv);
      assert.deepEqual(await setupNeeded(base), { needed: true });
      zoneToolOk(sqliteArgs(data), ['create_api_account', '-P', 'ops', 'admin'], `${PASSWORD}\n`);
      assert.deepEqual(await setupNeeded(base), { needed: false });
      const r = await setupPost(base, { token, login: 'late', password: PASSWORD });
      assert.equal(r.status, 409);
      assert.deepEqual(
        (await rpc(base, 'ops', PASSWORD, 'ls_api_account')).map((a: J) => a.login),
        ['ops'],
      );
    } finally {
      await srv.stop('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    }
  });

  // A client on a non-loopback address of this machine (dmsd listening there with --http-insecure): the set-up is
  // refused with the reason. Without such an address the same rule is proven in process
  // (test/services/first-run-setup.test.ts, fastify inject with a remote address); the skip says so.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4');
  test('a client on a non-loopback address over plain HTTP is refused', { skip: external ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const addr = external?.address as string;
    const { data, srv, base } = await freshDmsd(`${addr}:0`, ['--http-insecure']);
    try {
      const token = await tokenOf(srv);
      assert.equal(base, `http://${addr}:${new URL(base).port}`);
      assert.deepEqual(await setupNeeded(base), { needed: true });
      const r = await setupPost(base, { token, login: 'remote', password: PASSWORD });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.exception_type, 'PERMISSION_DENIED');
      assert.match(r.body.error.message, new RegExp(`only from this machine .* or over HTTPS: not from ${addr.replace(/\./g, '\\.')}`));
      assert.deepEqual(await setupNeeded(base), { needed: true }, 'nothing created; the token still good for a local client');
    } finally {
      await srv.stop('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    }
  });
});
