// RDATA codecs. One internal form for every type: uncompressed wire bytes (names in original case). This module
// converts between that form and (a) the wire, with decompression/compression of embedded names, (b) presentation
// text, and (c) RFC 4034 §6.2 canonical form — each by walking the per-type field table in rdata/table.ts.
// Types not in the table are opaque RFC 3597 data (`\# len hex`).

import { COMPRESSIBLE_TYPES, RRType, typeToString } from './constants.js';
import { DecodeError, TextError } from './errors.js';
import { Name } from './name.js';
import { type CopyContext, decodeTypeBitmap, encodeTypeBitmap, readName } from './rdata/fields.js';
import { CANONICAL_LOWER_TYPES, DECOMPRESS_TYPES, DESCRIPTORS, type Descriptor } from './rdata/table.js';
import { Cursor, fromHex, parseUint, type Token, tokenizeRdata, toHex } from './rdata/text.js';
import { WireReader, WireWriter } from './wire.js';

export type { Token } from './rdata/text.js';
export type { Descriptor } from './rdata/table.js';
export { DESCRIPTORS, CANONICAL_LOWER_TYPES, DECOMPRESS_TYPES } from './rdata/table.js';
export { encodeTypeBitmap } from './rdata/fields.js';
export { tokenizeRdata } from './rdata/text.js';

/** The table entry for a type, or undefined for types handled as opaque RFC 3597 data. */
export function descriptorFor(type: number): Descriptor | undefined {
  return DESCRIPTORS[type];
}

/** Types with a presentation format of their own (everything else is RFC 3597 generic). */
export function knownRdataTypes(): number[] {
  return Object.keys(DESCRIPTORS).map(Number);
}

const PLAIN: CopyContext = { allowPointers: false, compress: false, lower: false };
const VALIDATE: CopyContext = { allowPointers: false, compress: false, lower: false, discard: true };

/** Walk a descriptor from src to out. Any malformation becomes DecodeError('rdata'). */
function transcode(d: Descriptor, src: WireReader, out: WireWriter, ctx: CopyContext): void {
  const start = src.pos;
  try {
    for (const f of d.fields) {
      if (f.optional && src.pos === src.end) break;
      f.copy(src, out, ctx);
    }
    if (src.pos !== src.end) throw new DecodeError('rdata', `${src.end - src.pos} octets after the last field`, src.pos);
  } catch (e) {
    if (e instanceof DecodeError)
      throw new DecodeError('rdata', `bad ${d.name} RDATA: ${e.message.replace(/ at offset \d+$/, '')}`, e.offset ?? start);
    throw e;
  }
}

function runCheck(d: Descriptor, rdata: Uint8Array): void {
  const err = d.check?.(rdata);
  if (err) throw new DecodeError('rdata', `bad ${d.name} RDATA: ${err}`, 0);
}

/** Check that `rdata` is valid internal RDATA of `type` (uncompressed, every field well-formed); DecodeError if not. */
export function validateRdata(type: number, rdata: Uint8Array): void {
  const d = DESCRIPTORS[type];
  if (!d) {
    if (rdata.length > 0xffff) throw new DecodeError('rdata', 'RDATA longer than 65535 octets');
    return;
  }
  transcode(d, new WireReader(rdata), new WireWriter(rdata.length + 16, false), VALIDATE);
  runCheck(d, rdata);
}

/** Read RDATA of `len` octets at r.pos (r spans the whole message so pointers resolve); returns uncompressed bytes. */
export function readRdata(type: number, r: WireReader, len: number): Uint8Array {
  r.need(len);
  const end = r.pos + len;
  const d = DESCRIPTORS[type];
  if (!d) return r.bytes(len).slice();
  const src = new WireReader(r.buf, r.pos, end);
  const out = new WireWriter(len + 16, false);
  transcode(d, src, out, { allowPointers: DECOMPRESS_TYPES.has(type), compress: false, lower: false });
  const rdata = out.finish();
  runCheck(d, rdata);
  r.pos = end;
  return rdata;
}

/** Write RDATA (internal form) to the wire, compressing names only for the RFC 1035 well-known types. */
export function writeRdata(type: number, rdata: Uint8Array, w: WireWriter): void {
  const d = DESCRIPTORS[type];
  if (!d || !COMPRESSIBLE_TYPES.has(type)) {
    w.bytes(rdata);
    return;
  }
  transcode(d, new WireReader(rdata), w, { allowPointers: false, compress: true, lower: false });
}

