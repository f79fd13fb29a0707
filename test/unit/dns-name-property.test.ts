// A Name is its wire form only (src/dns/name.ts): every operation reads the bytes. Checked here against a reference
// made of plain label lists, on random names with upper case, escapes, dots and odd octets inside labels.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { WireReader, WireWriter } from '../../src/dns/wire.js';

let seed = 0x9e3779b9;
const rnd = () => {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/** A random label: mostly letters and digits, sometimes upper case, a dot, a backslash, a space or a high octet. */
function label(): Uint8Array {
  const n = 1 + Math.floor(rnd() * (rnd() < 0.1 ? 63 : 6));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    out[i] = r < 0.6 ? pick([...'abcxyz019-'].map((c) => c.charCodeAt(0))) : r < 0.85 ? pick([...'ABCXYZ'].map((c) => c.charCodeAt(0))) : pick([0x2e, 0x5c, 0x20, 0x00, 0xff, 0x2a, 0x40, 0x22]);
  }
  return out;
}

/** Random names over a few shared suffixes, so that subdomains and equal names (in other case) come up. */
const suffixes = [[], [Uint8Array.from([0x6f, 0x72, 0x67])], [Uint8Array.from([0x45, 0x78]), Uint8Array.from([0x6f, 0x72, 0x67])]];
function labels(): Uint8Array[] {
  const own = Array.from({ length: Math.floor(rnd() * 4) }, label);
  const out = [...own, ...pick(suffixes).map((l) => (rnd() < 0.5 ? l : Uint8Array.from(l, (b) => (b >= 0x61 && b <= 0x7a ? b - 32 : b >= 0x41 && b <= 0x5a ? b + 32 : b))))];
  // At most 255 octets of wire form.
  while (out.reduce((n, l) => n + l.length + 1, 1) > 255) out.shift();
  return out;
}

const lower = (b: number) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b);
function refCompareLabel(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = lower(x[i]) - lower(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
function refCompare(a: Uint8Array[], b: Uint8Array[]): number {
  for (let i = a.length - 1, j = b.length - 1; i >= 0 || j >= 0; i--, j--) {
    if (i < 0) return -1;
    if (j < 0) return 1;
    const c = refCompareLabel(a[i], b[j]);
    if (c !== 0) return c;
  }
  return 0;
}
function refSub(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (b.length > a.length) return false;
  for (let k = 1; k <= b.length; k++) if (refCompareLabel(a[a.length - k], b[b.length - k]) !== 0) return false;
  return true;
}
const sign = (x: number) => (x < 0 ? -1 : x > 0 ? 1 : 0);
const same = (a: readonly Uint8Array[], b: readonly Uint8Array[]) => a.length === b.length && a.every((l, i) => Buffer.compare(l, b[i]) === 0);

test('Name (wire form only) matches a label-list reference: order, subdomains, keys, text, parents, compression', () => {
  for (let round = 0; round < 3000; round++) {
    const la = labels();
    const lb = rnd() < 0.3 ? la.slice(Math.floor(rnd() * (la.length + 1))) : labels();
    const a = new Name(la);
    const b = new Name(lb);
    assert.ok(same(a.labels, la), 'labels read back');
    assert.equal(a.labelCount, la.length);
    assert.equal(a.isRoot(), la.length === 0);
    assert.equal(a.wireLength, la.reduce((n, l) => n + l.length + 1, 1));
    assert.equal(sign(a.compareCanonical(b)), sign(refCompare(la, lb)), `order of ${a} and ${b}`);
    assert.equal(a.isSubdomainOf(b), refSub(la, lb), `${a} below ${b}`);
    assert.equal(a.equals(b), refCompare(la, lb) === 0);
    // Text: parsing the presentation gives the same name, the key is the lower-case text.
    const back = Name.parse(a.toString());
    assert.ok(same(back.labels, la), `parse(${a})`);
    assert.equal(a.key, Name.parse(a.toString().toLowerCase()).toString().replace(/[A-Z]/g, (c) => c.toLowerCase()));
    // Parents, prepend, concat.
    for (let i = 0; i <= la.length; i++) assert.ok(same(a.parent(i).labels, la.slice(i)), `parent(${i}) of ${a}`);
    assert.ok(same(b.prepend(...la).labels, [...la, ...lb]) || la.length + lb.length > 127 || b.wireLength + a.wireLength > 256);
    if (a.wireLength + b.wireLength - 1 <= 255) assert.ok(same(a.concat(b).labels, [...la, ...lb]));
    // Every suffix's key is a tail of the name's key (what the writer's compression table uses).
    const starts = a.keyStarts();
    assert.equal(starts.length, la.length);
    for (const [i, s] of starts.entries()) assert.equal(a.key.slice(s), a.parent(i).key, `suffix ${i} of ${a}`);
    if (la.length > 0) assert.equal(a.toRelativeString(a.parent(la.length)), a.toString().slice(0, -1) || '@');
  }
});

test('names written with compression read back as the same names (compression is case-blind: a suffix may come back in an earlier name\'s case)', () => {
  for (let round = 0; round < 300; round++) {
    const names = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => new Name(labels()));
    const w = new WireWriter(64, true);
    for (const n of names) w.name(n);
    const r = new WireReader(w.finish());
    for (const n of names) {
      const got = r.name();
      assert.ok(got.equals(n), `${got} vs ${n}`);
      assert.equal(got.labelCount, n.labelCount);
    }
  }
});
