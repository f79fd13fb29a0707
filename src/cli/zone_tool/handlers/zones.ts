// zone_tool handlers for zones and their versions: listing, show, create/load/copy, edit, state, ZIs, serials.

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { DmsError } from '../../../services/errors.js';
import type { ListZonesOptions, OperationResult, ZiInfo, ZoneBrief, ZoneInfo } from '../../../services/index.js';
import { typeToString } from '../../../dns/constants.js';
import { Name } from '../../../dns/name.js';
import { rdataToText } from '../../../dns/rdata.js';
import { parseTtl, parseZoneText, type ZoneFileProblem, zoneFileText } from '../../../zonefile/index.js';
import type { ParsedArgs } from '../argv.js';
import type { Svc } from '../services.js';
import { type Context, confirm, emit } from '../context.js';
import type { Handler } from '../dispatch.js';
import { EX, fileLine, printWarnings, reportUnchanged, ZoneToolError, toZoneToolError } from '../errors.js';
import { col, errorText, fmtTime, kvBlock } from '../format.js';
import { intArg, parseZoneOptions, zoneArg, ziArg } from '../util.js';
import { parseZiSelector } from '../zi_selector.js';
import { flag, I, opt, ziFields, zoneSmFields } from './common.js';
import { printReverseReport } from '../reverse-commands.js';

// ---- zone listing ---------------------------------------------------------------------------------------------------

/** One page of a zone listing: whole zones (listZones) or what a listing line shows (listZoneBriefs). */
type ZonePage<T extends ZoneBrief> = (s: Svc, o: ListZonesOptions) => Promise<T[]>;
const wholeZones: ZonePage<ZoneInfo> = async (s, o) => (await s.call('list_zone', { ...o, detail: true })) as ZoneInfo[];
const zoneBriefs: ZonePage<ZoneBrief> = (s, o) => s.call('list_zone', o);

async function listAll<T extends ZoneBrief>(
  ctx: Context,
  base: { reference?: string; sg?: string; which?: 'active' | 'deleted' | 'all' },
  pattern: string | undefined,
  page: ZonePage<T>,
): Promise<T[]> {
  const s = await ctx.services();
  const out: T[] = [];
  let after: string | undefined;
  const limit = 1000;
  for (;;) {
    const rows = await page(s, { ...base, pattern, after, limit });
    out.push(...rows);
    if (rows.length < limit) break;
    after = rows[rows.length - 1].name;
  }
  return out;
}

/** Expand the ls-style name arguments (globs, names, IPs, networks) into patterns for listZones. */
async function lsPatterns(ctx: Context, names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) {
    if (/[*?]/.test(n)) out.push(n.endsWith('.') || n.endsWith('*') ? n : `${n}.`);
    else out.push(await zoneArg(ctx, n));
  }
  return out;
}

async function listMatching<T extends ZoneBrief>(
  ctx: Context,
  a: ParsedArgs,
  which: 'active' | 'deleted' | 'all',
  page: ZonePage<T>,
): Promise<T[]> {
  const base = { reference: opt(a, 'r'), sg: opt(a, 'g'), which };
  // An unknown -r/-g name fails in list_zone (ReferenceNotFound / ServerGroupNotFound), not as an empty listing.
  if (a.positional.length === 0) return listAll(ctx, base, undefined, page);
  const seen = new Map<number, T>();
  const missing: string[] = [];
  for (const [i, p] of (await lsPatterns(ctx, a.positional)).entries()) {
    const zones = await listAll(ctx, base, p, page);
    if (zones.length === 0) missing.push(a.positional[i]);
    for (const z of zones) seen.set(z.id, z);
  }
  // One pattern comes back in order already; several are merged and sorted.
  const zones = [...seen.values()];
  if (a.positional.length > 1) zones.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.id - y.id));
  if (zones.length === 0) {
    throw new ZoneToolError(`Zones: ${missing.join(' ')} - not present.`, EX.NOHOST, 'NoZonesFound');
  }
  return zones;
}

const ls: Handler = async (ctx, a) => {
  if (ctx.json) {
    let zones = await listMatching(ctx, a, 'active', wholeZones);
    if (flag(a, 't')) zones = zones.filter((z) => z.state !== 'DISABLED');
    emit(ctx, zones, () => '');
    return 0;
  }
  // The light listing: what the lines show, not whole ZoneInfos (a page of 100k zones stays a few ms).
  let zones = await listMatching(ctx, a, 'active', zoneBriefs);
  if (flag(a, 't')) zones = zones.filter((z) => z.state !== 'DISABLED');
  emit(ctx, zones, () =>
    zones
      .map((z) =>
        flag(a, 'v')
          ? `${col(z.name, 32)} ${col(z.soaSerial, 12)} ${col(z.state, 14)}${z.reference ? ` ${z.reference}` : ''}`
          : z.name,
      )
      .join('\n'),
  );
  return 0;
};

