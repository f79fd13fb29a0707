// dmsd's server-group duties (issue 11): after zone changes, bring the groups' catalog zones up to date (so BIND and
// Knot secondaries pick up new and deleted zones by themselves) and republish the configuration of servers whose
// zone list changed. Batched like the original's MasterSM hold: the first change starts a short hold, every change
// during it joins the same run, so many zone creations make one catalog version and one reconfiguration per server.
// And the ServerSM: every `healthIntervalMs` each server is checked (UDP, TCP, its zones' serials, a rotating sample of
// at most `healthSample` zones, plus the zones that lagged at the last check) and its state folded in
// (services/server-config/health.ts): a server whose lagging zones advance between checks is catching up (RETRY,
// never BROKEN for it); one that answers but does not move is NOTIFYed again for them before it becomes BROKEN.
//
// What the secondaries are told follows what dmsd SERVES, not what the database holds: a secondary told about a zone
// (a catalog member, a zone in NSD's file) asks dmsd for it at once, and a zone the database publishes but dmsd's zone
// table has not taken in yet (a bulk creation still loading, a signed zone waiting for its signer) would be REFUSED —
// BIND and Knot then back off for minutes. So a run first waits (a bounded while) for the zone table to catch up with
// the change feed, then lists only the zones dmsd serves; the others are held and the run is repeated when they are
// served (ZoneTable.onServed, or with --workers the workers' feed positions). "Served" is the publishing dmsd's view:
// the process that runs these tasks (the supervisor) — in one process its own zone table; with --workers N every
// worker's table (a zone counts once every worker has taken in the feed past the zone's last change).

import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import * as services from '../services/index.js';
import { syncCatalogs } from '../services/server-config/catalog.js';
import { reconfigServers } from '../services/server-config/publish.js';
import { checkServer, recordServerHealth } from '../services/server-config/health.js';
import { NOTIFY_EVENT, type NotifyEventPayload } from './events/notify.js';
import { listServers } from '../services/servers.js';

export interface SgTasks {
  /** Run a sync now (after the hold) — e.g. at start. */
  kick(): void;
  /** The served view changed: `zone` is served now (ZoneTable.onServed), or (no zone) the feed positions moved. */
  served(zone?: string): void;
  /** Does dmsd serve the zone (what the runs list; GET /config uses it too)? undefined: no served view. */
  isServed?: (zone: string) => boolean;
  stop(): Promise<void>;
  /** Resolves when no run is pending or running (tests). */
  idle(): Promise<void>;
}

export interface SgTaskOptions {
  holdMs?: number;
  /** 0 or undefined: no scheduled health checks. */
  healthIntervalMs?: number;
  /** Zones probed per server and round (a rotating slice of larger groups). */
  healthSample?: number;
  /** Failed checks in a row before BROKEN. */
  brokenAfter?: number;
  /** What dmsd serves; without it (tests of the services alone) the database's state is published. */
  served?: ServedView;
  /** Longest wait for the zone table to catch up with the change feed before a run publishes anyway (default 30 s). */
  catchUpMs?: number;
  /** Checked before every run and health round: false once this dmsd no longer holds the leader lease (issue 13). */
  active?: () => boolean;
}

export interface ServedView {
  /** The change-feed position every serving zone table has taken in; undefined while not known (a worker starting). */
  seq(): number | undefined;
  /** Is the zone served now? Without: once seq() is past the zone's last change (the workers' case). */
  has?(zone: string): boolean;
}

const keyOf = (zone: string) => (zone.endsWith('.') ? zone : `${zone}.`).toLowerCase();

