// BIND's $GENERATE templates: `$` is the iterator, `${offset[,width[,base]]}` adjusts it, `$$` and `\$` are a
// literal dollar. Bases: d (decimal), o (octal), x/X (hex), n/N (nibbles, least significant first, dot separated —
// the width counts the dots, as BIND does).

export interface GenerateRange {
  start: number;
  stop: number;
  step: number;
}

/** Parse `start-stop[/step]`; a string says what was expected. */
export function parseRange(text: string): GenerateRange | string {
  let i = 0;
  const n = text.length;
  const num = (): number => {
    const from = i;
    let v = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    return i === from || v > 0x7fffffff ? -1 : v;
  };
  const start = num();
  if (start < 0 || text.charCodeAt(i) !== 0x2d) return `expected a range "start-stop[/step]", got "${text}"`;
  i++;
  const stop = num();
  if (stop < 0) return `expected a range "start-stop[/step]", got "${text}"`;
  let step = 1;
  if (i < n) {
    if (text.charCodeAt(i) !== 0x2f) return `expected "/step" after the range, got "${text}"`;
    i++;
    step = num();
    if (step <= 0 || i !== n) return `expected a positive step after "/" in "${text}"`;
  }
  if (stop < start) return `expected the range start (${start}) to be no larger than its stop (${stop})`;
  return { start, stop, step };
}

export function rangeCount(r: GenerateRange): number {
  return Math.floor((r.stop - r.start) / r.step) + 1;
}

type Part = string | { offset: number; width: number; base: string };

/** A compiled template; substitute() produces the text for one iterator value. */
export class Template {
  private constructor(private readonly parts: Part[]) {}

  /** Compile; a string return says what is wrong. */
  static compile(text: string): Template | string {
    const parts: Part[] = [];
    let lit = '';
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text[i];
      if (c === '\\' && i + 1 < n) {
        lit += c + text[i + 1];
        i++;
        continue;
      }
      if (c !== '$') {
        lit += c;
        continue;
      }
      if (text[i + 1] === '$') {
        lit += '\\$';
        i++;
        continue;
      }
      if (lit) parts.push(lit);
      lit = '';
      if (text[i + 1] !== '{') {
        parts.push({ offset: 0, width: 0, base: 'd' });
        continue;
      }
      const close = text.indexOf('}', i + 2);
      if (close < 0) return `expected "}" to close "\${" in "${text}"`;
      const fields = text.slice(i + 2, close).split(',');
      if (fields.length > 3) return `expected \${offset[,width[,base]]} in "${text}"`;
      const offset = Number(fields[0]);
      const width = fields.length > 1 ? Number(fields[1]) : 0;
      const base = fields.length > 2 ? fields[2] : 'd';
      if (!/^[+-]?\d+$/.test(fields[0])) return `expected a number as the offset in \${${fields.join(',')}}`;
      if (fields.length > 1 && !/^\d+$/.test(fields[1])) return `expected a number as the width in \${${fields.join(',')}}`;
      if (width > 255) return `width ${width} is too large in \${${fields.join(',')}}`;
      if (!['d', 'o', 'x', 'X', 'n', 'N'].includes(base)) return `expected a base d, o, x, X, n or N, got "${base}"`;
      parts.push({ offset, width, base });
      i = close;
    }
    if (lit) parts.push(lit);
    return new Template(parts);
  }

  substitute(value: number): string | undefined {
    let out = '';
    for (const p of this.parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const v = value + p.offset;
      if (v < 0) return undefined;
      out += formatValue(v, p.width, p.base);
    }
    return out;
  }
}

function formatValue(v: number, width: number, base: string): string {
  if (base === 'n' || base === 'N') {
    let out = '';
    let rest = v;
    for (;;) {
      let d = (rest & 0xf).toString(16);
      if (base === 'N') d = d.toUpperCase();
      out += d;
      rest = Math.floor(rest / 16);
      if (rest === 0 && out.length >= width) break;
      out += '.';
      if (rest === 0 && out.length >= width) break;
    }
    return out;
  }
  let s: string;
  if (base === 'o') s = v.toString(8);
  else if (base === 'x') s = v.toString(16);
  else if (base === 'X') s = v.toString(16).toUpperCase();
  else s = v.toString(10);
  return s.length < width ? s.padStart(width, '0') : s;
}
