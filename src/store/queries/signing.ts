// The signer's records of each zone and the marks of the versions signed (migrations-signing.ts).

import { type Kysely, type Selectable, sql } from 'kysely';
import type { DnssecRecordTable, DnssecSignedTable, SigningTables } from '../migrations-signing.js';
import type { Database } from '../schema.js';
import { preparedRowWrite, preparedStatement } from '../prepared.js';
import { type Db, heldSqlite, wroteRows } from '../store.js';
import type { DnssecTables } from '../migrations-dnssec.js';
import type { DnssecPolicyRow, ZoneDnssecRow } from './dnssec.js';
import { SERVED_STATES } from './feed.js';
import { type ZoneScope, scopeVariant, scopeZones } from './zones.js';

type SDb = Kysely<Database & SigningTables>;
/** The signing tables come from a later migration, outside the base Database type. */
const sdb = (d: Db): SDb => d as unknown as SDb;
type XDb = Kysely<Database & SigningTables & DnssecTables>;
const xdb = (d: Db): XDb => d as unknown as XDb;

export type DnssecRecordRow = Selectable<DnssecRecordTable>;
export type DnssecSignedRow = Selectable<DnssecSignedTable>;
export type NewSignerRecord = Omit<DnssecRecordTable, 'zone_id' | 'from_version' | 'to_version'>;

const CHUNK = 400;
/** Owners per read of signer rows at owners; rows up to which a change's inserts are prepared one by one. */
const FEW = 16;

const markAtOrBelow = preparedStatement((db: Db, _v, zoneId: number, version: number) =>
  sdb(db).selectFrom('dnssec_signed').selectAll().where('zone_id', '=', zoneId).where('version', '<=', version).orderBy('version', 'desc').limit(sql.lit(1)),
);
const markAt = preparedStatement((db: Db, _v, zoneId: number, version: number) =>
  sdb(db).selectFrom('dnssec_signed').selectAll().where('zone_id', '=', zoneId).where('version', '=', version),
);
const insertMark = preparedRowWrite('dnssec_signed');
const insertSignerRow = preparedRowWrite('dnssec_records');
/**
 * Signer rows alive at `version` at N owners (variant: N): those alive now, then those that died after `version`
 * (two seeks on (zone_id, to_version, owner_key), not one OR: an owner's dead rows — the apex's, re-signed at every
 * change — are its history, and the cost would grow with it).
 */
const rowsAtOwners = preparedStatement((db: Db, _v, zoneId: number, version: number, ...keys: string[]) => {
  const part = (alive: boolean) => {
    const q = sdb(db).selectFrom('dnssec_records').selectAll().where('zone_id', '=', zoneId);
    // Unary plus: not an index term. Otherwise SQLite's planner takes the (zone_id, from_version) index, whose range
    // holds nearly every row of the zone (measured: ~90 ms per read at 100,000 signed records).
    return (alive ? q.where('to_version', 'is', null) : q.where('to_version', '>', version)).where('owner_key', 'in', keys).where(sql<number>`+from_version`, '<=', version);
  };
  return part(true).unionAll(part(false));
});
const rowsDied = preparedStatement((db: Db, _v, zoneId: number, lo: number, hi: number) =>
  sdb(db).selectFrom('dnssec_records').selectAll().where('zone_id', '=', zoneId).where('from_version', '<=', lo).where('to_version', '>', lo).where('to_version', '<=', hi),
);
const rowsBorn = preparedStatement((db: Db, _v, zoneId: number, lo: number, hi: number) =>
  sdb(db)
    .selectFrom('dnssec_records')
    .selectAll()
    .where('zone_id', '=', zoneId)
    .where('from_version', '>', lo)
    .where('from_version', '<=', hi)
    .where((eb) => eb.or([eb('to_version', 'is', null), eb('to_version', '>', hi)])),
);
const killRow = preparedStatement((db: Db, _v, version: number, zoneId: number, ownerKey: string, type: number, rdata: Uint8Array) =>
  sdb(db)
    .updateTable('dnssec_records')
    .set({ to_version: version })
    .where('zone_id', '=', zoneId)
    .where('to_version', 'is', null)
    .where('owner_key', '=', ownerKey)
    .where('type', '=', type)
    .where('rdata', '=', rdata),
);

