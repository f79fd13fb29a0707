// TCP listener limits in process (127.0.0.x only): idle timeout, dribbled bytes do not keep a connection alive, the
// I/O timeout, connection limits (total: the longest-idle closed; per source), fair pipelining, async handlers
// answered in order; UDP and TCP on one port with port 0.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { listenTcp, TcpGuard } from '../../src/server/listeners.js';
import { QueryHandler } from '../../src/server/query.js';
import { parseListenAddress, startDnsServer } from '../../src/server/server.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const log = pino({ level: 'silent' });
const table = new ZoneTable();
{
  const o = Name.from('example.test');
  table.set(compileZone(o, parseZoneText('@ SOA ns host 1 2 3 4 5\nwww A 192.0.2.1\n', { origin: o, defaultTtl: 60 }).records));
}

function q(id: number, name = 'www.example.test', type: number = RRType.A): Buffer {
  const m = emptyMessage(id);
  m.question.push({ name: Name.from(name), type, class: 1 });
  const b = encodeMessage(m);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function closed(s: net.Socket): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => s.on('close', () => resolve(performance.now() - t0)));
}

test('idle TCP connections are closed; dribbling bytes does not count as activity', async () => {
  const l = await listenTcp(new QueryHandler(table), { address: '127.0.0.1', port: 0 }, log, { tcpIdleMs: 300 });
  try {
    const a = await connect(l.port);
    const aClosed = closed(a);
    a.resume();
    const ms = await aClosed;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    const b = await connect(l.port);
    const bClosed = closed(b);
    b.resume();
    // A 200-octet frame announced, then one octet every 100 ms: never a complete message in time.
    b.write(Buffer.from([0, 200]));
    const dribble = setInterval(() => b.writable && b.write(Buffer.from([0])), 100);
    const msB = await bClosed;
    clearInterval(dribble);
    assert.ok(msB < 3000, `dribbling connection closed after ${msB} ms`);
    // A frame shorter than a header ends the connection at once.
    const c = await connect(l.port);
    const cClosed = closed(c);
    c.resume();
    c.write(Buffer.from([0, 0]));
    assert.ok((await cClosed) < 250);
  } finally {
    await l.close();
  }
});

/** Read framed responses from `s`; resolves with the ids once `n` arrived. */
function readIds(s: net.Socket, n: number): Promise<number[]> {
  const ids: number[] = [];
  let buf = Buffer.alloc(0);
  return new Promise((resolve) =>
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        ids.push(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))).id);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (ids.length >= n) resolve(ids);
    }),
  );
}

function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.on('error', reject);
  });
}

test('connection limit: a new connection closes the longest-idle one and is served; all busy: refused', async () => {
  const h = new QueryHandler(table);
  // AXFR answered only when released: keeps a connection busy.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  h.qtypeHandlers.set(RRType.AXFR, async (req) => {
    await held;
    return encodeMessage({ ...req.message, qr: true });
  });
  const guard = new TcpGuard({ tcpMaxClients: 2, tcpMaxPerSource: 0, tcpIdleMs: 5000 });
  const l = await listenTcp(h, { address: '127.0.0.1', port: 0 }, log, { tcpGuard: guard });
  try {
    const a = await connect(l.port);
    a.resume();
    const aClosed = closed(a);
    await new Promise((r) => setTimeout(r, 20));
    const b = await connect(l.port);
    b.resume();
    await new Promise((r) => setTimeout(r, 50));
    // c arrives at the limit: a (idle the longest) is closed, c is served.
    const c = await connect(l.port);
    assert.ok((await aClosed) < 2000);
    const cIds = readIds(c, 1);
    c.write(q(9));
    assert.deepEqual(await cIds, [9]);
    // b and c busy (a transfer each): d is refused at once, b and c go on.
    const bIds = readIds(b, 2);
    b.write(Buffer.concat([q(1, 'example.test', RRType.AXFR), q(2)]));
    c.write(q(3, 'example.test', RRType.AXFR));
    await new Promise((r) => setTimeout(r, 50));
    const d = await connect(l.port).catch(() => undefined);
    if (d) {
      d.resume();
      assert.ok((await closed(d)) < 2000);
    }
    release();
    assert.deepEqual(await bIds, [1, 2]);
    const st = guard.stats();
    assert.equal(st.evicted, 1);
    assert.equal(st.refused, 1);
    b.destroy();
    c.destroy();
  } finally {
    await l.close();
  }
});

test('per-source limit: a source past it loses its own longest-idle connection, other sources are untouched', async () => {
  const guard = new TcpGuard({ tcpMaxClients: 100, tcpMaxPerSource: 2, tcpIdleMs: 5000 });
  const l = await listenTcp(new QueryHandler(table), { address: '127.0.0.1', port: 0 }, log, { tcpGuard: guard });
  try {
    const other = await connectFrom(l.port, '127.0.0.1');
    other.resume();
    await new Promise((r) => setTimeout(r, 20));
    const x1 = await connectFrom(l.port, '127.0.0.2');
    x1.resume();
    const x1Closed = closed(x1);
    await new Promise((r) => setTimeout(r, 20));
    const x2 = await connectFrom(l.port, '127.0.0.2');
    x2.resume();
    await new Promise((r) => setTimeout(r, 20));
    const x3 = await connectFrom(l.port, '127.0.0.2');
    assert.ok((await x1Closed) < 2000, 'the oldest connection of 127.0.0.2 closed');
    const ids = readIds(other, 1);
    other.write(q(5));
    assert.deepEqual(await ids, [5], 'the connection from 127.0.0.1 (older still) is served');
    assert.equal(guard.stats().open, 3);
    for (const s of [other, x2, x3]) s.destroy();
  } finally {
    await l.close();
  }
});

