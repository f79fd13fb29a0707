// handleQuery: bytes in, response bytes out, no sockets (the listeners in listeners.ts are thin shells around it).
//
// Hot path (standard QUERY, one question, at most an OPT in the additional section): only the header, the question
// and the OPT record are scanned, the response comes from a memo of pre-encoded answers keyed on the question, and it is patched
// with the query's id, RD/CD bits and its question name bytes (same length, so compression pointers into the
// question stay valid and the query name's case is preserved). Everything else (other opcodes, TSIG, records in the
// answer/authority sections, AXFR/IXFR) takes the slow path: a full decode and, for opcodes and transfer types that
// other modules serve, a handler from the registry.

import { Opcode, Rcode, RRClass, RRType } from '../dns/constants.js';
import { DecodeError } from '../dns/errors.js';
import { decodeMessage, type EdnsOption, encodeMessage, EXPIRE_OPTION, expireOption, type Message, NSID_OPTION, TCP_KEEPALIVE_OPTION } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { makeTxt } from '../dns/rdata.js';
import { WireReader, writeU32 } from '../dns/wire.js';
import { nsec3Hash } from '../dnssec/nsec3.js';
import { checkCookie, clientIpOctets, COOKIE_OPTION, type CookieSecrets, CookieState, cookieLengthOk, makeServerCookie } from '../dns/cookie.js';
import { addDnssec, isSignedZone } from '../zone/dnssec-answer.js';
import { latin1 } from '../zone/key.js';
import { answer, lookupName } from '../zone/lookup.js';
import { buildSections } from '../zone/sections.js';
import type { ZoneTable } from '../zone/table.js';
import type { QueryAcl } from './acl.js';
import type { Zone } from '../zone/zone.js';
import { CLS_NODATA, CLS_NXDOMAIN, type RateLimiter, RRL_DROP, RRL_PASS, RRL_SLIP, type RrlVerdict, responseClass, responseClassAt, shortResponse } from './rrl.js';

export interface QueryMeta {
  transport: 'udp' | 'tcp';
  /** Remote address and port (absent for in-process tests). */
  address?: string;
  port?: number;
  /**
   * TCP: run `fn` once the answer to this message has been sent (flushed to the kernel) or the connection closed;
   * transfers hold their concurrency slot until then. Absent on UDP (the answer is sent when returned).
   */
  afterSend?: (fn: () => void) => void;
}

/** One response, several (AXFR streams many messages over TCP), or none (the query is dropped). */
export type HandlerResult = Uint8Array | Uint8Array[] | null;

/** What a registered handler gets: the raw query, its full decode and where it came from. */
export interface HandlerRequest {
  bytes: Uint8Array;
  message: Message;
  meta: QueryMeta;
  table: ZoneTable;
}

/** Handlers for opcodes (NOTIFY, UPDATE), query types (AXFR, IXFR) and signed messages may be asynchronous. */
export type Handler = (req: HandlerRequest) => HandlerResult | Promise<HandlerResult>;

export interface QueryHandlerOptions {
  /** Our EDNS UDP payload size: advertised in OPT and the cap on UDP responses (default 1232, RFC 9715 advice). */
  udpPayload?: number;
  /** Upper bound on memoized responses (all zones); the memo is cleared when it is reached (default 100000). */
  memoLimit?: number;
  /** allow-query lists: a query from outside a zone's list is REFUSED (default: everyone may query). */
  queryAcl?: QueryAcl;
  /** Response rate limiting of UDP answers (rrl.ts); absent: none. */
  rrl?: RateLimiter;
  /**
   * DNS Cookies (RFC 7873/9018): the secrets in force, read per query (so they can be rotated). Absent, or returning
   * undefined: COOKIE options are ignored as before.
   */
  cookieSecrets?: () => CookieSecrets | undefined;
  /**
   * What the server says of itself to CHAOS-class TXT queries: `identity` for id.server (RFC 4892) and hostname.bind,
   * `version` for version.server and version.bind, as BIND and Knot answer them. Absent (either): REFUSED, as for
   * every other CHAOS question.
   */
  chaos?: { identity?: string; version?: string };
  /** The name server identifier (RFC 5001) given to queries asking for NSID; absent: none (the option is ignored). */
  nsid?: Uint8Array;
  /**
   * The TCP idle timeout told to clients over TCP that send edns-tcp-keepalive (RFC 7828 §3.3.2, as named and knotd
   * answer it), in milliseconds: what the TCP listener closes an idle connection after. Absent: the option is ignored.
   */
  tcpKeepaliveMs?: number;
  /** Seconds since the epoch, for cookie timestamps (tests inject it; default Date.now() / 1000). */
  now?: () => number;
}

const FLAG_QR = 0x80; // in byte 2
const FLAG_AA = 0x04; // in byte 2
const FLAG_TC = 0x02; // in byte 2
const FLAG_RD = 0x01; // in byte 2
const FLAG_CD = 0x10; // in byte 3
const OPT_LEN = 11;
/** RFC 8914 INFO-CODE 20: the server is not authoritative for the name (sent with REFUSED, as Knot does). */
const EDE_NOT_AUTHORITATIVE = 20;
/** RFC 8914 INFO-CODE 18: the client is not allowed to query (REFUSED by a query ACL, as BIND sends it). */
const EDE_PROHIBITED = 18;

export class QueryHandler {
  /** Handlers by opcode (NOTIFY = 4, UPDATE = 5); QUERY is served here. Unregistered opcodes get NOTIMP. */
  readonly opcodeHandlers = new Map<number, Handler>();
  /** Handlers by QTYPE of standard queries (AXFR = 252, IXFR = 251). Unregistered transfer types get REFUSED. */
  readonly qtypeHandlers = new Map<number, Handler>();
  /**
   * Handler for messages carrying a TSIG record (RFC 8945). Until one is registered such queries get NOTAUTH: a
   * server that cannot check a signature must not act on it.
   */
  signedHandler: Handler | undefined;
  /**
   * Zones not to be answered now: a replica whose replication lag passed a zone's SOA EXPIRE answers it SERVFAIL,
   * queries and transfers alike, as BIND and Knot answer an expired secondary zone (RFC 1035 §3.3.13: past EXPIRE the
   * zone "is no longer authoritative"; docs/HA.md). Set by dmsd only while a replica is that far behind: the normal
   * path costs one undefined check.
   */
  expired: ((zone: Zone) => boolean) | undefined = undefined;

  private readonly udpPayload: number;
  private readonly memoLimit: number;
  private readonly queryAcl: QueryAcl | undefined;
  private readonly rrl: RateLimiter | undefined;
  private readonly cookieSecrets: (() => CookieSecrets | undefined) | undefined;
  private readonly chaos: QueryHandlerOptions['chaos'];
  private readonly nsid: Uint8Array | undefined;
  /** The edns-tcp-keepalive option of answers over TCP (its TIMEOUT: the idle timeout in 100 ms units), if any. */
  private readonly keepalive: EdnsOption | undefined;
  private readonly now: () => number;

