// Operations: DNSSEC policies and keys (issue 9). Policies are shared by every zone, so only staff define them; the
// key material itself (import, export) is for admins; the status (show_dnssec, with the DS for the registrar) is for
// whoever sees the zone.

import { z } from 'zod';
import {
  createDnssecPolicy,
  dsSeen,
  dsWithdrawn,
  exportDnssecKey,
  getDnssecPolicy,
  importDnssecKey,
  listDnssecPolicies,
  NO_POLICY,
  rolloverZoneKey,
  setZoneDnssecPolicy,
  showDnssec,
  signZoneRequest,
} from '../dnssec.js';
import { ADMIN_ONLY, ALL_TIERS, type Operation, op, STAFF } from './define.js';
import { zoneOf, zoneParam } from './zones.js';

const policyName = z.string().min(1).max(63);
const duration = z
  .union([z.number().int().nonnegative(), z.string().min(1).max(32)])
  .describe('seconds, or 14d / 1d12h / 90m / PT12H; "unlimited" (0) for a lifetime');
const keyTag = z.number().int().min(0).max(65535);

const policyFields = z
  .object({
    keys: z.enum(['csk', 'ksk-zsk']).describe('one combined signing key, or a KSK and a ZSK'),
    algorithm: z.union([z.string().min(1).max(32), z.number().int()]).describe('ECDSAP256SHA256 (default), ED25519, RSASHA256, … or its number'),
    keyBits: z.number().int().describe('RSA modulus size (2048..4096)'),
    cskLifetime: duration,
    kskLifetime: duration,
    zskLifetime: duration,
    signatureValidity: duration,
    signatureValidityDnskey: duration,
    signatureRefresh: duration,
    signatureJitter: duration,
    dnskeyTtl: duration,
    maxZoneTtl: duration,
    zonePropagationDelay: duration,
    parentDsTtl: duration,
    parentPropagationDelay: duration,
    publishSafety: duration,
    retireSafety: duration,
    purgeKeys: duration,
    denial: z.enum(['nsec', 'nsec3']),
    nsec3Iterations: z.number().int().min(0).max(65535),
    nsec3SaltLength: z.number().int().min(0).max(255),
    nsec3OptOut: z.boolean(),
    cds: z.boolean(),
    cdnskey: z.boolean(),
    cdsDigestTypes: z.array(z.number().int().min(0).max(255)).max(4),
    checkDs: z.enum(['auto', 'explicit', 'no']).describe('parent DS check: the parent zone\'s servers, only the parental agents, or by hand (ds_seen)'),
    parentalAgents: z.array(z.string().min(1).max(64)).max(32),
  })
  .partial()
  .strict();

export const DNSSEC_OPERATIONS = {
  create_dnssec_policy: op({
    name: 'create_dnssec_policy',
    summary: 'Create a DNSSEC policy (keys, algorithm, lifetimes, signature timing, NSEC/NSEC3, CDS, parent DS check)',
    params: z.object({ name: policyName, policy: policyFields.default({}) }).strict(),
    tiers: STAFF,
    mutates: true,
    run: (ctx, p) => createDnssecPolicy(ctx, p.name, p.policy),
  }),
  ls_dnssec_policy: op({
    name: 'ls_dnssec_policy',
    summary: 'List DNSSEC policies with how many zones follow each',
    params: z.object({}).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx) => listDnssecPolicies(ctx),
  }),
  show_dnssec_policy: op({
    name: 'show_dnssec_policy',
    summary: 'Show a DNSSEC policy',
    params: z.object({ name: policyName }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, p) => getDnssecPolicy(ctx, p.name),
  }),
  set_zone_dnssec_policy: op({
    name: 'set_zone_dnssec_policy',
    summary: `Sign a zone with a DNSSEC policy (its keys are made now), or "${NO_POLICY}" to make it unsigned`,
    params: z.object({ zone: zoneParam, policy: policyName }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => setZoneDnssecPolicy(ctx, await zoneOf(ctx, p.zone), p.policy),
  }),
  show_dnssec: op({
    name: 'show_dnssec',
    summary: "A zone's DNSSEC keys (state, next step and when), the DS records for the registrar and what it waits for",
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => showDnssec(ctx, await zoneOf(ctx, p.zone)),
  }),
  import_dnssec_key: op({
    name: 'import_dnssec_key',
    summary: 'Import a BIND key pair (K….key and K….private) into a zone, checked against the zone and its policy',
    params: z
      .object({
        zone: zoneParam,
        keyText: z.string().min(1).max(64 * 1024),
        privateText: z.string().min(1).max(64 * 1024),
        fileName: z.string().max(1100).optional().describe('the key file name, checked against the zone, algorithm and tag'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, { zone, ...o }) => importDnssecKey(ctx, await zoneOf(ctx, zone), o),
  }),
  export_dnssec_key: op({
    name: 'export_dnssec_key',
    summary: 'Export a zone key as BIND key files (.key and .private, private key included)',
    params: z.object({ zone: zoneParam, keyTag }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx, p) => exportDnssecKey(ctx, await zoneOf(ctx, p.zone), p.keyTag),
  }),
  rollover_zone_key: op({
    name: 'rollover_zone_key',
    summary: 'Ask for a rollover of the zone\'s KSK, ZSK or CSK (carried out by the signer with the policy\'s timing)',
    params: z.object({ zone: zoneParam, role: z.enum(['ksk', 'zsk', 'csk']) }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => rolloverZoneKey(ctx, await zoneOf(ctx, p.zone), p.role),
  }),
  ds_seen: op({
    name: 'ds_seen',
    summary: 'Confirm that the parent zone serves the DS of a KSK/CSK',
    params: z.object({ zone: zoneParam, keyTag }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => dsSeen(ctx, await zoneOf(ctx, p.zone), p.keyTag),
  }),
  ds_withdrawn: op({
    name: 'ds_withdrawn',
    summary: 'Confirm that the parent zone no longer serves the DS of a KSK/CSK (a rollover or going insecure goes on)',
    params: z.object({ zone: zoneParam, keyTag }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => dsWithdrawn(ctx, await zoneOf(ctx, p.zone), p.keyTag),
  }),
  sign_zone: op({
    name: 'sign_zone',
    summary: 'Ask for a full re-sign of a zone (every signature made anew)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, p) => signZoneRequest(ctx, await zoneOf(ctx, p.zone)),
  }),
} satisfies Record<string, Operation>;
