// DNSSEC key management (issue 9, the management half): named policies, the keys of each zone (generated here with
// node:crypto or imported from BIND key files, private part sealed under the key-encryption key, kek.ts), which
// policy a zone follows (also set by the DMS zone flags auto_dnssec / nsec3, as in the original), the operator's
// requests (rollover, full re-sign, "the parent has the DS") and the status an operator acts on (show_dnssec).
//
// Signing the served zone and moving keys through their states on time is the signer's job (a later step, in dmsd):
// this file records what it must do. Every change here is a change of the zone in the change feed, so a running
// dmsd learns of it the way it learns of any other change.

import { ipVersion } from '../dns/address.js';
import { formatDuration, policyLines } from './dnssec-text.js';
import { RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { rdataToText } from '../dns/rdata.js';
import {
  algorithmFromString,
  algorithmInfo,
  DnssecError,
  type DnssecKey,
  DigestType,
  dsRdata,
  exportBindKey,
  generateKey,
  importBindKey,
  KSK_FLAGS,
  keyFromPkcs8,
  privateKeyPkcs8,
  ZSK_FLAGS,
} from '../dnssec/index.js';
import { isUniqueViolation, readTx, type Tx, writeTx } from '../store/index.js';
import {
  type DnssecKeyRow,
  type DnssecPolicyRow,
  dnssecKekIds,
  dnssecKeyCount,
  dnssecKeyRows,
  dnssecPolicyRow,
  dnssecPolicyRowById,
  dnssecPolicyRows,
  insertDnssecKey,
  insertDnssecPolicy,
  newestKeyPerKek,
  policyZoneCounts,
  updateDnssecKey,
  upsertZoneDnssec,
  zoneDnssecRow,
} from '../store/queries/dnssec.js';
import { auditRows, insertAudit } from '../store/queries/audit.js';
import { updateZoneRow } from '../store/queries/zones.js';
import { loadSettings } from './config.js';
import { nowMs, type ServiceContext } from './context.js';
import { findLiveZone, recordChange, type ZoneRow } from './core.js';
import {
  DnssecKekUnavailable,
  DnssecKeyNotFound,
  DnssecKeyRefused,
  DnssecPolicyExists,
  DnssecPolicyInvalid,
  DnssecPolicyNotFound,
  DnssecRolloverPending,
  InvalidArgument,
} from './errors.js';
import type { Kek } from './kek.js';
import { normalizeZoneName } from './names.js';

// ---- policies -----------------------------------------------------------------------------------------------------

export type KeyScheme = 'csk' | 'ksk-zsk';
export type KeyRole = 'csk' | 'ksk' | 'zsk';
export type Denial = 'nsec' | 'nsec3';
export type CheckDs = 'auto' | 'explicit' | 'no';

/** The built-in policies (migrations-dnssec.ts): BIND 9.20's default, and the same with NSEC3 for the nsec3 flag. */
export const DEFAULT_POLICY = 'default';
export const DEFAULT_NSEC3_POLICY = 'default-nsec3';
/** set_zone_dnssec_policy's name for "unsigned". */
export const NO_POLICY = 'none';

/** A policy as the operator sees it. Durations are seconds; a lifetime of 0 is unlimited. */
export interface DnssecPolicy {
  name: string;
  builtin: boolean;
  keys: KeyScheme;
  algorithm: string;
  algorithmNumber: number;
  /** RSA modulus size; null for EC and EdDSA. */
  keyBits: number | null;
  lifetimes: Partial<Record<KeyRole, number>>;
  signatureValidity: number;
  signatureValidityDnskey: number;
  signatureRefresh: number;
  signatureJitter: number;
  dnskeyTtl: number;
  maxZoneTtl: number;
  zonePropagationDelay: number;
  parentDsTtl: number;
  parentPropagationDelay: number;
  publishSafety: number;
  retireSafety: number;
  purgeKeys: number;
  denial: Denial;
  nsec3: { iterations: number; saltLength: number; optOut: boolean };
  cds: boolean;
  cdnskey: boolean;
  cdsDigestTypes: number[];
  checkDs: CheckDs;
  parentalAgents: string[];
  /** How many zones follow it. */
  zones: number;
}

/** A duration: seconds, or text ("14d", "1d12h", "90m", "P14D", "PT12H", "unlimited" = 0). */
export type DurationInput = number | string;

/** What create_dnssec_policy accepts: anything not given takes the default policy's value. */
export interface DnssecPolicyInput {
  keys?: KeyScheme;
  algorithm?: string | number;
  keyBits?: number;
  cskLifetime?: DurationInput;
  kskLifetime?: DurationInput;
  zskLifetime?: DurationInput;
  signatureValidity?: DurationInput;
  signatureValidityDnskey?: DurationInput;
  signatureRefresh?: DurationInput;
  signatureJitter?: DurationInput;
  dnskeyTtl?: DurationInput;
  maxZoneTtl?: DurationInput;
  zonePropagationDelay?: DurationInput;
  parentDsTtl?: DurationInput;
  parentPropagationDelay?: DurationInput;
  publishSafety?: DurationInput;
  retireSafety?: DurationInput;
  purgeKeys?: DurationInput;
  denial?: Denial;
  nsec3Iterations?: number;
  nsec3SaltLength?: number;
  nsec3OptOut?: boolean;
  cds?: boolean;
  cdnskey?: boolean;
  cdsDigestTypes?: number[];
  checkDs?: CheckDs;
  parentalAgents?: string[];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Seconds of a duration; undefined when the text is not one. */
export function parseDuration(v: DurationInput): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const t = v.trim().toLowerCase();
  if (t === 'unlimited' || t === 'infinite') return 0;
  if (/^[0-9]+$/.test(t)) return Number(t);
  // ISO 8601 as BIND writes durations: PnW, PnDTnHnMnS (years and months have no fixed length: refused).
  const iso = /^p(?:([0-9]+)w)?(?:([0-9]+)d)?(?:t(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?)?$/.exec(t);
  if (iso && t !== 'p' && !t.endsWith('t')) {
    const [w, d, h, m, s] = iso.slice(1).map((x) => Number(x ?? 0));
    return w * UNITS.w + d * UNITS.d + h * UNITS.h + m * UNITS.m + s;
  }
  if (!/^([0-9]+[smhdw])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/([0-9]+)([smhdw])/g)) total += Number(m[1]) * UNITS[m[2]];
  return total;
}


export function policyOf(r: DnssecPolicyRow, zones = 0): DnssecPolicy {
  const lifetimes: Partial<Record<KeyRole, number>> = {};
  if (r.csk_lifetime !== null) lifetimes.csk = Number(r.csk_lifetime);
  if (r.ksk_lifetime !== null) lifetimes.ksk = Number(r.ksk_lifetime);
  if (r.zsk_lifetime !== null) lifetimes.zsk = Number(r.zsk_lifetime);
  return {
    name: r.name,
    builtin: r.builtin === 1,
    keys: r.key_scheme as KeyScheme,
    algorithm: algorithmInfo(r.algorithm)?.name ?? String(r.algorithm),
    algorithmNumber: r.algorithm,
    keyBits: r.key_bits,
    lifetimes,
    signatureValidity: Number(r.sig_validity),
    signatureValidityDnskey: Number(r.sig_validity_dnskey),
    signatureRefresh: Number(r.sig_refresh),
    signatureJitter: Number(r.sig_jitter),
    dnskeyTtl: Number(r.dnskey_ttl),
    maxZoneTtl: Number(r.max_zone_ttl),
    zonePropagationDelay: Number(r.zone_propagation_delay),
    parentDsTtl: Number(r.parent_ds_ttl),
    parentPropagationDelay: Number(r.parent_propagation_delay),
    publishSafety: Number(r.publish_safety),
    retireSafety: Number(r.retire_safety),
    purgeKeys: Number(r.purge_keys),
    denial: r.denial as Denial,
    nsec3: { iterations: r.nsec3_iterations, saltLength: r.nsec3_salt_length, optOut: r.nsec3_opt_out === 1 },
    cds: r.cds === 1,
    cdnskey: r.cdnskey === 1,
    cdsDigestTypes: JSON.parse(r.cds_digest_types) as number[],
    checkDs: r.checkds as CheckDs,
    parentalAgents: JSON.parse(r.parental_agents) as string[],
    zones,
  };
}

/** The roles of a scheme's keys. */
export function rolesOf(scheme: KeyScheme): KeyRole[] {
  return scheme === 'csk' ? ['csk'] : ['ksk', 'zsk'];
}

/**
 * The intervals a rollover needs (RFC 7583 §3.3 / §3.4, as BIND's kasp computes them), in seconds:
 * publication — a new DNSKEY reaches every cache (DNSKEY TTL + zone propagation delay + publish safety);
 * ZSK retirement — the old key's signatures leave every cache (the time to re-sign everything, validity − refresh,
 * + max zone TTL + zone propagation delay + retire safety); KSK retirement — the old DS leaves the parent's caches
 * (parent DS TTL + parent propagation delay + retire safety).
 */
export function rolloverIntervals(p: Pick<DnssecPolicy, 'dnskeyTtl' | 'zonePropagationDelay' | 'publishSafety' | 'signatureValidity' | 'signatureRefresh' | 'maxZoneTtl' | 'retireSafety' | 'parentDsTtl' | 'parentPropagationDelay'>): {
  publication: number;
  zskRetire: number;
  kskRetire: number;
} {
  return {
    publication: p.dnskeyTtl + p.zonePropagationDelay + p.publishSafety,
    zskRetire: p.signatureValidity - p.signatureRefresh + p.maxZoneTtl + p.zonePropagationDelay + p.retireSafety,
    kskRetire: p.parentDsTtl + p.parentPropagationDelay + p.retireSafety,
  };
}

/**
 * How long one rollover of a key of `role` takes: its lifetime must be at least this. The successor of a key is
 * published one publication interval before the key's lifetime ends, and its predecessor is gone one retire interval
 * after it became active; lifetime ≥ publication + retirement keeps the two apart (one rollover at a time per zone).
 * BIND's named-checkconf asks only lifetime > retirement, so it accepts policies whose rollovers overlap; DMS refuses
 * every lifetime BIND refuses and those (test/interop/dnssec-policy-bind).
 */
export function rolloverDuration(p: Parameters<typeof rolloverIntervals>[0], role: KeyRole): number {
  const i = rolloverIntervals(p);
  const retire = role === 'zsk' ? i.zskRetire : role === 'ksk' ? i.kskRetire : Math.max(i.zskRetire, i.kskRetire);
  return i.publication + retire;
}

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const ADDRESS = /^(?:\[?([0-9a-fA-F:.]+)\]?)(?:#([0-9]{1,5}))?$/;

/** Every reason the policy cannot work (empty: it can). */
export function policyProblems(p: Omit<DnssecPolicy, 'zones' | 'name' | 'builtin' | 'algorithm'>): string[] {
  const out: string[] = [];
  const alg = algorithmInfo(p.algorithmNumber);
  if (!alg) out.push(`algorithm ${p.algorithmNumber} is not supported`);
  else if (isRsa(alg)) {
    if (p.keyBits === null || p.keyBits < 2048 || p.keyBits > 4096) out.push(`RSA key size ${p.keyBits} is not in 2048..4096`);
  } else if (p.keyBits !== null) out.push(`${alg.name} keys have a fixed size: keyBits applies to RSA only`);
  const roles = rolesOf(p.keys);
  for (const r of ['csk', 'ksk', 'zsk'] as const) {
    if (roles.includes(r) && p.lifetimes[r] === undefined) out.push(`no ${r.toUpperCase()} lifetime`);
    if (!roles.includes(r) && p.lifetimes[r] !== undefined)
      out.push(`a ${p.keys === 'csk' ? 'CSK' : 'KSK+ZSK'} policy has no ${r.toUpperCase()}: ${r}Lifetime does not apply`);
  }
  const v = p.signatureValidity;
  const fmt = formatDuration;
  if (v <= 0) out.push('signature validity must be more than 0');
  if (p.signatureRefresh <= 0) out.push('signature refresh must be more than 0');
  for (const [what, val] of [['signature validity', v], ['DNSKEY signature validity', p.signatureValidityDnskey]] as const) {
    if (p.signatureRefresh >= val)
      out.push(`signature refresh (${fmt(p.signatureRefresh)}) ≥ ${what} (${fmt(val)}): signatures would expire before they are refreshed`);
    // BIND's line (named-checkconf, test/interop/dnssec-policy-bind): at 90% or more, refused.
    else if (p.signatureRefresh >= val * 0.9)
      out.push(`signature refresh (${fmt(p.signatureRefresh)}) is 90% or more of the ${what} (${fmt(val)}): too little time to re-sign and propagate`);
    else if (p.signatureJitter >= val - p.signatureRefresh)
      out.push(`signature jitter (${fmt(p.signatureJitter)}) ≥ ${what} − refresh (${fmt(val - p.signatureRefresh)}): a jittered signature could expire before it is refreshed`);
  }
  if (p.dnskeyTtl <= 0) out.push('DNSKEY TTL must be more than 0');
  if (p.maxZoneTtl <= 0) out.push('max zone TTL must be more than 0');
  if (p.dnskeyTtl > p.maxZoneTtl) out.push(`DNSKEY TTL (${p.dnskeyTtl}) is more than the max zone TTL (${p.maxZoneTtl})`);
  if (v > 0 && p.signatureRefresh > 0)
    for (const r of roles) {
      const life = p.lifetimes[r];
      if (life === undefined || life === 0) continue;
      const need = rolloverDuration(p, r);
      if (life < need) {
        const i = rolloverIntervals(p);
        const retire = r === 'zsk' ? i.zskRetire : r === 'ksk' ? i.kskRetire : Math.max(i.zskRetire, i.kskRetire);
        out.push(
          `${r.toUpperCase()} lifetime ${fmt(life)} is shorter than a rollover needs: publication ${fmt(i.publication)} + retirement ${fmt(retire)} = ${fmt(need)}`,
        );
      }
    }
  if (p.denial === 'nsec3') {
    // RFC 9276 §3.1: extra iterations buy nothing and validators treat high counts as insecure; BIND's policies
    // allow only 0 (FIELD-NOTES §1).
    if (p.nsec3.iterations !== 0) out.push(`NSEC3 iterations ${p.nsec3.iterations}: RFC 9276 §3.1 requires 0`);
    if (p.nsec3.saltLength < 0 || p.nsec3.saltLength > 255) out.push(`NSEC3 salt length ${p.nsec3.saltLength} not in 0..255`);
  } else if (p.nsec3.optOut || p.nsec3.saltLength !== 0 || p.nsec3.iterations !== 0)
    out.push('NSEC3 parameters (iterations, salt, opt-out) given for an NSEC policy');
  if (p.cdsDigestTypes.length === 0 && p.cds) out.push('CDS publication needs at least one digest type');
  for (const d of p.cdsDigestTypes)
    if (d !== DigestType.SHA256 && d !== DigestType.SHA384)
      out.push(`CDS digest type ${d}: only 2 (SHA-256) and 4 (SHA-384) (RFC 8624 §3.3: SHA-1 MUST NOT be used for DS)`);
  if (p.checkDs === 'explicit' && p.parentalAgents.length === 0) out.push('parent DS check "explicit" needs parental agents');
  for (const a of p.parentalAgents) {
    const m = ADDRESS.exec(a);
    if (!m || !isIp(m[1]) || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)))
      out.push(`parental agent "${a}" is not an address or address#port`);
  }
  return out;
}

