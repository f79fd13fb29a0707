// RFC 1035 §5 master-file parser with the BIND extensions operators expect ($TTL, TTL units, $GENERATE) and the DMS
// comment conventions (;| group, ;# record comment, ;! record flags). Pure: $INCLUDE text comes from a callback.
// Never throws on bad input: every problem comes back with file, line and column, and parsing goes on with the next
// entry so that one run reports all errors (up to maxErrors).

import { classFromString, classToString, isMetaType, RRClass, RRType, typeFromString, typeToString } from '../dns/constants.js';
import { parseIpv4Into, parseIpv6Into } from '../dns/address.js';
import { TextError } from '../dns/errors.js';
import { Name } from '../dns/name.js';
import { rdataFromText, type Token } from '../dns/rdata.js';
import { parseRange, rangeCount, Template } from './generate.js';
import { Entry, Lexer, PlainLine } from './lexer.js';
import { looksLikeTtl, parseTtl } from './ttl.js';
import type { ParseOptions, ParseResult, RecordSink, RRFlags, ZoneFileProblem, ZoneRecord } from './types.js';

const MAX_INCLUDE_DEPTH = 16;
/** Includes per parse: with the depth limit alone, a file including itself twice per level would be read 2^16 times. */
const MAX_INCLUDES = 1000;

interface State {
  origin: Name | undefined;
  /** $TTL (or the defaultTtl option). */
  dollarTtl: number | undefined;
  /** Last TTL written on a record: RFC 1035 semantics when there is no $TTL. */
  lastTtl: number | undefined;
  zoneClass: number | undefined;
  /** The last owner written (read it with prevOwnerOf: the fast path leaves it to be parsed when asked for). */
  prevOwner: Name | undefined;
  /** The owner text prevOwner was parsed from and the origin it was parsed against (a repeated owner is not parsed again). */
  prevOwnerText: string | undefined;
  prevOwnerOrigin: Name | undefined;
  /** prevOwner is prevOwnerText under prevOwnerOrigin, not parsed yet (the fast path took the owner as its key only). */
  prevOwnerPending: boolean;
  /** The key and original-case wire form (RecordSink) of the last owner, when the fast path made them; else undefined. */
  prevKey: string | undefined;
  prevWire: string | undefined;
  /** $ORIGIN changed since the last record (an inherited owner right after it is probably a mistake). */
  originChanged: boolean;
  group: string | undefined;
  groupHasRecords: boolean;
  pendingComment: string | undefined;
  pendingFlags: RRFlags | undefined;
  records: ZoneRecord[];
  /** Receives each record instead of `records` (ParseOptions.onRecord). */
  onRecord: ((rec: ZoneRecord) => void) | undefined;
  sink: RecordSink | undefined;
  problems: ZoneFileProblem[];
  errors: number;
  maxErrors: number;
  generateLimit: number;
  stopped: boolean;
  include: ParseOptions['include'];
  depth: number;
  includes: number;
  /** ParseOptions.updateFile. */
  updateFile: boolean;
  updateType: string | undefined;
}

/** Parse master-file text. Records with errors are left out; all problems are returned. */
export function parseZoneText(text: string, opts: ParseOptions = {}): ParseResult {
  const st = newState(opts);
  parseInto(text, opts.file ?? '<input>', st);
  return finish(st, opts);
}

/** A parse fed piece by piece (ZoneTextParser.push), for input too large to hold as one string. */
export interface ZoneTextParser {
  /** The next piece of the text; pieces may be cut anywhere (inside a line, an entry, a comment). */
  push(piece: string): void;
  /** The end of the text: the result, exactly what parseZoneText gives for the concatenated pieces. */
  end(): ParseResult;
  /** True once maxErrors was reached: the rest of the input would not be looked at. */
  readonly stopped: boolean;
  /** Errors reported so far. */
  readonly errors: number;
}

/**
 * Incremental parsing: the same entries, records and problems as parseZoneText on the whole text, fed in pieces.
 * Only the unfinished last entry of a piece is kept (and lexed again with the next piece), so memory follows the
 * longest entry, not the file. Give `onRecord` to receive records as they come.
 */
export function createZoneParser(opts: ParseOptions = {}): ZoneTextParser {
  const st = newState(opts);
  const file = opts.file ?? '<input>';
  let rest = '';
  let line = 1;
  let ended = false;
  const run = (text: string, final: boolean) => {
    const lexer = new Lexer(text, line, final);
    runLexer(lexer, file, st);
    rest = st.stopped ? '' : text.slice(lexer.pos);
    line = lexer.lineNo;
  };
  return {
    push(piece: string) {
      if (ended) throw new Error('createZoneParser: push after end');
      if (st.stopped || piece.length === 0) return;
      run(rest + piece, false);
    },
    end() {
      if (!ended) {
        ended = true;
        if (!st.stopped && rest.length > 0) run(rest, true);
      }
      return finish(st, opts);
    },
    get stopped() {
      return st.stopped;
    },
    get errors() {
      return st.errors;
    },
  };
}

