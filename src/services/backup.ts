// Backups of the zone database and the export of every zone as a zone file (issue 13): the original DMS restored a
// lost primary from its named zone files (restore_named_db); `dmsd --zones DIR` serves such a directory.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BackupResult, backupStore, restoreStore } from '../store/index.js';
import type { ServiceContext } from './context.js';
import { InvalidArgument } from './errors.js';
import { getZoneText, listZones } from './zones.js';

export type { BackupResult };

export async function backupDatabase(ctx: ServiceContext, file: string): Promise<BackupResult> {
  try {
    return await backupStore(ctx.store, resolve(file));
  } catch (e) {
    throw new InvalidArgument(`backup to ${file} failed: ${(e as Error).message}`);
  }
}

/** Restore a backup over the store; on SQLite only with `force` (store/backup.ts says why). */
export async function restoreDatabase(ctx: ServiceContext, file: string, force: boolean): Promise<BackupResult> {
  try {
    return await restoreStore(ctx.store, resolve(file), force);
  } catch (e) {
    throw new InvalidArgument(`restore from ${file} failed: ${(e as Error).message}`);
  }
}

export interface ExportResult {
  dir: string;
  zones: { zone: string; file: string }[];
  /** Zones without a published version (nothing to serve), by name. */
  skipped: string[];
}

/** The file `dmsd --zones` reads as zone `name`: the name without its trailing dot, "root" for the root. */
function fileNameOf(zone: string): string {
  const n = zone.replace(/\.$/, '');
  return n === '' ? 'root' : n;
}

/** Every live zone, a page at a time (listZones returns at most `limit`). */
async function* allZones(ctx: ServiceContext) {
  const limit = 1000;
  let after: string | undefined;
  for (;;) {
    const page = await listZones(ctx, { limit, ...(after !== undefined ? { after } : {}) });
    yield* page;
    if (page.length < limit) return;
    after = page[page.length - 1].name;
  }
}

/** Every live zone's published version as zone-file text (show_zone's text), one file per zone, mode 0644. */
export async function exportZones(ctx: ServiceContext, dir: string): Promise<ExportResult> {
  const target = resolve(dir);
  mkdirSync(target, { recursive: true });
  const out: ExportResult = { dir: target, zones: [], skipped: [] };
  for await (const z of allZones(ctx)) {
    if (z.publishedVersion === null) {
      out.skipped.push(z.name);
      continue;
    }
    const file = join(target, fileNameOf(z.name));
    writeFileSync(file, await getZoneText(ctx, z.name), { mode: 0o644 });
    chmodSync(file, 0o644);
    out.zones.push({ zone: z.name, file });
  }
  return out;
}
