// A compiled zone as bytes: its names with their RRsets already in the node layout (zone.ts), so that a large zone is
// loaded from the database at memory speed — a few blobs instead of one row per record, no record object, no
// re-encoding. dmsd stores one for a large zone's served version and, at start-up, builds the zone from it plus the
// rows of the owners changed since (services/feed.ts). Pure: no I/O.
//
// A snapshot is a list of parts (each about `partBytes`, so that no database value grows with the zone), each
// one self-contained:
//   "DZS" 0x01 · u32 nodes · u32 D · D bytes of RRsets (node after node) · per node: u8 flags (HAS_* bits, 0x80: an
//   original-case owner follows), u8 key length, key (lower-case wire form), [u8 length, owner], u32 RRset bytes ·
//   u32 NSEC3 records · per record: u8 owner length, owner, u16 type, u16 class, u32 TTL, u16 RDLENGTH, RDATA.
// The apex and empty non-terminals are not in it: the apex (with the version's SOA) always comes from the rows, and
// empty non-terminals, wildcards and the inherited flags are derived again by ZoneBuilder.finish().

import type { RR } from '../dns/message.js';
import { WireWriter } from '../dns/wire.js';
import { latin1, wireKey } from './key.js';
import { HAS_CNAME, HAS_DNAME, HAS_NS, nameFromWire, nodeRecordCount, type Zone, type ZoneBuilder, type ZoneNode } from './zone.js';
import { VersionedMap } from './versioned-map.js';

const MAGIC = [0x44, 0x5a, 0x53, 0x01];
const OWN = HAS_NS | HAS_DNAME | HAS_CNAME;
const HAS_OWNER = 0x80;
/**
 * Bytes per part, about (a part ends after the node that reaches it). Small: node-pg reads a large bytea value slowly
 * (measured: 32 MiB as 4 values of 8 MiB 323–355 ms, as 16 of 2 MiB 174–204 ms, as 64 of 512 KiB 133–181 ms).
 */
export const SNAPSHOT_PART_BYTES = 1 << 20;
/** Bytes before the records of an encoded RRset (zone.ts SET_HEADER). */
const SET_HEADER = 12;

/** A wire form held as a latin1 string, with its length first. */
function str8(w: WireWriter, s: string): void {
  w.u8(s.length);
  for (let i = 0; i < s.length; i++) w.u8(s.charCodeAt(i));
}

/**
 * Encodes nodes into snapshot parts as they are given: a caller can give a large zone's nodes in slices (the nodes of
 * a zone version never change, so an array of them taken at once stays valid) and finish with its NSEC3 records.
 */
export class SnapshotEncoder {
  readonly parts: Uint8Array[] = [];
  private data = new WireWriter(1 << 16, false);
  private table = new WireWriter(1 << 16, false);
  private nodes = 0;
  /** Records in the nodes given. */
  records = 0;

  constructor(private readonly partBytes = SNAPSHOT_PART_BYTES) {}

  /** One node (the apex and empty non-terminals are left out). */
  add(node: ZoneNode, apex: ZoneNode): void {
    const d = node.data;
    if (node === apex || d === undefined || node.start === node.end) return;
    this.data.bytes(d.subarray(node.start, node.end));
    const owner = node.owner;
    const table = this.table;
    table.u8((node.bits & OWN) | (owner !== undefined ? HAS_OWNER : 0));
    str8(table, node.key);
    if (owner !== undefined) str8(table, owner);
    table.u32(node.end - node.start);
    this.nodes++;
    this.records += nodeRecordCount(node);
    if (this.data.pos + this.table.pos >= this.partBytes) this.close([]);
  }

  /** The parts, the last one with the zone's NSEC3 records. */
  finish(nsec3: readonly RR[]): Uint8Array[] {
    if (this.nodes > 0 || nsec3.length > 0 || this.parts.length === 0) this.close(nsec3);
    return this.parts;
  }

  private close(nsec3: readonly RR[]): void {
    const { data, table } = this;
    const out = new WireWriter(12 + data.pos + table.pos + 4, false);
    out.bytes(Uint8Array.from(MAGIC));
    out.u32(this.nodes);
    out.u32(data.pos);
    out.bytes(data.buf.subarray(0, data.pos));
    out.bytes(table.buf.subarray(0, table.pos));
    out.u32(nsec3.length);
    for (const rr of nsec3) {
      out.u8(rr.name.wireLength);
      out.bytes(rr.name.toWire());
      out.u16(rr.type);
      out.u16(rr.class);
      out.u32(rr.ttl);
      out.u16(rr.rdata.length);
      out.bytes(rr.rdata);
      this.records++;
    }
    this.parts.push(out.buf.subarray(0, out.pos));
    this.data = new WireWriter(1 << 16, false);
    this.table = new WireWriter(1 << 16, false);
    this.nodes = 0;
  }
}

