// The heart of the service layer: reading a zone at a version and writing a new version. Every kind of change
// (create, edit, load, RFC 2136 update, copy/republish, apex refresh, serial poke) ends in commitVersion, so the
// rules — SOA and apex from the server group, validation, serial policy, one transaction — hold for all of them.

import { RRClass, RRType, typeToString } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { ByteSlab } from '../dns/slab.js';
import { canonicalRdata, rdataTargetName } from '../dns/rdata.js';
import { WireReader } from '../dns/wire.js';
import { feedRowsOf, type Tx } from '../store/index.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { appendChange } from '../store/queries/feed.js';
import { insertAudit } from '../store/queries/audit.js';
import { liveZoneRow, lockedZoneRowById, updateZoneRow, type ZoneRow } from '../store/queries/zones.js';
import {
  aliveRowsAtOwners,
  aliveRowsOfTypes,
  currentRows,
  insertZi as insertZiRow,
  markZiPublished,
  type RecordRowData,
  rowsAt,
  servedRowsChangedBetween,
  type StoredRow,
  writeRecordRows,
  type ZiRow,
  ziRow,
  ziRowBySerial,
} from '../store/queries/versions.js';
export { aliveRowsAt, currentRows, deleteOrphanRows, ownerRowsAt, rowsAt, type StoredRow, type ZiRow } from '../store/queries/versions.js';
import { type GroupRow, groupRowById } from '../store/queries/groups.js';
import { checkZone } from '../zonefile/check.js';
import type { Settings } from './config.js';
import {
  SerialInvalid,
  ServerGroupNotFound,
  ZiNotFound,
  ZoneNotFound,
  ZoneValidationFailed,
  type ValidationProblem,
} from './errors.js';
import { chooseSerial, serialGt } from './serial.js';
import { autoReverse, type ForwardAddressChange, isAddressRecord, noAddressChange, type ReverseReport } from './reverse.js';
import type { CommittedChange, RRFlags, SaveResult, ZiInfo, ZiSelector, ZoneChange, ZoneRecord } from './types.js';

export type { ZoneRow };
export type SgRow = GroupRow;

export interface SoaFields {
  mname: string;
  rname: string;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  ttl: number | null;
}

// ---- small conversions ----------------------------------------------------------------------------------------

export const ms = (d: number | null): Date | null => (d === null ? null : new Date(Number(d)));

export function newToken(): string {
  // Loaded here, not at import: node:crypto costs every one-shot zone_tool command a few ms of start-up.
  return process.getBuiltinModule('node:crypto').randomBytes(16).toString('hex');
}

export function soaRdata(f: SoaFields, serial: number): Uint8Array {
  const names = soaNames(f.mname, f.rname);
  const out = new Uint8Array(names.length + 20);
  out.set(names);
  const v = new DataView(out.buffer);
  let at = names.length;
  for (const n of [serial, f.refresh, f.retry, f.expire, f.minimum]) {
    v.setUint32(at, n >>> 0);
    at += 4;
  }
  return out;
}

/** MNAME and RNAME in wire form, by their text (a zone's SOA names rarely change; every version writes them). */
function soaNames(mname: string, rname: string): Uint8Array {
  const key = `${mname} ${rname}`;
  let wire = soaNameWires.get(key);
  if (wire === undefined) {
    const m = Name.from(mname).toWire();
    const r = Name.from(rname).toWire();
    wire = new Uint8Array(m.length + r.length);
    wire.set(m);
    wire.set(r, m.length);
    if (soaNameWires.size >= 10_000) soaNameWires.clear();
    soaNameWires.set(key, wire);
  }
  return wire;
}

const soaNameWires = new Map<string, Uint8Array>();

export function parseSoa(rdata: Uint8Array, ttl: number): SoaFields & { serial: number } {
  const r = new WireReader(rdata);
  const mname = r.name().toString();
  const rname = r.name().toString();
  const serial = r.u32();
  return { mname, rname, serial, refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32(), ttl };
}

export function ziSoaFields(zi: ZiRow): SoaFields {
  return {
    mname: zi.soa_mname,
    rname: zi.soa_rname,
    refresh: Number(zi.soa_refresh),
    retry: Number(zi.soa_retry),
    expire: Number(zi.soa_expire),
    minimum: Number(zi.soa_minimum),
    ttl: zi.soa_ttl === null ? null : Number(zi.soa_ttl),
  };
}

export function soaRecord(origin: Name, zi: ZiRow): ZoneRecord {
  return {
    name: origin,
    type: RRType.SOA,
    class: RRClass.IN,
    ttl: Number(zi.soa_ttl ?? zi.zone_ttl),
    rdata: soaRdata(ziSoaFields(zi), Number(zi.soa_serial)),
  };
}

export function ziInfo(zone: ZoneRow, zi: ZiRow): ZiInfo {
  return {
    zoneId: Number(zone.id),
    zone: zone.name,
    version: zi.version,
    soaSerial: Number(zi.soa_serial),
    soaMname: zi.soa_mname,
    soaRname: zi.soa_rname,
    soaRefresh: Number(zi.soa_refresh),
    soaRetry: Number(zi.soa_retry),
    soaExpire: Number(zi.soa_expire),
    soaMinimum: Number(zi.soa_minimum),
    soaTtl: zi.soa_ttl === null ? null : Number(zi.soa_ttl),
    zoneTtl: Number(zi.zone_ttl),
    changeBy: zi.change_by,
    comment: zi.comment,
    ctime: new Date(Number(zi.ctime)),
    mtime: new Date(Number(zi.mtime)),
    ptime: ms(zi.ptime),
    published: zone.published_version === zi.version,
  };
}

function normFlags(f: RRFlags | undefined): string | null {
  if (!f) return null;
  const o: Record<string, unknown> = {};
  if (f.lockPtr) o.lockPtr = true;
  if (f.forceRev) o.forceRev = true;
  if (f.trackRev) o.trackRev = true;
  if (f.disable) o.disable = true;
  if (f.ref !== undefined && f.ref !== '') o.ref = f.ref;
  if (f.rrop) o.rrop = f.rrop;
  return Object.keys(o).length ? JSON.stringify(o) : null;
}


export function toRowData(r: ZoneRecord): RecordRowData {
  const flags = normFlags(r.flags);
  return {
    owner_key: r.name.key,
    owner: r.name.toString(),
    type: r.type,
    rclass: r.class,
    ttl: r.ttl,
    rdata: r.rdata,
    comment: r.comment ?? null,
    group_comment: r.group ?? null,
    flags,
    disabled: r.flags?.disable ? 1 : 0,
  };
}

