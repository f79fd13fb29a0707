// Response rate limiting (RRL) for UDP answers, as BIND and knotd do it: an authoritative server must not become an
// amplifier for reflection attacks with spoofed sources. Responses are accounted per (source prefix, response class)
// in a token bucket: it earns `rate` credits per second up to `rate` (a one-second burst), each response costs one, and
// the debt is capped at `window` seconds of credit (so a source that keeps flooding stays limited, and one that stops
// is answered again `window` seconds later at the latest). A response without credit is dropped, except every
// `slip`-th, which is sent truncated (TC=1): a real client behind a spoofed-upon address retries over TCP, which is
// never limited. No I/O, no timers: the caller supplies the clock; the table has a fixed size (a flood of spoofed
// sources recycles the least recently used buckets rather than growing memory).

/** Response classes accounted separately (BIND's responses / nodata / nxdomains / referrals / errors). */
export const RESPONSE_CLASSES = ['answer', 'nodata', 'nxdomain', 'referral', 'error'] as const;
export type ResponseClass = (typeof RESPONSE_CLASSES)[number];
export const CLS_ANSWER = 0;
export const CLS_NODATA = 1;
export const CLS_NXDOMAIN = 2;
export const CLS_REFERRAL = 3;
export const CLS_ERROR = 4;

/** What to do with one response. */
export const RRL_PASS = 0;
export const RRL_DROP = 1;
export const RRL_SLIP = 2;
export type RrlVerdict = typeof RRL_PASS | typeof RRL_DROP | typeof RRL_SLIP;

/** Counter columns per class: answered, dropped, slipped (TC), would have been limited (log-only), exempt. */
export const RRL_ACTIONS = ['passed', 'dropped', 'slipped', 'logged', 'exempt'] as const;
export const ACT_PASSED = 0;
export const ACT_DROPPED = 1;
export const ACT_SLIPPED = 2;
export const ACT_LOGGED = 3;
export const ACT_EXEMPT = 4;

export interface RrlOptions {
  /** Responses per second per source prefix and class (> 0). */
  responsesPerSecond: number;
  /** Seconds of debt a flooding prefix accumulates at most (default 15, BIND's window). */
  window?: number;
  /** Every slip-th limited response goes out truncated; 0 = drop them all, 1 = truncate them all (default 2). */
  slip?: number;
  /** Prefix lengths grouping sources (defaults 24 and 56). */
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  /** Never limited: CIDR prefixes ("192.0.2.0/24", "2001:db8::/32") or single addresses. */
  whitelist?: readonly string[];
  /** Account and log, but send every response (to try a rate before enforcing it). */
  logOnly?: boolean;
  /** Buckets kept (rounded up to a power of two; default 65536). */
  tableSize?: number;
  /** Milliseconds (default Date.now). */
  clock?: () => number;
  /** A prefix and class started being limited (once per episode: called again only after it was answered again). */
  onLimit?: (e: { prefix: string; class: ResponseClass; logOnly: boolean }) => void;
}

import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 as ipv6 } from '../dns/address.js';

/** A whitelist entry as the prefix's octets and length. */
interface Prefix {
  v6: boolean;
  bytes: Uint8Array;
  bits: number;
}

function parseIpText(text: string): Uint8Array | undefined {
  return text.includes(':') ? ipv6(text) : parseIpv4(text);
}

/** "192.0.2.0/24", "2001:db8::/32" or a bare address (a host prefix). Throws on anything else. */
export function parseRrlPrefix(text: string): Prefix {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  const bytes = m ? parseIpText(m[1]) : undefined;
  if (!m || !bytes) throw new Error(`bad prefix "${text}" (expected ADDRESS/LENGTH)`);
  const max = bytes.length * 8;
  const bits = m[2] === undefined ? max : Number(m[2]);
  if (bits > max) throw new Error(`bad prefix length in "${text}"`);
  return { v6: bytes.length === 16, bytes, bits };
}

function inPrefix(p: Prefix, ip: Uint8Array, ipLen: number): boolean {
  if ((ipLen === 16) !== p.v6) return false;
  const full = p.bits >>> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== p.bytes[i]) return false;
  const rem = p.bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (ip[full] & mask) === (p.bytes[full] & mask);
}

