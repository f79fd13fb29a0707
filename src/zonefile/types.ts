// Data shapes of the master-file layer. Pure types: no behaviour here.

import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';

/** DMS per-record flags, written in a zone file as a `;!` line before the record. */
export interface RRFlags {
  /** Never let the auto-reverse mechanism alter this PTR. */
  lockPtr?: boolean;
  /** Create/overwrite the reverse PTR even for IPv4 or when one exists. */
  forceRev?: boolean;
  /** Update the reverse PTR on every save of the forward zone. */
  trackRev?: boolean;
  /** Kept in the data but not served. */
  disable?: boolean;
  /** Reference (customer/owner tag) that manages this record. */
  ref?: string;
  /** Incremental-update operation the record stands for. */
  rrop?: 'ADD' | 'DELETE' | 'UPDATE_RRTYPE';
}

export interface ZoneRecord extends RR {
  /** `;#` record comment (several lines joined with "\n"). */
  comment?: string;
  /** `;|` group comment of the group the record belongs to. */
  group?: string;
  flags?: RRFlags;
  /**
   * Update files only (ParseOptions.updateFile): a `;!RROP:DELETE` record standing for its whole RRset (RDATA left out
   * or `""`), or with type ANY for every RRset at its owner. Its rdata is then empty.
   */
  wholeSet?: boolean;
  /** Where the record came from, for messages. */
  file?: string;
  line?: number;
}

export interface ZoneFileProblem {
  file: string;
  /** 1-based; 0 when not tied to a position. */
  line: number;
  /** 1-based character column (a tab counts as one); 0 when not tied to a position. */
  column: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface ParseOptions {
  /** File name used in messages and passed to `include` (default "<input>"). */
  file?: string;
  /** Initial origin; `$ORIGIN` overrides it. */
  origin?: Name;
  /** Initial default TTL, as if `$TTL` had been given. */
  defaultTtl?: number;
  /** Supplies the text of an `$INCLUDE`d file, or throws; confinement is the callback's job. */
  include?: (path: string, fromFile: string) => string;
  /** Stop after this many errors (default 50). */
  maxErrors?: number;
  /** Largest number of records one `$GENERATE` may produce (default 65536). */
  generateLimit?: number;
  /**
   * Receives every record as soon as it is parsed, instead of the `records` array of the result (which stays
   * empty): a large zone can then be compiled while it is read (ZoneBuilder) without holding a million records.
   */
  onRecord?: (record: ZoneRecord) => void;
  /** Plain records of the common types go here instead (RecordSink); only with `onRecord` — never in `records`. */
  sink?: RecordSink;
  /**
   * The text is an update file (the original DMS's update_rrs format): `$UPDATE_TYPE <id>` is accepted, and a record
   * flagged `;!RROP:DELETE` may leave out its RDATA or give `""` (its whole RRset) or have type ANY (everything at its
   * owner): such records come with `wholeSet`.
   */
  updateFile?: boolean;
}

/**
 * Receives plain records — no DMS comment, group or flags — of a few common types as bytes, without a record object
 * or a Name (ZoneBuilder implements it). Records it is not given still go to `onRecord`/`records`, in file order with
 * these. The owner comes as `key`, its uncompressed wire form lower-cased (ASCII, RFC 4343) as a latin1 string, and
 * `wire`, the wire form as written when it has upper-case letters (else undefined); the same strings again for
 * consecutive records of one owner.
 */
export interface RecordSink {
  addRaw(key: string, wire: string | undefined, type: number, klass: number, ttl: number, data: Uint8Array, start: number, len: number): void;
}

export interface ParseResult {
  records: ZoneRecord[];
  problems: ZoneFileProblem[];
  /** The origin in force at the end of the top-level file (undefined when none was ever set). */
  origin?: Name;
  /** An update file's `$UPDATE_TYPE` (ParseOptions.updateFile). */
  updateType?: string;
}
