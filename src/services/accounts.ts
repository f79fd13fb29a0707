// API accounts and tokens (issue 16): who may call the JSON-RPC API and as what. An account has a login, a tier
// (admin, helpdesk, customer) and, for customers, the security tag whose zones it sees; change_by is
// "login/sectag" as in the original. Passwords are kept as scrypt hashes with a salt of their own; a bearer token's
// secret is shown once when made and kept only as its SHA-256 (a stolen database gives no usable token), with its
// scopes: one zone, read-only, ACME-only, an expiry.

import { readTx, writeTx } from '../store/index.js';
import {
  type AccountRow,
  accountByLogin,
  accountRows,
  deleteAccountRow,
  deleteTokenRow,
  hasAccountOfTier,
  insertAccount,
  lockFirstAdmin,
  insertToken,
  type TokenRow,
  tokenByHash,
  tokenRows,
  touchToken,
  updateAccount,
} from '../store/queries/accounts.js';
import { sectagId } from '../store/queries/references.js';
import { nowMs, type ServiceContext, type Tenant, type Tier } from './context.js';
import { AccountExists, AccountNotFound, InvalidArgument, SectagNotFound, SetupDone, TokenNotFound } from './errors.js';
import { isUniqueViolation } from '../store/index.js';
import { resolveZoneName } from './zones.js';

export interface AccountInfo {
  login: string;
  tier: Tier;
  sectag: string | null;
  hasPassword: boolean;
  ctime: Date;
  mtime: Date;
}

export interface TokenInfo {
  id: number;
  login: string;
  zone: string | null;
  readOnly: boolean;
  acmeOnly: boolean;
  expires: Date | null;
  ctime: Date;
  lastUsed: Date | null;
}

/** Who is calling the API: the account and, when a bearer token was used, the token with its scopes. */
export interface Principal {
  account: AccountInfo;
  token?: TokenInfo;
}

const LOGIN_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
/** The shortest password an account takes (create_api_account's parameter and the web UI's set-up screen say so). */
export const MIN_PASSWORD_LENGTH = 8;
/** scrypt cost: N=2^15, r=8, p=1 (~32 MiB, tens of ms): slow for a guesser, fine for a login. */
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };
const TOKEN_PREFIX = 'dms_';

const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

function loginKey(login: string): string {
  if (!LOGIN_RE.test(login)) throw new InvalidArgument(`bad login "${login}": letters, digits and . _ @ + - (at most 64), starting with a letter or digit`);
  return login.toLowerCase();
}

function accountInfo(r: AccountRow): AccountInfo {
  return {
    login: r.login,
    tier: r.tier as Tier,
    sectag: r.sectag,
    hasPassword: r.password_hash !== null,
    ctime: new Date(Number(r.ctime)),
    mtime: new Date(Number(r.mtime)),
  };
}

function tokenInfo(t: TokenRow, login: string): TokenInfo {
  return {
    id: Number(t.id),
    login,
    zone: t.zone,
    readOnly: t.read_only === 1,
    acmeOnly: t.acme_only === 1,
    expires: t.expires === null ? null : new Date(Number(t.expires)),
    ctime: new Date(Number(t.ctime)),
    lastUsed: t.last_used === null ? null : new Date(Number(t.last_used)),
  };
}

