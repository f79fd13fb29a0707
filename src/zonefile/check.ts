// Zone consistency checks in the spirit of named-checkzone: the verdicts (error vs warning) follow BIND 9.18 where
// it has one, except that out-of-zone data is an error here (BIND ignores it with a warning) because DMS must never
// silently drop what an operator typed.
//
// Disabled records (;!DISABLE) are not served, so they take no part in the semantic checks; they are still folded
// when duplicated and returned.
//
// Speed: a million-record zone is checked in a couple of seconds. Records are grouped per owner in one Map whose
// value is the record itself for the (common) single-record owner and an array otherwise, so most owners cost no
// allocation beyond the Map entry.

import { RRType, typeToString } from '../dns/constants.js';
import type { Name } from '../dns/name.js';
import { canonicalRdata, rdataTargetName } from '../dns/rdata.js';
import type { ZoneFileProblem, ZoneRecord } from './types.js';

/** Types that may share an owner with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5, RFC 2535 KEY/SIG/NXT). */
const CNAME_COMPANIONS: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.SIG, RRType.NXT, RRType.KEY]);

/** Above this many records at one owner, duplicates are found with a hash instead of pairwise comparison. */
const PAIRWISE_LIMIT = 32;

/** The records of one owner: the record itself when it is alone, else the list. */
type Slot = ZoneRecord | ZoneRecord[];

function list(s: Slot): ZoneRecord[] {
  return Array.isArray(s) ? s : [s];
}

function hasType(s: Slot | undefined, type: number): boolean {
  if (s === undefined) return false;
  if (!Array.isArray(s)) return s.type === type;
  for (const r of s) if (r.type === type) return true;
  return false;
}

