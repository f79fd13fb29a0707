// Incoming dynamic updates (RFC 2136, secured as in RFC 3007): access by TSIG key through the zone's grants, the
// semantics of src/zone/update.ts, and one commit per accepted update through an UpdateSink (the service layer),
// finished before the answer is sent. Updates of one zone are applied one at a time, committed in groups.

import { Opcode, Rcode, RRClass, RRType } from '../dns/constants.js';
import { answerEdns, emptyMessage, encodeMessage, type Message, type RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { applyUpdate, checkGrant, diffRecords, type UpdateGrant } from '../zone/update.js';
import { ANSWER_UDP_SIZE, finishResponse, type TsigContext } from './xfr.js';

type MaybePromise<T> = T | Promise<T>;

export interface UpdatableZone {
  origin: Name;
  /** The zone's records in the version updates apply to (SOA included). */
  records: readonly RR[];
  /** Serial of that version. */
  serial: number;
  /** Store version (ZI number) of that version: handed back to commit() so a concurrent change is detected. */
  version?: number;
  /** Zone flag inc_updates: only such zones accept UPDATE. */
  incUpdates: boolean;
  /** update-policy rules of the zone (the `._update.` key convention applies in addition). */
  grants: readonly UpdateGrant[];
  /** The zone is signed: `records` hold its signer's DNSKEY and NSEC3PARAM at the apex (see ApplyOptions.keptAtApex). */
  signed?: boolean;
}

export interface UpdateCommit {
  origin: Name;
  baseSerial: number;
  /** UpdatableZone.version as read (when the sink gave one). */
  baseVersion?: number;
  removed: RR[];
  added: RR[];
  /** The complete new record list (some stores prefer it to the difference). */
  records: RR[];
  /** The UPDATE set the SOA serial itself (larger than before); otherwise the zone's serial policy decides. */
  explicitSerial?: number;
  /** Who made the change: the TSIG key name (without the trailing dot). */
  changeBy: string;
  /** The client's address (the audit log's source). */
  client?: string;
}

export class UpdateConflict extends Error {
  constructor(message = 'zone changed while the update was applied') {
    super(message);
    this.name = 'UpdateConflict';
  }
}

/** The sink refuses the change (e.g. the result fails zone validation): answered with `rcode`, nothing stored. */
export class UpdateRejected extends Error {
  constructor(
    readonly rcode: number,
    message: string,
  ) {
    super(message);
    this.name = 'UpdateRejected';
  }
}

export interface UpdateSink {
  /** The zone whose origin is exactly `origin`, or undefined when we do not serve it. */
  getZone(origin: Name): MaybePromise<UpdatableZone | undefined>;
  /**
   * Commit the change as one new zone version (one ZI, change_by = the key) in one transaction and publish it.
   * Returns the new serial. Throws UpdateConflict when the zone moved past `baseSerial` meanwhile (we retry).
   */
  commit(change: UpdateCommit): Promise<{ serial: number }>;
  /** Optional: the zone restricted to the records at `ownerKeys` (an UPDATE looks at no other name). */
  getZoneAt?(origin: Name, ownerKeys: ReadonlySet<string>): MaybePromise<UpdatableZone | undefined>;
  /**
   * Optional: the read (as getZoneAt) and the commit in one transaction, the zone locked in between, so no other
   * change can come between them. `decide` gets the zone (undefined: not ours) and returns the change to commit, or
   * undefined to commit nothing. Resolves to the new serial (undefined: nothing committed), or to 'apart' when the
   * sink cannot do it for this zone (a signed zone): the caller then reads and commits apart. Throws as commit().
   */
  transact?(
    origin: Name,
    ownerKeys: ReadonlySet<string>,
    /** Who makes the change (as UpdateCommit's changeBy and client). */
    author: { changeBy: string; client?: string },
    decide: (zone: UpdatableZone | undefined) => Omit<UpdateCommit, 'records'> | undefined,
  ): Promise<{ serial: number } | undefined | 'apart'>;
}

export interface UpdateEvent {
  zone: string;
  key?: string;
  client: string;
  rcode: number;
  reason: string;
  serial?: number;
  added?: number;
  removed?: number;
}

export interface UpdateOptions {
  log?: (e: UpdateEvent) => void;
}

export interface UpdateRequest {
  message: Message;
  address: string;
  tsig?: TsigContext;
  now?: number;
  /** Owner keys the message names (with the apex): a sink with getZoneAt then reads only those. */
  owners?: ReadonlySet<string>;
}

function updateResponse(req: Message, rcode: number, tsig: TsigContext | undefined, now: number): Uint8Array {
  const m = emptyMessage(req.id);
  m.qr = true;
  m.opcode = Opcode.UPDATE;
  m.rcode = rcode;
  // The zone section is echoed (as BIND and Knot do); prerequisite and update sections are not.
  m.question = req.question.slice(0, 1);
  const edns = answerEdns(req, ANSWER_UDP_SIZE);
  if (edns) m.edns = edns;
  return finishResponse(encodeMessage(m), tsig, now);
}

/**
 * Answer one UPDATE message; the change, if any, is committed (durably) before this resolves.
 *
 * Group commit: the UPDATEs of one zone are applied one at a time, in the order they arrived. While one commit is in
 * progress, the UPDATEs that arrive queue up; when it is done they are applied together, each to the result of the
 * ones before it (each with its own prerequisites, grants and answer), and committed as ONE new version in one
 * transaction (one fsync), as Knot does with its queued updates. Only UPDATEs signed with the same key from the same
 * address share a version (one version has one author and source). When that common commit is refused (the sum breaks
 * the zone), each is applied and committed alone, so the one at fault gets the refusal and the others are unaffected.
 */
export async function handleUpdate(req: UpdateRequest, sink: UpdateSink, opts: UpdateOptions = {}): Promise<Uint8Array> {
  const msg = req.message;
  const z = msg.question[0];
  if (msg.question.length !== 1 || z.type !== RRType.SOA) return answer(req, opts, Rcode.FORMERR, 'zone section must hold one SOA question');
  if (z.class !== RRClass.IN) return answer(req, opts, Rcode.NOTAUTH, 'class is not IN');
  let perSink = queues.get(sink);
  if (!perSink) {
    perSink = new Map();
    queues.set(sink, perSink);
  }
  const zones = perSink;
  const key = z.name.key;
  return new Promise<Uint8Array>((resolve, reject) => {
    let q = zones.get(key);
    if (!q) {
      q = { waiting: [], running: false };
      zones.set(key, q);
    }
    q.waiting.push({ req, resolve, reject });
    if (!q.running) void drain(zones, key, q, sink, opts);
  });
}

interface PendingUpdate {
  req: UpdateRequest;
  resolve: (answer: Uint8Array) => void;
  reject: (e: unknown) => void;
}

interface ZoneQueue {
  waiting: PendingUpdate[];
  running: boolean;
}

/** Per sink (one primary), per zone: the UPDATEs waiting for the commit in progress. */
const queues = new WeakMap<UpdateSink, Map<string, ZoneQueue>>();

/** UPDATEs applied together at most (one transaction). */
const MAX_GROUP = 256;

async function drain(zones: Map<string, ZoneQueue>, key: string, q: ZoneQueue, sink: UpdateSink, opts: UpdateOptions): Promise<void> {
  q.running = true;
  try {
    // The first UPDATE of an idle zone is applied at once (the other UPDATEs of the same read of the socket are
    // queued by now: their dispatch has no turn of the loop in it). The store may commit synchronously (SQLite): then
    // no datagram is read while an UPDATE is processed, and the UPDATEs that arrived meanwhile are handed to us one
    // per callback right after it: below, the loop reads them all (setImmediate runs after the poll phase) so that
    // they form the next group instead of one commit each.
    await Promise.resolve();
    while (q.waiting.length > 0) {
      const batch = q.waiting.splice(0, MAX_GROUP);
      // Runs of UPDATEs by the same key from the same address share one version.
      let i = 0;
      while (i < batch.length) {
        let j = i + 1;
        while (j < batch.length && sameAuthor(batch[i].req, batch[j].req)) j++;
        const run = batch.slice(i, j);
        try {
          const answers = await applyGroup(run.map((p) => p.req), sink, opts);
          for (let k = 0; k < run.length; k++) run[k].resolve(answers[k]);
        } catch (e) {
          for (const p of run) p.reject(e);
        }
        i = j;
      }
      if (q.waiting.length > 0) await new Promise<void>((res) => setImmediate(res));
    }
  } finally {
    q.running = false;
    if (q.waiting.length === 0 && zones.get(key) === q) zones.delete(key);
  }
}

function sameAuthor(a: UpdateRequest, b: UpdateRequest): boolean {
  if (a.address !== b.address) return false;
  if (!a.tsig || !b.tsig) return !a.tsig && !b.tsig;
  return a.tsig.key.name.key === b.tsig.key.name.key;
}

function keyTextOf(req: UpdateRequest): string | undefined {
  return req.tsig?.key.name.toString().replace(/\.$/, '');
}

function answer(req: UpdateRequest, opts: UpdateOptions, rcode: number, reason: string, extra: Partial<UpdateEvent> = {}): Uint8Array {
  const z = req.message.question[0];
  const log = opts.log;
  // Written once the answer is on its way (the next turn of the event loop): the client does not wait for our log.
  if (log) {
    const e: UpdateEvent = { zone: z ? z.name.toString() : '?', key: keyTextOf(req), client: req.address, rcode, reason, ...extra };
    setImmediate(log, e);
  }
  return updateResponse(req.message, rcode, req.tsig, req.now ?? Date.now() / 1000);
}

/** Owners the UPDATEs of a group name (the sink reads only those), when every request says. */
function ownersOf(reqs: readonly UpdateRequest[]): Set<string> | undefined {
  const all = new Set<string>();
  for (const r of reqs) {
    if (!r.owners) return undefined;
    for (const o of r.owners) all.add(o);
  }
  return all;
}

type Outcome = { rcode: number; reason: string; extra?: Partial<UpdateEvent>; committed?: boolean };

/** What a group of UPDATEs does to the zone as read: each one's outcome, and the group's net change (if any). */
interface Prepared {
  outcomes: Outcome[];
  /** Undefined: nothing to commit (every UPDATE refused, or no change). */
  change?: Omit<UpdateCommit, 'baseSerial' | 'baseVersion' | 'records' | 'changeBy' | 'client'> & { records: RR[] };
  /** Answers for all when the zone itself refuses (not ours, inc_updates off). */
  all?: { rcode: number; reason: string };
}

/** What a signed zone's delete of every RRset at its apex leaves (ApplyOptions.keptAtApex). */
const SIGNER_AT_APEX: ReadonlySet<number> = new Set([RRType.DNSKEY, RRType.NSEC3PARAM]);

function prepareGroup(reqs: readonly UpdateRequest[], zone: UpdatableZone | undefined): Prepared {
  if (!zone) return { outcomes: [], all: { rcode: Rcode.NOTAUTH, reason: 'not a zone we serve' } };
  if (!zone.incUpdates) return { outcomes: [], all: { rcode: Rcode.REFUSED, reason: 'zone does not accept updates (inc_updates off)' } };
  let records = zone.records;
  let explicitSerial: number | undefined;
  let single: { removed: RR[]; added: RR[] } | undefined;
  let accepted = 0;
  const outcomes = reqs.map((req): Outcome => {
    const tsig = req.tsig;
    if (!tsig) return { rcode: Rcode.REFUSED, reason: 'unsigned update' };
    const keyName = tsig.key.name;
    const result = applyUpdate(records, zone.origin, req.message, {
      allowed: (name, type) => checkGrant(zone.grants, keyName, name, type, zone.origin),
      ...(zone.signed ? { keptAtApex: SIGNER_AT_APEX } : {}),
    });
    if (result.rcode !== Rcode.NOERROR) return { rcode: result.rcode, reason: result.reason };
    if (!result.changed) return { rcode: Rcode.NOERROR, reason: 'no change', extra: { serial: zone.serial } };
    records = result.newRecords;
    if (result.explicitSerial !== undefined) explicitSerial = result.explicitSerial;
    single = { removed: result.removed, added: result.added };
    accepted++;
    return { rcode: Rcode.NOERROR, reason: 'committed', committed: true, extra: { added: result.added.length, removed: result.removed.length } };
  });
  if (accepted === 0 || !single) return { outcomes };
  // The group's net difference from the version read (one UPDATE: its own difference).
  const net = accepted === 1 ? single : diffRecords(zone.records, records);
  return { outcomes, change: { origin: zone.origin, removed: net.removed, added: net.added, records: [...records], explicitSerial } };
}

/** Apply UPDATEs of one zone, one author, in order, committed as one version; one answer per request. */
async function applyGroup(reqs: readonly UpdateRequest[], sink: UpdateSink, opts: UpdateOptions): Promise<Uint8Array[]> {
  const origin = reqs[0].message.question[0].name;
  const all = (rcode: number, reason: string) => reqs.map((r) => answer(r, opts, rcode, reason));
  const send = (outcomes: readonly Outcome[], serial?: number) =>
    reqs.map((r, k) => {
      const o = outcomes[k];
      return answer(r, opts, o.rcode, o.reason, { ...o.extra, ...(o.committed && serial !== undefined ? { serial } : {}) });
    });
  // A refused commit of a group: each alone, so only the one at fault is refused.
  const refused = async (e: unknown): Promise<Uint8Array[]> => {
    if (reqs.length > 1) {
      const out: Uint8Array[] = [];
      for (const r of reqs) out.push(...(await applyGroup([r], sink, opts)));
      return out;
    }
    if (e instanceof UpdateRejected) return all(e.rcode, e.message);
    return all(Rcode.SERVFAIL, `commit failed: ${(e as Error).message}`);
  };
  const owners = ownersOf(reqs);
  const author = { changeBy: keyTextOf(reqs[0]) ?? '', client: reqs[0].address };
  if (owners && sink.transact) {
    // Read, decide and commit in one transaction.
    let prepared: Prepared | undefined;
    let result: { serial: number } | undefined | 'apart';
    try {
      result = await sink.transact(origin, owners, author, (zone) => {
        prepared = prepareGroup(reqs, zone);
        if (!prepared.change || !zone) return undefined;
        const { records: _all, ...change } = prepared.change;
        return { ...change, baseSerial: zone.serial, ...(zone.version !== undefined ? { baseVersion: zone.version } : {}), ...author };
      });
    } catch (e) {
      return refused(e);
    }
    if (result !== 'apart') {
      if (!prepared) return all(Rcode.SERVFAIL, 'update not applied');
      if (prepared.all) return all(prepared.all.rcode, prepared.all.reason);
      return send(prepared.outcomes, result?.serial);
    }
  }
  // Other dmsd processes may commit to the same zone: the sink's base-version check makes us read and apply again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const zone = owners && sink.getZoneAt ? await sink.getZoneAt(origin, owners) : await sink.getZone(origin);
    const prepared = prepareGroup(reqs, zone);
    if (prepared.all) return all(prepared.all.rcode, prepared.all.reason);
    if (!prepared.change || !zone) return send(prepared.outcomes);
    try {
      const { serial } = await sink.commit({
        ...prepared.change,
        baseSerial: zone.serial,
        baseVersion: zone.version,
        ...author,
      });
      return send(prepared.outcomes, serial);
    } catch (e) {
      if (e instanceof UpdateConflict) continue;
      return refused(e);
    }
  }
  return all(Rcode.SERVFAIL, 'zone kept changing; update not applied');
}
