// NSEC chains (RFC 4034 §4, RFC 4035 §2.3): one NSEC per authoritative owner name and per delegation point, in
// canonical name order (RFC 4034 §6.1), the last pointing back to the apex. Empty non-terminals and glue get none.

import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { makeNsec } from '../dns/rdata.js';
import { LinkedChain } from './chain.js';

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
    return { name: at, type: RRType.NSEC, class: this.klass, ttl: this.ttl, rdata: makeNsec(next, types) };
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
  return [...new Set([...types, ...extra])].sort((a, b) => a - b);
}
