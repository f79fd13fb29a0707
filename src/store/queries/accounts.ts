// API accounts and their bearer tokens (issue 16).

import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { Dialect } from '../migrations.js';
import type { ApiAccountTable, ApiTables, ApiTokenTable } from '../migrations-api.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type ADb = Kysely<Database & ApiTables>;
/** The API tables come from a later migration, outside the base Database type. */
const adb = (d: Db): ADb => d as unknown as ADb;

export type AccountRow = Selectable<ApiAccountTable>;
export type TokenRow = Selectable<ApiTokenTable>;

export async function insertAccount(db: Db, row: Insertable<ApiAccountTable>): Promise<number> {
  const r = await adb(db).insertInto('api_accounts').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function accountByLogin(db: Db, loginKey: string): Promise<AccountRow | undefined> {
  return adb(db).selectFrom('api_accounts').selectAll().where('login_key', '=', loginKey).executeTakeFirst();
}

/** Whether any account of this tier exists (the first-run set-up is offered while no admin account does). */
export async function hasAccountOfTier(db: Db, tier: string): Promise<boolean> {
  const r = await adb(db).selectFrom('api_accounts').select('id').where('tier', '=', tier).limit(1).executeTakeFirst();
  return r !== undefined;
}

/**
 * Serialise the writers that create an account only while no admin account exists (the first-run set-up): the check
 * and the insert must be one step even with several dmsd on one PostgreSQL, where READ COMMITTED would let two
 * transactions both see "no admin" and both insert. An advisory lock held to commit makes the second one wait and
 * then see the first one's account. SQLite's BEGIN IMMEDIATE already admits one writer at a time.
 */
export async function lockFirstAdmin(trx: Db, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${7340034})`.execute(trx);
}

export async function accountById(db: Db, id: number): Promise<AccountRow | undefined> {
  return adb(db).selectFrom('api_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function accountRows(db: Db): Promise<AccountRow[]> {
  return adb(db).selectFrom('api_accounts').selectAll().orderBy('login_key').execute();
}

export async function updateAccount(db: Db, id: number, set: Updateable<ApiAccountTable>): Promise<void> {
  await adb(db).updateTable('api_accounts').set(set).where('id', '=', id).execute();
}

/** Delete an account (its tokens go with it). */
export async function deleteAccountRow(db: Db, id: number): Promise<void> {
  await adb(db).deleteFrom('api_tokens').where('account_id', '=', id).execute();
  await adb(db).deleteFrom('api_accounts').where('id', '=', id).execute();
}

export async function insertToken(db: Db, row: Insertable<ApiTokenTable>): Promise<number> {
  const r = await adb(db).insertInto('api_tokens').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(r.id);
}

/** A token by the hash of its secret, with its account. */
export async function tokenByHash(db: Db, hash: string): Promise<{ token: TokenRow; account: AccountRow } | undefined> {
  const token = await adb(db).selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (!token) return undefined;
  const account = await accountById(db, Number(token.account_id));
  return account ? { token, account } : undefined;
}

export async function tokenRows(db: Db, accountId?: number): Promise<TokenRow[]> {
  let q = adb(db).selectFrom('api_tokens').selectAll();
  if (accountId !== undefined) q = q.where('account_id', '=', accountId);
  return q.orderBy('id').execute();
}

/** Delete a token; false when there is none with that id. */
export async function deleteTokenRow(db: Db, id: number): Promise<boolean> {
  const r = await adb(db).deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function touchToken(db: Db, id: number, at: number): Promise<void> {
  await adb(db).updateTable('api_tokens').set({ last_used: at }).where('id', '=', id).execute();
}
