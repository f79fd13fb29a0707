#!/usr/bin/env node
// `npm run fuzz`: coverage-guided fuzzing of the packet decoder, the zone-file parser and the RFC 2136 UPDATE applier
// (issue 15), for a bounded time (default 60 s in all, split over the targets).
//
// Why not @jazzer.js/core: its only release that installs from the registry alone (4.0.0; older ones download their
// native addon from GitHub at install time) ships a libFuzzer addon built against glibc 2.38, and Debian 12 has 2.36,
// so it does not load here ("GLIBC_2.38 not found"). The guidance here comes from V8 itself instead: block coverage
// through node:inspector (Profiler.startPreciseCoverage with counts), taken after every input; an input reaching a
// block not reached before, or a block's count in a new power-of-two bucket (as AFL and libFuzzer count), joins
// the corpus and is mutated further. Nothing outside Node is needed.
//
// Targets (dist/, built by `npm run fuzz` first):
//   decoder   decodeMessage(bytes): only DecodeError may be thrown; what decodes re-encodes and decodes again
//   zonefile  parseZoneText(latin1 text): never throws (problems are returned), every record it gives re-encodes
//   update    applyUpdate(a fixed zone, decodeMessage(bytes)): never throws; a failure changes nothing, a success
//             keeps one SOA
// Seeds: fuzz/corpus/<target>/ (committed); inputs found go to a temporary directory (removed at the end unless
// --keep), or are added to the corpus with --save. A failing input is written to fuzz/crashes/ and the run exits 1.
//
// Options: --seconds N (default 60, in all), --target decoder|zonefile|update (default all), --seed N, --save, --keep.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SECONDS = Number(argOf('--seconds', 60));
const ONLY = argOf('--target', undefined);
const SAVE = argv.includes('--save');
let rngState = Number(argOf('--seed', Date.now() % 2 ** 31)) >>> 0 || 1;
const rnd = () => {
  // xorshift32: reproducible with --seed
  rngState ^= rngState << 13;
  rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  rngState >>>= 0;
  return rngState / 2 ** 32;
};
const pick = (n) => Math.floor(rnd() * n);

const dist = (p) => pathToFileURL(join(ROOT, 'dist', p)).href;
if (!existsSync(join(ROOT, 'dist', 'dns', 'message.js'))) {
  console.error('fuzz: dist/ missing: run npm run fuzz (it builds first) or npx tsc -p tsconfig.json');
  process.exit(2);
}
const { decodeMessage, encodeMessage } = await import(dist('dns/message.js'));
const { DecodeError } = await import(dist('dns/errors.js'));
const { Name } = await import(dist('dns/name.js'));
const { parseZoneText } = await import(dist('zonefile/index.js'));
const { applyUpdate } = await import(dist('zone/update.js'));

const ORIGIN = Name.from('example.test');
const ZONE = parseZoneText(
  '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\nwww A 192.0.2.10\nwww AAAA 2001:db8::10\nalias CNAME www\ntxt TXT "a" "b"\n',
  { origin: ORIGIN },
).records;

class Failure extends Error {}

