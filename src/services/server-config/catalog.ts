// Catalog zones (RFC 9432, schema version 2), one per server group (issue 11). A catalog is an ordinary DMS zone in
// its group: stored with its history, served by dmsd, transferred under the group's transfer rules, NOTIFYed to the
// group's servers, followed by IXFR — so a BIND 9.18 or Knot secondary configured with the catalog gets a new zone of
// the group without any configuration change. syncCatalogs() makes each catalog list exactly the group's live zones
// (a new version only when the member set changed); dmsd runs it after zone changes, batched.
//
// Member ids (RFC 9432 §4.1) are "m" + the zone's row id: stable for the life of the zone (rename does not exist; a
// set_zone_sg keeps the id), and a zone deleted and created again gets a new one, which tells the consumer to start
// that member afresh (§5.4). Zones in the group through their alternate SG carry the `group` property (§4.4.2)
// naming the Knot template for them (render.ts).

import { readTx, writeTx } from '../../store/index.js';
import { groupRowsWithZoneCount } from '../../store/queries/groups.js';
import { catalogZoneIds, serverIdsOfGroups, sgConfigRow, upsertSgConfig, zonesOfGroup } from '../../store/queries/sgconfig.js';
import { zoneNamesById } from '../../store/queries/zones.js';
import type { ServiceContext } from '../context.js';
import { createZone, saveZoneText } from '../zones.js';
import type { ServedFilter } from './index.js';
import { CATALOG_TYPES, groupId } from './render.js';

/** The catalog zone name DMS gives a group when it makes its catalog: one label from the group name, under .invalid. */
export function catalogNameFor(sg: string, id: number): string {
  const label = sg.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || `sg${id}`;
  return `${label}.catalog.invalid.`;
}

/** The catalog's zone text for a member list (RFC 9432: SOA, NS "invalid.", version "2", one PTR per member). */
export function catalogText(sg: string, members: readonly { id: number; name: string; alt: boolean }[]): string {
  const lines = [
    '$TTL 0',
    '@ SOA invalid. invalid. 1 3600 600 2147483646 0',
    '@ NS invalid.',
    'version TXT "2"',
  ];
  for (const m of members) {
    lines.push(`m${m.id}.zones PTR ${m.name}`);
    if (m.alt) lines.push(`group.m${m.id}.zones TXT "${groupId(sg)}-alt"`);
  }
  return `${lines.join('\n')}\n`;
}

export interface CatalogSync {
  sg: string;
  catalog: string;
  /** A new version was published. */
  changed: boolean;
  members: number;
  /** Zones of the group left out because dmsd does not serve them yet (with `served` only). */
  held: string[];
}

/**
 * Bring every group's catalog zone up to date (creating it the first time a group with servers uses catalogs). Only a
 * changed member set makes a new version (commitVersion compares the records).
 */
export async function syncCatalogs(ctx: ServiceContext, o: { sg?: string; served?: ServedFilter } = {}): Promise<CatalogSync[]> {
  const groups = await readTx(ctx.store, async (trx) => {
    const out: { id: number; name: string; catalogId: number | null; catalog: string | null; members: { id: number; name: string; alt: boolean }[]; held: string[] }[] = [];
    const exclude = await catalogZoneIds(trx);
    const servers = await serverIdsOfGroups(trx);
    for (const g of await groupRowsWithZoneCount(trx, o.sg)) {
      const id = Number(g.id);
      const c = await sgConfigRow(trx, id);
      // A catalog is made once it can be used: the group has a master address (without one no secondary can be
      // configured) and a server of a type that reads catalogs. Once made, it is kept up to date.
      const consumers = servers.some((s) => s.sg_id === id && (CATALOG_TYPES as readonly string[]).includes(s.server_type));
      if (c.use_catalog !== 1 || (c.catalog_zone_id === null && (!consumers || !g.master_address))) continue;
      const catalog = c.catalog_zone_id === null ? null : ((await zoneNamesById(trx, [c.catalog_zone_id])).get(c.catalog_zone_id) ?? null);
      const all = await zonesOfGroup(trx, id, { replica: c.replica === 1, exclude });
      // A member the consumer would ask dmsd for before dmsd serves it gets REFUSED, and BIND and Knot then back off
      // for minutes: dmsd lists a zone once it serves it (the next run after its zone table took it in).
      const members = o.served ? all.filter((m) => o.served?.(m.name)) : all;
      const held = o.served ? all.filter((m) => !o.served?.(m.name)).map((m) => m.name) : [];
      out.push({ id, name: g.name, catalogId: c.catalog_zone_id, catalog, members, held });
    }
    return out;
  });
  const out: CatalogSync[] = [];
  for (const g of groups) {
    const text = catalogText(g.name, g.members);
    if (g.catalog === null) {
      const name = catalogNameFor(g.name, g.id);
      const z = await createZone(ctx, name, { sg: g.name, text, flags: { useApexNs: false }, comment: `catalog zone of server group ${g.name}` });
      await writeTx(ctx.store, (trx) => upsertSgConfig(trx, g.id, { catalog_zone_id: z.id }));
      out.push({ sg: g.name, catalog: z.name, changed: true, members: g.members.length, held: g.held });
    } else {
      const r = await saveZoneText(ctx, g.catalog, text, { comment: 'catalog members' });
      out.push({ sg: g.name, catalog: g.catalog, changed: r.changed, members: g.members.length, held: g.held });
    }
  }
  return out;
}
