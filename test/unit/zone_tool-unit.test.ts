// zone_tool pure parts: shell-line splitting, getopt, ZI selectors, the unified diff, the command table, exit codes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getopt, optionSpec, originalSpelling, splitShellLine } from '../../src/cli/zone_tool/argv.js';
import { unifiedDiff } from '../../src/services/textdiff.js';
import { EX, exitCodeFor, toZoneToolError, ZoneToolError } from '../../src/cli/zone_tool/errors.js';
import { fmtTime, kvBlock, wrap } from '../../src/cli/zone_tool/format.js';
import { parseGlobalOptions } from '../../src/cli/zone_tool/main.js';
import { completionKind } from '../../src/cli/zone_tool/shell.js';
import { allCommandNames, COMMANDS, findCommand, usageLine } from '../../src/cli/zone_tool/table.js';
import { reverseNameOfAddress } from '../../src/cli/zone_tool/util.js';
import { parseZiSelector, resolveZiSelector } from '../../src/cli/zone_tool/zi_selector.js';
import { type DmsErrorCode, ERROR_KIND, ZoneNotFound } from '../../src/services/errors.js';

describe('splitShellLine', () => {
  it('splits on whitespace and honours quotes and escapes', () => {
    assert.deepEqual(splitShellLine('  ls   -v  *.org  '), ['ls', '-v', '*.org']);
    assert.deepEqual(splitShellLine(`create_reference 'a b' "c \\"d\\"" e\\ f`), ['create_reference', 'a b', 'c "d"', 'e f']);
    assert.deepEqual(splitShellLine(`x ''`), ['x', '']);
    assert.deepEqual(splitShellLine(''), []);
  });
  it('rejects unterminated quotes as a usage error', () => {
    assert.throws(() => splitShellLine(`ls 'abc`), (e: unknown) => e instanceof ZoneToolError && e.exitCode === EX.USAGE);
    assert.throws(() => splitShellLine(`ls "abc`), (e: unknown) => e instanceof ZoneToolError && e.exitCode === EX.USAGE);
  });
});

describe('getopt', () => {
  it('parses clustered flags, attached and separate values, options after positionals, --', () => {
    const r = getopt(['-fi', 'a', '-rREF', 'b', '-g', 'sg1', '--', '-x'], 'fig:r:', 'cmd');
    assert.deepEqual(r.opts, { f: true, i: true, r: 'REF', g: 'sg1' });
    assert.deepEqual(r.positional, ['a', 'b', '-x']);
  });
  it('keeps ZI adjustments and negative-looking numbers positional', () => {
    assert.deepEqual(getopt(['z.org', '^-', '12-3', '-5'], 'v', 'ls_zi').positional, ['z.org', '^-', '12-3', '-5']);
  });
  it('rejects unknown options and missing values', () => {
    assert.throws(() => getopt(['-x'], 'v', 'ls'), /ls: unknown option '-x'/);
    assert.throws(() => getopt(['--bogus'], 'v', 'ls'), /unknown option '--bogus'/);
    assert.throws(() => getopt(['-r'], 'r:', 'ls'), /needs a value/);
  });
});

describe("the original zone_tool's spellings of arguments", () => {
  const parse = (name: string, args: string[]) => {
    const cmd = findCommand(name);
    assert.ok(cmd, name);
    return originalSpelling(cmd, getopt(args, optionSpec(cmd), cmd.name, cmd.long));
  };
  it('an option standing for an argument goes to its place', () => {
    assert.deepEqual(parse('set_zone_sg', ['-g', 'sg2', 'a.org']), { opts: {}, positional: ['a.org', 'sg2'] });
    assert.deepEqual(parse('ls_zi', ['-v', '-z', '3', 'a.org']), { opts: { v: true }, positional: ['a.org', '3'] });
    assert.deepEqual(parse('update_rrs', ['-n', 'a.org', 'f.txt']), { opts: {}, positional: ['a.org', 'f.txt'] });
    assert.deepEqual(parse('ls_reference', ['-r', 'R1', 'R2']), { opts: {}, positional: ['R2', 'R1'] });
  });
  it("the vacuum commands' whole-number arguments are their options; other arguments stay", () => {
    assert.deepEqual(parse('vacuum_zis', ['-f', '30', '25']), { opts: { a: '30', n: '25' }, positional: [] });
    assert.deepEqual(parse('vacuum_zis', ['30', 'a.org']), { opts: { a: '30' }, positional: ['a.org'] });
    assert.deepEqual(parse('vacuum_zis', ['-a', '10', '30']), { opts: { a: '10' }, positional: ['30'] }, 'an option given wins; the number stays an argument (refused by the count)');
    assert.deepEqual(parse('vacuum_event_queue', ['-fv', '60']), { opts: { a: '60' }, positional: [] });
  });
  it("-f and -v are taken where the original took them, and nothing else is", () => {
    assert.deepEqual(parse('refresh_zone', ['-f', 'a.org']), { opts: {}, positional: ['a.org'] });
    assert.deepEqual(parse('show_master_status', ['-v']), { opts: {}, positional: [] });
    assert.throws(() => parse('refresh_zone', ['-x', 'a.org']), /unknown option '-x'/);
    assert.throws(() => parse('create_zone', ['-z', '1', 'a.org']), /unknown option '-z'/);
    // A command's own letter keeps its meaning (nuke_zones asks before deleting unless -f).
    assert.deepEqual(parse('nuke_zones', ['-f', 'a.org']), { opts: { f: true }, positional: ['a.org'] });
  });
});

