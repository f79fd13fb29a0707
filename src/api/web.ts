// The web UI's files (built by `npm run build` into dist/web from src/web), served at `/` on the API's listener.
// They are read once at start-up into memory: a handful of small files, no file-system access per request and no
// path from the URL ever reaches the file system. The UI calls only the JSON-RPC API (and /session to log in).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Nothing but our own files: no inline script, no other origin, not framed (clickjacking). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/** Where the built UI is: dist/web beside dist/api, or (when dmsd runs from src/ through tsx) the repository's dist/web. */
export function defaultWebRoot(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // (src/web holds the sources, index.html among them: a built UI has its bundle.)
  for (const d of [join(here, '..', 'web'), join(here, '..', '..', 'dist', 'web')]) if (existsSync(join(d, 'assets', 'app.js'))) return d;
  return undefined;
}

function filesOf(root: string, dir = root, out = new Map<string, Buffer>()): Map<string, Buffer> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) filesOf(root, p, out);
    else out.set(`/${relative(root, p).split(sep).join('/')}`, readFileSync(p));
  }
  return out;
}

/** GET / and the UI's assets; false when there is no built UI (the API works without it). */
export function registerWebUi(app: FastifyInstance, root: string | undefined): boolean {
  if (!root || !existsSync(join(root, 'index.html'))) return false;
  const files = filesOf(root);
  const index = files.get('/index.html')!;
  const headers = (type: string, cache: string) => ({
    'content-type': type,
    'cache-control': cache,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
  app.get('/', async (_req, reply) => reply.code(200).headers(headers(TYPES['.html'], 'no-cache')).send(index));
  app.get('/index.html', async (_req, reply) => reply.code(200).headers(headers(TYPES['.html'], 'no-cache')).send(index));
  // Browsers ask for it on their own; no icon is not an error worth a 404 in the console.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  for (const [path, body] of files) {
    if (!path.startsWith('/assets/')) continue;
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    app.get(path, async (_req, reply) => reply.code(200).headers(headers(type, 'no-cache')).send(body));
  }
  return true;
}
