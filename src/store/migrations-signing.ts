// Schema for serving signed zones (issue 9): the records the signer adds to a zone (RRSIG, NSEC/NSEC3, the apex
// DNSKEY/CDS/CDNSKEY/NSEC3PARAM), kept apart from the operator's records so that ls_zi, show_zone and diff_zones never
// see signature churn. Registered in migrations.ts as 0011.
//
// Signer rows carry the same version range as records (alive at v when from_version <= v < to_version): the signed
// zone at version v is the records alive at v plus the signer rows alive at v, and an IXFR between two versions is
// both tables' rows born or died between them — one journal, no separate file. `dnssec_signed` marks the versions
// that were signed (with the key set used): the process that signs writes the rows and the mark in one transaction;
// the mark's primary key makes a second signer of the same version lose cleanly (it reads the winner's rows).

import type { Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface DnssecRecordTable {
  zone_id: number;
  from_version: number;
  to_version: number | null;
  /** Lower-case absolute owner (NSEC3 records: the hashed owner). */
  owner_key: string;
  owner: string;
  type: number;
  rclass: number;
  ttl: number;
  rdata: Uint8Array;
}

export interface DnssecSignedTable {
  zone_id: number;
  version: number;
  /** The signing keys in force (algorithm/tag/roles), to tell stored signatures made with other keys. */
  key_set: string;
  signed_at: number;
  /** Rows born at this version (the size of the signer's change). */
  changes: number;
}

export interface SigningTables {
  dnssec_records: DnssecRecordTable;
  dnssec_signed: DnssecSignedTable;
}

export function signingTables(dialect: Dialect): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('dnssec_records')
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('from_version', 'integer', (c) => c.notNull())
        .addColumn('to_version', 'integer')
        .addColumn('owner_key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('type', 'integer', (c) => c.notNull())
        .addColumn('rclass', 'integer', (c) => c.notNull())
        .addColumn('ttl', 'bigint', (c) => c.notNull())
        .addColumn('rdata', blob, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dnssec_records_alive').on('dnssec_records').columns(['zone_id', 'to_version']).execute();
      await db.schema.createIndex('dnssec_records_born').on('dnssec_records').columns(['zone_id', 'from_version']).execute();
      await db.schema.createIndex('dnssec_records_owner').on('dnssec_records').columns(['zone_id', 'owner_key']).execute();
      await db.schema
        .createTable('dnssec_signed')
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('key_set', 'text', (c) => c.notNull())
        .addColumn('signed_at', 'bigint', (c) => c.notNull())
        .addColumn('changes', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('dnssec_signed_pk', ['zone_id', 'version'])
        .execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('dnssec_signed').execute();
      await db.schema.dropTable('dnssec_records').execute();
    },
  };
}

/**
 * 0027: the signer's rows found by (zone, alive or not, owner). A change re-signs a few owners, the apex at every one
 * (its SOA): on the (zone_id, owner_key) index an owner's range held its whole history, so the apex's look-ups and
 * the kill of its old RRSIG grew with the UPDATEs made since the last vacuum (measured: 208 µs per read after 500
 * UPDATEs at 100,000 signed records). On (zone_id, to_version, owner_key) the rows alive now are one seek per owner,
 * as for records (records_zone_alive_owner); rows that died after a version are a range of the recent history. It
 * replaces both the owner index and the (zone_id, to_version) one (its prefix): one index fewer to write per commit.
 */
export const signerRowsAliveOwner: Migration = {
  async up(db: AnyDb) {
    await db.schema.createIndex('dnssec_records_alive_owner').on('dnssec_records').columns(['zone_id', 'to_version', 'owner_key']).execute();
    await db.schema.dropIndex('dnssec_records_owner').ifExists().execute();
    await db.schema.dropIndex('dnssec_records_alive').ifExists().execute();
  },
  async down(db: AnyDb) {
    await db.schema.createIndex('dnssec_records_alive').on('dnssec_records').columns(['zone_id', 'to_version']).execute();
    await db.schema.createIndex('dnssec_records_owner').on('dnssec_records').columns(['zone_id', 'owner_key']).execute();
    await db.schema.dropIndex('dnssec_records_alive_owner').ifExists().execute();
  },
};
