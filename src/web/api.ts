// The UI's only way to the server: JSON-RPC 2.0 on /jsonrpc with the session cookie and its CSRF header, and
// /session to log in and out. Nothing here imports server code (scripts/check-layers.mjs: web imports nothing).

export interface Me {
  login: string;
  tier: 'admin' | 'helpdesk' | 'customer';
  sectag: string | null;
  csrf: string;
  expiresAt: string;
}

/** A problem the server found, with where: a parameter path (records[0].rdata) or a zone-file line. */
export interface Problem {
  path?: string;
  message: string;
  line?: number;
  column?: number;
  severity?: string;
}

export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly type: string,
    readonly data: Record<string, unknown> = {},
    readonly status = 200,
  ) {
    super(message);
  }

  /** Parameter or zone-file problems, wherever the error kind keeps them. */
  get problems(): Problem[] {
    const d = this.data as { problems?: Problem[]; details?: { problems?: Problem[] } };
    return d.problems ?? d.details?.problems ?? [];
  }

  get details(): Record<string, unknown> {
    return ((this.data as { details?: Record<string, unknown> }).details ?? {}) as Record<string, unknown>;
  }

  /** The session is gone (expired, logged out elsewhere, dmsd restarted). */
  get loggedOut(): boolean {
    return this.status === 401;
  }
}

let csrf = '';
let onLoggedOut: () => void = () => {};

export function setSession(me: Me | null): void {
  csrf = me?.csrf ?? '';
}

/** Called when a call finds the session gone: the app asks to log in again, keeping the screen (and typed text). */
export function whenLoggedOut(f: () => void): void {
  onLoggedOut = f;
}

let nextId = 1;

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results are typed by the caller
export async function rpc<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  let r: Response;
  try {
    r = await fetch('/jsonrpc', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-dms-csrf': csrf },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
  } catch (e) {
    throw new RpcError(`the server cannot be reached: ${(e as Error).message}`, -1, 'NETWORK');
  }
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON
  let body: any;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new RpcError(`unexpected answer (HTTP ${r.status})`, -1, 'HTTP', {}, r.status);
  }
  if (body.error) {
    const e = new RpcError(body.error.message, body.error.code, body.error.data?.exception_type ?? 'ERROR', body.error.data ?? {}, r.status);
    if (e.loggedOut) onLoggedOut();
    throw e;
  }
  return body.result as T;
}

async function sessionCall(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch('/session', {
    method,
    credentials: 'same-origin',
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), 'x-dms-csrf': csrf },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {} };
}

export async function currentSession(): Promise<Me | null> {
  const r = await sessionCall('GET');
  return r.status === 200 ? (r.body as unknown as Me) : null;
}

export async function login(loginName: string, password: string): Promise<Me> {
  const r = await sessionCall('POST', { login: loginName, password });
  if (r.status !== 200) throw new Error((r.body.error as { message?: string } | undefined)?.message ?? `login failed (HTTP ${r.status})`);
  return r.body as unknown as Me;
}

/** Whether dmsd offers the first-run set-up (no admin account yet, and it printed a set-up token). */
export async function setupNeeded(): Promise<boolean> {
  try {
    const r = await fetch('/setup', { credentials: 'same-origin' });
    return r.status === 200 && (await r.json()).needed === true;
  } catch {
    return false;
  }
}

/** The first-run set-up: the first admin account, logged in; a refusal carries the server's message and field problems. */
export async function firstRunSetup(token: string, loginName: string, password: string): Promise<Me> {
  const r = await fetch('/setup', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, login: loginName, password }),
  });
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON
  let body: any = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: the status says it
  }
  if (r.status !== 200) {
    const e = body.error ?? {};
    throw new RpcError(e.message ?? `set-up failed (HTTP ${r.status})`, -1, e.exception_type ?? 'HTTP', { problems: e.problems ?? [] }, r.status);
  }
  return body as Me;
}

export async function logout(): Promise<void> {
  await sessionCall('DELETE');
  csrf = '';
}
