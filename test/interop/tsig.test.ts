import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Rcode } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage, type Message } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import {
  algorithmFromString,
  generateTsigKey,
  keyToBindConfig,
  keyToKnotConfig,
  macLength,
  readTsigAt,
  signMessage,
  TSIG_ALGORITHMS,
  type TsigKey,
  TsigStreamSigner,
  TsigStreamVerifier,
  tsigErrorResponse,
  tsigFailureRcode,
  verifyRequest,
  verifyResponse,
} from '../../src/dns/tsig.js';
import { type Responder, run, startResponder } from '../helpers/xfr.support.js';

function makeKey(name: string, algorithm: TsigKey['algorithm']): TsigKey {
  return { name: Name.from(name), algorithm, secret: new Uint8Array(randomBytes(32)) };
}
const b64 = (k: TsigKey) => Buffer.from(k.secret).toString('base64');
const lookupOf = (keys: TsigKey[]) => (n: Name) => keys.find((k) => k.name.equals(n));

function query(id: number): Message {
  const m = emptyMessage(id);
  m.question.push({ name: Name.from('example.org'), type: 1, class: 1 });
  return m;
}

describe('TSIG unit', () => {
  test('algorithm names', () => {
    assert.equal(algorithmFromString('HMAC-SHA256.'), 'hmac-sha256');
    assert.equal(algorithmFromString('hmac-md5.sig-alg.reg.int.'), 'hmac-md5');
    assert.equal(algorithmFromString('hmac-sha3'), undefined);
  });

  for (const alg of TSIG_ALGORITHMS) {
    test(`sign and verify round trip, ${alg}`, () => {
      const key = makeKey('k.example', alg);
      const now = 1_700_000_000;
      const req = signMessage(encodeMessage(query(7)), key, now);
      const dec = decodeMessage(req.bytes);
      assert.ok(dec.tsigOffset !== undefined);
      const v = verifyRequest(req.bytes, dec.tsigOffset, lookupOf([key]), now + 10);
      assert.ok(v.ok);
      assert.equal(v.requestMac.length, macLength(alg));
      // Any change to the signed octets breaks the MAC.
      const tampered = req.bytes.slice();
      tampered[13] ^= 1;
      const tv = verifyRequest(tampered, dec.tsigOffset, lookupOf([key]), now);
      assert.equal(tv.ok, false);
      assert.equal(!tv.ok && tv.error, Rcode.BADSIG);
      // Response signed with the request MAC verifies with verifyResponse, and not with another request MAC.
      const resp = query(7);
      resp.qr = true;
      const sr = signMessage(encodeMessage(resp), key, now, v.requestMac);
      const rdec = decodeMessage(sr.bytes);
      assert.equal(verifyResponse(sr.bytes, rdec.tsigOffset as number, key, v.requestMac, now), 0);
      assert.equal(verifyResponse(sr.bytes, rdec.tsigOffset as number, key, new Uint8Array(v.requestMac.length), now), Rcode.BADSIG);
    });
  }

  test('key and time checks, in RFC order', () => {
    const key = makeKey('k.example', 'hmac-sha256');
    const now = 1_700_000_000;
    const req = signMessage(encodeMessage(query(9)), key, now).bytes;
    const off = decodeMessage(req).tsigOffset as number;
    const noKey = verifyRequest(req, off, () => undefined, now);
    assert.equal(!noKey.ok && noKey.error, Rcode.BADKEY);
    const wrongAlg = verifyRequest(req, off, () => ({ ...key, algorithm: 'hmac-sha512' }), now);
    assert.equal(!wrongAlg.ok && wrongAlg.error, Rcode.BADKEY);
    const wrongSecret = verifyRequest(req, off, () => ({ ...key, secret: new Uint8Array(32) }), now);
    assert.equal(!wrongSecret.ok && wrongSecret.error, Rcode.BADSIG);
    const late = verifyRequest(req, off, lookupOf([key]), now + 301);
    assert.equal(!late.ok && late.error, Rcode.BADTIME);
    assert.ok(!late.ok && late.key, 'BADTIME keeps the key so the answer can be signed');
    assert.ok(verifyRequest(req, off, lookupOf([key]), now - 300).ok);
  });

  test('MAC truncation rules (RFC 8945 5.2.2.1)', () => {
    const key = makeKey('k.example', 'hmac-sha256');
    const now = 1_700_000_000;
    const sizes: [number, number | true][] = [[32, true], [16, true], [20, true], [15, Rcode.FORMERR], [10, Rcode.FORMERR], [1, Rcode.FORMERR]];
    for (const [size, want] of sizes) {
      const req = signMessage(encodeMessage(query(1)), key, now, undefined, { macSize: size }).bytes;
      const off = decodeMessage(req).tsigOffset as number;
      assert.equal(readTsigAt(req, off).mac.length, size);
      const v = verifyRequest(req, off, lookupOf([key]), now);
      if (want === true) assert.ok(v.ok, `size ${size}`);
      else assert.equal(!v.ok && v.error, want, `size ${size}`);
    }
    // A legal truncation below local policy is BADTRUNC (after the MAC verified).
    const req = signMessage(encodeMessage(query(1)), key, now, undefined, { macSize: 16 }).bytes;
    const v = verifyRequest(req, decodeMessage(req).tsigOffset as number, lookupOf([key]), now, { minMacSize: 32 });
    assert.equal(!v.ok && v.error, Rcode.BADTRUNC);
    // hmac-sha1 (20 octets): the floor is max(10, 10) = 10.
    const k1 = makeKey('k1.example', 'hmac-sha1');
    const r1 = signMessage(encodeMessage(query(1)), k1, now, undefined, { macSize: 10 }).bytes;
    assert.ok(verifyRequest(r1, decodeMessage(r1).tsigOffset as number, lookupOf([k1]), now).ok);
  });

  test('error answers: BADSIG/BADKEY unsigned, BADTIME signed with server time', () => {
    const key = makeKey('k.example', 'hmac-sha256');
    const now = 1_700_000_000;
    const req = signMessage(encodeMessage(query(3)), key, now).bytes;
    const off = decodeMessage(req).tsigOffset as number;
    const resp = query(3);
    resp.qr = true;
    const bad = verifyRequest(req, off, () => ({ ...key, secret: new Uint8Array(32) }), now);
    assert.ok(!bad.ok);
    resp.rcode = tsigFailureRcode(bad);
    assert.equal(resp.rcode, Rcode.NOTAUTH);
    const unsigned = tsigErrorResponse(encodeMessage(resp), bad, now);
    const ut = readTsigAt(unsigned, decodeMessage(unsigned).tsigOffset as number);
    assert.equal(ut.mac.length, 0);
    assert.equal(ut.error, Rcode.BADSIG);
    const skewed = verifyRequest(req, off, lookupOf([key]), now + 1000);
    assert.ok(!skewed.ok);
    const signed = tsigErrorResponse(encodeMessage(resp), skewed, now + 1000);
    const soff = decodeMessage(signed).tsigOffset as number;
    const st = readTsigAt(signed, soff);
    assert.equal(st.error, Rcode.BADTIME);
    assert.equal(st.timeSigned, now, 'Time Signed echoes the request');
    assert.deepEqual([...st.otherData], [0, 0, ...Buffer.from(((now + 1000) >>> 0).toString(16).padStart(8, '0'), 'hex')]);
    assert.equal(verifyResponse(signed, soff, key, skewed.requestMac as Uint8Array, now), Rcode.BADTIME);
  });

  test('multi-message stream signing chains MACs', () => {
    const key = makeKey('x.example', 'hmac-sha384');
    const reqMac = new Uint8Array(randomBytes(48));
    const signer = new TsigStreamSigner(key, reqMac);
    const now = 1_700_000_000;
    const msgs = [0, 1, 2, 3].map((i) => {
      const m = query(5);
      m.qr = true;
      m.answer.push({ name: Name.from(`h${i}.example.org`), type: 1, class: 1, ttl: 1, rdata: Uint8Array.of(10, 0, 0, i) });
      return signer.sign(encodeMessage(m), now + i);
    });
    const good = new TsigStreamVerifier(key, reqMac);
    for (const m of msgs) assert.equal(good.verify(m, decodeMessage(m).tsigOffset, now), 0);
    // Out of order: the chain breaks.
    const reordered = new TsigStreamVerifier(key, reqMac);
    assert.equal(reordered.verify(msgs[0], decodeMessage(msgs[0]).tsigOffset, now), 0);
    assert.equal(reordered.verify(msgs[2], decodeMessage(msgs[2]).tsigOffset, now), Rcode.BADSIG);
  });

  test('generated keys have a secret as long as the MAC', () => {
    for (const alg of TSIG_ALGORITHMS) {
      const k = generateTsigKey(Name.from('gen.example'), alg);
      assert.equal(k.secret.length, macLength(alg));
      assert.equal(k.algorithm, alg);
    }
    assert.notDeepEqual(generateTsigKey(Name.from('a')).secret, generateTsigKey(Name.from('a')).secret);
  });

  test('key configuration text for BIND and Knot', () => {
    const key: TsigKey = { name: Name.from('xfr.example.org'), algorithm: 'hmac-sha512', secret: Uint8Array.of(1, 2, 3) };
    assert.equal(keyToBindConfig(key), 'key "xfr.example.org" {\n\talgorithm hmac-sha512;\n\tsecret "AQID";\n};\n');
    assert.match(keyToKnotConfig(key), /id: xfr\.example\.org\n {4}algorithm: hmac-sha512\n {4}secret: AQID\n/);
  });
});