/** Identity of a stored record: any difference (even a comment or the owner's case) makes a new row. */
function rowKey(r: RecordRowData): string {
  return `${r.owner}\u0000${r.type}\u0000${r.rclass}\u0000${r.ttl}\u0000${Buffer.from(r.rdata).toString('hex')}\u0000${r.comment ?? '\u0001'}\u0000${r.group_comment ?? '\u0001'}\u0000${r.flags ?? ''}`;
}

/** Identity on the wire (what IXFR sees): owner, type, class, TTL, canonical RDATA. */
export function dnsKey(r: RR): string {
  return `${r.name.key}\u0000${r.type}\u0000${r.class}\u0000${r.ttl}\u0000${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('hex')}`;
}


export function rowToRecord(row: StoredRow): ZoneRecord {
  const rec: ZoneRecord = {
    name: Name.parse(row.owner),
    type: row.type,
    class: row.rclass,
    ttl: Number(row.ttl),
    rdata: Uint8Array.from(row.rdata),
  };
  if (row.comment !== null) rec.comment = row.comment;
  if (row.group_comment !== null) rec.group = row.group_comment;
  if (row.flags !== null) rec.flags = JSON.parse(row.flags) as RRFlags;
  return rec;
}

// ---- reading ----------------------------------------------------------------------------------------------------

/** The live zone of that name the caller may see (ZoneNotFound otherwise); locked for update on PostgreSQL. */
export async function findLiveZone(trx: Tx, ctx: ServiceContext, name: string, forUpdate: boolean): Promise<ZoneRow> {
  const z = await liveZoneRow(trx, ctx.store.kind, zoneScope(ctx), name, forUpdate);
  if (!z) throw new ZoneNotFound(name);
  return z;
}

/** The zone (any state) of that id the caller may see, locked for update on PostgreSQL. */
export async function lockZoneById(trx: Tx, ctx: ServiceContext, id: number): Promise<ZoneRow | undefined> {
  return lockedZoneRowById(trx, ctx.store.kind, zoneScope(ctx), id);
}

export async function resolveZi(trx: Tx, zone: ZoneRow, sel: ZiSelector | undefined): Promise<ZiRow> {
  const zoneId = Number(zone.id);
  let zi: ZiRow | undefined;
  let label: string;
  if (sel === undefined || sel === 'published') {
    const v = zone.published_version ?? (sel === undefined ? zone.latest_version : null);
    if (v === null) throw new ZiNotFound(zone.name, 'published');
    zi = await ziRow(trx, zoneId, v);
    label = sel === undefined ? `version ${v}` : 'published';
  } else if (sel === 'latest') {
    zi = await ziRow(trx, zoneId, zone.latest_version);
    label = 'latest';
  } else if (typeof sel === 'number' || 'version' in sel) {
    const v = typeof sel === 'number' ? sel : sel.version;
    zi = await ziRow(trx, zoneId, v);
    label = `version ${v}`;
  } else {
    zi = await ziRowBySerial(trx, zoneId, sel.serial);
    label = `with serial ${sel.serial}`;
  }
  if (!zi) throw new ZiNotFound(zone.name, label);
  return zi;
}

/** Records of a ZI, SOA first. */
export async function recordsAt(trx: Tx, zone: ZoneRow, zi: ZiRow, servedOnly = false): Promise<ZoneRecord[]> {
  const origin = Name.parse(zone.name);
  const rows = await rowsAt(trx, Number(zone.id), zi.version, servedOnly);
  return [soaRecord(origin, zi), ...rows.map(rowToRecord)];
}

/**
 * The served records of a ZI (SOA first) as DNS records only (no comments or flags), for a caller that keeps the
 * whole set (the signer's copy of a signed zone): their RDATA and owner names share buffers (ByteSlab), and the rows
 * of one owner share its name — a record costs its objects and bytes, not a buffer each.
 */
export async function servedRecordsPacked(trx: Tx, zone: Pick<ZoneRow, 'id' | 'name'>, zi: ZiRow): Promise<RR[]> {
  const rows = await rowsAt(trx, Number(zone.id), zi.version, true);
  return [soaRecord(Name.parse(zone.name), zi), ...packRows(rows)];
}

/** Rows (owner text, type, class, TTL, RDATA) as records whose bytes share buffers; see servedRecordsPacked. */
export function packRows(rows: readonly { owner: string; type: number; rclass: number; ttl: number | bigint | string; rdata: Uint8Array }[]): RR[] {
  // An upper bound of the bytes: every RDATA, and each owner's name (its wire form is at most its text + 1 octets).
  let expected = 0;
  for (const r of rows) expected += r.rdata.length + r.owner.length + 1;
  const slab = new ByteSlab(expected);
  const out: RR[] = new Array(rows.length);
  let owner = '';
  let name: Name | undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!name || r.owner !== owner) {
      owner = r.owner;
      name = slab.name(owner);
    }
    out[i] = { name, type: r.type, class: r.rclass, ttl: Number(r.ttl), rdata: slab.copy(r.rdata) };
  }
  return out;
}

export async function loadSg(trx: Tx, id: number): Promise<SgRow> {
  const sg = await groupRowById(trx, id);
  if (!sg) throw new ServerGroupNotFound(`#${id}`);
  return sg;
}

export function sgApexNs(sg: SgRow): string[] {
  return JSON.parse(sg.apex_ns) as string[];
}

/** SOA MNAME for zones of a server group: the SG's own, else the configured soa_mname, else its first apex NS. */
export function sgMname(sg: SgRow, settings: Settings): string {
  return sg.soa_mname || settings.raw('soa_mname') || sgApexNs(sg)[0] || 'localhost.';
}

export function defaultSoa(settings: Settings, sg: SgRow): SoaFields {
  return {
    mname: sgMname(sg, settings),
    rname: settings.raw('soa_rname'),
    refresh: settings.ttl('soa_refresh'),
    retry: settings.ttl('soa_retry'),
    expire: settings.ttl('soa_expire'),
    minimum: settings.ttl('soa_minimum'),
    ttl: settings.ttlOrNull('soa_ttl'),
  };
}

// ---- validation ---------------------------------------------------------------------------------------------------

