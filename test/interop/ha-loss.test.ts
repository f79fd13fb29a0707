// What losing the primary's PostgreSQL costs (issue 13, docs/HA.md "Synchronous or asynchronous replication"), with
// real clusters on loopback: a steady stream of TSIG-signed UPDATEs (4 in flight) to a dmsd on the primary; the
// replication lag measured all along (the primary's flushed WAL position, then how long until the standby has
// received it); then the link to the standby stalls (the primary's WAL sender stopped with SIGSTOP, as a congested
// network) for STALL_MS while the stream goes on, the primary is killed abruptly (SIGQUIT to the postmaster: immediate
// shutdown; the stalled sender killed), the standby promoted (promote_replica), and the acknowledged (NOERROR)
// UPDATEs looked for on the promoted side through the dmsd that ran there as a replica.
//   - asynchronous replication: UPDATEs acknowledged during the stall are lost (the test sees the loss), and every
//     missing one was acknowledged within the replication lag at the kill: after the last moment the standby was
//     measured to have everything, and within the lag the replica itself reported (/health, as show_dms_status);
//   - synchronous replication: the stall stalls the acknowledgements, and nothing acknowledged is missing.
// Both print what they measured.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { Rcode } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { type Server, startDmsdOn, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { listeningPort } from '../helpers/dmsd-db.support.js';
import { httpGet, soa, tool, txt, updateRcode, type Where } from '../helpers/ha.support.js';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../helpers/pg-replica.js';
import { until } from '../helpers/secondaries.js';

const ZONE = Name.from('loss.example');
const IN_FLIGHT = 4;
const STREAM_MS = 2000;
const STALL_MS = 1500;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] : 0;
};

