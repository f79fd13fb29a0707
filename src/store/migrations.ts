// Schema migrations, kept in code (not files on disk) so the compiled dist/ carries them. One set for both
// dialects; the few type differences (auto ids, blobs) are chosen per dialect here.

import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { dnssecTables } from './migrations-dnssec.js';
import { signerRowsAliveOwner, signingTables } from './migrations-signing.js';
import { transferAndNotify } from './migrations-primary.js';
import { serversTable } from './migrations-servers.js';
import { sgConfigTables } from './migrations-sgconfig.js';
import { apiAccounts, auditLog, auditTimeByIds } from './migrations-api.js';
import { zoneSnapshots } from './migrations-snapshots.js';
import { reverseNetworks } from './migrations-reverse.js';
import { lockSince } from './migrations-lock.js';
import { gitTables } from './migrations-git.js';
import { listIndexes } from './migrations-list-indexes.js';
import { stateIndex } from './migrations-state-index.js';
import { rowidSequences } from './migrations-rowids.js';
import { queryAclTable } from './migrations-query-acl.js';
import { haTables } from './migrations-ha.js';
import { cookieSecrets } from './migrations-cookies.js';
import { dnssecMore } from './migrations-dnssec-more.js';
import { sgTemplateTables } from './migrations-sg-templates.js';

export type Dialect = 'sqlite' | 'postgres';

/** Default server group created by the first migration so create_zone works out of the box. */
export const DEFAULT_SG_NAME = 'default';
export const DEFAULT_SG_APEX_NS = ['ns1.dms.invalid.'];

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

