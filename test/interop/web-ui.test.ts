// The web UI (issue 10) end to end: a real dmsd serving the built UI at / on --http, Debian's headless Chromium
// driven by playwright-core, dig for what dmsd answers, zone_tool and the JSON-RPC API (HTTP Basic) as the other
// parties. Each screen is checked by axe-core (no serious or critical violation) and photographed into
// test-artifacts/web-ui/ (ignored by git; CI keeps it). Needs `npm run build` (the UI is built into dist/web).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, launchChromium, seriousA11yViolations } from '../helpers/browser.js';
import { dig, type Server, sqliteArgs, startDmsdDb, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { logged } from '../helpers/secondaries.js';
import { REPO_ROOT } from '../helpers/servers.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers are read as loosely typed JSON
type J = any;
// The page's globals inside page.evaluate (the tests are compiled without the DOM library).
// biome-ignore lint/suspicious/noExplicitAny: browser globals
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: browser globals
declare const navigator: any;

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'web-ui');
const PW = { admin: 'admin-pass-1', admin2: 'admin2-pass-1', help: 'help-pass-1', custA: 'custA-pass-1', custB: 'custB-pass-1' };
const ZONE = 'ui-made.test';
const ZONE_B = 'b-tenant.test';

let data: string;
let store: string[];
let srv: Server;
let base: string;
let dnsPort: number;
let browser: Browser;
let page: Page;

function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}

