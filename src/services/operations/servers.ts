// Operations on the secondary servers of server groups (issue 4), with the original DMS names: an enabled server is
// NOTIFYed on every publish of its group's zones. Reading them is for staff; changing them (they are the
// infrastructure every zone of a group depends on) is admin's.

import { z } from 'zod';
import {
  createServer,
  deleteServer,
  disableServer,
  enableServer,
  getServer,
  getServersByAddress,
  listServers,
  moveServerSg,
  renameServer,
  setServerAddress,
  setServerType,
} from '../servers.js';
import { ADMIN_ONLY, type Operation, op, STAFF } from './define.js';
import { sgParam } from './admin.js';

/** The services check the form (letters, digits, '.', '_', '-'; up to 63) and say what is wrong. */
const serverParam = z.string().min(1).max(255).describe('server name');
const addressParam = z
  .string()
  .min(1)
  .max(64)
  .describe('IPv4 or IPv6 address, optionally with #port (192.0.2.1#5353, [2001:db8::1]#5353)');
const typeParam = z.string().min(1).max(16).describe('bind9, nsd or knot');
const portParam = z.number().int().min(1).max(65535);

export const SERVER_OPERATIONS = {
  create_server: op({
    name: 'create_server',
    summary: 'Create a secondary server in a server group (default: default_sg), enabled',
    params: z
      .object({ server: serverParam, address: addressParam, port: portParam.optional(), sg: sgParam.optional(), type: typeParam.optional() })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, { server, address, ...o }) => createServer(ctx, server, address, o),
  }),
  list_server: op({
    name: 'list_server',
    summary: 'List servers (of a server group)',
    params: z
      .object({
        sg: sgParam.optional(),
        names: z.array(z.string().min(1).max(255).regex(/^[^\s]+$/, 'a server name; * and ? as wildcards')).max(100).optional(),
      })
      .strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => listServers(ctx, { ...(p.sg !== undefined ? { sg: p.sg } : {}), ...(p.names !== undefined ? { names: p.names } : {}) }),
  }),
  show_server: op({
    name: 'show_server',
    summary: 'A server',
    params: z.object({ server: serverParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getServer(ctx, p.server),
  }),
  show_server_byaddr: op({
    name: 'show_server_byaddr',
    summary: 'The servers at an address (any port unless #port is given)',
    params: z.object({ address: addressParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getServersByAddress(ctx, p.address),
  }),
  delete_server: op({
    name: 'delete_server',
    summary: 'Delete a server',
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await deleteServer(ctx, p.server);
      return { server: p.server, deleted: true as const };
    },
  }),
  set_server_address: op({
    name: 'set_server_address',
    summary: 'Set the address (and port) of a server',
    params: z.object({ server: serverParam, address: addressParam, port: portParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setServerAddress(ctx, p.server, p.address, p.port),
  }),
  set_server_type: op({
    name: 'set_server_type',
    summary: 'Set the type of a server (informational)',
    params: z.object({ server: serverParam, type: typeParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setServerType(ctx, p.server, p.type),
  }),
  rename_server: op({
    name: 'rename_server',
    summary: 'Rename a server',
    params: z.object({ server: serverParam, to: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => renameServer(ctx, p.server, p.to),
  }),
  move_server_sg: op({
    name: 'move_server_sg',
    summary: 'Move a server to another server group (NOTIFYed for the new group from the next publish on)',
    params: z.object({ server: serverParam, sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => moveServerSg(ctx, p.server, p.sg),
  }),
  enable_server: op({
    name: 'enable_server',
    summary: 'Enable a server (NOTIFYed again from the next publish on)',
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => enableServer(ctx, p.server),
  }),
  disable_server: op({
    name: 'disable_server',
    summary: 'Disable a server (no longer NOTIFYed; its transfer rules still apply)',
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => disableServer(ctx, p.server),
  }),
} satisfies Record<string, Operation>;
