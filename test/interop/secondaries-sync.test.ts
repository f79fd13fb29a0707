// Issue 17: the secondaries stay in sync under a stream of UPDATEs. A real dmsd on SQLite (`--data`) is the primary
// of an inc_updates zone; named and knotd are members of the zone's server group (zone_tool create_server, a transfer
// rule on the group's TSIG key), so dmsd NOTIFYs them after every published version and lets them transfer. Four
// clients send 300 TSIG-signed UPDATEs at once, over UDP and TCP: new names, deletions of earlier names, RRset
// replacements, adds and removals of single records in an RRset all clients share, and updates whose prerequisite
// fails (which must change nothing). At the end dmsd, named and knotd must serve the same final SOA serial, and an
// AXFR from each must give the same records: the ones the test expects from the UPDATEs answered NOERROR. The
// secondaries must have followed by IXFR (their logs and dmsd's), not only by their first AXFR.
// A lost NOTIFY leaves a secondary behind (the SOA refresh is an hour), a lost or wrong IXFR delta leaves its copy
// different from dmsd's: both fail here.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { signMessage, type TsigKey, verifyResponse } from '../../src/dns/tsig.js';
import { type Server, startDmsdOn, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { tcpExchange, udpExchange } from '../helpers/dns-client.js';
import { type Secondary, startKnotSecondary, startNamedSecondary, until } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';
import { rrText, run } from '../helpers/xfr.support.js';

const ZONE = 'sync.example';
const ORIGIN = Name.from(ZONE);
const CLIENTS = 4;
const PER_CLIENT = 75;
const TTL = 300;
// Refresh an hour: within the test only a NOTIFY makes a secondary ask. The filler keeps a small change smaller as an
// IXFR than the whole zone (dmsd answers an IXFR with the zone when it is not).
const ZONE_TEXT = [
  `$TTL ${TTL}`,
  '@ SOA ns1 hostmaster 1 3600 900 604800 300',
  '@ NS ns1',
  'ns1 A 192.0.2.1',
  ...Array.from({ length: 30 }, (_, i) => `f${i} TXT "filler ${i}"`),
  '',
].join('\n');

const keyId = (k: TsigKey) => k.name.toString().replace(/\.$/, '');
const keySpec = (k: TsigKey) => `${k.algorithm}:${keyId(k)}:${Buffer.from(k.secret).toString('base64')}`;

// ---- the expected zone: owner → type → rdata, in dig's presentation (the three AXFRs are all printed by dig) ----------

type Model = Map<string, Map<string, Set<string>>>;
const fqdn = (owner: string) => `${owner}.${ZONE}.`;

function modelAdd(m: Model, owner: string, type: string, rdata: string): void {
  const byType = m.get(fqdn(owner)) ?? new Map<string, Set<string>>();
  m.set(fqdn(owner), byType);
  const set = byType.get(type) ?? new Set<string>();
  byType.set(type, set);
  set.add(rdata);
}

function modelLines(m: Model): string[] {
  const out: string[] = [];
  for (const [owner, byType] of m) for (const [type, set] of byType) for (const rd of set) out.push(`${owner} ${TTL} IN ${type} ${rd}`);
  return out.sort();
}

/** One UPDATE: its prerequisites and updates (zone-file text relative to the zone), the rcode it must get, its effect. */
interface Step {
  prereq: string[];
  update: string[];
  want: number;
  apply: (m: Model) => void;
}

/**
 * Client c's i-th UPDATE. Each client owns its names c<c>-<i> (so its own order decides their fate) and its records
 * in the shared RRset `pool TXT` (single-record adds and deletes commute, so the clients' interleaving does not).
 */
function planner(c: number) {
  const live: string[] = [];
  const dead: string[] = [];
  const pool: string[] = [];
  return (i: number): Step => {
    const kind = i % 6;
    const name = `c${c}-${i}`;
    if (kind === 2 && live.length > 0) {
      // Replace the A RRset of one of its names with two other addresses.
      const n = live[(i * 7) % live.length];
      const a = [`10.${c}.${i}.2`, `10.${c}.${i}.3`];
      return {
        prereq: [],
        update: [`${n} 0 ANY A`, ...a.map((x) => `${n} ${TTL} A ${x}`)],
        want: Rcode.NOERROR,
        apply: (m) => {
          m.get(fqdn(n))?.delete('A');
          for (const x of a) modelAdd(m, n, 'A', x);
        },
      };
    }
    if (kind === 3 && live.length > 0) {
      // Delete one of its earlier names entirely.
      const n = live.splice((i * 5) % live.length, 1)[0];
      dead.push(n);
      return { prereq: [], update: [`${n} 0 ANY ANY`], want: Rcode.NOERROR, apply: (m) => void m.delete(fqdn(n)) };
    }
    if (kind === 4) {
      // One record more in the shared RRset, and (once it has three there) its oldest one out.
      const txt = `c${c}-p${i}`;
      pool.push(txt);
      const gone = pool.length > 3 ? pool.shift() : undefined;
      return {
        prereq: [],
        update: [`pool ${TTL} TXT ${txt}`, ...(gone ? [`pool 0 NONE TXT ${gone}`] : [])],
        want: Rcode.NOERROR,
        apply: (m) => {
          modelAdd(m, 'pool', 'TXT', `"${txt}"`);
          if (gone) m.get(fqdn('pool'))?.get('TXT')?.delete(`"${gone}"`);
        },
      };
    }
    if (kind === 5 && (dead.length > 0 || live.length > 0)) {
      // A prerequisite that fails (RFC 2136 §3.2): "name in use" on a deleted name, or "name not in use" on a live
      // one. The update after it must not happen.
      const prereq = dead.length > 0 ? `${dead[dead.length - 1]} 0 ANY ANY` : `${live[0]} 0 NONE ANY`;
      return {
        prereq: [prereq],
        update: [`${name} ${TTL} A 10.${c}.${i}.9`],
        want: dead.length > 0 ? Rcode.NXDOMAIN : Rcode.YXDOMAIN,
        apply: () => {},
      };
    }
    // A new name with an A and a TXT record.
    live.push(name);
    return {
      prereq: [],
      update: [`${name} ${TTL} A 10.${c}.${i}.1`, `${name} ${TTL} TXT ${name}`],
      want: Rcode.NOERROR,
      apply: (m) => {
        modelAdd(m, name, 'A', `10.${c}.${i}.1`);
        modelAdd(m, name, 'TXT', `"${name}"`);
      },
    };
  };
}

async function sendUpdate(dmsd: Server, key: TsigKey, step: Step, overTcp: boolean, what: string): Promise<number> {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: ORIGIN, type: RRType.SOA, class: RRClass.IN }];
  m.answer = step.prereq.map((t) => rrText(t, ORIGIN));
  m.authority = step.update.map((t) => rrText(t, ORIGIN));
  const req = signMessage(encodeMessage(m), key, Date.now() / 1000);
  // Generous: the machine is shared, and a lost answer would leave the test not knowing what the zone holds.
  const bytes = overTcp ? await tcpExchange(dmsd.tcpPort, req.bytes, 15_000) : await udpExchange(dmsd.port, req.bytes, 15_000);
  const resp = decodeMessage(bytes);
  assert.equal(resp.id, m.id, `${what}: answer id`);
  assert.ok(resp.tsigOffset !== undefined, `${what}: the answer is signed`);
  assert.equal(verifyResponse(bytes, resp.tsigOffset, key, req.mac, Date.now() / 1000), 0, `${what}: the answer's TSIG verifies`);
  return resp.rcode;
}

