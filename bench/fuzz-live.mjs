#!/usr/bin/env node
// Fuzzing the running daemon at length (issue 15): N mutated UDP and TCP messages (default 10,000,000) at a real dmsd
// on SQLite with a forward, an RFC 2317 classless reverse, a signed and an updatable zone (test/helpers/fuzz-live.ts:
// queries, NOTIFY, UPDATE signed/unsigned/badly signed, AXFR/IXFR; TCP pipelined, fragmented, lying lengths). After
// every batch a legitimate query must be answered over UDP and TCP. Fails (exit 1) when dmsd stops answering, exits,
// or logs an error line; reports packets/s, the slowest legitimate answer and RSS (first batch, end, peak): the
// target is RSS at the end within 10 % of the first batch's.
//
// Options: --packets N (default 10000000), --seed S, --batch N (default 5000), --out FILE (default
// bench/out/fuzz-live.json), --keep (leave the work directory).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROOT, testHelper } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const PACKETS = Number(argOf('--packets', 10_000_000));
const SEED = Number(argOf('--seed', 15));
const BATCH = Number(argOf('--batch', 5000));
const outFile = resolve(argOf('--out', join(ROOT, 'bench', 'out', 'fuzz-live.json')));
const keep = argv.includes('--keep');
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

const { startFuzzDmsd, runLiveFuzz } = await testHelper('fuzz-live');
const work = mkdtempSync(join(tmpdir(), 'dms-bench-fuzz-live-'));
console.log(`fuzz-live: ${fmt(PACKETS)} packets at a live dmsd (seed ${SEED}, a legitimate check every ${fmt(BATCH)})`);
const srv = await startFuzzDmsd(work, ['--tcp-idle-timeout', '2', '--tcp-io-timeout', '1']);
let lastPrint = 0;
let report;
try {
  report = await runLiveFuzz(srv, {
    packets: PACKETS,
    seed: SEED,
    batch: BATCH,
    onBatch: (r) => {
      if (r.seconds - lastPrint < 30) return;
      lastPrint = r.seconds;
      console.log(`  ${fmt(r.sent)} packets, ${fmt(r.sent / r.seconds)}/s, RSS ${mib(r.rssEnd)} (first batch ${mib(r.rssStart)}, peak ${mib(r.rssMax)})`);
    },
  });
} finally {
  await srv.stop();
}
const errors = srv.errors();
const growth = report.rssStart > 0 ? report.rssEnd / report.rssStart - 1 : 0;
const result = {
  date: new Date().toISOString(),
  ...report,
  packetsPerSecond: report.sent / report.seconds,
  rssGrowth: growth,
  rssWithin10Percent: growth <= 0.1,
  errorLines: errors.slice(0, 20),
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `  ${fmt(report.sent)} packets (${fmt(report.udp)} UDP, ${fmt(report.tcp)} TCP on ${fmt(report.tcpConnections)} connections) in ${report.seconds.toFixed(1)} s: ` +
    `slowest legitimate answer UDP ${report.worstUdpMs.toFixed(1)} ms, TCP ${report.worstTcpMs.toFixed(1)} ms; ` +
    `RSS ${mib(report.rssStart)} → ${mib(report.rssEnd)} (${(growth * 100).toFixed(1)} %, peak ${mib(report.rssMax)})`,
);
console.log(`  written to ${outFile}`);
if (!keep) rmSync(work, { recursive: true, force: true });
if (report.failure || errors.length > 0) {
  console.error(`fuzz-live FAILED: ${report.failure ?? 'error lines logged'}\n${errors.slice(0, 5).join('\n')}\n${srv.tail()}`);
  process.exit(1);
}
