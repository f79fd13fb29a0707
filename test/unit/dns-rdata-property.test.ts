// Property tests over every type in the descriptor table: random valid RDATA (built field by field from the table)
// survives wire encode → decode and print → parse unchanged; the decoder never throws anything but DecodeError;
// whatever the decoder accepts prints natively and parses back; canonical ordering is a total order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { COMPRESSIBLE_TYPES, RRType, typeToString } from '../../src/dns/constants.js';
import { DecodeError, TextError } from '../../src/dns/errors.js';
import { Name } from '../../src/dns/name.js';
import {
  canonicalRdata,
  compareRdata,
  DESCRIPTORS,
  encodeTypeBitmap,
  knownRdataTypes,
  rdataFromString,
  rdataFromText,
  rdataToText,
  readRdata,
  validateRdata,
  writeRdata,
} from '../../src/dns/rdata.js';
import type { Field } from '../../src/dns/rdata/fields.js';
import { WireReader, WireWriter } from '../../src/dns/wire.js';

const RUNS = Number(process.env.RDATA_PROPERTY_RUNS ?? 150);
const origin = Name.from('Example.ORG');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const concat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const u16 = (v: number) => [v >> 8, v & 0xff];
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

const label = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/).map((s) => Uint8Array.from(Buffer.from(s, 'latin1'))) },
  { weight: 1, arbitrary: bytes(1, 12) },
);
/** Random names; some inside the origin so relative printing is exercised. */
const nameArb: fc.Arbitrary<Name> = fc
  .tuple(fc.array(label, { maxLength: 4 }), fc.boolean())
  .map(([labels, inside]) => (inside ? new Name(labels).concat(origin) : new Name(labels)));
const nameWire = nameArb.map((n) => n.toWire());
const charStr = bytes(0, 40).map((b) => concat([b.length], b));

function uintArb(size: number): fc.Arbitrary<Uint8Array> {
  return bytes(size, size);
}

const svcParams: fc.Arbitrary<Uint8Array> = fc
  .record(
    {
      alpn: fc.array(bytes(1, 8), { minLength: 1, maxLength: 3 }).map((ids) => concat(...ids.map((i) => concat([i.length], i)))),
      ndalpn: fc.constant(new Uint8Array(0)),
      port: bytes(2, 2),
      ipv4: fc.integer({ min: 1, max: 3 }).chain((n) => bytes(4 * n, 4 * n)),
      ech: bytes(1, 20),
      ipv6: fc.integer({ min: 1, max: 2 }).chain((n) => bytes(16 * n, 16 * n)),
      dohpath: bytes(1, 20),
      ohttp: fc.constant(new Uint8Array(0)),
      unknown: fc.dictionary(fc.integer({ min: 9, max: 65534 }).map(String), bytes(0, 12), { maxKeys: 2 }),
      mandatory: fc.boolean(),
    },
    { requiredKeys: ['unknown', 'mandatory'] },
  )
  .map((r) => {
    const m = new Map<number, Uint8Array>();
    const known: [keyof typeof r, number][] = [['alpn', 1], ['ndalpn', 2], ['port', 3], ['ipv4', 4], ['ech', 5], ['ipv6', 6], ['dohpath', 7], ['ohttp', 8]];
    for (const [k, code] of known) if (r[k] !== undefined) m.set(code, r[k] as Uint8Array);
    if (!m.has(1)) m.delete(2); // no-default-alpn only with alpn (RFC 9460 §7.1.1)
    for (const [k, v] of Object.entries(r.unknown)) m.set(Number(k), v);
    if (r.mandatory && m.size > 0) m.set(0, concat(...[...m.keys()].sort((a, b) => a - b).map(u16)));
    return concat(...[...m.keys()].sort((a, b) => a - b).flatMap((k) => [u16(k), u16(m.get(k)!.length), m.get(k)!]));
  });

const aplItem = fc
  .tuple(fc.boolean(), fc.boolean(), bytes(16, 16), fc.nat(128), fc.nat(16))
  .map(([v6, neg, addr, pfx, cut]) => {
    const size = v6 ? 16 : 4;
    let part = addr.subarray(0, Math.min(cut, size));
    while (part.length > 0 && part[part.length - 1] === 0) part = part.subarray(0, part.length - 1);
    return concat(u16(v6 ? 2 : 1), [pfx % (size * 8 + 1), (neg ? 0x80 : 0) | part.length], part);
  });

