// 0021: the DNS Cookie secrets (RFC 7873/9018). Every dmsd process of an installation (workers, instances on other
// hosts sharing the database) must make and check server cookies with the same secret, so it lives here rather
// than in a file of one host's data directory. A row per secret; `created` (ms) orders them (services/cookies.ts
// decides which is current, which is still accepted, and rotates).

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface DnsCookieSecretTable {
  /** Milliseconds since the epoch; unique (two processes rotating at the same millisecond: one insert fails). */
  created: number;
  /** 16 octets, hex (the SipHash-2-4 key). */
  secret: string;
}

export interface CookieTables {
  dns_cookie_secrets: DnsCookieSecretTable;
}

export const cookieSecrets: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('dns_cookie_secrets')
      .addColumn('created', 'bigint', (c) => c.primaryKey())
      .addColumn('secret', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('dns_cookie_secrets').ifExists().execute();
  },
};
