// Presentation-format helpers shared by the RDATA field codecs: a token cursor, character-string escapes, numbers,
// TTL-style durations, base64 / base32hex / hex, IPv4 and IPv6 (RFC 5952 output). Pure.

import { TextError } from '../errors.js';

/** A presentation-format token from the zone-file lexer: raw text (escapes NOT processed) and whether it was quoted. */
export interface Token {
  text: string;
  quoted: boolean;
}

/** Walks the RDATA tokens of one record; every error names the offending token index. */
export class Cursor {
  i = 0;
  constructor(readonly tokens: readonly Token[]) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  /** The next token; a clear error naming `what` when the RDATA ends early. */
  next(what: string): Token {
    const t = this.tokens[this.i];
    if (!t) throw new TextError(`missing ${what}`, this.i);
    this.i++;
    return t;
  }

  /** Every remaining token (may be none). */
  rest(): Token[] {
    const r = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return r;
  }

  /** Raise an error about the token most recently taken (or `at`). */
  fail(message: string, at = this.i - 1): never {
    throw new TextError(message, Math.max(0, at));
  }
}

/** Re-raise a TextError that lacks a token index (e.g. from Name.parse) with one. */
export function atToken<T>(index: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TextError && e.token === undefined) throw new TextError(e.message, index);
    throw e;
  }
}

const utf8 = new TextEncoder();

/**
 * Decode a character-string's raw text: `\DDD` (decimal, ≤ 255) and `\X` escapes; characters beyond ASCII are taken
 * as UTF-8. Returns the octets; throws TextError (without token index) on a bad escape.
 */
export function unescapeString(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= text.length) throw new TextError(`dangling backslash in "${text}"`);
      const d = text.slice(i + 1, i + 4);
      if (/^[0-9]/.test(d)) {
        if (!/^[0-9]{3}$/.test(d)) throw new TextError(`bad escape \\${d} (\\DDD needs three digits)`);
        const v = Number(d);
        if (v > 255) throw new TextError(`bad escape \\${d} (over 255)`);
        out.push(v);
        i += 3;
      } else {
        const cp = text.codePointAt(i + 1)!;
        if (cp < 0x80) out.push(cp);
        else out.push(...utf8.encode(String.fromCodePoint(cp)));
        i += cp > 0xffff ? 2 : 1;
      }
    } else if (c < 0x80) out.push(c);
    else {
      const cp = text.codePointAt(i)!;
      out.push(...utf8.encode(String.fromCodePoint(cp)));
      if (cp > 0xffff) i++;
    }
  }
  return Uint8Array.from(out);
}

/** Presentation of octets inside a quoted character-string: `"` and `\` escaped, non-printables as \DDD. */
export function escapeString(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c < 0x20 || c >= 0x7f) s += `\\${c.toString().padStart(3, '0')}`;
    else if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

export function quoted(b: Uint8Array): string {
  return `"${escapeString(b)}"`;
}

/** Unsigned decimal integer ≤ max, or undefined. */
export function parseUint(text: string, max: number): number | undefined {
  if (!/^[0-9]{1,20}$/.test(text)) return undefined;
  const v = Number(text);
  return v <= max ? v : undefined;
}

/** A TTL-style duration: plain seconds or BIND units (1w2d3h4m5s, case-insensitive), ≤ 2^32-1. */
export function parseDuration(text: string): number | undefined {
  const plain = parseUint(text, 0xffffffff);
  if (plain !== undefined) return plain;
  if (!/^([0-9]+[wdhmsWDHMS])+$/.test(text)) return undefined;
  const mult: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)([wdhmsWDHMS])/g)) total += Number(m[1]) * mult[m[2].toLowerCase()];
  return total <= 0xffffffff ? total : undefined;
}

// --- binary-to-text encodings -------------------------------------------------------------------------------------

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').toUpperCase();
}

export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Strict base64 (RFC 4648 §4, padded): Buffer's decoder silently skips junk, so check the alphabet first. */
export function fromBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  const b = Uint8Array.from(Buffer.from(s, 'base64'));
  // Reject non-canonical trailing bits so that text → wire → text is the identity.
  if (toBase64(b) !== s) return undefined;
  return b;
}

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

/** RFC 4648 §7 base32hex without padding (the NSEC3 presentation). */
export function toBase32Hex(b: Uint8Array): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 5) {
      s += B32HEX[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31];
  return s;
}

export function fromBase32Hex(s: string): Uint8Array | undefined {
  const t = s.toUpperCase().replace(/=+$/, '');
  if (![0, 2, 4, 5, 7].includes(t.length % 8)) return undefined;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of t) {
    const v = B32HEX.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return undefined; // non-zero padding bits: not a canonical encoding
  return Uint8Array.from(out);
}


/**
 * Split one record's RDATA text into tokens the way a master-file lexer would (for the API, CLI and tests; the
 * zone-file parser has its own lexer): whitespace separates, `"..."` is one quoted token, a backslash protects the
 * next character, `;` starts a comment, parentheses are ignored. `key="a b"` (SVCB) stays one token, quotes included.
 */
export function tokenizeRdata(text: string): Token[] {
  const out: Token[] = [];
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  let i = 0;
  const readQuoted = (): string => {
    // i is at the opening quote; returns the raw content and leaves i after the closing quote
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) throw new TextError('unterminated quoted string', out.length);
    const s = text.slice(i + 1, j);
    i = j + 1;
    return s;
  };
  while (i < text.length) {
    const c = text[i];
    if (isSpace(c) || c === '(' || c === ')') {
      i++;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"') {
      out.push({ text: readQuoted(), quoted: true });
    } else {
      let s = '';
      while (i < text.length && !isSpace(text[i]) && !'();"'.includes(text[i])) {
        if (text[i] === '\\' && i + 1 < text.length) {
          s += text.slice(i, i + 2);
          i += 2;
        } else if (text[i] === '=' && text[i + 1] === '"') {
          i++;
          s += `="${readQuoted()}"`;
        } else s += text[i++];
      }
      out.push({ text: s, quoted: false });
    }
  }
  return out;
}