/** The zone-file checks of the core plus the original DMS's own (in-zone NS/MX/SRV targets must exist; IN only). */
export function validateZone(origin: Name, records: ZoneRecord[]): { problems: ValidationProblem[]; records: ZoneRecord[] } {
  const res = checkZone(origin, records);
  const problems: ValidationProblem[] = res.problems.map((p) => ({
    message: p.message,
    severity: p.severity,
    ...(p.line ? { line: p.line, column: p.column, file: p.file } : {}),
  }));
  const served = res.records.filter((r) => !r.flags?.disable);
  const names = new Map<string, Set<number>>();
  const dnames = new Map<string, Name>();
  for (const r of served) {
    let s = names.get(r.name.key);
    if (!s) names.set(r.name.key, (s = new Set()));
    s.add(r.type);
    if (r.type === RRType.DNAME) dnames.set(r.name.key, r.name);
  }
  for (const r of res.records) {
    const p = classProblem(r);
    if (p) problems.push(p);
    const target = dmsTarget(origin, r);
    if (target === undefined) continue;
    const types = names.get(target.key);
    if (!types || !(types.has(RRType.A) || types.has(RRType.AAAA))) problems.push(dmsTargetProblem(r, target, types?.has(RRType.CNAME) ?? false));
    else if (dnames.size > 0) {
      const above = ancestorNames(origin, target).find((a) => dnames.has(a.key));
      if (above !== undefined) problems.push(dmsOccludedTargetProblem(r, target, above));
    }
  }
  return { problems, records: res.records };
}

/** validateZone's class rule for one record: only IN. */
export function classProblem(r: ZoneRecord): ValidationProblem | undefined {
  if (r.class === RRClass.IN) return undefined;
  return { severity: 'error', message: 'only class IN is supported', owner: r.name.toString(), type: typeToString(r.type), ...(r.line ? { line: r.line, file: r.file } : {}) };
}

/** The in-zone target a served NS, MX or SRV record names, which must have an A or AAAA record (validateZone). */
export function dmsTarget(origin: Name, r: ZoneRecord): Name | undefined {
  if (r.flags?.disable) return undefined;
  if (r.type !== RRType.NS && r.type !== RRType.MX && r.type !== RRType.SRV) return undefined;
  let target: Name | undefined;
  try {
    target = rdataTargetName(r.type, r.rdata);
  } catch {
    return undefined;
  }
  if (!target || target.isRoot() || !target.isSubdomainOf(origin)) return undefined;
  return target;
}

/** The names from `target`'s parent up to `origin`: where a DNAME would occlude it (RFC 6672 §2.3). */
export function ancestorNames(origin: Name, target: Name): Name[] {
  const out: Name[] = [];
  for (let up = 1; up <= target.labelCount - origin.labelCount; up++) out.push(target.parent(up));
  return out;
}

/**
 * A target below a DNAME in its own zone is occluded: its addresses are never served (RFC 6672 §2.3), so it counts as
 * having none (BIND refuses such MX and NS targets too: "is below a DNAME (illegal)").
 */
function occludedTargetMessage(target: Name, dnameOwner: Name): string {
  return `target ${target} is below the DNAME at ${dnameOwner}: its A and AAAA records are not served (RFC 6672 §2.3)`;
}

export function dmsOccludedTargetProblem(r: ZoneRecord, target: Name, dnameOwner: Name): ValidationProblem {
  return {
    severity: 'error',
    message: occludedTargetMessage(target, dnameOwner),
    owner: r.name.toString(),
    type: typeToString(r.type),
    ...(r.line ? { line: r.line, file: r.file } : {}),
  };
}

/**
 * DMS's target rule broken: an in-zone NS/MX/SRV target without an A or AAAA record. A target that is an alias says
 * so — "has no A or AAAA record" read wrong to an operator whose CNAME leads to one (RFC 2181 §10.3: these targets
 * must not be aliases; BIND's checkers name it the same way, "is a CNAME (illegal)").
 */
export function dmsTargetMessage(target: Name, alias: boolean): string {
  return alias
    ? `target ${target.toString()} is inside the zone and an alias (CNAME), not a name with an A or AAAA record (RFC 2181 §10.3)`
    : `target ${target.toString()} is inside the zone but has no A or AAAA record`;
}

export function dmsTargetProblem(r: ZoneRecord, target: Name, alias = false): ValidationProblem {
  return {
    severity: 'error',
    message: dmsTargetMessage(target, alias),
    owner: r.name.toString(),
    type: typeToString(r.type),
    ...(r.line ? { line: r.line, file: r.file } : {}),
  };
}

// ---- writing ------------------------------------------------------------------------------------------------------

export interface VersionInput {
  /** Desired content. An SOA among them supplies the SOA fields (and a proposed serial). */
  records: ZoneRecord[];
  comment?: string | null;
  publish: boolean;
  /** Exact serial to use (poke): must be RFC 1982 greater than the last one. */
  serial?: number;
  /** Make a new version even when nothing changed (poke, republish). */
  forceNew?: boolean;
  /** The newest version's rows when the caller already read them (read-modify-write in the same transaction). */
  currentRows?: StoredRow[];
  /** SOA fields to use when `records` has no SOA (copy of an old ZI); default: the newest ZI's, or config. */
  soa?: SoaFields;
  zoneTtl?: number;
  now?: Date;
  /** Run the automatic reverse PTR step (default true; false for the reverse zones it writes itself). */
  autoReverse?: boolean;
}

/**
 * The automatic reverse PTR step of a forward save (reverse.ts), in the save's transaction, given the address records
 * that died and were born: nothing to do (no read at all) when the change has no address record.
 */
async function reverseStep(
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  settings: () => Promise<Settings>,
  change: ForwardAddressChange,
  publish: boolean,
): Promise<ReverseReport | undefined> {
  if (noAddressChange(change)) return undefined;
  return autoReverse(trx, ctx, zone, change, { commit: commitDelta, settings, publish });
}

/**
 * A change-feed row for the zone, committed with the caller's transaction (followChanges wakes on it). Every change
 * of a zone's state or settings passes here, so it also writes the audit entry; a publish is audited where the
 * version is made (commitVersion, commitDelta, publishExisting), which knows what changed.
 */
export async function recordChange(trx: Tx, ctx: ServiceContext, zone: ZoneRow, kind: ZoneChange['kind'], version: number | null): Promise<void> {
  await appendChange(trx, ctx.store.kind, { zone_id: Number(zone.id), zone_name: zone.name, kind, version, at: nowMs(ctx) });
  if (kind === 'publish') return;
  const isKeys = kind === 'keys' || kind === 'acl';
  await auditChange(trx, ctx, {
    zone: isKeys ? null : zone,
    kind,
    before: isKeys ? null : zone.published_version,
    after: version,
    summary: CHANGE_SUMMARY[kind] ?? kind,
  });
}

const CHANGE_SUMMARY: Partial<Record<ZoneChange['kind'], string>> = {
  disable: 'zone disabled',
  enable: 'zone enabled',
  delete: 'zone deleted',
  undelete: 'zone undeleted',
  destroy: 'zone destroyed with its history',
  update: 'zone settings changed',
  keys: 'TSIG key set changed',
  acl: 'query ACL changed',
};

