// Row types of the DMS database (what Kysely sees). Portable across SQLite and PostgreSQL: booleans are 0/1
// integers, times are milliseconds since the epoch (bigint, read back as numbers), RDATA is blob/bytea.

import type { Generated } from 'kysely';

export interface ServerGroupTable {
  id: Generated<number>;
  name: string;
  /** JSON array of absolute names. */
  apex_ns: string;
  soa_mname: string | null;
  master_address: string | null;
  master_alt_address: string | null;
  ctime: number;
}

export interface ReferenceTable {
  id: Generated<number>;
  name: string;
  ctime: number;
}

export interface SectagTable {
  id: Generated<number>;
  name: string;
}

export interface ZoneTable {
  id: Generated<number>;
  /** Lower-case absolute name with trailing dot. */
  name: string;
  state: string;
  use_apex_ns: number;
  edit_lock: number;
  auto_dnssec: number;
  nsec3: number;
  inc_updates: number;
  sg_id: number;
  alt_sg_id: number | null;
  reference_id: number | null;
  /** Version of the published ZI. */
  published_version: number | null;
  /** Highest version ever created (versions are never reused, even after delete_zi). */
  latest_version: number;
  lock_token: string | null;
  locked_by: string | null;
  lock_expires: number | null;
  /** When the edit lock was taken (ms); kept when it is tickled, null when no lock is held. */
  lock_since: Generated<number | null>;
  lock_base_version: number | null;
  deleted_start: number | null;
  ctime: number;
  mtime: number;
  /** A reverse zone's network as src/dns/address.ts networkKey ("4" / "6" then the prefix bits); null otherwise. */
  rev_net: Generated<string | null>;
}

export interface ZoneSectagTable {
  zone_id: number;
  sectag_id: number;
}

export interface ZoneInstanceTable {
  id: Generated<number>;
  zone_id: number;
  version: number;
  soa_serial: number;
  soa_mname: string;
  soa_rname: string;
  soa_refresh: number;
  soa_retry: number;
  soa_expire: number;
  soa_minimum: number;
  soa_ttl: number | null;
  zone_ttl: number;
  change_by: string;
  comment: string | null;
  ctime: number;
  mtime: number;
  ptime: number | null;
}

/**
 * One record, alive in versions [from_version, to_version) of its zone (to_version null while current). The zone at
 * version v is the rows alive at v; a diff is the rows born or died in between.
 */
export interface RecordTable {
  id: Generated<number>;
  zone_id: number;
  from_version: number;
  to_version: number | null;
  /** Lower-case absolute owner (canonical key). */
  owner_key: string;
  /** Owner as written (original case), absolute. */
  owner: string;
  type: number;
  rclass: number;
  ttl: number;
  /** Uncompressed wire RDATA. */
  rdata: Uint8Array;
  comment: string | null;
  group_comment: string | null;
  /** JSON of RRFlags, null when none. */
  flags: string | null;
  /** 1 when flags.disable: kept but not served. */
  disabled: number;
  /** Order of the record in the zone as saved (keeps the operator's layout). */
  ord: number;
}

export interface ConfigTable {
  key: string;
  /** '' for the global value; an SG name for per-SG values (soa_mname). */
  sg_name: string;
  value: string;
}

export interface EventTable {
  id: Generated<number>;
  event_type: string;
  zone_id: number | null;
  zone_name: string | null;
  state: string;
  payload: string | null;
  attempts: number;
  last_error: string | null;
  created: number;
  scheduled: number;
  processed: number | null;
}

export interface ZoneChangeTable {
  seq: Generated<number>;
  zone_id: number;
  zone_name: string;
  kind: string;
  version: number | null;
  at: number;
}

/** One row: serialises writers on SQLite (see store.ts) and records the schema owner. */
export interface StoreMetaTable {
  id: number;
  writes: number;
  /** Highest zone_changes.seq removed by vacuum: followers behind it must reload everything. */
  changes_vacuumed_to: number;
}

export interface TsigKeyTable {
  id: Generated<number>;
  /** Lower-case absolute key name. */
  name: string;
  algorithm: string;
  /** Base64. */
  secret: string;
  ctime: number;
}

export interface ZoneUpdateGrantTable {
  id: Generated<number>;
  zone_id: number;
  /** One update-policy line ("grant key. zonesub TXT"); parsed by the server. */
  grant_text: string;
}

export interface Database {
  server_groups: ServerGroupTable;
  zone_references: ReferenceTable;
  sectags: SectagTable;
  zones: ZoneTable;
  zone_sectags: ZoneSectagTable;
  zone_instances: ZoneInstanceTable;
  records: RecordTable;
  config: ConfigTable;
  events: EventTable;
  zone_changes: ZoneChangeTable;
  store_meta: StoreMetaTable;
  tsig_keys: TsigKeyTable;
  zone_update_grants: ZoneUpdateGrantTable;
}
