// Numeric constants of the DNS protocol (RFC 1035, IANA registries). Pure data.

export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13,
  MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, X25: 19, ISDN: 20, RT: 21, NSAP: 22, NSAP_PTR: 23, SIG: 24, KEY: 25,
  PX: 26, GPOS: 27, AAAA: 28, LOC: 29, NXT: 30, EID: 31, NIMLOC: 32, SRV: 33, ATMA: 34, NAPTR: 35, KX: 36, CERT: 37,
  A6: 38, DNAME: 39, SINK: 40, OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45, RRSIG: 46, NSEC: 47, DNSKEY: 48,
  DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55, NINFO: 56, RKEY: 57, TALINK: 58, CDS: 59,
  CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99, UINFO: 100, UID: 101, GID: 102,
  UNSPEC: 103, NID: 104, L32: 105, L64: 106, LP: 107, EUI48: 108, EUI64: 109, TKEY: 249, TSIG: 250, IXFR: 251,
  AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257, AVC: 258, DOA: 259, AMTRELAY: 260, TA: 32768,
  DLV: 32769,
} as const;
export type RRTypeName = keyof typeof RRType;

const typeNames = new Map<number, string>();
for (const [k, v] of Object.entries(RRType)) typeNames.set(v, k.replace('_', '-'));

/** Presentation mnemonic of a type ("A", "NSAP-PTR", or RFC 3597 "TYPE65534"). */
export function typeToString(t: number): string {
  return typeNames.get(t) ?? `TYPE${t}`;
}
/** Parse a type mnemonic or RFC 3597 TYPEnnn; undefined when not a type. */
export function typeFromString(s: string): number | undefined {
  const u = s.toUpperCase();
  const v = (RRType as Record<string, number>)[u.replace('-', '_')];
  if (v !== undefined) return v;
  const m = /^TYPE(\d{1,5})$/.exec(u);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;
const classNames = new Map<number, string>([
  [1, 'IN'], [3, 'CH'], [4, 'HS'], [254, 'NONE'], [255, 'ANY'],
]);
export function classToString(c: number): string {
  return classNames.get(c) ?? `CLASS${c}`;
}
export function classFromString(s: string): number | undefined {
  const u = s.toUpperCase();
  if (u === 'IN') return 1;
  if (u === 'CH' || u === 'CHAOS') return 3;
  if (u === 'HS' || u === 'HESIOD') return 4;
  if (u === 'NONE') return 254;
  if (u === 'ANY') return 255;
  const m = /^CLASS(\d{1,5})$/.exec(u);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8,
  NOTAUTH: 9, NOTZONE: 10,
  // Extended (EDNS / TSIG)
  BADVERS: 16, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
} as const;

/** RR types that are meta/query-only and never stored in a zone. */
export function isMetaType(t: number): boolean {
  return t === RRType.OPT || (t >= 128 && t <= 255);
}

/** Types whose RDATA names may be compressed on the wire (RFC 3597 §4: only the RFC 1035 well-known types). */
export const COMPRESSIBLE_TYPES: ReadonlySet<number> = new Set([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX,
]);
