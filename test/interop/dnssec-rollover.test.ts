// Key transitions of a signed zone that change what the parent must hold (issue 9), each proven by unbound (a real
// validating resolver) whose only trust anchor is the parent's DS, querying throughout:
// - an algorithm rollover RSASHA256 → ECDSAP256SHA256 by RFC 6781 §4.1.4's conservative steps (new signatures, new
//   DNSKEY, new DS, DNSKEY removal, signature removal), with unbound's harden-algo-downgrade on (it wants a signature
//   of every algorithm the DS set names): zero answers fail to validate;
// - secure → insecure: the CDS/CDNSKEY delete records (RFC 8078 §4) are published first, the keys stay until the DS is
//   gone from the parent, then the zone is served unsigned: no answer is ever bogus;
// - the events of each transition are in show_dnssec.
// The parent zone is served (and signed) by the same dmsd; the registrar's DS changes are RFC 2136 UPDATEs (nsupdate).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyFromText, type TsigKey } from '../../src/dns/tsig.js';
import { startUnbound, type Unbound } from '../helpers/acme.js';
import { postgresArgs, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { freePort, knotConf, type LoggedProcess, namedOptions, spawnLogged } from '../helpers/servers.js';

const PARENT = 'example';
const CHILD = 'signed.example';

function run(cmd: string, args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...(input !== undefined ? { input } : {}) });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Ask a resolver and parse status, the AD flag and the answer lines. */
function resolve(port: number, name: string, type: string): { status: string; ad: boolean; raw: string } {
  const raw = run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=5', '+dnssec', name, type]).out;
  const status = /status: (\w+)/.exec(raw)?.[1] ?? 'none';
  const flags = /;; flags: ([^;]*);/.exec(raw)?.[1] ?? '';
  return { status, ad: /\bad\b/.test(flags), raw };
}

const keyId = (k: TsigKey) => k.name.toString().replace(/\.$/, '');
const spec = (k: TsigKey) => `${k.algorithm}:${keyId(k)}:${Buffer.from(k.secret).toString('base64')}`;
const dsOf = (shown: string) => [...shown.matchAll(/IN DS (\d+ \d+ \d+ [0-9A-F]+)/g)].map((m) => m[1]);
/** "tag alg type HEX…" (dig +short may split the digest) → the DS RDATA text. */
const dsText = (l: string) => `${l.split(' ').slice(0, 3).join(' ')} ${l.split(' ').slice(3).join('')}`;

// Fast timings: TTLs of 2 s everywhere (zone data, DNSKEY, DS), so every wait of the rollover is a few seconds while
// unbound really caches and re-fetches; the policy's max zone TTL and DS TTL match what is served.
const FAST = [
  'signatures_validity=60', 'signatures_validity_dnskey=60', 'signatures_refresh=20', 'signatures_jitter=0', 'dnskey_ttl=2',
  'max_zone_ttl=2', 'zone_propagation_delay=1', 'publish_safety=0', 'retire_safety=0', 'parent_ds_ttl=2', 'parent_propagation_delay=1',
  'checkds=no',
];

/** A parent zone signed by dmsd holding the child's DS, the child signed by policy `childPolicy`, unbound on top. */
class Setup {
  data = '';
  dmsd!: Server;
  unbound!: Unbound;
  dynKey!: TsigKey;
  failures: string[] = [];
  queries = 0;
  pg: TestPostgres | undefined;
  url = '';
  constructor(readonly backend: 'sqlite' | 'postgres' = 'sqlite') {}
  store = () => (this.backend === 'postgres' ? postgresArgs(this.url) : sqliteArgs(this.data));
  kek = () => ['--dnssec-kek', join(this.data, 'kek')];

