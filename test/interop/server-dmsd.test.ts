// The real dmsd process, queried with dig, kdig and raw sockets: UDP and TCP on IPv4 and IPv6, TCP pipelining,
// EDNS, truncation, error RCODEs, malformed packets, a zone with errors left out, SIGTERM.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Rcode, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';

const run = promisify(execFile);
const DMSD = join(import.meta.dirname, '..', '..', 'src', 'daemon', 'main.ts');

let big = '';
for (let i = 0; i < 40; i++) big += `big TXT "${'y'.repeat(40)} ${i}"\n`;

const ZONE = `$TTL 3600
@        SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300
@        NS    ns1
@        MX    10 mail
ns1      A     192.0.2.53
mail     A     192.0.2.25
www      A     192.0.2.10
www      AAAA  2001:db8::10
ftp      CNAME www
*.apps   A     192.0.2.80
sub      NS    ns.sub
ns.sub   A     192.0.2.99
${big}`;

interface Bound {
  proto: string;
  address: string;
  port: number;
}

interface Dmsd {
  proc: ChildProcess;
  bound: Bound[];
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

function startDmsd(args: string[]): Promise<Dmsd> {
  const proc = spawn(process.execPath, ['--import', 'tsx', DMSD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const bound: Bound[] = [];
  const wanted = args.filter((a) => a === '--listen').length * 2;
  const exit = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return new Promise((resolve, reject) => {
    // 60 s: on a loaded 2-core machine two cluster workers compiling src/ through tsx took over 20 s to listen. A
    // daemon that did not start is stopped, not left behind (its workers would be restarted forever).
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      reject(new Error(`dmsd did not start: ${JSON.stringify(lines)}`));
    }, 60000);
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
        const j = JSON.parse(line) as Record<string, unknown>;
        lines.push(j);
        if (j.msg === 'listening') {
          bound.push({ proto: j.proto as string, address: j.address as string, port: j.port as number });
          if (bound.length === wanted) {
            clearTimeout(timer);
            resolve({ proc, bound, lines, exit });
          }
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    proc.on('exit', (code) => reject(new Error(`dmsd exited (${code}): ${JSON.stringify(lines)}`)));
  });
}

let dir: string;
let d: Dmsd;
let port4: number;
let port6: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmsd-test-'));
  writeFileSync(join(dir, 'example.test.zone'), ZONE);
  // A zone with an error: reported and not served; the others still are.
  writeFileSync(join(dir, 'broken.test.zone'), '$TTL 60\n@ SOA ns host 1 2 3 4 5\nwww A 999.1.2.3\n');
  // $ORIGIN omitted: the file name gives it.
  writeFileSync(join(dir, 'plain.test'), '$TTL 60\n@ SOA ns host 5 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n');
  d = await startDmsd(['--no-database', '--zones', dir, '--listen', '127.0.0.1:0', '--listen', '[::1]:0', '--log-level', 'info']);
  port4 = d.bound.find((b) => b.address === '127.0.0.1')!.port;
  port6 = d.bound.find((b) => b.address === '::1')!.port;
});

after(async () => {
  if (d && d.proc.exitCode === null) d.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port4), '+tries=1', '+time=3', '+norec', ...args]);
  return stdout;
}

test('the chosen ports are logged as JSON, UDP and TCP on the same port, both address families', () => {
  assert.deepEqual(d.bound.map((b) => `${b.proto} ${b.address}`).sort(), ['tcp 127.0.0.1', 'tcp ::1', 'udp 127.0.0.1', 'udp ::1']);
  for (const b of d.bound) assert.ok(b.port > 0);
  assert.equal(d.bound.filter((b) => b.port === port4).length, 2);
  const loaded = d.lines.filter((l) => l.msg === 'zone loaded').map((l) => l.zone);
  assert.deepEqual(loaded.sort(), ['example.test.', 'plain.test.']);
  const problem = d.lines.find((l) => l.zone === 'broken.test.' && l.level === 50 && l.line === 3);
  assert.ok(problem, 'the error is logged with file and line');
  assert.ok(d.lines.some((l) => l.msg === 'zone not served: it has errors' && l.zone === 'broken.test.'));
});

