// Fuzzing the running daemon (issue 15): a real dmsd on a database with real zones (a forward zone, an RFC 2317
// classless reverse zone, a DNSSEC-signed zone, a zone open to signed UPDATEs), and a driver that sends it mutated
// UDP and TCP traffic built from well-formed messages of every kind it serves: queries, NOTIFY, UPDATE unsigned,
// signed with a granted key, signed with a wrong secret, AXFR/IXFR requests signed and not; over TCP pipelined in
// one write, fragmented into random pieces, with lying length prefixes. After every batch a legitimate query must be
// answered over UDP and TCP; error lines in dmsd's log (level ≥ 50, "unexpected error" included) and its RSS are
// counted. Used by test/interop/fuzz-live.test.ts (a short run) and bench/fuzz-live.mjs (10,000,000 packets).

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage, type Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { keyFromText, signMessage, type TsigKey } from '../../src/dns/tsig.js';
import { sqliteArgs, zoneToolOk } from './dmsd-db.support.js';
import { mutate, prng, type Rng, seedQueries } from './fuzz.js';
import { dmsdEntry, REPO_ROOT } from './servers.js';

export const FUZZ_ZONES = {
  forward: 'example.test',
  classless: '128/26.2.0.192.in-addr.arpa',
  signed: 'signed.test',
  updates: 'upd.test',
} as const;

const FORWARD = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
www A 192.0.2.10
www AAAA 2001:db8::10
mail A 192.0.2.20
alias CNAME www
*.wild TXT "wildcard"
sub NS ns.sub
ns.sub A 192.0.2.53
_sip._tcp SRV 0 5 5060 www
`;
const CLASSLESS = `$TTL 300
@ SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
@ NS ns1.example.test.
129 PTR host1.example.test.
130 PTR host2.example.test.
`;
const SIGNED = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.11
txt TXT "signed"
`;
const UPD = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
`;

export interface FuzzDmsd {
  data: string;
  port: number;
  pid: number;
  /** The key granted UPDATEs of upd.test (zonesub A TXT) and transfers of every zone. */
  key: TsigKey;
  /** Error lines (pino level ≥ 50) dmsd logged so far. */
  errors(): string[];
  /** The last log lines (for failure messages). */
  tail(): string;
  exited(): number | null;
  /** SIGTERM (SIGKILL after 5 s); resolves with the exit status: 0 for a clean stop, -1 when a signal ended it. */
  stop(): Promise<number>;
}

/**
 * Make the zones and keys in a new SQLite store under `work`, then start dmsd on it (`extra`: more flags; `compiled`:
 * dist/daemon/main.js as deployed, for the bench; otherwise the sources through tsx when present, as the tests do).
 */
export async function startFuzzDmsd(work: string, extra: string[] = [], compiled = false): Promise<FuzzDmsd> {
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  const store = sqliteArgs(data);
  const kek = join(data, 'kek');
  const texts: [string, string, string[]][] = [
    [FUZZ_ZONES.forward, FORWARD, []],
    [FUZZ_ZONES.classless, CLASSLESS, []],
    [FUZZ_ZONES.signed, SIGNED, []],
    [FUZZ_ZONES.updates, UPD, ['-i']],
  ];
  for (const [zone, text, flags] of texts) {
    const file = join(work, `${zone.replace('/', '-')}.zone`);
    writeFileSync(file, text);
    zoneToolOk(store, ['load_zone', ...flags, file, zone]);
  }
  const out = zoneToolOk(store, ['generate_tsig_key', 'fuzz.key']);
  const key = keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? 'x:fuzz.key:');
  zoneToolOk(store, ['add_update_grant', FUZZ_ZONES.updates, 'grant fuzz.key zonesub A TXT']);
  for (const z of Object.values(FUZZ_ZONES)) zoneToolOk(store, ['add_transfer_rule', z, 'key=fuzz.key']);
  zoneToolOk(store, ['--dnssec-kek', kek, 'set_zone_dnssec_policy', FUZZ_ZONES.signed, 'default']);

  const entry = dmsdEntry(compiled);
  if (!entry) throw new Error(compiled ? 'dist/daemon/main.js missing: run npm run build' : 'dmsd not found');
  const args = [
    ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
    entry,
    ...store,
    '--dnssec-kek',
    kek,
    '--listen',
    '127.0.0.1:0',
    '--no-http',
    // Errors only: refused updates and transfers are logged at info and TSIG failures at warn, millions of lines.
    '--log-level',
    'error',
    ...extra,
  ];
  // The "listening" line is logged at info, below --log-level error: the port is chosen here.
  const port = await freeUdpTcpPort();
  const idx = args.indexOf('127.0.0.1:0');
  args[idx] = `127.0.0.1:${port}`;
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const errors: string[] = [];
  let tail = '';
  let partial = '';
  const onData = (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail = (tail + line + '\n').slice(-8000);
      // Node's own diagnostic report (--report-on-signal, used to look at V8's heap spaces during a long run) is
      // not a dmsd log line and no error.
      if (line.startsWith('Writing Node.js report') || line === 'Node.js report completed' || line === '') continue;
      let level = 0;
      try {
        level = (JSON.parse(line) as { level?: number }).level ?? 0;
      } catch {
        level = 50; // not a log line: a crash trace
      }
      if (level >= 50 && errors.length < 1000) errors.push(line);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const srv: FuzzDmsd = {
    data,
    port,
    pid: proc.pid ?? 0,
    key,
    errors: () => errors,
    tail: () => tail + partial,
    exited: () => proc.exitCode ?? (proc.signalCode ? -1 : null),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      return proc.exitCode ?? -1;
    },
  };
  // Served: the signed zone's SOA answered with its RRSIG (signing done), and every other zone's SOA.
  const t0 = Date.now();
  for (;;) {
    if (srv.exited() !== null) throw new Error(`dmsd exited:\n${srv.tail()}`);
    const ok = await Promise.all(
      Object.values(FUZZ_ZONES).map(async (z) => {
        const r = await udpAsk(port, queryBytes(1, z, RRType.SOA, z === FUZZ_ZONES.signed), 300);
        if (!r || (r[3] & 0x0f) !== 0 || r.readUInt16BE(6) === 0) return false;
        return z !== FUZZ_ZONES.signed || decodeMessage(r).answer.some((rr) => rr.type === RRType.RRSIG);
      }),
    );
    if (ok.every(Boolean)) break;
    if (Date.now() - t0 > 60_000) throw new Error(`zones not served after 60 s:\n${srv.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return srv;
}

function freeUdpTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const udp = dgram.createSocket('udp4');
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => {
      const port = udp.address().port;
      const tcp = net.createServer();
      tcp.once('error', () => udp.close(() => resolve(freeUdpTcpPort())));
      tcp.listen({ port, host: '127.0.0.1', exclusive: true }, () => tcp.close(() => udp.close(() => resolve(port))));
    });
  });
}

function queryBytes(id: number, name: string, type: number, dnssec = false): Uint8Array {
  const m = emptyMessage(id);
  m.question.push({ name: Name.from(name), type, class: 1 });
  if (dnssec) m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: true, flags: 0, options: [] };
  return encodeMessage(m);
}

function udpAsk(port: number, payload: Uint8Array, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    const id = (payload[0] << 8) | payload[1];
    const t = setTimeout(() => {
      s.close();
      res(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      if (m.length < 2 || m.readUInt16BE(0) !== id) return;
      clearTimeout(t);
      s.close();
      res(m);
    });
    s.on('error', () => {});
    s.send(payload, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, payload: Uint8Array, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (v: Buffer | undefined) => {
      clearTimeout(t);
      s.destroy();
      res(v);
    };
    const t = setTimeout(() => done(undefined), timeoutMs);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload])));
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    s.on('error', () => done(undefined));
  });
}

/**
 * A legitimate query may wait this long before it counts as unanswered (a hang): 5 s, the stub resolver's default
 * timeout (RES_TIMEOUT of resolv.conf). The slowest answers are reported: on a loaded machine they take up to seconds.
 */
export const HANG_MS = 5000;

/** The legitimate client: www.example.test A answered NOERROR with the address, over UDP and TCP; milliseconds. */
export async function legitimateCheck(port: number, timeoutMs = HANG_MS): Promise<{ udpMs: number; tcpMs: number } | string> {
  const ok = (r: Buffer | undefined) => r !== undefined && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) === 1;
  let t0 = performance.now();
  let r: Buffer | undefined;
  // UDP may be lost on a flooded socket: up to three tries within the time allowed, as a stub resolver retries.
  for (let i = 0; i < 3 && !ok(r); i++) r = await udpAsk(port, queryBytes(0x4242 + i, 'www.example.test', RRType.A), timeoutMs / 3);
  if (!ok(r)) return `no UDP answer to www.example.test A within ${timeoutMs} ms (3 tries)`;
  const udpMs = performance.now() - t0;
  t0 = performance.now();
  r = await tcpAsk(port, queryBytes(0x4343, 'www.example.test', RRType.A), timeoutMs);
  if (!ok(r)) return `no TCP answer to www.example.test A within ${timeoutMs} ms`;
  return { udpMs, tcpMs: performance.now() - t0 };
}

