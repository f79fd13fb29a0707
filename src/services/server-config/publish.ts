// Publishing secondary configuration (issue 11): reconfig_server / reconfig_sg / reconfig_all write each server's
// generated file into its configured directory and run its reload command. A file replaces the last good one only
// after the real checker accepted it (checker.ts), and only by rename, so the secondary never reads half a file; a
// refusal (the generator's or the checker's) leaves the last good file in place, is kept as the server's
// config_error and recorded as a FAILURE event (ls_failed_events), with the checker's own message.
//
// Files: <dir>/dms-<server>.conf, and for BIND with a catalog <dir>/dms-<server>-options.conf (included from inside
// options { }). The reload command is run without a shell (argv), after both files are in place.

import { readTx, writeTx } from '../../store/index.js';
import { insertEvent } from '../../store/queries/events.js';
import { serverConfigRow, serverIdsOfGroups, upsertServerConfig } from '../../store/queries/sgconfig.js';
import { groupIdByName, serverRowByName } from '../../store/queries/groups.js';
import { nowMs, type ServiceContext } from '../context.js';
import { DmsError, ServerGroupNotFound, ServerNotFound } from '../errors.js';
import { checkRendered } from './checker.js';
import { configInputFor, type ServedFilter, usesCatalog } from './index.js';
import { type ConfigServerType, type RenderedConfig, renderServerConfig } from './render.js';

/** held: dmsd does not serve the group's catalog zone yet (dmsd's own runs only): published once it does. */
export type ReconfigOutcome = 'installed' | 'unchanged' | 'not-published' | 'held' | 'refused' | 'reload-failed';

export interface ReconfigResult {
  server: string;
  outcome: ReconfigOutcome;
  /** The file written (installed) or that would have been. */
  file: string | null;
  /** The generator's reasons or the checker's / reload command's message. */
  message: string | null;
  /** Zones of the server's groups left out because dmsd does not serve them yet (with `served` only). */
  held?: string[];
}

export interface ReconfigOptions {
  onlyChanged?: boolean;
  checker?: Partial<Record<ConfigServerType, string>>;
  /** dmsd's runs: only the zones it serves (index.ts ServedFilter). */
  served?: ServedFilter;
}

export const configFileName = (server: string) => `dms-${server}.conf`;
export const optionsFileName = (server: string) => `dms-${server}-options.conf`;

function hashOf(r: RenderedConfig): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(r.main).update('\0').update(r.options ?? '').digest('hex');
}

async function recordFailure(ctx: ServiceContext, server: string, message: string): Promise<void> {
  const now = nowMs(ctx);
  await insertEvent(ctx.store.db, {
    event_type: 'server_config',
    zone_id: null,
    zone_name: null,
    state: 'FAILURE',
    payload: JSON.stringify({ server }),
    attempts: 1,
    last_error: message,
    created: now,
    scheduled: now,
    processed: now,
  });
}

function writeAtomic(path: string, text: string): void {
  const fs = process.getBuiltinModule('node:fs');
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode: 0o640 });
  fs.renameSync(tmp, path);
}

async function runReload(argv: string[]): Promise<string | null> {
  const cp = process.getBuiltinModule('node:child_process');
  return new Promise((resolve) => {
    cp.execFile(argv[0], argv.slice(1), { timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) resolve(null);
      else resolve(`${argv.join(' ')}: ${`${stderr}${stdout}`.trim() || error.message}`);
    });
  });
}

