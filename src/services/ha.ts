// High availability (issue 13, docs/HA.md): the dmsd instances on one database (which one leads, since when), the
// fencing epoch, and the hot-standby state of a PostgreSQL replica and its promotion. The lease itself (an advisory
// lock on a connection of its own) is the daemon's (daemon/leader.ts, store/lease.ts); these functions only record
// and report it.

import {
  bumpEpoch,
  deleteInstance,
  hasReplication,
  type InstanceRow,
  inRecovery,
  lastReplayed,
  lsnAtLeast,
  markLeader,
  peerState,
  primaryStandbys,
  promoteStandby,
  pruneInstances,
  resumeReplay,
  type StandbyReplayRow,
  type StandbyRow,
  selectCluster,
  selectInstances,
  standbyReplay,
  upsertInstance,
} from '../store/queries/instances.js';
import { loadSettings } from './config.js';
import type { ServiceContext } from './context.js';
import { NotAReplica } from './errors.js';

export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  started: string;
  lastSeen: string;
  mode: 'primary' | 'replica';
  leader: boolean;
  leaderSince: string | null;
  epoch: number;
}

export interface ClusterState {
  /** The fencing epoch of this database: raised by each promotion of a replica (promote_replica). */
  epoch: number;
  promotedAt: string | null;
  promotedBy: string | null;
  /** This database is a hot standby (read-only). */
  replica: boolean;
}

/** Instances not heard of for this long are dropped from the list (they heartbeat every second). */
export const INSTANCE_EXPIRY_MS = 5 * 60_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** This instance's heartbeat: its row inserted or refreshed (a primary only: a standby cannot be written). */
export async function recordInstance(ctx: ServiceContext, row: Omit<InstanceRow, 'last_seen'>): Promise<void> {
  const now = ctx.clock.now().getTime();
  await upsertInstance(ctx.store.db, { ...row, last_seen: now });
}

/** Record that `id` leads from `since` (the other rows stop saying they do). */
export function recordLeader(ctx: ServiceContext, id: string, since: number): Promise<void> {
  return markLeader(ctx.store.db, id, since);
}

export function forgetInstance(ctx: ServiceContext, id: string): Promise<void> {
  return deleteInstance(ctx.store.db, id);
}

export async function listInstances(ctx: ServiceContext): Promise<InstanceInfo[]> {
  const now = ctx.clock.now().getTime();
  const rows = await selectInstances(ctx.store.db);
  // Stale rows are pruned by the leader's heartbeat; listing never writes (it must work on a standby too).
  return rows
    .filter((r) => r.last_seen >= now - INSTANCE_EXPIRY_MS)
    .map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      started: iso(r.started)!,
      lastSeen: iso(r.last_seen)!,
      mode: r.mode === 'replica' ? 'replica' : 'primary',
      leader: r.is_leader === 1,
      leaderSince: iso(r.leader_since),
      epoch: r.epoch,
    }));
}

export async function pruneStaleInstances(ctx: ServiceContext): Promise<void> {
  await pruneInstances(ctx.store.db, ctx.clock.now().getTime() - INSTANCE_EXPIRY_MS);
}

export async function clusterState(ctx: ServiceContext): Promise<ClusterState> {
  const [c, replica] = await Promise.all([selectCluster(ctx.store.db), inRecovery(ctx.store)]);
  return { epoch: c.epoch, promotedAt: iso(c.promotedAt), promotedBy: c.promotedBy, replica };
}

/** True when the database is a PostgreSQL hot standby (pg_is_in_recovery()). */
export function isReplica(ctx: ServiceContext): Promise<boolean> {
  return inRecovery(ctx.store);
}

