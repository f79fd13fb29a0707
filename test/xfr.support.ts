// Test support (not a test): a tiny UDP+TCP DNS responder on 127.0.0.1 that hands each request to a handler, and a
// runner for the real command-line tools (dig, kdig, nsupdate, knsupdate). Used by the tsig/xfr/update/notify tests.

import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

export interface Transport {
  tcp: boolean;
  remoteAddress: string;
}

/** Returns the response messages (several only for TCP transfers); an empty list sends nothing. */
export type Handler = (request: Uint8Array, t: Transport) => Promise<Uint8Array[]> | Uint8Array[];

export interface Responder {
  port: number;
  close(): Promise<void>;
}

export async function startResponder(handler: Handler): Promise<Responder> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind(0, '127.0.0.1', () => res());
    });
    const port = udp.address().port;
    const tcp = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', async (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (buf.length < 2 + len) break;
          const req = new Uint8Array(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          try {
            const out = await handler(req, { tcp: true, remoteAddress: sock.remoteAddress ?? '' });
            for (const m of out) {
              const lenb = Buffer.alloc(2);
              lenb.writeUInt16BE(m.length);
              sock.write(Buffer.concat([lenb, m]));
            }
          } catch (e) {
            console.error('test responder handler failed', e);
            sock.destroy();
          }
        }
      });
      sock.on('error', () => {});
    });
    const ok = await new Promise<boolean>((res) => {
      tcp.once('error', () => res(false));
      tcp.listen(port, '127.0.0.1', () => res(true));
    });
    if (!ok) {
      udp.close();
      continue;
    }
    udp.on('message', async (m, rinfo) => {
      try {
        const out = await handler(new Uint8Array(m), { tcp: false, remoteAddress: rinfo.address });
        for (const r of out) udp.send(r, rinfo.port, rinfo.address);
      } catch (e) {
        console.error('test responder handler failed', e);
      }
    });
    return { port, close: () => closeBoth(udp, tcp) };
  }
  throw new Error('could not bind a UDP+TCP port pair');
}

async function closeBoth(udp: Socket, tcp: Server): Promise<void> {
  udp.close();
  await new Promise<void>((res) => tcp.close(() => res()));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program with a time limit; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], input?: string, timeoutMs = 20000): Promise<RunResult> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', rej);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** Unused TCP+UDP port on 127.0.0.1 (for peers we start: named, knotd). */
export async function freePort(): Promise<number> {
  const r = await startResponder(() => []);
  const p = r.port;
  await r.close();
  return p;
}

// ---- records and a primary over an in-memory zone -----------------------------------------------------------------

import { typeFromString } from '../src/dns/constants.js';
import type { RR } from '../src/dns/message.js';
import { Name } from '../src/dns/name.js';
import { rdataFromText } from '../src/dns/rdata.js';

/** "name ttl [class] type rdata..." relative to `origin` (class ANY/NONE with no RDATA allowed). */
export function rrText(text: string, origin: Name): RR {
  const w = text.trim().split(/\s+/);
  const name = Name.parse(w[0], origin);
  const ttl = Number(w[1]);
  let i = 2;
  let klass = 1;
  if (['IN', 'ANY', 'NONE'].includes(w[i])) klass = ({ IN: 1, ANY: 255, NONE: 254 } as Record<string, number>)[w[i++]];
  const type = typeFromString(w[i++]);
  if (type === undefined) throw new Error(`bad type in "${text}"`);
  const rest = w.slice(i);
  const rdata = rest.length === 0 ? new Uint8Array(0) : rdataFromText(type, rest.map((t) => ({ text: t, quoted: false })), origin);
  return { name, type, class: klass, ttl, rdata };
}
