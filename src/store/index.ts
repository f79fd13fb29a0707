// The store: one Kysely database (SQLite embedded default, PostgreSQL for production) with its migrations applied.
// Services take a Store (in their context) and call the named queries of ./queries/<family>.ts; nothing else in DMS
// issues SQL.

export type { Database } from './schema.js';
export type { CommittedFeedRow, Db, Store, StoreLocationArgs, StoreOptions, Tx } from './store.js';
export { batchWrites, checkpointNow, feedRowsOf, isUniqueViolation, openStore, readConfigEntries, readTx, resolveStoreOptions, SQLITE_FILE, writeTx } from './store.js';
export { type BackupResult, backupStore, restoreStore } from './backup.js';
export { DEFAULT_SG_APEX_NS, DEFAULT_SG_NAME, migrationProvider } from './migrations.js';
