// Crash safety: a stream of TSIG-signed UPDATEs to a server PROCESS that keeps zones in the database, `kill -9` at a
// random moment, restart on the same data directory, and check (several rounds on the same data):
//   - every update that was answered NOERROR is there (served over DNS, and in the stored zone);
//   - the one update in flight at the kill is either wholly there or wholly absent;
//   - the history is intact: one ZI per committed update, versions 1..n without gaps, serials increasing, change_by =
//     the key, every sampled ZI holding exactly the first k updates;
//   - the zone is served at the published serial, and the restarted server accepts updates again.
// Update i adds `u<i> TXT "i"` and replaces the RRset `counter TXT` with "i": the zone after k commits is known exactly.
// Updates go one at a time, alternately over UDP and TCP, signed with a key stored by zone_tool.
//
// The process is dmsd itself (`dmsd --data DIR --listen 127.0.0.1:0` on SQLite, and with --database-url on a
// PostgreSQL that keeps running: only dmsd is killed); zone and key are made with zone_tool.
// A self-check runs the same rounds against a deliberately unsafe server (test/fixtures/acme/durable-primary.ts with
// --write-behind-ms: answers from memory, writes later) and expects the harness to catch the lost updates.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { generateTsigKey, type TsigKey, signMessage, verifyResponse } from '../../src/dns/tsig.js';
import * as services from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { DURABLE_PRIMARY, type Server, spawnServer, startDmsdOn, ZONE_TOOL, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { query, tcpExchange, udpExchange } from '../helpers/dns-client.js';
import { startPostgres } from '../helpers/postgres.js';
import { rrText } from '../helpers/xfr.support.js';
import { ctxOf } from '../helpers/context.js';

const ZONE = Name.from('crash.example');
/** The ocaml-dns key convention: a key named `<x>._update.<zone>` may change the whole zone, no grant needed. */
const KEY_NAME = 'crash._update.crash.example';
const ROUNDS = 4;

interface Target {
  /** Create the zone (inc_updates on) and the key in a fresh database. */
  setup(where: Where): TsigKey;
  start(where: Where, key: TsigKey): Promise<Server>;
}

type Where = { dataDir: string; databaseUrl?: string };

/** The deliberately unsafe server of the self-check: it answers at once and writes to the database `delayMs` later. */
const writeBehind = (delayMs: number): Target => ({
  setup(where) {
    zoneTool(where, ['create_zone', '-i', ZONE.toString()]);
    return generateTsigKey(Name.from(KEY_NAME));
  },
  start: (where, key) =>
    spawnServer(
      ['--import', 'tsx', DURABLE_PRIMARY, '--data', where.dataDir, '--key', `${key.algorithm}:${key.name}:${Buffer.from(key.secret).toString('base64')}`, '--write-behind-ms', String(delayMs)],
      'durable-primary',
    ),
});

const dmsd: Target = {
  setup(where) {
    zoneTool(where, ['create_zone', '-i', ZONE.toString()]);
    return zoneToolKey(where, KEY_NAME);
  },
  start: (where) => startDmsdOn(where),
};

// ---- the update stream ------------------------------------------------------------------------------------------

const r = (t: string) => rrText(t, ZONE);

function updateMessage(i: number, key: TsigKey): { bytes: Uint8Array; mac: Uint8Array; id: number } {
  const m = emptyMessage((i * 7919) & 0xffff);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: ZONE, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [r(`u${i} 300 TXT v${i}`), r('counter 0 ANY TXT'), r(`counter 300 TXT v${i}`)];
  const signed = signMessage(encodeMessage(m), key, Date.now() / 1000);
  return { ...signed, id: m.id };
}

type Outcome = 'acked' | 'refused' | 'unknown';

/**
 * Send update i (odd ones over UDP like nsupdate and lego, even ones over TCP); 'acked' only for a signed NOERROR
 * answer, 'unknown' when no answer came (or the server was killed, `killed` resolving, while we waited).
 */
async function sendUpdate(server: Server, key: TsigKey, i: number, killed: Promise<void> = new Promise(() => {})): Promise<Outcome> {
  const req = updateMessage(i, key);
  let bytes: Uint8Array;
  try {
    const exchange = i % 2 === 1 ? udpExchange(server.port, req.bytes, 5000) : tcpExchange(server.tcpPort, req.bytes, 5000);
    bytes = await Promise.race([exchange, killed.then(() => Promise.reject(new Error('killed')))]);
  } catch {
    return 'unknown';
  }
  const resp = decodeMessage(bytes);
  assert.equal(resp.id, req.id);
  assert.ok(resp.tsigOffset !== undefined, 'the answer is signed');
  assert.equal(verifyResponse(bytes, resp.tsigOffset, key, req.mac, Date.now() / 1000), 0, 'the answer verifies');
  return resp.rcode === Rcode.NOERROR ? 'acked' : 'refused';
}

interface StreamResult {
  acked: number[];
  /** The update whose answer was lost to the kill (may or may not be committed). */
  inFlight?: number;
}

/**
 * Send updates first, first+1, … one after the other until the server is killed, `killAfterMs` after the first
 * acknowledgement (so a slow first answer on a loaded machine still leaves acknowledged updates to check).
 */
async function streamUntilKilled(server: Server, key: TsigKey, first: number, killAfterMs: number): Promise<StreamResult> {
  const acked: number[] = [];
  let killed = false;
  let onKill = () => {};
  const killedP = new Promise<void>((res) => {
    onKill = res;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    for (let i = first; ; i++) {
      const o = await sendUpdate(server, key, i, killedP);
      if (o === 'acked') {
        acked.push(i);
        timer ??= setTimeout(() => {
          killed = true;
          server.proc.kill('SIGKILL');
          onKill();
        }, killAfterMs);
      }
      else if (o === 'unknown') {
        assert.ok(killed, `update ${i} got no answer before the kill:\n${server.output()}`);
        return { acked, inFlight: i };
      } else assert.fail(`update ${i} was refused:\n${server.output()}`);
      if (killed) return { acked };
    }
  } finally {
    clearTimeout(timer);
    await server.stop();
  }
}

// ---- checks -----------------------------------------------------------------------------------------------------

const txtOf = (rrs: readonly RR[], name: string) =>
  rrs.filter((x) => x.type === RRType.TXT && x.name.equals(Name.parse(name, ZONE))).map((x) => rdataToText(RRType.TXT, x.rdata));

/** Wait until the zone is answered (a server may start listening before it has loaded its zones). */
async function waitServed(server: Server): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const a = await query(server.port, { name: ZONE, type: RRType.SOA }).catch(() => undefined);
    if (a?.msg?.rcode === Rcode.NOERROR && a.msg.answer.length > 0) return;
    if (Date.now() > deadline) assert.fail(`${ZONE} is not served after the start:\n${server.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Served over DNS: the SOA serial, the counter, u1..un present and u(n+1) absent. Returns n (updates committed). */
async function checkServed(port: number): Promise<{ n: number; serial: number }> {
  const soa = await query(port, { name: ZONE, type: RRType.SOA });
  assert.equal(soa.msg?.rcode, Rcode.NOERROR, 'the zone is served');
  const soaRR = soa.msg?.answer.find((x) => x.type === RRType.SOA);
  assert.ok(soaRR, 'SOA answered');
  const serial = Number(rdataToText(RRType.SOA, soaRR.rdata, ZONE).split(/\s+/)[2]);
  const counter = await query(port, { name: Name.parse('counter', ZONE), type: RRType.TXT });
  const values = txtOf(counter.msg?.answer ?? [], 'counter');
  if (values.length === 0) return { n: 0, serial };
  assert.equal(values.length, 1, `counter is one record: ${values.join(' ')}`);
  const n = Number(/^"v(\d+)"$/.exec(values[0])?.[1]);
  assert.ok(Number.isInteger(n) && n > 0, `counter value ${values[0]}`);
  for (let i = 1; i <= n; i++) {
    const a = await query(port, { name: Name.parse(`u${i}`, ZONE), type: RRType.TXT });
    assert.deepEqual(txtOf(a.msg?.answer ?? [], `u${i}`), [`"v${i}"`], `u${i} is served`);
  }
  const next = await query(port, { name: Name.parse(`u${n + 1}`, ZONE), type: RRType.TXT });
  assert.equal(next.msg?.rcode, Rcode.NXDOMAIN, `u${n + 1} is not there`);
  return { n, serial };
}

/** The stored history: ZI 1 (created) then one ZI per update 1..n, each exactly the first k updates. */
async function checkHistory(where: Where, n: number, servedSerial: number): Promise<void> {
  const store = await openStore(where);
  try {
    const zis = (await services.listZis(ctxOf(store), ZONE.toString())).sort((a, b) => a.version - b.version);
    assert.deepEqual(zis.map((z) => z.version), Array.from({ length: n + 1 }, (_, k) => k + 1), 'versions 1..n+1, no gaps');
    for (let k = 1; k < zis.length; k++) {
      assert.ok(zis[k].soaSerial > zis[k - 1].soaSerial, `serials increase (v${zis[k].version})`);
      assert.equal(zis[k].changeBy, KEY_NAME, `change_by of v${zis[k].version}`);
    }
    const last = zis[zis.length - 1];
    assert.ok(last.published, 'the newest ZI is published');
    assert.equal(last.soaSerial, servedSerial, 'served serial = published serial');
    // every ZI when there are few, else the first, the last and a spread between
    const sample = new Set<number>([1, n + 1]);
    for (let k = 1; k <= n + 1; k += Math.max(1, Math.floor(n / 12))) sample.add(k);
    for (const v of sample) {
      const c = await services.getZoneContent(ctxOf(store), ZONE.toString(), { version: v });
      const k = v - 1;
      const us = c.records.filter((x) => /^u\d+$/.test(x.name.toRelativeString(ZONE)));
      assert.equal(us.length, k, `v${v} holds ${k} u-records`);
      for (let i = 1; i <= k; i++) assert.deepEqual(txtOf(c.records, `u${i}`), [`"v${i}"`], `v${v}: u${i}`);
      assert.deepEqual(txtOf(c.records, 'counter'), k === 0 ? [] : [`"v${k}"`], `v${v}: counter`);
    }
  } finally {
    await store.close();
  }
}

interface RoundsReport {
  /** Acknowledged updates per round. */
  acked: number[];
  /** Per round: was the update in flight at the kill found committed after the restart ('-' when none was)? */
  inFlight: string[];
}

async function crashRounds(target: Target, rounds = ROUNDS, databaseUrl?: string): Promise<RoundsReport> {
  const report: RoundsReport = { acked: [], inFlight: [] };
  let pendingInFlight: number | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'dms-crash-'));
  const where: Where = databaseUrl ? { dataDir, databaseUrl } : { dataDir };
  try {
    const key = target.setup(where);
    let next = 1;
    const allAcked: number[] = [];
    for (let round = 1; round <= rounds + 1; round++) {
      const server = await target.start(where, key);
      let stopped = false;
      try {
        await waitServed(server);
        const { n, serial } = await checkServed(server.port);
        // every acknowledged update is there; the one in flight at the kill is there or not (nothing else)
        const lastAcked = allAcked.length > 0 ? allAcked[allAcked.length - 1] : 0;
        assert.ok(n === lastAcked || n === next - 1, `round ${round}: ${n} updates committed; acknowledged up to ${lastAcked}, sent up to ${next - 1}`);
        if (round > 1) report.inFlight.push(pendingInFlight === undefined ? '-' : n === pendingInFlight ? 'committed' : 'lost');
        await checkHistory(where, n, serial);
        next = n + 1;
        if (round > rounds) {
          // after the last restart: the server takes updates again
          assert.equal(await sendUpdate(server, key, next), 'acked');
          // served as soon as it is answered (dmsd reloads the zone in the answering process before it answers)
          assert.equal((await checkServed(server.port)).n, next, 'the update after the restart is served');
          // and the operator's view agrees: zone_tool reads every version and the newest content
          const zis = zoneTool(where, ['ls_zi', ZONE.toString()]).split('\n').filter((l) => /^\s*\*?\d+\s+\d+\s/.test(l));
          assert.equal(zis.length, next + 1, 'zone_tool ls_zi lists every version');
          assert.match(zoneTool(where, ['show_zone', ZONE.toString()]), new RegExp(`^counter\\s.*TXT\\s+"v${next}"$`, 'm'));
          break;
        }
        const killAfter = 150 + Math.floor(Math.random() * 600);
        const res = await streamUntilKilled(server, key, next, killAfter);
        stopped = true;
        allAcked.push(...res.acked);
        report.acked.push(res.acked.length);
        pendingInFlight = res.inFlight;
        next = (res.inFlight ?? res.acked[res.acked.length - 1]) + 1;
      } finally {
        if (!stopped) await server.stop();
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return report;
}

describe('crash safety: kill -9 in the middle of a stream of updates', () => {
  test(`dmsd --data DIR: ${ROUNDS} rounds of updates, kill -9, restart`, { timeout: 120_000 }, async (t) => {
    assert.ok(existsSync(ZONE_TOOL), 'bin/zone_tool');
    const r = await crashRounds(dmsd);
    t.diagnostic(`acknowledged per round before the kill: ${r.acked.join(', ')}; update in flight: ${r.inFlight.join(', ')}`);
  });

  test('dmsd on PostgreSQL: 3 rounds of updates, kill -9, restart', { timeout: 120_000 }, async (t) => {
    const pgServer = await startPostgres();
    try {
      const r = await crashRounds(dmsd, 3, await pgServer.createDatabase());
      t.diagnostic(`acknowledged per round before the kill: ${r.acked.join(', ')}; update in flight: ${r.inFlight.join(', ')}`);
    } finally {
      await pgServer.stop();
    }
  });

  test('self-check: a server that answers before the update is on disk is caught', { timeout: 60_000 }, async () => {
    await assert.rejects(crashRounds(writeBehind(60_000), 1), (e: Error) => {
      assert.match(e.message, /updates committed; acknowledged up to [1-9]/);
      return true;
    });
  });
});
