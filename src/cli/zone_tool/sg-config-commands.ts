// zone_tool commands for the configuration DMS generates for its secondaries (issue 11): show_server_config,
// show_sg_config, set_sg_config, set_sg_master_address, set_sg_alt_master_address, set_server_config, the reconfig_*
// and refresh commands. The table
// entries are spread into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS.

import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { kvBlock } from './format.js';
import { type CommandSpec, command } from './command-spec.js';

const spec = command;
const usage = (m: string) => new ZoneToolError(m, EX.USAGE, 'UsageError');

export const SG_CONFIG_COMMANDS: readonly CommandSpec[] = [
  spec(
    'show_server_config',
    'Show the configuration DMS generates for a server',
    `Show a server's generated configuration: show_server_config [-c] <server-name> [options]

        Prints the file the server's own main configuration includes (BIND:
        include "FILE"; Knot: include: FILE; NSD: include: "FILE"). With
        "options", BIND's fragment for inside options { } (catalog-zones).
        -c  also run the real checker (named-checkconf, knotc conf-check,
            nsd-checkconf) on it; a refusal prints the checker's message.

        Refused, with the reason, when the configuration would be broken: a
        server group without master address, a bad address or key, two
        zones mapping to one file name.`,
    { options: 'c', min: 1, max: 2, args: ['other', 'other'] },
  ),
  spec('show_sg_config', "Show a server group's secondary settings", 'Show an SG\'s secondary settings: show_sg_config <sg-name>', {
    min: 1,
    max: 1,
    args: ['sg'],
  }),
  spec(
    'set_sg_config',
    "Set a server group's secondary settings",
    `Set an SG's secondary settings: set_sg_config <sg-name> <key>=<value> ...

        where key is:
                xfr_key      TSIG key the secondaries transfer with (or none)
                private      yes|no: secondaries refuse queries from outside
                             query_acl and all transfers
                query_acl    comma-separated addresses/prefixes
                replica      yes|no: the group holds every zone
                catalog      yes|no: BIND and Knot servers take the zones from
                             the group's catalog zone (default yes)

        Refused when a server of the group would get a broken configuration.`,
    { min: 2, max: 20, args: ['sg', 'other'] },
  ),
  spec(
    'set_sg_master_address',
    'Set the master address of a server group',
    'Set an SG\'s master address: set_sg_master_address <sg-name> <address>[#port]',
    { min: 2, max: 2, args: ['sg', 'other'] },
  ),
  spec(
    'set_sg_alt_master_address',
    'Set the alternate master address of a server group',
    "Set an SG's alternate master address: set_sg_alt_master_address <sg-name> <address>[#port]|none",
    { min: 2, max: 2, args: ['sg', 'other'], aliases: ['set_sg_master_alt_address'] },
  ),
  spec(
    'set_server_config',
    'Set where a server\'s configuration is written and how it is reloaded',
    `Set a server's publication: set_server_config <server-name> <key>=<value> ...

        dir=<path>|none       where reconfig writes the file
        zone_dir=<path>|none  where the secondary keeps zone files (Knot:
                              the templates' storage; default: the
                              server's own default)
        reload=<command>|none run after a new file is in place

        reconfig_server/reconfig_sg/reconfig_all write the file as
        <dir>/dms-<server-name>.conf (and dms-<server-name>-options.conf for
        BIND with a catalog) after the real checker accepted it, then run the
        reload command (e.g. reload="rndc reconfig", "knotc reload",
        "nsd-control reconfig").`,
    { min: 2, max: 4, args: ['other', 'other'] },
  ),
  spec(
    'reconfig_server',
    "Publish a server's configuration",
    `Publish a server's configuration: reconfig_server <server-name>

        Writes the file into the server's directory (set_server_config) after
        the real checker accepted it, then runs its reload command. A refused
        file leaves the last good one in place (ls_failed_events shows why).`,
    { min: 1, max: 1, args: ['other'] },
  ),
  spec('reconfig_sg', "Publish the configuration of an SG's servers", 'Publish an SG: reconfig_sg <sg-name>', { min: 1, max: 1, args: ['sg'] }),
  spec(
    'check_server',
    'Probe a server (anycast health check)',
    `Probe a server: check_server <server-name>

        Exit 0 when the server answers over UDP and TCP and serves every zone
        of its server group (and the group's catalog zone) at the serial DMS
        published; non-zero otherwise, with the lagging zones (--json: all
        detail). Made for a router's probe script (ExaBGP healthcheck, BIRD).`,
    { min: 1, max: 1, args: ['other'] },
  ),
  spec('reset_server', "Forget a server's RETRY/BROKEN state", 'Reset a server: reset_server <server-name>\n\n        OK until dmsd\'s next check of it says otherwise.', {
    min: 1,
    max: 1,
    args: ['other'],
  }),
  spec(
    'dupe_zone_alt_sg',
    'Serve a zone from a second server group too',
    `Serve a zone from a second SG: dupe_zone_alt_sg <domain-name> <sg-name>

        Moving a zone to another SG: dupe_zone_alt_sg (both groups serve it),
        swap_zone_sg (the other group becomes primary: the apex NS change
        over), delete_zone_alt_sg (only the new group serves it).`,
    { min: 2, max: 2, args: ['zone', 'sg'] },
  ),
  spec('set_zone_sg', 'Move a zone to another server group', "Set a zone's SG: set_zone_sg <domain-name> <sg-name>\n\n        The apex NS follow the new group (use_apex_ns zones).", {
    min: 2,
    max: 2,
    args: ['zone', 'sg'],
  }),
  spec(
    'swap_zone_sg',
    "Swap a zone's server group and alternate server group",
    "Swap a zone's SGs: swap_zone_sg <domain-name>\n\n        The apex NS change over to the new primary group's.",
    { min: 1, max: 1, args: ['zone'] },
  ),
  spec('set_zone_alt_sg', "Set a zone's alternate server group", "Set a zone's alternate SG: set_zone_alt_sg <domain-name> <sg-name>|none\n\n        The zone is served from both groups (as dupe_zone_alt_sg); none clears it.", {
    min: 2,
    max: 2,
    args: ['zone', 'sg'],
  }),
  spec('delete_sg', 'Delete a server group', 'Delete an SG: delete_sg <sg-name>\n\n        Refused while a zone or a server uses it, and for the default_sg.', {
    min: 1,
    max: 1,
    args: ['sg'],
  }),
  spec('rename_sg', 'Rename a server group', 'Rename an SG: rename_sg <sg-name> <new-sg-name>\n\n        default_sg follows the new name.', {
    min: 2,
    max: 2,
    args: ['sg', 'other'],
  }),
  spec('delete_zone_alt_sg', 'Stop serving a zone from its alternate SG', 'Stop the alternate SG: delete_zone_alt_sg <domain-name>', {
    min: 1,
    max: 1,
    args: ['zone'],
  }),
  spec('set_sg_replica_sg', 'Make an SG the replica SG (holds every zone)', 'Set the replica SG: set_sg_replica_sg <sg-name>|none', {
    min: 1,
    max: 1,
    args: ['sg'],
  }),
  spec('show_replica_sg', 'Show the replica SG', 'Show the replica SG: show_replica_sg'),
  spec('refresh_sg', "NOTIFY an SG's zones to its servers again", 'Re-NOTIFY an SG: refresh_sg <sg-name>', { min: 1, max: 1, args: ['sg'] }),
  spec('show_master_status', 'Show catalogs, publication and server states per SG', 'Show the master status: show_master_status'),
  spec('reconfig_all', 'Publish the configuration of every server', 'Publish every server: reconfig_all'),
  spec(
    'reconfig_replica_sg',
    "Publish the configuration of the replica SG's servers",
    `Publish the replica SG: reconfig_replica_sg

        reconfig_sg for the replica SG (show_replica_sg, set_sg_replica_sg):
        the group whose servers hold every zone.`,
  ),
  spec(
    'refresh_all',
    "NOTIFY every SG's zones to its servers again",
    `Re-NOTIFY every SG: refresh_all

        refresh_sg for each server group in turn: every server is told of
        every zone it holds and asks for what it lacks.  reset_all_zones (the
        original's reset of every zone's state machine, which republished
        every zone to its servers) does the same here.`,
    { aliases: ['reset_all_zones'] },
  ),
];

