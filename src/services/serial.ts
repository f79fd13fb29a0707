// SOA serial policy: YYYYMMDDnn by default, RFC 1982 sequence-space arithmetic, strictly increasing across every
// kind of change (edits, updates, republishing old versions, apex refreshes, pokes).

import { isValidSerial, serialAdd, serialGreater as serialGt } from '../dns/serial.js';

export { isValidSerial, serialAdd, serialGt };

const HALF = 2 ** 31;

/** YYYYMMDD00 of `now` in UTC. */
export function dateSerial(now: Date): number {
  return now.getUTCFullYear() * 1000000 + (now.getUTCMonth() + 1) * 10000 + now.getUTCDate() * 100;
}

/** The serial of the next version: today's YYYYMMDD00 when that is ahead of `last`, else last + 1. */
export function nextSerial(last: number | null, now: Date = new Date()): number {
  const today = dateSerial(now);
  if (last === null) return today;
  return serialGt(today, last) ? today : serialAdd(last, 1);
}

/**
 * The serial for a new version when the operator/file proposes one: taken when it moves forward both in RFC 1982
 * terms and as a plain number (going round the circle is only ever done on purpose, by poke_zone_wrap_serial);
 * otherwise the policy decides (an unchanged or stale serial in edited text is the normal case).
 */
export function chooseSerial(last: number | null, proposed: number | undefined, now: Date = new Date()): number {
  if (proposed !== undefined && proposed !== 0 && (last === null || (proposed > last && serialGt(proposed, last)))) return proposed;
  return nextSerial(last, now);
}

/** RFC 1982 wrap step: the largest forward move (2^31 - 1). Two of these bring any serial round to any value. */
export function wrapSerial(last: number): number {
  return serialAdd(last, HALF - 1);
}
