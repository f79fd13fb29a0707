// zone_tool commands for per server group templates and per server pull tokens (issue 11): set_sg_template,
// show_sg_template, delete_sg_template, create_server_token, delete_server_token. The table entries are spread into
// table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS.

import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { type CommandSpec, command as spec } from './command-spec.js';

type TemplateInfo = { sg: string; type: string; template: string; mtime: string };

export const SG_TEMPLATE_COMMANDS: readonly CommandSpec[] = [
  spec(
    'set_sg_template',
    "Set a server group's configuration template for one server type",
    `Set an SG's template: set_sg_template <sg-name> <bind9|knot|nsd> <file>|-

        The file's text goes into the configuration DMS generates for the
        group's servers of that type: BIND zone options in each zone
        statement (e.g. allow-query { 192.0.2.0/24; };), Knot options of the
        group's zone templates (e.g. semantic-checks: on), NSD options of the
        group's pattern (e.g. allow-query: 192.0.2.0/24 NOKEY). Placeholders:
        {sg} group name, {id} its identifier (dms-<sg>), {master} master
        address, {key} transfer key name. "-" reads standard input.

        Stored only after the real checker (named-checkconf, knotc
        conf-check, nsd-checkconf) accepted the file it produces for every
        server of that type in the group; otherwise refused with the
        checker's message and nothing changes. reconfig_sg publishes it.`,
    { min: 3, max: 3, args: ['sg', 'other', 'file'] },
  ),
  spec('show_sg_template', "Show a server group's templates", "Show an SG's templates: show_sg_template <sg-name> [bind9|knot|nsd]", {
    min: 1,
    max: 2,
    args: ['sg', 'other'],
  }),
  spec('delete_sg_template', "Delete a server group's template for one server type", "Delete an SG's template: delete_sg_template <sg-name> <bind9|knot|nsd>", {
    min: 2,
    max: 2,
    args: ['sg', 'other'],
  }),
  spec(
    'create_server_token',
    'Make a token a server pulls its own configuration with',
    `Make a pull token: create_server_token <server-name>

        Prints a new token once (only its hash is kept; an earlier token of
        the server stops working). The secondary fetches its file with
          curl -H "Authorization: Bearer <token>" https://dms:8080/config/<server-name>
        The token is good for that server's file only, and for nothing else
        (not for /jsonrpc, not for another server's file).`,
    { min: 1, max: 1, args: ['other'] },
  ),
  spec('delete_server_token', "Revoke a server's pull token", 'Revoke a pull token: delete_server_token <server-name>', { min: 1, max: 1, args: ['other'] }),
];

type ServerType = 'bind9' | 'knot' | 'nsd';
function typeArg(t: string | undefined): ServerType {
  if (t !== 'bind9' && t !== 'knot' && t !== 'nsd') throw new ZoneToolError(`server type "${t ?? ''}": bind9, knot or nsd`, EX.USAGE, 'UsageError');
  return t;
}

const templateText = (list: TemplateInfo[]) =>
  list.length === 0
    ? '        no templates'
    : list.map((t) => [`        ${t.type} (set ${t.mtime}):`, ...t.template.replace(/\n$/, '').split('\n').map((l) => `            ${l}`)].join('\n')).join('\n');

const setSgTemplate: Handler = async (ctx, a) => {
  const [sg, type, file] = a.positional;
  const fs = process.getBuiltinModule('node:fs');
  let template: string;
  try {
    template = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ZoneToolError(`cannot read ${file}: ${(e as Error).message}`, EX.NOINPUT, 'NoInput');
  }
  const s = await ctx.services();
  const r = await s.call('set_sg_template', { sg, type: typeArg(type), template });
  emit(ctx, r, () => `        checked with: ${r.checked.join(', ')}`);
  return 0;
};

export const SG_TEMPLATE_HANDLERS: Record<string, Handler> = {
  set_sg_template: setSgTemplate,
  show_sg_template: async (ctx, a) => {
    const [sg, type] = a.positional;
    const s = await ctx.services();
    const r = await s.call('show_sg_template', type === undefined ? { sg } : { sg, type: typeArg(type) });
    emit(ctx, r, () => templateText(r));
    return 0;
  },
  delete_sg_template: async (ctx, a) => {
    const [sg, type] = a.positional;
    const s = await ctx.services();
    emit(ctx, await s.call('delete_sg_template', { sg, type: typeArg(type) }), () => '');
    return 0;
  },
  create_server_token: async (ctx, a) => {
    const s = await ctx.services();
    const r = await s.call('create_server_token', { server: a.positional[0] });
    emit(ctx, r, () => `        ${r.token}\n        (shown once: GET /config/${r.server} with Authorization: Bearer <token>)`);
    return 0;
  },
  delete_server_token: async (ctx, a) => {
    const s = await ctx.services();
    const r = await s.call('delete_server_token', { server: a.positional[0] });
    emit(ctx, r, () => (r.deleted ? '' : `        server ${r.server} had no pull token`));
    return 0;
  },
};
