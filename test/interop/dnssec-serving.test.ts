// dmsd serving signed zones, proven by real peers (issue 9): a zone given a DNSSEC policy with zone_tool is signed by
// dmsd and served so that unbound (a validating resolver whose only trust anchor is the DS `show_dnssec` prints) and
// delv validate every kind of answer (positive, NXDOMAIN, NODATA, wildcard expansion and wildcard NODATA, CNAME,
// DNAME, empty non-terminal, secure and insecure delegations), with NSEC and with NSEC3; dnssec-verify and
// ldns-verify-zone accept its AXFR; an RFC 2136 UPDATE is signed incrementally (only what it touches) and still
// validates; a knotd secondary follows by IXFR and validates through unbound; a restart serves the stored signatures
// (no re-sign); the operator's history shows no DNSSEC records; a missing key-encryption key stops dmsd at start.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFromText, type TsigKey } from '../../src/dns/tsig.js';
import { startUnbound, type Unbound } from '../helpers/acme.js';
import { dig, postgresArgs, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { type Secondary, startKnotSecondary, until, logged } from '../helpers/secondaries.js';
import { dmsdEntry, freePort } from '../helpers/servers.js';

// Not under .test: unbound answers that TLD itself (RFC 6761 locally served zone).
const ZONE = 'signed.example';
const ZONE_TEXT = `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
mx MX 10 www
*.wild TXT "wild"
a.b.ent A 192.0.2.3
cn CNAME www
dn DNAME target
x.target A 192.0.2.4
insecure NS ns.insecure
ns.insecure A 192.0.2.9
secure NS ns.secure
secure DS 12345 13 2 ${'ab'.repeat(32)}
ns.secure A 192.0.2.10
big TXT "${'x'.repeat(200)}" "${'y'.repeat(170)}"
`;

const keyId = (k: TsigKey) => k.name.toString().replace(/\.$/, '');
const spec = (k: TsigKey) => `${k.algorithm}:${keyId(k)}:${Buffer.from(k.secret).toString('base64')}`;

function run(cmd: string, args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...(input !== undefined ? { input } : {}) });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Ask a resolver (recursion desired) and parse status, the AD flag and the answer lines. */
function resolve(port: number, name: string, type: string): { status: string; ad: boolean; answer: string[]; raw: string } {
  const raw = run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=5', '+dnssec', name, type]).out;
  const status = /status: (\w+)/.exec(raw)?.[1] ?? 'none';
  const flags = /;; flags: ([^;]*);/.exec(raw)?.[1] ?? '';
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(raw)?.[1] ?? '';
  const answer = section.split('\n').filter((l) => l.trim() !== '' && !/\sRRSIG\s/.test(l));
  return { status, ad: /\bad\b/.test(flags), answer, raw };
}

/** Every kind of answer a validator must be able to prove: name, type, status, data expected in the answer. */
const CASES: [string, string, string, RegExp | null][] = [
  [`www.${ZONE}`, 'A', 'NOERROR', /192\.0\.2\.2/],
  [`nx.${ZONE}`, 'A', 'NXDOMAIN', null],
  [`nx.deeper.${ZONE}`, 'TXT', 'NXDOMAIN', null],
  [`www.${ZONE}`, 'TXT', 'NOERROR', null],
  [ZONE, 'DNSKEY', 'NOERROR', /DNSKEY/],
  [`x.wild.${ZONE}`, 'TXT', 'NOERROR', /"wild"/],
  [`x.y.wild.${ZONE}`, 'TXT', 'NOERROR', /"wild"/],
  [`x.wild.${ZONE}`, 'A', 'NOERROR', null],
  [`cn.${ZONE}`, 'A', 'NOERROR', /192\.0\.2\.2/],
  [`x.dn.${ZONE}`, 'A', 'NOERROR', /192\.0\.2\.4/],
  [`b.ent.${ZONE}`, 'A', 'NOERROR', null],
  [`ent.${ZONE}`, 'TXT', 'NOERROR', null],
  [`insecure.${ZONE}`, 'DS', 'NOERROR', null],
  [`secure.${ZONE}`, 'DS', 'NOERROR', /12345 13 2/],
  [`mx.${ZONE}`, 'MX', 'NOERROR', /10 www/],
  // Over 512 octets only with its RRSIG: TC over UDP at that size, then TCP (see the TC test).
  [`big.${ZONE}`, 'TXT', 'NOERROR', /yyyy/],
];

