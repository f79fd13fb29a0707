// The service context on both backends: the actor is what a ZI records as change_by and the edit lock as its holder,
// and the context's clock is the time of the operation (ZI times, serial date, edit-lock expiry, event schedule,
// vacuum ages), so none of these read the wall clock behind the caller's back.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 0 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const DAY = 86_400_000;

test('serviceContext: admin and the system clock by default; withActor keeps the rest', () => {
  const store = {} as Store;
  const c = svc.serviceContext(store, { actor: 'a@h/Admin', source: 'cli' });
  assert.equal(c.tenant, svc.ADMIN);
  assert.equal(c.clock, svc.systemClock);
  assert.equal(c.source, 'cli');
  const k = svc.withActor(c, 'key.example.');
  assert.equal(k.actor, 'key.example.');
  assert.equal(k.store, store);
  assert.equal(k.source, 'cli');
  assert.equal(c.actor, 'a@h/Admin');
  assert.throws(() => svc.serviceContext(store, { tenant: { tier: 'customer', sectag: null } }), /security tag/);
});

for (const backend of backends)
  describe(`service context on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
      await svc.setConfig(ctxOf(s), 'use_apex_ns', 'false');
    });
    after(async () => {
      await s?.close();
    });

    test('change_by is the actor; ZI times and the date serial come from the clock', async () => {
      const t0 = Date.UTC(2031, 4, 6, 12, 0, 0);
      const clock = manualClock(t0);
      const z = await svc.createZone(ctxOf(s, 'alice@h/Admin', { clock }), 'clock.test', { text: TEXT });
      assert.equal(z.ctime.getTime(), t0);
      assert.equal(z.soaSerial, 2031050600);
      clock.advance(DAY);
      const r = await svc.saveZoneText(ctxOf(s, 'bob@h/Admin', { clock }), 'clock.test', `${TEXT}www A 192.0.2.2\n`);
      assert.equal(r.serial, 2031050700);
      const zis = await svc.listZis(ctxOf(s), 'clock.test');
      assert.deepEqual(zis.map((zi) => [zi.version, zi.changeBy, zi.ctime.getTime()]), [
        [2, 'bob@h/Admin', t0 + DAY],
        [1, 'alice@h/Admin', t0],
      ]);
      await svc.pokeZoneSetSerial(svc.withActor(ctxOf(s, 'x', { clock }), 'carol'), 'clock.test', undefined);
      assert.equal((await svc.listZis(ctxOf(s), 'clock.test'))[0].changeBy, 'carol');
    });

    test('the edit lock is held by the actor and expires by the clock', async () => {
      const clock = manualClock(Date.UTC(2031, 0, 1));
      await svc.createZone(ctxOf(s, 'a', { clock }), 'lockclock.test', { text: TEXT, flags: { editLock: true } });
      const a = await svc.editZone(ctxOf(s, 'alice', { clock }), 'lockclock.test', { timeoutSec: 60 });
      assert.equal(a.expiresAt?.getTime(), clock.now().getTime() + 60_000);
      const t0 = clock.now().getTime();
      assert.equal(a.lockedSince?.getTime(), t0);
      const held = await svc.getZone(ctxOf(s, 'x', { clock }), 'lockclock.test');
      assert.equal(held.lockedBy, 'alice');
      assert.equal(held.lockedSince?.getTime(), t0, 'since when the lock is held');
      // Tickling moves the expiry (by the edit_lock_timeout setting), not the start.
      clock.advance(20_000);
      const until = (await svc.tickleEditLock(ctxOf(s, 'alice', { clock }), 'lockclock.test', a.token))?.getTime();
      assert.ok(until && until > t0 + 60_000);
      const tickled = await svc.getZone(ctxOf(s, 'x', { clock }), 'lockclock.test');
      assert.deepEqual([tickled.lockedSince?.getTime(), tickled.lockExpires?.getTime()], [t0, until]);
      await assert.rejects(svc.editZone(ctxOf(s, 'bob', { clock }), 'lockclock.test'), svc.EditLockConflict);
      // The same actor may take its own lock again (a new lock: a new start); a minute later anyone may.
      const again = await svc.editZone(ctxOf(s, 'alice', { clock }), 'lockclock.test', { timeoutSec: 60 });
      assert.equal(again.lockedSince?.getTime(), t0 + 20_000);
      clock.advance(61_000);
      // An expired lock is no lock: no holder, no start.
      const expired = await svc.getZone(ctxOf(s, 'x', { clock }), 'lockclock.test');
      assert.deepEqual([expired.lockedBy, expired.lockedSince], [null, null]);
      const b = await svc.editZone(ctxOf(s, 'bob', { clock }), 'lockclock.test');
      assert.equal((await svc.getZone(ctxOf(s, 'x', { clock }), 'lockclock.test')).lockedSince?.getTime(), t0 + 81_000);
      await assert.rejects(svc.saveZoneEdit(ctxOf(s, 'alice', { clock }), 'lockclock.test', a.token, { text: a.text }), svc.StaleEditToken);
      await svc.cancelEditZone(ctxOf(s, 'bob', { clock }), 'lockclock.test', b.token);
      // Released: the row keeps no start either (a later lock starts afresh).
      const row = await s.db.selectFrom('zones').select(['lock_since', 'locked_by']).where('name', '=', 'lockclock.test.').executeTakeFirstOrThrow();
      assert.deepEqual([row.lock_since, row.locked_by], [null, null]);
    });

    test('events are scheduled and due by the clock', async () => {
      const clock = manualClock(Date.UTC(2032, 0, 1));
      const c = ctxOf(s, 'ev', { clock });
      const id = await svc.enqueueEvent(c, 'ClockEvent', { delaySec: 30 });
      assert.equal((await svc.getEvent(c, id)).scheduled.getTime(), clock.now().getTime() + 30_000);
      assert.ok(!(await svc.dueEvents(c)).some((e) => e.id === id));
      clock.advance(30_000);
      assert.ok((await svc.dueEvents(c)).some((e) => e.id === id));
      const r = await svc.retryEvent(c, id, 'down');
      assert.equal(r.scheduled.getTime(), clock.now().getTime() + svc.backoffMs(1));
      await svc.completeEvent(c, id);
      assert.equal((await svc.getEvent(c, id)).processed?.getTime(), clock.now().getTime());
    });

    test('vacuum ages are measured from the clock', async () => {
      const clock = manualClock(Date.now());
      const c = ctxOf(s, 'v', { clock });
      await svc.createZone(c, 'gone.test', { text: TEXT });
      await svc.deleteZone(c, 'gone.test');
      const [deleted] = await svc.listZones(c, { which: 'deleted', pattern: 'gone.test' });
      assert.ok(deleted);
      // One day is not old enough for zone_del_age 2; three days on the clock are.
      clock.advance(DAY);
      assert.equal((await svc.vacuumAll(c, { zoneDelAgeDays: 2 })).zonesDestroyed, 0);
      clock.advance(2 * DAY);
      assert.equal((await svc.vacuumAll(c, { zoneDelAgeDays: 2 })).zonesDestroyed, 1);
      assert.deepEqual(await svc.listZones(c, { which: 'deleted', pattern: 'gone.test' }), []);
    });
  });
