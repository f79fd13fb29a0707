// The primary's protocol side in one place: TSIG verification of every signed message, then AXFR/IXFR, UPDATE and
// NOTIFY, and signing of ordinary answers to signed queries. `attachPrimary` plugs it into a QueryHandler (the
// server's registry of opcode/qtype/signed handlers); `Primary.handle` can also serve any other byte transport.

import { Opcode, Rcode, RRType } from '../dns/constants.js';
import { DecodeError } from '../dns/errors.js';
import { decodeHeader, decodeMessage, emptyMessage, encodeMessage, type Message, type RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import {
  readTsigAt,
  signMessage,
  type TsigKey,
  tsigErrorName,
  tsigErrorResponse,
  tsigFailureRcode,
  type VerifyOptions,
  verifyRequest,
} from '../dns/tsig.js';
import type { Zone } from '../zone/zone.js';
import type { QueryHandler } from './query.js';
import { handleIncomingNotify, type SourceNotifyPort } from './notify.js';
import { handleUpdate, type UpdatableZone, type UpdateOptions, type UpdateSink } from './update.js';
import { handleTransfer, isTransferQuery, rcodeResponse, type TsigContext, type XfrOptions, type XfrSource } from './xfr.js';

type MaybePromise<T> = T | Promise<T>;

export interface KeyStore {
  /** The TSIG key with this name (any case), or undefined. */
  get(name: Name): MaybePromise<TsigKey | undefined>;
}

/**
 * An UpdateSink that can also read just the records an UPDATE can look at. RFC 2136 processing (applyUpdate)
 * consults only the names in the prerequisite and update sections (and the apex SOA), so a large zone need not be
 * read or scanned whole per update. The result's `records` is then partial: such a sink must commit by difference.
 */
export interface ScopedUpdateSink extends UpdateSink {
  /** `ownerKeys`: updateOwners — the apex's SOA and the DNAMEs above them are read with them. */
  getZoneAt?(origin: Name, ownerKeys: ReadonlySet<string>): MaybePromise<UpdatableZone | undefined>;
}

/**
 * Owner keys an UPDATE message's prerequisite and update sections name. The sink reads the rows at them, the apex's SOA
 * and the DNAMEs above them up to the apex (a DNAME there means an add is ignored, RFC 6672 §5.2), nothing else;
 * whether the apex is among them tells a signed zone's sink that the UPDATE can touch what the signer keeps at the
 * apex (NSEC3PARAM, DNSKEY), which it reads only then.
 */
export function updateOwners(msg: Message): Set<string> {
  const keys = new Set<string>();
  for (const rr of msg.answer) keys.add(rr.name.key);
  for (const rr of msg.authority) keys.add(rr.name.key);
  return keys;
}

export interface PrimaryMeta {
  transport: 'udp' | 'tcp';
  address?: string;
  port?: number;
  /** See QueryMeta.afterSend. */
  afterSend?: (fn: () => void) => void;
}

export type PrimaryResult = Uint8Array | Uint8Array[] | null;

/** Answers a plain (unsigned) message: the server's own query path. */
export type PlainHandler = (bytes: Uint8Array, meta: PrimaryMeta) => PrimaryResult | Promise<PrimaryResult>;

export interface PrimaryDeps {
  transfers: XfrSource;
  /** Absent: UPDATE is answered NOTIMP. */
  updates?: ScopedUpdateSink;
  keys: KeyStore;
  /** Seconds since the epoch (tests inject skew). */
  clock?: () => number;
  tsig?: VerifyOptions;
  xfr?: XfrOptions;
  update?: UpdateOptions;
  /** A signed NOTIFY to the primary: the zone's source (git) changed. Absent: every NOTIFY is REFUSED. */
  onSourceNotify?: SourceNotifyPort;
  /** Failed TSIG checks, for the log. */
  onTsigFailure?: (e: { key?: string; error: string; client: string }) => void;
  /** Unexpected errors (answered SERVFAIL), for the log. */
  onError?: (e: unknown) => void;
  /** Concurrent outgoing transfers (default 100 in all, 10 per client address; 0 = no limit). */
  xfrLimits?: XfrLimits;
  /** A transfer refused because a concurrency limit was reached, for the log and the counters. */
  onXfrLimit?: (e: { client: string; zone: string; scope: 'total' | 'client' }) => void;
  /** The zone at this name is expired (a replica too far behind, QueryHandler.expired): transfers SERVFAIL. */
  expired?: (zone: Name) => boolean;
}

export interface XfrLimits {
  /** Most transfers (AXFR/IXFR) being sent at once (BIND's transfers-out is 10; default 256). */
  maxTotal?: number;
  /** Most transfers being sent at once to one client address (default 128). */
  maxPerClient?: number;
}

// Generous: only clients the transfer rules admit get this far, and an NSD secondary runs up to 128 transfers at once
// (xfrd-tcp-max); one refused backs off for its retry time, which would stall a bulk creation of zones.
export const XFR_DEFAULTS = { maxTotal: 256, maxPerClient: 128 } as const;

/**
 * Transfers in progress, in all and per client. A transfer holds its slot from the request until its last message
 * has been handed to the kernel (QueryMeta.afterSend) or its connection closed: the cost of a transfer is sending it.
 */
class XfrSlots {
  private total = 0;
  private readonly byClient = new Map<string, number>();
  constructor(
    private readonly maxTotal: number,
    private readonly maxPerClient: number,
  ) {}
  /** A release function, or the limit that stopped it. */
  acquire(client: string): (() => void) | 'total' | 'client' {
    const mine = this.byClient.get(client) ?? 0;
    if (this.maxTotal > 0 && this.total >= this.maxTotal) return 'total';
    if (this.maxPerClient > 0 && mine >= this.maxPerClient) return 'client';
    this.total++;
    this.byClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.byClient.get(client) ?? 1) - 1;
      if (n <= 0) this.byClient.delete(client);
      else this.byClient.set(client, n);
    };
  }
}

