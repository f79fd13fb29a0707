// Opening the store: where it lives (flags > environment > config file > ./data), the dialect, pragmas, migrations.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, type FSWatcher, mkdirSync, openSync, readFileSync, readSync, watch, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type CompiledQuery, Kysely, type MigrationProvider, Migrator, PostgresDialect, SqliteDialect, type Transaction, sql } from 'kysely';
import { type Dialect, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { type Lease, openPgLease } from './lease.js';

export interface StoreOptions {
  /** Directory holding the SQLite file (dms.sqlite) when no database URL is given. */
  dataDir: string;
  /** postgres://… — selects PostgreSQL. */
  databaseUrl?: string;
  /** The DNSSEC key-encryption key file when named (flag, DMS_DNSSEC_KEK, config dnssec_kek); see services/kek.ts. */
  dnssecKek?: string;
}

/** What `dmsd` and `zone_tool` accept on their command lines. */
export interface StoreLocationArgs {
  data?: string;
  databaseUrl?: string;
  config?: string;
  /** The DNSSEC key-encryption key file (services/kek.ts); not part of the store, resolved beside it. */
  dnssecKek?: string;
}

/** Prepared statements kept per SQL text (a bounded number, least recently used dropped). */
const STATEMENT_CACHE = 256;

/**
 * The database as Kysely's SQLite driver sees it, with prepared statements reused: the driver prepares every query it
 * runs, which costs more than running a short one (an RFC 2136 update runs about twenty). Safe because the driver
 * runs one query at a time on its one connection (a streamed query holds it until the end).
 */
function reusingStatements(database: BetterSqlite3.Database): { prepare(sql: string): BetterSqlite3.Statement; close(): void } {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text: string) {
      let st = cache.get(text);
      if (st !== undefined) {
        cache.delete(text);
        cache.set(text, st);
        return st;
      }
      st = database.prepare(text);
      cache.set(text, st);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      return st;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}

type StatementSource = ReturnType<typeof reusingStatements>;
const statementSources = new WeakMap<BetterSqlite3.Database, StatementSource>();

/**
 * The query builders (a transaction's, or the connection writeTx holds) that have the SQLite connection to themselves
 * until they end, with the connection's statements: a prepared statement (prepared.ts) run through one of them may
 * run on the connection directly, since no other query can come between — Kysely's driver holds its one connection
 * for the whole transaction.
 */
const heldConnections = new WeakMap<object, StatementSource>();

/** A change-feed row (zone_changes) as committed. */
export interface CommittedFeedRow {
  seq: number;
  zone_id: number;
  zone_name: string;
  kind: string;
  version: number | null;
  at: number;
}

/** The feed rows appended so far by the open writeTx holding this connection (SQLite) or transaction (PostgreSQL). */
const openFeedRows = new WeakMap<object, CommittedFeedRow[]>();
/** Feed rows appended outside a writeTx's own connection: a writeTx during which this moves hands none on. */
let strayFeedRows = 0;

/**
 * Note a feed row appended in transaction `trx` (SQLite): writeTx hands its rows to this process's followers after
 * the commit. A row appended through any other query builder makes the open writeTx hand none (its list could be
 * incomplete; the followers read the feed as before).
 */
export function noteFeedRow(trx: object, row: CommittedFeedRow): void {
  const rows = openFeedRows.get(trx);
  if (rows) rows.push(row);
  else strayFeedRows++;
}

/**
 * The feed rows appended so far in the open write transaction `trx` (writeTx), in order: a caller that committed a
 * change it also applies itself tells its followers which rows it handled (daemon/zones.ts).
 */
export function feedRowsOf(trx: object): readonly CommittedFeedRow[] {
  return openFeedRows.get(trx) ?? [];
}

/** A SQLite store's own query builder (store.db), with its connection and statements. */
const storeConnections = new WeakMap<object, { database: BetterSqlite3.Database; statements: StatementSource }>();

/**
 * The SQLite statements of `db` when a statement may run on its connection directly, else undefined: inside
 * readTx/writeTx (the transaction holds the connection), or on the store's own query builder while no transaction is
 * open on the connection (autocommit: a statement is its own transaction, as through the driver). Not while a
 * transaction run through Kysely is between two statements: that one waits, as Kysely's driver would make it.
 */
export function heldSqlite(db: object): StatementSource | undefined {
  const held = heldConnections.get(db);
  if (held) return held;
  const own = storeConnections.get(db);
  return own && !own.database.inTransaction ? own.statements : undefined;
}

async function holding<T>(store: Store, db: object, fn: () => Promise<T>): Promise<T> {
  const source = store.sqlite ? statementSources.get(store.sqlite) : undefined;
  if (!source) return fn();
  heldConnections.set(db, source);
  try {
    return await fn();
  } finally {
    heldConnections.delete(db);
  }
}

/** Longest run of database statements without a turn of the event loop (SQLite; ms). */
const SLICE_MS = 20;
let sliceArmed = false;
let sliceStart = 0;

/**
 * Undefined while the current run of work is younger than SLICE_MS, else a promise that resolves after the event loop
 * has had a turn. A run starts at the first statement after a turn: a setImmediate armed then tells that a turn came.
 */
export function loopTurnDue(): Promise<void> | undefined {
  const now = performance.now();
  if (!sliceArmed) {
    sliceArmed = true;
    sliceStart = now;
    setImmediate(() => {
      sliceArmed = false;
    });
    return undefined;
  }
  if (now - sliceStart < SLICE_MS) return undefined;
  return new Promise((resolve) => setImmediate(resolve));
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface Store {
  readonly kind: Dialect;
  readonly db: Db;
  /** The SQLite file path or the PostgreSQL URL without its password. */
  readonly location: string;
  /** The SQLite connection Kysely uses, for the few hot paths that need prepared statements (bulk inserts). */
  readonly sqlite?: BetterSqlite3.Database;
  /** PostgreSQL only: the full connection URL (with its password), for pg_dump / pg_restore (store/backup.ts). */
  readonly connectionUrl?: string;
  /**
   * PostgreSQL only: call `onNotify` whenever a transaction that ran `pg_notify(channel, …)` commits (LISTEN on a
   * connection of its own, reconnected after failures; `onNotify` is also called after each reconnect, as
   * notifications sent meanwhile are lost). Resolves once the first attempt to listen is over (a failed one is
   * retried in the background); the returned function stops it.
   */
  readonly listen?: (channel: string, onNotify: (own?: readonly CommittedFeedRow[]) => void) => Promise<() => Promise<void>>;
  /**
   * PostgreSQL only: a session of its own holding the leader lease (store/lease.ts); `onLost` is called at once when
   * the session ends. SQLite has one dmsd per database file: no lease, that dmsd leads.
   */
  readonly openLease?: (o: { timeoutMs: number; onLost: () => void; name?: string }) => Promise<Lease>;
  /** PostgreSQL only: run `sql` (a read) on a database given by URL, with one connection opened for it (the peer's). */
  readonly queryOther?: <R>(url: string, text: string, timeoutMs: number) => Promise<R[]>;
  /**
   * Called by writeTx after each commit (SQLite: rings the doorbell, see sqliteDoorbell), with the change-feed rows the
   * transaction appended when all of them are known (this process's followers then need not read them back).
   */
  readonly afterCommit?: (own?: readonly CommittedFeedRow[]) => void;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'dms.sqlite';

/**
 * The entries of a `--config FILE`: JSON ({"data": "...", "database_url": "..."}) or `key = value` lines (# comments;
 * dashes in keys read as underscores). dmsd reads its other settings (rrl_*, dns_cookie_*) from the same file.
 */
export function readConfigEntries(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read configuration file ${path}: ${(e as Error).message}`);
  }
  let obj: Record<string, unknown> = {};
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      obj = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`configuration file ${path} is not valid JSON: ${(e as Error).message}`);
    }
  }
  else
    for (const line of text.split('\n')) {
      const l = line.replace(/#.*$/, '').trim();
      const m = /^([A-Za-z_][\w-]*)\s*[=:]\s*(.*)$/.exec(l);
      if (m) obj[m[1].replace(/-/g, '_')] = m[2].replace(/^["']|["']$/g, '');
    }
  return obj;
}

/** The store's keys of `--config FILE`: data / data_dir, database_url, dnssec_kek. */
function readConfigFile(path: string): { data?: string; databaseUrl?: string; dnssecKek?: string } {
  const obj = readConfigEntries(path);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    data: str(obj.data) ?? str(obj.data_dir),
    databaseUrl: str(obj.database_url) ?? str(obj.databaseUrl),
    dnssecKek: str(obj.dnssec_kek) ?? str(obj.dnssecKek),
  };
}

export function resolveStoreOptions(args: StoreLocationArgs, env: NodeJS.ProcessEnv = process.env): StoreOptions {
  const file = args.config ? readConfigFile(args.config) : {};
  const dataDir = args.data ?? env.DMS_DATA_DIR ?? file.data ?? './data';
  const databaseUrl = args.databaseUrl ?? env.DMS_DATABASE_URL ?? file.databaseUrl;
  const dnssecKek = args.dnssecKek ?? env.DMS_DNSSEC_KEK ?? file.dnssecKek;
  return { dataDir: resolve(dataDir), ...(databaseUrl ? { databaseUrl } : {}), ...(dnssecKek ? { dnssecKek: resolve(dnssecKek) } : {}) };
}

/** Distinct SQL texts given a name as prepared statements on PostgreSQL; the texts seen after these run unnamed. */
const NAMED_STATEMENTS = 1024;
/** A statement with more parameters than this (a bulk insert, a long IN list) is rare enough to stay unnamed. */
const NAMED_MAX_PARAMETERS = 64;

/**
 * The PostgreSQL pool as Kysely's driver sees it, with each parameterized statement run as a named prepared statement:
 * PostgreSQL then parses and analyzes its text once per connection instead of at every run (node-pg sends an unnamed
 * statement's text each time). A signed UPDATE makes ~70 short statements, so this is most of what a statement costs
 * beyond its round trip. The names are per process and bounded (NAMED_STATEMENTS): each connection holds at most that
 * many. Statements without parameters (BEGIN, COMMIT, DDL) keep the simple protocol.
 *
 * A prepared statement can go stale under a running process: a migration (another dmsd's upgrade) changed the columns
 * of a `select *` ("cached plan must not change result type"), or a pooler dropped the statements. Such a connection
 * is closed when released (the next one prepares afresh), and the statement, when it ran outside a transaction, runs
 * again unnamed; inside one, the transaction has failed and its error goes to the caller, as any other would.
 */
function namingStatements(pool: import('pg').Pool): { connect(): Promise<import('pg').PoolClient>; end(): Promise<void> } {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_STATEMENTS) {
      name = `dms_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  const stale = (e: unknown) => {
    const { code, message } = e as { code?: string; message?: string };
    return code === '26000' || (code === '0A000' && /cached plan must not change result type/.test(message ?? ''));
  };
  /** Per connection: in a transaction now (BEGIN seen, no COMMIT/ROLLBACK since), holding a stale statement. */
  const states = new WeakMap<object, { inTx: boolean; stale: boolean }>();
  return {
    connect: async () => {
      const client = await pool.connect();
      let st = states.get(client);
      if (!st) {
        const state = { inTx: false, stale: false };
        st = state;
        states.set(client, state);
        const run = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        (client as { query: unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
          if (typeof text !== 'string' || !Array.isArray(values) || rest.length > 0) return run(text, values, ...rest);
          if (values.length === 0) {
            if (/^\s*(begin|start)/i.test(text)) state.inTx = true;
            else if (/^\s*(commit|rollback|end)/i.test(text)) state.inTx = false;
            return run(text, values);
          }
          const name = values.length <= NAMED_MAX_PARAMETERS ? nameOf(text) : undefined;
          if (name === undefined) return run(text, values);
          return run({ name, text, values }).catch((e: unknown) => {
            if (!stale(e)) throw e;
            state.stale = true;
            if (state.inTx) throw e;
            return run(text, values);
          });
        };
      }
      const state = st;
      const release = client.release.bind(client);
      client.release = (err?: Error | boolean) => release(state.stale ? true : err);
      return client;
    },
    end: () => pool.end(),
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  let db: Db;
  let kind: Dialect;
  let location: string;
  let sqliteDb: BetterSqlite3.Database | undefined;
  let listen: Store['listen'];
  let openLease: Store['openLease'];
  let queryOther: Store['queryOther'];
  let afterCommit: Store['afterCommit'];
  let closeBell: (() => void) | undefined;
  // Closing the store ends the LISTEN connections a caller forgot to stop (they would keep the process alive).
  const listeners = new Set<() => Promise<void>>();
  if (opts.databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(opts.databaseUrl))
      throw new Error(`unsupported database URL "${redact(opts.databaseUrl)}": expected postgres://… (without one, SQLite in the data directory is used)`);
    kind = 'postgres';
    location = redact(opts.databaseUrl);
    // pg is loaded only for PostgreSQL: it costs ~0.4 s of start-up that every one-shot zone_tool on SQLite would pay.
    // require, not import(): the zone_tool bundle runs as a cached script, where a dynamic import() cannot load.
    const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
    const int8 = (v: string) => Number(v);
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: 10,
      // bigint columns hold times in ms and serials (< 2^53): numbers, not strings.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? int8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle pooled connection that dies (server restart, failover) is discarded by the pool; without a listener
    // the 'error' event would crash the process. The next query gets a fresh connection or a real error.
    pool.on('error', () => {});
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: namingStatements(pool) }) });
    const url = opts.databaseUrl;
    openLease = (o) => openPgLease(pg, url, o);
    queryOther = async <R>(other: string, text: string, timeoutMs: number): Promise<R[]> => {
      const c = new pg.Client({ connectionString: other, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
      c.on('error', () => {});
      try {
        await c.connect();
        return (await c.query(text)).rows as R[];
      } finally {
        await c.end().catch(() => {});
      }
    };
    listen = async (channel, onNotify) => {
      const stop = await listenOnPostgres(pg, url, channel, onNotify);
      listeners.add(stop);
      return async () => {
        listeners.delete(stop);
        await stop();
      };
    };
  } else {
    kind = 'sqlite';
    mkdirSync(opts.dataDir, { recursive: true });
    location = join(opts.dataDir, SQLITE_FILE);
    const database = new BetterSqlite3(location);
    database.pragma('journal_mode = WAL');
    // "What was acknowledged survives kill -9" — and a power cut: every commit is fsynced.
    database.pragma('synchronous = FULL');
    database.pragma('busy_timeout = 15000');
    database.pragma('foreign_keys = ON');
    // Reads through a memory map of the file instead of read() calls into a per-connection cache that starts empty:
    // a one-shot zone_tool reading a page of a large store saves most of its query time. Writes still go through
    // write() and the WAL (SQLite's default), so durability is unchanged. SQLite caps the size at its compile-time
    // limit.
    database.pragma('mmap_size = 17179869184');
    const statements = reusingStatements(database);
    statementSources.set(database, statements);
    db = new Kysely<Database>({
      dialect: new SqliteDialect({
        database: statements,
        // better-sqlite3 runs each statement synchronously: a long chain of awaited statements (taking in thousands of
        // new zones, queueing their NOTIFYs, a catalog of 10,000 members) only ever yields to microtasks, so the DNS
        // sockets' callbacks did not run for tens of seconds (bench/sg.mjs: 68.8 s without an answer). Every statement
        // first gives the event loop a turn once the chain has run SLICE_MS without one. Kysely's connection mutex
        // holds a transaction's connection meanwhile, so no other statement enters it.
        onCreateConnection: async (conn) => {
          const run = conn.executeQuery.bind(conn);
          conn.executeQuery = async <R>(q: CompiledQuery) => {
            const pause = loopTurnDue();
            if (pause) await pause;
            return run<R>(q);
          };
        },
      }),
    });
    sqliteDb = database;
    storeConnections.set(db, { database, statements });
    const bell = sqliteDoorbell(opts.dataDir);
    listen = bell.listen;
    afterCommit = bell.ring;
    closeBell = bell.close;
  }
  try {
    if (kind === 'postgres') {
      try {
        await sql`select 1`.execute(db);
      } catch (e) {
        throw new Error(`cannot connect to PostgreSQL at ${location}: ${(e as Error).message}`);
      }
    }
    const provider = migrationProvider(kind);
    if (!(await isMigrated(db, provider))) await migrate(db, kind, provider);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    kind,
    db,
    location,
    ...(sqliteDb ? { sqlite: sqliteDb } : {}),
    listen,
    ...(openLease ? { openLease } : {}),
    ...(queryOther ? { queryOther } : {}),
    ...(afterCommit ? { afterCommit } : {}),
    ...(opts.databaseUrl ? { connectionUrl: opts.databaseUrl } : {}),
    close: async () => {
      await Promise.all([...listeners].map((stop) => stop()));
      listeners.clear();
      closeBell?.();
      await db.destroy();
    },
  };
}

/** The directory, beside the database, holding only the doorbell file (see sqliteDoorbell). */
export const SQLITE_DOORBELL_DIR = 'dms.doorbell.d';
export const SQLITE_DOORBELL = 'doorbell';

/**
 * SQLite's stand-in for LISTEN/NOTIFY: after every write transaction commits, the committing process calls its own
 * listeners directly and writes its token into a "doorbell" file; every other process with a listener watches the
 * doorbell's directory (inotify) and is called when that file is written. The write comes after the commit, so
 * whoever is woken sees the commit (watching the WAL itself would wake readers before the commit is visible).
 * Listeners poll the change feed, which stays the truth: a lost ring costs only the poll interval.
 *
 * The doorbell has a directory of its own: a watch on the data directory itself was told of every write SQLite made
 * to the WAL (an inotify event queued in each of a commit's ~26 writes, and a callback per commit), which cost every
 * UPDATE ~12 µs inside its commit and a callback after it (measured, session 25).
 * The listener (services/feed.ts SharedFeed) paces what it does with the rings.
 */
function sqliteDoorbell(dataDir: string): {
  listen: NonNullable<Store['listen']>;
  ring: (own?: readonly CommittedFeedRow[]) => void;
  close: () => void;
} {
  const local = new Set<(own?: readonly CommittedFeedRow[]) => void>();
  let watcher: FSWatcher | undefined;
  let fd: number | undefined;
  let broken = false;
  // Each ring writes this store's own token: the watcher then tells our own rings (whose listeners ring() called
  // already) from other processes' — without it every commit woke this process's followers twice.
  const token = randomBytes(8);
  const seen = Buffer.alloc(8);
  const dir = join(dataDir, SQLITE_DOORBELL_DIR);
  const path = join(dir, SQLITE_DOORBELL);
  let closed = false;
  // The doorbell's directory is made inside the data directory, never the data directory itself: a ring after the
  // store was closed and its directory removed (a throwaway store) must not bring the directory back.
  const makeDir = () => {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  };
  const open = (): number => {
    makeDir();
    return openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  };
  const callAll = (own?: readonly CommittedFeedRow[]) => {
    for (const f of [...local]) {
      try {
        f(own);
      } catch {
        // A listener's failure is its own; the others are still called.
      }
    }
  };
  const ownRing = (): boolean => {
    try {
      fd ??= open();
      return readSync(fd, seen, 0, 8, 0) === 8 && seen.equals(token);
    } catch {
      return false;
    }
  };
  return {
    async listen(_channel, onNotify) {
      local.add(onNotify);
      if (!watcher) {
        try {
          makeDir();
          watcher = watch(dir, { persistent: false }, (_event, file) => {
            // Two commits close together may leave one event, or the last token ours: a foreign commit hidden so is
            // found by the followers' interval poll.
            if (file === SQLITE_DOORBELL && !ownRing()) callAll();
          });
          watcher.on('error', () => {
            watcher?.close();
            watcher = undefined;
          });
        } catch {
          // No inotify (or the directory went away): the feed's interval poll still finds every change.
        }
      }
      return async () => {
        local.delete(onNotify);
        if (local.size === 0) {
          watcher?.close();
          watcher = undefined;
        }
      };
    },
    ring(own) {
      callAll(own);
      if (broken || closed) return;
      try {
        fd ??= open();
        writeSync(fd, token, 0, 8, 0);
      } catch {
        broken = true; // a read-only data directory: other processes fall back to their interval
      }
    },
    close() {
      closed = true;
      watcher?.close();
      watcher = undefined;
      local.clear();
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** LISTEN on a dedicated client (a pooled connection cannot hold a LISTEN); see Store.listen. */
async function listenOnPostgres(
  pg: typeof import('pg'),
  url: string,
  channel: string,
  onNotify: () => void,
): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad LISTEN channel name "${channel}"`);
  let stopped = false;
  let client: import('pg').Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    const lost = () => {
      if (client !== c) return;
      client = undefined;
      c.end().catch(() => {});
      if (!stopped) retry = setTimeout(() => void reconnect(), 1000);
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (m) => {
      if (m.channel === channel) onNotify();
    });
    await c.connect();
    await c.query(`LISTEN ${channel}`);
    client = c;
  };
  const reconnect = async (): Promise<void> => {
    if (stopped) return;
    try {
      await connect();
      onNotify();
    } catch {
      if (!stopped) retry = setTimeout(() => void reconnect(), 1000);
    }
  };
  try {
    await connect();
  } catch {
    // Not listening yet: keep trying in the background; the caller's polling covers the gap.
    retry = setTimeout(() => void reconnect(), 1000);
  }
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}

/**
 * The common case at start-up: the newest migration we know is the newest one applied. One indexed read instead of
 * the Migrator's table inspection (which costs a one-shot zone_tool several ms). Anything else — a fresh database,
 * an older schema, a newer one written by a later DMS — goes through the Migrator, which applies or reports it.
 */
async function isMigrated(db: Db, provider: MigrationProvider): Promise<boolean> {
  const names = Object.keys(await provider.getMigrations()).sort();
  try {
    const r = await sql<{ name: string }>`select max(name) as name from kysely_migration`.execute(db);
    return r.rows[0]?.name === names[names.length - 1];
  } catch {
    return false; // no migration table yet
  }
}

async function migrate(db: Db, kind: Dialect, provider: MigrationProvider): Promise<void> {
  const migrator = new Migrator({ db, provider });
  // Two processes opening a fresh SQLite file at once (dmsd and zone_tool) race for the migration: the loser gets
  // BUSY or finds the work done; it tries again. (On PostgreSQL Kysely serialises with an advisory lock.)
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) break;
    if (kind === 'sqlite' && attempt < 10) {
      await new Promise((r) => setTimeout(r, 50 * attempt));
      continue;
    }
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}

/**
 * Run `fn` in one write transaction. On SQLite it begins IMMEDIATE, taking the write lock at once (another process may
 * be writing the same file: a deferred transaction that read first could not upgrade and would fail with BUSY) without
 * writing anything for it — every page a commit writes is written again to the WAL and synced before the commit
 * returns. Kysely begins its transactions deferred, so the transaction is run by hand on the driver's one connection
 * (held for the whole of it, as Kysely's own transactions hold it).
 */
export async function writeTx<T>(store: Store, fn: (trx: Tx) => Promise<T>, o: WriteTxOptions = {}): Promise<T> {
  if (store.kind !== 'sqlite') {
    const bulk = new Map<BulkTable, number>();
    const result = await store.db.transaction().execute(async (trx) => {
      bulkWrites.set(trx, bulk);
      openFeedRows.set(trx, []);
      if (o.durable !== false) return fn(trx);
      await sql`set local synchronous_commit = off`.execute(trx);
      return fn(trx);
    });
    // PostgreSQL plans from its statistics, and a table that has just grown by a large zone (a load, a full sign)
    // has none for those rows until autovacuum's next analyze: meanwhile the alive rows at an owner were read by
    // scanning every alive row of the zone (34 ms per read at 100,000 records, several per UPDATE; 1.3-1.5 ms for a
    // zone of 2,000 in a new database). So the tables are analyzed at once, as after any bulk load: a write of
    // BULK_ROWS rows, or one of SOME_ROWS that is a tenth of the table or more (autovacuum's own rule, without its wait).
    // The write is committed: a failed analyze (autovacuum's will come) must not make it look failed.
    for (const [table, rows] of bulk) {
      if (rows < SOME_ROWS) continue;
      await (async () => {
        if (rows < BULK_ROWS) {
          const r = await sql<{ n: number }>`select reltuples::float8 as n from pg_class where oid = ${table}::regclass`.execute(store.db);
          const n = r.rows[0]?.n ?? -1;
          if (n >= 0 && rows < n / 10) return;
        }
        await sql.raw(`analyze ${table}`).execute(store.db);
      })().catch(() => {});
    }
    return result;
  }
  const sqlite = store.sqlite;
  const statements = sqlite ? statementSources.get(sqlite) : undefined;
  return store.db.connection().execute(async (conn) => {
    // begin/commit/rollback straight on the connection this holds (no query builder for a fixed text).
    const run = async (text: string): Promise<void> => {
      (statements as StatementSource).prepare(text).run();
    };
    // SQLite changes the sync level only outside a transaction: set just before it, on the connection that is ours
    // until the commit (no other statement runs between), and put back right after.
    const before = o.durable === false && sqlite ? (sqlite.pragma('synchronous', { simple: true }) as number) : undefined;
    if (before !== undefined) sqlite?.pragma('synchronous = NORMAL');
    const own: CommittedFeedRow[] = [];
    const strays = strayFeedRows;
    try {
      await run('begin immediate');
      openFeedRows.set(conn, own);
      let result: T;
      try {
        // The services use only the query builders of the transaction, which the connection has alike.
        result = await holding(store, conn, () => fn(conn as unknown as Tx));
      } catch (e) {
        await run('rollback').catch(() => {});
        throw e;
      }
      try {
        await run('commit');
      } catch (e) {
        // A commit that failed (I/O error) leaves the transaction open on the shared connection: end it.
        await run('rollback').catch(() => {});
        throw e;
      }
      // The followers woken by the commit (zone table, NOTIFY, signer, …) start on the next turn of the event loop:
      // the caller's own continuation (an UPDATE's patch and answer) runs first, not behind their reads.
      if (store.afterCommit) setImmediate(store.afterCommit, own.length > 0 && strayFeedRows === strays ? own : undefined);
      return result;
    } finally {
      openFeedRows.delete(conn);
      try {
        if (before !== undefined) sqlite?.pragma(`synchronous = ${before}`);
      } catch {
        // still inside a transaction whose rollback failed: the error that got us here is the one to report
      }
    }
  });
}

/** The tables a bulk write may grow (their names go into ANALYZE as they are). */
export type BulkTable = 'records' | 'dnssec_records';
const bulkWrites = new WeakMap<object, Map<BulkTable, number>>();
/** Rows at or above which a write is a bulk write (statistics refreshed after the commit, PostgreSQL). */
const BULK_ROWS = 10_000;
/** Rows from which a write is a bulk write if they are a tenth of the table or more (a small zone, a new database). */
const SOME_ROWS = 1_000;

/**
 * `rows` rows were just written to `table` in this write transaction: from BULK_ROWS on (or SOME_ROWS that are a tenth
 * of the table), PostgreSQL's statistics of the table are refreshed once the transaction commits (writeTx). Nothing on
 * SQLite, whose plans do not need them.
 */
export function wroteRows(trx: object, table: BulkTable, rows: number): void {
  const bulk = bulkWrites.get(trx);
  if (bulk && rows > 0) bulk.set(table, (bulk.get(table) ?? 0) + rows);
}

export interface WriteTxOptions {
  /**
   * false: the commit need not wait for the disk (SQLite WAL synchronous=NORMAL, PostgreSQL synchronous_commit=off).
   * It still survives a kill -9 of the process and never leaves the database inconsistent; an OS crash or power cut
   * may lose it, together with anything else committed since the last durable commit (which syncs them all: the WAL
   * is written in order). Only for bookkeeping that is safe to redo — the event queue's claims and outcomes, whose
   * events run at least once anyway — never for anything acknowledged to a client.
   */
  durable?: boolean;
}

/**
 * Reads on one connection. On SQLite in one transaction, which is a snapshot (the queries see the same state), begun
 * and ended straight on the connection it holds, as writeTx does: Kysely's transaction prepares its BEGIN and COMMIT
 * anew each time and builds a transaction object (~60 µs), and a signed zone's UPDATE opens about ten of these. On
 * PostgreSQL without BEGIN and COMMIT: its transactions run at READ COMMITTED, where each statement sees what was
 * committed when it began — not a snapshot — so a transaction would add nothing but two round trips (each ~150 µs of
 * this process's time; three read groups on a signed UPDATE's path). The readers rely on versions (a version's rows
 * never change once made), not on a snapshot; a reader that needs one must ask for it.
 */
export async function readTx<T>(
  store: Store,
  fn: (trx: Tx) => Promise<T>,
  o: {
    /** In a transaction on PostgreSQL too (a cursor lives only in one). */
    transaction?: boolean;
  } = {},
): Promise<T> {
  const statements = store.sqlite ? statementSources.get(store.sqlite) : undefined;
  if (!statements) return o.transaction ? store.db.transaction().execute(fn) : store.db.connection().execute((conn) => fn(conn as unknown as Tx));
  return store.db.connection().execute(async (conn) => {
    statements.prepare('begin').run();
    let result: T;
    try {
      result = await holding(store, conn, () => fn(conn as unknown as Tx));
    } catch (e) {
      try {
        statements.prepare('rollback').run();
      } catch {
        // the error that got us here is the one to report
      }
      throw e;
    }
    statements.prepare('commit').run();
    return result;
  });
}

/**
 * Run a batch of write transactions that is acknowledged as a whole when `fn` returns (a zone directory import). On
 * SQLite the commits inside need not each wait for the disk: in WAL mode synchronous=NORMAL commits still survive a
 * kill -9 of the process (only an OS crash could lose the tail), and the checkpoint at the end syncs everything before
 * we return. PostgreSQL commits as always.
 */
export async function batchWrites<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  store.sqlite?.pragma('synchronous = NORMAL');
  try {
    return await fn();
  } finally {
    if (store.sqlite) {
      store.sqlite.pragma('synchronous = FULL');
      store.sqlite.pragma('wal_checkpoint(PASSIVE)');
    }
  }
}

/**
 * Copy what the WAL holds into the database file now, without waiting for readers or writers (PASSIVE; SQLite only,
 * nothing on PostgreSQL). For a writer that just wrote megabytes (a part of a zone snapshot): their checkpoint is
 * paid a part at a time instead of by the one commit that next crosses wal_autocheckpoint — measured, a ~40 ms stall of
 * that commit (an UPDATE's) and of the event loop at 100,000 records.
 */
export function checkpointNow(store: Store): void {
  store.sqlite?.pragma('wal_checkpoint(PASSIVE)');
}

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
