// Generated benchmark data: the serving zone (12,000 names), the dnsperf query file (80 % existing A, 10 % NXDOMAIN,
// 10 % other types) and the 1,000,000-record zone for the loading figures. Deterministic (seeded).

import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Seeded pseudo-random numbers in [0, 1) (mulberry32): the generated data is the same on every run. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const soa = (zone) => [
  `$ORIGIN ${zone}.`,
  '$TTL 3600',
  `@ SOA ns1.${zone}. hostmaster.${zone}. 2024010101 7200 3600 1209600 300`,
  '@ NS ns1',
  '@ NS ns2',
  'ns1 A 192.0.2.1',
  'ns2 A 192.0.2.2',
];

const ip4 = (i) => `198.18.${(i >> 8) & 0xff}.${i & 0xff}`;

/** The serving zone: `names` hosts with A; every third also AAAA; every tenth MX and TXT. Returns its file path. */
export function writeServingZone(dir, zone = 'bench.test', names = 12000) {
  const lines = soa(zone);
  for (let i = 0; i < names; i++) {
    lines.push(`host${i} A ${ip4(i)}`);
    if (i % 3 === 0) lines.push(`host${i} AAAA 2001:db8::${i.toString(16)}`);
    if (i % 10 === 0) {
      lines.push(`host${i} MX 10 host${(i + 1) % names}`);
      lines.push(`host${i} TXT "benchmark record ${i}"`);
    }
  }
  const file = join(dir, zone);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** dnsperf input: 80 % existing A, 10 % NXDOMAIN, 10 % other types that exist (AAAA, MX, TXT, SOA, NS). */
export function writeQueryFile(path, zone = 'bench.test', names = 12000, count = 200000) {
  const rnd = rng(42);
  const pick = (n) => Math.floor(rnd() * n);
  const out = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.8) out.push(`host${pick(names)}.${zone} A`);
    else if (r < 0.9) out.push(`nx${pick(1_000_000)}.host${pick(names)}x.${zone} A`);
    else {
      const k = pick(5);
      if (k === 0) out.push(`host${pick(Math.floor(names / 3)) * 3}.${zone} AAAA`);
      else if (k === 1) out.push(`host${pick(Math.floor(names / 10)) * 10}.${zone} MX`);
      else if (k === 2) out.push(`host${pick(Math.floor(names / 10)) * 10}.${zone} TXT`);
      else if (k === 3) out.push(`${zone} SOA`);
      else out.push(`${zone} NS`);
    }
  }
  writeFileSync(path, `${out.join('\n')}\n`);
}

/** A zone of exactly `records` records (SOA, 2 NS, 2 glue A, then A/AAAA/TXT per name). Returns the record count. */
export async function writeLargeZone(file, zone, records = 1_000_000) {
  const w = createWriteStream(file);
  const write = (s) => (w.write(s) ? Promise.resolve() : new Promise((r) => w.once('drain', r)));
  const head = soa(zone);
  await write(`${head.join('\n')}\n`);
  let n = 5;
  let i = 0;
  let chunk = '';
  while (n < records) {
    const kind = n % 3;
    if (kind === 0) chunk += `n${i} A ${ip4(i)}\n`;
    else if (kind === 1) chunk += `n${i} AAAA 2001:db8:${(i >> 16).toString(16)}::${(i & 0xffff).toString(16)}\n`;
    else {
      chunk += `n${i} TXT "record ${i}"\n`;
      i++;
    }
    n++;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((r) => w.end(r));
  return n;
}

/**
 * The UPDATE benchmarks' zone (bench/update.mjs, bench/update-ab.mjs): SOA, NS, the NS's address, then `records` A
 * records h0, h1, ... (relative owners, $TTL 300), written in 1 MB pieces.
 */
export async function writeUpdateZone(file, records) {
  const w = createWriteStream(file);
  const write = (s) => (w.write(s) ? Promise.resolve() : new Promise((r) => w.once('drain', r)));
  await write(`$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n`);
  let chunk = '';
  for (let i = 0; i < records; i++) {
    chunk += `h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((r) => w.end(r));
}
