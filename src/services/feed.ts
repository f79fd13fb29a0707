// What dmsd needs: the published zone as served, and the change feed telling it which zones moved.

import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { type CommittedFeedRow, readTx, type Store, type Tx } from '../store/index.js';
import {
  CHANGE_CHANNEL,
  changesAfter,
  cursorPublishedRecordsOf,
  changesVacuumedTo,
  lastChangeSeq,
  type PublishedRecordTuple,
  streamPublishedRecordsOf,
  servedZoneNames,
  servedZonePage,
  servedZoneRow,
  withoutMemoryMap,
} from '../store/queries/feed.js';
import { ownerRowsAt, ziRow, ziRowsOfVersions } from '../store/queries/versions.js';
import { type ServiceContext, zoneScope } from './context.js';
import { diffRows, rowToRecord, servedRecordsPacked, soaRecord, type ZiRow } from './core.js';
import { normalizeZoneName } from './names.js';
import { type SnapshotHead, snapshotHeads, snapshotParts } from '../store/queries/snapshots.js';
import { wireKey } from '../zone/key.js';
import type { ChangePoll, PublishedChange, PublishedZone, StreamedZone, ZoneChange } from './types.js';

export async function loadPublishedZone(ctx: ServiceContext, name: string): Promise<PublishedZone | null> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await servedZoneRow(trx, zoneScope(ctx), key);
    if (!zone || zone.published_version === null) return null;
    const zi = await ziRow(trx, Number(zone.id), zone.published_version);
    if (!zi) return null;
    const records = await servedRecordsPacked(trx, zone, zi);
    return { zoneId: Number(zone.id), origin: Name.parse(zone.name), version: zi.version, serial: Number(zi.soa_serial), records };
  });
}

/**
 * What turns the served version `fromVersion` of a zone into its published version, read in one transaction from
 * the rows born or died between the two (as IXFR and diffVersions read them) and the complete records, at the
 * published version, of every owner those rows belong to — so that applying it gives exactly the zone
 * loadPublishedZone would give (record order, TTLs and spelling included). The cost follows the change, not the
 * zone. `maxChanges`: above this many changed rows the owners are not read ('too-big': reloading is cheaper).
 * `fromZiId`: the ZI of `fromVersion` must be this one (else 'unavailable'); `withApex`: the apex's records are read
 * even when none of its rows changed (a zone snapshot leaves the apex out).
 */
export async function loadPublishedChange(
  ctx: ServiceContext,
  name: string,
  fromVersion: number,
  o: { maxChanges?: number; fromZiId?: number; withApex?: boolean } = {},
): Promise<PublishedChange> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => publishedChangeIn(trx, await servedZoneRow(trx, zoneScope(ctx), key), fromVersion, o));
}

/** loadPublishedChange in a read transaction that holds the served zone's row already (the signer's read). */
export async function publishedChangeIn(
  trx: Tx,
  zone: Awaited<ReturnType<typeof servedZoneRow>>,
  fromVersion: number,
  o: { maxChanges?: number; fromZiId?: number; withApex?: boolean } = {},
): Promise<PublishedChange> {
  if (!zone || zone.published_version === null) return { kind: 'gone' };
  const zis = await ziRowsOfVersions(trx, Number(zone.id), [fromVersion, zone.published_version]);
  const toZi = zis.find((z) => z.version === zone.published_version);
  if (!toZi) return { kind: 'gone' };
  const fromZi = zis.find((z) => z.version === fromVersion);
  if (!fromZi) return { kind: 'unavailable', reason: `version ${fromVersion} is no longer stored` };
  if (o.fromZiId !== undefined && Number(fromZi.id) !== o.fromZiId) return { kind: 'unavailable', reason: `version ${fromVersion} was made again` };
  const origin = Name.parse(zone.name);
  const soa = soaRecord(origin, toZi);
  const head = { version: toZi.version, serial: Number(toZi.soa_serial), soa: { name: origin, type: soa.type, class: soa.class, ttl: soa.ttl, rdata: soa.rdata } };
  const { died, born } = await diffRows(trx, Number(zone.id), fromVersion, toZi.version);
  const changes = died.length + born.length;
  if (o.maxChanges !== undefined && changes > o.maxChanges) return { kind: 'too-big', changes, ...head };
  // Every owner with a row born or died, even one only respelled: its whole list at the new version replaces it.
  const touched = new Map<string, string>();
  if (o.withApex) touched.set(origin.key, zone.name);
  for (const r of died) touched.set(r.owner_key, r.owner);
  for (const r of born) touched.set(r.owner_key, r.owner);
  const rows = await ownerRowsAt(trx, Number(zone.id), [...touched.keys()], toZi.version, true);
  const byOwner = new Map<string, { name: Name; records: RR[] }>();
  for (const k of touched.keys()) byOwner.set(k, { name: Name.parse(touched.get(k)!), records: [] });
  for (const r of rows) {
    const rec = rowToRecord(r);
    byOwner.get(r.owner_key)!.records.push({ name: rec.name, type: rec.type, class: rec.class, ttl: rec.ttl, rdata: rec.rdata });
  }
  return { kind: 'change', changes, owners: [...byOwner.values()], ...head };
}

