// Differential test of two answer classes against knotd: DNAME synthesis with every relevant query type (CNAME, ANY,
// DNAME, A, ... at, below and beyond the DNAME owner, through CNAME and DNAME chains, into other DNAMEs, out of the
// zone, looping, overflowing) and the additional section of SVCB/HTTPS answers (ServiceMode and AliasMode, targets in
// and out of the zone, behind wildcards, below cuts, ".") beside MX/SRV/NS. The fixture zones are
// test/fixtures/diff-answers (file name = zone name).
//
// The comparison is stricter than the general differential test: the broad allowances for optional additional
// addresses and for minimal ANY are not used, so every additional record and every ANY answer must be knotd's, up to
// the narrow allowances that name the RFC behind each remaining difference.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { encodeMessage, type Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { ALLOWANCES, type Allowance, findAllowance } from '../helpers/allowances.js';
import { parseAnswer } from '../helpers/dns-client.js';
import {
  type DiffQuery,
  type Exchange,
  answerToText,
  compareMessages,
  describeQuery,
  loadFixtureZones,
  prng,
  randomCase,
  runExchanges,
} from '../helpers/differential.js';
import { REPO_ROOT, type RunningServer, dmsdEntry, haveProgram, startDmsd, startKnotd } from '../helpers/servers.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'diff-answers');
const zones = loadFixtureZones(FIXTURES);

/** Every allowance but the two broad ones that would hide additional-section and ANY differences. */
const STRICT: readonly Allowance[] = ALLOWANCES.filter((a) => a.id !== 'optional-additional-addresses' && a.id !== 'minimal-any');

const label = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

const AT_TYPES = [
  RRType.A, RRType.AAAA, RRType.CNAME, RRType.DNAME, RRType.ANY, RRType.SVCB, RRType.HTTPS, RRType.MX, RRType.SRV,
  RRType.NS, RRType.TXT, RRType.SOA,
];
const BELOW_TYPES = [RRType.A, RRType.AAAA, RRType.CNAME, RRType.DNAME, RRType.ANY, RRType.SVCB, RRType.HTTPS, RRType.TXT, RRType.MX];

/** Every owner with every type; one and two labels below it; wildcards instantiated; overflowing DNAME rewrites. */
function generate(): DiffQuery[] {
  const rnd = prng(20260317);
  const base: { name: Name; type: number }[] = [];
  for (const z of zones) {
    for (const o of z.owners) {
      for (const t of AT_TYPES) base.push({ name: o, type: t });
      for (const t of BELOW_TYPES) {
        base.push({ name: o.prepend(label('x')), type: t });
        base.push({ name: o.prepend(label('a'), label('www')), type: t });
      }
      if (o.isWildcard()) {
        const parent = o.parent();
        for (const t of BELOW_TYPES) base.push({ name: parent.prepend(label('foo')), type: t });
        base.push({ name: parent.prepend(label('a'), label('b')), type: RRType.SVCB });
      }
    }
  }
  const l63 = 'q'.repeat(63);
  for (const t of [RRType.A, RRType.CNAME, RRType.ANY, RRType.DNAME])
    base.push({ name: Name.from(`${l63}.${l63}.dnlong.answers.test`), type: t }, { name: Name.from(`${l63}.x.dn3.answers.test`), type: t });
  const out: DiffQuery[] = [];
  for (const b of base) {
    const r = rnd();
    out.push({
      name: rnd() < 0.3 ? randomCase(b.name, rnd) : b.name,
      type: b.type,
      // Answers here are small: TCP and UDP without EDNS change nothing but the transport, which must not matter.
      tcp: r < 0.15,
      ednsSize: r < 0.3 ? undefined : 1232,
    });
  }
  return out;
}

const queries = generate();
let knot: RunningServer | undefined;
let dmsd: RunningServer | undefined;
let exchanges: Exchange[] = [];

before(async () => {
  assert.ok(haveProgram('knotd'), 'knotd is required: apt-get install knot knot-dnsutils');
  assert.ok(dmsdEntry(), 'dmsd is required: src/cli/dmsd.ts does not exist');
  knot = await startKnotd(zones);
  dmsd = await startDmsd(FIXTURES, zones.map((z) => z.name));
  exchanges = await runExchanges(queries, knot, dmsd, 8);
});

after(async () => {
  await knot?.stop();
  await dmsd?.stop();
});

/** Unexplained differences of one exchange under `list` (empty when the answers agree). */
function unexplained(e: Exchange, list: readonly Allowance[], allowed?: Map<string, number>): string[] {
  if (e.a instanceof Error || e.b instanceof Error || !e.a.msg || !e.b.msg)
    return [`no comparable answers: ${e.a instanceof Error ? e.a.message : 'knotd ok'} / ${e.b instanceof Error ? e.b.message : 'dmsd ok'}`];
  const bad: string[] = [];
  for (const d of compareMessages(e.a.msg, e.b.msg)) {
    const allow = findAllowance(e.query, e.a, e.b, d, list);
    if (allow) allowed?.set(allow.id, (allowed.get(allow.id) ?? 0) + 1);
    else bad.push(d.detail);
  }
  return bad;
}

