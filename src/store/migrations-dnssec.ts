// Schema for DNSSEC key management (issue 9): named policies (BIND's dnssec-policy / Knot's policy), the keys of each
// zone with their state and timing, and which policy each zone follows with the operator's pending requests (a
// rollover, a full re-sign). Registered in migrations.ts as 0007.
//
// Durations in a policy are seconds (as in DNS TTLs and the peers' configuration); times of keys and requests are ms
// since the epoch like every other time column. A key's private part is never stored in clear: `private_enc` is
// AES-256-GCM under a key-encryption key kept outside the database (services/kek.ts), so a dump or a replica of the
// database holds no usable private key.

import type { Generated, Kysely, Migration } from 'kysely';
import type { Dialect } from './migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export interface DnssecPolicyTable {
  id: Generated<number>;
  name: string;
  /** 1 for the built-in policies (default, default-nsec3): not changeable. */
  builtin: number;
  /** 'csk' (one combined key) or 'ksk-zsk'. */
  key_scheme: string;
  /** DNSSEC algorithm number. */
  algorithm: number;
  /** RSA modulus bits; null for EC/EdDSA. */
  key_bits: number | null;
  /** Key lifetimes in seconds, 0 = unlimited; only the ones of the scheme's roles are set. */
  csk_lifetime: number | null;
  ksk_lifetime: number | null;
  zsk_lifetime: number | null;
  sig_validity: number;
  sig_validity_dnskey: number;
  sig_refresh: number;
  sig_jitter: number;
  dnskey_ttl: number;
  max_zone_ttl: number;
  zone_propagation_delay: number;
  parent_ds_ttl: number;
  parent_propagation_delay: number;
  publish_safety: number;
  retire_safety: number;
  /** Delete removed keys after this long (0 = keep). */
  purge_keys: number;
  /** 'nsec' | 'nsec3'. */
  denial: string;
  nsec3_iterations: number;
  nsec3_salt_length: number;
  nsec3_opt_out: number;
  cds: number;
  cdnskey: number;
  /** JSON array of DS digest types for CDS (2 = SHA-256). */
  cds_digest_types: string;
  /** 'auto' (query the parent's NS), 'explicit' (only the parental agents), 'no' (operator confirms with ds_seen). */
  checkds: string;
  /** JSON array of "address" or "address#port" strings. */
  parental_agents: string;
  ctime: number;
  mtime: number;
}

export interface DnssecKeyTable {
  id: Generated<number>;
  zone_id: number;
  algorithm: number;
  /** 'csk' | 'ksk' | 'zsk'. */
  role: string;
  /** DNSKEY flags (256 or 257). */
  flags: number;
  key_tag: number;
  /** DNSKEY RDATA (public). */
  dnskey: Uint8Array;
  /** version 1 | 12-octet nonce | AES-256-GCM ciphertext of the PKCS#8 DER | 16-octet tag. */
  private_enc: Uint8Array;
  /** Fingerprint of the key-encryption key that sealed private_enc (not secret; tells "wrong KEK" from damage). */
  kek_id: string;
  /** 'generated' | 'imported'. */
  origin: string;
  /** hidden | published | active | retired | removed (the timing engine moves keys along). */
  state: string;
  /** For a KSK/CSK: hidden | submit (give the DS to the parent) | seen | withdraw | withdrawn; null for a ZSK. */
  ds_state: string | null;
  created: number;
  published: number | null;
  active: number | null;
  retired: number | null;
  removed: number | null;
  ds_seen: number | null;
  /** When the parent was confirmed to serve this key's DS no more (0023). */
  ds_withdrawn: number | null;
  mtime: number;
}

export interface ZoneDnssecTable {
  zone_id: number;
  /** null: the zone is to be (or stay) unsigned. */
  policy_id: number | null;
  /** A rollover the operator asked for and the timing engine has not started: 'csk' | 'ksk' | 'zsk'. */
  rollover_role: string | null;
  rollover_requested: number | null;
  /** A full re-sign asked for (sign_zone) and not yet done. */
  resign_requested: number | null;
  /** What the last parent DS check found, JSON (0023); null: none made. */
  parent_check: string | null;
  /**
   * The denial of existence an RFC 2136 UPDATE asked for (0023): {"kind":"nsec3","iterations":0,"salt":"hex","optOut":
   * false} after an NSEC3PARAM was added, {"kind":"nsec"} after it was deleted; null: the policy's. A new policy clears it.
   */
  denial_override: string | null;
  mtime: number;
}

export interface DnssecTables {
  dnssec_policies: DnssecPolicyTable;
  dnssec_keys: DnssecKeyTable;
  zone_dnssec: ZoneDnssecTable;
}

const DAY = 86_400;
const HOUR = 3_600;

/**
 * The built-in policies: BIND 9.20's `dnssec-policy "default"` (lib/isccfg/kaspconf.c, FIELD-NOTES §1) and the same
 * with NSEC3 in RFC 9276's parameters (0 iterations, no salt, no opt-out) for the DMS zone flag nsec3.
 */
