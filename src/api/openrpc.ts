// The OpenRPC document (GET /openrpc.json): one method per operation, its parameters' JSON Schema generated from the
// same zod schemas that validate them (z.toJSONSchema), so the document cannot drift from what the server accepts.

import { z } from 'zod';
import { listOperations, type Operation } from '../services/index.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
}

function schemaOf(op: Operation): JsonSchema {
  try {
    // "input": what a caller sends (defaults are optional there); unrepresentable parts become {} instead of failing.
    return z.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return { type: 'object' };
  }
}

export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string; description: string };
  servers: { name: string; url: string }[];
  methods: {
    name: string;
    summary: string;
    description: string;
    paramStructure: 'by-name';
    params: { name: string; required: boolean; schema: JsonSchema; description?: string }[];
    result: { name: string; schema: JsonSchema };
    errors: { code: number; message: string }[];
    'x-tiers': readonly string[];
    'x-mutates': boolean;
  }[];
}

const ERRORS = [
  { code: -32602, message: 'invalid params (data.problems: field paths)' },
  { code: -32000, message: 'invalid (data.exception_type: the DMS error code)' },
  { code: -32001, message: 'not found (ZoneNotFound also for zones of other tenants)' },
  { code: -32002, message: 'already exists' },
  { code: -32003, message: 'in use' },
  { code: -32004, message: 'unavailable' },
  { code: -32005, message: 'conflict (stale edit token, concurrent change)' },
  { code: -32006, message: 'permission denied' },
];

export function openRpcDocument(version: string, url = '/jsonrpc'): OpenRpcDocument {
  return {
    openrpc: '1.3.2',
    info: {
      title: 'DMS JSON-RPC API',
      version,
      description:
        'JSON-RPC 2.0 over HTTP(S); named parameters only. Authenticate with HTTP Basic (an API account) or a bearer token. ' +
        'Customers see only the zones of their security tag; another tenant\'s zone is "not found".',
    },
    servers: [{ name: 'dmsd', url }],
    methods: listOperations().map((op) => {
      const s = schemaOf(op);
      const required = new Set(s.required ?? []);
      return {
        name: op.name,
        summary: op.summary,
        description: `${op.summary}. Tiers: ${op.tiers.join(', ')}${op.mutates ? '; changes data' : '; read-only'}.`,
        paramStructure: 'by-name' as const,
        // Parameters only an in-process caller can give (zone_tool's streamed file) are not part of the API.
        params: Object.entries(s.properties ?? {})
          .filter(([, schema]) => schema['x-in-process'] !== true)
          .map(([name, schema]) => ({
          name,
          required: required.has(name),
          schema,
          ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        })),
        result: { name: 'result', schema: {} },
        errors: ERRORS,
        'x-tiers': op.tiers,
        'x-mutates': op.mutates,
      };
    }),
  };
}
