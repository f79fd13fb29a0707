// Signing jobs packed into one buffer, and their results likewise: how a batch of SignJobs crosses to a signing
// thread and back. One ArrayBuffer per batch (transferred, not copied) instead of thousands of small Uint8Arrays,
// which structured cloning handles one by one. The private keys never go into these buffers: a job names its key by
// an index into the key list sent beside the batch. Pure: bytes in, bytes out.

import type { KeyObject } from 'node:crypto';
import { DnssecError } from './algorithms.js';
import { putRrsigPrefix, type SignJob, signBytes, signedDataInto } from './sign.js';

/** Job header: type, class, TTL, labels, algorithm, key tag, inception, expiration, key index. */
const HEAD = 2 + 2 + 4 + 1 + 1 + 2 + 4 + 4 + 1;

function sizeOf(j: SignJob): number {
  let n = HEAD + 1 + j.owner.length + 1 + j.signer.length + 2;
  for (const rd of j.rdatas) n += 2 + rd.length;
  return n;
}

/** Write job `j` (key index `ki`) at `o` in `out` (room checked by the caller); the offset after it. */
function putJob(out: Uint8Array, v: DataView, o: number, j: SignJob, ki: number): number {
  if (!(ki >= 0 && ki < 256)) throw new DnssecError(`key index ${ki} out of range`);
  if (j.rdatas.length > 0xffff) throw new DnssecError('RRset too large for a signing batch');
  v.setUint16(o, j.type);
  v.setUint16(o + 2, j.class);
  v.setUint32(o + 4, j.ttl >>> 0);
  v.setUint8(o + 8, j.labels);
  v.setUint8(o + 9, j.algorithm);
  v.setUint16(o + 10, j.keyTag);
  v.setUint32(o + 12, j.inception >>> 0);
  v.setUint32(o + 16, j.expiration >>> 0);
  v.setUint8(o + 20, ki);
  o += HEAD;
  out[o++] = j.owner.length;
  out.set(j.owner, o);
  o += j.owner.length;
  out[o++] = j.signer.length;
  out.set(j.signer, o);
  o += j.signer.length;
  v.setUint16(o, j.rdatas.length);
  o += 2;
  for (const rd of j.rdatas) {
    v.setUint16(o, rd.length);
    out.set(rd, o + 2);
    o += 2 + rd.length;
  }
  return o;
}

/** Pack jobs; `keyIndex[i]` is the index (0–255) of job i's key in the list sent with the batch. */
export function encodeSignJobs(jobs: readonly SignJob[], keyIndex: readonly number[]): Uint8Array {
  let size = 4;
  for (const j of jobs) size += sizeOf(j);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, jobs.length);
  let o = 4;
  for (let i = 0; i < jobs.length; i++) o = putJob(out, v, o, jobs[i], keyIndex[i]);
  return out;
}

/**
 * A batch packed as jobs are made (what encodeSignJobs makes of the same jobs), so that the jobs themselves need not
 * be kept until the batch is sent: a full sign makes millions.
 */
export class SignBatchWriter {
  private buf = new Uint8Array(32 * 1024);
  private view = new DataView(this.buf.buffer);
  private used = 4;
  count = 0;

  add(j: SignJob, keyIndex: number): void {
    const need = this.used + sizeOf(j);
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.used));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
    }
    this.used = putJob(this.buf, this.view, this.used, j, keyIndex);
    this.count++;
  }

  /** The packed batch (a view of exactly its bytes; its buffer may be transferred). The writer is not used again. */
  finish(): Uint8Array {
    this.view.setUint32(0, this.count);
    return this.buf.subarray(0, this.used);
  }
}

/** Unpack what encodeSignJobs packed: the jobs and each one's key index. */
export function decodeSignJobs(buf: Uint8Array): { jobs: SignJob[]; keyIndex: number[] } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (o: number, n: number) => {
    if (o + n > buf.length) throw new DnssecError('truncated signing batch');
  };
  need(0, 4);
  const count = v.getUint32(0);
  const jobs: SignJob[] = [];
  const keyIndex: number[] = [];
  let o = 4;
  for (let i = 0; i < count; i++) {
    need(o, HEAD + 1);
    const type = v.getUint16(o);
    const klass = v.getUint16(o + 2);
    const ttl = v.getUint32(o + 4);
    const labels = v.getUint8(o + 8);
    const algorithm = v.getUint8(o + 9);
    const keyTag = v.getUint16(o + 10);
    const inception = v.getUint32(o + 12);
    const expiration = v.getUint32(o + 16);
    keyIndex.push(v.getUint8(o + 20));
    o += HEAD;
    const ol = buf[o++];
    need(o, ol + 1);
    const owner = buf.subarray(o, o + ol);
    o += ol;
    const sl = buf[o++];
    need(o, sl + 2);
    const signer = buf.subarray(o, o + sl);
    o += sl;
    const n = v.getUint16(o);
    o += 2;
    const rdatas: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      need(o, 2);
      const l = v.getUint16(o);
      need(o + 2, l);
      rdatas.push(buf.subarray(o + 2, o + 2 + l));
      o += 2 + l;
    }
    jobs.push({ owner, type, class: klass, ttl, rdatas, labels, algorithm, keyTag, signer, inception, expiration });
  }
  if (o !== buf.length) throw new DnssecError('trailing bytes after a signing batch');
  return { jobs, keyIndex };
}

/** A signing thread's buffer for the data it signs (signedDataInto), kept from one batch to the next. */
const scratch = { buf: new Uint8Array(4096) };

/**
 * Sign every job of a packed batch (what a signing thread does) with the keys sent beside it: the RRSIG RDATAs packed
 * as encodeSignResults packs them, and made as signRRsetBytes makes them — written straight into the result buffer.
 */
export function signPackedJobs(buf: Uint8Array, keys: readonly KeyObject[]): Uint8Array {
  const { jobs, keyIndex } = decodeSignJobs(buf);
  let out = new Uint8Array(4 + jobs.length * 100);
  let o = 4;
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    const key = keys[keyIndex[i]];
    if (!key) throw new DnssecError(`signing batch names key ${keyIndex[i]}, ${keys.length} sent`);
    const sig = signBytes(j.algorithm, key, signedDataInto(scratch, j));
    const len = 18 + j.signer.length + sig.length;
    if (o + 2 + len > out.length) {
      const bigger = new Uint8Array(Math.max(o + 2 + len, 2 * out.length));
      bigger.set(out.subarray(0, o));
      out = bigger;
    }
    out[o] = len >> 8;
    out[o + 1] = len;
    out.set(sig, putRrsigPrefix(out, o + 2, j));
    o += 2 + len;
  }
  new DataView(out.buffer).setUint32(0, jobs.length);
  return out.subarray(0, o);
}

/** Pack results (RRSIG RDATAs, in job order). */
export function encodeSignResults(rdatas: readonly Uint8Array[]): Uint8Array {
  let size = 4;
  for (const r of rdatas) size += 2 + r.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, rdatas.length);
  let o = 4;
  for (const r of rdatas) {
    v.setUint16(o, r.length);
    out.set(r, o + 2);
    o += 2 + r.length;
  }
  return out;
}

export function decodeSignResults(buf: Uint8Array): Uint8Array[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4) throw new DnssecError('truncated signing results');
  const count = v.getUint32(0);
  const out: Uint8Array[] = [];
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 2 > buf.length) throw new DnssecError('truncated signing results');
    const l = v.getUint16(o);
    if (o + 2 + l > buf.length) throw new DnssecError('truncated signing results');
    out.push(buf.subarray(o + 2, o + 2 + l));
    o += 2 + l;
  }
  return out;
}
