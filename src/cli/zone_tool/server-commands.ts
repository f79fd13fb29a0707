// zone_tool commands for the secondary servers of server groups (issue 4), with the original DMS names and argument
// forms: ls_server, show_server, show_server_byaddr, create_server, delete_server, set_server_address,
// set_server_type, rename_server, move_server_sg, enable_server, disable_server. The table entries are spread into
// table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS. The handlers call the operations of src/services/operations/servers.ts.

import type { ParsedArgs } from './argv.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { col, fmtTime, kvBlock, OUTPUT_INDENT as I } from './format.js';
import type { Svc } from './services.js';
import { type CommandSpec, command } from './command-spec.js';

const spec = command;

const ADDRESS_HELP = `address     IPv4 or IPv6 address, with #port for a port other
                            than 53 (192.0.2.1#5353, [2001:db8::1]#5353)`;

const ACCESS_HELP = `A server is NOTIFYed on every publish of the zones of its server group
        while it is enabled, signed with the first key of the zone's transfer
        rules if there is one. Membership does not allow transfers: allow them
        with add_transfer_rule (-g <sg-name> key=<key-name> and/or
        address=<prefix>), as allow-transfer is written apart from also-notify.`;

export const SERVER_COMMANDS: readonly CommandSpec[] = [
  spec(
    'ls_server',
    'List servers',
    `List servers: ls_server [-jtv] [-g sg-name] [server-name] [server-name] ...

        -g  only the servers of this server group
        -j  ask each enabled server 5 DNS queries (a ping of its DNS
            service): answered, and the round-trip times
        -t  only the active servers (not disabled)
        -v  each server's state and address, with its server group,
            type and zone count (without -v or -j: the names alone)
        server-name  wildcards accepted (* and ?)`,
    { options: 'ag:jtv', max: Number.POSITIVE_INFINITY, args: ['other'], aliases: ['ls_servers'] },
  ),
  spec(
    'ls_slave',
    'List secondary servers (not those of the replica group)',
    `List secondary servers: ls_slave [-ajtv] [-g sg-name] [server-name] ...

        As ls_server, without the servers of the replica server group
        unless -a (show all) is given.`,
    { options: 'ag:jtv', max: Number.POSITIVE_INFINITY, args: ['other'] },
  ),
  spec('show_server', 'Show a server', 'Show a server: show_server <server-name>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'show_server_byaddr',
    'Show the server(s) at an address',
    'Show a server by address: show_server_byaddr <address>[#port]\n\n        Without #port, every server at that address.',
    { min: 1, max: 1, args: ['other'] },
  ),
  spec(
    'create_server',
    'Create a secondary server in a server group',
    `Create a server: create_server [-g sg-name] <server-name> <address> [bind9|nsd|knot]

        where:
                -g          server group (default: the default_sg setting)
                server-name letters, digits, '.', '_', '-'
                ${ADDRESS_HELP}
                type        bind9 (default), nsd or knot; informational

        The server is created ENABLED (the original DMS created it DISABLED
        for its rndc/rsync set-up, which this DMS does not need): a server not
        ready yet only fails its NOTIFYs, which are retried.

        ${ACCESS_HELP}`,
    { options: 'g:', min: 2, max: 3, args: ['other', 'other', 'other'] },
  ),
  spec('delete_server', 'Delete a server', 'Delete a server: delete_server <server-name>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'set_server_address',
    'Set the address of a server',
    `Set a server's address: set_server_address <server-name> <address>

        where:
                ${ADDRESS_HELP}`,
    { min: 2, max: 2, args: ['other', 'other'] },
  ),
  spec('set_server_type', 'Set the type of a server', 'Set a server\'s type: set_server_type <server-name> bind9|nsd|knot', {
    min: 2,
    max: 2,
    args: ['other', 'other'],
  }),
  spec('rename_server', 'Rename a server', 'Rename a server: rename_server <server-name> <new-server-name>', { min: 2, max: 2, args: ['other', 'other'] }),
  spec(
    'move_server_sg',
    'Move a server to another server group',
    `Move a server to another SG: move_server_sg <server-name> <sg-name>

        From the next publish on, the server is NOTIFYed for the zones of its
        new group (and no longer for those of the old one). Transfer rules
        are not moved: they belong to zones and groups, not to servers.`,
    { min: 2, max: 2, args: ['other', 'sg'] },
  ),
  spec(
    'enable_server',
    'Enable a server',
    'Enable a server: enable_server <server-name>\n\n        The server is NOTIFYed again from the next publish on.',
    { min: 1, max: 1, args: ['other'] },
  ),
  spec(
    'disable_server',
    'Disable a server',
    'Disable a server: disable_server <server-name>\n\n        The server is no longer NOTIFYed; its transfer rules still apply.',
    { min: 1, max: 1, args: ['other'] },
  ),
];

// ---- handlers ------------------------------------------------------------------------------------------------------

type ServerInfo = import('../../services/servers.js').ServerInfo;

const addr = (v: ServerInfo) => (v.port === 53 ? v.address : v.address.includes(':') ? `[${v.address}]#${v.port}` : `${v.address}#${v.port}`);

