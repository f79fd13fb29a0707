// The change path rehearsed before dmsd takes UPDATEs (issue 9). A fresh dmsd answered its first UPDATE to a signed
// zone three to four times slower than the next ones (100,000 signed records: 30–45 ms against 7–10; 1,000,000: 28–40
// against 9–12): its code runs in V8's interpreter until it has run often enough to be compiled, and the code cache
// the build makes holds bytecode only (a cache of eagerly compiled code did no better and cost memory). Measured:
// thirty UPDATEs to another signed zone first brought the first UPDATE of the large one to 13–21 ms. (Until session
// 17 the rehearsal's zone refused its UPDATEs — inc_updates is off by default — so only the refusal was rehearsed:
// each UPDATE is now checked applied. With them applied, the first UPDATE at 100,000 signed records costs what the
// next ones do, ~7 ms.)
//
// So dmsd rehearses: a throwaway store in a temporary directory, one small zone signed with the default policy, and a
// few dozen TSIG-signed RFC 2136 UPDATEs through the same pieces the served zones use — the query handler with the
// primary attached (decode, TSIG, the UPDATE engine, the services' reads and commit), the signer (incremental
// signing, its stored change) and the zone feed (the signed patch of the served copy) — then everything is closed and
// the directory removed. The statements it ran are then compiled and prepared for the served store too (their SQL is
// built per store), and each signed zone's apex read once. Nothing of the operator's store, zones or logs is changed
// (the rehearsal logs to /dev/null, at the real logger's level, so that its formatting is rehearsed too). dmsd runs
// it after the start-up load, before it listens (an UPDATE arriving during it would race it), and again once serving
// after a large signed zone's full sign: V8 drops the bytecode of functions unused through several collections, and
// a large zone's load and sign run many.

import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Opcode, RRClass, RRType } from '../dns/constants.js';
import { emptyMessage, encodeMessage } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { keyFromText, signMessage } from '../dns/tsig.js';
import { QueryHandler } from '../server/query.js';
import * as services from '../services/index.js';
import { call } from '../services/operations/index.js';
import { openStore, type Store } from '../store/index.js';
import { warmPreparedStatements } from '../store/prepared.js';
import { ZoneTable } from '../zone/table.js';
import { attachDbPrimary, DbKeyStore } from './primary.js';
import { ZoneSigner } from './signer.js';
import { startZoneFeed, type ZoneFeed } from './zones.js';

const ZONE = 'rehearsal.dmsd.example.';
const KEY = 'rehearsal.key';

/**
 * Rehearse `updates` signed UPDATEs (added, then removed again) on a throwaway signed zone, then make the served
 * store ready for its own: the statements the rehearsal ran compiled and prepared for it, and the rows a change of
 * each signed zone reads first (its apex: the SOA's version, the owner's records and the signer's) read once, up to
 * `zones` zones. Returns what it did.
 */
