// A signing thread of the pool (sign-pool.ts): receives batches of signing jobs packed by src/dnssec/sign-batch.ts
// with the private keys they name (KeyObjects, cloned into this thread's memory by postMessage: never written or
// logged), signs each with the pure core's signRRsetBytes and sends the RRSIG RDATAs back in one transferred buffer.
// Holds no state between batches.

import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { decodeSignJobs, encodeSignResults } from '../dnssec/sign-batch.js';
import { signRRsetBytes } from '../dnssec/sign.js';

export interface SignBatchMessage {
  id: number;
  keys: KeyObject[];
  buf: Uint8Array;
}

export type SignBatchReply = { id: number; buf: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (m: SignBatchMessage) => {
  let reply: SignBatchReply;
  try {
    const { jobs, keyIndex } = decodeSignJobs(m.buf);
    const out = jobs.map((j, i) => {
      const key = m.keys[keyIndex[i]];
      if (!key) throw new Error(`signing batch names key ${keyIndex[i]}, ${m.keys.length} sent`);
      return signRRsetBytes(j, key);
    });
    reply = { id: m.id, buf: encodeSignResults(out) };
  } catch (e) {
    // The message only: an error object could carry key material in its properties.
    reply = { id: m.id, error: (e as Error).message };
  }
  if ('buf' in reply) parentPort?.postMessage(reply, [reply.buf.buffer as ArrayBuffer]);
  else parentPort?.postMessage(reply);
});
