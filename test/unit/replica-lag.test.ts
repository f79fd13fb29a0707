// A replica's lag and what it does to answers (issue 13, docs/HA.md "A lagging replica"), without a database: the lag
// is how old the replayed state is (services/ha.ts replicaLagMs), and zones whose SOA EXPIRE it passed are answered
// SERVFAIL, queries and transfers alike, and answered again when it shrinks (daemon/replica-expiry.ts). The real
// standby is in test/interop/ha-lag.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { replicaExpiry, soaExpire } from '../../src/daemon/replica-expiry.js';
import { keyFromText, signMessage } from '../../src/dns/tsig.js';
import { attachPrimary, recordsOfZone } from '../../src/server/primary.js';
import { QueryHandler } from '../../src/server/query.js';
import { replicaLagMs } from '../../src/services/ha.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const row = (o: Partial<Parameters<typeof replicaLagMs>[0]>): Parameters<typeof replicaLagMs>[0] => ({
  received: '0/100',
  replayed: '0/100',
  behindBytes: 0,
  replayPaused: false,
  lastReplayedCommit: null,
  receiver: 'streaming',
  heartbeat: null,
  lastContact: null,
  ...o,
});

test('the lag: the latest moment the replayed state is known current, against now', () => {
  const now = 1_000_000;
  // Streaming, everything received replayed: current as of the last message from the primary.
  assert.equal(replicaLagMs(row({ heartbeat: now - 900, lastContact: now - 20 }), now), 20);
  // An idle primary without dmsd: its old commits do not make a streaming, replayed standby look behind.
  assert.equal(replicaLagMs(row({ lastReplayedCommit: now - 3_600_000, lastContact: now - 40 }), now), 40);
  // Replay paused (or behind): the last message says nothing about the replayed state; the heartbeat does.
  assert.equal(replicaLagMs(row({ replayPaused: true, heartbeat: now - 312_000, lastContact: now - 10 }), now), 312_000);
  assert.equal(replicaLagMs(row({ behindBytes: 8192, heartbeat: now - 5000, lastReplayedCommit: now - 7000, lastContact: now - 10 }), now), 5000);
  // No WAL receiver (the primary is gone): counted from the last replayed heartbeat or commit.
  assert.equal(replicaLagMs(row({ receiver: null, heartbeat: now - 61_000, lastReplayedCommit: now - 60_500 }), now), 60_500);
  // Nothing known: no number rather than a made-up one; clocks a little ahead: never negative.
  assert.equal(replicaLagMs(row({ receiver: null }), now), null);
  assert.equal(replicaLagMs(row({ receiver: null, heartbeat: now + 300 }), now), 0);
});

function zone(text: string, origin: string) {
  const o = Name.from(origin);
  const p = parseZoneText(text, { origin: o, defaultTtl: 3600 });
  assert.deepEqual(p.problems, []);
  return compileZone(o, p.records);
}

test('past its SOA EXPIRE a zone is answered SERVFAIL, the others still answered; caught up: answered again', async () => {
  const table = new ZoneTable();
  const short = zone('@ SOA ns1 host 1 3600 600 120 300\n@ NS ns1\nns1 A 192.0.2.1\n', 'short.example');
  const long = zone('@ SOA ns1 host 1 3600 600 1209600 300\n@ NS ns1\nns1 A 192.0.2.2\n', 'long.example');
  table.set(short);
  table.set(long);
  assert.deepEqual([soaExpire(short.soa), soaExpire(long.soa)], [120, 1209600]);
  const handler = new QueryHandler(table);
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as { msg: string }) });
  const setLag = replicaExpiry(handler, log);
  const rcode = async (name: string, type: number) => {
    const m = emptyMessage(7);
    m.question = [{ name: Name.from(name), type, class: 1 }];
    const r = await handler.handle(encodeMessage(m), { transport: 'tcp' });
    return decodeMessage(r as Uint8Array).rcode;
  };
  setLag(0.4);
  assert.equal(handler.expired, undefined, 'under a second: no check at all');
  setLag(119);
  assert.equal(await rcode('ns1.short.example', RRType.A), Rcode.NOERROR);
  setLag(121);
  assert.equal(await rcode('ns1.short.example', RRType.A), Rcode.SERVFAIL);
  assert.equal(await rcode('short.example', RRType.SOA), Rcode.SERVFAIL);
  assert.equal(await rcode('short.example', RRType.AXFR), Rcode.SERVFAIL, 'no transfer either');
  assert.equal(await rcode('ns1.long.example', RRType.A), Rcode.NOERROR);
  assert.equal(await rcode('nowhere.example', RRType.A), Rcode.REFUSED, 'not ours: as ever');
  assert.equal(lines.filter((l) => l.msg.startsWith('zone expired on this replica: 121 s behind the primary, past its SOA EXPIRE (120 s)')).length, 1, 'logged once');
  setLag(2);
  assert.equal(await rcode('short.example', RRType.SOA), Rcode.NOERROR);
  assert.ok(lines.some((l) => l.msg === 'zone no longer expired on this replica: answered again'));
  setLag(0);
  assert.equal(handler.expired, undefined);
});

test('a TSIG-signed AXFR of an expired zone (the primary\'s path, not the query path) is answered SERVFAIL too', async () => {
  const table = new ZoneTable();
  const z = zone('@ SOA ns1 host 1 3600 600 120 300\n@ NS ns1\nns1 A 192.0.2.1\n', 'short.example');
  table.set(z);
  const handler = new QueryHandler(table);
  const key = keyFromText('hmac-sha256:xfr.key:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0');
  attachPrimary(handler, {
    transfers: { getZone: () => ({ origin: z.origin, soa: z.soa, records: recordsOfZone(z) }), getDiffs: () => undefined, transferRules: () => [{ key: Name.from('xfr.key') }] },
    keys: { get: (n) => (n.toString() === 'xfr.key.' ? key : undefined) },
  });
  const setLag = replicaExpiry(handler, pino({ level: 'silent' }));
  const axfr = async () => {
    const m = emptyMessage(9);
    m.question = [{ name: z.origin, type: RRType.AXFR, class: 1 }];
    const r = await handler.handle(signMessage(encodeMessage(m), key, Date.now() / 1000).bytes, { transport: 'tcp', address: '127.0.0.1' });
    return decodeMessage(Array.isArray(r) ? r[0] : (r as Uint8Array)).rcode;
  };
  assert.equal(await axfr(), Rcode.NOERROR);
  setLag(121);
  assert.equal(await axfr(), Rcode.SERVFAIL);
  setLag(0);
  assert.equal(await axfr(), Rcode.NOERROR);
});
