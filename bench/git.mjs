// git as the source of truth at scale (issue 12): --zones N zone files (default 1,000) in a local bare repository,
// imported into a fresh dmsd (SQLite, dist/) by git_pull; then ONE commit changing every file is pushed and dmsd is
// told with one TSIG-signed NOTIFY (as ocaml-dns's onotify; the key comes from a `_keys` file of the repository).
// Measured: the first import (zone_tool git_pull → every zone served), and NOTIFY → every zone serving its changed
// record (each zone's new name polled over UDP until all answer; the time the last one was first seen). Also the
// commits dmsd makes afterwards: none (an imported version is not pushed back). dmsd's "git: imported" log line says
// how long the import itself took and its steps (git, checks, the commit).
// Prints the figures and writes bench/out/git.json.
//
//   node bench/git.mjs [--zones 1000] [--timeout 600] [--keep]   (after npm run build)

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dmsdUdpPort, ROOT, sleep, udpQuery } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const N = Number(argOf('--zones', 1000));
const TIMEOUT_MS = Number(argOf('--timeout', 600)) * 1000;
const keep = argv.includes('--keep');
const log = (...a) => console.log(...a);
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const DMSD = join(ROOT, 'dist', 'daemon', 'main.js');
const ZONE_TOOL = join(ROOT, 'bin', 'zone_tool');
if (!existsSync(DMSD)) throw new Error('dist/daemon/main.js missing: run npm run build');
const { emptyMessage, encodeMessage } = await import(join(ROOT, 'dist', 'dns', 'message.js'));
const { Name } = await import(join(ROOT, 'dist', 'dns', 'name.js'));
const { keyFromText, signMessage } = await import(join(ROOT, 'dist', 'dns', 'tsig.js'));

const SECRET = 'kJJqipaQHQWqZL31Raar6uPnepGFIdtpjkXot9rv2xg=';
const zoneName = (i) => `z${i}.git-bench.test`;
const zoneText = (i, serial, extra = '') =>
  `$ORIGIN ${zoneName(i)}.\n$TTL 300\n@ SOA ns1 hostmaster ${serial} 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.${i % 250}\n${extra}`;

function git(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.net', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.net' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
function zoneTool(data, args) {
  const r = spawnSync(process.execPath, [ZONE_TOOL, '--data', data, ...args], { encoding: 'utf8', env: { ...process.env, DMS_CHANGE_BY: 'bench' } });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Poll every zone's `name` until each answers with an A record; the time (from `t0`) the last one was first seen. */
async function allServed(port, name, t0) {
  const left = new Set(Array.from({ length: N }, (_, i) => i));
  let last = 0;
  while (left.size > 0) {
    if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`${left.size} zones not served after ${TIMEOUT_MS / 1000} s`);
    const batch = [...left];
    for (let k = 0; k < batch.length; k += 100) {
      const chunk = batch.slice(k, k + 100);
      const answers = await Promise.all(chunk.map((i) => udpQuery(port, `${name}.${zoneName(i)}`, 1, 1000)));
      chunk.forEach((i, j) => {
        const r = answers[j];
        if (r && (r[3] & 0x0f) === 0 && r.readUInt16BE(6) > 0) {
          left.delete(i);
          last = Date.now() - t0;
        }
      });
    }
    if (left.size > 0) await sleep(20);
  }
  return last;
}

function notify(port, zone, key) {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.opcode = 4;
  m.aa = true;
  m.question = [{ name: Name.from(zone), type: 6, class: 1 }];
  const req = signMessage(encodeMessage(m), key, Date.now() / 1000);
  return new Promise((res, rej) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      rej(new Error('no answer to the NOTIFY'));
    }, 5000);
    s.on('message', (b) => {
      clearTimeout(t);
      s.close();
      res(b[3] & 0x0f);
    });
    s.send(req.bytes, port, '127.0.0.1');
  });
}

