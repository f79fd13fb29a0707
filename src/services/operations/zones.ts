// Operations on zones and their versions (ZIs). Each entry: parameters (zod), tiers, the service call. Names are the
// original DMS JSON-RPC method names where it had one.

import { z } from 'zod';
import type { ServiceContext } from '../context.js';
import { cancelEditZone, clearEditLock, editZone, pokeZoneSetSerial, pokeZoneWrapSerial, saveZoneEdit, tickleEditLock } from '../edit.js';
import { type DmsError, ReferenceNotFound, type ValidationProblem } from '../errors.js';
import { getServerGroup, listReferences, refreshZoneApex } from '../groups.js';
import { loadZones } from '../load.js';
import { isZoneTextSource, loadZoneStream, type ZoneTextSource } from '../load-stream.js';
import { queryRecords, queryZoneRecords, updateRrs } from '../rrs.js';
import { contentToRecords, copyZiToZone, refreshZoneTtl, saveZoneRecords } from '../zone-records.js';
import { dateSerial } from '../serial.js';
import { unifiedDiff } from '../textdiff.js';
import { loadSettings } from '../config.js';
import type { LoadZoneResult, ZiSelector, ZoneContent, ZoneFlags } from '../types.js';
import {
  contentToText,
  copyZi,
  copyZone,
  createZone,
  deleteZi,
  deleteZone,
  destroyZone,
  disableZone,
  enableZone,
  getZi,
  getZone,
  getZoneById,
  getZoneContent,
  getZoneContentById,
  getZiById,
  listZis,
  listZoneBriefs,
  listZones,
  publishZi,
  resolveZoneName,
  saveZoneText,
  setZoneFlags,
  undeleteZone,
} from '../zones.js';
import { ADMIN_ONLY, ALL_TIERS, type Operation, op, STAFF } from './define.js';

/** How every operation names a zone: a domain name, a network (its reverse zone) or an address (the reverse zone holding it). */
export const zoneParam = z
  .string()
  .min(1)
  .max(1100)
  .describe('zone name; or a network (192.0.2.0/24) for its reverse zone; or an IP address for the reverse zone holding it');

/** A zone version: its number (zi_id), or the published / newest one. */
export const ziParam = z
  .union([z.number().int().positive(), z.literal('published'), z.literal('latest')])
  .describe('ZI: a version number, "published" (default) or "latest"');

export const flagsParam = z
  .object({
    useApexNs: z.boolean().nullable(),
    editLock: z.boolean().nullable(),
    autoDnssec: z.boolean().nullable(),
    nsec3: z.boolean().nullable(),
    incUpdates: z.boolean().nullable(),
  })
  .partial()
  .strict()
  .describe(
    'zone flags to set; null sets the configured default (zone_tool def_flag); the ones not given keep their value ' +
      '(or the configured default for a new zone)',
  );

/** The configuration key of each flag: its default for new zones, and what `null` (def_flag) sets. */
const FLAG_CONFIG: Readonly<Record<keyof ZoneFlags, string>> = {
  useApexNs: 'use_apex_ns',
  editLock: 'edit_lock',
  autoDnssec: 'auto_dnssec',
  nsec3: 'nsec3',
  incUpdates: 'inc_updates',
};

/** Flags with `null` ("the configured default") replaced by the configured value. */
async function flagsOf(ctx: ServiceContext, f: z.output<typeof flagsParam>): Promise<Partial<ZoneFlags>>;
async function flagsOf(ctx: ServiceContext, f: z.output<typeof flagsParam> | undefined): Promise<Partial<ZoneFlags> | undefined>;
async function flagsOf(ctx: ServiceContext, f: z.output<typeof flagsParam> | undefined): Promise<Partial<ZoneFlags> | undefined> {
  if (f === undefined) return undefined;
  const entries = Object.entries(f) as [keyof ZoneFlags, boolean | null | undefined][];
  if (!entries.some(([, v]) => v === null)) return f as Partial<ZoneFlags>;
  const settings = await loadSettings(ctx.store.db);
  const out: Partial<ZoneFlags> = {};
  for (const [k, v] of entries) if (v !== undefined) out[k] = v ?? settings.bool(FLAG_CONFIG[k]);
  return out;
}

const nameParam = z.string().min(1).max(255);
const zoneStateParam = z.enum(['PUBLISHED', 'UPDATE', 'DISABLED', 'DELETED']);