test('dig over UDP and TCP, IPv4 and IPv6', async () => {
  const udp = await dig('www.example.test', 'A');
  assert.match(udp, /status: NOERROR/);
  assert.match(udp, /flags: qr aa;/);
  assert.match(udp, /www\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10/);
  const tcp = await dig('+tcp', 'www.example.test', 'AAAA');
  assert.match(tcp, /2001:db8::10/);
  assert.match(tcp, /\(TCP\)/);
  for (const proto of ['+notcp', '+tcp']) {
    const { stdout } = await run('dig', ['@::1', '-p', String(port6), '+tries=1', '+time=3', proto, 'mail.example.test', 'A']);
    assert.match(stdout, /192\.0\.2\.25/);
  }
  const plain = await dig('plain.test', 'SOA', '+short');
  assert.match(plain, /^ns\.plain\.test\. host\.plain\.test\. 5 /);
});

test('case of the query name is preserved; CNAME, wildcard, referral, NXDOMAIN', async () => {
  const mixed = await dig('WwW.ExAmPlE.TeSt', 'A', '+noall', '+answer', '+question');
  assert.match(mixed, /;WwW\.ExAmPlE\.TeSt\.\s+IN\s+A/);
  assert.match(mixed, /^WwW\.ExAmPlE\.TeSt\.\s+3600\s+IN\s+A/m);
  const cname = await dig('ftp.example.test', 'A', '+noall', '+answer');
  assert.match(cname, /ftp\.example\.test\.\s+3600\s+IN\s+CNAME\s+www\.example\.test\.\n/);
  assert.match(cname, /www\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10/);
  assert.match(await dig('x.y.apps.example.test', 'A', '+short'), /^192\.0\.2\.80$/m);
  const referral = await dig('host.sub.example.test', 'A');
  assert.match(referral, /flags: qr;/, 'AA clear on a referral');
  assert.match(referral, /AUTHORITY SECTION:\nsub\.example\.test\.\s+3600\s+IN\s+NS\s+ns\.sub\.example\.test\./);
  assert.match(referral, /ADDITIONAL SECTION:[\s\S]*ns\.sub\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.99/);
  const nx = await dig('nothing.example.test', 'A');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /example\.test\.\s+300\s+IN\s+SOA/);
  const mx = await dig('example.test', 'MX', '+noall', '+additional');
  assert.match(mx, /mail\.example\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.25/);
});

test('EDNS: OPT echoed, no OPT without EDNS, BADVERS, TC for small buffers, full over TCP', async () => {
  assert.match(await dig('www.example.test'), /EDNS: version: 0, flags:; udp: 1232/);
  assert.match(await dig('+dnssec', 'www.example.test'), /EDNS: version: 0, flags: do; udp: 1232/);
  assert.doesNotMatch(await dig('+noedns', 'www.example.test'), /OPT PSEUDOSECTION/);
  assert.match(await dig('+edns=1', '+noednsneg', 'www.example.test'), /status: BADVERS/);
  const tc = await dig('+ignore', '+noedns', 'big.example.test', 'TXT');
  assert.match(tc, /flags: qr aa tc;/);
  assert.match(tc, /ANSWER: 0/);
  const tc2 = await dig('+ignore', '+bufsize=600', 'big.example.test', 'TXT');
  assert.match(tc2, /flags: qr aa tc;/);
  const full = await dig('+bufsize=600', 'big.example.test', 'TXT');
  assert.match(full, /ANSWER: 40/, 'dig retries over TCP after TC');
  const kd = await run('kdig', ['@127.0.0.1', '-p', String(port4), '+ignore', '+norec', '+bufsize=4096', 'big.example.test', 'TXT']);
  assert.match(kd.stdout, /Flags: qr aa tc;/, 'a 4096 request is capped by our 1232 payload');
  assert.match(kd.stdout, /UDP size: 1232 B/);
  // edns-tcp-keepalive (RFC 7828): over TCP the idle timeout dmsd closes connections after (default 10 s), as named
  // answers; not over UDP (§3.3.1), not when not asked.
  assert.match(await dig('+tcp', '+keepalive', 'www.example.test'), /TCP KEEPALIVE: 10\.0 secs/);
  assert.doesNotMatch(await dig('+notcp', '+keepalive', 'www.example.test'), /KEEPALIVE/);
  assert.doesNotMatch(await dig('+tcp', 'www.example.test'), /KEEPALIVE/);
});

