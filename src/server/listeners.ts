// UDP and TCP listeners: thin shells that move bytes between sockets and QueryHandler.handle(). Nothing here knows
// DNS beyond the RFC 1035 §4.2.2 two-octet length framing of TCP.

import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';
import type { HandlerResult, QueryHandler } from './query.js';

export interface ListenAddress {
  address: string;
  port: number;
}

export interface ListenerOptions {
  /** Requested socket receive buffer for UDP (bursts); the kernel caps it at net.core.rmem_max. */
  udpRecvBuffer?: number;
  udpSendBuffer?: number;
  /** Close a TCP connection idle for this long (default 10 s, like Knot's tcp-idle-timeout). */
  tcpIdleMs?: number;
  /** Most simultaneous TCP connections per listener (default 1000). */
  tcpMaxConnections?: number;
  /** Stop reading from a TCP client while this much output is queued to it (default 1 MiB). */
  tcpMaxQueuedBytes?: number;
}

export interface Listening {
  proto: 'udp' | 'tcp';
  address: string;
  port: number;
  /** UDP: the receive buffer the kernel granted (Linux reports twice the usable size; capped by rmem_max). */
  recvBuffer?: number;
  close(): Promise<void>;
}

function isThenable(x: unknown): x is Promise<HandlerResult> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

// Addresses handed to send() are already numeric: answering dgram's lookup synchronously skips a DNS lookup and a
// tick per response.
function numericLookup(family: 4 | 6) {
  return (address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void =>
    cb(null, address, family);
}

interface RawUdpHandle {
  send(req: object, list: Uint8Array[], count: number, port: number, ip: string, hasCallback: boolean): number;
  onmessage?: (nread: number, handle: unknown, buf: Buffer, rinfo: dgram.RemoteInfo) => void;
}

function rawHandle(sock: dgram.Socket): RawUdpHandle | undefined {
  const sym = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  if (!sym) return undefined;
  const handle = (sock as unknown as Record<symbol, { handle?: RawUdpHandle }>)[sym]?.handle;
  return handle && typeof handle.send === 'function' ? handle : undefined;
}

/**
 * Take datagrams straight from the socket handle, as dgram's own onmessage does minus the event emitter (one
 * emit() per datagram). Errors (nread < 0) still go through dgram's handler. False when this Node does not
 * expose what that needs; the caller then listens for 'message'.
 */
function rawReceiver(sock: dgram.Socket, onDatagram: (msg: Buffer, rinfo: dgram.RemoteInfo) => void): boolean {
  if (process.env.DMSD_PLAIN_UDP_SEND === '1') return false;
  const handle = rawHandle(sock);
  const original = handle?.onmessage;
  if (!handle || typeof original !== 'function') return false;
  handle.onmessage = (nread, h, buf, rinfo) => {
    if (nread < 0) original(nread, h, buf, rinfo);
    else onDatagram(buf, rinfo);
  };
  return true;
}

/**
 * dgram's send() costs more than everything else on the query path (argument normalisation, an address lookup and a
 * deferred callback per datagram): measured on one core, a bare echo server does ~40k datagrams/s through it and
 * ~105k/s through the socket's own handle. So responses go straight to the handle, as dgram's doSend() does, when
 * this Node exposes what that needs; otherwise (or if the handle refuses), through send().
 */
function rawSender(sock: dgram.Socket, log: Logger): ((m: Uint8Array, port: number, address: string) => void) | undefined {
  try {
    if (process.env.DMSD_PLAIN_UDP_SEND === '1') return undefined;
    const binding = (process as unknown as { binding(name: string): { SendWrap?: new () => object } }).binding('udp_wrap');
    const SendWrap = binding.SendWrap;
    const handle = rawHandle(sock);
    if (!SendWrap || !handle) return undefined;
    // The request object and the one-element list only matter when the kernel cannot take the datagram at once
    // (send() returns 0 and libuv queues it): one pair serves all synchronous sends and is replaced after an
    // asynchronous one.
    let req = new SendWrap() as { list?: Uint8Array[] };
    let list: Uint8Array[] = [];
    return (m, port, address) => {
      list[0] = m;
      req.list = list; // keeps the bytes alive while an asynchronous send is in flight
      const r = handle.send(req, list, 1, port, address, false);
      if (r > 0) return; // sent synchronously (octets + 1)
      req = new SendWrap() as { list?: Uint8Array[] };
      list = [];
      // r === 0: queued by libuv with the old request. r < 0: an error; dgram's send() reports it on the socket.
      if (r < 0) sock.send(m, port, address);
    };
  } catch (err) {
    log.debug({ err }, 'raw UDP send unavailable; using dgram send()');
    return undefined;
  }
}

/** Bind a UDP socket; resolves once bound (port 0 → the port the kernel chose). */
export function listenUdp(
  handler: QueryHandler,
  at: ListenAddress,
  log: Logger,
  opts: ListenerOptions = {},
): Promise<Listening> {
  const family = net.isIPv6(at.address) ? 6 : 4;
  const sock = dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ipv6Only: family === 6,
    recvBufferSize: opts.udpRecvBuffer ?? 8 * 1024 * 1024,
    sendBufferSize: opts.udpSendBuffer ?? 4 * 1024 * 1024,
    lookup: numericLookup(family) as unknown as dgram.SocketOptions['lookup'],
  });
  let sendOne = (m: Uint8Array, port: number, address: string): void => {
    sock.send(m, port, address);
  };
  const send = (r: HandlerResult, port: number, address: string): void => {
    if (r === null) return;
    if (Array.isArray(r)) {
      for (const m of r) sendOne(m, port, address);
    } else sendOne(r, port, address);
  };
  const onDatagram = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (rinfo.port === 0) return; // cannot be answered
    const r = handler.handle(msg, { transport: 'udp', address: rinfo.address, port: rinfo.port });
    if (isThenable(r)) {
      r.then(
        (v) => send(v, rinfo.port, rinfo.address),
        (err: unknown) => log.error({ err }, 'udp handler failed'),
      );
    } else send(r, rinfo.port, rinfo.address);
  };
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: at.address, port: at.port, exclusive: false }, () => {
      sock.off('error', reject);
      const raw = rawSender(sock, log);
      if (raw) sendOne = raw;
      if (!rawReceiver(sock, onDatagram)) sock.on('message', onDatagram);
      // Send errors (e.g. ICMP unreachable reported on the socket) must not stop the listener.
      sock.on('error', (err) => log.warn({ err }, 'udp socket error'));
      const a = sock.address();
      let recvBuffer: number | undefined;
      try {
        recvBuffer = sock.getRecvBufferSize();
      } catch {
        recvBuffer = undefined;
      }
      resolve({
        proto: 'udp',
        address: a.address,
        port: a.port,
        recvBuffer,
        close: () => new Promise((res) => sock.close(() => res())),
      });
    });
  });
}

