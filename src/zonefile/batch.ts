// Parsed records packed into byte batches, so that one thread can parse a zone file while another compiles it: the
// parsing side hands records to a `RecordPacker` (a RecordSink for the parser's fast path, `add` for the rest), which
// fills buffers meant to be transferred; the compiling side replays each buffer into its target (the ZoneBuilder) with
// `unpackRecords`. Owners travel as their zone keys (lower-cased wire form, plus the original case when it differs),
// once per run of records of one owner, so the compiling side makes no Name and no string per record.

import type { RR } from '../dns/message.js';
import { isMetaType, RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { readU32, writeU32 } from '../dns/wire.js';
import type { RecordSink } from './types.js';

/** What records are replayed into (ZoneBuilder has all three). */
export interface RecordTarget extends RecordSink {
  add(rr: RR): void;
  /** A name's records as NodeEncoding's encoder encoded them: bytes [start, end) of `data`, `bits` its flags. */
  addPacked(key: string, wire: string | undefined, bits: number, data: Uint8Array, start: number, end: number): void;
}

/** Encodes the records of one name as the compiling side files them (zone/zone.ts RunEncoder). */
export interface RunEncoder {
  /** A new run, whose encoding is to go at `at` of `out` (where encodeInto will be asked to put it). */
  begin(out: Uint8Array, at: number): void;
  /** False when the run is too long to be encoded (it then goes as records). */
  add(type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): boolean;
  /** Bytes the encoding needs at most. */
  bound(): number;
  /** Encodes the run at `at` of `out` and empties it: the end; or -1 when it goes as records (it is kept then). */
  encodeInto(out: Uint8Array, at: number): number;
  /** The run's records, in the order added. */
  replay(f: (type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number) => void): void;
  /** The flags of the run encoded last. */
  readonly bits: number;
  reset(): void;
}

/**
 * What lets RecordPacker hand over each run of records of one owner encoded, so that the compiling side files a node
 * instead of replaying its records one by one (the encoding is the compiling side's own, done on the parsing side).
 */
export interface NodeEncoding {
  /** The zone's apex key: its SOA gives the zone's class (nothing is encoded before it); its own records go as records. */
  apexKey: string;
  /** True for keys at or below the apex: only those are encoded. */
  inZone(key: string): boolean;
  /** An encoder for the zone's class, once its SOA is seen. */
  encoder(zoneClass: number): RunEncoder;
}

// Record kinds, the first byte of each packed record.
const SAME_OWNER = 0;
const NEW_OWNER = 1; // key follows
const NEW_OWNER_CASED = 2; // key, then the original-case wire form of the same length
const WHOLE = 3; // a record the target must see whole (add): its name's wire form follows
// A name's records encoded (NodeEncoding): the key (and the original case, as NEW_OWNER_CASED), then the node's HAS_*
// flags (u8) and the encoding's offset and length in the batch's data (u32 each). Written over the owner's header,
// in the room kept for the run's records as records (always more than these nine octets).
const NODE = 4;
const NODE_CASED = 5;

/** Size of the first batch (the next ones double). */
const FIRST_BATCH = 32 << 10;

/** The data buffer's size, in batch sizes. */
const DATA_PER_BATCH = 4;

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
  /** With NodeEncoding, once the zone's SOA is seen: the run of the current owner is encoded too. */
  private encoder: RunEncoder | undefined;
  /**
   * Where the header of the owner whose run is being encoded is in `buf` (-1: none). Its records are then held by the
   * encoder, not written: `buf` keeps `runRaw` octets free after the header to write them when the run goes as records.
   */
  private runAt = -1;
  private runRaw = 0;
  /** The encodings of the runs of the current buffer. */
  private data: Uint8Array = new Uint8Array(0);
  private dataUsed = 0;

  /**
   * `flush` receives each full buffer (its own: it may be transferred) with the node encodings it refers to (their
   * own buffer too, when there are any); `size` is a batch's usual size; `recycled` gives back a buffer of that size
   * the other side is done with, when there is one (fewer allocations: the memory a load leaves behind is a few
   * batches, not the file); `nodes`: runs of one owner handed over encoded (see NodeEncoding).
   */
  constructor(
    private readonly flush: (batch: Uint8Array, data: Uint8Array | undefined) => void,
    private readonly size = 1 << 20,
    private readonly recycled: () => Uint8Array | undefined = () => undefined,
    private readonly nodes?: NodeEncoding,
  ) {
    // The first batches are small, so that the other side starts early; they double up to `size`.
    this.buf = new Uint8Array(Math.min(size, FIRST_BATCH));
  }

  addRaw(key: string, wire: string | undefined, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    this.lastName = undefined;
    if (key === this.lastKey && this.same(type, klass, ttl, data, start, len)) return;
    this.newOwner(key, wire, len);
    this.first(type, klass, ttl, data, start, len);
  }

  /** A record the parser made whole (not through the fast path). */
  add(rr: RR): void {
    const wire = rr.name.toWire();
    const n = wire.length;
    const len = rr.rdata.length;
    if (needsWhole(rr)) {
      this.endRun();
      this.room(2 + n + FIXED + len);
      if (rr.type === RRType.SOA && this.nodes !== undefined && this.encoder === undefined && this.isApex(wire)) this.encoder = this.nodes.encoder(rr.class);
      const b = this.buf;
      b[this.used++] = WHOLE;
      b[this.used++] = n;
      b.set(wire, this.used);
      this.used += n;
      this.lastKey = undefined;
      this.lastName = undefined;
      this.fixed(rr.type, rr.class, rr.ttl, rr.rdata, 0, len);
      return;
    }
    // The parser hands one Name to consecutive records of an owner.
    if (rr.name === this.lastName && this.lastKey !== undefined && this.same(rr.type, rr.class, rr.ttl, rr.rdata, 0, len)) return;
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
    // The key as a string to compare with the next owner (and to find whether it is the zone's).
    const key = String.fromCharCode.apply(null, lower.subarray(0, n) as unknown as number[]);
    this.newOwner(key, cased ? String.fromCharCode.apply(null, wire as unknown as number[]) : undefined, len);
    this.lastName = rr.name;
    this.first(rr.type, rr.class, rr.ttl, rr.rdata, 0, len);
  }

  /** Hand over what is packed (if anything). */
  end(): void {
    this.endRun();
    if (this.used === 0) return;
    const out = this.buf.subarray(0, this.used);
    const next = Math.min(this.size, Math.max(out.buffer.byteLength * 2, FIRST_BATCH));
    const again = this.recycled();
    this.buf = again !== undefined && again.length === next ? again : new Uint8Array(next);
    this.used = 0;
    this.lastKey = undefined;
    this.lastName = undefined;
    // The encodings as a buffer of their own length (they are kept by the compiling side); this one is reused.
    const data = this.dataUsed > 0 ? this.data.slice(0, this.dataUsed) : undefined;
    this.dataUsed = 0;
    this.flush(out, data);
  }

  /**
   * The header of a new owner (kind, key, original case), in a buffer with room for it and its first record; the run
   * before it ends, and its own starts when it is to be encoded.
   */
  private newOwner(key: string, wire: string | undefined, len: number): void {
    this.endRun();
    const n = key.length;
    this.room(2 + 2 * n + FIXED + len);
    const nodes = this.nodes;
    this.runAt = this.encoder !== undefined && key !== nodes!.apexKey && nodes!.inZone(key) ? this.used : -1;
    if (this.runAt >= 0) {
      // Room for the encodings of a batch's runs (about three times its records' size when they are short).
      if (this.data.length === 0) this.data = new Uint8Array(DATA_PER_BATCH * this.size);
      this.encoder!.begin(this.data, this.dataUsed);
    }
    const b = this.buf;
    let p = this.used;
    b[p++] = wire === undefined ? NEW_OWNER : NEW_OWNER_CASED;
    b[p++] = n;
    for (let i = 0; i < n; i++) b[p++] = key.charCodeAt(i);
    if (wire !== undefined) for (let i = 0; i < n; i++) b[p++] = wire.charCodeAt(i);
    this.used = p;
    this.lastKey = key;
  }

  /** The first record of the owner newOwner() wrote (room was made for it). */
  private first(type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void {
    if (this.runAt >= 0 && this.encoder!.add(type, klass, ttl, data, start, len)) {
      this.runRaw = FIXED + len;
      return;
    }
    this.runAt = -1;
    this.fixed(type, klass, ttl, data, start, len);
  }

  /** Another record of the current owner: false when the buffer has no room for it (a new one restates the owner). */
  private same(type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): boolean {
    const raw = 1 + FIXED + len;
    if (this.runAt >= 0) {
      if (this.fits(this.runRaw + raw) && this.encoder!.add(type, klass, ttl, data, start, len)) {
        this.runRaw += raw;
        return true;
      }
      // Too long to encode, or no room left for it as records: the run goes as records from here.
      this.spill();
    }
    if (!this.fits(raw)) return false;
    this.buf[this.used++] = SAME_OWNER;
    this.fixed(type, klass, ttl, data, start, len);
    return true;
  }

  /** The current run goes as records after all: the ones its encoder holds are written after the owner. */
  private spill(): void {
    this.runAt = -1;
    const enc = this.encoder!;
    let first = true;
    enc.replay((type, klass, ttl, data, start, len) => {
      if (!first) this.buf[this.used++] = SAME_OWNER;
      first = false;
      this.fixed(type, klass, ttl, data, start, len);
    });
    enc.reset();
  }

  /**
   * The current run ends: encoded into the data buffer when it can be and there is room, its owner's header in `buf`
   * then becomes a NODE entry (the flags and the encoding's place follow the owner); otherwise it goes as records.
   */
  private endRun(): void {
    const at = this.runAt;
    if (at < 0) return;
    const enc = this.encoder!;
    const need = enc.bound();
    const start = this.dataUsed;
    const end = start + need <= this.data.length ? enc.encodeInto(this.data, start) : -1;
    if (end < 0) {
      this.spill();
      return;
    }
    this.runAt = -1;
    this.dataUsed = end;
    const b = this.buf;
    const cased = b[at] === NEW_OWNER_CASED;
    b[at] = cased ? NODE_CASED : NODE;
    const p = at + 2 + (cased ? 2 : 1) * b[at + 1];
    b[p] = enc.bits;
    writeU32(b, p + 1, start);
    writeU32(b, p + 5, end - start);
    this.used = p + 9;
  }

  /** True when `wire` (an owner's wire form) is the zone's apex. */
  private isApex(wire: Uint8Array): boolean {
    const apex = this.nodes!.apexKey;
    if (wire.length !== apex.length) return false;
    for (let i = 0; i < wire.length; i++) {
      const c = wire[i];
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== apex.charCodeAt(i)) return false;
    }
    return true;
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

/**
 * Replay a batch made by RecordPacker into `target`, in the order the records were packed; `data`: the node
 * encodings flushed with it.
 */
export function unpackRecords(batch: Uint8Array, target: RecordTarget, data?: Uint8Array): void {
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
        wire = kind === NEW_OWNER_CASED || kind === NODE_CASED ? buf.latin1Slice(p + n, p + 2 * n) : undefined;
      }
      p += kind === NEW_OWNER_CASED || kind === NODE_CASED ? 2 * n : n;
      if (kind >= NODE) {
        if (data === undefined) throw new Error('a batch with encoded names came without their data');
        const start = readU32(b, p + 1);
        target.addPacked(key, wire, b[p], data, start, start + readU32(b, p + 5));
        p += 9;
        continue;
      }
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
