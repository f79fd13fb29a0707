// DMS's DNSSEC policy timing checks beside BIND's (named-checkconf on the same dnssec-policy): every policy BIND
// refuses for its key lifetime or signature refresh, DMS refuses too. DMS is stricter on lifetimes by design: BIND
// wants a lifetime longer than the retire interval only, DMS wants publication + retirement, so that a key's own
// rollover cannot begin while its predecessor is still being withdrawn (one rollover at a time per zone, issue 9).
// The gap between the two is exactly the publication interval, which this test also pins down.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type DnssecPolicy, type KeyRole, policyProblems, rolloverDuration, rolloverIntervals } from '../../src/services/dnssec.js';

const work = mkdtempSync(join(tmpdir(), 'dms-policy-bind-'));
after(() => rmSync(work, { recursive: true, force: true }));

type Timing = Pick<
  DnssecPolicy,
  'dnskeyTtl' | 'maxZoneTtl' | 'zonePropagationDelay' | 'parentDsTtl' | 'parentPropagationDelay' | 'publishSafety' | 'retireSafety' | 'signatureValidity' | 'signatureRefresh'
>;

const BIND_DEFAULT: Timing = {
  dnskeyTtl: 3600, maxZoneTtl: 86400, zonePropagationDelay: 300, parentDsTtl: 86400, parentPropagationDelay: 3600,
  publishSafety: 3600, retireSafety: 3600, signatureValidity: 14 * 86400, signatureRefresh: 5 * 86400,
};

function bindPolicy(t: Timing, keys: string): string {
  return `dnssec-policy "p" {
  dnskey-ttl ${t.dnskeyTtl};
  max-zone-ttl ${t.maxZoneTtl};
  zone-propagation-delay ${t.zonePropagationDelay};
  parent-ds-ttl ${t.parentDsTtl};
  parent-propagation-delay ${t.parentPropagationDelay};
  publish-safety ${t.publishSafety};
  retire-safety ${t.retireSafety};
  signatures-validity ${t.signatureValidity};
  signatures-validity-dnskey ${t.signatureValidity};
  signatures-refresh ${t.signatureRefresh};
  signatures-jitter 0;
  keys { ${keys} };
};
`;
}

let n = 0;
/** named-checkconf's complaints about the policy (empty: accepted). */
function bindComplaints(conf: string): string[] {
  const file = join(work, `p${++n}.conf`);
  writeFileSync(file, conf);
  const r = spawnSync('named-checkconf', [file], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /time it takes to do a rollover|signatures-refresh must be/.test(l));
  assert.equal(r.status === 0, lines.length === 0, `named-checkconf status ${r.status} vs complaints: ${r.stdout}${r.stderr}`);
  return lines;
}

const keysFor = (role: KeyRole, life: number): string =>
  role === 'csk'
    ? `csk lifetime ${life} algorithm 13;`
    : role === 'zsk'
      ? `ksk lifetime unlimited algorithm 13; zsk lifetime ${life} algorithm 13;`
      : `ksk lifetime ${life} algorithm 13; zsk lifetime unlimited algorithm 13;`;

/** The shortest lifetime (seconds) named-checkconf accepts for `role`, by bisection. */
function bindMinimum(t: Timing, role: KeyRole): number {
  let lo = 1; // refused
  let hi = 400 * 86400; // accepted
  assert.equal(bindComplaints(bindPolicy(t, keysFor(role, hi))).length, 0);
  while (hi - lo > 1) {
    const m = Math.floor((lo + hi) / 2);
    if (bindComplaints(bindPolicy(t, keysFor(role, m))).length > 0) lo = m;
    else hi = m;
  }
  return hi;
}

