// Creating a zone from zone-file text that arrives in pieces (zone_tool load_zone of a file): the same zone, the same
// rows and the same errors as createZone with the whole text (zones.ts), without holding the zone. A 1,000,000-record
// file held as text, parsed records, checker maps and row objects took 1.9 GB; here memory follows the largest run
// of one owner's records, plus 4 bytes a record (its line, for messages), 4–8 bytes an owner (a print of its name),
// the NS/MX/SRV records whose target is in the zone (looked up at the end), and the born address records the
// automatic reverse step takes at the end (packed until then; that step holds them all).
//
// One transaction:
//  1. Pieces are parsed as they come (createZoneParser). The apex SOA goes to the ZI row as in commitVersion; with
//     use_apex_ns the apex NS records are left out. Each run of records of one owner is checked when the run ends
//     with the checker's own per-owner passes (zonefile/check.ts foldNode/checkNode, validateZone's class and target
//     rules: duplicates folded, CNAME and other data, TTLs, out-of-zone data, SOA below the apex) and its kept
//     records are written as rows of version 1 in file order (ord = place). A parse error stops the writing (the
//     parse goes on to report every error, as createZone does).
//  2. Owners whose records are scattered over several runs, and the apex (with the SOA and the server group's NS
//     records), are read back from their rows and checked whole; what the check of an earlier run left for them is
//     dropped (but its duplicate warnings, which the whole check gives alike). Targets of NS/MX/SRV records are
//     looked up in the written rows.
//  3. Problems are put in the order the whole-zone check gives them (its passes, node order = first appearance,
//     record order); any error throws ZoneValidationFailed and the transaction rolls back: nothing is left behind.
//     Otherwise the zone gets its server group's apex NS where commitVersion would add them, the rows are numbered
//     again if anything was folded late or put in front, and the version is finished as commitVersion finishes it.
//
// Errors before any record (the zone exists, unknown server group or reference) are reported after the parse, like
// createZone (which parses before it opens its transaction): a file with parse errors reports those first.
// The SQLite read of step 2 holds a cursor open between pages: nothing else may use the connection meanwhile, which
// holds for a one-shot zone_tool (the only caller that streams).

import { RRClass, RRType } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { type Tx, writeTx } from '../store/index.js';
import {
  deleteRecordRows,
  setRecordTtls,
  ownerOrderedRows,
  type RecordRowData,
  rowsEndingWith,
  renumberRows,
  servedTypesAtOwners,
  type StoredRow,
  writeRecordRows,
  writtenRows,
} from '../store/queries/versions.js';
import { updateZoneRow, type ZoneRow } from '../store/queries/zones.js';
import { type CheckReport, checkApex, checkNode, foldNode, occludedBelowDname, oneTtlPerRRset, targetProblem } from '../zonefile/check.js';
import { createZoneParser, parseName, parseTtl, ZoneFileDecoder } from '../zonefile/index.js';
import type { ServiceContext } from './context.js';
import { loadSettings } from './config.js';
import {
  classProblem,
  commitDelta,
  defaultSoa,
  dmsTarget,
  ancestorNames,
  dmsOccludedTargetProblem,
  dmsTargetProblem,
  finishLoadedVersion,
  loadSg,
  parseSoa,
  type SgRow,
  type SoaFields,
  sgApexNs,
  sgMname,
  soaRdata,
  toRowData,
} from './core.js';
import { ZoneValidationFailed, type ValidationProblem } from './errors.js';
import { normalizeZoneName } from './names.js';
import { isAddressRecord, maintainClasslessParent, type ReverseReport } from './reverse.js';
import { SNAPSHOT_MIN_RECORDS, snapshotPublishedIn } from './snapshots.js';
import type { CreateZoneOptions, ZoneInfo, ZoneRecord } from './types.js';
import { assertCreatableName, CreateContext, insertNewZone, zoneInfoById } from './zones.js';

