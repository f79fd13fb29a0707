// UDP and TCP listeners: thin shells that move bytes between sockets and QueryHandler.handle(). Nothing here knows
// DNS beyond the RFC 1035 §4.2.2 two-octet length framing of TCP.

import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Logger } from 'pino';
import type { HandlerResult, QueryHandler, QueryMeta } from './query.js';
import { type TcpLimits, TcpGuard, type TcpConn } from './tcp-guard.js';

export { TcpGuard, type TcpLimits, type TcpStats } from './tcp-guard.js';

export interface ListenAddress {
  address: string;
  port: number;
}

export interface ListenerOptions extends TcpLimits {
  /**
   * Socket receive buffer to ask for on UDP sockets, in octets (default UDP_RECV_BUFFER_DEFAULT; 0 = the system's
   * default, net.core.rmem_default, as knotd keeps). Linux grants at most net.core.rmem_max.
   */
  udpRecvBuffer?: number;
  udpSendBuffer?: number;
  /** Stop reading from a TCP client while this much output is queued to it (default 1 MiB). */
  tcpMaxQueuedBytes?: number;
  /** Shared by all TCP listeners of a process so the limits count all their connections (default: one per listener). */
  tcpGuard?: TcpGuard;
  /**
   * UDP socket I/O: 'native' = recvmmsg/sendmmsg batches through the optional addon dms-udp-native (an error when it
   * is not available), 'libuv' = one system call per datagram through Node's socket, 'auto' (default) = native when
   * the addon loads. The environment variable DMSD_UDP_IO overrides the default.
   */
  udpIo?: UdpIo;
}

export type UdpIo = 'auto' | 'native' | 'libuv';

export interface Listening {
  proto: 'udp' | 'tcp';
  address: string;
  port: number;
  /** UDP: the receive buffer the kernel granted (Linux reports twice the usable size; capped by rmem_max). */
  recvBuffer?: number;
  /** UDP: the receive buffer asked for (0: the system's default was kept). */
  recvBufferRequested?: number;
  /** UDP: how datagrams move: batches through the native addon, or one at a time through libuv. */
  udpIo?: 'native' | 'libuv';
  /**
   * UDP with native I/O: [recvmmsg batches, datagrams received, sendmmsg calls, responses sent, dropped, receive
   * buffers replaced (a plain query answered asynchronously: should stay 0)].
   */
  udpStats?(): number[];
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
  fd?: number;
  recvStop?(): number;
  recvStart?(): number;
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

/** The addon's interface (native/udp/src/udp_batch.cc describes the shared buffers). */
interface NativeUdp {
  open(
    fd: number,
    family: 4 | 6,
    rx: Buffer,
    rxMeta: Int32Array,
    slot: number,
    batch: number,
    addrs: string[],
    tx: Buffer,
    txMeta: Int32Array,
    onBatch: (n: number) => void,
  ): object;
  setRx(h: object, rx: Buffer): void;
  flush(h: object, count: number): number;
  stats(h: object): number[];
  close(h: object): void;
  /** Absent from an addon built before it. */
  trimMalloc?(): boolean;
  setMmapThreshold?(bytes: number): boolean;
}

let nativeUdp: { mod: NativeUdp } | { error: string } | undefined;

/** The addon, loaded once; an error text when it was not built (an optional dependency) or cannot load here. */
function loadNativeUdp(): { mod: NativeUdp } | { error: string } {
  if (nativeUdp === undefined) {
    try {
      if (process.platform !== 'linux') throw new Error(`recvmmsg/sendmmsg are Linux calls (this is ${process.platform})`);
      nativeUdp = { mod: createRequire(import.meta.url)('dms-udp-native') as NativeUdp };
    } catch (err) {
      nativeUdp = { error: (err as Error).message.split('\n')[0] };
    }
  }
  return nativeUdp;
}

/**
 * Give the C heap's free memory back to the system (glibc malloc_trim, through the native addon): undefined where
 * the addon is not built. Used by dmsd when it goes idle after a burst (daemon/idle-memory.ts).
 */
export function trimNativeHeap(): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const n = loadNativeUdp();
  return 'mod' in n && n.mod.trimMalloc ? n.mod.trimMalloc() : undefined;
}

