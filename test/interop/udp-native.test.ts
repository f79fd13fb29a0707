// dmsd with the native UDP I/O forced (--udp-io native: recvmmsg/sendmmsg batches through the addon dms-udp-native)
// against dmsd forced onto libuv, on the differential fixture zones: every UDP query of the differential mix (with
// its protocol edge cases: malformed packets, other opcodes, NOTIFY/UPDATE without TSIG, EDNS variants, truncation)
// goes to both, 64 at a time, over IPv4 and IPv6, and the answers must be the same octets. The answers themselves are
// held against knotd by differential.test.ts; here the I/O path is what must not change anything. Both daemons log
// which path each UDP socket uses; the test asserts the forced one was really taken.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { buildQuery, udpExchange } from '../helpers/dns-client.js';
import { type DiffQuery, describeQuery, generateQueries, loadFixtureZones } from '../helpers/differential.js';
import { REPO_ROOT, type RunningServer, startDmsd } from '../helpers/servers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diff');
const zones = loadFixtureZones(FIXTURES);
const queries = generateQueries(zones).filter((q) => !q.tcp);

let native: RunningServer | undefined;
let libuv: RunningServer | undefined;

before(async () => {
  const names = zones.map((z) => z.name);
  native = await startDmsd(FIXTURES, names, { extraArgs: ['--udp-io', 'native', '--listen', '[::1]:0'] });
  libuv = await startDmsd(FIXTURES, names, { extraArgs: ['--udp-io', 'libuv'] });
});

after(async () => {
  await native?.stop();
  await libuv?.stop();
});

interface Bound {
  proto?: string;
  address?: string;
  port?: number;
  udpIo?: string;
  msg?: string;
}

function udpSockets(out: string): Bound[] {
  const found: Bound[] = [];
  for (const line of out.split('\n')) {
    try {
      const j = JSON.parse(line) as Bound;
      if (j.msg === 'listening' && j.proto === 'udp') found.push(j);
    } catch {
      // not a JSON line
    }
  }
  return found;
}

test('each daemon logs the UDP I/O path it was told to take, on every UDP socket', () => {
  assert.ok(native && libuv);
  const n = udpSockets(native.output());
  assert.deepEqual(n.map((b) => `${b.address} ${b.udpIo}`).sort(), ['127.0.0.1 native', '::1 native']);
  assert.match(native.output(), /UDP I\/O: recvmmsg\/sendmmsg batches/);
  const l = udpSockets(libuv.output());
  assert.deepEqual(l.map((b) => `${b.address} ${b.udpIo}`), ['127.0.0.1 libuv']);
});

/**
 * The answer with the server part of a DNS cookie (RFC 9018: timestamp and a hash of the client address under each
 * daemon's own secret) zeroed: the two daemons, and IPv4 against IPv6, rightly make different ones. The option is the
 * last of the OPT record dmsd writes: code 10, a length of 16 to 40, the client's 8 octets, then the server's.
 */
function maskServerCookie(answer: Uint8Array): Uint8Array {
  const out = Uint8Array.from(answer);
  for (let i = 12; i + 4 <= out.length; i++) {
    const len = (out[i + 2] << 8) | out[i + 3];
    if (out[i] === 0 && out[i + 1] === 10 && len >= 16 && len <= 40 && i + 4 + len === out.length) {
      out.fill(0, i + 4 + 8, i + 4 + len);
      break;
    }
  }
  return out;
}

/** Every query to `port` on `host` and to the libuv daemon, `parallel` at a time; the differing answers described. */
async function compare(host: string, port: number, parallel = 64): Promise<{ differ: string[]; answered: number }> {
  assert.ok(libuv);
  const differ: string[] = [];
  let answered = 0;
  let next = 0;
  const ask = async (p: number, h: string, payload: Uint8Array, retry: boolean): Promise<string> => {
    // A well-formed query gets a second chance: on a loaded machine a datagram can be lost without any server fault.
    for (let i = 0; i < (retry ? 2 : 1); i++) {
      try {
        return Buffer.from(maskServerCookie(await udpExchange(p, payload, 3000, h))).toString('hex');
      } catch {
        // timed out
      }
    }
    return 'no answer';
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= queries.length) return;
      const q: DiffQuery = { ...queries[i], id: (i * 7919 + 1) & 0xffff };
      let payload: Uint8Array;
      if (q.raw) {
        payload = Uint8Array.from(q.raw);
        if (payload.length >= 2) {
          payload[0] = q.id! >> 8;
          payload[1] = q.id! & 0xff;
        }
      } else payload = buildQuery(q);
      const [a, b] = await Promise.all([ask(port, host, payload, !q.raw), ask(libuv!.port, '127.0.0.1', payload, !q.raw)]);
      if (a !== 'no answer') answered++;
      if (a !== b) differ.push(`${describeQuery(q)}\n  native: ${a}\n  libuv:  ${b}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { differ, answered };
}

test('IPv4: every UDP answer of the native path is the libuv path answer, octet for octet', async () => {
  assert.ok(native);
  assert.ok(queries.length >= 1500, `only ${queries.length} UDP queries`);
  const { differ, answered } = await compare('127.0.0.1', native.port);
  // Guards against a vacuous comparison (both silent).
  assert.ok(answered >= queries.length * 0.95, `the native path answered ${answered} of ${queries.length}`);
  assert.equal(differ.length, 0, `${differ.length} answers differ:\n${differ.slice(0, 10).join('\n')}`);
});

test('IPv6: the same, through the native socket on ::1', async () => {
  assert.ok(native);
  const v6 = udpSockets(native.output()).find((b) => b.address === '::1');
  assert.ok(v6?.port, 'no ::1 UDP socket logged');
  const { differ, answered } = await compare('::1', v6.port);
  assert.ok(answered >= queries.length * 0.95, `the native path answered ${answered} of ${queries.length}`);
  assert.equal(differ.length, 0, `${differ.length} answers differ:\n${differ.slice(0, 10).join('\n')}`);
});
