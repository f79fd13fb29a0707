// Zone lifecycle (create → PUBLISHED; DISABLED; DELETED with undelete and destroy), content, versions, saving.

import { networkKey, networkKeyPrefixes, parseIpv4, parseIpv6 } from '../dns/address.js';
import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { isUniqueViolation, readTx, type Tx, writeTx } from '../store/index.js';
import { groupIdByName } from '../store/queries/groups.js';
import { zoneDnssecRow } from '../store/queries/dnssec.js';
import { grantTexts } from '../store/queries/keys.js';
import { aliveRowsOfTypeAtOwners, deleteZiRow, hasDisabledRows, ziRowsNewestFirst } from '../store/queries/versions.js';
import { insertReference, referenceId, sectagId, sectagsOfZones, setZoneSectags } from '../store/queries/references.js';
import {
  deletedZoneIds,
  deleteZoneRows,
  insertZone,
  liveZoneId,
  reverseZonesByKey,
  updateZoneRow,
  type ZoneInfoRow,
  zoneBriefPage,
  zoneInfoPage,
  zoneInfoRow,
  type ZonePageSpec,
  zoneRowById,
} from '../store/queries/zones.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { parseTtl, parseZoneText, writeZoneText } from '../zonefile/index.js';
import { loadSettings, type Settings } from './config.js';
import { applyDnssecFlagsIn } from './dnssec.js';
import { signerApexIn } from './signing.js';
import {
  aliveRowsAt,
  diffRows,
  commitDelta,
  type DeltaInput,
  commitVersion,
  currentRows,
  deleteOrphanRows,
  dnsKey,
  findLiveZone,
  lockZoneById,
  ms,
  publishExisting,
  recordChange,
  recordsAt,
  resolveZi,
  rowToRecord,
  soaRecord,
  type StoredRow,
  type ZoneRow,
  ziInfo,
  ziSoaFields,
  warningsOf,
} from './core.js';
import {
  BadZoneName,
  InvalidArgument,
  ReferenceNotFound,
  ReverseZoneNotFound,
  SectagNotFound,
  ServerGroupNotFound,
  ZiNotFound,
  PermissionDenied,
  ZoneExists,
  ZoneNotDeleted,
  ZoneNotFound,
  ZoneValidationFailed,
  EditConflict,
  EditLockConflict,
  type ValidationProblem,
} from './errors.js';
import { maintainClasslessParent, type ReverseReport } from './reverse.js';
import { globToLike, isGlob, normalizeZoneName, operatorZoneName } from './names.js';
import type {
  CreateZoneOptions,
  ListZonesOptions,
  RecordDiff,
  SaveOptions,
  SaveResult,
  CommittedChange,
  ZiInfo,
  ZoneBrief,
  ZiSelector,
  ZoneContent,
  ZoneFlags,
  ZoneInfo,
  ZoneRecord,
  ZoneState,
} from './types.js';

// ---- zone info --------------------------------------------------------------------------------------------------

async function sectagsOf(trx: Tx, ids: number[]): Promise<Map<number, string[]>> {
  return sectagsOfZones(trx, ids);
}

function toZoneInfo(r: ZoneInfoRow, sectags: string[], now: number): ZoneInfo {
  const locked = r.lock_token !== null && r.lock_expires !== null && Number(r.lock_expires) > now;
  return {
    id: Number(r.id),
    name: r.name,
    state: r.state as ZoneState,
    flags: {
      useApexNs: !!r.use_apex_ns,
      editLock: !!r.edit_lock,
      autoDnssec: !!r.auto_dnssec,
      nsec3: !!r.nsec3,
      incUpdates: !!r.inc_updates,
    },
    sg: r.sg_name,
    altSg: r.alt_sg_name,
    reference: r.ref_name,
    sectags,
    publishedVersion: r.published_version,
    latestVersion: r.latest_version,
    soaSerial: r.pub_serial === null ? null : Number(r.pub_serial),
    lockedBy: locked ? r.locked_by : null,
    lockExpires: locked ? ms(r.lock_expires) : null,
    lockedSince: locked ? ms(r.lock_since) : null,
    deletedStart: ms(r.deleted_start),
    ctime: new Date(Number(r.ctime)),
    mtime: new Date(Number(r.mtime)),
  };
}

export async function zoneInfoById(trx: Tx, ctx: ServiceContext, id: number): Promise<ZoneInfo> {
  const r = await zoneInfoRow(trx, zoneScope(ctx), { id });
  if (!r) throw new ZoneNotFound(`#${id}`);
  return toZoneInfo(r, (await sectagsOf(trx, [id])).get(id) ?? [], nowMs(ctx));
}

export async function getZone(ctx: ServiceContext, name: string): Promise<ZoneInfo> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const r = await zoneInfoRow(trx, zoneScope(ctx), { liveName: key });
    if (!r) throw new ZoneNotFound(key);
    return toZoneInfo(r, (await sectagsOf(trx, [Number(r.id)])).get(Number(r.id)) ?? [], nowMs(ctx));
  });
}

export async function getZoneById(ctx: ServiceContext, id: number): Promise<ZoneInfo> {
  return readTx(ctx.store, (trx) => zoneInfoById(trx, ctx, id));
}

