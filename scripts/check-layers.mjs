#!/usr/bin/env node
// The import directions of src/, checked on every `npm run lint`:
//   pure core   dns ← zonefile ← zone, dnssec: no I/O modules, nothing outward
//   server      imports the core only (its ports are implemented by the daemon)
//   store       imports the core only
//   services    core + store; never server, cli, api, daemon, web
//   daemon      the composition root: anything but cli and web
//   cli, api    core + services; never store, server or daemon
//   web         nothing from src (it talks to the API over HTTP)
// plus: no import cycles (value imports; `import type` vanishes at run time).
//
//   node scripts/check-layers.mjs [SRC_DIR]     exit 1 with one line per violation
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const CORE = ['dns', 'zonefile', 'zone', 'dnssec', 'confgen'];

/** Folder → the src folders it may import (itself always). */
export const ALLOWED = {
  dns: [],
  zonefile: ['dns'],
  zone: ['dns', 'zonefile'],
  dnssec: ['dns', 'zonefile'],
  confgen: ['dns', 'zonefile', 'zone'],
  server: CORE,
  store: CORE,
  services: [...CORE, 'store'],
  daemon: [...CORE, 'server', 'store', 'services', 'api', 'mirror'],
  api: [...CORE, 'services'],
  cli: [...CORE, 'services'],
  mirror: [...CORE, 'services'],
  web: [],
};

/** Node modules that do I/O: the pure core may not import them (node:crypto, node:buffer and friends are fine). */
const IO_MODULES = new Set([
  'fs', 'fs/promises', 'net', 'dgram', 'http', 'https', 'http2', 'tls', 'child_process', 'cluster', 'worker_threads',
  'os', 'path', 'readline', 'tty', 'dns', 'process', 'inspector', 'v8', 'vm',
]);
/** npm packages the pure core may import (none: it is our own code). */
const PURE = new Set(CORE);

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|tsx|mts)$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import of a file: specifier, whether it is type-only, line number. */
export function importsOf(text) {
  const out = [];
  const lineOf = (i) => text.slice(0, i + 1).split('\n').length;
  const re =
    /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|getBuiltinModule\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m; (m = re.exec(text)); ) {
    const spec = m[3] ?? m[4] ?? m[5];
    // `import { type A, type B }` is type-only too.
    const braces = m[0].match(/\{([^}]*)\}/);
    const allTypeNames = braces ? braces[1].split(',').filter((s) => s.trim()).every((s) => /^\s*type\s/.test(s)) : false;
    const typeOnly = Boolean(m[2]) || (m[1] === 'import' && allTypeNames && !/\*/.test(m[0]));
    // `x: import('../a.js').T` and `typeof import('...')` are types, not loads.
    const at = m.index + Math.max(0, m[0].search(/import|export|getBuiltinModule/));
    out.push({ spec, typeOnly: typeOnly || (m[4] !== undefined && isTypePosition(text, at)), line: lineOf(at) });
  }
  return out;
}

function isTypePosition(text, at) {
  // `x: import('../a.js').T` or `typeof import('...')`: a type, not a load.
  const before = text.slice(Math.max(0, at - 20), at).trimEnd();
  return /(:|typeof|<|\||&|=>|,)$/.test(before) && !/=\s*$/.test(before) && !/await$/.test(before);
}

export function checkLayers(srcDir) {
  const root = resolve(srcDir);
  const files = walk(root);
  const problems = [];
  const graph = new Map();
  const folderOf = (abs) => relative(root, abs).split(sep)[0];
  for (const file of files) {
    const from = folderOf(file);
    const rel = relative(process.cwd(), file);
    const allowed = ALLOWED[from];
    const edges = [];
    for (const imp of importsOf(readFileSync(file, 'utf8'))) {
      if (imp.spec.startsWith('.')) {
        const target = resolve(dirname(file), imp.spec).replace(/\.js$/, '.ts');
        const inSrc = !relative(root, target).startsWith('..');
        if (!inSrc) {
          problems.push(`${rel}:${imp.line}: imports ${imp.spec}, outside src/`);
          continue;
        }
        const to = folderOf(target);
        if (to !== from && allowed && !allowed.includes(to)) {
          problems.push(`${rel}:${imp.line}: ${from}/ may not import ${to}/ (${imp.spec})`);
        }
        if (!imp.typeOnly) edges.push(target);
      } else {
        const mod = imp.spec.replace(/^node:/, '');
        if (PURE.has(from) || from === 'dns') {
          if (imp.spec.startsWith('node:') || IO_MODULES.has(mod)) {
            if (IO_MODULES.has(mod)) problems.push(`${rel}:${imp.line}: the pure core may not import ${imp.spec} (I/O)`);
          } else if (!imp.typeOnly) {
            problems.push(`${rel}:${imp.line}: the pure core may not import the package ${imp.spec}`);
          }
        }
      }
    }
    if (!allowed) problems.push(`${rel}: src/${from}/ is not a known layer (add it to scripts/check-layers.mjs)`);
    graph.set(file, edges);
  }
  // Cycles: depth-first search over value imports.
  const state = new Map();
  const stack = [];
  const seen = new Set();
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 1) {
        const cycle = stack.slice(stack.indexOf(g)).map((x) => relative(process.cwd(), x));
        const key = [...cycle].sort().join(' ');
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`import cycle: ${[...cycle, cycle[0]].join(' → ')}`);
        }
      } else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problems = checkLayers(process.argv[2] ?? 'src');
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-layers: ${problems.length} problem(s); the rules are at the top of scripts/check-layers.mjs`);
    process.exit(1);
  }
  console.log('check-layers: import directions and cycles OK');
}
