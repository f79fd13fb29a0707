// The web UI at scale (issue 10), measured in the browser: a real dmsd (--data DIR --http) on a fresh SQLite store
// with --zones small zones (default 100,000: SOA, 2 NS, glue) and one zone of --records records (default 50,000:
// A, AAAA, TXT and MX under host-N names), filled in this process (services.loadZones, not measured); an admin API
// account made by zone_tool create_api_account; Debian's headless Chromium (test/helpers/browser.ts) logged in through
// the login form. Measured inside the page with performance.now() (a MutationObserver sees the DOM change; the figure
// is taken in a task queued from the next animation frame, i.e. after that frame was painted):
//   list (load)   full navigation to #/zones (page load, app start, session check, list_zone) until the first page of
//                 zone rows is in the table, from the navigation's start
//   list (in app) from the admin page to the zone list by a hash change, until the first page of rows
//   list (after)  a page from the middle of the list (list_zone's `after` cursor), by a hash change
//   open          from the zone list to the 50,000-record zone (list_zi + show_zone of its 50,000 lines, parsed and
//                 rendered) until its records table shows rows
//   scroll middle / scroll end   scrollTop set on the table's scroller until a rendered row covers the middle of the
//                 view (the virtualised rows are re-rendered from the scroll event); the end also checks the zone
//                 file's last record is on screen
//   filter paste  one input event with a whole name filter until the filtered rows and count are shown
//   filter typed  typing a name filter key by key: each keystroke (keydown) until its filtered rows are shown
// Each figure is the median of --reps repetitions (default 5; every keystroke counts as one sample for "typed").
// Writes bench/out/web.json.
//
//   node bench/web.mjs [--zones 100000] [--records 50000] [--reps 5] [--keep]      (after npm run build)

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, startDmsdApi, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ZONES = argOf('--zones', 100_000);
const RECORDS = argOf('--records', 50_000);
const REPS = argOf('--reps', 5);
const keep = argv.includes('--keep');
const log = (...a) => console.log(...a);
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const ADMIN = { login: 'benchadmin', password: 'bench-admin-password-1' };
const BIG = 'big.web.test.';
const PAGE = 50; // src/web/zones.tsx
const zoneName = (i) => `z${String(i).padStart(6, '0')}.web.test`;

function smallZone(i) {
  return `$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 10.${(i >> 8) & 255}.${i & 255}.2\n`;
}

