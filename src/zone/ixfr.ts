// Zone transfer planning: the record sequences of AXFR (RFC 5936) and IXFR (RFC 1995) answers, computed from the
// zone's current records and its version differences, and a packer that splits a sequence into DNS messages. Pure;
// src/server/xfr.ts sends the messages (TSIG-signing each one).

import { Opcode, RRType } from '../dns/constants.js';
import type { Question, RR } from '../dns/message.js';
import { writeHeader, writeRR } from '../dns/message.js';
import { canonicalRdata } from '../dns/rdata.js';
import { serialGreater, soaSerialOf, withSerial } from '../dns/serial.js';
import { WireWriter } from '../dns/wire.js';

/** The changes from one zone version to the next, as kept in the version history. */
export interface ZoneDiff {
  fromSerial: number;
  toSerial: number;
  /** Records gone in `toSerial` (the old SOA may be among them; it is used as the step's old SOA). */
  removed: RR[];
  /** Records new in `toSerial` (the new SOA may be among them). */
  added: RR[];
}

export type TransferPlan =
  /** The client is current (or ahead of us): one SOA. */
  | { kind: 'up-to-date'; records: RR[] }
  /** Incremental: SOA new, then per step SOA old, deletions, SOA new, additions, then SOA new (RFC 1995 §4). */
  | { kind: 'incremental'; records: RR[] }
  /** Full zone in AXFR form: SOA, every other record, SOA. */
  | { kind: 'full'; records: RR[] };

/**
 * A zone's records when only an answer with the whole zone needs them: `count` (the SOA included) is what an IXFR
 * plan weighs a difference against, `all()` lists them. An incremental answer must not cost a walk of the zone.
 */
export interface LazyZoneRecords {
  readonly count: number;
  all(): readonly RR[];
}

/** The records, listed (from a lazy zone, now). */
export const zoneRecordList = (records: readonly RR[] | LazyZoneRecords): readonly RR[] => ('all' in records ? records.all() : records);

/** AXFR sequence (RFC 5936 §2.2): the SOA first and last, every other record once in between. */
export function axfrRecords(soa: RR, zoneRecords: readonly RR[] | LazyZoneRecords): RR[] {
  const out: RR[] = [soa];
  for (const rr of zoneRecordList(zoneRecords)) if (rr.type !== RRType.SOA) out.push(rr);
  out.push(soa);
  return out;
}

function recordKey(rr: RR): string {
  return `${rr.name.key}\u0000${rr.type}\u0000${rr.ttl}\u0000${Buffer.from(canonicalRdata(rr.type, rr.rdata)).toString('hex')}`;
}

/**
 * Fold consecutive differences into one (RFC 1995 §5 allows answering with a condensed difference): a record added
 * and later removed vanishes, as does one removed and later put back. SOA records are left out.
 */
export function condenseDiffs(diffs: readonly ZoneDiff[]): ZoneDiff {
  const removed = new Map<string, RR>();
  const added = new Map<string, RR>();
  for (const d of diffs) {
    for (const rr of d.removed) {
      if (rr.type === RRType.SOA) continue;
      const k = recordKey(rr);
      if (added.has(k)) added.delete(k);
      else removed.set(k, rr);
    }
    for (const rr of d.added) {
      if (rr.type === RRType.SOA) continue;
      const k = recordKey(rr);
      if (removed.has(k)) removed.delete(k);
      else added.set(k, rr);
    }
  }
  return {
    fromSerial: diffs[0]?.fromSerial ?? 0,
    toSerial: diffs[diffs.length - 1]?.toSerial ?? 0,
    removed: [...removed.values()],
    added: [...added.values()],
  };
}

export interface IxfrOptions {
  /** Answer with one condensed difference rather than every version step (default true). */
  condense?: boolean;
}

/**
 * Plan the answer to an IXFR for `clientSerial` (RFC 1995 §4). `diffs` are the steps from the client's serial to the
 * current one, oldest first, or undefined when the history does not reach back that far (or the serial is unknown):
 * the answer is then the full zone. A client at our serial or ahead of it gets the SOA alone. `records` may be lazy:
 * they are listed only for an answer with the whole zone.
 */
