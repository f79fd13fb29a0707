// References, security tags and server groups, and moving zones between server groups.

import { ipVersion } from '../dns/address.js';
import { Name } from '../dns/name.js';
import { isUniqueViolation, readTx, type Tx, writeTx } from '../store/index.js';
import { nowMs, type ServiceContext } from './context.js';
import { updateStoredConfigValue } from '../store/queries/config.js';
import { apexZonesOfGroup, updateZoneRow } from '../store/queries/zones.js';
import {
  addSectagToZone,
  deleteReferenceRow,
  deleteSectagRow,
  insertReference,
  insertSectag,
  referenceId,
  referencesWithZoneCount,
  removeSectagFromZone,
  renameReferenceRow,
  sectagId as sectagIdOf,
  sectagNames,
  sectagsOfZones,
  setZoneSectags,
  zonesUsingReference,
  zonesWithSectag,
} from '../store/queries/references.js';
import {
  deleteGroupRow,
  groupIdByName,
  groupRowsWithZoneCount,
  insertGroup,
  renameGroupRow,
  updateGroupRow,
  serversInGroup,
  zonesUsingGroup,
} from '../store/queries/groups.js';
import { loadSettings } from './config.js';
import { findLiveZone, recordChange } from './core.js';
import {
  InvalidArgument,
  ReferenceExists,
  ReferenceInUse,
  ReferenceNotFound,
  SectagExists,
  SectagInUse,
  SectagNotFound,
  ServerGroupExists,
  ServerGroupHasServers,
  ServerGroupInUse,
  ServerGroupNotFound,
  DmsError,
} from './errors.js';
import { globToLike, isGlob, normalizeZoneName } from './names.js';
import type { SaveResult, ServerGroupInfo, ZoneInfo } from './types.js';
import { mutateZone, refreshApexIn } from './zones.js';

function checkLabel(kind: string, name: string): string {
  const n = name.trim();
  if (n === '' || /\s/.test(n) || n.length > 255) throw new InvalidArgument(`bad ${kind} name "${name}"`);
  return n;
}

// ---- references -------------------------------------------------------------------------------------------------

export async function createReference(ctx: ServiceContext, name: string): Promise<void> {
  const n = checkLabel('reference', name);
  try {
    await insertReference(ctx.store.db, n, nowMs(ctx));
  } catch (e) {
    if (isUniqueViolation(e)) throw new ReferenceExists(n);
    throw e;
  }
}

async function refId(trx: Tx, name: string): Promise<number> {
  const id = await referenceId(trx, name);
  if (id === undefined) throw new ReferenceNotFound(name);
  return id;
}

export async function deleteReference(ctx: ServiceContext, name: string): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const id = await refId(trx, name);
    // Deleted zones still point at their reference (undelete restores it), so they count as users too.
    const n = await zonesUsingReference(trx, id);
    if (n > 0) throw new ReferenceInUse(name, n);
    await deleteReferenceRow(trx, id);
  });
}

export async function renameReference(ctx: ServiceContext, from: string, to: string): Promise<void> {
  const n = checkLabel('reference', to);
  await writeTx(ctx.store, async (trx) => {
    const id = await refId(trx, from);
    try {
      await renameReferenceRow(trx, id, n);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ReferenceExists(n);
      throw e;
    }
  });
}

export async function listReferences(ctx: ServiceContext, pattern?: string): Promise<{ name: string; zoneCount: number }[]> {
  const match = pattern ? (isGlob(pattern) ? { like: globToLike(pattern) } : { name: pattern }) : undefined;
  return referencesWithZoneCount(ctx.store.db, match);
}

export async function setZoneReference(ctx: ServiceContext, zone: string, reference: string | null): Promise<void> {
  await mutateZone(ctx, zone, async (trx, z) => {
    const id = reference === null ? null : await refId(trx, reference);
    await updateZoneRow(trx, Number(z.id), { reference_id: id, mtime: nowMs(ctx) });
  });
}

// ---- sectags ------------------------------------------------------------------------------------------------------

