// Packet fuzzing support shared by the in-suite fuzz test: a seed corpus of well-formed queries and a set of
// mutators (bit flips, truncation, random counts, compression pointers, splices) driven by a seeded PRNG.

import { RRType } from '../../src/dns/constants.js';
import { emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { ALL_TYPES, prng } from './differential.js';

export type Rng = () => number;

export { prng };

/** Well-formed queries for the fixture zones: every listed type, with and without EDNS, odd opcodes and classes. */
export function seedQueries(names: string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let id = 1;
  for (const n of names) {
    for (const t of [...ALL_TYPES, RRType.ANY, RRType.AXFR, RRType.IXFR, RRType.OPT, 0]) {
      const m = emptyMessage(id++ & 0xffff);
      m.question.push({ name: Name.from(n), type: t, class: 1 });
      if (t % 2 === 0) m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: t % 4 === 0, flags: 0, options: [] };
      out.push(encodeMessage(m));
    }
  }
  // Other opcodes, classes, EDNS versions and options, several questions.
  const odd = emptyMessage(7);
  odd.opcode = 4;
  odd.question.push({ name: Name.from(names[0]), type: RRType.SOA, class: 1 });
  out.push(encodeMessage(odd));
  const upd = emptyMessage(8);
  upd.opcode = 5;
  upd.question.push({ name: Name.from(names[0]), type: RRType.SOA, class: 1 });
  upd.authority.push({ name: Name.from(`x.${names[0]}`), type: RRType.A, class: 255, ttl: 0, rdata: new Uint8Array(0) });
  out.push(encodeMessage(upd));
  const ch = emptyMessage(9);
  ch.question.push({ name: Name.from('version.bind'), type: RRType.TXT, class: 3 });
  out.push(encodeMessage(ch));
  const v1 = emptyMessage(10);
  v1.question.push({ name: Name.from(names[0]), type: RRType.A, class: 1 });
  v1.edns = { udpSize: 4096, extRcode: 0, version: 1, do: false, flags: 0, options: [{ code: 10, data: new Uint8Array(8) }] };
  out.push(encodeMessage(v1));
  const two = emptyMessage(11);
  two.question.push({ name: Name.from(names[0]), type: RRType.A, class: 1 }, { name: Name.from(names[0]), type: RRType.MX, class: 1 });
  out.push(encodeMessage(two));
  return out;
}

function randomBytes(rnd: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** One mutated copy of `seed` (or pure random bytes), never longer than 65535 octets. */
export function mutate(seed: Uint8Array, rnd: Rng, corpus: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(rnd() * n);
  let b: Uint8Array = Uint8Array.from(seed);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    switch (pick(10)) {
      case 0: // pure random packet
        b = randomBytes(rnd, pick(rnd() < 0.9 ? 64 : 2000));
        break;
      case 1: // flip bits
        for (let i = 0, n = 1 + pick(8); i < n && b.length > 0; i++) b[pick(b.length)] ^= 1 << pick(8);
        break;
      case 2: // overwrite bytes
        for (let i = 0, n = 1 + pick(4); i < n && b.length > 0; i++) b[pick(b.length)] = pick(256);
        break;
      case 3: // truncate
        b = b.subarray(0, pick(b.length + 1));
        break;
      case 4: // append garbage
        b = Uint8Array.from([...b, ...randomBytes(rnd, 1 + pick(64))]);
        break;
      case 5: // random section counts
        if (b.length >= 12) {
          const at = 4 + 2 * pick(4);
          const v = rnd() < 0.5 ? pick(4) : pick(65536);
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
        break;
      case 6: // compression pointer somewhere (backwards, forwards, to itself)
        if (b.length > 13) {
          const at = 12 + pick(b.length - 13);
          const target = rnd() < 0.5 ? pick(at + 1) : pick(b.length + 16);
          b[at] = 0xc0 | ((target >> 8) & 0x3f);
          b[at + 1] = target & 0xff;
        }
        break;
      case 7: // splice with another corpus entry
        {
          const other = corpus[pick(corpus.length)];
          const cut = pick(b.length + 1);
          b = Uint8Array.from([...b.subarray(0, cut), ...other.subarray(pick(other.length + 1))]);
        }
        break;
      case 8: // header flags: QR, opcode, Z, rcode
        if (b.length >= 4) {
          b[2] = pick(256);
          b[3] = pick(256);
        }
        break;
      case 9: // label length bytes that lie
        if (b.length > 12) b[12 + pick(b.length - 12)] = [0, 1, 63, 64, 0x7f, 0x80, 0xbf, 0xff][pick(8)];
        break;
    }
  }
  return b.length > 65535 ? b.subarray(0, 65535) : b;
}
