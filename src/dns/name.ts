// Domain names as values: the uncompressed wire form (original case kept) with a canonical lower-case key.
// Never a presentation string internally (names with dots or odd bytes inside labels stay exact).
//
// A name is its wire bytes only: labels are read from them where needed, not kept as a list of views (four more
// objects per name, ~360 bytes for a three-label name — a signed zone keeps a name per owner). `labels` makes the
// list when asked, for the few callers that want it.

import { TextError } from './errors.js';

const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;

function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Presentation of one label with RFC 1035 §5.1 escapes. */
export function labelToString(label: Uint8Array, lower = false): string {
  return labelText(label, 0, label.length, lower);
}

/** The length of an octet in presentation: 4 as \ddd, 2 as a backslash and itself, 1 as itself (RFC 1035 §5.1). */
function textLength(c: number): number {
  if (c <= 0x20 || c >= 0x7f) return 4;
  return c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24 ? 2 : 1;
}

/** labelToString of bytes [start, end) of `b`. */
function labelText(b: Uint8Array, start: number, end: number, lower: boolean): string {
  let s = '';
  for (let i = start; i < end; i++) {
    let c = b[i];
    if (lower) c = lowerByte(c);
    const n = textLength(c);
    if (n === 4) s += `\\${c.toString().padStart(3, '0')}`;
    else if (n === 2) s += `\\${String.fromCharCode(c)}`;
    else s += String.fromCharCode(c);
  }
  return s;
}

const utf8 = new TextEncoder();

/** wireText's characters: a name without escapes is at most 254 of them (RFC 1035 §3.1: 255 octets on the wire). */
const textCodes = new Uint8Array(256);

/** Presentation of the labels of `wire` from offset `from` (each followed by a dot); "." for none. */
function wireText(wire: Uint8Array, from: number, lower: boolean): string {
  if (wire[from] === 0) return '.';
  // Almost every name needs no escape: its text is made at once from the octets, not a character at a time (a
  // zone's million owner keys cost ~500 bytes of intermediate strings each that way).
  const codes = textCodes;
  let n = 0;
  for (let p = from; wire[p] !== 0; p += wire[p] + 1) {
    for (let i = p + 1; i <= p + wire[p]; i++) {
      const c = lower ? lowerByte(wire[i]) : wire[i];
      if (textLength(c) !== 1 || n >= 255) return escapedWireText(wire, from, lower);
      codes[n++] = c;
    }
    codes[n++] = 0x2e;
  }
  return String.fromCharCode.apply(null, codes.subarray(0, n) as unknown as number[]);
}

function escapedWireText(wire: Uint8Array, from: number, lower: boolean): string {
  let s = '';
  for (let p = from; wire[p] !== 0; p += wire[p] + 1) s += `${labelText(wire, p + 1, p + 1 + wire[p], lower)}.`;
  return s;
}

/** Offset of label `n` (0 = the leftmost) in `wire`; the terminal zero's offset when n is the label count. */
function labelOffset(wire: Uint8Array, n: number): number {
  let p = 0;
  for (let i = 0; i < n && wire[p] !== 0; i++) p += wire[p] + 1;
  return p;
}

function countLabels(wire: Uint8Array): number {
  let n = 0;
  for (let p = 0; wire[p] !== 0; p += wire[p] + 1) n++;
  return n;
}

/** Label offsets of two names at once (compareCanonical): reused, a name has at most 127 labels. */
const offsA = new Int32Array(128);
const offsB = new Int32Array(128);

function offsetsInto(wire: Uint8Array, out: Int32Array): number {
  let n = 0;
  for (let p = 0; wire[p] !== 0; p += wire[p] + 1) out[n++] = p;
  return n;
}

/** Labels → wire form (no checks: the callers' labels are valid). */
function wireOfLabels(labels: readonly Uint8Array[], tail?: Uint8Array): Uint8Array {
  let size = tail ? tail.length : 1;
  for (const l of labels) size += l.length + 1;
  const out = new Uint8Array(size);
  let p = 0;
  for (const l of labels) {
    out[p++] = l.length;
    out.set(l, p);
    p += l.length;
  }
  if (tail) out.set(tail, p);
  else out[p] = 0;
  return out;
}

export class Name {
  private readonly wire: Uint8Array;
  private _key: string | undefined = undefined;

  /**
   * A name of these labels, from the leftmost (most specific) to the last before the root; or (Name.ofWire) of this
   * uncompressed wire form. One constructor for both, so that every name has one shape.
   */
  constructor(labels: readonly Uint8Array[] | Uint8Array) {
    this.wire = labels instanceof Uint8Array ? labels : wireOfLabels(labels);
  }

