// RFC 2136 dynamic update semantics over a zone's record list, and RFC 3007-style access rules (BIND update-policy
// grants and the ocaml-dns `<name>._update.<zone>` key convention). Pure: records in, records and a verdict out;
// the caller (src/server/update.ts) commits the result as one new zone version before answering.

import { Opcode, Rcode, RRClass, RRType, isMetaType } from '../dns/constants.js';
import type { Message, RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { canonicalRdata } from '../dns/rdata.js';
import { serialGreater, soaSerial } from '../dns/serial.js';

// ---- access rules ------------------------------------------------------------------------------------------------

/** One update-policy rule, BIND style: `grant|deny IDENTITY MATCHTYPE [NAME] [TYPES...]`. */
export interface UpdateGrant {
  /** false for a `deny` rule. Rules are checked in order; the first that matches decides. */
  grant: boolean;
  /** Key name; a leading "*" label matches any key name below the rest (BIND wildcard identities). */
  identity: Name;
  match: 'zonesub' | 'name' | 'subdomain' | 'wildcard' | 'self';
  /** The NAME field (unused by zonesub and self). */
  name?: Name;
  /**
   * Types the rule covers. Empty/absent: every type except SOA, NS, RRSIG, NSEC, NSEC3 (BIND's default); a list
   * containing ANY (255): every type except RRSIG, NSEC, NSEC3.
   */
  types?: number[];
  /**
   * DMS extension (issue 14): the RR flags an address record added under this rule carries, so a DHCP server's UPDATE
   * gets automatic reverse PTRs: `FORCEREV` (a PTR for an A record too, replacing an existing one) and `TRACKREV`
   * (the PTR also goes when the record is deleted). Written after the types: "grant dhcp. zonesub A AAAA TRACKREV".
   */
  rrFlags?: { forceRev?: true; trackRev?: true };
}

const SIGNER_TYPES: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);

function identityMatches(identity: Name, key: Name): boolean {
  if (identity.isWildcard()) return key.isSubdomainOf(identity.parent()) && !key.equals(identity.parent());
  return identity.equals(key);
}

function typeCovered(types: number[] | undefined, type: number): boolean {
  if (!types || types.length === 0) return !SIGNER_TYPES.has(type) && type !== RRType.SOA && type !== RRType.NS;
  if (types.includes(RRType.ANY)) return !SIGNER_TYPES.has(type);
  return types.includes(type);
}

/** Does `name` match the wildcard pattern (e.g. "*.dyn.example.org" matches "a.dyn.example.org" and deeper)? */
function wildcardMatches(pattern: Name, name: Name): boolean {
  if (!pattern.isWildcard()) return pattern.equals(name);
  const base = pattern.parent();
  return name.isSubdomainOf(base) && !name.equals(base);
}

/**
 * The key-name convention of ocaml-dns: a key named `<anything>._update.<domain>` may change `<domain>` and every
 * name below it (any type but the signer's), as long as `<domain>` lies inside the zone.
 */
export function updateConventionDomain(keyName: Name): Name | undefined {
  const i = keyName.labels.findIndex((l) => l.length === 7 && Buffer.from(l).toString('latin1').toLowerCase() === '_update');
  if (i <= 0) return undefined;
  return keyName.parent(i + 1);
}

/**
 * May the holder of `keyName` change the RRset `name`/`type` in zone `origin`? Grants first (first match decides),
 * then the `._update.` key convention. `keyName` undefined (unsigned request) is never allowed.
 */
export function checkGrant(grants: readonly UpdateGrant[], keyName: Name | undefined, name: Name, type: number, origin: Name): boolean {
  if (!keyName || !name.isSubdomainOf(origin)) return false;
  const g = matchingGrant(grants, keyName, name, type);
  if (g) return g.grant;
  const domain = updateConventionDomain(keyName);
  if (domain?.isSubdomainOf(origin) && name.isSubdomainOf(domain)) return !SIGNER_TYPES.has(type);
  return false;
}

/** The first rule whose identity, name and types match (the one that decides), or undefined. */
export function matchingGrant(grants: readonly UpdateGrant[], keyName: Name, name: Name, type: number): UpdateGrant | undefined {
  for (const g of grants) {
    if (!identityMatches(g.identity, keyName)) continue;
    let nameOk: boolean;
    switch (g.match) {
      case 'zonesub': nameOk = true; break;
      case 'name': nameOk = g.name !== undefined && name.equals(g.name); break;
      case 'subdomain': nameOk = g.name !== undefined && name.isSubdomainOf(g.name); break;
      case 'wildcard': nameOk = g.name !== undefined && wildcardMatches(g.name, name); break;
      case 'self': nameOk = name.equals(keyName); break;
    }
    if (nameOk && typeCovered(g.types, type)) return g;
  }
  return undefined;
}

