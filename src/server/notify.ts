// NOTIFY (RFC 1996). Out: after every publish, tell each secondary (server-group members, also-notify addresses,
// `._transfer.` key peers) that the zone changed, TSIG-signed when a key is configured, retried with exponential
// backoff until acknowledged or the tries run out; the queue can be listed (zone_tool shows what is pending).
// In: we are the primary, so a NOTIFY for our zones is REFUSED (as BIND does for zones it is master for).

import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { ipVersion } from '../dns/address.js';
import { Opcode, Rcode, RRClass, RRType } from '../dns/constants.js';
import { answerEdns, decodeMessage, emptyMessage, encodeMessage, type Message, type RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { signMessage, type TsigKey, tsigErrorName, verifyResponse } from '../dns/tsig.js';
import { soaSerialOf } from '../dns/serial.js';
import { parseTransferKeyName } from './acl.js';
import { ANSWER_UDP_SIZE, finishResponse, rcodeResponse, type TsigContext } from './xfr.js';

export interface NotifyTarget {
  address: string;
  port?: number;
  /** Sign the NOTIFY with this key (the zone's transfer key for that secondary). */
  key?: TsigKey;
  /** Local address to send from (secondaries accept NOTIFY only from the primary address they know). */
  source?: string;
}

export interface NotifyAttempt {
  acked: boolean;
  /** RCODE of the answer when one came. */
  rcode?: number;
  error?: string;
}

/** Build the NOTIFY message (AA set, question zone/SOA, the current SOA in the answer section as a hint). */
export function buildNotify(id: number, zone: Name, soa?: RR): Uint8Array {
  const m = emptyMessage(id);
  m.opcode = Opcode.NOTIFY;
  m.aa = true;
  m.question.push({ name: zone, type: RRType.SOA, class: RRClass.IN });
  if (soa) m.answer.push(soa);
  return encodeMessage(m);
}

function randomId(): number {
  // Unpredictable, so an off-path attacker cannot forge the acknowledgement.
  return randomInt(0x10000);
}

/**
 * Send one NOTIFY over UDP and wait up to `timeoutMs` for its answer (matching id, opcode NOTIFY, QR, and, when
 * signed, a verifying TSIG). NOERROR is an acknowledgement; any other RCODE is reported as not acknowledged.
 */
export function notifyOnce(target: NotifyTarget, zone: Name, soa: RR | undefined, timeoutMs = 2000): Promise<NotifyAttempt> {
  const id = randomId();
  const now = Date.now() / 1000;
  let bytes = buildNotify(id, zone, soa);
  let requestMac: Uint8Array | undefined;
  if (target.key) {
    const s = signMessage(bytes, target.key, now);
    bytes = s.bytes;
    requestMac = s.mac;
  }
  return new Promise((resolve) => {
    const sock = createSocket(ipVersion(target.address) === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (r: NotifyAttempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ acked: false, error: 'timeout' }), timeoutMs);
    sock.on('error', (e) => finish({ acked: false, error: e.message }));
    sock.on('message', (buf) => {
      let m: Message;
      try {
        m = decodeMessage(new Uint8Array(buf));
      } catch {
        return; // not for us / garbage: keep waiting
      }
      if (m.id !== id || !m.qr || m.opcode !== Opcode.NOTIFY) return;
      if (target.key && requestMac) {
        if (m.tsigOffset === undefined) return finish({ acked: false, rcode: m.rcode, error: 'answer not signed' });
        const e = verifyResponse(new Uint8Array(buf), m.tsigOffset, target.key, requestMac, Date.now() / 1000);
        if (e !== 0) return finish({ acked: false, rcode: m.rcode, error: `TSIG ${tsigErrorName(e)}` });
      }
      finish(m.rcode === Rcode.NOERROR ? { acked: true, rcode: 0 } : { acked: false, rcode: m.rcode, error: `rcode ${m.rcode}` });
    });
    const send = () =>
      sock.send(bytes, target.port ?? 53, target.address, (e) => {
        if (e) finish({ acked: false, error: e.message });
      });
    if (target.source) sock.bind(0, target.source, send);
    else send();
  });
}

export interface PendingNotify {
  zone: string;
  target: string;
  attempts: number;
  /** When the next try is due (ms since the epoch). */
  nextAt: number;
  lastError?: string;
  serial?: number;
}

export interface NotifyQueueOptions {
  /** Tries before giving up (default 5, like BIND's notify retries). */
  maxTries?: number;
  /** Delay before the second try, doubled each time (default 1000 ms). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Called when a notification is acknowledged or abandoned (for events / logs). */
  onDone?: (p: PendingNotify, acked: boolean) => void;
  /** Replaceable for tests. */
  send?: (target: NotifyTarget, zone: Name, soa: RR | undefined, timeoutMs: number) => Promise<NotifyAttempt>;
}

interface Entry extends PendingNotify {
  zoneName: Name;
  soa?: RR;
  t: NotifyTarget;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
  /** A newer publish arrived while a try was in flight: send again when it returns. */
  again: boolean;
}

/**
 * Pending NOTIFYs, one per (zone, target): a newer publish replaces an older pending notification (the secondary
 * only needs to hear about the latest version). Timers are unref'd so the queue never keeps the process alive.
 */
