// Patching a compiled zone with a change (src/zone/delta.ts) gives exactly the zone compiled from scratch at the new
// version: random zones with delegations and glue, wildcards, empty non-terminals, CNAME/DNAME, NS/MX/SRV targets
// and NSEC3 records; random changes, several in a row; every node compared (flags, child counts, wildcard, owner
// spelling, records) and the encoded responses of the query handler compared byte for byte for every name of either
// version, names below and beside them, wildcard-matching names, and every relevant type. The snapshots patched
// from must keep answering as they did.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRType } from '../../src/dns/constants.js';
import { emptyMessage, encodeMessage, type Message, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString } from '../../src/dns/rdata.js';
import { QueryHandler } from '../../src/server/query.js';
import { patchZone, patchZoneRecords } from '../../src/zone/delta.js';
import { keyParent, wireKey } from '../../src/zone/key.js';
import { ZoneTable } from '../../src/zone/table.js';
import { VersionedMap } from '../../src/zone/versioned-map.js';
import { compileZone, type Zone } from '../../src/zone/zone.js';
import { assertSameZone } from '../helpers/zone-compare.js';

const ORIGIN = Name.from('example.org');
// Labels chosen so that random names nest: delegations with glue below them, DNAME owners with names below,
// wildcards at several depths, empty non-terminals.
const LABELS = ['a', 'sub', 'ns1', 'd', '*', 'W'];
const TYPES = [RRType.A, RRType.AAAA, RRType.TXT, RRType.NS, RRType.MX, RRType.SRV, RRType.CNAME, RRType.DNAME, RRType.PTR, RRType.NSEC3];
const QTYPES = [RRType.A, RRType.AAAA, RRType.TXT, RRType.NS, RRType.MX, RRType.SRV, RRType.CNAME, RRType.DNAME, RRType.SOA, RRType.DS, RRType.ANY, RRType.HINFO];

interface Spec {
  /** Label indices, leftmost first (empty: the apex). */
  labels: number[];
  /** Upper-case spelling variant of the owner (owner-replacement runs only). */
  upper: boolean;
  type: number;
  value: number;
  target: readonly number[];
  ttl: number;
}

const labelsArb = fc.array(fc.nat(LABELS.length - 1), { minLength: 0, maxLength: 3 });
const specArb: fc.Arbitrary<Spec> = fc.record({
  labels: labelsArb,
  upper: fc.boolean(),
  type: fc.constantFrom(...TYPES),
  value: fc.nat(3),
  target: fc.oneof(labelsArb, fc.constant([-1])),
  ttl: fc.constantFrom(60, 300, 3600),
});

function ownerText(labels: number[], upper: boolean): string {
  const rel = labels.map((i) => LABELS[i]).join('.');
  const text = rel === '' ? 'example.org.' : `${rel}.example.org.`;
  return upper ? text.toUpperCase() : text;
}

function targetText(t: readonly number[]): string {
  return t[0] === -1 ? 'ns.elsewhere.net.' : ownerText(t.filter((i) => LABELS[i] !== '*'), false);
}

/** The record a spec stands for. `uniform`: one TTL per owner and type, one spelling per owner. */
function toRR(s: Spec, uniform: boolean): RR {
  const owner = ownerText(s.labels, uniform ? false : s.upper);
  const t = targetText(s.target);
  let text: string;
  switch (s.type) {
    case RRType.A: text = `192.0.2.${s.value}`; break;
    case RRType.AAAA: text = `2001:db8::${s.value}`; break;
    case RRType.TXT: text = `"t${s.value}"`; break;
    case RRType.MX: text = `${s.value} ${t}`; break;
    case RRType.SRV: text = `0 ${s.value} 53 ${t}`; break;
    case RRType.NSEC3: text = `1 0 ${s.value} - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG`; break;
    default: text = t;
  }
  const ttl = uniform ? [60, 300, 3600][(s.labels.length * 7 + s.type) % 3] : s.ttl;
  return { name: Name.parse(owner), type: s.type, class: 1, ttl, rdata: rdataFromString(s.type, text, ORIGIN) };
}

function soa(serial: number): RR {
  return { name: ORIGIN, type: RRType.SOA, class: 1, ttl: 3600, rdata: rdataFromString(RRType.SOA, `ns1.example.org. host.example.org. ${serial} 7200 3600 1209600 300`) };
}