  async start(prefix: string, policies: string[][], childPolicy: string, unboundExtra: string[] = []): Promise<void> {
    this.data = mkdtempSync(join(tmpdir(), prefix));
    if (this.backend === 'postgres') {
      this.pg = await startPostgres();
      this.url = await this.pg.createDatabase();
    }
    const childFile = join(this.data, 'child.txt');
    writeFileSync(childFile, '$TTL 2\n@ SOA ns1 hostmaster 1 3600 900 604800 2\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.2\n');
    zoneToolOk(this.store(), ['load_zone', '-i', childFile, CHILD]);
    for (const p of policies) zoneToolOk(this.store(), ['create_dnssec_policy', ...p]);
    const childDs = dsOf(zoneToolOk(this.store(), [...this.kek(), 'set_zone_dnssec_policy', CHILD, childPolicy]));
    assert.equal(childDs.length, 1);
    const parentFile = join(this.data, 'parent.txt');
    writeFileSync(
      parentFile,
      `$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 2\n@ NS ns1\nns1 A 127.0.0.1\nsigned NS ns1.signed\nns1.signed A 127.0.0.1\nsigned 2 DS ${childDs[0]}\n`,
    );
    zoneToolOk(this.store(), ['load_zone', '-i', parentFile, PARENT]);
    this.dynKey = keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(zoneToolOk(this.store(), ['generate_tsig_key', 'registrar.key']))?.[1] ?? 'x:y:');
    zoneToolOk(this.store(), ['add_update_grant', PARENT, 'grant registrar.key zonesub DS']);
    zoneToolOk(this.store(), ['add_update_grant', CHILD, 'grant registrar.key zonesub ANY']);
    const parentDs = dsOf(zoneToolOk(this.store(), [...this.kek(), 'set_zone_dnssec_policy', PARENT, 'default']));
    this.dmsd = await startDmsdDb(this.store(), ['--no-http', ...this.kek(), '--dnssec-interval', '1']);
    await waitFor(() => servedSerial(this.dmsd.port, CHILD) !== undefined && servedSerial(this.dmsd.port, PARENT) !== undefined, 10000, 'zones served');
    this.unbound = await startUnbound(this.data, [PARENT, CHILD], this.dmsd.port, { trustAnchors: [`${PARENT}. DS ${parentDs[0]}`], extra: unboundExtra });
  }

  async stop(): Promise<void> {
    await this.unbound?.stop();
    await this.dmsd?.stop();
    await this.pg?.stop();
    if (this.data) rmSync(this.data, { recursive: true, force: true });
  }

  parentUpdate(lines: string[]): void {
    const r = run('nsupdate', ['-y', spec(this.dynKey)], [`server 127.0.0.1 ${this.dmsd.port}`, `zone ${PARENT}`, ...lines, 'send', ''].join('\n'));
    assert.equal(r.code, 0, r.out);
  }

  /** An UPDATE of the child; returns nsupdate's exit status and output. */
  childUpdate(lines: string[]): { code: number | null; out: string } {
    return run('nsupdate', ['-y', spec(this.dynKey)], [`server 127.0.0.1 ${this.dmsd.port}`, `zone ${CHILD}`, ...lines, 'send', ''].join('\n'));
  }

  /** The child's records of `type` as dmsd serves them (+short lines). */
  served(type: string, name = CHILD): string[] {
    return run('dig', ['@127.0.0.1', '-p', String(this.dmsd.port), '+norec', '+short', '+dnssec', name, type])
      .out.trim()
      .split('\n')
      .filter((l) => l !== '');
  }

  moves(): string {
    return this.dmsd
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"DNSSEC keys moved along the policy"'))
      .join('\n');
  }

  /** Query unbound; `secure`: every answer must carry AD; otherwise only the status must be right (never SERVFAIL). */
  ask(secure: boolean | (() => boolean)): void {
    for (const [name, type, status] of [
      [`www.${CHILD}`, 'A', 'NOERROR'],
      [`nx.${CHILD}`, 'A', 'NXDOMAIN'],
      [CHILD, 'DNSKEY', 'NOERROR'],
    ] as const) {
      const r = resolve(this.unbound.port, name, type);
      this.queries++;
      const wantAd = typeof secure === 'function' ? secure() : secure;
      if (r.status !== status || (wantAd && !r.ad)) this.failures.push(`${new Date().toISOString()} ${name} ${type}: ${r.status} ad=${r.ad}`);
    }
  }

  async poll(what: string, cond: () => boolean, secure: boolean | (() => boolean) = true, ms = 40_000): Promise<void> {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms\n${this.moves()}\n${this.failures.join('\n')}`);
      this.ask(secure);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

// On both backends: the key states, their timings and the parent's DS live in the database.
for (const backend of ['sqlite', 'postgres'] as const)
describe(`an algorithm rollover RSASHA256 → ECDSAP256SHA256 (RFC 6781 §4.1.4, ${backend}): unbound with harden-algo-downgrade validates throughout`, () => {
  const s = new Setup(backend);
  before(async () => {
    await s.start(
      'dms-alg-roll-',
      [
        ['rsa', 'keys=csk', 'algorithm=RSASHA256', 'csk_lifetime=unlimited', ...FAST],
        ['ec', 'keys=ksk-zsk', 'algorithm=ECDSAP256SHA256', 'ksk_lifetime=unlimited', 'zsk_lifetime=unlimited', ...FAST],
      ],
      'rsa',
      ['  harden-algo-downgrade: yes'],
    );
  });
  after(() => s.stop());

  test('new signatures, new DNSKEY, DS swapped at the parent, old DNSKEY removed, old signatures removed; zero failures', async () => {
    s.ask(true);
    const algs = (type: string) => new Set(s.served(type).filter((l) => /^\d+ 3 \d+ /.test(l)).map((l) => Number(l.split(' ')[2])));
    const sigAlgs = () => new Set(s.served('A', `www.${CHILD}`).filter((l) => /^A \d+ /.test(l)).map((l) => Number(l.split(' ')[1])));
    assert.deepEqual([...algs('DNSKEY')], [8]);
    const oldCds = s.served('CDS').filter((l) => /^\d+ 8 \d+ /.test(l));
    assert.equal(oldCds.length, 1);
    const shown = zoneToolOk(s.store(), [...s.kek(), 'set_zone_dnssec_policy', CHILD, 'ec']);
    assert.match(shown, /algorithm\/key scheme rollover requested/);
    // 1. new RRSIGs: ECDSA signatures beside the RSA ones while the DNSKEY RRset is still RSA only.
    await s.poll('ECDSA signatures before the ECDSA DNSKEY', () => sigAlgs().has(13));
    assert.deepEqual([...algs('DNSKEY')], [8], 'the new keys sign before they are published');
    // 2. new DNSKEY; 3. the new KSK's CDS replaces the old one (once the new DNSKEY RRset is in every cache).
    await s.poll('new DNSKEY', () => algs('DNSKEY').has(13));
    await s.poll('CDS of the new KSK only', () => {
      const c = s.served('CDS').filter((l) => /^\d+ \d+ \d+ /.test(l));
      return c.length === 1 && / 13 2 /.test(` ${c[0]}`);
    });
    const newCds = s.served('CDS').filter((l) => /^\d+ 13 \d+ /.test(l))[0];
    const newTag = Number(newCds.split(' ')[0]);
    // The registrar swaps the DS (one UPDATE); the operator confirms.
    s.parentUpdate([`update delete signed.${PARENT}. DS ${dsText(oldCds[0])}`, `update add signed.${PARENT}. 2 DS ${dsText(newCds)}`]);
    zoneToolOk(s.store(), ['ds_seen', CHILD, String(newTag)]);
    // 4. DNSKEY removal (the old key still signs); 5. its signatures go.
    await s.poll('old DNSKEY removed', () => !algs('DNSKEY').has(8));
    await s.poll('old signatures removed', () => !sigAlgs().has(8) && /"to":"removed"/.test(s.moves()));
    for (let i = 0; i < 5; i++) s.ask(true);
    assert.deepEqual(s.failures, [], `${s.failures.length} of ${s.queries} answers not validated\n${s.moves()}`);
    assert.ok(s.queries > 30, `only ${s.queries} queries`);
    assert.deepEqual([...algs('DNSKEY')], [13]);
    assert.deepEqual([...sigAlgs()], [13]);
    const moves = s.moves();
    for (const to of ['presign', 'active', 'DS submit', 'DS withdraw', 'unpublished', 'removed']) assert.match(moves, new RegExp(`"to":"${to}"`), moves);
    // Every transition is an event the operator sees.
    const st = JSON.parse(zoneToolOk(s.store(), ['--json', 'show_dnssec', CHILD])) as { events: { summary: string }[]; keys: { state: string; algorithmNumber: number }[] };
    const ev = st.events.map((e) => e.summary).join('\n');
    for (const re of [/rollover to policy ec requested/, /presign/, /DS seen/, /unpublished/, /removed/]) assert.match(ev, re, ev);
    assert.ok(st.keys.every((k) => k.algorithmNumber === 13));
  });
});

for (const backend of ['sqlite', 'postgres'] as const)
describe(`secure → insecure (${backend}): the DS goes first (CDS/CDNSKEY delete), the keys only after; unbound never sees a bogus answer`, () => {
  const s = new Setup(backend);
  before(async () => {
    await s.start('dms-unsign-', [['fast', 'keys=csk', 'csk_lifetime=unlimited', ...FAST]], 'fast');
  });
  after(() => s.stop());

  test('set_zone_dnssec_policy none → CDS delete → DS removed at the parent → ds_withdrawn → served unsigned', async () => {
    s.ask(true);
    const cds = s.served('CDS').filter((l) => /^\d+ \d+ \d+ /.test(l));
    assert.equal(cds.length, 1);
    const tag = Number(cds[0].split(' ')[0]);
    const shown = zoneToolOk(s.store(), [...s.kek(), 'set_zone_dnssec_policy', CHILD, 'none']);
    assert.match(shown, /going insecure/);
    await s.poll('CDS delete', () => s.served('CDS').some((l) => /^0 0 0 00$/.test(l)));
    assert.ok(s.served('CDNSKEY').some((l) => /^0 3 0 AA==$/.test(l)), s.served('CDNSKEY').join('\n'));
    // Still signed and validating: the parent has not removed the DS.
    for (let i = 0; i < 10; i++) {
      s.ask(true);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(s.served('DNSKEY').some((l) => /^257 3 13 /.test(l)));
    assert.match(zoneToolOk(s.store(), ['show_dnssec', CHILD]), /ds_withdrawn/);
    s.parentUpdate([`update delete signed.${PARENT}. DS`]);
    zoneToolOk(s.store(), ['ds_withdrawn', CHILD, String(tag)]);
    let unsignedAt = 0;
    // From here answers may lose AD (the parent proves the delegation insecure) but never fail.
    await s.poll('zone served unsigned', () => {
      const unsigned = s.served('DNSKEY').length === 0 && !s.served('A', `www.${CHILD}`).some((l) => l.startsWith('A '));
      if (unsigned && unsignedAt === 0) unsignedAt = Date.now();
      return unsigned;
    }, false);
    await new Promise((r) => setTimeout(r, 3000));
    for (let i = 0; i < 5; i++) s.ask(false);
    assert.deepEqual(s.failures, [], `${s.failures.length} of ${s.queries} answers failed\n${s.moves()}`);
    // Insecure now: no AD, NOERROR.
    const r = resolve(s.unbound.port, `www.${CHILD}`, 'A');
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.ad, false);
    const st = JSON.parse(zoneToolOk(s.store(), ['--json', 'show_dnssec', CHILD])) as { policy: string | null; events: { summary: string }[]; keys: unknown[] };
    assert.equal(st.policy, null);
    assert.equal(st.keys.length, 0);
    const ev = st.events.map((e) => e.summary).join('\n');
    for (const re of [/unsign requested/, /DS withdraw:/, /DS withdrawn/, /removed/, /unsigned/]) assert.match(ev, re, ev);
    assert.doesNotMatch(zoneToolOk(s.store(), ['show_zone', CHILD]), /DNSKEY|RRSIG/);
  });
});

for (const backend of ['sqlite', 'postgres'] as const)
describe(`the parent DS check (${backend}): a CSK rollover waits until every parental agent (knotd and named serving the parent) has the new DS`, () => {
  let data = '';
  let pg: TestPostgres | undefined;
  let url = '';
  let dmsd: Server;
  let knot: LoggedProcess;
  let named: LoggedProcess;
  let knotPort = 0;
  let namedPort = 0;
  const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
  const kek = () => ['--dnssec-kek', join(data, 'kek')];
  const parentFile = () => join(data, 'parent.zone');
  let serial = 1;
  const writeParent = (ds: string[]) =>
    writeFileSync(
      parentFile(),
      `$TTL 60\n@ SOA ns1 hostmaster ${serial++} 3600 900 604800 60\n@ NS ns1\nns1 A 127.0.0.1\nsigned NS ns1.signed\nns1.signed A 127.0.0.1\n${ds.map((d) => `signed 2 DS ${d}\n`).join('')}`,
    );
  const status = () => JSON.parse(zoneToolOk(store(), ['--json', 'show_dnssec', CHILD])) as {
    keys: { tag: number; state: string; dsState: string | null }[];
    waiting: string[];
    events: { summary: string }[];
    parentCheck: { want: string; seen: number; of: number } | null;
    policy: string | null;
  };
  const servedDs = (port: number) =>
    run('dig', ['@127.0.0.1', '-p', String(port), '+norec', '+short', `signed.${PARENT}`, 'DS']).out.trim().split('\n').filter((l) => l !== '');
  const cds = () =>
    run('dig', ['@127.0.0.1', '-p', String(dmsd.port), '+norec', '+short', CHILD, 'CDS']).out.trim().split('\n').filter((l) => /^\d+ \d+ \d+ /.test(l));
  const pollFor = async (what: string, cond: () => boolean, ms = 40_000) => {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms\n${JSON.stringify(status(), null, 1)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  /** The parent zone in knotd changes by reload (the file rewritten), in named by an RFC 2136 UPDATE. */
  const knotReload = (ds: string[]) => {
    writeParent(ds);
    const r = run('knotc', ['-s', join(data, 'knot', 'knot.sock'), 'zone-reload', PARENT]);
    assert.equal(r.code, 0, r.out);
  };
  const namedUpdate = (lines: string[]) => {
    const r = run('nsupdate', [], [`server 127.0.0.1 ${namedPort}`, `zone ${PARENT}`, ...lines, 'send', ''].join('\n'));
    assert.equal(r.code, 0, r.out);
  };

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-checkds-'));
    if (backend === 'postgres') {
      pg = await startPostgres();
      url = await pg.createDatabase();
    }
    knotPort = await freePort();
    namedPort = await freePort();
    const childFile = join(data, 'child.txt');
    writeFileSync(childFile, '$TTL 2\n@ SOA ns1 hostmaster 1 3600 900 604800 2\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.2\n');
    zoneToolOk(store(), ['load_zone', childFile, CHILD]);
    zoneToolOk(store(), [
      'create_dnssec_policy', 'checked', 'keys=csk', 'csk_lifetime=unlimited', ...FAST.filter((w) => !w.startsWith('checkds=')),
      'checkds=explicit', `parental_agents=127.0.0.1#${knotPort},127.0.0.1#${namedPort}`,
    ]);
    const ds = dsOf(zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', CHILD, 'checked']));
    writeParent(ds);
    // named's copy of the parent zone is its own (UPDATEs go to its journal): a file of its own.
    const namedDir = join(data, 'named');
    const knotDir = join(data, 'knot');
    for (const d of [namedDir, knotDir]) mkdirSync(d);
    copyFileSync(parentFile(), join(namedDir, 'parent.zone'));
    writeFileSync(join(knotDir, 'knot.conf'), knotConf(knotDir, knotPort, [{ name: PARENT, file: parentFile() }]));
    knot = spawnLogged('knotd', ['-c', join(knotDir, 'knot.conf')], { dir: knotDir });
    writeFileSync(
      join(namedDir, 'named.conf'),
      [...namedOptions(namedDir, namedPort), `zone "${PARENT}" { type primary; file "${join(namedDir, 'parent.zone')}"; allow-update { 127.0.0.1; }; };`, ''].join('\n'),
    );
    named = spawnLogged('named', ['-g', '-c', join(namedDir, 'named.conf'), '-n', '1'], { dir: namedDir });
    await waitFor(() => servedDs(knotPort).length === 1 && servedDs(namedPort).length === 1, 20000, 'parent served by knotd and named');
    dmsd = await startDmsdDb(store(), ['--no-http', ...kek(), '--dnssec-interval', '1']);
    await waitFor(() => servedSerial(dmsd.port, CHILD) !== undefined, 10000, 'child served');
  });
  after(async () => {
    await dmsd?.stop();
    await knot?.stop();
    await named?.stop();
    await pg?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('DS seen at 1 of 2 servers holds the rollover; at 2 of 2 it goes on; going insecure waits until both dropped it', async () => {
    // The first key's DS is at both parents from the start: found without ds_seen.
    await pollFor('first DS seen by the check', () => status().keys[0]?.dsState === 'seen');
    const oldTag = status().keys[0].tag;
    assert.match(status().events.map((e) => e.summary).join('\n'), /DS seen: the parent serves it \(parent DS check: 2 of 2 servers\)/);
    zoneToolOk(store(), ['rollover_zone_key', CHILD, 'csk']);
    await pollFor('CDS of the new CSK', () => cds().length === 2);
    const fresh = cds().find((l) => Number(l.split(' ')[0]) !== oldTag) as string;
    const newTag = Number(fresh.split(' ')[0]);
    await pollFor('the check looks for the new DS', () => status().parentCheck?.want === 'seen' && status().parentCheck?.of === 2);
    // Only knotd has it: seen at 1 of 2, the old key stays.
    knotReload([dsText(cds().find((l) => Number(l.split(' ')[0]) === oldTag) as string), dsText(fresh)]);
    await pollFor('seen at 1 of 2', () => /seen at 1 of 2 servers/.test(status().waiting.join('\n')));
    await new Promise((r) => setTimeout(r, 4000));
    let st = status();
    assert.equal(st.keys.find((k) => k.tag === oldTag)?.state, 'active', 'the old CSK is not retired while one parent lacks the new DS');
    assert.equal(st.keys.find((k) => k.tag === newTag)?.dsState, 'submit');
    // named gets it too (UPDATE): the rollover goes on by itself.
    namedUpdate([`update add signed.${PARENT}. 2 DS ${dsText(fresh)}`]);
    await pollFor('old CSK retired', () => status().keys.find((k) => k.tag === oldTag)?.state !== 'active');
    st = status();
    assert.equal(st.keys.find((k) => k.tag === newTag)?.dsState, 'seen');
    assert.match(st.events.map((e) => e.summary).join('\n'), new RegExp(`CSK ${newTag} DS seen: the parent serves it \\(parent DS check: 2 of 2 servers\\)`));
    // A retired CSK stays a retire interval (validity − refresh + max zone TTL + delays = 43 s) for cached signatures.
    await pollFor('old CSK removed', () => !status().keys.some((k) => k.tag === oldTag), 80_000);
    // Secure → insecure: the keys stay while any parent still serves the DS.
    zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', CHILD, 'none']);
    await pollFor('CDS delete', () => cds().some((l) => /^0 0 0 00$/.test(l)));
    knotReload([]);
    await pollFor('gone at 1 of 2', () => /removal of DS .* gone at 1 of 2 servers/.test(status().waiting.join('\n')));
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(status().policy, 'checked', 'the keys stay while named still serves the DS');
    assert.ok(status().keys.some((k) => k.tag === newTag && k.state === 'active'));
    namedUpdate([`update delete signed.${PARENT}. DS`]);
    await pollFor('zone unsigned', () => status().policy === null);
    const ev = status().events.map((e) => e.summary).join('\n');
    assert.match(ev, new RegExp(`CSK ${newTag} DS withdrawn: the parent no longer serves it \\(parent DS check: 2 of 2 servers\\)`), ev);
    assert.equal(run('dig', ['@127.0.0.1', '-p', String(dmsd.port), '+norec', '+short', CHILD, 'DNSKEY']).out.trim(), '');
  });
});