  // Scratch state of the query being handled (the sync path is not re-entrant, so fields avoid allocations).
  private qEnd = 0;
  /** FNV-1a hash of the memo key: the lower-case question name and QTYPE, left in lowerBuf by scanQuestion. */
  private qHash = 0;
  private qType = 0;
  private qClass = 0;
  private hasEdns = false;
  private ednsUdp = 0;
  private ednsDo = false;
  private ednsVersion = 0;
  /** Octets our OPT record takes in the response: 0 without EDNS, 11, or 11 + the COOKIE option. */
  private optLen = 0;
  /** The query's COOKIE option: cookieBuf[cookieAt, cookieAt + cookieLen); cookieLen -1 when there is none. */
  private cookieLen = -1;
  private cookieAt = 0;
  private cookieBuf: Uint8Array = Buffer.alloc(0);
  /** The COOKIE option of the response (client | server cookie), respCookieLen octets; 0: none. */
  private readonly respCookie = Buffer.alloc(40);
  private respCookieLen = 0;
  /** The query carried a valid server cookie of ours (exempt from RRL). */
  private cookieValid = false;
  /** The query's OPT asked for EXPIRE (RFC 7314), for NSID (RFC 5001). */
  private expireAsked = false;
  private nsidAsked = false;
  /** The query's OPT holds edns-tcp-keepalive (RFC 7828). */
  private keepaliveAsked = false;
  /** RRL has accounted this query's response already (decided before building it: rrlEarly). */
  private rrlDone = false;
  /** The client address as octets (ipLen: 4 or 16; 0 unknown; -1 not parsed yet). */
  private readonly ip = new Uint8Array(16);
  private ipLen = -1;
  private lowerBuf = Buffer.alloc(258);
  /**
   * Pre-encoded responses by question, for every zone: a repeated query costs one probe of a flat table, its key and
   * response side by side in memory. Each entry carries the epoch of the zone it came from: when that zone is
   * replaced (a change patched in), its entries no longer match and are rebuilt on their next query, while the other
   * zones' stay. Cleared when a zone is added or removed (which zone answers a name may change). So it never serves
   * an old snapshot, and answers whose additional section depends on other names of the zone are rebuilt with it.
   */
  private readonly memo: ResponseMemo;
  /** The same for DO=1 answers from signed zones (RRSIGs included). */
  private readonly memoDo: ResponseMemo;
  private memoStructure = -1;

  constructor(
    readonly table: ZoneTable,
    opts: QueryHandlerOptions = {},
  ) {
    this.udpPayload = opts.udpPayload ?? 1232;
    this.memoLimit = opts.memoLimit ?? 100000;
    this.queryAcl = opts.queryAcl;
    this.rrl = opts.rrl;
    this.cookieSecrets = opts.cookieSecrets;
    this.chaos = opts.chaos;
    this.nsid = opts.nsid;
    if (opts.tcpKeepaliveMs !== undefined) {
      const t = Math.max(0, Math.min(0xffff, Math.round(opts.tcpKeepaliveMs / 100)));
      this.keepalive = { code: TCP_KEEPALIVE_OPTION, data: Uint8Array.of(t >>> 8, t & 0xff) };
    }
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.memo = new ResponseMemo(this.memoLimit, MEMO_MAX_BYTES);
    this.memoDo = new ResponseMemo(this.memoLimit, MEMO_MAX_BYTES);
  }

  /** Number of memoized responses (for tests and statistics). */
  get memoSize(): number {
    return this.memo.count + this.memoDo.count;
  }

  /** The question name's wire key (lower case). */
  private get qKey(): string {
    return latin1(this.lowerBuf, 0, this.qEnd - 12);
  }

  /**
   * Answer one DNS message. Returns null for input that must not be answered (shorter than a header, or itself a
   * response). Synchronous for standard queries; handlers registered for other opcodes/types may return a Promise.
   * Never throws for any input.
   */
  handle(bytes: Uint8Array, meta: QueryMeta): HandlerResult | Promise<HandlerResult> {
    try {
      const r = this.dispatch(bytes, meta);
      // RRL: UDP only (a TCP client has proven its address), off unless configured (one test per query then).
      if (this.rrl === undefined || meta.transport !== 'udp' || r === null || this.rrlDone) return r;
      return this.limit(this.rrl, r, meta);
    } catch {
      // A bug must not take the server down or leave the client waiting: answer SERVFAIL.
      if (bytes.length < 12) return null;
      this.hasEdns = false;
      this.optLen = 0;
      this.respCookieLen = 0;
      return errorResponse(bytes, Rcode.SERVFAIL, 12, this);
    }
  }

  /**
   * Response rate limiting of a UDP answer: exempt with a valid server cookie; otherwise accounted per source prefix
   * and class, and sent, dropped, or slipped: truncated (TC) — or BADCOOKIE with a fresh server cookie when the query
   * carried a client cookie (RFC 7873 §5.2.3: the client retries with it and is then exempt, as BIND does).
   */
  private limit(rrl: RateLimiter, r: Uint8Array | Uint8Array[] | Promise<HandlerResult>, meta: QueryMeta): HandlerResult | Promise<HandlerResult> {
    if (this.ipLen < 0) this.ipLen = meta.address === undefined ? 0 : clientIpOctets(meta.address, this.ip);
    const ipLen = this.ipLen;
    if (ipLen === 0) return r;
    const exempt = this.cookieValid;
    const withCookie = this.respCookieLen > 0;
    if (isThenable(r)) {
      // Copy the address: the scratch buffer belongs to the next query by the time this resolves.
      const ip = this.ip.slice(0, ipLen);
      return r.then((x) => limited(rrl, x, ip, ipLen, exempt, withCookie));
    }
    return limited(rrl, r, this.ip, ipLen, exempt, withCookie);
  }