/** Resident set size of a process in bytes (0 when gone). */
export function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Well-formed messages of every kind dmsd serves, for the fuzz zones; signed ones signed at `now`. */
export function liveSeeds(key: TsigKey, now: number): Uint8Array[] {
  const zones = Object.values(FUZZ_ZONES);
  const names = [
    ...zones,
    'www.example.test',
    'alias.example.test',
    'x.wild.example.test',
    'a.sub.example.test',
    '_sip._tcp.example.test',
    '129.128/26.2.0.192.in-addr.arpa',
    '131.128/26.2.0.192.in-addr.arpa',
    '129.2.0.192.in-addr.arpa',
    'www.signed.test',
    'nx.signed.test',
    'h.upd.test',
    'outside.invalid',
  ];
  const out = seedQueries(names);
  const wrong: TsigKey = { ...key, secret: Uint8Array.from(key.secret, (b) => b ^ 0x5a) };
  const other: TsigKey = { ...key, name: Name.from('unknown.key') };
  let id = 1000;
  const soaOf = (z: string, serial: number) => {
    const rd = new Uint8Array(22 + 20);
    // mname "." rname "." then serial, refresh, retry, expire, minimum
    rd[0] = 0;
    rd[1] = 0;
    const v = new DataView(rd.buffer);
    v.setUint32(2, serial);
    for (let i = 0; i < 4; i++) v.setUint32(6 + 4 * i, 3600);
    return { name: Name.from(z), type: RRType.SOA, class: 1, ttl: 300, rdata: rd.subarray(0, 22) };
  };
  const under = (label: string, z: string) => (z === '.' ? `${label}.` : `${label}.${z}`);
  const a = (last: number) => Uint8Array.from([192, 0, 2, last]);
  // Besides the zones served: names that cannot be a zone here (the root, white space in a label) or are not ours.
  for (const z of [...zones, '.', 'a\\032b.example.test', 'nx.invalid', 'sub.example.test']) {
    // NOTIFY (RFC 1996): SOA question, the new SOA in the answer.
    const notify = emptyMessage(id++);
    notify.opcode = 4;
    notify.aa = true;
    notify.question.push({ name: Name.from(z), type: RRType.SOA, class: 1 });
    notify.answer.push(soaOf(z, 5));
    // IXFR (RFC 1995): the client's SOA in the authority section.
    const ixfr = emptyMessage(id++);
    ixfr.question.push({ name: Name.from(z), type: RRType.IXFR, class: 1 });
    ixfr.authority.push(soaOf(z, 1));
    const axfr = emptyMessage(id++);
    axfr.question.push({ name: Name.from(z), type: RRType.AXFR, class: 1 });
    // UPDATE (RFC 2136): a prerequisite, an add, a delete of an RRset, a delete of one record.
    const upd = emptyMessage(id++);
    upd.opcode = 5;
    upd.question.push({ name: Name.from(z), type: RRType.SOA, class: 1 });
    upd.answer.push({ name: Name.from(under('h', z)), type: RRType.ANY, class: 255, ttl: 0, rdata: new Uint8Array(0) });
    upd.authority.push(
      { name: Name.from(under('h', z)), type: RRType.A, class: 1, ttl: 60, rdata: a(7) },
      { name: Name.from(under('t', z)), type: RRType.TXT, class: 255, ttl: 0, rdata: new Uint8Array(0) },
      { name: Name.from(under('h', z)), type: RRType.A, class: 254, ttl: 0, rdata: a(8) },
    );
    const upd2 = emptyMessage(id++);
    upd2.opcode = 5;
    upd2.question.push({ name: Name.from(z), type: RRType.SOA, class: 1 });
    upd2.authority.push({ name: Name.from(under('t', z)), type: RRType.TXT, class: 1, ttl: 60, rdata: Uint8Array.from([4, 0x66, 0x75, 0x7a, 0x7a]) });
    for (const m of [notify, ixfr, axfr, upd, upd2] as Message[]) {
      const bytes = encodeMessage(m);
      out.push(bytes);
      out.push(signMessage(bytes, key, now).bytes);
      out.push(signMessage(bytes, wrong, now).bytes);
      out.push(signMessage(bytes, other, now).bytes);
    }
  }
  return out;
}

