// Operations on per server group templates and per server pull tokens (issue 11; server-config/templates.ts).
// Templates go into secondaries' configuration and tokens fetch files holding TSIG secrets: admin's business.

import { z } from 'zod';
import {
  createServerToken,
  deleteServerToken,
  deleteSgTemplate,
  setSgTemplate,
  showSgTemplates,
  TEMPLATE_MAX,
} from '../server-config/templates.js';
import { sgParam } from './admin.js';
import { ADMIN_ONLY, type Operation, op } from './define.js';

const typeParam = z.enum(['bind9', 'knot', 'nsd']).describe('server type');
const serverParam = z.string().min(1).max(255).describe('server name');

export const SG_TEMPLATE_OPERATIONS = {
  set_sg_template: op({
    name: 'set_sg_template',
    summary: "Set a server group's template for one server type (stored only once the real checker accepts every file it produces)",
    params: z
      .object({
        sg: sgParam,
        type: typeParam,
        template: z.string().min(1).max(TEMPLATE_MAX).describe('zone options (BIND), zone template options (Knot) or pattern options (NSD); {sg} {id} {master} {key}'),
      })
      .strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => setSgTemplate(ctx, p.sg, p.type, p.template),
  }),
  show_sg_template: op({
    name: 'show_sg_template',
    summary: "A server group's templates (all types, or one)",
    params: z.object({ sg: sgParam, type: typeParam.optional() }).strict(),
    tiers: ADMIN_ONLY,
    mutates: false,
    run: (ctx, p) => showSgTemplates(ctx, p.sg, p.type),
  }),
  delete_sg_template: op({
    name: 'delete_sg_template',
    summary: "Remove a server group's template for one server type",
    params: z.object({ sg: sgParam, type: typeParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => deleteSgTemplate(ctx, p.sg, p.type),
  }),
  create_server_token: op({
    name: 'create_server_token',
    summary: 'Make a pull token for GET /config/<server> (that server only; replaces its previous one); shown once',
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => createServerToken(ctx, p.server),
  }),
  delete_server_token: op({
    name: 'delete_server_token',
    summary: "Revoke a server's pull token",
    params: z.object({ server: serverParam }).strict(),
    tiers: ADMIN_ONLY,
    mutates: true,
    run: (ctx, p) => deleteServerToken(ctx, p.server),
  }),
} satisfies Record<string, Operation>;
