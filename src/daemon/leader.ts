// Which dmsd does the once-only work (issue 13, docs/HA.md). Every dmsd serves DNS and the API; exactly one — the
// leader — runs the event queue (NOTIFY), the server-group tasks and health checks, the DNSSEC signer and its
// rollovers, and the vacuum. The lease is a PostgreSQL advisory lock held on a session of its own (store/lease.ts):
// when the leader dies its session ends and the lock is free at once; a follower tries every round (1 s) and leads
// from the round it gets it. A leader that loses its session (error/end event) or whose heartbeat query fails or
// times out stops leading at once: `leading` turns false before anything else happens, and every round of leader
// work checks it first, so a leader cut off from the database sends no further NOTIFY and signs nothing.
//
// A dmsd on a hot standby (pg_is_in_recovery()) is a replica: it serves (the change feed is polled, as LISTEN does
// not work during recovery), refuses changes (SQLSTATE 25006 → READ_ONLY_REPLICA) and never leads. When its database
// is promoted it notices at the next round, becomes a primary instance and competes for the lease. Each round a
// replica also measures how far behind its primary it is (services.replicationStatus, fed by the heartbeats the
// primary's instances write into dms_instances every round): a warning when the lag crosses replica_max_lag, a note
// when it is back, and the lag handed to the caller (zones past their SOA EXPIRE are answered SERVFAIL).
//
// Fencing: with --peer-database-url (the other site's database), a primary instance reads the peer's recovery state
// and epoch each round; when the peer is a primary too with a higher epoch (it was promoted: promote_replica raised
// the epoch there), this database is the superseded old primary: this dmsd refuses to lead (and to accept UPDATEs).
// A peer that cannot be reached changes nothing (the peer site may simply be down).
//
// SQLite: one dmsd per database file (the file is not shared across hosts): that dmsd always leads; it registers
// itself all the same, so show_dms_status looks the same on both backends.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import type { Lease } from '../store/lease.js';

export interface Leadership {
  /** This instance holds the lease now: checked before every round of leader work. */
  readonly leading: boolean;
  /** The database is a hot standby: serve only. */
  readonly replica: boolean;
  /** A newer site (higher epoch) is a primary: this database is stale; no leading, no UPDATEs. */
  readonly fenced: boolean;
  /** On a replica: how far behind the primary (measured every round); undefined on a primary. */
  readonly replication: services.ReplicationStatus | undefined;
  readonly id: string;
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** Between rounds (lease attempts, heartbeats); default 1000 ms. */
  intervalMs?: number;
  /** A heartbeat slower than this counts as a lost session; default 3000 ms. */
  timeoutMs?: number;
  /** The other site's database URL (fencing). */
  peerUrl?: string;
  /** Became the leader: start the leader work. */
  onLead(): Promise<void>;
  /** No longer the leader (`why` for the log): stop the leader work. `leading` is already false. */
  onStepDown(why: string): Promise<void>;
  /** The database left recovery (promoted): the caller may, e.g., run the import it skipped. */
  onPromoted?(): void | Promise<void>;
  /** Fenced or no longer (--workers: the supervisor tells its workers, which then refuse UPDATEs too). */
  onFenced?(fenced: boolean): void;
  /** A replica's lag, every round (undefined: a primary again); the caller serves expired zones SERVFAIL. */
  onReplication?(status: services.ReplicationStatus | undefined): void;
}

