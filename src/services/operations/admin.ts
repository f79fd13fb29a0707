// Operations of the DMS administration: references, security tags, configuration, server groups, vacuum, the event
// queue and the status overview. Names are the original DMS JSON-RPC method names where it had one (list_reference,
// set_zone_reference, list_sg, set_zone_sg…), else zone_tool's command name.
//
// Tiers: admin may do everything. Helpdesk reads everything and manages references and what belongs to one zone, but
// not security tags (issue 16: they decide what a customer sees), the configuration, server groups, vacuum or the
// event queue. Customers see none of these: references and tags are how zones are shared out between customers.

import { z } from 'zod';
import * as config from '../config.js';
import type { ServiceContext } from '../context.js';
import { failEvent, getEvent, listEvents } from '../events.js';
import {
  addZoneSectag,
  changeServerGroup,
  createReference,
  createSectag,
  createServerGroup,
  deleteReference,
  deleteSectag,
  deleteServerGroup,
  deleteZoneSectag,
  getServerGroup,
  listReferences,
  listSectags,
  listServerGroups,
  listZoneSectags,
  renameReference,
  renameServerGroup,
  replaceZoneSectags,
  SECTAG_RE,
  SECTAG_RULE,
  setZoneAltServerGroup,
  setZoneReference,
  setZoneServerGroup,
  swapZoneServerGroup,
} from '../groups.js';
import { listServers } from '../servers.js';
import { vacuumAll } from '../vacuum.js';
import { clusterState, listInstances, listStandbys, replicationStatus } from '../ha.js';
import { ADMIN_ONLY, type Operation, op, STAFF } from './define.js';
import { zoneOf, zoneParam } from './zones.js';

/** A reference, server group or configuration name: one token (the services trim and check it further). */
const labelParam = z.string().min(1).max(255);
export const referenceParam = labelParam.describe('reference name (the customer or account a zone belongs to)');
export const sgParam = labelParam.describe('server group name');
export const sectagParam = z.string().regex(SECTAG_RE, SECTAG_RULE).describe('security tag');
const idParam = z.number().int().positive();
const daysParam = z.number().nonnegative().max(1e6);
const addressParam = z.string().min(1).max(64);

/**
 * The services offer one vacuum with per-part ages; the single-part vacuums switch the other parts off with the ages
 * documented to mean "never" (0 for zone_del_age / zone_del_pare_age) or an age no row can reach.
 */
const NEVER_DAYS = 1e7;

/** Every part of the vacuum switched off: a vacuum of one part sets only its own age over this. */
const NO_VACUUM = { ziMaxAgeDays: NEVER_DAYS, zoneDelAgeDays: 0, zoneDelPareAgeDays: 0, eventMaxAgeDays: NEVER_DAYS, auditMaxAgeDays: NEVER_DAYS };

/** The default server group (configuration default_sg) when none is named. */
async function sgOrDefault(ctx: ServiceContext, sg: string | undefined): Promise<string> {
  return sg ?? config.getConfigValue(ctx.store.db, 'default_sg');
}

const EVENT_FILTER = {
  pending: ['NEW', 'RETRY'],
  failed: ['FAILURE'],
  all: undefined,
} as const;

