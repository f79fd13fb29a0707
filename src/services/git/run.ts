// The one place DMS runs git (Debian's git command line): spawn with arguments (never a shell), stdin fed, output
// collected, a time limit. Looked up with getBuiltinModule so that zone_tool's start-up does not load child_process.

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitRunOptions {
  cwd: string;
  /** What to write to git's stdin; a promise: the process starts now and is fed when the input is known. */
  input?: string | Buffer | Promise<string | Buffer>;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Never ask on a terminal (an unreachable remote must fail, not wait for a password), never use the user's config. */
const BASE_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  LC_ALL: 'C',
};

export function runGit(args: readonly string[], o: GitRunOptions): Promise<GitResult> {
  const cp = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    const child = cp.spawn('git', args, {
      cwd: o.cwd,
      env: { ...process.env, ...BASE_ENV, ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: signal ? `${stderr}killed by ${signal} (time limit)` : stderr });
    });
    // A git that exits early (bad arguments) closes stdin: not an error of ours.
    child.stdin.on('error', () => {});
    if (o.input instanceof Promise)
      o.input.then(
        (i) => child.stdin.end(i),
        () => child.stdin.end(),
      );
    else child.stdin.end(o.input ?? '');
  });
}