/**
 * The audit entry of a change, written in the change's own transaction (it exists exactly when the change does):
 * who (actor), from where (source), which operation, which zone, the versions before and after, and a summary.
 */
export async function auditChange(
  trx: Tx,
  ctx: ServiceContext,
  e: { zone: Pick<ZoneRow, 'id' | 'name'> | null; kind: string; before: number | null; after: number | null; summary: string },
): Promise<void> {
  await insertAudit(trx, {
    at: nowMs(ctx),
    actor: ctx.actor,
    source: ctx.source ?? null,
    operation: ctx.operation ?? null,
    zone_id: e.zone ? Number(e.zone.id) : null,
    zone_name: e.zone?.name ?? null,
    zi_before: e.before,
    zi_after: e.after,
    kind: e.kind,
    summary: e.summary,
  });
  if (ctx.audit) ctx.audit.written++;
}

/** The summary of a new version: its serial, how many records came and went, whether it went out, the comment. */
function versionSummary(version: number, serial: number, born: number, died: number, publish: boolean, comment?: string | null): string {
  return `version ${version} (serial ${serial}): ${born} record(s) added, ${died} removed${publish ? ', published' : ', not published'}${comment ? ` (${comment})` : ''}`;
}

/** The ZI row of a new version: its SOA fields, author, comment and times (shared by full and delta commits). */
async function insertZi(
  trx: Tx,
  zoneId: number,
  version: number,
  serial: number,
  soa: SoaFields,
  zoneTtl: number,
  input: { comment?: string | null; publish?: boolean },
  actor: string,
  t: number,
): Promise<void> {
  await insertZiRow(trx, {
      zone_id: zoneId,
      version,
      soa_serial: serial,
      soa_mname: soa.mname,
      soa_rname: soa.rname,
      soa_refresh: soa.refresh,
      soa_retry: soa.retry,
      soa_expire: soa.expire,
      soa_minimum: soa.minimum,
      soa_ttl: soa.ttl,
      zone_ttl: zoneTtl,
      change_by: actor,
      comment: input.comment ?? null,
      ctime: t,
      mtime: t,
      ptime: input.publish ? t : null,
  });
}

/** Move the zone to its new version; publishing also records a change-feed row. Returns the zone row's update. */
async function finishVersion(trx: Tx, ctx: ServiceContext, zone: ZoneRow, version: number, t: number, publish: boolean): Promise<Partial<ZoneRow>> {
  const update: Partial<ZoneRow> = { latest_version: version, mtime: t };
  // UPDATE: the newest ZI waits for publication (saved with publish off); publishing returns to PUBLISHED.
  if (publish) {
    update.published_version = version;
    if (zone.state === 'UPDATE') update.state = 'PUBLISHED';
  } else if (zone.state === 'PUBLISHED') update.state = 'UPDATE';
  await updateZoneRow(trx, Number(zone.id), update);
  if (publish) await recordChange(trx, ctx, zone, 'publish', version);
  return update;
}

export async function commitVersion(
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  settings: Settings,
  input: VersionInput,
): Promise<SaveResult & { zoneRow: ZoneRow }> {
  const now = input.now ?? ctx.clock.now();
  const t = now.getTime();
  const origin = Name.parse(zone.name);
  const zoneId = Number(zone.id);
  const prevZi = zone.latest_version > 0 ? await ziRow(trx, zoneId, zone.latest_version) : undefined;
  const sg = await loadSg(trx, Number(zone.sg_id));

  // SOA fields: from the content, else given, else the newest ZI, else the configuration.
  // Only an SOA at the apex supplies the zone's SOA; one anywhere else stays in the data for the checker to refuse.
  const soas = input.records.filter((r) => r.type === RRType.SOA && r.name.equals(origin));
  let soa: SoaFields;
  let proposedSerial: number | undefined;
  const problems: ValidationProblem[] = [];
  if (soas.length > 0) {
    const s = soas[0];
    try {
      const p = parseSoa(s.rdata, s.ttl);
      proposedSerial = p.serial;
      soa = { mname: p.mname, rname: p.rname, refresh: p.refresh, retry: p.retry, expire: p.expire, minimum: p.minimum, ttl: s.ttl };
    } catch {
      throw new ZoneValidationFailed(zone.name, [{ severity: 'error', message: 'malformed SOA RDATA', type: 'SOA' }]);
    }
  } else soa = { ...(input.soa ?? (prevZi ? ziSoaFields(prevZi) : defaultSoa(settings, sg))) };
  const zoneTtl = input.zoneTtl ?? (prevZi ? Number(prevZi.zone_ttl) : settings.ttl('zone_ttl'));
  if (soa.ttl === zoneTtl) soa.ttl = null;

  let body = input.records.filter((r) => !(r.type === RRType.SOA && r.name.equals(origin)));
  const sgApex = (): ZoneRecord[] =>
    sgApexNs(sg).map((ns) => ({ name: origin, type: RRType.NS, class: RRClass.IN, ttl: zoneTtl, rdata: Name.from(ns).toWire() }));
  if (zone.use_apex_ns) {
    // The apex comes from the server group (as in the original): operator apex NS records are replaced.
    soa.mname = sgMname(sg, settings);
    body = [...sgApex(), ...body.filter((r) => !(r.type === RRType.NS && r.name.equals(origin)))];
  } else if (!prevZi && !body.some((r) => r.type === RRType.NS && r.name.equals(origin))) {
    // A new zone given no apex NS starts with its server group's, whatever use_apex_ns says later.
    body = [...sgApex(), ...body];
  }

  // Validate the zone exactly as it will be served (with its SOA; placeholder serial).
  const soaForCheck: ZoneRecord = {
    name: origin,
    type: RRType.SOA,
    class: RRClass.IN,
    ttl: soa.ttl ?? zoneTtl,
    rdata: soaRdata(soa, 0),
    ...(soas[0]?.line ? { line: soas[0].line, file: soas[0].file } : {}),
  };
  for (const extra of soas.slice(1)) body.push(extra); // let the checker report the extra SOAs
  const checked = validateZone(origin, [soaForCheck, ...body]);
  problems.push(...checked.problems);
  if (problems.some((p) => p.severity === 'error')) throw new ZoneValidationFailed(zone.name, problems);
  const finalBody = checked.records.filter((r) => r !== soaForCheck);

  // Compare with the newest version: rows to keep, rows that die, rows to be born.
  const current = zone.latest_version > 0 ? (input.currentRows ?? (await currentRows(trx, zoneId))) : [];
  const pool = new Map<string, StoredRow[]>();
  for (const row of current) {
    const k = rowKey(row);
    const l = pool.get(k);
    if (l) l.push(row);
    else pool.set(k, [row]);
  }
  const born: (RecordRowData & { ord: number })[] = [];
  const bornAddressRecords: ZoneRecord[] = [];
  finalBody.forEach((r, i) => {
    const data = toRowData(r);
    const l = pool.get(rowKey(data));
    if (l && l.length > 0) l.pop();
    else {
      born.push({ ...data, ord: i });
      if (isAddressRecord(r)) bornAddressRecords.push(r);
    }
  });
  const dying: number[] = [];
  const diedAddresses: ZoneRecord[] = [];
  for (const l of pool.values())
    for (const row of l) {
      dying.push(Number(row.id));
      if (isAddressRecord(row)) diedAddresses.push(rowToRecord(row));
    }

  const soaSame =
    prevZi !== undefined &&
    JSON.stringify(ziSoaFields(prevZi)) === JSON.stringify(soa) &&
    Number(prevZi.zone_ttl) === zoneTtl;
  const lastSerial = prevZi ? Number(prevZi.soa_serial) : null;

  // A serial moved forward by hand (file or editor) is a change of its own: the operator wants a new version out.
  const serialBumped =
    proposedSerial !== undefined && lastSerial !== null && proposedSerial > lastSerial && serialGt(proposedSerial, lastSerial);
  if (!input.forceNew && prevZi && soaSame && !serialBumped && born.length === 0 && dying.length === 0) {
    let published = zone.published_version === zone.latest_version;
    let zoneRow = zone;
    if (input.publish && !published) {
      zoneRow = await publishExisting(trx, ctx, zone, prevZi, t);
      published = true;
    }
    return {
      zone: zone.name,
      changed: false,
      version: zone.latest_version,
      serial: Number(prevZi.soa_serial),
      published,
      warnings: problems,
      zoneRow,
    };
  }

  let serial: number;
  if (input.serial !== undefined) {
    if (lastSerial !== null && !serialGt(input.serial, lastSerial))
      throw new SerialInvalid(
        `serial ${input.serial} is not greater than ${lastSerial} in RFC 1982 arithmetic (use poke_zone_wrap_serial to go round)`,
      );
    serial = input.serial;
  } else serial = chooseSerial(lastSerial, proposedSerial, now);

  const version = zone.latest_version + 1;
  await insertZi(trx, zoneId, version, serial, soa, zoneTtl, input, ctx.actor, t);
  await writeRecordRows(trx, ctx.store, zoneId, version, dying, born);
  const update = await finishVersion(trx, ctx, zone, version, t, input.publish === true);
  await auditChange(trx, ctx, {
    zone,
    kind: prevZi ? 'version' : 'create',
    before: prevZi ? zone.latest_version : null,
    after: version,
    summary: versionSummary(version, serial, born.length, dying.length, input.publish === true, input.comment),
  });
  const reverse =
    input.autoReverse === false
      ? undefined
      : await reverseStep(trx, ctx, zone, async () => settings, { died: diedAddresses, born: bornAddressRecords }, input.publish === true);
  return {
    zone: zone.name,
    changed: true,
    version,
    serial,
    published: input.publish,
    warnings: problems,
    ...(reverse ? { reverse } : {}),
    zoneRow: { ...zone, ...update },
  };
}