/** A listing's page as the store takes it: names resolved to ids (null when a named reference or SG does not exist). */
async function zonePageSpec(trx: Tx, o: ListZonesOptions): Promise<ZonePageSpec | null> {
  const limit = o.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgument(`bad page size ${limit}`);
  const spec: ZonePageSpec = { which: o.which ?? 'active', after: o.after ?? '', limit };
  if (o.states !== undefined) {
    const states = [...new Set(o.states)];
    spec.states = states;
    // The states say which zones: deleted ones only when DELETED is asked for (then ordered as deleted zones are).
    spec.which = !states.includes('DELETED') ? 'active' : states.length === 1 ? 'deleted' : 'all';
  }
  if (o.pattern !== undefined && o.pattern !== '') {
    if (isGlob(o.pattern)) {
      let p = o.pattern.toLowerCase();
      if (!p.endsWith('.') && !p.endsWith('*')) p += '.';
      spec.match = { like: globToLike(p), prefix: p.slice(0, p.search(/[*?]/)) };
    } else spec.match = { name: normalizeZoneName(o.pattern) };
  }
  if (o.reference !== undefined) {
    spec.referenceId = await referenceId(trx, o.reference);
    if (spec.referenceId === undefined) return null;
  }
  if (o.sg !== undefined) {
    spec.sgId = await groupIdByName(trx, o.sg);
    if (spec.sgId === undefined) return null;
  }
  if (o.sectag !== undefined) spec.sectag = o.sectag;
  if (o.catalogs !== undefined && o.catalogs !== 'include') spec.catalogs = o.catalogs;
  return spec;
}

export async function listZones(ctx: ServiceContext, o: ListZonesOptions = {}): Promise<ZoneInfo[]> {
  return readTx(ctx.store, async (trx) => {
    const spec = await zonePageSpec(trx, o);
    if (!spec) return [];
    const rows = await zoneInfoPage(trx, ctx.store.kind, zoneScope(ctx), spec);
    const tags = await sectagsOf(
      trx,
      rows.map((r) => Number(r.id)),
    );
    const now = nowMs(ctx);
    return rows.map((r) => toZoneInfo(r, tags.get(Number(r.id)) ?? [], now));
  });
}

/**
 * The same page as listZones with only what a zone_tool `ls` / `ls -v` line shows (name, state, published serial,
 * reference): no server group names, flags, lock fields or sectags, so a page of 1,000 zones costs a fraction.
 */
export async function listZoneBriefs(ctx: ServiceContext, o: ListZonesOptions = {}): Promise<ZoneBrief[]> {
  return readTx(ctx.store, async (trx) => {
    const spec = await zonePageSpec(trx, o);
    if (!spec) return [];
    const rows = await zoneBriefPage(trx, ctx.store.kind, zoneScope(ctx), spec);
    return rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      state: r.state as ZoneState,
      reference: r.ref_name,
      soaSerial: r.pub_serial === null ? null : Number(r.pub_serial),
    }));
  });
}

// ---- create -----------------------------------------------------------------------------------------------------

interface ResolvedCreate {
  sgId: number;
  refId: number | null;
  flags: ZoneFlags;
  sectagIds: number[];
}

/** Look up SG, reference and sectags for a creation (cached across a batch). */
export class CreateContext {
  private sgs = new Map<string, number>();
  private refs = new Map<string, number>();
  private tags = new Map<string, number>();
  constructor(readonly settings: Settings) {}

  /** `fileRef`: a `;!REF:` flag on the loaded file's SOA, used (and created if missing) when no reference is given. */
  async resolve(trx: Tx, ctx: ServiceContext, o: CreateZoneOptions, fileRef?: string): Promise<ResolvedCreate> {
    const sgName = o.sg ?? this.settings.raw('default_sg');
    let sgId = this.sgs.get(sgName);
    if (sgId === undefined) {
      sgId = await groupIdByName(trx, sgName);
      if (sgId === undefined) throw new ServerGroupNotFound(sgName);
      this.sgs.set(sgName, sgId);
    }
    const refName = o.reference === undefined ? fileRef || this.settings.raw('default_ref') || null : o.reference;
    let refId: number | null = null;
    if (refName) {
      const cached = this.refs.get(refName);
      if (cached !== undefined) refId = cached;
      else {
        const ref = await referenceId(trx, refName);
        if (ref !== undefined) {
          refId = ref;
          this.refs.set(refName, refId);
        } else if (o.reference === undefined || o.createReference) {
          // The configured default reference is created on first use, as the original's installer did; so is one
          // named by the file's SOA flag, and one named with createReference (zone_tool -r). In this zone's
          // transaction: a creation that fails leaves no reference behind. Not cached: that transaction may still
          // roll back, and the next zone of a batch then makes it again.
          refId = await insertReference(trx, refName, nowMs(ctx));
        } else throw new ReferenceNotFound(refName);
      }
    }
    const sectagIds: number[] = [];
    // A zone a customer creates carries the customer's security tag, or the customer could not see it afterwards.
    const tags = [...(o.sectags ?? [])];
    if (ctx.tenant.tier === 'customer' && ctx.tenant.sectag && !tags.includes(ctx.tenant.sectag)) tags.push(ctx.tenant.sectag);
    for (const t of tags) {
      let id = this.tags.get(t);
      if (id === undefined) {
        id = await sectagId(trx, t);
        if (id === undefined) throw new SectagNotFound(t);
        this.tags.set(t, id);
      }
      sectagIds.push(id);
    }
    const st = this.settings;
    const f = o.flags ?? {};
    return {
      sgId,
      refId,
      sectagIds,
      flags: {
        useApexNs: f.useApexNs ?? st.bool('use_apex_ns'),
        editLock: f.editLock ?? st.bool('edit_lock'),
        autoDnssec: f.autoDnssec ?? st.bool('auto_dnssec'),
        nsec3: f.nsec3 ?? st.bool('nsec3'),
        incUpdates: f.incUpdates ?? st.bool('inc_updates'),
      },
    };
  }
}

