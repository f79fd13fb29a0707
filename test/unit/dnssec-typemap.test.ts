// The signer's per-owner map of RRsets by type (dnssec/zone.ts TypeMap) behaves as a Map: random sequences of sets
// and deletes, compared after every step (get, has, size, and the entries in insertion order).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypeMap } from '../../src/dnssec/zone.js';

test('TypeMap follows a Map through random sets and deletes', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const m = new Map<number, string>();
    const t = new TypeMap<string>();
    for (let step = 0; step < 60; step++) {
      const type = [0, 1, 2, 5, 6, 15, 28, 46, 47, 65535][rnd(10)];
      if (rnd(3) === 0) assert.equal(t.delete(type), m.delete(type), `delete ${type}`);
      else {
        const v = `v${round}.${step}`;
        m.set(type, v);
        assert.equal(t.set(type, v), t);
      }
      assert.equal(t.size, m.size);
      assert.deepEqual([...t.entries()], [...m.entries()]);
      assert.deepEqual([...t], [...m]);
      assert.deepEqual([...t.keys()], [...m.keys()]);
      assert.deepEqual([...t.values()], [...m.values()]);
      for (const probe of [0, 1, 5, 28, 65535, 7]) {
        assert.equal(t.get(probe), m.get(probe), `get ${probe}`);
        assert.equal(t.has(probe), m.has(probe), `has ${probe}`);
      }
    }
  }
});
