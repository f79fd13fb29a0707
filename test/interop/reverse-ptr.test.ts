// Automatic reverse PTRs (issue 14) through the real programs, on SQLite and PostgreSQL: the manual's walk-through
// with zone_tool (create the /52 with inc_updates, a forward zone with a reference, an AAAA added in edit_zone, the PTR
// with ;!REF: in show_zone) and `dig -x` answered by a real dmsd; a DHCP-style nsupdate adding an A record under an
// update grant carrying TRACKREV, which gives (and on delete takes away) the PTR; an RFC 2317 /26: the classless zone,
// NOTIFY and UPDATE for its '/' name answered (not SERVFAIL), and `dig -x` through unbound following the parent's
// CNAME into it; deleting it takes the CNAMEs away.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { startUnbound, type Unbound } from '../helpers/acme.js';
import { udpExchange } from '../helpers/dns-client.js';
import {
  cleanEnv,
  dig,
  postgresArgs,
  type Server,
  type StoreArgs,
  sqliteArgs,
  startDmsdDb,
  waitFor,
  ZONE_TOOL,
  zoneToolOk,
} from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const HEAD = '$TTL 300\n@ SOA ns1.dms.invalid. hostmaster 1 3600 900 604800 300\n@ NS ns1.dms.invalid.\n';