/**
 * How far a replica is behind its primary (docs/HA.md, "A lagging replica"): a replica is in effect a secondary,
 * and what matters to its clients is how old the state it serves is. That state was the primary's current state at
 * the latest of these moments: the last replayed heartbeat of a dmsd on the primary (each refreshes its
 * dms_instances row every second, so a replica of a primary with a dmsd never sees a state older than a second
 * while it keeps up), the last replayed commit (the primary's commit time), and — when the WAL receiver streams and
 * everything it received is replayed — the last message from the primary. `now` minus that moment is the lag. It
 * grows with a slow network, a slow or paused replay and a lost primary alike, and not while the primary is merely
 * idle (its dmsd keep writing heartbeats, and a streaming, replayed standby is current as of its last message).
 * The clocks of the hosts involved are assumed to agree (NTP); a skew adds to or subtracts from the lag.
 */
export function replicaLagMs(r: StandbyReplayRow, now: number): number | null {
  const caughtUp = r.receiver === 'streaming' && r.behindBytes === 0 && !r.replayPaused;
  const moments = [r.heartbeat, r.lastReplayedCommit, caughtUp ? r.lastContact : null].filter((x): x is number => x !== null);
  if (moments.length === 0) return null;
  return Math.max(0, now - Math.max(...moments));
}

