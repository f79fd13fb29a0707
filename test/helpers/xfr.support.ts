// Test support (not a test): a tiny UDP+TCP DNS responder on 127.0.0.1 that hands each request to a handler, and a
// runner for the real command-line tools (dig, kdig, nsupdate, knsupdate). Used by the tsig/xfr/update/notify tests.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { typeFromString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText } from '../../src/dns/rdata.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import type { TransferRule } from '../../src/server/acl.js';
import { attachPrimary, zoneTableSource } from '../../src/server/primary.js';
import { QueryHandler } from '../../src/server/query.js';
import type { UpdateSink } from '../../src/server/update.js';
import type { XfrEvent } from '../../src/server/xfr.js';
import type { ZoneDiff } from '../../src/zone/ixfr.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';

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

// ---- a test primary: three versions of example.org served through QueryHandler + attachPrimary -------------------

const origin = Name.from('example.org');
const r = (t: string) => rrText(t, origin);
export const soa = (serial: number) => r(`@ 3600 SOA ns1 hostmaster ${serial} 3600 900 604800 300`);

/** Three versions; v1 has enough TXT data that an AXFR needs several 64 KiB messages. */
export function versions(bigTxt: number): RR[][] {
  const base = ['@ 3600 NS ns1', '@ 3600 NS ns2', 'ns1 3600 A 192.0.2.1', 'ns2 3600 A 192.0.2.2', 'www 300 A 192.0.2.10'].map(r);
  const filler = Array.from({ length: bigTxt }, (_, i) => r(`t${i} 300 TXT ${'x'.repeat(200)}${i}`));
  const v1 = [soa(1), ...base, r('old 300 A 192.0.2.50'), ...filler];
  const v2 = [soa(2), ...base.filter((x) => x.name.key !== 'www.example.org.'), r('www 300 A 192.0.2.20'), r('new 300 A 192.0.2.60'), ...filler];
  const v3 = [soa(3), ...v2.slice(1).filter((x) => x.name.key !== 'new.example.org.'), r('third 300 AAAA 2001:db8::3'.replace('2001:db8::3', '2001:db8::3'))].filter(Boolean);
  return [v1, v2, v3];
}

export function diff(a: RR[], b: RR[], from: number, to: number): ZoneDiff {
  const key = (x: RR) => `${x.name.key}/${x.type}/${x.ttl}/${Buffer.from(x.rdata).toString('hex')}`;
  const ka = new Set(a.map(key));
  const kb = new Set(b.map(key));
  return { fromSerial: from, toSerial: to, removed: a.filter((x) => !kb.has(key(x))), added: b.filter((x) => !ka.has(key(x))) };
}

/** Record lines of dig output, without comments and TSIG pseudo-records. */
export const digRecords = (out: string) => out.split('\n').filter((l) => l && !l.startsWith(';') && l.split(/\s+/)[3] !== 'TSIG');

export interface TestPrimary {
  port: number;
  key: TsigKey;
  setVersion(n: 1 | 2 | 3): void;
  /** Transfers served, as logged by the xfr handler. */
  events: XfrEvent[];
  close(): Promise<void>;
}

export const ALLOWED_KEY: TsigKey = { name: Name.from('xfr-key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };
export const OTHER_KEY: TsigKey = { name: Name.from('other-key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };
export const CONV_KEY: TsigKey = { name: Name.from('127.0.0.1.127.0.0.1._transfer.example.org'), algorithm: 'hmac-sha512', secret: new Uint8Array(randomBytes(32)) };
export const b64 = (k: TsigKey) => Buffer.from(k.secret).toString('base64');
/** More keys the test primary knows (update tests add theirs). */
export const EXTRA_KEYS: TsigKey[] = [];
export const keySpec = (k: TsigKey) => `${k.algorithm}:${k.name}:${b64(k)}`;

export async function startPrimary(bigTxt: number, rules: TransferRule[] = [{ key: ALLOWED_KEY.name }], updates?: UpdateSink): Promise<TestPrimary> {
  const vs = versions(bigTxt);
  const diffs = [diff(vs[0], vs[1], 1, 2), diff(vs[1], vs[2], 2, 3)];
  const table = new ZoneTable();
  table.set(compileZone(origin, vs[0]));
  const qh = new QueryHandler(table);
  const events: XfrEvent[] = [];
  attachPrimary(qh, {
    xfr: { log: (e) => events.push(e) },
    transfers: zoneTableSource(table, {
      getDiffs: (_o, from, to) => {
        const steps = diffs.filter((d) => d.fromSerial >= from && d.toSerial <= to);
        return steps.length > 0 && steps[0].fromSerial === from ? steps : undefined;
      },
      transferRules: () => rules,
    }),
    keys: { get: (n) => [ALLOWED_KEY, OTHER_KEY, CONV_KEY, ...EXTRA_KEYS].find((k) => k.name.equals(n)) },
    updates,
  });
  const resp = await startResponder(async (bytes, t) => {
    const out = await qh.handle(bytes, { transport: t.tcp ? 'tcp' : 'udp', address: t.remoteAddress });
    return out === null ? [] : Array.isArray(out) ? out : [out];
  });
  return {
    port: resp.port,
    key: ALLOWED_KEY,
    events,
    setVersion: (n) => table.set(compileZone(origin, vs[n - 1])),
    close: () => resp.close(),
  };
}

