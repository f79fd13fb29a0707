// Zone rows: lookups by name and id, the tenancy filter, listings, state changes.

import { type Expression, expressionBuilder, type Insertable, type Selectable, type SqlBool, sql, type Updateable } from 'kysely';
import { networkKey, reverseZoneNetwork } from '../../dns/address.js';
import type { Dialect } from '../migrations.js';
import type { Database, ZoneTable } from '../schema.js';
import { preparedRowWrite, preparedStatement } from '../prepared.js';
import type { Db, Tx } from '../store.js';
import { deleteSnapshots } from './snapshots.js';

export type ZoneRow = Selectable<ZoneTable>;
/** A zone row with the names it points at and the serial of its published version (what zone info shows). */
export type ZoneInfoRow = ZoneRow & { sg_name: string; alt_sg_name: string | null; ref_name: string | null; pub_serial: number | null };

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

/**
 * A prepared statement's variant suffix and trailing arguments for a scope (prepared.ts): the tenancy condition takes
 * the tag as a parameter, so a scoped statement is a variant of its own with the tag as its last argument.
 */
export function scopeVariant(scope: ZoneScope): { variant: string; args: string[] } {
  return scope === null ? { variant: '', args: [] } : { variant: ' scoped', args: [scope] };
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

/**
 * Live reverse zones found by network key (zones.rev_net, src/dns/address.ts networkKey) through its index: those whose
 * key is one of `keys` (the prefixes of an address or block: the zones containing it) and, with `within`, every zone
 * whose key starts with it (the zones inside a block: one key range, '0'/'1' keys sort below '2'). Unscoped: the
 * auto-PTR rules decide by reference who may write where. With the zone's reference name.
 */
export async function reverseZonesByKey(
  db: Db,
  scope: ZoneScope,
  keys: readonly string[],
  within?: string,
): Promise<(ZoneRow & { ref_name: string | null })[]> {
  if (keys.length === 0 && within === undefined) return [];
  const q = db
    .selectFrom('zones')
    .leftJoin('zone_references as ref', 'ref.id', 'zones.reference_id')
    .selectAll('zones')
    .select('ref.name as ref_name')
    .where('zones.state', '<>', sql.lit('DELETED'))
    .where((eb) => {
      const ors = [];
      if (keys.length > 0) ors.push(eb('zones.rev_net', 'in', [...keys]));
      if (within !== undefined) ors.push(eb.and([eb('zones.rev_net', '>=', within), eb('zones.rev_net', '<', `${within}2`)]));
      return eb.or(ors);
    });
  return (await scopeZones(q, scope, 'zones.id').execute()) as (ZoneRow & { ref_name: string | null })[];
}

/** The id and server group of the live zone of that name the scope sees, or undefined. */
export async function liveZoneGroup(db: Db, scope: ZoneScope, name: string): Promise<{ id: number; sgId: number } | undefined> {
  const s = scopeVariant(scope);
  const z = await liveZoneGroupByName.first(db, s.variant, name, ...s.args);
  return z ? { id: Number(z.id), sgId: Number(z.sg_id) } : undefined;
}

/** Zone names by id (any state). */
export async function zoneNamesById(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length) for (const z of await db.selectFrom('zones').select(['id', 'name']).where('id', 'in', ids).execute()) out.set(Number(z.id), z.name);
  return out;
}

// ---- one zone ---------------------------------------------------------------------------------------------------------

/** The live zone of that name the scope sees; locked until commit on PostgreSQL when `forUpdate`. */
// The statements of the change path, prepared (scopeVariant; 'lock': FOR UPDATE on PostgreSQL).
const liveZoneByName = preparedStatement((db: Db, variant, name: string, ...scope: string[]) => {
  const q = scopeZones(db.selectFrom('zones').selectAll().where('name', '=', name).where('state', '<>', sql.lit('DELETED')), scope[0] ?? null, 'zones.id');
  return variant.startsWith('lock') ? q.forUpdate() : q;
});
const liveZoneGroupByName = preparedStatement((db: Db, _v, name: string, ...scope: string[]) =>
  scopeZones(db.selectFrom('zones').select(['id', 'sg_id']).where('name', '=', name).where('state', '<>', sql.lit('DELETED')), scope[0] ?? null, 'zones.id'),
);
const updateZoneById = preparedRowWrite('zones', 'id');

