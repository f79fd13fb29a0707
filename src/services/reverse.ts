// Automatic reverse PTRs (the original DMS manual, "Auto Reverse PTRs"; issue 14). Every save of a forward zone —
// zone_tool, the API, update_rrs, an RFC 2136 UPDATE, a load — ends in core.ts commitVersion/commitDelta, which hand
// the address records that changed to autoReverse, in the same transaction. So the work follows the change, not the
// zone: the born AAAA records (A records with ;!FORCEREV, ;!TRACKREV or auto_reverse_ipv4) and the dying ;!TRACKREV
// records. Their reverse zones are found CIDR-fashion (the most specific network wins, classless RFC 2317 zones
// included) with two index reads for the whole change (zones.rev_net), and each reverse zone touched gets one new
// version written as a delta (core.ts commitDelta) with change_by naming the actor and the forward zone.
//
// The rules, as the original: a PTR is created when none exists; ;!FORCEREV replaces an existing one, ;!TRACKREV
// keeps it following the record and removes it with the record; a PTR with ;!LOCKPTR is never touched; the reverse
// zone must have inc_updates. Staff (the original's Admin sectag) may always write; a customer only where the forward
// zone's reference equals the PTR's ;!REF: or the reverse zone's reference. New PTRs carry ;!REF:<forward zone's
// reference>, delegating them to that customer. Whatever cannot be done is reported (the save result, and an event
// for refusals) and leaves that reverse zone untouched: the forward save never fails for a PTR.

