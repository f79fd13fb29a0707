// RFC 2136 UPDATE, dmsd beside named as primaries of the same random zone (test/helpers/random-zone.ts): a stream of
// random UPDATE messages — every kind of prerequisite (RFC 2136 §2.4: RRset exists value-independent and
// value-dependent, RRset does not exist, name in use, name not in use) and of update (§2.5: add, delete an RRset,
// delete all RRsets of a name, delete one RR), at existing, new, wildcard, delegated, DNAME-occluded, apex and
// out-of-zone names, with CNAME/other-data conflicts, SOA, NS and DNAME changes — each signed once and sent to both.
// After every message the rcodes must match and so must the zones (AXFR, SOA serial aside): what named (the
// reference) accepts, ignores or refuses, dmsd must too, unless a difference below names why it is allowed.
//
// dmsd runs as operators run it (zone_tool load_zone -i, a TSIG key and an update grant made by zone_tool), on SQLite
// and on a real PostgreSQL, each beside its own named fed the same stream. A named secondary follows dmsd through
// the stream (also-notify → IXFR) and must end with dmsd's zone, signatures and all.
// DMS_UPDATE_SEED=N picks another stream; DMS_UPDATE_COUNT=N its length.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Opcode, RRClass, RRType, Rcode, typeToString } from '../../src/dns/constants.js';
import { soaSerialOf } from '../../src/dns/serial.js';
import { decodeMessage, emptyMessage, encodeMessage, type RR } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { keyFromText, signMessage, type TsigKey } from '../../src/dns/tsig.js';
import { dig, postgresArgs, type Server, sqliteArgs, startDmsdDb, waitFor, servedSerial, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { prng } from '../helpers/differential.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { udpExchange } from '../helpers/dns-client.js';
import { randomZone } from '../helpers/random-zone.js';
import { parseZoneText } from '../../src/zonefile/index.js';
import { rrText } from '../helpers/xfr.support.js';
import { type Secondary, startNamedSecondary, until } from '../helpers/secondaries.js';
import { type RunningServer, freePort, haveProgram, namedOptions, spawnLogged } from '../helpers/servers.js';

const SEED = Number(process.env.DMS_UPDATE_SEED ?? 20261206);
const COUNT = Number(process.env.DMS_UPDATE_COUNT ?? 250);
const ZONE = 'upd.test';
const origin = Name.from(ZONE);

const zone = randomZone(`${ZONE}.`, SEED, undefined, { addressedTargets: true });

// One suite at a time (node:test runs them in order): these belong to the running one.
let dir = '';
let dmsd: Server;
let named: RunningServer;
/** A named secondary of dmsd (NOTIFY → IXFR), whose copy must end as dmsd's zone. */
let follower: Secondary;
let key: TsigKey;
let keySpec = '';

function startNamedPrimary(port: number): RunningServer {
  const ndir = join(dir, 'named');
  mkdirSync(ndir);
  writeFileSync(join(ndir, 'zone.db'), zone.text);
  const [alg, name, secret] = keySpec.split(':');
  writeFileSync(
    join(ndir, 'named.conf'),
    [
      // BIND's host-name syntax policy (RFC 952/1123 names for MX/SRV/NS targets and address owners) is not RFC 2136's:
      // left out, as knotd and dmsd do not apply it.
      ...namedOptions(ndir, port, ['check-names primary ignore;']),
      `key "${name}" { algorithm ${alg}; secret "${secret}"; };`,
      // Serials as DMS makes them (YYYYMMDDnn): an UPDATE's own SOA is then judged against the same serial.
      `zone "${ZONE}" { type primary; file "${join(ndir, 'zone.db')}"; allow-update { key "${name}"; }; allow-transfer { any; }; serial-update-method date; };`,
      '',
    ].join('\n'),
  );
  const { proc, pid, output, stop } = spawnLogged('named', ['-g', '-c', join(ndir, 'named.conf'), '-n', '1'], { dir: ndir });
  return { label: 'named', port, tcpPort: port, pid, proc, output, stop };
}

/** A signed zone's own records (the signer's): left out when a signed dmsd is compared with an unsigned named. */
const DNSSEC_TYPES = /\s(RRSIG|NSEC|NSEC3|NSEC3PARAM|DNSKEY|CDS|CDNSKEY|TYPE65534)\s/;
let signedMode = false;

/** The zone as AXFR gives it, one record per line, owner lower-cased, sorted; the SOA serial left out. */
/** The SOA serial each server's last AXFR (below) gave. */
const servedSerials = new Map<number, number>();

function axfr(port: number): string {
  const r = spawnSync('dig', ['-p', String(port), '@127.0.0.1', ZONE, 'AXFR', '-y', keySpec, '+nocmd', '+nostats', '+noall', '+answer'], { encoding: 'utf8', timeout: 20000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.trim() && !/\sTSIG\s/.test(l) && !(signedMode && DNSSEC_TYPES.test(l)))
    .map((l) => {
      const f = l.split(/\s+/);
      f[0] = f[0].toLowerCase();
      if (f[3] === 'SOA') {
        servedSerials.set(port, Number(f[6]));
        f[6] = '<serial>';
      }
      return f.join(' ');
    });
  return [...new Set(lines)].sort().join('\n');
}

// ---- The random UPDATE stream ---------------------------------------------------------------------------------

const rnd = prng(SEED ^ 0x5eed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const owners = [...new Set(zone.text.split('\n').filter((l) => /^\S+\.\s/.test(l)).map((l) => l.split(/\s+/)[0]))];
const cuts = [...new Set(zone.text.split('\n').filter((l) => / IN NS /.test(l) && !l.startsWith(`${ZONE}. `)).map((l) => l.split(/\s+/)[0]))];
const dnames = [...new Set(zone.text.split('\n').filter((l) => / IN DNAME /.test(l)).map((l) => l.split(/\s+/)[0]))];
let fresh = 0;
function someName(): string {
  const r = rnd();
  if (r < 0.4) return pick(owners);
  if (r < 0.6) return `n${fresh++ % 12}.${ZONE}.`;
  if (r < 0.68) return `${ZONE}.`;
  if (r < 0.75 && cuts.length > 0) return `h.${pick(cuts)}`;
  if (r < 0.8 && dnames.length > 0) return `h.${pick(dnames)}`;
  if (r < 0.85) return `*.n${fresh % 12}.${ZONE}.`;
  if (r < 0.88) return 'x.other.example.';
  return `${pick(['a', 'b', 'www'])}.n${fresh % 12}.${ZONE}.`;
}
/** An NS/MX/SRV target: half the time one with an address (ns1) or outside the zone, else any name. */
const someTarget = () => (rnd() < 0.5 ? pick([`ns1.${ZONE}.`, 'mx.other.example.']) : someName());
const TYPES = ['A', 'AAAA', 'TXT', 'MX', 'CNAME', 'NS', 'PTR', 'DNAME', 'SOA', 'SRV'];
function someRdata(type: string): string {
  switch (type) {
    case 'A':
      return `192.0.2.${1 + Math.floor(rnd() * 4)}`;
    case 'AAAA':
      return `2001:db8::${1 + Math.floor(rnd() * 4)}`;
    case 'TXT':
      return `"v${Math.floor(rnd() * 4)}"`;
    case 'MX':
      return `${Math.floor(rnd() * 3) * 10} ${someTarget()}`;
    case 'SRV':
      return `0 0 ${pick([80, 443])} ${someTarget()}`;
    case 'NS':
      return someTarget();
    case 'SOA':
      return `ns1.${ZONE}. hostmaster.${ZONE}. ${pick([1, 2_000_000_000, 4_000_000_000])} 3600 600 86400 ${pick([300, 60])}`;
    default:
      return someName();
  }
}
const rr = (name: string, type: string, klass: number, ttl: number, rdata?: string): RR =>
  rrText(`${name} ${ttl} ${klass === RRClass.ANY ? 'ANY' : klass === RRClass.NONE ? 'NONE' : 'IN'} ${type}${rdata === undefined ? '' : ` ${rdata}`}`, origin);
/** RFC 1982 §3.2: is serial a greater than b? */
const serialGreater = (a: number, b: number) => a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
const rcodeToString = (r: number) => Object.entries(Rcode).find(([, v]) => v === r)?.[0] ?? String(r);
const text = (r: RR) => `${r.name} ${r.ttl} ${r.class === RRClass.ANY ? 'ANY' : r.class === RRClass.NONE ? 'NONE' : 'IN'} ${typeToString(r.type)}${r.rdata.length ? ' …' : ''}`;

function randomUpdate(): { prereq: RR[]; updates: RR[]; describe: string } {
  const prereq: RR[] = [];
  const updates: RR[] = [];
  const lines: string[] = [];
  for (let i = Math.floor(rnd() * 3) - 1; i > 0; i--) {
    const name = someName();
    const type = pick(TYPES.filter((t) => t !== 'SOA'));
    const k = rnd();
    if (k < 0.25) prereq.push(rr(name, type, RRClass.ANY, 0));
    else if (k < 0.4) {
      const data = someRdata(type);
      prereq.push(rr(name, type, RRClass.IN, 0, data));
      lines.push(`prereq yxrrset ${name} ${type} ${data}`);
      continue;
    } else if (k < 0.6) prereq.push(rr(name, type, RRClass.NONE, 0));
    else if (k < 0.8) prereq.push(rr(name, 'ANY', RRClass.ANY, 0));
    else prereq.push(rr(name, 'ANY', RRClass.NONE, 0));
    lines.push(`prereq ${text(prereq[prereq.length - 1])}`);
  }
  for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) {
    const name = someName();
    const type = pick(TYPES);
    const k = rnd();
    if (k < 0.55) {
      const data = someRdata(type);
      updates.push(rr(name, type, RRClass.IN, pick([60, 300, 3600]), data));
      lines.push(`add ${name} ${type} ${data}`);
    } else if (k < 0.7) {
      updates.push(rr(name, type, RRClass.ANY, 0));
      lines.push(`delete rrset ${name} ${type}`);
    } else if (k < 0.8) {
      updates.push(rr(name, 'ANY', RRClass.ANY, 0));
      lines.push(`delete name ${name}`);
    } else {
      const data = someRdata(type);
      updates.push(rr(name, type, RRClass.NONE, 0, data));
      lines.push(`delete rr ${name} ${type} ${data}`);
    }
  }
  return { prereq, updates, describe: lines.join('; ') };
}

async function send(port: number, bytes: Uint8Array): Promise<number> {
  return decodeMessage(await udpExchange(port, bytes, 5000)).rcode;
}

function signedUpdate(id: number, prereq: RR[], updates: RR[]): Uint8Array {
  const m = emptyMessage(id & 0xffff);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: origin, type: RRType.SOA, class: RRClass.IN }];
  m.answer = prereq;
  m.authority = updates;
  return signMessage(encodeMessage(m), key, Math.floor(Date.now() / 1000)).bytes;
}

