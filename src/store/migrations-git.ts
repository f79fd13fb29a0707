// 0019: git mirroring and git as the source of truth (issue 12). Two side tables, so the older tables stay as they are:
//   git_zone_state  per zone name (a zone deleted from DMS keeps its row until the deletion is pushed): the version
//                   last written to the repository and the commit that carried it, the commit last imported from
//                   it, the last error.
//   git_repo_state  per repository URL + branch: the remote head DMS last saw (pushed or imported), so a push that
//                   rewrote that history is recognised, and the last error of the repository as a whole.
// Keyed by zone name, not zone id: a zone is a file in the repository, and a zone deleted and made again is the same file.

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface GitZoneStateTable {
  zone_name: string;
  /** The zone version last committed to the repository (0: none yet), and the commit. */
  pushed_version: number;
  pushed_commit: string | null;
  /** The commit last pushed to the remote that contains this zone's latest committed version. */
  pushed_time: number | null;
  /** The commit the zone's file was last imported from, and the version the import made. */
  imported_commit: string | null;
  imported_version: number | null;
  imported_time: number | null;
  last_error: string | null;
}

export interface GitRepoStateTable {
  repo: string;
  /** The remote branch head DMS last pushed or imported: a remote head that does not descend from it rewrote history. */
  remote_head: string | null;
  /** The head of DMS's local branch (commits made, perhaps not pushed yet). */
  local_head: string | null;
  last_error: string | null;
  updated: number;
}

export interface GitTables {
  git_zone_state: GitZoneStateTable;
  git_repo_state: GitRepoStateTable;
}

export const gitTables: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('git_zone_state')
      .addColumn('zone_name', 'text', (c) => c.primaryKey())
      .addColumn('pushed_version', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('pushed_commit', 'text')
      .addColumn('pushed_time', 'bigint')
      .addColumn('imported_commit', 'text')
      .addColumn('imported_version', 'bigint')
      .addColumn('imported_time', 'bigint')
      .addColumn('last_error', 'text')
      .execute();
    await db.schema
      .createTable('git_repo_state')
      .addColumn('repo', 'text', (c) => c.primaryKey())
      .addColumn('remote_head', 'text')
      .addColumn('local_head', 'text')
      .addColumn('last_error', 'text')
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('git_repo_state').ifExists().execute();
    await db.schema.dropTable('git_zone_state').ifExists().execute();
  },
};
