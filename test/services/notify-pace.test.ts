// A zone's NOTIFYs follow its changes as BIND's notify-delay paces them, with a short pace: a change after a quiet
// spell is announced at once; while changes keep coming (a stream of UPDATEs), at most one round of NOTIFYs goes out
// per pace, and the last one announces the newest version — so a secondary is asked to transfer a few times, not once
// per change, and still ends in sync. The pace is the notify_delay setting (0.05 s by default; 0: every change at
// once, as Knot; 5: BIND's default).

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { Opcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromText } from '../../src/dns/rdata.js';
import { DbKeyStore, startNotifier } from '../../src/daemon/primary.js';
import * as services from '../../src/services/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { soa } from '../helpers/xfr.support.js';

const ZONE = 'example.org';
const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';
const admin = 'tester@test/Admin';
let dir: string;
let store: Store;
// The secondary's part: each NOTIFY's serial and arrival, acknowledged at once.
const secondary = createSocket('udp4');
const received: { serial: number; at: number }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dms-notify-pace-'));
  store = await openStore({ dataDir: dir });
  secondary.on('message', (m, from) => {
    const q = decodeMessage(m);
    if (q.opcode !== Opcode.NOTIFY) return;
    const s = q.answer.find((r) => r.type === RRType.SOA);
    if (s) received.push({ serial: new DataView(s.rdata.buffer, s.rdata.byteOffset + s.rdata.length - 20).getUint32(0), at: performance.now() });
    const a = emptyMessage(q.id);
    a.qr = true;
    a.aa = true;
    a.opcode = Opcode.NOTIFY;
    a.question = q.question;
    secondary.send(encodeMessage(a), from.port, from.address);
  });
  await new Promise<void>((res) => secondary.bind(0, '127.0.0.1', () => res()));
  await services.createZone(ctxOf(store, admin), ZONE, { text: TEXT });
  await services.addAlsoNotify(ctxOf(store, admin), { zone: ZONE }, { address: '127.0.0.1', port: secondary.address().port });
});

