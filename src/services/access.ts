// Who may transfer a zone and whom dmsd NOTIFYs (issue 4). Transfer rules (TSIG key and/or client prefix) and
// also-notify addresses hang on a zone or on a server group (then they apply to every zone of the group). dmsd reads
// the rules on each transfer request and the targets on each publish, so a change applies at once.

import { Name } from '../dns/name.js';
import { ipVersion, parsePrefix } from '../dns/address.js';
import { readTx, type Tx, writeTx } from '../store/index.js';
import { groupIdByName, groupNamesById } from '../store/queries/groups.js';
import {
  type AccessOwner,
  alsoNotifyRows,
  deleteAlsoNotifyRow,
  deleteTransferRuleRow,
  insertAlsoNotify,
  insertTransferRule,
  servedZonesWithNotifyTargets,
  transferRuleRows,
  tsigKeyRow,
  zoneAndGroupAlsoNotify,
  zoneAndGroupTransferRules,
  liveZoneNotifyProbe,
  zonesWithNotifyTargetsAmong,
} from '../store/queries/keys.js';
import { liveZoneGroup, zoneNamesById } from '../store/queries/zones.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { findLiveZone } from './core.js';
import { InvalidArgument, ServerGroupNotFound, TsigKeyNotFound } from './errors.js';
import { normalizeZoneName } from './names.js';
import { enabledGroupServers } from './servers.js';

/** A zone (by name) or a server group (by name): exactly one. */
export interface AccessTarget {
  zone?: string;
  sg?: string;
}

export interface TransferRuleInfo {
  id: number;
  zone: string | null;
  sg: string | null;
  /** TSIG key name (absolute, lower case) or null. */
  key: string | null;
  /** Address or CIDR prefix, or null. */
  address: string | null;
}

export interface AlsoNotifyInfo {
  id: number;
  zone: string | null;
  sg: string | null;
  address: string;
  port: number;
  key: string | null;
}

/** Where a NOTIFY goes: address, port and the key to sign it with (by name). */
export interface NotifyTargetInfo {
  address: string;
  port: number;
  key?: string;
}

export async function resolveTarget(trx: Tx, ctx: ServiceContext, t: AccessTarget): Promise<AccessOwner> {
  if ((t.zone === undefined) === (t.sg === undefined)) throw new InvalidArgument('give either a zone or a server group');
  if (t.zone !== undefined) {
    const z = await findLiveZone(trx, ctx, normalizeZoneName(t.zone), false);
    return { zoneId: Number(z.id), sgId: null };
  }
  const sgId = await groupIdByName(trx, t.sg as string);
  if (sgId === undefined) throw new ServerGroupNotFound(t.sg as string);
  return { zoneId: null, sgId };
}

async function existingKey(trx: Tx, name: string): Promise<string> {
  let key: string;
  try {
    key = Name.from(name.trim()).key;
  } catch (e) {
    throw new InvalidArgument(`bad TSIG key name "${name}": ${(e as Error).message}`);
  }
  if (!(await tsigKeyRow(trx, key))) throw new TsigKeyNotFound(key);
  return key;
}

export async function namesFor(trx: Tx, rows: { zone_id: number | null; sg_id: number | null }[]): Promise<(r: { zone_id: number | null; sg_id: number | null }) => { zone: string | null; sg: string | null }> {
  const zoneIds = [...new Set(rows.map((r) => r.zone_id).filter((x): x is number => x !== null))];
  const sgIds = [...new Set(rows.map((r) => r.sg_id).filter((x): x is number => x !== null))];
  const zones = await zoneNamesById(trx, zoneIds);
  const sgs = await groupNamesById(trx, sgIds);
  return (r) => ({ zone: r.zone_id === null ? null : (zones.get(Number(r.zone_id)) ?? null), sg: r.sg_id === null ? null : (sgs.get(Number(r.sg_id)) ?? null) });
}

// ---- transfer rules ------------------------------------------------------------------------------------------------

/** add_transfer_rule: `key` (must exist) and/or `address` (address or CIDR prefix); both given = both must match. */
export async function addTransferRule(ctx: ServiceContext, target: AccessTarget, rule: { key?: string; address?: string }): Promise<TransferRuleInfo> {
  if (rule.key === undefined && rule.address === undefined) throw new InvalidArgument('a transfer rule needs key=NAME and/or address=PREFIX');
  if (rule.address !== undefined && !parsePrefix(rule.address)) throw new InvalidArgument(`bad address or prefix "${rule.address}"`);
  return writeTx(ctx.store, async (trx) => {
    const at = await resolveTarget(trx, ctx, target);
    const key = rule.key !== undefined ? await existingKey(trx, rule.key) : null;
    const id = await insertTransferRule(trx, at, { key_name: key, address: rule.address ?? null, ctime: nowMs(ctx) });
    return { id, zone: target.zone !== undefined ? normalizeZoneName(target.zone) : null, sg: target.sg ?? null, key, address: rule.address ?? null };
  });
}

/** ls_transfer_rules: the rules of a zone or SG; without a target, every rule. */
export async function listTransferRules(ctx: ServiceContext, target?: AccessTarget): Promise<TransferRuleInfo[]> {
  return readTx(ctx.store, async (trx) => {
    const rows = await transferRuleRows(trx, target ? await resolveTarget(trx, ctx, target) : undefined);
    const names = await namesFor(trx, rows);
    return rows.map((r) => ({ id: Number(r.id), ...names(r), key: r.key_name, address: r.address }));
  });
}

