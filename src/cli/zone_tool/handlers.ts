// Command implementations: each takes parsed arguments, calls the services, prints the original layout (or JSON).
// Errors propagate to dispatch.ts, which prints them once with the right exit status.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  EventInfo,
  ListZonesOptions,
  LoadZoneResult,
  ServerGroupInfo,
  ZiInfo,
  ZoneFlags,
  ZoneBrief,
  ZoneInfo,
} from '../../services/index.js';
import type { ParsedArgs } from './argv.js';
import type { Svc } from './services.js';
import { PRIMARY_HANDLERS } from './primary-commands.js';
import { SERVER_HANDLERS } from './server-commands.js';
import { type Context, confirm, emit } from './context.js';
import { unifiedDiff } from './diff.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError, toZoneToolError } from './errors.js';
import { OUTPUT_INDENT, col, errorText, fmtTime, kvBlock } from './format.js';
import { globToRegExp, intArg, numberArg, parseZoneOptions, sgOrDefault, zoneArg, ziArg } from './util.js';

const I = OUTPUT_INDENT;

function opt(a: ParsedArgs, letter: string): string | undefined {
  const v = a.opts[letter];
  return typeof v === 'string' ? v : undefined;
}
function flag(a: ParsedArgs, letter: string): boolean {
  return a.opts[letter] === true;
}

// ---- layouts ------------------------------------------------------------------------------------------------------

function zoneSmFields(z: ZoneInfo): Record<string, unknown> {
  return {
    name: z.name,
    alt_sg_name: z.altSg,
    auto_dnssec: z.flags.autoDnssec,
    ctime: fmtTime(z.ctime),
    deleted_start: fmtTime(z.deletedStart),
    edit_lock: z.flags.editLock,
    inc_updates: z.flags.incUpdates,
    lock_state: z.lockedBy ? 'EDIT_LOCK' : 'EDIT_UNLOCK',
    locked_by: z.lockedBy,
    lock_expires: fmtTime(z.lockExpires),
    mtime: fmtTime(z.mtime),
    nsec3: z.flags.nsec3,
    reference: z.reference,
    sectags: z.sectags.length > 0 ? z.sectags.join(' ') : null,
    sg_name: z.sg,
    soa_serial: z.soaSerial,
    state: z.state,
    use_apex_ns: z.flags.useApexNs,
    zi_candidate_id: z.latestVersion,
    zi_id: z.publishedVersion,
    zone_id: z.id,
  };
}

function ziFields(zi: ZiInfo): Record<string, unknown> {
  return {
    zi_id: zi.version,
    change_by: zi.changeBy,
    comment: zi.comment ?? undefined,
    ctime: fmtTime(zi.ctime),
    mtime: fmtTime(zi.mtime),
    ptime: fmtTime(zi.ptime),
    soa_expire: zi.soaExpire,
    soa_minimum: zi.soaMinimum,
    soa_mname: zi.soaMname,
    soa_refresh: zi.soaRefresh,
    soa_retry: zi.soaRetry,
    soa_rname: zi.soaRname,
    soa_serial: zi.soaSerial,
    soa_ttl: zi.soaTtl,
    zone_id: zi.zoneId,
    zone_ttl: zi.zoneTtl,
  };
}

function sgFields(sg: ServerGroupInfo, verbose: boolean): Record<string, unknown> {
  return {
    sg_name: sg.name,
    apex_ns: sg.apexNs.length > 0 ? sg.apexNs.join(' ') : null,
    master_address: sg.masterAddress,
    master_alt_address: sg.masterAltAddress,
    sg_id: verbose ? sg.id : undefined,
    soa_mname: sg.soaMname,
    zone_count: sg.zoneCount,
  };
}

function eventName(e: EventInfo): string {
  if (e.zone) return e.zone;
  const p = e.payload as Record<string, unknown> | null;
  if (p && typeof p === 'object') {
    for (const k of ['name', 'server_name', 'server', 'sg']) if (typeof p[k] === 'string') return p[k] as string;
  }
  return '';
}

function eventZiId(e: EventInfo): string {
  const p = e.payload as Record<string, unknown> | null;
  if (p && typeof p === 'object') {
    for (const k of ['zi_id', 'publish_zi_id', 'version']) if (p[k] !== undefined && p[k] !== null) return String(p[k]);
  }
  return '';
}