export interface LiveFuzzReport {
  sent: number;
  udp: number;
  tcp: number;
  tcpConnections: number;
  batches: number;
  /** Slowest legitimate check after a batch (UDP, TCP) in milliseconds. */
  worstUdpMs: number;
  worstTcpMs: number;
  /**
   * RSS at the start: after dmsd served its zones and answered the warm-up (`warmup` legitimate queries over UDP and
   * TCP), then sat idle for `settleMs` — the state a daemon is in when it goes on the network. 0 without a warm-up:
   * then it is the RSS after the first batch (an older, looser definition).
   */
  rssStart: number;
  /**
   * With `warmStartAfter`: the RSS taken after the legitimate warm-up (the cold start, before any fuzzed packet);
   * `rssStart` is then the warm one. 0 otherwise.
   */
  rssCold: number;
  /** RSS after the traffic stopped and dmsd sat idle for `settleMs` (no forced garbage collection). */
  rssEnd: number;
  /** The highest RSS seen (samples every `sampleEveryMs` and after every batch). */
  rssMax: number;
  /** [seconds since the start, packets sent, RSS octets] every `sampleEveryMs`. */
  rssSamples: [number, number, number][];
  /** The hang probe: one legitimate UDP query a second throughout (retried within its timeout as a stub does). */
  probes: { sent: number; answered: number; worstMs: number; missed: number };
  seconds: number;
  failure?: string;
}

export interface LiveFuzzOptions {
  packets: number;
  seed?: number;
  /** Packets between two legitimate checks (default 2000). */
  batch?: number;
  /** Stop early (the report says so) after this long. */
  maxSeconds?: number;
  /** Legitimate queries answered before RSS is taken as the start (default 0: RSS after the first batch). */
  warmup?: number;
  /**
   * Take the start RSS again once this many fuzzed packets were sent (the traffic paused, dmsd idle `settleMs`): the
   * start of a daemon that has met this traffic, whose heap V8 has sized for it. Compared with the end it shows what
   * the rest of the run left behind; the cold start stays in the report (`rssCold`).
   */
  warmStartAfter?: number;
  /** Idle time before the start and before the end RSS (default 5000 ms). */
  settleMs?: number;
  /** The hang probe's period and timeout (defaults 1000 ms and HANG_MS). */
  probeEveryMs?: number;
  probeTimeoutMs?: number;
  /** RSS sample period (default 10,000 ms). */
  sampleEveryMs?: number;
  /** Called after each batch (progress). */
  onBatch?: (r: LiveFuzzReport) => void;
}

/**
 * The legitimate traffic of the warm-up: every served name and type the seeds hold, unmutated, over UDP (waiting for
 * each answer, so none is lost to a full socket) and every tenth over TCP; `n` queries in all.
 */