const recordId = (rr: RR) => `${rr.name.key}/${rr.type}/${Buffer.from(rr.rdata).toString('hex')}`;

// ---- comparing two snapshots ------------------------------------------------------------------------------------

function sameStructure(got: Zone, want: Zone, what: string): void {
  assertSameZone(got, want, what);
}

function query(name: Name, type: number, edns: boolean): Uint8Array {
  const m: Message = emptyMessage(0x2b2b);
  m.question.push({ name, type, class: 1 });
  if (edns) m.edns = { udpSize: 1232, extRcode: 0, version: 0, do: false, flags: 0, options: [] };
  return encodeMessage(m);
}

/** Names to ask: every name of either zone, its ancestors, names below and beside it, wildcard-matching names. */
function probeNames(zones: Zone[]): Name[] {
  const keys = new Set<string>();
  const out: Name[] = [];
  const add = (n: Name) => {
    if (n.wireLength > 255) return;
    if (!keys.has(n.key)) {
      keys.add(n.key);
      out.push(n);
    }
  };
  for (const z of zones)
    for (const node of z.nodes.values()) {
      const n = node.name;
      add(n);
      add(Name.parse(`zz.${n}`));
      add(Name.parse(`zz.yy.${n}`));
      if (!n.equals(ORIGIN)) add(Name.parse(`${n.toString().replace(/^[^.]+\./, 'qq.')}`));
      if (n.isWildcard()) add(Name.parse(`qq.${n.toString().slice(2)}`));
    }
  add(Name.parse('nothere.elsewhere.net.'));
  return out;
}

function sameAnswers(got: Zone, want: Zone, names: Name[], what: string): void {
  const tg = new ZoneTable();
  tg.set(got);
  const tw = new ZoneTable();
  tw.set(want);
  const hg = new QueryHandler(tg);
  const hw = new QueryHandler(tw);
  const asks: [number, boolean][] = [...QTYPES.map((t): [number, boolean] => [t, true]), [RRType.A, false], [RRType.NS, false], [RRType.ANY, false]];
  for (const name of names)
    for (const [type, edns] of asks) {
      const q = query(name, type, edns);
      // Twice: the first builds and memoizes the answer, the second comes from the memo.
      for (let i = 0; i < 2; i++) {
        const a = hg.handle(q, { transport: 'udp' });
        const b = hw.handle(q, { transport: 'udp' });
        assert.ok(a instanceof Uint8Array && b instanceof Uint8Array);
        if (Buffer.compare(a, b) !== 0)
          assert.fail(`${what}: ${name} type ${type} edns ${edns}: ${Buffer.from(a).toString('hex')} != ${Buffer.from(b).toString('hex')}`);
      }
    }
}

// ---- the properties ---------------------------------------------------------------------------------------------

const baseArb = fc.array(specArb, { minLength: 3, maxLength: 40 });

function baseRecords(specs: Spec[], uniform: boolean): RR[] {
  return [
    soa(1),
    { name: ORIGIN, type: RRType.NS, class: 1, ttl: 3600, rdata: rdataFromString(RRType.NS, 'ns1.example.org.') },
    { name: Name.parse('ns1.example.org.'), type: RRType.A, class: 1, ttl: 3600, rdata: rdataFromString(RRType.A, '192.0.2.53') },
    ...specs.map((s) => toRR(s, uniform)),
  ];
}

/** Half the time a new record goes to a name the zone already has (so changes meet existing nodes). */
const addArb = fc.record({ spec: specArb, reuse: fc.option(fc.nat(1000), { freq: 2 }) });
function placed(a: { spec: Spec; reuse: number | null }, specs: Spec[]): Spec {
  return a.reuse === null || specs.length === 0 ? a.spec : { ...a.spec, labels: specs[a.reuse % specs.length].labels };
}