function finish(st: State, opts: ParseOptions): ParseResult {
  if (!st.stopped && (st.pendingComment !== undefined || st.pendingFlags !== undefined)) {
    warn(st, opts.file ?? '<input>', 0, 0, 'a ";#" comment or ";!" flags line at the end is not followed by a record');
  }
  return { records: st.records, problems: st.problems, origin: st.origin, ...(st.updateType === undefined ? {} : { updateType: st.updateType }) };
}

function newState(opts: ParseOptions): State {
  return {
    origin: opts.origin,
    dollarTtl: opts.defaultTtl,
    lastTtl: undefined,
    zoneClass: undefined,
    prevOwner: undefined,
    prevOwnerText: undefined,
    prevOwnerOrigin: undefined,
    prevOwnerPending: false,
    prevKey: undefined,
    prevWire: undefined,
    originChanged: false,
    group: undefined,
    groupHasRecords: false,
    pendingComment: undefined,
    pendingFlags: undefined,
    records: [],
    onRecord: opts.onRecord,
    sink: opts.onRecord !== undefined ? opts.sink : undefined,
    problems: [],
    errors: 0,
    maxErrors: opts.maxErrors ?? 50,
    generateLimit: opts.generateLimit ?? 65536,
    stopped: false,
    include: opts.include,
    depth: 0,
    includes: 0,
    updateFile: opts.updateFile ?? false,
    updateType: undefined,
  };
}

