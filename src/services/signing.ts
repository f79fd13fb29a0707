// Serving signed zones (issue 9): what the process that signs needs from the database, and what every serving
// process reads. The signer records (RRSIG, NSEC/NSEC3, apex DNSKEY/CDS/CDNSKEY/NSEC3PARAM) live in their own table
// with the operator's version numbers (migrations-signing.ts), so the operator's history never shows them, a restart
// reads them back instead of signing again, and every dmsd on the database serves the same signatures.
//
// The flow: a version v of a zone with a DNSSEC policy is published → the signing process (dmsd's supervising
// process) computes the signer's change (src/dnssec SignedZone.apply on the operator's delta) and stores it with the
// mark "v signed" in one transaction (storeSignerChange) → a feed row wakes every process → each serves v with the
// signer rows alive at v. A version without its mark is not served by anyone (the previous signed one stays).

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import type { DnssecKey } from '../dnssec/keys.js';
import type { SignPolicy, ZoneKey } from '../dnssec/zone.js';
import { feedRowsOf, isUniqueViolation, readTx, type Tx, writeTx } from '../store/index.js';
import { dnssecKeyRows, dnssecPolicyRowById, upsertZoneDnssec, zoneDnssecRow } from '../store/queries/dnssec.js';
import { appendChange, servedZoneRow } from '../store/queries/feed.js';
import {
  type DnssecRecordRow,
  insertSignedMark,
  insertSignerRows,
  killAllSignerRows,
  killSignerRows,
  signedMark,
  signedMarkAtOrBelow,
  signerRowsAt,
  signerRowsAtOwners,
  signerRowsChangedBetween,
  type SignerZoneRead,
  signerZoneRow,
  zoneIdsWithPolicy,
  zoneNamesWithPolicy,
} from '../store/queries/signing.js';
import { ziRow } from '../store/queries/versions.js';
import { lockedZoneRowById } from '../store/queries/zones.js';
import { type ServiceContext, zoneScope } from './context.js';
import { packRows, servedRecordsPacked } from './core.js';
import { openKey, policyOf, recordDenialOverride, UNSIGN } from './dnssec.js';
import { InvalidArgument } from './errors.js';

const SIGNING_STATES: ReadonlySet<string> = new Set(['active', 'published', 'retired', 'presign', 'unpublished']);
import { normalizeZoneName } from './names.js';
import { publishedChangeIn } from './feed.js';
import type { PublishedChange } from './types.js';

/** What the signer needs for one zone: its policy in the signer's terms and the keys in force, private parts opened. */
export interface ZoneSigning {
  zoneId: number;
  origin: Name;
  policy: SignPolicy;
  keys: ZoneKey[];
  /** Identifies the signing keys (algorithm/tag/roles): stored with each signed version. */
  keySet: string;
  /** Signatures expiring within this many seconds are made again (the policy's signature refresh). */
  refresh: number;
  /** When the operator asked for a full re-sign (sign_zone) not yet done, ms since the epoch. */
  resignRequested: number | null;
}

/**
 * The zone's signing set-up, or null when it has no DNSSEC policy. The private keys are opened with ctx.kek: a
 * missing or wrong KEK is DnssecKekUnavailable (never a silently unsigned zone).
 */
export async function zoneSigning(
  ctx: ServiceContext,
  zone: string,
  o: {
    /**
     * The signing process's keys opened before, per zone: taken from here instead of decrypted again (the material
     * of a stored key never changes; ~4 ms per UPDATE on a signed zone). Left holding the zone's current keys.
     */
    opened?: Map<string, Map<string, DnssecKey>>;
  } = {},
): Promise<ZoneSigning | null> {
  const key = normalizeZoneName(zone);
  const read = await readTx(ctx.store, (trx) => signingRowsIn(trx, ctx, key));
  if (read) return openSigning(ctx, key, read, o);
  o.opened?.delete(key);
  return null;
}

/**
 * zoneSigning's rows: the served zone's, its zone_dnssec, its policy and its keys (null: no policy) — two statements
 * (signerZoneRow, the keys), or only the keys' when the first was read already (`read`).
 */