const recordOf = (line: string): RR => {
  const r = parseZoneText(`${line}\n`, { origin }).records[0];
  return { name: r.name, type: r.type, class: RRClass.IN, ttl: r.ttl, rdata: r.rdata };
};

/**
 * DMS's management rule (services validateZone, from the original DMS): an NS, MX or SRV target inside the zone must
 * have an A or AAAA record that is served (not below a DNAME), in every version — so dmsd refuses an UPDATE that adds
 * such a record without its address, removes the last address of such a target or puts a DNAME above it. named
 * refuses only MX (and apex NS) ones: an UPDATE named accepts that leaves its zone breaking the rule may be REFUSED
 * by dmsd.
 */
/** Whether `owner` is strictly below the owner of a DNAME in `zoneText` (AXFR lines). */
function belowDname(owner: Name, zoneText: string): boolean {
  return zoneText.split('\n').some((l) => {
    const f = l.split(' ');
    return f[3] === 'DNAME' && !owner.equals(Name.from(f[0])) && owner.isSubdomainOf(Name.from(f[0]));
  });
}

function breaksTargetRule(zoneText: string): string | undefined {
  const lines = zoneText.split('\n').map((l) => l.split(' '));
  const addressed = new Set(lines.filter((f) => f[3] === 'A' || f[3] === 'AAAA').map((f) => f[0]));
  const dnames = lines.filter((f) => f[3] === 'DNAME').map((f) => f[0]);
  for (const f of lines) {
    const at = f[3] === 'NS' ? 4 : f[3] === 'MX' ? 5 : f[3] === 'SRV' ? 7 : -1;
    if (at < 0) continue;
    const t = f[at].toLowerCase();
    if (t !== `${ZONE}.` && !t.endsWith(`.${ZONE}.`)) continue;
    // Without addresses, or with them below a DNAME (occluded, RFC 6672 §2.3).
    if (!addressed.has(t) || dnames.some((d) => t.endsWith(`.${d}`))) return f.join(' ');
  }
  return undefined;
}

