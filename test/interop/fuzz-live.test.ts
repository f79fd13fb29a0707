// The running daemon under fuzzed traffic (issue 15), the short run of the bench's 10,000,000 (bench/fuzz-live.mjs)
// with the same properties: 50,000 mutated UDP and TCP messages (queries, NOTIFY, UPDATE signed and not, transfers;
// TCP pipelined, fragmented, with lying lengths) at a real dmsd on SQLite with a forward, a classless reverse, a
// signed and an updatable zone. 0 hangs: a probe query every second throughout and a legitimate query over UDP and
// TCP after every batch, each answered within 5 s; 0 crashes: dmsd stays up, logs no error line (no "unexpected
// error") and exits 0 on SIGTERM; RSS after the traffic and a pause bounded by what a warm-up of 5,000 legitimate
// queries and 25,000 fuzzed packets reached (see the RSS assertion: the "within 10 % of its start" is measured
// by the bench's long run). The zones no valid signed UPDATE may change keep their serial.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { servedSerial } from '../helpers/dmsd-db.support.js';
import { udpExchange } from '../helpers/dns-client.js';
import { FUZZ_ZONES, type FuzzDmsd, runLiveFuzz, startFuzzDmsd } from '../helpers/fuzz-live.js';

/**
 * Idle time before RSS is taken (start and end): no garbage collection is forced (a production dmsd gets none), so
 * this gives V8's memory reducer its turn — it starts collecting and releasing pages some seconds after the
 * allocation rate drops; measured from a 5 s pause, RSS still held the heap grown for the traffic.
 */
const SETTLE_MS = 30_000;

let work: string;
let srv: FuzzDmsd;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'dms-fuzz-live-'));
  // Short TCP timeouts: fuzzed connections with lying lengths are cut quickly.
  srv = await startFuzzDmsd(work, ['--tcp-idle-timeout', '2', '--tcp-io-timeout', '1']);
});
after(async () => {
  await srv?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('50,000 fuzzed packets: no hang, no error logged, RSS bounded, no unauthorised change', async () => {
  const before = Object.fromEntries([FUZZ_ZONES.forward, FUZZ_ZONES.classless, FUZZ_ZONES.signed].map((z) => [z, servedSerial(srv.port, z)]));
  for (const [z, s] of Object.entries(before)) assert.notEqual(s, undefined, `${z} served`);
  const seed = Number(process.env.FUZZ_SEED ?? 7);
  const warm = await runLiveFuzz(srv, { packets: 25_000, seed: seed + 1, batch: 2500, warmup: 5000, settleMs: SETTLE_MS });
  assert.equal(warm.failure, undefined, `warm-up: ${warm.failure}\n${srv.tail()}`);
  const start = warm.rssEnd;
  const r = await runLiveFuzz(srv, { packets: 50_000, seed, batch: 2500, maxSeconds: 240, settleMs: SETTLE_MS });
  const errors = srv.errors();
  console.log(
    `fuzz-live: ${r.sent} packets (${r.tcpConnections} TCP connections) in ${r.seconds.toFixed(1)} s; probes ${r.probes.answered}/${r.probes.sent} ` +
      `(slowest ${r.probes.worstMs.toFixed(0)} ms); RSS start ${(start / 1048576).toFixed(1)} MiB → end ${(r.rssEnd / 1048576).toFixed(1)} MiB ` +
      `(${((100 * r.rssEnd) / start - 100).toFixed(1)} %, peak ${(r.rssMax / 1048576).toFixed(1)} MiB; warm-up peak ${(warm.rssMax / 1048576).toFixed(1)} MiB); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
  );
  assert.equal(r.failure, undefined, `${r.failure}\nerrors:\n${errors.slice(0, 5).join('\n')}\nlog tail:\n${srv.tail()}`);
  assert.deepEqual(errors, []);
  assert.ok(r.sent >= 20_000, `only ${r.sent} packets in ${r.seconds} s`);
  assert.ok(r.tcpConnections > 100);
  // 0 hangs: every probe answered within its 5 s (and every batch check, else r.failure).
  assert.equal(r.probes.missed, 0);
  assert.ok(r.probes.sent >= 5 && r.probes.answered === r.probes.sent, JSON.stringify(r.probes));
  // RSS: V8 keeps heap pages it grew for a traffic and gives them back when its memory reducer gets to it (no
  // collection is forced), so after a pause RSS lands anywhere between the start and the high-water mark: measured
  // +10 % to +21 % from the start here, run to run. What a short run can assert is that the fuzzing grew nothing
  // beyond the high-water mark the warm-up's fuzzing reached (+10 %): a leak per packet would. The bench's
  // 10,000,000 packets, measured from an idle daemon, is where the "within 10 % of its start" is measured.
  const mark = Math.max(start, warm.rssMax);
  assert.ok(r.rssEnd <= mark * 1.1, `RSS ${r.rssEnd} at the end: more than 10 % above the warm-up's high-water mark ${mark}`);
  // Unsigned, badly signed and ungranted UPDATEs changed nothing: only upd.test has a grant.
  for (const [z, s] of Object.entries(before)) {
    // The signed zone may be re-signed (new serial) by the signer's schedule, not by UPDATE: compare the others.
    if (z === FUZZ_ZONES.signed) continue;
    assert.equal(servedSerial(srv.port, z), s, `${z} unchanged`);
  }
});

test('every opcode for served, unserved and impossible zone names gets a precise answer and no error log', async () => {
  const names = [...Object.values(FUZZ_ZONES), '129.128/26.2.0.192.in-addr.arpa', '.', 'a\\032b.example.test', 'nx.invalid'];
  const seen = new Map<string, number>();
  let id = 1;
  for (const n of names)
    for (let opcode = 0; opcode < 16; opcode++)
      for (const type of [RRType.SOA, RRType.A, RRType.IXFR, RRType.AXFR]) {
        const m = emptyMessage(id++);
        m.opcode = opcode;
        m.question.push({ name: Name.parse(n === '.' ? '.' : `${n}.`), type, class: 1 });
        const r = decodeMessage(await udpExchange(srv.port, encodeMessage(m), 2000));
        assert.equal(r.opcode, opcode);
        // SERVFAIL is an internal failure: none of these may end there.
        assert.notEqual(r.rcode, Rcode.SERVFAIL, `${n} opcode ${opcode} type ${type}`);
        const key = `op${opcode} ${r.rcode}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
  // UPDATE of a zone not served (the root, an impossible name, an unknown one) is NOTAUTH (RFC 2136 §3.1.1).
  for (const n of ['.', 'a\\032b.example.test', 'nx.invalid']) {
    const m = emptyMessage(id++);
    m.opcode = 5;
    m.question.push({ name: Name.parse(n === '.' ? '.' : `${n}.`), type: RRType.SOA, class: 1 });
    assert.equal(decodeMessage(await udpExchange(srv.port, encodeMessage(m), 2000)).rcode, Rcode.NOTAUTH, n);
  }
  assert.deepEqual(srv.errors(), []);
});

test('0 crashes: after all that, SIGTERM stops dmsd with exit status 0', async () => {
  assert.equal(srv.exited(), null, 'dmsd still running');
  assert.equal(await srv.stop(), 0);
});
