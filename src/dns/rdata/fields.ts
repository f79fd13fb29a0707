// The vocabulary of RDATA field codecs. Each field knows four things about itself: how to copy itself from a wire
// source to a sink (validating strictly; the same walk serves wire decoding, wire encoding with compression and RFC
// 4034 §6.2 canonical form), how to parse itself from presentation tokens, and how to print itself.
// The per-type descriptor table (table.ts) is a list of these fields; rdata.ts walks it.

import { typeFromString, typeToString } from '../constants.js';
import { DecodeError, TextError } from '../errors.js';
import { Name } from '../name.js';
import type { WireReader, WireWriter } from '../wire.js';
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from '../address.js';
import {
  atToken,
  type Cursor,
  fromBase32Hex,
  fromBase64,
  fromHex,
  parseDuration,
  parseUint,
  quoted,
  toBase32Hex,
  toBase64,
  toHex,
  unescapeString,
} from './text.js';

/** How a copy walk treats names. */
export interface CopyContext {
  /** Compression pointers may be followed (reading a message, for types RFC 3597 §4 lets receivers decompress). */
  allowPointers: boolean;
  /** Names are written compressed (writing a message, RFC 1035 well-known types only). */
  compress: boolean;
  /** Names are lower-cased (canonical form of the RFC 4034 §6.2 / RFC 6840 §5.1 types). */
  lower: boolean;
  /** Only validating: the output is thrown away, so plain names are checked without building Name values. */
  discard?: boolean;
}

export interface Field {
  /** Codec name; the property tests pick a generator by it. */
  readonly kind: string;
  /** Field name as the RFCs call it (for messages and typed views). */
  readonly label: string;
  /** May be absent at the end of the RDATA (wire and text). */
  readonly optional?: boolean;
  /** Copy the field from `src` (bounded by src.end) to `out`, validating it; DecodeError when malformed. */
  copy(src: WireReader, out: WireWriter, ctx: CopyContext): void;
  /** Parse the field from tokens; TextError with the token index when malformed. */
  parse(cur: Cursor, out: WireWriter, origin: Name): void;
  /** Presentation of the field read from valid internal RDATA; '' when it prints nothing. */
  print(src: WireReader, origin: Name | undefined): string;
}

export function bad(src: WireReader, message: string, at = src.pos): never {
  throw new DecodeError('rdata', message, at);
}

// --- integers -----------------------------------------------------------------------------------------------------

export interface UintOptions {
  /** Accept TTL-style units (1h30m) in text. */
  duration?: boolean;
  /** Mnemonics accepted in text (upper case). */
  names?: Readonly<Record<string, number>>;
  /** Print the mnemonic instead of the number when there is one. */
  printNames?: boolean;
}

export interface UintField extends Field {
  readonly size: 1 | 2 | 4 | 6;
}

function readUint(src: WireReader, size: 1 | 2 | 4 | 6): number {
  switch (size) {
    case 1:
      return src.u8();
    case 2:
      return src.u16();
    case 4:
      return src.u32();
    case 6:
      return src.u16() * 0x100000000 + src.u32();
  }
}

function writeUint(out: WireWriter, size: 1 | 2 | 4 | 6, v: number): void {
  switch (size) {
    case 1:
      out.u8(v);
      return;
    case 2:
      out.u16(v);
      return;
    case 4:
      out.u32(v);
      return;
    case 6:
      out.u16(Math.floor(v / 0x100000000));
      out.u32(v % 0x100000000);
  }
}

/**
 * The one integer codec: `size` octets on the wire, one token in text. Plain numbers, mnemonics, RRtypes and times
 * differ only in how a token maps to a number and back, so the wire walk and the token handling are written once.
 * The mappings are made once per field when the table is built; a call allocates nothing beyond what they do.
 * `badText` words the error for a token `fromText` refuses (undefined).
 */
