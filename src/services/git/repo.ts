// DMS's local copy of the configured repository: a bare repository in the work directory, driven by git plumbing
// (ls-remote, fetch, fast-import, push, diff-tree, cat-file). DMS never keeps a working tree: commits are written
// with fast-import straight from the zone texts, so a commit costs the same for one zone or a thousand, and files
// are read from the fetched commit with one cat-file process.

import { GitRemoteFailed } from '../errors.js';
import { type GitResult, runGit } from './run.js';

export interface GitIdent {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

export interface ImportCommit {
  author: GitIdent;
  committer: GitIdent;
  message: string;
  /** Path → new content, or null: remove the file. */
  files: ReadonlyMap<string, string | null>;
}

export interface FileChange {
  status: 'A' | 'M' | 'D';
  path: string;
}

/** An identity line's parts; `<` `>` and newlines cannot appear in git's name or e-mail. */
const clean = (s: string) => s.replace(/[<>\n\r\0]/g, '').trim();

/** change_by → author: "Name <mail>" as it is; "user@host" as name and mail; anything else as the name, no mail. */
export function identOf(who: string, time: number): GitIdent {
  const m = /^(.*?)\s*<([^<>]*)>\s*$/.exec(who);
  if (m && clean(m[1])) return { name: clean(m[1]), email: clean(m[2]), time };
  const name = clean(who) || 'unknown';
  return { name, email: /^[^\s@]+@[^\s@]+$/.test(name) ? name : '', time };
}

export function identText(i: GitIdent): string {
  return `${i.name} <${i.email}> ${Math.floor(i.time)} +0000`;
}

export class GitRepo {
  constructor(
    readonly dir: string,
    readonly url: string,
    readonly branch: string,
    private readonly env: Record<string, string> = {},
  ) {}

  private run(args: readonly string[], input?: string | Buffer, timeoutMs?: number): Promise<GitResult> {
    return runGit(args, { cwd: this.dir, input, env: this.env, timeoutMs });
  }

  private async ok(args: readonly string[], input?: string | Buffer): Promise<Buffer> {
    const r = await this.run(args, input);
    if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  }

  private remoteError(r: GitResult): GitRemoteFailed {
    const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '');
    return new GitRemoteFailed(this.url, lines.slice(-3).join(' / ') || `git exit ${r.code}`);
  }

  /** The bare repository, made on first use; the remote URL follows the configuration. */
  async ensure(): Promise<void> {
    const fs = process.getBuiltinModule('node:fs');
    const path = process.getBuiltinModule('node:path');
    if (!fs.existsSync(path.join(this.dir, 'HEAD'))) {
      fs.mkdirSync(this.dir, { recursive: true });
      await this.ok(['init', '--bare', '-q']);
    }
    await this.ok(['config', 'remote.origin.url', this.url]);
  }

  /** The remote branch's head, null when the branch does not exist (an empty repository). */
  async remoteHead(): Promise<string | null> {
    const r = await this.run(['ls-remote', '--heads', 'origin', `refs/heads/${this.branch}`], undefined, 60_000);
    if (r.code !== 0) throw this.remoteError(r);
    const line = r.stdout.toString('utf8').split('\n').find((l) => l.endsWith(`\trefs/heads/${this.branch}`));
    return line ? line.split('\t')[0] : null;
  }

  async fetch(): Promise<void> {
    const r = await this.run(['fetch', '-q', '--no-tags', 'origin', `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`], undefined, 300_000);
    if (r.code !== 0) throw this.remoteError(r);
  }

  async hasCommit(sha: string): Promise<boolean> {
    return (await this.run(['cat-file', '-e', `${sha}^{commit}`])).code === 0;
  }

