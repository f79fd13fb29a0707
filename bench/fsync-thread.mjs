// A commit's disk work on this machine, in Node.js alone (no SQLite): 12 pages of 4 KiB written over a preallocated
// file, then made durable, with BODY µs of work before (an UPDATE's transaction) and AFTER µs after (the patch and the
// answer), PAUSE µs between iterations (the client's turn). Three ways, alternating:
//   fsync      fsync() on the main thread, then the work after (what SQLite's commit does: better-sqlite3 builds
//              SQLite without HAVE_FDATASYNC);
//   fdatasync  the same with fdatasync();
//   thread     the sync on a worker thread, woken when the "UPDATE" arrives so that it spins (not sleeps) until the
//              commit asks, while the main thread does the work after the commit; the answer waits for both.
// Usage: node bench/fsync-thread.mjs [BODY=200] [AFTER=80] [PAUSE=300] [N=1500]   (figures in BENCHMARKS.md, session 34)

import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [BODY, AFTER, PAUSE, N] = [200, 80, 300, 1500].map((d, i) => Number(process.argv[2 + i] ?? d));
const file = join(fs.mkdtempSync(join(tmpdir(), 'dms-fsync-')), 'wal');
const fd = fs.openSync(file, 'w+');
fs.writeSync(fd, Buffer.alloc(4 << 20), 0, 4 << 20, 0);
fs.fsyncSync(fd);
const page = Buffer.alloc(4096 * 12, 7);
// The thread's state: 0 idle (asleep), 1 armed (spinning), 2 sync asked, 3 synced.
const state = new Int32Array(new SharedArrayBuffer(4));
const worker = new Worker(
  `const { workerData } = require('node:worker_threads');
   const fs = require('node:fs');
   const st = new Int32Array(workerData.sab);
   const fd = fs.openSync(workerData.file, 'r+');
   for (;;) {
     Atomics.wait(st, 0, 0);
     let s;
     do s = Atomics.load(st, 0); while (s === 1);
     if (s === 2) { fs.fdatasyncSync(fd); Atomics.store(st, 0, 3); }
   }`,
  { eval: true, workerData: { sab: state.buffer, file } },
);
worker.unref();
const spin = (us) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};
let offset = 0;
const writePages = () => {
  for (let p = 0; p < 12; p++) fs.writeSync(fd, page, p * 4096, 4096, offset + p * 4096);
  offset = (offset + 12 * 4096) % (3 << 20);
};
const ways = {
  fsync: () => {
    spin(BODY);
    writePages();
    fs.fsyncSync(fd);
    spin(AFTER);
  },
  fdatasync: () => {
    spin(BODY);
    writePages();
    fs.fdatasyncSync(fd);
    spin(AFTER);
  },
  thread: () => {
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
    spin(BODY);
    writePages();
    Atomics.store(state, 0, 2);
    spin(AFTER);
    while (Atomics.load(state, 0) !== 3);
    Atomics.store(state, 0, 0);
  },
};
const summary = (t) => {
  t.sort((a, b) => a - b);
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  return `median ${t[t.length >> 1].toFixed(0)} µs, mean ${mean.toFixed(0)}, p90 ${t[Math.floor(t.length * 0.9)].toFixed(0)}`;
};
console.log(`bench/fsync-thread: ${BODY} µs before the commit, 12 pages, the sync, ${AFTER} µs after; ${PAUSE} µs between; ${N} each, alternating`);
for (let round = 1; round <= 3; round++) {
  const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let i = 0; i < N; i++)
    for (const [name, way] of Object.entries(ways)) {
      const t0 = performance.now();
      way();
      times[name].push((performance.now() - t0) * 1000);
      await new Promise((r) => setImmediate(r));
      spin(PAUSE);
    }
  for (const [name, t] of Object.entries(times)) console.log(`  round ${round} ${name.padEnd(9)} ${summary(t)}`);
}
fs.closeSync(fd);
fs.rmSync(join(file, '..'), { recursive: true, force: true });
process.exit(0);
