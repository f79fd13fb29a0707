// Who may transfer a zone and whom dmsd NOTIFYs (issue 4). Transfer rules (TSIG key and/or client prefix) and
// also-notify addresses hang on a zone or on a server group (then they apply to every zone of the group). dmsd reads
// the rules on each transfer request and the targets on each publish, so a change applies at once.

import type { Kysely } from 'kysely';
import { Name } from '../dns/name.js';
import { ipVersion, parsePrefix } from '../dns/address.js';
import { readTx, type Store, type Tx, writeTx } from '../store/index.js';
import type { PrimaryTables } from '../store/migrations-primary.js';
import type { Database } from '../store/schema.js';
import { findLiveZone } from './core.js';
import { InvalidArgument, ServerGroupNotFound, TsigKeyNotFound } from './errors.js';
import { normalizeZoneName } from './names.js';
import { enabledGroupServers } from './servers.js';
import type { ServerTables } from '../store/migrations-servers.js';

type PDb = Kysely<Database & PrimaryTables & ServerTables>;
const pdb = (d: Store['db'] | Tx): PDb => d as unknown as PDb;

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

async function resolveTarget(trx: Tx, s: Store, t: AccessTarget): Promise<{ zoneId: number | null; sgId: number | null }> {
  if ((t.zone === undefined) === (t.sg === undefined)) throw new InvalidArgument('give either a zone or a server group');
  if (t.zone !== undefined) {
    const z = await findLiveZone(trx, s, normalizeZoneName(t.zone), false);
    return { zoneId: Number(z.id), sgId: null };
  }
  const sg = await trx.selectFrom('server_groups').select('id').where('name', '=', t.sg as string).executeTakeFirst();
  if (!sg) throw new ServerGroupNotFound(t.sg as string);
  return { zoneId: null, sgId: Number(sg.id) };
}

async function existingKey(trx: Tx, name: string): Promise<string> {
  let key: string;
  try {
    key = Name.from(name.trim()).key;
  } catch (e) {
    throw new InvalidArgument(`bad TSIG key name "${name}": ${(e as Error).message}`);
  }
  const r = await trx.selectFrom('tsig_keys').select('name').where('name', '=', key).executeTakeFirst();
  if (!r) throw new TsigKeyNotFound(key);
  return key;
}

function whereTarget<T extends { where: (...a: never[]) => unknown }>(q: T, at: { zoneId: number | null; sgId: number | null }): T {
  // biome-ignore lint/suspicious/noExplicitAny: one helper for the two tables' query builders
  const b = q as any;
  return (at.zoneId !== null ? b.where('zone_id', '=', at.zoneId) : b.where('sg_id', '=', at.sgId)) as T;
}

async function namesFor(trx: Tx, rows: { zone_id: number | null; sg_id: number | null }[]): Promise<(r: { zone_id: number | null; sg_id: number | null }) => { zone: string | null; sg: string | null }> {
  const zoneIds = [...new Set(rows.map((r) => r.zone_id).filter((x): x is number => x !== null))];
  const sgIds = [...new Set(rows.map((r) => r.sg_id).filter((x): x is number => x !== null))];
  const zones = new Map<number, string>();
  const sgs = new Map<number, string>();
  if (zoneIds.length) for (const z of await trx.selectFrom('zones').select(['id', 'name']).where('id', 'in', zoneIds).execute()) zones.set(Number(z.id), z.name);
  if (sgIds.length) for (const g of await trx.selectFrom('server_groups').select(['id', 'name']).where('id', 'in', sgIds).execute()) sgs.set(Number(g.id), g.name);
  return (r) => ({ zone: r.zone_id === null ? null : (zones.get(Number(r.zone_id)) ?? null), sg: r.sg_id === null ? null : (sgs.get(Number(r.sg_id)) ?? null) });
}

// ---- transfer rules ------------------------------------------------------------------------------------------------