/** "file:line:column: severity: message", the usual compiler form. */
export function formatProblem(p: ZoneFileProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.severity}: ${p.message}`;
}

function error(st: State, file: string, line: number, column: number, message: string): void {
  if (st.stopped) return;
  st.problems.push({ file, line, column, message, severity: 'error' });
  st.errors++;
  if (st.errors >= st.maxErrors) {
    st.stopped = true;
    st.problems.push({
      file, line, column, severity: 'error',
      message: `too many errors (limit ${st.maxErrors}); stopped reading here`,
    });
  }
}

function warn(st: State, file: string, line: number, column: number, message: string): void {
  st.problems.push({ file, line, column, message, severity: 'warning' });
}

function parseInto(text: string, file: string, st: State): void {
  runLexer(new Lexer(text), file, st);
}

function runLexer(lexer: Lexer, file: string, st: State): void {
  const e = new Entry();
  const plain = new PlainLine();
  while (!st.stopped) {
    if (lexer.scanPlain(plain) && fastRecord(st, file, lexer.text, plain, lexer.lineNo)) {
      lexer.takePlain(plain);
      continue;
    }
    if (!lexer.next(e)) break;
    if (e.error) {
      error(st, file, e.error.line, e.error.column, e.error.message);
      if (e.tokens.length > 0) consumePending(st);
      continue;
    }
    if (e.tokens.length === 0) {
      if (e.comment !== undefined) dmsComment(st, file, e);
      continue;
    }
    const t0 = e.tokens[0];
    if (!e.blankStart && !t0.quoted && t0.text.charCodeAt(0) === 0x24) directive(st, file, e);
    else record(st, file, e);
  }
}

// ---- DMS comments ----

function dmsComment(st: State, file: string, e: Entry): void {
  const c = e.comment as string;
  const kind = c.charCodeAt(0);
  if (kind === 0x7c) {
    // ;| starts a group; consecutive ;| lines before any record make one multi-line group comment.
    const text = c.slice(1).trim();
    if (st.group !== undefined && !st.groupHasRecords) st.group += `\n${text}`;
    else st.group = text;
    st.groupHasRecords = false;
  } else if (kind === 0x23) {
    const text = c.slice(1).trim();
    st.pendingComment = st.pendingComment === undefined ? text : `${st.pendingComment}\n${text}`;
  } else if (kind === 0x21) {
    parseFlags(st, file, e.commentLine, e.commentCol + 2, c.slice(1));
  }
}

function parseFlags(st: State, file: string, line: number, col: number, text: string): void {
  const flags: RRFlags = st.pendingFlags ?? {};
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && text[i] !== ' ' && text[i] !== '\t') i++;
    const word = text.slice(start, i);
    const upper = word.toUpperCase();
    if (upper === 'LOCKPTR') flags.lockPtr = true;
    else if (upper === 'FORCEREV') flags.forceRev = true;
    else if (upper === 'TRACKREV') flags.trackRev = true;
    else if (upper === 'DISABLE') flags.disable = true;
    else if (upper.startsWith('REF:') && word.length > 4) flags.ref = word.slice(4);
    else if (upper === 'RROP:ADD' || upper === 'RROP:DELETE' || upper === 'RROP:UPDATE_RRTYPE')
      flags.rrop = upper.slice(5) as RRFlags['rrop'];
    else
      warn(st, file, line, col + start,
        `unknown RR flag "${word}" ignored (expected LOCKPTR, FORCEREV, TRACKREV, DISABLE, REF:<reference> or RROP:ADD|DELETE|UPDATE_RRTYPE)`);
  }
  // A line with only unknown words gives no flags at all (not an empty set), so output and input compare equal.
  if (Object.keys(flags).length > 0) st.pendingFlags = flags;
}

function consumePending(st: State): { comment: string | undefined; flags: RRFlags | undefined } {
  const r = { comment: st.pendingComment, flags: st.pendingFlags };
  st.pendingComment = undefined;
  st.pendingFlags = undefined;
  return r;
}

// ---- names ----

// Owner labels and RDATA are carved out of shared 16 KiB ArrayBuffers: a separate ArrayBuffer per small Uint8Array
// costs ~90 bytes plus a native backing store that the GC must track, which dominated the load time of a million-record
// zone. Views are never resized, and consumers use byteOffset/length (never .buffer alone), so sharing is safe.
const SLAB_SIZE = 16384;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function slabBytes(len: number): Uint8Array {
  if (len > 1024) return new Uint8Array(len);
  if (slabUsed + len > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, len);
  slabUsed += len;
  return out;
}

/** Copy into slab memory (see slabBytes). */
function slabCopy(src: Uint8Array): Uint8Array {
  if (src.length > 1024) return src;
  const out = slabBytes(src.length);
  out.set(src);
  return out;
}

/** Owner/directive name parse (Name.parse, with the zone file's wording for a missing origin). Throws TextError. */
export function parseName(text: string, origin: Name | undefined): Name {
  if (text === '@') {
    if (!origin) throw new TextError('expected an origin for "@" ($ORIGIN or the origin option)');
    return origin;
  }
  if (!origin && text !== '.' && text.charCodeAt(text.length - 1) !== 0x2e && text.indexOf('\\') < 0)
    throw new TextError(`expected an origin for the relative name "${text}" ($ORIGIN or the origin option)`);
  return Name.parse(text, origin);
}

// ---- directives ----

function directive(st: State, file: string, e: Entry): void {
  const toks = e.tokens;
  const word = toks[0].text.toUpperCase();
  const at = (i: number): [number, number] => (i < toks.length ? [e.lines[i], e.cols[i]] : endOf(e));
  switch (word) {
    case '$ORIGIN': {
      if (toks.length !== 2) {
        const [l, c] = at(toks.length > 2 ? 2 : 1);
        error(st, file, l, c, toks.length > 2 ? 'expected only one name after $ORIGIN' : 'expected a domain name after $ORIGIN');
        return;
      }
      try {
        st.origin = parseName(toks[1].text, st.origin);
        st.originChanged = true;
      } catch (err) {
        error(st, file, e.lines[1], e.cols[1], `bad $ORIGIN: ${msg(err)}`);
      }
      return;
    }
    case '$TTL': {
      if (toks.length !== 2) {
        const [l, c] = at(toks.length > 2 ? 2 : 1);
        error(st, file, l, c, toks.length > 2 ? 'expected only one TTL after $TTL' : 'expected a TTL after $TTL');
        return;
      }
      const v = parseTtl(toks[1].text);
      if (typeof v === 'string') error(st, file, e.lines[1], e.cols[1], v);
      else st.dollarTtl = v;
      return;
    }
    case '$INCLUDE':
      include(st, file, e);
      return;
    case '$GENERATE':
      generate(st, file, e);
      return;
    case '$UPDATE_TYPE':
      // The original DMS's update files name the kind of update (one of each kind queued per zone there).
      if (st.updateFile) {
        if (toks.length !== 2) {
          const [l, c] = at(toks.length > 2 ? 2 : 1);
          error(st, file, l, c, toks.length > 2 ? 'expected only one word after $UPDATE_TYPE' : 'expected the update type after $UPDATE_TYPE');
        } else st.updateType = toks[1].text;
        return;
      }
      error(st, file, e.lines[0], e.cols[0], '$UPDATE_TYPE belongs in an update file (zone_tool update_rrs), not a zone file');
      return;
    default:
      error(st, file, e.lines[0], e.cols[0],
        `unknown directive "${toks[0].text}" (expected $ORIGIN, $TTL, $INCLUDE or $GENERATE)`);
  }
}

function include(st: State, file: string, e: Entry): void {
  const toks = e.tokens;
  if (toks.length < 2 || toks.length > 3) {
    const [l, c] = toks.length < 2 ? endOf(e) : [e.lines[3], e.cols[3]];
    error(st, file, l, c, toks.length < 2 ? 'expected a file name after $INCLUDE' : 'expected "$INCLUDE file [origin]"');
    return;
  }
  if (!st.include) {
    error(st, file, e.lines[0], e.cols[0], '$INCLUDE is not allowed here (no include handler was given)');
    return;
  }
  if (st.depth >= MAX_INCLUDE_DEPTH) {
    error(st, file, e.lines[0], e.cols[0], `$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep (include loop?)`);
    return;
  }
  if (st.includes >= MAX_INCLUDES) {
    error(st, file, e.lines[0], e.cols[0], `more than ${MAX_INCLUDES} $INCLUDEs in one zone`);
    return;
  }
  st.includes++;
  let origin = st.origin;
  if (toks.length === 3) {
    try {
      origin = parseName(toks[2].text, st.origin);
    } catch (err) {
      error(st, file, e.lines[2], e.cols[2], `bad $INCLUDE origin: ${msg(err)}`);
      return;
    }
  }
  const path = toks[1].text;
  let text: string;
  try {
    text = st.include(path, file);
  } catch (err) {
    error(st, file, e.lines[1], e.cols[1], `cannot include "${path}": ${msg(err)}`);
    return;
  }
  // RFC 1035 §5.1: an $INCLUDE origin applies to the included file only.
  const savedOrigin = st.origin;
  st.origin = origin;
  st.depth++;
  parseInto(text, path, st);
  st.depth--;
  st.origin = savedOrigin;
}

// ---- records ----

interface Head {
  ttl: number | undefined;
  klass: number | undefined;
  type: number;
  /** Index of the type token. */
  typeAt: number;
}

/** Read `[ttl] [class] type` (TTL and class in either order) from token i on; undefined after reporting an error. */
/** readHead() fills this one object (no allocation per record); callers copy what they keep. */
const headScratch: Head = { ttl: undefined, klass: undefined, type: 0, typeAt: 0 };

function readHead(st: State, file: string, e: Entry, i: number, deleting = false): Head | undefined {
  const toks = e.tokens;
  let ttl: number | undefined;
  let klass: number | undefined;
  for (;;) {
    if (i >= toks.length) {
      const [l, c] = endOf(e);
      error(st, file, l, c, 'expected an RR type (with optional TTL and class before it)');
      return undefined;
    }
    const tok = toks[i];
    const text = tok.text;
    if (!tok.quoted && looksLikeTtl(text)) {
      if (ttl !== undefined) {
        error(st, file, e.lines[i], e.cols[i], `expected an RR type, got a second TTL "${text}"`);
        return undefined;
      }
      const v = parseTtl(text);
      if (typeof v === 'string') {
        error(st, file, e.lines[i], e.cols[i], v);
        return undefined;
      }
      ttl = v;
      i++;
      continue;
    }
    const k = tok.quoted ? undefined : classOf(text);
    // An update file's DELETE of everything at a name: ANY is the type there, not a class.
    if (k === RRClass.ANY && deleting) {
      headScratch.ttl = ttl;
      headScratch.klass = klass;
      headScratch.type = RRType.ANY;
      headScratch.typeAt = i;
      return headScratch;
    }
    if (k !== undefined) {
      if (klass !== undefined) {
        error(st, file, e.lines[i], e.cols[i], `expected an RR type, got a second class "${text}"`);
        return undefined;
      }
      if (k === RRClass.NONE || k === RRClass.ANY) {
        error(st, file, e.lines[i], e.cols[i], `class ${text} is not allowed in a zone file (expected IN)`);
        return undefined;
      }
      klass = k;
      i++;
      continue;
    }
    const type = tok.quoted ? undefined : typeOf(text);
    if (type === undefined) {
      const what = ttl === undefined && klass === undefined ? 'a TTL, class or RR type' : 'an RR type';
      error(st, file, e.lines[i], e.cols[i], `expected ${what}, got "${text}"`);
      return undefined;
    }
    if (isMetaType(type) || type === 0) {
      error(st, file, e.lines[i], e.cols[i], `type ${typeToString(type)} cannot appear in a zone file`);
      return undefined;
    }
    headScratch.ttl = ttl;
    headScratch.klass = klass;
    headScratch.type = type;
    headScratch.typeAt = i;
    return headScratch;
  }
}

const typeCache = new Map<string, number>();
function typeOf(text: string): number | undefined {
  const hit = typeCache.get(text);
  if (hit !== undefined) return hit;
  const t = typeFromString(text);
  if (t !== undefined && typeCache.size < 1000) typeCache.set(text, t);
  return t;
}

function classOf(text: string): number | undefined {
  const len = text.length;
  if (len === 2 && (text === 'IN' || text === 'in' || text === 'In' || text === 'iN')) return RRClass.IN;
  // Cheap filter on first letter and length (IN CH HS ANY NONE CHAOS HESIOD CLASSnnn), so that type mnemonics such
  // as A or AAAA never reach the general (regex) parser.
  const c = text.charCodeAt(0) | 0x20;
  const maybe =
    (c === 0x69 && len === 2) || (c === 0x63 && len >= 2) || (c === 0x68 && (len === 2 || len === 6)) ||
    (c === 0x6e && len === 4) || (c === 0x61 && len === 3);
  return maybe ? classFromString(text) : undefined;
}

/** The RDATA of an update file's whole-set DELETE (ZoneRecord.wholeSet). */
const NO_RDATA = new Uint8Array(0);

function record(st: State, file: string, e: Entry): void {
  const toks = e.tokens;
  let comment = st.pendingComment;
  // Flags written after the record on its own line (`mail A 192.0.2.1 ;!FORCEREV`) count as if on the line before.
  if (e.trailingBang !== undefined) parseFlags(st, file, e.trailingBangLine, e.trailingBangCol, e.trailingBang);
  const flags = st.pendingFlags;
  if (comment !== undefined || flags !== undefined) {
    st.pendingComment = undefined;
    st.pendingFlags = undefined;
  }
  let owner: Name;
  let i: number;
  if (e.blankStart) {
    const prevOwner = prevOwnerOf(st);
    if (!prevOwner) {
      error(st, file, e.lines[0], e.cols[0], 'expected an owner name: the line starts with a blank but no earlier record gives an owner');
      return;
    }
    owner = prevOwner;
    i = 0;
    if (st.originChanged)
      warn(st, file, e.lines[0], 1, `the owner is inherited (${owner}) right after a $ORIGIN change; did you mean "@"?`);
  } else {
    const text = toks[0].text;
    const prevOwner = text === st.prevOwnerText && st.origin === st.prevOwnerOrigin ? prevOwnerOf(st) : undefined;
    if (prevOwner !== undefined) {
      // The owner written again (zone files that repeat it on every line): the same Name, which also spares the zone
      // builder its look-up (it keys on the Name object of the previous record).
      owner = prevOwner;
    } else {
      try {
        owner = parseName(text, st.origin);
      } catch (err) {
        error(st, file, e.lines[0], e.cols[0], `bad owner name: ${msg(err)}`);
        return;
      }
      setPrevOwner(st, owner, text);
    }
    i = 1;
  }
  st.originChanged = false;
  const deleting = st.updateFile && flags?.rrop === 'DELETE';
  const head = readHead(st, file, e, i, deleting);
  if (!head) return;
  const wholeSet = deleting ? wholeSetDelete(st, file, e, head) : false;
  if (wholeSet === undefined) return;
  // Drop owner/TTL/class/type in place (no second array): positions stay mapped through `skip`.
  const skip = head.typeAt + 1;
  const lines = e.lines;
  const cols = e.cols;
  const typeLine = lines[head.typeAt];
  const typeCol = cols[head.typeAt];
  const ntok = toks.length;
  const lastTok = toks[ntok - 1];
  let rdata: Uint8Array = NO_RDATA;
  if (!wholeSet) {
    try {
      const origin = st.origin ?? Name.root;
      toks.copyWithin(0, skip);
      toks.length -= skip;
      rdata = slabCopy(rdataFromText(head.type, toks, origin));
    } catch (err) {
      const k = err instanceof TextError && err.token !== undefined ? skip + err.token : skip;
      const [l, c] = k < ntok ? [lines[k], cols[k]] : [lines[ntok - 1], cols[ntok - 1] + lastTok.text.length + (lastTok.quoted ? 2 : 0)];
      error(st, file, l, c, `bad ${typeToString(head.type)} RDATA: ${msg(err)}`);
      return;
    }
  }
  if (e.trailingHash !== undefined) {
    const t = e.trailingHash.trim();
    comment = comment === undefined ? t : `${comment}\n${t}`;
  }
  const rec = finishRecord(st, file, e.line, typeLine, typeCol, owner, head, rdata);
  if (!rec) return;
  if (wholeSet) rec.wholeSet = true;
  if (comment !== undefined || flags !== undefined || st.group !== undefined) attachDms(st, rec, comment, flags);
  emit(st, rec);
}

/**
 * Whether an update file's DELETE stands for a whole RRset (RDATA left out or `""`) or for everything at a name (type
 * ANY, which takes no RDATA): true; false when it has RDATA of its own (one record); undefined after an error.
 */
function wholeSetDelete(st: State, file: string, e: Entry, head: Head): boolean | undefined {
  const toks = e.tokens;
  const k = head.typeAt + 1;
  const rest = toks.length - k;
  if (rest === 0 || (rest === 1 && toks[k].quoted && toks[k].text === '')) return true;
  if (head.type !== RRType.ANY) return false;
  error(st, file, e.lines[k], e.cols[k], 'a DELETE of type ANY takes no RDATA (it deletes every RRset at the name)');
  return undefined;
}

function emit(st: State, rec: ZoneRecord): void {
  if (st.onRecord !== undefined) st.onRecord(rec);
  else st.records.push(rec);
}

function attachDms(st: State, rec: ZoneRecord, comment: string | undefined, flags: RRFlags | undefined): void {
  if (comment !== undefined) rec.comment = comment;
  if (st.group !== undefined) {
    rec.group = st.group;
    st.groupHasRecords = true;
  }
  if (flags !== undefined) rec.flags = flags;
}

/** Resolve TTL and class, then build the record; undefined after reporting an error. */
function finishRecord(
  st: State, file: string, recLine: number, typeLine: number, typeCol: number, owner: Name, head: Head, rdata: Uint8Array,
): ZoneRecord | undefined {
  let ttl = head.ttl;
  if (ttl !== undefined) st.lastTtl = ttl;
  else if (st.dollarTtl !== undefined) ttl = st.dollarTtl;
  else if (st.lastTtl !== undefined) ttl = st.lastTtl;
  else if (head.type === RRType.SOA && rdata.length >= 20) {
    const p = rdata.length - 4;
    ttl = ((rdata[p] << 24) | (rdata[p + 1] << 16) | (rdata[p + 2] << 8) | rdata[p + 3]) >>> 0;
    if (ttl > 0x7fffffff) ttl = 0;
    // As BIND does: the SOA minimum then acts as $TTL for the rest of the file.
    st.dollarTtl = ttl;
    warn(st, file, typeLine, typeCol, `no TTL given and no $TTL: using the SOA minimum (${ttl}) as the default TTL`);
  } else {
    error(st, file, typeLine, typeCol, 'expected a TTL: the record has none and no $TTL or earlier TTL applies');
    return undefined;
  }
  let klass = head.klass;
  if (st.zoneClass === undefined) st.zoneClass = klass ?? RRClass.IN;
  if (klass === undefined) klass = st.zoneClass;
  else if (klass !== st.zoneClass) {
    error(st, file, typeLine, typeCol,
      `class ${classToString(klass)} does not match the zone's class ${classToString(st.zoneClass)}`);
    return undefined;
  }
  return { name: owner, type: head.type, class: klass, ttl, rdata, file, line: recLine };
}