import {
  ipv4ToString,
  ipv6ToString,
  networkKey,
  networkKeyPrefixes,
  type ReverseNetwork,
  reverseZoneNetwork,
} from '../dns/address.js';
import { RRClass, RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { rdataTargetName } from '../dns/rdata.js';
import type { Tx } from '../store/index.js';
import { insertEvent } from '../store/queries/events.js';
import { referenceName } from '../store/queries/references.js';
import { groupRowById } from '../store/queries/groups.js';
import { aliveRowsAt, aliveRowsAtOwners, aliveRowsOfTypes, type StoredRow, ziRow } from '../store/queries/versions.js';
import { lockedZoneRowById, reverseZonesByKey, type ZoneRow } from '../store/queries/zones.js';
import type { Settings } from './config.js';
import { nowMs, type ServiceContext, withActor } from './context.js';
import { ZoneValidationFailed } from './errors.js';
import type { RRFlags, ZoneRecord } from './types.js';

export interface PtrChange {
  /** The forward owner the PTR names (its target), absolute. */
  forward: string;
  address: string;
  /** The PTR's owner. */
  ptr: string;
  /** The reverse zone written. */
  zone: string;
  action: 'create' | 'replace' | 'remove';
  /** The PTR targets there before (replace, remove). */
  previous?: string[];
}

export type PtrSkipReason =
  | 'no_reverse_zone'
  | 'no_inc_updates'
  | 'refused'
  | 'locked'
  | 'delegated'
  | 'edit_locked'
  | 'same_zone'
  | 'duplicate'
  | 'invalid';

export interface PtrSkip {
  forward: string;
  address: string;
  ptr?: string;
  zone?: string;
  reason: PtrSkipReason;
  message: string;
}

/** What the auto-PTR step did for one save. */
export interface ReverseReport {
  changes: PtrChange[];
  skipped: PtrSkip[];
  /** How many more skips there were than listed (a list is capped at SKIP_LIST_MAX). */
  skippedMore?: number;
  /** The reverse zones given a new version. */
  zones: { zone: string; version: number; serial: number; published: boolean }[];
}

const SKIP_LIST_MAX = 1000;

/**
 * The address records of a forward change: what died (removed or replaced) and what was born. `born` may come as
 * chunks (a large load: its records are made a chunk at a time from compact lists, never all at once), or as one array.
 */
export interface ForwardAddressChange {
  died: readonly ZoneRecord[];
  born: readonly ZoneRecord[] | BornChunks;
}

/** Born address records made a chunk at a time; `size` bounds how many there are (0: none). */
export interface BornChunks {
  readonly size: number;
  chunks(): Iterable<readonly ZoneRecord[]>;
}

/** Born address records taken at a time: the intents of those no reverse zone holds are dropped chunk by chunk. */
const INTENT_CHUNK = 8192;

function* bornChunks(change: ForwardAddressChange): Iterable<readonly ZoneRecord[]> {
  const born = change.born;
  if (!Array.isArray(born)) {
    yield* (born as BornChunks).chunks();
    return;
  }
  for (let i = 0; i < born.length; i += INTENT_CHUNK) yield born.length <= INTENT_CHUNK ? born : born.slice(i, i + INTENT_CHUNK);
}

/** Whether the change holds no address record at all (nothing for the step to read). */
export function noAddressChange(change: ForwardAddressChange): boolean {
  if (change.died.length > 0) return false;
  return Array.isArray(change.born) ? change.born.length === 0 : (change.born as BornChunks).size === 0;
}

/** core.ts commitDelta, handed in by the caller (core imports this file, so this file must not import core). */
export type CommitDeltaFn = (
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  settings: () => Promise<Settings>,
  input: { removed: readonly ZoneRecord[]; added: readonly ZoneRecord[]; comment: string; publish: boolean; autoReverse: false },
) => Promise<{ changed: boolean; version: number; serial: number; published: boolean; stale?: boolean }>;

export interface AutoReverseOptions {
  commit: CommitDeltaFn;
  settings: () => Promise<Settings>;
  /** Publish the reverse zones' new versions (the forward save's own publish flag). */
  publish: boolean;
  /** Work out and report the changes without writing them (refresh_zone_ptrs dry run). */
  dryRun?: boolean;
}

export const isAddressRecord = (r: { type: number }): boolean => r.type === RRType.A || r.type === RRType.AAAA;

type Mode = 'create' | 'set' | 'remove';

interface Intent {
  forward: Name;
  address: Uint8Array;
  addressText: string;
  key: string;
  ttl: number;
  mode: Mode;
}

const sameRef = (a: string | null | undefined, b: string | null | undefined) =>
  !!a && !!b && a.toLowerCase() === b.toLowerCase();

const addrText = (b: Uint8Array) => (b.length === 4 ? ipv4ToString(b) : ipv6ToString(b));

const ptrTarget = (row: StoredRow): string | undefined => ptrTargetOf(row, RRType.PTR);

const rowFlags = (row: StoredRow): RRFlags => (row.flags ? (JSON.parse(row.flags) as RRFlags) : {});

function rowRecord(row: StoredRow): ZoneRecord {
  const rec: ZoneRecord = { name: Name.parse(row.owner), type: row.type, class: row.rclass, ttl: Number(row.ttl), rdata: Uint8Array.from(row.rdata) };
  if (row.comment !== null) rec.comment = row.comment;
  if (row.group_comment !== null) rec.group = row.group_comment;
  if (row.flags !== null) rec.flags = rowFlags(row);
  return rec;
}

/**
 * The intents of a change: born address records that want a PTR (create, or set with FORCEREV/TRACKREV) and dying
 * TRACKREV records whose PTR goes with them (unless the same owner keeps that address). Yields the removals first,
 * then the born records' intents a chunk at a time.
 */
async function* intentsOf(change: ForwardAddressChange, settings: () => Promise<Settings>): AsyncIterable<Intent[]> {
  let ipv4: boolean | undefined;
  const mk = (r: ZoneRecord, mode: Mode): Intent => {
    const address = Uint8Array.from(r.rdata);
    return { forward: r.name, address, addressText: addrText(address), key: networkKey(address, address.length * 8), ttl: r.ttl, mode };
  };
  const wanted = (r: ZoneRecord) => isAddressRecord(r) && !r.flags?.disable && r.rdata.length === (r.type === RRType.A ? 4 : 16);
  const pairKey = (r: ZoneRecord) => `${r.name.key}\u0000${Buffer.from(r.rdata).toString('hex')}`;
  if (change.died.length > 0) {
    const bornPairs = new Set<string>();
    for (const chunk of bornChunks(change)) for (const r of chunk) if (wanted(r)) bornPairs.add(pairKey(r));
    const removals: Intent[] = [];
    for (const r of change.died) {
      if (!wanted(r) || !r.flags?.trackRev || bornPairs.has(pairKey(r))) continue;
      removals.push(mk(r, 'remove'));
    }
    // Last died first, as before (one reversal, not an unshift per record: quadratic on a large removal).
    if (removals.length > 0) yield removals.reverse();
  }
  for (const chunk of bornChunks(change)) {
    const out: Intent[] = [];
    for (const r of chunk) {
      if (!wanted(r)) continue;
      const forced = r.flags?.forceRev === true || r.flags?.trackRev === true;
      if (r.type === RRType.A && !forced) {
        ipv4 ??= (await settings()).bool('auto_reverse_ipv4');
        if (!ipv4) continue;
      }
      out.push(mk(r, forced ? 'set' : 'create'));
    }
    if (out.length > 0) yield out;
  }
}

type RevZone = ZoneRow & { ref_name: string | null };

// The host part of a PTR owner from shared one-octet labels (labels are read-only): a bulk save builds tens of
// thousands of 34-label ip6.arpa. names, and parsing each from text would allocate a buffer per label.
const NIBBLE_LABELS: readonly Uint8Array[] = Array.from({ length: 16 }, (_, v) => Uint8Array.of(v.toString(16).charCodeAt(0)));
const OCTET_LABELS: readonly Uint8Array[] = Array.from({ length: 256 }, (_, v) => new TextEncoder().encode(String(v)));

/** The PTR owner of `address` in the reverse zone `origin` of network `net` (ptrOwnerIn, as a Name). */
export function ptrOwnerName(origin: Name, net: ReverseNetwork, address: Uint8Array): Name {
  const host: Uint8Array[] = [];
  if (net.family === 6) {
    for (let n = 31; n >= net.bits / 4; n--) host.push(NIBBLE_LABELS[n & 1 ? address[n >> 1] & 15 : address[n >> 1] >> 4]);
  } else if (net.classless) host.push(OCTET_LABELS[address[3]]);
  else for (let o = 3; o >= net.bits / 8; o--) host.push(OCTET_LABELS[address[o]]);
  return new Name([...host, ...origin.labels]);
}

/**
 * The most specific live reverse zone of each key (CIDR-fashion): per address family one index read covering every
 * zone that contains the addresses' common prefix and every zone inside it, then a longest-prefix match in memory.
 */
export async function reverseZonesOf(trx: Tx, keys: readonly string[]): Promise<Map<string, { zone: RevZone; net: ReverseNetwork }>> {
  const out = new Map<string, { zone: RevZone; net: ReverseNetwork }>();
  for (const fam of ['4', '6']) {
    const mine = [...new Set(keys.filter((k) => k[0] === fam))];
    if (mine.length === 0) continue;
    let cp = mine[0];
    for (const k of mine) {
      let i = 0;
      while (i < cp.length && i < k.length && cp[i] === k[i]) i++;
      cp = cp.slice(0, i);
    }
    const zones = await reverseZonesByKey(trx, null, networkKeyPrefixes(cp), cp);
    const byKey = new Map<string, { zone: RevZone; net: ReverseNetwork }>();
    for (const z of zones) {
      const net = z.rev_net ? reverseZoneNetwork(z.name) : undefined;
      if (z.rev_net && net) byKey.set(z.rev_net, { zone: z, net });
    }
    if (byKey.size === 0) continue;
    const lengths = [...new Set([...byKey.keys()].map((k) => k.length))].sort((a, b) => b - a);
    for (const k of mine)
      for (const n of lengths) {
        if (n > k.length) continue;
        const hit = byKey.get(k.slice(0, n));
        if (hit) {
          out.set(k, hit);
          break;
        }
      }
  }
  return out;
}

/** The auto-PTR step of one forward save (see the file comment). Undefined when the change has nothing for it. */
export async function autoReverse(
  trx: Tx,
  ctx: ServiceContext,
  fwd: ZoneRow,
  change: ForwardAddressChange,
  o: AutoReverseOptions,
): Promise<ReverseReport | undefined> {
  const report: ReverseReport = { changes: [], skipped: [], zones: [] };
  let more = 0;
  const skip = (i: Intent, reason: PtrSkipReason, message: string, at?: { ptr?: string; zone?: string }) => {
    if (report.skipped.length >= SKIP_LIST_MAX) {
      more++;
      return;
    }
    report.skipped.push({ forward: i.forward.toString(), address: i.addressText, ...(at?.ptr ? { ptr: at.ptr } : {}), ...(at?.zone ? { zone: at.zone } : {}), reason, message });
  };
  // Each chunk's intents are placed in their reverse zones at once: those no reverse zone holds are reported (the
  // list capped) and dropped, so a load of 1,000,000 AAAA records into a network without one holds a chunk, not all.
  const groups = new Map<number, { zone: RevZone; net: ReverseNetwork; intents: Intent[] }>();
  let any = false;
  for await (const intents of intentsOf(change, o.settings)) {
    any = true;
    const zonesOf = await reverseZonesOf(trx, intents.map((i) => i.key));
    for (const i of intents) {
      const hit = zonesOf.get(i.key);
      if (!hit) {
        skip(i, 'no_reverse_zone', `no reverse zone holds ${i.addressText}`);
        continue;
      }
      const id = Number(hit.zone.id);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { zone: hit.zone, net: hit.net, intents: [] }));
      g.intents.push(i);
    }
  }
  if (!any) return undefined;
  const fwdRef = fwd.reference_id === null ? null : ((await referenceName(trx, Number(fwd.reference_id))) ?? null);
  const staff = ctx.tenant.tier !== 'customer';

  // Reverse zones in id order: two saves touching the same reverse zones lock them in the same order.
  for (const g of [...groups.values()].sort((a, b) => Number(a.zone.id) - Number(b.zone.id))) {
    const zoneName = g.zone.name;
    const at = (ptr?: string) => ({ zone: zoneName, ...(ptr ? { ptr } : {}) });
    if (Number(g.zone.id) === Number(fwd.id)) {
      for (const i of g.intents) skip(i, 'same_zone', `${i.addressText} falls in the zone being saved (${zoneName})`, at());
      continue;
    }
    if (!g.zone.inc_updates) {
      for (const i of g.intents) skip(i, 'no_inc_updates', `reverse zone ${zoneName} does not have inc_updates`, at());
      continue;
    }
    const zone = await lockedZoneRowById(trx, ctx.store.kind, null, Number(g.zone.id));
    if (!zone || zone.state === 'DELETED') {
      for (const i of g.intents) skip(i, 'no_reverse_zone', `reverse zone ${zoneName} is gone`, at());
      continue;
    }
    if (zone.lock_token !== null && zone.lock_expires !== null && Number(zone.lock_expires) > nowMs(ctx)) {
      for (const i of g.intents) skip(i, 'edit_locked', `reverse zone ${zoneName} is being edited by ${zone.locked_by ?? 'someone'}`, at());
      continue;
    }
    const origin = Name.parse(zoneName);
    const owners = new Map<Intent, Name>();
    for (const i of g.intents) owners.set(i, ptrOwnerName(origin, g.net, i.address));
    const rows = await aliveRowsAtOwners(trx, ctx.store.kind, Number(zone.id), [...new Set([...owners.values()].map((n) => n.key))]);
    const byOwner = new Map<string, StoredRow[]>();
    for (const row of rows) {
      const l = byOwner.get(row.owner_key);
      if (l) l.push(row);
      else byOwner.set(row.owner_key, [row]);
    }
    // Delegations inside the reverse zone (a classless range handed to someone else): names at or below them are not ours.
    const cuts = (await aliveRowsOfTypes(trx, Number(zone.id), [RRType.NS])).filter((r) => r.owner_key !== origin.key && !r.disabled).map((r) => Name.parse(r.owner));

    const removed: ZoneRecord[] = [];
    const added: ZoneRecord[] = [];
    const changes: PtrChange[] = [];
    const decided = new Map<string, string>(); // PTR owner → forward owner chosen in this change
    const refused: PtrSkip[] = [];
    const mayWrite = (existing: StoredRow[]): boolean =>
      staff || sameRef(fwdRef, g.zone.ref_name) || (existing.length > 0 && existing.every((r) => sameRef(fwdRef, rowFlags(r).ref)));
    const deny = (i: Intent, ptr: string, existing: StoredRow[]) => {
      // The reverse zone and its PTRs may belong to another customer: say which reference would do, never theirs.
      const why = `customer may not change ${ptr}: neither the reverse zone ${zoneName} nor ${existing.length ? 'the PTR' : 'a PTR there'} is delegated to the forward zone's reference (${fwdRef ?? 'none'})`;
      skip(i, 'refused', why, at(ptr));
      refused.push({ forward: i.forward.toString(), address: i.addressText, ptr, zone: zoneName, reason: 'refused', message: why });
    };

    for (const i of g.intents) {
      const owner = owners.get(i)!;
      const ptr = owner.toString();
      const here = byOwner.get(owner.key) ?? [];
      const cut = cuts.find((c) => owner.isSubdomainOf(c));
      if (cut) {
        skip(i, 'delegated', `${ptr} is delegated away from ${zoneName} (NS at ${cut})`, at(ptr));
        continue;
      }
      const cname = here.find((r) => r.type === RRType.CNAME && !r.disabled);
      if (cname) {
        skip(i, 'delegated', `${ptr} is a CNAME (RFC 2317 classless delegation) in ${zoneName}`, at(ptr));
        continue;
      }
      const prior = decided.get(owner.key);
      if (prior !== undefined) {
        if (prior !== i.forward.key && i.mode !== 'remove') skip(i, 'duplicate', `${i.addressText} is also claimed by ${prior} in this change; that one keeps ${ptr}`, at(ptr));
        continue;
      }
      const ptrs = here.filter((r) => r.type === RRType.PTR && !r.disabled);
      const targets = ptrs.map((r) => ptrTarget(r) ?? '?');
      if (i.mode === 'remove') {
        const mine = ptrs.filter((r) => ptrTarget(r) === i.forward.key);
        if (mine.length === 0) continue;
        if (mine.some((r) => rowFlags(r).lockPtr)) {
          skip(i, 'locked', `${ptr} has LOCKPTR: left alone`, at(ptr));
          continue;
        }
        if (!mayWrite(mine)) {
          deny(i, ptr, mine);
          continue;
        }
        decided.set(owner.key, '');
        for (const r of mine) removed.push(rowRecord(r));
        changes.push({ forward: i.forward.toString(), address: i.addressText, ptr, zone: zoneName, action: 'remove', previous: targets });
        continue;
      }
      if (ptrs.length === 1 && targets[0] === i.forward.key) {
        decided.set(owner.key, i.forward.key);
        continue;
      }
      if (ptrs.length > 0 && i.mode === 'create') {
        decided.set(owner.key, targets[0]);
        continue;
      }
      if (ptrs.some((r) => rowFlags(r).lockPtr)) {
        skip(i, 'locked', `${ptr} has LOCKPTR: left alone`, at(ptr));
        continue;
      }
      if (!mayWrite(ptrs)) {
        deny(i, ptr, ptrs);
        continue;
      }
      decided.set(owner.key, i.forward.key);
      for (const r of ptrs) removed.push(rowRecord(r));
      added.push({
        name: owner,
        type: RRType.PTR,
        class: RRClass.IN,
        ttl: i.ttl,
        rdata: i.forward.toWire(),
        ...(fwdRef ? { flags: { ref: fwdRef } } : {}),
      });
      changes.push({
        forward: i.forward.toString(),
        address: i.addressText,
        ptr,
        zone: zoneName,
        action: ptrs.length ? 'replace' : 'create',
        ...(ptrs.length ? { previous: targets } : {}),
      });
    }

    if (refused.length > 0 && !o.dryRun) await recordRefusals(trx, ctx, fwd, zone, refused);
    if (removed.length === 0 && added.length === 0) continue;
    if (o.dryRun) {
      report.changes.push(...changes);
      continue;
    }
    const actx = withActor(ctx, `${ctx.actor} (auto PTR from ${fwd.name})`);
    try {
      const r = await o.commit(trx, actx, zone, o.settings, {
        removed,
        added,
        comment: `auto PTR from ${fwd.name}: ${added.length} added, ${removed.length} removed`,
        // A pending unpublished version of the reverse zone is not ours to publish.
        publish: o.publish && zone.published_version === zone.latest_version,
        autoReverse: false,
      });
      if (r.stale) throw new Error(`reverse zone ${zoneName} changed under the auto-PTR step`);
      if (r.changed) report.zones.push({ zone: zoneName, version: r.version, serial: r.serial, published: r.published });
      report.changes.push(...changes);
    } catch (e) {
      if (!(e instanceof ZoneValidationFailed)) throw e;
      // commitDelta checks before it writes: nothing of this reverse zone is written, the forward save stands.
      const why = e.problems.map((p) => p.message).join('; ');
      for (const c of changes) report.skipped.push({ forward: c.forward, address: c.address, ptr: c.ptr, zone: zoneName, reason: 'invalid', message: `not written: ${why}` });
    }
  }
  if (more > 0) report.skippedMore = more;
  return report;
}

