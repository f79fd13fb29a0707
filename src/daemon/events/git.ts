// git events (issue 12, docs/GIT.md): `git_push` (queued for the zones a publish, delete or undelete touched; or for
// every mirrored zone: payload without zones) and `git_pull` (a signed NOTIFY, the poll, start-up). The services
// do the work (services/git); a handler takes all due events of its type at once, so a burst of publishes is one
// push of many commits. A remote that is down: retry with the queue's backoff, nothing changes meanwhile (the
// pending versions are derived from the database, never lost with a failed event: the next publish or start picks
// them up).

import type { Logger } from 'pino';
import { Name } from '../../dns/name.js';
import * as services from '../../services/index.js';
import type { Store } from '../../store/index.js';
import type { EventHandler, EventOutcome } from './runner.js';

export const GIT_PUSH_EVENT = 'git_push';
export const GIT_PULL_EVENT = 'git_pull';

export interface GitPushPayload {
  /** Zones to look at; absent: every mirrored zone. */
  zones?: string[];
}

function outcomeOf(e: unknown): EventOutcome {
  const err = e as Error;
  // A rewritten branch or a refused push will not heal by waiting: failed at once (git_status shows the reason).
  if (e instanceof services.GitHistoryRewritten || e instanceof services.GitImportFailed || e instanceof services.GitNotConfigured)
    return { kind: 'fail', error: err.message };
  return { kind: 'retry', error: err.message };
}

export function gitHandlers(store: Store, log: Logger): EventHandler[] {
  const ctx = services.serviceContext(store, { actor: 'dmsd git' });
  const push: EventHandler = {
    type: GIT_PUSH_EVENT,
    // About six hours of backoff (capped at 30 min a try); the versions stay pending in the database after that.
    maxAttempts: 20,
    async *decide(due) {
      let zones: Set<string> | undefined = new Set();
      for (const e of due) {
        const p = (e.payload ?? {}) as GitPushPayload;
        if (!p.zones) zones = undefined;
        else if (zones) for (const z of p.zones) zones.add(z);
      }
      let out: EventOutcome;
      try {
        const r = await services.gitPush(ctx, zones ? { zones: [...zones] } : {});
        if (r.commits > 0) log.info({ commits: r.commits, head: r.head, zones: r.zones.length }, 'git: pushed');
        if (r.imported?.zones.length) log.info({ commit: r.imported.commit, zones: r.imported.zones.length }, 'git: imported before pushing');
        out = { kind: 'done', detail: 'pushed' };
      } catch (e) {
        out = outcomeOf(e);
        log.warn({ err: (e as Error).message }, 'git: push failed');
      }
      for (const e of due) yield [e, out];
    },
  };
  const pull: EventHandler = {
    type: GIT_PULL_EVENT,
    maxAttempts: 20,
    async *decide(due) {
      let out: EventOutcome;
      const started = Date.now();
      // Where an import's time goes (debug): queued → taken, then each step (git, checks, the commit).
      const steps: Record<string, number> = {};
      try {
        const r = await services.gitPull(ctx, { trace: (phase, ms) => (steps[phase] = ms) });
        const timing = { queuedMs: started - Math.min(...due.map((e) => e.created.getTime())), ms: Date.now() - started, steps };
        if (r.zones.length > 0 || r.conflicts.length > 0)
          log.info({ commit: r.commit, zones: r.zones.length > 20 ? r.zones.length : r.zones, conflicts: r.conflicts, ...timing }, 'git: imported');
        else log.debug({ commit: r.commit, ...timing }, 'git: pulled, nothing new');
        out = { kind: 'done', detail: 'pulled' };
      } catch (e) {
        out = outcomeOf(e);
        log.warn({ err: (e as Error).message }, 'git: pull failed');
      }
      for (const e of due) yield [e, out];
    },
  };
  return [push, pull];
}

const GIT_KINDS = new Set(['publish', 'delete', 'undelete', 'enable']);

/**
 * The supervisor's git duty: queue a push for the zones each feed poll names (when a repository is configured), a
 * full push and a pull at start and when git_mirror changes, a pull every git_poll. `kick` runs the event runner.
 */
