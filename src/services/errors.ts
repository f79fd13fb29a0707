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
  | 'INVALID_ARGUMENT'
  | 'STORE_ERROR';

export class DmsError extends Error {
  readonly code: DmsErrorCode;
  constructor(code: DmsErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

export class ZoneNotFound extends DmsError {
  constructor(readonly zone: string) {
    super('ZONE_NOT_FOUND', `zone ${zone} not found`);
  }
}

export class ZoneExists extends DmsError {
  constructor(readonly zone: string) {
    super('ZONE_EXISTS', `zone ${zone} already exists`);
  }
}

export class ZoneNotDeleted extends DmsError {
  constructor(readonly zone: string) {
    super('ZONE_NOT_DELETED', `zone ${zone} is not deleted (delete it first)`);
  }
}

export class ZoneDeleted extends DmsError {
  constructor(readonly zone: string) {
    super('ZONE_DELETED', `zone ${zone} is deleted (undelete it first)`);
  }
}

export class ZoneDisabled extends DmsError {
  constructor(readonly zone: string) {
    super('ZONE_DISABLED', `zone ${zone} is disabled`);
  }
}

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

export class ReferenceNotFound extends DmsError {
  constructor(readonly reference: string) {
    super('REFERENCE_NOT_FOUND', `reference ${reference} not found`);
  }
}
export class ReferenceExists extends DmsError {
  constructor(readonly reference: string) {
    super('REFERENCE_EXISTS', `reference ${reference} already exists`);
  }
}
export class ReferenceInUse extends DmsError {
  constructor(
    readonly reference: string,
    readonly zoneCount: number,
  ) {
    super('REFERENCE_IN_USE', `reference ${reference} is still used by ${zoneCount} zone(s)`);
  }
}

export class SectagNotFound extends DmsError {
  constructor(readonly sectag: string) {
    super('SECTAG_NOT_FOUND', `security tag ${sectag} not found`);
  }
}
export class SectagExists extends DmsError {
  constructor(readonly sectag: string) {
    super('SECTAG_EXISTS', `security tag ${sectag} already exists`);
  }
}
export class SectagInUse extends DmsError {
  constructor(
    readonly sectag: string,
    readonly zoneCount: number,
  ) {
    super('SECTAG_IN_USE', `security tag ${sectag} is still on ${zoneCount} zone(s)`);
  }
}

export class ServerGroupNotFound extends DmsError {
  constructor(readonly sg: string) {
    super('SG_NOT_FOUND', `server group ${sg} not found`);
  }
}
export class ServerGroupExists extends DmsError {
  constructor(readonly sg: string) {
    super('SG_EXISTS', `server group ${sg} already exists`);
  }
}
export class ServerGroupInUse extends DmsError {
  constructor(
    readonly sg: string,
    readonly zoneCount: number,
  ) {
    super('SG_IN_USE', `server group ${sg} is still used by ${zoneCount} zone(s) (or is the default_sg)`);
  }
}

export class ConfigKeyUnknown extends DmsError {
  constructor(readonly key: string) {
    super('CONFIG_KEY_UNKNOWN', `unknown configuration key ${key}`);
  }
}
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

export class EventNotFound extends DmsError {
  constructor(readonly eventId: number) {
    super('EVENT_NOT_FOUND', `event ${eventId} not found`);
  }
}

export class InvalidArgument extends DmsError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class TsigKeyNotFound extends DmsError {
  constructor(readonly key: string) {
    super('TSIG_KEY_NOT_FOUND', `TSIG key ${key} not found`);
  }
}
export class TsigKeyExists extends DmsError {
  constructor(readonly key: string) {
    super('TSIG_KEY_EXISTS', `TSIG key ${key} already exists`);
  }
}