export async function startSgTasks(store: Store, log: Logger, o: SgTaskOptions = {}): Promise<SgTasks> {
  const hold = o.holdMs ?? 1000;
  let stopped = false;
  const ctx = services.serviceContext(store);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let catalogs = new Set<string>();
  const active = o.active ?? (() => true);
  const view = o.served;
  // The feed position of the last zone change seen, and each changed zone's (for a view without has()).
  let seen = 0;
  const lastChange = new Map<string, number>();
  const served = view
    ? (zone: string): boolean => {
        if (view.has) return view.has(zone);
        const at = view.seq();
        return at !== undefined && (lastChange.get(keyOf(zone)) ?? 0) <= at;
      }
    : undefined;
  /** Zones left out of the last run because dmsd did not serve them yet: their being served starts another run. */
  let pending = new Set<string>();
  // Zones changed since the last run started (`fresh`) or in the running one (`taking`): the secondaries may not have
  // been told about them yet, so the health checks do not expect them there until a run has listed them.
  let fresh = new Set<string>();
  let taking = new Set<string>();
  // What a run listed is known to the secondaries once dmsd serves the catalog version listing it (the run's own
  // commits are behind the bulk in the zone table's feed): until the table's feed position passes `at`, those zones
  // are not expected on the secondaries, and then the catalogs are NOTIFYed again — the NOTIFY queued at the
  // catalog's publish waits at most 10 s for it to be served, and one sent before makes the secondary see the old
  // serial and stop (RFC 1996 §3.11) until the catalog's SOA refresh.
  let confirm: { at: number; zones: Set<string>; catalogs: string[] }[] = [];
  const told = (zone: string): boolean => {
    const k = keyOf(zone);
    if (fresh.has(k) || taking.has(k) || pending.has(k) || confirm.some((c) => c.zones.has(k))) return false;
    return served ? served(zone) : true;
  };
  const notifyAll = async (zone: string) => {
    const serial = (await services.getZone(ctx, zone)).soaSerial;
    for (const t of await services.zoneNotifyTargets(ctx, zone)) {
      const payload: NotifyEventPayload = { address: t.address, port: t.port, ...(t.key ? { key: t.key } : {}), ...(serial !== null ? { serial } : {}) };
      await services.enqueueEvent(ctx, NOTIFY_EVENT, { zone, payload });
    }
  };
  let confirming = false;
  const checkConfirm = async () => {
    if (confirming || confirm.length === 0 || !view) return;
    const at = view.seq();
    if (at === undefined) return;
    confirming = true;
    try {
      const done = confirm.filter((c) => c.at <= at);
      confirm = confirm.filter((c) => c.at > at);
      for (const c of done) for (const catalog of c.catalogs) await notifyAll(catalog);
      if (done.some((c) => c.catalogs.length)) log.info({ catalogs: [...new Set(done.flatMap((c) => c.catalogs))] }, 'catalog served: NOTIFYed again');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'catalog NOTIFY failed');
    } finally {
      confirming = false;
    }
  };
  const confirmTimer = setInterval(() => void checkConfirm(), 250);
  confirmTimer.unref();
  const catchUp = async () => {
    if (!view) return;
    const target = seen;
    const until = Date.now() + (o.catchUpMs ?? 30_000);
    for (;;) {
      const at = view.seq();
      if ((at !== undefined && at >= target) || Date.now() >= until || stopped) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const run = async () => {
    if (!active()) return;
    taking = fresh;
    fresh = new Set();
    try {
      await catchUp();
      const synced = await syncCatalogs(ctx, served ? { served } : {});
      catalogs = new Set(synced.map((s) => s.catalog));
      const held = new Set<string>();
      for (const s of synced) {
        for (const z of s.held) held.add(keyOf(z));
        if (s.changed) log.info({ sg: s.sg, catalog: s.catalog, members: s.members, held: s.held.length }, 'catalog zone updated');
      }
      const results = await reconfigServers(ctx, { onlyChanged: true, ...(served ? { served } : {}) });
      for (const r of results) {
        for (const z of r.held ?? []) held.add(keyOf(z));
        if (r.outcome !== 'unchanged' && r.outcome !== 'not-published')
          log.info({ server: r.server, outcome: r.outcome, message: r.message, held: r.held?.length ?? 0 }, 'server reconfiguration');
      }
      if (view) {
        const listed = [...taking, ...pending].filter((z) => !held.has(z));
        const changed = synced.filter((c) => c.changed).map((c) => c.catalog);
        if (listed.length || changed.length) confirm.push({ at: await services.currentChangeSeq(ctx), zones: new Set(listed), catalogs: changed });
      }
      pending = held;
      if (held.size) log.info({ zones: held.size }, 'zones not served by dmsd yet: held back from catalogs and configuration');
      // Served meanwhile (between the read and now): go again.
      if (served && [...held].some((z) => served(z))) kick();
      if (!view?.has) {
        const at = view?.seq();
        if (at !== undefined) for (const [z, s] of lastChange) if (s <= at) lastChange.delete(z);
      }
    } catch (e) {
      log.error({ err: (e as Error).message }, 'server group sync failed');
    }
    taking = new Set();
  };
  const kick = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(run);
    }, hold);
  };
  const since = await services.currentChangeSeq(ctx);
  const stopFollow = services.followChanges(
    ctx,
    since,
    (poll) => {
      let zones = false;
      for (const c of poll.changes) {
        if (c.kind === 'keys' || catalogs.has(c.zone)) continue;
        zones = true;
        seen = Math.max(seen, c.seq);
        fresh.add(keyOf(c.zone));
        if (view && !view.has) lastChange.set(keyOf(c.zone), c.seq);
      }
      if (poll.resync || zones) kick();
    },
    { onError: (e) => log.error({ err: (e as Error).message }, 'server group change feed failed') },
  );
  kick();
  let healthTimer: NodeJS.Timeout | undefined;
  let healthRun: Promise<void> = Promise.resolve();
  let round = 0;
  const renotify = async (server: { address: string; port: number }, zones: string[]) => {
    for (const zone of zones) {
      const targets = await services.zoneNotifyTargets(ctx, zone);
      const t = targets.find((x) => x.address === server.address && x.port === server.port);
      const serial = (await services.getZone(ctx, zone)).soaSerial;
      const payload: NotifyEventPayload = { address: server.address, port: server.port, ...(t?.key ? { key: t.key } : {}), ...(serial !== null ? { serial } : {}) };
      await services.enqueueEvent(ctx, NOTIFY_EVENT, { zone, payload });
    }
  };
  const healthRound = async () => {
    const sample = o.healthSample ?? 500;
    for (const s of await listServers(ctx)) {
      if (stopped || !active()) return;
      try {
        // The zones that lagged at the last check are probed again (catching up or stuck?); zones the secondaries
        // have not been told about yet (not served by dmsd yet, or changed since the last run) are not expected there.
        const check = await checkServer(ctx, s.name, {
          sample: { max: sample, offset: round * sample },
          recheck: s.lagging.map((l) => l.zone),
          served: told,
        });
        const h = await recordServerHealth(ctx, check, o.brokenAfter !== undefined ? { brokenAfter: o.brokenAfter } : {});
        if (h.changed || (h.catchingUp && h.state !== 'OK'))
          log.info({ server: h.server, state: h.state, retryMsg: h.retryMsg, lagging: h.lagging.length, catchingUp: h.catchingUp }, 'server state');
        if (h.renotify.length) {
          await renotify(s, h.renotify);
          log.info({ server: h.server, zones: h.renotify.length }, 'lagging zones NOTIFYed again');
        }
      } catch (e) {
        log.error({ server: s.name, err: (e as Error).message }, 'server check failed');
      }
    }
    round++;
  };
  const scheduleHealth = () => {
    if (!o.healthIntervalMs || stopped) return;
    healthTimer = setTimeout(() => {
      healthRun = healthRound().finally(scheduleHealth);
    }, o.healthIntervalMs);
    healthTimer.unref();
  };
  scheduleHealth();
  return {
    kick,
    ...(served ? { isServed: served } : {}),
    served: (zone) => {
      if (pending.size === 0) return;
      if (zone === undefined || pending.has(keyOf(zone))) kick();
    },
    idle: async () => {
      while (timer) await new Promise((r) => setTimeout(r, 50));
      await running;
    },
    stop: async () => {
      stopped = true;
      clearInterval(confirmTimer);
      if (healthTimer) clearTimeout(healthTimer);
      await healthRun;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await stopFollow();
      await running;
    },
  };
}