async function signingRowsIn(trx: Tx, ctx: ServiceContext, key: string, read?: SignerZoneRead) {
  const r = read ?? (await signerZoneRow(trx, zoneScope(ctx), key));
  if (!r) return null;
  const { z, zd, prow } = r;
  if (!zd || zd.policy_id === null || !prow) return null;
  return { z, zd, prow, keys: await dnssecKeyRows(trx, Number(z.id)) };
}

/**
 * What the signer reads for a new published version, in one read transaction: the zone's signing set-up
 * (zoneSigning), its published version and whether that is signed already, and — when the signer holds the zone
 * signed at `heldVersion` — the operator's change since (loadPublishedChange). 'held': the published version is
 * `heldVersion` and the zone still has its policy (nothing to do; no key opened). null: no policy, or not served.
 */
export async function signerRead(
  ctx: ServiceContext,
  zone: string,
  o: {
    opened?: Map<string, Map<string, DnssecKey>>;
    heldVersion?: number | undefined;
    /** The change since heldVersion is known already (the commit that made it said: CommittedChange): not read. */
    changeKnown?: boolean;
  },
): Promise<
  | { kind: 'held'; version: number }
  | { kind: 'sign'; s: ZoneSigning; version: number | null; signed: boolean; change?: PublishedChange }
  | null
> {
  const key = normalizeZoneName(zone);
  const read = await readTx(ctx.store, async (trx) => {
    const zr = await signerZoneRow(trx, zoneScope(ctx), key);
    if (!zr) return null;
    const z = zr.z;
    const version = z.published_version;
    const held = o.heldVersion;
    if (held !== undefined && version === held && zr.zd && zr.zd.policy_id !== null) return { held: true as const, version: held };
    const rows = await signingRowsIn(trx, ctx, key, zr);
    if (!rows) return null;
    const signed = version !== null && zr.publishedSigned;
    const change =
      !signed && !o.changeKnown && version !== null && o.heldVersion !== undefined && o.heldVersion < version ? await publishedChangeIn(trx, z, o.heldVersion) : undefined;
    return { held: false as const, rows, version, signed, change };
  });
  if (!read) {
    o.opened?.delete(key);
    return null;
  }
  if (read.held) return { kind: 'held', version: read.version };
  const s = await openSigning(ctx, key, read.rows, o);
  return { kind: 'sign', s, version: read.version, signed: read.signed, ...(read.change ? { change: read.change } : {}) };
}

/** The signing set-up from its rows, the private keys opened (or taken from `o.opened`). */
async function openSigning(
  ctx: ServiceContext,
  key: string,
  read: NonNullable<Awaited<ReturnType<typeof signingRowsIn>>>,
  o: { opened?: Map<string, Map<string, DnssecKey>> },
): Promise<ZoneSigning> {
  const p = policyOf(read.prow);
  const origin = Name.parse(read.z.name);
  const keys: ZoneKey[] = [];
  const before = o.opened?.get(key);
  const opened = o.opened ? new Map<string, DnssecKey>() : undefined;
  if (o.opened && opened) o.opened.set(key, opened);
  const openKeyOnce = async (row: (typeof read.keys)[number]) => {
    // The row's id with its public key and KEK: a reused id never hands out another key.
    const id = `${row.id}\u0000${row.kek_id}\u0000${Buffer.from(row.dnskey).toString('base64')}`;
    const k = before?.get(id) ?? (await openKey(ctx, read.z.name, row));
    opened?.set(id, k);
    return k;
  };
  for (const row of read.keys) {
    // hidden: made but not yet in the DNSKEY RRset; removed: gone. The rollover engine moves keys along. An algorithm
    // rollover (services/dnssec.ts algorithmStep) has keys that sign without being in the DNSKEY RRset: 'presign'
    // (new, before their DNSKEY) and 'unpublished' (old, after their DNSKEY left).
    if (!SIGNING_STATES.has(row.state)) continue;
    const k = await openKeyOnce(row);
    const ksk = row.role !== 'zsk';
    const zsk = row.role !== 'ksk';
    const active = row.state === 'active' || row.state === 'presign' || row.state === 'unpublished';
    const publish = row.state !== 'presign' && row.state !== 'unpublished';
    const cds = p.cds && ksk && row.state === 'active' && (row.ds_state === 'submit' || row.ds_state === 'seen');
    keys.push({ key: k, ksk, zsk, publish, active, publishCds: cds });
  }
  const policy: SignPolicy = {
    denial: denialFor(p, read.zd.denial_override, origin),
    validity: p.signatureValidity,
    jitter: p.signatureJitter,
    dnskeyTtl: p.dnskeyTtl,
    cdsDigests: p.cdsDigestTypes,
    cdnskey: p.cdnskey,
    // Secure → insecure: the parent is asked to remove the DS (RFC 8078 §4) while the keys still sign.
    cdsDelete: read.zd.rollover_role === UNSIGN && (p.cds || p.cdnskey),
  };
  // Every key with what it does (signs, published, CDS): a transition committed by the rollover engine whose version
  // was never made (dmsd killed in between) differs from the signed version's set, so the restarted signer makes it.
  const keySet = keys
    .map((k) => `${k.key.algorithm}/${k.key.keyTag}/${k.ksk ? 'K' : ''}${k.zsk ? 'Z' : ''}${k.active !== false ? 'S' : ''}${k.publish !== false ? 'P' : ''}${k.publishCds ? 'C' : ''}`)
    .sort()
    .join(' ');
  const resignRequested = read.zd.resign_requested === null ? null : Number(read.zd.resign_requested);
  return { zoneId: Number(read.z.id), origin, policy, keys, keySet, refresh: p.signatureRefresh, resignRequested };
}