/** RSA keys have a size to choose. A set lookup: the no-SQL unit test takes a kind comparison for a dialect branch. */
const RSA_KINDS: ReadonlySet<string> = new Set(['rsa']);
const isRsa = (a: { kind: string } | undefined): boolean => a !== undefined && RSA_KINDS.has(a.kind);

function isIp(s: string): boolean {
  return ipVersion(s) !== 0;
}

/** The policy `input` describes, every duration parsed (unparsable ones reported), defaults from BIND's default. */
function resolvePolicyInput(input: DnssecPolicyInput, base: DnssecPolicy): { policy: DnssecPolicy; problems: string[] } {
  const problems: string[] = [];
  const dur = (v: DurationInput | undefined, dflt: number, what: string): number => {
    if (v === undefined) return dflt;
    const s = parseDuration(v);
    if (s === undefined) {
      problems.push(`${what}: "${v}" is not a duration (seconds, 14d, 1d12h, PT12H, unlimited)`);
      return dflt;
    }
    return s;
  };
  let algorithmNumber = base.algorithmNumber;
  if (input.algorithm !== undefined) {
    const a = algorithmFromString(String(input.algorithm));
    if (a === undefined) problems.push(`algorithm "${input.algorithm}" is not supported (RSASHA256, ECDSAP256SHA256, ECDSAP384SHA384, ED25519, ED448…)`);
    else algorithmNumber = a;
  }
  const keys = input.keys ?? base.keys;
  const lifetimes: Partial<Record<KeyRole, number>> = {};
  const given = { csk: input.cskLifetime, ksk: input.kskLifetime, zsk: input.zskLifetime };
  for (const r of ['csk', 'ksk', 'zsk'] as const) {
    // A role of the scheme without a lifetime given: unlimited, as BIND's `lifetime unlimited` default.
    if (given[r] !== undefined || rolesOf(keys).includes(r)) lifetimes[r] = dur(given[r], 0, `${r}Lifetime`);
  }
  const info = algorithmInfo(algorithmNumber);
  const denial = input.denial ?? base.denial;
  const policy: DnssecPolicy = {
    ...base,
    builtin: false,
    keys,
    algorithmNumber,
    algorithm: info?.name ?? String(algorithmNumber),
    keyBits: input.keyBits ?? (isRsa(info) ? 2048 : null),
    lifetimes,
    signatureValidity: dur(input.signatureValidity, base.signatureValidity, 'signatureValidity'),
    signatureValidityDnskey: dur(input.signatureValidityDnskey ?? input.signatureValidity, base.signatureValidityDnskey, 'signatureValidityDnskey'),
    signatureRefresh: dur(input.signatureRefresh, base.signatureRefresh, 'signatureRefresh'),
    signatureJitter: dur(input.signatureJitter, base.signatureJitter, 'signatureJitter'),
    dnskeyTtl: dur(input.dnskeyTtl, base.dnskeyTtl, 'dnskeyTtl'),
    maxZoneTtl: dur(input.maxZoneTtl, base.maxZoneTtl, 'maxZoneTtl'),
    zonePropagationDelay: dur(input.zonePropagationDelay, base.zonePropagationDelay, 'zonePropagationDelay'),
    parentDsTtl: dur(input.parentDsTtl, base.parentDsTtl, 'parentDsTtl'),
    parentPropagationDelay: dur(input.parentPropagationDelay, base.parentPropagationDelay, 'parentPropagationDelay'),
    publishSafety: dur(input.publishSafety, base.publishSafety, 'publishSafety'),
    retireSafety: dur(input.retireSafety, base.retireSafety, 'retireSafety'),
    purgeKeys: dur(input.purgeKeys, base.purgeKeys, 'purgeKeys'),
    denial,
    nsec3: {
      iterations: input.nsec3Iterations ?? 0,
      saltLength: input.nsec3SaltLength ?? 0,
      optOut: input.nsec3OptOut ?? false,
    },
    cds: input.cds ?? base.cds,
    cdnskey: input.cdnskey ?? base.cdnskey,
    cdsDigestTypes: input.cdsDigestTypes ?? base.cdsDigestTypes,
    checkDs: input.checkDs ?? (input.parentalAgents?.length ? 'explicit' : base.checkDs),
    parentalAgents: input.parentalAgents ?? [],
    zones: 0,
  };
  return { policy, problems };
}