/** The newest signed version of a zone at or below `version`. */
export async function signedMarkAtOrBelow(db: Db, zoneId: number, version: number): Promise<DnssecSignedRow | undefined> {
  return markAtOrBelow.first(db, '', zoneId, version);
}

export async function signedMark(db: Db, zoneId: number, version: number): Promise<DnssecSignedRow | undefined> {
  return markAt.first(db, '', zoneId, version);
}

/** Insert the mark; a second signer of the same version gets a unique violation. */
export async function insertSignedMark(db: Db, row: DnssecSignedTable): Promise<void> {
  await insertMark(db, row);
}

/** Signer rows alive at `version`. */
export async function signerRowsAt(db: Db, zoneId: number, version: number): Promise<DnssecRecordRow[]> {
  return sdb(db)
    .selectFrom('dnssec_records')
    .selectAll()
    .where('zone_id', '=', zoneId)
    .where('from_version', '<=', version)
    .where((eb) => eb.or([eb('to_version', 'is', null), eb('to_version', '>', version)]))
    .execute();
}

/** Signer rows alive at `version` at the given owners: a seek per owner, whatever the zone's size. */
export async function signerRowsAtOwners(db: Db, zoneId: number, ownerKeys: readonly string[], version: number): Promise<DnssecRecordRow[]> {
  // In prepared statements of FEW owners each (the last one fewer): a change names a few owners, a bulk one many.
  const out: DnssecRecordRow[] = [];
  for (let i = 0; i < ownerKeys.length; i += FEW) {
    const keys = ownerKeys.slice(i, i + FEW);
    for (const r of await rowsAtOwners.rows(db, String(keys.length), zoneId, version, ...keys)) out.push(r);
  }
  return out;
}

/** @internal The SQL of the signer's per-owner read (N owners) and kill: tests check their query plans. */
export function signerOwnerStatementsSql(db: Db, owners: number): string[] {
  return [rowsAtOwners.sqlOf(db, String(owners), 2 + owners), killRow.sqlOf(db, '', 5)];
}

/** Signer rows that died and were born between versions lo < hi (as records' servedRowsChangedBetween). */
export async function signerRowsChangedBetween(db: Db, zoneId: number, lo: number, hi: number): Promise<{ died: DnssecRecordRow[]; born: DnssecRecordRow[] }> {
  const died = await rowsDied.rows(db, '', zoneId, lo, hi);
  const born = await rowsBorn.rows(db, '', zoneId, lo, hi);
  return { died, born };
}