function formerr(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < 12) return null;
  const h = decodeHeader(bytes);
  const m = emptyMessage(h.id);
  m.qr = true;
  m.opcode = h.opcode;
  m.rcode = Rcode.FORMERR;
  return encodeMessage(m);
}

/** The request as it was before its TSIG was added (ARCOUNT one less), for the plain query path. */
function stripTsig(bytes: Uint8Array, tsigOffset: number): Uint8Array {
  const out = bytes.slice(0, tsigOffset);
  const ar = ((out[10] << 8) | out[11]) - 1;
  out[10] = ar >>> 8;
  out[11] = ar & 0xff;
  return out;
}

export class Primary {
  private readonly xfrSlots: XfrSlots;
  constructor(readonly deps: PrimaryDeps) {
    this.xfrSlots = new XfrSlots(deps.xfrLimits?.maxTotal ?? XFR_DEFAULTS.maxTotal, deps.xfrLimits?.maxPerClient ?? XFR_DEFAULTS.maxPerClient);
  }

  private now(): number {
    return this.deps.clock ? this.deps.clock() : Date.now() / 1000;
  }

  /**
   * Handle a message that is signed, or is AXFR/IXFR, UPDATE or NOTIFY. Anything else (after TSIG verification and
   * stripping) goes to `plain`, and its answer is signed. Never throws for bad input.
   */
  async handle(bytes: Uint8Array, meta: PrimaryMeta, plain: PlainHandler): Promise<PrimaryResult> {
    if (bytes.length < 12 || bytes[2] & 0x80) return null;
    // The listeners hand us Node Buffers, whose slice() is a view, not a copy: the TSIG code copies the request with
    // slice() and rewrites its ID/ARCOUNT, which would then rewrite the request itself. A plain Uint8Array view
    // over the same memory gives slice() its copying meaning.
    if (Buffer.isBuffer(bytes)) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    try {
      return await this.dispatch(bytes, meta, plain);
    } catch (e) {
      // A bug or a failing store must not leave the client waiting or take the server down: SERVFAIL.
      this.deps.onError?.(e);
      const m = emptyMessage((bytes[0] << 8) | bytes[1]);
      m.qr = true;
      m.opcode = (bytes[2] >>> 3) & 0xf;
      m.rcode = Rcode.SERVFAIL;
      return encodeMessage(m);
    }
  }

