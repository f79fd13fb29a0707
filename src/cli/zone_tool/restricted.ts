// zone_tool's restricted mode, as the original's: a unix user in none of the admin groups (admin_group_list: root,
// sudo and wheel by default) gets the helpdesk tier — only the operations the helpdesk may call, refused by the
// operations table like any other caller — and the restricted editor (rvim, else rnano) instead of $VISUAL/$EDITOR,
// which could otherwise start a shell. It is a policy of the tool, not a security boundary: whoever can write the
// database file can change it without zone_tool (PostgreSQL roles are that boundary).

import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const DEFAULT_ADMIN_GROUPS = ['root', 'sudo', 'wheel'];

export interface ZoneToolMode {
  restricted: boolean;
  /** The admin groups in force and where they came from. */
  adminGroups: readonly string[];
  /** The user's group names (primary and supplementary). */
  groups: readonly string[];
}

/** admin_group_list: DMS_ADMIN_GROUP_LIST, else `admin_group_list` in the --config file, else the default. */
export function adminGroupList(env: NodeJS.ProcessEnv, configFile?: string): string[] {
  const split = (v: string) => v.split(/[\s,]+/).filter((g) => g.length > 0);
  if (env.DMS_ADMIN_GROUP_LIST !== undefined) return split(env.DMS_ADMIN_GROUP_LIST);
  if (configFile) {
    let text = '';
    try {
      text = readFileSync(configFile, 'utf8');
    } catch {
      // an unreadable configuration file is reported where the store is opened
    }
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      try {
        const v = (JSON.parse(trimmed) as Record<string, unknown>).admin_group_list;
        if (typeof v === 'string') return split(v);
        if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string');
      } catch {
        // not JSON after all: the store's reader says so
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*admin[_-]group[_-]list\s*[=:]\s*(.*)$/.exec(line.replace(/#.*$/, ''));
        if (m) return split(m[1].replace(/^["']|["']$/g, ''));
      }
    }
  }
  return DEFAULT_ADMIN_GROUPS;
}

/** Group names of this process (effective and supplementary groups), from /etc/group; numbers where a name is unknown. */
export function processGroups(): string[] {
  const gids = new Set<number>([...(process.getgroups?.() ?? []), process.getegid?.() ?? -1].filter((g) => g >= 0));
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , gid] = line.split(':');
      if (name && gid !== undefined && /^\d+$/.test(gid)) names.set(Number(gid), name);
    }
  } catch {
    // no /etc/group: numbers only
  }
  return [...gids].map((g) => names.get(g) ?? String(g));
}

export function zoneToolMode(env: NodeJS.ProcessEnv, configFile?: string, groups: readonly string[] = processGroups()): ZoneToolMode {
  const adminGroups = adminGroupList(env, configFile);
  return { restricted: !groups.some((g) => adminGroups.includes(g)), adminGroups, groups };
}

function onPath(prog: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    try {
      readFileSync(join(dir, prog), { flag: 'r' }).subarray(0, 0);
      return true;
    } catch {
      // not there
    }
  }
  return false;
}

/** The editor of restricted mode: rvim when installed, else rnano (neither can start a shell or open other files). */
export function restrictedEditor(env: NodeJS.ProcessEnv): string {
  return onPath('rvim', env) ? 'rvim' : 'rnano';
}
