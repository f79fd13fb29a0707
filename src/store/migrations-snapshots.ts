// 0026: zone snapshots (issue 17). A large zone's served version as a few blobs: its names with their RRsets already
// encoded (src/zone/snapshot.ts), so that dmsd loads a 1,000,000-record zone at memory speed instead of one row per
// record. A cache of what the records say, never the truth: dmsd writes one after compiling a large zone from its
// rows, and at start-up takes it only while its ZI is still stored, reading the rows of every owner changed since
// (services/feed.ts). Deleting a ZI (vacuum, pare, delete_zi) or the zone deletes its snapshot.
//   zone_snapshots   one row per part: zone_id, part (0..parts-1), zi_id and version of the ZI it is of, parts,
//                    records (served records in it), data, ctime

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface ZoneSnapshotTable {
  zone_id: number;
  part: number;
  zi_id: number;
  version: number;
  parts: number;
  records: number;
  data: Uint8Array;
  ctime: number;
}

export interface ZoneSnapshotTables {
  zone_snapshots: ZoneSnapshotTable;
}

export function zoneSnapshots(dialect: Dialect): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('zone_snapshots')
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('part', 'integer', (c) => c.notNull())
        .addColumn('zi_id', 'bigint', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('parts', 'integer', (c) => c.notNull())
        .addColumn('records', 'bigint', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('zone_snapshots_pk', ['zone_id', 'part'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('zone_snapshots').ifExists().execute();
    },
  };
}
