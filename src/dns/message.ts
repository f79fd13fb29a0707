// DNS messages (RFC 1035 §4) with EDNS(0) (RFC 6891): decode with typed errors, encode with compression and
// size limits. RDATA is kept in one internal form: uncompressed wire bytes (see rdata.ts).

import { RRType } from './constants.js';
import { DecodeError } from './errors.js';
import { Name } from './name.js';
import { readRdata, writeRdata } from './rdata.js';
import { WireReader, WireWriter } from './wire.js';

export interface RR {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  /** Uncompressed wire-format RDATA. */
  rdata: Uint8Array;
}

export interface Question {
  name: Name;
  type: number;
  class: number;
}

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

export interface Edns {
  udpSize: number;
  /** Upper 8 bits of the 12-bit extended RCODE. */
  extRcode: number;
  version: number;
  do: boolean;
  /** Remaining flag bits (other than DO), kept for echo/inspection. */
  flags: number;
  options: EdnsOption[];
}

export interface Header {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The Z bit (must be zero). */
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** Full RCODE (the low 4 bits are in the header; the rest comes from OPT). */
  rcode: number;
}

export interface Message extends Header {
  question: Question[];
  answer: RR[];
  authority: RR[];
  additional: RR[];
  edns?: Edns;
  /** Offset in the original buffer where the last additional RR (a TSIG, when present) starts. */
  tsigOffset?: number;
}

export function emptyMessage(id = 0): Message {
  return {
    id, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0,
    question: [], answer: [], authority: [], additional: [],
  };
}

export function decodeHeader(buf: Uint8Array): Header & { qdcount: number; ancount: number; nscount: number; arcount: number } {
  if (buf.length < 12) throw new DecodeError('truncated', 'message shorter than a header', 0);
  const f = (buf[2] << 8) | buf[3];
  return {
    id: (buf[0] << 8) | buf[1],
    qr: (f & 0x8000) !== 0,
    opcode: (f >>> 11) & 0xf,
    aa: (f & 0x0400) !== 0,
    tc: (f & 0x0200) !== 0,
    rd: (f & 0x0100) !== 0,
    ra: (f & 0x0080) !== 0,
    z: (f & 0x0040) !== 0,
    ad: (f & 0x0020) !== 0,
    cd: (f & 0x0010) !== 0,
    rcode: f & 0xf,
    qdcount: (buf[4] << 8) | buf[5],
    ancount: (buf[6] << 8) | buf[7],
    nscount: (buf[8] << 8) | buf[9],
    arcount: (buf[10] << 8) | buf[11],
  };
}

function readRR(r: WireReader): RR {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const len = r.u16();
  r.need(len);
  // RFC 2136 §2.4/§2.5: UPDATE prerequisites and deletes of class ANY/NONE carry empty RDATA for any type.
  const rdata = len === 0 && (klass === 255 || klass === 254) ? new Uint8Array(0) : readRdata(type, r, len);
  return { name, type, class: klass, ttl, rdata };
}

/** Decode a whole message. Throws DecodeError on any malformation, including trailing garbage. */
export function decodeMessage(buf: Uint8Array): Message {
  const h = decodeHeader(buf);
  const r = new WireReader(buf, 12);
  // Field by field, in emptyMessage's order (one object shape for every message; deleting the counts from a copy of
  // the header made each message a slow dictionary object).
  const msg: Message = {
    id: h.id,
    qr: h.qr,
    opcode: h.opcode,
    aa: h.aa,
    tc: h.tc,
    rd: h.rd,
    ra: h.ra,
    z: h.z,
    ad: h.ad,
    cd: h.cd,
    rcode: h.rcode,
    question: [],
    answer: [],
    authority: [],
    additional: [],
  };
  for (let i = 0; i < h.qdcount; i++) {
    const name = r.name();
    const type = r.u16();
    const klass = r.u16();
    msg.question.push({ name, type, class: klass });
  }
  for (let i = 0; i < h.ancount; i++) msg.answer.push(readRR(r));
  for (let i = 0; i < h.nscount; i++) msg.authority.push(readRR(r));
  for (let i = 0; i < h.arcount; i++) {
    const start = r.pos;
    const rr = readRR(r);
    if (rr.type === RRType.OPT) {
      if (msg.edns) throw new DecodeError('format', 'more than one OPT record', start);
      if (!rr.name.isRoot()) throw new DecodeError('format', 'OPT owner is not the root', start);
      msg.edns = decodeOpt(rr);
      msg.rcode |= msg.edns.extRcode << 4;
    } else {
      if (rr.type === RRType.TSIG) {
        if (i !== h.arcount - 1) throw new DecodeError('format', 'TSIG is not the last record', start);
        msg.tsigOffset = start;
      }
      msg.additional.push(rr);
    }
  }
  if (r.pos !== buf.length) throw new DecodeError('trailing', `${buf.length - r.pos} octets after the last record`, r.pos);
  return msg;
}

function decodeOpt(rr: RR): Edns {
  const options: EdnsOption[] = [];
  const r = new WireReader(rr.rdata);
  while (r.remaining > 0) {
    const code = r.u16();
    const len = r.u16();
    options.push({ code, data: r.bytes(len).slice() });
  }
  const ttl = rr.ttl;
  return {
    udpSize: rr.class,
    extRcode: (ttl >>> 24) & 0xff,
    version: (ttl >>> 16) & 0xff,
    do: (ttl & 0x8000) !== 0,
    flags: ttl & 0x7fff,
    options,
  };
}