/** zone_tool with EDITOR set (edit_zone runs it on the zone's temp file). */
function zoneToolEditing(store: StoreArgs, args: string[], editor: string): string {
  const r = spawnSync(process.execPath, [ZONE_TOOL, ...store, ...args], { encoding: 'utf8', env: { ...cleanEnv(), EDITOR: editor, VISUAL: '' }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`zone_tool ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function nsupdate(keyLine: string, port: number, lines: string[]): { status: number | null; out: string } {
  const r = spawnSync('nsupdate', ['-y', keyLine], {
    input: [`server 127.0.0.1 ${port}`, ...lines, 'send', ''].join('\n'),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const short = (port: number, args: string[]) => dig(port, [...args, '+short']).trim();

let pg: TestPostgres | undefined;
after(async () => {
  await pg?.stop();
});

for (const backend of ['sqlite', 'postgres'] as const)
  describe(`automatic reverse PTRs through zone_tool, dmsd, nsupdate and unbound on ${backend}`, () => {
    let dir: string;
    let store: StoreArgs;
    let srv: Server | undefined;
    let unbound: Unbound | undefined;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dms-revptr-'));
      if (backend === 'sqlite') store = sqliteArgs(dir);
      else {
        pg ??= await startPostgres();
        store = postgresArgs(await pg.createDatabase());
      }
      zoneToolOk(store, ['set_config', 'edit_lock', 'false']);
      srv = await startDmsdDb(store);
    });
    after(async () => {
      await unbound?.stop();
      await srv?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the manual's walk-through: edit_zone adds an AAAA, show_zone shows the PTR with ;!REF:, dig -x answers through dmsd", async () => {
      zoneToolOk(store, ['create_zone', '2001:db8:1:2:3::/52', 'inc_updates']);
      zoneToolOk(store, ['create_zone', '-r', 'nuts@SQUIRREL-NZ', 'my-new.zone.org']);
      // The operator's editor appends the AAAA record.
      const out = zoneToolEditing(store, ['edit_zone', 'my-new.zone.org'], `sh -c 'echo "@   IN    AAAA 2001:db8:1:2:3::1" >> "$0"'`);
      assert.match(out, /auto PTR: create 1(\.0){11}\.3\.0\.0\.0\.2\.0\.0\.0\.1\.0\.0\.0\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa\. -> my-new\.zone\.org\./);
      const shown = zoneToolOk(store, ['show_zone', '2001:db8:1:2:3::1']);
      assert.match(shown, /;!REF:nuts@SQUIRREL-NZ\n1(\.0){11}\.3\.0\.0\.0\.2\.0\.0\s+\d+\s+IN\s+PTR\s+my-new\.zone\.org\./);
      await waitFor(() => short(srv!.port, ['-x', '2001:db8:1:2:3::1']) === 'my-new.zone.org.', 3000, 'dig -x answers the PTR');
      // check_reverse agrees; refresh_zone_ptrs -n has nothing to do.
      assert.match(zoneToolOk(store, ['check_reverse', 'my-new.zone.org']), /0 problem\(s\)/);
      assert.match(zoneToolOk(store, ['refresh_zone_ptrs', '-n', 'my-new.zone.org']), /dry run: 0 PTR change\(s\) would be made/);
    });

    test('a DHCP-style nsupdate adds an A record under a TRACKREV grant: the PTR comes with it and goes with it', async () => {
      zoneToolOk(store, ['create_zone', '198.51.100.0/24', 'inc_updates']);
      zoneToolOk(store, ['create_zone', 'dhcp.test', 'inc_updates']);
      const keyLine = zoneToolOk(store, ['generate_tsig_key', 'dhcp.key']).trim().split('\n').pop() as string;
      zoneToolOk(store, ['add_update_grant', 'dhcp.test', 'grant dhcp.key zonesub A AAAA TXT TRACKREV']);
      await new Promise((r) => setTimeout(r, 600));
      let u = nsupdate(keyLine, srv!.port, ['zone dhcp.test.', 'update add laptop.dhcp.test. 300 A 198.51.100.20']);
      assert.equal(u.status, 0, u.out);
      await waitFor(() => short(srv!.port, ['-x', '198.51.100.20']) === 'laptop.dhcp.test.', 3000, 'the PTR of the DHCP host is served');
      assert.equal(short(srv!.port, ['laptop.dhcp.test', 'A']), '198.51.100.20');
      // A TXT (no address) changes nothing in the reverse zone.
      const zis = zoneToolOk(store, ['ls_zi', '198.51.100.0/24']);
      u = nsupdate(keyLine, srv!.port, ['zone dhcp.test.', 'update add laptop.dhcp.test. 300 TXT "lease"']);
      assert.equal(u.status, 0, u.out);
      assert.equal(zoneToolOk(store, ['ls_zi', '198.51.100.0/24']), zis);
      // The lease ends: the A record goes, and its PTR with it.
      u = nsupdate(keyLine, srv!.port, ['zone dhcp.test.', 'update delete laptop.dhcp.test. A']);
      assert.equal(u.status, 0, u.out);
      await waitFor(() => /status: NXDOMAIN/.test(dig(srv!.port, ['-x', '198.51.100.20'])), 3000, 'the PTR is gone');
      assert.match(zoneToolOk(store, ['show_zi', '198.51.100.0/24']), /auto PTR from dhcp\.test\./);
    });

    test('RFC 2317: the /26 classless zone, NOTIFY and UPDATE for its name, dig -x through unbound following the CNAME', async () => {
      zoneToolOk(store, ['create_zone', '192.0.2.0/24', 'inc_updates']);
      zoneToolOk(store, ['create_zone', '192.0.2.64/26', 'inc_updates']);
      // zone_tool takes the network, or an address inside it, for the classless zone.
      assert.equal(zoneToolOk(store, ['ls', '192.0.2.64/26']).trim(), '64/26.2.0.192.in-addr.arpa.');
      assert.equal(zoneToolOk(store, ['ls', '192.0.2.70']).trim(), '64/26.2.0.192.in-addr.arpa.');
      const file = join(dir, 'classless.test.zone');
      writeFileSync(file, `${HEAD};!FORCEREV\nweb A 192.0.2.70\n`);
      assert.match(zoneToolOk(store, ['load_zone', file, 'classless.test']), /auto PTR: create 70\.64\/26\.2\.0\.192\.in-addr\.arpa\. -> web\.classless\.test\./);
      await waitFor(() => /CNAME/.test(dig(srv!.port, ['70.2.0.192.in-addr.arpa', 'PTR'])), 3000, 'the parent serves the CNAME');
      await waitFor(() => short(srv!.port, ['70.64/26.2.0.192.in-addr.arpa', 'PTR']) === 'web.classless.test.', 3000, 'the classless zone serves the PTR');
      // NOTIFY and UPDATE for the '/' name reach the services as a name (they SERVFAILed when it was read as a network).
      const m = emptyMessage(4711);
      m.opcode = Opcode.NOTIFY;
      m.aa = true;
      m.question.push({ name: Name.parse('64/26.2.0.192.in-addr.arpa.'), type: RRType.SOA, class: RRClass.IN });
      const reply = decodeMessage(await udpExchange(srv!.port, encodeMessage(m)));
      assert.equal(reply.opcode, Opcode.NOTIFY);
      assert.notEqual(reply.rcode, Rcode.SERVFAIL, `NOTIFY answered ${reply.rcode}`);
      const keyLine = zoneToolOk(store, ['generate_tsig_key', 'classless.key']).trim().split('\n').pop() as string;
      zoneToolOk(store, ['add_update_grant', '192.0.2.64/26', 'grant classless.key zonesub TXT']);
      await new Promise((r) => setTimeout(r, 600));
      const u = nsupdate(keyLine, srv!.port, ['zone 64/26.2.0.192.in-addr.arpa.', 'update add info.64/26.2.0.192.in-addr.arpa. 300 TXT "classless"']);
      assert.equal(u.status, 0, u.out);
      await waitFor(() => short(srv!.port, ['info.64/26.2.0.192.in-addr.arpa', 'TXT']) === '"classless"', 3000, 'the UPDATE is served');
      // A resolver asks the parent for 70.2.0.192.in-addr.arpa. and follows the CNAME into the classless zone.
      unbound = await startUnbound(dir, ['2.0.192.in-addr.arpa.', '64/26.2.0.192.in-addr.arpa.'], srv!.port, { extra: ['local-zone: "2.0.192.in-addr.arpa." nodefault'] });
      const viaResolver = dig(unbound.port, ['-x', '192.0.2.70']);
      assert.match(viaResolver, /status: NOERROR/, viaResolver);
      assert.match(viaResolver, /70\.2\.0\.192\.in-addr\.arpa\.\s+\d+\s+IN\s+CNAME\s+70\.64\/26\.2\.0\.192\.in-addr\.arpa\./, viaResolver);
      assert.match(viaResolver, /70\.64\/26\.2\.0\.192\.in-addr\.arpa\.\s+\d+\s+IN\s+PTR\s+web\.classless\.test\./, viaResolver);
      // Deleting the classless zone takes its CNAMEs out of the parent.
      zoneToolOk(store, ['delete_zone', '192.0.2.64/26']);
      await waitFor(() => /status: NXDOMAIN/.test(dig(srv!.port, ['70.2.0.192.in-addr.arpa', 'PTR'])), 3000, 'the CNAME is gone');
    });
  });
