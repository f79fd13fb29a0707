// Field codecs with structure of their own: LOC (RFC 1876), SVCB/HTTPS SvcParams (RFC 9460), APL (RFC 3123),
// IPSECKEY gateway (RFC 4025), AMTRELAY relay (RFC 8777), CAA tag (RFC 8659), HIP (RFC 8005), EUI48/EUI64 (RFC 7043),
// ILNP locators (RFC 6742).

import { TextError } from '../errors.js';
import type { Name } from '../name.js';
import { type WireReader, WireWriter } from '../wire.js';
import { bad, type Field, fixedSize, parseName, printName, readName, writeName } from './fields.js';
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from '../address.js';
import {
  atToken,
  type Cursor,
  escapeString,
  fromBase64,
  fromHex,
  parseUint,
  toBase64,
  toHex,
  unescapeString,
} from './text.js';

// --- LOC ----------------------------------------------------------------------------------------------------------

const LOC_EQUATOR = 2 ** 31;
const LOC_ALT_BASE = 10_000_000; // altitude is stored in cm above -100000 m
const MAX_LAT = 90 * 3_600_000;
const MAX_LON = 180 * 3_600_000;

function precisionOk(b: number): boolean {
  const m = b >> 4;
  const e = b & 0xf;
  return m <= 9 && e <= 9 && (m !== 0 || e === 0);
}

/** BIND's rendering of a precision byte: whole metres from 1 m up, else "0.xx" metres. */
function precisionToText(b: number): string {
  const m = b >> 4;
  const e = b & 0xf;
  return e >= 2 ? `${m}${'0'.repeat(e - 2)}m` : `0.${String(m * 10 ** e).padStart(2, '0')}m`;
}

/** Centimetres to the RFC 1876 mantissa/exponent byte (rounding down to one significant digit). */
function cmToPrecision(cm: number): number {
  let e = 0;
  while (cm >= 10 && e < 9) {
    cm = Math.floor(cm / 10);
    e++;
  }
  return (Math.min(cm, 9) << 4) | e;
}

