// The real checkers (issue 11): a generated file is only installed after the checker of its server type accepted it,
// included from a minimal main configuration the way the operator's own main configuration includes it
// (named-checkconf, knotc conf-check, nsd-checkconf). Their own message is what a refusal reports.

import type { ConfigServerType, RenderedConfig } from './render.js';

export interface CheckResult {
  ok: boolean;
  /** The checker's output (stderr and stdout) when it refused, '' when it accepted. */
  message: string;
  /** The command that was run, for the record. */
  command: string;
}

/** Checker programs by type (PATH names unless the caller gives others, e.g. a test's or a chroot's). */
export const CHECKERS: Readonly<Record<ConfigServerType, string>> = { bind9: 'named-checkconf', knot: 'knotc', nsd: 'nsd-checkconf' };

/** The minimal main configuration of each type that includes DMS's file(s) from `dir`, as an operator's would. */
export function minimalMain(type: ConfigServerType, dir: string, withOptions: boolean): string {
  if (type === 'bind9')
    return `options {\n\tdirectory "${dir}";\n${withOptions ? `\tinclude "${dir}/dms-options.conf";\n` : ''}};\ninclude "${dir}/dms.conf";\n`;
  if (type === 'knot')
    return `server:\n    rundir: "${dir}"\n    listen: 127.0.0.1@53\ndatabase:\n    storage: "${dir}"\ntemplate:\n  - id: default\n    storage: "${dir}"\ninclude: ${dir}/dms.conf\n`;
  return `server:\n  zonesdir: "${dir}"\ninclude: "${dir}/dms.conf"\n`;
}

/** Run the type's checker on a rendered configuration. Never throws for a refusal: the result says it. */
export async function checkRendered(type: ConfigServerType, r: RenderedConfig, program = CHECKERS[type]): Promise<CheckResult> {
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const cp = process.getBuiltinModule('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dms-check-'));
  try {
    fs.writeFileSync(path.join(dir, 'dms.conf'), r.main);
    if (r.options !== null) fs.writeFileSync(path.join(dir, 'dms-options.conf'), r.options);
    const main = path.join(dir, 'main.conf');
    fs.writeFileSync(main, minimalMain(type, dir, r.options !== null));
    const args = type === 'knot' ? ['-c', main, 'conf-check'] : [main];
    const command = [program, ...args].join(' ');
    const res = await new Promise<{ code: number | null; out: string; err?: Error }>((resolve) => {
      cp.execFile(program, args, { timeout: 30_000, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
        const out = `${stderr}${stdout}`.trim();
        if (!error) resolve({ code: 0, out });
        else resolve({ code: typeof error.code === 'number' ? error.code : null, out, err: error });
      });
    });
    if (res.code === 0) return { ok: true, message: '', command };
    // The temporary directory means nothing to the reader: the file is "dms.conf" as the operator includes it (and
    // the command names "./main.conf", the minimal main configuration).
    const message = (res.out || res.err?.message || 'checker failed').split(dir).join('.');
    return { ok: false, message, command: command.split(dir).join('.') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