/** add_transfer_rule: `key` (must exist) and/or `address` (address or CIDR prefix); both given = both must match. */
export async function addTransferRule(s: Store, target: AccessTarget, rule: { key?: string; address?: string }): Promise<TransferRuleInfo> {
  if (rule.key === undefined && rule.address === undefined) throw new InvalidArgument('a transfer rule needs key=NAME and/or address=PREFIX');
  if (rule.address !== undefined && !parsePrefix(rule.address)) throw new InvalidArgument(`bad address or prefix "${rule.address}"`);
  return writeTx(s, async (trx) => {
    const at = await resolveTarget(trx, s, target);
    const key = rule.key !== undefined ? await existingKey(trx, rule.key) : null;
    const row = await pdb(trx)
      .insertInto('transfer_rules')
      .values({ zone_id: at.zoneId, sg_id: at.sgId, key_name: key, address: rule.address ?? null, ctime: Date.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), zone: target.zone !== undefined ? normalizeZoneName(target.zone) : null, sg: target.sg ?? null, key, address: rule.address ?? null };
  });
}

/** ls_transfer_rules: the rules of a zone or SG; without a target, every rule. */
export async function listTransferRules(s: Store, target?: AccessTarget): Promise<TransferRuleInfo[]> {
  return readTx(s, async (trx) => {
    let q = pdb(trx).selectFrom('transfer_rules').selectAll().orderBy('id');
    if (target) q = whereTarget(q, await resolveTarget(trx, s, target));
    const rows = await q.execute();
    const names = await namesFor(trx, rows);
    return rows.map((r) => ({ id: Number(r.id), ...names(r), key: r.key_name, address: r.address }));
  });
}

export async function deleteTransferRule(s: Store, id: number): Promise<void> {
  const r = await pdb(s.db).deleteFrom('transfer_rules').where('id', '=', id).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new InvalidArgument(`no transfer rule ${id}`);
}

/** The rules that apply to a zone: its own, then its server group's. Empty when the zone is not live. */
export async function zoneTransferRules(s: Store, zone: string): Promise<{ key?: string; address?: string }[]> {
  const key = normalizeZoneName(zone);
  const z = await s.db.selectFrom('zones').select(['id', 'sg_id']).where('name', '=', key).where('state', '<>', 'DELETED').executeTakeFirst();
  if (!z) return [];
  const rows = await pdb(s.db)
    .selectFrom('transfer_rules')
    .selectAll()
    .where((eb) => eb.or([eb('zone_id', '=', z.id), eb('sg_id', '=', z.sg_id)]))
    .orderBy('zone_id')
    .orderBy('id')
    .execute();
  rows.sort((a, b) => Number(a.zone_id === null) - Number(b.zone_id === null) || Number(a.id) - Number(b.id));
  return rows.map((r) => ({ ...(r.key_name !== null ? { key: r.key_name } : {}), ...(r.address !== null ? { address: r.address } : {}) }));
}

// ---- also-notify ---------------------------------------------------------------------------------------------------

/** add_also_notify: an address (optionally [addr]:port / addr#port) to NOTIFY on every publish, signed with `key`. */
export async function addAlsoNotify(s: Store, target: AccessTarget, o: { address: string; port?: number; key?: string }): Promise<AlsoNotifyInfo> {
  const address = o.address.replace(/^\[|\]$/g, '');
  if (!ipVersion(address)) throw new InvalidArgument(`bad address "${o.address}"`);
  const port = o.port ?? 53;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgument(`bad port ${o.port}`);
  return writeTx(s, async (trx) => {
    const at = await resolveTarget(trx, s, target);
    const key = o.key !== undefined ? await existingKey(trx, o.key) : null;
    const row = await pdb(trx)
      .insertInto('also_notify')
      .values({ zone_id: at.zoneId, sg_id: at.sgId, address, port, key_name: key, ctime: Date.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), zone: target.zone !== undefined ? normalizeZoneName(target.zone) : null, sg: target.sg ?? null, address, port, key };
  });
}

