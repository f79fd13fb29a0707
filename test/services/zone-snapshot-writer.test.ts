// dmsd's zone snapshot writer (daemon/zone-snapshots.ts) on a real SQLite store: a large zone's snapshot is written
// once for the changes that queued it, not again for those patched in while it was written (each used to be written
// twice in a row); none of it goes on while an UPDATE is in progress (daemon/foreground.ts); what it stores loads as
// the zone its rows give.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { after, before, test } from 'node:test';
import { Foreground } from '../../src/daemon/foreground.js';
import { ZoneSnapshotWriter } from '../../src/daemon/zone-snapshots.js';
import { Name } from '../../src/dns/name.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { compileZone, type Zone, ZoneBuilder } from '../../src/zone/zone.js';
import { addZoneSnapshot } from '../../src/zone/snapshot.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { assertSameZone } from '../helpers/zone-compare.js';

const { sqlite } = testBackends({ lazy: true });
const ZONE = 'writer.test';
const RECORDS = svc.SNAPSHOT_MIN_RECORDS + 500;

let s: Store;
let zone: Zone;
let version: number;
before(async () => {
  s = await sqlite.open();
  const body = Array.from({ length: RECORDS }, (_, i) => `h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  await svc.createZone(ctxOf(s), ZONE, { text: `$TTL 3600\n@ IN SOA ns1 hostmaster 1 600 600 604800 600\n@ IN NS ns1\nns1 IN A 192.0.2.1\n${body.join('\n')}\n` });
  const p = await svc.loadPublishedZone(ctxOf(s), ZONE);
  assert.ok(p, 'published');
  zone = compileZone(p.origin, p.records);
  version = p.version;
});
after(async () => s.close());

/** A logger keeping the messages: how many snapshots were stored. */
function messages(): { log: Logger; stored: () => number } {
  const lines: string[] = [];
  const keep = (_o: unknown, msg?: string) => void lines.push(msg ?? String(_o));
  const log = { info: keep, warn: keep, error: keep, debug: keep } as unknown as Logger;
  return { log, stored: () => lines.filter((l) => l === 'zone snapshot stored').length };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('written once for the changes that queued it, held back while an UPDATE is in progress, and loadable', async () => {
  const fg = new Foreground();
  const { log, stored } = messages();
  const origin = Name.parse(`${ZONE}.`);
  const writer = new ZoneSnapshotWriter(s, log, () => ({ zone, version }), () => true, fg);
  // An UPDATE in progress when the zone is queued: nothing is written until it ends.
  let endUpdate!: () => void;
  const update = fg.run(() => new Promise<void>((res) => (endUpdate = res)));
  writer.compiled(origin, zone.recordCount);
  writer.start();
  await sleep(300);
  assert.equal(stored(), 0, 'nothing written while the UPDATE is in progress');
  endUpdate();
  await update;
  // Changes patched in while it is written count towards the next snapshot: not one more now.
  for (let i = 0; i < 20; i++) {
    writer.patched(origin, zone.recordCount, 1);
    await new Promise<void>((res) => setImmediate(res));
  }
  await until('the snapshot stored', () => stored() >= 1);
  await sleep(500);
  assert.equal(stored(), 1, 'written once');
  // It loads as the zone its rows give.
  let loaded: Zone | undefined;
  await svc.loadPublishedZones(ctxOf(s), (z) => {
    if (z.origin.toString() !== `${ZONE}.` || !z.snapshot) return;
    const b = new ZoneBuilder(z.origin);
    for (const rr of z.records) b.add(rr);
    for (const part of z.snapshot.parts) addZoneSnapshot(b, part, z.snapshot.skip);
    loaded = b.finish();
  });
  assert.ok(loaded, 'loaded from the snapshot');
  assertSameZone(loaded, zone, 'the snapshot is the zone');
  // Past a twentieth of the zone changed since, it is written again (once).
  writer.patched(origin, zone.recordCount, Math.ceil(RECORDS / 20) + 1);
  await until('the second snapshot stored', () => stored() >= 2);
  await sleep(300);
  assert.equal(stored(), 2, 'written again once');
});
