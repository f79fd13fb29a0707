// update_rrs: add, delete and replace single records and whole RRsets of a zone without sending the zone, in one new
// ZI. Records are given as master-file fields (name, type, ttl, rdata text) and parsed by the zone-file parser, so
// they pass the same checks as a loaded zone; the result goes through applyRecordDelta (only the touched rows are
// written; the zone-level checks of commitDelta apply), optionally against the SOA serial the caller last saw.

import { RRClass, RRType, typeFromString, typeToString } from '../dns/constants.js';
import { reverseNameOfAddress } from '../dns/address.js';
import { canonicalRdata, rdataToText } from '../dns/rdata.js';
import { parseName, parseZoneText } from '../zonefile/index.js';
import { Name } from '../dns/name.js';
import { readTx } from '../store/index.js';
import { aliveRowsAt, rowsAt } from '../store/queries/versions.js';
import { liveZoneRow } from '../store/queries/zones.js';
import { type ServiceContext, zoneScope } from './context.js';
import { resolveZi, rowToRecord, soaRecord } from './core.js';
import { EditConflict, type ParamProblem, InvalidParams, SerialConflict, ZoneNotFound } from './errors.js';
import { globToRegExp, normalizeZoneName } from './names.js';
import type { SaveResult, ZoneRecord } from './types.js';
import { applyRecordDelta, getZoneAtOwners } from './zones.js';

/** One change: `add` a record, `delete` a record (with rdata) or an RRset (without), `replace` an RRset by the records given. */
export interface RrChange {
  action: 'add' | 'delete' | 'replace';
  /** Owner: relative to the zone, "@", or absolute with a trailing dot. */
  name: string;
  /** Type mnemonic or TYPEnnn. */
  type: string;
  /** Default: the RRset's TTL when it exists, else the zone's default TTL. An RRset has one TTL (RFC 2181 §5.2). */
  ttl?: number;
  /** RDATA in master-file form ("10 mail", "\"v=spf1 -all\""); required except for deleting a whole RRset (type ANY: every RRset at the name). */
  rdata?: string;
}

export interface UpdateRrsOptions {
  /** The serial of the newest ZI the caller saw: another one now → SerialConflict, nothing saved. */
  serial?: number;
  comment?: string;
  /** Publish the new ZI (default true). */
  publish?: boolean;
  /** The operation name and the parameter holding the changes, for InvalidParams ("update_rrs", "records"). */
  where?: { operation: string; field: string };
}

interface Parsed {
  change: RrChange;
  index: number;
  name: Name;
  type: number;
  record?: ZoneRecord;
}

const rdataKey = (r: { type: number; rdata: Uint8Array }) => Buffer.from(canonicalRdata(r.type, r.rdata)).toString('hex');
const setKey = (name: Name, type: number) => `${name.key}\u0000${type}`;

/**
 * One record given as master-file fields, parsed as one line of a zone file (absolute owner, explicit TTL and class;
 * the callers' schemas keep newlines out of every field, so a record cannot spill into another). Its problems go to
 * `problems` under `path`; only the record's data is taken (a `;` comment or flag in the RDATA text is not).
 */
export function recordOfFields(origin: Name, name: Name, ttl: number, type: number, rdata: string, path: string, problems: ParamProblem[]): ZoneRecord | undefined {
  const res = parseZoneText(`${name.toString()} ${ttl} IN ${typeToString(type)} ${rdata}\n`, { origin, file: path });
  const errors = res.problems.filter((x) => x.severity === 'error');
  if (errors.length > 0) {
    for (const e of errors) problems.push({ path, message: e.message });
    return undefined;
  }
  if (res.records.length !== 1 || res.records[0].type !== type) {
    problems.push({ path, message: 'not the data of one record of that type' });
    return undefined;
  }
  const r = res.records[0];
  return { name: r.name, type: r.type, class: RRClass.IN, ttl: r.ttl, rdata: r.rdata };
}