/** Zone-file text in pieces: strings, or bytes (UTF-8, decoded across piece boundaries). */
export type ZoneTextSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export function isZoneTextSource(v: unknown): v is ZoneTextSource {
  return (
    v !== null &&
    typeof v === 'object' &&
    (typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function') &&
    typeof v !== 'string'
  );
}

export type StreamLoadOptions = Omit<CreateZoneOptions, 'text' | 'records'>;

/** Rows written per statement batch. */
const BATCH = 2000;
/** What an NS/MX/SRV target is looked up for: its addresses, or a CNAME (the checker's wording differs). */
const TARGET_TYPES = [RRType.A, RRType.AAAA, RRType.CNAME];

/** createZone for text given in pieces: see the head of this file. */
export async function loadZoneStream(
  ctx: ServiceContext,
  name: string,
  source: ZoneTextSource,
  o: StreamLoadOptions = {},
): Promise<ZoneInfo & { reverse?: ReverseReport; warnings?: ValidationProblem[] }> {
  const key = normalizeZoneName(name);
  assertCreatableName(key);
  return writeTx(ctx.store, (trx) => new StreamLoad(ctx, trx, key, o).run(source));
}

/** A problem with its place in the whole-zone check's order: pass, node (or record) position, emission order. */
interface Tagged {
  p: ValidationProblem;
  pass: number;
  at: number;
  seq: number;
  /** The owner whose run's check left it, while that owner may still turn out split. */
  owner?: string;
  /** A duplicate warning (pass 1): kept when the owner is checked again. */
  dup?: boolean;
}

interface PendingTarget {
  r: ZoneRecord;
  target: Name;
  atApex: boolean;
  /** validateZone's rule (error) rather than the checker's (warning, or error at the apex). */
  dms: boolean;
  pass: number;
  at: number;
  seq: number;
  owner?: string;
}

/** The first `$TTL` of the text (zones.ts textZoneTtl), found piece by piece: lines are cut at "\n" only. */
class TtlScan {
  private tail = '';
  value: number | undefined;
  done = false;
  push(piece: string): void {
    if (this.done) return;
    const seg = this.tail + piece;
    const cut = seg.lastIndexOf('\n');
    if (cut < 0) {
      this.tail = seg;
      return;
    }
    this.tail = seg.slice(cut + 1);
    this.scan(seg.slice(0, cut + 1));
  }
  end(): void {
    if (!this.done) this.scan(this.tail);
    this.tail = '';
  }
  private scan(text: string): void {
    const m = /^\$TTL[ \t]+([^\s;]+)/im.exec(text);
    if (!m) return;
    this.done = true;
    const t = parseTtl(m[1]);
    this.value = typeof t === 'number' ? t : undefined;
  }
}

class StreamLoad {
  private readonly origin: Name;
  private readonly file: string;
  private problems: Tagged[] = [];
  private seq = 0;
  private pending: PendingTarget[] = [];
  /** DNAME records whose owners' check asked for the names below them (looked up at the end). */
  private pendingDnames: { r: ZoneRecord; pass: number; at: number; seq: number; owner?: string }[] = [];
  /** Line of each written record, by its place (the row's ord − base). */
  private lines = new Int32Array(1 << 16);

  constructor(
    private readonly ctx: ServiceContext,
    private readonly trx: Tx,
    private readonly key: string,
    private readonly o: StreamLoadOptions,
  ) {
    this.origin = Name.parse(key);
    this.file = key; // parseText names the zone as the file; zone_tool puts the real file name in its messages
  }

  private lineAt(pos: number, line: number): void {
    if (pos >= this.lines.length) {
      const next = new Int32Array(Math.max(this.lines.length * 2, pos + 1));
      next.set(this.lines);
      this.lines = next;
    }
    this.lines[pos] = line;
  }

  async run(source: ZoneTextSource): Promise<ZoneInfo & { reverse?: ReverseReport }> {
    const { ctx, trx, key, o, origin } = this;
    const settings = await loadSettings(trx);
    const cc = new CreateContext(settings);
    // With no reference given, the file's ;!REF: flag on its SOA chooses it: known only once the SOA was read, so
    // the reference is resolved (and made) at the end, in this transaction as createZoneIn does.
    const deferRef = o.reference === undefined;
    let zone: ZoneRow | undefined;
    let sg: SgRow | undefined;
    let pre: unknown;
    try {
      zone = await insertNewZone(trx, ctx, cc, key, deferRef ? { ...o, reference: '' } : o, undefined);
      sg = await loadSg(trx, Number(zone.sg_id));
    } catch (e) {
      pre = e;
    }
    const zoneId = zone ? Number(zone.id) : 0;
    const useApexNs = zone ? zone.use_apex_ns === 1 || (zone.use_apex_ns as unknown) === true : false;
    const sgNs = sg ? sgApexNs(sg) : [];
    // Rows are numbered as commitVersion numbers finalBody: with use_apex_ns the group's NS records come first.
    const base = useApexNs ? sgNs.length : 0;
    const ipv4Ptr = settings.bool('auto_reverse_ipv4');

    // ---- 1. parse, check each owner's run, write -------------------------------------------------------------
    let soa0: ZoneRecord | undefined;
    const extraSoas: ZoneRecord[] = [];
    let fileRef: string | undefined;
    let sawApexNs = false;
    /** Rows written so far: the next row's place (its ord is base + place). */
    let n = 0;
    let batch: (RecordRowData & { ord: number })[] = [];
    const addresses = new AddressList(origin);
    const droppedIds: number[] = [];
    const droppedPos = new Set<number>();
    const droppedVirtual = new Set<ZoneRecord>();
    const originKey = origin.key;
    const writing = () => zone !== undefined && parser.errors === 0;
    const write = (r: ZoneRecord): number => {
      const pos = n++;
      this.lineAt(pos, r.line ?? 0);
      if (wantsPtr(r, ipv4Ptr)) addresses.add(pos, r);
      const d = toRowData(r) as RecordRowData & { ord: number };
      d.ord = base + pos;
      batch.push(d);
      return pos;
    };

    /**
     * One owner's records through the checker's per-owner passes (`poss`: each record's place in the checker's input;
     * `ids`: its row, −1 for a record not written yet or not at all). `owner` tags what the check leaves behind
     * while the owner may still turn out split (see below). Returns the records it folded away.
     */
    const checkOwner = (recs: ZoneRecord[], poss: number[] | { first: number }, ids: number[] | undefined, owner?: string): Set<ZoneRecord> => {
      const atApex = recs[0].name.equals(origin);
      let place = Array.isArray(poss) ? 0 : poss.first;
      const posOf = Array.isArray(poss) ? (i: number) => poss[i] : () => place++;
      const nodeAt = Array.isArray(poss) ? poss[0] : poss.first;
      const dropped = new Set<ZoneRecord>();
      const served = foldNode(origin, recs, dropped, this.reporter(1, nodeAt, owner));
      if (atApex) checkApex(origin, served.length > 0 ? served : undefined, this.reporter(2, 0));
      if (served.length > 0)
        checkNode(
          origin,
          served,
          atApex,
          this.reporter(3, nodeAt, owner),
          (r, target, apex) => {
            this.pending.push({ r, target, atApex: apex, dms: false, pass: 3, at: nodeAt, seq: this.seq++, owner });
          },
          (r) => {
            this.pendingDnames.push({ r, pass: 3, at: nodeAt, seq: this.seq++, owner });
          },
        );
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i];
        if (dropped.has(r)) {
          const id = ids?.[i] ?? -1;
          if (id >= 0) {
            droppedIds.push(id);
            droppedPos.add(posOf(i));
          } else if (ids) droppedVirtual.add(r);
          continue;
        }
        const at = posOf(i);
        const cp = classProblem(r);
        if (cp) this.problems.push({ p: cp, pass: 4, at, seq: this.seq++, owner });
        const target = dmsTarget(origin, r);
        if (target) this.pending.push({ r, target, atApex, dms: true, pass: 4, at, seq: this.seq++, owner });
      }
      return dropped;
    };

    // An owner whose records come together in the file (one run) is checked when its run ends, before its rows are
    // written (folded duplicates are never written). An owner whose records come in several runs is written as it
    // comes and checked at the end from all its rows; what the check of its first run left (problems, targets) is
    // then dropped, except the duplicate warnings, which the whole check would give alike. Runs seen are
    // remembered by a 32-bit print of the owner key (4–8 bytes an owner): a print seen before marks the owner, which
    // at worst (two keys, one print) checks a contiguous owner at the end. The apex is always checked at the end
    // (the SOA and the group's NS records join it there). Past streamLoadLimits.splitMax marked owners every owner
    // is checked at the end, from all rows read back by owner.
    const prints = new KeyPrints();
    const runTtlFixes: { owner: string; ord: number; ttl: number }[] = [];
    const split = new Set<string>([originKey]);
    let allSplit = false;
    let run: ZoneRecord[] = [];
    let runKey: string | undefined;
    const endRun = () => {
      if (runKey === undefined) return;
      const recs = run;
      const k = runKey;
      run = [];
      runKey = undefined;
      if (!allSplit && prints.add(k) && !split.has(k)) {
        split.add(k);
        if (split.size > streamLoadLimits.splitMax) allSplit = true;
      }
      if (allSplit || split.has(k)) {
        for (const r of recs) write(r);
        return;
      }
      // Checked first: the kept records then take consecutive places from n on, as the check numbered them.
      const dropped = checkOwner(recs, { first: n }, undefined, k);
      // One TTL per RRset, as checkZone gives a whole load's records: set at the end (the rows are written as given,
      // so that the owner's check at the end, should it turn out split, sees them so).
      const kept = recs.filter((r) => !dropped.has(r));
      const one = oneTtlPerRRset(kept);
      kept.forEach((r, i) => {
        const pos = write(r);
        if (one[i].ttl !== r.ttl) runTtlFixes.push({ owner: k, ord: base + pos, ttl: one[i].ttl });
      });
    };
    const onRecord = (r: ZoneRecord) => {
      if (r.type === RRType.SOA) {
        if (fileRef === undefined && r.flags?.ref) fileRef = r.flags.ref;
        if (r.name.equals(origin)) {
          if (soa0 === undefined) soa0 = r;
          else extraSoas.push(r);
          return;
        }
      }
      if (!writing()) return;
      if (r.type === RRType.NS && r.name.equals(origin)) {
        if (useApexNs) return; // replaced by the server group's
        sawApexNs = true;
      }
      const k = r.name.key;
      if (k !== runKey) {
        endRun();
        runKey = k;
      }
      run.push(r);
    };
    const parser = createZoneParser({ origin, file: this.file, onRecord });
    const ttl = new TtlScan();
    const flush = async () => {
      if (batch.length === 0) return;
      if (writing()) await writeRecordRows(trx, ctx.store, zoneId, 1, [], batch);
      batch = [];
    };
    const decoder = new ZoneFileDecoder();
    for await (const piece of source as AsyncIterable<string | Uint8Array>) {
      const text = typeof piece === 'string' ? piece : decoder.push(piece);
      if (o.zoneTtl === undefined) ttl.push(text);
      parser.push(text);
      if (batch.length >= BATCH) await flush();
    }
    const last = decoder.end();
    if (last) {
      ttl.push(last);
      parser.push(last);
    }
    ttl.end();
    const parsed = parser.end();
    if (parsed.problems.some((p) => p.severity === 'error'))
      throw new ZoneValidationFailed(
        key,
        parsed.problems.map((p) => ({ message: p.message, severity: p.severity, file: p.file, line: p.line, column: p.column })),
      );
    if (pre !== undefined || !zone || !sg) throw pre;
    endRun();

    // The SOA and the zone's default TTL as commitVersion takes them.
    let soa: SoaFields;
    let proposedSerial: number | undefined;
    if (soa0) {
      try {
        const p = parseSoa(soa0.rdata, soa0.ttl);
        proposedSerial = p.serial;
        soa = { mname: p.mname, rname: p.rname, refresh: p.refresh, retry: p.retry, expire: p.expire, minimum: p.minimum, ttl: soa0.ttl };
      } catch {
        throw new ZoneValidationFailed(key, [{ severity: 'error', message: 'malformed SOA RDATA', type: 'SOA' }]);
      }
    } else soa = { ...defaultSoa(settings, sg) };
    const zoneTtl = o.zoneTtl ?? ttl.value ?? settings.ttl('zone_ttl');
    if (soa.ttl === zoneTtl) soa.ttl = null;
    if (useApexNs) soa.mname = sgMname(sg, settings);
    // A new zone given no apex NS starts with its server group's (always with use_apex_ns), in front of the rest.
    const prepend = useApexNs || !sawApexNs;
    const sgRecords: ZoneRecord[] = prepend
      ? sgNs.map((ns) => ({ name: origin, type: RRType.NS, class: RRClass.IN, ttl: zoneTtl, rdata: Name.from(ns).toWire() }))
      : [];
    const soaForCheck: ZoneRecord = {
      name: origin,
      type: RRType.SOA,
      class: RRClass.IN,
      ttl: soa.ttl ?? zoneTtl,
      rdata: soaRdata(soa, 0),
      ...(soa0?.line ? { line: soa0.line, file: soa0.file } : {}),
    };
    // Extra apex SOAs go after everything, as commitVersion appends them for the checker to refuse.
    for (const r of extraSoas) write(r);
    await flush();

    // ---- 2. the owners checked at the end --------------------------------------------------------------------------
    // What the checks of runs of owners that turned out split left behind goes (all of it when every owner is
    // checked again), but for the duplicate warnings.
    const again = (owner: string | undefined) => owner !== undefined && (allSplit || split.has(owner));
    this.problems = this.problems.filter((t) => t.dup || !again(t.owner));
    this.pending = this.pending.filter((t) => !again(t.owner));
    this.pendingDnames = this.pendingDnames.filter((t) => !again(t.owner));
    // The checker's input order: the SOA, the group's NS records when put in front, then the written rows.
    const virtual: { r: ZoneRecord; pos: number }[] = [
      { r: soaForCheck, pos: -sgRecords.length - 1 },
      ...sgRecords.map((r, i) => ({ r, pos: -sgRecords.length + i })),
    ];
    let apexSeen = false;
    const ttlFixes: { id: number; ttl: number }[] = [];
    let recs: ZoneRecord[] = [];
    let poss: number[] = [];
    let ids: number[] = [];
    let groupKey: string | undefined;
    let lastOwner = '';
    let lastName = origin;
    const endGroup = () => {
      if (groupKey === undefined) return;
      if (groupKey === originKey) {
        apexSeen = true;
        recs = [...virtual.map((v) => v.r), ...recs];
        poss = [...virtual.map((v) => v.pos), ...poss];
        ids = [...virtual.map(() => -1), ...ids];
      }
      const dropped = checkOwner(recs, poss, ids);
      // One TTL per RRset, as checkZone gives a whole load's records: the rows written with another TTL get it.
      const kept = recs.map((r, i) => ({ r, id: ids[i] })).filter((x) => !dropped.has(x.r));
      oneTtlPerRRset(kept.map((x) => x.r)).forEach((r, i) => {
        if (r.ttl !== kept[i].r.ttl && kept[i].id >= 0) ttlFixes.push({ id: kept[i].id, ttl: r.ttl });
      });
      recs = [];
      poss = [];
      ids = [];
    };
    const pages = allSplit ? ownerOrderedRows(ctx.store, trx, zoneId, 1) : writtenRows(trx, zoneId, 1, [...split]);
    for await (const page of pages) {
      for (const row of page) {
        if (row.owner_key !== groupKey) {
          endGroup();
          groupKey = row.owner_key;
        }
        if (row.owner !== lastOwner) {
          lastOwner = row.owner;
          lastName = Name.parse(row.owner);
        }
        const pos = Number(row.ord) - base;
        recs.push(this.recordOf(row, lastName, this.lines[pos]));
        poss.push(pos);
        ids.push(Number(row.id));
      }
    }
    endGroup();
    if (!apexSeen) {
      groupKey = originKey;
      endGroup();
    }
    const kept = n - droppedIds.length;

    // Targets: looked up among the written rows (served A/AAAA/CNAME), then judged as the checkers judge them.
    if (this.pending.length > 0) {
      const keys = [...new Set(this.pending.map((p) => p.target.key))];
      const found = await servedTypesAtOwners(trx, zoneId, keys, TARGET_TYPES);
      const addr = new Set<string>();
      const cname = new Set<string>();
      for (const f of found) (f.type === RRType.CNAME ? cname : addr).add(f.owner_key);
      // DMS's rule also counts a target below a DNAME as without addresses (they are occluded): its ancestors' DNAMEs.
      const dmsPending = this.pending.filter((p) => p.dms && addr.has(p.target.key));
      const above = dmsPending.length === 0 ? [] : [...new Set(dmsPending.flatMap((p) => ancestorNames(origin, p.target).map((a) => a.key)))];
      const dnames = new Set(above.length === 0 ? [] : (await servedTypesAtOwners(trx, zoneId, above, [RRType.DNAME])).map((f) => f.owner_key));
      for (const p of this.pending) {
        if (addr.has(p.target.key)) {
          const d = p.dms && dnames.size > 0 ? ancestorNames(origin, p.target).find((a) => dnames.has(a.key)) : undefined;
          if (d) this.problems.push({ p: dmsOccludedTargetProblem(p.r, p.target, d), pass: p.pass, at: p.at, seq: p.seq });
          continue;
        }
        if (p.dms) this.problems.push({ p: dmsTargetProblem(p.r, p.target, cname.has(p.target.key)), pass: p.pass, at: p.at, seq: p.seq });
        else targetProblem(p.r, p.target, p.atApex, cname.has(p.target.key), this.reporter(p.pass, p.at, undefined, p.seq));
      }
      this.pending = [];
    }

    // Names below a DNAME: read from the written rows (only a zone with a DNAME pays for it), each owner placed where
    // the whole check meets it (its first record) and named as its first served record spells it.
    for (const d of this.pendingDnames) {
      // Rows come in place order: an owner's first row is where the whole check meets it.
      const owners = new Map<string, { served?: string }>();
      for (const row of await rowsEndingWith(trx, zoneId, d.r.name.key)) {
        let o = owners.get(row.owner_key);
        if (!o) owners.set(row.owner_key, (o = {}));
        if (!row.disabled) o.served ??= row.owner;
      }
      let first: string | undefined;
      let count = 0;
      for (const [ownerKey, o] of owners) {
        if (o.served === undefined || !Name.parse(ownerKey).isSubdomainOf(d.r.name)) continue;
        count++;
        first ??= o.served;
      }
      if (first !== undefined) occludedBelowDname(d.r, Name.parse(first), count, this.reporter(d.pass, d.at, undefined, d.seq));
    }
    this.pendingDnames = [];

    // ---- 3. verdict, then the version ------------------------------------------------------------------------------
    if (this.problems.some((t) => t.p.severity === 'error')) {
      this.problems.sort((a, b) => a.pass - b.pass || a.at - b.at || a.seq - b.seq);
      throw new ZoneValidationFailed(key, this.problems.map((t) => t.p));
    }
    // The TTL fixes of owners checked in one run (an owner that turned out split, or every owner past splitMax, was
    // checked again at the end: its fixes are those of that check), before the rows are numbered again.
    const runFixes = allSplit ? [] : runTtlFixes.filter((f) => !split.has(f.owner)).map(({ ord, ttl }) => ({ ord, ttl }));
    await setRecordTtls(trx, zoneId, 1, [...runFixes, ...ttlFixes]);
    await deleteRecordRows(trx, droppedIds);
    const sgRows = sgRecords.filter((r) => !droppedVirtual.has(r));
    // In front: ords below the first row's (0 with use_apex_ns, whose rows start at the group's count).
    const front = sgRows.map((r, i) => {
      const d = toRowData(r) as RecordRowData & { ord: number };
      d.ord = base - sgRows.length + i;
      return d;
    });
    if (front.length > 0) await writeRecordRows(trx, ctx.store, zoneId, 1, [], front);
    if (droppedIds.length > 0 || droppedVirtual.size > 0 || (sgRows.length > 0 && !useApexNs)) await renumberRows(trx, zoneId, 1);

    if (deferRef) {
      const r = await cc.resolve(trx, ctx, o, fileRef);
      if (r.refId !== null) {
        await updateZoneRow(trx, zoneId, { reference_id: r.refId });
        zone = { ...zone, reference_id: r.refId };
      }
    }
    // Made a chunk at a time as the reverse step takes them (a million AAAA records are never objects all at once).
    const bornAddressRecords = { size: addresses.size, chunks: () => addresses.chunks(droppedPos) };
    const result = await finishLoadedVersion(trx, ctx, zone, settings, {
      soa,
      proposedSerial,
      zoneTtl,
      born: kept + sgRows.length,
      bornAddressRecords,
      comment: o.comment ?? null,
      publish: !o.inhibitPublish,
      now: ctx.clock.now(),
    });
    // A large zone: its snapshot too, so that dmsd's next start reads it at memory speed (services/snapshots.ts).
    if (kept + sgRows.length >= SNAPSHOT_MIN_RECORDS && !o.inhibitPublish) await snapshotPublishedIn(trx, ctx, zoneId, key);
    // RFC 2317: a classless reverse zone gets its delegation and CNAMEs in the parent /24 (and a /24 its children's).
    await maintainClasslessParent(trx, ctx, result.zoneRow, 'create', { commit: commitDelta, settings: async () => cc.settings });
    const info = await zoneInfoById(trx, ctx, zoneId);
    // The warnings as the whole-text load gives them (createZone): in the whole check's order.
    const warnings = this.problems.sort((x, y) => x.pass - y.pass || x.at - y.at || x.seq - y.seq).map((t) => t.p).filter((p) => p.severity === 'warning');
    return { ...info, ...(result.reverse ? { reverse: result.reverse } : {}), ...(warnings.length > 0 ? { warnings } : {}) };
  }

  /** A checker's report, kept with its place in the whole-zone order (validateZone's shape of the problem). */
  private reporter(pass: number, at: number, owner?: string, seq?: number): CheckReport {
    return (r, severity, message) => {
      const line = r?.line ?? 0;
      const p: ValidationProblem = { message, severity, ...(line ? { line, column: 1, file: r?.file ?? '<zone>' } : {}) };
      this.problems.push({ p, pass, at, seq: seq ?? this.seq++, owner, dup: pass === 1 && severity === 'warning' });
    };
  }

  /** A written row as the record the checker saw (the same name, data, flags, file and line). */
  private recordOf(row: StoredRow, name: Name, line: number): ZoneRecord {
    const rec: ZoneRecord = { name, type: row.type, class: row.rclass, ttl: Number(row.ttl), rdata: row.rdata };
    if (row.comment !== null) rec.comment = row.comment;
    if (row.group_comment !== null) rec.group = row.group_comment;
    if (row.flags !== null) rec.flags = JSON.parse(row.flags);
    if (line) {
      rec.file = this.file;
      rec.line = line;
    }
    return rec;
  }
}