/** One 32-bit word of the source prefix: octets [4w, 4w + 4) of `ip` masked to `bits`. */
function prefixWord(ip: Uint8Array, w: number, bits: number): number {
  const from = w * 32;
  if (bits <= from) return 0;
  const v = ((ip[4 * w] << 24) | (ip[4 * w + 1] << 16) | (ip[4 * w + 2] << 8) | ip[4 * w + 3]) | 0;
  const keep = bits - from;
  return keep >= 32 ? v : v & ~(0xffffffff >>> keep);
}

/** How many buckets to look at for a key before recycling one. */
const PROBES = 8;

export class RateLimiter {
  readonly rate: number;
  readonly window: number;
  readonly slip: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  readonly logOnly: boolean;
  /** counts[class * RRL_ACTIONS.length + action]. */
  readonly counts = new Float64Array(RESPONSE_CLASSES.length * RRL_ACTIONS.length);
  private readonly whitelist: Prefix[];
  private readonly clock: () => number;
  private readonly onLimit: RrlOptions['onLimit'];
  private readonly mask: number;
  // The buckets, by slot: key (four prefix words, class and family in `tag`, 0 = empty), balance, last update (ms),
  // slip counter, and whether the current limited episode was reported.
  private readonly k0: Int32Array;
  private readonly k1: Int32Array;
  private readonly k2: Int32Array;
  private readonly k3: Int32Array;
  private readonly tag: Int32Array;
  private readonly balance: Float64Array;
  private readonly stamp: Float64Array;
  private readonly slips: Int32Array;
  private readonly reported: Uint8Array;

  constructor(opts: RrlOptions) {
    if (!(opts.responsesPerSecond > 0)) throw new Error('RRL: responses per second must be above 0');
    this.rate = opts.responsesPerSecond;
    this.window = opts.window ?? 15;
    this.slip = opts.slip ?? 2;
    this.ipv4Prefix = opts.ipv4Prefix ?? 24;
    this.ipv6Prefix = opts.ipv6Prefix ?? 56;
    if (!(this.window >= 1 && this.window <= 3600)) throw new Error('RRL: window must be 1 to 3600 seconds');
    if (!Number.isInteger(this.slip) || this.slip < 0 || this.slip > 10) throw new Error('RRL: slip must be 0 to 10');
    if (!Number.isInteger(this.ipv4Prefix) || this.ipv4Prefix < 8 || this.ipv4Prefix > 32) throw new Error('RRL: IPv4 prefix must be 8 to 32');
    if (!Number.isInteger(this.ipv6Prefix) || this.ipv6Prefix < 16 || this.ipv6Prefix > 128) throw new Error('RRL: IPv6 prefix must be 16 to 128');
    this.logOnly = opts.logOnly === true;
    this.whitelist = (opts.whitelist ?? []).map(parseRrlPrefix);
    this.clock = opts.clock ?? Date.now;
    this.onLimit = opts.onLimit;
    let size = 1024;
    while (size < (opts.tableSize ?? 65536) && size < 1 << 24) size *= 2;
    this.mask = size - 1;
    this.k0 = new Int32Array(size);
    this.k1 = new Int32Array(size);
    this.k2 = new Int32Array(size);
    this.k3 = new Int32Array(size);
    this.tag = new Int32Array(size);
    this.balance = new Float64Array(size);
    this.stamp = new Float64Array(size);
    this.slips = new Int32Array(size);
    this.reported = new Uint8Array(size);
  }

  /** A response exempt from limiting (a valid DNS cookie) was sent: counted only. */
  exempt(cls: number): void {
    this.counts[cls * RRL_ACTIONS.length + ACT_EXEMPT]++;
  }

