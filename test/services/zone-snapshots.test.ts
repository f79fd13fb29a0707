// Zone snapshots in the service layer, on both backends: a zone loaded from its snapshot plus the owners changed since
// is the zone loaded from its rows, after many versions and a vacuum; the vacuum keeps the ZI the snapshot is of (and
// the rows alive in it), so the snapshot stays usable; deleting that ZI deletes the snapshot.

import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { addZoneSnapshot, encodeZoneSnapshot } from '../../src/zone/snapshot.js';
import { compileZone, type Zone, ZoneBuilder } from '../../src/zone/zone.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';
import { assertSameZone } from '../helpers/zone-compare.js';

const { backends } = testBackends();
const ZONE = 'snap.test';

const text = (serial: number, body: string[]) =>
  `$ORIGIN ${ZONE}.\n$TTL 3600\n@ IN SOA ns1 hostmaster ${serial} 600 600 604800 600\n@ IN NS ns1\nns1 IN A 192.0.2.1\n${body.join('\n')}\n`;

/** The zone as dmsd's start-up compiles it (zones.ts compile), and whether it came from a snapshot. */
async function startUpLoad(s: Store): Promise<{ zone: Zone; snapshotVersion: number | undefined }> {
  let out: { zone: Zone; snapshotVersion: number | undefined } | undefined;
  await svc.loadPublishedZones(ctxOf(s), (z) => {
    if (z.origin.toString() !== `${ZONE}.`) return;
    if (!z.snapshot) {
      out = { zone: compileZone(z.origin, z.records), snapshotVersion: undefined };
      return;
    }
    const b = new ZoneBuilder(z.origin);
    for (const rr of z.records) b.add(rr);
    for (const part of z.snapshot.parts) addZoneSnapshot(b, part, z.snapshot.skip);
    out = { zone: b.finish(), snapshotVersion: z.snapshot.version };
  });
  assert.ok(out, 'zone loaded');
  return out;
}

async function fromRows(s: Store): Promise<Zone> {
  const p = await svc.loadPublishedZone(ctxOf(s), ZONE);
  assert.ok(p);
  return compileZone(p.origin, p.records);
}

