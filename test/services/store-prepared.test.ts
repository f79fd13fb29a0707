// Prepared statements (store/prepared.ts) give exactly what the Kysely builder gives, on both backends, inside a
// transaction (SQLite: straight on the held connection) and outside; a builder that does not pass an argument through
// is refused.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { readTx, type Store, writeTx } from '../../src/store/index.js';
import { heldSqlite } from '../../src/store/store.js';
import { preparedRowWrite, preparedStatement, warmPreparedStatements } from '../../src/store/prepared.js';
import type { Db } from '../../src/store/store.js';
import { type Backend, postgresBackend, sqliteBackend, startPostgres, type TestPostgres } from '../helpers/postgres.js';

let pgServer: TestPostgres;
const sqlite = sqliteBackend();
before(async () => {
  pgServer = await startPostgres();
});
after(async () => {
  await pgServer?.stop();
  sqlite.cleanup();
});

type T = { id: number; k: string; n: number | null; b: Uint8Array | null };
const tdb = (db: Db) => db as unknown as import('kysely').Kysely<{ pt: T }>;

const byKeys = preparedStatement((db: Db, variant, ...keys: string[]) => {
  const q = tdb(db).selectFrom('pt').selectAll().where('k', 'in', keys).orderBy('id');
  return variant.endsWith('+n') ? q.where('n', 'is not', null) : q;
});
const byLimit = preparedStatement((db: Db, _v, after: number, limit: number) => tdb(db).selectFrom('pt').select(['id', 'k']).where('id', '>', after).orderBy('id').limit(limit));
const bumpByKey = preparedStatement((db: Db, _v, n: number, k: string) => tdb(db).updateTable('pt').set({ n }).where('k', '=', k));
const writeRow = preparedRowWrite('pt');
const updateRow = preparedRowWrite('pt', 'id');

