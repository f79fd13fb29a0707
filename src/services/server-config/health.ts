// check_server (issue 11): is a secondary answering over UDP and TCP, and does it serve every zone of its group
// (the catalog zone included) at the serial DMS published? Exit 0 / OK only then: the answer an anycast router's
// probe (ExaBGP healthcheck, a BIRD route script) needs to withdraw a secondary that is up but stale.
// A probe only: it changes nothing (the scheduled ServerSM with RETRY/BROKEN and re-NOTIFY is not built yet).

import { RRType } from '../../dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../dns/message.js';
import { Name } from '../../dns/name.js';
import { readTx } from '../../store/index.js';
import { serverRowByName } from '../../store/queries/groups.js';
import type { ServiceContext } from '../context.js';
import { parseSoa } from '../core.js';
import { ServerNotFound } from '../errors.js';
import { getZone } from '../zones.js';
import { configInputFor, usesCatalog } from './index.js';

export interface LaggingZone {
  zone: string;
  /** Serial the server answered with, or null when it does not serve the zone authoritatively. */
  served: number | null;
  published: number;
}

export interface ServerCheck {
  server: string;
  address: string;
  port: number;
  enabled: boolean;
  udp: boolean;
  tcp: boolean;
  /** OK: answers on both and nothing lags; BROKEN otherwise; DISABLED for a disabled server (not probed). */
  state: 'OK' | 'BROKEN' | 'DISABLED';
  zones: number;
  lagging: LaggingZone[];
  message: string | null;
}

function soaQuery(zone: string): Uint8Array {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.question = [{ name: Name.from(zone), type: RRType.SOA, class: 1 }];
  return encodeMessage(m);
}

/** The authoritative SOA serial in a response, or null. */
function serialOf(bytes: Uint8Array, zone: string): number | null {
  const m = decodeMessage(bytes);
  if (!m.aa || m.rcode !== 0) return null;
  const soa = m.answer.find((rr) => rr.type === RRType.SOA && rr.name.key === Name.from(zone).key);
  return soa ? parseSoa(soa.rdata, soa.ttl).serial : null;
}

function udpAsk(address: string, port: number, q: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const dgram = process.getBuiltinModule('node:dgram');
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error(`no UDP answer from ${address}#${port} within ${timeoutMs} ms`)), timeoutMs);
    const done = (e: Error | null, b?: Uint8Array) => {
      clearTimeout(timer);
      sock.close();
      if (e) reject(e);
      else resolve(b as Uint8Array);
    };
    sock.on('error', (e) => done(e));
    sock.on('message', (b) => done(null, new Uint8Array(b)));
    sock.send(q, port, address);
  });
}

function tcpAsk(address: string, port: number, q: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const net = process.getBuiltinModule('node:net');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`no TCP answer from ${address}#${port} within ${timeoutMs} ms`)), timeoutMs);
    const done = (e: Error | null, b?: Uint8Array) => {
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(b as Uint8Array);
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => sock.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q])));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(null, new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
}

/** Probe one server: UDP and TCP, then each zone's SOA serial against the published one. */
export async function checkServer(ctx: ServiceContext, server: string, o: { timeoutMs?: number } = {}): Promise<ServerCheck> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const { srv, zones } = await readTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const input = await configInputFor(trx, srv.name);
    // Knot does not answer queries for a catalog zone it interprets (RFC 9432 §7 leaves that to the consumer), so its
    // catalog cannot be probed there; the member zones it brings are.
    const probeCatalog = input.sg.catalog !== null && usesCatalog(input) && input.server.type !== 'knot';
    const names = [...(probeCatalog ? [input.sg.catalog as string] : []), ...input.sg.zones.map((z) => z.name)];
    return { srv, zones: names };
  });
  const base = { server: srv.name, address: srv.address, port: Number(srv.port), enabled: Number(srv.enabled) === 1, zones: zones.length };
  if (!base.enabled) return { ...base, udp: false, tcp: false, state: 'DISABLED', lagging: [], message: null };
  const probe = zones[0] ?? '.';
  const problems: string[] = [];
  const failed = (e: Error) => {
    problems.push(e.message);
    return false;
  };
  const udp = await udpAsk(base.address, base.port, soaQuery(probe), timeoutMs).then(() => true, failed);
  const tcp = await tcpAsk(base.address, base.port, soaQuery(probe), timeoutMs).then(() => true, failed);
  const lagging: LaggingZone[] = [];
  if (udp)
    for (const z of zones) {
      const published = (await getZone(ctx, z)).soaSerial;
      if (published === null) continue;
      let served: number | null = null;
      try {
        served = serialOf(await udpAsk(base.address, base.port, soaQuery(z), timeoutMs), z);
      } catch {
        served = null;
      }
      if (served !== published) lagging.push({ zone: z, served, published });
    }
  if (lagging.length) problems.push(`${lagging.length} of ${zones.length} zones behind the published serial`);
  const ok = udp && tcp && lagging.length === 0;
  return { ...base, udp, tcp, state: ok ? 'OK' : 'BROKEN', lagging, message: problems.length ? problems.join('; ') : null };
}