/** Parse BIND's textual rule ("grant key.example. subdomain dyn.example.org. A AAAA TXT"). Throws Error. */
export function parseGrant(text: string, parseName: (s: string) => Name, parseType: (s: string) => number | undefined): UpdateGrant {
  const words = text.trim().replace(/;$/, '').split(/\s+/);
  const mode = words.shift()?.toLowerCase();
  if (mode !== 'grant' && mode !== 'deny') throw new Error(`update rule must start with grant or deny: "${text}"`);
  const id = words.shift();
  const match = words.shift()?.toLowerCase();
  if (!id || !match) throw new Error(`update rule too short: "${text}"`);
  if (!['zonesub', 'name', 'subdomain', 'wildcard', 'self'].includes(match)) throw new Error(`unsupported match type "${match}"`);
  let name: Name | undefined;
  if (match === 'name' || match === 'subdomain' || match === 'wildcard' || (match === 'self' && words.length > 0 && parseType(words[0]) === undefined)) {
    const n = words.shift();
    if (!n) throw new Error(`update rule "${text}" needs a name`);
    name = parseName(n);
  }
  const rrFlags: NonNullable<UpdateGrant['rrFlags']> = {};
  while (words.length > 0 && /^(forcerev|trackrev)$/i.test(words[words.length - 1])) {
    if (words.pop()!.toLowerCase() === 'forcerev') rrFlags.forceRev = true;
    else rrFlags.trackRev = true;
  }
  const types = words.map((w) => {
    const t = parseType(w);
    if (t === undefined) throw new Error(`unknown type "${w}" in update rule`);
    return t;
  });
  return {
    grant: mode === 'grant',
    identity: parseName(id),
    match: match as UpdateGrant['match'],
    name,
    types,
    ...(rrFlags.forceRev || rrFlags.trackRev ? { rrFlags } : {}),
  };
}

// ---- applying an update ------------------------------------------------------------------------------------------

export interface UpdateResult {
  /** NOERROR, or the RFC 2136 error (FORMERR, NOTZONE, NXDOMAIN, YXDOMAIN, NXRRSET, YXRRSET, NOTAUTH, REFUSED). */
  rcode: number;
  /** Why, for logs (empty on success). */
  reason: string;
  /** Did the zone content change? (An update whose every operation is a no-op changes nothing.) */
  changed: boolean;
  /** Net records removed and added (a TTL change shows as remove + add). */
  removed: RR[];
  added: RR[];
  /** The zone after the update (the input list when nothing changed or on error). */
  newRecords: RR[];
  /** The update itself replaced the SOA with a larger serial (the serial policy should then keep it). */
  explicitSerial?: number;
}

export interface ApplyOptions {
  /** Permission per RRset (RFC 3007 / 2136 §3.3); absent: everything allowed. */
  allowed?: (name: Name, type: number) => boolean;
  /**
   * Types a delete of every RRset at the apex (class ANY, type ANY) leaves, besides SOA and NS (RFC 2136 §3.4.2.3):
   * a signed zone's DNSKEY and NSEC3PARAM are its signer's, as in an inline-signing BIND, whose unsigned zone has none.
   */
  keptAtApex?: ReadonlySet<number>;
}

const NOT_UPDATABLE: ReadonlySet<number> = new Set([RRType.ANY, RRType.AXFR, RRType.IXFR, RRType.MAILA, RRType.MAILB]);

/** Types that may sit beside a CNAME (DNSSEC data about the name itself, RFC 4035 §2.5). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.KEY]);

function rrsetKey(name: Name, type: number): string {
  return `${name.key}\u0000${type}`;
}

function sameRdata(type: number, a: Uint8Array, b: Uint8Array): boolean {
  const x = canonicalRdata(type, a);
  const y = canonicalRdata(type, b);
  return Buffer.compare(x, y) === 0;
}

/** The zone as RRsets, updatable in place, keeping first-seen order of names for a stable output. */
class RRsetStore {
  readonly sets = new Map<string, RR[]>();
  readonly typesByName = new Map<string, Set<number>>();

  constructor(records: readonly RR[]) {
    for (const rr of records) this.add(rr);
  }

  get(name: Name, type: number): RR[] | undefined {
    return this.sets.get(rrsetKey(name, type));
  }

