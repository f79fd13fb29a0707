// The persistent event queue (NEW / RETRY / SUCCESS / FAILURE). Unlike the original (RETRY every ~3 s forever),
// a failed attempt backs off exponentially and gives up after a number of attempts.

import { writeTx } from '../store/index.js';
import {
  dueEventRows,
  type EventRow,
  eventRow,
  eventRows,
  insertEvent,
  leaseDueEvents,
  updateEvent,
} from '../store/queries/events.js';
import { liveZoneId } from '../store/queries/zones.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { EventNotFound } from './errors.js';
import { normalizeZoneName } from './names.js';
import type { EventInfo, EventState } from './types.js';

export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 30 * 60_000;

/** Delay before attempt n+1 after n failed attempts: 5 s, 10 s, 20 s … capped at 30 min. */
export function backoffMs(attempts: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS);
}

function toInfo(r: EventRow): EventInfo {
  return {
    id: Number(r.id),
    type: r.event_type,
    zoneId: r.zone_id === null ? null : Number(r.zone_id),
    zone: r.zone_name,
    state: r.state as EventState,
    payload: r.payload === null ? null : JSON.parse(r.payload),
    attempts: r.attempts,
    lastError: r.last_error,
    created: new Date(Number(r.created)),
    scheduled: new Date(Number(r.scheduled)),
    processed: r.processed === null ? null : new Date(Number(r.processed)),
  };
}

/**
 * Several events of one type for one zone in one transaction (one commit, one fsync): the NOTIFYs of a publish to
 * every target of the zone.
 */
export async function enqueueEvents(ctx: ServiceContext, type: string, zone: string, payloads: readonly unknown[]): Promise<number[]> {
  return (await enqueueZoneEvents(ctx, type, [{ zone, payloads }]))[0];
}

/**
 * Events of one type for several zones in one transaction: the NOTIFYs of every zone one change-feed poll names (a
 * push changing 1,000 zones is one commit to wait for, not 1,000). Ids per zone, in order.
 */
export async function enqueueZoneEvents(
  ctx: ServiceContext,
  type: string,
  zones: readonly { zone: string; payloads: readonly unknown[] }[],
  o: {
    /**
     * false: the commit does not wait for the disk (it still survives a kill -9, not a power cut). For events that
     * are made again after a restart anyway: dmsd NOTIFYs every zone with targets at start, so a NOTIFY event lost
     * with the OS costs nothing, while waiting for its fsync delays every fresh NOTIFY (issue 17, propagation).
     */
    durable?: boolean;
  } = {},
): Promise<number[][]> {
  const now = nowMs(ctx);
  return writeTx(ctx.store, async (trx) => {
    const out: number[][] = [];
    for (const z of zones) {
      const zoneName = normalizeZoneName(z.zone);
      const zoneId = (await liveZoneId(trx, zoneScope(ctx), zoneName)) ?? null;
      const ids: number[] = [];
      for (const payload of z.payloads)
        ids.push(
          await insertEvent(trx, {
            event_type: type,
            zone_id: zoneId,
            zone_name: zoneName,
            state: 'NEW',
            payload: payload === undefined ? null : JSON.stringify(payload),
            attempts: 0,
            last_error: null,
            created: now,
            scheduled: now,
            processed: null,
          }),
        );
      out.push(ids);
    }
    return out;
  }, o.durable === false ? BOOKKEEPING : {});
}

export async function enqueueEvent(
  ctx: ServiceContext,
  type: string,
  o: { zone?: string; payload?: unknown; delaySec?: number } = {},
): Promise<number> {
  const now = nowMs(ctx);
  let zoneId: number | null = null;
  let zoneName: string | null = null;
  if (o.zone !== undefined) {
    zoneName = normalizeZoneName(o.zone);
    zoneId = (await liveZoneId(ctx.store.db, zoneScope(ctx), zoneName)) ?? null;
  }
  return insertEvent(ctx.store.db, {
    event_type: type,
    zone_id: zoneId,
    zone_name: zoneName,
    state: 'NEW',
    payload: o.payload === undefined ? null : JSON.stringify(o.payload),
    attempts: 0,
    last_error: null,
    created: now,
    scheduled: now + (o.delaySec ?? 0) * 1000,
    processed: null,
  });
}

export async function dueEvents(ctx: ServiceContext, limit = 100, now = nowMs(ctx)): Promise<EventInfo[]> {
  return (await dueEventRows(ctx.store.db, now, limit)).map(toInfo);
}

/**
 * Take due events for processing: each is leased (its `scheduled` moved `leaseSec` ahead) in the same transaction,
 * so several dmsd instances on one database never run the same event twice; one that dies with a lease lets the
 * event come due again when the lease ends. Finish with completeEvent / retryEvent / failEvent.
 */
export async function claimDueEvents(ctx: ServiceContext, o: { limit?: number; leaseSec?: number; now?: number } = {}): Promise<EventInfo[]> {
  const now = o.now ?? nowMs(ctx);
  const lease = (o.leaseSec ?? 300) * 1000;
  // Not waiting for the disk (store WriteTxOptions): a claim lost to an OS crash only lets the event come due again.
  return writeTx(ctx.store, async (trx) => (await leaseDueEvents(trx, ctx.store.kind, now, now + lease, o.limit ?? 100)).map(toInfo), BOOKKEEPING);
}

/**
 * An event's claim and outcome are bookkeeping safe to redo: events run at least once (a lease that ends lets one come
 * due again), so these commits need not wait for the disk — per change that is two or three fsyncs fewer, each of
 * which held up every query behind it on SQLite. They still survive a kill -9.
 */
const BOOKKEEPING = { durable: false } as const;

export async function getEvent(ctx: ServiceContext, id: number): Promise<EventInfo> {
  const r = await eventRow(ctx.store.db, id);
  if (!r) throw new EventNotFound(id);
  return toInfo(r);
}

export async function completeEvent(ctx: ServiceContext, id: number): Promise<void> {
  const done = await writeTx(ctx.store, (trx) => updateEvent(trx, id, { state: 'SUCCESS', processed: nowMs(ctx) }), BOOKKEEPING);
  if (!done) throw new EventNotFound(id);
}

export async function retryEvent(ctx: ServiceContext, id: number, error: string, o: { maxAttempts?: number; now?: number } = {}): Promise<EventInfo> {
  const ev = await getEvent(ctx, id);
  const now = o.now ?? nowMs(ctx);
  const attempts = ev.attempts + 1;
  const give = attempts >= (o.maxAttempts ?? 10);
  const set = {
    attempts,
    last_error: error,
    state: give ? 'FAILURE' : 'RETRY',
    scheduled: give ? ev.scheduled.getTime() : now + backoffMs(attempts),
    processed: give ? now : null,
  };
  await writeTx(ctx.store, (trx) => updateEvent(trx, id, set), BOOKKEEPING);
  return getEvent(ctx, id);
}

export async function failEvent(ctx: ServiceContext, id: number, error?: string): Promise<void> {
  const set = { state: 'FAILURE', processed: nowMs(ctx), ...(error !== undefined ? { last_error: error } : {}) };
  if (!(await writeTx(ctx.store, (trx) => updateEvent(trx, id, set), BOOKKEEPING))) throw new EventNotFound(id);
}

export async function listEvents(ctx: ServiceContext, o: { state?: EventState | EventState[]; limit?: number } = {}): Promise<EventInfo[]> {
  const states = o.state === undefined ? undefined : Array.isArray(o.state) ? o.state : [o.state];
  return (await eventRows(ctx.store.db, states, o.limit ?? 1000)).map(toInfo);
}
