// The store on both backends: migrations, defaults, location resolution, write serialisation.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SG_NAME, resolveStoreOptions, type Store } from '../../src/store/index.js';
import { type Backend, postgresBackend, sqliteBackend, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { ctxOf } from '../helpers/context.js';

let pgServer: TestPostgres;
const sqlite = sqliteBackend();
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
before(async () => {
  pgServer = await startPostgres();
});
after(async () => {
  await pgServer?.stop();
  sqlite.cleanup();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

for (const backend of [sqlite, postgresBackend(() => pgServer)] as Backend[]) {
  describe(`store on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(async () => {
      await store?.close();
    });

    test('migrations create the default server group', async () => {
      assert.equal(store.kind, backend.name);
      const sgs = await store.db.selectFrom('server_groups').selectAll().execute();
      assert.equal(sgs.length, 1);
      assert.equal(sgs[0].name, DEFAULT_SG_NAME);
      assert.ok(Array.isArray(JSON.parse(sgs[0].apex_ns)));
      assert.equal(typeof sgs[0].ctime, 'number');
    });

    test('blobs and bigints round-trip', async () => {
      const z = await store.db
        .insertInto('zones')
        .values({
          name: 'x.test.', state: 'PUBLISHED', use_apex_ns: 1, edit_lock: 0, auto_dnssec: 0, nsec3: 0, inc_updates: 0,
          sg_id: 1, latest_version: 1, ctime: Date.now(), mtime: 2 ** 42,
        })
        .returning(['id', 'mtime'])
        .executeTakeFirstOrThrow();
      assert.equal(z.mtime, 2 ** 42);
      const rdata = Uint8Array.from([0, 1, 2, 255, 0]);
      await store.db
        .insertInto('records')
        .values({
          zone_id: z.id, from_version: 1, to_version: null, owner_key: 'x.test.', owner: 'X.test.', type: 1, rclass: 1,
          ttl: 4294967295, rdata: Buffer.from(rdata), comment: null, group_comment: null, flags: null, disabled: 0, ord: 0,
        })
        .execute();
      const r = await store.db.selectFrom('records').selectAll().where('zone_id', '=', z.id).executeTakeFirstOrThrow();
      assert.deepEqual(Uint8Array.from(r.rdata), rdata);
      assert.equal(r.ttl, 4294967295);
    });

    test('one live zone per name, deleted zones may share it', async () => {
      const row = (state: string) => ({
        name: 'dup.test.', state, use_apex_ns: 1, edit_lock: 0, auto_dnssec: 0, nsec3: 0, inc_updates: 0, sg_id: 1,
        latest_version: 1, ctime: 0, mtime: 0,
      });
      await store.db.insertInto('zones').values(row('DELETED')).execute();
      await store.db.insertInto('zones').values(row('DELETED')).execute();
      await store.db.insertInto('zones').values(row('PUBLISHED')).execute();
      await assert.rejects(store.db.insertInto('zones').values(row('PUBLISHED')).execute());
    });

    test('reopening an existing store does not re-run migrations', async () => {
      await store.db.insertInto('server_groups').values({ name: 'kept-sg', apex_ns: '[]', ctime: Date.now() }).execute();
      const again = await backend.reopen();
      const sgs = await again.db.selectFrom('server_groups').select('name').orderBy('name').execute();
      // Re-running the migrations would fail on the existing tables or re-insert the default group.
      assert.deepEqual(sgs.map((r) => r.name).sort(), [DEFAULT_SG_NAME, 'kept-sg'].sort());
      await again.close();
    });
  });
}

test('store location: flags > environment > config file > ./data', () => {
  const dir = tempDir('dms-cfg-');
  const cfg = join(dir, 'dms.conf');
  writeFileSync(cfg, '# test\ndata = /srv/dms\ndatabase_url = postgres://u:p@h/db\n');
  assert.deepEqual(resolveStoreOptions({}, {}), { dataDir: resolve('./data') });
  assert.deepEqual(resolveStoreOptions({ config: cfg }, {}), { dataDir: '/srv/dms', databaseUrl: 'postgres://u:p@h/db' });
  assert.deepEqual(resolveStoreOptions({ config: cfg }, { DMS_DATA_DIR: '/e', DMS_DATABASE_URL: 'postgres://e/e' }), {
    dataDir: '/e',
    databaseUrl: 'postgres://e/e',
  });
  assert.deepEqual(resolveStoreOptions({ data: '/f', databaseUrl: 'postgres://f/f', config: cfg }, { DMS_DATA_DIR: '/e' }), {
    dataDir: '/f',
    databaseUrl: 'postgres://f/f',
  });
  assert.throws(() => resolveStoreOptions({ config: join(dir, 'missing.conf') }, {}), /cannot read configuration file/);
  const json = join(dir, 'dms.json');
  writeFileSync(json, '{"data": "/j"}');
  assert.deepEqual(resolveStoreOptions({ config: json }, {}), { dataDir: '/j' });
});

test('a database URL that is not PostgreSQL is refused clearly', async () => {
  const { openStore } = await import('../../src/store/index.js');
  await assert.rejects(openStore({ dataDir: tempDir('dms-url-'), databaseUrl: 'mysql://u:secret@h/db' }), (e: Error) => {
    assert.match(e.message, /unsupported database URL/);
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
});

test('an unreachable PostgreSQL is reported as such', async () => {
  const { openStore } = await import('../../src/store/index.js');
  await assert.rejects(openStore({ dataDir: tempDir('dms-url-'), databaseUrl: 'postgres://u:secret@127.0.0.1:1/db' }), (e: Error) => {
    assert.match(e.message, /cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
    return true;
  });
});

test('what was acknowledged survives kill -9 (SQLite)', async () => {
  const { spawn } = await import('node:child_process');
  const { openStore } = await import('../../src/store/index.js');
  const svc = await import('../../src/services/index.js');
  const root = resolve(import.meta.dirname, '..', '..');
  const dir = tempDir('dms-kill-');
  const script = join(dir, 'writer.mts');
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(join(root, 'src/store/index.ts'))};
import * as svc from ${JSON.stringify(join(root, 'src/services/index.ts'))};
const s = await openStore({ dataDir: ${JSON.stringify(dir)} });
const text = (i) => '$ORIGIN kill.test.\\n$TTL 60\\n@ SOA ns. h. 1 1 1 1 1\\n@ NS ns.example.\\nh' + i + ' A 192.0.2.1\\n';
const ctx = svc.serviceContext(s, { actor: 't' });
await svc.createZone(ctx, 'kill.test', { flags: { useApexNs: false }, text: text(0) });
for (let i = 1; ; i++) {
  const r = await svc.saveZoneText(ctx, 'kill.test', text(i));
  process.stdout.write('ack ' + r.version + ' ' + i + '\\n');
}
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const acked = await new Promise<{ version: number; i: number }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no acks from the writer: ${err}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const acks = out.split('\n').filter((l) => l.startsWith('ack '));
      if (acks.length >= 20) {
        // Kill in the middle of the stream of writes; everything printed so far was acknowledged.
        child.kill('SIGKILL');
        clearTimeout(timer);
        const [, v, i] = acks[acks.length - 1].split(' ');
        res({ version: Number(v), i: Number(i) });
      }
    });
  });
  await new Promise((r) => child.once('exit', r));
  const s = await openStore({ dataDir: dir });
  try {
    const zone = await svc.getZone(ctxOf(s), 'kill.test');
    assert.ok(zone.latestVersion >= acked.version, `version ${acked.version} was acknowledged, store has ${zone.latestVersion}`);
    const c = await svc.getZoneContent(ctxOf(s), 'kill.test', acked.version);
    assert.ok(c.records.some((r) => r.name.key === `h${acked.i}.kill.test.`));
  } finally {
    await s.close();
  }
});

test('several connections opening a fresh SQLite file at once all get a migrated store', async () => {
  const { openStore } = await import('../../src/store/index.js');
  const dir = tempDir('dms-race-');
  const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ dataDir: dir })));
  try {
    for (const s of stores) assert.equal((await s.db.selectFrom('server_groups').selectAll().execute()).length, 1);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});
