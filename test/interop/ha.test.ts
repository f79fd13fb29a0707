// High availability (issue 13) with real PostgreSQL clusters on loopback: a primary and a hot standby made with
// pg_basebackup -R (streaming replication, synchronous: the primary's commits wait for the standby), real dmsd
// processes, TSIG-signed UPDATEs, and a named secondary.
//   - two dmsd on the primary: exactly one leads (show_dms_status says which, since when); kill -9 the leader during
//     a stream of signed UPDATEs → the other leads within 10 s, every NOERROR-acknowledged UPDATE is there, NOTIFYs
//     resume (named, listing both dmsd as primaries, reaches the final serial); the follower sent no NOTIFY before;
//   - a leader whose lease session is ended (pg_terminate_backend) stops leading at once;
//   - a dmsd on the standby serves each change within a second of the primary's acknowledgement, and refuses
//     changes: zone_tool (READ_ONLY_REPLICA, "read-only replica") and UPDATE (REFUSED);
//   - promote_replica on the standby: its dmsd becomes writable and leads, serials continue upward, a NOTIFY reaches
//     a named secondary whose first primary (the old site) is dead; the old primary's dmsd (still up, started with
//     --peer-database-url) sees the newer epoch, stops leading and refuses UPDATEs, with --workers too.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { type Server, startDmsdOn, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { query } from '../helpers/dns-client.js';
import { updateRcode as haUpdateRcode, txt as haTxt, soa, tool, type Where } from '../helpers/ha.support.js';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../helpers/pg-replica.js';
import { type Secondary, startNamedSecondary, until, logged } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';
import * as svc from '../../src/services/index.js';
import { ctxOf, manualClock } from '../helpers/context.js';
import { testBackends } from '../helpers/postgres.js';

const ZONE = Name.from('ha.example');
const KEY_NAME = 'ha._update.ha.example';
const LEADS = 'leader lease taken: this dmsd leads';

const SIGNED = Name.from('signed.example');

/** Send update i to `s`: 'acked' only for a signed, verified NOERROR; 'unknown' when no answer came. */
async function sendUpdate(s: Server, key: TsigKey, i: number): Promise<'acked' | 'refused' | 'unknown'> {
  const r = await updateRcode(s, key, i);
  return r === undefined ? 'unknown' : r === Rcode.NOERROR ? 'acked' : 'refused';
}

const updateRcode = (s: Server, key: TsigKey, i: number, zone = ZONE) => haUpdateRcode(s, key, i, zone);
const txt = (port: number, owner: string) => haTxt(port, owner, ZONE);

const serial = async (port: number) => (await soa(port, ZONE)).serial;
const serial2 = async (port: number, zone: string) => (await soa(port, Name.from(zone))).serial;

/** The versions of `zone` this dmsd logged signing ("zone signed"). */
function signedVersions(s: Server, zone: string): number[] {
  const out: number[] = [];
  for (const line of s.output().split('\n')) {
    try {
      const j = JSON.parse(line) as { msg?: string; zone?: string; version?: number };
      if (j.msg === 'zone signed' && j.zone?.replace(/\.$/, '') === zone.replace(/\.$/, '') && typeof j.version === 'number') out.push(j.version);
    } catch {
      // not JSON
    }
  }
  return out;
}

/** The RRSIGs answered with `type` at `owner` (DO=1). */
async function rrsigs(port: number, owner: Name, type: number): Promise<number> {
  const a = await query(port, { name: owner, type, ednsSize: 1232, dnssecOk: true }).catch(() => undefined);
  return (a?.msg?.answer ?? []).filter((x) => x.type === RRType.RRSIG).length;
}

/** The time (ms) of the first log line of `s` with message `msg` at or after `since`, or undefined. */
function logTime(s: Server, msg: string, since = 0): number | undefined {
  for (const line of s.output().split('\n')) {
    try {
      const j = JSON.parse(line) as { msg?: string; time?: string };
      if (j.msg === msg && j.time) {
        const t = Date.parse(j.time);
        if (t >= since) return t;
      }
    } catch {
      // not JSON
    }
  }
  return undefined;
}

