// Schema for generating and publishing secondary configuration (issue 11), registered in migrations.ts as 0012.
// Two side tables keyed by the server group / server they extend, so the older tables stay as they are:
//   sg_config      what the secondaries of a group are told: the TSIG key they transfer with, whether the group is
//                  private (queries and transfers at the secondaries restricted to an ACL), whether it is the replica
//                  group (holds every zone), and the zone id of its catalog zone (RFC 9432) once DMS made it.
//   server_config  where a server's generated file goes and how it is reloaded, the last publication's outcome and
//                  the health checker's state (the original's ServerSM: OK / RETRY / BROKEN / DISABLED).
// A missing row means the defaults (no key, public, not replica, no catalog yet; nothing published, never checked).

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface SgConfigTable {
  sg_id: number;
  /** Lower-case absolute TSIG key name the group's secondaries sign their transfers with, or null. */
  xfr_key: string | null;
  private: number;
  /** JSON array of addresses / CIDR prefixes allowed to query a private group's zones at its secondaries. */
  query_acl: string | null;
  replica: number;
  /** 1 = servers that consume catalog zones get the group's zones through its catalog zone. */
  use_catalog: number;
  /** The zone row of the group's catalog zone, once created. */
  catalog_zone_id: number | null;
}

export interface ServerConfigTable {
  server_id: number;
  /** Directory the generated file is written into (reconfig_*), or null: not published (pull or show only). */
  config_dir: string | null;
  /** Where the secondary keeps its zone files (Knot storage, BIND file prefix, NSD zonefile prefix), or null: the
   *  server's own default (BIND's directory, Knot's storage, NSD's zonesdir). */
  zone_dir: string | null;
  /** Command run after a new file is in place (argv as a JSON array), or null. */
  reload_cmd: string | null;
  /** sha256 of the last file that passed the checker and was installed. */
  config_hash: string | null;
  config_time: number | null;
  /** The checker's or the reload command's message when the last attempt failed, else null. */
  config_error: string | null;
  /** OK | RETRY | BROKEN (DISABLED comes from servers.enabled). Null: never checked. */
  health_state: string | null;
  last_reply: number | null;
  retry_msg: string | null;
  /** JSON array of {zone, served, published} for zones behind the published serial. */
  lagging: string | null;
  failures: number;
  checked: number | null;
}

export interface SgConfigTables {
  sg_config: SgConfigTable;
  server_config: ServerConfigTable;
}

export function sgConfigTables(_dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('sg_config')
        .addColumn('sg_id', 'bigint', (c) => c.primaryKey().references('server_groups.id').onDelete('cascade'))
        .addColumn('xfr_key', 'text')
        .addColumn('private', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('query_acl', 'text')
        .addColumn('replica', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('use_catalog', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('catalog_zone_id', 'bigint')
        .execute();
      await db.schema
        .createTable('server_config')
        .addColumn('server_id', 'bigint', (c) => c.primaryKey().references('servers.id').onDelete('cascade'))
        .addColumn('config_dir', 'text')
        .addColumn('zone_dir', 'text')
        .addColumn('reload_cmd', 'text')
        .addColumn('config_hash', 'text')
        .addColumn('config_time', 'bigint')
        .addColumn('config_error', 'text')
        .addColumn('health_state', 'text')
        .addColumn('last_reply', 'bigint')
        .addColumn('retry_msg', 'text')
        .addColumn('lagging', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('checked', 'bigint')
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('server_config').ifExists().execute();
      await db.schema.dropTable('sg_config').ifExists().execute();
    },
  };
}
