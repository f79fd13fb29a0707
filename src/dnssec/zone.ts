// Zone signing, full and incremental. A SignedZone holds the operator's records, the records the signer adds (apex
// DNSKEY/CDS/CDNSKEY/NSEC3PARAM, the NSEC or NSEC3 chain, RRSIGs) and the indexes that let a change be signed
// without walking the zone: a sorted set of owner names (a delegation or DNAME that appears or goes re-classifies
// only the names below it, found in canonical order right after it), the set of delegation points and DNAMEs, and the
// denial chain's own sorted set (a name that appears or goes touches only itself and its predecessor).
//
// `signZone` is `apply` on an empty zone, so a full sign and an incremental one run the same code; the property test
// checks that a sequence of deltas ends where a fresh full sign of the final data does.
//
// What is signed (RFC 4035 §2.2, §2.3): every RRset at an authoritative name; at a delegation point only DS (NS stays
// unsigned, other data there is glue); nothing below a delegation or below a DNAME (occluded, RFC 6672 §2.3).
// DNSKEY, CDS and CDNSKEY at the apex are signed by the keys with the KSK role, everything else by those with the ZSK
// role (a CSK has both). Pure: `now` is a parameter, nothing is read from the clock.

import { RRClass, RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { compareRdataCanonical, soaFields } from '../dns/rdata.js';
import { DnssecError } from './algorithms.js';
import { type RecordDelta, sharedTypeList } from './chain.js';
import { DigestType, type DnssecKey } from './keys.js';
import { NsecChain } from './nsec.js';
import { DEFAULT_NSEC3, Nsec3Chain, type Nsec3Params, nsec3ParamRdata } from './nsec3.js';
import { SignBatchWriter } from './sign-batch.js';
import { rrsetFromRRs, rrsigLabels, rrsigRdataPrefix, type SignJob, signRRsetBytes } from './sign.js';
import { SortedSet } from './sorted.js';

export type { RecordDelta } from './chain.js';

/** A key as the signer uses it now (the rollover logic decides these flags; the signer only follows them). */
export interface ZoneKey {
  key: DnssecKey;
  /** Signs the apex DNSKEY, CDS and CDNSKEY RRsets. */
  ksk: boolean;
  /** Signs every other RRset. A CSK has both roles. */
  zsk: boolean;
  /** In the DNSKEY RRset (default true). */
  publish?: boolean;
  /** Makes signatures for its roles (default true; needs the private key). */
  active?: boolean;
  /** Its CDS (and CDNSKEY) are published at the apex (default false). */
  publishCds?: boolean;
}

export type Denial = { kind: 'nsec' } | ({ kind: 'nsec3' } & Partial<Nsec3Params>);

export interface SignPolicy {
  denial: Denial;
  /** Signature validity in seconds (default 14 days, BIND's default policy). */
  validity?: number;
  /** Inception this many seconds before `now`, for clock skew (default 3600). */
  inceptionOffset?: number;
  /**
   * Expirations are spread up to this many seconds earlier than now + validity, by a hash of owner and type, so that
   * refreshes do not all fall due at once; deterministic, so the same inputs give the same times (default 0).
   */
  jitter?: number;
  /** TTL of DNSKEY, CDS and CDNSKEY (default: the SOA's TTL). */
  dnskeyTtl?: number;
  /** Digest types of the CDS records (default SHA-256 only). */
  cdsDigests?: readonly number[];
  /** Publish CDNSKEY beside CDS (default true). */
  cdnskey?: boolean;
  /**
   * Ask the parent to remove the DS (secure → insecure): CDS and CDNSKEY are the delete records of RFC 8078 §4
   * ("0 0 0 00", "0 3 0 AA=="), whatever the keys say (default false). Changeable on a signed zone (cdsDelete).
   */
  cdsDelete?: boolean;
}

/** RFC 8078 §4: CDS "0 0 0 00" (key tag 0, algorithm 0, digest type 0, digest one zero octet). */
const CDS_DELETE = new Uint8Array([0, 0, 0, 0, 0]);
/** RFC 8078 §4: CDNSKEY "0 3 0 AA==" (flags 0, protocol 3, algorithm 0, key one zero octet). */
const CDNSKEY_DELETE = new Uint8Array([0, 0, 3, 0, 0]);

const DEFAULT_VALIDITY = 14 * 86400;
/** Types the signer makes; operator data holding them is refused (NSEC3PARAM comes from the policy). */
const SIGNER_ONLY: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
const APEX_GENERATED = [RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY, RRType.NSEC3PARAM] as const;
const KSK_TYPES: ReadonlySet<number> = new Set([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

type Status = 'auth' | 'cut' | 'occluded';

/** A signature made while deferring (SignedZone.deferSigning): the RRSIG record to complete, its job and its key. */
export interface PendingSignature {
  rr: RR;
  job: SignJob;
  key: DnssecKey;
}

/**
 * Put a computed signature in place: the RRSIG RDATA made for `p.job` (signRRsetBytes, in whatever thread) replaces
 * the incomplete one. Checked against the job's own fields, so a result delivered to the wrong record is refused.
 */
export function completeSignature(p: PendingSignature, rrsigRdata: Uint8Array): void {
  const prefix = p.rr.rdata;
  let same = rrsigRdata.length > prefix.length;
  for (let i = 0; same && i < prefix.length; i++) same = rrsigRdata[i] === prefix[i];
  if (!same) throw new DnssecError(`signature for ${p.rr.name.toString()} type ${p.job.type} does not match its job`);
  p.rr.rdata = rrsigRdata;
}

/** The RDATA of a streamed RRSIG until its batch is complete (streamSigning): none. */
const PENDING_RDATA = new Uint8Array(0);

type PrivateKey = NonNullable<DnssecKey['privateKey']>;

/** Signatures a full sign streams to the signing threads (SignedZone.streamSigning). */
export interface SignBatch {
  /** The jobs, packed by SignBatchWriter (sign-batch.ts); their key indexes point into `keys`. */
  jobs: Uint8Array;
  keys: readonly PrivateKey[];
  /** The RRSIG each job completes, in job order, and the type each covers (checked against its result). */
  rrs: RR[];
  covered: number[];
}

/** Put a batch's results (RRSIG RDATAs in job order, from signRRsetBytes in whatever thread) in place. */
export function completeSignBatch(b: SignBatch, results: readonly Uint8Array[]): void {
  if (results.length !== b.rrs.length) throw new DnssecError(`${results.length} signatures returned for ${b.rrs.length} jobs`);
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r.length <= 18 || ((r[0] << 8) | r[1]) !== b.covered[i])
      throw new DnssecError(`signature for ${b.rrs[i].name.toString()} type ${b.covered[i]} does not match its job`);
    b.rrs[i].rdata = r;
  }
}

/** The batches of a streamed sign (SignedZone.streamSigning). */
class SignStream {
  private writer = new SignBatchWriter();
  private rrs: RR[] = [];
  private covered: number[] = [];
  private readonly keyIndex = new Map<DnssecKey, number>();
  /** Every batch's key list (indexes only grow, so one list serves them all). */
  private readonly keys: PrivateKey[] = [];
  private ready: SignBatch[] = [];

  constructor(
    private readonly size: number,
    readonly held: readonly number[],
  ) {}

  add(job: SignJob, key: DnssecKey, rr: RR): void {
    let ki = this.keyIndex.get(key);
    if (ki === undefined) {
      ki = this.keys.length;
      this.keyIndex.set(key, ki);
      this.keys.push(key.privateKey as PrivateKey);
    }
    this.writer.add(job, ki);
    this.rrs.push(rr);
    this.covered.push(job.type);
    if (this.rrs.length >= this.size) this.cut();
  }

  private cut(): void {
    if (this.rrs.length === 0) return;
    this.ready.push({ jobs: this.writer.finish(), keys: this.keys, rrs: this.rrs, covered: this.covered });
    this.writer = new SignBatchWriter();
    this.rrs = [];
    this.covered = [];
  }

  take(all: boolean): SignBatch[] {
    if (all) this.cut();
    const out = this.ready;
    this.ready = [];
    return out;
  }
}

/**
 * An owner's RRsets by type: the Map operations SignedZone uses, the first entry in two fields and any others in two
 * short arrays searched in order (an owner has one type, or a handful). A Map per owner, twice (data and signatures),
 * took ~320 bytes each with its hash table, about 60 MB of the 465 MB heap of a signed 100,000-record zone (heap
 * snapshot); an owner of one type takes one small object here.
 */
export class TypeMap<V> {
  /** The first entry's type, -1 when empty (types are 0..65535). */
  private t0 = -1;
  private v0: V | undefined = undefined;
  /** The entries after the first, replaced (not grown in place: a push would leave room for 16); the type lists shared. */
  private moreTypes: readonly number[] | undefined = undefined;
  private moreVals: readonly V[] | undefined = undefined;
  get size(): number {
    return this.t0 < 0 ? 0 : 1 + (this.moreTypes?.length ?? 0);
  }
  get(type: number): V | undefined {
    if (type === this.t0) return this.v0;
    const i = this.moreTypes ? this.moreTypes.indexOf(type) : -1;
    return i < 0 ? undefined : this.moreVals?.[i];
  }
  has(type: number): boolean {
    return type === this.t0 || (this.t0 >= 0 && (this.moreTypes?.includes(type) ?? false));
  }
  set(type: number, v: V): this {
    if (this.t0 < 0 || type === this.t0) {
      this.t0 = type;
      this.v0 = v;
      return this;
    }
    const i = this.moreTypes ? this.moreTypes.indexOf(type) : -1;
    if (i >= 0) this.moreVals = this.moreVals?.map((x, k) => (k === i ? v : x));
    else {
      this.moreTypes = sharedTypeList([...(this.moreTypes ?? []), type]);
      this.moreVals = [...(this.moreVals ?? []), v];
    }
    return this;
  }
  delete(type: number): boolean {
    if (this.t0 < 0) return false;
    if (type === this.t0) {
      if (this.moreTypes && this.moreTypes.length > 0) {
        this.t0 = this.moreTypes[0];
        this.v0 = this.moreVals?.[0];
        this.setMore(this.moreTypes.slice(1), (this.moreVals ?? []).slice(1));
      } else {
        this.t0 = -1;
        this.v0 = undefined;
      }
      return true;
    }
    const i = this.moreTypes ? this.moreTypes.indexOf(type) : -1;
    if (i < 0) return false;
    this.setMore(
      (this.moreTypes ?? []).filter((_, k) => k !== i),
      (this.moreVals ?? []).filter((_, k) => k !== i),
    );
    return true;
  }
  private setMore(types: readonly number[], vals: readonly V[]): void {
    this.moreTypes = types.length > 0 ? sharedTypeList(types) : undefined;
    this.moreVals = types.length > 0 ? vals : undefined;
  }
  entries(): IterableIterator<[number, V]> {
    const out: [number, V][] = [];
    if (this.t0 >= 0) out.push([this.t0, this.v0 as V]);
    const types = this.moreTypes ?? [];
    for (let k = 0; k < types.length; k++) out.push([types[k], (this.moreVals as readonly V[])[k]]);
    return out.values();
  }
  keys(): IterableIterator<number> {
    return this.typeList().values();
  }
  /** The types held, in a new array (the owner's type list without an iterator per call). */
  typeList(): number[] {
    if (this.t0 < 0) return [];
    const out = [this.t0];
    if (this.moreTypes) for (const t of this.moreTypes) out.push(t);
    return out;
  }
  values(): IterableIterator<V> {
    return [...this.entries()].map(([, v]) => v).values();
  }
  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}

/** Collects a delta; an RR added and removed within one delta cancels out instead of appearing in both lists. */
class DeltaBuilder {
  private readonly added = new Set<RR>();
  private readonly removed: RR[] = [];
  /** `keep` false: nothing is collected (a caller that does not want the delta: a full sign's slices). */
  constructor(private readonly keep = true) {}
  add(rr: RR): void {
    if (this.keep) this.added.add(rr);
  }
  remove(rr: RR): void {
    if (this.keep && !this.added.delete(rr)) this.removed.push(rr);
  }
  finish(): RecordDelta {
    return { remove: this.removed, add: [...this.added] };
  }
}

function fnv1a(s: string, t: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ t, 0x01000193);
  return h >>> 0;
}