type ReconfigResult = import('../../services/server-config/publish.js').ReconfigResult;
const reconfigLine = (r: ReconfigResult) => `        ${r.server}: ${r.outcome}${r.file ? ` ${r.file}` : ''}${r.message ? `\n            ${r.message}` : ''}`;
/** Exit 0 only when no server's file was refused or failed to reload. */
const reconfigStatus = (rs: ReconfigResult[]) => (rs.some((r) => r.outcome === 'refused' || r.outcome === 'reload-failed') ? 65 : 0);

const yes = (v: string) => {
  if (/^(yes|true|on|1)$/i.test(v)) return true;
  if (/^(no|false|off|0)$/i.test(v)) return false;
  throw usage(`"${v}" is not yes or no`);
};

function pairs(args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw usage(`"${a}": expected key=value`);
    m.set(a.slice(0, i).toLowerCase(), a.slice(i + 1));
  }
  return m;
}

const showServerConfig: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [server, part] = a.positional;
  if (part !== undefined && part !== 'options') throw usage(`"${part}": the only part is "options"`);
  const r = await s.call('show_server_config', { server, ...(a.opts.c === true ? { check: true } : {}) });
  emit(ctx, r, () => (part === 'options' ? (r.options ?? `# ${r.server} (${r.type}) needs nothing inside options { }\n`) : r.main));
  return 0;
};

