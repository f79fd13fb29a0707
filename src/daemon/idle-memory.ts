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
// interrupted.
//
// A full collection stops the process for as long as it takes to mark the whole heap: about 0.45 ms per MB of live
// objects here (measured: 100 MB 45 ms, 400 MB 165–215 ms, 1.5 GB 670 ms), so a dmsd holding a signed
// 1,000,000-record zone (a 6 GB heap) would not answer for seconds. Collections whose pause, estimated from the heap
// in use and the rate the last collection took, would exceed `maxPauseMs` are not made: a large process keeps its
// memory rather than stop answering (V8's own collections of it are incremental and concurrent).

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
  /** Longest pause a collection may make (estimated; default 250 ms). */
  maxPauseMs?: number;
  /** Told once per idle stretch when a collection was due but would pause too long. */
  onSkip?: (usedBytes: number, estimatedMs: number) => void;
}

/** Milliseconds a full collection takes per MB of heap in use, before one was measured (0.45 measured here). */
const MS_PER_MB = 0.5;

/** V8's collection function: a full collection, or a young-generation one with `{ type: 'minor' }`. */
type Collector = (options?: { type: 'minor' | 'major' }) => void;

/** V8's collection function, without starting Node with --expose-gc (undefined where V8 refuses the flag). */
function fullCollection(): Collector | undefined {
  const existing = (globalThis as { gc?: Collector }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    // A fresh context reads the flag at creation: its global `gc` is the isolate's collector.
    const gc = vm.runInNewContext('gc') as unknown;
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? (gc as Collector) : undefined;
  } catch {
    return undefined;
  }
}

/** The young generation's size (V8's new space) an idle process shrinks it to is 1–2 MiB; above this it has grown. */
const YOUNG_IDLE = 4 * 1024 * 1024;

function newSpace(): v8.HeapSpaceInfo | undefined {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
}

function youngSize(): number {
  return newSpace()?.space_size ?? 0;
}

/** The share of the young generation at which V8 posts a task to collect it (--minor-gc-task-trigger, 80 %). */
const YOUNG_TASK_TRIGGER = 0.8;

/** A heap from which on a scavenge's fixed part (see below) is worth a larger young generation: ~1,000 pages. */
const LARGE_HEAP = 256 * 1024 * 1024;

/** Looks closer together than this are changes in a run (a DHCP server's or an ACME client's stream of UPDATEs). */
const BURST_MS = 5000;

/** A young generation (one semi-space) below this has been shrunk; V8's limit in Node 20 is 16 MiB. */
const YOUNG_GROWN = 8 * 1024 * 1024;

/**
 * The young generation (V8's new space) of a process whose changes must be served fast, whatever its heap's size.
 * Returns the function to call once each change is served.
 *
 * Why: part of a young-generation collection's (scavenge's) pause grows with the whole heap, not with what it
 * collects: V8 (Node 20) walks the header of every old-generation page (256 KiB each) for old-to-new slots, about 1 µs
 * a page here, so with a signed zone of 1,000,000 records (a 2.3 GB heap) every scavenge stopped dmsd for ~10 ms
 * (perf during signed UPDATEs: 29 % of the main thread's time in that walk, ScavengerCollector::CollectGarbage). And
 * V8 shrinks the young generation of a process that allocates little (an idle one: its polls) to 1 MiB at its next
 * scavenge, growing it back only by doubling, each time as much has survived as it holds. A signed change allocates
 * about 1 MB: after an idle stretch, the next ~15 UPDATEs each met a scavenge (V8's own scavenge task, posted at 80 %
 * full, runs between two of an UPDATE's statements) and took 22–33 ms instead of 11–13 (measured, 1,000,000 signed
 * records on PostgreSQL).
 *
 * What it does, once changes pause (`delayMs` after the last one served: never inside a stream of them): (1) with a
 * large heap and changes coming in a run, a young generation V8 has shrunk is grown back to its limit at once
 * (survivors made for one collection: V8 grows it after a collection in which as much survived as it holds; with
 * --semi-space-growth-factor, read at each growth, in one step), so that a scavenge comes once per ~16 changes rather
 * than once per change; (2) when the young generation would not take another change like the last ones, it is
 * collected now: the pause falls between two changes, not inside the next one. Collections are not added beyond these: one is made early only when the next
 * change would make one anyway. A small heap's scavenge is well under a millisecond wherever it falls, and its young
 * generation is left to V8.
 */