function sameRdata(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameKind(a: ZoneRecord, b: ZoneRecord): boolean {
  return a.type === b.type && a.class === b.class && !a.flags?.disable === !b.flags?.disable;
}

export interface CheckResult {
  problems: ZoneFileProblem[];
  /** The input with duplicates folded (first occurrence kept), order otherwise unchanged. */
  records: ZoneRecord[];
}

/** How the checks report: the record it is about (undefined: the zone as a whole), severity, message. */
export type CheckReport = (r: ZoneRecord | undefined, severity: 'error' | 'warning', message: string) => void;

export function checkZone(origin: Name, records: ZoneRecord[]): CheckResult {
  const problems: ZoneFileProblem[] = [];
  const report: CheckReport = (r, severity, message) => {
    problems.push({
      file: r?.file ?? '<zone>', line: r?.line ?? 0, column: r?.line ? 1 : 0, message, severity,
    });
  };

  // Group by owner; consecutive records with the same Name object (inherited owners) reuse the key.
  const nodes = new Map<string, Slot>();
  let lastName: Name | undefined;
  let lastKey = '';
  for (const r of records) {
    if (r.name !== lastName) {
      lastName = r.name;
      lastKey = r.name.key;
    }
    const s = nodes.get(lastKey);
    if (s === undefined) nodes.set(lastKey, r);
    else if (Array.isArray(s)) s.push(r);
    else nodes.set(lastKey, [s, r]);
  }

  // Duplicates (same owner, type, class, canonical RDATA and served/disabled state) are folded, the first kept;
  // disabled records leave the served view; out-of-zone owners are errors.
  const dropped = new Set<ZoneRecord>();
  for (const [key, s] of nodes) {
    if (!Array.isArray(s)) {
      if (s.flags?.disable) nodes.delete(key);
      else if (!s.name.isSubdomainOf(origin)) {
        report(s, 'error', outOfZone(s, origin));
        nodes.delete(key);
      }
      continue;
    }
    const served = foldNode(origin, s, dropped, report);
    if (served.length === 0) nodes.delete(key);
    else nodes.set(key, served.length === 1 ? served[0] : served);
  }
  const folded = oneTtlPerRRset(dropped.size === 0 ? records.slice() : records.filter((r) => !dropped.has(r)));

  const apex = nodes.get(origin.key);
  checkApex(origin, apex === undefined ? undefined : list(apex), report);

  const hasAddress = (target: Name) => {
    const t = nodes.get(target.key);
    return hasType(t, RRType.A) || hasType(t, RRType.AAAA);
  };
  const isCname = (target: Name) => hasType(nodes.get(target.key), RRType.CNAME);
  const checkTarget = (r: ZoneRecord, target: Name, atApex: boolean) => {
    if (!hasAddress(target)) targetProblem(r, target, atApex, isCname(target), report);
  };
  const below = namesBelowDnames(origin, nodes);
  const checkDname = (r: ZoneRecord) => {
    const b = below?.get(r.name.key);
    if (b) occludedBelowDname(r, b.first, b.count, report);
  };

  for (const s of nodes.values()) {
    const atApex = s === apex;
    if (!Array.isArray(s)) checkRecord(origin, s, atApex, report, checkTarget, checkDname);
    else checkNode(origin, s, atApex, report, checkTarget, checkDname);
  }
  return { problems, records: folded };
}

/**
 * One TTL per RRset (RFC 2181 §5.2): the served records of an RRset whose TTLs differ all get its last record's TTL
 * — what the zone serves (zone.ts) and what is stored, so that stored rows, answers and IXFR agree (a secondary
 * refuses an IXFR adding a record with another TTL than its RRset's). Disabled records keep theirs.
 */
export function oneTtlPerRRset(records: ZoneRecord[]): ZoneRecord[] {
  const last = new Map<string, number>();
  const key = (r: ZoneRecord) => `${r.name.key}\u0000${r.type}\u0000${r.class}`;
  let mixed = false;
  for (const r of records) {
    if (r.flags?.disable) continue;
    const k = key(r);
    const t = last.get(k);
    if (t !== undefined && t !== r.ttl) mixed = true;
    last.set(k, r.ttl);
  }
  if (!mixed) return records;
  return records.map((r) => {
    if (r.flags?.disable) return r;
    const t = last.get(key(r)) as number;
    return t === r.ttl ? r : { ...r, ttl: t };
  });
}

function outOfZone(r: ZoneRecord, origin: Name): string {
  return `${r.name.toString()} ${typeToString(r.type)} is out of zone (not at or below ${origin.toString()})`;
}

/**
 * The first pass over one owner's records (all of them, in zone order): duplicates folded (each added to `dropped`,
 * with a warning), then the served ones returned — none when they are out of the zone (an error each).
 */
export function foldNode(origin: Name, rs: ZoneRecord[], dropped: Set<ZoneRecord>, report: CheckReport): ZoneRecord[] {
  if (rs.length === 1) {
    const s = rs[0];
    if (s.flags?.disable) return [];
    if (!s.name.isSubdomainOf(origin)) {
      report(s, 'error', outOfZone(s, origin));
      return [];
    }
    return [s];
  }
  const kept = foldDuplicates(rs, dropped, (r, first) =>
    report(r, 'warning', `duplicate ${r.name.toString()} ${typeToString(r.type)} record folded into the one${where(first)}`),
  );
  const served = kept.filter((r) => !r.flags?.disable);
  if (served.length > 0 && !served[0].name.isSubdomainOf(origin)) {
    for (const r of served) report(r, 'error', outOfZone(r, origin));
    served.length = 0;
  }
  return served;
}

/** SOA: exactly one, at the apex; NS at the apex. `apex`: the served records at the apex after foldNode. */
export function checkApex(origin: Name, apex: ZoneRecord[] | undefined, report: CheckReport): void {
  const show = (n: Name) => n.toString();
  const apexSoas = apex === undefined ? [] : apex.filter((r) => r.type === RRType.SOA);
  if (apexSoas.length === 0) report(undefined, 'error', `no SOA record at the zone apex ${show(origin)}`);
  for (const r of apexSoas.slice(1)) report(r, 'error', `more than one SOA record at the apex${where(apexSoas[0])}`);
  if (apex === undefined || !apex.some((r) => r.type === RRType.NS))
    report(apex === undefined ? undefined : apex[0], 'error', `no NS records at the zone apex ${show(origin)}`);
}

/**
 * The in-zone target of an NS, MX or SRV record that must have addresses: `checkTarget` decides (with the zone's
 * nodes at hand, or later, for a zone checked owner by owner) and calls targetProblem when it has none.
 */
export type TargetCheck = (r: ZoneRecord, target: Name, atApex: boolean) => void;

/**
 * The DNAME record of an owner (its first, when it has several): `checkDname` looks for names with records below it
 * (with the zone's nodes at hand, or later, for a zone checked owner by owner) and calls occludedBelowDname if any.
 */
export type DnameCheck = (r: ZoneRecord) => void;

/**
 * Per DNAME owner of the zone (served records only), the first name below it with records, in the nodes' order, and
 * how many there are; undefined when the zone has no DNAME. One walk up each owner's labels, only when there is one.
 */
function namesBelowDnames(origin: Name, nodes: ReadonlyMap<string, Slot>): Map<string, { first: Name; count: number }> | undefined {
  const dnames = new Set<string>();
  for (const [key, s] of nodes) if (hasType(s, RRType.DNAME)) dnames.add(key);
  if (dnames.size === 0) return undefined;
  const out = new Map<string, { first: Name; count: number }>();
  for (const [key, s] of nodes) {
    const name = (Array.isArray(s) ? s[0] : s).name;
    const starts = name.keyStarts();
    for (let up = 1; up <= name.labelCount - origin.labelCount; up++) {
      const ancestor = up < starts.length ? key.slice(starts[up]) : origin.key;
      if (!dnames.has(ancestor)) continue;
      const e = out.get(ancestor);
      if (e) e.count++;
      else out.set(ancestor, { first: name, count: 1 });
    }
  }
  return out;
}

/**
 * Names with records below a DNAME (`count` of them, `first` in the zone's order): occluded — never answered, the
 * DNAME answers for them. RFC 6672 §2.4: no records may exist below a DNAME, and a server MAY refuse such a zone;
 * BIND loads it (occluding them, as DMS serves it), Knot DNS refuses it ("child record exists under DNAME"), so a
 * Knot secondary of the zone would fail.
 */
export function occludedBelowDname(r: ZoneRecord, first: Name, count: number, report: CheckReport): void {
  const more = count > 1 ? ` and ${count - 1} more name${count > 2 ? 's' : ''}` : '';
  report(
    r,
    'warning',
    `records below the DNAME at ${r.name.toString()} are occluded (never served; RFC 6672 §2.4): ${first.toString()}${more}; Knot DNS secondaries refuse such a zone`,
  );
}

function checkRecord(origin: Name, r: ZoneRecord, atApex: boolean, report: CheckReport, checkTarget: TargetCheck, checkDname?: DnameCheck): void {
  const t = r.type;
  if (t === RRType.SOA && !atApex) {
    report(r, 'error', `SOA record at ${r.name.toString()}, which is not the zone apex ${origin.toString()}`);
    return;
  }
  if (t === RRType.DNAME) {
    checkDname?.(r);
    return;
  }
  if (t !== RRType.NS && t !== RRType.MX && t !== RRType.SRV) return;
  const target = safeTarget(r);
  if (target === undefined || target.isRoot() || !target.isSubdomainOf(origin)) return;
  checkTarget(r, target, atApex);
}

/** The verdict on an NS/MX/SRV record whose in-zone target has no address records. */
export function targetProblem(r: ZoneRecord, target: Name, atApex: boolean, targetIsCname: boolean, report: CheckReport): void {
  const show = (n: Name) => n.toString();
  const t = r.type;
  if (t === RRType.NS) {
    // An in-zone NS target without addresses makes the apex unusable (error, as BIND); for a delegation it is
    // missing glue (warning, as BIND).
    if (targetIsCname) report(r, atApex ? 'error' : 'warning', `NS target ${show(target)} of ${show(r.name)} is a CNAME (illegal, RFC 2181 §10.3)`);
    else if (atApex) report(r, 'error', `NS target ${show(target)} has no address records (A or AAAA) in the zone`);
    else if (target.isSubdomainOf(r.name)) report(r, 'warning', `missing glue: NS target ${show(target)} of the delegation ${show(r.name)} has no A or AAAA record`);
    else report(r, 'warning', `NS target ${show(target)} of the delegation ${show(r.name)} has no address records (A or AAAA)`);
  } else if (targetIsCname) report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(r.name)} is a CNAME (RFC 2181 §10.3)`);
  else report(r, 'warning', `${typeToString(t)} target ${show(target)} of ${show(r.name)} has no address records (A or AAAA)`);
}

/** The second pass over one owner's served records: CNAME exclusivity, RRset TTLs, each record's own checks. */
export function checkNode(
  origin: Name,
  s: ZoneRecord[],
  atApex: boolean,
  report: CheckReport,
  checkTarget: TargetCheck,
  checkDname?: DnameCheck,
): void {
  const show = (n: Name) => n.toString();
  const name = s[0].name;
  // CNAME exclusivity (RFC 1034 §3.6.2, RFC 2181 §10.1).
  const cnames = s.filter((r) => r.type === RRType.CNAME);
  if (cnames.length > 0) {
    for (const r of cnames.slice(1)) report(r, 'error', `more than one CNAME record at ${show(name)}${where(cnames[0])}`);
    const other = new Set<number>();
    for (const r of s) {
      if (r.type === RRType.CNAME || CNAME_COMPANIONS.has(r.type) || other.has(r.type)) continue;
      other.add(r.type);
      report(r, 'error', `CNAME and other data: ${show(name)} has a CNAME${where(cnames[0])} and ${typeToString(r.type)} records`);
    }
  }
  // One DNAME per owner (RFC 6672 §2.4): a second would make the answer below it ambiguous.
  const dnames = s.filter((r) => r.type === RRType.DNAME);
  for (const r of dnames.slice(1)) report(r, 'error', `more than one DNAME record at ${show(name)}${where(dnames[0])} (RFC 6672 §2.4)`);
  // A DNAME beside NS records below the apex sits at a zone cut: the referral is the answer there and the DNAME is
  // never used (as BIND serves it); Knot DNS refuses such a zone ("NS record exists beside DNAME").
  const ns = dnames.length > 0 && !atApex ? s.find((r) => r.type === RRType.NS) : undefined;
  if (ns)
    report(
      dnames[0],
      'warning',
      `DNAME beside NS records at ${show(name)}${where(ns)}: the delegation occludes it (never served); Knot DNS secondaries refuse such a zone`,
    );
  // RRset TTLs must agree (RFC 2181 §5.2): each RRset reported once, at its first deviating record. The RRset takes
  // its last record's TTL (as served: zone.ts, as Knot loads it; checkZone's records carry it).
  const firstOfType = new Map<number, ZoneRecord>();
  const lastTtl = new Map<number, number>();
  for (const r of s) lastTtl.set(r.type, r.ttl);
  const reported = new Set<number>();
  for (const r of s) {
    const f = firstOfType.get(r.type);
    if (!f) firstOfType.set(r.type, r);
    else if (f.ttl !== r.ttl && !reported.has(r.type)) {
      reported.add(r.type);
      report(
        r,
        'warning',
        `TTL ${r.ttl} differs from the TTL ${f.ttl} of the rest of the ${show(name)} ${typeToString(r.type)} RRset${where(f)}: the RRset gets TTL ${lastTtl.get(r.type)} (its last record's, RFC 2181 §5.2)`,
      );
    }
  }
  // Sizes BIND (9.18.28 and later) refuses by default in a zone it loads or transfers in — max-records-per-type and
  // max-types-per-name, 100 each (CVE-2024-1737): served here, but a BIND secondary of the zone would fail.
  const perType = new Map<number, number>();
  for (const r of s) {
    const n = (perType.get(r.type) ?? 0) + 1;
    perType.set(r.type, n);
    if (n === BIND_MAX_RECORDS_PER_TYPE + 1)
      report(
        r,
        'warning',
        `the ${show(name)} ${typeToString(r.type)} RRset has more than ${BIND_MAX_RECORDS_PER_TYPE} records: BIND secondaries refuse such an RRset by default (max-records-per-type ${BIND_MAX_RECORDS_PER_TYPE}) and would not load the zone`,
      );
  }
  if (perType.size > BIND_MAX_TYPES_PER_NAME)
    report(
      s[0],
      'warning',
      `${show(name)} has records of ${perType.size} types: BIND secondaries refuse more than ${BIND_MAX_TYPES_PER_NAME} by default (max-types-per-name) and would not load the zone`,
    );
  for (const r of s) checkRecord(origin, r, atApex, report, checkTarget, r === dnames[0] ? checkDname : undefined);
}