function rowToRR(r: DnssecRecordRow): RR {
  return { name: Name.parse(r.owner), type: r.type, class: r.rclass, ttl: Number(r.ttl), rdata: new Uint8Array(r.rdata) };
}

/** The newest signed version at or below `version` (its mark), or undefined when none. */
export async function lastSignedVersion(ctx: ServiceContext, zoneId: number, version: number): Promise<{ version: number; keySet: string } | undefined> {
  const m = await signedMarkAtOrBelow(ctx.store.db, zoneId, version);
  return m ? { version: m.version, keySet: m.key_set } : undefined;
}

export async function isSigned(ctx: ServiceContext, zoneId: number, version: number): Promise<boolean> {
  return (await signedMark(ctx.store.db, zoneId, version)) !== undefined;
}

/** A signed version as stored: the operator's records (SOA first) and the signer's (`stored`). */
export interface SignedState {
  records: RR[];
  stored: RR[];
}

/** The operator's served records and the stored signer records of one version (a restart, a lost race). */
export async function signedStateAt(ctx: ServiceContext, zoneId: number, version: number): Promise<SignedState | undefined> {
  return readTx(ctx.store, async (trx) => {
    const z = await lockedZoneRowById(trx, 'sqlite', zoneScope(ctx), zoneId);
    const zi = z ? await ziRow(trx, zoneId, version) : undefined;
    if (!z || !zi) return undefined;
    const records = await servedRecordsPacked(trx, z, zi);
    return { records, stored: packRows(await signerRowsAt(trx, zoneId, version)) };
  });
}

/** The signer records alive at `version` (a whole load of a signed zone). */
export async function signerRecordsAt(ctx: ServiceContext, zoneId: number, version: number): Promise<RR[]> {
  return (await signerRowsAt(ctx.store.db, zoneId, version)).map(rowToRR);
}

/** The signer records alive at `version` at some owners, and the owners whose signer rows changed since `from`. */
export async function signerChangeOwners(
  ctx: ServiceContext,
  zoneId: number,
  from: number,
  to: number,
  alsoOwners: readonly string[],
): Promise<Map<string, { name: Name; records: RR[] }>> {
  return readTx(ctx.store, async (trx) => {
    const { died, born } = from < to ? await signerRowsChangedBetween(trx, zoneId, from, to) : { died: [], born: [] };
    const owners = new Map<string, string>();
    for (const r of [...died, ...born]) owners.set(r.owner_key, r.owner);
    const keys = new Set([...owners.keys(), ...alsoOwners]);
    const out = new Map<string, { name: Name; records: RR[] }>();
    for (const [k, o] of owners) out.set(k, { name: Name.parse(o), records: [] });
    for (const r of await signerRowsAtOwners(trx, zoneId, [...keys], to)) {
      let e = out.get(r.owner_key);
      if (!e) out.set(r.owner_key, (e = { name: Name.parse(r.owner), records: [] }));
      e.records.push(rowToRR(r));
    }
    return out;
  });
}

