// zone_tool's exit statuses follow sysexits(3) as the original did, so scripts can tell "zone missing" (68) from
// "bad input" (65) from "usage" (64).

import { DmsError, type DmsErrorCode, ERROR_KIND, type ErrorKind } from '../../services/errors.js';
import { errorText } from './format.js';

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

/** Exit status of each kind of catalogue error (src/services/errors.ts ERROR_KIND). */
const EXIT_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  not_found: EX.NOHOST,
  exists: EX.CANTCREAT,
  in_use: EX.UNAVAILABLE,
  unavailable: EX.UNAVAILABLE,
  invalid: EX.DATAERR,
  conflict: EX.TEMPFAIL,
  denied: EX.NOPERM,
  internal: EX.SOFTWARE,
};

export function exitCodeFor(code: DmsErrorCode): number {
  // A code outside the catalogue cannot be typed here, but a cast could smuggle one in: never report it as success.
  return EXIT_BY_KIND[ERROR_KIND[code]] ?? EX.SOFTWARE;
}

/** A Node.js system error (ENOENT, EACCES…) from a file the operator named. */
function isSystemError(e: Error): e is NodeJS.ErrnoException & { code: string } {
  const se = e as NodeJS.ErrnoException;
  return typeof se.errno === 'number' && typeof se.code === 'string' && typeof se.syscall === 'string';
}

/**
 * Turn anything thrown by the services into a ZoneToolError with the right exit status: catalogue errors by their
 * kind, system errors as missing input (66) or OS errors (71), anything else as an internal error (70), so that a
 * bug never looks like success.
 */
export function toZoneToolError(e: unknown): ZoneToolError {
  if (e instanceof ZoneToolError) return e;
  if (e instanceof DmsError) {
    const details = detailLines(e);
    // With the problems listed as details, the message is just its first line ("zone x not saved: 2 error(s)").
    const message = details.length > 0 ? e.message.split('\n')[0] : e.message;
    return new ZoneToolError(message, exitCodeFor(e.code), e.code, details);
  }
  if (e instanceof Error) {
    if (isSystemError(e)) return new ZoneToolError(e.message, e.code === 'ENOENT' ? EX.NOINPUT : EX.OSERR, e.code);
    return new ZoneToolError(e.message, EX.SOFTWARE, e.name && e.name !== 'Error' ? e.name : 'InternalError');
  }
  return new ZoneToolError(String(e), EX.SOFTWARE, 'InternalError');
}

/**
 * The zone check's warnings of a save or load that went through, one line each on stderr in the text layout, as a
 * compiler gives them: `file:line:column: warning: message` (JSON output carries them in the result).
 */
/** Where a problem is, as compilers say it: `file`, `file:line` or `file:line:column` (a column only with a line). */
export function fileLine(file: string, p: { line?: number; column?: number }): string {
  return p.line ? `${file}:${p.line}${p.column ? `:${p.column}` : ''}` : file;
}

export function printWarnings(
  ctx: { json: boolean; err(text: string): void },
  warnings: readonly { line?: number; column?: number; message: string }[] | undefined,
  file: string,
): void {
  if (ctx.json || !warnings || warnings.length === 0) return;
  const lines = warnings.map((w) => `${fileLine(file, w)}: warning: ${w.message}`);
  ctx.err(`${lines.join('\n')}\n`);
}

/** A save that stored nothing (the content equals the newest ZI): said on stderr, as the original did. */
export function reportUnchanged(ctx: { json: boolean; err(text: string): void }, name: string, r: { changed: boolean }): void {
  if (!r.changed && !ctx.json) ctx.err(`${errorText(`Zone '${name}' unchanged - no new ZI created.`)}\n`);
}

function detailLines(se: Error): string[] {
  const problems = (se as { problems?: unknown }).problems;
  if (Array.isArray(problems)) {
    // Validation problems from the services: one line each, errors only (warnings do not stop a save).
    return problems
      .filter((p) => p && typeof p === 'object' && (p as { severity?: unknown }).severity !== 'warning')
      .map((p) => {
        const o = p as { file?: string; line?: number; column?: number; owner?: string; type?: string; message?: string };
        // A refused git push spans many files: each problem says file:line:column, as compilers do.
        if ((se as DmsError).code === 'GIT_IMPORT_FAILED' && o.file) return `${fileLine(o.file, o)}: ${o.message ?? ''}`;
        const where = o.line ? `line ${o.line}${o.column ? `:${o.column}` : ''}: ` : '';
        return `${where}${o.owner ? `${o.owner} ` : ''}${o.type ? `${o.type} ` : ''}${o.message ?? ''}`;
      });
  }
  const o = se as { errors?: unknown; details?: unknown };
  const list = Array.isArray(o.errors) ? o.errors : Array.isArray(o.details) ? o.details : [];
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
