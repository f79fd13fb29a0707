// Property test: any sequence of RFC 2136 operations keeps the zone servable — exactly one SOA, a non-empty apex
// NS RRset, never a CNAME beside other data — and never throws; an unchanged result is the input itself.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { emptyMessage, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { applyUpdate, diffRecords } from '../../src/zone/update.js';
import { canonicalRdata } from '../../src/dns/rdata.js';
import { rrText } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');
const r = (t: string) => rrText(t, origin);
const names = ['@', 'a', 'b', 'c.a'];
const rdataFor: Record<string, string[]> = {
  A: ['192.0.2.1', '192.0.2.2'],
  NS: ['ns1', 'ns2', 'ns3'],
  CNAME: ['a', 'b'],
  TXT: ['x', 'y'],
  SOA: ['ns1 hostmaster 5 3600 900 604800 300', 'ns1 hostmaster 4 3600 900 604800 300', 'ns1 hostmaster 9 3600 900 604800 300'],
};
const types = Object.keys(rdataFor);

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Op['kind'][]>('add', 'delrr', 'delset', 'delname'),
  name: fc.constantFrom(...names),
  type: fc.constantFrom(...types),
  pick: fc.nat(2),
  ttl: fc.constantFrom(60, 300),
});

interface Op {
  kind: 'add' | 'delrr' | 'delset' | 'delname';
  name: string;
  type: string;
  pick: number;
  ttl: number;
}

function toRR(o: Op): RR {
  const values = rdataFor[o.type];
  const v = values[o.pick % values.length];
  switch (o.kind) {
    case 'add':
      return r(`${o.name} ${o.ttl} ${o.type} ${v}`);
    case 'delrr':
      return { ...r(`${o.name} 0 ${o.type} ${v}`), class: RRClass.NONE };
    case 'delset':
      return { ...r(`${o.name} 0 ${o.type} ${v}`), class: RRClass.ANY, rdata: new Uint8Array(0) };
    default:
      return { name: Name.parse(o.name, origin), type: RRType.ANY, class: RRClass.ANY, ttl: 0, rdata: new Uint8Array(0) };
  }
}

test('applyUpdate keeps the zone servable for any operation sequence', () => {
  const start = [r('@ 300 SOA ns1 hostmaster 5 3600 900 604800 300'), r('@ 300 NS ns1'), r('a 300 A 192.0.2.1')];
  fc.assert(
    fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }), (batches) => {
      let zone = start;
      for (const batch of batches) {
        const m = emptyMessage(1);
        m.opcode = Opcode.UPDATE;
        m.question.push({ name: origin, type: RRType.SOA, class: RRClass.IN });
        m.authority = batch.map(toRR);
        const res = applyUpdate(zone, origin, m);
        assert.equal(res.rcode, Rcode.NOERROR, res.reason);
        if (!res.changed) assert.deepEqual(res.newRecords, zone);
        zone = res.newRecords;
        const soas = zone.filter((x) => x.type === RRType.SOA);
        assert.equal(soas.length, 1);
        assert.ok(soas[0].name.equals(origin));
        assert.ok(zone.some((x) => x.type === RRType.NS && x.name.equals(origin)), 'apex NS kept');
        const byName = new Map<string, Set<number>>();
        for (const x of zone) byName.set(x.name.key, (byName.get(x.name.key) ?? new Set()).add(x.type));
        for (const [n, ts] of byName) assert.ok(!ts.has(RRType.CNAME) || ts.size === 1, `CNAME beside other data at ${n}`);
        const ttls = new Map<string, number>();
        for (const x of zone) {
          const k = `${x.name.key}/${x.type}`;
          if (ttls.has(k)) assert.equal(ttls.get(k), x.ttl, `one TTL per RRset at ${k}`);
          ttls.set(k, x.ttl);
        }
      }
    }),
    { numRuns: 500 },
  );
});

/** diffRecords as it was written first: every record keyed by its canonical content. */
function diffByContent(before: readonly RR[], after: readonly RR[]): { removed: RR[]; added: RR[] } {
  const key = (rr: RR) => `${rr.name.key}\u0000${rr.type}\u0000${rr.ttl}\u0000${Buffer.from(canonicalRdata(rr.type, rr.rdata)).toString('hex')}`;
  const b = new Map(before.map((rr) => [key(rr), rr]));
  const a = new Map(after.map((rr) => [key(rr), rr]));
  return { removed: [...b].filter(([k]) => !a.has(k)).map(([, rr]) => rr), added: [...a].filter(([k]) => !b.has(k)).map(([, rr]) => rr) };
}

test('diffRecords: the same records (same objects among them) as a comparison of every record by content', () => {
  // A pool of records (owner case and RDATA name case varied: the same record spelled otherwise), each list made of
  // pool objects (shared between the lists) and fresh copies of them (equal content, other objects).
  const pool = [
    ...names.flatMap((n) => types.flatMap((t) => rdataFor[t].map((v) => r(`${n} 300 ${t} ${v}`)))),
    r('A 300 A 192.0.2.1'),
    r('a 60 A 192.0.2.1'),
    r('@ 300 NS NS1'),
    r('@ 300 SOA NS1 Hostmaster 5 3600 900 604800 300'),
  ];
  const list = fc.array(fc.record({ i: fc.nat(pool.length - 1), copy: fc.boolean() }), { maxLength: 12 });
  fc.assert(
    fc.property(list, list, (xs, ys) => {
      const make = (zs: { i: number; copy: boolean }[]) => zs.map(({ i, copy }) => (copy ? { ...pool[i], rdata: pool[i].rdata.slice() } : pool[i]));
      const before = make(xs);
      const after = make(ys);
      assert.deepEqual(diffRecords(before, after), diffByContent(before, after));
    }),
    { numRuns: 2000 },
  );
});