const root = mkdtempSync(join(tmpdir(), 'dms-bench-git-'));
let dmsd;
const results = { zones: N, date: new Date().toISOString() };
try {
  const bare = join(root, 'remote.git');
  const work = join(root, 'work');
  const data = join(root, 'data');
  git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
  git(root, ['clone', '-q', bare, work]);
  git(work, ['checkout', '-q', '-b', 'main']);
  for (let i = 0; i < N; i++) writeFileSync(join(work, zoneName(i)), zoneText(i, 1));
  writeFileSync(join(work, `${zoneName(0)}._keys`), `bench._update.${zoneName(0)}. DNSKEY 0 3 163 ${SECRET}\n`);
  git(work, ['add', '-A']);
  git(work, ['commit', '-q', '-m', `${N} zones`]);
  git(work, ['push', '-q', 'origin', 'main']);

  mkdirSync(data);
  zoneTool(data, ['set_config', 'git_mirror', bare]);
  zoneTool(data, ['set_config', 'git_managed', 'all']);
  zoneTool(data, ['set_config', 'git_workdir', join(root, 'gitwork')]);
  // An empty database would get the shipped examples: one zone first, then the repository's.
  let out = '';
  dmsd = spawn(process.execPath, [DMSD, '--data', data, '--listen', '127.0.0.1:0', '--no-http', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  dmsd.stdout.on('data', (d) => {
    out = (out + d).slice(-200000);
  });
  dmsd.stderr.on('data', (d) => {
    out = (out + d).slice(-200000);
  });
  const port = await dmsdUdpPort(dmsd, () => out);
  log(`git bench: ${N} zones; load average ${loadAverage()}`);

  // First import: dmsd pulls at start (git_managed set) — timed from dmsd's start until every zone is served.
  const t0 = Date.now();
  const firstMs = await allServed(port, 'www', t0);
  log(`  first import (dmsd's pull at start): all ${N} zones served after ${(firstMs / 1000).toFixed(2)} s`);
  results.firstImportMs = firstMs;

  // One commit changing every file (on top of what dmsd pushed: the shipped example zone), one signed NOTIFY.
  git(work, ['pull', '-q', '--rebase', 'origin', 'main']);
  for (let i = 0; i < N; i++) writeFileSync(join(work, zoneName(i)), zoneText(i, 2, `changed A 198.51.100.${i % 250}\n`));
  git(work, ['commit', '-q', '-a', '-m', `change all ${N} zones`]);
  git(work, ['push', '-q', 'origin', 'main']);
  const commitsBefore = git(bare, ['rev-list', '--count', 'main']).trim();
  const key = keyFromText(`hmac-sha256:bench._update.${zoneName(0)}:${SECRET}`);
  const t1 = Date.now();
  const rcode = await notify(port, zoneName(0), key);
  if (rcode !== 0) throw new Error(`NOTIFY answered rcode ${rcode}:\n${out.slice(-3000)}`);
  const pushMs = await allServed(port, 'changed', t1);
  log(`  one push changing ${N} zones, signed NOTIFY → all served after ${(pushMs / 1000).toFixed(2)} s (${((N * 1000) / pushMs).toFixed(0)} zones/s)`);
  results.pushToServedMs = pushMs;
  // Where the time went: dmsd's own account of the import (queued → taken, each step, the commit), the rest being
  // the zone table taking in the new versions.
  const imported = out.split('\n').filter((l) => l.includes('"git: imported"')).pop();
  if (imported) {
    const j = JSON.parse(imported);
    results.pushImport = { queuedMs: j.queuedMs, ms: j.ms, steps: j.steps };
    log(`  of which the import (NOTIFY queued → committed): ${j.ms} ms, taken after ${j.queuedMs} ms; steps (ms) ${JSON.stringify(j.steps)}`);
  }
  results.loadAverage = loadAverage();
  await sleep(2000);
  results.commitsByDmsAfterImport = Number(git(bare, ['rev-list', '--count', 'main']).trim()) - Number(commitsBefore);
  log(`  commits dmsd pushed back after the import: ${results.commitsByDmsAfterImport} (expected 0)`);
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', 'git.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  dmsd?.kill('SIGKILL');
  if (!keep) rmSync(root, { recursive: true, force: true });
  else log(`kept ${root}`);
}
