// Incoming dynamic updates (RFC 2136, secured as in RFC 3007): access by TSIG key through the zone's grants, the
// semantics of src/zone/update.ts, and one commit per accepted update through an UpdateSink (the service layer),
// finished before the answer is sent. Updates of one zone are applied one at a time.

import { Opcode, Rcode, RRClass, RRType } from '../dns/constants.js';
import { emptyMessage, encodeMessage, type Message, type RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { applyUpdate, checkGrant, type UpdateGrant } from '../zone/update.js';
import { finishResponse, type TsigContext } from './xfr.js';

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
}

const zoneLocks = new Map<string, Promise<unknown>>();

/** Run `fn` after every earlier call for the same zone has finished. */
async function serialized<T>(zoneKey: string, fn: () => Promise<T>): Promise<T> {
  const prev = zoneLocks.get(zoneKey) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  zoneLocks.set(zoneKey, tail);
  try {
    return await run;
  } finally {
    if (zoneLocks.get(zoneKey) === tail) zoneLocks.delete(zoneKey);
  }
}

function updateResponse(req: Message, rcode: number, tsig: TsigContext | undefined, now: number): Uint8Array {
  const m = emptyMessage(req.id);
  m.qr = true;
  m.opcode = Opcode.UPDATE;
  m.rcode = rcode;
  // The zone section is echoed (as BIND and Knot do); prerequisite and update sections are not.
  m.question = req.question.slice(0, 1);
  return finishResponse(encodeMessage(m), tsig, now);
}

/** Answer one UPDATE message; the change, if any, is committed before this resolves. */
export async function handleUpdate(req: UpdateRequest, sink: UpdateSink, opts: UpdateOptions = {}): Promise<Uint8Array> {
  const msg = req.message;
  const now = req.now ?? Date.now() / 1000;
  const tsig = req.tsig;
  const z = msg.question[0];
  const zoneText = z ? z.name.toString() : '?';
  const keyText = tsig?.key.name.toString().replace(/\.$/, '');
  const done = (rcode: number, reason: string, extra: Partial<UpdateEvent> = {}) => {
    opts.log?.({ zone: zoneText, key: keyText, client: req.address, rcode, reason, ...extra });
    return updateResponse(msg, rcode, tsig, now);
  };
  if (msg.question.length !== 1 || z.type !== RRType.SOA) return done(Rcode.FORMERR, 'zone section must hold one SOA question');
  if (z.class !== RRClass.IN) return done(Rcode.NOTAUTH, 'class is not IN');
  return serialized(z.name.key, async () => {
    // Other dmsd processes may commit to the same zone: the sink's base-version check makes us read and apply again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const zone = await sink.getZone(z.name);
      if (!zone) return done(Rcode.NOTAUTH, 'not a zone we serve');
      if (!zone.incUpdates) return done(Rcode.REFUSED, 'zone does not accept updates (inc_updates off)');
      if (!tsig) return done(Rcode.REFUSED, 'unsigned update');
      const keyName = tsig.key.name;
      const result = applyUpdate(zone.records, zone.origin, msg, {
        allowed: (name, type) => checkGrant(zone.grants, keyName, name, type, zone.origin),
      });
      if (result.rcode !== Rcode.NOERROR) return done(result.rcode, result.reason);
      if (!result.changed) return done(Rcode.NOERROR, 'no change', { serial: zone.serial });
      try {
        const { serial } = await sink.commit({
          origin: zone.origin,
          baseSerial: zone.serial,
          baseVersion: zone.version,
          removed: result.removed,
          added: result.added,
          records: result.newRecords,
          explicitSerial: result.explicitSerial,
          changeBy: keyText ?? '',
          client: req.address,
        });
        return done(Rcode.NOERROR, 'committed', { serial, added: result.added.length, removed: result.removed.length });
      } catch (e) {
        if (e instanceof UpdateConflict) continue;
        if (e instanceof UpdateRejected) return done(e.rcode, e.message);
        return done(Rcode.SERVFAIL, `commit failed: ${(e as Error).message}`);
      }
    }
    return done(Rcode.SERVFAIL, 'zone kept changing; update not applied');
  });
}
