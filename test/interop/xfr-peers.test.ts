// BIND (named) and Knot (knotd) as secondaries of our primary: first an AXFR, then after a new version and our
// NOTIFY an IXFR, all TSIG-signed. The peers' logs prove which transfer kind was used.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { notifyOnce } from '../../src/server/notify.js';
import { type Secondary, startKnotSecondary, startNamedSecondary, until } from '../helpers/secondaries.js';
import { ALLOWED_KEY, freePort, run, soa, startPrimary, type TestPrimary } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;

async function askPeer(port: number, name: string, type: string): Promise<string> {
  const r = await run('dig', ['-p', String(port), '@127.0.0.1', name, type, '+short', '+norec', '+tries=1', '+time=2']);
  return r.stdout.trim();
}

describe('named as secondary: AXFR, then NOTIFY and IXFR, with TSIG', () => {
  let p: TestPrimary;
  let peer: Secondary;
  before(async () => {
    p = await startPrimary(20);
    peer = startNamedSecondary({ zone: 'example.org', primaryPort: p.port, port: await freePort(), key: ALLOWED_KEY });
  });
  after(async () => {
    await peer?.stop();
    await p?.close();
  });

  test('initial AXFR, then IXFR after NOTIFY', async () => {
    await until('the first transfer', () => /Transfer status: success/.test(peer.output()), peer.output);
    assert.match(peer.output(), /transfer of 'example\.org\/IN' from 127\.0\.0\.1#\d+: Transfer completed/);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.10');
    assert.equal(await askPeer(peer.port, 'old.example.org', 'A'), '192.0.2.50');

    p.setVersion(2);
    const ack = await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(2));
    assert.deepEqual(ack, { acked: true, rcode: 0 }, 'named acknowledged our signed NOTIFY and its signature verified');
    await until('the second transfer', () => count(peer.output(), /Transfer status: success/) >= 2, peer.output);
    const log = peer.output();
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
  let peer: Secondary;
  before(async () => {
    p = await startPrimary(20);
    peer = startKnotSecondary({ zone: 'example.org', primaryPort: p.port, port: await freePort(), key: ALLOWED_KEY });
  });
  after(async () => {
    await peer?.stop();
    await p?.close();
  });

  test('initial AXFR, then IXFR after NOTIFY', async () => {
    await until('the first transfer', () => /AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(peer.output()), peer.output);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.10');
    p.setVersion(2);
    const ack = await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(2));
    assert.deepEqual(ack, { acked: true, rcode: 0 });
    await until('the incremental transfer', () => /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(peer.output()), peer.output);
    assert.match(peer.output(), /IXFR, incoming, remote 127\.0\.0\.1@\d+.*started/);
    assert.doesNotMatch(peer.output(), /fallback to AXFR|IXFR.*failed/i);
    assert.equal(await askPeer(peer.port, 'www.example.org', 'A'), '192.0.2.20');
    assert.equal(await askPeer(peer.port, 'new.example.org', 'A'), '192.0.2.60');
    assert.equal(await askPeer(peer.port, 'old.example.org', 'A'), '');
    // And once more with two steps condensed into one difference.
    p.setVersion(3);
    assert.ok((await notifyOnce({ address: '127.0.0.1', port: peer.port, key: ALLOWED_KEY }, origin, soa(3))).acked);
    await until('the second incremental transfer', () => count(peer.output(), /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/) >= 2, peer.output);
    assert.equal(await askPeer(peer.port, 'third.example.org', 'AAAA'), '2001:db8::3');
    assert.deepEqual(p.events.filter((e) => e.kind !== 'up-to-date').map((e) => [e.kind, e.clientSerial, e.serial]), [
      ['axfr', undefined, 1],
      ['ixfr', 1, 2],
      ['ixfr', 2, 3],
    ]);
    assert.equal(await askPeer(peer.port, 'new.example.org', 'A'), '');
  });
});
