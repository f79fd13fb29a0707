// UPDATE through the server (QueryHandler + attachPrimary) driven by the real clients nsupdate and knsupdate, over an
// in-memory UpdateSink that commits each accepted update as a new version and republishes the zone.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { RRType, typeFromString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { attachPrimary, zoneTableSource } from '../../src/server/primary.js';
import { QueryHandler } from '../../src/server/query.js';
import { type UpdateCommit, UpdateConflict, type UpdateSink } from '../../src/server/update.js';
import { soaSerialOf, withSerial } from '../../src/dns/serial.js';
import { ZoneTable } from '../../src/zone/table.js';
import { parseGrant } from '../../src/zone/update.js';
import { compileZone } from '../../src/zone/zone.js';
import { type Responder, run, rrText, startResponder } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');
const r = (t: string) => rrText(t, origin);
const mkKey = (name: string): TsigKey => ({ name: Name.from(name), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) });
const ACME = mkKey('acme.key');
const HOSTS = mkKey('hosts.key');
const PERSONAL = mkKey('personal._update.example.org');
const STRANGER = mkKey('stranger.key');
const KEYS = [ACME, HOSTS, PERSONAL, STRANGER];
const spec = (k: TsigKey) => `hmac-sha256:${k.name}:${Buffer.from(k.secret).toString('base64')}`;

const initial = (): RR[] => [
  r('@ 3600 SOA ns1 hostmaster 10 3600 900 604800 300'),
  r('@ 3600 NS ns1'),
  r('ns1 3600 A 192.0.2.1'),
  r('www 300 A 192.0.2.10'),
];

class MemorySink implements UpdateSink {
  records = initial();
  incUpdates = true;
  commits: UpdateCommit[] = [];
  readonly grants = [
    parseGrant('grant acme.key. name _acme-challenge.www.example.org. TXT', (s) => Name.parse(s, origin), typeFromString),
    parseGrant('grant hosts.key. subdomain hosts.example.org. A AAAA', (s) => Name.parse(s, origin), typeFromString),
  ];
  constructor(private readonly table: ZoneTable) {
    table.set(compileZone(origin, this.records));
  }
  get serial(): number {
    return soaSerialOf(this.records[0]);
  }
  getZone(o: Name) {
    if (!o.equals(origin)) return undefined;
    return { origin, records: this.records, serial: this.serial, incUpdates: this.incUpdates, grants: this.grants };
  }
  async commit(c: UpdateCommit): Promise<{ serial: number }> {
    await new Promise((res) => setTimeout(res, 5)); // a real commit takes time: concurrent updates must queue
    if (c.baseSerial !== this.serial) throw new UpdateConflict();
    const serial = c.explicitSerial ?? (this.serial + 1) >>> 0;
    const rest = c.records.filter((x) => x.type !== RRType.SOA);
    const soa = c.records.find((x) => x.type === RRType.SOA) as RR;
    this.records = [withSerial(soa, serial), ...rest];
    this.table.set(compileZone(origin, this.records));
    this.commits.push(c);
    return { serial };
  }
}

