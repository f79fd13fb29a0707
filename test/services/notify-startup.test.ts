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
import { DbKeyStore, type PacingClock, startNotifier } from '../../src/daemon/primary.js';
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

/**
 * A clock that only moves when the notifier waits: the pacing is checked exactly, with no sleeping and no timing
 * assumptions. `onSleep` sees each wait before time moves on.
 */
function fakeClock(onSleep: (ms: number) => Promise<void> | void, block = false): PacingClock {
  let t = 1_000_000;
  return {
    now: () => t,
    async sleep(ms, signal) {
      await onSleep(ms);
      if (block) {
        // Never ends by itself: only stop() (the abort) can end this wait.
        if (!signal.aborted) await new Promise<void>((res) => signal.addEventListener('abort', () => res()));
        return;
      }
      t += ms;
    },
  };
}

test('start-up NOTIFYs are paced: exactly the rate per second, then all of them', async () => {
  const before = (await notifyEvents()).length;
  const keys = new DbKeyStore(store, pino({ level: 'silent' }));
  await keys.reload();
  const waits: { ms: number; queued: number }[] = [];
  const clock = fakeClock(async (ms) => {
    waits.push({ ms, queued: (await notifyEvents()).length - before });
  });
  const n = await startNotifier(store, keys, pino({ level: 'silent' }), { startupNotifyRate: 10, intervalMs: 60_000, clock });
  try {
    const deadline = Date.now() + 15_000;
    let all = 0;
    while (all < ZONES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      all = (await notifyEvents()).length - before;
    }
    assert.equal(all, ZONES, 'every zone with a target gets its start-up NOTIFY');
    // 30 zones at 10 a second: a full window of 10, wait out the second, 10 more, wait, the last 10.
    assert.deepEqual(waits, [
      { ms: 1000, queued: 10 },
      { ms: 1000, queued: 20 },
    ]);
  } finally {
    await n.stop();
  }
});

test('stopping during the start-up round returns at once and queues nothing more', async () => {
  const before = (await notifyEvents()).length;
  const keys = new DbKeyStore(store, pino({ level: 'silent' }));
  await keys.reload();
  let waiting!: () => void;
  const inWait = new Promise<void>((res) => {
    waiting = res;
  });
  const clock = fakeClock(() => waiting(), true);
  const n = await startNotifier(store, keys, pino({ level: 'silent' }), { startupNotifyRate: 1, intervalMs: 60_000, clock });
  await inWait; // one zone queued, the notifier now waits for the next second, which never comes by itself
  const stopped = await Promise.race([n.stop().then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
  assert.equal(stopped, true, 'stop() ended the wait instead of sitting out the start-up round');
  assert.equal((await notifyEvents()).length - before, 1, 'only the zone before the first wait was queued');
});
