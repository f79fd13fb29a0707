// Canonical master-file text for a zone, with the DMS comments and flags in place so that parseZoneText gives the
// same records back. Layout: $ORIGIN/$TTL header; records without a group first (a `;|` group runs until the next
// `;|`, so ungrouped records cannot follow a group); then the groups in order of first appearance, the SOA's group
// first; the SOA is the first record of its section; otherwise input order is kept.

import { classToString, RRType, typeToString } from '../dns/constants.js';
import type { Name } from '../dns/name.js';
import { rdataToText } from '../dns/rdata.js';
import type { RRFlags, ZoneRecord } from './types.js';

export interface WriteOptions {
  /** $TTL to print (default: the SOA's TTL, else the first record's, else 3600). Every record still shows its TTL. */
  ttl?: number;
}

export function writeZoneText(origin: Name, records: ZoneRecord[], opts: WriteOptions = {}): string {
  const soa = records.find((r) => r.type === RRType.SOA && r.name.equals(origin)) ?? records.find((r) => r.type === RRType.SOA);
  const ttl = opts.ttl ?? soa?.ttl ?? records[0]?.ttl ?? 3600;
  const out: string[] = [`$ORIGIN ${origin.toString()}`, `$TTL ${ttl}`];

  const ungrouped: ZoneRecord[] = [];
  const groups = new Map<string, ZoneRecord[]>();
  for (const r of records) {
    if (r.group === undefined) ungrouped.push(r);
    else {
      const g = groups.get(r.group);
      if (g) g.push(r);
      else groups.set(r.group, [r]);
    }
  }
  const order = [...groups.keys()];
  if (soa?.group !== undefined) {
    const at = order.indexOf(soa.group);
    order.splice(at, 1);
    order.unshift(soa.group);
  }

  const emitSection = (list: ZoneRecord[]) => {
    if (soa && list.includes(soa)) emitRecord(out, origin, soa);
    for (const r of list) if (r !== soa) emitRecord(out, origin, r);
  };
  if (ungrouped.length > 0) {
    out.push('');
    emitSection(ungrouped);
  }
  for (const g of order) {
    out.push('');
    for (const line of g.split('\n')) out.push(line ? `;| ${line}` : ';|');
    emitSection(groups.get(g) as ZoneRecord[]);
  }
  out.push('');
  return out.join('\n');
}

function emitRecord(out: string[], origin: Name, r: ZoneRecord): void {
  if (r.comment !== undefined) for (const line of r.comment.split('\n')) out.push(line ? `;# ${line}` : ';#');
  const flags = flagsText(r.flags);
  if (flags) out.push(`;!${flags}`);
  let rdata: string;
  try {
    rdata = rdataToText(r.type, r.rdata, origin);
  } catch {
    // Malformed RDATA for its type still round-trips through the RFC 3597 generic form.
    rdata = `\\# ${r.rdata.length}${r.rdata.length ? ` ${Buffer.from(r.rdata).toString('hex')}` : ''}`;
  }
  out.push(`${r.name.toRelativeString(origin)}\t${r.ttl}\t${classToString(r.class)}\t${typeToString(r.type)}\t${rdata}`);
}

/** The `;!` line body for a set of flags, or '' when none is set. */
export function flagsText(f: RRFlags | undefined): string {
  if (!f) return '';
  const parts: string[] = [];
  if (f.lockPtr) parts.push('LOCKPTR');
  if (f.forceRev) parts.push('FORCEREV');
  if (f.trackRev) parts.push('TRACKREV');
  if (f.disable) parts.push('DISABLE');
  if (f.ref !== undefined && f.ref !== '') parts.push(`REF:${f.ref}`);
  if (f.rrop) parts.push(`RROP:${f.rrop}`);
  return parts.join(' ');
}