/** Listen on TCP; resolves once listening. */
export function listenTcp(
  handler: QueryHandler,
  at: ListenAddress,
  log: Logger,
  opts: ListenerOptions = {},
): Promise<Listening> {
  const idleMs = opts.tcpIdleMs ?? 10_000;
  const maxQueued = opts.tcpMaxQueuedBytes ?? 1024 * 1024;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (sock) => {
    sockets.add(sock);
    serveConnection(handler, sock, idleMs, maxQueued, log);
    sock.on('close', () => sockets.delete(sock));
  });
  server.maxConnections = opts.tcpMaxConnections ?? 1000;
  server.on('error', (err) => log.warn({ err }, 'tcp server error'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.address, port: at.port, ipv6Only: net.isIPv6(at.address) }, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve({
        proto: 'tcp',
        address: a.address,
        port: a.port,
        close: () =>
          new Promise((res) => {
            server.close(() => res());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

function frame(m: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(m.length + 2);
  out[0] = m.length >>> 8;
  out[1] = m.length & 0xff;
  out.set(m, 2);
  return out;
}

/**
 * One TCP connection: any number of length-prefixed queries (pipelining, RFC 7766 §6.2.1), answered in order even
 * when a handler is asynchronous; closed after `idleMs` without a complete query.
 */
function serveConnection(handler: QueryHandler, sock: net.Socket, idleMs: number, maxQueued: number, log: Logger): void {
  let buf: Buffer = Buffer.alloc(0);
  // Tail of the chain of pending asynchronous responses; later responses wait for it to keep the order.
  let tail: Promise<void> | null = null;
  const meta = { transport: 'tcp' as const, address: sock.remoteAddress, port: sock.remotePort };
  // Idle = no complete query and no response for idleMs; bytes dribbled without completing a message do not count
  // (a client holding connections open that way would otherwise exhaust the connection limit).
  // An answer still being produced or sent (a long zone transfer to a slow client) is not idleness.
  const idle = setTimeout(() => {
    if (tail !== null || sock.writableLength > 0) idle.refresh();
    else sock.destroy();
  }, idleMs);
  sock.on('close', () => clearTimeout(idle));
  sock.on('error', () => sock.destroy());

  const write = (r: HandlerResult): void => {
    if (r === null || sock.destroyed) return;
    idle.refresh();
    if (Array.isArray(r)) for (const m of r) sock.write(frame(m));
    else sock.write(frame(r));
    if (sock.writableLength > maxQueued && !sock.isPaused()) {
      sock.pause();
      sock.once('drain', () => sock.resume());
    }
  };

  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    sock.cork();
    try {
      while (buf.length >= 2) {
        const n = (buf[0] << 8) | buf[1];
        if (n < 12) {
          // Shorter than a DNS header: the stream is garbage (and must not count as activity); close it.
          sock.destroy();
          return;
        }
        if (buf.length < n + 2) break;
        const msg = buf.subarray(2, n + 2);
        buf = buf.subarray(n + 2);
        idle.refresh();
        const r = handler.handle(msg, meta);
        if (tail !== null || isThenable(r)) {
          const mine: Promise<void> = (tail ?? Promise.resolve())
            .then(() => r)
            .then(write, (err: unknown) => {
              log.error({ err }, 'tcp handler failed');
            })
            .finally(() => {
              if (tail === mine) tail = null;
            });
          tail = mine;
        } else write(r);
      }
    } finally {
      sock.uncork();
    }
    // Keep partial data only (a copy, so the big chunk it came from can be freed).
    if (buf.length > 0 && buf.byteOffset !== 0) buf = Buffer.from(buf);
  });
}
