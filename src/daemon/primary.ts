// dmsd as a primary over the database: TSIG keys from the store (kept in memory, reloaded when the feed says the key
// set changed), transfers of what the ZoneTable serves with IXFR from the stored version history and the zone's
// transfer rules, RFC 2136 updates through the services (only inc_updates zones; the zone's update grants; change_by =
// key name; committed before the answer), and NOTIFY on every publish through the persistent event queue.
//
// NOTIFYs: the supervising process (the only process without --workers) follows the change feed, queues one `notify`
// event per target of each published zone (and of every zone with targets once at start) (services.zoneNotifyTargets: also-notify of the zone and its server
// group, signed with the entry's key or the zone's transfer key) and sends due events every second
// (events/notify.ts through the event runner events/runner.ts; retries back off, see services/events.ts). Cluster workers never send NOTIFYs.

import type { Logger } from 'pino';
import { typeFromString } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import type { TsigKey } from '../dns/tsig.js';
import type { TransferRule } from '../server/acl.js';
import { attachPrimary, type KeyStore, type Primary, type XfrLimits, zoneTableSource } from '../server/primary.js';
import type { QueryHandler } from '../server/query.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import type { ZoneTable } from '../zone/table.js';
import { parseGrant, type UpdateGrant } from '../zone/update.js';
import { Foreground } from './foreground.js';
import { gitNotifyPort } from './events/git.js';
import { NOTIFY_EVENT, type NotifyEventPayload, notifyHandler } from './events/notify.js';
import { type EventHandler, runDueEvents } from './events/runner.js';
import { servicesUpdateSink, servicesXfrHistory } from './primary-ports.js';

/** The TSIG keys of the database, in memory: the primary looks a key up on every signed message. */
export class DbKeyStore implements KeyStore {
  private keys = new Map<string, TsigKey>();
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  private loadedAt = 0;

  async reload(): Promise<void> {
    this.loadedAt = Date.now();
    const list = await services.loadTsigKeys(services.serviceContext(this.store));
    this.keys = new Map(list.map((k) => [k.name.key, k]));
    this.log.debug({ keys: list.length }, 'TSIG keys loaded');
  }

  /**
   * A key made a moment ago may not have reached us through the feed yet (up to one poll): on a miss, read the keys
   * again — at most once a second, so a stream of unknown keys costs the database nothing more.
   */
  get(name: Name): TsigKey | undefined | Promise<TsigKey | undefined> {
    const k = this.keys.get(name.key);
    if (k || Date.now() - this.loadedAt < 1000) return k;
    return this.reload().then(
      () => this.keys.get(name.key),
      () => undefined,
    );
  }
}

/** Parsed grant lists by their text: a zone's grants rarely change, UPDATEs to it come by the thousand. */
const parsedGrants = new Map<string, UpdateGrant[]>();

/** The zone's update grants, parsed; a stored line the parser rejects is logged and left out (it grants nothing). */
async function grantsOf(store: Store, zone: { name: string }, log: Logger, texts?: readonly string[]): Promise<UpdateGrant[]> {
  const cacheKey = texts ? `${zone.name}\n${texts.join('\n')}` : undefined;
  const cached = cacheKey === undefined ? undefined : parsedGrants.get(cacheKey);
  if (cached) return cached;
  const out: UpdateGrant[] = [];
  for (const text of texts ?? (await services.listUpdateGrants(services.serviceContext(store), zone.name))) {
    try {
      // As in named.conf update-policy, every name (key identity, target) is absolute, with or without the dot.
      out.push(parseGrant(text, (s) => Name.from(s), typeFromString));
    } catch (e) {
      log.error({ zone: zone.name, grant: text, err: (e as Error).message }, 'update grant ignored: it does not parse');
    }
  }
  if (cacheKey !== undefined) {
    if (parsedGrants.size >= 10_000) parsedGrants.clear();
    parsedGrants.set(cacheKey, out);
  }
  return out;
}

