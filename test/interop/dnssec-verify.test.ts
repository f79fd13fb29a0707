// Our signer checked by the real verifiers: zones signed by src/dnssec (every algorithm, NSEC, NSEC3, NSEC3 opt-out,
// KSK+ZSK and CSK; delegations secure and insecure, glue, wildcards, ENTs, CNAME, DNAME, names below a DNAME) are
// written with the zone-file writer and must pass BIND's `dnssec-verify` and ldns's `ldns-verify-zone`; so must a
// zone after a series of incremental changes. Tampered zones must fail both (so the verifiers really look). Keys:
// BIND's dnssec-keygen keys import and sign verifiable zones, DS records agree with dnssec-dsfromkey, and key files
// we export are used by dnssec-signzone.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import type { RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText, rrsigFields } from '../../src/dns/rdata.js';
import {
  type Denial,
  exportBindKey,
  generateKey,
  importBindKey,
  KSK_FLAGS,
  signZone,
  type ZoneKey,
  ZSK_FLAGS,
} from '../../src/dnssec/index.js';
import { parseZoneText, writeZoneText } from '../../src/zonefile/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dms-dnssec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const origin = Name.from('example.org');
const now = () => Math.floor(Date.now() / 1000);

const ZONE = `$TTL 300
@ 3600 IN SOA ns1 hostmaster 2024010101 3600 600 86400 300
@ 3600 NS ns1
@ 3600 NS ns2.example.net.
@ MX 10 mail
ns1 3600 A 192.0.2.1
ns1 3600 AAAA 2001:db8::1
mail A 192.0.2.2
WWW A 192.0.2.3
www.Sub2 TXT "case kept"
odd\\.label TXT "a dot inside a label"
x.y.z TXT "y.z and z are empty non-terminals"
*.w TXT "wildcard"
*.w MX 10 mail
a.*.w TXT "below a wildcard"
alias CNAME www
ext CNAME www.example.net.
_sip._tcp SRV 10 5 5060 sip
sip A 192.0.2.4
@ CAA 0 issue "ca.example"
dn DNAME example.net.
below.dn A 192.0.2.99
x.below.dn TXT "occluded by the DNAME"
secure NS ns.secure
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
ns.secure A 192.0.2.5
insecure NS ns.insecure
insecure NS ns.example.net.
ns.insecure A 192.0.2.6
ns.insecure AAAA 2001:db8::6
deep.ent.leaf NS ns.other.example.
deep.ent.secure2 NS ns.other.example.
deep.ent.secure2 DS 54321 8 2 1111111111111111111111111111111111111111111111111111111111111111
`;
const records = (): RR[] => {
  const r = parseZoneText(ZONE, { origin });
  assert.deepEqual(r.problems, []);
  return r.records;
};

function tool(cmd: string, args: string[], cwd = dir) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8' });
}

test('the verifiers are installed (bind9 dnssec-verify, ldnsutils ldns-verify-zone)', () => {
  assert.equal(tool('dnssec-verify', ['-V']).status, 0);
  assert.match(tool('ldns-verify-zone', ['-v']).stdout + tool('ldns-verify-zone', ['-v']).stderr, /\d+\.\d+/);
});

function writeZone(name: string, rrs: RR[]): string {
  const path = join(dir, name);
  writeFileSync(path, writeZoneText(origin, rrs));
  return path;
}

/** `csk`: one key with the SEP bit signs everything; dnssec-verify then needs -z ("ignore the KSK flag"). */
function assertVerified(path: string, csk = false): void {
  const b = tool('dnssec-verify', [...(csk ? ['-z'] : []), '-o', origin.toString(), path]);
  assert.equal(b.status, 0, `dnssec-verify ${path}:\n${b.stdout}${b.stderr}`);
  assert.match(b.stdout + b.stderr, /Zone fully signed/);
  const l = tool('ldns-verify-zone', [path]);
  assert.equal(l.status, 0, `ldns-verify-zone ${path}:\n${l.stdout}${l.stderr}`);
  assert.match(l.stdout + l.stderr, /Zone is verified and complete/);
}

function assertRejected(path: string): void {
  const b = tool('dnssec-verify', ['-z', '-o', origin.toString(), path]);
  assert.notEqual(b.status, 0, `dnssec-verify accepted the tampered ${path}`);
  const l = tool('ldns-verify-zone', [path]);
  assert.notEqual(l.status, 0, `ldns-verify-zone accepted the tampered ${path}`);
}