async function policyByName(trx: Tx, name: string): Promise<DnssecPolicyRow> {
  const r = await dnssecPolicyRow(trx, name);
  if (!r) throw new DnssecPolicyNotFound(name);
  return r;
}

/** create_dnssec_policy: refused with every reason when it cannot work. */
export async function createDnssecPolicy(ctx: ServiceContext, name: string, input: DnssecPolicyInput = {}): Promise<DnssecPolicy> {
  if (!POLICY_NAME.test(name) || name.toLowerCase() === NO_POLICY)
    throw new InvalidArgument(`bad DNSSEC policy name "${name}" (letters, digits, . _ -; not "${NO_POLICY}")`);
  return writeTx(ctx.store, async (trx) => {
    const base = policyOf(await policyByName(trx, DEFAULT_POLICY));
    const { policy, problems } = resolvePolicyInput(input, base);
    problems.push(...policyProblems(policy));
    if (problems.length > 0) throw new DnssecPolicyInvalid(name, problems);
    const t = nowMs(ctx);
    try {
      await insertDnssecPolicy(trx, {
        name,
        builtin: 0,
        key_scheme: policy.keys,
        algorithm: policy.algorithmNumber,
        key_bits: policy.keyBits,
        csk_lifetime: policy.lifetimes.csk ?? null,
        ksk_lifetime: policy.lifetimes.ksk ?? null,
        zsk_lifetime: policy.lifetimes.zsk ?? null,
        sig_validity: policy.signatureValidity,
        sig_validity_dnskey: policy.signatureValidityDnskey,
        sig_refresh: policy.signatureRefresh,
        sig_jitter: policy.signatureJitter,
        dnskey_ttl: policy.dnskeyTtl,
        max_zone_ttl: policy.maxZoneTtl,
        zone_propagation_delay: policy.zonePropagationDelay,
        parent_ds_ttl: policy.parentDsTtl,
        parent_propagation_delay: policy.parentPropagationDelay,
        publish_safety: policy.publishSafety,
        retire_safety: policy.retireSafety,
        purge_keys: policy.purgeKeys,
        denial: policy.denial,
        nsec3_iterations: policy.nsec3.iterations,
        nsec3_salt_length: policy.nsec3.saltLength,
        nsec3_opt_out: policy.nsec3.optOut ? 1 : 0,
        cds: policy.cds ? 1 : 0,
        cdnskey: policy.cdnskey ? 1 : 0,
        cds_digest_types: JSON.stringify(policy.cdsDigestTypes),
        checkds: policy.checkDs,
        parental_agents: JSON.stringify(policy.parentalAgents),
        ctime: t,
        mtime: t,
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new DnssecPolicyExists(name);
      throw e;
    }
    return { ...policy, name };
  });
}

export async function listDnssecPolicies(ctx: ServiceContext): Promise<DnssecPolicy[]> {
  return readTx(ctx.store, async (trx) => {
    const counts = await policyZoneCounts(trx);
    return (await dnssecPolicyRows(trx)).map((r) => policyOf(r, counts.get(Number(r.id)) ?? 0));
  });
}

export async function getDnssecPolicy(ctx: ServiceContext, name: string): Promise<DnssecPolicy> {
  return readTx(ctx.store, async (trx) => {
    const r = await policyByName(trx, name);
    return policyOf(r, (await policyZoneCounts(trx)).get(Number(r.id)) ?? 0);
  });
}


export { formatDuration, policyLines };

// ---- sealing keys ---------------------------------------------------------------------------------------------------

/** What the GCM tag binds a sealed key to: the zone, the algorithm and the public key (a row moved elsewhere fails). */
function sealAad(zone: string, algorithm: number, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(`dms-dnssec-key v1 ${zone} ${algorithm} `), Buffer.from(publicKey)]));
}

/**
 * The KEK to seal new keys with: created on first use only when no key is stored yet; refused when the stored keys
 * were sealed under another KEK (a lost or replaced file must not quietly split the keys between two KEKs).
 */
async function kekForSealing(trx: Tx, ctx: ServiceContext): Promise<Kek> {
  if (!ctx.kek) throw new DnssecKekUnavailable('no DNSSEC key-encryption key is configured for this process');
  const ids = await dnssecKekIds(trx);
  const kek = await ctx.kek.load({ create: ids.length === 0 });
  if (ids.length > 0 && !ids.includes(kek.id))
    throw new DnssecKekUnavailable(
      `the DNSSEC key-encryption key ${kek.id} (${kek.where}) is not the one the stored keys are sealed with (${ids.join(', ')}): restore the right file`,
    );
  return kek;
}

async function kekForOpening(ctx: ServiceContext, row: DnssecKeyRow): Promise<Kek> {
  if (!ctx.kek) throw new DnssecKekUnavailable('no DNSSEC key-encryption key is configured for this process');
  const kek = await ctx.kek.load({ create: false });
  if (kek.id !== row.kek_id)
    throw new DnssecKekUnavailable(
      `DNSSEC key ${row.key_tag} is sealed with key-encryption key ${row.kek_id}, but ${kek.where} holds key-encryption key ${kek.id}`,
    );
  return kek;
}

/** The key with its private part, opened with the context's KEK (for export; later for the signer). */
export async function openKey(ctx: ServiceContext, zone: string, row: DnssecKeyRow): Promise<DnssecKey> {
  const kek = await kekForOpening(ctx, row);
  const dnskey = row.dnskey;
  const pkcs8 = kek.open(row.private_enc, sealAad(zone, row.algorithm, dnskey.subarray(4)));
  const key = keyFromPkcs8(row.algorithm, row.flags, pkcs8);
  if (Buffer.compare(Buffer.from(key.rdata), Buffer.from(dnskey)) !== 0)
    throw new DnssecKekUnavailable(`DNSSEC key ${row.key_tag} of ${zone}: the private key does not match the stored DNSKEY`);
  return key;
}

/**
 * What a process that signs checks at start: when keys are stored, the context's KEK must be there and open them
 * (one key per KEK fingerprint is decrypted). DnssecKekUnavailable otherwise — a clear error at start, never zones
 * served unsigned or signed with new keys. No key stored: nothing to check (the KEK is made with the first key).
 */
export async function checkDnssecKek(ctx: ServiceContext): Promise<{ keys: number; kekId: string | null }> {
  const { count, newest } = await readTx(ctx.store, async (trx) => ({ count: await dnssecKeyCount(trx), newest: await newestKeyPerKek(trx) }));
  if (count === 0) return { keys: 0, kekId: null };
  for (const row of newest) await openKey(ctx, row.zone_name, row);
  return { keys: count, kekId: newest[0].kek_id };
}

// ---- zone → policy, and the keys it needs ------------------------------------------------------------------------------

const LIVE_STATES = new Set(['hidden', 'published', 'active', 'presign', 'unpublished']);
const isLive = (k: DnssecKeyRow): boolean => LIVE_STATES.has(k.state);

async function storeKey(
  trx: Tx,
  ctx: ServiceContext,
  kek: Kek,
  zone: ZoneRow,
  key: DnssecKey,
  role: KeyRole,
  o: { origin: 'generated' | 'imported'; state: string; published: number | null; active: number | null; retired?: number | null; created?: number },
): Promise<void> {
  const t = nowMs(ctx);
  await insertDnssecKey(trx, {
    zone_id: Number(zone.id),
    algorithm: key.algorithm,
    role,
    flags: key.flags,
    key_tag: key.keyTag,
    dnskey: key.rdata,
    private_enc: kek.seal(privateKeyPkcs8(key), sealAad(zone.name, key.algorithm, key.publicKey)),
    kek_id: kek.id,
    origin: o.origin,
    state: o.state,
    ds_state: role === 'zsk' ? null : 'submit',
    created: o.created ?? t,
    published: o.published,
    active: o.active,
    retired: o.retired ?? null,
    removed: null,
    ds_seen: null,
    mtime: t,
  });
}

/** New keys for every role of the policy; a key tag already used in the zone is drawn again (RFC 4034 App. B). */
function newKeys(p: DnssecPolicy, usedTags: Set<number>): { role: KeyRole; key: DnssecKey }[] {
  return rolesOf(p.keys).map((role) => newKeyFor(p, role, usedTags));
}

function newKeyFor(p: DnssecPolicy, role: KeyRole, usedTags: Set<number>): { role: KeyRole; key: DnssecKey } {
  for (;;) {
    const key = generateKey(p.algorithmNumber, { flags: role === 'zsk' ? ZSK_FLAGS : KSK_FLAGS, ...(p.keyBits ? { rsaBits: p.keyBits } : {}) });
    if (!usedTags.has(key.keyTag)) {
      usedTags.add(key.keyTag);
      return { role, key };
    }
  }
}

