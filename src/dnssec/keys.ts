// DNSSEC keys: generation with node:crypto, the DNSKEY public-key formats (RFC 3110 RSA, RFC 6605 ECDSA, RFC 8080
// EdDSA), the key tag (RFC 4034 App. B), DS/CDS digests (RFC 4034 §5.1.4, RFC 4509, RFC 6605), a portable private
// key form for storage (PKCS#8 DER or PEM), and BIND's K<zone>+<alg>+<tag>.key/.private files (import for
// migration, export). Pure apart from node:crypto: nothing here reads or writes files; callers pass file texts.

import type { KeyObject } from 'node:crypto';
import { RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { makeDnskey, makeDs, rdataFromText, rdataToText } from '../dns/rdata.js';
import { formatTime, parseTime } from '../dns/rdata/fields.js';
import { fromBase64, toBase64 } from '../dns/rdata/text.js';
import { type AlgorithmInfo, crypto, DnssecError, requireAlgorithm } from './algorithms.js';

/** DNSKEY flags (RFC 4034 §2.1.1, RFC 5011 §7). */
export const DNSKEY_ZONE = 0x0100;
export const DNSKEY_SEP = 0x0001;
export const DNSKEY_REVOKE = 0x0080;
/** Flags of a key-signing key (or CSK) and of a zone-signing key. */
export const KSK_FLAGS = DNSKEY_ZONE | DNSKEY_SEP;
export const ZSK_FLAGS = DNSKEY_ZONE;

/** DS digest types (IANA): SHA-1 (only to read old data), SHA-256, SHA-384. */
export const DigestType = { SHA1: 1, SHA256: 2, SHA384: 4 } as const;
const DIGESTS: Record<number, string> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' };

const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const fromB64u = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64url'));

/**
 * One DNSSEC key: the DNSKEY data and, when we hold it, the private key (a parsed node:crypto KeyObject: parsing a
 * key on every signature is ~16× slower, FIELD-NOTES §6). Immutable.
 */
export class DnssecKey {
  /** DNSKEY RDATA (flags, protocol 3, algorithm, public key). */
  readonly rdata: Uint8Array;
  readonly keyTag: number;
  private pub: KeyObject | undefined;

  constructor(
    readonly algorithm: number,
    readonly flags: number,
    /** The DNSKEY public key field in its algorithm's format. */
    readonly publicKey: Uint8Array,
    readonly privateKey?: KeyObject,
  ) {
    requireAlgorithm(algorithm);
    this.rdata = makeDnskey({ flags, protocol: 3, algorithm, publicKey });
    this.keyTag = keyTag(this.rdata);
  }

  /** SEP bit set: a KSK or CSK by convention (RFC 4034 §2.1.1; the bit is advisory to validators). */
  get isSep(): boolean {
    return (this.flags & DNSKEY_SEP) !== 0;
  }

  get hasPrivateKey(): boolean {
    return this.privateKey !== undefined;
  }

  publicKeyObject(): KeyObject {
    this.pub ??= publicKeyObject(this.algorithm, this.publicKey);
    return this.pub;
  }

  /** The same key with other flags (e.g. the REVOKE bit); the key tag changes with them. */
  withFlags(flags: number): DnssecKey {
    return new DnssecKey(this.algorithm, flags, this.publicKey, this.privateKey);
  }

  /** DS (or CDS) RDATA for this key as the DNSKEY of `owner`. */
  ds(owner: Name, digestType: number = DigestType.SHA256): Uint8Array {
    return dsRdata(owner, this.rdata, digestType);
  }
}

/** RFC 4034 Appendix B key tag of DNSKEY RDATA (with the B.1 rule for algorithm 1). */
export function keyTag(dnskeyRdata: Uint8Array): number {
  const rd = dnskeyRdata;
  if (rd.length >= 4 && rd[3] === 1) {
    // RSA/MD5: the most significant 16 of the least significant 24 bits of the modulus.
    return rd.length < 7 ? 0 : (rd[rd.length - 3] << 8) | rd[rd.length - 2];
  }
  let ac = 0;
  for (let i = 0; i < rd.length; i++) ac += i & 1 ? rd[i] : rd[i] << 8;
  ac += (ac >>> 16) & 0xffff;
  return ac & 0xffff;
}

/** DS RDATA: key tag, algorithm, digest type, digest of (canonical owner name | DNSKEY RDATA) (RFC 4034 §5.1.4). */
export function dsRdata(owner: Name, dnskeyRdata: Uint8Array, digestType: number = DigestType.SHA256): Uint8Array {
  const hash = DIGESTS[digestType];
  if (!hash) throw new DnssecError(`DS digest type ${digestType} is not supported (1 SHA-1, 2 SHA-256, 4 SHA-384)`);
  if (dnskeyRdata.length < 4) throw new DnssecError('DNSKEY RDATA too short');
  const h = crypto().createHash(hash);
  h.update(owner.toCanonicalWire());
  h.update(dnskeyRdata);
  const digest = new Uint8Array(h.digest());
  return makeDs({ keyTag: keyTag(dnskeyRdata), algorithm: dnskeyRdata[3], digestType, digest });
}

// --- public key formats -------------------------------------------------------------------------------------------

function pad(b: Uint8Array, n: number): Uint8Array {
  if (b.length === n) return b;
  if (b.length > n) throw new DnssecError(`key component of ${b.length} octets, expected ${n}`);
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** RFC 3110 §2: exponent length (1 octet, or 0 and 2 octets), exponent, modulus. */
function encodeRsaPublic(n: Uint8Array, e: Uint8Array): Uint8Array {
  n = stripZeros(n);
  e = stripZeros(e);
  const head = e.length <= 255 ? [e.length] : [0, e.length >> 8, e.length & 0xff];
  const out = new Uint8Array(head.length + e.length + n.length);
  out.set(head, 0);
  out.set(e, head.length);
  out.set(n, head.length + e.length);
  return out;
}

function decodeRsaPublic(pk: Uint8Array): { n: Uint8Array; e: Uint8Array } {
  if (pk.length < 3) throw new DnssecError('RSA public key too short');
  let p = 1;
  let elen = pk[0];
  if (elen === 0) {
    elen = (pk[1] << 8) | pk[2];
    p = 3;
  }
  if (elen === 0 || p + elen >= pk.length) throw new DnssecError('RSA public key: bad exponent length');
  const e = pk.subarray(p, p + elen);
  const n = pk.subarray(p + elen);
  if (n[0] === 0) throw new DnssecError('RSA public key: modulus has a leading zero octet');
  // RFC 3110 allows 512..4096 bits; below 1024 no validator accepts it any more.
  if (n.length * 8 < 1024 || n.length * 8 > 4096) throw new DnssecError(`RSA modulus of ${n.length * 8} bits (1024..4096)`);
  return { n, e };
}

/** The DNSKEY public key field for a node:crypto key (public or private) of algorithm `alg`. */
export function publicKeyField(alg: number, key: KeyObject): Uint8Array {
  const a = requireAlgorithm(alg);
  checkKeyType(a, key);
  const jwk = (key.type === 'private' ? crypto().createPublicKey(key) : key).export({ format: 'jwk' });
  switch (a.kind) {
    case 'rsa':
      return encodeRsaPublic(fromB64u(jwk.n as string), fromB64u(jwk.e as string));
    case 'ec': {
      const size = a.size as number;
      const out = new Uint8Array(2 * size);
      out.set(pad(fromB64u(jwk.x as string), size), 0);
      out.set(pad(fromB64u(jwk.y as string), size), size);
      return out;
    }
    case 'ed':
      return fromB64u(jwk.x as string);
  }
}

/** A node:crypto public key from a DNSKEY public key field (RFC 3110 / RFC 6605 §4 / RFC 8080 §3). */
export function publicKeyObject(alg: number, pk: Uint8Array): KeyObject {
  const a = requireAlgorithm(alg);
  const c = crypto();
  try {
    switch (a.kind) {
      case 'rsa': {
        const { n, e } = decodeRsaPublic(pk);
        return c.createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
      }
      case 'ec': {
        const size = a.size as number;
        if (pk.length !== 2 * size) throw new DnssecError(`${a.name} public key is ${pk.length} octets, not ${2 * size}`);
        const jwk = { kty: 'EC', crv: a.curve, x: b64u(pk.subarray(0, size)), y: b64u(pk.subarray(size)) };
        return c.createPublicKey({ key: jwk, format: 'jwk' });
      }
      case 'ed':
        if (pk.length !== a.size) throw new DnssecError(`${a.name} public key is ${pk.length} octets, not ${a.size}`);
        return c.createPublicKey({ key: { kty: 'OKP', crv: a.curve, x: b64u(pk) }, format: 'jwk' });
    }
  } catch (e) {
    if (e instanceof DnssecError) throw e;
    throw new DnssecError(`not a valid ${a.name} public key: ${(e as Error).message}`);
  }
}

function checkKeyType(a: AlgorithmInfo, key: KeyObject): void {
  const t = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const ok =
    a.kind === 'rsa'
      ? t === 'rsa'
      : a.kind === 'ec'
        ? t === 'ec' && (curve === a.ecdhCurve || (a.curve === 'P-256' && curve === 'P-256') || (a.curve === 'P-384' && curve === 'P-384'))
        : t === a.curve?.toLowerCase();
  if (!ok) throw new DnssecError(`a ${t}${curve ? ` ${curve}` : ''} key is not a ${a.name} key`);
}

// --- generation and the portable private form ---------------------------------------------------------------------

export interface GenerateOptions {
  /** DNSKEY flags (default ZSK_FLAGS = 256; KSK_FLAGS = 257 for a KSK or CSK). */
  flags?: number;
  /** RSA modulus size (default 2048). */
  rsaBits?: number;
}

/** A new key pair of algorithm `alg`. */
export function generateKey(alg: number, opts: GenerateOptions = {}): DnssecKey {
  const a = requireAlgorithm(alg);
  const c = crypto();
  let privateKey: KeyObject;
  switch (a.kind) {
    case 'rsa': {
      const bits = opts.rsaBits ?? 2048;
      if (bits < 1024 || bits > 4096) throw new DnssecError(`RSA key size ${bits} not in 1024..4096`);
      privateKey = fromDer(
        c.generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 }).privateKey,
      );
      break;
    }
    case 'ec':
      privateKey = fromDer(c.generateKeyPairSync('ec', { namedCurve: a.curve as string, publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 }).privateKey);
      break;
    case 'ed':
      privateKey = fromDer(
        a.curve === 'Ed25519'
          ? c.generateKeyPairSync('ed25519', { publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 }).privateKey
          : c.generateKeyPairSync('ed448', { publicKeyEncoding: SPKI, privateKeyEncoding: PKCS8 }).privateKey,
      );
      break;
  }
  return new DnssecKey(alg, opts.flags ?? ZSK_FLAGS, publicKeyField(alg, privateKey), privateKey);
}