  private dispatch(b: Uint8Array, meta: QueryMeta): HandlerResult | Promise<HandlerResult> {
    const len = b.length;
    if (len < 12) return null;
    if (b[2] & FLAG_QR) return null;
    const opcode = (b[2] >>> 3) & 0xf;
    const qd = (b[4] << 8) | b[5];
    const an = (b[6] << 8) | b[7];
    const ns = (b[8] << 8) | b[9];
    const ar = (b[10] << 8) | b[11];
    this.hasEdns = false;
    this.optLen = 0;
    this.cookieLen = -1;
    this.respCookieLen = 0;
    this.cookieValid = false;
    this.expireAsked = false;
    this.nsidAsked = false;
    this.keepaliveAsked = false;
    this.ipLen = -1;
    this.rrlDone = false;

    if (opcode !== Opcode.QUERY) {
      const h = this.opcodeHandlers.get(opcode);
      const qEnd = qd === 1 && this.scanQuestion(b) ? this.qEnd + 4 : 12;
      if (h) return this.slow(b, meta, h, qEnd);
      // With the OPT of the request, when it reads as a message (RFC 6891 §7), as knotd and named answer.
      if (ar !== 0) this.decodedEdns(b, meta);
      return errorResponse(b, Rcode.NOTIMP, qEnd, this);
    }
    if (qd !== 1 || !this.scanQuestion(b)) {
      // No question, or more than one (RFC 9619: FORMERR), with the request's OPT when it has one. A query without a
      // question but with a COOKIE asks for a server cookie (RFC 7873 §5.4): NOERROR with it, as named answers.
      const msg = ar !== 0 ? this.decodedEdns(b, meta) : undefined;
      if (msg !== undefined && this.hasEdns && this.ednsVersion !== 0) return errorResponse(b, Rcode.BADVERS, 12, this);
      const askingCookie = qd === 0 && msg !== undefined && msg.question.length === 0 && this.respCookieLen > 0;
      return errorResponse(b, askingCookie ? Rcode.NOERROR : Rcode.FORMERR, 12, this);
    }
    const qEnd = this.qEnd + 4;
    if (an !== 0 || ns !== 0 || (ar !== 0 && !this.scanOpt(b, qEnd, ar))) {
      // Not the plain shape: decode fully (a TSIG, several additional records, or a malformed OPT).
      let msg: Message;
      try {
        msg = decodeMessage(b);
      } catch (e) {
        if (e instanceof DecodeError) return errorResponse(b, Rcode.FORMERR, qEnd, this);
        throw e;
      }
      this.takeEdns(msg);
      if (msg.tsigOffset !== undefined) {
        if (this.signedHandler) return this.signedHandler({ bytes: b, message: msg, meta, table: this.table });
        return errorResponse(b, Rcode.NOTAUTH, qEnd, this);
      }
    } else if (ar === 0 && qEnd !== len) {
      return errorResponse(b, Rcode.FORMERR, qEnd, this);
    }
    if (this.hasEdns && this.ednsVersion !== 0) return errorResponse(b, Rcode.BADVERS, qEnd, this);
    if (this.cookieLen >= 0 && this.cookieSecrets !== undefined) {
      const secrets = this.cookieSecrets();
      if (secrets !== undefined) {
        // RFC 7873 §5.2.2: a COOKIE option of a length no cookie can have is a malformed query.
        if (!cookieLengthOk(this.cookieLen)) return errorResponse(b, Rcode.FORMERR, qEnd, this);
        this.cookie(secrets, meta);
      }
    }
    return this.query(b, meta, qEnd);
  }

  /** The EDNS fields of a fully decoded request. */
  private takeEdns(msg: Message): void {
    if (!msg.edns) return;
    this.hasEdns = true;
    this.optLen = OPT_LEN;
    this.ednsUdp = msg.edns.udpSize;
    this.ednsDo = msg.edns.do;
    this.ednsVersion = msg.edns.version;
    this.expireAsked = msg.edns.options.some((o) => o.code === EXPIRE_OPTION);
    this.nsidAsked = msg.edns.options.some((o) => o.code === NSID_OPTION);
    this.keepaliveAsked = msg.edns.options.some((o) => o.code === TCP_KEEPALIVE_OPTION);
    const cookie = msg.edns.options.find((o) => o.code === COOKIE_OPTION);
    if (cookie) {
      this.cookieBuf = cookie.data;
      this.cookieAt = 0;
      this.cookieLen = cookie.data.length;
    }
  }

  /**
   * A request answered with an error before its question was read (no question, several, an unknown opcode): its
   * EDNS and COOKIE for the answer, when the message reads as one (undefined otherwise: the answer has no OPT).
   */
  private decodedEdns(b: Uint8Array, meta: QueryMeta): Message | undefined {
    let msg: Message;
    try {
      msg = decodeMessage(b);
    } catch (e) {
      if (e instanceof DecodeError) return undefined;
      throw e;
    }
    this.takeEdns(msg);
    if (this.hasEdns && this.ednsVersion === 0 && this.cookieLen >= 0 && this.cookieSecrets !== undefined && cookieLengthOk(this.cookieLen)) {
      const secrets = this.cookieSecrets();
      if (secrets !== undefined) this.cookie(secrets, meta);
    }
    return msg;
  }

  /** A handled opcode: full decode, then the handler. */
  private slow(b: Uint8Array, meta: QueryMeta, h: Handler, qEnd: number): HandlerResult | Promise<HandlerResult> {
    let msg: Message;
    try {
      msg = decodeMessage(b);
    } catch (e) {
      if (e instanceof DecodeError) return errorResponse(b, Rcode.FORMERR, qEnd, this);
      throw e;
    }
    if (msg.tsigOffset !== undefined && this.signedHandler)
      return this.signedHandler({ bytes: b, message: msg, meta, table: this.table });
    return h({ bytes: b, message: msg, meta, table: this.table });
  }