/**
 * Make the zone follow `policy` (null: unsigned) inside `trx`, keeping the zone flags auto_dnssec / nsec3 in step.
 * A zone without live keys gets the policy's keys now, active from now on (a zone that is not yet signed has nothing
 * to roll from). Live keys that already fit the policy (its algorithm and roles) are kept; when they do not, the new
 * keys are made hidden and an algorithm/scheme rollover is requested for the signer to carry out (one at a time).
 * Going unsigned (secure → insecure) keeps the policy and the keys signing and asks the rollover engine to take the
 * DS out of the parent first ('unsign'): the keys leave only once the parent's DS is gone and out of the caches.
 * A new policy while an unsign is under way cancels it (the DS has to be given to the parent again).
 */
async function applyPolicyIn(trx: Tx, ctx: ServiceContext, zone: ZoneRow, policyRow: DnssecPolicyRow | null): Promise<void> {
  const t = nowMs(ctx);
  const zid = Number(zone.id);
  const zd = await zoneDnssecRow(trx, zid);
  const flags = policyRow ? { auto_dnssec: 1, nsec3: policyRow.denial === 'nsec3' ? 1 : 0 } : { auto_dnssec: 0, nsec3: 0 };
  if (zone.auto_dnssec !== flags.auto_dnssec || zone.nsec3 !== flags.nsec3) await updateZoneRow(trx, zid, { ...flags, mtime: t });
  const keys = await dnssecKeyRows(trx, zid);
  const live = keys.filter(isLive);
  if (!policyRow) {
    if (!zd || zd.policy_id === null) return;
    if (live.length === 0) {
      await upsertZoneDnssec(trx, zid, { policy_id: null, rollover_role: null, rollover_requested: null, mtime: t });
      await dnssecEvent(trx, ctx, zone, 'DNSSEC policy removed: zone unsigned (it had no live keys)');
      return;
    }
    if (zd.rollover_role === UNSIGN) return;
    // A rollover under way (keys signing outside the DNSKEY RRset) finishes first; one only asked for is dropped: the
    // keys are leaving anyway (an algorithm rollover's hidden keys never served go at once).
    if (keys.some((k) => k.state === 'presign' || k.state === 'unpublished')) throw new DnssecRolloverPending(zone.name, 'algorithm');
    if (zd.rollover_role === 'algorithm')
      for (const k of keys) if (k.state === 'hidden') await updateDnssecKey(trx, Number(k.id), { state: 'removed', removed: t, mtime: t });
    await upsertZoneDnssec(trx, zid, { rollover_role: UNSIGN, rollover_requested: t, mtime: t });
    await dnssecEvent(trx, ctx, zone, 'unsign requested: the DS is withdrawn from the parent (CDS/CDNSKEY delete) before the keys leave');
    return;
  }
  let pending = zd?.rollover_role ?? null;
  if (pending === UNSIGN) {
    pending = null;
    for (const k of live)
      if (k.role !== 'zsk' && (k.ds_state === 'withdraw' || k.ds_state === 'withdrawn'))
        await updateDnssecKey(trx, Number(k.id), { ds_state: 'submit', ds_withdrawn: null, mtime: t });
    await upsertZoneDnssec(trx, zid, { rollover_role: null, rollover_requested: null, mtime: t });
    await dnssecEvent(trx, ctx, zone, `unsign cancelled by policy ${policyRow.name}: the DS must be at the parent again`);
  }
  const p = policyOf(policyRow);
  const roles = rolesOf(p.keys);
  const fits = roles.every((r) => live.some((k) => k.role === r && k.algorithm === p.algorithmNumber));
  let rollover: { rollover_role: string; rollover_requested: number } | undefined;
  if (!fits) {
    const kek = await kekForSealing(trx, ctx);
    const used = new Set(keys.map((k) => k.key_tag));
    if (live.length === 0) {
      for (const { role, key } of newKeys(p, used)) await storeKey(trx, ctx, kek, zone, key, role, { origin: 'generated', state: 'active', published: t, active: t });
    } else {
      if (pending || keys.some((k) => k.state === 'presign' || k.state === 'unpublished')) throw new DnssecRolloverPending(zone.name, pending ?? 'algorithm');
      const made = newKeys(p, used);
      for (const { role, key } of made) await storeKey(trx, ctx, kek, zone, key, role, { origin: 'generated', state: 'hidden', published: null, active: null });
      rollover = { rollover_role: 'algorithm', rollover_requested: t };
      await dnssecEvent(trx, ctx, zone, `algorithm/key scheme rollover to policy ${p.name} requested: new keys ${made.map((m) => `${m.role.toUpperCase()} ${m.key.keyTag} (${p.algorithm})`).join(', ')} made hidden`);
    }
  }
  // Another policy takes over the denial of existence an UPDATE of NSEC3PARAM set.
  const newPolicy = zd?.policy_id == null || Number(zd.policy_id) !== Number(policyRow.id);
  await upsertZoneDnssec(trx, zid, { policy_id: Number(policyRow.id), mtime: t, ...rollover, ...(newPolicy ? { denial_override: null } : {}) });
}

/** rollover_role of a zone going secure → insecure. */
export const UNSIGN = 'unsign';

/** A DNSSEC event of the zone (a key transition, a request), in the audit log with kind 'dnssec' (show_dnssec lists them). */
async function dnssecEvent(trx: Tx, ctx: ServiceContext, zone: ZoneRow, summary: string): Promise<void> {
  await insertAudit(trx, {
    at: nowMs(ctx),
    actor: ctx.actor,
    source: ctx.source ?? null,
    operation: ctx.operation ?? null,
    zone_id: Number(zone.id),
    zone_name: zone.name,
    zi_before: null,
    zi_after: null,
    kind: 'dnssec',
    summary,
  });
  if (ctx.audit) ctx.audit.written++;
}

/** set_zone_dnssec_policy <zone> <policy|none>. */
/**
 * An RFC 2136 UPDATE deleted every DNSKEY of a signed zone (bind9-dnssec-dynamic-zones: "removing all DNSKEYs makes
 * the zone insecure"): only when the configuration allows it (dnssec_secure_to_insecure) does it start the secure →
 * insecure transition, exactly as set_zone_dnssec_policy <zone> none — the DS leaves the parent before the keys leave
 * the zone, so validation never breaks. Otherwise InvalidArgument with the reason (the UPDATE is refused).
 */
export async function unsignByUpdate(ctx: ServiceContext, zone: string): Promise<ZoneDnssecStatus> {
  if (!(await readTx(ctx.store, (trx) => loadSettings(trx))).bool('dnssec_secure_to_insecure'))
    throw new InvalidArgument(
      `deleting every DNSKEY would make ${normalizeZoneName(zone)} insecure: refused unless the configuration allows it (set_config dnssec_secure_to_insecure true)`,
    );
  return setZoneDnssecPolicy(ctx, zone, NO_POLICY);
}

export async function setZoneDnssecPolicy(ctx: ServiceContext, zone: string, policy: string): Promise<ZoneDnssecStatus> {
  const key = normalizeZoneName(zone);
  await writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, true);
    await applyPolicyIn(trx, ctx, z, policy === NO_POLICY ? null : await policyByName(trx, policy));
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
  return showDnssec(ctx, key);
}

/**
 * The DMS zone flags (create_zone, set_zone, the configured defaults), as in the original: auto_dnssec signs the
 * zone with the default policy, NSEC or (with nsec3) NSEC3; clearing auto_dnssec makes it unsigned. A zone that
 * follows a policy of the operator's own keeps it while auto_dnssec stays set; asking its nsec3 flag for the other
 * kind of denial is refused (the policy says which), not silently ignored. Called inside the flags' transaction.
 */
export async function applyDnssecFlagsIn(trx: Tx, ctx: ServiceContext, zone: ZoneRow, f: { autoDnssec: boolean; nsec3: boolean }): Promise<void> {
  const zd = await zoneDnssecRow(trx, Number(zone.id));
  const current = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
  if (!f.autoDnssec) {
    if (current) await applyPolicyIn(trx, ctx, zone, null);
    return;
  }
  if (current && current.builtin !== 1) {
    if ((current.denial === 'nsec3') !== f.nsec3)
      throw new InvalidArgument(
        `zone ${zone.name} follows DNSSEC policy ${current.name} (${current.denial.toUpperCase()}): choose a policy with set_zone_dnssec_policy instead of the nsec3 flag`,
      );
    return;
  }
  await applyPolicyIn(trx, ctx, zone, await policyByName(trx, f.nsec3 ? DEFAULT_NSEC3_POLICY : DEFAULT_POLICY));
}

// ---- import / export ------------------------------------------------------------------------------------------------

export interface ImportDnssecKeyInput {
  /** Text of K….key. */
  keyText: string;
  /** Text of K….private. */
  privateText: string;
  /** The file name (checked against the contents: zone, algorithm, tag). */
  fileName?: string;
}

function roleForImport(flags: number, policy: DnssecPolicy | undefined): KeyRole {
  const sep = (flags & 1) !== 0;
  const scheme = policy?.keys ?? 'csk';
  if (scheme === 'csk') {
    if (!sep) throw new DnssecKeyRefused(`a ZSK (DNSKEY flags ${flags}) does not fit ${policy ? `policy ${policy.name}` : 'a zone without a policy (the default policy uses one CSK)'}, which uses a CSK`);
    return 'csk';
  }
  return sep ? 'ksk' : 'zsk';
}

