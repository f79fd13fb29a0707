
// zone_tool's administration commands (references, security tags, configuration, server groups, vacuum, events,
// status): argument forms and text layouts over the operations of src/services/operations/admin.ts.

import { InvalidParams } from '../../../services/errors.js';
import type { ServerGroupInfo } from '../../../services/index.js';
import { emit } from '../context.js';
import type { Handler } from '../dispatch.js';
import { EX, ZoneToolError } from '../errors.js';
import { col, fmtTime, kvBlock } from '../format.js';
import { intArg, numberArg } from '../util.js';
import { flag, fmtEvents, fmtPendingEvents, I, opt, sgFields } from './common.js';

// ---- references ----------------------------------------------------------------------------------------------------

const lsReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const patterns = a.positional.length > 0 ? a.positional : [undefined];
  const seen = new Map<string, { name: string; zoneCount: number }>();
  const missing: string[] = [];
  for (const p of patterns) {
    const matching = await s.call('list_reference', p !== undefined ? { pattern: p } : {});
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
  const r = await s.call('create_reference', { reference: a.positional[0] });
  emit(ctx, r, () => '');
  return 0;
};

const deleteReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('delete_reference', { reference: a.positional[0] });
  emit(ctx, r, () => '');
  return 0;
};

const renameReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('rename_reference', { reference: a.positional[0], to: a.positional[1] });
  emit(ctx, r, () => '');
  return 0;
};

const setZoneReference: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('set_zone_reference', { zone: a.positional[0], reference: a.positional[1] });
  emit(ctx, r, () => '');
  return 0;
};

// ---- sectags -------------------------------------------------------------------------------------------------------

/**
 * The label rule is the services' (operations/admin.ts sectagParam); zone_tool reports a label that breaks it as a
 * usage error naming the argument, as the original did.
 */
async function withSectagArgs<T>(tags: readonly string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof InvalidParams) {
      for (const p of e.problems) {
        const m = /^sectags?(?:\[(\d+)\])?$/.exec(p.path);
        if (m) {
          const t = tags[m[1] !== undefined ? Number(m[1]) : 0];
          throw new ZoneToolError(`<sectag-label> '${t}' ${p.message}.`, EX.USAGE, 'UsageError');
        }
      }
    }
    throw e;
  }
}

const showSectags: Handler = async (ctx) => {
  const s = await ctx.services();
  const tags = await s.call('list_sectag', {});
  emit(ctx, tags, () => tags.map((t) => `${I}${t}`).join('\n'));
  return 0;
};

const createSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await withSectagArgs(a.positional, () => s.call('create_sectag', { sectag: a.positional[0] }));
  emit(ctx, r, () => '');
  return 0;
};

const deleteSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await withSectagArgs(a.positional, () => s.call('delete_sectag', { sectag: a.positional[0] }));
  emit(ctx, r, () => '');
  return 0;
};

const showZoneSectags: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const tags = await s.call('list_zone_sectags', { zone: a.positional[0] });
  emit(ctx, tags, () => tags.map((t) => `${I}${t}`).join('\n'));
  return 0;
};

const addZoneSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await withSectagArgs(a.positional.slice(1), () => s.call('add_zone_sectag', { zone: a.positional[0], sectag: a.positional[1] }));
  emit(ctx, r, () => '');
  return 0;
};

const deleteZoneSectag: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await withSectagArgs(a.positional.slice(1), () =>
    s.call('delete_zone_sectag', { zone: a.positional[0], sectag: a.positional[1] }),
  );
  emit(ctx, r, () => '');
  return 0;
};

const replaceZoneSectags: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const tags = a.positional.slice(1);
  const r = await withSectagArgs(tags, () => s.call('replace_zone_sectags', { zone: a.positional[0], sectags: tags }));
  emit(ctx, r, () => '');
  return 0;
};

// ---- config and server groups -------------------------------------------------------------------------------------

const showConfig: Handler = async (ctx) => {
  const s = await ctx.services();
  const entries = await s.call('show_config', {});
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
  const r = await s.call('set_config', { key, value, ...(sg !== undefined ? { sg } : {}) });
  emit(ctx, r, () => '');
  return 0;
};

