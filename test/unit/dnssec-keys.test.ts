// DNSSEC keys: key tags and DS digests against the RFC examples, the RFC 8080 Ed25519 signature (EdDSA is
// deterministic, so the exact bytes must come out), public-key formats, PKCS#8 and BIND key file round trips, and the
// refusals of key files that do not fit the zone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RRType } from '../../src/dns/constants.js';
import { Name } from '../../src/dns/name.js';
import { rdataFromString, rdataToText } from '../../src/dns/rdata.js';
import {
  DnssecError,
  DnssecKey,
  dsRdata,
  exportBindKey,
  generateKey,
  importBindKey,
  KSK_FLAGS,
  keyFromDnskey,
  keyFromPkcs8,
  keyTag,
  parseBindKeyFile,
  parseBindPrivateKey,
  privateKeyPem,
  privateKeyPkcs8,
  signRRset,
  verifyRrsig,
  ZSK_FLAGS,
} from '../../src/dnssec/index.js';

const dnskey = (text: string) => rdataFromString(RRType.DNSKEY, text);
const dsText = (owner: string, rd: Uint8Array, digest: number) => rdataToText(RRType.DS, dsRdata(Name.from(owner), rd, digest));

test('RFC 4034 §5.4 / RFC 4509 §2.3 example: key tag 60485, SHA-1 and SHA-256 DS', () => {
  const rd = dnskey(
    '256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==',
  );
  assert.equal(keyTag(rd), 60485);
  assert.equal(dsText('dskey.example.com', rd, 1), '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118');
  assert.equal(dsText('dskey.example.com', rd, 2), '60485 5 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A');
});

test('RFC 6605 §6.1 example: ECDSA P-256 key tag 55648 and its SHA-256 DS', () => {
  const rd = dnskey('257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==');
  assert.equal(keyTag(rd), 55648);
  assert.equal(dsText('example.net', rd, 2), '55648 13 2 B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17');
  // The public key field is the 64-octet x|y of RFC 6605 §4 and makes a usable key.
  assert.equal(keyFromDnskey(rd).publicKey.length, 64);
});

test('RFC 8080 §6.1 example: Ed25519 key tag 3613, its DS, and the exact RRSIG over the MX RRset', () => {
  const rd = dnskey('257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=');
  assert.equal(keyTag(rd), 3613);
  assert.equal(dsText('example.com', rd, 2), '3613 15 2 3AA5AB37EFCE57F737FC1627013FEE07BDF241BD10F3B1964AB55C78E79A304B');
  const priv = parseBindPrivateKey('Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n');
  const key = new DnssecKey(15, 257, rd.slice(4), priv.privateKey);
  const owner = Name.from('example.com');
  const rrset = { name: owner, type: RRType.MX, class: 1, ttl: 3600, rdatas: [rdataFromString(RRType.MX, '10 mail.example.com.')] };
  const sig = signRRset(rrset, key, owner, { inception: 1438207200, expiration: 1440021600 });
  assert.equal(
    rdataToText(RRType.RRSIG, sig),
    'MX 15 2 3600 20150819220000 20150729220000 3613 example.com. oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==',
  );
  assert.deepEqual(verifyRrsig(rrset, sig, keyFromDnskey(rd)), { ok: true });
});

test('key tag of a key with an odd-length RDATA and the RSA/MD5 rule of RFC 4034 B.1', () => {
  // Algorithm 1: the tag is octets n-3, n-2 of the modulus (the last-but-one two octets of the RDATA).
  assert.equal(keyTag(Uint8Array.of(1, 0, 3, 1, 3, 1, 0, 1, 0xab, 0xcd, 0xef)), 0xabcd);
  // Sum over an odd number of octets: the last one counts as a high octet.
  assert.equal(keyTag(Uint8Array.of(0, 1, 2)), (0x0001 + 0x0200) & 0xffff);
});

