// Per server group templates and per server pull tokens (issue 11).
//
// A template is operator-written text for one server type of one group, placed where render.ts says (BIND: the zone
// options of each zone statement; Knot: options of the group's zone templates; NSD: options of the group's pattern),
// with the placeholders {sg} {id} {master} {key}. It is how a group says what the fixed generator does not (an
// allow-query / allow-transfer for a private group, notify settings, Knot's semantic-checks…). Because the text is
// free, it is only stored after the real checker accepted the file it produces for every server of that type in the
// group; a refusal carries the checker's own message and changes nothing. A template stored earlier that a later
// generation breaks (a server added) is refused by reconfig like any other bad file: the last good file stays.
//
// A pull token lets a secondary fetch its own file (GET /config/<server>) without an admin account: it is good for
// that server's file only and for nothing else (it is not an API token: /jsonrpc does not know it). Only its SHA-256
// is stored; the secret is shown once.

import { readTx, type Tx, writeTx } from '../../store/index.js';
import { groupIdByName, serverRowByName } from '../../store/queries/groups.js';
import { serverIdsOfGroups } from '../../store/queries/sgconfig.js';
import { deleteServerTokenRow, deleteSgTemplateRow, putServerToken, putSgTemplate, serverOfTokenHash, sgTemplateRows } from '../../store/queries/sg-templates.js';
import { nowMs, type ServiceContext } from '../context.js';
import { InvalidArgument, ServerConfigRefused, ServerGroupNotFound, ServerNotFound } from '../errors.js';
import { CHECKERS, checkRendered } from './checker.js';
import { configInputFor, configInputOf } from './index.js';
import { type ConfigInput, type ConfigServerType, renderServerConfig } from './render.js';

export const TEMPLATE_MAX = 65536;
const SERVER_TYPES: readonly ConfigServerType[] = ['bind9', 'knot', 'nsd'];
/** Server pull tokens look different from API tokens (dms_…), so neither is ever taken for the other. */
export const SERVER_TOKEN_PREFIX = 'dmssrv_';

const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
const sha256 = (s: string) => crypto().createHash('sha256').update(s).digest('hex');

export interface SgTemplateInfo {
  sg: string;
  type: ConfigServerType;
  template: string;
  mtime: string;
}

async function sgIdOf(trx: Tx, sg: string): Promise<number> {
  const id = await groupIdByName(trx, sg.trim());
  if (id === undefined) throw new ServerGroupNotFound(sg.trim());
  return id;
}

function typeOf(type: string): ConfigServerType {
  if (!(SERVER_TYPES as readonly string[]).includes(type)) throw new InvalidArgument(`server type "${type}": bind9, knot or nsd`);
  return type as ConfigServerType;
}

/**
 * The inputs a new template is judged on: each server of that type in the group as it is now, or a stand-in server
 * when the group has none yet. Things the group may simply not have yet are stood in for, so the template is what is
 * judged: a master address (192.0.2.1, documentation space) and a zone (so BIND's zone options are written somewhere).
 */
async function checkInputs(trx: Tx, sgId: number, type: ConfigServerType, template: string): Promise<ConfigInput[]> {
  const servers = (await serverIdsOfGroups(trx, sgId)).filter((s) => s.server_type === type);
  const inputs: ConfigInput[] = [];
  for (const s of servers) inputs.push(await configInputFor(trx, s.name));
  if (inputs.length === 0)
    inputs.push(await configInputOf(trx, { name: `(stand-in ${type} server)`, type, address: '127.0.0.1', port: 53, sgId, zoneDir: null }));
  return inputs.map((i) => ({
    server: i.server,
    sg: {
      ...i.sg,
      template,
      primaries: i.sg.primaries.length ? i.sg.primaries : [{ address: '192.0.2.1', port: 53 }],
      zones: i.sg.zones.length || i.sg.catalog !== null ? i.sg.zones : [{ name: 'template-check.invalid.', alt: false }],
    },
  }));
}

