// better-sqlite3 runs statements synchronously, so a long chain of awaited statements only ever yields to microtasks:
// dmsd's sockets starved while it took in thousands of zones (bench/sg.mjs: 68.8 s without an answer). The SQLite
// store gives the event loop a turn every 20 ms of statements (store.ts loopTurnDue): a timer must keep firing while
// one async chain runs thousands of statements, inside a transaction and outside.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/index.js';

test('a long chain of SQLite statements leaves the event loop turns (a 5 ms timer keeps firing)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-loop-turns-'));
  const store = await openStore({ dataDir: dir });
  try {
    await sql`create table t (k integer primary key, v text)`.execute(store.db);
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 5);
    const started = performance.now();
    let n = 0;
    // Outside a transaction (each statement its own, fsynced) and inside one, until well past a second of work.
    while (performance.now() - started < 600) await sql`insert into t (v) values (${`row ${n++}`})`.execute(store.db);
    await store.db.transaction().execute(async (trx) => {
      const t0 = performance.now();
      while (performance.now() - t0 < 600) await sql`insert into t (v) values (${`row ${n++}`})`.execute(trx);
    });
    const total = performance.now() - started;
    clearInterval(timer);
    const rows = await sql<{ c: number }>`select count(*) as c from t`.execute(store.db);
    assert.equal(Number(rows.rows[0].c), n, 'every row written');
    // Without the turns the timer would not fire at all during the chain (one gap of its whole length).
    assert.ok(gaps.length >= 10, `the timer fired ${gaps.length} times during ${total.toFixed(0)} ms of statements`);
    const worst = Math.max(...gaps);
    assert.ok(worst < total / 4, `longest time without a turn ${worst.toFixed(0)} ms of ${total.toFixed(0)} ms`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