async function rulesOf(store: Store, origin: Name): Promise<TransferRule[]> {
  return (await services.zoneTransferRules(services.serviceContext(store), origin.toString())).map((r) => {
    const rule: TransferRule = {};
    if (r.key !== undefined) rule.key = Name.from(r.key);
    if (r.address !== undefined) rule.address = r.address;
    return rule;
  });
}

/**
 * Make dmsd's QueryHandler a primary. `refresh` reloads one zone into this process's table right after an UPDATE
 * committed, so the answer to the client and the next query agree without waiting for the feed.
 */
export function attachDbPrimary(
  qh: QueryHandler,
  table: ZoneTable,
  store: Store,
  keys: KeyStore,
  log: Logger,
  refresh: (zone: string, committed?: services.CommittedChange) => Promise<void>,
  o: {
    /** Why UPDATEs are refused now (a fenced old primary, daemon/leader.ts), or undefined when they are not. */
    refuseUpdates?: () => string | undefined;
    xfrLimits?: XfrLimits;
    onXfrLimited?: (scope: 'total' | 'client') => void;
    /** A git pull was queued (signed NOTIFY): run the event runner now, where this process runs it. */
    onGitPull?: () => void;
    /** Each UPDATE's commit, until this process serves it, runs as foreground work (background slices wait for it). */
    foreground?: Foreground;
  } = {},
): Primary {
  const { refuseUpdates, xfrLimits, onXfrLimited, onGitPull } = o;
  const foreground = o.foreground ?? new Foreground();
  const sink = servicesUpdateSink(store, (zone, texts) => grantsOf(store, zone, log, texts), refuseUpdates ? { refuse: refuseUpdates } : {});
  // A committed UPDATE is served here (patched with what it changed) before it is answered.
  const served = async <R extends { committed?: services.CommittedChange }>(origin: Name, r: R): Promise<R> => {
    await refresh(origin.toString(), r.committed).catch((e) => log.error({ zone: origin.toString(), err: (e as Error).message }, 'reload after update failed'));
    return r;
  };
  return attachPrimary(qh, {
    transfers: zoneTableSource(table, servicesXfrHistory(store, (origin) => rulesOf(store, origin))),
    updates: {
      // Spread keeps getZoneAt: an UPDATE then reads only the owners it names, not the whole zone.
      ...sink,
      commit: (c) => foreground.run(async () => served(c.origin, await sink.commit(c))),
      transact: (origin, owners, author, decide) =>
        foreground.run(async () => {
          const r = await sink.transact(origin, owners, author, decide);
          return r === 'apart' || !r ? r : served(origin, r);
        }),
    },
    keys,
    xfr: { log: (e) => log.info(e, e.kind === 'refused' || e.kind === 'notauth' ? 'transfer refused' : 'transfer') },
    update: { log: (e) => log.info(e, e.rcode === 0 ? 'update' : 'update refused') },
    // A signed NOTIFY for a git-managed zone makes the supervisor pull the repository (issue 12).
    onSourceNotify: gitNotifyPort(store, log, onGitPull),
    onTsigFailure: (e) => log.warn(e, 'TSIG check failed'),
    onError: (e) => log.error({ err: (e as Error)?.message ?? String(e) }, 'primary: unexpected error (answered SERVFAIL)'),
    ...(xfrLimits ? { xfrLimits } : {}),
    onXfrLimit: (e) => {
      onXfrLimited?.(e.scope);
      log.warn(e, 'transfer refused: too many at once');
    },
  });
}

const NOTIFY_KINDS = new Set(['publish', 'enable', 'undelete']);

/** Milliseconds now, and a wait that ends early when `signal` aborts. */
export interface PacingClock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const realClock: PacingClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((res) => {
      if (signal.aborted) return res();
      const timer = setTimeout(res, ms);
      timer.unref();
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        res();
      });
    }),
};

/**
 * NOTIFY events are queued without waiting for the disk: what an OS crash could lose, the NOTIFY of every zone with
 * targets at the next start sends again; the fsync would delay every fresh NOTIFY (commit → secondary, issue 17).
 */