/** "12", "12.5", "-3.25" optionally followed by "m", as centimetres. */
function metresToCm(text: string, allowNegative: boolean): number | undefined {
  const m = (allowNegative ? /^(-?)([0-9]{1,9})(?:\.([0-9]{1,2}))?m?$/ : /^()([0-9]{1,9})(?:\.([0-9]{1,2}))?m?$/).exec(text);
  if (!m) return undefined;
  const cm = Number(m[2]) * 100 + Number((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -cm : cm;
}

function printAngle(v: number, pos: string, neg: string): string {
  let off = v - LOC_EQUATOR;
  const h = off < 0 ? neg : pos;
  off = Math.abs(off);
  const ms = off % 1000;
  off = Math.floor(off / 1000);
  const s = off % 60;
  off = Math.floor(off / 60);
  const m = off % 60;
  const d = Math.floor(off / 60);
  return `${d} ${m} ${s}.${String(ms).padStart(3, '0')} ${h}`;
}

function parseAngle(cur: Cursor, maxDeg: number, pos: string, neg: string, what: string): number {
  const dt = cur.next(`${what} degrees`);
  const d = parseUint(dt.text, maxDeg);
  if (d === undefined) cur.fail(`bad ${what} degrees "${dt.text}" (0..${maxDeg})`);
  let m = 0;
  let ms = 0;
  let t = cur.next(`${what} hemisphere`);
  if (/^[0-9]+$/.test(t.text)) {
    const v = parseUint(t.text, 59);
    if (v === undefined) cur.fail(`bad ${what} minutes "${t.text}" (0..59)`);
    m = v;
    t = cur.next(`${what} hemisphere`);
    const sm = /^([0-9]{1,2})(?:\.([0-9]{1,3}))?$/.exec(t.text);
    if (sm) {
      const s = Number(sm[1]);
      if (s > 59) cur.fail(`bad ${what} seconds "${t.text}" (0..59.999)`);
      ms = s * 1000 + Number((sm[2] ?? '').padEnd(3, '0'));
      t = cur.next(`${what} hemisphere`);
    }
  }
  const h = t.text.toUpperCase();
  if (h !== pos && h !== neg) cur.fail(`expected ${pos} or ${neg}, got "${t.text}"`);
  const off = ((d * 60 + m) * 60) * 1000 + ms;
  if (off > maxDeg * 3_600_000) cur.fail(`${what} beyond ${maxDeg} degrees`);
  return h === pos ? LOC_EQUATOR + off : LOC_EQUATOR - off;
}

export const locField: Field = {
  kind: 'loc',
  label: 'location',
  copy(src, out) {
    const at = src.pos;
    const b = src.bytes(16);
    if (b[0] !== 0) bad(src, `LOC version ${b[0]} is not supported`, at);
    for (let i = 1; i <= 3; i++) if (!precisionOk(b[i])) bad(src, 'LOC size/precision is not a valid mantissa/exponent', at + i);
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    if (Math.abs(dv.getUint32(4) - LOC_EQUATOR) > MAX_LAT) bad(src, 'LOC latitude beyond 90 degrees', at + 4);
    if (Math.abs(dv.getUint32(8) - LOC_EQUATOR) > MAX_LON) bad(src, 'LOC longitude beyond 180 degrees', at + 8);
    out.bytes(b);
  },
  parse(cur: Cursor, out: WireWriter) {
    const lat = parseAngle(cur, 90, 'N', 'S', 'latitude');
    const lon = parseAngle(cur, 180, 'E', 'W', 'longitude');
    const at = cur.next('altitude');
    const alt = metresToCm(at.text, true);
    if (alt === undefined || alt < -LOC_ALT_BASE || alt + LOC_ALT_BASE > 0xffffffff) cur.fail(`bad altitude "${at.text}"`);
    const prec = [100, 1_000_000, 1000]; // defaults: size 1m, horizontal 10000m, vertical 10m
    const names = ['size', 'horizontal precision', 'vertical precision'];
    for (let i = 0; i < 3 && !cur.done; i++) {
      const t = cur.next(names[i]);
      const v = metresToCm(t.text, false);
      if (v === undefined || v > 9e9) cur.fail(`bad ${names[i]} "${t.text}" (0..90000000m)`);
      prec[i] = v;
    }
    out.u8(0);
    for (const p of prec) out.u8(cmToPrecision(p));
    out.u32(lat);
    out.u32(lon);
    out.u32(alt + LOC_ALT_BASE);
  },
  print(src) {
    const b = src.bytes(16);
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    const alt = dv.getUint32(12) - LOC_ALT_BASE;
    const altText = `${alt < 0 ? '-' : ''}${Math.floor(Math.abs(alt) / 100)}.${String(Math.abs(alt) % 100).padStart(2, '0')}m`;
    return [
      printAngle(dv.getUint32(4), 'N', 'S'),
      printAngle(dv.getUint32(8), 'E', 'W'),
      altText,
      precisionToText(b[1]),
      precisionToText(b[2]),
      precisionToText(b[3]),
    ].join(' ');
  },
};

// --- SVCB / HTTPS SvcParams ---------------------------------------------------------------------------------------

export const SVC_KEYS: Readonly<Record<string, number>> = {
  mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7, ohttp: 8,
};
const svcKeyNames = new Map(Object.entries(SVC_KEYS).map(([k, v]) => [v, k]));

export function svcKeyToString(k: number): string {
  return svcKeyNames.get(k) ?? `key${k}`;
}

function svcKeyFromString(s: string): number | undefined {
  const lower = s.toLowerCase();
  if (Object.hasOwn(SVC_KEYS, lower)) return SVC_KEYS[lower];
  const m = /^key([0-9]{1,5})$/i.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v < 65535 ? v : undefined; // 65535 is reserved ("Invalid key")
}

/** Validate one SvcParam value; returns an error message or undefined. */
function svcValueError(key: number, v: Uint8Array): string | undefined {
  switch (key) {
    case 0: {
      if (v.length === 0 || v.length % 2 !== 0) return 'mandatory needs a non-empty list of 16-bit keys';
      let last = -1;
      for (let i = 0; i < v.length; i += 2) {
        const k = (v[i] << 8) | v[i + 1];
        if (k === 0) return 'mandatory must not list itself';
        if (k <= last) return 'mandatory keys must be in strictly increasing order';
        last = k;
      }
      return undefined;
    }
    case 1: {
      if (v.length === 0) return 'alpn needs at least one protocol id';
      let i = 0;
      while (i < v.length) {
        const n = v[i];
        if (n === 0) return 'alpn protocol id is empty';
        i += 1 + n;
      }
      return i === v.length ? undefined : 'alpn protocol id runs past its value';
    }
    case 2:
    case 8:
      return v.length === 0 ? undefined : `${svcKeyToString(key)} takes no value`;
    case 3:
      return v.length === 2 ? undefined : 'port must be 2 octets';
    case 4:
      return v.length > 0 && v.length % 4 === 0 ? undefined : 'ipv4hint needs one or more IPv4 addresses';
    case 5:
      return undefined; // BIND accepts and serves an empty ech; so do we
    case 6:
      return v.length > 0 && v.length % 16 === 0 ? undefined : 'ipv6hint needs one or more IPv6 addresses';
    case 7:
      return v.length > 0 ? undefined : 'dohpath needs a value';
    case 65535:
      return 'key65535 is reserved';
    default:
      return undefined;
  }
}

/** Split an RFC 9460 Appendix A value-list on unescaped commas, removing the list-level `\,` and `\\` escapes. */
function splitValueList(b: Uint8Array): Uint8Array[] {
  const items: number[][] = [[]];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && i + 1 < b.length) items[items.length - 1].push(b[++i]);
    else if (b[i] === 0x2c) items.push([]);
    else items[items.length - 1].push(b[i]);
  }
  return items.map((x) => Uint8Array.from(x));
}

