// A PostgreSQL primary and a hot standby on loopback for the HA tests and bench (issue 13): the primary initdb'd in a
// temp dir, the standby made from it with pg_basebackup -R (streaming replication, hot_standby on). With `synchronous`
// the primary lists the standby in synchronous_standby_names and commits with synchronous_commit = on, so a commit
// returns only once the standby has it; without, replication is asynchronous. Binaries: the Debian postgresql
// package's (scripts/test-peers.mjs installs it): initdb, pg_ctl, pg_basebackup. Failure THROWS: never a skip.

import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { asPostgresUser, findBinDir, freePort } from './postgres.js';

export interface ReplicatedPostgres {
  primaryPort: number;
  standbyPort: number;
  /** postgres://… of database `db` on the primary / on the standby. */
  primaryUrl(db?: string): string;
  standbyUrl(db?: string): string;
  /** A new database made on the primary (replicated to the standby); returns its name. */
  createDatabase(): Promise<string>;
  /** Wait until the standby has replayed everything the primary has written so far. */
  waitReplayed(ms?: number): Promise<void>;
  /** Stop the primary cluster at once (pg_ctl -m immediate), as a site loss. */
  stopPrimary(): void;
  /**
   * Kill the primary abruptly without waiting: SIGQUIT to its postmaster (PostgreSQL's immediate shutdown: every
   * backend and WAL sender exits at once, nothing more is sent to the standby). Returns Date.now() at the signal.
   */
  killPrimary(): number;
  /** Run one statement on the standby / the primary (database `postgres`), returning the rows. */
  standbySql<R = Record<string, unknown>>(text: string): Promise<R[]>;
  primarySql<R = Record<string, unknown>>(text: string): Promise<R[]>;
  stop(): Promise<void>;
}

const SLOT = 'dms_standby';

async function once<R>(url: string, text: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as R[];
  } finally {
    await c.end();
  }
}

export async function startReplicatedPostgres(o: { synchronous?: boolean } = {}): Promise<ReplicatedPostgres> {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'dms-pg-ha-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const primaryData = join(dir, 'primary');
  const standbyData = join(dir, 'standby');
  const run = (cmd: string, args: string[], what: string) => {
    const r = asPostgresUser(join(bin, cmd), args);
    if (r.status !== 0) throw new Error(`${what} failed: ${r.out}`);
  };
  run('initdb', ['-D', primaryData, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], 'initdb');
  const primaryPort = await freePort();
  // fsync off: a thrown-away cluster; what is measured is replication, not the disk.
  const common = `-k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c wal_receiver_status_interval=1`;
  const sync = o.synchronous ? ` -c synchronous_standby_names=standby1 -c synchronous_commit=on` : ' -c synchronous_commit=on';
  const started: string[] = [];
  const stopCluster = (data: string) => asPostgresUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  const cleanup = () => {
    for (const d of started) stopCluster(d);
    started.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    run('pg_ctl', ['-D', primaryData, '-o', `-p ${primaryPort} ${common}${sync}`, '-l', join(dir, 'primary.log'), '-w', '-t', '60', 'start'], 'pg_ctl start (primary)');
    started.push(primaryData);
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${primaryPort}/postgres` });
    await admin.connect();
    // A physical slot: the primary keeps the WAL the standby has not received (a standby never falls off the end).
    await admin.query(`select pg_create_physical_replication_slot('${SLOT}')`);
    await admin.end();
    run(
      'pg_basebackup',
      ['-D', standbyData, '-d', `host=127.0.0.1 port=${primaryPort} user=postgres application_name=standby1`, '-R', '-S', SLOT, '-X', 'stream', '--no-sync'],
      'pg_basebackup',
    );
    // -R wrote primary_conninfo; name the standby for synchronous_standby_names (the last setting wins).
    appendFileSync(standbyData + '/postgresql.auto.conf', `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=standby1'\nprimary_slot_name = '${SLOT}'\n`);
    const standbyPort = await freePort();
    run('pg_ctl', ['-D', standbyData, '-o', `-p ${standbyPort} ${common}`, '-l', join(dir, 'standby.log'), '-w', '-t', '60', 'start'], 'pg_ctl start (standby)');
    started.push(standbyData);
    const url = (port: number, db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
    const primaryUrl = (db?: string) => url(primaryPort, db);
    const standbyUrl = (db?: string) => url(standbyPort, db);
    // The standby streams before we go on.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const c = new pg.Client({ connectionString: primaryUrl() });
      await c.connect();
      const r = await c.query<{ n: string }>(`select count(*) as n from pg_stat_replication where state = 'streaming'`);
      await c.end();
      if (Number(r.rows[0]?.n) > 0) break;
      if (Date.now() > deadline) throw new Error('the standby does not stream');
      await new Promise((res) => setTimeout(res, 100));
    }
    return {
      primaryPort,
      standbyPort,
      primaryUrl,
      standbyUrl,
      async createDatabase() {
        const name = `dms_ha_${Math.random().toString(16).slice(2, 10)}`;
        const c = new pg.Client({ connectionString: primaryUrl() });
        await c.connect();
        await c.query(`create database ${name}`);
        await c.end();
        return name;
      },
      async waitReplayed(ms = 20_000) {
        const p = new pg.Client({ connectionString: primaryUrl() });
        await p.connect();
        const lsn = (await p.query<{ l: string }>('select pg_current_wal_lsn()::text as l')).rows[0].l;
        await p.end();
        const s = new pg.Client({ connectionString: standbyUrl() });
        await s.connect();
        try {
          const end = Date.now() + ms;
          for (;;) {
            const r = await s.query<{ ok: boolean }>(`select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as ok`);
            if (r.rows[0]?.ok) return;
            if (Date.now() > end) throw new Error('the standby did not catch up');
            await new Promise((res) => setTimeout(res, 20));
          }
        } finally {
          await s.end();
        }
      },
      killPrimary() {
        const pid = Number(readFileSync(join(primaryData, 'postmaster.pid'), 'utf8').split('\n')[0]);
        const at = Date.now();
        process.kill(pid, 'SIGQUIT');
        return at;
      },
      standbySql: (text) => once(standbyUrl(), text),
      primarySql: (text) => once(primaryUrl(), text),
      stopPrimary() {
        stopCluster(primaryData);
        const i = started.indexOf(primaryData);
        if (i >= 0) started.splice(i, 1);
      },
      async stop() {
        cleanup();
        process.removeListener('exit', cleanup);
      },
    };
  } catch (e) {
    cleanup();
    process.removeListener('exit', cleanup);
    throw e;
  }
}
