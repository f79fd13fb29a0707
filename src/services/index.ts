// The service layer: every management rule of DMS (zone lifecycle, edit lock, serials, validation, versions,
// references, sectags, server groups, configuration, events, vacuum, change feed). zone_tool, the JSON-RPC API and
// dmsd call these functions; none of them touches SQL. Every function takes a ServiceContext (context.ts: store,
// actor recorded as change_by, tenant, clock) as its first parameter.

import type { ServiceContext } from './context.js';
import * as config from './config.js';
import type { ConfigEntry } from './types.js';

export * from './errors.js';
export {
  ADMIN,
  type Clock,
  type ServiceContext,
  serviceContext,
  systemClock,
  type Tenant,
  type Tier,
  withActor,
  withOperation,
} from './context.js';
export type * from './types.js';

// zone_tool, the API and dmsd open the store through the services: nothing above this layer imports src/store.
export { openStore, resolveStoreOptions } from '../store/index.js';
export type { Store, StoreLocationArgs } from '../store/index.js';

// the operations table: what zone_tool, the JSON-RPC API and the web UI call
export {
  call,
  findOperation,
  invoke,
  listOperations,
  type Operation,
  type OperationName,
  type OperationParams,
  type OperationResult,
  OPERATIONS,
} from './operations/index.js';

// API accounts, tokens and the audit log (issue 16)
export {
  type AccountInfo,
  accountActor,
  actorOf,
  accountTenant,
  createAccount,
  createToken,
  deleteAccount,
  getAccount,
  hasAdminAccount,
  listAccounts,
  MIN_PASSWORD_LENGTH,
  listTokens,
  type Principal,
  revokeToken,
  setAccountPassword,
  type TokenInfo,
  verifyPassword,
  verifyToken,
} from './accounts.js';
export { type AuditEntry, listAudit, parseSince } from './audit.js';
// GET /config/<server> pull tokens (issue 11)
export { isServerToken, verifyServerToken } from './server-config/templates.js';
export { eventQueueDepth, pingStore, zoneStateCounts } from './stats.js';

// zones: create_zone, show_zonesm, ls, set_zone, enable/disable/delete/undelete/destroy, copy_zone
// content & ZIs: show_zone, show_zi, ls_zi, load_zone_zi/update_zone, update_rrs/RFC 2136, copy_zi, publish, delete_zi
export {
  changeZone,
  contentToText,
  copyZi,
  copyZone,
  createZone,
  deleteZi,
  deleteZone,
  destroyZone,
  diffVersions,
  disableZone,
  enableZone,
  getZone,
  getZoneById,
  getZoneContent,
  getZoneContentById,
  getZiById,
  getZoneText,
  getZi,
  listZis,
  listZones,
  listZoneBriefs,
  publishZi,
  resolveZoneName,
  applyRecordDelta,
  applyUpdateInOneTx,
  type UpdateScope,
  getZoneAtOwners,
  getUpdateScope,
  getZoneHead,
  saveZone,
  type RecordDelta,
  saveZoneText,
  setZoneFlags,
  undeleteZone,
} from './zones.js';

// edit lock: edit_zone, tickle, save with token, cancel_edit_zone, clear_edit_lock
export { cancelEditZone, clearEditLock, editZone, pokeSerial, pokeZoneSetSerial, pokeZoneWrapSerial, saveZoneEdit, tickleEditLock } from './edit.js';

// DNSSEC policies and keys (the signer's half is in src/dnssec); the key-encryption key the callers pass in the context
export {
  advanceDnssecKeys,
  checkDnssecKek,
  type KeyTransition,
  type DnssecKeyInfo,
  type DnssecPolicy,
  type DnssecPolicyInput,
  formatDuration,
  type ParentDsWork,
  parentDsWork,
  policyLines,
  recordParentCheck,
  unsignByUpdate,
  type ZoneDnssecStatus,
} from './dnssec.js';
export { type Kek, type KekSource, kekFile, kekLocation, memoryKek } from './kek.js';

// load_zones and dmsd --zones import
export { loadZones, type LoadZonesOptions } from './load.js';

// update_rrs: records and RRsets added, deleted, replaced
export { type FoundRecord, queryRecords, queryZoneRecords, type RrChange, type UpdateRrsOptions, updateRrs, type ZoneQueryRecord } from './rrs.js';
export { contentToRecords, recordsFromData, saveZoneRecords, type ZoneRecordData } from './zone-records.js';

// the unified diff diff_zones / diff_zi return
export { unifiedDiff } from './textdiff.js';

// dmsd: served zones and the change feed
export {
  currentChangeSeq,
  followChanges,
  listServedZones,
  loadPublishedChange,
  loadPublishedZone,
  loadPublishedZones,
  pollChanges,
} from './feed.js';
export { SNAPSHOT_MIN_RECORDS, saveZoneSnapshot } from './snapshots.js';

