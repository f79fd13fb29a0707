// Zone files neither parser was written for, against named-checkzone (BIND 9): random zone texts in every
// presentation form RFC 1035 §5 and the type RFCs allow — $ORIGIN and relative names, $TTL and TTLs with units,
// class and TTL in either order, blank owners, parentheses over several lines with comments inside, escapes in names
// and strings (\. \DDD \"), TXT as quoted and bare words, and the RDATA forms of ~30 types (LOC in its short and long
// forms, SVCB/HTTPS parameters in any order, NAPTR regexps, CAA, hex and base64 split by spaces, RFC 3597 generic
// RDATA for known types). For each, our verdict must be BIND's and our records those of BIND's canonical dump (-D);
// the text we write of those records (writeZoneText: zone_tool show_zone, exports, git) must read as the same records
// in BIND; then each file damaged once (bad input): the verdicts must still agree.
// DMS_ZONEFILE_SEED=N / DMS_ZONEFILE_COUNT=N pick other texts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Name } from '../../src/dns/name.js';
import { canonicalRdata } from '../../src/dns/rdata.js';
import { loadZoneFile } from '../../src/server/zonefile-files.js';
import { checkZone, formatProblem, parseZoneText, writeZoneText, type ZoneRecord } from '../../src/zonefile/index.js';
import { prng } from '../helpers/differential.js';

