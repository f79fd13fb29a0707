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

/** What a hot standby knows of its replication (PostgreSQL; undefined elsewhere or on a primary). */
export interface StandbyReplayRow {
  /** The last WAL location received from the primary (written by the WAL receiver), as text (`0/3000148`). */
  received: string | null;
  /** The last WAL location replayed (visible to queries). */
  replayed: string | null;
  /** Received but not yet replayed, in bytes. */
  behindBytes: number;
  replayPaused: boolean;
  /** The primary's commit time of the last transaction replayed (ms since the epoch). */
  lastReplayedCommit: number | null;
  /** The WAL receiver's status (`streaming`...), null when it is not running (the primary unreachable). */
  receiver: string | null;
  /** The newest heartbeat of a dmsd on the primary that replay has reached (dms_instances.last_seen, ms). */
  heartbeat: number | null;
  /** When the WAL receiver last heard from the primary (ms), null when it is not running. */
  lastContact: number | null;
}

/**
 * The standby's replication state in one round trip. The heartbeat is the newest last_seen of dms_instances: every
 * dmsd on the primary refreshes its row each second (daemon/leader.ts), so on the standby "now − heartbeat" is how
 * old the replayed state of the primary is, whether the lag is in the network, in a paused or slow replay, or in a
 * lost primary — unlike now − pg_last_xact_replay_timestamp(), which also grows while the primary is merely idle.
 */
export async function standbyReplay(store: Store): Promise<StandbyReplayRow | undefined> {
  if (store.kind !== 'postgres') return undefined;
  const r = await sql<{
    standby: boolean;
    received: string | null;
    replayed: string | null;
    behind: string | number | null;
    paused: boolean | null;
    commit_ms: string | number | null;
    receiver: string | null;
    heartbeat: string | number | null;
    contact_ms: string | number | null;
  }>`select pg_is_in_recovery() as standby,
      pg_last_wal_receive_lsn()::text as received,
      pg_last_wal_replay_lsn()::text as replayed,
      greatest(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 as behind,
      case when pg_is_in_recovery() then pg_is_wal_replay_paused() else false end as paused,
      (extract(epoch from pg_last_xact_replay_timestamp()) * 1000)::float8 as commit_ms,
      (select status from pg_stat_wal_receiver limit 1) as receiver,
      (select (extract(epoch from last_msg_receipt_time) * 1000)::float8 from pg_stat_wal_receiver limit 1) as contact_ms,
      (select max(last_seen) from dms_instances where mode = 'primary') as heartbeat`.execute(store.db);
  const row = r.rows[0];
  if (!row?.standby) return undefined;
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return {
    received: row.received,
    replayed: row.replayed,
    behindBytes: num(row.behind) ?? 0,
    replayPaused: row.paused === true,
    lastReplayedCommit: num(row.commit_ms),
    receiver: row.receiver,
    heartbeat: num(row.heartbeat),
    lastContact: num(row.contact_ms),
  };
}

/** The end of recovery of a promoted database: the last WAL location replayed (static once recovery ended). */
export async function lastReplayed(db: Db): Promise<string | null> {
  const r = await sql<{ l: string | null }>`select pg_last_wal_replay_lsn()::text as l`.execute(db);
  return r.rows[0]?.l ?? null;
}

/** Resume a paused WAL replay (a standby only). */
export async function resumeReplay(db: Db): Promise<void> {
  await sql`select pg_wal_replay_resume()`.execute(db);
}

/** true when WAL location `a` ≥ `b` (both as text), computed by PostgreSQL. */
export async function lsnAtLeast(db: Db, a: string, b: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`select ${a}::pg_lsn >= ${b}::pg_lsn as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

/** A primary's standbys (pg_stat_replication; the lag columns need a superuser or pg_read_all_stats, else null). */
export interface StandbyRow {
  name: string;
  client: string | null;
  state: string | null;
  syncState: string | null;
  sent: string | null;
  replayed: string | null;
  /** Seconds (fractions), null when the standby is idle or the role may not see them. */
  writeLag: number | null;
  flushLag: number | null;
  replayLag: number | null;
}

export async function primaryStandbys(store: Store): Promise<StandbyRow[]> {
  if (store.kind !== 'postgres') return [];
  const r = await sql<{
    name: string;
    client: string | null;
    state: string | null;
    sync_state: string | null;
    sent: string | null;
    replayed: string | null;
    write_lag: string | number | null;
    flush_lag: string | number | null;
    replay_lag: string | number | null;
  }>`select application_name as name, client_addr::text as client, state, sync_state, sent_lsn::text as sent,
      replay_lsn::text as replayed,
      extract(epoch from write_lag)::float8 as write_lag, extract(epoch from flush_lag)::float8 as flush_lag,
      extract(epoch from replay_lag)::float8 as replay_lag
    from pg_stat_replication order by application_name, pid`.execute(store.db);
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return r.rows.map((x) => ({
    name: x.name,
    client: x.client,
    state: x.state,
    syncState: x.sync_state,
    sent: x.sent,
    replayed: x.replayed,
    writeLag: num(x.write_lag),
    flushLag: num(x.flush_lag),
    replayLag: num(x.replay_lag),
  }));
}
