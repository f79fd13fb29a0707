// check_server (issue 11): is a secondary answering over UDP and TCP, and does it serve every zone of its group
// (the catalog zone included) at the serial DMS published? Exit 0 / OK only then: the answer an anycast router's
// probe (ExaBGP healthcheck, a BIRD route script) needs to withdraw a secondary that is up but stale.
// checkServer is a probe only and changes nothing; recordServerHealth is the original's ServerSM on top of it (dmsd
// runs both on a schedule): OK while the checks pass, RETRY after a failed one (the lagging zones are NOTIFYed to the
// server again), BROKEN after `brokenAfter` failures in a row, OK again at the first check that passes; DISABLED is
// a disabled server, which is not probed.

import { RRType } from '../../dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../dns/message.js';
import { Name } from '../../dns/name.js';
import { readTx, writeTx } from '../../store/index.js';
import { serverRowByName } from '../../store/queries/groups.js';
import { serverConfigRow, upsertServerConfig } from '../../store/queries/sgconfig.js';
import { nowMs } from '../context.js';
import type { ServiceContext } from '../context.js';
import { parseSoa } from '../core.js';
import { serialGreater } from '../../dns/serial.js';
import { ServerNotFound } from '../errors.js';
import type { HealthState } from '../servers.js';
import { getZone } from '../zones.js';
import { tcpAsk, udpAsk } from '../dns-ask.js';
import { configInputFor, usesCatalog } from './index.js';

export interface LaggingZone {
  zone: string;
  /** Serial the server answered with, or null when it does not serve the zone authoritatively. */
  served: number | null;
  published: number;
}

export interface ServerCheck {
  server: string;
  address: string;
  port: number;
  enabled: boolean;
  udp: boolean;
  tcp: boolean;
  /** OK: answers on both and nothing lags; BROKEN otherwise; DISABLED for a disabled server (not probed). */
  state: 'OK' | 'BROKEN' | 'DISABLED';
  zones: number;
  lagging: LaggingZone[];
  message: string | null;
  /** Only a slice of the zones was probed (a large group); `rechecked` were probed in any case. */
  sampled?: boolean;
  rechecked?: string[];
}

function soaQuery(zone: string): Uint8Array {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.question = [{ name: Name.from(zone), type: RRType.SOA, class: 1 }];
  return encodeMessage(m);
}

/** The authoritative SOA serial in a response, or null. */
function serialOf(bytes: Uint8Array, zone: string): number | null {
  const m = decodeMessage(bytes);
  if (!m.aa || m.rcode !== 0) return null;
  const soa = m.answer.find((rr) => rr.type === RRType.SOA && rr.name.key === Name.from(zone).key);
  return soa ? parseSoa(soa.rdata, soa.ttl).serial : null;
}

