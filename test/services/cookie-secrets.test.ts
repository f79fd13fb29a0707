// The DNS Cookie secret in the database (migration 0021, services/cookies.ts) on SQLite and PostgreSQL: created on
// first use, the same for every process of the installation, rotated in the RFC 9018 §5 order (a new secret is
// accepted at once, used to make cookies only after the activation delay; the one it replaces stays accepted), old
// ones forgotten.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);
const MIN = 60_000;
const DAY = 24 * 3600_000;

for (const backend of backends)
  describe(`DNS cookie secrets on ${backend.name}`, () => {
    let s: Store;
    let s2: Store;
    before(async () => {
      s = await backend.open();
      s2 = await backend.reopen();
    });
    after(async () => {
      await s?.close();
      await s2?.close();
    });

    test('one shared secret, rotated daily: staged, then current, then previous, then gone', async () => {
      const clock = manualClock(Date.UTC(2026, 0, 1));
      const a = ctxOf(s, 'dmsd', { clock });
      const b = ctxOf(s2, 'dmsd', { clock });
      const first = await svc.dnsCookieSecrets(a);
      assert.equal(first.current.length, 16);
      assert.equal(first.previous, undefined);
      assert.equal(first.next, undefined);
      // Another process (another connection) reads the same secret, and does not make a new one.
      assert.equal(hex((await svc.dnsCookieSecrets(b)).current), hex(first.current));
      clock.advance(DAY - MIN);
      assert.deepEqual(await svc.dnsCookieSecrets(b), first);
      // A day later: a new secret, accepted by everyone at once but not yet used to make cookies.
      clock.advance(2 * MIN);
      const staged = await svc.dnsCookieSecrets(a);
      assert.equal(hex(staged.current), hex(first.current));
      assert.ok(staged.next && hex(staged.next) !== hex(first.current));
      assert.equal(hex((await svc.dnsCookieSecrets(b)).next), hex(staged.next), 'the other process sees the same new secret');
      // After the activation delay it makes the cookies; the old one is still accepted.
      clock.advance(6 * MIN);
      const rolled = await svc.dnsCookieSecrets(b);
      assert.equal(hex(rolled.current), hex(staged.next));
      assert.equal(hex(rolled.previous), hex(first.current));
      assert.equal(rolled.next, undefined);
      // Another day: the first secret is forgotten.
      clock.advance(DAY);
      await svc.dnsCookieSecrets(a);
      clock.advance(6 * MIN);
      const third = await svc.dnsCookieSecrets(a);
      assert.equal(hex(third.previous), hex(staged.next));
      assert.notEqual(hex(third.current), hex(first.current));
      assert.notEqual(hex(third.previous), hex(first.current));
    });
  });
