// Work a client is waiting for goes first. An RFC 2136 UPDATE, from its transaction to the moment this process serves
// what it committed, is foreground work; background work that runs on the same event loop in slices (a zone snapshot
// being encoded and stored, zone-snapshots.ts) waits between its slices until no foreground work is in progress.
//
// Why: a slice that has begun runs to its end, so an UPDATE arriving meanwhile waits for it, and an UPDATE crosses the
// event loop more than once (its commit's feed rows reach the zone table on a later turn), so with time slices alone it
// met one slice at each crossing. Measured (BENCHMARKS.md, session 31): a 100,000-record zone's snapshot, written after
// every 5,000 changes, slowed the ~70 sequential UPDATEs during it to ~3 ms each — ~50 µs on the mean of every UPDATE.

/** The next turn of the event loop, after its I/O has been polled (a datagram that came is handled first). */
const nextTurn = () => new Promise<void>((res) => setImmediate(res));

export class Foreground {
  private inProgress = 0;
  private waiting: (() => void)[] = [];

  /** Run `work` as foreground work. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.inProgress++;
    try {
      return await work();
    } finally {
      if (--this.inProgress === 0) {
        const waiting = this.waiting;
        this.waiting = [];
        for (const wake of waiting) wake();
      }
    }
  }

  /** True while foreground work is in progress. */
  get busy(): boolean {
    return this.inProgress > 0;
  }

  /**
   * For background work between two slices: resolves on a later turn of the event loop once no foreground work is in
   * progress. Woken when the last one ends, it still takes one more turn, so that what follows the foreground work in
   * the same chain of promises (an UPDATE's answer) goes out before the next slice.
   */
  async yield(): Promise<void> {
    for (;;) {
      await nextTurn();
      if (this.inProgress === 0) return;
      await new Promise<void>((res) => this.waiting.push(res));
    }
  }
}