  types(name: Name): number[] {
    return [...(this.typesByName.get(name.key) ?? [])];
  }

  nameInUse(name: Name): boolean {
    return (this.typesByName.get(name.key)?.size ?? 0) > 0;
  }

  add(rr: RR): void {
    const k = rrsetKey(rr.name, rr.type);
    let set = this.sets.get(k);
    if (!set) {
      set = [];
      this.sets.set(k, set);
      let ts = this.typesByName.get(rr.name.key);
      if (!ts) {
        ts = new Set();
        this.typesByName.set(rr.name.key, ts);
      }
      ts.add(rr.type);
    }
    set.push(rr);
  }

  deleteSet(name: Name, type: number): void {
    this.sets.delete(rrsetKey(name, type));
    this.typesByName.get(name.key)?.delete(type);
  }

  replaceSet(name: Name, type: number, rrs: RR[]): void {
    if (rrs.length === 0) this.deleteSet(name, type);
    else this.sets.set(rrsetKey(name, type), rrs);
  }

  records(): RR[] {
    const out: RR[] = [];
    for (const set of this.sets.values()) out.push(...set);
    return out;
  }
}

/** Whether a strict ancestor of `name` in the zone (the apex included) has a DNAME (a scoped read holds those: see
 * server/primary.ts updateOwners). */
function belowDname(store: RRsetStore, name: Name, origin: Name): boolean {
  for (let up = 1; up <= name.labelCount - origin.labelCount; up++) if (store.get(name.parent(up), RRType.DNAME)) return true;
  return false;
}

function fail(rcode: number, reason: string, records: readonly RR[]): UpdateResult {
  return { rcode, reason, changed: false, removed: [], added: [], newRecords: [...records] };
}

function rrText(rr: RR): string {
  return `${rr.name} type ${rr.type} class ${rr.class}`;
}

/**
 * Apply an UPDATE message (already decoded by decodeMessage) to the zone `origin` whose records are
 * `zoneRecords` (class IN). Follows RFC 2136 §3: zone section, prerequisites (§3.2), permissions (§3.3, through
 * `opts.allowed`), prescan (§3.4.1) and the update proper (§3.4.2) with its special cases: the SOA is never deleted
 * and only replaced by a larger serial, the last apex NS stays, CNAME and other data exclude each other, a CNAME or
 * DNAME added where one is replaces it, NS and DNAME at a wildcard are ignored, so are adds below a DNAME (but of a
 * DNAME), a DS left without NS goes, duplicate adds change nothing. Any failure leaves the zone untouched.
 */
