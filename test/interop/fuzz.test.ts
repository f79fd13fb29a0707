// Bounded fuzzing of the packet decoder and the query path: random and mutated packets through decodeMessage and
// QueryHandler.handle in-process (never an exception other than DecodeError from the decoder, never a throw out of
// the handler, every response well-formed), then a burst of garbage at a real dmsd over UDP and TCP, which must still
// answer afterwards. `npm run bench` runs the long version (1,000,000 packets).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import { DecodeError } from '../../src/dns/errors.js';
import { decodeMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { QueryHandler } from '../../src/server/query.js';
import { loadZoneDirectory } from '../../src/server/zonedir.js';
import { ZoneTable } from '../../src/zone/table.js';
import { query } from '../helpers/dns-client.js';
import { loadFixtureZones } from '../helpers/differential.js';
import { mutate, prng, seedQueries } from '../helpers/fuzz.js';
import { REPO_ROOT, startDmsd } from '../helpers/servers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diff');
const zones = loadFixtureZones(FIXTURES);
const sampleNames = ['example.test', 'www.example.test', 'big.example.test', 'x.wild.example.test', 'a.dn.example.test', 'deleg.example.test', 'svcb.types.test', 'nx.types.test', 'outside.invalid'];

function loadTable(): ZoneTable {
  const table = new ZoneTable();
  for (const r of loadZoneDirectory(FIXTURES)) {
    assert.ok(r.zone, `fixture zone ${r.origin} did not load: ${JSON.stringify(r.problems)}`);
    table.set(r.zone);
  }
  return table;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} did not settle within ${ms} ms`)), ms))]);
}

test('decodeMessage: random and mutated packets only ever raise DecodeError, and what decodes re-encodes', () => {
  const rnd = prng(1);
  const table = loadTable();
  const handler = new QueryHandler(table);
  const corpus = seedQueries(sampleNames);
  // Responses carry every RDATA type of the fixtures: mutate those too.
  for (const q of corpus.slice(0, 200)) {
    const r = handler.handle(q, { transport: 'tcp' });
    if (r instanceof Uint8Array) corpus.push(r);
  }
  const deadline = Date.now() + 3000;
  let n = 0;
  let decoded = 0;
  while (n < 200_000 && Date.now() < deadline) {
    const pkt = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd, corpus);
    n++;
    let msg: ReturnType<typeof decodeMessage>;
    try {
      msg = decodeMessage(pkt);
    } catch (e) {
      if (!(e instanceof DecodeError)) assert.fail(`decodeMessage threw ${(e as Error).stack} for ${Buffer.from(pkt).toString('hex')}`);
      continue;
    }
    decoded++;
    let again: Uint8Array;
    try {
      again = encodeMessage(msg);
    } catch (e) {
      assert.fail(`encodeMessage of a decoded message threw ${(e as Error).message} for ${Buffer.from(pkt).toString('hex')}`);
    }
    // Decoding what we encoded must succeed too (our writer never produces what our reader rejects).
    try {
      decodeMessage(again);
    } catch (e) {
      assert.fail(`re-decoding failed: ${(e as Error).message}; input ${Buffer.from(pkt).toString('hex')}`);
    }
  }
  console.log(`decoder fuzz: ${n} packets, ${decoded} decoded`);
  assert.ok(n >= 3_000, `only ${n} packets in the time budget`);
  assert.ok(decoded > n / 50, `mutations too destructive: only ${decoded} of ${n} decoded`);
});

test('QueryHandler.handle: never throws, never hangs, every response is a well-formed reply to the query', async () => {
  const rnd = prng(2);
  const handler = new QueryHandler(loadTable());
  const corpus = seedQueries(sampleNames);
  const deadline = Date.now() + 4000;
  let n = 0;
  let answered = 0;
  while (n < 150_000 && Date.now() < deadline) {
    const pkt = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd, corpus);
    const transport = rnd() < 0.8 ? 'udp' : 'tcp';
    n++;
    let res: Awaited<ReturnType<QueryHandler['handle']>>;
    try {
      const r = handler.handle(pkt, { transport, address: '127.0.0.1', port: 5353 });
      res = r instanceof Promise ? await withTimeout(r, 2000, 'an asynchronous handler') : r;
    } catch (e) {
      assert.fail(`handle threw ${(e as Error).stack} for ${transport} ${Buffer.from(pkt).toString('hex')}`);
    }
    if (res === null) continue;
    const list = Array.isArray(res) ? res : [res];
    for (const out of list) {
      answered++;
      let m: ReturnType<typeof decodeMessage>;
      try {
        m = decodeMessage(out);
      } catch (e) {
        assert.fail(`malformed response (${(e as Error).message}) ${Buffer.from(out).toString('hex')} to ${Buffer.from(pkt).toString('hex')}`);
      }
      const hex = () => `query ${Buffer.from(pkt).toString('hex')} response ${Buffer.from(out).toString('hex')}`;
      assert.ok(m.qr, `response without QR: ${hex()}`);
      assert.equal(m.id, (pkt[0] << 8) | pkt[1], `response id differs from the query's: ${hex()}`);
      if (transport === 'udp') {
        let queryEdns: number | undefined;
        try {
          queryEdns = decodeMessage(pkt).edns?.udpSize;
        } catch {
          queryEdns = undefined;
        }
        // RFC 1035 §4.2.1 / RFC 6891 §6.2.3-§6.2.5: a UDP answer never exceeds 512 octets or the requestor's size.
        const limit = Math.max(512, queryEdns ?? 512);
        assert.ok(out.length <= limit, `UDP response of ${out.length} octets over the limit ${limit}: ${hex()}`);
      }
    }
  }
  console.log(`query-path fuzz: ${n} packets, ${answered} responses`);
  assert.ok(n >= 3_000, `only ${n} packets in the time budget`);
  assert.ok(answered > n / 10, `suspiciously few responses: ${answered} of ${n}`);
});

