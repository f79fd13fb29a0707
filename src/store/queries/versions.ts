// Zone versions (zone_instances: one ZI per version) and their record rows (records: alive in
// [from_version, to_version)).

import type BetterSqlite3 from 'better-sqlite3';
import { type Insertable, type Selectable, sql } from 'kysely';
import type { Dialect } from '../migrations.js';
import type { RecordTable, ZoneInstanceTable } from '../schema.js';
import { preparedRowWrite, preparedStatement } from '../prepared.js';
import { type Db, type Store, type Tx, wroteRows } from '../store.js';
import { deleteSnapshotOfZi } from './snapshots.js';

export type ZiRow = Selectable<ZoneInstanceTable>;

/** The ZI of a zone's version, or undefined. */
export async function ziRow(db: Db, zoneId: number, version: number): Promise<ZiRow | undefined> {
  return ziOfVersion.first(db, '', zoneId, version);
}

/** The ZIs of a zone among these versions (those still stored), in no particular order. */
export async function ziRowsOfVersions(db: Db, zoneId: number, versions: readonly number[]): Promise<ZiRow[]> {
  if (versions.length <= 4) return ziOfVersions.rows(db, String(versions.length), zoneId, ...versions);
  return db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('version', 'in', versions).execute();
}

/** Delete record rows alive in no remaining ZI of the zone (after ZIs were deleted). */
export async function deleteOrphanRows(trx: Tx, zoneId: number): Promise<number> {
  const r = await trx
    .deleteFrom('records')
    .where('zone_id', '=', zoneId)
    .where(({ not, exists, selectFrom, ref }) =>
      not(
        exists(
          selectFrom('zone_instances as zi')
            .select('zi.id')
            .where('zi.zone_id', '=', zoneId)
            .where('zi.version', '>=', ref('records.from_version'))
            .where((eb) => eb.or([eb('records.to_version', 'is', null), eb('zi.version', '<', ref('records.to_version'))])),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A record row's content (what makes it a different row): the records table without ids and versions. */
export type RecordRowData = Pick<
  RecordTable,
  'owner_key' | 'owner' | 'type' | 'rclass' | 'ttl' | 'rdata' | 'comment' | 'group_comment' | 'flags' | 'disabled'
>;

/** A stored record row: its content, the versions it is alive in, its place in the zone's order. */
export interface StoredRow extends RecordRowData {
  id: number;
  from_version: number;
  to_version: number | null;
  ord: number;
}

const rowColumns = [
  'id', 'from_version', 'to_version', 'owner_key', 'owner', 'type', 'rclass', 'ttl', 'rdata', 'comment',
  'group_comment', 'flags', 'disabled', 'ord',
] as const;

const ziOfVersion = preparedStatement((db: Db, _v, zoneId: number, version: number) =>
  db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('version', '=', version),
);
/** The ZIs of N versions (variant: N): a change's two versions, read by every follower of it. */
const ziOfVersions = preparedStatement((db: Db, _v, zoneId: number, ...versions: number[]) =>
  db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('version', 'in', versions),
);
const insertZiRow = preparedRowWrite('zone_instances');
/** Rows alive now at N owners (variant: N, 'served' for served rows only): an UPDATE's read. */
const aliveAtOwners = preparedStatement((db: Db, variant, zoneId: number, ...keys: string[]) => {
  const q = db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId).where('to_version', 'is', null).where('owner_key', 'in', keys);
  return variant.endsWith('served') ? q.where('disabled', '=', 0) : q;
});
/** Rows of one type alive now at N owners (variant: N): the (zone_id, to_version, owner_key) index ranges, then the type. */
const aliveAtOwnersOfType = preparedStatement((db: Db, _v, zoneId: number, type: number, ...keys: string[]) =>
  db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId).where('to_version', 'is', null).where('owner_key', 'in', keys).where('type', '=', type),
);
/**
 * Rows at N owners alive at a version (variant: N, 'served' for served rows only): alive now, then died after it —
 * two index ranges on (zone_id, to_version, owner_key) rather than one OR that would scan the owners' history.
 */
const atVersionAtOwners = preparedStatement((db: Db, variant, zoneId: number, version: number, ...keys: string[]) => {
  const part = (alive: boolean) => {
    const q = db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId);
    const r = (alive ? q.where('to_version', 'is', null) : q.where('to_version', '>', version)).where('from_version', '<=', version).where('owner_key', 'in', keys);
    return variant.endsWith('served') ? r.where('disabled', '=', 0) : r;
  };
  return part(true).unionAll(part(false));
});

const byOrd = (a: StoredRow, b: StoredRow) => a.ord - b.ord || Number(a.id) - Number(b.id);

/**
 * Rows alive at `version`: still alive (to_version null) or died later, each born at or before it. Two index ranges
 * on (zone_id, to_version, from_version) rather than one OR that would scan the zone's whole history.
 */
export async function rowsAt(db: Db, zoneId: number, version: number, servedOnly = false): Promise<StoredRow[]> {
  const part = (alive: boolean) => {
    let q = db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId);
    q = alive ? q.where('to_version', 'is', null) : q.where('to_version', '>', version);
    q = q.where('from_version', '<=', version);
    return servedOnly ? q.where('disabled', '=', 0) : q;
  };
  const rows = (await part(true).unionAll(part(false)).execute()) as StoredRow[];
  return rows.sort(byOrd);
}