const createSg: Handler = async (ctx, a) => {
  const s = await ctx.services();
  // The original's argument form: [config_dir] [address] [alt-address], 'none' or 'default' for "not given". Where
  // a server's file goes is per server here (set_server_config dir=...), so config_dir is only checked for form.
  const [name, configDir, address, altAddress] = a.positional;
  if (configDir !== undefined && !/^(none|default)$/i.test(configDir) && !configDir.startsWith('/')) {
    throw new ZoneToolError(`<config_dir> '${configDir}' must start with '/'.`, EX.USAGE, 'UsageError');
  }
  const given = (v: string | undefined) => v !== undefined && !/^(none|default)$/i.test(v);
  const sg = await s.call('create_sg', {
    sg: name,
    ...(given(address) ? { masterAddress: address } : {}),
    ...(given(altAddress) ? { masterAltAddress: altAddress } : {}),
  });
  // -p: the replica SG, which holds every zone (issue 11).
  if (flag(a, 'p')) await s.call('set_sg_replica_sg', { sg: name });
  emit(ctx, sg, () => '');
  return 0;
};

const lsSg: Handler = async (ctx) => {
  const s = await ctx.services();
  const sgs = await s.call('list_sg', {});
  emit(ctx, sgs, () => sgs.map((g) => `${I}${col(g.name, 32)} ${col(g.id, 4)} ${g.zoneCount}`).join('\n'));
  return 0;
};

function fmtSg(sg: ServerGroupInfo, verbose: boolean): string {
  return `${kvBlock(sgFields(sg, verbose), { firstKey: 'sg_name', width: 20 })}\n`;
}

const showSg: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const sg = await s.call('show_sg', { sg: a.positional[0] });
  emit(ctx, sg, () => fmtSg(sg, flag(a, 'v')));
  return 0;
};

const showApexNs: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const sg = opt(a, 'g') ?? a.positional[0];
  const { apexNs } = await s.call('show_apex_ns', sg !== undefined ? { sg } : {});
  emit(ctx, apexNs, () => apexNs.map((n) => `${I}${n}`).join('\n'));
  return 0;
};

// ---- vacuum --------------------------------------------------------------------------------------------------------

function vacuumText(r: Record<string, number>): string {
  const snake: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) snake[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return kvBlock(snake);
}

function ageOpt(a: Parameters<Handler>[1]): { ageDays?: number } {
  const age = opt(a, 'a');
  return age !== undefined ? { ageDays: numberArg(age, 'age-days') } : {};
}

const vacuumZis: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const num = opt(a, 'n');
  const r = await s.call('vacuum_zis', {
    ...(a.positional[0] !== undefined ? { zone: a.positional[0] } : {}),
    ...ageOpt(a),
    ...(num !== undefined ? { maxNum: intArg(num, 'zi-max-num') } : {}),
  });
  emit(ctx, r, () => vacuumText({ zisDeleted: r.zisDeleted, recordsDeleted: r.recordsDeleted }));
  return 0;
};

const vacuumZones: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('vacuum_zones', ageOpt(a));
  emit(ctx, r, () => vacuumText({ zonesDestroyed: r.zonesDestroyed }));
  return 0;
};

const vacuumPareDeletedZoneZis: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('vacuum_pare_deleted_zone_zis', ageOpt(a));
  emit(ctx, r, () => vacuumText({ zonesPared: r.zonesPared, zisDeleted: r.zisDeleted, recordsDeleted: r.recordsDeleted }));
  return 0;
};

const vacuumEventQueue: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('vacuum_event_queue', ageOpt(a));
  emit(ctx, r, () => vacuumText({ eventsDeleted: r.eventsDeleted }));
  return 0;
};

const vacuumAuditLog: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('vacuum_audit_log', ageOpt(a));
  emit(ctx, r, () => vacuumText({ auditDeleted: r.auditDeleted }));
  return 0;
};

const vacuumAll: Handler = async (ctx) => {
  const s = await ctx.services();
  const r = await s.call('vacuum_all', {});
  emit(ctx, r, () => vacuumText({ ...r }));
  return 0;
};

// ---- events --------------------------------------------------------------------------------------------------------

const lsPendingEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const ev = await s.call('list_events', { which: 'pending' });
  emit(ctx, ev, () => fmtPendingEvents(ev, flag(a, 'v')));
  return 0;
};

const lsFailedEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const limit = a.positional[0] !== undefined ? intArg(a.positional[0], 'last-limit') : 25;
  const ev = await s.call('list_events', { which: 'failed', limit });
  emit(ctx, ev, () => fmtEvents(ev, flag(a, 'v')));
  return 0;
};