const lsDeleted: Handler = async (ctx, a) => {
  const zones = await listMatching(ctx, a, 'deleted', wholeZones);
  emit(ctx, zones, () =>
    zones
      .map((z) =>
        flag(a, 'v')
          ? `${col(z.name, 32)} ${col(z.id, 12)} ${col(fmtTime(z.deletedStart), 14)}${z.reference ? ` ${z.reference}` : ''}`
          : `${col(z.name, 32)} ${col(z.id, 12)}${z.reference ? ` ${z.reference}` : ''}`,
      )
      .join('\n'),
  );
  return 0;
};

// ---- show ----------------------------------------------------------------------------------------------------------

const showZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const zi = await ziArg(ctx, name, a.positional[1]);
  printZone(ctx, await s.call('show_zone', { zone: name, zi }));
  return 0;
};

/** A shown zone: its text under the original's info header, or as JSON. */
function printZone(ctx: Context, r: OperationResult<'show_zone'>): void {
  // zone_tool asks for text (the default format).
  const text = r.text ?? '';
  if (ctx.json) emit(ctx, { zone: r.zone.name, zi: r.zi, text }, () => '');
  else ctx.out(withInfoHeader(ensureNl(text), r.zone, r.zi));
}

const showZoneById: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zoneId = intArg(a.positional[0], 'zone-id');
  const zi = a.positional[1] === undefined ? undefined : intArg(a.positional[1], 'zi-id');
  printZone(ctx, await s.call('show_zone_byid', { zoneId, ...(zi !== undefined ? { zi } : {}) }));
  return 0;
};

/**
 * The original show_zone's comment block (zone, reference, change_by, zi_id and times), placed after the leading
 * $ORIGIN/$TTL directives. Comments only: the text still loads as the same zone.
 */
export function withInfoHeader(text: string, zone: ZoneInfo, zi: ZiInfo): string {
  const lines = text.split('\n');
  let at = 0;
  while (at < lines.length && /^\$(ORIGIN|TTL)\b/i.test(lines[at])) at++;
  const header = [
    '',
    ';',
    `;   Zone:        ${zone.name}`,
    `;   Reference:   ${zone.reference ?? 'None'}`,
    `;   change_by:   ${zi.changeBy}`,
    `;   zi_id:       ${zi.version}`,
    `;   zi_ctime:    ${fmtTime(zi.ctime)}`,
    `;   zi_mtime:    ${fmtTime(zi.mtime)}`,
    `;   zi_ptime:    ${fmtTime(zi.ptime)}`,
    ';',
  ];
  return [...lines.slice(0, at), ...header, ...lines.slice(at)].join('\n');
}

function ensureNl(t: string): string {
  return t.endsWith('\n') ? t : `${t}\n`;
}

const showZonesm: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const { zone, zi } = await s.call('show_zonesm', { zone: a.positional[0] });
  emit(ctx, { zone, zi }, () => {
    let t = kvBlock(zoneSmFields(zone), { firstKey: 'name' });
    if (zi) t += `\n\n${kvBlock(ziFields(zi), { firstKey: 'zi_id' })}`;
    return t;
  });
  return 0;
};

const showZonesmById: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const { zone, zi } = await s.call('show_zonesm_byid', { zoneId: intArg(a.positional[0], 'zone-id') });
  emit(ctx, { zone, zi }, () => `${kvBlock(zoneSmFields(zone), { firstKey: 'name' })}\n\n${kvBlock(ziFields(zi), { firstKey: 'zi_id' })}`);
  return 0;
};

const showZiById: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zi = a.positional[1] === undefined ? undefined : intArg(a.positional[1], 'zi-id');
  const r = await s.call('show_zi_byid', { zoneId: intArg(a.positional[0], 'zone-id'), ...(zi !== undefined ? { zi } : {}) });
  emit(ctx, r.zi, () => kvBlock(ziFields(r.zi), { firstKey: 'zi_id' }));
  return 0;
};

const showZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const { zi } = await s.call('show_zi', { zone: name, zi: await ziArg(ctx, name, a.positional[1]) });
  emit(ctx, zi, () => kvBlock(ziFields(zi), { firstKey: 'zi_id' }));
  return 0;
};

const lsZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const listed = await s.call('list_zi', { zone: name });
  const zone = listed.zone;
  let zis = listed.zis;
  if (a.positional[1] !== undefined) {
    const sel = await ziArg(ctx, name, a.positional[1], listed);
    if (sel !== undefined) zis = zis.filter((z) => z.version === sel);
  }
  const published = zone.publishedVersion;
  emit(ctx, zis, () =>
    zis
      .map((zi) => {
        const base = `${col(zi.version, 19)}  ${col(zi.soaSerial, 12)}  ${fmtTime(zi.ctime)}`;
        const line = flag(a, 'v') ? `${base}  ${fmtTime(zi.mtime)}` : base;
        return `${I}${zi.version === published ? '*' : ' '}${line}`;
      })
      .join('\n'),
  );
  return 0;
};

// ---- create / load / copy ----------------------------------------------------------------------------------------

function createOptions(a: ParsedArgs, words: readonly string[]) {
  const flags = parseZoneOptions(words);
  if (flag(a, 'i')) flags.incUpdates = true;
  const reference = opt(a, 'r');
  // `-r reference` sets *or creates* the reference (original behaviour): the service creates it in the zone's own
  // transaction, so a failed command leaves nothing behind.
  return { sg: opt(a, 'g'), reference, createReference: reference !== undefined, flags };
}

const createZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const o = createOptions(a, a.positional.slice(1));
  const zone = await s.call('create_zone', { zone: a.positional[0], ...o });
  emit(ctx, zone, () => '');
  return 0;
};

const copyZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const src = await zoneArg(ctx, a.positional[0]);
  const dst = await zoneArg(ctx, a.positional[1]);
  const o = createOptions(a, a.positional.slice(2));
  const zi = await ziArg(ctx, src, opt(a, 'z'));
  const zone = await s.call('copy_zone', { zone: src, to: dst, ...o, zi });
  emit(ctx, zone, () => '');
  return 0;
};

function fileError(file: string, e: unknown): ZoneToolError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'No such file' : err.code === 'EISDIR' ? 'Is a directory' : err.message;
  return new ZoneToolError(`Zone file '${file}': ${why}.`, err.code === 'ENOENT' ? EX.NOINPUT : EX.OSERR, err.code ?? 'IOError');
}

/** Bytes read from a zone file at a time when it is streamed. */
const PIECE = 1 << 20;

/**
 * A zone file as pieces for load_zone's textSource, so that a large file is never held: checked first (it opens,
 * it is not a directory, it has no NUL byte: readZoneFile's errors) by one pass over it, then read again piece by
 * piece while the service parses and writes.
 */
