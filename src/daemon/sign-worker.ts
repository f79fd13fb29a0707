// A signing thread of the pool (sign-pool.ts): receives batches of signing jobs packed by src/dnssec/sign-batch.ts
// with the private keys they name (KeyObjects, cloned into this thread's memory by postMessage: never written or
// logged), signs each (sign-batch.ts signPackedJobs: what the pure core's signRRsetBytes makes) and sends the RRSIG
// RDATAs back in one transferred buffer. Keeps nothing between batches but the buffer it signs from.

import type { KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { signPackedJobs } from '../dnssec/sign-batch.js';

export interface SignBatchMessage {
  id: number;
  keys: KeyObject[];
  buf: Uint8Array;
}

export type SignBatchReply = { id: number; buf: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (m: SignBatchMessage) => {
  let reply: SignBatchReply;
  try {
    reply = { id: m.id, buf: signPackedJobs(m.buf, m.keys) };
  } catch (e) {
    // The message only: an error object could carry key material in its properties.
    reply = { id: m.id, error: (e as Error).message };
  }
  if ('buf' in reply) parentPort?.postMessage(reply, [reply.buf.buffer as ArrayBuffer]);
  else parentPort?.postMessage(reply);
});
