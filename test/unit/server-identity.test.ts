// What dmsd tells of itself, from the configuration file: server_identity / server_version (CHAOS TXT id.server,
// version.bind) and nsid (RFC 5001) — defaults, "none", hex, and bad values refused with the key named.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readProtectionConfig, serverIdentity } from '../../src/daemon/protection.js';

const dir = mkdtempSync(join(tmpdir(), 'dms-identity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, text);
  return file;
}

test('defaults: the host name and "DMS <version>" to CHAOS queries, no NSID', () => {
  const id = serverIdentity(readProtectionConfig(undefined), 'host-1', 'DMS 1.2.3');
  assert.deepEqual(id, { chaos: { identity: 'host-1', version: 'DMS 1.2.3' } });
  assert.deepEqual(serverIdentity(readProtectionConfig(config('rrl_slip = 2\n')), 'host-1', 'DMS 1.2.3'), id);
});

test('set, hidden, NSID as text, as the host name and in hexadecimal', () => {
  const cfg = readProtectionConfig(config('server_identity = anycast-ams-3\nserver_version = none\nnsid = ams-3\n'));
  assert.deepEqual(serverIdentity(cfg, 'host-1', 'DMS 1'), { chaos: { identity: 'anycast-ams-3' }, nsid: Uint8Array.from(Buffer.from('ams-3')) });
  assert.deepEqual(serverIdentity(readProtectionConfig(config('server_identity =\nnsid = hostname\n')), 'host-1', 'DMS 1'), {
    chaos: { version: 'DMS 1' },
    nsid: Uint8Array.from(Buffer.from('host-1')),
  });
  assert.deepEqual(serverIdentity(readProtectionConfig(config('nsid = 0xC0FFEE\n')), 'h', 'v').nsid, Uint8Array.from([0xc0, 0xff, 0xee]));
});

test('bad values are refused with the key', () => {
  assert.throws(() => readProtectionConfig(config('nsid = 0xABC\n')), /nsid/);
  assert.throws(() => readProtectionConfig(config(`server_version = ${'x'.repeat(300)}\n`)), /server_version/);
});
