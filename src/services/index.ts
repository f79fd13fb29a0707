// The service layer: every management rule of DMS (zone lifecycle, edit lock, serials, validation, versions,
// references, sectags, server groups, configuration, events, vacuum, change feed). zone_tool, the JSON-RPC API and
// dmsd call these functions; none of them touches SQL. Every function takes the Store as its first parameter.

import type { Store } from '../store/index.js';
import type {
  ChangePoll,
  ConfigEntry,
  CreateZoneOptions,
  EditSession,
  EventInfo,
  EventState,
  ListZonesOptions,
  LoadZoneItem,
  LoadZoneResult,
  PublishedZone,
  RecordDiff,
  SaveOptions,
  SaveResult,
  ServerGroupInfo,
  VacuumResult,
  ZiInfo,
  ZiSelector,
  ZoneChange,
  ZoneContent,
  ZoneFlags,
  ZoneInfo,
  ZoneRecord,
} from './types.js';

export * from './errors.js';
export type * from './types.js';

const notYet = (): never => {
  throw new Error('not yet');
};

// ---- zones ----------------------------------------------------------------------------------------------------

/** create_zone: a new zone with its first ZI (SOA + apex NS from config/SG, plus any given records), published. */
export async function createZone(_s: Store, _name: string, _o: CreateZoneOptions): Promise<ZoneInfo> {
  return notYet();
}
/** show_zonesm: the zone's state, flags and lock (ZoneNotFound for a missing or deleted zone). */
export async function getZone(_s: Store, _name: string): Promise<ZoneInfo> {
  return notYet();
}
export async function getZoneById(_s: Store, _id: number): Promise<ZoneInfo> {
  return notYet();
}
/** ls / list_zone / ls_deleted: ordered by name, keyset-paged. */
export async function listZones(_s: Store, _o?: ListZonesOptions): Promise<ZoneInfo[]> {
  return notYet();
}
/** set_zone: flags; changing use_apex_ns makes a new ZI with the apex refreshed. */
export async function setZoneFlags(_s: Store, _name: string, _f: Partial<ZoneFlags>, _a: { changeBy: string }): Promise<ZoneInfo> {
  return notYet();
}
export async function disableZone(_s: Store, _name: string): Promise<ZoneInfo> {
  return notYet();
}
export async function enableZone(_s: Store, _name: string): Promise<ZoneInfo> {
  return notYet();
}
/** delete_zone: soft delete (state DELETED, deleted_start now); the name becomes free. */
export async function deleteZone(_s: Store, _name: string): Promise<ZoneInfo> {
  return notYet();
}
/** undelete_zone: the most recently deleted zone of that name (or by id); ZoneExists if the name was reused. */
export async function undeleteZone(_s: Store, _nameOrId: string | number): Promise<ZoneInfo> {
  return notYet();
}
/** destroy_zone: removes a DELETED zone and all its history for good. */
export async function destroyZone(_s: Store, _id: number): Promise<void> {
  return notYet();
}
/** copy_zone: a new zone with the content of another's published (or given) ZI. */
export async function copyZone(_s: Store, _src: string, _dst: string, _o: CreateZoneOptions & { zi?: ZiSelector }): Promise<ZoneInfo> {
  return notYet();
}

// ---- content, versions (ZIs), saving ------------------------------------------------------------------------------

/** show_zone / show_zi: records of a ZI (default: published, else latest), SOA synthesized first. */
export async function getZoneContent(_s: Store, _name: string, _zi?: ZiSelector): Promise<ZoneContent> {
  return notYet();
}
/** The same as master-file text (for show_zone, edit_zone). */
export async function getZoneText(_s: Store, _name: string, _zi?: ZiSelector): Promise<string> {
  return notYet();
}
/** ls_zi: newest first. */
export async function listZis(_s: Store, _name: string): Promise<ZiInfo[]> {
  return notYet();
}
/** load_zone_zi / update_zone without a lock: replace the zone's content with `records` as a new ZI. */
export async function saveZone(_s: Store, _name: string, _records: ZoneRecord[], _o: SaveOptions & { baseVersion?: number }): Promise<SaveResult> {
  return notYet();
}
/** The same from master-file text. */
export async function saveZoneText(_s: Store, _name: string, _text: string, _o: SaveOptions & { baseVersion?: number }): Promise<SaveResult> {
  return notYet();
}
/**
 * Read-modify-write in one transaction: `mutate` gets the newest records (SOA excluded) and returns the new set (or
 * throws to abort). RFC 2136 UPDATE and update_rrs go through here with changeBy = TSIG key name / user.
 */