const SEED = Number(process.env.DMS_ZONEFILE_SEED ?? 20261206);
const COUNT = Number(process.env.DMS_ZONEFILE_COUNT ?? 40);
const ORIGIN = 'rand.example';
const origin = Name.from(ORIGIN);
const dir = mkdtempSync(join(tmpdir(), 'dms-zonefile-random-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One random zone text (valid by construction: both parsers must accept it). */
function randomText(seed: number): string {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const int = (n: number) => Math.floor(rnd() * n);
  const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');
  const b64 = (bytes: number) => Buffer.from(Array.from({ length: bytes }, () => int(256))).toString('base64');
  /** Split a long string by blanks now and then (hex and base64 fields may be, RFC 4034 §2.2 etc.). */
  const split = (s: string) => (chance(0.4) ? s.replace(/(.{8,20})/g, (m) => (chance(0.5) ? `${m} ` : m)).trim() : s);
  const ttl = () => pick(['300', '3600', '1h', '2H30M', '1d', '1w', '90s', '0', '86400', '1h1m1s']);
  const label = () => pick(['www', 'mail', 'a', 'B', 'x-y', '_tcp', '_sip', 'h1', 'esc\\.dot', 'sp\\032ace', 'tw\\\\o', 'dig\\049t', 'Mixed', 'caf\u00e9', '\u2603', 'Stra\u00dfe']);
  const relName = () => (chance(0.2) ? '@' : Array.from({ length: 1 + int(2) }, label).join('.'));
  const target = () => (chance(0.3) ? `${relName()}.example.net.` : chance(0.1) ? '@' : relName());
  const txtString = () =>
    pick([
      '"plain"',
      '"two words"',
      '""',
      '"with \\"quotes\\""',
      '"semi\\;colon"',
      '"dec\\255\\000"',
      'bare',
      'bare\\ escaped',
      `"${'l'.repeat(200)}"`,
      '"tab\\009"',
      '"utf8 é"',
    ]);
  const rdataOf: Record<string, () => string> = {
    A: () => `192.0.2.${int(256)}`,
    AAAA: () => pick(['2001:db8::1', '2001:DB8:0:0:0:0:0:2', '::ffff:192.0.2.7', '2001:db8:1::', 'fe80::1:2:3', '::']),
    NS: () => target(),
    CNAME: () => target(),
    PTR: () => target(),
    MX: () => `${int(65536)} ${target()}`,
    TXT: () => Array.from({ length: 1 + int(3) }, txtString).join(' '),
    SPF: () => '"v=spf1 -all"',
    HINFO: () => `${txtString()} ${txtString()}`,
    RP: () => `${relName()} ${relName()}`,
    SRV: () => `${int(65536)} ${int(65536)} ${int(65536)} ${chance(0.1) ? '.' : target()}`,
    NAPTR: () => pick([`100 10 "S" "SIP+D2U" "" _sip._udp.${ORIGIN}.`, `10 20 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`, `1 1 "" "" "" ${relName()}`]),
    KX: () => `${int(100)} ${target()}`,
    AFSDB: () => `${1 + int(2)} ${target()}`,
    DS: () => `${int(65536)} ${pick([8, 13, 15])} 2 ${split(hex(32))}`,
    CDS: () => `${int(65536)} 13 2 ${split(hex(32))}`,
    SSHFP: () => {
      const fp = pick([1, 2]);
      return `${1 + int(4)} ${fp} ${split(hex(fp === 1 ? 20 : 32))}`;
    },
    TLSA: () => `${int(4)} ${int(2)} ${pick([0, 1, 2])} ${split(hex(32))}`,
    SMIMEA: () => `3 1 1 ${hex(32)}`,
    DNSKEY: () => `${pick([256, 257])} 3 ${pick([8, 13])} ${split(b64(64))}`,
    CDNSKEY: () => `257 3 13 ${b64(64)}`,
    CAA: () => pick(['0 issue "ca.example.net"', '128 iodef "mailto:sec@example.com"', '0 issuewild ";"', '0 tbs "Unknown"', '0 Issue "x.example"']),
    URI: () => `${int(100)} ${int(100)} "https://example.com/${int(9)}"`,
    LOC: () =>
      pick([
        '52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m',
        '42 21 54 N 71 06 18 W -24m 30m',
        '42 21 43.952 N 71 5 6.344 W -24m 1m 200m',
        '32 7 19 S 116 2 25 E 10m',
        '60 N 0 E 0m',
        '90 0 0.000 S 180 0 0.000 W 42849672.95m 90000000m 90000000m 90000000m',
      ]),
    CERT: () => `${pick(['PKIX', '1', 'PGP'])} ${int(65536)} ${pick(['RSASHA256', '8', '0'])} ${split(b64(48))}`,
    SVCB: () => svcb(),
    HTTPS: () => svcb(),
    OPENPGPKEY: () => split(b64(40)),
    TYPE65280: () => `\\# ${3} ${hex(3)}`,
    IPSECKEY: () => pick([`10 1 2 192.0.2.38 ${b64(32)}`, `10 0 2 . ${b64(32)}`, `10 3 2 gw.example.net. ${b64(32)}`]),
  };
  function svcb(): string {
    if (chance(0.2)) return `0 ${target()}`;
    const params = [
      pick(['alpn=h2,h3', 'alpn="h2,h3"', 'alpn=h3']),
      'no-default-alpn',
      `port=${int(65536)}`,
      'ipv4hint=192.0.2.1,192.0.2.2',
      'ipv6hint=2001:db8::1',
      `ech=${b64(20)}`,
      'key65000=abc',
      'key65001',
    ].filter(() => chance(0.35));
    const keys = params.map((p) => p.split('=')[0]);
    if (keys.includes('no-default-alpn') && !keys.includes('alpn')) params.push('alpn=h2');
    if (chance(0.3) && params.length > 0) {
      const m = [...new Set(params.map((p) => p.split('=')[0]))].filter((k) => k !== 'mandatory' && k !== 'no-default-alpn' && k !== 'key65001' && k !== 'alpn');
      if (m.length > 0) params.push(`mandatory=${m.join(',')}`);
    }
    for (let i = params.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [params[i], params[j]] = [params[j], params[i]];
    }
    return `${1 + int(3)} ${chance(0.3) ? '.' : target()} ${params.join(' ')}`.trim();
  }

  // One TTL per RRset (RFC 2181 §5.2): the generator follows each record's TTL as RFC 1035 §5.1 and $TTL give it, and
  // writes the RRset's TTL explicitly where it would otherwise differ (BIND and we treat mixed RRsets differently).
  const secs = (t: string) => {
    let total = 0;
    for (const m of t.toLowerCase().matchAll(/(\d+)([smhdw]?)/g)) total += Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's']!;
    return total;
  };
  const lines: string[] = [];
  let dollar: number | undefined;
  let last: number | undefined;
  if (chance(0.7)) {
    const t = ttl();
    dollar = secs(t);
    lines.push(`$TTL ${t}`);
  }
  const soaFields = [String(1 + int(2 ** 31)), ttl(), ttl(), ttl(), ttl()];
  const soa = soaFields.join(' ');
  const soaTtl = chance(0.5) ? ttl() : undefined;
  if (soaTtl !== undefined) last = secs(soaTtl);
  else dollar ??= secs(soaFields[4]); // no TTL anywhere: the SOA minimum (a warning, as BIND)
  lines.push(
    chance(0.5)
      ? `@ ${soaTtl === undefined ? 'IN' : chance(0.5) ? `IN ${soaTtl}` : `${soaTtl} IN`} SOA ns1 hostmaster ( ; the SOA over lines
        ${soa.split(' ').join(' ; field\n        ')} )`
      : `@ ${soaTtl ?? ''} IN SOA ns1.${ORIGIN}. hostmaster.${ORIGIN}. ${soa}`,
  );
  const setTtl = new Map<string, number>();
  setTtl.set('|@|ns', dollar ?? last!);
  setTtl.set('|ns1|a', dollar ?? last!);
  lines.push('@ NS ns1', `ns1 A 192.0.2.53`);
  const types = Object.keys(rdataOf);
  const n = 10 + int(40);
  let haveOwner = true;
  let currentOrigin = '';
  let prevOwnerKey = '|ns1';
  const cnames = new Set<string>();
  const others = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (chance(0.05)) {
      currentOrigin = pick(['sub', 'x.y']);
      lines.push(`$ORIGIN ${currentOrigin}.${ORIGIN}.`);
      haveOwner = false;
      continue;
    }
    if (chance(0.04)) {
      currentOrigin = '';
      lines.push(`$ORIGIN ${ORIGIN}.`);
      haveOwner = false;
      continue;
    }
    let type = pick(types);
    if (['NS', 'DS', 'CDS'].includes(type)) type = 'TXT'; // no delegations: occluded data would blur the comparison
    const owner = haveOwner && chance(0.2) ? '' : relName();
    // CNAME alone at its name (RFC 1034 §3.6.2): skip what would break it. Names compared as written (lower case).
    const ownerKey = owner === '' ? prevOwnerKey : `${currentOrigin}|${owner.toLowerCase()}`;
    // No CNAME at the apex; no CDS/CDNSKEY there either (BIND checks them against the zone's DNSKEYs: a policy, not syntax).
    if (ownerKey === '|@' && ['CNAME', 'CDS', 'CDNSKEY'].includes(type)) type = 'TXT';
    if (type === 'CNAME' ? others.has(ownerKey) || cnames.has(ownerKey) : cnames.has(ownerKey)) continue;
    (type === 'CNAME' ? cnames : others).add(ownerKey);
    prevOwnerKey = ownerKey;
    let tt = chance(0.3) ? ttl() : undefined;
    const setKey = `${ownerKey}|${type.toLowerCase()}`;
    const wanted = setTtl.get(setKey);
    const effective = tt !== undefined ? secs(tt) : (dollar ?? last!);
    if (wanted !== undefined && wanted !== effective) tt = String(wanted);
    if (tt !== undefined) last = secs(tt);
    setTtl.set(setKey, tt !== undefined ? secs(tt) : effective);
    const t = tt !== undefined ? `${tt} ` : '';
    const c = chance(0.3) ? 'IN ' : '';
    const head = chance(0.5) ? `${t}${c}` : `${c}${t}`;
    const typeText = chance(0.15) ? type.toLowerCase() : type;
    let rdata = rdataOf[type]();
    if (chance(0.1) && !rdata.includes('"') && ['TXT', 'MX', 'SRV', 'SSHFP', 'TLSA', 'CAA'].includes(type)) rdata = `( ${rdata.split(' ').join(chance(0.5) ? '\n\t' : ' ; c\n\t')} )`;
    lines.push(`${owner === '' ? '\t' : owner} ${head}${typeText} ${rdata}${chance(0.1) ? ' ; trailing comment' : ''}`);
    haveOwner = true;
  }
  return `${lines.join('\n')}\n`;
}

