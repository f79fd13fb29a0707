// Secondary servers as server-group members (issue 4): the service rules on SQLite and PostgreSQL (unique name and
// address, unknown SG, move, enable/disable, rename, delete, cascade with the SG) and what they change in the zone's
// NOTIFY targets; then the zone_tool commands, spawned as an operator runs them, on both backends.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as services from '../../src/services/index.js';
import * as servers from '../../src/services/servers.js';
import { postgresArgs, sqliteArgs, zoneTool, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { testBackends } from '../helpers/postgres.js';
import { ctxOf } from '../helpers/context.js';

const TEXT = '$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

// PostgreSQL is started when a test first needs it.
const { backends, postgres: needPg } = testBackends({ lazy: true });

for (const backend of backends)
  describe(`servers on ${backend.name}`, () => {
    test('create, uniqueness, unknown SG, bad input: typed errors and nothing stored', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        await services.createServerGroup(ctxOf(s), 'sg2', { apexNs: ['ns1.example.org.'] });
        const a = await servers.createServer(ctxOf(s), 'dns-slave0', '192.0.2.53');
        assert.deepEqual(
          { name: a.name, address: a.address, port: a.port, type: a.type, sg: a.sg, enabled: a.enabled, state: a.state },
          { name: 'dns-slave0', address: '192.0.2.53', port: 53, type: 'bind9', sg: 'default', enabled: true, state: 'OK' },
        );
        const b = await servers.createServer(ctxOf(s), 'knot1', '[2001:DB8::1]#5353', { sg: 'sg2', type: 'knot' });
        assert.deepEqual([b.address, b.port, b.type, b.sg], ['2001:db8::1', 5353, 'knot', 'sg2']);
        // The same host on another port is another server; the same address#port is not.
        await servers.createServer(ctxOf(s), 'knot2', '2001:db8::1', { sg: 'sg2', type: 'nsd3' });
        await assert.rejects(servers.createServer(ctxOf(s), 'dup', '2001:db8::1#5353'), servers.ServerAddressExists);
        await assert.rejects(servers.createServer(ctxOf(s), 'dns-slave0', '192.0.2.99'), servers.ServerExists);
        await assert.rejects(servers.createServer(ctxOf(s), 'x', '192.0.2.98', { sg: 'nosuch' }), services.ServerGroupNotFound);
        await assert.rejects(servers.createServer(ctxOf(s), 'x', 'ns1.example.org'), /bad server address/);
        await assert.rejects(servers.createServer(ctxOf(s), 'x', '192.0.2.98#70000'), /bad port/);
        await assert.rejects(servers.createServer(ctxOf(s), 'x', '192.0.2.98', { type: 'powerdns' }), /bad server type/);
        await assert.rejects(servers.createServer(ctxOf(s), 'bad name', '192.0.2.98'), /bad server name/);
        await assert.rejects(servers.createServer(ctxOf(s), '-x', '192.0.2.98'), /bad server name/);
        assert.deepEqual(
          (await servers.listServers(ctxOf(s))).map((v) => v.name),
          ['dns-slave0', 'knot1', 'knot2'],
        );
        assert.deepEqual(
          (await servers.listServers(ctxOf(s), { sg: 'sg2' })).map((v) => `${v.name} ${v.type}`),
          ['knot1 knot', 'knot2 nsd'],
        );
        await assert.rejects(servers.listServers(ctxOf(s), { sg: 'nosuch' }), services.ServerGroupNotFound);
        assert.deepEqual(
          (await servers.getServersByAddress(ctxOf(s), '2001:db8::1')).map((v) => v.name),
          ['knot1', 'knot2'],
        );
        assert.deepEqual(
          (await servers.getServersByAddress(ctxOf(s), '[2001:db8::1]#5353')).map((v) => v.name),
          ['knot1'],
        );
        await assert.rejects(servers.getServersByAddress(ctxOf(s), '192.0.2.200'), servers.ServerNotFound);
        // The default_sg setting decides where a server without -g goes.
        await services.setConfig(ctxOf(s), 'default_sg', 'sg2');
        assert.equal((await servers.createServer(ctxOf(s), 'nsd1', '192.0.2.54', { type: 'nsd' })).sg, 'sg2');
      } finally {
        await s.close();
      }
    });

    test('NOTIFY targets follow membership: enable/disable, move, address, rename, delete, SG deletion', async () => {
      if (backend.name === 'postgres') await needPg();
      const s = await backend.open();
      try {
        await services.createServerGroup(ctxOf(s), 'sg2', { apexNs: ['ns1.example.org.'] });
        await services.createZone(ctxOf(s, 't'), 'a.example', { text: TEXT });
        await services.createZone(ctxOf(s, 't'), 'b.example', { text: TEXT, sg: 'sg2' });
        await services.createZone(ctxOf(s, 't'), 'c.example', { text: TEXT });
        await services.setZoneAltServerGroup(ctxOf(s), 'c.example', 'sg2');
        await services.createTsigKey(ctxOf(s), 'xfr.key');
        await services.createTsigKey(ctxOf(s), 'own.key');
        assert.deepEqual(await services.zonesWithNotifyTargets(ctxOf(s)), []);

        await servers.createServer(ctxOf(s), 's1', '192.0.2.1');
        await servers.createServer(ctxOf(s), 's0', '192.0.2.2#5300');
        await servers.createServer(ctxOf(s), 'other', '192.0.2.9', { sg: 'sg2' });
        assert.equal((await servers.getServer(ctxOf(s), 's1')).zoneCount, 2);
        // Members of the primary SG only (c.example's alternate SG sg2 does not count); by name; no key without rules.
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'a.example'), [
          { address: '192.0.2.2', port: 5300 },
          { address: '192.0.2.1', port: 53 },
        ]);
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'c.example'), await services.zoneNotifyTargets(ctxOf(s), 'a.example'));
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'b.example'), [{ address: '192.0.2.9', port: 53 }]);

        // Signed with the zone's transfer key; an also-notify entry at a member's address wins with its own key.
        await services.addTransferRule(ctxOf(s), { sg: 'default' }, { key: 'xfr.key' });
        await services.addAlsoNotify(ctxOf(s), { zone: 'a.example' }, { address: '192.0.2.1', key: 'own.key' });
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'a.example'), [
          { address: '192.0.2.1', port: 53, key: 'own.key.' },
          { address: '192.0.2.2', port: 5300, key: 'xfr.key.' },
        ]);
        // Membership grants no transfer: the rules are only the explicit ones.
        assert.deepEqual(await services.zoneTransferRules(ctxOf(s), 'b.example'), []);

        await servers.disableServer(ctxOf(s), 's0');
        await assert.rejects(servers.disableServer(ctxOf(s), 's0'), /already disabled/);
        assert.equal((await servers.getServer(ctxOf(s), 's0')).state, 'DISABLED');
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'c.example'), [{ address: '192.0.2.1', port: 53, key: 'xfr.key.' }]);
        await servers.enableServer(ctxOf(s), 's0');
        await assert.rejects(servers.enableServer(ctxOf(s), 's0'), /already enabled/);
        assert.equal((await services.zoneNotifyTargets(ctxOf(s), 'c.example')).length, 2);

        await servers.moveServerSg(ctxOf(s), 's0', 'sg2');
        await assert.rejects(servers.moveServerSg(ctxOf(s), 's0', 'nosuch'), services.ServerGroupNotFound);
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'b.example'), [
          { address: '192.0.2.9', port: 53 },
          { address: '192.0.2.2', port: 5300 },
        ]);
        assert.deepEqual(await services.zoneNotifyTargets(ctxOf(s), 'c.example'), [{ address: '192.0.2.1', port: 53, key: 'xfr.key.' }]);

        await servers.setServerAddress(ctxOf(s), 's0', '192.0.2.3');
        await assert.rejects(servers.setServerAddress(ctxOf(s), 's0', '192.0.2.9'), servers.ServerAddressExists);
        await servers.setServerAddress(ctxOf(s), 's0', '192.0.2.3'); // its own address again is fine
        assert.deepEqual((await services.zoneNotifyTargets(ctxOf(s), 'b.example')).map((t) => `${t.address}#${t.port}`), ['192.0.2.9#53', '192.0.2.3#53']);
        await servers.setServerType(ctxOf(s), 's0', 'knot');
        await assert.rejects(servers.setServerType(ctxOf(s), 's0', 'djbdns'), /bad server type/);

        await servers.renameServer(ctxOf(s), 's0', 's0-new');
        await assert.rejects(servers.renameServer(ctxOf(s), 's1', 'other'), servers.ServerExists);
        await assert.rejects(servers.renameServer(ctxOf(s), 'gone', 'x'), servers.ServerNotFound);
        const renamed = await servers.getServer(ctxOf(s), 's0-new');
        assert.deepEqual([renamed.address, renamed.type, renamed.sg], ['192.0.2.3', 'knot', 'sg2']);
        await assert.rejects(servers.getServer(ctxOf(s), 's0'), servers.ServerNotFound);

        await servers.deleteServer(ctxOf(s), 'other');
        await assert.rejects(servers.deleteServer(ctxOf(s), 'other'), servers.ServerNotFound);
        assert.deepEqual((await services.zoneNotifyTargets(ctxOf(s), 'b.example')).map((t) => t.address), ['192.0.2.3']);
        assert.deepEqual(await services.zonesWithNotifyTargets(ctxOf(s)), ['a.example.', 'b.example.', 'c.example.']);

        // A server group with no zones but a server is not deleted: the server's definition would go with it (as the
        // original's SgStillHasServers). Once its servers are deleted or moved, it goes (with its rules and
        // also-notify entries).
        await services.createServerGroup(ctxOf(s), 'empty', { apexNs: ['ns1.example.org.'] });
        await servers.createServer(ctxOf(s), 'lonely', '192.0.2.77', { sg: 'empty' });
        await assert.rejects(services.deleteServerGroup(ctxOf(s), 'empty'), services.ServerGroupHasServers);
        assert.equal((await servers.getServer(ctxOf(s), 'lonely')).sg, 'empty');
        await servers.deleteServer(ctxOf(s), 'lonely');
        await services.deleteServerGroup(ctxOf(s), 'empty');
        await assert.rejects(servers.getServer(ctxOf(s), 'lonely'), servers.ServerNotFound);
        assert.deepEqual(
          (await servers.listServers(ctxOf(s))).map((v) => v.name),
          ['s0-new', 's1'],
        );
      } finally {
        await s.close();
      }
    });
  });