export function builtinPolicies(now: number): Omit<DnssecPolicyTable, 'id'>[] {
  const base = {
    builtin: 1,
    key_scheme: 'csk',
    algorithm: 13,
    key_bits: null,
    csk_lifetime: 0,
    ksk_lifetime: null,
    zsk_lifetime: null,
    sig_validity: 14 * DAY,
    sig_validity_dnskey: 14 * DAY,
    sig_refresh: 5 * DAY,
    sig_jitter: 12 * HOUR,
    dnskey_ttl: HOUR,
    max_zone_ttl: DAY,
    zone_propagation_delay: 300,
    parent_ds_ttl: DAY,
    parent_propagation_delay: HOUR,
    publish_safety: HOUR,
    retire_safety: HOUR,
    purge_keys: 90 * DAY,
    denial: 'nsec',
    nsec3_iterations: 0,
    nsec3_salt_length: 0,
    nsec3_opt_out: 0,
    cds: 1,
    cdnskey: 1,
    cds_digest_types: '[2]',
    checkds: 'auto',
    parental_agents: '[]',
    ctime: now,
    mtime: now,
  };
  return [
    { ...base, name: 'default' },
    { ...base, name: 'default-nsec3', denial: 'nsec3' },
  ];
}

export function dnssecTables(dialect: Dialect): Migration {
  const pg = dialect === 'postgres';
  const blob = pg ? 'bytea' : 'blob';
  const withId = (db: AnyDb, table: string) =>
    pg
      ? db.schema.createTable(table).addColumn('id', 'bigserial', (c) => c.primaryKey())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey());
  return {
    async up(db: AnyDb) {
      let p = withId(db, 'dnssec_policies')
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('builtin', 'integer', (c) => c.notNull())
        .addColumn('key_scheme', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'integer', (c) => c.notNull())
        .addColumn('key_bits', 'integer');
      for (const col of ['csk_lifetime', 'ksk_lifetime', 'zsk_lifetime']) p = p.addColumn(col, 'bigint');
      for (const col of [
        'sig_validity',
        'sig_validity_dnskey',
        'sig_refresh',
        'sig_jitter',
        'dnskey_ttl',
        'max_zone_ttl',
        'zone_propagation_delay',
        'parent_ds_ttl',
        'parent_propagation_delay',
        'publish_safety',
        'retire_safety',
        'purge_keys',
      ])
        p = p.addColumn(col, 'bigint', (c) => c.notNull());
      await p
        .addColumn('denial', 'text', (c) => c.notNull())
        .addColumn('nsec3_iterations', 'integer', (c) => c.notNull())
        .addColumn('nsec3_salt_length', 'integer', (c) => c.notNull())
        .addColumn('nsec3_opt_out', 'integer', (c) => c.notNull())
        .addColumn('cds', 'integer', (c) => c.notNull())
        .addColumn('cdnskey', 'integer', (c) => c.notNull())
        .addColumn('cds_digest_types', 'text', (c) => c.notNull())
        .addColumn('checkds', 'text', (c) => c.notNull())
        .addColumn('parental_agents', 'text', (c) => c.notNull())
        .addColumn('ctime', 'bigint', (c) => c.notNull())
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('dnssec_policies').values(builtinPolicies(Date.now())).execute();

      await withId(db, 'dnssec_keys')
        .addColumn('zone_id', 'bigint', (c) => c.notNull().references('zones.id').onDelete('cascade'))
        .addColumn('algorithm', 'integer', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('flags', 'integer', (c) => c.notNull())
        .addColumn('key_tag', 'integer', (c) => c.notNull())
        .addColumn('dnskey', blob, (c) => c.notNull())
        .addColumn('private_enc', blob, (c) => c.notNull())
        .addColumn('kek_id', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('ds_state', 'text')
        .addColumn('created', 'bigint', (c) => c.notNull())
        .addColumn('published', 'bigint')
        .addColumn('active', 'bigint')
        .addColumn('retired', 'bigint')
        .addColumn('removed', 'bigint')
        .addColumn('ds_seen', 'bigint')
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dnssec_keys_zone').on('dnssec_keys').column('zone_id').execute();

      await db.schema
        .createTable('zone_dnssec')
        .addColumn('zone_id', 'bigint', (c) => c.primaryKey().references('zones.id').onDelete('cascade'))
        .addColumn('policy_id', 'bigint', (c) => c.references('dnssec_policies.id'))
        .addColumn('rollover_role', 'text')
        .addColumn('rollover_requested', 'bigint')
        .addColumn('resign_requested', 'bigint')
        .addColumn('mtime', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('zone_dnssec_policy').on('zone_dnssec').column('policy_id').execute();
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('zone_dnssec').ifExists().execute();
      await db.schema.dropTable('dnssec_keys').ifExists().execute();
      await db.schema.dropTable('dnssec_policies').ifExists().execute();
    },
  };
}