/**
 * Answers that an NSEC3 opt-out chain cannot prove secure (RFC 5155 §9.2, §7.2.1/§8.8: an opt-out NSEC3 covering the next
 * closer name leaves room for an unsigned delegation): validators answer them without AD — as from BIND or Knot.
 */
const OPT_OUT_INSECURE = (name: string, type: string) =>
  /^(nx|new2)\./.test(name) || /wild\./.test(name) || (name.startsWith('insecure.') && type === 'DS');

const SETUPS: { backend: 'sqlite' | 'postgres'; policy: string; denial: 'NSEC' | 'NSEC3'; create?: string[] }[] = [
  { backend: 'sqlite', policy: 'default', denial: 'NSEC' },
  { backend: 'sqlite', policy: 'default-nsec3', denial: 'NSEC3' },
  // NSEC3 opt-out (RFC 5155 §6): the insecure delegation has no NSEC3; its DS absence is proven by the closest
  // provable encloser and an opt-out NSEC3 covering the next closer name.
  { backend: 'sqlite', policy: 'optout', denial: 'NSEC3', create: ['create_dnssec_policy', 'optout', 'nsec3', 'nsec3_opt_out=yes'] },
  { backend: 'postgres', policy: 'default-nsec3', denial: 'NSEC3' },
];