function sameRecords(a: readonly RR[] | undefined, b: readonly RR[]): boolean {
  if ((a?.length ?? 0) !== b.length) return false;
  if (!a) return true;
  const key = (r: RR) => `${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`;
  const x = a.map(key).sort();
  const y = b.map(key).sort();
  return x.every((v, i) => v === y[i]);
}

export class SignedZone {
  /** Operator data: owner key → type → records. */
  private readonly data = new Map<string, TypeMap<RR[]>>();
  /** Generated apex RRsets (DNSKEY, CDS, CDNSKEY, NSEC3PARAM). */
  private readonly extra = new Map<number, RR[]>();
  /** Owner key → name, for every owner with data. */
  private readonly nameOf = new Map<string, Name>();
  private readonly names = new SortedSet<Name>((a, b) => a.compareCanonical(b));
  /** RRSIGs: owner key → covered type → records (NSEC3 signatures under the hashed owner). */
  private readonly sigs = new Map<string, TypeMap<RR[]>>();
  /** Chain records by owner key (the original owner for NSEC, the hashed owner for NSEC3). */
  private readonly chainRecs = new Map<string, RR>();
  private readonly cuts = new Set<string>();
  private readonly dnames = new Set<string>();
  private readonly chain: NsecChain | Nsec3Chain;
  /** NSEC3: names with an NSEC3 of their own (own types), and per ancestor the number of such names below it. */
  private readonly present = new Map<string, readonly number[]>();
  private readonly entRefs = new Map<string, number>();
  private keys: readonly ZoneKey[] = [];
  /** The active keys that sign the apex DNSKEY/CDS/CDNSKEY RRsets, and those that sign every other RRset. */
  private kskSigners: readonly ZoneKey[] = [];
  private zskSigners: readonly ZoneKey[] = [];
  private keySignature = '';
  /**
   * While restoring (SignedZone.restore): stored signatures by owner key and covered type, taken instead of signing
   * when they were made by exactly the keys that would sign now.
   */
  private reuse: Map<string, TypeMap<RR[]>> | undefined;
  /**
   * While restoring: the stored signer-made RRsets (apex DNSKEY/CDS/CDNSKEY/NSEC3PARAM, NSEC, NSEC3) by owner key and
   * type. A stored signature over one of them is taken only when the RRset is still exactly what was stored: the keys
   * may have moved on since (a rollover step whose version was never made), and a signature over the old DNSKEY
   * RRset does not validate the new one.
   */
  private reuseSets: Map<string, TypeMap<RR[]>> | undefined;
  private now = 0;
  private soaTtl = 0;
  /**
   * A lower bound of the oldest signature expiration (exact when expiryFloorExact): refresh() skips its scan of every
   * signature when nothing can be due. Undefined and exact: no signatures.
   */
  private expiryFloor: number | undefined;
  private expiryFloorExact = true;
  /** Publish the CDS/CDNSKEY delete records (SignPolicy.cdsDelete); takes effect with the next apply or refresh. */
  cdsDelete: boolean;
  /**
   * Deferred signing (deferSigning): the signatures made since, not yet computed. Each RRSIG is in the zone and in
   * the returned deltas with its RDATA cut before the signature (every field an index reads is there: type covered,
   * algorithm, key tag, times); dropped again before completion, it leaves this map, so no work is wasted on it.
   */
  private deferred: Map<RR, { job: SignJob; key: DnssecKey }> | undefined;
  /** Streamed signing (streamSigning): the batch being packed and those filled. */
  private stream: SignStream | undefined;