/** Parse every change, collecting all problems with their parameter paths; nothing is read. */
function parseChanges(origin: Name, changes: readonly RrChange[], field: string): { parsed: Parsed[]; problems: ParamProblem[] } {
  const problems: ParamProblem[] = [];
  const parsed: Parsed[] = [];
  changes.forEach((change, index) => {
    const at = (f: string) => `${field}[${index}].${f}`;
    let name: Name | undefined;
    try {
      name = parseName(change.name, origin);
      if (!name.isSubdomainOf(origin)) {
        problems.push({ path: at('name'), message: `${name} is not in zone ${origin}` });
        name = undefined;
      }
    } catch (e) {
      problems.push({ path: at('name'), message: (e as Error).message });
    }
    const type = typeFromString(change.type);
    if (type === undefined) problems.push({ path: at('type'), message: `unknown record type ${change.type}` });
    else if (type === RRType.SOA)
      problems.push({ path: at('type'), message: 'the SOA is not changed record by record: use edit_zone or poke_zone_set_serial' });
    else if (type === RRType.ANY && (change.action !== 'delete' || change.rdata !== undefined))
      problems.push({ path: at('type'), message: 'type ANY only deletes every RRset at a name (action delete, no rdata)' });
    if (change.rdata === undefined && change.action !== 'delete')
      problems.push({ path: at('rdata'), message: `${change.action} needs the record's rdata` });
    if (change.rdata !== undefined && change.action === 'delete' && change.ttl !== undefined)
      problems.push({ path: at('ttl'), message: 'a record to delete is found by its data; leave out ttl' });
    if (name === undefined || type === undefined || type === RRType.SOA || (type === RRType.ANY && (change.action !== 'delete' || change.rdata !== undefined))) return;
    const p: Parsed = { change, index, name, type };
    if (change.rdata !== undefined) {
      const record = recordOfFields(origin, name, change.ttl ?? 0, type, change.rdata, at('rdata'), problems);
      if (!record) return;
      p.record = record;
    }
    parsed.push(p);
  });
  // An RRset has one TTL: the ttls given for records of one set by this call must agree.
  const ttlOf = new Map<string, { ttl: number; index: number }>();
  for (const p of parsed) {
    if (p.change.ttl === undefined || p.change.action === 'delete') continue;
    const k = setKey(p.name, p.type);
    const seen = ttlOf.get(k);
    if (seen && seen.ttl !== p.change.ttl)
      problems.push({ path: `${field}[${p.index}].ttl`, message: `differs from ${field}[${seen.index}].ttl of the same RRset (${seen.ttl})` });
    else if (!seen) ttlOf.set(k, { ttl: p.change.ttl, index: p.index });
  }
  return { parsed, problems };
}

/**
 * Apply `changes` in order to the zone's newest version and save the result as a new ZI (published unless asked
 * not to). Deleting what is not there changes nothing (RFC 2136 §3.4.2.4); adding what is there already neither.
 */
export async function updateRrs(
  ctx: ServiceContext,
  zoneName: string,
  changes: readonly RrChange[],
  o: UpdateRrsOptions = {},
): Promise<SaveResult> {
  const key = normalizeZoneName(zoneName);
  const origin = Name.parse(key);
  const where = o.where ?? { operation: 'update_rrs', field: 'records' };
  const { parsed, problems } = parseChanges(origin, changes, where.field);
  if (problems.length > 0) throw new InvalidParams(where.operation, problems);
  // Without a serial the changes apply to whatever version is newest: a writer that saved between our read and our
  // commit (EditConflict on the version we read) means reading again and applying on top of it, as RFC 2136 UPDATEs
  // are. With a serial, the conflict is the answer the caller asked for.
  for (let attempt = 1; ; attempt++) {
    try {
      return await updateRrsOnce(ctx, key, parsed, o);
    } catch (e) {
      if (!(e instanceof EditConflict) || o.serial !== undefined || attempt >= UPDATE_RRS_ATTEMPTS) throw e;
    }
  }
}

/** Attempts of an update_rrs without a serial against concurrent writers before their EditConflict is returned. */
const UPDATE_RRS_ATTEMPTS = 8;

