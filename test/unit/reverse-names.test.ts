// Reverse zone names as networks (issue 14): the network keys the store indexes reverse zones by, RFC 2317 classless
// names, and where an address's PTR lives in its reverse zone. Pure.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cidrToReverseZone,
  networkKey,
  networkKeyPrefixes,
  parseIpv4,
  parseIpv6,
  ptrOwnerIn,
  reverseZoneNetwork,
} from '../../src/dns/address.js';
import { matchingGrant, parseGrant } from '../../src/zone/update.js';
import { Name } from '../../src/dns/name.js';
import { typeFromString } from '../../src/dns/constants.js';

const key = (zone: string) => {
  const n = reverseZoneNetwork(zone);
  assert.ok(n, zone);
  return networkKey(n.bytes, n.bits);
};
const addrKey = (a: string) => {
  const b = parseIpv4(a) ?? parseIpv6(a)!;
  return networkKey(b, b.length * 8);
};

test('a reverse zone name is a network; its key is a prefix of the keys of the addresses it holds', () => {
  assert.deepEqual(reverseZoneNetwork('2.0.192.in-addr.arpa.'), { family: 4, bytes: Uint8Array.from([192, 0, 2, 0]), bits: 24, classless: false });
  assert.equal(reverseZoneNetwork('0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.')?.bits, 52);
  assert.equal(reverseZoneNetwork('64/26.2.0.192.in-addr.arpa.')?.classless, true);
  assert.equal(reverseZoneNetwork('64-26.2.0.192.in-addr.arpa.')?.bits, 26, 'the RFC 2317 "-" spelling');
  for (const bad of ['example.org.', 'in-addr.arpa.', '256.in-addr.arpa.', '01.2.in-addr.arpa.', 'ab.ip6.arpa.', '65/26.2.0.192.in-addr.arpa.', '0/24.2.0.192.in-addr.arpa.'])
    assert.equal(reverseZoneNetwork(bad), undefined, bad);
  assert.ok(addrKey('192.0.2.70').startsWith(key('64/26.2.0.192.in-addr.arpa.')));
  assert.ok(addrKey('192.0.2.70').startsWith(key('2.0.192.in-addr.arpa.')));
  assert.ok(!addrKey('192.0.2.130').startsWith(key('64/26.2.0.192.in-addr.arpa.')));
  assert.ok(addrKey('2001:db8:1:2:3::1').startsWith(key('0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.')));
  assert.ok(!addrKey('2001:db8:1:1002::1').startsWith(key('0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.')));
  assert.equal(key('2.0.192.in-addr.arpa.').length, 25);
  assert.equal(networkKeyPrefixes('4101').join(' '), '41 410 4101');
});

test('RFC 2317: a network longer than /24 names a classless zone; its PTRs are <octet>.<zone>', () => {
  assert.equal(cidrToReverseZone('192.0.2.64/26'), '64/26.2.0.192.in-addr.arpa.');
  assert.equal(cidrToReverseZone('192.0.2.128/25'), '128/25.2.0.192.in-addr.arpa.');
  assert.equal(cidrToReverseZone('192.0.2.65/26'), undefined, 'host bits set');
  assert.equal(cidrToReverseZone('192.0.2.7/32'), '7.2.0.192.in-addr.arpa.');
  const net = reverseZoneNetwork('64/26.2.0.192.in-addr.arpa.')!;
  assert.equal(ptrOwnerIn('64/26.2.0.192.in-addr.arpa.', net, parseIpv4('192.0.2.70')!), '70.64/26.2.0.192.in-addr.arpa.');
  const v6 = reverseZoneNetwork('0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.')!;
  assert.equal(
    ptrOwnerIn('0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.', v6, parseIpv6('2001:db8:1:2:3::1')!),
    '1.0.0.0.0.0.0.0.0.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
  );
  // As a DNS name the '/' is an ordinary character of a label.
  assert.equal(Name.parse('70.64/26.2.0.192.in-addr.arpa.').labels.length, 7);
});

test('update grants may carry FORCEREV / TRACKREV for the address records they allow', () => {
  const parse = (t: string) => parseGrant(t, (s) => Name.from(s), typeFromString);
  const g = parse('grant dhcp.key. zonesub A AAAA TRACKREV FORCEREV');
  assert.deepEqual(g.rrFlags, { trackRev: true, forceRev: true });
  assert.deepEqual(g.types?.length, 2);
  assert.equal(parse('grant dhcp.key. zonesub A').rrFlags, undefined);
  const m = matchingGrant([parse('grant other. zonesub A'), g], Name.from('dhcp.key.'), Name.from('h.dyn.test.'), 1);
  assert.equal(m, g);
  assert.throws(() => parse('grant dhcp.key. zonesub A BOGUS'));
});

test('the PTR owner built from shared labels is the name ptrOwnerIn spells', async () => {
  const { ptrOwnerName } = await import('../../src/services/reverse.js');
  const cases: [string, string][] = [
    ['0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.', '2001:db8:1:2:3::1'],
    ['8.b.d.0.1.0.0.2.ip6.arpa.', '2001:db8:ffff::abcd'],
    ['2.0.192.in-addr.arpa.', '192.0.2.70'],
    ['168.192.in-addr.arpa.', '192.168.7.9'],
    ['64/26.2.0.192.in-addr.arpa.', '192.0.2.127'],
  ];
  for (const [zone, addr] of cases) {
    const net = reverseZoneNetwork(zone)!;
    const bytes = parseIpv4(addr) ?? parseIpv6(addr)!;
    const built = ptrOwnerName(Name.parse(zone), net, bytes);
    assert.equal(built.key, Name.parse(ptrOwnerIn(zone, net, bytes)).key, `${zone} ${addr}`);
    assert.equal(built.toString(), ptrOwnerIn(zone, net, bytes));
  }
});
