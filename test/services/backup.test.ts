// backup_db / restore_db / export_zones (issue 13) on both backends: a backup taken, then zones changed, deleted and
// created, then the backup restored gives back every table row for row (zones, their ZI history, records, keys);
// export_zones writes files that `dmsd --zones` reads without problems and that load into a fresh store as the same
// zone text.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadZoneDirectory } from '../../src/server/zonedir.js';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();

const text = (serial: number, extra = '') =>
  `$TTL 300\n@ SOA ns1 hostmaster ${serial} 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n${extra}`;

/** Every row of every table, each table's rows sorted: equal dumps mean the same database content. */
async function dumpTables(s: Store): Promise<Record<string, string[]>> {
  const tables =
    s.kind === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(s.db)).rows
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(s.db)).rows;
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(s.db)).rows;
    out[name] = rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).sort();
  }
  return out;
}

for (const backend of backends)
  describe(`backup_db / restore_db / export_zones on ${backend.name}`, () => {
    let s: Store;
    let dir: string;
    before(async () => {
      s = await backend.open();
      dir = mkdtempSync(join(tmpdir(), 'dms-backup-'));
      const ctx = ctxOf(s);
      await svc.setConfig(ctx, 'use_apex_ns', 'false');
      await svc.createZone(ctx, 'keep.test', { text: text(1, 'www A 192.0.2.10\nmail MX 10 www\n') });
      await svc.saveZoneText(ctx, 'keep.test', text(2, 'www A 192.0.2.11\nmail MX 10 www\ntxt TXT "two words"\n'));
      await svc.createZone(ctx, 'gone.test', { text: text(1, 'a AAAA 2001:db8::1\n') });
      await svc.createZone(ctx, '2.0.192.in-addr.arpa', { text: text(1, '10 PTR www.keep.test.\n') });
      await svc.call(ctx, 'generate_tsig_key', { name: 'xfr.key.' });
    });
    after(async () => {
      await s?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('admin only', async () => {
      const customer = ctxOf(s, 'c@x', { tenant: { tier: 'customer', sectag: 'acme' } });
      const helpdesk = ctxOf(s, 'h@x', { tenant: { tier: 'helpdesk', sectag: null } });
      for (const [name, params] of [
        ['backup_db', { file: join(dir, 'x') }],
        ['restore_db', { file: join(dir, 'x'), force: true }],
        ['export_zones', { dir: join(dir, 'x') }],
      ] as const) {
        await assert.rejects(svc.invoke(customer, name, params), svc.PermissionDenied);
        await assert.rejects(svc.invoke(helpdesk, name, params), svc.PermissionDenied);
      }
    });

    test('backup → changes → restore gives back every table exactly', async () => {
      const ctx = ctxOf(s);
      const before = await dumpTables(s);
      assert.ok(before.zones?.length >= 3, 'the dump sees the zones');
      const file = join(dir, 'dms.backup');
      const r = await svc.call(ctx, 'backup_db', { file });
      assert.equal(r.kind, s.kind);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(statSync(file).size > 0);

      await svc.saveZoneText(ctx, 'keep.test', text(3, 'www A 192.0.2.99\n'));
      await svc.deleteZone(ctx, 'gone.test');
      await svc.createZone(ctx, 'new.test', { text: text(1) });
      assert.notDeepEqual(await dumpTables(s), before);

      if (s.kind === 'sqlite')
        await assert.rejects(svc.call(ctx, 'restore_db', { file }), (e: Error) => e instanceof svc.InvalidArgument && /stop every dmsd/.test(e.message));
      const rr = await svc.call(ctx, 'restore_db', { file, force: true });
      assert.equal(rr.kind, s.kind);
      assert.deepEqual(await dumpTables(s), before);
      // The store's own connection carries on with the restored content.
      assert.deepEqual((await svc.listZones(ctx)).map((z) => z.name).sort(), ['2.0.192.in-addr.arpa.', 'gone.test.', 'keep.test.']);
      assert.deepEqual((await svc.listZis(ctx, 'keep.test')).map((zi) => zi.version), [2, 1]);
      assert.match(await svc.getZoneText(ctx, 'keep.test'), /192\.0\.2\.11/);
      // A second process opening the database sees the restored content too.
      const other = await backend.reopen();
      try {
        assert.deepEqual(await dumpTables(other), before);
      } finally {
        await other.close();
      }
    });

    test('restore_db refuses a file that is not a backup, leaving the store as it was', async () => {
      const ctx = ctxOf(s);
      const before = await dumpTables(s);
      const bogus = join(dir, 'bogus');
      await import('node:fs').then((fs) => fs.writeFileSync(bogus, 'not a backup\n'));
      await assert.rejects(svc.call(ctx, 'restore_db', { file: bogus, force: true }), svc.InvalidArgument);
      await assert.rejects(svc.call(ctx, 'restore_db', { file: join(dir, 'missing'), force: true }), /no such backup file/);
      assert.deepEqual(await dumpTables(s), before);
    });

    test('export_zones writes files dmsd --zones reads, giving the same zones', async () => {
      const ctx = ctxOf(s);
      const out = join(dir, 'zones', 'sub');
      const r = await svc.call(ctx, 'export_zones', { dir: out });
      const names = (await svc.listZones(ctx)).map((z) => z.name);
      assert.deepEqual(r.zones.map((z) => z.zone).sort(), [...names].sort());
      assert.deepEqual(readdirSync(out).sort(), names.map((n) => n.replace(/\.$/, '')).sort());
      for (const f of readdirSync(out)) assert.equal(statSync(join(out, f)).mode & 0o777, 0o644);

      // dmsd --zones: every file loads as its zone, without problems.
      const loaded = loadZoneDirectory(out);
      assert.equal(loaded.length, names.length);
      for (const l of loaded) {
        assert.deepEqual(l.problems.filter((p) => p.severity === 'error'), [], l.file);
        assert.ok(l.zone, l.file);
      }

      // Loaded into a fresh store (dmsd --zones' import), each zone shows the same text.
      const fresh = await backend.open();
      try {
        const fctx = ctxOf(fresh);
        await svc.setConfig(fctx, 'use_apex_ns', 'false');
        const results = await svc.loadZones(
          fctx,
          r.zones.map((z) => ({ name: z.zone, text: readFileSync(z.file, 'utf8'), file: z.file })),
        );
        assert.equal(results.length, names.length);
        for (const n of names) assert.equal(await svc.getZoneText(fctx, n), await svc.getZoneText(ctx, n), n);
      } finally {
        await fresh.close();
      }
    });
  });