/** The zone's canonical name: every zone operation starts here (and a customer's unknown zone stops here). */
export function zoneOf(ctx: ServiceContext, text: string): Promise<string> {
  return resolveZoneName(ctx, text);
}

/** A ZI parameter as the services' selector (default: the published one). */
function sel(zi: z.infer<typeof ziParam> | undefined): ZiSelector | undefined {
  return typeof zi === 'number' ? { version: zi } : zi;
}

/** Zone-file text: up to 64 MiB. */
const textParam = z.string().max(64 * 1024 * 1024);

/** An edit token from edit_zone. */
const tokenParam = z.string().min(1).max(200).describe('the token edit_zone returned');

/** The options of a zone creation shared by create_zone, load_zone, copy_zone and load_zones. */
const createFields = {
  sg: nameParam.optional(),
  reference: nameParam.optional(),
  createReference: z.boolean().optional().describe('create the reference when it does not exist (in the zone\'s transaction)'),
  flags: flagsParam.optional(),
  inhibitPublish: z.boolean().optional(),
  comment: z.string().max(4096).optional(),
};

/** What a failed item of a batch reports: the catalogue code, the message and the zone-file problems (JSON-safe). */
export interface ItemError {
  code: DmsError['code'];
  message: string;
  problems?: ValidationProblem[];
}

function itemError(e: DmsError): ItemError {
  const problems = (e as { problems?: ValidationProblem[] }).problems;
  return { code: e.code, message: e.message, ...(Array.isArray(problems) ? { problems } : {}) };
}

/** A ZI as text, for the diffs. */
async function ziText(ctx: ServiceContext, zone: string, zi: z.infer<typeof ziParam> | undefined) {
  const name = await zoneOf(ctx, zone);
  const content = await getZoneContent(ctx, name, sel(zi));
  return { zone: name, zi: content.zi.version, text: contentToText(content) };
}

type ZiText = Awaited<ReturnType<typeof ziText>>;

/** Both texts and their unified diff, labelled "zone (zi N)" as zone_tool always showed them. */
function diffOf(from: ZiText, to: ZiText) {
  return { from, to, diff: unifiedDiff(from.text, to.text, `${from.zone} (zi ${from.zi})`, `${to.zone} (zi ${to.zi})`) };
}

/** update_rrs: one change of a record or RRset, in master-file fields (no newlines: each becomes one line). */
const oneLine = (max: number) => z.string().min(1).max(max).regex(/^[^\n\r]*$/, 'must be one line');
const rrChangeParam = z
  .object({
    action: z.enum(['add', 'delete', 'replace']),
    name: oneLine(1100).regex(/^\S+$/, 'must not contain blanks').describe('owner: relative to the zone, "@" or absolute'),
    type: z.string().min(1).max(20).regex(/^[A-Za-z0-9-]+$/, 'a record type mnemonic or TYPEnnn'),
    ttl: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    rdata: oneLine(65_535).optional().describe('the RDATA in master-file form; leave out to delete the whole RRset (with type ANY: every RRset at the name)'),
  })
  .strict();

/** One record of a whole zone as structured data (zone-records.ts): what edit_zone/show_zone give with format "records". */
const zoneRecordParam = z
  .object({
    name: oneLine(1100).regex(/^\S+$/, 'must not contain blanks').describe('owner: "@", relative to the zone, or absolute'),
    ttl: z.number().int().min(0).max(2 ** 31 - 1).optional().describe("default: the zone's default TTL"),
    type: z.string().min(1).max(20).regex(/^[A-Za-z0-9-]+$/, 'a record type mnemonic or TYPEnnn'),
    rdata: oneLine(65_535).describe('the RDATA in master-file form'),
    comment: z.string().max(4096).optional(),
    group: z.string().max(4096).optional().describe('the comment of the group the record belongs to'),
    disabled: z.boolean().optional(),
    lockPtr: z.boolean().optional(),
    forceRev: z.boolean().optional(),
    trackRev: z.boolean().optional(),
    ref: z.string().min(1).max(255).optional(),
  })
  .strict();

/** What every save of a whole zone takes besides its content: the edit's token or a base version, a comment, publish. */
const saveParams = {
  token: tokenParam.optional(),
  baseVersion: z.number().int().min(0).optional().describe('the newest version the content was based on: refused if the zone moved on'),
  comment: z.string().max(4096).optional(),
  publish: z.boolean().optional(),
};

