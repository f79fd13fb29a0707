// Output layout of the original zone_tool: errors prefixed '***   ' and wrapped with a 6-space hanging indent,
// 'key:  value' blocks indented 8 spaces with the key padded, dates like 'Fri Sep 7 15:32:18 2012'.

export const ERROR_PREFIX = '***   ';
export const ERROR_INDENT = '      ';
export const OUTPUT_INDENT = '        ';

/** Wrap text at `width` columns with a first-line prefix and a hanging indent (like Python's TextWrapper.fill). */
export function wrap(text: string, first: string, rest: string, width = 70): string {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = first;
  let empty = true;
  for (const w of words) {
    if (!empty && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = rest + w;
    } else {
      cur += (empty ? '' : ' ') + w;
    }
    empty = false;
  }
  lines.push(cur);
  return lines.join('\n');
}

export function errorText(message: string): string {
  return wrap(message, ERROR_PREFIX, ERROR_INDENT);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 'Fri Sep 7 15:32:18 2012' in local time; null/undefined → 'None' as the original printed. */
export function fmtTime(v: Date | string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return 'None';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${d.getDate()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`;
}

/** Python-style rendering of a scalar: true → True, null → None. */
export function fmtValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof Date) return fmtTime(v);
  if (Array.isArray(v)) return v.map(fmtValue).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * A block of 'key: value' lines as show_zonesm/show_zi print them: sorted by key, with `firstKey` on top,
 * keys padded to `width` (including the colon).
 */
export function kvBlock(
  entries: Record<string, unknown>,
  opts: { firstKey?: string; width?: number; indent?: string; sort?: boolean } = {},
): string {
  const width = opts.width ?? 16;
  const indent = opts.indent ?? OUTPUT_INDENT;
  let keys = Object.keys(entries).filter((k) => entries[k] !== undefined);
  if (opts.sort !== false) keys.sort();
  if (opts.firstKey && keys.includes(opts.firstKey)) {
    keys = [opts.firstKey, ...keys.filter((k) => k !== opts.firstKey)];
  }
  return keys.map((k) => `${indent}${`${k}:`.padEnd(width)} ${fmtValue(entries[k])}`).join('\n');
}

/** Left-justified fixed-width column (Python '%-Ns'). */
export function col(v: unknown, n: number): string {
  return fmtValue(v).padEnd(n);
}

/**
 * Convert values for --json: Dates become ISO strings, bigint numbers, Uint8Array hex; everything else as is.
 */
export function toJson(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, val) => {
      if (typeof val === 'bigint') return Number(val);
      if (val instanceof Uint8Array) return Buffer.from(val).toString('hex');
      if (val instanceof Map) return Object.fromEntries(val);
      if (val instanceof Set) return [...val];
      return val;
    },
    2,
  );
}