/** set_sg_template: store a template once the real checker accepted every file it produces; else refuse, unchanged. */
export async function setSgTemplate(
  ctx: ServiceContext,
  sg: string,
  serverType: string,
  template: string,
  o: { checker?: Partial<Record<ConfigServerType, string>> } = {},
): Promise<SgTemplateInfo & { checked: string[] }> {
  const type = typeOf(serverType);
  if (template.length > TEMPLATE_MAX) throw new InvalidArgument(`template is longer than ${TEMPLATE_MAX} characters`);
  // Control characters have no place in three configuration languages (tabs and newlines do).
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(template)) throw new InvalidArgument('template contains control characters');
  if (!template.trim()) throw new InvalidArgument('template is empty: delete_sg_template removes one');
  const sgName = sg.trim();
  const inputs = await readTx(ctx.store, async (trx) => checkInputs(trx, await sgIdOf(trx, sg), type, template));
  const checked: string[] = [];
  for (const input of inputs) {
    const r = renderServerConfig(input); // ServerConfigRefused: the generator's reasons (the group's, not the template's)
    const c = await checkRendered(type, r, o.checker?.[type] ?? CHECKERS[type]);
    if (!c.ok) throw new ServerConfigRefused(input.server.name, [`template for ${type} of ${sgName}: ${c.command}: ${c.message}`]);
    checked.push(input.server.name);
  }
  const mtime = nowMs(ctx);
  await writeTx(ctx.store, async (trx) => {
    // The group may have been deleted meanwhile: its id is looked up again.
    await putSgTemplate(trx, await sgIdOf(trx, sg), type, template, mtime);
  });
  return { sg: sgName, type, template, mtime: new Date(mtime).toISOString(), checked };
}

/** show_sg_template: the group's templates (one type, or all of them). */
export async function showSgTemplates(ctx: ServiceContext, sg: string, serverType?: string): Promise<SgTemplateInfo[]> {
  const type = serverType === undefined ? undefined : typeOf(serverType);
  return readTx(ctx.store, async (trx) => {
    const id = await sgIdOf(trx, sg);
    return (await sgTemplateRows(trx, id))
      .filter((r) => type === undefined || r.server_type === type)
      .map((r) => ({ sg: sg.trim(), type: r.server_type as ConfigServerType, template: r.template, mtime: new Date(r.mtime).toISOString() }));
  });
}

/** delete_sg_template: the group's servers of that type get the generator's file alone again. */
export async function deleteSgTemplate(ctx: ServiceContext, sg: string, serverType: string): Promise<{ sg: string; type: ConfigServerType }> {
  const type = typeOf(serverType);
  await writeTx(ctx.store, async (trx) => {
    if (!(await deleteSgTemplateRow(trx, await sgIdOf(trx, sg), type))) throw new InvalidArgument(`server group ${sg.trim()} has no ${type} template`);
  });
  return { sg: sg.trim(), type };
}

/** create_server_token: a new pull token for the server (replacing its previous one); the secret is shown only here. */
export async function createServerToken(ctx: ServiceContext, server: string): Promise<{ server: string; token: string }> {
  const secret = SERVER_TOKEN_PREFIX + crypto().randomBytes(32).toString('base64url');
  return writeTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    await putServerToken(trx, Number(srv.id), sha256(secret), nowMs(ctx));
    return { server: srv.name, token: secret };
  });
}

/** delete_server_token: the server's pull token stops working. */
export async function deleteServerToken(ctx: ServiceContext, server: string): Promise<{ server: string; deleted: boolean }> {
  return writeTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    return { server: srv.name, deleted: await deleteServerTokenRow(trx, Number(srv.id)) };
  });
}

/** The server a pull token belongs to, or null (not a pull token, unknown, or revoked). */
export async function verifyServerToken(ctx: ServiceContext, secret: string): Promise<string | null> {
  if (!isServerToken(secret) || secret.length > 200) return null;
  return (await serverOfTokenHash(ctx.store.db, sha256(secret))) ?? null;
}

export const isServerToken = (secret: string): boolean => secret.startsWith(SERVER_TOKEN_PREFIX);
