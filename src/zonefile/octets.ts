// A zone file is octets (RFC 1035 §5.1: any octet may appear in a character-string or a label), the parser reads a
// string whose characters beyond ASCII stand for their UTF-8 encoding (text typed in the API or UI is Unicode). So
// the file's bytes become that string: ASCII as it is, valid UTF-8 decoded (it encodes back to the same bytes), and
// any other octet as the escape \DDD, which stands for exactly that octet where it matters (character-strings and
// labels, as BIND and Knot read them). Reading a UTF-8 file as latin1 would double-encode every "é" in a TXT record;
// reading a latin1 file as UTF-8 would turn its octets into U+FFFD.

import { Buffer, isAscii, isUtf8 } from 'node:buffer';

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
/** ASCII bytes as a string (Buffer's latin1 is the fast way; TextDecoder's "latin1" is windows-1252). */
const ascii = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Length of the valid UTF-8 sequence at b[i] (RFC 3629 §4), 0 if it is not one, -1 if b ends inside it. */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0) return 0;
  for (let k = 1; k < n; k++) {
    if (i + k >= b.length) return -1;
    const d = b[i + k];
    if ((d & 0xc0) !== 0x80) return 0;
    if (k === 1 && ((c === 0xe0 && d < 0xa0) || (c === 0xed && d > 0x9f) || (c === 0xf0 && d < 0x90) || (c === 0xf4 && d > 0x8f))) return 0;
  }
  return n;
}

/** Zone-file text in pieces cut anywhere (inside a UTF-8 sequence too): push each, then end(). */
export class ZoneFileDecoder {
  private carry: Uint8Array = new Uint8Array(0);

  push(piece: Uint8Array): string {
    return this.decode(piece, false);
  }

  end(): string {
    return this.decode(new Uint8Array(0), true);
  }

  private decode(piece: Uint8Array, final: boolean): string {
    let b = piece;
    if (this.carry.length > 0) {
      b = new Uint8Array(this.carry.length + piece.length);
      b.set(this.carry);
      b.set(piece, this.carry.length);
      this.carry = new Uint8Array(0);
    }
    if (isAscii(b)) return ascii(b);
    let out = '';
    let start = 0;
    let i = 0;
    while (i < b.length) {
      if (b[i] < 0x80) {
        i++;
        continue;
      }
      const n = sequenceAt(b, i);
      if (n > 0) {
        i += n;
        continue;
      }
      if (n < 0 && !final) break; // the rest of the sequence comes with the next piece
      out += `${utf8.decode(b.subarray(start, i))}\\${String(b[i]).padStart(3, '0')}`;
      i++;
      start = i;
    }
    out += utf8.decode(b.subarray(start, i));
    if (i < b.length) this.carry = b.slice(i);
    return out;
  }
}

/** A whole zone file's bytes as the parser's text (see above). */
export function zoneFileText(bytes: Uint8Array): string {
  if (isAscii(bytes)) return ascii(bytes);
  if (isUtf8(bytes)) return utf8.decode(bytes);
  const d = new ZoneFileDecoder();
  return d.push(bytes) + d.end();
}