function svcValueFromText(key: number, raw: Uint8Array, text: string): Uint8Array {
  const s = Buffer.from(raw).toString('latin1');
  const w = new WireWriter(64, false);
  switch (key) {
    case 0: {
      const keys = s.split(',').map((k) => {
        const v = svcKeyFromString(k);
        if (v === undefined) throw new TextError(`unknown key "${k}" in mandatory`);
        return v;
      });
      keys.sort((a, b) => a - b);
      for (let i = 1; i < keys.length; i++) if (keys[i] === keys[i - 1]) throw new TextError('duplicate key in mandatory');
      for (const k of keys) w.u16(k);
      break;
    }
    case 1:
      for (const id of splitValueList(raw)) {
        if (id.length === 0 || id.length > 255) throw new TextError(`bad alpn protocol id in "${text}"`);
        w.u8(id.length);
        w.bytes(id);
      }
      break;
    case 3: {
      const v = parseUint(s, 0xffff);
      if (v === undefined) throw new TextError(`bad port "${s}"`);
      w.u16(v);
      break;
    }
    case 4:
      for (const a of s.split(',')) {
        const b = parseIpv4(a);
        if (!b) throw new TextError(`bad IPv4 address "${a}" in ipv4hint`);
        w.bytes(b);
      }
      break;
    case 5: {
      const b = s === '' ? new Uint8Array(0) : fromBase64(s);
      if (!b) throw new TextError('bad base64 in ech');
      w.bytes(b);
      break;
    }
    case 6:
      for (const a of s.split(',')) {
        const b = parseIpv6(a);
        if (!b) throw new TextError(`bad IPv6 address "${a}" in ipv6hint`);
        w.bytes(b);
      }
      break;
    default:
      w.bytes(raw);
  }
  return w.finish();
}

function escapeValueListItem(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const c of b) {
    if (c === 0x2c || c === 0x5c) out.push(0x5c);
    out.push(c);
  }
  return Uint8Array.from(out);
}

