// Counts for /metrics and /health (issue 16): zones by state, events waiting in the queue, a database round trip.

import { sql } from 'kysely';
import type { Db } from '../store.js';

export async function zoneCountsByState(db: Db): Promise<{ state: string; n: number }[]> {
  const rows = await db.selectFrom('zones').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
}

export async function pendingEventCount(db: Db): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', 'in', ['NEW', 'RETRY'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
