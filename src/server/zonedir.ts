// `dmsd --zones DIR`: one zone file per zone, the file name is the zone name (an optional ".zone" suffix is
// dropped; "root.zone" is the root zone). Each file is read with the zone-file parser, compiled and handed to the
// ZoneTable; a file with errors is reported and not served, the others still are.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Name } from '../dns/name.js';
import { type Zone, ZoneBuilder } from '../zone/zone.js';
import { loadZoneFile } from './zonefile-files.js';
import type { ZoneFileProblem } from '../zonefile/types.js';

export interface ZoneLoadResult {
  file: string;
  origin: string;
  zone?: Zone;
  problems: ZoneFileProblem[];
}

/** The zone name a file stands for, or undefined when the file is not a zone file (hidden, backup, journal). */
export function zoneNameOfFile(file: string): string | undefined {
  if (file.startsWith('.') || file.endsWith('~') || file.endsWith('.jnl') || file.endsWith('.swp')) return undefined;
  const base = file.endsWith('.zone') ? file.slice(0, -5) : file;
  if (base === 'root' || base === '') return '.';
  return base;
}

/** Load one zone file as the zone `origin`. Never throws: problems are returned. */
export function loadZone(path: string, originText: string): ZoneLoadResult {
  let origin: Name;
  try {
    origin = originText === '.' ? Name.root : Name.from(originText);
  } catch (err) {
    return {
      file: path,
      origin: originText,
      problems: [{ file: path, line: 0, column: 0, severity: 'error', message: `file name is not a zone name: ${(err as Error).message}` }],
    };
  }
  // Records are compiled as they are parsed, so the parsed record list never exists whole (a 1M-record zone would
  // otherwise hold ~400 bytes per record of parser objects next to the compiled zone). Records flagged as disabled
  // are kept in the data but not served. Plain records of the common types go to the builder without a record object.
  const builder = new ZoneBuilder(origin);
  const parsed = loadZoneFile(path, {
    origin,
    sink: builder,
    onRecord: (r) => {
      if (!r.flags?.disable) builder.add(r);
    },
  });
  const problems = [...parsed.problems];
  if (problems.some((p) => p.severity === 'error')) return { file: path, origin: origin.toString(), problems };
  try {
    const zone = builder.finish();
    for (const w of zone.warnings) problems.push({ file: path, line: 0, column: 0, severity: 'warning', message: w });
    return { file: path, origin: origin.toString(), zone, problems };
  } catch (err) {
    problems.push({ file: path, line: 0, column: 0, severity: 'error', message: (err as Error).message });
    return { file: path, origin: origin.toString(), problems };
  }
}

/** Load every zone file of a directory (sorted by file name). Throws only when the directory cannot be read. */
export function loadZoneDirectory(dir: string): ZoneLoadResult[] {
  const out: ZoneLoadResult[] = [];
  for (const file of readdirSync(dir).sort()) {
    const origin = zoneNameOfFile(file);
    if (origin === undefined) continue;
    const path = join(dir, file);
    try {
      if (!statSync(path).isFile()) continue;
    } catch {
      continue;
    }
    out.push(loadZone(path, origin));
  }
  return out;
}
