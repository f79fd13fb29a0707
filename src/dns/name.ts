// Domain names as values: a list of labels (original case kept) with a canonical lower-case key.
// Never a presentation string internally (names with dots or odd bytes inside labels stay exact).

import { TextError } from './errors.js';

const MAX_NAME_WIRE = 255;
const MAX_LABEL = 63;

function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Presentation of one label with RFC 1035 §5.1 escapes. */
export function labelToString(label: Uint8Array, lower = false): string {
  let s = '';
  for (let i = 0; i < label.length; i++) {
    let b = label[i];
    if (lower) b = lowerByte(b);
    if (b <= 0x20 || b >= 0x7f) s += `\\${b.toString().padStart(3, '0')}`;
    else if (b === 0x2e || b === 0x5c || b === 0x22 || b === 0x28 || b === 0x29 || b === 0x3b || b === 0x40 || b === 0x24)
      s += `\\${String.fromCharCode(b)}`;
    else s += String.fromCharCode(b);
  }
  return s;
}

export class Name {
  /** Labels from the leftmost (most specific) to the last before the root. */
  readonly labels: readonly Uint8Array[];
  private _key: string | undefined;
  private _wire: Uint8Array | undefined;

  constructor(labels: readonly Uint8Array[]) {
    this.labels = labels;
  }