function fmtEventVerbose(e: EventInfo): string {
  return (
    `${col(e.type, 19)}  ${col(e.id, 25)}  ${e.state}\n` +
    `  ${col(eventName(e), 27)}  ${eventZiId(e)}\n` +
    `  ${fmtTime(e.created)}  ${fmtTime(e.scheduled)}  ${e.processed ? fmtTime(e.processed) : '--'}`
  );
}

function fmtPendingEvents(events: EventInfo[], verbose: boolean): string {
  return events
    .map((e) => {
      if (verbose) return fmtEventVerbose(e);
      const zi = eventZiId(e);
      const name = zi ? `${eventName(e)} ${zi}` : eventName(e);
      return `${col(e.type, 25)} ${col(name, 27)}  ${fmtTime(e.scheduled)}`;
    })
    .join('\n');
}

function fmtEvents(events: EventInfo[], verbose: boolean): string {
  return events
    .map((e) => {
      if (verbose) return fmtEventVerbose(e);
      const zi = eventZiId(e);
      const name = zi ? `${eventName(e)} ${zi}` : eventName(e);
      const time2 = e.state === 'NEW' || e.state === 'RETRY' ? e.scheduled : e.processed;
      return (
        `${col(e.type, 19)}  ${col(e.id, 25)}  ${e.state}\n` + `  ${col(name, 26)}  ${fmtTime(e.created)}  ${fmtTime(time2)}`
      );
    })
    .join('\n');
}

// ---- zone listing ---------------------------------------------------------------------------------------------------

/** One page of a zone listing: whole zones (listZones) or what a listing line shows (listZoneBriefs). */
type ZonePage<T extends ZoneBrief> = (s: Svc, o: ListZonesOptions) => Promise<T[]>;
const wholeZones: ZonePage<ZoneInfo> = (s, o) => s.api.listZones(s.ctx, o);
const zoneBriefs: ZonePage<ZoneBrief> = (s, o) => s.api.listZoneBriefs(s.ctx, o);

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

/** An empty listing because `-r`/`-g` names nothing is a typo to report, not "no zones". */
async function checkFilterNames(ctx: Context, base: { reference?: string; sg?: string }): Promise<void> {
  const s = await ctx.services();
  if (base.sg !== undefined) await s.api.getServerGroup(s.ctx, base.sg);
  if (base.reference !== undefined && (await s.api.listReferences(s.ctx, base.reference)).length === 0)
    throw new s.api.ReferenceNotFound(base.reference);
}

async function listMatching<T extends ZoneBrief>(
  ctx: Context,
  a: ParsedArgs,
  which: 'active' | 'deleted' | 'all',
  page: ZonePage<T>,
): Promise<T[]> {
  const base = { reference: opt(a, 'r'), sg: opt(a, 'g'), which };
  if (a.positional.length === 0) {
    const all = await listAll(ctx, base, undefined, page);
    if (all.length === 0) await checkFilterNames(ctx, base);
    return all;
  }
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
    await checkFilterNames(ctx, base);
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
  if (ctx.json) {
    const content = await s.api.getZoneContent(s.ctx, name, zi);
    const text = await s.api.getZoneText(s.ctx, name, zi ?? { version: content.zi.version });
    emit(ctx, { zone: content.zone.name, zi: content.zi, text }, () => '');
    return 0;
  }
  const content = await s.api.getZoneContent(s.ctx, name, zi);
  const text = await s.api.getZoneText(s.ctx, name, { version: content.zi.version });
  ctx.out(withInfoHeader(ensureNl(text), content.zone, content.zi));
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

async function currentZi(ctx: Context, zone: ZoneInfo): Promise<ZiInfo | null> {
  const s = await ctx.services();
  const zis = await s.api.listZis(s.ctx, zone.name);
  const want = zone.publishedVersion ?? zone.latestVersion;
  return zis.find((z) => z.version === want) ?? null;
}

const showZonesm: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zone = await s.api.getZone(s.ctx, await zoneArg(ctx, a.positional[0]));
  const zi = await currentZi(ctx, zone);
  emit(ctx, { zone, zi }, () => {
    let t = kvBlock(zoneSmFields(zone), { firstKey: 'name' });
    if (zi) t += `\n\n${kvBlock(ziFields(zi), { firstKey: 'zi_id' })}`;
    return t;
  });
  return 0;
};

const showZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const sel = await ziArg(ctx, name, a.positional[1]);
  const content = await s.api.getZoneContent(s.ctx, name, sel);
  emit(ctx, content.zi, () => kvBlock(ziFields(content.zi), { firstKey: 'zi_id' }));
  return 0;
};

const lsZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const zone = await s.api.getZone(s.ctx, name);
  let zis = await s.api.listZis(s.ctx, name);
  if (a.positional[1] !== undefined) {
    const sel = await ziArg(ctx, name, a.positional[1]);
    if (sel && typeof sel === 'object' && 'version' in sel) zis = zis.filter((z) => z.version === sel.version);
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

async function createOptions(ctx: Context, a: ParsedArgs, words: readonly string[]) {
  const flags: Partial<ZoneFlags> = await parseZoneOptions(ctx, words);
  if (flag(a, 'i')) flags.incUpdates = true;
  return { sg: opt(a, 'g'), reference: opt(a, 'r'), flags };
}

/**
 * `-r reference` sets *or creates* the reference (original behaviour). The reference is created only when the
 * service says it is missing, and removed again if the creation it was made for fails, so a failed command
 * leaves nothing behind.
 */
async function withReference<T>(ctx: Context, reference: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!reference || (e as { code?: unknown }).code !== 'REFERENCE_NOT_FOUND') throw e;
  }
  const s = await ctx.services();
  await s.api.createReference(s.ctx, reference!);
  try {
    return await fn();
  } catch (e) {
    await s.api.deleteReference(s.ctx, reference!).catch(() => undefined);
    throw e;
  }
}

const createZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = s.api.normalizeZoneName(a.positional[0]);
  const o = await createOptions(ctx, a, a.positional.slice(1));
  const zone = await withReference(ctx, o.reference, () => s.api.createZone(s.ctx, name, o));
  emit(ctx, zone, () => '');
  return 0;
};

const copyZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const src = await zoneArg(ctx, a.positional[0]);
  const dst = s.api.normalizeZoneName(a.positional[1]);
  const o = await createOptions(ctx, a, a.positional.slice(2));
  const zi = await ziArg(ctx, src, opt(a, 'z'));
  const zone = await withReference(ctx, o.reference, () => s.api.copyZone(s.ctx, src, dst, { ...o, zi }));
  emit(ctx, zone, () => '');
  return 0;
};

/** Read a zone file as text, refusing binary files with a clear message. */
async function readZoneFile(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = readFileSync(file); // sync: node:fs/promises would cost every command its start-up
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'No such file' : err.code === 'EISDIR' ? 'Is a directory' : err.message;
    throw new ZoneToolError(`Zone file '${file}': ${why}.`, err.code === 'ENOENT' ? EX.NOINPUT : EX.OSERR, err.code ?? 'IOError');
  }
  if (buf.includes(0)) throw new ZoneToolError(`Zone file '${file}': binary file, not a zone file.`, EX.IOERR, 'BinaryFile');
  return buf.toString('utf8');
}

