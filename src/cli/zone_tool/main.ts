// zone_tool entry point: global options, then either one command from argv (one-shot) or the interactive shell.
// Kept light: the store, services and readline are imported only when a command needs them, so one-shot commands
// start fast.

import { writeSync } from 'node:fs';
import { userInfo, hostname } from 'node:os';
import type { StoreLocationArgs } from '../../services/index.js';
import type { Asker, Context } from './context.js';
import { runCommand } from './dispatch.js';
import { EX } from './errors.js';
import { errorText } from './format.js';
import type { Svc } from './services.js';
import { zoneToolMode } from './restricted.js';

export const USAGE = `Usage: zone_tool [--data DIR] [--database-url URL] [--config FILE] [--json] [<command> [args...]]

Without a command, starts the interactive shell (prompt 'zone_tool > ').
  --data DIR          SQLite data directory (env DMS_DATA_DIR, default ./data)
  --database-url URL  PostgreSQL URL (env DMS_DATABASE_URL)
  --config FILE       configuration file
  --dnssec-kek FILE   DNSSEC key-encryption key (env DMS_DNSSEC_KEK, default DIR/dnssec-kek)
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
  '--dnssec-kek': 'dnssecKek',
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

/**
 * Who zone_tool acts as (change_by): DMS_CHANGE_BY, else user@host/Admin; in restricted mode always
 * user@host/Helpdesk (a restricted user does not choose the name recorded for its changes).
 */
export function changeByOf(env: NodeJS.ProcessEnv, restricted = false): string {
  if (restricted) return defaultChangeBy(env).replace(/\/Admin$/, '/Helpdesk');
  return env.DMS_CHANGE_BY ?? defaultChangeBy(env);
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
    private readonly restricted = false,
  ) {}
  async get(): Promise<Svc> {
    if (!this.opening) {
      this.opening = import('./services.js').then((m) =>
        m.openServices(this.location, this.env, changeByOf(this.env, this.restricted), this.restricted ? 'helpdesk' : 'admin'),
      );
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

// A one-shot command is mostly start-up, so it avoids what it does not need: node:tty (and with it node:net and
// node:stream, ~8 ms) is loaded only when a command asks whether it talks to a terminal, and output is written
// straight to the file descriptor instead of through process.stdout, whose first use builds a tty or pipe stream.
const isatty = (fd: number): boolean => process.getBuiltinModule('node:tty').isatty(fd);

let streamOutput = false;

/**
 * Write all of `text` to fd 1 or 2, synchronously and in order (as Node's own stdout/stderr are on Linux for files,
 * pipes and terminals). A closed pipe (zone_tool ls | head) ends the process quietly; a non-blocking descriptor
 * that fills up hands the rest, and all later output, to Node's streams, which wait for it.
 */
export function writeOut(fd: 1 | 2, text: string): void {
  if (streamOutput) {
    (fd === 1 ? process.stdout : process.stderr).write(text);
    return;
  }
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (code !== 'EAGAIN') throw e;
      streamOutput = true;
      (fd === 1 ? process.stdout : process.stderr).write(buf);
      return;
    }
  }
}

async function askOnTerminal(prompt: string): Promise<string | null> {
  if (!isatty(0)) return null;
  const { createInterface } = process.getBuiltinModule('node:readline');
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
    get stdinIsTTY() {
      return isatty(0);
    },
    get stdoutIsTTY() {
      return isatty(1);
    },
    env: process.env,
    restricted: overrides.restricted ?? false,
    changeBy: changeByOf(process.env, overrides.restricted ?? false),
    location: opts.location,
    out: (t) => writeOut(1, t),
    err: (t) => writeOut(2, t),
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
    writeOut(2, `${errorText((e as Error).message)}\n${USAGE}`);
    return EX.USAGE;
  }
  if (opts.help) {
    writeOut(1, USAGE);
    return 0;
  }
  // Restricted mode (the original's): a user in none of admin_group_list's groups acts as the helpdesk tier.
  const { restricted } = zoneToolMode(process.env, opts.location.config);
  const holder = new ServiceHolder(opts.location, process.env, restricted);
  const contextOf: typeof makeContext = (o, h, overrides = {}) => makeContext(o, h, { restricted, ...overrides });
  try {
    if (opts.rest.length > 0) {
      const ctx = contextOf(opts, holder);
      const r = await runCommand(ctx, opts.rest);
      return r.status;
    }
    // The shell writes through process.stdout (readline does): all output takes that one path.
    streamOutput = true;
    // A closed pipe (zone_tool < cmds | head) is not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
    const { runShell } = await import('./shell.js');
    return await runShell(opts, holder, contextOf);
  } finally {
    await holder.close();
  }
}

// Run when executed directly (bin/zone_tool imports this module and calls main itself).
export async function runMain(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2));
}
