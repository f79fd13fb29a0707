// Every zone_tool command's implementation, by command name: the handler files each cover one area and call the
// operations table (src/services/operations) for everything they read or change. The map's type is derived from
// the command table, so a command without a handler (or a handler for no command) is a compile error.

import { API_HANDLERS } from './api-commands.js';
import { BACKUP_HANDLERS } from './backup-commands.js';
import { HA_HANDLERS } from './ha-commands.js';
import { REVERSE_HANDLERS } from './reverse-commands.js';
import type { Handler } from './dispatch.js';
import { DNSSEC_HANDLERS } from './dnssec-commands.js';
import { ADMIN_HANDLERS } from './handlers/admin.js';
import { ZONE_HANDLERS } from './handlers/zones.js';
import { PRIMARY_HANDLERS } from './primary-commands.js';
import { QUERY_ACL_HANDLERS } from './query-acl-commands.js';
import { SERVER_HANDLERS } from './server-commands.js';
import { SG_CONFIG_HANDLERS } from './sg-config-commands.js';
import { SG_TEMPLATE_HANDLERS } from './sg-template-commands.js';
import { GIT_HANDLERS } from './git-commands.js';
import { ORIGINAL_HANDLERS } from './original-commands.js';

export const HANDLERS: Record<string, Handler> = {
  ...ZONE_HANDLERS,
  ...ADMIN_HANDLERS,
  ...PRIMARY_HANDLERS,
  ...QUERY_ACL_HANDLERS,
  ...SERVER_HANDLERS,
  ...DNSSEC_HANDLERS,
  ...API_HANDLERS,
  ...BACKUP_HANDLERS,
  ...HA_HANDLERS,
  ...REVERSE_HANDLERS,
  ...SG_CONFIG_HANDLERS,
  ...SG_TEMPLATE_HANDLERS,
  ...GIT_HANDLERS,
  ...ORIGINAL_HANDLERS,
};