const TARGETS = {
  decoder(data) {
    let m;
    try {
      m = decodeMessage(data);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    const again = decodeMessage(encodeMessage(m));
    if (again.question.length !== m.question.length || again.answer.length !== m.answer.length)
      throw new Failure('re-encoded message decodes differently');
  },
  zonefile(data) {
    const text = Buffer.from(data).toString('latin1');
    // $INCLUDE must not read files: no include callback is given (the parser then reports it as a problem).
    const r = parseZoneText(text, { origin: ORIGIN, defaultTtl: 300, generateLimit: 1000 });
    if (!Array.isArray(r.records) || !Array.isArray(r.problems)) throw new Failure('parseZoneText returned no records/problems');
    for (const rr of r.records.slice(0, 50)) {
      const m = { id: 0, qr: true, opcode: 0, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false, rcode: 0, question: [], answer: [rr], authority: [], additional: [] };
      decodeMessage(encodeMessage(m));
    }
  },
  update(data) {
    let msg;
    try {
      msg = decodeMessage(data);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    const r = applyUpdate(ZONE, ORIGIN, msg);
    if (r.rcode !== 0 && (r.changed || r.newRecords.length !== ZONE.length)) throw new Failure('a failed UPDATE changed the zone');
    if (r.rcode === 0 && r.newRecords.filter((x) => x.type === 6).length !== 1) throw new Failure('the zone lost or doubled its SOA');
  },
};

const TOKENS = ['$ORIGIN ', '$TTL ', '$INCLUDE ', '$GENERATE 1-9 ', ' SOA ', ' NS ', ' A ', ' AAAA ', ' TXT ', ' CNAME ', ' DNAME ', ' SRV ', ' CAA ', ' SVCB ', ' HTTPS ', ' DS ', ' RRSIG ', ' NSEC3 ', ' TYPE65534 ', ' \\# 4 ', '(', ')', ';', '"', '\\', '\\0', '\\.', '@', ' IN ', ' CH ', '\n', '\t', '.', '*', '$' + '{0,3,d}', '2001:db8::', '192.0.2.1', ' 0 ', ' 4294967295 ', ' 1w2d3h '];

function mutate(input, corpus) {
  let b = Uint8Array.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    switch (pick(9)) {
      case 0:
        for (let i = 0, n = 1 + pick(4); i < n && b.length; i++) b[pick(b.length)] ^= 1 << pick(8);
        break;
      case 1:
        for (let i = 0, n = 1 + pick(4); i < n && b.length; i++) b[pick(b.length)] = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff][pick(8)];
        break;
      case 2: {
        const at = pick(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + pick(8))]);
        break;
      }
      case 3: {
        const at = pick(b.length + 1);
        const ins = Array.from({ length: 1 + pick(8) }, () => pick(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 4: {
        const o = corpus[pick(corpus.length)];
        const cut = pick(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, cut), ...o.subarray(pick(o.length + 1))]);
        break;
      }
      case 5: {
        // duplicate a chunk (repeated records, labels)
        if (b.length < 2) break;
        const s = pick(b.length);
        const e = Math.min(b.length, s + 1 + pick(32));
        const at = pick(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(s, e), ...b.subarray(at)]);
        break;
      }
      case 6: {
        const t = Buffer.from(TOKENS[pick(TOKENS.length)], 'latin1');
        const at = pick(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...t, ...b.subarray(at)]);
        break;
      }
      case 7:
        // a 16-bit field (counts, lengths, types) set to an edge value
        if (b.length >= 2) {
          const at = pick(b.length - 1);
          const v = [0, 1, 2, 0xff, 0x100, 0x7fff, 0xffff][pick(7)];
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
        break;
      case 8:
        b = b.subarray(0, pick(b.length + 1));
        break;
    }
  }
  return b.length > 65535 ? b.subarray(0, 65535) : b;
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
const watched = (url) => url.includes('/dist/dns/') || url.includes('/dist/zonefile/') || url.includes('/dist/zone/');

/** Coverage since the last call (V8 resets the counts on each take): features as "script:start:end:bucket". */
async function features() {
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const out = [];
  for (const s of result) {
    if (!watched(s.url)) continue;
    for (const f of s.functions)
      for (const r of f.ranges) if (r.count > 0) out.push(`${s.scriptId}:${r.startOffset}:${r.endOffset}:${Math.min(16, Math.floor(Math.log2(r.count)))}`);
  }
  return out;
}

const names = ONLY ? [ONLY] : Object.keys(TARGETS);
for (const n of names) if (!TARGETS[n]) {
  console.error(`fuzz: unknown target ${n} (decoder, zonefile, update)`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'dms-fuzz-'));
let failed = false;
console.log(`fuzz: ${names.join(', ')} for ${SECONDS} s in all (seed ${rngState}); new inputs in ${SAVE ? 'fuzz/corpus' : work}`);
for (const name of names) {
  const target = TARGETS[name];
  const corpusDir = join(ROOT, 'fuzz', 'corpus', name);
  const outDir = SAVE ? corpusDir : join(work, name);
  mkdirSync(outDir, { recursive: true });
  const corpus = existsSync(corpusDir) ? readdirSync(corpusDir).map((f) => new Uint8Array(readFileSync(join(corpusDir, f)))) : [];
  if (corpus.length === 0) corpus.push(new Uint8Array(12));
  const seen = new Set();
  const run = async (input) => {
    const t0 = performance.now();
    try {
      target(input);
    } catch (e) {
      const file = join(ROOT, 'fuzz', 'crashes', `${name}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, input);
      console.error(`fuzz ${name}: ${e instanceof Failure ? e.message : (e?.stack ?? e)}\n  input written to ${file}`);
      failed = true;
      return false;
    }
    const ms = performance.now() - t0;
    if (ms > 1000) {
      console.error(`fuzz ${name}: one input took ${ms.toFixed(0)} ms`);
      failed = true;
    }
    let fresh = false;
    for (const f of await features())
      if (!seen.has(f)) {
        seen.add(f);
        fresh = true;
      }
    return fresh;
  };
  await features(); // drop the counts of the loading
  for (const c of corpus) await run(c);
  const start = seen.size;
  const deadline = performance.now() + (SECONDS * 1000) / names.length;
  let execs = 0;
  let added = 0;
  while (performance.now() < deadline && !failed) {
    const input = mutate(corpus[pick(corpus.length)], corpus);
    execs++;
    if (await run(input)) {
      corpus.push(input);
      added++;
      writeFileSync(join(outDir, createHash('sha256').update(input).digest('hex').slice(0, 16)), input);
    }
  }
  console.log(`  ${name}: ${execs} inputs, ${Math.round(execs / ((SECONDS / names.length) || 1))}/s; coverage features ${start} → ${seen.size}; ${added} inputs added`);
  if (failed) break;
}
await session.post('Profiler.stopPreciseCoverage');
session.disconnect();
if (!SAVE && !argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
