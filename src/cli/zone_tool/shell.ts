// The interactive shell: `zone_tool > ` prompt with history kept in a file, tab completion of commands and of zone,
// SG, reference and sectag names (from the services), and the same dispatch as one-shot runs.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { splitShellLine } from './argv.js';
import { type Context, reportError } from './context.js';
import { runCommand } from './dispatch.js';
import type { GlobalOptions } from './main.js';
import type { Svc } from './services.js';
import { type ArgKind, allCommandNames, CONFIG_KEYS, findCommand, ZONE_OPTIONS } from './table.js';

export const PROMPT = 'zone_tool > ';
const HISTORY_SIZE = 1000;

/** Where history lives: $ZONE_TOOL_HISTORY, else .zone_tool_history in the data dir (SQLite), else in $HOME. */
export function historyFile(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  if (env.ZONE_TOOL_HISTORY) return env.ZONE_TOOL_HISTORY;
  const usesPostgres = Boolean(opts.location.databaseUrl ?? env.DMS_DATABASE_URL);
  if (!usesPostgres) return join(resolve(opts.location.data ?? env.DMS_DATA_DIR ?? './data'), '.zone_tool_history');
  return join(homedir(), '.zone_tool_history');
}

function loadHistory(file: string): string[] {
  try {
    // File is oldest first; readline wants newest first.
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .slice(-HISTORY_SIZE)
      .reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${[...newestFirst].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    // History is a convenience: an unwritable location must not break the shell.
  }
}

/** Which kind of thing the word being completed is, given the words before it. */
export function completionKind(words: readonly string[]): ArgKind | 'option-value-sg' | 'option-value-reference' | null {
  const cmd = findCommand(words[0]);
  if (!cmd) return null;
  const prev = words[words.length - 1];
  if (words.length > 1 && prev === '-g' && cmd.options.includes('g:')) return 'option-value-sg';
  if (words.length > 1 && prev === '-r' && cmd.options.includes('r:')) return 'option-value-reference';
  // Count positionals already given, skipping options and their values.
  let count = 0;
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('-') && w.length > 1) {
      const letter = w[1];
      if (w.length === 2 && cmd.options.includes(`${letter}:`)) i++;
      continue;
    }
    count++;
  }
  if (cmd.args.length === 0 || count >= cmd.max) return null;
  return cmd.args[Math.min(count, cmd.args.length - 1)];
}

async function candidates(kind: string, prefix: string, svc: () => Promise<Svc>): Promise<string[]> {
  switch (kind) {
    case 'command':
      return allCommandNames();
    case 'zone_option':
      return [...ZONE_OPTIONS];
    case 'config_key':
      return [...CONFIG_KEYS];
    case 'zone':
    case 'deleted_zone': {
      const s = await svc();
      const zones = await s.call('list_zone', {
        pattern: `${prefix.replace(/[*?]/g, '')}*`,
        which: kind === 'deleted_zone' ? 'deleted' : 'active',
        limit: 200,
      });
      return zones.map((z) => z.name);
    }
    case 'sg':
    case 'option-value-sg': {
      const s = await svc();
      return (await s.call('list_sg', {})).map((g) => g.name);
    }
    case 'reference':
    case 'option-value-reference': {
      const s = await svc();
      return (await s.call('list_reference', {})).map((r) => r.name);
    }
    case 'sectag': {
      const s = await svc();
      return s.call('list_sectag', {});
    }
    default:
      return [];
  }
}

/** A single match is a finished word: add the space, as shells do, so the next argument can follow. */
function finish(matches: string[]): string[] {
  return matches.length === 1 ? [`${matches[0]} `] : matches;
}

