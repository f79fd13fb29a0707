// Who calls a service, on which store, at what time. Every exported service function takes a ServiceContext first:
// the actor becomes change_by (and the audit entry's actor), the tenant scopes which zones exist for the caller, the
// clock is the time of the operation (injected so tests and replays need not wait for real time).

import type { Store } from '../store/index.js';
import type { KekSource } from './kek.js';

export type Tier = 'admin' | 'helpdesk' | 'customer';

/** Who is acting, seen from the tenancy rules: the privilege tier and, for customers, the security tag whose zones they may see. */
export interface Tenant {
  readonly tier: Tier;
  readonly sectag: string | null;
}

export interface Clock {
  now(): Date;
}

export interface ServiceContext {
  readonly store: Store;
  /** Recorded as change_by (ZI) and, later, as the audit entry's actor: "user@host/Admin", "login/sectag", a TSIG key name… */
  readonly actor: string;
  readonly tenant: Tenant;
  readonly clock: Clock;
  /** Where the request came from (IP address, "cli", …), for the audit log. */
  readonly source?: string;
  /** The DNSSEC key-encryption key (kek.ts), loaded only when a private key is sealed or opened; none: DNSSEC key
   *  operations fail with DnssecKekUnavailable. */
  readonly kek?: KekSource;
  /** The operation being run (operations table name, "rfc2136_update"…), for the audit log. */
  readonly operation?: string;
  /**
   * How many audit entries this call wrote: invoke() gives each call a fresh counter and, when a mutating operation
   * changed nothing that the zone commit path audits (server groups, configuration, accounts), writes the entry itself.
   */
  readonly audit?: { written: number };
  /**
   * The first-run set-up (src/api/setup.ts): create_api_account succeeds only while no admin-tier account exists,
   * checked in the transaction that inserts the account, so that of two concurrent set-ups exactly one wins.
   */
  readonly firstAdminOnly?: boolean;
}

export const ADMIN: Tenant = Object.freeze({ tier: 'admin', sectag: null });

export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** The actor when a caller names none: DMS acting on its own (dmsd's imports, vacuum, server-group apex refresh). */
export const SYSTEM_ACTOR = 'dms';

export function serviceContext(
  store: Store,
  o: { actor?: string; tenant?: Tenant; clock?: Clock; source?: string; kek?: KekSource; operation?: string; firstAdminOnly?: boolean } = {},
): ServiceContext {
  const tenant = o.tenant ?? ADMIN;
  if (tenant.tier === 'customer' && !tenant.sectag) throw new Error('a customer tenant needs a security tag');
  return Object.freeze({
    store,
    actor: o.actor ?? SYSTEM_ACTOR,
    tenant,
    clock: o.clock ?? systemClock,
    ...(o.source !== undefined ? { source: o.source } : {}),
    ...(o.kek !== undefined ? { kek: o.kek } : {}),
    ...(o.operation !== undefined ? { operation: o.operation } : {}),
    ...(o.firstAdminOnly ? { firstAdminOnly: true } : {}),
  });
}

/** The same caller acting under another name, e.g. an UPDATE signed by a TSIG key. */
export function withActor(ctx: ServiceContext, actor: string): ServiceContext {
  return Object.freeze({ ...ctx, actor });
}

/** The same caller running one operation: named in the audit log, with a fresh count of the entries written. */
export function withOperation(ctx: ServiceContext, operation: string): ServiceContext {
  return Object.freeze({ ...ctx, operation, audit: { written: 0 } });
}

/** The zones the caller sees (store/queries/zones.ts ZoneScope): a customer only those with its tag, others all. */
export function zoneScope(ctx: ServiceContext): string | null {
  return ctx.tenant.tier === 'customer' ? ctx.tenant.sectag : null;
}

/** The time of the operation in ms since the epoch (what the store's time columns hold). */
export function nowMs(ctx: ServiceContext): number {
  return ctx.clock.now().getTime();
}
