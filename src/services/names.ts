// Zone names as the service layer keys them, and operator input conveniences (CIDR → reverse zone, globs).

import { domainToASCII } from 'node:url';
import { cidrToReverseZone, NETWORK_TEXT } from '../dns/address.js';
import { TextError } from '../dns/errors.js';

export { cidrToReverseZone };
import { Name } from '../dns/name.js';
import { BadZoneName } from './errors.js';

/**
 * "example.org" / "Example.ORG." → canonical "example.org." (BadZoneName otherwise). A '/' is an ordinary character
 * of a DNS name (RFC 2317's "64/26.2.0.192.in-addr.arpa."): only operator arguments read "a.b.c.d/len" as a network
 * (operatorZoneName), never a name that came from the wire or the store.
 */
export function normalizeZoneName(name: string): string {
  // Asked for the same few names over and over (every UPDATE, NOTIFY and feed row of a zone names it).
  const known = normalized.get(name);
  if (known !== undefined) return known;
  const key = normalizeUncached(name);
  if (normalized.size >= NORMALIZED_MAX) normalized.clear();
  normalized.set(name, key);
  return key;
}

const normalized = new Map<string, string>();
const NORMALIZED_MAX = 10_000;

function normalizeUncached(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed === '.') throw new BadZoneName(name, 'the root zone is not managed here');
  if (/\s/.test(trimmed)) throw new BadZoneName(name, 'contains white space');
  // A zone name typed with characters beyond ASCII is an internationalized name meant in its A-label form: the
  // resolvers ask for that one, never for the UTF-8 octets (which a zone file's owner names may hold, as in BIND).
  if (/[^\x00-\x7f]/.test(trimmed)) {
    const aLabels = domainToASCII(trimmed);
    throw new BadZoneName(name, `has characters beyond ASCII: write it in its A-label form${aLabels ? ` (${aLabels})` : ''} (RFC 5891)`);
  }
  try {
    return Name.from(trimmed).key;
  } catch (e) {
    if (e instanceof TextError) throw new BadZoneName(name, e.message);
    throw e;
  }
}

/**
 * A zone as an operator names it in an argument (zone_tool, the API): a network "192.0.2.0/24" / "2001:db8::/48" is
 * its reverse zone (RFC 2317 classless name for an IPv4 block longer than /24), anything else a domain name.
 */
export function operatorZoneName(text: string): string {
  const trimmed = text.trim();
  if (NETWORK_TEXT.test(trimmed)) {
    const rev = cidrToReverseZone(trimmed);
    if (!rev) throw new BadZoneName(text, 'not a valid IPv4/IPv6 network');
    return rev;
  }
  return normalizeZoneName(trimmed);
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

/** Glob (* any run of characters, ? one) → anchored case-insensitive RegExp, for matching in memory. */
export function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${re}$`, 'i');
}

export function isGlob(s: string): boolean {
  return s.includes('*') || s.includes('?');
}
