// ByteSlab and packRdata (src/dns/slab.ts): copies that share buffers sized to the set, bytes and names unchanged.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { ByteSlab, packRdata } from '../../src/dns/slab.js';

test('a small set takes a buffer of its size, not a megabyte; copies equal their sources and share it', () => {
  const parts = [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5), new Uint8Array(16).fill(7)];
  const slab = new ByteSlab(parts.reduce((n, p) => n + p.length, 0));
  const copies = parts.map((p) => slab.copy(p));
  for (const [i, c] of copies.entries()) assert.deepEqual([...c], [...parts[i]]);
  assert.ok(copies.every((c) => c.buffer === copies[0].buffer), 'one buffer');
  assert.equal(copies[0].buffer.byteLength, 21, 'sized to the set');
  parts[0][0] = 99;
  assert.equal(copies[0][0], 1, 'a copy, not a view of the source');
});

test('a large set is cut into chunks of at most a megabyte; an estimate too low still copies everything', () => {
  const slab = new ByteSlab(3 << 20);
  const big = new Uint8Array(300_000).fill(3);
  const copies = Array.from({ length: 10 }, () => slab.copy(big));
  assert.ok(copies.every((c) => c.buffer.byteLength <= 1 << 20 && c.every((b) => b === 3)));
  const low = new ByteSlab(2);
  const a = low.copy(Uint8Array.of(1, 2, 3));
  const b = low.copy(Uint8Array.of(4));
  assert.deepEqual([...a, ...b], [1, 2, 3, 4]);
});

test('names in the slab equal their parse; packRdata keeps every RDATA and puts them in one buffer', () => {
  const slab = new ByteSlab(64);
  const n = slab.name('Www.Example.ORG.');
  assert.ok(n.equals(Name.from('www.example.org')));
  assert.equal(n.toString(), 'Www.Example.ORG.');
  const rrs: RR[] = [1, 2, 3].map((i) => ({ name: n, type: 1, class: 1, ttl: 60, rdata: Uint8Array.of(10, 0, 0, i) }));
  packRdata(rrs);
  for (const [i, r] of rrs.entries()) assert.deepEqual([...r.rdata], [10, 0, 0, i + 1]);
  assert.ok(rrs.every((r) => r.rdata.buffer === rrs[0].rdata.buffer && r.rdata.buffer.byteLength === 12));
});
