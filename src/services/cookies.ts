// The DNS Cookie secret shared by every dmsd of an installation (RFC 9018 §5), kept in the database and rotated:
// a new secret is added when the newest is `rotationMs` old; it is accepted by everyone at once (each process reads
// the secrets every minute) but used to make cookies only once it is ACTIVATION_MS old, by which time every process
// has read it; the secret it replaces stays accepted (cookies live an hour at most; it is dropped a rotation later).

import { cookieSecretRows, deleteCookieSecretsBefore, insertCookieSecret } from '../store/queries/cookies.js';
import { type ServiceContext, nowMs } from './context.js';

const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');

/** A new secret is used for new cookies this long after it was stored (every process re-reads every minute). */
export const COOKIE_SECRET_ACTIVATION_MS = 5 * 60 * 1000;
/** Default rotation period: a day. */
export const COOKIE_SECRET_ROTATION_MS = 24 * 3600 * 1000;

export interface CookieSecretSet {
  /** Makes new cookies. */
  current: Uint8Array;
  /** Still accepted: the one `current` replaced. */
  previous?: Uint8Array;
  /** Accepted, not yet used to make cookies (stored less than ACTIVATION_MS ago). */
  next?: Uint8Array;
}

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

/**
 * The secrets in force, rotating (adding a fresh random secret) when there is none or the newest is older than
 * `rotationMs`, and forgetting those older than the previous one.
 */
export async function dnsCookieSecrets(ctx: ServiceContext, o: { rotationMs?: number } = {}): Promise<CookieSecretSet> {
  const now = nowMs(ctx);
  const rotation = Math.max(o.rotationMs ?? COOKIE_SECRET_ROTATION_MS, 2 * COOKIE_SECRET_ACTIVATION_MS);
  let rows = await cookieSecretRows(ctx.store.db);
  const newest = rows.at(-1);
  if (!newest || newest.created <= now - rotation) {
    // Two processes may rotate at once: both secrets are kept and all agree on the newest.
    await insertCookieSecret(ctx.store.db, now, crypto().randomBytes(16).toString('hex'));
    rows = await cookieSecretRows(ctx.store.db);
  }
  // The very first secret of an installation is used at once: no cookie of any other exists yet.
  let ci = rows.length - 1;
  while (ci > 0 && rows[ci].created > now - COOKIE_SECRET_ACTIVATION_MS) ci--;
  const out: CookieSecretSet = { current: bytes(rows[ci].secret) };
  if (ci > 0) out.previous = bytes(rows[ci - 1].secret);
  if (ci < rows.length - 1) out.next = bytes(rows[rows.length - 1].secret);
  if (ci > 1) await deleteCookieSecretsBefore(ctx.store.db, rows[ci - 1].created);
  return out;
}
