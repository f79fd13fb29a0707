// Operations on API accounts and tokens, and the audit log (issue 16). Accounts and tokens are the administrator's;
// list_audit is for everyone, a customer seeing only its own zones' entries.

import { z } from 'zod';
import {
  createAccount,
  createToken,
  deleteAccount,
  listAccounts,
  listTokens,
  MIN_PASSWORD_LENGTH,
  parseExpiry,
  revokeToken,
  setAccountPassword,
} from '../accounts.js';
import { listAudit, parseSince } from '../audit.js';
import { ADMIN_ONLY, ALL_TIERS, type Operation, op } from './define.js';

const loginParam = z.string().min(1).max(64).describe('account login (letters, digits, . _ @ + -)');
const passwordParam = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `too short: at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, 'too long: at most 1024 characters')
  .describe(`at least ${MIN_PASSWORD_LENGTH} characters`);

export const ACCOUNT_OPERATIONS = {
  create_api_account: op({
    name: 'create_api_account',
    summary: 'Create an API account: admin, helpdesk, or customer (seeing only the zones of its security tag)',
    params: z
      .object({
        login: loginParam,
        tier: z.enum(['admin', 'helpdesk', 'customer']),
        sectag: z.string().min(1).max(255).optional().describe("the customer's security tag (required for customers)"),
        password: passwordParam.optional().describe('for HTTP Basic; without one the account logs in with tokens only'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => createAccount(ctx, p),
  }),
  ls_api_account: op({
    name: 'ls_api_account',
    summary: 'List API accounts with their tier, security tag and tokens (never a secret)',
    params: z.object({}).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx) => {
      const tokens = await listTokens(ctx);
      return (await listAccounts(ctx)).map((a) => ({ ...a, tokens: tokens.filter((t) => t.login === a.login) }));
    },
  }),
  delete_api_account: op({
    name: 'delete_api_account',
    summary: 'Delete an API account and its tokens',
    params: z.object({ login: loginParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await deleteAccount(ctx, p.login);
      return { login: p.login, deleted: true as const };
    },
  }),
  set_api_account_password: op({
    name: 'set_api_account_password',
    summary: "Set an API account's password (null: no password login, tokens only)",
    params: z.object({ login: loginParam, password: passwordParam.nullable() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await setAccountPassword(ctx, p.login, p.password);
      return { login: p.login, hasPassword: p.password !== null };
    },
  }),
  create_api_token: op({
    name: 'create_api_token',
    summary: 'Make a bearer token for an account, optionally limited to one zone, read-only, ACME-only or expiring; the secret is shown once',
    params: z
      .object({
        login: loginParam,
        zone: z.string().min(1).max(1100).optional().describe('the only zone the token may touch'),
        readOnly: z.boolean().optional().describe('no operation that changes anything'),
        acmeOnly: z.boolean().optional().describe('only update_rrs on TXT records under _acme-challenge (DNS-01)'),
        expires: z.string().max(64).optional().describe('a date, an ISO time or a duration from now (30d, 12h, 2w)'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) =>
      createToken(ctx, p.login, {
        ...(p.zone !== undefined ? { zone: p.zone } : {}),
        readOnly: p.readOnly ?? false,
        acmeOnly: p.acmeOnly ?? false,
        ...(p.expires !== undefined ? { expires: parseExpiry(ctx, p.expires) } : {}),
      }),
  }),
  ls_api_token: op({
    name: 'ls_api_token',
    summary: 'List API tokens (id, account, scopes, expiry, last use; never the secret)',
    params: z.object({ login: loginParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: (ctx, p) => listTokens(ctx, p.login),
  }),
  revoke_api_token: op({
    name: 'revoke_api_token',
    summary: 'Revoke an API token by its id',
    params: z.object({ tokenId: z.number().int().positive() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await revokeToken(ctx, p.tokenId);
      return { tokenId: p.tokenId, revoked: true as const };
    },
  }),
  list_audit: op({
    name: 'list_audit',
    summary: 'The audit log, newest first: who changed what, from where, when (customers: their own zones only)',
    params: z
      .object({
        zone: z.string().min(1).max(1100).optional(),
        actor: z.string().min(1).max(255).optional(),
        since: z.string().max(64).optional().describe('a date, an ISO time or an age (3d, 12h)'),
        before: z.number().int().positive().optional().describe('cursor: the last id of the previous page'),
        limit: z.number().int().min(1).max(10_000).default(1000),
      })
      .strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: (ctx, p) =>
      listAudit(ctx, {
        ...(p.zone !== undefined ? { zone: p.zone } : {}),
        ...(p.actor !== undefined ? { actor: p.actor } : {}),
        ...(p.since !== undefined ? { since: parseSince(ctx, p.since) } : {}),
        ...(p.before !== undefined ? { before: p.before } : {}),
        limit: p.limit,
      }),
  }),
} satisfies Record<string, Operation>;