/**
 * The end of commitVersion for a new zone whose record rows (version 1) a streaming load has already written and
 * checked (load-stream.ts): the serial, the ZI row, the zone moved to its first version, the audit entry and the
 * automatic reverse PTR step — what commitVersion does after its validation when there is no previous version.
 */
export async function finishLoadedVersion(
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  settings: Settings,
  input: {
    soa: SoaFields;
    proposedSerial: number | undefined;
    zoneTtl: number;
    born: number;
    /** The born address records the reverse step may act on: an array, or chunks made as they are taken. */
    bornAddressRecords: ForwardAddressChange['born'];
    comment?: string | null;
    publish: boolean;
    now: Date;
  },
): Promise<SaveResult & { zoneRow: ZoneRow }> {
  const t = input.now.getTime();
  const serial = chooseSerial(null, input.proposedSerial, input.now);
  const version = 1;
  await insertZi(trx, Number(zone.id), version, serial, input.soa, input.zoneTtl, input, ctx.actor, t);
  const update = await finishVersion(trx, ctx, zone, version, t, input.publish);
  await auditChange(trx, ctx, {
    zone,
    kind: 'create',
    before: null,
    after: version,
    summary: versionSummary(version, serial, input.born, 0, input.publish, input.comment),
  });
  const reverse = await reverseStep(trx, ctx, zone, async () => settings, { died: [], born: input.bornAddressRecords }, input.publish);
  return {
    zone: zone.name,
    changed: true,
    version,
    serial,
    published: input.publish,
    warnings: [],
    ...(reverse ? { reverse } : {}),
    zoneRow: { ...zone, ...update },
  };
}

export async function publishExisting(trx: Tx, ctx: ServiceContext, zone: ZoneRow, zi: ZiRow, t: number): Promise<ZoneRow> {
  await markZiPublished(trx, Number(zi.id), t);
  const state = zone.state === 'UPDATE' && zi.version === zone.latest_version ? 'PUBLISHED' : zone.state;
  await updateZoneRow(trx, Number(zone.id), { published_version: zi.version, mtime: t, state });
  await recordChange(trx, ctx, zone, 'publish', zi.version);
  await auditChange(trx, ctx, { zone, kind: 'publish', before: zone.published_version, after: zi.version, summary: `version ${zi.version} (serial ${Number(zi.soa_serial)}) published` });
  return { ...zone, published_version: zi.version, mtime: t, state };
}


// ---- incremental commit (RFC 2136 updates) -------------------------------------------------------------------------

/** Where records appended by a delta sort (after everything a full save numbered): `ord` only orders output. */
const APPENDED_ORD = 1_000_000_000;

/** Types that may share an owner with a CNAME (DNSSEC), as in the zone checker. */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.SIG, RRType.NXT, RRType.KEY]);

export interface DeltaInput {
  /** Records to take out of the newest version (matched on owner, type, class, RDATA; TTL preferred). */
  removed: readonly ZoneRecord[];
  added: readonly ZoneRecord[];
  /** A serial the change itself asks for (RFC 2136 SOA update); the serial policy decides whether it is taken. */
  explicitSerial?: number;
  comment?: string | null;
  publish: boolean;
  now?: Date;
  /** Run the automatic reverse PTR step (default true; false for the reverse zones it writes itself). */
  autoReverse?: boolean;
  /**
   * What the caller read of the newest version in this same transaction (an RFC 2136 UPDATE's scope): its ZI row and
   * every alive row at `owners`. Those are not read again; only touched owners outside them are.
   */
  known?: { zi: ZiRow; owners: ReadonlySet<string>; rows: readonly StoredRow[] };
}