function integer(
  size: 1 | 2 | 4 | 6,
  label: string,
  optional: boolean,
  fromText: (text: string) => number | undefined,
  toText: (v: number) => string,
  badText: (text: string) => string,
): UintField {
  return {
    kind: `u${size * 8}`,
    label,
    size,
    optional,
    copy(src, out) {
      writeUint(out, size, readUint(src, size));
    },
    parse(cur: Cursor, out: WireWriter) {
      const t = cur.next(label);
      const v = fromText(t.text);
      if (v === undefined) cur.fail(badText(t.text));
      writeUint(out, size, v);
    },
    print(src) {
      return toText(readUint(src, size));
    },
  };
}

export function uint(size: 1 | 2 | 4 | 6, label: string, opts: UintOptions = {}, optional = false): UintField {
  const max = size === 6 ? 2 ** 48 - 1 : 2 ** (8 * size) - 1;
  const names = opts.names;
  const byValue = new Map<number, string>();
  if (names) for (const [k, v] of Object.entries(names)) if (!byValue.has(v)) byValue.set(v, k);
  return integer(
    size,
    label,
    optional,
    (text) => {
      let v = opts.duration ? parseDuration(text) : parseUint(text, max);
      if (v === undefined && names && Object.hasOwn(names, text.toUpperCase())) v = names[text.toUpperCase()];
      return v === undefined || v > max ? undefined : v;
    },
    (v) => (opts.printNames && byValue.get(v)) || String(v),
    (text) => `bad ${label} "${text}" (expected ${names ? 'a mnemonic or ' : ''}an integer 0..${max})`,
  );
}

/** DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers"); text accepts the mnemonics. */
export const SEC_ALGORITHMS: Readonly<Record<string, number>> = {
  RSAMD5: 1, DH: 2, DSA: 3, RSASHA1: 5, 'DSA-NSEC3-SHA1': 6, 'RSASHA1-NSEC3-SHA1': 7, RSASHA256: 8, RSASHA512: 10,
  'ECC-GOST': 12, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15, ED448: 16, INDIRECT: 252, PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

/** RFC 4398 certificate types. */
export const CERT_TYPES: Readonly<Record<string, number>> = {
  PKIX: 1, SPKI: 2, PGP: 3, IPKIX: 4, ISPKI: 5, IPGP: 6, ACPKIX: 7, IACPKIX: 8, URI: 253, OID: 254,
};

/** RRtype (RRSIG type covered): mnemonic or TYPEnnn in text. */
export function rrtype(label: string): UintField {
  return integer(2, label, false, typeFromString, typeToString, (text) => `unknown type "${text}"`);
}

/** RRSIG/SIG/TKEY time: 32-bit seconds, YYYYMMDDHHmmSS in text (plain seconds accepted too, as BIND does). */
export function time(label: string): UintField {
  return integer(4, label, false, parseTime, formatTime, (text) => `bad ${label} "${text}" (expected YYYYMMDDHHmmSS or seconds)`);
}

export function parseTime(s: string): number | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/.exec(s);
  if (!m) return parseUint(s, 0xffffffff);
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(ms).getUTCDate() !== d) return undefined; // day beyond the month's end
  // Serial-number arithmetic (RFC 4034 §3.1.5): dates after 2106 wrap.
  return (ms / 1000) % 0x100000000;
}

