// 0013: reverse zones found CIDR-fashion (issue 14). Each reverse zone carries its network as a key that sorts and
// prefixes like the network (src/dns/address.ts networkKey), indexed: the most specific reverse zone of an address is
// the longest key among the address key's prefixes, and every reverse zone inside a block is one key range, so an
// auto-PTR pass over any number of addresses costs two index reads, not one query per address or per label.

import type { Kysely, Migration } from 'kysely';
import { networkKey, reverseZoneNetwork } from '../dns/address.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export const reverseNetworks: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('zones').addColumn('rev_net', 'text').execute();
    await db.schema.createIndex('zones_rev_net').on('zones').column('rev_net').execute();
    // Existing reverse zones get their key (a name under in-addr.arpa./ip6.arpa. that is a network).
    const rows = await db.selectFrom('zones').select(['id', 'name']).where((eb) => eb.or([eb('name', 'like', '%.in-addr.arpa.'), eb('name', 'like', '%.ip6.arpa.')])).execute();
    for (const r of rows) {
      const net = reverseZoneNetwork(String(r.name));
      if (net) await db.updateTable('zones').set({ rev_net: networkKey(net.bytes, net.bits) }).where('id', '=', r.id).execute();
    }
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('zones_rev_net').ifExists().execute();
    await db.schema.alterTable('zones').dropColumn('rev_net').execute();
  },
};