/**
 * A served zone from its snapshot: the snapshot's parts plus the records at `version` of every owner changed since
 * (and of the apex). Undefined when the snapshot cannot be used (its ZI gone or made again, newer than the served
 * version, more changed since than a quarter of its records, a part missing): the caller reads the rows.
 */
export async function loadZoneFromSnapshot(ctx: ServiceContext, name: string, zoneId: number, version: number, head: SnapshotHead): Promise<StreamedZone | undefined> {
  if (head.version > version) return undefined;
  const change = await loadPublishedChange(ctx, name, head.version, { fromZiId: head.ziId, withApex: true, maxChanges: Math.max(1000, Math.floor(head.records / 4)) });
  // Published again since the page was read: the caller reads the zone alone.
  switch (change.kind) {
    case 'change':
      if (change.version === version) break;
      return undefined;
    default:
      return undefined;
  }
  const parts = await snapshotParts(ctx.store.db, zoneId, head.ziId);
  if (!parts) return undefined;
  const records = [change.soa];
  const skip = new Set<string>();
  for (const o of change.owners) {
    skip.add(wireKey(o.name));
    records.push(...o.records);
  }
  return { zoneId, origin: Name.parse(name), version: change.version, serial: change.serial, records, snapshot: { version: head.version, parts, skip } };
}

/**
 * Every served zone, a page of zones per pair of queries (dmsd start-up at 100k zones). Take `currentChangeSeq`
 * BEFORE calling this and follow changes from there: nothing published meanwhile is missed.
 */
export async function loadPublishedZones(
  ctx: ServiceContext,
  onZone: (zone: StreamedZone) => void | Promise<void>,
  o: { pageSize?: number } = {},
): Promise<number> {
  return withoutMemoryMap(ctx.store, () => loadPages(ctx, onZone, o.pageSize ?? 500));
}

async function loadPages(ctx: ServiceContext, onZone: (zone: StreamedZone) => void | Promise<void>, pageSize: number): Promise<number> {
  let after = '';
  let count = 0;
  for (;;) {
    const all = await servedZonePage(ctx.store.db, zoneScope(ctx), after, pageSize);
    if (all.length === 0) return count;
    after = all[all.length - 1].name;
    // Large zones with a stored snapshot: from it (and the rows changed since); the others, and those whose snapshot
    // cannot be used, row by row.
    const heads = await snapshotHeads(ctx.store.db, all.map((z) => Number(z.id)));
    let page = all;
    if (heads.size > 0) {
      page = [];
      for (const z of all) {
        const head = heads.get(Number(z.id));
        const zone = head ? await loadZoneFromSnapshot(ctx, z.name, Number(z.id), z.version, head) : undefined;
        if (!zone) {
          page.push(z);
          continue;
        }
        await onZone(zone);
        count++;
      }
    }
    if (page.length === 0) continue;
    const stream = streamPublishedRecordsOf(ctx.store, page.map((z) => Number(z.id)));
    if (stream) {
      count += await streamPage(ctx, page, stream, onZone);
      continue;
    }
    count += await cursorPage(ctx, page, onZone);
  }
}

/**
 * PostgreSQL: one page of zones from a cursor of one read transaction, a batch of rows at a time; each zone's records
 * (owner names parsed once per run of equal owners) are handed over when its last row is read, so a large zone is
 * held as records once, never as rows. A zone published again since its page was read is read alone afterwards.
 */