/** Give validation problems the file name they came from, so messages read file:line:col. */
function withFile(e: unknown, file: string): unknown {
  const problems = (e as { problems?: { file?: string; line?: number; column?: number; message: string; severity?: string }[] })
    .problems;
  if (!Array.isArray(problems)) return e;
  const z = toZoneToolError(e);
  const details = problems
    .filter((p) => p.severity !== 'warning')
    .map((p) => {
      const f = file;
      const where = [f, p.line || undefined, p.column || undefined].filter((x) => x !== undefined).join(':');
      return `${where}: ${p.message}`;
    });
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
  const name = s.api.normalizeZoneName(zoneText);
  const text = await readZoneFile(file);
  const o = await createOptions(ctx, a, a.positional.slice(2));
  try {
    const zone = await withReference(ctx, o.reference, () => s.api.createZone(s.ctx, name, { ...o, text }));
    emit(ctx, zone, () => '');
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
  await s.api.getZone(s.ctx, name);
  try {
    const r = await s.api.saveZoneText(s.ctx, name, text);
    emit(ctx, r, () => '');
    if (!r.changed && !ctx.json) ctx.err(`${errorText(`Zone '${name}' unchanged - no new ZI created.`)}\n`);
  } catch (e) {
    throw withFile(e, file);
  }
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

const loadZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const force = flag(a, 'f');
  const o = await createOptions(ctx, a, []);
  const files = a.positional;
  const bar = new ProgressBar(ctx, files.length, ctx.stdoutIsTTY && !ctx.json && files.length > 1);
  const results: (LoadZoneResult & { file: string })[] = [];
  let status = 0;
  let stop = false;
  let done = 0;
  // -r creates a missing reference as the original did; it goes again when no zone ended up using it.
  let createdReference = false;
  if (o.reference) {
    try {
      await s.api.createReference(s.ctx, o.reference);
      createdReference = true;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'REFERENCE_EXISTS') throw e;
    }
  }
  const fail = (file: string, name: string, e: unknown): void => {
    let failure = toZoneToolError(withFile(e, file));
    if (failure.code === 'ZONE_EXISTS') {
      failure = new ZoneToolError(`Zone file '${file}': zone '${name}' already exists.`, failure.exitCode, failure.code);
    } else if (!failure.message.startsWith(`Zone file '${file}'`)) {
      failure = new ZoneToolError(`Zone file '${file}': ${failure.message}`, failure.exitCode, failure.code, failure.details);
    }
    bar.clear();
    const result: LoadZoneResult & { file: string } = { name, action: 'failed', file, error: undefined };
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
  // One services.loadZones call for the whole batch (one transaction per zone, one disk sync at the end): calling it
  // per file paid a WAL checkpoint per zone. Files are read lazily, and a failure without -f stops the generator.
  let current = { file: '', name: '' };
  async function* items() {
    for (const file of files) {
      if (stop) return;
      bar.update(done, basename(file));
      let name = basename(file);
      try {
        name = s.api.normalizeZoneName(basename(file));
        const text = await readZoneFile(file);
        current = { file, name };
        yield { name, text, file };
      } catch (e) {
        done++;
        fail(file, name, e);
      }
    }
  }
  await s.api.loadZones(s.ctx, items(), {
    ...o,
    replace: false,
    onResult: (r) => {
      done++;
      bar.update(done, basename(current.file));
      if (r.error) fail(current.file, current.name, r.error);
      else results.push({ ...r, file: current.file });
    },
  });
  bar.clear();
  if (createdReference && !results.some((r) => r.action !== 'failed'))
    await s.api.deleteReference(s.ctx, o.reference!).catch(() => undefined);
  if (ctx.json) emit(ctx, results, () => '');
  return status;
};

// ---- edit ----------------------------------------------------------------------------------------------------------

const editZone: Handler = async (ctx, a) => {
  const { editZoneCommand } = await import('./edit.js');
  return editZoneCommand(ctx, await zoneArg(ctx, a.positional[0]), a.positional[1]);
};

const editApexNs: Handler = async (ctx, a) => {
  const { editApexNsCommand } = await import('./edit.js');
  return editApexNsCommand(ctx, opt(a, 'g') ?? a.positional[0]);
};

const clearEditLock: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  if (a.positional[1] !== undefined) await s.api.cancelEditZone(s.ctx, name, a.positional[1]);
  else await s.api.clearEditLock(s.ctx, name);
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

const enableZone = simpleZoneOp(async (ctx, n) => {
  const s = await ctx.services();
  return s.api.enableZone(s.ctx, n);
});
const disableZone = simpleZoneOp(async (ctx, n) => {
  const s = await ctx.services();
  return s.api.disableZone(s.ctx, n);
});
const deleteZone = simpleZoneOp(async (ctx, n) => {
  const s = await ctx.services();
  return s.api.deleteZone(s.ctx, n);
});

const undeleteZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const arg = a.positional[0];
  const key = /^\d+$/.test(arg) ? Number(arg) : s.api.normalizeZoneName(arg);
  const z = await s.api.undeleteZone(s.ctx, key);
  emit(ctx, z, () => '');
  return 0;
};

const destroyZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const id = intArg(a.positional[0], 'zone-id');
  await s.api.destroyZone(s.ctx, id);
  emit(ctx, { zoneId: id, destroyed: true }, () => '');
  return 0;
};

const nukeZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zones = await listMatching(ctx, a, 'all', zoneBriefs);
  await confirm(ctx, flag(a, 'f'), `Destroying ${zones.length} zone(s) and all their history.`);
  for (const z of zones) {
    if (z.state !== 'DELETED') await s.api.deleteZone(s.ctx, z.name);
    await s.api.destroyZone(s.ctx, z.id);
  }
  emit(ctx, zones.map((z) => z.name), () => '');
  return 0;
};

const setZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const flags = await parseZoneOptions(ctx, a.positional.slice(1));
  const z = await s.api.setZoneFlags(s.ctx, name, flags);
  emit(ctx, z, () => '');
  return 0;
};

// ---- ZIs -----------------------------------------------------------------------------------------------------------

const deleteZi: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const sel = await ziArg(ctx, name, a.positional[1]);
  if (sel === undefined) throw new ZoneToolError('delete_zi: give the zi-id to delete.', EX.USAGE, 'UsageError');
  await s.api.deleteZi(s.ctx, name, sel);
  emit(ctx, { zone: name, zi: sel }, () => '');
  return 0;
};

async function zoneTextFor(ctx: Context, name: string, sel: Awaited<ReturnType<typeof ziArg>>) {
  const s = await ctx.services();
  const content = await s.api.getZoneContent(s.ctx, name, sel);
  const text = await s.api.getZoneText(s.ctx, name, { version: content.zi.version });
  return { text, version: content.zi.version };
}

function emitDiff(ctx: Context, a: { name: string; version: number; text: string }, b: typeof a): number {
  const d = unifiedDiff(a.text, b.text, `${a.name} (zi ${a.version})`, `${b.name} (zi ${b.version})`);
  emit(
    ctx,
    { from: { zone: a.name, zi: a.version }, to: { zone: b.name, zi: b.version }, diff: d },
    () => d,
  );
  return 0;
}

const diffZones: Handler = async (ctx, a) => {
  const n1 = await zoneArg(ctx, a.positional[0]);
  const n2 = await zoneArg(ctx, a.positional[1]);
  const z1 = await zoneTextFor(ctx, n1, await ziArg(ctx, n1, a.positional[2]));
  const z2 = await zoneTextFor(ctx, n2, await ziArg(ctx, n2, a.positional[3]));
  return emitDiff(ctx, { name: n1, ...z1 }, { name: n2, ...z2 });
};

const diffZoneZi: Handler = async (ctx, a) => {
  const n = await zoneArg(ctx, a.positional[0]);
  const z1 = await zoneTextFor(ctx, n, await ziArg(ctx, n, a.positional[1]));
  const z2 = await zoneTextFor(ctx, n, await ziArg(ctx, n, a.positional[2]));
  return emitDiff(ctx, { name: n, ...z1 }, { name: n, ...z2 });
};

// ---- serials -------------------------------------------------------------------------------------------------------

const pokeSetSerial: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  let serial: number | undefined;
  if (a.positional[1] !== undefined) {
    serial = intArg(a.positional[1], 'soa-serial');
    if (serial > 0xffffffff) throw new ZoneToolError('<soa-serial> must be below 2^32.', EX.USAGE, 'UsageError');
  } else if (flag(a, 'u')) {
    const now = ctx.now();
    const today = now.getFullYear() * 1_000_000 + (now.getMonth() + 1) * 10_000 + now.getDate() * 100;
    const zone = await s.api.getZone(s.ctx, name);
    // Keep incrementing within today's yyyymmddnn block once the serial is in it.
    if (zone.soaSerial === null || zone.soaSerial < today) serial = today;
  }
  const r = await s.api.pokeZoneSetSerial(s.ctx, name, serial);
  emit(ctx, r, () => '');
  return 0;
};

const pokeWrapSerial: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const r = await s.api.pokeZoneWrapSerial(s.ctx, name);
  emit(ctx, r, () => '');
  return 0;
};

// ---- references ----------------------------------------------------------------------------------------------------

const lsReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const patterns = a.positional.length > 0 ? a.positional : [undefined];
  const seen = new Map<string, { name: string; zoneCount: number }>();
  const missing: string[] = [];
  for (const p of patterns) {
    const refs = await s.api.listReferences(s.ctx, p);
    const re = p ? globToRegExp(p) : null;
    const matching = re ? refs.filter((r) => re.test(r.name)) : refs;
    if (p && matching.length === 0) missing.push(p);
    for (const r of matching) seen.set(r.name.toLowerCase(), r);
  }
  const refs = [...seen.values()].sort((x, y) => x.name.localeCompare(y.name));
  if (refs.length === 0 && missing.length > 0) {
    throw new ZoneToolError(`References: ${missing.join(' ')} - not present.`, EX.NOHOST, 'ReferenceNotFound');
  }
  emit(ctx, refs, () =>
    refs.map((r) => (flag(a, 'v') ? `${col(r.name, 40)} ${r.zoneCount}` : r.name)).join('\n'),
  );
  return 0;
};

const createReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.api.createReference(s.ctx, a.positional[0]);
  emit(ctx, { reference: a.positional[0] }, () => '');
  return 0;
};

const deleteReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.api.deleteReference(s.ctx, a.positional[0]);
  emit(ctx, { reference: a.positional[0], deleted: true }, () => '');
  return 0;
};

const renameReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.api.renameReference(s.ctx, a.positional[0], a.positional[1]);
  emit(ctx, { from: a.positional[0], to: a.positional[1] }, () => '');
  return 0;
};

const setZoneReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  await s.api.setZoneReference(s.ctx, name, a.positional[1]);
  emit(ctx, { zone: name, reference: a.positional[1] }, () => '');
  return 0;
};

// ---- sectags -------------------------------------------------------------------------------------------------------

const SECTAG_RE = /^[0-9a-zA-Z][-_a-zA-Z0-9.]{0,59}$/;
function sectagArg(t: string): string {
  if (!SECTAG_RE.test(t)) {
    throw new ZoneToolError(
      `<sectag-label> '${t}' must start with 'a-zA-Z0-9', contain only '-_a-zA-Z0-9.' and be at most 60 long.`,
      EX.USAGE,
      'UsageError',
    );
  }
  return t;
}

const showSectags: Handler = async (ctx) => {
  const s = await ctx.services();
  const tags = (await s.api.listSectags(s.ctx)).slice().sort();
  emit(ctx, tags, () => tags.map((t) => `${I}${t}`).join('\n'));
  return 0;
};

const createSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.api.createSectag(s.ctx, sectagArg(a.positional[0]));
  emit(ctx, { sectag: a.positional[0] }, () => '');
  return 0;
};

const deleteSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.api.deleteSectag(s.ctx, sectagArg(a.positional[0]));
  emit(ctx, { sectag: a.positional[0], deleted: true }, () => '');
  return 0;
};

const showZoneSectags: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const tags = (await s.api.listZoneSectags(s.ctx, name)).slice().sort();
  emit(ctx, tags, () => tags.map((t) => `${I}${t}`).join('\n'));
  return 0;
};

const addZoneSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  await s.api.addZoneSectag(s.ctx, name, sectagArg(a.positional[1]));
  emit(ctx, { zone: name, sectag: a.positional[1] }, () => '');
  return 0;
};

const deleteZoneSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  await s.api.deleteZoneSectag(s.ctx, name, sectagArg(a.positional[1]));
  emit(ctx, { zone: name, sectag: a.positional[1], deleted: true }, () => '');
  return 0;
};

const replaceZoneSectags: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const name = await zoneArg(ctx, a.positional[0]);
  const tags = a.positional.slice(1).map(sectagArg);
  await s.api.replaceZoneSectags(s.ctx, name, tags);
  emit(ctx, { zone: name, sectags: tags }, () => '');
  return 0;
};

// ---- config and server groups -------------------------------------------------------------------------------------

const showConfig: Handler = async (ctx) => {
  const s = await ctx.services();
  const entries = await s.api.showConfig(s.ctx);
  emit(ctx, entries, () =>
    entries
      .map((e) => `${I}${`${e.key}:`.padEnd(18)} ${e.value}${e.sg ? ` (${e.sg})` : ''}`)
      .sort()
      .join('\n'),
  );
  return 0;
};

const setConfig: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const p = a.positional;
  const sg = opt(a, 'g') ?? (p.length === 3 ? p[0] : undefined);
  const [key, value] = p.length === 3 ? [p[1], p[2]] : [p[0], p[1]];
  await s.api.setConfig(s.ctx, key, value, sg);
  emit(ctx, { key, value, sg: sg ?? null }, () => '');
  return 0;
};

