// `dmsd --zones DIR`: one zone file per zone, the file name is the zone name (an optional ".zone" suffix is
// dropped; "root.zone" is the root zone). Each file is read with the zone-file parser, checked, compiled and handed to
// the ZoneTable; a file with errors is reported and not served, the others still are.
//
// The check is the one a zone gets before it is stored (zonefile/check.ts, named-checkzone's verdicts): BIND, Knot and
// NSD refuse a zone with a CNAME beside other data, and so does this. It needs the parsed records whole and costs about
// twice the parse (2.4 s for 1,000,000 records), so a large file (CHECK_INLINE_MAX_BYTES and more) is served as soon
// as it is compiled, streamed without its records held, and checked after (checkZoneFileThreaded, by a thread of its
// own): its problems are logged then, and an error is logged as one while the zone stays served. The check holds
// every record (about 40 bytes of memory per byte of the file, measured: 1.1 GB for a 26 MB file of 1,000,000
// records), so files above CHECK_LATER_MAX_BYTES (8 MiB) are served unchecked (said in the log): check those before they are
// served (named-checkzone), or serve them from the database, where every zone is checked as it is stored.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import { Name } from '../dns/name.js';
import { type Zone, ZoneBuilder } from '../zone/zone.js';
import { unpackRecords } from '../zonefile/batch.js';
import { checkZone } from '../zonefile/check.js';
import { loadZoneFile } from './zonefile-files.js';
import type { ZoneFileContent, ZoneFileJob, ZoneFileMessage } from './zonefile-worker.js';
import { startThread } from './threads.js';
import type { ZoneFileProblem } from '../zonefile/types.js';

/** Files below this size are checked before they are served; larger ones after (checkZoneFileThreaded). */
export const CHECK_INLINE_MAX_BYTES = 4 << 20;
/**
 * Files above this size are not checked (the check's memory; see above): measured, a 14 MB file of 640,000 records
 * took dmsd from 226 to 754 MB resident for the 2.5 s of its check.
 */
export const CHECK_LATER_MAX_BYTES = 8 << 20;
/** The check thread's heap limit: past it the thread stops and the check is reported as not run (never an OOM). */
const CHECK_THREAD_HEAP_MB = 768;

export interface ZoneLoadResult {
  file: string;
  origin: string;
  zone?: Zone;
  problems: ZoneFileProblem[];
  /** Parsed by a thread of its own (loadZoneThreaded). */
  inThread?: boolean;
  /** Served without the zone check (a large file): check it with checkZoneFileThreaded. */
  checkLater?: boolean;
  /** Served without the zone check, which a file this large does not get (CHECK_LATER_MAX_BYTES). */
  unchecked?: boolean;
}

/** The zone name a file stands for, or undefined when the file is not a zone file (hidden, backup, journal). */
export function zoneNameOfFile(file: string): string | undefined {
  if (file.startsWith('.') || file.endsWith('~') || file.endsWith('.jnl') || file.endsWith('.swp')) return undefined;
  const base = file.endsWith('.zone') ? file.slice(0, -5) : file;
  if (base === 'root' || base === '') return '.';
  return base;
}

/** The zone name of a file, or the problem with it. */
function originOf(path: string, originText: string): Name | ZoneLoadResult {
  try {
    return originText === '.' ? Name.root : Name.from(originText);
  } catch (err) {
    return {
      file: path,
      origin: originText,
      problems: [{ file: path, line: 0, column: 0, severity: 'error', message: `file name is not a zone name: ${(err as Error).message}` }],
    };
  }
}

/**
 * Load one zone file as the zone `origin`: checked, unless it is CHECK_INLINE_MAX_BYTES or larger (`size`, read from
 * the file when not given). Never throws: problems are returned.
 */
