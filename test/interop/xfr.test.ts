import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { signMessage, TsigStreamVerifier } from '../../src/dns/tsig.js';
import { addressInPrefix } from '../../src/dns/address.js';
import { parseTransferKeyName, transferAllowed } from '../../src/server/acl.js';
import { handleTransfer, type XfrSource } from '../../src/server/xfr.js';
import { soaSerialOf } from '../../src/dns/serial.js';
import { axfrRecords, condenseDiffs, packRecords, planIxfr, type ZoneDiff } from '../../src/zone/ixfr.js';
import { ALLOWED_KEY, CONV_KEY, diff, digRecords, keySpec, OTHER_KEY, run, rrText, soa, startPrimary, type TestPrimary, versions } from '../helpers/xfr.support.js';

const origin = Name.from('example.org');
const r = (t: string) => rrText(t, origin);

const show = (rrs: RR[]) => rrs.map((x) => (x.type === RRType.SOA ? `SOA ${soaSerialOf(x)}` : `${x.name.toRelativeString(origin)} ${x.type}`));

describe('IXFR/AXFR planning', () => {
  const [v1, v2] = versions(10); // big enough that the uncondensed difference is smaller than the zone
  const v3 = [soa(3), ...v2.slice(1).filter((x) => x.name.key !== 'new.example.org.'), r('third 300 A 192.0.2.3')];
  const d12 = diff(v1, v2, 1, 2);
  const d23 = diff(v2, v3, 2, 3);

  test('AXFR: SOA, records, SOA', () => {
    assert.deepEqual(show(axfrRecords(soa(1), v1)), ['SOA 1', ...show(v1.slice(1)), 'SOA 1']);
  });

  test('IXFR: up to date, ahead, unknown, one step, condensed, uncondensed', () => {
    assert.deepEqual(show(planIxfr(soa(3), v3, 3, []).records), ['SOA 3']);
    assert.equal(planIxfr(soa(3), v3, 7, undefined).kind, 'up-to-date');
    const full = planIxfr(soa(3), v3, 0, undefined);
    assert.equal(full.kind, 'full');
    assert.deepEqual(show(full.records), show(axfrRecords(soa(3), v3)));
    // History that does not chain up to our serial is treated as unknown.
    assert.equal(planIxfr(soa(3), v3, 1, [d12]).kind, 'full');
    assert.deepEqual(show(planIxfr(soa(2), v2, 1, [d12]).records), ['SOA 2', 'SOA 1', 'www 1', 'old 1', 'SOA 2', 'www 1', 'new 1', 'SOA 2']);
    // Condensed: "new" was added in 2 and removed in 3, so it vanishes.
    assert.deepEqual(show(planIxfr(soa(3), v3, 1, [d12, d23]).records), ['SOA 3', 'SOA 1', 'www 1', 'old 1', 'SOA 3', 'www 1', 'third 1', 'SOA 3']);
    assert.deepEqual(show(planIxfr(soa(3), v3, 1, [d12, d23], { condense: false }).records), [
      'SOA 3', 'SOA 1', 'www 1', 'old 1', 'SOA 2', 'www 1', 'new 1', 'SOA 2', 'new 1', 'SOA 3', 'third 1', 'SOA 3',
    ]);
    // A difference bigger than the zone is sent as the zone.
    const tiny = [soa(8), r('@ 3600 NS ns1')];
    const churn: ZoneDiff = { fromSerial: 7, toSerial: 8, removed: v1.slice(1), added: [r('@ 3600 NS ns1')] };
    assert.equal(planIxfr(soa(8), tiny, 7, [churn]).kind, 'full');
    const c = condenseDiffs([d12, diff(v2, v1, 2, 3)]);
    assert.deepEqual([c.removed.length, c.added.length], [0, 0], 'a change and its undo cancel out');
  });

  test('packing: question only in the first message, size limit respected, every record once', () => {
    const recs = axfrRecords(soa(1), versions(400)[0]);
    const msgs = packRecords(recs, { id: 9, question: { name: origin, type: RRType.AXFR, class: 1 }, maxSize: 16384, reserve: 100 });
    assert.ok(msgs.length > 4);
    let n = 0;
    msgs.forEach((m, i) => {
      assert.ok(m.length <= 16384 - 100);
      const d = decodeMessage(m);
      assert.equal(d.id, 9);
      assert.ok(d.qr && d.aa);
      assert.equal(d.question.length, i === 0 ? 1 : 0);
      n += d.answer.length;
    });
    assert.equal(n, recs.length);
    assert.throws(() => packRecords(recs, { id: 1, question: { name: origin, type: RRType.AXFR, class: 1 }, maxSize: 100 }), RangeError);
  });
});