/** The first `$TTL` of master-file text (the zone's default TTL), if any. */
export function textZoneTtl(text: string): number | undefined {
  const m = /^\$TTL[ \t]+([^\s;]+)/im.exec(text);
  if (!m) return undefined;
  const t = parseTtl(m[1]);
  return typeof t === 'number' ? t : undefined;
}

export function parseText(zone: string, text: string, file?: string): ZoneRecord[] {
  const res = parseZoneText(text, { origin: Name.parse(zone), file: file ?? zone });
  const errors = res.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0)
    throw new ZoneValidationFailed(
      zone,
      res.problems.map((p) => ({ message: p.message, severity: p.severity, file: p.file, line: p.line, column: p.column })),
    );
  return res.records;
}

/** Insert the zone row and its first ZI inside `trx`. */
export async function createZoneIn(
  trx: Tx,
  ctx: ServiceContext,
  cc: CreateContext,
  key: string,
  o: CreateZoneOptions,
  records: ZoneRecord[],
): Promise<{ zone: ZoneRow; result: SaveResult }> {
  // The original's load_zone took the zone's reference from a ;!REF: flag on the SOA when -r was not given.
  const fileRef = o.reference === undefined ? records.find((rr) => rr.type === RRType.SOA && rr.flags?.ref)?.flags?.ref : undefined;
  const zone = await insertNewZone(trx, ctx, cc, key, o, fileRef);
  const result = await commitVersion(trx, ctx, zone, cc.settings, {
    records,
    comment: o.comment ?? null,
    publish: !o.inhibitPublish,
    forceNew: true,
    ...(o.zoneTtl !== undefined ? { zoneTtl: o.zoneTtl } : {}),
  });
  // RFC 2317: a classless reverse zone gets its delegation and CNAMEs in the parent /24 (and a /24 its children's).
  await maintainClasslessParent(trx, ctx, result.zoneRow, 'create', { commit: commitDelta, settings: async () => cc.settings });
  return { zone: result.zoneRow, result };
}

/** The zone row of a new zone (no version yet), with its server group, reference, flags and security tags. */
export async function insertNewZone(trx: Tx, ctx: ServiceContext, cc: CreateContext, key: string, o: CreateZoneOptions, fileRef: string | undefined): Promise<ZoneRow> {
  await assertNameFree(trx, ctx, key);
  const r = await cc.resolve(trx, ctx, o, fileRef);
  const t = nowMs(ctx);
  let zone: ZoneRow;
  try {
    zone = await insertZone(trx, {
      name: key,
      state: 'PUBLISHED',
      use_apex_ns: r.flags.useApexNs ? 1 : 0,
      edit_lock: r.flags.editLock ? 1 : 0,
      auto_dnssec: r.flags.autoDnssec ? 1 : 0,
      nsec3: r.flags.nsec3 ? 1 : 0,
      inc_updates: r.flags.incUpdates ? 1 : 0,
      sg_id: r.sgId,
      alt_sg_id: null,
      reference_id: r.refId,
      published_version: null,
      latest_version: 0,
      lock_token: null,
      locked_by: null,
      lock_since: null,
      lock_expires: null,
      lock_base_version: null,
      deleted_start: null,
      ctime: t,
      mtime: t,
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new ZoneExists(key);
    throw e;
  }
  if (r.sectagIds.length > 0) await setZoneSectags(trx, Number(zone.id), r.sectagIds);
  if (r.flags.autoDnssec) await applyDnssecFlagsIn(trx, ctx, zone, r.flags);
  return zone;
}

export function assertCreatableName(key: string): void {
  if (key.split('.').includes('*')) throw new BadZoneName(key, 'a zone name cannot contain a wildcard label');
}

/**
 * A new zone. `warnings`: what the zone check found that does not stop the load (as named-checkzone's warnings: a
 * missing glue, an RRset BIND secondaries refuse, names below a DNAME…), when it found any.
 */
export async function createZone(
  ctx: ServiceContext,
  name: string,
  o: CreateZoneOptions = {},
): Promise<ZoneInfo & { reverse?: ReverseReport; warnings?: ValidationProblem[] }> {
  const key = normalizeZoneName(name);
  assertCreatableName(key);
  const records = o.text !== undefined ? parseText(key, o.text) : (o.records ?? []);
  const zoneTtl = o.zoneTtl ?? (o.text !== undefined ? textZoneTtl(o.text) : undefined);
  if (zoneTtl !== undefined) o = { ...o, zoneTtl };
  return writeTx(ctx.store, async (trx) => {
    await assertNameFree(trx, ctx, key);
    const cc = new CreateContext(await loadSettings(trx));
    const { zone, result } = await createZoneIn(trx, ctx, cc, key, o, records);
    const info = await zoneInfoById(trx, ctx, Number(zone.id));
    return { ...info, ...(result.reverse ? { reverse: result.reverse } : {}), ...warningsOf(result) };
  });
}

export async function copyZone(
  ctx: ServiceContext,
  src: string,
  dst: string,
  o: CreateZoneOptions & { zi?: ZiSelector } = {},
): Promise<ZoneInfo> {
  const srcKey = normalizeZoneName(src);
  const content = await getZoneContent(ctx, srcKey, o.zi);
  const srcOrigin = Name.parse(srcKey);
  const dstOrigin = Name.parse(normalizeZoneName(dst));
  // Owners are re-rooted under the new name; RDATA is copied as is (targets elsewhere stay where they point).
  const records = content.records.map((r) => {
    const rel = r.name.labels.slice(0, r.name.labels.length - srcOrigin.labels.length);
    return { ...r, name: new Name([...rel, ...dstOrigin.labels]) };
  });
  // The copy keeps the source version's zone TTL ($TTL): it is part of the zone, like its records.
  return createZone(ctx, dst, { zoneTtl: content.zi.zoneTtl, ...o, records });
}

// ---- flags and state ------------------------------------------------------------------------------------------------

async function mutateZone(
  ctx: ServiceContext,
  name: string,
  fn: (trx: Tx, zone: ZoneRow, settings: Settings) => Promise<void>,
): Promise<ZoneInfo> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    await fn(trx, zone, await loadSettings(trx));
    return zoneInfoById(trx, ctx, Number(zone.id));
  });
}
export { mutateZone };