test('I/O timeout: a message dribbled one octet at a time is cut after tcpIoMs, however short the gaps', async () => {
  const guard = new TcpGuard({ tcpIdleMs: 60_000, tcpIoMs: 400 });
  const l = await listenTcp(new QueryHandler(table), { address: '127.0.0.1', port: 0 }, log, { tcpGuard: guard });
  try {
    const s = await connect(l.port);
    s.resume();
    const done = closed(s);
    const frameBytes = q(7);
    let i = 0;
    // One octet every 20 ms (far under the idle timeout): a 40-octet query would take ~800 ms.
    const t = setInterval(() => {
      if (s.writable && i < frameBytes.length) s.write(frameBytes.subarray(i, ++i));
    }, 20);
    const ms = await done;
    clearInterval(t);
    assert.ok(ms >= 350 && ms < 2000, `closed after ${ms} ms`);
    assert.equal(guard.stats().ioTimeouts, 1);
    // A message fragmented into single octets sent at once is assembled and answered.
    const f = await connect(l.port);
    const ids = readIds(f, 2);
    const two = Buffer.concat([q(11), q(12)]);
    for (let k = 0; k < two.length; k++) f.write(two.subarray(k, k + 1));
    assert.deepEqual(await ids, [11, 12]);
    f.destroy();
  } finally {
    await l.close();
  }
});

test('pipelining is fair: 5,000 queries on one connection do not hold up a query on another', async () => {
  const h = new QueryHandler(table);
  // Every answer a little late (like an UPDATE waiting for the database).
  h.qtypeHandlers.set(RRType.AXFR, async (req) => {
    await new Promise((r) => setTimeout(r, 1));
    return encodeMessage({ ...req.message, qr: true });
  });
  const guard = new TcpGuard({ tcpMaxInFlight: 8 });
  const l = await listenTcp(h, { address: '127.0.0.1', port: 0 }, log, { tcpGuard: guard });
  try {
    const hog = await connect(l.port);
    const N = 5000;
    const hogIds = readIds(hog, N);
    const frames: Buffer[] = [];
    for (let i = 0; i < N; i++) frames.push(q(i, 'example.test', RRType.AXFR));
    hog.write(Buffer.concat(frames));
    await new Promise((r) => setTimeout(r, 30));
    const other = await connect(l.port);
    const t0 = performance.now();
    const ids = readIds(other, 1);
    other.write(q(60000));
    assert.deepEqual(await ids, [60000]);
    const ms = performance.now() - t0;
    const all = await hogIds;
    const hogDone = performance.now() - t0;
    assert.equal(all.length, N);
    assert.deepEqual(all.slice(0, 5), [0, 1, 2, 3, 4], 'in order');
    assert.ok(ms < hogDone / 4, `the other connection waited ${ms} ms; the hog's answers took ${hogDone} ms`);
    hog.destroy();
    other.destroy();
  } finally {
    await l.close();
  }
});

test('asynchronous handlers keep the response order on a connection', async () => {
  const h = new QueryHandler(table);
  // AXFR answered late: the A query pipelined behind it must come after.
  h.qtypeHandlers.set(RRType.AXFR, async (req) => {
    await new Promise((r) => setTimeout(r, 150));
    return [encodeMessage({ ...req.message, qr: true }), encodeMessage({ ...req.message, qr: true })];
  });
  const l = await listenTcp(h, { address: '127.0.0.1', port: 0 }, log);
  try {
    const s = await connect(l.port);
    const ids: number[] = [];
    let buf = Buffer.alloc(0);
    const done = new Promise<void>((resolve) =>
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          ids.push(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))).id);
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (ids.length === 5) resolve();
      }),
    );
    s.write(Buffer.concat([q(1), q(2, 'example.test', RRType.AXFR), q(3), q(4)]));
    await done;
    assert.deepEqual(ids, [1, 2, 2, 3, 4]);
    s.destroy();
  } finally {
    await l.close();
  }
});

test('port 0: UDP and TCP share the chosen port; listen addresses parse', async () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:53'), { address: '127.0.0.1', port: 53 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { address: '::1', port: 0 });
  assert.throws(() => parseListenAddress('::1'));
  assert.throws(() => parseListenAddress('1.2.3.4:70000'));
  const srv = await startDnsServer(table, log, { listen: [{ address: '127.0.0.1', port: 0 }] });
  try {
    const [udp, tcp] = srv.listening;
    assert.equal(udp.proto, 'udp');
    assert.equal(tcp.proto, 'tcp');
    assert.equal(udp.port, tcp.port);
    const s = dgram.createSocket('udp4');
    const r = await new Promise<Buffer>((resolve) => {
      s.on('message', resolve);
      s.send(q(42).subarray(2), udp.port, '127.0.0.1');
    });
    s.close();
    assert.equal(decodeMessage(r).id, 42);
  } finally {
    await srv.close();
  }
});
