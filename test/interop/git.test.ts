// Issue 12: git as one more way in and out of DMS, against real git (Debian's), a real dmsd on SQLite, knotd as a
// secondary and BIND's nsupdate. The remote is a local bare repository (and, in the second test, the same over
// `git daemon`'s git:// protocol). One operator works in a clone of it as the ocaml-dns primary-git tutorial does:
// edit, commit, push, then a TSIG-signed NOTIFY to dmsd.
//  - a change by zone_tool becomes a commit with the change_by as author, DMS as committer;
//  - a `_keys` file (ocaml-dns format) becomes a TSIG key with an update grant; a NOTIFY signed with it makes dmsd
//    pull: the edit is served by dmsd and reaches knotd by IXFR;
//  - a push with invalid files imports nothing, and every error names file and line; the served zone is unchanged;
//  - a file for a zone that is not git-managed (another reference) and a force-push are refused;
//  - nsupdate with the `_keys` key → a commit on the remote, author = the key;
//  - a push and an UPDATE at the same time (different zones) end with both in git and in DMS.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { keyFromText, signMessage, type TsigKey, verifyResponse } from '../../src/dns/tsig.js';
import { type Server, startDmsdOn, storeArgs, ZONE_TOOL, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { query, udpExchange } from '../helpers/dns-client.js';
import { type Secondary, startKnotSecondary, until } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';
import { run } from '../helpers/xfr.support.js';

const ZONE = 'gitzone.example';
const OTHER = 'second.example';
const SECRET = 'kJJqipaQHQWqZL31Raar6uPnepGFIdtpjkXot9rv2xg=';
const UPDATE_KEY = `personal._update.${ZONE}.`;

function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...env },
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** zone_tool with a chosen change_by; returns status and output (not throwing). */
function zoneToolAs(data: string, who: string, args: string[]): { status: number; out: string } {
  const r = spawnSync(process.execPath, [ZONE_TOOL, ...storeArgs(data), ...args], { encoding: 'utf8', env: { ...process.env, DMS_CHANGE_BY: who }, timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const remoteLog = (bare: string, branch = 'main') => git(bare, ['log', '--format=%H%x09%an%x09%ae%x09%cn%x09%s', branch]).trim().split('\n').map((l) => l.split('\t'));

async function served(port: number, name: string, type: string): Promise<string> {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+norec', '+short', name, type]);
  return r.stdout.trim();
}

/**
 * Poll `name` A at `port` every 5 ms (in-process UDP) until it answers `address`; ms from `since` (performance.now())
 * to that answer.
 */
async function firstAnswer(port: number, name: string, address: string, since: number, limitMs = 20_000): Promise<number> {
  const want = Buffer.from(address.split('.').map(Number));
  for (;;) {
    const a = await query(port, { name: Name.from(name), type: RRType.A }, 1000).catch(() => undefined);
    if (a?.msg?.answer.some((rr) => rr.type === RRType.A && Buffer.from(rr.rdata).equals(want))) return performance.now() - since;
    if (performance.now() - since > limitMs) throw new Error(`${name} A ${address} not answered at port ${port} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function soaSerial(port: number, zone: string): Promise<number | undefined> {
  const f = (await served(port, zone, 'SOA')).split(/\s+/);
  return f.length === 7 ? Number(f[2]) : undefined;
}

/** A NOTIFY for `zone` signed with `key`, as ocaml-dns's onotify sends it; the answer's rcode (the answer verified). */
async function signedNotify(port: number, zone: string, key: TsigKey): Promise<number> {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.opcode = Opcode.NOTIFY;
  m.aa = true;
  m.question = [{ name: Name.from(zone), type: RRType.SOA, class: RRClass.IN }];
  const req = signMessage(encodeMessage(m), key, Date.now() / 1000);
  const bytes = await udpExchange(port, req.bytes, 5000);
  const resp = decodeMessage(bytes);
  assert.equal(resp.opcode, Opcode.NOTIFY);
  if (resp.tsigOffset !== undefined) assert.equal(verifyResponse(bytes, resp.tsigOffset, key, req.mac, Date.now() / 1000), 0, 'the NOTIFY answer verifies');
  return resp.rcode;
}

function nsupdate(port: number, keySpec: string, commands: string[]) {
  return run('nsupdate', ['-y', keySpec], [`server 127.0.0.1 ${port}`, ...commands, 'send', ''].join('\n'), 20_000);
}

function zoneText(zone: string, extra: string[] = []): string {
  return ['$TTL 300', '@ SOA ns1 hostmaster 1 3600 900 604800 300', '@ NS ns1', 'ns1 A 192.0.2.1', ...Array.from({ length: 20 }, (_, i) => `f${i} TXT "filler ${i}"`), ...extra, ''].join('\n').replace(/^/, `$ORIGIN ${zone}.\n`);
}

describe('git mirror and git as the source of truth (issue 12)', () => {
  test('zone_tool change → commit; push + signed NOTIFY → served and IXFR to knotd; bad pushes refused; nsupdate → commit; push ∥ UPDATE', { timeout: 240_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'dms-git-'));
    const data = join(root, 'data');
    const bare = join(root, 'remote.git');
    const work = join(root, 'clone');
    let dmsd: Server | undefined;
    let knot: Secondary | undefined;
    try {
      git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
      const zfile = join(root, 'zone.txt');
      writeFileSync(zfile, zoneText(ZONE));
      zoneTool(data, ['load_zone', '-i', zfile, ZONE]);
      writeFileSync(zfile, zoneText(OTHER));
      zoneTool(data, ['load_zone', '-i', zfile, OTHER]);
      // A zone of another reference: mirrored, but not git-managed (git_managed = ref:team).
      writeFileSync(zfile, zoneText('foreign.example'));
      zoneTool(data, ['load_zone', '-r', 'other-customer', zfile, 'foreign.example']);
      zoneTool(data, ['create_reference', 'team']);
      for (const z of [ZONE, OTHER]) zoneTool(data, ['set_zone_reference', z, 'team']);
      zoneTool(data, ['set_config', 'git_mirror', bare]);
      zoneTool(data, ['set_config', 'git_workdir', join(root, 'gitwork')]);
      zoneTool(data, ['set_config', 'git_managed', 'ref:team']);
      const xfrKey = zoneToolKey(data, 'xfr.key');
      const knotPort = await freePort();
      zoneTool(data, ['create_server', '-g', 'default', 'knot1', `127.0.0.1#${knotPort}`, 'knot']);
      zoneTool(data, ['add_transfer_rule', '-g', 'default', 'key=xfr.key']);

      dmsd = await startDmsdOn(data);
      const primary = dmsd;
      // dmsd pushes every mirrored zone the repository has not seen, in one commit, on its own.
      await until('the first commit on the remote', () => spawnSync('git', ['-C', bare, 'rev-parse', '--verify', '-q', 'main']).status === 0, primary.output, 20_000);
      const first = remoteLog(bare);
      assert.equal(first.length, 1, 'one commit for the zones the repository has never seen');
      assert.deepEqual(git(bare, ['ls-tree', '--name-only', 'main']).trim().split('\n').sort(), ['foreign.example', OTHER, ZONE].sort());
      assert.match(git(bare, ['show', `main:${ZONE}`]), /;!REF:team/, 'the canonical zone text with DMS flags');

      // ---- a change by zone_tool → one commit, author = change_by, committer = DMS ----------------------------------
      writeFileSync(zfile, zoneText(ZONE, ['www A 192.0.2.80']));
      const z1 = zoneToolAs(data, 'Erin Example <erin@example.org>', ['load_zone_zi', zfile, ZONE]);
      assert.equal(z1.status, 0, z1.out);
      await until('the zone_tool change committed', () => remoteLog(bare).length === 2, primary.output, 20_000);
      const [hash, an, ae, cn, subject] = remoteLog(bare)[0];
      assert.deepEqual([an, ae, cn], ['Erin Example', 'erin@example.org', 'DMS'], 'author = change_by, committer = DMS');
      assert.match(subject, new RegExp(`^${ZONE}\\. serial \\d+$`));
      assert.match(git(bare, ['log', '-1', '--format=%b', hash]), /^ZI \d+ \(version \d+\)/);
      assert.match(git(bare, ['show', `main:${ZONE}`]), /www\s+\d*\s*IN\s+A\s+192\.0\.2\.80/);

      // ---- knotd follows the zone (first transfer: AXFR) -------------------------------------------------------------
      knot = startKnotSecondary({ zone: ZONE, primaryPort: primary.tcpPort, key: xfrKey, port: knotPort });
      const sec = knot;
      const startSerial = await soaSerial(primary.port, ZONE);
      await until("knotd's first transfer", async () => (await soaSerial(knotPort, ZONE)) === startSerial, sec.output, 30_000);

      // ---- the operator's clone: a _keys file (ocaml-dns format) → TSIG key and update grant -------------------------
      git(root, ['clone', '-q', '-b', 'main', bare, work]);
      const as = { GIT_AUTHOR_NAME: 'Dana Ops', GIT_AUTHOR_EMAIL: 'dana@example.net', GIT_COMMITTER_NAME: 'Dana Ops', GIT_COMMITTER_EMAIL: 'dana@example.net' };
      writeFileSync(join(work, `${ZONE}._keys`), `${UPDATE_KEY} DNSKEY 0 3 163 ${SECRET}\n`);
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', 'add hmac secret'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      const pulled = zoneToolAs(data, 'ops', ['git_pull']);
      assert.equal(pulled.status, 0, pulled.out);
      assert.match(zoneTool(data, ['ls_tsig_key']), new RegExp(UPDATE_KEY.replace(/\./g, '\\.')));
      assert.match(zoneTool(data, ['ls_update_grants', ZONE]), new RegExp(`grant ${UPDATE_KEY.replace(/\./g, '\\.')} subdomain ${ZONE}\\. ANY`));
      const key = keyFromText(`hmac-sha256:${UPDATE_KEY}:${SECRET}`);

      // ---- edit + commit + push + signed NOTIFY → served by dmsd, and by knotd through IXFR, within a second -----------
      git(work, ['pull', '-q', 'origin', 'main']);
      const file = join(work, ZONE);
      // Unsigned: refused (a pull costs; ocaml-dns accepts only authenticated ones). A key that may not update: refused.
      {
        const m = emptyMessage(4242);
        m.opcode = Opcode.NOTIFY;
        m.question = [{ name: Name.from(ZONE), type: RRType.SOA, class: RRClass.IN }];
        assert.equal(decodeMessage(await udpExchange(primary.port, encodeMessage(m), 5000)).rcode, Rcode.REFUSED, 'an unsigned NOTIFY is refused');
        assert.equal(await signedNotify(primary.port, ZONE, xfrKey), Rcode.REFUSED, 'a NOTIFY signed with a key without update rights is refused');
      }
      // Three edits, each timed from the signed NOTIFY to the first answer with the new record, at dmsd and at knotd
      // (polled over UDP in-process every 5 ms: a dig process per poll would add its own start-up to the figure).
      const knotIxfrs = () => (sec.output().match(/IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/g) ?? []).length;
      const ixfrServed = (serial: number) => new RegExp(`"kind":"ixfr"[^\n]*"serial":${serial}[^\n]*"msg":"transfer"`).test(primary.output());
      const rounds: { primary: number; secondary: number; serial: number; steps: string }[] = [];
      for (let i = 1; i <= 3; i++) {
        const owner = `fromgit${i}.${ZONE}`;
        const address = `198.51.100.${i}`;
        const ixfrsBefore = knotIxfrs();
        writeFileSync(file, `${readFileSync(file, 'utf8')}fromgit${i} 300 IN A ${address}\n`);
        git(work, ['commit', '-q', '-a', '-m', `add fromgit${i}`], as);
        git(work, ['push', '-q', 'origin', 'main']);
        const sent = performance.now();
        assert.equal(await signedNotify(primary.port, ZONE, key), Rcode.NOERROR, 'the signed NOTIFY is accepted');
        const [atPrimary, atSecondary] = await Promise.all([firstAnswer(primary.port, owner, address, sent), firstAnswer(knotPort, owner, address, sent)]);
        const serial = (await soaSerial(primary.port, ZONE)) as number;
        assert.equal(await soaSerial(knotPort, ZONE), serial, 'knotd has the serial dmsd serves');
        // By IXFR: knotd's log counts one more incoming IXFR, and dmsd's transfer log shows an incremental answer for
        // this serial (not the whole zone, RFC 1995 §4).
        await until('knotd logging the IXFR', () => knotIxfrs() > ixfrsBefore && ixfrServed(serial), () => `${sec.output()}\n${primary.output()}`, 10_000, 20);
        const imported = primary.output().split('\n').filter((l) => l.includes('"git: imported"')).pop() ?? '';
        rounds.push({ primary: atPrimary, secondary: atSecondary, serial, steps: JSON.stringify((JSON.parse(imported || '{}') as { steps?: unknown }).steps ?? {}) });
      }
      assert.doesNotMatch(sec.output(), /fallback to AXFR/);
      // And dig, the real client, sees the records dmsd serves.
      assert.equal(await served(primary.port, `fromgit3.${ZONE}`, 'A'), '198.51.100.3');
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const mPrimary = median(rounds.map((r) => r.primary));
      const mSecondary = median(rounds.map((r) => r.secondary));
      for (const [n, r] of rounds.entries())
        t.diagnostic(`edit ${n + 1}: signed NOTIFY → dmsd serving ${r.primary.toFixed(0)} ms, knotd serving (IXFR) ${r.secondary.toFixed(0)} ms; import steps (ms) ${r.steps}`);
      t.diagnostic(`median of 3: dmsd ${mPrimary.toFixed(0)} ms, knotd ${mSecondary.toFixed(0)} ms (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
      // The figure: within a second. The median of three, so that one edit caught by a burst of load on a
      // shared machine does not decide; each edit must still be there within 5 s.
      assert.ok(mPrimary <= 1000, `signed NOTIFY → dmsd serving: median ${mPrimary.toFixed(0)} ms > 1 s`);
      assert.ok(mSecondary <= 1000, `signed NOTIFY → knotd serving by IXFR: median ${mSecondary.toFixed(0)} ms > 1 s`);
      for (const r of rounds) assert.ok(r.secondary < 5000, `one edit took ${r.secondary.toFixed(0)} ms to reach knotd`);
      const status = JSON.parse(zoneTool(data, ['--json', 'git_status', ZONE])) as { zones: { zone: string; lastImportedCommit: string | null; pendingPushes: number; lastError: string | null }[] };
      assert.equal(status.zones[0].lastImportedCommit, git(work, ['rev-parse', 'HEAD']).trim(), 'git_status: last imported commit');
      assert.equal(status.zones[0].pendingPushes, 0);
      const zi = zoneTool(data, ['show_zone', ZONE]);
      assert.match(zi, /change_by:\s+Dana Ops <dana@example\.net>/, 'the imported version is by the commit author');
      // What was imported is not pushed back as a DMS commit.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(remoteLog(bare)[0][0], git(work, ['rev-parse', 'HEAD']).trim(), 'no commit on top of the imported one');

      // ---- an invalid push: nothing imported, every error with file and line; the served zone unchanged --------------
      const serialBefore = await soaSerial(primary.port, ZONE);
      writeFileSync(file, `${readFileSync(file, 'utf8')}bad1 300 IN A 192.0.2.300\nbad2 300 IN MX 10\n`);
      writeFileSync(join(work, OTHER), `${readFileSync(join(work, OTHER), 'utf8')}ok 300 IN A 192.0.2.44\n`);
      writeFileSync(join(work, 'not..a.zone'), 'x\n');
      writeFileSync(join(work, 'foreign.example'), `${readFileSync(join(work, 'foreign.example'), 'utf8')}hijack 300 IN A 192.0.2.66\n`);
      writeFileSync(join(work, `${OTHER}._keys`), `k._update.${OTHER}. DNSKEY 256 3 8 AwEAAQ==\nwrong.name. DNSKEY 0 3 163 ${SECRET}\n`);
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', 'several mistakes'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      const bad = zoneToolAs(data, 'ops', ['git_pull']);
      assert.notEqual(bad.status, 0, 'git_pull fails');
      const lineOf = (text: string, what: string) => text.split('\n').findIndex((l) => l.includes(what)) + 1;
      const zoneNow = readFileSync(file, 'utf8');
      assert.match(bad.out, new RegExp(`${ZONE}:${lineOf(zoneNow, 'bad1')}:\\d+: .*192\\.0\\.2\\.300`), bad.out);
      assert.match(bad.out, new RegExp(`${ZONE}:${lineOf(zoneNow, 'bad2')}:\\d+: .*MX`), bad.out);
      assert.match(bad.out, /not\.\.a\.zone: file name is not a zone name/, bad.out);
      assert.match(bad.out, /foreign\.example: zone foreign\.example\. exists but is not git-managed .*reference other-customer/, bad.out);
      assert.match(bad.out, new RegExp(`${OTHER}\\._keys:1(:\\d+)?: key k\\._update`), bad.out);
      assert.match(bad.out, new RegExp(`${OTHER}\\._keys(:2)?: key wrong\\.name\\. is not named`), bad.out);
      assert.equal(await soaSerial(primary.port, ZONE), serialBefore, 'the served zone is unchanged');
      assert.equal(await served(primary.port, `ok.${OTHER}`, 'A'), '', 'the valid file of the push is not imported either');
      assert.equal(await served(primary.port, `hijack.foreign.example`, 'A'), '');
      assert.match(JSON.parse(zoneTool(data, ['--json', 'git_status'])).lastError, /not imported: \d+ error\(s\)/);

      // A fix on top imports the whole push.
      writeFileSync(file, zoneNow.replace(/^bad1.*\n/m, '').replace(/^bad2.*\n/m, ''));
      rmSync(join(work, 'not..a.zone'));
      git(work, ['checkout', '-q', 'HEAD~1', '--', 'foreign.example']);
      writeFileSync(join(work, `${OTHER}._keys`), `k._update.${OTHER}. DNSKEY 0 3 163 ${SECRET}\n`);
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', 'fixed'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      assert.equal(await signedNotify(primary.port, ZONE, key), Rcode.NOERROR);
      await until('the fixed push imported', async () => (await served(primary.port, `ok.${OTHER}`, 'A')) === '192.0.2.44', primary.output, 20_000);

      // ---- nsupdate with the _keys key → a commit on the remote by the key ------------------------------------------------
      const before = remoteLog(bare).length;
      const up = await nsupdate(primary.port, `hmac-sha256:${UPDATE_KEY}:${SECRET}`, [`update add dyn.${ZONE}. 300 A 203.0.113.5`]);
      assert.equal(up.code, 0, `nsupdate: ${up.stdout}${up.stderr}`);
      await until('the UPDATE committed to the remote', () => remoteLog(bare).length > before, primary.output, 20_000);
      const [, upAuthor] = remoteLog(bare)[0];
      assert.match(upAuthor, /^personal\._update\.gitzone\.example\.?/, 'the author is the TSIG key');
      assert.match(git(bare, ['show', `main:${ZONE}`]), /dyn\s+\d*\s*IN\s+A\s+203\.0\.113\.5/);

      // ---- a push and an UPDATE at the same time: both end in git and in DMS ------------------------------------------------
      git(work, ['pull', '-q', 'origin', 'main']);
      writeFileSync(join(work, OTHER), `${readFileSync(join(work, OTHER), 'utf8')}concurrent 300 IN A 192.0.2.99\n`);
      git(work, ['commit', '-q', '-a', '-m', 'concurrent edit'], as);
      const [pushed, updated] = await Promise.all([
        run('git', ['-C', work, 'push', '-q', 'origin', 'main']),
        nsupdate(primary.port, `hmac-sha256:${UPDATE_KEY}:${SECRET}`, [`update add race.${ZONE}. 300 A 203.0.113.6`]),
      ]);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.equal(updated.code, 0, updated.stderr);
      // The git push lands first or DMS's does; DMS's push imports the other's change before pushing on top.
      await until('both changes in git', () => {
        const z = spawnSync('git', ['-C', bare, 'show', `main:${ZONE}`], { encoding: 'utf8' }).stdout;
        const o = spawnSync('git', ['-C', bare, 'show', `main:${OTHER}`], { encoding: 'utf8' }).stdout;
        return /race\s+\d*\s*IN\s+A\s+203\.0\.113\.6/.test(z) && /concurrent\s+\d*\s*IN\s+A\s+192\.0\.2\.99/.test(o);
      }, primary.output, 30_000);
      await until('both changes served', async () => (await served(primary.port, `concurrent.${OTHER}`, 'A')) === '192.0.2.99' && (await served(primary.port, `race.${ZONE}`, 'A')) === '203.0.113.6', primary.output, 30_000);

      // ---- a force-push rewriting history: refused, nothing changes -----------------------------------------------------
      git(work, ['fetch', '-q', 'origin']);
      git(work, ['reset', '-q', '--hard', 'origin/main~3']);
      writeFileSync(file, `${readFileSync(file, 'utf8')}rewritten 300 IN A 192.0.2.123\n`);
      git(work, ['commit', '-q', '-a', '-m', 'rewrite history'], as);
      git(work, ['push', '-q', '-f', 'origin', 'main']);
      const serialForce = await soaSerial(primary.port, ZONE);
      const forced = zoneToolAs(data, 'ops', ['git_pull']);
      assert.notEqual(forced.status, 0);
      assert.match(forced.out, /was rewritten: [0-9a-f]{12} does not descend\s+from [0-9a-f]{12}/, forced.out);
      assert.equal(await soaSerial(primary.port, ZONE), serialForce, 'served zone unchanged after the force-push');
      assert.equal(await served(primary.port, `rewritten.${ZONE}`, 'A'), '');
      // dmsd's pushes wait too: a change in DMS is not pushed over the rewritten branch.
      const head = git(bare, ['rev-parse', 'main']).trim();
      zoneToolAs(data, 'ops', ['git_push']);
      assert.equal(git(bare, ['rev-parse', 'main']).trim(), head, 'nothing pushed over a rewritten branch');
      // The operator takes the rewritten branch as it is.
      const taken = zoneToolAs(data, 'ops', ['git_pull', '-f']);
      assert.equal(taken.status, 0, taken.out);
      await until('the rewritten branch served', async () => (await served(primary.port, `rewritten.${ZONE}`, 'A')) === '192.0.2.123', primary.output, 20_000);
    } finally {
      await knot?.stop();
      await dmsd?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('the same zone changed in git and in DMS before a push: different RRsets merged, the same RRset kept as DMS has it with a failed event showing both sides', { timeout: 120_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'dms-git-conflict-'));
    const data = join(root, 'data');
    const bare = join(root, 'remote.git');
    const work = join(root, 'clone');
    try {
      git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
      const zfile = join(root, 'zone.txt');
      writeFileSync(zfile, zoneText(ZONE, ['www A 192.0.2.80']));
      zoneTool(data, ['load_zone', zfile, ZONE]);
      writeFileSync(zfile, zoneText(OTHER));
      zoneTool(data, ['load_zone', zfile, OTHER]);
      zoneTool(data, ['set_config', 'git_mirror', bare]);
      zoneTool(data, ['set_config', 'git_workdir', join(root, 'gitwork')]);
      zoneTool(data, ['set_config', 'git_managed', 'all']);
      assert.equal(zoneToolAs(data, 'ops', ['git_export']).status, 0);
      git(root, ['clone', '-q', '-b', 'main', bare, work]);
      const as = { GIT_AUTHOR_NAME: 'Gil', GIT_AUTHOR_EMAIL: 'gil@example.net', GIT_COMMITTER_NAME: 'Gil', GIT_COMMITTER_EMAIL: 'gil@example.net' };

      // 1. Different RRsets of one zone: git adds "theirs", DMS (not pushed yet) adds "ours" → both, in DMS and git.
      writeFileSync(join(work, ZONE), `${readFileSync(join(work, ZONE), 'utf8')}theirs 300 IN A 192.0.2.201\n`);
      writeFileSync(join(work, OTHER), `${readFileSync(join(work, OTHER), 'utf8')}clean 300 IN A 192.0.2.202\n`);
      git(work, ['commit', '-q', '-a', '-m', 'edit both'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      writeFileSync(zfile, zoneText(ZONE, ['www A 192.0.2.80', 'ours A 192.0.2.200']));
      assert.equal(zoneToolAs(data, 'Olga <olga@example.org>', ['load_zone_zi', zfile, ZONE]).status, 0);
      const pushed = zoneToolAs(data, 'ops', ['--json', 'git_push']);
      assert.equal(pushed.status, 0, pushed.out);
      const report = JSON.parse(pushed.out) as { commits: number; imported?: { conflicts: string[]; zones: { zone: string; action: string }[] } };
      assert.deepEqual(report.imported?.conflicts, []);
      assert.ok(report.imported?.zones.some((z) => z.zone === `${ZONE}.` && z.action === 'merged'), JSON.stringify(report));
      assert.ok(report.imported?.zones.some((z) => z.zone === `${OTHER}.` && z.action === 'updated'), JSON.stringify(report));
      const merged = zoneTool(data, ['show_zone', ZONE]);
      assert.match(merged, /ours\s+\d*\s*IN\s+A\s+192\.0\.2\.200/);
      assert.match(merged, /theirs\s+\d*\s*IN\s+A\s+192\.0\.2\.201/);
      const inGit = git(bare, ['show', `main:${ZONE}`]);
      assert.match(inGit, /ours\s+\d*\s*IN\s+A\s+192\.0\.2\.200/, 'git has both');
      assert.match(inGit, /theirs\s+\d*\s*IN\s+A\s+192\.0\.2\.201/, 'git has both');
      assert.match(git(bare, ['show', `main:${OTHER}`]), /clean/);
      assert.match(git(bare, ['log', '--format=%an', 'main']), /Olga[\s\S]*Gil/, "DMS's commit on top of the operator's");

      // 2. The same RRset changed on both sides: DMS keeps its version, pushes it on top; a failed event shows both.
      git(work, ['pull', '-q', 'origin', 'main']);
      writeFileSync(join(work, ZONE), readFileSync(join(work, ZONE), 'utf8').replace(/192\.0\.2\.80/, '192.0.2.81'));
      git(work, ['commit', '-q', '-a', '-m', 'www to .81'], as);
      git(work, ['push', '-q', 'origin', 'main']);
      writeFileSync(zfile, zoneText(ZONE, ['www A 192.0.2.82', 'ours A 192.0.2.200', 'theirs A 192.0.2.201']));
      assert.equal(zoneToolAs(data, 'Olga <olga@example.org>', ['load_zone_zi', zfile, ZONE]).status, 0);
      const again = zoneToolAs(data, 'ops', ['--json', 'git_push']);
      assert.equal(again.status, 0, again.out);
      assert.deepEqual((JSON.parse(again.out) as { imported?: { conflicts: string[] } }).imported?.conflicts, [ZONE]);
      const mine = zoneTool(data, ['show_zone', ZONE]);
      assert.match(mine, /www\s+\d*\s*IN\s+A\s+192\.0\.2\.82/, "DMS's version kept");
      assert.match(git(bare, ['show', `main:${ZONE}`]), /192\.0\.2\.82/, "DMS's version pushed on top");
      assert.match(git(bare, ['log', '--format=%s', 'main']), /www to \.81/, "the operator's commit stays in the history");
      const text = JSON.stringify(JSON.parse(zoneTool(data, ['--json', 'ls_failed_events', '-v'])));
      assert.match(text, /git_conflict/);
      assert.match(text, /192\.0\.2\.81/, 'their side');
      assert.match(text, /192\.0\.2\.82/, 'our side');
      const st = JSON.parse(zoneTool(data, ['--json', 'git_status', ZONE])) as { zones: { lastError: string | null }[] };
      assert.match(st.zones[0].lastError ?? '', /conflict: .* DMS's version is kept/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('an unreachable remote delays pushes and changes nothing; git:// (git daemon) remote works', { timeout: 120_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'dms-git-daemon-'));
    const data = join(root, 'data');
    let dmsd: Server | undefined;
    let daemon: ReturnType<typeof spawn> | undefined;
    try {
      const repos = join(root, 'repos');
      git(root, ['init', '-q', '--bare', '-b', 'main', join(repos, 'dns.git')]);
      const port = await freePort();
      const zfile = join(root, 'zone.txt');
      writeFileSync(zfile, zoneText(ZONE));
      zoneTool(data, ['load_zone', zfile, ZONE]);
      // Nobody listens there yet: the push is delayed, the zone is served as it is.
      zoneTool(data, ['set_config', 'git_mirror', `git://127.0.0.1:${port}/dns.git`]);
      zoneTool(data, ['set_config', 'git_workdir', join(root, 'gitwork')]);
      dmsd = await startDmsdOn(data);
      const primary = dmsd;
      await until('dmsd serving', async () => (await soaSerial(primary.port, ZONE)) !== undefined, primary.output);
      await until('the push failure recorded', () => /git remote git:\/\/127\.0\.0\.1/.test(JSON.parse(zoneTool(data, ['--json', 'git_status'])).lastError ?? ''), primary.output, 20_000);
      const st = JSON.parse(zoneTool(data, ['--json', 'git_status'])) as { zones: { pendingPushes: number }[] };
      assert.equal(st.zones[0].pendingPushes, 1, 'the version stays pending');
      // git daemon comes up: git_push (or the event's retry) delivers.
      daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', '--enable=receive-pack', `--base-path=${repos}`, '--listen=127.0.0.1', `--port=${port}`, repos], { stdio: 'ignore' });
      await until('git daemon listening', () => spawnSync('git', ['ls-remote', `git://127.0.0.1:${port}/dns.git`]).status === 0, () => '', 10_000);
      const pushed = zoneToolAs(data, 'ops', ['git_push']);
      assert.equal(pushed.status, 0, pushed.out);
      assert.deepEqual(git(join(repos, 'dns.git'), ['ls-tree', '--name-only', 'main']).trim(), ZONE);
      const after = JSON.parse(zoneTool(data, ['--json', 'git_status'])) as { lastError: string | null; zones: { pendingPushes: number }[] };
      assert.equal(after.lastError, null);
      assert.equal(after.zones[0].pendingPushes, 0);
    } finally {
      daemon?.kill();
      await dmsd?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