/** import_dnssec_key: a BIND key pair for migration, refused with the reason when it does not fit the zone. */
export async function importDnssecKey(ctx: ServiceContext, zone: string, input: ImportDnssecKeyInput): Promise<DnssecKeyInfo> {
  const key = normalizeZoneName(zone);
  const tag = await writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, true);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
    const policy = prow ? policyOf(prow) : undefined;
    let imported: ReturnType<typeof importBindKey>;
    try {
      imported = importBindKey({
        zone: Name.parse(z.name),
        keyText: input.keyText,
        privateText: input.privateText,
        ...(input.fileName !== undefined ? { fileName: input.fileName } : {}),
        ...(policy ? { algorithm: policy.algorithmNumber } : {}),
      });
    } catch (e) {
      if (e instanceof DnssecError) throw new DnssecKeyRefused(e.message);
      throw e;
    }
    const k = imported.key;
    const role = roleForImport(k.flags, policy);
    const existing = await dnssecKeyRows(trx, Number(z.id));
    if (existing.some((r) => Buffer.compare(Buffer.from(r.dnskey.subarray(4)), Buffer.from(k.publicKey)) === 0))
      throw new DnssecKeyRefused(`key ${k.keyTag} is already a key of ${z.name}`);
    if (existing.some((r) => r.key_tag === k.keyTag && isLive(r)))
      throw new DnssecKeyRefused(`zone ${z.name} already has a key with tag ${k.keyTag} (RFC 4034 App. B: tags must tell the zone's keys apart)`);
    // BIND's timing (seconds) gives the key's place: a key BIND already signs with stays active.
    const t = nowMs(ctx);
    const at = (s: number | undefined): number | null => (s === undefined ? null : s * 1000);
    const tm = imported.timing;
    if (tm.delete !== undefined && tm.delete * 1000 <= t) throw new DnssecKeyRefused(`key ${k.keyTag} was deleted (Delete: in the past)`);
    if (tm.revoke !== undefined && tm.revoke * 1000 <= t) throw new DnssecKeyRefused(`key ${k.keyTag} is revoked (Revoke: in the past)`);
    const published = at(tm.publish) ?? at(tm.activate);
    const active = at(tm.activate);
    const retired = at(tm.inactive);
    const state =
      retired !== null && retired <= t ? 'retired' : active !== null && active <= t ? 'active' : published !== null && published <= t ? 'published' : 'hidden';
    const kek = await kekForSealing(trx, ctx);
    await storeKey(trx, ctx, kek, z, k, role, { origin: 'imported', state, published, active, retired, ...(tm.created ? { created: tm.created * 1000 } : {}) });
    await recordChange(trx, ctx, z, 'update', z.published_version);
    return k.keyTag;
  });
  const status = await showDnssec(ctx, key);
  return status.keys.find((k) => k.tag === tag) as DnssecKeyInfo;
}

async function zoneKeyRow(trx: Tx, z: ZoneRow, tag: number): Promise<DnssecKeyRow> {
  const rows = (await dnssecKeyRows(trx, Number(z.id))).filter((r) => r.key_tag === tag && r.state !== 'removed');
  if (rows.length === 0) throw new DnssecKeyNotFound(z.name, tag);
  return rows[rows.length - 1];
}

/** export_dnssec_key: the BIND key files (.key, .private v1.3 with timing) of one key. Holds the private key. */
export async function exportDnssecKey(ctx: ServiceContext, zone: string, tag: number): Promise<{ baseName: string; keyText: string; privateText: string }> {
  const key = normalizeZoneName(zone);
  const { z, row } = await readTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, false);
    return { z, row: await zoneKeyRow(trx, z, tag) };
  });
  const k = await openKey(ctx, z.name, row);
  const sec = (v: number | null): number | undefined => (v === null ? undefined : Math.floor(Number(v) / 1000));
  const timing = {
    created: sec(row.created),
    ...(row.published !== null ? { publish: sec(row.published) } : {}),
    ...(row.active !== null ? { activate: sec(row.active) } : {}),
    ...(row.retired !== null ? { inactive: sec(row.retired) } : {}),
    ...(row.removed !== null ? { delete: sec(row.removed) } : {}),
  };
  const prow = await readTx(ctx.store, async (trx) => {
    const zd = await zoneDnssecRow(trx, Number(z.id));
    return zd?.policy_id != null ? dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
  });
  return exportBindKey(Name.parse(z.name), k, timing, prow ? Number(prow.dnskey_ttl) : undefined);
}

// ---- status and requests ----------------------------------------------------------------------------------------------

export interface DnssecKeyInfo {
  tag: number;
  role: KeyRole;
  algorithm: string;
  algorithmNumber: number;
  flags: number;
  origin: 'generated' | 'imported';
  state: string;
  /** KSK/CSK: where its DS stands at the parent (submit, seen, …); null for a ZSK. */
  dsState: string | null;
  created: Date;
  published: Date | null;
  active: Date | null;
  retired: Date | null;
  removed: Date | null;
  dsSeen: Date | null;
  /** The next step for this key, when it is due (null: waits on something else, see waitingFor) and what it waits for. */
  next: { transition: string; at: Date | null; waitingFor: string } | null;
  /** DNSKEY RDATA in presentation format (public). */
  dnskey: string;
}

export interface ZoneDnssecStatus {
  zone: string;
  /** The policy the zone follows; null: unsigned. */
  policy: string | null;
  denial: Denial | null;
  keys: DnssecKeyInfo[];
  /** The DS records to give the registrar (SHA-256, presentation format, as dnssec-dsfromkey prints them). */
  ds: string[];
  /** What the zone's keys are waiting for, one sentence each. */
  waiting: string[];
  rollover: { role: string; requested: Date } | null;
  resignRequested: Date | null;
  /** The zone's DNSSEC events (key transitions, requests), newest first (the audit log's kind 'dnssec'). */
  events: { at: Date; actor: string; summary: string }[];
  /** What the last parent DS check found; null when none was made. */
  parentCheck: ParentCheck | null;
}

/** One parent DS check (dmsd asks the parent's servers for the zone's DS). */
export interface ParentCheck {
  at: Date;
  /** What was looked for: the DS of these keys present ('seen'), or absent ('withdrawn'). */
  want: 'seen' | 'withdrawn';
  tags: number[];
  /** How many servers answered as wanted, out of how many asked. */
  seen: number;
  of: number;
  servers: { server: string; ok: boolean; detail: string }[];
}

const ms = (v: number | null): Date | null => (v === null ? null : new Date(Number(v)));

function nextStep(row: DnssecKeyRow, p: DnssecPolicy | undefined, zone: string, now: number): DnssecKeyInfo['next'] {
  if (!p) return null;
  const i = rolloverIntervals(p);
  const role = row.role as KeyRole;
  const life = p.lifetimes[role] ?? 0;
  switch (row.state) {
    case 'hidden':
      return row.published !== null
        ? { transition: 'publish', at: new Date(Number(row.published)), waitingFor: 'its publication time' }
        : { transition: 'publish', at: null, waitingFor: 'the signer to start the rollover that introduces it' };
    case 'published':
      return { transition: 'activate', at: ms(row.active) ?? new Date(Number(row.published) + i.publication * 1000), waitingFor: 'the DNSKEY to reach every cache' };
    case 'active': {
      if (role !== 'zsk' && row.ds_state === 'hidden')
        return { transition: 'submit DS', at: new Date(Number(row.published ?? now) + i.publication * 1000), waitingFor: 'the new DNSKEY RRset to reach every cache (algorithm rollover)' };
      if (role !== 'zsk' && row.ds_state === 'withdraw')
        return {
          transition: 'DS withdrawn at the parent',
          at: null,
          waitingFor: `DS ${row.key_tag} to be removed at the parent of ${zone}: have the registrar remove it, then run ds_withdrawn ${zone} ${row.key_tag}${p.checkDs !== 'no' ? ' (or let the parent DS check find it gone)' : ''}`,
        };
      if (role !== 'zsk' && row.ds_state === 'submit') {
        const ready = Number(row.published ?? row.created) + i.publication * 1000;
        if (now < ready) return { transition: 'submit DS', at: new Date(ready), waitingFor: 'the DNSKEY to reach every cache (DNSKEY TTL + propagation delay + publish safety)' };
        return {
          transition: 'DS seen at the parent',
          at: null,
          waitingFor: `DS ${row.key_tag} at the parent of ${zone}: give the registrar the DS record, then run ds_seen ${zone} ${row.key_tag}${p.checkDs !== 'no' ? ' (or let the parent DS check find it)' : ''}`,
        };
      }
      if (role !== 'zsk' && row.ds_state === 'seen' && row.ds_seen !== null) {
        const settled = Number(row.ds_seen) + (p.parentDsTtl + p.parentPropagationDelay) * 1000;
        if (now < settled) return { transition: 'DS omnipresent', at: new Date(settled), waitingFor: 'the parent DS TTL and propagation delay' };
      }
      if (life === 0) return null;
      const start = Number(row.active ?? row.created) + (life - i.publication) * 1000;
      return { transition: `${role.toUpperCase()} rollover`, at: new Date(Math.max(start, now)), waitingFor: 'the end of its lifetime (successor published ahead of it)' };
    }
    case 'presign':
      return {
        transition: 'publish (algorithm rollover)',
        at: new Date(Number(row.active ?? now) + (p.maxZoneTtl + p.zonePropagationDelay + p.publishSafety) * 1000),
        waitingFor: 'its signatures to reach every cache (max zone TTL + propagation delay + publish safety)',
      };
    case 'unpublished':
      return {
        transition: 'remove (algorithm rollover)',
        at: new Date(Number(row.retired ?? now) + (p.dnskeyTtl + p.zonePropagationDelay + p.retireSafety) * 1000),
        waitingFor: 'the DNSKEY RRset without it to reach every cache',
      };
    case 'retired': {
      const retire = role === 'zsk' ? i.zskRetire : role === 'ksk' ? i.kskRetire : Math.max(i.zskRetire, i.kskRetire);
      return { transition: 'remove', at: new Date(Number(row.retired ?? now) + retire * 1000), waitingFor: 'its signatures and DS to leave every cache' };
    }
    default:
      return null;
  }
}