/**
 * A refused PTR change leaves an event (type auto_ptr_refused, already FAILURE: nothing to retry) for the operators
 * and the customer's front end, in the save's transaction, with what was refused and why.
 */
async function recordRefusals(trx: Tx, ctx: ServiceContext, fwd: ZoneRow, rev: ZoneRow, refused: PtrSkip[]): Promise<void> {
  const t = nowMs(ctx);
  await insertEvent(trx, {
    event_type: 'auto_ptr_refused',
    zone_id: Number(rev.id),
    zone_name: rev.name,
    state: 'FAILURE',
    payload: JSON.stringify({ forwardZone: fwd.name, actor: ctx.actor, refused: refused.slice(0, 100), count: refused.length }),
    attempts: 0,
    last_error: `${refused.length} PTR change(s) from ${fwd.name} refused: ${refused[0].message}`,
    created: t,
    scheduled: t,
    processed: t,
  });
}

// ---- RFC 2317 classless delegation: the parent's side ---------------------------------------------------------------

/**
 * The parent /24 zone's side of an RFC 2317 classless zone (§4): an NS RRset at the child's name (the child's apex NS,
 * from its server group) and, for every address of the block, "<n>.<parent> CNAME <n>.<child>", so a resolver asking
 * the parent for any address of the block follows the CNAME into the child. Written when the child is created (or the
 * parent is created after its children) and removed with the child, as a delta of the parent, in the same
 * transaction.
 */
