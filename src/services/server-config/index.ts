// Secondary configuration (issue 11): what DMS tells each secondary of a server group, gathered from the store and
// rendered by render.ts. The commands that change what goes into a configuration (set_sg_config,
// set_sg_master_address, set_server_config…) are refused when they would make a server's configuration broken where
// it was not before, inside their transaction, so a refused command changes nothing.

import { Name } from '../../dns/name.js';
import { parsePrefix } from '../../dns/address.js';
import { readTx, type Tx, writeTx } from '../../store/index.js';
import { groupIdByName, groupRowById, serverRowByName, updateGroupRow } from '../../store/queries/groups.js';
import { transferRuleRows, tsigKeyRow } from '../../store/queries/keys.js';
import {
  catalogZoneIds,
  serverConfigRow,
  serverIdsOfGroups,
  sgConfigRow,
  upsertServerConfig,
  upsertSgConfig,
  zonesOfGroup,
} from '../../store/queries/sgconfig.js';
import { zoneNamesById } from '../../store/queries/zones.js';
import { sgTemplateOf } from '../../store/queries/sg-templates.js';
import type { ServiceContext } from '../context.js';
import { InvalidArgument, ServerConfigRefused, ServerGroupNotFound, ServerNotFound, TsigKeyNotFound } from '../errors.js';
import { parseServerAddress } from './address.js';
import { type ConfigEndpoint, type ConfigInput, type ConfigServerType, configProblems, type RenderedConfig, renderServerConfig } from './render.js';

export { type ConfigInput, type RenderedConfig, renderServerConfig, includeLine, usesCatalog, zoneFileName } from './render.js';

/** A master address as stored: "192.0.2.1" or "192.0.2.1#5353" / "[2001:db8::1]#5353" (port 53 when none). */
export function parseMasterAddress(text: string): ConfigEndpoint {
  return parseServerAddress(text);
}

/** The stored form of a master address: the address, with #port when not 53. */
export function formatEndpoint(e: ConfigEndpoint): string {
  if (e.port === 53) return e.address;
  return e.address.includes(':') ? `[${e.address}]#${e.port}` : `${e.address}#${e.port}`;
}

async function sgIdOf(trx: Tx, name: string): Promise<number> {
  const id = await groupIdByName(trx, name);
  if (id === undefined) throw new ServerGroupNotFound(name);
  return id;
}

/**
 * Which zones dmsd serves now (dmsd's own runs pass it; zone_tool's reconfig commands do not): a zone the database
 * publishes but dmsd does not serve yet (its zone table is still taking in a bulk creation, a signed zone waits for
 * its signer) is left out of the configuration and the catalog until it is, so a secondary told about it finds it.
 */
export type ServedFilter = (zone: string) => boolean;

/** The input of render.ts for one server, read in `trx`; with `served`, only the zones dmsd serves (held: the rest). */
export async function configInputFor(trx: Tx, serverName: string, served?: ServedFilter): Promise<ConfigInput & { held: string[] }> {
  const srv = await serverRowByName(trx, serverName.trim());
  if (!srv) throw new ServerNotFound(serverName.trim());
  const sc = await serverConfigRow(trx, Number(srv.id));
  return configInputOf(trx, {
    name: srv.name,
    type: srv.server_type as ConfigServerType,
    address: srv.address,
    port: Number(srv.port),
    sgId: Number(srv.sg_id),
    zoneDir: sc.zone_dir,
  }, served);
}

export async function configInputOf(
  trx: Tx,
  srv: { name: string; type: ConfigServerType; address: string; port: number; sgId: number; zoneDir: string | null },
  served?: ServedFilter,
): Promise<ConfigInput & { held: string[] }> {
  const sg = await groupRowById(trx, srv.sgId);
  if (!sg) throw new ServerGroupNotFound(String(srv.sgId));
  const sc = await sgConfigRow(trx, srv.sgId);
  const primaries: ConfigEndpoint[] = [];
  // A stored address that no longer parses is passed on as it is: the generator refuses it with the reason.
  for (const a of [sg.master_address, sg.master_alt_address]) {
    if (a === null || a === '') continue;
    try {
      primaries.push(parseMasterAddress(a));
    } catch {
      primaries.push({ address: a, port: 53 });
    }
  }
  let key: ConfigInput['sg']['key'] = null;
  if (sc.xfr_key !== null) {
    const k = await tsigKeyRow(trx, sc.xfr_key);
    // A key deleted after it was chosen: the configuration cannot name it.
    key = k ? { name: k.name, algorithm: k.algorithm, secret: k.secret } : { name: sc.xfr_key, algorithm: '(deleted key)', secret: '' };
  }
  const catalogs = await catalogZoneIds(trx);
  const held: string[] = [];
  let zones = await zonesOfGroup(trx, srv.sgId, { replica: sc.replica === 1, exclude: catalogs });
  if (served)
    zones = zones.filter((z) => {
      if (served(z.name)) return true;
      held.push(z.name);
      return false;
    });
  let catalog: string | null = null;
  if (sc.use_catalog === 1 && sc.catalog_zone_id !== null) catalog = (await zoneNamesById(trx, [sc.catalog_zone_id])).get(sc.catalog_zone_id) ?? null;
  return {
    held,
    server: { name: srv.name, type: srv.type, address: srv.address, port: srv.port, zoneDir: srv.zoneDir },
    sg: {
      name: sg.name,
      primaries,
      key,
      private: sc.private === 1,
      queryAcl: sc.query_acl ? (JSON.parse(sc.query_acl) as string[]) : [],
      catalog,
      zones: zones.map((z) => ({ name: z.name, alt: z.alt })),
      transferRules: (await transferRuleRows(trx, { zoneId: null, sgId: srv.sgId })).map((r) => ({ key: r.key_name, address: r.address })),
      template: await sgTemplateOf(trx, srv.sgId, srv.type),
    },
  };
}

