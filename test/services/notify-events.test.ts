// NOTIFY through the persistent event queue (SQLite): pending notifications are events zone_tool can list; a
// secondary that does not answer gets retried with backoff until it acknowledges.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Opcode } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { signMessage, type TsigKey, verifyRequest } from '../../src/dns/tsig.js';
import { enqueueNotifies, NOTIFY_EVENT, runNotifyEvents } from '../../src/daemon/events/notify.js';
import * as services from '../../src/services/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { type Responder, soa, startResponder } from '../helpers/xfr.support.js';
import { ctxOf } from '../helpers/context.js';

const origin = Name.from('example.org');
const KEY: TsigKey = { name: Name.from('sec-key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };

let dir: string;
let store: Store;
let secondary: Responder;
let dropNext = 0;
const received: { signed: boolean; verified: boolean }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dms-notify-ev-'));
  store = await openStore({ dataDir: dir });
  await services.createZone(ctxOf(store, 'test'), 'example.org', { text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n' });
  secondary = await startResponder((bytes) => {
    const q = decodeMessage(bytes);
    const v = q.tsigOffset === undefined ? undefined : verifyRequest(bytes, q.tsigOffset, (n) => (n.equals(KEY.name) ? KEY : undefined), Date.now() / 1000);
    received.push({ signed: q.tsigOffset !== undefined, verified: v?.ok === true });
    if (dropNext > 0) {
      dropNext--;
      return [];
    }
    const m = emptyMessage(q.id);
    m.qr = true;
    m.opcode = Opcode.NOTIFY;
    m.question = q.question;
    return [v?.ok ? signMessage(encodeMessage(m), KEY, Date.now() / 1000, v.requestMac).bytes : encodeMessage(m)];
  });
});
after(async () => {
  await secondary?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = { get: (n: Name) => (n.equals(KEY.name) ? KEY : undefined) };
const pending = async () => (await services.listEvents(ctxOf(store), { state: ['NEW', 'RETRY'] })).filter((e) => e.type === NOTIFY_EVENT);

test('a notify event is retried with backoff until acknowledged, signed with the key', async () => {
  dropNext = 1;
  received.length = 0;
  await enqueueNotifies(store, origin, [{ address: '127.0.0.1', port: secondary.port, key: KEY }], 1);
  assert.equal((await pending()).length, 1);
  assert.equal(await runNotifyEvents(store, { keys, timeoutMs: 300, soaOf: () => soa(1) }), 0);
  const [ev] = await pending();
  assert.equal(ev.state, 'RETRY');
  assert.equal(ev.attempts, 1);
  assert.equal(ev.lastError, 'timeout');
  assert.deepEqual((ev.payload as { key: string }).key, 'sec-key.');
  // Not due yet: nothing is sent.
  assert.equal(await runNotifyEvents(store, { keys, timeoutMs: 300 }), 0);
  assert.equal(received.length, 1);
  // Once the backoff has passed it goes out again and is acknowledged.
  assert.equal(await runNotifyEvents(store, { keys, timeoutMs: 1000, now: ev.scheduled.getTime() + 1 }), 1);
  assert.equal((await pending()).length, 0);
  assert.equal((await services.getEvent(ctxOf(store), ev.id)).state, 'SUCCESS');
  assert.deepEqual(received, [{ signed: true, verified: true }, { signed: true, verified: true }]);
});

test('an older pending notify for the same target is superseded; an unknown key fails the event', async () => {
  received.length = 0;
  const [a] = await enqueueNotifies(store, origin, [{ address: '127.0.0.1', port: secondary.port }], 2);
  const [b] = await enqueueNotifies(store, origin, [{ address: '127.0.0.1', port: secondary.port }], 3);
  const [c] = await enqueueNotifies(store, origin, [{ address: '127.0.0.1', port: secondary.port + 1, key: { ...KEY, name: Name.from('gone-key') } }], 3);
  assert.equal(await runNotifyEvents(store, { keys, timeoutMs: 1000 }), 1);
  assert.equal(received.length, 1, 'one NOTIFY for the newest version');
  assert.equal((await services.getEvent(ctxOf(store), a)).state, 'SUCCESS');
  assert.equal((await services.getEvent(ctxOf(store), b)).state, 'SUCCESS');
  const failed = await services.getEvent(ctxOf(store), c);
  assert.equal(failed.state, 'FAILURE');
  assert.match(failed.lastError ?? '', /gone-key/);
});