/** Rows alive now (to_version null) matching the given records (owner key, type, RDATA) die at `version`. */
export async function killSignerRows(
  db: Db,
  zoneId: number,
  version: number,
  rows: readonly { owner_key: string; type: number; rdata: Uint8Array }[],
): Promise<number> {
  let n = 0;
  // On SQLite a prepared statement per row costs microseconds; on PostgreSQL each statement is a round trip (a
  // signed UPDATE kills a few rows: the changed owner's and its chain neighbours' signatures), so one statement.
  if (heldSqlite(db) || rows.length === 1) {
    for (const r of rows) n += await killRow.changes(db, '', version, zoneId, r.owner_key, r.type, r.rdata);
    return n;
  }
  for (let i = 0; i < rows.length; i += FEW) {
    const part = rows.slice(i, i + FEW);
    const r = await sdb(db)
      .updateTable('dnssec_records')
      .set({ to_version: version })
      .where('zone_id', '=', zoneId)
      .where('to_version', 'is', null)
      .where((eb) => eb.or(part.map((x) => eb.and([eb('owner_key', '=', x.owner_key), eb('type', '=', x.type), eb('rdata', '=', x.rdata)]))))
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}

/** Every row alive now dies at `version` (a full sign replaces them all). */
export async function killAllSignerRows(db: Db, zoneId: number, version: number): Promise<void> {
  const r = await sdb(db).updateTable('dnssec_records').set({ to_version: version }).where('zone_id', '=', zoneId).where('to_version', 'is', null).executeTakeFirst();
  wroteRows(db, 'dnssec_records', Number(r.numUpdatedRows));
}

export async function insertSignerRows(db: Db, zoneId: number, version: number, rows: readonly NewSignerRecord[]): Promise<void> {
  // A few rows: a prepared statement each on SQLite (microseconds); on PostgreSQL one statement (a round trip each).
  if (rows.length <= FEW && (heldSqlite(db) || rows.length === 1)) {
    for (const r of rows) await insertSignerRow(db, { ...r, zone_id: zoneId, from_version: version, to_version: null });
    return;
  }
  wroteRows(db, 'dnssec_records', rows.length);
  for (let i = 0; i < rows.length; i += CHUNK) {
    await sdb(db)
      .insertInto('dnssec_records')
      .values(rows.slice(i, i + CHUNK).map((r) => ({ ...r, zone_id: zoneId, from_version: version, to_version: null })))
      .execute();
  }
}

/** Ids of the zones that follow a DNSSEC policy. */
export async function zoneIdsWithPolicy(db: Db): Promise<Set<number>> {
  const rows = await (db as unknown as Kysely<Database & { zone_dnssec: { zone_id: number; policy_id: number | null } }>)
    .selectFrom('zone_dnssec')
    .select('zone_id')
    .where('policy_id', 'is not', null)
    .execute();
  return new Set(rows.map((r) => Number(r.zone_id)));
}

/** Names of the zones that follow a DNSSEC policy. */
export async function zoneNamesWithPolicy(db: Db): Promise<string[]> {
  const rows = await (db as unknown as Kysely<Database & { zone_dnssec: { zone_id: number; policy_id: number | null } }>)
    .selectFrom('zone_dnssec')
    .innerJoin('zones', 'zones.id', 'zone_dnssec.zone_id')
    .select('zones.name')
    .where('zone_dnssec.policy_id', 'is not', null)
    .execute();
  return rows.map((r) => r.name);
}

/**
 * Vacuum: the signer rows alive in none of the zone's remaining versions, and the marks of versions gone (the same
 * rule as the records' deleteOrphanRows). Returns the rows deleted.
 */
export async function deleteOrphanSignerRows(trx: Db, zoneId: number): Promise<number> {
  const s = sdb(trx);
  const r = await s
    .deleteFrom('dnssec_records')
    .where('zone_id', '=', zoneId)
    .where(({ not, exists, selectFrom, ref }) =>
      not(
        exists(
          selectFrom('zone_instances as zi')
            .select('zi.id')
            .where('zi.zone_id', '=', zoneId)
            .where('zi.version', '>=', ref('dnssec_records.from_version'))
            .where((eb) => eb.or([eb('dnssec_records.to_version', 'is', null), eb('zi.version', '<', ref('dnssec_records.to_version'))])),
        ),
      ),
    )
    .executeTakeFirst();
  await s
    .deleteFrom('dnssec_signed')
    .where('zone_id', '=', zoneId)
    .where(({ not, exists, selectFrom, ref }) =>
      not(exists(selectFrom('zone_instances as zi').select('zi.id').where('zi.zone_id', '=', zoneId).whereRef('zi.version', '=', ref('dnssec_signed.version')))),
    )
    .execute();
  return Number(r.numDeletedRows);
}

/** Vacuum keeping one version: signer rows that died after it are alive again (as the records'). */
export async function reviveSignerRowsAfter(trx: Db, zoneId: number, keep: number): Promise<void> {
  await sdb(trx).updateTable('dnssec_records').set({ to_version: null }).where('zone_id', '=', zoneId).where('to_version', '>', keep).execute();
}

// ---- the signer's read of a zone ----------------------------------------------------------------------------------

/**
 * A served zone as the signer reads it for each new version, in one statement (on PostgreSQL every read is a round
 * trip, and a signed UPDATE's signer makes this one): the zone row (servedZoneRow's columns), its zone_dnssec row,
 * its policy and whether its published version is signed already.
 */
const signerZoneByName = preparedStatement((db: Db, _v, name: string, ...scope: string[]) =>
  scopeZones(
    xdb(db)
      .selectFrom('zones')
      .leftJoin('zone_dnssec as zd', 'zd.zone_id', 'zones.id')
      .leftJoin('dnssec_policies as p', 'p.id', 'zd.policy_id')
      .selectAll('p')
      .select([
        'zones.id as z_id',
        'zones.name as z_name',
        'zones.state as z_state',
        'zones.published_version as z_published_version',
        'zones.latest_version as z_latest_version',
        'zd.zone_id as zd_zone_id',
        'zd.policy_id as zd_policy_id',
        'zd.rollover_role as zd_rollover_role',
        'zd.rollover_requested as zd_rollover_requested',
        'zd.resign_requested as zd_resign_requested',
        'zd.parent_check as zd_parent_check',
        'zd.denial_override as zd_denial_override',
        'zd.mtime as zd_mtime',
      ])
      .select((eb) =>
        eb
          .exists(eb.selectFrom('dnssec_signed as s').select('s.version').whereRef('s.zone_id', '=', 'zones.id').whereRef('s.version', '=', 'zones.published_version'))
          .as('published_signed'),
      )
      .where('zones.name', '=', name)
      .where('zones.state', 'in', SERVED_STATES),
    scope[0] ?? null,
    'zones.id',
  ),
);

export interface SignerZoneRead {
  z: { id: number; name: string; state: string; published_version: number | null; latest_version: number };
  /** Undefined: the zone has no zone_dnssec row. */
  zd?: ZoneDnssecRow;
  /** Undefined: no policy (none set, or the row names none). */
  prow?: DnssecPolicyRow;
  /** The published version has its signed mark. */
  publishedSigned: boolean;
}

/** signerZoneByName for the served zone of that name the scope sees; undefined when there is none. */
export async function signerZoneRow(db: Db, scope: ZoneScope, name: string): Promise<SignerZoneRead | undefined> {
  const s = scopeVariant(scope);
  const r = await signerZoneByName.first(db, s.variant, name, ...s.args);
  if (!r) return undefined;
  const {
    z_id,
    z_name,
    z_state,
    z_published_version,
    z_latest_version,
    zd_zone_id,
    zd_policy_id,
    zd_rollover_role,
    zd_rollover_requested,
    zd_resign_requested,
    zd_parent_check,
    zd_denial_override,
    zd_mtime,
    published_signed,
    ...p
  } = r;
  // Every column by name: a column added to zone_dnssec is a type error here until it is read too.
  const zd: ZoneDnssecRow | undefined =
    zd_zone_id === null
      ? undefined
      : {
          zone_id: zd_zone_id,
          policy_id: zd_policy_id,
          rollover_role: zd_rollover_role,
          rollover_requested: zd_rollover_requested,
          resign_requested: zd_resign_requested,
          parent_check: zd_parent_check,
          denial_override: zd_denial_override,
          mtime: zd_mtime as number,
        };
  return {
    z: { id: z_id, name: z_name, state: z_state, published_version: z_published_version, latest_version: z_latest_version },
    ...(zd ? { zd } : {}),
    ...(p.id === null ? {} : { prow: p as DnssecPolicyRow }),
    // SQLite answers EXISTS with 1 or 0, PostgreSQL with a boolean.
    publishedSigned: Boolean(published_signed),
  };
}
