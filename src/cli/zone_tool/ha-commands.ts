// zone_tool commands for high availability (issue 13, docs/HA.md): promote_replica. Spread into table.ts's COMMANDS
// and handlers.ts's HANDLERS; the handler calls the operation of src/services/operations/ha.ts.

import { type CommandSpec, command } from './command-spec.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { OUTPUT_INDENT as I } from './format.js';

export const HA_COMMANDS: readonly CommandSpec[] = [
  command(
    'promote_replica',
    'Promote the replica (PostgreSQL hot standby) to primary',
    `Promote the replica: promote_replica [-f]

        Run against the standby's database (--database-url of the replica
        site). Calls pg_promote() and waits for the end of recovery, then
        raises the fencing epoch in the promoted database: the dmsd on it
        notice within a second that it is writable, one of them takes the
        lead (NOTIFYs, signing), and the old primary's dmsd, when they see
        this database with --peer-database-url, refuse to lead.

        -f  the database was already promoted by hand (pg_ctl promote):
            only raise the epoch.`,
    { options: 'f', long: { f: 'force' }, min: 0, max: 0 },
  ),
];

const promoteReplica: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('promote_replica', { force: a.opts.f === true });
  emit(ctx, r, () => {
    const lines = [`${I}${r.promoted ? 'promoted' : 'epoch raised'}: now a primary at epoch ${r.epoch} (${r.ms} ms)`];
    const b = r.before;
    if (b)
      lines.push(
        `${I}before: ${b.lagSeconds} s behind the primary${b.replayPaused ? ', WAL replay was PAUSED (resumed for the promotion)' : ''}; received ${b.receivedLsn ?? '-'}, replayed ${b.replayedLsn ?? '-'} (${b.replayBehindBytes} bytes to replay), receiver ${b.receiver ?? 'not running'}`,
      );
    if (r.replayedLsn !== undefined)
      lines.push(
        `${I}recovery ended at ${r.replayedLsn ?? '-'}: ${r.allReceivedReplayed === false ? 'NOT every received WAL record was replayed' : 'every WAL record received from the primary was replayed'}`,
      );
    if (b && b.lagSeconds >= 1)
      lines.push(`${I}with asynchronous replication, changes the primary acknowledged in its last ${b.lagSeconds} s may be missing here (docs/HA.md)`);
    return lines.join('\n');
  });
  return 0;
};

export const HA_HANDLERS: Record<string, Handler> = {
  promote_replica: promoteReplica,
};