  /**
   * Account one response of class `cls` to the client ip[0, ipLen) (4 or 16 octets) and say what to do with it. In
   * log-only mode the answer is always RRL_PASS (what would have happened is counted as "logged").
   */
  decide(ip: Uint8Array, ipLen: number, cls: number): RrlVerdict {
    const counts = this.counts;
    const row = cls * RRL_ACTIONS.length;
    const wl = this.whitelist;
    for (let i = 0; i < wl.length; i++) {
      if (inPrefix(wl[i], ip, ipLen)) {
        counts[row + ACT_PASSED]++;
        return RRL_PASS;
      }
    }
    const v6 = ipLen === 16;
    const bits = v6 ? this.ipv6Prefix : this.ipv4Prefix;
    const a = prefixWord(ip, 0, bits);
    const b = v6 ? prefixWord(ip, 1, bits) : 0;
    const c = v6 ? prefixWord(ip, 2, bits) : 0;
    const d = v6 ? prefixWord(ip, 3, bits) : 0;
    const tag = 1 + cls + (v6 ? 8 : 0);
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
    h = Math.imul(h ^ c ^ (h >>> 13), 0x85ebca6b);
    h = Math.imul(h ^ d ^ tag ^ (h >>> 16), 0xc2b2ae35);
    h ^= h >>> 15;
    const now = this.clock();
    const rate = this.rate;
    const mask = this.mask;
    let slot = -1;
    let victim = -1;
    let oldest = Number.POSITIVE_INFINITY;
    // Linear probing; slots are never emptied (only recycled), so a key is found before the first empty slot.
    for (let i = 0, s = h & mask; i < PROBES; i++, s = (s + 1) & mask) {
      const t = this.tag[s];
      if (t === 0) {
        victim = s;
        break;
      }
      if (t === tag && this.k0[s] === a && this.k1[s] === b && this.k2[s] === c && this.k3[s] === d) {
        slot = s;
        break;
      }
      if (this.stamp[s] < oldest) {
        oldest = this.stamp[s];
        victim = s;
      }
    }
    let bal: number;
    if (slot < 0) {
      // A new bucket (in an empty slot, or recycling the least recently used one looked at): full credit.
      slot = victim;
      this.tag[slot] = tag;
      this.k0[slot] = a;
      this.k1[slot] = b;
      this.k2[slot] = c;
      this.k3[slot] = d;
      this.slips[slot] = 0;
      this.reported[slot] = 0;
      bal = rate;
    } else {
      const elapsed = now - this.stamp[slot];
      bal = this.balance[slot];
      if (elapsed > 0) {
        bal += (elapsed / 1000) * rate;
        if (bal > rate) bal = rate;
      }
    }
    this.stamp[slot] = now;
    bal -= 1;
    const floor = -this.window * rate;
    if (bal < floor) bal = floor;
    this.balance[slot] = bal;
    if (bal >= 0) {
      this.reported[slot] = 0;
      counts[row + ACT_PASSED]++;
      return RRL_PASS;
    }
    if (this.reported[slot] === 0) {
      this.reported[slot] = 1;
      this.onLimit?.({ prefix: prefixText(ip, ipLen, bits), class: RESPONSE_CLASSES[cls], logOnly: this.logOnly });
    }
    if (this.logOnly) {
      counts[row + ACT_LOGGED]++;
      return RRL_PASS;
    }
    const n = this.slip;
    if (n > 0) {
      const k = this.slips[slot] + 1;
      if (k >= n) {
        this.slips[slot] = 0;
        counts[row + ACT_SLIPPED]++;
        return RRL_SLIP;
      }
      this.slips[slot] = k;
    }
    counts[row + ACT_DROPPED]++;
    return RRL_DROP;
  }

  /** Counters as "class|action" → count (non-zero ones), for /metrics. */
  snapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (let c = 0; c < RESPONSE_CLASSES.length; c++)
      for (let a = 0; a < RRL_ACTIONS.length; a++) {
        const n = this.counts[c * RRL_ACTIONS.length + a];
        if (n > 0) out.set(`${RESPONSE_CLASSES[c]}|${RRL_ACTIONS[a]}`, n);
      }
    return out;
  }
}