for (const [alg, size] of [[8, 0], [10, 0], [13, 64], [14, 96], [15, 32], [16, 57]] as const) {
  test(`algorithm ${alg}: generate, PKCS#8 DER and PEM round trip, public key format`, () => {
    const k = generateKey(alg, { flags: KSK_FLAGS });
    if (size) assert.equal(k.publicKey.length, size);
    else {
      // RFC 3110: 1 octet exponent length 3, exponent 65537, 256-octet modulus with its top bit set.
      assert.deepEqual([...k.publicKey.subarray(0, 4)], [3, 1, 0, 1]);
      assert.equal(k.publicKey.length, 4 + 256);
      assert.ok(k.publicKey[4] & 0x80);
    }
    assert.equal(k.keyTag, keyTag(k.rdata));
    const fromDer = keyFromPkcs8(alg, KSK_FLAGS, privateKeyPkcs8(k));
    const fromPem = keyFromPkcs8(alg, KSK_FLAGS, privateKeyPem(k));
    assert.deepEqual(fromDer.rdata, k.rdata);
    assert.deepEqual(fromPem.rdata, k.rdata);
    // The DNSKEY public key field parses back into a key that verifies this key's signatures.
    const owner = Name.from('example.org');
    const rrset = { name: owner, type: RRType.TXT, class: 1, ttl: 60, rdatas: [rdataFromString(RRType.TXT, '"x"')] };
    const sig = signRRset(rrset, fromDer, owner, { inception: 1, expiration: 2 });
    assert.deepEqual(verifyRrsig(rrset, sig, keyFromDnskey(k.rdata)), { ok: true });
  });
}