describe('transfer access rules', () => {
  test('prefixes', () => {
    assert.ok(addressInPrefix('192.0.2.77', '192.0.2.0/24'));
    assert.ok(!addressInPrefix('192.0.3.1', '192.0.2.0/24'));
    assert.ok(addressInPrefix('::ffff:192.0.2.1', '192.0.2.1'));
    assert.ok(addressInPrefix('2001:db8::1', '2001:db8::/32'));
    assert.ok(!addressInPrefix('2001:db9::1', '2001:db8::/32'));
    assert.ok(addressInPrefix('10.1.2.3', '0.0.0.0/0'));
    assert.ok(!addressInPrefix('10.1.2.3', '2001:db8::/32'));
    assert.ok(!addressInPrefix('10.1.2.3', '10.0.0.0/33'));
    assert.ok(!addressInPrefix('10.1.2.3', 'garbage'));
  });
  test('rules and the _transfer convention', () => {
    const k = Name.from('xfr.key');
    assert.ok(transferAllowed(origin, [{ key: k }], k, '198.51.100.1'));
    assert.ok(!transferAllowed(origin, [{ key: k }], undefined, '198.51.100.1'));
    assert.ok(!transferAllowed(origin, [{ key: k, address: '192.0.2.0/24' }], k, '198.51.100.1'));
    assert.ok(transferAllowed(origin, [{ key: k, address: '192.0.2.0/24' }], k, '192.0.2.9'));
    assert.ok(transferAllowed(origin, [{ address: '192.0.2.0/24' }], undefined, '192.0.2.9'));
    assert.ok(!transferAllowed(origin, [{}], undefined, '192.0.2.9'), 'an empty rule matches nothing');
    const conv = Name.from('10.0.42.2.10.0.42.3._transfer.example.org');
    assert.deepEqual({ ...parseTransferKeyName(conv), zone: undefined }, { zone: undefined, primary: '10.0.42.2', secondary: '10.0.42.3' });
    assert.ok(transferAllowed(origin, [], conv, '203.0.113.1'));
    assert.ok(!transferAllowed(Name.from('example.com'), [], conv, '203.0.113.1'));
    assert.ok(!transferAllowed(origin, [], Name.from('10.0.42.2.10.0.42.3._transfer.sub.example.org'), '203.0.113.1'));
  });
});

