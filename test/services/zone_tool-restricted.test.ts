// zone_tool's restricted mode (the original's): a unix user in none of the admin groups (admin_group_list, default
// root sudo wheel) gets the helpdesk tier — admin-only commands are refused with nothing changed — its changes are
// recorded as user@host/Helpdesk whatever DMS_CHANGE_BY says, and edit_zone runs the restricted editor (rvim, else
// rnano), never $VISUAL/$EDITOR. Proven with the real bin/zone_tool, once with admin_group_list naming no group of
// this user and once as the real unprivileged user `nobody` (setpriv), whose groups zone_tool reads itself.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminGroupList, DEFAULT_ADMIN_GROUPS, restrictedEditor, zoneToolMode } from '../../src/cli/zone_tool/restricted.js';
import { ZONE_TOOL } from '../helpers/acme.js';
import { dumpTables } from '../helpers/dump.js';
import { openStore } from '../../src/store/index.js';

let work: string;
let data: string;

function zt(args: string[], env: NodeJS.ProcessEnv = {}, pre: string[] = []) {
  const base = { ...process.env };
  delete base.DMS_ADMIN_GROUP_LIST;
  delete base.DMS_CHANGE_BY;
  const r = spawnSync(pre.length ? pre[0] : process.execPath, [...pre.slice(1), ...(pre.length ? [process.execPath] : []), ZONE_TOOL, '--data', data, ...args], {
    encoding: 'utf8',
    env: { ...base, ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
/** As a user in none of the admin groups: admin_group_list names a group nobody is in. */
const RESTRICTED = { DMS_ADMIN_GROUP_LIST: 'dms-no-such-admin-group' };

async function dump(): Promise<string> {
  const s = await openStore({ dataDir: data });
  try {
    const tables = (await s.db.introspection.getTables()).map((t) => t.name).filter((n) => !n.startsWith('kysely_'));
    return await dumpTables(s, tables);
  } finally {
    await s.close();
  }
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'dms-restricted-'));
  data = join(work, 'data');
  const r = zt(['create_zone', 'restricted.test'], { DMS_ADMIN_GROUP_LIST: DEFAULT_ADMIN_GROUPS.join(' ') + ' ' + zoneToolMode(process.env).groups.join(' ') });
  assert.equal(r.code, 0, r.out);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('which users are restricted', () => {
  test('a member of an admin group is not; a user in none is; the list comes from the environment, the config file or the default', () => {
    assert.deepEqual(DEFAULT_ADMIN_GROUPS, ['root', 'sudo', 'wheel']);
    assert.equal(zoneToolMode({}, undefined, ['users', 'wheel']).restricted, false);
    assert.equal(zoneToolMode({}, undefined, ['users', 'staff']).restricted, true);
    const conf = join(work, 'dms.conf');
    writeFileSync(conf, 'data = /var/lib/dms\nadmin_group_list = dnsops, netadmin  # who runs zone_tool as admin\n');
    assert.deepEqual(adminGroupList({}, conf), ['dnsops', 'netadmin']);
    assert.equal(zoneToolMode({}, conf, ['netadmin']).restricted, false);
    assert.equal(zoneToolMode({}, conf, ['wheel']).restricted, true);
    writeFileSync(conf, JSON.stringify({ data: '/var/lib/dms', admin_group_list: ['dnsops'] }));
    assert.deepEqual(adminGroupList({}, conf), ['dnsops']);
    assert.deepEqual(adminGroupList({ DMS_ADMIN_GROUP_LIST: 'a b,c' }, conf), ['a', 'b', 'c']);
  });
});

describe('the restricted editor', () => {
  test('rvim when installed, else rnano', () => {
    const dir = mkdtempSync(join(work, 'path-'));
    writeFileSync(join(dir, 'rnano'), '');
    assert.equal(restrictedEditor({ PATH: dir }), 'rnano');
    writeFileSync(join(dir, 'rvim'), '');
    assert.equal(restrictedEditor({ PATH: dir }), 'rvim');
  });
});

describe('zone_tool in restricted mode', () => {
  test('helpdesk commands work; admin-only commands are refused and change nothing', async () => {
    const ls = zt(['ls'], RESTRICTED);
    assert.equal(ls.code, 0, ls.out);
    assert.match(ls.out, /restricted\.test/);
    const before = await dump();
    for (const args of [
      ['create_api_account', 'x1', 'admin'],
      ['set_config', 'default_ref', 'nobody'],
      ['create_sectag', 'NEWTAG'],
      ['generate_tsig_key', 'k1.example'],
    ]) {
      const r = zt(args, RESTRICTED);
      assert.notEqual(r.code, 0, `${args[0]} should be refused: ${r.out}`);
      assert.match(r.out, /not permitted|permission|PermissionDenied/i, `${args[0]}: ${r.out}`);
    }
    assert.equal(await dump(), before, 'the refused commands changed nothing');
  });

  test('changes are recorded as user@host/Helpdesk, whatever DMS_CHANGE_BY says', () => {
    const r = zt(['create_zone', 'helpdesk-made.test'], { ...RESTRICTED, DMS_CHANGE_BY: 'someone-else/Admin' });
    assert.equal(r.code, 0, r.out);
    const zis = zt(['--json', 'ls_zi', 'helpdesk-made.test'], RESTRICTED);
    assert.match(zis.out, /@[^"]*\/Helpdesk"/);
    assert.doesNotMatch(zis.out, /someone-else/);
  });

  test('edit_zone runs the restricted editor, never $EDITOR', () => {
    const bin = join(work, 'bin');
    const marker = join(work, 'editor-used');
    spawnSync('mkdir', ['-p', bin]);
    // A stand-in rvim first on PATH: it records that it ran and adds a record; $EDITOR would write "EDITOR".
    writeFileSync(join(bin, 'rvim'), `#!/bin/sh\necho rvim > ${marker}\nfor f; do :; done\necho 'edited 300 IN A 192.0.2.77' >> "$f"\n`);
    writeFileSync(join(bin, 'evil-editor'), `#!/bin/sh\necho EDITOR > ${marker}\n`);
    chmodSync(join(bin, 'rvim'), 0o755);
    chmodSync(join(bin, 'evil-editor'), 0o755);
    const env = { ...RESTRICTED, PATH: `${bin}:/usr/bin:/bin`, EDITOR: join(bin, 'evil-editor'), VISUAL: join(bin, 'evil-editor') };
    const r = zt(['edit_zone', 'restricted.test'], env);
    assert.equal(r.code, 0, r.out);
    assert.equal(readFileSync(marker, 'utf8').trim(), 'rvim');
    assert.match(zt(['show_zone', 'restricted.test'], RESTRICTED).out, /edited\s.*192\.0\.2\.77/);
    // Not restricted: $EDITOR is used as always.
    const admin = zt(['edit_zone', 'restricted.test'], { ...env, DMS_ADMIN_GROUP_LIST: zoneToolMode(process.env).groups.join(' ') });
    assert.equal(readFileSync(marker, 'utf8').trim(), 'EDITOR', admin.out);
  });

  test('as the real unprivileged user nobody (groups read by zone_tool itself)', { skip: process.getuid?.() !== 0 ? 'needs root to switch to nobody' : false }, async () => {
    // The store must be writable by nobody (SQLite writes beside the file).
    chmodSync(work, 0o777);
    chmodSync(data, 0o777);
    for (const f of readdirSync(data)) chmodSync(join(data, f), 0o666);
    assert.ok(existsSync('/usr/bin/setpriv'));
    const asNobody = ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const ls = zt(['ls'], { HOME: work }, asNobody);
    assert.equal(ls.code, 0, ls.out);
    assert.match(ls.out, /restricted\.test/);
    const refusedCall = zt(['create_sectag', 'NOBODYTAG'], { HOME: work }, asNobody);
    assert.notEqual(refusedCall.code, 0, refusedCall.out);
    assert.match(refusedCall.out, /not permitted|permission/i);
    const made = zt(['create_zone', 'nobody-made.test'], { HOME: work, USER: 'nobody' }, asNobody);
    assert.equal(made.code, 0, made.out);
    assert.match(zt(['--json', 'ls_zi', 'nobody-made.test'], RESTRICTED).out, /"nobody@[^"]*\/Helpdesk"/);
  });
});
