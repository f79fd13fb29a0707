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

/** All records of one owner name; per-type lookups scan `records` (nodes are small, and this keeps a 1M-record
 * check from allocating a Map per name). */
interface Node {
  name: Name;
  records: ZoneRecord[];
}

function ofType(n: Node | undefined, type: number): ZoneRecord[] | undefined {
  if (!n) return undefined;
  let out: ZoneRecord[] | undefined;
  for (const r of n.records) if (r.type === type) (out ??= []).push(r);
  return out;
}

function hasType(n: Node | undefined, type: number): boolean {
  if (!n) return false;
  for (const r of n.records) if (r.type === type) return true;
  return false;
}

function sameRdata(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

  // Group by owner; the same Name object (inherited owners) skips the key computation.
  const all = new Map<string, Node>();
  const order: Node[] = [];
  let lastName: Name | undefined;
  let lastNode: Node | undefined;
  for (const r of records) {
    let n: Node | undefined;
    if (r.name === lastName) n = lastNode;
    else {
      n = all.get(r.name.key);
      if (!n) {
        n = { name: r.name, records: [] };
        all.set(r.name.key, n);
        order.push(n);
      }
      lastName = r.name;
      lastNode = n;
    }
    (n as Node).records.push(r);
  }

  // Duplicates: same owner, type, class, canonical RDATA and served/disabled state; the first is kept.
  const dropped = new Set<ZoneRecord>();
  for (const n of order) {
    const rs = n.records;
    if (rs.length < 2) continue;
    const canon = rs.map((r) => canonicalRdata(r.type, r.rdata));
    for (let i = 1; i < rs.length; i++) {
      const r = rs[i];
      for (let j = 0; j < i; j++) {
        const f = rs[j];
        if (dropped.has(f) || f.type !== r.type || f.class !== r.class || !f.flags?.disable !== !r.flags?.disable) continue;
        if (!sameRdata(canon[i], canon[j])) continue;
        report(r, 'warning', `duplicate ${show(r.name)} ${typeToString(r.type)} record folded into the one${where(f)}`);
        dropped.add(r);
        break;
      }
    }
    if (dropped.size > 0) n.records = rs.filter((r) => !dropped.has(r));
  }
  const folded = dropped.size === 0 ? records.slice() : records.filter((r) => !dropped.has(r));

  // Served data only from here on; out-of-zone names are errors.
  const nodes = all;
  for (const n of order) {
    let served = n.records;
    for (const r of served) {
      if (r.flags?.disable) {
        served = served.filter((x) => !x.flags?.disable);
        break;
      }
    }
    if (served.length > 0 && !inZone(n.name, origin)) {
      for (const r of served) report(r, 'error', `${show(r.name)} ${typeToString(r.type)} is out of zone (not at or below ${show(origin)})`);
      served.length = 0;
    }
    if (served.length === 0) nodes.delete(n.name.key);
    else n.records = served;
  }

  // SOA: exactly one, at the apex; NS at the apex.
  const apex = nodes.get(origin.key);
  let soaCount = 0;
  for (const n of nodes.values()) {
    const soas = ofType(n, RRType.SOA);
    if (!soas) continue;
    if (n !== apex) for (const r of soas) report(r, 'error', `SOA record at ${show(n.name)}, which is not the zone apex ${show(origin)}`);
    else {
      soaCount += soas.length;
      for (const r of soas.slice(1)) report(r, 'error', `more than one SOA record at the apex${where(soas[0])}`);
    }
  }
  if (soaCount === 0) report(undefined, 'error', `no SOA record at the zone apex ${show(origin)}`);
  if (!hasType(apex, RRType.NS)) report(apex?.records[0], 'error', `no NS records at the zone apex ${show(origin)}`);

  const hasAddress = (target: Name) => {
    const t = nodes.get(target.key);
    return hasType(t, RRType.A) || hasType(t, RRType.AAAA);
  };
  const isCname = (target: Name) => hasType(nodes.get(target.key), RRType.CNAME);

  for (const n of nodes.values()) {
    const rs = n.records;
    if (rs.length > 1) {
      // CNAME exclusivity (RFC 1034 §3.6.2, RFC 2181 §10.1).
      const cnames = ofType(n, RRType.CNAME);
      if (cnames) {
        for (const r of cnames.slice(1)) report(r, 'error', `more than one CNAME record at ${show(n.name)}${where(cnames[0])}`);
        const other = new Set<number>();
        for (const r of rs) {
          if (r.type === RRType.CNAME || CNAME_COMPANIONS.has(r.type) || other.has(r.type)) continue;
          other.add(r.type);
          report(r, 'error', `CNAME and other data: ${show(n.name)} has a CNAME${where(cnames[0])} and ${typeToString(r.type)} records`);
        }
      }
      // RRset TTLs must agree (RFC 2181 §5.2): report each RRset once, at its first deviating record.
      const firstOfType = new Map<number, ZoneRecord>();
      const reported = new Set<number>();
      for (const r of rs) {
        const f = firstOfType.get(r.type);
        if (!f) firstOfType.set(r.type, r);
        else if (f.ttl !== r.ttl && !reported.has(r.type)) {
          reported.add(r.type);
          report(r, 'warning', `TTL ${r.ttl} differs from the TTL ${f.ttl} of the rest of the ${show(n.name)} ${typeToString(r.type)} RRset${where(f)}`);
        }
      }
    }
    for (const r of rs) {
      const t = r.type;
      if (t !== RRType.NS && t !== RRType.MX && t !== RRType.SRV) continue;
      const target = safeTarget(r);
      if (target === undefined || target.isRoot() || !inZone(target, origin) || hasAddress(target)) continue;
      if (t === RRType.NS) {
        // An in-zone NS target without addresses makes the apex unusable (error, as BIND); for a delegation it is
        // missing glue (warning, as BIND).
        const atApex = n === apex;
        if (isCname(target)) report(r, atApex ? 'error' : 'warning', `NS target ${show(target)} of ${show(n.name)} is a CNAME (illegal, RFC 2181 §10.3)`);
        else if (atApex) report(r, 'error', `NS target ${show(target)} has no address records (A or AAAA) in the zone`);
        else if (target.isSubdomainOf(n.name)) report(r, 'warning', `missing glue: NS target ${show(target)} of the delegation ${show(n.name)} has no A or AAAA record`);
        else report(r, 'warning', `NS target ${show(target)} of the delegation ${show(n.name)} has no address records (A or AAAA)`);
      } else if (isCname(target)) report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(n.name)} is a CNAME (RFC 2181 §10.3)`);
      else report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(n.name)} has no address records (A or AAAA)`);
    }
  }
  return { problems, records: folded };
}

/** isSubdomainOf with a fast path: names parsed relative to the origin share its label arrays. */
function inZone(name: Name, origin: Name): boolean {
  const a = name.labels;
  const b = origin.labels;
  if (b.length > a.length) return false;
  let i = a.length - 1;
  let j = b.length - 1;
  while (j >= 0 && a[i] === b[j]) {
    i--;
    j--;
  }
  return j < 0 || name.isSubdomainOf(origin);
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
