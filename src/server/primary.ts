// The primary's protocol side in one place: TSIG verification of every signed message, then AXFR/IXFR, UPDATE and
// NOTIFY, and signing of ordinary answers to signed queries. `attachPrimary` plugs it into a QueryHandler (the
// server's registry of opcode/qtype/signed handlers); `Primary.handle` can also serve any other byte transport.

import { Opcode, Rcode, RRType } from '../dns/constants.js';
import { DecodeError } from '../dns/errors.js';
import { decodeHeader, decodeMessage, emptyMessage, encodeMessage, type Message, type RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { WireReader } from '../dns/wire.js';
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
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import { serialGreater, soaSerialOf } from '../dns/serial.js';
import type { ZoneDiff } from '../zone/ixfr.js';
import type { UpdateGrant } from '../zone/update.js';
import type { Zone } from '../zone/zone.js';
import type { QueryHandler } from './query.js';
import { handleIncomingNotify, type NotifyAttempt, type NotifyTarget, notifyOnce } from './notify.js';
import type { TransferRule } from './acl.js';
import { handleUpdate, type UpdatableZone, UpdateConflict, type UpdateOptions, UpdateRejected, type UpdateSink } from './update.js';
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
  getZoneAt?(origin: Name, ownerKeys: ReadonlySet<string>): MaybePromise<UpdatableZone | undefined>;
}

/** Owner keys an UPDATE message names (prerequisites, updates) plus the zone's own (its SOA and NS). */
export function updateOwners(msg: Message): Set<string> {
  const keys = new Set<string>();
  for (const q of msg.question) keys.add(q.name.key);
  for (const rr of msg.answer) keys.add(rr.name.key);
  for (const rr of msg.authority) keys.add(rr.name.key);
  return keys;
}

export interface PrimaryMeta {
  transport: 'udp' | 'tcp';
  address?: string;
  port?: number;
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
  /** Failed TSIG checks, for the log. */
  onTsigFailure?: (e: { key?: string; error: string; client: string }) => void;
  /** Unexpected errors (answered SERVFAIL), for the log. */
  onError?: (e: unknown) => void;
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
  constructor(readonly deps: PrimaryDeps) {}

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

    if (opcode === Opcode.UPDATE) {
      const sink = this.deps.updates;
      if (!sink) return rcodeResponse(msg, Rcode.NOTIMP, tsig, now);
      const getZoneAt = sink.getZoneAt?.bind(sink);
      const scoped: UpdateSink = getZoneAt
        ? { getZone: (origin) => getZoneAt(origin, updateOwners(msg)), commit: (c) => sink.commit(c) }
        : sink;
      return handleUpdate({ message: msg, address, tsig, now }, scoped, this.deps.update);
    }
    if (opcode === Opcode.NOTIFY) return handleIncomingNotify(msg, tsig, now);
    if (opcode === Opcode.QUERY && isTransferQuery(msg)) {
      const out = await handleTransfer(
        { message: msg, transport: meta.transport, address, tsig, now, udpSize: msg.edns?.udpSize },
        this.deps.transfers,
        this.deps.xfr,
      );
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
  const primary = new Primary(deps);
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
      return z ? { origin: z.origin, soa: z.soa, records: recordsOfZone(z) } : undefined;
    },
    getDiffs: (origin, from, to) => history.getDiffs(origin, from, to),
    transferRules: (origin) => history.transferRules(origin),
  };
}

// ---- adapters to the service layer ---------------------------------------------------------------------------------

/**
 * Version history for IXFR from the database: one condensed difference from the client's serial to the published
 * version (services.diffVersions), or undefined when that serial is not among the versions kept.
 */
export function servicesXfrHistory(
  store: Store,
  rulesFor: (origin: Name) => MaybePromise<readonly TransferRule[]>,
): Pick<XfrSource, 'getDiffs' | 'transferRules'> {
  return {
    async getDiffs(origin, fromSerial, toSerial): Promise<ZoneDiff[] | undefined> {
      let d: services.RecordDiff;
      try {
        d = await services.diffVersions(store, origin.toString(), { serial: fromSerial }, 'published');
      } catch (e) {
        if (e instanceof services.ZiNotFound || e instanceof services.ZoneNotFound) return undefined;
        throw e;
      }
      // The table may serve a different version than the database publishes for a moment: then send it all.
      if (d.from.serial !== fromSerial || d.to.serial !== toSerial) return undefined;
      return [{ fromSerial, toSerial, removed: [d.fromSoa, ...d.removed], added: [d.toSoa, ...d.added] }];
    },
    transferRules: rulesFor,
  };
}