for (const setup of SETUPS)
  describe(`dmsd serves a signed zone (${setup.policy}, ${setup.denial}, ${setup.backend}): unbound, delv, verifiers, UPDATE, IXFR`, () => {
    let data: string;
    let pg: TestPostgres | undefined;
    let url = '';
    let dmsd: Server;
    let unbound: Unbound;
    let knot: Secondary | undefined;
    let knotUnbound: Unbound | undefined;
    let ds = '';
    let xfrKey: TsigKey;
    let dynKey: TsigKey;
    const store = () => (setup.backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
    const nsupdate = (lines: string[]) =>
      run('nsupdate', ['-y', spec(dynKey)], [`server 127.0.0.1 ${dmsd.port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n'));
    const axfr = (): string => run('dig', ['@127.0.0.1', '-p', String(dmsd.tcpPort), '+tcp', '-y', spec(xfrKey), '+onesoa', '+noall', '+answer', ZONE, 'AXFR']).out;
    const verifyAxfr = (what: string) => {
      const file = join(data, `${what}.axfr`);
      const text = axfr();
      assert.match(text, /\sRRSIG\s/, `AXFR of ${what} carries signatures`);
      writeFileSync(file, text);
      const b = run('dnssec-verify', ['-z', '-o', ZONE, file]);
      assert.equal(b.code, 0, `dnssec-verify (${what}):\n${b.out}`);
      assert.match(b.out, /Zone fully signed/);
      const l = run('ldns-verify-zone', [file]);
      assert.equal(l.code, 0, `ldns-verify-zone (${what}):\n${l.out}`);
      assert.match(l.out, /Zone is verified and complete/);
      return text;
    };
    const optOut = setup.create !== undefined;
    const expectValidated = (port: number, name: string, type: string, status: string, data: RegExp | null, who = 'unbound') => {
      const r = resolve(port, name, type);
      // A bogus answer would be SERVFAIL: the status is checked for every answer, AD where the proof can be secure.
      assert.equal(r.status, status, `${who}: ${name} ${type}:\n${r.raw}`);
      if (!(optOut && OPT_OUT_INSECURE(name, type))) assert.ok(r.ad, `${who}: ${name} ${type} has AD (validated):\n${r.raw}`);
      if (data) assert.match(r.answer.join('\n'), data, `${who}: ${name} ${type}`);
      else if (status === 'NOERROR') assert.deepEqual(r.answer, [], `${who}: ${name} ${type} is NODATA`);
    };

    before(async () => {
      data = mkdtempSync(join(tmpdir(), 'dms-signed-'));
      if (setup.backend === 'postgres') {
        pg = await startPostgres();
        url = await pg.createDatabase();
      }
      const file = join(data, 'zone.txt');
      writeFileSync(file, ZONE_TEXT);
      zoneToolOk(store(), ['load_zone', '-i', file, ZONE]);
      const keyOf = (out: string, name: string) => keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? `x:${name}:`);
      xfrKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'xfr.key']), 'xfr.key');
      dynKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'dyn.key']), 'dyn.key');
      zoneToolOk(store(), ['add_transfer_rule', ZONE, 'key=xfr.key']);
      zoneToolOk(store(), ['add_update_grant', ZONE, 'grant dyn.key zonesub A AAAA TXT RRSIG NSEC']);
      if (setup.create) zoneToolOk(store(), setup.create);
      const shown = zoneToolOk(store(), ['--dnssec-kek', join(data, 'kek'), 'set_zone_dnssec_policy', ZONE, setup.policy]);
      ds = /IN DS (\d+ \d+ \d+ [0-9A-F]+)/.exec(shown)?.[1] ?? '';
      assert.notEqual(ds, '', shown);
      dmsd = await startDmsdDb(store(), ['--no-http', '--dnssec-kek', join(data, 'kek')]);
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 10000, 'zone served');
      unbound = await startUnbound(data, [ZONE], dmsd.port, { trustAnchors: [`${ZONE}. DS ${ds}`] });
    });
    after(async () => {
      await knotUnbound?.stop();
      await knot?.stop();
      await unbound?.stop();
      await dmsd?.stop();
      await pg?.stop();
      if (data) rmSync(data, { recursive: true, force: true });
    });

    test('show_dnssec prints the DS; the zone is served signed from the start', () => {
      assert.match(ds, /^\d+ 13 2 [0-9A-F]{64}$/);
      const r = dig(dmsd.port, ['+dnssec', '+norec', `www.${ZONE}`, 'A']);
      assert.match(r, /\sRRSIG\s+A 13 3 300 /);
      // DO=0: no DNSSEC records.
      const plain = dig(dmsd.port, ['+norec', `www.${ZONE}`, 'A']);
      assert.doesNotMatch(plain, /RRSIG/);
      const neg = dig(dmsd.port, ['+norec', `nx.${ZONE}`, 'A']);
      assert.doesNotMatch(neg, /NSEC|RRSIG/);
    });

    test(`unbound validates every kind of answer (${setup.denial})`, () => {
      for (const [name, type, status, data] of CASES) expectValidated(unbound.port, name, type, status, data);
      // The denial records are of the policy's kind.
      const nx = dig(dmsd.port, ['+dnssec', '+norec', `nx.${ZONE}`, 'A']);
      assert.match(nx, setup.denial === 'NSEC' ? /\sNSEC\s/ : /\sNSEC3\s/);
    });

    test('delv validates the answers of dmsd itself', () => {
      const anchors = join(data, 'anchors.conf');
      const [tag, alg, digestType, digest] = ds.split(' ');
      writeFileSync(anchors, `trust-anchors { ${ZONE}. static-ds ${tag} ${alg} ${digestType} "${digest}"; };\n`);
      for (const [name, type] of [
        [`www.${ZONE}`, 'A'],
        [`nx.${ZONE}`, 'A'],
        [`www.${ZONE}`, 'TXT'],
        [`x.wild.${ZONE}`, 'TXT'],
        [`x.wild.${ZONE}`, 'A'],
        [`b.ent.${ZONE}`, 'A'],
        [`insecure.${ZONE}`, 'DS'],
        [`secure.${ZONE}`, 'DS'],
        [`cn.${ZONE}`, 'CNAME'],
      ]) {
        if (optOut && OPT_OUT_INSECURE(name, type)) continue;
        const r = run('delv', ['@127.0.0.1', '-p', String(dmsd.port), '-a', anchors, `+root=${ZONE}`, name, type]);
        assert.match(r.out, /fully validated/, `delv ${name} ${type}:\n${r.out}`);
        assert.doesNotMatch(r.out, /resolution failed: (?!ncache)/, `delv ${name} ${type}:\n${r.out}`);
      }
    });

    test('a referral carries DS (secure) or the proof of its absence (insecure)', () => {
      const secure = dig(dmsd.port, ['+dnssec', '+norec', `host.secure.${ZONE}`, 'A']);
      assert.match(secure, /AUTHORITY SECTION:[\s\S]*\sDS\s+12345[\s\S]*\sRRSIG\s+DS /);
      const insecure = dig(dmsd.port, ['+dnssec', '+norec', `host.insecure.${ZONE}`, 'A']);
      const expected =
        setup.denial === 'NSEC'
          ? /insecure\.signed\.example\.\s+\d+\s+IN\s+NSEC\s[^\n]*\sNS RRSIG NSEC\n/
          : setup.create
            ? /\sNSEC3\s+1 1 0 - /
            : /\sNSEC3\s[^\n]*\sNS\n/;
      assert.match(insecure, expected);
      assert.doesNotMatch(insecure, /\sDS\s/);
    });

    test('TC when the signed answer does not fit the UDP size; complete over TCP; DO=0 unchanged', () => {
      const udp = dig(dmsd.port, ['+dnssec', '+norec', '+bufsize=512', '+ignore', `big.${ZONE}`, 'TXT']);
      assert.match(udp, /;; flags: qr aa tc;/, udp);
      const plain = dig(dmsd.port, ['+norec', '+bufsize=512', '+ignore', `big.${ZONE}`, 'TXT']);
      assert.doesNotMatch(plain, /flags:[^;]*\btc\b/, plain);
      const tcp = dig(dmsd.tcpPort, ['+tcp', '+dnssec', '+norec', `big.${ZONE}`, 'TXT']);
      assert.match(tcp, /\sRRSIG\s+TXT 13 3 300 /, tcp);
    });

    test('dnssec-verify and ldns-verify-zone accept the AXFR', () => {
      verifyAxfr('initial');
    });

    test('the operator history shows no DNSSEC records', () => {
      const shown = zoneToolOk(store(), ['show_zone', ZONE]);
      assert.doesNotMatch(shown, /RRSIG|NSEC|DNSKEY|CDS/);
      assert.equal(zoneToolOk(store(), ['ls_zi', ZONE]).trim().split('\n').length, 1);
    });

    test('an UPDATE is signed incrementally, served signed, validates; DNSSEC records cannot be updated', async () => {
      const knotPort = await freePort();
      zoneToolOk(store(), ['add_also_notify', ZONE, `127.0.0.1#${knotPort}`, 'key=xfr.key']);
      knot = startKnotSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: knotPort, key: xfrKey });
      await until('knotd AXFR', () => /AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot!.output()), knot.output);
      const before = servedSerial(dmsd.port, ZONE) as number;
      let r = nsupdate(['update add new.signed.example. 300 A 192.0.2.77', 'update delete www.signed.example. AAAA']);
      assert.equal(r.code, 0, r.out);
      const after = servedSerial(dmsd.port, ZONE) as number;
      assert.ok(after > before, `serial ${before} → ${after}`);
      expectValidated(unbound.port, `new.${ZONE}`, 'A', 'NOERROR', /192\.0\.2\.77/);
      expectValidated(unbound.port, `www.${ZONE}`, 'AAAA', 'NOERROR', null);
      expectValidated(unbound.port, `new2.${ZONE}`, 'A', 'NXDOMAIN', null);
      // Only what the change touched was signed: the new name, the changed RRset and the chain links next to them.
      const signedLines = () => dmsd.output().split('\n').filter((l) => l.includes('"msg":"zone signed"'));
      // (dmsd's log line may reach us a moment after the answer.)
      await until('the UPDATE signed in the log', () => signedLines().length >= 2, dmsd.output, 5000);
      const lines = signedLines();
      const last = JSON.parse(lines[lines.length - 1]) as { full: boolean; added: number };
      assert.equal(last.full, false, lines.join('\n'));
      assert.ok(last.added > 0 && last.added <= 12, `signer records added by the UPDATE: ${last.added}`);
      // RRSIG/NSEC by UPDATE: refused, nothing changes.
      r = nsupdate([`update add www.signed.example. 300 NSEC ${ZONE}. A`]);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /REFUSED/);
      assert.equal(servedSerial(dmsd.port, ZONE), after);
      verifyAxfr('after-update');
      // knotd follows by IXFR (only the changed records) and its copy validates.
      await until('knotd IXFR', () => /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot!.output()), () => knot!.output() + dmsd.output());
      assert.doesNotMatch(knot.output(), /fallback to AXFR|IXFR.*failed/i);
      knotUnbound = await startUnbound(data, [ZONE], knot.port, { trustAnchors: [`${ZONE}. DS ${ds}`] });
      expectValidated(knotUnbound.port, `new.${ZONE}`, 'A', 'NOERROR', /192\.0\.2\.77/, 'unbound via knotd');
      expectValidated(knotUnbound.port, `www.${ZONE}`, 'AAAA', 'NOERROR', null, 'unbound via knotd');
      expectValidated(knotUnbound.port, `nx.${ZONE}`, 'A', 'NXDOMAIN', null, 'unbound via knotd');
      const shown = zoneToolOk(store(), ['show_zone', ZONE]);
      assert.doesNotMatch(shown, /RRSIG|NSEC/);
    });

    test('a restart serves the stored signatures without signing again', async () => {
      const sig = () => /\sRRSIG\s+A [^\n]+/.exec(dig(dmsd.port, ['+dnssec', '+norec', `new.${ZONE}`, 'A']))?.[0];
      const before = sig();
      assert.ok(before);
      await dmsd.stop();
      dmsd = await startDmsdDb(store(), ['--no-http', '--dnssec-kek', join(data, 'kek')]);
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 10000, 'zone served after restart');
      assert.equal(sig(), before);
      assert.doesNotMatch(dmsd.output(), /"msg":"zone signed"/);
    });

    test('without the key-encryption key dmsd stops at start with the reason', () => {
      if (setup.backend !== 'sqlite' || setup.denial !== 'NSEC') return;
      const entry = dmsdEntry(true) ?? dmsdEntry();
      const r = spawnSync(
        process.execPath,
        [...(entry!.endsWith('.ts') ? ['--import', 'tsx'] : []), entry!, ...store(), '--listen', '127.0.0.1:0', '--no-http', '--dnssec-kek', join(data, 'missing-kek')],
        { encoding: 'utf8', timeout: 30_000 },
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /cannot use the DNSSEC keys/);
    });
  });

