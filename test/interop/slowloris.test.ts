// Slowloris against the real dmsd (issue 15): 5,000 idle TCP connections and 500 senders dribbling one octet at a
// time, from ten loopback sources (127.0.0.2–.11), held open together; meanwhile a new client (127.0.0.1) is
// answered over UDP and TCP within normal latency (< 1 s, loaded machine), and afterwards dmsd's timeouts close every
// attacking connection (idle timeout for the idle ones, I/O timeout for the dribblers). Short timeouts via the flags;
// the connection limits are raised so that all 5,500 connections are really held at once (the limits themselves,
// closing the longest-idle connection first, are proven in test/unit/server-listeners.test.ts). Needs ~11,000 file
// descriptors in this process and in dmsd (ulimit -n; the test says so if the limit is lower).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import { emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { tcpExchange, udpExchange } from '../helpers/dns-client.js';
import { type RunningServer, startDmsd } from '../helpers/servers.js';

const IDLE = 15_000;
const IO = 2000;
let dir: string;
let srv: RunningServer;

function openFiles(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dms-slowloris-'));
  writeFileSync(join(dir, 'example.test'), '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\n');
  srv = await startDmsd(dir, ['example.test'], {
    extraArgs: ['--tcp-idle-timeout', String(IDLE / 1000), '--tcp-io-timeout', String(IO / 1000), '--tcp-max-clients', '20000', '--tcp-max-per-source', '0'],
  });
});
after(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function query(id: number): Uint8Array {
  const m = emptyMessage(id);
  m.question.push({ name: Name.from('www.example.test'), type: RRType.A, class: 1 });
  return encodeMessage(m);
}

function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

test('5,000 idle and 500 byte-at-a-time connections: a new client is answered at once; the timeouts close them all', async () => {
  assert.ok(openFiles() >= 12_000, `this test holds 5,500 connections: raise the open-files limit (ulimit -n ≥ 12000; now ${openFiles()})`);
  const attackers: net.Socket[] = [];
  const closedAt = new Map<net.Socket, number>();
  const frame = Buffer.concat([Buffer.from([0, query(1).length]), Buffer.from(query(1))]);
  const dribblers: net.Socket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < 5500; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, (_, k) => connectFrom(srv.tcpPort, `127.0.0.${2 + ((i + k) % 10)}`)));
    for (const s of batch) {
      s.on('error', () => {});
      s.on('close', () => closedAt.set(s, performance.now()));
      s.resume();
      attackers.push(s);
      if (attackers.length > 5000) dribblers.push(s);
    }
  }
  const setupMs = performance.now() - t0;
  // One octet every 250 ms per dribbler: a 30-octet query would take 7.5 s, beyond the I/O timeout.
  const pos = new Map<net.Socket, number>();
  const drip = setInterval(() => {
    for (const s of dribblers) {
      if (s.destroyed) continue;
      const p = pos.get(s) ?? 0;
      s.write(frame.subarray(p % frame.length, (p % frame.length) + 1));
      pos.set(s, p + 1);
    }
  }, 250);
  try {
    const openNow = attackers.filter((s) => !closedAt.has(s)).length;
    assert.ok(openNow >= 5000, `${openNow} attacking connections open after ${setupMs} ms of set-up`);
    // The new client, several times while the attack goes on.
    const worst = { udp: 0, tcp: 0 };
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      const u = await udpExchange(srv.port, query(100 + i), 1000);
      worst.udp = Math.max(worst.udp, performance.now() - t);
      assert.equal(u[3] & 0x0f, 0);
      t = performance.now();
      const r = await tcpExchange(srv.tcpPort, query(200 + i), 1000);
      worst.tcp = Math.max(worst.tcp, performance.now() - t);
      assert.equal(r[3] & 0x0f, 0);
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(worst.udp < 1000 && worst.tcp < 1000, JSON.stringify(worst));
    // The dribblers go at the I/O timeout, the idle ones at the idle timeout (plus set-up and a loaded machine).
    const deadline = performance.now() + IDLE + 10_000;
    while (closedAt.size < attackers.length && performance.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.equal(closedAt.size, attackers.length, `${attackers.length - closedAt.size} attacking connections still open`);
    const dribblerClose = Math.max(...dribblers.map((s) => (closedAt.get(s) ?? 0) - t0));
    assert.ok(dribblerClose < setupMs + IO + 3000, `dribblers closed by ${dribblerClose} ms (set-up ${setupMs} ms)`);
    console.log(JSON.stringify({ setupMs: Math.round(setupMs), worstUdpMs: worst.udp, worstTcpMs: worst.tcp, dribblersClosedByMs: Math.round(dribblerClose) }));
  } finally {
    clearInterval(drip);
    for (const s of attackers) s.destroy();
  }
});
