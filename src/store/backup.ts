// Backing up and restoring the whole store: SQLite through its online backup API (a consistent copy while dmsd keeps
// writing), PostgreSQL through pg_dump / pg_restore of the store's database. The files hold TSIG secrets and DNSSEC
// keys, so a backup is created readable by its owner only.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Store } from './store.js';

export interface BackupResult {
  kind: Store['kind'];
  file: string;
  /** How it was made: "sqlite online backup" or the pg_dump / pg_restore command (without the password). */
  method: string;
}

/** A PostgreSQL client program: the newest /usr/lib/postgresql/N/bin first (a newer pg_dump reads older servers), else PATH. */
function pgProgram(name: 'pg_dump' | 'pg_restore'): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', name)))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(base, versions[0], 'bin', name);
  }
  return name;
}

/** The URL without its password (given to the program through PGPASSWORD, so it never shows in a process list). */
function splitPassword(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  return { url: u.toString(), env: { ...process.env, ...(password !== undefined ? { PGPASSWORD: password } : {}) } };
}

function runPg(name: 'pg_dump' | 'pg_restore', args: string[], env: NodeJS.ProcessEnv): void {
  const program = pgProgram(name);
  const r = spawnSync(program, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${program}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim()}`);
}

/** Create (or truncate) `file` with mode 0600 before anything is written into it. */
function createPrivate(file: string): void {
  closeSync(openSync(file, 'w', 0o600));
  chmodSync(file, 0o600);
}

export async function backupStore(store: Store, file: string): Promise<BackupResult> {
  createPrivate(file);
  if (store.kind === 'sqlite') {
    if (!store.sqlite) throw new Error('the SQLite store has no connection to back up from');
    await store.sqlite.backup(file);
    chmodSync(file, 0o600);
    return { kind: 'sqlite', file, method: `sqlite online backup of ${store.location}` };
  }
  if (!store.connectionUrl) throw new Error('the PostgreSQL store does not know its connection URL');
  const { url, env } = splitPassword(store.connectionUrl);
  runPg('pg_dump', ['--format=custom', `--file=${file}`, `--dbname=${url}`], env);
  chmodSync(file, 0o600);
  return { kind: 'postgres', file, method: `pg_dump --format=custom of ${store.location}` };
}

/**
 * Replace the store's content with a backup. SQLite: the backup API copies the file's pages into the store through a
 * connection of its own, in one write transaction, so readers (this process's connection included) see the old or
 * the new database, never a mix; only with `force`. PostgreSQL: pg_restore --clean --if-exists in one transaction.
 */
export async function restoreStore(store: Store, file: string, force: boolean): Promise<BackupResult> {
  if (!existsSync(file)) throw new Error(`no such backup file: ${file}`);
  // On SQLite a running dmsd keeps its zone table and change feed, which would not see the database replaced under
  // it. PostgreSQL is not refused (the restore is one server-side transaction), but a running dmsd is not told
  // either: restore_db's help says to restart them.
  if (store.kind === 'sqlite' && !force)
    throw new Error(`it replaces the whole database ${store.location}; stop every dmsd using it and restore with -f (force)`);
  if (store.kind === 'sqlite') {
    let src: BetterSqlite3.Database;
    try {
      src = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      // A file that is not a DMS store is refused before the store is touched.
      const t = src.prepare(`select count(*) as n from sqlite_master where type = 'table' and name = 'zones'`).get() as { n: number };
      if (t.n !== 1) {
        src.close();
        throw new Error('not a DMS SQLite backup (no zones table)');
      }
    } catch (e) {
      throw new Error(`cannot restore from ${file}: ${(e as Error).message}`);
    }
    try {
      await src.backup(store.location);
    } finally {
      src.close();
    }
    return { kind: 'sqlite', file, method: `sqlite backup of ${file} copied into ${store.location}` };
  }
  if (!store.connectionUrl) throw new Error('the PostgreSQL store does not know its connection URL');
  const { url, env } = splitPassword(store.connectionUrl);
  runPg('pg_restore', ['--clean', '--if-exists', '--single-transaction', '--no-owner', `--dbname=${url}`, file], env);
  return { kind: 'postgres', file, method: `pg_restore --clean --if-exists into ${store.location}` };
}