function svcValueToText(key: number, v: Uint8Array): string {
  switch (key) {
    case 0: {
      const ks: string[] = [];
      for (let i = 0; i < v.length; i += 2) ks.push(svcKeyToString((v[i] << 8) | v[i + 1]));
      return ks.join(',');
    }
    case 1: {
      const ids: string[] = [];
      for (let i = 0; i < v.length; i += 1 + v[i]) ids.push(escapeString(escapeValueListItem(v.subarray(i + 1, i + 1 + v[i]))));
      return `"${ids.join(',')}"`;
    }
    case 3:
      return String((v[0] << 8) | v[1]);
    case 4: {
      const a: string[] = [];
      for (let i = 0; i < v.length; i += 4) a.push(ipv4ToString(v, i));
      return a.join(',');
    }
    case 5:
      return toBase64(v);
    case 6: {
      const a: string[] = [];
      for (let i = 0; i < v.length; i += 16) a.push(ipv6ToString(v, i));
      return a.join(',');
    }
    default:
      return `"${escapeString(v)}"`;
  }
}

/** Walk wire SvcParams: keys strictly increasing, values valid, mandatory keys present. */
function walkSvcParams(src: WireReader, each: (key: number, value: Uint8Array) => void): void {
  let last = -1;
  const seen = new Set<number>();
  let mandatory: Uint8Array | undefined;
  let mandatoryAt = 0;
  while (src.pos < src.end) {
    const at = src.pos;
    const key = src.u16();
    const len = src.u16();
    const value = src.bytes(len);
    if (key <= last) bad(src, 'SvcParam keys not in strictly increasing order', at);
    const err = svcValueError(key, value);
    if (err) bad(src, err, at);
    if (key === 0) {
      mandatory = value;
      mandatoryAt = at;
    }
    seen.add(key);
    last = key;
    each(key, value);
  }
  if (mandatory)
    for (let i = 0; i < mandatory.length; i += 2) {
      const k = (mandatory[i] << 8) | mandatory[i + 1];
      if (!seen.has(k)) bad(src, `mandatory key ${svcKeyToString(k)} is missing`, mandatoryAt);
    }
  // RFC 9460 §7.1.1: no-default-alpn without alpn is not self-consistent; BIND refuses it as well.
  if (seen.has(2) && !seen.has(1)) bad(src, 'no-default-alpn needs alpn as well');
}

export const svcParamsField: Field = {
  kind: 'svcparams',
  label: 'SvcParams',
  copy(src, out) {
    const start = src.pos;
    walkSvcParams(src, () => {});
    out.bytes(src.buf.subarray(start, src.pos));
  },
  parse(cur: Cursor, out: WireWriter) {
    const params = new Map<number, Uint8Array>();
    while (!cur.done) {
      const at = cur.i;
      const t = cur.next('SvcParam');
      const eq = t.text.indexOf('=');
      const keyText = eq < 0 ? t.text : t.text.slice(0, eq);
      const key = svcKeyFromString(keyText);
      if (key === undefined) cur.fail(`unknown SvcParam key "${keyText}"`);
      if (params.has(key)) cur.fail(`duplicate SvcParam key "${keyText}"`);
      let rawText: string | undefined;
      if (eq >= 0) {
        rawText = t.text.slice(eq + 1);
        // A lexer may keep `key="a b"` in one token with the quotes, or split `key=` from a quoted next token.
        if (rawText.length >= 2 && rawText.startsWith('"') && rawText.endsWith('"')) rawText = rawText.slice(1, -1);
        else if (rawText === '' && cur.peek()?.quoted) rawText = cur.next('SvcParam value').text;
      }
      const raw = rawText === undefined ? new Uint8Array(0) : atToken(cur.i - 1, () => unescapeString(rawText));
      const value = rawText === undefined || (raw.length === 0 && (key === 2 || key === 8)) ? raw : atToken(at, () => svcValueFromText(key, raw, rawText));
      const err = svcValueError(key, value);
      if (err) throw new TextError(err, at);
      params.set(key, value);
    }
    const keys = [...params.keys()].sort((a, b) => a - b);
    // RFC 9460 §7.1.1: a zone's RR with no-default-alpn must also have alpn (BIND refuses it too).
    if (params.has(2) && !params.has(1)) throw new TextError('no-default-alpn needs alpn as well', cur.i - 1);
    const mandatory = params.get(0);
    if (mandatory)
      for (let i = 0; i < mandatory.length; i += 2) {
        const k = (mandatory[i] << 8) | mandatory[i + 1];
        if (!params.has(k)) throw new TextError(`mandatory key ${svcKeyToString(k)} is missing`, cur.i - 1);
      }
    for (const k of keys) {
      const v = params.get(k)!;
      out.u16(k);
      out.u16(v.length);
      out.bytes(v);
    }
  },
  print(src) {
    const parts: string[] = [];
    walkSvcParams(src, (k, v) => {
      parts.push(v.length === 0 ? svcKeyToString(k) : `${svcKeyToString(k)}=${svcValueToText(k, v)}`);
    });
    return parts.join(' ');
  },
};

