// Who may transfer a zone: per-zone rules on TSIG key and/or source address, plus the ocaml-dns key-name convention
// `<primary-ip>.<secondary-ip>._transfer.<zone>`. Everything not allowed is REFUSED by the caller.

import type { Name } from '../dns/name.js';

/**
 * 4 or 6 for an IPv4 or IPv6 address in text, 0 otherwise: node:net's isIP, looked up on use, because the services
 * (and so every one-shot zone_tool command) import this module, and importing node:net costs ~5 ms of start-up.
 */
export function isIP(text: string): number {
  return process.getBuiltinModule('node:net').isIP(text);
}

/** One rule: when both are given, both must match; a rule with neither matches nothing. */
export interface TransferRule {
  /** TSIG key the request must be signed with. */
  key?: Name;
  /** Source address or CIDR prefix ("192.0.2.0/24", "2001:db8::/32", "127.0.0.1"). */
  address?: string;
}

/** Parse "a.b.c.d", "a.b.c.d/len", IPv6 likewise, into bytes + prefix length; undefined when malformed. */
export function parsePrefix(text: string): { bytes: Uint8Array; bits: number } | undefined {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const bytes = addressBytes(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const bits = len === undefined ? max : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  return { bytes, bits };
}

/** 4 or 16 octets; IPv4-mapped IPv6 (::ffff:a.b.c.d, as Node reports dual-stack peers) becomes IPv4. */
export function addressBytes(text: string): Uint8Array | undefined {
  const t = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(t);
  if (mapped) return addressBytes(mapped[1]);
  const kind = isIP(t);
  if (kind === 4) return Uint8Array.from(t.split('.').map(Number));
  if (kind !== 6) return undefined;
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  let h = groups(head);
  let tl = groups(tail);
  // An embedded IPv4 tail (::1.2.3.4) is two groups.
  const fix = (g: string[]) => {
    const last = g[g.length - 1];
    if (last?.includes('.')) {
      const b = last.split('.').map(Number);
      g.splice(g.length - 1, 1, ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16));
    }
    return g;
  };
  if (tail === undefined) h = fix(h);
  else tl = fix(tl);
  const fill = tail === undefined ? [] : new Array(8 - h.length - tl.length).fill('0');
  const all = [...h, ...fill, ...tl];
  if (all.length !== 8) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

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

/** What a `..._transfer.<zone>` key name says: the zone, and the two addresses when the prefix spells them. */
export interface TransferKeyName {
  zone: Name;
  primary?: string;
  secondary?: string;
}

function labelText(l: Uint8Array): string {
  return Buffer.from(l).toString('latin1');
}

/**
 * Parse the ocaml-dns convention `<primary-ip>.<secondary-ip>._transfer.<zone>`. IPv4 addresses take four labels
 * each; IPv6 addresses are written as single labels with ':' (as ocaml-dns does). Any other prefix still names the
 * zone (the key may transfer it) but gives no addresses.
 */
export function parseTransferKeyName(key: Name): TransferKeyName | undefined {
  const i = key.labels.findIndex((l) => labelText(l).toLowerCase() === '_transfer');
  if (i <= 0) return undefined;
  const zone = key.parent(i + 1);
  const pre = key.labels.slice(0, i).map(labelText);
  if (pre.length === 8 && pre.every((p) => /^\d{1,3}$/.test(p))) {
    const a = pre.slice(0, 4).join('.');
    const b = pre.slice(4).join('.');
    if (isIP(a) === 4 && isIP(b) === 4) return { zone, primary: a, secondary: b };
  }
  if (pre.length === 2 && isIP(pre[0]) && isIP(pre[1])) return { zone, primary: pre[0], secondary: pre[1] };
  return { zone };
}

/**
 * May a request from `address`, signed with `keyName` (undefined when unsigned or not verified), transfer `zone`?
 * The rules of the zone first; then a key following the `._transfer.<zone>` convention for exactly this zone.
 */
export function transferAllowed(zone: Name, rules: readonly TransferRule[], keyName: Name | undefined, address: string): boolean {
  for (const r of rules) {
    if (r.key === undefined && r.address === undefined) continue;
    if (r.key !== undefined && (keyName === undefined || !r.key.equals(keyName))) continue;
    if (r.address !== undefined && !addressInPrefix(address, r.address)) continue;
    return true;
  }
  if (keyName) {
    const conv = parseTransferKeyName(keyName);
    if (conv?.zone.equals(zone)) return true;
  }
  return false;
}