/** Owners marked as split before every owner is checked the slow way (all rows read back in owner order). */
export const streamLoadLimits = { splitMax: 20_000 };

/** A set of 32-bit prints of strings (FNV-1a), open addressing: remembers that a key was seen, in 4–8 bytes. */
class KeyPrints {
  private t = new Uint32Array(1 << 12);
  private n = 0;
  /** Add the key's print; true when the print was there already. */
  add(key: string): boolean {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = h >>> 0 || 1;
    if ((this.n + 1) * 2 > this.t.length) this.grow();
    const mask = this.t.length - 1;
    let i = h & mask;
    while (this.t[i] !== 0) {
      if (this.t[i] === h) return true;
      i = (i + 1) & mask;
    }
    this.t[i] = h;
    this.n++;
    return false;
  }
  private grow(): void {
    const old = this.t;
    this.t = new Uint32Array(old.length * 2);
    const mask = this.t.length - 1;
    for (const h of old) {
      if (h === 0) continue;
      let i = h & mask;
      while (this.t[i] !== 0) i = (i + 1) & mask;
      this.t[i] = h;
    }
  }
}

/** Records per chunk handed to the reverse step (reverse.ts drops the intents no reverse zone holds per chunk). */
const ADDRESS_CHUNK = 8192;

/**
 * The born address records the reverse step will want, packed (owner text, type, TTL, address, flags when any):
 * some 60 bytes each instead of the parsed record with its name and views (about a kilobyte each, measured with a
 * third of a million AAAA records), made into records a chunk at a time as the step takes them.
 */
