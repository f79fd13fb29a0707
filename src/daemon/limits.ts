// dmsd's limits for hostile networks: TCP connection limits and timeouts (src/server/tcp-guard.ts) and the
// concurrency of outgoing zone transfers (src/server/primary.ts). Each has a flag and a key of the --config file
// (the flag wins); the defaults follow knotd and BIND where they have one (docs/HOSTILE-NETWORK.md).

import { type Command, InvalidArgumentError } from 'commander';
import { UDP_RECV_BUFFER_DEFAULT } from '../server/listeners.js';
import { XFR_DEFAULTS, type XfrLimits } from '../server/primary.js';
import { TCP_DEFAULTS, type TcpLimits } from '../server/tcp-guard.js';
import { readConfigEntries } from '../store/index.js';

export interface ServingLimits {
  tcp: TcpLimits;
  xfr: XfrLimits;
  /** UDP socket options (the listeners' udpRecvBuffer). */
  udp?: { udpRecvBuffer?: number };
}

interface LimitSpec {
  flag: string;
  /** Key in the configuration file. */
  key: string;
  /** commander's camel-case name of the flag. */
  opt: string;
  help: string;
  min: number;
  max: number;
  integer: boolean;
  set(l: ServingLimits, v: number): void;
}

const SPECS: LimitSpec[] = [
  { flag: '--tcp-max-clients <n>', key: 'tcp_max_clients', opt: 'tcpMaxClients', help: `most TCP connections at once; a new one past it closes the longest-idle one (default ${TCP_DEFAULTS.maxClients})`, min: 1, max: 1_000_000, integer: true, set: (l, v) => { l.tcp.tcpMaxClients = v; } },
  { flag: '--tcp-max-per-source <n>', key: 'tcp_max_per_source', opt: 'tcpMaxPerSource', help: `most TCP connections from one address; 0: no limit (default ${TCP_DEFAULTS.maxPerSource})`, min: 0, max: 1_000_000, integer: true, set: (l, v) => { l.tcp.tcpMaxPerSource = v; } },
  { flag: '--tcp-idle-timeout <seconds>', key: 'tcp_idle_timeout', opt: 'tcpIdleTimeout', help: `close a TCP connection after this long without a query or an answer moving (default ${TCP_DEFAULTS.idleMs / 1000})`, min: 0.05, max: 3600, integer: false, set: (l, v) => { l.tcp.tcpIdleMs = v * 1000; } },
  { flag: '--tcp-io-timeout <seconds>', key: 'tcp_io_timeout', opt: 'tcpIoTimeout', help: `a TCP message must arrive whole within this long after its first octet (default ${TCP_DEFAULTS.ioMs / 1000})`, min: 0.05, max: 3600, integer: false, set: (l, v) => { l.tcp.tcpIoMs = v * 1000; } },
  { flag: '--tcp-max-pipeline <n>', key: 'tcp_max_pipeline', opt: 'tcpMaxPipeline', help: `answers pending on one TCP connection before dmsd stops reading it (default ${TCP_DEFAULTS.maxInFlight})`, min: 1, max: 65535, integer: true, set: (l, v) => { l.tcp.tcpMaxInFlight = v; } },
  { flag: '--udp-recv-buffer <octets>', key: 'udp_recv_buffer', opt: 'udpRecvBuffer', help: `UDP socket receive buffer to ask for: what absorbs a flood while dmsd waits for the CPU; the kernel grants at most net.core.rmem_max (logged at start); 0: the system default (default ${UDP_RECV_BUFFER_DEFAULT})`, min: 0, max: 1 << 30, integer: true, set: (l, v) => { l.udp = { ...l.udp, udpRecvBuffer: v }; } },
  { flag: '--xfr-max-total <n>', key: 'xfr_max_total', opt: 'xfrMaxTotal', help: `outgoing AXFR/IXFR at once, more are REFUSED; 0: no limit (default ${XFR_DEFAULTS.maxTotal})`, min: 0, max: 1_000_000, integer: true, set: (l, v) => { l.xfr.maxTotal = v; } },
  { flag: '--xfr-max-per-client <n>', key: 'xfr_max_per_client', opt: 'xfrMaxPerClient', help: `outgoing AXFR/IXFR at once to one address, more are REFUSED; 0: no limit (default ${XFR_DEFAULTS.maxPerClient})`, min: 0, max: 1_000_000, integer: true, set: (l, v) => { l.xfr.maxPerClient = v; } },
];

function parseNumber(spec: LimitSpec, value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.integer && !Number.isInteger(n)))
    throw new InvalidArgumentError(`${where}: expected ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`);
  return n;
}

/** Declare the limit flags on dmsd's command. */
export function addLimitOptions(cmd: Command): Command {
  for (const s of SPECS) cmd.option(s.flag, s.help, (v: string) => parseNumber(s, v, s.flag.split(' ')[0]));
  return cmd;
}

/** The limits from the parsed flags, then the configuration file's keys for the flags not given. */
export function resolveLimits(opts: Record<string, unknown>, configFile?: string): ServingLimits {
  const out: ServingLimits = { tcp: {}, xfr: {} };
  const file = configFile ? readConfigEntries(configFile) : {};
  for (const s of SPECS) {
    if (opts[s.opt] !== undefined) s.set(out, opts[s.opt] as number);
    else if (file[s.key] !== undefined && file[s.key] !== '') s.set(out, parseNumber(s, file[s.key], `${configFile}: ${s.key}`));
  }
  return out;
}
