// A real PostgreSQL for tests. With DMS_TEST_DATABASE_URL set, fresh databases are created on that server; otherwise
// a throwaway cluster is initdb'd in a temp dir and started on a free 127.0.0.1 port (as the `postgres` user when we
// are root: postgres refuses to run as root). Failure to get a PostgreSQL THROWS — the tests must fail, never skip.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';

export interface TestPostgres {
  /** A new empty database on the server; returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export function findBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql); install Debian postgresql');
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no initdb under /usr/lib/postgresql/*/bin');
  return join(base, versions[0], 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function asPostgresUser(cmd: string, args: string[]): { status: number | null; out: string } {
  const isRoot = process.getuid?.() === 0;
  const r = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function serverHandle(adminUrl: string, stopServer: () => Promise<void>): TestPostgres {
  const created: string[] = [];
  return {
    async createDatabase() {
      const name = `dms_test_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      created.push(name);
      return withDb(adminUrl, name);
    },
    async stop() {
      const c = new pg.Client({ connectionString: adminUrl });
      try {
        await c.connect();
        for (const name of created) await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
      } catch {
        // the server may already be gone; stopping it below is what matters
      } finally {
        await c.end().catch(() => {});
      }
      await stopServer();
    },
  };
}

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.DMS_TEST_DATABASE_URL;
  if (external) return serverHandle(external, async () => {});

  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'dms-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const init = asPostgresUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.out}`);
  let port = 0;
  let started = false;
  let lastOut = '';
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    // fsync off: a test cluster is thrown away; durability is tested on SQLite and on a real install.
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    const r = asPostgresUser(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    started = r.status === 0;
    lastOut = r.out;
  }
  if (!started) throw new Error(`pg_ctl start failed: ${lastOut}`);
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    asPostgresUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  // A test file that dies before its after() hook must not leave a cluster running.
  process.once('exit', stopNow);
  const stop = async () => {
    stopNow();
    process.removeListener('exit', stopNow);
  };
  return serverHandle(`postgres://postgres@127.0.0.1:${port}/postgres`, stop);
}

/**
 * The store tests run once per backend: a fresh SQLite file in a temp dir and a fresh PostgreSQL database.
 * `suite(name, open)` is called for each; `open()` gives a new empty, migrated store every call.
 */
export interface Backend {
  name: 'sqlite' | 'postgres';
  open(): Promise<import('../../src/store/index.js').Store>;
  /** Open the store last made by open() once more (a second process's view of the same database). */
  reopen(): Promise<import('../../src/store/index.js').Store>;
}

export function sqliteBackend(): Backend & { cleanup(): void } {
  const dirs: string[] = [];
  return {
    name: 'sqlite',
    async open() {
      const { openStore } = await import('../../src/store/index.js');
      const dir = mkdtempSync(join(tmpdir(), 'dms-sqlite-'));
      dirs.push(dir);
      return openStore({ dataDir: dir });
    },
    async reopen() {
      const { openStore } = await import('../../src/store/index.js');
      if (dirs.length === 0) throw new Error('reopen() before open()');
      return openStore({ dataDir: dirs[dirs.length - 1] });
    },
    cleanup() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(server: () => TestPostgres | Promise<TestPostgres>): Backend {
  let last: string | undefined;
  return {
    name: 'postgres',
    async open() {
      const { openStore } = await import('../../src/store/index.js');
      const url = await (await server()).createDatabase();
      last = url;
      return openStore({ dataDir: tmpdir(), databaseUrl: url });
    },
    async reopen() {
      const { openStore } = await import('../../src/store/index.js');
      if (!last) throw new Error('reopen() before open()');
      return openStore({ dataDir: tmpdir(), databaseUrl: last });
    },
  };
}

/**
 * Both backends for one test file, with its hooks: PostgreSQL is started by a before() hook, or with `lazy` by the
 * first open() or postgres() that needs it; an after() hook stops it and removes the SQLite files.
 */
export function testBackends(opts: { lazy?: boolean } = {}): {
  sqlite: Backend;
  backends: Backend[];
  /** The running PostgreSQL (started now if it is not yet). */
  postgres(): Promise<TestPostgres>;
} {
  let server: Promise<TestPostgres> | undefined;
  let started: TestPostgres | undefined;
  const postgres = () =>
    (server ??= startPostgres().then((p) => {
      started = p;
      return p;
    }));
  const sqlite = sqliteBackend();
  if (!opts.lazy)
    before(async () => {
      await postgres();
    });
  after(async () => {
    sqlite.cleanup();
    await started?.stop();
  });
  return { sqlite, backends: [sqlite, postgresBackend(postgres)], postgres };
}
