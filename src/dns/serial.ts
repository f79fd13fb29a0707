// SOA serials: RFC 1982 sequence-space arithmetic, and the serial field of SOA RDATA. The one home of both: the zone
// engine, transfers, NOTIFY and the serial policy of the services all use these.

import type { RR } from './message.js';
import { setSoaSerial, soaSerial } from './rdata.js';

const HALF = 2 ** 31;
const MOD = 2 ** 32;

/** RFC 1982 §3.2: is `a` greater than `b`? (Pairs exactly 2^31 apart are undefined and count as not greater.) */
export function serialGreater(a: number, b: number): boolean {
  return (a < b && b - a > HALF) || (a > b && a - b < HALF);
}

/** RFC 1982 §3.1 addition: n must be in [0, 2^31 - 1]. */
export function serialAdd(s: number, n: number): number {
  return (s + n) % MOD;
}

/** A value that fits the 32-bit SERIAL field. */
export function isValidSerial(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n < MOD;
}

/** SERIAL of an SOA record. */
export function soaSerialOf(soa: RR): number {
  return soaSerial(soa.rdata);
}

/** The SOA record with another serial (no full decode). */
export function withSerial(soa: RR, serial: number): RR {
  return { ...soa, rdata: setSoaSerial(soa.rdata, serial) };
}

export { setSoaSerial, soaSerial };