class AddressList {
  /** Owners below the origin are kept relative to it and made again with the origin's labels shared, as parsed. */
  private readonly suffix: string;
  constructor(private readonly origin: Name) {
    this.suffix = `.${origin.toString()}`;
  }
  private owners: string[] = [];
  private pos = new Int32Array(1024);
  private ttl = new Uint32Array(1024);
  private v6 = new Uint8Array(1024);
  private bytes = new Uint8Array(16 * 1024);
  private flags = new Map<number, ZoneRecord['flags']>();
  add(pos: number, r: ZoneRecord): void {
    const i = this.owners.length;
    if (i === this.pos.length) this.grow();
    const text = r.name.toString();
    const relative = text.length > this.suffix.length && text.endsWith(this.suffix) && !text.includes('\\');
    this.owners.push(relative ? text.slice(0, -this.suffix.length) : text);
    this.pos[i] = pos;
    this.ttl[i] = r.ttl;
    this.v6[i] = r.type === RRType.AAAA ? 1 : 0;
    this.bytes.set(r.rdata, i * 16);
    if (r.flags) this.flags.set(i, r.flags);
  }
  /** How many were added (those folded away later included). */
  get size(): number {
    return this.owners.length;
  }
  /** The records, in the order they came, but those at the places given (folded away later), ADDRESS_CHUNK at a time. */
  *chunks(without: ReadonlySet<number>): Iterable<ZoneRecord[]> {
    let out: ZoneRecord[] = [];
    for (let i = 0; i < this.owners.length; i++) {
      if (without.has(this.pos[i])) continue;
      if (out.length === ADDRESS_CHUNK) {
        yield out;
        out = [];
      }
      const v6 = this.v6[i] === 1;
      const rec: ZoneRecord = {
        name: parseName(this.owners[i], this.origin),
        type: v6 ? RRType.AAAA : RRType.A,
        class: RRClass.IN,
        ttl: this.ttl[i],
        rdata: this.bytes.slice(i * 16, i * 16 + (v6 ? 16 : 4)),
      };
      const f = this.flags.get(i);
      if (f) rec.flags = f;
      out.push(rec);
    }
    if (out.length > 0) yield out;
  }
  private grow(): void {
    const n = this.pos.length * 2;
    const pos = new Int32Array(n);
    pos.set(this.pos);
    this.pos = pos;
    const ttl = new Uint32Array(n);
    ttl.set(this.ttl);
    this.ttl = ttl;
    const v6 = new Uint8Array(n);
    v6.set(this.v6);
    this.v6 = v6;
    const bytes = new Uint8Array(n * 16);
    bytes.set(this.bytes);
    this.bytes = bytes;
  }
}

/** A born address record the automatic reverse step would act on (reverse.ts intentsOf); the rest are not kept. */
function wantsPtr(r: ZoneRecord, ipv4: boolean): boolean {
  if (!isAddressRecord(r) || r.flags?.disable || r.rdata.length !== (r.type === RRType.A ? 4 : 16)) return false;
  return r.type === RRType.AAAA || ipv4 || r.flags?.forceRev === true || r.flags?.trackRev === true;
}
