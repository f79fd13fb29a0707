// The interactive zone_tool shell through a real pseudo-terminal (tmux): prompt, help, commands, tab completion of
// commands and zone names, edit_zone's questions, history kept across sessions. On SQLite and PostgreSQL.
// Needs the build (npm test builds first).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const BIN = resolve('bin/zone_tool');
const work = mkdtempSync(join(tmpdir(), 'zone_tool-shell-'));
const socket = `zt-${process.pid}`;

// One tmux server per pane: killing the last session of a shared server makes it exit, and a session started at that
// moment fails with "server exited unexpectedly".
function tmux(args: string[], sock: string): string {
  const r = spawnSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

class Pane {
  constructor(readonly name: string) {}
  get sock(): string {
    return `${socket}-${this.name}`;
  }
  static start(name: string, args: string[], env: Record<string, string>): Pane {
    const envs = Object.entries({ TZ: 'UTC', DMS_CHANGE_BY: 'shell@test/Admin', ...env })
      .map(([k, v]) => `${k}=${shq(v)}`)
      .join(' ');
    const cmd = `env ${envs} ${shq(process.execPath)} ${shq(BIN)} ${args.map(shq).join(' ')}; echo "SHELL-EXIT=$?"; sleep 600`;
    tmux(['new-session', '-d', '-s', name, '-x', '200', '-y', '60', cmd], `${socket}-${name}`);
    return new Pane(name);
  }
  screen(): string {
    return tmux(['capture-pane', '-p', '-J', '-S', '-2000', '-t', this.name], this.sock);
  }
  type(text: string): void {
    tmux(['send-keys', '-t', this.name, '-l', text], this.sock);
  }
  key(...keys: string[]): void {
    tmux(['send-keys', '-t', this.name, ...keys], this.sock);
  }
  line(text: string): void {
    this.type(text);
    this.key('Enter');
  }
  clear(): void {
    tmux(['clear-history', '-t', this.name], this.sock);
    this.key('C-l');
  }
  /** Wait until the screen matches; returns it. Fails with the screen shown. */
  async waitFor(re: RegExp, what: string, timeoutMs = 20_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let s = '';
    while (Date.now() < end) {
      s = this.screen();
      if (re.test(s)) return s;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what} (${re}); screen:\n${s}`);
  }
  /** Number of prompts on screen: used to wait for a command to finish. */
  prompts(): number {
    return (this.screen().match(/zone_tool > /g) ?? []).length;
  }
  async run(cmd: string, what = cmd): Promise<string> {
    const n = this.prompts();
    this.line(cmd);
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      if (this.prompts() > n) return this.screen();
      await sleep(100);
    }
    throw new Error(`timed out running ${what}; screen:\n${this.screen()}`);
  }
  kill(): void {
    spawnSync('tmux', ['-L', this.sock, 'kill-server']);
  }
}

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

for (const backendName of ['sqlite', 'postgres'] as const) {
  describe(`zone_tool shell on ${backendName}`, () => {
    let args: string[];
    const hist = join(work, `${backendName}.history`);
    const editor = join(work, `${backendName}-editor.sh`);
    const badEditor = join(work, `${backendName}-bad-editor.sh`);

    before(async () => {
      args =
        backendName === 'sqlite'
          ? ['--data', join(work, 'sqlite-data')]
          : ['--database-url', await pg.createDatabase()];
      writeFileSync(editor, '#!/bin/sh\nprintf "shellrec IN TXT \\"from-the-shell\\"\\n" >> "$1"\n');
      writeFileSync(badEditor, '#!/bin/sh\nprintf "broken IN AAAA 1.2.3.4\\n" >> "$1"\n');
      chmodSync(editor, 0o755);
      chmodSync(badEditor, 0o755);
    });

    test('prompt, help, commands, errors, completion, edit_zone, history', async () => {
      const env = { ZONE_TOOL_HISTORY: hist, EDITOR: editor, VISUAL: '' };
      const p = Pane.start(`${backendName}-1`, args, env);
      try {
        await p.waitFor(/Welcome to the zone_tool program[\s\S]*zone_tool > $/m, 'prompt');

        let s = await p.run('help');
        assert.match(s, /Documented commands \(type help <topic>\):/);
        s = await p.run('help ls_zi');
        assert.match(s, /List the zone instances for a domain/);

        s = await p.run('create_zone shell.org');
        s = await p.run('show_zone shell.org');
        assert.match(s, /shell\.org\.[\s\S]*SOA/);

        s = await p.run('bogus_command');
        assert.match(s, /\*\*\* {3}Unknown command 'bogus_command'/);

        // Tab completion of a command (ls_z: ls_zi alone), then of a zone name.
        p.type('ls_z');
        p.key('Tab');
        await p.waitFor(/zone_tool > ls_zi ?$/m, 'command completion');
        p.type('she');
        p.key('Tab');
        await p.waitFor(/zone_tool > ls_zi shell\.org\. ?$/m, 'zone name completion');
        s = await p.run('', 'completed ls_zi');
        assert.match(s, /^\s*\*1\s+\d{10}\s/m);

        // edit_zone on a terminal: the diff is shown and Update asked for.
        p.clear();
        p.line('edit_zone shell.org');
        s = await p.waitFor(/--\[U\]\/d\/e\/a> $/m, 'update question');
        assert.match(s, /^\+shellrec.*from-the-shell/m);
        p.line('u');
        await p.waitFor(/zone_tool > $/m, 'prompt after update');
        s = await p.run('show_zone shell.org');
        assert.match(s, /shellrec.*TXT.*"from-the-shell"/);

        p.line('exit');
        await p.waitFor(/SHELL-EXIT=0/, 'shell exit');
      } finally {
        p.kill();
      }
      assert.ok(existsSync(hist), 'history file written');
      const h = readFileSync(hist, 'utf8');
      assert.match(h, /^create_zone shell\.org$/m);
      assert.match(h, /^show_zone shell\.org$/m);
    });

    test('a bad edit: errors shown, (E)dit again / (A)bort, nothing saved; history recalled', async () => {
      const env = { ZONE_TOOL_HISTORY: hist, EDITOR: badEditor, VISUAL: '' };
      const p = Pane.start(`${backendName}-2`, args, env);
      try {
        await p.waitFor(/zone_tool > $/m, 'prompt');
        p.line('edit_zone shell.org');
        await p.waitFor(/--\[U\]\/d\/e\/a> $/m, 'update question');
        p.line('u');
        const s = await p.waitFor(/--\[E\]\/a> $/m, 'edit again question');
        assert.match(s, /shell\.org\.zone:\d+(:\d+)?: /);
        p.line('a');
        await p.waitFor(/zone_tool > $/m, 'prompt after abort');
        const shown = await p.run('show_zone shell.org');
        const output = shown.slice(shown.lastIndexOf('zone_tool > show_zone shell.org'));
        assert.match(output, /from-the-shell/);
        assert.doesNotMatch(output, /broken/);
        // History from the first session: Up recalls the last command.
        p.clear();
        p.key('Up');
        await p.waitFor(/zone_tool > show_zone shell\.org$/m, 'history recall');
        p.key('C-u');
        p.key('C-d');
        await p.waitFor(/SHELL-EXIT=0/, 'exit on EOF');
      } finally {
        p.kill();
      }
    });

    test('(E)dit again after an error, then Update saves the corrected zone', async () => {
      const state = join(work, `${backendName}-reedit.state`);
      const reEditor = join(work, `${backendName}-re-editor.sh`);
      writeFileSync(
        reEditor,
        `#!/bin/sh\nif [ -f '${state}' ]; then sed -i 's/^fixme IN AAAA 1.2.3.4$/fixme IN AAAA 2001:db8::4/' "$1"; ` +
          `else touch '${state}'; printf "fixme IN AAAA 1.2.3.4\\n" >> "$1"; fi\n`,
      );
      chmodSync(reEditor, 0o755);
      const p = Pane.start(`${backendName}-3`, args, { ZONE_TOOL_HISTORY: hist, EDITOR: reEditor, VISUAL: '' });
      try {
        await p.waitFor(/zone_tool > $/m, 'prompt');
        p.line('edit_zone shell.org');
        await p.waitFor(/--\[U\]\/d\/e\/a> $/m, 'update question');
        p.line('u');
        await p.waitFor(/--\[E\]\/a> $/m, 'edit again question');
        p.clear();
        p.line('e');
        const s = await p.waitFor(/--\[U\]\/d\/e\/a> $/m, 'update question after re-edit');
        assert.match(s, /^\+fixme IN AAAA 2001:db8::4$/m);
        p.line('u');
        await p.waitFor(/zone_tool > $/m, 'prompt after update');
        const shown = await p.run('show_zone shell.org');
        assert.match(shown.slice(shown.lastIndexOf('zone_tool > show_zone')), /fixme\s.*AAAA\s+2001:db8::4/);
        p.line('quit');
        await p.waitFor(/SHELL-EXIT=0/, 'quit');
      } finally {
        p.kill();
      }
    });
  });
}

describe('load_zones progress bar', () => {
  test('drawn on a terminal, absent when stdout is not one', () => {
    const data = join(work, 'bar-data');
    const files = ['bar1.org', 'bar2.org', 'bar3.org'].map((n) => {
      const f = join(work, n);
      writeFileSync(f, `$TTL 300\n@ IN SOA ns1.${n}. h.${n}. 1 3600 600 86400 300\n@ IN NS ns1.${n}.\nns1 IN A 192.0.2.1\n`);
      return f;
    });
    const cmd = [process.execPath, BIN, '--data', data, 'load_zones', ...files].map(shq).join(' ');
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /\[#+ *\] 3\/3 bar3\.org/);
    const piped = spawnSync(process.execPath, [BIN, '--data', data, 'ls', 'bar*'], { encoding: 'utf8' });
    assert.equal(piped.stdout, 'bar1.org.\nbar2.org.\nbar3.org.\n');
    const again = spawnSync(process.execPath, [BIN, '--data', join(work, 'bar-data2'), 'load_zones', ...files], {
      encoding: 'utf8',
    });
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr + again.stdout, /\[#/);
  });
});