const createSg: Handler = async (ctx, a) => {
  const s = await ctx.services();
  if (flag(a, 'p')) {
    throw new ZoneToolError('create_sg: replica SGs (-p) are not used by this DMS.', EX.USAGE, 'UsageError');
  }
  const [name, configDir, address, altAddress] = a.positional;
  if (configDir !== undefined && !/^(none|default)$/i.test(configDir) && !configDir.startsWith('/')) {
    throw new ZoneToolError(`<config_dir> '${configDir}' must start with '/'.`, EX.USAGE, 'UsageError');
  }
  const none = (v: string | undefined) => (v === undefined || /^(none|default)$/i.test(v) ? undefined : v);
  const sg = await s.api.createServerGroup(s.ctx, name, {
    masterAddress: none(address),
    masterAltAddress: none(altAddress),
  });
  emit(ctx, sg, () => '');
  return 0;
};

const lsSg: Handler = async (ctx) => {
  const s = await ctx.services();
  const sgs = await s.api.listServerGroups(s.ctx);
  emit(ctx, sgs, () => sgs.map((g) => `${I}${col(g.name, 32)} ${col(g.id, 4)} ${g.zoneCount}`).join('\n'));
  return 0;
};

function fmtSg(sg: ServerGroupInfo, verbose: boolean): string {
  return `${kvBlock(sgFields(sg, verbose), { firstKey: 'sg_name', width: 20 })}\n`;
}

const showSg: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const sg = await s.api.getServerGroup(s.ctx, a.positional[0]);
  emit(ctx, sg, () => fmtSg(sg, flag(a, 'v')));
  return 0;
};

const showApexNs: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const sg = await s.api.getServerGroup(s.ctx, await sgOrDefault(ctx, opt(a, 'g') ?? a.positional[0]));
  emit(ctx, sg.apexNs, () => sg.apexNs.map((n) => `${I}${n}`).join('\n'));
  return 0;
};

// ---- vacuum --------------------------------------------------------------------------------------------------------

// The services offer one vacuum with per-part ages; a part is switched off with the ages documented to mean "never"
// (0 for zone_del_age / zone_del_pare_age) or an age no row can reach.
const NEVER_DAYS = 1e7;

function vacuumText(r: Record<string, number>): string {
  const snake: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) snake[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return kvBlock(snake);
}

const vacuumZis: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zone = a.positional[0] !== undefined ? await zoneArg(ctx, a.positional[0]) : undefined;
  const age = opt(a, 'a');
  const num = opt(a, 'n');
  const r = await s.api.vacuumAll(s.ctx, {
    now: ctx.now(),
    ziMaxAgeDays: age !== undefined ? numberArg(age, 'age-days') : undefined,
    ziMaxNum: num !== undefined ? intArg(num, 'zi-max-num') : undefined,
    zoneDelAgeDays: 0,
    zoneDelPareAgeDays: 0,
    eventMaxAgeDays: NEVER_DAYS,
    zone,
  });
  emit(ctx, r, () => vacuumText({ zisDeleted: r.zisDeleted, recordsDeleted: r.recordsDeleted }));
  return 0;
};

const vacuumZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const age = opt(a, 'a');
  const r = await s.api.vacuumAll(s.ctx, {
    now: ctx.now(),
    zoneDelAgeDays: age !== undefined ? numberArg(age, 'age-days') : undefined,
    ziMaxAgeDays: NEVER_DAYS,
    zoneDelPareAgeDays: 0,
    eventMaxAgeDays: NEVER_DAYS,
  });
  emit(ctx, r, () => vacuumText({ zonesDestroyed: r.zonesDestroyed }));
  return 0;
};

const vacuumEventQueue: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const age = opt(a, 'a');
  const r = await s.api.vacuumAll(s.ctx, {
    now: ctx.now(),
    eventMaxAgeDays: age !== undefined ? numberArg(age, 'age-days') : undefined,
    ziMaxAgeDays: NEVER_DAYS,
    zoneDelAgeDays: 0,
    zoneDelPareAgeDays: 0,
  });
  emit(ctx, r, () => vacuumText({ eventsDeleted: r.eventsDeleted }));
  return 0;
};

const vacuumAll: Handler = async (ctx) => {
  const s = await ctx.services();
  const r = await s.api.vacuumAll(s.ctx, { now: ctx.now() });
  emit(ctx, r, () => vacuumText({ ...r }));
  return 0;
};

