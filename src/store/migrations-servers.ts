// Schema for the secondary servers of server groups (issue 4): each server has a unique name, an address (and port,
// so several secondaries may share a host) that is NOTIFYed on every publish of the group's zones while the server
// is enabled, and the software it runs (informational, as in the original DMS). Registered in migrations.ts as 0006.
// Deleting a server group deletes its servers with it (like its transfer rules and also-notify entries).

import type { Generated, Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface ServerTable {
  id: Generated<number>;
  name: string;
  /** Plain IPv4 or IPv6 address, no brackets. */
  address: string;
  port: number;
  /** 'bind9' | 'nsd' | 'knot'. */
  server_type: string;
  sg_id: number;
  /** 1 = NOTIFYed on publish, 0 = left alone (disable_server). */
  enabled: number;
  ctime: number;
  mtime: number;
}

export interface ServerTables {
  servers: ServerTable;
}

export function serversTable(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyDb) {
      await (pg
        ? db.schema.createTable('servers').addColumn('id', 'bigserial', (c) => c.primaryKey())
        : db.schema.createTable('servers').addColumn('id', 'integer', (c) => c.primaryKey()))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('server_type', 'text', (c) => c.notNull())
        .addColumn('sg_id', 'bigint', (c) => c.notNull().references('server_groups.id').onDelete('cascade'))
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('servers_address_port', ['address', 'port'])
        .execute();
      await db.schema.createIndex('servers_sg').on('servers').column('sg_id').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('servers').ifExists().execute();
    },
  };
}
