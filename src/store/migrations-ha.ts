// 0018: high availability (issue 13). `dms_instances`: every dmsd on the database registers itself and heartbeats
// (show_dms_status lists them, which one leads and since when); the lease itself is a PostgreSQL advisory lock held
// on a dedicated connection (store/lease.ts), this table only reports it. `dms_cluster`: one row holding the fencing
// epoch, raised by promote_replica on the promoted side, so that an instance that has not seen the promotion itself
// refuses to lead (docs/HA.md).

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface InstanceTable {
  id: string;
  host: string;
  pid: number;
  started: number;
  last_seen: number;
  /** 'primary' (writable database) or 'replica' (a hot standby: read-only, no leader work). */
  mode: string;
  is_leader: number;
  leader_since: number | null;
  /** The fencing epoch this instance runs under (dms_cluster.epoch when it started or saw the promotion). */
  epoch: number;
}

export interface ClusterTable {
  id: number;
  epoch: number;
  promoted_at: number | null;
  promoted_by: string | null;
}

export interface HaTables {
  dms_instances: InstanceTable;
  dms_cluster: ClusterTable;
}

export const haTables: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('dms_instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('started', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('is_leader', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('leader_since', 'bigint')
      .addColumn('epoch', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('dms_cluster')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('epoch', 'bigint', (c) => c.notNull())
      .addColumn('promoted_at', 'bigint')
      .addColumn('promoted_by', 'text')
      .execute();
    await db.insertInto('dms_cluster').values({ id: 1, epoch: 1 }).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('dms_cluster').execute();
    await db.schema.dropTable('dms_instances').execute();
  },
};