export async function listAlsoNotify(s: Store, target?: AccessTarget): Promise<AlsoNotifyInfo[]> {
  return readTx(s, async (trx) => {
    let q = pdb(trx).selectFrom('also_notify').selectAll().orderBy('id');
    if (target) q = whereTarget(q, await resolveTarget(trx, s, target));
    const rows = await q.execute();
    const names = await namesFor(trx, rows);
    return rows.map((r) => ({ id: Number(r.id), ...names(r), address: r.address, port: r.port, key: r.key_name }));
  });
}

export async function deleteAlsoNotify(s: Store, id: number): Promise<void> {
  const r = await pdb(s.db).deleteFrom('also_notify').where('id', '=', id).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new InvalidArgument(`no also-notify entry ${id}`);
}

/**
 * Where to NOTIFY a zone on publish: its also-notify entries, its server group's, then the enabled member servers of
 * its server group (servers.ts; by name), one per address#port (the first listed wins, so an also-notify entry with
 * its own key overrides a member at the same address). An entry without a key, and every member server, is signed
 * with the first key of the zone's transfer rules (the key the secondary transfers with), if any. Only the zone's
 * primary server group counts: the alternate SG is where the zone may be moved (swap_zone_sg), and its servers are
 * NOTIFYed once the zone is there.
 */
export async function zoneNotifyTargets(s: Store, zone: string): Promise<NotifyTargetInfo[]> {
  const key = normalizeZoneName(zone);
  const z = await s.db.selectFrom('zones').select(['id', 'sg_id']).where('name', '=', key).where('state', '<>', 'DELETED').executeTakeFirst();
  if (!z) return [];
  const rows = await pdb(s.db)
    .selectFrom('also_notify')
    .selectAll()
    .where((eb) => eb.or([eb('zone_id', '=', z.id), eb('sg_id', '=', z.sg_id)]))
    .orderBy('id')
    .execute();
  rows.sort((a, b) => Number(a.zone_id === null) - Number(b.zone_id === null) || Number(a.id) - Number(b.id));
  const transferKey = (await zoneTransferRules(s, key)).find((r) => r.key !== undefined)?.key;
  const seen = new Set<string>();
  const out: NotifyTargetInfo[] = [];
  for (const r of rows) {
    const k = `${r.address}#${r.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const useKey = r.key_name ?? transferKey;
    out.push({ address: r.address, port: r.port, ...(useKey ? { key: useKey } : {}) });
  }
  for (const m of await enabledGroupServers(s.db, Number(z.sg_id))) {
    const k = `${m.address}#${m.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ address: m.address, port: m.port, ...(transferKey ? { key: transferKey } : {}) });
  }
  return out;
}

/**
 * Served zones that have NOTIFY targets (their own, their server group's, or an enabled member server of their
 * server group): dmsd NOTIFYs them when it starts.
 */
export async function zonesWithNotifyTargets(s: Store): Promise<string[]> {
  const d = pdb(s.db);
  const own = await d
    .selectFrom('zones as z')
    .innerJoin('also_notify as n', 'n.zone_id', 'z.id')
    .select('z.name')
    .where('z.state', 'in', ['PUBLISHED', 'UPDATE'])
    .where('z.published_version', 'is not', null)
    .distinct()
    .execute();
  const bySg = await d
    .selectFrom('zones as z')
    .innerJoin('also_notify as n', 'n.sg_id', 'z.sg_id')
    .select('z.name')
    .where('z.state', 'in', ['PUBLISHED', 'UPDATE'])
    .where('z.published_version', 'is not', null)
    .distinct()
    .execute();
  const byServer = await d
    .selectFrom('zones as z')
    .innerJoin('servers as v', 'v.sg_id', 'z.sg_id')
    .select('z.name')
    .where('z.state', 'in', ['PUBLISHED', 'UPDATE'])
    .where('z.published_version', 'is not', null)
    .where('v.enabled', '=', 1)
    .distinct()
    .execute();
  return [...new Set([...own, ...bySg, ...byServer].map((r) => r.name))].sort();
}