const gateway = (type: number): fc.Arbitrary<Uint8Array> =>
  type === 0 ? fc.constant(new Uint8Array(0)) : type === 1 ? bytes(4, 4) : type === 2 ? bytes(16, 16) : nameWire;

const precision = fc.oneof(fc.constant(0), fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([m, e]) => (m << 4) | e));
const angle = (maxDeg: number) => fc.integer({ min: 2 ** 31 - maxDeg * 3_600_000, max: 2 ** 31 + maxDeg * 3_600_000 });
const u32b = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** A generator of valid wire bytes for one field codec. */
function fieldArb(f: Field): fc.Arbitrary<Uint8Array> {
  const min = (f as { min?: number }).min ?? 0;
  switch (f.kind) {
    case 'u8':
      return uintArb(1);
    case 'u16':
      return uintArb(2);
    case 'u32':
      return uintArb(4);
    case 'u48':
      return uintArb(6);
    case 'ipv4':
      return bytes(4, 4);
    case 'ipv6':
      return bytes(16, 16);
    case 'name':
      return nameWire;
    case 'string':
      return charStr;
    case 'strings':
      return fc.array(charStr, { minLength: 1, maxLength: 4 }).map((a) => concat(...a));
    case 'stringRest':
      return bytes(0, 40);
    case 'base64':
    case 'hex':
      return bytes(min, min + 40);
    case 'salt':
      return bytes(0, 20).map((b) => concat([b.length], b));
    case 'hash32':
      return bytes(1, 32).map((b) => concat([b.length], b));
    case 'b64u16':
      return bytes(0, 40).map((b) => concat(u16(b.length), b));
    case 'bitmap':
      return fc
        .array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 65535 })), { maxLength: 10 })
        .map((t) => encodeTypeBitmap(t));
    case 'loc':
      return fc
        .tuple(precision, precision, precision, angle(90), angle(180), fc.integer({ min: 0, max: 0xffffffff }))
        .map(([s, h, v, lat, lon, alt]) => concat([0, s, h, v], u32b(lat), u32b(lon), u32b(alt)));
    case 'svcparams':
      return svcParams;
    case 'apl':
      return fc.array(aplItem, { maxLength: 4 }).map((a) => concat(...a));
    case 'ipseckeyGateway':
      return fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.nat(255))
        .chain(([t, alg]) => gateway(t).map((g) => concat([t, alg], g)));
    case 'amtRelay':
      return fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 })).chain(([d, t]) => gateway(t).map((g) => concat([(d ? 0x80 : 0) | t], g)));
    case 'caaTag':
      return fc.stringMatching(/^[a-zA-Z0-9]{1,15}$/).map((s) => concat([s.length], Buffer.from(s, 'latin1')));
    case 'hip':
      return fc
        .tuple(bytes(1, 20), fc.nat(255), bytes(1, 40), fc.array(nameWire, { maxLength: 2 }))
        .map(([hit, alg, pk, rvs]) => concat([hit.length, alg], u16(pk.length), hit, pk, ...rvs));
    case 'eui48':
      return bytes(6, 6);
    case 'eui64':
    case 'ilnp64':
      return bytes(8, 8);
    default:
      throw new Error(`no generator for field kind ${f.kind}`);
  }
}

/**
 * Random valid RDATA of a type: its fields in order, optional trailing fields sometimes left out, kept when the
 * type's cross-field rule (digest lengths, non-empty NSEC bitmap) holds.
 */
function rdataArb(type: number): fc.Arbitrary<Uint8Array> {
  const { fields, check } = DESCRIPTORS[type];
  return fc
    .tuple(fc.tuple(...fields.map(fieldArb)), fc.boolean())
    .map(([parts, dropOptional]) => {
      let n = parts.length;
      if (dropOptional) while (n > 0 && fields[n - 1].optional) n--;
      return concat(...parts.slice(0, n));
    })
    .filter((rd) => check?.(rd) === undefined);
}

/**
 * Encode into a writer that already holds names RDATA names may point at, then decode. Compression matches names
 * case-insensitively, so with `compress` a name may come back in the case of an earlier one.
 */