export async function deleteTransferRule(ctx: ServiceContext, id: number): Promise<void> {
  if (!(await deleteTransferRuleRow(ctx.store.db, id))) throw new InvalidArgument(`no transfer rule ${id}`);
}

/** The rules that apply to a zone: its own, then its server group's. Empty when the zone is not live. */
export async function zoneTransferRules(ctx: ServiceContext, zone: string): Promise<{ key?: string; address?: string }[]> {
  const key = normalizeZoneName(zone);
  const z = await liveZoneGroup(ctx.store.db, zoneScope(ctx), key);
  if (!z) return [];
  const rows = await zoneAndGroupTransferRules(ctx.store.db, z.id, z.sgId);
  return rows.map((r) => ({ ...(r.key_name !== null ? { key: r.key_name } : {}), ...(r.address !== null ? { address: r.address } : {}) }));
}

// ---- also-notify ---------------------------------------------------------------------------------------------------

/** add_also_notify: an address (optionally [addr]:port / addr#port) to NOTIFY on every publish, signed with `key`. */
export async function addAlsoNotify(ctx: ServiceContext, target: AccessTarget, o: { address: string; port?: number; key?: string }): Promise<AlsoNotifyInfo> {
  const address = o.address.replace(/^\[|\]$/g, '');
  if (!ipVersion(address)) throw new InvalidArgument(`bad address "${o.address}"`);
  const port = o.port ?? 53;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgument(`bad port ${o.port}`);
  return writeTx(ctx.store, async (trx) => {
    const at = await resolveTarget(trx, ctx, target);
    const key = o.key !== undefined ? await existingKey(trx, o.key) : null;
    const id = await insertAlsoNotify(trx, at, { address, port, key_name: key, ctime: nowMs(ctx) });
    return { id, zone: target.zone !== undefined ? normalizeZoneName(target.zone) : null, sg: target.sg ?? null, address, port, key };
  });
}

export async function listAlsoNotify(ctx: ServiceContext, target?: AccessTarget): Promise<AlsoNotifyInfo[]> {
  return readTx(ctx.store, async (trx) => {
    const rows = await alsoNotifyRows(trx, target ? await resolveTarget(trx, ctx, target) : undefined);
    const names = await namesFor(trx, rows);
    return rows.map((r) => ({ id: Number(r.id), ...names(r), address: r.address, port: r.port, key: r.key_name }));
  });
}

export async function deleteAlsoNotify(ctx: ServiceContext, id: number): Promise<void> {
  if (!(await deleteAlsoNotifyRow(ctx.store.db, id))) throw new InvalidArgument(`no also-notify entry ${id}`);
}

/**
 * Where to NOTIFY a zone on publish: its also-notify entries, its server group's, then the enabled member servers of
 * its server group (servers.ts; by name), one per address#port (the first listed wins, so an also-notify entry with
 * its own key overrides a member at the same address). An entry without a key, and every member server, is signed
 * with the first key of the zone's transfer rules (the key the secondary transfers with), if any. Only the zone's
 * primary server group counts: the alternate SG is where the zone may be moved (swap_zone_sg), and its servers are
 * NOTIFYed once the zone is there.
 */
export async function zoneNotifyTargets(ctx: ServiceContext, zone: string): Promise<NotifyTargetInfo[]> {
  const key = normalizeZoneName(zone);
  // Most zones have none: one look-up finds the zone and says so (this runs after every change of the zone).
  const z = await liveZoneNotifyProbe(ctx.store.db, zoneScope(ctx), key);
  if (!z?.mayHaveTargets) return [];
  const rows = await zoneAndGroupAlsoNotify(ctx.store.db, z.id, z.sgId);
  // The key of the transfer rules (zoneTransferRules without reading the zone again).
  const transferKey = (await zoneAndGroupTransferRules(ctx.store.db, z.id, z.sgId)).find((r) => r.key_name !== null)?.key_name ?? undefined;
  const seen = new Set<string>();
  const out: NotifyTargetInfo[] = [];
  for (const r of rows) {
    const k = `${r.address}#${r.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const useKey = r.key_name ?? transferKey;
    out.push({ address: r.address, port: r.port, ...(useKey ? { key: useKey } : {}) });
  }
  for (const m of await enabledGroupServers(ctx.store.db, z.sgId)) {
    const k = `${m.address}#${m.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ address: m.address, port: m.port, ...(transferKey ? { key: transferKey } : {}) });
  }
  return out;
}

/**
 * Which of these zones may have NOTIFY targets (zoneNotifyTargets can only find some for these): lets a caller with
 * many zones at once (a push changing 1,000 zones) skip the per-zone look-up for the zones without any. Admin scope.
 */
export async function zonesMaybeWithNotifyTargets(ctx: ServiceContext, zones: readonly string[]): Promise<Set<string>> {
  return zonesWithNotifyTargetsAmong(ctx.store.db, zones.map(normalizeZoneName));
}

/**
 * Served zones that have NOTIFY targets (their own, their server group's, or an enabled member server of their
 * server group): dmsd NOTIFYs them when it starts.
 */
export async function zonesWithNotifyTargets(ctx: ServiceContext): Promise<string[]> {
  return servedZonesWithNotifyTargets(ctx.store.db);
}