/** Signer rows born and died between two versions (IXFR). */
export async function signerDiff(ctx: ServiceContext, zoneId: number, from: number, to: number): Promise<{ removed: RR[]; added: RR[] }> {
  if (from === to) return { removed: [], added: [] };
  const lo = Math.min(from, to);
  const hi = Math.max(from, to);
  const { died, born } = await signerRowsChangedBetween(ctx.store.db, zoneId, lo, hi);
  const d = died.map(rowToRR);
  const b = born.map(rowToRR);
  return from < to ? { removed: d, added: b } : { removed: b, added: d };
}

/**
 * Store the signer's change for `version` with its mark, in one transaction, and wake the other processes. `full`:
 * every signer row alive now dies at `version` and `change.add` is the complete set. 'lost': another process signed
 * this version first (read its rows instead).
 */
export async function storeSignerChange(
  ctx: ServiceContext,
  s: Pick<ZoneSigning, 'zoneId' | 'keySet'>,
  zoneName: string,
  version: number,
  change: { remove: readonly RR[]; add: readonly RR[] },
  o: {
    full: boolean;
    /** Told the seq of the change-feed row stored with the change, once committed. */
    onFeedRow?: (seq: number) => void;
  },
): Promise<'stored' | 'lost'> {
  let seq: number | undefined;
  try {
    const r = await writeTx(ctx.store, async (trx) => {
      // The mark first: its primary key makes a second signer of the same version fail here (unique violation:
      // 'lost'), before any row is written.
      await insertSignedMark(trx, { zone_id: s.zoneId, version, key_set: s.keySet, signed_at: ctx.clock.now().getTime(), changes: change.add.length });
      if (o.full) await killAllSignerRows(trx, s.zoneId, version);
      else await killSignerRows(trx, s.zoneId, version, change.remove.map((r) => ({ owner_key: r.name.key, type: r.type, rdata: r.rdata })));
      await insertSignerRows(
        trx,
        s.zoneId,
        version,
        change.add.map((r) => ({ owner_key: r.name.key, owner: r.name.toString(), type: r.type, rclass: r.class, ttl: r.ttl, rdata: r.rdata })),
      );
      await appendChange(trx, ctx.store.kind, { zone_id: s.zoneId, zone_name: normalizeZoneName(zoneName), kind: 'update', version, at: ctx.clock.now().getTime() });
      seq = feedRowsOf(trx).at(-1)?.seq;
      return 'stored' as const;
    });
    if (seq !== undefined) o.onFeedRow?.(seq);
    return r;
  } catch (e) {
    if (isUniqueViolation(e)) return 'lost';
    throw e;
  }
}

/** Types only the signer makes: refused in operator changes of a signed zone (RFC 2136 UPDATE, edits). */
export const SIGNER_ONLY_TYPES: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);

/** Whether the zone follows a DNSSEC policy (cheap: no key is opened; one statement). */
export async function hasDnssecPolicy(ctx: ServiceContext, zone: string): Promise<boolean> {
  return (await signedHead(ctx, zone)) !== null;
}

/**
 * A zone that follows a DNSSEC policy: its id, its published version and whether that version is signed yet, in one
 * statement (what an IXFR of a signed zone asks first); null when it has no policy or is not served.
 */
export async function signedHead(ctx: ServiceContext, zone: string): Promise<{ zoneId: number; version: number | null; signed: boolean } | null> {
  const r = await signerZoneRow(ctx.store.db, zoneScope(ctx), normalizeZoneName(zone));
  if (!r?.zd || r.zd.policy_id === null) return null;
  return { zoneId: Number(r.z.id), version: r.z.published_version, signed: r.publishedSigned };
}

/** The zone's id and published version (null: not served). */
export async function publishedVersion(ctx: ServiceContext, zone: string): Promise<{ zoneId: number; version: number } | null> {
  const z = await servedZoneRow(ctx.store.db, zoneScope(ctx), normalizeZoneName(zone));
  if (!z || z.published_version === null) return null;
  return { zoneId: Number(z.id), version: z.published_version };
}

