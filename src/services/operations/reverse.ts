// Automatic reverse PTRs in bulk (issue 14): refresh_zone_ptrs (the auto-PTR rules over a whole forward zone, with a
// dry run listing the changes) and check_reverse (forward address records whose PTR is missing or names another).

import { z } from 'zod';
import { checkReverse, refreshZonePtrs } from '../reverse-bulk.js';
import { ALL_TIERS, type Operation, op } from './define.js';
import { zoneOf, zoneParam } from './zones.js';

export const REVERSE_OPERATIONS = {
  refresh_zone_ptrs: op({
    name: 'refresh_zone_ptrs',
    summary: 'Re-run the automatic reverse PTR rules for every A/AAAA record of a forward zone (dryRun: list the changes only)',
    params: z.object({ zone: zoneParam, dryRun: z.boolean().default(false) }).strict(),
    tiers: ALL_TIERS,
    mutates: true,
    run: async (ctx, p) => refreshZonePtrs(ctx, await zoneOf(ctx, p.zone), { dryRun: p.dryRun }),
  }),
  check_reverse: op({
    name: 'check_reverse',
    summary: 'The A/AAAA records of a forward zone whose reverse PTR is missing, names another host, or has no reverse zone',
    params: z.object({ zone: zoneParam, all: z.boolean().default(false).describe('list the records whose PTR is right too') }).strict(),
    tiers: ALL_TIERS,
    mutates: false,
    run: async (ctx, p) => {
      const r = await checkReverse(ctx, await zoneOf(ctx, p.zone));
      return p.all ? r : { ...r, items: r.items.filter((i) => i.status !== 'ok') };
    },
  }),
} satisfies Record<string, Operation>;