export function planIxfr(
  soa: RR,
  records: readonly RR[] | LazyZoneRecords,
  clientSerial: number,
  diffs: readonly ZoneDiff[] | undefined,
  opts: IxfrOptions = {},
): TransferPlan {
  const serial = soaSerialOf(soa);
  if (clientSerial === serial || serialGreater(clientSerial, serial)) return { kind: 'up-to-date', records: [soa] };
  if (!diffs || diffs.length === 0 || !chainOk(diffs, clientSerial, serial)) return { kind: 'full', records: axfrRecords(soa, records) };
  const out: RR[] = [soa];
  const step = (oldSoa: RR, newSoa: RR, d: ZoneDiff) => {
    out.push(oldSoa);
    for (const rr of d.removed) if (rr.type !== RRType.SOA) out.push(rr);
    out.push(newSoa);
    for (const rr of d.added) if (rr.type !== RRType.SOA) out.push(rr);
  };
  if (opts.condense === false) {
    for (const d of diffs)
      step(stepSoa(d.removed, soa, d.fromSerial), d.toSerial === serial ? soa : stepSoa(d.added, soa, d.toSerial), d);
  } else {
    step(stepSoa(diffs[0].removed, soa, clientSerial), soa, condenseDiffs(diffs));
  }
  out.push(soa);
  // RFC 1995 §4: a difference larger than the zone itself may as well be sent as the zone.
  const full = 'all' in records ? records.count + 1 : records.filter((rr) => rr.type !== RRType.SOA).length + 2;
  if (out.length > full) return { kind: 'full', records: axfrRecords(soa, records) };
  return { kind: 'incremental', records: out };
}

/** The SOA of a step: the one the history kept, else the current SOA with the step's serial. */
function stepSoa(rrs: readonly RR[], current: RR, serial: number): RR {
  const kept = rrs.find((rr) => rr.type === RRType.SOA && soaSerialOf(rr) === serial);
  return kept ?? withSerial(current, serial);
}

function chainOk(diffs: readonly ZoneDiff[], from: number, to: number): boolean {
  let s = from;
  for (const d of diffs) {
    if (d.fromSerial !== s) return false;
    s = d.toSerial;
  }
  return s === to;
}

// ---- packing into messages ---------------------------------------------------------------------------------------

export interface PackOptions {
  id: number;
  question: Question;
  opcode?: number;
  /** Largest message (default 65535, the TCP limit). */
  maxSize?: number;
  /** Octets to keep free in every message (room for the TSIG RR). */
  reserve?: number;
  /** Set AA (default true: we answer transfers for zones we are authoritative for). */
  aa?: boolean;
}

/**
 * Split a record sequence into response messages of at most `maxSize - reserve` octets, each with its own name
 * compression. The first message carries the question (RFC 5936 §2.2); the rest have none. Throws when a single
 * record cannot fit in a message on its own.
 */
export function packRecords(records: readonly RR[], opts: PackOptions): Uint8Array[] {
  const limit = (opts.maxSize ?? 65535) - (opts.reserve ?? 0);
  const header = {
    id: opts.id, qr: true, opcode: opts.opcode ?? Opcode.QUERY, aa: opts.aa ?? true, tc: false, rd: false, ra: false,
    z: false, ad: false, cd: false, rcode: 0,
  };
  const out: Uint8Array[] = [];
  let i = 0;
  do {
    const first = out.length === 0;
    const w = new WireWriter(Math.min(limit, 16384), true);
    writeHeader(w, header, [0, 0, 0, 0]);
    if (first) {
      w.name(opts.question.name);
      w.u16(opts.question.type);
      w.u16(opts.question.class);
    }
    let count = 0;
    while (i < records.length) {
      const before = w.pos;
      writeRR(w, records[i]);
      if (w.pos > limit) {
        w.truncate(before);
        if (count === 0) throw new RangeError(`record ${records[i].name} does not fit in a ${limit}-octet message`);
        break;
      }
      count++;
      i++;
    }
    const end = w.pos;
    w.pos = 0;
    writeHeader(w, header, [first ? 1 : 0, count, 0, 0]);
    w.pos = end;
    out.push(w.finish());
  } while (i < records.length);
  return out;
}
