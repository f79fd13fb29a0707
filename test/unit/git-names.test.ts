// Issue 12, the pure rules of the git mirror: a zone's file name and back (RFC 2317 names, dot files, sub-directories,
// `_keys` files, names that are not zone names), and change_by → git author.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileZone, identOf, zoneFileName } from '../../src/services/git/index.js';

test('zone ↔ file name: the zone without its final dot, RFC 2317 "/" escaped; every zone round-trips', () => {
  for (const [zone, file] of [
    ['example.com.', 'example.com'],
    ['2.0.192.in-addr.arpa.', '2.0.192.in-addr.arpa'],
    ['64/26.2.0.192.in-addr.arpa.', '64%2F26.2.0.192.in-addr.arpa'],
    ['a%b.example.', 'a%25b.example'],
  ]) {
    assert.equal(zoneFileName(zone), file);
    assert.deepEqual(fileZone(file), { zone, keys: false });
  }
  assert.deepEqual(fileZone('example.com._keys'), { zone: 'example.com.', keys: true });
  assert.deepEqual(fileZone('Example.COM'), { zone: 'example.com.', keys: false }, 'names are case-insensitive');
});

test('files that are not zones: skipped (dot files, sub-directories) or refused with a reason', () => {
  assert.deepEqual(fileZone('.gitignore'), { skip: true });
  assert.deepEqual(fileZone('docs/README'), { skip: true });
  for (const bad of ['not..a.zone', '_keys', '%zz.example', '*.example.com'])
    assert.ok('problem' in fileZone(bad), `${bad}: ${JSON.stringify(fileZone(bad))}`);
});

test('change_by → git author: "Name <mail>" kept, user@host as both, anything else as the name', () => {
  assert.deepEqual(identOf('Erin Example <erin@example.org>', 5), { name: 'Erin Example', email: 'erin@example.org', time: 5 });
  assert.deepEqual(identOf('tester@test', 5), { name: 'tester@test', email: 'tester@test', time: 5 });
  assert.deepEqual(identOf('personal._update.example.com.', 5), { name: 'personal._update.example.com.', email: '', time: 5 });
  assert.deepEqual(identOf('evil\n<x>', 5), { name: 'evil', email: 'x', time: 5 }, 'no newline or angle bracket reaches the commit header');
});