/** Probe one server: UDP and TCP, then each zone's SOA serial against the published one. */
export async function checkServer(
  ctx: ServiceContext,
  server: string,
  o: {
    timeoutMs?: number;
    sample?: { max: number; offset: number };
    /** Zones probed in any case (those lagging at the last check: whether they advanced tells catching up from stuck). */
    recheck?: readonly string[];
    /** dmsd's checks: only zones the secondaries have been told about (served by dmsd and listed by its last run). */
    served?: (zone: string) => boolean;
  } = {},
): Promise<ServerCheck> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const { srv, zones, sampled, recheck } = await readTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    const input = await configInputFor(trx, srv.name);
    // Knot does not answer queries for a catalog zone it interprets (RFC 9432 §7 leaves that to the consumer), so its
    // catalog cannot be probed there; the member zones it brings are.
    const probeCatalog = input.sg.catalog !== null && usesCatalog(input) && input.server.type !== 'knot';
    let names = [...(probeCatalog ? [input.sg.catalog as string] : []), ...input.sg.zones.map((z) => z.name)];
    if (o.served) names = names.filter((n) => o.served?.(n));
    // The last check's lagging zones (still in the group), at most one sample's worth.
    const known = new Set(names);
    const recheck = (o.recheck ?? []).filter((z) => known.has(z)).slice(0, o.sample?.max ?? Number.POSITIVE_INFINITY);
    // A large group is checked a rotating slice at a time (the scheduled checks move the offset on each round).
    if (o.sample && names.length > o.sample.max) {
      const start = o.sample.offset % names.length;
      const slice = [...names.slice(start), ...names.slice(0, start)].slice(0, o.sample.max);
      return { srv, zones: [...new Set([...recheck, ...slice])], sampled: true, recheck };
    }
    return { srv, zones: names, sampled: false, recheck };
  });
  const base = {
    server: srv.name,
    address: srv.address,
    port: Number(srv.port),
    enabled: Number(srv.enabled) === 1,
    zones: zones.length,
    ...(sampled ? { sampled } : {}),
    ...(o.recheck ? { rechecked: recheck } : {}),
  };
  if (!base.enabled) return { ...base, udp: false, tcp: false, state: 'DISABLED', lagging: [], message: null };
  const probe = zones[0] ?? '.';
  const problems: string[] = [];
  const failed = (e: Error) => {
    problems.push(e.message);
    return false;
  };
  const udp = await udpAsk(base.address, base.port, soaQuery(probe), timeoutMs).then(() => true, failed);
  const tcp = await tcpAsk(base.address, base.port, soaQuery(probe), timeoutMs).then(() => true, failed);
  const lagging: LaggingZone[] = [];
  if (udp)
    for (const z of zones) {
      const published = (await getZone(ctx, z)).soaSerial;
      if (published === null) continue;
      let served: number | null = null;
      try {
        served = serialOf(await udpAsk(base.address, base.port, soaQuery(z), timeoutMs), z);
      } catch {
        served = null;
      }
      if (served !== published) lagging.push({ zone: z, served, published });
    }
  if (lagging.length) problems.push(`${lagging.length} of ${zones.length} zones behind the published serial`);
  const ok = udp && tcp && lagging.length === 0;
  return { ...base, udp, tcp, state: ok ? 'OK' : 'BROKEN', lagging, message: problems.length ? problems.join('; ') : null };
}


export interface ServerHealth {
  server: string;
  state: HealthState;
  /** Failed checks in a row. */
  failures: number;
  lastReply: Date | null;
  retryMsg: string | null;
  lagging: LaggingZone[];
  checked: Date | null;
}

/**
 * Is a lagging server catching up? Of the zones that lagged at the last check and were probed again, at least one is
 * in sync now or is served at a newer serial (or at all). A slow secondary taking in a bulk creation does that at
 * every check; a stuck one (transfers refused, disk full) does not.
 */
export function catchingUp(before: readonly LaggingZone[], check: ServerCheck): boolean {
  if (!check.udp || !check.tcp || before.length === 0 || check.lagging.length === 0) return false;
  const probed = check.rechecked ? new Set(check.rechecked) : check.sampled ? new Set<string>() : undefined;
  const now = new Map(check.lagging.map((l) => [l.zone, l]));
  for (const b of before) {
    if (probed && !probed.has(b.zone)) continue;
    const n = now.get(b.zone);
    if (!n) return true;
    if (n.served !== null && (b.served === null || serialGreater(n.served, b.served))) return true;
  }
  return false;
}