export async function changeZone(
  _s: Store,
  _name: string,
  _mutate: (records: ZoneRecord[], zone: ZoneInfo) => ZoneRecord[] | Promise<ZoneRecord[]>,
  _o: SaveOptions & { bySerial?: boolean },
): Promise<SaveResult> {
  return notYet();
}
/** copy_zi / republish: a new ZI (new serial) with the content of an older one. */
export async function copyZi(_s: Store, _name: string, _zi: ZiSelector, _o: SaveOptions): Promise<SaveResult> {
  return notYet();
}
/** Publish an existing ZI (e.g. one created with inhibitPublish). Re-publishing an older ZI copies it (copyZi). */
export async function publishZi(_s: Store, _name: string, _zi: ZiSelector, _a: { changeBy: string }): Promise<SaveResult> {
  return notYet();
}
/** delete_zi: refuses the published and the newest ZI. */
export async function deleteZi(_s: Store, _name: string, _zi: ZiSelector): Promise<void> {
  return notYet();
}
/** Records born/died between two versions (IXFR, diff_zone_zi). `from` may be a serial (IXFR request). */
export async function diffVersions(_s: Store, _name: string, _from: ZiSelector, _to?: ZiSelector): Promise<RecordDiff> {
  return notYet();
}

// ---- edit lock ------------------------------------------------------------------------------------------------

/** edit_zone: takes the edit lock (zones with edit_lock) and returns the content to edit with a token. */
export async function editZone(_s: Store, _name: string, _a: { changeBy: string; timeoutSec?: number }): Promise<EditSession> {
  return notYet();
}
/** Extends the lock by its timeout; returns the new expiry. */
export async function tickleEditLock(_s: Store, _name: string, _token: string): Promise<Date | null> {
  return notYet();
}
/** Saves the edit (records or text), publishes, releases the lock. Validation failure keeps the lock. */
export async function saveZoneEdit(
  _s: Store,
  _name: string,
  _token: string,
  _content: { records: ZoneRecord[] } | { text: string },
  _o: SaveOptions,
): Promise<SaveResult> {
  return notYet();
}
/** cancel_edit_zone: releases the lock held with this token. */
export async function cancelEditZone(_s: Store, _name: string, _token: string): Promise<void> {
  return notYet();
}
/** clear_edit_lock: admin override, whoever holds it. */
export async function clearEditLock(_s: Store, _name: string): Promise<void> {
  return notYet();
}

// ---- serials --------------------------------------------------------------------------------------------------

/** poke_zone_set_serial: a new ZI with the given serial (must be RFC 1982 greater) or just the next one. */
export async function pokeZoneSetSerial(_s: Store, _name: string, _serial: number | undefined, _a: { changeBy: string }): Promise<SaveResult> {
  return notYet();
}
/** poke_zone_wrap_serial: add 2^31-1 (RFC 1982 §7.1 step) so a later change can reach a lower number. */
export async function pokeZoneWrapSerial(_s: Store, _name: string, _a: { changeBy: string }): Promise<SaveResult> {
  return notYet();
}

// ---- batch load / import --------------------------------------------------------------------------------------

/** load_zones: one transaction per zone; creates new zones, adds a ZI to changed ones, skips unchanged. */
export async function loadZones(
  _s: Store,
  _items: Iterable<LoadZoneItem> | AsyncIterable<LoadZoneItem>,
  _o: Omit<CreateZoneOptions, 'records' | 'text'> & { replace?: boolean; onResult?: (r: LoadZoneResult) => void },
): Promise<LoadZoneResult[]> {
  return notYet();
}

// ---- server side (dmsd) ---------------------------------------------------------------------------------------

/** The published ZI as the server serves it; null when the zone is missing, disabled, deleted or unpublished. */
export async function loadPublishedZone(_s: Store, _name: string): Promise<PublishedZone | null> {
  return notYet();
}
/** Names of every zone that should be served. */
export async function listServedZones(_s: Store): Promise<string[]> {
  return notYet();
}
/** The highest change sequence now (start following from here after a full load). */
export async function currentChangeSeq(_s: Store): Promise<number> {
  return notYet();
}
export async function pollChanges(_s: Store, _since: number, _limit?: number): Promise<ChangePoll> {
  return notYet();
}
/** Polls every `intervalMs` (default 250) and calls onChange for each batch; returns a stop function. */
export function followChanges(
  _s: Store,
  _since: number,
  _onChange: (poll: ChangePoll) => void | Promise<void>,
  _o?: { intervalMs?: number; onError?: (e: unknown) => void },
): () => Promise<void> {
  return notYet();
}
export type { ZoneChange };

// ---- references, sectags, server groups -----------------------------------------------------------------------

export async function createReference(_s: Store, _name: string): Promise<void> {
  return notYet();
}
export async function deleteReference(_s: Store, _name: string): Promise<void> {
  return notYet();
}
export async function renameReference(_s: Store, _from: string, _to: string): Promise<void> {
  return notYet();
}
export async function listReferences(_s: Store, _pattern?: string): Promise<{ name: string; zoneCount: number }[]> {
  return notYet();
}
export async function setZoneReference(_s: Store, _zone: string, _reference: string | null): Promise<void> {
  return notYet();
}