const DENIALS: [string, Denial][] = [
  ['nsec', { kind: 'nsec' }],
  ['nsec3', { kind: 'nsec3' }],
  ['nsec3-optout', { kind: 'nsec3', optOut: true }],
  ['nsec3-salt', { kind: 'nsec3', iterations: 3, salt: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) }],
];

for (const alg of [13, 15, 8]) {
  const ksk = generateKey(alg, { flags: KSK_FLAGS });
  const zsk = generateKey(alg, { flags: ZSK_FLAGS });
  const layouts: [string, ZoneKey[]][] = [
    ['ksk+zsk', [{ key: ksk, ksk: true, zsk: false, publishCds: true }, { key: zsk, ksk: false, zsk: true }]],
    ['csk', [{ key: ksk, ksk: true, zsk: true }]],
  ];
  for (const [dname, denial] of DENIALS)
    for (const [lname, keys] of layouts) {
      test(`algorithm ${alg}, ${dname}, ${lname}: dnssec-verify and ldns-verify-zone accept the signed zone`, () => {
        const z = signZone(origin, records(), keys, { denial }, now());
        assertVerified(writeZone(`${alg}-${dname}-${lname}.zone`, z.records()), lname === 'csk');
      });
    }
}

test('tampered zones are rejected by both verifiers (a flipped signature bit; a missing chain record)', () => {
  const keys: ZoneKey[] = [{ key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: true }];
  for (const [dname, denial] of DENIALS.slice(0, 2)) {
    const all = signZone(origin, records(), keys, { denial }, now()).records();
    const sigAt = all.findIndex((r) => r.type === RRType.RRSIG && r.name.equals(Name.from('www.example.org')));
    const flipped = all.map((r, i) => {
      if (i !== sigAt) return r;
      const rdata = r.rdata.slice();
      rdata[rdata.length - 1] ^= 1;
      return { ...r, rdata };
    });
    assertRejected(writeZone(`bad-sig-${dname}.zone`, flipped));
    const chainType = denial.kind === 'nsec' ? RRType.NSEC : RRType.NSEC3;
    const gone = all.findIndex((r) => r.type === chainType);
    assertRejected(writeZone(`bad-chain-${dname}.zone`, all.filter((_, i) => i !== gone)));
  }
});

test('after a series of incremental changes the zone still verifies (NSEC, NSEC3, NSEC3 opt-out)', () => {
  const t0 = now();
  const parse = (text: string) => parseZoneText(`$TTL 300\n${text}\n`, { origin }).records;
  const steps: { remove: string; add: string }[] = [
    { remove: '', add: 'new.name A 192.0.2.50\nnew.name TXT "x"' }, // new name under a new ENT
    { remove: 'WWW A 192.0.2.3', add: 'WWW A 192.0.2.33' }, // change of an RRset
    { remove: '', add: 'insecure DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000001' }, // insecure → secure
    { remove: 'secure NS ns.secure\nsecure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000', add: '' }, // delegation gone: glue becomes authoritative
    { remove: '', add: 'y.z NS ns.y.z\nns.y.z A 192.0.2.60' }, // ENT becomes a delegation, x.y.z becomes occluded
    { remove: 'x.y.z TXT "y.z and z are empty non-terminals"', add: '*.z A 192.0.2.70' },
    { remove: '@ 3600 IN SOA ns1 hostmaster 2024010101 3600 600 86400 300', add: '@ 900 IN SOA ns1 hostmaster 2024010102 3600 600 86400 120' }, // negative TTL
    { remove: 'dn DNAME example.net.', add: 'dn A 192.0.2.80' },
  ];
  for (const [dname, denial] of DENIALS.slice(0, 3)) {
    const keys: ZoneKey[] = [{ key: generateKey(13, { flags: KSK_FLAGS }), ksk: true, zsk: true }];
    const z = signZone(origin, records(), keys, { denial }, t0);
    steps.forEach((s, i) => {
      const d = z.apply({ remove: parse(s.remove), add: parse(s.add) }, keys, t0 + i);
      assert.ok(d.add.length > 0, `step ${i} changed signer records`);
    });
    // A key change: a new ZSK takes over from the CSK's ZSK role.
    const zsk = generateKey(13, { flags: ZSK_FLAGS });
    const rolled: ZoneKey[] = [{ ...keys[0], zsk: false }, { key: zsk, ksk: false, zsk: true }];
    z.apply({ remove: [], add: [] }, rolled, t0 + 100);
    const path = writeZone(`incremental-${dname}.zone`, z.records());
    assertVerified(path);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /new\.name\t300\tIN\tTXT/);
    // Every RRset but the apex key RRsets is now signed by the new ZSK only.
    const tags = z.records().filter((r) => r.type === RRType.RRSIG).map((r) => rrsigFields(r.rdata));
    assert.ok(tags.filter((f) => f.typeCovered !== RRType.DNSKEY).every((f) => f.keyTag === zsk.keyTag));
    assert.ok(tags.filter((f) => f.typeCovered === RRType.DNSKEY).every((f) => f.keyTag === keys[0].key.keyTag));
  }
});