/**
 * A security tag label, as the original DMS allowed them: it ends up in API account definitions, in change_by
 * ("login/sectag") and in the original's endpoint configuration, so it stays a plain token.
 */
export const SECTAG_RE = /^[0-9a-zA-Z][-_a-zA-Z0-9.]{0,59}$/;
export const SECTAG_RULE = "must start with 'a-zA-Z0-9', contain only '-_a-zA-Z0-9.' and be at most 60 long";

function checkSectag(name: string): string {
  if (!SECTAG_RE.test(name)) throw new InvalidArgument(`security tag '${name}' ${SECTAG_RULE}`);
  return name;
}

export async function createSectag(ctx: ServiceContext, name: string): Promise<void> {
  const n = checkSectag(name);
  try {
    await insertSectag(ctx.store.db, n);
  } catch (e) {
    if (isUniqueViolation(e)) throw new SectagExists(n);
    throw e;
  }
}

async function sectagId(trx: Tx, name: string): Promise<number> {
  const id = await sectagIdOf(trx, name);
  if (id === undefined) throw new SectagNotFound(name);
  return id;
}

export async function deleteSectag(ctx: ServiceContext, name: string): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const id = await sectagId(trx, name);
    const n = await zonesWithSectag(trx, id);
    if (n > 0) throw new SectagInUse(name, n);
    await deleteSectagRow(trx, id);
  });
}

export async function listSectags(ctx: ServiceContext): Promise<string[]> {
  return sectagNames(ctx.store.db);
}

export async function listZoneSectags(ctx: ServiceContext, zone: string): Promise<string[]> {
  const key = normalizeZoneName(zone);
  return readTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, false);
    return (await sectagsOfZones(trx, [Number(z.id)])).get(Number(z.id)) ?? [];
  });
}

export async function addZoneSectag(ctx: ServiceContext, zone: string, sectag: string): Promise<void> {
  await mutateZone(ctx, zone, async (trx, z) => {
    const id = await sectagId(trx, sectag);
    await addSectagToZone(trx, Number(z.id), id);
  });
}

export async function deleteZoneSectag(ctx: ServiceContext, zone: string, sectag: string): Promise<void> {
  await mutateZone(ctx, zone, async (trx, z) => {
    const id = await sectagId(trx, sectag);
    if (!(await removeSectagFromZone(trx, Number(z.id), id))) throw new InvalidArgument(`zone ${z.name} does not have security tag ${sectag}`);
  });
}

export async function replaceZoneSectags(ctx: ServiceContext, zone: string, sectags: string[]): Promise<void> {
  await mutateZone(ctx, zone, async (trx, z) => {
    const ids = [...new Set(await Promise.all(sectags.map((t) => sectagId(trx, t))))];
    await setZoneSectags(trx, Number(z.id), ids);
  });
}

// ---- server groups ------------------------------------------------------------------------------------------------

/** A master address: an IPv4 or IPv6 address, optionally with #port (dmsd on another port than 53). */
function checkMasterAddress(a: string): void {
  const m = /^\[([^\]]+)\]#(\d+)$/.exec(a) ?? /^([^#[\]]+?)(?:#(\d+))?$/.exec(a);
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!m || !ipVersion(m[1]) || port < 1 || port > 65535)
    throw new InvalidArgument(`bad master address "${a}" (an IPv4 or IPv6 address, optionally #port)`);
}

function normNames(list: string[]): string[] {
  const out: string[] = [];
  for (const n of list) {
    try {
      const s = Name.from(n.trim()).toString();
      if (!out.includes(s)) out.push(s);
    } catch (e) {
      throw new InvalidArgument(`bad name server name "${n}": ${(e as Error).message}`);
    }
  }
  return out;
}

function normMname(n: string | null | undefined): string | null {
  if (n === undefined || n === null || n.trim() === '') return null;
  return normNames([n])[0];
}

