// Two compiled zone snapshots compared node by node: names, flags, child counts, wildcard pointers, owner spelling,
// RRsets (records in order, TTLs) and the NSEC3 records. Used to check patched snapshots against compiled ones.

import assert from 'node:assert/strict';
import type { Zone } from '../../src/zone/zone.js';

export function nodeView(z: Zone, key: string) {
  const n = z.nodes.get(key)!;
  const sets = [...n.rrsets.values()].sort((a, b) => a.type - b.type);
  return {
    owner: n.owner ?? null,
    bits: n.bits,
    kids: n.kids,
    wildcard: n.wildcard?.key ?? null,
    delegation: n.delegation,
    belowCut: n.belowCut,
    belowDname: n.belowDname,
    ent: n.emptyNonTerminal,
    sets: sets.map((s) => ({ type: s.type, rrs: s.rrs.map((r) => `${r.name} ${r.ttl} ${Buffer.from(r.rdata).toString('hex')}`) })),
  };
}

export function assertSameZone(got: Zone, want: Zone, what: string): void {
  assert.deepEqual([...got.nodes.keys()].sort(), [...want.nodes.keys()].sort(), `${what}: names`);
  assert.equal(got.nodes.size, want.nodes.size, `${what}: size`);
  for (const key of want.nodes.keys()) assert.deepEqual(nodeView(got, key), nodeView(want, key), `${what}: node ${JSON.stringify(key)}`);
  const n3 = (z: Zone) => [...z.nsec3.entries()].map(([k, l]) => [k, l.map((r) => `${r.type} ${Buffer.from(r.rdata).toString('hex')}`)]).sort();
  assert.deepEqual(n3(got), n3(want), `${what}: NSEC3`);
  assert.equal(got.recordCount, want.recordCount, `${what}: record count`);
  assert.equal(got.serial, want.serial, `${what}: serial`);
  assert.equal(got.negativeTtl, want.negativeTtl, `${what}: negative TTL`);
  assert.equal(got.apex, got.nodes.get(got.originKey), `${what}: apex`);
}
