// dmsd's server-group duties (issue 11): after zone changes, bring the groups' catalog zones up to date (so BIND and
// Knot secondaries pick up new and deleted zones by themselves) and republish the configuration of servers whose
// zone list changed. Batched like the original's MasterSM hold: the first change starts a short hold, every change
// during it joins the same run, so many zone creations make one catalog version and one reconfiguration per server.

import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import * as services from '../services/index.js';
import { syncCatalogs } from '../services/server-config/catalog.js';
import { reconfigServers } from '../services/server-config/publish.js';

export interface SgTasks {
  /** Run a sync now (after the hold) — e.g. at start. */
  kick(): void;
  stop(): Promise<void>;
  /** Resolves when no run is pending or running (tests). */
  idle(): Promise<void>;
}

export async function startSgTasks(store: Store, log: Logger, o: { holdMs?: number } = {}): Promise<SgTasks> {
  const hold = o.holdMs ?? 1000;
  const ctx = services.serviceContext(store);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let catalogs = new Set<string>();
  const run = async () => {
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
  return {
    kick,
    idle: async () => {
      while (timer) await new Promise((r) => setTimeout(r, 50));
      await running;
    },
    stop: async () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await stopFollow();
      await running;
    },
  };
}
