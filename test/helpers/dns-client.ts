// A small DNS client for tests: builds a query with src/dns/message.ts, sends it over UDP or TCP to 127.0.0.1 and
// returns the raw answer bytes plus the decoded message (or the decode error, which a test may want to report).

import dgram from 'node:dgram';
import net from 'node:net';
import { RRClass } from '../../src/dns/constants.js';
import { type Message, decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import type { Name } from '../../src/dns/name.js';

export interface QuerySpec {
  name: Name;
  type: number;
  class?: number;
  /** Undefined: no OPT record. Otherwise the advertised UDP payload size. */
  ednsSize?: number;
  dnssecOk?: boolean;
  tcp?: boolean;
  rd?: boolean;
  id?: number;
}

export interface Answer {
  bytes: Uint8Array;
  msg?: Message;
  decodeError?: string;
}

export function buildQuery(q: QuerySpec): Uint8Array {
  const m = emptyMessage(q.id ?? Math.floor(Math.random() * 65536));
  m.rd = q.rd ?? false;
  m.question.push({ name: q.name, type: q.type, class: q.class ?? RRClass.IN });
  if (q.ednsSize !== undefined || q.dnssecOk) {
    m.edns = { udpSize: q.ednsSize ?? 1232, extRcode: 0, version: 0, do: q.dnssecOk ?? false, flags: 0, options: [] };
  }
  return encodeMessage(m);
}

export function parseAnswer(bytes: Uint8Array): Answer {
  try {
    return { bytes, msg: decodeMessage(bytes) };
  } catch (e) {
    return { bytes, decodeError: (e as Error).message };
  }
}

/** Send raw bytes over UDP; resolves with the first datagram whose id matches (or any, with `anyId`). */
export function udpExchange(port: number, payload: Uint8Array, timeoutMs = 2000, host = '127.0.0.1'): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const id = payload.length >= 2 ? (payload[0] << 8) | payload[1] : -1;
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`UDP timeout after ${timeoutMs} ms (port ${port})`));
    }, timeoutMs);
    sock.on('message', (buf) => {
      if (buf.length >= 2 && ((buf[0] << 8) | buf[1]) !== id) return;
      clearTimeout(timer);
      sock.close();
      resolve(new Uint8Array(buf));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(payload, port, host);
  });
}

/** Send one length-prefixed message over a fresh TCP connection and read one length-prefixed answer. */
export function tcpExchange(port: number, payload: Uint8Array, timeoutMs = 3000, host = '127.0.0.1'): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    let chunks = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`TCP timeout after ${timeoutMs} ms (port ${port})`));
    }, timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(payload.length);
      sock.write(Buffer.concat([len, payload]));
    });
    sock.on('data', (d) => {
      chunks = Buffer.concat([chunks, d]);
      if (chunks.length >= 2) {
        const n = chunks.readUInt16BE(0);
        if (chunks.length >= 2 + n) {
          clearTimeout(timer);
          sock.destroy();
          resolve(new Uint8Array(chunks.subarray(2, 2 + n)));
        }
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`TCP connection closed before a full answer (port ${port})`));
    });
  });
}

export async function query(port: number, q: QuerySpec, timeoutMs?: number): Promise<Answer> {
  const payload = buildQuery(q);
  const bytes = q.tcp ? await tcpExchange(port, payload, timeoutMs) : await udpExchange(port, payload, timeoutMs);
  return parseAnswer(bytes);
}

/**
 * Send several length-prefixed queries on one TCP connection in a single write (pipelining, RFC 7766 §6.2.1) and
 * collect one answer per query; answers may come back in any order (RFC 7766 §7), so they are returned by id.
 */
export function tcpPipeline(port: number, payloads: Uint8Array[], timeoutMs = 5000, host = '127.0.0.1'): Promise<Map<number, Uint8Array>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    const answers = new Map<number, Uint8Array>();
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`TCP pipeline: ${answers.size} of ${payloads.length} answers after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => {
      const parts: Buffer[] = [];
      for (const p of payloads) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(p.length);
        parts.push(len, Buffer.from(p));
      }
      sock.write(Buffer.concat(parts));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const n = buf.readUInt16BE(0);
        const msg = new Uint8Array(buf.subarray(2, 2 + n));
        buf = buf.subarray(2 + n);
        if (msg.length >= 2) answers.set((msg[0] << 8) | msg[1], msg);
      }
      if (answers.size >= payloads.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(answers);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
