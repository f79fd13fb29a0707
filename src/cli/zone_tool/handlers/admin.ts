
import type {
  ServerGroupInfo,
} from '../../../services/index.js';
import { emit } from '../context.js';
import type { Handler } from '../dispatch.js';
import { EX, ZoneToolError } from '../errors.js';
import { col, fmtTime, kvBlock } from '../format.js';
import { globToRegExp, intArg, numberArg, sgOrDefault, zoneArg } from '../util.js';
import { flag, fmtEvents, fmtPendingEvents, I, opt, sgFields } from './common.js';

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

export const ADMIN_HANDLERS = {
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
};
