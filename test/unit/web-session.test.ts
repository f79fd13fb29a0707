// The web UI's session store (src/api/session.ts): idle and absolute expiry, bounded size, cookie parsing. The
// HTTP side (cookie flags, CSRF header, logout) is tested through a real dmsd and Chromium in
// test/interop/web-ui.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCookies, SessionStore } from '../../src/api/session.js';
import type { AccountInfo } from '../../src/services/index.js';

const account = (login: string): AccountInfo => ({ login, tier: 'admin', sectag: null, hasPassword: true, ctime: new Date(0), mtime: new Date(0) });

test('a session ends after its idle time, and after its maximum age however much it is used', () => {
  const s = new SessionStore({ idleMs: 1000, maxMs: 5000 });
  const a = s.create(account('a'), 0);
  assert.ok(a.id.length >= 40 && a.csrf.length >= 30 && a.id !== a.csrf);
  assert.equal(s.get(a.id, 900)?.login, 'a');
  assert.equal(s.get(a.id, 1800)?.login, 'a', 'use restarts the idle time');
  assert.equal(s.expiresAt(a), 2800);
  assert.equal(s.get(a.id, 2801), undefined, 'idle too long');
  assert.equal(s.get(a.id, 1900), undefined, 'and gone for good');
  const b = s.create(account('b'), 0);
  for (let t = 900; t < 5000; t += 900) assert.ok(s.get(b.id, t));
  assert.equal(s.get(b.id, 5001), undefined, 'past the maximum age');
  assert.equal(s.get(undefined), undefined);
  assert.equal(s.get('no-such-session'), undefined);
});

test('logging out deletes the session; the store is bounded, dropping the oldest', () => {
  const s = new SessionStore({ maxSessions: 3 });
  const ids = ['a', 'b', 'c', 'd'].map((l) => s.create(account(l), 0).id);
  assert.equal(s.get(ids[0], 1), undefined, 'the oldest went');
  for (const id of ids.slice(1)) assert.ok(s.get(id, 1));
  s.delete(ids[3]);
  assert.equal(s.get(ids[3], 1), undefined);
});

test('cookies: parsed by name, the first of a repeated name wins, junk ignored', () => {
  assert.deepEqual(parseCookies('a=1; dms_session=xyz; b=2'), { a: '1', dms_session: 'xyz', b: '2' });
  assert.deepEqual(parseCookies('dms_session=first; dms_session=second'), { dms_session: 'first' });
  assert.deepEqual(parseCookies('junk; =x; c=3'), { c: '3' });
  assert.deepEqual(parseCookies(undefined), {});
});