  constructor(
    readonly origin: Name,
    readonly policy: SignPolicy,
    readonly klass: number = RRClass.IN,
  ) {
    this.cdsDelete = policy.cdsDelete ?? false;
    const d = policy.denial;
    this.chain =
      d.kind === 'nsec'
        ? new NsecChain(0, klass)
        : new Nsec3Chain(origin, 0, klass, {
            iterations: d.iterations ?? DEFAULT_NSEC3.iterations,
            salt: d.salt ?? DEFAULT_NSEC3.salt,
            optOut: d.optOut ?? DEFAULT_NSEC3.optOut,
          });
  }

  get nsec3(): Nsec3Params | undefined {
    return this.chain instanceof Nsec3Chain ? this.chain.params : undefined;
  }

  // --- deferred signing ---------------------------------------------------------------------------------------

  /**
   * From now on, signatures are not computed where they are made but collected: takeSignJobs hands them out (to a
   * pool of threads, say) and completeSignature puts each result in place. Between the two the zone and the deltas
   * returned meanwhile hold incomplete RRSIGs and must not be served or stored. The times, the RRsets and the keys
   * are chosen exactly as when signing inline.
   */
  deferSigning(): void {
    this.deferred ??= new Map();
  }

  /** The signatures still to compute (and stop deferring): each job and the key that signs it, with its handle. */
  takeSignJobs(): PendingSignature[] {
    const d = this.deferred;
    this.deferred = undefined;
    if (!d) return [];
    const out: PendingSignature[] = [];
    for (const [rr, { job, key }] of d) out.push({ rr, job, key });
    return out;
  }