/** Ids of the zones that follow a DNSSEC policy (dmsd's start: which zones are served signed). */
export async function signedZoneIds(ctx: ServiceContext): Promise<Set<number>> {
  return zoneIdsWithPolicy(ctx.store.db);
}

/** Names of the zones that follow a DNSSEC policy (the signing process's start). */
export async function signedZoneNames(ctx: ServiceContext): Promise<string[]> {
  return zoneNamesWithPolicy(ctx.store.db);
}

/** The full re-sign asked for at `requested` is done (a newer request stays). */
export async function clearResignRequest(ctx: ServiceContext, zoneId: number, requested: number): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const zd = await zoneDnssecRow(trx, zoneId);
    if (zd && zd.resign_requested !== null && Number(zd.resign_requested) <= requested)
      await upsertZoneDnssec(trx, zoneId, { resign_requested: null, mtime: ctx.clock.now().getTime() });
  });
}

/**
 * The denial of existence a zone is signed with: the one an RFC 2136 UPDATE of NSEC3PARAM asked for (denial_override),
 * else the policy's. A policy salt must stay the same across restarts and processes (RFC 9276 advises none): derived
 * from the zone name.
 */
function denialFor(p: ReturnType<typeof policyOf>, override: string | null, origin: Name): SignPolicy['denial'] {
  if (override) {
    const o = JSON.parse(override) as { kind: 'nsec' } | { kind: 'nsec3'; iterations: number; salt: string; optOut: boolean };
    if (!('salt' in o)) return { kind: 'nsec' };
    return { kind: 'nsec3', iterations: o.iterations, salt: new Uint8Array(Buffer.from(o.salt, 'hex')), optOut: o.optOut };
  }
  const saltLength = p.nsec3.saltLength;
  const salt = saltLength > 0 ? new Uint8Array(process.getBuiltinModule('node:crypto').createHash('sha256').update(`DMS NSEC3 salt\0${origin.key}`).digest().subarray(0, saltLength)) : new Uint8Array(0);
  return p.denial === 'nsec3' ? { kind: 'nsec3', iterations: p.nsec3.iterations, salt, optOut: p.nsec3.optOut } : { kind: 'nsec' };
}

/** A served zone with its DNSSEC row and policy (undefined without a policy): what the UPDATE engine's views start from. */
async function servedWithPolicy(trx: Tx, ctx: ServiceContext, zone: string) {
  const z = await servedZoneRow(trx, zoneScope(ctx), normalizeZoneName(zone));
  return z ? withPolicyIn(trx, z, await zoneDnssecRow(trx, Number(z.id))) : undefined;
}

/** A served zone's row with its zone_dnssec row and its policy's (undefined: no policy). */
async function withPolicyIn(trx: Tx, z: NonNullable<Awaited<ReturnType<typeof servedZoneRow>>>, zd: Awaited<ReturnType<typeof zoneDnssecRow>>) {
  const prow = zd?.policy_id != null ? await dnssecPolicyRowById(trx, Number(zd.policy_id)) : undefined;
  if (!zd || !prow) return undefined;
  return { z, zd, prow, origin: Name.parse(z.name) };
}

/**
 * What the signer publishes at a signed zone's apex that the UPDATE engine must see as records — its NSEC3PARAM
 * (null with NSEC), so that "update delete <zone> NSEC3PARAM" finds something to delete, and its DNSKEYs
 * (servedDnskeys); undefined when the zone has no DNSSEC policy. Read in the transaction of the UPDATE's scope
 * (services.getUpdateScope), which holds the zone row and its zone_dnssec row already.
 */
export async function signerApexIn(
  trx: Tx,
  z: NonNullable<Awaited<ReturnType<typeof servedZoneRow>>>,
  zd: Awaited<ReturnType<typeof zoneDnssecRow>>,
): Promise<{ nsec3param: RR | null; dnskeys: RR[] } | undefined> {
  const found = await withPolicyIn(trx, z, zd);
  return found && { nsec3param: nsec3ParamOf(found), dnskeys: await dnskeysOf(trx, found) };
}