describe('TSIG against dig and kdig', () => {
  const keys = TSIG_ALGORITHMS.map((alg) => makeKey(`${alg}.key.example`, alg));
  let skew = 0;
  let corruptResponse = false;
  let responder: Responder;
  const seen: number[] = [];

  before(async () => {
    responder = await startResponder((req) => {
      const q = decodeMessage(req);
      const m = emptyMessage(q.id);
      m.qr = true;
      m.aa = true;
      m.question = q.question;
      const now = Date.now() / 1000 + skew;
      if (q.tsigOffset === undefined) {
        m.rcode = Rcode.REFUSED;
        return [encodeMessage(m)];
      }
      const v = verifyRequest(req, q.tsigOffset, lookupOf(keys), now);
      if (!v.ok) {
        seen.push(v.error);
        m.rcode = tsigFailureRcode(v);
        return [tsigErrorResponse(encodeMessage(m), v, now)];
      }
      seen.push(0);
      m.answer.push({ name: q.question[0].name, type: 1, class: 1, ttl: 60, rdata: Uint8Array.of(192, 0, 2, 1) });
      const signed = signMessage(encodeMessage(m), v.key, now, v.requestMac, { macSize: v.requestMac.length }).bytes;
      if (corruptResponse) signed[signed.length - 10] ^= 0xff; // inside the MAC
      return [signed];
    });
  });
  after(() => responder.close());

  const dig = (spec: string, extra: string[] = []) =>
    run('dig', ['-p', String(responder.port), '@127.0.0.1', '-y', spec, 'example.org', 'A', '+tries=1', '+time=3', ...extra]);
  const kdig = (spec: string) => run('kdig', ['-p', String(responder.port), '@127.0.0.1', '-y', spec, 'example.org', 'A', '+retry=0']);

  for (const key of keys) {
    test(`dig ${key.algorithm}: signed request verified, signed answer verified by dig`, async () => {
      seen.length = 0;
      for (const extra of [[], ['+tcp']]) {
        const r = await dig(`${key.algorithm}:${key.name}:${b64(key)}`, extra);
        assert.match(r.stdout, /status: NOERROR/);
        assert.match(r.stdout, /192\.0\.2\.1/);
        assert.match(r.stdout, new RegExp(`TSIG\\s+${key.algorithm === 'hmac-md5' ? 'hmac-md5.sig-alg.reg.int' : key.algorithm}\\..* NOERROR 0`));
        assert.doesNotMatch(r.stdout + r.stderr, /could not be validated|Couldn't verify|failure/i);
      }
      assert.deepEqual(seen, [0, 0]);
    });
  }

  test('kdig verifies our answers, every algorithm', async () => {
    for (const key of keys) {
      const r = await kdig(`${key.algorithm}:${key.name}:${b64(key)}`);
      assert.match(r.stdout, /status: NOERROR/, r.stdout + r.stderr);
      assert.match(r.stdout, /192\.0\.2\.1/);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING|failed/i);
    }
  });

  test('truncated MAC from dig (hmac-sha256-128) is accepted and answered with the same length', async () => {
    const key = keys.find((k) => k.algorithm === 'hmac-sha256') as TsigKey;
    const r = await dig(`hmac-sha256-128:${key.name}:${b64(key)}`);
    assert.match(r.stdout, /status: NOERROR/);
    assert.match(r.stdout, /TSIG\s+hmac-sha256\. \d+ 300 16 /);
    assert.doesNotMatch(r.stdout + r.stderr, /could not be validated|Couldn't verify/);
  });

  test('wrong secret gives NOTAUTH/BADSIG, unknown key NOTAUTH/BADKEY (unsigned)', async () => {
    const key = keys[3];
    const wrong = Buffer.from(randomBytes(32)).toString('base64');
    seen.length = 0;
    const r1 = await dig(`${key.algorithm}:${key.name}:${wrong}`);
    assert.match(r1.stdout, /status: NOTAUTH/);
    assert.match(r1.stdout, / 0 \d+ BADSIG 0/);
    const r2 = await dig(`${key.algorithm}:nosuch.key.example:${b64(key)}`);
    assert.match(r2.stdout, /status: NOTAUTH/);
    assert.match(r2.stdout, /BADKEY/);
    assert.deepEqual(seen, [Rcode.BADSIG, Rcode.BADKEY]);
  });

  test('clock skew gives BADTIME, signed, with our time (dig and kdig)', async () => {
    const key = keys[3];
    skew = 1000;
    try {
      const r = await dig(`${key.algorithm}:${key.name}:${b64(key)}`);
      assert.match(r.stdout, /status: NOTAUTH/);
      // dig verified the MAC of the error answer and then reports the skew.
      assert.match(r.stdout + r.stderr, /clocks are unsynchronized/);
      assert.match(r.stdout, /BADTIME 6 /);
      const k = await kdig(`${key.algorithm}:${key.name}:${b64(key)}`);
      assert.match(k.stdout, /status: BADTIME/);
    } finally {
      skew = 0;
    }
  });

  test('a corrupted answer MAC is rejected by dig (the test can fail)', async () => {
    const key = keys[3];
    corruptResponse = true;
    try {
      const r = await dig(`${key.algorithm}:${key.name}:${b64(key)}`);
      assert.match(r.stdout + r.stderr, /Couldn't verify signature: tsig verify failure/);
    } finally {
      corruptResponse = false;
    }
  });
});
