// JSON-RPC 2.0 over the operations table: requests, batches and notifications; the standard errors; DMS catalogue
// errors mapped by their kind, carrying data.exception_type (the catalogue code), the message and the details (the
// field paths of bad parameters, the line and record of zone-file problems). No HTTP here: server.ts feeds it the
// parsed body and the caller's context, so it is tested the same way every URL uses it.

import {
  actorOf,
  DmsError,
  ERROR_KIND,
  type ErrorKind,
  findOperation,
  InvalidParams,
  invoke,
  type Operation,
  PermissionDenied,
  type ServiceContext,
  UnknownOperation,
  withActor,
} from '../services/index.js';
import { type OperationCaller, originalCall } from './original.js';

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/** Server-defined codes (-32000..-32099) for each kind of catalogue error. */
export const KIND_CODE: Readonly<Record<ErrorKind, number>> = {
  invalid: -32000,
  not_found: -32001,
  exists: -32002,
  in_use: -32003,
  unavailable: -32004,
  conflict: -32005,
  denied: -32006,
  internal: INTERNAL_ERROR,
};
/** Not logged in, or the login failed (HTTP 401), or too many failures (HTTP 429). */
export const AUTH_REQUIRED = -32010;
export const RATE_LIMITED = -32011;

export type Id = string | number | null;

export interface RpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

export type RpcResponse = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: RpcError };

export interface RpcOptions {
  /** Methods offered here (null: all); others are "method not found", as in the original's per-URL scripts. */
  methods: ReadonlySet<string> | null;
  /** One of the original DMS's URLs: calls in the original's form are read as the original's (original.ts). */
  original?: boolean;
  /** Checks a call may have to pass before it runs (token scopes): throw a DmsError to refuse. */
  check?: (op: Operation, params: unknown) => Promise<void>;
  /** Told every call's outcome (metrics, logs). */
  onCall?: (method: string, outcome: 'ok' | number, ms: number) => void;
  /** Told unexpected errors (logged; the client sees only "internal error"). */
  onInternal?: (err: unknown, method: string) => void;
  batchLimit: number;
}

export function rpcError(id: Id, code: number, message: string, data?: Record<string, unknown>): RpcResponse {
  return { jsonrpc: '2.0', id, error: data ? { code, message, data } : { code, message } };
}

/** A catalogue error's own fields (zone, problems, lockedBy...) as the error's details. */
function detailsOf(err: DmsError): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (k !== 'code' && k !== 'name' && k !== 'message' && k !== 'stack') out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A thrown error as the JSON-RPC error of the call. */
export function errorOf(err: unknown): RpcError | undefined {
  if (!(err instanceof DmsError)) return undefined;
  const data: Record<string, unknown> = { exception_type: err.code, name: err.name, message: err.message };
  const details = detailsOf(err);
  if (details) data.details = details;
  if (err instanceof InvalidParams) {
    data.problems = err.problems;
    return { code: INVALID_PARAMS, message: err.message, data };
  }
  if (err.code === 'UNKNOWN_OPERATION') return { code: METHOD_NOT_FOUND, message: err.message, data };
  return { code: KIND_CODE[ERROR_KIND[err.code]] ?? INTERNAL_ERROR, message: err.message, data };
}

