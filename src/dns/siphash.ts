// SipHash-2-4 (Aumasson & Bernstein), the keyed hash RFC 9018 §4.4 prescribes for interoperable DNS server cookies.
// 64-bit words are kept as pairs of 32-bit halves: BigInt costs far more per call, and a cookie is hashed on every
// UDP query that carries one. No allocation per call: the state lives in module scratch variables (the
// function is synchronous and not re-entrant).

// v0..v3 as (hi, lo) halves.
let v0h = 0;
let v0l = 0;
let v1h = 0;
let v1l = 0;
let v2h = 0;
let v2l = 0;
let v3h = 0;
let v3l = 0;

function round(): void {
  let lo: number;
  let hi: number;
  let t: number;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  lo = (v0l + v1l) >>> 0;
  v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0;
  v0l = lo;
  hi = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  lo = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = (hi ^ v0h) >>> 0;
  v1l = (lo ^ v0l) >>> 0;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  lo = (v2l + v3l) >>> 0;
  v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0;
  v2l = lo;
  hi = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  lo = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = (hi ^ v2h) >>> 0;
  v3l = (lo ^ v2l) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  lo = (v0l + v3l) >>> 0;
  v0h = (v0h + v3h + (lo < v0l ? 1 : 0)) >>> 0;
  v0l = lo;
  hi = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  lo = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = (hi ^ v0h) >>> 0;
  v3l = (lo ^ v0l) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  lo = (v2l + v1l) >>> 0;
  v2h = (v2h + v1h + (lo < v2l ? 1 : 0)) >>> 0;
  v2l = lo;
  hi = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  lo = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = (hi ^ v2h) >>> 0;
  v1l = (lo ^ v2l) >>> 0;
  t = v2h;
  v2h = v2l;
  v2l = t;
}

function le32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/**
 * SipHash-2-4 of `msg[from, from + len)` under the 16-octet `key`, written as 8 octets (little-endian, as the
 * reference implementation outputs it) into `out` at `at`.
 */
export function siphash24(key: Uint8Array, msg: Uint8Array, from: number, len: number, out: Uint8Array, at: number): void {
  const k0l = le32(key, 0);
  const k0h = le32(key, 4);
  const k1l = le32(key, 8);
  const k1h = le32(key, 12);
  // "somepseudorandomlygeneratedbytes"
  v0h = (k0h ^ 0x736f6d65) >>> 0;
  v0l = (k0l ^ 0x70736575) >>> 0;
  v1h = (k1h ^ 0x646f7261) >>> 0;
  v1l = (k1l ^ 0x6e646f6d) >>> 0;
  v2h = (k0h ^ 0x6c796765) >>> 0;
  v2l = (k0l ^ 0x6e657261) >>> 0;
  v3h = (k1h ^ 0x74656462) >>> 0;
  v3l = (k1l ^ 0x79746573) >>> 0;
  const end = from + len;
  const full = from + (len & ~7);
  for (let p = from; p < full; p += 8) {
    const ml = le32(msg, p);
    const mh = le32(msg, p + 4);
    v3l = (v3l ^ ml) >>> 0;
    v3h = (v3h ^ mh) >>> 0;
    round();
    round();
    v0l = (v0l ^ ml) >>> 0;
    v0h = (v0h ^ mh) >>> 0;
  }
  // Last block: the remaining octets, the message length (mod 256) in the top octet.
  let ml = 0;
  let mh = (len & 0xff) << 24;
  for (let p = full, i = 0; p < end; p++, i++) {
    if (i < 4) ml |= msg[p] << (8 * i);
    else mh |= msg[p] << (8 * (i - 4));
  }
  ml >>>= 0;
  mh >>>= 0;
  v3l = (v3l ^ ml) >>> 0;
  v3h = (v3h ^ mh) >>> 0;
  round();
  round();
  v0l = (v0l ^ ml) >>> 0;
  v0h = (v0h ^ mh) >>> 0;
  v2l = (v2l ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  const rl = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  const rh = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  out[at] = rl & 0xff;
  out[at + 1] = (rl >>> 8) & 0xff;
  out[at + 2] = (rl >>> 16) & 0xff;
  out[at + 3] = rl >>> 24;
  out[at + 4] = rh & 0xff;
  out[at + 5] = (rh >>> 8) & 0xff;
  out[at + 6] = (rh >>> 16) & 0xff;
  out[at + 7] = rh >>> 24;
}