export async function setZoneFlags(ctx: ServiceContext, name: string, f: Partial<ZoneFlags>): Promise<ZoneInfo> {
  return mutateZone(ctx, name, async (trx, zone, settings) => {
    const set: Partial<ZoneRow> = { mtime: nowMs(ctx) };
    if (f.useApexNs !== undefined) set.use_apex_ns = f.useApexNs ? 1 : 0;
    if (f.editLock !== undefined) set.edit_lock = f.editLock ? 1 : 0;
    if (f.autoDnssec !== undefined) set.auto_dnssec = f.autoDnssec ? 1 : 0;
    if (f.nsec3 !== undefined) set.nsec3 = f.nsec3 ? 1 : 0;
    if (f.incUpdates !== undefined) set.inc_updates = f.incUpdates ? 1 : 0;
    await updateZoneRow(trx, Number(zone.id), set);
    const updated = { ...zone, ...set };
    if (f.autoDnssec !== undefined || f.nsec3 !== undefined)
      await applyDnssecFlagsIn(trx, ctx, updated, { autoDnssec: !!updated.auto_dnssec, nsec3: !!updated.nsec3 });
    if (f.useApexNs && !zone.use_apex_ns) await refreshApexIn(trx, ctx, updated, settings);
    else await recordChange(trx, ctx, zone, 'update', zone.published_version);
  });
}

/** Re-derive the apex from the server group: a new ZI only when it differs. */
export async function refreshApexIn(trx: Tx, ctx: ServiceContext, zone: ZoneRow, settings: Settings): Promise<SaveResult> {
  const zi = await resolveZi(trx, zone, 'latest');
  const rows = await recordsAt(trx, zone, zi);
  const { zoneRow: _z, ...r } = await commitVersion(trx, ctx, zone, settings, {
    records: rows.slice(1),
    soa: ziSoaFields(zi),
    comment: 'apex refreshed from server group',
    publish: zone.published_version === zone.latest_version,
  });
  if (!r.changed) await recordChange(trx, ctx, zone, 'update', zone.published_version);
  return r;
}

/** The state of an enabled zone: UPDATE while its newest ZI is not the published one. */
function settledState(zone: ZoneRow): ZoneState {
  return zone.published_version === zone.latest_version ? 'PUBLISHED' : 'UPDATE';
}

export async function disableZone(ctx: ServiceContext, name: string): Promise<ZoneInfo> {
  return mutateZone(ctx, name, async (trx, zone) => {
    if (zone.state === 'DISABLED') return;
    await updateZoneRow(trx, Number(zone.id), { state: 'DISABLED', mtime: nowMs(ctx) });
    await recordChange(trx, ctx, zone, 'disable', zone.published_version);
  });
}

export async function enableZone(ctx: ServiceContext, name: string): Promise<ZoneInfo> {
  return mutateZone(ctx, name, async (trx, zone) => {
    if (zone.state !== 'DISABLED') return;
    await updateZoneRow(trx, Number(zone.id), { state: settledState(zone), mtime: nowMs(ctx) });
    await recordChange(trx, ctx, zone, 'enable', zone.published_version);
  });
}

export async function deleteZone(ctx: ServiceContext, name: string): Promise<ZoneInfo> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => deleteZoneIn(trx, ctx, await findLiveZone(trx, ctx, key, true)));
}

/** delete_zone inside the caller's transaction (a git import deletes zones together with its other changes). */
export async function deleteZoneIn(trx: Tx, ctx: ServiceContext, zone: ZoneRow): Promise<ZoneInfo> {
  const t = nowMs(ctx);
  await updateZoneRow(trx, Number(zone.id), {
    state: 'DELETED',
    deleted_start: t,
    mtime: t,
    lock_token: null,
    locked_by: null,
    lock_since: null,
    lock_expires: null,
    lock_base_version: null,
  });
  await recordChange(trx, ctx, zone, 'delete', zone.published_version);
  // A classless reverse zone takes its delegation and CNAMEs out of the parent /24 with it (RFC 2317).
  await maintainClasslessParent(trx, ctx, zone, 'delete', { commit: commitDelta, settings: () => loadSettings(trx) });
  return zoneInfoById(trx, ctx, Number(zone.id));
}