export interface ReplicationStatus {
  /** Seconds the replica's state is behind the primary (0.1 s steps); 0 when unknown (see `basis`). */
  lagSeconds: number;
  /** The configured limit (set_config replica_max_lag, default 60 s). */
  limitSeconds: number;
  /** lagSeconds > limitSeconds: /health reports not OK, dmsd logged a warning. */
  overLimit: boolean;
  /** Why, for operators (health, the log, show_dms_status): set only when over the limit. */
  message: string | null;
  /** The last heartbeat of a dmsd on the primary that the replica replayed. */
  heartbeat: string | null;
  lastReplayedCommit: string | null;
  /** The WAL receiver's status (`streaming`), null when none runs (the primary is not reachable). */
  receiver: string | null;
  receivedLsn: string | null;
  replayedLsn: string | null;
  /** Received from the primary but not yet replayed (bytes). */
  replayBehindBytes: number;
  replayPaused: boolean;
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/** The lag state of this database when it is a hot standby; undefined on a primary (or SQLite). */
export async function replicationStatus(ctx: ServiceContext): Promise<ReplicationStatus | undefined> {
  const r = await standbyReplay(ctx.store);
  if (!r) return undefined;
  const limit = (await loadSettings(ctx.store.db)).ttl('replica_max_lag');
  const ms = replicaLagMs(r, ctx.clock.now().getTime());
  const lagSeconds = ms === null ? 0 : Math.round(ms / 100) / 10;
  const overLimit = lagSeconds > limit;
  const why: string[] = [];
  if (r.replayPaused) why.push('WAL replay is paused (pg_wal_replay_resume() continues it)');
  if (r.receiver !== 'streaming') why.push(`no WAL is streaming from the primary (receiver ${r.receiver ?? 'not running'})`);
  if (r.behindBytes > 0) why.push(`${mb(r.behindBytes)} received and not yet replayed`);
  const iso = (n: number | null) => (n === null ? null : new Date(n).toISOString());
  return {
    lagSeconds,
    limitSeconds: limit,
    overLimit,
    message: overLimit ? `replica ${Math.floor(lagSeconds)} s behind the primary (limit ${limit} s)${why.length ? `: ${why.join('; ')}` : ''}` : null,
    heartbeat: iso(r.heartbeat),
    lastReplayedCommit: iso(r.lastReplayedCommit),
    receiver: r.receiver,
    receivedLsn: r.received,
    replayedLsn: r.replayed,
    replayBehindBytes: r.behindBytes,
    replayPaused: r.replayPaused,
  };
}

export type StandbyInfo = StandbyRow;

/** A primary's standbys and their lag as PostgreSQL measures it (pg_stat_replication); [] on a standby or SQLite. */
export async function listStandbys(ctx: ServiceContext): Promise<StandbyInfo[]> {
  if (await inRecovery(ctx.store)) return [];
  return primaryStandbys(ctx.store);
}

export interface PromotionResult {
  /** pg_promote ran (false: -f on a database promoted by hand, only the epoch raised). */
  promoted: boolean;
  epoch: number;
  ms: number;
  /** The replica's state just before the promotion: how far behind it was, whether replay was paused. */
  before?: { lagSeconds: number; replayPaused: boolean; receivedLsn: string | null; replayedLsn: string | null; replayBehindBytes: number; receiver: string | null };
  /** Where recovery ended (the last WAL record replayed). */
  replayedLsn?: string | null;
  /** Every WAL record the standby had received before the promotion was replayed (PostgreSQL replays all it has). */
  allReceivedReplayed?: boolean;
}

/**
 * Promote the hot standby this context's store is connected to: pg_promote (waiting up to `waitSeconds` for the
 * end of recovery), then the fencing epoch is raised in the promoted database, so that the old primary's dmsd,
 * which compares its database's epoch with its peer's, refuses to lead once it sees this one (docs/HA.md). A
 * database already promoted by hand (pg_ctl promote) only gets its epoch raised — run it once after such a promotion.
 */
export async function promoteReplica(ctx: ServiceContext, o: { waitSeconds?: number; force?: boolean } = {}): Promise<PromotionResult> {
  if (!hasReplication(ctx.store)) throw new NotAReplica('SQLite has no replicas (one dmsd per database file)');
  const started = Date.now();
  const standby = await inRecovery(ctx.store);
  let before: PromotionResult['before'];
  if (standby) {
    // What is about to be promoted: how far behind, paused or not — reported, and checked after the end of recovery.
    const st = await replicationStatus(ctx);
    if (st)
      before = {
        lagSeconds: st.lagSeconds,
        replayPaused: st.replayPaused,
        receivedLsn: st.receivedLsn,
        replayedLsn: st.replayedLsn,
        replayBehindBytes: st.replayBehindBytes,
        receiver: st.receiver,
      };
    // A paused replay is resumed first: PostgreSQL ≥ 14 ends the pause on promotion anyway, older ones would wait
    // for it; either way the promotion replays every WAL record the standby received before it ends recovery.
    if (st?.replayPaused) await resumeReplay(ctx.store.db);
  }
  if (!standby) {
    const c = await selectCluster(ctx.store.db);
    // Already a primary: raising the epoch again would fence a healthy peer; only asked for with force (a standby
    // promoted by hand, whose epoch was never raised).
    if (!o.force) throw new NotAReplica(`the database is not in recovery (a primary at epoch ${c.epoch}); after promoting by hand, run promote_replica with force to raise the epoch`);
  } else if (!(await promoteStandby(ctx.store.db, o.waitSeconds ?? 60)))
    throw new NotAReplica(`pg_promote did not finish within ${o.waitSeconds ?? 60} s; the database is still in recovery`);
  // The first write of the new primary: the pooled connections may still be read-only for an instant after
  // pg_promote returns; a few tries.
  let epoch = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      epoch = await bumpEpoch(ctx.store.db, ctx.clock.now().getTime(), ctx.actor);
      break;
    } catch (e) {
      if (attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!standby) return { promoted: false, epoch, ms: Date.now() - started };
  const replayedLsn = await lastReplayed(ctx.store.db);
  const allReceivedReplayed = before?.receivedLsn && replayedLsn ? await lsnAtLeast(ctx.store.db, replayedLsn, before.receivedLsn) : undefined;
  return {
    promoted: true,
    epoch,
    ms: Date.now() - started,
    ...(before ? { before } : {}),
    replayedLsn,
    ...(allReceivedReplayed !== undefined ? { allReceivedReplayed } : {}),
  };
}

/** The peer site's database (docs/HA.md): is it a standby, and at which epoch. Throws when unreachable. */
export function peerDatabaseState(ctx: ServiceContext, url: string, timeoutMs = 2000): Promise<{ replica: boolean; epoch: number }> {
  return peerState(ctx.store, url, timeoutMs);
}