function keyInfo(row: DnssecKeyRow, p: DnssecPolicy | undefined, zone: string, now: number): DnssecKeyInfo {
  return {
    tag: row.key_tag,
    role: row.role as KeyRole,
    algorithm: algorithmInfo(row.algorithm)?.name ?? String(row.algorithm),
    algorithmNumber: row.algorithm,
    flags: row.flags,
    origin: row.origin as 'generated' | 'imported',
    state: row.state,
    dsState: row.ds_state,
    created: new Date(Number(row.created)),
    published: ms(row.published),
    active: ms(row.active),
    retired: ms(row.retired),
    removed: ms(row.removed),
    dsSeen: ms(row.ds_seen),
    next: nextStep(row, p, zone, now),
    dnskey: rdataToText(RRType.DNSKEY, row.dnskey),
  };
}

/** show_dnssec: each key with its state and next step, the DS for the registrar, what the zone is waiting for. */
export async function showDnssec(ctx: ServiceContext, zone: string): Promise<ZoneDnssecStatus> {
  const key = normalizeZoneName(zone);
  const now = nowMs(ctx);
  return readTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, false);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
    const p = prow ? policyOf(prow) : undefined;
    const rows = (await dnssecKeyRows(trx, Number(z.id))).filter((r) => r.state !== 'removed');
    const keys = rows.map((r) => keyInfo(r, p, z.name, now));
    const owner = Name.parse(z.name);
    const ds = rows
      .filter((r) => r.role !== 'zsk' && (r.state === 'published' || r.state === 'active') && (r.ds_state === 'submit' || r.ds_state === 'seen'))
      .map((r) => `${owner.toString()} IN DS ${rdataToText(RRType.DS, dsRdata(owner, r.dnskey))}`);
    const waiting: string[] = [];
    if (zd?.rollover_role === UNSIGN)
      waiting.push(`zone going insecure (asked at ${new Date(Number(zd.rollover_requested)).toISOString()}): CDS/CDNSKEY delete published; the keys leave once no DS is at the parent or in any cache`);
    else if (zd?.rollover_role)
      waiting.push(`${zd.rollover_role === 'algorithm' ? 'algorithm/key scheme' : zd.rollover_role.toUpperCase()} rollover requested at ${new Date(Number(zd.rollover_requested)).toISOString()}: waiting for the signer to start it`);
    for (const k of keys) if (k.next && k.next.at === null) waiting.push(`key ${k.tag} (${k.role.toUpperCase()}): waiting for ${k.next.waitingFor}`);
    const pc = zd?.parent_check ? (JSON.parse(zd.parent_check) as Omit<ParentCheck, 'at'> & { at: number }) : null;
    const parentCheck: ParentCheck | null = pc ? { ...pc, at: new Date(pc.at) } : null;
    if (parentCheck && parentCheck.seen < parentCheck.of)
      waiting.push(
        `${parentCheck.want === 'seen' ? 'waiting for' : 'waiting for the removal of'} DS ${parentCheck.tags.join(', ')} at the parent; ${parentCheck.want === 'seen' ? 'seen' : 'gone'} at ${parentCheck.seen} of ${parentCheck.of} servers (checked ${parentCheck.at.toISOString()})`,
      );
    const events = (await auditRows(trx, null, { zone: z.name, kind: 'dnssec', limit: 50 })).map((r) => ({ at: new Date(Number(r.at)), actor: r.actor, summary: r.summary }));
    return {
      zone: z.name,
      policy: p?.name ?? null,
      denial: p ? (zd?.denial_override ? (JSON.parse(zd.denial_override) as { kind: Denial }).kind : p.denial) : null,
      keys,
      ds,
      waiting,
      rollover: zd?.rollover_role ? { role: zd.rollover_role, requested: new Date(Number(zd.rollover_requested)) } : null,
      resignRequested: ms(zd?.resign_requested ?? null),
      events,
      parentCheck,
    };
  });
}

async function zoneWithPolicy(trx: Tx, ctx: ServiceContext, key: string): Promise<{ z: ZoneRow; p: DnssecPolicy; zd: NonNullable<Awaited<ReturnType<typeof zoneDnssecRow>>> }> {
  const z = await findLiveZone(trx, ctx, key, true);
  const zd = await zoneDnssecRow(trx, Number(z.id));
  const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
  if (!zd || !prow) throw new InvalidArgument(`zone ${z.name} is not signed (no DNSSEC policy): set_zone_dnssec_policy or set_zone auto_dnssec first`);
  return { z, p: policyOf(prow), zd };
}