// --- APL ----------------------------------------------------------------------------------------------------------

function walkApl(src: WireReader, each: (family: number, prefix: number, neg: boolean, addr: Uint8Array) => void): void {
  while (src.pos < src.end) {
    const at = src.pos;
    const family = src.u16();
    const prefix = src.u8();
    const nl = src.u8();
    const len = nl & 0x7f;
    const addr = src.bytes(len);
    const size = family === 1 ? 4 : family === 2 ? 16 : 0;
    if (size === 0) bad(src, `APL address family ${family} is not supported`, at);
    if (prefix > size * 8) bad(src, `APL prefix ${prefix} too long for family ${family}`, at);
    if (len > size) bad(src, `APL address part longer than ${size} octets`, at);
    if (len > 0 && addr[len - 1] === 0) bad(src, 'APL address part has trailing zero octets', at);
    each(family, prefix, (nl & 0x80) !== 0, addr);
  }
}

export const aplField: Field = {
  kind: 'apl',
  label: 'address prefix list',
  copy(src, out) {
    const start = src.pos;
    walkApl(src, () => {});
    out.bytes(src.buf.subarray(start, src.pos));
  },
  parse(cur: Cursor, out: WireWriter) {
    while (!cur.done) {
      const t = cur.next('APL item');
      const m = /^(!?)([12]):([^/]+)\/([0-9]{1,3})$/.exec(t.text);
      if (!m) cur.fail(`bad APL item "${t.text}" (expected [!]afi:address/prefix)`);
      const family = Number(m[2]);
      const addr = family === 1 ? parseIpv4(m[3]) : parseIpv6(m[3]);
      const prefix = Number(m[4]);
      if (!addr) cur.fail(`bad address in APL item "${t.text}"`);
      if (prefix > addr.length * 8) cur.fail(`prefix too long in APL item "${t.text}"`);
      let len = addr.length;
      while (len > 0 && addr[len - 1] === 0) len--;
      out.u16(family);
      out.u8(prefix);
      out.u8((m[1] ? 0x80 : 0) | len);
      out.bytes(addr.subarray(0, len));
    }
  },
  print(src) {
    const items: string[] = [];
    walkApl(src, (family, prefix, neg, part) => {
      const full = new Uint8Array(family === 1 ? 4 : 16);
      full.set(part);
      items.push(`${neg ? '!' : ''}${family}:${family === 1 ? ipv4ToString(full) : ipv6ToString(full)}/${prefix}`);
    });
    return items.join(' ');
  },
};

// --- IPSECKEY gateway and AMTRELAY relay ----------------------------------------------------------------------------

function copyGateway(src: WireReader, out: WireWriter, gwType: number, at: number): void {
  switch (gwType) {
    case 0:
      return;
    case 1:
      out.bytes(src.bytes(4));
      return;
    case 2:
      out.bytes(src.bytes(16));
      return;
    case 3:
      out.bytes(readName(src, false).toWire());
      return;
    default:
      bad(src, `gateway type ${gwType} is not defined`, at);
  }
}