describe('UPDATE with nsupdate and knsupdate', () => {
  let table: ZoneTable;
  let sink: MemorySink;
  let server: Responder;
  before(async () => {
    server = await startResponder(async (bytes, t) => {
      const out = await qh.handle(bytes, { transport: t.tcp ? 'tcp' : 'udp', address: t.remoteAddress });
      return out === null ? [] : Array.isArray(out) ? out : [out];
    });
  });
  after(() => server.close());
  let qh: QueryHandler;
  beforeEach(() => {
    table = new ZoneTable();
    sink = new MemorySink(table);
    qh = new QueryHandler(table);
    attachPrimary(qh, {
      transfers: zoneTableSource(table, { getDiffs: () => undefined, transferRules: () => [] }),
      updates: sink,
      keys: { get: (n) => KEYS.find((k) => k.name.equals(n)) },
    });
  });

  const nsupdate = (lines: string[], key?: TsigKey, secretOverride?: string) => {
    const args = key ? ['-y', secretOverride ? `hmac-sha256:${key.name}:${secretOverride}` : spec(key)] : [];
    return run('nsupdate', args, [`server 127.0.0.1 ${server.port}`, 'zone example.org', ...lines, 'send', ''].join('\n'));
  };
  const ask = async (name: string, type: string) =>
    (await run('dig', ['-p', String(server.port), '@127.0.0.1', name, type, '+short', '+tries=1', '+time=2'])).stdout.trim();

  test('an allowed add is committed before the answer, with change_by = key, serial bumped', async () => {
    const res = await nsupdate(['update add _acme-challenge.www.example.org. 60 TXT "token-1"'], ACME);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal(sink.commits.length, 1);
    assert.equal(sink.commits[0].changeBy, 'acme.key');
    assert.equal(sink.serial, 11);
    assert.equal(await ask('_acme-challenge.www.example.org', 'TXT'), '"token-1"');
    // and removed again (class NONE delete of the one record)
    const del = await nsupdate(['update delete _acme-challenge.www.example.org. TXT "token-1"'], ACME);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(await ask('_acme-challenge.www.example.org', 'TXT'), '');
    assert.equal(sink.serial, 12);
  });

  test('outside the grant: REFUSED and nothing changes', async () => {
    const res = await nsupdate(['update add www.example.org. 60 TXT "nope"'], ACME);
    assert.notEqual(res.code, 0);
    assert.match(res.stdout + res.stderr, /REFUSED/);
    const res2 = await nsupdate(['update add x.hosts.example.org. 60 A 192.0.2.7', 'update add www.example.org. 60 A 192.0.2.7'], HOSTS);
    assert.match(res2.stdout + res2.stderr, /REFUSED/);
    const res3 = await nsupdate(['update add x.example.org. 60 A 192.0.2.7'], STRANGER);
    assert.match(res3.stdout + res3.stderr, /REFUSED/);
    const res4 = await nsupdate(['update add x.example.org. 60 A 192.0.2.7']);
    assert.match(res4.stdout + res4.stderr, /REFUSED/);
    assert.equal(sink.commits.length, 0);
    assert.equal(await ask('x.hosts.example.org', 'A'), '');
  });

  test('bad signature: NOTAUTH/BADSIG, unknown key: BADKEY; nothing changes', async () => {
    const bad = await nsupdate(['update add h.hosts.example.org. 60 A 192.0.2.7'], HOSTS, Buffer.from(randomBytes(32)).toString('base64'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /NOTAUTH|BADSIG|tsig/i);
    const unknown = await nsupdate(['update add h.hosts.example.org. 60 A 192.0.2.7'], mkKey('nobody.key'));
    assert.match(unknown.stdout + unknown.stderr, /NOTAUTH|BADKEY|tsig/i);
    assert.equal(sink.commits.length, 0);
  });

  test('prerequisites from nsupdate: yxdomain/nxdomain/yxrrset/nxrrset', async () => {
    const fail1 = await nsupdate(['prereq nxdomain www.example.org.', 'update add a.hosts.example.org. 60 A 192.0.2.8'], HOSTS);
    assert.match(fail1.stdout + fail1.stderr, /YXDOMAIN/);
    const fail2 = await nsupdate(['prereq yxrrset www.example.org. AAAA', 'update add a.hosts.example.org. 60 A 192.0.2.8'], HOSTS);
    assert.match(fail2.stdout + fail2.stderr, /NXRRSET/);
    const fail3 = await nsupdate(['prereq yxrrset www.example.org. A 192.0.2.99', 'update add a.hosts.example.org. 60 A 192.0.2.8'], HOSTS);
    assert.match(fail3.stdout + fail3.stderr, /NXRRSET/);
    assert.equal(sink.commits.length, 0);
    const ok = await nsupdate(
      ['prereq yxdomain www.example.org.', 'prereq nxrrset www.example.org. AAAA', 'prereq yxrrset www.example.org. A 192.0.2.10',
        'prereq nxdomain a.hosts.example.org.', 'update add a.hosts.example.org. 60 A 192.0.2.8'],
      HOSTS,
    );
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(await ask('a.hosts.example.org', 'A'), '192.0.2.8');
  });

  test('ocaml-dns convention key: whole zone; deletes of RRsets and names; apex rules', async () => {
    const res = await nsupdate(
      ['update delete www.example.org. A', 'update add www.example.org. 120 CNAME ns1.example.org.', 'update delete example.org. NS',
        'update delete example.org. SOA', 'update add mail.example.org. 60 MX 10 ns1.example.org.'],
      PERSONAL,
    );
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal(sink.commits.length, 1);
    assert.equal(sink.commits[0].changeBy, 'personal._update.example.org');
    assert.equal(await ask('www.example.org', 'CNAME'), 'ns1.example.org.');
    assert.equal(await ask('example.org', 'NS'), 'ns1.example.org.', 'the apex NS RRset is never deleted');
    assert.match(await ask('example.org', 'SOA'), / 11 3600 900 604800 300$/);
    const wipe = await nsupdate(['update delete mail.example.org.'], PERSONAL);
    assert.equal(wipe.code, 0, wipe.stderr);
    assert.equal(await ask('mail.example.org', 'MX'), '');
  });

  test('zones without inc_updates refuse', async () => {
    sink.incUpdates = false;
    const res = await nsupdate(['update add a.hosts.example.org. 60 A 192.0.2.8'], HOSTS);
    assert.match(res.stdout + res.stderr, /REFUSED/);
    assert.equal(sink.commits.length, 0);
  });

  test('knsupdate (Knot) with the convention key, over TCP too', async () => {
    for (const tcp of [false, true]) {
      const script = [`server 127.0.0.1 ${server.port}`, 'zone example.org.', `add k${tcp ? 't' : 'u'}.example.org. 300 A 192.0.2.5`, 'send', 'answer', ''].join('\n');
      const res = await run('knsupdate', [...(tcp ? ['-v'] : []), '-y', spec(PERSONAL)], script);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /status: NOERROR/);
      assert.doesNotMatch(res.stdout + res.stderr, /WARNING|failed/i);
    }
    assert.equal(await ask('ku.example.org', 'A'), '192.0.2.5');
    assert.equal(await ask('kt.example.org', 'A'), '192.0.2.5');
    assert.equal(sink.serial, 12);
  });

  test('concurrent updates are applied in order and committed in groups, each answered after its commit', async () => {
    const commitsBefore = sink.commits.length;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => nsupdate([`update add c${i}.hosts.example.org. 60 A 192.0.2.${100 + i}`], HOSTS)),
    );
    for (const res of results) assert.equal(res.code, 0, res.stderr);
    const commits = sink.commits.length - commitsBefore;
    // The first is committed alone; those arriving meanwhile share commits: never more versions than UPDATEs.
    assert.ok(commits >= 1 && commits <= 8, `commits: ${commits}`);
    for (let i = 0; i < 8; i++) assert.equal(await ask(`c${i}.hosts.example.org`, 'A'), `192.0.2.${100 + i}`);
  });

  test('in a group, an UPDATE whose prerequisite fails changes nothing and the others are applied', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        nsupdate(
          i === 3
            ? ['prereq yxdomain nothing-here.hosts.example.org.', `update add g${i}.hosts.example.org. 60 A 192.0.2.${150 + i}`]
            : [`update add g${i}.hosts.example.org. 60 A 192.0.2.${150 + i}`],
          HOSTS,
        ),
      ),
    );
    for (let i = 0; i < 6; i++) {
      if (i === 3) assert.match(results[i].stdout + results[i].stderr, /NXDOMAIN/);
      else assert.equal(results[i].code, 0, results[i].stderr);
    }
    for (let i = 0; i < 6; i++) assert.equal(await ask(`g${i}.hosts.example.org`, 'A'), i === 3 ? '' : `192.0.2.${150 + i}`);
  });
});