export async function currentRows(db: Db, zoneId: number): Promise<StoredRow[]> {
  const rows = (await db
    .selectFrom('records')
    .select(rowColumns)
    .where('zone_id', '=', zoneId)
    .where('to_version', 'is', null)
    .execute()) as StoredRow[];
  return rows.sort(byOrd);
}

/** Rows per statement: keeps the bound parameters under SQLite's and PostgreSQL's limits. */
const INSERT_CHUNK = 400;


/** Rows alive in the newest version at these owners (disabled ones included). */
export async function aliveRowsAt(db: Db, zoneId: number, ownerKeys: readonly string[]): Promise<StoredRow[]> {
  return ownerRowsAt(db, zoneId, ownerKeys);
}

/**
 * The rows of `type` alive now at these owners (Name keys): an UPDATE's look at the DNAMEs above the names it names.
 * At most 16 owners per statement (a prepared variant per count).
 */
export async function aliveRowsOfTypeAtOwners(db: Db, zoneId: number, ownerKeys: readonly string[], type: number): Promise<StoredRow[]> {
  const out: StoredRow[] = [];
  for (let i = 0; i < ownerKeys.length; i += 16) {
    const keys = ownerKeys.slice(i, i + 16);
    out.push(...((await aliveAtOwnersOfType.rows(db, String(keys.length), zoneId, type, ...keys)) as StoredRow[]));
  }
  return out;
}

/**
 * Rows at these owners (Name keys) alive at `version` (default: alive now), in the zone's order when `version` is
 * given. Seeks the (zone_id, to_version, owner_key) index per owner: the cost follows the owners, not the zone.
 */
export async function ownerRowsAt(
  db: Db,
  zoneId: number,
  ownerKeys: readonly string[],
  version?: number,
  servedOnly = false,
): Promise<StoredRow[]> {
  const out: StoredRow[] = [];
  for (let i = 0; i < ownerKeys.length; i += INSERT_CHUNK) {
    const keys = ownerKeys.slice(i, i + INSERT_CHUNK);
    if (keys.length <= 16) {
      const variant = `${keys.length}${servedOnly ? ' served' : ''}`;
      const rows = version === undefined ? await aliveAtOwners.rows(db, variant, zoneId, ...keys) : await atVersionAtOwners.rows(db, variant, zoneId, version, ...keys);
      out.push(...(rows as StoredRow[]));
      continue;
    }
    const part = (alive: boolean) => {
      let q = db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId);
      q = alive ? q.where('to_version', 'is', null) : q.where('to_version', '>', version as number);
      if (version !== undefined) q = q.where('from_version', '<=', version);
      q = q.where('owner_key', 'in', keys);
      return servedOnly ? q.where('disabled', '=', 0) : q;
    };
    // Alive now, or (at an older version) died after it: two index ranges rather than one OR.
    const q = version === undefined ? part(true) : part(true).unionAll(part(false));
    out.push(...((await q.execute()) as StoredRow[]));
  }
  return version === undefined ? out : out.sort(byOrd);
}

/**
 * Rows alive now at these owners, for many owners at once (a bulk change: thousands of PTRs): one statement with
 * the keys as one parameter (SQLite json_each, PostgreSQL = any(array)) instead of one IN list per 400 keys, each
 * compiled and planned anew. Few owners take ownerRowsAt's path.
 */
