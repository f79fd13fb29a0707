// What dmsd needs: the published zone as served, and the change feed telling it which zones moved.

import { Name } from '../dns/name.js';
import { readTx, } from '../store/index.js';
import type { ServiceContext } from './context.js';
import { sql } from 'kysely';
import { CHANGE_CHANNEL, recordsAt, scopeZones, soaRecord, type ZiRow } from './core.js';
import { normalizeZoneName } from './names.js';
import type { ChangePoll, PublishedZone, ZoneChange } from './types.js';

export async function loadPublishedZone(ctx: ServiceContext, name: string): Promise<PublishedZone | null> {
  const key = normalizeZoneName(name);
  return readTx(ctx.store, async (trx) => {
    const zone = await trx
      .selectFrom('zones')
      .selectAll()
      .where('name', '=', key)
      .where('state', 'in', ['PUBLISHED', 'UPDATE'])
      .$call((q) => scopeZones(q, ctx, 'zones.id'))
      .executeTakeFirst();
    if (!zone || zone.published_version === null) return null;
    const zi = await trx
      .selectFrom('zone_instances')
      .selectAll()
      .where('zone_id', '=', zone.id)
      .where('version', '=', zone.published_version)
      .executeTakeFirst();
    if (!zi) return null;
    const records = (await recordsAt(trx, zone, zi, true)).map((r) => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, rdata: r.rdata }));
    return { zoneId: Number(zone.id), origin: Name.parse(zone.name), version: zi.version, serial: Number(zi.soa_serial), records };
  });
}

/**
 * Every served zone, a page of zones per pair of queries (dmsd start-up at 100k zones). Take `currentChangeSeq`
 * BEFORE calling this and follow changes from there: nothing published meanwhile is missed.
 */
export async function loadPublishedZones(
  ctx: ServiceContext,
  onZone: (zone: PublishedZone) => void | Promise<void>,
  o: { pageSize?: number } = {},
): Promise<number> {
  const pageSize = o.pageSize ?? 500;
  let after = '';
  let count = 0;
  for (;;) {
    const page = await ctx.store.db
      .selectFrom('zones as z')
      .innerJoin('zone_instances as zi', (j) => j.onRef('zi.zone_id', '=', 'z.id').onRef('zi.version', '=', 'z.published_version'))
      .select(['z.id', 'z.name', 'zi.version', 'zi.soa_serial', 'zi.soa_mname', 'zi.soa_rname', 'zi.soa_refresh', 'zi.soa_retry', 'zi.soa_expire', 'zi.soa_minimum', 'zi.soa_ttl', 'zi.zone_ttl'])
      .where('z.state', 'in', ['PUBLISHED', 'UPDATE'])
      .$call((q) => scopeZones(q, ctx, 'z.id'))
      .where('z.name', '>', after)
      .orderBy('z.name')
      .limit(sql.lit(pageSize))
      .execute();
    if (page.length === 0) return count;
    const rows = await ctx.store.db
      .selectFrom('records as r')
      .innerJoin('zones as z', 'z.id', 'r.zone_id')
      .select(['r.zone_id', 'z.published_version as pv', 'r.owner', 'r.type', 'r.rclass', 'r.ttl', 'r.rdata'])
      .where(
        'r.zone_id',
        'in',
        page.map((z) => z.id),
      )
      .where('r.disabled', '=', 0)
      .whereRef('r.from_version', '<=', 'z.published_version')
      .where((eb) => eb.or([eb('r.to_version', 'is', null), eb('r.to_version', '>', eb.ref('z.published_version'))]))
      .orderBy('r.zone_id')
      .orderBy('r.ord')
      .orderBy('r.id')
      .execute();
    const byZone = new Map<number, typeof rows>();
    for (const r of rows) {
      const id = Number(r.zone_id);
      const l = byZone.get(id);
      if (l) l.push(r);
      else byZone.set(id, [r]);
    }
    for (const z of page) {
      const list = byZone.get(Number(z.id)) ?? [];
      let zone: PublishedZone | null;
      if (list.some((r) => r.pv !== z.version)) {
        // Published again between our two queries: read that one zone on its own.
        zone = await loadPublishedZone(ctx, z.name);
      } else {
        const origin = Name.parse(z.name);
        const soa = soaRecord(origin, z as unknown as ZiRow);
        zone = {
          zoneId: Number(z.id),
          origin,
          version: z.version,
          serial: Number(z.soa_serial),
          records: [
            { name: soa.name, type: soa.type, class: soa.class, ttl: soa.ttl, rdata: soa.rdata },
            // The driver's Buffers are fresh per row and are Uint8Arrays: no copy needed.
            ...list.map((r) => ({ name: Name.parse(r.owner), type: r.type, class: r.rclass, ttl: Number(r.ttl), rdata: r.rdata })),
          ],
        };
      }
      if (zone) {
        await onZone(zone);
        count++;
      }
    }
    after = page[page.length - 1].name;
  }
}

