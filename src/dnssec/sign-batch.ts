// Signing jobs packed into one buffer, and their results likewise: how a batch of SignJobs crosses to a signing
// thread and back. One ArrayBuffer per batch (transferred, not copied) instead of thousands of small Uint8Arrays,
// which structured cloning handles one by one. The private keys never go into these buffers: a job names its key by
// an index into the key list sent beside the batch. Pure: bytes in, bytes out.

import { DnssecError } from './algorithms.js';
import type { SignJob } from './sign.js';

/** Job header: type, class, TTL, labels, algorithm, key tag, inception, expiration, key index. */
const HEAD = 2 + 2 + 4 + 1 + 1 + 2 + 4 + 4 + 1;

function sizeOf(j: SignJob): number {
  let n = HEAD + 1 + j.owner.length + 1 + j.signer.length + 2;
  for (const rd of j.rdatas) n += 2 + rd.length;
  return n;
}

/** Pack jobs; `keyIndex[i]` is the index (0–255) of job i's key in the list sent with the batch. */
export function encodeSignJobs(jobs: readonly SignJob[], keyIndex: readonly number[]): Uint8Array {
  let size = 4;
  for (const j of jobs) size += sizeOf(j);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, jobs.length);
  let o = 4;
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    const ki = keyIndex[i];
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
  }
  return out;
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
