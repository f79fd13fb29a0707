// IP addresses and networks in text: the one home of address parsing for the whole program (RDATA, transfer and
// notify ACLs, server addresses, reverse zones). Pure: no node:net (the services and zone_tool import this, and
// node:net costs start-up).

export function parseIpv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  return parseIpv4Into(s, 0, s.length, out, 0) ? out : undefined;
}

/** parseIpv4 of s[start, end) written into out[at, at + 4); false (out partly written) when it is not an address. */
export function parseIpv4Into(s: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  // A hand-written scan: this runs once per A record of a zone file. No leading zeros ("010" is octal to some
  // parsers and BIND's inet_pton rejects it).
  let part = 0;
  let digits = 0;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return false;
      out[at + part++] = v;
      v = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && v === 0) return false;
      v = v * 10 + (c - 0x30);
      if (v > 255) return false;
      digits++;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = v;
  return true;
}

export function ipv4ToString(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

export function parseIpv6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return parseIpv6Into(s, 0, s.length, out, 0) ? out : undefined;
}

/** parseIpv6 of s[from, n) written into out[at, at + 16); false (out partly written) when it is not an address. */
export function parseIpv6Into(s: string, from: number, n: number, out: Uint8Array, at: number): boolean {
  // A hand-written scan, as parseIpv4 (this runs once per AAAA record of a zone file: the split-and-regex version was
  // 1.7 µs an address). Groups are written in place; the ones after "::" are moved to the end at the close.
  if (n - from < 2) return false;
  let g = 0;
  let gap = -1;
  let i = from;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else break;
      if (++digits > 4) return false;
      v = (v << 4) | d;
    }
    if (i < n && s.charCodeAt(i) === 0x2e) {
      // A dotted quad ends the address (two groups' worth).
      if (g > 6 || !parseIpv4Into(s, start, n, out, at + 2 * g)) return false;
      g += 2;
      break;
    }
    if (digits === 0 || g === 8) return false;
    out[at + 2 * g] = v >> 8;
    out[at + 2 * g + 1] = v & 0xff;
    g++;
    if (i === n) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = g;
      i++;
    } else if (i === n) return false;
  }
  if (gap < 0) return g === 8;
  // "::" stands for one zero group at least. The groups after it move to the end (from the last, as they may
  // overlap their new place), zeros fill the gap.
  if (g >= 8) return false;
  const tail = 2 * (g - gap);
  for (let k = tail - 1; k >= 0; k--) out[at + 16 - tail + k] = out[at + 2 * gap + k];
  for (let k = 2 * gap; k < 16 - tail; k++) out[at + k] = 0;
  return true;
}

/**
 * RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as "::" (leftmost on a tie).
 * IPv4-mapped and IPv4-compatible addresses end in dotted quad, as BIND's and glibc's inet_ntop print them.
 */
export function ipv6ToString(b: Uint8Array, at = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  const dotted = bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    if (dotted && i === 6) {
      s += ipv4ToString(b, at + 12);
      break;
    }
    s += w[i].toString(16);
  }
  return s;
}

/** 4 or 6 when `text` is an IPv4 or IPv6 address (no brackets, no prefix, no zone id), else 0. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (parseIpv4(text)) return 4;
  if (text.includes(':') && parseIpv6(text)) return 6;
  return 0;
}

/**
 * 4 or 16 octets of an address as peers and operators write it: "[2001:db8::1]" brackets and "%eth0" zone ids are
 * dropped, and IPv4-mapped IPv6 (::ffff:a.b.c.d, as Node reports dual-stack peers) becomes IPv4.
 */
export function addressBytes(text: string): Uint8Array | undefined {
  const t = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = parseIpv4(t);
  if (v4) return v4;
  const v6 = t.includes(':') ? parseIpv6(t) : undefined;
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/** "a.b.c.d", "a.b.c.d/len", IPv6 likewise → octets + prefix length; undefined when malformed. */
export function parsePrefix(text: string): { bytes: Uint8Array; bits: number } | undefined {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const bytes = addressBytes(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return undefined;
  const bits = len === undefined ? max : Number(len);
  if (bits > max) return undefined;
  return { bytes, bits };
}

/** Does `address` fall inside `prefix` (same family)? */
export function addressInPrefix(address: string, prefix: string): boolean {
  const a = addressBytes(address);
  const p = parsePrefix(prefix);
  if (!a || !p || a.length !== p.bytes.length) return false;
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (p.bytes[i] & mask)) return false;
  }
  return true;
}

/** The reverse-lookup name of an address (full length: in-addr.arpa. or ip6.arpa.), or null when it is not one. */
export function reverseNameOfAddress(text: string): string | null {
  const b = text.includes('/') ? undefined : (parseIpv4(text) ?? (text.includes(':') ? parseIpv6(text) : undefined));
  if (!b) return null;
  return reverseNameOfBytes(b, b.length * 8);
}

/**
 * The reverse zone of a network: octet (IPv4) or nibble (IPv6) boundary, the prefix rounded up as the original DMS
 * did ("192.0.2.0/24" → "2.0.192.in-addr.arpa.", "2001:db8::/32" → "8.b.d.0.1.0.0.2.ip6.arpa."); undefined when
 * `cidr` is not a network.
 */