export function loadZone(path: string, originText: string, size?: number): ZoneLoadResult {
  const origin = originOf(path, originText);
  if (!(origin instanceof Name)) return origin;
  const bytes = size ?? fileSize(path);
  if (bytes >= CHECK_INLINE_MAX_BYTES) return toCheckLater(loadZoneStreamed(path, origin), bytes);
  const parsed = loadZoneFile(path, { origin });
  if (parsed.problems.some((p) => p.severity === 'error')) return { file: path, origin: origin.toString(), problems: parsed.problems };
  const checked = checkZone(origin, parsed.records);
  const problems = [...parsed.problems, ...checked.problems];
  if (checked.problems.some((p) => p.severity === 'error')) return { file: path, origin: origin.toString(), problems };
  // The checked records: duplicates folded, one TTL per RRset, disabled ones not served.
  const builder = new ZoneBuilder(origin);
  for (const r of checked.records) if (!r.flags?.disable) builder.add(r);
  return finishZone(path, origin, builder, problems);
}

/** A zone loaded without the check: marked to be checked once served, or as unchecked (a file with errors is not served). */
function toCheckLater(r: ZoneLoadResult, bytes: number): ZoneLoadResult {
  if (!r.zone) return r;
  return bytes > CHECK_LATER_MAX_BYTES ? { ...r, unchecked: true } : { ...r, checkLater: true };
}

/** The size of a file, 0 when it cannot be read (the load then reports why). */
function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** A large file loaded without its records held (and without the check, which needs them). */
function loadZoneStreamed(path: string, origin: Name): ZoneLoadResult {
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
  return finishZone(path, origin, builder, parsed.problems);
}

/**
 * The zone check of a zone file served without it (ZoneLoadResult.checkLater), run by a thread of its own: the
 * problems it found (the parse's own were reported by the load). A thread that fails gives one warning saying so.
 */
export function checkZoneFileThreaded(path: string, originText: string, limits?: ResourceLimits): Promise<ZoneFileProblem[]> {
  return new Promise((resolve) => {
    const failed = (why: string) => resolve([{ file: path, line: 0, column: 0, severity: 'warning', message: `the zone check could not run (${why})` }]);
    let problems: ZoneFileProblem[] | undefined;
    let worker: ReturnType<typeof startThread>;
    try {
      worker = startThread('../server/zonefile-worker', import.meta.url, {
        workerData: { path, origin: originText, check: true } satisfies ZoneFileJob,
        resourceLimits: limits ?? { maxOldGenerationSizeMb: CHECK_THREAD_HEAP_MB },
      });
      worker.postMessage(null satisfies ZoneFileContent);
    } catch (err) {
      failed((err as Error).message);
      return;
    }
    worker.on('message', (m: ZoneFileMessage) => {
      if ('problems' in m) problems = m.problems;
    });
    worker.on('error', (err) => {
      if (problems === undefined) failed(err.message);
    });
    worker.on('exit', (code) => {
      if (problems !== undefined) resolve(problems);
      else failed(`exited with code ${code}`);
    });
  });
}

