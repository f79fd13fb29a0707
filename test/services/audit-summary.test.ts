// The audit entry of an operation names what was done, never the zone text or secrets it carried, at any depth
// (a load_zones batch carries zone text inside its items).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

for (const backend of backends)
  describe(`audit summaries on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
    });
    after(async () => {
      await s?.close();
    });

    test('a batch of zone texts is audited without the texts', async () => {
      const admin = ctxOf(s);
      const secretish = 'www A 192.0.2.77 ; SHOULD-NOT-BE-AUDITED';
      // Every item fails (an A record with no address, a bad address): nothing reaches the zone commit path, so the
      // operation itself is audited, with its parameters.
      await svc.call(admin, 'load_zones', {
        zones: [
          { zone: 'audited-a.test', text: `$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\n${secretish}\nbad A\n` },
          { zone: 'audited-b.test', text: 'www A 192.0.2.300\n' },
        ],
      });
      const entries = await svc.listAudit(admin, {});
      assert.ok(entries.length > 0, 'the batch is audited');
      for (const e of entries) assert.doesNotMatch(JSON.stringify(e), /SHOULD-NOT-BE-AUDITED|192\.0\.2\.300/);
    });
  });