function wireRoundTrip(type: number, rd: Uint8Array, compress = false): Uint8Array {
  const w = new WireWriter(512, compress);
  w.name(origin);
  w.name(Name.from('a.b.c.example.org'));
  const start = w.pos;
  writeRdata(type, rd, w);
  const len = w.pos - start;
  const msg = w.finish();
  const r = new WireReader(msg, start);
  const out = readRdata(type, r, len);
  assert.equal(r.pos, msg.length);
  return out;
}

const types = knownRdataTypes();

test('every table field kind has a generator; the table covers the required types', () => {
  for (const t of types) for (const f of DESCRIPTORS[t].fields) fieldArb(f);
  const required = ['A', 'AAAA', 'NS', 'CNAME', 'DNAME', 'SOA', 'PTR', 'MX', 'TXT', 'SPF', 'HINFO', 'RP', 'AFSDB', 'SRV',
    'NAPTR', 'KX', 'CERT', 'DS', 'CDS', 'SSHFP', 'IPSECKEY', 'RRSIG', 'NSEC', 'DNSKEY', 'CDNSKEY', 'NSEC3', 'NSEC3PARAM',
    'TLSA', 'SMIMEA', 'OPENPGPKEY', 'CSYNC', 'ZONEMD', 'SVCB', 'HTTPS', 'URI', 'CAA', 'LOC', 'TSIG', 'MINFO', 'DHCID',
    'EUI48', 'EUI64', 'NID', 'L32', 'L64', 'LP', 'APL', 'DLV', 'TA', 'HIP'];
  const have = new Set(types.map(typeToString));
  for (const r of required) assert.ok(have.has(r), r);
});

