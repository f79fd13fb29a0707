import type { Kysely } from 'kysely';

export interface StoreOptions {
  /** Directory holding the SQLite file (dms.sqlite) when no database URL is given. */
  dataDir: string;
  /** postgres://… — selects PostgreSQL. */
  databaseUrl?: string;
}

/** What `dmsd` and `zone_tool` accept on their command lines. */
export interface StoreLocationArgs {
  data?: string;
  databaseUrl?: string;
  config?: string;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  // biome-ignore lint/suspicious/noExplicitAny: replaced by the schema type
  readonly db: Kysely<any>;
  /** The SQLite file path or the PostgreSQL URL without password. */
  readonly location: string;
  close(): Promise<void>;
}

export function resolveStoreOptions(_args: StoreLocationArgs, _env: NodeJS.ProcessEnv = process.env): StoreOptions {
  throw new Error('not yet');
}

export async function openStore(_opts: StoreOptions): Promise<Store> {
  throw new Error('not yet');
}
