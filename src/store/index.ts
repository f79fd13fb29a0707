// The store: one Kysely database (SQLite embedded default, PostgreSQL for production) with its migrations applied.
// Services take a Store as a parameter; nothing else in DMS issues SQL.

export type { Store, StoreOptions, StoreLocationArgs } from './store.js';
export { openStore, resolveStoreOptions } from './store.js';
