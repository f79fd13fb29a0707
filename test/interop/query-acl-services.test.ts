// Query ACL services (allow-query, issue 15) on SQLite and a real PostgreSQL: entries per zone and per server group
// through the operations (validation, tiers), the lists in force (a zone's own list replaces its group's; zones of
// a group without a list are open), each change written to the change feed as kind 'acl', and entries going with
// their zone or group.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as services from '../../src/services/index.js';
import { call } from '../../src/services/operations/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends({ lazy: true });
const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

for (const b of backends)
  describe(`query ACLs (${b.name})`, () => {
    test('entries, lists in force, feed rows, validation', async () => {
      const store = await b.open();
      try {
        const ctx = ctxOf(store);
        for (const z of ['a.test', 'b.test', 'c.test']) await call(ctx, 'load_zone', { zone: z, text: TEXT });
        await call(ctx, 'create_sg', { sg: 'private', apexNs: ['ns1.private.test.'] });
        await call(ctx, 'set_zone_sg', { zone: 'b.test', sg: 'private' });
        await call(ctx, 'set_zone_sg', { zone: 'c.test', sg: 'private' });
        const seq0 = await services.currentChangeSeq(ctx);
        const e1 = await call(ctx, 'add_query_acl', { zone: 'A.test', address: '192.0.2.0/24' });
        assert.deepEqual(e1, { id: e1.id, zone: 'a.test.', sg: null, address: '192.0.2.0/24' });
        await call(ctx, 'add_query_acl', { zone: 'a.test', address: '2001:db8::1' });
        const g = await call(ctx, 'add_query_acl', { sg: 'private', address: '10.0.0.0/8' });
        await call(ctx, 'add_query_acl', { zone: 'c.test', address: '127.0.0.1' });
        const poll = await services.pollChanges(ctx, seq0);
        assert.deepEqual(poll.changes.map((c) => [c.kind, c.zone]), Array(4).fill(['acl', '.']));
        let m = await services.queryAclMap(ctx);
        assert.equal(m.groups, true);
        assert.deepEqual(Object.fromEntries(m.zones), { 'a.test.': ['192.0.2.0/24', '2001:db8::1'], 'b.test.': ['10.0.0.0/8'], 'c.test.': ['127.0.0.1'] });
        assert.deepEqual(Object.fromEntries(await services.queryAclOf(ctx, ['b.test', 'nx.test', 'C.TEST.'])), { 'b.test.': ['10.0.0.0/8'], 'nx.test.': null, 'c.test.': ['127.0.0.1'] });
        assert.deepEqual((await call(ctx, 'list_query_acl', { sg: 'private' })).map((e) => e.address), ['10.0.0.0/8']);
        assert.equal((await call(ctx, 'list_query_acl', {})).length, 4);
        // Bad input: not a prefix, both targets, unknown zone.
        await assert.rejects(call(ctx, 'add_query_acl', { zone: 'a.test', address: '192.0.2.0/33' }), /bad address/);
        await assert.rejects(call(ctx, 'add_query_acl', { zone: 'a.test', sg: 'private', address: '192.0.2.1' }), /either zone or sg/);
        await assert.rejects(call(ctx, 'add_query_acl', { zone: 'nx.test', address: '192.0.2.1' }), /nx\.test/);
        // A zone-tier user may not set a group's list.
        await assert.rejects(call(ctxOf(store, 'u@test/Staff', { tenant: { tier: 'staff', sectag: '*' } as never }), 'add_query_acl', { sg: 'private', address: '192.0.2.1' }), /denied|permission/i);
        // Deleting the group entry opens b.test; deleting a zone and its entries go.
        await call(ctx, 'delete_query_acl', { id: g.id });
        await call(ctx, 'delete_zone', { zone: 'a.test' });
        m = await services.queryAclMap(ctx);
        assert.equal(m.groups, false);
        assert.deepEqual(Object.fromEntries(m.zones), { 'c.test.': ['127.0.0.1'] });
        await assert.rejects(call(ctx, 'delete_query_acl', { id: 99999 }), /no query ACL entry/);
      } finally {
        await store.close();
      }
    });
  });
