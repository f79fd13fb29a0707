// The original DMS's calling convention, on the original's own URLs (/admin_dms, /helpdesk_dms, /list_zone,
// /hosted_dms, /value_reseller_dms): a control panel written for it calls its methods with its parameter names
// (`name`, `login_id`, `zi_id`, `zi_data`, `update_data`, ...) or positionally, and reads its result shapes (show_zone's
// zone fields with `zi.rr_groups` and `all_zis`, edit_zone's `[zi_data, edit_lock_token]`, `true` from the changes).
// Each such call is carried out by the operations of the table, through the same tier and token checks as any call;
// nothing here reads or writes the store. A call in DMS's own form (named parameters such as `zone`) is not touched.
// Facts about the original's protocol: its Programming_Information document and its engine's result fields.

import { parseTtl } from '../zonefile/ttl.js';
import { InvalidParams, type ParamProblem, PermissionDenied, type Tier, type ZiInfo, type ZoneInfo, type ZoneRecordData } from '../services/index.js';

/** Runs one operation of the table (tier, token scope and parameter checks included). */
export type OperationCaller = (method: string, params: Record<string, unknown>) => Promise<unknown>;

type Args = Record<string, unknown>;

interface OriginalMethod {
  /** The original's parameters, in its positional order. */
  readonly params: readonly string[];
  /** Parameter names DMS's own form of the method never has: one of them in a call means the original's form. */
  readonly marks: readonly string[];
  run(call: OperationCaller, a: Args, method: string, tier: Tier): Promise<unknown>;
}

// ---- reading the original's arguments ---------------------------------------------------------------------------

function bad(method: string, path: string, message: string): InvalidParams {
  return new InvalidParams(method, [{ path, message }]);
}

function str(method: string, a: Args, k: string): string {
  const v = a[k];
  if (typeof v !== 'string' || v === '') throw bad(method, k, v === undefined || v === null ? 'required' : 'expected a non-empty string');
  return v;
}

function optStr(method: string, a: Args, k: string): string | undefined {
  const v = a[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(method, k, 'expected a string');
  return v;
}

function optBool(method: string, a: Args, k: string): boolean | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(method, k, 'expected true or false');
  return v;
}

/** A positive id (a zone id, or a zi_id: here the ZI's version within its zone), as a number or a decimal string. */
function optId(method: string, a: Args, k: string): number | undefined {
  const v = a[k];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw bad(method, k, k === 'zone_id' ? 'expected a zone id' : 'expected a ZI number');
  return n;
}

function requiredId(method: string, a: Args, k: string): number {
  const n = optId(method, a, k);
  if (n === undefined) throw bad(method, k, 'required');
  return n;
}

/** A TTL as the original gave it: seconds (number or text) or BIND units ("24h"); null or "" for none. */
function optTtl(method: string, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff) return v;
  if (typeof v === 'string') {
    const t = parseTtl(v);
    if (typeof t === 'number') return t;
    throw bad(method, path, t);
  }
  throw bad(method, path, 'expected a TTL (seconds, or units like 24h)');
}

/** A sectag as the original listed them ({sectag_label}) or plain text. */
function sectagOf(method: string, v: unknown, path: string): string {
  if (typeof v === 'string' && v !== '') return v;
  if (v !== null && typeof v === 'object' && typeof (v as Args).sectag_label === 'string') return (v as Args).sectag_label as string;
  throw bad(method, path, 'expected a security tag ("TAG" or {"sectag_label": "TAG"})');
}

// ---- the original's result shapes -------------------------------------------------------------------------------

/** Times as the original's engine wrote them without a time format (Python's isoformat(sep=' ')), in UTC. */
function time(d: Date | null | undefined): string | null {
  return d ? d.toISOString().replace('T', ' ').replace('Z', '+00:00') : null;
}

const seconds = (n: number | null | undefined): string | null => (n === null || n === undefined ? null : String(n));

/** A zone's fields (the original's zone_sm), its sectags for the admin tier as the original showed them. */
function zoneFields(z: ZoneInfo): Args {
  return {
    zone_id: z.id,
    name: z.name,
    state: z.state,
    soa_serial: z.soaSerial,
    zi_id: z.publishedVersion,
    zi_candidate_id: z.latestVersion,
    reference: z.reference,
    sg_name: z.sg,
    alt_sg_name: z.altSg,
    use_apex_ns: z.flags.useApexNs,
    edit_lock: z.flags.editLock,
    auto_dnssec: z.flags.autoDnssec,
    nsec3: z.flags.nsec3,
    inc_updates: z.flags.incUpdates,
    lock_state: z.lockedBy ? 'EDIT_LOCK' : 'EDIT_UNLOCK',
    locked_by: z.lockedBy,
    locked_at: time(z.lockedSince),
    // The token is the editor's secret: never shown (the original showed null outside its own editing session too).
    edit_lock_token: null,
    deleted_start: time(z.deletedStart),
    ctime: time(z.ctime),
    mtime: time(z.mtime),
    zone_type: 'DynDNSZoneSM',
    ...(z.sectags.length > 0 ? { sectags: z.sectags.map((s) => ({ sectag_label: s })) } : {}),
  };
}

