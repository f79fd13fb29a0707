// Issue 15 on a real dmsd: DNS Cookies with dig +cookie and kdig +cookie (a server cookie learnt and accepted, a
// garbled one replaced, a malformed length answered FORMERR, TCP, a second dmsd on the same database accepting the
// first one's cookie, BADCOOKIE from a rate-limited prefix that dig retries through), and the flood test: one source
// flooding UDP at the highest rate the machine sends from one source while another source (another /24 on loopback)
// sends normal queries; the normal source gets ≥ 99% answers and the flooder's responses are limited as configured
// (answers vs TC slips vs drops, from the flooder's side and from /metrics). The same flood against knotd with
// mod-rrl, its figures printed beside dmsd's.
//
// "The highest rate the machine can send" is defined as one UDP socket in one thread sending the query back to back,
// as fast as the kernel takes datagrams from it (test/helpers/flood.ts): on loopback the kernel delivers each
// datagram into the server's socket in the sender's own time, so this is what one source can do with one core. More
// sending threads are not one source any more, and on 2 cores a second one takes the core the server runs on (the
// test would then measure CPU starvation, not RRL). Measured here: 40,000–140,000 queries/s depending on the load.
//
// Where the normal source's losses happen: datagrams the kernel drops at the server's socket because its receive
// queue is full (the socket's "drops" in /proc/net/udp, counted in UdpRcvbufErrors), never at the client. The
// figures printed give both servers' socket drops during the flood.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { buildQuery, query, udpExchange } from '../helpers/dns-client.js';
import { listeningPort, type Server, sqliteArgs, startDmsdDb } from '../helpers/dmsd-db.support.js';
import { flood, knotRrlConf } from '../helpers/flood.js';
import { freePort, REPO_ROOT, type RunningServer, spawnLogged, startDmsd } from '../helpers/servers.js';

const ZONE = 'example.org'; // the shipped example, published into an empty database
const RATE = 100;

