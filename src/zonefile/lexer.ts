// Master-file lexer (RFC 1035 §5.1). One call to next() yields one logical entry: the tokens of a physical line, or
// of several lines joined by parentheses. Escapes are left raw in token text (the consumers interpret them); token
// positions are kept in side arrays so that error messages can name line and column without per-token objects.
//
// Speed matters (a million-record zone must load in seconds): the scan is a charCodeAt loop with no regexes, and
// comment text is only sliced out when a DMS comment needs it.

import type { Token } from '../dns/rdata.js';

export interface LexError {
  message: string;
  line: number;
  column: number;
}

/** One logical entry. The lexer reuses the object; `tokens` is a fresh array each time (consumers may keep it). */
export class Entry {
  tokens: Token[] = [];
  /** 1-based line and column of each token (only the first tokens.length entries are meaningful: the arrays are
   * reused from entry to entry, never shrunk, to save two allocations per line). */
  lines: number[] = [];
  cols: number[] = [];
  /** The first physical line started with a blank: the owner is inherited. */
  blankStart = false;
  /** Line number where the entry starts. */
  line = 0;
  /** First comment of the entry (text after ';', without line end), or undefined. */
  comment: string | undefined;
  commentLine = 0;
  commentCol = 0;
  /** Text after ';#' of the first record comment that follows a token, when there is one. */
  trailingHash: string | undefined;
  /** Text after ';!' of the first flags comment that follows a token (flags written on the record's own line). */
  trailingBang: string | undefined;
  trailingBangLine = 0;
  trailingBangCol = 0;
  error: LexError | undefined;
}

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const SEMI = 0x3b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const BANG = 0x21;

function setError(e: Entry, message: string, line: number, column: number): void {
  if (!e.error) e.error = { message, line, column };
}

/** Fields of one plain physical line (Lexer.scanPlain), as positions in the text: no token objects. */
export class PlainLine {
  static readonly MAX_FIELDS = 16;
  readonly starts = new Int32Array(PlainLine.MAX_FIELDS);
  readonly ends = new Int32Array(PlainLine.MAX_FIELDS);
  /** 1 where the field was written in double quotes (start/end exclude them). */
  readonly quoted = new Uint8Array(PlainLine.MAX_FIELDS);
  count = 0;
  /** The line starts with a blank (the owner is inherited). */
  blankStart = false;
  /** Where the next line starts. */
  next = 0;
  endsWithNewline = false;
}

export class Lexer {
  pos = 0;
  lineNo: number;
  private lineStart = 0;
  private readonly len: number;

  /**
   * `final` false: the text is a piece of a longer input (incremental parsing). An entry that reaches the end of the
   * piece may go on in the next one, so next() then stops before it (pos and lineNo stay at its start, a line start)
   * and returns false; the caller lexes the rest of the piece again together with the next piece.
   */
  constructor(
    readonly text: string,
    firstLine = 1,
    private readonly final = true,
  ) {
    this.len = text.length;
    this.lineNo = firstLine;
  }

  /**
   * The parser's fast path (most lines of a large zone are `owner [ttl] [class] type rdata`): fill `out` with the
   * fields of the physical line at the current position, without consuming it, when the line is plain — no
   * parenthesis, comment, backslash, or quote other than whole fields of plain text — and has at least one field.
   * False otherwise (next() then reads it the general way). takePlain() consumes the line.
   */
  scanPlain(out: PlainLine): boolean {
    const text = this.text;
    const len = this.len;
    let pos = this.pos;
    if (pos >= len) return false;
    const c0 = text.charCodeAt(pos);
    out.blankStart = c0 === SP || c0 === TAB;
    let n = 0;
    let newline = false;
    for (;;) {
      if (pos >= len) {
        // Not final: the line may go on in the next piece.
        if (!this.final) return false;
        break;
      }
      const c = text.charCodeAt(pos);
      if (c === SP || c === TAB || c === CR) {
        pos++;
        continue;
      }
      if (c === LF) {
        pos++;
        newline = true;
        break;
      }
      if (n === PlainLine.MAX_FIELDS || c === SEMI || c === LPAREN || c === RPAREN || c === BACKSLASH) return false;
      if (c === QUOTE) {
        const start = pos + 1;
        let p = start;
        for (;;) {
          if (p >= len) return false;
          const d = text.charCodeAt(p);
          if (d === QUOTE) break;
          if (d === BACKSLASH || d === LF) return false;
          p++;
        }
        out.starts[n] = start;
        out.ends[n] = p;
        out.quoted[n++] = 1;
        pos = p + 1;
        continue;
      }
      const start = pos;
      let p = pos + 1;
      while (p < len) {
        const d = text.charCodeAt(p);
        if (d === SP || d === TAB || d === LF || d === CR) break;
        if (d === SEMI || d === LPAREN || d === RPAREN || d === QUOTE || d === BACKSLASH) return false;
        p++;
      }
      out.starts[n] = start;
      out.ends[n] = p;
      out.quoted[n++] = 0;
      pos = p;
    }
    if (n === 0) return false;
    out.count = n;
    out.next = pos;
    out.endsWithNewline = newline;
    return true;
  }

