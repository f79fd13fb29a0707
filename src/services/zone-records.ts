// A zone's records as structured data, both ways: for a web control panel that shows and edits a zone record by record
// (edit_zone / show_zone with format "records", update_zone) instead of writing and reading zone-file text. Each
// record is given as master-file fields and parsed by the zone-file parser, one record at a time, so it passes the
// same checks as a line of a zone file; its problems are told by parameter path (records[3].rdata). The whole set is
// then saved exactly as update_zone_text saves a text (the same rules, the edit token or the base version).

import { RRType, typeFromString, typeToString } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { rdataToText } from '../dns/rdata.js';
import { parseName } from '../zonefile/index.js';
import { loadSettings } from './config.js';
import type { ServiceContext } from './context.js';
import { saveZoneEdit } from './edit.js';
import { InvalidParams, type ParamProblem } from './errors.js';
import { normalizeZoneName } from './names.js';
import { recordOfFields } from './rrs.js';
import type { RRFlags, SaveOptions, SaveResult, ZiSelector, ZoneContent, ZoneRecord } from './types.js';
import { getZi, getZoneContent, saveZone } from './zones.js';

/** One record of a zone as structured data. */
export interface ZoneRecordData {
  /** Owner: "@", relative to the zone, or absolute with a trailing dot. */
  name: string;
  /** Default (input): the zone's default TTL. */
  ttl?: number;
  /** Type mnemonic or TYPEnnn. */
  type: string;
  /** RDATA in master-file form ("10 mail", "\"v=spf1 -all\""). */
  rdata: string;
  /** The record's comment (`;#` in zone-file text). */
  comment?: string;
  /** The comment of the group the record belongs to (`;|`). */
  group?: string;
  /** Kept but not served (`;!DISABLE`). */
  disabled?: boolean;
  /** The automatic reverse step never alters this PTR (`;!LOCKPTR`). */
  lockPtr?: boolean;
  /** Set the reverse PTR even for IPv4 or when one exists (`;!FORCEREV`). */
  forceRev?: boolean;
  /** Keep the reverse PTR following this address record (`;!TRACKREV`). */
  trackRev?: boolean;
  /** The reference managing this record (`;!REF:`); on the SOA, the zone's own. */
  ref?: string;
}

const FLAG_FIELDS = [
  ['disabled', 'disable'],
  ['lockPtr', 'lockPtr'],
  ['forceRev', 'forceRev'],
  ['trackRev', 'trackRev'],
] as const;

/** The owner as the zone's text shows it: "@" at the apex, relative below it, absolute elsewhere. */
function ownerText(name: Name, origin: Name): string {
  if (name.equals(origin)) return '@';
  if (!name.isSubdomainOf(origin)) return name.toString();
  const text = name.toString();
  return text.slice(0, text.length - origin.toString().length - 1);
}

/** A ZI's records as structured data (the SOA first, as stored), the zone's reference on the SOA. */
export function contentToRecords(c: ZoneContent): ZoneRecordData[] {
  const origin = Name.parse(c.zone.name);
  return c.records.map((r) => {
    const d: ZoneRecordData = { name: ownerText(r.name, origin), ttl: r.ttl, type: typeToString(r.type), rdata: rdataToText(r.type, r.rdata) };
    if (r.comment !== undefined) d.comment = r.comment;
    if (r.group !== undefined) d.group = r.group;
    for (const [field, flag] of FLAG_FIELDS) if (r.flags?.[flag]) d[field] = true;
    const ref = r.type === RRType.SOA && r.name.equals(origin) ? (c.zone.reference ?? undefined) : r.flags?.ref;
    if (ref) d.ref = ref;
    return d;
  });
}

/**
 * The records given as structured data, parsed; every problem is collected with its parameter path (`field[i].x`)
 * and reported together (InvalidParams), nothing saved. A record without a TTL takes `defaultTtl`.
 */