/**
 * UPDATE commits through services.applyRecordDelta: only the removed and added records are written and checked
 * (the cost follows the change, not the zone), against the version read as base (EditConflict → retry), change_by =
 * key. A result that breaks the zone is REFUSED.
 *
 * Reading: `getZoneAt` (used by Primary for each UPDATE) reads only the records at the names the message mentions.
 * `getZone` reads the whole newest version: from `table` (the server's compiled zones) when it serves exactly that
 * version and the zone has no disabled records (which the table does not hold), otherwise, and after a conflict,
 * from the database.
 */
export function servicesUpdateSink(
  store: Store,
  grantsFor: (zone: services.ZoneInfo) => MaybePromise<readonly UpdateGrant[]>,
  opts: { table?: { get(origin: Name): Zone | undefined } } = {},
): ScopedUpdateSink & Required<Pick<ScopedUpdateSink, 'getZoneAt'>> {
  const notFound = (e: unknown) => e instanceof services.ZoneNotFound || e instanceof services.ZoneDeleted || e instanceof services.ZiNotFound;
  // Origins whose last commit conflicted: the next read goes to the database whatever the table says.
  const distrust = new Set<string>();
  const fromTable = async (origin: Name) => {
    const cached = opts.table?.get(origin);
    if (!cached || distrust.has(origin.key)) return undefined;
    const head = await services.getZoneHead(store, origin.toString());
    if (!head.zi.published || head.disabledRecords) return undefined;
    const serial = new WireReader(cached.soa.rdata);
    serial.name();
    serial.name();
    if (serial.u32() !== head.zi.soaSerial) return undefined;
    return { zone: head.zone, zi: head.zi, records: recordsOfZone(cached) };
  };
  type Read = { zone: services.ZoneInfo; zi: services.ZiInfo; records: readonly RR[] };
  const updatable = async (origin: Name, read: () => Promise<Read>): Promise<UpdatableZone | undefined> => {
    let c: Read;
    try {
      c = await read();
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
    return {
      origin,
      records: c.records,
      serial: c.zi.soaSerial,
      version: c.zi.version,
      incUpdates: c.zone.flags.incUpdates && c.zone.state !== 'DISABLED',
      grants: await grantsFor(c.zone),
    };
  };
  return {
    getZone: (origin) =>
      updatable(origin, async () => {
        const cached = await fromTable(origin);
        distrust.delete(origin.key);
        return cached ?? services.getZoneContent(store, origin.toString(), 'latest');
      }),
    getZoneAt: (origin, ownerKeys) => updatable(origin, () => services.getZoneAtOwners(store, origin.toString(), ownerKeys)),
    async commit(change) {
      // Every read above gives the version; without it the difference has no base to apply to.
      if (change.baseVersion === undefined) throw new UpdateRejected(Rcode.SERVFAIL, 'update without a base version');
      try {
        const r = await services.applyRecordDelta(store, change.origin.toString(), {
          baseVersion: change.baseVersion,
          removed: change.removed,
          added: change.added,
          ...(change.explicitSerial !== undefined ? { explicitSerial: change.explicitSerial } : {}),
          changeBy: change.changeBy,
          comment: `RFC 2136 update: ${change.added.length} added, ${change.removed.length} removed`,
        });
        return { serial: r.serial };
      } catch (e) {
        if (e instanceof services.EditConflict) {
          distrust.add(change.origin.key);
          throw new UpdateConflict();
        }
        if (e instanceof services.ZoneValidationFailed) throw new UpdateRejected(Rcode.REFUSED, e.message);
        throw e;
      }
    },
  };
}

// ---- NOTIFY through the persistent event queue ---------------------------------------------------------------------

/** Event type of queued NOTIFYs (zone_tool lists them with the other pending events). */
export const NOTIFY_EVENT = 'notify';

export interface NotifyEventPayload {
  address: string;
  port?: number;
  /** Name of the TSIG key to sign with (looked up when sending, so a key change applies to pending ones). */
  key?: string;
  serial?: number;
}

/** On publish: one `notify` event per target (server-group members, also-notify, `._transfer.` peers). */
export async function enqueueNotifies(store: Store, zone: Name, targets: readonly NotifyTarget[], serial?: number): Promise<number[]> {
  const ids: number[] = [];
  for (const t of targets) {
    const payload: NotifyEventPayload = { address: t.address, port: t.port, key: t.key?.name.toString(), serial };
    ids.push(await services.enqueueEvent(store, NOTIFY_EVENT, { zone: zone.toString(), payload }));
  }
  return ids;
}

/** How long a NOTIFY may wait for its zone version to be served before it is sent anyway. */
const NOTIFY_HOLD_MS = 10_000;

export interface NotifyRunOptions {
  keys: KeyStore;
  /** The SOA to send as a hint (the published one), if known. */
  soaOf?: (zone: Name) => MaybePromise<RR | undefined>;
  /** Tries before an event is marked FAILURE (default 8: about 10 minutes of backoff). */
  maxAttempts?: number;
  timeoutMs?: number;
  /**
   * Without soaOf (a process that does not serve, e.g. the cluster supervisor): hold events younger than this, so the
   * serving processes have reloaded the announced version (dmsd: change-feed interval plus a reload).
   */
  minAgeMs?: number;
  send?: (target: NotifyTarget, zone: Name, soa: RR | undefined, timeoutMs: number) => Promise<NotifyAttempt>;
  now?: number;
}

/**
 * One pass over the due `notify` events: send each, mark SUCCESS when acknowledged, else RETRY with the queue's
 * exponential backoff (FAILURE after maxAttempts). An event superseded by a newer one for the same zone and target
 * is completed without sending. Returns how many were acknowledged.
 */
export async function runNotifyEvents(store: Store, o: NotifyRunOptions): Promise<number> {
  const due = (await services.dueEvents(store, 1000, o.now)).filter((e) => e.type === NOTIFY_EVENT && e.zone);
  const newest = new Map<string, number>();
  const targetKey = (e: services.EventInfo) => {
    const p = e.payload as NotifyEventPayload;
    return `${e.zone} ${p.address}#${p.port ?? 53}`;
  };
  for (const e of due) newest.set(targetKey(e), Math.max(newest.get(targetKey(e)) ?? 0, e.id));
  let acked = 0;
  for (const e of due) {
    if (newest.get(targetKey(e)) !== e.id) {
      await services.completeEvent(store, e.id);
      continue;
    }
    const p = e.payload as NotifyEventPayload;
    const zone = Name.from(e.zone as string);
    let key: TsigKey | undefined;
    if (p.key) {
      key = await o.keys.get(Name.from(p.key));
      if (!key) {
        await services.failEvent(store, e.id, `TSIG key ${p.key} not found`);
        continue;
      }
    }
    const soa = await o.soaOf?.(zone);
    // A NOTIFY that overtakes the reload of the version it announces makes the secondary ask, see the old serial and
    // stop there (RFC 1996 §3.11). Hold it until this process serves the announced serial; a process that does not
    // serve (cluster supervisor) waits minAgeMs. Never hold longer than NOTIFY_HOLD_MS.
    const age = (o.now ?? Date.now()) - e.created.getTime();
    if (p.serial !== undefined && age < NOTIFY_HOLD_MS) {
      const notServedYet = o.soaOf ? !soa || serialGreater(p.serial, soaSerialOf(soa)) : age < (o.minAgeMs ?? 0);
      if (notServedYet) continue;
    }
    const send = o.send ?? notifyOnce;
    const r = await send({ address: p.address, port: p.port, key }, zone, soa, o.timeoutMs ?? 2000);
    if (r.acked) {
      acked++;
      await services.completeEvent(store, e.id);
    } else await services.retryEvent(store, e.id, r.error ?? `rcode ${r.rcode}`, { maxAttempts: o.maxAttempts ?? 8, now: o.now });
  }
  return acked;
}
