// Parsed records packed into byte batches, so that one thread can parse a zone file while another compiles it: the
// parsing side hands records to a `RecordPacker` (a RecordSink for the parser's fast path, `add` for the rest), which
// fills buffers meant to be transferred; the compiling side replays each buffer into its target (the ZoneBuilder) with
// `unpackRecords`. Owners travel as their zone keys (lower-cased wire form, plus the original case when it differs),
// once per run of records of one owner, so the compiling side makes no Name and no string per record.

import type { RR } from '../dns/message.js';
import { isMetaType, RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import type { RecordSink } from './types.js';

/** What records are replayed into (ZoneBuilder has both). */
export interface RecordTarget extends RecordSink {
  add(rr: RR): void;
}

// Record kinds, the first byte of each packed record.
const SAME_OWNER = 0;
const NEW_OWNER = 1; // key follows
const NEW_OWNER_CASED = 2; // key, then the original-case wire form of the same length
const WHOLE = 3; // a record the target must see whole (add): its name's wire form follows

/** Size of the first batch (the next ones double). */
const FIRST_BATCH = 32 << 10;

/** Fixed part of a packed record after the owner: type u16, class u16, TTL u32, RDATA length u16. */
const FIXED = 10;

/**
 * True for the records `ZoneBuilder.add` treats apart (the SOA, NSEC3 records and the RRSIGs over them, meta types):
 * they are replayed as records with a Name; any other record — a presigned zone's other RRSIGs too — is the same to
 * the builder given by key (`addRaw`).
 */
function needsWhole(rr: RR): boolean {
  const type = rr.type;
  if (type === RRType.RRSIG) return rr.rdata.length < 2 || ((rr.rdata[0] << 8) | rr.rdata[1]) === RRType.NSEC3;
  return type === RRType.SOA || type === RRType.NSEC3 || type === 0 || isMetaType(type);
}

export class RecordPacker implements RecordSink {
  private buf: Uint8Array;
  private used = 0;
  /** The owner of the last record packed into the current buffer (a new buffer starts without one). */
  private lastKey: string | undefined;
  private lastName: Name | undefined;
  private readonly keyBytes = new Uint8Array(255);

  /**
   * `flush` receives each full buffer (its own: it may be transferred); `size` is a batch's usual size; `recycled`
   * gives back a buffer of that size the other side is done with, when there is one (fewer allocations: the memory a
   * load leaves behind is a few batches, not the file).
   */
  constructor(
    private readonly flush: (batch: Uint8Array) => void,
    private readonly size = 1 << 20,
    private readonly recycled: () => Uint8Array | undefined = () => undefined,
  ) {
    // The first batches are small, so that the other side starts early; they double up to `size`.
    this.buf = new Uint8Array(Math.min(size, FIRST_BATCH));
  }

  addRaw(key: string, wire: string | undefined, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    this.lastName = undefined;
    if (key === this.lastKey && this.fits(1 + FIXED + len)) this.buf[this.used++] = SAME_OWNER;
    else {
      const n = key.length;
      this.room(2 + 2 * n + FIXED + len);
      const b = this.buf;
      let p = this.used;
      b[p++] = wire === undefined ? NEW_OWNER : NEW_OWNER_CASED;
      b[p++] = n;
      for (let i = 0; i < n; i++) b[p++] = key.charCodeAt(i);
      if (wire !== undefined) for (let i = 0; i < n; i++) b[p++] = wire.charCodeAt(i);
      this.used = p;
      this.lastKey = key;
    }
    this.fixed(type, klass, ttl, data, start, len);
  }

  /** A record the parser made whole (not through the fast path). */
  add(rr: RR): void {
    const wire = rr.name.toWire();
    const n = wire.length;
    const len = rr.rdata.length;
    if (needsWhole(rr)) {
      this.room(2 + n + FIXED + len);
      const b = this.buf;
      b[this.used++] = WHOLE;
      b[this.used++] = n;
      b.set(wire, this.used);
      this.used += n;
      this.lastKey = undefined;
      this.lastName = undefined;
    } else if (rr.name === this.lastName && this.lastKey !== undefined && this.fits(1 + FIXED + len)) {
      // The parser hands one Name to consecutive records of an owner.
      this.buf[this.used++] = SAME_OWNER;
    } else {
      this.room(2 + 2 * n + FIXED + len);
      const lower = this.keyBytes;
      let cased = false;
      // Length octets are < 64: lowering every octet of the wire form leaves them as they are.
      for (let i = 0; i < n; i++) {
        const c = wire[i];
        if (c >= 0x41 && c <= 0x5a) {
          cased = true;
          lower[i] = c | 0x20;
        } else lower[i] = c;
      }
      const b = this.buf;
      b[this.used++] = cased ? NEW_OWNER_CASED : NEW_OWNER;
      b[this.used++] = n;
      b.set(lower.subarray(0, n), this.used);
      this.used += n;
      if (cased) {
        b.set(wire, this.used);
        this.used += n;
      }
      // The key as a string only to compare with the fast path's next owner.
      this.lastKey = String.fromCharCode.apply(null, lower.subarray(0, n) as unknown as number[]);
      this.lastName = rr.name;
    }
    this.fixed(rr.type, rr.class, rr.ttl, rr.rdata, 0, len);
  }

  /** Hand over what is packed (if anything). */
  end(): void {
    if (this.used === 0) return;
    const out = this.buf.subarray(0, this.used);
    const next = Math.min(this.size, Math.max(out.buffer.byteLength * 2, FIRST_BATCH));
    const again = this.recycled();
    this.buf = again !== undefined && again.length === next ? again : new Uint8Array(next);
    this.used = 0;
    this.lastKey = undefined;
    this.lastName = undefined;
    this.flush(out);
  }

  private fixed(type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    const b = this.buf;
    let p = this.used;
    b[p++] = type >>> 8;
    b[p++] = type;
    b[p++] = klass >>> 8;
    b[p++] = klass;
    b[p++] = ttl >>> 24;
    b[p++] = ttl >>> 16;
    b[p++] = ttl >>> 8;
    b[p++] = ttl;
    b[p++] = len >>> 8;
    b[p++] = len;
    if (len <= 32) for (let k = 0; k < len; k++) b[p++] = data[start + k];
    else {
      b.set(data.subarray(start, start + len), p);
      p += len;
    }
    this.used = p;
  }

  private fits(need: number): boolean {
    return this.used + need <= this.buf.length;
  }

  /**
   * Make room for `need` bytes by handing over the full buffer; the next buffer starts with no owner (a batch is
   * replayed on its own), so callers ask before writing an owner, never before SAME_OWNER. A record larger than a
   * batch gets a buffer of its size.
   */
  private room(need: number): void {
    if (this.fits(need)) return;
    this.end();
    if (need > this.buf.length) this.buf = new Uint8Array(need);
  }
}

/** Replay a batch made by RecordPacker into `target`, in the order the records were packed. */
export function unpackRecords(batch: Uint8Array, target: RecordTarget): void {
  const b = batch;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength) as unknown as { latin1Slice(s: number, e: number): string };
  let key = '';
  let wire: string | undefined;
  let p = 0;
  while (p < b.length) {
    const kind = b[p++];
    let name: Name | undefined;
    if (kind !== SAME_OWNER) {
      const n = b[p++];
      if (kind === WHOLE) name = Name.ofWire(b.slice(p, p + n));
      else {
        key = buf.latin1Slice(p, p + n);
        wire = kind === NEW_OWNER_CASED ? buf.latin1Slice(p + n, p + 2 * n) : undefined;
      }
      p += kind === NEW_OWNER_CASED ? 2 * n : n;
    }
    const type = (b[p] << 8) | b[p + 1];
    const klass = (b[p + 2] << 8) | b[p + 3];
    const ttl = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    const len = (b[p + 8] << 8) | b[p + 9];
    p += FIXED;
    if (name !== undefined) target.add({ name, type, class: klass, ttl, rdata: b.slice(p, p + len) });
    else target.addRaw(key, wire, type, klass, ttl, b, p, len);
    p += len;
  }
}
