// src/dns/address.ts, the one address parser: agrees with node:net on what an address is, and computes reverse
// names and prefixes as the original DMS did.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  addressBytes,
  addressInPrefix,
  cidrToReverseZone,
  ipv6ToString,
  ipVersion,
  parsePrefix,
  reverseNameOfAddress,
} from '../../src/dns/address.js';

test('ipVersion agrees with node:net isIP on generated IPv4 and IPv6 text', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b));
  const junk = fc.stringMatching(/^[0-9a-f:.]{0,20}$/);
  fc.assert(
    fc.property(fc.oneof(v4, v6, junk), (t) => {
      assert.equal(ipVersion(t), isIP(t), t);
    }),
    { numRuns: 3000 },
  );
});

test('addressBytes: brackets, zone ids and IPv4-mapped IPv6', () => {
  assert.deepEqual([...addressBytes('[2001:db8::1]')!].slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual([...addressBytes('fe80::1%eth0')!].slice(0, 2), [0xfe, 0x80]);
  assert.deepEqual([...addressBytes('::ffff:192.0.2.7')!], [192, 0, 2, 7]);
  assert.equal(addressBytes('192.0.2.256'), undefined);
  assert.equal(addressBytes('example.org'), undefined);
});

test('prefixes', () => {
  assert.deepEqual(parsePrefix('192.0.2.0/24')?.bits, 24);
  assert.equal(parsePrefix('192.0.2.0/33'), undefined);
  assert.equal(parsePrefix('192.0.2.0/2x'), undefined);
  assert.equal(parsePrefix('1.2.3.4/8/9'), undefined);
  assert.ok(addressInPrefix('192.0.2.77', '192.0.2.64/26'));
  assert.ok(!addressInPrefix('192.0.2.128', '192.0.2.64/26'));
  assert.ok(addressInPrefix('::ffff:10.1.2.3', '10.0.0.0/8'));
  assert.ok(addressInPrefix('2001:db8:1::5', '2001:db8::/32'));
  assert.ok(!addressInPrefix('2001:db9::5', '2001:db8::/32'));
  assert.ok(!addressInPrefix('10.1.2.3', '2001:db8::/32'));
});

test('reverse names of addresses and networks (prefix rounded up to the octet / nibble)', () => {
  assert.equal(reverseNameOfAddress('192.0.2.7'), '7.2.0.192.in-addr.arpa.');
  assert.equal(
    reverseNameOfAddress('2001:db8::1'),
    '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
  );
  assert.equal(reverseNameOfAddress('192.0.2.0/24'), null);
  assert.equal(reverseNameOfAddress('www.example.org'), null);
  assert.equal(cidrToReverseZone('192.0.2.0/24'), '2.0.192.in-addr.arpa.');
  assert.equal(cidrToReverseZone('10.0.0.0/8'), '10.in-addr.arpa.');
  assert.equal(cidrToReverseZone('172.16.0.0/12'), '16.172.in-addr.arpa.');
  assert.equal(cidrToReverseZone('2001:db8::/32'), '8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(cidrToReverseZone('2001:db8:1::/52'), '0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(cidrToReverseZone('192.0.2.0/33'), undefined);
  assert.equal(cidrToReverseZone('example.org'), undefined);
});
