// The shape of a zone_tool command's table entry, and the one factory every command file makes its entries with.

/** What a positional argument is, for tab completion. */
export type ArgKind =
  | 'zone'
  | 'deleted_zone'
  | 'file'
  | 'sg'
  | 'reference'
  | 'sectag'
  | 'zone_option'
  | 'config_key'
  | 'command'
  | 'other';

export interface CommandSpec {
  name: string;
  aliases: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Full help, as printed by `help <command>` (already indented like the original docstrings). */
  help: string;
  /** getopt letters; a colon marks an option with a value. */
  options: string;
  /** Long option names (without "--") for some of the letters: --read-only for -r. */
  long?: Readonly<Record<string, string>>;
  min: number;
  max: number;
  /** Completion kind of each positional; the last one repeats for variadic commands. */
  args: readonly ArgKind[];
}

/** A table entry; `help` is indented like the original docstrings. */
export function command(
  name: string,
  summary: string,
  help: string,
  o: {
    options?: string;
    long?: Readonly<Record<string, string>>;
    min?: number;
    max?: number;
    args?: readonly ArgKind[];
    aliases?: readonly string[];
  } = {},
): CommandSpec {
  return {
    name,
    aliases: o.aliases ?? [],
    summary,
    help: `\n        ${help.trim()}\n`,
    options: o.options ?? '',
    ...(o.long ? { long: o.long } : {}),
    min: o.min ?? 0,
    max: o.max ?? 0,
    args: o.args ?? [],
  };
}
