// DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers") and what each needs from node:crypto. Pure data,
// plus the lazy node:crypto accessor every module of this folder uses.

import type * as NodeCrypto from 'node:crypto';

// node:crypto is loaded on first use, not at import: zone_tool reaches DNSSEC code through the services and most
// commands never touch a key (the same rule as src/dns/tsig.ts).
let nodeCrypto: typeof NodeCrypto | undefined;
export const crypto = (): typeof NodeCrypto => (nodeCrypto ??= process.getBuiltinModule('node:crypto'));

export const Algorithm = {
  RSASHA256: 8,
  RSASHA512: 10,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
} as const;

export interface AlgorithmInfo {
  readonly number: number;
  /** The mnemonic BIND writes in key files ("Algorithm: 13 (ECDSAP256SHA256)"). */
  readonly name: string;
  readonly kind: 'rsa' | 'ec' | 'ed';
  /** node:crypto digest for crypto.sign (null for EdDSA, which hashes internally). */
  readonly digest: string | null;
  /** JWK curve name for EC/OKP keys. */
  readonly curve?: string;
  /** OpenSSL curve name for ECDH (deriving an EC public key from a bare private scalar). */
  readonly ecdhCurve?: string;
  /** Octets of one coordinate / of the EdDSA key (public key and signature sizes follow from it). */
  readonly size?: number;
  /** DER prefix of a PKCS#8 EdDSA private key, followed by the raw seed (RFC 8410 §7). */
  readonly pkcs8Prefix?: string;
}

const TABLE: readonly AlgorithmInfo[] = [
  { number: 8, name: 'RSASHA256', kind: 'rsa', digest: 'sha256' },
  { number: 10, name: 'RSASHA512', kind: 'rsa', digest: 'sha512' },
  { number: 13, name: 'ECDSAP256SHA256', kind: 'ec', digest: 'sha256', curve: 'P-256', ecdhCurve: 'prime256v1', size: 32 },
  { number: 14, name: 'ECDSAP384SHA384', kind: 'ec', digest: 'sha384', curve: 'P-384', ecdhCurve: 'secp384r1', size: 48 },
  { number: 15, name: 'ED25519', kind: 'ed', digest: null, curve: 'Ed25519', size: 32, pkcs8Prefix: '302e020100300506032b657004220420' },
  { number: 16, name: 'ED448', kind: 'ed', digest: null, curve: 'Ed448', size: 57, pkcs8Prefix: '3047020100300506032b6571043b0439' },
];

const BY_NUMBER = new Map(TABLE.map((a) => [a.number, a]));

/** The algorithms this signer can generate, sign and verify with. */
export const SUPPORTED_ALGORITHMS: readonly number[] = TABLE.map((a) => a.number);

export function algorithmInfo(alg: number): AlgorithmInfo | undefined {
  return BY_NUMBER.get(alg);
}

/** Like algorithmInfo, but an unsupported algorithm is an error that names it. */
export function requireAlgorithm(alg: number): AlgorithmInfo {
  const a = BY_NUMBER.get(alg);
  if (!a) throw new DnssecError(`DNSSEC algorithm ${alg} is not supported (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
  return a;
}

/** Algorithm by number or mnemonic ("13", "ECDSAP256SHA256", "ed25519"). */
export function algorithmFromString(text: string): number | undefined {
  const t = text.trim().toUpperCase();
  if (/^[0-9]+$/.test(t)) return BY_NUMBER.has(Number(t)) ? Number(t) : undefined;
  return TABLE.find((a) => a.name === t)?.number;
}

/** Errors of this folder: bad key material, a key file that does not fit the zone, unsupported algorithms. */
export class DnssecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnssecError';
  }
}
