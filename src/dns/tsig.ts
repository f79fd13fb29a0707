// TSIG (RFC 8945): transaction signatures with HMAC. Pure apart from node:crypto's HMAC and timing-safe compare.
//
// Messages are signed and verified as bytes, because the MAC covers the exact octets on the wire (compression and
// all). The caller encodes a message without TSIG, then `signMessage`/`TsigSigner` append the TSIG RR; on the way
// in, `decodeMessage` records where the TSIG starts (`tsigOffset`) and `verifyRequest` checks the bytes before it.

import { Rcode, RRClass, RRType } from './constants.js';
import { DecodeError } from './errors.js';
import { Name } from './name.js';
import { WireReader, WireWriter } from './wire.js';

// node:crypto is loaded on first use, not at import: zone_tool reaches this module through the services (for the
// algorithm table) on every command, and most commands never compute a MAC.
let nodeCrypto: typeof import('node:crypto') | undefined;
const crypto = (): typeof import('node:crypto') => (nodeCrypto ??= process.getBuiltinModule('node:crypto'));

export type TsigAlgorithm = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

interface AlgorithmInfo {
  /** Algorithm name as it appears in the TSIG RDATA. */
  wireName: Name;
  /** node:crypto digest name. */
  digest: string;
  /** Full HMAC output length in octets. */
  size: number;
}

const ALGORITHMS: Record<TsigAlgorithm, AlgorithmInfo> = {
  'hmac-md5': { wireName: Name.from('hmac-md5.sig-alg.reg.int'), digest: 'md5', size: 16 },
  'hmac-sha1': { wireName: Name.from('hmac-sha1'), digest: 'sha1', size: 20 },
  'hmac-sha224': { wireName: Name.from('hmac-sha224'), digest: 'sha224', size: 28 },
  'hmac-sha256': { wireName: Name.from('hmac-sha256'), digest: 'sha256', size: 32 },
  'hmac-sha384': { wireName: Name.from('hmac-sha384'), digest: 'sha384', size: 48 },
  'hmac-sha512': { wireName: Name.from('hmac-sha512'), digest: 'sha512', size: 64 },
};

export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = Object.keys(ALGORITHMS) as TsigAlgorithm[];

/** Default permitted clock skew in seconds (RFC 8945 §10 recommends 300). */
export const DEFAULT_FUDGE = 300;

/** The algorithm for a name as written by operators ("hmac-sha256", "HMAC-SHA256.", "hmac-md5.sig-alg.reg.int"). */
export function algorithmFromString(text: string): TsigAlgorithm | undefined {
  const t = text.toLowerCase().replace(/\.$/, '');
  if (t === 'hmac-md5.sig-alg.reg.int') return 'hmac-md5';
  return (TSIG_ALGORITHMS as readonly string[]).includes(t) ? (t as TsigAlgorithm) : undefined;
}

/** The algorithm for a TSIG RDATA algorithm name, undefined when we do not implement it (→ BADKEY). */
export function algorithmFromName(n: Name): TsigAlgorithm | undefined {
  for (const a of TSIG_ALGORITHMS) if (ALGORITHMS[a].wireName.equals(n)) return a;
  return undefined;
}

export function algorithmWireName(a: TsigAlgorithm): Name {
  return ALGORITHMS[a].wireName;
}

export function macLength(a: TsigAlgorithm): number {
  return ALGORITHMS[a].size;
}

export interface TsigKey {
  name: Name;
  algorithm: TsigAlgorithm;
  secret: Uint8Array;
}

