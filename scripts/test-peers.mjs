#!/usr/bin/env node
// The real peers the tests talk to, and the Debian packages that bring them: the one list .ci/run and
// scripts/run-tests.mjs read. A suite whose peers are missing is never half-run: they are installed when we can
// (root, or passwordless sudo, on a Debian-like machine) and otherwise the run stops before any test, printing the
// one command to run.
//
// `npm run bench` reads it too (suite "bench": the peers only the benchmarks compare with, besides the interop ones).
//
//   node scripts/test-peers.mjs [--install] [unit|services|interop|bench|all]   (default: all = the tests' suites;
//   exit 1 when something is missing)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Each peer: the Debian package, a program that proves it is installed (or, for a package without one, a file it
 * installs), and the suites that need it.
 */
export const PEERS = [
  { pkg: 'postgresql', program: 'initdb', suites: ['services', 'interop'] },
  { pkg: 'bind9', program: 'named', suites: ['interop'] },
  { pkg: 'bind9-dnsutils', program: 'dig', suites: ['interop'] },
  { pkg: 'knot', program: 'knotd', suites: ['interop'] },
  { pkg: 'knot-dnsutils', program: 'kdig', suites: ['interop'] },
  { pkg: 'ldnsutils', program: 'ldns-verify-zone', suites: ['interop'] },
  { pkg: 'nsd', program: 'nsd', suites: ['interop'] },
  { pkg: 'dnsperf', program: 'dnsperf', suites: ['interop'] },
  { pkg: 'tmux', program: 'tmux', suites: ['interop'] },
  { pkg: 'pebble', program: 'pebble', suites: ['interop'] },
  { pkg: 'lego', program: 'lego', suites: ['interop'] },
  { pkg: 'unbound', program: 'unbound', suites: ['interop'] },
  // git mirroring and import (issue 12): dmsd runs git itself; the tests push with it and serve it with `git daemon`.
  { pkg: 'git', program: 'git', suites: ['interop'] },
  // GET /config/<server> pulled as an operator's cron job would (test/interop/server-groups.test.ts).
  { pkg: 'curl', program: 'curl', suites: ['interop'] },
  // The tool chain node-gyp builds the native addons with at npm ci (better-sqlite3, and native/udp: dmsd's batched
  // UDP I/O, which udp-io.test.ts and udp-native.test.ts force): .ci/run installs the peers before npm ci.
  { pkg: 'g++', program: 'g++', suites: ['services', 'interop'] },
  { pkg: 'make', program: 'make', suites: ['services', 'interop'] },
  { pkg: 'python3', program: 'python3', suites: ['services', 'interop'] },
  // The web UI's browser tests (playwright-core drives it; no browser download).
  { pkg: 'chromium', program: 'chromium', suites: ['interop'] },
  // Only for `npm run bench`: PowerDNS beside the JSON-RPC API (bench/api.mjs), the sqlite3 shell (bench/update-ab.mjs
  // --a-sql/--b-sql) and taskset (servers pinned to a CPU).
  { pkg: 'pdns-server', program: 'pdns_server', suites: ['bench'] },
  { pkg: 'pdns-backend-sqlite3', file: '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql', suites: ['bench'] },
  { pkg: 'sqlite3', program: 'sqlite3', suites: ['bench'] },
  { pkg: 'util-linux', program: 'taskset', suites: ['bench'] },
];

/** System services the packages start and that would compete with the tests' own for ports. */
const SERVICES = ['named', 'bind9', 'knot', 'nsd', 'postgresql', 'unbound', 'pdns'];

const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

function onPath(program) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN];
  if (dirs.some((d) => d && existsSync(join(d, program)))) return true;
  // PostgreSQL keeps initdb in its versioned bin directory, off PATH.
  if (program === 'initdb' && existsSync('/usr/lib/postgresql')) {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')));
  }
  return false;
}

export function missingPeers(suites) {
  const want = suites.includes('all') ? ['unit', 'services', 'interop'] : suites;
  return PEERS.filter((p) => p.suites.some((s) => want.includes(s)) && !(p.file ? existsSync(p.file) : onPath(p.program)));
}

function sudoPrefix() {
  if (process.getuid?.() === 0) return [];
  const r = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return r.status === 0 ? ['sudo', '-n'] : null;
}

function run(cmd, env = process.env) {
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env });
  return r.status === 0;
}

/** Stop the system services the packages start: our tests start their own daemons on their own ports. */
export function stopSystemServices(prefix = sudoPrefix() ?? []) {
  for (const svc of SERVICES) {
    spawnSync(prefix[0] ?? 'systemctl', [...prefix.slice(1), ...(prefix.length ? ['systemctl'] : []), 'stop', svc], { stdio: 'ignore' });
    spawnSync(prefix[0] ?? 'service', [...prefix.slice(1), ...(prefix.length ? ['service'] : []), svc, 'stop'], { stdio: 'ignore' });
  }
}

/**
 * Make sure the suites' peers are there: returns true when they are (installing them when we may), false after
 * printing what to run.
 */
export function ensurePeers(suites, { install = true, who = 'tests' } = {}) {
  const missing = missingPeers(suites);
  if (missing.length === 0) return true;
  const pkgs = missing.map((p) => p.pkg);
  const command = `sudo apt-get install -y ${pkgs.join(' ')}`;
  const prefix = install && existsSync('/usr/bin/apt-get') ? sudoPrefix() : null;
  if (prefix) {
    console.error(`${who}: installing the missing peers: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run([...prefix, 'apt-get', 'update', '-qq'], env) && run([...prefix, 'apt-get', 'install', '-y', '-qq', ...pkgs], env)) {
      stopSystemServices(prefix);
      if (missingPeers(suites).length === 0) return true;
    }
  }
  const list = missing.map((p) => `${p.program ?? p.file} (${p.pkg})`).join(', ');
  console.error(
    who === 'tests'
      ? `tests: not run — these tests need real DNS software and PostgreSQL that this machine lacks: ${list}.\nInstall them with:\n\n  ${command}\n\nor run only the pure core: npm run test:unit`
      : `${who}: not run — it compares with real DNS software that this machine lacks: ${list}.\nInstall them with:\n\n  ${command}`,
  );
  return false;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const install = args.includes('--install');
  const suites = args.filter((a) => !a.startsWith('--'));
  const ok = ensurePeers(suites.length ? suites : ['all'], { install, who: suites.length > 0 && suites.every((x) => x === 'bench') ? 'bench' : 'tests' });
  if (ok && install) stopSystemServices();
  process.exit(ok ? 0 : 1);
}