const lsEvents: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const limit = a.positional[0] !== undefined ? intArg(a.positional[0], 'last-limit') : 25;
  const ev = await s.call('list_events', { which: 'all', limit });
  emit(ctx, ev, () => fmtEvents(ev, flag(a, 'v')));
  return 0;
};

const showEvent: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const e = await s.call('show_event', { eventId: intArg(a.positional[0], 'event-id') });
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
  const r = await s.call('fail_event', { eventId: intArg(a.positional[0], 'event-id') });
  emit(ctx, r, () => '');
  return 0;
};

/** A lag in seconds from pg_stat_replication (null: idle, nothing in flight) in ms. */
const secs = (s: number | null) => (s === null ? '-' : `${Math.round(s * 1000)} ms`);

/** A replica's lag (issue 13): the state it serves is this far behind the primary, and why. */
function replicationLines(r: { lagSeconds: number; limitSeconds: number; message: string | null; heartbeat: string | null; receiver: string | null; receivedLsn: string | null; replayedLsn: string | null; replayBehindBytes: number; replayPaused: boolean } | null): string[] {
  if (!r) return [];
  return [
    `${I}${'replication lag:'.padEnd(18)} ${r.lagSeconds} s (limit ${r.limitSeconds} s)${r.message ? `  BEHIND: ${r.message}` : ''}`,
    `${I}${'wal:'.padEnd(18)} received ${r.receivedLsn ?? '-'}, replayed ${r.replayedLsn ?? '-'} (${r.replayBehindBytes} bytes to replay)${r.replayPaused ? ', replay PAUSED' : ''}, receiver ${r.receiver ?? 'not running'}`,
    `${I}${'primary heartbeat:'.padEnd(18)} ${r.heartbeat ?? 'none replayed (no dmsd on the primary?)'}`,
  ];
}

const showDmsStatus: Handler = async (ctx) => {
  const s = await ctx.services();
  const st = await s.call('show_dms_status', {});
  emit(ctx, st, () =>
    [
      '',
      `show_store:`,
      `${I}${'kind:'.padEnd(18)} ${st.store.kind}`,
      `${I}${'location:'.padEnd(18)} ${st.store.location}`,
      `${I}${'role:'.padEnd(18)} ${st.cluster.replica ? 'replica (hot standby, read-only)' : 'primary'}`,
      `${I}${'epoch:'.padEnd(18)} ${st.cluster.epoch}${st.cluster.promotedAt ? ` (promoted ${st.cluster.promotedAt} by ${st.cluster.promotedBy})` : ''}`,
      ...replicationLines(st.replication),
      ...st.standbys.map(
        (b) =>
          `${I}${'standby:'.padEnd(18)} ${b.name} ${b.client ?? 'local'} ${b.state ?? '?'} ${b.syncState ?? '?'}  lag write ${secs(b.writeLag)} flush ${secs(b.flushLag)} replay ${secs(b.replayLag)}`,
      ),
      '',
      'dmsd instances:',
      ...st.instances.map(
        (i) =>
          `${I}${i.id.padEnd(28)} ${`${i.host}[${i.pid}]`.padEnd(24)} ${i.mode.padEnd(8)} ${i.leader ? `LEADER since ${i.leaderSince}` : 'follower'}  last seen ${i.lastSeen}`,
      ),
      '',
      'ls_sg:',
      ...st.serverGroups.map((g) => fmtSg(g, false)),
      'ls_server -v:',
      ...st.servers.map((v) => `${I}${v.name.padEnd(28)} ${v.sg.padEnd(20)} ${v.state}${v.retryMsg ? `\n${I}${I}${v.retryMsg}` : ''}`),
      '',
      'list_pending_events:',
      fmtPendingEvents(st.pending, false),
      '',
      'ls_failed_events:',
      fmtEvents(st.failed, false),
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
  vacuum_pare_deleted_zone_zis: vacuumPareDeletedZoneZis,
  vacuum_event_queue: vacuumEventQueue,
  vacuum_audit_log: vacuumAuditLog,
  vacuum_all: vacuumAll,
  ls_pending_events: lsPendingEvents,
  ls_failed_events: lsFailedEvents,
  ls_events: lsEvents,
  show_event: showEvent,
  fail_event: failEvent,
  show_dms_status: showDmsStatus,
};