// A new pair is made as DER and read back into a fresh KeyObject. With the KeyObject the generation returns, Node 20
// can deadlock: its key-generation job, collected while that key is being exported to JWK (publicKeyField), takes in
// its finalizer the key's mutex the export holds — seen as a unit test hung for minutes, the main thread in
// ~KeyGenJob under ExportJWKEdKey (gdb). A key read from DER shares nothing with the job.

const SPKI = { type: 'spki', format: 'der' } as const;
const PKCS8 = { type: 'pkcs8', format: 'der' } as const;

function fromDer(pkcs8: Buffer): KeyObject {
  return crypto().createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

/** The private key as PKCS#8 DER (the form to store, encrypted, in the database). */
export function privateKeyPkcs8(key: DnssecKey): Uint8Array {
  if (!key.privateKey) throw new DnssecError(`key ${key.keyTag} has no private key`);
  return new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/** The private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
export function privateKeyPem(key: DnssecKey): string {
  if (!key.privateKey) throw new DnssecError(`key ${key.keyTag} has no private key`);
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** A key from its algorithm, DNSKEY flags and PKCS#8 private key (DER bytes or PEM text). */
export function keyFromPkcs8(alg: number, flags: number, pkcs8: Uint8Array | string): DnssecKey {
  const a = requireAlgorithm(alg);
  let privateKey: KeyObject;
  try {
    privateKey =
      typeof pkcs8 === 'string'
        ? crypto().createPrivateKey({ key: pkcs8, format: 'pem' })
        : crypto().createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new DnssecError(`not a PKCS#8 private key: ${(e as Error).message}`);
  }
  checkKeyType(a, privateKey);
  return new DnssecKey(alg, flags, publicKeyField(alg, privateKey), privateKey);
}

/** A public-only key from DNSKEY RDATA (to verify signatures, or to publish a key held elsewhere). */
export function keyFromDnskey(rdata: Uint8Array): DnssecKey {
  if (rdata.length < 5) throw new DnssecError('DNSKEY RDATA too short');
  if (rdata[2] !== 3) throw new DnssecError(`DNSKEY protocol ${rdata[2]}, must be 3 (RFC 4034 §2.1.2)`);
  const key = new DnssecKey(rdata[3], (rdata[0] << 8) | rdata[1], rdata.slice(4));
  key.publicKeyObject(); // a malformed public key is an error now, not at the first verification
  return key;
}

// --- BIND key files -----------------------------------------------------------------------------------------------

/**
 * Key timing metadata as BIND keeps it in .private (v1.3) and .key comments, in seconds since the epoch. Only the
 * fields present in the file are set.
 */
export interface KeyTiming {
  created?: number;
  publish?: number;
  activate?: number;
  revoke?: number;
  inactive?: number;
  delete?: number;
  syncPublish?: number;
  syncDelete?: number;
}

const TIMING_FIELDS: readonly [keyof KeyTiming, string][] = [
  ['created', 'Created'], ['publish', 'Publish'], ['activate', 'Activate'], ['revoke', 'Revoke'],
  ['inactive', 'Inactive'], ['delete', 'Delete'], ['syncPublish', 'SyncPublish'], ['syncDelete', 'SyncDelete'],
];

/** BIND's .private field names for the RSA components and the JWK members holding them. */
const RSA_FIELDS: readonly [string, string][] = [
  ['Modulus', 'n'], ['PublicExponent', 'e'], ['PrivateExponent', 'd'], ['Prime1', 'p'], ['Prime2', 'q'],
  ['Exponent1', 'dp'], ['Exponent2', 'dq'], ['Coefficient', 'qi'],
];

export interface BindPrivateKey {
  /** "v1.2", "v1.3". */
  format: string;
  algorithm: number;
  privateKey: KeyObject;
  timing: KeyTiming;
}

/** Parse a BIND `K….private` file (Private-key-format v1.2/v1.3). */
export function parseBindPrivateKey(text: string): BindPrivateKey {
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) throw new DnssecError(`not a BIND private key file: bad line "${line.slice(0, 40)}"`);
    fields.set(m[1], m[2].trim());
  }
  const fmt = fields.get('Private-key-format');
  if (!fmt) throw new DnssecError('not a BIND private key file: no "Private-key-format:" line');
  if (!/^v1\.[2-9]$/.test(fmt)) throw new DnssecError(`BIND private key format ${fmt} is not supported (v1.2, v1.3)`);
  const algText = fields.get('Algorithm');
  const algm = algText === undefined ? null : /^([0-9]+)\b/.exec(algText);
  if (!algm) throw new DnssecError('BIND private key file has no "Algorithm:" line');
  const algorithm = Number(algm[1]);
  const a = requireAlgorithm(algorithm);
  if (fields.has('Engine') || fields.has('Label'))
    throw new DnssecError('the key lives in an HSM (Engine/Label in the private key file): only file keys can be imported');
  const b64 = (name: string): Uint8Array => {
    const v = fields.get(name);
    if (v === undefined) throw new DnssecError(`BIND private key file has no "${name}:" line`);
    const b = fromBase64(v.replace(/\s+/g, ''));
    if (!b || b.length === 0) throw new DnssecError(`BIND private key file: "${name}" is not base64`);
    return b;
  };
  const c = crypto();
  let privateKey: KeyObject;
  try {
    switch (a.kind) {
      case 'rsa': {
        const jwk: Record<string, string> = { kty: 'RSA' };
        for (const [f, j] of RSA_FIELDS) jwk[j] = b64u(stripZeros(b64(f)));
        privateKey = c.createPrivateKey({ key: jwk, format: 'jwk' });
        break;
      }
      case 'ec': {
        const size = a.size as number;
        const d = pad(stripZeros(b64('PrivateKey')), size);
        const ecdh = c.createECDH(a.ecdhCurve as string);
        ecdh.setPrivateKey(d);
        const point = ecdh.getPublicKey(); // 04 | x | y
        const jwk = { kty: 'EC', crv: a.curve, d: b64u(d), x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) };
        privateKey = c.createPrivateKey({ key: jwk, format: 'jwk' });
        break;
      }
      case 'ed': {
        const seed = b64('PrivateKey');
        if (seed.length !== a.size) throw new DnssecError(`${a.name} private key is ${seed.length} octets, not ${a.size}`);
        const der = Buffer.concat([Buffer.from(a.pkcs8Prefix as string, 'hex'), seed]);
        privateKey = c.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        break;
      }
    }
  } catch (e) {
    if (e instanceof DnssecError) throw e;
    throw new DnssecError(`BIND private key file: not a valid ${a.name} key: ${(e as Error).message}`);
  }
  const timing: KeyTiming = {};
  for (const [k, f] of TIMING_FIELDS) {
    const v = fields.get(f);
    if (v === undefined) continue;
    const t = parseTime(v.split(/\s/)[0]);
    if (t === undefined) throw new DnssecError(`BIND private key file: bad ${f} time "${v}"`);
    timing[k] = t;
  }
  return { format: fmt, algorithm, privateKey, timing };
}

