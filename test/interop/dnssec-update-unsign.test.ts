// RFC 2136 UPDATE deleting the DNSKEY RRset of a signed zone (issue 9, as in bind9-dnssec-dynamic-zones: "removing
// all DNSKEYs makes the zone insecure only when configuration allows it"): with nsupdate against a real dmsd.
//  - dnssec_secure_to_insecure false (the default): REFUSED; the DNSKEY stays served, no transition starts.
//  - deleting one key of a KSK+ZSK zone (not all of them): REFUSED (keys change by rollover).
//  - dnssec_secure_to_insecure true: NOERROR, the serial moves on, and the secure → insecure transition of
//    set_zone_dnssec_policy none starts: the CDS/CDNSKEY delete records (RFC 8078 §4) are served while the keys still
//    sign (the DS must leave the parent first), and show_dnssec says the zone is going insecure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dig, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';

const CSK = 'unsign.example';
const SPLIT = 'split.example';

function nsupdate(key: string, port: number, zone: string, lines: string[]): { code: number | null; out: string } {
  const r = spawnSync('nsupdate', ['-y', key], {
    encoding: 'utf8',
    timeout: 30_000,
    input: [`server 127.0.0.1 ${port}`, `zone ${zone}`, ...lines, 'send', ''].join('\n'),
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The RDATA lines dmsd serves for zone/type (DO=1, no RRSIG lines). */
function served(port: number, zone: string, type: string): string[] {
  return dig(port, ['+norec', '+dnssec', '+noall', '+answer', zone, type])
    .split('\n')
    .filter((l) => new RegExp(`\\sIN\\s+${type}\\s`).test(l))
    .map((l) => l.replace(/^\S+\s+\d+\s+IN\s+\S+\s+/, '').trim());
}

describe('UPDATE deleting every DNSKEY of a signed zone: refused unless dnssec_secure_to_insecure, then secure → insecure', () => {
  let data = '';
  let dmsd: Server;
  let key = '';
  const store = () => sqliteArgs(data);
  const kek = () => ['--dnssec-kek', join(data, 'kek')];
  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'dms-update-unsign-'));
    for (const zone of [CSK, SPLIT]) {
      const file = join(data, `${zone}.txt`);
      writeFileSync(file, '$TTL 60\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n');
      zoneToolOk(store(), ['load_zone', '-i', file, zone]);
    }
    key = /^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(zoneToolOk(store(), ['generate_tsig_key', 'upd.key']))?.[1] ?? '';
    assert.notEqual(key, '');
    for (const zone of [CSK, SPLIT]) zoneToolOk(store(), ['add_update_grant', zone, 'grant upd.key zonesub ANY']);
    zoneToolOk(store(), ['create_dnssec_policy', 'split', 'keys=ksk-zsk']);
    zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', CSK, 'default']);
    zoneToolOk(store(), [...kek(), 'set_zone_dnssec_policy', SPLIT, 'split']);
    dmsd = await startDmsdDb(store(), ['--no-http', ...kek()]);
    await waitFor(() => served(dmsd.port, CSK, 'DNSKEY').length === 1 && served(dmsd.port, SPLIT, 'DNSKEY').length === 2, 60_000, 'both zones signed');
  });
  after(async () => {
    await dmsd?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  test('dnssec_secure_to_insecure false (default): REFUSED, nothing changes', () => {
    const serial = servedSerial(dmsd.port, CSK);
    const r = nsupdate(key, dmsd.port, CSK, [`update delete ${CSK}. DNSKEY`]);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /REFUSED/);
    assert.equal(servedSerial(dmsd.port, CSK), serial);
    assert.equal(served(dmsd.port, CSK, 'DNSKEY').length, 1, 'the DNSKEY is still served');
    assert.deepEqual(served(dmsd.port, CSK, 'CDS').filter((l) => /^0 0 0 /.test(l)), [], 'no CDS delete');
    assert.doesNotMatch(zoneToolOk(store(), ['show_dnssec', CSK]), /going insecure/);
  });

  test('deleting one of the keys (the ZSK of a KSK+ZSK zone): REFUSED, keys change by rollover', () => {
    const [ksk, zsk] = [...served(dmsd.port, SPLIT, 'DNSKEY')].sort((a, b) => Number(b.split(' ')[0]) - Number(a.split(' ')[0]));
    assert.match(ksk, /^257 /);
    assert.match(zsk, /^256 /);
    const r = nsupdate(key, dmsd.port, SPLIT, [`update delete ${SPLIT}. DNSKEY ${zsk}`]);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /REFUSED/);
    assert.equal(served(dmsd.port, SPLIT, 'DNSKEY').length, 2);
  });

  test('dnssec_secure_to_insecure true: NOERROR, the secure → insecure transition starts (CDS/CDNSKEY delete served, keys still signing)', async () => {
    zoneToolOk(store(), ['set_config', 'dnssec_secure_to_insecure', 'true']);
    const serial = servedSerial(dmsd.port, CSK) as number;
    const r = nsupdate(key, dmsd.port, CSK, [`update delete ${CSK}. DNSKEY`]);
    assert.equal(r.code, 0, r.out);
    await waitFor(() => (servedSerial(dmsd.port, CSK) ?? 0) > serial, 30_000, 'a new serial');
    await waitFor(() => served(dmsd.port, CSK, 'CDS').includes('0 0 0 00'), 30_000, 'the CDS delete record (RFC 8078 §4) served');
    assert.deepEqual(served(dmsd.port, CSK, 'CDNSKEY'), ['0 3 0 AA=='], 'the CDNSKEY delete record');
    // The DS must leave the parent before the keys leave the zone: the DNSKEY is still served and still signs.
    assert.equal(served(dmsd.port, CSK, 'DNSKEY').length, 1);
    assert.match(dig(dmsd.port, ['+norec', '+dnssec', `www.${CSK}`, 'A']), /\sRRSIG\s+A\s/);
    assert.match(zoneToolOk(store(), ['show_dnssec', CSK]), /going insecure/);
    // The other zone is untouched.
    assert.deepEqual(served(dmsd.port, SPLIT, 'CDS').filter((l) => /^0 0 0 /.test(l)), []);
  });
});
