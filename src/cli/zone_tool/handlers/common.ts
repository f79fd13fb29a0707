
import type {
  EventInfo,
  ServerGroupInfo,
  ZiInfo,
  ZoneInfo,
} from '../../../services/index.js';
import type { ParsedArgs } from '../argv.js';
import { OUTPUT_INDENT, col, fmtTime } from '../format.js';

export const I = OUTPUT_INDENT;

export function opt(a: ParsedArgs, letter: string): string | undefined {
  const v = a.opts[letter];
  return typeof v === 'string' ? v : undefined;
}
export function flag(a: ParsedArgs, letter: string): boolean {
  return a.opts[letter] === true;
}

// ---- layouts ------------------------------------------------------------------------------------------------------

export function zoneSmFields(z: ZoneInfo): Record<string, unknown> {
  return {
    name: z.name,
    alt_sg_name: z.altSg,
    auto_dnssec: z.flags.autoDnssec,
    ctime: fmtTime(z.ctime),
    deleted_start: fmtTime(z.deletedStart),
    edit_lock: z.flags.editLock,
    inc_updates: z.flags.incUpdates,
    lock_state: z.lockedBy ? 'EDIT_LOCK' : 'EDIT_UNLOCK',
    locked_by: z.lockedBy,
    locked_since: fmtTime(z.lockedSince),
    lock_expires: fmtTime(z.lockExpires),
    mtime: fmtTime(z.mtime),
    nsec3: z.flags.nsec3,
    reference: z.reference,
    sectags: z.sectags.length > 0 ? z.sectags.join(' ') : null,
    sg_name: z.sg,
    soa_serial: z.soaSerial,
    state: z.state,
    use_apex_ns: z.flags.useApexNs,
    zi_candidate_id: z.latestVersion,
    zi_id: z.publishedVersion,
    zone_id: z.id,
  };
}

export function ziFields(zi: ZiInfo): Record<string, unknown> {
  return {
    zi_id: zi.version,
    change_by: zi.changeBy,
    comment: zi.comment ?? undefined,
    ctime: fmtTime(zi.ctime),
    mtime: fmtTime(zi.mtime),
    ptime: fmtTime(zi.ptime),
    soa_expire: zi.soaExpire,
    soa_minimum: zi.soaMinimum,
    soa_mname: zi.soaMname,
    soa_refresh: zi.soaRefresh,
    soa_retry: zi.soaRetry,
    soa_rname: zi.soaRname,
    soa_serial: zi.soaSerial,
    soa_ttl: zi.soaTtl,
    zone_id: zi.zoneId,
    zone_ttl: zi.zoneTtl,
  };
}

export function sgFields(sg: ServerGroupInfo, verbose: boolean): Record<string, unknown> {
  return {
    sg_name: sg.name,
    apex_ns: sg.apexNs.length > 0 ? sg.apexNs.join(' ') : null,
    master_address: sg.masterAddress,
    master_alt_address: sg.masterAltAddress,
    sg_id: verbose ? sg.id : undefined,
    soa_mname: sg.soaMname,
    zone_count: sg.zoneCount,
  };
}

export function eventName(e: EventInfo): string {
  if (e.zone) return e.zone;
  const p = e.payload as Record<string, unknown> | null;
  if (p && typeof p === 'object') {
    for (const k of ['name', 'server_name', 'server', 'sg']) if (typeof p[k] === 'string') return p[k] as string;
  }
  return '';
}

export function eventZiId(e: EventInfo): string {
  const p = e.payload as Record<string, unknown> | null;
  if (p && typeof p === 'object') {
    for (const k of ['zi_id', 'publish_zi_id', 'version']) if (p[k] !== undefined && p[k] !== null) return String(p[k]);
  }
  return '';
}

export function fmtEventVerbose(e: EventInfo): string {
  return (
    `${col(e.type, 19)}  ${col(e.id, 25)}  ${e.state}\n` +
    `  ${col(eventName(e), 27)}  ${eventZiId(e)}\n` +
    `  ${fmtTime(e.created)}  ${fmtTime(e.scheduled)}  ${e.processed ? fmtTime(e.processed) : '--'}`
  );
}

export function fmtPendingEvents(events: EventInfo[], verbose: boolean): string {
  return events
    .map((e) => {
      if (verbose) return fmtEventVerbose(e);
      const zi = eventZiId(e);
      const name = zi ? `${eventName(e)} ${zi}` : eventName(e);
      return `${col(e.type, 25)} ${col(name, 27)}  ${fmtTime(e.scheduled)}`;
    })
    .join('\n');
}

export function fmtEvents(events: EventInfo[], verbose: boolean): string {
  return events
    .map((e) => {
      if (verbose) return fmtEventVerbose(e);
      const zi = eventZiId(e);
      const name = zi ? `${eventName(e)} ${zi}` : eventName(e);
      const time2 = e.state === 'NEW' || e.state === 'RETRY' ? e.scheduled : e.processed;
      return (
        `${col(e.type, 19)}  ${col(e.id, 25)}  ${e.state}\n` + `  ${col(name, 26)}  ${fmtTime(e.created)}  ${fmtTime(time2)}`
      );
    })
    .join('\n');
}
