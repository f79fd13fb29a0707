// TCP listener limits in process (127.0.0.1 only): idle timeout, dribbled bytes do not keep a connection alive,
// connection limit, async handlers answered in order; UDP and TCP on one port with port 0.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import pino from 'pino';
import { RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { listenTcp } from '../../src/server/listeners.js';
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

test('connection limit: connections beyond it are closed at once, the others still served', async () => {
  const l = await listenTcp(new QueryHandler(table), { address: '127.0.0.1', port: 0 }, log, { tcpMaxConnections: 2, tcpIdleMs: 5000 });
  try {
    const a = await connect(l.port);
    const b = await connect(l.port);
    await new Promise((r) => setTimeout(r, 50));
    const c = await connect(l.port).catch(() => undefined);
    if (c) {
      c.resume();
      const ms = await closed(c);
      assert.ok(ms < 2000);
    }
    const reply = new Promise<Buffer>((resolve) => a.once('data', resolve));
    a.write(q(9));
    const r = await reply;
    assert.equal(decodeMessage(r.subarray(2)).id, 9);
    a.destroy();
    b.destroy();
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
