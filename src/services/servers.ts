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

import type { Kysely } from 'kysely';
import { isUniqueViolation, readTx, type Store, type Tx, writeTx } from '../store/index.js';
import type { ServerTables } from '../store/migrations-servers.js';
import type { Database } from '../store/schema.js';
import { loadSettings } from './config.js';
import { InvalidArgument, ServerAddressExists, ServerExists, ServerGroupNotFound, ServerNotFound } from './errors.js';
import { ipVersion } from '../dns/address.js';

type SDb = Kysely<Database & ServerTables>;
const sdb = (d: Store['db'] | Tx): SDb => d as unknown as SDb;

export const SERVER_TYPES = ['bind9', 'nsd', 'knot'] as const;
export type ServerType = (typeof SERVER_TYPES)[number];

export interface ServerInfo {
  id: number;
  name: string;
  address: string;
  port: number;
  type: ServerType;
  sg: string;
  enabled: boolean;
  /** 'OK' when enabled, 'DISABLED' otherwise (the original's ServerSM states reduced to what dmsd tracks). */
  state: 'OK' | 'DISABLED';
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

/**
 * An address as typed by an operator: `192.0.2.1`, `2001:db8::1`, `192.0.2.1#5353`, `[2001:db8::1]:5353` or
 * `[2001:db8::1]#5353`. A separate `port` argument wins over none in the text; both given must agree.
 */
export function parseServerAddress(text: string, port?: number): { address: string; port: number } {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?:[#:](\d+))?$/.exec(t) ?? /^([^#[\]]+?)(?:#(\d+))?$/.exec(t);
  const address = m?.[1] ?? '';
  if (!m || !ipVersion(address)) throw new InvalidArgument(`bad server address "${text}" (IPv4 or IPv6 address, optionally #port)`);
  const inText = m[2] !== undefined ? Number(m[2]) : undefined;
  if (inText !== undefined && port !== undefined && inText !== port) throw new InvalidArgument(`two ports given for "${text}"`);
  const p = inText ?? port ?? 53;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgument(`bad port ${p}`);
  return { address: address.toLowerCase(), port: p };
}

async function sgId(trx: Tx, name: string): Promise<number> {
  const sg = await trx.selectFrom('server_groups').select('id').where('name', '=', name).executeTakeFirst();
  if (!sg) throw new ServerGroupNotFound(name);
  return Number(sg.id);
}

async function serverRow(trx: Tx, name: string) {
  const r = await sdb(trx).selectFrom('servers').selectAll().where('name', '=', name.trim()).executeTakeFirst();
  if (!r) throw new ServerNotFound(name.trim());
  return r;
}

async function checkAddressFree(trx: Tx, a: { address: string; port: number }, exceptId?: number): Promise<void> {
  let q = sdb(trx).selectFrom('servers').select('name').where('address', '=', a.address).where('port', '=', a.port);
  if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
  const other = await q.executeTakeFirst();
  if (other) throw new ServerAddressExists(a.port === 53 ? a.address : `${a.address}#${a.port}`, other.name);
}

async function infos(trx: Tx, where: { name?: string; sg?: string; address?: { address: string; port?: number } }): Promise<ServerInfo[]> {
  let q = sdb(trx)
    .selectFrom('servers as s')
    .innerJoin('server_groups as g', 'g.id', 's.sg_id')
    .select(['s.id', 's.name', 's.address', 's.port', 's.server_type', 's.enabled', 's.ctime', 's.mtime', 's.sg_id', 'g.name as sg_name'])
    .orderBy('s.name');
  if (where.name !== undefined) q = q.where('s.name', '=', where.name);
  if (where.sg !== undefined) q = q.where('g.name', '=', where.sg);
  if (where.address !== undefined) {
    q = q.where('s.address', '=', where.address.address);
    if (where.address.port !== undefined) q = q.where('s.port', '=', where.address.port);
  }
  const rows = await q.execute();
  const sgIds = [...new Set(rows.map((r) => Number(r.sg_id)))];
  const counts = new Map<number, number>();
  if (sgIds.length) {
    const c = await trx
      .selectFrom('zones')
      .select(['sg_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('sg_id', 'in', sgIds)
      .where('state', '<>', 'DELETED')
      .groupBy('sg_id')
      .execute();
    for (const r of c) counts.set(Number(r.sg_id), Number(r.n));
  }
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    address: r.address,
    port: Number(r.port),
    type: r.server_type as ServerType,
    sg: r.sg_name,
    enabled: Number(r.enabled) === 1,
    state: Number(r.enabled) === 1 ? 'OK' : 'DISABLED',
    zoneCount: counts.get(Number(r.sg_id)) ?? 0,
    ctime: new Date(Number(r.ctime)),
    mtime: new Date(Number(r.mtime)),
  }));
}

/**
 * create_server [-g sg] name address [type]: a secondary in `sg` (default: the default_sg setting), NOTIFYed on
 * every publish of the group's zones from now on. Type bind9 by default.
 */
export async function createServer(
  s: Store,
  name: string,
  address: string,
  o: { sg?: string; type?: string; port?: number } = {},
): Promise<ServerInfo> {
  const n = checkName(name);
  const a = parseServerAddress(address, o.port);
  const type = checkType(o.type ?? 'bind9');
  return writeTx(s, async (trx) => {
    const sgName = o.sg ?? (await loadSettings(trx)).raw('default_sg');
    const sg = await sgId(trx, sgName);
    if (await sdb(trx).selectFrom('servers').select('id').where('name', '=', n).executeTakeFirst()) throw new ServerExists(n);
    await checkAddressFree(trx, a);
    const t = Date.now();
    try {
      await sdb(trx)
        .insertInto('servers')
        .values({ name: n, address: a.address, port: a.port, server_type: type, sg_id: sg, enabled: 1, ctime: t, mtime: t })
        .execute();
    } catch (e) {
      // Only a concurrent create gets here (both checks above passed).
      if (isUniqueViolation(e)) throw new ServerExists(n);
      throw e;
    }
    return (await infos(trx, { name: n }))[0];
  });
}

/** ls_server [-g sg]: every server (of a group), by name. */
export async function listServers(s: Store, o: { sg?: string } = {}): Promise<ServerInfo[]> {
  return readTx(s, async (trx) => {
    if (o.sg !== undefined) await sgId(trx, o.sg);
    return infos(trx, o.sg !== undefined ? { sg: o.sg } : {});
  });
}

export async function getServer(s: Store, name: string): Promise<ServerInfo> {
  return readTx(s, async (trx) => {
    const r = await infos(trx, { name: name.trim() });
    if (!r[0]) throw new ServerNotFound(name.trim());
    return r[0];
  });
}

/** show_server_byaddr: the servers at an address (any port unless the text names one). */
export async function getServersByAddress(s: Store, address: string): Promise<ServerInfo[]> {
  const a = parseServerAddress(address);
  const withPort = /#\d+$|\]:\d+$/.test(address.trim());
  return readTx(s, async (trx) => {
    const r = await infos(trx, { address: withPort ? a : { address: a.address } });
    if (r.length === 0) throw new ServerNotFound(address.trim());
    return r;
  });
}

export async function deleteServer(s: Store, name: string): Promise<void> {
  const r = await sdb(s.db).deleteFrom('servers').where('name', '=', name.trim()).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new ServerNotFound(name.trim());
}

async function update(s: Store, name: string, fn: (trx: Tx, row: { id: number; enabled: number }) => Promise<Record<string, unknown>>): Promise<ServerInfo> {
  return writeTx(s, async (trx) => {
    const row = await serverRow(trx, name);
    const set = await fn(trx, { id: Number(row.id), enabled: Number(row.enabled) });
    await sdb(trx)
      .updateTable('servers')
      .set({ ...set, mtime: Date.now() })
      .where('id', '=', row.id)
      .execute();
    const newName = typeof set.name === 'string' ? set.name : row.name;
    return (await infos(trx, { name: newName }))[0];
  });
}

/** set_server_address name address[#port] */
export async function setServerAddress(s: Store, name: string, address: string, port?: number): Promise<ServerInfo> {
  const a = parseServerAddress(address, port);
  return update(s, name, async (trx, row) => {
    await checkAddressFree(trx, a, row.id);
    return { address: a.address, port: a.port };
  });
}

/** set_server_type name bind9|nsd|knot */
export async function setServerType(s: Store, name: string, type: string): Promise<ServerInfo> {
  const t = checkType(type);
  return update(s, name, async () => ({ server_type: t }));
}

export async function renameServer(s: Store, from: string, to: string): Promise<ServerInfo> {
  const n = checkName(to);
  return update(s, from, async (trx, row) => {
    const other = await sdb(trx).selectFrom('servers').select('id').where('name', '=', n).executeTakeFirst();
    if (other && Number(other.id) !== row.id) throw new ServerExists(n);
    return { name: n };
  });
}

/** move_server_sg name sg: the server is NOTIFYed for the zones of its new group from the next publish on. */
export async function moveServerSg(s: Store, name: string, sg: string): Promise<ServerInfo> {
  return update(s, name, async (trx) => ({ sg_id: await sgId(trx, sg) }));
}

export async function enableServer(s: Store, name: string): Promise<ServerInfo> {
  return update(s, name, async (_trx, row) => {
    if (row.enabled === 1) throw new ServerStateError(`server ${name.trim()} is already enabled`);
    return { enabled: 1 };
  });
}

export async function disableServer(s: Store, name: string): Promise<ServerInfo> {
  return update(s, name, async (_trx, row) => {
    if (row.enabled === 0) throw new ServerStateError(`server ${name.trim()} is already disabled`);
    return { enabled: 0 };
  });
}

/** The enabled servers of a server group, by name: NOTIFY targets of each of the group's zones (access.ts). */
export async function enabledGroupServers(db: Store['db'] | Tx, sgIdValue: number): Promise<{ name: string; address: string; port: number }[]> {
  const rows = await sdb(db)
    .selectFrom('servers')
    .select(['name', 'address', 'port'])
    .where('sg_id', '=', sgIdValue)
    .where('enabled', '=', 1)
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, address: r.address, port: Number(r.port) }));
}
