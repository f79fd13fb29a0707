// The parent DS check with checkds=auto (issue 9): the parent zone's name servers are found through a resolver — the
// system's, or dmsd's --dnssec-resolver — as the nearest enclosing name with NS records, climbing over names that
// exist without NS (no zone cut) and never past a name that does not exist (no guess higher up: the root would say
// "no DS" for anything). Here the resolver asked is a real authoritative server (dmsd serving the parent zone from
// a file), which answers the NS and address queries as a resolver would.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseArgs } from '../../src/daemon/main.js';
import { checkParentDs, parentServers } from '../../src/daemon/parent-ds.js';
import { dmsdEntry, type RunningServer, startDmsd } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'dms-parent-ns-'));
let parent: RunningServer;

before(async () => {
  writeFileSync(
    join(dir, 'parent.test'),
    [
      '$ORIGIN parent.test.',
      '$TTL 300',
      '@ SOA ns1 hostmaster 1 3600 600 86400 300',
      '@ NS ns1',
      '@ NS ns2',
      '@ NS ns.elsewhere.example.',
      'ns1 A 127.0.0.1',
      'ns1 AAAA ::1',
      'ns2 A 127.0.0.2',
      // A name that exists without NS: no zone cut, the parent is further up.
      'b TXT "not a zone cut"',
      '',
    ].join('\n'),
  );
  parent = await startDmsd(dir, ['parent.test.']);
});

after(async () => {
  await parent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sorted = (a: { address: string; port: number }[]) => a.map((s) => `${s.address}#${s.port}`).sort();

test('checkds=auto: the parent zone\'s name servers, found through the resolver given, are asked on port 53', async () => {
  const resolver = [`127.0.0.1#${parent.port}`];
  // child.parent.test: its parent is parent.test (NS found at once); a name server outside the zone whose name does
  // not resolve gives no address and no error.
  assert.deepEqual(sorted(await parentServers('child.parent.test.', resolver)), ['127.0.0.1#53', '127.0.0.2#53', '::1#53']);
  // child.b.parent.test: b exists without NS (NODATA): climbed over.
  assert.deepEqual(sorted(await parentServers('child.b.parent.test.', resolver)), ['127.0.0.1#53', '127.0.0.2#53', '::1#53']);
  // Below a name that does not exist: no parent found, no guess higher up.
  assert.deepEqual(await parentServers('child.missing.parent.test.', resolver), []);
});

test('checkds=auto: the check asks each server found (none answering here on port 53 → not yet, per server)', async () => {
  const results = await checkParentDs({ zone: 'child.parent.test.', want: 'seen', keys: [], servers: 'auto' }, 300, [`127.0.0.1#${parent.port}`]);
  assert.deepEqual(results.map((r) => r.server).sort(), ['127.0.0.1#53', '127.0.0.2#53', '[::1]#53']);
});

test('dmsd --dnssec-resolver: repeatable, address or address#port; anything else is refused at start', () => {
  assert.deepEqual(parseArgs(['--dnssec-resolver', '192.0.2.53', '--dnssec-resolver', '[2001:db8::53]#5300']).dnssecResolvers, ['192.0.2.53', '[2001:db8::53]#5300']);
  assert.equal(parseArgs([]).dnssecResolvers, undefined);
  const entry = dmsdEntry()!;
  const r = spawnSync(process.execPath, [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, '--no-database', '--dnssec-resolver', 'resolver.example'], { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--dnssec-resolver[\s\S]*resolver "resolver\.example" is not an address or address#port/);
});