const isApexNs = (r: { name: Name; type: number }, origin: Name) => r.type === RRType.NS && r.name.equals(origin);
const wireKey = (r: { type: number; class: number; rdata: Uint8Array }) =>
  `${r.type}\u0000${r.class}\u0000${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('hex')}`;

/**
 * The served rows that make version `from` into version `to` (either order): `died` alive at `from` and not at `to`,
 * `born` the reverse. The store reads the rows changed between the lower and the higher version (index ranges: the
 * cost follows the difference, not the zone); going back in time swaps them. Shared by diffVersions and dmsd's
 * patching (loadPublishedChange), so both see the same difference.
 */
export async function diffRows(trx: Tx, zoneId: number, from: number, to: number): Promise<{ died: StoredRow[]; born: StoredRow[] }> {
  if (from === to) return { died: [], born: [] };
  const { died, born } = await servedRowsChangedBetween(trx, zoneId, Math.min(from, to), Math.max(from, to));
  return from < to ? { died, born } : { died: born, born: died };
}

/**
 * Commit a change given as a difference against the newest version: only the rows of the difference are written
 * (removed rows die at the new version, added rows are born at it), so the cost follows the change, not the zone.
 * Validation covers what such a change can break, read from the touched owners only: records inside the zone and
 * class IN, SOA only at the apex and never removed, the apex keeps NS records, CNAME exclusivity (RFC 2181 §10.1,
 * DNSSEC companions allowed), and in-zone NS/MX/SRV targets keep an address record. The caller holds the zone row
 * lock, has checked the edit lock and base version. A removed record that is not in the newest version means the
 * zone moved under the caller: EditConflict-style, reported as `stale` so the caller can read again.
 */