async function cursorPage(ctx: ServiceContext, page: readonly ZonePageRow[], onZone: (zone: StreamedZone) => void | Promise<void>): Promise<number> {
  let count = 0;
  const zoneOf = new Map(page.map((z) => [Number(z.id), z]));
  const seen = new Set<number>();
  const again: string[] = [];
  const hand = async (z: ZonePageRow, records: RR[]) => {
    const origin = Name.parse(z.name);
    const soa = soaRecord(origin, z as unknown as ZiRow);
    const head: RR = { name: soa.name, type: soa.type, class: soa.class, ttl: soa.ttl, rdata: soa.rdata };
    await onZone({ zoneId: Number(z.id), origin, version: z.version, serial: Number(z.soa_serial), records: [head, ...records] });
    count++;
  };
  await readTx(ctx.store, async (trx) => {
    let curId = -1;
    let cur: ZonePageRow | undefined;
    let stale = false;
    let records: RR[] = [];
    let lastOwner = '';
    let lastName: Name | undefined;
    const flush = async () => {
      if (cur === undefined) return;
      seen.add(curId);
      if (stale) again.push(cur.name);
      else await hand(cur, records);
      cur = undefined;
      records = [];
    };
    for await (const rows of cursorPublishedRecordsOf(trx, [...zoneOf.keys()])) {
      for (const [zid, pv, owner, type, rclass, ttl, rdata] of rows) {
        if (zid !== curId) {
          await flush();
          curId = zid;
          cur = zoneOf.get(zid);
          stale = cur !== undefined && pv !== cur.version;
          lastOwner = '';
        }
        if (stale || cur === undefined) continue;
        if (owner !== lastOwner || !lastName) {
          lastOwner = owner;
          lastName = Name.parse(owner);
        }
        // The driver's Buffers are fresh per row and are Uint8Arrays: no copy needed.
        records.push({ name: lastName, type, class: rclass, ttl, rdata });
      }
    }
    await flush();
  }, { transaction: true });
  // Zones without any record row (only the SOA, kept in the ZI), and the ones published again meanwhile.
  for (const z of page) if (!seen.has(Number(z.id))) await hand(z, []);
  for (const name of again) {
    const zone = await loadPublishedZone(ctx, name);
    if (zone) {
      await onZone(zone);
      count++;
    }
  }
  return count;
}

type ZonePageRow = Awaited<ReturnType<typeof servedZonePage>>[number];

/**
 * One page of zones from a row stream: each zone's records are handed to `onZone` as an iterable that reads the
 * stream while it is consumed (the caller compiles them as they come; valid only during the call), so memory holds
 * the compiled zones, not the rows. A zone published again since its page was read is read alone afterwards.
 */
async function streamPage(
  ctx: ServiceContext,
  page: readonly ZonePageRow[],
  stream: IterableIterator<PublishedRecordTuple>,
  onZone: (zone: StreamedZone) => void | Promise<void>,
): Promise<number> {
  let count = 0;
  const again: string[] = [];
  let next = stream.next();
  const byId = new Map(page.map((z) => [Number(z.id), z]));
  const done = new Set<number>();
  while (!next.done) {
    const zoneId = Number(next.value[0]);
    const z = byId.get(zoneId);
    const pv = next.value[1];
    // The records of this zone, one row after the other; owner names parsed once per run of equal owners.
    let lastOwner = '';
    let lastName: Name | undefined;
    const rows = function* (): Generator<RR> {
      while (!next.done && Number(next.value[0]) === zoneId) {
        const [, , owner, type, rclass, ttl, rdata] = next.value;
        if (owner !== lastOwner || !lastName) {
          lastOwner = owner;
          lastName = Name.parse(owner);
        }
        yield { name: lastName, type, class: rclass, ttl: Number(ttl), rdata };
        next = stream.next();
      }
    };
    if (!z || pv !== z.version) {
      // Not in the page (cannot happen) or published again since the page was read: skip its rows, read it alone.
      for (const _ of rows());
      if (z) again.push(z.name);
      continue;
    }
    done.add(zoneId);
    const origin = Name.parse(z.name);
    const soa = soaRecord(origin, z as unknown as ZiRow);
    const records = rows();
    // Not awaited unless it is async: the statement stays open meanwhile, and SQLite allows no other query on the
    // connection while it is.
    const r = onZone({
      zoneId,
      origin,
      version: z.version,
      serial: Number(z.soa_serial),
      records: (function* () {
        yield { name: soa.name, type: soa.type, class: soa.class, ttl: soa.ttl, rdata: soa.rdata };
        yield* records;
      })(),
    });
    if (r) await r;
    // Whatever onZone left unread.
    for (const _ of records);
    count++;
  }
  // Zones without any record row (only the SOA, kept in the ZI) and the ones published again meanwhile.
  for (const z of page) {
    if (done.has(Number(z.id)) && !again.includes(z.name)) continue;
    const zone = await loadPublishedZone(ctx, z.name);
    if (zone) {
      await onZone(zone);
      count++;
    }
  }
  return count;
}

