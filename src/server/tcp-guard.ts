// Admission and timeouts of dmsd's TCP connections (RFC 7766 §6.2.3, and what knotd and BIND do where the RFC leaves
// numbers open): a total and a per-source connection limit, where a new connection at a limit closes the connection
// idle for the longest time (so a flood of idle connections cannot lock out new clients, RFC 7766 §6.2.3 "close the
// oldest idle connections"), an idle timeout between messages (knotd tcp-idle-timeout), and an I/O timeout for one
// message to arrive completely once its first octet came (knotd tcp-io-timeout), which cuts a byte-at-a-time sender
// whatever the idle timeout is. A connection whose answers the client does not read makes no progress either: it is
// closed after the idle timeout too. Counters for /metrics.

import type net from 'node:net';

export interface TcpLimits {
  /** Most simultaneous TCP connections (all listeners of the process; default 1000). */
  tcpMaxClients?: number;
  /** Most simultaneous TCP connections from one source address (default 100; 0 = no limit). */
  tcpMaxPerSource?: number;
  /** Close a connection after this long without a message or a response (default 10 s, knotd's tcp-idle-timeout). */
  tcpIdleMs?: number;
  /** A message must arrive completely within this long after its first octet (default 2 s; knotd tcp-io-timeout). */
  tcpIoMs?: number;
  /** Asynchronous answers pending per connection before reading from it pauses (default 32). */
  tcpMaxInFlight?: number;
  /** @deprecated name of tcpMaxClients (kept for existing callers). */
  tcpMaxConnections?: number;
}

export const TCP_DEFAULTS = { maxClients: 1000, maxPerSource: 100, idleMs: 10_000, ioMs: 2000, maxInFlight: 32 } as const;

export interface TcpStats {
  /** Connections open now. */
  open: number;
  accepted: number;
  /** New connections closed at once: at a limit with no idle connection to close instead. */
  refused: number;
  /** Idle connections closed to make room for a new one. */
  evicted: number;
  /** Closed by the idle timeout (no message, no response, or a client not reading its answers). */
  idleTimeouts: number;
  /** Closed by the I/O timeout (a message not completed in time). */
  ioTimeouts: number;
}

/** What the guard asks a connection. */
export interface TcpConnHooks {
  /** Answers being produced, queued or sent, or messages waiting: not idle. */
  busy(): boolean;
}

export interface TcpConn {
  /** A message came or an answer went: the connection is not idle. */
  active(): void;
}

class Conn implements TcpConn {
  last: number;
  /** When the current unfinished message started (-1: none). */
  partialSince = -1;
  timer: NodeJS.Timeout | undefined;
  lastWritable = 0;
  lastWritten = 0;
  constructor(
    readonly guard: TcpGuard,
    readonly sock: net.Socket,
    readonly source: string,
    readonly hooks: TcpConnHooks,
  ) {
    this.last = performance.now();
  }
  active(): void {
    this.last = performance.now();
    this.guard.touch(this);
  }
}

export class TcpGuard {
  readonly maxClients: number;
  readonly maxPerSource: number;
  readonly idleMs: number;
  readonly ioMs: number;
  readonly maxInFlight: number;
  /** Open connections, least recently active first (a Map keeps insertion order; touch() moves one to the end). */
  private readonly conns = new Map<Conn, true>();
  private readonly perSource = new Map<string, number>();
  private readonly counters = { accepted: 0, refused: 0, evicted: 0, idleTimeouts: 0, ioTimeouts: 0 };

  constructor(l: TcpLimits = {}) {
    this.maxClients = l.tcpMaxClients ?? l.tcpMaxConnections ?? TCP_DEFAULTS.maxClients;
    this.maxPerSource = l.tcpMaxPerSource ?? TCP_DEFAULTS.maxPerSource;
    this.idleMs = l.tcpIdleMs ?? TCP_DEFAULTS.idleMs;
    this.ioMs = l.tcpIoMs ?? TCP_DEFAULTS.ioMs;
    this.maxInFlight = l.tcpMaxInFlight ?? TCP_DEFAULTS.maxInFlight;
  }

  stats(): TcpStats {
    return { open: this.conns.size, ...this.counters };
  }

  /**
   * A new connection: admitted (possibly closing the longest-idle connection of its source or of all to make room),
   * or closed at once (undefined) when every connection at the limit is busy.
   */
  admit(sock: net.Socket, hooks: TcpConnHooks): TcpConn | undefined {
    const source = sock.remoteAddress;
    if (source === undefined || sock.destroyed) {
      sock.destroy();
      return undefined;
    }
    if (this.maxPerSource > 0 && (this.perSource.get(source) ?? 0) >= this.maxPerSource && !this.evictOne(source)) return this.refuse(sock);
    if (this.conns.size >= this.maxClients && !this.evictOne(undefined)) return this.refuse(sock);
    const c = new Conn(this, sock, source, hooks);
    this.conns.set(c, true);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    this.counters.accepted++;
    sock.on('close', () => this.forget(c));
    this.schedule(c);
    return c;
  }

  /** The first octet of a message arrived: the I/O clock starts (no-op while one is already running). */
  partialStarted(conn: TcpConn): void {
    const c = conn as Conn;
    if (c.partialSince >= 0) return;
    c.partialSince = performance.now();
    this.schedule(c);
  }

  /** No unfinished message any more. */
  partialDone(conn: TcpConn): void {
    (conn as Conn).partialSince = -1;
  }

  touch(c: Conn): void {
    if (!this.conns.has(c)) return;
    this.conns.delete(c);
    this.conns.set(c, true);
  }

  private refuse(sock: net.Socket): undefined {
    this.counters.refused++;
    sock.destroy();
    return undefined;
  }

  /** Close the least recently active connection that is not busy (of `source` when given); false if there is none. */
  private evictOne(source: string | undefined): boolean {
    for (const c of this.conns.keys()) {
      if (source !== undefined && c.source !== source) continue;
      if (c.hooks.busy()) continue;
      this.counters.evicted++;
      this.forget(c);
      c.sock.destroy();
      return true;
    }
    return false;
  }

  private forget(c: Conn): void {
    if (!this.conns.delete(c)) return;
    clearTimeout(c.timer);
    const n = (this.perSource.get(c.source) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(c.source);
    else this.perSource.set(c.source, n);
  }

  private schedule(c: Conn): void {
    clearTimeout(c.timer);
    const now = performance.now();
    const due = c.partialSince >= 0 ? Math.min(c.partialSince + this.ioMs, c.last + this.idleMs) : c.last + this.idleMs;
    c.timer = setTimeout(() => this.check(c), Math.max(5, due - now + 1));
  }

  private check(c: Conn): void {
    if (!this.conns.has(c) || c.sock.destroyed) return;
    const now = performance.now();
    if (c.partialSince >= 0 && now - c.partialSince >= this.ioMs) {
      this.counters.ioTimeouts++;
      this.forget(c);
      c.sock.destroy();
      return;
    }
    if (c.hooks.busy()) {
      // Output moving (the kernel took some, or we queued more) or an answer still being made: not idle. Output
      // standing still for the idle time: a client that does not read.
      const written = c.sock.bytesWritten;
      const queued = c.sock.writableLength;
      if (queued === 0 || written !== c.lastWritten || queued !== c.lastWritable) {
        c.lastWritten = written;
        c.lastWritable = queued;
        c.last = now;
      }
    }
    if (now - c.last >= this.idleMs) {
      this.counters.idleTimeouts++;
      this.forget(c);
      c.sock.destroy();
      return;
    }
    this.schedule(c);
  }
}