export async function undeleteZone(ctx: ServiceContext, nameOrId: string | number): Promise<ZoneInfo> {
  return writeTx(ctx.store, async (trx) => {
    let zone: ZoneRow | undefined;
    if (typeof nameOrId === 'number') {
      zone = await lockZoneById(trx, ctx, nameOrId);
      if (!zone) throw new ZoneNotFound(`#${nameOrId}`);
    } else {
      const key = normalizeZoneName(nameOrId);
      const ids = await deletedZoneIds(trx, zoneScope(ctx), key);
      if (ids.length === 0) throw new ZoneNotFound(`${key} (deleted)`);
      // Several deleted copies: which one comes back is the operator's choice, not ours.
      if (ids.length > 1)
        throw new InvalidArgument(
          `there are ${ids.length} deleted zones named ${key} (ids ${ids.join(', ')}): give the id of the one to restore (ls_deleted)`,
        );
      zone = await lockZoneById(trx, ctx, ids[0]);
      if (!zone) throw new ZoneNotFound(key);
    }
    if (zone.state !== 'DELETED') throw new ZoneNotDeleted(zone.name);
    await assertNameFree(trx, ctx, zone.name);
    try {
      await updateZoneRow(trx, Number(zone.id), { state: settledState(zone), deleted_start: null, mtime: nowMs(ctx) });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ZoneExists(zone.name);
      throw e;
    }
    await recordChange(trx, ctx, zone, 'undelete', zone.published_version);
    return zoneInfoById(trx, ctx, Number(zone.id));
  });
}

export async function destroyZoneIn(trx: Tx, ctx: ServiceContext, zone: ZoneRow): Promise<void> {
  await deleteZoneRows(trx, Number(zone.id));
  await recordChange(trx, ctx, zone, 'destroy', null);
}

export async function destroyZone(ctx: ServiceContext, id: number): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const zone = await lockZoneById(trx, ctx, id);
    if (!zone) throw new ZoneNotFound(`#${id}`);
    if (zone.state !== 'DELETED') throw new ZoneNotDeleted(zone.name);
    await destroyZoneIn(trx, ctx, zone);
  });
}

// ---- content and ZIs ----------------------------------------------------------------------------------------------

export async function getZoneContent(ctx: ServiceContext, name: string, sel?: ZiSelector): Promise<ZoneContent> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zi = await resolveZi(trx, zone, sel);
    const records = await recordsAt(trx, zone, zi);
    const info = await zoneInfoById(trx, ctx, Number(zone.id));
    return { zone: info, zi: ziInfo(zone, zi), records };
  });
}

/**
 * A ZI of the zone of that id, in any state — a deleted zone too, which is the way to tell apart several deleted zones
 * of one name (ls_deleted -v shows their ids): show_zone_byid.
 */
export async function getZoneContentById(ctx: ServiceContext, id: number, sel?: ZiSelector): Promise<ZoneContent> {
  return readTx(ctx.store, async (trx) => {
    const zone = await zoneRowById(trx, zoneScope(ctx), id);
    if (!zone) throw new ZoneNotFound(`#${id}`);
    const zi = await resolveZi(trx, zone, sel);
    const records = await recordsAt(trx, zone, zi);
    return { zone: await zoneInfoById(trx, ctx, id), zi: ziInfo(zone, zi), records };
  });
}

/** The zone of that id in any state (a deleted one too) and one of its ZIs, without the records. */
export async function getZiById(ctx: ServiceContext, id: number, sel?: ZiSelector): Promise<{ zone: ZoneInfo; zi: ZiInfo }> {
  return readTx(ctx.store, async (trx) => {
    const zone = await zoneRowById(trx, zoneScope(ctx), id);
    if (!zone) throw new ZoneNotFound(`#${id}`);
    const zi = await resolveZi(trx, zone, sel);
    return { zone: await zoneInfoById(trx, ctx, id), zi: ziInfo(zone, zi) };
  });
}

/**
 * The zone as master-file text. The zone's reference is shown as a `;!REF:` flag on the SOA, as the original's
 * show_zone did; it is the zone's attribute (set_zone_reference), not stored with the SOA.
 */
export function contentToText(c: ZoneContent): string {
  const origin = Name.parse(c.zone.name);
  const ref = c.zone.reference;
  const records = ref
    ? c.records.map((r) => (r.type === RRType.SOA && r.name.equals(origin) ? { ...r, flags: { ...r.flags, ref } } : r))
    : c.records;
  return writeZoneText(origin, records, { ttl: c.zi.zoneTtl });
}

export async function getZoneText(ctx: ServiceContext, name: string, sel?: ZiSelector): Promise<string> {
  return contentToText(await getZoneContent(ctx, name, sel));
}

/** One ZI's header (SOA fields, times, change_by) without its records, with the zone it belongs to. */
export async function getZi(ctx: ServiceContext, name: string, sel?: ZiSelector): Promise<{ zone: ZoneInfo; zi: ZiInfo }> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zi = await resolveZi(trx, zone, sel);
    return { zone: await zoneInfoById(trx, ctx, Number(zone.id)), zi: ziInfo(zone, zi) };
  });
}

export async function listZis(ctx: ServiceContext, name: string): Promise<ZiInfo[]> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const rows = await ziRowsNewestFirst(trx, Number(zone.id));
    return rows.map((zi) => ziInfo(zone, zi));
  });
}

function assertNotLockedByOther(zone: ZoneRow, now: number): void {
  if (zone.lock_token !== null && zone.lock_expires !== null && Number(zone.lock_expires) > now)
    throw new EditLockConflict(zone.name, zone.locked_by, ms(zone.lock_expires));
}