  /**
   * Scan the question at offset 12: uncompressed labels (a pointer in the first name of a message cannot point
   * anywhere useful), total length ≤ 255. Sets qEnd (end of the name), qType, qClass, and the memo key: the
   * lower-case name and QTYPE in lowerBuf[0, qEnd - 10) and its hash qHash. False when malformed.
   */
  private scanQuestion(b: Uint8Array): boolean {
    const len = b.length;
    const lb = this.lowerBuf;
    let p = 12;
    let h = FNV_OFFSET;
    for (;;) {
      if (p >= len) return false;
      const l = b[p];
      lb[p - 12] = l;
      h = Math.imul(h ^ l, FNV_PRIME);
      if (l === 0) break;
      if (l > 63) return false;
      const end = p + 1 + l;
      if (end > len) return false;
      for (let i = p + 1; i < end; i++) {
        let c = b[i];
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        lb[i - 12] = c;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      p = end;
      if (p - 12 > 254) return false;
    }
    const nameEnd = p + 1;
    if (nameEnd + 4 > len) return false;
    this.qEnd = nameEnd;
    lb[nameEnd - 12] = b[nameEnd];
    lb[nameEnd - 11] = b[nameEnd + 1];
    h = Math.imul(h ^ b[nameEnd], FNV_PRIME);
    this.qHash = Math.imul(h ^ b[nameEnd + 1], FNV_PRIME);
    this.qType = (b[nameEnd] << 8) | b[nameEnd + 1];
    this.qClass = (b[nameEnd + 2] << 8) | b[nameEnd + 3];
    return true;
  }

  /**
   * Fast scan of an additional section holding exactly one OPT record at `p` and nothing after it. Sets the EDNS
   * fields and returns true; returns false when the section is anything else (the caller then decodes fully,
   * which also reports malformations).
   */
  private scanOpt(b: Uint8Array, p: number, ar: number): boolean {
    if (ar !== 1 || p + OPT_LEN > b.length) return false;
    if (b[p] !== 0 || b[p + 1] !== 0 || b[p + 2] !== RRType.OPT) return false;
    const rdlen = (b[p + 9] << 8) | b[p + 10];
    const end = p + OPT_LEN + rdlen;
    if (end !== b.length) return false;
    // Options must tile the RDATA exactly; only the first COOKIE is looked at (RFC 6891 §6.1.2: unknown options are
    // ignored; RFC 7873 §5.2: so is a second COOKIE).
    let o = p + OPT_LEN;
    while (o < end) {
      if (o + 4 > end) return false;
      const olen = (b[o + 2] << 8) | b[o + 3];
      if (b[o] === 0 && b[o + 1] === EXPIRE_OPTION) this.expireAsked = true;
      else if (b[o] === 0 && b[o + 1] === NSID_OPTION) this.nsidAsked = true;
      else if (b[o] === 0 && b[o + 1] === TCP_KEEPALIVE_OPTION) this.keepaliveAsked = true;
      if (b[o] === 0 && b[o + 1] === COOKIE_OPTION && this.cookieLen < 0 && o + 4 + olen <= end) {
        this.cookieBuf = b;
        this.cookieAt = o + 4;
        this.cookieLen = olen;
      }
      o += 4 + olen;
    }
    if (o !== end) {
      this.cookieLen = -1;
      return false;
    }
    this.hasEdns = true;
    this.optLen = OPT_LEN;
    this.ednsUdp = (b[p + 3] << 8) | b[p + 4];
    this.ednsVersion = b[p + 6];
    this.ednsDo = (b[p + 7] & 0x80) !== 0;
    return true;
  }

  /**
   * Check the query's COOKIE (its length acceptable) and prepare the response's: the client cookie with the server
   * cookie echoed when it is ours and fresh, else a new one (RFC 9018 §4.3). Sets cookieValid (exempt from RRL).
   */
  private cookie(secrets: CookieSecrets, meta: QueryMeta): void {
    const ipLen = meta.address === undefined ? 0 : clientIpOctets(meta.address, this.ip);
    this.ipLen = ipLen;
    const b = this.cookieBuf;
    const at = this.cookieAt;
    const now = this.now();
    const state = checkCookie(secrets, b, at, this.cookieLen, this.ip, ipLen, now);
    const out = this.respCookie;
    for (let i = 0; i < 8; i++) out[i] = b[at + i];
    if (state === CookieState.Valid) for (let i = 8; i < 24; i++) out[i] = b[at + i];
    else makeServerCookie(secrets.current, b, at, this.ip, ipLen, now, out, 8);
    this.cookieValid = state !== CookieState.Client;
    this.respCookieLen = 24;
    this.optLen = OPT_LEN + 4 + 24;
  }

  /** A standard query whose question and EDNS are known. */
  private query(b: Uint8Array, meta: QueryMeta, qEnd: number): HandlerResult | Promise<HandlerResult> {
    const r = this.answerQuery(b, meta, qEnd);
    if (!(r instanceof Uint8Array)) return r;
    const expire = this.expireAsked && this.qType === RRType.SOA;
    const nsid = this.nsidAsked && this.nsid !== undefined;
    // Over TCP only: a server ignores the option in a UDP query (RFC 7828 §3.3.1).
    const keepalive = this.keepaliveAsked && meta.transport === 'tcp' && this.keepalive !== undefined;
    return expire || nsid || keepalive ? this.withOptions(r, meta, expire, nsid, keepalive) : r;
  }

  /**
   * An answer to a query asking for EDNS EXPIRE, NSID or TCP keepalive, with the option: EXPIRE to a SOA query at a zone's apex,
   * our SOA EXPIRE (RFC 7314 §3: a primary answers its own), as BIND and Knot answer; NSID (RFC 5001) the configured
   * identifier, in any answer with our OPT; edns-tcp-keepalive (RFC 7828) the TCP idle timeout, over TCP. Unchanged
   * when it has no OPT of ours or would not fit.
   */
  private withOptions(r: Uint8Array, meta: QueryMeta, expire: boolean, nsid: boolean, keepalive = false): Uint8Array {
    if (!this.hasEdns || r.length < 12) return r;
    const options: EdnsOption[] = [];
    if (expire && (r[3] & 0xf) === 0 && (r[2] & FLAG_TC) === 0 && ((r[6] << 8) | r[7]) !== 0) {
      const zone = this.table.findForQuery(this.qKey, RRType.SOA);
      if (zone !== undefined && zone.originKey === this.qKey) options.push(expireOption(zone.soa));
    }
    if (nsid && this.nsid !== undefined) options.push({ code: NSID_OPTION, data: this.nsid });
    if (keepalive && this.keepalive !== undefined) options.push(this.keepalive);
    if (options.length === 0) return r;
    const extra = options.reduce((n, o) => n + 4 + o.data.length, 0);
    const limit = meta.transport === 'udp' ? Math.min(Math.max(512, this.ednsUdp), this.udpPayload) : 65535;
    const at = lastRecordAt(r);
    if (r.length + extra > limit || at < 0 || r[at] !== 0 || r[at + 1] !== 0 || r[at + 2] !== RRType.OPT) return r;
    const out = new Uint8Array(r.length + extra);
    out.set(r);
    let p = r.length;
    for (const o of options) {
      out[p] = o.code >>> 8;
      out[p + 1] = o.code & 0xff;
      out[p + 2] = o.data.length >>> 8;
      out[p + 3] = o.data.length & 0xff;
      out.set(o.data, p + 4);
      p += 4 + o.data.length;
    }
    const rdlen = ((r[at + 9] << 8) | r[at + 10]) + extra;
    out[at + 9] = rdlen >>> 8;
    out[at + 10] = rdlen & 0xff;
    return out;
  }

  private answerQuery(b: Uint8Array, meta: QueryMeta, qEnd: number): HandlerResult | Promise<HandlerResult> {
    const qtype = this.qType;
    if (this.qClass === RRClass.CH) return this.chaosAnswer(b, qEnd);
    // IN, or ANY (RFC 1035 §3.2.5 QCLASS *) answered from the IN data as Knot does; other classes are not served.
    if (this.qClass !== 1 && this.qClass !== 255) return errorResponse(b, Rcode.REFUSED, qEnd, this);
    const expired = this.expired;
    if (expired !== undefined) {
      const zone = this.table.findForQuery(this.qKey, qtype);
      if (zone !== undefined && expired(zone)) return errorResponse(b, Rcode.SERVFAIL, qEnd, this);
    }
    if (this.qtypeHandlers.size !== 0) {
      const h = this.qtypeHandlers.get(qtype);
      if (h !== undefined) return this.slow(b, meta, h, qEnd);
    }
    if (qtype === RRType.AXFR || qtype === RRType.IXFR) return errorResponse(b, Rcode.REFUSED, qEnd, this);
    // Type 0 is reserved; other meta types (MAILA, TKEY...) get an ordinary NODATA from the zone, as from Knot.
    if (qtype === 0) return errorResponse(b, Rcode.NOTIMP, qEnd, this);
    const limit = meta.transport === 'udp' ? (this.hasEdns ? Math.min(Math.max(512, this.ednsUdp), this.udpPayload) : 512) : 65535;
    const table = this.table;
    // allow-query: before the memo (a memoized answer is the zone's all the same). Free while no zone has a list.
    const acl = this.queryAcl;
    if (acl !== undefined && acl.size !== 0 && meta.address !== undefined) {
      const zone = table.findForQuery(this.qKey, qtype);
      if (zone !== undefined && !acl.allows(zone.origin.key, meta.address)) return errorResponse(b, Rcode.REFUSED, qEnd, this, EDE_PROHIBITED);
    }
    if (this.memoStructure !== table.structure) {
      this.memo.clear();
      this.memoDo.clear();
      this.memoStructure = table.structure;
    }
    // DO=1 for a signed zone: RRSIGs and denial proofs (RFC 4035 §3.1), positive answers memoized apart from the DO=0
    // ones (memoDo); an unsigned zone answers DO=1 as DO=0 (the memo path below, unchanged).
    if (this.ednsDo) {
      const hit = this.fromMemo(this.memoDo, b, limit, meta);
      if (hit !== undefined) return hit;
      const zone = table.findForQuery(this.qKey, qtype);
      if (zone !== undefined && isSignedZone(zone)) return this.buildSigned(zone, b, limit);
    }
    const hit = this.fromMemo(this.memo, b, limit, meta);
    if (hit !== undefined) return hit;
    const key = this.qKey;
    const zone = this.table.findForQuery(key, qtype);
    if (!zone) return errorResponse(b, Rcode.REFUSED, qEnd, this, EDE_NOT_AUTHORITATIVE);
    // Negative answers are not memoized (a flood of random names would only fill the memo): they are assembled
    // from the zone's pre-encoded SOA record, found with a lookup on the key alone.
    const step = lookupName(zone, undefined, key, qtype);
    if (step.kind === 'nxdomain' || step.kind === 'nodata') {
      const nx = step.kind === 'nxdomain';
      // The class is known before the response exists: RRL decides first, so a dropped one costs no allocation.
      const v = this.negativeFits(zone, limit) ? this.rrlEarly(meta, nx ? CLS_NXDOMAIN : CLS_NODATA) : RRL_PASS;
      if (v === RRL_DROP) return null;
      const neg = this.negative(zone, b, nx, limit);
      if (neg !== undefined) return v === RRL_SLIP ? shortResponse(neg, this.respCookieLen > 0) : neg;
    }
    return this.build(zone, b, qEnd, limit);
  }

  /** A CHAOS-class question: the server's identity or version (QueryHandlerOptions.chaos), else REFUSED. */
  private chaosAnswer(b: Uint8Array, qEnd: number): Uint8Array {
    const what = CHAOS_NAMES.get(this.qKey);
    const text = what === undefined ? undefined : this.chaos?.[what];
    if (text === undefined) return errorResponse(b, Rcode.REFUSED, qEnd, this);
    const qname = new WireReader(b, 12, qEnd).name();
    // Not authoritative (AA clear), as Knot answers: no zone holds these names.
    const msg = responseMessage(qname, this.qType, RRClass.CH, Rcode.NOERROR, false);
    msg.id = (b[0] << 8) | b[1];
    msg.rd = (b[2] & FLAG_RD) !== 0;
    msg.cd = (b[3] & FLAG_CD) !== 0;
    // TXT (or ANY) gets the text; any other type at these names has no data.
    if (this.qType === RRType.TXT || this.qType === RRType.ANY) msg.answer = [{ name: qname, type: RRType.TXT, class: RRClass.CH, ttl: 0, rdata: txtRdata(text) }];
    if (this.hasEdns) msg.edns = this.ourEdns();
    const out = encodeMessage(msg);
    out.set(b.subarray(12, qEnd), 12);
    return out;
  }

  /** Full lookup and encoding; memoizes the unlimited response and fits it to `limit`. */
  private build(zone: Zone, b: Uint8Array, qEnd: number, limit: number): Uint8Array {
    const qname = new WireReader(b, 12, qEnd).name();
    const qtype = this.qType;
    const outcome = answer(zone, qname, qtype);
    // RFC 8482 minimal ANY on every transport, as Knot does (dig asks ANY over TCP).
    const s = buildSections(outcome, { minimalAny: true });
    const msg = responseMessage(qname, qtype, this.qClass, s.rcode, s.aa);
    msg.answer = s.answer;
    msg.authority = s.authority;
    msg.additional = s.additional;
    const full = encodeMessage(msg);
    // DNAME-synthesized targets carry the query's case in their RDATA: not memoized.
    if (!outcome.chain.some((rr) => rr.type === RRType.DNAME)) {
      const slot = this.table.slotOf(zone);
      if (slot >= 0) this.memo.insert(this.qHash, this.lowerBuf, this.qEnd - 10, full, slot, this.table.epochs[slot]);
    }
    if (full.length + this.optLen <= limit) return this.patch(full, 0, full.length, b);
    // Too big for the transport: drop optional additional records, else truncate (TC) — RFC 2181 §9, RFC 9471.
    msg.id = (b[0] << 8) | b[1];
    msg.rd = (b[2] & FLAG_RD) !== 0;
    msg.cd = (b[3] & FLAG_CD) !== 0;
    if (this.hasEdns) msg.edns = this.ourEdns();
    const req = s.requiredAdditional;
    const fitted = encodeMessage(msg, { maxSize: limit, requiredAdditional: (rr) => req.has(rr) });
    // The question must be the query's own bytes (name case, class), as on the memo path.
    fitted.set(b.subarray(12, this.qEnd + 4), 12);
    return fitted;
  }

  /**
   * RRL's verdict on this query's response of class `cls`, taken before the response is built (a flood repeats one
   * question: its answer is memoized, or negative), so a response RRL drops costs a table probe and no allocation.
   * Marks the query accounted (handle() then leaves it alone). RRL_PASS when RRL does not apply (off, TCP, an
   * unknown address); a valid server cookie exempts.
   */
  private rrlEarly(meta: QueryMeta, cls: number): RrlVerdict {
    const rrl = this.rrl;
    if (rrl === undefined || meta.transport !== 'udp' || meta.address === undefined) return RRL_PASS;
    if (this.ipLen < 0) this.ipLen = clientIpOctets(meta.address, this.ip);
    if (this.ipLen === 0) return RRL_PASS;
    this.rrlDone = true;
    if (this.cookieValid) {
      rrl.exempt(cls);
      return RRL_PASS;
    }
    return rrl.decide(this.ip, this.ipLen, cls);
  }

  /**
   * The memoized response to this question (patched for this query) when its zone version is still served; with RRL,
   * decided before patching: null when RRL drops it, the truncated slip when it slips.
   */
  private fromMemo(memo: ResponseMemo, b: Uint8Array, limit: number, meta: QueryMeta): Uint8Array | null | undefined {
    // The key is the lower-case name and QTYPE: lowerBuf[0, this.qEnd - 10) (the question's class is not in it).
    const at = memo.find(this.qHash, this.lowerBuf, this.qEnd - 10);
    if (at < 0) return undefined;
    const slab = memo.slab;
    // The zone the answer came from: still the version served?
    const slot = (slab[at - 8] << 24) | (slab[at - 7] << 16) | (slab[at - 6] << 8) | slab[at - 5];
    const epoch = ((slab[at - 4] << 24) | (slab[at - 3] << 16) | (slab[at - 2] << 8) | slab[at - 1]) >>> 0;
    if (this.table.epochs[slot] === epoch) {
      const n = (slab[at] << 8) | slab[at + 1];
      if (n + this.optLen <= limit) {
        const v = this.rrl === undefined ? RRL_PASS : this.rrlEarly(meta, responseClassAt(slab, at + 2, n));
        if (v === RRL_DROP) return null;
        const out = this.patch(slab, at + 2, n, b);
        return v === RRL_SLIP ? shortResponse(out, this.respCookieLen > 0) : out;
      }
    } else memo.dropFound();
    return undefined;
  }

  /**
   * A DO=1 answer from a signed zone, fitted to `limit` (TC when the answer or its proofs do not fit). Positive answers
   * are memoized (memoDo) as the DO=0 ones are; negative ones, like those, are not.
   */
  private buildSigned(zone: Zone, b: Uint8Array, limit: number): Uint8Array {
    const qname = new WireReader(b, 12, this.qEnd + 4).name();
    const qtype = this.qType;
    const outcome = answer(zone, qname, qtype);
    const s = addDnssec(outcome, buildSections(outcome, { minimalAny: true }), nsec3Hash);
    const msg = responseMessage(qname, qtype, this.qClass, s.rcode, s.aa);
    msg.answer = s.answer;
    msg.authority = s.authority;
    msg.additional = s.additional;
    const negative = outcome.final.kind === 'nxdomain' || outcome.final.kind === 'nodata';
    // DNAME-synthesized targets carry the query's case in their RDATA: not memoized.
    if (!negative && !outcome.chain.some((rr) => rr.type === RRType.DNAME)) {
      const full = encodeMessage(msg);
      const slot = this.table.slotOf(zone);
      if (slot >= 0) this.memoDo.insert(this.qHash, this.lowerBuf, this.qEnd - 10, full, slot, this.table.epochs[slot]);
      if (full.length + this.optLen <= limit) return this.patch(full, 0, full.length, b);
    }
    msg.id = (b[0] << 8) | b[1];
    msg.rd = (b[2] & FLAG_RD) !== 0;
    msg.cd = (b[3] & FLAG_CD) !== 0;
    if (this.hasEdns) msg.edns = this.ourEdns();
    const req = s.requiredAdditional;
    const out = encodeMessage(msg, { maxSize: limit, requiredAdditional: (rr) => req.has(rr) });
    out.set(b.subarray(12, this.qEnd + 4), 12);
    return out;
  }

  /** Whether negative() will produce its response within `limit` (so RRL may decide before it is built). */
  private negativeFits(zone: Zone, limit: number): boolean {
    return this.qEnd + 4 + negativeTailOf(zone).bytes.length + this.optLen <= limit;
  }

  /**
   * NXDOMAIN or NODATA: header, the query's question, the SOA at the negative TTL in authority (its owner a pointer
   * to the zone's name inside the question name), our OPT when asked. Undefined when it would not fit `limit`.
   */
  private negative(zone: Zone, b: Uint8Array, nxdomain: boolean, limit: number): Uint8Array | undefined {
    const { bytes: tail, apexPointers } = negativeTailOf(zone);
    const nameEnd = this.qEnd;
    const tailAt = nameEnd + 4;
    const n = tailAt + tail.length + this.optLen;
    if (n > limit) return undefined;
    const out = Buffer.allocUnsafe(n);
    out[0] = b[0];
    out[1] = b[1];
    out[2] = FLAG_QR | FLAG_AA | (b[2] & FLAG_RD);
    out[3] = (b[3] & FLAG_CD) | (nxdomain ? Rcode.NXDOMAIN : Rcode.NOERROR);
    out[4] = 0;
    out[5] = 1;
    out[6] = 0;
    out[7] = 0;
    out[8] = 0;
    out[9] = 1;
    out[10] = 0;
    out[11] = this.hasEdns ? 1 : 0;
    for (let i = 12; i < tailAt; i++) out[i] = b[i];
    out.set(tail, tailAt);
    // The zone's name is the last originKey.length octets of the question name (same length in any case): the SOA's
    // owner, and the apex ending its MNAME and RNAME, point there.
    const apexAt = nameEnd - zone.originKey.length;
    for (const at of apexPointers) {
      out[tailAt + at] = 0xc0 | (apexAt >>> 8);
      out[tailAt + at + 1] = apexAt & 0xff;
    }
    if (this.hasEdns) writeOpt(out, tailAt + tail.length, this.udpPayload, 0, this.ednsDo, this.respCookie, this.respCookieLen);
    return out;
  }

  /**
   * Copy a pre-encoded response (`n` octets of `src` at `from`), patching id, RD/CD and the question name, appending
   * our OPT when asked.
   */
  private patch(src: Uint8Array, from: number, n: number, b: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(n + this.optLen);
    const pre = from === 0 && n === src.length ? src : src.subarray(from, from + n);
    out.set(pre, 0);
    out[0] = b[0];
    out[1] = b[1];
    out[2] = (pre[2] & ~FLAG_RD) | (b[2] & FLAG_RD);
    out[3] = (pre[3] & ~FLAG_CD) | (b[3] & FLAG_CD);
    // Name (its case), type, class: a byte loop, cheaper for ~20 octets than a subarray view and set().
    for (let i = 12, end = this.qEnd + 4; i < end; i++) out[i] = b[i];
    if (this.hasEdns) {
      writeOpt(out, n, this.udpPayload, 0, this.ednsDo, this.respCookie, this.respCookieLen);
      const arc = ((pre[10] << 8) | pre[11]) + 1;
      out[10] = arc >>> 8;
      out[11] = arc & 0xff;
    }
    return out;
  }

  /** EDNS state of the query just handled, for errorResponse. */
  get ednsForError(): EdnsForError {
    return { present: this.hasEdns, do: this.ednsDo, payload: this.udpPayload, ...(this.respCookieLen > 0 ? { cookie: this.respCookie.subarray(0, this.respCookieLen) } : {}) };
  }

  /** Our OPT for encodeMessage: payload, DO, and the COOKIE when the query had one. */
  private ourEdns(): NonNullable<Message['edns']> {
    const e = ourEdns(this.udpPayload, this.ednsDo);
    if (this.respCookieLen > 0) e.options.push({ code: COOKIE_OPTION, data: this.respCookie.slice(0, this.respCookieLen) });
    return e;
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** The memo is emptied when its responses would take more than this (a few large answers must not pin memory). */
const MEMO_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Open-addressing hash table (linear probing) of pre-encoded responses. Entries live in one byte slab, each as
 * key length (1 octet), key, zone slot and epoch (4 + 4 octets), response length (2 octets), response: a hit touches
 * the slot arrays and one spot of the slab, and makes no string. An entry found stale is unlinked (its slot becomes
 * a tombstone, its bytes stay until the next clear); the table is cleared when it is full.
 */
class ResponseMemo {
  /** Live entries. */
  count = 0;
  slab = new Uint8Array(64 * 1024);
  private used = 0;
  /** Live entries plus tombstones: what fills the slot arrays. */
  private filled = 0;
  /** Slab offset + 1 of each slot's entry (0 = empty, -1 = tombstone), and the entry's hash. */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(1024);
  /** Slot index of the entry the last find() returned. */
  private foundAt = -1;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  clear(): void {
    if (this.filled === 0) return;
    this.slots.fill(0);
    this.used = 0;
    this.count = 0;
    this.filled = 0;
  }

  /** Slab offset of the response length of the entry for key k[0, klen) (hash h), or -1. */
  find(h: number, k: Uint8Array, klen: number): number {
    const slots = this.slots;
    const hashes = this.hashes;
    const slab = this.slab;
    const mask = slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === 0) return -1;
      if (e < 0 || hashes[i] !== h) continue;
      const at = e - 1;
      if (slab[at] !== klen) continue;
      let j = 0;
      while (j < klen && slab[at + 1 + j] === k[j]) j++;
      if (j === klen) {
        this.foundAt = i;
        return at + 9 + klen;
      }
    }
  }

  /** Unlink the entry the last find() returned (it is stale). */
  dropFound(): void {
    this.slots[this.foundAt] = -1;
    this.count--;
  }

  insert(h: number, k: Uint8Array, klen: number, resp: Uint8Array, slot: number, epoch: number): void {
    const need = 1 + klen + 8 + 2 + resp.length;
    if (need > this.maxBytes || resp.length > 0xffff) return;
    if (this.count >= this.maxEntries || this.used + need > this.maxBytes) this.clear();
    else if (this.find(h, k, klen) >= 0) return;
    if (this.used + need > this.slab.length) {
      let size = this.slab.length * 2;
      while (size < this.used + need) size *= 2;
      const next = new Uint8Array(Math.min(size, this.maxBytes));
      next.set(this.slab.subarray(0, this.used));
      this.slab = next;
    }
    if ((this.filled + 1) * 2 > this.slots.length) this.rehash(this.count * 2 + 2 > this.slots.length ? this.slots.length * 2 : this.slots.length);
    const at = this.used;
    const slab = this.slab;
    slab[at] = klen;
    for (let j = 0; j < klen; j++) slab[at + 1 + j] = k[j];
    const p = at + 1 + klen + 8;
    writeU32(slab, p - 8, slot);
    writeU32(slab, p - 4, epoch);
    slab[p] = resp.length >>> 8;
    slab[p + 1] = resp.length & 0xff;
    slab.set(resp, p + 2);
    this.used = at + need;
    this.place(this.slots, this.hashes, h, at + 1);
    this.count++;
    this.filled++;
  }

  private place(slots: Int32Array, hashes: Int32Array, h: number, entry: number): void {
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = entry;
    hashes[i] = h;
  }

  /** Re-place the live entries into `size` slots (tombstones dropped). */
  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const hashes = new Int32Array(size);
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] > 0) this.place(slots, hashes, this.hashes[i], this.slots[i]);
    this.slots = slots;
    this.hashes = hashes;
    this.filled = this.count;
  }
}

