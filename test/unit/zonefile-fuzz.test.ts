// Mutation fuzzing of the parser: whatever the input, parseZoneText must not throw, every problem must carry a
// position inside the input, and whatever records it does return must survive write → parse unchanged.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Name } from '../../src/dns/name.js';
import { checkZone, parseZoneText, writeZoneText, type ZoneRecord } from '../../src/zonefile/index.js';

const origin = Name.from('example.org');
const dir = join(import.meta.dirname, '..', 'fixtures', 'zonefile', 'good');
const seeds = ['basic.zone', 'syntax.zone', 'generate.zone', 'escapes.zone', 'dnssec.zone'].map((f) =>
  readFileSync(join(dir, f), 'latin1'),
);
const alphabet = ['(', ')', '"', '\\', ';', ';|', ';#', ';!', '$', '@', '.', ' ', '\t', '\n', '\r\n', '0', '9', 'A', 'IN', '1h', '\\0', '\\255', '${', '}'];

function essence(r: ZoneRecord): string {
  return JSON.stringify([r.name.toString(), r.type, r.class, r.ttl, Buffer.from(r.rdata).toString('hex'), r.comment ?? null, r.group ?? null, r.flags ?? null]);
}

test('mutated zone files: no throw, positions inside the input, round trip of whatever parsed', () => {
  const edit = fc.record({ at: fc.nat(), del: fc.integer({ min: 0, max: 4 }), ins: fc.array(fc.constantFrom(...alphabet), { maxLength: 3 }) });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }), (si, edits) => {
      let text = seeds[si];
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.ins.join('') + text.slice(at + e.del);
      }
      const lines = text.split('\n').length;
      const r = parseZoneText(text, { origin, file: 'fuzz', generateLimit: 300 });
      for (const p of r.problems) {
        assert.ok(p.line >= 0 && p.line <= lines, `line ${p.line} of ${lines}: ${p.message}`);
        assert.ok(p.column >= 0, p.message);
        if (p.severity === 'error') assert.ok(p.line >= 1 && p.column >= 1, `error without position: ${p.message}`);
      }
      checkZone(origin, r.records);
      const written = writeZoneText(origin, r.records);
      const back = parseZoneText(written, { file: 'rt' });
      assert.deepEqual(back.problems.filter((p) => p.severity === 'error'), [], written);
      assert.deepEqual(back.records.map(essence).sort(), r.records.map(essence).sort());
    }),
    { numRuns: 400 },
  );
});