function zoneFilePieces(file: string): Iterable<Uint8Array> {
  const buf = Buffer.allocUnsafe(PIECE);
  const scan = (each?: (piece: Uint8Array) => void) => {
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        const got = readSync(fd, buf, 0, PIECE, null);
        if (got === 0) return;
        each?.(buf.subarray(0, got));
      }
    } finally {
      closeSync(fd);
    }
  };
  try {
    scan((piece) => {
      if (piece.includes(0)) throw new ZoneToolError(`Zone file '${file}': binary file, not a zone file.`, EX.IOERR, 'BinaryFile');
    });
  } catch (e) {
    throw e instanceof ZoneToolError ? e : fileError(file, e);
  }
  return {
    *[Symbol.iterator]() {
      // The piece is handed on and decoded before the next read reuses the buffer.
      const fd = openSync(file, 'r');
      try {
        for (;;) {
          const got = readSync(fd, buf, 0, PIECE, null);
          if (got === 0) return;
          yield buf.subarray(0, got);
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Read a zone file as text, refusing binary files with a clear message. */
async function readZoneFile(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = readFileSync(file); // sync: node:fs/promises would cost every command its start-up
  } catch (e) {
    throw fileError(file, e);
  }
  if (buf.includes(0)) throw new ZoneToolError(`Zone file '${file}': binary file, not a zone file.`, EX.IOERR, 'BinaryFile');
  return zoneFileText(buf);
}

/** Give validation problems the file name they came from, so messages read file:line:col. */
function withFile(e: unknown, file: string): unknown {
  const problems = (e as { problems?: { file?: string; line?: number; column?: number; message: string; severity?: string }[] })
    .problems;
  if (!Array.isArray(problems)) return e;
  const z = toZoneToolError(e);
  const details = problems
    .filter((p) => p.severity !== 'warning')
    .map((p) => `${fileLine(file, p)}: ${p.message}`);
  return new ZoneToolError(
    `Zone file '${file}': parse error - ${details.length} error(s), nothing saved.`,
    EX.DATAERR,
    z.code,
    details,
  );
}

const loadZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [file, zoneText] = a.positional;
  const name = await zoneArg(ctx, zoneText);
  const textSource = zoneFilePieces(file);
  const o = createOptions(a, a.positional.slice(2));
  try {
    const zone = await s.call('load_zone', { zone: name, ...o, textSource });
    emit(ctx, zone, () => '');
    printWarnings(ctx, zone.warnings, file);
    printReverseReport(ctx, zone.reverse);
  } catch (e) {
    throw withFile(e, file);
  }
  return 0;
};

const loadZoneZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [file, zoneText] = a.positional;
  const name = await zoneArg(ctx, zoneText);
  const text = await readZoneFile(file);
  try {
    const r = await s.call('update_zone_text', { zone: name, text });
    emit(ctx, r, () => '');
    printWarnings(ctx, r.warnings, file);
    printReverseReport(ctx, r.reverse);
    reportUnchanged(ctx, name, r);
  } catch (e) {
    throw withFile(e, file);
  }
  return 0;
};

/** The TTL the parser gives a record of an update_rrs file that has none ($TTL unless the file sets its own). */
const NO_TTL = 0x7fffffff;

/** The changes an update_rrs file stands for: its records, each an RROP action (ADD unless flagged), with its line. */
function rrChangesOf(text: string, file: string, zone: string): { changes: UpdateRrChange[]; lines: number[]; warnings: ZoneFileProblem[] } {
  // A record without a TTL takes its RRset's (else the zone's default) as update_rrs decides — not an earlier record's,
  // as in a zone file: the parser gives it NO_TTL, which is then left out.
  const parsed = parseZoneText(text, { origin: Name.parse(zone), file, defaultTtl: NO_TTL, updateFile: true });
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    const details = errors.map((p) => `${fileLine(file, p)}: ${p.message}`);
    throw new ZoneToolError(`Update file '${file}': parse error - ${errors.length} error(s), nothing saved.`, EX.DATAERR, 'ZoneParseError', details);
  }
  if (parsed.records.length === 0) throw new ZoneToolError(`Update file '${file}': no records in it.`, EX.DATAERR, 'NoRecords');
  const changes = parsed.records.map((r) => {
    const action = r.flags?.rrop === 'DELETE' ? 'delete' : r.flags?.rrop === 'UPDATE_RRTYPE' ? 'replace' : 'add';
    // A DELETE without RDATA (or `""`) is of the whole RRset; of type ANY, of everything at the name.
    const change: UpdateRrChange = r.wholeSet
      ? { action, name: r.name.toString(), type: typeToString(r.type) }
      : { action, name: r.name.toString(), type: typeToString(r.type), rdata: rdataToText(r.type, r.rdata) };
    if (action !== 'delete' && r.ttl !== NO_TTL) change.ttl = r.ttl;
    return change;
  });
  return { changes, lines: parsed.records.map((r) => r.line ?? 0), warnings: parsed.problems };
}

/**
 * update_rrs's refusals told as the update file's lines, as a parse error is: parameter problems (records[i].field) by
 * their record, and the zone checks' problems (CNAME and other data, a target without address, …) by the file's
 * first record at the owner they name (of their type when the file has one).
 */
function inUpdateFile(e: unknown, file: string, records: readonly UpdateRrChange[], lines: readonly number[]): unknown {
  if (!(e instanceof DmsError) || (e.code !== 'INVALID_PARAMS' && e.code !== 'ZONE_VALIDATION_FAILED')) return e;
  const problems = (e as { problems?: readonly { path?: string; message: string; owner?: string; type?: string; severity?: string }[] }).problems ?? [];
  const ownerLine = (owner: string, type: string | undefined): number | undefined => {
    const key = owner.toLowerCase();
    const at = records.flatMap((r, i) => (r.name.toLowerCase() === key ? [i] : []));
    const i = at.find((j) => records[j].type === type) ?? at[0];
    return i === undefined ? undefined : lines[i];
  };
  const details = problems
    .filter((p) => p.severity !== 'warning')
    .map((p) => {
      const i = /^records\[(\d+)\]/.exec(p.path ?? '')?.[1];
      const line = i !== undefined ? lines[Number(i)] : p.owner !== undefined ? ownerLine(p.owner, p.type) : undefined;
      return line ? `${fileLine(file, { line })}: ${p.message}` : `${p.path ? `${p.path}: ` : ''}${p.message}`;
    });
  return new ZoneToolError(`Update file '${file}': ${details.length} error(s), nothing saved.`, EX.DATAERR, e.code, details);
}