export function formatTime(v: number): string {
  const d = new Date(v * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

// --- addresses ----------------------------------------------------------------------------------------------------

/**
 * A field of `size` octets with a one-token text form (IPv4 and IPv6 addresses, EUI-48/64): on the wire a plain copy
 * of the octets, in text a token that `fromText` turns into the octets (undefined when malformed) — these parsers
 * build their result anyway, so sharing the codec adds no allocation. `token` names the token when it is missing.
 */
export function fixedSize(
  kind: string,
  label: string,
  size: number,
  token: string,
  fromText: (text: string) => Uint8Array | undefined,
  toText: (b: Uint8Array) => string,
  badText: (text: string) => string,
): Field {
  return {
    kind,
    label,
    copy(src, out) {
      out.bytes(src.bytes(size));
    },
    parse(cur: Cursor, out: WireWriter) {
      const t = cur.next(token);
      const b = fromText(t.text);
      if (!b) cur.fail(badText(t.text));
      out.bytes(b);
    },
    print(src) {
      return toText(src.bytes(size));
    },
  };
}

export const ipv4 = fixedSize('ipv4', 'address', 4, 'IPv4 address', parseIpv4, ipv4ToString, (text) => `bad IPv4 address "${text}"`);

export const ipv6 = fixedSize('ipv6', 'address', 16, 'IPv6 address', parseIpv6, ipv6ToString, (text) => `bad IPv6 address "${text}"`);

// --- names --------------------------------------------------------------------------------------------------------

/** Read a name from RDATA, refusing compression pointers unless the context allows them. */
export function readName(src: WireReader, allowPointers: boolean): Name {
  if (!allowPointers) {
    for (let p = src.pos; p < src.end; ) {
      const l = src.buf[p];
      if (l === 0) break;
      if ((l & 0xc0) === 0xc0) bad(src, 'compression pointer in RDATA of a type that must not be compressed', p);
      p += l + 1;
    }
  }
  return src.name();
}

/** Check an uncompressed name in place (labels in bounds, no pointers, ≤ 255 octets) and step over it. */
export function skipName(src: WireReader): void {
  const buf = src.buf;
  let p = src.pos;
  let total = 1;
  for (;;) {
    if (p >= src.end) bad(src, 'name runs past the end of the RDATA', p);
    const l = buf[p];
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) bad(src, 'compression pointer in RDATA of a type that must not be compressed', p);
    if (l > 63) bad(src, `unsupported label type 0x${(l & 0xc0).toString(16)}`, p);
    total += l + 1;
    if (total > 255) bad(src, 'name longer than 255 octets', p);
    p += l + 1;
  }
  src.pos = p + 1;
}

export function writeName(out: WireWriter, n: Name, ctx: CopyContext): void {
  if (ctx.lower) out.bytes(n.toCanonicalWire());
  else out.name(n, ctx.compress);
}

export function printName(n: Name, origin: Name | undefined): string {
  return origin ? n.toRelativeString(origin) : n.toString();
}

export function parseName(cur: Cursor, origin: Name, what: string): Name {
  const t = cur.next(what);
  return atToken(cur.i - 1, () => Name.parse(t.text, origin));
}

export function name(label: string, optional = false): Field {
  return {
    kind: 'name',
    label,
    optional,
    copy(src, out, ctx) {
      if (ctx.discard && !ctx.allowPointers) skipName(src);
      else writeName(out, readName(src, ctx.allowPointers), ctx);
    },
    parse(cur: Cursor, out: WireWriter, origin: Name) {
      out.bytes(parseName(cur, origin, label).toWire());
    },
    print(src, origin) {
      return printName(src.name(), origin);
    },
  };
}

// --- character-strings --------------------------------------------------------------------------------------------

export function parseCharString(cur: Cursor, what: string): Uint8Array {
  const t = cur.next(what);
  const b = atToken(cur.i - 1, () => unescapeString(t.text));
  if (b.length > 255) cur.fail(`character-string longer than 255 octets (${b.length})`);
  return b;
}

const NO_OCTETS = new Uint8Array(0);

/**
 * A length octet and that many octets, with a text form of its own (character-string, NSEC3 salt, NSEC3 next hashed
 * owner name): the wire form and its walk are the same for all, so one codec serves them. `min` is the fewest octets
 * allowed (0 or 1); `fromText` takes its token(s) and returns the octets, already checked to fit in 255.
 */
function counted(
  kind: string,
  label: string,
  min: 0 | 1,
  optional: boolean,
  fromText: (cur: Cursor, label: string) => Uint8Array,
  toText: (b: Uint8Array) => string,
): Field {
  return {
    kind,
    label,
    optional,
    copy(src, out) {
      const n = src.u8();
      if (n < min) bad(src, `empty ${label}`, src.pos - 1);
      out.u8(n);
      out.bytes(src.bytes(n));
    },
    parse(cur: Cursor, out: WireWriter) {
      const b = fromText(cur, label);
      out.u8(b.length);
      out.bytes(b);
    },
    print(src) {
      const n = src.u8();
      // An empty value (an NSEC3 salt of "-", a "" character-string) is printed without a new view of no octets.
      return toText(n === 0 ? NO_OCTETS : src.bytes(n));
    },
  };
}

/** One <character-string>: length octet + data; always printed quoted. */
export function charString(label: string, optional = false): Field {
  return counted('string', label, 0, optional, parseCharString, quoted);
}

/** One or more <character-string>s to the end of the RDATA (TXT, SPF). */
export function charStrings(label: string): Field {
  return {
    kind: 'strings',
    label,
    copy(src, out) {
      if (src.pos >= src.end) bad(src, `${label}: at least one character-string is required`);
      while (src.pos < src.end) {
        const n = src.u8();
        out.u8(n);
        out.bytes(src.bytes(n));
      }
    },
    parse(cur: Cursor, out: WireWriter) {
      if (cur.done) cur.fail(`missing ${label}`, cur.i);
      while (!cur.done) {
        const b = parseCharString(cur, label);
        out.u8(b.length);
        out.bytes(b);
      }
    },
    print(src) {
      const parts: string[] = [];
      while (src.pos < src.end) parts.push(quoted(src.bytes(src.u8())));
      return parts.join(' ');
    },
  };
}

/** Octets to the end of the RDATA without a length octet, presented as one quoted string (URI target, CAA value). */
export function stringRest(label: string): Field {
  return {
    kind: 'stringRest',
    label,
    copy(src, out) {
      out.bytes(src.bytes(src.end - src.pos));
    },
    parse(cur: Cursor, out: WireWriter) {
      const t = cur.next(label);
      out.bytes(atToken(cur.i - 1, () => unescapeString(t.text)));
    },
    print(src) {
      return quoted(src.bytes(src.end - src.pos));
    },
  };
}

// --- binary blobs -------------------------------------------------------------------------------------------------

export interface BlobField extends Field {
  readonly min: number;
}

function joinRest(cur: Cursor): { text: string; at: number } {
  const at = cur.i;
  return { text: cur.rest().map((t) => t.text).join(''), at };
}

/** Binary to the end of the RDATA, in a text encoding that may be split over several tokens. */
function blobRest(
  kind: 'base64' | 'hex',
  label: string,
  min: number,
  decode: (text: string) => Uint8Array | undefined | null,
  encode: (b: Uint8Array) => string,
): BlobField {
  return {
    kind,
    label,
    min,
    copy(src, out) {
      const n = src.end - src.pos;
      if (n < min) bad(src, `${label} shorter than ${min} octets`);
      out.bytes(src.bytes(n));
    },
    parse(cur: Cursor, out: WireWriter) {
      const { text, at } = joinRest(cur);
      const b = decode(text);
      if (!b) throw new TextError(`bad ${kind} in ${label}`, at);
      if (b.length < min) throw new TextError(min === 1 ? `missing ${label}` : `${label} shorter than ${min} octets`, at);
      out.bytes(b);
    },
    print(src) {
      return encode(src.bytes(src.end - src.pos));
    },
  };
}

/** Base64 to the end of the RDATA; text may be split over several tokens. */
export function base64Rest(label: string, min = 1): BlobField {
  return blobRest('base64', label, min, fromBase64, toBase64);
}

/** Hex to the end of the RDATA; text may be split over several tokens. */
export function hexRest(label: string, min = 1): BlobField {
  return blobRest('hex', label, min, fromHex, toHex);
}

/** Hex with a length octet, "-" when empty (NSEC3 / NSEC3PARAM salt). */
export function saltField(label: string): Field {
  return counted('salt', label, 0, false, parseSalt, printSalt);
}

function printSalt(b: Uint8Array): string {
  return b.length === 0 ? '-' : toHex(b);
}

function parseSalt(cur: Cursor, label: string): Uint8Array {
  const t = cur.next(label);
  const b = t.text === '-' ? new Uint8Array(0) : fromHex(t.text);
  if (!b || (b.length === 0 && t.text !== '-')) cur.fail(`bad ${label} "${t.text}" (hex or "-")`);
  if (b.length > 255) cur.fail(`${label} longer than 255 octets`);
  return b;
}

/** Base32hex with a length octet, at least one octet (NSEC3 next hashed owner name). */
export function hashField(label: string): Field {
  return counted('hash32', label, 1, false, parseHash32, toBase32Hex);
}

function parseHash32(cur: Cursor, label: string): Uint8Array {
  const t = cur.next(label);
  const b = fromBase32Hex(t.text);
  if (!b || b.length === 0 || b.length > 255) cur.fail(`bad ${label} "${t.text}" (base32hex)`);
  return b;
}

/** Data with a 16-bit length, printed as "length base64" (TSIG/TKEY MAC, key and other data). */
export function base64U16(label: string): Field {
  return {
    kind: 'b64u16',
    label,
    copy(src, out) {
      const n = src.u16();
      out.u16(n);
      out.bytes(src.bytes(n));
    },
    parse(cur: Cursor, out: WireWriter) {
      const lt = cur.next(`${label} length`);
      const n = parseUint(lt.text, 0xffff);
      if (n === undefined) cur.fail(`bad ${label} length "${lt.text}"`);
      let text = '';
      const at = cur.i;
      while (n > 0 && (text.length / 4) * 3 < n) text += cur.next(label).text;
      const b = n === 0 ? new Uint8Array(0) : fromBase64(text);
      if (!b || b.length !== n) throw new TextError(`${label} does not decode to ${n} octets of base64`, at);
      out.u16(n);
      out.bytes(b);
    },
    print(src) {
      const n = src.u16();
      return n === 0 ? '0' : `${n} ${toBase64(src.bytes(n))}`;
    },
  };
}

// --- type bitmaps (RFC 4034 §4.1.2) ------------------------------------------------------------------------------

/** Encode a set of types as window blocks. */
export function encodeTypeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const win = sorted[i] >> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    while (i < sorted.length && sorted[i] >> 8 === win) {
      const low = sorted[i] & 0xff;
      bits[low >> 3] |= 0x80 >> (low & 7);
      len = (low >> 3) + 1;
      i++;
    }
    out.push(win, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}

/** Types in a bitmap; throws DecodeError on a malformed bitmap (order, empty blocks, trailing zero octets). */
export function decodeTypeBitmap(src: WireReader): number[] {
  const types: number[] = [];
  let last = -1;
  while (src.pos < src.end) {
    const at = src.pos;
    const win = src.u8();
    const len = src.u8();
    if (win <= last) bad(src, 'type bitmap windows out of order or repeated', at);
    if (len < 1 || len > 32) bad(src, `type bitmap window length ${len} not in 1..32`, at);
    const bits = src.bytes(len);
    if (bits[len - 1] === 0) bad(src, 'type bitmap window has trailing zero octets', at);
    for (let i = 0; i < len; i++)
      for (let j = 0; j < 8; j++) if (bits[i] & (0x80 >> j)) types.push((win << 8) | (i * 8 + j));
    last = win;
  }
  return types;
}

export const typeBitmap: Field = {
  kind: 'bitmap',
  label: 'type bitmap',
  copy(src, out) {
    const start = src.pos;
    decodeTypeBitmap(src);
    out.bytes(src.buf.subarray(start, src.pos));
  },
  parse(cur: Cursor, out: WireWriter) {
    const types: number[] = [];
    while (!cur.done) {
      const t = cur.next('type');
      const v = typeFromString(t.text);
      if (v === undefined) cur.fail(`unknown type "${t.text}" in type bitmap`);
      types.push(v);
    }
    out.bytes(encodeTypeBitmap(types));
  },
  print(src) {
    return decodeTypeBitmap(src).map(typeToString).join(' ');
  },
};
