// Operations on zones and their versions (ZIs). Each entry: parameters (zod), tiers, the service call. Names are the
// original DMS JSON-RPC method names where it had one.

import { z } from 'zod';
import type { ServiceContext } from '../context.js';
import {
  createZone,
  deleteZone,
  destroyZone,
  disableZone,
  enableZone,
  getZone,
  getZoneContent,
  getZoneText,
  listZis,
  listZoneBriefs,
  listZones,
  resolveZoneName,
  setZoneFlags,
  undeleteZone,
} from '../zones.js';
import { ALL_TIERS, type Operation, op, STAFF } from './define.js';

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
    useApexNs: z.boolean(),
    editLock: z.boolean(),
    autoDnssec: z.boolean(),
    nsec3: z.boolean(),
    incUpdates: z.boolean(),
  })
  .partial()
  .strict()
  .describe('zone flags to set; the ones not given keep their value (or the configured default for a new zone)');

const nameParam = z.string().min(1).max(255);

/** The zone's canonical name: every zone operation starts here (and a customer's unknown zone stops here). */
export function zoneOf(ctx: ServiceContext, text: string): Promise<string> {
  return resolveZoneName(ctx, text);
}

function sel(zi: z.infer<typeof ziParam> | undefined) {
  return typeof zi === 'number' ? { version: zi } : zi;
}

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
        after: z.string().max(1100).optional().describe('cursor: the last name of the previous page'),
        limit: z.number().int().min(1).max(10_000).default(1000),
        detail: z.boolean().default(false).describe('whole zone records instead of name, state, serial and reference'),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, { detail, ...o }) => (detail ? listZones(ctx, o) : listZoneBriefs(ctx, o)),
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
    params: z.object({ zone: zoneParam, zi: ziParam.optional() }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const name = await zoneOf(ctx, p.zone);
      const content = await getZoneContent(ctx, name, sel(p.zi));
      const text = await getZoneText(ctx, name, { version: content.zi.version });
      return { zone: content.zone, zi: content.zi, text };
    },
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
    run: async (ctx, { zone, ...o }) => createZone(ctx, await zoneOf(ctx, zone), o),
  }),
  set_zone: op({
    name: 'set_zone',
    summary: 'Set or clear zone flags (use_apex_ns, edit_lock, auto_dnssec, nsec3, inc_updates)',
    params: z.object({ zone: zoneParam, flags: flagsParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => setZoneFlags(ctx, await zoneOf(ctx, p.zone), p.flags),
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
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      await destroyZone(ctx, p.zoneId);
      return { zoneId: p.zoneId, destroyed: true as const };
    },
  }),
} satisfies Record<string, Operation>;
