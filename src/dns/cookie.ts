// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018: Version 1, Reserved, a 32-bit timestamp
// and SipHash-2-4 over client cookie | version | reserved | timestamp | client IP, keyed with a secret every server
// of the installation shares. Any of them can then validate a cookie another issued (anycast, workers, instances).
// Pure: the caller supplies the secrets, the client address as octets and the time.

import { parseIpv6 } from './address.js';
import { siphash24 } from './siphash.js';

/** EDNS option code of COOKIE (RFC 7873 §4). */
export const COOKIE_OPTION = 10;
export const CLIENT_COOKIE_LEN = 8;
/** The server cookie this implementation issues (RFC 9018 §4: 16 octets). */
export const SERVER_COOKIE_LEN = 16;
/** RFC 9018 §4.3: a cookie older than this is not valid (one hour)... */
export const COOKIE_MAX_AGE = 3600;
/** ...one from further in the future than this (clock skew between servers) neither... */
export const COOKIE_MAX_SKEW = 300;
/** ...and one older than this is replaced with a fresh one in the response (half an hour). */
export const COOKIE_RENEW_AGE = 1800;

/** A COOKIE option's length is acceptable: a client cookie alone (8) or with a server cookie of 8 to 32 octets. */
export function cookieLengthOk(len: number): boolean {
  return len === CLIENT_COOKIE_LEN || (len >= 16 && len <= 40);
}

/**
 * The secrets in force: new cookies are made with `current`; a cookie made with `previous` still validates (RFC 9018
 * §5: during a rollover every server first accepts the new secret, then makes cookies with it, and the old one is
 * accepted until the cookies it made have expired).
 */
export interface CookieSecrets {
  current: Uint8Array;
  previous?: Uint8Array;
  /** Accepted but not yet used to make cookies (being rolled out to the other servers). */
  next?: Uint8Array;
}

/**
 * Outcome of checking a query's COOKIE option. Client: a client cookie only, or a server cookie we cannot validate
 * (answer with a fresh server cookie). Valid: a server cookie that is ours and current (echo it). Renew: ours and
 * valid, but old enough (or made with the previous secret) to be replaced by a fresh one.
 */
export const CookieState = { Client: 1, Valid: 2, Renew: 3 } as const;
export type CookieState = (typeof CookieState)[keyof typeof CookieState];

const scratch = new Uint8Array(8 + 8 + 16);
const hashOut = new Uint8Array(8);

/** The client's address as octets (4 or 16) into `out`; 0 when it is not an address. IPv4 parsed without allocating. */
export function clientIpOctets(address: string, out: Uint8Array): number {
  let part = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || n >= 3) return ipv6Octets(address, out);
      out[n++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + (c - 0x30);
      if (++digits > 3 || part > 255) return ipv6Octets(address, out);
    } else return ipv6Octets(address, out);
  }
  if (n !== 3 || digits === 0) return 0;
  out[3] = part;
  return 4;
}

function ipv6Octets(address: string, out: Uint8Array): number {
  const b = parseIpv6(address.includes('%') ? address.slice(0, address.indexOf('%')) : address);
  if (!b) return 0;
  // An IPv4-mapped address (a dual-stack socket) is the IPv4 client it maps.
  if (b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0)) {
    out.set(b.subarray(12, 16), 0);
    return 4;
  }
  out.set(b, 0);
  return 16;
}

/**
 * Write the RFC 9018 server cookie for `client` (8 octets at `clientAt`) and the client address `ip[0, ipLen)` at
 * time `now` (seconds since the epoch) into out[at, at + 16): version 1, reserved 0, timestamp, hash.
 */
export function makeServerCookie(
  secret: Uint8Array,
  client: Uint8Array,
  clientAt: number,
  ip: Uint8Array,
  ipLen: number,
  now: number,
  out: Uint8Array,
  at: number,
): void {
  const ts = Math.floor(now) >>> 0;
  out[at] = 1;
  out[at + 1] = 0;
  out[at + 2] = 0;
  out[at + 3] = 0;
  out[at + 4] = ts >>> 24;
  out[at + 5] = (ts >>> 16) & 0xff;
  out[at + 6] = (ts >>> 8) & 0xff;
  out[at + 7] = ts & 0xff;
  hashInto(secret, client, clientAt, out, at, ip, ipLen, out, at + 8);
}

/** SipHash-2-4(secret, client cookie | the 8 octets version..timestamp at `head` | ip) into out[at, at + 8). */
function hashInto(
  secret: Uint8Array,
  client: Uint8Array,
  clientAt: number,
  head: Uint8Array,
  headAt: number,
  ip: Uint8Array,
  ipLen: number,
  out: Uint8Array,
  at: number,
): void {
  for (let i = 0; i < 8; i++) scratch[i] = client[clientAt + i];
  for (let i = 0; i < 8; i++) scratch[8 + i] = head[headAt + i];
  for (let i = 0; i < ipLen; i++) scratch[16 + i] = ip[i];
  siphash24(secret, scratch, 0, 16 + ipLen, out, at);
}

/**
 * Check a COOKIE option of `len` octets at `b[at]` (its length already known acceptable, cookieLengthOk) from the
 * client address ip[0, ipLen) at `now`. Only a 16-octet version 1 server cookie can be ours (RFC 9018 §4.3): its
 * timestamp must lie within the last hour (or 5 minutes ahead) and its hash match the current or the previous secret.
 */
export function checkCookie(
  secrets: CookieSecrets,
  b: Uint8Array,
  at: number,
  len: number,
  ip: Uint8Array,
  ipLen: number,
  now: number,
): CookieState {
  if (len !== CLIENT_COOKIE_LEN + SERVER_COOKIE_LEN || ipLen === 0) return CookieState.Client;
  const s = at + CLIENT_COOKIE_LEN;
  if (b[s] !== 1) return CookieState.Client;
  const ts = ((b[s + 4] << 24) | (b[s + 5] << 16) | (b[s + 6] << 8) | b[s + 7]) >>> 0;
  // Serial-number style difference (RFC 1982), so the check survives the 32-bit wrap in 2106.
  const age = ((Math.floor(now) >>> 0) - ts) | 0;
  if (age > COOKIE_MAX_AGE || age < -COOKIE_MAX_SKEW) return CookieState.Client;
  if (hashMatches(secrets.current, b, at, s, ip, ipLen)) return age > COOKIE_RENEW_AGE ? CookieState.Renew : CookieState.Valid;
  if (secrets.previous && hashMatches(secrets.previous, b, at, s, ip, ipLen)) return CookieState.Renew;
  // Made by a server that already uses the next secret: valid, kept as it is (we will use that secret soon).
  if (secrets.next && hashMatches(secrets.next, b, at, s, ip, ipLen)) return age > COOKIE_RENEW_AGE ? CookieState.Renew : CookieState.Valid;
  return CookieState.Client;
}

function hashMatches(secret: Uint8Array, b: Uint8Array, clientAt: number, s: number, ip: Uint8Array, ipLen: number): boolean {
  hashInto(secret, b, clientAt, b, s, ip, ipLen, hashOut, 0);
  for (let i = 0; i < 8; i++) if (hashOut[i] !== b[s + 8 + i]) return false;
  return true;
}