test('REFUSED outside the zones and for AXFR; NOTIMP for NOTIFY/UPDATE/STATUS opcodes', async () => {
  assert.match(await dig('www.example.com', 'A'), /status: REFUSED/);
  assert.match(await dig('www.broken.test', 'A'), /status: REFUSED/, 'a zone with errors is not served');
  assert.match(await dig('example.test', 'AXFR'), /Transfer failed|REFUSED/);
  for (const op of ['2', '4', '5']) assert.match(await dig(`+opcode=${op}`, 'example.test', 'SOA'), /status: NOTIMP/);
  const kd = await run('kdig', ['@127.0.0.1', '-p', String(port4), 'www.nowhere.example', 'A']);
  assert.match(kd.stdout, /status: REFUSED/);
});

function rawQuery(id: number, name: string, type: number): Uint8Array {
  const m = emptyMessage(id);
  m.question.push({ name: Name.from(name), type, class: 1 });
  return encodeMessage(m);
}

function udpExchange(bytes: Uint8Array, timeoutMs = 1500): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(bytes, port4, '127.0.0.1');
  });
}

test('malformed packets: FORMERR or silence, and the server keeps answering', async () => {
  const good = rawQuery(1, 'www.example.test', RRType.A);
  const noQuestion = good.slice(0, 12);
  const r1 = await udpExchange(noQuestion);
  assert.ok(r1);
  assert.equal(decodeMessage(r1).rcode, Rcode.FORMERR);
  const badLabel = Uint8Array.from([...good.slice(0, 12), 0x45, 1, 2, 3]);
  const r2 = await udpExchange(badLabel);
  assert.ok(r2);
  assert.equal(decodeMessage(r2).rcode, Rcode.FORMERR);
  assert.equal(await udpExchange(Uint8Array.of(1, 2, 3), 300), null, 'shorter than a header: dropped');
  // A burst of random garbage, then a real query.
  const s = dgram.createSocket('udp4');
  for (let i = 0; i < 300; i++) {
    const junk = new Uint8Array(1 + ((i * 37) % 200));
    for (let j = 0; j < junk.length; j++) junk[j] = (i * 131 + j * 29) & 0xff;
    s.send(junk, port4, '127.0.0.1');
  }
  await new Promise((r) => setTimeout(r, 200));
  s.close();
  const after = await udpExchange(rawQuery(77, 'www.example.test', RRType.A));
  assert.ok(after);
  assert.equal(decodeMessage(after).id, 77);
  assert.equal(decodeMessage(after).answer.length, 1);
});

