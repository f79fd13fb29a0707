// Differential test: the fixture zones (test/fixtures/diff, one file per zone, file name = zone name) are loaded into
// knotd (the reference) and into dmsd; thousands of queries (every listed type, existing and missing names, wildcards,
// delegations, CNAME/DNAME chains, random case, EDNS on/off, small buffers, DO, TCP) go to both, and the answers are
// compared section by section with RRsets order-insensitive. A difference fails the test unless an allowance in
// test/helpers/allowances.ts (each with the RFC section that permits it) explains it.
//
// DMS_DIFF_TARGET=named compares knotd with named instead of dmsd (a dry run of the harness itself);
// DMS_DIFF_WORKERS=2 (or auto) runs dmsd with node:cluster workers.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import type { Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { findAllowance } from '../helpers/allowances.js';
import { buildQuery, parseAnswer, tcpPipeline } from '../helpers/dns-client.js';
import {
  type Exchange,
  answerToText,
  compareMessages,
  describeQuery,
  generateQueries,
  judgeExchanges,
  loadFixtureZones,
  runExchanges,
} from '../helpers/differential.js';
import { REPO_ROOT, type RunningServer, dmsdEntry, haveProgram, startDmsd, startKnotd, startNamed } from '../helpers/servers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diff');
const target = process.env.DMS_DIFF_TARGET ?? 'dmsd';
const zones = loadFixtureZones(FIXTURES);
const queries = generateQueries(zones);

let knot: RunningServer | undefined;
let other: RunningServer | undefined;
let exchanges: Exchange[] = [];

before(async () => {
  assert.ok(haveProgram('knotd'), 'knotd is required for the differential test: apt-get install knot knot-dnsutils');
  if (target === 'named') {
    other = await startNamed(zones);
  } else {
    assert.ok(
      dmsdEntry(),
      'dmsd is required for the differential test: src/daemon/main.ts (or dist/daemon/main.js after npm run build) does not exist',
    );
    const workers = process.env.DMS_DIFF_WORKERS;
    other = await startDmsd(FIXTURES, zones.map((z) => z.name), workers ? { workers: workers === 'auto' ? 'auto' : Number(workers) } : {});
  }
  knot = await startKnotd(zones);
  exchanges = await runExchanges(queries, knot, other);
});

after(async () => {
  await knot?.stop();
  await other?.stop();
});

test('the query mix is large and varied', () => {
  assert.ok(queries.length >= 2000, `only ${queries.length} queries`);
  const types = new Set(queries.map((q) => q.type));
  assert.ok(types.size >= 40, `only ${types.size} query types`);
  assert.ok(queries.some((q) => q.tcp) && queries.some((q) => !q.tcp));
  assert.ok(queries.some((q) => q.ednsSize === undefined) && queries.some((q) => q.ednsSize === 512));
  assert.ok(queries.some((q) => q.dnssecOk));
  assert.ok(queries.some((q) => /[A-Z]/.test(q.name.toString())), 'no mixed-case query names');
});

test('the reference answers cover every outcome the zones are built for', () => {
  // Guards against a vacuous comparison (e.g. both servers REFUSING everything).
  const msgs: Message[] = [];
  for (const e of exchanges) if (!(e.a instanceof Error) && e.a.msg) msgs.push(e.a.msg);
  const plain = exchanges.filter((e) => !e.query.raw);
  assert.ok(
    plain.every((e) => !(e.a instanceof Error) && e.a.msg),
    'knotd failed to answer some well-formed queries',
  );
  assert.ok(msgs.length >= plain.length);
  const count = (f: (m: Message) => boolean) => msgs.filter(f).length;
  const c = {
    noerrorData: count((m) => m.rcode === 0 && m.aa && m.answer.length > 0),
    nodata: count((m) => m.rcode === 0 && m.aa && m.answer.length === 0),
    nxdomain: count((m) => m.rcode === 3),
    referral: count((m) => m.rcode === 0 && !m.aa && m.authority.some((rr) => rr.type === RRType.NS)),
    refused: count((m) => m.rcode === 5),
    truncated: count((m) => m.tc),
    cname: count((m) => m.answer.some((rr) => rr.type === RRType.CNAME)),
    dname: count((m) => m.answer.some((rr) => rr.type === RRType.DNAME)),
    yxdomain: count((m) => m.rcode === 6),
  };
  for (const [k, v] of Object.entries(c)) assert.ok(v > 0, `no ${k} answer from knotd: ${JSON.stringify(c)}`);
});

