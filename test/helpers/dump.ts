// "The database is unchanged": every row of the tables named, in a stable order, as one string to compare before
// and after a refused call.
import type { Store } from '../../src/store/index.js';

function rowText(r: Record<string, unknown>): string {
  return JSON.stringify(r, (_k, v) =>
    typeof v === 'bigint'
      ? v.toString()
      : v && typeof v === 'object' && v.type === 'Buffer'
        ? Buffer.from(v.data).toString('hex')
        : v,
  );
}

export async function dumpTables(store: Store, tables: readonly string[]): Promise<string> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    // biome-ignore lint/suspicious/noExplicitAny: a generic dump over tables named at run time
    const rows = await (store.db as any).selectFrom(t).selectAll().execute();
    out[t] = rows.map(rowText).sort();
  }
  return JSON.stringify(out);
}
