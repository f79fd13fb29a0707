// NSEC chains (RFC 4034 §4, RFC 4035 §2.3): one NSEC per authoritative owner name and per delegation point, in
// canonical name order (RFC 4034 §6.1), the last pointing back to the apex. Empty non-terminals and glue get none.

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { LinkedChain, typeBitmapOf } from './chain.js';

export class NsecChain extends LinkedChain<Name> {
  constructor(
    ttl: number,
    private readonly klass: number,
  ) {
    super((a, b) => a.compareCanonical(b), ttl);
  }

  protected keyOf(at: Name): string {
    return at.key;
  }

  protected build(at: Name, next: Name, types: readonly number[]): RR {
    // makeNsec's RDATA (the next name as it is, RFC 6840 §5.1, then the bitmap), with the list's bitmap made once.
    const nextWire = next.toWire();
    const bitmap = typeBitmapOf(types);
    const rdata = new Uint8Array(nextWire.length + bitmap.length);
    rdata.set(nextWire);
    rdata.set(bitmap, nextWire.length);
    return { name: at, type: RRType.NSEC, class: this.klass, ttl: this.ttl, rdata };
  }

  /**
   * Put `owner` in the chain listing `types` (the RRsets the NSEC proves: at a delegation only NS and DS), or take
   * it out (undefined). NSEC and RRSIG are added here: the NSEC is at the owner and is always signed.
   */
  set(owner: Name, types: readonly number[] | undefined): void {
    this.setAt(owner, types === undefined ? undefined : withTypes(types, [RRType.NSEC, RRType.RRSIG]));
  }
}

/** Sorted, without duplicates, with `extra` added. */
export function withTypes(types: readonly number[], extra: readonly number[]): number[] {
  const out: number[] = [];
  // An insertion sort: the lists are a handful of types, and Array.prototype.sort (or splice) allocates per call.
  const insert = (t: number) => {
    let i = out.length;
    while (i > 0 && out[i - 1] > t) i--;
    if (i > 0 && out[i - 1] === t) return;
    for (let k = out.length; k > i; k--) out[k] = out[k - 1];
    out[i] = t;
  };
  for (const t of types) insert(t);
  for (const t of extra) insert(t);
  return out;
}
