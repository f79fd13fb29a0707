// The bulk side of automatic reverse PTRs (issue 14): refresh_zone_ptrs re-runs the auto-PTR step over a whole
// forward zone (every address record counts as just saved; with a dry run, the changes it would make), and
// check_reverse reports the forward address records whose PTR is missing or names something else.

import { ipv4ToString, ipv6ToString, networkKey, ptrOwnerIn } from '../dns/address.js';
import { RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { rdataTargetName } from '../dns/rdata.js';
import { readTx, writeTx } from '../store/index.js';
import { aliveRowsAt } from '../store/queries/versions.js';
import { loadSettings } from './config.js';
import type { ServiceContext } from './context.js';
import { commitDelta, currentRows, findLiveZone, rowToRecord } from './core.js';
import { normalizeZoneName } from './names.js';
import { autoReverse, isAddressRecord, type ReverseReport, reverseZonesOf } from './reverse.js';

/** Re-run the auto-PTR rules for every address record of a forward zone; `dryRun`: report without writing. */
export async function refreshZonePtrs(ctx: ServiceContext, name: string, o: { dryRun?: boolean } = {}): Promise<ReverseReport & { zone: string; dryRun: boolean }> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const born = (await currentRows(trx, Number(zone.id))).filter(isAddressRecord).map(rowToRecord);
    const settings = loadSettings(trx);
    const report = await autoReverse(
      trx,
      ctx,
      zone,
      { died: [], born },
      { commit: commitDelta, settings: () => settings, publish: true, ...(o.dryRun ? { dryRun: true } : {}) },
    );
    return { zone: key, dryRun: o.dryRun === true, ...(report ?? { changes: [], skipped: [], zones: [] }) };
  });
}

export interface ReverseCheckItem {
  forward: string;
  type: 'A' | 'AAAA';
  address: string;
  /** The PTR owner (absent when no reverse zone holds the address). */
  ptr?: string;
  zone?: string;
  status: 'ok' | 'missing' | 'elsewhere' | 'no_reverse_zone';
  /** What the PTR names instead (elsewhere). */
  targets?: string[];
}

/** Every forward address record and the state of its reverse: ok, missing, pointing elsewhere, or no reverse zone. */
export async function checkReverse(ctx: ServiceContext, name: string): Promise<{ zone: string; items: ReverseCheckItem[]; problems: number }> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, false);
    const recs = (await currentRows(trx, Number(zone.id))).filter((r) => isAddressRecord(r) && !r.disabled).map(rowToRecord);
    const keys = recs.map((r) => networkKey(r.rdata, r.rdata.length * 8));
    const zones = await reverseZonesOf(trx, keys);
    // The PTR owners each reverse zone should hold, read once per zone.
    const wanted = new Map<number, { owners: Set<string>; rows: Map<string, string[]> }>();
    const ptrOf: (string | undefined)[] = recs.map((r, i) => {
      const hit = zones.get(keys[i]);
      if (!hit) return undefined;
      const owner = Name.parse(ptrOwnerIn(hit.zone.name, hit.net, r.rdata)).key;
      let w = wanted.get(Number(hit.zone.id));
      if (!w) wanted.set(Number(hit.zone.id), (w = { owners: new Set(), rows: new Map() }));
      w.owners.add(owner);
      return owner;
    });
    for (const [id, w] of wanted)
      for (const row of await aliveRowsAt(trx, id, [...w.owners])) {
        if (row.type !== RRType.PTR || row.disabled) continue;
        let t: string | undefined;
        try {
          t = rdataTargetName(RRType.PTR, Uint8Array.from(row.rdata))?.key;
        } catch {
          t = undefined;
        }
        const l = w.rows.get(row.owner_key) ?? [];
        l.push(t ?? '?');
        w.rows.set(row.owner_key, l);
      }
    let problems = 0;
    const items = recs.map((r, i): ReverseCheckItem => {
      const address = r.rdata.length === 4 ? ipv4ToString(r.rdata) : ipv6ToString(r.rdata);
      const base = { forward: r.name.toString(), type: r.type === RRType.A ? ('A' as const) : ('AAAA' as const), address };
      const hit = zones.get(keys[i]);
      const owner = ptrOf[i];
      if (!hit || !owner) {
        problems++;
        return { ...base, status: 'no_reverse_zone' };
      }
      const at = { ptr: Name.parse(owner).toString(), zone: hit.zone.name };
      const targets = wanted.get(Number(hit.zone.id))?.rows.get(owner) ?? [];
      if (targets.includes(r.name.key)) return { ...base, ...at, status: 'ok' };
      problems++;
      return targets.length === 0 ? { ...base, ...at, status: 'missing' } : { ...base, ...at, status: 'elsewhere', targets };
    });
    return { zone: key, items, problems };
  });
}