const NOTIFY_QUEUEING = { durable: false } as const;

/**
 * A zone's NOTIFYs go out at once for a change after a quiet spell, then at most once per notify_delay (a setting,
 * 0.05 s by default) while changes keep coming, the last one announcing the newest version (BIND's notify-delay, whose
 * default is 5 s; Knot sends one per change, as notify_delay 0 does). A stream of sequential UPDATEs into a zone with
 * one secondary otherwise queued, sent and recorded a NOTIFY round per UPDATE, work beside the next UPDATE, and asked
 * the secondary for a transfer each time (`bench/update-ab.mjs --block 50 --spin 80 --notify`, on top of the change
 * feed's pacing: 0.91 → 0.74 ms an UPDATE, median, as without a secondary).
 */
const NOTIFY_DELAY_DEFAULT_MS = 50;
/** How often the notifier reads notify_delay again: a set_config takes effect within this. */
const NOTIFY_DELAY_REFRESH_MS = 10_000;

/**
 * The supervisor's NOTIFY duty: queue NOTIFYs for each zone published from now on, send due ones every second.
 * `keys` must be kept current by the caller (reload on the feed's `keys` rows) — it is reloaded here too.
 */
export async function startNotifier(
  store: Store,
  keys: DbKeyStore,
  log: Logger,
  o: {
    intervalMs?: number;
    soaOf?: (zone: Name) => RR | undefined;
    /** Without soaOf (cluster supervisor): the workers' change-feed position (events wait for their publish's). */
    servedSeq?: () => number | undefined;
    /** Zones per second NOTIFYed at start (BIND's startup-notify-rate, also 20 by default). */
    startupNotifyRate?: number;
    /** Time and waiting; tests pass their own to check the pacing without sleeping. */
    clock?: PacingClock;
    /** Handlers of further event types run by the same runner (git pushes and pulls). */
    handlers?: readonly EventHandler[];
    /** Checked before every round (queueing and sending): false once this dmsd no longer holds the leader lease. */
    active?: () => boolean;
  } = {},
): Promise<{ stop: () => Promise<void>; kick: () => void; served: () => void }> {
  const clock = o.clock ?? realClock;
  // The SOA hint (RFC 1996 §3.7) only when this process serves the zone; secondaries do not need it.
  const handlers = [
    notifyHandler({ keys, ...(o.soaOf ? { soaOf: o.soaOf } : { minAgeMs: 600, ...(o.servedSeq ? { servedSeq: o.servedSeq } : {}) }) }),
    ...(o.handlers ?? []),
  ];
  const since = await services.currentChangeSeq(services.serviceContext(store));
  const active = o.active ?? (() => true);
  // The NOTIFYs of every zone given, in one transaction: one commit to wait for, not one per zone or secondary (a git
  // push changing 1,000 zones with secondaries would otherwise wait for 1,000 fsyncs before the last NOTIFY).
  // Resolves to how many zones got NOTIFYs queued.
  const queueAll = async (zones: readonly { zone: string; why: string; seq?: number }[]): Promise<number> => {
    if (!active()) return 0;
    const batch: { zone: string; why: string; targets: string[]; payloads: NotifyEventPayload[] }[] = [];
    // Many zones at once: one look-up says which can have targets at all, the others cost nothing more.
    const maybe =
      zones.length > 20
        ? await services.zonesMaybeWithNotifyTargets(services.serviceContext(store), zones.map((z) => z.zone)).catch(() => undefined)
        : undefined;
    for (const { zone, why, seq } of zones) {
      if (maybe && !maybe.has(zone.toLowerCase())) continue;
      try {
        const targets = await services.zoneNotifyTargets(services.serviceContext(store), zone);
        if (targets.length === 0) continue;
        const serial = (await services.getZone(services.serviceContext(store), zone)).soaSerial;
        const payloads = targets.map(
          (t): NotifyEventPayload => ({
            address: t.address,
            port: t.port,
            ...(t.key ? { key: t.key } : {}),
            ...(serial !== null ? { serial } : {}),
            ...(seq !== undefined ? { seq } : {}),
          }),
        );
        batch.push({ zone, why, targets: targets.map((t) => `${t.address}#${t.port}`), payloads });
      } catch (e) {
        log.error({ zone, err: (e as Error).message }, 'cannot queue NOTIFYs');
      }
    }
    if (batch.length === 0) return 0;
    queuedGeneration++;
    try {
      await services.enqueueZoneEvents(services.serviceContext(store), NOTIFY_EVENT, batch, NOTIFY_QUEUEING);
      for (const b of batch) log.info({ zone: b.zone, why: b.why, targets: b.targets }, 'NOTIFY queued');
    } catch (e) {
      if (batch.length === 1) {
        log.error({ zone: batch[0].zone, err: (e as Error).message }, 'cannot queue NOTIFYs');
        return 0;
      }
      // One zone's trouble must not cost the others their NOTIFYs: each on its own.
      log.warn({ zones: batch.length, err: (e as Error).message }, 'cannot queue the NOTIFYs together: one zone at a time');
      for (const b of batch)
        try {
          await services.enqueueZoneEvents(services.serviceContext(store), NOTIFY_EVENT, [b], NOTIFY_QUEUEING);
          log.info({ zone: b.zone, why: b.why, targets: b.targets }, 'NOTIFY queued');
        } catch (e2) {
          log.error({ zone: b.zone, err: (e2 as Error).message }, 'cannot queue NOTIFYs');
        }
    }
    return batch.length;
  };
  const queue = async (zone: string, why: string): Promise<void> => {
    await queueAll([{ zone, why }]);
  };
  // Rounds may overlap (a round waiting for an unanswered NOTIFY must not delay a fresh one); `busy` keeps two rounds
  // from taking the same event. Rounds start one after the other's read: a kick during a read starts one more after it.
  const busy = new Set<number>();
  // served() (each version this process serves) runs a round only when NOTIFYs may be waiting: some were queued since
  // the last round that found the queue empty. Without it every UPDATE read the event queue once more for nothing.
  let queuedGeneration = 0;
  let emptyAtGeneration = -1;
  let reading = false;
  let again = false;
  const run = (): void => {
    // The lease is checked before each round: a leader that lost it sends nothing more (issue 13).
    if (!active()) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    again = false;
    let took = false;
    const taken = () => {
      if (took) return;
      took = true;
      reading = false;
      if (again) run();
    };
    const generation = queuedGeneration;
    runDueEvents(store, handlers, { now: clock.now(), busy, onTaken: taken })
      .then((round) => {
        if (round.read === 0) emptyAtGeneration = Math.max(emptyAtGeneration, generation);
        const acked = round.counts.get('done:acknowledged') ?? 0;
        if (acked) log.info({ acked }, 'NOTIFY acknowledged');
      })
      .catch((e) => log.error({ err: (e as Error).message }, 'NOTIFY run failed'))
      .finally(taken);
  };
  // Pacing (notify_delay): when each zone's NOTIFYs were last queued, and the changes that wait for their turn.
  let paceMs = NOTIFY_DELAY_DEFAULT_MS;
  const readPace = async () => {
    try {
      paceMs = await services.notifyDelayMs(services.serviceContext(store));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'cannot read notify_delay');
    }
  };
  await readPace();
  const delayRefresh = setInterval(() => void readPace(), NOTIFY_DELAY_REFRESH_MS);
  delayRefresh.unref();
  const lastQueued = new Map<string, number>();
  const paced = new Map<string, { zone: string; why: string; seq?: number }>();
  let paceTimer: NodeJS.Timeout | undefined;
  // Zones quiet for a pace forget their turn: the map holds only the zones changing now.
  const forgetQuiet = (now: number) => {
    for (const [z, at] of lastQueued) if (now - at >= paceMs) lastQueued.delete(z);
  };
  // Real time, not `clock`: the pace is about the load on this process and on the secondaries.
  const queuePaced = async (changes: readonly { zone: string; why: string; seq?: number }[]): Promise<void> => {
    const now = performance.now();
    if (lastQueued.size > 1000) forgetQuiet(now);
    const due: { zone: string; why: string; seq?: number }[] = [];
    let wait = paceMs;
    for (const c of changes) {
      const key = c.zone.toLowerCase();
      const at = lastQueued.get(key);
      if (at !== undefined && now - at < paceMs) {
        paced.set(key, c);
        wait = Math.min(wait, at + paceMs - now);
      } else {
        paced.delete(key);
        due.push(c);
      }
    }
    for (const c of due) lastQueued.set(c.zone.toLowerCase(), now);
    if (paced.size > 0 && !paceTimer) {
      paceTimer = setTimeout(
        () => {
          paceTimer = undefined;
          const later = [...paced.values()];
          paced.clear();
          forgetQuiet(performance.now());
          queuePaced(later).catch((e) => log.error({ err: (e as Error).message }, 'cannot queue NOTIFYs'));
        },
        Math.max(1, Math.ceil(wait)),
      );
      paceTimer.unref();
    }
    if (due.length === 0) return;
    // Send now rather than at the next retry tick: publish-to-secondary latency is the point of NOTIFY. A change
    // with no one to tell (no targets) reads no events.
    if ((await queueAll(due)) > 0) run();
  };
  const stopFeed = services.followChanges(
    services.serviceContext(store),
    since,
    async (poll) => {
      const last = new Map<string, services.ZoneChange>();
      for (const c of poll.changes) {
        if (c.kind === 'keys') await keys.reload();
        else if (NOTIFY_KINDS.has(c.kind)) last.set(c.zone, c);
      }
      await queuePaced([...last].map(([zone, c]) => ({ zone, why: c.kind, seq: c.seq })));
    },
    { intervalMs: 250, onError: (e) => log.error({ err: (e as Error).message }, 'change feed poll failed (notifier)') },
  );
  // As named does: NOTIFY every zone with targets once at start, so a change made while dmsd was down (zone_tool
  // writes the database directly) reaches the secondaries now rather than at their next SOA refresh.
  // Paced (startupNotifyRate zones a second), as named paces them: with 100,000 zones an unpaced start would write
  // every event at once and flood the secondaries, which then all ask for the SOA together.
  let stopping = false;
  const stopSignal = new AbortController();
  const rate = Math.max(1, o.startupNotifyRate ?? 20);
  const startup = (async () => {
    let windowStart = clock.now();
    let inWindow = 0;
    for (const zone of await services.zonesWithNotifyTargets(services.serviceContext(store))) {
      if (stopping) return;
      if (inWindow >= rate) {
        const wait = windowStart + 1000 - clock.now();
        if (wait > 0) await clock.sleep(wait, stopSignal.signal);
        if (stopping) return;
        windowStart = clock.now();
        inWindow = 0;
      }
      await queue(zone, 'start');
      inWindow++;
    }
  })().catch((e) => log.error({ err: (e as Error).message }, 'cannot queue the start-up NOTIFYs'));
  // The timer handles retries with backoff; fresh publishes are sent at once (see the feed callback above).
  // Short interval: an event held until its version is served (runNotifyEvents) goes out soon after the reload.
  const timer = setInterval(run, o.intervalMs ?? 250);
  timer.unref();
  return {
    // Run a round now (events were queued: git).
    kick: () => run(),
    // This process now serves a new version: NOTIFYs held until it did (RFC 1996 §3.11) can go now.
    served: () => {
      if (emptyAtGeneration !== queuedGeneration) run();
    },
    stop: async () => {
      clearInterval(timer);
      clearInterval(delayRefresh);
      if (paceTimer) clearTimeout(paceTimer);
      paceTimer = undefined;
      stopping = true;
      stopSignal.abort();
      await startup;
      await stopFeed();
    },
  };
}
