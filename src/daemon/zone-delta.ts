// dmsd: bring a served zone to its newly published version by patching the compiled snapshot with the change
// (services.loadPublishedChange: the rows born or died between the two versions and the complete records of the
// owners they belong to; src/zone/delta.ts: copy-on-write of the touched nodes), so a change costs its own size,
// not the zone's. A whole reload remains for what a patch cannot do, and is logged: the served version is no longer
// stored (vacuumed), the change is a large part of the zone (compiling afresh is then cheaper), or the patch fails.
// Every process that serves (each --workers worker included) runs this on its own table, from the same feed.

import type { Logger } from 'pino';
import { Name } from '../dns/name.js';
import * as services from '../services/index.js';
import { patchZone } from '../zone/delta.js';
import type { ZoneTable } from '../zone/table.js';
import type { Zone } from '../zone/zone.js';

/** Above this share of the zone's records changed, the zone is reloaded rather than patched. */
const MAX_SHARE = 0.25;
/** ...but a change of up to this many rows is always patched (small zones). */
const MIN_PATCHED = 1000;

export type ServedChange =
  /** The table now serves `version` (or already did). */
  | { kind: 'patched'; zone: Zone; version: number; changes: number }
  /** The zone is not served any more. */
  | { kind: 'gone' }
  /** Reload the zone whole; `reason` was logged. */
  | { kind: 'reload'; reason: string };

/** Patch `zone`, served at store version `servedVersion`, to the zone's published version (the table is not touched). */
export async function patchToPublished(ctx: services.ServiceContext, zone: Zone, servedVersion: number, log: Logger): Promise<ServedChange> {
  const name = zone.origin.toString();
  const maxChanges = Math.max(MIN_PATCHED, Math.floor(zone.recordCount * MAX_SHARE));
  const reload = (reason: string, extra: object = {}): ServedChange => {
    log.warn({ zone: name, from: servedVersion, reason, ...extra }, 'zone change not applied as a delta: reloading the whole zone');
    return { kind: 'reload', reason };
  };
  const c = await services.loadPublishedChange(ctx, name, servedVersion, { maxChanges });
  switch (c.kind) {
    case 'gone':
      return c;
    case 'unavailable':
      return reload(c.reason);
    case 'too-big':
      return reload(`${c.changes} rows changed (more than ${maxChanges})`, { to: c.version });
    case 'change':
      if (c.version === servedVersion) return { kind: 'patched', zone, version: c.version, changes: 0 };
      try {
        return { kind: 'patched', zone: patchZone(zone, { owners: c.owners, soa: c.soa }), version: c.version, changes: c.changes };
      } catch (e) {
        return reload(`the change does not apply: ${(e as Error).message}`, { to: c.version });
      }
  }
}

/**
 * The feed's step for one zone (`key`: its normalized name) that the table serves: patch it to the published version,
 * or take it out when no longer served. False when the caller must reload the zone whole (the reason is logged).
 */
export async function applyPublishedChange(
  ctx: { services: services.ServiceContext; table: ZoneTable; served: Map<string, number>; log: Logger; patched?: (zone: Zone, changes: number) => void },
  key: string,
  onPublished?: (zone: Zone) => void | Promise<void>,
): Promise<boolean> {
  const version = ctx.served.get(key);
  const zone = version === undefined ? undefined : ctx.table.get(Name.from(key));
  if (version === undefined || zone === undefined) return false;
  const started = performance.now();
  const r = await patchToPublished(ctx.services, zone, version, ctx.log);
  if (r.kind === 'reload') return false;
  if (r.kind === 'gone') {
    ctx.served.delete(key);
    if (ctx.table.delete(zone.origin)) ctx.log.info({ zone: key }, 'zone no longer served');
    return true;
  }
  if (r.zone === zone) return true;
  ctx.table.set(r.zone);
  ctx.served.set(key, r.version);
  ctx.patched?.(r.zone, r.changes);
  ctx.log.info(
    { zone: zone.origin.toString(), serial: r.zone.serial, version: r.version, delta: r.changes, ms: Math.round((performance.now() - started) * 10) / 10 },
    'zone published',
  );
  await onPublished?.(r.zone);
  return true;
}

/**
 * After an UPDATE committed here: patch the served zone with what the commit itself says changed (no read), when the
 * table serves the version the change starts from. True when the table now serves the change's version; false when
 * it serves another version (the feed or another writer moved it), so the caller reads the change instead.
 */
export function applyCommittedChange(
  ctx: { table: ZoneTable; served: Map<string, number>; log: Logger; patched?: (zone: Zone, changes: number) => void },
  key: string,
  c: services.CommittedChange,
): boolean {
  const version = ctx.served.get(key);
  if (version === c.version) return true;
  const zone = version === c.fromVersion ? ctx.table.get(Name.from(key)) : undefined;
  if (zone === undefined) return false;
  const started = performance.now();
  let next: Zone;
  try {
    next = patchZone(zone, { owners: c.owners, soa: c.soa });
  } catch (e) {
    ctx.log.warn({ zone: key, from: version, to: c.version, reason: (e as Error).message }, 'committed change not applied as a delta');
    return false;
  }
  ctx.table.set(next);
  ctx.served.set(key, c.version);
  ctx.patched?.(next, c.changes);
  // Logged after the UPDATE's answer has gone (the next turn of the event loop), which waits for this patch only.
  const line = { zone: zone.origin.toString(), serial: next.serial, version: c.version, delta: c.changes, from: 'commit', ms: Math.round((performance.now() - started) * 10) / 10 };
  setImmediate(() => ctx.log.info(line, 'zone published'));
  return true;
}

/**
 * Run calls for one zone (named by the first argument) one after the other (a feed row and an UPDATE's own refresh must not patch the same
 * snapshot twice); calls for different zones run independently.
 */
export function perZone<A extends [string, ...unknown[]]>(keyOf: (zone: string) => string, fn: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  const tails = new Map<string, Promise<void>>();
  return (...a: A) => {
    const key = keyOf(a[0]);
    const run = (tails.get(key) ?? Promise.resolve()).then(() => fn(...a));
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
