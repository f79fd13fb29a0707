// Operations on the configuration DMS generates for its secondaries (issue 11): show_server_config, the server
// group settings that go into it (set_sg_config, set_sg_master_address, set_sg_alt_master_address) and where a
// server's file is published (set_server_config). Reading a configuration is admin's: it holds TSIG secrets.

import { z } from 'zod';
import { checkRendered } from '../server-config/checker.js';
import {
  getServerConfigSettings,
  getSgConfig,
  setServerConfig,
  setSgConfig,
  setSgMasterAddress,
  showServerConfig,
} from '../server-config/index.js';
import { ServerConfigRefused } from '../errors.js';
import { syncCatalogs } from '../server-config/catalog.js';
import { checkServer, pingServer, resetServerHealth } from '../server-config/health.js';
import { reconfigServer, reconfigServers } from '../server-config/publish.js';
import { deleteZoneAltSg, dupeZoneAltSg, refreshSg, setReplicaSg, showMasterStatus, showReplicaSg } from '../server-config/sg-ops.js';
import { zoneOf, zoneParam } from './zones.js';
import { ADMIN_ONLY, type Operation, op, STAFF } from './define.js';
import { sgParam } from './admin.js';

const serverParam = z.string().min(1).max(255).describe('server name');
const masterParam = z.string().min(1).max(64).describe('IPv4 or IPv6 address, optionally #port (192.0.2.1#5353)');

export const SG_CONFIG_OPERATIONS = {
  show_server_config: op({
    name: 'show_server_config',
    summary: "The configuration file DMS generates for a server (and BIND's options fragment); check=true runs the real checker",
    params: z.object({ server: serverParam, check: z.boolean().optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: async (ctx, p) => {
      const r = await showServerConfig(ctx, p.server);
      if (p.check) {
        const c = await checkRendered(r.type, r);
        if (!c.ok) throw new ServerConfigRefused(r.server, [`${c.command}: ${c.message}`]);
      }
      return r;
    },
  }),
  show_sg_config: op({
    name: 'show_sg_config',
    summary: 'What the secondaries of a server group are told: master addresses, transfer key, private ACL, replica, catalog',
    params: z.object({ sg: sgParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getSgConfig(ctx, p.sg),
  }),
  set_sg_config: op({
    name: 'set_sg_config',
    summary: "Set what a server group's secondaries are told (refused when it would break a server's configuration)",
    params: z
      .object({
        sg: sgParam,
        xfrKey: z.string().min(1).max(255).nullable().optional().describe('TSIG key the secondaries transfer with'),
        private: z.boolean().optional(),
        queryAcl: z.array(z.string().min(1).max(64)).max(1000).optional(),
        replica: z.boolean().optional(),
        useCatalog: z.boolean().optional(),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, { sg, ...o }) => setSgConfig(ctx, sg, o),
  }),
  set_sg_master_address: op({
    name: 'set_sg_master_address',
    summary: 'Set the address (and port) the secondaries of a server group transfer from',
    params: z.object({ sg: sgParam, address: masterParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setSgMasterAddress(ctx, p.sg, 'master', p.address),
  }),
  set_sg_alt_master_address: op({
    name: 'set_sg_alt_master_address',
    summary: 'Set (or with null clear) the alternate master address of a server group',
    params: z.object({ sg: sgParam, address: masterParam.nullable() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setSgMasterAddress(ctx, p.sg, 'alt', p.address),
  }),
  show_server_settings: op({
    name: 'show_server_settings',
    summary: "Where a server's configuration is published and the last publication's outcome",
    params: z.object({ server: serverParam }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => getServerConfigSettings(ctx, p.server),
  }),
  set_server_config: op({
    name: 'set_server_config',
    summary: "Set the directory a server's generated file is written into and the command that reloads it",
    params: z
      .object({
        server: serverParam,
        configDir: z.string().min(1).max(1024).nullable().optional(),
        zoneDir: z.string().min(1).max(1024).nullable().optional().describe("where the secondary keeps zone files (Knot's storage)"),
        reloadCmd: z.array(z.string().max(1024)).max(64).nullable().optional().describe('argv, e.g. ["rndc","reconfig"]'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, { server, ...o }) => setServerConfig(ctx, server, o),
  }),
  check_server: op({
    name: 'check_server',
    summary: 'Probe a server: answers over UDP and TCP, and serves every zone of its group at the published serial',
    params: z.object({ server: serverParam, timeoutMs: z.number().int().min(100).max(60000).optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => checkServer(ctx, p.server, p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
  }),
  ping_server: op({
    name: 'ping_server',
    summary: 'Ask a server a few DNS queries: does it answer on its port, and how fast (zone_tool ls_server -j)',
    params: z.object({ server: serverParam, count: z.number().int().min(1).max(20).optional() }).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx, p) => pingServer(ctx, p.server, p.count !== undefined ? { count: p.count } : {}),
  }),
  reset_server: op({
    name: 'reset_server',
    summary: "Forget a server's RETRY/BROKEN state (OK until the next check)",
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => resetServerHealth(ctx, p.server),
  }),
  dupe_zone_alt_sg: op({
    name: 'dupe_zone_alt_sg',
    summary: "Serve a zone from a second server group too (first step of moving it; apex NS stay the primary group's)",
    params: z.object({ zone: zoneParam, sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => dupeZoneAltSg(ctx, await zoneOf(ctx, p.zone), p.sg),
  }),
  delete_zone_alt_sg: op({
    name: 'delete_zone_alt_sg',
    summary: 'Stop serving a zone from its alternate server group (last step of moving it)',
    params: z.object({ zone: zoneParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => deleteZoneAltSg(ctx, await zoneOf(ctx, p.zone)),
  }),
  set_sg_replica_sg: op({
    name: 'set_sg_replica_sg',
    summary: 'Make a server group the replica group (it holds every zone); null: none',
    params: z.object({ sg: sgParam.nullable() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setReplicaSg(ctx, p.sg),
  }),
  show_replica_sg: op({
    name: 'show_replica_sg',
    summary: 'The replica server group, if any',
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx) => showReplicaSg(ctx),
  }),
  refresh_sg: op({
    name: 'refresh_sg',
    summary: 'NOTIFY every zone of a server group (and its catalog zone) to its servers again',
    params: z.object({ sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => refreshSg(ctx, p.sg),
  }),
  show_master_status: op({
    name: 'show_master_status',
    summary: "Per server group: zones, catalog zone and serial, each server's state and last published configuration",
    params: z.object({}).strict(),
    tiers: STAFF,
    mutates: false,
    run: (ctx) => showMasterStatus(ctx),
  }),
  reconfig_server: op({
    name: 'reconfig_server',
    summary: "Write a server's configuration (after the real checker accepted it) and run its reload command",
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => {
      await syncCatalogs(ctx);
      return reconfigServer(ctx, p.server);
    },
  }),
  reconfig_sg: op({
    name: 'reconfig_sg',
    summary: "Bring a server group's catalog zone up to date and publish the configuration of each of its servers",
    params: z.object({ sg: sgParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx, p) => ({ catalogs: await syncCatalogs(ctx, { sg: p.sg }), servers: await reconfigServers(ctx, { sg: p.sg }) }),
  }),
  reconfig_all: op({
    name: 'reconfig_all',
    summary: 'Bring every catalog zone up to date and publish the configuration of every server',
    params: z.object({}).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: async (ctx) => ({ catalogs: await syncCatalogs(ctx), servers: await reconfigServers(ctx) }),
  }),
} satisfies Record<string, Operation>;
