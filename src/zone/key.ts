// Name keys for the zone maps: the lower-cased, uncompressed wire form of a name as a latin1 string. Two names are
// the same DNS name exactly when their keys are equal (case folding is ASCII only, RFC 4343), and the key of an
// ancestor is a suffix of the key of its descendant, so "strip the leftmost label" is a substring at a label offset
// — no Name objects need to be built on the query path.

import type { Name } from '../dns/name.js';

/** The wire key of a name (see the module comment). */
export function wireKey(name: Name): string {
  // Lower-cased into a scratch buffer: no object but the string is made. Length octets are < 64, so lowering every
  // octet of the wire form leaves them as they are.
  const wire = name.toWire();
  const lower = scratch;
  for (let p = 0; p < wire.length; p++) {
    const d = wire[p];
    lower[p] = d >= 0x41 && d <= 0x5a ? d | 0x20 : d;
  }
  return lower.latin1Slice(0, wire.length);
}

const scratch = Buffer.alloc(256) as unknown as Buffer & Latin1Sliceable;

/** The key of the root name. */
export const ROOT_KEY = '\x00';

interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

/** Latin1 string of bytes [start, end) of `buf`. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  // latin1Slice (what toString('latin1') calls, minus argument checks) is one native call on the hot path.
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return (b as unknown as Latin1Sliceable).latin1Slice(start, end);
}

/** Number of labels of a key (the root has none). */
export function keyLabelCount(key: string): number {
  let n = 0;
  let p = 0;
  for (;;) {
    const len = key.charCodeAt(p);
    if (len === 0) return n;
    n++;
    p += len + 1;
  }
}

/** The key with the leftmost `n` labels removed (the root key when n reaches it). */
export function keyParent(key: string, n = 1): string {
  let p = 0;
  for (let i = 0; i < n; i++) {
    const len = key.charCodeAt(p);
    if (len === 0) break;
    p += len + 1;
  }
  return p === 0 ? key : key.substring(p);
}

/** True when `key` equals `ancestor` or lies below it (suffix at a label boundary). */
export function keyIsBelowOrAt(key: string, ancestor: string): boolean {
  if (key.length < ancestor.length || !key.endsWith(ancestor)) return false;
  // The suffix must start at a label boundary: walk the labels of `key` until the remaining length matches.
  const start = key.length - ancestor.length;
  let p = 0;
  while (p < start) p += key.charCodeAt(p) + 1;
  return p === start;
}

/** The key of "*.<key>". */
export function wildcardKey(key: string): string {
  return `\x01*${key}`;
}