export class NotifyQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly maxTries: number;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly timeout: number;
  private readonly send: NonNullable<NotifyQueueOptions['send']>;
  private closed = false;

  constructor(private readonly opts: NotifyQueueOptions = {}) {
    this.maxTries = opts.maxTries ?? 5;
    this.initialDelay = opts.initialDelayMs ?? 1000;
    this.maxDelay = opts.maxDelayMs ?? 60000;
    this.timeout = opts.timeoutMs ?? 2000;
    this.send = opts.send ?? notifyOnce;
  }

  /** Notify every target that `zone` changed (now at `soa`). */
  enqueue(zone: Name, soa: RR | undefined, targets: readonly NotifyTarget[]): void {
    if (this.closed) return;
    for (const t of targets) {
      const target = `${t.address}#${t.port ?? 53}`;
      const k = `${zone.key} ${target}`;
      const old = this.entries.get(k);
      const serial = soa ? soaSerialOf(soa) : undefined;
      if (old) {
        old.soa = soa;
        old.serial = serial;
        old.attempts = 0;
        old.t = t;
        if (old.inFlight) old.again = true;
        else this.schedule(old, 0);
        continue;
      }
      const e: Entry = { zone: zone.toString(), target, attempts: 0, nextAt: Date.now(), serial, zoneName: zone, soa, t, inFlight: false, again: false };
      this.entries.set(k, e);
      this.schedule(e, 0);
    }
  }

  /** What is still waiting for an acknowledgement. */
  pending(): PendingNotify[] {
    return [...this.entries.values()].map(({ zone, target, attempts, nextAt, lastError, serial }) => ({ zone, target, attempts, nextAt, lastError, serial }));
  }

  /** Stop all timers; pending notifications are dropped. */
  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  /** Resolves when nothing is pending (for tests and orderly shutdown). */
  async idle(pollMs = 20): Promise<void> {
    while (this.entries.size > 0) await new Promise((r) => setTimeout(r, pollMs));
  }

  private schedule(e: Entry, delay: number): void {
    clearTimeout(e.timer);
    e.nextAt = Date.now() + delay;
    e.timer = setTimeout(() => void this.attempt(e), delay);
    e.timer.unref?.();
  }

  private async attempt(e: Entry): Promise<void> {
    if (this.closed) return;
    e.inFlight = true;
    e.attempts++;
    let r: NotifyAttempt;
    try {
      r = await this.send(e.t, e.zoneName, e.soa, this.timeout);
    } catch (err) {
      r = { acked: false, error: (err as Error).message };
    }
    e.inFlight = false;
    if (this.closed) return;
    const k = `${e.zoneName.key} ${e.target}`;
    if (e.again) {
      e.again = false;
      e.attempts = 0;
      this.schedule(e, 0);
      return;
    }
    if (r.acked) {
      this.entries.delete(k);
      this.opts.onDone?.(e, true);
      return;
    }
    e.lastError = r.error;
    if (e.attempts >= this.maxTries) {
      this.entries.delete(k);
      this.opts.onDone?.(e, false);
      return;
    }
    this.schedule(e, Math.min(this.maxDelay, this.initialDelay * 2 ** (e.attempts - 1)));
  }
}


/**
 * What a NOTIFY to the primary may mean: "the zone's source changed, fetch it" (ocaml-dns primary-git: a TSIG-signed
 * NOTIFY makes the primary pull its git repository). The port says whether that key may ask it for that zone (and
 * starts the fetch); unsigned NOTIFYs never reach it.
 */
export type SourceNotifyPort = (zone: Name, key: Name, address: string) => boolean | Promise<boolean>;

/**
 * Incoming NOTIFY: we are the primary for what we serve and a secondary for nothing, so the answer is REFUSED —
 * unless it is signed and `onSource` accepts it (the zone's source, e.g. its git repository, changed): NOERROR, with
 * the question echoed and AA set (RFC 1996 §4.7), signed with the request's key.
 */
export async function handleIncomingNotify(
  message: Message,
  tsig: TsigContext | undefined,
  now = Date.now() / 1000,
  onSource?: SourceNotifyPort,
  address = '',
): Promise<Uint8Array> {
  const q = message.question[0];
  if (!tsig || !onSource || message.question.length !== 1 || q.type !== RRType.SOA) return rcodeResponse(message, Rcode.REFUSED, tsig, now);
  if (!(await onSource(q.name, tsig.key.name, address))) return rcodeResponse(message, Rcode.REFUSED, tsig, now);
  const m = emptyMessage(message.id);
  m.qr = true;
  m.aa = true;
  m.opcode = message.opcode;
  m.rcode = Rcode.NOERROR;
  m.question = message.question.slice(0, 1);
  const edns = answerEdns(message, ANSWER_UDP_SIZE);
  if (edns) m.edns = edns;
  return finishResponse(encodeMessage(m), tsig, now);
}

/**
 * NOTIFY targets implied by `<primary-ip>.<secondary-ip>._transfer.<zone>` keys (the ocaml-dns convention): each
 * such key of this zone names a secondary, notified signed with that key. Other keys are ignored.
 */
export function notifyTargetsFromKeys(zone: Name, keys: readonly TsigKey[], port = 53): NotifyTarget[] {
  const out: NotifyTarget[] = [];
  for (const key of keys) {
    const t = parseTransferKeyName(key.name);
    if (t?.secondary && t.zone.equals(zone)) out.push({ address: t.secondary, port, key });
  }
  return out;
}

/**
 * All targets of a zone, without duplicates: explicit ones (server-group members, also-notify) first — signed with
 * `transferKey` when given — then the `._transfer.` key peers. A later duplicate address#port is dropped.
 */
export function notifyTargets(
  zone: Name,
  explicit: readonly { address: string; port?: number }[],
  transferKey: TsigKey | undefined,
  conventionKeys: readonly TsigKey[] = [],
): NotifyTarget[] {
  const seen = new Set<string>();
  const out: NotifyTarget[] = [];
  const add = (t: NotifyTarget) => {
    const k = `${t.address}#${t.port ?? 53}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(t);
  };
  for (const e of explicit) add({ address: e.address, port: e.port, key: transferKey });
  for (const t of notifyTargetsFromKeys(zone, conventionKeys)) add(t);
  return out;
}