/** One random damage to one record line of `text` (a token dropped, doubled or bent out of shape). */
function mutate(text: string, seed: number): string {
  const rnd = prng(seed);
  const lines = text.split('\n');
  const candidates = lines.map((_, i) => i).filter((i) => lines[i].trim() && !lines[i].startsWith('$') && !lines[i].trimStart().startsWith(';'));
  const at = candidates[Math.floor(rnd() * candidates.length)];
  const tokens = lines[at].split(' ');
  const k = 1 + Math.floor(rnd() * Math.max(1, tokens.length - 1));
  const tok = tokens[k] ?? '';
  const m = Math.floor(rnd() * 9);
  if (m === 0) tokens.splice(k, 1);
  else if (m === 1) tokens.splice(k, 0, tok);
  else if (m === 2 && /^\d+$/.test(tok)) tokens[k] = ['4294967296', '65536', '256', '-1', '99999999999'][Math.floor(rnd() * 5)];
  else if (m === 3 && tok.length > 4) tokens[k] = tok.slice(0, -1);
  else if (m === 4) tokens[k] = `"${tok}`;
  else if (m === 5 && /^\d+\.\d+\.\d+\.\d+$/.test(tok)) tokens[k] = '256.1.2.3';
  else if (m === 5 && tok.includes(':')) tokens[k] = `${tok}:::1`;
  else if (m === 6) tokens[0] = `${'l'.repeat(64)}.${tokens[0]}`;
  else if (m === 7) tokens.push(pick(rnd, [')', '(', '\\', '"x']));
  else tokens[k] = `${tok}x`;
  lines[at] = tokens.join(' ');
  return lines.join('\n');
}
const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/**
 * Records as comparable keys. An RRset whose records were given different TTLs (a warning: RFC 2181 §5.2) is compared
 * without TTLs: BIND gives it the first TTL when its records are consecutive and the last one otherwise, we keep each.
 */
