// The API's pure pieces: Authorization header parsing, the failed-login guard, token scope checks (no database:
// read-only and ACME scopes decide before any zone is looked up), the loopback rule, catalogue errors as JSON-RPC
// errors, and JSON of results.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { ACME_OPERATIONS, LoginGuard, parseAuthorization, tokenScopeCheck } from '../../src/api/auth.js';
import { errorOf, INVALID_PARAMS, KIND_CODE, METHOD_NOT_FOUND, toJson } from '../../src/api/jsonrpc.js';
import { isLoopback } from '../../src/api/server.js';
import { Name } from '../../src/dns/name.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';

test('parseAuthorization: Basic (password may hold colons) and Bearer; anything else is no credentials', () => {
  const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseAuthorization(b('bob:pa:ss')), { kind: 'basic', login: 'bob', password: 'pa:ss' });
  assert.deepEqual(parseAuthorization('bearer dms_abc'), { kind: 'bearer', token: 'dms_abc' });
  assert.equal(parseAuthorization(undefined), undefined);
  assert.equal(parseAuthorization(b('nocolon')), undefined);
  assert.equal(parseAuthorization(b(':pw')), undefined);
  assert.equal(parseAuthorization('Digest x=y'), undefined);
});

test('LoginGuard: blocks an address past the limit for a while, others unaffected; success clears', () => {
  const g = new LoginGuard(3, 60_000, 30_000);
  const t = 1_000_000;
  for (let i = 0; i < 3; i++) g.failed('192.0.2.1', t + i);
  assert.equal(g.retryAfter('192.0.2.1', t + 3), 0, 'at the limit, not past it');
  g.failed('192.0.2.1', t + 4);
  assert.equal(g.retryAfter('192.0.2.1', t + 5), 30);
  assert.equal(g.retryAfter('192.0.2.2', t + 5), 0);
  assert.equal(g.retryAfter('192.0.2.1', t + 4 + 30_001), 0, 'the block ends');
  g.failed('192.0.2.3', t);
  g.succeeded('192.0.2.3');
  for (let i = 0; i < 3; i++) g.failed('192.0.2.3', t + 100_000 + i);
  assert.equal(g.retryAfter('192.0.2.3', t + 100_010), 0, 'old failures do not count');
});

const ctx = svc.serviceContext({} as Store);
const op = (name: string, mutates: boolean): svc.Operation =>
  ({ name, summary: '', params: z.object({}), tiers: ['admin'], mutates, run: async () => null }) as svc.Operation;
const token = (o: Partial<svc.TokenInfo>): svc.TokenInfo => ({
  id: 1,
  login: 'x',
  zone: null,
  readOnly: false,
  acmeOnly: false,
  expires: null,
  ctime: new Date(0),
  lastUsed: null,
  ...o,
});

test('token scopes: no check for a plain token; read-only refuses mutating operations', async () => {
  assert.equal(tokenScopeCheck(ctx, token({})), undefined);
  assert.equal(tokenScopeCheck(ctx, undefined), undefined);
  const ro = tokenScopeCheck(ctx, token({ readOnly: true }));
  assert.ok(ro);
  await ro(op('list_zone', false), {});
  await assert.rejects(ro(op('delete_zone', true), { zone: 'x.test' }), svc.PermissionDenied);
});

test('ACME-only: only the ACME operations, and only TXT records under _acme-challenge', async () => {
  const acme = tokenScopeCheck(ctx, token({ acmeOnly: true }));
  assert.ok(acme);
  const [name] = [...ACME_OPERATIONS];
  await assert.rejects(acme(op('create_zone', true), { zone: 'x.test' }), svc.PermissionDenied);
  await acme(op(name, true), { zone: 'x.test', add: [{ name: '_acme-challenge.www', type: 'TXT', rdata: '"t"' }] });
  await acme(op(name, true), { zone: 'x.test', delete: [{ owner: '_ACME-challenge', type: 16 }] });
  await assert.rejects(acme(op(name, true), { zone: 'x.test', add: [{ name: 'www', type: 'TXT' }] }), svc.PermissionDenied);
  await assert.rejects(acme(op(name, true), { zone: 'x.test', add: [{ name: '_acme-challenge', type: 'A' }] }), svc.PermissionDenied);
  await assert.rejects(acme(op(name, true), { zone: 'x.test', text: '_acme-challenge TXT x' }), svc.PermissionDenied, 'no records: nothing to vouch for');
  await assert.rejects(
    acme(op(name, true), { zone: 'x.test', add: [{ name: '_acme-challenge', type: 'TXT' }, { name: 'mail', type: 'MX' }] }),
    svc.PermissionDenied,
  );
});

test('a zone-scoped token must name a zone', async () => {
  const zs = tokenScopeCheck(ctx, token({ zone: 'a.test.' }));
  assert.ok(zs);
  await assert.rejects(zs(op('list_zone', false), {}), svc.PermissionDenied);
  await assert.rejects(zs(op('destroy_zone', true), { zoneId: 3 }), svc.PermissionDenied);
});

test('isLoopback', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['0.0.0.0', '::', '192.0.2.1', '10.0.0.1', '128.0.0.1']) assert.ok(!isLoopback(a), a);
});

test('catalogue errors → JSON-RPC errors by kind, with exception_type, message and details', () => {
  const nf = errorOf(new svc.ZoneNotFound('x.test.'));
  assert.equal(nf?.code, KIND_CODE.not_found);
  assert.equal(nf?.data?.exception_type, 'ZONE_NOT_FOUND');
  assert.deepEqual(nf?.data?.details, { zone: 'x.test.' });
  const ip = errorOf(new svc.InvalidParams('set_zone', [{ path: 'flags.editLock', message: 'expected boolean' }]));
  assert.equal(ip?.code, INVALID_PARAMS);
  assert.deepEqual(ip?.data?.problems, [{ path: 'flags.editLock', message: 'expected boolean' }]);
  assert.equal(errorOf(new svc.UnknownOperation('x'))?.code, METHOD_NOT_FOUND);
  const v = errorOf(new svc.ZoneValidationFailed('x.test.', [{ severity: 'error', message: 'bad', line: 3, owner: 'www.x.test.', type: 'A' }]));
  assert.equal(v?.code, KIND_CODE.invalid);
  assert.equal((v?.data?.details as { problems: { line: number }[] } | undefined)?.problems[0].line, 3);
  assert.equal(errorOf(new Error('boom')), undefined, 'not a catalogue error: internal, message not shown');
  for (const code of Object.keys(svc.ERROR_KIND) as svc.DmsErrorCode[]) assert.ok(KIND_CODE[svc.ERROR_KIND[code]] !== undefined, code);
});

test('toJson: dates as ISO, bytes as base64, names as text, maps and sets', () => {
  const j = JSON.parse(toJson({ d: new Date(0), b: new Uint8Array([1, 2]), n: Name.parse('www.example.'), m: new Map([['k', 1]]), s: new Set([2]) }));
  assert.deepEqual(j, { d: '1970-01-01T00:00:00.000Z', b: 'AQI=', n: 'www.example.', m: { k: 1 }, s: [2] });
});
