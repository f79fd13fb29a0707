// DMS's local copy of the configured repository: a bare repository in the work directory, driven by git plumbing
// (fetch, fast-import, push, merge-base, diff-tree, log, cat-file). DMS never keeps a working tree: commits are written
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
  /** The file's blob at the newer commit (absent: deleted). */
  blob?: string;
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

/** Work directory → the end of the queue of this process's operations on it (see GitRepo.locked). */
const inProcess = new Map<string, Promise<void>>();
/** Work directory → when this process last ran git's housekeeping there (see GitRepo.maintain). */
const maintained = new Map<string, number>();

export class GitRepo {
  constructor(
    readonly dir: string,
    readonly url: string,
    readonly branch: string,
    private readonly env: Record<string, string> = {},
  ) {}

  private run(args: readonly string[], input?: string | Buffer | Promise<string | Buffer>, timeoutMs?: number): Promise<GitResult> {
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

  /**
   * The bare repository, made on first use (a file check otherwise: no git process). The remote is always named by its
   * URL on the command line (after `--`), never kept in the repository's configuration, so a changed git_mirror
   * applies at once and there is nothing to keep in step.
   */
  async ensure(): Promise<void> {
    const fs = process.getBuiltinModule('node:fs');
    const path = process.getBuiltinModule('node:path');
    if (!fs.existsSync(path.join(this.dir, 'HEAD'))) {
      fs.mkdirSync(this.dir, { recursive: true });
      await this.ok(['init', '--bare', '-q']);
    }
  }

  private get trackingRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /**
   * Fetch the remote branch and return its head, null when the branch does not exist (an empty repository). One git
   * process: fetch asks the remote for its refs anyway (what ls-remote would) and transfers only what is missing.
   */
  async fetchHead(): Promise<string | null> {
    // No automatic maintenance after each fetch (one more process on every import's path): see maintain().
    const r = await this.run(
      ['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--', this.url, `+refs/heads/${this.branch}:${this.trackingRef}`],
      undefined,
      300_000,
    );
    if (r.code !== 0) {
      if (/couldn't find remote ref/i.test(r.stderr)) return null;
      throw this.remoteError(r);
    }
    return this.readRef(this.trackingRef);
  }

  /** A ref's commit: the loose ref file as fetch writes it, else (packed by a gc) through git. */
  private async readRef(ref: string): Promise<string> {
    const fs = process.getBuiltinModule('node:fs');
    const path = process.getBuiltinModule('node:path');
    try {
      const sha = fs.readFileSync(path.join(this.dir, ref), 'utf8').trim();
      if (/^[0-9a-f]{40,64}$/.test(sha)) return sha;
    } catch {}
    return (await this.ok(['rev-parse', '--verify', '-q', `${ref}^{commit}`])).toString('utf8').trim();
  }

  /**
   * git's automatic housekeeping (packing the loose objects small fetches leave), which fetch would run every time:
   * here at most once an hour per work directory and process, after an operation's work is done.
   */
  async maintain(): Promise<void> {
    const now = Date.now();
    if (now - (maintained.get(this.dir) ?? 0) < 3_600_000) return;
    maintained.set(this.dir, now);
    await this.run(['maintenance', 'run', '--auto', '--quiet']);
  }

  async hasCommit(sha: string): Promise<boolean> {
    return (await this.run(['cat-file', '-e', `${sha}^{commit}`])).code === 0;
  }

  /** Whether `ancestor` is `of` or an ancestor of it; a commit not in the repository is nobody's ancestor. */
  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    const r = await this.run(['merge-base', '--is-ancestor', ancestor, of]);
    if (r.code <= 1) return r.code === 0;
    // Not here after fetching the whole branch: not in its history. (One more process only on this failure path.)
    if (!(await this.hasCommit(ancestor))) return false;
    throw new Error(`git merge-base failed: ${r.stderr.trim()}`);
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
    const r = await this.run(['push', '--porcelain', '--', this.url, `${sha}:refs/heads/${this.branch}`], undefined, 300_000);
    if (r.code === 0) return 'ok';
    const out = r.stdout.toString('utf8');
    if (/\[rejected\]|non-fast-forward|fetch first/.test(out + r.stderr)) return 'rejected';
    throw this.remoteError(r);
  }

  /**
   * Files changed from `base` to `head` (base null: every file of head, as added), each with its blob at `head` (so
   * that reading them needs no path lookups). One git process; diff-tree compares the two trees, so the cost follows
   * the change, never the number of files.
   */
  async changes(base: string | null, head: string): Promise<FileChange[]> {
    const out: FileChange[] = [];
    if (base === null) {
      // "<mode> <type> <blob>\t<path>"
      for (const entry of (await this.ok(['ls-tree', '-r', '-z', head])).toString('utf8').split('\0')) {
        const tab = entry.indexOf('\t');
        if (tab < 0) continue;
        const [, type, blob] = entry.slice(0, tab).split(' ');
        if (type === 'blob') out.push({ status: 'A', path: entry.slice(tab + 1), blob });
      }
      return out;
    }
    // ":<old mode> <new mode> <old blob> <new blob> <status>\0<path>\0"
    const parts = (await this.ok(['diff-tree', '-r', '-z', '--no-renames', '--raw', base, head])).toString('utf8').split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const f = parts[i].split(' ');
      const s = f[4]?.[0];
      if (s === undefined) continue;
      const status = s === 'A' ? 'A' : s === 'D' ? 'D' : 'M';
      out.push({ status, path: parts[i + 1], ...(status === 'D' ? {} : { blob: f[3] }) });
    }
    return out;
  }