type UpdateRrChange = { action: 'add' | 'delete' | 'replace'; name: string; type: string; ttl?: number; rdata?: string };

/** A path names a file that is there (or stdin, "-"): update_rrs's way to tell the original's argument order. */
function isFileArg(p: string): boolean {
  if (p === '-') return true;
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

const updateRrs: Handler = async (ctx, a) => {
  const s = await ctx.services();
  // DMS's form is <domain-name> <file-name>; the original's <file-name> [domain-name] (its -n domain is the first
  // argument here): the file first when it is one and the other is not, and alone, the zone its first $ORIGIN.
  let [zoneText, file]: (string | undefined)[] = a.positional;
  if (file === undefined || (isFileArg(zoneText as string) && !isFileArg(file))) [zoneText, file] = [file, zoneText as string];
  const serialText = opt(a, 's');
  const serial = serialText === undefined ? undefined : intArg(serialText, 'soa-serial');
  let text: string;
  if (file === '-') {
    try {
      text = zoneFileText(readFileSync(0));
    } catch (e) {
      throw fileError('-', e);
    }
  } else text = await readZoneFile(file as string);
  const shown = file === '-' ? '<stdin>' : (file as string);
  zoneText ??= firstOrigin(text);
  if (zoneText === undefined)
    throw new ZoneToolError(`Update file '${shown}': no $ORIGIN in it - name the zone: update_rrs <domain-name> <file-name>`, EX.USAGE, 'NoZoneNamed');
  const name = await zoneArg(ctx, zoneText);
  const { changes: records, lines, warnings } = rrChangesOf(text, shown, name);
  printWarnings(ctx, warnings, shown);
  let r: OperationResult<'update_rrs'>;
  try {
    r = await s.call('update_rrs', { zone: name, records, ...(serial !== undefined ? { serial } : {}) });
  } catch (e) {
    throw inUpdateFile(e, shown, records, lines);
  }
  emit(ctx, r, () => '');
  printWarnings(ctx, r.warnings, shown);
  printReverseReport(ctx, r.reverse);
  reportUnchanged(ctx, name, r);
  return 0;
};

/**
 * rr_query_db in the original's form: `[-av] [-n domain] [-z zi] <label> [type] [rdata]` — one zone (-n, else the most
 * specific above the name), its newest ZI or -z's, labels matching with * and ?, several types as one quoted argument
 * ("A AAAA"), -a disabled records and zones too; the original's lines, -v with its header and disabled marks.
 */
const rrQueryOriginal: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [label, typeText, rdata] = a.positional;
  const zone = opt(a, 'n');
  const zi = opt(a, 'z');
  const types = typeText === undefined ? [] : typeText.split(/\s+/).filter((t) => t !== '');
  const r = await s.call('query_zone_records', {
    label,
    ...(zone !== undefined ? { zone } : {}),
    ...(types.length > 0 ? { types } : {}),
    ...(rdata !== undefined ? { rdata } : {}),
    ...(zi !== undefined ? { version: intArg(zi, 'zi-id') } : {}),
    ...(a.opts.a === true ? { includeDisabled: true } : {}),
  });
  if (r.records.length === 0) throw new ZoneToolError(`Records: ${r.label} in ${r.zone}${types.length ? ` ${types.join(' ').toUpperCase()}` : ''} - not present.`, EX.NOHOST, 'RecordsNotFound');
  const verbose = a.opts.v === true;
  emit(ctx, r, () =>
    [
      ...(verbose ? [`${r.zoneDisabled ? 'X' : ' '} label: ${col(r.label, 16)} domain: ${col(r.zone, 32)} zi_id: ${r.version}\n`] : []),
      ...r.records.map((x) => `${verbose ? `${x.disabled ? 'X' : ' '} ` : ''}${col(x.label, 32)} ${col(x.type, 12)} ${x.rdata}`),
    ].join('\n'),
  );
  return 0;
};

