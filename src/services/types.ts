// Data shapes of the service API: what zone_tool, the JSON-RPC API and dmsd see. No behaviour here.

import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import type { RRFlags, ZoneRecord } from '../zonefile/types.js';

export type { RRFlags, ZoneRecord };

export type ZoneState = 'PUBLISHED' | 'UPDATE' | 'DISABLED' | 'DELETED';

export interface ZoneFlags {
  useApexNs: boolean;
  editLock: boolean;
  autoDnssec: boolean;
  nsec3: boolean;
  incUpdates: boolean;
}

/** What a zone listing line needs (listZoneBriefs); the fields mean what they mean in ZoneInfo. */
export interface ZoneBrief {
  id: number;
  name: string;
  state: ZoneState;
  reference: string | null;
  soaSerial: number | null;
}

export interface ZoneInfo {
  id: number;
  /** Canonical lower-case absolute name with trailing dot ("example.org."). */
  name: string;
  state: ZoneState;
  flags: ZoneFlags;
  sg: string;
  altSg: string | null;
  reference: string | null;
  sectags: string[];
  /** Version of the published ZI (null when nothing is published yet). */
  publishedVersion: number | null;
  /** Highest version (the newest ZI, candidate for publication). */
  latestVersion: number;
  /** SOA serial of the published ZI. */
  soaSerial: number | null;
  lockedBy: string | null;
  lockExpires: Date | null;
  /** When the lock held now was taken (kept when it is tickled); null when unlocked or taken before migration 0015. */
  lockedSince: Date | null;
  deletedStart: Date | null;
  ctime: Date;
  mtime: Date;
}

/** A zone instance: one version of the zone, with its SOA and audit fields. */
export interface ZiInfo {
  zoneId: number;
  zone: string;
  version: number;
  soaSerial: number;
  soaMname: string;
  soaRname: string;
  soaRefresh: number;
  soaRetry: number;
  soaExpire: number;
  soaMinimum: number;
  /** TTL of the SOA record itself; null means zone_ttl. */
  soaTtl: number | null;
  zoneTtl: number;
  changeBy: string;
  comment: string | null;
  ctime: Date;
  mtime: Date;
  /** When this ZI was (last) published; null if never. */
  ptime: Date | null;
  published: boolean;
}

export interface ZoneContent {
  zone: ZoneInfo;
  zi: ZiInfo;
  /** Records including the synthesized SOA first, then the stored records in canonical order. */
  records: ZoneRecord[];
}

/** Which ZI: a version number, the SOA serial, 'published' or 'latest'. */
export type ZiSelector = number | { version: number } | { serial: number } | 'published' | 'latest';

export interface CreateZoneOptions {
  sg?: string;
  reference?: string | null;
  /** Create `reference` when it does not exist (zone_tool's -r), in the zone's own transaction. */
  createReference?: boolean;
  /** Flags not given come from the configuration defaults. */
  flags?: Partial<ZoneFlags>;
  sectags?: string[];
  /** Initial records (with or without SOA/apex NS); default: just the SOA and apex NS. */
  records?: ZoneRecord[];
  /** Zone file text instead of records. */
  text?: string;
  /** Create the ZI but do not publish it (original `-i`). */
  inhibitPublish?: boolean;
  comment?: string;
  /** The zone's default TTL ($TTL; apex NS records get it). Default: `$TTL` of `text`, else config zone_ttl. */
  zoneTtl?: number;
}

export interface SaveOptions {
  comment?: string;
  /** Publish the new ZI (default true). */
  publish?: boolean;
  /** New zone default TTL ($TTL). Default: the `$TTL` of saved text, else unchanged. */
  zoneTtl?: number;
}

export interface SaveResult {
  zone: string;
  /** False when the content equals the newest ZI: nothing was stored. */
  changed: boolean;
  version: number;
  serial: number;
  published: boolean;
  warnings: import('./errors.js').ValidationProblem[];
  /** What the automatic reverse PTR step did for this save (reverse.ts); absent when the change had nothing for it. */
  reverse?: import('./reverse.js').ReverseReport;
}

export interface EditSession {
  zone: string;
  /** Present this when saving; opaque. */
  token: string;
  /** The version the edit starts from; a save fails with EditConflict if the zone moved on. */
  baseVersion: number;
  /** Null when the zone has no edit_lock flag (optimistic concurrency only). */
  expiresAt: Date | null;
  /** When the lock was taken (now); null without edit_lock. */
  lockedSince: Date | null;
  content: ZoneContent;
  /** The zone as master-file text, ready for an editor. */
  text: string;
}

export interface ListZonesOptions {
  /** Glob with * and ? (case-insensitive); plain names match exactly. */
  pattern?: string;
  reference?: string;
  sg?: string;
  sectag?: string;
  /** 'active' (default: everything not deleted), 'deleted', or 'all'. */
  which?: 'active' | 'deleted' | 'all';
  /** Only zones in these states; DELETED among them lists deleted zones too, whatever `which` says. */
  states?: readonly ZoneState[];
  /** The server groups' catalog zones (RFC 9432): listed like other zones ('include', the default), or 'exclude'/'only'. */
  catalogs?: 'include' | 'exclude' | 'only';
  /** Keyset paging: names strictly after this one. */
  after?: string;
  /** Default 1000. */
  limit?: number;
}

