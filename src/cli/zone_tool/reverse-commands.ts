// zone_tool commands for automatic reverse PTRs (issue 14): refresh_zone_ptrs and check_reverse, and the lines every
// save prints for what its auto-PTR step did. The handlers call src/services/operations/reverse.ts.

import type { ReverseReport } from '../../services/index.js';
import { type CommandSpec, command } from './command-spec.js';
import { type Context, emit } from './context.js';
import type { Handler } from './dispatch.js';
import { OUTPUT_INDENT as I } from './format.js';
import { zoneArg } from './util.js';

export const REVERSE_COMMANDS: readonly CommandSpec[] = [
  command(
    'refresh_zone_ptrs',
    'Re-run the automatic reverse PTR rules over a whole forward zone',
    `Refresh reverse PTRs: refresh_zone_ptrs [-n] <domain-name>

        Every AAAA record (and A record with FORCEREV or TRACKREV, or every A
        record when auto_reverse_ipv4 is set) gets a PTR in the most specific
        reverse zone holding its address, when that zone has inc_updates and
        the privilege rules allow it; FORCEREV and TRACKREV replace a PTR
        naming something else; LOCKPTR PTRs are left alone.

        -n  dry run: list the changes without making them`,
    { options: 'n', long: { n: 'dry-run' }, min: 1, max: 1, args: ['zone'] },
  ),
  command(
    'check_reverse',
    'List forward address records whose reverse PTR is missing or wrong',
    `Check reverse PTRs: check_reverse [-v] <domain-name>

        Lists each A/AAAA record of the zone whose PTR is missing, names
        another host, or whose address no reverse zone holds.

        -v  list the records whose PTR is right too`,
    { options: 'v', min: 1, max: 1, args: ['zone'] },
  ),
];

/** One line per PTR change and per skip of a save's auto-PTR step. */
function reverseReportLines(r: ReverseReport | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  for (const c of r.changes)
    out.push(`auto PTR: ${c.action} ${c.ptr} -> ${c.forward} in ${c.zone}${c.previous?.length ? ` (was ${c.previous.join(', ')})` : ''}`);
  for (const k of r.skipped) out.push(`auto PTR: ${k.reason} ${k.address} (${k.forward}): ${k.message}`);
  if (r.skippedMore) out.push(`auto PTR: ${r.skippedMore} more skipped`);
  return out;
}

/** Print what a save's auto-PTR step did (text mode; JSON output carries it in the result). */
export function printReverseReport(ctx: Context, r: ReverseReport | undefined): void {
  if (ctx.json) return;
  const lines = reverseReportLines(r);
  if (lines.length > 0) ctx.out(`${lines.map((l) => `${I}${l}`).join('\n')}\n`);
}

const refreshZonePtrs: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zone = await zoneArg(ctx, a.positional[0]);
  const r = await s.call('refresh_zone_ptrs', { zone, dryRun: a.opts.n === true });
  emit(ctx, r, () => {
    const lines: string[] = [];
    // The dry run as a diff of the reverse zones: what would go, what would come.
    for (const c of r.changes) {
      for (const p of c.previous ?? []) lines.push(`${I}-${c.ptr} PTR ${p}   (${c.zone})`);
      if (c.action !== 'remove') lines.push(`${I}+${c.ptr} PTR ${c.forward}   (${c.zone})`);
    }
    for (const k of r.skipped) lines.push(`${I}skipped ${k.address} (${k.forward}): ${k.reason}: ${k.message}`);
    if (r.skippedMore) lines.push(`${I}${r.skippedMore} more skipped`);
    lines.push(`${I}${r.dryRun ? 'dry run: ' : ''}${r.changes.length} PTR change(s)${r.dryRun ? ' would be made' : ''}, ${r.skipped.length + (r.skippedMore ?? 0)} skipped`);
    return lines.join('\n');
  });
  return 0;
};

const checkReverse: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const zone = await zoneArg(ctx, a.positional[0]);
  const r = await s.call('check_reverse', { zone, all: a.opts.v === true });
  emit(ctx, r, () =>
    [
      ...r.items.map(
        (i) =>
          `${I}${i.status.padEnd(16)} ${i.forward} ${i.type} ${i.address}${i.ptr ? ` -> ${i.ptr}` : ''}${i.targets?.length ? ` (PTR ${i.targets.join(', ')})` : ''}`,
      ),
      `${I}${r.problems} problem(s)`,
    ].join('\n'),
  );
  return 0;
};

export const REVERSE_HANDLERS: Record<string, Handler> = {
  refresh_zone_ptrs: refreshZonePtrs,
  check_reverse: checkReverse,
};