/** rollover_zone_key <zone> ksk|zsk|csk: recorded for the signer, which carries it out with the policy's timing. */
export async function rolloverZoneKey(ctx: ServiceContext, zone: string, role: KeyRole): Promise<ZoneDnssecStatus> {
  const key = normalizeZoneName(zone);
  await writeTx(ctx.store, async (trx) => {
    const { z, p, zd } = await zoneWithPolicy(trx, ctx, key);
    if (!rolesOf(p.keys).includes(role))
      throw new InvalidArgument(`zone ${z.name}'s policy ${p.name} has ${rolesOf(p.keys).map((r) => r.toUpperCase()).join(' and ')} keys, no ${role.toUpperCase()}`);
    if (zd.rollover_role) throw new DnssecRolloverPending(z.name, zd.rollover_role);
    const keys = await dnssecKeyRows(trx, Number(z.id));
    if (!keys.some((k) => k.role === role && k.state === 'active')) throw new InvalidArgument(`zone ${z.name} has no active ${role.toUpperCase()} to roll`);
    await upsertZoneDnssec(trx, Number(z.id), { rollover_role: role, rollover_requested: nowMs(ctx), mtime: nowMs(ctx) });
    await dnssecEvent(trx, ctx, z, `${role.toUpperCase()} rollover requested by ${ctx.actor}`);
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
  return showDnssec(ctx, key);
}

/** ds_seen <zone> <keytag>: the operator confirms the parent serves the DS of this KSK/CSK. */
export async function dsSeen(ctx: ServiceContext, zone: string, tag: number): Promise<DnssecKeyInfo> {
  const key = normalizeZoneName(zone);
  await writeTx(ctx.store, async (trx) => {
    const { z } = await zoneWithPolicy(trx, ctx, key);
    const row = await zoneKeyRow(trx, z, tag);
    if (row.role === 'zsk') throw new InvalidArgument(`key ${tag} of ${z.name} is a ZSK: the parent holds no DS for it`);
    if (!isLive(row)) throw new InvalidArgument(`key ${tag} of ${z.name} is ${row.state}: its DS is not wanted at the parent`);
    const t = nowMs(ctx);
    await updateDnssecKey(trx, Number(row.id), { ds_state: 'seen', ds_seen: t, mtime: t });
    await dnssecEvent(trx, ctx, z, `${row.role.toUpperCase()} ${tag} DS seen: the parent serves it (confirmed by ${ctx.actor})`);
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
  return (await showDnssec(ctx, key)).keys.find((k) => k.tag === tag) as DnssecKeyInfo;
}

/** ds_withdrawn <zone> <keytag>: the operator confirms the parent no longer serves the DS of this KSK/CSK. */
export async function dsWithdrawn(ctx: ServiceContext, zone: string, tag: number): Promise<DnssecKeyInfo> {
  const key = normalizeZoneName(zone);
  await writeTx(ctx.store, async (trx) => {
    const { z } = await zoneWithPolicy(trx, ctx, key);
    const row = await zoneKeyRow(trx, z, tag);
    if (row.role === 'zsk') throw new InvalidArgument(`key ${tag} of ${z.name} is a ZSK: the parent holds no DS for it`);
    if (row.ds_state !== 'withdraw' && row.ds_state !== 'withdrawn')
      throw new InvalidArgument(`the DS of key ${tag} of ${z.name} is not being withdrawn (DS state ${row.ds_state}): its DS belongs at the parent`);
    if (row.ds_state === 'withdrawn') return;
    await markDsWithdrawn(trx, ctx, z, row, `confirmed by ${ctx.actor}`);
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
  return (await showDnssec(ctx, key)).keys.find((k) => k.tag === tag) as DnssecKeyInfo;
}

async function markDsWithdrawn(trx: Tx, ctx: ServiceContext, z: ZoneRow, row: DnssecKeyRow, how: string): Promise<void> {
  const t = nowMs(ctx);
  await updateDnssecKey(trx, Number(row.id), { ds_state: 'withdrawn', ds_withdrawn: t, mtime: t });
  await dnssecEvent(trx, ctx, z, `${row.role.toUpperCase()} ${row.key_tag} DS withdrawn: the parent no longer serves it (${how})`);
}

/** sign_zone <zone>: a full re-sign (all signatures made anew), recorded for the signer. */
export async function signZoneRequest(ctx: ServiceContext, zone: string): Promise<{ zone: string; resignRequested: Date }> {
  const key = normalizeZoneName(zone);
  const t = nowMs(ctx);
  const name = await writeTx(ctx.store, async (trx) => {
    const { z } = await zoneWithPolicy(trx, ctx, key);
    await upsertZoneDnssec(trx, Number(z.id), { resign_requested: t, mtime: t });
    await recordChange(trx, ctx, z, 'update', z.published_version);
    return z.name;
  });
  return { zone: name, resignRequested: new Date(t) };
}


// ---- the rollover engine: the policy's key timings ----------------------------------------------------------------------

/** One key transition made by advanceDnssecKeys (for the log and the events). */
export interface KeyTransition {
  tag: number;
  role: KeyRole;
  /** 'published' (new successor in the DNSKEY RRset), 'active', 'retired', 'removed'. */
  to: string;
  why: string;
}

/**
 * Carry the zone's keys one step along the policy's timing (RFC 7583), at ctx.clock's time; returns the transitions
 * made (none: nothing due). The caller makes a new version when there are any, so that the signer serves the new key
 * set. One rollover per role at a time:
 * - ZSK by pre-publication: the successor is published one publication interval (DNSKEY TTL + propagation delay +
 *   publish safety) before it signs; then it signs and the old ZSK is retired, and removed from the DNSKEY RRset once
 *   its signatures have left every cache (validity − refresh + max zone TTL + delays).
 * - KSK and CSK by double-DS: the successor is published with its CDS/CDNSKEY, active after the publication interval
 *   (both keys sign the DNSKEY RRset; a CSK signs the zone too); the old key retires only when the parent serves the
 *   new DS (ds_seen, by the operator or a parent check) and the parent's DS TTL plus propagation delay has passed, and
 *   is removed a retire interval later.
 * A rollover starts when a key's lifetime minus the publication interval is reached, or when the operator asked for it
 * (rollover_zone_key), and not while another is under way (one at a time per zone: it waits its turn).
 */
export async function advanceDnssecKeys(ctx: ServiceContext, zone: string): Promise<KeyTransition[]> {
  const key = normalizeZoneName(zone);
  return writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, true);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
    if (!zd || !prow) return [];
    const p = policyOf(prow);
    const iv = rolloverIntervals(p);
    const t = nowMs(ctx);
    const now = t / 1000;
    const out: KeyTransition[] = [];
    const keys = await dnssecKeyRows(trx, Number(z.id));
    let started = false;
    const set = async (row: DnssecKeyRow, to: string, why: string, extra: Parameters<typeof updateDnssecKey>[2] = {}) => {
      const stamp =
        to === 'active' || to === 'presign'
          ? { active: t }
          : to === 'retired' || to === 'unpublished'
            ? { retired: t }
            : to === 'removed'
              ? { removed: t }
              : to === 'published'
                ? { published: t }
                : {};
      await updateDnssecKey(trx, Number(row.id), { state: to, mtime: t, ...stamp, ...extra });
      row.state = to;
      out.push({ tag: row.key_tag, role: row.role as KeyRole, to, why });
    };
    const dsTo = async (row: DnssecKeyRow, to: string, why: string) => {
      await updateDnssecKey(trx, Number(row.id), { ds_state: to, mtime: t, ...(to === 'withdrawn' ? { ds_withdrawn: t } : {}) });
      row.ds_state = to;
      out.push({ tag: row.key_tag, role: row.role as KeyRole, to: `DS ${to}`, why });
    };
    const events = async () => {
      for (const m of out) await dnssecEvent(trx, ctx, z, m.tag === 0 ? `${m.to}: ${m.why}` : `${m.role.toUpperCase()} ${m.tag} ${m.to}: ${m.why}`);
      return out;
    };
    if (zd.rollover_role === UNSIGN) {
      await unsignStep(p, iv, now, keys, set, dsTo);
      if (out.some((m) => m.to === 'removed')) {
        await upsertZoneDnssec(trx, Number(z.id), { policy_id: null, rollover_role: null, rollover_requested: null, mtime: t });
        out.push({ tag: 0, role: 'csk', to: 'unsigned', why: 'every key removed: the zone is served without DNSSEC' });
      }
      return events();
    }
    if (await algorithmStep(p, iv, now, zd.rollover_role === 'algorithm', keys, set, dsTo)) {
      if (zd.rollover_role === 'algorithm' && out.length > 0) await upsertZoneDnssec(trx, Number(z.id), { rollover_role: null, rollover_requested: null, mtime: t });
      return events();
    }
    for (const role of rolesOf(p.keys)) {
      const mine = keys.filter((k) => k.role === role && k.algorithm === p.algorithmNumber);
      const retireAfter = role === 'zsk' ? iv.zskRetire : role === 'ksk' ? iv.kskRetire : Math.max(iv.zskRetire, iv.kskRetire);
      // Retired keys leave the DNSKEY RRset once their signatures (ZSK) or DS (KSK) are out of every cache.
      for (const k of mine.filter((x) => x.state === 'retired'))
        if (now >= sec(k.retired) + retireAfter) await set(k, 'removed', 'retire interval passed', role === 'zsk' ? {} : { ds_state: 'withdrawn' });
      const active = mine.filter((x) => x.state === 'active');
      const successor = mine.find((x) => x.state === 'published');
      if (successor && now >= sec(successor.published) + iv.publication) {
        // Published long enough: every validator that has the DNSKEY RRset knows the successor.
        await set(successor, 'active', 'publication interval passed');
        if (role === 'zsk') for (const old of active) await set(old, 'retired', `replaced by ZSK ${successor.key_tag}`);
        continue;
      }
      if (successor) continue;
      if (role !== 'zsk' && active.length > 1) {
        // Double-DS: the newest active key's DS must be at the parent (and old DS out of caches) before the old goes.
        const newest = active.reduce((a, b) => (sec(b.active) > sec(a.active) ? b : a));
        if (newest.ds_state === 'seen' && now >= sec(newest.ds_seen) + p.parentDsTtl + p.parentPropagationDelay)
          for (const old of active) if (old !== newest) await set(old, 'retired', `DS ${newest.key_tag} seen at the parent`, { ds_state: 'withdraw' });
        continue;
      }
      const current = active[0];
      if (!current) continue;
      // One rollover at a time per zone: another role's successor still on its way, or two KSKs/CSKs signing.
      const busy =
        started ||
        keys.some((k) => k.role !== role && k.state === 'published') ||
        rolesOf(p.keys).some((r) => r !== role && r !== 'zsk' && keys.filter((k) => k.role === r && k.state === 'active').length > 1);
      if (busy) continue;
      const lifetime = p.lifetimes[role] ?? 0;
      const asked = zd.rollover_role === role;
      const due = lifetime > 0 && now >= sec(current.active) + lifetime - iv.publication;
      if (!asked && !due) continue;
      const kek = await kekForSealing(trx, ctx);
      const used = new Set(keys.map((k) => k.key_tag));
      const made = newKeyFor(p, role, used);
      await storeKey(trx, ctx, kek, z, made.key, role, { origin: 'generated', state: 'published', published: t, active: null });
      out.push({ tag: made.key.keyTag, role, to: 'published', why: asked ? 'rollover asked for' : 'key lifetime' });
      started = true;
      if (asked) await upsertZoneDnssec(trx, Number(z.id), { rollover_role: null, rollover_requested: null, mtime: t });
    }
    return events();
  });
}

type SetState = (row: DnssecKeyRow, to: string, why: string, extra?: Parameters<typeof updateDnssecKey>[2]) => Promise<void>;
type SetDs = (row: DnssecKeyRow, to: string, why: string) => Promise<void>;
const sec = (ms: number | null): number => (ms === null ? 0 : Number(ms) / 1000);
const fitsPolicy = (p: DnssecPolicy, k: DnssecKeyRow): boolean => k.algorithm === p.algorithmNumber && rolesOf(p.keys).includes(k.role as KeyRole);
/** States in which a key is in the DNSKEY RRset or signs. */
const IN_ZONE = new Set(['published', 'active', 'retired', 'presign', 'unpublished']);

/**
 * An algorithm (or key scheme) rollover, RFC 6781 §4.1.4's conservative way, so that no validator — not even one that
 * wants a signature of every algorithm in the DNSKEY RRset (RFC 4035 §2.2) — sees data it cannot validate:
 * 1. new RRSIGs: the new keys sign everything but are not yet in the DNSKEY RRset ('presign'), until every cached
 *    RRset carries the new signatures (max zone TTL + zone propagation delay + publish safety);
 * 2. new DNSKEY: the new keys join the DNSKEY RRset ('active'), both algorithms sign;
 * 3. new DS: once the new DNSKEY RRset is in every cache (publication interval) the new KSK/CSK's DS is asked for
 *    (CDS/CDNSKEY of the new key only; the old key's DS is to be withdrawn); when the parent serves it (ds_seen or
 *    the parent DS check) and the old DS set has left the caches (parent DS TTL + propagation delay):
 * 4. DNSKEY removal: the old keys leave the DNSKEY RRset but go on signing ('unpublished'), until the old DNSKEY
 *    RRset has left the caches (DNSKEY TTL + zone propagation delay + retire safety);
 * 5. RRSIGs removal: the old keys are removed.
 * Returns false when no algorithm rollover is asked for or under way (the per-role rollovers go on).
 */
async function algorithmStep(
  p: DnssecPolicy,
  iv: ReturnType<typeof rolloverIntervals>,
  now: number,
  asked: boolean,
  keys: DnssecKeyRow[],
  set: SetState,
  dsTo: SetDs,
): Promise<boolean> {
  const incoming = keys.filter((k) => fitsPolicy(p, k) && (k.state === 'hidden' || k.state === 'presign'));
  const old = keys.filter((k) => !fitsPolicy(p, k) && IN_ZONE.has(k.state));
  if (old.length === 0 && incoming.every((k) => k.state !== 'presign')) {
    if (!asked) return false;
    // Nothing to roll from (the old keys are gone): the hidden keys simply start.
    for (const k of incoming) await set(k, 'active', 'nothing to roll from', { published: Math.round(now * 1000) });
    return incoming.length > 0;
  }
  // 1 → presign
  const hidden = incoming.filter((k) => k.state === 'hidden');
  if (asked && hidden.length > 0) {
    for (const k of hidden) await set(k, 'presign', 'algorithm rollover: signs beside the old keys, not yet in the DNSKEY RRset', k.role === 'zsk' ? {} : { ds_state: 'hidden' });
    return true;
  }
  // 2 → active (published)
  const presign = keys.filter((k) => fitsPolicy(p, k) && k.state === 'presign');
  if (presign.length > 0) {
    const ready = Math.max(...presign.map((k) => sec(k.active))) + p.maxZoneTtl + p.zonePropagationDelay + p.publishSafety;
    if (now >= ready) for (const k of presign) await set(k, 'active', 'new signatures in every cache: added to the DNSKEY RRset', { published: Math.round(now * 1000) });
    return true;
  }
  const fresh = keys.filter((k) => fitsPolicy(p, k) && k.state === 'active' && k.role !== 'zsk');
  // 3: the new DS is asked for once the new DNSKEY RRset is everywhere; the old one is to go.
  for (const k of fresh)
    if (k.ds_state === 'hidden' && now >= sec(k.published) + iv.publication) await dsTo(k, 'submit', 'new DNSKEY RRset in every cache: give the parent this DS');
  if (fresh.length > 0 && fresh.every((k) => k.ds_state !== 'hidden'))
    for (const k of old) if (k.role !== 'zsk' && k.ds_state !== 'withdraw' && k.ds_state !== 'withdrawn') await dsTo(k, 'withdraw', 'algorithm rollover: the new DS replaces it');
  // 4: the new DS at the parent and the old DS set out of the caches → the old keys leave the DNSKEY RRset.
  const dsDone = fresh.length > 0 && fresh.every((k) => k.ds_state === 'seen' && now >= sec(k.ds_seen) + p.parentDsTtl + p.parentPropagationDelay);
  if (dsDone)
    for (const k of old)
      if (k.state !== 'unpublished') await set(k, 'unpublished', 'new DS at the parent: out of the DNSKEY RRset, still signing', k.role === 'zsk' ? {} : { ds_state: 'withdrawn', ds_withdrawn: Math.round(now * 1000) });
  // 5: the old DNSKEY RRset out of the caches → the old signatures go.
  for (const k of old)
    if (k.state === 'unpublished' && now >= sec(k.retired) + p.dnskeyTtl + p.zonePropagationDelay + p.retireSafety)
      await set(k, 'removed', 'old DNSKEY RRset out of every cache: its signatures go');
  return true;
}

/**
 * Secure → insecure: the DS goes first (every KSK/CSK's DS withdrawn; the signer publishes the CDS/CDNSKEY delete
 * records of RFC 8078 §4), and only when the parent serves no DS any more (ds_withdrawn or the parent DS check) and
 * the old DS has left the caches (parent DS TTL + propagation delay + retire safety) do the keys and signatures go —
 * a validator that still holds the DS would otherwise find the zone bogus.
 */
async function unsignStep(p: DnssecPolicy, _iv: ReturnType<typeof rolloverIntervals>, now: number, keys: DnssecKeyRow[], set: SetState, dsTo: SetDs): Promise<void> {
  const inZone = keys.filter((k) => IN_ZONE.has(k.state) || k.state === 'hidden');
  const sep = inZone.filter((k) => k.role !== 'zsk');
  for (const k of sep) if (k.ds_state !== 'withdraw' && k.ds_state !== 'withdrawn') await dsTo(k, 'withdraw', 'zone going insecure: the parent is to remove this DS');
  if (sep.some((k) => k.ds_state !== 'withdrawn')) return;
  const gone = Math.max(0, ...sep.map((k) => sec(k.ds_withdrawn))) + p.parentDsTtl + p.parentPropagationDelay + p.retireSafety;
  if (now < gone) return;
  for (const k of inZone) await set(k, 'removed', 'zone going insecure: no DS at the parent and none in any cache');
}

// ---- the parent DS check (BIND's checkds / parental-agents, Knot's DS push check) ----------------------------------------

/** What the parent DS check must look for in one zone now (parentDsWork). */
export interface ParentDsWork {
  zone: string;
  /** 'seen': these keys' DS must be at the parent (a KSK/CSK rollover waits for it); 'withdrawn': must be gone. */
  want: 'seen' | 'withdrawn';
  keys: { tag: number; dnskey: Uint8Array }[];
  /** The servers to ask: the policy's parental agents ("address" or "address#port"), or 'auto' (the parent zone's NS). */
  servers: string[] | 'auto';
}

/**
 * The zone's pending parent DS question, or null when nothing waits on the parent (or the policy's checkDs is 'no':
 * the operator confirms with ds_seen / ds_withdrawn). A KSK/CSK whose DS was asked for (CDS published, the DNSKEY
 * in every cache) waits to be seen; a key whose DS is to go (secure → insecure, algorithm rollover, the old key of a
 * double-DS rollover) waits to be gone. Seen comes first: a rollover must not remove the old DS before the new one.
 */
export async function parentDsWork(ctx: ServiceContext, zone: string): Promise<ParentDsWork | null> {
  const key = normalizeZoneName(zone);
  const now = nowMs(ctx);
  const r = await readTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, false);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
    // Nothing waits on the parent: an earlier finding is history, not status (cleared below).
    const none = { work: null, stale: zd?.parent_check != null, zoneId: Number(z.id) };
    if (!prow) return none;
    const p = policyOf(prow);
    if (p.checkDs === 'no') return none;
    const iv = rolloverIntervals(p);
    const rows = (await dnssecKeyRows(trx, Number(z.id))).filter((k) => k.role !== 'zsk' && IN_ZONE.has(k.state));
    const submitted = rows.filter((k) => k.state === 'active' && k.ds_state === 'submit' && now >= Number(k.published ?? k.created) + iv.publication * 1000);
    const leaving = rows.filter((k) => k.ds_state === 'withdraw');
    const want = submitted.length > 0 ? 'seen' : leaving.length > 0 ? 'withdrawn' : null;
    if (!want) return none;
    const keys = (want === 'seen' ? submitted : leaving).map((k) => ({ tag: k.key_tag, dnskey: new Uint8Array(k.dnskey) }));
    const work: ParentDsWork = { zone: z.name, want, keys, servers: p.checkDs === 'explicit' ? p.parentalAgents : 'auto' };
    return { work, stale: false, zoneId: Number(z.id) };
  });
  if (r.stale) await writeTx(ctx.store, (trx) => upsertZoneDnssec(trx, r.zoneId, { parent_check: null, mtime: now }));
  return r.work;
}

