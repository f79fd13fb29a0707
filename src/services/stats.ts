// What dmsd's /metrics and /health report about the database (issue 16).

import { pendingEventCount, ping, zoneCountsByState } from '../store/queries/stats.js';
import type { ServiceContext } from './context.js';

/** Zones per state (PUBLISHED, UPDATE, DISABLED, DELETED). */
export async function zoneStateCounts(ctx: ServiceContext): Promise<Record<string, number>> {
  const out: Record<string, number> = { PUBLISHED: 0, UPDATE: 0, DISABLED: 0, DELETED: 0 };
  for (const r of await zoneCountsByState(ctx.store.db)) out[r.state] = r.n;
  return out;
}

/** Events (NOTIFYs…) waiting to be processed or retried. */
export function eventQueueDepth(ctx: ServiceContext): Promise<number> {
  return pendingEventCount(ctx.store.db);
}

/** One round trip to the database: throws when it cannot be reached. */
export function pingStore(ctx: ServiceContext): Promise<void> {
  return ping(ctx.store.db);
}