/** Shared by saveZone/changeZone: lock the zone, refuse while someone holds the edit lock, check the base version. */
async function saveIn(
  ctx: ServiceContext,
  key: string,
  o: SaveOptions & { baseVersion?: number },
  produce: (trx: Tx, zone: ZoneRow) => Promise<ZoneRecord[] | { records: ZoneRecord[]; currentRows: StoredRow[] }>,
): Promise<SaveResult> {
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    assertNotLockedByOther(zone, nowMs(ctx));
    if (o.baseVersion !== undefined && o.baseVersion !== zone.latest_version) {
      throw new EditConflict(zone.name, o.baseVersion, zone.latest_version);
    }
    const produced = await produce(trx, zone);
    const { records, currentRows: rows } = Array.isArray(produced) ? { records: produced, currentRows: undefined } : produced;
    const settings = await loadSettings(trx);
    const { zoneRow: _z, ...res } = await commitVersion(trx, ctx, zone, settings, {
      records,
      ...(rows ? { currentRows: rows } : {}),
      comment: o.comment ?? null,
      publish: o.publish ?? true,
      ...(o.zoneTtl !== undefined ? { zoneTtl: o.zoneTtl } : {}),
    });
    return res;
  });
}

export async function saveZone(
  ctx: ServiceContext,
  name: string,
  records: ZoneRecord[],
  o: SaveOptions & { baseVersion?: number } = {},
): Promise<SaveResult> {
  return saveIn(ctx, normalizeZoneName(name), o, async () => records);
}

export async function saveZoneText(
  ctx: ServiceContext,
  name: string,
  text: string,
  o: SaveOptions & { baseVersion?: number } = {},
): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  const zoneTtl = o.zoneTtl ?? textZoneTtl(text);
  return saveZone(ctx, key, parseText(key, text), zoneTtl !== undefined ? { ...o, zoneTtl } : o);
}

export async function changeZone(
  ctx: ServiceContext,
  name: string,
  mutate: (records: ZoneRecord[], zone: ZoneInfo) => ZoneRecord[] | Promise<ZoneRecord[]>,
  o: SaveOptions = {},
): Promise<SaveResult> {
  return saveIn(ctx, normalizeZoneName(name), o, async (trx, zone) => {
    const rows = await currentRows(trx, Number(zone.id));
    const records = await mutate(rows.map(rowToRecord), await zoneInfoById(trx, ctx, Number(zone.id)));
    return { records, currentRows: rows };
  });
}

export async function copyZi(ctx: ServiceContext, name: string, sel: ZiSelector, o: SaveOptions = {}): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    assertNotLockedByOther(zone, nowMs(ctx));
    const zi = await resolveZi(trx, zone, sel);
    const records = (await recordsAt(trx, zone, zi)).slice(1);
    const { zoneRow: _z, ...res } = await commitVersion(trx, ctx, zone, await loadSettings(trx), {
      records,
      soa: ziSoaFields(zi),
      zoneTtl: Number(zi.zone_ttl),
      comment: o.comment ?? `copy of version ${zi.version} (serial ${zi.soa_serial})`,
      publish: o.publish ?? true,
      forceNew: true,
    });
    return res;
  });
}

export async function publishZi(ctx: ServiceContext, name: string, sel: ZiSelector): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  const target = await readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zi = await resolveZi(trx, zone, sel);
    return { latest: zi.version === zone.latest_version };
  });
  // An older ZI is republished as a copy so the serial keeps increasing (secondaries never see it go back).
  if (!target.latest) return copyZi(ctx, key, sel, {});
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const zi = await resolveZi(trx, zone, 'latest');
    if (zone.published_version !== zi.version) await publishExisting(trx, ctx, zone, zi, nowMs(ctx));
    return { zone: key, changed: false, version: zi.version, serial: Number(zi.soa_serial), published: true, warnings: [] };
  });
}

export async function deleteZi(ctx: ServiceContext, name: string, sel: ZiSelector): Promise<void> {
  const key = normalizeZoneName(name);
  await writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const zi = await resolveZi(trx, zone, sel);
    if (zi.version === zone.published_version) throw new InvalidArgument(`version ${zi.version} of ${key} is published; it cannot be deleted`);
    if (zi.version === zone.latest_version) throw new InvalidArgument(`version ${zi.version} of ${key} is the newest; it cannot be deleted`);
    await deleteZiRow(trx, Number(zi.id));
    await deleteOrphanRows(trx, Number(zone.id));
  });
}

// ---- diffs --------------------------------------------------------------------------------------------------------

export async function diffVersions(ctx: ServiceContext, name: string, fromSel: ZiSelector, toSel: ZiSelector = 'published'): Promise<RecordDiff> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const fromZi = await resolveZi(trx, zone, fromSel);
    const toZi = await resolveZi(trx, zone, toSel);
    const origin = Name.parse(zone.name);
    const base = { zone: key, from: { version: fromZi.version, serial: Number(fromZi.soa_serial) }, to: { version: toZi.version, serial: Number(toZi.soa_serial) }, fromSoa: soaRecord(origin, fromZi), toSoa: soaRecord(origin, toZi) };
    if (fromZi.version === toZi.version) return { ...base, removed: [], added: [] };
    const { died, born } = await diffRows(trx, Number(zone.id), fromZi.version, toZi.version);
    // A row replaced only for its comment/flags/case is the same RR on the wire: cancel such pairs.
    const oldRecs = died.map(rowToRecord);
    const newRecs = born.map(rowToRecord);
    const pending = new Map<string, number>();
    for (const r of oldRecs) pending.set(dnsKey(r), (pending.get(dnsKey(r)) ?? 0) + 1);
    const addedNet = newRecs.filter((r) => {
      const k = dnsKey(r);
      const n = pending.get(k) ?? 0;
      if (n > 0) {
        pending.set(k, n - 1);
        return false;
      }
      return true;
    });
    const removedNet = oldRecs.filter((r) => {
      const k = dnsKey(r);
      const n = pending.get(k) ?? 0;
      if (n > 0) {
        pending.set(k, n - 1);
        return true;
      }
      return false;
    });
    const strip = (r: ZoneRecord) => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdata: r.rdata });
    return { ...base, removed: removedNet.map(strip), added: addedNet.map(strip) };
  });
}