const showSgConfig: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const v = await s.call('show_sg_config', { sg: a.positional[0] });
  emit(ctx, v, () =>
    `${kvBlock(
      {
        sg_name: v.sg,
        master_address: v.masterAddress ?? '',
        master_alt_address: v.masterAltAddress ?? '',
        xfr_key: v.xfrKey ?? '',
        private: v.private,
        query_acl: v.queryAcl.join(','),
        replica: v.replica,
        catalog: v.useCatalog,
        catalog_zone: v.catalogZone ?? '',
      },
      { firstKey: 'sg_name', width: 20 },
    )}\n`,
  );
  return 0;
};

const setSgConfig: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [sg, ...rest] = a.positional;
  const p: Record<string, unknown> = {};
  for (const [k, v] of pairs(rest)) {
    if (k === 'xfr_key') p.xfrKey = v === 'none' ? null : v;
    else if (k === 'private') p.private = yes(v);
    else if (k === 'query_acl') p.queryAcl = v === '' || v === 'none' ? [] : v.split(',').map((x) => x.trim());
    else if (k === 'replica') p.replica = yes(v);
    else if (k === 'catalog') p.useCatalog = yes(v);
    else throw usage(`unknown setting "${k}" (xfr_key, private, query_acl, replica, catalog)`);
  }
  const v = await s.call('set_sg_config', { sg, ...p } as Parameters<typeof s.call<'set_sg_config'>>[1]);
  emit(ctx, v, () => '');
  return 0;
};

const setMaster =
  (which: 'set_sg_master_address' | 'set_sg_alt_master_address'): Handler =>
  async (ctx, a) => {
    const s = await ctx.services();
    const [sg, address] = a.positional;
    const v =
      which === 'set_sg_master_address'
        ? await s.call(which, { sg, address })
        : await s.call(which, { sg, address: address === 'none' ? null : address });
    emit(ctx, v, () => '');
    return 0;
  };

const setServerConfig: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [server, ...rest] = a.positional;
  const p: { configDir?: string | null; zoneDir?: string | null; reloadCmd?: string[] | null } = {};
  for (const [k, v] of pairs(rest)) {
    if (k === 'dir') p.configDir = v === 'none' ? null : v;
    else if (k === 'zone_dir') p.zoneDir = v === 'none' ? null : v;
    else if (k === 'reload') p.reloadCmd = v === 'none' ? null : v.split(/\s+/).filter(Boolean);
    else throw usage(`unknown setting "${k}" (dir, zone_dir, reload)`);
  }
  const v = await s.call('set_server_config', { server, ...p });
  emit(ctx, v, () => '');
  return 0;
};

const reconfigServer: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('reconfig_server', { server: a.positional[0] });
  emit(ctx, r, () => reconfigLine(r));
  return reconfigStatus([r]);
};

const reconfigMany =
  (which: 'reconfig_sg' | 'reconfig_all'): Handler =>
  async (ctx, a) => {
    const s = await ctx.services();
    const r = which === 'reconfig_sg' ? await s.call(which, { sg: a.positional[0] }) : await s.call(which, {});
    emit(ctx, r, () => r.servers.map(reconfigLine).join('\n'));
    return reconfigStatus(r.servers);
  };

const checkServer: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('check_server', { server: a.positional[0] });
  emit(ctx, r, () =>
    [
      `        ${r.server}: ${r.state} (udp ${r.udp ? 'ok' : 'FAIL'}, tcp ${r.tcp ? 'ok' : 'FAIL'}, ${r.zones} zones)`,
      ...(r.message ? [`            ${r.message}`] : []),
      ...r.lagging.map((l) => `            ${l.zone} served ${l.served ?? '-'} published ${l.published}`),
    ].join('\n'),
  );
  return r.state === 'OK' ? 0 : EX.UNAVAILABLE;
};

