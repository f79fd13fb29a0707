// Random zones for the differential test against knotd (test/interop/differential-random.test.ts): zones neither
// server was written for, built from a seed. Each zone is a tree of names over a small label alphabet (so names share
// ancestors and empty non-terminals appear) holding plain data, CNAMEs (chains, loops, to missing, wildcard-covered,
// delegated and out-of-zone names), DNAMEs (leaves only: RFC 6672 §2.4 forbids data below them), delegations (NS with
// glue below the cut, in the zone elsewhere and out of it; DS at the cut), wildcards (with data, with a CNAME, beside
// real names), SVCB/HTTPS, MX, SRV and NS targets in and out of the zone, and a child zone served by the same server.
// Every zone is valid as both servers load it: one CNAME per name and nothing beside it, nothing but glue below a cut,
// one TTL per RRset. The file is written in the fixtures' form (absolute owner in the first column of every record
// line) so that loadFixtureZones can read its owners without the parser under test.

import { prng } from './differential.js';

export interface RandomZone {
  name: string;
  text: string;
}

const LABELS = ['a', 'b', 'c', 'd', 'www', 'mail', 'x'];
const DATA_TYPES = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'HTTPS', 'SVCB', 'CAA', 'PTR', 'HINFO', 'NAPTR', 'SSHFP', 'TYPE65280'];

/**
 * `origin` (absolute, e.g. "r1.test.") built from `seed`; `child`, when given, is a zone below `origin` served by the
 * same server: the parent delegates to it (NS and glue as a real parent holds them).
 */
