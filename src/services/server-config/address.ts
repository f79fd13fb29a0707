// Addresses as operators type them for servers and master addresses (issue 4, issue 11). Kept apart from servers.ts
// so that the configuration generator and the server rules can both use it without importing each other.

import { ipVersion } from '../../dns/address.js';
import { InvalidArgument } from '../errors.js';

/**
 * An address as typed by an operator: `192.0.2.1`, `2001:db8::1`, `192.0.2.1#5353`, `[2001:db8::1]:5353` or
 * `[2001:db8::1]#5353`. A separate `port` argument wins over none in the text; both given must agree.
 */
export function parseServerAddress(text: string, port?: number): { address: string; port: number } {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?:[#:](\d+))?$/.exec(t) ?? /^([^#[\]]+?)(?:#(\d+))?$/.exec(t);
  const address = m?.[1] ?? '';
  if (!m || !ipVersion(address)) throw new InvalidArgument(`bad server address "${text}" (IPv4 or IPv6 address, optionally #port)`);
  const inText = m[2] !== undefined ? Number(m[2]) : undefined;
  if (inText !== undefined && port !== undefined && inText !== port) throw new InvalidArgument(`two ports given for "${text}"`);
  const p = inText ?? port ?? 53;
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidArgument(`bad port ${p}`);
  return { address: address.toLowerCase(), port: p };
}
