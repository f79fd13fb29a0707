// 0017: zone lists filtered by state at a million zones (issue 16: a page < 50 ms). A state held by few zones
// (DISABLED among a million PUBLISHED) would otherwise cost a walk of the whole name index to fill one page; with
// (state, name) a page is a walk of that state's names in order that stops after the page.

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export const stateIndex: Migration = {
  async up(db: AnyDb) {
    await db.schema.createIndex('zones_state_name').on('zones').columns(['state', 'name']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('zones_state_name').execute();
  },
};
