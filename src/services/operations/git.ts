// Operations of git mirroring and import (issue 12, docs/GIT.md): git_status, git_push, git_export, git_pull. The
// repository and the zones taking part are configuration keys (set_config git_mirror / git_branch / git_zones /
// git_managed / git_removed / git_poll / git_ssh_key / git_workdir / git_committer).

import { z } from 'zod';
import * as git from '../git/index.js';
import { ADMIN_ONLY, op, STAFF } from './define.js';

const zoneNames = z.array(z.string().min(1).max(1024)).max(100_000);

export const GIT_OPERATIONS = {
  git_status: op({
    name: 'git_status',
    summary: 'Per mirrored or git-managed zone: last pushed commit, last imported commit, pending pushes, last error',
    params: z.object({ zone: z.string().min(1).max(1024).optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => git.gitStatus(ctx, p.zone !== undefined ? { zone: p.zone } : {}),
  }),
  git_push: op({
    name: 'git_push',
    summary: 'Commit and push the published versions not in the repository yet (dmsd does it on every publish)',
    params: z.object({ zones: zoneNames.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => git.gitPush(ctx, p.zones ? { zones: p.zones } : {}),
  }),
  git_export: op({
    name: 'git_export',
    summary: "Write every mirrored zone's published version to the repository as one commit",
    params: z.object({}).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx) => git.gitExport(ctx),
  }),
  git_pull: op({
    name: 'git_pull',
    summary: 'Fetch the repository and import the changed files of git-managed zones: all of them or nothing',
    params: z.object({ force: z.boolean().optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => git.gitPull(ctx, p.force ? { force: true } : {}),
  }),
};