function initial(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  const id = (t: CreateTableBuilder<string, never>, name = 'id', monotonic = false): CreateTableBuilder<string, string> =>
    pg
      ? t.addColumn(name, 'bigserial', (c) => c.primaryKey())
      : t.addColumn(name, 'integer', (c) => (monotonic ? c.primaryKey().autoIncrement() : c.primaryKey()));
  const blob = pg ? 'bytea' : 'blob';
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('store_meta')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('writes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('changes_vacuumed_to', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.insertInto('store_meta').values({ id: 1, writes: 0, changes_vacuumed_to: 0 }).execute();

      await id(db.schema.createTable('server_groups'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('apex_ns', 'text', (c) => c.notNull())
        .addColumn('soa_mname', 'text')
        .addColumn('master_address', 'text')
        .addColumn('master_alt_address', 'text')
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .execute();
      await db
        .insertInto('server_groups')
        .values({ name: DEFAULT_SG_NAME, apex_ns: JSON.stringify(DEFAULT_SG_APEX_NS), ctime: Date.now() })
        .execute();

      await id(db.schema.createTable('zone_references'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .execute();

      await id(db.schema.createTable('sectags'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .execute();

      await id(db.schema.createTable('zones'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('use_apex_ns', 'integer', (c) => c.notNull())
        .addColumn('edit_lock', 'integer', (c) => c.notNull())
        .addColumn('auto_dnssec', 'integer', (c) => c.notNull())
        .addColumn('nsec3', 'integer', (c) => c.notNull())
        .addColumn('inc_updates', 'integer', (c) => c.notNull())
        .addColumn('sg_id', 'bigint', (c) => c.notNull().references('server_groups.id'))
        .addColumn('alt_sg_id', 'bigint', (c) => c.references('server_groups.id'))
        .addColumn('reference_id', 'bigint', (c) => c.references('zone_references.id'))
        .addColumn('published_version', 'integer')
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('lock_token', 'text')
        .addColumn('locked_by', 'text')
        .addColumn('lock_expires', 'bigint')
        .addColumn('lock_base_version', 'integer')
        .addColumn('deleted_start', 'bigint')
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .execute();
      // One live zone per name; deleted zones keep their name (several may share one) until destroyed.
      await db.schema
        .createIndex('zones_live_name')
        .on('zones')
        .column('name')
        .unique()
        .where(sql.ref('state'), '<>', 'DELETED')
        .execute();
      await db.schema.createIndex('zones_name').on('zones').column('name').execute();
      await db.schema.createIndex('zones_reference').on('zones').column('reference_id').execute();
      await db.schema.createIndex('zones_sg').on('zones').column('sg_id').execute();
      await db.schema.createIndex('zones_alt_sg').on('zones').column('alt_sg_id').execute();

      await db.schema
        .createTable('zone_sectags')
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('sectag_id', 'bigint', (c) => c.notNull().references('sectags.id'))
        .addPrimaryKeyConstraint('zone_sectags_pk', ['zone_id', 'sectag_id'])
        .execute();
      await db.schema.createIndex('zone_sectags_sectag').on('zone_sectags').column('sectag_id').execute();

      await id(db.schema.createTable('zone_instances'))
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('soa_serial', 'bigint', (c) => c.notNull())
        .addColumn('soa_mname', 'text', (c) => c.notNull())
        .addColumn('soa_rname', 'text', (c) => c.notNull())
        .addColumn('soa_refresh', 'bigint', (c) => c.notNull())
        .addColumn('soa_retry', 'bigint', (c) => c.notNull())
        .addColumn('soa_expire', 'bigint', (c) => c.notNull())
        .addColumn('soa_minimum', 'bigint', (c) => c.notNull())
        .addColumn('soa_ttl', 'bigint')
        .addColumn('zone_ttl', 'bigint', (c) => c.notNull())
        .addColumn('change_by', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .addColumn('ptime', 'bigint')
        .addUniqueConstraint('zone_instances_zone_version', ['zone_id', 'version'])
        .execute();
      await db.schema.createIndex('zone_instances_serial').on('zone_instances').columns(['zone_id', 'soa_serial']).execute();

      await id(db.schema.createTable('records'))
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('from_version', 'integer', (c) => c.notNull())
        .addColumn('to_version', 'integer')
        .addColumn('owner_key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('type', 'integer', (c) => c.notNull())
        .addColumn('rclass', 'integer', (c) => c.notNull())
        .addColumn('ttl', 'bigint', (c) => c.notNull())
        .addColumn('rdata', blob, (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('group_comment', 'text')
        .addColumn('flags', 'text')
        .addColumn('disabled', 'integer', (c) => c.notNull())
        .addColumn('ord', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('records_zone_alive').on('records').columns(['zone_id', 'to_version', 'from_version']).execute();

      await db.schema
        .createTable('config')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('sg_name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('config_pk', ['key', 'sg_name'])
        .execute();

      await id(db.schema.createTable('events'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('zone_id', 'bigint')
        .addColumn('zone_name', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('payload', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('scheduled', 'bigint', (c) => c.notNull())
        .addColumn('processed', 'bigint')
        .execute();
      await db.schema.createIndex('events_due').on('events').columns(['state', 'scheduled']).execute();

      await id(db.schema.createTable('zone_changes'), 'seq', true)
        .addColumn('zone_id', 'bigint', (c) => c.notNull())
        .addColumn('zone_name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('version', 'integer')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb) {
      for (const t of [
        'zone_changes',
        'events',
        'config',
        'records',
        'zone_instances',
        'zone_sectags',
        'zones',
        'sectags',
        'zone_references',
        'server_groups',
        'store_meta',
      ])
        await db.schema.dropTable(t).ifExists().execute();
    },
  };
}

/**
 * PostgreSQL only: zone name globs (LIKE 'abc%') can use a btree index only with text_pattern_ops unless the
 * database collation is C. SQLite's LIKE is served by the plain name index range.
 */
function patternIndex(dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      if (dialect === 'postgres') await sql`create index zones_name_pattern on zones (name text_pattern_ops)`.execute(db);
    },
    async down(db: AnyDb) {
      if (dialect === 'postgres') await sql`drop index if exists zones_name_pattern`.execute(db);
    },
  };
}

/** Records born in a version range (IXFR, diffs) without scanning the zone's whole history. */
const bornIndex: Migration = {
  async up(db: AnyDb) {
    await db.schema.createIndex('records_zone_born').on('records').columns(['zone_id', 'from_version']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('records_zone_born').ifExists().execute();
  },
};

/**
 * Reads that follow the size of a change, not of the zone (issue 17): the rows of a few owners (an UPDATE's
 * prerequisites and checks, dmsd patching its served zone) through the alive index extended with the owner, and the
 * NS/MX/SRV rows alive (is an address still someone's target?) through a partial index holding only those.
 */
const ownerIndexes: Migration = {
  async up(db: AnyDb) {
    await db.schema.createIndex('records_zone_alive_owner').on('records').columns(['zone_id', 'to_version', 'owner_key', 'from_version']).execute();
    await db.schema.dropIndex('records_zone_alive').ifExists().execute();
    await sql`create index records_alive_targets on records (zone_id, type, to_version) where to_version is null and type in (2, 15, 33)`.execute(db);
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('records_alive_targets').ifExists().execute();
    await db.schema.createIndex('records_zone_alive').on('records').columns(['zone_id', 'to_version', 'from_version']).execute();
    await db.schema.dropIndex('records_zone_alive_owner').ifExists().execute();
  },
};

/** TSIG keys (RFC 8945) and per-zone RFC 2136 update grants (update-policy lines, kept as text). */
function keysAndGrants(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  return {
    async up(db: AnyDb) {
      await (pg
        ? db.schema.createTable('tsig_keys').addColumn('id', 'bigserial', (c) => c.primaryKey())
        : db.schema.createTable('tsig_keys').addColumn('id', 'integer', (c) => c.primaryKey()))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .execute();
      await (pg
        ? db.schema.createTable('zone_update_grants').addColumn('id', 'bigserial', (c) => c.primaryKey())
        : db.schema.createTable('zone_update_grants').addColumn('id', 'integer', (c) => c.primaryKey()))
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('grant_text', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('zone_update_grants_zone').on('zone_update_grants').column('zone_id').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('zone_update_grants').ifExists().execute();
      await db.schema.dropTable('tsig_keys').ifExists().execute();
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '0001_initial': initial(dialect),
        '0002_pg_name_pattern_index': patternIndex(dialect),
        '0003_records_born_index': bornIndex,
        '0004_tsig_keys_update_grants': keysAndGrants(dialect),
        '0005_transfer_rules_also_notify': transferAndNotify(dialect),
        '0006_servers': serversTable(dialect),
        '0007_dnssec_keys': dnssecTables(dialect),
        '0008_api_accounts': apiAccounts(dialect),
        '0009_audit_log': auditLog(dialect),
        '0010_records_owner_indexes': ownerIndexes,
        '0011_dnssec_signed_records': signingTables(dialect),
        '0012_sg_config': sgConfigTables(dialect),
        '0013_zone_reverse_networks': reverseNetworks,
        '0015_zones_lock_since': lockSince,
        '0016_zone_list_indexes': listIndexes,
        '0017_zone_state_index': stateIndex,
        '0018_ha_instances': haTables,
        '0019_git': gitTables,
        '0020_query_acl': queryAclTable(dialect),
        '0021_dns_cookie_secrets': cookieSecrets,
        '0023_dnssec_withdrawn_parent_check': dnssecMore,
        '0024_sg_templates_server_tokens': sgTemplateTables(dialect),
        '0025_audit_log_time_by_id': auditTimeByIds,
        '0026_zone_snapshots': zoneSnapshots(dialect),
        '0027_signer_rows_alive_owner': signerRowsAliveOwner,
        '0028_feed_audit_rowids': rowidSequences(dialect),
      };
    },
  };
}