async function updateRrsOnce(ctx: ServiceContext, key: string, parsed: readonly Parsed[], o: UpdateRrsOptions): Promise<SaveResult> {
  const current = await getZoneAtOwners(ctx, key, parsed.map((p) => p.name.key));
  if (o.serial !== undefined && o.serial !== current.zi.soaSerial) throw new SerialConflict(key, o.serial, current.zi.soaSerial);
  const zoneTtl = current.zi.zoneTtl;
  const origin = Name.parse(key);

  // The touched RRsets as they are, then as the changes leave them.
  const sets = new Map<string, ZoneRecord[]>();
  for (const r of current.records.slice(1)) {
    const k = setKey(r.name, r.type);
    const l = sets.get(k);
    if (l) l.push(r);
    else sets.set(k, [r]);
  }
  const before = new Map([...sets].map(([k, l]) => [k, [...l]]));
  const replaced = new Set<string>();
  for (const p of parsed) {
    if (p.type === RRType.ANY) {
      // Every RRset at the name, as an RFC 2136 delete of all RRsets (§2.5.3): at the apex the NS set stays (§3.4.2.3)
      // — and the SOA, which update_rrs never takes.
      const apex = p.name.equals(origin);
      for (const [k, set] of sets) if (set.length > 0 && set[0].name.key === p.name.key && !(apex && set[0].type === RRType.NS)) sets.set(k, []);
      continue;
    }
    const k = setKey(p.name, p.type);
    let set = sets.get(k) ?? [];
    if (p.change.action === 'delete') {
      if (!p.record) set = [];
      else {
        const rk = rdataKey(p.record);
        set = set.filter((r) => rdataKey(r) !== rk);
      }
    } else {
      const rec = p.record!;
      if (p.change.action === 'replace' && !replaced.has(k)) {
        replaced.add(k);
        set = [];
      }
      const ttl = p.change.ttl ?? before.get(k)?.[0]?.ttl ?? set[0]?.ttl ?? zoneTtl;
      const rk = rdataKey(rec);
      set = [...set.filter((r) => rdataKey(r) !== rk), { ...rec, ttl }].map((r) => (r.ttl === ttl ? r : { ...r, ttl }));
    }
    sets.set(k, set);
  }

  // The difference, record by record (TTL included: a TTL change replaces the record).
  const recKey = (r: ZoneRecord) => `${r.name.key}\u0000${r.type}\u0000${r.ttl}\u0000${rdataKey(r)}`;
  const removed: ZoneRecord[] = [];
  const added: ZoneRecord[] = [];
  for (const [k, after] of sets) {
    const was = before.get(k) ?? [];
    const keep = new Set(after.map(recKey));
    const had = new Set(was.map(recKey));
    removed.push(...was.filter((r) => !keep.has(recKey(r))));
    added.push(...after.filter((r) => !had.has(recKey(r))));
  }
  return applyRecordDelta(ctx, key, {
    baseVersion: current.zi.version,
    removed,
    added,
    comment: o.comment ?? null,
    publish: o.publish ?? true,
  });
}

// ---- rr_query_db ------------------------------------------------------------------------------------------------

/** One record found by queryRecords: where it is and what it says (RDATA in master-file form, names absolute). */
export interface FoundRecord {
  zone: string;
  /** The ZI it was read from: the zone's newest. */
  version: number;
  name: string;
  ttl: number;
  type: string;
  rdata: string;
  /** Kept but not served (;!DISABLE). */
  disabled?: boolean;
  comment?: string;
}

/**
 * rr_query_db: the records at one owner name (`name`, or the reverse name of an address) in every zone holding it —
 * each zone enclosing the name that the caller may see, the zone itself included, so that a delegation's NS and glue
 * show beside the child's own records — as in the zones' newest ZIs; only `type` when given. A name no zone holds is
 * an empty list, not an error.
 */
export async function queryRecords(ctx: ServiceContext, nameText: string, o: { type?: string } = {}): Promise<{ name: string; records: FoundRecord[] }> {
  const problems: ParamProblem[] = [];
  let name: Name | undefined;
  try {
    name = Name.parse(normalizeZoneName(reverseNameOfAddress(nameText) ?? nameText));
  } catch (e) {
    problems.push({ path: 'name', message: (e as Error).message });
  }
  const type = o.type === undefined ? undefined : typeFromString(o.type);
  if (o.type !== undefined && type === undefined) problems.push({ path: 'type', message: `unknown record type ${o.type}` });
  if (problems.length > 0 || name === undefined) throw new InvalidParams('rr_query_db', problems);
  const owner = name;
  return readTx(ctx.store, async (trx) => {
    const records: FoundRecord[] = [];
    // From the name itself up to the root: the most specific zone first.
    for (let at = owner; ; at = at.parent()) {
      const zone = await liveZoneRow(trx, ctx.store.kind, zoneScope(ctx), at.toString(), false);
      if (zone) {
        const zi = await resolveZi(trx, zone, 'latest');
        const rows = (await aliveRowsAt(trx, Number(zone.id), [owner.key])).sort((a, b) => a.ord - b.ord || Number(a.id) - Number(b.id));
        const found = [...(at.equals(owner) ? [soaRecord(owner, zi)] : []), ...rows.map(rowToRecord)];
        for (const r of found) {
          if (type !== undefined && r.type !== type) continue;
          records.push({
            zone: zone.name,
            version: zi.version,
            name: r.name.toString(),
            ttl: r.ttl,
            type: typeToString(r.type),
            rdata: rdataToText(r.type, r.rdata),
            ...(r.flags?.disable ? { disabled: true } : {}),
            ...(r.comment ? { comment: r.comment } : {}),
          });
        }
      }
      if (at.isRoot()) break;
    }
    return { name: owner.toString(), records };
  });
}

/** A record as the original zone_tool's rr_query_db lists it: its label within the zone, type and RDATA. */
export interface ZoneQueryRecord {
  label: string;
  ttl: number;
  type: string;
  rdata: string;
  disabled?: boolean;
}

