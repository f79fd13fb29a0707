// Outgoing transfer concurrency (Primary's xfrLimits): past the per-client or the total limit a transfer request is
// REFUSED at once; a slot is held until the transfer's last message is sent over TCP (QueryMeta.afterSend) and
// freed when it is.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { Primary } from '../../src/server/primary.js';
import { recordsOfZone } from '../../src/server/primary.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';

const origin = Name.from('example.test');
const zone = compileZone(origin, parseZoneText('@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n', { origin, defaultTtl: 60 }).records);

function axfr(id: number): Uint8Array {
  const m = emptyMessage(id);
  m.question.push({ name: origin, type: RRType.AXFR, class: 1 });
  return encodeMessage(m);
}

const rcodeOf = (r: Uint8Array | Uint8Array[] | null) => decodeMessage(Array.isArray(r) ? r[0] : (r as Uint8Array)).rcode;

test('transfers past the per-client and total limits are REFUSED until the running ones are sent', async () => {
  const refusals: string[] = [];
  const p = new Primary({
    transfers: {
      getZone: () => ({ origin, soa: zone.soa, records: recordsOfZone(zone) }),
      getDiffs: () => undefined,
      transferRules: () => [{ address: '127.0.0.0/8' }],
    },
    keys: { get: () => undefined },
    xfrLimits: { maxPerClient: 2, maxTotal: 3 },
    onXfrLimit: (e) => refusals.push(`${e.client} ${e.scope}`),
  });
  const plain = () => null;
  const pending: (() => void)[] = [];
  const tcp = (address: string) => ({ transport: 'tcp' as const, address, afterSend: (f: () => void) => pending.push(f) });
  assert.equal(rcodeOf(await p.handle(axfr(1), tcp('127.0.0.1'), plain)), Rcode.NOERROR);
  assert.equal(rcodeOf(await p.handle(axfr(2), tcp('127.0.0.1'), plain)), Rcode.NOERROR);
  assert.equal(rcodeOf(await p.handle(axfr(3), tcp('127.0.0.1'), plain)), Rcode.REFUSED, 'third from one client');
  assert.equal(rcodeOf(await p.handle(axfr(4), tcp('127.0.0.2'), plain)), Rcode.NOERROR);
  assert.equal(rcodeOf(await p.handle(axfr(5), tcp('127.0.0.3'), plain)), Rcode.REFUSED, 'fourth in all');
  assert.deepEqual(refusals, ['127.0.0.1 client', '127.0.0.3 total']);
  // The first transfer is sent: one slot free again, for anyone.
  pending.shift()?.();
  assert.equal(rcodeOf(await p.handle(axfr(6), tcp('127.0.0.3'), plain)), Rcode.NOERROR);
  // Over UDP (IXFR) or without afterSend the slot is freed with the answer.
  for (const f of pending.splice(0)) f();
  for (let i = 0; i < 10; i++) assert.equal(rcodeOf(await p.handle(axfr(10 + i), { transport: 'tcp', address: '127.0.0.9' }, plain)), Rcode.NOERROR);
});