// ---- the fast path ----

/**
 * A plain line (Lexer.scanPlain) that is a record needing nothing but its fields — no pending DMS comment or flags,
 * TTL and class settled — parsed straight from its positions in the text: no token objects for the common types
 * (A, AAAA, TXT), and none of the entry machinery. True when the record was emitted; false, with nothing changed,
 * for anything else or anything wrong: the general path then reads the line again and reports what it finds.
 */
function fastRecord(st: State, file: string, text: string, line: PlainLine, lineNo: number): boolean {
  if (st.pendingComment !== undefined || st.pendingFlags !== undefined || st.zoneClass === undefined) return false;
  const { starts, ends, quoted, count } = line;
  // The owner is resolved once the rest of the line is known good: as a Name, or as its key for the sink.
  const blank = line.blankStart;
  if (blank ? st.originChanged || (st.prevOwner === undefined && !st.prevOwnerPending) : quoted[0] || text.charCodeAt(starts[0]) === 0x24)
    return false;
  let i = blank ? 0 : 1;
  // [ttl] [class] type, as readHead.
  let ttl: number | undefined;
  let klass: number | undefined;
  let type = 0;
  for (;;) {
    if (i >= count || quoted[i]) return false;
    const ws = starts[i];
    const wl = ends[i] - ws;
    i++;
    // The usual words are recognised in place (no string made): plain seconds, IN, A, AAAA, TXT.
    const c = text.charCodeAt(ws);
    if (c >= 0x30 && c <= 0x39 && wl <= 9) {
      let v = 0;
      let k = 0;
      for (; k < wl; k++) {
        const d = text.charCodeAt(ws + k);
        if (d < 0x30 || d > 0x39) break;
        v = v * 10 + (d - 0x30);
      }
      if (k === wl) {
        if (ttl !== undefined) return false;
        ttl = v;
        continue;
      }
    }
    if (wl === 2 && (c | 0x20) === 0x69 && (text.charCodeAt(ws + 1) | 0x20) === 0x6e) {
      if (klass !== undefined) return false;
      klass = RRClass.IN;
      continue;
    }
    if (wl === 1 && (c | 0x20) === 0x61) {
      type = RRType.A;
      break;
    }
    if (wl === 4 && (c | 0x20) === 0x61 && lowerAt(text, ws + 1) === 0x61 && lowerAt(text, ws + 2) === 0x61 && lowerAt(text, ws + 3) === 0x61) {
      type = RRType.AAAA;
      break;
    }
    if (wl === 3 && (c | 0x20) === 0x74 && lowerAt(text, ws + 1) === 0x78 && lowerAt(text, ws + 2) === 0x74) {
      type = RRType.TXT;
      break;
    }
    const word = text.slice(ws, ws + wl);
    if (looksLikeTtl(word)) {
      const v = parseTtl(word);
      if (ttl !== undefined || typeof v === 'string') return false;
      ttl = v;
      continue;
    }
    const k = classOf(word);
    if (k !== undefined) {
      if (klass !== undefined) return false;
      klass = k;
      continue;
    }
    const t = typeOf(word);
    if (t === undefined || t === RRType.SOA || t === 0 || isMetaType(t)) return false;
    type = t;
    break;
  }
  if (klass !== undefined && klass !== st.zoneClass) return false;
  const recordTtl = ttl ?? st.dollarTtl ?? st.lastTtl;
  if (recordTtl === undefined) return false;
  const sink = st.group === undefined ? st.sink : undefined;
  let rdata: Uint8Array | undefined;
  let rawLen = 0;
  if (type === RRType.A) {
    if (count !== i + 1 || quoted[i]) return false;
    rdata = sink !== undefined ? rawScratch : slabBytes(4);
    if (!parseIpv4Into(text, starts[i], ends[i], rdata, 0)) return false; // (4 slab bytes lost: the general path follows)
    rawLen = 4;
  } else if (type === RRType.AAAA) {
    if (count !== i + 1 || quoted[i]) return false;
    rdata = sink !== undefined ? rawScratch : slabBytes(16);
    if (!parseIpv6Into(text, starts[i], ends[i], rdata, 0)) return false;
    rawLen = 16;
  } else if (type === RRType.TXT) {
    rawLen = plainStrings(text, line, i);
    if (rawLen === 0) return false;
    rdata = sink !== undefined ? rawScratch : slabCopy(rawScratch.subarray(0, rawLen));
  } else {
    if (i >= count) return false;
    const toks: Token[] = [];
    for (let k = i; k < count; k++) toks.push({ text: text.slice(starts[k], ends[k]), quoted: quoted[k] === 1 });
    try {
      rdata = slabCopy(rdataFromText(type, toks, st.origin ?? Name.root));
    } catch {
      return false;
    }
  }
  // The owner: the previous one (inherited or written again), or new.
  const repeated =
    blank ||
    (st.prevOwnerText !== undefined && st.prevOwnerText.length === ends[0] - starts[0] && st.origin === st.prevOwnerOrigin &&
      text.startsWith(st.prevOwnerText, starts[0]));
  if (sink !== undefined && rawLen > 0) {
    let key = repeated ? st.prevKey : undefined;
    let wire = st.prevWire;
    if (key === undefined) {
      const ownerText = repeated ? (st.prevOwnerText as string) : undefined;
      const origin = repeated ? st.prevOwnerOrigin : st.origin;
      if (!(ownerText !== undefined ? ownerKey(ownerText, 0, ownerText.length, origin) : ownerKey(text, starts[0], ends[0], origin))) return false;
      key = keyOut;
      wire = wireOut;
    }
    // Committed: the same state changes as record() and finishRecord().
    if (!repeated) {
      st.prevOwner = undefined;
      st.prevOwnerPending = true;
      st.prevOwnerText = text.slice(starts[0], ends[0]);
      st.prevOwnerOrigin = st.origin;
    }
    st.prevKey = key;
    st.prevWire = wire;
    st.originChanged = false;
    if (ttl !== undefined) st.lastTtl = ttl;
    sink.addRaw(key, wire, type, st.zoneClass, recordTtl, rdata, 0, rawLen);
    return true;
  }
  let owner: Name;
  if (repeated) {
    const prev = prevOwnerOf(st);
    if (prev === undefined) return false;
    owner = prev;
  } else {
    const ownerText = text.slice(starts[0], ends[0]);
    try {
      owner = parseName(ownerText, st.origin);
    } catch {
      return false;
    }
    setPrevOwner(st, owner, ownerText);
  }
  st.originChanged = false;
  if (ttl !== undefined) st.lastTtl = ttl;
  const rec: ZoneRecord = { name: owner, type, class: st.zoneClass, ttl: recordTtl, rdata, file, line: lineNo };
  if (st.group !== undefined) attachDms(st, rec, undefined, undefined);
  emit(st, rec);
  return true;
}