for (const backend of ['sqlite', 'postgres'] as const)
  describe(`zone_tool server commands on ${backend}`, () => {
    test('create/ls/show/byaddr/set/rename/move/enable/disable/delete, output and exit statuses', async () => {
      const data = mkdtempSync(join(tmpdir(), 'dms-zt-servers-'));
      const st = backend === 'sqlite' ? sqliteArgs(data) : postgresArgs(await (await needPg()).createDatabase());
      try {
        writeFileSync(join(data, 'z'), TEXT);
        zoneToolOk(st, ['load_zone', '-i', join(data, 'z'), 'a.example']);
        zoneToolOk(st, ['create_sg', 'sg2']);
        assert.match(zoneToolOk(st, ['create_server', 'dns-slave0', '192.0.2.1']), /server dns-slave0 \(192\.0\.2\.1, bind9\) created in server group default, enabled/);
        assert.match(zoneToolOk(st, ['create_server', '-g', 'sg2', 'knot1', '[::1]#5353', 'knot']), /\[::1\]#5353, knot\) created in server group sg2/);
        let r = zoneTool(st, ['create_server', 'dup', '192.0.2.1']);
        assert.equal(r.code, 73, r.stderr);
        assert.match(r.stderr, /address 192\.0\.2\.1 is already used by server dns-slave0/);
        r = zoneTool(st, ['create_server', 'dns-slave0', '192.0.2.2']);
        assert.equal(r.code, 73, r.stderr);
        r = zoneTool(st, ['create_server', '-g', 'nosuch', 'x', '192.0.2.3']);
        assert.equal(r.code, 68, r.stderr);
        assert.match(r.stderr, /server group nosuch not found/);
        r = zoneTool(st, ['create_server', 'x', 'not-an-address']);
        assert.equal(r.code, 65, r.stderr);
        r = zoneTool(st, ['create_server', 'x']);
        assert.equal(r.code, 64, r.stderr);

        // The names alone, one a line (as the original's, what scripts read); -v the state and address.
        assert.equal(zoneToolOk(st, ['ls_server']), 'dns-slave0\nknot1\n');
        assert.match(zoneToolOk(st, ['ls_server', '-v']), /^dns-slave0\s+default\s+bind9\s+1\s+OK\n {8}192\.0\.2\.1\nknot1\s+sg2\s+knot\s+0\s+OK\n {8}\[::1\]#5353\n$/);
        assert.match(zoneToolOk(st, ['ls_server', '-v', '-g', 'sg2']), /^knot1\s+sg2\s+knot\s+0\s+OK\n/);
        assert.equal(zoneToolOk(st, ['ls_slave', '-g', 'sg2']).split('\n')[0].trim().startsWith('knot1'), true);
        // Names with wildcards; -t leaves the disabled out; ls_slave leaves the replica group's servers out unless -a.
        assert.equal(zoneToolOk(st, ['ls_server', 'kn?t*']), 'knot1\n');
        r = zoneTool(st, ['ls_server', 'nomatch*']);
        assert.equal(r.code, 65, r.stderr);
        assert.match(r.stderr, /Server: nomatch\* - not present\./);
        zoneToolOk(st, ['disable_server', 'knot1']);
        assert.equal(zoneToolOk(st, ['ls_server', '-t']), 'dns-slave0\n');
        zoneToolOk(st, ['enable_server', 'knot1']);
        zoneToolOk(st, ['set_sg_replica_sg', 'sg2']);
        assert.doesNotMatch(zoneToolOk(st, ['ls_slave']), /knot1/, 'the replica group left out');
        assert.match(zoneToolOk(st, ['ls_slave', '-a']), /knot1/, '-a: all');
        assert.match(zoneToolOk(st, ['ls_server']), /knot1/, 'ls_server lists them all');
        zoneToolOk(st, ['set_sg_replica_sg', 'none']);
        const show = zoneToolOk(st, ['show_server', 'dns-slave0']);
        assert.match(show, /^ {8}server_name: {7}dns-slave0\n/);
        assert.match(show, /address: +192\.0\.2\.1\n/);
        assert.match(show, /sg_name: +default\n/);
        assert.match(show, /state: +OK\n/);
        assert.match(show, /zone_count: +1\n/);
        assert.match(zoneToolOk(st, ['show_server_byaddr', '::1']), /server_name: +knot1/);
        assert.equal(zoneTool(st, ['show_server', 'nobody']).code, 68);

        zoneToolOk(st, ['disable_server', 'dns-slave0']);
        assert.match(zoneToolOk(st, ['show_server', 'dns-slave0']), /state: +DISABLED/);
        r = zoneTool(st, ['disable_server', 'dns-slave0']);
        assert.equal(r.code, 65);
        assert.match(r.stderr, /already disabled/);
        assert.equal(zoneToolOk(st, ['enable_server', 'dns-slave0']), '');
        zoneToolOk(st, ['set_server_address', 'dns-slave0', '192.0.2.10#5301']);
        zoneToolOk(st, ['set_server_type', 'dns-slave0', 'nsd']);
        zoneToolOk(st, ['rename_server', 'dns-slave0', 'nsd-a']);
        zoneToolOk(st, ['move_server_sg', 'nsd-a', 'sg2']);
        assert.equal(zoneTool(st, ['move_server_sg', 'nsd-a', 'nosuch']).code, 68);
        const j = JSON.parse(zoneToolOk(st, ['--json', 'show_server', 'nsd-a'])) as Record<string, unknown>;
        assert.deepEqual([j.name, j.address, j.port, j.type, j.sg, j.enabled, j.zoneCount], ['nsd-a', '192.0.2.10', 5301, 'nsd', 'sg2', true, 0]);
        assert.equal(zoneToolOk(st, ['delete_server', 'knot1']), '');
        assert.equal(zoneTool(st, ['delete_server', 'knot1']).code, 68);
        assert.deepEqual(
          (JSON.parse(zoneToolOk(st, ['--json', 'ls_server'])) as { name: string }[]).map((v) => v.name),
          ['nsd-a'],
        );
        assert.match(zoneToolOk(st, ['help', 'create_server']), /Membership does not allow transfers/);
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    });
  });
