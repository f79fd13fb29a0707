// NOTIFY events (RFC 1996): queued on every publish, one per target (server-group members, also-notify,
// `._transfer.` peers), sent by the event runner. The handler decides each due event: superseded by a newer one for
// the same zone and target → done unsent; key gone → fail; version not served yet → wait; else send, and
// acknowledged or answered with an error rcode → done, an answer failing its TSIG check → fail, no answer → retry
// (the runner's backoff).

import { Name } from '../../dns/name.js';
import type { RR } from '../../dns/message.js';
import { serialGreater, soaSerialOf } from '../../dns/serial.js';
import type { TsigKey } from '../../dns/tsig.js';
import { type NotifyAttempt, type NotifyTarget, notifyOnce } from '../../server/notify.js';
import type { KeyStore } from '../../server/primary.js';
import * as services from '../../services/index.js';
import type { Store } from '../../store/index.js';
import { type EventHandler, type EventOutcome, runDueEvents } from './runner.js';

type MaybePromise<T> = T | Promise<T>;

/** Event type of queued NOTIFYs (zone_tool lists them with the other pending events). */
export const NOTIFY_EVENT = 'notify';

export interface NotifyEventPayload {
  address: string;
  port?: number;
  /** Name of the TSIG key to sign with (looked up when sending, so a key change applies to pending ones). */
  key?: string;
  serial?: number;
  /** The change-feed position of the publish it announces (a cluster supervisor holds it until the workers are there). */
  seq?: number;
}

/** On publish: one `notify` event per target. */
export async function enqueueNotifies(store: Store, zone: Name, targets: readonly NotifyTarget[], serial?: number): Promise<number[]> {
  const ids: number[] = [];
  for (const t of targets) {
    const payload: NotifyEventPayload = { address: t.address, port: t.port, key: t.key?.name.toString(), serial };
    ids.push(await services.enqueueEvent(services.serviceContext(store), NOTIFY_EVENT, { zone: zone.toString(), payload }));
  }
  return ids;
}

/** NOTIFYs in flight at once in one round. */
const SEND_WINDOW = 64;

/** How long a NOTIFY may wait for its zone version to be served before it is sent anyway. */
const NOTIFY_HOLD_MS = 10_000;

export interface NotifyHandlerOptions {
  keys: KeyStore;
  /** The SOA to send as a hint (the published one), if this process serves the zone. */
  soaOf?: (zone: Name) => MaybePromise<RR | undefined>;
  /** Tries before an event is marked FAILURE (default 8: about 10 minutes of backoff). */
  maxAttempts?: number;
  timeoutMs?: number;
  /**
   * Without soaOf (a process that does not serve, e.g. the cluster supervisor): hold events younger than this, so the
   * serving processes have reloaded the announced version (dmsd: change-feed interval plus a reload).
   */
  minAgeMs?: number;
  /**
   * Without soaOf: the change-feed position every serving process has taken in (the workers'); an event carrying the
   * position of its publish waits for it (instead of minAgeMs). undefined: not known yet.
   */
  servedSeq?: () => number | undefined;
  send?: (target: NotifyTarget, zone: Name, soa: RR | undefined, timeoutMs: number) => Promise<NotifyAttempt>;
}

export function notifyHandler(o: NotifyHandlerOptions): EventHandler {
  const targetKey = (e: services.EventInfo) => {
    const p = e.payload as NotifyEventPayload;
    return `${e.zone} ${p.address}#${p.port ?? 53}`;
  };
  async function decideOne(e: services.EventInfo, newest: Map<string, number>, now: number): Promise<EventOutcome> {
    if (!e.zone) return { kind: 'fail', error: 'NOTIFY event without a zone' };
    if (newest.get(targetKey(e)) !== e.id) return { kind: 'done', detail: 'superseded' };
    const p = e.payload as NotifyEventPayload;
    const zone = Name.from(e.zone);
    let key: TsigKey | undefined;
    if (p.key) {
      key = await o.keys.get(Name.from(p.key));
      if (!key) return { kind: 'fail', error: `TSIG key ${p.key} not found` };
    }
    const soa = await o.soaOf?.(zone);
    // A NOTIFY that overtakes the reload of the version it announces makes the secondary ask, see the old serial and
    // stop there (RFC 1996 §3.11). Hold it until this process serves the announced serial; a process that does not
    // serve (cluster supervisor) waits minAgeMs. Never hold longer than NOTIFY_HOLD_MS.
    const age = now - e.created.getTime();
    if (p.serial !== undefined && age < NOTIFY_HOLD_MS) {
      const notServedYet = o.soaOf
        ? !soa || serialGreater(p.serial, soaSerialOf(soa))
        : o.servedSeq && p.seq !== undefined
          ? (o.servedSeq() ?? -1) < p.seq
          : age < (o.minAgeMs ?? 0);
      if (notServedYet) return { kind: 'wait' };
    }
    const send = o.send ?? notifyOnce;
    const r = await send({ address: p.address, port: p.port, key }, zone, soa, o.timeoutMs ?? 2000);
    if (r.acked) return { kind: 'done', detail: 'acknowledged' };
    // An answer is an answer (RFC 1996 §3.6 resends only while none comes, as BIND and Knot do): a secondary that
    // answers NOTAUTH or REFUSED does not know the zone yet (a new zone, before its catalog or configuration reached
    // it) and transfers it when it learns of it; asking again only repeats the refusal. An answer that fails its
    // TSIG check is an error to show, not to repeat.
    if (r.rcode !== undefined) {
      return r.error === undefined || r.error === `rcode ${r.rcode}`
        ? { kind: 'done', detail: `answered rcode ${r.rcode}` }
        : { kind: 'fail', error: r.error };
    }
    return { kind: 'retry', error: r.error ?? 'no answer' };
  }
  return {
    type: NOTIFY_EVENT,
    maxAttempts: o.maxAttempts ?? 8,
    async *decide(due, now) {
      const newest = new Map<string, number>();
      for (const e of due) if (e.zone) newest.set(targetKey(e), Math.max(newest.get(targetKey(e)) ?? 0, e.id));
      // Up to SEND_WINDOW at once: a secondary's NOTIFY must not wait for another's acknowledgement (or its timeout),
      // and a start-up round of thousands must not open thousands of sockets.
      const decide = (e: services.EventInfo) => decideOne(e, newest, now).catch((err): EventOutcome => ({ kind: 'retry', error: (err as Error).message }));
      for (let start = 0; start < due.length; start += SEND_WINDOW) {
        const chunk = due.slice(start, start + SEND_WINDOW);
        const outcomes = chunk.map(decide);
        for (let i = 0; i < chunk.length; i++) yield [chunk[i], await outcomes[i]];
      }
    },
  };
}

/** One round of NOTIFY events alone; returns how many were acknowledged. */
export async function runNotifyEvents(store: Store, o: NotifyHandlerOptions & { now?: number }): Promise<number> {
  const r = await runDueEvents(store, [notifyHandler(o)], { now: o.now });
  return r.counts.get('done:acknowledged') ?? 0;
}