for (const backend of [sqlite, postgresBackend(() => pgServer)] as Backend[]) {
  describe(`prepared statements on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
      await sql`create table pt (id integer primary key, k text not null, n integer, b ${sql.raw(backend.name === 'postgres' ? 'bytea' : 'blob')})`.execute(store.db);
      for (let i = 1; i <= 20; i++) await writeRow(store.db, { id: i, k: `k${i % 7}`, n: i % 3 === 0 ? null : i, b: i === 5 ? Uint8Array.from([1, 2, 3]) : null });
    });
    after(async () => {
      await store?.close();
    });

    test('rows equal the builder, variants apart, in a transaction and outside', async () => {
      const built = async (db: Db, keys: string[], withN: boolean) => {
        let q = tdb(db).selectFrom('pt').selectAll().where('k', 'in', keys).orderBy('id');
        if (withN) q = q.where('n', 'is not', null);
        return q.execute();
      };
      for (const [keys, withN] of [[['k1'], false], [['k1', 'k3'], false], [['k1', 'k3'], true], [['k0', 'k2', 'k6'], true]] as [string[], boolean][]) {
        const variant = `${keys.length}${withN ? '+n' : ''}`;
        const want = await built(store.db, keys, withN);
        assert.ok(want.length > 0);
        assert.deepEqual(await byKeys.rows(store.db, variant, ...keys), want, `outside a transaction: ${variant}`);
        await readTx(store, async (trx) => {
          if (backend.name === 'sqlite') assert.ok(heldSqlite(trx), 'a read transaction holds the SQLite connection');
          assert.deepEqual(await byKeys.rows(trx, variant, ...keys), want, `in a read transaction: ${variant}`);
        });
        await writeTx(store, async (trx) => {
          assert.deepEqual(await byKeys.rows(trx, variant, ...keys), want, `in a write transaction: ${variant}`);
        });
      }
      if (backend.name === 'sqlite') {
        assert.ok(heldSqlite(store.db), 'no transaction open: the store may run a statement on its connection');
        // A transaction run through Kysely holds the connection between its statements: the store waits for it.
        await store.db.transaction().execute(async (trx) => {
          await tdb(trx).selectFrom('pt').select('id').limit(1).execute();
          assert.equal(heldSqlite(store.db), undefined, 'a transaction is open on the connection');
          const outside = byKeys.rows(store.db, '1', 'k1');
          let done = false;
          void outside.then(() => (done = true));
          await new Promise((r) => setTimeout(r, 20));
          assert.equal(done, false, 'a statement outside the open transaction waits for it');
        });
      } else assert.equal(heldSqlite(store.db), undefined);
      assert.deepEqual(
        (await byLimit.rows(store.db, '', 3, 4)).map((r) => r.id),
        [4, 5, 6, 7],
      );
      assert.deepEqual((await byKeys.first(store.db, '1', 'k5'))?.id, 5);
      assert.deepEqual([...((await byKeys.first(store.db, '1', 'k5'))?.b ?? [])], [1, 2, 3], 'a blob round-trips');
      assert.equal(await byKeys.first(store.db, '1', 'none'), undefined);
    });

    test('writes: inserted and updated rows, a rollback undoes them, an SQL expression goes through the builder', async () => {
      await writeTx(store, async (trx) => {
        await writeRow(trx, { id: 100, k: 'w', n: 1, b: null });
        await updateRow(trx, { n: 2 }, 100);
      });
      assert.equal((await byKeys.first(store.db, '1', 'w'))?.n, 2);
      await assert.rejects(
        writeTx(store, async (trx) => {
          await updateRow(trx, { n: 3, k: 'w2' }, 100);
          throw new Error('abandon');
        }),
        /abandon/,
      );
      assert.deepEqual(await byKeys.first(store.db, '1', 'w'), { id: 100, k: 'w', n: 2, b: null }, 'rolled back');
      await updateRow(store.db, { n: sql<number>`n + 40` }, 100);
      assert.equal((await byKeys.first(store.db, '1', 'w'))?.n, 42);
      // An undefined value leaves the column out (as Kysely does), not set to NULL.
      await updateRow(store.db, { k: 'w', n: undefined }, 100);
      assert.equal((await byKeys.first(store.db, '1', 'w'))?.n, 42);
    });

    test('changes: the rows a prepared update changed, in a transaction and outside', async () => {
      const want = (await byKeys.rows(store.db, '1', 'k2')).length;
      assert.ok(want > 1);
      assert.equal(await bumpByKey.changes(store.db, '', 7, 'k2'), want);
      assert.equal(await writeTx(store, (trx) => bumpByKey.changes(trx, '', 8, 'k2')), want);
      assert.equal(await bumpByKey.changes(store.db, '', 9, 'no such key'), 0);
      assert.ok((await byKeys.rows(store.db, '1', 'k2')).every((r) => r.n === 8));
    });

    test('a variant run on one store is compiled for another by warmPreparedStatements, not when it first runs there', async () => {
      let builds = 0;
      const counted = preparedStatement((db: Db, _v, k: string) => {
        builds++;
        return tdb(db).selectFrom('pt').select(['id', 'k']).where('k', '=', k).orderBy('id');
      });
      const other = await backend.open();
      try {
        await sql`create table pt (id integer primary key, k text not null, n integer, b ${sql.raw(backend.name === 'postgres' ? 'bytea' : 'blob')})`.execute(other.db);
        await writeRow(other.db, { id: 1, k: 'k1', n: 1, b: null });
        assert.deepEqual(await counted.rows(store.db, '', 'k1'), await tdb(store.db).selectFrom('pt').select(['id', 'k']).where('k', '=', 'k1').orderBy('id').execute());
        assert.equal(builds, 1);
        assert.ok(warmPreparedStatements(other.db) >= 1);
        assert.equal(builds, 2, 'compiled for the other store when warmed');
        assert.deepEqual(await counted.rows(other.db, '', 'k1'), [{ id: 1, k: 'k1' }]);
        assert.equal(builds, 2, 'not built again when it first runs there');
      } finally {
        await other.close();
      }
    });

    test('a builder that does not pass an argument through as a parameter is refused', async () => {
      const bad = preparedStatement((db: Db, _v, k: string) => tdb(db).selectFrom('pt').selectAll().where('k', '=', k.toUpperCase()));
      await assert.rejects(bad.rows(store.db, '', 'k1'), /does not reach the SQL as a parameter/);
    });
  });
}

// On PostgreSQL every parameterized statement runs as a named prepared statement (store.ts namingStatements: parsed
// once per connection). A migration run meanwhile (another dmsd's upgrade) can change what a prepared `select *`
// returns: PostgreSQL then refuses it; the statement runs again unnamed outside a transaction, fails its transaction
// inside one, and the connection is not reused.
describe('named prepared statements on postgres', () => {
  let store: Store;
  before(async () => {
    store = await postgresBackend(() => pgServer).open();
    await sql`create table nt (id integer primary key, k text not null)`.execute(store.db);
    await sql`insert into nt values (1, 'a'), (2, 'b')`.execute(store.db);
  });
  after(async () => {
    await store?.close();
  });
  const byK = (db: Db, k: string) => (db as unknown as import('kysely').Kysely<{ nt: { id: number; k: string } }>).selectFrom('nt').selectAll().where('k', '=', k).execute();

  test('a parameterized statement is prepared by name on its connection', async () => {
    await store.db.connection().execute(async (c) => {
      assert.deepEqual(await byK(c, 'a'), [{ id: 1, k: 'a' }]);
      const names = (await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(c)).rows;
      assert.ok(
        names.some((n) => /^dms_\d+$/.test(n.name) && /from "nt" where "k" = \$1/.test(n.statement)),
        JSON.stringify(names),
      );
    });
  });

  test('a statement gone stale by a schema change runs again outside a transaction, fails its transaction inside one', async () => {
    await store.db.connection().execute(async (c) => {
      assert.deepEqual(await byK(c, 'b'), [{ id: 2, k: 'b' }]);
      await sql`alter table nt add column extra integer`.execute(c);
      assert.deepEqual(await byK(c, 'b'), [{ id: 2, k: 'b', extra: null }], 'outside a transaction: run again');
      await sql`alter table nt add column more integer`.execute(c);
      await sql`begin`.execute(c);
      await assert.rejects(byK(c, 'b'), /cached plan must not change result type/);
      await sql`rollback`.execute(c);
    });
    // The connection was closed on release: what runs next prepares afresh, in a transaction too.
    for (let i = 0; i < 3; i++)
      await readTx(store, async (trx) => assert.deepEqual(await byK(trx, 'b'), [{ id: 2, k: 'b', extra: null, more: null }]));
  });
});
