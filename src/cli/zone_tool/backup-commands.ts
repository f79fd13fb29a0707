// zone_tool commands for backups (issue 13): backup_db, restore_db and export_zones. The table entries are spread
// into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS; the handlers call the operations of
// src/services/operations/backup.ts.

import { type CommandSpec, command } from './command-spec.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { OUTPUT_INDENT as I } from './format.js';

export const BACKUP_COMMANDS: readonly CommandSpec[] = [
  command(
    'backup_db',
    'Back up the zone database to a file',
    `Back up the zone database: backup_db <file>

        SQLite: an online, consistent copy of the database file (dmsd may keep
        running). PostgreSQL: pg_dump --format=custom of the store's database.
        The file is created with mode 0600: it holds TSIG secrets and DNSSEC
        keys.`,
    { min: 1, max: 1, args: ['file'] },
  ),
  command(
    'restore_db',
    'Replace the zone database with a backup',
    `Restore the zone database: restore_db [-f] <file>

        -f  SQLite: required; stop every dmsd using the database first, as
            a running dmsd does not see the database replaced under it.

        SQLite: the backup's pages are copied into the database file in one
        transaction. PostgreSQL: pg_restore --clean --if-exists into the
        store's database, in one transaction; restart every dmsd using it
        afterwards, as their zone tables do not follow a restore.`,
    { options: 'f', long: { f: 'force' }, min: 1, max: 1, args: ['file'] },
  ),
  command(
    'export_zones',
    'Write every zone as a zone file into a directory',
    `Export every zone: export_zones <dir>

        Writes the published version of every live zone as <dir>/<zone name>
        (without the trailing dot; "root" for the root zone), mode 0644, as
        show_zone prints it. \`dmsd --zones <dir>\` serves such a directory.`,
    { min: 1, max: 1, args: ['file'] },
  ),
];

const backupDb: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('backup_db', { file: a.positional[0] });
  emit(ctx, r, () => `${I}backed up: ${r.method} -> ${r.file} (mode 0600)`);
  return 0;
};

const restoreDb: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('restore_db', { file: a.positional[0], force: a.opts.f === true });
  emit(ctx, r, () => `${I}restored: ${r.method}`);
  return 0;
};

const exportZonesCmd: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('export_zones', { dir: a.positional[0] });
  emit(ctx, r, () =>
    [
      `${I}exported ${r.zones.length} zone(s) to ${r.dir}`,
      ...(r.skipped.length > 0 ? [`${I}skipped (nothing published): ${r.skipped.join(' ')}`] : []),
    ].join('\n'),
  );
  return 0;
};

export const BACKUP_HANDLERS: Record<string, Handler> = {
  backup_db: backupDb,
  restore_db: restoreDb,
  export_zones: exportZonesCmd,
};