for (const backend of ['sqlite', 'postgres'] as const)
describe(`NSEC3PARAM by RFC 2136 UPDATE (as BIND, ${backend}): add → NSEC3 chain, delete → NSEC chain; unbound validates throughout`, () => {
  const s = new Setup(backend);
  before(async () => {
    await s.start('dms-nsec3param-', [['fast', 'keys=csk', 'csk_lifetime=unlimited', ...FAST]], 'fast');
  });
  after(() => s.stop());

  test('NSEC → NSEC3 (salt, opt-out) → NSEC; bad parameters and RRSIG refused', async () => {
    s.ask(true);
    const denial = () => {
      const out = run('dig', ['@127.0.0.1', '-p', String(s.dmsd.port), '+norec', '+dnssec', `nx.${CHILD}`, 'A']).out;
      return /\sNSEC3\s/.test(out) ? 'NSEC3' : /\sNSEC\s/.test(out) ? 'NSEC' : 'none';
    };
    const param = () => run('dig', ['@127.0.0.1', '-p', String(s.dmsd.port), '+norec', '+short', CHILD, 'NSEC3PARAM']).out.trim();
    assert.equal(denial(), 'NSEC');
    // Refused: iterations (RFC 9276), RRSIG by hand.
    let r = s.childUpdate([`update add ${CHILD}. 0 NSEC3PARAM 1 0 10 -`]);
    assert.match(r.out, /REFUSED/);
    r = s.childUpdate([`update add www.${CHILD}. 60 RRSIG A 13 3 60 20300101000000 20200101000000 1 ${CHILD}. AAAA`]);
    assert.match(r.out, /REFUSED/);
    r = s.childUpdate([`update add ${CHILD}. 0 NSEC3PARAM 1 1 0 AABBCC`]);
    assert.equal(r.code, 0, r.out);
    await s.poll('NSEC3 chain', () => denial() === 'NSEC3' && param() === '1 0 0 AABBCC');
    assert.match(zoneToolOk(s.store(), ['show_dnssec', CHILD]), /denial:\s+NSEC3|NSEC3/);
    // Another salt, no opt-out, together with a record change.
    r = s.childUpdate([`update add ${CHILD}. 0 NSEC3PARAM 1 0 0 -`, `update add new.${CHILD}. 2 A 192.0.2.7`]);
    assert.equal(r.code, 0, r.out);
    await s.poll('NSEC3 without salt', () => param() === '1 0 0 -' && run('dig', ['@127.0.0.1', '-p', String(s.dmsd.port), '+short', `new.${CHILD}`, 'A']).out.trim() === '192.0.2.7');
    r = s.childUpdate([`update delete ${CHILD}. NSEC3PARAM`]);
    assert.equal(r.code, 0, r.out);
    await s.poll('back to NSEC', () => denial() === 'NSEC' && param() === '');
    for (let i = 0; i < 5; i++) s.ask(true);
    assert.deepEqual(s.failures, [], `${s.failures.length} of ${s.queries} answers not validated`);
    const st = JSON.parse(zoneToolOk(s.store(), ['--json', 'show_dnssec', CHILD])) as { denial: string; events: { summary: string }[] };
    assert.equal(st.denial, 'nsec');
    const ev = st.events.map((e) => e.summary).join('\n');
    assert.match(ev, /NSEC3PARAM added by UPDATE .*salt aabbcc, opt-out/);
    assert.match(ev, /NSEC3PARAM deleted by UPDATE/);
    assert.doesNotMatch(zoneToolOk(s.store(), ['show_zone', CHILD]), /NSEC3PARAM/);
  });
});
