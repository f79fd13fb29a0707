// Many small byte strings that live and die together, copied into shared buffers: a Uint8Array of its own costs an
// ArrayBuffer and a native backing store besides its bytes (~200 bytes for a four-byte A record), so a zone of a
// million records loaded for good (the signer's copy of a signed zone) paid more for the buffers than for the data.
//
// Use it only for a set loaded at once and kept as a whole: a view keeps its whole chunk alive, so bytes of the set
// that are dropped stay allocated until every other view of their chunk is gone (at most the set's own size).

import type { RR } from './message.js';
import { Name } from './name.js';

/** Size of one chunk (a copy never spans two). */
const CHUNK = 1 << 20;

export class ByteSlab {
  private chunk = new Uint8Array(0);
  private used = 0;

  /**
   * `expected`: the bytes the set will take (an upper bound): chunks are sized to what is left of it, so a small set
   * (a zone of a few records, one of thousands) takes a buffer of its size, not a megabyte.
   */
  constructor(private expected: number) {}

  /** A copy of `b` in the slab. */
  copy(b: Uint8Array): Uint8Array {
    const n = b.length;
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(n, Math.min(CHUNK, this.expected)));
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + n);
    out.set(b);
    this.used += n;
    this.expected -= n;
    return out;
  }

  /** The name `text` (absolute, presentation format) with its wire form in the slab. */
  name(text: string): Name {
    return Name.ofWire(this.copy(Name.parse(text).toWire()));
  }
}

/** Move the RDATA of `rrs` (records just made, kept together) into one buffer of their total size. */
export function packRdata(rrs: readonly RR[]): void {
  let total = 0;
  for (const r of rrs) total += r.rdata.length;
  const buf = new Uint8Array(total);
  let p = 0;
  for (const r of rrs) {
    const n = r.rdata.length;
    buf.set(r.rdata, p);
    r.rdata = buf.subarray(p, p + n);
    p += n;
  }
}
