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
  /** The original zone_tool's spellings of this command's arguments, taken as well (dispatch.ts applies them). */
  compat?: OriginalSpelling;
}

/**
 * The original zone_tool read one set of option letters for every command and ignored the ones a command did not
 * use, so its users' scripts pass `-f` (force) to commands that ask nothing and give some arguments as options
 * (`set_zone_sg -g sg zone`) or options as arguments (`vacuum_zis 30`).
 */
export interface OriginalSpelling {
  /** Flags accepted with no effect here (the original's -f where DMS asks no question, -v where it shows no more). */
  ignore?: string;
  /** An option of the original whose value is the positional argument at this index (-1: appended). */
  optionArg?: Readonly<Record<string, number>>;
  /** Whole-number positional arguments, from the first, that the original read as these options, in order. */
  argOption?: readonly string[];
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
    compat?: OriginalSpelling;
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
    ...(o.compat ? { compat: o.compat } : {}),
  };
}
