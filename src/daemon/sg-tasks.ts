// dmsd's server-group duties (issue 11): after zone changes, bring the groups' catalog zones up to date (so BIND and
// Knot secondaries pick up new and deleted zones by themselves) and republish the configuration of servers whose
// zone list changed. Batched like the original's MasterSM hold: the first change starts a short hold, every change
// during it joins the same run, so many zone creations make one catalog version and one reconfiguration per server.
// And the ServerSM: every `healthIntervalMs` each server is checked (UDP, TCP, its zones' serials, a rotating sample of
// at most `healthSample` zones) and its state folded in (services/server-config/health.ts); a server in RETRY with
// lagging zones is NOTIFYed for them again before it can become BROKEN.

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
  /** Checked before every run and health round: false once this dmsd no longer holds the leader lease (issue 13). */
  active?: () => boolean;
}

export async function startSgTasks(store: Store, log: Logger, o: SgTaskOptions = {}): Promise<SgTasks> {
  const hold = o.holdMs ?? 1000;
  const ctx = services.serviceContext(store);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let catalogs = new Set<string>();
  const active = o.active ?? (() => true);
  const run = async () => {
    if (!active()) return;
    try {
      const synced = await syncCatalogs(ctx);
      catalogs = new Set(synced.map((s) => s.catalog));
      for (const s of synced) if (s.changed) log.info({ sg: s.sg, catalog: s.catalog, members: s.members }, 'catalog zone updated');
      const results = await reconfigServers(ctx, { onlyChanged: true });
      for (const r of results)
        if (r.outcome !== 'unchanged' && r.outcome !== 'not-published') log.info({ server: r.server, outcome: r.outcome, message: r.message }, 'server reconfiguration');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'server group sync failed');
    }
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
      if (poll.resync || poll.changes.some((c) => c.kind !== 'keys' && !catalogs.has(c.zone))) kick();
    },
    { onError: (e) => log.error({ err: (e as Error).message }, 'server group change feed failed') },
  );
  kick();
  let healthTimer: NodeJS.Timeout | undefined;
  let healthRun: Promise<void> = Promise.resolve();
  let round = 0;
  let stopped = false;
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
        const check = await checkServer(ctx, s.name, { sample: { max: sample, offset: round * sample } });
        const h = await recordServerHealth(ctx, check, o.brokenAfter !== undefined ? { brokenAfter: o.brokenAfter } : {});
        if (h.changed) log.info({ server: h.server, state: h.state, retryMsg: h.retryMsg, lagging: h.lagging.length }, 'server state');
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
    idle: async () => {
      while (timer) await new Promise((r) => setTimeout(r, 50));
      await running;
    },
    stop: async () => {
      stopped = true;
      if (healthTimer) clearTimeout(healthTimer);
      await healthRun;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await stopFollow();
      await running;
    },
  };
}