export async function createSectag(_s: Store, _name: string): Promise<void> {
  return notYet();
}
export async function deleteSectag(_s: Store, _name: string): Promise<void> {
  return notYet();
}
export async function listSectags(_s: Store): Promise<string[]> {
  return notYet();
}
export async function listZoneSectags(_s: Store, _zone: string): Promise<string[]> {
  return notYet();
}
export async function addZoneSectag(_s: Store, _zone: string, _sectag: string): Promise<void> {
  return notYet();
}
export async function deleteZoneSectag(_s: Store, _zone: string, _sectag: string): Promise<void> {
  return notYet();
}
export async function replaceZoneSectags(_s: Store, _zone: string, _sectags: string[]): Promise<void> {
  return notYet();
}

export async function createServerGroup(
  _s: Store,
  _name: string,
  _o?: { apexNs?: string[]; soaMname?: string; masterAddress?: string; masterAltAddress?: string },
): Promise<ServerGroupInfo> {
  return notYet();
}
export async function getServerGroup(_s: Store, _name: string): Promise<ServerGroupInfo> {
  return notYet();
}
export async function listServerGroups(_s: Store): Promise<ServerGroupInfo[]> {
  return notYet();
}
export async function deleteServerGroup(_s: Store, _name: string): Promise<void> {
  return notYet();
}
export async function renameServerGroup(_s: Store, _from: string, _to: string): Promise<void> {
  return notYet();
}
/** set_sg_config / set_sg_master_address / set_sg_alt_master_address / edit_apex_ns. */
export async function updateServerGroup(
  _s: Store,
  _name: string,
  _o: { apexNs?: string[]; soaMname?: string | null; masterAddress?: string | null; masterAltAddress?: string | null },
): Promise<ServerGroupInfo> {
  return notYet();
}
/** set_zone_sg: moves the zone (new ZI with the new apex when use_apex_ns). */
export async function setZoneServerGroup(_s: Store, _zone: string, _sg: string, _a: { changeBy: string }): Promise<ZoneInfo> {
  return notYet();
}
/** dupe_zone_alt_sg / delete_zone_alt_sg (null). */
export async function setZoneAltServerGroup(_s: Store, _zone: string, _sg: string | null): Promise<ZoneInfo> {
  return notYet();
}
/** swap_zone_sg: primary <-> alternate (new ZI with the new apex when use_apex_ns). */
export async function swapZoneServerGroup(_s: Store, _zone: string, _a: { changeBy: string }): Promise<ZoneInfo> {
  return notYet();
}
/** refresh_zone / refresh after edit_apex_ns: re-derive SOA mname/apex NS from the SG (new ZI only if different). */
export async function refreshZoneApex(_s: Store, _zone: string, _a: { changeBy: string }): Promise<SaveResult> {
  return notYet();
}

// ---- configuration --------------------------------------------------------------------------------------------

/** show_config: every key with its value (defaults filled in), per-SG soa_mname values too. */
export async function showConfig(_s: Store): Promise<ConfigEntry[]> {
  return notYet();
}
export async function getConfigValue(_s: Store, _key: string, _sg?: string): Promise<string> {
  return notYet();
}
/** set_config [-g sg] key value — validated (ConfigKeyUnknown / ConfigValueInvalid). */
export async function setConfig(_s: Store, _key: string, _value: string, _sg?: string): Promise<void> {
  return notYet();
}

// ---- events ---------------------------------------------------------------------------------------------------

export async function enqueueEvent(
  _s: Store,
  _type: string,
  _o?: { zone?: string; payload?: unknown; delaySec?: number },
): Promise<number> {
  return notYet();
}
/** Events due now (NEW, or RETRY whose backoff has passed), oldest first. */
export async function dueEvents(_s: Store, _limit?: number): Promise<EventInfo[]> {
  return notYet();
}
export async function completeEvent(_s: Store, _id: number): Promise<void> {
  return notYet();
}
/** A failed attempt: RETRY with exponential backoff, FAILURE after maxAttempts (default 10). */
export async function retryEvent(_s: Store, _id: number, _error: string, _o?: { maxAttempts?: number }): Promise<EventInfo> {
  return notYet();
}
/** fail_event. */
export async function failEvent(_s: Store, _id: number, _error?: string): Promise<void> {
  return notYet();
}
export async function listEvents(_s: Store, _o?: { state?: EventState | EventState[]; limit?: number }): Promise<EventInfo[]> {
  return notYet();
}
export async function getEvent(_s: Store, _id: number): Promise<EventInfo> {
  return notYet();
}

// ---- vacuum ---------------------------------------------------------------------------------------------------

/** vacuum_all with show_config ages (overrides for tests/commands); `now` for tests. */
export async function vacuumAll(
  _s: Store,
  _o?: { now?: Date; ziMaxAgeDays?: number; ziMaxNum?: number; zoneDelAgeDays?: number; zoneDelPareAgeDays?: number; eventMaxAgeDays?: number },
): Promise<VacuumResult> {
  return notYet();
}

// ---- helpers --------------------------------------------------------------------------------------------------

/** "example.org" / "Example.ORG." → "example.org."; BadZoneName for garbage. CIDRs give the reverse zone. */
export function normalizeZoneName(_name: string): string {
  return notYet();
}
