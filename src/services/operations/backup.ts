// Operations for backups (issue 13): backup_db, restore_db and export_zones. Admin only: a backup holds TSIG
// secrets and DNSSEC keys, and a restore replaces everything.

import { z } from 'zod';
import { backupDatabase, exportZones, restoreDatabase } from '../backup.js';
import { ADMIN_ONLY, type Operation, op } from './define.js';

const fileParam = z.string().min(1).max(4096);

export const BACKUP_OPERATIONS = {
  backup_db: op({
    name: 'backup_db',
    summary: 'Back up the zone database to a file (SQLite online backup or pg_dump --format=custom), mode 0600',
    params: z.object({ file: fileParam.describe('backup file to write') }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: (ctx, p) => backupDatabase(ctx, p.file),
  }),
  restore_db: op({
    name: 'restore_db',
    summary: 'Replace the zone database with a backup made by backup_db (SQLite: only with force, every dmsd stopped)',
    params: z.object({ file: fileParam.describe('backup file to read'), force: z.boolean().default(false) }).strict(),
    tiers: ADMIN_ONLY,
    // Not audited as a change: the restored database is exactly the backup (an audit row would be its only difference).
    mutates: false,
    run: (ctx, p) => restoreDatabase(ctx, p.file, p.force),
  }),
  export_zones: op({
    name: 'export_zones',
    summary: 'Write every live zone as a zone file <dir>/<zone name>, as `dmsd --zones <dir>` reads them',
    params: z.object({ dir: fileParam.describe('directory to write (created)') }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: (ctx, p) => exportZones(ctx, p.dir),
  }),
} satisfies Record<string, Operation>;
