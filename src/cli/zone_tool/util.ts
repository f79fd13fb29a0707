// Argument helpers shared by the handlers: zone names (with IP/CIDR → reverse zone), ZI selectors, zone options,
// numbers. They call only the service API.

import type { OperationResult, ZoneFlags } from '../../services/index.js';
import { reverseNameOfAddress } from '../../dns/address.js';
import type { Context } from './context.js';

export { reverseNameOfAddress };
import { EX, ZoneToolError } from './errors.js';
import { parseZiSelector, resolveZiSelector } from './zi_selector.js';

const FLAG_KEYS: Record<string, keyof ZoneFlags> = {
  use_apex_ns: 'useApexNs',
  edit_lock: 'editLock',
  auto_dnssec: 'autoDnssec',
  nsec3: 'nsec3',
  inc_updates: 'incUpdates',
};

/** What zone-option words set: a flag on (true), off (false) or to the configured default (null, `def_flag`). */
export type FlagWords = { [K in keyof ZoneFlags]?: boolean | null };

/** Parse zone-option words (flag, no_flag, def_flag); the operations read the configured default for def_. */
export function parseZoneOptions(words: readonly string[]): FlagWords {
  const flags: FlagWords = {};
  for (const w of words) {
    const lw = w.toLowerCase();
    const m = /^(no_|def_)?(.*)$/.exec(lw)!;
    const key = FLAG_KEYS[m[2]];
    if (!key) {
      throw new ZoneToolError(
        `Can only take one of: use_apex_ns, edit_lock, auto_dnssec, nsec3, inc_updates (or no_/def_ forms), not '${w}'.`,
        EX.USAGE,
        'UsageError',
      );
    }
    flags[key] = m[1] === 'no_' ? false : m[1] === 'def_' ? null : true;
  }
  return flags;
}

/**
 * A <domain-name> argument: a name, a network (CIDR → its reverse zone, via the services), or an IP address (→ the
 * most specific existing reverse zone containing it).
 */
export async function zoneArg(ctx: Context, text: string): Promise<string> {
  const s = await ctx.services();
  return (await s.call('find_zone', { zone: text })).zone;
}

/**
 * Resolve a <zi-id> argument for `zone` to a service selector: undefined means "the default" (published).
 * Plain ids go straight through; the other forms are resolved against the zone's ZI list (list_zi, or the one the
 * caller already has).
 */
export async function ziArg(
  ctx: Context,
  zone: string,
  text: string | undefined,
  listed?: OperationResult<'list_zi'>,
): Promise<number | undefined> {
  if (text === undefined) return undefined;
  const sel = parseZiSelector(text, ctx.now());
  if (sel.kind === 'default') return undefined;
  if (sel.kind === 'id') return sel.id;
  const { zis, zone: info } = listed ?? (await (await ctx.services()).call('list_zi', { zone }));
  const id = resolveZiSelector(
    sel,
    zis.map((z) => ({ id: z.version, ctime: new Date(z.ctime) })),
    info.publishedVersion ?? info.latestVersion,
  );
  if (id === null) {
    throw new ZoneToolError(`Zone '${zone}' has no zone instance matching '${text}'.`, EX.NOHOST, 'ZiNotFound');
  }
  return id;
}

export function intArg(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new ZoneToolError(`<${what}> can only contain digits.`, EX.USAGE, 'UsageError');
  return Number(text);
}

export function numberArg(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ZoneToolError(`<${what}> must be a non-negative number.`, EX.USAGE, 'UsageError');
  }
  return n;
}