/** A ZI in brief (the original's all_zis entries). */
function ziBrief(zi: ZiInfo): Args {
  return { zi_id: zi.version, zone_id: zi.zoneId, soa_serial: zi.soaSerial, change_by: zi.changeBy, ctime: time(zi.ctime), mtime: time(zi.mtime), ptime: time(zi.ptime) };
}

/** A zone's ZIs in brief, oldest first (the original's all_zis). */
const allZis = (zis: readonly ZiInfo[]): Args[] => [...zis].sort((x, y) => x.ctime.getTime() - y.ctime.getTime() || x.version - y.version).map(ziBrief);

/** A ZI's own fields (the original's show_zi), SOA timers and TTLs as text as the original stored them. */
function ziFields(zi: ZiInfo): Args {
  return {
    ...ziBrief(zi),
    soa_mname: zi.soaMname,
    soa_rname: zi.soaRname,
    soa_refresh: seconds(zi.soaRefresh),
    soa_retry: seconds(zi.soaRetry),
    soa_expire: seconds(zi.soaExpire),
    soa_minimum: seconds(zi.soaMinimum),
    soa_ttl: seconds(zi.soaTtl),
    zone_ttl: seconds(zi.zoneTtl),
  };
}

/**
 * A ZI's records as the original's rr_groups: the apex records first (tag APEX_RRS), then one group per group comment
 * in the order met, the records without one in a DEFAULT group. rr_id numbers the records within the ZI.
 */
function rrGroups(records: readonly ZoneRecordData[], version: number, zoneTtl: number): Args[] {
  const apex: Args = { comment: null, tag: 'APEX_RRS', rrs: [] as Args[] };
  const plain: Args = { comment: null, tag: 'DEFAULT', rrs: [] as Args[] };
  const byComment = new Map<string, Args>();
  let id = 0;
  for (const r of records) {
    const rr = {
      rr_id: ++id,
      zi_id: version,
      label: r.name,
      ttl: r.ttl === undefined || r.ttl === zoneTtl ? null : r.ttl,
      class: 'IN',
      type: r.type,
      rdata: r.rdata,
      comment: r.comment ?? null,
      disable: r.disabled ?? false,
      lock_ptr: r.lockPtr ?? false,
      force_reverse: r.forceRev ?? false,
      track_reverse: r.trackRev ?? false,
      reference: r.type === 'SOA' ? null : (r.ref ?? null),
    };
    let g = plain;
    if (r.group !== undefined) {
      g = byComment.get(r.group) ?? { comment: r.group, tag: null, rrs: [] };
      byComment.set(r.group, g);
    } else if (r.name === '@') g = apex;
    (g.rrs as Args[]).push(rr);
  }
  return [apex, ...byComment.values(), plain].filter((g) => (g.rrs as Args[]).length > 0);
}

interface ShowRecords {
  zone: ZoneInfo;
  zi: ZiInfo;
  records: ZoneRecordData[];
}

/** show_zone's result in the original's shape: zone fields, the ZI with its rr_groups, every ZI in brief. */
async function zoneData(call: OperationCaller, zone: string | number, zi: number | undefined): Promise<Args> {
  const shown = (await call(typeof zone === 'number' ? 'show_zone_byid' : 'show_zone', {
    ...(typeof zone === 'number' ? { zoneId: zone } : { zone }),
    ...(zi === undefined ? {} : { zi }),
    format: 'records',
  })) as ShowRecords;
  // A deleted zone (reached by its id) is not found by its name, which may even be another zone's now: its ZIs are
  // then the one shown.
  const zis = shown.zone.state === 'DELETED' ? [shown.zi] : ((await call('list_zi', { zone: shown.zone.name })) as { zis: ZiInfo[] }).zis;
  return {
    ...zoneFields(shown.zone),
    zi: { ...ziFields(shown.zi), rr_groups: rrGroups(shown.records, shown.zi.version, shown.zi.zoneTtl) },
    all_zis: allZis(zis),
  };
}

// ---- the original's zi_data, read ---------------------------------------------------------------------------------

