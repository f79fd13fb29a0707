// Argument handling shared by one-shot argv and shell lines: a shell line is split with POSIX-like quoting into the
// same argv a shell would have produced, then both go through one GNU-getopt style option parser.

import type { CommandSpec } from './command-spec.js';
import { EX, ZoneToolError } from './errors.js';

/**
 * Split an interactive line into words: whitespace separates, '...' is literal, "..." allows \" \\ \$ escapes,
 * a backslash outside quotes escapes the next character. Unterminated quotes are a usage error.
 */
export function splitShellLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        words.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ZoneToolError('unterminated single quote', EX.USAGE, 'UsageError');
      cur += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          cur += line[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) throw new ZoneToolError('unterminated double quote', EX.USAGE, 'UsageError');
    } else if (c === '\\') {
      if (i + 1 < line.length) cur += line[i + 1];
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

export interface ParsedArgs {
  /** Option letter → value (for options taking one) or true. */
  opts: Record<string, string | true>;
  positional: string[];
}

/**
 * GNU getopt: `spec` is like "r:g:ivf" (a colon marks an option taking a value). Options may appear anywhere
 * before `--`; clustered flags (-fi) and attached values (-rREF) work. Words that look like negative ZI
 * adjustments ("^-", "12-3") are positional because they do not start with '-'.
 */
export function getopt(args: readonly string[], spec: string, command: string, long: Readonly<Record<string, string>> = {}): ParsedArgs {
  const takesValue = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (ch === ':') continue;
    takesValue.set(ch, spec[i + 1] === ':');
  }
  const opts: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    // A lone '-' means stdin for file arguments; '-5' style words are not options of any command here.
    if (a.length < 2 || a[0] !== '-' || /^-\d/.test(a)) {
      positional.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      // --name / --name=value / --name value: a long spelling of one of the command's letters (`long`).
      const eq = a.indexOf('=');
      const letter = long[eq < 0 ? a.slice(2) : a.slice(2, eq)];
      const tv = letter === undefined ? undefined : takesValue.get(letter);
      if (letter === undefined || tv === undefined) throw new ZoneToolError(`${command}: unknown option '${eq < 0 ? a : a.slice(0, eq)}'`, EX.USAGE, 'UsageError');
      if (!tv) {
        if (eq >= 0) throw new ZoneToolError(`${command}: option '${a.slice(0, eq)}' takes no value`, EX.USAGE, 'UsageError');
        opts[letter] = true;
      } else if (eq >= 0) opts[letter] = a.slice(eq + 1);
      else if (i + 1 < args.length) opts[letter] = args[++i];
      else throw new ZoneToolError(`${command}: option '${a}' needs a value`, EX.USAGE, 'UsageError');
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const ch = a[j];
      const tv = takesValue.get(ch);
      if (tv === undefined) {
        throw new ZoneToolError(`${command}: unknown option '-${ch}'`, EX.USAGE, 'UsageError');
      }
      if (!tv) {
        opts[ch] = true;
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest.length > 0) {
        opts[ch] = rest;
      } else if (i + 1 < args.length) {
        opts[ch] = args[++i];
      } else {
        throw new ZoneToolError(`${command}: option '-${ch}' needs a value`, EX.USAGE, 'UsageError');
      }
      break;
    }
  }
  return { opts, positional };
}

/** The option letters a command's line is read with: its own, and those of its original spellings (`compat`). */
export function optionSpec(cmd: CommandSpec): string {
  const own = new Set(cmd.options.replace(/:/g, ''));
  let spec = cmd.options;
  for (const l of cmd.compat?.ignore ?? '') if (!own.has(l)) spec += l;
  for (const l of Object.keys(cmd.compat?.optionArg ?? {})) if (!own.has(l)) spec += `${l}:`;
  return spec;
}

/** The original's spellings (`compat`) turned into the command's own: flags dropped, options and arguments moved. */
export function originalSpelling(cmd: CommandSpec, args: ParsedArgs): ParsedArgs {
  const c = cmd.compat;
  if (!c) return args;
  const own = new Set(cmd.options.replace(/:/g, ''));
  const opts = { ...args.opts };
  const positional = [...args.positional];
  for (const l of c.ignore ?? '') if (!own.has(l)) delete opts[l];
  for (const [l, index] of Object.entries(c.optionArg ?? {})) {
    const v = opts[l];
    if (own.has(l) || typeof v !== 'string') continue;
    delete opts[l];
    if (index < 0) positional.push(v);
    else positional.splice(Math.min(index, positional.length), 0, v);
  }
  const letters = c.argOption ?? [];
  let k = 0;
  while (k < letters.length && k < positional.length && /^\d+$/.test(positional[k]) && opts[letters[k]] === undefined) k++;
  for (let i = 0; i < k; i++) opts[letters[i]] = positional[i];
  return { opts, positional: positional.slice(k) };
}
