// Server group templates and server pull tokens (migration 0024).

import type { Kysely } from 'kysely';
import type { SgTemplateTables } from '../migrations-sg-templates.js';
import type { ServerTables } from '../migrations-servers.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type TDb = Kysely<Database & ServerTables & SgTemplateTables>;
/** The tables come from a later migration, outside the base Database type. */
const tdb = (d: Db): TDb => d as unknown as TDb;

export async function sgTemplateRows(db: Db, sgId: number): Promise<{ server_type: string; template: string; mtime: number }[]> {
  const rows = await tdb(db).selectFrom('sg_template').select(['server_type', 'template', 'mtime']).where('sg_id', '=', sgId).orderBy('server_type').execute();
  return rows.map((r) => ({ server_type: r.server_type, template: r.template, mtime: Number(r.mtime) }));
}

export async function sgTemplateOf(db: Db, sgId: number, serverType: string): Promise<string | null> {
  const r = await tdb(db).selectFrom('sg_template').select('template').where('sg_id', '=', sgId).where('server_type', '=', serverType).executeTakeFirst();
  return r ? r.template : null;
}

export async function putSgTemplate(db: Db, sgId: number, serverType: string, template: string, mtime: number): Promise<void> {
  await tdb(db).deleteFrom('sg_template').where('sg_id', '=', sgId).where('server_type', '=', serverType).execute();
  await tdb(db).insertInto('sg_template').values({ sg_id: sgId, server_type: serverType, template, mtime }).execute();
}

export async function deleteSgTemplateRow(db: Db, sgId: number, serverType: string): Promise<boolean> {
  const r = await tdb(db).deleteFrom('sg_template').where('sg_id', '=', sgId).where('server_type', '=', serverType).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function putServerToken(db: Db, serverId: number, tokenHash: string, ctime: number): Promise<void> {
  await tdb(db).deleteFrom('server_token').where('server_id', '=', serverId).execute();
  await tdb(db).insertInto('server_token').values({ server_id: serverId, token_hash: tokenHash, ctime }).execute();
}

export async function deleteServerTokenRow(db: Db, serverId: number): Promise<boolean> {
  const r = await tdb(db).deleteFrom('server_token').where('server_id', '=', serverId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The server a token hash belongs to (its current name), if any. */
export async function serverOfTokenHash(db: Db, tokenHash: string): Promise<string | undefined> {
  const r = await tdb(db)
    .selectFrom('server_token')
    .innerJoin('servers', 'servers.id', 'server_token.server_id')
    .select('servers.name as name')
    .where('server_token.token_hash', '=', tokenHash)
    .executeTakeFirst();
  return r?.name;
}
