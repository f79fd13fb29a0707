// A UDP flood from one socket in a worker thread (one query as fast as the socket sends): the source RRL limits, for
// test/interop/hostile-rrl.test.ts and bench/rrl.mjs (loaded through tsx: bench/lib.mjs testHelper).

import { Worker } from 'node:worker_threads';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { buildQuery } from './dns-client.js';
import { knotServerConf } from './servers.js';

export interface FloodCounts {
  sent: number;
  answers: number;
  truncated: number;
  other: number;
}

/** Flood `port` from `from` with one query as fast as one UDP socket sends, for `ms`; in a worker thread. */
export function flood(port: number, from: string, ms: number, name: string): Promise<FloodCounts> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const { port, from, ms, query } = workerData;
    const q = Buffer.from(query);
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    const c = { sent: 0, answers: 0, truncated: 0, other: 0 };
    sock.on('message', (m) => {
      if (m.length < 12) return c.other++;
      if (m[2] & 0x02) c.truncated++;
      else if ((m[3] & 0x0f) === 0 && ((m[6] << 8) | m[7]) > 0) c.answers++;
      else c.other++;
    });
    sock.bind(0, from, () => {
      const end = Date.now() + ms;
      const burst = () => {
        if (Date.now() >= end) {
          setTimeout(() => { sock.close(); parentPort.postMessage(c); }, 500);
          return;
        }
        // Keep the send queue short: as fast as the socket takes them, not an ever-growing backlog.
        if (sock.getSendQueueCount() < 256) for (let i = 0; i < 64; i++) { sock.send(q, port, '127.0.0.1'); c.sent++; }
        setImmediate(burst);
      };
      burst();
    });`;
  const query = buildQuery({ name: Name.from(name), type: RRType.A, id: 0x4242 });
  return new Promise((res, rej) => {
    const w = new Worker(code, { eval: true, workerData: { port, from, ms, query } });
    w.once('message', (m: FloodCounts) => {
      res(m);
      void w.terminate();
    });
    w.once('error', rej);
  });
}

/** knotd's configuration for the comparison: one zone from `file`, mod-rrl at `rate` responses/s with slip 2 (as dmsd). */
export function knotRrlConf(dir: string, port: number, rate: number, zone: string, file: string, logLevel?: string): string {
  return [
    ...knotServerConf(dir, port, logLevel ? { logLevel } : {}),
    'mod-rrl:',
    '  - id: default',
    `    rate-limit: ${rate}`,
    '    slip: 2',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    global-module: mod-rrl/default',
    'zone:',
    `  - domain: "${zone}"`,
    `    file: "${file}"`,
    '',
  ].join('\n');
}