export async function maintainClasslessParent(
  trx: Tx,
  ctx: ServiceContext,
  zone: ZoneRow,
  action: 'create' | 'delete',
  o: { commit: CommitDeltaFn; settings: () => Promise<Settings> },
): Promise<void> {
  const net = reverseZoneNetwork(zone.name);
  if (net?.family !== 4) return;
  if (net.classless) {
    const parentKey = networkKey(net.bytes, 24);
    const parent = (await reverseZonesByKey(trx, null, [parentKey])).find((z) => z.rev_net === parentKey);
    if (parent && Number(parent.id) !== Number(zone.id)) await writeParentSide(trx, ctx, parent, [{ zone, net }], action, o);
    return;
  }
  // A /24 created after its classless children: it takes their delegations now.
  if (net.bits !== 24 || action !== 'create') return;
  const key = networkKey(net.bytes, 24);
  const children = (await reverseZonesByKey(trx, null, [], key)).filter((z) => z.rev_net !== key);
  const kids: { zone: ZoneRow; net: ReverseNetwork }[] = [];
  for (const c of children) {
    const cn = reverseZoneNetwork(c.name);
    if (cn?.classless) kids.push({ zone: c, net: cn });
  }
  if (kids.length > 0) await writeParentSide(trx, ctx, zone, kids, 'create', o);
}