function digAt(port: number, args: string[], from?: string): string {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...(from ? ['-b', from] : []), ...args], { encoding: 'utf8', timeout: 15_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

function kdigAt(port: number, args: string[], from?: string): string {
  const r = spawnSync('kdig', ['@127.0.0.1', '-p', String(port), '+retry=0', '+time=2', ...(from ? ['-b', from] : []), ...args], { encoding: 'utf8', timeout: 15_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** The COOKIE dig or kdig printed (client + server, hex, lower case) and dig's verdict on it. */
function cookieOf(out: string): { cookie: string; good: boolean } | undefined {
  const m = /;\s*COOKIE:\s*([0-9a-fA-F]+)(\s*\(good\))?/.exec(out);
  return m ? { cookie: m[1].toLowerCase(), good: m[2] !== undefined } : undefined;
}

const status = (out: string) => /status: ([A-Z]+)/.exec(out)?.[1];

let data: string;
let srv: Server;
let srv2: Server;
let metricsUrl: string;

before(async () => {
  data = mkdtempSync(join(tmpdir(), 'dms-rrl-'));
  const conf = join(data, 'dmsd.conf');
  // slip 2: every second limited response goes out truncated; a short window so the test's sources recover quickly.
  writeFileSync(conf, 'rrl_slip = 2\nrrl_window = 5\nrrl_ipv4_prefix = 24\nserver_identity = ns-test-1.example\nserver_version = none\nnsid = ams-3\n');
  srv = await startDmsdDb(sqliteArgs(data), ['--http', '127.0.0.1:0', '--rrl', String(RATE), '--config', conf]);
  metricsUrl = `http://127.0.0.1:${await listeningPort(srv, 'http')}/metrics`;
  // A second instance on the same database (RRL off): cookies must be interchangeable.
  srv2 = await startDmsdDb(sqliteArgs(data), ['--no-http']);
});

after(async () => {
  await srv?.stop('SIGTERM');
  await srv2?.stop('SIGTERM');
  rmSync(data, { recursive: true, force: true });
});

describe('what the server tells of itself, and EXPIRE, with dig and kdig', () => {
  test('CHAOS TXT id.server / hostname.bind: server_identity, else the host name; version.bind: hidden by server_version = none, else "DMS …"', () => {
    const txt = (out: string) => /^\S+\s+0\s+CH\s+TXT\s+"([^"]*)"/m.exec(out)?.[1];
    const id = digAt(srv.port, ['CH', 'TXT', 'id.server'], '127.0.13.1');
    assert.equal(txt(id), 'ns-test-1.example', id);
    assert.equal(txt(kdigAt(srv.port, ['CH', 'TXT', 'hostname.bind'], '127.0.13.1')), 'ns-test-1.example');
    assert.equal(status(digAt(srv.port, ['CH', 'TXT', 'version.bind'], '127.0.13.1')), 'REFUSED');
    // The second instance has no configuration file: the defaults.
    assert.equal(txt(digAt(srv2.port, ['CH', 'TXT', 'id.server'], '127.0.13.1')), hostname());
    assert.match(txt(kdigAt(srv2.port, ['CH', 'TXT', 'version.server'], '127.0.13.1')) ?? '', /^DMS \d+\.\d+/);
  });

  test('dig +nsid and kdig +nsid get the configured NSID (RFC 5001); without one configured, none', () => {
    const out = digAt(srv.port, ['+nsid', ZONE, 'SOA'], '127.0.13.3');
    assert.match(out, /; NSID: 61 6d 73 2d 33 \("ams-3"\)/, out);
    assert.match(kdigAt(srv.port, ['+nsid', ZONE, 'SOA'], '127.0.13.3'), /NSID: 616D732D33 "ams-3"/i);
    const none = digAt(srv2.port, ['+nsid', ZONE, 'SOA'], '127.0.13.3');
    assert.equal(status(none), 'NOERROR', none);
    assert.doesNotMatch(none, /NSID/);
  });

  test('dig +expire on the zone\'s SOA: the SOA EXPIRE (RFC 7314); kdig +expire too', () => {
    const out = digAt(srv.port, ['+expire', ZONE, 'SOA'], '127.0.13.2');
    const expire = /\s(\d+)\s+\d+\s*$/m.exec(/^\S+\s+\d+\s+IN\s+SOA\s+.*$/m.exec(out)?.[0] ?? "")?.[1];
    assert.ok(expire, out);
    assert.match(out, new RegExp(`; EXPIRE: ${expire} `), out);
    assert.match(kdigAt(srv.port, ['+expire', ZONE, 'SOA'], '127.0.13.2'), new RegExp(`EXPIRE: ${expire} `));
  });
});

describe('DNS Cookies (RFC 7873, RFC 9018) with dig and kdig', () => {
  test('dig +cookie learns a server cookie; sent back it is accepted ("good") and echoed; TCP too', () => {
    const first = digAt(srv.port, ['+cookie', ZONE, 'SOA'], '127.0.10.1');
    assert.equal(status(first), 'NOERROR', first);
    const c = cookieOf(first);
    assert.ok(c, first);
    assert.equal(c.cookie.length, 48, 'client cookie (8) + RFC 9018 server cookie (16)');
    assert.ok(c.good, first);
    assert.equal(c.cookie.slice(16, 18), '01', 'version 1');
    const second = digAt(srv.port, [`+cookie=${c.cookie}`, ZONE, 'SOA'], '127.0.10.1');
    assert.equal(status(second), 'NOERROR', second);
    assert.match(second, /ANSWER: 1/);
    assert.deepEqual(cookieOf(second), { cookie: c.cookie, good: true }, second);
    // The other dmsd on the same database knows the secret: the same cookie is valid there (echoed unchanged).
    const other = digAt(srv2.port, [`+cookie=${c.cookie}`, ZONE, 'SOA'], '127.0.10.1');
    assert.deepEqual(cookieOf(other), { cookie: c.cookie, good: true }, other);
    // From another address the cookie is not valid: answered, with a new server cookie.
    const moved = digAt(srv.port, [`+cookie=${c.cookie}`, ZONE, 'SOA'], '127.0.11.1');
    assert.equal(status(moved), 'NOERROR');
    assert.notEqual(cookieOf(moved)?.cookie, c.cookie);
    const tcp = digAt(srv.port, ['+tcp', '+cookie', ZONE, 'SOA'], '127.0.10.1');
    assert.equal(cookieOf(tcp)?.cookie.length, 48, tcp);
  });

  test('dig +header-only +cookie (no question) gets a server cookie: NOERROR (RFC 7873 §5.4); without the cookie FORMERR', () => {
    const out = digAt(srv.port, ['+cookie', '+header-only'], '127.0.12.1');
    assert.equal(status(out), 'NOERROR', out);
    assert.ok(cookieOf(out)?.cookie.length === 48, out);
    assert.equal(status(digAt(srv.port, ['+nocookie', '+header-only'], '127.0.12.1')), 'FORMERR');
  });

  test('kdig +cookie gets a server cookie and is accepted with it', () => {
    const first = kdigAt(srv.port, ['+cookie', ZONE, 'SOA'], '127.0.12.1');
    assert.equal(status(first), 'NOERROR', first);
    const c = cookieOf(first);
    assert.ok(c && c.cookie.length === 48, first);
    const second = kdigAt(srv.port, [`+cookie=${c.cookie}`, ZONE, 'SOA'], '127.0.12.1');
    assert.equal(status(second), 'NOERROR', second);
    assert.equal(cookieOf(second)?.cookie, c.cookie, second);
  });

  test('a garbled server cookie: answered normally with a fresh valid cookie; a malformed length: FORMERR', () => {
    const c = cookieOf(digAt(srv.port, ['+cookie', ZONE, 'SOA'], '127.0.13.1'))!.cookie;
    const garbled = c.slice(0, 40) + (c.slice(40) === 'ffffffff' ? '00000000' : 'ffffffff');
    const out = digAt(srv.port, [`+cookie=${garbled}`, ZONE, 'SOA'], '127.0.13.1');
    assert.equal(status(out), 'NOERROR', out);
    assert.match(out, /ANSWER: 1/);
    const fresh = cookieOf(out)!;
    assert.notEqual(fresh.cookie, garbled);
    assert.equal(fresh.cookie.slice(0, 16), c.slice(0, 16));
    // The fresh one is accepted as is.
    assert.equal(cookieOf(digAt(srv.port, [`+cookie=${fresh.cookie}`, ZONE, 'SOA'], '127.0.13.1'))?.cookie, fresh.cookie);
    for (const bad of ['0102030405', '0102030405060708090a']) {
      const r = digAt(srv.port, [`+cookie=${bad}`, ZONE, 'SOA'], '127.0.13.1');
      assert.equal(status(r), 'FORMERR', `${bad.length / 2} octets:\n${r}`);
    }
  });

  test('COOKIE lengths dig will not send (0, 41 octets): FORMERR from raw queries', async () => {
    for (const n of [0, 41]) {
      const m = emptyMessage(99);
      m.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: 1 }];
      m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: [{ code: 10, data: new Uint8Array(n).fill(7) }] };
      const r = decodeMessage(await udpExchange(srv.port, encodeMessage(m), 2000));
      assert.equal(r.rcode, Rcode.FORMERR, `${n} octets`);
      assert.equal(r.answer.length, 0);
    }
  });

  test('a rate-limited prefix gets BADCOOKIE with a server cookie; dig retries with it and is answered (exempt)', async () => {
    // Exhaust 127.0.14.0/24's credit for answers (more than RATE in well under a second).
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.14.1', () => r()));
    const q = buildQuery({ name: Name.from(ZONE), type: RRType.SOA, id: 7 });
    // window 5 s × RATE of debt: the prefix stays limited for seconds, through dig's retries.
    for (let i = 0; i < RATE * 15; i++) sock.send(q, srv.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    // slip 2: of two consecutive limited queries one is dropped and one slipped (here: BADCOOKIE, the query had a
    // client cookie); dig then retries with the server cookie it got, which exempts it.
    const out = digAt(srv.port, ['+cookie', ZONE, 'SOA', '+tries=3', '+time=1'], '127.0.14.1');
    assert.match(out, /BADCOOKIE, retrying/, out);
    assert.equal(status(out.slice(out.lastIndexOf('Got answer'))), 'NOERROR', out);
    assert.ok(cookieOf(out)?.good, out);
    // Without a cookie the same prefix is still limited (dropped or truncated).
    const plain = digAt(srv.port, ['+nocookie', '+ignore', ZONE, 'SOA'], '127.0.14.1');
    assert.ok(/flags: qr[^;]*\btc\b/.test(plain) || /timed out|no servers could be reached/.test(plain), plain);
  });
});


