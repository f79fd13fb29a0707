// A QueryHandler (with the primary attached, or not) served on a free 127.0.0.1 port over UDP and TCP through the
// responder of xfr.support.ts, as dmsd's listeners serve it: each request goes with its transport and client address.

import type { QueryHandler } from '../../src/server/query.js';
import { type Responder, startResponder } from './xfr.support.js';

export function serveQueries(qh: QueryHandler): Promise<Responder> {
  return startResponder(async (bytes, t) => {
    const out = await qh.handle(bytes, { transport: t.tcp ? 'tcp' : 'udp', address: t.remoteAddress });
    return out === null ? [] : Array.isArray(out) ? out : [out];
  });
}
