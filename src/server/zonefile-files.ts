// Thin file-system shell around the pure parser: reads a zone file and serves its $INCLUDEs, confined to the zone
// file's directory (absolute paths outside it, `..` escapes and symlinks pointing out are refused).

import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Name } from '../dns/name.js';
import { zoneFileText } from '../zonefile/octets.js';
import { parseZoneText } from '../zonefile/parser.js';
import type { ParseOptions, ParseResult } from '../zonefile/types.js';

export type LoadOptions = Omit<ParseOptions, 'include' | 'file'>;

/**
 * Load a zone file (its bytes given as `content` when the caller read them). The origin defaults to the file's base name (e.g. "example.org" for .../example.org) when neither
 * opts.origin nor a $ORIGIN gives one. An unreadable top-level file is reported as a problem, not thrown.
 */
export function loadZoneFile(path: string, opts: LoadOptions = {}, content?: Uint8Array): ParseResult {
  let text: string;
  try {
    text = zoneFileText(content ?? readFileSync(path));
  } catch (err) {
    return {
      records: [],
      problems: [{ file: path, line: 0, column: 0, severity: 'error', message: `cannot read zone file: ${(err as Error).message}` }],
      origin: opts.origin,
    };
  }
  let origin = opts.origin;
  if (!origin) {
    try {
      origin = Name.from(basename(path));
    } catch {
      origin = undefined; // a base name that is not a domain name: $ORIGIN must then come from the file
    }
  }
  const root = realDir(dirname(resolve(path)));
  const include = (p: string): string => {
    const target = isAbsolute(p) ? resolve(p) : resolve(root, p);
    let real: string;
    try {
      real = realpathSync(target);
    } catch (err) {
      throw new Error(`cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const rel = relative(root, real);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new Error(`refused: $INCLUDE is confined to the zone file's directory ${root}`);
    return zoneFileText(readFileSync(real));
  };
  return parseZoneText(text, { ...opts, origin, file: path, include });
}

function realDir(d: string): string {
  try {
    return realpathSync(d);
  } catch {
    return d;
  }
}
