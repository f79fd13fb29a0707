// `npm test` on a machine without the peers stops before any test and prints the one command to run
// (scripts/test-peers.mjs without --install never installs anything).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('missing peers: exit 1 before any test, with the apt-get line and the unit-test fallback', () => {
  // An empty PATH hides the programs that live in /usr/bin (dig, kdig, tmux, pebble, lego…).
  const r = spawnSync(process.execPath, ['scripts/test-peers.mjs', 'interop'], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /tests: not run/);
  assert.match(r.stderr, /^ {2}sudo apt-get install -y .*\bbind9-dnsutils\b/m);
  assert.match(r.stderr, /npm run test:unit/);
});

test('the pure core needs no peer', () => {
  const r = spawnSync(process.execPath, ['scripts/test-peers.mjs', 'unit'], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
