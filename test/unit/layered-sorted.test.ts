// The sorted set a patched zone snapshot derives from its predecessor's (src/zone/layered-sorted.ts): after any
// sequence of changes, floor/last/has/size/values equal those of a plain sorted array built from scratch, across
// folds of the overlay into the shared array; and every older version keeps answering as it did.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LayeredSorted } from '../../src/zone/layered-sorted.js';

const word = fc.string({ minLength: 0, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', 'd', '\u0000', '\u0101') });

function check(set: LayeredSorted, ref: readonly string[], probes: readonly string[]): void {
  assert.deepEqual([...set.values()], ref);
  assert.equal(set.size, ref.length);
  assert.equal(set.last(), ref.at(-1));
  for (const p of probes) {
    const want = [...ref].reverse().find((x) => x <= p);
    assert.equal(set.floor(p), want, `floor(${JSON.stringify(p)})`);
    assert.equal(set.has(p), ref.includes(p));
  }
}

test('a layered sorted set equals a sorted array after random changes, old versions unchanged', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(word, { maxLength: 40 }),
      fc.array(fc.record({ remove: fc.array(word, { maxLength: 30 }), add: fc.array(word, { maxLength: 30 }) }), { maxLength: 12 }),
      fc.array(word, { maxLength: 20 }),
      (initial, changes, probes) => {
        let set = LayeredSorted.of([...initial].sort());
        let ref = new Set(initial);
        const history: [LayeredSorted, string[]][] = [];
        for (const c of changes) {
          history.push([set, [...ref].sort()]);
          set = set.with(c.remove, c.add);
          for (const x of c.remove) ref.delete(x);
          for (const x of c.add) ref.add(x);
          ref = new Set(ref);
          check(set, [...ref].sort(), [...probes, ...c.remove, ...c.add]);
        }
        for (const [old, oldRef] of history) check(old, oldRef, probes);
      },
    ),
    { numRuns: 300 },
  );
});

test('the overlay is folded past its bound and lookups stay right', () => {
  let set = LayeredSorted.of([]);
  const ref = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const x = `k${(i * 7919) % 1000}`;
    set = set.with(i % 5 === 0 ? [`k${(i * 31) % 1000}`] : [], [x]);
    if (i % 5 === 0) ref.delete(`k${(i * 31) % 1000}`);
    ref.add(x);
  }
  check(set, [...ref].sort(), ['k', 'k5', 'k999', 'z', '']);
});
