// Outgoing zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) answers, access-checked and TSIG-signed message by
// message. The zone data, its version differences and the access rules come from an XfrSource the integrator
// connects to the zone cache and the database; src/zone/ixfr.ts does the planning.

import { Opcode, Rcode, RRClass, RRType } from '../dns/constants.js';
import { answerEdns, emptyMessage, encodeMessage, encodeOpt, type Message, type RR, writeRR } from '../dns/message.js';
import { WireWriter } from '../dns/wire.js';
import type { Name } from '../dns/name.js';
import { signMessage, type TsigKey, TsigStreamSigner, tsigRecordSize } from '../dns/tsig.js';
import { soaSerialOf } from '../dns/serial.js';
import { axfrRecords, type LazyZoneRecords, packRecords, planIxfr, type TransferPlan, type ZoneDiff } from '../zone/ixfr.js';
import { type TransferRule, transferAllowed } from './acl.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * The zone as served now. `records` may include the SOA (it is skipped in the body); lazy records are listed only
 * when the answer is the whole zone (an IXFR's cost follows the difference).
 */
export interface XfrZone {
  origin: Name;
  soa: RR;
  records: readonly RR[] | LazyZoneRecords;
}

export interface XfrSource {
  /** The zone whose origin is exactly `origin`, as currently published; undefined when we do not serve it. */
  getZone(origin: Name): MaybePromise<XfrZone | undefined>;
  /**
   * The version steps from `fromSerial` to `toSerial`, oldest first, or undefined when the history kept does not
   * reach `fromSerial` (the answer is then the whole zone).
   */
  getDiffs(origin: Name, fromSerial: number, toSerial: number): MaybePromise<readonly ZoneDiff[] | undefined>;
  /** Transfer access rules of the zone (its own plus any server-group wide ones). */
  transferRules(origin: Name): MaybePromise<readonly TransferRule[]>;
}

/** A verified TSIG on the request: responses are signed with the key, covering the request MAC. */
export interface TsigContext {
  key: TsigKey;
  requestMac: Uint8Array;
}

export interface RequestInfo {
  message: Message;
  transport: 'udp' | 'tcp';
  /** Source address of the request (for address rules). */
  address: string;
  tsig?: TsigContext;
  /** Seconds since the epoch (TSIG time); defaults to the clock. */
  now?: number;
  /** UDP payload the client accepts (EDNS) — for IXFR over UDP; default 512. */
  udpSize?: number;
}

export interface XfrEvent {
  zone: string;
  kind: 'axfr' | 'ixfr' | 'ixfr-as-axfr' | 'up-to-date' | 'refused' | 'notauth' | 'ixfr-udp-too-big';
  client: string;
  key?: string;
  messages?: number;
  serial?: number;
  clientSerial?: number;
}

export type XfrLog = (event: XfrEvent) => void;

export interface XfrOptions {
  /** IXFR answers with one condensed difference (default true). */
  condense?: boolean;
  /** Largest TCP message (default 65535). */
  maxMessageSize?: number;
  log?: XfrLog;
}

const nowSeconds = () => Date.now() / 1000;

/** Sign a single response when the request was signed. */
export function finishResponse(bytes: Uint8Array, tsig: TsigContext | undefined, now: number): Uint8Array {
  if (!tsig) return bytes;
  return signMessage(bytes, tsig.key, now, tsig.requestMac, { macSize: tsig.requestMac.length }).bytes;
}

/** The UDP payload our OPT announces in the answers built here (the query path's default, as Knot's and BIND's). */
export const ANSWER_UDP_SIZE = 1232;

/**
 * A response with only the question echoed and an RCODE (an extended one through the OPT), with an OPT when the
 * request had one (EXPIRE too when asked for and the zone's `soa` is given), signed when the request was.
 */
export function rcodeResponse(req: Message, rcode: number, tsig: TsigContext | undefined, now: number, soa?: RR): Uint8Array {
  const m = emptyMessage(req.id);
  m.qr = true;
  m.opcode = req.opcode;
  m.rd = req.rd;
  m.cd = req.cd;
  m.rcode = rcode;
  m.question = req.question.slice(0, 1);
  const edns = answerEdns(req, ANSWER_UDP_SIZE, soa);
  if (edns) m.edns = edns;
  return finishResponse(encodeMessage(m), tsig, now);
}

/** An OPT record's wire form, to be appended to messages packed without one. */
function optWire(req: Message, soa: RR): Uint8Array | undefined {
  const edns = answerEdns(req, ANSWER_UDP_SIZE, soa);
  if (!edns) return undefined;
  const rr = encodeOpt(edns, 0);
  const w = new WireWriter(11 + rr.rdata.length, false);
  writeRR(w, rr);
  return w.finish();
}

/** `msg` with `opt` added to its additional section (before any TSIG: signing comes after). */
function withOpt(msg: Uint8Array, opt: Uint8Array | undefined): Uint8Array {
  if (!opt) return msg;
  const out = new Uint8Array(msg.length + opt.length);
  out.set(msg);
  out.set(opt, msg.length);
  const ar = ((out[10] << 8) | out[11]) + 1;
  out[10] = ar >>> 8;
  out[11] = ar & 0xff;
  return out;
}

/**
 * Answer an AXFR or IXFR query. Returns the response messages in order (one for errors and UDP). Access: the
 * zone's rules or the `._transfer.` key convention, else REFUSED; an unknown zone gets NOTAUTH (RFC 5936 §2.2.1).
 */
export async function handleTransfer(req: RequestInfo, source: XfrSource, opts: XfrOptions = {}): Promise<Uint8Array[]> {
  const q = req.message.question[0];
  const now = req.now ?? nowSeconds();
  const tsig = req.tsig;
  if (req.message.question.length !== 1 || (q.type !== RRType.AXFR && q.type !== RRType.IXFR))
    return [rcodeResponse(req.message, Rcode.FORMERR, tsig, now)];
  if (q.class !== RRClass.IN) return [rcodeResponse(req.message, Rcode.REFUSED, tsig, now)];
  // RFC 5936 §4.2: AXFR is a TCP affair.
  if (q.type === RRType.AXFR && req.transport === 'udp') return [rcodeResponse(req.message, Rcode.FORMERR, tsig, now)];
  const zoneName = q.name.toString();
  const client = req.address;
  const keyText = tsig?.key.name.toString();
  const zone = await source.getZone(q.name);
  if (!zone) {
    opts.log?.({ zone: zoneName, kind: 'notauth', client, key: keyText });
    return [rcodeResponse(req.message, Rcode.NOTAUTH, tsig, now)];
  }
  const rules = await source.transferRules(zone.origin);
  if (!transferAllowed(zone.origin, rules, tsig?.key.name, req.address)) {
    opts.log?.({ zone: zoneName, kind: 'refused', client, key: keyText });
    return [rcodeResponse(req.message, Rcode.REFUSED, tsig, now)];
  }
  // Every message carries the OPT when the request had one (RFC 6891 §7), EXPIRE in it when asked (RFC 7314).
  const opt = optWire(req.message, zone.soa);
  const serial = soaSerialOf(zone.soa);
  let plan: TransferPlan;
  let clientSerial: number | undefined;
  if (q.type === RRType.IXFR) {
    const theirs = req.message.authority.find((rr) => rr.type === RRType.SOA);
    if (!theirs?.name.equals(zone.origin)) return [rcodeResponse(req.message, Rcode.FORMERR, tsig, now, zone.soa)];
    clientSerial = soaSerialOf(theirs);
    const diffs = clientSerial === serial ? [] : await source.getDiffs(zone.origin, clientSerial, serial);
    plan = planIxfr(zone.soa, zone.records, clientSerial, diffs, { condense: opts.condense });
  } else {
    plan = { kind: 'full', records: axfrRecords(zone.soa, zone.records) };
  }
  const kind = q.type === RRType.AXFR ? 'axfr' : plan.kind === 'full' ? 'ixfr-as-axfr' : plan.kind === 'up-to-date' ? 'up-to-date' : 'ixfr';

  if (req.transport === 'udp') {
    // RFC 1995 §2: over UDP send the whole difference if it fits, else only the SOA (the client retries over TCP).
    const limit = Math.max(512, req.udpSize ?? 512) - (tsig ? tsigRecordSize(tsig.key) : 0) - (opt?.length ?? 0);
    let records = plan.kind === 'incremental' ? plan.records : [zone.soa];
    let packed = packRecords(records, { id: req.message.id, question: q, maxSize: 65535 });
    if (packed.length !== 1 || packed[0].length > limit) {
      records = [zone.soa];
      packed = packRecords(records, { id: req.message.id, question: q });
      opts.log?.({ zone: zoneName, kind: 'ixfr-udp-too-big', client, key: keyText, serial, clientSerial });
    } else opts.log?.({ zone: zoneName, kind, client, key: keyText, messages: 1, serial, clientSerial });
    return [finishResponse(withOpt(packed[0], opt), tsig, now)];
  }

  const reserve = (tsig ? tsigRecordSize(tsig.key) : 0) + (opt?.length ?? 0);
  const packed = packRecords(plan.records, { id: req.message.id, question: q, maxSize: opts.maxMessageSize ?? 65535, reserve }).map((m) => withOpt(m, opt));
  opts.log?.({ zone: zoneName, kind, client, key: keyText, messages: packed.length, serial, clientSerial });
  if (!tsig) return packed;
  const signer = new TsigStreamSigner(tsig.key, tsig.requestMac, tsig.requestMac.length);
  return packed.map((m) => signer.sign(m, now));
}

/** Is this a transfer query (for dispatch)? */
export function isTransferQuery(m: Message): boolean {
  return m.opcode === Opcode.QUERY && m.question.length === 1 && (m.question[0].type === RRType.AXFR || m.question[0].type === RRType.IXFR);
}
