// The change feed's followers take the rows of their own process's commit from the commit itself (SQLite: no read of
// the feed after an UPDATE), and never miss or repeat a row when another process's commits come in between.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { serviceContext } from '../../src/services/context.js';
import { followChanges } from '../../src/services/feed.js';
import type { ChangePoll } from '../../src/services/types.js';
import { openStore, type Store, writeTx } from '../../src/store/index.js';
import { appendChange } from '../../src/store/queries/feed.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const append = (store: Store, kind: string, version: number, rows = 1) =>
  writeTx(store, async (trx) => {
    for (let i = 0; i < rows; i++) await appendChange(trx, 'sqlite', { zone_id: 1, zone_name: 'own.test', kind, version: version + i, at: Date.now() });
  });

/** A follower polling every `intervalMs` besides the commits' announcements. */
function follow(store: Store, intervalMs: number): { polls: ChangePoll[]; seqs: () => number[]; until: (n: number) => Promise<void>; stop: () => Promise<void> } {
  const polls: ChangePoll[] = [];
  let waiter: (() => void) | undefined;
  const seqs = () => polls.flatMap((p) => p.changes.map((c) => c.seq));
  const stop = followChanges(
    serviceContext(store),
    0,
    (p) => {
      polls.push(p);
      waiter?.();
    },
    { intervalMs },
  );
  const until = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (seqs().length < n) {
      if (Date.now() > deadline) throw new Error(`follower has ${seqs().length} of ${n} rows: ${seqs().join(',')}`);
      await new Promise<void>((res) => {
        waiter = res;
        setTimeout(res, 50);
      });
    }
  };
  return { polls, seqs, until, stop };
}

/** A store of its own, in a directory removed after the tests. */
async function freshStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-feed-own-'));
  dirs.push(dir);
  return openStore({ dataDir: dir });
}

test('an own commit reaches the followers as committed, without reading the feed back', async () => {
  const store = await freshStore();
  // No interval poll to speak of: only the commit's announcement wakes the follower.
  const f = follow(store, 600_000);
  try {
    await new Promise((r) => setTimeout(r, 100));
    await append(store, 'publish', 1);
    // Changed in the database behind the followers' back before they run (the commit hands its rows on the next turn
    // of the event loop): a follower that read the feed would see 'tampered'.
    store.sqlite?.prepare(`update zone_changes set kind = 'tampered' where kind = 'publish'`).run();
    await f.until(1);
    assert.equal(f.polls[0].changes[0].kind, 'publish');
    assert.equal(f.polls[0].changes[0].version, 1);
    // Two rows in one transaction: both, in order.
    await append(store, 'update', 10, 2);
    await f.until(3);
    assert.deepEqual(
      f.polls.flatMap((p) => p.changes.map((c) => [c.kind, c.version])),
      [
        ['publish', 1],
        ['update', 10],
        ['update', 11],
      ],
    );
  } finally {
    await f.stop();
    await store.close();
  }
});

test('commits of another process in between: every row once, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-feed-own-'));
  dirs.push(dir);
  const a = await openStore({ dataDir: dir });
  const b = await openStore({ dataDir: dir });
  // Another process's announcement may be hidden by one of ours (the doorbell keeps the last writer's token): the
  // interval poll finds such rows, as in production.
  const fa = follow(a, 250);
  const fb = follow(b, 250);
  try {
    await new Promise((r) => setTimeout(r, 100));
    const order = 'aabababbbaabaaabbbbaba'.split('');
    let version = 1;
    for (const who of order) {
      // Without waiting for the followers: announcements of the two processes overtake each other.
      await append(who === 'a' ? a : b, who, version++);
    }
    // Two rows in one transaction, between the other's.
    await append(a, 'a', version, 2);
    version += 2;
    await append(b, 'b', version++);
    const n = version - 1;
    await fa.until(n);
    await fb.until(n);
    for (const [name, f] of [
      ['a', fa],
      ['b', fb],
    ] as const) {
      const seqs = f.seqs();
      assert.equal(seqs.length, n, `${name}: ${seqs.join(',')}`);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => seqs[0] + i),
        `${name}: every row once, in order`,
      );
    }
  } finally {
    await fa.stop();
    await fb.stop();
    await a.close();
    await b.close();
  }
});

test('a stream of own commits wakes the followers at once, then at most once per few milliseconds, with every row', async () => {
  const store = await freshStore();
  const f = follow(store, 600_000);
  try {
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    const n = 40;
    for (let v = 1; v <= n; v++) await append(store, 'publish', v);
    const ms = performance.now() - started;
    // Rows held for the next wake-up come from the commits too: the feed changed behind the followers' back now.
    store.sqlite?.prepare(`update zone_changes set kind = 'tampered'`).run();
    await f.until(n);
    const kinds = f.polls.flatMap((p) => p.changes.map((c) => c.kind));
    assert.deepEqual(kinds, Array(n).fill('publish'), 'every row once, as committed, none read back');
    assert.deepEqual(
      f.seqs(),
      f.seqs().map((_, i) => f.seqs()[0] + i),
      'in order',
    );
    // The first commit wakes the follower at once (its own poll); the others are handed over in a few batches.
    assert.equal(f.polls[0].changes.length, 1, 'the first commit after a quiet spell is passed on alone');
    assert.ok(f.polls.length < n, `${n} commits in ${ms.toFixed(1)} ms woke the follower ${f.polls.length} times`);
    assert.ok(f.polls.length <= Math.ceil(ms / 5) + 2, `at most one wake-up per 5 ms: ${f.polls.length} in ${ms.toFixed(1)} ms`);
    // A commit after a quiet spell is passed on at once again.
    await new Promise((r) => setTimeout(r, 50));
    const polls = f.polls.length;
    const t = performance.now();
    await append(store, 'publish', n + 1);
    await f.until(n + 1);
    assert.equal(f.polls.length, polls + 1);
    assert.ok(performance.now() - t < 1000, 'passed on without waiting for the interval poll');
  } finally {
    await f.stop();
    await store.close();
  }
});