  /** Consume the line scanPlain() just filled `line` with. */
  takePlain(line: PlainLine): void {
    this.pos = line.next;
    if (line.endsWithNewline) {
      this.lineNo++;
      this.lineStart = line.next;
    }
  }

  /** Fill `e` with the next entry; false at end of input (or, not final, at an entry the text does not finish). */
  next(e: Entry): boolean {
    const text = this.text;
    const len = this.len;
    if (this.pos >= len) return false;
    const startLine = this.lineNo;
    const startLineStart = this.lineStart;
    e.tokens = [];
    e.comment = undefined;
    e.trailingHash = undefined;
    e.trailingBang = undefined;
    e.error = undefined;
    e.line = this.lineNo;
    const c0 = text.charCodeAt(this.pos);
    e.blankStart = c0 === SP || c0 === TAB;
    let depth = 0;
    let parenLine = 0;
    let parenCol = 0;
    let pos = this.pos;
    for (;;) {
      if (pos >= len) {
        if (!this.final) {
          this.lineNo = startLine;
          this.lineStart = startLineStart;
          return false;
        }
        if (depth > 0) setError(e, `expected ")" to close the "(" opened here before the end of the file`, parenLine, parenCol);
        break;
      }
      const c = text.charCodeAt(pos);
      if (c === SP || c === TAB || c === CR) {
        pos++;
        continue;
      }
      if (c === LF) {
        pos++;
        this.lineNo++;
        this.lineStart = pos;
        if (depth === 0) break;
        continue;
      }
      if (c === SEMI) {
        let end = text.indexOf('\n', pos);
        if (end < 0) end = len; // not final: the check at the top of the loop then takes the entry back
        let stop = end;
        if (stop > pos && text.charCodeAt(stop - 1) === CR) stop--;
        if (e.comment === undefined) {
          e.comment = text.slice(pos + 1, stop);
          e.commentLine = this.lineNo;
          e.commentCol = pos - this.lineStart + 1;
        }
        if (e.tokens.length > 0) {
          const kind = text.charCodeAt(pos + 1);
          if (kind === HASH && e.trailingHash === undefined) e.trailingHash = text.slice(pos + 2, stop);
          else if (kind === BANG && e.trailingBang === undefined) {
            e.trailingBang = text.slice(pos + 2, stop);
            e.trailingBangLine = this.lineNo;
            e.trailingBangCol = pos - this.lineStart + 3;
          }
        }
        pos = end;
        continue;
      }
      if (c === LPAREN) {
        if (depth === 0) {
          parenLine = this.lineNo;
          parenCol = pos - this.lineStart + 1;
        }
        depth++;
        pos++;
        continue;
      }
      if (c === RPAREN) {
        if (depth === 0) setError(e, 'unexpected ")" without a matching "("', this.lineNo, pos - this.lineStart + 1);
        else depth--;
        pos++;
        continue;
      }
      const col = pos - this.lineStart + 1;
      if (c === QUOTE) {
        const start = pos + 1;
        let p = start;
        let closed = false;
        while (p < len) {
          const d = text.charCodeAt(p);
          if (d === BACKSLASH) {
            if (text.charCodeAt(p + 1) === LF) break;
            p += 2;
            continue;
          }
          if (d === QUOTE) {
            closed = true;
            break;
          }
          if (d === LF) break;
          p++;
        }
        if (p > len) p = len;
        const k = e.tokens.push({ text: text.slice(start, p), quoted: true }) - 1;
        e.lines[k] = this.lineNo;
        e.cols[k] = col;
        if (!closed) setError(e, 'expected a closing \'"\' before the end of the line', this.lineNo, col);
        pos = closed ? p + 1 : p;
        continue;
      }
      const start = pos;
      let p = pos;
      while (p < len) {
        const d = text.charCodeAt(p);
        if (d === BACKSLASH) {
          if (p + 1 < len && text.charCodeAt(p + 1) !== LF) {
            p += 2;
            continue;
          }
          setError(e, 'expected a character after "\\"', this.lineNo, p - this.lineStart + 1);
          p++;
          continue;
        }
        if (d === SP || d === TAB || d === LF || d === CR || d === SEMI || d === LPAREN || d === RPAREN || d === QUOTE)
          break;
        p++;
      }
      if (p > len) p = len;
      const k = e.tokens.push({ text: text.slice(start, p), quoted: false }) - 1;
      e.lines[k] = this.lineNo;
      e.cols[k] = col;
      pos = p;
    }
    this.pos = pos;
    return true;
  }
}