/**
 * Normal queries from `from`, one every `everyMs` for `ms`, as a stub resolver asks: a query unanswered after a
 * second is sent once more (a new id). Counted: queries answered (an answer, not a truncated slip) at the first try,
 * and at all, within the run plus two grace seconds; the slowest answer. No per-query timers (a sweep every 100 ms):
 * on a loaded machine a late timer would discard an answer that did arrive.
 */
async function normalClient(port: number, from: string, ms: number, everyMs: number): Promise<{ sent: number; first: number; answered: number; truncated: number; maxMs: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from, () => r()));
  // id → [query number, sent at, retry?]
  const pending = new Map<number, [number, number, boolean]>();
  const done = new Set<number>();
  let first = 0;
  let truncated = 0;
  let maxMs = 0;
  let nextId = 0;
  const ask = (n: number, retry: boolean) => {
    const id = nextId++ & 0xffff;
    sock.send(buildQuery({ name: Name.from(`mail.${ZONE}`), type: RRType.A, id }), port, '127.0.0.1');
    pending.set(id, [n, Date.now(), retry]);
  };
  sock.on('message', (m) => {
    const id = (m[0] << 8) | m[1];
    const p = pending.get(id);
    if (p === undefined) return;
    pending.delete(id);
    if (m[2] & 0x02) truncated++;
    if (!(m[2] & 0x02) && (m[3] & 0x0f) === 0 && ((m[6] << 8) | m[7]) > 0 && !done.has(p[0])) {
      done.add(p[0]);
      if (!p[2]) first++;
      maxMs = Math.max(maxMs, Date.now() - p[1]);
    }
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, [n, at, retry]] of pending)
      if (now - at > 1000) {
        pending.delete(id);
        if (!retry && !done.has(n)) ask(n, true);
      }
  }, 100);
  let sent = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    ask(sent++, false);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await new Promise((r) => setTimeout(r, 2200));
  clearInterval(sweep);
  sock.close();
  return { sent, first, answered: done.size, truncated, maxMs };
}

