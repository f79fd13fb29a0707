// The real dmsd process as a primary, configured only with zone_tool (as an operator would): named and knotd are its
// TSIG secondaries (initial AXFR; a change made with zone_tool reaches both by NOTIFY + IXFR), nsupdate and knsupdate
// change the zone under update grants, and refused updates, unknown keys, bad signatures and stale times change
// nothing (zone_tool ls_zi / show_zone compared before and after).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { keyFromText, readTsigAt, signMessage, type TsigKey } from '../../src/dns/tsig.js';
import { udpExchange } from '../helpers/dns-client.js';
import { type Secondary, startKnotSecondary, startNamedSecondary, until, logged } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { dig, postgresArgs, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';

const ZONE = 'example.net';
const zoneText = (www: string, extra = '') => `$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
www A ${www}
${Array.from({ length: 20 }, (_, i) => `h${i} TXT "filler ${i}"\n`).join('')}${extra}`;

const keyId = (k: TsigKey) => k.name.toString().replace(/\.$/, '');
const spec = (k: TsigKey) => `${k.algorithm}:${keyId(k)}:${Buffer.from(k.secret).toString('base64')}`;

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;
const short = (port: number, name: string, type: string) => dig(port, [name, type, '+short', '+norec']).trim();

function runTool(cmd: string, args: string[], input: string): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

for (const backend of ['sqlite', 'postgres'] as const)
describe(`dmsd as primary on ${backend}: secondaries, NOTIFY + IXFR, dynamic updates (all set up with zone_tool)`, () => {
  let data: string;
  let pg: TestPostgres | undefined;
  let url = '';
  let dmsd: Server;
  let named: Secondary;
  let knot: Secondary;
  let xfrKey: TsigKey;
  let dynKey: TsigKey;
  const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));
  const state = () => `${zoneToolOk(store(), ['ls_zi', ZONE])}\n${zoneToolOk(store(), ['show_zone', ZONE])}`;
  const nsupdate = (key: string, lines: string[]) =>
    runTool('nsupdate', ['-y', key], [`server 127.0.0.1 ${dmsd.port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n'));
  const knsupdate = (key: string, lines: string[]) =>
    runTool('knsupdate', ['-y', key], [`server 127.0.0.1 ${dmsd.port}`, `zone ${ZONE}.`, 'origin example.net.', ...lines, 'send', 'quit', ''].join('\n'));

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-e2e-'));
    if (backend === 'postgres') {
      pg = await startPostgres();
      url = await pg.createDatabase();
    }
    const file = join(data, 'zone.txt');
    writeFileSync(file, zoneText('192.0.2.10'));
    zoneToolOk(store(), ['load_zone', '-i', file, ZONE]);
    const keyOf = (out: string, name: string) => keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? `x:${name}:`);
    xfrKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'xfr.key']), 'xfr.key');
    dynKey = keyOf(zoneToolOk(store(), ['generate_tsig_key', 'dyn.key', 'hmac-sha512']), 'dyn.key');
    zoneToolOk(store(), ['add_transfer_rule', ZONE, 'key=xfr.key']);
    zoneToolOk(store(), ['add_update_grant', ZONE, 'grant dyn.key zonesub A AAAA TXT SOA']);
    const namedPort = await freePort();
    const knotPort = await freePort();
    zoneToolOk(store(), ['add_also_notify', ZONE, `127.0.0.1#${namedPort}`]);
    zoneToolOk(store(), ['add_also_notify', '-g', 'default', `127.0.0.1#${knotPort}`, 'key=xfr.key']);
    dmsd = await startDmsdDb(store());
    await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 5000, 'zone served');
    named = startNamedSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: namedPort, key: xfrKey });
    knot = startKnotSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: knotPort, key: xfrKey });
  });
  after(async () => {
    await named?.stop();
    await knot?.stop();
    await dmsd?.stop();
    await pg?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('initial AXFR to named and knotd, TSIG-signed', async () => {
    await until('named AXFR', () => /Transfer status: success/.test(named.output()), named.output);
    await until('knotd AXFR', () => /AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot.output()), knot.output);
    assert.equal(short(named.port, `www.${ZONE}`, 'A'), '192.0.2.10');
    assert.equal(short(knot.port, `www.${ZONE}`, 'A'), '192.0.2.10');
    await logged(dmsd!.output, /"kind":"axfr".*"key":"xfr\.key\."/);
    // Unsigned, or signed with another key: refused.
    assert.match(dig(dmsd.tcpPort, ['+tcp', ZONE, 'AXFR']), /Transfer failed|REFUSED/);
    assert.match(dig(dmsd.tcpPort, ['+tcp', '-y', spec(dynKey), ZONE, 'AXFR']), /Transfer failed|REFUSED/);
  });

  test('a zone_tool change reaches both secondaries by NOTIFY + IXFR', async () => {
    const before = servedSerial(dmsd.port, ZONE) ?? 0;
    const file = join(data, 'zone2.txt');
    writeFileSync(file, zoneText('192.0.2.20', 'new A 192.0.2.60\n'));
    zoneToolOk(store(), ['load_zone_zi', file, ZONE]);
    await waitFor(() => (servedSerial(dmsd.port, ZONE) ?? 0) > before, 2000, 'dmsd serves the change');
    const serial = servedSerial(dmsd.port, ZONE) as number;
    await until('knotd IXFR', () => /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot.output()), () => knot.output() + dmsd.output());
    await until('named second transfer', () => count(named.output(), /Transfer status: success/) >= 2, () => named.output() + dmsd.output());
    assert.match(named.output(), new RegExp(`notify from 127\\.0\\.0\\.1#\\d+: serial ${serial}`));
    assert.doesNotMatch(knot.output(), /fallback to AXFR|IXFR.*failed/i);
    // dmsd's own transfer log: an IXFR from the old serial to the new one for each secondary.
    // (Its log line may reach us a moment after the secondary's.)
    const ixfrs = () => dmsd.output().split('\n').filter((l) => l.includes('"kind":"ixfr"') && l.includes(`"clientSerial":${before}`));
    await until('two IXFRs in the log of dmsd', () => ixfrs().length >= 2, dmsd.output, 5000);
    for (const p of [named, knot]) {
      assert.equal(short(p.port, `www.${ZONE}`, 'A'), '192.0.2.20');
      assert.equal(short(p.port, `new.${ZONE}`, 'A'), '192.0.2.60');
      assert.match(short(p.port, ZONE, 'SOA'), new RegExp(` ${serial} `));
    }
    // The NOTIFYs were acknowledged: nothing pending (a start-up NOTIFY sent before the secondaries ran is retried).
    await waitFor(() => zoneToolOk(store(), ['ls_pending_notifies']).trim() === '', 15000, 'NOTIFY queue empty');
  });

  test('nsupdate and knsupdate: add, replace, delete with prerequisites; change_by is the key', async () => {
    const k = spec(dynKey);
    let r = nsupdate(k, ['prereq nxdomain dyn1.example.net.', 'update add dyn1.example.net. 60 A 192.0.2.101']);
    assert.equal(r.code, 0, r.out);
    assert.equal(short(dmsd.port, `dyn1.${ZONE}`, 'A'), '192.0.2.101');
    assert.match(zoneToolOk(store(), ['show_zi', ZONE]), /change_by:?\s+dyn\.key/);
    // Replace (delete the RRset, add one) only if the old value is there.
    r = nsupdate(k, ['prereq yxrrset dyn1.example.net. A 192.0.2.101', 'update delete dyn1.example.net. A', 'update add dyn1.example.net. 60 A 192.0.2.102']);
    assert.equal(r.code, 0, r.out);
    assert.equal(short(dmsd.port, `dyn1.${ZONE}`, 'A'), '192.0.2.102');
    r = knsupdate(k, ['prereq yxdomain dyn1', 'add dyn2 60 TXT "from knsupdate"', 'del dyn1 A']);
    assert.equal(r.code, 0, r.out);
    assert.equal(short(dmsd.port, `dyn2.${ZONE}`, 'TXT'), '"from knsupdate"');
    assert.equal(short(dmsd.port, `dyn1.${ZONE}`, 'A'), '');
    // An UPDATE that sets a larger SOA serial itself keeps it (the serial policy takes an explicit larger one).
    const explicit = (servedSerial(dmsd.port, ZONE) as number) + 1000;
    r = nsupdate(k, [`update add ${ZONE}. 300 SOA ns1.${ZONE}. hostmaster.${ZONE}. ${explicit} 3600 900 604800 300`]);
    assert.equal(r.code, 0, r.out);
    assert.equal(servedSerial(dmsd.port, ZONE), explicit);
    // The secondaries follow (NOTIFY + IXFR) the update too.
    await until('knotd follows the update', () => short(knot.port, `dyn2.${ZONE}`, 'TXT') === '"from knsupdate"', knot.output);
    await until('named follows the update', () => short(named.port, `dyn2.${ZONE}`, 'TXT') === '"from knsupdate"', named.output);
  });

  test('refused updates, failed prerequisites, unknown keys, bad signatures and stale times change nothing', async () => {
    const k = spec(dynKey);
    const before = state();
    // Not granted (MX), failed prerequisite, unknown key, wrong secret.
    let r = nsupdate(k, ['update add mx.example.net. 60 MX 10 ns1.example.net.']);
    assert.match(r.out, /REFUSED/);
    r = nsupdate(k, ['prereq nxdomain www.example.net.', 'update add www.example.net. 60 A 192.0.2.99']);
    assert.match(r.out, /YXDOMAIN/);
    r = nsupdate(`hmac-sha256:nobody.key:${Buffer.alloc(32, 1).toString('base64')}`, ['update add x.example.net. 60 A 192.0.2.1']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /NOTAUTH|BADKEY|tsig/i);
    r = nsupdate(`${dynKey.algorithm}:dyn.key:${Buffer.alloc(64, 7).toString('base64')}`, ['update add x.example.net. 60 A 192.0.2.1']);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /NOTAUTH|BADSIG|tsig/i);
    r = knsupdate(`${dynKey.algorithm}:dyn.key:${Buffer.alloc(64, 7).toString('base64')}`, ['add x 60 A 192.0.2.1']);
    assert.notEqual(r.code, 0);
    // Stale: a correctly signed update timed an hour ago is answered NOTAUTH/BADTIME.
    const m = emptyMessage(4242);
    m.opcode = Opcode.UPDATE;
    m.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
    m.authority = [{ name: Name.from(`stale.${ZONE}`), type: RRType.A, class: RRClass.IN, ttl: 60, rdata: Uint8Array.of(192, 0, 2, 7) }];
    const signed = signMessage(encodeMessage(m), dynKey, Date.now() / 1000 - 3600).bytes;
    const raw = await udpExchange(dmsd.port, signed);
    const answer = decodeMessage(raw);
    assert.equal(answer.rcode, Rcode.NOTAUTH);
    assert.ok(answer.tsigOffset !== undefined);
    assert.equal(readTsigAt(raw, answer.tsigOffset as number).error, 18 /* BADTIME */);
    // Nothing changed, and the zone still answers as before.
    assert.equal(state(), before);
    assert.equal(short(dmsd.port, `x.${ZONE}`, 'A'), '');
    assert.equal(short(dmsd.port, `stale.${ZONE}`, 'A'), '');
    assert.equal(short(dmsd.port, `www.${ZONE}`, 'A'), '192.0.2.20');
    // A zone without inc_updates refuses even the granted key.
    const plain = join(data, 'plain.txt');
    writeFileSync(plain, zoneText('192.0.2.30'));
    zoneToolOk(store(), ['load_zone', plain, 'static.example']);
    const r2 = zoneTool(store(), ['add_update_grant', 'static.example', 'grant dyn.key zonesub ANY']);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    await waitFor(() => servedSerial(dmsd.port, 'static.example') !== undefined, 2000, 'static.example served');
    const st = runTool('nsupdate', ['-y', k], [`server 127.0.0.1 ${dmsd.port}`, 'zone static.example', 'update add a.static.example. 60 A 192.0.2.1', 'send', ''].join('\n'));
    assert.match(st.out, /REFUSED|NOTAUTH/);
    assert.equal(short(dmsd.port, 'a.static.example', 'A'), '');
  });
});
