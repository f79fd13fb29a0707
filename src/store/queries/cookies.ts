// The DNS Cookie secrets (migrations-cookies.ts).

import type { Kysely } from 'kysely';
import type { CookieTables } from '../migrations-cookies.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type CDb = Kysely<Database & CookieTables>;
const cdb = (d: Db): CDb => d as unknown as CDb;

/** All secrets, oldest first. */
export async function cookieSecretRows(db: Db): Promise<{ created: number; secret: string }[]> {
  const rows = await cdb(db).selectFrom('dns_cookie_secrets').select(['created', 'secret']).orderBy('created').execute();
  return rows.map((r) => ({ created: Number(r.created), secret: r.secret }));
}

/** Add a secret; false when one with the same `created` exists (another process rotated at the same moment). */
export async function insertCookieSecret(db: Db, created: number, secret: string): Promise<boolean> {
  const r = await cdb(db).insertInto('dns_cookie_secrets').values({ created, secret }).onConflict((oc) => oc.column('created').doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Forget the secrets created before `before` (ms). */
export async function deleteCookieSecretsBefore(db: Db, before: number): Promise<void> {
  await cdb(db).deleteFrom('dns_cookie_secrets').where('created', '<', before).execute();
}
