// Starting a thread on one of our modules, the same from dist/ (JavaScript), from the dmsd bundle and from the
// sources under tsx (tests).

import { statSync } from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A thread running the module `relative` (without extension) resolved against `base` (the caller's import.meta.url).
 * Under tsx the module is the TypeScript file and the thread registers tsx's loader first (an --import in the
 * thread's execArgv does not reach its entry module on Node 20). In the dmsd bundle import.meta.url stands for
 * dist/daemon/main.js, so a caller outside src/daemon names its module through its own folder ("../server/x").
 */
export function startThread(relative: string, base: string, opts: WorkerOptions = {}): Worker {
  const ts = base.endsWith('.ts');
  const url = new URL(`${relative}${ts ? '.ts' : '.js'}`, base);
  if (!ts) return new Worker(bundled(url) ?? url, opts);
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...opts, eval: true });
}

/**
 * The build's bundle of the module at `url` (a .cjs beside the .js, scripts/bundle.mjs), when there is one and tsc
 * has not written the module since: one file to load instead of the module's tree of ES modules.
 */
function bundled(url: URL): URL | undefined {
  const cjs = new URL(url.href.replace(/\.js$/, '.cjs'));
  try {
    return statSync(cjs).mtimeMs >= statSync(url).mtimeMs ? cjs : undefined;
  } catch {
    return undefined;
  }
}