export const ADMIN_OPERATIONS = {
  // ---- references --------------------------------------------------------------------------------------------------
  list_reference: op({
    name: 'list_reference',
    summary: 'List references (pattern with * ?) and how many live zones each has',
    params: z.object({ pattern: z.string().min(1).max(255).optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => listReferences(ctx, p.pattern),
  }),
  create_reference: op({
    name: 'create_reference',
    summary: 'Create a reference',
    params: z.object({ reference: referenceParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      await createReference(ctx, p.reference);
      return { reference: p.reference };
    },
  }),
  delete_reference: op({
    name: 'delete_reference',
    summary: 'Delete a reference no zone uses',
    params: z.object({ reference: referenceParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      await deleteReference(ctx, p.reference);
      return { reference: p.reference, deleted: true as const };
    },
  }),
  rename_reference: op({
    name: 'rename_reference',
    summary: 'Rename a reference (its zones follow)',
    params: z.object({ reference: referenceParam, to: referenceParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      await renameReference(ctx, p.reference, p.to);
      return { from: p.reference, to: p.to };
    },
  }),
  set_zone_reference: op({
    name: 'set_zone_reference',
    summary: 'Set the reference of a zone',
    params: z.object({ zone: zoneParam, reference: referenceParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await setZoneReference(ctx, zone, p.reference);
      return { zone, reference: p.reference };
    },
  }),

  // ---- security tags (admin only: they decide which zones a customer sees) ----------------------------------------
  list_sectag: op({
    name: 'list_sectag',
    summary: 'List security tags',
    params: z.object({}).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx) => (await listSectags(ctx)).slice().sort(),
  }),
  create_sectag: op({
    name: 'create_sectag',
    summary: 'Create a security tag',
    params: z.object({ sectag: sectagParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await createSectag(ctx, p.sectag);
      return { sectag: p.sectag };
    },
  }),
  delete_sectag: op({
    name: 'delete_sectag',
    summary: 'Delete a security tag no zone carries',
    params: z.object({ sectag: sectagParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await deleteSectag(ctx, p.sectag);
      return { sectag: p.sectag, deleted: true as const };
    },
  }),
  list_zone_sectags: op({
    name: 'list_zone_sectags',
    summary: 'The security tags of a zone',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx, p) => (await listZoneSectags(ctx, await zoneOf(ctx, p.zone))).slice().sort(),
  }),
  add_zone_sectag: op({
    name: 'add_zone_sectag',
    summary: 'Give a zone a security tag',
    params: z.object({ zone: zoneParam, sectag: sectagParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await addZoneSectag(ctx, zone, p.sectag);
      return { zone, sectag: p.sectag };
    },
  }),
  delete_zone_sectag: op({
    name: 'delete_zone_sectag',
    summary: 'Take a security tag off a zone',
    params: z.object({ zone: zoneParam, sectag: sectagParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await deleteZoneSectag(ctx, zone, p.sectag);
      return { zone, sectag: p.sectag, deleted: true as const };
    },
  }),
  replace_zone_sectags: op({
    name: 'replace_zone_sectags',
    summary: 'Replace the security tags of a zone (an empty list removes them all)',
    params: z.object({ zone: zoneParam, sectags: z.array(sectagParam).max(1000) }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await replaceZoneSectags(ctx, zone, p.sectags);
      return { zone, sectags: p.sectags };
    },
  }),

  // ---- configuration ----------------------------------------------------------------------------------------------
  show_config: op({
    name: 'show_config',
    summary: 'Every configuration key with its value (defaults filled in), per-SG values too',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx) => config.showConfig(ctx.store.db),
  }),
  get_config_value: op({
    name: 'get_config_value',
    summary: 'One configuration value (of a server group for per-SG keys)',
    params: z.object({ key: labelParam, sg: sgParam.optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx, p) => ({ key: p.key, value: await config.getConfigValue(ctx.store.db, p.key, p.sg), sg: p.sg ?? null }),
  }),
  set_config: op({
    name: 'set_config',
    summary: 'Set a configuration value (of a server group for per-SG keys)',
    params: z.object({ key: labelParam, value: z.string().max(4096), sg: sgParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await config.setConfig(ctx.store.db, p.key, p.value, p.sg);
      return { key: p.key, value: p.value, sg: p.sg ?? null };
    },
  }),

  // ---- server groups ----------------------------------------------------------------------------------------------
  create_sg: op({
    name: 'create_sg',
    summary: 'Create a server group',
    params: z
      .object({
        sg: sgParam,
        apexNs: z.array(z.string().min(1).max(255)).max(100).optional(),
        soaMname: z.string().min(1).max(255).optional(),
        masterAddress: addressParam.optional().describe("the primary's address its secondaries transfer from"),
        masterAltAddress: addressParam.optional(),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, { sg, ...o }) => createServerGroup(ctx, sg, o),
  }),
  list_sg: op({
    name: 'list_sg',
    summary: 'List server groups with their apex NS, master addresses and zone counts',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx) => listServerGroups(ctx),
  }),
  show_sg: op({
    name: 'show_sg',
    summary: 'A server group',
    params: z.object({ sg: sgParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getServerGroup(ctx, p.sg),
  }),
  delete_sg: op({
    name: 'delete_sg',
    summary: 'Delete a server group no zone uses and no server is in (and not the default_sg)',
    params: z.object({ sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await deleteServerGroup(ctx, p.sg);
      return { sg: p.sg, deleted: true as const };
    },
  }),
  rename_sg: op({
    name: 'rename_sg',
    summary: 'Rename a server group (default_sg follows)',
    params: z.object({ sg: sgParam, to: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await renameServerGroup(ctx, p.sg, p.to);
      return { from: p.sg, to: p.to };
    },
  }),
  show_apex_ns: op({
    name: 'show_apex_ns',
    summary: 'The apex NS set of a server group (default: default_sg)',
    params: z.object({ sg: sgParam.optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx, p) => {
      const sg = await getServerGroup(ctx, await sgOrDefault(ctx, p.sg));
      return { sg: sg.name, apexNs: sg.apexNs };
    },
  }),
  set_sg_apex_ns: op({
    name: 'set_sg_apex_ns',
    summary: "Replace a server group's apex NS set (default: default_sg); its use_apex_ns zones get it as a new ZI",
    params: z.object({ sg: sgParam.optional(), apexNs: z.array(z.string().min(1).max(255)).max(100).describe('at least one name') }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => changeServerGroup(ctx, await sgOrDefault(ctx, p.sg), { apexNs: p.apexNs }),
  }),
  set_zone_sg: op({
    name: 'set_zone_sg',
    summary: 'Move a zone to another server group',
    params: z.object({ zone: zoneParam, sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => setZoneServerGroup(ctx, await zoneOf(ctx, p.zone), p.sg),
  }),
  set_zone_alt_sg: op({
    name: 'set_zone_alt_sg',
    summary: 'Set (or with null clear) the alternate server group of a zone',
    params: z.object({ zone: zoneParam, sg: sgParam.nullable() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => setZoneAltServerGroup(ctx, await zoneOf(ctx, p.zone), p.sg),
  }),
  swap_zone_sg: op({
    name: 'swap_zone_sg',
    summary: 'Swap the server group and the alternate server group of a zone',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => swapZoneServerGroup(ctx, await zoneOf(ctx, p.zone)),
  }),

  // ---- vacuum -------------------------------------------------------------------------------------------------------
  vacuum_zis: op({
    name: 'vacuum_zis',
    summary: 'Delete old ZIs (older than ageDays beyond the newest maxNum; default zi_max_age / zi_max_num)',
    params: z.object({ zone: zoneParam.optional(), ageDays: daysParam.optional(), maxNum: z.number().int().min(0).max(1e6).optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) =>
      vacuumAll(ctx, { ...NO_VACUUM, ziMaxAgeDays: p.ageDays, ziMaxNum: p.maxNum, zone: p.zone !== undefined ? await zoneOf(ctx, p.zone) : undefined }),
  }),
  vacuum_zones: op({
    name: 'vacuum_zones',
    summary: 'Destroy zones deleted longer than ageDays ago (default zone_del_age)',
    params: z.object({ ageDays: daysParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => vacuumAll(ctx, { ...NO_VACUUM, zoneDelAgeDays: p.ageDays }),
  }),
  vacuum_pare_deleted_zone_zis: op({
    name: 'vacuum_pare_deleted_zone_zis',
    summary: 'Pare the ZIs of zones deleted longer than ageDays ago down to their last published ZI (default zone_del_pare_age)',
    params: z.object({ ageDays: daysParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => vacuumAll(ctx, { ...NO_VACUUM, zoneDelPareAgeDays: p.ageDays }),
  }),
  vacuum_event_queue: op({
    name: 'vacuum_event_queue',
    summary: 'Delete finished events older than ageDays (default event_max_age)',
    params: z.object({ ageDays: daysParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => vacuumAll(ctx, { ...NO_VACUUM, eventMaxAgeDays: p.ageDays }),
  }),
  vacuum_audit_log: op({
    name: 'vacuum_audit_log',
    summary: 'Delete audit log entries older than ageDays (default audit_max_age); the newest entry always stays',
    params: z.object({ ageDays: daysParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => vacuumAll(ctx, { ...NO_VACUUM, auditMaxAgeDays: p.ageDays }),
  }),
  vacuum_all: op({
    name: 'vacuum_all',
    summary: 'Every vacuum with the configured ages',
    params: z.object({}).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx) => vacuumAll(ctx),
  }),

  // ---- events -------------------------------------------------------------------------------------------------------
  list_events: op({
    name: 'list_events',
    summary: 'Events of the queue, newest first: pending (NEW/RETRY), failed, or all',
    params: z
      .object({
        which: z.enum(['pending', 'failed', 'all']).default('all'),
        limit: z.number().int().min(1).max(100_000).optional().describe('default: every pending event, else the last 25'),
      })
      .strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => {
      const state = EVENT_FILTER[p.which];
      return listEvents(ctx, {
        ...(state ? { state: [...state] } : {}),
        ...(p.limit !== undefined ? { limit: p.limit } : p.which === 'pending' ? {} : { limit: 25 }),
      });
    },
  }),
  show_event: op({
    name: 'show_event',
    summary: 'One event',
    params: z.object({ eventId: idParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getEvent(ctx, p.eventId),
  }),
  fail_event: op({
    name: 'fail_event',
    summary: 'Mark an event FAILURE so it is not run (again)',
    params: z.object({ eventId: idParam, reason: z.string().max(1000).optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      const via = ctx.source === 'cli' ? 'zone_tool fail_event' : 'fail_event';
      await failEvent(ctx, p.eventId, p.reason ?? `failed by ${ctx.actor} with ${via}`);
      return { eventId: p.eventId, state: 'FAILURE' as const };
    },
  }),

  // ---- status -------------------------------------------------------------------------------------------------------
  show_dms_status: op({
    name: 'show_dms_status',
    summary: 'The store, the dmsd instances (which one leads, since when), the server groups, the pending events and the last failed ones',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx) => {
      const [serverGroups, servers, pending, failed, instances, cluster, replication, standbys] = await Promise.all([
        listServerGroups(ctx),
        listServers(ctx),
        listEvents(ctx, { state: ['NEW', 'RETRY'] }),
        listEvents(ctx, { state: 'FAILURE', limit: 5 }),
        listInstances(ctx),
        clusterState(ctx),
        replicationStatus(ctx),
        listStandbys(ctx),
      ]);
      // The location is the SQLite file or the PostgreSQL URL with its password removed by the store.
      return {
        store: { kind: ctx.store.kind, location: ctx.store.location },
        // Issue 13: the dmsd instances on this database (the leader, since when), the fencing epoch, replica or not.
        cluster,
        // On a replica: how far behind the primary it is (null on a primary); on a primary: its standbys' lag.
        replication: replication ?? null,
        standbys,
        instances,
        leader: instances.find((i) => i.leader)?.id ?? null,
        serverGroups,
        // The ServerSM state of every secondary (issue 11): what ls_server -v shows.
        servers: servers.map((v) => ({ name: v.name, sg: v.sg, state: v.state, lastReply: v.lastReply, retryMsg: v.retryMsg, lagging: v.lagging.length })),
        pending,
        failed,
      };
    },
  }),
} satisfies Record<string, Operation>;