// The rollovers on both backends: the key states, their timings and the parent's DS live in the database.
for (const backend of ['sqlite', 'postgres'] as const)
describe(`a ZSK rollover and signature refreshes under a fast policy (${backend}): unbound sees no validation failure`, () => {
  let data: string;
  let pg: TestPostgres | undefined;
  let url = '';
  let dmsd: Server;
  let unbound: Unbound;
  const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
  const kek = () => ['--dnssec-kek', join(data, 'kek')];

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-roll-'));
    if (backend === 'postgres') {
      pg = await startPostgres();
      url = await pg.createDatabase();
    }
    const file = join(data, 'zone.txt');
    writeFileSync(file, ZONE_TEXT);
    zoneToolOk(store(), ['load_zone', file, ZONE]);
    // Seconds instead of days: signatures valid 30 s, refreshed 10 s before expiry; a ZSK leaves the DNSKEY RRset
    // validity − refresh + max zone TTL = 21 s after it stopped signing.
    zoneToolOk(store(), [
      'create_dnssec_policy', 'fast', 'keys=ksk-zsk', 'ksk_lifetime=unlimited', 'zsk_lifetime=unlimited', 'signatures_validity=30',
      'signatures_validity_dnskey=30', 'signatures_refresh=10', 'signatures_jitter=0', 'dnskey_ttl=1', 'max_zone_ttl=1',
      'zone_propagation_delay=0', 'publish_safety=0', 'retire_safety=0', 'parent_ds_ttl=1', 'parent_propagation_delay=0',
    ]);
    const shown = zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', ZONE, 'fast']);
    const ds = /IN DS (\d+ \d+ \d+ [0-9A-F]+)/.exec(shown)?.[1] ?? '';
    assert.notEqual(ds, '', shown);
    dmsd = await startDmsdDb(store(), ['--no-http', ...kek(), '--dnssec-interval', '1']);
    await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 10000, 'zone served');
    unbound = await startUnbound(data, [ZONE], dmsd.port, { trustAnchors: [`${ZONE}. DS ${ds}`] });
  });
  after(async () => {
    await unbound?.stop();
    await dmsd?.stop();
    await pg?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('queries answered AD throughout; the ZSK goes published → active → retired → removed', async () => {
    const failures: string[] = [];
    let queries = 0;
    const ask = () => {
      for (const [name, type, status] of [
        [`www.${ZONE}`, 'A', 'NOERROR'],
        [`nx.${ZONE}`, 'A', 'NXDOMAIN'],
      ] as const) {
        const r = resolve(unbound.port, name, type);
        queries++;
        if (r.status !== status || !r.ad) failures.push(`${new Date().toISOString()} ${name} ${type}: ${r.status} ad=${r.ad}`);
      }
    };
    const keyMoves = () => dmsd.output().split('\n').filter((l) => l.includes('"msg":"DNSSEC keys moved along the policy"'));
    ask();
    zoneToolOk(store(), ['rollover_zone_key', ZONE, 'zsk']);
    const started = Date.now();
    // The whole rollover (about 23 s) plus a refresh or two.
    while (Date.now() - started < 40_000 && !keyMoves().some((l) => l.includes('"to":"removed"'))) {
      ask();
      await new Promise((r) => setTimeout(r, 300));
    }
    for (let i = 0; i < 5; i++) ask();
    const moves = keyMoves().join('\n');
    for (const to of ['published', 'active', 'retired', 'removed']) assert.match(moves, new RegExp(`"role":"zsk","to":"${to}"`), moves);
    await logged(dmsd!.output, /"msg":"signatures due: new version made for the refresh"|DNSSEC signature refresh/);
    assert.deepEqual(failures, [], `${failures.length} of ${queries} answers not validated`);
    assert.ok(queries > 50);
    // Every step was a version: the operator's history shows them, with no DNSSEC records.
    assert.ok(zoneToolOk(store(), ['ls_zi', ZONE]).trim().split('\n').length >= 5);
    assert.doesNotMatch(zoneToolOk(store(), ['show_zone', ZONE]), /RRSIG|NSEC|DNSKEY/);
  });
});