export async function liveZoneRow(trx: Tx, dialect: Dialect, scope: ZoneScope, name: string, forUpdate: boolean): Promise<ZoneRow | undefined> {
  const s = scopeVariant(scope);
  return liveZoneByName.first(trx, `${forUpdate && dialect === 'postgres' ? 'lock' : ''}${s.variant}`, name, ...s.args);
}

/** The zone (any state) of that id the scope sees, for reading. */
export async function zoneRowById(db: Db, scope: ZoneScope, id: number): Promise<ZoneRow | undefined> {
  return scopeZones(db.selectFrom('zones').selectAll().where('id', '=', id), scope, 'zones.id').executeTakeFirst();
}

/** The zone (any state) of that id the scope sees, locked until commit on PostgreSQL. */
export async function lockedZoneRowById(trx: Tx, dialect: Dialect, scope: ZoneScope, id: number): Promise<ZoneRow | undefined> {
  let q = scopeZones(trx.selectFrom('zones').selectAll().where('id', '=', id), scope, 'zones.id');
  if (dialect === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

function zoneInfoQuery(db: Db) {
  return (
    db
      .selectFrom('zones as z')
      // LEFT (sg_id is NOT NULL anyway): keeps zones the outer loop so a page walks the name index, no sort.
      .leftJoin('server_groups as sg', 'sg.id', 'z.sg_id')
      .leftJoin('server_groups as alt', 'alt.id', 'z.alt_sg_id')
      .leftJoin('zone_references as ref', 'ref.id', 'z.reference_id')
      .leftJoin('zone_instances as zi', (j) => j.onRef('zi.zone_id', '=', 'z.id').onRef('zi.version', '=', 'z.published_version'))
      .selectAll('z')
      .select(['sg.name as sg_name', 'alt.name as alt_sg_name', 'ref.name as ref_name', 'zi.soa_serial as pub_serial'])
  );
}

/** Zone info of the zone with that id (any state), or of the live zone of that name; undefined when out of sight. */
export async function zoneInfoRow(db: Db, scope: ZoneScope, which: { id: number } | { liveName: string }): Promise<ZoneInfoRow | undefined> {
  const q = 'id' in which ? zoneInfoQuery(db).where('z.id', '=', which.id) : zoneInfoQuery(db).where('z.name', '=', which.liveName).where('z.state', '<>', sql.lit('DELETED'));
  return (await scopeZones(q, scope, 'z.id').executeTakeFirst()) as ZoneInfoRow | undefined;
}

/** Deleted zones of that name the scope sees, oldest first. */
export async function deletedZoneIds(db: Db, scope: ZoneScope, name: string): Promise<number[]> {
  const q = scopeZones(db.selectFrom('zones').select('id').where('name', '=', name).where('state', '=', 'DELETED'), scope, 'zones.id');
  return (await q.orderBy('id').execute()).map((r) => Number(r.id));
}

/** Insert a zone row (a live zone of the same name fails with the store's unique violation). */
export async function insertZone(trx: Tx, row: Insertable<ZoneTable>): Promise<ZoneRow> {
  // A reverse zone is found by its network (reverseZonesByKey): the key follows from the name, so it is set here.
  const net = reverseZoneNetwork(row.name);
  const rev_net = net ? networkKey(net.bytes, net.bits) : null;
  return trx.insertInto('zones').values({ ...row, rev_net }).returningAll().executeTakeFirstOrThrow();
}

export async function updateZoneRow(db: Db, id: number, set: Updateable<ZoneTable>): Promise<void> {
  await updateZoneById(db, set, id);
}

/** Remove a zone and everything that is only its own (records, ZIs, tags, grants). */
export async function deleteZoneRows(trx: Tx, id: number): Promise<void> {
  await trx.deleteFrom('records').where('zone_id', '=', id).execute();
  await trx.deleteFrom('zone_instances').where('zone_id', '=', id).execute();
  await deleteSnapshots(trx, id);
  await trx.deleteFrom('zone_sectags').where('zone_id', '=', id).execute();
  await trx.deleteFrom('zone_update_grants').where('zone_id', '=', id).execute();
  await trx.deleteFrom('zones').where('id', '=', id).execute();
}

/** A page (by name, after `after`) of the live use_apex_ns zones of a server group (primary). */
export async function apexZonesOfGroup(db: Db, sgId: number, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('zones')
    .select('name')
    .where('sg_id', '=', sgId)
    .where('state', '<>', sql.lit('DELETED'))
    .where('use_apex_ns', '=', 1)
    .where('name', '>', after)
    .orderBy('name')
    .limit(limit)
    .execute();
  return rows.map((r) => r.name);
}

// ---- listings ----------------------------------------------------------------------------------------------------------

/** One page of a zone listing, resolved by the services (names to ids, glob to LIKE). */
export interface ZonePageSpec {
  which: 'active' | 'deleted' | 'all';
  /** Only zones in these states (within `which`). */
  states?: readonly string[];
  /** A LIKE pattern (backslash escapes) with its literal prefix ('z099' of 'z099%'), or one exact name. */
  match?: { like: string; prefix: string } | { name: string };
  referenceId?: number;
  /** Zones whose primary or alternate server group this is. */
  sgId?: number;
  sectag?: string;
  /** Only the server groups' catalog zones, or none of them. */
  catalogs?: 'exclude' | 'only';
  /** Names after this one (exclusive). */
  after: string;
  limit: number;
}

/** The least string greater than every string that starts with `prefix` (byte order). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * A page limited to one security tag's zones (the sectag filter, or a customer's own zones) walks the name index and
 * checks each zone's tags until it has a page: a tag holding few of a million zones costs a walk of them all
 * (~0.3 s). When the tag holds at most DRIVE_BY_TAG pages' worth of zones, the page is driven from the tag's zones
 * instead (their ids through the zone_sectags index, then sorted): cost grows with the tag, not the table.
 */
const DRIVE_BY_TAG = 20;

async function drivingTag(db: Db, scope: ZoneScope, spec: ZonePageSpec): Promise<string | undefined> {
  let best: { tag: string; n: number } | undefined;
  for (const tag of [spec.sectag, scope ?? undefined]) {
    if (tag === undefined) continue;
    const r = await db
      .selectFrom('zone_sectags as zs')
      .innerJoin('sectags as st', 'st.id', 'zs.sectag_id')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('st.name', '=', tag)
      .executeTakeFirst();
    const n = Number(r?.n ?? 0);
    if (n <= spec.limit * DRIVE_BY_TAG && (!best || n < best.n)) best = { tag, n };
  }
  return best?.tag;
}

function pageWhere(dialect: Dialect, scope: ZoneScope, spec: ZonePageSpec, drive?: string): Expression<SqlBool> {
  const eb = expressionBuilder<Database & { z: Database['zones'] }, 'z'>();
  const conds: Expression<SqlBool>[] = [];
  if (drive !== undefined)
    conds.push(sql<SqlBool>`z.id in (select drv.zone_id from zone_sectags drv where drv.sectag_id = (select drv_st.id from sectags drv_st where drv_st.name = ${drive}))`);
  const visible = zoneVisible(scope, 'z.id');
  if (visible) conds.push(visible);
  if (spec.which === 'active') conds.push(eb('z.state', '<>', sql.lit('DELETED')));
  else if (spec.which === 'deleted') conds.push(eb('z.state', '=', 'DELETED'));
  // The pattern's literal prefix as a range on the name index, so a page of a pattern near the end of 100k names
  // does not walk the index from the start. SQLite only: its BINARY order is byte order, where [prefix,
  // next(prefix)) holds exactly the names with that prefix; PostgreSQL's LIKE 'prefix%' already uses the pattern
  // index, and a linguistic collation would not keep the range exact.
  let prefix = '';
  if (spec.match && 'like' in spec.match) {
    conds.push(sql<SqlBool>`z.name like ${spec.match.like} escape '\\'`);
    if (dialect === 'sqlite') prefix = spec.match.prefix;
  } else if (spec.match) conds.push(eb('z.name', '=', spec.match.name));
  if (spec.referenceId !== undefined) conds.push(eb('z.reference_id', '=', spec.referenceId));
  if (spec.catalogs !== undefined) {
    const catalogs = sql`(select c.catalog_zone_id from sg_config c where c.catalog_zone_id is not null)`;
    conds.push(spec.catalogs === 'only' ? sql<SqlBool>`z.id in ${catalogs}` : sql<SqlBool>`z.id not in ${catalogs}`);
  }
  if (spec.states?.length === 1) conds.push(eb('z.state', '=', spec.states[0]));
  else if (spec.states !== undefined) {
    // Several states: `state IN (…)` makes the planner collect every zone of those states and sort them (a million
    // PUBLISHED zones: a walk of them all). As for the server groups below: one page per state from the (state,
    // name) index, every other condition inside, and the page is the first `limit` of those.
    const rest = pageWhere(dialect, scope, { ...spec, states: undefined }, drive);
    const side = (state: string) => {
      let q = eb.selectFrom('zones as z').select('z.id').where(rest).where('z.state', '=', state).orderBy('z.name');
      if (spec.which !== 'active') q = q.orderBy('z.id');
      return q.limit(sql.lit(spec.limit));
    };
    const [first, ...others] = spec.states.map((st, i) => eb.selectFrom(side(st).as(`s${i}`)).select(`s${i}.id` as 's0.id'));
    conds.push(first === undefined ? sql<SqlBool>`1 = 0` : eb('z.id', 'in', others.reduce((u, q) => u.unionAll(q), first)));
    return eb.and(conds);
  }
  if (spec.sgId !== undefined) {
    // Primary or alternate group: an OR of two columns makes the planner collect and sort every zone of the group
    // (a million-zone default group: ~0.5 s a page). Instead, one page from each (column, name) index — every other
    // condition applied inside, so neither side is cut short by a later filter — and the page is the first `limit`
    // of at most twice that many ids.
    const rest = pageWhere(dialect, scope, { ...spec, sgId: undefined }, drive);
    const side = (col: 'z.sg_id' | 'z.alt_sg_id') => {
      let q = eb.selectFrom('zones as z').select('z.id').where(rest).where(col, '=', spec.sgId!).orderBy('z.name');
      if (spec.which !== 'active') q = q.orderBy('z.id');
      return q.limit(sql.lit(spec.limit));
    };
    conds.push(
      eb('z.id', 'in', eb.selectFrom(side('z.sg_id').as('p')).select('p.id').unionAll(eb.selectFrom(side('z.alt_sg_id').as('a')).select('a.id'))),
    );
  }
  if (spec.sectag !== undefined)
    conds.push(
      eb.exists(
        eb
          .selectFrom('zone_sectags as zs')
          .innerJoin('sectags as st', 'st.id', 'zs.sectag_id')
          .select('zs.zone_id')
          .whereRef('zs.zone_id', '=', 'z.id')
          .where('st.name', '=', spec.sectag),
      ),
    );
  // Always a range on name (even from ''): SQLite then walks the name index for the page instead of sorting.
  // One lower bound (the later of the page start and the prefix), so the planner cannot pick the weaker one.
  if (prefix !== '' && prefix > spec.after) conds.push(eb('z.name', '>=', prefix));
  else conds.push(eb('z.name', '>', spec.after));
  if (prefix !== '') conds.push(eb('z.name', '<', prefixEnd(prefix)));
  return eb.and(conds);
}

// Live names are unique, so name alone orders them (and lets the planner walk the name index instead of sorting 100k
// rows); deleted zones may share a name, the id breaks the tie. A literal LIMIT: with a bound one SQLite's planner
// cannot see that a page is small and sorts the whole table.

/** A page of zone info rows. */
export async function zoneInfoPage(db: Db, dialect: Dialect, scope: ZoneScope, spec: ZonePageSpec): Promise<ZoneInfoRow[]> {
  let q = zoneInfoQuery(db).where(pageWhere(dialect, scope, spec, await drivingTag(db, scope, spec))).orderBy('z.name');
  if (spec.which !== 'active') q = q.orderBy('z.id');
  return (await q.limit(sql.lit(spec.limit)).execute()) as ZoneInfoRow[];
}

/** The same page with only what a listing line shows (name, state, reference, published serial). */
export async function zoneBriefPage(db: Db, dialect: Dialect, scope: ZoneScope, spec: ZonePageSpec) {
  let q = db
    .selectFrom('zones as z')
    .leftJoin('zone_references as ref', 'ref.id', 'z.reference_id')
    .leftJoin('zone_instances as zi', (j) => j.onRef('zi.zone_id', '=', 'z.id').onRef('zi.version', '=', 'z.published_version'))
    .select(['z.id', 'z.name', 'z.state', 'ref.name as ref_name', 'zi.soa_serial as pub_serial'])
    .where(pageWhere(dialect, scope, spec, await drivingTag(db, scope, spec)))
    .orderBy('z.name');
  if (spec.which !== 'active') q = q.orderBy('z.id');
  return q.limit(sql.lit(spec.limit)).execute();
}