async function writeParentSide(
  trx: Tx,
  ctx: ServiceContext,
  parentRow: ZoneRow,
  children: { zone: ZoneRow; net: ReverseNetwork }[],
  action: 'create' | 'delete',
  o: { commit: CommitDeltaFn; settings: () => Promise<Settings> },
): Promise<void> {
  const parent = await lockedZoneRowById(trx, ctx.store.kind, null, Number(parentRow.id));
  if (!parent || parent.state === 'DELETED') return;
  const zi = await ziRow(trx, Number(parent.id), parent.latest_version);
  const ttl = zi ? Number(zi.zone_ttl) : (await o.settings()).ttl('zone_ttl');
  const removed: ZoneRecord[] = [];
  const added: ZoneRecord[] = [];
  // PTRs the parent held for addresses of a new child move into the child (the CNAME takes their name).
  const moves: { child: ZoneRow; records: ZoneRecord[] }[] = [];
  for (const { zone: child, net } of children) {
    const cOrigin = Name.parse(child.name);
    const size = 2 ** (32 - net.bits);
    const owners: Name[] = [cOrigin];
    for (let n = net.bytes[3]; n < net.bytes[3] + size; n++) owners.push(Name.parse(`${n}.${parent.name}`));
    const rows = await aliveRowsAt(trx, Number(parent.id), owners.map((x) => x.key));
    if (action === 'delete') {
      // Only what points into this child: the delegation at its name and the CNAMEs into it.
      for (const r of rows) {
        if (r.owner_key === cOrigin.key && r.type === RRType.NS) removed.push(rowRecord(r));
        else if (r.type === RRType.CNAME) {
          const t = ptrTargetOf(r, RRType.CNAME);
          if (t && Name.parse(t).isSubdomainOf(cOrigin)) removed.push(rowRecord(r));
        }
      }
      continue;
    }
    const have = new Set(rows.map((r) => `${r.owner_key}\u0000${r.type}\u0000${Buffer.from(r.rdata).toString('hex')}`));
    const add = (rec: ZoneRecord) => {
      if (!have.has(`${rec.name.key}\u0000${rec.type}\u0000${Buffer.from(rec.rdata).toString('hex')}`)) added.push(rec);
    };
    const sg = await groupRowById(trx, Number(child.sg_id));
    const apexNs = sg ? (JSON.parse(sg.apex_ns) as string[]) : [];
    for (const ns of apexNs) add({ name: cOrigin, type: RRType.NS, class: RRClass.IN, ttl, rdata: Name.from(ns).toWire() });
    const moved: ZoneRecord[] = [];
    owners.slice(1).forEach((owner, k) => {
      const target = Name.parse(`${net.bytes[3] + k}.${child.name}`);
      for (const r of rows)
        if (r.owner_key === owner.key && r.type === RRType.PTR) {
          removed.push(rowRecord(r));
          moved.push({ ...rowRecord(r), name: target });
        }
      add({ name: owner, type: RRType.CNAME, class: RRClass.IN, ttl, rdata: target.toWire() });
    });
    if (moved.length > 0) moves.push({ child, records: moved });
  }
  if (removed.length === 0 && added.length === 0) return;
  const names = children.map((c) => c.zone.name).join(', ');
  await o.commit(trx, withActor(ctx, `${ctx.actor} (RFC 2317 for ${names})`), parent, o.settings, {
    removed,
    added,
    comment: `RFC 2317 delegation of ${names} ${action === 'create' ? 'added' : 'removed'}`,
    publish: parent.published_version === parent.latest_version,
    autoReverse: false,
  });
  for (const m of moves) {
    const child = await lockedZoneRowById(trx, ctx.store.kind, null, Number(m.child.id));
    if (!child) continue;
    await o.commit(trx, withActor(ctx, `${ctx.actor} (RFC 2317 from ${parent.name})`), child, o.settings, {
      removed: [],
      added: m.records,
      comment: `PTRs moved from ${parent.name} (RFC 2317)`,
      publish: child.published_version === child.latest_version,
      autoReverse: false,
    });
  }
}

function ptrTargetOf(row: StoredRow, type: number): string | undefined {
  try {
    return rdataTargetName(type, Uint8Array.from(row.rdata))?.key;
  } catch {
    return undefined;
  }
}