test('records removed and added: the patched zone is the zone compiled at the new version', () => {
  const stepArb = fc.record({ remove: fc.array(fc.nat(200), { maxLength: 8 }), add: fc.array(addArb, { maxLength: 8 }), soaChange: fc.boolean() });
  fc.assert(
    fc.property(baseArb, fc.array(stepArb, { minLength: 1, maxLength: 3 }), (specs, steps) => {
      let records = baseRecords(specs, true);
      let zone = compileZone(ORIGIN, records);
      const history: { zone: Zone; records: RR[] }[] = [{ zone, records }];
      let serial = 1;
      for (const step of steps) {
        const body = records.slice(1);
        const removed = step.remove.filter((i) => i < body.length).map((i) => body[i]);
        const gone = new Set(removed.map(recordId));
        const added = step.add.map((a) => toRR(placed(a, specs), true));
        const newSoa = step.soaChange ? soa(++serial) : records[0];
        records = [newSoa, ...body.filter((r) => !gone.has(recordId(r))), ...added];
        zone = patchZoneRecords(zone, { removed, added, ...(step.soaChange ? { soa: newSoa } : {}) });
        const want = compileZone(ORIGIN, records);
        sameStructure(zone, want, 'patched');
        sameAnswers(zone, want, probeNames([zone, history[history.length - 1].zone]), 'patched');
        history.push({ zone, records });
      }
      // Every snapshot patched from still is what it was.
      for (const h of history.slice(0, -1)) sameStructure(h.zone, compileZone(ORIGIN, h.records), 'old snapshot');
      const first = compileZone(ORIGIN, history[0].records);
      sameAnswers(history[0].zone, first, probeNames([first]), 'first snapshot');
    }),
    { numRuns: 50 },
  );
});

test('owners replaced whole (any TTLs, duplicates, spellings): the patched zone is the zone compiled from scratch', () => {
  const ownerArb = fc.record({ labels: labelsArb, reuse: fc.option(fc.nat(1000), { freq: 2 }), records: fc.array(specArb, { maxLength: 5 }) });
  const stepArb = fc.record({ owners: fc.array(ownerArb, { maxLength: 6 }), soaChange: fc.boolean() });
  fc.assert(
    fc.property(baseArb, fc.array(stepArb, { minLength: 1, maxLength: 3 }), (specs, steps) => {
      let records = baseRecords(specs, false);
      let zone = compileZone(ORIGIN, records);
      const history: { zone: Zone; records: RR[] }[] = [{ zone, records }];
      let serial = 1;
      for (const step of steps) {
        // Last mention of an owner wins, as in patchZone.
        const lists = new Map<string, { name: Name; records: RR[] }>();
        for (const o of step.owners) {
          if (o.reuse !== null) o.labels = specs[o.reuse % specs.length].labels;
          const name = Name.parse(ownerText(o.labels, false));
          // Every record of the list at this owner (in whatever spelling the spec says); SOAs are not owner data here.
          lists.set(name.key, { name, records: o.records.map((s) => toRR({ ...s, labels: o.labels }, false)) });
        }
        const newSoa = step.soaChange ? soa(++serial) : records[0];
        records = [newSoa, ...records.slice(1).filter((r) => !lists.has(r.name.key)), ...[...lists.values()].flatMap((l) => l.records)];
        zone = patchZone(zone, { owners: [...lists.values()], ...(step.soaChange ? { soa: newSoa } : {}) });
        const want = compileZone(ORIGIN, records);
        sameStructure(zone, want, 'patched');
        sameAnswers(zone, want, probeNames([zone, history[history.length - 1].zone]), 'patched');
        history.push({ zone, records });
      }
      for (const h of history.slice(0, -1)) sameStructure(h.zone, compileZone(ORIGIN, h.records), 'old snapshot');
    }),
    { numRuns: 50 },
  );
});

