// 0023 (issue 9, rollovers and unsigning): when the parent was confirmed to no longer serve a key's DS (ds_withdrawn:
// by the operator's ds_withdrawn or by the parent DS check), so the key can leave the zone a parent DS TTL later; and
// what the last parent DS check found (parent_check: JSON {at, tag, want, seen, of, servers}) for show_dnssec; and
// the denial of existence asked for by an RFC 2136 UPDATE of NSEC3PARAM (denial_override: JSON, null: the policy's).

import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export const dnssecMore: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('dnssec_keys').addColumn('ds_withdrawn', 'bigint').execute();
    await db.schema.alterTable('zone_dnssec').addColumn('parent_check', 'text').execute();
    await db.schema.alterTable('zone_dnssec').addColumn('denial_override', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('zone_dnssec').dropColumn('denial_override').execute();
    await db.schema.alterTable('zone_dnssec').dropColumn('parent_check').execute();
    await db.schema.alterTable('dnssec_keys').dropColumn('ds_withdrawn').execute();
  },
};
