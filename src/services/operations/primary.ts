// Operations of the primary (issue 4): TSIG keys, RFC 2136 update grants, transfer rules, also-notify targets and the
// NOTIFYs waiting in the event queue. Names are zone_tool's (the original DMS had no API for these).
//
// Tiers: TSIG keys are the primary's credentials, so creating, showing (the secret) and deleting them is admin only;
// helpdesk may list them (never the secret). Update grants, transfer rules and also-notify entries of one zone are
// zone-level settings helpdesk may change; those of a server group apply to every zone of the group and stay with
// admin. Customers get none of these.

import { z } from 'zod';
import { addAlsoNotify, addTransferRule, deleteAlsoNotify, deleteTransferRule, listAlsoNotify, listTransferRules } from '../access.js';
import type { ServiceContext } from '../context.js';
import { InvalidArgument, PermissionDenied } from '../errors.js';
import { listEvents } from '../events.js';
import { addUpdateGrant, createTsigKey, deleteTsigKey, deleteUpdateGrant, getTsigKey, listTsigKeys, listUpdateGrants } from '../keys.js';
import { ADMIN_ONLY, type Operation, op, STAFF } from './define.js';
import { sgParam } from './admin.js';
import { zoneOf, zoneParam } from './zones.js';

const keyNameParam = z.string().min(1).max(255).describe('TSIG key name (a domain name)');
const idParam = z.number().int().positive();
const grantParam = z.string().min(1).max(4096).describe('a BIND update-policy rule, e.g. "grant dyn.key zonesub ANY"');

/** A zone or a server group: exactly one of the two. */
export const targetShape = { zone: zoneParam.optional(), sg: sgParam.optional() };
export const oneTarget = (p: { zone?: string; sg?: string }) => (p.zone === undefined) !== (p.sg === undefined);
export const ONE_TARGET = { message: 'give either zone or sg', path: ['zone'] };

/** The access target in the services' form, with the zone's canonical name; server groups are admin's. */
export async function targetOf(ctx: ServiceContext, opName: string, p: { zone?: string; sg?: string }): Promise<{ zone?: string; sg?: string }> {
  if (p.sg !== undefined) {
    if (ctx.tenant.tier !== 'admin') throw new PermissionDenied(opName);
    return { sg: p.sg };
  }
  return { zone: await zoneOf(ctx, p.zone as string) };
}

/** Deleting an entry by id: the same rule as adding it (a server group's entry is admin's). */
async function checkEntryTarget(ctx: ServiceContext, opName: string, entry: { sg: string | null } | undefined): Promise<void> {
  if (entry?.sg != null && ctx.tenant.tier !== 'admin') throw new PermissionDenied(opName);
}


/** Listing the per-zone / per-server-group entries of one kind (transfer rules, also-notify targets). */
export function listEntriesOp<E>(name: string, summary: string, list: (ctx: ServiceContext, target?: { zone?: string; sg?: string }) => Promise<E[]>) {
  return op({
    name,
    summary,
    params: z
      .object(targetShape)
      .strict()
      .refine((p) => p.zone === undefined || p.sg === undefined, ONE_TARGET),
    tiers: STAFF,
    mutates: false,
    run: async (ctx, p) => list(ctx, p.sg !== undefined ? { sg: p.sg } : p.zone !== undefined ? { zone: await zoneOf(ctx, p.zone) } : undefined),
  });
}