async function api(method: string, params: unknown = {}, auth = basic('admin1', PW.admin)): Promise<J> {
  const r = await fetch(`${base}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const j = (await r.json()) as J;
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

function portOf(s: Server, proto: string): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const look = () => {
      for (const line of s.output().split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; proto?: string; port?: number };
          if (j.msg === 'listening' && j.proto === proto && typeof j.port === 'number') return res(j.port);
        } catch {
          // not JSON
        }
      }
      if (Date.now() - t0 > 20_000) return rej(new Error(`no ${proto} listening line:\n${s.output()}`));
      setTimeout(look, 50);
    };
    look();
  });
}

/** A locator's text ('' when it has none). */
async function text(l: { textContent(): Promise<string | null> }): Promise<string> {
  return (await l.textContent()) ?? '';
}

/** Screenshot (kept as a CI artifact) and the accessibility check of the screen as it is now. */
async function screen(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const v = await seriousA11yViolations(page);
  assert.deepEqual(v, [], `${name}: axe-core serious/critical violations:\n${JSON.stringify(v, null, 2)}`);
}

async function login(user: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Login').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Zones' }).waitFor();
}

async function logout(): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to DMS' }).waitFor();
}

/** What dmsd answers for name/type (the answer section's data), polled until `want` or 10 s. */
async function waitAnswer(name: string, type: string, want: (rdata: string[]) => boolean): Promise<string[]> {
  const t0 = Date.now();
  for (;;) {
    const out = dig(dnsPort, ['+norec', '+noall', '+answer', name, type]);
    const rdata = out
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith(';'))
      .map((l) => l.split(/\s+/).slice(4).join(' '));
    if (want(rdata)) return rdata;
    if (Date.now() - t0 > 10_000) throw new Error(`dig ${name} ${type}: ${JSON.stringify(rdata)}\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function versions(zone: string): Promise<{ published: number; latest: number; count: number }> {
  const r = await api('list_zi', { zone });
  return { published: r.zone.publishedVersion, latest: r.zone.latestVersion, count: r.zis.length };
}

async function openZone(zone: string, tab = ''): Promise<void> {
  await page.goto(`${base}/#/zone/${zone}.${tab ? `/${tab}` : ''}`);
  await page.getByRole('heading', { name: `Zone ${zone}.` }).waitFor();
}

async function reviewAndPublish(expectInDiff: RegExp): Promise<void> {
  const review = page.getByRole('region', { name: 'Review before publishing' });
  await review.waitFor();
  await review.locator('figure.diff pre').waitFor();
  assert.match(await text(review.locator('figure.diff')), expectInDiff);
  await review.getByRole('button', { name: /^Publish version/ }).click();
  await review.waitFor({ state: 'detached' });
}

before(async () => {
  assert.ok(existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html')), 'the UI is built: run npm run build');
  mkdirSync(ARTIFACTS, { recursive: true });
  data = mkdtempSync(join(tmpdir(), 'dms-webui-'));
  store = sqliteArgs(data);
  zoneToolOk(store, ['create_sectag', 'CUST_A']);
  zoneToolOk(store, ['create_sectag', 'CUST_B']);
  zoneToolOk(store, ['create_api_account', '-P', 'admin1', 'admin'], `${PW.admin}\n`);
  zoneToolOk(store, ['create_api_account', '-P', 'admin2', 'admin'], `${PW.admin2}\n`);
  zoneToolOk(store, ['create_api_account', '-P', 'help1', 'helpdesk'], `${PW.help}\n`);
  zoneToolOk(store, ['create_api_account', '-P', '-s', 'CUST_A', 'custA', 'customer'], `${PW.custA}\n`);
  zoneToolOk(store, ['create_api_account', '-P', '-s', 'CUST_B', 'custB', 'customer'], `${PW.custB}\n`);
  srv = await startDmsdDb(store, ['--http', '127.0.0.1:0']);
  base = `http://127.0.0.1:${await portOf(srv, 'http')}`;
  dnsPort = await portOf(srv, 'udp');
  await api('create_zone', { zone: ZONE_B, text: 'www 300 IN A 192.0.2.66\n' }, basic('custB', PW.custB));
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(15_000);
  // confirm() before deleting or breaking a lock: the user says yes.
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  await browser?.close();
  await srv?.stop('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

describe('web UI in headless Chromium', { concurrency: false }, () => {
  test('log in: a wrong password is refused on the form; the session cookie is HttpOnly, SameSite=Strict, expiring', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Log in to DMS' }).waitFor();
    await screen('login');
    await page.getByLabel('Login').fill('admin1');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong login or password' }).waitFor();
    await login('admin1', PW.admin);
    const c = (await browser.context.cookies(base)).find((x) => x.name === 'dms_session');
    assert.ok(c, 'session cookie set');
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Strict');
    assert.ok(c.expires > Date.now() / 1000, 'the cookie expires');
    // document.cookie cannot read it.
    assert.equal(await page.evaluate(() => document.cookie.includes('dms_session')), false);
    await screen('zones');
  });

  test('the accessibility check can fail: axe-core finds a planted unlabelled input and a low-contrast text', async () => {
    await page.evaluate(() => {
      const d = document.createElement('div');
      d.id = 'planted';
      d.innerHTML = '<input type="text"><p>low contrast</p>';
      // Through the CSSOM: the UI's CSP refuses style attributes in markup.
      d.querySelector('p').style.color = '#bbb';
      document.getElementById('main').append(d);
    });
    const ids = (await seriousA11yViolations(page)).map((v) => v.id).sort();
    await page.evaluate(() => document.getElementById('planted').remove());
    assert.deepEqual(ids, ['color-contrast', 'label']);
  });

  test('CSRF: a JSON-RPC POST with the cookie but without the session\'s header is refused', async () => {
    const r = await page.evaluate(async () => {
      const a = await fetch('/jsonrpc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"list_zone"}' });
      const b = await fetch('/jsonrpc', { method: 'POST', headers: { 'content-type': 'application/json', 'x-dms-csrf': 'forged' }, body: '{"jsonrpc":"2.0","id":1,"method":"list_zone"}' });
      return [a.status, b.status, a.headers.get('www-authenticate')];
    });
    assert.deepEqual(r, [403, 403, null]);
  });

  test('create a zone with the form; it is served', async () => {
    await page.getByText('Create a zone').click();
    await page.getByLabel('Zone name, or a network for a reverse zone').fill(ZONE);
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.getByRole('heading', { name: `Zone ${ZONE}.` }).waitFor();
    await waitAnswer(ZONE, 'SOA', (r) => r.length === 1);
    await screen('zone-records');
  });

  test('add a record, review the diff, publish: dig gets it', async () => {
    const form = page.getByRole('form', { name: 'Add a record' });
    await form.getByLabel('Name').fill('www');
    await form.getByLabel('TTL').fill('300');
    await form.getByLabel('Type').fill('A');
    await form.getByLabel('Data').fill('192.0.2.10');
    await form.getByRole('button', { name: 'Add record' }).click();
    // Saved as a version, not published: dig does not see it yet.
    await page.getByRole('region', { name: 'Review before publishing' }).waitFor();
    assert.deepEqual(await waitAnswer(`www.${ZONE}`, 'A', () => true), []);
    const v = await versions(ZONE);
    assert.notEqual(v.published, v.latest, 'a draft version');
    await screen('zone-review');
    await reviewAndPublish(/\+www\s+300\s+IN\s+A\s+192\.0\.2\.10/);
    assert.deepEqual(await waitAnswer(`www.${ZONE}`, 'A', (r) => r.length > 0), ['192.0.2.10']);
    await page.getByRole('cell', { name: '192.0.2.10', exact: true }).waitFor();
  });

  test('an invalid record: the server\'s message next to the field, the input kept, nothing saved or published', async () => {
    const before = await versions(ZONE);
    const form = page.getByRole('form', { name: 'Add a record' });
    await form.getByLabel('Name').fill('bad');
    await form.getByLabel('Type').fill('A');
    await form.getByLabel('Data').fill('192.0.2');
    await form.getByRole('button', { name: 'Add record' }).click();
    const err = page.locator('#add-rdata-err');
    await err.waitFor();
    assert.match(await text(err), /bad IPv4 address/);
    assert.equal(await form.getByLabel('Data').getAttribute('aria-invalid'), 'true');
    assert.equal(await form.getByLabel('Data').inputValue(), '192.0.2', 'the input is kept');
    assert.deepEqual(await versions(ZONE), before);
    assert.deepEqual(await waitAnswer(`bad.${ZONE}`, 'A', () => true), []);
    await screen('zone-record-error');
  });

  test('inline edit; another client published meanwhile: the conflict shows their change, nothing overwritten', async () => {
    const row = page.getByRole('row').filter({ hasText: '192.0.2.10' });
    await row.getByRole('button', { name: /^Edit www A/ }).click();
    const form = page.getByRole('form', { name: 'Edit www A' });
    await form.getByLabel('Data').fill('192.0.2.11');
    // Meanwhile someone else adds a record through the API (and publishes).
    await api('update_rrs', { zone: ZONE, records: [{ action: 'add', name: 'other', type: 'TXT', rdata: '"from elsewhere"' }] });
    const before = await versions(ZONE);
    await form.getByRole('button', { name: 'Save' }).click();
    const conflict = page.locator('.conflict');
    await conflict.locator('figure.diff').waitFor();
    assert.match(await text(conflict), /\+other\s+\d+\s+IN\s+TXT\s+"from elsewhere"/);
    assert.deepEqual(await versions(ZONE), before, 'nothing saved');
    assert.equal(await form.getByLabel('Data').inputValue(), '192.0.2.11', 'the typed value is kept');
    await screen('zone-conflict');
    await conflict.getByRole('button', { name: /Load their version/ }).click();
    await page.getByRole('cell', { name: '"from elsewhere"', exact: true }).waitFor();
    // Now the edit goes through (on top of their change) and is published after the review.
    await form.getByRole('button', { name: 'Save' }).click();
    await reviewAndPublish(/-www\s+300\s+IN\s+A\s+192\.0\.2\.10\n\+www\s+300\s+IN\s+A\s+192\.0\.2\.11|\+www\s+300\s+IN\s+A\s+192\.0\.2\.11/);
    assert.deepEqual(await waitAnswer(`www.${ZONE}`, 'A', (r) => r[0] === '192.0.2.11'), ['192.0.2.11']);
    assert.deepEqual(await waitAnswer(`other.${ZONE}`, 'TXT', (r) => r.length > 0), ['"from elsewhere"']);
  });

  test('text mode: a syntax error is reported on its line, nothing saved; fixed, reviewed, published', async () => {
    await page.getByRole('link', { name: 'Text' }).click();
    await page.getByRole('button', { name: 'Edit as text' }).click();
    const area = page.locator('textarea#zonetext');
    await area.waitFor();
    const current = await area.inputValue();
    const lines = current.replace(/\n$/, '').split('\n');
    const badLine = lines.length + 1;
    await area.fill(`${lines.join('\n')}\nbroken\t300\tIN\tA\t10.0.0\n`);
    const before = await versions(ZONE);
    await page.getByRole('button', { name: 'Save and review' }).click();
    const err = page.getByRole('alert').filter({ hasText: `Line ${badLine}` });
    await err.waitFor();
    assert.match(await text(err), new RegExp(`Line ${badLine}: bad A RDATA`));
    assert.equal((await text(page.locator('.gutter .bad'))).trim(), String(badLine));
    assert.deepEqual(await versions(ZONE), before, 'nothing saved');
    await screen('zone-text-error');
    // Clicking the line puts the cursor there; fix it and save.
    await err.getByRole('button', { name: `Line ${badLine}` }).click();
    // With a name below a DNAME: saved, and the zone check's warning shown (occluded; Knot secondaries refuse it).
    await area.fill(`${lines.join('\n')}\nfixed\t300\tIN\tA\t10.0.0.1\ndn\t300\tIN\tDNAME\texample.net.\nx.dn\t300\tIN\tTXT\t"occluded"\n`);
    await page.getByRole('button', { name: 'Save and review' }).click();
    const warned = page.getByRole('status').filter({ hasText: 'The zone check warns' });
    await warned.waitFor();
    assert.match(await text(warned), new RegExp(`Line ${badLine + 1}: records below the DNAME at dn\\.${ZONE.replace(/\./g, '\\.')}\\. are occluded.*x\\.dn`));
    await reviewAndPublish(/\+fixed\s+300\s+IN\s+A\s+10\.0\.0\.1/);
    assert.deepEqual(await waitAnswer(`fixed.${ZONE}`, 'A', (r) => r.length > 0), ['10.0.0.1']);
    await screen('zone-text');
  });

  test('a lost session asks to log in again and keeps the typed text', async () => {
    await page.getByRole('button', { name: 'Edit as text' }).click();
    const area = page.locator('textarea#zonetext');
    await area.waitFor();
    const typed = `${(await area.inputValue()).replace(/\n$/, '')}\nkept\t300\tIN\tA\t10.0.0.2\n`;
    await area.fill(typed);
    // The session ends behind the page's back (as on expiry or a dmsd restart).
    await page.evaluate(async () => {
      const me = (await (await fetch('/session')).json()) as { csrf: string };
      await fetch('/session', { method: 'DELETE', headers: { 'x-dms-csrf': me.csrf } });
    });
    await page.getByRole('button', { name: 'Save and review' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: /session ended/ }).waitFor();
    await screen('session-lost');
    await dialog.getByLabel('Login').fill('admin1');
    await dialog.getByLabel('Password').fill(PW.admin);
    await dialog.getByRole('button', { name: 'Log in' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await area.inputValue(), typed, 'the typed text is still there');
    await page.getByRole('button', { name: 'Save and review' }).click();
    await reviewAndPublish(/\+kept\s+300\s+IN\s+A\s+10\.0\.0\.2/);
    assert.deepEqual(await waitAnswer(`kept.${ZONE}`, 'A', (r) => r.length > 0), ['10.0.0.2']);
  });

  test('text mode: someone else published (breaking the lock) during the edit: their change shown, nothing lost', async () => {
    await page.getByRole('button', { name: 'Edit as text' }).click();
    const area = page.locator('textarea#zonetext');
    await area.waitFor();
    const base = (await area.inputValue()).replace(/\n$/, '');
    await area.fill(`${base}\nmine\t300\tIN\tA\t10.0.0.3\n`);
    const admin2 = basic('admin2', PW.admin2);
    await api('clear_edit_lock', { zone: ZONE }, admin2);
    await api('update_rrs', { zone: ZONE, records: [{ action: 'add', name: 'theirs', type: 'TXT', ttl: 300, rdata: '"theirs"' }] }, admin2);
    const before = await versions(ZONE);
    await page.getByRole('button', { name: 'Save and review' }).click();
    const conflict = page.locator('.conflict');
    await conflict.locator('figure.diff').waitFor();
    assert.match(await text(conflict), /\+theirs\s+300\s+IN\s+TXT\s+"theirs"/);
    assert.deepEqual(await versions(ZONE), before, 'nothing of mine saved');
    assert.match(await area.inputValue(), /mine\t300\tIN\tA\t10\.0\.0\.3/, 'my text kept');
    await screen('zone-text-conflict');
    // Go on from the newest version, merging their record in by hand; the review shows only my change.
    await conflict.getByRole('button', { name: /Continue on the newest version/ }).click();
    await conflict.waitFor({ state: 'detached' });
    await area.fill(`${base}\ntheirs\t300\tIN\tTXT\t"theirs"\nmine\t300\tIN\tA\t10.0.0.3\n`);
    await page.getByRole('button', { name: 'Save and review' }).click();
    const review = page.getByRole('region', { name: 'Review before publishing' });
    await review.locator('figure.diff pre').waitFor();
    assert.doesNotMatch(await text(review), /-theirs/);
    await reviewAndPublish(/\+mine\s+300\s+IN\s+A\s+10\.0\.0\.3/);
    assert.deepEqual(await waitAnswer(`mine.${ZONE}`, 'A', (r) => r.length > 0), ['10.0.0.3']);
    assert.deepEqual(await waitAnswer(`theirs.${ZONE}`, 'TXT', (r) => r.length > 0), ['"theirs"']);
  });

  test('history: diff two versions; restore an old one after its diff preview', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    const first = 1;
    await page.getByRole('radio', { name: `Compare from version ${first}` }).check();
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.locator('figure.diff').waitFor();
    assert.match(await text(page.locator('figure.diff')), /\+fixed/);
    await screen('zone-history');
    // Restore version 1 (before www was added): preview first, then restore.
    await page.getByRole('button', { name: `Restore version ${first}` }).click();
    await page.locator('figure.diff').filter({ hasText: 'what restoring changes' }).waitFor();
    assert.match(await text(page.locator('figure.diff')), /-www\s+300\s+IN\s+A\s+192\.0\.2\.11/);
    await page.getByRole('button', { name: `Restore version ${first} and publish` }).click();
    await page.getByRole('status').filter({ hasText: `Version ${first} restored` }).waitFor();
    assert.deepEqual(await waitAnswer(`www.${ZONE}`, 'A', (r) => r.length === 0), []);
    const v = await versions(ZONE);
    assert.equal(v.published, v.latest, 'the restored copy is the newest version and published');
  });

  test('the edit lock is shown and respected; staff can break it (the holder\'s save is then refused)', async () => {
    const admin2 = basic('admin2', PW.admin2);
    const edit = await api('edit_zone', { zone: ZONE }, admin2);
    assert.ok(edit.lock, 'the zone has the edit lock flag: edit_zone locked it');
    await openZone(ZONE);
    const notice = page.getByRole('status').filter({ hasText: 'Edit lock held by admin2/' });
    await notice.waitFor();
    // Who holds it, since when (the time edit_zone took it) and until when, as the UI prints times.
    const shown = (t: string) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    assert.ok(edit.lock.lockedSince, 'edit_zone says when it took the lock');
    assert.match(await text(notice), new RegExp(`since ${shown(edit.lock.lockedSince)} until ${shown(edit.lock.expiresAt)}`));
    // Tickling moves the expiry, never the start: the notice still says since when it was taken.
    await new Promise((r) => setTimeout(r, 1100));
    const tickled = await api('tickle_editlock', { zone: ZONE, token: edit.token }, admin2);
    await notice.getByRole('button', { name: 'Check again' }).click();
    await notice.filter({ hasText: `until ${shown(tickled.expiresAt)}` }).waitFor();
    assert.match(await text(notice), new RegExp(`since ${shown(edit.lock.lockedSince)} until`));
    assert.equal((await api('show_zonesm', { zone: ZONE })).zone.lockedSince, edit.lock.lockedSince);
    assert.equal(await page.getByRole('form', { name: 'Add a record' }).count(), 0, 'no add form while locked');
    assert.equal(await page.getByRole('button', { name: /^Edit www|^Delete / }).count(), 0, 'no edit buttons while locked');
    await screen('zone-locked');
    await page.getByRole('link', { name: 'Text' }).click();
    assert.equal(await page.getByRole('button', { name: 'Edit as text' }).isDisabled(), true);
    await notice.getByRole('button', { name: 'Break the lock' }).click();
    await notice.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Edit as text' }).isDisabled(), false);
    await assert.rejects(api('update_zone_text', { zone: ZONE, text: edit.text, token: edit.token }, admin2), /STALE_EDIT_TOKEN|not locked/);
  });

  test('settings: a flag set on the Settings tab is the zone\'s', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const box = page.getByRole('checkbox', { name: /Accept dynamic updates/ });
    assert.equal(await box.isChecked(), false);
    await box.check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved' }).waitFor();
    assert.equal((await api('show_zonesm', { zone: ZONE })).zone.flags.incUpdates, true);
    await screen('zone-settings');
  });

  test('DNSSEC page shows the DS that zone_tool show_dnssec prints', async () => {
    zoneToolOk(store, ['set_zone_dnssec_policy', ZONE, 'default']);
    const shown = zoneToolOk(store, ['show_dnssec', ZONE]);
    const ds = [...shown.matchAll(/^\s*(\S+\s+(?:\d+\s+)?(?:IN\s+)?DS\s+.+)$/gm)].map((m) => m[1].trim());
    assert.ok(ds.length > 0, `zone_tool show_dnssec printed a DS:\n${shown}`);
    await openZone(ZONE, 'dnssec');
    await page.locator('code.ds-record').first().waitFor();
    const inUi = (await page.locator('code.ds-record').allTextContents()).map((s) => s.trim());
    const norm = (s: string) => s.split(/\s+/).join(' ').toLowerCase();
    assert.deepEqual(inUi.map(norm), ds.map(norm));
    // The copy button puts the DS on the clipboard, as shown.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.getByRole('button', { name: `Copy DS record ${inUi[0]}` }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), inUi[0]);
    // The key's state and next step are there too.
    assert.match(await text(page.locator('table')), /CSK.*ECDSAP256SHA256.*active.*submit/s);
    await screen('zone-dnssec');
  });

  test('admin pages render (references, sectags, accounts, servers, events, audit)', async () => {
    for (const [p, heading] of [
      ['references', 'References'],
      ['sectags', 'Security tags'],
      ['accounts', 'API accounts'],
      ['servers', 'Servers'],
      ['events', 'Events'],
      ['audit', 'Audit log'],
    ]) {
      await page.goto(`${base}/#/admin/${p}`);
      await page.getByRole('heading', { name: `Administration: ${heading}` }).waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.locator('.error').count(), 0, `${p}: ${await page.locator('.error').allTextContents()}`);
      await screen(`admin-${p}`);
    }
    // The audit log holds the UI's changes, by the account that made them.
    await page.goto(`${base}/#/admin/audit`);
    await page.getByLabel('Zone').fill(ZONE);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: ZONE, exact: false }).first().waitFor();
    assert.match(await text(page.locator('table')), /admin1/);
  });

  test('API accounts and tokens: an account made, a read-only token shown once and scoped, then revoked', async () => {
    await page.goto(`${base}/#/admin/accounts`);
    const acct = page.getByRole('form', { name: 'Create an API account' });
    await acct.getByLabel('Login').fill('custC');
    await acct.getByLabel('Tier').selectOption('customer');
    await acct.getByLabel(/Security tag/).fill('CUST_A');
    await acct.getByLabel(/Password/).fill('custC-pass-1');
    await acct.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('cell', { name: 'custC', exact: true }).waitFor();
    const tok = page.getByRole('form', { name: 'Make an API token' });
    await tok.getByLabel('Account').fill('custC');
    await tok.getByLabel('Read-only').check();
    await tok.getByRole('button', { name: 'Make token' }).click();
    const secret = (await text(page.locator('code.secret'))).trim();
    assert.ok(secret.length > 20);
    await screen('admin-token-made');
    const call = async (method: string, params: unknown) => {
      const r = await fetch(`${base}/jsonrpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      return { status: r.status, body: (await r.json()) as J };
    };
    assert.ok(Array.isArray((await call('list_zone', {})).body.result));
    assert.equal((await call('create_zone', { zone: 'never.test' })).body.error.data.exception_type, 'PERMISSION_DENIED');
    const id = (await api('ls_api_token', { login: 'custC' }))[0].id;
    await page.getByRole('button', { name: `Revoke token ${id}` }).click();
    await page.getByRole('status').filter({ hasText: `Token ${id} revoked` }).waitFor();
    assert.equal((await call('list_zone', {})).status, 401);
  });

  test('a 5,000-record zone: only the rows in view are rendered; filter and scroll reach any record', async () => {
    const big = 'big-zone.test';
    const lines = Array.from({ length: 5000 }, (_, i) => `host-${i} 300 IN A 10.${i >> 8}.${i & 255}.1`);
    await api('create_zone', { zone: big, text: `${lines.join('\n')}\n` });
    await openZone(big);
    await page.getByText('5002 of 5002 records').waitFor();
    const rows = await page.locator('table.records tbody tr.rec').count();
    assert.ok(rows > 10 && rows < 200, `rows in the DOM: ${rows}`);
    await page.getByLabel('Filter by name').fill('host-4321');
    await page.getByText('1 of 5002 records').waitFor();
    await page.getByRole('cell', { name: '10.16.225.1', exact: true }).waitFor();
    await page.getByLabel('Filter by name').fill('');
    await page.getByText('5002 of 5002 records').waitFor();
    // Scrolled to the end: the zone file's last record is on screen.
    const text = (await api('show_zone', { zone: big })).text as string;
    const lastName = text.trim().split('\n').at(-1)!.split('\t')[0];
    await page.locator('.table-wrap.virtual').evaluate((el: { scrollTop: number; scrollHeight: number }) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.getByRole('cell', { name: lastName, exact: true }).waitFor();
    await screen('zone-large');
  });

  test('zone list: name search, reference filter, server-side paging forward and back', async () => {
    for (let i = 0; i < 60; i++) await api('create_zone', { zone: `page-${String(i).padStart(2, '0')}.test` });
    // A reference made on its page, given to a zone at creation.
    await page.goto(`${base}/#/admin/references`);
    await page.getByLabel('New reference').fill('REF-UI');
    await page.getByRole('button', { name: 'Create reference' }).click();
    await page.getByRole('status').filter({ hasText: 'Reference REF-UI created' }).waitFor();
    await page.goto(`${base}/#/zones`);
    await page.getByText('Create a zone').click();
    await page.getByLabel('Zone name, or a network for a reverse zone').fill('192.0.2.0/24');
    await page.getByLabel('Reference (optional)').fill('REF-UI');
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.getByRole('heading', { name: 'Zone 2.0.192.in-addr.arpa.' }).waitFor();
    await page.goto(`${base}/#/zones`);
    const names = () => page.locator('tbody tr td:first-child').allTextContents();
    // The unfiltered first page already holds the zones the filtered one starts with: wait for the rows to change
    // (the filtered answer replaced the list), not for a link that was there before the search (a race seen in CI).
    const rowsBecome = async (ok: (rows: string[]) => boolean, what: string): Promise<string[]> => {
      let rows = await names();
      for (let waited = 0; !ok(rows) && waited < 10_000; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
        rows = await names();
      }
      assert.ok(ok(rows), `${what}: ${JSON.stringify(rows)}`);
      return rows;
    };
    await page.getByRole('textbox', { name: 'Reference' }).fill('REF-UI');
    await page.getByRole('button', { name: 'Search' }).click();
    await rowsBecome((r) => r.length === 1, 'only the zone with reference REF-UI');
    assert.deepEqual(await names(), ['2.0.192.in-addr.arpa.']);
    await page.getByRole('textbox', { name: 'Reference' }).fill('');
    await page.getByRole('searchbox', { name: 'Name' }).fill('page-');
    await page.getByRole('button', { name: 'Search' }).click();
    await rowsBecome((r) => r.length === 50 && r.every((n) => n.startsWith('page-')), 'a first page of page-* zones');
    const first = await names();
    assert.equal(first.length, 50);
    assert.equal(first[49], 'page-49.test.');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'page-59.test.' }).waitFor();
    assert.deepEqual(await names(), Array.from({ length: 10 }, (_, i) => `page-${50 + i}.test.`));
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByRole('link', { name: 'page-00.test.' }).waitFor();
    assert.deepEqual(await names(), first);
    await screen('zones-search');
  });

  test('zone list: disable, enable, delete and undelete', async () => {
    const row = () => page.getByRole('row').filter({ hasText: 'page-07.test.' });
    await page.getByRole('searchbox', { name: 'Name' }).fill('page-07');
    await page.getByRole('button', { name: 'Search' }).click();
    await row().waitFor();
    await row().getByRole('button', { name: 'Disable page-07.test.' }).click();
    await row().getByRole('cell', { name: 'DISABLED' }).waitFor();
    assert.equal((await api('show_zonesm', { zone: 'page-07.test' })).zone.state, 'DISABLED');
    await row().getByRole('button', { name: 'Enable page-07.test.' }).click();
    await row().getByRole('button', { name: 'Disable page-07.test.' }).waitFor();
    await waitAnswer('page-07.test', 'SOA', (r) => r.length === 1);
    await row().getByRole('button', { name: 'Delete page-07.test.' }).click();
    await page.getByText('No zones.').waitFor();
    await waitAnswer('page-07.test', 'SOA', (r) => r.length === 0);
    await page.getByLabel('State').selectOption('deleted');
    await page.getByRole('button', { name: 'Search' }).click();
    await row().getByRole('button', { name: 'Undelete page-07.test.' }).click();
    await page.getByText('No zones.').waitFor();
    assert.notEqual((await api('show_zonesm', { zone: 'page-07.test' })).zone.state, 'DELETED');
    await page.getByLabel('State').selectOption('active');
  });

  test('keyboard only: create a zone', async () => {
    // A fresh page load: the keyboard starts at the top (the screen's heading has the focus).
    await page.goto(`${base}/#/zones`);
    await page.reload();
    await page.getByRole('heading', { name: 'Zones' }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.name || '');
    // Tab to the "Create a zone" disclosure.
    for (let i = 0; i < 20 && (await focused()) !== 'Create a zone'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Create a zone');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'zone');
    await page.keyboard.type('keyboard.test');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Zone keyboard.test.' }).waitFor();
    // The heading of the new screen takes the focus (in an effect after it is painted, so wait for it, within limits).
    await page
      .waitForFunction(() => document.activeElement?.tagName === 'H1', undefined, { timeout: 5000 })
      .catch(() => undefined);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'the new screen\'s heading has the focus');
    await waitAnswer('keyboard.test', 'SOA', (r) => r.length === 1);
  });

  test('phone width: the zone list and a zone are usable and accessible', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${base}/#/zones`);
      await page.getByRole('heading', { name: 'Zones' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling of the page (${overflow} px)`);
      await screen('phone-zones');
      await openZone(ZONE);
      await screen('phone-zone');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test('helpdesk: administration without security tags and accounts; by URL the API refuses them', async () => {
    await logout();
    await login('help1', PW.help);
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Administration: References' }).waitFor();
    const tabs = await page.getByRole('navigation', { name: 'Administration pages' }).getByRole('link').allTextContents();
    assert.deepEqual(tabs, ['References', 'Servers', 'Events', 'Audit log']);
    await page.goto(`${base}/#/admin/accounts`);
    await page.getByRole('alert').filter({ hasText: /not permitted|permission|denied/i }).first().waitFor();
    await screen('helpdesk-accounts-refused');
    // Helpdesk sees every tenant's zones.
    await openZone(ZONE_B);
  });

  test('a customer sees only its zones, and cannot open another tenant\'s zone by URL (the API refuses too)', async () => {
    await logout();
    await login('custA', PW.custA);
    await page.getByText('Create a zone').click();
    await page.getByLabel('Zone name, or a network for a reverse zone').fill('cust-a.test');
    await page.getByRole('button', { name: 'Create zone' }).click();
    await page.getByRole('heading', { name: 'Zone cust-a.test.' }).waitFor();
    // The customer manages its zone like anyone: a record added, reviewed, published, served.
    const form = page.getByRole('form', { name: 'Add a record' });
    await form.getByLabel('Name').fill('shop');
    await form.getByLabel('Type').fill('AAAA');
    await form.getByLabel('Data').fill('2001:db8::80');
    await form.getByRole('button', { name: 'Add record' }).click();
    await reviewAndPublish(/\+shop\s+\d+\s+IN\s+AAAA\s+2001:db8::80/);
    assert.deepEqual(await waitAnswer('shop.cust-a.test', 'AAAA', (r) => r.length > 0), ['2001:db8::80']);
    await page.goto(`${base}/#/zones`);
    await page.getByRole('heading', { name: 'Zones' }).waitFor();
    await page.getByRole('link', { name: 'cust-a.test.' }).waitFor();
    const names = await page.locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(names, ['cust-a.test.']);
    assert.equal(await page.getByRole('link', { name: 'Administration' }).count(), 0);
    await screen('customer-zones');
    // By URL: not found, exactly as a zone that does not exist.
    await page.goto(`${base}/#/zone/${ZONE_B}.`);
    await page.getByRole('alert').filter({ hasText: /not found|does not exist/i }).waitFor();
    await page.goto(`${base}/#/zone/no-such-zone.test.`);
    const missing = await text(page.getByRole('alert'));
    await page.goto(`${base}/#/zone/${ZONE_B}.`);
    const other = await text(page.getByRole('alert'));
    assert.equal(other.replace(ZONE_B, 'X').replace('no-such-zone.test', 'X'), missing.replace('no-such-zone.test', 'X').replace(ZONE_B, 'X'));
    await screen('customer-other-zone');
    // The API itself refuses (the UI hiding it is not what protects it).
    const r = await page.evaluate(async (zone) => {
      const me = (await (await fetch('/session')).json()) as { csrf: string };
      const a = await fetch('/jsonrpc', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-dms-csrf': me.csrf },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'update_rrs', params: { zone, records: [{ action: 'add', name: 'x', type: 'A', rdata: '192.0.2.1' }] } }),
      });
      return ((await a.json()) as { error?: { data?: { exception_type?: string } } }).error?.data?.exception_type;
    }, ZONE_B);
    assert.equal(r, 'ZONE_NOT_FOUND');
    assert.deepEqual(await waitAnswer(`x.${ZONE_B}`, 'A', () => true), []);
    // Admin pages by URL: the customer gets the zone list, and the API refuses the admin calls.
    await page.goto(`${base}/#/admin/accounts`);
    await page.getByRole('heading', { name: 'Zones' }).waitFor();
  });

  test('servers: a server group and a secondary made from the page, disabled and enabled; a bad address is refused, the input kept', async () => {
    // Last but one: the group gets a catalog zone (it has a master address and a Knot server), which the zone list shows.
    await logout();
    await login('admin1', PW.admin);
    await page.goto(`${base}/#/admin/servers`);
    const sgForm = page.getByRole('form', { name: 'Create a server group', exact: true });
    await sgForm.getByLabel('Server group name').fill('ui-sg');
    await sgForm.getByLabel(/Master address/).fill('127.0.0.1');
    await sgForm.getByRole('button', { name: 'Create server group' }).click();
    await page.getByRole('cell', { name: 'ui-sg', exact: true }).waitFor();
    const form = page.getByRole('form', { name: 'Create a server', exact: true });
    await form.getByLabel('Server name').fill('ui-ns2');
    await form.getByLabel('Address', { exact: true }).fill('not-an-address');
    await form.getByLabel(/Server group/).fill('ui-sg');
    await form.getByRole('button', { name: 'Create server' }).click();
    await page.locator('.error').first().waitFor();
    assert.equal(await form.getByLabel('Server name').inputValue(), 'ui-ns2', 'the typed name is kept after the refusal');
    assert.equal(zoneToolOk(store, ['ls_server']).includes('ui-ns2'), false, 'nothing was created');
    await form.getByLabel('Address', { exact: true }).fill('192.0.2.53');
    await form.getByLabel('Type').selectOption('knot');
    await form.getByRole('button', { name: 'Create server' }).click();
    await page.getByRole('cell', { name: 'ui-ns2', exact: true }).waitFor();
    assert.match(zoneToolOk(store, ['show_server', 'ui-ns2']), /192\.0\.2\.53[\s\S]*knot|knot[\s\S]*192\.0\.2\.53/);
    await page.getByRole('button', { name: 'Disable ui-ns2' }).click();
    await page.getByRole('button', { name: 'Enable ui-ns2' }).waitFor();
    assert.match(zoneToolOk(store, ['show_server', 'ui-ns2']), /DISABLED|disabled|enabled\s+(false|no)/i);
    await screen('admin-servers-made');
    await page.getByRole('button', { name: 'Enable ui-ns2' }).click();
    await page.getByRole('button', { name: 'Disable ui-ns2' }).waitFor();
  });

  test('log out ends the session on the server', async () => {
    const cookie = (await browser.context.cookies(base)).find((x) => x.name === 'dms_session')!;
    const csrf = await page.evaluate(async () => ((await (await fetch('/session')).json()) as { csrf: string }).csrf);
    await logout();
    const r = await fetch(`${base}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `dms_session=${cookie.value}`, 'x-dms-csrf': csrf },
      body: '{"jsonrpc":"2.0","id":1,"method":"list_zone"}',
    });
    assert.equal(r.status, 401);
  });
});

describe('the login endpoint', { concurrency: false }, () => {
  // Last: the guessing test holds 127.0.0.1 off for a minute.
  test('refuses a form post (no login CSRF) and rate-limits guessing like HTTP Basic', async () => {
    const form = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'login=admin1&password=admin-pass-1',
    });
    assert.equal(form.status, 415);
    assert.equal(form.headers.get('set-cookie'), null);
    const attempt = () =>
      fetch(`${base}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'admin1', password: 'guess-guess' }) });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt()).status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
    assert.equal(statuses[11], 429);
    // Held off: the right password too, for now.
    const right = await fetch(`${base}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'admin1', password: PW.admin }) });
    assert.equal(right.status, 429);
    await logged(srv!.output, /"msg":"API login failed"/);
  });
});