function keygen(alg: number, ksk: boolean, kdir: string): string {
  const args = ['-q', '-K', kdir, '-a', String(alg), ...(alg === 8 ? ['-b', '2048'] : []), ...(ksk ? ['-f', 'KSK'] : []), origin.toString()];
  return execFileSync('dnssec-keygen', args, { encoding: 'utf8' }).trim();
}

for (const alg of [13, 15, 8]) {
  test(`algorithm ${alg}: keys made by dnssec-keygen import, match dnssec-dsfromkey, and sign a zone that verifies`, () => {
    const kdir = mkdtempSync(join(dir, `keygen-${alg}-`));
    const imported = [true, false].map((isKsk) => {
      const base = keygen(alg, isKsk, kdir);
      const r = importBindKey({
        zone: origin,
        keyText: readFileSync(join(kdir, `${base}.key`), 'utf8'),
        privateText: readFileSync(join(kdir, `${base}.private`), 'utf8'),
        fileName: `${base}.private`,
        algorithm: alg,
      });
      assert.equal(`${r.key.isSep}`, `${isKsk}`);
      assert.ok(r.timing.created && r.timing.activate && r.timing.publish, 'timing fields read');
      for (const [digest, num] of [['SHA-256', 2], ['SHA-384', 4]] as const) {
        const ds = execFileSync('dnssec-dsfromkey', ['-a', digest, join(kdir, `${base}.key`)], { encoding: 'utf8' }).trim();
        assert.equal(ds.replace(/\s+/g, ' '), `example.org. IN DS ${rdataToText(RRType.DS, r.key.ds(origin, num))}`);
      }
      return r.key;
    });
    const keys: ZoneKey[] = [{ key: imported[0], ksk: true, zsk: false }, { key: imported[1], ksk: false, zsk: true }];
    const z = signZone(origin, records(), keys, { denial: { kind: 'nsec3' } }, now());
    assertVerified(writeZone(`keygen-${alg}.zone`, z.records()));
  });

  test(`algorithm ${alg}: key files we export are used by dnssec-signzone, and its zone verifies`, () => {
    const kdir = mkdtempSync(join(dir, `export-${alg}-`));
    const t = now() - 3600;
    for (const flags of [KSK_FLAGS, ZSK_FLAGS]) {
      const k = generateKey(alg, { flags });
      const f = exportBindKey(origin, k, { created: t, publish: t, activate: t });
      writeFileSync(join(kdir, `${f.baseName}.key`), f.keyText);
      writeFileSync(join(kdir, `${f.baseName}.private`), f.privateText, { mode: 0o600 });
      const ds = execFileSync('dnssec-dsfromkey', ['-2', join(kdir, `${f.baseName}.key`)], { encoding: 'utf8' }).trim();
      assert.equal(ds.replace(/\s+/g, ' '), `example.org. IN DS ${rdataToText(RRType.DS, k.ds(origin))}`);
    }
    writeFileSync(join(kdir, 'unsigned.zone'), ZONE);
    const s = tool('dnssec-signzone', ['-S', '-K', kdir, '-o', origin.toString(), '-f', 'signed.zone', 'unsigned.zone'], kdir);
    assert.equal(s.status, 0, s.stdout + s.stderr);
    const v = tool('dnssec-verify', ['-o', origin.toString(), 'signed.zone'], kdir);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    // dnssec-signzone signed with both of our keys (their tags appear in its RRSIGs).
    const signed = readFileSync(join(kdir, 'signed.zone'), 'utf8');
    for (const name of readdirSync(kdir).filter((n) => n.endsWith('.key'))) {
      const tag = Number(/\+(\d{5})\.key$/.exec(name)?.[1]);
      assert.ok(new RegExp(`\\s${tag} example\\.org\\.`).test(signed), `RRSIG by key ${tag}`);
    }
  });
}