export async function aliveRowsAtOwners(db: Db, dialect: Dialect, zoneId: number, ownerKeys: readonly string[]): Promise<StoredRow[]> {
  if (ownerKeys.length <= INSERT_CHUNK) return ownerRowsAt(db, zoneId, ownerKeys);
  const keys =
    dialect === 'postgres' ? sql<boolean>`owner_key = any(${[...ownerKeys]}::text[])` : sql<boolean>`owner_key in (select value from json_each(${JSON.stringify(ownerKeys)}))`;
  return (await db.selectFrom('records').select(rowColumns).where('zone_id', '=', zoneId).where('to_version', 'is', null).where(keys).execute()) as StoredRow[];
}

interface FastStatements {
  insert: BetterSqlite3.Statement;
  kill: BetterSqlite3.Statement;
}
const statementCache = new WeakMap<BetterSqlite3.Database, FastStatements>();
function sqliteStatements(db: BetterSqlite3.Database): FastStatements {
  let st = statementCache.get(db);
  if (!st) {
    st = {
      insert: db.prepare(
        'insert into records (zone_id, from_version, to_version, owner_key, owner, type, rclass, ttl, rdata, comment, group_comment, flags, disabled, ord) values (?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      kill: db.prepare('update records set to_version = ? where id = ?'),
    };
    statementCache.set(db, st);
  }
  return st;
}

/**
 * The record rows of a new version: rows that die get to_version, new rows are born at it. On SQLite, prepared
 * statements on the transaction's own connection (Kysely's SQLite driver has one, held by us right now) avoid
 * compiling a fresh multi-row INSERT per zone — the cost of bulk loads.
 */
export async function writeRecordRows(
  trx: Tx,
  store: Store,
  zoneId: number,
  version: number,
  dying: readonly number[],
  born: readonly (RecordRowData & { ord: number })[],
): Promise<void> {
  const fast = store.sqlite ? sqliteStatements(store.sqlite) : undefined;
  if (fast) {
    for (const id of dying) fast.kill.run(version, id);
    for (const r of born)
      fast.insert.run(
        zoneId, version, r.owner_key, r.owner, r.type, r.rclass, r.ttl,
        Buffer.from(r.rdata.buffer, r.rdata.byteOffset, r.rdata.byteLength),
        r.comment, r.group_comment, r.flags, r.disabled, r.ord,
      );
    return;
  }
  wroteRows(trx, 'records', dying.length + born.length);
  for (let i = 0; i < dying.length; i += INSERT_CHUNK)
    await trx.updateTable('records').set({ to_version: version }).where('id', 'in', dying.slice(i, i + INSERT_CHUNK)).execute();
  for (let i = 0; i < born.length; i += INSERT_CHUNK)
    await trx
      .insertInto('records')
      .values(
        born.slice(i, i + INSERT_CHUNK).map((r) => ({
          ...r,
          rdata: Buffer.from(r.rdata.buffer, r.rdata.byteOffset, r.rdata.byteLength),
          zone_id: zoneId,
          from_version: version,
          to_version: null,
        })),
      )
      .execute();
}


/** The newest ZI of a zone with that SOA serial, or undefined. */
export async function ziRowBySerial(db: Db, zoneId: number, serial: number): Promise<ZiRow | undefined> {
  return db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).where('soa_serial', '=', serial).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

/** A zone's ZIs, newest first. */
export async function ziRowsNewestFirst(db: Db, zoneId: number): Promise<ZiRow[]> {
  return db.selectFrom('zone_instances').selectAll().where('zone_id', '=', zoneId).orderBy('version', 'desc').execute();
}

export async function insertZi(db: Db, row: Insertable<ZoneInstanceTable>): Promise<void> {
  await insertZiRow(db, row);
}

export async function markZiPublished(db: Db, ziId: number, t: number): Promise<void> {
  await db.updateTable('zone_instances').set({ ptime: t, mtime: t }).where('id', '=', ziId).execute();
}

export async function deleteZiRow(db: Db, ziId: number): Promise<void> {
  await db.deleteFrom('zone_instances').where('id', '=', ziId).execute();
  // A snapshot of it would otherwise outlive it (and SQLite may give its id to a later ZI).
  await deleteSnapshotOfZi(db, ziId);
}

/**
 * Served rows of the newest version of these types (NS, MX, SRV: the ones that name a target). The types go in as
 * literals, not parameters: the planner then proves that the partial index records_alive_targets (migration
 * 0010: to_version null and type in (2, 15, 33)) applies, so the read costs those rows, not the zone's addresses.
 */
export async function aliveRowsOfTypes(db: Db, zoneId: number, types: readonly number[]): Promise<StoredRow[]> {
  const list = sql.join(types.map((t) => sql.lit(Math.trunc(t))));
  return (await db
    .selectFrom('records')
    .select(rowColumns)
    .where('zone_id', '=', zoneId)
    .where('to_version', 'is', null)
    .where(sql<boolean>`type in (${list})`)
    .where('disabled', '=', 0)
    .execute()) as StoredRow[];
}

/** Whether the newest version has disabled records (which are kept but not served). */
export async function hasDisabledRows(db: Db, zoneId: number): Promise<boolean> {
  const r = await db.selectFrom('records').select('id').where('zone_id', '=', zoneId).where('to_version', 'is', null).where('disabled', '=', 1).limit(1).executeTakeFirst();
  return r !== undefined;
}

/**
 * Between versions lo < hi, the served rows that died (alive at lo, dead by hi) and were born (born after lo, alive at
 * hi), each in zone order.
 */
const servedRowsDied = preparedStatement((db: Db, _v, zoneId: number, lo: number, hi: number) =>
  db
    .selectFrom('records')
    .select(rowColumns)
    .where('zone_id', '=', zoneId)
    .where('disabled', '=', 0)
    .where('from_version', '<=', lo)
    .where('to_version', '>', lo)
    .where('to_version', '<=', hi)
    .orderBy('ord'),
);
const servedRowsBorn = preparedStatement((db: Db, _v, zoneId: number, lo: number, hi: number) =>
  db
    .selectFrom('records')
    .select(rowColumns)
    .where('zone_id', '=', zoneId)
    .where('disabled', '=', 0)
    .where('from_version', '>', lo)
    .where('from_version', '<=', hi)
    .where((eb) => eb.or([eb('to_version', 'is', null), eb('to_version', '>', hi)]))
    .orderBy('ord'),
);

export async function servedRowsChangedBetween(db: Db, zoneId: number, lo: number, hi: number): Promise<{ died: StoredRow[]; born: StoredRow[] }> {
  const died = (await servedRowsDied.rows(db, '', zoneId, lo, hi)) as StoredRow[];
  const born = (await servedRowsBorn.rows(db, '', zoneId, lo, hi)) as StoredRow[];
  return { died, born };
}

// ---- streaming zone load (services/load-stream.ts) -------------------------------------------------------------

/** Rows per page when the store has no cursor to stream from (PostgreSQL). */
const OWNER_PAGE = 5000;

/**
 * The alive rows born at `version` of a zone, owner by owner (owner_key, then ord, then id): a streaming load checks
 * each owner's records together without holding the zone. SQLite: straight from the cursor of one statement (the
 * records_zone_alive_owner index gives that order; its rows are in ord order within an owner because a load inserts
 * them so); no other statement may run on the connection until the iteration ends. Elsewhere: keyset pages.
 */
export async function* ownerOrderedRows(store: Store, db: Db, zoneId: number, version: number): AsyncGenerator<StoredRow[]> {
  const base = () =>
    db
      .selectFrom('records')
      .select([...rowColumns])
      .where('zone_id', '=', zoneId)
      .where('to_version', 'is', null)
      .where('from_version', '=', version);
  if (store.sqlite) {
    const q = base().orderBy('owner_key').orderBy('ord').orderBy('id').compile();
    const it = store.sqlite.prepare(q.sql).iterate(...(q.parameters as unknown[])) as IterableIterator<StoredRow>;
    let page: StoredRow[] = [];
    for (const r of it) {
      page.push(r);
      if (page.length === OWNER_PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
    return;
  }
  let after: StoredRow | undefined;
  for (;;) {
    let q = base();
    if (after) {
      const a = after;
      q = q.where(sql<boolean>`(owner_key, ord, id) > (${a.owner_key}, ${a.ord}, ${a.id})`);
    }
    const page = (await q.orderBy('owner_key').orderBy('ord').orderBy('id').limit(OWNER_PAGE).execute()).map(
      (r) => ({ ...r, id: Number(r.id), ord: Number(r.ord) }) as StoredRow,
    );
    if (page.length > 0) yield page;
    if (page.length < OWNER_PAGE) return;
    after = page[page.length - 1];
  }
}

/** Which of these owners have served (not disabled) alive records of these types: `owner_key` and `type` pairs. */
export async function servedTypesAtOwners(
  db: Db,
  zoneId: number,
  ownerKeys: readonly string[],
  types: readonly number[],
): Promise<{ owner_key: string; type: number }[]> {
  const out: { owner_key: string; type: number }[] = [];
  for (let i = 0; i < ownerKeys.length; i += INSERT_CHUNK) {
    const rows = await db
      .selectFrom('records')
      .select(['owner_key', 'type'])
      .distinct()
      .where('zone_id', '=', zoneId)
      .where('to_version', 'is', null)
      .where('owner_key', 'in', ownerKeys.slice(i, i + INSERT_CHUNK))
      .where('type', 'in', types)
      .where('disabled', '=', 0)
      .execute();
    out.push(...rows);
  }
  return out;
}

/**
 * Alive rows whose owner key ends in "." + `suffixKey` (owner, position and whether served): the candidates for the
 * names below a name, in position order. The caller keeps those truly below it (a label may hold an escaped dot).
 */
export async function rowsEndingWith(
  db: Db,
  zoneId: number,
  suffixKey: string,
): Promise<{ owner_key: string; owner: string; ord: number; disabled: number }[]> {
  const pattern = `%.${suffixKey.replace(/[!%_]/g, (c) => `!${c}`)}`;
  const rows = await db
    .selectFrom('records')
    .select(['owner_key', 'owner', 'ord', 'disabled'])
    .where('zone_id', '=', zoneId)
    .where('to_version', 'is', null)
    .where(sql<boolean>`owner_key like ${pattern} escape '!'`)
    .orderBy('ord')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ owner_key: r.owner_key, owner: r.owner, ord: Number(r.ord), disabled: Number(r.disabled) }));
}