export function encodeOpt(edns: Edns, fullRcode: number): RR {
  const w = new WireWriter(64, false);
  for (const o of edns.options) {
    w.u16(o.code);
    w.u16(o.data.length);
    w.bytes(o.data);
  }
  const ext = (fullRcode >>> 4) & 0xff;
  const ttl = ((ext << 24) | ((edns.version & 0xff) << 16) | (edns.do ? 0x8000 : 0) | (edns.flags & 0x7fff)) >>> 0;
  return { name: Name.root, type: RRType.OPT, class: Math.max(512, edns.udpSize), ttl, rdata: w.finish() };
}

export function writeHeader(w: WireWriter, m: Header, counts: [number, number, number, number]): void {
  w.u16(m.id);
  const f =
    (m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.aa ? 0x0400 : 0) | (m.tc ? 0x0200 : 0) | (m.rd ? 0x0100 : 0) |
    (m.ra ? 0x0080 : 0) | (m.z ? 0x0040 : 0) | (m.ad ? 0x0020 : 0) | (m.cd ? 0x0010 : 0) | (m.rcode & 0xf);
  w.u16(f);
  for (const c of counts) w.u16(c);
}

export function writeRR(w: WireWriter, rr: RR): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl >>> 0);
  const lenAt = w.pos;
  w.u16(0);
  const start = w.pos;
  if (rr.rdata.length > 0) writeRdata(rr.type, rr.rdata, w);
  w.setU16(lenAt, w.pos - start);
}

export interface EncodeOptions {
  /** Maximum message size; when the answer or authority section does not fit, TC is set and sections are emptied. */
  maxSize?: number;
  /** Compress names (default true). */
  compress?: boolean;
  /**
   * When additional records do not fit, drop them silently (default) or treat as truncation. `tcOnAdditional`
   * names a predicate for records whose omission must set TC (e.g. in-bailiwick glue for a referral, RFC 9471).
   */
  requiredAdditional?: (rr: RR) => boolean;
}

/**
 * Encode a message. With `maxSize`, answers that do not fit are truncated (TC set, answer/authority/additional
 * emptied except OPT). OPT (from `m.edns`) is always written when present and carries the extended RCODE.
 */
export function encodeMessage(m: Message, opts: EncodeOptions = {}): Uint8Array {
  const max = opts.maxSize ?? 65535;
  const w = new WireWriter(Math.min(max, 4096), opts.compress !== false);
  const opt = m.edns ? encodeOpt(m.edns, m.rcode) : undefined;
  const optSize = opt ? 11 + opt.rdata.length : 0;
  const budget = max - optSize;
  writeHeader(w, m, [0, 0, 0, 0]);
  for (const q of m.question) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  const afterQuestion = w.pos;
  let tc = m.tc;
  const counts = [m.question.length, 0, 0, 0] as [number, number, number, number];
  const sections: [RR[], 1 | 2 | 3][] = [
    [m.answer, 1],
    [m.authority, 2],
    [m.additional, 3],
  ];
  outer: for (const [rrs, idx] of sections) {
    for (const rr of rrs) {
      const before = w.pos;
      writeRR(w, rr);
      if (w.pos > budget) {
        w.truncate(before);
        if (idx === 3 && !(opts.requiredAdditional?.(rr) ?? false)) continue;
        // Truncation: drop everything after the question (RFC 2181 §9 / RFC 6891 §7).
        tc = true;
        w.truncate(afterQuestion);
        counts[1] = counts[2] = counts[3] = 0;
        break outer;
      }
      counts[idx]++;
    }
  }
  if (opt) {
    writeRR(w, opt);
    counts[3]++;
  }
  const end = w.pos;
  w.pos = 0;
  writeHeader(w, { ...m, tc }, counts);
  w.pos = end;
  return w.finish();
}

/** EDNS NSID (RFC 5001): asked for with an empty option; the answer's holds the server's identifier. */
export const NSID_OPTION = 3;

/** EDNS EXPIRE (RFC 7314): asked for with an empty option in a SOA, AXFR or IXFR query. */
export const EXPIRE_OPTION = 9;

/** edns-tcp-keepalive (RFC 7828): a client over TCP says it takes one; the answer's holds the idle timeout in 100 ms. */
export const TCP_KEEPALIVE_OPTION = 11;

/** The EXPIRE option of a primary's answer: the zone's SOA EXPIRE (RFC 7314 §3), from the SOA's RDATA. */
export function expireOption(soa: RR): EdnsOption {
  const r = soa.rdata;
  return { code: EXPIRE_OPTION, data: r.slice(r.length - 8, r.length - 4) };
}

/**
 * The OPT of an answer to a request (RFC 6891 §7: a request with an OPT gets one back) that is not built by the
 * query path: our UDP size, the DO bit echoed, and EXPIRE when the request asked for it and the zone's `soa` is
 * given. Undefined when the request had no OPT.
 */
export function answerEdns(req: Message, udpSize: number, soa?: RR): Edns | undefined {
  const e = req.edns;
  if (!e) return undefined;
  const options = soa !== undefined && e.options.some((o) => o.code === EXPIRE_OPTION) ? [expireOption(soa)] : [];
  return { udpSize, extRcode: 0, version: 0, do: e.do, flags: 0, options };
}