async function sgInfo(trx: Tx, where: { name?: string }): Promise<ServerGroupInfo[]> {
  return (await groupRowsWithZoneCount(trx, where.name)).map((r) => ({
    id: Number(r.id),
    name: r.name,
    apexNs: JSON.parse(r.apex_ns) as string[],
    soaMname: r.soa_mname,
    masterAddress: r.master_address,
    masterAltAddress: r.master_alt_address,
    zoneCount: r.zone_count,
  }));
}

export async function createServerGroup(
  ctx: ServiceContext,
  name: string,
  o: { apexNs?: string[]; soaMname?: string; masterAddress?: string; masterAltAddress?: string } = {},
): Promise<ServerGroupInfo> {
  const n = checkLabel('server group', name);
  for (const a of [o.masterAddress, o.masterAltAddress]) if (a !== undefined) checkMasterAddress(a);
  return writeTx(ctx.store, async (trx) => {
    try {
      await insertGroup(trx, {
        name: n,
        apex_ns: JSON.stringify(normNames(o.apexNs ?? [])),
        soa_mname: normMname(o.soaMname),
        master_address: o.masterAddress ?? null,
        master_alt_address: o.masterAltAddress ?? null,
        ctime: nowMs(ctx),
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ServerGroupExists(n);
      throw e;
    }
    return (await sgInfo(trx, { name: n }))[0];
  });
}

export async function getServerGroup(ctx: ServiceContext, name: string): Promise<ServerGroupInfo> {
  return readTx(ctx.store, async (trx) => {
    const r = await sgInfo(trx, { name });
    if (!r[0]) throw new ServerGroupNotFound(name);
    return r[0];
  });
}

export async function listServerGroups(ctx: ServiceContext): Promise<ServerGroupInfo[]> {
  return readTx(ctx.store, (trx) => sgInfo(trx, {}));
}

export async function deleteServerGroup(ctx: ServiceContext, name: string): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const sgId = await groupIdByName(trx, name);
    if (sgId === undefined) throw new ServerGroupNotFound(name);
    const n = await zonesUsingGroup(trx, sgId);
    const settings = await loadSettings(trx);
    if (n > 0 || settings.raw('default_sg') === name) throw new ServerGroupInUse(name, n);
    const servers = await serversInGroup(trx, sgId);
    if (servers > 0) throw new ServerGroupHasServers(name, servers);
    await deleteGroupRow(trx, sgId);
  });
}

export async function renameServerGroup(ctx: ServiceContext, from: string, to: string): Promise<void> {
  const n = checkLabel('server group', to);
  await writeTx(ctx.store, async (trx) => {
    const renamed = await renameGroupRow(trx, from, n).catch((e) => {
      if (isUniqueViolation(e)) throw new ServerGroupExists(n);
      throw e;
    });
    if (!renamed) throw new ServerGroupNotFound(from);
    const settings = await loadSettings(trx);
    if (settings.raw('default_sg') === from)
      await updateStoredConfigValue(trx, 'default_sg', n);
  });
}

export async function updateServerGroup(
  ctx: ServiceContext,
  name: string,
  o: { apexNs?: string[]; soaMname?: string | null; masterAddress?: string | null; masterAltAddress?: string | null },
): Promise<ServerGroupInfo> {
  return (await changeServerGroup(ctx, name, o)).sg;
}

/**
 * Change a server group; when its apex NS set or SOA mname changes, every use_apex_ns zone of the group gets a new
 * ZI with them (one transaction per zone, like any other change). Returns the group and the zones that changed.
 */
