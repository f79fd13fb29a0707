// dmsd's link to the database: open the store, import a zone directory, publish the shipped example on first start,
// and keep a ZoneTable equal to what the database publishes (bulk load at start, then the change feed).
//
// Cluster mode (--workers N): the supervising process opens the store first (migrations, --zones import, example
// zone), then every worker opens its own connection and follows the change feed itself. No zone data crosses
// process boundaries; each worker is at most one poll (250 ms) behind the database (on PostgreSQL a commit's NOTIFY
// wakes it at once), except that an UPDATE committed
// by one worker is loaded by all workers (asked through the supervisor, dmsd.ts) before the client gets its answer.
// NOTIFY sending and the daily vacuum run in the supervising process only. A publish of a zone already served is
// applied as a patch of the served snapshot (zone-delta.ts), so it costs the size of the change.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Name } from '../dns/name.js';
import { zoneFileText } from '../zonefile/index.js';
import { zoneNameOfFile } from '../server/zonedir.js';
import * as services from '../services/index.js';
import { openStore, resolveStoreOptions, type Store, type StoreLocationArgs } from '../store/index.js';
import type { ZoneTable } from '../zone/table.js';
import { compileZone, type Zone, ZoneBuilder } from '../zone/zone.js';
import { addZoneSnapshot, SnapshotError } from '../zone/snapshot.js';
import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { wireKey } from '../zone/key.js';
import { patchZone } from '../zone/delta.js';
import { prepareDnssecOrder } from '../zone/dnssec-answer.js';
import type { ZoneSigner } from './signer.js';
import { applyCommittedChange, applyPublishedChange, perZone } from './zone-delta.js';
import type { Foreground } from './foreground.js';
import { ZoneSnapshotWriter } from './zone-snapshots.js';

/** Open (and migrate) the store named by --data / --database-url / --config or the DMS_* environment. */
export async function openDmsdStore(location: StoreLocationArgs, env: NodeJS.ProcessEnv = process.env): Promise<Store> {
  return openStore(resolveStoreOptions(location, env));
}

/** The zone files of a directory as load items (file name = zone name, as `dmsd --zones` always had it). */
export function zoneDirectoryItems(dir: string): services.LoadZoneItem[] {
  const items: services.LoadZoneItem[] = [];
  for (const file of readdirSync(dir).sort()) {
    const name = zoneNameOfFile(file);
    if (name === undefined) continue;
    const path = join(dir, file);
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    items.push({ name, text: zoneFileText(readFileSync(path)), file: path });
  }
  return items;
}

/**
 * Import a zone directory into the database: new zones are created, changed ones get a new published ZI, unchanged
 * ones nothing (the services compare content). A zone that fails to parse or validate is reported and left as it
 * was; the others are imported. Throws only when the directory cannot be read.
 */
export async function importZoneDirectory(
  store: Store,
  dir: string,
  log: Logger,
  kek?: services.KekSource,
): Promise<services.LoadZoneResult[]> {
  const items = zoneDirectoryItems(dir);
  // The KEK: a zone imported with auto_dnssec (the configured default) gets its DNSSEC keys now.
  const results = await services.loadZones(services.serviceContext(store, { actor: 'dmsd --zones', ...(kek ? { kek } : {}) }), items, {
    replace: true,
    flags: { useApexNs: false },
  });
  for (const r of results) {
    const file = items.find((i) => sameZone(i.name, r.name))?.file;
    if (r.action === 'failed') {
      const details = (r.error as { details?: unknown } | undefined)?.details;
      log.error({ zone: r.name, file, code: r.error?.code, details }, `zone not imported: ${r.error?.message ?? 'error'}`);
    } else {
      log.info({ zone: r.name, file, action: r.action, version: r.version, serial: r.serial }, 'zone imported');
      for (const w of r.warnings ?? []) log.warn({ zone: r.name, file, line: w.line, column: w.column }, w.message);
    }
  }
  return results;
}