export function recordsFromData(origin: Name, data: readonly ZoneRecordData[], defaultTtl: number, where: { operation: string; field: string }): ZoneRecord[] {
  const problems: ParamProblem[] = [];
  const out: ZoneRecord[] = [];
  data.forEach((d, index) => {
    const at = (f: string) => `${where.field}[${index}].${f}`;
    let name: Name | undefined;
    try {
      name = parseName(d.name, origin);
    } catch (e) {
      problems.push({ path: at('name'), message: (e as Error).message });
    }
    const type = typeFromString(d.type);
    if (type === undefined) problems.push({ path: at('type'), message: `unknown record type ${d.type}` });
    if (name === undefined || type === undefined) return;
    const r = recordOfFields(origin, name, d.ttl ?? defaultTtl, type, d.rdata, at('rdata'), problems);
    if (!r) return;
    if (d.comment !== undefined && d.comment !== '') r.comment = d.comment;
    if (d.group !== undefined && d.group !== '') r.group = d.group;
    const flags: RRFlags = {};
    for (const [field, flag] of FLAG_FIELDS) if (d[field]) flags[flag] = true;
    if (d.ref !== undefined) flags.ref = d.ref;
    if (Object.keys(flags).length > 0) r.flags = flags;
    out.push(r);
  });
  if (problems.length > 0) throw new InvalidParams(where.operation, problems);
  return out;
}

/**
 * Save the zone's whole content given as structured data as its new ZI: with the edit_zone token (the edit ends), or
 * against a base version, or on top of the newest one. `zoneTtl` sets the zone's default TTL (default: unchanged),
 * which records without a TTL take.
 */
export async function saveZoneRecords(
  ctx: ServiceContext,
  name: string,
  data: readonly ZoneRecordData[],
  o: SaveOptions & { token?: string; baseVersion?: number } = {},
): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  const { token, ...save } = o;
  const zoneTtl = o.zoneTtl ?? (data.some((d) => d.ttl === undefined) ? (await getZi(ctx, key, 'latest')).zi.zoneTtl : 0);
  const records = recordsFromData(Name.parse(key), data, zoneTtl, { operation: 'update_zone', field: 'records' });
  if (token !== undefined) return saveZoneEdit(ctx, key, token, { records }, save);
  return saveZone(ctx, key, records, save);
}

/**
 * The zone's default TTL set anew (the original DMS's refresh_zone_ttl): to `zoneTtl`, or else to the configured
 * zone_ttl. The records that followed the zone's TTL (whose TTL is the old default) follow the new one; those with a
 * TTL of their own keep it. One new ZI, saved as update_zone saves (against the version read: a change made meanwhile
 * is not overwritten), or no change when the default is already that.
 */
export async function refreshZoneTtl(ctx: ServiceContext, name: string, zoneTtl?: number): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  const ttl = zoneTtl ?? (await loadSettings(ctx.store.db)).ttl('zone_ttl');
  const content = await getZoneContent(ctx, key, 'latest');
  const old = content.zi.zoneTtl;
  const data = contentToRecords(content).map(({ ttl: t, ...d }) => (t === undefined || t === old ? d : { ...d, ttl: t }));
  return saveZoneRecords(ctx, key, data, { zoneTtl: ttl, baseVersion: content.zi.version });
}

/**
 * A ZI of one zone saved as the newest ZI of another (the original DMS's copy_zi across zones): its records, owners
 * taken relative to the zone they move to, replace the other zone's — except its apex SOA and NS, which stay. Saved
 * as update_zone saves, against the version read.
 */
export async function copyZiToZone(ctx: ServiceContext, from: string, sel: ZiSelector, to: string): Promise<SaveResult> {
  const src = await getZoneContent(ctx, normalizeZoneName(from), sel);
  const key = normalizeZoneName(to);
  const dst = await getZoneContent(ctx, key, 'latest');
  const apex = (d: ZoneRecordData) => d.name === '@' && (d.type === 'SOA' || d.type === 'NS');
  // The source's zone reference rides on its SOA: the records keep their own flags, the zone its reference.
  const data = [...contentToRecords(dst).filter(apex), ...contentToRecords(src).filter((d) => !apex(d))];
  // As copy_zone does, the ZI's zone TTL ($TTL) goes with its records; RDATA is copied as is.
  return saveZoneRecords(ctx, key, data, { zoneTtl: src.zi.zoneTtl, baseVersion: dst.zi.version });
}
