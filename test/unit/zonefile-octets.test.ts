// A zone file's octets reach the records unchanged (src/zonefile/octets.ts): UTF-8 text in a TXT record is not
// encoded twice, an octet that is not UTF-8 is not replaced — whole files and files in pieces cut anywhere.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { parseZoneText, ZoneFileDecoder, zoneFileText } from '../../src/zonefile/index.js';

const origin = Name.from('example.org');
const head = '$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n';

/** The RDATA octets of the TXT records a file of these bytes gives. */
function txtOf(bytes: Uint8Array, pieces = 0): string[] {
  let text: string;
  if (pieces === 0) text = zoneFileText(bytes);
  else {
    const d = new ZoneFileDecoder();
    text = '';
    for (let i = 0; i < bytes.length; i += pieces) text += d.push(bytes.subarray(i, i + pieces));
    text += d.end();
  }
  const r = parseZoneText(text, { origin });
  assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
  return r.records.filter((x) => x.type === RRType.TXT).map((x) => Buffer.from(x.rdata).toString('hex'));
}

const file = (body: number[]) => Uint8Array.from([...Buffer.from(head), ...body, 0x0a]);
const ascii = (s: string) => [...Buffer.from(s, 'latin1')];

test('UTF-8 in a TXT record: the file\'s octets, whole and in pieces of every size', () => {
  // t TXT "café 🙂"
  const bytes = file([...ascii('t TXT "caf'), 0xc3, 0xa9, 0x20, 0xf0, 0x9f, 0x99, 0x82, 0x22]);
  const want = ['0a636166c3a920f09f9982'];
  assert.deepEqual(txtOf(bytes), want);
  for (const n of [1, 2, 3, 5, 7, 64]) assert.deepEqual(txtOf(bytes, n), want, `pieces of ${n}`);
});

test('octets that are not UTF-8 (a latin1 file, a stray byte) are kept as they are, not replaced', () => {
  // t TXT "caf\xE9" and a lone continuation byte, an overlong form and a truncated sequence at the end of a string
  const bytes = file([...ascii('t TXT "caf'), 0xe9, 0x22, 0x20, 0x22, 0x80, 0xc0, 0xaf, 0x22, 0x20, 0x22, 0xe2, 0x82, 0x22]);
  const want = ['04636166e9' + '03' + '80c0af' + '02' + 'e282'];
  assert.deepEqual(txtOf(bytes), want);
  for (const n of [1, 2, 3, 4, 9]) assert.deepEqual(txtOf(bytes, n), want, `pieces of ${n}`);
});

test('ASCII files decode as they are (the common, fast case)', () => {
  const bytes = file(ascii('t TXT "plain" "\\233"'));
  assert.equal(zoneFileText(bytes), Buffer.from(bytes).toString('latin1'));
  assert.deepEqual(txtOf(bytes), ['05706c61696e01e9']);
});