async function warmUp(srv: FuzzDmsd, n: number): Promise<void> {
  const names = ['www.example.test', 'mail.example.test', 'example.test', 'alias.example.test', 'x.wild.example.test', 'a.sub.example.test', '129.128/26.2.0.192.in-addr.arpa', 'www.signed.test', 'nx.signed.test', 'h.upd.test'];
  const types = [RRType.A, RRType.AAAA, RRType.MX, RRType.SOA, RRType.NS, RRType.TXT, RRType.PTR];
  const inFlight = 32;
  let i = 0;
  const one = async (k: number) => {
    const name = names[k % names.length];
    const type = types[Math.floor(k / names.length) % types.length];
    const q = queryBytes(k & 0xffff, name, type, k % 3 === 0);
    if (k % 10 === 9) await tcpAsk(srv.port, q, 2000);
    else await udpAsk(srv.port, q, 2000);
  };
  const worker = async () => {
    while (i < n) await one(i++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** One UDP socket asking www.example.test A every `everyMs`: a query not answered within `timeoutMs` (3 tries) is a hang. */
function hangProbe(port: number, everyMs: number, timeoutMs: number, onTick: () => void) {
  const st = { sent: 0, answered: 0, worstMs: 0, missed: 0 };
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  // id → [sent at (first try), last try at, tries]
  const pending = new Map<number, [number, number, number]>();
  let next = 0x6000;
  const q = (id: number) => queryBytes(id, 'www.example.test', RRType.A);
  sock.on('message', (m) => {
    if (m.length < 12) return;
    const p = pending.get(m.readUInt16BE(0));
    if (p === undefined || (m[3] & 0x0f) !== 0 || m.readUInt16BE(6) !== 1) return;
    pending.delete(m.readUInt16BE(0));
    st.answered++;
    st.worstMs = Math.max(st.worstMs, performance.now() - p[0]);
  });
  const retryAfter = timeoutMs / 3;
  const sweep = () => {
    const now = performance.now();
    for (const [id, p] of pending) {
      if (now - p[0] >= timeoutMs) {
        pending.delete(id);
        st.missed++;
      } else if (now - p[1] >= retryAfter && p[2] < 3) {
        p[1] = now;
        p[2]++;
        sock.send(q(id), port, '127.0.0.1');
      }
    }
  };
  const tick = setInterval(() => {
    sweep();
    const id = next++ & 0xffff || 1;
    pending.set(id, [performance.now(), performance.now(), 1]);
    sock.send(q(id), port, '127.0.0.1');
    st.sent++;
    onTick();
  }, everyMs);
  const fast = setInterval(sweep, 50);
  return {
    st,
    /** Wait for the outstanding probes (answered or timed out), then close. */
    async stop(): Promise<void> {
      clearInterval(tick);
      const until = performance.now() + timeoutMs + 100;
      while (pending.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
      sweep();
      st.missed += pending.size;
      clearInterval(fast);
      sock.close();
    },
  };
}

/** Fuzzing TCP connections open at once. */
const TCP_IN_FLIGHT = 48;

function sendTcp(port: number, packets: Uint8Array[], rnd: Rng): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const end = () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    };
    // Not waiting for every answer (mutated messages may get none): reading for a moment, then closing.
    const t = setTimeout(end, 150 + Math.floor(rnd() * 200));
    s.on('error', end);
    s.on('close', end);
    s.on('data', () => {});
    s.on('connect', () => {
      const framed: Buffer[] = packets.map((p) => {
        let len = p.length;
        // Now and then a length prefix that lies (longer or shorter than the message).
        if (rnd() < 0.03) len = Math.floor(rnd() * 65536);
        return Buffer.concat([Buffer.from([len >> 8, len & 0xff]), p]);
      });
      const all = Buffer.concat(framed);
      const how = rnd();
      if (how < 0.5) s.write(all); // pipelined in one write
      else {
        // Fragmented: random pieces, some of one octet, written in separate turns.
        let p = 0;
        const step = () => {
          if (s.destroyed || p >= all.length) return;
          const n = rnd() < 0.3 ? 1 : 1 + Math.floor(rnd() * 64);
          s.write(all.subarray(p, p + n));
          p += n;
          setImmediate(step);
        };
        step();
      }
    });
  });
}

/**
 * Send `packets` mutated messages to dmsd; checks after every batch, the hang probe every second and RSS samples
 * throughout; stops at the first failure (in the report). With `warmup`, RSS at the start is taken after it and an
 * idle `settleMs`; RSS at the end always after the traffic stopped and an idle `settleMs`.
 */
