// A zone built from a stored snapshot (src/zone/snapshot.ts) plus the records of the owners changed since is exactly
// the zone compiled from scratch at the new version: random zones (delegations and glue, wildcards, empty
// non-terminals, CNAME/DNAME, upper-case spellings, NSEC3 records, duplicates, differing TTLs), snapshots cut into
// small parts, random owners replaced, removed or added; every node compared. A damaged part is refused whole.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString } from '../../src/dns/rdata.js';
import { wireKey } from '../../src/zone/key.js';
import { addZoneSnapshot, encodeZoneSnapshot, SnapshotError } from '../../src/zone/snapshot.js';
import { compileZone, ZoneBuilder } from '../../src/zone/zone.js';
import { assertSameZone } from '../helpers/zone-compare.js';

const ORIGIN = Name.from('snap.example');
const LABELS = ['a', 'Sub', 'ns1', 'd', '*', 'x-y'];

interface Owner {
  labels: number[];
  records: { type: number; value: number; ttl: number }[];
}

const ownerArb: fc.Arbitrary<Owner> = fc.record({
  labels: fc.array(fc.nat(LABELS.length - 1), { minLength: 1, maxLength: 3 }),
  records: fc.array(
    fc.record({
      type: fc.constantFrom(RRType.A, RRType.AAAA, RRType.TXT, RRType.NS, RRType.MX, RRType.CNAME, RRType.DNAME, RRType.NSEC3),
      value: fc.nat(3),
      ttl: fc.constantFrom(60, 300),
    }),
    { minLength: 0, maxLength: 4 },
  ),
});

const ownerName = (labels: number[]) => Name.parse(`${labels.map((i) => LABELS[i]).join('.')}.${ORIGIN}`);

function recordsOf(o: Owner): RR[] {
  const name = ownerName(o.labels);
  return o.records.map((r) => {
    let text: string;
    switch (r.type) {
      case RRType.A: text = `192.0.2.${r.value}`; break;
      case RRType.AAAA: text = `2001:db8::${r.value}`; break;
      case RRType.TXT: text = `"t${r.value}"`; break;
      case RRType.MX: text = `${r.value} ns1.${ORIGIN}`; break;
      case RRType.NSEC3: text = `1 0 ${r.value} - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG`; break;
      default: text = `t${r.value}.elsewhere.example.`;
    }
    return { name, type: r.type, class: 1, ttl: r.ttl, rdata: rdataFromString(r.type, text, ORIGIN) };
  });
}

function apex(serial: number): RR[] {
  return [
    { name: ORIGIN, type: RRType.SOA, class: 1, ttl: 3600, rdata: rdataFromString(RRType.SOA, `ns1.${ORIGIN} h.${ORIGIN} ${serial} 7200 3600 1209600 300`) },
    { name: ORIGIN, type: RRType.NS, class: 1, ttl: 3600, rdata: rdataFromString(RRType.NS, `ns1.${ORIGIN}`) },
  ];
}

test('snapshot + changed owners = the zone compiled at the new version', () => {
  fc.assert(
    fc.property(
      fc.array(ownerArb, { minLength: 1, maxLength: 30 }),
      fc.array(ownerArb, { maxLength: 6 }),
      fc.array(fc.nat(100), { maxLength: 4 }),
      fc.constantFrom(64, 512, 1 << 20),
      (owners, changed, removed, partBytes) => {
        const before = compileZone(ORIGIN, [...apex(1), ...owners.flatMap(recordsOf)]);
        const parts = encodeZoneSnapshot(before, partBytes);
        // The new version: some owners replaced or added whole, some removed.
        const gone = new Set(removed.filter((i) => i < owners.length).map((i) => wireKey(ownerName(owners[i].labels))));
        const replaced = new Map(changed.map((o) => [wireKey(ownerName(o.labels)), o]));
        const touched = new Set([...gone, ...replaced.keys()]);
        const after = [...apex(2), ...owners.filter((o) => !touched.has(wireKey(ownerName(o.labels)))).flatMap(recordsOf)];
        const fresh = [...replaced.values()].flatMap(recordsOf);
        const want = compileZone(ORIGIN, [...after, ...fresh]);
        // As the loader does it: the apex and the touched owners' new records first, then the snapshot's other nodes.
        const b = new ZoneBuilder(ORIGIN);
        for (const rr of apex(2)) b.add(rr);
        for (const rr of fresh) b.add(rr);
        for (const part of parts) addZoneSnapshot(b, part, touched);
        assertSameZone(b.finish(), want, 'from the snapshot');
      },
    ),
    { numRuns: 300 },
  );
});

test('a whole zone round-trips through its snapshot, in one part or many', () => {
  const records: RR[] = [...apex(7)];
  for (let i = 0; i < 3000; i++) records.push(...recordsOf({ labels: [i % 6, (i >> 3) % 6], records: [{ type: RRType.A, value: i % 4, ttl: 60 }] }));
  records.push({ name: Name.parse(`H${1}.${ORIGIN}`), type: RRType.TXT, class: 1, ttl: 60, rdata: rdataFromString(RRType.TXT, '"upper"') });
  const zone = compileZone(ORIGIN, records);
  for (const size of [1 << 20, 200]) {
    const parts = encodeZoneSnapshot(zone, size);
    assert.equal(parts.length > 1, size === 200);
    const b = new ZoneBuilder(ORIGIN);
    for (const rr of apex(7)) b.add(rr);
    for (const part of parts) addZoneSnapshot(b, part);
    assertSameZone(b.finish(), zone, `parts of ${size} bytes`);
  }
});

test('a damaged snapshot part is refused whole, one of another zone too; records of a node given encoded are refused', () => {
  const zone = compileZone(ORIGIN, [...apex(1), ...recordsOf({ labels: [0], records: [{ type: RRType.A, value: 1, ttl: 60 }, { type: RRType.TXT, value: 2, ttl: 60 }] })]);
  const [part] = encodeZoneSnapshot(zone);
  for (const damage of [
    (p: Uint8Array) => p.subarray(0, p.length - 1),
    (p: Uint8Array) => Uint8Array.from([...p, 0]),
    (p: Uint8Array) => {
      const c = p.slice();
      c[0] = 0x41;
      return c;
    },
    (p: Uint8Array) => {
      const c = p.slice();
      c[12 + 11] ^= 0x01; // the first RRset's length
      return c;
    },
  ]) {
    const b = new ZoneBuilder(ORIGIN);
    for (const rr of apex(1)) b.add(rr);
    assert.throws(() => addZoneSnapshot(b, damage(part)), SnapshotError);
    // Nothing of the part was given: the zone is the apex alone.
    assert.equal(b.finish().nodes.size, 1);
  }
  // A snapshot of another zone is refused.
  const other = Name.from('other.example');
  const ob = new ZoneBuilder(other);
  ob.add({ ...apex(1)[0], name: other });
  assert.throws(() => addZoneSnapshot(ob, part), /outside the zone/);
  const b = new ZoneBuilder(ORIGIN);
  for (const rr of apex(1)) b.add(rr);
  addZoneSnapshot(b, part);
  assert.throws(() => b.add({ name: ownerName([0]), type: RRType.A, class: 1, ttl: 60, rdata: rdataFromString(RRType.A, '192.0.2.9') }), /given encoded/);
});
