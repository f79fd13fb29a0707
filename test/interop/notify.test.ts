import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Opcode, Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { signMessage, type TsigKey, tsigErrorResponse, tsigFailureRcode, verifyRequest } from '../../src/dns/tsig.js';
import { buildNotify, type NotifyAttempt, NotifyQueue, notifyOnce, notifyTargets, notifyTargetsFromKeys } from '../../src/server/notify.js';
import { ALLOWED_KEY, type Responder, run, soa, startPrimary, startResponder, type TestPrimary } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');
const KEY: TsigKey = { name: Name.from('notify-key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };

/** A fake secondary: drops the first `drop` NOTIFYs, then acknowledges (signed when the NOTIFY was). */
async function fakeSecondary(drop: number, rcode = 0): Promise<Responder & { seen: { signed: boolean; serial?: number }[] }> {
  const seen: { signed: boolean; serial?: number }[] = [];
  const resp = await startResponder((bytes) => {
    const q = decodeMessage(bytes);
    assert.equal(q.opcode, Opcode.NOTIFY);
    assert.ok(q.aa, 'NOTIFY has AA set (RFC 1996 §3.7)');
    assert.equal(q.question[0].type, RRType.SOA);
    const ans = q.answer.find((x) => x.type === RRType.SOA);
    seen.push({ signed: q.tsigOffset !== undefined, serial: ans ? new DataView(ans.rdata.buffer, ans.rdata.byteOffset + ans.rdata.length - 20).getUint32(0) : undefined });
    if (seen.length <= drop) return [];
    const m = emptyMessage(q.id);
    m.qr = true;
    m.aa = true;
    m.opcode = Opcode.NOTIFY;
    m.rcode = rcode;
    m.question = q.question;
    const now = Date.now() / 1000;
    if (q.tsigOffset === undefined) return [encodeMessage(m)];
    const v = verifyRequest(bytes, q.tsigOffset, (n) => (n.equals(KEY.name) ? KEY : undefined), now);
    if (!v.ok) {
      m.rcode = tsigFailureRcode(v);
      return [tsigErrorResponse(encodeMessage(m), v, now)];
    }
    return [signMessage(encodeMessage(m), v.key, now, v.requestMac).bytes];
  });
  return Object.assign(resp, { seen });
}

describe('NOTIFY out', () => {
  test('notifyOnce: acknowledged, signed and verified; wrong key is not an acknowledgement', async () => {
    const sec = await fakeSecondary(0);
    try {
      assert.deepEqual(await notifyOnce({ address: '127.0.0.1', port: sec.port, source: '127.0.0.1' }, origin, soa(5)), { acked: true, rcode: 0 });
      assert.deepEqual(await notifyOnce({ address: '127.0.0.1', port: sec.port, key: KEY }, origin, soa(6)), { acked: true, rcode: 0 });
      const wrong = await notifyOnce({ address: '127.0.0.1', port: sec.port, key: { ...KEY, secret: new Uint8Array(32) } }, origin, soa(7));
      assert.equal(wrong.acked, false);
      assert.equal(wrong.rcode, Rcode.NOTAUTH);
      assert.deepEqual(sec.seen, [{ signed: false, serial: 5 }, { signed: true, serial: 6 }, { signed: true, serial: 7 }]);
    } finally {
      await sec.close();
    }
  });

  test('notifyOnce: timeout and error RCODE', async () => {
    const silent = await fakeSecondary(100);
    const refusing = await fakeSecondary(0, Rcode.REFUSED);
    try {
      assert.deepEqual(await notifyOnce({ address: '127.0.0.1', port: silent.port }, origin, undefined, 200), { acked: false, error: 'timeout' });
      const r = await notifyOnce({ address: '127.0.0.1', port: refusing.port }, origin, undefined, 1000);
      assert.equal(r.acked, false);
      assert.equal(r.rcode, Rcode.REFUSED);
    } finally {
      await silent.close();
      await refusing.close();
    }
  });

  test('queue: retries with exponential backoff until acknowledged; pending() shows it meanwhile', async () => {
    const sec = await fakeSecondary(2);
    const done: [string, boolean, number][] = [];
    const q = new NotifyQueue({ initialDelayMs: 50, timeoutMs: 100, onDone: (p, acked) => done.push([p.zone, acked, p.attempts]) });
    try {
      q.enqueue(origin, soa(9), [{ address: '127.0.0.1', port: sec.port, key: KEY }]);
      await new Promise((r) => setTimeout(r, 60));
      const pend = q.pending();
      assert.equal(pend.length, 1);
      assert.equal(pend[0].zone, 'example.org.');
      assert.equal(pend[0].target, `127.0.0.1#${sec.port}`);
      assert.equal(pend[0].serial, 9);
      await q.idle();
      assert.deepEqual(done, [['example.org.', true, 3]]);
      assert.equal(sec.seen.length, 3);
      assert.ok(sec.seen.every((s) => s.signed));
    } finally {
      q.close();
      await sec.close();
    }
  });

  test('queue: gives up after maxTries; backoff doubles', async () => {
    const times: number[] = [];
    const send = async (): Promise<NotifyAttempt> => {
      times.push(Date.now());
      return { acked: false, error: 'timeout' };
    };
    const done: boolean[] = [];
    const q = new NotifyQueue({ maxTries: 4, initialDelayMs: 40, send, onDone: (_p, acked) => done.push(acked) });
    q.enqueue(origin, soa(1), [{ address: '192.0.2.1' }]);
    await q.idle(5);
    assert.deepEqual(done, [false]);
    assert.equal(times.length, 4);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps[0] >= 35 && gaps[1] >= 75 && gaps[2] >= 155, `gaps ${gaps}`);
    q.close();
  });

  test('queue: a newer publish replaces the pending notification for the same target', async () => {
    const sent: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const send = async (_t: unknown, _z: Name, s: unknown): Promise<NotifyAttempt> => {
      sent.push(s ? 1 : 0);
      await gate;
      return { acked: true };
    };
    const q = new NotifyQueue({ send });
    q.enqueue(origin, soa(1), [{ address: '192.0.2.1' }]);
    await new Promise((r) => setTimeout(r, 10));
    q.enqueue(origin, soa(2), [{ address: '192.0.2.1' }]);
    assert.equal(q.pending().length, 1);
    assert.equal(q.pending()[0].serial, 2);
    release();
    await q.idle(5);
    assert.equal(sent.length, 2, 'sent again for the newer serial after the in-flight one returned');
    q.close();
  });

  test('targets: explicit ones signed with the transfer key, plus the _transfer convention peers, no duplicates', () => {
    const conv = { ...KEY, name: Name.from('192.0.2.1.192.0.2.53._transfer.example.org') };
    const otherZone = { ...KEY, name: Name.from('192.0.2.1.192.0.2.54._transfer.example.com') };
    const vague = { ...KEY, name: Name.from('secondary._transfer.example.org') };
    assert.deepEqual(notifyTargetsFromKeys(origin, [conv, otherZone, vague, KEY]), [{ address: '192.0.2.53', port: 53, key: conv }]);
    const t = notifyTargets(origin, [{ address: '198.51.100.7' }, { address: '192.0.2.53' }], KEY, [conv]);
    assert.deepEqual(t.map((x) => [x.address, x.key?.name.toString()]), [['198.51.100.7', 'notify-key.'], ['192.0.2.53', 'notify-key.']]);
  });

  test('NOTIFY message shape', () => {
    const m = decodeMessage(buildNotify(4242, origin, soa(3)));
    assert.equal(m.opcode, Opcode.NOTIFY);
    assert.ok(m.aa && !m.qr);
    assert.deepEqual(m.question.map((q) => [q.name.key, q.type, q.class]), [['example.org.', RRType.SOA, 1]]);
    assert.equal(m.answer.length, 1);
  });
});

describe('NOTIFY in (we are the primary)', () => {
  let p: TestPrimary;
  before(async () => {
    p = await startPrimary(0);
  });
  after(() => p.close());

  test('a NOTIFY to us is REFUSED, signed when it was signed', async () => {
    const signed = await notifyOnce({ address: '127.0.0.1', port: p.port, key: ALLOWED_KEY }, origin, soa(1));
    assert.equal(signed.acked, false);
    assert.equal(signed.rcode, Rcode.REFUSED, 'the REFUSED answer verified against our key');
    const plain = await notifyOnce({ address: '127.0.0.1', port: p.port }, origin, soa(1));
    assert.equal(plain.rcode, Rcode.REFUSED);
    // dig can send a NOTIFY too (+opcode=notify) and sees the answer.
    const d = await run('dig', ['-p', String(p.port), '@127.0.0.1', '+opcode=notify', '+aaflag', 'example.org', 'SOA', '+tries=1', '+time=2']);
    assert.match(d.stdout, /opcode: NOTIFY, status: REFUSED/);
  });
});