for (const backend of ['sqlite', 'postgres'] as const)
describe(`a CSK rollover by double-DS with the DS in a parent zone served by dmsd (${backend}): unbound validates throughout`, () => {
  const PARENT = 'example';
  const CHILD = ZONE; // signed.example
  let data: string;
  let pg: TestPostgres | undefined;
  let url = '';
  let dmsd: Server;
  let unbound: Unbound;
  let dynKey: TsigKey;
  const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
  const kek = () => ['--dnssec-kek', join(data, 'kek')];
  const dsOf = (shown: string) => [...shown.matchAll(/IN DS (\d+ \d+ \d+ [0-9A-F]+)/g)].map((m) => m[1]);
  const parentUpdate = (lines: string[]) =>
    run('nsupdate', ['-y', spec(dynKey)], [`server 127.0.0.1 ${dmsd.port}`, `zone ${PARENT}`, ...lines, 'send', ''].join('\n'));

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-csk-roll-'));
    if (backend === 'postgres') {
      pg = await startPostgres();
      url = await pg.createDatabase();
    }
    const childFile = join(data, 'child.txt');
    writeFileSync(childFile, '$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.2\n');
    zoneToolOk(store(), ['load_zone', childFile, CHILD]);
    zoneToolOk(store(), [
      'create_dnssec_policy', 'fastcsk', 'keys=csk', 'csk_lifetime=unlimited', 'signatures_validity=30', 'signatures_validity_dnskey=30',
      'signatures_refresh=10', 'signatures_jitter=0', 'dnskey_ttl=1', 'max_zone_ttl=1', 'zone_propagation_delay=0', 'publish_safety=0',
      'retire_safety=0', 'parent_ds_ttl=1', 'parent_propagation_delay=0', 'checkds=no',
    ]);
    const childDs = dsOf(zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', CHILD, 'fastcsk']));
    assert.equal(childDs.length, 1);
    const parentFile = join(data, 'parent.txt');
    writeFileSync(
      parentFile,
      `$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 127.0.0.1\nsigned NS ns1.signed\nns1.signed A 127.0.0.1\nsigned 1 DS ${childDs[0]}\n`,
    );
    zoneToolOk(store(), ['load_zone', '-i', parentFile, PARENT]);
    dynKey = keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(zoneToolOk(store(), ['generate_tsig_key', 'registrar.key']))?.[1] ?? 'x:y:');
    zoneToolOk(store(), ['add_update_grant', PARENT, 'grant registrar.key zonesub DS']);
    const parentDs = dsOf(zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', PARENT, 'default']));
    dmsd = await startDmsdDb(store(), ['--no-http', ...kek(), '--dnssec-interval', '1']);
    await waitFor(() => servedSerial(dmsd.port, CHILD) !== undefined && servedSerial(dmsd.port, PARENT) !== undefined, 10000, 'zones served');
    // The only trust anchor is the parent's: the child validates through the DS the parent serves.
    unbound = await startUnbound(data, [PARENT, CHILD], dmsd.port, { trustAnchors: [`${PARENT}. DS ${parentDs[0]}`] });
  });
  after(async () => {
    await unbound?.stop();
    await dmsd?.stop();
    await pg?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('new CSK published with its CDS; DS added at the parent; ds_seen; old CSK retired, its DS removed; zero failures', async () => {
    const failures: string[] = [];
    let queries = 0;
    const ask = () => {
      for (const [name, type, status] of [
        [`www.${CHILD}`, 'A', 'NOERROR'],
        [`nx.${CHILD}`, 'A', 'NXDOMAIN'],
        [CHILD, 'DNSKEY', 'NOERROR'],
      ] as const) {
        const r = resolve(unbound.port, name, type);
        queries++;
        if (r.status !== status || !r.ad) failures.push(`${new Date().toISOString()} ${name} ${type}: ${r.status} ad=${r.ad}`);
      }
    };
    const moves = () => dmsd.output().split('\n').filter((l) => l.includes('"msg":"DNSSEC keys moved along the policy"')).join('\n');
    const poll = async (what: string, cond: () => boolean, ms = 30_000) => {
      const start = Date.now();
      while (!cond()) {
        if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms\n${moves()}\n${failures.join('\n')}`);
        ask();
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    const cds = () =>
      run('dig', ['@127.0.0.1', '-p', String(dmsd.port), '+norec', '+short', CHILD, 'CDS']).out.trim().split('\n').filter((l) => /^\d+ \d+ \d+ /.test(l));
    ask();
    const oldDs = cds();
    assert.equal(oldDs.length, 1);
    const oldTag = Number(oldDs[0].split(' ')[0]);
    zoneToolOk(store(), ['rollover_zone_key', CHILD, 'csk']);
    // The successor is published, then signs beside the old key: its CDS appears.
    await poll('CDS of the new CSK', () => cds().length === 2);
    const fresh = cds().find((l) => Number(l.split(' ')[0]) !== oldTag)!;
    const newTag = Number(fresh.split(' ')[0]);
    // The registrar puts the new DS in the parent (dmsd signs the parent's change); the operator confirms.
    let r = parentUpdate([`update add signed.${PARENT}. 1 DS ${fresh.split(' ').slice(0, 3).join(' ')} ${fresh.split(' ').slice(3).join('')}`]);
    assert.equal(r.code, 0, r.out);
    zoneToolOk(store(), ['ds_seen', CHILD, String(newTag)]);
    await poll('old CSK retired', () => /"to":"retired"/.test(moves()));
    // The old DS leaves the parent; the old key leaves the DNSKEY RRset a retire interval later.
    r = parentUpdate([`update delete signed.${PARENT}. DS ${oldDs[0].split(' ').slice(0, 3).join(' ')} ${oldDs[0].split(' ').slice(3).join('')}`]);
    assert.equal(r.code, 0, r.out);
    await poll('old CSK removed', () => /"to":"removed"/.test(moves()), 40_000);
    for (let i = 0; i < 5; i++) ask();
    assert.deepEqual(failures, [], `${failures.length} of ${queries} answers not validated\n${moves()}`);
    assert.deepEqual(
      cds().map((l) => Number(l.split(' ')[0])),
      [newTag],
    );
    const ds = run('dig', ['@127.0.0.1', '-p', String(dmsd.port), '+norec', '+short', `signed.${PARENT}`, 'DS']).out.trim();
    assert.match(ds, new RegExp(`^${newTag} 13 2 `));
  });
});