/** The ServerSM step: fold one check into the server's stored state. `renotify` lists the zones to NOTIFY again. */
export async function recordServerHealth(
  ctx: ServiceContext,
  check: ServerCheck,
  o: { brokenAfter?: number } = {},
): Promise<ServerHealth & { renotify: string[]; changed: boolean; catchingUp: boolean }> {
  const brokenAfter = o.brokenAfter ?? 3;
  const now = nowMs(ctx);
  return writeTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, check.server);
    if (!srv) throw new ServerNotFound(check.server);
    const before = await serverConfigRow(trx, Number(srv.id));
    const ok = check.state === 'OK';
    const wasLagging = before.lagging ? (JSON.parse(before.lagging) as LaggingZone[]) : [];
    // Lagging but catching up is not a failure: it breaks the row of failed checks (RETRY; BROKEN needs brokenAfter
    // checks in a row without progress).
    const progress = !ok && catchingUp(wasLagging, check);
    const failures = ok || check.state === 'DISABLED' ? 0 : progress ? 0 : before.failures + 1;
    const state: HealthState =
      check.state === 'DISABLED' ? 'DISABLED' : ok ? 'OK' : progress ? 'RETRY' : failures >= brokenAfter ? 'BROKEN' : 'RETRY';
    const message = progress ? `catching up: ${check.lagging.length} of ${check.zones} zones behind (${wasLagging.length} at the last check)` : check.message;
    const stuck = progress ? check.lagging.filter((l) => wasLagging.some((b) => b.zone === l.zone && b.served === l.served)) : check.lagging;
    const lastReply = check.udp || check.tcp ? now : before.last_reply === null ? null : Number(before.last_reply);
    await upsertServerConfig(trx, Number(srv.id), {
      health_state: state,
      failures,
      last_reply: lastReply,
      retry_msg: message,
      lagging: check.lagging.length ? JSON.stringify(check.lagging) : null,
      checked: now,
    });
    return {
      server: check.server,
      state,
      failures,
      lastReply: lastReply === null ? null : new Date(lastReply),
      retryMsg: message,
      lagging: check.lagging,
      catchingUp: progress,
      checked: new Date(now),
      // Before it is declared BROKEN (and on each check after, at the checks' pace) the server is told again about
      // what it lags behind on: a lost NOTIFY is the usual cause. A server that does not answer gets nothing.
      // A server catching up is told again only about the zones that did not move since the last check.
      renotify: (state === 'RETRY' || state === 'BROKEN') && check.udp ? stuck.map((l) => l.zone) : [],
      changed: before.health_state !== state,
    };
  });
}

/** The stored ServerSM state of servers (never checked: null), by server id. */
export function healthOf(row: { health_state: string | null; failures: number; last_reply: number | null; retry_msg: string | null; lagging: string | null; checked: number | null }) {
  return {
    healthState: row.health_state as HealthState | null,
    failures: Number(row.failures),
    lastReply: row.last_reply === null ? null : new Date(Number(row.last_reply)),
    retryMsg: row.retry_msg,
    lagging: row.lagging ? (JSON.parse(row.lagging) as LaggingZone[]) : [],
    checked: row.checked === null ? null : new Date(Number(row.checked)),
  };
}

/** reset_server: forget the ServerSM state (OK until the next check says otherwise), as the original's reset. */
export async function resetServerHealth(ctx: ServiceContext, server: string): Promise<{ server: string; state: 'OK' }> {
  return writeTx(ctx.store, async (trx) => {
    const srv = await serverRowByName(trx, server.trim());
    if (!srv) throw new ServerNotFound(server.trim());
    await upsertServerConfig(trx, Number(srv.id), { health_state: null, failures: 0, retry_msg: null, lagging: null });
    return { server: srv.name, state: 'OK' as const };
  });
}

/** ping_server: `count` DNS queries to a server, as ls_server -j shows them. */
export interface ServerPing {
  server: string;
  address: string;
  port: number;
  sent: number;
  answered: number;
  /** Round-trip times of the answered queries, in ms (min, mean, max); null when none was answered. */
  rttMs: { min: number; avg: number; max: number } | null;
}

/**
 * The original zone_tool's ls_server -j pinged each server (ICMP, with oping); DMS asks the DNS service itself, which
 * needs no privilege and shows what matters, that the server answers on its port: `count` queries for the root's SOA
 * (any answer counts, REFUSED included), `intervalMs` apart, each given `timeoutMs`.
 */
export async function pingServer(
  ctx: ServiceContext,
  server: string,
  o: { count?: number; intervalMs?: number; timeoutMs?: number } = {},
): Promise<ServerPing> {
  const srv = await readTx(ctx.store, (trx) => serverRowByName(trx, server.trim()));
  if (!srv) throw new ServerNotFound(server.trim());
  const count = o.count ?? 5;
  const rtts: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await new Promise((res) => setTimeout(res, o.intervalMs ?? 200));
    const started = performance.now();
    try {
      await udpAsk(srv.address, srv.port, soaQuery('.'), o.timeoutMs ?? 1000);
      rtts.push(performance.now() - started);
    } catch {
      // Unanswered: counted as lost.
    }
  }
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    server: srv.name,
    address: srv.address,
    port: srv.port,
    sent: count,
    answered: rtts.length,
    rttMs: rtts.length ? { min: round(Math.min(...rtts)), avg: round(rtts.reduce((a, b) => a + b, 0) / rtts.length), max: round(Math.max(...rtts)) } : null,
  };
}
