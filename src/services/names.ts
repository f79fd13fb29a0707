// Zone names as the service layer keys them, and operator input conveniences (CIDR → reverse zone, globs).

import { TextError } from '../dns/errors.js';
import { Name } from '../dns/name.js';
import { BadZoneName } from './errors.js';

/** IPv4/IPv6 network → reverse zone name (octet / nibble boundary, rounding the prefix up like the original). */
export function cidrToReverseZone(cidr: string): string | undefined {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const [, addr, lenText] = m;
  const len = Number(lenText);
  if (addr.includes(':')) {
    if (len > 128) return undefined;
    const bytes = parseIpv6(addr);
    if (!bytes) return undefined;
    const nibbles: string[] = [];
    for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
    const n = Math.ceil(len / 4);
    return `${nibbles.slice(0, n).reverse().join('.')}${n ? '.' : ''}ip6.arpa.`;
  }
  if (len > 32) return undefined;
  const parts = addr.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const n = Math.ceil(len / 8);
  return `${parts.slice(0, n).reverse().join('.')}${n ? '.' : ''}in-addr.arpa.`;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = Number.parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

/** "example.org" / "Example.ORG." / "192.0.2.0/24" → canonical "example.org." (BadZoneName otherwise). */
export function normalizeZoneName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.includes('/')) {
    const rev = cidrToReverseZone(trimmed);
    if (!rev) throw new BadZoneName(name, 'not a valid IPv4/IPv6 network');
    return rev;
  }
  if (trimmed === '' || trimmed === '.') throw new BadZoneName(name, 'the root zone is not managed here');
  if (/\s/.test(trimmed)) throw new BadZoneName(name, 'contains white space');
  try {
    return Name.from(trimmed).key;
  } catch (e) {
    if (e instanceof TextError) throw new BadZoneName(name, e.message);
    throw e;
  }
}

export function zoneNameToName(key: string): Name {
  return Name.parse(key);
}

/** Glob (* ?) → SQL LIKE pattern with '\' as escape character. */
export function globToLike(glob: string): string {
  let out = '';
  for (const c of glob) {
    if (c === '*') out += '%';
    else if (c === '?') out += '_';
    else if (c === '%' || c === '_' || c === '\\') out += `\\${c}`;
    else out += c;
  }
  return out;
}

export function isGlob(s: string): boolean {
  return s.includes('*') || s.includes('?');
}