const rrQueryDb: Handler = async (ctx, a) => {
  // The original's form: more than one argument, one of its options, or a label pattern.
  if (a.positional.length > 1 || ['a', 'n', 'v', 'z'].some((l) => a.opts[l] !== undefined) || /[*?]/.test(a.positional[0])) return rrQueryOriginal(ctx, a);
  const s = await ctx.services();
  const type = opt(a, 't');
  const r = await s.call('rr_query_db', { name: a.positional[0], ...(type !== undefined ? { type } : {}) });
  if (r.records.length === 0) throw new ZoneToolError(`Records: ${r.name}${type ? ` ${type.toUpperCase()}` : ''} - not present.`, EX.NOHOST, 'RecordsNotFound');
  emit(ctx, r.records, () =>
    r.records
      .map((x) => `${x.disabled ? ';!DISABLE\n' : ''}${x.name} ${x.ttl} IN ${x.type} ${x.rdata}    ; zone ${x.zone} ZI ${x.version}`)
      .join('\n'),
  );
  return 0;
};

const refreshZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  // With a zi-id (as the original's): that ZI is published first, an older one as a copy with a new serial.
  const zi = await ziArg(ctx, name, a.positional[1]);
  if (zi !== undefined) await s.call('publish_zi', { zone: name, zi });
  const r = await s.call('refresh_zone', { zone: name });
  emit(ctx, r, () => '');
  return 0;
};

const refreshZoneTtl: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  let zoneTtl: number | undefined;
  if (a.positional[1] !== undefined) {
    const t = parseTtl(a.positional[1]);
    if (typeof t === 'string') throw new ZoneToolError(`zone-ttl ${a.positional[1]}: ${t}`, EX.USAGE, 'UsageError');
    zoneTtl = t;
  }
  const r = await s.call('refresh_zone_ttl', { zone: name, ...(zoneTtl !== undefined ? { zoneTtl } : {}) });
  emit(ctx, r, () => '');
  reportUnchanged(ctx, name, r);
  return 0;
};

/** Whether `text` reads as a ZI selector (a number, ^-2, @3d, a date...) rather than a zone name. */
function isZiSelector(ctx: Context, text: string): boolean {
  try {
    parseZiSelector(text, ctx.now());
    return true;
  } catch {
    return false;
  }
}

const copyZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  // The original's form names two zones: three arguments, -z, or a second argument that is no ZI selector.
  const z = typeof a.opts.z === 'string' ? a.opts.z : undefined;
  if (a.positional.length === 3 || z !== undefined || !isZiSelector(ctx, a.positional[1])) {
    if (a.positional.length === 3 && z !== undefined) throw new ZoneToolError('copy_zi: give the zi-id once (-z or the third argument)', EX.USAGE, 'UsageError');
    const to = await zoneArg(ctx, a.positional[1]);
    const sel = await ziArg(ctx, name, a.positional[2] ?? z);
    const r = await s.call('copy_zi', { zone: name, zi: sel ?? 'published', to });
    emit(ctx, r, () => '');
    printReverseReport(ctx, r.reverse);
    reportUnchanged(ctx, to, r);
    return 0;
  }
  const sel = await ziArg(ctx, name, a.positional[1]);
  const r = await s.call('copy_zi', { zone: name, zi: sel ?? 'published' });
  emit(ctx, r, () => '');
  printReverseReport(ctx, r.reverse);
  reportUnchanged(ctx, name, r);
  return 0;
};