export async function changeServerGroup(
  ctx: ServiceContext,
  name: string,
  o: { apexNs?: string[]; soaMname?: string | null; masterAddress?: string | null; masterAltAddress?: string | null },
): Promise<{ sg: ServerGroupInfo; refreshed: string[] }> {
  const apexChanges = o.apexNs !== undefined || o.soaMname !== undefined;
  for (const a of [o.masterAddress, o.masterAltAddress]) if (typeof a === 'string') checkMasterAddress(a);
  const sgIdValue = await writeTx(ctx.store, async (trx) => {
    const sgId = await groupIdByName(trx, name);
    if (sgId === undefined) throw new ServerGroupNotFound(name);
    const set: Parameters<typeof updateGroupRow>[2] = {};
    if (o.apexNs !== undefined) {
      const list = normNames(o.apexNs);
      if (list.length === 0) throw new InvalidArgument('a server group needs at least one apex name server');
      set.apex_ns = JSON.stringify(list);
    }
    if (o.soaMname !== undefined) set.soa_mname = normMname(o.soaMname);
    if (o.masterAddress !== undefined) set.master_address = o.masterAddress;
    if (o.masterAltAddress !== undefined) set.master_alt_address = o.masterAltAddress;
    if (Object.keys(set).length) await updateGroupRow(trx, sgId, set);
    return sgId;
  });
  const refreshed = apexChanges ? await refreshSgZones(ctx, sgIdValue) : [];
  return { sg: await getServerGroup(ctx, name), refreshed };
}

/** Refresh the apex of every use_apex_ns zone in a server group; returns the zones that got a new ZI. */
export async function refreshSgZones(ctx: ServiceContext, sgId: number): Promise<string[]> {
  let after = '';
  const changed: string[] = [];
  for (;;) {
    const zones = await apexZonesOfGroup(ctx.store.db, sgId, after, 500);
    if (zones.length === 0) return changed;
    for (const z of zones) {
      try {
        if ((await refreshZoneApex(ctx, z)).changed) changed.push(z);
      } catch (e) {
        // A zone that no longer validates with the new apex keeps its old version; the others go on.
        if (!(e instanceof DmsError)) throw e;
      }
    }
    after = zones[zones.length - 1];
  }
}

export async function refreshZoneApex(ctx: ServiceContext, zone: string): Promise<SaveResult> {
  const key = normalizeZoneName(zone);
  return writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, true);
    if (!z.use_apex_ns) {
      await recordChange(trx, ctx, z, 'update', z.published_version);
      return { zone: key, changed: false, version: z.latest_version, serial: 0, published: z.published_version === z.latest_version, warnings: [] };
    }
    return refreshApexIn(trx, ctx, z, await loadSettings(trx));
  });
}

async function sgByName(trx: Tx, name: string): Promise<number> {
  const sgId = await groupIdByName(trx, name);
  if (sgId === undefined) throw new ServerGroupNotFound(name);
  return sgId;
}

export async function setZoneServerGroup(ctx: ServiceContext, zone: string, sg: string): Promise<ZoneInfo> {
  return mutateZone(ctx, zone, async (trx, z, settings) => {
    const id = await sgByName(trx, sg);
    if (id === Number(z.sg_id)) return;
    const altId = z.alt_sg_id !== null && Number(z.alt_sg_id) === id ? null : z.alt_sg_id;
    await updateZoneRow(trx, Number(z.id), { sg_id: id, alt_sg_id: altId, mtime: nowMs(ctx) });
    await refreshApexIn(trx, ctx, { ...z, sg_id: id, alt_sg_id: altId }, settings);
  });
}

export async function setZoneAltServerGroup(ctx: ServiceContext, zone: string, sg: string | null): Promise<ZoneInfo> {
  return mutateZone(ctx, zone, async (trx, z) => {
    const id = sg === null ? null : await sgByName(trx, sg);
    if (id !== null && id === Number(z.sg_id)) throw new InvalidArgument(`server group ${sg} is already the primary server group of ${z.name}`);
    await updateZoneRow(trx, Number(z.id), { alt_sg_id: id, mtime: nowMs(ctx) });
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
}

export async function swapZoneServerGroup(ctx: ServiceContext, zone: string): Promise<ZoneInfo> {
  return mutateZone(ctx, zone, async (trx, z, settings) => {
    if (z.alt_sg_id === null) throw new InvalidArgument(`zone ${z.name} has no alternate server group to swap with`);
    const next = { ...z, sg_id: z.alt_sg_id, alt_sg_id: z.sg_id };
    await updateZoneRow(trx, Number(z.id), { sg_id: next.sg_id, alt_sg_id: next.alt_sg_id, mtime: nowMs(ctx) });
    await refreshApexIn(trx, ctx, next, settings);
  });
}