export interface BindPublicKey {
  owner: Name;
  ttl?: number;
  rdata: Uint8Array;
}

/** Parse a BIND `K….key` file: comments, then one `owner [ttl] [class] DNSKEY flags 3 alg key` record. */
export function parseBindKeyFile(text: string): BindPublicKey {
  const body = text
    .split(/\r?\n/)
    .map((l) => l.replace(/;.*$/, ''))
    .join(' ')
    .replace(/[()]/g, ' ')
    .trim();
  const tokens = body.split(/\s+/).filter((t) => t !== '');
  if (tokens.length < 5) throw new DnssecError('not a BIND key file: no DNSKEY record');
  let owner: Name;
  try {
    owner = Name.parse(tokens[0]);
  } catch (e) {
    throw new DnssecError(`BIND key file: bad owner name "${tokens[0]}" (${(e as Error).message})`);
  }
  let i = 1;
  let ttl: number | undefined;
  if (/^[0-9]+$/.test(tokens[i])) ttl = Number(tokens[i++]);
  if (/^(IN|CLASS1)$/i.test(tokens[i])) i++;
  if (ttl === undefined && /^[0-9]+$/.test(tokens[i])) ttl = Number(tokens[i++]);
  const type = tokens[i++]?.toUpperCase();
  if (type !== 'DNSKEY')
    throw new DnssecError(`BIND key file holds a ${type ?? 'nothing'} record, not DNSKEY${type === 'KEY' ? ' (a KEY for SIG(0)/TSIG is not a zone key)' : ''}`);
  let rdata: Uint8Array;
  try {
    rdata = rdataFromText(RRType.DNSKEY, tokens.slice(i).map((t) => ({ text: t, quoted: false })), owner);
  } catch (e) {
    throw new DnssecError(`BIND key file: bad DNSKEY data (${(e as Error).message})`);
  }
  return { owner, ttl, rdata };
}

