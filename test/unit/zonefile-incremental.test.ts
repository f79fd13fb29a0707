// createZoneParser (incremental parsing) gives exactly what parseZoneText gives for the whole text — the same
// records (names, data, TTLs, comments, groups, flags, lines), the same problems (file, line, column, message) and the
// same final origin — however the text is cut: every fixture cut at every position in two pieces, and in random
// pieces of 1 to 40 characters; entries that span pieces (parentheses, quotes, comments, CRLF) included.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { createZoneParser, type ParseOptions, type ParseResult, parseZoneText } from '../../src/zonefile/index.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'zonefile');

function plain(r: ParseResult) {
  return {
    records: r.records.map((x) => ({ ...x, name: x.name.toString(), rdata: Buffer.from(x.rdata).toString('hex') })),
    problems: r.problems,
    origin: r.origin?.toString(),
  };
}

function incremental(pieces: string[], opts: ParseOptions): ParseResult {
  const records: ParseResult['records'] = [];
  const p = createZoneParser({ ...opts, onRecord: (r) => records.push(r) });
  for (const piece of pieces) p.push(piece);
  const res = p.end();
  return { ...res, records };
}

function texts(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const dir of ['good', 'bad'])
    for (const f of readdirSync(join(FIXTURES, dir)).filter((x) => x.endsWith('.zone')))
      out.push({ name: `${dir}/${f}`, text: readFileSync(join(FIXTURES, dir, f), 'utf8') });
  out.push({
    name: 'spanning entries',
    text:
      '$ORIGIN ex.test.\r\n$TTL 1h\r\n@ SOA ns1 host ( 1 ; serial\r\n 2 3 4 5 )\r\n;| group\r\n;# note\r\n;!DISABLE\r\n' +
      'a TXT "semi;colon" "two\\"q" ; trailing\r\n\tA 192.0.2.1 ;!TRACKREV\r\nb ( MX\n 10\n a ) ;# after\nc TXT "unterminated\n' +
      'd A 192.0.2.300\n$GENERATE 1-3 h$ A 10.0.0.$\n) stray\ne A 192.0.2.4',
  });
  return out;
}

const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

test('every fixture cut at every position in two pieces parses as the whole text', () => {
  let cuts = 0;
  for (const { name, text } of texts()) {
    const opts = { origin: Name.parse('ex.test.'), file: name };
    const whole = plain(parseZoneText(text, opts));
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(plain(incremental([text.slice(0, i), text.slice(i)], opts)), whole, `${name} cut at ${i}`);
      cuts++;
    }
  }
  assert.ok(cuts > 1000, `${cuts} cuts`);
});

test('random pieces of 1 to 40 characters, and empty pieces, parse as the whole text', () => {
  const r = rng(42);
  for (const { name, text } of texts()) {
    const opts = { origin: Name.parse('ex.test.'), file: name };
    const whole = plain(parseZoneText(text, opts));
    for (let round = 0; round < 20; round++) {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const len = r() < 0.1 ? 0 : 1 + Math.floor(r() * 40);
        pieces.push(text.slice(i, i + len));
        i += len;
      }
      assert.deepEqual(plain(incremental(pieces, opts)), whole, `${name} round ${round}`);
    }
  }
});

test('the error limit stops the incremental parse where the whole parse stops', () => {
  const text = Array.from({ length: 100 }, (_, i) => `h${i} A 999.0.0.${i}`).join('\n');
  const opts = { origin: Name.parse('ex.test.'), maxErrors: 10 };
  const p = createZoneParser(opts);
  for (const line of text.split(/(?<=\n)/)) p.push(line);
  assert.equal(p.stopped, true);
  assert.deepEqual(p.end().problems, parseZoneText(text, opts).problems);
});