test('a PKCS#8 key of another algorithm is refused', () => {
  const ec = generateKey(13);
  assert.throws(() => keyFromPkcs8(15, ZSK_FLAGS, privateKeyPkcs8(ec)), DnssecError);
  assert.throws(() => keyFromPkcs8(14, ZSK_FLAGS, privateKeyPkcs8(ec)), /not a ECDSAP384SHA384 key/);
  assert.throws(() => keyFromPkcs8(13, ZSK_FLAGS, Uint8Array.of(1, 2, 3)), /not a PKCS#8 private key/);
  assert.throws(() => generateKey(7), /algorithm 7 is not supported/);
});

const zone = Name.from('example.org');

for (const alg of [8, 13, 15]) {
  test(`algorithm ${alg}: BIND key files written by exportBindKey import back to the same key and timing`, () => {
    const k = generateKey(alg, { flags: KSK_FLAGS });
    const timing = { created: 1700000000, publish: 1700000000, activate: 1700003600 };
    const f = exportBindKey(zone, k, timing, 3600);
    assert.equal(f.baseName, `Kexample.org.+${String(alg).padStart(3, '0')}+${String(k.keyTag).padStart(5, '0')}`);
    assert.match(f.privateText, /^Private-key-format: v1\.3\nAlgorithm: /);
    assert.match(f.privateText, /\nActivate: 20231114231320\n/);
    assert.match(f.keyText, /; This is a key-signing key, keyid \d+, for example\.org\.\n/);
    const r = importBindKey({ zone, keyText: f.keyText, privateText: f.privateText, fileName: `/some/dir/${f.baseName}.private` });
    assert.deepEqual(r.key.rdata, k.rdata);
    assert.deepEqual(r.timing, timing);
    assert.equal(r.ttl, 3600);
    assert.deepEqual(privateKeyPkcs8(r.key), privateKeyPkcs8(k));
    // Writing the imported key again gives the same files.
    assert.deepEqual(exportBindKey(zone, r.key, r.timing, 3600), f);
  });
}

test('BIND key import refuses a key that does not fit (with the reason)', () => {
  const k = generateKey(13, { flags: KSK_FLAGS });
  const other = generateKey(13, { flags: KSK_FLAGS });
  const ed = generateKey(15, { flags: KSK_FLAGS });
  const f = exportBindKey(zone, k);
  const imp = (o: Partial<Parameters<typeof importBindKey>[0]>) => () =>
    importBindKey({ zone, keyText: f.keyText, privateText: f.privateText, ...o });
  assert.throws(imp({ zone: Name.from('example.com') }), /the key file is for zone example\.org\., not example\.com\./);
  assert.throws(imp({ algorithm: 15 }), /the key is algorithm 13 \(ECDSAP256SHA256\), the zone's policy uses 15/);
  assert.throws(imp({ privateText: exportBindKey(zone, other).privateText }), /the private key does not belong to the public key/);
  assert.throws(imp({ privateText: exportBindKey(zone, ed).privateText }), /\.key file is algorithm 13 but the \.private file is algorithm 15/);
  assert.throws(imp({ fileName: 'Kexample.com.+013+00001.private' }), /named for zone example\.com\./);
  assert.throws(imp({ fileName: `Kexample.org.+015+${String(k.keyTag).padStart(5, '0')}.private` }), /named for algorithm 15/);
  assert.throws(imp({ fileName: 'Kexample.org.+013+00000.key' }), /named for key tag 0/);
  assert.throws(imp({ fileName: 'example.org.private' }), /not a BIND key file name/);
  assert.throws(imp({ keyText: f.keyText.replace(' 257 ', ' 385 ') }), /revoked/);
  assert.throws(imp({ keyText: f.keyText.replace(' 257 ', ' 1 ') }), /lack the Zone Key bit/);
  assert.throws(imp({ keyText: f.keyText.replace('DNSKEY', 'KEY') }), /not DNSKEY/);
  assert.throws(imp({ privateText: `${f.privateText}Label: pkcs11:token=x\n` }), /HSM/);
  assert.throws(imp({ privateText: f.privateText.replace('v1.3', 'v2.0') }), /format v2\.0 is not supported/);
  assert.throws(imp({ privateText: f.privateText.replace(/PrivateKey: .*/, 'PrivateKey: !!!') }), /"PrivateKey" is not base64/);
  assert.throws(imp({ privateText: f.privateText.replace('Algorithm: 13', 'Algorithm: 3') }), /algorithm 3 is not supported/);
  // Everything right: accepted.
  assert.equal(imp({ algorithm: 13, fileName: `${f.baseName}.key` })().key.keyTag, k.keyTag);
});

test('BIND .key files: comments, TTL and class in either order, parentheses', () => {
  const k = generateKey(15, { flags: ZSK_FLAGS });
  const b64 = Buffer.from(k.publicKey).toString('base64');
  for (const text of [
    `; comment\nexample.org. IN DNSKEY 256 3 15 ${b64}\n`,
    `example.org. 600 IN DNSKEY 256 3 15 ${b64}`,
    `example.org. IN 600 DNSKEY 256 3 15 ${b64}`,
    `example.org. DNSKEY ( 256 3 15\n ${b64} ) ; trailing`,
  ]) {
    const p = parseBindKeyFile(text);
    assert.ok(p.owner.equals(zone));
    assert.deepEqual(p.rdata, k.rdata);
  }
  assert.equal(parseBindKeyFile(`example.org. 600 IN DNSKEY 256 3 15 ${b64}`).ttl, 600);
  assert.throws(() => parseBindKeyFile('; nothing here\n'), /no DNSKEY record/);
  assert.throws(() => parseBindKeyFile('example.org. IN DNSKEY 256 3 15 !!!'), /bad DNSKEY data/);
});

test('keyFromDnskey refuses malformed public keys', () => {
  assert.throws(() => keyFromDnskey(dnskey('256 3 13 AAAA')), /ECDSAP256SHA256 public key is 3 octets, not 64/);
  assert.throws(() => keyFromDnskey(dnskey('256 2 13 AAAA')), /protocol 2/);
  assert.throws(() => keyFromDnskey(dnskey('256 3 8 AwEAAQ==')), /RSA public key/);
});