/** One rr of the original's zi_data as a record of update_zone. */
function recordOf(method: string, rr: unknown, group: string | undefined, path: string): ZoneRecordData {
  if (rr === null || typeof rr !== 'object' || Array.isArray(rr)) throw bad(method, path, 'expected an rr object');
  const a = rr as Args;
  const text = (k: string, required: boolean): string | undefined => {
    const v = a[k];
    if (v === undefined || v === null || v === '') {
      if (required) throw bad(method, `${path}.${k}`, 'required');
      return undefined;
    }
    if (typeof v !== 'string') throw bad(method, `${path}.${k}`, 'expected a string');
    return v;
  };
  const flag = (k: string): boolean | undefined => {
    const v = a[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw bad(method, `${path}.${k}`, 'expected true or false');
    return v || undefined;
  };
  const cls = text('class', false);
  if (cls !== undefined && cls.toUpperCase() !== 'IN') throw bad(method, `${path}.class`, 'only class IN is supported');
  const out: ZoneRecordData = { name: text('label', true) as string, type: (text('type', true) as string).toUpperCase(), rdata: text('rdata', true) as string };
  const ttl = optTtl(method, a.ttl, `${path}.ttl`);
  if (ttl !== undefined) out.ttl = ttl;
  const comment = text('comment', false);
  if (comment !== undefined) out.comment = comment;
  if (group !== undefined) out.group = group;
  const f = { disabled: flag('disable'), lockPtr: flag('lock_ptr'), forceRev: flag('force_reverse'), trackRev: flag('track_reverse') };
  for (const [k, v] of Object.entries(f)) if (v) (out as unknown as Args)[k] = true;
  const ref = text('reference', false);
  if (ref !== undefined) out.ref = ref;
  return out;
}

/** Each rr of zi_data.rr_groups with the path it was given at (for the errors). */
function* rrsOf(method: string, data: unknown, field: string): Generator<{ rr: unknown; group: string | undefined; path: string }> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw bad(method, field, 'expected an object with rr_groups');
  const groups = (data as Args).rr_groups;
  if (groups === undefined || groups === null) return;
  if (!Array.isArray(groups)) throw bad(method, `${field}.rr_groups`, 'expected an array');
  for (const [g, group] of groups.entries()) {
    const gp = `${field}.rr_groups[${g}]`;
    if (group === null || typeof group !== 'object' || Array.isArray(group)) throw bad(method, gp, 'expected an object with rrs');
    const { comment, rrs } = group as Args;
    if (comment !== undefined && comment !== null && typeof comment !== 'string') throw bad(method, `${gp}.comment`, 'expected a string');
    if (!Array.isArray(rrs)) throw bad(method, `${gp}.rrs`, 'expected an array');
    const tag = (group as Args).tag;
    // The apex group's comment is the original's own caption, not the operator's: not kept as a group comment.
    const groupComment = typeof comment === 'string' && comment !== '' && tag !== 'APEX_RRS' && tag !== 'DEFAULT' ? comment : undefined;
    for (const [i, rr] of rrs.entries()) yield { rr, group: groupComment, path: `${gp}.rrs[${i}]` };
  }
}

const SOA_FIELDS = ['soa_mname', 'soa_rname', 'soa_refresh', 'soa_retry', 'soa_expire', 'soa_minimum', 'soa_ttl'] as const;

/**
 * The original's zi_data as update_zone's parameters: its records (rr_groups), the zone TTL, and an SOA made from its
 * soa_* fields when it has any (the original made the SOA from those fields, whatever SOA rr came with them).
 */
async function zoneFromData(call: OperationCaller, method: string, zone: string, data: unknown): Promise<{ records: ZoneRecordData[]; paths: string[]; zoneTtl?: number }> {
  const records: ZoneRecordData[] = [];
  const paths: string[] = [];
  for (const { rr, group, path } of rrsOf(method, data, 'zi_data')) {
    records.push(recordOf(method, rr, group, path));
    paths.push(path);
  }
  const d = data as Args;
  const zoneTtl = optTtl(method, d.zone_ttl, 'zi_data.zone_ttl');
  if (SOA_FIELDS.some((k) => d[k] !== undefined && d[k] !== null && d[k] !== '')) {
    const { zi } = (await call('show_zi', { zone, zi: 'latest' })) as { zi: ZiInfo };
    const name = (k: string, dflt: string) => {
      const v = d[k];
      if (v === undefined || v === null || v === '') return dflt;
      if (typeof v !== 'string') throw bad(method, `zi_data.${k}`, 'expected a domain name');
      return v;
    };
    const timer = (k: string, dflt: number) => optTtl(method, d[k], `zi_data.${k}`) ?? dflt;
    const soaTtl = optTtl(method, d.soa_ttl, 'zi_data.soa_ttl') ?? zi.soaTtl ?? undefined;
    const at = records.findIndex((r) => r.type === 'SOA' && r.name === '@');
    const soa: ZoneRecordData = {
      name: '@',
      type: 'SOA',
      rdata: [
        name('soa_mname', zi.soaMname),
        name('soa_rname', zi.soaRname),
        zi.soaSerial,
        timer('soa_refresh', zi.soaRefresh),
        timer('soa_retry', zi.soaRetry),
        timer('soa_expire', zi.soaExpire),
        timer('soa_minimum', zi.soaMinimum),
      ].join(' '),
      ...(soaTtl === undefined ? {} : { ttl: soaTtl }),
    };
    if (at >= 0) {
      records[at] = { ...records[at], rdata: soa.rdata, ...(soa.ttl === undefined ? {} : { ttl: soa.ttl }) };
    } else {
      records.unshift(soa);
      paths.unshift('zi_data');
    }
  }
  return { records, paths, ...(zoneTtl === undefined ? {} : { zoneTtl }) };
}

/** An operation's parameter problems at `records[i]` told at the original's path of that rr. */
async function withRecordPaths<T>(method: string, paths: readonly string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof InvalidParams)) throw e;
    const problems: ParamProblem[] = e.problems.map((p) => {
      const m = /^records\[(\d+)\](.*)$/.exec(p.path ?? '');
      const at = m ? paths[Number(m[1])] : undefined;
      return at === undefined ? p : { ...p, path: `${at}${m?.[2] ?? ''}` };
    });
    throw new InvalidParams(method, problems);
  }
}

/** The apex SOA and NS: a zone's own, never taken from a template or another zone. */
const isApexSoaOrNs = (r: ZoneRecordData) => r.name === '@' && (r.type === 'SOA' || r.type === 'NS');