after(async () => {
  await store.close();
  secondary.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One published change: a new A record (its serial is the zone's newest). */
async function change(i: number): Promise<number> {
  const z = await services.getZone(ctxOf(store, admin), ZONE);
  const origin = Name.from(ZONE);
  const r = await services.applyRecordDelta(ctxOf(store, admin), ZONE, {
    baseVersion: z.latestVersion,
    removed: [],
    added: [{ name: Name.parse(`h${i}`, origin), type: RRType.A, class: RRClass.IN, ttl: 300, rdata: rdataFromText(RRType.A, [{ text: `192.0.2.${10 + (i % 200)}`, quoted: false }], origin) }],
  });
  return r.serial;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(received.map((r) => r.serial))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A notifier started with the zone's start-up NOTIFY received; `served` tracks the serial this process serves. */
async function startedNotifier(): Promise<{
  stop: () => Promise<void>;
  lone: (i: number) => Promise<{ ms: number; rounds: number }>;
  stream: (from: number, count: number) => Promise<{ rounds: number; ms: number; last: { serial: number; at: number }; started: number }>;
}> {
  const keys = new DbKeyStore(store, pino({ level: 'silent' }));
  await keys.reload();
  let served = (await services.getZone(ctxOf(store, admin), ZONE)).soaSerial ?? 0;
  const n = await startNotifier(store, keys, pino({ level: 'silent' }), { intervalMs: 60_000, soaOf: () => ({ ...soa(served), name: Name.from(ZONE) }) });
  const atStart = received.length;
  await until('the start-up NOTIFY', () => {
    n.kick();
    return received.length > atStart;
  });
  await new Promise((r) => setTimeout(r, 200));
  return {
    stop: () => n.stop(),
    // One change after a quiet spell: resolves once its NOTIFY arrived, with the time it took.
    async lone(i) {
      const before = received.length;
      served = await change(i);
      const t0 = performance.now();
      n.served();
      await until('the NOTIFY of a lone change', () => received.some((r) => r.serial === served));
      const at = received.find((r) => r.serial === served)!.at;
      await new Promise((r) => setTimeout(r, 200));
      return { ms: at - t0, rounds: received.length - before };
    },
    // `count` changes ~10 ms apart; resolves once the newest serial was NOTIFYed and nothing more came for 200 ms.
    async stream(from, count) {
      const before = received.length;
      const started = performance.now();
      for (let i = from; i < from + count; i++) {
        served = await change(i);
        n.served();
        await new Promise((r) => setTimeout(r, 8));
      }
      const ms = performance.now() - started;
      await until('the NOTIFY of the newest serial', () => received.some((r) => r.serial === served), 5000);
      await new Promise((r) => setTimeout(r, 200));
      const last = received[received.length - 1];
      assert.equal(last.serial, served, 'the last NOTIFY announces the newest version');
      return { rounds: received.length - before, ms, last, started };
    },
  };
}

/** `body` run with a started notifier (notify_delay set to `delay` first, when given), stopped afterwards. */
async function withNotifier(delay: string | undefined, body: (n: Awaited<ReturnType<typeof startedNotifier>>) => Promise<void>): Promise<void> {
  if (delay !== undefined) await services.setConfig(ctxOf(store, admin), 'notify_delay', delay);
  const n = await startedNotifier();
  try {
    await body(n);
  } finally {
    await n.stop();
  }
}

test('a change after a quiet spell is NOTIFYed at once; a stream of changes a few times, the last with the newest serial', async () => {
  await withNotifier(undefined, async (n) => {
    const lone = await n.lone(0);
    assert.ok(lone.ms < 1000, 'a lone change is announced at once, not after a pace');
    assert.equal(lone.rounds, 1);
    // A change every ~10 ms: each NOTIFY round is over before the next change, so without a pace each would get one.
    const CHANGES = 30;
    const { rounds, ms } = await n.stream(1, CHANGES);
    assert.ok(rounds >= 2, `the stream's first change and its last are announced (${rounds} NOTIFYs)`);
    // One NOTIFY at the stream's start, then at most one per 50 ms pace (and the trailing one).
    assert.ok(rounds <= Math.ceil(ms / 50) + 2, `${CHANGES} changes in ${ms.toFixed(0)} ms: ${rounds} NOTIFYs`);
    assert.ok(rounds < CHANGES / 2, `${CHANGES} changes: ${rounds} NOTIFYs`);
  });
});

test('notify_delay 0: every change of a stream is NOTIFYed, as Knot sends them', async () => {
  await withNotifier('0', async (n) => {
    const CHANGES = 20;
    const { rounds } = await n.stream(100, CHANGES);
    assert.ok(rounds > CHANGES / 2, `${CHANGES} changes: ${rounds} NOTIFYs`);
  });
});

test('notify_delay 1: a stream is NOTIFYed at its start, then a second later with its newest serial (BIND-like)', async () => {
  await withNotifier('1', async (n) => {
    const { rounds, ms, last, started } = await n.stream(200, 20);
    assert.ok(ms < 900, `the stream took ${ms.toFixed(0)} ms: shorter than the delay`);
    assert.equal(rounds, 2, 'the first change at once, the newest once the delay is over');
    assert.ok(last.at - started >= 950, `the trailing NOTIFY came ${(last.at - started).toFixed(0)} ms after the stream's first change`);
  });
});

test('notify_delay takes seconds from 0 to 3600, fractions allowed', async () => {
  const ctx = ctxOf(store, admin);
  for (const bad of ['', 'soon', '-1', '3601', '5s'])
    await assert.rejects(services.setConfig(ctx, 'notify_delay', bad), services.ConfigValueInvalid, `notify_delay ${JSON.stringify(bad)} refused`);
  await services.setConfig(ctx, 'notify_delay', ' 0.250 ');
  assert.equal(await services.getConfigValue(ctx, 'notify_delay'), '0.25');
  assert.equal(await services.notifyDelayMs(ctx), 250);
});