describe('global options', () => {
  it('are taken from anywhere before --', () => {
    const g = parseGlobalOptions(['--data', '/d', 'ls', '--json', '--database-url=postgres://x/y', '-v']);
    assert.deepEqual(g.location, { data: '/d', databaseUrl: 'postgres://x/y' });
    assert.equal(g.json, true);
    assert.deepEqual(g.rest, ['ls', '-v']);
  });
  it('--help only before the command', () => {
    assert.equal(parseGlobalOptions(['--help']).help, true);
    assert.throws(() => parseGlobalOptions(['--data']), /needs a value/);
  });
});

describe('ZI selectors', () => {
  const now = new Date(2024, 5, 15, 12, 0, 0); // 15 Jun 2024 12:00 local
  const day = 86400_000;
  const zis = [
    { id: 1, ctime: new Date(now.getTime() - 10 * day) },
    { id: 2, ctime: new Date(now.getTime() - 5 * day) },
    { id: 3, ctime: new Date(now.getTime() - 2 * day) },
    { id: 4, ctime: new Date(now.getTime() - 1 * day) },
    { id: 5, ctime: new Date(now.getTime() - 3600_000) },
  ];
  const res = (t: string, published = 4) => resolveZiSelector(parseZiSelector(t, now), zis, published);
  it('ids, ^ and adjustments around the published ZI', () => {
    assert.equal(res('3'), 3);
    assert.equal(res('9'), null);
    assert.equal(res('^'), 4);
    assert.equal(res('^-'), 3);
    assert.equal(res('^--'), 2);
    assert.equal(res('^-3'), 1);
    assert.equal(res('^+'), 5);
    assert.equal(res('^++'), null);
    assert.equal(res('2+2'), 4);
    assert.equal(res('5--'), 3);
    assert.equal(res('*'), 4);
  });
  it('ages and dates pick the newest ZI created at or before that time', () => {
    assert.equal(res('@3d'), 2);
    assert.equal(res('@36h'), 3);
    assert.equal(res('@30m'), 5);
    assert.equal(res('@1w'), 1);
    assert.equal(res('@20d'), null);
    assert.equal(res('13/06/2024'), 2);
    assert.equal(res('2024-06-14'), 3);
    assert.equal(res('2024-06-14,12:00'), 4);
    assert.equal(res('14/06/2024,11:59'), 3);
    assert.equal(res('11/6'), 2);
    assert.equal(res('11:30'), 5);
    assert.equal(res('11:30am'), 5);
    assert.equal(res('10:00'), 4);
  });
  it('rejects nonsense with a usage error', () => {
    for (const bad of ['abc', '^x', '@3y', '31/02/2024', '25:00', '^-x']) {
      assert.throws(
        () => parseZiSelector(bad, now),
        (e: unknown) => e instanceof ZoneToolError && e.exitCode === EX.USAGE,
        bad,
      );
    }
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal texts and shows changed lines with context', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y'), '');
    const old = Array.from({ length: 20 }, (_, i) => `line${i}`).join('\n');
    const neu = old.replace('line10', 'LINE10').replace('line18', 'line18\nadded');
    const d = unifiedDiff(old, neu, 'old', 'new');
    assert.match(d, /^--- old\n\+\+\+ new\n/);
    assert.match(d, /-line10\n\+LINE10\n/);
    assert.match(d, /\+added\n/);
    assert.match(d, /@@ -8,/);
  });
  it('handles all-new and all-removed texts', () => {
    assert.match(unifiedDiff('', 'a\n', 'x', 'y'), /@@ -0,0 \+1,1 @@\n\+a/);
    assert.match(unifiedDiff('a\n', '', 'x', 'y'), /@@ -1,1 \+0,0 @@\n-a/);
  });
});

