// RRSIG creation and verification (RFC 4034 §3, RFC 4035 §5.3). Pure apart from node:crypto.
//
// Signing is split so that a full sign can be spread over worker threads later: `signRRsetBytes` is a function of
// bytes (owner wire name, RDATAs, header fields) and a KeyObject (KeyObjects can be posted to workers) and returns
// the RRSIG RDATA; nothing in it touches zone state. `signRRset` is the convenience form over Name/RR values.

import { serialGreater } from '../dns/serial.js';
import type { KeyObject } from 'node:crypto';
import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { canonicalRRsetRdata, type RrsigFields, rrsigFields } from '../dns/rdata.js';
import { crypto, DnssecError, requireAlgorithm } from './algorithms.js';
import type { DnssecKey } from './keys.js';

/** RRSIG Labels field (RFC 4034 §3.1.3): labels of the owner, not counting the root or a leading "*". */
export function rrsigLabels(owner: Name): number {
  return owner.isWildcard() ? owner.labelCount - 1 : owner.labelCount;
}

/** Everything one RRSIG needs, as plain values and bytes (the unit of work a signing worker receives). */
export interface SignJob {
  /** Owner name, uncompressed wire form (any case: it is lower-cased here). */
  owner: Uint8Array;
  type: number;
  class: number;
  /** Original TTL (the RRset's TTL). */
  ttl: number;
  /** RDATAs of the RRset in internal form; canonicalised, ordered and deduplicated here. */
  rdatas: readonly Uint8Array[];
  /** RRSIG Labels field. */
  labels: number;
  algorithm: number;
  keyTag: number;
  /** Signer's name (the zone apex), wire form; written lower-cased. */
  signer: Uint8Array;
  inception: number;
  expiration: number;
}

/** Write `w` lower-cased (RFC 4034 §6.2) into `out` at `at`; the offset after it. */
function putLower(out: Uint8Array, at: number, w: Uint8Array): number {
  for (let i = 0; i < w.length; i++) {
    const b = w[i];
    out[at + i] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  }
  return at + w.length;
}