/**
 * The authority record of a zone's negative answers, encoded once per zone snapshot, and where in it the pointers to
 * the zone's name go (set per response: the name sits at the end of the question name, wherever that ends).
 */
interface NegativeTail {
  bytes: Uint8Array;
  apexPointers: number[];
}

const negativeTails = new WeakMap<Zone, NegativeTail>();

function negativeTailOf(zone: Zone): NegativeTail {
  let tail = negativeTails.get(zone);
  if (tail === undefined) {
    tail = negativeTail(zone);
    negativeTails.set(zone, tail);
  }
  return tail;
}

function negativeTail(zone: Zone): NegativeTail {
  const soa = zone.negativeSoa;
  const r = soa.rdata;
  // MNAME and RNAME as found in the RDATA (uncompressed), then the five counters.
  const mnameEnd = wireNameEnd(r, 0);
  const rnameEnd = wireNameEnd(r, mnameEnd);
  const apexPointers = [0];
  const rdata: number[] = [];
  const name = (from: number, to: number) => {
    // A name within the zone ends in a pointer to the zone's name (as Knot and BIND compress it): 24 octets fewer
    // for the usual ns1.<zone> / hostmaster.<zone>.
    const cut = apexSuffixAt(r, from, zone.originKey);
    if (cut === undefined) {
      for (let i = from; i < to; i++) rdata.push(r[i]);
      return;
    }
    for (let i = from; i < cut; i++) rdata.push(r[i]);
    apexPointers.push(12 + rdata.length);
    rdata.push(0, 0);
  };
  name(0, mnameEnd);
  name(mnameEnd, rnameEnd);
  for (let i = rnameEnd; i < r.length; i++) rdata.push(r[i]);
  const out = Buffer.alloc(2 + 10 + rdata.length);
  // out[0..1]: the owner, a compression pointer set per response.
  out.writeUInt16BE(RRType.SOA, 2);
  out.writeUInt16BE(soa.class, 4);
  out.writeUInt32BE(soa.ttl >>> 0, 6);
  out.writeUInt16BE(rdata.length, 10);
  out.set(rdata, 12);
  return { bytes: out, apexPointers };
}

