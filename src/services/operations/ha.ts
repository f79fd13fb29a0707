// High availability operations (issue 13, docs/HA.md): promote a replica (a PostgreSQL hot standby) to primary.
// show_dms_status (admin.ts) lists the instances and which one leads.

import { z } from 'zod';
import { promoteReplica } from '../ha.js';
import { ADMIN_ONLY, type Operation, op } from './define.js';

export const HA_OPERATIONS = {
  promote_replica: op({
    name: 'promote_replica',
    summary: 'Promote this PostgreSQL hot standby to primary (pg_promote) and raise the fencing epoch; its dmsd become writable and one leads',
    params: z
      .object({
        /** Seconds to wait for the end of recovery. */
        wait: z.number().int().min(1).max(3600).default(60),
        /** The database was promoted by hand (pg_ctl promote): only raise the epoch. */
        force: z.boolean().default(false),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    // It changes the database, but it is the one change a replica accepts: the read-only refusal comes from the
    // database (SQLSTATE 25006), which pg_promote does not meet.
    mutates: true,
    run: (ctx, p) => promoteReplica(ctx, { waitSeconds: p.wait, force: p.force }),
  }),
} satisfies Record<string, Operation>;