// references, sectags, server groups
export {
  addZoneSectag,
  changeServerGroup,
  createReference,
  createSectag,
  createServerGroup,
  deleteReference,
  deleteSectag,
  deleteServerGroup,
  deleteZoneSectag,
  getServerGroup,
  listReferences,
  listSectags,
  listServerGroups,
  listZoneSectags,
  refreshZoneApex,
  renameReference,
  renameServerGroup,
  replaceZoneSectags,
  setZoneAltServerGroup,
  setZoneReference,
  setZoneServerGroup,
  swapZoneServerGroup,
  updateServerGroup,
} from './groups.js';

// TSIG keys and RFC 2136 update grants
export {
  addUpdateGrant,
  createTsigKey,
  deleteTsigKey,
  deleteUpdateGrant,
  getTsigKey,
  listTsigKeys,
  listUpdateGrants,
  loadTsigKeys,
  setUpdateGrants,
  type TsigKeyInfo,
} from './keys.js';

// events
export { backoffMs, claimDueEvents, completeEvent, dueEvents, enqueueEvent, enqueueEvents, enqueueZoneEvents, failEvent, getEvent, listEvents, retryEvent } from './events.js';

// DNS Cookie secrets (dmsd)
export { COOKIE_SECRET_ROTATION_MS, type CookieSecretSet, dnsCookieSecrets } from './cookies.js';

// vacuum
export { scheduleVacuum, vacuumAll, type VacuumOptions } from './vacuum.js';

// helpers
export { cidrToReverseZone, normalizeZoneName, operatorZoneName } from './names.js';

// automatic reverse PTRs (issue 14)
export type { PtrChange, PtrSkip, ReverseReport } from './reverse.js';
export { checkReverse, type ReverseCheckItem, refreshZonePtrs } from './reverse-bulk.js';
export { chooseSerial, dateSerial, nextSerial, serialAdd, serialGt, wrapSerial } from './serial.js';
export { CONFIG_KEYS } from './config.js';

// ---- configuration --------------------------------------------------------------------------------------------

/** show_config: every key with its value (defaults filled in), per-SG soa_mname values too. */
export async function showConfig(ctx: ServiceContext): Promise<ConfigEntry[]> {
  return config.showConfig(ctx.store.db);
}
export async function getConfigValue(ctx: ServiceContext, key: string, sg?: string): Promise<string> {
  return config.getConfigValue(ctx.store.db, key, sg);
}
/** notify_delay in milliseconds: how often at most a zone that keeps changing is NOTIFYed (daemon/primary.ts). */
export async function notifyDelayMs(ctx: ServiceContext): Promise<number> {
  return Math.round((await config.loadSettings(ctx.store.db)).seconds('notify_delay') * 1000);
}
/** set_config [-g sg] key value — validated (ConfigKeyUnknown / ConfigValueInvalid). */
export async function setConfig(ctx: ServiceContext, key: string, value: string, sg?: string): Promise<void> {
  return config.setConfig(ctx.store.db, key, value, sg);
}

// transfer rules and also-notify targets (zone or server group): the primary's access and NOTIFY configuration
export {
  type AccessTarget,
  type AlsoNotifyInfo,
  type NotifyTargetInfo,
  type TransferRuleInfo,
  addAlsoNotify,
  addTransferRule,
  deleteAlsoNotify,
  deleteTransferRule,
  listAlsoNotify,
  listTransferRules,
  zoneNotifyTargets,
  zonesMaybeWithNotifyTargets,
  zonesWithNotifyTargets,
  zoneTransferRules,
} from './access.js';

// serving signed zones: the signer's records per version (signing.ts)
export type { SignedState } from './signing.js';
export {
  clearResignRequest,
  hasDnssecPolicy,
  signedHead,
  isSigned,
  lastSignedVersion,
  publishedVersion,
  servedDnskeys,
  setDenialByUpdate,
  SIGNER_ONLY_TYPES,
  signedStateAt,
  signedZoneIds,
  signedZoneNames,
  signerChangeOwners,
  signerDiff,
  signerRecordsAt,
  storeSignerChange,
  type ZoneSigning,
  zoneSigning,
  signerRead,
} from './signing.js';

// query ACLs (allow-query) per zone and server group (query-acl.ts)
export { addQueryAcl, deleteQueryAcl, listQueryAcl, type QueryAclInfo, type QueryAclMap, queryAclMap, queryAclOf } from './query-acl.js';
// git mirroring and import (issue 12, docs/GIT.md)
export {
  type GitConfig,
  type GitImportReport,
  type GitPushReport,
  type GitStatus,
  type GitTrace,
  type GitZoneStatus,
  gitConfig,
  gitExport,
  gitManagesZone,
  gitPull,
  gitPush,
  gitStatus,
} from './git/index.js';
export {
  type ClusterState,
  clusterState,
  INSTANCE_EXPIRY_MS,
  forgetInstance,
  type InstanceInfo,
  isReplica,
  listInstances,
  listStandbys,
  peerDatabaseState,
  type PromotionResult,
  promoteReplica,
  pruneStaleInstances,
  type ReplicationStatus,
  recordInstance,
  recordLeader,
  replicaLagMs,
  replicationStatus,
  type StandbyInfo,
} from './ha.js';

// one DNS question to one server (health probes, the parent DS check)
export { tcpAsk, udpAsk } from './dns-ask.js';