export async function runLiveFuzz(srv: FuzzDmsd, o: LiveFuzzOptions): Promise<LiveFuzzReport> {
  const rnd = prng(o.seed ?? 1);
  const batch = o.batch ?? 2000;
  const settleMs = o.settleMs ?? 5000;
  const sampleEvery = o.sampleEveryMs ?? 10_000;
  const r: LiveFuzzReport = {
    sent: 0, udp: 0, tcp: 0, tcpConnections: 0, batches: 0, worstUdpMs: 0, worstTcpMs: 0,
    rssStart: 0, rssCold: 0, rssEnd: 0, rssMax: 0, rssSamples: [], probes: { sent: 0, answered: 0, worstMs: 0, missed: 0 }, seconds: 0,
  };
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  if ((o.warmup ?? 0) > 0) {
    await warmUp(srv, o.warmup ?? 0);
    await sleep(settleMs);
    r.rssStart = rss(srv.pid);
  }
  const t0 = performance.now();
  let lastSample = -Infinity;
  const sample = () => {
    const now = performance.now();
    if (now - lastSample < sampleEvery) return;
    lastSample = now;
    const mem = rss(srv.pid);
    r.rssSamples.push([Math.round((now - t0) / 100) / 10, r.sent, mem]);
    r.rssMax = Math.max(r.rssMax, mem);
  };
  const probe = hangProbe(srv.port, o.probeEveryMs ?? 1000, o.probeTimeoutMs ?? HANG_MS, sample);
  r.probes = probe.st;
  let seedsAt = Date.now();
  let corpus = liveSeeds(srv.key, Math.floor(seedsAt / 1000));
  const tcpJobs = new Set<Promise<void>>();
  const udp = dgram.createSocket('udp4');
  udp.on('message', () => {});
  udp.on('error', () => {});
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  try {
    while (r.sent < o.packets) {
      // Signed seeds stay within the TSIG fudge (300 s): signed again every minute.
      if (Date.now() - seedsAt > 60_000) {
        seedsAt = Date.now();
        corpus = liveSeeds(srv.key, Math.floor(seedsAt / 1000));
      }
      const n = Math.min(batch, o.packets - r.sent);
      let tcpGroup: Uint8Array[] = [];
      const startTcp = async (group: Uint8Array[]) => {
        // Connections overlap batches (not waited for at each batch's end, which left both sides idle), at most
        // TCP_IN_FLIGHT at once: fewer than dmsd's per-source limit (100), so the checks' own connections get in.
        while (tcpJobs.size >= TCP_IN_FLIGHT) await Promise.race(tcpJobs);
        const job: Promise<void> = sendTcp(srv.port, group, rnd).then(() => {
          tcpJobs.delete(job);
        });
        tcpJobs.add(job);
        r.tcpConnections++;
      };
      for (let i = 0; i < n; i++) {
        const seed = corpus[Math.floor(rnd() * corpus.length)];
        // One in ten goes unmutated: the deep paths (a valid signed UPDATE, a transfer) get exercised too.
        const pkt = rnd() < 0.1 ? seed : mutate(seed, rnd, corpus);
        if (rnd() < 0.8) {
          if (pkt.length <= 65507) udp.send(pkt, srv.port, '127.0.0.1');
          r.udp++;
        } else {
          tcpGroup.push(pkt);
          r.tcp++;
          if (tcpGroup.length >= 1 + Math.floor(rnd() * 40)) {
            await startTcp(tcpGroup);
            tcpGroup = [];
          }
        }
        r.sent++;
        // Let the socket drain now and then (sends are queued in the kernel; a full buffer drops, not blocks).
        if (i % 200 === 199) await new Promise((res) => setImmediate(res));
      }
      if (tcpGroup.length > 0) await startTcp(tcpGroup);
      r.batches++;
      const check = await legitimateCheck(srv.port);
      const mem = rss(srv.pid);
      if (r.batches === 1 && r.rssStart === 0) r.rssStart = mem;
      r.rssMax = Math.max(r.rssMax, mem);
      r.seconds = (performance.now() - t0) / 1000;
      if (srv.exited() !== null) r.failure = `dmsd exited (${srv.exited()}) after ${r.sent} packets`;
      else if (typeof check === 'string') r.failure = `${check} after ${r.sent} packets`;
      else {
        r.worstUdpMs = Math.max(r.worstUdpMs, check.udpMs);
        r.worstTcpMs = Math.max(r.worstTcpMs, check.tcpMs);
      }
      if (probe.st.missed > 0 && !r.failure) r.failure = `hang: ${probe.st.missed} probe(s) unanswered within ${o.probeTimeoutMs ?? HANG_MS} ms by ${r.sent} packets`;
      if (srv.errors().length > 0 && !r.failure) r.failure = `dmsd logged errors after ${r.sent} packets`;
      o.onBatch?.(r);
      if (r.failure) break;
      if (o.warmStartAfter !== undefined && r.rssCold === 0 && r.sent >= o.warmStartAfter) {
        await Promise.all(tcpJobs);
        await sleep(settleMs);
        r.rssCold = r.rssStart;
        r.rssStart = rss(srv.pid);
      }
      if (o.maxSeconds !== undefined && r.seconds > o.maxSeconds) break;
    }
    await Promise.all(tcpJobs);
  } finally {
    udp.close();
  }
  // The traffic has stopped (the probe goes on): RSS once dmsd sat idle for settleMs.
  await sleep(settleMs);
  await probe.stop();
  r.rssEnd = rss(srv.pid);
  r.rssMax = Math.max(r.rssMax, r.rssEnd);
  r.rssSamples.push([Math.round((performance.now() - t0) / 100) / 10, r.sent, r.rssEnd]);
  if (!r.failure && srv.exited() !== null) r.failure = `dmsd exited (${srv.exited()}) after the traffic`;
  if (!r.failure && probe.st.missed > 0) r.failure = `hang: ${probe.st.missed} probe(s) unanswered within ${o.probeTimeoutMs ?? HANG_MS} ms`;
  return r;
}