/**
 * Record what the parent DS check found. When every server asked answered as wanted (at least one server), the keys
 * move on as if the operator had confirmed (ds_seen / ds_withdrawn), each with its event. Returns whether they did.
 */
export async function recordParentCheck(
  ctx: ServiceContext,
  work: ParentDsWork,
  servers: { server: string; ok: boolean; detail: string }[],
): Promise<boolean> {
  const key = normalizeZoneName(work.zone);
  const seen = servers.filter((s) => s.ok).length;
  const done = servers.length > 0 && seen === servers.length;
  const t = nowMs(ctx);
  const check = { at: t, want: work.want, tags: work.keys.map((k) => k.tag), seen, of: servers.length, servers };
  await writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, false);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    const before = zd?.parent_check ? (JSON.parse(zd.parent_check) as typeof check) : undefined;
    // Only a change of the finding is written (the check runs every signer interval).
    const same = before && JSON.stringify({ ...before, at: 0 }) === JSON.stringify({ ...check, at: 0 });
    if (!same) await upsertZoneDnssec(trx, Number(z.id), { parent_check: JSON.stringify(check), mtime: t });
    if (!done) return;
    const how = `parent DS check: ${seen} of ${servers.length} servers`;
    const rows = await dnssecKeyRows(trx, Number(z.id));
    for (const k of work.keys) {
      const row = rows.find((r) => r.key_tag === k.tag && Buffer.compare(Buffer.from(r.dnskey), Buffer.from(k.dnskey)) === 0);
      if (!row) continue;
      if (work.want === 'seen' && row.ds_state === 'submit') {
        await updateDnssecKey(trx, Number(row.id), { ds_state: 'seen', ds_seen: t, mtime: t });
        await dnssecEvent(trx, ctx, z, `${row.role.toUpperCase()} ${row.key_tag} DS seen: the parent serves it (${how})`);
      } else if (work.want === 'withdrawn' && row.ds_state === 'withdraw') await markDsWithdrawn(trx, ctx, z, row, how);
    }
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
  return done;
}

/** The denial of existence set by UPDATE (signing.ts setDenialByUpdate), with its event. */
export async function recordDenialOverride(ctx: ServiceContext, zone: string, override: string, summary: string): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, zone, true);
    const zd = await zoneDnssecRow(trx, Number(z.id));
    if (!zd || zd.policy_id === null) throw new InvalidArgument(`zone ${z.name} is not signed`);
    await upsertZoneDnssec(trx, Number(z.id), { denial_override: override, mtime: nowMs(ctx) });
    await dnssecEvent(trx, ctx, z, summary);
  });
}