/** Every server of a group (or of all groups) with the problems of its configuration (empty = fine). */
async function problemsOfServers(trx: Tx, sgId?: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of await serverIdsOfGroups(trx, sgId)) out.set(s.name, configProblems(await configInputFor(trx, s.name)));
  return out;
}

/**
 * Run `change` in `trx`, then refuse it (the transaction rolls back) when a server of the group has a configuration
 * problem it did not have before. Problems that were there already (an SG that never had a master address) do not
 * block an unrelated change; they are reported by show_server_config and reconfig.
 */
async function guarded<T>(trx: Tx, sgId: number | undefined, change: () => Promise<T>): Promise<T> {
  const before = await problemsOfServers(trx, sgId);
  const result = await change();
  const after = await problemsOfServers(trx, sgId);
  for (const [server, reasons] of after) {
    const old = new Set(before.get(server) ?? []);
    const fresh = reasons.filter((r) => !old.has(r));
    if (fresh.length) throw new ServerConfigRefused(server, fresh);
  }
  return result;
}

/**
 * Run a change to one server (set_server_address, set_server_type, move_server_sg, rename_server) in `trx`, refused
 * (rolled back) when the server's configuration gets a problem it did not have: a Knot server moved into a private
 * group, a type whose configuration cannot carry the group's zones.
 */
export async function guardServerConfig<T>(trx: Tx, serverId: number, change: () => Promise<T>): Promise<T> {
  const problems = async () => {
    const srv = (await serverIdsOfGroups(trx)).find((s) => s.id === serverId);
    return srv ? { name: srv.name, reasons: configProblems(await configInputFor(trx, srv.name), 'server') } : { name: '', reasons: [] };
  };
  const before = new Set((await problems()).reasons);
  const result = await change();
  const after = await problems();
  const fresh = after.reasons.filter((r) => !before.has(r));
  if (fresh.length) throw new ServerConfigRefused(after.name, fresh);
  return result;
}

/** show_server_config: the file for the server (part 'main') or BIND's options fragment (part 'options'). */
export async function showServerConfig(ctx: ServiceContext, server: string): Promise<RenderedConfig & { server: string; type: ConfigServerType }> {
  return readTx(ctx.store, async (trx) => {
    const input = await configInputFor(trx, server);
    return { server: input.server.name, type: input.server.type, ...renderServerConfig(input) };
  });
}

export interface SgConfigInfo {
  sg: string;
  masterAddress: string | null;
  masterAltAddress: string | null;
  xfrKey: string | null;
  private: boolean;
  queryAcl: string[];
  replica: boolean;
  useCatalog: boolean;
  catalogZone: string | null;
}

export async function getSgConfig(ctx: ServiceContext, sg: string): Promise<SgConfigInfo> {
  return readTx(ctx.store, (trx) => sgConfigInfo(trx, sg));
}

async function sgConfigInfo(trx: Tx, sg: string): Promise<SgConfigInfo> {
  const id = await sgIdOf(trx, sg);
  const row = await groupRowById(trx, id);
  const c = await sgConfigRow(trx, id);
  const catalogZone = c.catalog_zone_id === null ? null : ((await zoneNamesById(trx, [c.catalog_zone_id])).get(c.catalog_zone_id) ?? null);
  return {
    sg,
    masterAddress: row?.master_address ?? null,
    masterAltAddress: row?.master_alt_address ?? null,
    xfrKey: c.xfr_key,
    private: c.private === 1,
    queryAcl: c.query_acl ? (JSON.parse(c.query_acl) as string[]) : [],
    replica: c.replica === 1,
    useCatalog: c.use_catalog === 1,
    catalogZone,
  };
}