export function youngGenerationForChanges(o: { delayMs?: number; largeHeap?: number } = {}): (() => void) | undefined {
  const gc = fullCollection();
  if (!gc) return undefined;
  const largeHeap = o.largeHeap ?? LARGE_HEAP;
  let lastUsed = -1;
  let perChange = 0;
  let lastLook = -Infinity;
  const look = () => {
    const now = performance.now();
    // Grown back only for changes that come in a run (this look within a few seconds of the last): an isolated change
    // every minute would pay the growth's two collections each time for nothing (V8 shrinks it again while idle).
    const inRun = now - lastLook < BURST_MS;
    lastLook = now;
    let ns = newSpace();
    if (!ns) return;
    if (inRun && ns.space_used_size + ns.space_available_size < YOUNG_GROWN && v8.getHeapStatistics().total_heap_size >= largeHeap) {
      v8.setFlagsFromString('--semi-space-growth-factor=16');
      const survivors: number[][] = [];
      // Small arrays (32 bytes or more each), more than the young generation holds, alive through one collection.
      for (let bytes = 0, limit = (ns.space_used_size + ns.space_available_size) * 1.25; bytes < limit; bytes += 32) survivors.push([0]);
      gc({ type: 'minor' });
      survivors.length = 0;
      gc({ type: 'minor' });
      lastUsed = -1;
      ns = newSpace();
      if (!ns) return;
    }
    let used = ns.space_used_size;
    // What the young generation gained since the last look: the changes and whatever ran between them (unknown when a
    // collection came between; the estimate then decays).
    perChange = lastUsed >= 0 && used > lastUsed ? Math.max(used - lastUsed, perChange / 2) : perChange / 2;
    if (used + perChange > (used + ns.space_available_size) * YOUNG_TASK_TRIGGER) {
      gc({ type: 'minor' });
      used = newSpace()?.space_used_size ?? 0;
    }
    lastUsed = used;
  };
  const timer = setTimeout(look, o.delayMs ?? 20);
  timer.unref();
  // Each change served pushes the look back: it runs once changes pause.
  return () => void timer.refresh();
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
  const maxPauseMs = o.maxPauseMs ?? 250;
  let msPerMb = MS_PER_MB;
  let skipped = false;
  let collections = 0;
  const timer = setInterval(() => {
    const now = process.cpuUsage();
    const used = now.user - last.user + (now.system - last.system);
    last = now;
    if (used >= idleUs) {
      collections = 0;
      skipped = false;
      return;
    }
    if (collections >= maxPerIdle) return;
    const stats = v8.getHeapStatistics();
    const before = stats.total_heap_size;
    if (before <= heapAfter * growth && youngSize() <= YOUNG_IDLE) return;
    const usedMb = stats.used_heap_size / 1e6;
    if (usedMb * msPerMb > maxPauseMs) {
      if (!skipped) o.onSkip?.(stats.used_heap_size, usedMb * msPerMb);
      skipped = true;
      return;
    }
    collections++;
    const t0 = performance.now();
    gc();
    const gcMs = performance.now() - t0;
    o.trimNativeHeap?.();
    const ms = performance.now() - t0;
    // The rate of this heap, for the next estimate (a heap of mostly small objects marks slower than big arrays).
    if (usedMb >= 10) msPerMb = Math.max(gcMs / usedMb, 0.05);
    heapAfter = v8.getHeapStatistics().total_heap_size;
    o.onCollect?.(before, heapAfter, ms);
    // The collection's own CPU time is not traffic.
    last = process.cpuUsage();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * One full collection now, then the C heap trimmed: after the start-up load and before the process serves (nothing
 * waits on the pause then), so that the load's garbage — row buffers, snapshot parts, the builder's staging arrays —
 * is given back rather than kept until the first idle collection. Returns the heap sizes, or undefined without a
 * collector.
 */
export function collectAfterLoad(trimNativeHeap?: () => unknown): { before: number; after: number; ms: number } | undefined {
  const gc = fullCollection();
  if (!gc) return undefined;
  const t0 = performance.now();
  const before = v8.getHeapStatistics().total_heap_size;
  gc();
  trimNativeHeap?.();
  return { before, after: v8.getHeapStatistics().total_heap_size, ms: performance.now() - t0 };
}