/** The original's label patterns: letters, digits, - _ . @, and * ? as wildcards. */
const LABEL_PATTERN = /^[-_a-zA-Z0-9.?*@]+$/;

/**
 * The original zone_tool's rr_query_db (`[-a] [-n domain] [-z zi] <label> [type] [rdata]`): the records of ONE zone's
 * ZI whose label matches `label` — "*" any run of characters, "?" one, as the original's SQL LIKE did — of one of
 * `types`, with exactly `rdata`. With `zone`, `label` is relative to it ("@" the apex); without, `label` is a whole
 * name and the zone is the most specific live zone above it. `version`: that ZI (default the newest). Disabled records,
 * and a disabled zone, only with `includeDisabled`. A literal label of the newest ZI is read by its owner's index; a
 * pattern or an older ZI reads the ZI's rows.
 */
export async function queryZoneRecords(
  ctx: ServiceContext,
  o: { label: string; zone?: string; types?: readonly string[]; rdata?: string; version?: number; includeDisabled?: boolean },
): Promise<{ zone: string; version: number; zoneDisabled: boolean; label: string; records: ZoneQueryRecord[] }> {
  const problems: ParamProblem[] = [];
  const label = o.label.toLowerCase().replace(/\.$/, '');
  if (label.length === 0 || label.length > 255 || !LABEL_PATTERN.test(label))
    problems.push({ path: 'label', message: 'a label: letters, digits, - _ . @ and the wildcards * and ?, at most 255 characters' });
  const types = (o.types ?? []).map((t) => {
    const n = typeFromString(t);
    if (n === undefined) problems.push({ path: 'types', message: `unknown record type ${t}` });
    return n;
  });
  if (problems.length > 0) throw new InvalidParams('query_zone_records', problems);
  const wild = /[*?]/.test(label);
  return readTx(ctx.store, async (trx) => {
    const usable = async (name: string) => {
      const z = await liveZoneRow(trx, ctx.store.kind, zoneScope(ctx), name, false);
      return z && (o.includeDisabled || z.state !== 'DISABLED') ? z : undefined;
    };
    let zone: Awaited<ReturnType<typeof usable>>;
    let rel = label;
    if (o.zone !== undefined) {
      const name = normalizeZoneName(o.zone);
      zone = await usable(name);
      if (!zone) throw new ZoneNotFound(name);
    } else {
      // The most specific zone above the name (labels with wildcards cannot be a zone's).
      const labels = label.split('.');
      for (let i = 0; i < labels.length && !zone; i++) {
        if (labels.slice(i).some((l) => /[*?]/.test(l))) continue;
        zone = await usable(normalizeZoneName(labels.slice(i).join('.')));
        if (zone) rel = labels.slice(0, i).join('.') || '@';
      }
      if (!zone) throw new ZoneNotFound(label);
    }
    const origin = Name.parse(zone.name);
    const zi = await resolveZi(trx, zone, o.version ?? 'latest');
    const apex = zone.name.toLowerCase().replace(/\.$/, '');
    const labelOf = (owner: string) => {
      const full = owner.toLowerCase().replace(/\.$/, '');
      return full === apex ? '@' : full.endsWith(`.${apex}`) ? full.slice(0, -apex.length - 1) : full;
    };
    const pattern = wild ? globToRegExp(rel) : undefined;
    const matches = (l: string) => (pattern ? pattern.test(l) : l === rel);
    const rows =
      !wild && zi.version === zone.latest_version
        ? await aliveRowsAt(trx, Number(zone.id), [(rel === '@' ? origin : Name.parse(`${rel}.${zone.name}`)).key])
        : await rowsAt(trx, Number(zone.id), zi.version);
    const found = [...(matches('@') ? [soaRecord(origin, zi)] : []), ...rows.sort((a, b) => a.ord - b.ord || Number(a.id) - Number(b.id)).map(rowToRecord)];
    const records: ZoneQueryRecord[] = [];
    for (const r of found) {
      const l = labelOf(r.name.toString());
      if (!matches(l)) continue;
      if (types.length > 0 && !types.includes(r.type)) continue;
      const disabled = !!r.flags?.disable;
      if (disabled && !o.includeDisabled) continue;
      const rdata = rdataToText(r.type, r.rdata);
      if (o.rdata !== undefined && rdata !== o.rdata) continue;
      records.push({ label: l, ttl: r.ttl, type: typeToString(r.type), rdata, ...(disabled ? { disabled: true } : {}) });
    }
    return { zone: zone.name, version: zi.version, zoneDisabled: zone.state === 'DISABLED', label: rel, records };
  });
}