  /** The content of objects (a blob id, or `<commit>:<path>`), by key (one cat-file process). */
  async readObjects(objects: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    if (objects.size === 0) return new Map();
    return this.objectReader().read(objects);
  }

  /**
   * A cat-file process started now and told later what to read: its start-up (a process spawn, tens of milliseconds
   * on a busy machine) overlaps the work that finds out which objects are wanted. `read` once, or `close`.
   */
  objectReader(): { read(objects: ReadonlyMap<string, string>): Promise<Map<string, string>>; close(): void } {
    let give!: (input: string) => void;
    const input = new Promise<string>((r) => {
      give = r;
    });
    const result = this.run(['cat-file', '--batch'], input);
    // Not read (the import failed before): its end is nobody's business.
    result.catch(() => {});
    let fed = false;
    return {
      read: async (objects) => {
        if (fed) throw new Error('objectReader: read once');
        fed = true;
        const keys = [...objects.keys()];
        give(keys.length > 0 ? `${keys.map((k) => objects.get(k)).join('\n')}\n` : '');
        const r = await result;
        if (r.code !== 0) throw new Error(`git cat-file failed: ${r.stderr.trim() || `exit ${r.code}`}`);
        const out = new Map<string, string>();
        const buf = r.stdout;
        let at = 0;
        for (const k of keys) {
          const nl = buf.indexOf(10, at);
          const header = buf.subarray(at, nl).toString('utf8');
          const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
          if (!m) {
            at = nl + 1;
            continue;
          }
          const size = Number(m[2]);
          out.set(k, buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
          at = nl + 1 + size + 1;
        }
        return out;
      },
      close: () => {
        if (fed) return;
        fed = true;
        give('');
      },
    };
  }

  /** The content of these files at `commit`. */
  async readFiles(commit: string, paths: readonly string[]): Promise<Map<string, string>> {
    return this.readObjects(new Map(paths.map((p) => [p, `${commit}:${p}`])));
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

  /**
   * Hold the repository for one operation. In one process the operations queue on a promise (the next starts the
   * moment the last ends, no polling); between processes (dmsd and zone_tool) a directory is the lock.
   */
  async locked<T>(f: () => Promise<T>): Promise<T> {
    const before = inProcess.get(this.dir) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = before.then(() => mine);
    inProcess.set(this.dir, tail);
    await before;
    try {
      return await this.lockedAcrossProcesses(async () => {
        const r = await f();
        // After the work (the import committed, the push done), at most once an hour: it never delays either.
        await this.maintain().catch(() => {});
        return r;
      });
    } finally {
      release();
      if (inProcess.get(this.dir) === tail) inProcess.delete(this.dir);
    }
  }

  private async lockedAcrossProcesses<T>(f: () => Promise<T>): Promise<T> {
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
