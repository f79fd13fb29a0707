// Query ACLs (issue 15; BIND's allow-query): the address prefixes allowed to query a zone, on the zone or on its
// server group (the zone's own list, when it has one, replaces the group's, as a zone's allow-query replaces the
// one in BIND's options). Without any list a zone answers everyone. dmsd holds the lists in memory, reloaded when the
// change feed has an 'acl' row (every change here writes one) and, for group lists, when a zone is published or
// its settings (its group) change; queries from outside are answered REFUSED.

import { parsePrefix } from '../dns/address.js';
import { readTx, writeTx } from '../store/index.js';
import {
  deleteQueryAclRow,
  groupQueryAclEntries,
  insertQueryAcl,
  queryAclRows,
  zoneQueryAclEntries,
  zonesOfGroups,
} from '../store/queries/query-acl.js';
import { type AccessTarget, namesFor, resolveTarget } from './access.js';
import { nowMs, type ServiceContext } from './context.js';
import { recordChange, type ZoneRow } from './core.js';
import { InvalidArgument } from './errors.js';
import { normalizeZoneName } from './names.js';

export interface QueryAclInfo {
  id: number;
  zone: string | null;
  sg: string | null;
  /** Address or CIDR prefix allowed to query. */
  address: string;
}

/** The change-feed row of an ACL change: not a zone (zone ".", id 0), like the TSIG key set's. */
const ACL_ROW = { id: 0, name: '.' } as ZoneRow;

/** add_query_acl: allow queries from `address` (an address or CIDR prefix); the first entry makes the list. */
export async function addQueryAcl(ctx: ServiceContext, target: AccessTarget, address: string): Promise<QueryAclInfo> {
  const a = address.trim();
  if (!parsePrefix(a)) throw new InvalidArgument(`bad address or prefix "${address}"`);
  return writeTx(ctx.store, async (trx) => {
    const at = await resolveTarget(trx, ctx, target);
    const id = await insertQueryAcl(trx, at, { address: a, ctime: nowMs(ctx) });
    await recordChange(trx, ctx, ACL_ROW, 'acl', null);
    return { id, zone: target.zone !== undefined ? normalizeZoneName(target.zone) : null, sg: target.sg ?? null, address: a };
  });
}

/** The entries of a zone or SG; without a target, every entry. */
export async function listQueryAcl(ctx: ServiceContext, target?: AccessTarget): Promise<QueryAclInfo[]> {
  return readTx(ctx.store, async (trx) => {
    const rows = await queryAclRows(trx, target ? await resolveTarget(trx, ctx, target) : undefined);
    const names = await namesFor(trx, rows);
    return rows.map((r) => ({ id: Number(r.id), ...names(r), address: r.address }));
  });
}

/** Delete an entry; the last one of a zone or group ends its restriction. */
export async function deleteQueryAcl(ctx: ServiceContext, id: number): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    if (!(await deleteQueryAclRow(trx, id))) throw new InvalidArgument(`no query ACL entry ${id}`);
    await recordChange(trx, ctx, ACL_ROW, 'acl', null);
  });
}

export interface QueryAclMap {
  /** Zone (canonical name) → the prefixes allowed to query it; zones without a list are absent (open). */
  zones: Map<string, string[]>;
  /** Some server group has a list: a zone published or moved may gain or lose one (refreshQueryAcl). */
  groups: boolean;
}

/** Every zone's list in force: its own, else its server group's. */
export async function queryAclMap(ctx: ServiceContext): Promise<QueryAclMap> {
  return readTx(ctx.store, async (trx) => {
    const zones = new Map<string, string[]>();
    for (const e of await zoneQueryAclEntries(trx)) {
      const list = zones.get(e.name) ?? [];
      list.push(e.address);
      zones.set(e.name, list);
    }
    const byGroup = await groupQueryAclEntries(trx);
    for (const z of await zonesOfGroups(trx, [...byGroup.keys()])) if (!zones.has(z.name)) zones.set(z.name, byGroup.get(z.sgId) ?? []);
    return { zones, groups: byGroup.size > 0 };
  });
}

/**
 * The lists in force for some zones only (a publish or a group change seen in the feed): each name → its list, or
 * null when it has none. Names that are not zones give null.
 */
export async function queryAclOf(ctx: ServiceContext, names: readonly string[]): Promise<Map<string, string[] | null>> {
  const keys = names.map((n) => {
    try {
      return normalizeZoneName(n);
    } catch {
      return undefined;
    }
  });
  const wanted = [...new Set(keys.filter((k): k is string => k !== undefined))];
  return readTx(ctx.store, async (trx) => {
    const out = new Map<string, string[] | null>(wanted.map((n) => [n, null]));
    if (wanted.length === 0) return out;
    for (const e of await zoneQueryAclEntries(trx)) {
      if (!out.has(e.name)) continue;
      const list = out.get(e.name) ?? [];
      list.push(e.address);
      out.set(e.name, list);
    }
    const byGroup = await groupQueryAclEntries(trx);
    for (const z of await zonesOfGroups(trx, [...byGroup.keys()], wanted)) if (out.get(z.name) === null) out.set(z.name, byGroup.get(z.sgId) ?? []);
    return out;
  });
}