/** dms_dns_rrl_responses_total from /metrics as "class|action" → count. */
async function rrlMetrics(): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^dms_dns_rrl_responses_total\{class="(\w+)",action="(\w+)"\} (\d+)/gm)) out.set(`${m[1]}|${m[2]}`, Number(m[3]));
  return out;
}

const FLOOD_MS = 3000;

/** Datagrams the kernel dropped at the UDP sockets bound to `port` (the "drops" column of /proc/net/udp and udp6). */
function socketDrops(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length >= 13 && c[1].endsWith(hex)) n += Number(c[12]);
    }
  }
  return n;
}

type NormalCounts = Awaited<ReturnType<typeof normalClient>>;
/** One flood round: the flooder's counts, the normal source's, the server socket's drops, the load average. */
interface Round {
  f: Awaited<ReturnType<typeof flood>>;
  n: NormalCounts;
  drops: number;
  load: string;
}

async function floodRound(port: number): Promise<Round> {
  const d0 = socketDrops(port);
  const [f, n] = await Promise.all([flood(port, '127.0.0.1', FLOOD_MS, `www.${ZONE}`), normalClient(port, '127.1.0.1', FLOOD_MS, 20)]);
  return { f, n, drops: socketDrops(port) - d0, load: loadavg().map((x) => x.toFixed(1)).join(' ') };
}

const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
function roundText(name: string, r: Round): string {
  return (
    `${name.padEnd(14)} flood ${r.f.sent} sent (${Math.round(r.f.sent / (FLOOD_MS / 1000))}/s): ${r.f.answers} answers, ${r.f.truncated} TC; ` +
    `normal ${r.n.answered}/${r.n.sent} = ${pct(r.n.answered, r.n.sent)} (first try ${pct(r.n.first, r.n.sent)}, slowest ${r.n.maxMs} ms); ` +
    `server socket drops ${r.drops}; load ${r.load}`
  );
}

/** The figures of both servers, printed side by side after the knotd round. */
const figures = new Map<string, Round[]>();

