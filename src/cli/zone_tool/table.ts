// The command table: names, aliases, option letters, argument counts and help texts (the original zone_tool's
// wording and synopses). It drives one-shot argv parsing, the shell, help and tab completion. Implementations live
// in handlers.ts so that help and completion load nothing heavy.

import { type ArgKind, type CommandSpec, command, type OriginalSpelling } from './command-spec.js';
import { API_COMMANDS } from './api-commands.js';
import { BACKUP_COMMANDS } from './backup-commands.js';
import { HA_COMMANDS } from './ha-commands.js';
import { REVERSE_COMMANDS } from './reverse-commands.js';
import { DNSSEC_COMMANDS } from './dnssec-commands.js';
import { PRIMARY_COMMANDS } from './primary-commands.js';
import { QUERY_ACL_COMMANDS } from './query-acl-commands.js';
import { SERVER_COMMANDS } from './server-commands.js';
import { SG_CONFIG_COMMANDS } from './sg-config-commands.js';
import { SG_TEMPLATE_COMMANDS } from './sg-template-commands.js';
import { GIT_COMMANDS } from './git-commands.js';
import { ORIGINAL_COMMANDS } from './original-commands.js';

export type { ArgKind, CommandSpec };

export const ZONE_OPTIONS = [
  'use_apex_ns',
  'edit_lock',
  'auto_dnssec',
  'nsec3',
  'inc_updates',
  'no_use_apex_ns',
  'no_edit_lock',
  'no_auto_dnssec',
  'no_nsec3',
  'no_inc_updates',
  'def_use_apex_ns',
  'def_edit_lock',
  'def_auto_dnssec',
  'def_nsec3',
  'def_inc_updates',
] as const;

export const CONFIG_KEYS = [
  'default_sg',
  'default_ref',
  'auto_dnssec',
  'edit_lock',
  'edit_lock_timeout',
  'inc_updates',
  'nsec3',
  'use_apex_ns',
  'soa_mname',
  'soa_rname',
  'soa_refresh',
  'soa_retry',
  'soa_expire',
  'soa_minimum',
  'soa_ttl',
  'zone_ttl',
  'event_max_age',
  'audit_max_age',
  'syslog_max_age',
  'zi_max_num',
  'zi_max_age',
  'zone_del_age',
  'zone_del_pare_age',
  'replica_max_lag',
  'auto_reverse_ipv4',
  'dnssec_secure_to_insecure',
  'max_records_per_type',
  'max_types_per_name',
  'notify_delay',
  'git_mirror',
  'git_branch',
  'git_committer',
  'git_zones',
  'git_managed',
  'git_poll',
  'git_removed',
  'git_ssh_key',
  'git_workdir',
] as const;

const INF = Number.POSITIVE_INFINITY;

const ZONE_OPTION_HELP = `zone-option:   use_apex_ns|auto_dnssec|edit_lock|nsec3
                                |inc_updates   (no_xxx clears, def_xxx
                                takes the configured default)
                                        up to 5 times`;

const ZI_SELECTOR_HELP = `zi-id forms:    123       a ZI id
                        ^         the published ZI
                        ^- ^--    1, 2 ZIs before the published one
                        ^-3 ^+2   3 before, 2 after the published one
                        123-2     2 ZIs before ZI 123
                        @3d       the ZI in use 3 days ago (s,m,h,d,w)
                        DD/MM/YYYY[,hh:mm]  YYYY-MM-DD[,hh:mm]
                        DD/MM     hh:mm[am|pm]`;

const c = command;

