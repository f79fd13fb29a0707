// zone_tool commands for query ACLs (allow-query, issue 15): address prefixes allowed to query a zone, or the zones
// of a server group (-g). The table entries are spread into table.ts's COMMANDS and the handlers into handlers.ts's
// HANDLERS.

import type { ParsedArgs } from './argv.js';
import { type CommandSpec, command } from './command-spec.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { col, OUTPUT_INDENT as I } from './format.js';

export const QUERY_ACL_COMMANDS: readonly CommandSpec[] = [
  command(
    'add_query_acl',
    'Allow queries to a zone (or a server group) from an address prefix',
    `Allow queries: add_query_acl [-g sg-name] [domain-name] <address-or-prefix>...

        With -g <sg-name> the entry belongs to the server group and applies to
        every zone of the group that has no list of its own; otherwise to the
        zone named first. The first entry restricts the zone: queries from
        elsewhere are answered REFUSED (BIND's allow-query). Several prefixes
        may be given at once; address=<prefix> is accepted too.`,
    { options: 'g:', min: 1, max: Number.POSITIVE_INFINITY, args: ['zone', 'other'] },
  ),
  command('ls_query_acl', 'List query ACL entries', 'List query ACL entries: ls_query_acl [-g sg-name] [domain-name]\n\n        Without a zone or SG, every entry.', {
    options: 'g:',
    max: 1,
    args: ['zone'],
  }),
  command(
    'delete_query_acl',
    'Delete a query ACL entry',
    'Delete a query ACL entry: delete_query_acl <id>\n\n        id as shown by ls_query_acl. A zone whose last entry is deleted answers everyone again.',
    { min: 1, max: 1, args: ['other'] },
  ),
];

function usage(msg: string): never {
  throw new ZoneToolError(msg, EX.USAGE, 'UsageError');
}

function target(a: ParsedArgs, needZone: boolean): { t?: { zone?: string; sg?: string }; rest: string[] } {
  const g = a.opts.g;
  if (typeof g === 'string') return { t: { sg: g }, rest: a.positional };
  if (a.positional.length === 0) {
    if (needZone) usage('give a zone name or -g <sg-name>');
    return { rest: [] };
  }
  return { t: { zone: a.positional[0] }, rest: a.positional.slice(1) };
}

const addQueryAcl: Handler = async (ctx, a) => {
  const { t, rest } = target(a, true);
  if (rest.length === 0) usage('add_query_acl needs an address or prefix');
  const s = await ctx.services();
  const added: { id: number; address: string }[] = [];
  for (const w of rest) added.push(await s.call('add_query_acl', { ...t, address: w.replace(/^address=/, '') }));
  emit(ctx, added, () => added.map((r) => `${I}query ACL entry ${r.id} added: ${r.address}`).join('\n'));
  return 0;
};

const lsQueryAcl: Handler = async (ctx, a) => {
  const { t } = target(a, false);
  const s = await ctx.services();
  const rows = await s.call('list_query_acl', t ?? {});
  emit(ctx, rows, () => rows.map((r) => `${I}${col(r.id, 6)} ${col(r.zone ?? `sg:${r.sg}`, 32)} ${r.address}`).join('\n'));
  return 0;
};

const deleteQueryAcl: Handler = async (ctx, a) => {
  const text = a.positional[0];
  if (!/^\d+$/.test(text)) usage(`entry id must be a number, not "${text}"`);
  const s = await ctx.services();
  await s.call('delete_query_acl', { id: Number(text) });
  return 0;
};

export const QUERY_ACL_HANDLERS: Record<string, Handler> = {
  add_query_acl: addQueryAcl,
  ls_query_acl: lsQueryAcl,
  delete_query_acl: deleteQueryAcl,
};