/** Delete record rows by id (a load's folded duplicates, inside its own transaction). */
export async function deleteRecordRows(db: Db, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) await db.deleteFrom('records').where('id', 'in', ids.slice(i, i + INSERT_CHUNK)).execute();
}

/**
 * Give these rows these TTLs (a streamed load's RRset of mixed TTLs, made one): rows named by id, or by their place
 * (ord) among the rows born at `version`.
 */
export async function setRecordTtls(
  db: Db,
  zoneId: number,
  version: number,
  rows: readonly ({ id: number; ttl: number } | { ord: number; ttl: number })[],
): Promise<void> {
  for (const r of rows) {
    const q = db.updateTable('records').set({ ttl: r.ttl });
    await ('id' in r ? q.where('id', '=', r.id) : q.where('zone_id', '=', zoneId).where('from_version', '=', version).where('ord', '=', r.ord)).execute();
  }
}

/** Number the rows born at `version` 0, 1, 2, … in their present order (ord, id). */
export async function renumberRows(db: Db, zoneId: number, version: number): Promise<void> {
  await sql`update records set ord = t.rn from (select id, row_number() over (order by ord, id) - 1 as rn from records where zone_id = ${zoneId} and from_version = ${version}) as t where records.id = t.id`.execute(db);
}

/** The alive rows born at `version` of these owners, in pages, by owner (owner_key, ord, id). */
export async function* writtenRows(db: Db, zoneId: number, version: number, ownerKeys: readonly string[]): AsyncGenerator<StoredRow[]> {
  for (let i = 0; i < ownerKeys.length; i += INSERT_CHUNK) {
    const page = await db
      .selectFrom('records')
      .select([...rowColumns])
      .where('zone_id', '=', zoneId)
      .where('to_version', 'is', null)
      .where('owner_key', 'in', ownerKeys.slice(i, i + INSERT_CHUNK))
      .where('from_version', '=', version)
      .orderBy('owner_key')
      .orderBy('ord')
      .orderBy('id')
      .execute();
    if (page.length > 0) yield page.map((r) => ({ ...r, id: Number(r.id), ord: Number(r.ord) }) as StoredRow);
  }
}
