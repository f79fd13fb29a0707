// The pool of signing threads (node:worker_threads, sign-worker.ts): takes the signatures a SignedZone collected while
// deferring (src/dnssec SignedZone.deferSigning), or the batches a full sign packs as it goes (streamSigning), and
// computes them on every core, so a full sign neither blocks the query path nor leaves cores idle. The pure core
// chooses what is signed, by which key, with which times; the pool only does the arithmetic. Private keys go to the
// threads as KeyObjects with each batch (memory only).
//
// Few signatures (an UPDATE's) are signed inline: a round trip to a thread costs more than they do. Threads start on
// first use and are unref'd (an idle pool does not keep dmsd alive); threads idle for `idleMs` are stopped, so the
// heaps a full sign grew in them are given back, and started again by the next large change.

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { decodeSignResults, encodeSignJobs } from '../dnssec/sign-batch.js';
import { signRRsetBytes } from '../dnssec/sign.js';
import { completeSignBatch, completeSignature, type PendingSignature, type SignBatch, SignedZone, type SignPolicy, type ZoneKey } from '../dnssec/zone.js';
import { startThread } from '../server/threads.js';
import type { SignBatchMessage, SignBatchReply } from './sign-worker.js';

export interface SignPoolOptions {
  /** Threads (default: the cores available, os.availableParallelism()). */
  size?: number;
  /** Jobs per message to a thread (default 512). */
  batch?: number;
  /** Fewer signatures than this are signed inline, on the calling thread (default 256). */
  inlineBelow?: number;
  /** Threads with nothing to sign for this long are stopped (default 30 s; 0: kept). */
  idleMs?: number;
  /** Run after idle threads were stopped (dmsd: give the C heap's free memory back, malloc_trim). */
  afterIdleStop?: () => unknown;
}

interface Slot {
  worker: Worker;
  busy: number;
}

interface Waiting {
  resolve: (buf: Uint8Array) => void;
  reject: (e: Error) => void;
  slot: Slot;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export class SignPool {
  readonly size: number;
  private readonly batch: number;
  private readonly inlineBelow: number;
  private slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private readonly idleMs: number;
  private readonly afterIdleStop: (() => unknown) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** signAll calls using the threads now (the idle timer runs only when there are none). */
  private active = 0;
  /** Signatures computed by the threads, and inline (the tests check the pool was used). */
  readonly stats = { threaded: 0, inline: 0, batches: 0 };

  constructor(opts: SignPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism());
    this.batch = Math.max(1, opts.batch ?? 512);
    this.inlineBelow = opts.inlineBelow ?? 256;
    this.idleMs = opts.idleMs ?? 30_000;
    this.afterIdleStop = opts.afterIdleStop;
  }

  /** Threads running now (0 before the first large change and after an idle stop). */
  get threads(): number {
    return this.slots.length;
  }

  /** Stop the threads when idle (their replies all came: nothing waits); the next use starts new ones. */
  private stopIdle(): void {
    this.idleTimer = undefined;
    if (this.active > 0 || this.waiting.size > 0 || this.slots.length === 0) return;
    const slots = this.slots;
    this.slots = [];
    // Never a rejection left unhandled (it would end the process): a thread that cannot be stopped is left to exit.
    void Promise.all(slots.map((s) => s.worker.terminate()))
      .then(() => this.afterIdleStop?.())
      .catch(() => {});
  }

