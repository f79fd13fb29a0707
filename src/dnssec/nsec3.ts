// NSEC3 chains (RFC 5155): one NSEC3 per hashed owner name (authoritative names, delegations, empty non-terminals;
// with opt-out, insecure delegations and the empty non-terminals that lead only to them are left out, as BIND's
// dnssec-signzone does), ordered by hash, the last pointing back to the first. Hash parameters default to RFC 9276
// (SHA-1, 0 extra iterations, empty salt).

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { makeNsec3, makeNsec3Param } from '../dns/rdata.js';
import { fromBase32Hex, toBase32Hex } from '../dns/rdata/text.js';
import { crypto, DnssecError } from './algorithms.js';
import { LinkedChain } from './chain.js';

export const NSEC3_SHA1 = 1;
export const NSEC3_OPT_OUT = 0x01;
/** RFC 9276 §3.2: validators may treat more iterations as insecure (BIND 9.20 and Unbound stop well below this). */
export const MAX_NSEC3_ITERATIONS = 150;

export interface Nsec3Params {
  /** Extra iterations (RFC 9276: 0). */
  iterations: number;
  /** Salt (RFC 9276: empty). */
  salt: Uint8Array;
  /** Opt-out (RFC 5155 §6): insecure delegations get no NSEC3. */
  optOut: boolean;
}

export const DEFAULT_NSEC3: Nsec3Params = { iterations: 0, salt: new Uint8Array(0), optOut: false };

export function checkNsec3Params(p: Nsec3Params): void {
  if (!Number.isInteger(p.iterations) || p.iterations < 0 || p.iterations > MAX_NSEC3_ITERATIONS)
    throw new DnssecError(`NSEC3 iterations ${p.iterations} not in 0..${MAX_NSEC3_ITERATIONS} (RFC 9276 recommends 0)`);
  if (p.salt.length > 255) throw new DnssecError('NSEC3 salt longer than 255 octets');
}

/** RFC 5155 §5: IH(salt, x, 0) = H(x | salt); IH(salt, x, k) = H(IH(salt, x, k-1) | salt); x = canonical owner. */
export function nsec3Hash(name: Name, salt: Uint8Array, iterations: number): Uint8Array {
  const c = crypto();
  let h = c.createHash('sha1').update(name.toCanonicalWire()).update(salt).digest();
  for (let i = 0; i < iterations; i++) h = c.createHash('sha1').update(h).update(salt).digest();
  return new Uint8Array(h);
}

/** The hashed owner label in base32hex, lower-case (order-preserving, so strings sort as the hashes do). */
export function nsec3Label(name: Name, salt: Uint8Array, iterations: number): string {
  return toBase32Hex(nsec3Hash(name, salt, iterations)).toLowerCase();
}

/** NSEC3PARAM RDATA for the chain (flags 0: opt-out is a property of NSEC3 records, RFC 5155 §4.1.2). */
export function nsec3ParamRdata(p: Nsec3Params): Uint8Array {
  return makeNsec3Param({ hashAlgorithm: NSEC3_SHA1, flags: 0, iterations: p.iterations, salt: p.salt });
}

export class Nsec3Chain extends LinkedChain<string> {
  /** Hashed label → key of the original owner (to refuse a hash collision instead of corrupting the chain). */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly origin: Name,
    ttl: number,
    private readonly klass: number,
    readonly params: Nsec3Params,
  ) {
    super((a, b) => (a < b ? -1 : a > b ? 1 : 0), ttl);
    checkNsec3Params(params);
  }

  protected keyOf(at: string): string {
    return at;
  }

  /** The owner name of the NSEC3 record for a hashed label. */
  hashedOwner(label: string): Name {
    return this.origin.prepend(new TextEncoder().encode(label));
  }

  hashOf(owner: Name): string {
    return nsec3Label(owner, this.params.salt, this.params.iterations);
  }

  protected build(at: string, next: string, types: readonly number[]): RR {
    const rdata = makeNsec3({
      hashAlgorithm: NSEC3_SHA1,
      flags: this.params.optOut ? NSEC3_OPT_OUT : 0,
      iterations: this.params.iterations,
      salt: this.params.salt,
      nextHashed: fromBase32Hex(next) as Uint8Array,
      types,
    });
    return { name: this.hashedOwner(at), type: RRType.NSEC3, class: this.klass, ttl: this.ttl, rdata };
  }

  /**
   * Give `owner` an NSEC3 listing `types` (the caller adds RRSIG when the owner has signed RRsets; an empty list is
   * an empty non-terminal), or take it out (undefined).
   */
  set(owner: Name, types: readonly number[] | undefined): void {
    const h = this.hashOf(owner);
    const prev = this.owners.get(h);
    if (types === undefined) {
      if (prev === undefined || prev !== owner.key) return;
      this.owners.delete(h);
      this.setAt(h, undefined);
      return;
    }
    if (prev !== undefined && prev !== owner.key)
      throw new DnssecError(`NSEC3 hash collision between ${prev} and ${owner.key}: choose another salt`);
    this.owners.set(h, owner.key);
    this.setAt(h, [...types].sort((a, b) => a - b));
  }
}
