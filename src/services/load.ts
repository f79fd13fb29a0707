// Batch loading (load_zones, dmsd --zones import): one transaction per zone, lookups cached across the batch.

import { batchWrites, writeTx } from '../store/index.js';
import { nowMs, type ServiceContext } from './context.js';
import { loadSettings } from './config.js';
import { commitVersion, findLiveZone, ms, warningsOf } from './core.js';
import { BadZoneName, DmsError, EditLockConflict, ZoneExists, ZoneNotFound } from './errors.js';
import { normalizeZoneName } from './names.js';
import type { CreateZoneOptions, LoadZoneItem, LoadZoneResult } from './types.js';
import { CreateContext, createZoneIn, parseText, textZoneTtl } from './zones.js';

export type LoadZonesOptions = Omit<CreateZoneOptions, 'records' | 'text'> & {
  /** Replace the content of zones that exist (dmsd --zones import) instead of failing them with ZoneExists. */
  replace?: boolean;
  /** Stop after the first zone that fails (zone_tool load_zones without -f): the rest are not looked at. */
  stopOnError?: boolean;
  onResult?: (r: LoadZoneResult) => void;
};

export async function loadZones(
  ctx: ServiceContext,
  items: Iterable<LoadZoneItem> | AsyncIterable<LoadZoneItem>,
  o: LoadZonesOptions = {},
): Promise<LoadZoneResult[]> {
  const cc = new CreateContext(await loadSettings(ctx.store.db));
  const results: LoadZoneResult[] = [];
  // A batch is acknowledged when loadZones returns, not each zone's commit (batchWrites).
  await batchWrites(ctx.store, () => loadEach(ctx, items, o, cc, results));
  return results;
}

async function loadEach(
  ctx: ServiceContext,
  items: Iterable<LoadZoneItem> | AsyncIterable<LoadZoneItem>,
  o: LoadZonesOptions,
  cc: CreateContext,
  results: LoadZoneResult[],
): Promise<void> {
  for await (const item of items) {
    let result: LoadZoneResult;
    let key = item.name;
    try {
      key = normalizeZoneName(item.name);
      if (key.split('.').includes('*')) throw new BadZoneName(key, 'a zone name cannot contain a wildcard label');
      const records = item.text !== undefined ? parseText(key, item.text, item.file) : (item.records ?? []);
      const zoneTtl = o.zoneTtl ?? (item.text !== undefined ? textZoneTtl(item.text) : undefined);
      const ttlOpt = zoneTtl !== undefined ? { zoneTtl } : {};
      result = await writeTx(ctx.store, async (trx) => {
        let existing = null;
        try {
          existing = await findLiveZone(trx, ctx, key, true);
        } catch (e) {
          if (!(e instanceof ZoneNotFound)) throw e;
        }
        if (!existing) {
          const { result: r } = await createZoneIn(trx, ctx, cc, key, { ...o, ...ttlOpt, records }, records);
          return { name: key, action: 'created' as const, version: r.version, serial: r.serial, ...warningsOf(r) };
        }
        if (!o.replace) throw new ZoneExists(key);
        if (existing.lock_token !== null && existing.lock_expires !== null && Number(existing.lock_expires) > nowMs(ctx))
          throw new EditLockConflict(key, existing.locked_by, ms(existing.lock_expires));
        const r = await commitVersion(trx, ctx, existing, cc.settings, {
          records,
          comment: o.comment ?? (item.file ? `loaded from ${item.file}` : null),
          publish: !o.inhibitPublish,
          ...ttlOpt,
        });
        return { name: key, action: r.changed ? ('updated' as const) : ('unchanged' as const), version: r.version, serial: r.serial, ...warningsOf(r) };
      });
    } catch (e) {
      if (!(e instanceof DmsError)) throw e;
      result = { name: key, action: 'failed', error: e };
    }
    results.push(result);
    o.onResult?.(result);
    if (o.stopOnError && result.action === 'failed') return;
  }
}