describe('command table', () => {
  it('has every command the issue lists, with the documented aliases', () => {
    const wanted =
      'create_zone ls ls_deleted show_zone show_zonesm edit_zone load_zone load_zones load_zone_zi copy_zone delete_zone undelete_zone destroy_zone nuke_zones enable_zone disable_zone set_zone ls_zi show_zi diff_zones diff_zone_zi delete_zi create_reference ls_reference rename_reference delete_reference set_zone_reference create_sectag delete_sectag show_sectags show_zone_sectags add_zone_sectag delete_zone_sectag replace_zone_sectags show_config set_config create_sg ls_sg show_sg show_apex_ns edit_apex_ns poke_zone_set_serial poke_zone_wrap_serial vacuum_zis vacuum_zones vacuum_pare_deleted_zone_zis vacuum_event_queue vacuum_all ls_pending_events ls_failed_events ls_events show_event fail_event show_dms_status';
    for (const n of wanted.split(' ')) assert.equal(findCommand(n)?.name, n, n);
    // The original wired list_reference to delete_reference; here every alias lands on its own command.
    assert.equal(findCommand('lsref')?.name, 'ls_reference');
    assert.equal(findCommand('list_reference')?.name, 'ls_reference');
    assert.equal(findCommand('lssg')?.name, 'ls_sg');
    assert.equal(findCommand('list_sg')?.name, 'ls_sg');
    assert.equal(findCommand('list_zone')?.name, 'ls');
    assert.equal(findCommand('quit')?.name, 'exit');
    assert.equal(findCommand('show-zone')?.name, 'show_zone');
    assert.ok(allCommandNames().includes('lsref'));
  });
  it('has a handler for every command and a usage line naming it', async () => {
    const { HANDLERS } = await import('../../src/cli/zone_tool/handlers.js');
    for (const c of COMMANDS) {
      if (c.name === 'help' || c.name === 'exit') continue;
      assert.equal(typeof HANDLERS[c.name], 'function', c.name);
      assert.ok(usageLine(c).startsWith(c.name), `${c.name}: ${usageLine(c)}`);
      assert.ok(c.min <= c.max, c.name);
    }
    assert.deepEqual(
      Object.keys(HANDLERS).filter((k) => !findCommand(k)),
      [],
    );
  });
  it('completion knows what each argument is', () => {
    assert.equal(completionKind(['show_zone']), 'zone');
    assert.equal(completionKind(['show_zone', 'a.org']), 'other');
    assert.equal(completionKind(['create_zone', '-g']), 'option-value-sg');
    assert.equal(completionKind(['ls', '-r']), 'option-value-reference');
    assert.equal(completionKind(['ls', '-r', 'REF']), 'zone');
    assert.equal(completionKind(['create_zone', 'x.org']), 'zone_option');
    assert.equal(completionKind(['help']), 'command');
    assert.equal(completionKind(['add_zone_sectag', 'a.org']), 'sectag');
    assert.equal(completionKind(['show_config']), null);
    assert.equal(completionKind(['nope']), null);
  });
});

describe('formatting and errors', () => {
  it('wraps errors like the original TextWrapper', () => {
    const t = wrap('word '.repeat(30).trim(), '***   ', '      ');
    for (const l of t.split('\n')) assert.ok(l.length <= 70);
    assert.ok(t.startsWith('***   word'));
    assert.ok(t.split('\n')[1].startsWith('      word'));
  });
  it('formats times and key blocks as the original', () => {
    assert.equal(fmtTime(new Date(2012, 8, 7, 15, 32, 18)), 'Fri Sep 7 15:32:18 2012');
    assert.equal(fmtTime(null), 'None');
    assert.equal(
      kvBlock({ zone_id: 3, name: 'a.', edit_lock: true, x: null }, { firstKey: 'name' }),
      '        name:            a.\n        edit_lock:       True\n        x:               None\n        zone_id:         3',
    );
  });
  it('maps service error codes to sysexits through the catalogue kinds', () => {
    assert.equal(exitCodeFor('ZONE_NOT_FOUND'), EX.NOHOST);
    assert.equal(exitCodeFor('ZONE_EXISTS'), EX.CANTCREAT);
    assert.equal(exitCodeFor('REFERENCE_IN_USE'), EX.UNAVAILABLE);
    assert.equal(exitCodeFor('STALE_EDIT_TOKEN'), EX.TEMPFAIL);
    assert.equal(exitCodeFor('ZONE_VALIDATION_FAILED'), EX.DATAERR);
    for (const code of Object.keys(ERROR_KIND) as DmsErrorCode[]) {
      assert.ok(exitCodeFor(code) >= 64 && exitCodeFor(code) <= 78, `${code} → a sysexits status`);
    }
    assert.equal(toZoneToolError(new ZoneNotFound('x.')).exitCode, EX.NOHOST);
    assert.equal(toZoneToolError(new ZoneNotFound('x.')).code, 'ZONE_NOT_FOUND');
    // Only the catalogue's own errors are mapped: an Error that merely carries a code is a bug (70), never guessed.
    const lookalike = Object.assign(new Error('zone x. not found'), { code: 'ZONE_NOT_FOUND' });
    assert.equal(toZoneToolError(lookalike).exitCode, EX.SOFTWARE);
    const fsErr = Object.assign(new Error('nope'), { code: 'ENOENT', errno: -2, syscall: 'open' });
    assert.equal(toZoneToolError(fsErr).exitCode, EX.NOINPUT);
    const permErr = Object.assign(new Error('nope'), { code: 'EACCES', errno: -13, syscall: 'open' });
    assert.equal(toZoneToolError(permErr).exitCode, EX.OSERR);
  });
  it('finds reverse names of addresses', () => {
    assert.equal(reverseNameOfAddress('192.0.2.5'), '5.2.0.192.in-addr.arpa.');
    assert.equal(
      reverseNameOfAddress('2001:db8::1'),
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
    );
    assert.equal(reverseNameOfAddress('example.org'), null);
    assert.equal(reverseNameOfAddress('300.1.1.1'), null);
    assert.equal(reverseNameOfAddress('1::2::3'), null);
  });
});