/**
 * Where the wire name at `from` in `b` ends (after its root label, or after a compression pointer); -1 when it runs
 * past the end of `b`.
 */
function wireNameEnd(b: Uint8Array, from: number): number {
  for (let p = from; p < b.length; p += b[p] + 1) {
    if (b[p] === 0) return p + 1;
    if ((b[p] & 0xc0) === 0xc0) return p + 2;
  }
  return -1;
}

/**
 * Where, in the uncompressed wire name at `from`, the zone's name (its lower-case wire key) starts as a whole-label
 * suffix; undefined when the name is not within the zone, or the zone is the root (a pointer would save nothing).
 */
function apexSuffixAt(b: Uint8Array, from: number, apexKey: string): number | undefined {
  if (apexKey.length <= 1) return undefined;
  for (let p = from; b[p] !== 0; p += b[p] + 1) {
    if (wireNameEnd(b, p) - p !== apexKey.length) continue;
    let same = true;
    for (let i = 0; i < apexKey.length && same; i++) {
      const c = b[p + i];
      same = (c >= 0x41 && c <= 0x5a ? c | 0x20 : c) === apexKey.charCodeAt(i);
    }
    if (same) return p;
  }
  return undefined;
}

function responseMessage(qname: Name, qtype: number, qclass: number, rcode: number, aa: boolean): Message {
  return {
    id: 0, qr: true, opcode: 0, aa, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode,
    question: [{ name: qname, type: qtype, class: qclass }], answer: [], authority: [], additional: [],
  };
}