for (const backend of backends) {
  describe(`zone snapshots on ${backend.name}`, () => {
    let s: Store;
    before(async () => {
      s = await backend.open();
    });
    after(async () => s.close());

    test('many versions and a vacuum later the snapshot still gives the zone its rows give', async () => {
      const body = Array.from({ length: 40 }, (_, i) => `h${i} IN A 10.0.0.${i}`);
      await svc.createZone(ctxOf(s), ZONE, { text: text(1, [...body, '*.w IN TXT "w"', 'sub IN NS ns.sub', 'ns.sub IN A 10.9.9.9']) });
      const first = await startUpLoad(s);
      assert.equal(first.snapshotVersion, undefined);
      const v1 = (await svc.listZis(ctxOf(s), ZONE))[0].version;
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v1, records: first.zone.recordCount, parts: encodeZoneSnapshot(first.zone, 200) }));

      // Eight more versions: names removed, changed, added; the delegation moved; the wildcard gone.
      for (let v = 2; v <= 9; v++) {
        const lines = body.filter((_, i) => i % v !== 0).map((l) => (l.startsWith(`h${v} `) ? `h${v} IN A 192.0.2.${v}` : l));
        lines.push(`n${v} IN AAAA 2001:db8::${v}`, `sub${v} IN NS ns.sub${v}`, `ns.sub${v} IN A 10.8.8.${v}`);
        await svc.saveZoneText(ctxOf(s), ZONE, text(v, lines));
      }
      const loaded = await startUpLoad(s);
      assert.equal(loaded.snapshotVersion, v1);
      assertSameZone(loaded.zone, await fromRows(s), 'from the snapshot after 8 versions');

      // The vacuum keeps the newest 3 ZIs and the one the snapshot is of.
      const r = await svc.vacuumAll(ctxOf(s), { now: new Date(Date.now() + 400 * 86_400_000), ziMaxNum: 3, ziMaxAgeDays: 1 });
      assert.equal(r.zisDeleted, 5);
      const zis = (await svc.listZis(ctxOf(s), ZONE)).map((z) => z.version).sort((a, b) => a - b);
      assert.deepEqual(zis, [v1, 7, 8, 9]);
      const vacuumed = await startUpLoad(s);
      assert.equal(vacuumed.snapshotVersion, v1);
      assertSameZone(vacuumed.zone, await fromRows(s), 'from the snapshot after the vacuum');

      // Deleting that ZI deletes the snapshot: the zone comes from its rows.
      await svc.deleteZi(ctxOf(s), ZONE, v1);
      const gone = await startUpLoad(s);
      assert.equal(gone.snapshotVersion, undefined);
      assertSameZone(gone.zone, await fromRows(s), 'from the rows');
    });

    test('a snapshot written part by part is one only when every part is there (a crash mid-write: the rows)', async () => {
      const now = await startUpLoad(s);
      const v = (await svc.listZis(ctxOf(s), ZONE)).map((z) => z.version).sort((a, b) => b - a)[0];
      const parts = encodeZoneSnapshot(now.zone, 200);
      assert.ok(parts.length >= 3, `several parts (${parts.length})`);
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v, records: now.zone.recordCount, parts }), 'stored');
      const whole = await startUpLoad(s);
      assert.equal(whole.snapshotVersion, v);
      assertSameZone(whole.zone, await fromRows(s), 'from the whole snapshot');
      // The last part missing, as after a crash between two of the parts' transactions.
      await (s.db as unknown as Kysely<{ zone_snapshots: { part: number } }>).deleteFrom('zone_snapshots').where('part', '=', parts.length - 1).execute();
      const cut = await startUpLoad(s);
      assert.equal(cut.snapshotVersion, undefined);
      assertSameZone(cut.zone, await fromRows(s), 'from the rows, the snapshot being incomplete');
      // Written again, it is whole again (the incomplete one replaced).
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v, records: now.zone.recordCount, parts }), 'stored again');
      assert.equal((await startUpLoad(s)).snapshotVersion, v);
    });

    test('a snapshot replaces the one before part by part: neither is one meanwhile, and none of the old parts stays', async () => {
      const partRows = async () =>
        (await (s.db as unknown as Kysely<{ zone_snapshots: { part: number } }>).selectFrom('zone_snapshots').select('part').execute()).length;
      const before = await startUpLoad(s);
      const v = (await svc.listZis(ctxOf(s), ZONE)).map((z) => z.version).sort((a, b) => b - a)[0];
      const many = encodeZoneSnapshot(before.zone, 150);
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v, records: before.zone.recordCount, parts: many }), 'stored');
      assert.equal(await partRows(), many.length);
      await svc.saveZoneText(ctxOf(s), ZONE, text(20, [...Array.from({ length: 40 }, (_, i) => `x${i} IN A 10.1.1.${i}`), 'y IN TXT "two"']));
      const next = await fromRows(s);
      const v2 = (await svc.listZis(ctxOf(s), ZONE)).map((z) => z.version).sort((a, b) => b - a)[0];
      const fewer = encodeZoneSnapshot(next, 300);
      assert.ok(fewer.length >= 2 && fewer.length < many.length, `fewer parts (${fewer.length} < ${many.length})`);
      // Between the parts (where dmsd lets UPDATEs through), a start-up finds no snapshot: the zone comes from its rows.
      const seen: (number | undefined)[] = [];
      let calls = 0;
      const between = async () => {
        if (calls++ === 0) {
          const mid = await startUpLoad(s);
          seen.push(mid.snapshotVersion);
          assertSameZone(mid.zone, next, 'from the rows while the snapshot is written');
        }
      };
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v2, records: next.recordCount, parts: fewer }, between), 'stored over');
      assert.deepEqual(seen, [undefined], 'no snapshot while half written');
      assert.equal(await partRows(), fewer.length, 'the old parts beyond the new count are gone');
      const after = await startUpLoad(s);
      assert.equal(after.snapshotVersion, v2);
      assertSameZone(after.zone, next, 'from the new snapshot');
      // The same version cut into other parts replaces it whole.
      const other = encodeZoneSnapshot(next, 250);
      assert.ok(await svc.saveZoneSnapshot(ctxOf(s), { name: ZONE, version: v2, records: next.recordCount, parts: other }), 'stored again');
      assert.equal(await partRows(), other.length);
      assertSameZone((await startUpLoad(s)).zone, next, 'from the snapshot cut otherwise');
    });
  });
}