describe('flood: one source flooding, another asking normally', () => {
  test('dmsd --rrl: the normal source gets ≥ 99% answers; the flooder gets its rate, then TC on every 2nd, the rest dropped', async () => {
    const before = await rrlMetrics();
    let r = await floodRound(srv.port);
    const rounds = [r];
    // A loaded machine (load average above the cores) may keep dmsd off the CPU long enough for its socket queue
    // (about 10,000 queries) to overflow: the kernel drops datagrams of both sources then. Only in that case (drops
    // counted at dmsd's socket, and the machine overloaded — or the drops a twentieth of the flood or more, as when
    // another test suite shared the two cores and the 1-minute load average had not caught up: seen in CI, 116,483
    // of 727,616 dropped at load 1.5, against ~2,000 alone) is the round measured once more; both rounds' figures print.
    const starved = r.drops > 0 && (loadavg()[0] > cpus().length || r.drops >= r.f.sent / 20);
    if (r.n.answered < 0.99 * r.n.sent && starved) {
      await new Promise((res) => setTimeout(res, 5500)); // rrl_window 5 s: the flooder's debt expires
      r = await floodRound(srv.port);
      rounds.push(r);
    }
    figures.set('dmsd --rrl', rounds);
    const m = await rrlMetrics();
    const d = (k: string) => (m.get(k) ?? 0) - (before.get(k) ?? 0);
    for (const x of rounds) console.log(roundText('dmsd --rrl', x));
    console.log(`dmsd /metrics over the round(s): passed ${d('answer|passed')}, slipped ${d('answer|slipped')}, dropped ${d('answer|dropped')}`);
    const { f, n } = r;
    assert.ok(n.sent >= 50, `normal client sent ${n.sent}`);
    // RRL never touched the normal source (a limited response would have come back truncated every second time)...
    assert.equal(n.truncated, 0, 'the normal source was never rate limited');
    // ...and it is answered (a query unanswered after a second is asked once more, as a stub resolver does).
    assert.ok(n.answered >= 0.99 * n.sent, `normal source answered ${n.answered} of ${n.sent} (${r.drops} datagrams dropped at dmsd's socket)`);
    assert.ok(f.sent > 20 * RATE, `the flood is a flood (${f.sent} sent)`);
    // The flooder's answers: at most its rate for the burst plus a second's worth per second of flood (BIND's bucket
    // keeps a flooding source in debt, so in practice only the first burst).
    assert.ok(f.answers <= RATE * (FLOOD_MS / 1000 + 1), `flooder got ${f.answers} answers`);
    if (rounds.length === 1) assert.ok(f.answers >= RATE * 0.5, `flooder got its first burst (${f.answers})`);
    // slip 2: as many limited responses sent truncated as dropped (±1 per bucket), and the flooder received those.
    const slipped = d('answer|slipped');
    const dropped = d('answer|dropped');
    assert.ok(slipped > 0 && Math.abs(slipped - dropped) <= 2 * rounds.length, `slipped ${slipped}, dropped ${dropped}`);
    const tc = rounds.reduce((a, x) => a + x.f.truncated, 0);
    assert.ok(tc <= slipped && tc >= slipped * 0.8, `flooder saw ${tc} TC of ${slipped} slipped`);
    const answered = rounds.reduce((a, x) => a + x.n.answered + x.f.answers, 0);
    assert.ok(d('answer|passed') >= answered - 5);
  });

  test('knotd with mod-rrl under the same flood (diagnostic)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dms-knot-rrl-'));
    const port = await freePort();
    const conf = knotRrlConf(dir, port, RATE, ZONE, join(REPO_ROOT, 'examples', `${ZONE}.zone`));
    writeFileSync(join(dir, 'knot.conf'), conf);
    const k = spawnLogged('knotd', ['-c', join(dir, 'knot.conf')], { dir });
    t.after(() => k.stop());
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await query(port, { name: Name.from(ZONE), type: RRType.SOA }, 300)).msg?.aa) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`knotd not ready:\n${k.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await floodRound(port);
    figures.set('knotd mod-rrl', [r]);
    console.log(`the same flood (${FLOOD_MS} ms, rate ${RATE}, slip 2), side by side:`);
    for (const [name, rounds] of figures) for (const x of rounds) console.log(roundText(name, x));
    // Sanity only (knotd is the reference, not under test): it did limit the flood.
    assert.ok(r.f.answers + r.f.truncated < r.f.sent, 'knotd limited the flood');
  });
});

describe('--workers 2', () => {
  let w: RunningServer;
  before(async () => {
    w = await startDmsd(join(REPO_ROOT, 'examples'), [ZONE], { workers: 2, extraArgs: ['--rrl', String(RATE)] });
  });
  after(async () => {
    await w?.stop();
  });

  test('every worker accepts the cookie another made (one secret for all workers)', () => {
    const first = digAt(w.port, ['+cookie', ZONE, 'SOA'], '127.0.20.1');
    assert.equal(status(first), 'NOERROR', first);
    const c = cookieOf(first)!.cookie;
    // Queries land on either worker (they share the socket): all of them echo the cookie as valid.
    for (let i = 0; i < 20; i++) {
      const out = digAt(w.port, [`+cookie=${c}`, ZONE, 'SOA'], '127.0.20.1');
      assert.equal(status(out), 'NOERROR', out);
      assert.deepEqual(cookieOf(out), { cookie: c, good: true }, out);
    }
  });
});
