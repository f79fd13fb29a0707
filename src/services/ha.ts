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
  markLeader,
  peerState,
  promoteStandby,
  pruneInstances,
  selectCluster,
  selectInstances,
  upsertInstance,
} from '../store/queries/instances.js';
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
 * Promote the hot standby this context's store is connected to: pg_promote (waiting up to `waitSeconds` for the
 * end of recovery), then the fencing epoch is raised in the promoted database, so that the old primary's dmsd,
 * which compares its database's epoch with its peer's, refuses to lead once it sees this one (docs/HA.md). A
 * database already promoted by hand (pg_ctl promote) only gets its epoch raised — run it once after such a promotion.
 */
export async function promoteReplica(ctx: ServiceContext, o: { waitSeconds?: number; force?: boolean } = {}): Promise<{ promoted: boolean; epoch: number; ms: number }> {
  if (!hasReplication(ctx.store)) throw new NotAReplica('SQLite has no replicas (one dmsd per database file)');
  const started = Date.now();
  const standby = await inRecovery(ctx.store);
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
  return { promoted: standby, epoch, ms: Date.now() - started };
}

/** The peer site's database (docs/HA.md): is it a standby, and at which epoch. Throws when unreachable. */
export function peerDatabaseState(ctx: ServiceContext, url: string, timeoutMs = 2000): Promise<{ replica: boolean; epoch: number }> {
  return peerState(ctx.store, url, timeoutMs);
}
