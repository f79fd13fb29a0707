// The event runner and the NOTIFY queueing on a real store (SQLite): a round decides each event type side by side
// (a slow handler — a NOTIFY waiting for a silent secondary's timeout — does not hold up a git pull taken in the same
// round); the NOTIFYs of many zones go into the queue in one transaction; the pre-filter of zones that can have
// NOTIFY targets at all keeps every zone that does.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EventHandler, runDueEvents } from '../../src/daemon/events/runner.js';
import * as services from '../../src/services/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';

let dir: string;
let store: Store;
const ZONE_TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dms-event-runner-'));
  store = await openStore({ dataDir: dir });
});
after(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('one round decides each event type side by side: a slow type does not hold up another', async () => {
  const ctx = ctxOf(store);
  const slowId = await services.enqueueEvent(ctx, 'test_slow');
  const fastId = await services.enqueueEvent(ctx, 'test_fast');
  let fastDoneWhileSlowWaited = false;
  const slow: EventHandler = {
    type: 'test_slow',
    async *decide(due) {
      // Wait (at most 5 s) for the other type's event to be finished by the runner meanwhile.
      const end = Date.now() + 5000;
      while (Date.now() < end) {
        if ((await services.getEvent(ctx, fastId)).state === 'SUCCESS') {
          fastDoneWhileSlowWaited = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      for (const e of due) yield [e, { kind: 'done' }];
    },
  };
  const fast: EventHandler = {
    type: 'test_fast',
    async *decide(due) {
      for (const e of due) yield [e, { kind: 'done' }];
    },
  };
  // The slow handler first, as the NOTIFY handler comes before the git handlers in dmsd's runner.
  const round = await runDueEvents(store, [slow, fast]);
  assert.equal(round.counts.get('done'), 2);
  assert.ok(fastDoneWhileSlowWaited, 'the fast type was finished while the slow one was still deciding');
  assert.equal((await services.getEvent(ctx, slowId)).state, 'SUCCESS');
});

test('a handler that throws does not keep the other types from finishing; the error is passed on', async () => {
  const ctx = ctxOf(store);
  const okId = await services.enqueueEvent(ctx, 'test_ok');
  await services.enqueueEvent(ctx, 'test_throws');
  const throws: EventHandler = {
    type: 'test_throws',
    // biome-ignore lint/correctness/useYield: it fails before deciding anything
    async *decide() {
      throw new Error('handler broke');
    },
  };
  const ok: EventHandler = {
    type: 'test_ok',
    async *decide(due) {
      await new Promise((r) => setTimeout(r, 50));
      for (const e of due) yield [e, { kind: 'done' }];
    },
  };
  await assert.rejects(runDueEvents(store, [throws, ok]), /handler broke/);
  assert.equal((await services.getEvent(ctx, okId)).state, 'SUCCESS');
});

test('NOTIFYs of many zones queued in one transaction; the zones that can have targets are found in one look-up', async () => {
  const ctx = ctxOf(store, 'test');
  const names = Array.from({ length: 30 }, (_, i) => `batch${i}.example`);
  for (const n of names) await services.createZone(ctx, n, { text: ZONE_TEXT });
  await services.addAlsoNotify(ctx, { zone: 'batch3.example' }, { address: '192.0.2.53', port: 5300 });
  await services.addAlsoNotify(ctx, { zone: 'batch17.example' }, { address: '192.0.2.54' });
  const maybe = await services.zonesMaybeWithNotifyTargets(ctx, names);
  assert.deepEqual([...maybe].sort(), ['batch17.example.', 'batch3.example.']);
  // The pre-filter keeps every zone zoneNotifyTargets finds targets for.
  for (const n of names) if ((await services.zoneNotifyTargets(ctx, n)).length > 0) assert.ok(maybe.has(`${n}.`), n);
  const commitsBefore = await commitCount();
  const ids = await services.enqueueZoneEvents(ctx, 'notify_test', [
    { zone: 'batch3.example', payloads: [{ a: 1 }, { a: 2 }] },
    { zone: 'batch17.example', payloads: [{ a: 3 }] },
  ]);
  assert.equal(await commitCount(), commitsBefore + 1, 'one commit for every zone and target');
  assert.deepEqual(ids.map((l) => l.length), [2, 1]);
  const queued = (await services.listEvents(ctx)).filter((e) => e.type === 'notify_test');
  assert.deepEqual(queued.map((e) => e.zone).sort(), ['batch17.example.', 'batch3.example.', 'batch3.example.']);
});

/** Write transactions committed so far, counted by the doorbell SQLite rings after each commit (on the next turn). */
let commits = 0;
let listening: Promise<unknown> | undefined;
async function commitCount(): Promise<number> {
  listening ??= store.listen?.('dms_changes', () => {
    commits++;
  });
  await listening;
  await new Promise((r) => setImmediate(r));
  return commits;
}
