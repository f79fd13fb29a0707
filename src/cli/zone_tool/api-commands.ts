// zone_tool commands for the JSON-RPC API (issue 16): API accounts and their tokens, and the audit log. The table
// entries are spread into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS; every handler goes
// through the operations table (accounts.ts there), as the API's own methods do.

import type { ParsedArgs } from './argv.js';
import type { Context } from './context.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { col, fmtTime, OUTPUT_INDENT as I } from './format.js';
import { type CommandSpec, command } from './command-spec.js';

const spec = command;

const PASSWORD_HELP = `The password comes from the first line of standard input with
        --password-stdin (-P), else from DMS_API_PASSWORD, else it is asked
        for on the terminal; none at all: the account logs in with tokens only.`;

export const API_COMMANDS: readonly CommandSpec[] = [
  spec(
    'create_api_account',
    'Create an API account (admin, helpdesk or customer)',
    `Create an API account: create_api_account [-P] [-s sectag] <login> <admin|helpdesk|customer>

        -s  security tag: a customer sees only the zones carrying it (required
            for customers); for staff it is only recorded in change_by
        ${PASSWORD_HELP}
        Changes made through the API are recorded as login/sectag.`,
    { options: 's:P', long: { sectag: 's', 'password-stdin': 'P' }, min: 2, max: 2, args: ['other', 'other'] },
  ),
  spec('ls_api_account', 'List API accounts and their tokens', 'List API accounts: ls_api_account\n\n        Login, tier, security tag, password set or not, and the tokens (never a secret).', {
    aliases: ['ls_api_accounts'],
  }),
  spec('delete_api_account', 'Delete an API account and its tokens', 'Delete an API account: delete_api_account <login>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'set_api_account_password',
    "Set an API account's password",
    `Set an API account's password: set_api_account_password [-P] [-n] <login>

        -n  remove the password (tokens only)
        ${PASSWORD_HELP}`,
    { options: 'Pn', long: { 'password-stdin': 'P', none: 'n' }, min: 1, max: 1, args: ['other'] },
  ),
  spec(
    'create_api_token',
    'Make a bearer token for an API account (shown once)',
    `Make a bearer token: create_api_token [-z zone] [-r] [-a] [-e expiry] <login>

        -z, --zone Z     the token may touch only zone Z
        -r, --read-only  no operation that changes anything
        -a, --acme-only  only update_rrs on TXT records under _acme-challenge
        -e, --expires T  a date (2027-01-31), an ISO time or a duration (30d, 12h)
        The secret is printed once and stored only as its SHA-256 hash; use it
        as "Authorization: Bearer <token>".`,
    { options: 'z:rae:', long: { zone: 'z', 'read-only': 'r', 'acme-only': 'a', expires: 'e' }, min: 1, max: 1, args: ['other'] },
  ),
  spec('ls_api_token', 'List API tokens', 'List API tokens: ls_api_token [login]\n\n        Id, account, scopes, expiry and last use (never the secret).', {
    max: 1,
    args: ['other'],
    aliases: ['ls_api_tokens'],
  }),
  spec('revoke_api_token', 'Revoke an API token', 'Revoke an API token: revoke_api_token <token-id>\n\n        The id is shown by ls_api_token.', {
    min: 1,
    max: 1,
    args: ['other'],
  }),
  spec(
    'ls_audit',
    'Show the audit log',
    `Show the audit log: ls_audit [-z domain-name] [-a actor] [--since T] [-n count]

        Newest first: time, actor, source, operation, zone, ZI before -> after
        and a summary of every change, whichever way it came (zone_tool, the
        API, RFC 2136 UPDATE, dmsd itself).
        -s, --since T   a date, an ISO time or an age (3d, 12h, 2w)
        -n              at most this many entries (default 100)`,
    { options: 'z:a:s:n:', long: { zone: 'z', actor: 'a', since: 's' }, max: 0, aliases: ['ls_audit_log'] },
  ),
];

// ---- handlers ------------------------------------------------------------------------------------------------------

function opt(a: ParsedArgs, letter: string): string | undefined {
  const v = a.opts[letter];
  return typeof v === 'string' ? v : undefined;
}

async function password(ctx: Context, a: ParsedArgs): Promise<string | undefined> {
  if (a.opts.P === true) {
    const text = process.getBuiltinModule('node:fs').readFileSync(0, 'utf8');
    const line = text.split(/\r?\n/)[0];
    if (!line) throw new ZoneToolError('no password on standard input', EX.USAGE, 'UsageError');
    return line;
  }
  if (ctx.env.DMS_API_PASSWORD) return ctx.env.DMS_API_PASSWORD;
  if (!ctx.stdinIsTTY) return undefined;
  const first = await ctx.ask('Password: ');
  if (!first) return undefined;
  const again = await ctx.ask('Password again: ');
  if (again !== first) throw new ZoneToolError('the passwords differ', EX.USAGE, 'UsageError');
  return first;
}

