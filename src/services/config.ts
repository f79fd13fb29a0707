// The DMS configuration (show_config / set_config): keys, defaults, validation. Stored values override defaults;
// soa_mname may also be set per server group (kept on the server group row, one source of truth).

import { Name } from '../dns/name.js';
import type { Db } from '../store/index.js';
import { configValues, putConfigValue } from '../store/queries/config.js';
import { groupIdByName, groupMname, groupMnames, setGroupMname } from '../store/queries/groups.js';
import { parseTtl } from '../zonefile/ttl.js';
import { ConfigKeyUnknown, ConfigValueInvalid, ServerGroupNotFound } from './errors.js';
import type { ConfigEntry } from './types.js';

type Kind = 'bool' | 'ttl' | 'ttl?' | 'days' | 'seconds' | 'count' | 'limit' | 'name' | 'name?' | 'string' | 'zones' | 'removed';

/** Key → [kind, default]. Defaults follow the original DMS installation. */
export const CONFIG_KEYS: Readonly<Record<string, readonly [Kind, string]>> = {
  audit_max_age: ['days', '730.0'],
  auto_dnssec: ['bool', 'false'],
  auto_reverse_ipv4: ['bool', 'false'],
  default_ref: ['string', ''],
  default_sg: ['string', 'default'],
  // An RFC 2136 UPDATE deleting every DNSKEY of a signed zone starts the secure → insecure transition (issue 9);
  // without it such an UPDATE is refused.
  dnssec_secure_to_insecure: ['bool', 'false'],
  edit_lock: ['bool', 'true'],
  edit_lock_timeout: ['ttl', '30m'],
  event_max_age: ['days', '120.0'],
  // git (issue 12, docs/GIT.md): the repository every published version of the selected zones is committed to.
  git_branch: ['string', 'main'],
  git_committer: ['string', 'DMS <dms@dms.invalid>'],
  // Zones whose files in the repository are the source of truth: imported on git_pull, a signed NOTIFY, the poll.
  git_managed: ['zones', ''],
  git_mirror: ['string', ''],
  git_poll: ['ttl?', ''],
  git_removed: ['removed', 'delete'],
  git_ssh_key: ['string', ''],
  git_workdir: ['string', ''],
  git_zones: ['zones', 'all'],
  inc_updates: ['bool', 'false'],
  // The largest RRset and the most types at one name a change may grow to (0: no limit). BIND (9.18.28 and later)
  // refuses larger ones by default in any zone it loads or transfers in (max-records-per-type, max-types-per-name:
  // 100 each), so a BIND secondary would stop following the zone: an RFC 2136 UPDATE or a record edit growing past
  // them is refused; a whole zone loaded or saved as text is warned of (the zone check).
  max_records_per_type: ['limit', '100'],
  max_types_per_name: ['limit', '100'],
  // A zone that keeps changing is NOTIFYed at most once per this many seconds: the first change after a quiet spell
  // at once, the newest serial last (BIND's notify-delay, default 5 there; 0: every change at once, as Knot does).
  notify_delay: ['seconds', '0.05'],
  nsec3: ['bool', 'false'],
  // HA (issue 13, docs/HA.md): a replica further behind its primary than this is reported (show_dms_status, the
  // log, /health not OK, so load balancers take it out). Set on the primary; replication carries it to the replica.
  replica_max_lag: ['ttl', '60'],
  soa_expire: ['ttl', '7d'],
  soa_minimum: ['ttl', '10m'],
  soa_mname: ['name?', ''],
  soa_refresh: ['ttl', '600'],
  soa_retry: ['ttl', '600'],
  soa_rname: ['name', 'hostmaster.dms.invalid.'],
  soa_ttl: ['ttl?', ''],
  syslog_max_age: ['days', '120.0'],
  use_apex_ns: ['bool', 'true'],
  zi_max_age: ['days', '90.0'],
  zi_max_num: ['count', '25'],
  zone_del_age: ['days', '0.0'],
  zone_del_pare_age: ['days', '90.0'],
  zone_ttl: ['ttl', '24h'],
};

/** The largest value of a 'seconds' key: an hour. */
const MAX_SECONDS = 3600;