export function applyUpdate(zoneRecords: readonly RR[], origin: Name, msg: Message, opts: ApplyOptions = {}): UpdateResult {
  if (msg.opcode !== Opcode.UPDATE) return fail(Rcode.FORMERR, 'not an UPDATE message', zoneRecords);
  // §3.1: exactly one zone, type SOA.
  if (msg.question.length !== 1 || msg.question[0].type !== RRType.SOA)
    return fail(Rcode.FORMERR, 'zone section must hold one SOA question', zoneRecords);
  const zclass = msg.question[0].class;
  if (!msg.question[0].name.equals(origin)) return fail(Rcode.NOTAUTH, `not authoritative for ${msg.question[0].name}`, zoneRecords);
  if (zclass !== RRClass.IN) return fail(Rcode.NOTAUTH, 'only class IN zones are served', zoneRecords);

  const store = new RRsetStore(zoneRecords);

  // §3.2 prerequisites.
  const wanted = new Map<string, RR[]>();
  for (const rr of msg.answer) {
    if (rr.ttl !== 0) return fail(Rcode.FORMERR, `prerequisite ${rrText(rr)} has a TTL`, zoneRecords);
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `prerequisite ${rr.name} is outside the zone`, zoneRecords);
    if (rr.class === RRClass.ANY || rr.class === RRClass.NONE) {
      if (rr.rdata.length !== 0) return fail(Rcode.FORMERR, `prerequisite ${rrText(rr)} has RDATA`, zoneRecords);
      const exists = rr.type === RRType.ANY ? store.nameInUse(rr.name) : store.get(rr.name, rr.type) !== undefined;
      if (rr.class === RRClass.ANY && !exists)
        return rr.type === RRType.ANY
          ? fail(Rcode.NXDOMAIN, `prerequisite: name ${rr.name} is not in use`, zoneRecords)
          : fail(Rcode.NXRRSET, `prerequisite: RRset ${rr.name}/${rr.type} does not exist`, zoneRecords);
      if (rr.class === RRClass.NONE && exists)
        return rr.type === RRType.ANY
          ? fail(Rcode.YXDOMAIN, `prerequisite: name ${rr.name} is in use`, zoneRecords)
          : fail(Rcode.YXRRSET, `prerequisite: RRset ${rr.name}/${rr.type} exists`, zoneRecords);
    } else if (rr.class === zclass) {
      if (rr.type === RRType.ANY || isMetaType(rr.type)) return fail(Rcode.FORMERR, `prerequisite ${rrText(rr)} has a meta type`, zoneRecords);
      const k = rrsetKey(rr.name, rr.type);
      const list = wanted.get(k) ?? [];
      if (!list.some((x) => sameRdata(x.type, x.rdata, rr.rdata))) list.push(rr);
      wanted.set(k, list);
    } else return fail(Rcode.FORMERR, `prerequisite ${rrText(rr)} has a bad class`, zoneRecords);
  }
  for (const list of wanted.values()) {
    const have = store.get(list[0].name, list[0].type) ?? [];
    const equal = have.length === list.length && list.every((w) => have.some((h) => sameRdata(h.type, h.rdata, w.rdata)));
    if (!equal) return fail(Rcode.NXRRSET, `prerequisite: RRset ${list[0].name}/${list[0].type} differs`, zoneRecords);
  }

  // §3.4.1 prescan (before permissions so malformed requests get FORMERR, as BIND does).
  for (const rr of msg.authority) {
    if (!rr.name.isSubdomainOf(origin)) return fail(Rcode.NOTZONE, `update ${rr.name} is outside the zone`, zoneRecords);
    if (rr.class === zclass) {
      if (NOT_UPDATABLE.has(rr.type) || isMetaType(rr.type)) return fail(Rcode.FORMERR, `cannot add ${rrText(rr)}`, zoneRecords);
    } else if (rr.class === RRClass.ANY) {
      if (rr.ttl !== 0 || rr.rdata.length !== 0 || (rr.type !== RRType.ANY && (NOT_UPDATABLE.has(rr.type) || isMetaType(rr.type))))
        return fail(Rcode.FORMERR, `bad delete ${rrText(rr)}`, zoneRecords);
    } else if (rr.class === RRClass.NONE) {
      if (rr.ttl !== 0 || NOT_UPDATABLE.has(rr.type) || isMetaType(rr.type))
        return fail(Rcode.FORMERR, `bad delete ${rrText(rr)}`, zoneRecords);
    } else return fail(Rcode.FORMERR, `update ${rrText(rr)} has a bad class`, zoneRecords);
  }

  // §3.3 permissions: every RRset the update would touch. Deleting all RRsets of a name needs each of them.
  if (opts.allowed) {
    for (const rr of msg.authority) {
      const types = rr.type === RRType.ANY ? store.types(rr.name) : [rr.type];
      for (const t of types) {
        if (rr.type === RRType.ANY && rr.name.equals(origin) && (t === RRType.SOA || t === RRType.NS || opts.keptAtApex?.has(t))) continue;
        if (!opts.allowed(rr.name, t)) return fail(Rcode.REFUSED, `not allowed to change ${rr.name}/${t}`, zoneRecords);
      }
    }
  }

  // §3.4.2 the update, in order.
  let explicitSerial: number | undefined;
  for (const rr of msg.authority) {
    const atApex = rr.name.equals(origin);
    if (rr.class === zclass) {
      // An NS or DNAME at a wildcard has no defined meaning (RFC 4592 §4.2, §4.4): ignored, as BIND ignores them.
      if ((rr.type === RRType.NS || rr.type === RRType.DNAME) && rr.name.isWildcard()) continue;
      // Below a DNAME a name is occluded: an add of anything but a DNAME there is ignored (RFC 6672 §5.2; knotd refuses
      // the message, and refuses a zone with such data as a secondary).
      if (rr.type !== RRType.DNAME && belowDname(store, rr.name, origin)) continue;
      const types = store.types(rr.name);
      if (rr.type === RRType.CNAME) {
        if (types.some((t) => t !== RRType.CNAME && !CNAME_COMPANIONS.has(t))) continue;
      } else if (!CNAME_COMPANIONS.has(rr.type) && types.includes(RRType.CNAME)) continue;
      const set = store.get(rr.name, rr.type);
      if (rr.type === RRType.SOA) {
        // Only the apex has an SOA, and it only moves forward.
        if (!atApex || !set) continue;
        const cur = soaSerial(set[0].rdata);
        const next = soaSerial(rr.rdata);
        if (!serialGreater(next, cur)) continue;
        store.replaceSet(rr.name, rr.type, [{ ...rr, class: RRClass.IN }]);
        explicitSerial = next;
        continue;
      }
      // A CNAME or DNAME added where one is replaces it: one per owner (RFC 1034 §3.6.2, RFC 6672 §2.4; BIND alike).
      if ((rr.type === RRType.CNAME || rr.type === RRType.DNAME) && set) {
        store.replaceSet(rr.name, rr.type, [{ ...rr, class: RRClass.IN }]);
        continue;
      }
      const added: RR = { ...rr, class: RRClass.IN };
      if (!set) {
        store.add(added);
        continue;
      }
      // RFC 2181 §5.2: one TTL per RRset; the update's TTL wins for the whole set (BIND does the same).
      const others = set.filter((x) => !sameRdata(x.type, x.rdata, rr.rdata)).map((x) => (x.ttl === rr.ttl ? x : { ...x, ttl: rr.ttl }));
      store.replaceSet(rr.name, rr.type, [...others, added]);
    } else if (rr.class === RRClass.ANY) {
      if (rr.type === RRType.ANY) {
        for (const t of store.types(rr.name)) if (!(atApex && (t === RRType.SOA || t === RRType.NS || opts.keptAtApex?.has(t)))) store.deleteSet(rr.name, t);
      } else if (atApex && (rr.type === RRType.SOA || rr.type === RRType.NS)) {
        // the apex SOA and NS RRsets are never removed whole
      } else store.deleteSet(rr.name, rr.type);
    } else {
      // class NONE: delete one RR.
      if (rr.type === RRType.SOA) continue;
      const set = store.get(rr.name, rr.type);
      if (!set) continue;
      const rest = set.filter((x) => !sameRdata(x.type, x.rdata, rr.rdata));
      if (atApex && rr.type === RRType.NS && rest.length === 0) continue;
      store.replaceSet(rr.name, rr.type, rest);
    }
  }

  // A DS belongs to a delegation point (RFC 4034 §5, RFC 4035 §2.4): at a name the update leaves without NS it is
  // removed, whether just added or left behind by the NS going (BIND removes such orphaned DS alike).
  for (const rr of msg.authority) {
    if (rr.name.equals(origin) || !store.get(rr.name, RRType.DS) || store.get(rr.name, RRType.NS)) continue;
    store.deleteSet(rr.name, RRType.DS);
  }

  const newRecords = store.records();
  const { removed, added } = diffRecords(zoneRecords, newRecords);
  if (removed.length === 0 && added.length === 0)
    return { rcode: Rcode.NOERROR, reason: '', changed: false, removed, added, newRecords: [...zoneRecords] };
  return { rcode: Rcode.NOERROR, reason: '', changed: true, removed, added, newRecords, explicitSerial };
}