export interface ImportedKey {
  key: DnssecKey;
  timing: KeyTiming;
  /** TTL written in the .key file, if any. */
  ttl?: number;
}

export interface ImportOptions {
  /** The zone the key must belong to. */
  zone: Name;
  /** Text of K….key. */
  keyText: string;
  /** Text of K….private. */
  privateText: string;
  /** File name (either file; the directory part is ignored): its zone, algorithm and tag must match the contents. */
  fileName?: string;
  /** The algorithm the zone's policy expects: a key of another algorithm is refused. */
  algorithm?: number;
}

/**
 * Import a BIND key pair for `zone`, refusing (DnssecError with the reason) a key of another zone or algorithm, a
 * private key that does not belong to the public key, a revoked or non-zone key, or a file name that contradicts
 * the contents.
 */
export function importBindKey(o: ImportOptions): ImportedKey {
  const pub = parseBindKeyFile(o.keyText);
  const priv = parseBindPrivateKey(o.privateText);
  if (!pub.owner.equals(o.zone))
    throw new DnssecError(`the key file is for zone ${pub.owner.toString()}, not ${o.zone.toString()}`);
  const flags = (pub.rdata[0] << 8) | pub.rdata[1];
  const alg = pub.rdata[3];
  if (priv.algorithm !== alg)
    throw new DnssecError(`the .key file is algorithm ${alg} but the .private file is algorithm ${priv.algorithm}`);
  if (o.algorithm !== undefined && alg !== o.algorithm)
    throw new DnssecError(`the key is algorithm ${alg} (${requireAlgorithm(alg).name}), the zone's policy uses ${o.algorithm}`);
  if (!(flags & DNSKEY_ZONE)) throw new DnssecError(`DNSKEY flags ${flags} lack the Zone Key bit: not a zone-signing key`);
  if (flags & DNSKEY_REVOKE) throw new DnssecError(`the key is revoked (DNSKEY flags ${flags})`);
  const key = new DnssecKey(alg, flags, pub.rdata.slice(4), priv.privateKey);
  const derived = publicKeyField(alg, priv.privateKey);
  if (Buffer.compare(Buffer.from(derived), Buffer.from(key.publicKey)) !== 0)
    throw new DnssecError(`the private key does not belong to the public key ${key.keyTag} in the .key file`);
  if (o.fileName !== undefined) {
    const base = o.fileName.replace(/^.*\//, '');
    const m = /^K(.*)\.\+([0-9]{3})\+([0-9]{5})(\.key|\.private)?$/.exec(base);
    if (!m) throw new DnssecError(`"${base}" is not a BIND key file name (K<zone>.+<alg>+<tag>.private)`);
    let fileZone: Name;
    try {
      fileZone = m[1] === '' ? Name.root : Name.from(m[1]);
    } catch {
      throw new DnssecError(`"${base}": bad zone name in the file name`);
    }
    if (!fileZone.equals(o.zone)) throw new DnssecError(`"${base}" is named for zone ${fileZone.toString()}, not ${o.zone.toString()}`);
    if (Number(m[2]) !== alg) throw new DnssecError(`"${base}" is named for algorithm ${Number(m[2])} but holds algorithm ${alg}`);
    if (Number(m[3]) !== key.keyTag) throw new DnssecError(`"${base}" is named for key tag ${Number(m[3])} but the key's tag is ${key.keyTag}`);
  }
  return { key, timing: priv.timing, ttl: pub.ttl };
}

/** BIND's base name for a key: K<zone>+<alg>+<tag> (the zone with its trailing dot, as BIND writes it). */
export function bindKeyBaseName(zone: Name, key: DnssecKey): string {
  return `K${zone.toString()}+${String(key.algorithm).padStart(3, '0')}+${String(key.keyTag).padStart(5, '0')}`;
}

export interface BindKeyFiles {
  baseName: string;
  keyText: string;
  privateText: string;
}

/** BIND key files (.key, .private v1.3 with timing) for `key` of `zone`, as dnssec-keygen writes them. */
export function exportBindKey(zone: Name, key: DnssecKey, timing: KeyTiming = {}, ttl?: number): BindKeyFiles {
  if (!key.privateKey) throw new DnssecError(`key ${key.keyTag} has no private key to export`);
  const a = requireAlgorithm(key.algorithm);
  const kind = key.isSep ? 'key-signing' : 'zone-signing';
  const times = TIMING_FIELDS.filter(([k]) => timing[k] !== undefined).map(([k, f]) => [f, formatTime(timing[k] as number)]);
  const keyLines = [`; This is a ${kind} key, keyid ${key.keyTag}, for ${zone.toString()}`];
  for (const [f, t] of times) keyLines.push(`; ${f}: ${t}`);
  keyLines.push(`${zone.toString()} ${ttl !== undefined ? `${ttl} ` : ''}IN DNSKEY ${rdataToText(RRType.DNSKEY, key.rdata)}`);
  const jwk = key.privateKey.export({ format: 'jwk' });
  const priv = ['Private-key-format: v1.3', `Algorithm: ${key.algorithm} (${a.name})`];
  switch (a.kind) {
    case 'rsa':
      for (const [f, j] of RSA_FIELDS) priv.push(`${f}: ${toBase64(fromB64u(jwk[j as keyof typeof jwk] as string))}`);
      break;
    case 'ec':
      priv.push(`PrivateKey: ${toBase64(pad(fromB64u(jwk.d as string), a.size as number))}`);
      break;
    case 'ed':
      priv.push(`PrivateKey: ${toBase64(fromB64u(jwk.d as string))}`);
      break;
  }
  for (const [f, t] of times) priv.push(`${f}: ${t}`);
  return { baseName: bindKeyBaseName(zone, key), keyText: `${keyLines.join('\n')}\n`, privateText: `${priv.join('\n')}\n` };
}