function keys(records: ZoneRecord[], mixed: ReadonlySet<string>): string[] {
  return [
    ...new Set(
      records.map((r) => {
        const set = `${r.name.key} ${r.type}`;
        return `${r.name.key} ${mixed.has(set) ? '*' : r.ttl} ${r.class} ${r.type} ${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('hex')}`;
      }),
    ),
  ].sort();
}

/** The RRsets whose records carry more than one TTL. */
function mixedTtls(records: ZoneRecord[]): Set<string> {
  const ttl = new Map<string, number>();
  const mixed = new Set<string>();
  for (const r of records) {
    const k = `${r.name.key} ${r.type}`;
    const t = ttl.get(k);
    if (t === undefined) ttl.set(k, r.ttl);
    else if (t !== r.ttl) mixed.add(k);
  }
  return mixed;
}

/** Our verdict and records against named-checkzone's for COUNT texts; how many both accepted. */
function compareWithBind(textOf: (i: number) => string, o: { written?: boolean } = {}): number {
  let accepted = 0;
  for (let i = 0; i < COUNT; i++) {
    const text = textOf(i);
    const file = join(dir, `z${i}.zone`);
    writeFileSync(file, text);
    const bind = spawnSync('named-checkzone', ['-D', '-o', '-', '-i', 'none', '-k', 'ignore', '-n', 'ignore', '-m', 'ignore', '-M', 'ignore', '-S', 'ignore', '-T', 'ignore', ORIGIN, file], { encoding: 'utf8' });
    const r = loadZoneFile(file, { origin });
    const c = checkZone(origin, r.records);
    const errors = [...r.problems, ...c.problems].filter((p) => p.severity === 'error');
    const context = `file ${i} (seed ${SEED * 1000 + i}):\n${text}\nBIND (exit ${bind.status}): ${bind.stderr}${bind.status === 0 ? '' : bind.stdout}\nours: ${errors.map(formatProblem).join('\n')}`;
    assert.equal(errors.length === 0, bind.status === 0, `verdicts differ — ${context}`);
    if (bind.status !== 0) {
      if (process.env.DMS_ZONEFILE_DEBUG) console.log(context);
      continue;
    }
    accepted++;
    const dump = parseZoneText(bind.stdout, { origin, file: 'BIND dump' });
    assert.deepEqual(dump.problems.filter((p) => p.severity === 'error'), [], `BIND's dump does not parse — ${context}`);
    const mixed = mixedTtls(r.records); // (checkZone gives such an RRset one TTL: its last record's)
    const ka = keys(c.records, mixed);
    const kb = keys(dump.records, mixed);
    const onlyOurs = ka.filter((k) => !kb.includes(k));
    const onlyBind = kb.filter((k) => !ka.includes(k));
    assert.deepEqual({ onlyOurs, onlyBind }, { onlyOurs: [], onlyBind: [] }, `records differ — ${context}`);
    if (o.written) {
      // What we write (zone_tool show_zone, exports, git) is read by BIND as the same records.
      const ourText = writeZoneText(origin, c.records);
      const ourFile = join(dir, `z${i}.written.zone`);
      writeFileSync(ourFile, ourText);
      const again = spawnSync('named-checkzone', ['-D', '-o', '-', '-i', 'none', '-k', 'ignore', '-n', 'ignore', '-m', 'ignore', '-M', 'ignore', '-S', 'ignore', '-T', 'ignore', ORIGIN, ourFile], { encoding: 'utf8' });
      const wcontext = `our text of file ${i} (seed ${SEED * 1000 + i}):\n${ourText}\nBIND (exit ${again.status}): ${again.stderr}${again.status === 0 ? '' : again.stdout}\noriginal:\n${text}`;
      assert.equal(again.status, 0, `BIND refuses the text we wrote — ${wcontext}`);
      const reread = parseZoneText(again.stdout, { origin, file: 'BIND dump' });
      const kw = keys(reread.records, mixed);
      assert.deepEqual({ onlyOriginal: kb.filter((k) => !kw.includes(k)), onlyWritten: kw.filter((k) => !kb.includes(k)) }, { onlyOriginal: [], onlyWritten: [] }, `BIND reads other records from our text — ${wcontext}`);
    }
  }
  return accepted;
}

test(`random zone files (seed ${SEED}, ${COUNT} files): our verdict and records are named-checkzone's`, () => {
  const accepted = compareWithBind((i) => randomText(SEED * 1000 + i), { written: true });
  assert.ok(accepted >= COUNT * 0.8, `only ${accepted} of ${COUNT} accepted by both`);
});

test(`the same files, each damaged once (a token dropped, doubled, cut short or out of range): the same verdicts`, () => {
  const accepted = compareWithBind((i) => mutate(randomText(SEED * 1000 + i), SEED * 7 + i));
  // Some damage leaves a valid file (a doubled TXT string): both kinds must occur.
  assert.ok(accepted > 0 && accepted < COUNT, `${accepted} of ${COUNT} damaged files accepted by both`);
});