test('the reference answers cover the DNAME and SVCB/HTTPS cases the zones are built for', () => {
  const msgs: { q: DiffQuery; m: Message }[] = [];
  for (const e of exchanges) if (!(e.a instanceof Error) && e.a.msg) msgs.push({ q: e.query, m: e.a.msg });
  assert.equal(msgs.length, exchanges.length, 'knotd left some queries unanswered');
  const count = (f: (q: DiffQuery, m: Message) => boolean) => msgs.filter(({ q, m }) => f(q, m)).length;
  const hasDname = (m: Message) => m.answer.some((rr) => rr.type === RRType.DNAME);
  const svcbAnswer = (m: Message) => m.answer.some((rr) => rr.type === RRType.SVCB || rr.type === RRType.HTTPS);
  const c = {
    cnameBelowDname: count((q, m) => q.type === RRType.CNAME && hasDname(m) && m.rcode === Rcode.NOERROR),
    anyBelowDname: count((q, m) => q.type === RRType.ANY && hasDname(m)),
    dnameAtOwner: count((q, m) => q.type === RRType.DNAME && m.answer.length === 1 && m.answer[0].type === RRType.DNAME),
    nxdomainAfterDname: count((_q, m) => hasDname(m) && m.rcode === Rcode.NXDOMAIN),
    dnameChains: count((_q, m) => m.answer.filter((rr) => rr.type === RRType.DNAME).length >= 2),
    cnameIntoDname: count((_q, m) => m.answer[0]?.type === RRType.CNAME && hasDname(m)),
    yxdomain: count((_q, m) => m.rcode === Rcode.YXDOMAIN),
    svcbAdditionalAddresses: count((_q, m) => svcbAnswer(m) && m.additional.some((rr) => rr.type === RRType.A || rr.type === RRType.AAAA)),
    svcbAdditionalSvcb: count((_q, m) => svcbAnswer(m) && m.additional.some((rr) => rr.type === RRType.SVCB || rr.type === RRType.HTTPS)),
    svcbNoAdditional: count((_q, m) => svcbAnswer(m) && m.additional.length === 0),
    mxSrvNsAdditional: count((_q, m) => m.answer.some((rr) => rr.type === RRType.MX || rr.type === RRType.SRV || rr.type === RRType.NS) && m.additional.length > 0),
    referral: count((_q, m) => !m.aa && m.authority.some((rr) => rr.type === RRType.NS)),
  };
  for (const [k, v] of Object.entries(c)) assert.ok(v > 0, `no ${k} answer from knotd: ${JSON.stringify(c)}`);
});

test('dmsd answers like knotd: rcode, AA and every section, with only the narrow allowances', () => {
  const allowed = new Map<string, number>();
  const bad: string[] = [];
  for (const e of exchanges) {
    const diffs = unexplained(e, STRICT, allowed);
    if (diffs.length > 0)
      bad.push(`QUERY ${describeQuery(e.query)}\n${diffs.map((d) => `  ${d}`).join('\n')}\n--- knotd\n${answerToText(e.a)}\n--- dmsd\n${answerToText(e.b)}\n`);
  }
  const report = join(tmpdir(), 'dms-differential-answers.txt');
  writeFileSync(report, bad.join('\n'));
  console.log(
    `differential-answers: ${exchanges.length} queries, ${bad.length} with unexplained differences; allowed: ${[...allowed]
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
  );
  assert.equal(bad.length, 0, `${bad.length} answers differ from knotd (all in ${report}); first ones:\n${bad.slice(0, 6).join('\n')}`);
});

test('the strict comparison catches the wrong answer classes (a chased DNAME target, missing SVCB additional records)', () => {
  // Guards the allowances: knotd's own answers, altered the way dmsd used to answer, must show as differences.
  const reencode = (m: Message) => parseAnswer(encodeMessage(m));
  let chased = 0;
  let stripped = 0;
  for (const e of exchanges) {
    if (e.a instanceof Error || !e.a.msg) continue;
    const m = e.a.msg;
    if (e.query.type === RRType.CNAME && m.rcode === Rcode.NOERROR && m.answer.some((rr) => rr.type === RRType.DNAME)) {
      // Following the synthesized target to a name that does not exist: NXDOMAIN with the SOA.
      const origin = Name.from(zones.find((z) => e.query.name.isSubdomainOf(Name.from(z.name)))!.name);
      const soa = { name: origin, type: RRType.SOA, class: 1, ttl: 300, rdata: soaRdata() };
      const wrong = reencode({ ...m, rcode: Rcode.NXDOMAIN, authority: [soa] });
      assert.ok(unexplained({ query: e.query, a: e.a, b: wrong }, STRICT).length > 0, describeQuery(e.query));
      chased++;
    }
    // Additional records that repeat the answer are allowed to be missing (rrset-once): strip only real additions.
    const inAnswer = new Set(m.answer.map((rr) => `${rr.name.key}|${rr.type}`));
    if (m.answer.some((rr) => rr.type === RRType.SVCB || rr.type === RRType.HTTPS) && m.additional.some((rr) => !inAnswer.has(`${rr.name.key}|${rr.type}`))) {
      const wrong = reencode({ ...m, additional: [] });
      assert.ok(unexplained({ query: e.query, a: e.a, b: wrong }, STRICT).length > 0, describeQuery(e.query));
      stripped++;
    }
  }
  assert.ok(chased > 0 && stripped > 0, `nothing to alter: ${chased} DNAME/CNAME answers, ${stripped} SVCB answers with additional records`);
});

/** The SOA RDATA both fixture zones share: ns1.answers.test. hostmaster.answers.test. 1 7200 3600 1209600 300. */
function soaRdata(): Uint8Array {
  const n = (s: string) => Name.from(s).toWire();
  const nums = Buffer.alloc(20);
  const fields = [1, 7200, 3600, 1209600, 300];
  for (let i = 0; i < fields.length; i++) nums.writeUInt32BE(fields[i], i * 4);
  return Uint8Array.from([...n('ns1.answers.test'), ...n('hostmaster.answers.test'), ...nums]);
}
