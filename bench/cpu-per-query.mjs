// CPU time per answered query at a fixed offered rate, below saturation: on a shared machine this moves much less
// than a qps figure (other processes take turns on the core, but do not change what one query costs dmsd).
// The servers are pinned to CPU 0, dnsperf (-Q rate) to CPU 1; CPU time is utime + stime from /proc/PID/stat.
//
//   node bench/cpu-per-query.mjs [--rate 20000] [--rounds 3] [--seconds 5] [--compare /other/tree/dist/daemon/main.js]
//                                [--compare-args '--udp-io libuv']
//
// --compare adds a second dmsd build (e.g. a git worktree of an older commit) to the same alternating rounds; add
// --compare-no-database when that build already has the flag (builds from before the database integration serve
// --zones straight from the files without it). --compare-args gives that second dmsd extra flags (space-separated);
// with --compare omitted it is this build again, so `--compare-args '--udp-io libuv'` measures the native UDP I/O
// (this build's default when the addon was built) against libuv's in the same rounds.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dmsdUdpPort, ROOT, startKnotd, waitSoa } from './lib.mjs';
import { writeQueryFile, writeServingZone } from './zones.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const rate = Number(opt('--rate', 20000));
const rounds = Number(opt('--rounds', 3));
const seconds = Number(opt('--seconds', 5));
const extraCompareArgs = (opt('--compare-args', '') ?? '').split(' ').filter((a) => a !== '');
const compare = opt('--compare', extraCompareArgs.length ? join(ROOT, 'dist', 'daemon', 'main.js') : undefined);
const compareArgs = [
  ...(argv.includes('--compare-no-database') || (extraCompareArgs.length && !argv.includes('--compare')) ? ['--no-database'] : []),
  ...extraCompareArgs,
];

const dir = mkdtempSync(join(tmpdir(), 'dms-cpuq-'));
const zonesDir = join(dir, 'zones');
mkdirSync(zonesDir);
const zoneFile = writeServingZone(zonesDir, 'bench.test');
const queryFile = join(dir, 'queries.txt');
writeQueryFile(queryFile, 'bench.test');

async function dmsd(entry, extra) {
  const proc = spawn('taskset', ['-c', '0', process.execPath, entry, ...extra, '--zones', zonesDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
  });
  const port = await dmsdUdpPort(proc);
  await waitSoa(port, 'bench.test', proc);
  return {
    port,
    pid: proc.pid, // taskset execs the program: same pid
    stop: () => new Promise((r) => {
      proc.once('exit', r);
      proc.kill('SIGTERM');
    }),
  };
}

const hz = Number(execFileSync('getconf', ['CLK_TCK']).toString());
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / hz;
}
function perf(port, secs) {
  const out = execFileSync(
    'taskset',
    ['-c', '1', 'dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(secs), '-Q', String(rate), '-c', '8', '-q', '200'],
    { encoding: 'utf8' },
  );
  return Number(/Queries completed:\s+(\d+)/.exec(out)[1]);
}

const servers = { dmsd: await dmsd(join(ROOT, 'dist', 'daemon', 'main.js'), ['--no-database']) };
if (compare) servers.compare = await dmsd(compare, compareArgs);
servers.knotd = await startKnotd({ zones: [{ name: 'bench.test', file: zoneFile }], cpu: 0, udpWorkers: 1 });
const res = {};
try {
  for (const k in servers) {
    perf(servers[k].port, 2);
    res[k] = [];
  }
  for (let r = 0; r < rounds; r++)
    for (const k in servers) {
      const c0 = cpuSeconds(servers[k].pid);
      const n = perf(servers[k].port, seconds);
      res[k].push(((cpuSeconds(servers[k].pid) - c0) * 1e6) / n);
    }
} finally {
  for (const k in servers) await servers[k].stop();
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`CPU microseconds per answered query at ${rate} queries/s offered, ${rounds} rounds of ${seconds} s (median, then each round):`);
for (const k in res) console.log(`  ${k.padEnd(8)} ${median(res[k]).toFixed(2).padStart(6)}   ${res[k].map((x) => x.toFixed(2)).join(' / ')}`);
console.log(`  knotd / dmsd = ${(median(res.knotd) / median(res.dmsd)).toFixed(2)} (the qps ratio when both are CPU-bound at this cost)`);
if (res.compare) console.log(`  compare / dmsd = ${(median(res.compare) / median(res.dmsd)).toFixed(2)}`);
