// The catalogue of management errors. Every rule the service layer enforces fails with one of these: zone_tool prints
// `message`, the JSON-RPC API maps `code` to an error code, and callers branch on `instanceof` or `code`.

export type DmsErrorCode =
  | 'ZONE_NOT_FOUND'
  | 'ZONE_EXISTS'
  | 'ZONE_NOT_DELETED'
  | 'ZONE_DELETED'
  | 'ZONE_DISABLED'
  | 'BAD_ZONE_NAME'
  | 'ZI_NOT_FOUND'
  | 'EDIT_LOCK_CONFLICT'
  | 'STALE_EDIT_TOKEN'
  | 'EDIT_CONFLICT'
  | 'ZONE_VALIDATION_FAILED'
  | 'REFERENCE_NOT_FOUND'
  | 'REFERENCE_EXISTS'
  | 'REFERENCE_IN_USE'
  | 'SECTAG_NOT_FOUND'
  | 'SECTAG_EXISTS'
  | 'SECTAG_IN_USE'
  | 'SG_NOT_FOUND'
  | 'SG_EXISTS'
  | 'SG_IN_USE'
  | 'CONFIG_KEY_UNKNOWN'
  | 'CONFIG_VALUE_INVALID'
  | 'SERIAL_INVALID'
  | 'EVENT_NOT_FOUND'
  | 'TSIG_KEY_NOT_FOUND'
  | 'TSIG_KEY_EXISTS'
  | 'SERVER_NOT_FOUND'
  | 'SERVER_EXISTS'
  | 'SERVER_ADDRESS_EXISTS'
  | 'SERVER_CONFIG_REFUSED'
  | 'REVERSE_ZONE_NOT_FOUND'
  | 'DNSSEC_POLICY_NOT_FOUND'
  | 'DNSSEC_POLICY_EXISTS'
  | 'DNSSEC_POLICY_INVALID'
  | 'DNSSEC_KEY_NOT_FOUND'
  | 'DNSSEC_KEY_REFUSED'
  | 'DNSSEC_KEK_UNAVAILABLE'
  | 'DNSSEC_ROLLOVER_PENDING'
  | 'ACCOUNT_NOT_FOUND'
  | 'ACCOUNT_EXISTS'
  | 'TOKEN_NOT_FOUND'
  | 'SETUP_DONE'
  | 'UNKNOWN_OPERATION'
  | 'INVALID_PARAMS'
  | 'PERMISSION_DENIED'
  | 'INVALID_ARGUMENT'
  | 'STORE_ERROR'
  | 'GIT_NOT_CONFIGURED'
  | 'GIT_IMPORT_FAILED'
  | 'GIT_REMOTE_FAILED'
  | 'GIT_HISTORY_REWRITTEN'
  | 'READ_ONLY_REPLICA'
  | 'NOT_A_REPLICA';

/**
 * What kind of failure each catalogue error is. zone_tool's exit status and the JSON-RPC error code derive from the
 * kind, so a new code without a kind is a compile error, and no caller guesses from names.
 */
export type ErrorKind = 'not_found' | 'exists' | 'in_use' | 'unavailable' | 'invalid' | 'conflict' | 'denied' | 'internal';

