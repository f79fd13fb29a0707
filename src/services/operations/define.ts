// What an operation is: one management action with a name, its parameters as a zod schema, the tiers that may call
// it and the service call that does it. zone_tool commands, JSON-RPC methods and the web UI are derived from the one
// table of them (operations/index.ts); adding an operation is one entry there plus its service function.

import type { z } from 'zod';
import type { ServiceContext, Tier } from '../context.js';

export type { Tier };

export interface Operation<P extends z.ZodType = z.ZodType, R = unknown> {
  /** The JSON-RPC method name (the original DMS API's where it had one) and the operations table key. */
  readonly name: string;
  /** One line: what it does (zone_tool help, OpenRPC summary). */
  readonly summary: string;
  /** The named parameters; validated before `run`, errors reported with the field path. */
  readonly params: P;
  /** Who may call it. Customers see only their own zones (the services scope every read by the context's tenant). */
  readonly tiers: readonly Tier[];
  /** Changes stored data: refused to read-only tokens and on a read-only replica. */
  readonly mutates: boolean;
  run(ctx: ServiceContext, params: z.output<P>): Promise<R>;
}

/** Typed identity: lets TypeScript infer P and R for each table entry. */
export function op<P extends z.ZodType, R>(o: Operation<P, R>): Operation<P, R> {
  return o;
}

export const ALL_TIERS: readonly Tier[] = ['admin', 'helpdesk', 'customer'];
export const STAFF: readonly Tier[] = ['admin', 'helpdesk'];
export const ADMIN_ONLY: readonly Tier[] = ['admin'];