function recordKey(rr: RR): string {
  return `${rr.name.key}\u0000${rr.type}\u0000${rr.ttl}\u0000${Buffer.from(canonicalRdata(rr.type, rr.rdata)).toString('hex')}`;
}

/**
 * Records in `before` but not `after`, and the reverse (TTL counts as part of the record). A record object found in
 * both lists is the same record: only the owner/type pairs of the others are compared by content — an UPDATE's scope
 * keeps its untouched records (the SOA among them) as they were, and their canonical form (names lowercased in the
 * RDATA) was most of the work and the garbage of each UPDATE.
 */
export function diffRecords(before: readonly RR[], after: readonly RR[]): { removed: RR[]; added: RR[] } {
  const inBefore = new Set(before);
  const inAfter = new Set(after);
  const pairs = new Set<string>();
  for (const rr of before) if (!inAfter.has(rr)) pairs.add(`${rr.name.key}\u0000${rr.type}`);
  for (const rr of after) if (!inBefore.has(rr)) pairs.add(`${rr.name.key}\u0000${rr.type}`);
  if (pairs.size === 0) return { removed: [], added: [] };
  // A record outside these pairs is in both lists, so in neither result.
  const keyed = (list: readonly RR[]) => {
    const m = new Map<string, RR>();
    for (const rr of list) if (pairs.has(`${rr.name.key}\u0000${rr.type}`)) m.set(recordKey(rr), rr);
    return m;
  };
  const b = keyed(before);
  const a = keyed(after);
  const removed = [...b].filter(([k]) => !a.has(k)).map(([, rr]) => rr);
  const added = [...a].filter(([k]) => !b.has(k)).map(([, rr]) => rr);
  return { removed, added };
}