function scrypt(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto().scrypt(password, salt, SCRYPT.keylen, { N: p.N, r: p.r, p: p.p, maxmem: SCRYPT.maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidArgument(`password too short: at least ${MIN_PASSWORD_LENGTH} characters`);
  const salt = crypto().randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function checkPassword(password: string, stored: string | null): Promise<boolean> {
  // An unknown login or one without a password costs the same scrypt as a real check: timing tells nothing.
  const parts = (stored ?? `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$`).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const want = Buffer.from(parts[5], 'base64');
  const got = await scrypt(password, Buffer.from(parts[4], 'base64'), { N, r, p });
  return stored !== null && want.length === got.length && crypto().timingSafeEqual(want, got);
}

function tokenHash(secret: string): string {
  return crypto().createHash('sha256').update(secret).digest('hex');
}

/** The actor recorded for an account's changes (change_by, audit): login/sectag, staff without a tag as login/Admin. */
export function accountActor(a: AccountInfo): string {
  return actorOf(a.login, a);
}

/** The actor for `login` acting with `tenant`'s rights (or an account's tier and tag): login/sectag, else login/Admin or login/Helpdesk. */
export function actorOf(login: string, tenant: Pick<Tenant, 'tier' | 'sectag'>): string {
  return `${login}/${tenant.sectag ?? (tenant.tier === 'helpdesk' ? 'Helpdesk' : 'Admin')}`;
}

export function accountTenant(a: AccountInfo): Tenant {
  return { tier: a.tier, sectag: a.tier === 'customer' ? a.sectag : null };
}

export async function createAccount(
  ctx: ServiceContext,
  o: { login: string; tier: Tier; sectag?: string; password?: string },
): Promise<AccountInfo> {
  const key = loginKey(o.login);
  if (o.tier === 'customer' && !o.sectag) throw new InvalidArgument('a customer account needs a security tag (-s sectag): it sees only the zones carrying it');
  const hash = o.password !== undefined ? await hashPassword(o.password) : null;
  return writeTx(ctx.store, async (trx) => {
    if (ctx.firstAdminOnly) {
      if (o.tier !== 'admin') throw new InvalidArgument('the first-run set-up creates an admin account');
      await lockFirstAdmin(trx, ctx.store.kind);
      if (await hasAccountOfTier(trx, 'admin')) throw new SetupDone();
    }
    if (o.sectag !== undefined && (await sectagId(trx, o.sectag)) === undefined) throw new SectagNotFound(o.sectag);
    if (await accountByLogin(trx, key)) throw new AccountExists(o.login);
    const t = nowMs(ctx);
    try {
      await insertAccount(trx, { login: o.login, login_key: key, tier: o.tier, sectag: o.sectag ?? null, password_hash: hash, ctime: t, mtime: t });
    } catch (e) {
      if (isUniqueViolation(e)) throw new AccountExists(o.login);
      throw e;
    }
    const row = await accountByLogin(trx, key);
    if (!row) throw new AccountNotFound(o.login);
    return accountInfo(row);
  });
}

/** Whether an admin-tier account exists: until one does, dmsd offers the first-run set-up (src/api/setup.ts). */
export async function hasAdminAccount(ctx: ServiceContext): Promise<boolean> {
  return hasAccountOfTier(ctx.store.db, 'admin');
}

export async function listAccounts(ctx: ServiceContext): Promise<AccountInfo[]> {
  return (await accountRows(ctx.store.db)).map(accountInfo);
}

export async function getAccount(ctx: ServiceContext, login: string): Promise<AccountInfo> {
  const row = await accountByLogin(ctx.store.db, loginKey(login));
  if (!row) throw new AccountNotFound(login);
  return accountInfo(row);
}

export async function deleteAccount(ctx: ServiceContext, login: string): Promise<void> {
  await writeTx(ctx.store, async (trx) => {
    const row = await accountByLogin(trx, loginKey(login));
    if (!row) throw new AccountNotFound(login);
    await deleteAccountRow(trx, Number(row.id));
  });
}

/** Set (or with null clear: tokens only) an account's password. */
export async function setAccountPassword(ctx: ServiceContext, login: string, password: string | null): Promise<void> {
  const hash = password === null ? null : await hashPassword(password);
  await writeTx(ctx.store, async (trx) => {
    const row = await accountByLogin(trx, loginKey(login));
    if (!row) throw new AccountNotFound(login);
    await updateAccount(trx, Number(row.id), { password_hash: hash, mtime: nowMs(ctx) });
  });
}

/** "2026-12-31", an ISO time, or a duration from now: 30d, 12h, 90m, 2w. */
export function parseExpiry(ctx: ServiceContext, text: string): Date {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(nowMs(ctx) + Number(m[1]) * unit * 1000);
  }
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new InvalidArgument(`bad expiry "${text}": a date (2026-12-31), an ISO time or a duration (30d, 12h, 2w)`);
  if (d.getTime() <= nowMs(ctx)) throw new InvalidArgument(`expiry ${d.toISOString()} is in the past`);
  return d;
}

/** Make a bearer token for an account; the secret is in the result and nowhere else. */
export async function createToken(
  ctx: ServiceContext,
  login: string,
  o: { zone?: string; readOnly?: boolean; acmeOnly?: boolean; expires?: Date } = {},
): Promise<{ token: string; info: TokenInfo }> {
  const zone = o.zone !== undefined ? await resolveZoneName(ctx, o.zone) : null;
  const secret = TOKEN_PREFIX + crypto().randomBytes(32).toString('base64url');
  return writeTx(ctx.store, async (trx) => {
    const row = await accountByLogin(trx, loginKey(login));
    if (!row) throw new AccountNotFound(login);
    const t = nowMs(ctx);
    const id = await insertToken(trx, {
      account_id: Number(row.id),
      token_hash: tokenHash(secret),
      zone,
      read_only: o.readOnly ? 1 : 0,
      acme_only: o.acmeOnly ? 1 : 0,
      expires: o.expires ? o.expires.getTime() : null,
      ctime: t,
      last_used: null,
    });
    const info = tokenInfo((await tokenRows(trx, Number(row.id))).find((x) => Number(x.id) === id) as TokenRow, row.login);
    return { token: secret, info };
  });
}

export async function listTokens(ctx: ServiceContext, login?: string): Promise<TokenInfo[]> {
  return readTx(ctx.store, async (trx) => {
    const accounts = new Map((await accountRows(trx)).map((a) => [Number(a.id), a]));
    let accountId: number | undefined;
    if (login !== undefined) {
      const a = await accountByLogin(trx, loginKey(login));
      if (!a) throw new AccountNotFound(login);
      accountId = Number(a.id);
    }
    return (await tokenRows(trx, accountId)).map((t) => tokenInfo(t, accounts.get(Number(t.account_id))?.login ?? '?'));
  });
}

export async function revokeToken(ctx: ServiceContext, id: number): Promise<void> {
  if (!(await deleteTokenRow(ctx.store.db, id))) throw new TokenNotFound(id);
}

/**
 * Credentials that passed scrypt in this process, by a SHA-256 of login and password, with the stored hash they
 * matched. HTTP Basic sends the password with every request; scrypt on each would cap the API at a few dozen calls
 * a second. A hit still reads the account: a changed password (another hash) or a deleted account is checked anew.
 */
const verified = new Map<string, string>();
const VERIFIED_MAX = 10_000;

/** HTTP Basic: the account when the login and password match, else null (never says which was wrong). */
export async function verifyPassword(ctx: ServiceContext, login: string, password: string): Promise<Principal | null> {
  let row: AccountRow | undefined;
  let key: string | undefined;
  try {
    key = loginKey(login);
    row = await accountByLogin(ctx.store.db, key);
  } catch {
    row = undefined;
  }
  const memo = key !== undefined ? crypto().createHash('sha256').update(`${key}\u0000${password}`).digest('hex') : undefined;
  if (row && row.password_hash !== null && memo !== undefined && verified.get(memo) === row.password_hash) return { account: accountInfo(row) };
  const ok = await checkPassword(password, row?.password_hash ?? null);
  if (!ok || !row) return null;
  if (memo !== undefined && row.password_hash !== null) {
    if (verified.size >= VERIFIED_MAX) verified.clear();
    verified.set(memo, row.password_hash);
  }
  return { account: accountInfo(row) };
}

/** A bearer token: its account and scopes when it exists and has not expired, else null. */
export async function verifyToken(ctx: ServiceContext, secret: string): Promise<Principal | null> {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
  const found = await tokenByHash(ctx.store.db, tokenHash(secret));
  if (!found) return null;
  const now = nowMs(ctx);
  if (found.token.expires !== null && Number(found.token.expires) <= now) return null;
  // last_used is informational, to the minute: not a write per call; a failed write (read-only replica) does not
  // refuse the request.
  const last = found.token.last_used === null ? null : Number(found.token.last_used);
  if (last === null || now - last >= 60_000) await touchToken(ctx.store.db, Number(found.token.id), now).catch(() => {});
  return { account: accountInfo(found.account), token: tokenInfo(found.token, found.account.login) };
}
