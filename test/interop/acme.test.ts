// Let's Encrypt DNS-01 end to end with the real programs: the ACME test CA `pebble` validates against dmsd and the
// ACME client `lego` sets the challenge with its rfc2136 provider, TSIG-signed, with a key whose grant covers only the
// challenge TXT records. dmsd serves zones, keys and grants from its database, all made with zone_tool. Two layouts:
//   - plain: the TXT record in the zone itself (`_acme-challenge.www.example.org`, key acme-key); pebble asks dmsd
//     directly;
//   - OCF: `_acme-challenge.www.example.com` is a CNAME into a separate challenge zone `letsencrypt.example.com`, the
//     only zone key letsencrypt-key may update (background: /work/shared/reference/ocf-dynamic-dns-letsencrypt-dns01.md);
//     pebble asks the recursive resolver unbound with dmsd as the authoritative server of the three zones, as Let's
//     Encrypt asks its own recursive resolver (an authoritative server answers a CNAME into another zone with the
//     CNAME alone; pebble does not chase it).
// A last suite runs pebble against an in-memory primary that can be told not to publish accepted updates: then no
// certificate, which shows that pebble's validation is real (PEBBLE_VA_ALWAYS_VALID is not in effect).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RRType, typeFromString } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import type { TsigKey } from '../../src/dns/tsig.js';
import { attachPrimary, zoneTableSource } from '../../src/server/primary.js';
import { QueryHandler } from '../../src/server/query.js';
import { type UpdatableZone, type UpdateCommit, UpdateConflict, type UpdateSink } from '../../src/server/update.js';
import * as services from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';
import { soaSerialOf, withSerial } from '../../src/dns/serial.js';
import { ZoneTable } from '../../src/zone/table.js';
import { parseGrant, type UpdateGrant } from '../../src/zone/update.js';
import { compileZone } from '../../src/zone/zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';
import {
  makeTlsFiles,
  type Pebble,
  pebbleGet,
  runLego,
  type Server,
  startDmsdOn,
  startPebble,
  startUnbound,
  type TlsFiles,
  type Unbound,
  zoneTool,
  zoneToolKey,
} from '../helpers/acme.js';
import { REPO_ROOT } from '../helpers/servers.js';
import { type Responder, run, startResponder } from '../helpers/xfr.support.js';
import { ctxOf } from '../helpers/context.js';

const b64 = (k: TsigKey) => Buffer.from(k.secret).toString('base64');
const fixture = (f: string) => join(REPO_ROOT, 'test', 'fixtures', 'acme', f);

const digAt = async (port: number, name: string, type: string) =>
  (await run('dig', ['-p', String(port), '@127.0.0.1', name, type, '+short', '+tries=1', '+time=2'])).stdout.trim();

const nsupdateAt = (port: number, zone: string, line: string, key: TsigKey) =>
  run('nsupdate', ['-y', `${key.algorithm}:${key.name}:${b64(key)}`], ['check-names no', `server 127.0.0.1 ${port}`, `zone ${zone}`, line, 'send', ''].join('\n'));

function issueWith(pebble: Pebble, tls: TlsFiles, dnsPort: number, domain: string, key: TsigKey, path: string) {
  mkdirSync(path, { recursive: true });
  return runLego({
    path,
    server: pebble.directory,
    caCert: tls.caCert,
    domains: [domain],
    dnsPort,
    tsig: { name: key.name.toString(), algorithm: key.algorithm, secretBase64: b64(key) },
  });
}

