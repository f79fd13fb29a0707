// /health's view of the served zone table (daemon/http.ts feedHealth): current while the change feed keeps up with
// the database. Seen behind at one check, it is stale only if it has not passed that point 5 s later; checks far
// apart must not hold an old sighting against a feed that has long caught up (a replica's /health after a
// promotion said 503 for that).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feedHealth } from '../../src/daemon/http.js';
import * as svc from '../../src/services/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { sqlite } = testBackends({ lazy: true });

test('feed health: behind only just now, or past the point it was seen behind, is current', async () => {
  const store = await sqlite.open();
  try {
    const ctx = ctxOf(store, 'tester@test/Admin');
    await svc.createZone(ctx, 'a.example');
    const db = await svc.currentChangeSeq(ctx);
    assert.ok(db > 0);
    let served = 0;
    let now = 1_000_000;
    const health = feedHealth(store, () => served, () => now);
    assert.deepEqual(await health(), { current: true, lag: db, seq: 0 }, 'behind since just now');
    now += 6000;
    assert.equal((await health()).current, false, 'still behind that point after 5 s: stale');
    served = db;
    assert.equal((await health()).current, true, 'caught up');
    // Seen behind once, then the feed moves on; the next check comes much later, behind again by a new change:
    // the old sighting is over (the feed passed it), the new one has just begun.
    await svc.createZone(ctx, 'b.example');
    const db2 = await svc.currentChangeSeq(ctx);
    assert.equal((await health()).current, true);
    served = db2;
    await svc.createZone(ctx, 'c.example');
    now += 60_000;
    const h = await health();
    assert.equal(h.current, true, 'the old lag is over; this one is new');
    assert.ok(h.lag > 0);
    now += 6000;
    assert.equal((await health()).current, false, 'and it too goes stale if the feed does not move');
  } finally {
    await store.close();
  }
});