/**
 * Fix glibc's mmap threshold (through the native addon; undefined where it is not built): blocks of 128 KiB and more
 * get mappings of their own, returned when freed. glibc otherwise raises the threshold to the largest such block
 * freed — a zone file's buffer — after which a load's megabyte buffers stay resident in its arenas once freed
 * (~10 MB after a 1M-record file parsed in a thread).
 */
export function fixMmapThreshold(): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const n = loadNativeUdp();
  return 'mod' in n && n.mod.setMmapThreshold ? n.mod.setMmapThreshold(128 << 10) : undefined;
}

let udpIoLogged = false;

/** Which UDP I/O to use: the option, else DMSD_UDP_IO, else auto; logged once per process. */
function chooseUdpIo(requested: UdpIo | undefined, log: Logger): { mod?: NativeUdp; forced: boolean } {
  const want = requested ?? (process.env.DMSD_UDP_IO as UdpIo | undefined) ?? 'auto';
  if (want !== 'auto' && want !== 'native' && want !== 'libuv') throw new Error(`bad UDP I/O "${want}" (auto, native or libuv)`);
  const plain = process.env.DMSD_PLAIN_UDP_SEND === '1';
  let chosen: NativeUdp | undefined;
  let reason: string | undefined;
  if (want === 'libuv' || plain) reason = plain ? 'DMSD_PLAIN_UDP_SEND=1' : 'requested';
  else {
    const n = loadNativeUdp();
    if ('mod' in n) chosen = n.mod;
    else if (want === 'native') throw new Error(`native UDP I/O requested but unavailable: ${n.error}`);
    else reason = `native addon unavailable: ${n.error}`;
  }
  if (!udpIoLogged) {
    udpIoLogged = true;
    if (chosen) log.info({ udpIo: 'native' }, 'UDP I/O: recvmmsg/sendmmsg batches (native addon dms-udp-native)');
    else log.info({ udpIo: 'libuv', reason }, 'UDP I/O: one datagram per system call (libuv)');
  }
  return { mod: chosen, forced: want === 'native' };
}

/**
 * The UDP receive buffer dmsd asks for by default: 8 MiB. Under a flood the socket's queue is what absorbs the moments
 * dmsd is not running (another process on the core, a garbage collection): at 832 octets of kernel accounting per
 * small query datagram (measured on Linux 6.1 loopback), Linux's doubled 4 MiB (the net.core.rmem_max of common
 * distributions caps 8 MiB there) queues about 10,000 queries, 70 ms of a 140,000/s flood; the system default
 * (208 KiB, which knotd keeps) queues 256. The kernel caps the request at net.core.rmem_max: dmsd logs what it got.
 */
export const UDP_RECV_BUFFER_DEFAULT = 8 * 1024 * 1024;

// Batch geometry: up to 256 datagrams per recvmmsg() (the addon's maximum: under a flood one system call empties a
// quarter of a thousand); each gets a 64 KiB slot (the largest UDP payload), of which the kernel only touches what
// arrives. Responses are packed into 256 KiB, flushed when full and at the end of a batch.
const BATCH = 256;
const SLOT = 65536;
const TX_BYTES = 256 * 1024;
const TX_ENTRIES = 256;

/**
 * Serve the socket through the addon: libuv stops reading it, the addon polls a duplicate of its descriptor on this
 * event loop and hands over whole batches. Responses produced synchronously go out in one sendmmsg() per batch;
 * those of asynchronous handlers (UPDATE, signed messages) and any the kernel cannot take at once go through
 * `sendLater` (libuv, which queues). Undefined when this socket does not expose what that needs.
 */