export async function listServedZones(ctx: ServiceContext): Promise<string[]> {
  const rows = await ctx.store.db
    .selectFrom('zones')
    .select('name')
    .where('state', 'in', ['PUBLISHED', 'UPDATE'])
    .where('published_version', 'is not', null)
    .$call((q) => scopeZones(q, ctx, 'zones.id'))
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

export async function currentChangeSeq(ctx: ServiceContext): Promise<number> {
  const r = await ctx.store.db.selectFrom('zone_changes').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  const meta = await ctx.store.db.selectFrom('store_meta').select('changes_vacuumed_to').where('id', '=', 1).executeTakeFirst();
  return Math.max(Number(r?.m ?? 0), Number(meta?.changes_vacuumed_to ?? 0));
}

export async function pollChanges(ctx: ServiceContext, since: number, limit = 10000): Promise<ChangePoll> {
  const meta = await ctx.store.db.selectFrom('store_meta').select('changes_vacuumed_to').where('id', '=', 1).executeTakeFirst();
  const vacuumedTo = Number(meta?.changes_vacuumed_to ?? 0);
  const rows = await ctx.store.db.selectFrom('zone_changes').selectAll().where('seq', '>', since).orderBy('seq').limit(limit).execute();
  const changes: ZoneChange[] = rows.map((r) => ({
    seq: Number(r.seq),
    zoneId: Number(r.zone_id),
    zone: r.zone_name,
    kind: r.kind as ZoneChange['kind'],
    version: r.version,
    at: new Date(Number(r.at)),
  }));
  const seq = changes.length ? changes[changes.length - 1].seq : Math.max(since, 0);
  return { seq, changes, resync: since < vacuumedTo };
}

export function followChanges(
  ctx: ServiceContext,
  since: number,
  onChange: (poll: ChangePoll) => void | Promise<void>,
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): () => Promise<void> {
  const interval = o.intervalMs ?? 250;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let cursor = since;
  // On PostgreSQL a commit wakes the loop at once (NOTIFY); the interval stays as the safety net.
  let pending = false;
  const nudge = () => {
    pending = true;
    if (timer) clearTimeout(timer);
    wake?.();
  };
  const unlisten = ctx.store.listen?.(CHANGE_CHANNEL, nudge).catch((e) => {
    o.onError?.(e);
    return undefined;
  });
  const loop = (async () => {
    while (!stopped) {
      pending = false;
      try {
        const poll = await pollChanges(ctx, cursor);
        if (poll.changes.length > 0 || poll.resync) {
          await onChange(poll);
          cursor = Math.max(poll.seq, cursor);
          if (poll.resync) cursor = Math.max(cursor, await currentChangeSeq(ctx));
          if (poll.changes.length > 0) continue; // there may be more right away
        }
      } catch (e) {
        o.onError?.(e);
      }
      if (stopped) break;
      if (pending) continue; // a commit was announced while we polled
      await new Promise<void>((res) => {
        wake = res;
        timer = setTimeout(res, interval);
      });
      wake = undefined;
    }
  })();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    wake?.();
    await loop;
    await (await unlisten)?.();
  };
}