export async function listServedZones(ctx: ServiceContext): Promise<string[]> {
  return servedZoneNames(ctx.store.db, zoneScope(ctx));
}

export async function currentChangeSeq(ctx: ServiceContext): Promise<number> {
  return Math.max(await lastChangeSeq(ctx.store.db), await changesVacuumedTo(ctx.store.db));
}

export async function pollChanges(ctx: ServiceContext, since: number, limit = 10000): Promise<ChangePoll> {
  return pollOf(await readFeed(ctx.store, since, limit), since);
}

/** What one read of the feed gives: how far it was vacuumed and the rows after `since` (at most `limit`). */
interface FeedRead {
  vacuumedTo: number;
  changes: ZoneChange[];
}

async function readFeed(store: Store, since: number, limit: number): Promise<FeedRead> {
  const vacuumedTo = await changesVacuumedTo(store.db);
  const rows = await changesAfter(store.db, since, limit);
  return { vacuumedTo, changes: rows.map(zoneChangeOf) };
}

const zoneChangeOf = (r: CommittedFeedRow): ZoneChange => ({
  seq: r.seq,
  zoneId: r.zone_id,
  zone: r.zone_name,
  kind: r.kind as ZoneChange['kind'],
  version: r.version,
  at: new Date(r.at),
});

function pollOf(read: FeedRead, since: number): ChangePoll {
  const changes = read.changes.filter((c) => c.seq > since);
  const seq = changes.length ? changes[changes.length - 1].seq : Math.max(since, 0);
  return { seq, changes, resync: since < read.vacuumedTo };
}

/**
 * The followers of one store in one process share their feed reads: a commit wakes every follower (the zone table,
 * the notifier, the signer, server-group tasks, git), and each used to read the feed on its own — a quarter of the
 * statements of an RFC 2136 UPDATE (bench/update.mjs). One LISTEN (PostgreSQL) or doorbell subscription per store;
 * each announced commit starts a new generation, and a read made in the current generation a moment ago, from a
 * position at or before a follower's, answers that follower too (its rows filtered to the follower's position).
 *
 * Commits are announced to the followers at once after a quiet spell, then at most once per ANNOUNCE_MS while they
 * keep coming (with the rows of all of them when they are all this process's own): a stream of sequential UPDATEs
 * otherwise woke every follower after each one, work that met the next UPDATE — and, for a zone with secondaries,
 * queued and sent one NOTIFY round per UPDATE (`bench/update-ab.mjs --block 50 --spin 80 --notify`: 1.64 → 1.06 ms an
 * UPDATE, median; without a secondary −67 µs on the mean). The interval poll stays the safety net.
 */
class SharedFeed {
  /** Bumped by each announced commit: a read started before it may miss that commit. */
  private generation = 0;
  private readonly nudges = new Set<() => void>();
  private unlisten?: Promise<(() => Promise<void>) | undefined>;
  private last?: { generation: number; at: number; since: number; limit: number; read: Promise<FeedRead> };
  /**
   * The rows of this process's own commits (SQLite) announced last: a follower whose position is just before them
   * takes them without reading the feed. Only while no other commit was announced since (another process's rows may
   * follow them: its announcement makes the followers read).
   */
  private own?: { generation: number; rows: readonly CommittedFeedRow[] };
  /**
   * Commits heard of while the announcement window is open: their feed rows while they are this process's own and
   * follow one another (a follower may take them instead of reading the feed), else 'read'.
   */
  private held?: CommittedFeedRow[] | 'read';
  private window?: NodeJS.Timeout;

  constructor(private readonly store: Store) {}

  /** A commit was heard of (`own`: its rows, when this process made it): announced now or at the window's end. */
  private heard(own?: readonly CommittedFeedRow[]): void {
    if (this.window === undefined) {
      this.openWindow();
      this.announce(own);
      return;
    }
    const held = this.held;
    if (held === 'read') return;
    if (!own || own.length === 0) this.held = 'read';
    else if (held === undefined) this.held = [...own];
    else if (own[0].seq === held[held.length - 1].seq + 1) held.push(...own);
    else this.held = 'read';
  }