/** A record's owner, parsed from `text` under the current origin, is the last owner now. */
function setPrevOwner(st: State, owner: Name, text: string): void {
  st.prevOwner = owner;
  st.prevOwnerText = text;
  st.prevOwnerOrigin = st.origin;
  st.prevOwnerPending = false;
  st.prevKey = undefined;
  st.prevWire = undefined;
}

/** The last owner (State.prevOwner), parsed now when the fast path left it as text. */
function prevOwnerOf(st: State): Name | undefined {
  if (st.prevOwnerPending) {
    st.prevOwnerPending = false;
    // The fast path checked the text as parseName does: this does not throw.
    st.prevOwner = parseName(st.prevOwnerText as string, st.prevOwnerOrigin);
  }
  return st.prevOwner;
}

// ownerKey's results and scratch: the lower-case and original-case wire forms of an owner.
let keyOut = '';
let wireOut: string | undefined;
/** Buffer's latin1Slice (what toString('latin1') calls, without its argument checks). */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const lowerScratch = Buffer.alloc(256) as Latin1Buffer;
const origScratch = Buffer.alloc(256) as Latin1Buffer;
let originWireOf: Name | undefined;
let originLower: Uint8Array = new Uint8Array(0);
let originOrig: Uint8Array = new Uint8Array(0);
let originUpper = false;

