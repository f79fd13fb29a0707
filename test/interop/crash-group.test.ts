// Crash safety of group commit: 8 clients send TSIG-signed UPDATEs to one zone of a real dmsd at once (so dmsd commits
// them in groups), `kill -9` at a random moment, restart on the same data, and check:
//   - every UPDATE answered NOERROR is there (served over DNS and in the stored newest version);
//   - an UPDATE in flight at the kill is wholly there or wholly absent (each adds two names: both or neither);
//   - nothing that was never sent is there; the stored history has no gaps and every version is a prefix-closed
//     set per client (client c's update i is never stored without its update i-1: each client waits for its answers);
//   - groups really happened (fewer versions than committed updates), and the restarted dmsd takes updates again.
// On SQLite (`--data`) and on a real PostgreSQL.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { type TsigKey, signMessage, verifyResponse } from '../../src/dns/tsig.js';
import * as services from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { type Server, startDmsdOn, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { ctxOf } from '../helpers/context.js';
import { query, tcpExchange, udpExchange } from '../helpers/dns-client.js';
import { startPostgres } from '../helpers/postgres.js';
import { rrText } from '../helpers/xfr.support.js';

const ZONE = Name.from('group.example');
const KEY_NAME = 'g._update.group.example';
const CLIENTS = 8;

type Where = { dataDir: string; databaseUrl?: string };
type Outcome = 'acked' | 'refused' | 'unknown';

function updateMessage(c: number, i: number, key: TsigKey): { bytes: Uint8Array; mac: Uint8Array; id: number } {
  const m = emptyMessage((c * 4099 + i * 7) & 0xffff);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: ZONE, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [rrText(`c${c}-${i}a 300 TXT v`, ZONE), rrText(`c${c}-${i}b 300 TXT v`, ZONE)];
  return { ...signMessage(encodeMessage(m), key, Date.now() / 1000), id: m.id };
}

async function send(server: Server, key: TsigKey, c: number, i: number, killed: Promise<void>): Promise<Outcome> {
  const req = updateMessage(c, i, key);
  let bytes: Uint8Array;
  try {
    const exchange = c % 2 === 0 ? udpExchange(server.port, req.bytes, 5000) : tcpExchange(server.tcpPort, req.bytes, 5000);
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

/** Per client: the updates 1..n found in a record set (names c<c>-<i>a/b), checking a/b pairs and prefixes. */
function committedPerClient(names: ReadonlySet<string>, what: string): number[] {
  const out: number[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    let n = 0;
    while (names.has(`c${c}-${n + 1}a`)) {
      assert.ok(names.has(`c${c}-${n + 1}b`), `${what}: c${c}-${n + 1}a without its b (an UPDATE half applied)`);
      n++;
    }
    assert.ok(!names.has(`c${c}-${n + 1}b`), `${what}: c${c}-${n + 1}b without its a`);
    for (const x of names) {
      const m = /^c(\d+)-(\d+)[ab]$/.exec(x);
      if (m && Number(m[1]) === c) assert.ok(Number(m[2]) <= n, `${what}: ${x} stored but c${c}-${n + 1} is not (a gap)`);
    }
    out.push(n);
  }
  return out;
}

async function served(server: Server, c: number, i: number): Promise<boolean> {
  const a = await query(server.port, { name: Name.parse(`c${c}-${i}b`, ZONE), type: RRType.TXT });
  return a.msg?.rcode === Rcode.NOERROR && (a.msg?.answer.length ?? 0) > 0;
}

async function waitServed(server: Server): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const a = await query(server.port, { name: ZONE, type: RRType.SOA }).catch(() => undefined);
    if (a?.msg?.rcode === Rcode.NOERROR && a.msg.answer.length > 0) return;
    if (Date.now() > deadline) assert.fail(`${ZONE} is not served after the start:\n${server.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function round(where: Where, key: TsigKey, start: number[]): Promise<{ acked: number[]; sent: number[]; total: number }> {
  const server = await startDmsdOn(where);
  try {
    await waitServed(server);
    let onKill = () => {};
    const killed = new Promise<void>((res) => {
      onKill = res;
    });
    let isKilled = false;
    let timer: NodeJS.Timeout | undefined;
    let total = 0;
    const acked = [...start];
    const sent = [...start];
    const client = async (c: number) => {
      for (let i = start[c] + 1; !isKilled; i++) {
        sent[c] = i;
        const o = await send(server, key, c, i, killed);
        if (o === 'unknown') {
          assert.ok(isKilled, `c${c}-${i} got no answer before the kill:\n${server.output()}`);
          return;
        }
        assert.equal(o, 'acked', `c${c}-${i} refused:\n${server.output()}`);
        acked[c] = i;
        total++;
        timer ??= setTimeout(
          () => {
            isKilled = true;
            server.proc.kill('SIGKILL');
            onKill();
          },
          300 + Math.floor(Math.random() * 700),
        );
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    clearTimeout(timer);
    return { acked, sent, total };
  } finally {
    await server.stop();
  }
}

async function crashGroups(where: Where, rounds: number): Promise<string> {
  const key = (() => {
    zoneTool(where, ['create_zone', '-i', ZONE.toString()]);
    return zoneToolKey(where, KEY_NAME);
  })();
  let committed = Array.from({ length: CLIENTS }, () => 0);
  const notes: string[] = [];
  for (let r = 1; r <= rounds; r++) {
    const res = await round(where, key, committed);
    // The stored newest version after the kill.
    const store = await openStore(where);
    let after: number[];
    let versions: number;
    try {
      const content = await services.getZoneContent(ctxOf(store), ZONE.toString(), 'latest');
      after = committedPerClient(new Set(content.records.map((x) => x.name.toRelativeString(ZONE))), `round ${r}, stored`);
      const zis = (await services.listZis(ctxOf(store), ZONE.toString())).sort((a, b) => a.version - b.version);
      versions = zis.length;
      assert.deepEqual(zis.map((z) => z.version), Array.from({ length: zis.length }, (_, k) => k + 1), 'versions without gaps');
      for (let k = 1; k < zis.length; k++) assert.ok(zis[k].soaSerial > zis[k - 1].soaSerial, `serials increase (v${zis[k].version})`);
      // Every stored version is a consistent prefix per client (sampled).
      for (let v = 2; v <= zis.length; v += Math.max(1, Math.floor(zis.length / 8))) {
        const c = await services.getZoneContent(ctxOf(store), ZONE.toString(), { version: v });
        committedPerClient(new Set(c.records.map((x) => x.name.toRelativeString(ZONE))), `round ${r}, v${v}`);
      }
    } finally {
      await store.close();
    }
    for (let c = 0; c < CLIENTS; c++) {
      assert.ok(after[c] >= res.acked[c], `round ${r}: client ${c}'s acknowledged update ${res.acked[c]} is stored (found up to ${after[c]})`);
      assert.ok(after[c] <= res.sent[c], `round ${r}: client ${c} has ${after[c]} stored but sent only ${res.sent[c]}`);
    }
    const totalStored = after.reduce((a, b) => a + b, 0);
    notes.push(`round ${r}: ${res.total} acknowledged, ${totalStored} stored in ${versions - 1} versions`);
    committed = after;
  }
  // Restart: served as stored, and updates are taken again.
  const server = await startDmsdOn(where);
  try {
    await waitServed(server);
    for (let c = 0; c < CLIENTS; c++) {
      if (committed[c] > 0) assert.ok(await served(server, c, committed[c]), `c${c}-${committed[c]} served after the restart`);
      assert.ok(!(await served(server, c, committed[c] + 1)), `c${c}-${committed[c] + 1} not served`);
    }
    assert.equal(await send(server, key, 0, committed[0] + 1, new Promise(() => {})), 'acked');
    assert.ok(await served(server, 0, committed[0] + 1), 'the update after the restart is served');
  } finally {
    await server.stop();
  }
  return notes.join('; ');
}

describe('crash safety of group commit: kill -9 while 8 clients update one zone', () => {
  test('dmsd --data DIR (SQLite): 3 rounds', { timeout: 180_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dms-crash-group-'));
    try {
      const notes = await crashGroups({ dataDir }, 3);
      t.diagnostic(notes);
      // Group commit happened: some version holds more than one UPDATE.
      const m = [...notes.matchAll(/(\d+) stored in (\d+) versions/g)].map((x) => [Number(x[1]), Number(x[2])]);
      const [stored, versions] = m[m.length - 1];
      assert.ok(versions < stored, `${stored} updates in ${versions} versions: no group was committed`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('dmsd on PostgreSQL: 2 rounds', { timeout: 180_000 }, async (t) => {
    const pg = await startPostgres();
    const dataDir = mkdtempSync(join(tmpdir(), 'dms-crash-group-pg-'));
    try {
      t.diagnostic(await crashGroups({ dataDir, databaseUrl: await pg.createDatabase() }, 2));
    } finally {
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