for (const synchronous of [false, true]) {
  const mode = synchronous ? 'synchronous' : 'asynchronous';
  describe(`${mode} replication: the primary's PostgreSQL killed during a stream of UPDATEs`, { timeout: 120_000 }, () => {
    let cluster: ReplicatedPostgres | undefined;
    const servers: Server[] = [];
    const dirs: string[] = [];
    after(async () => {
      for (const s of servers) s.proc.kill('SIGKILL');
      await cluster?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test(`${mode}: acknowledged UPDATEs lost ${synchronous ? 'none' : 'only within the measured replication lag'}`, async () => {
      cluster = await startReplicatedPostgres({ synchronous });
      const db = await cluster.createDatabase();
      const d1 = mkdtempSync(join(tmpdir(), 'dms-haloss-p-'));
      const d2 = mkdtempSync(join(tmpdir(), 'dms-haloss-s-'));
      dirs.push(d1, d2);
      const P: Where = { dataDir: d1, databaseUrl: cluster.primaryUrl(db) };
      const S: Where = { dataDir: d2, databaseUrl: cluster.standbyUrl(db) };
      zoneTool(P, ['create_zone', '-i', ZONE.toString()]);
      const key = zoneToolKey(P, 'loss._update.loss.example');
      const primary = await startDmsdOn(P, ['--no-http']);
      servers.push(primary);
      const replica = await startDmsdOn(S, ['--http', '127.0.0.1:0']);
      servers.push(replica);
      const httpPort = await listeningPort(replica, 'http');
      await until('the replica serves the zone', async () => (await soa(replica.port, ZONE)).serial !== undefined, replica.output, 15_000);

      // The replication lag, measured all along: the primary's flushed WAL position (read after `asked`), then until
      // when the standby had not received it. Everything committed before `asked` of a confirmed sample is on the
      // standby: what a lost primary can take with it was committed after the last confirmed `asked`.
      const pc = new pg.Client({ connectionString: cluster.primaryUrl() });
      const sc = new pg.Client({ connectionString: cluster.standbyUrl() });
      await pc.connect();
      await sc.connect();
      pc.on('error', () => {});
      const lags: { asked: number; ms: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          try {
            const asked = Date.now();
            const lsn = (await pc.query<{ l: string }>('select pg_current_wal_flush_lsn()::text as l')).rows[0].l;
            for (;;) {
              const r = await sc.query<{ ok: boolean }>(`select pg_last_wal_receive_lsn() >= '${lsn}'::pg_lsn as ok`);
              if (r.rows[0]?.ok) {
                lags.push({ asked, ms: Date.now() - asked });
                break;
              }
              if (!sampling) break;
              await new Promise((r) => setTimeout(r, 5));
            }
          } catch {
            break; // the primary is gone
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      // The stream: IN_FLIGHT senders; an update is acknowledged by a verified NOERROR (its time noted).
      const ackedAt = new Map<number, number>();
      let next = 1;
      let stop = false;
      const started = Date.now();
      const sender = async () => {
        while (!stop) {
          const i = next++;
          const r = await updateRcode(primary, key, i, ZONE, 3000);
          if (r === Rcode.NOERROR) ackedAt.set(i, Date.now());
        }
      };
      const senders = Array.from({ length: IN_FLIGHT }, sender);
      await until('a steady stream', () => Date.now() - started > STREAM_MS && ackedAt.size >= 30, () => primary.output(), 60_000, 20);
      const steady = lags.filter((l) => l.asked >= started).map((l) => l.ms);
      // What the replica reports while it keeps up under the stream.
      const steadyReported = (JSON.parse((await httpGet(httpPort, '/health')).body) as { replication?: { lagSeconds: number } }).replication?.lagSeconds;
      // The link stalls: the WAL sender stopped.
      const sender0 = (await cluster.primarySql<{ pid: number }>('select pid from pg_stat_replication'))[0]?.pid;
      assert.ok(sender0, 'a WAL sender');
      process.kill(sender0, 'SIGSTOP');
      const stalled = Date.now();
      const ackedBeforeStall = ackedAt.size;
      await new Promise((r) => setTimeout(r, STALL_MS));
      // What the replica says just before the loss (its /health carries show_dms_status's replication state).
      const hAt = Date.now();
      const h = JSON.parse((await httpGet(httpPort, '/health')).body) as { replication?: { lagSeconds: number } };
      const reported = h.replication?.lagSeconds ?? 0;
      const killedAt = cluster.killPrimary();
      process.kill(sender0, 'SIGKILL');
      stop = true;
      await Promise.all(senders); // the updates in flight get their answer (or none: not acknowledged)
      sampling = false;
      await sampler;
      await pc.end().catch(() => {});
      await sc.end();
      const ackedDuringStall = ackedAt.size - ackedBeforeStall;

      // Promote the standby; its dmsd becomes the writable primary.
      const pr = tool(S, ['--json', 'promote_replica']);
      assert.equal(pr.code, 0, pr.out);
      const promo = JSON.parse(pr.out) as { promoted: boolean; allReceivedReplayed: boolean; before: { lagSeconds: number } };
      assert.deepEqual([promo.promoted, promo.allReceivedReplayed], [true, true], pr.out);
      // A change through the promoted side, served: the replica's feed has then passed everything before it.
      let probe = 1_000_000;
      await until('the promoted side accepts an UPDATE', async () => (await updateRcode(replica, key, probe++, ZONE)) === Rcode.NOERROR, replica.output, 20_000, 200);
      await until('and serves it', async () => (await txt(replica.port, `u${probe - 1}`, ZONE)).length === 1, replica.output, 5000);

      const missing: { i: number; at: number }[] = [];
      for (const [i, at] of ackedAt) if ((await txt(replica.port, `u${i}`, ZONE)).length === 0) missing.push({ i, at });
      // The last moment the standby was measured to have everything the primary had flushed.
      const confirmed = Math.max(0, ...lags.filter((l) => l.asked + l.ms <= killedAt).map((l) => l.asked));
      const windowMs = killedAt - confirmed;
      const oldest = missing.length ? Math.max(...missing.map((m) => killedAt - m.at)) : 0;
      console.log(
        `# ${mode}: ${ackedAt.size} UPDATEs acknowledged (${ackedDuringStall} during the ${STALL_MS} ms stall), ${missing.length} missing after the kill and promotion` +
          `${missing.length ? `, acknowledged ${Math.min(...missing.map((m) => killedAt - m.at))}–${oldest} ms before the kill` : ''}; ` +
          `replication lag before the stall: ${steady.length} samples, median ${pct(steady, 50)} ms, max ${Math.max(0, ...steady)} ms, the replica reported ${steadyReported} s; ` +
          `at the kill: ${windowMs} ms since the standby was last seen complete, the replica reported ${reported} s; promote_replica saw ${promo.before.lagSeconds} s`,
      );
      assert.ok(steady.length >= 3, `the lag was measured (${steady.length} samples)`);
      assert.ok(steadyReported !== undefined && steadyReported < 5, `a replica keeping up reports a small lag (${steadyReported} s)`);
      // The replica's own report covers the stall (its lag counts from its last message from the primary).
      assert.ok(reported * 1000 >= hAt - stalled - 1000, `the replica reported ${reported} s after a ${hAt - stalled} ms stall`);
      if (synchronous) {
        assert.deepEqual(missing, [], 'synchronous replication: no acknowledged UPDATE lost');
      } else {
        assert.ok(ackedDuringStall > 0 && missing.length > 0, 'asynchronous replication: UPDATEs acknowledged during the stall are lost');
        for (const m of missing) {
          assert.ok(m.at >= confirmed, `u${m.i} acknowledged ${killedAt - m.at} ms before the kill, before the standby was last seen complete (${windowMs} ms)`);
          assert.ok(m.at >= hAt - reported * 1000 - 250, `u${m.i} acknowledged ${killedAt - m.at} ms before the kill, outside the lag the replica reported (${reported} s)`);
        }
      }
    });
  });
}
