// Vacuum: old ZIs (zi_max_age, keeping at least zi_max_num), deleted zones (zone_del_age), paring of deleted zones'
// history (zone_del_pare_age), finished events (event_max_age), the audit log (audit_max_age, two years by default:
// who changed what is asked long after) and the change feed. Ages in days; 0 turns an age off.

import { writeTx } from '../store/index.js';
import type { ServiceContext } from './context.js';
import { deleteAuditBefore } from '../store/queries/audit.js';
import { deleteFinishedEvents } from '../store/queries/events.js';
import { vacuumChanges } from '../store/queries/feed.js';
import { snapshotZiId } from '../store/queries/snapshots.js';
import { deletedZonesBefore, deletedZonesWithHistory, deleteZis, pareZoneTo, ziAges, zonesWithMoreZis } from '../store/queries/vacuum.js';
import { loadSettings } from './config.js';
import { lockZoneById } from './core.js';
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
  auditMaxAgeDays?: number;
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
  const auditAge = o.auditMaxAgeDays ?? settings.days('audit_max_age');
  const res: VacuumResult = { zisDeleted: 0, recordsDeleted: 0, zonesDestroyed: 0, zonesPared: 0, eventsDeleted: 0, changesDeleted: 0, auditDeleted: 0 };

  // Deleted zones past zone_del_age go for good.
  if (zoneDelAge > 0)
    for (const id of await deletedZonesBefore(ctx.store.db, now - zoneDelAge * DAY))
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, id);
        if (zone?.state !== 'DELETED') return;
        await destroyZoneIn(trx, ctx, zone);
        res.zonesDestroyed++;
      });

  // Deleted zones past zone_del_pare_age keep only their last published ZI.
  if (pareAge > 0)
    for (const id of await deletedZonesWithHistory(ctx.store.db, now - pareAge * DAY))
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, id);
        if (zone?.state !== 'DELETED') return;
        const d = await pareZoneTo(trx, id, zone.published_version ?? zone.latest_version);
        res.zisDeleted += d.zis;
        res.recordsDeleted += d.records;
        res.zonesPared++;
      });

  // Live zones: ZIs older than zi_max_age beyond the newest zi_max_num (never the published or newest one).
  if (ziMaxAge > 0) {
    const cutoff = now - ziMaxAge * DAY;
    const onlyZoneId = o.zone !== undefined ? (await getZone(ctx, o.zone)).id : undefined;
    for (const zoneId of await zonesWithMoreZis(ctx.store.db, ziMaxNum, onlyZoneId))
      await writeTx(ctx.store, async (trx) => {
        const zone = await lockZoneById(trx, ctx, zoneId);
        if (!zone || zone.state === 'DELETED') return;
        // The ZI the zone's snapshot is of stays (with the rows alive in it), so the snapshot stays usable: dmsd
        // replaces the snapshot by a newer one as the zone changes (services/snapshots.ts), which frees that ZI.
        const pinned = await snapshotZiId(trx, zoneId);
        const doomed = (await ziAges(trx, zoneId))
          .slice(ziMaxNum)
          .filter((zi) => zi.ctime < cutoff && zi.version !== zone.published_version && zi.version !== zone.latest_version && zi.id !== pinned)
          .map((zi) => zi.id);
        if (doomed.length === 0) return;
        const d = await deleteZis(trx, zoneId, doomed);
        res.zisDeleted += d.zis;
        res.recordsDeleted += d.records;
      });
  }

  if (eventAge > 0) res.eventsDeleted = await deleteFinishedEvents(ctx.store.db, now - eventAge * DAY);
  if (auditAge > 0) res.auditDeleted = await writeTx(ctx.store, (trx) => deleteAuditBefore(trx, now - auditAge * DAY));

  // The change feed: old rows, always keeping the newest (so the sequence never restarts).
  res.changesDeleted = await writeTx(ctx.store, (trx) => vacuumChanges(trx, now - CHANGE_KEEP_MS));
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