function parseGateway(cur: Cursor, out: WireWriter, gwType: number, origin: Name): void {
  const t = cur.peek();
  switch (gwType) {
    case 0:
      cur.next('gateway');
      if (t?.text !== '.') cur.fail('gateway type 0 needs "." as gateway');
      return;
    case 1: {
      cur.next('gateway');
      const a = parseIpv4(t!.text);
      if (!a) cur.fail(`bad IPv4 gateway "${t!.text}"`);
      out.bytes(a);
      return;
    }
    case 2: {
      cur.next('gateway');
      const a = parseIpv6(t!.text);
      if (!a) cur.fail(`bad IPv6 gateway "${t!.text}"`);
      out.bytes(a);
      return;
    }
    default:
      out.bytes(parseName(cur, origin, 'gateway').toWire());
  }
}

function printGateway(src: WireReader, gwType: number, origin: Name | undefined): string {
  switch (gwType) {
    case 0:
      return '.';
    case 1:
      return ipv4ToString(src.bytes(4));
    case 2:
      return ipv6ToString(src.bytes(16));
    default:
      return printName(src.name(), origin);
  }
}

/** IPSECKEY: gateway type, algorithm, gateway (its form depends on the gateway type). */
export const ipseckeyGateway: Field = {
  kind: 'ipseckeyGateway',
  label: 'gateway',
  copy(src, out) {
    const at = src.pos;
    const gwType = src.u8();
    out.u8(gwType);
    out.u8(src.u8());
    copyGateway(src, out, gwType, at);
  },
  parse(cur: Cursor, out: WireWriter, origin: Name) {
    const tt = cur.next('gateway type');
    const gwType = parseUint(tt.text, 3);
    if (gwType === undefined) cur.fail(`bad gateway type "${tt.text}" (0..3)`);
    const at = cur.next('algorithm');
    const alg = parseUint(at.text, 255);
    if (alg === undefined) cur.fail(`bad algorithm "${at.text}"`);
    out.u8(gwType);
    out.u8(alg);
    parseGateway(cur, out, gwType, origin);
  },
  print(src, origin) {
    const gwType = src.u8();
    const alg = src.u8();
    return `${gwType} ${alg} ${printGateway(src, gwType, origin)}`;
  },
};

/** AMTRELAY: discovery-optional bit and relay type in one octet, then the relay. */
export const amtRelay: Field = {
  kind: 'amtRelay',
  label: 'relay',
  copy(src, out) {
    const at = src.pos;
    const dt = src.u8();
    out.u8(dt);
    copyGateway(src, out, dt & 0x7f, at);
  },
  parse(cur: Cursor, out: WireWriter, origin: Name) {
    const dTok = cur.next('discovery optional');
    if (dTok.text !== '0' && dTok.text !== '1') cur.fail(`bad discovery-optional flag "${dTok.text}" (0 or 1)`);
    const tt = cur.next('relay type');
    const rType = parseUint(tt.text, 3);
    if (rType === undefined) cur.fail(`bad relay type "${tt.text}" (0..3)`);
    out.u8((dTok.text === '1' ? 0x80 : 0) | rType);
    parseGateway(cur, out, rType, origin);
  },
  print(src, origin) {
    const dt = src.u8();
    return `${dt >> 7} ${dt & 0x7f} ${printGateway(src, dt & 0x7f, origin)}`;
  },
};

// --- CAA tag --------------------------------------------------------------------------------------------------------

export const caaTag: Field = {
  kind: 'caaTag',
  label: 'tag',
  copy(src, out) {
    const at = src.pos;
    const n = src.u8();
    const tag = src.bytes(n);
    if (n === 0 || !/^[A-Za-z0-9]+$/.test(Buffer.from(tag).toString('latin1'))) bad(src, 'CAA tag must be 1..255 letters and digits', at);
    out.u8(n);
    out.bytes(tag);
  },
  parse(cur: Cursor, out: WireWriter) {
    const t = cur.next('tag');
    if (!/^[A-Za-z0-9]{1,255}$/.test(t.text)) cur.fail(`bad CAA tag "${t.text}" (letters and digits)`);
    out.u8(t.text.length);
    out.bytes(Buffer.from(t.text, 'latin1'));
  },
  print(src) {
    return Buffer.from(src.bytes(src.u8())).toString('latin1');
  },
};