export async function startGitTasks(store: Store, log: Logger, kick: () => void): Promise<{ stop: () => Promise<void> }> {
  const ctx = services.serviceContext(store, { actor: 'dmsd git' });
  let cfg: services.GitConfig | null = null;
  let lastPoll = Date.now();
  const queue = async (type: string, payload: unknown) => {
    await services.enqueueEvent(ctx, type, { payload });
    kick();
  };
  const checkConfig = async (start: boolean) => {
    const next = await services.gitConfig(ctx);
    const changed = (next?.url ?? '') !== (cfg?.url ?? '') || (next?.branch ?? '') !== (cfg?.branch ?? '');
    cfg = next;
    if (!cfg || !(start || changed)) return;
    if (cfg.managed) await queue(GIT_PULL_EVENT, {});
    if (cfg.zones) await queue(GIT_PUSH_EVENT, {});
  };
  await checkConfig(true).catch((e) => log.error({ err: (e as Error).message }, 'git: cannot read the configuration'));
  const since = await services.currentChangeSeq(ctx);
  const stopFeed = services.followChanges(
    ctx,
    since,
    async (poll) => {
      if (!cfg?.zones) return;
      const zones = new Set<string>();
      for (const c of poll.changes) if (GIT_KINDS.has(c.kind)) zones.add(c.zone);
      if (poll.resync) await queue(GIT_PUSH_EVENT, {});
      else if (zones.size > 0) await queue(GIT_PUSH_EVENT, { zones: [...zones] } satisfies GitPushPayload);
    },
    { intervalMs: 250, onError: (e) => log.error({ err: (e as Error).message }, 'change feed poll failed (git)') },
  );
  // The configuration is not in the change feed: look every few seconds (one small read), and poll the remote.
  const timer = setInterval(() => {
    void (async () => {
      await checkConfig(false);
      const poll = cfg?.managed ? cfg.poll : null;
      if (poll && Date.now() - lastPoll >= poll * 1000) {
        lastPoll = Date.now();
        await queue(GIT_PULL_EVENT, {});
      }
    })().catch((e) => log.error({ err: (e as Error).message }, 'git: periodic check failed'));
  }, 5000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await stopFeed();
    },
  };
}

/**
 * A signed NOTIFY for a git-managed zone (ocaml-dns primary-git's `onotify`): the key must be one that may update the
 * zone — named `<name>._update.<zone or a parent>` (the `_keys` convention) or named in one of the zone's grants.
 * Queues a pull; true = answered NOERROR.
 */
export function gitNotifyPort(store: Store, log: Logger, onQueued?: () => void): (zone: Name, key: Name, address: string) => Promise<boolean> {
  const ctx = services.serviceContext(store, { actor: 'dmsd git' });
  return async (zone, key, address) => {
    const received = performance.now();
    try {
      if (!(await services.gitManagesZone(ctx, zone.toString()))) return false;
      const labels = key.toString().toLowerCase().split('.');
      const op = labels.indexOf('_update');
      const conventional = op > 0 && zone.isSubdomainOf(Name.from(labels.slice(op + 1).join('.') || '.'));
      let granted = false;
      if (!conventional) {
        const grants = await services.listUpdateGrants(ctx, zone.toString()).catch(() => [] as string[]);
        granted = grants.some((g) => {
          const id = g.split(/\s+/)[1];
          return g.toLowerCase().startsWith('grant') && id !== undefined && Name.from(id).equals(key);
        });
      }
      if (!conventional && !granted) {
        log.warn({ zone: zone.toString(), key: key.toString(), client: address }, 'git: NOTIFY refused: the key may not update the zone');
        return false;
      }
      await services.enqueueEvent(ctx, GIT_PULL_EVENT, { payload: { zone: zone.toString(), key: key.toString() } });
      log.info({ zone: zone.toString(), key: key.toString(), client: address, ms: Math.round(performance.now() - received) }, 'git: NOTIFY: pull queued');
      // In the supervising process: run it now rather than at the runner's next tick.
      onQueued?.();
      return true;
    } catch (e) {
      log.error({ err: (e as Error).message }, 'git: NOTIFY handling failed');
      return false;
    }
  };
}
