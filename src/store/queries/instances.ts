// High availability (issue 13): the dmsd instances registered on the database, the fencing epoch, and the
// PostgreSQL recovery state (a hot standby answers pg_is_in_recovery() = true) and promotion.

import { type Kysely, type Selectable, sql } from 'kysely';
import type { HaTables, InstanceTable } from '../migrations-ha.js';
import type { Database } from '../schema.js';
import type { Db, Store } from '../store.js';

type HDb = Kysely<Database & HaTables>;
/** The tables come from a later migration, outside the base Database type. */
const hdb = (d: Db): HDb => d as unknown as HDb;

export type InstanceRow = Selectable<InstanceTable>;

/** Insert or refresh this instance's row (its heartbeat). */
export async function upsertInstance(db: Db, row: InstanceRow): Promise<void> {
  await hdb(db)
    .insertInto('dms_instances')
    .values(row)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        last_seen: row.last_seen,
        mode: row.mode,
        is_leader: row.is_leader,
        leader_since: row.leader_since,
        epoch: row.epoch,
      }),
    )
    .execute();
}

/** Only one row may say it leads: the new leader clears the flag of the others in the same statement's transaction. */
export async function markLeader(db: Db, id: string, since: number): Promise<void> {
  await hdb(db).transaction().execute(async (trx) => {
    await trx.updateTable('dms_instances').set({ is_leader: 0, leader_since: null }).where('id', '!=', id).where('is_leader', '=', 1).execute();
    await trx.updateTable('dms_instances').set({ is_leader: 1, leader_since: since }).where('id', '=', id).execute();
  });
}

export async function deleteInstance(db: Db, id: string): Promise<void> {
  await hdb(db).deleteFrom('dms_instances').where('id', '=', id).execute();
}

/** Rows not heard of for `olderThan` ms are dropped (instances that died without saying goodbye). */
export async function pruneInstances(db: Db, olderThan: number): Promise<void> {
  await hdb(db).deleteFrom('dms_instances').where('last_seen', '<', olderThan).execute();
}

export async function selectInstances(db: Db): Promise<InstanceRow[]> {
  const rows = await hdb(db).selectFrom('dms_instances').selectAll().orderBy('started').orderBy('id').execute();
  return rows.map((r) => ({ ...r, pid: Number(r.pid), started: Number(r.started), last_seen: Number(r.last_seen), epoch: Number(r.epoch), leader_since: r.leader_since === null ? null : Number(r.leader_since) }));
}

export async function selectCluster(db: Db): Promise<{ epoch: number; promotedAt: number | null; promotedBy: string | null }> {
  const r = await hdb(db).selectFrom('dms_cluster').selectAll().where('id', '=', 1).executeTakeFirst();
  return { epoch: Number(r?.epoch ?? 1), promotedAt: r?.promoted_at == null ? null : Number(r.promoted_at), promotedBy: r?.promoted_by ?? null };
}

/** Raise the fencing epoch by one (the promoted side, right after the promotion); returns the new epoch. */
export async function bumpEpoch(db: Db, at: number, by: string): Promise<number> {
  const r = await hdb(db)
    .updateTable('dms_cluster')
    .set((eb) => ({ epoch: eb('epoch', '+', 1), promoted_at: at, promoted_by: by }))
    .where('id', '=', 1)
    .returning('epoch')
    .executeTakeFirstOrThrow();
  return Number(r.epoch);
}

/** PostgreSQL: true on a hot standby (recovery); SQLite never is. */
export async function inRecovery(store: Store): Promise<boolean> {
  if (store.kind !== 'postgres') return false;
  const r = await sql<{ r: boolean }>`select pg_is_in_recovery() as r`.execute(store.db);
  return r.rows[0]?.r === true;
}

/** PostgreSQL: promote this standby (pg_promote, waiting at most `waitSeconds`); false when it did not finish. */
export async function promoteStandby(db: Db, waitSeconds: number): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`select pg_promote(true, ${waitSeconds}) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

/**
 * The peer site's database (another PostgreSQL, by URL): in recovery or not, and its fencing epoch. Throws when it
 * cannot be reached within `timeoutMs`.
 */
export async function peerState(store: Store, url: string, timeoutMs: number): Promise<{ replica: boolean; epoch: number }> {
  if (!store.queryOther) throw new Error('a peer database needs PostgreSQL');
  const rows = await store.queryOther<{ r: boolean; epoch: string | number | null }>(
    url,
    `select pg_is_in_recovery() as r, (select epoch from dms_cluster where id = 1) as epoch`,
    timeoutMs,
  );
  return { replica: rows[0]?.r === true, epoch: Number(rows[0]?.epoch ?? 1) };
}

/** Streaming replication (hot standbys, promotion) exists on PostgreSQL only. */
export function hasReplication(store: Store): boolean {
  return store.kind === 'postgres';
}
