// Operations for query ACLs (allow-query, issue 15): per zone, or per server group (admin), address prefixes allowed
// to query; outside them dmsd answers REFUSED.

import { z } from 'zod';
import { addQueryAcl, deleteQueryAcl, listQueryAcl } from '../query-acl.js';
import { op, STAFF } from './define.js';
import { deleteEntryOp, listEntriesOp, ONE_TARGET, oneTarget, targetOf, targetShape } from './primary.js';

export const QUERY_ACL_OPERATIONS = {
  add_query_acl: op({
    name: 'add_query_acl',
    summary: 'Allow queries to a zone or to the zones of a server group from an address or CIDR prefix (the first entry restricts: others are REFUSED)',
    params: z
      .object({ ...targetShape, address: z.string().min(1).max(64).describe('address or CIDR prefix') })
      .strict()
      .refine(oneTarget, ONE_TARGET),
    tiers: STAFF,
    mutates: true,
    run: async (ctx, { zone, sg, address }) => addQueryAcl(ctx, await targetOf(ctx, 'add_query_acl', { zone, sg }), address),
  }),
  list_query_acl: listEntriesOp('list_query_acl', 'The query ACL entries of a zone or server group; without either, every entry', listQueryAcl),
  delete_query_acl: deleteEntryOp('delete_query_acl', 'Delete a query ACL entry by id (a list emptied lets everyone query again)', listQueryAcl, deleteQueryAcl),
};
