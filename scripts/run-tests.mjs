#!/usr/bin/env node
// Runs the test suites with node's test runner (TypeScript loaded through tsx):
//   test/unit      the pure core and in-process shells: no peer, no database, seconds (npm run test:unit)
//   test/services  the services, store and zone_tool on SQLite and a real PostgreSQL
//   test/interop   real peers: dig/kdig, nsupdate, named, knotd, nsd, unbound, pebble + lego, tmux
// Before anything runs, the peers the chosen suites need are checked (scripts/test-peers.mjs): installed when we
// may, otherwise the run stops with the one command to type — never a half-run with cryptic failures.
//
// Usage: node scripts/run-tests.mjs [--suite unit|services|interop]... [filter-substring ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePeers } from './test-peers.mjs';

const SUITES = ['unit', 'services', 'interop'];

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const suites = [];
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--suite') suites.push(args[++i]);
  else filters.push(args[i]);
}
for (const s of suites) {
  if (!SUITES.includes(s)) {
    console.error(`unknown suite '${s}' (${SUITES.join(', ')})`);
    process.exit(64);
  }
}
const chosen = suites.length ? suites : SUITES;
const files = chosen
  .flatMap((s) => walk(join('test', s)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const needed = SUITES.filter((s) => chosen.includes(s) && files.some((f) => f.startsWith(join('test', s))));
if (!ensurePeers(needed)) process.exit(1);
// The tests run zone_tool as its administrator: a developer outside root/sudo/wheel would otherwise be in zone_tool's
// restricted mode (src/cli/zone_tool/restricted.ts; its own test sets the list it wants).
const env = { ...process.env };
if (env.DMS_ADMIN_GROUP_LIST === undefined) {
  const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout?.trim();
  env.DMS_ADMIN_GROUP_LIST = `root sudo wheel${group ? ` ${group}` : ''}`;
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