export { ZiNotFound };

// ---- incremental change (RFC 2136) ----------------------------------------------------------------------------------

export interface RecordDelta {
  /** The newest version the change was computed against: another version meanwhile → EditConflict. */
  baseVersion: number;
  removed: readonly ZoneRecord[];
  added: readonly ZoneRecord[];
  /** A serial the change asks for (an UPDATE of the SOA); the serial policy decides. */
  explicitSerial?: number;
  comment?: string | null;
  /** Default true. */
  publish?: boolean;
}

/**
 * Store a change given as records removed and added since `baseVersion`, in one transaction, touching only those rows
 * (see commitDelta for the checks). Refused while someone else holds the edit lock, as saving is. EditConflict when
 * the zone moved past baseVersion or a removed record is no longer there; ZoneValidationFailed when the result breaks
 * the zone.
 */
export async function applyRecordDelta(ctx: ServiceContext, name: string, d: RecordDelta): Promise<SaveResult & { committed?: CommittedChange }> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    assertNotLockedByOther(zone, nowMs(ctx));
    if (d.baseVersion !== zone.latest_version) throw new EditConflict(zone.name, d.baseVersion, zone.latest_version);
    return commitRecordDelta(trx, ctx, zone, d);
  });
}

/**
 * A change against the newest version committed in `trx` (commitDelta); EditConflict when a removed record is not
 * there. `known`: what the caller read in `trx` already (DeltaInput.known).
 */
async function commitRecordDelta(trx: Tx, ctx: ServiceContext, zone: ZoneRow, d: Omit<RecordDelta, 'baseVersion'>, known?: DeltaInput['known']) {
  const { zoneRow: _z, stale, ...res } = await commitDelta(trx, ctx, zone, () => loadSettings(trx), {
    removed: d.removed,
    added: d.added,
    ...(d.explicitSerial !== undefined ? { explicitSerial: d.explicitSerial } : {}),
    comment: d.comment ?? null,
    publish: d.publish ?? true,
    ...(known ? { known } : {}),
  });
  if (stale) throw new EditConflict(zone.name, zone.latest_version, zone.latest_version);
  return res;
}

/** What getUpdateScope reads. */
export type UpdateScope = Awaited<ReturnType<typeof getUpdateScope>>;

/**
 * An RFC 2136 UPDATE read and committed in ONE write transaction, the zone locked from the read to the commit (no
 * other change can come between, so no base-version conflict): the scope as getUpdateScope reads it is handed to
 * `decide`, which returns the change to commit (against that scope) or undefined. A zone with a DNSSEC policy is done
 * here only with `o.signed` — the caller knows the UPDATE leaves the apex alone and refuses the signer's types in
 * `decide` — else 'signed' (read and committed apart, with the signer's apex records). Errors as applyRecordDelta.
 */
export async function applyUpdateInOneTx(
  ctx: ServiceContext,
  name: string,
  ownerKeys: Iterable<string>,
  decide: (scope: UpdateScope) => Promise<Omit<RecordDelta, 'baseVersion'> | undefined>,
  o: { signed?: boolean } = {},
): Promise<'signed' | (SaveResult & { committed?: CommittedChange; signed: boolean }) | undefined> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const signed = ((await zoneDnssecRow(trx, Number(zone.id)))?.policy_id ?? null) !== null;
    if (signed && !o.signed) return 'signed' as const;
    const owners = new Set(ownerKeys);
    const { scope, zi, rows } = await readUpdateScope(trx, zone, owners, signed);
    const d = await decide(scope);
    if (!d) return undefined;
    assertNotLockedByOther(zone, nowMs(ctx));
    // Read in this very transaction: a removed record is there (commitRecordDelta's EditConflict is defensive).
    return { ...(await commitRecordDelta(trx, ctx, zone, d, { zi, owners, rows })), signed };
  });
}

/** The newest version's header (no records): what a caller needs to decide whether its cached copy is current. */
export async function getZoneHead(ctx: ServiceContext, name: string): Promise<{ zone: ZoneInfo; zi: ZiInfo; disabledRecords: boolean }> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zi = await resolveZi(trx, zone, 'latest');
    const disabledRecords = await hasDisabledRows(trx, Number(zone.id));
    return { zone: await zoneInfoById(trx, ctx, Number(zone.id)), zi: ziInfo(zone, zi), disabledRecords };
  });
}

/**
 * The newest version restricted to the records at `ownerKeys` (Name keys), SOA first: what an RFC 2136 update needs,
 * since it looks at no other name, read without loading the zone. With `grants`, the zone's update grants (as
 * listUpdateGrants gives them) are read in the same transaction.
 */
export async function getZoneAtOwners(
  ctx: ServiceContext,
  name: string,
  ownerKeys: Iterable<string>,
  o: { grants?: boolean } = {},
): Promise<ZoneContent & { updateGrants?: string[] }> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zi = await resolveZi(trx, zone, 'latest');
    const rows = await aliveRowsAt(trx, Number(zone.id), [...new Set(ownerKeys)]);
    rows.sort((a, b) => a.ord - b.ord || Number(a.id) - Number(b.id));
    const records = [soaRecord(Name.parse(zone.name), zi), ...rows.map(rowToRecord)];
    const content = { zone: await zoneInfoById(trx, ctx, Number(zone.id)), zi: ziInfo(zone, zi), records };
    return o.grants ? { ...content, updateGrants: await grantTexts(trx, Number(zone.id)) } : content;
  });
}