const TABLE: readonly CommandSpec[] = [
  // --- zones ---------------------------------------------------------------------------------------------------
  c(
    'ls',
    'List zones/domains (+ wildcards)',
    `List zones/domains (+ wildcards):

        ls [-tv] [-r reference] [-g sg_name] [domain-name] [domain-name] ...

        where:  domain-name     domain name with * or ? wildcards as needed,
                                or an IP address/network to find its
                                reverse zone
                reference       reference
                sg_name         server group name
                -t              show active (enabled) zones only
                -v              verbose output`,
    { options: 'tvr:g:', max: INF, args: ['zone'], aliases: ['list_zone'] },
  ),
  c(
    'ls_deleted',
    'List deleted zones/domains (+ wildcards)',
    `List deleted zones/domains (+ wildcards):

        ls_deleted [-v] [-r reference] [-g sg_name] [domain-name]
                        [domain-name] ...

        where:  domain-name     domain name with * or ? wildcards as needed
                reference       reference
                sg_name         server group name
                -v              verbose output`,
    { options: 'vr:g:', max: INF, args: ['deleted_zone'], aliases: ['list_zone_deleted'] },
  ),
  c(
    'show_zone',
    'Show a zone, by default as published',
    `Show a zone, by default as published: show_zone <domain-name> [zi-id]

        ${ZI_SELECTOR_HELP}`,
    { min: 1, max: 2, args: ['zone', 'other'] },
  ),
  c(
    'show_zone_byid',
    'Show a zone by its id, deleted ones too',
    `Show a zone by its id: show_zone_byid <zone-id> [zi-id]

        The zone of that id in any state: a deleted zone too (ls_deleted -v
        shows the ids of deleted zones sharing a name).  By default the ZI
        last published; zi-id is a ZI number (ls_zi).`,
    { min: 1, max: 2, args: ['other', 'other'] },
  ),
  c(
    'show_zonesm',
    'Show the settings for a zone SM',
    `Show the settings for a zone SM: show_zonesm <domain-name>`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'show_zonesm_byid',
    'Show the settings for a zone SM by its id, deleted ones too',
    `Show the settings for a zone SM by its id: show_zonesm_byid <zone-id>

        The zone of that id in any state: a deleted zone too (ls_deleted -v
        shows the ids of deleted zones sharing a name).`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'create_zone',
    'Create a zone',
    `Create a zone:

        create_zone [-g <sg-name>] [-i] [ -r reference] <domain-name>
                            [zone-option] ...

        where   -g <sg-name>: specify an SG name other than default_sg
                -i:            set inc_updates flag on the new zone
                -r reference:  set reference
                ${ZONE_OPTION_HELP}

        A network (2001:db8:1::/48, 192.168.1.0/24) as <domain-name> creates
        its reverse zone.`,
    { options: 'g:ir:', min: 1, max: 6, args: ['other', 'zone_option'] },
  ),
  c(
    'copy_zone',
    'Copy a zone',
    `Copy a zone:

        copy_zone [-g <sg-name>] [-i] [ -r reference] [-z zi_id]
                          <src-domain-name> <domain-name> [zone-option] ...

        where   -g <sg-name>: specify an SG name other than default_sg
                -i:            set inc_updates flag on the new zone
                -r reference:  set reference
                -z zi_id:      set zi_id used for copy source
                ${ZONE_OPTION_HELP}`,
    { options: 'g:ir:z:', min: 2, max: 7, args: ['zone', 'other', 'zone_option'] },
  ),
  c(
    'edit_zone',
    'Edit a zone, by default as published',
    `Edit a zone, by default as published: edit_zone <domain-name> [zi-id]

        Runs $VISUAL or $EDITOR (default vi) on the zone file.  On a parse
        error the errors are shown and you may edit again; before saving the
        difference is shown and you may Update, see the Diff, Edit again or
        Abort.  With stdin not a terminal there are no questions: a valid
        edit is saved, an invalid one fails.`,
    { min: 1, max: 2, args: ['zone', 'other'] },
  ),
  c(
    'clear_edit_lock',
    'Clear an edit lock',
    `Clear an edit lock: clear_edit_lock <domain-name> [edit-lock-token]

        With the token, cancels that edit; without it, clears whoever's lock.`,
    { min: 1, max: 2, args: ['zone', 'other'], aliases: ['cancel_edit_zone'] },
  ),
  c(
    'load_zone',
    'Load a zone from a file',
    `Load a zone :

        load_zone  [-g sg-name] [-i] [-r reference] <file_name> <domain-name>
                    [zone-option] ...

        where   -g <sg-name>: specify an SG name other than default_sg
                -i:            set inc_updates flag on the new zone
                -r reference:  set reference
                ${ZONE_OPTION_HELP}`,
    { options: 'g:ir:', min: 2, max: 7, args: ['file', 'other', 'zone_option'] },
  ),
  c(
    'load_zones',
    'Load zones from files',
    `Load zones : load_zones [-fio] [-g sg-name] [-r reference] <file-name>
                                                           [file-name] ...

        where   -f:            force operation - load the good files and
                               report the bad ones (without -f nothing is
                               loaded if any file is bad)
                -g <sg-name>: specify an SG name other than default_sg
                -i:            set inc_updates flag on the new zone
                -o:            each zone's name is the file's first $ORIGIN
                               (the file-name's basename when it has none)
                -r reference:  set reference

        Without -o the basename of each file-name is the zone's name.`,
    { options: 'fiog:r:', min: 1, max: INF, args: ['file'] },
  ),
  c(
    'load_zone_zi',
    'Load a zi into a zone',
    `Load a zi into a zone : load_zone_zi <file_name> <domain-name>`,
    { min: 2, max: 2, args: ['file', 'zone'] },
  ),
  c(
    'delete_zone',
    'Delete a zone',
    `Delete a zone: delete_zone <domain-name>

        Edit locked zones can not be deleted.`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'undelete_zone',
    'Undelete a zone',
    `Undelete a zone: undelete_zone <zone-id>

        The zone-id is shown by ls_deleted.  No active zone of the same name
        may exist.`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'destroy_zone',
    'Destroy a deleted zone',
    `Destroy a zone: destroy_zone <zone-id>

        This can only be done to a deleted zone.`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'nuke_zones',
    'Nuke zones (+ wildcards)',
    `Nuke zones (+ wildcards) nuke_zones: [-f] [-r reference] [-g sg-name]
                                              <domain-name> [domain-name] ....

        Destroys the zones and all their history.  Asks first unless -f.`,
    { options: 'fr:g:', min: 1, max: INF, args: ['zone'] },
  ),
  c(
    'enable_zone',
    'Enable a zone',
    `Enable a zone: enable_zone <domain-name>`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'disable_zone',
    'Disable a zone',
    `Disable a zone: disable_zone <domain-name>`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'set_zone',
    'Set Zone flags',
    `Set Zone flags: set_zone <domain-name> <zone-option> [zone-option] ...

        where zone-option can be: use_apex_ns|auto_dnssec|edit_lock|nsec3
                                  |inc_updates, no_xxx to clear one, def_xxx
                                  for the configured default
        up to 5 times`,
    { min: 2, max: 6, args: ['zone', 'zone_option'] },
  ),
  c(
    'diff_zones',
    'Given two zones, display the difference',
    `Given two zones, display the difference:

        diff_zones <domain1-name> <domain2-name> [zi1-id [zi2-id]]

        where:
                domain1-name    older domain name
                domain2-name    newer domain name
                zi1-id          zi-id for domain1-name
                                    defaults to published ZI
                zi2-id          zi-id for domain2-name
                                    defaults to published ZI`,
    { min: 2, max: 4, args: ['zone', 'zone', 'other'] },
  ),
  c(
    'diff_zone_zi',
    'Given a zone, display the differences between older and newer ZIs',
    `Given a zone, display the differences between older and newer ZIs:

        diff_zone_zi <domain-name> zi1-id [zi2-id]

        where:
                domain-name     domain name
                zi1-id          older zi-id for domain-name
                zi2-id          newer zi-id for domain-name,
                                    defaults to published ZI

        ${ZI_SELECTOR_HELP}`,
    { min: 2, max: 3, args: ['zone', 'other'] },
  ),
  c(
    'poke_zone_set_serial',
    "Set a zone's SOA serial number, or increment it",
    `Set a zone's SOA serial number:

        poke_zone_set_serial [-u] <domain-name> [soa-serial]

        where:
                -u          set the serial in yyyymmddnn form for today
                soa-serial  new serial; it must be newer than the current
                            one (RFC 1982).  Without it the serial is
                            incremented.`,
    { options: 'u', min: 1, max: 2, args: ['zone', 'other'] },
  ),
  c(
    'poke_zone_wrap_serial',
    "Wrap a zone's SOA serial number",
    `Wrap a zone's SOA serial number: poke_zone_wrap_serial <domain-name>

        Adds 2^31 - 1 to the serial (RFC 1982 wrap), so that the next
        serial can be set to any value, e.g. back to yyyymmddnn form.`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'update_rrs',
    'Add, delete or replace records of a zone from a file',
    `Add, delete or replace records: update_rrs [-s soa-serial] <domain-name> <file-name>
                                 update_rrs [-n domain-name] <file-name> [domain-name]

        The file holds records in zone-file form (names relative to the zone,
        $ORIGIN, $TTL as in a zone file), each an addition unless a ;! flag
        line before it says otherwise:
                ;!RROP:ADD            add the record (the default)
                ;!RROP:DELETE         delete the record (its data must match);
                                      with no data or "" the whole RRset,
                                      with type ANY everything at the name
                ;!RROP:UPDATE_RRTYPE  replace the record's RRset by the
                                      records so flagged
        $UPDATE_TYPE <id> (the original DMS's update files) is accepted.
        All of it is one new ZI, published; the SOA is not changed this way.
        A record without a TTL takes its RRset's, else the zone's default.
        -s soa-serial: refused unless the newest ZI still has this serial.
        "-" as file-name reads the records from stdin.
        The original's order (the file first) is taken too; without a
        domain-name the zone is the file's $ORIGIN.`,
    { options: 's:', min: 1, max: 2, args: ['zone', 'file'] },
  ),
  c(
    'rr_query_db',
    'Find the records at a name in the database',
    `Find the records at a name: rr_query_db [-t type] <domain-name|address>
                             rr_query_db [-av] [-n domain] [-z zi-id] <label>
                                         [rr-type] [rdata]

        The first form lists the records at the name in every zone that
        holds it (the most specific zone first; a delegation's NS and glue in
        the parent too), as in each zone's newest ZI, in zone-file form.  An
        IPv4 or IPv6 address stands for its reverse (PTR) name.
                -t type   only records of that type
        The second (the original's) looks in one zone: -n domain (the label
        relative to it), else the most specific zone above the name; its
        newest ZI, or -z's.  * and ? in the label are wildcards; rr-type may
        be several ("A AAAA"); rdata must match exactly.
                -a        disabled records and zones too
                -v        a header line, and X marking disabled records`,
    { options: 'an:t:vz:', min: 1, max: 3, args: ['other'], aliases: ['record_query_db'] },
  ),
  c(
    'refresh_zone',
    'Refresh a zone: apex NS/SOA from its SG again, servers told',
    `Refresh a zone: refresh_zone <domain-name> [zi-id]

        Its apex NS (use_apex_ns zones) and SOA values are taken from its
        server group again (a new ZI when they differ), and its servers are
        sent NOTIFY.  With zi-id, that ZI is published first (an older one
        as a copy with a new serial).  reset_zonesm (the original's reset of
        a zone's state machine after an error) does the same here.

        ${ZI_SELECTOR_HELP}`,
    { min: 1, max: 2, args: ['zone', 'other'], aliases: ['reset_zonesm'] },
  ),
  c(
    'refresh_zone_ttl',
    "Set a zone's default TTL anew, by default from the config",
    `Set a zone's default TTL anew: refresh_zone_ttl <domain-name> [zone-ttl]

        The zone's default TTL ($TTL) becomes zone-ttl (3600, 1h, 1d2h...),
        by default the configured zone_ttl (show_config).  The records that
        followed the old default follow the new one; records with a TTL of
        their own keep it.  One new ZI, published.`,
    { min: 1, max: 2, args: ['zone', 'other'] },
  ),
  // --- ZIs -----------------------------------------------------------------------------------------------------
  c(
    'ls_zi',
    'List the zone instances for a domain',
    `List the zone instances for a domain:

        ls_zi [-v] <domain-name> [zi-id]

        where:
                -v  show ctime followed by mtime

        Without -v, just ctime is displayed.  The published ZI is marked '*'.`,
    { options: 'v', min: 1, max: 2, args: ['zone', 'other'], aliases: ['list_zi'] },
  ),
  c(
    'show_zi',
    'Show the settings for a ZI',
    `Show the settings for a ZI: show_zi <domain-name> [zi-id]

        ${ZI_SELECTOR_HELP}`,
    { min: 1, max: 2, args: ['zone', 'other'] },
  ),
  c(
    'show_zi_byid',
    'Show a ZI of a zone given by its id, deleted ones too',
    `Show a ZI by zone id: show_zi_byid <zone-id> [zi-id]

        A ZI's SOA fields, times and change_by, of the zone of that id in
        any state (a deleted zone too).  By default the ZI last published;
        zi-id is a ZI number (ls_zi).`,
    { min: 1, max: 2, args: ['other', 'other'] },
  ),
  c(
    'copy_zi',
    'Save an older ZI again as the newest, with a new serial',
    `Copy a ZI: copy_zi <domain-name> <zi-id>
               copy_zi [-z zi-id] <src-domain-name> <domain-name> [zi-id]

        The ZI's records become the zone's newest ZI (published), with the
        next SOA serial: going back to an earlier version of the zone.
        Given two zones (the original's form), a ZI of the first (by default
        its published one) becomes the newest ZI of the second, whose own
        apex SOA and NS stay.

        ${ZI_SELECTOR_HELP}`,
    { options: 'z:', min: 2, max: 3, args: ['zone', 'zone', 'other'] },
  ),
  c(
    'delete_zi',
    'Delete a zi',
    `Delete a zi: delete_zi <domain-name> <zi_id>

        This can only be done for a zi that is not currently in use .`,
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  // --- references ----------------------------------------------------------------------------------------------
  c(
    'ls_reference',
    'List references',
    `List references: ls_reference/lsref [-v] [reference] [reference] ...

        Can take wild cards (* and ?), and multiple reference arguments.
        -v also shows the number of zones of each reference.`,
    { options: 'v', max: INF, args: ['reference'], aliases: ['lsref', 'list_reference'] },
  ),
  c(
    'create_reference',
    'Create a reference',
    `Create a reference: create_reference <reference>`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'delete_reference',
    'Delete a reference',
    `Delete a reference: delete_reference <reference>

        The reference must not be used by any zone.`,
    { min: 1, max: 1, args: ['reference'] },
  ),
  c(
    'rename_reference',
    'Rename a reference',
    `Rename a reference: rename_reference <reference> <new-reference>`,
    { min: 2, max: 2, args: ['reference', 'other'] },
  ),
  c(
    'set_zone_reference',
    'Set the reference for a zone',
    `Set the reference for a zone to an existing reference:

        set_zone_reference <domain-name> <reference>`,
    { min: 2, max: 2, args: ['zone', 'reference'] },
  ),
  // --- sectags -------------------------------------------------------------------------------------------------
  c(
    'show_sectags',
    'Display all security tags',
    `Display all security tags: show_sectags`,
  ),
  c(
    'create_sectag',
    'Create a new security tag',
    `Create a new security tag: create_sectag <sectag-label>`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'delete_sectag',
    'Delete an unused security tag',
    `Delete an unused security tag: delete_sectag <sectag-label>`,
    { min: 1, max: 1, args: ['sectag'] },
  ),
  c(
    'show_zone_sectags',
    'Display a zones security tags',
    `Display a zones security tags: show_zone_sectags <domain-name>`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  c(
    'add_zone_sectag',
    'Add security tag to zone',
    `Add security tag to zone: add_zone_sectag <domain-name> <sectag-label>`,
    { min: 2, max: 2, args: ['zone', 'sectag'] },
  ),
  c(
    'delete_zone_sectag',
    'Delete security tag from zone',
    `Delete security tag from zone: delete_zone_sectag <domain-name>
                                                          <sectag-label>`,
    { min: 2, max: 2, args: ['zone', 'sectag'] },
  ),
  c(
    'replace_zone_sectags',
    'Replace all sectags for a zone',
    `Replace all sectags for a zone: replace_zone_sectags [-f] <domain-name>
                                                          <sectag-label> ...`,
    { options: 'f', min: 1, max: INF, args: ['zone', 'sectag'] },
  ),
  // --- configuration and server groups -------------------------------------------------------------------------
  c(
    'show_config',
    'Display configuration values',
    `Display configuration values: show_config`,
  ),
  c(
    'set_config',
    'Set DB Configuration settings',
    `Set DB Configuration settings:

          set_config [-g sg_name] [sg_name] <key> <value>
          sg_name        sg_name for soa_mname
          Key can be one of:
          default_sg      Default Server Group
          default_ref     Default reference for created zones
          auto_dnssec     Boolean defaults used during initial zone creation
          edit_lock
          inc_updates
          nsec3
          use_apex_ns
          soa_mname       Used during initial zone creation
          soa_rname
          soa_refresh
          soa_retry
          soa_expire
          soa_minimum
          soa_ttl
          zone_ttl
          audit_max_age   Days the audit log is kept (vacuum_audit_log).
          event_max_age   Defaults used when vacuuming deleted zones,
          syslog_max_age events, syslog messages and old zis.
          zi_max_num
          zi_max_age
          zone_del_age        0 turns off deleted zone aging via vacuum_*
          zone_del_pare_age   0 turns off zone zi paring to 1 via vacuum_*
          replica_max_lag     A replica further behind the primary than
                              this (seconds, default 60) is reported:
                              show_dms_status, dmsd's log, /health 503`,
    { options: 'g:', min: 2, max: 3, args: ['config_key', 'other'] },
  ),
  c(
    'create_sg',
    'Create a new SG',
    `Create a new SG:

        create_sg [-p] <sg-name> [config-dir] [address] [alt-address]

        where:
                sg-name     SG name
                -p          SG created is the replica SG
                config-dir  SG configuration directory.  If not given
                            defaults to config file value sg_config_dir.
                            If given as 'none' or 'default', same thing.
                address     Master server address for use in filling
                            in server zone templates
                alt-address Master server address for use in filling
                            in server zone templates`,
    { options: 'p', min: 1, max: 4, args: ['other'] },
  ),
  c(
    'ls_sg',
    'List all Server Groups',
    `List all Server Groups: list_sg/lssg/ls_sg

        List all Server Groups`,
    { aliases: ['lssg', 'list_sg'] },
  ),
  c(
    'show_sg',
    'Show an SG and its servers',
    `Show an SG and its servers: show_sg [-v] <sg-name>

        Display an SG and its servers in brief.`,
    { options: 'v', min: 1, max: 1, args: ['sg'] },
  ),
  c(
    'show_apex_ns',
    'Display apex name servers',
    `Display apex name servers: show_apex_ns [-g sg_name] [sg_name]`,
    { options: 'g:', max: 1, args: ['sg'] },
  ),
  c(
    'edit_apex_ns',
    'Edit apex name servers',
    `Edit apex name servers: edit_apex_ns [-g sg_name] [sg_name]

        One name server per line; runs $VISUAL or $EDITOR (default vi).`,
    { options: 'g:', max: 1, args: ['sg'] },
  ),
  // --- vacuum --------------------------------------------------------------------------------------------------
  c(
    'vacuum_zis',
    "Age a zone's unpublished ZIs",
    `Age zone ZIs: vacuum_zis [-a age-days] [-n zi-max-num] [domain-name]

        Deletes ZIs older than age-days (default zi_max_age), keeping at
        least zi-max-num (default zi_max_num) per zone and never the
        published ZI.  Without domain-name all zones are done.`,
    { options: 'a:n:', max: 1, args: ['zone'] },
  ),
  c(
    'vacuum_zones',
    'Age deleted zones out of the DMS',
    `Destroy deleted zones: vacuum_zones [-a age-days]

        Destroys zones deleted more than age-days ago (default
        zone_del_age; 0 means never).`,
    { options: 'a:' },
  ),
  c(
    'vacuum_pare_deleted_zone_zis',
    'Pare deleted zone ZIs down to last published ZI',
    `Pare deleted zones' ZIs: vacuum_pare_deleted_zone_zis [-a age-days]

        Deleted zones whose deletion is older than age-days (default
        zone_del_pare_age; 0 means never) keep only their last published
        ZI, so that undelete_zone can still bring them back.`,
    { options: 'a:' },
  ),
  c(
    'vacuum_event_queue',
    'Age the event queue',
    `Age the event queue: vacuum_event_queue [-a age-days]

        Removes finished events older than age-days (default
        event_max_age).`,
    { options: 'a:' },
  ),
  c(
    'vacuum_audit_log',
    'Age the audit log',
    `Age the audit log: vacuum_audit_log [-a age-days]

        Removes audit log entries older than age-days (default
        audit_max_age, 730 days); the newest entry always stays (its
        number carries the log's numbering on).`,
    { options: 'a:' },
  ),
  c(
    'vacuum_all',
    'Do all of the vacuum_* commands, using default ages',
    `Vacuum everything: vacuum_all

        Runs vacuum_event_queue, vacuum_zones, vacuum_zis,
        vacuum_pare_deleted_zone_zis and vacuum_audit_log with the
        default ages from show_config.`,
  ),
  // --- events --------------------------------------------------------------------------------------------------
  c(
    'ls_pending_events',
    'List all pending events',
    `List all pending events

        ls_pending_events [-v]

        where:
                -v          Do verbose output

        Shows event_id, event_type, name (if any), scheduled, created fields`,
    { options: 'v', aliases: ['list_pending_events'] },
  ),
  c(
    'ls_failed_events',
    'List the last n failed events',
    `List the last n last-limit failed events in descending  order

        ls_failed_events [-v] [last-limit]

        where:
                -v              Do verbose output
                last-limit      Number of failed events to list
                                Default is 25`,
    { options: 'v', max: 1, args: ['other'], aliases: ['list_failed_events'] },
  ),
  c(
    'ls_events',
    'List n events in queue in reverse order',
    `List the last n last-limit events in descending  order

        ls_events [-v] [last-limit]

        where:
                -v              Do verbose output
                last-limit      Number of events to list
                                Default is 25`,
    { options: 'v', max: 1, args: ['other'], aliases: ['list_events'] },
  ),
  c(
    'show_event',
    'Show the contents of an event',
    `Given an event ID, show the contents of the event: show_event <event-id>`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'fail_event',
    'Manually fail an event',
    `Manually fail an event: fail_event <event-id>

        Only a pending (NEW or RETRY) event can be failed.`,
    { min: 1, max: 1, args: ['other'] },
  ),
  c(
    'show_dms_status',
    'Show the status of the DMS',
    `Show the status of the DMS: show_dms_status

        Shows the store, the dmsd instances on it (which one leads, since
        when; the fencing epoch; replica or primary), the server groups, the
        servers and the pending and failed events. On a replica: how far
        behind the primary it is (BEHIND past replica_max_lag), the WAL
        received and replayed, whether replay is paused. On a primary: its
        standbys and their write, flush and replay lag.`,
  ),
  // --- primary: TSIG keys, update grants, transfer rules, also-notify (primary-commands.ts) ---------------------
  ...PRIMARY_COMMANDS,
  ...QUERY_ACL_COMMANDS,
  // --- secondary servers of server groups (server-commands.ts) -------------------------------------------------
  ...SERVER_COMMANDS,
  ...SG_CONFIG_COMMANDS,
  ...SG_TEMPLATE_COMMANDS,
  ...GIT_COMMANDS,
  ...DNSSEC_COMMANDS,
  ...API_COMMANDS,
  ...BACKUP_COMMANDS,
  ...HA_COMMANDS,
  ...REVERSE_COMMANDS,
  // --- the original's commands for machinery DMS does not have: what DMS does instead (original-commands.ts) ------
  ...ORIGINAL_COMMANDS,
  // --- shell ---------------------------------------------------------------------------------------------------
  c(
    'help',
    'List commands, or show help for one',
    `List available commands with "help" or detailed help with "help cmd".`,
    { max: 1, args: ['command'], aliases: ['?'] },
  ),
  c('exit', 'Exit program.', `Exit program.`, { aliases: ['quit', 'EOF', 'eof'] }),
];

/**
 * The original zone_tool's spellings of arguments that scripts written for it use (command-spec.ts OriginalSpelling;
 * compared with every do_ command of the original's zone_tool.py): its -f where DMS asks nothing, its -v where DMS
 * shows no more, its -z/-g/-r/-n options standing for arguments, the vacuum commands' age-days as an argument.
 */
const ORIGINAL_SPELLINGS: Readonly<Record<string, OriginalSpelling>> = {
  ls_zi: { optionArg: { z: 1 } },
  set_zone_sg: { optionArg: { g: 1 } },
  move_server_sg: { optionArg: { g: 1 } },
  set_zone_reference: { optionArg: { r: 1 } },
  ls_reference: { optionArg: { r: -1 } },
  update_rrs: { optionArg: { n: 0 } },
  vacuum_event_queue: { ignore: 'fv', argOption: ['a'] },
  vacuum_zones: { ignore: 'fv', argOption: ['a'] },
  vacuum_zis: { ignore: 'fv', argOption: ['a', 'n'] },
  vacuum_pare_deleted_zone_zis: { ignore: 'fv', argOption: ['a'] },
  vacuum_all: { ignore: 'v' },
  show_master_status: { ignore: 'v' },
  show_replica_sg: { ignore: 'v' },
  show_dms_status: { ignore: 'v' },
  rename_sg: { ignore: 'f' },
  set_sg_config: { ignore: 'f' },
  set_sg_replica_sg: { ignore: 'f' },
  swap_zone_sg: { ignore: 'f' },
  refresh_zone: { ignore: 'f' },
  refresh_sg: { ignore: 'f' },
  refresh_all: { ignore: 'f' },
  rename_reference: { ignore: 'f' },
  delete_server: { ignore: 'f' },
  rename_server: { ignore: 'f' },
  restore_named_db: { ignore: 'f' },
  fail_event: { ignore: 'f' },
  poke_zone_set_serial: { ignore: 'f' },
  poke_zone_wrap_serial: { ignore: 'f' },
};

export const COMMANDS: readonly CommandSpec[] = TABLE.map((c) => (Object.hasOwn(ORIGINAL_SPELLINGS, c.name) ? { ...c, compat: ORIGINAL_SPELLINGS[c.name] } : c));

const BY_NAME = new Map<string, CommandSpec>();
for (const cmd of COMMANDS) {
  BY_NAME.set(cmd.name, cmd);
  for (const a of cmd.aliases) BY_NAME.set(a, cmd);
}

/** Look a command up by name or alias ('-' accepted for '_', as operators type both). */
export function findCommand(name: string): CommandSpec | undefined {
  return BY_NAME.get(name) ?? BY_NAME.get(name.replace(/-/g, '_'));
}

/** Every name and alias, sorted: what tab completion offers. */
export function allCommandNames(): string[] {
  return [...BY_NAME.keys()].filter((n) => n !== 'EOF').sort();
}

/** The `help` command list, laid out in columns like Python's cmd module. */
export function helpIndex(width = 80): string {
  const names = COMMANDS.map((c2) => c2.name)
    .filter((n) => n !== 'EOF')
    .sort();
  const colWidth = Math.max(...names.map((n) => n.length)) + 2;
  const perRow = Math.max(1, Math.floor(width / colWidth));
  const rows: string[] = [];
  for (let i = 0; i < names.length; i += perRow) {
    rows.push(
      names
        .slice(i, i + perRow)
        .map((n) => n.padEnd(colWidth))
        .join('')
        .trimEnd(),
    );
  }
  return `\nDocumented commands (type help <topic>):\n${'='.repeat(40)}\n${rows.join('\n')}\n`;
}

/** First synopsis line of a command's help, used in usage errors. */
export function usageLine(cmd: CommandSpec): string {
  const lines = cmd.help.split('\n').map((l) => l.trim());
  const withName = lines.find((l) => l.startsWith(`${cmd.name} `) || l === cmd.name || l.includes(`: ${cmd.name}`));
  if (withName) {
    const idx = withName.indexOf(cmd.name);
    return withName.slice(idx);
  }
  return cmd.name;
}
