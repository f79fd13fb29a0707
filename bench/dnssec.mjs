#!/usr/bin/env node
// DNSSEC signing benchmark (issue 9), after `npm run build`: a generated zone of N A records (default 100,000) signed
// with one ECDSAP256SHA256 CSK and NSEC, by DMS's signer (src/dnssec signZone: the code dmsd's signer runs, in this
// process, one thread) and by BIND's dnssec-signzone with THE SAME key (exported as BIND key files) on the same zone
// file, with one thread (-n 1) and with one per core; then 1,000 changes (500 records removed, 500 added): DMS
// re-signs incrementally (SignedZone.apply: only the touched RRsets and NSEC links), dnssec-signzone signs the changed
// file again (it has no incremental mode for a zone file; named's incremental path is UPDATE). Knot is not measured
// here (knotd signs only zones it serves: a later step). Options: --records N.
// Output: one line per measurement, and bench/out/dnssec.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, have } from './lib.mjs';

const argv = process.argv.slice(2);
const ri = argv.indexOf('--records');
const N = ri >= 0 ? Number(argv[ri + 1]) : 100_000;
const ORIGIN = 'bench.example.';
const CHANGES = 1000;

const dist = (p) => import(join(ROOT, 'dist', p));
const { parseZoneText } = await dist('zonefile/index.js');
const { Name } = await dist('dns/name.js');
const { generateKey, exportBindKey, KSK_FLAGS } = await dist('dnssec/index.js');
const { signZone } = await dist('dnssec/zone.js');

const dir = mkdtempSync(join(tmpdir(), 'dms-bench-dnssec-'));
const head = `$ORIGIN ${ORIGIN}\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n`;
const line = (i) => `h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
let body = '';
for (let i = 0; i < N; i++) body += line(i);
const zoneFile = join(dir, 'zone.db');
writeFileSync(zoneFile, head + body);
const origin = Name.parse(ORIGIN);
const records = parseZoneText(head + body, { origin }).records;

const key = generateKey(13, { flags: KSK_FLAGS });
const keys = [{ key, ksk: true, zsk: true }];
const now = Math.floor(Date.now() / 1000);
const policy = { denial: { kind: 'nsec' }, validity: 14 * 86400, dnskeyTtl: 3600 };
const results = { records: N, cores: cpus().length, load: loadavg().map((x) => x.toFixed(2)).join(' '), node: process.version };
const log = (k, v) => {
  results[k] = v;
  console.log(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
};
log('machine', `${results.cores} cores, load ${results.load}, node ${results.node}`);

// DMS: full sign.
global.gc?.();
const rss0 = process.memoryUsage().rss;
let t = performance.now();
const z = signZone(origin, records, keys, policy, now);
const fullMs = performance.now() - t;
const sigs = z.generated().filter((r) => r.type === 46).length;
log('dms full sign', { ms: Math.round(fullMs), signatures: sigs, perSecond: Math.round(sigs / (fullMs / 1000)), rssDeltaMB: Math.round((process.memoryUsage().rss - rss0) / 1e6) });

// DMS: 1,000 changes re-signed incrementally.
const remove = records.filter((r) => r.type === 1 && r.name.labelCount === 3).slice(0, CHANGES / 2);
const added = parseZoneText(`$ORIGIN ${ORIGIN}\n$TTL 3600\n${Array.from({ length: CHANGES / 2 }, (_, i) => `n${i} A 172.16.${i >> 8}.${i & 255}\n`).join('')}`, { origin }).records;
t = performance.now();
const d = z.apply({ remove, add: added }, keys, now);
const incMs = performance.now() - t;
log('dms re-sign after 1000 changes', { ms: Math.round(incMs * 10) / 10, removed: d.remove.length, added: d.add.length });

// BIND dnssec-signzone with the same key.
if (have('dnssec-signzone')) {
  const files = exportBindKey(origin, key, { created: now, publish: now - 3600, activate: now - 3600 }, 3600);
  writeFileSync(join(dir, `${files.baseName}.key`), files.keyText);
  writeFileSync(join(dir, `${files.baseName}.private`), files.privateText, { mode: 0o600 });
  // The DNSKEY goes into the zone file, as dnssec-signzone expects it at the apex (the key given by name signs).
  const withKey = (file) => {
    const out = `${file}.bind`;
    writeFileSync(out, `${readFileSync(file, 'utf8')}${files.keyText}`);
    return out;
  };
  const bind = (threads, plain, label) => {
    const file = withKey(plain);
    const args = ['-o', ORIGIN, '-K', dir, '-z', '-P', '-e', '+1209600', '-f', join(dir, 'signed.db'), ...(threads ? ['-n', String(threads)] : []), file, files.baseName];
    const t0 = performance.now();
    const r = spawnSync('dnssec-signzone', args, { cwd: dir, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`dnssec-signzone failed: ${r.stderr}`);
    const out = readFileSync(join(dir, 'signed.db'), 'utf8');
    // RRSIG records (not the RRSIG in NSEC type bitmaps): the type followed by its covered type and numbers.
    const n = (out.match(/\bRRSIG\s+[A-Z0-9]+\s+\d+\s+\d+\s+\d+\s/g) ?? []).length;
    log(label, { ms: Math.round(ms), signatures: n, perSecond: Math.round(n / (ms / 1000)), command: `dnssec-signzone ${args.join(' ')}` });
  };
  bind(1, zoneFile, 'bind dnssec-signzone -n 1 full sign');
  bind(0, zoneFile, `bind dnssec-signzone (threads = ${results.cores} cores) full sign`);
  const changed = join(dir, 'changed.db');
  const removedNames = new Set(remove.map((r) => r.name.toString()));
  const kept = body.split('\n').filter((l) => l !== '' && !removedNames.has(`${l.split(' ')[0]}.${ORIGIN}`));
  writeFileSync(changed, `${head}${kept.join('\n')}\n${Array.from({ length: CHANGES / 2 }, (_, i) => `n${i} A 172.16.${i >> 8}.${i & 255}`).join('\n')}\n`);
  bind(1, changed, 'bind dnssec-signzone -n 1 after 1000 changes (whole file again)');
} else console.log('dnssec-signzone not installed (bind9-dnsutils / bind9): BIND not measured');

mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'out', 'dnssec.json'), `${JSON.stringify(results, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });
