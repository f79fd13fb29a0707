import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText, type Token } from '../../src/dns/rdata.js';
import { parseZoneText, type RRFlags, writeZoneText, type ZoneRecord } from '../../src/zonefile/index.js';

const origin = Name.from('example.org');

function tokens(s: string): Token[] {
  return s.split(' ').map((text) => ({ text, quoted: false }));
}
function rec(owner: string, type: number, rdata: string, extra: Partial<ZoneRecord> = {}, ttl = 3600): ZoneRecord {
  const toks = type === RRType.TXT ? [{ text: rdata, quoted: true }] : tokens(rdata);
  return { name: Name.parse(owner, origin), type, class: 1, ttl, rdata: rdataFromText(type, toks, origin), ...extra };
}

/** What must survive a write/parse cycle; flags with nothing set count as no flags. */
function essence(r: ZoneRecord) {
  const f = r.flags;
  const flags =
    f && (f.lockPtr || f.forceRev || f.trackRev || f.disable || f.ref || f.rrop)
      ? JSON.stringify([!!f.lockPtr, !!f.forceRev, !!f.trackRev, !!f.disable, f.ref ?? null, f.rrop ?? null])
      : null;
  return JSON.stringify([r.name.toString(), r.type, r.class, r.ttl, Buffer.from(r.rdata).toString('hex'), r.comment ?? null, r.group ?? null, flags]);
}
function roundTrip(records: ZoneRecord[]): ZoneRecord[] {
  const text = writeZoneText(origin, records);
  const r = parseZoneText(text, { file: 'rt' });
  assert.deepEqual(r.problems, [], `problems parsing:\n${text}`);
  assert.deepEqual(r.records.map(essence).sort(), records.map(essence).sort(), text);
  // Canonical: writing what was read gives the same text again.
  assert.equal(writeZoneText(origin, r.records), text);
  return r.records;
}

const soa = rec('@', RRType.SOA, 'ns1 hostmaster 2024010101 3600 900 604800 300');

test('canonical layout: header, ungrouped first, SOA first in its section, groups in order, DMS lines', () => {
  const records = [
    rec('www', RRType.A, '192.0.2.1', { group: 'Hosts', comment: 'web server' }),
    rec('@', RRType.NS, 'ns1', { group: 'Apex' }),
    { ...soa, group: 'Apex', flags: { ref: 'anathoth' } },
    rec('ns1', RRType.A, '192.0.2.53', { flags: { lockPtr: true, disable: true } }),
    rec('mail', RRType.MX, '10 mx.example.net.', { group: 'Hosts' }, 300),
    rec('txt', RRType.TXT, 'a "quoted" string; with semicolon', { group: 'Misc\nsecond line' }),
  ];
  const text = writeZoneText(origin, records);
  assert.equal(
    text,
    [
      '$ORIGIN example.org.',
      '$TTL 3600',
      '',
      ';!LOCKPTR DISABLE',
      'ns1\t3600\tIN\tA\t192.0.2.53',
      '',
      ';| Apex',
      ';!REF:anathoth',
      '@\t3600\tIN\tSOA\tns1 hostmaster 2024010101 3600 900 604800 300',
      '@\t3600\tIN\tNS\tns1',
      '',
      ';| Hosts',
      ';# web server',
      'www\t3600\tIN\tA\t192.0.2.1',
      'mail\t300\tIN\tMX\t10 mx.example.net.',
      '',
      ';| Misc',
      ';| second line',
      'txt\t3600\tIN\tTXT\t"a \\"quoted\\" string; with semicolon"',
      '',
    ].join('\n'),
  );
  roundTrip(records);
});

test('round trip: every flag, RROP values, multi-line comments, odd owner names, generic RDATA', () => {
  const flagsList: RRFlags[] = [
    { lockPtr: true }, { forceRev: true }, { trackRev: true }, { disable: true }, { ref: 'nuts@SQUIRREL-NZ' },
    { rrop: 'ADD' }, { rrop: 'DELETE' }, { rrop: 'UPDATE_RRTYPE' },
    { lockPtr: true, forceRev: true, trackRev: true, disable: true, ref: 'x', rrop: 'ADD' },
  ];
  const records: ZoneRecord[] = [soa, rec('@', RRType.NS, 'ns1')];
  for (const [i, flags] of flagsList.entries()) records.push(rec(`f${i}`, RRType.A, `192.0.2.${i}`, { flags }));
  records.push(rec('c', RRType.A, '192.0.2.100', { comment: 'line one\nline two\n\nafter blank' }));
  records.push(rec('e', RRType.A, '192.0.2.101', { comment: '' }));
  for (const owner of ['a\\.b', '\\@', '\\$dollar', '1', '\\(x\\)', 'semi\\;colon', 'sp\\032ace', 'q\\"', 'other.test.', '*', '*.wild'])
    records.push(rec(owner, RRType.A, '192.0.2.200', { group: 'odd names' }));
  records.push({ name: Name.parse('gen', origin), type: 65280, class: 1, ttl: 5, rdata: Uint8Array.from([1, 2, 3]), group: '' });
  records.push({ name: Name.parse('empty', origin), type: 65281, class: 1, ttl: 5, rdata: new Uint8Array(0), group: '' });
  roundTrip(records);
});

test('round trip (property): random owners, TTLs, comments, flags and groups', () => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
  const text = fc.stringMatching(/^[A-Za-z0-9 ,.:@/()$"'-]{0,20}$/).map((s) => s.trim());
  const flags = fc.record(
    {
      lockPtr: fc.boolean(), forceRev: fc.boolean(), trackRev: fc.boolean(), disable: fc.boolean(),
      ref: fc.stringMatching(/^[A-Za-z0-9@._-]{1,12}$/), rrop: fc.constantFrom('ADD' as const, 'DELETE' as const, 'UPDATE_RRTYPE' as const),
    },
    { requiredKeys: [] },
  );
  const record = fc.record({
    owner: fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
    kind: fc.integer({ min: 0, max: 3 }),
    n: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 0x7fffffff }),
    comment: fc.option(fc.array(text, { minLength: 1, maxLength: 3 }).map((l) => l.join('\n')), { nil: undefined }),
    group: fc.option(fc.constantFrom('G1', 'G2', 'second group', 'multi\nline'), { nil: undefined }),
    flags: fc.option(flags, { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(record, { maxLength: 25 }), (specs) => {
      const records: ZoneRecord[] = [soa];
      for (const s of specs) {
        const [type, rd] = [
          [RRType.A, `10.0.0.${s.n}`],
          [RRType.MX, `${s.n} mx${s.n}`],
          [RRType.TXT, `t${s.n} x`],
          [RRType.CNAME, `${s.owner}.target.test.`],
        ][s.kind] as [number, string];
        const r = rec(s.owner, type, rd, {}, s.ttl);
        if (s.comment !== undefined) r.comment = s.comment;
        if (s.group !== undefined) r.group = s.group;
        if (s.flags !== undefined) r.flags = s.flags;
        records.push(r);
      }
      roundTrip(records);
    }),
    { numRuns: 150 },
  );
});