function frame(b: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

test('TCP: pipelined queries answered in order on one connection, split frames reassembled', async () => {
  const sock = net.connect(port4, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const names = ['www.example.test', 'mail.example.test', 'nothing.example.test', 'ftp.example.test', 'big.example.test'];
  const types = [RRType.A, RRType.A, RRType.A, RRType.A, RRType.TXT];
  const all = Buffer.concat(names.map((n, i) => frame(rawQuery(100 + i, n, types[i]))));
  // First three frames in one write, the rest byte by byte across writes.
  const cutAt = frame(rawQuery(0, names[0], 1)).length + 5;
  sock.write(all.subarray(0, cutAt));
  const responses: Uint8Array[] = [];
  let buf = Buffer.alloc(0);
  const done = new Promise<void>((resolve) => {
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        responses.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (responses.length === names.length) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 50));
  for (let i = cutAt; i < all.length; i += 7) {
    sock.write(all.subarray(i, Math.min(i + 7, all.length)));
    await new Promise((r) => setImmediate(r));
  }
  await done;
  sock.destroy();
  const decoded = responses.map((r) => decodeMessage(r));
  assert.deepEqual(decoded.map((m) => m.id), [100, 101, 102, 103, 104]);
  assert.equal(decoded[2].rcode, Rcode.NXDOMAIN);
  assert.equal(decoded[3].answer.length, 2);
  assert.equal(decoded[4].answer.length, 40, 'no truncation over TCP');
  assert.equal(decoded[4].tc, false);
});

test('kdig: several queries over one TCP connection (+keepopen)', async () => {
  const { stdout } = await run('kdig', [
    '@127.0.0.1', '-p', String(port4), '+tcp', '+keepopen', 'www.example.test', 'A', 'mail.example.test', 'A', 'ftp.example.test', 'CNAME',
  ]);
  assert.match(stdout, /192\.0\.2\.10/);
  assert.match(stdout, /192\.0\.2\.25/);
  assert.match(stdout, /CNAME\s+www\.example\.test\./);
});

test('dmsd --help lists every flag; bad flags are refused', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', DMSD, '--help']);
  for (const f of ['--zones', '--listen', '--data', '--workers', '--log-level', '--database-url', '--config', '--http', '--help'])
    assert.ok(stdout.includes(f), f);
  await assert.rejects(run(process.execPath, ['--import', 'tsx', DMSD, '--listen', 'nonsense']));
  await assert.rejects(run(process.execPath, ['--import', 'tsx', DMSD, '--workers', 'zero']));
});

async function waitForLine(pred: (l: Record<string, unknown>) => boolean, from: number, ms = 5000): Promise<Record<string, unknown>> {
  for (let i = 0; i < ms / 50; i++) {
    const line = d.lines.slice(from).find(pred);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('expected log line not seen');
}

test('SIGHUP reloads the zone directory: changed zones replaced, removed files unserved, broken files keep the old version', async () => {
  let from = d.lines.length;
  writeFileSync(join(dir, 'plain.test'), '$TTL 60\n@ SOA ns host 6 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.77\n');
  d.proc.kill('SIGHUP');
  await waitForLine((l) => l.msg === 'zone loaded' && l.zone === 'plain.test.' && l.serial === 6, from);
  assert.match(await dig('www.plain.test', 'A', '+short'), /^192\.0\.2\.77$/m);
  // A syntax error in the new version: the old one stays.
  from = d.lines.length;
  writeFileSync(join(dir, 'plain.test'), '$TTL 60\n@ SOA ns host 7 2 3 4 5\nwww A not-an-address\n');
  d.proc.kill('SIGHUP');
  await waitForLine((l) => l.zone === 'plain.test.' && /previous version stays served/.test(String(l.msg)), from);
  assert.match(await dig('www.plain.test', 'A', '+short'), /^192\.0\.2\.77$/m);
  // A zone the check refuses (BIND, Knot and NSD refuse it too): a CNAME beside other data. The old one stays; the
  // error names its line and column.
  from = d.lines.length;
  writeFileSync(join(dir, 'plain.test'), '$TTL 60\n@ SOA ns host 8 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww CNAME ns\nwww A 192.0.2.78\n');
  d.proc.kill('SIGHUP');
  const cname = await waitForLine((l) => l.zone === 'plain.test.' && l.level === 50 && /CNAME/.test(String(l.msg)), from);
  assert.deepEqual([cname.file, cname.line, cname.column], [join(dir, 'plain.test'), 6, 1]);
  await waitForLine((l) => l.zone === 'plain.test.' && /previous version stays served/.test(String(l.msg)), from);
  assert.match(await dig('www.plain.test', 'A', '+short'), /^192\.0\.2\.77$/m);
  from = d.lines.length;
  rmSync(join(dir, 'plain.test'));
  d.proc.kill('SIGHUP');
  await waitForLine((l) => l.msg === 'zone removed: its file is gone' && l.zone === 'plain.test.', from);
  assert.match(await dig('www.plain.test', 'A'), /status: REFUSED/);
  assert.match(await dig('www.example.test', 'A', '+short'), /^192\.0\.2\.10$/m);
});

test('a zone file of 4 MiB or more is parsed by a thread while dmsd compiles it; SIGHUP reloads it the same way', async () => {
  const big = (serial: number, last: string) =>
    `$TTL 60\n@ SOA ns host ${serial} 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n${Array.from({ length: 190_000 }, (_, i) => `Host${i} A 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`).join('\n')}\n${last}\n`;
  const path = join(dir, 'big.test');
  writeFileSync(path, big(1, 'www A 192.0.2.80\nd DNAME target.example.\nx.d A 192.0.2.81'));
  assert.ok(statSync(path).size >= 4 << 20);
  const from = d.lines.length;
  d.proc.kill('SIGHUP');
  const loaded = await waitForLine((l) => l.msg === 'zone loaded' && l.zone === 'big.test.', from, 30_000);
  assert.equal(loaded.parsedInThread, true);
  // Served first, then checked by a thread: the check's warning (a name below a DNAME) comes with its line.
  const checked = await waitForLine((l) => l.msg === 'zone checked' && l.zone === 'big.test.', from, 30_000);
  assert.equal(checked.warnings, 1);
  const warning = d.lines.slice(from).find((l) => l.zone === 'big.test.' && l.level === 40 && l.checkedAfterServing === true);
  assert.ok(warning && /DNAME/.test(String(warning.msg)) && warning.line === 190_006, `the DNAME warning: ${JSON.stringify(warning)}`);
  assert.match(await dig('host189999.big.test', 'A', '+short'), /^10\.2\.230\.47$/m);
  assert.match(await dig('HOST7.big.test', 'A'), /HOST7\.big\.test\.\s+60\s+IN\s+A\s+10\.0\.0\.7/);
  assert.match(await dig('www.big.test', 'A', '+short'), /^192\.0\.2\.80$/m);
  // A second version with an error at its end: the whole file was read before it is refused; the first one stays.
  const again = d.lines.length;
  writeFileSync(path, big(2, 'www A 192.0.2.999'));
  d.proc.kill('SIGHUP');
  const refused = await waitForLine((l) => l.zone === 'big.test.' && l.level === 50 && typeof l.line === 'number', again, 30_000);
  assert.equal(refused.line, 190_005);
  await waitForLine((l) => l.zone === 'big.test.' && /previous version stays served/.test(String(l.msg)), again);
  assert.match(await dig('big.test', 'SOA', '+short'), / 1 2 3 4 5$/m);
  // A version the check refuses (a CNAME beside other data) is served — a large file is checked once served — and the
  // error is logged with its line, then the summary saying the zone stays served.
  const third = d.lines.length;
  writeFileSync(path, big(3, 'www CNAME ns\nwww TXT "beside"'));
  d.proc.kill('SIGHUP');
  const summary = await waitForLine((l) => l.zone === 'big.test.' && l.level === 50 && /^zone check: errors/.test(String(l.msg)), third, 30_000);
  assert.equal(summary.errors, 1);
  const error = d.lines.slice(third).find((l) => l.zone === 'big.test.' && l.level === 50 && l.checkedAfterServing === true);
  assert.ok(error && /CNAME/.test(String(error.msg)) && error.line === 190_006, `the CNAME error: ${JSON.stringify(error)}`);
  assert.match(await dig('big.test', 'SOA', '+short'), / 3 2 3 4 5$/m);
  rmSync(path);
});

test('SIGTERM: clean exit with status 0 (run last)', async () => {
  d.proc.kill('SIGTERM');
  const code = await d.exit;
  assert.equal(code, 0);
  assert.ok(d.lines.some((l) => l.msg === 'stopped'));
});

test('--workers 2: cluster workers share the ports, answer UDP and TCP, stop on SIGTERM', async () => {
  const c = await startDmsd(['--no-database', '--zones', dir, '--listen', '127.0.0.1:0', '--workers', '2']);
  try {
    const port = c.bound[0].port;
    assert.ok(c.bound.every((b) => b.port === port));
    const loaded = () => c.lines.filter((l) => l.msg === 'zone loaded' && l.zone === 'example.test.');
    // Each process gathers its log lines and writes them in batches (src/daemon/main.ts makeLogger): a worker's "zone
    // loaded" may reach stdout after the "listening" it came before. Their times tell the order.
    for (let i = 0; i < 100 && loaded().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(loaded().length, 2, 'each worker loaded the zones');
    const listening = Math.max(...c.lines.filter((l) => l.msg === 'listening').map((l) => Date.parse(String(l.time))));
    assert.ok(loaded().every((l) => Date.parse(String(l.time)) <= listening), 'each worker loaded the zones before "listening"');
    for (const proto of ['+notcp', '+tcp']) {
      const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', '+short', proto, 'www.example.test']);
      assert.equal(stdout.trim(), '192.0.2.10');
    }
    c.proc.kill('SIGTERM');
    assert.equal(await c.exit, 0);
  } finally {
    if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }
});
