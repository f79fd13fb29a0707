// THE RR type table: each type's RDATA as a sequence of field codecs. The wire decoder, the wire encoder, the
// text parser, the text printer and the canonical form all walk this one table (see rdata.ts). A type missing here
// is handled as opaque RFC 3597 data everywhere.
//
// Adding a type: list its fields with the codecs of fields.ts (or write a codec in custom.ts when a field's form
// depends on another field), add a `check` for rules across fields, put it in CANONICAL_LOWER_TYPES /
// DECOMPRESS_TYPES only if RFC 4034/6840 or RFC 3597 name it, and give a new codec kind a generator in
// test/dns-rdata-property.test.ts. Compression on output is decided by constants.ts COMPRESSIBLE_TYPES.

import { RRType } from '../constants.js';
import {
  amtRelay,
  aplField,
  caaTag,
  euiField,
  hipField,
  ilnp64,
  ipseckeyGateway,
  locField,
  svcParamsField,
} from './custom.js';
import {
  base64Rest,
  base64U16,
  CERT_TYPES,
  charString,
  charStrings,
  type Field,
  hashField,
  hexRest,
  ipv4,
  ipv6,
  name,
  rrtype,
  SEC_ALGORITHMS,
  saltField,
  stringRest,
  time,
  typeBitmap,
  uint,
} from './fields.js';

export interface Descriptor {
  /** Presentation mnemonic. */
  readonly name: string;
  readonly fields: readonly Field[];
  /** Rule across fields, checked on decoded (uncompressed) RDATA: an error message, or undefined when fine. */
  readonly check?: (rdata: Uint8Array) => string | undefined;
}

const u8 = (label: string, optional = false) => uint(1, label, {}, optional);
const u16 = (label: string) => uint(2, label);
const u32 = (label: string) => uint(4, label);
/** SOA timers: BIND and Knot accept TTL units (1h, 2w) here (but not in the RRSIG original TTL, RFC 4034 §3.2). */
const duration = (label: string) => uint(4, label, { duration: true });
const secAlg = uint(1, 'algorithm', { names: SEC_ALGORITHMS });

const single = (n: string, f: Field[], check?: Descriptor['check']): Descriptor => ({ name: n, fields: f, check });

/**
 * Digest length fixed by a type octet at `at` (DS digest type, SSHFP fingerprint type, ZONEMD hash algorithm): BIND
 * rejects other lengths for the algorithms it knows, in text and on the wire, and so do we.
 */
function digestLength(at: number, lengths: Record<number, number>, what: string): Descriptor['check'] {
  return (rd) => {
    const want = lengths[rd[at]];
    const got = rd.length - at - 1;
    return want === undefined || want === got ? undefined : `${what} ${rd[at]} needs a ${want}-octet digest, not ${got}`;
  };
}

/** IANA "Delegation Signer (DS) Resource Record (RR) Type Digest Algorithms". */
const DS_DIGESTS: Readonly<Record<string, number>> = {
  'SHA-1': 1, SHA1: 1, 'SHA-256': 2, SHA256: 2, GOST: 3, 'SHA-384': 4, SHA384: 4,
};
const dsFields = [u16('key tag'), secAlg, uint(1, 'digest type', { names: DS_DIGESTS }), hexRest('digest')];
const dsCheck = digestLength(3, { 1: 20, 2: 32, 4: 48 }, 'digest type');
const dnskeyFields = [u16('flags'), u8('protocol'), secAlg, base64Rest('public key')];
const rrsigFields = [
  rrtype('type covered'), secAlg, u8('labels'), u32('original TTL'), time('signature expiration'),
  time('signature inception'), u16('key tag'), name("signer's name"), base64Rest('signature'),
];
const tlsaFields = [u8('usage'), u8('selector'), u8('matching type'), hexRest('certificate association data')];
const svcbFields = [u16('priority'), name('target'), svcParamsField];

