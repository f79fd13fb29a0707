// The original zone_tool's commands for machinery DMS does not have (a hidden BIND master driven by rndc, rsync and
// ssh to the secondaries, a syslog table in the database, database-wide ZI ids). An operator who types one is told
// what DMS does instead, rather than "Unknown command": exit 0 where the command's purpose is met without it (there is nothing to
// reconfigure, restore or vacuum), EX_UNAVAILABLE (69) where what it made does not exist here (a script waiting for
// an rndc.conf learns that it will not come). The table entries are spread into table.ts's COMMANDS and the handlers
// into handlers.ts's HANDLERS.

import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX } from './errors.js';
import { wrap } from './format.js';
import { type CommandSpec, command } from './command-spec.js';

/** The option letters the original read for every command (its one getopt), each accepted here and ignored. */
const ORIGINAL_OPTIONS = 'aofg:ijn:pr:tuvz:';

interface Retired {
  name: string;
  /** What the command did in the original (its summary line). */
  was: string;
  /** What DMS does instead: printed, and the help text. */
  instead: string;
  /** 0: the purpose is met without it; EX.UNAVAILABLE: what it made does not exist in DMS. */
  exit: number;
  /** The original's synopsis (its arguments and option letters are accepted and ignored). */
  synopsis: string;
}

const RETIRED: readonly Retired[] = [
  {
    name: 'reconfig_master',
    was: "Reconfigure the master DNS server ('rndc reconfig')",
    instead:
      'dmsd is itself the primary DNS server: a change to a zone, a key or a transfer rule takes effect when it is committed, with nothing to reconfigure. reconfig_sg and reconfig_all publish the secondaries\' configuration.',
    exit: EX.OK,
    synopsis: 'reconfig_master',
  },
  {
    name: 'reset_master',
    was: 'Reset the master state machine (MasterSM) after a lost HOLD timeout',
    instead:
      'DMS has no master state machine holding reconfigurations back: reconfig_sg and reconfig_all publish at once, and show_master_status shows each server group\'s state.',
    exit: EX.OK,
    synopsis: 'reset_master',
  },
  {
    name: 'restore_named_db',
    was: "Rewrite the master named's zone files and configuration from the database",
    instead: 'dmsd serves every zone from the database itself: there are no zone files of a master named to restore. refresh_all tells every secondary again.',
    exit: EX.OK,
    synopsis: 'restore_named_db',
  },
  {
    name: 'vacuum_syslog',
    was: 'Age the syslog messages kept in the database',
    instead:
      'DMS keeps no syslog table: dmsd writes its log as JSON lines to standard output (journald keeps and ages them). vacuum_all ages the audit log (audit_max_age), the events and the old ZIs.',
    exit: EX.OK,
    synopsis: 'vacuum_syslog [-fv] [age-days]',
  },
  {
    name: 'write_rndc_conf',
    was: 'Write the rndc configuration and key for the master and its servers',
    instead:
      'DMS does not drive its servers with rndc: it tells them of changes with NOTIFY, and each server reloads the configuration reconfig_sg publishes (or fetches it from GET /config/<server>). generate_tsig_key makes the keys for transfers and UPDATE.',
    exit: EX.UNAVAILABLE,
    synopsis: 'write_rndc_conf',
  },
  {
    name: 'rsync_server_admin_config',
    was: 'Send a server its configuration files by rsync',
    instead:
      "DMS does not rsync to its servers: reconfig_server publishes a server's configuration, or the server fetches it from GET /config/<server> (docs/SERVER-GROUPS.md).",
    exit: EX.UNAVAILABLE,
    synopsis: 'rsync_server_admin_config <server-name> [no_rndc]',
  },
  {
    name: 'create_zi_zone',
    was: 'Create a zone from a ZI given by its database-wide id',
    instead:
      "DMS numbers each zone's ZIs 1, 2, 3... within the zone, so a ZI is named with its zone: copy_zone -z <zi-id> <src-domain-name> <domain-name> makes a zone from a ZI of another (with the same -g, -i, -r and zone options).",
    exit: EX.UNAVAILABLE,
    synopsis: 'create_zi_zone [-g <sg-name>] [-i] [-r reference] <zi-id> <domain-name> [zone-option] ...',
  },
  {
    name: 'set_server_ssh_address',
    was: "Set the address the master reaches a server's ssh/rsync on",
    instead:
      "DMS does not reach its servers by ssh: set_server_address sets the address they are NOTIFYed and checked at, and a server's configuration goes out with reconfig_server or GET /config/<server>.",
    exit: EX.UNAVAILABLE,
    synopsis: 'set_server_ssh_address <server-name> <ssh-address>',
  },
];

const verdict = (r: Retired) => (r.exit === EX.OK ? 'nothing to do in DMS' : 'not in DMS');
const INDENT = '        ';

export const ORIGINAL_COMMANDS: readonly CommandSpec[] = RETIRED.map((r) =>
  command(r.name, `(original DMS) ${r.was}: ${verdict(r)}`, `${r.was}: ${r.synopsis}\n\n${wrap(r.instead, INDENT, INDENT, 72)}`, {
    options: ORIGINAL_OPTIONS,
    max: Number.POSITIVE_INFINITY,
    args: ['other'],
  }),
);

export const ORIGINAL_HANDLERS: Record<string, Handler> = Object.fromEntries(
  RETIRED.map((r): [string, Handler] => [
    r.name,
    async (ctx) => {
      emit(ctx, { command: r.name, inDms: false, instead: r.instead }, () => `${INDENT}${r.name}: ${verdict(r)}\n${wrap(r.instead, INDENT, INDENT, 72)}`);
      return r.exit;
    },
  ]),
);
