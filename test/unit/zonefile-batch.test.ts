// Records packed into batches (zonefile/batch.ts: the zone-file thread's hand-over) and replayed into a ZoneBuilder
// must compile to exactly the zone the parser's records give the builder directly — for every batch size, with
// owners that come back later, upper case, records larger than a batch, the SOA (and a second one), NSEC3 data and
// disabled records.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { keyIsBelowOrAt, wireKey } from '../../src/zone/key.js';
import { RunEncoder, type Zone, ZoneBuilder } from '../../src/zone/zone.js';
import { type NodeEncoding, RecordPacker, type RecordTarget, unpackRecords } from '../../src/zonefile/batch.js';
import { parseZoneText } from '../../src/zonefile/index.js';

let seed = 0xba7c;
const rnd = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];

const OWNERS = ['@', 'www', 'WWW', 'a.b', 'A.B', 'x', 'x', 'host-1', 'Mail.example.org.', 'other.test.', '*.w', 'sub.x', 'esc\\.aped', 'x\\065'];
const RECORDS = [
  'A 192.0.2.1',
  'A 192.0.2.2',
  'AAAA 2001:db8::1',
  'TXT "short"',
  `TXT "${'y'.repeat(200)}" "${'z'.repeat(100)}"`,
  'MX 10 mail',
  'CNAME target',
  'NS ns1.example.net.',
  'SRV 0 5 5060 sip',
  'PTR host.example.org.',
  'CAA 0 issue "ca.example.net"',
  'NSEC3 1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A',
  'RRSIG NSEC3 13 3 3600 20300101000000 20200101000000 12345 example.org. AAAA',
  'RRSIG A 13 3 3600 20300101000000 20200101000000 12345 example.org. AAAA',
  'TYPE65280 \\# 2 abcd',
];

