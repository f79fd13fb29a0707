// Secondary servers as members of server groups (issue 4), managed with the original DMS commands (create_server,
// ls_server, show_server, delete_server, set_server_address, set_server_type, rename_server, move_server_sg,
// enable_server, disable_server). An enabled member is NOTIFYed on every publish of its group's zones (access.ts,
// zoneNotifyTargets); membership does NOT allow transfers: that stays explicit with add_transfer_rule, as a BIND
// allow-transfer / Knot acl is written separately from also-notify / notify.
//
// Servers are created ENABLED. The original created them DISABLED because a new slave first needed its rndc and
// rsync set-up; here the primary only sends NOTIFYs, which a server not ready yet just fails (the event is retried
// and ends FAILED, visible with ls_pending_notifies / ls_failed_events), so one command is enough to register a
// secondary. disable_server stops the NOTIFYs without forgetting the server.

import { globToRegExp } from './names.js';
import { isUniqueViolation, readTx, type Db, type Tx, writeTx } from '../store/index.js';
import {
  deleteServerRow,
  enabledServersOfGroup,
  groupIdByName,
  insertServer,
  liveZoneCountsByGroup,
  serverAt,
  serverRowByName,
  serverRowsWithGroup,
  updateServerRow,
} from '../store/queries/groups.js';
import { type ServerConfigRow, serverConfigRows } from '../store/queries/sgconfig.js';
import { nowMs, type ServiceContext } from './context.js';
import { parseServerAddress } from './server-config/address.js';
import { guardServerConfig } from './server-config/index.js';

export { parseServerAddress };
import { loadSettings } from './config.js';
import { InvalidArgument, ServerAddressExists, ServerExists, ServerGroupNotFound, ServerNotFound } from './errors.js';

export const SERVER_TYPES = ['bind9', 'nsd', 'knot'] as const;
export type HealthState = 'OK' | 'RETRY' | 'BROKEN' | 'DISABLED';
export type ServerType = (typeof SERVER_TYPES)[number];

export interface ServerInfo {
  id: number;
  name: string;
  address: string;
  port: number;
  type: ServerType;
  sg: string;
  enabled: boolean;
  /**
   * The original's ServerSM state: DISABLED for a disabled server, else what dmsd's scheduled checks found (OK, RETRY
   * after a failed check, BROKEN after several in a row); OK until the first check.
   */
  state: HealthState;
  /** When the server last answered a check (UDP or TCP), null if never. */
  lastReply: Date | null;
  /** Why the last check failed, null when it passed. */
  retryMsg: string | null;
  /** Zones the server served behind the published serial at the last check. */
  lagging: { zone: string; served: number | null; published: number }[];
  /** When it was last checked, null if never. */
  checked: Date | null;
  /** Zones whose (primary) server group is the server's group. */
  zoneCount: number;
  ctime: Date;
  mtime: Date;
}

export { ServerAddressExists, ServerExists, ServerNotFound };
/** enable_server on an enabled server, disable_server on a disabled one (the original refused both too). */
export class ServerStateError extends InvalidArgument {}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$/;

function checkName(name: string): string {
  const n = name.trim();
  if (!NAME_RE.test(n)) throw new InvalidArgument(`bad server name "${name}" (letters, digits, '.', '_', '-'; up to 63)`);
  return n;
}

function checkType(type: string): ServerType {
  const t = type.trim().toLowerCase();
  // 'nsd3' and 'knot3' are spellings of the original and of Knot's major version; 'bind' is what people type.
  const alias: Record<string, ServerType> = { bind: 'bind9', nsd3: 'nsd', nsd4: 'nsd', knot3: 'knot', knotd: 'knot' };
  const v = (SERVER_TYPES as readonly string[]).includes(t) ? (t as ServerType) : alias[t];
  if (!v) throw new InvalidArgument(`bad server type "${type}" (${SERVER_TYPES.join(', ')})`);
  return v;
}

