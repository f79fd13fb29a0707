// A replica too far behind its primary stops answering the zones it can no longer vouch for (issue 13, docs/HA.md).
// A replica is in effect a secondary of every zone; RFC 1035 §3.3.13 gives each zone an EXPIRE, "the upper limit on
// the time interval that can elapse before the zone is no longer authoritative", and BIND and Knot answer an expired
// secondary zone SERVFAIL (queries and transfers) until a refresh succeeds. dmsd does the same with the replication
// lag (services.replicationStatus: how old the replayed state is) in place of the time since the last refresh: a
// zone whose SOA EXPIRE the lag passed is answered SERVFAIL; when the replica catches up (or is promoted, lag 0) it is
// answered again. Both events are logged once per zone.

import type { Logger } from 'pino';
import type { RR } from '../dns/message.js';
import type { QueryHandler } from '../server/query.js';
import type { Zone } from '../zone/zone.js';

/** The EXPIRE field of an SOA record (RFC 1035 §3.3.13): the RDATA ends serial, refresh, retry, expire, minimum. */
export function soaExpire(soa: RR): number {
  const r = soa.rdata;
  const at = r.length - 8;
  if (at < 0) return Number.POSITIVE_INFINITY;
  return ((r[at] << 24) >>> 0) + (r[at + 1] << 16) + (r[at + 2] << 8) + r[at + 3];
}

/** Returns the setter of the current lag in seconds (0: current, or a primary), which arms or disarms the check. */
export function replicaExpiry(handler: QueryHandler, log: Logger): (lagSeconds: number) => void {
  const expireOf = new WeakMap<Zone, number>();
  /** Zones answered SERVFAIL now (logged once), with their EXPIRE. */
  const expired = new Map<string, number>();
  let lag = 0;
  const test = (zone: Zone): boolean => {
    let e = expireOf.get(zone);
    if (e === undefined) {
      e = soaExpire(zone.soa);
      expireOf.set(zone, e);
    }
    if (lag <= e) return false;
    const name = zone.origin.toString();
    if (!expired.has(name)) {
      expired.set(name, e);
      log.error(
        { zone: name, lagSeconds: lag, soaExpire: e },
        `zone expired on this replica: ${Math.floor(lag)} s behind the primary, past its SOA EXPIRE (${e} s); answered SERVFAIL until the replica catches up or is promoted`,
      );
    }
    return true;
  };
  return (seconds: number) => {
    lag = seconds;
    for (const [name, e] of expired)
      if (lag <= e) {
        expired.delete(name);
        log.warn({ zone: name, lagSeconds: lag, soaExpire: e }, 'zone no longer expired on this replica: answered again');
      }
    // Under a second no EXPIRE can have passed (and the check costs a zone lookup per query): disarmed.
    handler.expired = seconds >= 1 ? test : undefined;
  };
}