  /**
   * The name whose uncompressed wire form is `wire` (kept, not copied). The caller vouches for it: labels of 1..63
   * octets, a terminal zero, at most 255 octets (a decoder's or parser's checked output).
   */
  static ofWire(wire: Uint8Array): Name {
    return new Name(wire);
  }

  static readonly root = Name.ofWire(Uint8Array.of(0));

  /**
   * Parse presentation format. A name without a trailing dot is relative to `origin` (or an error when no origin is
   * given); "@" is the origin.
   */
  static parse(text: string, origin?: Name): Name {
    if (text === '@') {
      if (!origin) throw new TextError('"@" used with no origin');
      return origin;
    }
    if (text === '.') return Name.root;
    if (text.length === 0) throw new TextError('empty name');
    if (text.indexOf('\\') < 0) {
      const plain = Name.plain(text, origin);
      if (plain) return plain;
    }
    const labels: Uint8Array[] = [];
    let cur: number[] = [];
    let absolute = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x2e) {
        if (cur.length === 0) throw new TextError(`empty label in name "${text}"`);
        labels.push(Uint8Array.from(cur));
        cur = [];
        if (i === text.length - 1) absolute = true;
      } else if (c === 0x5c) {
        const d = text.slice(i + 1, i + 4);
        if (/^[0-9]{3}$/.test(d)) {
          const v = Number(d);
          if (v > 255) throw new TextError(`bad escape \\${d} in name "${text}"`);
          cur.push(v);
          i += 3;
        } else if (i + 1 < text.length) {
          const cp = text.codePointAt(i + 1) as number;
          if (cp < 0x80) cur.push(cp);
          else for (const b of utf8.encode(String.fromCodePoint(cp))) cur.push(b);
          i += cp > 0xffff ? 2 : 1;
        } else throw new TextError(`dangling backslash in name "${text}"`);
      } else if (c < 0x80) cur.push(c);
      else {
        // A character beyond ASCII stands for its UTF-8 octets, as the octets of a UTF-8 zone file are read by BIND
        // and Knot (labels are octets, RFC 2181 §11; an IDN is written in its A-label form, RFC 5890).
        const cp = text.codePointAt(i) as number;
        if (cp >= 0xd800 && cp <= 0xdfff) throw new TextError(`bad character in name "${text}"`);
        if (cp > 0xffff) i++;
        for (const b of utf8.encode(String.fromCodePoint(cp))) cur.push(b);
      }
      if (cur.length > MAX_LABEL) throw new TextError(`label longer than 63 octets in name "${text}"`);
    }
    if (cur.length > 0) labels.push(Uint8Array.from(cur));
    if (!absolute && !origin) throw new TextError(`relative name "${text}" with no origin`);
    const name = Name.ofWire(wireOfLabels(labels, absolute ? undefined : origin?.wire));
    if (name.wireLength > MAX_NAME_WIRE) throw new TextError(`name "${text}" longer than 255 octets`);
    return name;
  }

  /**
   * parse() of a name without escapes (almost every name), straight from the text into the name's wire form;
   * undefined for a name with a character beyond ASCII (parse() makes its UTF-8 octets).
   */
  private static plain(text: string, origin: Name | undefined): Name | undefined {
    const absolute = text.charCodeAt(text.length - 1) === 0x2e;
    const end = absolute ? text.length - 1 : text.length;
    const tail = absolute ? undefined : origin?.wire;
    if (!absolute && !tail) throw new TextError(`relative name "${text}" with no origin`);
    // The text's labels take end + 1 octets (a length octet each instead of the dots, one more in front).
    const own = end + 1;
    const size = own + (tail ? tail.length : 1);
    const wire = new Uint8Array(size);
    let start = 0;
    for (let i = 0; i <= end; i++) {
      if (i < end && text.charCodeAt(i) !== 0x2e) continue;
      const len = i - start;
      if (len === 0) throw new TextError(`empty label in name "${text}"`);
      if (len > MAX_LABEL) throw new TextError(`label longer than 63 octets in name "${text}"`);
      wire[start] = len;
      for (let k = 0; k < len; k++) {
        const c = text.charCodeAt(start + k);
        if (c > 0x7f) return undefined;
        wire[start + 1 + k] = c;
      }
      start = i + 1;
    }
    if (size > MAX_NAME_WIRE) throw new TextError(`name "${text}" longer than 255 octets`);
    if (tail) wire.set(tail, own);
    return Name.ofWire(wire);
  }

  /** Parse an absolute name; convenience for code and tests. "example.org" and "example.org." are the same. */
  static from(text: string): Name {
    return Name.parse(text.endsWith('.') ? text : `${text}.`);
  }

  /** Labels from the leftmost (most specific) to the last before the root: views of the wire form, made per call. */
  get labels(): readonly Uint8Array[] {
    const w = this.wire;
    const out: Uint8Array[] = [];
    for (let p = 0; w[p] !== 0; p += w[p] + 1) out.push(w.subarray(p + 1, p + 1 + w[p]));
    return out;
  }

  get wireLength(): number {
    return this.wire.length;
  }

  get labelCount(): number {
    return countLabels(this.wire);
  }

  isRoot(): boolean {
    return this.wire[0] === 0;
  }

  /** Canonical lower-case presentation with trailing dot: the key for maps and equality. */
  get key(): string {
    if (this._key === undefined) this._key = wireText(this.wire, 0, true);
    return this._key;
  }

  /**
   * Where each label's text starts in `key` (label i's suffix key is key.slice(starts[i])): the keys of all the
   * name's suffixes without a name or string built per suffix (a writer's compression table).
   */
  keyStarts(): number[] {
    const w = this.wire;
    const out: number[] = [];
    let k = 0;
    for (let p = 0; w[p] !== 0; p += w[p] + 1) {
      out.push(k);
      for (let i = p + 1; i <= p + w[p]; i++) k += textLength(lowerByte(w[i]));
      k++;
    }
    return out;
  }

  toString(): string {
    return wireText(this.wire, 0, false);
  }

  /** Presentation relative to origin when inside it ("@" for the origin itself), absolute otherwise. */
  toRelativeString(origin: Name | undefined): string {
    if (!origin) return this.toString();
    if (this.equals(origin)) return '@';
    if (!this.isSubdomainOf(origin)) return this.toString();
    const w = this.wire;
    const end = labelOffset(w, this.labelCount - origin.labelCount);
    const parts: string[] = [];
    for (let p = 0; p < end; p += w[p] + 1) parts.push(labelText(w, p + 1, p + 1 + w[p], false));
    return parts.join('.');
  }

  /** Uncompressed wire form, original case (the name's own bytes: not to be changed). */
  toWire(): Uint8Array {
    return this.wire;
  }

  /** Uncompressed wire form, lower-cased (RFC 4034 §6.2 canonical). */
  toCanonicalWire(): Uint8Array {
    const w = this.wire;
    const out = new Uint8Array(w.length);
    // Length octets are < 64 so lowering them is a no-op.
    for (let i = 0; i < w.length; i++) out[i] = lowerByte(w[i]);
    return out;
  }

  equals(other: Name): boolean {
    return this === other || this.key === other.key;
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const a = this.wire;
    const b = other.wire;
    if (b.length > a.length) return false;
    const extra = countLabels(a) - countLabels(b);
    if (extra < 0) return false;
    const p = labelOffset(a, extra);
    if (a.length - p !== b.length) return false;
    // Same label count from p on and the same length: the bytes (length octets included) compare case-blind.
    for (let i = 0; i < b.length; i++) if (lowerByte(a[p + i]) !== lowerByte(b[i])) return false;
    return true;
  }

  /** The name with the leftmost `n` labels removed. */
  parent(n = 1): Name {
    const p = labelOffset(this.wire, n);
    return this.wire[p] === 0 ? Name.root : Name.ofWire(this.wire.subarray(p));
  }

  /** Prepend labels. */
  prepend(...labels: Uint8Array[]): Name {
    return Name.ofWire(wireOfLabels(labels, this.wire));
  }

  concat(suffix: Name): Name {
    if (suffix.isRoot()) return this;
    const w = this.wire;
    const out = new Uint8Array(w.length - 1 + suffix.wire.length);
    out.set(w.subarray(0, w.length - 1), 0);
    out.set(suffix.wire, w.length - 1);
    return Name.ofWire(out);
  }

  /** Is the leftmost label "*"? */
  isWildcard(): boolean {
    return this.wire[0] === 1 && this.wire[1] === 0x2a;
  }

  /** RFC 4034 §6.1 canonical ordering: compare labels right to left, each as lower-cased octet strings. */
  compareCanonical(other: Name): number {
    const a = this.wire;
    const b = other.wire;
    let i = offsetsInto(a, offsA) - 1;
    let j = offsetsInto(b, offsB) - 1;
    while (i >= 0 && j >= 0) {
      const pa = offsA[i];
      const pb = offsB[j];
      const la = a[pa];
      const lb = b[pb];
      const n = la < lb ? la : lb;
      for (let k = 1; k <= n; k++) {
        const d = lowerByte(a[pa + k]) - lowerByte(b[pb + k]);
        if (d !== 0) return d;
      }
      if (la !== lb) return la - lb;
      i--;
      j--;
    }
    return i < 0 ? (j < 0 ? 0 : -1) : 1;
  }
}

export const textEncoder = new TextEncoder();
