// One runner for every kind of queued event (NOTIFY today; signing, configuration publishing and health checks
// next). Each event type has a handler file that decides what to do with its due events and returns each outcome as
// data; only this runner changes the queue, so retry, backoff and failure work the same for every kind.

import * as services from '../../services/index.js';
import type { Store } from '../../store/index.js';

/** What became of one due event. */
export type EventOutcome =
  /** Finished: marked SUCCESS. `detail` says how (e.g. 'acknowledged', 'superseded'), for counting and logs. */
  | { kind: 'done'; detail?: string }
  /** Not now: RETRY with the queue's exponential backoff (FAILURE once the handler's maxAttempts are used). */
  | { kind: 'retry'; error: string }
  /** Never: marked FAILURE at once (e.g. its TSIG key is gone). */
  | { kind: 'fail'; error: string }
  /** Not yet due in the handler's eyes (e.g. held until a version is served): left as it is for the next round. */
  | { kind: 'wait' };

export interface EventHandler {
  /** The event type it handles (events.type). */
  readonly type: string;
  /** Tries before an event is marked FAILURE. */
  readonly maxAttempts?: number;
  /** Decide this round's due events of the type, all at once so that a handler can see superseded ones. */
  decide(due: readonly services.EventInfo[], now: number): AsyncIterable<[services.EventInfo, EventOutcome]>;
}

export interface RoundResult {
  /** Outcomes by kind, and by 'done:<detail>'. */
  counts: Map<string, number>;
  /** Due events read, those other rounds were working on included (0: the queue had nothing due). */
  read?: number;
}

/** One round: read the due events, hand each type's to its handler, apply the outcomes. Unknown types stay queued. */
export async function runDueEvents(
  store: Store,
  handlers: readonly EventHandler[],
  o: {
    now?: number;
    limit?: number;
    /**
     * Events another round is working on: skipped here, and this round's own are added while it decides them. Lets
     * rounds overlap, so that one slow target (a NOTIFY waiting for its timeout) does not hold up fresh events.
     */
    busy?: Set<number>;
    /** Called once the due events are read and marked busy (a caller may then start the next round). */
    onTaken?: () => void;
  } = {},
): Promise<RoundResult> {
  const now = o.now ?? Date.now();
  const busy = o.busy;
  const read = await services.dueEvents(services.serviceContext(store), o.limit ?? 1000, now);
  const due = read.filter((e) => !busy?.has(e.id));
  for (const e of due) busy?.add(e.id);
  o.onTaken?.();
  try {
    return { ...(await runRound(store, handlers, due, now)), read: read.length };
  } finally {
    for (const e of due) busy?.delete(e.id);
  }
}

async function runRound(store: Store, handlers: readonly EventHandler[], due: readonly services.EventInfo[], now: number): Promise<RoundResult> {
  const counts = new Map<string, number>();
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  // The types side by side, not one after the other: a git pull taken in the same round as a NOTIFY to a silent
  // secondary must not wait for that NOTIFY's timeout (nor a NOTIFY for a long import). Each event is still decided
  // by its own handler only, and the queue updates go through the store one at a time as before.
  const decideAll = async (h: EventHandler, mine: readonly services.EventInfo[]): Promise<void> => {
    for await (const [e, out] of h.decide(mine, now)) {
      count(out.kind);
      if (out.kind === 'done') {
        if (out.detail) count(`done:${out.detail}`);
        await services.completeEvent(services.serviceContext(store), e.id);
      } else if (out.kind === 'retry') {
        await services.retryEvent(services.serviceContext(store), e.id, out.error, { maxAttempts: h.maxAttempts ?? 10, now });
      } else if (out.kind === 'fail') {
        await services.failEvent(services.serviceContext(store), e.id, out.error);
      }
    }
  };
  const rounds: Promise<void>[] = [];
  for (const h of handlers) {
    const mine = due.filter((e) => e.type === h.type);
    if (mine.length > 0) rounds.push(decideAll(h, mine));
  }
  // Every type's outcomes applied before the round ends, even when one handler throws (the first error is passed on).
  const settled = await Promise.allSettled(rounds);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return { counts };
}