/** BIND's defaults since 9.18.28 (max-records-per-type, max-types-per-name). */
const BIND_MAX_RECORDS_PER_TYPE = 100;
const BIND_MAX_TYPES_PER_NAME = 100;

/** The records of one owner without duplicates; each duplicate is added to `dropped` and passed to `onDuplicate`. */
function foldDuplicates(
  rs: ZoneRecord[], dropped: Set<ZoneRecord>, onDuplicate: (dup: ZoneRecord, first: ZoneRecord) => void,
): ZoneRecord[] {
  const kept: ZoneRecord[] = [];
  if (rs.length <= PAIRWISE_LIMIT) {
    const canon: Uint8Array[] = [];
    for (const r of rs) {
      const c = canonicalRdata(r.type, r.rdata);
      let first: ZoneRecord | undefined;
      for (let j = 0; j < kept.length; j++) {
        if (sameKind(kept[j], r) && sameRdata(canon[j], c)) {
          first = kept[j];
          break;
        }
      }
      if (first) {
        dropped.add(r);
        onDuplicate(r, first);
      } else {
        kept.push(r);
        canon.push(c);
      }
    }
    return kept;
  }
  const seen = new Map<string, ZoneRecord>();
  for (const r of rs) {
    const key = `${r.type}|${r.class}|${r.flags?.disable ? 1 : 0}|${Buffer.from(canonicalRdata(r.type, r.rdata)).toString('latin1')}`;
    const first = seen.get(key);
    if (first) {
      dropped.add(r);
      onDuplicate(r, first);
    } else {
      seen.set(key, r);
      kept.push(r);
    }
  }
  return kept;
}

export function safeTarget(r: ZoneRecord): Name | undefined {
  try {
    return rdataTargetName(r.type, r.rdata);
  } catch {
    return undefined;
  }
}

function where(r: ZoneRecord): string {
  return r.line ? ` (line ${r.line}${r.file ? ` of ${r.file}` : ''})` : '';
}