describe('HA on PostgreSQL: two dmsd on the primary, a dmsd on a hot standby, promotion', { timeout: 300_000 }, () => {
  let cluster: ReplicatedPostgres;
  let P: Where;
  let S: Where;
  let key: TsigKey;
  let skey: TsigKey;
  let xfrKey: TsigKey;
  let kek: string[];
  let a: Server;
  let b: Server;
  let replica: Server | undefined;
  let workers: Server | undefined;
  let named: Secondary | undefined;
  let named2: Secondary | undefined;
  const dirs: string[] = [];
  const acked: number[] = [];
  let next = 1;
  let leader: Server;
  let survivor: Server;

  before(async () => {
    cluster = await startReplicatedPostgres({ synchronous: true });
    const db = await cluster.createDatabase();
    const d1 = mkdtempSync(join(tmpdir(), 'dms-ha-p-'));
    const d2 = mkdtempSync(join(tmpdir(), 'dms-ha-s-'));
    dirs.push(d1, d2);
    P = { dataDir: d1, databaseUrl: cluster.primaryUrl(db) };
    S = { dataDir: d2, databaseUrl: cluster.standbyUrl(db) };
    zoneTool(P, ['create_zone', '-i', ZONE.toString()]);
    key = zoneToolKey(P, KEY_NAME);
    xfrKey = zoneToolKey(P, 'xfr.key');
    zoneTool(P, ['add_transfer_rule', ZONE.toString(), 'key=xfr.key']);
    // A signed zone: only the leader signs; the others serve the signatures it stores.
    kek = ['--dnssec-kek', join(d1, 'kek')];
    zoneTool(P, ['create_zone', '-i', SIGNED.toString()]);
    zoneTool(P, [...kek, 'set_zone_dnssec_policy', SIGNED.toString(), 'default']);
    skey = zoneToolKey(P, 's._update.signed.example');
  });
  after(async () => {
    await named?.stop();
    await named2?.stop();
    for (const s of [a, b, replica]) await s?.stop();
    await workers?.stop('SIGTERM');
    await cluster?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('two dmsd on the primary: exactly one leads; show_dms_status says which and since when', async () => {
    const namedPort = await freePort();
    zoneTool(P, ['add_also_notify', ZONE.toString(), `127.0.0.1#${namedPort}`, 'key=xfr.key']);
    a = await startDmsdOn(P, ['--no-http', ...kek, '--peer-database-url', S.databaseUrl]);
    b = await startDmsdOn(P, ['--no-http', ...kek, '--peer-database-url', S.databaseUrl]);
    await until('one leader', () => [a, b].filter((s) => logTime(s, LEADS) !== undefined).length === 1, () => a.output() + b.output(), 10_000);
    // Several rounds later still exactly one.
    await new Promise((r) => setTimeout(r, 2500));
    const leaders = [a, b].filter((s) => logTime(s, LEADS) !== undefined);
    assert.equal(leaders.length, 1, 'exactly one dmsd leads');
    leader = leaders[0];
    survivor = leader === a ? b : a;
    const st = tool(P, ['--json', 'show_dms_status']);
    assert.equal(st.code, 0, st.out);
    const j = JSON.parse(st.out) as { instances: { pid: number; leader: boolean; leaderSince: string | null; mode: string }[]; leader: string | null; cluster: { epoch: number; replica: boolean } };
    assert.equal(j.instances.length, 2, st.out);
    assert.equal(j.instances.filter((i) => i.leader).length, 1, st.out);
    assert.equal(j.instances.find((i) => i.leader)?.pid, leader.proc.pid, 'the leader is the process that logged it');
    assert.ok(j.instances.find((i) => i.leader)?.leaderSince, 'since when');
    assert.deepEqual([j.cluster.epoch, j.cluster.replica], [1, false]);
    const text = tool(P, ['show_dms_status']).out;
    assert.match(text, /LEADER since \d{4}-/);
    // The signed zone: both serve it signed; only the leader signed anything.
    for (const s of [a, b]) await until('signed zone served signed', async () => (await rrsigs(s.port, SIGNED, RRType.SOA)) > 0, s.output, 15_000);
    assert.deepEqual(signedVersions(leader, SIGNED.toString()), [1], 'the leader signed the zone');
    assert.deepEqual(signedVersions(survivor, SIGNED.toString()), [], 'the follower signed nothing');
    named = startNamedSecondary({ zone: ZONE.toString(), primaryPort: a.tcpPort, morePrimaryPorts: [b.tcpPort], port: namedPort, key: xfrKey });
    await until('named AXFR', () => /Transfer status: success/.test(named!.output()), () => named!.output());
  });

  test('kill -9 of the leader during a stream of signed UPDATEs: the other leads within 10 s, nothing acknowledged is lost, NOTIFYs resume', async () => {
    // The follower has sent no NOTIFY (the leader's work): nothing queued by it.
    assert.doesNotMatch(survivor.output(), /NOTIFY queued/, 'the follower queued no NOTIFY');
    let killedAt = 0;
    let tookOver = 0;
    const deadline = Date.now() + 120_000;
    // Updates go to both dmsd in turn while both live, then to the survivor only.
    for (;;) {
      const i = next++;
      const target = killedAt === 0 && i % 3 === 0 ? leader : survivor;
      const o = await sendUpdate(target, key, i);
      if (o === 'acked') acked.push(i);
      else if (o === 'refused') assert.fail(`update ${i} refused:\n${target.output().slice(-3000)}`);
      else assert.ok(target === leader && killedAt > 0, `update ${i} got no answer from the survivor`);
      if (killedAt === 0 && acked.length >= 30) {
        leader.proc.kill('SIGKILL');
        killedAt = Date.now();
      }
      if (killedAt > 0 && !tookOver) tookOver = logTime(survivor, LEADS, killedAt - 50) ?? 0;
      if (tookOver && acked.length >= 80) break;
      assert.ok(Date.now() < deadline, `no takeover:\n${survivor.output().slice(-3000)}`);
    }
    const failover = tookOver - killedAt;
    assert.ok(failover < 10_000, `the survivor leads ${failover} ms after the kill`);
    // Every acknowledged update is served by the survivor (the database has it: the survivor reads it back).
    for (const i of acked) assert.deepEqual(await txt(survivor.port, `u${i}`), [`"v${i}"`], `u${i} acknowledged and present`);
    // NOTIFYs resume: the new leader sends them, named (primaries: both dmsd) reaches the final serial.
    const final = await serial(survivor.port);
    assert.ok(final !== undefined);
    await until('named in sync after the failover', async () => (await serial(named!.port)) === final, () => named!.output() + survivor.output(), 30_000);
    // The acknowledgement is logged when the NOTIFY round has recorded its outcome, which may be after named has
    // already transferred: waited for, not read at once.
    await until('the new leader sent NOTIFYs (acknowledged)', () => logTime(survivor, 'NOTIFY acknowledged', tookOver) !== undefined, survivor.output, 5000);
    assert.deepEqual(await txt(named!.port, `u${acked[acked.length - 1]}`), [`"v${acked[acked.length - 1]}"`]);
    // The new leader signs: an UPDATE to the signed zone is served signed; no version was signed twice.
    assert.equal(await updateRcode(survivor, skey, 1, SIGNED), Rcode.NOERROR);
    await until('the new change served signed', async () => (await rrsigs(survivor.port, Name.parse('u1', SIGNED), RRType.TXT)) > 0, survivor.output, 15_000);
    await until('the new leader signed', () => signedVersions(survivor, SIGNED.toString()).length > 0, () => survivor.output().split('\n').filter((l) => /sign/i.test(l)).join('\n'), 5000);
    const versions = [...signedVersions(leader, SIGNED.toString()), ...signedVersions(survivor, SIGNED.toString())];
    assert.equal(new Set(versions).size, versions.length, `each version signed once: ${versions.join(' ')}`);
    console.log(`# failover: leader killed → survivor leads in ${failover} ms; ${acked.length} updates acknowledged`);
  });

  test('a leader whose lease session ends stops leading at once, and leads again', async () => {
    const since = Date.now();
    const c = new pg.Client({ connectionString: P.databaseUrl });
    await c.connect();
    const r = await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'dmsd lease %'`);
    await c.end();
    assert.equal(r.rowCount, 1, 'one lease session (the leader\'s)');
    await until('lease loss noticed', () => logTime(survivor, 'leader lease lost: leader work stopped', since) !== undefined, survivor.output, 5000);
    const lost = logTime(survivor, 'leader lease lost: leader work stopped', since)!;
    assert.ok(lost - since < 2000, `stopped ${lost - since} ms after its session ended`);
    await until('leads again', () => logTime(survivor, LEADS, lost) !== undefined, survivor.output, 10_000);
  });

  test('a dmsd on the hot standby serves each change within a second and refuses changes', async () => {
    replica = await startDmsdOn(S, ['--no-http', ...kek, '--peer-database-url', P.databaseUrl]);
    await logged(replica!.output, /hot standby/);
    await until('replica serves the zone', async () => (await serial(replica!.port)) === (await serial(survivor.port)), replica.output, 10_000);
    const lags: number[] = [];
    for (let k = 0; k < 10; k++) {
      const i = next++;
      assert.equal(await sendUpdate(survivor, key, i), 'acked');
      acked.push(i);
      const t0 = Date.now();
      while ((await txt(replica.port, `u${i}`)).length === 0) {
        assert.ok(Date.now() - t0 < 10_000, `u${i} not on the replica after 10 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      lags.push(Date.now() - t0);
    }
    lags.sort((x, y) => x - y);
    console.log(`# replica lag after the primary's NOERROR (ms): ${lags.join(' ')}`);
    assert.ok(lags[Math.floor(lags.length / 2)] < 1000, `median lag ${lags[5]} ms`);
    assert.ok(lags[lags.length - 1] < 3000, `worst lag ${lags[lags.length - 1]} ms (a loaded machine)`);
    // Writes: zone_tool refused with the catalogue's error, UPDATE refused, nothing changed on the primary.
    const before = await serial(survivor.port);
    const z = tool(S, ['create_zone', 'other.example']);
    assert.notEqual(z.code, 0);
    assert.match(z.out, /read-only replica/);
    const zj = tool(S, ['--json', 'create_zone', 'other.example']);
    assert.match(zj.out, /READ_ONLY_REPLICA/);
    assert.equal(await updateRcode(replica, key, 999_999), Rcode.REFUSED);
    await until('the refusal logged', () => /read-only replica.*"msg":"update refused"/.test(replica!.output()), replica.output, 5000);
    assert.equal(await serial(survivor.port), before);
    // Reading works on the standby, and says what it is; the replica does no leader work.
    const st = tool(S, ['--json', 'show_dms_status']);
    assert.equal(st.code, 0, st.out);
    assert.equal((JSON.parse(st.out) as { cluster: { replica: boolean } }).cluster.replica, true);
    assert.equal(logTime(replica, LEADS), undefined, 'a replica never leads');
    assert.ok((await rrsigs(replica.port, Name.parse('u1', SIGNED), RRType.TXT)) > 0, 'the replica serves the stored signatures');
    assert.deepEqual(signedVersions(replica, SIGNED.toString()), [], 'the replica signs nothing');
    assert.doesNotMatch(replica.output(), /NOTIFY queued/);
  });

  test('promote_replica: the standby\'s dmsd becomes writable and leads, serials go on up, NOTIFYs reach a secondary; the old primary is fenced', async () => {
    // One more dmsd on the old primary, with --workers: its supervisor tells the workers when it is fenced.
    workers = await startDmsdOn(P, ['--no-http', '--workers', '2', ...kek, '--peer-database-url', S.databaseUrl]);
    await until('the workers serve the zone', async () => (await serial(workers!.port)) === (await serial(survivor.port)), workers.output, 15_000);
    const lastSerial = (await serial(survivor.port))!;
    const t0 = Date.now();
    const pr = tool(S, ['promote_replica']);
    assert.equal(pr.code, 0, pr.out);
    assert.match(pr.out, /promoted: now a primary at epoch 2/);
    await until('the replica leads', () => logTime(replica!, LEADS) !== undefined, replica!.output, 15_000);
    // The first UPDATE accepted by the promoted side.
    let i = next++;
    for (;;) {
      const o = await sendUpdate(replica!, key, i);
      if (o === 'acked') break;
      assert.ok(Date.now() - t0 < 20_000, `no UPDATE accepted after the promotion:\n${replica!.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
      i = next++;
    }
    console.log(`# promotion: promote_replica → first accepted UPDATE in ${Date.now() - t0} ms`);
    const s1 = (await serial(replica!.port))!;
    assert.ok(s1 > lastSerial, `serial ${s1} continues upward from ${lastSerial}`);
    // The old primary's leader sees the promoted peer at a newer epoch: it stops leading and refuses UPDATEs. (With
    // synchronous replication its database cannot commit anything anyway: its standby is gone.)
    await until('the old primary is fenced', () => /"msg":"fenced:/.test(survivor.output()), survivor.output, 10_000);
    assert.equal(await updateRcode(survivor, key, 999_998), Rcode.REFUSED);
    await until('the --workers dmsd is fenced', () => /"msg":"fenced:/.test(workers!.output()), workers.output, 10_000);
    await until('its workers refuse UPDATEs', async () => (await updateRcode(workers!, key, 999_997)) === Rcode.REFUSED, workers.output, 5000);
    await until('the refusal logged', () => /"reason":"fenced: .*"msg":"update refused"/.test(survivor.output()), survivor.output, 5000);
    // The old site goes away; a secondary whose first primary is the old site and alternate the new one follows.
    survivor.proc.kill('SIGKILL');
    cluster.stopPrimary();
    const port2 = await freePort();
    const r = tool(S, ['add_also_notify', ZONE.toString(), `127.0.0.1#${port2}`, 'key=xfr.key']);
    assert.equal(r.code, 0, r.out);
    named2 = startNamedSecondary({ zone: ZONE.toString(), primaryPort: survivor.tcpPort, morePrimaryPorts: [replica!.tcpPort], port: port2, key: xfrKey });
    await until('named2 transfers from the alternate primary', async () => (await serial(named2!.port)) === s1, () => named2!.output(), 30_000);
    const j = next++;
    assert.equal(await sendUpdate(replica!, key, j), 'acked');
    const s2 = (await serial(replica!.port))!;
    assert.ok(s2 > s1);
    await until('named2 NOTIFYed by the new leader', async () => (await serial(named2!.port)) === s2, () => named2!.output() + replica!.output(), 30_000);
    assert.match(named2.output(), new RegExp(`notify from 127\\.0\\.0\\.1#\\d+: serial ${s2}`));
    const st = JSON.parse(tool(S, ['--json', 'show_dms_status']).out) as { cluster: { epoch: number; replica: boolean } };
    assert.deepEqual([st.cluster.epoch, st.cluster.replica], [2, false]);
    // Everything acknowledged before the promotion is on the promoted side (synchronous replication).
    for (const k of acked) assert.deepEqual(await txt(replica!.port, `u${k}`), [`"v${k}"`], `u${k} after the promotion`);
  });
});

describe('instances, leadership and promote_replica refusals on both backends', () => {
  const { backends } = testBackends({ lazy: true });
  for (const backend of backends)
    test(`${backend.name}: instances recorded, one leader, stale ones dropped; promote_replica refused on a primary`, async () => {
      const store = await backend.open();
      try {
        const clock = manualClock(Date.parse('2026-12-03T10:00:00Z'));
        const ctx = ctxOf(store, 'tester@test/Admin', { clock });
        const now = clock.now().getTime();
        const row = (id: string, leader: boolean) => ({ id, host: 'h', pid: 1, started: now, mode: 'primary', is_leader: leader ? 1 : 0, leader_since: leader ? now : null, epoch: 1 });
        await svc.recordInstance(ctx, row('a', true));
        await svc.recordLeader(ctx, 'a', now);
        await svc.recordInstance(ctx, row('b', false));
        // b takes over: a's row stops saying it leads.
        clock.advance(2000);
        await svc.recordInstance(ctx, { ...row('b', true), leader_since: now + 2000 });
        await svc.recordLeader(ctx, 'b', now + 2000);
        const st = await svc.call(ctx, 'show_dms_status', {});
        assert.deepEqual(
          st.instances.map((i) => [i.id, i.leader, i.leaderSince]),
          [
            ['a', false, null],
            ['b', true, '2026-12-03T10:00:02.000Z'],
          ],
        );
        assert.equal(st.leader, 'b');
        assert.deepEqual([st.cluster.epoch, st.cluster.replica], [1, false]);
        // Not heard of for longer than the expiry: no longer listed, and pruned.
        clock.advance(svc.INSTANCE_EXPIRY_MS + 1000);
        await svc.recordInstance(ctx, { ...row('b', true), leader_since: now + 2000 });
        assert.deepEqual((await svc.listInstances(ctx)).map((i) => i.id), ['b']);
        await svc.pruneStaleInstances(ctx);
        // promote_replica: nothing to promote on a primary (or SQLite); the epoch is not raised.
        await assert.rejects(svc.call(ctx, 'promote_replica', {}), (e: unknown) => e instanceof svc.NotAReplica && svc.ERROR_KIND[e.code] === 'invalid');
        assert.equal((await svc.clusterState(ctx)).epoch, 1);
        if (backend.name === 'postgres') {
          // A database promoted by hand: -f only raises the epoch.
          const r = await svc.call(ctx, 'promote_replica', { force: true });
          assert.deepEqual([r.promoted, r.epoch], [false, 2]);
        }
        // Not an admin: refused before anything.
        await assert.rejects(svc.call(ctxOf(store, 'help@test/Helpdesk', { tenant: { tier: 'helpdesk', sectag: null } }), 'promote_replica', {}), svc.PermissionDenied);
      } finally {
        await store.close();
      }
    });

  test('sqlite: the one dmsd on a database file leads and says so in show_dms_status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dms-ha-sqlite-'));
    let d: Server | undefined;
    try {
      const file = join(dir, 'solo.zone');
      writeFileSync(file, '$TTL 300\n@ SOA ns1 hostmaster 2026120301 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.7\n');
      zoneTool(dir, ['load_zone', file, 'solo.example']);
      d = await startDmsdOn(dir, ['--no-http']);
      const serialBefore = await serial2(d.port, 'solo.example');
      assert.ok(serialBefore !== undefined);
      await logged(d!.output, /this dmsd leads \(SQLite/);
      const j = JSON.parse(zoneTool(dir, ['--json', 'show_dms_status'])) as { instances: { pid: number; leader: boolean }[] };
      assert.deepEqual(j.instances.map((i) => [i.pid, i.leader]), [[d.proc.pid, true]]);
      await d.stop();
      d = undefined;
      // Disaster recovery without a replica: export_zones, then a dmsd on an empty data directory rebuilds from the
      // files with --zones and serves the same zone.
      const out = join(dir, 'export');
      zoneTool(dir, ['export_zones', out]);
      const fresh = join(dir, 'fresh');
      d = await startDmsdOn(fresh, ['--no-http', '--zones', out]);
      assert.equal(await serial2(d.port, 'solo.example'), serialBefore);
      const a = await query(d.port, { name: Name.from('www.solo.example'), type: RRType.A });
      assert.deepEqual(a.msg?.answer.map((x) => rdataToText(RRType.A, x.rdata)), ['192.0.2.7']);
    } finally {
      await d?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
