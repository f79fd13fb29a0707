// Assemble the DNS service: one QueryHandler over a ZoneTable, UDP and TCP listeners on each address. Port 0 picks a
// port free for both UDP and TCP, so a client can use the same port for both.

import type { Logger } from 'pino';
import type { ZoneTable } from '../zone/table.js';
import { type ListenAddress, type ListenerOptions, type Listening, listenTcp, listenUdp } from './listeners.js';
import { TcpGuard, type TcpStats } from './tcp-guard.js';
import { QueryHandler, type QueryHandlerOptions } from './query.js';

export interface DnsServerOptions extends ListenerOptions, QueryHandlerOptions {
  listen: ListenAddress[];
  /** An existing handler to serve (with its registered opcode/type handlers); a new one otherwise. */
  handler?: QueryHandler;
}

export interface DnsServer {
  handler: QueryHandler;
  listening: Listening[];
  /** The TCP connection counters of all listeners (their limits are shared). */
  tcpStats(): TcpStats;
  close(): Promise<void>;
}

/** Parse "ADDR:PORT" or "[IPv6]:PORT" (a bare IPv6 address needs the brackets to carry a port). */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`bad listen address "${text}" (expected ADDR:PORT or [IPv6]:PORT)`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`bad port in listen address "${text}"`);
  return { address: m[1], port };
}

async function bindPair(
  handler: QueryHandler,
  at: ListenAddress,
  log: Logger,
  opts: ListenerOptions,
): Promise<Listening[]> {
  // With port 0 the UDP port is chosen first and TCP takes the same number; if that TCP port is busy, try again.
  for (let attempt = 0; ; attempt++) {
    const udp = await listenUdp(handler, at, log, opts);
    try {
      const tcp = await listenTcp(handler, { address: at.address, port: udp.port }, log, opts);
      return [udp, tcp];
    } catch (err) {
      await udp.close();
      if (at.port !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

export async function startDnsServer(table: ZoneTable, log: Logger, opts: DnsServerOptions): Promise<DnsServer> {
  const handler = opts.handler ?? new QueryHandler(table, opts);
  const listening: Listening[] = [];
  // One guard for all TCP listeners: --tcp-max-clients counts the connections of the process, not of each address.
  const tcpGuard = opts.tcpGuard ?? new TcpGuard(opts);
  try {
    for (const at of opts.listen) listening.push(...(await bindPair(handler, at, log, { ...opts, tcpGuard })));
  } catch (err) {
    await Promise.all(listening.map((l) => l.close()));
    throw err;
  }
  return {
    handler,
    listening,
    tcpStats: () => tcpGuard.stats(),
    close: async () => {
      await Promise.all(listening.map((l) => l.close()));
    },
  };
}
