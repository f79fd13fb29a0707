// TTL values in master files: plain seconds or BIND-style units (1h30m), RFC 2181 §8 range.

export const MAX_TTL = 0x7fffffff;

/**
 * Parse a TTL: decimal seconds, or one or more <number><unit> pairs with units s m h d w (any case).
 * Returns the seconds, or a string explaining what was expected.
 */
export function parseTtl(text: string): number | string {
  const n = text.length;
  if (n === 0) return 'expected a TTL';
  let total = 0;
  let cur = -1; // -1: no digits read in the current group
  let sawUnit = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      cur = (cur < 0 ? 0 : cur * 10) + (c - 0x30);
      if (cur > 0xffffffff) return `TTL "${text}" is larger than ${MAX_TTL} (RFC 2181 §8)`;
      continue;
    }
    let mult: number;
    switch (c | 0x20) {
      case 0x73: mult = 1; break; // s
      case 0x6d: mult = 60; break; // m
      case 0x68: mult = 3600; break; // h
      case 0x64: mult = 86400; break; // d
      case 0x77: mult = 604800; break; // w
      default:
        return `expected a TTL (seconds, or units s/m/h/d/w like 1h30m), got "${text}"`;
    }
    if (cur < 0) return `expected a number before the unit in TTL "${text}"`;
    total += cur * mult;
    cur = -1;
    sawUnit = true;
  }
  if (cur >= 0) {
    if (sawUnit) return `expected a unit (s/m/h/d/w) after the last number in TTL "${text}"`;
    total = cur;
  }
  if (total > MAX_TTL) return `TTL "${text}" is larger than ${MAX_TTL} (RFC 2181 §8)`;
  return total;
}

/** True when the token can only be meant as a TTL (starts with a digit). */
export function looksLikeTtl(text: string): boolean {
  const c = text.charCodeAt(0);
  return c >= 0x30 && c <= 0x39;
}
