// Giving back the memory a burst of work made V8 grow, once the process goes idle (issue 15: "RSS back within 10 %
// of its start" after 10,000,000 fuzzed packets).
//
// Why it is needed: under traffic V8 grows its young generation to its limit (two 16 MiB semi-spaces in Node 20) and
// lets garbage pile up in the old generation until its next full collection. When the traffic stops, nothing
// collects: V8's memory reducer is armed only by a full collection, which an idle process never reaches, so a dmsd
// that met a flood keeps that heap (measured: heap 23 → 77 MiB, RSS +19 % after 30 s idle). The memory Node freed
// outside V8's heap (buffers, TLS, SQLite's page cache) stays in glibc's arenas until trimmed: knotd and BIND give
// memory back through their allocators (jemalloc's decay); here the collection is followed by malloc_trim (the
// native addon's, where it is built).
//
// What it does: every `intervalMs` it compares the process's CPU time with the interval. In an idle interval (below
// `idleShare` of one core) it runs a full collection when the heap has grown by more than `growth` since the last
// one, or when the young generation is still at its grown size: V8 shrinks it only in a collection made once its
// estimate of the allocation rate has decayed, which takes some seconds of idleness (measured: a collection 2–5 s
// after a burst leaves the 32 MiB young generation, one 6–8 s after gives it back), so an idle stretch may take up to
// `maxPerIdle` collections, and then none until the process has been busy again. A busy process is never
// interrupted, and a collection of a dmsd's heap takes milliseconds.

import v8 from 'node:v8';
import vm from 'node:vm';

export interface IdleMemoryOptions {
  intervalMs?: number;
  /** Collections at most in one idle stretch (default 3). */
  maxPerIdle?: number;
  /** Heap growth since the last collection (0.25 = 25 %) that makes an idle interval collect. */
  growth?: number;
  /** CPU share below which an interval counts as idle. */
  idleShare?: number;
  /** Run after each collection: gives the C heap's free memory back (malloc_trim). */
  trimNativeHeap?: () => unknown;
  /** Told after each collection (heap sizes before → after), for the debug log. */
  onCollect?: (before: number, after: number, ms: number) => void;
}

/** V8's full collection function, without starting Node with --expose-gc (undefined where V8 refuses the flag). */
function fullCollection(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    // A fresh context reads the flag at creation: its global `gc` is the isolate's collector.
    const gc = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** The young generation's size (V8's new space) an idle process shrinks it to is 1–2 MiB; above this it has grown. */
const YOUNG_IDLE = 4 * 1024 * 1024;

function youngSize(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Start watching; returns a stop function. The timer never keeps the process alive. */
export function startIdleMemoryReturn(o: IdleMemoryOptions = {}): () => void {
  const gc = fullCollection();
  if (!gc) return () => {};
  const intervalMs = o.intervalMs ?? 5000;
  const idleUs = intervalMs * 1000 * (o.idleShare ?? 0.02);
  const growth = 1 + (o.growth ?? 0.25);
  const maxPerIdle = o.maxPerIdle ?? 3;
  let last = process.cpuUsage();
  let heapAfter = v8.getHeapStatistics().total_heap_size;
  let collections = 0;
  const timer = setInterval(() => {
    const now = process.cpuUsage();
    const used = now.user - last.user + (now.system - last.system);
    last = now;
    if (used >= idleUs) {
      collections = 0;
      return;
    }
    if (collections >= maxPerIdle) return;
    const before = v8.getHeapStatistics().total_heap_size;
    if (before <= heapAfter * growth && youngSize() <= YOUNG_IDLE) return;
    collections++;
    const t0 = performance.now();
    gc();
    o.trimNativeHeap?.();
    const ms = performance.now() - t0;
    heapAfter = v8.getHeapStatistics().total_heap_size;
    o.onCollect?.(before, heapAfter, ms);
    // The collection's own CPU time is not traffic.
    last = process.cpuUsage();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
