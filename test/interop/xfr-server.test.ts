// The primary on the real listeners (startDnsServer): a signed multi-message AXFR over its TCP listener and a signed
// UPDATE over its UDP listener, with dig and nsupdate.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { attachPrimary, zoneTableSource } from '../../src/server/primary.js';
import { QueryHandler } from '../../src/server/query.js';
import { type DnsServer, startDnsServer } from '../../src/server/server.js';
import type { UpdateCommit } from '../../src/server/update.js';
import { ZoneTable } from '../../src/zone/table.js';
import { compileZone } from '../../src/zone/zone.js';
import { Name } from '../../src/dns/name.js';
import { generateTsigKey } from '../../src/dns/tsig.js';
import { ALLOWED_KEY, keySpec, run, versions } from '../helpers/xfr.support.js';

const UPDATER = generateTsigKey(Name.from('u._update.example.org'), 'hmac-sha512');

let server: DnsServer;
let port: number;
const commits: UpdateCommit[] = [];

before(async () => {
  const table = new ZoneTable();
  const v1 = versions(3000)[0];
  table.set(compileZone(v1[0].name, v1));
  const qh = new QueryHandler(table);
  let records = v1;
  attachPrimary(qh, {
    transfers: zoneTableSource(table, { getDiffs: () => undefined, transferRules: () => [{ key: ALLOWED_KEY.name }] }),
    keys: { get: (n) => [ALLOWED_KEY, UPDATER].find((k) => k.name.equals(n)) },
    updates: {
      getZone: (o) => ({ origin: o, records, serial: 1, incUpdates: true, grants: [] }),
      commit: async (c) => {
        commits.push(c);
        records = c.records;
        table.set(compileZone(c.origin, records));
        return { serial: 1 };
      },
    },
  });
  server = await startDnsServer(table, pino({ level: 'silent' }), { listen: [{ address: '127.0.0.1', port: 0 }], handler: qh });
  port = server.listening[0].port;
});
after(() => server?.close());

test('signed AXFR of 3000+ records through the TCP listener', async () => {
  const out = await run('dig', ['-p', String(port), '@127.0.0.1', '-y', keySpec(ALLOWED_KEY), 'example.org', 'AXFR', '+tries=1', '+time=5']);
  assert.doesNotMatch(out.stdout + out.stderr, /failed|Couldn't verify|verify failure/i);
  assert.match(out.stdout, /XFR size: 3008 records \(messages \d{2},/);
});

test('UPDATE with class ANY deletes (empty RDATA) through the UDP listener; the key has no grant: REFUSED', async () => {
  const script = [`server 127.0.0.1 ${port}`, 'zone example.org', 'update delete www.example.org. A', 'update add x.example.org. 60 A 192.0.2.9', 'send', ''].join('\n');
  const res = await run('nsupdate', ['-y', keySpec(ALLOWED_KEY)], script);
  assert.match(res.stdout + res.stderr, /REFUSED/, 'the message was decoded and refused by policy, not rejected as FORMERR');
  assert.equal(commits.length, 0);
});

test('UPDATE with the _update convention key is committed and served', async () => {
  const script = [`server 127.0.0.1 ${port}`, 'zone example.org', 'update delete www.example.org. A', 'update add x.example.org. 60 A 192.0.2.9', 'send', ''].join('\n');
  const res = await run('nsupdate', ['-y', keySpec(UPDATER)], script);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.equal(commits.length, 1);
  assert.equal(commits[0].changeBy, 'u._update.example.org');
  const q = await run('dig', ['-p', String(port), '@127.0.0.1', 'x.example.org', 'A', '+short']);
  assert.equal(q.stdout.trim(), '192.0.2.9');
  const gone = await run('dig', ['-p', String(port), '@127.0.0.1', 'www.example.org', 'A', '+short']);
  assert.equal(gone.stdout.trim(), '');
});