const createApiAccount: Handler = async (ctx, a) => {
  const [login, tier] = a.positional;
  if (tier !== 'admin' && tier !== 'helpdesk' && tier !== 'customer')
    throw new ZoneToolError(`tier must be admin, helpdesk or customer, not "${tier}"`, EX.USAGE, 'UsageError');
  const sectag = opt(a, 's');
  const pw = await password(ctx, a);
  const s = await ctx.services();
  const r = await s.call('create_api_account', { login, tier, ...(sectag ? { sectag } : {}), ...(pw ? { password: pw } : {}) });
  emit(ctx, r, () => `${I}API account ${r.login} (${r.tier}${r.sectag ? `, sectag ${r.sectag}` : ''}) created${r.hasPassword ? '' : ' without a password (tokens only)'}`);
  return 0;
};

const lsApiAccount: Handler = async (ctx) => {
  const s = await ctx.services();
  const list = await s.call('ls_api_account', {});
  emit(ctx, list, () =>
    list
      .map(
        (x) =>
          `${I}${col(x.login, 24)} ${col(x.tier, 9)} ${col(x.sectag ?? '-', 20)} ${x.hasPassword ? 'password' : 'no-password'} ${x.tokens.length} token(s)`,
      )
      .join('\n'),
  );
  return 0;
};

const deleteApiAccount: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.call('delete_api_account', { login: a.positional[0] });
  return 0;
};

const setApiAccountPassword: Handler = async (ctx, a) => {
  const pw = a.opts.n === true ? null : await password(ctx, a);
  if (pw === undefined) throw new ZoneToolError('no password given (-P, DMS_API_PASSWORD or the terminal); -n removes it', EX.USAGE, 'UsageError');
  const s = await ctx.services();
  await s.call('set_api_account_password', { login: a.positional[0], password: pw });
  return 0;
};

const createApiToken: Handler = async (ctx, a) => {
  const zone = opt(a, 'z');
  const expires = opt(a, 'e');
  const s = await ctx.services();
  const r = await s.call('create_api_token', {
    login: a.positional[0],
    ...(zone ? { zone } : {}),
    readOnly: a.opts.r === true,
    acmeOnly: a.opts.a === true,
    ...(expires ? { expires } : {}),
  });
  emit(ctx, r, () => {
    const scopes = [r.info.zone ? `zone ${r.info.zone}` : null, r.info.readOnly ? 'read-only' : null, r.info.acmeOnly ? 'ACME-only' : null]
      .filter(Boolean)
      .join(', ');
    return `${I}token ${r.info.id} for ${r.info.login}${scopes ? ` (${scopes})` : ''}${r.info.expires ? `, expires ${fmtTime(r.info.expires)}` : ''}:\n${r.token}\n${I}(shown once: it is stored only as a hash)`;
  });
  return 0;
};

const lsApiToken: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const list = await s.call('ls_api_token', a.positional[0] ? { login: a.positional[0] } : {});
  emit(ctx, list, () =>
    list
      .map((t) => {
        const scopes = [t.zone ? `zone=${t.zone}` : null, t.readOnly ? 'read-only' : null, t.acmeOnly ? 'acme-only' : null].filter(Boolean).join(',') || 'all';
        return `${I}${col(t.id, 6)} ${col(t.login, 24)} ${col(scopes, 36)} expires ${t.expires ? fmtTime(t.expires) : 'never'}  used ${t.lastUsed ? fmtTime(t.lastUsed) : 'never'}`;
      })
      .join('\n'),
  );
  return 0;
};

const revokeApiToken: Handler = async (ctx, a) => {
  const id = a.positional[0];
  if (!/^\d+$/.test(id)) throw new ZoneToolError(`token id must be a number, not "${id}"`, EX.USAGE, 'UsageError');
  const s = await ctx.services();
  await s.call('revoke_api_token', { tokenId: Number(id) });
  return 0;
};

const lsAudit: Handler = async (ctx, a) => {
  const zone = opt(a, 'z');
  const actor = opt(a, 'a');
  const since = opt(a, 's');
  const n = opt(a, 'n');
  if (n !== undefined && !/^\d+$/.test(n)) throw new ZoneToolError(`-n must be a number, not "${n}"`, EX.USAGE, 'UsageError');
  const s = await ctx.services();
  const list = await s.call('list_audit', {
    ...(zone ? { zone } : {}),
    ...(actor ? { actor } : {}),
    ...(since ? { since } : {}),
    limit: n ? Number(n) : 100,
  });
  emit(ctx, list, () =>
    list
      .map(
        (e) =>
          `${I}${fmtTime(e.at)} ${col(e.actor, 24)} ${col(e.source ?? '-', 16)} ${col(e.operation ?? e.kind, 20)} ${col(e.zone ?? '-', 28)} ${e.ziBefore ?? '-'} -> ${e.ziAfter ?? '-'}  ${e.summary}`,
      )
      .join('\n'),
  );
  return 0;
};

export const API_HANDLERS: Record<string, Handler> = {
  create_api_account: createApiAccount,
  ls_api_account: lsApiAccount,
  delete_api_account: deleteApiAccount,
  set_api_account_password: setApiAccountPassword,
  create_api_token: createApiToken,
  ls_api_token: lsApiToken,
  revoke_api_token: revokeApiToken,
  ls_audit: lsAudit,
};