test('a real dmsd survives a burst of garbage over UDP and TCP and still answers', async () => {
  const srv = await startDmsd(FIXTURES, zones.map((z) => z.name));
  try {
    const rnd = prng(3);
    const corpus = seedQueries(sampleNames);
    // UDP: 3000 mutated datagrams, paced in small batches so the socket buffer is not what drops them.
    const sock = dgram.createSocket('udp4');
    let replies = 0;
    sock.on('message', () => replies++);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let i = 0; i < 3000; i++) {
      const pkt = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd, corpus);
      sock.send(pkt, srv.port, '127.0.0.1');
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 300));
    sock.close();
    // TCP: garbage streams, lying length prefixes, half-sent messages, connections closed mid-message.
    const streams: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const pkt = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd, corpus);
      const mode = i % 4;
      streams.push(
        new Promise<void>((resolve) => {
          const c = net.connect({ port: srv.tcpPort, host: '127.0.0.1' });
          c.on('error', () => resolve());
          c.on('close', () => resolve());
          c.on('data', () => {});
          c.on('connect', () => {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(mode === 1 ? Math.min(65535, pkt.length + 100) : pkt.length);
            if (mode === 2) c.write(Buffer.from(pkt)); // no length prefix at all
            else c.write(Buffer.concat([len, pkt, mode === 3 ? len : Buffer.alloc(0)]));
            setTimeout(() => c.destroy(), 50);
          });
        }),
      );
    }
    await Promise.all(streams);
    assert.equal(srv.proc.exitCode, null, `dmsd exited during the burst:\n${srv.output()}`);
    // Idle and half-open TCP connections (one byte of a length prefix, then nothing) must not block other clients.
    const idle: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const c = net.connect({ port: srv.tcpPort, host: '127.0.0.1' });
      c.on('error', () => {});
      c.on('connect', () => {
        if (i % 2 === 0) c.write(Buffer.from([0]));
      });
      idle.push(c);
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const tcp of [false, true]) {
      const a = await query(tcp ? srv.tcpPort : srv.port, { name: Name.from('www.example.test'), type: RRType.A, tcp, ednsSize: 1232 }, 3000);
      assert.ok(a.msg, `no decodable answer over ${tcp ? 'TCP' : 'UDP'} after the burst`);
      assert.equal(a.msg.rcode, 0);
      assert.ok(a.msg.aa);
      assert.equal(a.msg.answer.length, 1);
    }
    for (const c of idle) c.destroy();
    console.log(`dmsd burst: 3000 UDP datagrams (${replies} replies), 60 TCP garbage streams, 20 idle TCP connections; still answering`);
  } finally {
    await srv.stop();
  }
});
