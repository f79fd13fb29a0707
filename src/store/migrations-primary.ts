// Schema for the primary's access and NOTIFY configuration (issue 4): who may transfer a zone (rules on TSIG key
// and/or source prefix, per zone or per server group) and where NOTIFYs go besides the rules (also-notify addresses,
// per zone or per server group, each optionally signed with a key). Registered in migrations.ts as 0005.

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface TransferRuleTable {
  id: import('kysely').Generated<number>;
  /** Exactly one of zone_id / sg_id is set. */
  zone_id: number | null;
  sg_id: number | null;
  /** Lower-case absolute TSIG key name the request must be signed with. */
  key_name: string | null;
  /** Address or CIDR prefix of the client. */
  address: string | null;
  ctime: number;
}

export interface AlsoNotifyTable {
  id: import('kysely').Generated<number>;
  zone_id: number | null;
  sg_id: number | null;
  address: string;
  port: number;
  /** TSIG key to sign the NOTIFY with (lower-case absolute), or null. */
  key_name: string | null;
  ctime: number;
}

export interface PrimaryTables {
  transfer_rules: TransferRuleTable;
  also_notify: AlsoNotifyTable;
}

export function transferAndNotify(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyDb) {
      for (const table of ['transfer_rules', 'also_notify']) {
        let t = (pg
          ? db.schema.createTable(table).addColumn('id', 'bigserial', (c) => c.primaryKey())
          : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey()))
          .addColumn('zone_id', 'bigint', (c) => c.references('zones.id').onDelete('cascade'))
          .addColumn('sg_id', 'bigint', (c) => c.references('server_groups.id').onDelete('cascade'));
        t =
          table === 'transfer_rules'
            ? t.addColumn('key_name', 'text').addColumn('address', 'text')
            : t
                .addColumn('address', 'text', (c) => c.notNull())
                .addColumn('port', 'integer', (c) => c.notNull())
                .addColumn('key_name', 'text');
        await t.addColumn('ctime', 'bigint', (c) => c.notNull()).execute();
        await db.schema.createIndex(`${table}_zone`).on(table).column('zone_id').execute();
        await db.schema.createIndex(`${table}_sg`).on(table).column('sg_id').execute();
      }
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('also_notify').ifExists().execute();
      await db.schema.dropTable('transfer_rules').ifExists().execute();
    },
  };
}
