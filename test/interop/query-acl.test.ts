// Query ACLs (allow-query, issue 15) end to end: the real dmsd on SQLite, lists set with the real zone_tool, answers
// checked with dig from different loopback source addresses (-b 127.0.0.x). A zone with a list answers only the
// listed prefixes and REFUSED (EDE 18 "Prohibited") to the others, over UDP and TCP, within a second of the change;
// a server group's list covers its zones without a list of their own (a zone moved into the group comes under it);
// deleting the entries opens the zone again. Other zones are never affected. /metrics has the TCP counters.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { serviceContext } from '../../src/services/context.js';
import { call } from '../../src/services/operations/index.js';
import { openStore } from '../../src/store/index.js';
import { listeningPort, type Server, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';

const ZONE = (name: string) => `$TTL 300
@ SOA ns1.${name}. hostmaster.${name}. 1 3600 900 604800 300
@ NS ns1.${name}.
ns1 A 192.0.2.1
www A 192.0.2.10
`;

let data: string;
let srv: Server;
const store = () => sqliteArgs(data);

/** dig from source address `from`: the status (NOERROR, REFUSED…) and whether EDE 18 came with it. */
function ask(from: string, name: string, tcp = false): { status: string; prohibited: boolean } {
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(srv.port), '-b', from, '+tries=1', '+time=2', ...(tcp ? ['+tcp'] : []), name, 'A'], { encoding: 'utf8', timeout: 15_000 });
  const out = r.stdout ?? '';
  return { status: /status: (\w+)/.exec(out)?.[1] ?? `no answer: ${out}${r.stderr}`, prohibited: /EDE: 18/.test(out) };
}

before(async () => {
  data = mkdtempSync(join(tmpdir(), 'dms-query-acl-'));
  for (const z of ['a.test', 'b.test', 'c.test']) {
    const file = join(data, `${z}.zone`);
    writeFileSync(file, ZONE(z));
    zoneToolOk(store(), ['load_zone', file, z]);
  }
  zoneToolOk(store(), ['create_sg', 'private']);
  // zone_tool sets a group's apex NS through an editor (edit_apex_ns); the operation is the same one.
  const s = await openStore({ dataDir: data });
  await call(serviceContext(s), 'set_sg_apex_ns', { sg: 'private', apexNs: ['ns1.private.test.'] });
  await s.close();
  zoneToolOk(store(), ['set_zone_sg', 'b.test', 'private']);
  srv = await startDmsdDb(store(), ['--http', '127.0.0.1:0']);
});
after(async () => {
  await srv?.stop();
  if (data) rmSync(data, { recursive: true, force: true });
});

test('a zone list: listed prefixes answered, others REFUSED with EDE 18, UDP and TCP; other zones open', async () => {
  assert.equal(ask('127.0.0.1', 'www.a.test').status, 'NOERROR');
  zoneToolOk(store(), ['add_query_acl', 'a.test', '127.0.0.2', '127.0.0.16/28']);
  const ms = await waitFor(() => ask('127.0.0.1', 'www.a.test').status === 'REFUSED', 3000, 'ACL in force');
  assert.ok(ms < 1500, `ACL in force after ${ms} ms`);
  assert.deepEqual(ask('127.0.0.1', 'www.a.test'), { status: 'REFUSED', prohibited: true });
  assert.equal(ask('127.0.0.1', 'www.a.test', true).status, 'REFUSED');
  assert.equal(ask('127.0.0.2', 'www.a.test').status, 'NOERROR');
  assert.equal(ask('127.0.0.17', 'www.a.test', true).status, 'NOERROR');
  assert.equal(ask('127.0.0.3', 'nx.a.test').status, 'REFUSED', 'no NXDOMAIN leaks either');
  assert.equal(ask('127.0.0.1', 'www.c.test').status, 'NOERROR');
  assert.equal(ask('127.0.0.1', 'www.b.test').status, 'NOERROR');
});

test('a server group list covers its zones without their own; a zone moved into the group comes under it', async () => {
  zoneToolOk(store(), ['add_query_acl', '-g', 'private', '127.0.0.5']);
  await waitFor(() => ask('127.0.0.1', 'www.b.test').status === 'REFUSED', 3000, 'group ACL in force');
  assert.equal(ask('127.0.0.5', 'www.b.test').status, 'NOERROR');
  // a.test keeps its own list, c.test (default group) stays open.
  assert.equal(ask('127.0.0.5', 'www.c.test').status, 'NOERROR');
  assert.equal(ask('127.0.0.1', 'www.c.test').status, 'NOERROR');
  zoneToolOk(store(), ['set_zone_sg', 'c.test', 'private']);
  await waitFor(() => ask('127.0.0.1', 'www.c.test').status === 'REFUSED', 3000, 'moved zone under the group ACL');
  assert.equal(ask('127.0.0.5', 'www.c.test').status, 'NOERROR');
  // A zone's own list wins over its group's.
  zoneToolOk(store(), ['set_zone_sg', 'a.test', 'private']);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(ask('127.0.0.2', 'www.a.test').status, 'NOERROR');
  assert.equal(ask('127.0.0.5', 'www.a.test').status, 'REFUSED');
});

test('deleting the entries opens the zones again; listing shows zone and group entries', async () => {
  const list = zoneToolOk(store(), ['ls_query_acl']);
  assert.match(list, /a\.test\.\s+127\.0\.0\.2\b/);
  assert.match(list, /sg:private\s+127\.0\.0\.5\b/);
  for (const id of [...list.matchAll(/^\s*(\d+)\s/gm)].map((m) => m[1])) zoneToolOk(store(), ['delete_query_acl', id]);
  await waitFor(() => ['a.test', 'b.test', 'c.test'].every((z) => ask('127.0.0.1', `www.${z}`).status === 'NOERROR'), 3000, 'all open again');
  assert.equal(zoneToolOk(store(), ['ls_query_acl']).trim(), '');
});

test('/metrics counts the TCP connections (the digs over TCP above)', async () => {
  const port = await listeningPort(srv, 'http');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const accepted = Number(/^dms_tcp_connections_total\{outcome="accepted"\} (\d+)/m.exec(text)?.[1]);
  assert.ok(accepted >= 2, text);
  assert.match(text, /^dms_tcp_connections \d+/m);
  assert.match(text, /^# TYPE dms_xfr_refused_limit_total counter/m);
});