/** Where the last record of a well-formed message starts (our OPT, when it has one), or -1. */
function lastRecordAt(m: Uint8Array): number {
  let p = 12;
  const qd = (m[4] << 8) | m[5];
  for (let i = 0; i < qd; i++) {
    const end = wireNameEnd(m, p);
    if (end < 0) return -1;
    p = end + 4;
  }
  const records = ((m[6] << 8) | m[7]) + ((m[8] << 8) | m[9]) + ((m[10] << 8) | m[11]);
  let last = -1;
  for (let i = 0; i < records && p < m.length; i++) {
    last = p;
    const end = wireNameEnd(m, p);
    if (end < 0 || end + 10 > m.length) return -1;
    p = end + 10 + ((m[end + 8] << 8) | m[end + 9]);
  }
  return p === m.length ? last : -1;
}

/** The CHAOS names answered (by wire key) and what each tells. */
const CHAOS_NAMES: ReadonlyMap<string, 'identity' | 'version'> = new Map(
  (
    [
      ['id.server.', 'identity'],
      ['hostname.bind.', 'identity'],
      ['version.server.', 'version'],
      ['version.bind.', 'version'],
    ] as const
  ).map(([name, what]) => {
    const wire = Name.parse(name).toCanonicalWire();
    return [latin1(wire, 0, wire.length), what];
  }),
);

