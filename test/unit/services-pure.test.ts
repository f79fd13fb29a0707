// Pure helpers of the service layer: RFC 1982 serial arithmetic and policy, zone names, CIDR → reverse zone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BadZoneName, cidrToReverseZone, chooseSerial, dateSerial, nextSerial, normalizeZoneName, operatorZoneName, serialGt, wrapSerial } from '../../src/services/index.js';

const serial = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const date = fc.date({ min: new Date('1990-01-01'), max: new Date('2099-12-31'), noInvalidDate: true });

test('RFC 1982: greater-than is irreflexive and antisymmetric; s + n (1 ≤ n < 2^31) is greater', () => {
  fc.assert(
    fc.property(serial, serial, (a, b) => {
      assert.ok(!serialGt(a, a));
      assert.ok(!(serialGt(a, b) && serialGt(b, a)));
    }),
  );
  fc.assert(fc.property(serial, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (s, n) => assert.ok(serialGt((s + n) % 2 ** 32, s))));
  assert.ok(!serialGt((5 + 2 ** 31) % 2 ** 32, 5), 'exactly 2^31 apart is undefined, not greater');
});

test('serial policy: the next serial is always greater, date-based when possible', () => {
  fc.assert(fc.property(serial, date, (last, now) => assert.ok(serialGt(nextSerial(last, now), last))));
  fc.assert(
    fc.property(serial, fc.option(serial, { nil: undefined }), date, (last, proposed, now) => {
      assert.ok(serialGt(chooseSerial(last, proposed, now), last));
    }),
  );
  assert.equal(dateSerial(new Date('2026-11-24T23:59:59Z')), 2026112400);
  assert.equal(nextSerial(null, new Date('2026-11-24T00:00:00Z')), 2026112400);
  assert.equal(nextSerial(2026112400, new Date('2026-11-24T00:00:00Z')), 2026112401);
  assert.equal(nextSerial(2026112317, new Date('2026-11-24T00:00:00Z')), 2026112400);
  assert.equal(chooseSerial(2026112400, 2026112410), 2026112410, 'a serial raised by hand is kept');
  assert.equal(chooseSerial(4000000000, 5, new Date('2026-11-24T00:00:00Z')), 4000000001, 'never wrapped by accident');
  // Two wrap steps reach any value: from 4000000000 back down to today's date serial.
  const w = wrapSerial(4000000000);
  assert.ok(serialGt(w, 4000000000));
  assert.ok(serialGt(2026112400, w));
});

test('zone names: canonical lower-case absolute; an operator\'s CIDR gives the reverse zone; garbage is BadZoneName', () => {
  assert.equal(normalizeZoneName('Example.ORG'), 'example.org.');
  assert.equal(normalizeZoneName(' example.org. '), 'example.org.');
  assert.equal(operatorZoneName('10.0.0.0/8'), '10.in-addr.arpa.');
  assert.equal(operatorZoneName('192.168.1.0/24'), '1.168.192.in-addr.arpa.');
  assert.equal(operatorZoneName('Example.ORG'), 'example.org.');
  // RFC 2317: a block longer than /24 is a classless zone; the name with '/' is an ordinary name everywhere else.
  assert.equal(operatorZoneName('192.0.2.64/26'), '64/26.2.0.192.in-addr.arpa.');
  assert.equal(operatorZoneName('64/26.2.0.192.in-addr.arpa.'), '64/26.2.0.192.in-addr.arpa.');
  assert.equal(normalizeZoneName('128/26.2.0.192.IN-ADDR.ARPA.'), '128/26.2.0.192.in-addr.arpa.');
  assert.throws(() => operatorZoneName('192.0.2.65/26'), BadZoneName, 'host bits set in a classless block');
  assert.equal(cidrToReverseZone('192.168.0.0/22'), '0.168.192.in-addr.arpa.', 'rounded up to an octet boundary');
  assert.equal(cidrToReverseZone('2001:db8::/32'), '8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(cidrToReverseZone('2001:db8:1:2:3::/52'), '0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.', '13 nibbles');
  assert.equal(cidrToReverseZone('fe80::1/10'), '8.e.f.ip6.arpa.');
  for (const bad of ['', '.', 'a..b', 'a b.org', `${'a'.repeat(64)}.org`]) assert.throws(() => normalizeZoneName(bad), BadZoneName, bad);
  // an internationalized zone name is asked for in its A-label form, which the refusal gives
  assert.throws(() => normalizeZoneName('bücher.example'), /A-label form \(xn--bcher-kva\.example\)/);
  for (const bad of ['300.1.1.0/24', '10.0.0.0/33', '2001:db8::/129']) assert.throws(() => operatorZoneName(bad), BadZoneName, bad);
});
