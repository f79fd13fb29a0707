// zone_tool driven as an operator drives it: one spawned process per command, on SQLite and on PostgreSQL.
// Every bad input must give one clear message, a non-zero exit and leave the database exactly as it was.
// Needs the build (npm test builds first; for a single run: npm run build && node scripts/run-tests.mjs zone_tool).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const BIN = resolve('bin/zone_tool');
const TABLES = [
  'server_groups',
  'zone_references',
  'sectags',
  'zones',
  'zone_sectags',
  'zone_instances',
  'records',
  'config',
  'events',
  'zone_changes',
];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface Target {
  name: 'sqlite' | 'postgres';
  /** Global options selecting this target's database. */
  args: string[];
  storeOptions: { dataDir: string; databaseUrl?: string };
}

function zt(target: Target, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...target.args, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    // TMPDIR inside the test's work dir: edit files kept after a refused save are cleaned up with it.
    env: { ...process.env, TZ: 'UTC', DMS_CHANGE_BY: 'tester@test/Admin', TMPDIR: work, ...opts.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run, what: string): Run {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A failed command: the given exit status, one message (on stderr, '***' prefixed), nothing on stdout. */
function fails(r: Run, status: number, pattern: RegExp, what: string): void {
  assert.equal(r.status, status, `${what}: expected exit ${status}, got ${r.status}:\n${r.stdout}\n${r.stderr}`);
  // Messages are wrapped at 70 columns like the original's; match on the unwrapped text.
  assert.match(r.stderr.replace(/\s+/g, ' '), pattern, `${what}: message`);
  assert.equal((r.stderr.match(/^\*\*\*/gm) ?? []).length, 1, `${what}: exactly one error message:\n${r.stderr}`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
}

/** Every row of every table, in a stable order: compared before/after a failing command. */
async function dump(target: Target): Promise<string> {
  const { openStore } = await import('../../src/store/index.js');
  const store = await openStore(target.storeOptions);
  try {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) {
      // biome-ignore lint/suspicious/noExplicitAny: dumping arbitrary tables
      const rows = await (store.db as any).selectFrom(t).selectAll().execute();
      out[t] = rows
        .map((r: Record<string, unknown>) =>
          JSON.stringify(r, (_k, v) =>
            typeof v === 'bigint' ? v.toString() : v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v,
          ),
        )
        .sort();
    }
    return JSON.stringify(out, null, 1);
  } finally {
    await store.close();
  }
}

async function unchanged(target: Target, fn: () => void): Promise<void> {
  const before = await dump(target);
  fn();
  const afterDump = await dump(target);
  assert.equal(afterDump, before, 'database changed by a failing command');
}

const work = mkdtempSync(join(tmpdir(), 'zone_tool-test-'));
let pg: TestPostgres;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

function zoneFile(origin: string, extra = ''): string {
  return `$TTL 3600
$ORIGIN ${origin}
@ IN SOA ns1.${origin} hostmaster.${origin} ( 2024010101 7200 3600 1209600 600 )
@ IN NS ns1.${origin}
ns1 IN A 192.0.2.1
www IN A 192.0.2.80
${extra}`;
}

for (const backendName of ['sqlite', 'postgres'] as const) {
  describe(`zone_tool one-shot on ${backendName}`, () => {
    let target: Target;
    let dir: string;

    before(async () => {
      dir = join(work, backendName);
      mkdirSync(dir, { recursive: true });
      if (backendName === 'sqlite') {
        const data = join(dir, 'data');
        target = { name: 'sqlite', args: ['--data', data], storeOptions: { dataDir: data } };
      } else {
        const url = await pg.createDatabase();
        target = { name: 'postgres', args: ['--database-url', url], storeOptions: { dataDir: dir, databaseUrl: url } };
      }
    });

    test('help, unknown command and bad flags', async () => {
      const h = ok(zt(target, ['help']), 'help');
      assert.match(h.stdout, /Documented commands/);
      assert.match(h.stdout, /create_zone/);
      assert.match(ok(zt(target, ['help', 'lsref']), 'help lsref').stdout, /List references/);
      ok(zt(target, ['create_zone', 'first.org']), 'create_zone');
      await unchanged(target, () => {
        fails(zt(target, ['frobnicate']), 64, /Unknown command 'frobnicate'/, 'unknown command');
        fails(zt(target, ['ls', '-q']), 64, /ls: unknown option '-q'/, 'bad flag');
        fails(zt(target, ['create_zone', '-x', 'x.org']), 64, /create_zone: unknown option '-x'/, 'bad flag');
        fails(zt(target, ['create_zone', 'x.org', 'bogus_flag']), 64, /bogus_flag/, 'bad zone option');
        fails(zt(target, ['show_zone']), 64, /too few arguments/, 'missing argument');
        fails(zt(target, ['delete_zone', 'a.org', 'b.org']), 64, /too many arguments/, 'extra argument');
        fails(zt(target, ['create_zone', 'bad..name']), 65, /bad\.\.name/, 'bad zone name');
      });
      const j = zt(target, ['--json', 'frobnicate']);
      assert.equal(j.status, 64);
      assert.equal(JSON.parse(j.stdout).error.code, 'UnknownCommand');
    });

    test('create_zone, show_zone, show_zonesm, ls and the duplicate', async () => {
      ok(zt(target, ['create_zone', 'example.org']), 'create_zone');
      const show = ok(zt(target, ['show_zone', 'example.org']), 'show_zone').stdout;
      assert.match(show, /SOA/);
      assert.match(show, /NS/);
      const sm = ok(zt(target, ['show_zonesm', 'example.org']), 'show_zonesm').stdout;
      assert.match(sm, /^ {8}name: {12}example\.org\.$/m);
      assert.match(sm, /^ {8}state: {11}PUBLISHED$/m);
      assert.match(sm, /^ {8}zi_id: /m);
      assert.match(ok(zt(target, ['ls']), 'ls').stdout, /^example\.org\.$/m);
      const js = JSON.parse(ok(zt(target, ['--json', 'ls', 'example.*']), 'ls --json').stdout);
      assert.equal(js[0].name, 'example.org.');
      await unchanged(target, () => {
        fails(zt(target, ['create_zone', 'example.org']), 73, /already exists/, 'duplicate zone');
        fails(zt(target, ['show_zone', 'missing.org']), 68, /missing\.org/, 'missing zone');
        fails(zt(target, ['ls', 'nothing-here.*']), 68, /not present/, 'ls of nothing');
      });
    });

    test('create_zone with flags, -r, -g, and a CIDR makes the reverse zone', () => {
      ok(zt(target, ['create_zone', '-r', 'CUST-1', 'flags.org', 'inc_updates', 'nsec3', 'no_auto_dnssec']), 'create with flags');
      const sm = ok(zt(target, ['show_zonesm', 'flags.org']), 'show_zonesm').stdout;
      assert.match(sm, /inc_updates: +True/);
      assert.match(sm, /nsec3: +True/);
      assert.match(sm, /auto_dnssec: +False/);
      assert.match(sm, /reference: +CUST-1/);
      assert.equal(ok(zt(target, ['ls', '-r', 'CUST-1']), 'ls -r').stdout, 'flags.org.\n');
      ok(zt(target, ['create_zone', '2001:db8:1::/48']), 'create reverse');
      assert.match(ok(zt(target, ['ls', '*.ip6.arpa.']), 'ls reverse').stdout, /^1\.0\.0\.0\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa\.$/m);
      // An address finds the reverse zone that holds it.
      assert.match(
        ok(zt(target, ['show_zonesm', '2001:db8:1::42']), 'show_zonesm by address').stdout,
        /name: +1\.0\.0\.0\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa\./,
      );
      const sgs = ok(zt(target, ['--json', 'ls_sg']), 'ls_sg').stdout;
      const sg = JSON.parse(sgs)[0].name as string;
      ok(zt(target, ['create_zone', '-g', sg, 'in-sg.org']), 'create -g');
      assert.match(ok(zt(target, ['ls', '-g', sg]), 'ls -g').stdout, /^in-sg\.org\.$/m);
    });

    test('load_zone: a good file loads, a malformed one is refused with its line and changes nothing', async () => {
      const good = join(dir, 'loaded.org');
      writeFileSync(good, zoneFile('loaded.org.', 'mail IN MX 10 www\n'));
      ok(zt(target, ['load_zone', good, 'loaded.org']), 'load_zone');
      assert.match(ok(zt(target, ['show_zone', 'loaded.org']), 'show loaded').stdout, /MX\s+10 www/);
      const bad = join(dir, 'bad.org');
      writeFileSync(bad, zoneFile('bad.org.', 'broken IN A 999.1.2.3\n'));
      await unchanged(target, () => {
        const r = zt(target, ['load_zone', bad, 'bad.org']);
        assert.equal(r.status, 65, `${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:7(:\\d+)?: `));
        assert.equal((r.stderr.match(/^\*\*\*/gm) ?? []).length, 1, r.stderr);
        fails(zt(target, ['load_zone', join(dir, 'no-such-file'), 'x.org']), 66, /No such file/, 'missing file');
      });
    });

    test('load_zone and load_zone_zi: the zone check\'s warnings on stderr (file:line:column: warning:), the zone loaded', () => {
      const file = join(dir, 'warned.org');
      writeFileSync(file, zoneFile('warned.org.', 'dn IN DNAME example.net.\nh.dn IN A 192.0.2.7\n'));
      const r = ok(zt(target, ['load_zone', file, 'warned.org']), 'load_zone with warnings');
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^${file.replace(/[.]/g, '\\.')}:7:1: warning: records below the DNAME at dn\\.warned\\.org\\. are occluded .*h\\.dn\\.warned\\.org\\.; Knot DNS secondaries refuse such a zone\n$`));
      assert.match(ok(zt(target, ['show_zone', 'warned.org']), 'show warned').stdout, /h\.dn\s+.*A\s+192\.0\.2\.7/);
      // --json: in the result, not on stderr.
      const file2 = join(dir, 'warned2.org');
      writeFileSync(file2, zoneFile('warned2.org.', 'dn IN DNAME example.net.\nh.dn IN A 192.0.2.7\n'));
      const j = ok(zt(target, ['--json', 'load_zone', file2, 'warned2.org']), 'load_zone --json');
      assert.equal(j.stderr, '');
      assert.match(JSON.parse(j.stdout).warnings[0].message, /below the DNAME/);
      // A new version from a file: its warnings too.
      writeFileSync(file, zoneFile('warned.org.', 'dn IN DNAME example.net.\nh.dn IN A 192.0.2.7\ndn IN NS ns1\n'));
      const z = ok(zt(target, ['load_zone_zi', file, 'warned.org']), 'load_zone_zi with warnings');
      assert.match(z.stderr, /:7:1: warning: DNAME beside NS records at dn\.warned\.org\. \(line 9 of [^)]*\): the delegation occludes it/);
      // load_zones: each file's warnings, named by the file.
      const many = join(dir, 'warned-many');
      mkdirSync(many, { recursive: true });
      writeFileSync(join(many, 'warned3.org'), zoneFile('warned3.org.', 'dn IN DNAME example.net.\nh.dn IN A 192.0.2.7\n'));
      writeFileSync(join(many, 'clean3.org'), zoneFile('clean3.org.'));
      const m = ok(zt(target, ['load_zones', join(many, 'warned3.org'), join(many, 'clean3.org')]), 'load_zones with warnings');
      assert.match(m.stderr, new RegExp(`^${join(many, 'warned3.org').replace(/[.]/g, '\\.')}:7:1: warning: records below the DNAME at dn\\.warned3\\.org\\.`, 'm'));
      assert.doesNotMatch(m.stderr, /clean3/);
    });

    test('load_zones: per-file errors with line numbers, -f continues past bad files', async () => {
      const bdir = join(dir, 'batch');
      mkdirSync(bdir, { recursive: true });
      const files = ['a1.net', 'a2.net', 'a3.net'].map((n) => join(bdir, n));
      writeFileSync(files[0], zoneFile('a1.net.'));
      writeFileSync(files[1], zoneFile('a2.net.', 'oops IN BOGUSTYPE x\n'));
      writeFileSync(files[2], zoneFile('a3.net.'));
      // Without -f: stops at the bad file.
      const r1 = zt(target, ['load_zones', ...files]);
      assert.equal(r1.status, 65, r1.stderr);
      assert.match(r1.stderr, /a2\.net:7/);
      assert.match(r1.stderr, /use -f/);
      assert.equal(ok(zt(target, ['ls', 'a?.net']), 'ls').stdout, 'a1.net.\n');
      // With -f: the rest is loaded, a1 reported as existing, exit still non-zero.
      const r2 = zt(target, ['load_zones', '-f', ...files]);
      assert.notEqual(r2.status, 0);
      assert.match(r2.stderr, /a1\.net.*already exists/);
      assert.match(r2.stderr, /a2\.net:7/);
      assert.equal(ok(zt(target, ['ls', 'a?.net']), 'ls').stdout, 'a1.net.\na3.net.\n');
    });

    test("load_zones -o: each zone named by its file's $ORIGIN (files named otherwise), the basename where there is none", async () => {
      const odir = join(dir, 'by-origin');
      mkdirSync(odir, { recursive: true });
      writeFileSync(join(odir, 'first.zone'), zoneFile('o1.example.'));
      writeFileSync(join(odir, 'o2.example'), zoneFile('@').replace('$ORIGIN @\n', '').replaceAll('.@', ''));
      const r = zt(target, ['load_zones', '-o', join(odir, 'first.zone'), join(odir, 'o2.example')]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(ok(zt(target, ['ls', 'o?.example']), 'ls').stdout, 'o1.example.\no2.example.\n');
      // Without -o the basename is the name: first.zone's records are not in a zone "first.zone".
      writeFileSync(join(odir, 'o3.zone'), zoneFile('o3.example.'));
      assert.notEqual(zt(target, ['load_zones', join(odir, 'o3.zone')]).status, 0, 'the basename without -o');
    });

    test('load_zones over more files than one load_zones call takes: order, -f, unreadable files, -r', async () => {
      const bdir = join(dir, 'many');
      mkdirSync(bdir, { recursive: true });
      const names = Array.from({ length: 230 }, (_, i) => `m${String(i).padStart(3, '0')}.org`);
      const files = names.map((n) => join(bdir, n));
      names.forEach((n, i) => {
        if (i === 150) mkdirSync(files[i]);
        else writeFileSync(files[i], zoneFile(`${n}.`, i === 120 ? 'oops IN BOGUSTYPE x\n' : ''));
      });
      const count = () => ok(zt(target, ['ls', 'm???.org']), 'ls').stdout.split('\n').filter(Boolean).length;
      // Every zone fails: the reference -r names is not left behind (made in each zone's transaction).
      await unchanged(target, () => {
        const r = zt(target, ['load_zones', '-r', 'ghostref', files[120]]);
        assert.equal(r.status, 65, r.stderr);
      });
      // Without -f: everything before the bad file is loaded, nothing after it.
      const r1 = zt(target, ['load_zones', '-r', 'manyref', ...files]);
      assert.equal(r1.status, 65, r1.stderr);
      assert.match(r1.stderr, /m120\.org:7/);
      assert.doesNotMatch(r1.stderr, /m150/);
      assert.equal(count(), 120);
      assert.equal(JSON.parse(ok(zt(target, ['--json', 'show_zonesm', 'm119.org']), 'sm').stdout).zone.reference, 'manyref');
      // With -f: the rest is loaded; the messages come in file order, the exit status is the first failure's.
      const r2 = zt(target, ['load_zones', '-f', ...files]);
      assert.equal(r2.status, 73, r2.stderr);
      // Messages are wrapped at 70 columns: look at the unwrapped text.
      const at = (re: RegExp) => r2.stderr.replace(/\s+/g, ' ').search(re);
      assert.ok(at(/m119\.org': zone 'm119\.org\.' already exists/) >= 0, r2.stderr);
      assert.ok(at(/m119\.org': zone 'm119\.org\.' already exists/) < at(/m120\.org:7/), r2.stderr);
      assert.ok(at(/m120\.org:7/) >= 0 && at(/m120\.org:7/) < at(/m150\.org': Is a directory/), r2.stderr);
      assert.equal(count(), 228);
    });

    test('edit_zone with $EDITOR, the ZI history, diff_zone_zi and ZI selectors', async () => {
      ok(zt(target, ['create_zone', 'edit.org']), 'create');
      const editor = join(dir, 'editor.sh');
      writeFileSync(editor, '#!/bin/sh\nprintf "added IN TXT \\"hello\\"\\n" >> "$1"\n');
      chmodSync(editor, 0o755);
      ok(zt(target, ['edit_zone', 'edit.org'], { env: { EDITOR: editor, VISUAL: '' } }), 'edit_zone');
      assert.match(ok(zt(target, ['show_zone', 'edit.org']), 'show').stdout, /added\s.*TXT\s+"hello"/);
      const zis = ok(zt(target, ['ls_zi', 'edit.org']), 'ls_zi').stdout.trimEnd().split('\n');
      assert.equal(zis.length, 2, zis.join('\n'));
      assert.match(zis[0], /^ {8}\*/, 'newest, published ZI first and starred');
      const diff = ok(zt(target, ['diff_zone_zi', 'edit.org', '^-']), 'diff_zone_zi').stdout;
      assert.match(diff, /^\+added.*TXT/m);
      assert.doesNotMatch(ok(zt(target, ['show_zone', 'edit.org', '^-']), 'show old').stdout, /hello/);
      const showZi = ok(zt(target, ['show_zi', 'edit.org', '^']), 'show_zi').stdout;
      assert.match(showZi, /^ {8}zi_id: /);
      assert.match(showZi, /change_by: +tester@test\/Admin/);

      // An invalid edit without a terminal: errors shown, nothing saved, lock released.
      const badEditor = join(dir, 'bad-editor.sh');
      writeFileSync(badEditor, '#!/bin/sh\nprintf "bad IN A not-an-address\\n" >> "$1"\n');
      chmodSync(badEditor, 0o755);
      await unchanged(target, () => {
        const r = zt(target, ['edit_zone', 'edit.org'], { env: { EDITOR: badEditor, VISUAL: '' } });
        assert.equal(r.status, 65, `${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /zone:\d+(:\d+)?: /);
        fails(zt(target, ['show_zi', 'edit.org', '@3w']), 68, /no zone instance/, 'ZI selector before the zone existed');
        fails(zt(target, ['show_zi', 'edit.org', '^x']), 64, /ZI selector/, 'bad ZI selector');
      });
      // The lock was released: a new edit works.
      ok(zt(target, ['edit_zone', 'edit.org'], { env: { EDITOR: editor, VISUAL: '' } }), 'second edit');
    });

    test('a stale edit token is refused and changes nothing', async () => {
      ok(zt(target, ['set_zone', 'edit.org', 'edit_lock']), 'set edit_lock');
      // While the operator edits, an admin clears the lock: the save must be refused, loudly.
      const editor = join(dir, 'clearing-editor.sh');
      const zoneTool = [process.execPath, BIN, ...target.args].map((a) => `'${a}'`).join(' ');
      writeFileSync(
        editor,
        `#!/bin/sh\n${zoneTool} clear_edit_lock edit.org || exit 1\nprintf "late IN A 192.0.2.9\\n" >> "$1"\n`,
      );
      chmodSync(editor, 0o755);
      await unchanged(target, () => {
        const r = zt(target, ['edit_zone', 'edit.org'], { env: { EDITOR: editor, VISUAL: '' } });
        assert.equal(r.status, 75, `${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /token/i);
        assert.match(r.stderr, /NOT saved/);
        assert.equal((r.stderr.match(/^\*\*\*/gm) ?? []).length, 1, r.stderr);
      });
      assert.doesNotMatch(ok(zt(target, ['show_zone', 'edit.org']), 'show').stdout, /late/);
    });

    test('references: lsref, in-use refusal, rename, set_zone_reference', async () => {
      ok(zt(target, ['create_reference', 'REF-A']), 'create_reference');
      ok(zt(target, ['create_zone', '-r', 'REF-A', 'refd.org']), 'create with ref');
      assert.match(ok(zt(target, ['lsref', 'REF-*']), 'lsref').stdout, /^REF-A$/m);
      assert.match(ok(zt(target, ['ls_reference', '-v']), 'ls_reference -v').stdout, /^REF-A +1$/m);
      await unchanged(target, () => {
        fails(zt(target, ['delete_reference', 'REF-A']), 69, /still used/, 'reference in use');
        fails(zt(target, ['create_reference', 'REF-A']), 73, /already exists/, 'duplicate reference');
      });
      ok(zt(target, ['rename_reference', 'REF-A', 'REF-B']), 'rename');
      assert.match(ok(zt(target, ['show_zonesm', 'refd.org']), 'show').stdout, /reference: +REF-B/);
      ok(zt(target, ['create_reference', 'REF-C']), 'create REF-C');
      ok(zt(target, ['set_zone_reference', 'refd.org', 'REF-C']), 'set_zone_reference');
      ok(zt(target, ['delete_reference', 'REF-B']), 'delete unused');
      assert.doesNotMatch(ok(zt(target, ['lsref']), 'lsref').stdout, /REF-B/);
    });

    test('sectags', async () => {
      ok(zt(target, ['create_sectag', 'HOSTED']), 'create_sectag');
      assert.match(ok(zt(target, ['show_sectags']), 'show_sectags').stdout, /^ {8}HOSTED$/m);
      ok(zt(target, ['add_zone_sectag', 'example.org', 'HOSTED']), 'add');
      assert.match(ok(zt(target, ['show_zone_sectags', 'example.org']), 'show_zone_sectags').stdout, /HOSTED/);
      await unchanged(target, () => {
        fails(zt(target, ['delete_sectag', 'HOSTED']), 69, /HOSTED/, 'sectag in use');
        fails(zt(target, ['add_zone_sectag', 'example.org', 'NOPE']), 68, /NOPE/, 'missing sectag');
      });
      ok(zt(target, ['replace_zone_sectags', 'example.org']), 'replace with none');
      ok(zt(target, ['delete_sectag', 'HOSTED']), 'delete');
    });

    test('set_zone, enable/disable, delete/undelete/destroy, nuke_zones', async () => {
      ok(zt(target, ['create_zone', 'life.org']), 'create');
      ok(zt(target, ['set_zone', 'life.org', 'nsec3', 'edit_lock']), 'set_zone');
      const sm = ok(zt(target, ['show_zonesm', 'life.org']), 'show').stdout;
      assert.match(sm, /nsec3: +True/);
      assert.match(sm, /edit_lock: +True/);
      // def_flag: the configured default (nsec3 defaults to false; inc_updates set to true here).
      ok(zt(target, ['set_config', 'inc_updates', 'true']), 'set_config');
      ok(zt(target, ['set_zone', 'life.org', 'def_nsec3', 'DEF_INC_UPDATES', 'no_edit_lock']), 'set_zone def_');
      const flags = JSON.parse(ok(zt(target, ['--json', 'show_zonesm', 'life.org']), 'show').stdout).zone.flags;
      assert.deepEqual([flags.nsec3, flags.incUpdates, flags.editLock], [false, true, false]);
      ok(zt(target, ['set_config', 'inc_updates', 'false']), 'set_config back');
      ok(zt(target, ['disable_zone', 'life.org']), 'disable');
      assert.match(ok(zt(target, ['ls', '-v', 'life.org']), 'ls -v').stdout, /DISABLED/);
      assert.equal(ok(zt(target, ['ls', '-t', 'life.*']), 'ls -t').stdout, '');
      ok(zt(target, ['enable_zone', 'life.org']), 'enable');
      ok(zt(target, ['delete_zone', 'life.org']), 'delete');
      const del = JSON.parse(ok(zt(target, ['--json', 'ls_deleted', 'life.org']), 'ls_deleted').stdout);
      assert.equal(del.length, 1);
      ok(zt(target, ['undelete_zone', String(del[0].id)]), 'undelete');
      ok(zt(target, ['delete_zone', 'life.org']), 'delete again');
      ok(zt(target, ['destroy_zone', String(del[0].id)]), 'destroy');
      fails(zt(target, ['ls_deleted', 'life.*']), 68, /not present/, 'ls_deleted after destroy');
      ok(zt(target, ['create_zone', 'nuke1.org']), 'c1');
      ok(zt(target, ['create_zone', 'nuke2.org']), 'c2');
      await unchanged(target, () => {
        fails(zt(target, ['nuke_zones', 'nuke*']), 75, /use -f/, 'nuke without -f and without a terminal');
      });
      ok(zt(target, ['nuke_zones', '-f', 'nuke*']), 'nuke -f');
      fails(zt(target, ['ls', 'nuke*']), 68, /not present/, 'ls after nuke');
    });

    test('serials, config, server groups, vacuum, events, status', async () => {
      const before = JSON.parse(ok(zt(target, ['--json', 'show_zonesm', 'example.org']), 'sm').stdout);
      ok(zt(target, ['poke_zone_set_serial', 'example.org']), 'poke set');
      const afterPoke = JSON.parse(ok(zt(target, ['--json', 'show_zonesm', 'example.org']), 'sm').stdout);
      assert.equal(afterPoke.zone.soaSerial, (before.zone.soaSerial + 1) % 2 ** 32);
      await unchanged(target, () => {
        fails(zt(target, ['poke_zone_set_serial', 'example.org', '1']), 65, /serial/i, 'older serial');
      });
      ok(zt(target, ['poke_zone_wrap_serial', 'example.org']), 'wrap');
      ok(zt(target, ['set_config', 'zi_max_num', '30']), 'set_config');
      assert.match(ok(zt(target, ['show_config']), 'show_config').stdout, /^ {8}zi_max_num: +30$/m);
      await unchanged(target, () => {
        fails(zt(target, ['set_config', 'no_such_key', '1']), 65, /no_such_key/, 'bad config key');
        fails(zt(target, ['show_sg', 'no-such-sg']), 68, /no-such-sg/, 'missing sg');
      });
      ok(zt(target, ['create_sg', 'sg-two', 'none', '192.0.2.53']), 'create_sg');
      assert.match(ok(zt(target, ['ls_sg']), 'ls_sg').stdout, /sg-two/);
      assert.match(ok(zt(target, ['show_sg', 'sg-two']), 'show_sg').stdout, /^ {8}sg_name: +sg-two$/m);
      ok(zt(target, ['show_apex_ns']), 'show_apex_ns');
      ok(zt(target, ['vacuum_all']), 'vacuum_all');
      ok(zt(target, ['vacuum_zis']), 'vacuum_zis');
      ok(zt(target, ['ls_pending_events']), 'ls_pending_events');
      ok(zt(target, ['ls_failed_events', '5']), 'ls_failed_events');
      ok(zt(target, ['ls_events']), 'ls_events');
      fails(zt(target, ['show_event', '999999']), 68, /999999/, 'missing event');
      assert.match(ok(zt(target, ['show_dms_status']), 'status').stdout, /ls_sg:/);
    });

    test('show_zone output loads back as the same zone (the info header is comments)', () => {
      const f = join(dir, 'roundtrip.zone');
      writeFileSync(f, ok(zt(target, ['show_zone', 'loaded.org']), 'show').stdout);
      const before = ok(zt(target, ['ls_zi', 'loaded.org']), 'ls_zi').stdout;
      const r = ok(zt(target, ['load_zone_zi', f, 'loaded.org']), 'load_zone_zi');
      assert.match(r.stderr.replace(/\s+/g, ' '), /unchanged/);
      assert.equal(ok(zt(target, ['ls_zi', 'loaded.org']), 'ls_zi').stdout, before);
      assert.match(readFileSync(f, 'utf8'), /^; {3}Zone: {8}loaded\.org\.$/m);
    });

    test('commands piped into the shell run in order; the exit status is the last one', () => {
      const r = zt(target, [], { input: 'create_zone piped.org\nls piped.*\nbogus\n' });
      assert.equal(r.status, 64, r.stderr);
      assert.equal(r.stdout, 'piped.org.\n');
      assert.match(r.stderr, /Unknown command 'bogus'/);
      const r2 = zt(target, [], { input: 'help exit\nshow_zone piped.org\n' });
      assert.equal(r2.status, 0, r2.stderr);
      assert.match(r2.stdout, /Exit program\.[\s\S]*SOA/);
    });

    test('copy_zone and diff_zones', () => {
      ok(zt(target, ['copy_zone', 'loaded.org', 'copied.org']), 'copy_zone');
      const d = ok(zt(target, ['diff_zones', 'loaded.org', 'copied.org']), 'diff_zones').stdout;
      assert.match(d, /^--- loaded\.org\./m);
      const same = ok(zt(target, ['diff_zones', 'loaded.org', 'loaded.org']), 'diff same').stdout;
      assert.equal(same, '');
    });

    test('edit_apex_ns: the SG apex NS set is edited and zones using it get the new set', () => {
      const editor = join(dir, 'apex-editor.sh');
      writeFileSync(editor, '#!/bin/sh\nprintf "ns1.example.net.\\n; comment\\nns2.example.net\\n" > "$1"\n');
      chmodSync(editor, 0o755);
      ok(zt(target, ['edit_apex_ns'], { env: { EDITOR: editor, VISUAL: '' } }), 'edit_apex_ns');
      assert.equal(
        ok(zt(target, ['show_apex_ns']), 'show_apex_ns').stdout,
        '        ns1.example.net.\n        ns2.example.net.\n',
      );
      assert.match(ok(zt(target, ['show_zone', 'example.org']), 'show').stdout, /NS\s+ns2\.example\.net\./);
      // An editor that fails changes nothing.
      const r = zt(target, ['edit_apex_ns'], { env: { EDITOR: 'false', VISUAL: '' } });
      assert.equal(r.status, 70, r.stderr);
      assert.match(ok(zt(target, ['show_apex_ns']), 'show_apex_ns').stdout, /ns2\.example\.net/);
    });

    test('delete_zi refuses the published ZI and deletes an old one', async () => {
      const zis = JSON.parse(ok(zt(target, ['--json', 'ls_zi', 'edit.org']), 'ls_zi').stdout) as { version: number }[];
      assert.ok(zis.length >= 3, `edit.org has ${zis.length} ZIs`);
      const oldest = zis[zis.length - 1].version;
      await unchanged(target, () => {
        fails(zt(target, ['delete_zi', 'edit.org', '^']), 65, /published/, 'delete published ZI');
        fails(zt(target, ['delete_zi', 'edit.org', '9999']), 68, /9999/, 'delete missing ZI');
      });
      ok(zt(target, ['delete_zi', 'edit.org', String(oldest)]), 'delete_zi');
      const after = JSON.parse(ok(zt(target, ['--json', 'ls_zi', 'edit.org']), 'ls_zi').stdout) as { version: number }[];
      assert.deepEqual(
        after.map((z) => z.version),
        zis.map((z) => z.version).filter((v) => v !== oldest),
      );
    });

    test('events: pending, show, fail, failed', async () => {
      const { openStore } = await import('../../src/store/index.js');
      const { enqueueEvent, serviceContext } = await import('../../src/services/index.js');
      const store = await openStore(target.storeOptions);
      let id: number;
      try {
        id = await enqueueEvent(serviceContext(store), 'ZoneTestEvent', { zone: 'example.org', payload: { zi_id: 7 }, delaySec: 3600 });
      } finally {
        await store.close();
      }
      assert.match(
        ok(zt(target, ['ls_pending_events']), 'ls_pending_events').stdout,
        /^ZoneTestEvent {13}example\.org\. 7 {15}/m,
      );
      const v = ok(zt(target, ['ls_pending_events', '-v']), 'ls_pending_events -v').stdout;
      assert.match(v, new RegExp(`^ZoneTestEvent {8}${id} +NEW$`, 'm'));
      const shown = ok(zt(target, ['show_event', String(id)]), 'show_event').stdout;
      assert.match(shown, new RegExp(`^ {8}event_id: +${id}$`, 'm'));
      assert.match(shown, /^ {8}state: +NEW$/m);
      ok(zt(target, ['fail_event', String(id)]), 'fail_event');
      assert.match(ok(zt(target, ['ls_failed_events']), 'ls_failed_events').stdout, new RegExp(`ZoneTestEvent +${id} +FAILURE`));
      assert.doesNotMatch(ok(zt(target, ['ls_pending_events']), 'pending').stdout, /ZoneTestEvent/);
      assert.match(ok(zt(target, ['ls_events', '3']), 'ls_events').stdout, /ZoneTestEvent/);
    });

    test('load_zone takes the reference from a ;!REF: flag on the SOA when -r is not given', () => {
      const text = `$TTL 3600
;!REF:SOAREF-NZ
@ IN SOA ns1 hostmaster ( 5 7200 3600 1209600 600 )
  IN NS ns1
ns1 IN A 192.0.2.1
`;
      const file = join(dir, 'soaref.org');
      writeFileSync(file, text);
      ok(zt(target, ['load_zone', file, 'soaref.org']), 'load_zone with ;!REF:');
      assert.equal(ok(zt(target, ['ls', '-r', 'SOAREF-NZ']), 'ls -r').stdout, 'soaref.org.\n');
      // -r wins over the flag.
      ok(zt(target, ['load_zone', '-r', 'OTHER-NZ', file, 'soaref2.org']), 'load_zone -r');
      assert.equal(ok(zt(target, ['ls', '-r', 'OTHER-NZ']), 'ls -r').stdout, 'soaref2.org.\n');
      assert.equal(ok(zt(target, ['ls', '-r', 'SOAREF-NZ']), 'ls -r').stdout, 'soaref.org.\n');
    });

    test('update_rrs from a file (RROP flags), copy_zi back to an older ZI, refresh_zone', async () => {
      const zf = join(dir, 'rrs.org');
      writeFileSync(zf, zoneFile('rrs.org.', 'mail IN MX 10 www\ntxt IN TXT "one"\ntxt IN TXT "two"\n'));
      ok(zt(target, ['load_zone', zf, 'rrs.org']), 'load');
      const first = JSON.parse(ok(zt(target, ['--json', 'show_zi', 'rrs.org']), 'show_zi').stdout);
      const f = join(dir, 'rrs.update');
      writeFileSync(
        f,
        [
          'new 300 IN A 192.0.2.99', // added (the default)
          'www AAAA 2001:db8::80', // added; no TTL: the zone's default (not the line before's, as in a zone file)
          ';!RROP:DELETE',
          'www A 192.0.2.80', // deleted by its data
          ';!RROP:UPDATE_RRTYPE',
          'txt 600 TXT "three"', // the TXT RRset replaced
          '',
        ].join('\n'),
      );
      const r = ok(zt(target, ['--json', 'update_rrs', 'rrs.org', f]), 'update_rrs');
      assert.equal(JSON.parse(r.stdout).changed, true);
      // The original's order: the file first, the zone after it or, alone, the file's $ORIGIN.
      const g = join(dir, 'rrs.orig-update');
      writeFileSync(g, '$ORIGIN rrs.org.\n$UPDATE_TYPE panel-1\n;!RROP:ADD\norig1 IN A 192.0.2.101\n');
      ok(zt(target, ['update_rrs', g]), 'update_rrs <file>');
      writeFileSync(g, ';!RROP:ADD\norig2 IN A 192.0.2.102\n');
      ok(zt(target, ['update_rrs', g, 'rrs.org']), 'update_rrs <file> <zone>');
      fails(zt(target, ['update_rrs', g]), 64, /no \$ORIGIN/, 'a file without $ORIGIN, alone');
      const text = ok(zt(target, ['show_zone', 'rrs.org']), 'show').stdout;
      assert.match(text, /^orig1\s+\d+\s+IN\s+A\s+192\.0\.2\.101$/m);
      assert.match(text, /^orig2\s+\d+\s+IN\s+A\s+192\.0\.2\.102$/m);
      assert.match(text, /^new\s+300\s+IN\s+A\s+192\.0\.2\.99$/m);
      assert.doesNotMatch(text, /192\.0\.2\.80/);
      assert.match(text, /^txt\s+600\s+IN\s+TXT\s+"three"$/m);
      assert.doesNotMatch(text, /"one"|"two"/);
      assert.match(text, /^www\s+3600\s+IN\s+AAAA\s+2001:db8::80$/m);
      // Bad input: a parse error names file:line:column, a stale serial is refused; neither changes anything.
      const bad = join(dir, 'rrs.bad');
      writeFileSync(bad, 'ok A 192.0.2.1\nbroken A 300.1.1.1\n');
      await unchanged(target, () => {
        const e = zt(target, ['update_rrs', 'rrs.org', bad]);
        assert.equal(e.status, 65, e.stderr);
        assert.match(e.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:2:\\d+: `), 'the error names file:line:column');
        fails(zt(target, ['update_rrs', '-s', String(first.soaSerial), 'rrs.org', f]), 75, /serial/i, 'stale serial');
        // A record update_rrs refuses (the SOA) is told by its line in the file.
        const soa = join(dir, 'rrs.soa');
        writeFileSync(soa, 'ok A 192.0.2.1\n@ SOA ns1 hm 5 1 1 1 1\n');
        const es = zt(target, ['update_rrs', 'rrs.org', soa]);
        assert.equal(es.status, 65, es.stderr);
        assert.match(es.stderr, new RegExp(`${soa.replace(/[.]/g, '\\.')}:2: the SOA is not changed record by record`));
        // A zone check's refusal is told by the line of the file's record at that owner, of the problem's type when
        // the file has one (as a zone file's check reports CNAME and other data at the other data's record).
        const cname = join(dir, 'rrs.cname');
        writeFileSync(cname, 'x TXT "t"\nok A 192.0.2.1\nok CNAME elsewhere.example.\nok2 CNAME elsewhere.example.\n');
        const ec = zt(target, ['update_rrs', 'rrs.org', cname]);
        assert.equal(ec.status, 65, ec.stderr);
        assert.match(ec.stderr, new RegExp(`${cname.replace(/[.]/g, '\\.')}:2: CNAME and other data: ok\\.rrs\\.org\\.`));
        // The other data already in the zone: the file's record at that owner (the CNAME) is the line.
        writeFileSync(cname, 'x TXT "t"\nnew CNAME elsewhere.example.\n');
        const ed = zt(target, ['update_rrs', 'rrs.org', cname]);
        assert.equal(ed.status, 65, ed.stderr);
        assert.match(ed.stderr, new RegExp(`${cname.replace(/[.]/g, '\\.')}:2: CNAME and other data: new\\.rrs\\.org\\.`));
        fails(zt(target, ['update_rrs', 'rrs.org', join(dir, 'no-such-file')]), 66, /No such file/, 'missing file');
        fails(zt(target, ['update_rrs', 'no-such.org', f]), 68, /no-such\.org/, 'missing zone');
      });
      // Records on stdin; deleting what is not there changes nothing.
      const none = zt(target, ['update_rrs', 'rrs.org', '-'], { input: ';!RROP:DELETE\nabsent A 192.0.2.7\n' });
      assert.equal(none.status, 0, none.stderr);
      assert.match(none.stderr.replace(/\s+/g, ' '), /unchanged/);

      // The original DMS's update file: $UPDATE_TYPE, a DELETE of everything at a name (ANY) and of a whole RRset ("").
      const orig = join(dir, 'rrs.orig');
      writeFileSync(orig, '$ORIGIN rrs.org.\n$UPDATE_TYPE SpannerReplacement\n\n;!RROP:DELETE\nnew IN ANY "" ; all records for new\n;!RROP:DELETE\ntxt IN TXT ""\n;!RROP:ADD\nns99 IN TXT "Does not know Maxwell Smart"\n');
      ok(zt(target, ['update_rrs', 'rrs.org', orig]), 'update_rrs (original format)');
      const text2 = ok(zt(target, ['show_zone', 'rrs.org']), 'show').stdout;
      assert.doesNotMatch(text2, /^(new|txt)\s/m);
      assert.match(text2, /^ns99\s+\d+\s+IN\s+TXT\s+"Does not know Maxwell Smart"$/m);
      assert.match(text2, /^mail\s+\d+\s+IN\s+MX\s+10 www$/m);
      // copy_zi: the first version again, as the newest, with a new serial.
      const c = JSON.parse(ok(zt(target, ['--json', 'copy_zi', 'rrs.org', String(first.version)]), 'copy_zi').stdout);
      assert.ok(c.version > first.version && c.serial > first.soaSerial, JSON.stringify(c));
      const back = ok(zt(target, ['show_zone', 'rrs.org']), 'show').stdout;
      assert.match(back, /192\.0\.2\.80/);
      assert.doesNotMatch(back, /192\.0\.2\.99/);
      fails(zt(target, ['copy_zi', 'rrs.org', '99999']), 68, /99999/, 'missing ZI');

      // rr_query_db: the records at a name, in zone-file form, with their zone; a name with none exits 68.
      const q = ok(zt(target, ['rr_query_db', 'www.rrs.org']), 'rr_query_db').stdout;
      assert.match(q, /^www\.rrs\.org\. 3600 IN A 192\.0\.2\.80 +; zone rrs\.org\. ZI \d+$/m);
      const qa = JSON.parse(ok(zt(target, ['--json', 'record_query_db', '-t', 'mx', 'mail.rrs.org.']), 'record_query_db').stdout);
      assert.deepEqual(qa.map((r: { type: string; rdata: string }) => [r.type, r.rdata]), [['MX', '10 www.rrs.org.']]);
      fails(zt(target, ['rr_query_db', 'absent.rrs.org']), 68, /absent\.rrs\.org\. - not present/, 'no records');
      fails(zt(target, ['rr_query_db', '-t', 'NOPE', 'www.rrs.org']), 65, /unknown record type NOPE/, 'bad type');
      // The original's form: one zone (-n, else the most specific above the name), * and ? in the label, several
      // types, an exact RDATA; its line layout (label, type, RDATA), -v's header.
      assert.match(ok(zt(target, ['rr_query_db', '-n', 'rrs.org', 'www']), '-n').stdout, /^www {30}A {12}192\.0\.2\.80$/m);
      const tt = ok(zt(target, ['rr_query_db', 't?t.rrs.org', 'TXT']), 'a pattern').stdout.trim().split('\n');
      assert.deepEqual(tt.map((l) => l.split(/\s+/).slice(0, 2).join(' ')), ['txt TXT', 'txt TXT']);
      const am = ok(zt(target, ['record_query_db', '-n', 'rrs.org', '*', 'A MX']), 'types').stdout;
      assert.match(am, /^mail\s+MX\s+10 www\.rrs\.org\.$/m);
      assert.match(am, /^ns1\s+A\s+192\.0\.2\.1$/m);
      assert.doesNotMatch(am, /TXT|SOA|NS /);
      const soaV = ok(zt(target, ['rr_query_db', '-v', '-n', 'rrs.org', '@', 'SOA']), '-v').stdout;
      assert.match(soaV, /^ {2}label: @ +domain: rrs\.org\.? +zi_id: \d+\n\n {2}@ +SOA +\S+ hostmaster\.rrs\.org\. \d+ /, soaV);
      assert.match(ok(zt(target, ['rr_query_db', 'www.rrs.org', 'A', '192.0.2.80']), 'rdata').stdout, /192\.0\.2\.80/);
      fails(zt(target, ['rr_query_db', 'www.rrs.org', 'A', '192.0.2.81']), 68, /not present/, 'another rdata');
      fails(zt(target, ['rr_query_db', '-n', 'no-such.org', 'www']), 68, /no-such\.org/, 'no such zone');

      ok(zt(target, ['refresh_zone', 'rrs.org']), 'refresh_zone');
      fails(zt(target, ['refresh_zone', 'no-such.org']), 68, /no-such\.org/, 'refresh missing zone');
    });

    test('show_zone_byid, show_zonesm_byid, show_zi_byid tell apart the deleted zones of one name', () => {
      const idOf = () => JSON.parse(ok(zt(target, ['--json', 'show_zonesm', 'byid.org']), 'sm').stdout).zone.id as number;
      const f = join(dir, 'byid.org');
      writeFileSync(f, zoneFile('byid.org.', 'first IN A 192.0.2.101\n'));
      ok(zt(target, ['load_zone', f, 'byid.org']), 'load first');
      const first = idOf();
      ok(zt(target, ['delete_zone', 'byid.org']), 'delete first');
      writeFileSync(f, zoneFile('byid.org.', 'second IN A 192.0.2.102\n'));
      ok(zt(target, ['load_zone', f, 'byid.org']), 'load second');
      const second = idOf();
      ok(zt(target, ['delete_zone', 'byid.org']), 'delete second');
      assert.notEqual(first, second);
      const a = ok(zt(target, ['show_zone_byid', String(first)]), 'show first').stdout;
      const b = ok(zt(target, ['show_zone_byid', String(second)]), 'show second').stdout;
      assert.match(a, /^first\s.*192\.0\.2\.101$/m);
      assert.doesNotMatch(a, /second/);
      assert.match(b, /^second\s.*192\.0\.2\.102$/m);
      assert.match(a, /^; {3}Zone: {8}byid\.org\.$/m);
      const j = JSON.parse(ok(zt(target, ['--json', 'show_zone_byid', String(second), '1']), 'show json').stdout);
      assert.equal(j.zone, 'byid.org.');
      assert.equal(j.zi.version, 1);
      fails(zt(target, ['show_zone_byid', '999999']), 68, /#999999/, 'missing zone id');
      fails(zt(target, ['show_zone_byid', 'byid.org']), 64, /zone-id/, 'a name is not an id');
      // show_zonesm_byid and show_zi_byid: the state and the ZI of the zone of that id, deleted or not.
      const sm = JSON.parse(ok(zt(target, ['--json', 'show_zonesm_byid', String(first)]), 'sm by id').stdout);
      assert.deepEqual([sm.zone.id, sm.zone.state, sm.zi.zoneId], [first, 'DELETED', first]);
      assert.match(ok(zt(target, ['show_zonesm_byid', String(second)]), 'sm text').stdout, /state:\s+DELETED/);
      const zi = JSON.parse(ok(zt(target, ['--json', 'show_zi_byid', String(second), '1']), 'zi by id').stdout);
      assert.deepEqual([zi.zoneId, zi.version], [second, 1]);
      assert.match(ok(zt(target, ['show_zi_byid', String(first)]), 'zi text').stdout, /soa_serial:/);
      fails(zt(target, ['show_zi_byid', '999999']), 68, /#999999/, 'missing zone id');
      fails(zt(target, ['show_zonesm_byid', 'byid.org']), 64, /zone-id/, 'a name is not an id');
    });

    test('set_zone_alt_sg, rename_sg and delete_sg', async () => {
      ok(zt(target, ['create_sg', 'sg-alt', 'none', '192.0.2.54']), 'create_sg');
      ok(zt(target, ['create_zone', 'alt.org']), 'create_zone');
      ok(zt(target, ['set_zone_alt_sg', 'alt.org', 'sg-alt']), 'set_zone_alt_sg');
      assert.match(ok(zt(target, ['show_zonesm', 'alt.org']), 'sm').stdout, /sg-alt/);
      await unchanged(target, () => {
        fails(zt(target, ['delete_sg', 'sg-alt']), 69, /sg-alt/, 'delete an SG in use');
        fails(zt(target, ['rename_sg', 'no-such-sg', 'x']), 68, /no-such-sg/, 'rename a missing SG');
        fails(zt(target, ['delete_sg', 'no-such-sg']), 68, /no-such-sg/, 'delete a missing SG');
      });
      ok(zt(target, ['rename_sg', 'sg-alt', 'sg-alt2']), 'rename_sg');
      assert.match(ok(zt(target, ['show_zonesm', 'alt.org']), 'sm').stdout, /sg-alt2/);
      ok(zt(target, ['set_zone_alt_sg', 'alt.org', 'none']), 'clear alt sg');
      assert.doesNotMatch(ok(zt(target, ['show_zonesm', 'alt.org']), 'sm').stdout, /sg-alt2/);
      // A group holding a server is not deleted (its server's definition would go with it).
      ok(zt(target, ['create_server', '-g', 'sg-alt2', 'ns-alt', '192.0.2.77', 'bind9']), 'create_server');
      await unchanged(target, () => {
        fails(zt(target, ['delete_sg', 'sg-alt2']), 69, /sg-alt2 still has 1 server/, 'delete an SG holding a server');
      });
      assert.match(ok(zt(target, ['ls_server']), 'ls_server').stdout, /ns-alt/);
      ok(zt(target, ['delete_server', 'ns-alt']), 'delete_server');
      ok(zt(target, ['delete_sg', 'sg-alt2']), 'delete_sg');
      assert.doesNotMatch(ok(zt(target, ['ls_sg']), 'ls_sg').stdout, /sg-alt2/);
    });

    test('ls -g / -r naming a server group or reference that does not exist is an error, not an empty list', async () => {
      await unchanged(target, () => {
        fails(zt(target, ['ls', '-g', 'no-such-sg']), 68, /no-such-sg/, 'ls -g unknown');
        fails(zt(target, ['ls', '-r', 'NO-SUCH-REF']), 68, /NO-SUCH-REF/, 'ls -r unknown');
        fails(zt(target, ['ls', '-r', 'NO-SUCH-REF', '*.org']), 68, /NO-SUCH-REF/, 'ls -r unknown with a pattern');
      });
      ok(zt(target, ['create_reference', 'EMPTY-REF']), 'create_reference');
      assert.equal(ok(zt(target, ['ls', '-r', 'EMPTY-REF']), 'ls -r of a reference without zones').stdout, '');
    });

    test("the original's commands: its names of DMS's commands, and what DMS does instead of its rndc/rsync/ssh machinery", async () => {
      ok(zt(target, ['create_zone', 'orig-names.org']), 'create_zone');
      // Commands whose purpose DMS meets without them: exit 0, what DMS does instead on stdout, nothing changed.
      await unchanged(target, () => {
        for (const [cmd, said] of [
          [['reconfig_master'], /dmsd is itself the primary DNS server/],
          [['reset_master'], /no master state machine/],
          [['restore_named_db'], /serves every zone from the database/],
          [['vacuum_syslog', '-a', '30'], /keeps no syslog table/],
        ] as const) {
          const r = ok(zt(target, [...cmd]), cmd[0]);
          assert.match(r.stdout.replace(/\s+/g, ' '), said, `${cmd[0]}: what DMS does instead`);
          assert.match(r.stdout, /nothing to do in DMS/, `${cmd[0]}: said to be nothing to do`);
        }
        // What these made does not exist in DMS: EX_UNAVAILABLE, so that a script waiting for it learns.
        for (const [cmd, said] of [
          [['write_rndc_conf'], /does not drive its servers with rndc/],
          [['rsync_server_admin_config', 'ns9', 'no_rndc'], /does not rsync/],
          [['set_server_ssh_address', 'ns9', '192.0.2.9'], /does not reach its servers by ssh/],
          [['create_zi_zone', '-g', 'default', '12', 'new-from-zi.org'], /copy_zone -z <zi-id> <src-domain-name> <domain-name>/],
        ] as const) {
          const r = zt(target, [...cmd]);
          assert.equal(r.status, 69, `${cmd[0]}: exit 69, got ${r.status}:\n${r.stdout}\n${r.stderr}`);
          assert.match(r.stdout.replace(/\s+/g, ' '), said, `${cmd[0]}: what DMS does instead`);
        }
        const jr = zt(target, ['--json', 'write_rndc_conf']);
        assert.equal(jr.status, 69, `write_rndc_conf --json: exit 69, got ${jr.status}`);
        assert.equal(JSON.parse(jr.stdout).inDms, false, 'the JSON form says the command is not in DMS');
        assert.match(ok(zt(target, ['help', 'reconfig_master']), 'help reconfig_master').stdout, /rndc reconfig/);
        // reconfig_replica_sg without a replica SG: told so, as a missing thing (66).
        fails(zt(target, ['reconfig_replica_sg']), 66, /there is no replica SG/, 'reconfig_replica_sg without one');
      });
      // The original's names of DMS's commands do what their DMS counterparts do.
      const before = ok(zt(target, ['ls_zi', 'orig-names.org']), 'ls_zi').stdout.trim().split('\n').length;
      ok(zt(target, ['reset_zonesm', 'orig-names.org']), 'reset_zonesm (refresh_zone)');
      ok(zt(target, ['refresh_zone', 'orig-names.org']), 'refresh_zone');
      assert.equal(ok(zt(target, ['ls_zi', 'orig-names.org']), 'ls_zi').stdout.trim().split('\n').length, before, 'an unchanged zone gets no new ZI from either');
      // With a zi-id (as the original's): that ZI published first, an older one as a copy (one ZI more).
      const later = join(dir, 'later-rrs.txt');
      writeFileSync(later, '$ORIGIN orig-names.org.\nlater 300 IN A 192.0.2.9\n');
      ok(zt(target, ['update_rrs', 'orig-names.org', later]), 'update_rrs');
      ok(zt(target, ['reset_zonesm', 'orig-names.org', '1']), 'reset_zonesm with a zi-id');
      assert.equal(ok(zt(target, ['ls_zi', 'orig-names.org']), 'ls_zi').stdout.trim().split('\n').length, before + 2, 'the update and the copy of ZI 1');
      assert.doesNotMatch(ok(zt(target, ['show_zone', 'orig-names.org']), 'show_zone').stdout, /^later\s/m, 'ZI 1 is what is published');
      const signed = zt(target, ['sign_zone', 'orig-names.org']);
      const loadkeys = zt(target, ['loadkeys_zone', 'orig-names.org']);
      assert.equal(loadkeys.status, signed.status, `loadkeys_zone answers as sign_zone:\n${signed.stderr}\n${loadkeys.stderr}`);
      assert.equal(loadkeys.stderr, signed.stderr, 'loadkeys_zone says what sign_zone says');
      for (const cmd of ['refresh_all', 'reset_all_zones']) {
        const r = ok(zt(target, [cmd]), cmd);
        assert.match(r.stdout, /^ +default: \d+ zones, \d+ NOTIFYs queued$/m, `${cmd}: one line per server group`);
      }
      // The original's spellings of arguments: -r for the reference, -n for update_rrs's zone, -f where DMS asks
      // nothing, the vacuum commands' age-days as an argument.
      ok(zt(target, ['create_reference', 'ORIG-REF']), 'create_reference');
      ok(zt(target, ['set_zone_reference', '-r', 'ORIG-REF', 'orig-names.org']), 'set_zone_reference -r');
      assert.match(ok(zt(target, ['show_zonesm', 'orig-names.org']), 'show_zonesm').stdout, /ORIG-REF/, 'the reference set by -r');
      ok(zt(target, ['update_rrs', '-n', 'orig-names.org', later]), 'update_rrs -n');
      ok(zt(target, ['refresh_zone', '-f', 'orig-names.org']), 'refresh_zone -f');
      assert.match(ok(zt(target, ['vacuum_zis', '-f', '3650', '1000']), 'vacuum_zis age-days zi-max-num').stdout, /zis_deleted:\s+0/, 'nothing that young is vacuumed');
      fails(zt(target, ['refresh_zone', '-x', 'orig-names.org']), 64, /unknown option '-x'/, 'a letter the original did not take');
      // generate_tsig_key's file-name (the original's): the BIND key block in a 0600 file; never over a file without -f,
      // and then no key is made.
      const keyFile = join(dir, 'orig.key');
      ok(zt(target, ['generate_tsig_key', 'orig-key', 'hmac-sha256', keyFile]), 'generate_tsig_key with a file');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key file is 0600');
      assert.match(readFileSync(keyFile, 'utf8'), /^key "orig-key" \{\n\talgorithm hmac-sha256;\n\tsecret "[A-Za-z0-9+/=]{40,}";\n\};\n$/, 'a BIND key block');
      fails(zt(target, ['generate_tsig_key', 'orig-key2', 'hmac-sha256', keyFile]), 73, /exists \(-f overwrites it\)/, 'an existing file');
      assert.doesNotMatch(ok(zt(target, ['ls_tsig_key']), 'ls_tsig_key').stdout, /orig-key2/, 'no key made when the file was refused');
      ok(zt(target, ['generate_tsig_key', '-f', 'orig-key2', 'hmac-sha512', keyFile]), 'generate_tsig_key -f');
      assert.match(readFileSync(keyFile, 'utf8'), /key "orig-key2"[\s\S]*hmac-sha512/, 'the file overwritten with -f');
      // copy_zi across zones (the original's form): a ZI of one zone becomes the newest of another, whose apex stays.
      ok(zt(target, ['create_zone', 'copy-dst.org']), 'create_zone copy-dst.org');
      ok(zt(target, ['copy_zi', 'orig-names.org', 'copy-dst.org']), 'copy_zi src dst');
      const copied = ok(zt(target, ['show_zone', 'copy-dst.org']), 'show_zone copy-dst.org').stdout;
      assert.match(copied, /^later\s+300\s+IN\s+A\s+192\.0\.2\.9$/m, 'the source ZI\'s records, owners under the new zone');
      assert.match(copied, /^@\s+\d+\s+IN\s+SOA\s+\S+\s+\S+\s+\d+/m, 'the zone keeps an SOA of its own');
      ok(zt(target, ['copy_zi', '-z', '1', 'orig-names.org', 'copy-dst.org']), 'copy_zi -z 1 src dst');
      assert.doesNotMatch(ok(zt(target, ['show_zone', 'copy-dst.org']), 'show_zone').stdout, /^later\s/m, 'ZI 1 of the source had no such record');
      await unchanged(target, () => {
        fails(zt(target, ['copy_zi', 'orig-names.org', 'no-such-zone.org']), 68, /no-such-zone\.org/, 'copy_zi to a zone that does not exist');
        fails(zt(target, ['copy_zi', '-z', '1', 'orig-names.org', 'copy-dst.org', '2']), 64, /give the zi-id once/, 'two zi-ids');
      });
      // The original's name for set_sg_alt_master_address.
      ok(zt(target, ['set_sg_master_alt_address', 'default', '192.0.2.53']), 'set_sg_master_alt_address');
      assert.match(ok(zt(target, ['show_sg', 'default']), 'show_sg').stdout, /192\.0\.2\.53/, 'the alternate master address set');
      ok(zt(target, ['set_sg_alt_master_address', 'default', 'none']), 'set_sg_alt_master_address none');
      ok(zt(target, ['set_sg_replica_sg', 'default']), 'set_sg_replica_sg');
      ok(zt(target, ['reconfig_replica_sg']), 'reconfig_replica_sg of a group without servers');
      ok(zt(target, ['set_sg_replica_sg', 'none']), 'set_sg_replica_sg none');
      // refresh_zone_ttl: the records that followed the default follow the new one; a TTL of its own stays.
      const rrs = join(dir, 'ttl-rrs.txt');
      writeFileSync(rrs, '$ORIGIN orig-names.org.\n$TTL 86400\nwww IN A 192.0.2.1\nown 60 IN A 192.0.2.2\n');
      ok(zt(target, ['update_rrs', 'orig-names.org', rrs]), 'update_rrs');
      ok(zt(target, ['refresh_zone_ttl', 'orig-names.org', '2h']), 'refresh_zone_ttl 2h');
      const shown = ok(zt(target, ['show_zone', 'orig-names.org']), 'show_zone').stdout;
      assert.match(shown, /^\$TTL 7200$/m, 'the new default TTL');
      assert.match(shown, /^www\s+7200\s+IN\s+A\s+192\.0\.2\.1$/m, 'a record that followed the default follows the new one');
      assert.match(shown, /^own\s+60\s+IN\s+A\s+192\.0\.2\.2$/m, 'a TTL of its own stays');
      await unchanged(target, () => {
        fails(zt(target, ['refresh_zone_ttl', 'orig-names.org', '2x']), 64, /zone-ttl 2x: expected a TTL/, 'refresh_zone_ttl with a bad TTL');
        const again = zt(target, ['refresh_zone_ttl', 'orig-names.org', '7200']);
        assert.equal(again.status, 0, `refresh_zone_ttl to the same TTL: ${again.stderr}`);
        assert.match(again.stderr, /unchanged - no new ZI created/, 'the same TTL again makes no ZI');
      });
      ok(zt(target, ['set_config', 'zone_ttl', '1h']), 'set_config zone_ttl');
      ok(zt(target, ['refresh_zone_ttl', 'orig-names.org']), 'refresh_zone_ttl from the config');
      assert.match(ok(zt(target, ['show_zone', 'orig-names.org']), 'show_zone').stdout, /^www\s+3600\s+IN\s+A/m, 'the configured zone_ttl');
      ok(zt(target, ['set_config', 'zone_ttl', '24h']), 'set_config zone_ttl back');
    });
  });
}
