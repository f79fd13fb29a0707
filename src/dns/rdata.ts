// RDATA codecs. One internal form for every type: uncompressed wire bytes. This module converts between that form
// and (a) the wire, with decompression/compression of embedded names, and (b) presentation text.
//
// PROVISIONAL minimal implementation (A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA, TXT, RFC 3597 generic) that fixes the
// API; the full per-type descriptor table replaces the internals.

import { COMPRESSIBLE_TYPES, RRType } from './constants.js';
import { DecodeError, TextError } from './errors.js';
import { Name } from './name.js';
import { WireReader, type WireWriter } from './wire.js';

/** A presentation-format token from the zone-file lexer: raw text (escapes NOT processed) and whether it was quoted. */
export interface Token {
  text: string;
  quoted: boolean;
}

/** Read RDATA of `len` octets at r.pos (r spans the whole message so pointers resolve); returns uncompressed bytes. */
export function readRdata(type: number, r: WireReader, len: number): Uint8Array {
  const end = r.pos + len;
  r.need(len);
  switch (type) {
    case RRType.NS: case RRType.CNAME: case RRType.PTR: case RRType.DNAME: {
      const sub = new WireReader(r.buf, r.pos, end);
      const n = sub.name();
      if (sub.pos !== end) throw new DecodeError('rdata', 'RDATA length mismatch', r.pos);
      r.pos = end;
      return n.toWire();
    }
    case RRType.MX: {
      const sub = new WireReader(r.buf, r.pos, end);
      const pref = sub.u16();
      const n = sub.name();
      if (sub.pos !== end) throw new DecodeError('rdata', 'RDATA length mismatch', r.pos);
      r.pos = end;
      const nw = n.toWire();
      const out = new Uint8Array(2 + nw.length);
      out[0] = pref >> 8; out[1] = pref & 0xff; out.set(nw, 2);
      return out;
    }
    case RRType.SOA: {
      const sub = new WireReader(r.buf, r.pos, end);
      const a = sub.name().toWire();
      const b = sub.name().toWire();
      const rest = sub.bytes(20);
      if (sub.pos !== end) throw new DecodeError('rdata', 'RDATA length mismatch', r.pos);
      r.pos = end;
      const out = new Uint8Array(a.length + b.length + 20);
      out.set(a, 0); out.set(b, a.length); out.set(rest, a.length + b.length);
      return out;
    }
    default: {
      if (type === RRType.A && len !== 4) throw new DecodeError('rdata', 'A RDATA is not 4 octets', r.pos);
      if (type === RRType.AAAA && len !== 16) throw new DecodeError('rdata', 'AAAA RDATA is not 16 octets', r.pos);
      return r.bytes(len).slice();
    }
  }
}

/** Write RDATA (internal form) to the wire, compressing names only for the RFC 1035 well-known types. */
export function writeRdata(type: number, rdata: Uint8Array, w: WireWriter): void {
  if (!COMPRESSIBLE_TYPES.has(type)) {
    w.bytes(rdata);
    return;
  }
  const r = new WireReader(rdata);
  switch (type) {
    case RRType.MX:
      w.u16(r.u16());
      w.name(r.name());
      return;
    case RRType.SOA:
      w.name(r.name());
      w.name(r.name());
      w.bytes(r.bytes(20));
      return;
    default:
      w.name(r.name());
  }
}

/** The names embedded in RDATA that additional-section processing or chasing needs (NS/MX/SRV targets, CNAME...). */
export function rdataTargetName(type: number, rdata: Uint8Array): Name | undefined {
  const r = new WireReader(rdata);
  switch (type) {
    case RRType.NS: case RRType.CNAME: case RRType.PTR: case RRType.DNAME:
      return r.name();
    case RRType.MX: case RRType.KX:
      r.u16();
      return r.name();
    case RRType.SRV:
      r.u16(); r.u16(); r.u16();
      return r.name();
    default:
      return undefined;
  }
}

function u16(n: number): number[] { return [n >> 8, n & 0xff]; }
function u32(n: number): number[] { return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]; }

export function rdataFromText(type: number, tokens: Token[], origin: Name): Uint8Array {
  if (tokens.length >= 1 && tokens[0].text === '\\#' && !tokens[0].quoted) {
    const len = Number(tokens[1]?.text);
    if (!Number.isInteger(len) || len < 0 || len > 65535) throw new TextError('bad RFC 3597 length', 1);
    const hex = tokens.slice(2).map((t) => t.text).join('');
    if (hex.length !== len * 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TextError('RFC 3597 data does not match length', 2);
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  const t = (i: number): string => {
    const tok = tokens[i];
    if (!tok) throw new TextError('missing RDATA field', i);
    return tok.text;
  };
  switch (type) {
    case RRType.A: {
      const p = t(0).split('.');
      if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) throw new TextError('bad IPv4 address', 0);
      return Uint8Array.from(p.map(Number));
    }
    case RRType.NS: case RRType.CNAME: case RRType.PTR: case RRType.DNAME:
      return Name.parse(t(0), origin).toWire();
    case RRType.MX:
      return Uint8Array.from([...u16(Number(t(0))), ...Name.parse(t(1), origin).toWire()]);
    case RRType.SOA: {
      const nums = [2, 3, 4, 5, 6].map((i) => Number(t(i)));
      return Uint8Array.from([
        ...Name.parse(t(0), origin).toWire(), ...Name.parse(t(1), origin).toWire(), ...nums.flatMap(u32),
      ]);
    }
    case RRType.TXT: {
      const out: number[] = [];
      for (const tok of tokens) {
        const b = Buffer.from(tok.text, 'latin1');
        out.push(b.length, ...b);
      }
      return Uint8Array.from(out);
    }
    default:
      throw new TextError(`type ${type} presentation parsing not implemented yet`, 0);
  }
}

export function rdataToText(type: number, rdata: Uint8Array, origin?: Name): string {
  const r = new WireReader(rdata);
  const nm = (n: Name) => (origin ? n.toRelativeString(origin) : n.toString());
  switch (type) {
    case RRType.A:
      return Array.from(rdata).join('.');
    case RRType.NS: case RRType.CNAME: case RRType.PTR: case RRType.DNAME:
      return nm(r.name());
    case RRType.MX:
      return `${r.u16()} ${nm(r.name())}`;
    case RRType.SOA:
      return `${nm(r.name())} ${nm(r.name())} ${r.u32()} ${r.u32()} ${r.u32()} ${r.u32()} ${r.u32()}`;
    default:
      return `\\# ${rdata.length}${rdata.length ? ` ${Buffer.from(rdata).toString('hex')}` : ''}`;
  }
}

/** RFC 4034 §6.2 canonical RDATA (names lower-cased for the listed types). */
export function canonicalRdata(type: number, rdata: Uint8Array): Uint8Array {
  return rdata;
}
