// 0015: when the edit lock was taken (issue 10: the UI shows who holds a zone's lock and since when). Set when a lock
// is taken (edit_zone), kept when it is tickled (only the expiry moves), cleared with the lock. Locks held while the
// migration runs have no known start and stay null until taken again.

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export const lockSince: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('zones').addColumn('lock_since', 'bigint').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('zones').dropColumn('lock_since').execute();
  },
};
