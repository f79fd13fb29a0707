// What dmsd needs: the published zone as served, and the change feed telling it which zones moved.

import { Name } from '../dns/name.js';
import { readTx, type Store } from '../store/index.js';
import { recordsAt } from './core.js';
import { normalizeZoneName } from './names.js';
import type { ChangePoll, PublishedZone, ZoneChange } from './types.js';

export async function loadPublishedZone(s: Store, name: string): Promise<PublishedZone | null> {
  const key = normalizeZoneName(name);
  return readTx(s, async (trx) => {
    const zone = await trx
      .selectFrom('zones')
      .selectAll()
      .where('name', '=', key)
      .where('state', 'in', ['PUBLISHED', 'UPDATE'])
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

export async function listServedZones(s: Store): Promise<string[]> {
  const rows = await s.db
    .selectFrom('zones')
    .select('name')
    .where('state', 'in', ['PUBLISHED', 'UPDATE'])
    .where('published_version', 'is not', null)
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

export async function currentChangeSeq(s: Store): Promise<number> {
  const r = await s.db.selectFrom('zone_changes').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  const meta = await s.db.selectFrom('store_meta').select('changes_vacuumed_to').where('id', '=', 1).executeTakeFirst();
  return Math.max(Number(r?.m ?? 0), Number(meta?.changes_vacuumed_to ?? 0));
}

export async function pollChanges(s: Store, since: number, limit = 10000): Promise<ChangePoll> {
  const meta = await s.db.selectFrom('store_meta').select('changes_vacuumed_to').where('id', '=', 1).executeTakeFirst();
  const vacuumedTo = Number(meta?.changes_vacuumed_to ?? 0);
  const rows = await s.db.selectFrom('zone_changes').selectAll().where('seq', '>', since).orderBy('seq').limit(limit).execute();
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
  s: Store,
  since: number,
  onChange: (poll: ChangePoll) => void | Promise<void>,
  o: { intervalMs?: number; onError?: (e: unknown) => void } = {},
): () => Promise<void> {
  const interval = o.intervalMs ?? 250;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let cursor = since;
  const loop = (async () => {
    while (!stopped) {
      try {
        const poll = await pollChanges(s, cursor);
        if (poll.changes.length > 0 || poll.resync) {
          await onChange(poll);
          cursor = Math.max(poll.seq, cursor);
          if (poll.resync) cursor = Math.max(cursor, await currentChangeSeq(s));
          if (poll.changes.length > 0) continue; // there may be more right away
        }
      } catch (e) {
        o.onError?.(e);
      }
      if (stopped) break;
      await new Promise<void>((res) => {
        wake = res;
        timer = setTimeout(res, interval);
      });
    }
  })();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    wake?.();
    await loop;
  };
}