export function cidrToReverseZone(cidr: string): string | undefined {
  const m = NETWORK_TEXT.exec(cidr.trim());
  if (!m) return undefined;
  const b = parseIpv4(m[1]) ?? (m[1].includes(':') ? parseIpv6(m[1]) : undefined);
  const len = Number(m[2]);
  if (!b || len > b.length * 8) return undefined;
  // RFC 2317: an IPv4 block longer than /24 (and shorter than one address) has no octet boundary of its own; its zone
  // is named "<first address's last octet>/<length>" under the /24, the form RFC 2317 §4 shows and BIND uses.
  if (b.length === 4 && len > 24 && len < 32) {
    const mask = (0xff << (32 - len)) & 0xff;
    if ((b[3] & ~mask & 0xff) !== 0) return undefined;
    return `${b[3]}/${len}.${b[2]}.${b[1]}.${b[0]}.in-addr.arpa.`;
  }
  return reverseNameOfBytes(b, len);
}

/** "a.b.c.d/len" or "x:y::/len" as an operator writes a network (the one shape an argument is read as a network). */
export const NETWORK_TEXT = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/;

/**
 * A network as a key that sorts and prefixes like the network itself: "4" or "6" then the prefix bits as '0'/'1'
 * characters. A network contains an address (or a longer network) exactly when its key is a prefix of the other's,
 * so the store finds the most specific reverse zone of an address with an index: the keys that are prefixes of the
 * address's key, and every network inside a block as one key range.
 */
export function networkKey(bytes: Uint8Array, bits: number): string {
  // Whole octets from a table (this runs once per address of a save: 128 one-character appends cost 40× more).
  let s = bytes.length === 4 ? '4' : '6';
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) s += OCTET_BITS[bytes[i]];
  if (bits & 7) s += OCTET_BITS[bytes[whole]].slice(0, bits & 7);
  return s;
}

const OCTET_BITS: readonly string[] = Array.from({ length: 256 }, (_, v) => v.toString(2).padStart(8, '0'));

/** Every prefix of a network key, shortest first (the family digit alone excluded): the keys that may contain it. */
export function networkKeyPrefixes(key: string): string[] {
  const out: string[] = [];
  for (let i = 2; i <= key.length; i++) out.push(key.slice(0, i));
  return out;
}

export interface ReverseNetwork {
  family: 4 | 6;
  /** The network's address (host bits zero), 4 or 16 octets. */
  bytes: Uint8Array;
  bits: number;
  /** RFC 2317 classless zone ("64/26.2.0.192.in-addr.arpa."): its names are "<octet>.<zone>". */
  classless: boolean;
}

/**
 * The network a reverse zone name stands for, or undefined when the name is not one: "2.0.192.in-addr.arpa." →
 * 192.0.2.0/24, nibble names under ip6.arpa., and RFC 2317 classless names "64/26.2.0.192.in-addr.arpa." (also the
 * "64-26" spelling RFC 2317 mentions). A '/' in the name is an ordinary character of the label here, as in DNS.
 */
export function reverseZoneNetwork(name: string): ReverseNetwork | undefined {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const suffix = labels.slice(-2).join('.');
  const body = labels.slice(0, -2).reverse();
  if (suffix === 'in-addr.arpa') {
    if (body.length === 0 || body.length > 4) return undefined;
    const bytes = new Uint8Array(4);
    const octet = (t: string) => (/^(0|[1-9]\d{0,2})$/.test(t) && Number(t) <= 255 ? Number(t) : undefined);
    const last = body[body.length - 1];
    const cl = /^(\d{1,3})[/-](\d{1,2})$/.exec(last);
    if (cl && body.length === 4) {
      const start = octet(cl[1]);
      const len = Number(cl[2]);
      if (start === undefined || len <= 24 || len >= 32) return undefined;
      const mask = (0xff << (32 - len)) & 0xff;
      if ((start & ~mask & 0xff) !== 0) return undefined;
      for (let i = 0; i < 3; i++) {
        const v = octet(body[i]);
        if (v === undefined) return undefined;
        bytes[i] = v;
      }
      bytes[3] = start;
      return { family: 4, bytes, bits: len, classless: true };
    }
    for (let i = 0; i < body.length; i++) {
      const v = octet(body[i]);
      if (v === undefined) return undefined;
      bytes[i] = v;
    }
    return { family: 4, bytes, bits: body.length * 8, classless: false };
  }
  if (suffix === 'ip6.arpa') {
    if (body.length === 0 || body.length > 32) return undefined;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < body.length; i++) {
      if (!/^[0-9a-f]$/.test(body[i])) return undefined;
      const v = Number.parseInt(body[i], 16);
      bytes[i >> 1] |= i & 1 ? v : v << 4;
    }
    return { family: 6, bytes, bits: body.length * 4, classless: false };
  }
  return undefined;
}

/**
 * The owner of an address's PTR record inside the reverse zone `zone` (which holds it): the full reverse name, or for
 * an RFC 2317 classless zone "<last octet>.<zone>" (RFC 2317 §4: the parent's CNAME points there).
 */
export function ptrOwnerIn(zone: string, net: ReverseNetwork, address: Uint8Array): string {
  if (net.classless) return `${address[3]}.${zone}`;
  return reverseNameOfBytes(address, address.length * 8);
}

/** The reverse-lookup name of 4 or 16 address octets. */
export function reverseNameOf(address: Uint8Array): string {
  return reverseNameOfBytes(address, address.length * 8);
}

function reverseNameOfBytes(b: Uint8Array, bits: number): string {
  if (b.length === 4) {
    const n = Math.ceil(bits / 8);
    const parts = [...b.subarray(0, n)].reverse();
    return `${parts.join('.')}${n ? '.' : ''}in-addr.arpa.`;
  }
  const nibbles: string[] = [];
  for (const x of b) nibbles.push((x >> 4).toString(16), (x & 15).toString(16));
  const n = Math.ceil(bits / 4);
  return `${nibbles.slice(0, n).reverse().join('.')}${n ? '.' : ''}ip6.arpa.`;
}