/** Deleting one such entry by id; an entry of a server group is the admin's (checkEntryTarget). */
export function deleteEntryOp<E extends { id: number; sg: string | null }>(
  name: string,
  summary: string,
  list: (ctx: ServiceContext) => Promise<E[]>,
  del: (ctx: ServiceContext, id: number) => Promise<void>,
) {
  return op({
    name,
    summary,
    params: z.object({ id: idParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      await checkEntryTarget(ctx, name, (await list(ctx)).find((r) => r.id === p.id));
      await del(ctx, p.id);
      return { id: p.id, deleted: true as const };
    },
  });
}

export const PRIMARY_OPERATIONS = {
  // ---- TSIG keys ----------------------------------------------------------------------------------------------------
  generate_tsig_key: op({
    name: 'generate_tsig_key',
    summary: 'Create a TSIG key with a random secret (returned once here, and by show_tsig_key)',
    params: z
      .object({
        name: keyNameParam,
        algorithm: z.string().min(1).max(32).optional().describe('hmac-sha256 (default), hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => createTsigKey(ctx, p.name, p.algorithm !== undefined ? { algorithm: p.algorithm } : {}),
  }),
  list_tsig_key: op({
    name: 'list_tsig_key',
    summary: 'List TSIG keys: name, algorithm, creation time (never the secret)',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx) => (await listTsigKeys(ctx)).map((k) => ({ name: k.name, algorithm: k.algorithm, ctime: k.ctime })),
  }),
  show_tsig_key: op({
    name: 'show_tsig_key',
    summary: 'A TSIG key with its secret (base64)',
    params: z.object({ name: keyNameParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx, p) => {
      const k = await getTsigKey(ctx, p.name);
      return { name: k.name.toString(), algorithm: k.algorithm, secret: Buffer.from(k.secret).toString('base64') };
    },
  }),
  delete_tsig_key: op({
    name: 'delete_tsig_key',
    summary: 'Delete a TSIG key',
    params: z.object({ name: keyNameParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await deleteTsigKey(ctx, p.name);
      return { name: p.name, deleted: true as const };
    },
  }),

  // ---- update grants ------------------------------------------------------------------------------------------------
  add_update_grant: op({
    name: 'add_update_grant',
    summary: 'Add an RFC 2136 update grant (update-policy rule) to a zone; rules apply in order, the first match decides',
    params: z.object({ zone: zoneParam, grant: grantParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      await addUpdateGrant(ctx, zone, p.grant);
      return { zone, grants: await listUpdateGrants(ctx, zone) };
    },
  }),
  list_update_grants: op({
    name: 'list_update_grants',
    summary: 'The update grants of a zone, in the order they apply',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx, p) => listUpdateGrants(ctx, await zoneOf(ctx, p.zone)),
  }),
  delete_update_grant: op({
    name: 'delete_update_grant',
    summary: 'Delete an update grant of a zone, by its text or its number (1 = the first, as listed)',
    params: z
      .object({ zone: zoneParam, grant: grantParam.optional(), n: z.number().int().optional().describe('1 = the first grant as listed') })
      .strict()
      .refine((p) => (p.grant === undefined) !== (p.n === undefined), { message: 'give either grant or n', path: ['grant'] }),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => {
      const zone = await zoneOf(ctx, p.zone);
      let grant = p.grant;
      if (p.n !== undefined) {
        const grants = await listUpdateGrants(ctx, zone);
        if (p.n < 1 || p.n > grants.length) throw new InvalidArgument(`zone ${zone} has no update grant ${p.n} (it has ${grants.length})`);
        grant = grants[p.n - 1];
      }
      await deleteUpdateGrant(ctx, zone, grant as string);
      return { zone, grants: await listUpdateGrants(ctx, zone) };
    },
  }),

  // ---- transfer rules -----------------------------------------------------------------------------------------------
  add_transfer_rule: op({
    name: 'add_transfer_rule',
    summary: 'Allow zone transfers of a zone or server group by TSIG key and/or client address prefix (both given: both must match)',
    params: z
      .object({ ...targetShape, key: keyNameParam.optional(), address: z.string().min(1).max(64).optional().describe('address or CIDR prefix') })
      .strict()
      .refine(oneTarget, ONE_TARGET)
      .refine((p) => p.key !== undefined || p.address !== undefined, { message: 'give key and/or address', path: ['key'] }),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, { zone, sg, ...rule }) => addTransferRule(ctx, await targetOf(ctx, 'add_transfer_rule', { zone, sg }), rule),
  }),
  list_transfer_rules: listEntriesOp('list_transfer_rules', 'The transfer rules of a zone or server group; without either, every rule', listTransferRules),
  delete_transfer_rule: deleteEntryOp('delete_transfer_rule', 'Delete a transfer rule by id', listTransferRules, deleteTransferRule),

  // ---- also-notify --------------------------------------------------------------------------------------------------
  add_also_notify: op({
    name: 'add_also_notify',
    summary: 'NOTIFY an address on every publish of a zone or of the zones of a server group',
    params: z
      .object({
        ...targetShape,
        address: z.string().min(1).max(64).describe('IPv4 or IPv6 address'),
        port: z.number().int().min(1).max(65535).optional().describe('default 53'),
        key: keyNameParam.optional().describe("sign with this key (default: the first key of the zone's transfer rules)"),
      })
      .strict()
      .refine(oneTarget, ONE_TARGET),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, { zone, sg, ...o }) => addAlsoNotify(ctx, await targetOf(ctx, 'add_also_notify', { zone, sg }), o),
  }),
  list_also_notify: listEntriesOp('list_also_notify', 'The also-notify targets of a zone or server group; without either, every one', listAlsoNotify),
  delete_also_notify: deleteEntryOp('delete_also_notify', 'Delete an also-notify target by id', listAlsoNotify, deleteAlsoNotify),

  // ---- NOTIFY queue -------------------------------------------------------------------------------------------------
  list_pending_notifies: op({
    name: 'list_pending_notifies',
    summary: 'NOTIFYs waiting to be sent or retried',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: async (ctx) => (await listEvents(ctx, { state: ['NEW', 'RETRY'] })).filter((e) => e.type === 'notify'),
  }),
} satisfies Record<string, Operation>;
