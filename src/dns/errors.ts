// Errors as values at the wire boundary: decoding raises DecodeError, which the server maps to FORMERR.

export type DecodeErrorKind =
  | 'truncated' // read past the end of the message
  | 'pointer' // compression pointer loop, forward pointer or out of bounds
  | 'label' // bad label type or length
  | 'name-too-long' // name over 255 octets
  | 'rdata' // RDATA does not match its type's format
  | 'trailing' // bytes left after the last record
  | 'format'; // other structural problem (counts, OPT placement, ...)

export class DecodeError extends Error {
  constructor(
    readonly kind: DecodeErrorKind,
    message: string,
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} at offset ${offset}`);
    this.name = 'DecodeError';
  }
}

/** A presentation-format (text) error; `token` is the index of the offending token when known. */
export class TextError extends Error {
  constructor(
    message: string,
    readonly token?: number,
  ) {
    super(message);
    this.name = 'TextError';
  }
}
