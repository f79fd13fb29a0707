// zone_tool entry point: global options, then either one command from argv (one-shot) or the interactive shell.
// Kept light: the store, services and readline are imported only when a command needs them, so one-shot commands
// start fast.

import { userInfo, hostname } from 'node:os';
import type { StoreLocationArgs } from '../../store/index.js';
import type { Asker, Context } from './context.js';
import { runCommand } from './dispatch.js';
import { EX } from './errors.js';
import { errorText } from './format.js';
import type { Svc } from './services.js';

export const USAGE = `Usage: zone_tool [--data DIR] [--database-url URL] [--config FILE] [--json] [<command> [args...]]

Without a command, starts the interactive shell (prompt 'zone_tool > ').
  --data DIR          SQLite data directory (env DMS_DATA_DIR, default ./data)
  --database-url URL  PostgreSQL URL (env DMS_DATABASE_URL)
  --config FILE       configuration file
  --json              machine-readable output
Type 'zone_tool help' for the list of commands, 'zone_tool help <command>' for one.
`;

export interface GlobalOptions {
  location: StoreLocationArgs;
  json: boolean;
  help: boolean;
  /** The command and its arguments (global options removed). */
  rest: string[];
}

const VALUE_OPTIONS: Record<string, keyof StoreLocationArgs> = {
  '--data': 'data',
  '--database-url': 'databaseUrl',
  '--config': 'config',
};

/**
 * Pull the global long options out of argv wherever they appear (before a `--`); no command has long options of
 * its own, so this is unambiguous.
 */
export function parseGlobalOptions(argv: readonly string[]): GlobalOptions {
  const location: StoreLocationArgs = {};
  const rest: string[] = [];
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const key = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (key in VALUE_OPTIONS) {
      let value: string | undefined;
      if (eq > 0 && a.startsWith('--')) value = a.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined || value === '') throw new Error(`option ${key} needs a value`);
      location[VALUE_OPTIONS[key]] = value;
    } else if (a === '--json') {
      json = true;
    } else if ((a === '--help' || a === '-h') && rest.length === 0) {
      help = true;
    } else {
      rest.push(a);
    }
  }
  return { location, json, help, rest };
}

function defaultChangeBy(env: NodeJS.ProcessEnv): string {
  let user = env.USER ?? env.LOGNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}/Admin`;
}

/** Lazily opened services shared by every command of one process. */
class ServiceHolder {
  private opening: Promise<{ svc: Svc; close: () => Promise<void> }> | undefined;
  constructor(
    private readonly location: StoreLocationArgs,
    private readonly env: NodeJS.ProcessEnv,
  ) {}
  async get(): Promise<Svc> {
    if (!this.opening) {
      this.opening = import('./services.js').then((m) => m.openServices(this.location, this.env));
      // A failed open is reported once per command; let the next command try again.
      this.opening.catch(() => {
        this.opening = undefined;
      });
    }
    return (await this.opening).svc;
  }
  async close(): Promise<void> {
    if (!this.opening) return;
    try {
      const s = await this.opening;
      await s.close();
    } catch {
      // opening failed: nothing to close
    }
  }
}

async function askOnTerminal(prompt: string): Promise<string | null> {
  if (!process.stdin.isTTY) return null;
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  try {
    return await new Promise<string | null>((resolve) => {
      rl.once('close', () => resolve(null));
      rl.question(prompt, (a) => resolve(a));
    });
  } finally {
    rl.close();
  }
}

export function makeContext(
  opts: GlobalOptions,
  holder: { get(): Promise<Svc> },
  overrides: Partial<Context> = {},
): Context {
  const ask: Asker = askOnTerminal;
  return {
    json: opts.json,
    interactive: false,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    changeBy: process.env.DMS_CHANGE_BY ?? defaultChangeBy(process.env),
    location: opts.location,
    out: (t) => {
      process.stdout.write(t);
    },
    err: (t) => {
      process.stderr.write(t);
    },
    ask,
    withTerminal: (fn) => fn(),
    services: () => holder.get(),
    now: () => new Date(),
    ...overrides,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let opts: GlobalOptions;
  try {
    opts = parseGlobalOptions(argv);
  } catch (e) {
    process.stderr.write(`${errorText((e as Error).message)}\n${USAGE}`);
    return EX.USAGE;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const holder = new ServiceHolder(opts.location, process.env);
  try {
    if (opts.rest.length > 0) {
      const ctx = makeContext(opts, holder);
      const r = await runCommand(ctx, opts.rest);
      return r.status;
    }
    const { runShell } = await import('./shell.js');
    return await runShell(opts, holder);
  } finally {
    await holder.close();
  }
}

// Run when executed directly (bin/zone_tool imports this module and calls main itself).
export async function runMain(): Promise<void> {
  // A closed pipe (zone_tool ls | head) is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const status = await main(process.argv.slice(2));
  process.exitCode = status;
}