  /**
   * A full sign's deferral (signZoneInPool): from now on each signature is packed straight into a batch for the
   * signing threads (SignBatchWriter), `batch` jobs each, so that nothing is kept per signature but its record while
   * the zone is built — except the types `held` lists, deferred as deferSigning does (NSEC3: the chain is complete
   * only at the end). takeSignBatches hands out the full batches, endSignStream the rest; completeSignBatch puts the
   * results in place. Until then the zone holds RRSIGs without RDATA and must not be read, served or stored. A
   * signature dropped by a later change is still computed, into a record the zone no longer holds.
   */
  streamSigning(opts: { batch: number; held?: readonly number[] }): void {
    this.stream = new SignStream(Math.max(1, opts.batch), opts.held ?? []);
    this.deferred ??= new Map();
  }

  /** The batches filled since the last call. */
  takeSignBatches(): SignBatch[] {
    return this.stream?.take(false) ?? [];
  }

  /** Every batch not yet handed out, and the end of streaming (held types stay deferred: takeSignJobs). */
  endSignStream(): SignBatch[] {
    const out = this.stream?.take(true) ?? [];
    this.stream = undefined;
    return out;
  }

  // --- reading --------------------------------------------------------------------------------------------------

  /** Everything the zone serves: operator records and signer records. */
  records(): RR[] {
    const out: RR[] = [];
    for (const sets of this.data.values()) for (const rrs of sets.values()) out.push(...rrs);
    // One by one: a spread of a million records would exceed the call stack's argument limit.
    for (const r of this.generated()) out.push(r);
    return out;
  }

  /** Only what the signer added: apex DNSKEY/CDS/CDNSKEY/NSEC3PARAM, NSEC/NSEC3, RRSIG. */
  generated(): RR[] {
    const out: RR[] = [];
    for (const rrs of this.extra.values()) out.push(...rrs);
    for (const r of this.chainRecs.values()) out.push(r);
    for (const m of this.sigs.values()) for (const rrs of m.values()) out.push(...rrs);
    return out;
  }

  /** The earliest expiration (seconds, RFC 1982 arithmetic ignored) among the signatures, or undefined. */
  oldestExpiration(): number | undefined {
    if (this.expiryFloorExact) return this.expiryFloor;
    let oldest: number | undefined;
    for (const m of this.sigs.values())
      for (const rrs of m.values()) for (const r of rrs) if (oldest === undefined || expiration(r.rdata) < oldest) oldest = expiration(r.rdata);
    this.expiryFloor = oldest;
    this.expiryFloorExact = true;
    return oldest;
  }

  /** A signature now held: the floor follows it down. */
  private noteSignature(rr: RR, e = expiration(rr.rdata)): void {
    if (this.expiryFloor === undefined) {
      // Undefined and exact: there were no signatures, so this one is the oldest. Undefined and not exact: unknown.
      if (this.expiryFloorExact) this.expiryFloor = e;
    } else if (e < this.expiryFloor) this.expiryFloor = e;
  }

  /** A signature dropped: when it was the oldest, the floor is only a lower bound from now on. */
  private forgetSignature(rr: RR): void {
    // A streamed signature not yet computed has no RDATA to read its expiration from: the floor may be it.
    if (this.expiryFloor !== undefined && (rr.rdata === PENDING_RDATA || expiration(rr.rdata) <= this.expiryFloor)) this.expiryFloorExact = false;
  }

  /** The RRSIGs at an owner (optionally only those covering `type`). */
  signaturesAt(owner: Name, type?: number): RR[] {
    const m = this.sigs.get(owner.key);
    if (!m) return [];
    if (type !== undefined) return [...(m.get(type) ?? [])];
    return [...m.values()].flat();
  }

  // --- changing -------------------------------------------------------------------------------------------------