/** Publish one server's configuration. */
export async function reconfigServer(ctx: ServiceContext, server: string, o: ReconfigOptions = {}): Promise<ReconfigResult> {
  const path = process.getBuiltinModule('node:path');
  const got = await readTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const c = await serverConfigRow(trx, Number(srv.id));
    let rendered: RenderedConfig | undefined;
    let refused: string | undefined;
    const input = await configInputFor(trx, srv.name, o.served);
    // The catalog zone itself not served yet (just made): a secondary given it now would be refused its transfer.
    const catalogHeld = o.served !== undefined && usesCatalog(input) && !o.served(input.sg.catalog as string) ? input.sg.catalog : null;
    try {
      rendered = renderServerConfig(input);
    } catch (e) {
      if (!(e instanceof DmsError)) throw e;
      refused = e.message;
    }
    return { id: Number(srv.id), name: srv.name, type: srv.server_type as ConfigServerType, c, rendered, refused, held: input.held, catalogHeld };
  });
  const { id, name, type, c, held } = got;
  if (c.config_dir === null) return { server: name, outcome: 'not-published', file: null, message: null, held };
  const file = path.join(c.config_dir, configFileName(name));
  if (got.catalogHeld !== null) return { server: name, outcome: 'held', file, message: `catalog zone ${got.catalogHeld} not served by dmsd yet`, held: [...held, got.catalogHeld] };
  const fail = async (outcome: ReconfigOutcome, message: string): Promise<ReconfigResult> => {
    await writeTx(ctx.store, (trx) => upsertServerConfig(trx, id, { config_error: message }));
    await recordFailure(ctx, name, message);
    return { server: name, outcome, file, message };
  };
  if (!got.rendered) return fail('refused', got.refused ?? 'refused');
  const r = got.rendered;
  const hash = hashOf(r);
  if (o.onlyChanged && hash === c.config_hash && c.config_error === null) return { server: name, outcome: 'unchanged', file, message: null, held };
  const check = await checkRendered(type, r, o.checker?.[type]);
  if (!check.ok) return fail('refused', `${check.command}: ${check.message}`);
  try {
    // BIND's options fragment is always written, empty of statements when there is no catalog: the include line in
    // options { } stays valid, and a catalog-zones statement from before does not linger.
    if (type === 'bind9')
      writeAtomic(path.join(c.config_dir, optionsFileName(name)), r.options ?? `# Generated by DMS for server ${name}: nothing needed inside options { }.\n`);
    writeAtomic(file, r.main);
  } catch (e) {
    return fail('refused', `cannot write ${file}: ${(e as Error).message}`);
  }
  await writeTx(ctx.store, (trx) => upsertServerConfig(trx, id, { config_hash: hash, config_time: nowMs(ctx), config_error: null }));
  if (c.reload_cmd !== null) {
    const err = await runReload(JSON.parse(c.reload_cmd) as string[]);
    if (err !== null) return fail('reload-failed', err);
  }
  return { server: name, outcome: 'installed', file, message: null, held };
}

/** reconfig_sg / reconfig_all (and dmsd's batched run with onlyChanged): every server of a group, or of all groups. */
export async function reconfigServers(ctx: ServiceContext, o: ReconfigOptions & { sg?: string } = {}): Promise<ReconfigResult[]> {
  const servers = await readTx(ctx.store, async (trx) => {
    let sgId: number | undefined;
    if (o.sg !== undefined) {
      sgId = await groupIdByName(trx, o.sg);
      if (sgId === undefined) throw new ServerGroupNotFound(o.sg);
    }
    return serverIdsOfGroups(trx, sgId);
  });
  const out: ReconfigResult[] = [];
  for (const s of servers) out.push(await reconfigServer(ctx, s.name, o));
  return out;
}

export type PulledConfig =
  | { ok: true; server: string; type: ConfigServerType; text: string; hash: string }
  /** 422: the generator or the checker refused the file (their message); 503: not ready to be served yet. */
  | { ok: false; server: string; status: 400 | 422 | 503; message: string };

/**
 * GET /config/<server>: the file reconfig would write for the server (part 'main', or BIND's options fragment), once
 * the real checker accepted it. For a secondary that pulls its configuration instead of having it pushed; nothing is
 * written or recorded (a refusal is the puller's to see: it keeps its last good file).
 */
export async function pullServerConfig(
  ctx: ServiceContext,
  server: string,
  o: { part?: 'main' | 'options'; served?: ServedFilter; checker?: Partial<Record<ConfigServerType, string>> } = {},
): Promise<PulledConfig> {
  const got = await readTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const input = await configInputFor(trx, srv.name, o.served);
    const catalogHeld = o.served !== undefined && usesCatalog(input) && !o.served(input.sg.catalog as string) ? input.sg.catalog : null;
    try {
      return { name: srv.name, type: srv.server_type as ConfigServerType, rendered: renderServerConfig(input), catalogHeld };
    } catch (e) {
      if (!(e instanceof DmsError)) throw e;
      return { name: srv.name, type: srv.server_type as ConfigServerType, refused: e.message };
    }
  });
  const { name, type } = got;
  if (o.part === 'options' && type !== 'bind9') return { ok: false, server: name, status: 400, message: `only a bind9 server has an options fragment (${name} is ${type})` };
  if (!('rendered' in got) || !got.rendered) return { ok: false, server: name, status: 422, message: got.refused ?? 'refused' };
  if (got.catalogHeld) return { ok: false, server: name, status: 503, message: `catalog zone ${got.catalogHeld} not served by dmsd yet: try again shortly` };
  const check = await checkRendered(type, got.rendered, o.checker?.[type]);
  if (!check.ok) return { ok: false, server: name, status: 422, message: `${check.command}: ${check.message}` };
  const r = got.rendered;
  const text = o.part === 'options' ? (r.options ?? `# Generated by DMS for server ${name}: nothing needed inside options { }.\n`) : r.main;
  return { ok: true, server: name, type, text, hash: hashOf(r) };
}
