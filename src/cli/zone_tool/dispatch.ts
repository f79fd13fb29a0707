// One path for every command, whether it came from argv or from a shell line: look it up in the table, parse its
// options and count its arguments, run its handler, turn any failure into one message and an exit status.

import { getopt, optionSpec, originalSpelling, type ParsedArgs } from './argv.js';
import { type Context, reportError } from './context.js';
import { EX, ZoneToolError } from './errors.js';
import { findCommand, helpIndex, usageLine } from './table.js';

export type Handler = (ctx: Context, args: ParsedArgs) => Promise<number | undefined>;

/** Outcome of one command: its exit status and whether the shell should end. */
export interface RunResult {
  status: number;
  exit: boolean;
}

function helpText(topic: string | undefined): string {
  if (!topic) return helpIndex();
  const cmd = findCommand(topic);
  if (!cmd) throw new ZoneToolError(`No help on '${topic}'.`, EX.USAGE, 'UnknownCommand');
  return cmd.help;
}

export async function runCommand(ctx: Context, argv: readonly string[]): Promise<RunResult> {
  if (argv.length === 0) return { status: 0, exit: false };
  const [name, ...rest] = argv;
  try {
    const cmd = findCommand(name);
    if (!cmd) {
      throw new ZoneToolError(
        `Unknown command '${name}'. Type 'help' for a list of commands.`,
        EX.USAGE,
        'UnknownCommand',
      );
    }
    const args = originalSpelling(cmd, getopt(rest, optionSpec(cmd), cmd.name, cmd.long));
    const n = args.positional.length;
    if (n < cmd.min || n > cmd.max) {
      const what = n < cmd.min ? 'too few arguments' : 'too many arguments';
      throw new ZoneToolError(`${cmd.name}: ${what}. Usage: ${usageLine(cmd)}`, EX.USAGE, 'UsageError');
    }
    if (cmd.name === 'exit') return { status: 0, exit: true };
    if (cmd.name === 'help') {
      const text = helpText(args.positional[0]);
      if (ctx.json) {
        const topic = args.positional[0];
        ctx.out(
          `${JSON.stringify(topic ? { command: findCommand(topic)?.name, help: text } : { help: text }, null, 2)}\n`,
        );
      } else {
        ctx.out(text.endsWith('\n') ? text : `${text}\n`);
      }
      return { status: 0, exit: false };
    }
    const { HANDLERS } = await import('./handlers.js');
    const handler = HANDLERS[cmd.name];
    if (!handler) {
      throw new ZoneToolError(`${cmd.name}: not available in this build`, EX.UNAVAILABLE, 'NotImplemented');
    }
    const status = (await handler(ctx, args)) ?? 0;
    return { status, exit: false };
  } catch (e) {
    return { status: reportError(ctx, e), exit: false };
  }
}