class ProgressBar {
  private shown = false;
  constructor(
    private readonly ctx: Context,
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}
  update(done: number, label: string): void {
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    const text = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${this.total} ${label}`.slice(0, 79);
    this.ctx.err(`\r\x1b[K${text}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.ctx.err('\r\x1b[K');
    this.shown = false;
  }
}

/** A load_zones call carries at most this many files or bytes of text: memory stays bounded, the bar moves. */
const LOAD_BATCH_FILES = 100;
const LOAD_BATCH_BYTES = 16 * 1024 * 1024;

type LoadResult = OperationResult<'load_zones'>[number];

/** A failed item of load_zones as the catalogue error it was, so that it is reported like any other. */
function itemFailure(e: NonNullable<LoadResult['error']>): DmsError {
  return Object.assign(new DmsError(e.code, e.message), e.problems ? { problems: e.problems } : {});
}

/** The domain of a zone file's first $ORIGIN directive (load_zones -o), or undefined when it has none. */
function firstOrigin(text: string): string | undefined {
  return /^\$ORIGIN[ \t]+([^\s;]+)/im.exec(text)?.[1];
}

const loadZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const force = flag(a, 'f');
  // -r creates a missing reference as the original did: load_zones makes it in each zone's own transaction, so it
  // is there exactly when some zone uses it.
  const o = createOptions(a, []);
  const files = a.positional;
  const byOrigin = flag(a, 'o');
  const bar = new ProgressBar(ctx, files.length, ctx.stdoutIsTTY && !ctx.json && files.length > 1);
  const results: (LoadResult & { file: string })[] = [];
  let status = 0;
  let stop = false;
  let done = 0;
  const fail = (file: string, name: string, e: unknown): void => {
    let failure = toZoneToolError(withFile(e, file));
    if (failure.code === 'ZONE_EXISTS') {
      failure = new ZoneToolError(`Zone file '${file}': zone '${name}' already exists.`, failure.exitCode, failure.code);
    } else if (!failure.message.startsWith(`Zone file '${file}'`)) {
      failure = new ZoneToolError(`Zone file '${file}': ${failure.message}`, failure.exitCode, failure.code, failure.details);
    }
    bar.clear();
    const result: LoadResult & { file: string } = { name, action: 'failed', file };
    results.push(result);
    if (!ctx.json) {
      let t = '';
      for (const d of failure.details) t += `${d}\n`;
      ctx.err(`${t}${errorText(failure.message)}\n`);
    } else {
      (result as unknown as Record<string, unknown>).error = { code: failure.code, message: failure.message, details: failure.details };
    }
    status = status || failure.exitCode;
    if (!force) {
      if (!ctx.json) ctx.err(`${errorText('Stopped at the first bad file; use -f to load the rest anyway.')}\n`);
      stop = true;
    }
  };
  // Files go to load_zones in batches (one services.loadZones call each: one transaction per zone, one disk sync per
  // batch; calling it per file paid a WAL checkpoint per zone). A file that cannot be read ends its batch; without -f
  // the service stops at the first zone that fails and nothing after it is read.
  let next = 0;
  while (!stop && next < files.length) {
    const batch: { file: string; zone: string; text: string }[] = [];
    let bytes = 0;
    let unreadable: { file: string; error: unknown } | undefined;
    while (next < files.length && batch.length < LOAD_BATCH_FILES && bytes < LOAD_BATCH_BYTES) {
      const file = files[next++];
      if (batch.length === 0) bar.update(done, basename(file));
      try {
        const text = await readZoneFile(file);
        batch.push({ file, zone: (byOrigin ? firstOrigin(text) : undefined) ?? basename(file), text });
        bytes += text.length;
      } catch (e) {
        unreadable = { file, error: e };
        break;
      }
    }
    if (batch.length > 0) {
      const loaded = await s.call('load_zones', { zones: batch, ...o, stopOnError: !force });
      loaded.forEach((r, i) => {
        done++;
        if (r.error) fail(batch[i].file, r.name, itemFailure(r.error));
        else {
          results.push({ ...r, file: batch[i].file });
          if (r.warnings?.length && !ctx.json) {
            bar.clear();
            printWarnings(ctx, r.warnings, batch[i].file);
          }
        }
      });
      bar.update(done, basename(batch[loaded.length - 1]?.file ?? batch[0].file));
    }
    if (unreadable && !stop) {
      done++;
      fail(unreadable.file, basename(unreadable.file), unreadable.error);
    }
  }
  bar.clear();
  if (ctx.json) emit(ctx, results, () => '');
  return status;
};

// ---- edit ----------------------------------------------------------------------------------------------------------

const editZone: Handler = async (ctx, a) => {
  const { editZoneCommand } = await import('../edit.js');
  return editZoneCommand(ctx, await zoneArg(ctx, a.positional[0]), a.positional[1]);
};

const editApexNs: Handler = async (ctx, a) => {
  const { editApexNsCommand } = await import('../edit.js');
  return editApexNsCommand(ctx, opt(a, 'g') ?? a.positional[0]);
};

const clearEditLock: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  if (a.positional[1] !== undefined) await s.call('cancel_edit_zone', { zone: name, token: a.positional[1] });
  else await s.call('clear_edit_lock', { zone: name });
  emit(ctx, { zone: name, cleared: true }, () => '');
  return 0;
};

// ---- zone state ---------------------------------------------------------------------------------------------------

function simpleZoneOp(fn: (ctx: Context, name: string) => Promise<unknown>): Handler {
  return async (ctx, a) => {
    const name = await zoneArg(ctx, a.positional[0]);
    const r = await fn(ctx, name);
    emit(ctx, r ?? { zone: name }, () => '');
    return 0;
  };
}

const enableZone = simpleZoneOp(async (ctx, n) => (await ctx.services()).call('enable_zone', { zone: n }));
const disableZone = simpleZoneOp(async (ctx, n) => (await ctx.services()).call('disable_zone', { zone: n }));
const deleteZone = simpleZoneOp(async (ctx, n) => (await ctx.services()).call('delete_zone', { zone: n }));

const undeleteZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const arg = a.positional[0];
  const z = await s.call('undelete_zone', /^\d+$/.test(arg) ? { zoneId: Number(arg) } : { zone: arg });
  emit(ctx, z, () => '');
  return 0;
};

const destroyZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('destroy_zone', { zoneId: intArg(a.positional[0], 'zone-id') });
  emit(ctx, r, () => '');
  return 0;
};

const nukeZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zones = await listMatching(ctx, a, 'all', zoneBriefs);
  await confirm(ctx, flag(a, 'f'), `Destroying ${zones.length} zone(s) and all their history.`);
  for (const z of zones) await s.call('nuke_zone', { zoneId: z.id });
  emit(ctx, zones.map((z) => z.name), () => '');
  return 0;
};

const setZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const flags = parseZoneOptions(a.positional.slice(1));
  const z = await s.call('set_zone', { zone: name, flags });
  emit(ctx, z, () => '');
  return 0;
};

// ---- ZIs -----------------------------------------------------------------------------------------------------------

const deleteZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const sel = await ziArg(ctx, name, a.positional[1]);
  if (sel === undefined) throw new ZoneToolError('delete_zi: give the zi-id to delete.', EX.USAGE, 'UsageError');
  await s.call('delete_zi', { zone: name, zi: sel });
  emit(ctx, { zone: name, zi: sel }, () => '');
  return 0;
};

type Diff = OperationResult<'diff_zi'>;

function emitDiff(ctx: Context, d: Diff): number {
  emit(ctx, { from: { zone: d.from.zone, zi: d.from.zi }, to: { zone: d.to.zone, zi: d.to.zi }, diff: d.diff }, () => d.diff);
  return 0;
}

const diffZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const n1 = await zoneArg(ctx, a.positional[0]);
  const n2 = await zoneArg(ctx, a.positional[1]);
  const zi = await ziArg(ctx, n1, a.positional[2]);
  const zi2 = await ziArg(ctx, n2, a.positional[3]);
  return emitDiff(ctx, await s.call('diff_zones', { zone: n1, zi, zone2: n2, zi2 }));
};

const diffZoneZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const n = await zoneArg(ctx, a.positional[0]);
  const zi = await ziArg(ctx, n, a.positional[1]);
  const zi2 = await ziArg(ctx, n, a.positional[2]);
  return emitDiff(ctx, await s.call('diff_zi', { zone: n, zi, zi2 }));
};

// ---- serials -------------------------------------------------------------------------------------------------------

const pokeSetSerial: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  let serial: number | undefined;
  if (a.positional[1] !== undefined) {
    serial = intArg(a.positional[1], 'soa-serial');
    if (serial > 0xffffffff) throw new ZoneToolError('<soa-serial> must be below 2^32.', EX.USAGE, 'UsageError');
  }
  // -u: today's YYYYMMDDnn block, decided by the operation (the serial policy's own date, UTC).
  const today = serial === undefined && flag(a, 'u') ? true : undefined;
  const r = await s.call('poke_zone_set_serial', { zone: name, serial, today });
  emit(ctx, r, () => '');
  return 0;
};

const pokeWrapSerial: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const r = await s.call('poke_zone_wrap_serial', { zone: name });
  emit(ctx, r, () => '');
  return 0;
};

export const ZONE_HANDLERS = {
  ls,
  ls_deleted: lsDeleted,
  show_zone: showZone,
  show_zone_byid: showZoneById,
  show_zonesm: showZonesm,
  show_zonesm_byid: showZonesmById,
  show_zi_byid: showZiById,
  create_zone: createZone,
  copy_zone: copyZone,
  edit_zone: editZone,
  clear_edit_lock: clearEditLock,
  load_zone: loadZone,
  load_zones: loadZones,
  load_zone_zi: loadZoneZi,
  delete_zone: deleteZone,
  undelete_zone: undeleteZone,
  destroy_zone: destroyZone,
  nuke_zones: nukeZones,
  enable_zone: enableZone,
  disable_zone: disableZone,
  set_zone: setZone,
  diff_zones: diffZones,
  diff_zone_zi: diffZoneZi,
  poke_zone_set_serial: pokeSetSerial,
  poke_zone_wrap_serial: pokeWrapSerial,
  update_rrs: updateRrs,
  rr_query_db: rrQueryDb,
  refresh_zone: refreshZone,
  refresh_zone_ttl: refreshZoneTtl,
  copy_zi: copyZi,
  ls_zi: lsZi,
  show_zi: showZi,
  delete_zi: deleteZi,
  edit_apex_ns: editApexNs,
};