  private openWindow(): void {
    this.window = setTimeout(() => {
      this.window = undefined;
      const held = this.held;
      if (held === undefined) return;
      this.held = undefined;
      this.openWindow();
      this.announce(held === 'read' ? undefined : held);
    }, ANNOUNCE_MS);
    this.window.unref();
  }

  private announce(own?: readonly CommittedFeedRow[]): void {
    this.generation++;
    this.own = own && own.length > 0 ? { generation: this.generation, rows: own } : undefined;
    for (const f of [...this.nudges]) f();
  }

  /** Wake `nudge` on every announced commit; the returned function unsubscribes. */
  subscribe(nudge: () => void, onError?: (e: unknown) => void): () => Promise<void> {
    this.nudges.add(nudge);
    if (!this.unlisten && this.store.listen) {
      this.unlisten = this.store
        .listen(CHANGE_CHANNEL, (own) => this.heard(own))
        .catch((e) => {
          onError?.(e);
          return undefined;
        });
    }
    return async () => {
      this.nudges.delete(nudge);
      if (this.nudges.size > 0 || !this.unlisten) return;
      if (this.window) clearTimeout(this.window);
      this.window = undefined;
      this.held = undefined;
      const stop = this.unlisten;
      this.unlisten = undefined;
      await (await stop)?.();
    };
  }

  async poll(since: number, limit: number): Promise<ChangePoll> {
    const o = this.own;
    // Nothing was vacuumed after `since` (the newest row is never vacuumed, and these rows are newer): no resync.
    if (o && o.generation === this.generation && o.rows[0].seq === since + 1 && o.rows.length <= limit)
      return { seq: o.rows[o.rows.length - 1].seq, changes: o.rows.map(zoneChangeOf), resync: false };
    const l = this.last;
    if (l && l.generation === this.generation && l.limit === limit && l.since <= since && performance.now() - l.at < SHARE_MS) {
      try {
        const read = await l.read;
        // A full page read from further back may stop before this follower's rows end: read on our own then.
        if (read.changes.length < limit) return pollOf(read, since);
      } catch {
        // The shared read failed: try our own.
      }
    }
    const read = readFeed(this.store, since, limit);
    this.last = { generation: this.generation, at: performance.now(), since, limit, read };
    return pollOf(await read, since);
  }
}

/** How often, at most, a stream of commits is announced to a process's followers (SharedFeed). */
const ANNOUNCE_MS = 5;

/** How long a feed read may answer other followers of the same generation (they wake within the same turn). */
const SHARE_MS = 50;

const sharedFeeds = new WeakMap<Store, SharedFeed>();

function sharedFeed(store: Store): SharedFeed {
  let f = sharedFeeds.get(store);
  if (!f) sharedFeeds.set(store, (f = new SharedFeed(store)));
  return f;
}

/** Rows one poll of followChanges reads at most; a full page means there may be more right away. */
const FOLLOW_PAGE = 10000;

export function followChanges(
  ctx: ServiceContext,
  since: number,
  onChange: (poll: ChangePoll) => void | Promise<void>,
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): () => Promise<void> {
  const interval = o.intervalMs ?? 250;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let cursor = since;
  // On PostgreSQL a commit wakes the loop at once (NOTIFY); the interval stays as the safety net.
  let pending = false;
  const nudge = () => {
    pending = true;
    if (timer) clearTimeout(timer);
    wake?.();
  };
  const feed = sharedFeed(ctx.store);
  const unsubscribe = feed.subscribe(nudge, o.onError);
  const loop = (async () => {
    while (!stopped) {
      pending = false;
      try {
        const poll = await feed.poll(cursor, FOLLOW_PAGE);
        if (poll.changes.length > 0 || poll.resync) {
          await onChange(poll);
          cursor = Math.max(poll.seq, cursor);
          if (poll.resync) cursor = Math.max(cursor, await currentChangeSeq(ctx));
          // A full page: more may be waiting. Otherwise a commit made since the poll has nudged us (pending), so an
          // UPDATE costs each follower one poll, not two (bench/update.mjs: 12 feed polls per UPDATE with 6 followers).
          if (poll.changes.length >= FOLLOW_PAGE) continue;
        }
      } catch (e) {
        o.onError?.(e);
      }
      if (stopped) break;
      if (pending) continue; // a commit was announced while we polled
      await new Promise<void>((res) => {
        wake = res;
        timer = setTimeout(res, interval);
      });
      wake = undefined;
    }
  })();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    wake?.();
    await loop;
    await unsubscribe();
  };
}
