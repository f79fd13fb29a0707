// Master-file (zone file) layer: parse, write and check RFC 1035 §5 zone text with the DMS comment conventions.
// Pure: no I/O here (see files.ts for the file-system shell, which is not re-exported to keep this entry pure).

export type { RRFlags, ZoneRecord, ZoneFileProblem, ParseOptions, ParseResult } from './types.js';
export { parseZoneText, createZoneParser, type ZoneTextParser, formatProblem, parseName } from './parser.js';
export { writeZoneText, flagsText, type WriteOptions } from './writer.js';
export { ZoneFileDecoder, zoneFileText } from './octets.js';
export { checkZone, type CheckResult } from './check.js';
export { parseTtl, MAX_TTL } from './ttl.js';