/** The NSEC3 records of a zone (kept apart from its names). */
/**
 * The zone's nodes, taken at once (a version's nodes never change, but iterating them across turns of the event loop
 * would meet the next version once the zone is patched): from the newest version's Map in one native copy, ~10× less
 * than through the VersionedMap's iterators (13 ms at 100,000 nodes, in one piece, before).
 */
export function zoneNodeArray(zone: Zone): ZoneNode[] {
  return zone.nodes instanceof VersionedMap ? (zone.nodes as VersionedMap<ZoneNode>).valueArray() : [...zone.nodes.values()];
}

export function zoneNsec3(zone: Zone): RR[] {
  const out: RR[] = [];
  for (const list of zone.nsec3.values()) out.push(...list);
  return out;
}

/** The zone's snapshot parts (see the module comment), in one go. */
export function encodeZoneSnapshot(zone: Zone, partBytes = SNAPSHOT_PART_BYTES): Uint8Array[] {
  const enc = new SnapshotEncoder(partBytes);
  for (const node of zone.nodes.values()) enc.add(node, zone.apex);
  return enc.finish(zoneNsec3(zone));
}

/** A snapshot part that does not read as one. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/**
 * Give `builder` the nodes of one snapshot part, except those whose key is in `skip` (owners whose records the caller
 * gave from newer rows). The RRset bytes are copied out of `part` once (nodes share the copy), so `part` can go.
 * Throws SnapshotError when the part is not well formed (nothing of it is given then).
 */
export function addZoneSnapshot(builder: ZoneBuilder, part: Uint8Array, skip?: ReadonlySet<string>): void {
  const fail = (why: string): never => {
    throw new SnapshotError(`zone snapshot part: ${why}`);
  };
  if (part.length < 16 || MAGIC.some((m, i) => part[i] !== m)) fail('not a snapshot (format 1)');
  const u32 = (p: number) => ((part[p] << 24) | (part[p + 1] << 16) | (part[p + 2] << 8) | part[p + 3]) >>> 0;
  const count = u32(4);
  const dataLen = u32(8);
  if (12 + dataLen > part.length) fail('RRset bytes beyond its end');
  // First pass: check the table against the RRset bytes, so that a damaged part gives nothing rather than half a zone.
  const entries: number[] = [];
  let p = 12 + dataLen;
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (p + 2 > part.length) fail('node table cut short');
    const flags = part[p];
    const at = p;
    p += 2 + part[p + 1];
    if (flags & HAS_OWNER) p += 1 + part[p];
    if (p + 4 > part.length) fail('node table cut short');
    const len = u32(p);
    p += 4;
    // The node's RRsets must end exactly where its length says.
    let q = off;
    const end = off + len;
    if (end > dataLen || len === 0) fail('node RRsets beyond the RRset bytes');
    while (q < end) q += SET_HEADER + u32(12 + q + 8);
    if (q !== end) fail('node RRsets do not add up');
    entries.push(at, off, len);
    off = end;
  }
  if (off !== dataLen) fail('RRset bytes left over');
  if (p + 4 > part.length) fail('NSEC3 count missing');
  const nsec3Count = u32(p);
  p += 4;
  const nsec3: RR[] = [];
  for (let i = 0; i < nsec3Count; i++) {
    if (p + 1 > part.length) fail('NSEC3 records cut short');
    const ownerAt = p + 1;
    p = ownerAt + part[p];
    if (p + 10 > part.length) fail('NSEC3 records cut short');
    const type = (part[p] << 8) | part[p + 1];
    const klass = (part[p + 2] << 8) | part[p + 3];
    const ttl = u32(p + 4);
    const rdlen = (part[p + 8] << 8) | part[p + 9];
    p += 10;
    if (p + rdlen > part.length) fail('NSEC3 records cut short');
    const owner = nameFromWire(latin1(part, ownerAt, ownerAt + part[ownerAt - 1]));
    nsec3.push({ name: owner, type, class: klass, ttl, rdata: part.slice(p, p + rdlen) });
    p += rdlen;
  }
  if (p !== part.length) fail('bytes after the end');

  const data = part.slice(12, 12 + dataLen);
  for (const rr of nsec3) if (!skip?.has(wireKey(rr.name))) builder.add(rr);
  for (let i = 0; i < entries.length; i += 3) {
    let q = entries[i];
    const flags = part[q];
    const keyLen = part[q + 1];
    const key = latin1(part, q + 2, q + 2 + keyLen);
    q += 2 + keyLen;
    if (skip?.has(key)) continue;
    const owner = flags & HAS_OWNER ? latin1(part, q + 1, q + 1 + part[q]) : undefined;
    // A name outside the zone: the snapshot is not of this zone (the caller reads the rows instead).
    if (!builder.addEncoded(key, owner, flags & OWN, data, entries[i + 1], entries[i + 1] + entries[i + 2])) fail('a name outside the zone');
  }
}
