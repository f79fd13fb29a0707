// The web UI's reading of show_zone's text into table rows (src/web/records.ts), on text written by the real
// zone-file writer: owners, TTLs, types and RDATA as written, DMS comments, flags and groups attached to their record.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { parseZoneText } from '../../src/zonefile/index.js';
import { writeZoneText } from '../../src/zonefile/writer.js';
import { parseRecords } from '../../src/web/records.js';

test('records of the writer\'s text, with their comments, flags and group', () => {
  const origin = Name.parse('example.org.');
  const source = [
    '$TTL 300',
    '@ SOA ns1 hostmaster 1 3600 900 604800 300',
    '@ NS ns1',
    'ns1 A 192.0.2.1',
    'txt TXT "two words" "and more"',
    ';| Mail servers',
    ';# the primary one',
    '@ MX 10 mail',
    ';!LOCKPTR',
    'mail 600 A 192.0.2.25',
  ].join('\n');
  const parsed = parseZoneText(source, { origin });
  const text = writeZoneText(origin, parsed.records);
  const rows = parseRecords(text).map(({ line: _line, ...r }) => r);
  assert.deepEqual(rows, [
    { name: '@', ttl: 300, type: 'SOA', rdata: 'ns1 hostmaster 1 3600 900 604800 300' },
    { name: '@', ttl: 300, type: 'NS', rdata: 'ns1' },
    { name: 'ns1', ttl: 300, type: 'A', rdata: '192.0.2.1' },
    { name: 'txt', ttl: 300, type: 'TXT', rdata: '"two words" "and more"' },
    { name: '@', ttl: 300, type: 'MX', rdata: '10 mail', notes: 'group: Mail servers; the primary one' },
    { name: 'mail', ttl: 600, type: 'A', rdata: '192.0.2.25', notes: 'group: Mail servers; flags: LOCKPTR' },
  ]);
  // Each row's line number is where the record is in the text (for the text view).
  for (const r of parseRecords(text)) assert.match(text.split('\n')[r.line - 1], new RegExp(`^${r.name}\\t${r.ttl}\\t`));
});
