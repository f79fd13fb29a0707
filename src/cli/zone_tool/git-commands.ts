// zone_tool commands for git mirroring and import (issue 12, docs/GIT.md): git_status, git_push, git_export, git_pull.
// The table entries are spread into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS.

import type { GitImportReport, GitPushReport, GitStatus } from '../../services/index.js';
import { type CommandSpec, command } from './command-spec.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';

export const GIT_COMMANDS: readonly CommandSpec[] = [
  command(
    'git_status',
    'Show the git state of mirrored and git-managed zones',
    `Show the git state: git_status [zone-name]

        Per zone: the last commit that carried its version to the
        repository, the last commit imported from it, the published
        versions not pushed yet and the last error. Configure with
        set_config git_mirror / git_branch / git_zones / git_managed.`,
    { max: 1, args: ['zone'] },
  ),
  command('git_push', 'Commit and push the versions not in the repository yet', 'Push now: git_push [zone-name ...]', { max: 1000, args: ['zone'] }),
  command('git_export', 'Write every mirrored zone to the repository as one commit', 'Export: git_export'),
  command(
    'git_pull',
    'Import the changed files of git-managed zones from the repository',
    `Import now: git_pull [-f]

        Fetches git_branch of git_mirror and imports every changed file of a
        git-managed zone: all of them, or nothing when any file has an error
        (each reported with file, line and column).
        -f  the branch was rewritten (force-push): take it as it is, every
            file compared with DMS's zone.`,
    { options: 'f' },
  ),
];

const short = (s: string | null) => (s ? s.slice(0, 12) : '-');
const when = (d: Date | null) => (d ? d.toISOString() : '-');

function statusText(r: GitStatus): string {
  if (!r.repository) return '        git: no repository configured (set_config git_mirror <path or URL>)';
  const lines = [`        repository ${r.repository} branch ${r.branch} head ${short(r.remoteHead)}${r.lastError ? `\n        last error: ${r.lastError}` : ''}`];
  for (const z of r.zones)
    lines.push(
      `        ${z.zone.padEnd(32)} ${z.managed ? 'managed ' : 'mirrored'} pushed ${short(z.lastPushedCommit)} (${when(z.lastPushed)}) imported ${short(z.lastImportedCommit)} pending ${z.pendingPushes}${z.lastError ? `\n            error: ${z.lastError}` : ''}`,
    );
  return lines.join('\n');
}

const pushText = (r: GitPushReport) => `        ${r.commits} commit(s) pushed${r.head ? `, head ${short(r.head)}` : ''}${r.zones.length ? `: ${r.zones.length} zone(s)` : ''}`;
const pullText = (r: GitImportReport) =>
  [
    `        commit ${short(r.commit)}: ${r.zones.length} change(s)`,
    ...r.zones.map((z) => `        ${z.zone} ${z.action}${z.version !== undefined ? ` version ${z.version}` : ''}${z.by ? ` by ${z.by}` : ''}`),
    ...r.conflicts.map((c) => `        conflict: ${c} kept as DMS has it (see git_status)`),
  ].join('\n');

export const GIT_HANDLERS: Record<string, Handler> = {
  git_status: async (ctx, a) => {
    const s = await ctx.services();
    const r = await s.call('git_status', a.positional[0] !== undefined ? { zone: a.positional[0] } : {});
    emit(ctx, r, () => statusText(r));
    return 0;
  },
  git_push: async (ctx, a) => {
    const s = await ctx.services();
    const r = await s.call('git_push', a.positional.length ? { zones: a.positional } : {});
    emit(ctx, r, () => pushText(r));
    return 0;
  },
  git_export: async (ctx) => {
    const r = await (await ctx.services()).call('git_export', {});
    emit(ctx, r, () => pushText(r));
    return 0;
  },
  git_pull: async (ctx, a) => {
    const r = await (await ctx.services()).call('git_pull', a.opts.f ? { force: true } : {});
    emit(ctx, r, () => pullText(r));
    return 0;
  },
};