/** The zone by AXFR (dig, TSIG-signed): its SOA line and its other records, normalised and sorted. */
async function axfr(port: number, key: TsigKey, who: string): Promise<{ soa: string; records: string[] }> {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '-y', keySpec(key), '+tries=1', '+time=5', '+nocmd', '+nostats', '+nocomments', ZONE, 'AXFR']);
  assert.equal(r.code, 0, `dig AXFR from ${who}:\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /Transfer failed|communications error|couldn't verify|tsig (verify )?failure|expected TSIG/i, `dig AXFR from ${who}`);
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(';'))
    .map((l) => {
      const [owner, ...rest] = l.trim().split(/\s+/);
      return [owner.toLowerCase(), ...rest].join(' ');
    })
    .filter((l) => l.split(' ')[3] !== 'TSIG');
  const soas = lines.filter((l) => l.split(' ')[3] === 'SOA');
  // RFC 5936: the SOA opens and closes the transfer, the same record both times.
  assert.equal(soas.length, 2, `AXFR from ${who}: two SOA records:\n${r.stdout}`);
  assert.equal(soas[0], soas[1], `AXFR from ${who}: opening and closing SOA`);
  return { soa: soas[0], records: lines.filter((l) => l.split(' ')[3] !== 'SOA').sort() };
}

const serialOf = (soaLine: string) => Number(soaLine.split(' ')[6]);

async function soaSerial(port: number): Promise<number | undefined> {
  const r = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+norec', '+short', ZONE, 'SOA']);
  const f = r.stdout.trim().split(/\s+/);
  return f.length === 7 ? Number(f[2]) : undefined;
}

/** What set differs, briefly (the whole sets are hundreds of lines). */
function difference(got: string[], want: string[]): string {
  const g = new Set(got);
  const w = new Set(want);
  const missing = want.filter((x) => !g.has(x));
  const extra = got.filter((x) => !w.has(x));
  return `missing ${missing.length}: ${missing.slice(0, 10).join(' | ')}\nextra ${extra.length}: ${extra.slice(0, 10).join(' | ')}`;
}

describe('named and knotd stay in sync with dmsd under a stream of UPDATEs (issue 17)', () => {
  test('4 clients, 300 UPDATEs over UDP and TCP; AXFR of dmsd, named and knotd equal and as expected', { timeout: 240_000 }, async (t) => {
    const data = mkdtempSync(join(tmpdir(), 'dms-secondaries-sync-'));
    const where = { dataDir: data };
    let dmsd: Server | undefined;
    const secondaries: Secondary[] = [];
    try {
      const file = join(data, 'zone.txt');
      writeFileSync(file, ZONE_TEXT);
      zoneTool(where, ['load_zone', '-i', file, ZONE]);
      const updKey = zoneToolKey(where, 'upd.key');
      const xfrKey = zoneToolKey(where, 'xfr.key');
      zoneTool(where, ['add_update_grant', ZONE, 'grant upd.key zonesub ANY']);
      const namedPort = await freePort();
      const knotPort = await freePort();
      // Members of the zone's server group: dmsd NOTIFYs them (signed with the group's transfer key) and the rule on
      // that key lets them transfer.
      zoneTool(where, ['create_server', '-g', 'default', 'named1', `127.0.0.1#${namedPort}`, 'bind9']);
      zoneTool(where, ['create_server', '-g', 'default', 'knot1', `127.0.0.1#${knotPort}`, 'knot']);
      zoneTool(where, ['add_transfer_rule', '-g', 'default', 'key=xfr.key']);

      dmsd = await startDmsdOn(where);
      const primary = dmsd;
      await until('dmsd serving the zone', async () => (await soaSerial(primary.port)) !== undefined, primary.output);
      const initial = await axfr(primary.tcpPort, xfrKey, 'dmsd (initial)');
      const o = { zone: ZONE, primaryPort: primary.tcpPort, key: xfrKey, serveTransfers: true };
      secondaries.push(startNamedSecondary({ ...o, port: namedPort, debugLevel: 3 }), startKnotSecondary({ ...o, port: knotPort }));
      const [named, knot] = secondaries;
      for (const s of secondaries)
        await until(`${s.label}'s first transfer`, async () => (await soaSerial(s.port)) === serialOf(initial.soa), s.output, 30_000);

      // The expected zone: what dmsd served before, plus the effect of every UPDATE answered NOERROR.
      const model: Model = new Map();
      for (const l of initial.records) {
        const [owner, , , type, ...rd] = l.split(' ');
        const byType = model.get(owner) ?? new Map<string, Set<string>>();
        model.set(owner, byType);
        byType.set(type, (byType.get(type) ?? new Set<string>()).add(rd.join(' ')));
      }
      assert.ok(initial.records.every((l) => l.split(' ')[1] === String(TTL)), 'the initial records all have the TTL the model writes');

      const started = Date.now();
      const counts = { noerror: 0, failedPrereq: 0, udp: 0, tcp: 0 };
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          const plan = planner(c);
          for (let i = 1; i <= PER_CLIENT; i++) {
            const step = plan(i);
            const overTcp = (c + i) % 3 === 0;
            counts[overTcp ? 'tcp' : 'udp']++;
            const what = `client ${c} update ${i} (${[...step.prereq.map((p) => `prereq ${p}`), ...step.update].join('; ')})`;
            const rcode = await sendUpdate(primary, updKey, step, overTcp, what);
            assert.equal(rcode, step.want, `${what}: rcode`);
            if (rcode === Rcode.NOERROR) {
              step.apply(model);
              counts.noerror++;
            } else counts.failedPrereq++;
          }
        }),
      );
      const updateSeconds = (Date.now() - started) / 1000;

      // dmsd serves what its NOERROR answers promised (published soon after the commit).
      const dmsdServing = async (want: string[]) => {
        let last = initial;
        await until(
          'dmsd serving the expected zone',
          async () => {
            last = await axfr(primary.tcpPort, xfrKey, 'dmsd');
            return last.records.join('\n') === want.join('\n');
          },
          () => `${difference(last.records, want)}\n${primary.output()}`,
          10_000,
          200,
        );
        return last;
      };
      const secondariesAt = (serial: number) =>
        Promise.all(
          secondaries.map((s) =>
            until(`${s.label} serving serial ${serial}`, async () => (await soaSerial(s.port)) === serial, () => `${s.output()}\n--- dmsd:\n${primary.output()}`, 20_000, 100),
          ),
        );
      const afterStream = await dmsdServing(modelLines(model));
      // Two single changes once the secondaries hold the stream's end: each is smaller than the zone, so dmsd must
      // answer the secondaries' IXFRs incrementally (during the stream a secondary that batches many versions may
      // rightly get the whole zone: RFC 1995 §4, a difference larger than the zone).
      const streamServed = Date.now();
      await secondariesAt(serialOf(afterStream.soa));
      const lagSeconds = (Date.now() - streamServed) / 1000;
      let tailSerial = serialOf(afterStream.soa);
      for (const k of [1, 2]) {
        const step: Step = {
          prereq: [],
          update: [`tail-${k} ${TTL} A 10.255.0.${k}`],
          want: Rcode.NOERROR,
          apply: (m) => modelAdd(m, `tail-${k}`, 'A', `10.255.0.${k}`),
        };
        assert.equal(await sendUpdate(primary, updKey, step, false, `tail update ${k}`), Rcode.NOERROR, `tail update ${k}`);
        step.apply(model);
        const served = await dmsdServing(modelLines(model));
        assert.ok(serialOf(served.soa) > tailSerial, `tail update ${k} raised the serial`);
        tailSerial = serialOf(served.soa);
        if (k === 1) await secondariesAt(tailSerial);
      }
      const want = modelLines(model);
      const final = await dmsdServing(want);
      const finalSerial = serialOf(final.soa);
      assert.ok(finalSerial > serialOf(initial.soa), 'the serial went up');

      // Both secondaries reach the final serial by NOTIFY alone (bounded), and hold the same zone.
      await secondariesAt(finalSerial);
      for (const s of secondaries) {
        const got = await axfr(s.port, xfrKey, s.label);
        assert.equal(got.soa, final.soa, `${s.label}: SOA`);
        assert.deepEqual(got.records, final.records, `${s.label} differs from dmsd:\n${difference(got.records, final.records)}`);
      }

      // The later versions came by IXFR. dmsd's transfer log: IXFRs answered incrementally to the transfer key.
      const xfrLog = primary
        .output()
        .split('\n')
        .flatMap((l) => {
          try {
            const j = JSON.parse(l) as { msg?: string; kind?: string; zone?: string; key?: string; clientSerial?: number; serial?: number };
            return j.msg === 'transfer' && j.zone === `${ZONE}.` ? [j] : [];
          } catch {
            return [];
          }
        });
      const ixfrs = xfrLog.filter((j) => j.kind === 'ixfr' && j.key === 'xfr.key.');
      assert.ok(ixfrs.length >= 4, `dmsd answered ${ixfrs.length} IXFRs incrementally:\n${JSON.stringify(xfrLog)}`);
      assert.ok(ixfrs.some((j) => j.serial === finalSerial), `an IXFR brought the final serial ${finalSerial}:\n${JSON.stringify(xfrLog)}`);
      // knotd: its incoming IXFRs finished, none fell back to AXFR.
      // Beyond its first AXFR, knotd takes the zone whole only when dmsd answered its IXFR with the zone (a batch of
      // versions larger than the zone: RFC 1995 §4), which dmsd's transfer log says.
      const asZone = xfrLog.filter((j) => j.kind === 'ixfr-as-axfr').length;
      const knotAxfrs = (knot.output().match(/AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/g) ?? []).length;
      assert.ok(knotAxfrs >= 1 && knotAxfrs <= 1 + asZone, `knotd took ${knotAxfrs} AXFRs; dmsd answered ${asZone} IXFRs with the zone`);
      const knotIxfrs = (knot.output().match(/IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/g) ?? []).length;
      assert.ok(knotIxfrs >= 2, `knotd took ${knotIxfrs} IXFRs:\n${knot.output().slice(-4000)}`);
      if (asZone === 0) assert.doesNotMatch(knot.output(), /fallback to AXFR/i);
      assert.doesNotMatch(knot.output(), /IXFR.*failed|ACL, denied/i);
      // named (at debug level 3) says of each answer whether it was incremental; the two tail changes were.
      const namedAnswers = [...named.output().matchAll(/transfer of '[^']*' from 127\.0\.0\.1#\d+: got (incremental|nonincremental) response/g)].map((x) => x[1]);
      const namedIxfrs = namedAnswers.filter((x) => x === 'incremental').length;
      assert.equal(namedAnswers[0], 'nonincremental', `named's first transfer was the zone (${namedAnswers.join(', ')})`);
      assert.deepEqual(namedAnswers.slice(-2), ['incremental', 'incremental'], `named took the tail changes by IXFR (${namedAnswers.join(', ')}):\n${named.output().slice(-4000)}`);
      assert.doesNotMatch(named.output(), /IXFR.*(failed|refused)|bad SOA|Transfer status: (?!success)/i);

      t.diagnostic(
        `${counts.noerror} NOERROR + ${counts.failedPrereq} failed prerequisites (${counts.udp} UDP, ${counts.tcp} TCP) in ${updateSeconds.toFixed(1)} s; ` +
          `serial ${serialOf(initial.soa)} → ${finalSerial}, ${want.length} records; dmsd answered ${ixfrs.length} IXFRs ` +
          `(knotd took ${knotIxfrs}, named ${namedIxfrs} of its ${namedAnswers.length} transfers); secondaries caught up with the stream ${lagSeconds.toFixed(1)} s after dmsd served its end`,
      );
    } finally {
      for (const s of secondaries) await s.stop();
      await dmsd?.stop('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    }
  });
});
