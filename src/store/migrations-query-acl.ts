// 0020: query ACLs (issue 15, BIND's allow-query): address prefixes allowed to query a zone, per zone or per server
// group (the zone's own list, when it has one, replaces its group's). dmsd keeps them in memory and follows the
// change feed (kind 'acl').

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface QueryAclTable {
  id: import('kysely').Generated<number>;
  /** Exactly one of zone_id / sg_id is set. */
  zone_id: number | null;
  sg_id: number | null;
  /** Address or CIDR prefix allowed to query. */
  address: string;
  ctime: number;
}

export interface QueryAclTables {
  query_acl: QueryAclTable;
}

export function queryAclTable(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyDb) {
      await (pg
        ? db.schema.createTable('query_acl').addColumn('id', 'bigserial', (c) => c.primaryKey())
        : db.schema.createTable('query_acl').addColumn('id', 'integer', (c) => c.primaryKey()))
        .addColumn('zone_id', 'bigint', (c) => c.references('zones.id').onDelete('cascade'))
        .addColumn('sg_id', 'bigint', (c) => c.references('server_groups.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('query_acl_zone').on('query_acl').column('zone_id').execute();
      await db.schema.createIndex('query_acl_sg').on('query_acl').column('sg_id').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('query_acl').ifExists().execute();
    },
  };
}