async function sgId(trx: Tx, name: string): Promise<number> {
  const id = await groupIdByName(trx, name);
  if (id === undefined) throw new ServerGroupNotFound(name);
  return id;
}

async function serverRow(trx: Tx, name: string) {
  const r = await serverRowByName(trx, name.trim());
  if (!r) throw new ServerNotFound(name.trim());
  return r;
}

async function checkAddressFree(trx: Tx, a: { address: string; port: number }, exceptId?: number): Promise<void> {
  const other = await serverAt(trx, a.address, a.port, exceptId);
  if (other !== undefined) throw new ServerAddressExists(a.port === 53 ? a.address : `${a.address}#${a.port}`, other);
}

async function infos(trx: Tx, where: { name?: string; sg?: string; address?: { address: string; port?: number } }): Promise<ServerInfo[]> {
  const rows = await serverRowsWithGroup(trx, where);
  const counts = await liveZoneCountsByGroup(trx, [...new Set(rows.map((r) => Number(r.sg_id)))]);
  const health = await serverConfigRows(trx, rows.map((r) => Number(r.id)));
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    address: r.address,
    port: Number(r.port),
    type: r.server_type as ServerType,
    sg: r.sg_name,
    enabled: Number(r.enabled) === 1,
    ...healthFields(Number(r.enabled) === 1, health.get(Number(r.id))),
    zoneCount: counts.get(Number(r.sg_id)) ?? 0,
    ctime: new Date(Number(r.ctime)),
    mtime: new Date(Number(r.mtime)),
  }));
}

function healthFields(enabled: boolean, h: ServerConfigRow | undefined): Pick<ServerInfo, 'state' | 'lastReply' | 'retryMsg' | 'lagging' | 'checked'> {
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? null : new Date(Number(v)));
  return {
    state: !enabled ? 'DISABLED' : ((h?.health_state as HealthState | null | undefined) ?? 'OK'),
    lastReply: ms(h?.last_reply),
    retryMsg: enabled ? (h?.retry_msg ?? null) : null,
    lagging: enabled && h?.lagging ? (JSON.parse(h.lagging) as ServerInfo['lagging']) : [],
    checked: ms(h?.checked),
  };
}

/**
 * create_server [-g sg] name address [type]: a secondary in `sg` (default: the default_sg setting), NOTIFYed on
 * every publish of the group's zones from now on. Type bind9 by default.
 */
export async function createServer(
  ctx: ServiceContext,
  name: string,
  address: string,
  o: { sg?: string; type?: string; port?: number } = {},
): Promise<ServerInfo> {
  const n = checkName(name);
  const a = parseServerAddress(address, o.port);
  const type = checkType(o.type ?? 'bind9');
  return writeTx(ctx.store, async (trx) => {
    const sgName = o.sg ?? (await loadSettings(trx)).raw('default_sg');
    const sg = await sgId(trx, sgName);
    if (await serverRowByName(trx, n)) throw new ServerExists(n);
    await checkAddressFree(trx, a);
    const t = nowMs(ctx);
    try {
      await insertServer(trx, { name: n, address: a.address, port: a.port, server_type: type, sg_id: sg, enabled: 1, ctime: t, mtime: t });
    } catch (e) {
      // Only a concurrent create gets here (both checks above passed).
      if (isUniqueViolation(e)) throw new ServerExists(n);
      throw e;
    }
    return (await infos(trx, { name: n }))[0];
  });
}

/** ls_server [-g sg] [name ...]: every server (of a group; whose name matches one of `names`, * and ? as wildcards), by name. */
export async function listServers(ctx: ServiceContext, o: { sg?: string; names?: readonly string[] } = {}): Promise<ServerInfo[]> {
  const list = await readTx(ctx.store, async (trx) => {
    if (o.sg !== undefined) await sgId(trx, o.sg);
    return infos(trx, o.sg !== undefined ? { sg: o.sg } : {});
  });
  if (!o.names?.length) return list;
  const patterns = o.names.map((n) => globToRegExp(n));
  return list.filter((v) => patterns.some((p) => p.test(v.name)));
}