/** The RDATA of a TSIG RR (RFC 8945 §4.2), plus its owner (the key name). */
export interface TsigRecord {
  keyName: Name;
  algorithm: Name;
  /** Seconds since the epoch (48-bit). */
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

export function parseTsigRdata(keyName: Name, rdata: Uint8Array): TsigRecord {
  const r = new WireReader(rdata);
  const algorithm = r.name();
  const hi = r.u16();
  const lo = r.u32();
  const fudge = r.u16();
  const macSize = r.u16();
  const mac = r.bytes(macSize).slice();
  const originalId = r.u16();
  const error = r.u16();
  const otherLen = r.u16();
  const otherData = r.bytes(otherLen).slice();
  if (r.remaining !== 0) throw new DecodeError('rdata', 'TSIG RDATA has trailing octets');
  return { keyName, algorithm, timeSigned: hi * 0x100000000 + lo, fudge, mac, originalId, error, otherData };
}

function writeU48(w: WireWriter, v: number): void {
  w.u16(Math.floor(v / 0x100000000) & 0xffff);
  w.u32(v % 0x100000000);
}

export function buildTsigRdata(t: TsigRecord): Uint8Array {
  const w = new WireWriter(64 + t.mac.length + t.otherData.length, false);
  w.name(t.algorithm, false);
  writeU48(w, t.timeSigned);
  w.u16(t.fudge);
  w.u16(t.mac.length);
  w.bytes(t.mac);
  w.u16(t.originalId);
  w.u16(t.error);
  w.u16(t.otherData.length);
  w.bytes(t.otherData);
  return w.finish();
}

/** Octets a TSIG RR for this key adds to a message (for packing budgets). */
export function tsigRecordSize(key: TsigKey, otherDataLength = 0, macSize = macLength(key.algorithm)): number {
  return key.name.wireLength + 10 + algorithmWireName(key.algorithm).wireLength + 16 + macSize + otherDataLength;
}

/** The TSIG RR found at `tsigOffset` of a message (as recorded by decodeMessage). */
export function readTsigAt(msg: Uint8Array, tsigOffset: number): TsigRecord {
  const r = new WireReader(msg, tsigOffset);
  const owner = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  if (type !== RRType.TSIG) throw new DecodeError('format', 'no TSIG record at the given offset', tsigOffset);
  if (klass !== RRClass.ANY || ttl !== 0) throw new DecodeError('format', 'TSIG record with class other than ANY or TTL not 0', tsigOffset);
  if (r.pos + len !== msg.length) throw new DecodeError('format', 'TSIG is not the last thing in the message', tsigOffset);
  return parseTsigRdata(owner, r.bytes(len));
}

// ---- MAC computation ---------------------------------------------------------------------------------------------

function u16be(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

/** The message as it was before the TSIG was added: ARCOUNT minus one and the ID set to the original ID. */
function strippedMessage(msg: Uint8Array, tsigOffset: number, originalId: number): Uint8Array {
  const out = msg.slice(0, tsigOffset);
  const ar = ((out[10] << 8) | out[11]) - 1;
  out[0] = (originalId >>> 8) & 0xff;
  out[1] = originalId & 0xff;
  out[10] = (ar >>> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}

/** RFC 8945 §4.3.3 TSIG variables (full form), or only the timers (§4.3.1, later messages of a stream). */
function tsigVariables(t: TsigRecord, timersOnly: boolean): Uint8Array {
  const w = new WireWriter(128, false);
  if (!timersOnly) {
    w.bytes(t.keyName.toCanonicalWire());
    w.u16(RRClass.ANY);
    w.u32(0);
    w.bytes(t.algorithm.toCanonicalWire());
  }
  writeU48(w, t.timeSigned);
  w.u16(t.fudge);
  if (!timersOnly) {
    w.u16(t.error);
    w.u16(t.otherData.length);
    w.bytes(t.otherData);
  }
  return w.finish();
}

function computeMac(key: TsigKey, parts: Uint8Array[]): Uint8Array {
  const h = crypto().createHmac(ALGORITHMS[key.algorithm].digest, key.secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function macParts(prior: Uint8Array | undefined, message: Uint8Array, variables: Uint8Array): Uint8Array[] {
  return prior === undefined ? [message, variables] : [u16be(prior.length), prior, message, variables];
}

function appendTsig(msg: Uint8Array, t: TsigRecord): Uint8Array {
  const rdata = buildTsigRdata(t);
  const w = new WireWriter(msg.length + rdata.length + t.keyName.wireLength + 10, false);
  w.bytes(msg);
  w.name(t.keyName, false);
  w.u16(RRType.TSIG);
  w.u16(RRClass.ANY);
  w.u32(0);
  w.u16(rdata.length);
  w.bytes(rdata);
  const out = w.finish();
  const ar = ((out[10] << 8) | out[11]) + 1;
  out[10] = (ar >>> 8) & 0xff;
  out[11] = ar & 0xff;
  return out;
}

function macMatches(expected: Uint8Array, received: Uint8Array): boolean {
  if (received.length === 0 || received.length > expected.length) return false;
  return crypto().timingSafeEqual(expected.subarray(0, received.length), received);
}

// ---- signing -----------------------------------------------------------------------------------------------------

export interface SignOptions {
  /** TSIG error field (0 normally; BADTIME for a signed BADTIME answer). */
  error?: number;
  otherData?: Uint8Array;
  /** Time Signed to put in the TSIG (defaults to `now`; a BADTIME answer echoes the request's). */
  timeSigned?: number;
  fudge?: number;
  /** Truncate the MAC to this many octets (mirrors a truncated request). */
  macSize?: number;
}

/**
 * Sign a complete message (bytes without TSIG). `requestMac` is given when signing a response (RFC 8945 §4.3.2):
 * the request's MAC (as received, truncated or not) is then covered too. Returns the message with the TSIG appended
 * and the MAC, which a multi-message stream chains into the next message.
 */
export function signMessage(
  msg: Uint8Array,
  key: TsigKey,
  now: number,
  requestMac?: Uint8Array,
  opts: SignOptions = {},
): { bytes: Uint8Array; mac: Uint8Array } {
  const t: TsigRecord = {
    keyName: key.name,
    algorithm: algorithmWireName(key.algorithm),
    timeSigned: opts.timeSigned ?? Math.floor(now),
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    mac: new Uint8Array(0),
    originalId: (msg[0] << 8) | msg[1],
    error: opts.error ?? 0,
    otherData: opts.otherData ?? new Uint8Array(0),
  };
  const full = computeMac(key, macParts(requestMac, msg, tsigVariables(t, false)));
  t.mac = opts.macSize !== undefined && opts.macSize < full.length ? full.slice(0, opts.macSize) : full;
  return { bytes: appendTsig(msg, t), mac: t.mac };
}

/**
 * Signs the messages of a multi-message response (AXFR/IXFR over TCP, RFC 8945 §5.3.1). The first message covers the
 * request MAC and the full TSIG variables; each later one covers the previous MAC, the message and the timers only.
 * We sign every message (the RFC allows gaps of up to 99 unsigned ones; signing all is simplest for every client).
 */
export class TsigStreamSigner {
  private prior: Uint8Array;
  private first = true;

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
    private readonly macSize?: number,
  ) {
    this.prior = requestMac;
  }

  sign(msg: Uint8Array, now: number): Uint8Array {
    if (this.first) {
      this.first = false;
      const r = signMessage(msg, this.key, now, this.prior, { macSize: this.macSize });
      this.prior = r.mac;
      return r.bytes;
    }
    const t: TsigRecord = {
      keyName: this.key.name,
      algorithm: algorithmWireName(this.key.algorithm),
      timeSigned: Math.floor(now),
      fudge: DEFAULT_FUDGE,
      mac: new Uint8Array(0),
      originalId: (msg[0] << 8) | msg[1],
      error: 0,
      otherData: new Uint8Array(0),
    };
    const full = computeMac(this.key, macParts(this.prior, msg, tsigVariables(t, true)));
    t.mac = this.macSize !== undefined && this.macSize < full.length ? full.slice(0, this.macSize) : full;
    this.prior = t.mac;
    return appendTsig(msg, t);
  }
}

// ---- verification ------------------------------------------------------------------------------------------------

export type KeyLookup = (keyName: Name, algorithm: Name) => TsigKey | undefined;

export interface VerifyOptions {
  /** Smallest truncated MAC accepted by local policy (octets); shorter but RFC-legal MACs get BADTRUNC. */
  minMacSize?: number;
}

export interface TsigVerified {
  ok: true;
  key: TsigKey;
  tsig: TsigRecord;
  /** MAC of the request as received: signs into the response. */
  requestMac: Uint8Array;
}

export interface TsigFailure {
  ok: false;
  /**
   * What went wrong: FORMERR (malformed TSIG, answer FORMERR unsigned) or a TSIG error (BADKEY, BADSIG, BADTIME,
   * BADTRUNC), answered with RCODE NOTAUTH and the error in the TSIG (see `tsigErrorResponse`).
   */
  error: number;
  tsig?: TsigRecord;
  /** Present for BADTIME/BADTRUNC: the key verified, so the error answer is signed. */
  key?: TsigKey;
  requestMac?: Uint8Array;
}

export type TsigVerifyResult = TsigVerified | TsigFailure;

/**
 * Verify a signed request (RFC 8945 §5.2): key, then MAC (with the §5.2.2.1 truncation rules), then time, then local
 * truncation policy. `now` is seconds since the epoch.
 */
export function verifyRequest(
  msg: Uint8Array,
  tsigOffset: number,
  lookup: KeyLookup,
  now: number,
  opts: VerifyOptions = {},
): TsigVerifyResult {
  let tsig: TsigRecord;
  try {
    tsig = readTsigAt(msg, tsigOffset);
  } catch {
    return { ok: false, error: Rcode.FORMERR };
  }
  const key = lookup(tsig.keyName, tsig.algorithm);
  const alg = algorithmFromName(tsig.algorithm);
  if (!key || alg === undefined || key.algorithm !== alg) return { ok: false, error: Rcode.BADKEY, tsig };
  const full = macLength(alg);
  const size = tsig.mac.length;
  // §5.2.2.1: longer than the hash, or shorter than max(10, half the hash), is malformed.
  if (size > full || size < Math.max(10, full / 2)) return { ok: false, error: Rcode.FORMERR, tsig };
  const expected = computeMac(key, macParts(undefined, strippedMessage(msg, tsigOffset, tsig.originalId), tsigVariables(tsig, false)));
  if (!macMatches(expected, tsig.mac)) return { ok: false, error: Rcode.BADSIG, tsig };
  if (Math.abs(Math.floor(now) - tsig.timeSigned) > tsig.fudge)
    return { ok: false, error: Rcode.BADTIME, tsig, key, requestMac: tsig.mac };
  if (opts.minMacSize !== undefined && size < Math.min(opts.minMacSize, full))
    return { ok: false, error: Rcode.BADTRUNC, tsig, key, requestMac: tsig.mac };
  return { ok: true, key, tsig, requestMac: tsig.mac };
}

/**
 * Verify a single signed response to a request we signed (e.g. the answer to our NOTIFY). Returns the TSIG error
 * the response carries, or our own finding (BADSIG/BADKEY/BADTIME), or 0 when it verifies.
 */
export function verifyResponse(msg: Uint8Array, tsigOffset: number, key: TsigKey, requestMac: Uint8Array, now: number): number {
  let tsig: TsigRecord;
  try {
    tsig = readTsigAt(msg, tsigOffset);
  } catch {
    return Rcode.FORMERR;
  }
  if (!tsig.keyName.equals(key.name) || !tsig.algorithm.equals(algorithmWireName(key.algorithm))) return Rcode.BADKEY;
  if (tsig.error === Rcode.BADKEY || tsig.error === Rcode.BADSIG) return tsig.error;
  const expected = computeMac(key, macParts(requestMac, strippedMessage(msg, tsigOffset, tsig.originalId), tsigVariables(tsig, false)));
  if (!macMatches(expected, tsig.mac)) return Rcode.BADSIG;
  if (tsig.error !== 0) return tsig.error;
  if (Math.abs(Math.floor(now) - tsig.timeSigned) > tsig.fudge) return Rcode.BADTIME;
  return 0;
}

/** Verifies the messages of a signed multi-message response in order (the mirror of TsigStreamSigner). */
export class TsigStreamVerifier {
  private prior: Uint8Array;
  private first = true;
  /** Octets of unsigned messages since the last signed one (RFC 8945 §5.3.1 allows up to 99 of them). */
  private pending: Uint8Array[] = [];

  constructor(
    private readonly key: TsigKey,
    requestMac: Uint8Array,
  ) {
    this.prior = requestMac;
  }

  /** Verify one message; `tsigOffset` undefined when it carries no TSIG. Returns 0 or an error code. */
  verify(msg: Uint8Array, tsigOffset: number | undefined, now: number): number {
    if (tsigOffset === undefined) {
      if (this.first || this.pending.length >= 99) return Rcode.FORMERR;
      this.pending.push(msg);
      return 0;
    }
    if (this.first) {
      this.first = false;
      const e = verifyResponse(msg, tsigOffset, this.key, this.prior, now);
      if (e === 0) this.prior = readTsigAt(msg, tsigOffset).mac;
      return e;
    }
    const tsig = readTsigAt(msg, tsigOffset);
    const parts = [u16be(this.prior.length), this.prior, ...this.pending, strippedMessage(msg, tsigOffset, tsig.originalId), tsigVariables(tsig, true)];
    this.pending = [];
    if (!macMatches(computeMac(this.key, parts), tsig.mac)) return Rcode.BADSIG;
    if (Math.abs(Math.floor(now) - tsig.timeSigned) > tsig.fudge) return Rcode.BADTIME;
    this.prior = tsig.mac;
    return 0;
  }
}

// ---- error answers -----------------------------------------------------------------------------------------------

function writeU48Bytes(v: number): Uint8Array {
  const w = new WireWriter(6, false);
  writeU48(w, v);
  return w.finish();
}

/**
 * Turn an encoded error response (header RCODE already NOTAUTH, see `tsigFailureRcode`) into the RFC 8945 §5.3.2
 * answer for a failed verification: BADKEY/BADSIG get an unsigned TSIG (empty MAC) carrying the error; BADTIME and
 * BADTRUNC are signed with the request MAC, and BADTIME carries our clock in Other Data and echoes the request's
 * Time Signed so the client can verify it and learn the skew. FORMERR answers carry no TSIG.
 */
export function tsigErrorResponse(msg: Uint8Array, failure: TsigFailure, now: number): Uint8Array {
  const t = failure.tsig;
  if (failure.error === Rcode.FORMERR || !t) return msg;
  if ((failure.error === Rcode.BADTIME || failure.error === Rcode.BADTRUNC) && failure.key && failure.requestMac) {
    const badtime = failure.error === Rcode.BADTIME;
    return signMessage(msg, failure.key, now, failure.requestMac, {
      error: failure.error,
      timeSigned: badtime ? t.timeSigned : Math.floor(now),
      otherData: badtime ? writeU48Bytes(Math.floor(now)) : undefined,
      fudge: t.fudge,
    }).bytes;
  }
  return appendTsig(msg, {
    keyName: t.keyName,
    algorithm: t.algorithm,
    timeSigned: Math.floor(now),
    fudge: t.fudge,
    mac: new Uint8Array(0),
    originalId: (msg[0] << 8) | msg[1],
    error: failure.error,
    otherData: new Uint8Array(0),
  });
}

/** The header RCODE for a failed verification: FORMERR stays FORMERR, every TSIG error is NOTAUTH. */
export function tsigFailureRcode(failure: TsigFailure): number {
  return failure.error === Rcode.FORMERR ? Rcode.FORMERR : Rcode.NOTAUTH;
}

/** Name of a TSIG error for logs ("BADSIG"). */
export function tsigErrorName(code: number): string {
  switch (code) {
    case 0: return 'NOERROR';
    case Rcode.FORMERR: return 'FORMERR';
    case Rcode.BADSIG: return 'BADSIG';
    case Rcode.BADKEY: return 'BADKEY';
    case Rcode.BADTIME: return 'BADTIME';
    case Rcode.BADTRUNC: return 'BADTRUNC';
    default: return `TSIG error ${code}`;
  }
}

// ---- key text forms ----------------------------------------------------------------------------------------------

/** A new key with a random secret as long as the algorithm's output (RFC 8945 §6 recommends at least that). */
export function generateTsigKey(name: Name, algorithm: TsigAlgorithm = 'hmac-sha256'): TsigKey {
  return { name, algorithm, secret: new Uint8Array(crypto().randomBytes(macLength(algorithm))) };
}

/** A key from the `-y`-style text "[alg:]name:base64secret". */
export function keyFromText(text: string): TsigKey {
  const parts = text.split(':');
  let alg: TsigAlgorithm = 'hmac-sha256';
  if (parts.length === 3) {
    const a = algorithmFromString(parts[0]);
    if (!a) throw new Error(`unknown TSIG algorithm "${parts[0]}"`);
    alg = a;
    parts.shift();
  }
  if (parts.length !== 2) throw new Error('TSIG key text must be [algorithm:]name:secret');
  return { name: Name.from(parts[0]), algorithm: alg, secret: new Uint8Array(Buffer.from(parts[1], 'base64')) };
}

/** BIND `key "name" { algorithm ...; secret "..."; };` block. */
export function keyToBindConfig(key: TsigKey): string {
  const name = key.name.toString().replace(/\.$/, '');
  return `key "${name}" {\n\talgorithm ${key.algorithm};\n\tsecret "${Buffer.from(key.secret).toString('base64')}";\n};\n`;
}

/** Knot `key:` section entry. */
export function keyToKnotConfig(key: TsigKey): string {
  const name = key.name.toString().replace(/\.$/, '');
  return `key:\n  - id: ${name}\n    algorithm: ${key.algorithm}\n    secret: ${Buffer.from(key.secret).toString('base64')}\n`;
}