/** The zone-file text of a new zone made from the original's zi_data: the records, the apex SOA and NS left out. */
function zoneTextOf(records: readonly ZoneRecordData[]): string {
  const lines: string[] = [];
  let group: string | undefined;
  for (const r of records) {
    if (isApexSoaOrNs(r)) continue;
    if (r.group !== group && r.group !== undefined) for (const l of r.group.split('\n')) lines.push(`;| ${l}`);
    group = r.group;
    if (r.comment !== undefined) for (const l of r.comment.split('\n')) lines.push(`;# ${l}`);
    const flags = [r.disabled && 'DISABLE', r.lockPtr && 'LOCKPTR', r.forceRev && 'FORCEREV', r.trackRev && 'TRACKREV', r.ref !== undefined && `REF:${r.ref}`].filter(Boolean);
    if (flags.length > 0) lines.push(`;!${flags.join(' ')}`);
    lines.push(`${r.name} ${r.ttl ?? ''} IN ${r.type} ${r.rdata}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

// ---- update_rrs ----------------------------------------------------------------------------------------------------

const RROPS: Readonly<Record<string, 'add' | 'delete' | 'replace'>> = { ADD: 'add', DELETE: 'delete', UPDATE_RRTYPE: 'replace' };

/** The original's update_data (rr_groups of rrs with update_op) as update_rrs changes (DELETE of type ANY: the name). */
function rrChangesOf(method: string, data: unknown): { changes: Args[]; paths: string[] } {
  const changes: Args[] = [];
  const paths: string[] = [];
  for (const { rr, path } of rrsOf(method, data, 'update_data')) {
    if (rr === null || typeof rr !== 'object' || Array.isArray(rr)) throw bad(method, path, 'expected an rr object');
    const a = rr as Args;
    const op = typeof a.update_op === 'string' ? RROPS[a.update_op.toUpperCase()] : undefined;
    if (!op) throw bad(method, `${path}.update_op`, 'expected ADD, DELETE or UPDATE_RRTYPE');
    const label = a.label;
    if (typeof label !== 'string' || label === '') throw bad(method, `${path}.label`, 'required');
    const type = typeof a.type === 'string' ? a.type.toUpperCase() : '';
    if (type === '') throw bad(method, `${path}.type`, 'required');
    if (a.class !== undefined && a.class !== null && String(a.class).toUpperCase() !== 'IN') throw bad(method, `${path}.class`, 'only class IN is supported');
    const rdata = a.rdata === undefined || a.rdata === null || a.rdata === '' ? undefined : a.rdata;
    if (rdata !== undefined && typeof rdata !== 'string') throw bad(method, `${path}.rdata`, 'expected a string');
    if (op !== 'delete' && rdata === undefined) throw bad(method, `${path}.rdata`, 'required');
    const ttl = optTtl(method, a.ttl, `${path}.ttl`);
    changes.push({ action: op, name: label, type, ...(ttl === undefined ? {} : { ttl }), ...(rdata === undefined ? {} : { rdata }) });
    paths.push(path);
  }
  return { changes, paths };
}

// ---- the methods ----------------------------------------------------------------------------------------------------

/** A change whose original answer is `true`: the operation's own result is not the original's. */
function change(method: string, params: readonly string[], marks: readonly string[], map: (a: Args, m: string) => Args): OriginalMethod {
  return {
    params,
    marks,
    run: async (call, a, m) => {
      await call(method, map(a, m));
      return true;
    },
  };
}

const zoneArg = (a: Args, m: string) => ({ zone: str(m, a, 'name') });

function flagsOf(a: Args, m: string): Args {
  const flags: Args = {};
  for (const [orig, ours] of [
    ['edit_lock', 'editLock'],
    ['auto_dnssec', 'autoDnssec'],
    ['nsec3', 'nsec3'],
    ['inc_updates', 'incUpdates'],
    ['use_apex_ns', 'useApexNs'],
  ] as const) {
    const v = optBool(m, a, orig);
    if (v !== undefined) flags[ours] = v;
  }
  return flags;
}

const ZONE_FLAGS = ['edit_lock', 'auto_dnssec', 'nsec3', 'inc_updates', 'use_apex_ns'];

async function listZone(call: OperationCaller, a: Args, m: string): Promise<unknown> {
  const names = a.names;
  const patterns: string[] =
    names === undefined || names === null ? ['*'] : typeof names === 'string' ? [names] : Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : [];
  if (patterns.length === 0) throw bad(m, 'names', 'expected an array of names or wildcard patterns');
  const toggle = optBool(m, a, 'toggle_deleted') ?? false;
  const which = toggle ? 'deleted' : (optBool(m, a, 'include_deleted') ?? false) ? 'all' : 'active';
  const includeDisabled = optBool(m, a, 'include_disabled') ?? true;
  const reference = optStr(m, a, 'reference');
  const sg = optStr(m, a, 'sg_name');
  const seen = new Map<number, Args>();
  for (const pattern of patterns) {
    let after: string | undefined;
    for (;;) {
      const page = (await call('list_zone', {
        pattern,
        which,
        detail: true,
        limit: 10_000,
        ...(reference === undefined ? {} : { reference }),
        ...(sg === undefined ? {} : { sg }),
        ...(after === undefined ? {} : { after }),
      })) as ZoneInfo[];
      for (const z of page) {
        if (!includeDisabled && z.state === 'DISABLED') continue;
        seen.set(z.id, {
          zone_id: z.id,
          zi_id: z.publishedVersion,
          name: z.name,
          state: z.state,
          soa_serial: z.soaSerial,
          ctime: time(z.ctime),
          mtime: time(z.mtime),
          deleted_start: time(z.deletedStart),
          reference: z.reference,
        });
      }
      if (page.length < 10_000) break;
      after = page[page.length - 1].name;
    }
  }
  return [...seen.values()].sort((x, y) => String(x.name).localeCompare(String(y.name)));
}

async function editZone(call: OperationCaller, a: Args, m: string): Promise<unknown> {
  const zone = str(m, a, 'name');
  const zi = optId(m, a, 'zi_id');
  const edit = (await call('edit_zone', { zone, format: 'records' })) as { zone: string; token?: string | null; baseVersion: number };
  try {
    return [await zoneData(call, edit.zone, zi ?? edit.baseVersion), edit.token ?? null];
  } catch (e) {
    // As the original: the lock is let go when the zone's data cannot be given.
    if (edit.token) await call('cancel_edit_zone', { zone: edit.zone, token: edit.token }).catch(() => undefined);
    throw e;
  }
}

async function updateZone(call: OperationCaller, a: Args, m: string): Promise<unknown> {
  const zone = str(m, a, 'name');
  optBool(m, a, 'normalize_ttls');
  const token = optStr(m, a, 'edit_lock_token');
  const { records, paths, zoneTtl } = await zoneFromData(call, m, zone, a.zi_data);
  await withRecordPaths(m, paths, () => call('update_zone', { zone, records, ...(zoneTtl === undefined ? {} : { zoneTtl }), ...(token === undefined ? {} : { token }) }));
  return true;
}

/** The sectags a new zone is to carry: the admin tier's, as in the original; refused for others before anything is made. */
function newZoneSectags(a: Args, m: string, tier: Tier): string[] {
  const v = a.sectags;
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return [];
  if (tier !== 'admin') throw new PermissionDenied(`${m} with sectags`);
  if (!Array.isArray(v)) throw bad(m, 'sectags', 'expected an array of security tags');
  return v.map((s, i) => sectagOf(m, s, `sectags[${i}]`));
}

/** What create_zone and copy_zone share: the reference (made when missing, as the original did), group and flags. */
function newZoneOptions(a: Args, m: string): Args {
  const reference = optStr(m, a, 'reference');
  const sg = optStr(m, a, 'sg_name');
  const flags = flagsOf(a, m);
  return {
    ...(reference === undefined ? {} : { reference, createReference: true }),
    ...(sg === undefined ? {} : { sg }),
    ...(Object.keys(flags).length > 0 ? { flags } : {}),
  };
}

async function createZone(call: OperationCaller, a: Args, m: string, tier: Tier): Promise<unknown> {
  const zone = str(m, a, 'name');
  const sectags = newZoneSectags(a, m, tier);
  const options = newZoneOptions(a, m);
  let text: string | undefined;
  if (a.zi_data !== undefined && a.zi_data !== null) {
    const records: ZoneRecordData[] = [];
    for (const { rr, group, path } of rrsOf(m, a.zi_data, 'zi_data')) records.push(recordOf(m, rr, group, path));
    const zoneTtl = optTtl(m, (a.zi_data as Args).zone_ttl, 'zi_data.zone_ttl');
    text = `${zoneTtl === undefined ? '' : `$TTL ${zoneTtl}\n`}${zoneTextOf(records)}`;
    if (text === '') text = undefined;
  }
  await call('create_zone', { zone, ...options, ...(text === undefined ? {} : { text }) });
  if (sectags.length > 0) await call('replace_zone_sectags', { zone, sectags });
  return true;
}

async function copyZone(call: OperationCaller, a: Args, m: string, tier: Tier): Promise<unknown> {
  const from = str(m, a, 'src_name');
  const to = str(m, a, 'name');
  const sectags = newZoneSectags(a, m, tier);
  const zi = optId(m, a, 'zi_id');
  await call('copy_zone', { zone: from, to, ...(zi === undefined ? {} : { zi }), ...newZoneOptions(a, m) });
  if (sectags.length > 0) await call('replace_zone_sectags', { zone: to, sectags });
  return true;
}

/** copy_zi: a ZI of one zone (default: its published one) saved as a new ZI of another (the apex SOA and NS stay). */
async function copyZiAcross(call: OperationCaller, a: Args, m: string): Promise<unknown> {
  const from = str(m, a, 'src_name');
  const to = str(m, a, 'name');
  const zi = optId(m, a, 'zi_id');
  await call('copy_zi', { zone: from, zi: zi ?? 'published', to });
  return true;
}

const zoneOnly = ['name'];

/** refresh_zone / reset_zone: with zi_id, that ZI is published first (an older one as a copy with a new serial). */
async function refreshZone(call: OperationCaller, a: Args, m: string): Promise<unknown> {
  const zone = str(m, a, 'name');
  const zi = optId(m, a, 'zi_id');
  if (zi !== undefined) await call('publish_zi', { zone, zi });
  await call('refresh_zone', { zone });
  return true;
}

/** The original's methods (its JSON-RPC calls list) that DMS's operations carry out. */
const METHODS: Readonly<Record<string, OriginalMethod>> = {
  list_zone: { params: ['names', 'reference', 'include_deleted', 'toggle_deleted', 'include_disabled', 'sg_name'], marks: ['names', 'include_deleted', 'toggle_deleted', 'include_disabled', 'sg_name'], run: listZone },
  list_zi: {
    params: zoneOnly,
    marks: zoneOnly,
    run: async (call, a, m) => {
      const r = (await call('list_zi', zoneArg(a, m))) as { zone: ZoneInfo; zis: ZiInfo[] };
      const published = r.zis.find((z) => z.version === r.zone.publishedVersion);
      return {
        ...zoneFields(r.zone),
        ...(published ? { zi: ziFields(published) } : {}),
        all_zis: allZis(r.zis),
      };
    },
  },
  show_zone: { params: ['name', 'zi_id'], marks: ['name', 'zi_id'], run: async (call, a, m) => zoneData(call, str(m, a, 'name'), optId(m, a, 'zi_id')) },
  show_zone_byid: { params: ['zone_id', 'zi_id'], marks: ['zone_id', 'zi_id'], run: async (call, a, m) => zoneData(call, requiredId(m, a, 'zone_id'), optId(m, a, 'zi_id')) },
  show_zone_text: {
    params: ['name', 'zi_id', 'all_rrs'],
    marks: [],
    run: async (call, a, m) => {
      const zone = str(m, a, 'name');
      const zi = optId(m, a, 'zi_id');
      const sel = zi === undefined ? {} : { zi };
      const shown = (await call('show_zi', { zone, ...sel })) as { zone: ZoneInfo; zi: ZiInfo };
      const text = (await call('show_zone', { zone, zi: shown.zi.version })) as { text: string };
      return {
        zi_text: text.text,
        name: shown.zone.name,
        zi_id: shown.zi.version,
        zi_ctime: time(shown.zi.ctime),
        zi_mtime: time(shown.zi.mtime),
        zi_ptime: time(shown.zi.ptime),
        soa_serial: shown.zi.soaSerial,
        zone_id: shown.zone.id,
      };
    },
  },
  show_zi: {
    params: ['name', 'zi_id'],
    marks: ['name', 'zi_id'],
    run: async (call, a, m) => {
      const zi = optId(m, a, 'zi_id');
      const r = (await call('show_zi', { zone: str(m, a, 'name'), ...(zi === undefined ? {} : { zi }) })) as { zi: ZiInfo };
      return ziFields(r.zi);
    },
  },
  create_zone: {
    params: ['name', 'reference', 'login_id', 'zi_data', 'sectags', 'sg_name', 'edit_lock', 'auto_dnssec', 'nsec3', 'inc_updates', 'use_apex_ns'],
    marks: ['name', 'login_id', 'zi_data', 'sectags', 'sg_name', ...ZONE_FLAGS],
    run: createZone,
  },
  copy_zone: {
    params: ['src_name', 'name', 'reference', 'login_id', 'zi_id', 'sectags', 'sg_name', 'edit_lock', 'auto_dnssec', 'nsec3', 'inc_updates', 'use_apex_ns'],
    marks: ['src_name', 'name', 'login_id', 'zi_id', 'sectags', 'sg_name', ...ZONE_FLAGS],
    run: copyZone,
  },
  enable_zone: change('enable_zone', zoneOnly, zoneOnly, zoneArg),
  disable_zone: change('disable_zone', zoneOnly, zoneOnly, zoneArg),
  delete_zone: change('delete_zone', zoneOnly, zoneOnly, zoneArg),
  set_zone: change('set_zone', ['name', ...ZONE_FLAGS], ['name', ...ZONE_FLAGS], (a, m) => ({ zone: str(m, a, 'name'), flags: flagsOf(a, m) })),
  undelete_zone: change('undelete_zone', ['zone_id'], ['zone_id'], (a, m) => ({ zoneId: requiredId(m, a, 'zone_id') })),
  destroy_zone: change('destroy_zone', ['zone_id'], ['zone_id'], (a, m) => ({ zoneId: requiredId(m, a, 'zone_id') })),
  copy_zi: { params: ['src_name', 'name', 'zi_id', 'login_id'], marks: ['src_name', 'name', 'zi_id', 'login_id'], run: copyZiAcross },
  delete_zi: change('delete_zi', ['name', 'zi_id'], ['name', 'zi_id'], (a, m) => ({ zone: str(m, a, 'name'), zi: requiredId(m, a, 'zi_id') })),
  edit_zone: { params: ['name', 'login_id', 'zi_id'], marks: ['name', 'login_id', 'zi_id'], run: editZone },
  tickle_editlock: change('tickle_editlock', ['name', 'edit_lock_token'], ['name', 'edit_lock_token'], (a, m) => ({ zone: str(m, a, 'name'), token: str(m, a, 'edit_lock_token') })),
  cancel_edit_zone: change('cancel_edit_zone', ['name', 'edit_lock_token'], ['name', 'edit_lock_token'], (a, m) => ({ zone: str(m, a, 'name'), token: str(m, a, 'edit_lock_token') })),
  // normalize_ttls (admin_dms): accepted, checked to be a boolean; DMS keeps each record's TTL as given either way.
  update_zone: {
    params: ['name', 'zi_data', 'login_id', 'edit_lock_token', 'normalize_ttls'],
    marks: ['name', 'zi_data', 'login_id', 'edit_lock_token', 'normalize_ttls'],
    run: updateZone,
  },
  update_zone_text: change('update_zone_text', ['name', 'zi_text', 'login_id', 'edit_lock_token', 'normalize_ttls'], ['name', 'zi_text', 'login_id', 'edit_lock_token', 'normalize_ttls'], (a, m) => {
    optBool(m, a, 'normalize_ttls');
    const token = optStr(m, a, 'edit_lock_token');
    return { zone: str(m, a, 'name'), text: typeof a.zi_text === 'string' ? a.zi_text : str(m, a, 'zi_text'), ...(token === undefined ? {} : { token }) };
  }),
  show_sectags: { params: [], marks: [], run: async (call) => ((await call('list_sectag', {})) as string[]).map((s) => ({ sectag_label: s })) },
  show_zone_sectags: {
    params: zoneOnly,
    marks: [],
    run: async (call, a, m) => ((await call('list_zone_sectags', zoneArg(a, m))) as string[]).map((s) => ({ sectag_label: s })),
  },
  add_zone_sectag: change('add_zone_sectag', ['name', 'sectag'], ['name'], (a, m) => ({ zone: str(m, a, 'name'), sectag: sectagOf(m, a.sectag, 'sectag') })),
  delete_zone_sectag: change('delete_zone_sectag', ['name', 'sectag'], ['name'], (a, m) => ({ zone: str(m, a, 'name'), sectag: sectagOf(m, a.sectag, 'sectag') })),
  replace_zone_sectags: change('replace_zone_sectags', ['name', 'sectags'], ['name'], (a, m) => {
    if (!Array.isArray(a.sectags)) throw bad(m, 'sectags', 'expected an array of security tags');
    return { zone: str(m, a, 'name'), sectags: a.sectags.map((s, i) => sectagOf(m, s, `sectags[${i}]`)) };
  }),
  sign_zone: change('sign_zone', zoneOnly, zoneOnly, zoneArg),
  // The signer reads a zone's keys itself; the original's "load the keys" is its re-signing.
  load_keys: change('sign_zone', zoneOnly, [], zoneArg),
  refresh_zone: { params: ['name', 'zi_id'], marks: zoneOnly, run: refreshZone },
  // The original reset a zone's state machine after an internal error: here its newest ZI is published again.
  reset_zone: { params: ['name', 'zi_id'], marks: [], run: refreshZone },
  // helpdesk_dms's load_zone and load_zi (admin_dms's called engine methods the original never defined).
  load_zone: {
    params: ['name', 'login_id', 'zi_text', 'edit_lock', 'auto_dnssec', 'nsec3', 'inc_updates', 'reference', 'sg_name'],
    marks: ['name', 'login_id', 'zi_text', 'sg_name', ...ZONE_FLAGS],
    run: async (call, a, m) => {
      await call('load_zone', { zone: str(m, a, 'name'), text: str(m, a, 'zi_text'), ...newZoneOptions(a, m) });
      return true;
    },
  },
  load_zi: change('update_zone_text', ['name', 'login_id', 'zi_text'], ['name', 'login_id', 'zi_text'], (a, m) => ({ zone: str(m, a, 'name'), text: str(m, a, 'zi_text') })),
  refresh_zone_ttl: {
    params: ['name', 'zone_ttl'],
    marks: [],
    run: async (call, a, m) => {
      const zoneTtl = optTtl(m, a.zone_ttl, 'zone_ttl');
      await call('refresh_zone_ttl', { zone: str(m, a, 'name'), ...(zoneTtl !== undefined ? { zoneTtl } : {}) });
      return true;
    },
  },
  show_configsm: { params: [], marks: [], run: async (call) => call('show_master_status', {}) },
  create_reference: change('create_reference', ['reference'], [], (a, m) => ({ reference: str(m, a, 'reference') })),
  delete_reference: change('delete_reference', ['reference'], [], (a, m) => ({ reference: str(m, a, 'reference') })),
  rename_reference: change('rename_reference', ['reference', 'dst_reference'], ['dst_reference'], (a, m) => ({ reference: str(m, a, 'reference'), to: str(m, a, 'dst_reference') })),
  list_reference: {
    params: ['reference'],
    marks: ['reference'],
    run: async (call, a, m) => {
      const pattern = optStr(m, a, 'reference');
      const refs = (await call('list_reference', pattern === undefined ? {} : { pattern })) as { name: string }[];
      return refs.map((r) => ({ reference: r.name }));
    },
  },
  set_zone_reference: change('set_zone_reference', ['name', 'reference'], ['name'], (a, m) => ({ zone: str(m, a, 'name'), reference: str(m, a, 'reference') })),
  rr_query_db: {
    params: ['label', 'name', 'type', 'rdata', 'zi_id', 'show_all'],
    marks: ['label'],
    run: async (call, a, m) => {
      // As the original's zone_tool rr_query_db: one zone (`name`, else the most specific above the label), its newest
      // ZI or zi_id's, * and ? in the label, several types in `type`, show_all for disabled records and zones.
      const label = str(m, a, 'label');
      const zone = optStr(m, a, 'name');
      const type = optStr(m, a, 'type');
      const rdata = optStr(m, a, 'rdata');
      const zi = optId(m, a, 'zi_id');
      const types = type === undefined ? [] : type.split(/\s+/).filter((t) => t !== '');
      const found = (await call('query_zone_records', {
        label,
        ...(zone !== undefined ? { zone } : {}),
        ...(types.length > 0 ? { types } : {}),
        ...(rdata !== undefined ? { rdata } : {}),
        ...(zi !== undefined ? { version: zi } : {}),
        ...(optBool(m, a, 'show_all') === true ? { includeDisabled: true } : {}),
      })) as { zone: string; version: number; records: { label: string; ttl: number; type: string; rdata: string }[] };
      return found.records.map((r) => ({ name: found.zone, zi_id: found.version, label: r.label, ttl: r.ttl, class: 'IN', type: r.type, rdata: r.rdata }));
    },
  },
  update_rrs: {
    params: ['name', 'update_data', 'update_type', 'login_id'],
    marks: ['name', 'update_data', 'update_type', 'login_id'],
    run: async (call, a, m) => {
      const zone = str(m, a, 'name');
      const { changes, paths } = rrChangesOf(m, a.update_data);
      if (changes.length === 0) return true;
      await withRecordPaths(m, paths, () => call('update_rrs', { zone, records: changes }));
      return true;
    },
  },
  set_zone_sg: change('set_zone_sg', ['name', 'sg_name'], ['name', 'sg_name'], (a, m) => ({ zone: str(m, a, 'name'), sg: str(m, a, 'sg_name') })),
  set_zone_alt_sg: change('set_zone_alt_sg', ['name', 'sg_name'], ['name', 'sg_name'], (a, m) => ({ zone: str(m, a, 'name'), sg: optStr(m, a, 'sg_name') ?? null })),
  list_sg: {
    params: [],
    marks: [],
    run: async (call) =>
      ((await call('list_sg', {})) as { id: number; name: string; masterAddress: string | null; masterAltAddress: string | null; zoneCount: number }[]).map((g) => ({
        sg_id: g.id,
        sg_name: g.name,
        master_address: g.masterAddress,
        master_alt_address: g.masterAltAddress,
        zone_count: g.zoneCount,
      })),
  },
};

/** Methods only the original's form has (DMS names them otherwise): always read in the original's form. */
const ORIGINAL_ONLY = new Set(['show_zone_text', 'show_sectags', 'show_zone_sectags', 'load_keys', 'reset_zone', 'refresh_zone_ttl', 'show_configsm', 'load_zi']);

/** The original's method names served on its URLs. */
export const ORIGINAL_METHODS: ReadonlySet<string> = new Set(Object.keys(METHODS));

/**
 * The call in the original's form, ready to run; undefined when the method is not one of the original's or the call
 * is in DMS's own form. The original's form: positional parameters, or any parameter name only the original used
 * for that method (`name` where DMS says `zone`, `login_id`, `zi_data`, ...); an original-only method name.
 * Positional parameters beyond the original's list, and named ones it did not have, are refused.
 */
export function originalCall(method: string, params: unknown, tier: Tier): OriginalCall | undefined {
  const def = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!def) return undefined;
  let args: Args;
  if (Array.isArray(params)) {
    if (params.length === 0 && !ORIGINAL_ONLY.has(method) && def.params.length > 0 && def.marks.length > 0) return undefined;
    args = {};
    if (params.length > def.params.length)
      return { run: () => Promise.reject(bad(method, '', `the original's ${method} takes at most ${def.params.length} parameters (${def.params.join(', ')})`)) };
    params.forEach((v, i) => {
      args[def.params[i]] = v;
    });
  } else {
    if (params !== undefined && (params === null || typeof params !== 'object')) return undefined;
    args = (params ?? {}) as Args;
    const keys = Object.keys(args);
    if (!ORIGINAL_ONLY.has(method) && !keys.some((k) => def.marks.includes(k))) return undefined;
    const unknown = keys.filter((k) => !def.params.includes(k));
    if (unknown.length > 0)
      return { run: () => Promise.reject(new InvalidParams(method, unknown.map((k) => ({ path: k, message: `not a parameter of the original's ${method} (${def.params.join(', ')})` })))) };
  }
  const run = (call: OperationCaller) => def.run(call, args, method, tier);
  if (args.login_id === undefined || args.login_id === null) return { run };
  const login = args.login_id;
  if (typeof login !== 'string' || login.length > 512 || !LOGIN_ID.test(login))
    return { run: () => Promise.reject(bad(method, 'login_id', 'a login id: letters, digits and - _ . @, beginning with a letter or digit, at most 512 characters')) };
  return { run, loginId: login };
}

/** The original's login ids (its ZoneEngine's check). */
const LOGIN_ID = /^[A-Za-z0-9][-_A-Za-z0-9.@]*$/;

/**
 * A call in the original's form: `run` carries it out; `loginId`, when the caller named one, is the user of the web
 * panel on whose behalf the account calls — recorded as the original did, change_by "<login_id>/<sectag>".
 */
export interface OriginalCall {
  run: (call: OperationCaller) => Promise<unknown>;
  loginId?: string;
}