/**
 * The RecordSink key (lower-case wire form as latin1) of the owner text[start, end) under `origin` into keyOut, and
 * its original-case wire form into wireOut when that differs (else undefined). False for anything parseName would
 * refuse, for "." and for text with a backslash (an owner inherited from a general-path line) or a character beyond
 * ASCII (its UTF-8 octets): left to parseName.
 */
function ownerKey(text: string, start: number, end: number, origin: Name | undefined): boolean {
  const at = text.charCodeAt(start) === 0x40 && end - start === 1; // "@"
  const absolute = !at && text.charCodeAt(end - 1) === 0x2e;
  if ((at || !absolute) && origin === undefined) return false;
  if (absolute && end - start === 1) return false;
  const lower = lowerScratch;
  const orig = origScratch;
  let p = 0;
  let upper = false;
  if (!at) {
    const stop = absolute ? end - 1 : end;
    let labelAt = 0;
    lower[0] = 0;
    p = 1;
    for (let k = start; k <= stop; k++) {
      if (k < stop) {
        const c = text.charCodeAt(k);
        if (c !== 0x2e) {
          if (c > 0x7f || c === 0x5c || p >= 255) return false;
          orig[p] = c;
          if (c >= 0x41 && c <= 0x5a) {
            upper = true;
            lower[p++] = c | 0x20;
          } else lower[p++] = c;
          continue;
        }
      }
      const len = p - labelAt - 1;
      if (len === 0 || len > 63) return false;
      lower[labelAt] = len;
      orig[labelAt] = len;
      labelAt = p++;
    }
    p--; // the length byte opened after the last label
  }
  if (absolute) {
    if (p + 1 > 255) return false;
    lower[p] = 0;
    orig[p++] = 0;
  } else {
    const o = origin as Name;
    if (o !== originWireOf) {
      originWireOf = o;
      originOrig = o.toWire();
      originLower = Uint8Array.from(originOrig, (c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
      originUpper = originLower.some((c, k) => c !== originOrig[k]);
    }
    if (p + originLower.length > 255) return false;
    lower.set(originLower, p);
    orig.set(originOrig, p);
    p += originLower.length;
    upper ||= originUpper;
  }
  keyOut = lower.latin1Slice(0, p);
  wireOut = upper ? orig.latin1Slice(0, p) : undefined;
  return true;
}

function lowerAt(text: string, p: number): number {
  return text.charCodeAt(p) | 0x20;
}

/** Where the fast path writes RDATA of the common types (a TXT of plain strings is at most 1,024 octets here). */
const rawScratch = new Uint8Array(1024);

/**
 * TXT RDATA of fields [from, count) of a plain line, each of printable ASCII and ≤ 255 octets, written to rawScratch:
 * its length, or 0 when the fields are not that.
 */
function plainStrings(text: string, line: PlainLine, from: number): number {
  const { starts, ends, count } = line;
  if (from >= count) return 0;
  let size = 0;
  for (let k = from; k < count; k++) {
    const len = ends[k] - starts[k];
    if (len > 255) return 0;
    size += 1 + len;
  }
  if (size > rawScratch.length) return 0;
  const out = rawScratch;
  let at = 0;
  for (let k = from; k < count; k++) {
    const end = ends[k];
    out[at++] = end - starts[k];
    for (let p = starts[k]; p < end; p++) {
      const c = text.charCodeAt(p);
      if (c < 0x20 || c > 0x7e) return 0;
      out[at++] = c;
    }
  }
  return size;
}

// ---- $GENERATE ----

function generate(st: State, file: string, e: Entry): void {
  const toks = e.tokens;
  const pending = consumePending(st);
  if (toks.length < 5) {
    const [l, c] = endOf(e);
    error(st, file, l, c, 'expected "$GENERATE range lhs [ttl] [class] type rhs"');
    return;
  }
  const range = parseRange(toks[1].text);
  if (typeof range === 'string') {
    error(st, file, e.lines[1], e.cols[1], range);
    return;
  }
  const count = rangeCount(range);
  if (count > st.generateLimit) {
    error(st, file, e.lines[1], e.cols[1], `$GENERATE would make ${count} records, more than the limit of ${st.generateLimit}`);
    return;
  }
  const lhs = Template.compile(toks[2].text);
  if (typeof lhs === 'string') {
    error(st, file, e.lines[2], e.cols[2], lhs);
    return;
  }
  const scratch = readHead(st, file, e, 3);
  if (!scratch) return;
  const head: Head = { ...scratch };
  const rhsStart = head.typeAt + 1;
  if (rhsStart >= toks.length) {
    const [l, c] = endOf(e);
    error(st, file, l, c, 'expected the rhs template after the type in $GENERATE');
    return;
  }
  const rhs: { t: Template; quoted: boolean }[] = [];
  for (let k = rhsStart; k < toks.length; k++) {
    const t = Template.compile(toks[k].text);
    if (typeof t === 'string') {
      error(st, file, e.lines[k], e.cols[k], t);
      return;
    }
    rhs.push({ t, quoted: toks[k].quoted });
  }
  const sub = new Entry();
  for (let v = range.start; v <= range.stop; v += range.step) {
    const ownerText = lhs.substitute(v);
    if (ownerText === undefined) {
      error(st, file, e.lines[2], e.cols[2], `$GENERATE value ${v}: the offset makes it negative`);
      return;
    }
    let owner: Name;
    try {
      owner = parseName(ownerText, st.origin);
    } catch (err) {
      error(st, file, e.lines[2], e.cols[2], `$GENERATE value ${v}: bad owner name "${ownerText}": ${msg(err)}`);
      return;
    }
    const rtoks: Token[] = [];
    for (const r of rhs) {
      const s = r.t.substitute(v);
      if (s === undefined) {
        error(st, file, e.lines[rhsStart], e.cols[rhsStart], `$GENERATE value ${v}: the offset makes it negative`);
        return;
      }
      // BIND re-reads a quoted rhs as master-file text, so "10 mail$" gives two RDATA fields.
      if (r.quoted) {
        const lx = new Lexer(s);
        while (lx.next(sub)) for (const t of sub.tokens) rtoks.push(t);
      } else rtoks.push({ text: s, quoted: false });
    }
    let rdata: Uint8Array;
    try {
      rdata = rdataFromText(head.type, rtoks, st.origin ?? Name.root);
    } catch (err) {
      error(st, file, e.lines[rhsStart], e.cols[rhsStart], `$GENERATE value ${v}: bad ${typeToString(head.type)} RDATA: ${msg(err)}`);
      return;
    }
    const rec = finishRecord(st, file, e.line, e.lines[head.typeAt], e.cols[head.typeAt], owner, head, rdata);
    if (!rec) return;
    attachDms(st, rec, pending.comment, pending.flags ? { ...pending.flags } : undefined);
    emit(st, rec);
  }
}

// ---- helpers ----

/** Position just after the last token of the entry (where a missing field was expected). */
function endOf(e: Entry): [number, number] {
  const n = e.tokens.length;
  if (n === 0) return [e.line, 1];
  const t = e.tokens[n - 1];
  return [e.lines[n - 1], e.cols[n - 1] + t.text.length + (t.quoted ? 2 : 0)];
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
