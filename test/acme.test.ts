// Let's Encrypt DNS-01 end to end with the real programs: the ACME test CA `pebble` validates through our server
// (via a CNAME-following resolver, as Let's Encrypt's own resolver does) and the ACME client `lego` sets the
// challenge with its rfc2136 provider, TSIG-signed, with a key whose grant covers only the challenge TXT records.
// Two layouts: the TXT record in the zone itself (`_acme-challenge.www.example.org`), and the OCF layout where
// `_acme-challenge.www.example.com` is a CNAME into a separate challenge zone `letsencrypt.example.com`, the only
// zone that key may update (background: /work/shared/reference/ocf-dynamic-dns-letsencrypt-dns01.md).
//
// First against QueryHandler + attachPrimary over in-memory zones (one commit per accepted update, republished at
// once: the protocol alone, and a server that can be told not to publish, to show pebble really looks); then the OCF
// layout against dmsd itself serving the database, with zones, key and grant made by zone_tool.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType, typeFromString } from '../src/dns/constants.js';
import type { RR } from '../src/dns/message.js';
import { Name } from '../src/dns/name.js';
import type { TsigKey } from '../src/dns/tsig.js';
import { attachPrimary, zoneTableSource } from '../src/server/primary.js';
import { QueryHandler } from '../src/server/query.js';
import { type UpdatableZone, type UpdateCommit, UpdateConflict, type UpdateSink } from '../src/server/update.js';
import * as services from '../src/services/index.js';
import { openStore } from '../src/store/index.js';
import { soaSerialOf, withSerial } from '../src/zone/ixfr.js';
import { ZoneTable } from '../src/zone/table.js';
import { parseGrant, type UpdateGrant } from '../src/zone/update.js';
import { compileZone } from '../src/zone/zone.js';
import {
  makeTlsFiles,
  type Pebble,
  pebbleGet,
  type Resolver,
  runLego,
  type Server,
  spawnServer,
  startCnameResolver,
  startPebble,
  type TlsFiles,
  zoneTool,
  zoneToolKey,
} from './helpers/acme.js';
import { dmsdEntry, REPO_ROOT } from './helpers/servers.js';
import { type Responder, run, rrText, startResponder } from './xfr.support.js';

const mkKey = (name: string): TsigKey => ({ name: Name.from(name), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) });
/** May set only `_acme-challenge.www.example.org` TXT (the plain layout). */
const ACME_KEY = mkKey('acme-key');
/** May set only TXT records of the challenge zone letsencrypt.example.com (the OCF layout). */
const LE_KEY = mkKey('letsencrypt-key');
const KEYS = [ACME_KEY, LE_KEY];
const b64 = (k: TsigKey) => Buffer.from(k.secret).toString('base64');

const digAt = async (port: number, name: string, type: string) =>
  (await run('dig', ['-p', String(port), '@127.0.0.1', name, type, '+short', '+tries=1', '+time=2'])).stdout.trim();

interface MemZone {
  origin: Name;
  records: RR[];
  grants: UpdateGrant[];
}

const zoneOf = (origin: string, lines: string[], grants: string[]): MemZone => {
  const o = Name.from(origin);
  return {
    origin: o,
    records: lines.map((l) => rrText(l, o)),
    grants: grants.map((g) => parseGrant(g, (s) => Name.parse(s, o), typeFromString)),
  };
};

/** Several zones in memory; each accepted update becomes one commit and the zone is republished (unless `publish` is off). */
class MemorySink implements UpdateSink {
  commits: UpdateCommit[] = [];
  /** Off: commits are recorded but the served zone stays as it was (to show that pebble really looks). */
  publish = true;
  constructor(
    readonly zones: Map<string, MemZone>,
    private readonly table: ZoneTable,
  ) {
    for (const z of zones.values()) table.set(compileZone(z.origin, z.records));
  }
  getZone(o: Name): UpdatableZone | undefined {
    const z = this.zones.get(o.key);
    if (!z) return undefined;
    return { origin: z.origin, records: z.records, serial: soaSerialOf(z.records[0]), incUpdates: true, grants: z.grants };
  }
  async commit(c: UpdateCommit): Promise<{ serial: number }> {
    const z = this.zones.get(c.origin.key) as MemZone;
    const current = soaSerialOf(z.records[0]);
    if (c.baseSerial !== current) throw new UpdateConflict();
    const serial = c.explicitSerial ?? (current + 1) >>> 0;
    const soa = c.records.find((x) => x.type === RRType.SOA) as RR;
    z.records = [withSerial(soa, serial), ...c.records.filter((x) => x.type !== RRType.SOA)];
    if (this.publish) this.table.set(compileZone(z.origin, z.records));
    this.commits.push(c);
    return { serial };
  }
}