function dmsRefuses(t: Timing, role: KeyRole, life: number): boolean {
  const keys = role === 'csk' ? 'csk' : 'ksk-zsk';
  const lifetimes: Partial<Record<KeyRole, number>> = role === 'csk' ? { csk: life } : role === 'zsk' ? { ksk: 0, zsk: life } : { ksk: life, zsk: 0 };
  const problems = policyProblems({
    ...t,
    keys,
    algorithmNumber: 13,
    keyBits: null,
    lifetimes,
    signatureValidityDnskey: t.signatureValidity,
    signatureJitter: 0,
    purgeKeys: 0,
    denial: 'nsec',
    nsec3: { iterations: 0, saltLength: 0, optOut: false },
    cds: true,
    cdnskey: true,
    cdsDigestTypes: [2],
    checkDs: 'auto',
    parentalAgents: [],
  });
  return problems.some((p) => /lifetime .* is shorter than a rollover needs/.test(p));
}

const TIMINGS: [string, Timing][] = [
  ['BIND defaults', BIND_DEFAULT],
  ['short TTLs, accelerated', { ...BIND_DEFAULT, dnskeyTtl: 60, maxZoneTtl: 300, zonePropagationDelay: 5, parentDsTtl: 120, parentPropagationDelay: 10, publishSafety: 5, retireSafety: 5, signatureValidity: 3600, signatureRefresh: 1200 }],
  ['long parent DS TTL', { ...BIND_DEFAULT, parentDsTtl: 2 * 86400, parentPropagationDelay: 6 * 3600, maxZoneTtl: 3600 }],
];

for (const [what, t] of TIMINGS)
  test(`key lifetimes (${what}): every lifetime named-checkconf refuses, DMS refuses; DMS asks for the publication interval more`, () => {
    const i = rolloverIntervals(t);
    for (const role of ['zsk', 'ksk', 'csk'] as const) {
      const bindMin = bindMinimum(t, role);
      const dmsMin = rolloverDuration(t, role);
      assert.ok(dmsRefuses(t, role, bindMin - 1), `${role}: BIND refuses ${bindMin - 1}, DMS accepts it`);
      assert.ok(dmsRefuses(t, role, dmsMin - 1), `${role}: DMS accepts ${dmsMin - 1}`);
      assert.ok(!dmsRefuses(t, role, dmsMin), `${role}: DMS refuses ${dmsMin}`);
      assert.equal(bindComplaints(bindPolicy(t, keysFor(role, dmsMin))).length, 0, `${role}: BIND refuses DMS's minimum ${dmsMin}`);
      // BIND's bound is the retire interval (first accepted: one second more); DMS's adds the publication interval.
      assert.equal(dmsMin - (bindMin - 1), i.publication, `${role}: BIND ${bindMin}, DMS ${dmsMin}`);
    }
  });

test('signature refresh: named-checkconf and DMS draw the line at 90% of the validity alike', () => {
  for (const [validity, refresh] of [[10 * 86400, 9 * 86400], [10 * 86400, 9 * 86400 + 1], [10 * 86400, 10 * 86400], [1000, 900], [1000, 901]]) {
    const t = { ...BIND_DEFAULT, signatureValidity: validity, signatureRefresh: refresh };
    const bind = bindComplaints(bindPolicy(t, 'csk lifetime unlimited algorithm 13;')).length > 0;
    const dms = dmsRefusesRefresh(t);
    assert.equal(dms, bind, `validity ${validity} refresh ${refresh}: BIND ${bind ? 'refuses' : 'accepts'}, DMS ${dms ? 'refuses' : 'accepts'}`);
  }
});

function dmsRefusesRefresh(t: Timing): boolean {
  return policyProblems({
    ...t, keys: 'csk', algorithmNumber: 13, keyBits: null, lifetimes: { csk: 0 }, signatureValidityDnskey: t.signatureValidity, signatureJitter: 0,
    purgeKeys: 0, denial: 'nsec', nsec3: { iterations: 0, saltLength: 0, optOut: false }, cds: true, cdnskey: true, cdsDigestTypes: [2],
    checkDs: 'auto', parentalAgents: [],
  }).some((p) => /signature refresh/.test(p));
}