/** First start on an empty database without --zones: publish the shipped example zone(s) so dig has an answer. */
export async function publishExamplesIfEmpty(store: Store, examplesDir: string, log: Logger): Promise<boolean> {
  const any = await services.listZones(services.serviceContext(store), { which: 'all', limit: 1 });
  if (any.length > 0) return false;
  log.info({ dir: examplesDir }, 'empty database: publishing the shipped example zones');
  await importZoneDirectory(store, examplesDir, log);
  return true;
}

/** The zone compiled (undefined when it cannot be: logged). Throws SnapshotError when its snapshot is damaged. */
function compile(z: services.PublishedZone | services.StreamedZone, log: Logger): Zone | undefined {
  try {
    const snap = 'snapshot' in z ? z.snapshot : undefined;
    if (!snap) return compileZone(z.origin, z.records);
    // The rows first (SOA, apex, owners changed since the snapshot), then the snapshot's other nodes.
    const b = new ZoneBuilder(z.origin);
    for (const rr of z.records) b.add(rr);
    for (const part of snap.parts) addZoneSnapshot(b, part, snap.skip);
    return b.finish();
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    log.error({ zone: z.origin.toString(), version: z.version, err: (e as Error).message }, 'published zone does not compile; previous version kept');
    return undefined;
  }
}

