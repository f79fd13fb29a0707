// The remaining server-group operations of the original DMS (issue 11): the alternate-SG migration
// (dupe_zone_alt_sg → swap_zone_sg → delete_zone_alt_sg; the apex NS always come from the zone's primary SG, which
// swap_zone_sg refreshes), the replica SG (set_sg_replica_sg / show_replica_sg: one group holding every zone),
// refresh_sg (NOTIFY every zone of a group to its servers again) and show_master_status (catalogs, publication and
// server states at a glance).

import { readTx, writeTx } from '../../store/index.js';
import { groupIdByName, groupNamesById, groupRowsWithZoneCount } from '../../store/queries/groups.js';
import {
  allSgConfigRows,
  catalogZoneIds,
  serverConfigRows,
  serverIdsOfGroups,
  upsertSgConfig,
  zonesOfGroup,
} from '../../store/queries/sgconfig.js';
import { zoneNamesById } from '../../store/queries/zones.js';
import { zoneNotifyTargets } from '../access.js';
import type { ServiceContext } from '../context.js';
import { InvalidArgument, ServerGroupNotFound } from '../errors.js';
import { enqueueEvent, listEvents } from '../events.js';
import { setZoneAltServerGroup } from '../groups.js';
import type { ZoneInfo } from '../types.js';
import { getZone } from '../zones.js';

/** The event type dmsd's NOTIFY handler runs (src/daemon/events/notify.ts NOTIFY_EVENT; a test keeps them equal). */
export const NOTIFY_EVENT_TYPE = 'notify';

/** dupe_zone_alt_sg: the zone is served by a second group too (the first step of moving it there). */
export async function dupeZoneAltSg(ctx: ServiceContext, zone: string, sg: string): Promise<ZoneInfo> {
  const z = await getZone(ctx, zone);
  if (z.altSg !== null && z.altSg !== sg) throw new InvalidArgument(`zone ${z.name} already has alternate server group ${z.altSg}: delete_zone_alt_sg first`);
  return setZoneAltServerGroup(ctx, z.name, sg);
}

/** delete_zone_alt_sg: the zone is served by its primary group only again (the last step of a move). */
export async function deleteZoneAltSg(ctx: ServiceContext, zone: string): Promise<ZoneInfo> {
  const z = await getZone(ctx, zone);
  if (z.altSg === null) throw new InvalidArgument(`zone ${z.name} has no alternate server group`);
  return setZoneAltServerGroup(ctx, z.name, null);
}

/** set_sg_replica_sg: this group (and no other) holds every zone; null: no replica group. */
export async function setReplicaSg(ctx: ServiceContext, sg: string | null): Promise<{ replicaSg: string | null }> {
  await writeTx(ctx.store, async (trx) => {
    const id = sg === null ? null : await groupIdByName(trx, sg);
    if (sg !== null && id === undefined) throw new ServerGroupNotFound(sg);
    for (const r of await allSgConfigRows(trx)) if (r.replica === 1 && r.sg_id !== id) await upsertSgConfig(trx, r.sg_id, { replica: 0 });
    if (id !== null && id !== undefined) await upsertSgConfig(trx, id, { replica: 1 });
  });
  return showReplicaSg(ctx);
}

export async function showReplicaSg(ctx: ServiceContext): Promise<{ replicaSg: string | null }> {
  return readTx(ctx.store, async (trx) => {
    const ids = (await allSgConfigRows(trx)).filter((r) => r.replica === 1).map((r) => r.sg_id);
    const names = await groupNamesById(trx, ids);
    return { replicaSg: ids.length ? (names.get(ids[0]) ?? null) : null };
  });
}

/** refresh_sg: NOTIFY every zone of the group (and its catalog) to the zone's NOTIFY targets again. */
export async function refreshSg(ctx: ServiceContext, sg: string): Promise<{ sg: string; zones: number; notifies: number }> {
  const zones = await readTx(ctx.store, async (trx) => {
    const id = await groupIdByName(trx, sg);
    if (id === undefined) throw new ServerGroupNotFound(sg);
    const cfg = (await allSgConfigRows(trx)).find((r) => r.sg_id === id);
    const members = await zonesOfGroup(trx, id, { replica: cfg?.replica === 1, exclude: await catalogZoneIds(trx) });
    const names = members.map((m) => m.name);
    if (cfg?.catalog_zone_id != null) {
      const cat = (await zoneNamesById(trx, [cfg.catalog_zone_id])).get(cfg.catalog_zone_id);
      if (cat) names.unshift(cat);
    }
    return names;
  });
  let notifies = 0;
  for (const zone of zones) {
    const serial = (await getZone(ctx, zone)).soaSerial;
    for (const t of await zoneNotifyTargets(ctx, zone)) {
      await enqueueEvent(ctx, NOTIFY_EVENT_TYPE, {
        zone,
        payload: { address: t.address, port: t.port, ...(t.key ? { key: t.key } : {}), ...(serial !== null ? { serial } : {}) },
      });
      notifies++;
    }
  }
  return { sg, zones: zones.length, notifies };
}

export interface MasterStatus {
  groups: {
    sg: string;
    zones: number;
    replica: boolean;
    catalog: string | null;
    catalogSerial: number | null;
    servers: { name: string; state: string; configTime: Date | null; configError: string | null }[];
  }[];
  pendingNotifies: number;
  failedEvents: number;
}

/** show_master_status: per group, its catalog and serial, and each server's publication and health state. */
export async function showMasterStatus(ctx: ServiceContext): Promise<MasterStatus> {
  const base = await readTx(ctx.store, async (trx) => {
    const cfgs = new Map((await allSgConfigRows(trx)).map((r) => [r.sg_id, r]));
    const servers = await serverIdsOfGroups(trx);
    const sc = await serverConfigRows(trx, servers.map((s) => s.id));
    const out: (MasterStatus['groups'][number] & { catalogId: number | null })[] = [];
    for (const g of await groupRowsWithZoneCount(trx)) {
      const id = Number(g.id);
      const c = cfgs.get(id);
      const catalogId = c?.catalog_zone_id ?? null;
      out.push({
        sg: g.name,
        zones: g.zone_count,
        replica: c?.replica === 1,
        catalog: catalogId === null ? null : ((await zoneNamesById(trx, [catalogId])).get(catalogId) ?? null),
        catalogSerial: null,
        catalogId,
        servers: servers
          .filter((s) => s.sg_id === id)
          .map((s) => {
            const r = sc.get(s.id);
            return {
              name: s.name,
              state: s.enabled !== 1 ? 'DISABLED' : (r?.health_state ?? 'OK'),
              configTime: r?.config_time == null ? null : new Date(Number(r.config_time)),
              configError: r?.config_error ?? null,
            };
          }),
      });
    }
    return out;
  });
  const groups: MasterStatus['groups'] = [];
  for (const { catalogId: _c, ...g } of base) groups.push({ ...g, catalogSerial: g.catalog ? (await getZone(ctx, g.catalog)).soaSerial : null });
  const [pending, failed] = await Promise.all([listEvents(ctx, { state: ['NEW', 'RETRY'] }), listEvents(ctx, { state: 'FAILURE' })]);
  return { groups, pendingNotifies: pending.filter((e) => e.type === NOTIFY_EVENT_TYPE).length, failedEvents: failed.length };
}
