import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { loadZoneFile } from '../../src/server/zonefile-files.js';

const root = mkdtempSync(join(tmpdir(), 'zonefile-'));
after(() => rmSync(root, { recursive: true, force: true }));

const zoneDir = join(root, 'zones');
mkdirSync(join(zoneDir, 'inc'), { recursive: true });
writeFileSync(join(root, 'secret.inc'), 'stolen A 192.0.2.66\n');
writeFileSync(join(zoneDir, 'inc', 'hosts'), 'h1 A 192.0.2.1\n');
symlinkSync(join(root, 'secret.inc'), join(zoneDir, 'link.inc'));

function zone(name: string, body: string): string {
  const p = join(zoneDir, name);
  writeFileSync(p, `$TTL 60\n@ SOA ns host 1 2 3 4 5\n${body}`);
  return p;
}

test('origin defaults to the file base name; $INCLUDE inside the zone directory works', () => {
  const r = loadZoneFile(zone('example.org', '$INCLUDE inc/hosts\n'));
  assert.deepEqual(r.problems, []);
  assert.equal(r.origin?.toString(), 'example.org.');
  assert.deepEqual(r.records.map((x) => x.name.toString()), ['example.org.', 'h1.example.org.']);
  assert.equal(r.records[1].file, 'inc/hosts');
});

test('explicit origin wins over the file name; $ORIGIN in the file wins over both', () => {
  const p = zone('db.whatever', 'x A 192.0.2.1\n');
  assert.equal(loadZoneFile(p, { origin: Name.from('example.net') }).records[1].name.toString(), 'x.example.net.');
  const q = join(zoneDir, 'db.other');
  writeFileSync(q, '$ORIGIN example.com.\n$TTL 1\n@ A 192.0.2.1\n');
  const r = loadZoneFile(q);
  assert.equal(r.origin?.toString(), 'example.com.');
  assert.equal(r.records[0].name.toString(), 'example.com.');
});

test('$INCLUDE escapes are refused: .., absolute path outside, symlink out, missing file', () => {
  const p = zone('bad.example', `$INCLUDE ../secret.inc\n$INCLUDE ${join(root, 'secret.inc')}\n$INCLUDE link.inc\n$INCLUDE nope.inc\n$INCLUDE inc/../inc/hosts\n`);
  const r = loadZoneFile(p);
  const e = r.problems.filter((x) => x.severity === 'error');
  assert.deepEqual(e.map((x) => x.line), [3, 4, 5, 6]);
  for (const x of e.slice(0, 3)) assert.match(x.message, /refused: \$INCLUDE is confined/);
  assert.match(e[3].message, /ENOENT/);
  assert.ok(!r.records.some((x) => x.name.toString().startsWith('stolen')));
  // A path that wanders out and back in stays allowed.
  assert.ok(r.records.some((x) => x.name.toString() === 'h1.bad.example.'));
  // An absolute path inside the zone directory is fine.
  const q = zone('abs.example', `$INCLUDE ${join(zoneDir, 'inc', 'hosts')}\n`);
  assert.deepEqual(loadZoneFile(q).problems, []);
});

test('an unreadable zone file is a problem, not an exception', () => {
  const r = loadZoneFile(join(zoneDir, 'does-not-exist'));
  assert.equal(r.records.length, 0);
  assert.match(r.problems[0].message, /cannot read zone file/);
});
