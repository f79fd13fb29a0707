// Zone consistency checks in the spirit of named-checkzone: the verdicts (error vs warning) follow BIND 9.18 where
// it has one, except that out-of-zone data is an error here (BIND ignores it with a warning) because DMS must never
// silently drop what an operator typed.
//
// Disabled records (;!DISABLE) are not served, so they take no part in the semantic checks; they are still folded
// when duplicated and returned.

import { RRType, typeToString } from '../dns/constants.js';
import type { Name } from '../dns/name.js';
import { canonicalRdata, rdataTargetName } from '../dns/rdata.js';
import type { ZoneFileProblem, ZoneRecord } from './types.js';

/** Types that may share an owner with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5, RFC 2535 KEY/SIG/NXT). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.SIG, RRType.NXT, RRType.KEY]);

interface Node {
  name: Name;
  types: Map<number, ZoneRecord[]>;
}

export interface CheckResult {
  problems: ZoneFileProblem[];
  /** The input with duplicates folded (first occurrence kept), order otherwise unchanged. */
  records: ZoneRecord[];
}

export function checkZone(origin: Name, records: ZoneRecord[]): CheckResult {
  const problems: ZoneFileProblem[] = [];
  const report = (r: ZoneRecord | undefined, severity: 'error' | 'warning', message: string) => {
    problems.push({
      file: r?.file ?? '<zone>', line: r?.line ?? 0, column: r?.line ? 1 : 0, message, severity,
    });
  };
  const show = (n: Name) => n.toString();

  // Duplicates: same owner, type, class, RDATA (canonical form) and served/disabled state.
  const seen = new Map<string, ZoneRecord>();
  const folded: ZoneRecord[] = [];
  for (const r of records) {
    const key = `${r.name.key}|${r.type}|${r.class}|${r.flags?.disable ? 1 : 0}|${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('latin1')}`;
    const first = seen.get(key);
    if (first) {
      report(r, 'warning', `duplicate ${show(r.name)} ${typeToString(r.type)} record folded into the one${where(first)}`);
      continue;
    }
    seen.set(key, r);
    folded.push(r);
  }

  const nodes = new Map<string, Node>();
  for (const r of folded) {
    if (r.flags?.disable) continue;
    if (!r.name.isSubdomainOf(origin)) {
      report(r, 'error', `${show(r.name)} ${typeToString(r.type)} is out of zone (not at or below ${show(origin)})`);
      continue;
    }
    let n = nodes.get(r.name.key);
    if (!n) {
      n = { name: r.name, types: new Map() };
      nodes.set(r.name.key, n);
    }
    const set = n.types.get(r.type);
    if (set) set.push(r);
    else n.types.set(r.type, [r]);
  }

  // SOA: exactly one, at the apex.
  const apex = nodes.get(origin.key);
  let soaCount = 0;
  for (const n of nodes.values()) {
    const soas = n.types.get(RRType.SOA);
    if (!soas) continue;
    if (n !== apex) for (const r of soas) report(r, 'error', `SOA record at ${show(n.name)}, which is not the zone apex ${show(origin)}`);
    else {
      soaCount += soas.length;
      for (const r of soas.slice(1)) report(r, 'error', `more than one SOA record at the apex${where(soas[0])}`);
    }
  }
  if (soaCount === 0) report(undefined, 'error', `no SOA record at the zone apex ${show(origin)}`);
  const apexNs = apex?.types.get(RRType.NS);
  if (!apexNs) report(apex?.types.values().next().value?.[0], 'error', `no NS records at the zone apex ${show(origin)}`);

  for (const n of nodes.values()) {
    // CNAME exclusivity (RFC 1034 §3.6.2, RFC 2181 §10.1).
    const cnames = n.types.get(RRType.CNAME);
    if (cnames) {
      for (const r of cnames.slice(1)) report(r, 'error', `more than one CNAME record at ${show(n.name)}${where(cnames[0])}`);
      for (const [t, rs] of n.types) {
        if (t === RRType.CNAME || CNAME_COMPANIONS.has(t)) continue;
        report(rs[0], 'error', `CNAME and other data: ${show(n.name)} has a CNAME${where(cnames[0])} and ${typeToString(t)} records`);
      }
    }
    // RRset TTLs must agree (RFC 2181 §5.2).
    for (const [t, rs] of n.types) {
      const ttl = rs[0].ttl;
      for (const r of rs) {
        if (r.ttl !== ttl) {
          report(r, 'warning', `TTL ${r.ttl} differs from the TTL ${ttl} of the rest of the ${show(n.name)} ${typeToString(t)} RRset${where(rs[0])}`);
          break;
        }
      }
    }
  }

  // NS targets inside the zone need address records: at the apex this makes the zone unusable (error, as BIND);
  // for a delegation it is missing glue (warning, as BIND).
  const hasAddress = (target: Name) => {
    const t = nodes.get(target.key);
    return t !== undefined && (t.types.has(RRType.A) || t.types.has(RRType.AAAA));
  };
  const isCname = (target: Name) => nodes.get(target.key)?.types.has(RRType.CNAME) ?? false;
  for (const n of nodes.values()) {
    const nss = n.types.get(RRType.NS);
    if (nss) {
      const atApex = n === apex;
      for (const r of nss) {
        const target = safeTarget(r);
        if (target === undefined || !target.isSubdomainOf(origin) || hasAddress(target)) continue;
        if (isCname(target)) report(r, atApex ? 'error' : 'warning', `NS target ${show(target)} of ${show(n.name)} is a CNAME (illegal, RFC 2181 §10.3)`);
        else if (atApex) report(r, 'error', `NS target ${show(target)} has no address records (A or AAAA) in the zone`);
        else if (target.isSubdomainOf(n.name)) report(r, 'warning', `missing glue: NS target ${show(target)} of the delegation ${show(n.name)} has no A or AAAA record`);
        else report(r, 'warning', `NS target ${show(target)} of the delegation ${show(n.name)} has no address records (A or AAAA)`);
      }
    }
    for (const t of [RRType.MX, RRType.SRV]) {
      const rs = n.types.get(t);
      if (!rs) continue;
      for (const r of rs) {
        const target = safeTarget(r);
        if (!target || target.isRoot() || !target.isSubdomainOf(origin) || hasAddress(target)) continue;
        if (isCname(target)) report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(n.name)} is a CNAME (RFC 2181 §10.3)`);
        else report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(n.name)} has no address records (A or AAAA)`);
      }
    }
  }
  return { problems, records: folded };
}

function safeTarget(r: ZoneRecord): Name | undefined {
  try {
    return rdataTargetName(r.type, r.rdata);
  } catch {
    return undefined;
  }
}

function where(r: ZoneRecord): string {
  return r.line ? ` (line ${r.line}${r.file ? ` of ${r.file}` : ''})` : '';
}