/** RRSIG RDATA fields before the signer (RFC 4034 §3.1), written into `out` at `at`; the offset after them. */
function putRrsigHead(out: Uint8Array, at: number, j: Omit<SignJob, 'owner' | 'rdatas'>): number {
  out[at] = j.type >> 8;
  out[at + 1] = j.type;
  out[at + 2] = j.algorithm;
  out[at + 3] = j.labels;
  putU32(out, at + 4, j.ttl);
  putU32(out, at + 8, j.expiration);
  putU32(out, at + 12, j.inception);
  out[at + 16] = j.keyTag >> 8;
  out[at + 17] = j.keyTag;
  return at + 18;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/** RRSIG RDATA without the signature (RFC 4034 §3.1.8.1), signer lower-cased, written at `at`; the offset after it. */
export function putRrsigPrefix(out: Uint8Array, at: number, j: Omit<SignJob, 'owner' | 'rdatas'>): number {
  return putLower(out, putRrsigHead(out, at, j), j.signer);
}

/** RRSIG RDATA without the signature: the first part of the signed data (RFC 4034 §3.1.8.1), signer lower-cased. */
function rrsigPrefix(j: Omit<SignJob, 'owner' | 'rdatas'>): Uint8Array {
  const out = new Uint8Array(18 + j.signer.length);
  putRrsigPrefix(out, 0, j);
  return out;
}

/**
 * The octets an RRSIG signs: RRSIG RDATA (signature excluded, signer lower-case) followed by each RR of the RRset in
 * canonical form and order, owner lower-cased, TTL = original TTL (RFC 4034 §3.1.8.1, §6.2, §6.3).
 */
export function signedData(prefix: Uint8Array, owner: Uint8Array, type: number, klass: number, ttl: number, rdatas: readonly Uint8Array[]): Uint8Array {
  const rds = canonicalRRsetRdata(type, rdatas);
  let size = prefix.length;
  for (const rd of rds) size += owner.length + 10 + rd.length;
  const out = new Uint8Array(size);
  out.set(prefix);
  putRRs(out, prefix.length, owner, type, klass, ttl, rds);
  return out;
}

/**
 * The octets job `j` signs (signedData of its prefix), written into `scratch.buf` (replaced by a larger one when it
 * is too small): a signing thread signs thousands of RRsets, and a buffer of its own for each cost more than the
 * copy. The view returned is valid until the next call.
 */
export function signedDataInto(scratch: { buf: Uint8Array }, j: SignJob): Uint8Array {
  const rds = canonicalRRsetRdata(j.type, j.rdatas);
  let size = 18 + j.signer.length;
  for (const rd of rds) size += j.owner.length + 10 + rd.length;
  if (scratch.buf.length < size) scratch.buf = new Uint8Array(Math.max(size, 2 * scratch.buf.length));
  const out = scratch.buf;
  putRRs(out, putRrsigPrefix(out, 0, j), j.owner, j.type, j.class, j.ttl, rds);
  return out.subarray(0, size);
}

/** The RRs of an RRset in canonical form (RFC 4034 §6.2), owner lower-cased, written at `p`. */
function putRRs(out: Uint8Array, p: number, owner: Uint8Array, type: number, klass: number, ttl: number, rds: readonly Uint8Array[]): void {
  for (const rd of rds) {
    p = putLower(out, p, owner);
    out[p] = type >> 8;
    out[p + 1] = type;
    out[p + 2] = klass >> 8;
    out[p + 3] = klass;
    putU32(out, p + 4, ttl);
    out[p + 8] = rd.length >> 8;
    out[p + 9] = rd.length;
    out.set(rd, p + 10);
    p += 10 + rd.length;
  }
}

/** Sign bytes with a private key of DNSSEC algorithm `alg`; ECDSA in the DNS r|s form (RFC 6605 §4), not DER. */
export function signBytes(alg: number, key: KeyObject, data: Uint8Array): Uint8Array {
  const a = requireAlgorithm(alg);
  if (a.kind === 'ec') return new Uint8Array(crypto().sign(a.digest, data, { key, dsaEncoding: 'ieee-p1363' }));
  return new Uint8Array(crypto().sign(a.digest, data, key));
}

/** Check a signature made by signBytes (or by any DNSSEC signer) with a public key. */
export function verifyBytes(alg: number, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const a = requireAlgorithm(alg);
  try {
    if (a.kind === 'ec') {
      if (signature.length !== 2 * (a.size as number)) return false;
      return crypto().verify(a.digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return crypto().verify(a.digest, data, key, signature);
  } catch {
    return false;
  }
}

/** The RRSIG RDATA a job makes, without the signature (what a deferred signature holds until it is computed). */
export function rrsigRdataPrefix(j: SignJob): Uint8Array {
  return rrsigPrefix(j);
}

/** RRSIG RDATA for one RRset: a pure function of its bytes and the private key. */
export function signRRsetBytes(j: SignJob, key: KeyObject): Uint8Array {
  const prefix = rrsigPrefix(j);
  const sig = signBytes(j.algorithm, key, signedData(prefix, j.owner, j.type, j.class, j.ttl, j.rdatas));
  const out = new Uint8Array(prefix.length + sig.length);
  out.set(prefix, 0);
  out.set(sig, prefix.length);
  return out;
}

export interface RRsetInput {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  rdatas: readonly Uint8Array[];
}

/** The RRs of one RRset (same name, type, class) as signing input; the TTL is the smallest of them (RFC 2181 §5.2). */
export function rrsetFromRRs(rrs: readonly RR[]): RRsetInput {
  if (rrs.length === 0) throw new DnssecError('empty RRset');
  const first = rrs[0];
  let ttl = first.ttl;
  for (const r of rrs) {
    if (r.type !== first.type || r.class !== first.class || !r.name.equals(first.name))
      throw new DnssecError('records of different RRsets given as one RRset');
    if (r.ttl < ttl) ttl = r.ttl;
  }
  return { name: first.name, type: first.type, class: first.class, ttl, rdatas: rrs.map((r) => r.rdata) };
}

export interface SignTimes {
  inception: number;
  expiration: number;
}

/** RRSIG RDATA over `rrset` with `key` (which must hold its private key), signer = zone apex. */
export function signRRset(rrset: RRsetInput, key: DnssecKey, signer: Name, times: SignTimes): Uint8Array {
  if (!key.privateKey) throw new DnssecError(`key ${key.keyTag} has no private key`);
  if (rrset.type === RRType.RRSIG) throw new DnssecError('an RRSIG RRset is never signed (RFC 4035 §2.2)');
  if (!rrset.name.isSubdomainOf(signer)) throw new DnssecError(`${rrset.name.toString()} is not in zone ${signer.toString()}`);
  return signRRsetBytes(
    {
      owner: rrset.name.toWire(), type: rrset.type, class: rrset.class, ttl: rrset.ttl, rdatas: rrset.rdatas,
      labels: rrsigLabels(rrset.name), algorithm: key.algorithm, keyTag: key.keyTag, signer: signer.toWire(),
      inception: times.inception, expiration: times.expiration,
    },
    key.privateKey,
  );
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** RFC 1982 serial-number "a is before b" on 32-bit times (RFC 4034 §3.1.5). */
function timeBefore(a: number, b: number): boolean {
  return serialGreater(b >>> 0, a >>> 0);
}

export interface VerifyOptions {
  /** Check the validity period against this time (seconds); omit to skip the time check. */
  now?: number;
}

/**
 * Verify an RRSIG over an RRset with a DNSKEY (RFC 4035 §5.3): fields that must match (type covered, algorithm, key
 * tag, signer being an ancestor, labels), the validity period when `now` is given, and the signature itself. An
 * RRset whose owner has more labels than the RRSIG's Labels field is a wildcard expansion and is checked against the
 * wildcard owner (RFC 4035 §5.3.2).
 */
export function verifyRrsig(rrset: RRsetInput, rrsig: Uint8Array, key: DnssecKey, opts: VerifyOptions = {}): VerifyResult {
  let f: RrsigFields;
  try {
    f = rrsigFields(rrsig);
  } catch {
    return { ok: false, reason: 'malformed RRSIG RDATA' };
  }
  if (f.typeCovered !== rrset.type) return { ok: false, reason: `RRSIG covers type ${f.typeCovered}, not ${rrset.type}` };
  if (f.algorithm !== key.algorithm) return { ok: false, reason: `RRSIG algorithm ${f.algorithm} ≠ key algorithm ${key.algorithm}` };
  if (f.keyTag !== key.keyTag) return { ok: false, reason: `RRSIG key tag ${f.keyTag} ≠ key tag ${key.keyTag}` };
  if ((key.flags & 0x0100) === 0) return { ok: false, reason: 'the key is not a zone key' };
  if (!rrset.name.isSubdomainOf(f.signer)) return { ok: false, reason: `signer ${f.signer.toString()} is not an ancestor of the owner` };
  const ownerLabels = rrsigLabels(rrset.name);
  if (f.labels > ownerLabels) return { ok: false, reason: `RRSIG labels ${f.labels} > owner labels ${ownerLabels}` };
  let owner = rrset.name;
  if (f.labels < rrset.name.labelCount) owner = rrset.name.parent(rrset.name.labelCount - f.labels).prepend(Uint8Array.of(0x2a));
  if (opts.now !== undefined) {
    if (timeBefore(opts.now, f.inception)) return { ok: false, reason: 'signature not yet valid (inception in the future)' };
    if (timeBefore(f.expiration, opts.now)) return { ok: false, reason: 'signature expired' };
  }
  const prefix = rrsig.subarray(0, rrsig.length - f.signature.length);
  // The signer's name is signed in canonical (lower-case) form whatever case it was sent in.
  const canonPrefix = Uint8Array.from(prefix);
  canonPrefix.set(f.signer.toCanonicalWire(), 18);
  const data = signedData(canonPrefix, owner.toWire(), rrset.type, rrset.class, f.originalTtl, rrset.rdatas);
  return verifyBytes(key.algorithm, key.publicKeyObject(), data, f.signature) ? { ok: true } : { ok: false, reason: 'bad signature' };
}

/** `signer` of an RRSIG (cheap helper for callers grouping signatures). */
export function rrsigSigner(rrsig: Uint8Array): Name {
  return rrsigFields(rrsig).signer;
}
