// Long fuzz run for `npm run bench`: N random and mutated packets (default 1,000,000) through decodeMessage and
// QueryHandler.handle with the differential fixture zones. Fails (exit 1) on any exception other than DecodeError
// from the decoder, any throw out of the handler, a malformed response, or a single call slower than 1 s (a hang).
// Run: node --import tsx bench/fuzz.ts [count]

import { join } from 'node:path';
import { DecodeError } from '../src/dns/errors.js';
import { decodeMessage } from '../src/dns/message.js';
import { QueryHandler } from '../src/server/query.js';
import { loadZoneDirectory } from '../src/server/zonedir.js';
import { ZoneTable } from '../src/zone/table.js';
import { mutate, prng, seedQueries } from '../test/helpers/fuzz.js';

const count = Number(process.argv[2] ?? 1_000_000);
const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures', 'diff');
const table = new ZoneTable();
for (const r of loadZoneDirectory(fixtures)) if (r.zone) table.set(r.zone);
const handler = new QueryHandler(table);
const corpus = seedQueries(['example.test', 'www.example.test', 'big.example.test', 'x.wild.example.test', 'a.dn.example.test', 'deleg.example.test', 'svcb.types.test', 'nx.types.test', 'outside.invalid']);
for (const q of corpus.slice(0, 300)) {
  const r = handler.handle(q, { transport: 'tcp' });
  if (r instanceof Uint8Array) corpus.push(r);
}
const rnd = prng(Number(process.env.FUZZ_SEED ?? 12345));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
let decoded = 0;
let responses = 0;
let slowest = 0;
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  const pkt = mutate(corpus[Math.floor(rnd() * corpus.length)], rnd, corpus);
  try {
    decodeMessage(pkt);
    decoded++;
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      console.error(`FUZZ FAIL: decodeMessage threw ${(e as Error).stack}\npacket ${hex(pkt)}`);
      process.exit(1);
    }
  }
  const s = performance.now();
  let res: Uint8Array | Uint8Array[] | null;
  try {
    const r = handler.handle(pkt, { transport: i % 5 === 0 ? 'tcp' : 'udp', address: '127.0.0.1', port: 5353 });
    res = r instanceof Promise ? await r : r;
  } catch (e) {
    console.error(`FUZZ FAIL: handle threw ${(e as Error).stack}\npacket ${hex(pkt)}`);
    process.exit(1);
  }
  const took = performance.now() - s;
  if (took > slowest) slowest = took;
  if (took > 1000) {
    console.error(`FUZZ FAIL: one packet took ${took.toFixed(0)} ms\npacket ${hex(pkt)}`);
    process.exit(1);
  }
  if (res === null) continue;
  for (const out of Array.isArray(res) ? res : [res]) {
    responses++;
    try {
      const m = decodeMessage(out);
      if (!m.qr || m.id !== ((pkt[0] << 8) | pkt[1])) throw new Error('not a reply to the query (QR or id)');
    } catch (e) {
      console.error(`FUZZ FAIL: bad response (${(e as Error).message}) ${hex(out)}\nto packet ${hex(pkt)}`);
      process.exit(1);
    }
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({ packets: count, decoded, responses, seconds: Number(secs.toFixed(1)), slowestMs: Number(slowest.toFixed(2)) }),
);