export async function getServer(ctx: ServiceContext, name: string): Promise<ServerInfo> {
  return readTx(ctx.store, async (trx) => {
    const r = await infos(trx, { name: name.trim() });
    if (!r[0]) throw new ServerNotFound(name.trim());
    return r[0];
  });
}

/** show_server_byaddr: the servers at an address (any port unless the text names one). */
export async function getServersByAddress(ctx: ServiceContext, address: string): Promise<ServerInfo[]> {
  const a = parseServerAddress(address);
  const withPort = /#\d+$|\]:\d+$/.test(address.trim());
  return readTx(ctx.store, async (trx) => {
    const r = await infos(trx, { address: withPort ? a : { address: a.address } });
    if (r.length === 0) throw new ServerNotFound(address.trim());
    return r;
  });
}

export async function deleteServer(ctx: ServiceContext, name: string): Promise<void> {
  if (!(await deleteServerRow(ctx.store.db, name.trim()))) throw new ServerNotFound(name.trim());
}

async function update(ctx: ServiceContext, name: string, fn: (trx: Tx, row: { id: number; enabled: number }) => Promise<Record<string, unknown>>): Promise<ServerInfo> {
  return writeTx(ctx.store, async (trx) => {
    const row = await serverRow(trx, name);
    const set = await fn(trx, { id: Number(row.id), enabled: Number(row.enabled) });
    // A change that would break the server's generated configuration is refused and rolled back (issue 11).
    await guardServerConfig(trx, Number(row.id), () => updateServerRow(trx, Number(row.id), { ...set, mtime: nowMs(ctx) }));
    const newName = typeof set.name === 'string' ? set.name : row.name;
    return (await infos(trx, { name: newName }))[0];
  });
}

/** set_server_address name address[#port] */
export async function setServerAddress(ctx: ServiceContext, name: string, address: string, port?: number): Promise<ServerInfo> {
  const a = parseServerAddress(address, port);
  return update(ctx, name, async (trx, row) => {
    await checkAddressFree(trx, a, row.id);
    return { address: a.address, port: a.port };
  });
}

/** set_server_type name bind9|nsd|knot */
export async function setServerType(ctx: ServiceContext, name: string, type: string): Promise<ServerInfo> {
  const t = checkType(type);
  return update(ctx, name, async () => ({ server_type: t }));
}

export async function renameServer(ctx: ServiceContext, from: string, to: string): Promise<ServerInfo> {
  const n = checkName(to);
  return update(ctx, from, async (trx, row) => {
    const other = await serverRowByName(trx, n);
    if (other && Number(other.id) !== row.id) throw new ServerExists(n);
    return { name: n };
  });
}

/** move_server_sg name sg: the server is NOTIFYed for the zones of its new group from the next publish on. */
export async function moveServerSg(ctx: ServiceContext, name: string, sg: string): Promise<ServerInfo> {
  return update(ctx, name, async (trx) => ({ sg_id: await sgId(trx, sg) }));
}

export async function enableServer(ctx: ServiceContext, name: string): Promise<ServerInfo> {
  return update(ctx, name, async (_trx, row) => {
    if (row.enabled === 1) throw new ServerStateError(`server ${name.trim()} is already enabled`);
    return { enabled: 1 };
  });
}

export async function disableServer(ctx: ServiceContext, name: string): Promise<ServerInfo> {
  return update(ctx, name, async (_trx, row) => {
    if (row.enabled === 0) throw new ServerStateError(`server ${name.trim()} is already disabled`);
    return { enabled: 0 };
  });
}

/** The enabled servers of a server group, by name: NOTIFY targets of each of the group's zones (access.ts). */
export async function enabledGroupServers(db: Db, sgIdValue: number): Promise<{ name: string; address: string; port: number }[]> {
  return enabledServersOfGroup(db, sgIdValue);
}
