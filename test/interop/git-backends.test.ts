// Issue 12 on both backends (SQLite and a real PostgreSQL), through the services and real git with local bare
// repositories: migration 0019's tables, the push of pending versions (one commit each, author = change_by), the
// import of a push (all files or none), git_status, and "nothing changed" after a refused push (every table dumped).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as svc from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';
import { ctxOf } from '../helpers/context.js';
import { dumpTables } from '../helpers/dump.js';
import { testBackends } from '../helpers/postgres.js';

const { backends } = testBackends();
const TEXT = (extra = '') => `$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n${extra}`;

function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', ...env } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const as = { GIT_AUTHOR_NAME: 'Hana', GIT_AUTHOR_EMAIL: 'hana@example.net', GIT_COMMITTER_NAME: 'Hana', GIT_COMMITTER_EMAIL: 'hana@example.net' };

const dump = (store: Store) =>
  dumpTables(store, ['zones', 'zone_instances', 'records', 'tsig_keys', 'zone_update_grants', 'zone_references']);

for (const backend of backends)
  describe(`git services on ${backend.name}`, () => {
    let s: Store;
    let root: string;
    let bare: string;
    let work: string;
    before(async () => {
      s = await backend.open();
      root = mkdtempSync(join(tmpdir(), 'dms-git-svc-'));
      bare = join(root, 'remote.git');
      work = join(root, 'work');
      git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
    });
    after(async () => {
      await s?.close();
      rmSync(root, { recursive: true, force: true });
    });

    test('push, import, status, refused push', async () => {
      const admin = ctxOf(s, 'admin@test/Admin');
      await svc.setConfig(admin, 'use_apex_ns', 'false');
      await svc.createReference(admin, 'team');
      await svc.createZone(admin, 'a.test', { text: TEXT(), reference: 'team' });
      await svc.createZone(admin, 'b.test', { text: TEXT() });
      await svc.setConfig(admin, 'git_mirror', bare);
      await svc.setConfig(admin, 'git_workdir', join(root, 'gitwork'));
      await svc.setConfig(admin, 'git_managed', 'ref:team');

      const first = await svc.gitPush(admin);
      assert.equal(first.commits, 1, 'the zones the repository never saw: one commit');
      assert.deepEqual(first.zones.sort(), ['a.test.', 'b.test.']);
      await svc.saveZoneText(ctxOf(s, 'Ivo <ivo@example.org>'), 'a.test', TEXT('www A 192.0.2.8\n'));
      await svc.saveZoneText(ctxOf(s, 'Ivo <ivo@example.org>'), 'a.test', TEXT('www A 192.0.2.9\n'));
      let st = await svc.gitStatus(admin, { zone: 'a.test' });
      assert.equal(st.zones[0].pendingPushes, 2);
      const second = await svc.gitPush(admin);
      assert.equal(second.commits, 2, 'one commit per published version');
      assert.equal(git(bare, ['log', '-2', '--format=%an <%ae>', 'main']).trim(), 'Ivo <ivo@example.org>\nIvo <ivo@example.org>');
      st = await svc.gitStatus(admin, { zone: 'a.test' });
      assert.equal(st.zones[0].pendingPushes, 0);
      assert.equal(st.zones[0].lastPushedCommit, git(bare, ['rev-parse', 'main']).trim());

      git(root, ['clone', '-q', '-b', 'main', bare, work]);
      writeFileSync(join(work, 'a.test'), `${readFileSync(join(work, 'a.test'), 'utf8')}new 300 IN A 192.0.2.10\n`);
      writeFileSync(join(work, 'c.test'), `$ORIGIN c.test.\n${TEXT()}`);
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', 'edit a, add c'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      const pulled = await svc.gitPull(admin);
      assert.deepEqual(
        pulled.zones.map((z) => [z.zone, z.action, z.by]).sort(),
        [
          ['a.test.', 'updated', 'Hana <hana@example.net>'],
          ['c.test.', 'created', 'Hana <hana@example.net>'],
        ],
      );
      const c = await svc.getZone(admin, 'c.test');
      assert.equal(c.reference, 'team', 'a new zone gets the reference of git_managed');
      st = await svc.gitStatus(admin);
      const head = git(bare, ['rev-parse', 'main']).trim();
      assert.equal(st.zones.find((z) => z.zone === 'a.test.')?.lastImportedCommit, head);
      assert.equal(st.zones.find((z) => z.zone === 'b.test.')?.managed, false);
      assert.equal((await svc.gitPush(admin)).commits, 0, 'nothing imported is pushed back');

      // Refused: one bad file, one file of a zone that is not managed → nothing changes in any table.
      const before = await dump(s);
      writeFileSync(join(work, 'a.test'), `${readFileSync(join(work, 'a.test'), 'utf8')}more 300 IN A 192.0.2.11\n`);
      writeFileSync(join(work, 'c.test'), `${readFileSync(join(work, 'c.test'), 'utf8')}bad 300 IN AAAA 192.0.2.1\n`);
      writeFileSync(join(work, 'b.test'), `${readFileSync(join(work, 'b.test'), 'utf8')}x 300 IN A 192.0.2.12\n`);
      git(work, ['commit', '-q', '-a', '-m', 'mixed'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      await assert.rejects(svc.gitPull(admin), (e: unknown) => {
        assert.ok(e instanceof svc.GitImportFailed, String(e));
        const files = e.problems.map((p) => `${p.file}:${p.line ?? ''}`).sort();
        const badLine = readFileSync(join(work, 'c.test'), 'utf8').split('\n').findIndex((l) => l.startsWith('bad')) + 1;
        assert.deepEqual(files, ['b.test:', `c.test:${badLine}`]);
        return true;
      });
      assert.deepEqual(await dump(s), before, 'a refused push changes nothing');
      assert.match((await svc.gitStatus(admin)).lastError ?? '', /not imported: 2 error/);

      // The fix on top: b.test back as it was, c.test removed (git_removed delete, the default) → a.test imported
      // (diff-tree between the commit last imported and the new head: all three files changed, b.test back to equal).
      git(work, ['checkout', '-q', 'HEAD~1', '--', 'b.test']);
      git(work, ['rm', '-q', 'c.test']);
      git(work, ['commit', '-q', '-m', 'fix: b as it was, c removed'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      const fixed = await svc.gitPull(admin);
      assert.deepEqual(
        fixed.zones.map((z) => [z.zone, z.action]).sort(),
        [
          ['a.test.', 'updated'],
          ['c.test.', 'deleted'],
        ],
      );
      await assert.rejects(svc.getZone(admin, 'c.test'), (e: unknown) => e instanceof svc.ZoneNotFound, 'the removed file deleted its zone');
      assert.match(await svc.getZoneText(admin, 'a.test'), /more\s+\d*\s*IN\s+A\s+192\.0\.2\.11/);
      assert.equal((await svc.gitStatus(admin)).lastError, null);
    });
  });
