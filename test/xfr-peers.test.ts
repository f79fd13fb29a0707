// BIND (named) and Knot (knotd) as secondaries of our primary: first an AXFR, then after a new version and our
// NOTIFY an IXFR, all TSIG-signed. The peers' logs prove which transfer kind was used.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Name } from '../src/dns/name.js';
import { keyToBindConfig, keyToKnotConfig } from '../src/dns/tsig.js';
import { notifyOnce } from '../src/server/notify.js';
import { ALLOWED_KEY, freePort, run, soa, startPrimary, type TestPrimary } from './xfr.support.js';

const origin = Name.from('example.org');

interface Peer {
  port: number;
  log: () => string;
  stop: () => Promise<void>;
}

function spawnPeer(cmd: string, args: string[], dir: string, port: number): Peer {
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => { out += d; });
  proc.stderr?.on('data', (d) => { out += d; });
  return {
    port,
    log: () => out,
    stop: async () => {
      if (proc.exitCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitFor(what: string, pred: () => boolean, log: () => string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log:\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;

async function askPeer(port: number, name: string, type: string): Promise<string> {
  const r = await run('dig', ['-p', String(port), '@127.0.0.1', name, type, '+short', '+norec', '+tries=1', '+time=2']);
  return r.stdout.trim();
}

describe('named as secondary: AXFR, then NOTIFY and IXFR, with TSIG', () => {
  let p: TestPrimary;
  let peer: Peer;
  before(async () => {
    p = await startPrimary(20);
    const dir = mkdtempSync(join(tmpdir(), 'dms-xfr-named-'));
    const port = await freePort();
    const conf = [
      keyToBindConfig(ALLOWED_KEY),
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${dir}/named.pid";`,
      `  session-keyfile "${dir}/session.key";`,
      `  listen-on port ${port} { 127.0.0.1; };`,
      '  listen-on-v6 { none; };',
      '  recursion no;',
      '  notify no;',
      '  dnssec-validation no;',
      '};',
      'controls { };',
      `zone "example.org" { type secondary; primaries port ${p.port} { 127.0.0.1 key "${ALLOWED_KEY.name.toString().replace(/\.$/, '')}"; }; file "${dir}/example.org.db"; allow-notify { 127.0.0.1; }; };`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'named.conf'), conf);
    peer = spawnPeer('named', ['-g', '-c', join(dir, 'named.conf'), '-n', '1'], dir, port);
  });
  after(async () => {
    await peer?.stop();
    await p?.close();
  });

  test('initial AXFR, then IXFR after NOTIFY', async () => {
    await waitFor('the first transfer', () => /Transfer status: success/.test(peer.log()), peer.log);
    assert.match(peer.log(), /transfer of 'example\.org\/IN' from 127\.0\.0\.1#\d+: Transfer completed/);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.10');
    assert.equal(await askPeer(peer.port, 'old.example.org', 'A'), '192.0.2.50');

    p.setVersion(2);
    const ack = await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(2));
    assert.deepEqual(ack, { acked: true, rcode: 0 }, 'named acknowledged our signed NOTIFY and its signature verified');
    await waitFor('the second transfer', () => count(peer.log(), /Transfer status: success/) >= 2, peer.log);
    const log = peer.log();
    assert.match(log, /notify from 127\.0\.0\.1#\d+: serial 2/);
    // named does not name the transfer type at this log level, but the size tells: the IXFR answer is 8 records
    // (SOA 2, SOA 1, -www, -old, SOA 2, +www, +new, SOA 2) where an AXFR would be 28.
    assert.match(log, /Transfer completed: 1 messages, 8 records.*\(serial 2\)/);
    assert.deepEqual(p.events.map((e) => [e.kind, e.clientSerial, e.serial, e.key]), [
      ['axfr', undefined, 1, 'xfr-key.'],
      ['ixfr', 1, 2, 'xfr-key.'],
    ]);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.20');
    assert.equal(await askPeer(peer.port, 'new.example.org', 'A'), '192.0.2.60');
    assert.equal(await askPeer(peer.port, 'old.example.org', 'A'), '');
    assert.match(await askPeer(peer.port, 'example.org', 'SOA'), / 2 3600 900 604800 300$/);
  });
});

describe('knotd as secondary: AXFR, then NOTIFY and IXFR, with TSIG', () => {
  let p: TestPrimary;
  let peer: Peer;
  before(async () => {
    p = await startPrimary(20);
    const dir = mkdtempSync(join(tmpdir(), 'dms-xfr-knot-'));
    const port = await freePort();
    const keyId = ALLOWED_KEY.name.toString().replace(/\.$/, '');
    const conf = [
      'server:',
      `    rundir: "${dir}"`,
      `    listen: 127.0.0.1@${port}`,
      '    udp-workers: 1',
      '    tcp-workers: 1',
      '    background-workers: 1',
      'log:',
      '  - target: stderr',
      '    any: info',
      keyToKnotConfig(ALLOWED_KEY).trimEnd(),
      'remote:',
      '  - id: primary',
      `    address: 127.0.0.1@${p.port}`,
      `    key: ${keyId}`,
      'acl:',
      '  - id: notify-from-primary',
      '    address: 127.0.0.1',
      `    key: ${keyId}`,
      '    action: notify',
      'database:',
      `    storage: "${dir}"`,
      'zone:',
      '  - domain: example.org.',
      `    storage: "${dir}"`,
      '    file: example.org.zone',
      '    master: primary',
      '    acl: notify-from-primary',
      '    zonefile-sync: -1',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'knot.conf'), conf);
    peer = spawnPeer('knotd', ['-c', join(dir, 'knot.conf')], dir, port);
  });
  after(async () => {
    await peer?.stop();
    await p?.close();
  });

  test('initial AXFR, then IXFR after NOTIFY', async () => {
    await waitFor('the first transfer', () => /AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(peer.log()), peer.log);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.10');
    p.setVersion(2);
    const ack = await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(2));
    assert.deepEqual(ack, { acked: true, rcode: 0 });
    await waitFor('the incremental transfer', () => /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(peer.log()), peer.log);
    assert.match(peer.log(), /IXFR, incoming, remote 127\.0\.0\.1@\d+.*started/);
    assert.doesNotMatch(peer.log(), /fallback to AXFR|IXFR.*failed/i);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.20');
    assert.equal(await askPeer(peer.port, 'new.example.org', 'A'), '192.0.2.60');
    assert.equal(await askPeer(peer.port, 'old.example.org', 'A'), '');
    // And once more with two steps condensed into one difference.
    p.setVersion(3);
    assert.ok((await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(3))).acked);
    await waitFor('the second incremental transfer', () => count(peer.log(), /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/) >= 2, peer.log);
    assert.equal(await askPeer(peer.port, 'third.example.org', 'AAAA'), '2001:db8::3');
    assert.deepEqual(p.events.filter((e) => e.kind !== 'up-to-date').map((e) => [e.kind, e.clientSerial, e.serial]), [
      ['axfr', undefined, 1],
      ['ixfr', 1, 2],
      ['ixfr', 2, 3],
    ]);
    assert.equal(await askPeer(peer.port, 'new.example.org', 'A'), '');
  });
});