test('a delegation placed over existing names and taken away again: the names below change their flags', () => {
  const text = ['ns1.example.org. A 192.0.2.53', 'x.sub.example.org. A 192.0.2.1', 'ns.sub.example.org. A 192.0.2.2', 'y.x.sub.example.org. TXT "y"'];
  const records = [soa(1), { name: ORIGIN, type: RRType.NS, class: 1, ttl: 3600, rdata: rdataFromString(RRType.NS, 'ns1.example.org.') }];
  for (const line of text) {
    const [owner, type, ...rest] = line.split(' ');
    const t = type === 'A' ? RRType.A : RRType.TXT;
    records.push({ name: Name.parse(owner), type: t, class: 1, ttl: 300, rdata: rdataFromString(t, rest.join(' '), ORIGIN) });
  }
  const z0 = compileZone(ORIGIN, records);
  const ns: RR = { name: Name.parse('sub.example.org.'), type: RRType.NS, class: 1, ttl: 300, rdata: rdataFromString(RRType.NS, 'ns.sub.example.org.') };
  const z1 = patchZoneRecords(z0, { removed: [], added: [ns] });
  const key = (n: string) => wireKey(Name.parse(n));
  assert.ok(z1.nodes.get(key('sub.example.org.'))!.delegation);
  assert.ok(z1.nodes.get(key('y.x.sub.example.org.'))!.belowCut);
  assert.ok(!z0.nodes.get(key('y.x.sub.example.org.'))!.belowCut, 'the old snapshot is untouched');
  sameStructure(z1, compileZone(ORIGIN, [...records, ns]), 'delegated');
  const z2 = patchZoneRecords(z1, { removed: [ns], added: [] });
  assert.ok(!z2.nodes.get(key('y.x.sub.example.org.'))!.belowCut);
  // sub.example.org. is an empty non-terminal again.
  assert.ok(z2.nodes.get(key('sub.example.org.'))!.emptyNonTerminal);
  sameStructure(z2, z0, 'undelegated');
  // The last name below it goes: the empty non-terminals above go with it, up to the apex.
  const below = records.filter((r) => r.name.isSubdomainOf(Name.parse('sub.example.org.')));
  const z3 = patchZoneRecords(z2, { removed: below, added: [] });
  assert.equal(z3.nodes.get(key('sub.example.org.')), undefined);
  assert.equal(z3.nodes.get(key('x.sub.example.org.')), undefined);
  assert.equal(z3.apex.kids, 1, 'only ns1 is left below the apex');
  sameStructure(z3, compileZone(ORIGIN, records.filter((r) => !below.includes(r))), 'emptied');
});

test('VersionedMap: every version keeps its content; a version made from an old one copies it', () => {
  const v0 = new VersionedMap(new Map([['a', 1], ['b', 2]]));
  const v1 = v0.with(new Map([['a', 10], ['c', 3]]));
  const v2 = v1.with(new Map<string, number | undefined>([['b', undefined], ['a', 11]]));
  assert.deepEqual([...v0.entries()].sort(), [['a', 1], ['b', 2]]);
  assert.deepEqual([...v1.entries()].sort(), [['a', 10], ['b', 2], ['c', 3]]);
  assert.deepEqual([...v2.entries()].sort(), [['a', 11], ['c', 3]]);
  assert.deepEqual([v0.size, v1.size, v2.size], [2, 3, 2]);
  assert.equal(v0.get('c'), undefined);
  assert.equal(v1.get('b'), 2);
  assert.ok(!v0.isNewest && !v1.isNewest && v2.isNewest);
  // A branch from an old version: v1's content plus the change, the others untouched.
  const w = v1.with(new Map([['d', 4]]));
  assert.deepEqual([...w.entries()].sort(), [['a', 10], ['b', 2], ['c', 3], ['d', 4]]);
  assert.deepEqual([...v2.entries()].sort(), [['a', 11], ['c', 3]]);
  assert.deepEqual([...v1.entries()].sort(), [['a', 10], ['b', 2], ['c', 3]]);
  // An iterator open across a new version would mix the two: it refuses.
  const it = v2.entries();
  it.next();
  v2.with(new Map([['e', 5]]));
  assert.throws(() => it.next(), /superseded/);
});

test('patching costs the change, not the zone: 1,000 changes to a 200,000-name zone', () => {
  const records: RR[] = [soa(1), { name: ORIGIN, type: RRType.NS, class: 1, ttl: 3600, rdata: rdataFromString(RRType.NS, 'ns1.example.org.') }];
  for (let i = 0; i < 200_000; i++)
    records.push({ name: Name.parse(`h${i}.example.org.`), type: RRType.A, class: 1, ttl: 300, rdata: Uint8Array.of(10, i >> 16, (i >> 8) & 255, i & 255) });
  let zone = compileZone(ORIGIN, records);
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) {
    const rr: RR = { name: Name.parse(`new${i}.example.org.`), type: RRType.A, class: 1, ttl: 300, rdata: Uint8Array.of(192, 0, 2, i & 255) };
    zone = patchZoneRecords(zone, { removed: [records[2 + i]], added: [rr], soa: soa(2 + i) });
  }
  const perChange = (performance.now() - t0) / 1000;
  assert.equal(zone.recordCount, 200_002);
  assert.equal(zone.serial, 1001);
  assert.equal(zone.nodes.get(keyParent(wireKey(Name.parse('x.new999.example.org.')))!)?.name.toString(), 'new999.example.org.');
  // A whole-zone copy of 200,000 names takes tens of milliseconds; a patch must stay far below.
  assert.ok(perChange < 1, `one change took ${perChange.toFixed(3)} ms`);
});
