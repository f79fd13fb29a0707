import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodeError } from '../../src/dns/errors.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { WireReader, WireWriter } from '../../src/dns/wire.js';

test('name parse, key, relative', () => {
  const o = Name.from('Example.ORG');
  assert.equal(o.key, 'example.org.');
  assert.equal(o.toString(), 'Example.ORG.');
  const w = Name.parse('WWW', o);
  assert.equal(w.key, 'www.example.org.');
  assert.ok(w.isSubdomainOf(o));
  assert.ok(!o.isSubdomainOf(w));
  assert.equal(w.toRelativeString(o), 'WWW');
  assert.equal(Name.parse('a\\.b', o).labels.length, 3);
  assert.equal(Name.parse('a\\.b', o).toString(), 'a\\.b.Example.ORG.');
  assert.equal(Name.parse('\\065', o).key, 'a.example.org.');
  assert.throws(() => Name.parse('a..b.'));
  assert.throws(() => Name.parse(`${'a'.repeat(64)}.`));
});

test('canonical order (RFC 4034 6.1 example)', () => {
  const names = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const shuffled = [...names].reverse().map((n) => Name.parse(n));
  shuffled.sort((a, b) => a.compareCanonical(b));
  assert.deepEqual(shuffled.map((n) => n.toString()), names.map((n) => Name.parse(n).toString()));
});

test('compression pointers: loops and forward pointers are rejected', () => {
  // pointer to itself
  const loop = Uint8Array.from([0xc0, 0x00]);
  assert.throws(() => new WireReader(loop).name(), DecodeError);
  // forward pointer
  const fwd = Uint8Array.from([0xc0, 0x02, 0x00]);
  assert.throws(() => new WireReader(fwd).name(), DecodeError);
  // valid backward pointer
  const ok = Uint8Array.from([1, 0x61, 0, 1, 0x62, 0xc0, 0x00]);
  const r = new WireReader(ok, 3);
  assert.equal(r.name().key, 'b.a.');
  assert.equal(r.pos, 7);
});

test('message round trip with compression and truncation', () => {
  const m = emptyMessage(0x1234);
  m.qr = true;
  m.aa = true;
  const q = Name.from('www.example.org');
  m.question.push({ name: q, type: 1, class: 1 });
  for (let i = 0; i < 40; i++) m.answer.push({ name: q, type: 1, class: 1, ttl: 300, rdata: Uint8Array.from([10, 0, 0, i]) });
  const full = encodeMessage(m);
  const d = decodeMessage(full);
  assert.equal(d.answer.length, 40);
  assert.equal(d.answer[5].name.key, 'www.example.org.');
  const small = encodeMessage(m, { maxSize: 512 });
  assert.ok(small.length <= 512);
  const ds = decodeMessage(small);
  assert.equal(ds.tc, true);
  assert.equal(ds.answer.length, 0);
  assert.throws(() => decodeMessage(Uint8Array.from([...full, 0])), DecodeError);
  const w = new WireWriter();
  w.name(q);
  w.name(q);
  assert.equal(w.pos, q.wireLength + 2);
});

test('a character beyond ASCII in presentation format stands for its UTF-8 octets (as BIND reads a UTF-8 zone file)', () => {
  const octets = (t: string) => Array.from(Name.parse(t).labels[0]);
  assert.deepEqual(octets('café.example.'), [0x63, 0x61, 0x66, 0xc3, 0xa9]);
  assert.deepEqual(octets('caf\\é.example.'), [0x63, 0x61, 0x66, 0xc3, 0xa9]);
  assert.deepEqual(octets('☃.example.'), [0xe2, 0x98, 0x83]);
  assert.deepEqual(octets('😀.example.'), [0xf0, 0x9f, 0x98, 0x80]);
  // relative to an origin, with the fast path's ASCII names beside it
  assert.equal(Name.parse('Straße', Name.from('example')).toString(), 'Stra\\195\\159e.example.');
  assert.ok(Name.parse('café.example.').equals(Name.parse('caf\\195\\169.example.')));
  // the label limit counts octets: 32 "é" are 64 of them
  assert.throws(() => Name.parse(`${'é'.repeat(32)}.example.`), /longer than 63 octets/);
  assert.equal(Name.parse(`${'é'.repeat(31)}x.example.`).labels[0].length, 63);
  assert.throws(() => Name.parse('x\ud800y.example.'), /bad character/);
});