function nsec3ParamOf({ zd, prow, origin }: NonNullable<Awaited<ReturnType<typeof servedWithPolicy>>>): RR | null {
  const d = denialFor(policyOf(prow), zd.denial_override, origin);
  if (!('iterations' in d)) return null;
  const salt = d.salt ?? new Uint8Array(0);
  const rdata = new Uint8Array([1, 0, ((d.iterations ?? 0) >> 8) & 255, (d.iterations ?? 0) & 255, salt.length, ...salt]);
  return { name: origin, type: RRType.NSEC3PARAM, class: 1, ttl: 0, rdata };
}

async function dnskeysOf(trx: Tx, { z, prow, origin }: NonNullable<Awaited<ReturnType<typeof servedWithPolicy>>>): Promise<RR[]> {
  const ttl = policyOf(prow).dnskeyTtl;
  return (await dnssecKeyRows(trx, Number(z.id)))
    .filter((row) => SIGNING_STATES.has(row.state) && row.state !== 'presign' && row.state !== 'unpublished')
    .map((row) => ({ name: origin, type: RRType.DNSKEY, class: 1, ttl, rdata: new Uint8Array(row.dnskey) }));
}

/**
 * The DNSKEYs the signer publishes for a zone now (its keys in the DNSKEY RRset, TTL from the policy), as RRs for the
 * UPDATE engine to see at the apex (so that "update delete <zone> DNSKEY" finds what to delete); undefined when the
 * zone has no DNSSEC policy. Public keys only: no KEK needed.
 */
export async function servedDnskeys(ctx: ServiceContext, zone: string): Promise<RR[] | undefined> {
  return readTx(ctx.store, async (trx) => {
    const found = await servedWithPolicy(trx, ctx, zone);
    return found ? dnskeysOf(trx, found) : undefined;
  });
}

/**
 * NSEC3PARAM changed by an RFC 2136 UPDATE of a signed zone, as BIND does it (bind9-dnssec-dynamic-zones): adding one
 * switches the zone to an NSEC3 chain with its parameters (flags bit 0 = opt-out), deleting it goes back to NSEC. The
 * signer replaces the chain at the next version in one step (full re-sign), so there is no moment without a complete
 * chain and BIND's two-step "add the new, then remove the old NSEC3PARAM" is not needed (the last one added wins).
 * Iterations other than 0 are refused (RFC 9276 §3.1, as the policies), as is a hash algorithm other than SHA-1 (1).
 * Stays until another policy is set. InvalidArgument with the reason when refused.
 */
export async function setDenialByUpdate(ctx: ServiceContext, zone: string, added: readonly RR[], removed: readonly RR[]): Promise<string> {
  const key = normalizeZoneName(zone);
  const origin = Name.parse(key);
  for (const r of [...added, ...removed])
    if (!r.name.equals(origin)) throw new InvalidArgument(`NSEC3PARAM at ${r.name.toString()}: only the zone apex has one`);
  let override: string;
  let summary: string;
  const last = added.at(-1);
  if (last) {
    const d = last.rdata;
    if (d.length < 5 || d.length !== 5 + d[4]) throw new InvalidArgument('malformed NSEC3PARAM');
    const iterations = (d[2] << 8) | d[3];
    if (d[0] !== 1) throw new InvalidArgument(`NSEC3PARAM hash algorithm ${d[0]}: only 1 (SHA-1) is defined (RFC 5155)`);
    if (iterations !== 0) throw new InvalidArgument(`NSEC3PARAM iterations ${iterations}: RFC 9276 §3.1 requires 0`);
    const salt = Buffer.from(d.subarray(5)).toString('hex');
    const optOut = (d[1] & 1) !== 0;
    override = JSON.stringify({ kind: 'nsec3', iterations, salt, optOut });
    summary = `NSEC3PARAM added by UPDATE (${ctx.actor}): NSEC3 chain, salt ${salt || '-'}${optOut ? ', opt-out' : ''}`;
  } else {
    override = JSON.stringify({ kind: 'nsec' });
    summary = `NSEC3PARAM deleted by UPDATE (${ctx.actor}): NSEC chain`;
  }
  await recordDenialOverride(ctx, key, override, summary);
  return summary;
}
