// Cross-check against the real servers installed on the test machine: the same zone text must give the same wire
// RDATA in BIND (named-compilezone -F raw) and here, our printer must match named-checkzone -D, RDATA in a real AXFR
// from named (with BIND's name compression) must decode to the same bytes, and Knot and NSD must load what we print.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { COMPRESSIBLE_TYPES, typeFromString, typeToString } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { canonicalRdata, rdataFromString, rdataToText } from '../../src/dns/rdata.js';
import { WireReader } from '../../src/dns/wire.js';

const origin = Name.from('example.org');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** [type, RDATA as written in the zone file]; each gets its own owner rN.example.org. */
const RECORDS: [string, string][] = [
  ['A', '192.0.2.1'],
  ['AAAA', '::ffff:1.2.3.4'],
  ['AAAA', '::1.2.3.4'],
  ['AAAA', '2001:db8:0:0:1:0:0:1'],
  ['AAAA', '2001:0:0:1::'],
  ['AAAA', '::'],
  ['AAAA', 'fe80::1:2:3:4'],
  ['NS', 'ns1'],
  ['NS', '@'],
  ['CNAME', 'a\\.b.Example.COM.'],
  ['PTR', 'x\\032y'],
  ['TXT', '"hello world" foo "a\\"b\\\\c\\010" "\\195\\164" ""'],
  ['TXT', 'a\\;b c\\"d'],
  ['SPF', '"v=spf1 -all"'],
  ['HINFO', 'INTEL-386 Unix'],
  ['MX', '10 mail.example.com.'],
  ['MX', '0 .'],
  ['NAPTR', '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'],
  ['NAPTR', '100 50 "s" "http+I2L+I2C+I2R" "" _http._tcp.foo.com.'],
  ['CAA', '0 issue "ca.example.net; account=230123"'],
  ['CAA', '128 tbs "Unknown"'],
  ['CAA', '0 iodef "mailto:security@example.com"'],
  ['URI', '10 1 "ftp://ftp1.example.com/public"'],
  ['CERT', 'PGP 0 0 AQID'],
  ['CERT', '65000 1 RSASHA256 AQID'],
  ['CERT', '1 1 250 AQID'],
  ['LOC', '42 21 54 N 71 06 18 W -24m 30m'],
  ['LOC', '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m'],
  ['LOC', '0 N 0 E 0'],
  ['LOC', '90 S 180 W 42849672.95m 90000000m 0.5m 0.01m'],
  ['LOC', '60 9 0.510 N 24 39 0.000 E 10.00m 20m 2000m 20m'],
  ['SVCB', '1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 mandatory=alpn,port'],
  ['HTTPS', '1 . alpn="f\\\\\\\\oo\\\\,bar,h2" key65000="x y" no-default-alpn ech=AQID ipv6hint=::1,2001:db8::1'],
  ['HTTPS', '0 svc.example.net.'],
  ['SVCB', '2 svc port=53 key667="hello\\210qoo"'],
  ['APL', '1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32 1:0.0.0.0/0'],
  ['IPSECKEY', '10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['IPSECKEY', '10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['IPSECKEY', '10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['IPSECKEY', '10 2 2 2001:db8::1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
  ['TLSA', '3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'],
  ['SMIMEA', '3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6'],
  ['SSHFP', '2 1 123456789abcdef67890123456789abcdef67890'],
  ['EUI48', '00-00-5e-00-53-2a'],
  ['EUI64', '00-00-5e-ef-10-00-00-2a'],
  ['NID', '10 0014:4fff:ff20:ee64'],
  ['L64', '10 0014:4fff:ff20:ee64'],
  ['L32', '10 10.1.2.0'],
  ['LP', '10 l64-subnet1.example.com.'],
  ['ZONEMD', '2018031900 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE'],
  ['CSYNC', '66 3 A NS AAAA'],
  ['OPENPGPKEY', 'AQID'],
  ['RP', 'mbox txt'],
  ['AFSDB', '1 afs'],
  ['KX', '10 kx'],
  ['DNAME', 'foo.'],
  ['DS', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
  ['CDS', '60485 RSASHA1 1 2BB183AF 5F22588179A53B0A98631FAD1A292118'],
  ['DNSKEY', '256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3 Cbl+BBZH4b/0PY1kxkmvHjcZc8no kfzj31GajIQKY+5CptLr3buXA10h WqTkF7H6RfoRqXQeogmMHfpftf6z Mv1LyBUgia7za6ZEzOJBOztyvhjL 742iU/TpPSEDhm2SNKLijfUppn1U aNvv4w=='],
  ['CDNSKEY', '0 3 0 AA=='],
  ['RRSIG', 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o='],
  ['RRSIG', 'TYPE65000 13 2 3600 1700000000 1690000000 1 Example.ORG. AQID'],
  ['NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234'],
  ['NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG'],
  ['NSEC3', '1 1 12 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr'],
  ['NSEC3PARAM', '1 0 0 -'],
  ['HIP', '2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs1.example.com. rvs2.example.com.'],
  ['DHCID', 'AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA='],
  ['TYPE65534', '\\# 3 abcdef'],
  ['TYPE65533', '\\# 0'],
  ['A', '\\# 4 0A000001'],
  ['MINFO', 'rm em'],
  ['MB', 'mb'],
  ['MG', 'mg'],
  ['MR', 'mr'],
  ['RT', '10 rt'],
  ['PX', '10 map822 mapx400'],
  ['X25', '"311061700956"'],
  ['ISDN', '"150862028003217" "004"'],
  ['ISDN', '"150862028003217"'],
  ['GPOS', '-32.6882 116.8652 10.0'],
  ['TALINK', 'prev next'],
  ['NINFO', '"x"'],
  ['AVC', '"app-name:WOLFGANG|app-class:OAM"'],
  ['AMTRELAY', '10 0 1 203.0.113.15'],
  ['AMTRELAY', '10 1 3 amtrelays.example.com.'],
  ['AMTRELAY', '128 0 0 .'],
  ['AMTRELAY', '0 0 2 2001:db8::15'],
  ['TA', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
  ['DLV', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
  ['KEY', '256 3 5 AQID'],
  ['SIG', 'A 5 3 86400 20030322173103 20030220173103 2642 example.com. AQID'],
  ['RKEY', '0 3 1 AQID'],
  ['NULL', '\\# 2 0102'],
  ['SRV', '0 5 5060 sipserver.example.com.'],
];

const ownerLabel = (i: number) => `r${i}`;

let dir = '';
let zoneFile = '';

function zoneText(): string {
  const lines = ['$ORIGIN example.org.', '$TTL 300', '@ IN SOA ns1 hostmaster 2024010101 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.53'];
  RECORDS.forEach(([t, text], i) => {
    lines.push(`${ownerLabel(i)} IN ${t} ${text}`);
  });
  return `${lines.join('\n')}\n`;
}

function ours(i: number): { type: number; rdata: Uint8Array } {
  const [t, text] = RECORDS[i];
  const type = typeFromString(t)!;
  return { type, rdata: rdataFromString(type, text, origin) };
}

function ownerIndex(n: Name): number | undefined {
  if (n.labelCount !== 3 || !n.parent().equals(origin)) return undefined;
  const m = /^r([0-9]+)$/.exec(Buffer.from(n.labels[0]).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dms-rdata-bind-'));
  zoneFile = join(dir, 'example.org.zone');
  writeFileSync(zoneFile, zoneText());
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('BIND turns the zone text into the same wire RDATA as we do (named-compilezone -F raw)', () => {
  const raw = join(dir, 'z.raw');
  execFileSync('named-compilezone', ['-k', 'ignore', '-i', 'none', '-f', 'text', '-F', 'raw', '-o', raw, 'example.org', zoneFile], { stdio: 'pipe' });
  // BIND raw format: 24-octet header, then per RRset: total length (including itself), class, type, covers, TTL,
  // count, owner (16-bit length + wire name), then count × (16-bit length + RDATA).
  const b = readFileSync(raw);
  const r = new WireReader(b, 24);
  const seen = new Set<number>();
  while (r.remaining > 0) {
    const start = r.pos;
    const total = r.u32();
    r.u16();
    const type = r.u16();
    r.u16();
    r.u32();
    const count = r.u32();
    const nameLen = r.u16();
    const owner = new WireReader(r.bytes(nameLen)).name();
    for (let k = 0; k < count; k++) {
      const rdata = r.bytes(r.u16());
      const i = ownerIndex(owner);
      if (i === undefined) continue;
      const mine = ours(i);
      assert.equal(type, mine.type, `r${i} type`);
      assert.equal(hex(mine.rdata), hex(rdata), `r${i} ${RECORDS[i][0]} ${RECORDS[i][1]}`);
      seen.add(i);
    }
    assert.equal(r.pos, start + total);
  }
  assert.equal(seen.size, RECORDS.length, 'every record came back from BIND');
});

test('our presentation matches named-checkzone -D (whitespace inside base64/hex aside) and BIND output parses back', () => {
  const out = execFileSync('named-checkzone', ['-k', 'ignore', '-i', 'none', '-D', '-o', '-', 'example.org', zoneFile], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  let checked = 0;
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const i = ownerIndex(Name.from(m[1]));
    if (i === undefined) continue;
    const mine = ours(i);
    const type = typeFromString(m[2])!;
    assert.equal(type, mine.type);
    let text = rdataToText(type, mine.rdata);
    // Known difference: BIND drops leading zeros in NID/L64 groups; we keep RFC 6742's four digits (Knot needs them).
    if (type === 104 || type === 106) text = text.replace(/\b0+([0-9a-f])/g, '$1');
    assert.equal(text.replace(/\s+/g, ''), m[3].replace(/\s+/g, ''), `r${i} ${typeToString(type)}`);
    assert.equal(hex(rdataFromString(type, m[3], origin)), hex(mine.rdata), `BIND's text for r${i} parses to our bytes`);
    checked++;
  }
  assert.equal(checked, RECORDS.length);
});

/** Our printed form of the records whose types `skip` does not list, as a zone. */
function printedZone(skip: ReadonlySet<string>): string {
  const lines = ['$ORIGIN example.org.', '$TTL 300', '@ IN SOA ns1 hostmaster 2024010101 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.53'];
  RECORDS.forEach(([t], i) => {
    if (skip.has(t)) return;
    const { type, rdata } = ours(i);
    lines.push(`${ownerLabel(i)} IN ${typeToString(type)} ${rdataToText(type, rdata)}`);
  });
  return `${lines.join('\n')}\n`;
}

// Types these servers have no presentation format for (they would want RFC 3597 syntax).
const KNOT_UNKNOWN = new Set(['AMTRELAY', 'AVC', 'DLV', 'GPOS', 'HIP', 'ISDN', 'MB', 'MG', 'MR', 'NINFO', 'NULL', 'PX', 'RKEY', 'SIG', 'TA', 'TALINK', 'X25']);
const NSD_UNKNOWN = new Set(['AMTRELAY', 'GPOS', 'HIP', 'NINFO', 'RKEY', 'TA', 'TALINK']);

test('Knot loads our printed RDATA without errors (knotc zone-check)', () => {
  const file = join(dir, 'printed-knot.zone');
  writeFileSync(file, printedZone(KNOT_UNKNOWN));
  const conf = join(dir, 'knot.conf');
  writeFileSync(conf, `server:\n  rundir: ${dir}\ndatabase:\n  storage: ${dir}\nzone:\n  - domain: example.org\n    file: ${file}\n    semantic-checks: off\n`);
  const r = spawnSync('knotc', ['-c', conf, 'zone-check', 'example.org'], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'knotc runs');
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.doesNotMatch(`${r.stdout}${r.stderr}`, /error/);
});

test('NSD loads our printed RDATA without errors (nsd-checkzone)', () => {
  const file = join(dir, 'printed-nsd.zone');
  writeFileSync(file, printedZone(NSD_UNKNOWN));
  const r = spawnSync('nsd-checkzone', ['example.org', file], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'nsd-checkzone runs');
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.doesNotMatch(`${r.stdout}${r.stderr}`, /error/);
});

// --- AXFR from a real named -----------------------------------------------------------------------------------------

let named: ChildProcess | undefined;
let port = 0;

async function startNamed(): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    port = 20000 + Math.floor(Math.random() * 40000);
    const conf = join(dir, 'named.conf');
    writeFileSync(
      conf,
      `options { directory "${dir}"; pid-file none; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; allow-transfer { any; }; dnssec-validation no; check-names primary ignore; check-integrity no;
  session-keyfile none; };
controls { };
zone "example.org" { type primary; file "${zoneFile}"; };
`,
    );
    const p = spawn('named', ['-g', '-n', '1', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15000);
      p.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/ running\n/.test(log)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      p.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    // A random port can be free for UDP but held by some TCP connection: named then runs without a TCP listener
    // (it logs the failed bind and goes on), so treat that like a busy port and try another.
    if (ready && log.includes('zone example.org/IN: loaded') && !/address in use|could not listen/i.test(log)) {
      named = p;
      return;
    }
    p.kill();
    if (!/address in use/i.test(log)) throw new Error(`named did not start:\n${log}`);
  }
  throw new Error('named: no free port');
}

/** AXFR from the named started above; a refused connection is retried (named logs "running" before every TCP
 * listener of a loaded machine accepts). */
async function axfr(): Promise<Uint8Array[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await axfrOnce();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function axfrOnce(): Promise<Uint8Array[]> {
  const q = emptyMessage(0x4242);
  q.question.push({ name: origin, type: 252, class: 1 });
  const wire = encodeMessage(q);
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const msgs: Uint8Array[] = [];
    let buf = Buffer.alloc(0);
    let soaSeen = 0;
    sock.setTimeout(10000, () => reject(new Error('AXFR timed out')));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(wire.length);
      sock.write(Buffer.concat([len, wire]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = Uint8Array.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + m.length);
        msgs.push(m);
        soaSeen += decodeMessage(m).answer.filter((rr) => rr.type === 6).length;
        if (soaSeen >= 2) {
          sock.end();
          resolve(msgs);
        }
      }
    });
    sock.on('error', reject);
  });
}

test('RDATA in an AXFR from named (BIND compression) decodes to the same bytes', async () => {
  await startNamed();
  try {
    const msgs = await axfr();
    const seen = new Set<number>();
    for (const m of msgs) {
      for (const rr of decodeMessage(m).answer) {
        const i = ownerIndex(rr.name);
        if (i === undefined) continue;
        const mine = ours(i);
        assert.equal(rr.type, mine.type);
        // Compression matches names case-insensitively, so compare those types in canonical form.
        if (COMPRESSIBLE_TYPES.has(rr.type)) assert.equal(hex(canonicalRdata(rr.type, rr.rdata)), hex(canonicalRdata(rr.type, mine.rdata)), `r${i}`);
        else assert.equal(hex(rr.rdata), hex(mine.rdata), `r${i} ${RECORDS[i][0]}`);
        seen.add(i);
      }
    }
    assert.equal(seen.size, RECORDS.length, 'every record came back in the AXFR');
  } finally {
    named?.kill();
  }
});

// --- TSIG RDATA as real clients send it --------------------------------------------------------------------------

/** Run a client against a UDP socket of ours and return the first datagram it sends. */
async function captureQuery(cmd: string, args: (port: number) => string[]): Promise<Uint8Array> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const p = sock.address().port;
  const got = new Promise<Uint8Array>((resolve) => sock.once('message', (m) => resolve(Uint8Array.from(m))));
  const child = spawn(cmd, args(p), { stdio: 'ignore' });
  try {
    return await got;
  } finally {
    child.kill();
    sock.close();
  }
}

test('TSIG-signed queries from dig and kdig decode, and their TSIG RDATA prints and re-parses', async () => {
  const secret = Buffer.alloc(32, 7).toString('base64');
  const clients: [string, (p: number) => string[]][] = [
    ['dig', (p) => ['-p', String(p), '@127.0.0.1', '-y', `hmac-sha256:tsig-key.:${secret}`, 'example.org', 'SOA', '+tries=1', '+time=2']],
    ['kdig', (p) => ['-p', String(p), '@127.0.0.1', '-y', `hmac-sha256:tsig-key.:${secret}`, 'example.org', 'SOA', '+retry=0', '+time=2']],
  ];
  for (const [cmd, args] of clients) {
    const wire = await captureQuery(cmd, args);
    const msg = decodeMessage(wire);
    const tsig = msg.additional.find((rr) => rr.type === 250);
    assert.ok(tsig, `${cmd} sent a TSIG`);
    const text = rdataToText(250, tsig.rdata);
    assert.match(text, /^hmac-sha256\. \d+ 300 32 \S+ \d+ 0 0$/, `${cmd}: ${text}`);
    assert.equal(hex(rdataFromString(250, text)), hex(tsig.rdata));
  }
});