function prefixText(ip: Uint8Array, ipLen: number, bits: number): string {
  const m = new Uint8Array(ipLen);
  for (let i = 0; i < ipLen; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    m[i] = ip[i] & ((0xff << (8 - keep)) & 0xff);
  }
  return `${ipLen === 4 ? ipv4ToString(m) : ipv6ToString(m)}/${bits}`;
}

/**
 * The class of a DNS response (its own header): NXDOMAIN; NOERROR with answers; a referral (no answer, not
 * authoritative, NS in authority); NODATA (authoritative, no answer); anything else (other RCODEs, BADVERS...) an error.
 */
export function responseClass(r: Uint8Array): number {
  return responseClassAt(r, 0, r.length);
}

/** responseClass of the `len` octets of `b` at `at` (a response stored inside a larger buffer). */
export function responseClassAt(b: Uint8Array, at: number, len: number): number {
  if (len < 12) return CLS_ERROR;
  const rcode = b[at + 3] & 0xf;
  if (rcode === 3) return CLS_NXDOMAIN;
  if (rcode !== 0) return CLS_ERROR;
  if (((b[at + 6] << 8) | b[at + 7]) > 0) return CLS_ANSWER;
  const aa = (b[at + 2] & 0x04) !== 0;
  if (!aa && ((b[at + 8] << 8) | b[at + 9]) > 0) return CLS_REFERRAL;
  return aa ? CLS_NODATA : CLS_ERROR;
}

/** Skip a (possibly compressed) name at `p`; the offset after it, or -1 when it runs past `end`. */
function skipName(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const l = b[p];
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if (l > 63) return -1;
    p += 1 + l;
  }
  return -1;
}

/**
 * The short form of a response sent instead of it: header, question and the OPT record (with its options, e.g. the
 * COOKIE) only. `badCookie` false: TC=1 (the slip of RRL: a real client retries over TCP). `badCookie` true: RCODE
 * BADCOOKIE (23: 7 in the header, 1 in OPT's extended RCODE; RFC 7873 §5.2.3) with the fresh server cookie the
 * response carried, which the client sends back and is then exempt; only sensible when the response has an OPT.
 */
export function shortResponse(r: Uint8Array, badCookie: boolean): Uint8Array {
  const end = r.length;
  const qd = (r[4] << 8) | r[5];
  let p = 12;
  for (let i = 0; i < qd && p >= 0; i++) {
    p = skipName(r, p, end);
    if (p >= 0) p = p + 4 <= end ? p + 4 : -1;
  }
  if (p < 0) p = 12;
  const qEnd = p;
  // Find the OPT record among the additional records (after the answer and authority records).
  let optAt = -1;
  let optEnd = -1;
  const records = ((r[6] << 8) | r[7]) + ((r[8] << 8) | r[9]) + ((r[10] << 8) | r[11]);
  const firstAdditional = records - ((r[10] << 8) | r[11]);
  for (let i = 0; i < records && p >= 0 && p < end; i++) {
    const at = p;
    p = skipName(r, p, end);
    if (p < 0 || p + 10 > end) break;
    const type = (r[p] << 8) | r[p + 1];
    const next = p + 10 + ((r[p + 8] << 8) | r[p + 9]);
    if (next > end) break;
    if (i >= firstAdditional && type === 41) {
      optAt = at;
      optEnd = next;
      break;
    }
    p = next;
  }
  const optLen = optAt >= 0 ? optEnd - optAt : 0;
  const out = new Uint8Array(qEnd + optLen);
  out.set(r.subarray(0, qEnd), 0);
  out[5] = qEnd > 12 ? qd & 0xff : 0;
  out[4] = qEnd > 12 ? qd >>> 8 : 0;
  out[6] = 0;
  out[7] = 0;
  out[8] = 0;
  out[9] = 0;
  out[10] = 0;
  out[11] = optLen > 0 ? 1 : 0;
  if (optLen > 0) out.set(r.subarray(optAt, optEnd), qEnd);
  if (badCookie && optLen > 0) {
    out[3] = (out[3] & 0xf0) | 7;
    out[qEnd + 5] = 1; // extended RCODE: 23 >> 4 (the owner is the root, one octet, so TTL starts at +5)
  } else out[2] |= 0x02; // TC
  return out;
}