function normalizeValue(key: string, value: string): string {
  const spec = CONFIG_KEYS[key];
  if (!spec) throw new ConfigKeyUnknown(key);
  const v = value.trim();
  switch (spec[0]) {
    case 'bool': {
      const l = v.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(l)) return 'true';
      if (['false', 'no', 'off', '0'].includes(l)) return 'false';
      throw new ConfigValueInvalid(key, value, 'expected true or false');
    }
    case 'ttl?':
    case 'ttl': {
      if (spec[0] === 'ttl?' && (v === '' || v.toLowerCase() === 'none')) return '';
      const t = parseTtl(v);
      if (typeof t === 'string') throw new ConfigValueInvalid(key, value, t);
      return v;
    }
    case 'days': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n) || n < 0) throw new ConfigValueInvalid(key, value, 'expected a number of days >= 0');
      return v;
    }
    case 'seconds': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n) || n < 0 || n > MAX_SECONDS) throw new ConfigValueInvalid(key, value, `expected a number of seconds from 0 to ${MAX_SECONDS} (fractions allowed: 0.05)`);
      return String(n);
    }
    case 'count': {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new ConfigValueInvalid(key, value, 'expected a whole number >= 1');
      return v;
    }
    case 'limit': {
      const n = Number(v);
      if (v === '' || !Number.isInteger(n) || n < 0) throw new ConfigValueInvalid(key, value, 'expected a whole number >= 0 (0: no limit)');
      return String(n);
    }
    case 'name?':
    case 'name':
      if (spec[0] === 'name?' && (v === '' || v.toLowerCase() === 'none')) return '';
      try {
        return Name.from(v).toString();
      } catch (e) {
        throw new ConfigValueInvalid(key, value, (e as Error).message);
      }
    case 'zones': {
      // '' (none), all, sg:NAME or ref:NAME: which zones take part (git_zones / git_managed).
      if (v === '' || v.toLowerCase() === 'none') return '';
      if (v.toLowerCase() === 'all') return 'all';
      const m = /^(sg|ref):(\S+)$/i.exec(v);
      if (!m) throw new ConfigValueInvalid(key, value, 'expected all, none, sg:<server group> or ref:<reference>');
      return `${m[1].toLowerCase()}:${m[2]}`;
    }
    case 'removed': {
      const l = v.toLowerCase();
      if (l !== 'delete' && l !== 'ignore') throw new ConfigValueInvalid(key, value, 'expected delete or ignore');
      return l;
    }
    default:
      return v;
  }
}

/** Resolved configuration with typed accessors. */
export class Settings {
  constructor(private readonly values: ReadonlyMap<string, string>) {}
  raw(key: string): string {
    const spec = CONFIG_KEYS[key];
    if (!spec) throw new ConfigKeyUnknown(key);
    return this.values.get(key) ?? spec[1];
  }
  bool(key: string): boolean {
    return this.raw(key) === 'true';
  }
  /** Seconds. */
  ttl(key: string): number {
    return parseTtl(this.raw(key)) as number;
  }
  ttlOrNull(key: string): number | null {
    const r = this.raw(key);
    return r === '' ? null : (parseTtl(r) as number);
  }
  /** Seconds, fractions allowed (kind 'seconds'). */
  seconds(key: string): number {
    return Number(this.raw(key));
  }
  days(key: string): number {
    return Number(this.raw(key));
  }
  count(key: string): number {
    return Number(this.raw(key));
  }
}

export async function loadSettings(db: Db): Promise<Settings> {
  const rows = await configValues(db);
  return new Settings(new Map(rows.map((r) => [r.key, r.value])));
}

export async function showConfig(db: Db): Promise<ConfigEntry[]> {
  const settings = await loadSettings(db);
  const out: ConfigEntry[] = [];
  const sgs = await groupMnames(db);
  for (const key of Object.keys(CONFIG_KEYS).sort()) {
    out.push({ key, value: settings.raw(key), sg: null });
    if (key === 'soa_mname') for (const sg of sgs) out.push({ key, value: sg.soa_mname ?? '', sg: sg.name });
  }
  return out;
}

export async function getConfigValue(db: Db, key: string, sg?: string): Promise<string> {
  if (sg !== undefined && key === 'soa_mname') {
    const mname = await groupMname(db, sg);
    if (mname === undefined) throw new ServerGroupNotFound(sg);
    if (mname) return mname;
  }
  return (await loadSettings(db)).raw(key);
}

export async function setConfig(db: Db, key: string, value: string, sg?: string): Promise<void> {
  const v = normalizeValue(key, value);
  if (sg !== undefined) {
    if (key !== 'soa_mname') throw new ConfigValueInvalid(key, value, 'only soa_mname can be set per server group');
    if (!(await setGroupMname(db, sg, v === '' ? null : v))) throw new ServerGroupNotFound(sg);
    return;
  }
  if (key === 'default_sg' && (await groupIdByName(db, v)) === undefined) throw new ServerGroupNotFound(v);
  await putConfigValue(db, key, v);
}
