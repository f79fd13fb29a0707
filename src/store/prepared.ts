// Statements on the hot change path, built and compiled by Kysely once per store and then run as their SQL text.
//
// Building a query with Kysely (operation nodes, frozen at each step) and compiling it costs 20–40 µs, more than
// SQLite takes to run a small indexed statement; an RFC 2136 UPDATE runs about fifteen of them. A prepared statement
// is written as an ordinary Kysely builder over placeholder arguments, compiled the first time it runs on a store
// (per dialect: the SQL text differs), and afterwards only its parameters change. Kysely still executes it (same
// connection, transaction and driver), and SQLite's statement cache (store.ts reusingStatements) reuses the compiled
// statement; on SQLite, inside a transaction or while none is open, it runs on the connection directly (Kysely's
// executor, its connection mutex and its promise chain cost about as much again as the statement).

import { type Compilable, CompiledQuery, type Kysely } from 'kysely';
import { type Db, heldSqlite, loopTurnDue } from './store.js';

interface Compiled {
  sql: string;
  /** For each parameter of the SQL: the index of the argument it takes, or -1 for a value fixed by the builder. */
  slots: Int16Array;
  fixed: readonly unknown[];
}

const warmers: ((db: Db) => number)[] = [];

/**
 * Compile for `db` (and, on SQLite, prepare on its connection) every prepared statement variant that has run on any
 * store in this process: dmsd's change-path rehearsal (daemon/rehearsal.ts) runs them on a throwaway store, then has
 * them ready for the real one, whose first UPDATE would otherwise build, compile and prepare each. Returns how many.
 * Call it while no transaction is open on `db`'s connection (the statements are prepared outside of one).
 */
export function warmPreparedStatements(db: Db): number {
  let n = 0;
  for (const warm of warmers) n += warm(db);
  return n;
}

/**
 * A statement whose shape is fixed by `variant` (e.g. the number of names in an IN list, a dialect-specific lock) and
 * whose values are the arguments. `build` must pass each argument through to a parameter unchanged (not transform it,
 * not use it to choose the shape): checked on the first compile, which throws when an argument does not reach the SQL
 * as a parameter. An undefined argument is bound as NULL.
 */
export function preparedStatement<A extends readonly unknown[], R>(build: (db: Db, variant: string, ...args: A) => Compilable<R>) {
  const byAdapter = new WeakMap<object, Map<string, Compiled>>();
  // The variants run so far on any store, with their arity: warmPreparedStatements compiles them for another.
  const variantsRun = new Map<string, number>();
  const compiledFor = (db: Db, variant: string, arity: number): Compiled => {
    const adapter = db.getExecutor().adapter;
    let forStore = byAdapter.get(adapter);
    if (!forStore) byAdapter.set(adapter, (forStore = new Map()));
    let c = forStore.get(variant);
    if (!c) {
      forStore.set(variant, (c = compile(db, variant, arity)));
      variantsRun.set(variant, arity);
    }
    return c;
  };
  warmers.push((db) => {
    let n = 0;
    for (const [variant, arity] of variantsRun) {
      const c = compiledFor(db, variant, arity);
      heldSqlite(db)?.prepare(c.sql);
      n++;
    }
    return n;
  });
  const compile = (db: Db, variant: string, arity: number): Compiled => {
    const marks = Array.from({ length: arity }, (_, i) => `\u0000dms-prepared-arg-${i}\u0000`);
    const q = build(db, variant, ...(marks as unknown as A)).compile();
    const slots = new Int16Array(q.parameters.length).fill(-1);
    const seen = new Set<number>();
    q.parameters.forEach((p, j) => {
      const i = typeof p === 'string' ? marks.indexOf(p) : -1;
      if (i >= 0) {
        slots[j] = i;
        seen.add(i);
      }
    });
    if (seen.size !== arity) throw new Error(`prepared statement: an argument does not reach the SQL as a parameter: ${q.sql}`);
    return { sql: q.sql, slots, fixed: q.parameters };
  };
  const run = async (db: Db, variant: string, args: A): Promise<{ rows: R[]; changes: number; insertId?: number }> => {
    const c = compiledFor(db, variant, args.length);
    const parameters = new Array<unknown>(c.slots.length);
    for (let j = 0; j < c.slots.length; j++) {
      const i = c.slots[j];
      parameters[j] = i < 0 ? c.fixed[j] : (args[i] ?? null);
    }
    // On SQLite, inside a transaction or while none is open: straight to the connection's statement (store.ts
    // heldSqlite).
    if (heldSqlite(db)) {
      const pause = loopTurnDue();
      if (pause) await pause;
    }
    // Asked again after the pause: a transaction may have begun on the connection meanwhile.
    const held = heldSqlite(db);
    if (held) {
      const st = held.prepare(c.sql);
      if (st.reader) return { rows: st.all(parameters) as R[], changes: 0 };
      const info = st.run(parameters);
      return { rows: [], changes: info.changes, insertId: Number(info.lastInsertRowid) };
    }
    const r = await db.executeQuery<R>(CompiledQuery.raw(c.sql, parameters));
    return { rows: r.rows, changes: Number(r.numAffectedRows ?? 0), ...(r.insertId !== undefined ? { insertId: Number(r.insertId) } : {}) };
  };
  return {
    /** The SQL a variant runs (compiled as a run compiles it): for tests of its query plan. */
    sqlOf(db: Db, variant: string, arity: number): string {
      return compile(db, variant, arity).sql;
    },
    async rows(db: Db, variant: string, ...args: A): Promise<R[]> {
      return (await run(db, variant, args)).rows;
    },
    async first(db: Db, variant: string, ...args: A): Promise<R | undefined> {
      return (await run(db, variant, args)).rows[0];
    },
    /** Rows inserted, changed or deleted by the statement. */
    async changes(db: Db, variant: string, ...args: A): Promise<number> {
      return (await run(db, variant, args)).changes;
    },
    /** The rowid of the row an INSERT added (SQLite; undefined on PostgreSQL). */
    async insertId(db: Db, variant: string, ...args: A): Promise<number | undefined> {
      return (await run(db, variant, args)).insertId;
    },
  };
}

type AnyDb = Kysely<Record<string, Record<string, unknown>>>;
const isExpression = (v: unknown) => (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) || typeof v === 'function';

/**
 * Insert one row into `table` (or, with `whereId`, set these columns of the row with that id) as a prepared
 * statement, one variant per set of columns given (undefined values are left out, as Kysely does). A value that is an
 * SQL expression goes through the builder instead.
 */
export function preparedRowWrite(table: string, whereId?: 'id') {
  const st = preparedStatement((db: Db, variant: string, ...values: unknown[]) => {
    const columns = variant.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, values[i + (whereId ? 1 : 0)]]));
    const d = db as unknown as AnyDb;
    return whereId ? d.updateTable(table).set(row).where('id', '=', values[0]) : d.insertInto(table).values(row);
  });
  return async (db: Db, row: object, id?: number): Promise<void> => {
    const r = row as Record<string, unknown>;
    const columns = Object.keys(r).filter((c) => r[c] !== undefined);
    if (columns.some((c) => isExpression(r[c]))) {
      const d = db as unknown as AnyDb;
      await (whereId ? d.updateTable(table).set(r).where('id', '=', id) : d.insertInto(table).values(r)).execute();
      return;
    }
    const values = columns.map((c) => r[c]);
    await st.rows(db, columns.join(','), ...(whereId ? [id, ...values] : values));
  };
}