describe('AXFR/IXFR against dig and kdig', () => {
  let p: TestPrimary;
  before(async () => {
    p = await startPrimary(3000);
  });
  after(() => p.close());
  const dig = (args: string[]) => run('dig', ['-p', String(p.port), '@127.0.0.1', ...args, '+tries=1', '+time=5'], undefined, 30000);

  test('signed AXFR spans several messages, each signed and verified by dig', async () => {
    const out = await dig(['-y', keySpec(ALLOWED_KEY), 'example.org', 'AXFR']);
    assert.doesNotMatch(out.stdout + out.stderr, /failed|Couldn.t verify|verify failure/i);
    const m = /XFR size: (\d+) records \(messages (\d+),/.exec(out.stdout);
    assert.ok(m, out.stdout.slice(-500));
    assert.equal(Number(m[1]), 3000 + 6 + 2);
    assert.ok(Number(m[2]) >= 10, `messages: ${m[2]}`);
    assert.match(out.stdout, /^t2999\.example\.org\.\s+300\s+IN\s+TXT\s+"x{200}2999"$/m);
  });

  test('EDNS in transfers: every message carries the OPT, EXPIRE when asked (RFC 6891 §7, RFC 7314); dig verifies the TSIG after it', async () => {
    const out = await dig(['-y', keySpec(ALLOWED_KEY), '+edns', '+expire', 'example.org', 'AXFR']);
    assert.doesNotMatch(out.stdout + out.stderr, /failed|Couldn.t verify|verify failure/i);
    assert.match(out.stdout, /XFR size: 3008 records/);
    // The messages themselves, through the handler: OPT in each, before the TSIG; EXPIRE = the SOA's.
    const req = emptyMessage(7);
    req.question.push({ name: origin, type: RRType.AXFR, class: 1 });
    req.edns = { udpSize: 4096, extRcode: 0, version: 0, do: true, flags: 0, options: [{ code: 9, data: new Uint8Array(0) }] };
    const signed = signMessage(encodeMessage(req), ALLOWED_KEY, Date.now() / 1000);
    const zoneSoa = soa(1);
    const src: XfrSource = { getZone: () => ({ origin, soa: zoneSoa, records: versions(3000)[0] }), getDiffs: () => undefined, transferRules: () => [{ key: ALLOWED_KEY.name }] };
    const msgs = await handleTransfer({ message: decodeMessage(signed.bytes), transport: 'tcp', address: '127.0.0.1', tsig: { key: ALLOWED_KEY, requestMac: signed.mac } }, src);
    assert.ok(msgs.length > 5, 'several messages');
    const v = new TsigStreamVerifier(ALLOWED_KEY, signed.mac);
    const expire = zoneSoa.rdata.slice(zoneSoa.rdata.length - 8, zoneSoa.rdata.length - 4);
    for (const m of msgs) {
      assert.ok(m.length <= 65535, 'a message fits TCP');
      const d = decodeMessage(m);
      assert.equal(v.verify(m, d.tsigOffset, Date.now() / 1000), 0);
      assert.equal(d.edns?.version, 0);
      assert.ok(d.edns?.do, 'DO echoed');
      assert.deepEqual([...(d.edns?.options.find((o) => o.code === 9)?.data ?? [])], [...expire]);
    }
    // Refused: the OPT, but nothing of the zone (no EXPIRE); no OPT asked, none sent.
    const refused = decodeMessage((await handleTransfer({ message: decodeMessage(encodeMessage(req)), transport: 'tcp', address: '127.0.0.1' }, src))[0]);
    assert.equal(refused.rcode, Rcode.REFUSED);
    assert.ok(refused.edns, 'REFUSED keeps the OPT');
    assert.equal(refused.edns.options.length, 0);
    const plainReq = emptyMessage(8);
    plainReq.question.push({ name: origin, type: RRType.AXFR, class: 1 });
    const plainSigned = signMessage(encodeMessage(plainReq), ALLOWED_KEY, Date.now() / 1000);
    const plainMsgs = await handleTransfer({ message: decodeMessage(plainSigned.bytes), transport: 'tcp', address: '127.0.0.1', tsig: { key: ALLOWED_KEY, requestMac: plainSigned.mac } }, src);
    assert.equal(decodeMessage(plainMsgs[0]).edns, undefined);
  });

  test('kdig verifies a signed AXFR (hmac-sha512, convention key)', async () => {
    const out = await run('kdig', ['-p', String(p.port), '@127.0.0.1', '-y', keySpec(CONV_KEY), 'example.org', 'AXFR'], undefined, 30000);
    assert.doesNotMatch(out.stdout + out.stderr, /WARNING|failed|error:/i);
    assert.match(out.stdout, /Received \d+ B \(\d+ messages, 3008 records\)/);
  });

  test('unsigned, wrongly keyed and unknown-zone transfers are refused', async () => {
    const plain = await dig(['example.org', 'AXFR']);
    assert.match(plain.stdout, /Transfer failed/);
    const other = await dig(['-y', keySpec(OTHER_KEY), 'example.org', 'AXFR']);
    assert.match(other.stdout, /Transfer failed/);
    const req = emptyMessage(5);
    req.question.push({ name: Name.from('example.org'), type: RRType.AXFR, class: 1 });
    // Through the handler directly: the RCODEs themselves.
    const src: XfrSource = { getZone: () => undefined, getDiffs: () => undefined, transferRules: () => [] };
    const nz = decodeMessage((await handleTransfer({ message: req, transport: 'tcp', address: '127.0.0.1' }, src))[0]);
    assert.equal(nz.rcode, Rcode.NOTAUTH);
    const udp = decodeMessage((await handleTransfer({ message: req, transport: 'udp', address: '127.0.0.1' }, src))[0]);
    assert.equal(udp.rcode, Rcode.FORMERR);
  });

  test('signed IXFR: condensed difference, SOA-only when current, AXFR-style when unknown', async () => {
    p.setVersion(3);
    try {
      const inc = await dig(['-y', keySpec(ALLOWED_KEY), '+tcp', 'example.org', 'IXFR=1']);
      assert.doesNotMatch(inc.stdout + inc.stderr, /failed|Couldn't verify/i);
      const lines = digRecords(inc.stdout);
      const brief = lines.map((l) => {
        const f = l.split(/\s+/);
        return f[3] === 'SOA' ? `SOA ${f[6]}` : `${f[0]} ${f[3]}`;
      });
      assert.deepEqual(brief, [
        'SOA 3', 'SOA 1', 'www.example.org. A', 'old.example.org. A', 'SOA 3', 'www.example.org. A', 'third.example.org. AAAA', 'SOA 3',
      ]);
      const cur = await dig(['-y', keySpec(ALLOWED_KEY), '+tcp', 'example.org', 'IXFR=3']);
      assert.equal(digRecords(cur.stdout).length, 1);
      const unknown = await dig(['-y', keySpec(ALLOWED_KEY), '+tcp', 'example.org', 'IXFR=4294967000']); // older than 3 (RFC 1982), not in the history
      assert.match(unknown.stdout, /XFR size: 3008 records/);
      // Over UDP a small difference fits; dig verifies the signature.
      const udp = await dig(['-y', keySpec(ALLOWED_KEY), '+notcp', 'example.org', 'IXFR=2']);
      assert.match(udp.stdout, /third\.example\.org\.\s+300\s+IN\s+AAAA\s+2001:db8::3/);
      assert.doesNotMatch(udp.stdout + udp.stderr, /failed|Couldn't verify/i);
      // ... the full zone does not: SOA alone.
      const big = await dig(['-y', keySpec(ALLOWED_KEY), '+notcp', 'example.org', 'IXFR=4294967000']);
      assert.equal(digRecords(big.stdout).length, 1);
    } finally {
      p.setVersion(1);
    }
  });

  test('signed ordinary queries are answered through the query path and signed', async () => {
    const out = await dig(['-y', keySpec(OTHER_KEY), 'www.example.org', 'A']);
    assert.match(out.stdout, /status: NOERROR/);
    assert.match(out.stdout, /www\.example\.org\.\s+300\s+IN\s+A\s+192\.0\.2\.10/);
    assert.match(out.stdout, /other-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
    assert.doesNotMatch(out.stdout + out.stderr, /Couldn't verify|could not be validated/);
    const bad = await dig(['-y', `hmac-sha256:other-key:${Buffer.alloc(32).toString('base64')}`, 'www.example.org', 'A']);
    assert.match(bad.stdout, /status: NOTAUTH/);
    assert.match(bad.stdout, /BADSIG/);
  });

  test('stream verification of our own signed transfer (TsigStreamVerifier)', async () => {
    const req = emptyMessage(77);
    req.question.push({ name: origin, type: RRType.AXFR, class: 1 });
    const signed = signMessage(encodeMessage(req), ALLOWED_KEY, Date.now() / 1000);
    const dec = decodeMessage(signed.bytes);
    const src: XfrSource = {
      getZone: () => ({ origin, soa: soa(1), records: versions(3000)[0] }),
      getDiffs: () => undefined,
      transferRules: () => [{ key: ALLOWED_KEY.name }],
    };
    const msgs = await handleTransfer(
      { message: dec, transport: 'tcp', address: '127.0.0.1', tsig: { key: ALLOWED_KEY, requestMac: signed.mac } },
      src,
    );
    assert.ok(msgs.length > 5);
    const v = new TsigStreamVerifier(ALLOWED_KEY, signed.mac);
    for (const m of msgs) assert.equal(v.verify(m, decodeMessage(m).tsigOffset, Date.now() / 1000), 0);
  });
});

describe('Primary.handle details', () => {
  /** A Primary serving no zone, knowing ALLOWED_KEY: what its own messages look like. */
  const bareSignedPrimary = async () => {
    const { Primary } = await import('../../src/server/primary.js');
    return new Primary({
      transfers: { getZone: () => undefined, getDiffs: () => undefined, transferRules: () => [] },
      keys: { get: (n) => (n.equals(ALLOWED_KEY.name) ? ALLOWED_KEY : undefined) },
    });
  };

  test('an EDNS version we do not speak gets BADVERS with our OPT (version 0), signed, on the primary\'s messages too', async () => {
    const primary = await bareSignedPrimary();
    const q = emptyMessage(32);
    q.question.push({ name: origin, type: RRType.AXFR, class: 1 });
    q.edns = { udpSize: 1232, extRcode: 0, version: 1, do: false, flags: 0, options: [] };
    const signed = signMessage(encodeMessage(q), ALLOWED_KEY, Date.now() / 1000);
    const out = (await primary.handle(signed.bytes, { transport: 'tcp', address: '127.0.0.1' }, () => null)) as Uint8Array;
    const d = decodeMessage(out);
    assert.equal(d.rcode, Rcode.BADVERS);
    assert.equal(d.edns?.version, 0);
    const { verifyResponse } = await import('../../src/dns/tsig.js');
    assert.equal(verifyResponse(out, d.tsigOffset as number, ALLOWED_KEY, signed.mac, Date.now() / 1000), 0);
  });

  test('a signed UDP answer that no longer fits with its TSIG is sent truncated (TC), signed', async () => {
    const primary = await bareSignedPrimary();
    const q = emptyMessage(31);
    q.question.push({ name: origin, type: RRType.TXT, class: 1 });
    const signed = signMessage(encodeMessage(q), ALLOWED_KEY, Date.now() / 1000);
    const plain = (b: Uint8Array) => {
      const m = decodeMessage(b);
      m.qr = true;
      m.answer.push(r(`@ 300 TXT ${'y'.repeat(200)} ${'z'.repeat(200)}`)); // 12 + 17 + ~425 octets: fits 512 alone
      return encodeMessage(m);
    };
    const out = (await primary.handle(signed.bytes, { transport: 'udp', address: '127.0.0.1' }, plain)) as Uint8Array;
    const d = decodeMessage(out);
    assert.ok(d.tc);
    assert.equal(d.answer.length, 0);
    assert.ok(out.length <= 512);
    const { verifyResponse } = await import('../../src/dns/tsig.js');
    assert.equal(verifyResponse(out, d.tsigOffset as number, ALLOWED_KEY, signed.mac, Date.now() / 1000), 0);
    const tcp = (await primary.handle(signed.bytes, { transport: 'tcp', address: '127.0.0.1' }, plain)) as Uint8Array;
    assert.equal(decodeMessage(tcp).answer.length, 1);
  });
});
