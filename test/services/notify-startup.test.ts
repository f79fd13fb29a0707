// dmsd NOTIFYs every zone with targets once at start (as named does), paced at startupNotifyRate zones a second
// (named's startup-notify-rate) so that 100,000 zones do not become one burst of events and packets; stopping dmsd
// does not wait for the rest of the start-up round.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { DbKeyStore, startNotifier } from '../../src/cli/dmsd-primary.js';
import * as services from '../../src/services/index.js';
import * as servers from '../../src/services/servers.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';

const ZONES = 30;
const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const admin = 'tester@test/Admin';
let dir: string;
let store: Store;
// A secondary that takes the NOTIFYs and never answers: events stay queued, which is all this test counts.
const sink = createSocket('udp4');

const notifyEvents = async () => (await services.listEvents(ctxOf(store), { limit: 10_000 })).filter((e) => e.type === 'notify');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dms-notify-startup-'));
  store = await openStore({ dataDir: dir });
  await new Promise<void>((res) => sink.bind(0, '127.0.0.1', () => res()));
  await servers.createServer(ctxOf(store), 'sec1', `127.0.0.1#${sink.address().port}`);
  for (let i = 0; i < ZONES; i++) await services.createZone(ctxOf(store, admin), `z${i}.start.test`, { text: TEXT });
});

after(async () => {
  await store.close();
  sink.close();
  rmSync(dir, { recursive: true, force: true });
});

test('start-up NOTIFYs are paced: never more zones in the first second than the rate, then all of them', async () => {
  const before = (await notifyEvents()).length;
  const keys = new DbKeyStore(store, pino({ level: 'silent' }));
  await keys.reload();
  const t0 = Date.now();
  const n = await startNotifier(store, keys, pino({ level: 'silent' }), { startupNotifyRate: 10, intervalMs: 60_000 });
  try {
    await new Promise((r) => setTimeout(r, 700));
    const early = (await notifyEvents()).length - before;
    // The ceiling is exact (10 zones, one target each, in the first second); that some went out is only liveness.
    if (Date.now() - t0 < 1000) assert.ok(early <= 10, `${early} NOTIFY events queued in the first 700 ms at 10 zones/s`);
    assert.ok(early > 0, 'the first zones are queued at once');
    const deadline = Date.now() + 15_000;
    let all = early;
    while (all < ZONES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      all = (await notifyEvents()).length - before;
    }
    assert.equal(all, ZONES, 'every zone with a target gets its start-up NOTIFY');
    assert.ok(Date.now() - t0 >= 2000, '30 zones at 10 a second take at least two seconds');
  } finally {
    await n.stop();
  }
});

test('stopping during the start-up round returns at once', async () => {
  const keys = new DbKeyStore(store, pino({ level: 'silent' }));
  await keys.reload();
  const n = await startNotifier(store, keys, pino({ level: 'silent' }), { startupNotifyRate: 1, intervalMs: 60_000 });
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  await n.stop();
  assert.ok(Date.now() - t0 < 1500, `stop took ${Date.now() - t0} ms with 29 zones still to NOTIFY at 1 a second`);
});
