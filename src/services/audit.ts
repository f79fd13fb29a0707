// The audit log (issue 16): every change records who (actor), from where (source), when, which operation, which zone,
// the versions before and after, and a summary. Zone changes write their entry in their own transaction
// (core.ts auditChange); an operation that changed something else (server groups, configuration, accounts) gets its
// entry from invoke() once it succeeded (auditOperation).

import { writeTx } from '../store/index.js';
import { insertAudit, auditRows, type AuditRow } from '../store/queries/audit.js';
import { liveZoneId } from '../store/queries/zones.js';
import { nowMs, type ServiceContext, zoneScope } from './context.js';
import { InvalidArgument } from './errors.js';
import { normalizeZoneName } from './names.js';

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  source: string | null;
  operation: string | null;
  zone: string | null;
  ziBefore: number | null;
  ziAfter: number | null;
  kind: string;
  summary: string;
}

function entry(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: new Date(Number(r.at)),
    actor: r.actor,
    source: r.source,
    operation: r.operation,
    zone: r.zone_name,
    ziBefore: r.zi_before,
    ziAfter: r.zi_after,
    kind: r.kind,
    summary: r.summary,
  };
}

/** Entries newest first; a customer sees only entries about its own zones. `before`: the last id of the previous page. */
export async function listAudit(
  ctx: ServiceContext,
  o: { zone?: string; actor?: string; since?: Date; before?: number; limit?: number } = {},
): Promise<AuditEntry[]> {
  const rows = await auditRows(ctx.store.db, zoneScope(ctx), {
    ...(o.zone !== undefined ? { zone: normalizeZoneName(o.zone) } : {}),
    ...(o.actor !== undefined ? { actor: o.actor } : {}),
    ...(o.since !== undefined ? { since: o.since.getTime() } : {}),
    ...(o.before !== undefined ? { before: o.before } : {}),
    limit: o.limit ?? 1000,
  });
  return rows.map(entry);
}

/** "2026-12-01", an ISO time, or an age: 3d, 12h, 30m, 2w ago. */
export function parseSince(ctx: ServiceContext, text: string): Date {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(nowMs(ctx) - Number(m[1]) * unit * 1000);
  }
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new InvalidArgument(`bad time "${text}": a date (2026-12-01), an ISO time or an age (3d, 12h, 2w)`);
  return d;
}

/** Parameters that never go into a summary (secrets, bulky zone text). */
const HIDDEN = /password|secret|token|text|records/i;

/**
 * The entry for a successful mutating operation that wrote none through the zone commit path: the operation and its
 * parameters (secrets and zone text left out), with the zone when one was named.
 */
export async function auditOperation(ctx: ServiceContext, operation: string, params: unknown): Promise<void> {
  const p = (params && typeof params === 'object' ? params : {}) as Record<string, unknown>;
  // Hidden keys are dropped at every depth: a batch (load_zones) carries zone text inside its items.
  const hide = (_k: string, v: unknown) => (HIDDEN.test(_k) ? undefined : v);
  const shown = Object.entries(p)
    .filter(([k, v]) => !HIDDEN.test(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, hide)}`)
    .join(' ')
    .slice(0, 2000);
  let zone: string | null = null;
  if (typeof p.zone === 'string') {
    try {
      zone = normalizeZoneName(p.zone);
    } catch {
      zone = null;
    }
  }
  await writeTx(ctx.store, async (trx) => {
    const zoneId = zone !== null ? ((await liveZoneId(trx, null, zone)) ?? null) : null;
    await insertAudit(trx, {
      at: nowMs(ctx),
      actor: ctx.actor,
      source: ctx.source ?? null,
      operation,
      zone_id: zoneId,
      zone_name: zone,
      zi_before: null,
      zi_after: null,
      kind: 'operation',
      summary: shown ? `${operation} ${shown}` : operation,
    });
  });
  if (ctx.audit) ctx.audit.written++;
}
