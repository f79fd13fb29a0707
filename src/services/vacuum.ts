// Vacuum: old ZIs (zi_max_age, keeping at least zi_max_num), deleted zones (zone_del_age), paring of deleted zones'
// history (zone_del_pare_age), finished events (event_max_age) and the change feed. Ages in days; 0 turns an age off.

import { sql } from 'kysely';
import { writeTx } from '../store/index.js';
import type { ServiceContext } from './context.js';
import { loadSettings } from './config.js';
import { deleteOrphanRows, lockZoneById } from './core.js';
import type { VacuumResult } from './types.js';
import { destroyZoneIn, getZone } from './zones.js';

const DAY = 86_400_000;
/** Change-feed rows are only needed by followers that are behind; a day is plenty (the rest reload). */
const CHANGE_KEEP_MS = DAY;

export interface VacuumOptions {
  now?: Date;
  ziMaxAgeDays?: number;
  ziMaxNum?: number;
  zoneDelAgeDays?: number;
  zoneDelPareAgeDays?: number;
  eventMaxAgeDays?: number;
  /** Restrict the ZI vacuum to this zone (zone_tool `vacuum_zis <domain>`); other parts still follow their ages. */
  zone?: string;
}

export async function vacuumAll(ctx: ServiceContext, o: VacuumOptions = {}): Promise<VacuumResult> {
  const settings = await loadSettings(ctx.store.db);
  const now = (o.now ?? ctx.clock.now()).getTime();
  const ziMaxAge = o.ziMaxAgeDays ?? settings.days('zi_max_age');
  const ziMaxNum = o.ziMaxNum ?? settings.count('zi_max_num');
  const zoneDelAge = o.zoneDelAgeDays ?? settings.days('zone_del_age');
  const pareAge = o.zoneDelPareAgeDays ?? settings.days('zone_del_pare_age');
  const eventAge = o.eventMaxAgeDays ?? settings.days('event_max_age');
  const res: VacuumResult = { zisDeleted: 0, recordsDeleted: 0, zonesDestroyed: 0, zonesPared: 0, eventsDeleted: 0, changesDeleted: 0 };

  // Deleted zones past zone_del_age go for good.
  if (zoneDelAge > 0) {
    const old = await ctx.store.db
      .selectFrom('zones')
      .select('id')
      .where('state', '=', 'DELETED')
      .where('deleted_start', '<', now - zoneDelAge * DAY)
      .execute();
    for (const z of old)
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, Number(z.id));
        if (zone?.state !== 'DELETED') return;
        await destroyZoneIn(trx, ctx, zone);
        res.zonesDestroyed++;
      });
  }

  // Deleted zones past zone_del_pare_age keep only their last published ZI.
  if (pareAge > 0) {
    const old = await ctx.store.db
      .selectFrom('zones as z')
      .select('z.id')
      .where('z.state', '=', 'DELETED')
      .where('z.deleted_start', '<', now - pareAge * DAY)
      .where(({ selectFrom }) => selectFrom('zone_instances as zi').select((eb) => eb.fn.countAll().as('n')).whereRef('zi.zone_id', '=', 'z.id'), '>', 1)
      .execute();
    for (const z of old)
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, Number(z.id));
        if (zone?.state !== 'DELETED') return;
        const keep = zone.published_version ?? zone.latest_version;
        const d = await trx.deleteFrom('zone_instances').where('zone_id', '=', zone.id).where('version', '<>', keep).executeTakeFirst();
        res.zisDeleted += Number(d.numDeletedRows);
        res.recordsDeleted += await deleteOrphanRows(trx, Number(zone.id));
        // The kept ZI becomes the newest: rows that died after it are alive again (their killers are gone).
        await trx.updateTable('records').set({ to_version: null }).where('zone_id', '=', zone.id).where('to_version', '>', keep).execute();
        await trx.updateTable('zones').set({ latest_version: keep }).where('id', '=', zone.id).execute();
        res.zonesPared++;
      });
  }

  // Live zones: ZIs older than zi_max_age beyond the newest zi_max_num (never the published or newest one).
  if (ziMaxAge > 0) {
    const cutoff = now - ziMaxAge * DAY;
    const onlyZoneId = o.zone !== undefined ? (await getZone(ctx, o.zone)).id : undefined;
    const candidates = await ctx.store.db
      .selectFrom('zone_instances')
      .select('zone_id')
      .$if(onlyZoneId !== undefined, (q) => q.where('zone_id', '=', onlyZoneId!))
      .groupBy('zone_id')
      .having((eb) => eb.fn.countAll(), '>', ziMaxNum)
      .execute();
    for (const c of candidates)
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, Number(c.zone_id));
        if (!zone || zone.state === 'DELETED') return;
        const zis = await trx.selectFrom('zone_instances').select(['id', 'version', 'ctime']).where('zone_id', '=', zone.id).orderBy('version', 'desc').execute();
        const doomed = zis
          .slice(ziMaxNum)
          .filter((zi) => Number(zi.ctime) < cutoff && zi.version !== zone.published_version && zi.version !== zone.latest_version)
          .map((zi) => zi.id);
        if (doomed.length === 0) return;
        for (let i = 0; i < doomed.length; i += 500)
          await trx.deleteFrom('zone_instances').where('id', 'in', doomed.slice(i, i + 500)).execute();
        res.zisDeleted += doomed.length;
        res.recordsDeleted += await deleteOrphanRows(trx, Number(zone.id));
      });
  }

  if (eventAge > 0) {
    const d = await ctx.store.db
      .deleteFrom('events')
      .where('state', 'in', ['SUCCESS', 'FAILURE'])
      .where('processed', '<', now - eventAge * DAY)
      .executeTakeFirst();
    res.eventsDeleted = Number(d.numDeletedRows);
  }

  // The change feed: old rows, always keeping the newest (so the sequence never restarts).
  await writeTx(ctx.store, async (trx) => {
    const max = await trx.selectFrom('zone_changes').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
    const maxSeq = Number(max?.m ?? 0);
    const doomed = await trx
      .selectFrom('zone_changes')
      .select((eb) => [eb.fn.max('seq').as('m'), eb.fn.countAll().as('n')])
      .where('at', '<', now - CHANGE_KEEP_MS)
      .where('seq', '<', maxSeq)
      .executeTakeFirst();
    const upTo = Number(doomed?.m ?? 0);
    if (upTo > 0) {
      const d = await trx.deleteFrom('zone_changes').where('seq', '<=', upTo).executeTakeFirst();
      res.changesDeleted = Number(d.numDeletedRows);
      await trx
        .updateTable('store_meta')
        .set({ changes_vacuumed_to: sql<number>`case when changes_vacuumed_to > ${upTo} then changes_vacuumed_to else ${upTo} end` })
        .where('id', '=', 1)
        .execute();
    }
  });
  return res;
}

/** Run vacuumAll every `intervalMs` (default daily) — dmsd calls this at start. Returns a stop function. */
export function scheduleVacuum(
  ctx: ServiceContext,
  o: { intervalMs?: number; onResult?: (r: VacuumResult) => void; onError?: (e: unknown) => void } = {},
): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      o.onResult?.(await vacuumAll(ctx));
    } catch (e) {
      o.onError?.(e);
    } finally {
      running = false;
    }
  }, o.intervalMs ?? DAY);
  timer.unref();
  return () => clearInterval(timer);
}