export async function rehearseChangePath(
  log: Logger,
  served: Store,
  o: { updates?: number; zones?: number } = {},
): Promise<{ updates: number; statements: number; zones: number; ms: number; dir: string }> {
  const started = performance.now();
  const updates = o.updates ?? 30;
  const dir = mkdtempSync(join(tmpdir(), 'dmsd-rehearsal-'));
  // dmsd stopping meanwhile leaves no directory behind.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const quiet = pino({ level: log.level }, pino.destination({ dest: '/dev/null', sync: true }));
  let store: Store | undefined;
  let feed: ZoneFeed | undefined;
  try {
    store = await openStore({ dataDir: dir });
    const ctx = services.serviceContext(store, { kek: services.kekFile(join(dir, 'dnssec-kek')), actor: 'dmsd rehearsal' });
    await services.setConfig(ctx, 'use_apex_ns', 'false');
    // inc_updates on: the store's default is off, and an UPDATE refused for it rehearses only the refusal.
    await services.createZone(ctx, ZONE, { flags: { incUpdates: true }, text: '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n' });
    const secret = randomBytes(32);
    await services.createTsigKey(ctx, KEY, { secret });
    await services.addUpdateGrant(ctx, ZONE, `grant ${KEY} zonesub A`);
    await call(ctx, 'set_zone_dnssec_policy', { zone: ZONE, policy: 'default' });
    const table = new ZoneTable();
    const signer = new ZoneSigner(ctx, quiet);
    feed = await startZoneFeed(store, table, quiet, { signer });
    const keys = new DbKeyStore(store, quiet);
    await keys.reload();
    const handler = new QueryHandler(table, {});
    attachDbPrimary(handler, table, store, keys, quiet, feed.refresh);
    const key = keyFromText(`hmac-sha256:${KEY}:${secret.toString('base64')}`);
    const origin = Name.parse(ZONE);
    const meta = { transport: 'udp' as const, address: '127.0.0.1', port: 53 };
    for (let i = 0; i < updates; i++) {
      // Each name added, then removed by the next UPDATE: both directions of the signer's chain change.
      const m = emptyMessage(i);
      m.opcode = Opcode.UPDATE;
      m.question.push({ name: origin, type: RRType.SOA, class: RRClass.IN });
      const owner = Name.parse(`h${i >> 1}.${ZONE}`);
      const rdata = Uint8Array.of(192, 0, 2, 10 + (i >> 1));
      m.authority.push(i % 2 === 0 ? { name: owner, type: RRType.A, class: RRClass.IN, ttl: 300, rdata } : { name: owner, type: RRType.A, class: RRClass.NONE, ttl: 0, rdata });
      const answer = await handler.handle(signMessage(encodeMessage(m), key, Math.floor(Date.now() / 1000)).bytes, meta);
      // Applied, or this rehearsed something else than the change path (a refusal costs almost nothing to rehearse).
      const rcode = answer instanceof Uint8Array && answer.length >= 12 ? answer[3] & 0x0f : -1;
      if (rcode !== 0) throw new Error(`rehearsal UPDATE ${i} answered rcode ${rcode}`);
      // A DO=1 query of what changed, as a resolver asks right after.
      const q = emptyMessage(i);
      q.question.push({ name: owner, type: RRType.A, class: RRClass.IN });
      q.edns = { udpSize: 1232, extRcode: 0, version: 0, do: true, flags: 0, options: [] };
      await handler.handle(encodeMessage(q), meta);
    }
    const statements = warmPreparedStatements(served.db);
    const real = services.serviceContext(served);
    let zones = 0;
    for (const name of (await services.signedZoneNames(real)).slice(0, o.zones ?? 100)) {
      const head = await services.publishedVersion(real, name);
      if (!head) continue;
      const apex = Name.parse(name).key;
      await services.getUpdateScope(real, name, [apex]);
      // A change's signer rows are read at its owners: the apex, the name changed and its chain neighbours (one
      // statement per count of owners; names under the apex that may not exist are read as nothing).
      const others = [1, 2, 3].map((i) => Name.parse(`dmsd-rehearsal-${i}.${name}`).key);
      for (let n = 0; n <= others.length; n++) await services.signerChangeOwners(real, head.zoneId, head.version, head.version, [apex, ...others.slice(0, n)]);
      // Whom a change of the zone NOTIFYs (read after each change; the rehearsal's store has no NOTIFY duty).
      await services.zoneNotifyTargets(real, name);
      zones++;
    }
    return { updates, statements, zones, ms: Math.round(performance.now() - started), dir };
  } finally {
    await feed?.stop().catch(() => {});
    await store?.close().catch(() => {});
    process.removeListener('exit', removeDir);
    removeDir();
  }
}

let running: Promise<void> | undefined;
let again = false;
/** The served store and log rehearsals are for (set by the first request). */
let target: { log: Logger; served: Store } | undefined;

/**
 * Rehearse now when the served store has signed zones, or once more after the rehearsal under way (a large signed
 * zone served whole — its load or full sign ran many collections since — asks for one again). Logs what it did;
 * resolves when done (never rejects).
 */
export function requestRehearsal(log: Logger, served: Store): Promise<void> {
  target = { log, served };
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const t = target;
      if (!t) break;
      try {
        if ((await services.signedZoneIds(services.serviceContext(t.served))).size === 0) continue;
        t.log.info(await rehearseChangePath(t.log, t.served), 'change path rehearsed');
      } catch (e) {
        t.log.warn({ err: (e as Error).message }, 'change path rehearsal failed (no harm done: the first UPDATE is slower)');
      }
    } while (again);
    running = undefined;
  })();
  return running;
}