  /**
   * Apply a change of operator data (and the key set now in force) and return the change of signer records: the
   * RRSIGs, chain records and apex key records to remove and to add. Only the RRsets the change touches, the names
   * whose delegation/DNAME status it changes and the chain links next to them are re-done — except when the
   * signing keys change, which re-signs every RRset whose signatures no longer match the keys. With `noDelta` the
   * change of signer records is not collected and an empty delta returned (a full sign, which takes the whole zone).
   */
  apply(delta: RecordDelta, keys: readonly ZoneKey[], now: number, opts?: { noDelta?: boolean }): RecordDelta {
    this.now = now;
    const out = new DeltaBuilder(!opts?.noDelta);
    // Owner key → the types changed there (a short list: an owner has a handful of types; a Set each cost a full
    // sign a million of them).
    const touched = new Map<string, number[]>();
    const touch = (key: string, type: number) => {
      const s = touched.get(key);
      if (!s) touched.set(key, [type]);
      else if (!s.includes(type)) s.push(type);
    };
    for (const rr of delta.remove) if (this.removeData(rr)) touch(rr.name.key, rr.type);
    for (const rr of delta.add) if (this.addData(rr)) touch(rr.name.key, rr.type);

    const soa = this.data.get(this.origin.key)?.get(RRType.SOA)?.[0];
    if (!soa) throw new DnssecError(`zone ${this.origin.toString()} has no SOA record at its apex`);
    this.soaTtl = soa.ttl;
    // RFC 9077: NSEC/NSEC3 TTL is the smaller of the SOA TTL and the SOA MINIMUM.
    const negTtl = Math.min(soa.ttl, soaFields(soa.rdata).minimum);
    this.chain.setTtl(negTtl);

    const keysChanged = this.setKeys(keys);
    for (const type of APEX_GENERATED) {
      const want = this.desiredApex(type, negTtl);
      const have = this.extra.get(type);
      if (sameRecords(have, want)) continue;
      for (const rr of have ?? []) out.remove(rr);
      for (const rr of want) out.add(rr);
      if (want.length > 0) this.extra.set(type, want);
      else this.extra.delete(type);
      touch(this.origin.key, type);
    }

    // Names to re-evaluate: the touched owners, and everything below a name that became or stopped being a
    // delegation point or a DNAME owner.
    const below = new Set<string>();
    for (const [key, types] of touched) {
      if (!types.includes(RRType.NS) && !types.includes(RRType.DNAME)) continue;
      const sets = this.data.get(key);
      const cut = key !== this.origin.key && (sets?.has(RRType.NS) ?? false);
      const dname = sets?.has(RRType.DNAME) ?? false;
      if (cut === this.cuts.has(key) && dname === this.dnames.has(key)) continue;
      if (cut) this.cuts.add(key);
      else this.cuts.delete(key);
      if (dname) this.dnames.add(key);
      else this.dnames.delete(key);
      const name = this.nameOf.get(key) as Name;
      for (const n of this.names.from(name)) {
        if (!n.isSubdomainOf(name)) break;
        if (!touched.has(n.key)) below.add(n.key);
      }
    }
    for (const [key, types] of touched) this.evaluate(key, types, out);
    for (const key of below) this.evaluate(key, undefined, out);

    if (keysChanged) this.resignForKeys(out);

    const cd = this.chain.flush();
    for (const rr of cd.remove) {
      out.remove(rr);
      this.chainRecs.delete(rr.name.key);
      this.dropSigs(rr.name.key, rr.type, out);
    }
    for (const rr of cd.add) {
      out.add(rr);
      this.chainRecs.set(rr.name.key, rr);
      this.sign(rr.name, rr.type, [rr], out);
    }
    return out.finish();
  }

  /**
   * Re-sign the RRsets with a signature expiring before `until` (the refresh of BIND's signatures-refresh or
   * Knot's rrsig-refresh): the returned delta replaces those signatures only.
   */
  refresh(keys: readonly ZoneKey[], now: number, until: number): RecordDelta {
    this.now = now;
    const out = new DeltaBuilder();
    if (this.setKeys(keys)) this.resignForKeys(out);
    const due: [string, number][] = [];
    // Nothing expires before `until` when even a lower bound of the oldest expiration does not: no scan of every
    // signature (this runs with each new version; the scan cost ~40 ms per UPDATE at 100,000 records).
    if (this.expiryFloor !== undefined && this.expiryFloor - until >= 0) return out.finish();
    if (this.expiryFloor === undefined && this.expiryFloorExact) return out.finish();
    for (const [key, m] of this.sigs)
      for (const [type, rrs] of m) if (rrs.some((r) => expiration(r.rdata) - until < 0)) due.push([key, type]);
    for (const [key, type] of due) this.resignExisting(key, type, out);
    // The scan saw every signature: the exact oldest is one more pass (rare: only when something was due or the floor
    // went stale), which makes the next refresh's shortcut hold again.
    this.expiryFloorExact = false;
    this.oldestExpiration();
    return out.finish();
  }

  private addData(rr: RR): boolean {
    this.checkRecord(rr);
    const key = rr.name.key;
    let sets = this.data.get(key);
    if (!sets) {
      sets = new TypeMap();
      this.data.set(key, sets);
    }
    if (!this.nameOf.has(key)) {
      this.nameOf.set(key, rr.name);
      this.names.add(rr.name);
    }
    const list = sets.get(rr.type);
    if (!list) {
      // A literal of one: an empty array grown by push has room for 16 (most RRsets keep one record).
      sets.set(rr.type, [rr]);
      return true;
    }
    const i = list.findIndex((x) => compareRdataCanonical(rr.type, x.rdata, rr.rdata) === 0);
    if (i >= 0) {
      if (list[i].ttl === rr.ttl) return false;
      list[i] = rr;
      return true;
    }
    list.push(rr);
    return true;
  }