test(`${target} answers like knotd (section by section, allowed differences documented)`, () => {
  const j = judgeExchanges(exchanges, target);
  console.log(`differential: ${j.summary}`);
  assert.equal(j.unexplained, 0, j.message);
});

test('TCP pipelining: many queries on one connection, answered like knotd (any order, RFC 7766 §6.2.1.1)', async () => {
  assert.ok(knot && other);
  const sample = queries.filter((q) => !q.raw).filter((_, i) => i % 97 === 0).slice(0, 40);
  const payloads = sample.map((q, i) => buildQuery({ ...q, id: 40000 + i }));
  const [ka, oa] = await Promise.all([tcpPipeline(knot.tcpPort, payloads), tcpPipeline(other.tcpPort, payloads)]);
  assert.equal(oa.size, payloads.length, `${target} answered ${oa.size} of ${payloads.length} pipelined queries`);
  const bad: string[] = [];
  sample.forEach((q, i) => {
    const a = parseAnswer(ka.get(40000 + i)!);
    const b = parseAnswer(oa.get(40000 + i)!);
    if (!a.msg || !b.msg) {
      bad.push(`${describeQuery(q)}: undecodable answer`);
      return;
    }
    const tq = { ...q, tcp: true, id: 40000 + i };
    const d = compareMessages(a.msg, b.msg).filter((x) => !findAllowance(tq, a, b, x));
    if (d.length) bad.push(`${describeQuery(q)}: ${d.map((x) => x.detail).join('; ')}\n--- knotd\n${answerToText(a)}\n--- ${target}\n${answerToText(b)}`);
  });
  assert.deepEqual(bad, []);
});

test('the comparison catches a changed record (knotd against knotd with one edited zone)', async () => {
  // Guards the harness itself: an address and a TTL changed in a copy of example.test must show up as differences
  // that no allowance excuses, and nothing else may differ.
  const dir = mkdtempSync(join(tmpdir(), 'dms-diff-mutant-'));
  try {
    const text = readFileSync(join(FIXTURES, 'example.test'), 'utf8')
      .replace(/^www( +)A( +)192\.0\.2\.80$/m, 'www$1A$2192.0.2.99')
      .replace(/^mail( +)A /m, 'mail 60 A ');
    writeFileSync(join(dir, 'example.test'), text);
    const mutant = await startKnotd(zones.map((z) => (z.name === 'example.test' ? { name: z.name, file: join(dir, 'example.test') } : z)));
    try {
      const qs = queries.filter((q) => !q.raw && q.name.isSubdomainOf(Name.from('example.test')) && q.name.labelCount <= 3).slice(0, 300);
      const ex = await runExchanges(qs, knot!, mutant);
      const seen = new Set<string>();
      for (const e of ex) {
        if (e.a instanceof Error || e.b instanceof Error || !e.a.msg || !e.b.msg) continue;
        for (const d of compareMessages(e.a.msg, e.b.msg)) if (!findAllowance(e.query, e.a, e.b, d)) seen.add(`${d.kind} ${d.rrset ?? ''}`);
      }
      assert.ok([...seen].some((k) => k.startsWith('answer.rdata www.example.test.|A')), `changed A not caught: ${[...seen].join('; ')}`);
      assert.ok([...seen].some((k) => k.includes('.ttl mail.example.test.|A')), `changed TTL not caught: ${[...seen].join('; ')}`);
      const unrelated = [...seen].filter((k) => !k.includes('www.example.test.|A') && !k.includes('mail.example.test.|A'));
      assert.deepEqual(unrelated, []);
    } finally {
      await mutant.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