export async function commitDelta(
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  /** Read only when needed (an SOA change under use_apex_ns): most changes never need the settings. */
  settings: () => Promise<Settings>,
  input: DeltaInput,
): Promise<SaveResult & { zoneRow: ZoneRow; stale?: boolean; committed?: CommittedChange }> {
  const now = input.now ?? ctx.clock.now();
  const t = now.getTime();
  const origin = Name.parse(zone.name);
  const zoneId = Number(zone.id);
  const known = input.known?.zi.version === zone.latest_version ? input.known : undefined;
  const prevZi = known?.zi ?? (await ziRow(trx, zoneId, zone.latest_version));
  if (!prevZi) throw new ZiNotFound(zone.name, 'latest');
  const problems: ValidationProblem[] = [];
  const problem = (r: { name: Name; type: number }, message: string) =>
    problems.push({ severity: 'error', message, owner: r.name.toString(), type: typeToString(r.type) });

  // The SOA lives in the ZI row, not among the records: an apex SOA in the change only carries new SOA fields.
  let soa = ziSoaFields(prevZi);
  const zoneTtl = Number(prevZi.zone_ttl);
  let proposedSerial = input.explicitSerial;
  const apexSoa = (r: ZoneRecord) => r.type === RRType.SOA && r.name.equals(origin);
  const addedSoas = input.added.filter(apexSoa);
  if (input.removed.some(apexSoa) && addedSoas.length === 0) problem({ name: origin, type: RRType.SOA }, `no SOA record at the zone apex ${origin}`);
  if (addedSoas.length > 1) problem(addedSoas[1], 'more than one SOA record at the apex');
  if (addedSoas.length > 0) {
    try {
      const p = parseSoa(addedSoas[0].rdata, addedSoas[0].ttl);
      soa = { mname: p.mname, rname: p.rname, refresh: p.refresh, retry: p.retry, expire: p.expire, minimum: p.minimum, ttl: addedSoas[0].ttl };
      proposedSerial ??= p.serial;
      if (zone.use_apex_ns) soa.mname = sgMname(await loadSg(trx, Number(zone.sg_id)), await settings());
    } catch (e) {
      if (e instanceof ServerGroupNotFound) throw e;
      throw new ZoneValidationFailed(zone.name, [{ severity: 'error', message: 'malformed SOA RDATA', type: 'SOA' }]);
    }
  }
  if (soa.ttl === zoneTtl) soa.ttl = null;
  // With use_apex_ns the apex NS set belongs to the server group: a change to it would be undone by any save.
  const keep = (r: ZoneRecord) => !apexSoa(r) && !(zone.use_apex_ns && isApexNs(r, origin));
  const removed = input.removed.filter(keep);
  const added = input.added.filter(keep);

  for (const r of added) {
    if (!r.name.isSubdomainOf(origin)) problem(r, `${r.name} ${typeToString(r.type)} is out of zone (not at or below ${origin})`);
    if (r.class !== RRClass.IN) problem(r, 'only class IN is supported');
    if (r.type === RRType.SOA) problem(r, `SOA record at ${r.name}, which is not the zone apex ${origin}`);
  }
  if (problems.length > 0) throw new ZoneValidationFailed(zone.name, problems);

  // The touched owners as they are now; removed records are matched to their rows there.
  const touched = new Set<string>();
  for (const r of [...removed, ...added]) touched.add(r.name.key);
  const targetOf = (r: { type: number; rdata: Uint8Array }): Name | undefined => {
    if (r.type !== RRType.NS && r.type !== RRType.MX && r.type !== RRType.SRV) return undefined;
    try {
      const n = rdataTargetName(r.type, r.rdata);
      return n && !n.isRoot() && n.isSubdomainOf(origin) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  for (const r of added) {
    const n = targetOf(r);
    if (n) touched.add(n.key);
  }
  const unknown = known ? [...touched].filter((k) => !known.owners.has(k)) : [...touched];
  const rows = [
    ...(known ? known.rows.filter((row) => touched.has(row.owner_key)) : []),
    ...(unknown.length > 0 ? await aliveRowsAtOwners(trx, ctx.store.kind, zoneId, unknown) : []),
  ];
  const byWire = new Map<string, StoredRow[]>();
  for (const row of rows) {
    const k = `${row.owner_key}\u0000${wireKey({ type: row.type, class: row.rclass, rdata: row.rdata })}`;
    const l = byWire.get(k);
    if (l) l.push(row);
    else byWire.set(k, [row]);
  }
  const dying = new Set<number>();
  for (const r of removed) {
    const l = byWire.get(`${r.name.key}\u0000${wireKey(r)}`)?.filter((row) => !dying.has(Number(row.id)));
    const row = l?.find((x) => Number(x.ttl) === r.ttl) ?? l?.[0];
    if (!row) return { zone: zone.name, changed: false, version: zone.latest_version, serial: Number(prevZi.soa_serial), published: false, warnings: [], zoneRow: zone, stale: true };
    dying.add(Number(row.id));
  }
  // An added record identical on the wire to one that stays alive is already there (RFC 2136 §3.4.2.2).
  const staying = new Set(rows.filter((row) => !dying.has(Number(row.id))).map((row) => `${row.owner_key}\u0000${row.ttl}\u0000${wireKey({ type: row.type, class: row.rclass, rdata: row.rdata })}`));
  const born: ZoneRecord[] = [];
  for (const r of added) {
    const k = `${r.name.key}\u0000${r.ttl}\u0000${wireKey(r)}`;
    if (staying.has(k)) continue;
    staying.add(k);
    born.push(r);
  }

  // The touched owners after the change, served records only.
  const after = new Map<string, { name: Name; types: Map<number, number> }>();
  const note = (name: Name, type: number) => {
    let o = after.get(name.key);
    if (!o) after.set(name.key, (o = { name, types: new Map() }));
    o.types.set(type, (o.types.get(type) ?? 0) + 1);
  };
  for (const row of rows) if (!dying.has(Number(row.id)) && !row.disabled) note(Name.parse(row.owner), row.type);
  for (const r of born) note(r.name, r.type);
  const hasAddress = (key: string) => {
    const o = after.get(key);
    return o !== undefined && ((o.types.get(RRType.A) ?? 0) > 0 || (o.types.get(RRType.AAAA) ?? 0) > 0);
  };
  for (const key of touched) {
    const o = after.get(key);
    if (!o) continue;
    const cnames = o.types.get(RRType.CNAME) ?? 0;
    if (cnames > 1) problem({ name: o.name, type: RRType.CNAME }, `more than one CNAME record at ${o.name}`);
    if ((o.types.get(RRType.DNAME) ?? 0) > 1) problem({ name: o.name, type: RRType.DNAME }, `more than one DNAME record at ${o.name} (RFC 6672 §2.4)`);
    if (cnames > 0)
      for (const type of o.types.keys())
        if (type !== RRType.CNAME && !CNAME_COMPANIONS.has(type))
          problem({ name: o.name, type }, `CNAME and other data: ${o.name} has a CNAME and ${typeToString(type)} records`);
  }
  if (touched.has(origin.key) && !(after.get(origin.key)?.types.has(RRType.NS) ?? false))
    problem({ name: origin, type: RRType.NS }, `no NS records at the zone apex ${origin}`);
  await sizeLimits(rows, touched, after, settings, problem);
  for (const r of born) {
    const n = targetOf(r);
    if (n && !r.flags?.disable && !hasAddress(n.key))
      problem(r, dmsTargetMessage(n, after.get(n.key)?.types.has(RRType.CNAME) ?? false));
  }
  // A target below a DNAME is occluded (its addresses are not served): the born targets' ancestors, and the targets
  // of the zone's NS/MX/SRV records below a DNAME the change adds.
  const dnameAfter = async (keys: readonly string[]): Promise<Set<string>> => {
    const out = new Set<string>();
    const unread: string[] = [];
    for (const k of keys) {
      const o = after.get(k);
      if (o) {
        if (o.types.has(RRType.DNAME)) out.add(k);
      } else if (!touched.has(k)) unread.push(k);
    }
    if (unread.length > 0)
      for (const row of await aliveRowsAtOwners(trx, ctx.store.kind, zoneId, unread)) if (row.type === RRType.DNAME && !row.disabled && !dying.has(Number(row.id))) out.add(row.owner_key);
    return out;
  };
  const bornTargets = born.flatMap((r) => {
    const n = r.flags?.disable ? undefined : targetOf(r);
    return n ? [{ r, n }] : [];
  });
  if (bornTargets.length > 0) {
    const above = await dnameAfter([...new Set(bornTargets.flatMap(({ n }) => ancestorNames(origin, n).map((a) => a.key)))]);
    if (above.size > 0)
      for (const { r, n } of bornTargets) {
        const d = ancestorNames(origin, n).find((a) => above.has(a.key));
        if (d) problem(r, occludedTargetMessage(n, d));
      }
  }
  const bornDnames = born.filter((r) => r.type === RRType.DNAME && !r.flags?.disable).map((r) => r.name);
  if (bornDnames.length > 0) {
    const referrers = await aliveRowsOfTypes(trx, zoneId, [RRType.NS, RRType.MX, RRType.SRV]);
    for (const row of referrers) {
      if (dying.has(Number(row.id)) || row.disabled) continue;
      const n = targetOf({ type: row.type, rdata: row.rdata });
      const d = n && bornDnames.find((dn) => n.isSubdomainOf(dn) && !n.equals(dn));
      if (n && d) problem({ name: Name.parse(row.owner), type: row.type }, occludedTargetMessage(n, d));
    }
  }
  // An owner that lost its last address record may still be the target of an NS/MX/SRV record elsewhere: rare enough
  // (and only then) to look at the zone's NS/MX/SRV records, which are few next to its address records.
  const lostAddress = [...touched].filter((k) => {
    if (hasAddress(k)) return false;
    return rows.some((row) => row.owner_key === k && !row.disabled && (row.type === RRType.A || row.type === RRType.AAAA));
  });
  if (lostAddress.length > 0) {
    const lost = new Set(lostAddress);
    const referrers = await aliveRowsOfTypes(trx, zoneId, [RRType.NS, RRType.MX, RRType.SRV]);
    for (const row of referrers) {
      if (dying.has(Number(row.id))) continue;
      const n = targetOf({ type: row.type, rdata: row.rdata });
      if (n && lost.has(n.key)) problem({ name: Name.parse(row.owner), type: row.type }, dmsTargetMessage(n, after.get(n.key)?.types.has(RRType.CNAME) ?? false));
    }
  }
  if (problems.length > 0) throw new ZoneValidationFailed(zone.name, problems);

  const soaSame = JSON.stringify(ziSoaFields(prevZi)) === JSON.stringify(soa);
  const lastSerial = Number(prevZi.soa_serial);
  const serialBumped = proposedSerial !== undefined && proposedSerial > lastSerial && serialGt(proposedSerial, lastSerial);
  if (soaSame && !serialBumped && born.length === 0 && dying.size === 0)
    return { zone: zone.name, changed: false, version: zone.latest_version, serial: lastSerial, published: zone.published_version === zone.latest_version, warnings: [], zoneRow: zone };

  const serial = chooseSerial(lastSerial, proposedSerial ?? lastSerial, now);
  const version = zone.latest_version + 1;
  await insertZi(trx, zoneId, version, serial, soa, zoneTtl, input, ctx.actor, t);
  // A record joining an owner sorts with its siblings; a new owner goes after the rest.
  const ownerOrd = new Map<string, number>();
  for (const row of rows) ownerOrd.set(row.owner_key, Math.max(ownerOrd.get(row.owner_key) ?? 0, Number(row.ord)));
  const bornRows = born.map((r) => ({ ...toRowData(r), ord: ownerOrd.get(r.name.key) ?? APPENDED_ORD }));
  await writeRecordRows(trx, ctx.store, zoneId, version, [...dying], bornRows);
  const update = await finishVersion(trx, ctx, zone, version, t, input.publish === true);
  await auditChange(trx, ctx, {
    zone,
    kind: 'version',
    before: zone.latest_version,
    after: version,
    summary: versionSummary(version, serial, born.length, dying.size, input.publish === true, input.comment),
  });
  const reverse =
    input.autoReverse === false
      ? undefined
      : await reverseStep(
          trx,
          ctx,
          zone,
          settings,
          { died: rows.filter((row) => dying.has(Number(row.id)) && isAddressRecord(row)).map(rowToRecord), born: born.filter(isAddressRecord) },
          input.publish === true,
        );
  const result = { zone: zone.name, changed: true, version, serial, published: input.publish, warnings: [], ...(reverse ? { reverse } : {}), zoneRow: { ...zone, ...update } };
  if (input.publish !== true || zone.published_version !== zone.latest_version) return result;
  // The served zone moved from the base version to this one: say how, from the rows at hand (no read after commit).
  const soaRr = { name: origin, type: RRType.SOA, class: RRClass.IN, ttl: soa.ttl ?? zoneTtl, rdata: soaRdata(soa, serial) };
  const committed = committedChange(rows, dying, bornRows, born, version, { fromVersion: zone.latest_version, serial, soa: soaRr });
  const seq = feedRowsOf(trx).find(({ kind, zone_id, version: v }) => kind === 'publish' && zone_id === zoneId && v === version)?.seq;
  return { ...result, committed: seq === undefined ? committed : { ...committed, seq } };
}

/** The zone check's warnings of a save (its result's `warnings`), as an optional field of what a caller returns. */
export function warningsOf(r: { warnings: readonly ValidationProblem[] }): { warnings?: ValidationProblem[] } {
  const warnings = r.warnings.filter((p) => p.severity === 'warning');
  return warnings.length > 0 ? { warnings } : {};
}

/**
 * The size limits of a change (max_records_per_type, max_types_per_name): an RRset or a name's set of types that the
 * change grows past its limit is a problem; one already past it and not growing is left alone (a zone loaded with it
 * was warned of). The settings are read only when a served RRset or type set grows to two or more — never for the
 * usual UPDATE adding a name — since no limit is below one.
 */
async function sizeLimits(
  rows: readonly StoredRow[],
  touched: ReadonlySet<string>,
  after: ReadonlyMap<string, { name: Name; types: Map<number, number> }>,
  settings: () => Promise<Settings>,
  problem: (r: { name: Name; type: number }, message: string) => void,
): Promise<void> {
  const before = new Map<string, number>();
  const typesBefore = new Map<string, Set<number>>();
  for (const row of rows) {
    if (row.disabled) continue;
    const k = `${row.owner_key}\u0000${row.type}`;
    before.set(k, (before.get(k) ?? 0) + 1);
    let t = typesBefore.get(row.owner_key);
    if (!t) typesBefore.set(row.owner_key, (t = new Set()));
    t.add(row.type);
  }
  const sets: { name: Name; type: number; n: number }[] = [];
  const names: { name: Name; n: number }[] = [];
  for (const key of touched) {
    const o = after.get(key);
    if (!o) continue;
    for (const [type, n] of o.types) if (n > 1 && n > (before.get(`${key}\u0000${type}`) ?? 0)) sets.push({ name: o.name, type, n });
    if (o.types.size > 1 && o.types.size > (typesBefore.get(key)?.size ?? 0)) names.push({ name: o.name, n: o.types.size });
  }
  if (sets.length === 0 && names.length === 0) return;
  const s = await settings();
  const maxRecords = s.count('max_records_per_type');
  const maxTypes = s.count('max_types_per_name');
  for (const g of sets)
    if (maxRecords > 0 && g.n > maxRecords)
      problem(g, `the ${g.name} ${typeToString(g.type)} RRset would have ${g.n} records, more than max_records_per_type (${maxRecords}): BIND secondaries refuse such an RRset by default and would stop following the zone`);
  for (const g of names)
    if (maxTypes > 0 && g.n > maxTypes)
      problem({ name: g.name, type: RRType.ANY }, `${g.name} would have records of ${g.n} types, more than max_types_per_name (${maxTypes}): BIND secondaries refuse such a name by default and would stop following the zone`);
}

/**
 * The owners with a row dying or born and their served records at `version`, ordered as rowsAt orders them (ord,
 * then id): the rows staying in their order, then the born rows — born at the owner's largest ord (or after
 * everything) with ids above every existing row, in the order written.
 */
function committedChange(
  rows: readonly StoredRow[],
  dying: ReadonlySet<number>,
  born: readonly (RecordRowData & { ord: number })[],
  /** The records `born` was made from, in the same order: their names are used as they are (no parse per row). */
  bornRecords: readonly ZoneRecord[],
  version: number,
  head: { fromVersion: number; serial: number; soa: RR },
): CommittedChange {
  const owners = new Map<string, { name: Name; records: RR[] }>();
  const strip = (r: ZoneRecord): RR => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdata: r.rdata });
  for (const row of rows) if (dying.has(Number(row.id))) owners.set(row.owner_key, { name: Name.parse(row.owner), records: [] });
  born.forEach((r, i) => {
    if (!owners.has(r.owner_key)) owners.set(r.owner_key, { name: bornRecords[i].name, records: [] });
  });
  const staying = rows.filter((row) => owners.has(row.owner_key) && !dying.has(Number(row.id)) && !row.disabled).sort(byOrd);
  for (const row of staying) owners.get(row.owner_key)!.records.push(strip(rowToRecord(row)));
  born.forEach((r, i) => {
    if (!r.disabled) owners.get(r.owner_key)!.records.push(strip(bornRecords[i]));
  });
  return { ...head, version, changes: dying.size + born.length, owners: [...owners.values()] };
}

const byOrd = (a: StoredRow, b: StoredRow) => a.ord - b.ord || Number(a.id) - Number(b.id);