export async function startLeadership(store: Store, log: Logger, o: LeadershipOptions): Promise<Leadership> {
  const ctx = services.serviceContext(store, { actor: 'dmsd' });
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const started = Date.now();
  const interval = o.intervalMs ?? 1000;
  const timeoutMs = o.timeoutMs ?? 3000;
  let leading = false;
  let leaderSince: number | null = null;
  let replica = false;
  let fenced = false;
  let epoch = 1;
  let lease: Lease | undefined;
  let stopped = false;
  let replication: services.ReplicationStatus | undefined;
  // A replica's lag, measured each round: a warning when it crosses the limit (replica_max_lag), a note when back.
  const measureLag = async () => {
    const st = await services.replicationStatus(ctx).catch((e) => {
      log.debug({ err: (e as Error).message }, 'replication lag not measured');
      return replication;
    });
    if (st?.overLimit && !replication?.overLimit) log.warn({ instance: id, lagSeconds: st.lagSeconds, limitSeconds: st.limitSeconds, replayPaused: st.replayPaused, receiver: st.receiver }, st.message ?? 'replica behind');
    else if (st && !st.overLimit && replication?.overLimit)
      log.info({ instance: id, lagSeconds: st.lagSeconds, limitSeconds: st.limitSeconds }, `replica caught up: ${st.lagSeconds} s behind the primary (limit ${st.limitSeconds} s)`);
    replication = st;
    o.onReplication?.(st);
  };
  // Leader work starts and stops one after the other, never overlapping.
  let transitions: Promise<void> = Promise.resolve();
  const stepDown = (why: string) => {
    if (!leading) return;
    leading = false;
    leaderSince = null;
    log.warn({ instance: id, why }, 'leader lease lost: leader work stopped');
    transitions = transitions.then(() => o.onStepDown(why)).catch((e) => log.error({ err: (e as Error).message }, 'stopping the leader work failed'));
  };
  const lead = () => {
    leading = true;
    leaderSince = Date.now();
    log.info({ instance: id, epoch }, 'leader lease taken: this dmsd leads');
    transitions = transitions.then(() => (leading ? o.onLead() : undefined)).catch((e) => log.error({ err: (e as Error).message }, 'starting the leader work failed'));
  };
  const dropLease = async () => {
    const l = lease;
    lease = undefined;
    await l?.close();
  };

  const round = async (): Promise<void> => {
    // 1. Primary or standby (a promotion turns one into the other).
    let nowReplica: boolean;
    try {
      nowReplica = await services.isReplica(ctx);
    } catch (e) {
      // The database cannot be reached through the pool: the lease session is most likely gone too; check it.
      if (lease) await lease.check().catch(() => {});
      if (lease?.lost !== false) stepDown(`database unreachable: ${(e as Error).message}`);
      return;
    }
    if (nowReplica !== replica) {
      if (replica) {
        log.warn({ instance: id }, 'the database left recovery (promoted): this dmsd is now on a primary');
        await o.onPromoted?.();
      } else log.info({ instance: id }, 'the database is a hot standby: serving read-only, no leader work');
      replica = nowReplica;
    }
    if (replica) {
      stepDown('the database is a hot standby');
      await dropLease();
      await measureLag();
      return;
    }
    if (replication) {
      replication = undefined;
      o.onReplication?.(undefined);
    }
    epoch = (await services.clusterState(ctx).catch(() => undefined))?.epoch ?? epoch;
    // 2. Fencing against the peer site.
    if (o.peerUrl) {
      try {
        const peer = await services.peerDatabaseState(ctx, o.peerUrl, timeoutMs);
        const nowFenced = !peer.replica && peer.epoch > epoch;
        if (nowFenced && !fenced)
          log.error(
            { instance: id, epoch, peerEpoch: peer.epoch },
            'fenced: the peer database is a primary at a newer epoch (it was promoted); this database is the old primary — not leading, UPDATEs refused; rebuild it as a standby of the new primary (docs/HA.md)',
          );
        else if (!nowFenced && fenced) log.warn({ instance: id, epoch, peerEpoch: peer.epoch }, 'no longer fenced');
        if (nowFenced !== fenced) o.onFenced?.(nowFenced);
        fenced = nowFenced;
      } catch {
        // The peer site may be down: nothing learnt; keep the last verdict.
      }
    }
    if (fenced) {
      stepDown('fenced by a newer primary');
      await dropLease();
    }
    // 3. The lease: keep it (heartbeat on its session) or try to take it.
    if (!fenced) {
      try {
        if (lease?.lost) lease = undefined;
        lease ??= await store.openLease!({ timeoutMs, onLost: () => stepDown('lease session ended'), name: `dmsd lease ${id}` });
        if (leading) await lease.check();
        else if (await lease.tryAcquire()) lead();
      } catch (e) {
        stepDown(`lease check failed: ${(e as Error).message}`);
        await dropLease();
      }
    }
    // 4. Report (the table is informational; the lock decides). Not awaited by the round: a write can hang (a
    // synchronous primary whose standby is gone waits for it), and the lease must keep being checked meanwhile.
    if (!reporting) reporting = report().finally(() => {
      reporting = undefined;
    });
  };
  let reporting: Promise<void> | undefined;
  const report = async (): Promise<void> => {
    try {
      await services.recordInstance(ctx, { id, host: hostname(), pid: process.pid, started, mode: 'primary', is_leader: leading ? 1 : 0, leader_since: leaderSince, epoch });
      if (leading && leaderSince !== null && !reported) {
        await services.recordLeader(ctx, id, leaderSince);
        reported = true;
        await services.pruneStaleInstances(ctx);
      }
      if (!leading) reported = false;
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'instance heartbeat not recorded');
    }
  };
  let reported = false;

  if (store.kind === 'sqlite' || !store.openLease) {
    // One dmsd per SQLite file: it leads.
    leading = true;
    leaderSince = Date.now();
    log.info({ instance: id }, 'this dmsd leads (SQLite: one dmsd per database file)');
    await services.recordInstance(ctx, { id, host: hostname(), pid: process.pid, started, mode: 'primary', is_leader: 1, leader_since: leaderSince, epoch: 1 }).catch(() => {});
    await services.recordLeader(ctx, id, leaderSince).catch(() => {});
    transitions = transitions.then(() => o.onLead()).catch((e) => log.error({ err: (e as Error).message }, 'starting the leader work failed'));
    const beat = setInterval(() => {
      void services
        .recordInstance(ctx, { id, host: hostname(), pid: process.pid, started, mode: 'primary', is_leader: 1, leader_since: leaderSince, epoch: 1 })
        .catch(() => {});
    }, 30_000);
    beat.unref();
    return {
      get leading() {
        return leading;
      },
      replica: false,
      fenced: false,
      replication: undefined,
      id,
      stop: async () => {
        clearInterval(beat);
        leading = false;
        await transitions.then(() => o.onStepDown('stopping'));
        await services.forgetInstance(ctx, id).catch(() => {});
      },
    };
  }

  await round().catch((e) => log.error({ err: (e as Error).message }, 'leader round failed'));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round()
        .catch((e) => log.error({ err: (e as Error).message }, 'leader round failed'))
        .finally(schedule);
    }, interval);
  };
  schedule();
  return {
    get leading() {
      return leading;
    },
    get replica() {
      return replica;
    },
    get fenced() {
      return fenced;
    },
    get replication() {
      return replication;
    },
    id,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      const was = leading;
      leading = false;
      if (was) await transitions.then(() => o.onStepDown('stopping'));
      await transitions;
      await dropLease();
      if (!replica) await services.forgetInstance(ctx, id).catch(() => {});
    },
  };
}