/** TXT RDATA holding `text` (UTF-8), in character-strings of at most 255 octets. */
function txtRdata(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const strings: Uint8Array[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) strings.push(bytes.subarray(i, i + 255));
  return makeTxt(strings);
}

function ourEdns(payload: number, dnssecOk: boolean): NonNullable<Message['edns']> {
  return { udpSize: payload, extRcode: 0, version: 0, do: dnssecOk, flags: 0, options: [] };
}

function isThenable(x: unknown): x is Promise<HandlerResult> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** RRL's verdict on one UDP answer (see QueryHandler.limit). */
function limited(rrl: RateLimiter, x: HandlerResult, ip: Uint8Array, ipLen: number, exempt: boolean, withCookie: boolean): HandlerResult {
  if (x === null) return x;
  const first = Array.isArray(x) ? x[0] : x;
  if (first === undefined) return x;
  const cls = responseClass(first);
  if (exempt) {
    rrl.exempt(cls);
    return x;
  }
  const v = rrl.decide(ip, ipLen, cls);
  if (v === RRL_PASS) return x;
  if (v === RRL_DROP) return null;
  return shortResponse(first, withCookie);
}

/** What errorResponse needs of the query's EDNS: whether to add OPT, its DO bit, our payload, the response's COOKIE. */
export interface EdnsForError {
  present: boolean;
  do: boolean;
  payload: number;
  cookie?: Uint8Array;
}

/** Our OPT record at `at` (11 octets), followed by a COOKIE option when cookieLen > 0 (4 + cookieLen octets). */
function writeOpt(out: Uint8Array, at: number, payload: number, extRcode: number, dnssecOk: boolean, cookie?: Uint8Array, cookieLen = 0): void {
  out[at] = 0; // root owner
  out[at + 1] = 0;
  out[at + 2] = RRType.OPT;
  out[at + 3] = payload >>> 8;
  out[at + 4] = payload & 0xff;
  out[at + 5] = extRcode;
  out[at + 6] = 0; // version
  out[at + 7] = dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  const rdlen = cookieLen > 0 ? 4 + cookieLen : 0;
  out[at + 9] = rdlen >>> 8; // RDLENGTH
  out[at + 10] = rdlen & 0xff;
  if (cookieLen > 0 && cookie !== undefined) {
    const o = at + OPT_LEN;
    out[o] = 0;
    out[o + 1] = COOKIE_OPTION;
    out[o + 2] = 0;
    out[o + 3] = cookieLen;
    for (let i = 0; i < cookieLen; i++) out[o + 4 + i] = cookie[i];
  }
}

/**
 * A response carrying only an RCODE: the query's id, opcode, RD and CD; its question when `qEnd` > 12 (bytes
 * [12, qEnd) of the query, copied verbatim); our OPT when the query had a valid one (the extended RCODE goes there,
 * e.g. BADVERS = 16, RFC 6891 §6.1.3).
 */
export function errorResponse(
  b: Uint8Array,
  rcode: number,
  qEnd: number,
  h: { ednsForError: EdnsForError },
  ede?: number,
): Uint8Array {
  const e = h.ednsForError;
  const withOpt = e.present;
  const edeLen = withOpt && ede !== undefined ? 6 : 0;
  // The COOKIE goes into error responses too (RFC 7873 §5.2: any response to a query with a valid-length COOKIE).
  const cookieLen = withOpt && e.cookie !== undefined ? e.cookie.length : 0;
  const n = qEnd + (withOpt ? OPT_LEN + (cookieLen > 0 ? 4 + cookieLen : 0) + edeLen : 0);
  const out = Buffer.alloc(n);
  out[0] = b[0];
  out[1] = b[1];
  out[2] = FLAG_QR | (b[2] & 0x78) | (b[2] & FLAG_RD);
  out[3] = (b[3] & FLAG_CD) | (rcode & 0xf);
  out[5] = qEnd > 12 ? 1 : 0;
  if (qEnd > 12) out.set(b.subarray(12, qEnd), 12);
  if (withOpt) {
    out[11] = 1;
    writeOpt(out, qEnd, e.payload, rcode >>> 4, e.do, e.cookie, cookieLen);
    if (edeLen > 0) {
      // One Extended DNS Error option (RFC 8914): code 15, length 2, INFO-CODE, no EXTRA-TEXT.
      const at = qEnd + OPT_LEN + (cookieLen > 0 ? 4 + cookieLen : 0);
      const rdlen = (cookieLen > 0 ? 4 + cookieLen : 0) + edeLen;
      out[qEnd + 9] = rdlen >>> 8;
      out[qEnd + 10] = rdlen & 0xff;
      out[at + 1] = 15;
      out[at + 3] = 2;
      out[at + 4] = ede! >>> 8;
      out[at + 5] = ede! & 0xff;
    }
  }
  return out;
}

/** Is the response authoritative? (Convenience for tests and logs.) */
export function isAuthoritative(resp: Uint8Array): boolean {
  return (resp[2] & FLAG_AA) !== 0;
}