/**
 * What an RFC 2136 UPDATE needs, in one read group of six statements: the zone's state and inc_updates flag, its
 * newest version, the records at `ownerKeys` (Name keys; SOA first) and the DNAMEs above them up to the apex, its
 * update grant lines and whether it follows a DNSSEC policy — and then, when the apex is among the owners, the
 * signer's apex records (two statements more).
 */
export async function getUpdateScope(
  ctx: ServiceContext,
  name: string,
  ownerKeys: Iterable<string>,
  /** signerApex: read the signer's apex records (default: when the apex is among the owners). */
  o: { signerApex?: boolean } = {},
): Promise<{
  name: string;
  state: string;
  incUpdates: boolean;
  zi: ZiInfo;
  records: ZoneRecord[];
  updateGrants: string[];
  dnssecPolicy: boolean;
  /** A signed zone's signer records at the apex (signing.ts signerApexIn), read with the rest when the apex is an owner. */
  signerApex?: { nsec3param: RR | null; dnskeys: RR[] };
}> {
  const key = normalizeZoneName(name);
  const owners = new Set(ownerKeys);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const zd = await zoneDnssecRow(trx, Number(zone.id));
    const dnssecPolicy = (zd?.policy_id ?? null) !== null;
    const { scope } = await readUpdateScope(trx, zone, owners, dnssecPolicy);
    const apex = dnssecPolicy && (o.signerApex ?? owners.has(key)) ? await signerApexIn(trx, zone, zd) : undefined;
    return apex ? { ...scope, signerApex: apex } : scope;
  });
}

/**
 * getUpdateScope's read in `trx` of a zone row already read, with the ZI row and the record rows it was made of: every
 * row at the owners, the apex's SOA (from the ZI), and of the names above the owners up to the apex only their DNAMEs
 * (a DNAME occludes every name below it, RFC 6672 §2.3 — the UPDATE engine then ignores adds there). The rest of those
 * names plays no part in the UPDATE, and their rows are not read at each one: the apex (NS, MX, TXT, CAA, …) is often
 * the zone's largest owner, and an ACME client's _acme-challenge.host names a host with its own records.
 */
async function readUpdateScope(trx: Tx, zone: ZoneRow, owners: ReadonlySet<string>, dnssecPolicy: boolean) {
  const zi = await resolveZi(trx, zone, 'latest');
  const origin = Name.parse(zone.name);
  const rows = await aliveRowsAt(trx, Number(zone.id), [...owners]);
  rows.sort((a, b) => a.ord - b.ord || Number(a.id) - Number(b.id));
  const above = new Set<string>();
  for (const key of owners) {
    let name: Name;
    try {
      name = Name.parse(key);
    } catch {
      continue; // not a name of this zone: the UPDATE engine answers it (NOTZONE)
    }
    if (!name.isSubdomainOf(origin)) continue;
    for (let up = 1; up <= name.labelCount - origin.labelCount; up++) {
      const k = name.parent(up).key;
      if (!owners.has(k)) above.add(k);
    }
  }
  // Not among `rows`: those are every row at the owners (commitDelta takes them as known), these are parts of names.
  const dnames = above.size > 0 ? await aliveRowsOfTypeAtOwners(trx, Number(zone.id), [...above], RRType.DNAME) : [];
  const scope = {
    name: zone.name,
    state: zone.state,
    incUpdates: !!zone.inc_updates,
    zi: ziInfo(zone, zi),
    records: [soaRecord(origin, zi), ...dnames.map(rowToRecord), ...rows.map(rowToRecord)],
    updateGrants: await grantTexts(trx, Number(zone.id)),
    dnssecPolicy,
  };
  return { scope, zi, rows };
}

/**
 * A zone as operators name it: a domain name, a network (→ its reverse zone, "192.0.2.0/24"; "192.0.2.64/26" → the
 * RFC 2317 classless zone) or an IP address (→ the most specific reverse zone holding it, CIDR-fashion: the longest
 * network key among the address's, one index read, classless zones included). The zone need not exist for a name or
 * a network; an address without a reverse zone is ReverseZoneNotFound.
 */
export async function resolveZoneName(ctx: ServiceContext, text: string): Promise<string> {
  const t = text.trim();
  const addr = t.includes('/') ? undefined : (parseIpv4(t) ?? (t.includes(':') ? parseIpv6(t) : undefined));
  if (!addr) return operatorZoneName(t);
  const found = await reverseZonesByKey(ctx.store.db, zoneScope(ctx), networkKeyPrefixes(networkKey(addr, addr.length * 8)));
  if (found.length === 0) throw new ReverseZoneNotFound(t);
  return found.reduce((a, b) => ((b.rev_net ?? '').length > (a.rev_net ?? '').length ? b : a)).name;
}

/**
 * Names are global (one DNS, one zone of a name), so a live zone out of the caller's sight still takes its name. The
 * caller learns that the zone exists only when it may see it; a customer is told the name is not permitted, the
 * answer it gets for any name it may not have, so another tenant's zone does not show through the creation path.
 */
export async function assertNameFree(trx: Tx, ctx: ServiceContext, key: string): Promise<void> {
  if ((await liveZoneId(trx, null, key)) === undefined) return;
  if (zoneScope(ctx) === null || (await liveZoneId(trx, zoneScope(ctx), key)) !== undefined) throw new ZoneExists(key);
  throw new PermissionDenied(`zone name ${key}`);
}