  /** The remote head present locally (fetched when it is not). */
  async have(sha: string): Promise<void> {
    if (!(await this.hasCommit(sha))) await this.fetch();
  }

  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    const r = await this.run(['merge-base', '--is-ancestor', ancestor, of]);
    if (r.code > 1) throw new Error(`git merge-base failed: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  /**
   * Write commits on top of `parent` (null: a first commit) with fast-import; returns each commit's hash in order.
   * The local ref refs/dms/out is only a handle for fast-import: the truth is the remote branch and the database.
   */
  async writeCommits(parent: string | null, commits: readonly ImportCommit[]): Promise<string[]> {
    const fs = process.getBuiltinModule('node:fs');
    const path = process.getBuiltinModule('node:path');
    const marksFile = path.join(this.dir, 'dms-marks');
    const parts: Buffer[] = [];
    const put = (s: string) => parts.push(Buffer.from(s, 'utf8'));
    const data = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      put(`data ${b.length}\n`);
      parts.push(b);
      put('\n');
    };
    put('reset refs/dms/out\n');
    if (parent) put(`from ${parent}\n`);
    put('\n');
    commits.forEach((c, i) => {
      put(`commit refs/dms/out\nmark :${i + 1}\nauthor ${identText(c.author)}\ncommitter ${identText(c.committer)}\n`);
      data(c.message);
      for (const [file, content] of c.files) {
        if (content === null) put(`D ${file}\n`);
        else {
          put(`M 100644 inline ${file}\n`);
          data(content);
        }
      }
      put('\n');
    });
    await this.ok(['fast-import', '--quiet', '--force', `--export-marks=${marksFile}`], Buffer.concat(parts));
    const marks = new Map<number, string>();
    for (const line of fs.readFileSync(marksFile, 'utf8').split('\n')) {
      const m = /^:(\d+) ([0-9a-f]+)$/.exec(line);
      if (m) marks.set(Number(m[1]), m[2]);
    }
    return commits.map((_, i) => {
      const sha = marks.get(i + 1);
      if (!sha) throw new Error('git fast-import did not report a commit');
      return sha;
    });
  }

  /** Push `sha` to the branch: 'ok', 'rejected' (the remote moved: not a fast-forward), else GitRemoteFailed. */
  async push(sha: string): Promise<'ok' | 'rejected'> {
    const r = await this.run(['push', '--porcelain', 'origin', `${sha}:refs/heads/${this.branch}`], undefined, 300_000);
    if (r.code === 0) return 'ok';
    const out = r.stdout.toString('utf8');
    if (/\[rejected\]|non-fast-forward|fetch first/.test(out + r.stderr)) return 'rejected';
    throw this.remoteError(r);
  }

  /** Files changed from `base` to `head` (base null: every file of head, as added). */
  async changes(base: string | null, head: string): Promise<FileChange[]> {
    if (base === null) {
      const out = (await this.ok(['ls-tree', '-r', '-z', '--name-only', head])).toString('utf8');
      return out
        .split('\0')
        .filter((p) => p !== '')
        .map((p) => ({ status: 'A' as const, path: p }));
    }
    const parts = (await this.ok(['diff-tree', '-r', '-z', '--no-renames', '--name-status', base, head])).toString('utf8').split('\0');
    const out: FileChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const s = parts[i][0];
      out.push({ status: s === 'A' ? 'A' : s === 'D' ? 'D' : 'M', path: parts[i + 1] });
    }
    return out;
  }

  /** The content of these files at `commit` (one cat-file process). */
  async readFiles(commit: string, paths: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (paths.length === 0) return out;
    const buf = await this.ok(['cat-file', '--batch'], `${paths.map((p) => `${commit}:${p}`).join('\n')}\n`);
    let at = 0;
    for (const p of paths) {
      const nl = buf.indexOf(10, at);
      const header = buf.subarray(at, nl).toString('utf8');
      const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
      if (!m) {
        at = nl + 1;
        continue;
      }
      const size = Number(m[2]);
      out.set(p, buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
      at = nl + 1 + size + 1;
    }
    return out;
  }

  /** For each file changed in base..head, the author ("Name <mail>") and subject of the newest commit touching it. */
  async lastAuthors(base: string | null, head: string): Promise<Map<string, { author: string; subject: string }>> {
    const range = base ? `${base}..${head}` : head;
    const text = (await this.ok(['-c', 'core.quotePath=false', 'log', '--no-renames', '--name-only', '--format=%x00%an <%ae>%x01%s', range])).toString('utf8');
    const out = new Map<string, { author: string; subject: string }>();
    for (const chunk of text.split('\0')) {
      if (chunk === '') continue;
      const [head1, ...files] = chunk.split('\n');
      const [author, subject] = head1.split('\x01');
      for (const f of files) if (f !== '' && !out.has(f)) out.set(f, { author, subject: subject ?? '' });
    }
    return out;
  }

  /** Hold the repository for one operation (dmsd and zone_tool may both work on it): a directory as the lock. */
  async locked<T>(f: () => Promise<T>): Promise<T> {
    const fs = process.getBuiltinModule('node:fs');
    const lock = `${this.dir}.lock`;
    const started = Date.now();
    fs.mkdirSync(process.getBuiltinModule('node:path').dirname(lock), { recursive: true });
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // A holder that died leaves its lock: one older than ten minutes is taken over (no operation runs that long).
        try {
          if (Date.now() - fs.statSync(lock).mtimeMs > 600_000) fs.rmSync(lock, { recursive: true, force: true });
        } catch {}
        if (Date.now() - started > 120_000) throw new Error(`git work directory ${this.dir} is locked (${lock})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await f();
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}
