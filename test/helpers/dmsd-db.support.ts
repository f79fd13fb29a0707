// Shared by the dmsd database tests: the real dmsd process on a store, the real zone_tool (bin/zone_tool, built
// code) on the same store, and dig.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Server, spawnServer, watchChild } from './acme.js';
import { dmsdEntry, REPO_ROOT } from './servers.js';

export { watchChild };
export type { Server };

export const ZONE_TOOL = join(REPO_ROOT, 'bin', 'zone_tool');

/** Where the store is: a data directory (SQLite) or a PostgreSQL URL. */
export type StoreArgs = string[];
export const sqliteArgs = (dir: string): StoreArgs => ['--data', dir];
export const postgresArgs = (url: string): StoreArgs => ['--database-url', url];

export const DMSD_BIN = join(REPO_ROOT, 'bin', 'dmsd');

/**
 * Start dmsd on `store`. `launcher` 'bin': as operators start it, bin/dmsd running the bundle the build made
 * (dist/dmsd.cjs: npm test builds first); otherwise the sources (tsx) as the other tests do.
 */
export function startDmsdDb(store: StoreArgs, extra: string[] = [], launcher: 'bin' | 'source' = 'source'): Promise<Server> {
  if (launcher === 'bin') {
    if (!existsSync(join(REPO_ROOT, 'dist', 'dmsd.cjs'))) throw new Error('dist/dmsd.cjs missing: run npm run build');
    return spawnServer([DMSD_BIN, ...store, '--listen', '127.0.0.1:0', ...extra], 'dmsd');
  }
  const entry = dmsdEntry();
  if (!entry) throw new Error('dmsd not found');
  return spawnServer([...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, ...store, '--listen', '127.0.0.1:0', ...extra], 'dmsd');
}

/** The port a running dmsd logged for `proto` ("listening" line: http, https, udp, tcp); rejects after 20 s. */
export function listeningPort(s: Server, proto: string): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const look = () => {
      for (const line of s.output().split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; proto?: string; port?: number };
          if (j.msg === 'listening' && j.proto === proto && typeof j.port === 'number') return res(j.port);
        } catch {
          // not JSON
        }
      }
      if (Date.now() - t0 > 20_000) return rej(new Error(`no ${proto} listening line:\n${s.output()}`));
      setTimeout(look, 50);
    };
    look();
  });
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run zone_tool as an operator would; `ok` throws on a non-zero exit. */
export function zoneTool(store: StoreArgs, args: string[], input?: string): ToolResult {
  const r = spawnSync(process.execPath, [ZONE_TOOL, ...store, ...args], {
    encoding: 'utf8',
    env: cleanEnv(),
    timeout: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The environment without a store location of its own (the flags name it). */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DMS_CHANGE_BY: 'tester@test/Admin' };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  return env;
}

export function zoneToolOk(store: StoreArgs, args: string[], input?: string): string {
  const r = zoneTool(store, args, input);
  if (r.code !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function dig(port: number, args: string[]): string {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args], { encoding: 'utf8', timeout: 15_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** The SOA serial dmsd answers for `zone` (authoritatively), or undefined. */
export function servedSerial(port: number, zone: string): number | undefined {
  const out = dig(port, [zone, 'SOA', '+norec']);
  if (!/flags:[^;]*\baa\b/.test(out)) return undefined;
  const m = new RegExp(`^${zone.replace(/\./g, '\\.')}\\.?\\s+\\d+\\s+IN\\s+SOA\\s+\\S+\\s+\\S+\\s+(\\d+)`, 'mi').exec(out);
  return m ? Number(m[1]) : undefined;
}

/** Poll until `check` holds; returns the milliseconds it took, throws after `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (check()) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
