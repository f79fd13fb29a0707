// Who may query a zone (allow-query lists of address prefixes: QueryAcl) and who may transfer it: per-zone rules on TSIG key and/or source address, plus the ocaml-dns key-name convention
// `<primary-ip>.<secondary-ip>._transfer.<zone>`. Everything not allowed is REFUSED by the caller.

import { addressInPrefix, ipVersion } from '../dns/address.js';
import type { Name } from '../dns/name.js';

/** One rule: when both are given, both must match; a rule with neither matches nothing. */
export interface TransferRule {
  /** TSIG key the request must be signed with. */
  key?: Name;
  /** Source address or CIDR prefix ("192.0.2.0/24", "2001:db8::/32", "127.0.0.1"). */
  address?: string;
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
    if (ipVersion(a) === 4 && ipVersion(b) === 4) return { zone, primary: a, secondary: b };
  }
  if (pre.length === 2 && ipVersion(pre[0]) && ipVersion(pre[1])) return { zone, primary: pre[0], secondary: pre[1] };
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

/**
 * Who may query which zone (allow-query): consulted for every standard query once any zone has a list. `size` is
 * the number of zones with a list (0: everyone may query everything, and the check costs one comparison).
 */
export interface QueryAcl {
  readonly size: number;
  /** May `address` query the zone whose origin has this wire key? True for zones without a list. */
  allows(originKey: string, address: string): boolean;
}

/** A QueryAcl over prefix lists by zone origin (wire key); set() replaces a zone's list, null removes it. */
export class QueryAclLists implements QueryAcl {
  private readonly lists = new Map<string, readonly string[]>();
  get size(): number {
    return this.lists.size;
  }
  allows(originKey: string, address: string): boolean {
    const list = this.lists.get(originKey);
    if (list === undefined) return true;
    for (const p of list) if (addressInPrefix(address, p)) return true;
    return false;
  }
  set(originKey: string, list: readonly string[] | null): void {
    if (list === null) this.lists.delete(originKey);
    else this.lists.set(originKey, list);
  }
  /** Replace every list at once. */
  replace(all: ReadonlyMap<string, readonly string[]>): void {
    this.lists.clear();
    for (const [k, v] of all) this.lists.set(k, v);
  }
  has(originKey: string): boolean {
    return this.lists.has(originKey);
  }
}