export interface SgConfigChange {
  /** TSIG key name (must exist), or null for none. */
  xfrKey?: string | null;
  private?: boolean;
  queryAcl?: string[];
  replica?: boolean;
  useCatalog?: boolean;
}

/** set_sg_config: what the group's secondaries are told. Refused when it would break a server's configuration. */
export async function setSgConfig(ctx: ServiceContext, sg: string, o: SgConfigChange): Promise<SgConfigInfo> {
  for (const a of o.queryAcl ?? []) if (!parsePrefix(a)) throw new InvalidArgument(`bad query ACL entry "${a}" (an address or CIDR prefix)`);
  return writeTx(ctx.store, async (trx) => {
    const id = await sgIdOf(trx, sg);
    const set: Parameters<typeof upsertSgConfig>[2] = {};
    if (o.xfrKey !== undefined) {
      if (o.xfrKey === null) set.xfr_key = null;
      else {
        let key: string;
        try {
          key = Name.from(o.xfrKey.trim()).key;
        } catch (e) {
          throw new InvalidArgument(`bad TSIG key name "${o.xfrKey}": ${(e as Error).message}`);
        }
        if (!(await tsigKeyRow(trx, key))) throw new TsigKeyNotFound(key);
        set.xfr_key = key;
      }
    }
    if (o.private !== undefined) set.private = o.private ? 1 : 0;
    if (o.queryAcl !== undefined) set.query_acl = JSON.stringify(o.queryAcl);
    if (o.replica !== undefined) set.replica = o.replica ? 1 : 0;
    if (o.useCatalog !== undefined) set.use_catalog = o.useCatalog ? 1 : 0;
    await guarded(trx, id, () => upsertSgConfig(trx, id, set));
    return sgConfigInfo(trx, sg);
  });
}

/** set_sg_master_address / set_sg_alt_master_address (null clears the alternate; the master cannot be cleared). */
export async function setSgMasterAddress(ctx: ServiceContext, sg: string, which: 'master' | 'alt', address: string | null): Promise<SgConfigInfo> {
  let stored: string | null = null;
  if (address !== null) stored = formatEndpoint(parseMasterAddress(address));
  else if (which === 'master') throw new InvalidArgument('a server group keeps its master address (its secondaries transfer from it): give a new one');
  return writeTx(ctx.store, async (trx) => {
    const id = await sgIdOf(trx, sg);
    await guarded(trx, id, () => updateGroupRow(trx, id, which === 'master' ? { master_address: stored } : { master_alt_address: stored }));
    return sgConfigInfo(trx, sg);
  });
}

export interface ServerConfigInfo {
  server: string;
  configDir: string | null;
  zoneDir: string | null;
  reloadCmd: string[] | null;
  configTime: Date | null;
  configHash: string | null;
  configError: string | null;
}

export async function getServerConfigSettings(ctx: ServiceContext, server: string): Promise<ServerConfigInfo> {
  return readTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const c = await serverConfigRow(trx, Number(srv.id));
    return {
      server: srv.name,
      configDir: c.config_dir,
      zoneDir: c.zone_dir,
      reloadCmd: c.reload_cmd ? (JSON.parse(c.reload_cmd) as string[]) : null,
      configTime: c.config_time === null ? null : new Date(Number(c.config_time)),
      configHash: c.config_hash,
      configError: c.config_error,
    };
  });
}

/** set_server_config: where reconfig writes the server's file and the command that makes the server read it. */
export async function setServerConfig(
  ctx: ServiceContext,
  server: string,
  o: { configDir?: string | null; zoneDir?: string | null; reloadCmd?: string[] | null },
): Promise<ServerConfigInfo> {
  if (o.configDir !== undefined && o.configDir !== null && !o.configDir.startsWith('/'))
    throw new InvalidArgument(`config directory "${o.configDir}" must be an absolute path`);
  if (o.zoneDir !== undefined && o.zoneDir !== null && !/^\/[A-Za-z0-9._/+-]*$/.test(o.zoneDir))
    throw new InvalidArgument(`zone directory "${o.zoneDir}" must be an absolute path of letters, digits and ._/+-`);
  if (o.reloadCmd !== undefined && o.reloadCmd !== null && (o.reloadCmd.length === 0 || o.reloadCmd[0] === ''))
    throw new InvalidArgument('an empty reload command: give the program and its arguments, or none');
  await writeTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const set: Parameters<typeof upsertServerConfig>[2] = {};
    if (o.configDir !== undefined) set.config_dir = o.configDir;
    if (o.zoneDir !== undefined) set.zone_dir = o.zoneDir;
    if (o.reloadCmd !== undefined) set.reload_cmd = o.reloadCmd === null ? null : JSON.stringify(o.reloadCmd);
    await upsertServerConfig(trx, Number(srv.id), set);
  });
  return getServerConfigSettings(ctx, server);
}
