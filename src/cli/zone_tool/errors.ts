// zone_tool's exit statuses follow sysexits(3) as the original did, so scripts can tell "zone missing" (68) from
// "bad input" (65) from "usage" (64).

export const EX = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  NOHOST: 68,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  OSERR: 71,
  CANTCREAT: 73,
  IOERR: 74,
  TEMPFAIL: 75,
  PROTOCOL: 76,
  NOPERM: 77,
  CONFIG: 78,
} as const;

/** A failure that zone_tool reports as one message and an exit status. */
export class ZoneToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Stable machine-readable type, shown in --json output. */
    readonly code: string,
    /** Extra lines printed before the message (e.g. parse error locations). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ZoneToolError';
  }
}

/**
 * Exit status for an error coming from the service layer, keyed on its code/name. Unknown errors are software
 * errors (70) so a bug never looks like success.
 */
const EXIT_BY_CODE: Record<string, number> = {
  ZoneNotFound: EX.NOHOST,
  ZiNotFound: EX.NOHOST,
  ZoneNotFoundByZoneId: EX.NOHOST,
  NoZonesFound: EX.NOHOST,
  ReferenceNotFound: EX.NOHOST,
  NoReferenceFound: EX.NOHOST,
  SgNotFound: EX.NOHOST,
  NoSgFound: EX.NOHOST,
  SectagNotFound: EX.NOHOST,
  SecTagNotFound: EX.NOHOST,
  ZoneSecTagDoesNotExist: EX.NOHOST,
  EventNotFound: EX.NOHOST,
  NotFound: EX.NOHOST,
  ZoneExists: EX.CANTCREAT,
  ActiveZoneExists: EX.CANTCREAT,
  ReferenceExists: EX.CANTCREAT,
  SgExists: EX.CANTCREAT,
  SectagExists: EX.CANTCREAT,
  SecTagExists: EX.CANTCREAT,
  AlreadyExists: EX.CANTCREAT,
  Exists: EX.CANTCREAT,
  Conflict: EX.CANTCREAT,
  ZoneNotDeleted: EX.CANTCREAT,
  ZiInUse: EX.CANTCREAT,
  ReferenceInUse: EX.UNAVAILABLE,
  ReferenceStillUsed: EX.UNAVAILABLE,
  SectagInUse: EX.UNAVAILABLE,
  SecTagInUse: EX.UNAVAILABLE,
  SgInUse: EX.UNAVAILABLE,
  InUse: EX.UNAVAILABLE,
  EditLockFailure: EX.UNAVAILABLE,
  EditLocked: EX.UNAVAILABLE,
  ZoneLocked: EX.UNAVAILABLE,
  StaleEditToken: EX.TEMPFAIL,
  EditTokenInvalid: EX.TEMPFAIL,
  BadEditToken: EX.TEMPFAIL,
  InvalidToken: EX.TEMPFAIL,
  ZoneParseError: EX.DATAERR,
  ParseError: EX.DATAERR,
  ZoneDataError: EX.DATAERR,
  ValidationError: EX.DATAERR,
  InvalidArgument: EX.DATAERR,
  InvalidDomainName: EX.DATAERR,
  InvalidName: EX.DATAERR,
  BadInput: EX.DATAERR,
  ConfigError: EX.DATAERR,
  InvalidConfig: EX.DATAERR,
  ZiIdSyntaxError: EX.USAGE,
  UsageError: EX.USAGE,
  InvalidState: EX.PROTOCOL,
  ZoneSmFailure: EX.PROTOCOL,
  StateError: EX.PROTOCOL,
  PermissionDenied: EX.NOPERM,
  // The service catalogue (src/services/errors.ts), after UPPER_SNAKE → CamelCase.
  ZoneValidationFailed: EX.DATAERR,
  EditLockConflict: EX.UNAVAILABLE,
  EditConflict: EX.TEMPFAIL,
  BadZoneName: EX.DATAERR,
  ZoneDeleted: EX.UNAVAILABLE,
  ZoneDisabled: EX.UNAVAILABLE,
  ConfigKeyUnknown: EX.DATAERR,
  ConfigValueInvalid: EX.DATAERR,
  SerialInvalid: EX.DATAERR,
  PrivilegeNeeded: EX.NOPERM,
};

export function exitCodeFor(code: string | undefined): number {
  if (!code) return EX.SOFTWARE;
  const direct = EXIT_BY_CODE[code];
  if (direct !== undefined) return direct;
  // Tolerate code spellings like 'zone_not_found' / 'ZONE_NOT_FOUND'.
  const camel = code
    .toLowerCase()
    .split(/[_\-\s]+/)
    .map((w) => (w ? w[0].toUpperCase() + w.slice(1) : ''))
    .join('');
  return EXIT_BY_CODE[camel] ?? (/NotFound$/.test(camel) ? EX.NOHOST : /Exists$/.test(camel) ? EX.CANTCREAT : EX.SOFTWARE);
}

interface ServiceErrorLike {
  message: string;
  code?: unknown;
  name?: unknown;
  type?: unknown;
  details?: unknown;
  errors?: unknown;
}

/** Turn anything thrown by the services into a ZoneToolError with the right exit status. */
export function toZoneToolError(e: unknown): ZoneToolError {
  if (e instanceof ZoneToolError) return e;
  if (e instanceof Error) {
    const se = e as ServiceErrorLike;
    const code =
      typeof se.code === 'string' && !/^E[A-Z]+$/.test(se.code)
        ? se.code
        : typeof se.type === 'string'
          ? se.type
          : typeof se.name === 'string' && se.name !== 'Error'
            ? se.name
            : undefined;
    // Node system errors (ENOENT, EACCES...) are OS errors on files the operator named.
    if (typeof se.code === 'string' && /^E[A-Z]+$/.test(se.code)) {
      return new ZoneToolError(e.message, se.code === 'ENOENT' ? EX.NOINPUT : EX.OSERR, se.code);
    }
    const details = detailLines(se);
    // With the problems listed as details, the message is just its first line ("zone x not saved: 2 error(s)").
    const message = details.length > 0 ? e.message.split('\n')[0] : e.message;
    return new ZoneToolError(message, exitCodeFor(code), code ?? 'InternalError', details);
  }
  return new ZoneToolError(String(e), EX.SOFTWARE, 'InternalError');
}

function detailLines(se: ServiceErrorLike): string[] {
  const problems = (se as { problems?: unknown }).problems;
  if (Array.isArray(problems)) {
    // Validation problems from the services: one line each, errors only (warnings do not stop a save).
    return problems
      .filter((p) => p && typeof p === 'object' && (p as { severity?: unknown }).severity !== 'warning')
      .map((p) => {
        const o = p as { line?: number; column?: number; owner?: string; type?: string; message?: string };
        const where = o.line ? `line ${o.line}${o.column ? `:${o.column}` : ''}: ` : '';
        return `${where}${o.owner ? `${o.owner} ` : ''}${o.type ? `${o.type} ` : ''}${o.message ?? ''}`;
      });
  }
  const list = Array.isArray(se.errors) ? se.errors : Array.isArray(se.details) ? se.details : [];
  const out: string[] = [];
  for (const d of list) {
    if (typeof d === 'string') out.push(d);
    else if (d && typeof d === 'object') {
      const o = d as { line?: unknown; col?: unknown; column?: unknown; message?: unknown; file?: unknown };
      const col = o.col ?? o.column;
      const where = [o.file, o.line, col].filter((x) => x !== undefined && x !== null).join(':');
      out.push(where ? `${where}: ${String(o.message ?? '')}` : String(o.message ?? JSON.stringify(d)));
    }
  }
  return out;
}
