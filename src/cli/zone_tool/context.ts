// What a command sees while it runs: where to write, whether it may ask questions, the JSON switch, and the
// (lazily opened) service layer. One-shot runs and the shell build the same Context.

import type { StoreLocationArgs } from '../../services/index.js';
import { EX, ZoneToolError, toZoneToolError } from './errors.js';
import { errorText, toJson } from './format.js';

/** Asks one question on the terminal; resolves null when there is no terminal to ask on. */
export type Asker = (prompt: string) => Promise<string | null>;

export interface Context {
  json: boolean;
  /** Running inside the interactive shell. */
  interactive: boolean;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Restricted mode (restricted.ts): helpdesk tier, the restricted editor. */
  restricted: boolean;
  /** Recorded as change_by on every change. */
  changeBy: string;
  location: StoreLocationArgs;
  out(text: string): void;
  err(text: string): void;
  ask: Asker;
  /** Hand the terminal to a child process (editor, pager) and take it back afterwards. */
  withTerminal<T>(fn: () => Promise<T>): Promise<T>;
  /** The service layer bound to the opened store; opened on first use. */
  services(): Promise<import('./services.js').Svc>;
  now(): Date;
}

/** Print a result: JSON when --json, else the text layout (nothing printed for an empty text). */
export function emit(ctx: Context, data: unknown, text: () => string): void {
  if (ctx.json) {
    ctx.out(`${toJson(data)}\n`);
    return;
  }
  const t = text();
  if (t.length > 0) ctx.out(t.endsWith('\n') ? t : `${t}\n`);
}

/** Print an error the one way zone_tool does and return its exit status. */
export function reportError(ctx: Context, e: unknown): number {
  const zerr = toZoneToolError(e);
  if (ctx.json) {
    ctx.out(
      `${toJson({ error: { code: zerr.code, message: zerr.message, exit: zerr.exitCode, details: zerr.details } })}\n`,
    );
  } else {
    let text = '';
    for (const d of zerr.details) text += `${d}\n`;
    text += `${errorText(zerr.message)}\n`;
    ctx.err(text);
  }
  if (zerr.exitCode === EX.SOFTWARE && process.env.ZONE_TOOL_DEBUG && e instanceof Error) ctx.err(`${e.stack}\n`);
  return zerr.exitCode;
}

/** Ask a yes/no question; without a terminal the answer is no unless forced. */
export async function confirm(ctx: Context, force: boolean, what: string): Promise<void> {
  if (force) return;
  const answer = await ctx.ask(`${errorText(`${what} Do really you wish to do this?`)}\n --y/[N]> `);
  if (answer === null) {
    throw new ZoneToolError(`${what} Refusing without a terminal to confirm on; use -f.`, EX.TEMPFAIL, 'NotConfirmed');
  }
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new ZoneToolError('Not done.', EX.TEMPFAIL, 'NotConfirmed');
  }
}