export interface ZoneFeed {
  /** Change-feed position the table reflects. */
  readonly seq: number;
  /** Reload one zone from the database now (after an UPDATE committed here, so the answer and the table agree). */
  refresh(zone: string, committed?: services.CommittedChange): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Fill `table` with every published zone, then follow the change feed: a publish swaps the new version in (one
 * table.set, so queries see the old or the new zone, never a mix); a zone no longer published (disabled, deleted,
 * destroyed) leaves the table. `onPublished` is told each swap (the supervisor queues NOTIFYs from it).
 */
export async function startZoneFeed(
  store: Store,
  table: ZoneTable,
  log: Logger,
  o: {
    intervalMs?: number;
    onPublished?: (zone: Zone, change: services.ZoneChange | undefined) => void | Promise<void>;
    /** The TSIG key set changed. */
    onKeys?: () => void | Promise<void>;
    /**
     * Query ACLs: `changed` when an ACL changed (feed kind 'acl'), and the zones of the poll's other rows (a zone
     * published or moved to another server group may come under a group's list).
     */
    onAcl?: (changed: boolean, zones: string[]) => void | Promise<void>;
    /** This process signs the zones with a DNSSEC policy (the supervising process); others only serve them. */
    signer?: ZoneSigner;
    /** This process stores zone snapshots (zone-snapshots.ts) while this says it may (the leader). */
    writeSnapshots?: () => boolean;
    /** The process's foreground work (its UPDATEs), which the snapshot writer's slices wait for. */
    foreground?: Foreground;
    /** A signed zone of `records` records was served whole (loaded or fully signed), not patched. */
    onSignedWhole?: (records: number) => void;
    /** A change was served (patched in or signed): the young generation's collection may be made now (idle-memory.ts). */
    afterServed?: () => void;
  } = {},
): Promise<ZoneFeed> {
  const started = Date.now();
  let seq = await services.currentChangeSeq(services.serviceContext(store));
  // Version served per zone: a feed row for the version already in the table (the publish of an UPDATE this process
  // loaded right after committing it, a grant change) costs no reload.
  const servedVersion = new Map<string, number>();
  const loaded = new Set<string>();
  // Zones with a DNSSEC policy are served signed only (never unsigned): loaded after the others, through the signer.
  const withPolicy = await services.signedZoneIds(services.serviceContext(store));
  const signedLater: string[] = [];
  /** Zones served signed: the normalized name → served version. */
  const signedServed = new Set<string>();
  const snapshots = new ZoneSnapshotWriter(
    store,
    log,
    (origin) => {
      const key = zoneKey(origin.toString());
      const zone = table.get(origin);
      const version = servedVersion.get(key);
      return zone && version !== undefined && !signedServed.has(key) ? { zone, version } : undefined;
    },
    o.writeSnapshots ?? (() => false),
    o.foreground,
  );
  const served = (z: services.PublishedZone | services.StreamedZone, zone: Zone) => {
    table.set(zone);
    servedVersion.set(zoneKey(z.origin.toString()), z.version);
    loaded.add(z.origin.key);
  };
  /** A large zone from its stored snapshot (and the rows changed since); from its rows when the snapshot is damaged. */
  const fromSnapshot = async (z: services.StreamedZone & { snapshot: NonNullable<services.StreamedZone['snapshot']> }) => {
    const t0 = performance.now();
    const name = z.origin.toString();
    try {
      const zone = compile(z, log);
      if (!zone) return;
      served(z, zone);
      log.info({ zone: name, version: z.version, snapshotVersion: z.snapshot.version, ownersSince: z.snapshot.skip.size, records: zone.recordCount, ms: Math.round(performance.now() - t0) }, 'zone loaded from its snapshot');
      snapshots.compiled(z.origin, zone.recordCount, z.snapshot.skip.size);
    } catch (e) {
      log.warn({ zone: name, err: (e as Error).message }, 'zone snapshot damaged: loading the zone from its rows');
      const rows = await services.loadPublishedZone(services.serviceContext(store), name);
      const zone = rows ? compile(rows, log) : undefined;
      if (!rows || !zone) return;
      served(rows, zone);
      snapshots.compiled(rows.origin, zone.recordCount);
    }
  };
  await services.loadPublishedZones(services.serviceContext(store), (z) => {
    if (withPolicy.has(z.zoneId)) {
      signedLater.push(z.origin.toString());
      return;
    }
    if (z.snapshot) return fromSnapshot({ ...z, snapshot: z.snapshot });
    const zone = compile(z, log);
    if (!zone) return;
    served(z, zone);
    snapshots.compiled(z.origin, zone.recordCount);
  });

  const ctx = services.serviceContext(store);
  /** Every operator record of a served node, without what the signer made (those come from the signer's rows). */
  const operatorRecords = (zone: Zone, name: Name): RR[] => {
    const node = zone.nodes.get(wireKey(name));
    if (!node) return [];
    const apex = node === zone.apex;
    const out: RR[] = [];
    for (const set of node.rrsets.values()) {
      const t = set.type;
      if (t === RRType.RRSIG || t === RRType.NSEC || t === RRType.NSEC3) continue;
      if (apex && (t === RRType.DNSKEY || t === RRType.CDS || t === RRType.CDNSKEY || t === RRType.NSEC3PARAM)) continue;
      out.push(...set.rrs);
    }
    return out;
  };

  /**
   * Serve the newest signed version of a zone with a DNSSEC policy (a version not yet signed is not served: the
   * previous signed one stays). Patched with the operator's change and the signer's when the table serves an older
   * signed version and the change is small; else loaded whole (operator records + signer records of the version).
   */
  const serveSigned = async (
    name: string,
    change?: services.ZoneChange,
    stored?: { version: number; st: services.SignedState },
    read?: { from: number; c: services.PublishedChange & { kind: 'change' } },
    signed?: { from: number; to: number; owners: Map<string, { name: Name; records: RR[] }>; zoneId: number },
  ): Promise<void> => {
    const key = zoneKey(name);
    // The signer signed and stored the version it read as published just now: that is the version to serve.
    const head = signed ? { zoneId: signed.zoneId, version: signed.to } : await services.publishedVersion(ctx, name);
    const origin = nameOf(name);
    if (!head) {
      servedVersion.delete(key);
      signedServed.delete(key);
      if (origin && table.delete(origin)) log.info({ zone: name }, 'zone no longer served');
      return;
    }
    const last = signed ? { version: signed.to } : await services.lastSignedVersion(ctx, head.zoneId, head.version);
    if (!last) {
      log.warn({ zone: name, version: head.version }, 'zone has a DNSSEC policy but no signed version yet: waiting for the signer');
      return;
    }
    const v = last.version;
    if (signedServed.has(key) && servedVersion.get(key) === v) return;
    const started = performance.now();
    const cur = origin ? table.get(origin) : undefined;
    const from = servedVersion.get(key);
    let next: Zone | undefined;
    let how = 'whole';
    if (cur && from !== undefined && signedServed.has(key) && head.version === v && from < v) {
      // The signer read this very change just now (a small one: an UPDATE's): taken over, not read again.
      const c =
        read && read.from === from && read.c.version === v && read.c.owners.length <= 64
          ? read.c
          : await services.loadPublishedChange(ctx, name, from, { maxChanges: Math.max(1000, Math.floor(cur.recordCount / 4)) });
      if (c.kind === 'change' && c.version === v) {
        const op = new Map(c.owners.map((o) => [o.name.key, o]));
        // The signer stored this very change just now: its records at the owners, taken over, not read back.
        const sig =
          signed && signed.from === from && signed.to === v && [...op.keys()].every((k) => signed.owners.has(k))
            ? signed.owners
            : await services.signerChangeOwners(ctx, head.zoneId, from, v, [...op.keys()]);
        const owners: { name: Name; records: RR[] }[] = [];
        for (const k of new Set([...op.keys(), ...sig.keys()])) {
          const o = op.get(k);
          const sg = sig.get(k);
          const ownerName = (o ?? sg)!.name;
          owners.push({ name: ownerName, records: [...(o ? o.records : operatorRecords(cur, ownerName)), ...(sg?.records ?? [])] });
        }
        try {
          next = patchZone(cur, { owners, soa: c.soa });
          how = 'patch';
        } catch (e) {
          log.warn({ zone: name, err: (e as Error).message }, 'signed change not applied as a delta: reloading the whole zone');
        }
      }
    }
    if (!next) {
      // The signer read this version's rows just now (its state restored at a start): compiled, not read again.
      const st = stored?.version === v ? stored.st : await services.signedStateAt(ctx, head.zoneId, v);
      if (!st) return;
      try {
        next = compileZone(Name.parse(services.normalizeZoneName(name)), [...st.records, ...st.stored]);
        // The canonical order of the DO=1 denial proofs, built now; each patched version derives its own from it.
        prepareDnssecOrder(next);
      } catch (e) {
        log.error({ zone: name, version: v, err: (e as Error).message }, 'signed zone does not compile; previous version kept');
        return;
      }
    }
    table.set(next);
    servedVersion.set(key, v);
    signedServed.add(key);
    log.info({ zone: name, serial: next.serial, version: v, signed: true, how, ms: Math.round(performance.now() - started) }, 'zone published');
    if (how === 'whole') o.onSignedWhole?.(next.recordCount);
    o.afterServed?.();
    if (change) await o.onPublished?.(next, change);
  };

  /** The DNSSEC step of a zone's refresh: true when the zone is served signed (or held back until it is). */
  const signedStep = async (name: string, change?: services.ZoneChange, committed?: services.CommittedChange): Promise<boolean> => {
    let signs = false;
    // The signer found no policy: no need to ask the database again (an UPDATE's refresh would read it twice).
    let unsigned = false;
    let stored: { version: number; st: services.SignedState } | undefined;
    let read: { from: number; c: services.PublishedChange & { kind: 'change' } } | undefined;
    let signed: { from: number; to: number; owners: Map<string, { name: Name; records: RR[] }>; zoneId: number } | undefined;
    let ownRow: number | undefined;
    if (o.signer) {
      try {
        const onStored = (version: number, st: services.SignedState) => (stored = { version, st });
        const onChange = (from: number, c: services.PublishedChange & { kind: 'change' }) => (read = { from, c });
        const onSigned = (from: number, to: number, owners: Map<string, { name: Name; records: RR[] }>, zoneId: number) => (signed = { from, to, owners, zoneId });
        const onFeedRow = (seq: number) => (ownRow = seq);
        signs =
          (await o.signer.signPublished(name, { onUnsigned: () => (unsigned = true), onStored, onChange, onSigned, onFeedRow, ...(committed ? { committed } : {}) })) !==
          undefined;
      } catch (e) {
        log.error({ zone: name, err: (e as Error).message }, 'cannot sign the published version; the previous signed version stays served');
        signs = true;
      }
    }
    if (!signs && (unsigned || !(await services.hasDnssecPolicy(ctx, name)))) {
      if (signedServed.delete(zoneKey(name))) servedVersion.delete(zoneKey(name));
      return false;
    }
    await serveSigned(name, change, stored, read, signed);
    // The signer's row of the version now served: nothing left for the feed to bring.
    const s = signed as { to: number } | undefined;
    if (ownRow !== undefined && s && servedVersion.get(zoneKey(name)) === s.to && signedServed.has(zoneKey(name))) noteHandled(ownRow);
    return true;
  };

  for (const name of signedLater) {
    try {
      await signedStep(name);
    } catch (e) {
      log.error({ zone: name, err: (e as Error).message }, 'cannot load the signed zone');
    }
  }

  log.info({ zones: table.size, signed: signedServed.size, ms: Date.now() - started, seq }, 'zones loaded from the database');
  if (table.size === 0) log.warn('no zone is served');
  snapshots.start();

  // Patches of unsigned zones count towards their next snapshot (zone-snapshots.ts).
  const deltaCtx = {
    table,
    served: servedVersion,
    log,
    patched: (zone: Zone, changes: number) => {
      snapshots.patched(zone.origin, zone.recordCount, changes);
      o.afterServed?.();
    },
  };
  // One zone's refreshes one at a time: each patches what the previous one left in the table.
  // Feed rows of changes this process committed and served itself (an UPDATE's publish row, the signer's row of a
  // signed zone): when a poll brings a zone's rows and every one is here, the zone is as they say already — without
  // this, each signed UPDATE read the zone's signing state twice more after its answer (12 statements on PostgreSQL).
  const handled = new Set<number>();
  const noteHandled = (seq: number | undefined) => {
    if (seq === undefined) return;
    if (handled.size >= 10_000) handled.clear(); // rows never polled (a resync went past them): forgotten
    handled.add(seq);
  };
  const refresh = perZone(
    zoneKey,
    async (name: string, change?: services.ZoneChange, committed?: services.CommittedChange, seqs?: readonly number[]): Promise<void> => {
      if (!committed && seqs && seqs.length > 0 && seqs.every((q) => handled.has(q))) {
        for (const q of seqs) handled.delete(q);
        return;
      }
      await refreshZone(name, change, committed);
      if (committed && servedVersion.get(zoneKey(name)) === committed.version) noteHandled(committed.seq);
    },
  );
  const refreshZone = async (name: string, change?: services.ZoneChange, committed?: services.CommittedChange): Promise<void> => {
    const key = zoneKey(name);
    // The feed row of a version this process published already (an UPDATE committed here, patched at once) in a zone
    // it serves unsigned: nothing to do. A DNSSEC policy set meanwhile comes with a row of its own (kind 'update').
    if (!committed && change?.kind === 'publish' && change.version !== null && servedVersion.get(key) === change.version && !signedServed.has(key)) return;
    // An UPDATE committed here to a zone read without a DNSSEC policy (and not served signed): patched at once.
    if (committed?.unsigned && !signedServed.has(key) && applyCommittedChange(deltaCtx, key, committed)) return;
    // A zone with a DNSSEC policy: signed (here, when this process signs) and served signed, never unsigned.
    if (await signedStep(name, change, committed)) return;
    // An UPDATE committed here says what changed: patch with that, without reading it back.
    if (committed && applyCommittedChange(deltaCtx, key, committed)) return;
    if (
      change &&
      (change.kind === 'publish' || change.kind === 'update') &&
      change.version !== null &&
      servedVersion.get(key) === change.version
    )
      return;
    // A served zone follows its published version by patching (zone-delta.ts); else, or failing that, a reload.
    const published = change ? (zone: Zone) => o.onPublished?.(zone, change) : undefined;
    if (
      (!change || change.kind === 'publish' || change.kind === 'update') &&
      (await applyPublishedChange({ ...deltaCtx, services: services.serviceContext(store) }, key, published))
    )
      return;
    const z = await services.loadPublishedZone(services.serviceContext(store), name);
    if (!z) {
      servedVersion.delete(key);
      const origin = nameOf(name);
      if (origin && table.delete(origin)) log.info({ zone: name, kind: change?.kind }, 'zone no longer served');
      return;
    }
    const zone = compile(z, log);
    if (!zone) return;
    table.set(zone);
    servedVersion.set(key, z.version);
    log.info({ zone: z.origin.toString(), serial: z.serial, version: z.version, kind: change?.kind }, 'zone published');
    snapshots.compiled(z.origin, zone.recordCount);
    if (change) await o.onPublished?.(zone, change);
  };

  const resync = async (): Promise<void> => {
    const served = new Set((await services.listServedZones(services.serviceContext(store))).map((n) => n.toLowerCase()));
    for (const z of [...table.zones()]) {
      const key = z.origin.toString().toLowerCase();
      if (!served.has(key)) {
        table.delete(z.origin);
        servedVersion.delete(zoneKey(key));
      }
    }
    const slice = timeSlice();
    for (const n of served) {
      await refresh(n);
      await slice();
    }
  };

  const stop = services.followChanges(
    services.serviceContext(store),
    seq,
    async (poll) => {
      if (poll.resync) {
        log.warn({ seq: poll.seq }, 'change feed vacuumed past us: reloading every zone');
        await resync();
      }
      // Several rows for one zone in a poll: only the last matters. Key-set changes (kind 'keys', zone ".") are not
      // zones: they go to onKeys.
      const last = new Map<string, services.ZoneChange>();
      const seqs = new Map<string, number[]>();
      let keys = false;
      let acl = false;
      for (const c of poll.changes) {
        if (c.kind === 'acl') acl = true;
        else if (c.kind === 'keys' || c.zoneId === 0) keys = true;
        else {
          last.set(c.zone, c);
          const list = seqs.get(c.zone);
          if (list) list.push(c.seq);
          else seqs.set(c.zone, [c.seq]);
        }
      }
      if (keys) await o.onKeys?.();
      // Before the zones are swapped in: a zone newly under a list is not served to outsiders meanwhile.
      if (o.onAcl && (acl || last.size > 0)) {
        try {
          await o.onAcl(acl, [...last.keys()]);
        } catch (e) {
          log.error({ err: (e as Error).message }, 'cannot load the query ACLs; previous lists kept');
        }
      }
      const slice = timeSlice();
      for (const [name, c] of last) {
        try {
          await refresh(name, c, undefined, seqs.get(name));
        } catch (e) {
          log.error({ zone: name, err: (e as Error).message }, 'cannot load the published zone; previous version kept');
        }
        await slice();
      }
      seq = Math.max(seq, poll.seq);
    },
    { intervalMs: o.intervalMs ?? 250, onError: (e) => log.error({ err: (e as Error).message }, 'change feed poll failed') },
  );
  return {
    get seq() {
      return seq;
    },
    refresh: (zone, committed) => refresh(zone, undefined, committed),
    stop,
  };
}

/**
 * A yield to the event loop once `ms` of work has passed since the last one. The SQLite store answers synchronously,
 * so a feed poll with thousands of new zones (a bulk load_zones) would otherwise run to its end without the sockets
 * being read: measured, a 2,000-zone load left dmsd answering no query for 28 s. Slices keep queries answered
 * meanwhile and cost one macrotask per slice, not per zone.
 */
function timeSlice(ms = 20): () => Promise<void> {
  let start = performance.now();
  return async () => {
    if (performance.now() - start < ms) return;
    await new Promise<void>((res) => setImmediate(res));
    start = performance.now();
  };
}

function nameOf(text: string): Name | undefined {
  try {
    return Name.parse(services.normalizeZoneName(text));
  } catch {
    return undefined;
  }
}

function zoneKey(name: string): string {
  try {
    return services.normalizeZoneName(name);
  } catch {
    return name.toLowerCase();
  }
}

function sameZone(a: string, b: string): boolean {
  try {
    return services.normalizeZoneName(a) === services.normalizeZoneName(b);
  } catch {
    return a === b;
  }
}