// ---- events --------------------------------------------------------------------------------------------------------

const lsPendingEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const ev = await s.api.listEvents(s.ctx, { state: ['NEW', 'RETRY'] });
  emit(ctx, ev, () => fmtPendingEvents(ev, flag(a, 'v')));
  return 0;
};

const lsFailedEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const limit = a.positional[0] !== undefined ? intArg(a.positional[0], 'last-limit') : 25;
  const ev = await s.api.listEvents(s.ctx, { state: 'FAILURE', limit });
  emit(ctx, ev, () => fmtEvents(ev, flag(a, 'v')));
  return 0;
};

const lsEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const limit = a.positional[0] !== undefined ? intArg(a.positional[0], 'last-limit') : 25;
  const ev = await s.api.listEvents(s.ctx, { limit });
  emit(ctx, ev, () => fmtEvents(ev, flag(a, 'v')));
  return 0;
};

const showEvent: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const e = await s.api.getEvent(s.ctx, intArg(a.positional[0], 'event-id'));
  emit(ctx, e, () =>
    kvBlock(
      {
        event_id: e.id,
        event_type: e.type,
        state: e.state,
        zone_name: e.zone,
        zone_id: e.zoneId,
        attempts: e.attempts,
        last_error: e.lastError,
        created: fmtTime(e.created),
        scheduled: fmtTime(e.scheduled),
        processed: fmtTime(e.processed),
        parameters: e.payload ?? null,
      },
      { firstKey: 'event_id' },
    ),
  );
  return 0;
};

const failEvent: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const id = intArg(a.positional[0], 'event-id');
  await s.api.failEvent(s.ctx, id, `failed by ${ctx.changeBy} with zone_tool fail_event`);
  emit(ctx, { eventId: id, state: 'FAILURE' }, () => '');
  return 0;
};

const showDmsStatus: Handler = async (ctx) => {
  const s = await ctx.services();
  const [sgs, pending, failed] = await Promise.all([
    s.api.listServerGroups(s.ctx),
    s.api.listEvents(s.ctx, { state: ['NEW', 'RETRY'] }),
    s.api.listEvents(s.ctx, { state: 'FAILURE', limit: 5 }),
  ]);
  emit(ctx, { store: { kind: s.store.kind, location: s.store.location }, serverGroups: sgs, pending, failed }, () =>
    [
      '',
      `show_store:`,
      `${I}${'kind:'.padEnd(18)} ${s.store.kind}`,
      `${I}${'location:'.padEnd(18)} ${s.store.location}`,
      '',
      'ls_sg:',
      ...sgs.map((g) => fmtSg(g, false)),
      'list_pending_events:',
      fmtPendingEvents(pending, false),
      '',
      'ls_failed_events:',
      fmtEvents(failed, false),
      '',
    ].join('\n'),
  );
  return 0;
};

export const HANDLERS: Record<string, Handler> = {
  ls,
  ls_deleted: lsDeleted,
  show_zone: showZone,
  show_zonesm: showZonesm,
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
  ls_zi: lsZi,
  show_zi: showZi,
  delete_zi: deleteZi,
  ls_reference: lsReference,
  create_reference: createReference,
  delete_reference: deleteReference,
  rename_reference: renameReference,
  set_zone_reference: setZoneReference,
  show_sectags: showSectags,
  create_sectag: createSectag,
  delete_sectag: deleteSectag,
  show_zone_sectags: showZoneSectags,
  add_zone_sectag: addZoneSectag,
  delete_zone_sectag: deleteZoneSectag,
  replace_zone_sectags: replaceZoneSectags,
  show_config: showConfig,
  set_config: setConfig,
  create_sg: createSg,
  ls_sg: lsSg,
  show_sg: showSg,
  show_apex_ns: showApexNs,
  edit_apex_ns: editApexNs,
  vacuum_zis: vacuumZis,
  vacuum_zones: vacuumZones,
  vacuum_event_queue: vacuumEventQueue,
  vacuum_all: vacuumAll,
  ls_pending_events: lsPendingEvents,
  ls_failed_events: lsFailedEvents,
  ls_events: lsEvents,
  show_event: showEvent,
  fail_event: failEvent,
  show_dms_status: showDmsStatus,
  ...PRIMARY_HANDLERS,
  ...SERVER_HANDLERS,
};