export const ERROR_KIND: Readonly<Record<DmsErrorCode, ErrorKind>> = {
  ZONE_NOT_FOUND: 'not_found',
  ZONE_EXISTS: 'exists',
  // undelete/destroy of a zone that is live: the zone is there (as with "exists"), not in the state asked for.
  ZONE_NOT_DELETED: 'exists',
  ZONE_DELETED: 'unavailable',
  ZONE_DISABLED: 'unavailable',
  BAD_ZONE_NAME: 'invalid',
  ZI_NOT_FOUND: 'not_found',
  EDIT_LOCK_CONFLICT: 'in_use',
  STALE_EDIT_TOKEN: 'conflict',
  EDIT_CONFLICT: 'conflict',
  ZONE_VALIDATION_FAILED: 'invalid',
  REFERENCE_NOT_FOUND: 'not_found',
  REFERENCE_EXISTS: 'exists',
  REFERENCE_IN_USE: 'in_use',
  SECTAG_NOT_FOUND: 'not_found',
  SECTAG_EXISTS: 'exists',
  SECTAG_IN_USE: 'in_use',
  SG_NOT_FOUND: 'not_found',
  SG_EXISTS: 'exists',
  SG_IN_USE: 'in_use',
  CONFIG_KEY_UNKNOWN: 'invalid',
  CONFIG_VALUE_INVALID: 'invalid',
  SERIAL_INVALID: 'invalid',
  EVENT_NOT_FOUND: 'not_found',
  TSIG_KEY_NOT_FOUND: 'not_found',
  TSIG_KEY_EXISTS: 'exists',
  SERVER_NOT_FOUND: 'not_found',
  SERVER_EXISTS: 'exists',
  SERVER_ADDRESS_EXISTS: 'exists',
  // The generated configuration of a secondary would be broken (or its checker said so): nothing was changed.
  SERVER_CONFIG_REFUSED: 'invalid',
  REVERSE_ZONE_NOT_FOUND: 'not_found',
  DNSSEC_POLICY_NOT_FOUND: 'not_found',
  DNSSEC_POLICY_EXISTS: 'exists',
  DNSSEC_POLICY_INVALID: 'invalid',
  DNSSEC_KEY_NOT_FOUND: 'not_found',
  DNSSEC_KEY_REFUSED: 'invalid',
  // No key-encryption key, or not the one that sealed the stored keys: nothing can be signed until it is restored.
  DNSSEC_KEK_UNAVAILABLE: 'unavailable',
  DNSSEC_ROLLOVER_PENDING: 'in_use',
  ACCOUNT_NOT_FOUND: 'not_found',
  ACCOUNT_EXISTS: 'exists',
  TOKEN_NOT_FOUND: 'not_found',
  // The first-run set-up (src/api/setup.ts) after an admin account exists: it made one, or another set-up won the race.
  SETUP_DONE: 'conflict',
  UNKNOWN_OPERATION: 'invalid',
  INVALID_PARAMS: 'invalid',
  PERMISSION_DENIED: 'denied',
  INVALID_ARGUMENT: 'invalid',
  // The database is a hot standby (issue 13): nothing can be changed here until it is promoted (promote_replica).
  READ_ONLY_REPLICA: 'unavailable',
  // promote_replica on a database that is not a standby (already a primary, or SQLite).
  NOT_A_REPLICA: 'invalid',
  STORE_ERROR: 'internal',
  GIT_NOT_CONFIGURED: 'unavailable',
  // A push to the repository with files DMS refuses: nothing of it imported.
  GIT_IMPORT_FAILED: 'invalid',
  // The remote cannot be reached or refuses: a later try may work, nothing changed meanwhile.
  GIT_REMOTE_FAILED: 'unavailable',
  GIT_HISTORY_REWRITTEN: 'conflict',
};