function nativeReceiver(
  mod: NativeUdp,
  sock: dgram.Socket,
  family: 4 | 6,
  handler: QueryHandler,
  sendLater: (r: HandlerResult, port: number, address: string) => void,
  log: Logger,
): { close(): void; stats(): number[] } | undefined {
  const handle = rawHandle(sock);
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.recvStop !== 'function') return undefined;
  let rx = Buffer.allocUnsafeSlow(BATCH * SLOT);
  const rxMeta = new Int32Array(2 * BATCH);
  const addrs: string[] = new Array<string>(BATCH).fill('');
  const tx = Buffer.allocUnsafeSlow(TX_BYTES);
  const txMeta = new Int32Array(3 * TX_ENTRIES);
  let nTx = 0;
  let txOff = 0;
  let h: object | undefined;
  const flush = (): void => {
    if (nTx === 0 || h === undefined) return;
    const done = mod.flush(h, nTx);
    // The socket's send buffer is full: the rest waits in libuv's queue (copies: tx is reused at once).
    for (let k = done; k < nTx; k++) {
      const i = txMeta[3 * k];
      const off = txMeta[3 * k + 1];
      sendLater(Buffer.from(tx.subarray(off, off + txMeta[3 * k + 2])), rxMeta[2 * i + 1], addrs[i]);
    }
    nTx = 0;
    txOff = 0;
  };
  const queue = (i: number, m: Uint8Array): void => {
    if (m.length > TX_BYTES) {
      sendLater(m, rxMeta[2 * i + 1], addrs[i]);
      return;
    }
    if (nTx === TX_ENTRIES || txOff + m.length > TX_BYTES) flush();
    tx.set(m, txOff);
    txMeta[3 * nTx] = i;
    txMeta[3 * nTx + 1] = txOff;
    txMeta[3 * nTx + 2] = m.length;
    nTx++;
    txOff += m.length;
  };
  let replaced = 0;
  const onBatch = (n: number): void => {
    let pending = false;
    for (let i = 0; i < n; i++) {
      const port = rxMeta[2 * i + 1];
      if (port === 0) continue; // cannot be answered
      const start = i * SLOT;
      const address = addrs[i];
      const len = rxMeta[2 * i];
      // A message that may be answered asynchronously (reading its bytes later) gets a copy, so the receive buffer
      // stays ours; should a plain query be answered asynchronously all the same, the receive buffer changes below.
      const own = mayAnswerLater(rx, start, len);
      const bytes = own ? Buffer.from(rx.subarray(start, start + len)) : rx.subarray(start, start + len);
      const r = handler.handle(bytes, { transport: 'udp', address, port });
      if (r === null) continue;
      if (isThenable(r)) {
        if (!own) pending = true;
        r.then(
          (v) => sendLater(v, port, address),
          (err: unknown) => log.error({ err }, 'udp handler failed'),
        );
      } else if (Array.isArray(r)) for (const m of r) queue(i, m);
      else queue(i, r);
    }
    flush();
    // An asynchronous handler may still read its query from rx: receive into a new buffer from now on.
    if (pending && h !== undefined) {
      rx = Buffer.allocUnsafeSlow(BATCH * SLOT);
      mod.setRx(h, rx);
      replaced++;
    }
  };
  handle.recvStop();
  try {
    h = mod.open(handle.fd, family, rx, rxMeta, SLOT, BATCH, addrs, tx, txMeta, onBatch);
  } catch (err) {
    handle.recvStart?.();
    throw err;
  }
  const opened = h;
  return {
    close: () => mod.close(opened),
    stats: () => [...mod.stats(opened), replaced],
  };
}

/**
 * Whether the query handler may answer this datagram asynchronously, reading it after handle() returned: another
 * opcode than QUERY (UPDATE, NOTIFY), records in the answer or authority section (IXFR), AXFR/IXFR, more than one
 * additional record or one that is not OPT (a TSIG: signed messages). A plain query, with or without OPT, is
 * answered before handle() returns. Errs towards true (a copy of a few dozen octets): it only decides whether the
 * datagram is copied out of the shared receive buffer.
 */
function mayAnswerLater(b: Buffer, s: number, len: number): boolean {
  if (len < 12) return false;
  if ((b[s + 2] & 0x78) !== 0 || (b[s + 6] | b[s + 7] | b[s + 8] | b[s + 9] | b[s + 10]) !== 0) return true;
  const ar = b[s + 11];
  if (b[s + 4] !== 0 || b[s + 5] !== 1) return ar !== 0;
  const end = s + len;
  let p = s + 12;
  while (p < end && b[p] !== 0) {
    if (b[p] > 63) return true;
    p += b[p] + 1;
  }
  if (p + 5 > end) return false; // a truncated question: FORMERR at once
  const qtype = (b[p + 1] << 8) | b[p + 2];
  if (qtype === 251 || qtype === 252) return true;
  if (ar === 0) return false;
  if (ar > 1) return true;
  const q = p + 5;
  return !(q + 3 <= end && b[q] === 0 && b[q + 1] === 0 && b[q + 2] === 41);
}