/** The zone `builder` holds, unless the parse had errors. */
function finishZone(path: string, origin: Name, builder: ZoneBuilder, parseProblems: readonly ZoneFileProblem[]): ZoneLoadResult {
  const problems = [...parseProblems];
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

/**
 * Files at least this large are parsed by a thread of their own while this one compiles the records (loadZoneThreaded);
 * below it, starting a thread costs more than it saves.
 */
export const THREAD_MIN_BYTES = 4 << 20;

/**
 * loadZone with the parsing in another thread: it packs the records into batches as it parses
 * (zonefile-worker.ts), this thread compiles each batch as it arrives — the two halves of the work run side by side.
 * A thread that fails (cannot start, dies) is reported as a warning and the file is loaded here instead. `limits`:
 * the thread's (tests make it fail with them).
 */
export function loadZoneThreaded(path: string, originText: string, limits?: ResourceLimits): Promise<ZoneLoadResult> {
  const origin = originOf(path, originText);
  if (!(origin instanceof Name)) return Promise.resolve(origin);
  const size = fileSize(path);
  return new Promise((resolve) => {
    const builder = new ZoneBuilder(origin);
    let result: ZoneLoadResult | undefined;
    let settled = false;
    const fallBack = (why: string) => {
      if (settled) return;
      settled = true;
      let r: ZoneLoadResult;
      try {
        r = loadZone(path, originText);
      } catch (err) {
        // What made the thread fail can make this parse throw too: the zone is then reported, never left pending.
        const message = `cannot load the zone file: ${(err as Error).message}`;
        r = { file: path, origin: origin.toString(), problems: [{ file: path, line: 0, column: 0, severity: 'error', message }] };
      }
      r.problems.push({ file: path, line: 0, column: 0, severity: 'warning', message: `the parsing thread failed (${why}): parsed in the main thread` });
      resolve(r);
    };
    const recycle = new MessageChannel();
    let worker: ReturnType<typeof startThread>;
    try {
      const job: ZoneFileJob = { path, origin: originText, recycle: recycle.port2 };
      worker = startThread('../server/zonefile-worker', import.meta.url, {
        workerData: job,
        transferList: [recycle.port2],
        ...(limits ? { resourceLimits: limits } : {}),
      });
      // Read here while the thread starts (its start costs longer than the read); the thread reads it when this fails.
      let content: ZoneFileContent = null;
      try {
        content = readFileSync(path);
      } catch {}
      // Moved, not copied, when the bytes are a buffer of their own (a large file's always are).
      const own = content !== null && content.byteOffset === 0 && content.byteLength === content.buffer.byteLength;
      worker.postMessage(content, own ? [content!.buffer as ArrayBuffer] : []);
    } catch (err) {
      recycle.port1.close();
      fallBack((err as Error).message);
      return;
    }
    worker.on('message', (m: ZoneFileMessage) => {
      if (result !== undefined || settled) return;
      if ('batch' in m) {
        try {
          unpackRecords(m.batch, builder, m.data);
        } catch (err) {
          void worker.terminate();
          fallBack(`its records could not be compiled: ${(err as Error).message}`);
          return;
        }
        // The builder copied what it keeps: the buffer goes back for the next batch.
        const buf = m.batch.buffer as ArrayBuffer;
        recycle.port1.postMessage(buf, [buf]);
      } else {
        recycle.port1.close();
        result = { ...toCheckLater(finishZone(path, origin, builder, m.problems), size), inThread: true };
      }
    });
    // An error once everything was handed over (the thread's exit) changes nothing.
    worker.on('error', (err) => {
      if (result === undefined) fallBack(err.message);
    });
    // The thread ends by itself once it posted everything (while this one finishes the zone); the result is handed
    // over once its memory is given back, so that what follows the load (the idle trim) sees the process without it.
    worker.on('exit', (code) => {
      recycle.port1.close();
      if (result === undefined) fallBack(`exited with code ${code} before the end of the file`);
      else if (!settled) {
        settled = true;
        resolve(result);
      }
    });
  });
}

/** The zone files of a directory, sorted by file name, with their zone names and sizes. */
function zoneFiles(dir: string): { path: string; origin: string; size: number }[] {
  const out: { path: string; origin: string; size: number }[] = [];
  for (const file of readdirSync(dir).sort()) {
    const origin = zoneNameOfFile(file);
    if (origin === undefined) continue;
    const path = join(dir, file);
    try {
      const st = statSync(path);
      if (st.isFile()) out.push({ path, origin, size: st.size });
    } catch {
      // gone or unreadable since the listing: not a zone file now
    }
  }
  return out;
}

/** Load every zone file of a directory (sorted by file name). Throws only when the directory cannot be read. */
export function loadZoneDirectory(dir: string): ZoneLoadResult[] {
  return zoneFiles(dir).map((f) => loadZone(f.path, f.origin, f.size));
}

/**
 * loadZoneDirectory with each file of `minBytes` or more parsed by a thread of its own (loadZoneThreaded), where there
 * is a second core for it.
 */
export async function loadZoneDirectoryThreaded(dir: string, minBytes = availableParallelism() > 1 ? THREAD_MIN_BYTES : Infinity): Promise<ZoneLoadResult[]> {
  const out: ZoneLoadResult[] = [];
  for (const f of zoneFiles(dir)) out.push(f.size >= minBytes ? await loadZoneThreaded(f.path, f.origin) : loadZone(f.path, f.origin, f.size));
  return out;
}