export function randomZone(
  origin: string,
  seed: number,
  child?: string,
  /**
   * addressedTargets: every NS, MX and SRV target inside the zone has an A or AAAA record (a target without one is
   * pointed at ns1 instead) — the zones DMS's management rules accept (services validateZone).
   */
  o: { addressedTargets?: boolean } = {},
): RandomZone {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const abs = (rel: string) => (rel === '' ? origin : `${rel}.${origin}`);
  const ttl = () => pick([60, 300, 3600, 86400]);

  // The tree: relative names of one to three labels; a wildcard label only leftmost.
  const names = new Set<string>();
  const count = 14 + Math.floor(rnd() * 18);
  while (names.size < count) {
    const depth = 1 + Math.floor(rnd() * 3);
    const labels: string[] = [];
    for (let i = 0; i < depth; i++) labels.push(pick(LABELS));
    if (chance(0.15)) labels[0] = '*';
    names.add(labels.join('.'));
  }
  const childRel = child ? child.slice(0, -origin.length - 1) : undefined;
  if (childRel) names.delete(childRel);
  const sorted = [...names].sort((x, y) => x.split('.').length - y.split('.').length || (x < y ? -1 : 1));
  const isBelow = (n: string, above: string) => n.endsWith(`.${above}`);
  const hasChildren = (n: string) => sorted.some((m) => isBelow(m, n)) || (childRel !== undefined && isBelow(childRel, n));

  // What each name is. Chosen top-down: below a cut only glue, below a DNAME nothing.
  type Kind = 'data' | 'cname' | 'dname' | 'cut' | 'glue';
  const kind = new Map<string, Kind>();
  const cuts: string[] = childRel ? [childRel] : [];
  for (const n of sorted) {
    const cut = cuts.find((c) => isBelow(n, c));
    if (cut) {
      kind.set(n, 'glue');
      continue;
    }
    const r = rnd();
    const leaf = !hasChildren(n);
    const wild = n.startsWith('*');
    if (r < 0.15 && !wild) {
      kind.set(n, 'cut');
      cuts.push(n);
    } else if (r < 0.3) kind.set(n, 'cname');
    else if (r < 0.38 && leaf && !wild) kind.set(n, 'dname');
    else kind.set(n, 'data');
  }
  // Names a target may point at: real ones, missing ones, ones a wildcard covers, ones below cuts and DNAMEs, outside.
  const real = sorted.filter((n) => kind.get(n) !== 'glue');
  const targets = (): string => {
    const r = rnd();
    if (r < 0.45 && real.length > 0) return abs(pick(real).replace(/^\*/, 'wc'));
    if (r < 0.55) return abs(`nx.${pick(LABELS)}`);
    if (r < 0.65) return abs('');
    if (r < 0.75 && cuts.length > 0) return abs(`host.${pick(cuts)}`);
    if (r < 0.8) return `t${Math.floor(rnd() * 3)}.out.invalid.`;
    return abs(pick(sorted).replace(/^\*/, 'w'));
  };

  const lines: string[] = [`$ORIGIN ${origin}`, '$TTL 3600'];
  const rr = (owner: string, t: number, type: string, rdata: string) => lines.push(`${owner} ${t} IN ${type} ${rdata}`);
  const v4 = () => `192.0.2.${1 + Math.floor(rnd() * 250)}`;
  const v6 = () => `2001:db8::${(1 + Math.floor(rnd() * 0xfffe)).toString(16)}`;
  const data = (owner: string, type: string, n: number) => {
    const t = ttl();
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      let rdata: string;
      switch (type) {
        case 'A':
          rdata = v4();
          break;
        case 'AAAA':
          rdata = v6();
          break;
        case 'TXT':
          rdata = `"t${Math.floor(rnd() * 1000)}"${chance(0.3) ? ' "second string"' : ''}`;
          break;
        case 'MX':
          rdata = `${Math.floor(rnd() * 50)} ${targets()}`;
          break;
        case 'SRV':
          rdata = `${Math.floor(rnd() * 10)} ${Math.floor(rnd() * 10)} ${1 + Math.floor(rnd() * 65000)} ${chance(0.1) ? '.' : targets()}`;
          break;
        case 'HTTPS':
        case 'SVCB':
          rdata = chance(0.3) ? `0 ${chance(0.15) ? '.' : targets()}` : `${1 + Math.floor(rnd() * 3)} ${chance(0.2) ? '.' : targets()} alpn=h2${chance(0.3) ? ' port=8443' : ''}`;
          break;
        case 'CAA':
          rdata = `0 issue "ca${Math.floor(rnd() * 5)}.example"`;
          break;
        case 'PTR':
          rdata = targets();
          break;
        case 'HINFO':
          rdata = `"cpu${i}" "os"`;
          break;
        case 'NAPTR':
          rdata = `${10 + i} 100 "s" "SIP+D2U" "" _sip._udp.${origin}`;
          break;
        case 'SSHFP':
          rdata = `${1 + (i % 4)} 2 ${'ab'.repeat(32)}`;
          break;
        default:
          rdata = `\\# 3 ${(0xa0 + i).toString(16)}0102`;
      }
      if (seen.has(rdata)) continue;
      seen.add(rdata);
      rr(owner, t, type, rdata);
    }
  };

  // The apex: SOA, NS (one in the zone with its address, one outside), some data.
  rr(origin, 3600, 'SOA', `ns1.${origin} hostmaster.${origin} ${1 + Math.floor(rnd() * 1000)} 7200 3600 1209600 300`);
  rr(origin, 3600, 'NS', `ns1.${origin}`);
  rr(origin, 3600, 'NS', 'ns.out.invalid.');
  rr(`ns1.${origin}`, 3600, 'A', v4());
  if (chance(0.5)) rr(`ns1.${origin}`, 3600, 'AAAA', v6());
  for (const type of ['MX', 'TXT', 'A', 'HTTPS', 'CAA']) if (chance(0.4)) data(origin, type, 1 + Math.floor(rnd() * 3));

  for (const n of sorted) {
    const owner = abs(n);
    switch (kind.get(n)) {
      case 'data': {
        const types = DATA_TYPES.filter(() => chance(0.25));
        if (types.length === 0) types.push(pick(['A', 'AAAA', 'TXT']));
        for (const type of types) data(owner, type, 1 + Math.floor(rnd() * 3));
        break;
      }
      case 'cname':
        rr(owner, ttl(), 'CNAME', targets());
        break;
      case 'dname':
        rr(owner, ttl(), 'DNAME', chance(0.7) ? abs(pick(real).replace(/^\*\./, '')) : `d${Math.floor(rnd() * 3)}.out.invalid.`);
        break;
      case 'cut': {
        // Name servers below the cut (with glue), elsewhere in the zone and outside it.
        const t = ttl();
        const below = chance(0.7);
        if (below) rr(owner, t, 'NS', `ns.${owner}`);
        if (!below || chance(0.5)) rr(owner, t, 'NS', chance(0.5) ? `ns1.${origin}` : 'ns.out.invalid.');
        if (below) {
          rr(`ns.${owner}`, t, 'A', v4());
          if (chance(0.4)) rr(`ns.${owner}`, t, 'AAAA', v6());
        }
        if (chance(0.4)) rr(owner, t, 'DS', `${1 + Math.floor(rnd() * 65000)} 13 2 ${'c0de'.repeat(16)}`);
        break;
      }
      case 'glue':
        data(owner, pick(['A', 'AAAA']), 1);
        break;
    }
  }
  if (childRel && child) {
    const t = ttl();
    rr(child, t, 'NS', `ns1.${child}`);
    rr(child, t, 'NS', 'ns.out.invalid.');
    rr(`ns1.${child}`, t, 'A', v4());
  }
  if (o.addressedTargets) {
    const addressed = new Set(lines.filter((l) => / IN (A|AAAA) /.test(l)).map((l) => l.split(' ')[0]));
    const inZone = (n: string) => n === origin || n.endsWith(`.${origin}`);
    for (let i = 0; i < lines.length; i++) {
      const f = lines[i].split(' ');
      const at = f[3] === 'NS' ? 4 : f[3] === 'MX' ? 5 : f[3] === 'SRV' ? 7 : -1;
      if (at > 0 && inZone(f[at]) && !addressed.has(f[at])) {
        f[at] = `ns1.${origin}`;
        lines[i] = f.join(' ');
      }
    }
  }
  return { name: origin.replace(/\.$/, ''), text: `${[...new Set(lines)].join('\n')}\n` };
}