/** RFC 4034 §6.2 canonical RDATA: uncompressed, names lower-cased for the RFC 4034/6840 list of types. */
export function canonicalRdata(type: number, rdata: Uint8Array): Uint8Array {
  const d = DESCRIPTORS[type];
  if (!d || !CANONICAL_LOWER_TYPES.has(type)) return rdata;
  const out = new WireWriter(rdata.length, false);
  transcode(d, new WireReader(rdata), out, { allowPointers: false, compress: false, lower: true });
  return out.finish();
}

/**
 * RFC 4034 §6.3 order of RRs within an RRset: RDATA compared as left-justified unsigned octet sequences (a prefix
 * sorts first). Pass canonical RDATA (canonicalRdata) for DNSSEC; the result is a total order on byte strings.
 */
export function compareRdata(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** compareRdata on the canonical forms of two RDATAs of `type`. */
export function compareRdataCanonical(type: number, a: Uint8Array, b: Uint8Array): number {
  return compareRdata(canonicalRdata(type, a), canonicalRdata(type, b));
}

/**
 * The RDATAs of one RRset in RFC 4034 §6.2 canonical form and §6.3 canonical order, duplicates removed — the input
 * to RRSIG signing and verification.
 */
export function canonicalRRsetRdata(type: number, rdatas: readonly Uint8Array[]): Uint8Array[] {
  // Most RRsets a signer meets hold one RR: nothing to sort or compare.
  if (rdatas.length === 1) return [canonicalRdata(type, rdatas[0])];
  const sorted = rdatas.map((rd) => canonicalRdata(type, rd)).sort(compareRdata);
  return sorted.filter((rd, i) => i === 0 || compareRdata(sorted[i - 1], rd) !== 0);
}

/** Are two RDATAs of `type` the same data (names compared case-insensitively where canonical form lowers them)? */
export function rdataEquals(type: number, a: Uint8Array, b: Uint8Array): boolean {
  return compareRdataCanonical(type, a, b) === 0;
}

// --- presentation -------------------------------------------------------------------------------------------------

function genericFromText(type: number, tokens: Token[]): Uint8Array {
  const lt = tokens[1];
  if (!lt) throw new TextError('missing RFC 3597 data length after \\#', 1);
  const len = parseUint(lt.text, 0xffff);
  if (len === undefined) throw new TextError(`bad RFC 3597 data length "${lt.text}"`, 1);
  const hex = tokens
    .slice(2)
    .map((t) => t.text)
    .join('');
  const data = fromHex(hex);
  if (!data) throw new TextError('bad hex in RFC 3597 data', 2);
  if (data.length !== len) throw new TextError(`RFC 3597 data is ${data.length} octets, length says ${len}`, 2);
  if (len > 0 && tokens.length < 3) throw new TextError('missing RFC 3597 hex data', 2);
  try {
    validateRdata(type, data);
  } catch (e) {
    if (e instanceof DecodeError) throw new TextError(`RFC 3597 data is not valid ${typeToString(type)} RDATA: ${e.message}`, 2);
    throw e;
  }
  return data;
}

/**
 * Parse presentation RDATA (tokens after the type). Any type accepts RFC 3597 `\# len hex`; known types also their
 * own syntax. Throws TextError(message, tokenIndex).
 */
export function rdataFromText(type: number, tokens: Token[], origin: Name): Uint8Array {
  if (tokens.length >= 1 && tokens[0].text === '\\#' && !tokens[0].quoted) return genericFromText(type, tokens);
  const d = DESCRIPTORS[type];
  if (!d) throw new TextError(`type ${typeToString(type)} has no presentation format here: use RFC 3597 "\\# length hex"`, 0);
  const cur = new Cursor(tokens);
  // One writer serves every call (a zone file makes a million of them); finish() returns a copy.
  const out = textWriter;
  out.pos = 0;
  for (const f of d.fields) {
    if (f.optional && cur.done) break;
    f.parse(cur, out, origin);
  }
  if (!cur.done) throw new TextError(`unexpected "${tokens[cur.i].text}" after ${d.name} RDATA`, cur.i);
  const rdata = out.finish();
  if (out.buf.length > 1 << 16) textWriter = new WireWriter(256, false);
  if (rdata.length > 0xffff) throw new TextError(`${d.name} RDATA longer than 65535 octets`, 0);
  // The A and AAAA parsers write exactly one address of fixed size, and TXT's one or more character-strings each
  // checked to fit in 255 octets: the strict wire walk below would only find them well-formed again (it is the
  // costliest step of loading a large zone of addresses and texts).
  if ((type === RRType.A && rdata.length === 4) || (type === RRType.AAAA && rdata.length === 16) || (type === RRType.TXT && rdata.length > 0)) return rdata;
  try {
    // Cross-field rules (e.g. SVCB mandatory keys) and lengths are checked once more by the strict wire walk.
    validateRdata(type, rdata);
  } catch (e) {
    if (e instanceof DecodeError) throw new TextError(e.message.replace(/ at offset \d+$/, ''), Math.max(0, tokens.length - 1));
    throw e;
  }
  return rdata;
}

let textWriter = new WireWriter(256, false);

/** rdataFromText on a one-record RDATA string (API, CLI): tokenized with tokenizeRdata. */
export function rdataFromString(type: number, text: string, origin: Name = Name.root): Uint8Array {
  return rdataFromText(type, tokenizeRdata(text), origin);
}

/** RFC 3597 generic presentation. */
export function genericToText(rdata: Uint8Array): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${toHex(rdata)}`;
}

/**
 * Presentation RDATA. With `origin`, names inside it print relative ("@" for the origin). Unknown types, and RDATA
 * that is not valid for its type, print in RFC 3597 generic form (never throws).
 */
export function rdataToText(type: number, rdata: Uint8Array, origin?: Name): string {
  const d = DESCRIPTORS[type];
  if (!d) return genericToText(rdata);
  try {
    validateRdata(type, rdata);
  } catch (e) {
    if (e instanceof DecodeError) return genericToText(rdata);
    throw e;
  }
  const src = new WireReader(rdata);
  const parts: string[] = [];
  for (const f of d.fields) {
    if (f.optional && src.pos === src.end) break;
    const s = f.print(src, origin);
    if (s !== '') parts.push(s);
  }
  return parts.join(' ');
}

/**
 * Each field of valid RDATA with its presentation (for API/CLI display). Unknown types give one "data" field in
 * RFC 3597 form. Throws DecodeError when the RDATA is not valid for its type.
 */
export function rdataFieldTexts(type: number, rdata: Uint8Array, origin?: Name): { label: string; text: string }[] {
  const d = DESCRIPTORS[type];
  if (!d) return [{ label: 'data', text: genericToText(rdata) }];
  validateRdata(type, rdata);
  const src = new WireReader(rdata);
  const out: { label: string; text: string }[] = [];
  for (const f of d.fields) {
    if (f.optional && src.pos === src.end) break;
    out.push({ label: f.label, text: f.print(src, origin) });
  }
  return out;
}

// --- typed views --------------------------------------------------------------------------------------------------

/**
 * The name additional-section processing or chasing needs: NS/CNAME/PTR/DNAME/MB/MD/MF target, MX/KX/RT/AFSDB
 * host, SRV target, SVCB/HTTPS TargetName ("." there means the owner name, RFC 9460 §2.5). Undefined for other types.
 */
export function rdataTargetName(type: number, rdata: Uint8Array): Name | undefined {
  const r = new WireReader(rdata);
  switch (type) {
    case RRType.NS: case RRType.CNAME: case RRType.PTR: case RRType.DNAME: case RRType.MD: case RRType.MF:
    case RRType.MB:
      return r.name();
    case RRType.MX: case RRType.KX: case RRType.RT: case RRType.AFSDB:
      r.u16();
      return r.name();
    case RRType.SRV:
      r.u16(); r.u16(); r.u16();
      return r.name();
    case RRType.SVCB: case RRType.HTTPS:
      r.u16();
      return r.name();
    default:
      return undefined;
  }
}

/**
 * The plain domain-name fields of valid RDATA, in field order (for semantic checks, glue, out-of-zone references).
 * Names inside structured fields (IPSECKEY/AMTRELAY gateway, HIP rendezvous servers) are not included.
 */
export function rdataNames(type: number, rdata: Uint8Array): Name[] {
  const d = DESCRIPTORS[type];
  if (!d) return [];
  const names: Name[] = [];
  const src = new WireReader(rdata);
  const sink = new WireWriter(rdata.length, false);
  for (const f of d.fields) {
    if (f.optional && src.pos === src.end) break;
    if (f.kind === 'name') names.push(readName(src, false));
    else f.copy(src, sink, PLAIN);
  }
  return names;
}

export interface SoaFields {
  mname: Name;
  rname: Name;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export function soaFields(rdata: Uint8Array): SoaFields {
  const r = new WireReader(rdata);
  return {
    mname: r.name(), rname: r.name(), serial: r.u32(), refresh: r.u32(), retry: r.u32(), expire: r.u32(), minimum: r.u32(),
  };
}

export function makeSoa(f: SoaFields): Uint8Array {
  const w = new WireWriter(64, false);
  w.name(f.mname, false);
  w.name(f.rname, false);
  for (const v of [f.serial, f.refresh, f.retry, f.expire, f.minimum]) w.u32(v >>> 0);
  return w.finish();
}

function soaSerialOffset(rdata: Uint8Array): number {
  let p = 0;
  for (let n = 0; n < 2; n++) {
    while (p < rdata.length && rdata[p] !== 0) p += rdata[p] + 1;
    p++;
  }
  if (p + 20 !== rdata.length) throw new DecodeError('rdata', 'not valid SOA RDATA');
  return p;
}

export function soaSerial(rdata: Uint8Array): number {
  const p = soaSerialOffset(rdata);
  return new DataView(rdata.buffer, rdata.byteOffset + p, 4).getUint32(0);
}

/** A copy of SOA RDATA with the serial replaced (no full decode). */
export function setSoaSerial(rdata: Uint8Array, serial: number): Uint8Array {
  const p = soaSerialOffset(rdata);
  const out = rdata.slice();
  new DataView(out.buffer, out.byteOffset + p, 4).setUint32(0, serial >>> 0);
  return out;
}

export interface MxFields {
  preference: number;
  exchange: Name;
}
export function mxFields(rdata: Uint8Array): MxFields {
  const r = new WireReader(rdata);
  return { preference: r.u16(), exchange: r.name() };
}

export interface SrvFields {
  priority: number;
  weight: number;
  port: number;
  target: Name;
}
export function srvFields(rdata: Uint8Array): SrvFields {
  const r = new WireReader(rdata);
  return { priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
}

/** Character-strings of TXT/SPF (or any run of <character-string>s). */
export function txtStrings(rdata: Uint8Array): Uint8Array[] {
  const r = new WireReader(rdata);
  const out: Uint8Array[] = [];
  while (r.remaining > 0) out.push(r.bytes(r.u8()).slice());
  return out;
}

export function makeTxt(strings: (string | Uint8Array)[]): Uint8Array {
  const w = new WireWriter(64, false);
  for (const s of strings) {
    const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    if (b.length > 255) throw new RangeError('character-string longer than 255 octets');
    w.u8(b.length);
    w.bytes(b);
  }
  return w.finish();
}

export function makeA(text: string): Uint8Array {
  return rdataFromText(RRType.A, [{ text, quoted: false }], Name.root);
}

export function makeAaaa(text: string): Uint8Array {
  return rdataFromText(RRType.AAAA, [{ text, quoted: false }], Name.root);
}

/** RDATA holding just one name (NS, CNAME, PTR, DNAME, ...). */
export function makeNameRdata(n: Name): Uint8Array {
  return n.toWire();
}

export function makeMx(preference: number, exchange: Name): Uint8Array {
  const w = new WireWriter(64, false);
  w.u16(preference);
  w.name(exchange, false);
  return w.finish();
}

export interface RrsigFields {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signer: Name;
  signature: Uint8Array;
}

export function rrsigFields(rdata: Uint8Array): RrsigFields {
  const r = new WireReader(rdata);
  return {
    typeCovered: r.u16(), algorithm: r.u8(), labels: r.u8(), originalTtl: r.u32(), expiration: r.u32(),
    inception: r.u32(), keyTag: r.u16(), signer: r.name(), signature: r.bytes(r.remaining).slice(),
  };
}

export function makeRrsig(f: RrsigFields): Uint8Array {
  const w = new WireWriter(64 + f.signature.length, false);
  w.u16(f.typeCovered);
  w.u8(f.algorithm);
  w.u8(f.labels);
  w.u32(f.originalTtl >>> 0);
  w.u32(f.expiration >>> 0);
  w.u32(f.inception >>> 0);
  w.u16(f.keyTag);
  w.name(f.signer, false);
  w.bytes(f.signature);
  return w.finish();
}

/** The type an RRSIG covers (cheap: the first two octets). */
export function rrsigTypeCovered(rdata: Uint8Array): number {
  if (rdata.length < 2) throw new DecodeError('rdata', 'not valid RRSIG RDATA');
  return (rdata[0] << 8) | rdata[1];
}

export interface DnskeyFields {
  flags: number;
  protocol: number;
  algorithm: number;
  publicKey: Uint8Array;
}
export function dnskeyFields(rdata: Uint8Array): DnskeyFields {
  const r = new WireReader(rdata);
  return { flags: r.u16(), protocol: r.u8(), algorithm: r.u8(), publicKey: r.bytes(r.remaining).slice() };
}
export function makeDnskey(f: DnskeyFields): Uint8Array {
  const w = new WireWriter(4 + f.publicKey.length, false);
  w.u16(f.flags);
  w.u8(f.protocol);
  w.u8(f.algorithm);
  w.bytes(f.publicKey);
  return w.finish();
}

export interface DsFields {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Uint8Array;
}
export function dsFields(rdata: Uint8Array): DsFields {
  const r = new WireReader(rdata);
  return { keyTag: r.u16(), algorithm: r.u8(), digestType: r.u8(), digest: r.bytes(r.remaining).slice() };
}
export function makeDs(f: DsFields): Uint8Array {
  const w = new WireWriter(4 + f.digest.length, false);
  w.u16(f.keyTag);
  w.u8(f.algorithm);
  w.u8(f.digestType);
  w.bytes(f.digest);
  return w.finish();
}

export interface NsecFields {
  next: Name;
  types: number[];
}
export function nsecFields(rdata: Uint8Array): NsecFields {
  const r = new WireReader(rdata);
  const next = r.name();
  return { next, types: decodeTypeBitmap(r) };
}
export function makeNsec(next: Name, types: Iterable<number>): Uint8Array {
  const w = new WireWriter(64, false);
  w.name(next, false);
  w.bytes(encodeTypeBitmap(types));
  return w.finish();
}

export interface Nsec3ParamFields {
  hashAlgorithm: number;
  flags: number;
  iterations: number;
  salt: Uint8Array;
}
export interface Nsec3Fields extends Nsec3ParamFields {
  nextHashed: Uint8Array;
  types: number[];
}
export function nsec3Fields(rdata: Uint8Array): Nsec3Fields {
  const r = new WireReader(rdata);
  const hashAlgorithm = r.u8();
  const flags = r.u8();
  const iterations = r.u16();
  const salt = r.bytes(r.u8()).slice();
  const nextHashed = r.bytes(r.u8()).slice();
  return { hashAlgorithm, flags, iterations, salt, nextHashed, types: decodeTypeBitmap(r) };
}
export function makeNsec3(f: Omit<Nsec3Fields, 'types'> & { types: Iterable<number> }): Uint8Array {
  const w = new WireWriter(64, false);
  w.u8(f.hashAlgorithm);
  w.u8(f.flags);
  w.u16(f.iterations);
  w.u8(f.salt.length);
  w.bytes(f.salt);
  w.u8(f.nextHashed.length);
  w.bytes(f.nextHashed);
  w.bytes(encodeTypeBitmap(f.types));
  return w.finish();
}
export function nsec3ParamFields(rdata: Uint8Array): Nsec3ParamFields {
  const r = new WireReader(rdata);
  const hashAlgorithm = r.u8();
  const flags = r.u8();
  const iterations = r.u16();
  return { hashAlgorithm, flags, iterations, salt: r.bytes(r.u8()).slice() };
}
export function makeNsec3Param(f: Nsec3ParamFields): Uint8Array {
  const w = new WireWriter(16, false);
  w.u8(f.hashAlgorithm);
  w.u8(f.flags);
  w.u16(f.iterations);
  w.u8(f.salt.length);
  w.bytes(f.salt);
  return w.finish();
}

/** Types listed in a type bitmap at the end of NSEC/NSEC3/CSYNC-style RDATA starting at `offset`. */
export function typesFromBitmap(bitmap: Uint8Array): number[] {
  return decodeTypeBitmap(new WireReader(bitmap));
}
