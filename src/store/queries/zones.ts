// Zone rows: lookups by name and id, the tenancy filter, listings, state changes.

import { type Expression, type SqlBool, sql } from 'kysely';
import type { Db } from '../store.js';

/**
 * Which zones a caller sees: every zone (null: admin, helpdesk, dmsd) or only those carrying this security tag (a
 * customer). The services derive it from their context's tenant.
 */
export type ZoneScope = string | null;

/**
 * The tenancy rule, written once: a scoped caller sees only the zones that carry its security tag. A zone out of
 * sight behaves as absent (the services say ZoneNotFound, never "forbidden"). The condition on the zones row whose id
 * column is `zoneId`, or undefined when the caller sees every zone (no condition at all, so unscoped queries keep
 * their plans).
 */
export function zoneVisible(scope: ZoneScope, zoneId: 'id' | 'z.id' | 'zones.id'): Expression<SqlBool> | undefined {
  if (scope === null) return undefined;
  return sql<SqlBool>`exists (select 1 from zone_sectags vis_zs inner join sectags vis_st on vis_st.id = vis_zs.sectag_id where vis_zs.zone_id = ${sql.ref(zoneId)} and vis_st.name = ${scope})`;
}

/** `q` restricted to the zones the scope sees (zoneVisible); unchanged when it sees every zone. */
export function scopeZones<Q extends { where(e: Expression<SqlBool>): Q }>(q: Q, scope: ZoneScope, zoneId: 'id' | 'z.id' | 'zones.id'): Q {
  const visible = zoneVisible(scope, zoneId);
  return visible ? q.where(visible) : q;
}

/** The id of the live (not deleted) zone of that name the scope sees, or undefined. */
export async function liveZoneId(db: Db, scope: ZoneScope, name: string): Promise<number | undefined> {
  const q = db.selectFrom('zones').select('id').where('name', '=', name).where('state', '<>', sql.lit('DELETED'));
  const z = await scopeZones(q, scope, 'zones.id').executeTakeFirst();
  return z ? Number(z.id) : undefined;
}

/** The id and server group of the live zone of that name the scope sees, or undefined. */
export async function liveZoneGroup(db: Db, scope: ZoneScope, name: string): Promise<{ id: number; sgId: number } | undefined> {
  const q = db.selectFrom('zones').select(['id', 'sg_id']).where('name', '=', name).where('state', '<>', 'DELETED');
  const z = await scopeZones(q, scope, 'zones.id').executeTakeFirst();
  return z ? { id: Number(z.id), sgId: Number(z.sg_id) } : undefined;
}

/** Zone names by id (any state). */
export async function zoneNamesById(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length) for (const z of await db.selectFrom('zones').select(['id', 'name']).where('id', 'in', ids).execute()) out.set(Number(z.id), z.name);
  return out;
}