/** Bind a UDP socket; resolves once bound (port 0 → the port the kernel chose). */
export function listenUdp(
  handler: QueryHandler,
  at: ListenAddress,
  log: Logger,
  opts: ListenerOptions = {},
): Promise<Listening> {
  const family = net.isIPv6(at.address) ? 6 : 4;
  const io = chooseUdpIo(opts.udpIo, log);
  const recvWanted = opts.udpRecvBuffer ?? UDP_RECV_BUFFER_DEFAULT;
  const sock = dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ipv6Only: family === 6,
    ...(recvWanted > 0 ? { recvBufferSize: recvWanted } : {}),
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
      let native: ReturnType<typeof nativeReceiver>;
      try {
        native = io.mod ? nativeReceiver(io.mod, sock, family, handler, send, log) : undefined;
      } catch (err) {
        if (io.forced) {
          sock.close();
          reject(err);
          return;
        }
        log.warn({ err }, 'native UDP I/O failed to start on this socket; using libuv');
        native = undefined;
      }
      if (io.forced && !native) {
        sock.close();
        reject(new Error('native UDP I/O requested but this socket exposes no descriptor'));
        return;
      }
      if (!native && !rawReceiver(sock, onDatagram)) sock.on('message', onDatagram);
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
        recvBufferRequested: recvWanted,
        udpIo: native ? 'native' : 'libuv',
        ...(native ? { udpStats: native.stats } : {}),
        close: () =>
          new Promise((res) => {
            native?.close();
            sock.close(() => res());
          }),
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
  const guard = opts.tcpGuard ?? new TcpGuard(opts);
  const maxQueued = opts.tcpMaxQueuedBytes ?? 1024 * 1024;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (sock) => {
    const conn = serveConnection(handler, sock, guard, maxQueued, log);
    if (!conn) return;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
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

/** Messages handled per turn of the event loop for one connection before the others get theirs. */
const MESSAGES_PER_TURN = 32;

/**
 * One TCP connection: any number of length-prefixed queries (pipelining, RFC 7766 §6.2.1), answered in order even
 * when a handler is asynchronous. The guard (tcp-guard.ts) admits it and enforces the timeouts; here the connection
 * keeps its share fair: at most MESSAGES_PER_TURN messages per turn of the event loop and at most
 * guard.maxInFlight asynchronous answers pending (reading pauses beyond), so one client pipelining thousands of
 * queries or transfers delays the others by a few messages at most (RFC 7766 §6.2.1.1).
 */
function serveConnection(handler: QueryHandler, sock: net.Socket, guard: TcpGuard, maxQueued: number, log: Logger): TcpConn | undefined {
  // The message being assembled: its two-octet length, then a buffer of exactly that size filled as bytes come
  // (never a concatenation per chunk: a client sending one octet per segment must not cost a copy of all it sent).
  let lenHi = -1;
  let msg: Buffer | undefined;
  let filled = 0;
  // Complete messages not yet handled (more than one turn's share arrived at once).
  const waiting: Buffer[] = [];
  // Tail of the chain of pending asynchronous responses; later responses wait for it to keep the order.
  let tail: Promise<void> | null = null;
  let inFlight = 0;
  let scheduled = false;
  const base = { transport: 'tcp' as const, address: sock.remoteAddress, port: sock.remotePort };

  const conn = guard.admit(sock, { busy: () => tail !== null || sock.writableLength > 0 || waiting.length > 0 });
  if (!conn) return undefined;
  sock.on('error', () => sock.destroy());

  const canRead = () => inFlight < guard.maxInFlight && waiting.length === 0 && sock.writableLength <= maxQueued;
  const resumeIfAllowed = () => {
    if (!sock.destroyed && sock.isPaused() && canRead()) sock.resume();
  };
  sock.on('drain', resumeIfAllowed);

  const write = (r: HandlerResult, after: (() => void)[] | undefined): void => {
    if (r === null || sock.destroyed || (Array.isArray(r) && r.length === 0)) {
      if (after) for (const f of after) f();
      return;
    }
    conn.active();
    const list = Array.isArray(r) ? r : [r];
    for (let i = 0; i < list.length - 1; i++) sock.write(frame(list[i]));
    // The callback runs once the last frame is flushed, or with an error if the connection dies first.
    if (after) sock.write(frame(list[list.length - 1]), () => { for (const f of after) f(); });
    else sock.write(frame(list[list.length - 1]));
    if (sock.writableLength > maxQueued) sock.pause();
  };

  const handleOne = (m: Buffer): void => {
    conn.active();
    let after: (() => void)[] | undefined;
    const meta: QueryMeta = { ...base, afterSend: (f) => (after ??= []).push(f) };
    let r: ReturnType<QueryHandler['handle']>;
    try {
      r = handler.handle(m, meta);
    } catch (err) {
      log.error({ err }, 'tcp handler failed');
      r = null;
    }
    if (tail !== null || isThenable(r)) {
      inFlight++;
      const mine: Promise<void> = (tail ?? Promise.resolve())
        .then(() => r)
        .then(
          (v) => write(v, after),
          (err: unknown) => {
            log.error({ err }, 'tcp handler failed');
            write(null, after);
          },
        )
        .finally(() => {
          inFlight--;
          if (tail === mine) tail = null;
          settledCheck();
          resumeIfAllowed();
        });
      tail = mine;
    } else write(r, after);
  };

  const drainWaiting = (): void => {
    scheduled = false;
    if (sock.destroyed) return;
    sock.cork();
    try {
      for (let n = 0; n < MESSAGES_PER_TURN && waiting.length > 0 && inFlight < guard.maxInFlight; n++) {
        handleOne(waiting.shift() as Buffer);
      }
    } finally {
      sock.uncork();
    }
    // More than a turn's share: the rest after the other connections had theirs. Too many answers pending: the
    // rest when they settle (settledCheck).
    if (waiting.length > 0) {
      if (inFlight < guard.maxInFlight) later();
    } else resumeIfAllowed();
  };
  const later = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drainWaiting);
  };
  // Messages held back because too many answers were pending: continued as answers settle.
  const settledCheck = (): void => {
    if (waiting.length > 0 && inFlight < guard.maxInFlight) later();
  };

  sock.on('data', (chunk: Buffer) => {
    let p = 0;
    while (p < chunk.length) {
      if (msg === undefined) {
        if (lenHi < 0) {
          lenHi = chunk[p++];
          continue;
        }
        const n = (lenHi << 8) | chunk[p++];
        if (n < 12) {
          // Shorter than a DNS header: the stream is garbage (and must not count as activity); close it.
          sock.destroy();
          return;
        }
        // The whole message in this chunk: a view, no copy (the usual case).
        if (chunk.length - p >= n) {
          waiting.push(chunk.subarray(p, p + n));
          p += n;
          lenHi = -1;
          continue;
        }
        msg = Buffer.allocUnsafe(n);
        filled = 0;
      }
      const take = Math.min(msg.length - filled, chunk.length - p);
      chunk.copy(msg, filled, p, p + take);
      filled += take;
      p += take;
      if (filled === msg.length) {
        waiting.push(msg);
        msg = undefined;
        lenHi = -1;
      }
    }
    // The I/O clock runs from the first octet of an unfinished message; a completed message stops it.
    if (waiting.length > 0) guard.partialDone(conn);
    if (lenHi >= 0) guard.partialStarted(conn);
    if (waiting.length === 0) return;
    if (waiting.length > MESSAGES_PER_TURN || inFlight >= guard.maxInFlight) sock.pause();
    if (!scheduled) {
      // The common case (a few messages, nothing pending) is handled now, not a turn later.
      if (inFlight < guard.maxInFlight) drainWaiting();
      else sock.pause();
    }
  });
  // Views into a large chunk keep all of it alive only while waiting, which MESSAGES_PER_TURN bounds per turn.
  return conn;
}
