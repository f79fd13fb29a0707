// Schema for the JSON-RPC API (issue 16): accounts (login, tier, security tag, scrypt password hash), bearer tokens
// (stored as SHA-256 of the secret, with their scopes) and the audit log (one row per change, whichever way it came
// in). Registered in migrations.ts as 0007 and 0008.

import type { Generated, Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface ApiAccountTable {
  id: Generated<number>;
  /** As given; unique without regard to case (login_key). */
  login: string;
  login_key: string;
  /** 'admin' | 'helpdesk' | 'customer'. */
  tier: string;
  /** The customer's security tag (its zones); for staff the tag recorded in change_by, or null. */
  sectag: string | null;
  /** "scrypt$N$r$p$salt-b64$hash-b64", or null: no password login (tokens only). */
  password_hash: string | null;
  ctime: number;
  mtime: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  account_id: number;
  /** SHA-256 of the secret, hex: the secret itself is shown once and never stored. */
  token_hash: string;
  /** Canonical zone name the token is limited to, or null. */
  zone: string | null;
  read_only: number;
  acme_only: number;
  expires: number | null;
  ctime: number;
  last_used: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  /** Client address, "cli", or null (dmsd acting on its own). */
  source: string | null;
  /** The operation (JSON-RPC method / zone_tool command's operation), "rfc2136-update", or null. */
  operation: string | null;
  zone_id: number | null;
  zone_name: string | null;
  zi_before: number | null;
  zi_after: number | null;
  kind: string;
  summary: string;
}

export interface ApiTables {
  api_accounts: ApiAccountTable;
  api_tokens: ApiTokenTable;
  audit_log: AuditLogTable;
}

function idTable(db: AnyDb, dialect: Dialect, name: string) {
  const t = db.schema.createTable(name);
  return dialect === 'postgres' ? t.addColumn('id', 'bigserial', (c) => c.primaryKey()) : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export function apiAccounts(dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      await idTable(db, dialect, 'api_accounts')
        .addColumn('login', 'text', (c) => c.notNull())
        .addColumn('login_key', 'text', (c) => c.notNull().unique())
        .addColumn('tier', 'text', (c) => c.notNull())
        .addColumn('sectag', 'text')
        .addColumn('password_hash', 'text')
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .execute();
      await idTable(db, dialect, 'api_tokens')
        .addColumn('account_id', 'bigint', (c) => c.notNull().references('api_accounts.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('zone', 'text')
        .addColumn('read_only', 'integer', (c) => c.notNull())
        .addColumn('acme_only', 'integer', (c) => c.notNull())
        .addColumn('expires', 'bigint')
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('last_used', 'bigint')
        .execute();
      await db.schema.createIndex('api_tokens_account').on('api_tokens').column('account_id').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('api_tokens').ifExists().execute();
      await db.schema.dropTable('api_accounts').ifExists().execute();
    },
  };
}

export function auditLog(dialect: Dialect): Migration {
  return {
    async up(db: AnyDb) {
      await idTable(db, dialect, 'audit_log')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('operation', 'text')
        .addColumn('zone_id', 'bigint')
        .addColumn('zone_name', 'text')
        .addColumn('zi_before', 'integer')
        .addColumn('zi_after', 'integer')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_zone').on('audit_log').columns(['zone_name', 'id']).execute();
      await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('audit_log').ifExists().execute();
    },
  };
}

/**
 * 0025: no index on the audit log's time. Every change writes one audit entry, and each index of the table is one more
 * page written and synced by that change's commit (an RFC 2136 UPDATE: ~20 µs a page). Entries are appended in time
 * order, so their ids serve as the time index: queries/audit.ts bisects the ids for a time.
 */
export const auditTimeByIds: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('audit_log_at').ifExists().execute();
  },
  async down(db: AnyDb) {
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  },
};