/** The same stream for every backend. */
const stream = Array.from({ length: COUNT }, randomUpdate);

// The third and fourth: the zone signed by dmsd (NSEC, default policy; NSEC3, default-nsec3), its UPDATEs taking the
// signed zone's paths (one transaction beside the signer, or apart when the apex is named), compared without the
// signer's records with an unsigned named; at the end dnssec-verify checks the signed zone the stream left.
for (const backend of ['sqlite', 'postgres', 'sqlite-signed', 'sqlite-nsec3'] as const)
  describe(`dmsd on ${backend} beside named`, () => {
    let pg: TestPostgres | undefined;

    before(async () => {
      assert.ok(haveProgram('named'), 'named is required: apt-get install bind9');
      dir = mkdtempSync(join(tmpdir(), 'dms-diff-update-'));
      const zoneFile = join(dir, 'zone.txt');
      writeFileSync(zoneFile, zone.text);
      if (backend === 'postgres') pg = await startPostgres();
      const store = pg ? postgresArgs(await pg.createDatabase()) : sqliteArgs(join(dir, 'dms'));
      zoneToolOk(store, ['load_zone', '-i', zoneFile, ZONE, 'no_use_apex_ns']);
      const out = zoneToolOk(store, ['generate_tsig_key', 'upd.key', 'hmac-sha256']);
      keySpec = /^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? '';
      assert.ok(keySpec, out);
      key = keyFromText(keySpec);
      zoneToolOk(store, ['add_update_grant', ZONE, 'grant upd.key zonesub ANY']);
      zoneToolOk(store, ['add_transfer_rule', ZONE, 'key=upd.key']);
      const followerPort = await freePort();
      zoneToolOk(store, ['add_also_notify', ZONE, `127.0.0.1#${followerPort}`, 'key=upd.key']);
      signedMode = backend === 'sqlite-signed' || backend === 'sqlite-nsec3';
      const kek = ['--dnssec-kek', join(dir, 'kek')];
      if (signedMode) zoneToolOk(store, [...kek, 'set_zone_dnssec_policy', ZONE, backend === 'sqlite-nsec3' ? 'default-nsec3' : 'default']);
      dmsd = await startDmsdDb(store, signedMode ? ['--no-http', ...kek] : []);
      if (signedMode) await waitFor(() => /\sRRSIG\s/.test(dig(dmsd.port, ['+dnssec', '+norec', '+noall', '+answer', `${ZONE}.`, 'SOA'])), 60000, 'zone signed');
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 10000, 'zone served by dmsd');
      named = startNamedPrimary(await freePort());
      await waitFor(() => servedSerial(named.port, ZONE) !== undefined, 10000, 'zone served by named');
      // named, not knotd: knotd refuses a zone with data below a DNAME or an NS beside one (RFC 6672 §2.3 lets a
      // server refuse to load such a zone; an UPDATE adding a DNAME above existing names makes one, as in named).
      follower = startNamedSecondary({ zone: ZONE, primaryPort: dmsd.port, key, port: followerPort, serveTransfers: true, debugLevel: 3 });
      await until('the named secondary to transfer the zone', () => servedSerial(followerPort, ZONE) !== undefined, follower.output);
    });

    after(async () => {
      await dmsd?.stop();
      await named?.stop();
      await follower?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`UPDATE stream (seed ${SEED}, ${COUNT} messages): dmsd on ${backend} answers and changes the zone as named does`, async () => {
      const start = axfr(named.port);
      assert.equal(axfr(dmsd.port), start, 'the zones differ before any UPDATE');
      const counts = new Map<string, number>();
      let allowed = 0;
      let prescanOrder = 0;
      let staleSoas = 0;
      let belowDnames = 0;
      for (let i = 0; i < COUNT; i++) {
        const u = stream[i];
        const bytes = signedUpdate(i * 7 + 3, u.prereq, u.updates);
        const serialBefore = servedSerials.get(dmsd.port) ?? 0; // from the AXFR after the previous message
        const [a, b] = [await send(named.port, bytes), await send(dmsd.port, bytes)];
        counts.set(rcodeToString(a), (counts.get(rcodeToString(a)) ?? 0) + 1);
        const za = axfr(named.port);
        const zb = axfr(dmsd.port);
        if (a === b && za === zb) continue;
        const la = new Set(za.split('\n'));
        const lb = new Set(zb.split('\n'));
        const onlyA = [...la].filter((l) => !lb.has(l));
        const onlyB = [...lb].filter((l) => !la.has(l));
        // RFC 2136 §3 checks the prerequisites (§3.2) before it prescans the update section (§3.4.1): a message with a
        // failing prerequisite and an out-of-zone or malformed update gets the prerequisite's rcode (as from knotd);
        // named prescans first (NOTZONE, FORMERR). Nothing changes either way.
        const PREREQ: number[] = [Rcode.NXDOMAIN, Rcode.YXDOMAIN, Rcode.NXRRSET, Rcode.YXRRSET];
        if ((a === Rcode.NOTZONE || a === Rcode.FORMERR) && PREREQ.includes(b) && za === zb) {
          prescanOrder++;
          continue;
        }
        // RFC 2136 §3.4.2.2: an SOA whose serial is not greater (RFC 1982) than the zone's is ignored, fields and all;
        // named takes its other fields (and keeps its own serial). DMS's serial policy also keeps a serial that is
        // "greater" only by going round the circle (numerically lower): that is done on purpose, by
        // poke_zone_wrap_serial, never by a stray SOA in an UPDATE.
        const soaOnly = onlyA.every((l) => / SOA /.test(l)) && onlyB.every((l) => / SOA /.test(l));
        const staleSoa = u.updates.some((r) => {
          if (r.type !== RRType.SOA || r.class !== RRClass.IN) return false;
          const proposed = soaSerialOf(r);
          return !serialGreater(proposed, serialBefore) || proposed < serialBefore;
        });
        const why =
          a === Rcode.NOERROR && b === Rcode.REFUSED
            ? breaksTargetRule(za)
            : a === b && soaOnly && staleSoa
              ? 'an SOA with a serial not above the zone\'s is ignored (RFC 2136 §3.4.2.2, DMS serial policy)'
              : a === b && onlyA.length > 0 && [...onlyA, ...onlyB].every((l) => belowDname(Name.from(l.split(' ')[0]), zb))
                ? 'an add below a DNAME is ignored (RFC 6672 §5.2; named adds it, knotd refuses the message)'
                : a === Rcode.REFUSED && b === Rcode.NOERROR && u.updates.some((r) => r.class === RRClass.IN && r.type !== RRType.DNAME && belowDname(r.name, zb))
                  ? 'an add below a DNAME is ignored (RFC 6672 §5.2) before any check of its data; named checks it first and refuses'
                  : undefined;
        if (!why)
          assert.fail(
            `UPDATE #${i} (${u.describe}): named ${rcodeToString(a)}, dmsd ${rcodeToString(b)}; serials before ${serialBefore}, after named ${servedSerials.get(named.port)} dmsd ${servedSerials.get(dmsd.port)}\n` +
              `only named: ${onlyA.join(' | ')}\nonly dmsd: ${onlyB.join(' | ')}\n` +
              `named: ${named.output().split('\n').filter((l) => /updating zone|update/.test(l)).slice(-4).join('\n')}\n` +
              `dmsd: ${dmsd.output().split('\n').filter((l) => /update/.test(l)).slice(-2).join('\n')}`,
          );
        // Allowed: named is brought back to dmsd's zone (the change dmsd refused is undone there) and the stream goes on.
        if (/SOA/.test(why)) staleSoas++;
        else if (/DNAME/.test(why)) belowDnames++;
        else allowed++;
        const sansTtl = (l: string) => l.split(' ').filter((_, k) => k !== 1).join(' ');
        const reAdded = new Set(onlyB.map(sansTtl));
        // Adds first: deleting the apex NS dmsd does not have must not find the RRset about to be emptied.
        const undo = signedUpdate(60000 + i, [], [
          ...onlyB.filter((l) => !/ SOA /.test(l)).map(recordOf),
          // dmsd's SOA fields, under a serial above named's own.
          ...onlyB.filter((l) => / SOA /.test(l)).map((l) => recordOf(l.replace('<serial>', String(((servedSerials.get(named.port) ?? 0) + 1) >>> 0)))),
          // Records dmsd has with another TTL are re-added above (the whole RRset takes the added TTL), not deleted.
          ...onlyA.filter((l) => !/ SOA /.test(l) && !reAdded.has(sansTtl(l))).map((l) => ({ ...recordOf(l), class: RRClass.NONE, ttl: 0 })),
        ]);
        assert.equal(await send(named.port, undo), Rcode.NOERROR, `undoing #${i} on named`);
        const back = axfr(named.port);
        if (back !== zb) {
          const lz = new Set(back.split('\n'));
          assert.fail(
            `named not back to dmsd's zone after #${i} (${u.describe}; ${why})\nonly named: ${[...lz].filter((l) => !lb.has(l)).join(' | ')}\n` +
              `only dmsd: ${[...lb].filter((l) => !lz.has(l)).join(' | ')}\nnamed: ${named.output().split('\n').slice(-4).join('\n')}`,
          );
        }
      }
      if (signedMode) {
        // The signed zone after the whole stream, patched change by change: every RRset signed, the chain whole.
        const file = join(dir, 'signed.axfr');
        writeFileSync(file, spawnSync('dig', ['-p', String(dmsd.port), '@127.0.0.1', ZONE, 'AXFR', '-y', keySpec, '+onesoa', '+noall', '+answer'], { encoding: 'utf8' }).stdout);
        const v = spawnSync('dnssec-verify', ['-z', '-o', ZONE, file], { encoding: 'utf8' });
        assert.equal(v.status, 0, `dnssec-verify:\n${v.stdout}${v.stderr}`);
        assert.match(`${v.stdout}${v.stderr}`, /Zone fully signed/);
      }
      // The named secondary followed dmsd by NOTIFY and IXFR through the whole stream: its copy is dmsd's zone,
      // signatures and all.
      const wanted = servedSerial(dmsd.port, ZONE);
      await until(`the named secondary at dmsd's serial ${wanted}`, () => servedSerial(follower.port, ZONE) === wanted, follower.output, 30000);
      const was = signedMode;
      signedMode = false;
      const [fromFollower, fromDmsd] = [axfr(follower.port), axfr(dmsd.port)];
      signedMode = was;
      const lf = new Set(fromFollower.split('\n'));
      const ld = new Set(fromDmsd.split('\n'));
      assert.equal(fromFollower, fromDmsd, `the secondary's copy (by IXFR) differs from dmsd's zone\nonly the secondary: ${[...lf].filter((l) => !ld.has(l)).join(' | ')}\nonly dmsd: ${[...ld].filter((l) => !lf.has(l)).join(' | ')}`);
      const answers = [...follower.output().matchAll(/transfer of '[^']*' from 127\.0\.0\.1#\d+: got (incremental|nonincremental) response/g)].map((x) => x[1]);
      assert.ok(answers.filter((x) => x === 'incremental').length >= 1, `the secondary took no IXFR (${answers.join(', ')}):\n${follower.output().slice(-3000)}`);
      assert.doesNotMatch(follower.output(), /IXFR.*(failed|refused)|bad SOA|Transfer status: (?!success)/i);
      console.log(`UPDATE stream (seed ${SEED}, ${backend}): ${COUNT} messages, named's rcodes ${JSON.stringify(Object.fromEntries(counts))}; ${allowed} refused by dmsd's target rule, ${prescanOrder} answered by their prerequisite before the prescan, ${staleSoas} SOAs with a stale serial ignored, ${belowDnames} adds below a DNAME ignored`);
      assert.ok((counts.get('NOERROR') ?? 0) > COUNT / 5, `too few accepted: ${JSON.stringify(Object.fromEntries(counts))}`);
    });
  });