function randomZone(): string {
  const lines = ['$ORIGIN example.org.', '$TTL 3600', `@ ${pick(['', '600'])} SOA ns1 hostmaster 1 7200 3600 1209600 300`];
  const n = 10 + rnd(80);
  for (let i = 0; i < n; i++) {
    const r = rnd(100);
    if (r < 4) lines.push(pick(['$ORIGIN sub.example.org.', '$ORIGIN example.org.', '$TTL 60', ';!DISABLE', '@ SOA ns2 h 2 1 1 1 1']));
    else {
      const owner = rnd(5) === 0 && i > 0 ? ' ' : pick(OWNERS);
      const ttl = pick(['', '', '300', '301']);
      const klass = pick(['', '', 'IN', 'in']);
      // A record too large for a small batch now and then.
      const rr = rnd(40) === 0 ? `TXT ${Array(20).fill(`"${'q'.repeat(250)}"`).join(' ')}` : pick(RECORDS);
      lines.push(`${owner} ${ttl} ${klass} ${rr}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const origin = Name.parse('example.org.');

function direct(text: string): Zone {
  const b = new ZoneBuilder(origin);
  const parsed = parseZoneText(text, { origin, sink: b, onRecord: (r) => (r.flags?.disable ? undefined : b.add(r)) });
  assert.equal(parsed.problems.filter((p) => p.severity === 'error').length, 0, JSON.stringify(parsed.problems));
  return b.finish();
}

const apexKey = wireKey(origin);
/** As the zone-file thread gives it (server/zonefile-worker.ts): each owner's run of records encoded there. */
const nodeEncoding: NodeEncoding = { apexKey, inZone: (key) => keyIsBelowOrAt(key, apexKey), encoder: (zoneClass) => new RunEncoder(zoneClass) };

function packed(text: string, size: number, encoded = false): { zone: Zone; batches: number; nodes: number } {
  const batches: [Uint8Array, Uint8Array | undefined][] = [];
  const packer = new RecordPacker((batch, data) => batches.push([batch, data]), size, undefined, encoded ? nodeEncoding : undefined);
  parseZoneText(text, { origin, sink: packer, onRecord: (r) => (r.flags?.disable ? undefined : packer.add(r)) });
  packer.end();
  const b = new ZoneBuilder(origin);
  let nodes = 0;
  const counting: RecordTarget = {
    add: (rr) => b.add(rr),
    addRaw: (...args) => b.addRaw(...args),
    addPacked: (...args) => {
      nodes++;
      b.addPacked(...args);
    },
  };
  for (const [batch, data] of batches) unpackRecords(batch, counting, data);
  return { zone: b.finish(), batches: batches.length, nodes };
}

/** Everything a compiled zone answers from, in comparable form. */
function dump(z: Zone): unknown {
  const nodes = [...z.nodes.entries()]
    .map(([key, n]) => ({
      key,
      owner: n.owner,
      bits: n.bits,
      kids: n.kids,
      wildcard: n.wildcard?.key,
      data: n.data === undefined ? undefined : Buffer.from(n.data.subarray(n.start, n.end)).toString('hex'),
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const nsec3 = [...z.nsec3.entries()].map(([k, rrs]) => [k, rrs.map((r) => [r.name.toString(), r.type, r.ttl, Buffer.from(r.rdata).toString('hex')])]);
  return { nodes, nsec3, serial: z.serial, records: z.recordCount, warnings: z.warnings, soa: Buffer.from(z.soa.rdata).toString('hex') };
}

test('records packed in batches of any size compile to the zone the parser gives directly', () => {
  let multi = 0;
  let nodes = 0;
  for (let round = 0; round < 300; round++) {
    const text = randomZone();
    const want = dump(direct(text));
    for (const size of [64, 300, 4096, 1 << 20]) {
      for (const encoded of [false, true]) {
        const got = packed(text, size, encoded);
        if (got.batches > 1) multi++;
        nodes += got.nodes;
        assert.deepEqual(dump(got.zone), want, `round ${round}, batch size ${size}${encoded ? ', runs encoded' : ''}:\n${text}`);
      }
    }
  }
  // The small sizes split zones into many batches (owners restated at each batch's start).
  assert.ok(multi > 600, `only ${multi} packings had more than one batch`);
  // Runs were handed over encoded (names that come back later, other classes, TTLs that differ and CNAMEs beside
  // other data then merged or warned about by the builder, as the records given directly).
  assert.ok(nodes > 3000, `only ${nodes} runs handed over encoded`);
});

test('runs longer than an encoder takes, or than a batch has room for, go as records', () => {
  // 100 addresses at one name (more than a run is encoded with), a name whose records fill a small batch, and names
  // around them that are encoded; the long name comes back after the others.
  const many = Array.from({ length: 100 }, (_, i) => `many A 192.0.2.${i}`).join('\n');
  const big = Array.from({ length: 12 }, (_, i) => `big TXT "${i}${'x'.repeat(200)}"`).join('\n');
  const text = `$ORIGIN example.org.\n$TTL 60\n@ SOA ns1 h 1 1 1 1 1\na A 192.0.2.1\n${many}\nb A 192.0.2.2\n${big}\nc AAAA 2001:db8::1\nmany AAAA 2001:db8::2\n`;
  const want = dump(direct(text));
  for (const size of [64, 300, 1024, 4096, 1 << 20]) {
    const got = packed(text, size, true);
    assert.deepEqual(dump(got.zone), want, `batch size ${size}`);
    if (size >= 4096) assert.ok(got.nodes >= 3, `batch size ${size}: ${got.nodes} runs encoded`);
  }
});

test('a recycled buffer is used for the next batch; the first batches are small and grow', () => {
  const text = `$ORIGIN example.org.\n$TTL 60\n@ SOA ns1 h 1 1 1 1 1\n${Array.from({ length: 5000 }, (_, i) => `n${i} A 192.0.2.${i % 250}`).join('\n')}\n`;
  const sizes: number[] = [];
  const spare: Uint8Array[] = [];
  const batches: Uint8Array[] = [];
  const packer = new RecordPacker(
    (batch) => {
      sizes.push(batch.buffer.byteLength);
      batches.push(batch.slice());
      // Given back at once, as the zone-file thread's other side does once it replayed a batch.
      spare.push(new Uint8Array(batch.buffer));
    },
    1 << 16,
    () => spare.shift(),
  );
  parseZoneText(text, { origin, sink: packer, onRecord: (r) => packer.add(r) });
  packer.end();
  assert.ok(sizes[0] < 1 << 16 && sizes.at(-1) === 1 << 16, `sizes ${sizes}`);
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i] >= sizes[i - 1], `sizes ${sizes}`);
  const b = new ZoneBuilder(origin);
  for (const batch of batches) unpackRecords(batch, b);
  assert.deepEqual(dump(b.finish()), dump(direct(text)));
});
