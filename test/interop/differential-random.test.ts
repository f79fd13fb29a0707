// Differential test on zones neither server was written for: random zones (test/helpers/random-zone.ts: delegations
// with glue, DS at cuts, CNAME chains and loops, DNAMEs, wildcards, empty non-terminals, SVCB/HTTPS/MX/SRV targets in
// and out of the zone, a child zone served beside its parent) are loaded into knotd and dmsd, and the queries built
// from their owners (every owner × the core types and random ones, names below and beside every owner, ancestors,
// wildcard expansions, overflowing DNAME rewrites; random case, EDNS sizes, DO, TCP) go to both. Differences are
// judged as in differential.test.ts: each must be explained by an allowance naming its RFC.
//
// Both ways a zone reaches dmsd are compared: its file served as it is, and the zone loaded into the database with
// zone_tool and served from there. The seeds are fixed, so every run sends the same zones and queries; DMS_DIFF_SEED=N picks another set (a local
// search for new classes of wrong answers: `for s in $(seq 1 50); do DMS_DIFF_SEED=$s node scripts/run-tests.mjs
// differential-random || break; done`).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import type { Message } from '../../src/dns/message.js';
import { type DiffQuery, type Exchange, generateQueries, judgeExchanges, loadFixtureZones, runExchanges } from '../helpers/differential.js';
import { randomZone } from '../helpers/random-zone.js';
import { servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { type RunningServer, dmsdEntry, haveProgram, startDmsd, startKnotd } from '../helpers/servers.js';
import { THREAD_MIN_BYTES } from '../../src/server/zonedir.js';

const SEED = Number(process.env.DMS_DIFF_SEED ?? 20261206);

// Four zones, one of them the child of another (served by the same server: the parent's cut, the child's apex).
const SPECS: [string, string | undefined][] = [
  ['r1.test.', 'b.r1.test.'],
  ['b.r1.test.', undefined],
  ['r2.test.', undefined],
  ['r3.example.', undefined],
];

/** A comment block that makes a zone file large enough to be parsed by a thread of its own (THREAD_MIN_BYTES). */
const PADDING = `; ${'-'.repeat(1022)}\n`.repeat((THREAD_MIN_BYTES >> 10) + 16);

/**
 * Three ways in: zone files served as they are (`dmsd --no-database`); the same files padded with a comment block to
 * the size a thread of its own parses (the built dmsd, with the thread's bundle: each owner's run of records encoded
 * there and filed whole by the compiling thread); and the way operators run it — each zone loaded with zone_tool
 * load_zone into the database (its own apex NS kept), served by dmsd from there. The database's zones keep DMS's
 * management rule (in-zone NS/MX/SRV targets have addresses), so they are drawn with it.
 */
for (const mode of ['files', 'large files', 'database'] as const)
  describe(`random zones (seed ${SEED}) served from ${mode}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `dms-diff-random-${mode.replace(' ', '-')}-`));
    const zdir = join(dir, 'zones');
    mkdirSync(zdir);
    SPECS.forEach(([origin, child], i) => {
      const z = randomZone(origin, SEED * 31 + i, child, { addressedTargets: mode === 'database' });
      writeFileSync(join(zdir, z.name), mode === 'large files' ? z.text + PADDING : z.text);
    });
    const zones = loadFixtureZones(zdir);
    const queries: DiffQuery[] = generateQueries(zones, SEED, { fixtureSweeps: false });

    let knot: RunningServer | undefined;
    let dmsd: { port: number; tcpPort: number; stop(): Promise<void> } | undefined;
    let exchanges: Exchange[] = [];

    before(async () => {
      assert.ok(haveProgram('knotd'), 'knotd is required for the differential test: apt-get install knot knot-dnsutils');
      assert.ok(dmsdEntry(), 'dmsd is required for the differential test: run npm run build');
      if (mode === 'files') dmsd = await startDmsd(zdir, zones.map((z) => z.name));
      else if (mode === 'large files') {
        assert.ok(dmsdEntry(true), 'the built dmsd is required: run npm run build');
        const d = await startDmsd(zdir, zones.map((z) => z.name), { compiled: true });
        dmsd = d;
        const inThread = d.output().split('\n').filter((l) => l.includes('"msg":"zone loaded"') && l.includes('"parsedInThread":true'));
        assert.equal(inThread.length, zones.length, `zones parsed in a thread of their own:\n${d.output()}`);
      } else {
        const store = sqliteArgs(join(dir, 'dms'));
        for (const z of zones) zoneToolOk(store, ['load_zone', z.file, z.name, 'no_use_apex_ns']);
        dmsd = await startDmsdDb(store);
        for (const z of zones) await waitFor(() => servedSerial(dmsd!.port, z.name) !== undefined, 10000, `${z.name} served`);
      }
      knot = await startKnotd(zones);
      exchanges = await runExchanges(queries, knot, { label: 'dmsd', port: dmsd.port, tcpPort: dmsd.tcpPort });
    });

    after(async () => {
      await knot?.stop();
      await dmsd?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the mix reaches every kind of answer', () => {
      assert.ok(queries.length >= 1000, `only ${queries.length} queries`);
      const msgs: Message[] = [];
      for (const e of exchanges) if (!(e.a instanceof Error) && e.a.msg) msgs.push(e.a.msg);
      assert.equal(msgs.length, exchanges.length, 'knotd failed to answer some queries');
      const count = (f: (m: Message) => boolean) => msgs.filter(f).length;
      const c = {
        data: count((m) => m.rcode === 0 && m.aa && m.answer.length > 0),
        nodata: count((m) => m.rcode === 0 && m.aa && m.answer.length === 0),
        nxdomain: count((m) => m.rcode === 3),
        referral: count((m) => m.rcode === 0 && !m.aa && m.authority.some((rr) => rr.type === RRType.NS)),
        cname: count((m) => m.answer.some((rr) => rr.type === RRType.CNAME)),
        wildcard: count((m) => m.answer.some((rr) => rr.name.labelCount > 0 && !zones.some((z) => z.owners.some((o) => o.equals(rr.name))))),
      };
      for (const [k, v] of Object.entries(c)) assert.ok(v > 0, `no ${k} answer from knotd: ${JSON.stringify(c)}`);
    });

    test('dmsd answers like knotd', () => {
      const j = judgeExchanges(exchanges, 'dmsd', `random-${mode}-${SEED}`);
      console.log(`differential (random zones from ${mode}, seed ${SEED}): ${j.summary}`);
      assert.equal(j.unexplained, 0, j.message);
    });
  });