// --- HIP ----------------------------------------------------------------------------------------------------------

/** HIP (RFC 8005): HIT length, PK algorithm, PK length, HIT, PK, rendezvous servers; text "alg hit pk rvs...". */
export const hipField: Field = {
  kind: 'hip',
  label: 'host identity',
  copy(src, out, ctx) {
    const at = src.pos;
    const hitLen = src.u8();
    const alg = src.u8();
    const pkLen = src.u16();
    if (hitLen === 0) bad(src, 'HIP HIT is empty', at);
    if (pkLen === 0) bad(src, 'HIP public key is empty', at);
    out.u8(hitLen);
    out.u8(alg);
    out.u16(pkLen);
    out.bytes(src.bytes(hitLen));
    out.bytes(src.bytes(pkLen));
    while (src.pos < src.end) writeName(out, readName(src, false), ctx);
  },
  parse(cur: Cursor, out: WireWriter, origin: Name) {
    const at = cur.next('PK algorithm');
    const alg = parseUint(at.text, 255);
    if (alg === undefined) cur.fail(`bad PK algorithm "${at.text}"`);
    const ht = cur.next('HIT');
    const hit = fromHex(ht.text);
    if (!hit || hit.length === 0 || hit.length > 255) cur.fail(`bad HIT "${ht.text}" (hex, 1..255 octets)`);
    const pt = cur.next('public key');
    const pk = fromBase64(pt.text);
    if (!pk || pk.length === 0) cur.fail('bad base64 public key');
    out.u8(hit.length);
    out.u8(alg);
    out.u16(pk.length);
    out.bytes(hit);
    out.bytes(pk);
    while (!cur.done) out.bytes(parseName(cur, origin, 'rendezvous server').toWire());
  },
  print(src, origin) {
    const hitLen = src.u8();
    const alg = src.u8();
    const pkLen = src.u16();
    const parts = [String(alg), toHex(src.bytes(hitLen)), toBase64(src.bytes(pkLen))];
    while (src.pos < src.end) parts.push(printName(src.name(), origin));
    return parts.join(' ');
  },
};

// --- EUI48 / EUI64 and ILNP 64-bit values ---------------------------------------------------------------------------

export function euiField(size: 6 | 8): Field {
  const re = new RegExp(`^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){${size - 1}}$`);
  return fixedSize(
    `eui${size * 8}`,
    'address',
    size,
    'address',
    (text) => (re.test(text) ? fromHex(text.replaceAll('-', '')) : undefined),
    (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('-'),
    (text) => `bad EUI-${size * 8} "${text}" (xx-xx-...)`,
  );
}

/**
 * NID / L64 64-bit value as four colon-separated groups of 4 hex digits (RFC 6742). Not a `fixedSize` field: its text
 * is written group by group straight to the output, where `fixedSize` would need the octets in a new array first.
 */
export const ilnp64: Field = {
  kind: 'ilnp64',
  label: 'locator',
  copy(src, out) {
    out.bytes(src.bytes(8));
  },
  parse(cur: Cursor, out: WireWriter) {
    const t = cur.next('64-bit value');
    if (!/^[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){3}$/.test(t.text)) cur.fail(`bad 64-bit value "${t.text}" (xxxx:xxxx:xxxx:xxxx)`);
    for (const g of t.text.split(':')) out.u16(Number.parseInt(g, 16));
  },
  print(src) {
    const g: string[] = [];
    // Four digits per group as in RFC 6742 (Knot insists on them; BIND prints without leading zeros, parses both).
    for (let i = 0; i < 4; i++) g.push(src.u16().toString(16).padStart(4, '0'));
    return g.join(':');
  },
};
