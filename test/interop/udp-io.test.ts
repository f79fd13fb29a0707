// The UDP listener's two I/O paths, in process on 127.0.0.1 and ::1: 'native' (recvmmsg/sendmmsg batches through the
// addon dms-udp-native, which must be built here: this test fails, never skips, when it is not) and 'libuv'. Bursts
// from several client sockets mix synchronous answers, asynchronous ones (which read their query only after later
// batches have arrived), several responses for one datagram, none, and one near the UDP maximum; every client must
// get exactly the responses to what it sent, and the native path must really have batched.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pino from 'pino';
import { type Listening, listenUdp } from '../../src/server/listeners.js';
import type { HandlerResult, QueryHandler, QueryMeta } from '../../src/server/query.js';

const log = pino({ level: 'silent' });

// Byte 0 of a datagram says what the handler does with it.
const SYNC = 0;
const ASYNC = 1;
const TWO = 2;
const NONE = 3;
const BIG = 4;
const BIG_LEN = 60000;

function mark(bytes: Uint8Array, tag: number): Buffer {
  const out = Buffer.from(bytes);
  out[1] = tag;
  return out;
}

/** What the handler answers; `seen` collects the source each datagram was said to come from. */
function fakeHandler(seen: string[]): QueryHandler {
  const handle = (bytes: Uint8Array, meta: QueryMeta): HandlerResult | Promise<HandlerResult> => {
    seen.push(`${meta.transport} ${meta.address} ${meta.port}`);
    switch (bytes[0]) {
      case SYNC:
        return mark(bytes, 0xa0);
      case ASYNC:
        // Read the query only after later datagrams have been received: it must still be this one.
        return sleep(30).then(() => mark(bytes, 0xa1));
      case TWO:
        return [mark(bytes, 0xb0), mark(bytes, 0xb1)];
      case NONE:
        return null;
      default: {
        const big = Buffer.alloc(BIG_LEN, 0x5a);
        Buffer.from(bytes).copy(big, 0, 0, Math.min(bytes.length, 64));
        big[1] = 0xc0;
        return big;
      }
    }
  };
  return { handle } as unknown as QueryHandler;
}

/** Expected responses (hex, sorted) to the datagrams a client sent. */
function expected(sent: Buffer[]): string[] {
  const out: string[] = [];
  for (const d of sent) {
    if (d[0] === SYNC) out.push(mark(d, 0xa0).toString('hex'));
    else if (d[0] === ASYNC) out.push(mark(d, 0xa1).toString('hex'));
    else if (d[0] === TWO) out.push(mark(d, 0xb0).toString('hex'), mark(d, 0xb1).toString('hex'));
    else if (d[0] === BIG) {
      const big = Buffer.alloc(BIG_LEN, 0x5a);
      d.copy(big, 0, 0, Math.min(d.length, 64));
      big[1] = 0xc0;
      out.push(big.toString('hex'));
    }
  }
  return out.sort();
}

/** One client: a burst of `n` datagrams (kinds in rotation, random contents and lengths), then all responses. */
async function burst(port: number, address: string, n: number, seed: number): Promise<{ local: string; ok: boolean; detail: string }> {
  const sock = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 16 * 1024 * 1024 });
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  const sent: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const kinds = [SYNC, SYNC, SYNC, ASYNC, TWO, NONE, SYNC, BIG];
    const kind = kinds[(i + seed) % kinds.length] === BIG && i % 40 !== 7 ? SYNC : kinds[(i + seed) % kinds.length];
    const d = Buffer.concat([Buffer.from([kind, 0, seed, i >> 8, i & 0xff]), randomBytes(12 + ((i * 37) % 500))]);
    sent.push(d);
  }
  const want = expected(sent);
  const got: string[] = [];
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 15000);
    sock.on('message', (m) => {
      got.push(m.toString('hex'));
      if (got.length >= want.length) {
        clearTimeout(timer);
        // A moment more: an extra (wrong) response would show up here.
        setTimeout(resolve, 100);
      }
    });
  });
  for (const d of sent) sock.send(d, port, address);
  await done;
  const local = `udp ${address} ${sock.address().port}`;
  sock.close();
  got.sort();
  const ok = got.length === want.length && got.every((g, i) => g === want[i]);
  return { local, ok, detail: `${got.length} responses, ${want.length} expected` };
}

for (const io of ['native', 'libuv'] as const) {
  test(`UDP I/O ${io}: bursts from several clients on IPv4 and IPv6 get exactly their responses`, async () => {
    const seen: string[] = [];
    const handler = fakeHandler(seen);
    const listening: Listening[] = [];
    try {
      for (const address of ['127.0.0.1', '::1']) listening.push(await listenUdp(handler, { address, port: 0 }, log, { udpIo: io }));
      for (const l of listening) assert.equal(l.udpIo, io);
      const runs = await Promise.all(
        listening.flatMap((l) => [0, 1, 2].map((seed) => burst(l.port, l.address, 400, seed + (l.address === '::1' ? 3 : 0)))),
      );
      for (const r of runs) assert.ok(r.ok, `${r.local}: ${r.detail}`);
      // Every datagram was handed over with its real source.
      for (const r of runs) assert.equal(seen.filter((s) => s === r.local).length, 400, `datagrams seen from ${r.local}`);
      if (io === 'native') {
        for (const l of listening) {
          const [batches, datagrams, , sent] = l.udpStats?.() ?? [];
          assert.equal(datagrams, 1200, `${l.address}: datagrams received natively`);
          assert.ok(batches < datagrams, `${l.address}: ${batches} recvmmsg batches for ${datagrams} datagrams: no batching`);
          assert.ok(sent > 0, `${l.address}: nothing sent with sendmmsg`);
        }
      } else for (const l of listening) assert.equal(l.udpStats, undefined);
    } finally {
      for (const l of listening) await l.close();
    }
  });
}

test('UDP I/O native: a closed listener stops receiving, and the port can be bound again', async () => {
  const seen: string[] = [];
  const l = await listenUdp(fakeHandler(seen), { address: '127.0.0.1', port: 0 }, log, { udpIo: 'native' });
  const r = await burst(l.port, '127.0.0.1', 16, 0);
  assert.ok(r.ok, r.detail);
  await l.close();
  // The addon's duplicate descriptor is closed too: otherwise the port would stay bound.
  const again = await listenUdp(fakeHandler(seen), { address: '127.0.0.1', port: l.port }, log, { udpIo: 'native' });
  try {
    assert.equal(again.port, l.port);
    assert.ok((await burst(again.port, '127.0.0.1', 16, 1)).ok);
  } finally {
    await again.close();
  }
});