  private start(): Slot[] {
    if (this.slots.length > 0) return this.slots;
    for (let i = 0; i < this.size; i++) {
      const worker = startThread('./sign-worker', import.meta.url);
      const slot: Slot = { worker, busy: 0 };
      worker.unref();
      worker.on('message', (m: SignBatchReply) => {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        slot.busy--;
        if ('error' in m) w.reject(new Error(`signing thread: ${m.error}`));
        else w.resolve(m.buf);
      });
      const fail = (e: Error) => {
        // A thread that died takes its batches with it: they fail, and the pool starts afresh on next use.
        for (const [id, w] of this.waiting)
          if (w.slot === slot) {
            this.waiting.delete(id);
            w.reject(new Error(`signing thread failed: ${e.message}`));
          }
        if (!this.slots.includes(slot)) return;
        const others = this.slots.filter((s) => s !== slot);
        this.slots = [];
        // The others finish what they hold (their replies still arrive), then go.
        for (const s of others) setTimeout(() => void s.worker.terminate(), 60_000).unref();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`exited with code ${code}`));
      });
      this.slots.push(slot);
    }
    return this.slots;
  }

  private send(slot: Slot, keys: KeyObject[], buf: Uint8Array): Promise<Uint8Array> {
    const id = this.nextId++;
    slot.busy++;
    this.stats.batches++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      const msg: SignBatchMessage = { id, keys, buf };
      slot.worker.postMessage(msg, [buf.buffer as ArrayBuffer]);
    });
  }

  /** Compute the signatures and put each in place (completeSignature). Rejects when a thread fails. */
  async signAll(pending: readonly PendingSignature[]): Promise<void> {
    if (pending.length === 0) return;
    if (this.closed) throw new Error('the signing pool is closed');
    if (pending.length < this.inlineBelow) {
      for (const p of pending) completeSignature(p, signRRsetBytes(p.job, p.key.privateKey as KeyObject));
      this.stats.inline += pending.length;
      return;
    }
    clearTimeout(this.idleTimer);
    this.active++;
    try {
      await this.signInThreads(pending);
    } finally {
      if (--this.active === 0 && this.idleMs > 0 && !this.closed) this.idleTimer = setTimeout(() => this.stopIdle(), this.idleMs).unref();
    }
  }

  /**
   * Compute a batch a streamed full sign packed (SignedZone.streamSigning) on the least busy thread and put the
   * results in place. Rejects when the thread fails.
   */
  async signBatch(b: SignBatch): Promise<void> {
    if (this.closed) throw new Error('the signing pool is closed');
    clearTimeout(this.idleTimer);
    this.active++;
    try {
      const slots = this.start();
      let slot = slots[0];
      for (const s of slots) if (s.busy < slot.busy) slot = s;
      completeSignBatch(b, decodeSignResults(await this.send(slot, b.keys as KeyObject[], b.jobs)));
      this.stats.threaded += b.rrs.length;
    } finally {
      if (--this.active === 0 && this.idleMs > 0 && !this.closed) this.idleTimer = setTimeout(() => this.stopIdle(), this.idleMs).unref();
    }
  }

  /** Jobs per message to a thread. */
  get batchSize(): number {
    return this.batch;
  }

  private async signInThreads(pending: readonly PendingSignature[]): Promise<void> {
    const keyIndex = new Map<KeyObject, number>();
    const keys: KeyObject[] = [];
    const index = pending.map((p) => {
      const k = p.key.privateKey;
      if (!k) throw new Error(`key ${p.key.keyTag} has no private key`);
      let i = keyIndex.get(k);
      if (i === undefined) {
        i = keys.length;
        keyIndex.set(k, i);
        keys.push(k);
      }
      return i;
    });
    const slots = this.start();
    let next = 0;
    // Two batches in flight per thread: one being signed, one waiting, so a thread never idles for the main thread.
    const feed = async (slot: Slot): Promise<void> => {
      while (next < pending.length) {
        const from = next;
        const to = Math.min(pending.length, from + this.batch);
        next = to;
        const part = pending.slice(from, to);
        const buf = encodeSignJobs(
          part.map((p) => p.job),
          index.slice(from, to),
        );
        const results = decodeSignResults(await this.send(slot, keys, buf));
        if (results.length !== part.length) throw new Error(`signing thread returned ${results.length} signatures for ${part.length} jobs`);
        for (let i = 0; i < part.length; i++) completeSignature(part[i], results[i]);
        this.stats.threaded += part.length;
      }
    };
    await Promise.all(slots.flatMap((s) => [feed(s), feed(s)]));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/**
 * Run a change of a signed zone (apply, replaceOwners, refresh) with its signatures computed by the pool; without a
 * pool, inline as before. Returns what the change returned, complete.
 */
export async function signDeferred<T>(zone: SignedZone, pool: SignPool | undefined, change: () => T): Promise<T> {
  if (!pool) return change();
  zone.deferSigning();
  let out: T;
  try {
    out = change();
  } catch (e) {
    zone.takeSignJobs();
    throw e;
  }
  await pool.signAll(zone.takeSignJobs());
  return out;
}

/** Batches a full sign has sent to the threads and not yet got back, at most (default; ~16 MB of jobs at 512 each). */
const MAX_BATCHES_IN_FLIGHT = 512;

/**
 * A full sign with the pool: the records are added in slices (the event loop turns between them, so queries are
 * answered meanwhile; a slice is sized to take about `sliceMs`), and the signatures are packed into batches as they
 * are made (SignedZone.streamSigning) and sent to the threads while the next slices are added, so the cores sign
 * while this thread builds the zone. The result is what signZone makes: the same RRsets signed by the same keys with
 * the same times (`now` is fixed for the whole run; the chain built across slices ends as one built at once). The
 * records are added in canonical order (RFC 4034 §6.1): each slice then extends the NSEC chain at its end, so a
 * chain record sent for signing stays final — all but the one at the end of each slice, re-made when the next slice
 * links on (one signature per slice computed in vain) — and the sorted sets append instead of searching. NSEC3
 * records follow hash order instead: theirs are signed once the chain is complete. The SOA goes first (the zone
 * needs it from the first slice on).
 */
export async function signZoneInPool(
  origin: Name,
  records: readonly RR[],
  keys: readonly ZoneKey[],
  policy: SignPolicy,
  now: number,
  pool: SignPool,
  sliceMs = 10,
  maxInFlight = MAX_BATCHES_IN_FLIGHT,
): Promise<SignedZone> {
  const soa = records.filter((r) => r.type === 6);
  const klass = soa[0]?.class ?? records[0]?.class;
  const z = klass === undefined ? new SignedZone(origin, policy) : new SignedZone(origin, policy, klass);
  // A stable sort: the records of an owner keep their order.
  const rest = records.filter((r) => r.type !== 6).sort((a, b) => a.name.compareCanonical(b.name));
  const signing: Promise<void>[] = [];
  /** signing[0 .. waited) have been awaited. */
  let waited = 0;
  const send = (batches: SignBatch[]) => {
    for (const b of batches) {
      const p = pool.signBatch(b);
      // Awaited below; until then a failure must not count as unhandled.
      p.catch(() => {});
      signing.push(p);
    }
  };
  z.streamSigning({ batch: pool.batchSize, held: policy.denial.kind === 'nsec3' ? [RRType.NSEC3] : [] });
  try {
    let slice = 500;
    for (let i = 0, first = true; first || i < rest.length; first = false) {
      // A slice ends with an owner's last record: an RRset split over two slices would be signed twice.
      let end = Math.min(rest.length, i + slice);
      while (end < rest.length && rest[end].name.key === rest[end - 1].name.key) end++;
      const part = first ? [...soa, ...rest.slice(0, end)] : rest.slice(i, end);
      i = end;
      const t0 = performance.now();
      z.apply({ remove: [], add: part }, keys, now, { noDelta: true });
      send(z.takeSignBatches());
      const ms = performance.now() - t0;
      if (ms < sliceMs / 2) slice = Math.min(slice * 2, 50_000);
      else if (ms > sliceMs * 2) slice = Math.max(Math.floor(slice / 2), 50);
      await yieldToEventLoop();
      // The threads sign more slowly than this thread makes jobs: past a bound, it waits for them, so the jobs in
      // flight (and the memory they hold) stay bounded whatever the zone's size.
      while (signing.length - waited > maxInFlight) await signing[waited++];
    }
  } catch (e) {
    z.endSignStream();
    z.takeSignJobs();
    await Promise.allSettled(signing);
    throw e;
  }
  send(z.endSignStream());
  signing.push(pool.signAll(z.takeSignJobs()));
  await Promise.all(signing);
  return z;
}
