// edit_zone and edit_apex_ns: take the edit lock through the services, hand a temp file to $VISUAL/$EDITOR, then
// validate, show the diff and ask before saving. Without a terminal on stdin nothing is asked: a valid edit is
// saved, an invalid one fails and the lock is released.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Context } from './context.js';
import { printReverseReport } from './reverse-commands.js';
import { emit } from './context.js';
import { unifiedDiff } from '../../services/textdiff.js';
import { EX, printWarnings, reportUnchanged, ZoneToolError, toZoneToolError } from './errors.js';
import { errorText } from './format.js';
import { restrictedEditor } from './restricted.js';
import { ziArg } from './util.js';

/** Editors known to take '+line' to place the cursor. */
const LINE_AWARE = /^(vi|vim|nvim|rvim|view|nano|rnano|emacs|emacsclient|joe|jed|mg|micro|kak|hx)$/;

function editorCommand(ctx: Context): string {
  // Restricted mode: never the user's choice (an editor that can run a shell would undo the restriction).
  if (ctx.restricted) return restrictedEditor(ctx.env);
  return ctx.env.VISUAL?.trim() || ctx.env.EDITOR?.trim() || 'vi';
}

/** Run the editor on `file` with the terminal; resolves its exit status. */
async function runEditor(ctx: Context, file: string, line?: number): Promise<number> {
  const editor = editorCommand(ctx);
  const prog = basename(editor.split(/\s+/)[0]);
  const args = line && LINE_AWARE.test(prog) ? [`+${line}`, file] : [file];
  return ctx.withTerminal(
    () =>
      new Promise<number>((resolve, reject) => {
        // Through sh so that EDITOR may carry its own arguments ("emacs -nw", "sed -i s/a/b/").
        const child = spawn('/bin/sh', ['-c', `${editor} "$@"`, 'editor', ...args], { stdio: 'inherit', env: ctx.env });
        child.on('error', reject);
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      }),
  );
}

interface Problem {
  file?: string;
  line?: number;
  column?: number;
  message: string;
  severity?: string;
}

function problemsOf(e: unknown): Problem[] | null {
  const p = (e as { problems?: unknown }).problems;
  return Array.isArray(p) ? (p as Problem[]) : null;
}

function problemLines(problems: Problem[], file: string): string[] {
  return problems
    .filter((p) => p.severity !== 'warning')
    .map((p) => `${[file, p.line || undefined, p.column || undefined].filter((x) => x !== undefined).join(':')}: ${p.message}`);
}

async function choose(ctx: Context, prompt: string, allowed: string, dflt: string): Promise<string> {
  for (;;) {
    const answer = await ctx.ask(prompt);
    if (answer === null) return 'a';
    const c = answer.trim().toLowerCase()[0] ?? dflt;
    if (allowed.includes(c)) return c;
  }
}