  static readonly root = new Name([]);

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
    if (text.indexOf('\\') < 0) return Name.plain(text, origin);
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
          cur.push(text.charCodeAt(i + 1) & 0xff);
          i += 1;
        } else throw new TextError(`dangling backslash in name "${text}"`);
      } else {
        if (c > 0xff) throw new TextError(`non-ASCII character in name "${text}" (use punycode)`);
        cur.push(c);
      }
      if (cur.length > MAX_LABEL) throw new TextError(`label longer than 63 octets in name "${text}"`);
    }
    if (cur.length > 0) labels.push(Uint8Array.from(cur));
    let name = new Name(labels);
    if (!absolute) {
      if (!origin) throw new TextError(`relative name "${text}" with no origin`);
      name = name.concat(origin);
    }
    if (name.wireLength > MAX_NAME_WIRE) throw new TextError(`name "${text}" longer than 255 octets`);
    return name;
  }

  /**
   * parse() of a name without escapes (almost every name), straight from the text into the name's wire form: one
   * buffer per name, its labels views into it. A buffer of its own per label cost four more ArrayBuffers for a
   * four-label name, and a signed zone keeps a name per owner (heap snapshot of a signed 100,000-record zone: 700,829
   * ArrayBuffers before, 300,810 after).
   */
  private static plain(text: string, origin: Name | undefined): Name {
    const absolute = text.charCodeAt(text.length - 1) === 0x2e;
    const end = absolute ? text.length - 1 : text.length;
    const tail = absolute ? undefined : origin?.toWire();
    if (!absolute && !tail) throw new TextError(`relative name "${text}" with no origin`);
    // The text's labels take end + 1 octets (a length octet each instead of the dots, one more in front).
    const own = end + 1;
    const size = own + (tail ? tail.length : 1);
    const wire = new Uint8Array(size);
    const labels: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i <= end; i++) {
      if (i < end && text.charCodeAt(i) !== 0x2e) continue;
      const len = i - start;
      if (len === 0) throw new TextError(`empty label in name "${text}"`);
      if (len > MAX_LABEL) throw new TextError(`label longer than 63 octets in name "${text}"`);
      wire[start] = len;
      for (let k = 0; k < len; k++) {
        const c = text.charCodeAt(start + k);
        if (c > 0xff) throw new TextError(`non-ASCII character in name "${text}" (use punycode)`);
        wire[start + 1 + k] = c;
      }
      labels.push(wire.subarray(start + 1, start + 1 + len));
      start = i + 1;
    }
    if (size > MAX_NAME_WIRE) throw new TextError(`name "${text}" longer than 255 octets`);
    if (tail) {
      wire.set(tail, own);
      for (let p = own; wire[p] !== 0; p += wire[p] + 1) labels.push(wire.subarray(p + 1, p + 1 + wire[p]));
    }
    // At its length: grown by push, the list has room for 16.
    const name = new Name(labels.slice());
    name._wire = wire;
    return name;
  }

  /** Parse an absolute name; convenience for code and tests. "example.org" and "example.org." are the same. */
  static from(text: string): Name {
    return Name.parse(text.endsWith('.') ? text : `${text}.`);
  }

  get wireLength(): number {
    let n = 1;
    for (const l of this.labels) n += l.length + 1;
    return n;
  }

  get labelCount(): number {
    return this.labels.length;
  }

  isRoot(): boolean {
    return this.labels.length === 0;
  }

  /** Canonical lower-case presentation with trailing dot: the key for maps and equality. */
  get key(): string {
    if (this._key === undefined) {
      if (this.labels.length === 0) this._key = '.';
      else {
        let s = '';
        for (const l of this.labels) s += `${labelToString(l, true)}.`;
        this._key = s;
      }
    }
    return this._key;
  }

  toString(): string {
    if (this.labels.length === 0) return '.';
    let s = '';
    for (const l of this.labels) s += `${labelToString(l)}.`;
    return s;
  }

  /** Presentation relative to origin when inside it ("@" for the origin itself), absolute otherwise. */
  toRelativeString(origin: Name | undefined): string {
    if (!origin) return this.toString();
    if (this.equals(origin)) return '@';
    if (!this.isSubdomainOf(origin)) return this.toString();
    const n = this.labels.length - origin.labels.length;
    return this.labels
      .slice(0, n)
      .map((l) => labelToString(l))
      .join('.');
  }

  /** Uncompressed wire form, original case. */
  toWire(): Uint8Array {
    if (!this._wire) {
      const out = new Uint8Array(this.wireLength);
      let p = 0;
      for (const l of this.labels) {
        out[p++] = l.length;
        out.set(l, p);
        p += l.length;
      }
      out[p] = 0;
      this._wire = out;
    }
    return this._wire;
  }

  /** Uncompressed wire form, lower-cased (RFC 4034 §6.2 canonical). */
  toCanonicalWire(): Uint8Array {
    const w = this.toWire();
    const out = new Uint8Array(w.length);
    for (let i = 0; i < w.length; i++) out[i] = lowerByte(w[i]);
    // Length octets are < 64 so lowering them is a no-op.
    return out;
  }

  equals(other: Name): boolean {
    return this === other || this.key === other.key;
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const a = this.labels;
    const b = other.labels;
    if (b.length > a.length) return false;
    for (let i = a.length - 1, j = b.length - 1; j >= 0; i--, j--) if (compareLabel(a[i], b[j]) !== 0) return false;
    return true;
  }

  /** The name with the leftmost `n` labels removed. */
  parent(n = 1): Name {
    if (n >= this.labels.length) return Name.root;
    return new Name(this.labels.slice(n));
  }

  /** Prepend labels. */
  prepend(...labels: Uint8Array[]): Name {
    return new Name([...labels, ...this.labels]);
  }

  concat(suffix: Name): Name {
    if (suffix.labels.length === 0) return this;
    return new Name([...this.labels, ...suffix.labels]);
  }

  /** Is the leftmost label "*"? */
  isWildcard(): boolean {
    const l = this.labels[0];
    return l !== undefined && l.length === 1 && l[0] === 0x2a;
  }

  /** RFC 4034 §6.1 canonical ordering: compare labels right to left, each as lower-cased octet strings. */
  compareCanonical(other: Name): number {
    const a = this.labels;
    const b = other.labels;
    let i = a.length - 1;
    let j = b.length - 1;
    while (i >= 0 && j >= 0) {
      const c = compareLabel(a[i], b[j]);
      if (c !== 0) return c;
      i--;
      j--;
    }
    return i < 0 ? (j < 0 ? 0 : -1) : 1;
  }
}

function compareLabel(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = lowerByte(x[i]) - lowerByte(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export const textEncoder = new TextEncoder();