const simple =
  (run: (s: Awaited<ReturnType<Parameters<Handler>[0]['services']>>, p: string[]) => Promise<unknown>, text: (r: never) => string = () => ''): Handler =>
  async (ctx, a) => {
    const r = await run(await ctx.services(), a.positional);
    emit(ctx, r, () => text(r as never));
    return 0;
  };

type MasterStatus = import('../../services/server-config/sg-ops.js').MasterStatus;
const masterText = (m: MasterStatus) =>
  [
    ...m.groups.map((g) =>
      [
        `        ${g.sg}: ${g.zones} zones${g.replica ? ' (replica)' : ''}${g.catalog ? `, catalog ${g.catalog} serial ${g.catalogSerial ?? '-'}` : ''}`,
        ...g.servers.map(
          (v) => `            ${v.name.padEnd(24)} ${v.state.padEnd(8)} ${v.configTime ? `config ${v.configTime.toISOString()}` : 'config never published'}${v.configError ? `\n                ${v.configError}` : ''}`,
        ),
      ].join('\n'),
    ),
    `        pending NOTIFYs: ${m.pendingNotifies}, failed events: ${m.failedEvents}`,
  ].join('\n');

export const SG_CONFIG_HANDLERS: Record<string, Handler> = {
  show_server_config: showServerConfig,
  show_sg_config: showSgConfig,
  set_sg_config: setSgConfig,
  set_sg_master_address: setMaster('set_sg_master_address'),
  set_sg_alt_master_address: setMaster('set_sg_alt_master_address'),
  set_server_config: setServerConfig,
  reconfig_server: reconfigServer,
  check_server: checkServer,
  reset_server: simple((s, p) => s.call('reset_server', { server: p[0] })),
  dupe_zone_alt_sg: simple((s, p) => s.call('dupe_zone_alt_sg', { zone: p[0], sg: p[1] })),
  set_zone_sg: simple((s, p) => s.call('set_zone_sg', { zone: p[0], sg: p[1] })),
  swap_zone_sg: simple((s, p) => s.call('swap_zone_sg', { zone: p[0] })),
  delete_zone_alt_sg: simple((s, p) => s.call('delete_zone_alt_sg', { zone: p[0] })),
  set_zone_alt_sg: simple((s, p) => s.call('set_zone_alt_sg', { zone: p[0], sg: p[1] === 'none' ? null : p[1] })),
  delete_sg: simple((s, p) => s.call('delete_sg', { sg: p[0] })),
  rename_sg: simple((s, p) => s.call('rename_sg', { sg: p[0], to: p[1] })),
  set_sg_replica_sg: simple((s, p) => s.call('set_sg_replica_sg', { sg: p[0] === 'none' ? null : p[0] })),
  show_replica_sg: simple(
    (s) => s.call('show_replica_sg', {}),
    (r: { replicaSg: string | null }) => `        ${r.replicaSg ?? 'no replica SG'}`,
  ),
  refresh_sg: simple(
    (s, p) => s.call('refresh_sg', { sg: p[0] }),
    (r: { zones: number; notifies: number }) => `        ${r.zones} zones, ${r.notifies} NOTIFYs queued`,
  ),
  show_master_status: simple((s) => s.call('show_master_status', {}), masterText),
  reconfig_sg: reconfigMany('reconfig_sg'),
  reconfig_all: reconfigMany('reconfig_all'),
  reconfig_replica_sg: async (ctx) => {
    const s = await ctx.services();
    const { replicaSg } = await s.call('show_replica_sg', {});
    if (replicaSg === null) throw new ZoneToolError('there is no replica SG (set_sg_replica_sg <sg-name> makes one)', EX.NOINPUT, 'NoReplicaSg');
    const r = await s.call('reconfig_sg', { sg: replicaSg });
    emit(ctx, r, () => r.servers.map(reconfigLine).join('\n'));
    return reconfigStatus(r.servers);
  },
  refresh_all: async (ctx) => {
    const s = await ctx.services();
    const out: { sg: string; zones: number; notifies: number }[] = [];
    for (const g of await s.call('list_sg', {})) out.push({ ...(await s.call('refresh_sg', { sg: g.name })), sg: g.name });
    emit(ctx, out, () => out.map((r) => `        ${r.sg}: ${r.zones} zones, ${r.notifies} NOTIFYs queued`).join('\n'));
    return 0;
  },
};