export class DmsError extends Error {
  readonly code: DmsErrorCode;
  constructor(code: DmsErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A catalogue error class made by `catalogueError`: constructed from `A`, its instances carry the properties `P`. */
interface CatalogueErrorClass<A extends unknown[], P extends object> {
  new (...args: A): DmsError & P;
  readonly prototype: DmsError & P;
}

/**
 * Most catalogue errors are about one named object (a zone, reference, security tag, server group, TSIG key...) and
 * differ only in their name, code, the property that keeps the object's name and the wording; one factory makes them
 * so that they cannot drift apart. Each is still a class of its own: `instanceof`, `.code` and `.name` (zone_tool's
 * exit statuses, logs) work as for a hand-written one, and `new SectagNotFound('x').sectag === 'x'`. The name is set
 * explicitly, so a bundler that renames the binding cannot change it.
 */
function catalogueError<A extends unknown[], P extends object>(
  name: string,
  code: DmsErrorCode,
  fields: readonly string[],
  message: (...args: A) => string,
): CatalogueErrorClass<A, P> {
  const cls = class extends DmsError {
    constructor(...args: A) {
      super(code, message(...args));
      // The constructor arguments, kept under their names as the parameter properties of a hand-written class would.
      for (let i = 0; i < fields.length; i++) (this as unknown as Record<string, unknown>)[fields[i]] = args[i];
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls as unknown as CatalogueErrorClass<A, P>;
}

/** An error about the object named `subject`, kept as `.<field>`. */
function subjectError<F extends string, S extends string | number = string>(
  name: string,
  code: DmsErrorCode,
  field: F,
  message: (subject: S) => string,
) {
  return catalogueError<[subject: S], { readonly [K in F]: S }>(name, code, [field], message);
}

/** "<noun> <subject> not found", worded alike for every kind of object. */
function notFound<F extends string, S extends string | number = string>(
  name: string,
  code: DmsErrorCode,
  field: F,
  noun: string,
) {
  return subjectError<F, S>(name, code, field, (subject) => `${noun} ${subject} not found`);
}

/** "<noun> <subject> already exists", worded alike for every kind of object. */
function alreadyExists<F extends string>(name: string, code: DmsErrorCode, field: F, noun: string) {
  return subjectError(name, code, field, (subject) => `${noun} ${subject} already exists`);
}

/** An object that cannot go because zones still use it: its name as `.<field>`, how many zones as `.zoneCount`. */
function inUseError<F extends string>(
  name: string,
  code: DmsErrorCode,
  field: F,
  message: (subject: string, zoneCount: number) => string,
) {
  type Props = { readonly [K in F]: string } & { readonly zoneCount: number };
  return catalogueError<[subject: string, zoneCount: number], Props>(name, code, [field, 'zoneCount'], message);
}

export const ZoneNotFound = notFound('ZoneNotFound', 'ZONE_NOT_FOUND', 'zone', 'zone');
/** An address (not a zone name) with no reverse zone in DMS that holds it. */
export const ReverseZoneNotFound = subjectError(
  'ReverseZoneNotFound',
  'REVERSE_ZONE_NOT_FOUND',
  'address',
  (address) => `No reverse zone for address '${address}' present.`,
);
export const ZoneExists = alreadyExists('ZoneExists', 'ZONE_EXISTS', 'zone', 'zone');
export const ZoneNotDeleted = subjectError(
  'ZoneNotDeleted',
  'ZONE_NOT_DELETED',
  'zone',
  (z) => `zone ${z} is not deleted (delete it first)`,
);
export const ZoneDeleted = subjectError(
  'ZoneDeleted',
  'ZONE_DELETED',
  'zone',
  (z) => `zone ${z} is deleted (undelete it first)`,
);
export const ZoneDisabled = subjectError('ZoneDisabled', 'ZONE_DISABLED', 'zone', (z) => `zone ${z} is disabled`);

export class BadZoneName extends DmsError {
  constructor(
    readonly zone: string,
    reason: string,
  ) {
    super('BAD_ZONE_NAME', `bad zone name "${zone}": ${reason}`);
  }
}

export class ZiNotFound extends DmsError {
  constructor(
    readonly zone: string,
    readonly selector: string,
  ) {
    super('ZI_NOT_FOUND', `zone ${zone} has no zone instance ${selector}`);
  }
}

/** Someone else holds the zone's edit lock. */
export class EditLockConflict extends DmsError {
  constructor(
    readonly zone: string,
    readonly lockedBy: string | null,
    readonly expiresAt: Date | null,
  ) {
    super(
      'EDIT_LOCK_CONFLICT',
      `zone ${zone} is being edited by ${lockedBy ?? 'someone else'}` +
        (expiresAt ? ` (lock expires ${expiresAt.toISOString()})` : '') +
        '; try again later or clear the lock with clear_edit_lock',
    );
  }
}

/** The edit token presented is not the zone's current one (expired, cleared, or never issued). */
export class StaleEditToken extends DmsError {
  constructor(
    readonly zone: string,
    reason: string,
  ) {
    super('STALE_EDIT_TOKEN', `edit token for zone ${zone} refused: ${reason}; your changes were NOT saved`);
  }
}

/** The zone changed since the caller read it (two operators racing): the later save loses, loudly. */
export class EditConflict extends DmsError {
  constructor(
    readonly zone: string,
    readonly baseVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      'EDIT_CONFLICT',
      `zone ${zone} was changed by someone else while you edited it (you started from version ${baseVersion}, ` +
        `it is now at version ${currentVersion}); your changes were NOT saved — re-edit and merge`,
    );
  }
}

/** A change made against an expected SOA serial that is no longer the zone's newest (update_rrs): nothing saved. */
export class SerialConflict extends DmsError {
  constructor(
    readonly zone: string,
    readonly expectedSerial: number,
    readonly currentSerial: number,
  ) {
    super(
      'EDIT_CONFLICT',
      `zone ${zone} is at serial ${currentSerial}, not the expected ${expectedSerial}: it changed meanwhile; ` +
        'your changes were NOT saved — read it again and retry',
    );
  }
}

export interface ValidationProblem {
  message: string;
  severity: 'error' | 'warning';
  /** Owner name of the record concerned, when there is one. */
  owner?: string;
  /** Type mnemonic of the record concerned. */
  type?: string;
  file?: string;
  line?: number;
  column?: number;
}

export class ZoneValidationFailed extends DmsError {
  constructor(
    readonly zone: string,
    readonly problems: ValidationProblem[],
  ) {
    const errs = problems.filter((p) => p.severity === 'error');
    const first = errs
      .slice(0, 5)
      .map((p) => `  ${p.line ? `line ${p.line}: ` : ''}${p.owner ? `${p.owner} ` : ''}${p.type ? `${p.type} ` : ''}${p.message}`)
      .join('\n');
    super(
      'ZONE_VALIDATION_FAILED',
      `zone ${zone} not saved: ${errs.length} error(s)\n${first}${errs.length > 5 ? `\n  ... and ${errs.length - 5} more` : ''}`,
    );
  }
}

export const ReferenceNotFound = notFound('ReferenceNotFound', 'REFERENCE_NOT_FOUND', 'reference', 'reference');
export const ReferenceExists = alreadyExists('ReferenceExists', 'REFERENCE_EXISTS', 'reference', 'reference');
export const ReferenceInUse = inUseError(
  'ReferenceInUse',
  'REFERENCE_IN_USE',
  'reference',
  (r, n) => `reference ${r} is still used by ${n} zone(s)`,
);

export const SectagNotFound = notFound('SectagNotFound', 'SECTAG_NOT_FOUND', 'sectag', 'security tag');
export const SectagExists = alreadyExists('SectagExists', 'SECTAG_EXISTS', 'sectag', 'security tag');
export const SectagInUse = inUseError(
  'SectagInUse',
  'SECTAG_IN_USE',
  'sectag',
  (s, n) => `security tag ${s} is still on ${n} zone(s)`,
);

export const ServerGroupNotFound = notFound('ServerGroupNotFound', 'SG_NOT_FOUND', 'sg', 'server group');
export const ServerGroupExists = alreadyExists('ServerGroupExists', 'SG_EXISTS', 'sg', 'server group');
export const ServerGroupInUse = inUseError(
  'ServerGroupInUse',
  'SG_IN_USE',
  'sg',
  (sg, n) => `server group ${sg} is still used by ${n} zone(s) (or is the default_sg)`,
);

/** Deleting a server group would delete its servers' definitions with it: they are deleted or moved first. */
export const ServerGroupHasServers = catalogueError<[sg: string, serverCount: number], { readonly sg: string; readonly serverCount: number }>(
  'ServerGroupHasServers',
  'SG_IN_USE',
  ['sg', 'serverCount'],
  (sg, n) => `server group ${sg} still has ${n} server(s): delete them or move them to another group first (delete_server, move_server_sg)`,
);

export const ConfigKeyUnknown = subjectError(
  'ConfigKeyUnknown',
  'CONFIG_KEY_UNKNOWN',
  'key',
  (k) => `unknown configuration key ${k}`,
);
export class ConfigValueInvalid extends DmsError {
  constructor(
    readonly key: string,
    readonly value: string,
    reason: string,
  ) {
    super('CONFIG_VALUE_INVALID', `bad value "${value}" for ${key}: ${reason}`);
  }
}

export class SerialInvalid extends DmsError {
  constructor(message: string) {
    super('SERIAL_INVALID', message);
  }
}

export const EventNotFound = notFound<'eventId', number>('EventNotFound', 'EVENT_NOT_FOUND', 'eventId', 'event');

export class InvalidArgument extends DmsError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export const ServerNotFound = notFound('ServerNotFound', 'SERVER_NOT_FOUND', 'server', 'server');
export const ServerExists = alreadyExists('ServerExists', 'SERVER_EXISTS', 'server', 'server');
export const ServerAddressExists = catalogueError<[address: string, other: string], { readonly address: string; readonly other: string }>(
  'ServerAddressExists',
  'SERVER_ADDRESS_EXISTS',
  ['address', 'other'],
  (address, other) => `address ${address} is already used by server ${other}`,
);
/** A secondary's configuration DMS will not generate or install, with every reason (issue 11). */
export class ServerConfigRefused extends DmsError {
  constructor(
    readonly server: string,
    readonly reasons: readonly string[],
  ) {
    super('SERVER_CONFIG_REFUSED', `configuration of server ${server} refused: ${reasons.join('; ')}`);
  }
}
export const TsigKeyNotFound = notFound('TsigKeyNotFound', 'TSIG_KEY_NOT_FOUND', 'key', 'TSIG key');
export const TsigKeyExists = alreadyExists('TsigKeyExists', 'TSIG_KEY_EXISTS', 'key', 'TSIG key');
export const DnssecPolicyNotFound = notFound('DnssecPolicyNotFound', 'DNSSEC_POLICY_NOT_FOUND', 'policy', 'DNSSEC policy');
export const DnssecPolicyExists = alreadyExists('DnssecPolicyExists', 'DNSSEC_POLICY_EXISTS', 'policy', 'DNSSEC policy');
/** A policy that cannot work (timings a rollover cannot fit in, refresh ≥ validity…): every reason, one per entry. */
export class DnssecPolicyInvalid extends DmsError {
  constructor(
    readonly policy: string,
    readonly reasons: readonly string[],
  ) {
    super('DNSSEC_POLICY_INVALID', `DNSSEC policy ${policy} refused: ${reasons.join('; ')}`);
  }
}
export const DnssecKeyNotFound = catalogueError<[zone: string, keyTag: number], { readonly zone: string; readonly keyTag: number }>(
  'DnssecKeyNotFound',
  'DNSSEC_KEY_NOT_FOUND',
  ['zone', 'keyTag'],
  (zone, tag) => `zone ${zone} has no DNSSEC key with tag ${tag}`,
);
/** A key file refused on import (wrong zone, algorithm, mismatched halves…), with the reason. */
export class DnssecKeyRefused extends DmsError {
  constructor(readonly reason: string) {
    super('DNSSEC_KEY_REFUSED', `DNSSEC key refused: ${reason}`);
  }
}
export class DnssecKekUnavailable extends DmsError {
  constructor(message: string) {
    super('DNSSEC_KEK_UNAVAILABLE', message);
  }
}
export const DnssecRolloverPending = catalogueError<[zone: string, role: string], { readonly zone: string; readonly role: string }>(
  'DnssecRolloverPending',
  'DNSSEC_ROLLOVER_PENDING',
  ['zone', 'role'],
  (zone, role) => `zone ${zone} already has a ${role.toUpperCase()} rollover pending (one rollover at a time per zone)`,
);

export const AccountNotFound = notFound('AccountNotFound', 'ACCOUNT_NOT_FOUND', 'login', 'API account');
export const AccountExists = alreadyExists('AccountExists', 'ACCOUNT_EXISTS', 'login', 'API account');
export const TokenNotFound = notFound<'tokenId', number>('TokenNotFound', 'TOKEN_NOT_FOUND', 'tokenId', 'API token');

/** The first-run set-up was asked for while an admin account exists: nothing was created. */
export class SetupDone extends DmsError {
  constructor() {
    super('SETUP_DONE', 'the first-run set-up is done: an admin API account exists (log in with it; more accounts: Administration or zone_tool create_api_account)');
  }
}

/** One problem with an operation's parameters: where (`path`, e.g. "flags.incUpdates" or "records[3].ttl") and what. */
export interface ParamProblem {
  path: string;
  message: string;
}

export class UnknownOperation extends DmsError {
  constructor(readonly operation: string) {
    super('UNKNOWN_OPERATION', `unknown operation ${operation}`);
  }
}

/** Parameters that do not fit the operation's schema; nothing was read or changed. */
export class InvalidParams extends DmsError {
  constructor(
    readonly operation: string,
    readonly problems: readonly ParamProblem[],
  ) {
    super(
      'INVALID_PARAMS',
      `${operation}: invalid parameters: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`,
    );
  }
}

/** The caller's tier may not use this operation (customers never learn more than that). */
export class PermissionDenied extends DmsError {
  constructor(readonly operation: string) {
    super('PERMISSION_DENIED', `${operation}: not permitted`);
  }
}

/** git mirroring / import asked for while no repository is configured (set_config git_mirror). */
export class GitNotConfigured extends DmsError {
  constructor(what = 'git_mirror') {
    super('GIT_NOT_CONFIGURED', `no git repository configured (set_config ${what} <path or URL>)`);
  }
}
/** One problem of a pushed file: the file, and where in it. */
export interface GitFileProblem {
  file: string;
  line?: number;
  column?: number;
  message: string;
}
/** A push DMS refuses as a whole (issue 12: all files of a push or none): every problem of every file. */
export class GitImportFailed extends DmsError {
  constructor(
    readonly commit: string,
    readonly problems: readonly GitFileProblem[],
  ) {
    const lines = problems.map((p) => `  ${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}: ${p.message}`);
    super('GIT_IMPORT_FAILED', `git commit ${commit.slice(0, 12)} not imported: ${problems.length} error(s)\n${lines.join('\n')}`);
  }
}
/** The remote repository cannot be reached or refused (push, fetch): nothing changed, a later try may work. */
export class GitRemoteFailed extends DmsError {
  constructor(
    readonly remote: string,
    readonly detail: string,
  ) {
    super('GIT_REMOTE_FAILED', `git remote ${remote}: ${detail}`);
  }
}
/** The remote branch no longer descends from the commit DMS last saw there (a force-push): nothing imported. */
export class GitHistoryRewritten extends DmsError {
  constructor(
    readonly branch: string,
    readonly known: string,
    readonly found: string,
  ) {
    super(
      'GIT_HISTORY_REWRITTEN',
      `git branch ${branch} was rewritten: ${found.slice(0, 12)} does not descend from ${known.slice(0, 12)} (the commit DMS last synchronised); nothing imported or pushed — push a commit on top of ${known.slice(0, 12)}, or take the branch as it is with git_pull -f`,
    );
  }
}

/** A change asked of a dmsd / zone_tool whose database is a PostgreSQL hot standby (issue 13, docs/HA.md). */
export class ReadOnlyReplica extends DmsError {
  constructor(readonly detail?: string) {
    super('READ_ONLY_REPLICA', `read-only replica: this database is a hot standby; changes go to the primary (or promote this replica with promote_replica)${detail ? ` (${detail})` : ''}`);
  }
}

/** promote_replica where there is nothing to promote. */
export class NotAReplica extends DmsError {
  constructor(readonly reason: string) {
    super('NOT_A_REPLICA', `not a replica: ${reason}`);
  }
}

/**
 * True for a write refused because the database is read-only: PostgreSQL's read_only_sql_transaction (SQLSTATE
 * 25006, what a hot standby answers every write with) or our own ReadOnlyReplica.
 */
export function isReadOnlyError(e: unknown): boolean {
  return e instanceof ReadOnlyReplica || (e as { code?: unknown })?.code === '25006';
}