const initialZones = () =>
  new Map(
    [
      zoneOf('example.org', [
        '@ 3600 SOA ns1 hostmaster 1 3600 900 604800 300',
        '@ 3600 NS ns1',
        'ns1 3600 A 192.0.2.1',
        'www 300 A 192.0.2.10',
        'mail 300 A 192.0.2.11',
      ], ['grant acme-key. name _acme-challenge.www.example.org. TXT']),
      zoneOf('example.com', [
        '@ 3600 SOA ns1 hostmaster 1 3600 900 604800 300',
        '@ 3600 NS ns1',
        'ns1 3600 A 192.0.2.1',
        'www 300 A 192.0.2.20',
        '_acme-challenge.www 300 CNAME www.letsencrypt.example.com.',
        'letsencrypt 3600 NS ns1.example.com.',
      ], []),
      zoneOf('letsencrypt.example.com', [
        '@ 3600 SOA ns1.example.com. hostmaster.example.com. 1 3600 900 604800 300',
        '@ 3600 NS ns1.example.com.',
      ], ['grant letsencrypt-key. zonesub TXT']),
    ].map((z) => [z.origin.key, z]),
  );

describe('ACME DNS-01 with pebble and lego (rfc2136, TSIG, grants)', () => {
  let dir: string;
  let tls: TlsFiles;
  let sink: MemorySink;
  let server: Responder;
  let resolver: Resolver;
  let pebble: Pebble;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-acme-'));
    tls = makeTlsFiles(dir);
    const table = new ZoneTable();
    sink = new MemorySink(initialZones(), table);
    const qh = new QueryHandler(table);
    attachPrimary(qh, {
      transfers: zoneTableSource(table, { getDiffs: () => undefined, transferRules: () => [] }),
      updates: sink,
      keys: { get: (n) => KEYS.find((k) => k.name.equals(n)) },
    });
    server = await startResponder(async (bytes, t) => {
      const out = await qh.handle(bytes, { transport: t.tcp ? 'tcp' : 'udp', address: t.remoteAddress });
      return out === null ? [] : Array.isArray(out) ? out : [out];
    });
    resolver = await startCnameResolver(server.port);
    pebble = await startPebble(dir, tls, resolver.port);
  });

  after(async () => {
    await pebble?.stop();
    await resolver?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const issue = (domain: string, key: TsigKey, path: string) => {
    mkdirSync(path, { recursive: true });
    return runLego({
      path,
      server: pebble.directory,
      caCert: tls.caCert,
      domains: [domain],
      dnsPort: server.port,
      tsig: { name: key.name.toString(), algorithm: key.algorithm, secretBase64: b64(key) },
    });
  };
  const certSubject = (file: string) => {
    const r = spawnSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-ext', 'subjectAltName', '-issuer'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const dig = (name: string, type: string) => digAt(server.port, name, type);
  const nsupdate = (zone: string, lines: string[], key: TsigKey) =>
    run('nsupdate', ['-y', `${key.algorithm}:${key.name}:${b64(key)}`], ['check-names no', `server 127.0.0.1 ${server.port}`, `zone ${zone}`, ...lines, 'send', ''].join('\n'));
  const changed = (c: UpdateCommit) =>
    [...c.added.map((r) => `+${r.name}/${r.type}`), ...c.removed.map((r) => `-${r.name}/${r.type}`)];

  test('plain layout: a certificate for www.example.org, the key touching only _acme-challenge.www TXT', async () => {
    const res = await issue('www.example.org', ACME_KEY, join(dir, 'lego-plain'));
    assert.equal(res.code, 0, `lego failed:\n${res.stdout}${res.stderr}\npebble:\n${pebble.output()}`);
    const crt = join(dir, 'lego-plain', 'certificates', 'www.example.org.crt');
    assert.ok(existsSync(crt), 'lego wrote the certificate');
    const text = certSubject(crt);
    assert.match(text, /subject=CN ?= ?www\.example\.org/);
    assert.match(text, /DNS:www\.example\.org/);
    assert.match(text, /issuer=CN ?= ?Pebble Intermediate CA/);
    // lego set the challenge record and removed it again, one commit each, by that key, nothing else touched
    assert.ok(sink.commits.length >= 2, `commits: ${sink.commits.length}`);
    for (const c of sink.commits) {
      assert.equal(c.changeBy, 'acme-key');
      assert.equal(c.origin.toString(), 'example.org.');
      for (const ch of changed(c)) assert.equal(ch.slice(1), `_acme-challenge.www.example.org./${RRType.TXT}`);
    }
    assert.ok(sink.commits.some((c) => c.added.length > 0) && sink.commits.some((c) => c.removed.length > 0));
    // pebble asked (through the resolver) for the TXT record
    assert.ok(resolver.asked.includes(`_acme-challenge.www.example.org./${RRType.TXT}`), resolver.asked.join(' '));
    assert.equal(await dig('_acme-challenge.www.example.org', 'TXT'), '', 'the challenge is cleaned up');
    assert.equal(await dig('www.example.org', 'A'), '192.0.2.10');
  });

  test('OCF layout: _acme-challenge.www.example.com is a CNAME into letsencrypt.example.com; only that zone is updated', async () => {
    const before = sink.commits.length;
    resolver.upstream.length = 0;
    const res = await issue('www.example.com', LE_KEY, join(dir, 'lego-ocf'));
    assert.equal(res.code, 0, `lego failed:\n${res.stdout}${res.stderr}\npebble:\n${pebble.output()}`);
    const crt = join(dir, 'lego-ocf', 'certificates', 'www.example.com.crt');
    assert.ok(existsSync(crt), 'lego wrote the certificate');
    const text = certSubject(crt);
    assert.match(text, /subject=CN ?= ?www\.example\.com/);
    assert.match(text, /DNS:www\.example\.com/);
    const mine = sink.commits.slice(before);
    assert.ok(mine.length >= 2, `commits: ${mine.length}`);
    for (const c of mine) {
      assert.equal(c.changeBy, 'letsencrypt-key');
      assert.equal(c.origin.toString(), 'letsencrypt.example.com.', 'only the challenge zone changes');
      for (const ch of changed(c)) assert.equal(ch.slice(1), `www.letsencrypt.example.com./${RRType.TXT}`);
    }
    // pebble's lookup went through the CNAME to the TXT record in the challenge zone
    assert.ok(resolver.upstream.includes(`_acme-challenge.www.example.com./${RRType.TXT}`), resolver.upstream.join(' '));
    assert.ok(resolver.upstream.includes(`www.letsencrypt.example.com./${RRType.TXT}`), resolver.upstream.join(' '));
    assert.equal(await dig('_acme-challenge.www.example.com', 'CNAME'), 'www.letsencrypt.example.com.');
    assert.equal(await dig('www.letsencrypt.example.com', 'TXT'), '', 'the challenge is cleaned up');
  });

  test('the challenge keys cannot change anything else: REFUSED, zones unchanged', async () => {
    const before = sink.commits.length;
    const snapshot = () => [...sink.zones.values()].map((z) => `${z.origin}:${soaSerialOf(z.records[0])}:${z.records.length}`).join(' ');
    const was = snapshot();
    const attempts: [string, string[], TsigKey][] = [
      ['letsencrypt.example.com', ['update add www.letsencrypt.example.com. 60 A 192.0.2.66'], LE_KEY],
      ['letsencrypt.example.com', ['update delete letsencrypt.example.com. NS'], LE_KEY],
      ['example.com', ['update add _acme-challenge.www.example.com. 60 TXT "x"'], LE_KEY],
      ['example.com', ['update delete _acme-challenge.www.example.com. CNAME'], LE_KEY],
      ['example.com', ['update add www.example.com. 60 A 192.0.2.66'], LE_KEY],
      ['example.org', ['update add www.example.org. 60 A 192.0.2.66'], ACME_KEY],
      ['example.org', ['update add _acme-challenge.mail.example.org. 60 TXT "x"'], ACME_KEY],
      ['example.org', ['update add _acme-challenge.www.example.org. 60 A 192.0.2.66'], ACME_KEY],
      ['example.org', ['update add _acme-challenge.www.example.org. 60 TXT "ok"', 'update add www.example.org. 60 A 192.0.2.66'], ACME_KEY],
      ['example.org', ['update add _acme-challenge.www.example.org. 60 TXT "x"'], LE_KEY],
    ];
    for (const [zone, lines, key] of attempts) {
      const res = await nsupdate(zone, lines, key);
      assert.notEqual(res.code, 0, `${key.name} ${lines.join('; ')} was accepted`);
      assert.match(res.stdout + res.stderr, /REFUSED/, `${key.name} ${lines.join('; ')}: ${res.stdout}${res.stderr}`);
    }
    assert.equal(sink.commits.length, before, 'no commit');
    assert.equal(snapshot(), was);
    assert.equal(await dig('www.letsencrypt.example.com', 'A'), '');
    assert.equal(await dig('www.example.org', 'A'), '192.0.2.10');
    assert.equal(await dig('_acme-challenge.www.example.com', 'CNAME'), 'www.letsencrypt.example.com.');
  });

  test('pebble really validates: when the accepted record is not served, no certificate', async () => {
    sink.publish = false;
    try {
      const res = await issue('www.example.org', ACME_KEY, join(dir, 'lego-unpublished'));
      assert.notEqual(res.code, 0, 'lego must fail');
      // pebble's verdict (RFC 8555 §8.4): the TXT lookup found nothing
      assert.match(res.stdout + res.stderr, /urn:ietf:params:acme:error:unauthorized.*TXT/);
      assert.ok(!existsSync(join(dir, 'lego-unpublished', 'certificates', 'www.example.org.crt')));
    } finally {
      sink.publish = true;
    }
  });

  test('the issued certificates verify up to pebble\'s root', async () => {
    const root = join(dir, 'pebble-root.pem');
    writeFileSync(root, await pebbleGet(pebble, tls, '/roots/0'));
    for (const [d, sub] of [['www.example.org', 'lego-plain'], ['www.example.com', 'lego-ocf']]) {
      const crt = join(dir, sub, 'certificates', `${d}.crt`);
      // lego's .crt is the leaf followed by the issuer chain; openssl verifies the first against root + the rest
      const pems = readFileSync(crt, 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
      assert.ok(pems.length >= 2, `${crt}: leaf and issuer`);
      const leaf = join(dir, `${d}.leaf.pem`);
      const chain = join(dir, `${d}.chain.pem`);
      writeFileSync(leaf, pems[0] ?? '');
      writeFileSync(chain, pems.slice(1).join(''));
      const r = spawnSync('openssl', ['verify', '-CAfile', root, '-untrusted', chain, '-purpose', 'sslserver', leaf], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: OK/);
    }
  });
});

// ---- the OCF layout with dmsd serving the database ----------------------------------------------------------------

describe('ACME DNS-01, OCF layout, with dmsd: zones, key and grant made with zone_tool', () => {
  let dir: string;
  let tls: TlsFiles;
  let server: Server;
  let resolver: Resolver;
  let pebble: Pebble;
  let key: TsigKey;
  const fixture = (f: string) => join(REPO_ROOT, 'test', 'fixtures', 'acme', f);
  const history = async (zone: string) => {
    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      return (await services.listZis(store, zone)).sort((a, b) => a.version - b.version);
    } finally {
      await store.close();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-acme-dmsd-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    zoneTool(data, ['load_zone', '-i', fixture('example.com.zone'), 'example.com', 'no_use_apex_ns']);
    zoneTool(data, ['load_zone', '-i', fixture('letsencrypt.example.com.zone'), 'letsencrypt.example.com', 'no_use_apex_ns']);
    // the key lives in the database; its only grant: TXT records in the challenge zone
    key = zoneToolKey(data, 'letsencrypt-key');
    zoneTool(data, ['add_update_grant', 'letsencrypt.example.com', 'grant letsencrypt-key. zonesub TXT']);
    tls = makeTlsFiles(dir);
    const entry = dmsdEntry();
    assert.ok(entry, 'dmsd not found');
    server = await spawnServer([...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), entry, '--data', data, '--listen', '127.0.0.1:0'], 'dmsd');
    resolver = await startCnameResolver(server.port);
    pebble = await startPebble(dir, tls, resolver.port);
  });

  after(async () => {
    await pebble?.stop();
    await resolver?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a certificate for www.example.com; each challenge change is a version of the challenge zone by the key', async () => {
    mkdirSync(join(dir, 'lego'));
    const res = await runLego({
      path: join(dir, 'lego'),
      server: pebble.directory,
      caCert: tls.caCert,
      domains: ['www.example.com'],
      dnsPort: server.port,
      tsig: { name: key.name.toString(), algorithm: key.algorithm, secretBase64: b64(key) },
    });
    assert.equal(res.code, 0, `lego failed:\n${res.stdout}${res.stderr}\npebble:\n${pebble.output()}\nserver:\n${server.output()}`);
    const crt = join(dir, 'lego', 'certificates', 'www.example.com.crt');
    const r = spawnSync('openssl', ['x509', '-in', crt, '-noout', '-subject', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /subject=CN ?= ?www\.example\.com/);
    assert.match(r.stdout, /DNS:www\.example\.com/);
    assert.ok(resolver.upstream.includes(`www.letsencrypt.example.com./${RRType.TXT}`), resolver.upstream.join(' '));
    // the challenge zone: loaded (v1), TXT added (v2), TXT removed (v3), by the key; example.com untouched
    const le = await history('letsencrypt.example.com');
    assert.deepEqual(le.map((z) => z.version), [1, 2, 3]);
    assert.deepEqual(le.slice(1).map((z) => z.changeBy), ['letsencrypt-key', 'letsencrypt-key']);
    assert.ok(le[2].published);
    assert.equal((await history('example.com')).length, 1);
    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      const d = await services.diffVersions(store, 'letsencrypt.example.com', { version: 1 }, { version: 2 });
      assert.deepEqual(d.removed.map((x) => `${x.name}/${x.type}`), []);
      assert.deepEqual(d.added.map((x) => `${x.name}/${x.type}`), [`www.letsencrypt.example.com./${RRType.TXT}`]);
    } finally {
      await store.close();
    }
    assert.equal(await digAt(server.port, 'www.letsencrypt.example.com', 'TXT'), '', 'the challenge is cleaned up');
  });

  test('the key cannot change anything else: REFUSED, no new version', async () => {
    const before = [(await history('letsencrypt.example.com')).length, (await history('example.com')).length];
    const attempts: [string, string][] = [
      ['letsencrypt.example.com', 'update add www.letsencrypt.example.com. 60 A 192.0.2.66'],
      ['letsencrypt.example.com', 'update delete letsencrypt.example.com. NS'],
      ['example.com', 'update add _acme-challenge.www.example.com. 60 TXT "x"'],
      ['example.com', 'update delete _acme-challenge.www.example.com. CNAME'],
      ['example.com', 'update add www.example.com. 60 A 192.0.2.66'],
    ];
    for (const [zone, line] of attempts) {
      const res = await run('nsupdate', ['-y', `${key.algorithm}:${key.name}:${b64(key)}`],
        ['check-names no', `server 127.0.0.1 ${server.port}`, `zone ${zone}`, line, 'send', ''].join('\n'));
      assert.match(res.stdout + res.stderr, /REFUSED/, `${line}: ${res.stdout}${res.stderr}`);
    }
    assert.deepEqual([(await history('letsencrypt.example.com')).length, (await history('example.com')).length], before);
  });
});
