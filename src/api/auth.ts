// Who is calling: HTTP Basic (login:password, as the original's Apache front end) or a bearer token, checked against
// the API accounts; failed logins are counted per client address and, past a limit, refused for a while (the
// account is not locked: an attacker cannot lock a real user out from elsewhere). Token scopes are checked per call.

import {
  type Operation,
  PermissionDenied,
  type Principal,
  resolveZoneName,
  type ServiceContext,
  type TokenInfo,
  verifyPassword,
  verifyToken,
} from '../services/index.js';

export type Credentials = { kind: 'basic'; login: string; password: string } | { kind: 'bearer'; token: string };

/** The Authorization header's credentials, undefined when absent or not Basic/Bearer. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme === 'bearer') return { kind: 'bearer', token: m[2] };
  if (scheme !== 'basic') return undefined;
  const text = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { kind: 'basic', login: text.slice(0, colon), password: text.slice(colon + 1) };
}

export async function authenticate(ctx: ServiceContext, c: Credentials): Promise<Principal | null> {
  return c.kind === 'basic' ? verifyPassword(ctx, c.login, c.password) : verifyToken(ctx, c.token);
}

/**
 * Failed logins per source address: more than `limit` within `windowMs` blocks the address for `blockMs` (its
 * correct logins too, so guessing cannot go on behind a few good ones). Memory is bounded: old entries are swept.
 */
export class LoginGuard {
  private readonly fails = new Map<string, { times: number[]; blockedUntil: number }>();
  constructor(
    readonly limit = 10,
    readonly windowMs = 60_000,
    readonly blockMs = 60_000,
  ) {}

  /** Seconds until the address may try again, 0 when it may now. */
  retryAfter(source: string, now = Date.now()): number {
    const e = this.fails.get(source);
    return e && e.blockedUntil > now ? Math.ceil((e.blockedUntil - now) / 1000) : 0;
  }

  failed(source: string, now = Date.now()): void {
    if (this.fails.size > 100_000) this.sweep(now);
    const e = this.fails.get(source) ?? { times: [], blockedUntil: 0 };
    e.times = e.times.filter((t) => t > now - this.windowMs);
    e.times.push(now);
    if (e.times.length > this.limit) e.blockedUntil = now + this.blockMs;
    this.fails.set(source, e);
  }

  succeeded(source: string): void {
    this.fails.delete(source);
  }

  private sweep(now: number): void {
    for (const [k, e] of this.fails) if (e.blockedUntil <= now && e.times.every((t) => t <= now - this.windowMs)) this.fails.delete(k);
  }
}

/** The operations an ACME-only token may call (DNS-01 challenges: TXT records under _acme-challenge). */
export const ACME_OPERATIONS: ReadonlySet<string> = new Set(['update_rrs']);

/** Every record-like object (one with a type and an owner name) anywhere in the parameters. */
function recordsIn(v: unknown, out: { name: unknown; type: unknown }[] = [], depth = 0): { name: unknown; type: unknown }[] {
  if (depth > 8 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) {
    for (const x of v) recordsIn(x, out, depth + 1);
    return out;
  }
  const o = v as Record<string, unknown>;
  if ('type' in o && ('name' in o || 'owner' in o)) out.push({ name: o.name ?? o.owner, type: o.type });
  for (const x of Object.values(o)) recordsIn(x, out, depth + 1);
  return out;
}

function isAcmeRecord(r: { name: unknown; type: unknown }): boolean {
  const typeOk = (typeof r.type === 'string' && r.type.toUpperCase() === 'TXT') || r.type === 16;
  return typeOk && typeof r.name === 'string' && /^_acme-challenge(\.|$)/i.test(r.name.trim());
}

/**
 * The checks a token's scopes add to each call: read-only (no operation that changes anything), ACME-only (the
 * ACME operations, touching only TXT records under _acme-challenge), one zone (the call must name that zone).
 */
export function tokenScopeCheck(ctx: ServiceContext, token: TokenInfo | undefined): ((op: Operation, params: unknown) => Promise<void>) | undefined {
  if (!token || (!token.readOnly && !token.acmeOnly && token.zone === null)) return undefined;
  return async (op, params) => {
    if (token.readOnly && op.mutates) throw new PermissionDenied(`${op.name} (read-only token)`);
    if (token.acmeOnly) {
      if (!ACME_OPERATIONS.has(op.name)) throw new PermissionDenied(`${op.name} (ACME-only token)`);
      const records = recordsIn(params);
      if (records.length === 0 || !records.every(isAcmeRecord))
        throw new PermissionDenied(`${op.name} (ACME-only token: TXT records under _acme-challenge only)`);
    }
    if (token.zone !== null) {
      const zone = (params as Record<string, unknown> | undefined)?.zone;
      let name: string | undefined;
      if (typeof zone === 'string') name = await resolveZoneName(ctx, zone).catch(() => undefined);
      if (name !== token.zone) throw new PermissionDenied(`${op.name} (token limited to zone ${token.zone})`);
    }
  };
}