function showText(v: ServerInfo): string {
  return `${kvBlock(
    {
      server_name: v.name,
      address: addr(v),
      ctime: fmtTime(v.ctime),
      mtime: fmtTime(v.mtime),
      server_id: v.id,
      server_type: v.type,
      sg_name: v.sg,
      state: v.state,
      enabled: v.enabled,
      zone_count: v.zoneCount,
      last_reply: v.lastReply ? fmtTime(v.lastReply) : '',
      last_check: v.checked ? fmtTime(v.checked) : '',
      retry_msg: v.retryMsg ?? '',
      lagging: v.lagging.map((l) => `${l.zone}(${l.served ?? '-'}<${l.published})`).join(' '),
    },
    { firstKey: 'server_name', width: 18 },
  )}\n`;
}

const json = (v: ServerInfo) => ({
  ...v,
  ctime: v.ctime.toISOString(),
  mtime: v.mtime.toISOString(),
  lastReply: v.lastReply?.toISOString() ?? null,
  checked: v.checked?.toISOString() ?? null,
});

function opt(a: ParsedArgs, letter: string): string | undefined {
  const v = a.opts[letter];
  return typeof v === 'string' ? v : undefined;
}

/** ls_server and ls_slave (`slave`: the replica group's servers only with -a, as the original's ls_slave). */
const lsServers =
  (slave: boolean): Handler =>
  async (ctx, a) => {
    const s = await ctx.services();
    const g = opt(a, 'g');
    let list = await s.call('list_server', { ...(g !== undefined ? { sg: g } : {}), ...(a.positional.length > 0 ? { names: a.positional } : {}) });
    if (a.positional.length > 0 && list.length === 0) throw new ZoneToolError(`Server: ${a.positional.join(' ')} - not present.`, EX.DATAERR, 'ServerNotFound');
    if (a.opts.t === true) list = list.filter((v) => v.enabled);
    if (slave && a.opts.a !== true) {
      const { replicaSg } = await s.call('show_replica_sg', {});
      if (replicaSg !== null) list = list.filter((v) => v.sg !== replicaSg);
    }
    const verbose = a.opts.v === true;
    // -j: the enabled servers asked side by side (5 queries each, 0.2 s apart: ~1 s in all).
    const pings = a.opts.j === true ? await Promise.all(list.map((v) => (v.enabled ? s.call('ping_server', { server: v.name }) : undefined))) : [];
    const pingText = (i: number): string => {
      const p = pings[i];
      if (p === undefined) return 'server disabled';
      if (p.rttMs === null) return `${p.sent} queries sent, none answered`;
      return `${p.sent} queries sent, ${p.answered} answered, rtt min/avg/max ${p.rttMs.min}/${p.rttMs.avg}/${p.rttMs.max} ms`;
    };
    const detail = (v: (typeof list)[number], i: number): string =>
      `${col(v.name, 28)} ${verbose ? `${col(v.sg, 20)} ${col(v.type, 6)} ${col(v.zoneCount, 7)} ` : ''}${v.state}\n${I}${addr(v)}${
        a.opts.j === true ? `\n${I}ping: ${pingText(i)}` : ''
      }${verbose && v.retryMsg ? `\n${I}${v.retryMsg}` : ''}`;
    // The original's layouts: the names alone, one a line (what scripts read); with -v or -j, the name and state on
    // one line (-v: with the group, type and zone count) and the address indented below.
    emit(
      ctx,
      list.map((v, i) => (a.opts.j === true ? { ...json(v), ping: pings[i] ?? null } : json(v))),
      () => (!verbose && a.opts.j !== true ? list.map((v) => v.name) : list.map(detail)).join('\n'),
    );
    return 0;
  };

const showServer: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const v = await s.call('show_server', { server: a.positional[0] });
  emit(ctx, json(v), () => showText(v));
  return 0;
};

const showServerByaddr: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const list = await s.call('show_server_byaddr', { address: a.positional[0] });
  emit(ctx, list.map(json), () => list.map(showText).join('\n'));
  return 0;
};

const createServer: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [server, address, type] = a.positional;
  const g = opt(a, 'g');
  const v = await s.call('create_server', { server, address, ...(g !== undefined ? { sg: g } : {}), ...(type !== undefined ? { type } : {}) });
  emit(ctx, json(v), () => `${I}server ${v.name} (${addr(v)}, ${v.type}) created in server group ${v.sg}, enabled`);
  return 0;
};

const deleteServer: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.call('delete_server', { server: a.positional[0] });
  return 0;
};

/** The commands that change one server print nothing (as the original), or the server with --json. */
function change(run: (s: Svc, p: string[]) => Promise<ServerInfo>): Handler {
  return async (ctx, a) => {
    const v = await run(await ctx.services(), a.positional);
    emit(ctx, json(v), () => '');
    return 0;
  };
}

export const SERVER_HANDLERS: Record<string, Handler> = {
  ls_server: lsServers(false),
  ls_slave: lsServers(true),
  show_server: showServer,
  show_server_byaddr: showServerByaddr,
  create_server: createServer,
  delete_server: deleteServer,
  set_server_address: change((s, p) => s.call('set_server_address', { server: p[0], address: p[1] })),
  set_server_type: change((s, p) => s.call('set_server_type', { server: p[0], type: p[1] })),
  rename_server: change((s, p) => s.call('rename_server', { server: p[0], to: p[1] })),
  move_server_sg: change((s, p) => s.call('move_server_sg', { server: p[0], sg: p[1] })),
  enable_server: change((s, p) => s.call('enable_server', { server: p[0] })),
  disable_server: change((s, p) => s.call('disable_server', { server: p[0] })),
};