function certText(file: string): string {
  const r = spawnSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-ext', 'subjectAltName', '-issuer'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('ACME DNS-01 with pebble, lego and dmsd (zones, keys and grants from zone_tool)', () => {
  let dir: string;
  let data: string;
  let tls: TlsFiles;
  let server: Server;
  let resolver: Unbound;
  /** Validating through the resolver (OCF layout). */
  let pebble: Pebble;
  /** Validating against dmsd directly (plain layout). */
  let pebbleDirect: Pebble;
  /** Only `_acme-challenge.www.example.org` TXT (plain layout). */
  let acmeKey: TsigKey;
  /** Only TXT records of the challenge zone letsencrypt.example.com (OCF layout). */
  let leKey: TsigKey;

  const ZONES = ['example.org', 'example.com', 'letsencrypt.example.com'];
  const history = async (zone: string) => {
    const store = await openStore({ dataDir: data });
    try {
      return (await services.listZis(ctxOf(store), zone)).sort((a, b) => a.version - b.version);
    } finally {
      await store.close();
    }
  };
  const versionCounts = async () => Promise.all(ZONES.map(async (z) => (await history(z)).length));
  /** What changed from version `from` to `to` of a zone, as "+name/TYPE" and "-name/TYPE". */
  const changes = async (zone: string, from: number, to: number) => {
    const store = await openStore({ dataDir: data });
    try {
      const d = await services.diffVersions(ctxOf(store), zone, { version: from }, { version: to });
      return [...d.added.map((x) => `+${x.name}/${x.type}`), ...d.removed.map((x) => `-${x.name}/${x.type}`)];
    } finally {
      await store.close();
    }
  };
  const issue = (ca: Pebble, domain: string, key: TsigKey) => issueWith(ca, tls, server.port, domain, key, join(dir, `lego-${domain}`));
  const crtOf = (domain: string) => join(dir, `lego-${domain}`, 'certificates', `${domain}.crt`);
  const dig = (name: string, type: string) => digAt(server.port, name, type);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-acme-'));
    data = join(dir, 'data');
    mkdirSync(data);
    for (const z of ZONES) zoneTool(data, ['load_zone', '-i', fixture(`${z}.zone`), z, 'no_use_apex_ns']);
    acmeKey = zoneToolKey(data, 'acme-key');
    zoneTool(data, ['add_update_grant', 'example.org', 'grant acme-key. name _acme-challenge.www.example.org. TXT']);
    leKey = zoneToolKey(data, 'letsencrypt-key');
    zoneTool(data, ['add_update_grant', 'letsencrypt.example.com', 'grant letsencrypt-key. zonesub TXT']);
    tls = makeTlsFiles(dir);
    server = await startDmsdOn(data);
    resolver = await startUnbound(dir, ZONES, server.port);
    pebble = await startPebble(dir, tls, resolver.port);
    pebbleDirect = await startPebble(dir, tls, server.port);
  });

  after(async () => {
    await pebble?.stop();
    await pebbleDirect?.stop();
    await resolver?.stop('SIGTERM');
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('plain layout: a certificate for www.example.org; the key touched only _acme-challenge.www TXT', async () => {
    const res = await issue(pebbleDirect, 'www.example.org', acmeKey);
    assert.equal(res.code, 0, `lego failed:\n${res.stdout}${res.stderr}\npebble:\n${pebbleDirect.output()}\ndmsd:\n${server.output()}`);
    assert.ok(existsSync(crtOf('www.example.org')), 'lego wrote the certificate');
    const text = certText(crtOf('www.example.org'));
    assert.match(text, /subject=CN ?= ?www\.example\.org/);
    assert.match(text, /DNS:www\.example\.org/);
    assert.match(text, /issuer=CN ?= ?Pebble Intermediate CA/);
    // loaded (v1), challenge added (v2), removed (v3), each by the key and nothing else changed
    const zis = await history('example.org');
    assert.deepEqual(zis.map((z) => z.version), [1, 2, 3]);
    assert.deepEqual(zis.slice(1).map((z) => z.changeBy), ['acme-key', 'acme-key']);
    assert.deepEqual(await changes('example.org', 1, 2), [`+_acme-challenge.www.example.org./${RRType.TXT}`]);
    assert.deepEqual(await changes('example.org', 2, 3), [`-_acme-challenge.www.example.org./${RRType.TXT}`]);
    assert.equal(await dig('_acme-challenge.www.example.org', 'TXT'), '', 'the challenge is cleaned up');
    assert.equal(await dig('www.example.org', 'A'), '192.0.2.10');
  });

  test('OCF layout: _acme-challenge.www.example.com is a CNAME into letsencrypt.example.com; only that zone changes', async () => {
    // the resolver follows the CNAME into the challenge zone: the negative answer there carries that zone's SOA
    const chain = (await run('dig', ['-p', String(resolver.port), '@127.0.0.1', '_acme-challenge.www.example.com', 'TXT',
      '+noall', '+answer', '+authority', '+tries=1', '+time=3'])).stdout;
    assert.match(chain, /^_acme-challenge\.www\.example\.com\.\s+\d+\s+IN\s+CNAME\s+www\.letsencrypt\.example\.com\.$/m, chain);
    assert.match(chain, /^letsencrypt\.example\.com\.\s+\d+\s+IN\s+SOA\s/m, chain);
    const askedBefore = resolver.asked().length;
    const res = await issue(pebble, 'www.example.com', leKey);
    assert.equal(res.code, 0, `lego failed:\n${res.stdout}${res.stderr}\npebble:\n${pebble.output()}\ndmsd:\n${server.output()}`);
    const text = certText(crtOf('www.example.com'));
    assert.match(text, /subject=CN ?= ?www\.example\.com/);
    assert.match(text, /DNS:www\.example\.com/);
    // pebble validated through the resolver
    const asked = resolver.asked().slice(askedBefore);
    assert.ok(asked.includes('_acme-challenge.www.example.com. TXT'), `asked unbound: ${asked.join(', ')}`);
    const le = await history('letsencrypt.example.com');
    assert.deepEqual(le.map((z) => z.version), [1, 2, 3]);
    assert.deepEqual(le.slice(1).map((z) => z.changeBy), ['letsencrypt-key', 'letsencrypt-key']);
    assert.ok(le[2].published);
    assert.deepEqual(await changes('letsencrypt.example.com', 1, 2), [`+www.letsencrypt.example.com./${RRType.TXT}`]);
    assert.deepEqual(await changes('letsencrypt.example.com', 2, 3), [`-www.letsencrypt.example.com./${RRType.TXT}`]);
    assert.equal((await history('example.com')).length, 1, 'example.com untouched');
    assert.equal(await dig('_acme-challenge.www.example.com', 'CNAME'), 'www.letsencrypt.example.com.');
    assert.equal(await dig('www.letsencrypt.example.com', 'TXT'), '', 'the challenge is cleaned up');
  });

  test('the challenge keys cannot change anything else: REFUSED, no new version anywhere', async () => {
    const before = await versionCounts();
    const attempts: [string, string, TsigKey][] = [
      ['letsencrypt.example.com', 'update add www.letsencrypt.example.com. 60 A 192.0.2.66', leKey],
      ['letsencrypt.example.com', 'update delete letsencrypt.example.com. NS', leKey],
      ['example.com', 'update add _acme-challenge.www.example.com. 60 TXT "x"', leKey],
      ['example.com', 'update delete _acme-challenge.www.example.com. CNAME', leKey],
      ['example.com', 'update add www.example.com. 60 A 192.0.2.66', leKey],
      ['example.org', 'update add _acme-challenge.www.example.org. 60 TXT "x"', leKey],
      ['example.org', 'update add www.example.org. 60 A 192.0.2.66', acmeKey],
      ['example.org', 'update add _acme-challenge.mail.example.org. 60 TXT "x"', acmeKey],
      ['example.org', 'update add _acme-challenge.www.example.org. 60 A 192.0.2.66', acmeKey],
      ['letsencrypt.example.com', 'update add www.letsencrypt.example.com. 60 TXT "x"', acmeKey],
    ];
    for (const [zone, line, key] of attempts) {
      const res = await nsupdateAt(server.port, zone, line, key);
      assert.notEqual(res.code, 0, `${key.name} ${line} was accepted`);
      assert.match(res.stdout + res.stderr, /REFUSED/, `${key.name} ${line}: ${res.stdout}${res.stderr}`);
    }
    // one update touching an allowed and a forbidden record is refused as a whole
    const mixed = await run('nsupdate', ['-y', `${acmeKey.algorithm}:${acmeKey.name}:${b64(acmeKey)}`],
      ['check-names no', `server 127.0.0.1 ${server.port}`, 'zone example.org',
        'update add _acme-challenge.www.example.org. 60 TXT "ok"', 'update add www.example.org. 60 A 192.0.2.66', 'send', ''].join('\n'));
    assert.match(mixed.stdout + mixed.stderr, /REFUSED/);
    assert.deepEqual(await versionCounts(), before);
    assert.equal(await dig('www.example.org', 'A'), '192.0.2.10');
    assert.equal(await dig('www.letsencrypt.example.com', 'A'), '');
    assert.equal(await dig('_acme-challenge.www.example.com', 'CNAME'), 'www.letsencrypt.example.com.');
  });

  test('the certificates verify up to the root of the pebble that issued them', async () => {
    for (const [d, ca] of [['www.example.org', pebbleDirect], ['www.example.com', pebble]] as const) {
      const root = join(dir, `${d}.root.pem`);
      writeFileSync(root, await pebbleGet(ca, tls, '/roots/0'));
      // lego's .crt is the leaf followed by the issuer chain; openssl verifies the first against root + the rest
      const pems = readFileSync(crtOf(d), 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];
      assert.ok(pems.length >= 2, `${d}: leaf and issuer`);
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

// ---- several dmsd workers -------------------------------------------------------------------------------------------

// An ACME client that does not wait for propagation (lego with --dns.disable-cp, as above) has the CA look right after
// the update is answered. With one dmsd process that works (the tests above); with cluster workers the query may reach
// a worker that has not yet seen the new version. BIND serves an update as soon as it has answered it.
test(
  'dmsd --workers 2: the challenge TXT is served by every worker as soon as the update is answered',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dms-acme-workers-'));
    let server: Server | undefined;
    try {
      zoneTool(dir, ['load_zone', '-i', fixture('example.org.zone'), 'example.org', 'no_use_apex_ns']);
      const key = zoneToolKey(dir, 'acme-key');
      zoneTool(dir, ['add_update_grant', 'example.org', 'grant acme-key. name _acme-challenge.www.example.org. TXT']);
      server = await startDmsdOn(dir, ['--workers', '2']);
      const misses: string[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await nsupdateAt(server.port, 'example.org', `update add _acme-challenge.www.example.org. 60 TXT "t${i}"`, key);
        assert.equal(res.code, 0, res.stdout + res.stderr);
        for (let j = 0; j < 4; j++) {
          if (!(await digAt(server.port, '_acme-challenge.www.example.org', 'TXT')).includes(`"t${i}"`)) misses.push(`t${i}#${j}`);
        }
      }
      assert.deepEqual(misses, [], 'reads right after the NOERROR that did not see the record');
    } finally {
      await server?.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

// ---- pebble's validation is real --------------------------------------------------------------------------------

/** One zone in memory; accepted updates are committed, and republished only while `publish` is on. */
class MemorySink implements UpdateSink {
  readonly origin = Name.from('example.org');
  records: RR[];
  readonly grants: UpdateGrant[];
  commits: UpdateCommit[] = [];
  publish = true;
  constructor(
    private readonly table: ZoneTable,
    keyName: string,
  ) {
    const parsed = parseZoneText(readFileSync(fixture('example.org.zone'), 'utf8'), { origin: this.origin });
    assert.deepEqual(parsed.problems, []);
    this.records = [...parsed.records.filter((r) => r.type === RRType.SOA), ...parsed.records.filter((r) => r.type !== RRType.SOA)];
    this.grants = [parseGrant(`grant ${keyName}. name _acme-challenge.www.example.org. TXT`, (s) => Name.parse(s, this.origin), typeFromString)];
    table.set(compileZone(this.origin, this.records));
  }
  getZone(o: Name): UpdatableZone | undefined {
    if (!o.equals(this.origin)) return undefined;
    return { origin: this.origin, records: this.records, serial: soaSerialOf(this.records[0]), incUpdates: true, grants: this.grants };
  }
  async commit(c: UpdateCommit): Promise<{ serial: number }> {
    const current = soaSerialOf(this.records[0]);
    if (c.baseSerial !== current) throw new UpdateConflict();
    const serial = c.explicitSerial ?? (current + 1) >>> 0;
    const soa = c.records.find((x) => x.type === RRType.SOA) as RR;
    this.records = [withSerial(soa, serial), ...c.records.filter((x) => x.type !== RRType.SOA)];
    if (this.publish) this.table.set(compileZone(this.origin, this.records));
    this.commits.push(c);
    return { serial };
  }
}

describe('ACME DNS-01: pebble really validates', () => {
  const key: TsigKey = { name: Name.from('acme-key'), algorithm: 'hmac-sha256', secret: new Uint8Array(randomBytes(32)) };
  let dir: string;
  let tls: TlsFiles;
  let sink: MemorySink;
  let server: Responder;
  /** pebble asks through it, so its query log holds pebble's questions and not lego's (lego asks the primary). */
  let resolver: Unbound;
  let pebble: Pebble;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-acme-mem-'));
    tls = makeTlsFiles(dir);
    const table = new ZoneTable();
    sink = new MemorySink(table, 'acme-key');
    const qh = new QueryHandler(table);
    attachPrimary(qh, {
      transfers: zoneTableSource(table, { getDiffs: () => undefined, transferRules: () => [] }),
      updates: sink,
      keys: { get: (n) => (n.equals(key.name) ? key : undefined) },
    });
    server = await startResponder(async (bytes, t) => {
      const out = await qh.handle(bytes, { transport: t.tcp ? 'tcp' : 'udp', address: t.remoteAddress });
      return out === null ? [] : Array.isArray(out) ? out : [out];
    });
    resolver = await startUnbound(dir, ['example.org'], server.port);
    pebble = await startPebble(dir, tls, resolver.port);
  });

  after(async () => {
    await pebble?.stop();
    await resolver?.stop('SIGTERM');
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the update is accepted but not served: pebble finds no TXT record, no certificate', async () => {
    sink.publish = false;
    const res = await issueWith(pebble, tls, server.port, 'www.example.org', key, join(dir, 'lego'));
    assert.notEqual(res.code, 0, 'lego must fail');
    assert.ok(sink.commits.some((c) => c.added.some((r) => r.type === RRType.TXT)), 'lego did set the challenge');
    assert.ok(resolver.asked().includes('_acme-challenge.www.example.org. TXT'), `pebble looked; asked unbound: ${resolver.asked().join(', ')}`);
    // pebble's verdict (RFC 8555 §8.4)
    assert.match(res.stdout + res.stderr, /urn:ietf:params:acme:error:unauthorized.*TXT/);
    assert.ok(!existsSync(join(dir, 'lego', 'certificates', 'www.example.org.crt')));
    assert.equal(await digAt(server.port, 'www.example.org', 'A'), '192.0.2.10', 'the zone itself is served');
  });
});