/** RECORDS records under host-N (N from 0): A on each, AAAA on every 3rd, TXT on every 7th, MX at the apex every 50th. */
function bigZone() {
  const lines = ['$TTL 3600', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', '@ NS ns2', 'ns1 A 192.0.2.1', 'ns2 A 192.0.2.2'];
  let n = 0;
  for (let k = 0; n < RECORDS; k++) {
    lines.push(`host-${k} A 10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`);
    n++;
    if (n < RECORDS && k % 3 === 0) {
      lines.push(`host-${k} AAAA 2001:db8::${k.toString(16)}`);
      n++;
    }
    if (n < RECORDS && k % 7 === 0) {
      lines.push(`host-${k} TXT "record ${k} of the big zone"`);
      n++;
    }
    if (n < RECORDS && k % 50 === 0) {
      lines.push(`@ MX ${k % 1000} host-${k}`);
      n++;
    }
  }
  return `${lines.join('\n')}\n`;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- in the page ----------------------------------------------------------------------------------------------------

/**
 * Installed before the app's scripts (addInitScript, through the DevTools protocol: the UI's CSP stays on).
 * __bench.until(pred, t0) resolves with { dom, painted } ms since t0 (performance.now() scale): dom when a mutation
 * (or the first check) finds pred true, painted in a task queued from the next animation frame after that.
 * __bench.key is the time of the last keydown event (capture phase, before the app sees it); __bench.firstList the
 * until() of a full first page of zone rows, from the document's start.
 */
function pageInit({ listRows }) {
  const g = globalThis;
  const b = { key: 0 };
  b.until = (pred, t0, timeoutMs = 60_000) =>
    new Promise((res, rej) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const dom = performance.now() - t0;
        obs.disconnect();
        clearTimeout(timer);
        requestAnimationFrame(() => setTimeout(() => res({ dom, painted: performance.now() - t0 })));
      };
      const check = () => {
        try {
          if (pred()) finish();
        } catch {
          // not there yet
        }
      };
      const obs = new MutationObserver(check);
      obs.observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
      // And every frame (a change the observer missed is still seen, at most a frame late).
      const tick = () => {
        if (done) return;
        check();
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const timer = setTimeout(() => {
        if (!done) {
          done = true;
          obs.disconnect();
          rej(new Error('timeout'));
        }
      }, timeoutMs);
      check();
    });
  // The key's event time (when it was dispatched to the page, not when a busy page got round to it).
  addEventListener('keydown', (e) => {
    b.key = e.timeStamp;
  }, true);
  // What is waited for (predicates) and what starts a measure (actions), named so the bench refers to them (the
  // page's CSP forbids eval, so a predicate cannot be sent as source text to run in the page's own tasks).
  b.pred = {
    /** The zone list's table has a full first page of links to zones, the first one named `first`. */
    list: (first, n) => {
      const a = document.querySelectorAll('table tbody tr td:first-child a');
      return a.length >= n && a[0].textContent === first;
    },
    /** The records table shows rows, and the status says how many of the whole zone. */
    opened: (total) => {
      const rows = document.querySelectorAll('table.records tbody tr.rec');
      const st = [...document.querySelectorAll('[role=status]')].some((s) => s.textContent === `${total} of ${total} records`);
      return rows.length > 10 && st;
    },
    /** A rendered record row covers the vertical middle of the scroller's view. */
    covered: () => {
      const el = document.querySelector('.table-wrap.virtual');
      const r = el.getBoundingClientRect();
      const mid = r.top + el.clientHeight / 2;
      return [...el.querySelectorAll('tbody tr.rec')].some((tr) => {
        const q = tr.getBoundingClientRect();
        return q.top <= mid && q.bottom >= mid;
      });
    },
    /** The filter's count is shown and the first rendered row's name contains the filter (or there is none). */
    filtered: (count, total, needle) => {
      const st = [...document.querySelectorAll('[role=status]')].some((s) => s.textContent === `${count} of ${total} records`);
      if (!st) return false;
      const first = document.querySelector('table.records tbody tr.rec td');
      return count === 0 ? !first : !!first && first.textContent.toLowerCase().includes(needle);
    },
  };
  b.act = {
    hash: (h) => {
      location.hash = h;
    },
    /** The records table's scroller to `frac` of its scroll range (1: the end). */
    scroll: (frac) => {
      const el = document.querySelector('.table-wrap.virtual');
      el.scrollTop = frac >= 1 ? el.scrollHeight : (el.scrollHeight - el.clientHeight) * frac;
    },
    /** The focused input gets `v` in one input event (as a paste does). */
    input: (v) => {
      const i = document.activeElement;
      i.value = v;
      i.dispatchEvent(new Event('input', { bubbles: true }));
    },
  };
  // A zone list shown by this document's first render: watched from the start, timed from the navigation's start.
  b.firstList = b.until(() => document.querySelectorAll('table tbody tr td:first-child a').length >= listRows, 0).catch(() => null);
  g.__bench = b;
}

// ---- the run ----------------------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'dms-bench-web-'));
const results = { date: new Date().toISOString(), zones: ZONES, bigZoneRecords: RECORDS, reps: REPS, loadAverageAtStart: loadAverage() };
log(`bench/web: ${fmt(ZONES)} zones + one zone of ${fmt(RECORDS)} records; load average ${results.loadAverageAtStart}`);
let dmsd;
let browser;
try {
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const storeMod = await import(pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href);
  const api = await import(pathToFileURL(join(ROOT, 'dist', 'services', 'index.js')).href);
  const store = await storeMod.openStore({ dataDir });
  const tLoad = Date.now();
  try {
    function* items() {
      yield { name: BIG, text: bigZone() };
      for (let i = 0; i < ZONES; i++) yield { name: zoneName(i), text: smallZone(i) };
    }
    const rs = await api.loadZones(api.serviceContext(store, { actor: 'bench@web/Admin' }), items(), { replace: false });
    const failed = rs.filter((r) => r.action !== 'created');
    if (failed.length > 0) throw new Error(`${failed.length} zones not created: ${failed[0].error?.message}`);
  } finally {
    await store.close();
  }
  results.loadSeconds = (Date.now() - tLoad) / 1000;
  log(`  store filled in ${fmt(results.loadSeconds, 1)} s (services.loadZones, not measured)`);
  // Measured once dmsd's served zone table is current (/health 200): its start-up is not the UI's work.
  const started = await startDmsdApi({ dataDir, login: ADMIN.login, password: ADMIN.password, actor: 'bench@web/Admin' });
  dmsd = started.d;
  const { base, auth } = started;
  log(`  dmsd healthy after ${fmt(started.healthyMs / 1000, 1)} s`);
  const call = async (method, params) => {
    const r = await fetch(`${base}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: auth },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const j = await r.json();
    if (!('result' in j)) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
    return j.result;
  };
  // What the UI will list and show, asked of the API (the checks below compare the page with it).
  const names = (await call('list_zone', { limit: PAGE })).map((z) => z.name);
  const midAfter = zoneName(ZONES >> 1);
  const midFirst = (await call('list_zone', { limit: 1, after: `${midAfter}.` }))[0].name;
  const bigText = (await call('show_zone', { zone: BIG })).text;
  const bigNames = bigText
    .split('\n')
    .filter((l) => l && !l.startsWith(';') && !l.startsWith('$') && l.split('\t').length >= 5)
    .map((l) => l.split('\t')[0]);
  const total = bigNames.length;
  const lastName = bigNames.at(-1);
  const countOf = (needle) => bigNames.filter((n) => n.toLowerCase().includes(needle)).length;
  log(`  ${BIG}: ${fmt(total)} records in show_zone's text`);

  const { launchChromium } = await testHelper('browser');
  browser = await launchChromium();
  const page = await browser.context.newPage();
  await page.addInitScript(pageInit, { listRows: PAGE });
  await page.goto(`${base}/`);
  await page.getByLabel('Login').fill(ADMIN.login);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Zones' }).waitFor();
  results.chromium = browser.context.browser()?.version() ?? null;

  /**
   * Runs the action `act` in the page (t0 taken there just before), then waits for the predicate `pred`: { dom,
   * painted } ms. The predicate is first checked right after the action (which changes the page only by what it
   * triggers: a hash change, a scroll, an input event), so the state before does not count.
   */
  const measure = (pred, args, act, actArgs) =>
    page.evaluate(
      ({ pred, args, act, actArgs }) => {
        const b = globalThis.__bench;
        const t0 = performance.now();
        b.act[act](...actArgs);
        return b.until(() => b.pred[pred](...args), t0);
      },
      { pred, args, act, actArgs },
    );
  const samples = {};
  const add = (k, v) => {
    samples[k] ??= [];
    samples[k].push(v);
  };

  for (let rep = 0; rep < REPS; rep++) {
    // 1. The zone list after a full navigation (fresh document: timed from its navigation start).
    await page.goto('about:blank');
    await page.goto(`${base}/#/zones`);
    const first = await page.evaluate(() => globalThis.__bench.firstList);
    if (!first) throw new Error('the zone list did not show a full page after navigation');
    add('listLoad', first);
    const shownFirst = await page.locator('table tbody tr td:first-child a').first().textContent();
    if (shownFirst !== names[0]) throw new Error(`zone list: first row ${shownFirst}, list_zone says ${names[0]}`);
    // 2. In the app: from another screen to the zone list, and a page from the middle of the list.
    await page.evaluate(() => {
      location.hash = '#/admin/references';
    });
    await page.getByRole('heading', { name: 'References' }).waitFor();
    add('listInApp', await measure('list', [names[0], PAGE], 'hash', ['#/zones']));
    add('listAfter', await measure('list', [midFirst, PAGE], 'hash', [`#/zones?after=${encodeURIComponent(`${midAfter}.`)}`]));
    // 3. Open the big zone from the list.
    await page.evaluate(() => {
      location.hash = '#/zones';
    });
    await page.getByRole('link', { name: names[0] }).waitFor();
    add('open', await measure('opened', [total], 'hash', [`#/zone/${BIG}`]));
    // 4. Scroll the virtualised table to the middle and to the end.
    add('scrollMiddle', await measure('covered', [], 'scroll', [0.5]));
    add('scrollEnd', await measure('covered', [], 'scroll', [1]));
    await page.getByRole('cell', { name: lastName, exact: true }).waitFor({ timeout: 5000 });
    await page.locator('.table-wrap.virtual').evaluate((el) => {
      el.scrollTop = 0;
    });
    // 5. Filter: one input event with the whole filter (as a paste), then cleared, then typed key by key.
    const needle = `host-${4321 + rep}`;
    const input = page.getByLabel('Filter by name');
    await input.focus();
    add('filterPaste', await measure('filtered', [countOf(needle), total, needle], 'input', [needle]));
    await input.fill('');
    await page.getByText(`${total} of ${total} records`).waitFor();
    // A keystroke that does not change what is shown ("ho" after "h") has nothing to see: it is typed, let settle,
    // and not counted; the others are timed from their keydown until their rows are shown.
    for (let k = 1; k <= needle.length; k++) {
      const typed = needle.slice(0, k);
      const changed = countOf(typed) !== countOf(needle.slice(0, k - 1));
      if (changed)
        await page.evaluate(
          ({ args }) => {
            const b = globalThis.__bench;
            b.pending = b.until(() => b.pred.filtered(...args), 0);
          },
          { args: [countOf(typed), total, typed] },
        );
      await page.keyboard.type(needle[k - 1]);
      if (changed) {
        const r = await page.evaluate(() => globalThis.__bench.pending);
        const key = await page.evaluate(() => globalThis.__bench.key);
        add('filterTyped', { dom: r.dom - key, painted: r.painted - key, typed });
      } else await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0))));
    }
    await input.fill('');
    await page.getByText(`${total} of ${total} records`).waitFor();
  }

  const TARGETS = {
    listLoad: ['zone list: first page visible after navigation (page load)', 1000],
    listInApp: ['zone list: first page visible after navigation (in the app)', 1000],
    listAfter: ['zone list: a page from the middle (after cursor)', 1000],
    open: [`${fmt(RECORDS)}-record zone: open until its table is visible`, null],
    scrollMiddle: [`${fmt(RECORDS)}-record zone: scroll to the middle, rows rendered`, 200],
    scrollEnd: [`${fmt(RECORDS)}-record zone: scroll to the end, rows rendered`, 200],
    filterPaste: [`${fmt(RECORDS)}-record zone: filter (one input event) until shown`, 200],
    filterTyped: [`${fmt(RECORDS)}-record zone: filter typed, per keystroke until shown`, 200],
  };
  results.figures = {};
  log(`\n  ${'measure'.padEnd(62)} ${'median ms'.padStart(10)} ${'max ms'.padStart(8)}  target`);
  for (const [k, [label, target]] of Object.entries(TARGETS)) {
    const painted = samples[k].map((s) => s.painted);
    const dom = samples[k].map((s) => s.dom);
    const f = { label, samples: painted.length, medianMs: median(painted), maxMs: Math.max(...painted), medianDomMs: median(dom), targetMs: target };
    f.met = target === null ? null : f.medianMs < target;
    results.figures[k] = f;
    const verdict = target === null ? '(no target)' : `< ${fmt(target)} ${f.met ? 'met' : `MISSED by ${fmt(f.medianMs - target)} ms`}`;
    log(`  ${label.padEnd(62)} ${fmt(f.medianMs, 1).padStart(10)} ${fmt(f.maxMs, 1).padStart(8)}  ${verdict}`);
  }
  results.filterTypedSamples = samples.filterTyped;
  results.loadAverageAtEnd = loadAverage();
  log(`  load average at the end ${results.loadAverageAtEnd}`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'web.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('  written: bench/out/web.json');
} finally {
  await browser?.close();
  await dmsd?.stop();
  if (keep) log(`  kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