  private async dispatch(bytes: Uint8Array, meta: PrimaryMeta, plain: PlainHandler): Promise<PrimaryResult> {
    const opcode = (bytes[2] >>> 3) & 0xf;
    let msg: Message;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      if (e instanceof DecodeError) return formerr(bytes);
      throw e;
    }
    const now = this.now();
    const address = meta.address ?? '';
    let tsig: TsigContext | undefined;
    if (msg.tsigOffset !== undefined) {
      let key: TsigKey | undefined;
      try {
        key = await this.deps.keys.get(readTsigAt(bytes, msg.tsigOffset).keyName);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
      const v = verifyRequest(bytes, msg.tsigOffset, () => key, now, this.deps.tsig);
      if (!v.ok) {
        this.deps.onTsigFailure?.({ key: v.tsig?.keyName.toString(), error: tsigErrorName(v.error), client: address });
        const m = emptyMessage(msg.id);
        m.qr = true;
        m.opcode = msg.opcode;
        m.rcode = tsigFailureRcode(v);
        m.question = msg.question.slice(0, 1);
        return tsigErrorResponse(encodeMessage(m), v, now);
      }
      tsig = { key: v.key, requestMac: v.requestMac };
    }

    // An EDNS version we do not speak (RFC 6891 §6.1.3), as the query path answers it.
    if (msg.edns && msg.edns.version !== 0) return rcodeResponse(msg, Rcode.BADVERS, tsig, now);
    if (opcode === Opcode.UPDATE) {
      const sink = this.deps.updates;
      if (!sink) return rcodeResponse(msg, Rcode.NOTIMP, tsig, now);
      return handleUpdate({ message: msg, address, tsig, now, ...(sink.getZoneAt ? { owners: updateOwners(msg) } : {}) }, sink, this.deps.update);
    }
    if (opcode === Opcode.NOTIFY) return handleIncomingNotify(msg, tsig, now, this.deps.onSourceNotify, address);
    if (opcode === Opcode.QUERY && isTransferQuery(msg)) {
      // An expired zone (signed requests come here without the query path's check): no transfer, as from BIND.
      const q = msg.question[0];
      if (q && this.deps.expired?.(q.name)) return rcodeResponse(msg, Rcode.SERVFAIL, tsig, now);
      // Over the limit: REFUSED at once (as BIND does past transfers-out); the secondary retries later.
      const slot = this.xfrSlots.acquire(address);
      if (typeof slot === 'string') {
        this.deps.onXfrLimit?.({ client: address, zone: msg.question[0]?.name.toString() ?? '', scope: slot });
        return rcodeResponse(msg, Rcode.REFUSED, tsig, now);
      }
      let out: Uint8Array[];
      try {
        out = await handleTransfer(
          { message: msg, transport: meta.transport, address, tsig, now, udpSize: msg.edns?.udpSize },
          this.deps.transfers,
          this.deps.xfr,
        );
      } catch (e) {
        slot();
        throw e;
      }
      if (meta.afterSend) meta.afterSend(slot);
      else slot();
      return out.length === 1 ? out[0] : out;
    }
    if (!tsig || msg.tsigOffset === undefined) return plain(bytes, meta);
    if (opcode !== Opcode.QUERY) return rcodeResponse(msg, Rcode.NOTIMP, tsig, now);
    const answer = await plain(stripTsig(bytes, msg.tsigOffset), meta);
    if (answer === null) return null;
    const udpLimit = meta.transport === 'udp' ? Math.max(512, msg.edns?.udpSize ?? 512) : 65535;
    const sign = (b: Uint8Array) => {
      const signed = signMessage(b, tsig.key, now, tsig.requestMac, { macSize: tsig.requestMac.length }).bytes;
      return signed.length <= udpLimit ? signed : this.truncatedSigned(b, tsig, now);
    };
    return Array.isArray(answer) ? answer.map(sign) : sign(answer);
  }

