// Zone names as the service layer keys them, and operator input conveniences (CIDR → reverse zone, globs).

import { cidrToReverseZone } from '../dns/address.js';
import { TextError } from '../dns/errors.js';

export { cidrToReverseZone };
import { Name } from '../dns/name.js';
import { BadZoneName } from './errors.js';

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