/** readline completer: commands first, then arguments by kind. Errors just mean no completions. */
export function makeCompleter(svc: () => Promise<Svc>) {
  return (line: string, callback: (err: null, result: [string[], string]) => void): void => {
    let words: string[];
    try {
      words = splitShellLine(line);
    } catch {
      callback(null, [[], line]);
      return;
    }
    const endsWithSpace = line.length === 0 || /\s$/.test(line);
    const current = endsWithSpace ? '' : (words.pop() ?? '');
    if (words.length === 0) {
      callback(null, [finish(allCommandNames().filter((n) => n.startsWith(current))), current]);
      return;
    }
    const kind = completionKind(words);
    if (!kind || kind === 'file' || kind === 'other') {
      callback(null, [[], current]);
      return;
    }
    candidates(kind, current, svc)
      .then((list) => {
        const lc = current.toLowerCase();
        callback(null, [finish(list.filter((c) => c.toLowerCase().startsWith(lc)).sort()), current]);
      })
      .catch(() => callback(null, [[], current]));
  };
}

/** Line reader over readline that also serves questions asked by commands (edit_zone, confirmations). */
class LineReader {
  private queue: string[] = [];
  private waiter: ((l: string | null) => void) | null = null;
  closed = false;
  constructor(
    private readonly rl: Interface,
    /** Prompts only on a terminal: commands piped in give clean output. */
    private readonly showPrompt: boolean,
  ) {
    rl.on('line', (l) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(l);
      } else this.queue.push(l);
    });
    rl.on('close', () => {
      this.closed = true;
      const w = this.waiter;
      this.waiter = null;
      w?.(null);
    });
  }
  read(prompt: string): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    if (this.showPrompt) {
      this.rl.setPrompt(prompt);
      this.rl.prompt();
    }
    return new Promise((res) => {
      this.waiter = res;
    });
  }
}

/** Builds the shell's Context (main.ts's makeContext, passed in so that the shell does not import its caller). */
export type ContextFactory = (opts: GlobalOptions, holder: { get(): Promise<Svc> }, overrides: Partial<Context>) => Context;

export async function runShell(opts: GlobalOptions, holder: { get(): Promise<Svc> }, makeContext: ContextFactory): Promise<number> {
  const env = process.env;
  const histFile = historyFile(opts, env);
  const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal,
    completer: makeCompleter(() => holder.get()),
    history: loadHistory(histFile),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    tabSize: 4,
  });
  rl.on('history', (h: string[]) => saveHistory(histFile, h));
  const reader = new LineReader(rl, terminal);
  // Ctrl-C abandons the line being typed, as in the original cmd-based shell.
  rl.on('SIGINT', () => {
    process.stdout.write('^C\n');
    rl.setPrompt(PROMPT);
    rl.prompt();
  });
  const ctx: Context = makeContext(opts, holder, {
    interactive: true,
    stdinIsTTY: terminal,
    ask: async (prompt) => {
      if (!terminal) return null;
      const answer = await reader.read(prompt);
      // Answers to questions (u/d/e/a, y/n) are not commands: keep them out of the history.
      const h = (rl as unknown as { history?: string[] }).history;
      if (answer !== null && h && h[0] === answer) {
        h.shift();
        saveHistory(histFile, h);
      }
      return answer;
    },
    withTerminal: async (fn) => {
      rl.pause();
      const raw = process.stdin.isTTY ? process.stdin.isRaw : false;
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      try {
        return await fn();
      } finally {
        if (process.stdin.isTTY) process.stdin.setRawMode(raw);
        rl.resume();
      }
    },
  });
  if (terminal) process.stdout.write('Welcome to the zone_tool program. Type help or ? to list commands.\n\n');
  let status = 0;
  for (;;) {
    const line = await reader.read(PROMPT);
    if (line === null) {
      if (terminal) process.stdout.write('\n');
      break;
    }
    let words: string[];
    try {
      words = splitShellLine(line);
    } catch (e) {
      status = reportError(ctx, e);
      continue;
    }
    if (words.length === 0) continue;
    if (words[0] === '?') words[0] = 'help';
    const r = await runCommand(ctx, words);
    status = r.status;
    if (r.exit) break;
  }
  rl.close();
  return terminal ? 0 : status;
}