export interface RecordDiff {
  zone: string;
  from: { version: number; serial: number };
  to: { version: number; serial: number };
  /** SOA RRs of both ends (for IXFR framing). */
  fromSoa: RR;
  toSoa: RR;
  /** Records alive at `from` but not at `to` (SOA excluded). */
  removed: RR[];
  /** Records alive at `to` but not at `from` (SOA excluded). */
  added: RR[];
}

export interface PublishedZone {
  zoneId: number;
  origin: Name;
  version: number;
  serial: number;
  /** Served records: SOA first, disabled records left out. */
  records: RR[];
}

/**
 * A published zone as loadPublishedZones hands it over: the records are a one-pass iterable read from the database
 * while it is consumed (valid only during the callback), so a large zone is never held as rows.
 */
export type StreamedZone = Omit<PublishedZone, 'records'> & {
  records: Iterable<RR>;
  /**
   * The zone's stored snapshot (services/snapshots.ts), when it was read from one: the zone is `records` (the SOA and
   * the complete records, at this version, of every owner changed since the snapshot, the apex always among them)
   * then the snapshot's parts without the owners in `skip` (their wire keys): zone/snapshot.ts addZoneSnapshot.
   */
  snapshot?: { version: number; parts: Uint8Array[]; skip: ReadonlySet<string> };
};

/** From the served version of a zone to its published one (loadPublishedChange). */
export type PublishedChange =
  /** The zone is no longer served (disabled, deleted, nothing published). */
  | { kind: 'gone' }
  /** The served version is no longer stored (vacuumed): only a reload can bring the zone up to date. */
  | { kind: 'unavailable'; reason: string }
  /** More rows changed than the caller wanted to patch. */
  | { kind: 'too-big'; changes: number; version: number; serial: number; soa: RR }
  | {
      kind: 'change';
      version: number;
      serial: number;
      /** The SOA of the published version. */
      soa: RR;
      /** Rows born or died between the two versions. */
      changes: number;
      /** Every owner with such a row, with all its served records at the published version (none: it is gone). */
      owners: { name: Name; records: RR[] }[];
    };

/**
 * What a published RFC 2136 commit changed in the served zone (applyRecordDelta): every owner with a row that died or
 * was born, with all its served records at the new version in the zone's order — what loadPublishedChange would read
 * back — so a server serving `fromVersion` can patch to `version` without another read.
 */
export interface CommittedChange {
  fromVersion: number;
  version: number;
  serial: number;
  /** The SOA of the new version. */
  soa: RR;
  /** Rows born or died. */
  changes: number;
  owners: { name: Name; records: RR[] }[];
  /** The change-feed row of this commit (a process applying the change itself need not apply that row again). */
  seq?: number;
  /**
   * Set by the committer when the zone had no DNSSEC policy as the change was read: served as it is, without asking
   * the database again (a policy set since comes with a feed row of its own, which signs the zone).
   */
  unsigned?: boolean;
}

export interface ZoneChange {
  seq: number;
  zoneId: number;
  zone: string;
  /**
   * What happened: a new ZI published, zone disabled/enabled/deleted/undeleted/destroyed, flags/SG/grants changed
   * ('update'), the TSIG key set changed ('keys': zoneId 0, zone "."), or a query ACL changed ('acl': zoneId 0, zone
   * ".").
   */
  kind: 'publish' | 'disable' | 'enable' | 'delete' | 'undelete' | 'destroy' | 'update' | 'keys' | 'acl';
  version: number | null;
  at: Date;
}

export interface ChangePoll {
  /** Highest sequence seen; pass it as `since` next time. */
  seq: number;
  changes: ZoneChange[];
  /** True when changes after `since` were vacuumed: reload everything. */
  resync: boolean;
}

export interface ServerGroupInfo {
  id: number;
  name: string;
  apexNs: string[];
  soaMname: string | null;
  masterAddress: string | null;
  masterAltAddress: string | null;
  zoneCount: number;
}

export interface ConfigEntry {
  key: string;
  value: string;
  /** Per-SG value (soa_mname) — null for the global value. */
  sg: string | null;
}

export type EventState = 'NEW' | 'RETRY' | 'SUCCESS' | 'FAILURE';

export interface EventInfo {
  id: number;
  type: string;
  zoneId: number | null;
  zone: string | null;
  state: EventState;
  payload: unknown;
  attempts: number;
  lastError: string | null;
  created: Date;
  scheduled: Date;
  processed: Date | null;
}

export interface VacuumResult {
  zisDeleted: number;
  recordsDeleted: number;
  zonesDestroyed: number;
  zonesPared: number;
  eventsDeleted: number;
  changesDeleted: number;
  auditDeleted: number;
}

export interface LoadZoneItem {
  name: string;
  text?: string;
  records?: ZoneRecord[];
  /** File name for messages. */
  file?: string;
}

export interface LoadZoneResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'failed';
  version?: number;
  serial?: number;
  error?: import('./errors.js').DmsError;
  /** The zone check's warnings of a zone created or updated (when it found any). */
  warnings?: import('./errors.js').ValidationProblem[];
}