  private removeData(rr: RR): boolean {
    const key = rr.name.key;
    const sets = this.data.get(key);
    const list = sets?.get(rr.type);
    if (!sets || !list) return false;
    const i = list.findIndex((x) => compareRdataCanonical(rr.type, x.rdata, rr.rdata) === 0);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) sets.delete(rr.type);
    if (sets.size === 0) this.data.delete(key);
    return true;
  }

  private checkRecord(rr: RR): void {
    if (!rr.name.isSubdomainOf(this.origin)) throw new DnssecError(`${rr.name.toString()} is not in zone ${this.origin.toString()}`);
    if (rr.class !== this.klass) throw new DnssecError(`${rr.name.toString()}: class ${rr.class}, the zone's is ${this.klass}`);
    if (SIGNER_ONLY.has(rr.type))
      throw new DnssecError(`${rr.name.toString()}: ${rr.type === RRType.NSEC3PARAM ? 'NSEC3PARAM comes from the signing policy' : 'RRSIG, NSEC and NSEC3 records are made by the signer'}, not taken from zone data`);
    if (rr.type === RRType.SOA && !rr.name.equals(this.origin)) throw new DnssecError(`SOA record at ${rr.name.toString()}, not at the apex`);
  }

  /** Record the key set; true when the signing keys (which key signs which RRsets) changed. */
  private setKeys(keys: readonly ZoneKey[]): boolean {
    const active = keys.filter((k) => k.active !== false);
    for (const k of active)
      if (!k.key.privateKey) throw new DnssecError(`key ${k.key.keyTag} is active but its private key is not loaded`);
    if (!active.some((k) => k.zsk)) throw new DnssecError('no active key with the ZSK role (a ZSK or CSK must sign the zone)');
    if (!active.some((k) => k.ksk)) throw new DnssecError('no active key with the KSK role (a KSK or CSK must sign the DNSKEY RRset)');
    this.keys = keys;
    // The keys signing each RRset (signersFor), chosen once per key set rather than per RRset.
    this.kskSigners = active.filter((k) => k.ksk);
    this.zskSigners = active.filter((k) => k.zsk);
    const sig = active
      .map((k) => `${k.key.algorithm}/${k.key.keyTag}/${k.ksk ? 'K' : ''}${k.zsk ? 'Z' : ''}/${Buffer.from(k.key.publicKey).toString('base64')}`)
      .sort()
      .join(' ');
    const changed = sig !== this.keySignature;
    this.keySignature = sig;
    return changed && this.sigs.size > 0;
  }

  private desiredApex(type: number, negTtl: number): RR[] {
    const o = this.origin;
    const ttl = this.policy.dnskeyTtl ?? this.soaTtl;
    const rr = (t: number, rdata: Uint8Array, rttl = ttl): RR => ({ name: o, type: t, class: this.klass, ttl: rttl, rdata });
    switch (type) {
      case RRType.DNSKEY:
        return this.keys.filter((k) => k.publish !== false).map((k) => rr(RRType.DNSKEY, k.key.rdata));
      case RRType.CDS:
        if (this.cdsDelete) return [rr(RRType.CDS, CDS_DELETE)];
        return this.keys
          .filter((k) => k.publishCds)
          .flatMap((k) => (this.policy.cdsDigests ?? [DigestType.SHA256]).map((d) => rr(RRType.CDS, k.key.ds(o, d))));
      case RRType.CDNSKEY:
        if (this.policy.cdnskey === false) return [];
        if (this.cdsDelete) return [rr(RRType.CDNSKEY, CDNSKEY_DELETE)];
        return this.keys.filter((k) => k.publishCds).map((k) => rr(RRType.CDNSKEY, k.key.rdata));
      case RRType.NSEC3PARAM: {
        const p = this.nsec3;
        return p ? [rr(RRType.NSEC3PARAM, nsec3ParamRdata(p), negTtl)] : [];
      }
    }
    return [];
  }

  /** Types with records at an owner (operator data plus the generated apex RRsets), ascending. */
  private typesAt(key: string): number[] {
    const types = this.data.get(key)?.typeList() ?? [];
    if (key === this.origin.key) for (const t of this.extra.keys()) if (!types.includes(t)) types.push(t);
    if (types.length > 1) types.sort((a, b) => a - b);
    return types;
  }

  /** The records of one RRset (operator and generated records of the type merged at the apex). */
  private rrset(key: string, type: number): RR[] {
    const own = this.data.get(key)?.get(type) ?? [];
    if (key !== this.origin.key) return own;
    const gen = this.extra.get(type);
    if (!gen) return own;
    const merged = [...gen];
    for (const r of own) if (!gen.some((g) => compareRdataCanonical(type, g.rdata, r.rdata) === 0)) merged.push(r);
    return merged;
  }

  private status(name: Name): Status {
    const depth = name.labelCount - this.origin.labelCount;
    // The apex is never below a cut or a DNAME (a DNAME at the apex occludes only the names under it).
    if (depth === 0 || (this.cuts.size === 0 && this.dnames.size === 0)) return 'auth';
    for (let i = 1; i <= depth; i++) {
      const ak = name.parent(i).key;
      if (i < depth && this.cuts.has(ak)) return 'occluded';
      if (this.dnames.has(ak)) return 'occluded';
    }
    return this.cuts.has(name.key) ? 'cut' : 'auth';
  }

  private evaluate(key: string, touchedTypes: readonly number[] | undefined, out: DeltaBuilder): void {
    const name = this.nameOf.get(key);
    if (!name) return; // never had data (a removal of a record that was not there)
    const types = this.typesAt(key);
    let status: Status = 'occluded';
    if (types.length === 0) {
      this.nameOf.delete(key);
      this.names.delete(name);
    } else status = this.status(name);
    const signed = status === 'auth' ? types : status === 'cut' ? types.filter((t) => t === RRType.DS) : [];

    const have = this.sigs.get(key);
    if (have)
      for (const t of [...have.keys()])
        if (t !== RRType.NSEC && t !== RRType.NSEC3 && !signed.includes(t)) this.dropSigs(key, t, out);
    for (const t of signed)
      if (touchedTypes?.includes(t) || !this.sigs.get(key)?.has(t)) this.sign(name, t, this.rrset(key, t), out);

    if (this.chain instanceof NsecChain) {
      const listed = status === 'auth' ? types : status === 'cut' ? types.filter((t) => t === RRType.NS || t === RRType.DS) : undefined;
      this.chain.set(name, listed);
      return;
    }
    let own: number[] | undefined;
    if (status === 'auth') own = [...types, RRType.RRSIG];
    else if (status === 'cut') {
      const secure = types.includes(RRType.DS);
      if (secure || !this.chain.params.optOut) own = secure ? [RRType.NS, RRType.DS, RRType.RRSIG] : [RRType.NS];
    }
    this.setNsec3(name, own?.sort((a, b) => a - b));
  }

  /** NSEC3 presence of one name, and the empty non-terminals above it that exist only because of it. */
  private setNsec3(name: Name, own: number[] | undefined): void {
    const chain = this.chain as Nsec3Chain;
    const key = name.key;
    const was = this.present.has(key);
    if (own) this.present.set(key, own);
    else this.present.delete(key);
    if (was !== (own !== undefined)) {
      const step = own ? 1 : -1;
      for (let a = name.parent(); a.labelCount > this.origin.labelCount; a = a.parent()) {
        const ak = a.key;
        const n = (this.entRefs.get(ak) ?? 0) + step;
        if (n === 0) this.entRefs.delete(ak);
        else this.entRefs.set(ak, n);
        if (!this.present.has(ak)) chain.set(a, n > 0 ? [] : undefined);
      }
    }
    chain.set(name, own ?? ((this.entRefs.get(key) ?? 0) > 0 ? [] : undefined));
  }

  private signersFor(owner: Name, type: number): readonly ZoneKey[] {
    return KSK_TYPES.has(type) && owner.equals(this.origin) ? this.kskSigners : this.zskSigners;
  }

  private dropSigs(key: string, type: number, out: DeltaBuilder): void {
    const m = this.sigs.get(key);
    const old = m?.get(type);
    if (!m || !old) return;
    for (const rr of old) {
      out.remove(rr);
      this.deferred?.delete(rr);
      this.forgetSignature(rr);
    }
    m.delete(type);
    if (m.size === 0) this.sigs.delete(key);
  }

  /** Replace the signatures over one RRset. */
  private sign(owner: Name, type: number, rrs: readonly RR[], out: DeltaBuilder): void {
    const key = owner.key;
    this.dropSigs(key, type, out);
    if (rrs.length === 0) return;
    if (this.reuse && this.reuseSigs(owner, type, rrs, out)) return;
    const set = rrsetFromRRs(rrs);
    const inception = this.now - (this.policy.inceptionOffset ?? 3600);
    const jitter = this.policy.jitter ?? 0;
    const expiration = this.now + (this.policy.validity ?? DEFAULT_VALIDITY) - (jitter > 0 ? fnv1a(key, type) % jitter : 0);
    const ownerWire = owner.toWire();
    const signer = this.origin.toWire();
    const labels = rrsigLabels(owner);
    const signers = this.signersFor(owner, type);
    // Exactly as long as it is (built by push, it would have room for 16).
    const made: RR[] = new Array<RR>(signers.length);
    for (let i = 0; i < signers.length; i++) {
      const k = signers[i];
      const job: SignJob = {
        owner: ownerWire, type, class: set.class, ttl: set.ttl, rdatas: set.rdatas, labels, algorithm: k.key.algorithm,
        keyTag: k.key.keyTag, signer, inception: inception >>> 0, expiration: expiration >>> 0,
      };
      const streamed = this.stream !== undefined && !this.stream.held.includes(type);
      const rdata = streamed ? PENDING_RDATA : this.deferred ? rrsigRdataPrefix(job) : signRRsetBytes(job, k.key.privateKey as NonNullable<DnssecKey['privateKey']>);
      const rr: RR = { name: owner, type: RRType.RRSIG, class: set.class, ttl: set.ttl, rdata };
      if (streamed) this.stream?.add(job, k.key, rr);
      else this.deferred?.set(rr, { job, key: k.key });
      this.noteSignature(rr, job.expiration);
      made[i] = rr;
      out.add(rr);
    }
    let m = this.sigs.get(key);
    if (!m) this.sigs.set(key, (m = new TypeMap()));
    m.set(type, made);
  }

  /** Restoring: take the stored signatures of (owner, type) when the keys that would sign now made them. */
  private reuseSigs(owner: Name, type: number, rrs: readonly RR[], out: DeltaBuilder): boolean {
    const stored = this.reuse?.get(owner.key)?.get(type);
    if (!stored || stored.length === 0) return false;
    const generated = type === RRType.NSEC || type === RRType.NSEC3 || (owner.equals(this.origin) && (APEX_GENERATED as readonly number[]).includes(type));
    if (generated && !sameRecords(this.reuseSets?.get(owner.key)?.get(type), rrs)) return false;
    // The same (algorithm, key tag) pairs on both sides, compared as numbers: a restore asks this for every RRset of
    // the zone (it built two strings each).
    const signers = this.signersFor(owner, type);
    if (signers.length !== stored.length) return false;
    if (signers.length === 1) {
      const r = stored[0].rdata;
      if (signers[0].key.algorithm !== r[2] || signers[0].key.keyTag !== ((r[16] << 8) | r[17])) return false;
    } else {
      const want = signers.map((k) => k.key.algorithm * 65536 + k.key.keyTag).sort((a, b) => a - b);
      const have = stored.map((r) => r.rdata[2] * 65536 + ((r.rdata[16] << 8) | r.rdata[17])).sort((a, b) => a - b);
      for (let i = 0; i < want.length; i++) if (want[i] !== have[i]) return false;
    }
    let m = this.sigs.get(owner.key);
    if (!m) this.sigs.set(owner.key, (m = new TypeMap()));
    m.set(type, stored);
    for (const rr of stored) {
      out.add(rr);
      this.noteSignature(rr);
    }
    return true;
  }

  /**
   * The operator's records at an owner now (for callers that know the new complete record list of some owners and
   * want the delta, see replaceOwners).
   */
  recordsAt(owner: Name): RR[] {
    const sets = this.data.get(owner.key);
    return sets ? [...sets.values()].flat() : [];
  }

  /**
   * What the signer made at an owner now: its RRSIGs, its NSEC or NSEC3 (under the hashed owner), and at the apex the
   * DNSKEY/CDS/CDNSKEY/NSEC3PARAM RRsets — the part of generated() at one owner.
   */
  generatedAt(owner: Name): RR[] {
    const key = owner.key;
    const out: RR[] = [];
    if (key === this.origin.key) for (const rrs of this.extra.values()) out.push(...rrs);
    const chained = this.chainRecs.get(key);
    if (chained) out.push(chained);
    const sigs = this.sigs.get(key);
    if (sigs) for (const rrs of sigs.values()) out.push(...rrs);
    return out;
  }

  /**
   * Apply a change given as the complete new record list of each touched owner (the shape of the served zone's patch,
   * zone/delta.ts): the difference against the records held is computed here, so an RRset that did not change is
   * not re-signed. Records the signer makes (RRSIG, NSEC, NSEC3) in the lists are ignored.
   */
  replaceOwners(owners: Iterable<{ name: Name; records: readonly RR[] }>, keys: readonly ZoneKey[], now: number): RecordDelta {
    const remove: RR[] = [];
    const add: RR[] = [];
    const id = (r: RR) => `${r.type}/${Buffer.from(r.rdata).toString('hex')}`;
    for (const o of owners) {
      const next = o.records.filter((r) => r.type !== RRType.RRSIG && r.type !== RRType.NSEC && r.type !== RRType.NSEC3);
      const old = new Map(this.recordsAt(o.name).map((r) => [id(r), r]));
      const nextIds = new Set<string>();
      for (const r of next) {
        const k = id(r);
        nextIds.add(k);
        const was = old.get(k);
        if (!was || was.ttl !== r.ttl) add.push(r);
      }
      for (const [k, r] of old) if (!nextIds.has(k)) remove.push(r);
    }
    return this.apply({ remove, add }, keys, now);
  }

  /**
   * A signed zone rebuilt from stored state: the operator's records and the signer records stored with them. The
   * chain and apex records are recomputed (they are deterministic); stored signatures are taken over when the keys
   * that would sign now made them, else made afresh. Returns the zone and what differs from the stored records
   * (empty when the store was complete and the keys unchanged).
   */
  static restore(
    origin: Name,
    policy: SignPolicy,
    records: readonly RR[],
    stored: readonly RR[],
    keys: readonly ZoneKey[],
    now: number,
  ): { zone: SignedZone; delta: RecordDelta } {
    const klass = records.find((r) => r.type === RRType.SOA)?.class ?? RRClass.IN;
    const z = new SignedZone(origin, policy, klass);
    const reuse = new Map<string, TypeMap<RR[]>>();
    const sets = new Map<string, TypeMap<RR[]>>();
    for (const rr of stored) {
      if (rr.type !== RRType.RRSIG) {
        let m = sets.get(rr.name.key);
        if (!m) sets.set(rr.name.key, (m = new TypeMap()));
        const l = m.get(rr.type);
        if (l) l.push(rr);
        else m.set(rr.type, [rr]);
        continue;
      }
      if (rr.rdata.length < 18) continue;
      const covered = (rr.rdata[0] << 8) | rr.rdata[1];
      let m = reuse.get(rr.name.key);
      if (!m) reuse.set(rr.name.key, (m = new TypeMap()));
      const l = m.get(covered);
      if (l) l.push(rr);
      else m.set(covered, [rr]);
    }
    z.reuse = reuse;
    z.reuseSets = sets;
    try {
      z.apply({ remove: [], add: [...records] }, keys, now);
    } finally {
      z.reuse = undefined;
      z.reuseSets = undefined;
    }
    // The RDATA as one character per octet (latin1: injective, half the length of hex, read in place).
    const id = (r: RR) => `${r.name.key}/${r.type}/${Buffer.from(r.rdata.buffer, r.rdata.byteOffset, r.rdata.byteLength).toString('latin1')}/${r.ttl}`;
    const want = new Map(z.generated().map((r) => [id(r), r]));
    const have = new Map(stored.map((r) => [id(r), r]));
    const remove = [...have].filter(([k]) => !want.has(k)).map(([, r]) => r);
    const add = [...want].filter(([k]) => !have.has(k)).map(([, r]) => r);
    return { zone: z, delta: { remove, add } };
  }

  /** Re-sign an RRset that has signatures now, from its current records. */
  private resignExisting(key: string, type: number, out: DeltaBuilder): void {
    if (type === RRType.NSEC || type === RRType.NSEC3) {
      const rr = this.chainRecs.get(key);
      if (rr) this.sign(rr.name, type, [rr], out);
      return;
    }
    const name = this.nameOf.get(key);
    if (name) this.sign(name, type, this.rrset(key, type), out);
  }

  /** After a change of signing keys: re-sign every RRset whose signatures are not exactly those of the keys now. */
  private resignForKeys(out: DeltaBuilder): void {
    const stale: [string, number][] = [];
    for (const [key, m] of this.sigs) {
      for (const [type, rrs] of m) {
        const owner = rrs[0]?.name;
        if (!owner) continue;
        const want = this.signersFor(owner, type)
          .map((k) => `${k.key.algorithm}/${k.key.keyTag}`)
          .sort()
          .join(' ');
        const have = rrs
          .map((r) => `${r.rdata[2]}/${(r.rdata[16] << 8) | r.rdata[17]}`)
          .sort()
          .join(' ');
        if (want !== have) stale.push([key, type]);
      }
    }
    for (const [key, type] of stale) this.resignExisting(key, type, out);
  }
}

function expiration(rrsig: Uint8Array): number {
  return ((rrsig[8] << 24) | (rrsig[9] << 16) | (rrsig[10] << 8) | rrsig[11]) >>> 0;
}

/** Sign a whole zone: the operator's records, the keys in force and the policy, at time `now` (seconds). */
export function signZone(origin: Name, records: readonly RR[], keys: readonly ZoneKey[], policy: SignPolicy, now: number): SignedZone {
  const klass = records.find((r) => r.type === RRType.SOA)?.class ?? RRClass.IN;
  const z = new SignedZone(origin, policy, klass);
  z.apply({ remove: [], add: [...records] }, keys, now);
  return z;
}

/** Apply a change of operator data to a signed zone (in place) and return the change of signer records. */
export function resignDelta(zone: SignedZone, delta: RecordDelta, keys: readonly ZoneKey[], now: number): RecordDelta {
  return zone.apply(delta, keys, now);
}
