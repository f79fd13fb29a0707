// Low-level wire reading and writing: bounds-checked reader with safe name decompression, and a growable writer with
// optional name compression. Pure; every malformed input raises DecodeError.

import { DecodeError } from './errors.js';
import { Name } from './name.js';

/** The big-endian u32 at `p` of `b` (RFC 1035 §2.3.2 network order). */
export function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** Writes `v` as a big-endian u32 at `p` of `b`. */
export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

export class WireReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new DecodeError('truncated', `need ${n} more octets`, this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const v = b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * Read a possibly compressed name. Pointers must point strictly backwards (before the start of the label sequence
   * that contains them), which rules out loops; the total length is capped at 255 octets. Pointer targets may lie
   * anywhere earlier in the whole message buffer, but never at or beyond `this.end` of the message.
   */
  name(): Name {
    const buf = this.buf;
    let p = this.pos;
    let jumped = false;
    let limit = p; // a pointer must point before this
    let total = 1;
    const labels: Uint8Array[] = [];
    for (;;) {
      if (p >= buf.length || (!jumped && p >= this.end)) throw new DecodeError('truncated', 'name runs past end', p);
      const len = buf[p];
      if (len === 0) {
        p += 1;
        break;
      }
      const top = len & 0xc0;
      if (top === 0xc0) {
        if (p + 1 >= buf.length || (!jumped && p + 1 >= this.end))
          throw new DecodeError('truncated', 'compression pointer runs past end', p);
        const target = ((len & 0x3f) << 8) | buf[p + 1];
        if (target >= limit) throw new DecodeError('pointer', 'compression pointer does not point backwards', p);
        if (!jumped) {
          this.pos = p + 2;
          jumped = true;
        }
        limit = target;
        p = target;
        continue;
      }
      if (top !== 0) throw new DecodeError('label', `unsupported label type 0x${top.toString(16)}`, p);
      total += len + 1;
      if (total > 255) throw new DecodeError('name-too-long', 'name longer than 255 octets', p);
      if (p + 1 + len > buf.length || (!jumped && p + 1 + len > this.end))
        throw new DecodeError('truncated', 'label runs past end', p);
      labels.push(buf.subarray(p + 1, p + 1 + len));
      p += 1 + len;
    }
    if (!jumped) this.pos = p;
    // The name's own copy of the labels (one buffer), not views of the message.
    return new Name(labels);
  }
}

/** Growable byte writer with optional RFC 1035 §4.1.4 name compression. */
export class WireWriter {
  buf: Uint8Array;
  pos = 0;
  /** Suffix key → offset, for compression. Only offsets < 0x4000 are usable. */
  private names: Map<string, number> | undefined;

  constructor(initial = 512, compress = true) {
    this.buf = new Uint8Array(initial);
    if (compress) this.names = new Map();
  }

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  u8(v: number): void {
    this.grow(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.grow(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.grow(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Overwrite a 16-bit value at an earlier offset (used for RDLENGTH and counts). */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /** Write a name; compressed against earlier names when `compress` and this writer compresses. */
  name(n: Name, compress = true): void {
    const map = compress ? this.names : undefined;
    const wire = n.toWire();
    if (!map) {
      this.bytes(wire);
      return;
    }
    // Label i's suffix key is a tail of the name's key (Name.keyStarts), so no name is made per suffix.
    const key = n.key;
    const starts = n.keyStarts();
    let p = 0;
    for (let i = 0; i < starts.length; i++) {
      const suffixKey = i === 0 ? key : key.slice(starts[i]);
      const at = map.get(suffixKey);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.pos < 0x4000) map.set(suffixKey, this.pos);
      const len = wire[p];
      this.bytes(wire.subarray(p, p + 1 + len));
      p += 1 + len;
    }
    this.u8(0);
  }

  /** Remember names already written elsewhere (e.g. pre-encoded bytes) for compression. */
  rememberName(n: Name, at: number): void {
    if (this.names && at < 0x4000) this.names.set(n.key, at);
  }

  /** Roll back to an earlier length (used when a record does not fit). Compression entries past it are dropped. */
  truncate(to: number): void {
    this.pos = to;
    if (this.names) for (const [k, v] of this.names) if (v >= to) this.names.delete(k);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