  /**
   * The TSIG made a UDP answer too big for the client: send it truncated (TC, question and OPT only), signed, so the
   * client retries over TCP (RFC 8945 §5.3).
   */
  private truncatedSigned(answer: Uint8Array, tsig: TsigContext, now: number): Uint8Array {
    const m = decodeMessage(answer);
    m.tc = true;
    m.answer = [];
    m.authority = [];
    m.additional = [];
    return signMessage(encodeMessage(m), tsig.key, now, tsig.requestMac, { macSize: tsig.requestMac.length }).bytes;
  }
}

/**
 * Register the primary's handlers on a QueryHandler: AXFR/IXFR, NOTIFY, UPDATE and every signed message. UPDATE
 * messages are routed before the handler's generic decode because their class ANY/NONE records carry empty RDATA
 * that the query decoder rejects.
 */
export function attachPrimary(server: QueryHandler, deps: PrimaryDeps): Primary {
  const primary = new Primary({
    ...deps,
    expired: (name) => {
      const test = server.expired;
      if (test === undefined) return false;
      const zone = server.table.get(name);
      return zone !== undefined && test(zone);
    },
  });
  const original = server.handle.bind(server);
  const route = (req: { bytes: Uint8Array; meta: PrimaryMeta }) => primary.handle(req.bytes, req.meta, original);
  server.qtypeHandlers.set(RRType.AXFR, route);
  server.qtypeHandlers.set(RRType.IXFR, route);
  server.opcodeHandlers.set(Opcode.NOTIFY, route);
  server.opcodeHandlers.set(Opcode.UPDATE, route);
  server.signedHandler = route;
  server.handle = (bytes: Uint8Array, meta: PrimaryMeta) =>
    bytes.length >= 12 && !(bytes[2] & 0x80) && ((bytes[2] >>> 3) & 0xf) === Opcode.UPDATE ? primary.handle(bytes, meta, original) : original(bytes, meta);
  return primary;
}

/** Every record of a compiled zone snapshot (the SOA first), as served now. */
export function recordsOfZone(zone: Zone): RR[] {
  const out: RR[] = [zone.soa];
  for (const node of zone.nodes.values())
    for (const set of node.rrsets.values()) for (const rr of set.rrs) if (rr.type !== RRType.SOA) out.push(rr);
  // NSEC3 records and their signatures are kept apart from the names (zone.ts), but are part of the zone.
  for (const rrs of zone.nsec3.values()) out.push(...rrs);
  return out;
}

/**
 * An XfrSource over the server's own zone table (exactly what queries see), with the version history and the
 * access rules supplied by the caller (the services).
 */
export function zoneTableSource(
  table: { get(origin: Name): Zone | undefined },
  history: Pick<XfrSource, 'getDiffs' | 'transferRules'>,
): XfrSource {
  return {
    getZone(origin) {
      const z = table.get(origin);
      // Listed only for an answer with the whole zone; the count (NSEC3 owners as one record each) weighs an IXFR.
      return z ? { origin: z.origin, soa: z.soa, records: { count: z.recordCount + z.nsec3.size, all: () => recordsOfZone(z) } } : undefined;
    },
    getDiffs: (origin, from, to) => history.getDiffs(origin, from, to),
    transferRules: (origin) => history.transferRules(origin),
  };
}
