// Automatic reverse PTRs at scale (issue 14): one save of a forward zone holding N AAAA records (default 50,000) into an
// empty /48 reverse zone with inc_updates, as an operator does it with zone_tool (load_zone_zi, SQLite in --data or
// PostgreSQL with --database-url). The figure: the wall time of that save (forward version + every PTR, one
// transaction), the same save into a forward zone whose addresses no reverse zone holds (the auto-PTR lookups
// without writes), and the versions written (the forward zone's and the reverse zone's: one each).
//
// Options: --records N (default 50000), --database-url URL (default: SQLite in a temporary --data directory),
// --out FILE (default bench/out/reverse.json), --keep (leave the work directory).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROOT } from './lib.mjs';

const argv = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RECORDS = Number(argOf('--records', 50_000));
const DB_URL = argOf('--database-url', undefined);
const keep = argv.includes('--keep');
const outFile = resolve(argOf('--out', join(ROOT, 'bench', 'out', 'reverse.json')));
const fmt = (n, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

const work = mkdtempSync(join(tmpdir(), 'dms-bench-reverse-'));
const store = DB_URL ? ['--database-url', DB_URL] : ['--data', join(work, 'data')];
if (!DB_URL) mkdirSync(join(work, 'data'));

function zoneTool(args) {
  const env = { ...process.env, DMS_CHANGE_BY: 'bench@reverse/Admin' };
  delete env.DMS_DATA_DIR;
  delete env.DMS_DATABASE_URL;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'zone_tool'), ...store, ...args], { encoding: 'utf8', env, timeout: 1_800_000, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A forward zone of N AAAA records with distinct addresses spread over the /48's subnets (prefix: 3 groups). */
function zoneFile(prefix) {
  const lines = ['$TTL 300', '@ SOA ns1.dms.invalid. hostmaster 1 3600 900 604800 300', '@ NS ns1.dms.invalid.'];
  for (let i = 0; i < RECORDS; i++) lines.push(`h${i} AAAA ${prefix}:${(i % 4096).toString(16)}::${(Math.floor(i / 4096) + 1).toString(16)}`);
  const file = join(work, `${prefix.replace(/:/g, '-')}.zone`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const zis = (zone) => zoneTool(['ls_zi', zone]).split('\n').filter((l) => /^\s*\d+\s/.test(l)).length;

function timedSave(file, zone) {
  const t0 = process.hrtime.bigint();
  const out = zoneTool(['load_zone_zi', file, zone]);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out };
}

try {
  zoneTool(['set_config', 'edit_lock', 'false']);
  zoneTool(['create_zone', '2001:db8:100::/48', 'inc_updates']);
  zoneTool(['create_zone', 'fwd.bench.test']);
  zoneTool(['create_zone', 'nowhere.bench.test']);
  const rev = '0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa.';
  const before = { fwd: zis('fwd.bench.test'), rev: zis(rev) };

  const withPtrs = timedSave(zoneFile('2001:db8:100'), 'fwd.bench.test');
  const created = (withPtrs.out.match(/auto PTR: create /g) ?? []).length;
  const written = { fwd: zis('fwd.bench.test') - before.fwd, rev: zis(rev) - before.rev };
  const ptrs = (zoneTool(['show_zone', rev]).match(/\tPTR\t/g) ?? []).length;
  // The same save where no reverse zone holds the addresses: the lookups, no PTR written.
  const without = timedSave(zoneFile('2001:db8:999'), 'nowhere.bench.test');
  const check = zoneTool(['check_reverse', 'fwd.bench.test']);

  const result = {
    records: RECORDS,
    store: DB_URL ? 'postgres' : 'sqlite',
    saveWithPtrsMs: Math.round(withPtrs.ms),
    saveWithoutReverseZoneMs: Math.round(without.ms),
    ptrsCreated: created,
    ptrsInReverseZone: ptrs,
    versionsWritten: written,
    checkReverse: check.trim().split('\n').pop()?.trim(),
  };
  console.log(`forward zone of ${fmt(RECORDS)} AAAA into an empty /48 (${result.store}):`);
  console.log(`  save with auto PTRs:          ${fmt(withPtrs.ms)} ms (${fmt(created)} PTRs created, ${fmt(ptrs)} in the reverse zone)`);
  console.log(`  save, no reverse zone holds:  ${fmt(without.ms)} ms`);
  console.log(`  versions written:             forward ${written.fwd}, reverse ${written.rev}`);
  console.log(`  check_reverse:                ${result.checkReverse}`);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  if (ptrs !== RECORDS || written.rev !== 1 || written.fwd !== 1) {
    console.error('unexpected result');
    process.exitCode = 1;
  }
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`work directory: ${work}`);
}
