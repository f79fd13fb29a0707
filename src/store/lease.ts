// The leader lease of several dmsd on one PostgreSQL (issue 13): a session-level advisory lock held on a connection
// of its own. PostgreSQL releases it the moment that session ends — the process killed (the kernel closes the
// socket), the connection dropped, the server restarted — so whoever tries next gets it. On the server side the
// session is told to notice a silent peer (a cut network) within about five seconds (TCP keepalives and
// tcp_user_timeout), after which the lock is free; the holder meanwhile notices its own loss by its heartbeat query
// failing or timing out (daemon/leader.ts), and stops leading before the server gives the lock away.

/** 'DMSLEAD' as a number: the advisory lock key of the leader lease (Kysely's migration lock uses another). */
export const LEADER_LOCK_KEY = '21257087096799556';

export interface Lease {
  /** Take the lock if it is free: true when this session holds it (also when it already did). */
  tryAcquire(): Promise<boolean>;
  /** A round trip on the lease's session; throws when the session is gone or did not answer within the timeout. */
  check(): Promise<void>;
  /** The session ended (the lock is gone with it): set by the connection's error/end events at once. */
  readonly lost: boolean;
  /** End the session (releasing the lock). */
  close(): Promise<void>;
}

export async function openPgLease(pg: typeof import('pg'), url: string, o: { timeoutMs: number; onLost: () => void; name?: string }): Promise<Lease> {
  const c = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: o.timeoutMs,
    query_timeout: o.timeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    // Seen in pg_stat_activity: an operator can find (and end) the lease session of an instance.
    application_name: o.name ?? 'dmsd leader lease',
  });
  let lost = false;
  const gone = () => {
    if (lost) return;
    lost = true;
    c.end().catch(() => {});
    o.onLost();
  };
  c.on('error', gone);
  c.on('end', gone);
  await c.connect();
  // The server notices a vanished client (no FIN: a cut cable, a frozen VM) within ~5 s and ends the session,
  // freeing the lock. Ignored on Unix sockets, where the kernel tells at once.
  for (const s of ['tcp_keepalives_idle = 2', 'tcp_keepalives_interval = 1', 'tcp_keepalives_count = 3', 'tcp_user_timeout = 5000'])
    await c.query(`set ${s}`).catch(() => {});
  let held = false;
  const guard = async <T>(f: () => Promise<T>): Promise<T> => {
    if (lost) throw new Error('the lease connection is gone');
    try {
      return await f();
    } catch (e) {
      // A timed-out query leaves the session in an unknown state: give it up (the lock with it).
      gone();
      throw e;
    }
  };
  return {
    async tryAcquire() {
      if (held) return true;
      const r = await guard(() => c.query<{ ok: boolean }>(`select pg_try_advisory_lock(${LEADER_LOCK_KEY}) as ok`));
      held = r.rows[0]?.ok === true;
      return held;
    },
    async check() {
      await guard(() => c.query('select 1'));
    },
    get lost() {
      return lost;
    },
    async close() {
      if (lost) return;
      lost = true;
      await c.end().catch(() => {});
    },
  };
}
