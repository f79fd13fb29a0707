// The operations table: every management action DMS offers, by name. zone_tool's commands, the JSON-RPC methods and
// the web UI call `invoke` / `call` and nothing else, so validation, privilege tiers and the service rules are the
// same whichever way a change comes in.

import type { z } from 'zod';
import type { ServiceContext } from '../context.js';
import { InvalidParams, isReadOnlyError, PermissionDenied, ReadOnlyReplica, UnknownOperation } from '../errors.js';
import type { Operation } from './define.js';
import { ACCOUNT_OPERATIONS } from './accounts.js';
import { ADMIN_OPERATIONS } from './admin.js';
import { BACKUP_OPERATIONS } from './backup.js';
import { DNSSEC_OPERATIONS } from './dnssec.js';
import { GIT_OPERATIONS } from './git.js';
import { HA_OPERATIONS } from './ha.js';
import { auditOperation } from '../audit.js';
import { withOperation } from '../context.js';
import { PRIMARY_OPERATIONS } from './primary.js';
import { QUERY_ACL_OPERATIONS } from './query-acl.js';
import { REVERSE_OPERATIONS } from './reverse.js';
import { SERVER_OPERATIONS } from './servers.js';
import { SG_CONFIG_OPERATIONS } from './sg-config.js';
import { SG_TEMPLATE_OPERATIONS } from './sg-templates.js';
import { ZONE_OPERATIONS } from './zones.js';

export { ADMIN_ONLY, ALL_TIERS, op, type Operation, STAFF, type Tier } from './define.js';

export const OPERATIONS = {
  ...ZONE_OPERATIONS,
  ...ADMIN_OPERATIONS,
  ...PRIMARY_OPERATIONS,
  ...SERVER_OPERATIONS,
  ...DNSSEC_OPERATIONS,
  ...ACCOUNT_OPERATIONS,
  ...BACKUP_OPERATIONS,
  ...REVERSE_OPERATIONS,
  ...SG_CONFIG_OPERATIONS,
  ...SG_TEMPLATE_OPERATIONS,
  ...QUERY_ACL_OPERATIONS,
  ...GIT_OPERATIONS,
  ...HA_OPERATIONS,
} as const;

type Table = typeof OPERATIONS;
export type OperationName = keyof Table;
/** What a caller passes (before defaults and coercions). */
export type OperationParams<K extends OperationName> = z.input<Table[K]['params']>;
export type OperationResult<K extends OperationName> = Awaited<ReturnType<Table[K]['run']>>;

const byName: ReadonlyMap<string, Operation> = new Map(Object.entries(OPERATIONS) as [string, Operation][]);

/** Every operation, for the API's method list and the OpenRPC document. */
export function listOperations(): Operation[] {
  return [...byName.values()];
}

export function findOperation(name: string): Operation | undefined {
  return byName.get(name);
}

/** zod issues → field paths ("records[3].ttl") and messages. */
function problemsOf(error: z.ZodError<unknown>): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n > 0 ? '.' : ''}${String(p)}`)).join(''),
    message: i.message,
  }));
}

/**
 * Run an operation by name with untyped parameters (JSON-RPC, the web UI): unknown names, tiers that may not call
 * it and parameters that do not fit are refused before anything is read.
 */
export async function invoke(ctx: ServiceContext, name: string, params: unknown): Promise<unknown> {
  const o = byName.get(name);
  if (!o) throw new UnknownOperation(name);
  if (!o.tiers.includes(ctx.tenant.tier)) throw new PermissionDenied(name);
  const parsed = o.params.safeParse(params ?? {});
  if (!parsed.success) throw new InvalidParams(name, problemsOf(parsed.error));
  const run = withOperation(ctx, name);
  let result: unknown;
  try {
    result = await o.run(run, parsed.data);
  } catch (e) {
    // A hot standby refuses every write with SQLSTATE 25006: said in the catalogue's words (issue 13).
    if (isReadOnlyError(e) && !(e instanceof ReadOnlyReplica)) throw new ReadOnlyReplica();
    throw e;
  }
  // A change the zone commit path did not audit (server groups, configuration, accounts) is audited here.
  if (o.mutates && run.audit?.written === 0) await auditOperation(run, name, parsed.data);
  return result;
}

/** The typed form of `invoke`, for zone_tool and tests. */
export function call<K extends OperationName>(ctx: ServiceContext, name: K, params: OperationParams<K>): Promise<OperationResult<K>> {
  return invoke(ctx, name, params) as Promise<OperationResult<K>>;
}
