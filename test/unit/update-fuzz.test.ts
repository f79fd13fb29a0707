// Bad input never crashes the primary: mutated UPDATE / AXFR / IXFR / NOTIFY messages (signed and unsigned) always
// get an answer or are dropped; the zone is never changed by a message that fails TSIG.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Opcode, RRClass, RRType } from '../../src/dns/constants.js';
import { emptyMessage, type Message, writeHeader, writeRR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { signMessage } from '../../src/dns/tsig.js';
import { WireWriter } from '../../src/dns/wire.js';
import { Primary } from '../../src/server/primary.js';
import type { UpdateCommit } from '../../src/server/update.js';
import { ALLOWED_KEY, rrText, versions } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');
const v1 = versions(5)[0];

function encodeLoose(m: Message): Uint8Array {
  // writeRR copes with empty RDATA only for types without names; build sections by hand for ANY/NONE records.
  const w = new WireWriter(512, true);
  writeHeader(w, m, [m.question.length, m.answer.length, m.authority.length, m.additional.length]);
  for (const q of m.question) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of [...m.answer, ...m.authority, ...m.additional]) {
    if (rr.rdata.length === 0) {
      w.name(rr.name);
      w.u16(rr.type);
      w.u16(rr.class);
      w.u32(rr.ttl);
      w.u16(0);
    } else writeRR(w, rr);
  }
  return w.finish();
}

function seeds(): Uint8Array[] {
  const upd = emptyMessage(1);
  upd.opcode = Opcode.UPDATE;
  upd.question.push({ name: origin, type: RRType.SOA, class: RRClass.IN });
  upd.answer.push({ name: Name.from('www.example.org'), type: RRType.A, class: RRClass.ANY, ttl: 0, rdata: new Uint8Array(0) });
  upd.authority.push(rrText('new 60 A 192.0.2.1', origin), { name: Name.from('www.example.org'), type: RRType.NS, class: RRClass.ANY, ttl: 0, rdata: new Uint8Array(0) });
  const axfr = emptyMessage(2);
  axfr.question.push({ name: origin, type: RRType.AXFR, class: 1 });
  const ixfr = emptyMessage(3);
  ixfr.question.push({ name: origin, type: RRType.IXFR, class: 1 });
  ixfr.authority.push(rrText('@ 0 SOA ns1 hostmaster 1 1 1 1 1', origin));
  const notify = emptyMessage(4);
  notify.opcode = Opcode.NOTIFY;
  notify.question.push({ name: origin, type: RRType.SOA, class: 1 });
  const plain = [upd, axfr, ixfr, notify].map(encodeLoose);
  return [...plain, ...plain.map((b) => signMessage(b, ALLOWED_KEY, Date.now() / 1000).bytes)];
}

test('mutated requests never make Primary.handle throw, and forged signatures change nothing', async () => {
  const commits: UpdateCommit[] = [];
  const errors: unknown[] = [];
  const primary = new Primary({
    onError: (e) => errors.push(e),
    transfers: {
      getZone: (o) => (o.equals(origin) ? { origin, soa: v1[0], records: v1 } : undefined),
      getDiffs: () => undefined,
      transferRules: () => [{ key: ALLOWED_KEY.name }, { address: '127.0.0.0/8' }],
    },
    keys: { get: (n) => (n.equals(ALLOWED_KEY.name) ? ALLOWED_KEY : undefined) },
    updates: {
      getZone: (o) => (o.equals(origin) ? { origin, records: v1, serial: 1, incUpdates: true, grants: [] } : undefined),
      commit: async (c) => {
        commits.push(c);
        return { serial: 2 };
      },
    },
  });
  const base = seeds();
  const plain = () => null;
  await fc.assert(
    fc.asyncProperty(
      fc.nat(base.length - 1),
      fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      fc.nat(40),
      fc.boolean(),
      async (which, flips, cut, tcp) => {
        const b = base[which].slice();
        for (const f of flips) b[f.at % b.length] = f.value;
        const bytes = cut > 0 && cut < b.length ? b.subarray(0, b.length - cut) : b;
        const before = commits.length;
        const out = await primary.handle(bytes, { transport: tcp ? 'tcp' : 'udp', address: '127.0.0.1' }, plain);
        if (out !== null) for (const m of Array.isArray(out) ? out : [out]) assert.ok(m instanceof Uint8Array && m.length >= 12);
        // A mutated signed message fails TSIG; a mutated unsigned UPDATE is refused (no grants, unsigned).
        assert.equal(commits.length, before);
        // Malformed input is a FORMERR/REFUSED/NOTAUTH answer, never an internal error (SERVFAIL).
        assert.deepEqual(errors, []);
      },
    ),
    { numRuns: 3000 },
  );
});