for (const type of types) {
  const tn = typeToString(type);
  test(`${tn}: decode(encode(x)) = x, parse(print(x)) = x, canonical form stable`, () => {
    fc.assert(
      fc.property(rdataArb(type), (rd) => {
        validateRdata(type, rd);
        assert.equal(hex(wireRoundTrip(type, rd)), hex(rd), 'wire');
        const viaCompression = wireRoundTrip(type, rd, true);
        if (COMPRESSIBLE_TYPES.has(type)) assert.equal(hex(canonicalRdata(type, viaCompression)), hex(canonicalRdata(type, rd)), 'compressed wire');
        else assert.equal(hex(viaCompression), hex(rd), 'wire, writer compressing');
        const text = rdataToText(type, rd);
        assert.ok(!text.startsWith('\\#'), `valid ${tn} printed generically: ${text}`);
        assert.equal(hex(rdataFromString(type, text, Name.root)), hex(rd), `text "${text}"`);
        const rel = rdataToText(type, rd, origin);
        assert.equal(hex(rdataFromString(type, rel, origin)), hex(rd), `relative text "${rel}"`);
        assert.equal(hex(rdataFromString(type, `\\# ${rd.length} ${hex(rd)}`, origin)), hex(rd), 'RFC 3597 input');
        // RDATA stored as a view into a shared buffer (the zone parser's slabs) behaves the same
        const view = concat([7, 7, 7], rd, [7]).subarray(3, 3 + rd.length);
        assert.equal(rdataToText(type, view, origin), rel, 'subarray view');
        assert.equal(hex(canonicalRdata(type, view)), hex(canonicalRdata(type, rd)), 'subarray canonical');
        const c = canonicalRdata(type, rd);
        validateRdata(type, c);
        assert.equal(hex(canonicalRdata(type, c)), hex(c), 'canonical idempotent');
        assert.equal(c.length, rd.length);
      }),
      { numRuns: RUNS },
    );
  });

  test(`${tn}: truncated or random RDATA only ever raises DecodeError; accepted RDATA round-trips`, () => {
    const tryDecode = (b: Uint8Array, len: number): Uint8Array | undefined => {
      try {
        return readRdata(type, new WireReader(b), len);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        assert.equal(e.kind, len <= b.length ? 'rdata' : 'truncated');
        return undefined;
      }
    };
    fc.assert(
      fc.property(rdataArb(type), bytes(0, 60), (rd, junk) => {
        for (let cut = 0; cut < rd.length; cut++) tryDecode(rd.subarray(0, cut), cut);
        tryDecode(rd, rd.length + 1); // RDLENGTH beyond the message
        for (const b of [junk, concat(rd, junk.subarray(0, 3))]) {
          const got = tryDecode(b, b.length);
          // the validating walk (no Name values built) agrees with the decoder on internal-form bytes
          let valid = true;
          try {
            validateRdata(type, b);
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            valid = false;
          }
          assert.equal(valid, got !== undefined && hex(got) === hex(b), `validateRdata on ${hex(b)}`);
          if (got) {
            const text = rdataToText(type, got);
            assert.equal(hex(rdataFromString(type, text, Name.root)), hex(got), `accepted ${hex(b)} prints as "${text}"`);
          }
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
}

/** Token-ish junk: numbers, names, escapes, base64/hex-looking words, SVCB-like pairs, the RFC 3597 marker. */
const junkToken = fc.oneof(
  fc.stringMatching(/^[0-9]{1,12}$/),
  fc.stringMatching(/^[a-zA-Z0-9.-]{1,12}\.?$/),
  fc.constantFrom('\\#', '.', '@', '-', 'N', 'S', 'E', 'W', 'A', 'TYPE65534', 'alpn=h2', 'mandatory=alpn', 'port=53', 'key7=x', '1:1.2.3.4/8', '!2:::/0', '0.5m', '\\', '\\2', '\\999', 'AQID', 'AQ==', '00-00-5e-00-53-2a'),
  fc.string({ maxLength: 8 }),
);
const tokensArb = fc.array(fc.record({ text: junkToken, quoted: fc.boolean() }), { maxLength: 9 });

test('text parser: junk tokens only ever raise TextError, and what it accepts round-trips', () => {
  fc.assert(
    fc.property(fc.constantFrom(...types, 65534), tokensArb, (type, tokens) => {
      let rd: Uint8Array;
      try {
        rd = rdataFromText(type, tokens, origin);
      } catch (e) {
        if (e instanceof TextError) {
          assert.ok(e.token !== undefined && e.token >= 0 && e.token <= Math.max(0, tokens.length - 1) + 1, `token index ${e.token}`);
          return;
        }
        throw e;
      }
      validateRdata(type, rd);
      assert.equal(hex(rdataFromString(type, rdataToText(type, rd), Name.root)), hex(rd));
    }),
    { numRuns: RUNS * 20 },
  );
});

test('unknown types: any bytes round-trip through wire and RFC 3597 text', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }).filter((t) => !(t in DESCRIPTORS)), bytes(0, 50), (type, rd) => {
      assert.equal(hex(wireRoundTrip(type, rd)), hex(rd));
      const text = rdataToText(type, rd);
      assert.match(text, /^\\# \d+/);
      assert.equal(hex(rdataFromString(type, text)), hex(rd));
    }),
    { numRuns: RUNS },
  );
});

test('compareRdata is a total order consistent with byte equality', () => {
  const sample = fc.oneof(bytes(0, 6), rdataArb(RRType.MX).map((rd) => canonicalRdata(RRType.MX, rd)));
  fc.assert(
    fc.property(sample, sample, sample, (a, b, c) => {
      const ab = compareRdata(a, b);
      assert.ok(Math.sign(ab) + Math.sign(compareRdata(b, a)) === 0, 'antisymmetric');
      assert.equal(ab === 0, hex(a) === hex(b), 'zero iff equal');
      if (ab <= 0 && compareRdata(b, c) <= 0) assert.ok(compareRdata(a, c) <= 0, 'transitive');
      const sorted = [a, b, c].sort(compareRdata);
      for (let i = 1; i < 3; i++) assert.ok(compareRdata(sorted[i - 1], sorted[i]) <= 0);
    }),
    { numRuns: RUNS * 4 },
  );
});

test('canonical RDATA equals for names differing only in case, where the RFC says so', () => {
  fc.assert(
    fc.property(rdataArb(RRType.SRV), (rd) => {
      const upper = rd.map((b, i) => (i >= 6 && b >= 0x61 && b <= 0x7a ? b - 32 : b));
      assert.equal(compareRdata(canonicalRdata(RRType.SRV, rd), canonicalRdata(RRType.SRV, upper)), 0);
    }),
    { numRuns: RUNS },
  );
});