function isId(v: unknown): v is Id {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** One call; undefined for a notification (no id member), which gets no answer whatever happens. */
async function one(ctx: ServiceContext, req: unknown, o: RpcOptions): Promise<RpcResponse | undefined> {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) return rpcError(null, INVALID_REQUEST, 'invalid request: a JSON-RPC 2.0 request is an object');
  const r = req as Record<string, unknown>;
  const hasId = Object.hasOwn(r, 'id');
  const id: Id = hasId && isId(r.id) ? r.id : null;
  if (hasId && !isId(r.id)) return rpcError(null, INVALID_REQUEST, 'invalid request: id must be a string, a number or null');
  if (r.jsonrpc !== '2.0') return rpcError(id, INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"');
  if (typeof r.method !== 'string' || r.method === '') return rpcError(id, INVALID_REQUEST, 'invalid request: "method" must be a non-empty string');
  for (const k of Object.keys(r))
    if (k !== 'jsonrpc' && k !== 'method' && k !== 'params' && k !== 'id') return rpcError(id, INVALID_REQUEST, `invalid request: unknown member "${k}"`);
  const method = r.method;
  const started = performance.now();
  const answer = (res: RpcResponse): RpcResponse | undefined => {
    o.onCall?.(method, 'error' in res ? res.error.code : 'ok', performance.now() - started);
    return hasId ? res : undefined;
  };
  const offered = o.methods === null || o.methods.has(method);
  const original = o.original && offered ? originalCall(method, r.params, ctx.tenant.tier) : undefined;
  const op = offered && !original ? findOperation(method) : undefined;
  if (!op && !original) return answer(rpcError(id, METHOD_NOT_FOUND, `method not found: ${method}`, { exception_type: 'UNKNOWN_OPERATION' }));
  const params = r.params;
  if (!original) {
    if (params !== undefined && (params === null || typeof params !== 'object'))
      return answer(rpcError(id, INVALID_REQUEST, 'invalid request: "params" must be an object (named parameters)'));
    if (Array.isArray(params) && params.length > 0)
      return answer(
        rpcError(id, INVALID_PARAMS, `${method}: positional parameters are not supported: pass them by name`, {
          exception_type: 'INVALID_PARAMS',
          problems: [{ path: '', message: 'expected an object of named parameters' }],
        }),
      );
  }
  // Every operation a call runs (one, or several for a call in the original's form) passes the tier and scope checks.
  const run: OperationCaller = async (name, p) => {
    const target = findOperation(name);
    if (!target) throw new UnknownOperation(name);
    if (!target.tiers.includes(ctx.tenant.tier)) throw new PermissionDenied(name);
    await o.check?.(target, p);
    return invoke(callCtx, name, p);
  };
  // The original's login_id: the panel's user, whose changes are recorded as "<login_id>/<sectag>" (as the original
  // did; the sectag is the account's, so a customer account cannot write another tenant's name).
  const callCtx = original?.loginId !== undefined ? withActor(ctx, actorOf(original.loginId, ctx.tenant)) : ctx;
  try {
    const result = original ? await original.run(run) : await run(method, Array.isArray(params) || params === undefined ? {} : (params as Record<string, unknown>));
    return answer({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
  } catch (err) {
    const e = errorOf(err);
    if (e) return answer({ jsonrpc: '2.0', id, error: e });
    o.onInternal?.(err, method);
    return answer(rpcError(id, INTERNAL_ERROR, 'internal error', { exception_type: 'INTERNAL_ERROR' }));
  }
}

/**
 * Answer a parsed body: a request, or a batch run in order. Returns undefined when there is nothing to answer
 * (notifications only): the HTTP layer then answers 204.
 */
export async function handleRpc(ctx: ServiceContext, body: unknown, o: RpcOptions): Promise<RpcResponse | RpcResponse[] | undefined> {
  if (!Array.isArray(body)) return one(ctx, body, o);
  if (body.length === 0) return rpcError(null, INVALID_REQUEST, 'invalid request: empty batch');
  if (body.length > o.batchLimit)
    return rpcError(null, INVALID_REQUEST, `invalid request: batch of ${body.length} calls; at most ${o.batchLimit} per request`, {
      exception_type: 'BATCH_TOO_LARGE',
      limit: o.batchLimit,
    });
  const out: RpcResponse[] = [];
  for (const req of body) {
    const r = await one(ctx, req, o);
    if (r) out.push(r);
  }
  return out.length > 0 ? out : undefined;
}

/** JSON for results: bytes as base64, names and other value classes by their text form. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (value instanceof Map) return Object.fromEntries(value);
    if (value instanceof Set) return [...value];
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null && typeof (value as { toString?: unknown }).toString === 'function' && proto.toString !== Object.prototype.toString)
        return String(value);
    }
    return value;
  });
}
