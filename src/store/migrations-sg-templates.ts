// 0024: per server group templates and per server pull tokens (issue 11).
//   sg_template   operator-written text a server group's generated configuration carries for one server type (bind9,
//                 knot, nsd): options added to each zone statement (BIND), each zone template (Knot) or the pattern
//                 (NSD). Checked with the real checker before it is stored.
//   server_token  one bearer token per server for GET /config/<server>: only its SHA-256 is kept (as API tokens).

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface SgTemplateTable {
  sg_id: number;
  /** bind9 | knot | nsd */
  server_type: string;
  template: string;
  mtime: number;
}

export interface ServerTokenTable {
  server_id: number;
  /** sha256 hex of the token. */
  token_hash: string;
  ctime: number;
}

export interface SgTemplateTables {
  sg_template: SgTemplateTable;
  server_token: ServerTokenTable;
}

export function sgTemplateTables(_dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('sg_template')
        .addColumn('sg_id', 'bigint', (c) => c.notNull().references('server_groups.id').onDelete('cascade'))
        .addColumn('server_type', 'text', (c) => c.notNull())
        .addColumn('template', 'text', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sg_template_pk', ['sg_id', 'server_type'])
        .execute();
      await db.schema
        .createTable('server_token')
        .addColumn('server_id', 'bigint', (c) => c.primaryKey().references('servers.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('server_token').ifExists().execute();
      await db.schema.dropTable('sg_template').ifExists().execute();
    },
  };
}