/** A save takes the edit's token or a base version, not both. */
const tokenOrBase = {
  check: (p: { token?: string; baseVersion?: number }) => p.token === undefined || p.baseVersion === undefined,
  problem: { message: 'give token or baseVersion, not both (the token carries its base version)', path: ['baseVersion'] },
};

/** How show_zone and edit_zone give the records: zone-file text (default) or structured records. */
const formatParam = z.enum(['text', 'records']).default('text');

/** The content just read in the format asked for (one read of the records, not two). */
const contentAs = (c: ZoneContent, format: 'text' | 'records') => (format === 'records' ? { records: contentToRecords(c) } : { text: contentToText(c) });

export const ZONE_OPERATIONS = {
  find_zone: op({
    name: 'find_zone',
    summary: 'The canonical name of a zone given as a name, a network or an address (the most specific reverse zone)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => ({ zone: await zoneOf(ctx, p.zone) }),
  }),
  list_zone: op({
    name: 'list_zone',
    summary: 'List zones: a page by name, filtered by pattern (* ?), reference, sectag, server group and state',
    params: z
      .object({
        pattern: z.string().max(1100).optional(),
        reference: nameParam.optional(),
        sectag: nameParam.optional(),
        sg: nameParam.optional(),
        which: z.enum(['active', 'deleted', 'all']).default('active'),
        state: z
          .union([zoneStateParam, z.array(zoneStateParam).min(1).max(4)])
          .optional()
          .describe('only zones in this state (or these states); DELETED lists deleted zones whatever `which` says'),
        catalogs: z
          .enum(['include', 'exclude', 'only'])
          .default('include')
          .describe("the server groups' catalog zones (<sg>.catalog.invalid.): listed like other zones, left out, or alone"),
        after: z.string().max(1100).optional().describe('cursor: the last name of the previous page'),
        limit: z.number().int().min(1).max(10_000).default(1000),
        detail: z.boolean().default(false).describe('whole zone records instead of name, state, serial and reference'),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, { detail, state, ...rest }) => {
      const o = { ...rest, states: state === undefined ? undefined : typeof state === 'string' ? [state] : state };
      const page = detail ? await listZones(ctx, o) : await listZoneBriefs(ctx, o);
      // An empty page because the reference or server group filtered on does not exist is a typo to report, not
      // "no zones" (checked only then: a page with zones proves the name).
      if (page.length === 0) {
        if (o.sg !== undefined) await getServerGroup(ctx, o.sg);
        if (o.reference !== undefined && (await listReferences(ctx, o.reference)).length === 0) throw new ReferenceNotFound(o.reference);
      }
      return page;
    },
  }),
  show_zonesm: op({
    name: 'show_zonesm',
    summary: 'A zone with its state, flags, server group, reference, lock and its current ZI',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const zone = await getZone(ctx, await zoneOf(ctx, p.zone));
      const want = zone.publishedVersion ?? zone.latestVersion;
      const zi = (await listZis(ctx, zone.name)).find((z) => z.version === want) ?? null;
      return { zone, zi };
    },
  }),
  show_zone: op({
    name: 'show_zone',
    summary: 'A ZI of a zone (default: the published one) as zone-file text with DMS comments and flags',
    params: z.object({ zone: zoneParam, zi: ziParam.optional(), format: formatParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const name = await zoneOf(ctx, p.zone);
      const content = await getZoneContent(ctx, name, sel(p.zi));
      return { zone: content.zone, zi: content.zi, ...contentAs(content, p.format) };
    },
  }),
  show_zone_byid: op({
    name: 'show_zone_byid',
    summary: 'A ZI of the zone of that id, in any state (a deleted one too), as zone-file text: show_zone by zone id',
    params: z.object({ zoneId: z.number().int().positive(), zi: ziParam.optional(), format: formatParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const content = await getZoneContentById(ctx, p.zoneId, sel(p.zi));
      return { zone: content.zone, zi: content.zi, ...contentAs(content, p.format) };
    },
  }),
  show_zonesm_byid: op({
    name: 'show_zonesm_byid',
    summary: 'show_zonesm by zone id: the zone of that id in any state (a deleted one too) with its ZI last published',
    params: z.object({ zoneId: z.number().int().positive() }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, p) => getZiById(ctx, p.zoneId),
  }),
  show_zi_byid: op({
    name: 'show_zi_byid',
    summary: 'show_zi by zone id: a ZI (default: the published one) of the zone of that id, in any state',
    params: z.object({ zoneId: z.number().int().positive(), zi: ziParam.optional() }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, p) => getZiById(ctx, p.zoneId, sel(p.zi)),
  }),
  create_zone: op({
    name: 'create_zone',
    summary: 'Create a zone (a forward name, or a network for a reverse zone), optionally from zone-file text',
    params: z
      .object({
        zone: zoneParam,
        sg: nameParam.optional(),
        reference: nameParam.optional(),
        createReference: z.boolean().optional().describe('create the reference when it does not exist'),
        flags: flagsParam.optional(),
        text: z.string().max(64 * 1024 * 1024).optional().describe('zone-file text (with or without SOA and apex NS)'),
        inhibitPublish: z.boolean().optional(),
        comment: z.string().max(4096).optional(),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, flags, ...o }) => createZone(ctx, await zoneOf(ctx, zone), { ...o, flags: await flagsOf(ctx, flags) }),
  }),
  set_zone: op({
    name: 'set_zone',
    summary: 'Set or clear zone flags (use_apex_ns, edit_lock, auto_dnssec, nsec3, inc_updates)',
    params: z.object({ zone: zoneParam, flags: flagsParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => setZoneFlags(ctx, await zoneOf(ctx, p.zone), await flagsOf(ctx, p.flags)),
  }),
  enable_zone: op({
    name: 'enable_zone',
    summary: 'Serve a disabled zone again',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => enableZone(ctx, await zoneOf(ctx, p.zone)),
  }),
  disable_zone: op({
    name: 'disable_zone',
    summary: 'Stop serving a zone, keeping it and its history',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => disableZone(ctx, await zoneOf(ctx, p.zone)),
  }),
  delete_zone: op({
    name: 'delete_zone',
    summary: 'Delete a zone (kept, undeletable, until vacuumed)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => deleteZone(ctx, await zoneOf(ctx, p.zone)),
  }),
  undelete_zone: op({
    name: 'undelete_zone',
    summary: 'Bring a deleted zone back, by name or by zone id',
    params: z.object({ zone: zoneParam.optional(), zoneId: z.number().int().positive().optional() }).strict().refine((p) => (p.zone === undefined) !== (p.zoneId === undefined), {
      message: 'give either zone or zoneId',
    }),
    tiers: ALL_TIERS,
    mutates: true,
    run: (ctx, p) => undeleteZone(ctx, p.zoneId ?? p.zone!),
  }),
  destroy_zone: op({
    name: 'destroy_zone',
    summary: 'Remove a deleted zone and all its history for good (by zone id)',
    params: z.object({ zoneId: z.number().int().positive() }).strict(),
    // Helpdesk could not destroy zones in the original DMS: destroying loses the history for good.
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await destroyZone(ctx, p.zoneId);
      return { zoneId: p.zoneId, destroyed: true as const };
    },
  }),
  nuke_zone: op({
    name: 'nuke_zone',
    summary: 'Delete (if live) and destroy a zone by id, with all its history (zone_tool nuke_zones)',
    params: z.object({ zoneId: z.number().int().positive() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await getZoneById(ctx, p.zoneId);
      if (zone.state !== 'DELETED') await deleteZone(ctx, zone.name);
      await destroyZone(ctx, p.zoneId);
      return { zoneId: p.zoneId, zone: zone.name, destroyed: true as const };
    },
  }),
  list_zi: op({
    name: 'list_zi',
    summary: 'The ZIs (versions) of a zone, newest first, with the zone (its published and newest versions)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const name = await zoneOf(ctx, p.zone);
      const [zone, zis] = await Promise.all([getZone(ctx, name), listZis(ctx, name)]);
      return { zone, zis };
    },
  }),
  show_zi: op({
    name: 'show_zi',
    summary: 'One ZI of a zone (default: the published one): SOA fields, times, change_by, comment',
    params: z.object({ zone: zoneParam, zi: ziParam.optional() }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => getZi(ctx, await zoneOf(ctx, p.zone), sel(p.zi)),
  }),
  load_zone: op({
    name: 'load_zone',
    summary: 'Create a zone from zone-file text (SOA and apex NS optional)',
    params: z
      .object({
        zone: zoneParam,
        text: textParam.optional().describe('the zone-file text (required over JSON-RPC)'),
        // In-process callers only (zone_tool load_zone gives the file's pieces): no JSON value is an iterable, so
        // over JSON-RPC only `text` can be given.
        textSource: z
          .custom<ZoneTextSource>(isZoneTextSource, { message: 'expected zone-file text in pieces (an iterable)' })
          .optional()
          .describe('zone-file text as an (async) iterable of pieces, streamed into the zone (not over JSON-RPC)')
          .meta({ 'x-in-process': true }),
        ...createFields,
      })
      .strict()
      .refine((p) => (p.text === undefined) !== (p.textSource === undefined), { message: 'give text', path: ['text'] }),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, flags, text, textSource, ...o }) => {
      const name = await zoneOf(ctx, zone);
      const f = await flagsOf(ctx, flags);
      // A large file streams: parsed, checked and written piece by piece in one transaction (load-stream.ts).
      if (textSource !== undefined) return loadZoneStream(ctx, name, textSource, { ...o, flags: f });
      return createZone(ctx, name, { ...o, text, flags: f });
    },
  }),
  load_zones: op({
    name: 'load_zones',
    summary: 'Create many zones from zone-file texts, each in its own transaction; a failed zone is reported, not fatal',
    params: z
      .object({
        zones: z
          .array(
            z
              .object({
                zone: z.string().min(1).max(1100).describe('zone name (a file name such as "example.org" is fine)'),
                text: textParam,
                file: z.string().max(4096).optional().describe('where the text came from, for messages'),
              })
              .strict(),
          )
          .min(1)
          .max(10_000),
        ...createFields,
        stopOnError: z.boolean().default(false).describe('stop at the first zone that fails; the rest are not loaded'),
      })
      .strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, { zones, flags, ...o }) => {
      // One services.loadZones call for the batch: one settings read, one disk sync at the end.
      const results = await loadZones(
        ctx,
        zones.map((z) => ({ name: z.zone, text: z.text, ...(z.file !== undefined ? { file: z.file } : {}) })),
        { ...o, flags: await flagsOf(ctx, flags), replace: false },
      );
      return results.map(({ error, ...r }): Omit<LoadZoneResult, 'error'> & { error?: ItemError } =>
        error ? { ...r, error: itemError(error) } : r,
      );
    },
  }),
  copy_zone: op({
    name: 'copy_zone',
    summary: 'Create a zone as a copy of a ZI of another (owners re-rooted under the new name)',
    params: z.object({ zone: zoneParam, to: zoneParam, zi: ziParam.optional(), ...createFields }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, to, zi, flags, ...o }) =>
      copyZone(ctx, await zoneOf(ctx, zone), await zoneOf(ctx, to), { ...o, flags: await flagsOf(ctx, flags), zi: sel(zi) }),
  }),
  copy_zi: op({
    name: 'copy_zi',
    summary: 'Save an older ZI again as the newest (published unless asked not to), with a new serial; with `to`, as the newest ZI of another zone',
    params: z
      .object({
        zone: zoneParam,
        zi: ziParam,
        to: zoneParam.optional().describe("another zone to save the ZI's records into (its own apex SOA and NS stay)"),
        publish: z.boolean().optional(),
        comment: z.string().max(4096).optional(),
      })
      .strict()
      .refine((p) => p.to === undefined || (p.publish === undefined && p.comment === undefined), { message: 'publish and comment are not taken with to', path: ['to'] }),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, zi, to, ...o }) =>
      to === undefined ? copyZi(ctx, await zoneOf(ctx, zone), sel(zi)!, o) : copyZiToZone(ctx, await zoneOf(ctx, zone), sel(zi)!, await zoneOf(ctx, to)),
  }),
  publish_zi: op({
    name: 'publish_zi',
    summary: 'Publish a ZI: the newest as it is, an older one as a copy with a new serial',
    params: z.object({ zone: zoneParam, zi: ziParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => publishZi(ctx, await zoneOf(ctx, p.zone), sel(p.zi)!),
  }),
  delete_zi: op({
    name: 'delete_zi',
    summary: 'Delete an old ZI (never the published or the newest one)',
    params: z.object({ zone: zoneParam, zi: z.number().int().positive() }).strict(),
    // The versions are the zone's audit history: staff may prune them, customers may not.
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await deleteZi(ctx, zone, { version: p.zi });
      return { zone, zi: p.zi, deleted: true as const };
    },
  }),
  update_zone_text: op({
    name: 'update_zone_text',
    summary: 'Save zone-file text as the zone\'s new ZI; with the edit_zone token, or against a base version',
    params: z
      .object({
        zone: zoneParam,
        text: textParam,
        ...saveParams,
      })
      .strict()
      .refine(tokenOrBase.check, tokenOrBase.problem),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, text, token, baseVersion, ...o }) => {
      const name = await zoneOf(ctx, zone);
      // A zone that is not there is that, whatever the text says: looked up before the text is parsed.
      await getZone(ctx, name);
      if (token !== undefined) return saveZoneEdit(ctx, name, token, { text }, o);
      return saveZoneText(ctx, name, text, baseVersion !== undefined ? { ...o, baseVersion } : o);
    },
  }),
  update_zone: op({
    name: 'update_zone',
    summary: "Save the zone's records given as structured data as its new ZI (update_zone_text's counterpart); with the edit_zone token, or against a base version",
    params: z
      .object({
        zone: zoneParam,
        records: z.array(zoneRecordParam).max(1_000_000).describe('the whole zone (without an SOA the newest ZI\'s SOA fields stay)'),
        zoneTtl: z.number().int().min(0).max(2 ** 31 - 1).optional().describe("the zone's default TTL (default: unchanged)"),
        ...saveParams,
      })
      .strict()
      .refine(tokenOrBase.check, tokenOrBase.problem),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, records, ...o }) => {
      const name = await zoneOf(ctx, zone);
      // A zone that is not there is that, whatever the records say: looked up before they are parsed.
      await getZone(ctx, name);
      return saveZoneRecords(ctx, name, records, o);
    },
  }),
  edit_zone: op({
    name: 'edit_zone',
    summary: 'Start an edit: the newest ZI as text, the token to save it with, its base version and the lock taken',
    params: z.object({ zone: zoneParam, timeoutSec: z.number().positive().max(7 * 86400).optional(), format: formatParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, format, ...o }) => {
      const s = await editZone(ctx, await zoneOf(ctx, zone), o);
      return {
        zone: s.zone,
        token: s.token,
        baseVersion: s.baseVersion,
        zi: s.content.zi,
        ...(format === 'records' ? { records: contentToRecords(s.content) } : { text: s.text }),
        lock: s.expiresAt ? { lockedBy: ctx.actor, lockedSince: s.lockedSince, expiresAt: s.expiresAt } : null,
      };
    },
  }),
  tickle_editlock: op({
    name: 'tickle_editlock',
    summary: 'Keep an edit lock: its timeout starts again',
    params: z.object({ zone: zoneParam, token: tokenParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      return { zone, expiresAt: await tickleEditLock(ctx, zone, p.token) };
    },
  }),
  cancel_edit_zone: op({
    name: 'cancel_edit_zone',
    summary: 'End an edit without saving: the lock the token holds is released',
    params: z.object({ zone: zoneParam, token: tokenParam }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await cancelEditZone(ctx, zone, p.token);
      return { zone, cancelled: true as const };
    },
  }),
  clear_edit_lock: op({
    name: 'clear_edit_lock',
    summary: 'Break a zone\'s edit lock, whoever holds it (the holder\'s save is then refused)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await clearEditLock(ctx, zone);
      return { zone, cleared: true as const };
    },
  }),
  diff_zones: op({
    name: 'diff_zones',
    summary: 'Two zones (a ZI of each, default the published ones) as text and their unified diff',
    params: z
      .object({ zone: zoneParam, zi: ziParam.optional(), zone2: zoneParam, zi2: ziParam.optional() })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => diffOf(await ziText(ctx, p.zone, p.zi), await ziText(ctx, p.zone2, p.zi2)),
  }),
  diff_zi: op({
    name: 'diff_zi',
    summary: 'Two ZIs of a zone (default: the published one for each) as text and their unified diff',
    params: z.object({ zone: zoneParam, zi: ziParam.optional(), zi2: ziParam.optional() }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => diffOf(await ziText(ctx, p.zone, p.zi), await ziText(ctx, p.zone, p.zi2)),
  }),
  poke_zone_set_serial: op({
    name: 'poke_zone_set_serial',
    summary: 'A new ZI with a new SOA serial: the one given, today\'s YYYYMMDD00 (today), or the next one',
    params: z
      .object({
        zone: zoneParam,
        serial: z.number().int().min(0).max(0xffffffff).optional(),
        today: z.boolean().optional().describe('move to today\'s YYYYMMDDnn block (UTC) unless the serial is already in it'),
      })
      .strict()
      .refine((p) => !(p.serial !== undefined && p.today), { message: 'give serial or today, not both', path: ['today'] }),
    // Serials are set by the policy; by hand only by an administrator (as in the original DMS).
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      let serial = p.serial;
      if (p.today) {
        const today = dateSerial(ctx.clock.now());
        const current = (await getZone(ctx, zone)).soaSerial;
        // Keep incrementing within today's block once the serial is in it.
        if (current === null || current < today) serial = today;
      }
      return pokeZoneSetSerial(ctx, zone, serial);
    },
  }),
  poke_zone_wrap_serial: op({
    name: 'poke_zone_wrap_serial',
    summary: 'A new ZI with the serial moved forward by 2^31-1 (RFC 1982), so that a lower number can follow',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => pokeZoneWrapSerial(ctx, await zoneOf(ctx, p.zone)),
  }),
  refresh_zone: op({
    name: 'refresh_zone',
    summary: 'Refresh a zone: its apex NS/SOA again from its server group (a new ZI when they differ), and the servers told',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => refreshZoneApex(ctx, await zoneOf(ctx, p.zone)),
  }),
  refresh_zone_ttl: op({
    name: 'refresh_zone_ttl',
    summary: "Set the zone's default TTL anew (given, else config zone_ttl): the records that followed it follow the new one, in one new ZI",
    params: z
      .object({
        zone: zoneParam,
        zoneTtl: z.number().int().min(0).max(2 ** 31 - 1).optional().describe("the zone's new default TTL (default: config zone_ttl)"),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => refreshZoneTtl(ctx, await zoneOf(ctx, p.zone), p.zoneTtl),
  }),
  update_rrs: op({
    name: 'update_rrs',
    summary: 'Add, delete or replace records and RRsets in one new ZI, optionally against the serial last seen',
    params: z
      .object({
        zone: zoneParam,
        records: z.array(rrChangeParam).min(1).max(10_000),
        serial: z.number().int().min(0).max(0xffffffff).optional().describe('expected SOA serial of the newest ZI'),
        comment: z.string().max(4096).optional(),
        publish: z.boolean().optional(),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, { zone, records, ...o }) => updateRrs(ctx, await zoneOf(ctx, zone), records, o),
  }),
  rr_query_db: op({
    name: 'rr_query_db',
    summary: 'The records at one name (or an address\'s reverse name) in every zone holding it, newest ZI; optionally one type',
    params: z
      .object({
        name: oneLine(1100).regex(/^\S+$/, 'must not contain blanks').describe('an absolute domain name, or an IPv4/IPv6 address'),
        type: z.string().min(1).max(20).regex(/^[A-Za-z0-9-]+$/, 'a record type mnemonic or TYPEnnn').optional(),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => queryRecords(ctx, p.name, p.type === undefined ? {} : { type: p.type }),
  }),
  query_zone_records: op({
    name: 'query_zone_records',
    summary: "The records of one zone's ZI at labels matching a pattern (* and ?), of some types, with some RDATA: the original zone_tool's rr_query_db",
    params: z
      .object({
        label: oneLine(1100).regex(/^\S+$/, 'must not contain blanks').describe('a label relative to `zone` ("@" the apex), or without `zone` a whole name; * and ? as wildcards'),
        zone: oneLine(1100).optional().describe('the zone (default: the most specific live zone above the name)'),
        types: z
          .array(z.string().min(1).max(20).regex(/^[A-Za-z0-9-]+$/, 'a record type mnemonic or TYPEnnn'))
          .max(20)
          .optional(),
        rdata: oneLine(65535).optional().describe('only records with exactly this RDATA (master-file form)'),
        version: z.number().int().min(1).optional().describe("that ZI (default: the zone's newest)"),
        includeDisabled: z.boolean().optional().describe('disabled records, and a disabled zone, too'),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, p) => queryZoneRecords(ctx, p),
  }),
} satisfies Record<string, Operation>;