export const DESCRIPTORS: Readonly<Record<number, Descriptor>> = {
  [RRType.A]: single('A', [ipv4]),
  [RRType.NS]: single('NS', [name('nsdname')]),
  [RRType.MD]: single('MD', [name('madname')]),
  [RRType.MF]: single('MF', [name('madname')]),
  [RRType.CNAME]: single('CNAME', [name('cname')]),
  [RRType.SOA]: single('SOA', [
    name('mname'), name('rname'), u32('serial'), duration('refresh'), duration('retry'), duration('expire'),
    duration('minimum'),
  ]),
  [RRType.MB]: single('MB', [name('madname')]),
  [RRType.MG]: single('MG', [name('mgmname')]),
  [RRType.MR]: single('MR', [name('newname')]),
  [RRType.PTR]: single('PTR', [name('ptrdname')]),
  [RRType.HINFO]: single('HINFO', [charString('cpu'), charString('os')]),
  [RRType.MINFO]: single('MINFO', [name('rmailbx'), name('emailbx')]),
  [RRType.MX]: single('MX', [u16('preference'), name('exchange')]),
  [RRType.TXT]: single('TXT', [charStrings('text')]),
  [RRType.RP]: single('RP', [name('mbox'), name('txt')]),
  [RRType.AFSDB]: single('AFSDB', [u16('subtype'), name('hostname')]),
  [RRType.X25]: single('X25', [charString('PSDN address')]),
  [RRType.ISDN]: single('ISDN', [charString('ISDN address'), charString('sa', true)]),
  [RRType.RT]: single('RT', [u16('preference'), name('intermediate host')]),
  [RRType.SIG]: single('SIG', rrsigFields),
  [RRType.KEY]: single('KEY', dnskeyFields),
  [RRType.PX]: single('PX', [u16('preference'), name('map822'), name('mapx400')]),
  [RRType.GPOS]: single('GPOS', [charString('longitude'), charString('latitude'), charString('altitude')]),
  [RRType.AAAA]: single('AAAA', [ipv6]),
  [RRType.LOC]: single('LOC', [locField]),
  [RRType.SRV]: single('SRV', [u16('priority'), u16('weight'), u16('port'), name('target')]),
  [RRType.NAPTR]: single('NAPTR', [
    u16('order'), u16('preference'), charString('flags'), charString('services'), charString('regexp'),
    name('replacement'),
  ]),
  [RRType.KX]: single('KX', [u16('preference'), name('exchanger')]),
  [RRType.CERT]: single('CERT', [
    uint(2, 'certificate type', { names: CERT_TYPES, printNames: true }), u16('key tag'),
    uint(1, 'algorithm', { names: SEC_ALGORITHMS, printNames: true }), base64Rest('certificate'),
  ]),
  [RRType.DNAME]: single('DNAME', [name('target')]),
  [RRType.APL]: single('APL', [aplField]),
  [RRType.DS]: single('DS', dsFields, dsCheck),
  [RRType.SSHFP]: single(
    'SSHFP', [u8('algorithm'), u8('fingerprint type'), hexRest('fingerprint')],
    digestLength(1, { 1: 20, 2: 32 }, 'fingerprint type'),
  ),
  [RRType.IPSECKEY]: single('IPSECKEY', [u8('precedence'), ipseckeyGateway, base64Rest('public key', 0)]),
  [RRType.RRSIG]: single('RRSIG', rrsigFields),
  // An NSEC always lists at least NSEC and RRSIG (RFC 4034 §4.1.2); BIND rejects an empty one. NSEC3 may be empty.
  [RRType.NSEC]: single('NSEC', [name('next domain name'), typeBitmap], (rd) => {
    let p = 0;
    while (rd[p] !== 0) p += rd[p] + 1;
    return p + 1 < rd.length ? undefined : 'NSEC type bitmap is empty';
  }),
  [RRType.DNSKEY]: single('DNSKEY', dnskeyFields),
  [RRType.DHCID]: single('DHCID', [base64Rest('digest')]),
  [RRType.NSEC3]: single('NSEC3', [
    u8('hash algorithm'), u8('flags'), u16('iterations'), saltField('salt'), hashField('next hashed owner name'),
    typeBitmap,
  ]),
  [RRType.NSEC3PARAM]: single('NSEC3PARAM', [u8('hash algorithm'), u8('flags'), u16('iterations'), saltField('salt')]),
  [RRType.TLSA]: single('TLSA', tlsaFields),
  [RRType.SMIMEA]: single('SMIMEA', tlsaFields),
  [RRType.HIP]: single('HIP', [hipField]),
  [RRType.NINFO]: single('NINFO', [charStrings('text')]),
  [RRType.RKEY]: single('RKEY', dnskeyFields),
  [RRType.TALINK]: single('TALINK', [name('previous name'), name('next name')]),
  [RRType.CDS]: single('CDS', dsFields, dsCheck),
  [RRType.CDNSKEY]: single('CDNSKEY', dnskeyFields),
  [RRType.OPENPGPKEY]: single('OPENPGPKEY', [base64Rest('public key')]),
  [RRType.CSYNC]: single('CSYNC', [u32('SOA serial'), u16('flags'), typeBitmap]),
  [RRType.ZONEMD]: single(
    'ZONEMD', [u32('serial'), u8('scheme'), u8('hash algorithm'), hexRest('digest', 12)],
    digestLength(5, { 1: 48, 2: 64 }, 'hash algorithm'),
  ),
  [RRType.SVCB]: single('SVCB', svcbFields),
  [RRType.HTTPS]: single('HTTPS', svcbFields),
  [RRType.SPF]: single('SPF', [charStrings('text')]),
  [RRType.NID]: single('NID', [u16('preference'), ilnp64]),
  [RRType.L32]: single('L32', [u16('preference'), ipv4]),
  [RRType.L64]: single('L64', [u16('preference'), ilnp64]),
  [RRType.LP]: single('LP', [u16('preference'), name('fqdn')]),
  [RRType.EUI48]: single('EUI48', [euiField(6)]),
  [RRType.EUI64]: single('EUI64', [euiField(8)]),
  [RRType.TKEY]: single('TKEY', [
    name('algorithm'), time('inception'), time('expiration'), u16('mode'), u16('error'), base64U16('key'),
    base64U16('other data'),
  ]),
  [RRType.TSIG]: single('TSIG', [
    name('algorithm'), uint(6, 'time signed'), u16('fudge'), base64U16('MAC'), u16('original id'), u16('error'),
    base64U16('other data'),
  ]),
  [RRType.URI]: single('URI', [u16('priority'), u16('weight'), stringRest('target')]),
  [RRType.CAA]: single('CAA', [u8('flags'), caaTag, stringRest('value')]),
  [RRType.AVC]: single('AVC', [charStrings('text')]),
  [RRType.AMTRELAY]: single('AMTRELAY', [u8('precedence'), amtRelay]),
  [RRType.TA]: single('TA', dsFields, dsCheck),
  [RRType.DLV]: single('DLV', dsFields, dsCheck),
};

/**
 * Types whose RDATA names are lower-cased in canonical form: RFC 4034 §6.2 as amended by RFC 6840 §5.1 (NSEC and
 * HINFO removed). Names of other types keep their case.
 */
export const CANONICAL_LOWER_TYPES: ReadonlySet<number> = new Set([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX, RRType.RP, RRType.AFSDB, RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR,
  RRType.KX, RRType.SRV, RRType.DNAME, RRType.A6, RRType.RRSIG,
]);

/**
 * Types whose RDATA names a receiver decompresses (RFC 3597 §4: MUST for the RFC 1035 well-known types, SHOULD for
 * RP, AFSDB, RT, SIG, PX, NXT, NAPTR, SRV). A compression pointer inside any other type's RDATA is malformed.
 */
export const DECOMPRESS_TYPES: ReadonlySet<number> = new Set([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX, RRType.RP, RRType.AFSDB, RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR,
  RRType.SRV,
]);