export async function editZoneCommand(ctx: Context, name: string, ziText?: string): Promise<number> {
  const s = await ctx.services();
  const interactive = ctx.stdinIsTTY;
  const session = await s.call('edit_zone', { zone: name });
  let released = false;
  const cancel = async () => {
    if (released) return;
    released = true;
    try {
      await s.call('cancel_edit_zone', { zone: name, token: session.token });
    } catch {
      // The lock may already be gone (expired or cleared); nothing more to undo.
    }
  };
  let dir: string | undefined;
  let keepFile = false;
  // Tickle the lock while the operator edits, so a long edit does not lose it.
  const tickle = session.lock
    ? setInterval(() => {
        s.call('tickle_editlock', { zone: name, token: session.token }).catch(() => undefined);
      }, 60_000)
    : undefined;
  tickle?.unref();
  try {
    // zone_tool asks for text (the default format); the records format never comes here.
    let original = 'text' in session ? session.text : '';
    if (ziText !== undefined) {
      const sel = await ziArg(ctx, name, ziText);
      if (sel !== undefined) {
        const shown = await s.call('show_zone', { zone: name, zi: sel });
        original = shown.text ?? '';
      }
    }
    dir = await mkdtemp(join(tmpdir(), 'zone_tool-'));
    const file = join(dir, `${name}zone`);
    await writeFile(file, original);
    const before = await stat(file);
    let cursor: number | undefined;
    for (;;) {
      const status = await runEditor(ctx, file, cursor);
      if (status !== 0) {
        await cancel();
        throw new ZoneToolError(`Editor exited with '${status}' - zone '${name}' not changed.`, EX.SOFTWARE, 'EditorFailed');
      }
      const edited = await readFile(file, 'utf8');
      const now = await stat(file);
      if (edited === original && now.mtimeMs === before.mtimeMs) {
        ctx.err(`${errorText(`File '${file}' unchanged after editing - exiting.`)}\n`);
        await cancel();
        return 0;
      }
      if (interactive) {
        const diff = unifiedDiff(original, edited, `${name} (zi ${session.baseVersion})`, `${name} (edited)`);
        ctx.out(diff.length > 0 ? diff : `${errorText('No differences.')}\n`);
        const c = await choose(
          ctx,
          `${errorText(`Do you wish to Update, see the Diff, Edit again or Abort the zone '${name}'?`)}\n--[U]/d/e/a> `,
          'udeac',
          'u',
        );
        if (c === 'a') {
          await cancel();
          ctx.err(`${errorText(`Edit of zone '${name}' aborted - nothing saved.`)}\n`);
          return EX.TEMPFAIL;
        }
        if (c === 'e' || c === 'c') continue;
        if (c === 'd') {
          // Shown again on request; then ask once more by looping without re-editing.
          ctx.out(diff);
          const c2 = await choose(ctx, '--[U]/e/a> ', 'uea', 'u');
          if (c2 === 'a') {
            await cancel();
            ctx.err(`${errorText(`Edit of zone '${name}' aborted - nothing saved.`)}\n`);
            return EX.TEMPFAIL;
          }
          if (c2 === 'e') continue;
        }
      }
      try {
        const r = await s.call('update_zone_text', { zone: name, text: edited, token: session.token });
        released = true;
        emit(ctx, r, () => '');
        printWarnings(ctx, r.warnings, basename(file));
        printReverseReport(ctx, r.reverse);
        reportUnchanged(ctx, name, r);
        return 0;
      } catch (e) {
        const problems = problemsOf(e);
        if (!problems) {
          // Token refused, conflict, zone gone: the edit cannot be saved; keep the operator's text.
          keepFile = true;
          const z = toZoneToolError(e);
          await cancel();
          throw new ZoneToolError(`${z.message} (your edit is kept in ${file})`, z.exitCode, z.code, z.details);
        }
        const lines = problemLines(problems, file);
        const msg = `Zone '${name}' has ${lines.length} error(s) - not saved.`;
        if (!interactive) {
          await cancel();
          throw new ZoneToolError(msg, EX.DATAERR, 'ZONE_VALIDATION_FAILED', lines);
        }
        ctx.err(`${lines.join('\n')}\n${errorText(msg)}\n`);
        const c = await choose(ctx, `${errorText('(E)dit again / (A)bort?')}\n--[E]/a> `, 'ea', 'e');
        if (c === 'a') {
          await cancel();
          return EX.DATAERR;
        }
        cursor = problems.find((p) => p.line)?.line;
      }
    }
  } finally {
    if (tickle) clearInterval(tickle);
    if (dir && !keepFile) await rm(dir, { recursive: true, force: true });
  }
}

export async function editApexNsCommand(ctx: Context, sgArg: string | undefined): Promise<number> {
  const s = await ctx.services();
  const { sg: sgName, apexNs } = await s.call('show_apex_ns', sgArg !== undefined ? { sg: sgArg } : {});
  const dir = await mkdtemp(join(tmpdir(), 'zone_tool-'));
  try {
    const file = join(dir, `${sgName}.apex_ns_servers`);
    const original = apexNs.map((n) => `${n}\n`).join('');
    await writeFile(file, original);
    const status = await runEditor(ctx, file);
    if (status !== 0) throw new ZoneToolError(`Editor exited with '${status}'.`, EX.SOFTWARE, 'EditorFailed');
    const edited = await readFile(file, 'utf8');
    if (edited === original) {
      ctx.err(`${errorText(`File '${file}' unchanged after editing - exiting.`)}\n`);
      return 0;
    }
    // The file's form: one name per line, ';' or '#' starts a comment. The service makes the names absolute and
    // gives every use_apex_ns zone of the group the new set as a new ZI.
    const names = edited
      .split('\n')
      .map((l) => l.replace(/[;#].*$/, '').trim())
      .filter((l) => l.length > 0);
    const { sg: updated, refreshed } = await s.call('set_sg_apex_ns', { sg: sgName, apexNs: names });
    emit(ctx, { sg: updated, refreshed }, () => '');
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
