// End to end (issue 4): a real knotd secondary registered with `zone_tool create_server` in the zone's server group,
// with a transfer rule on the group's TSIG key, receives a signed NOTIFY from a real dmsd after a zone_tool change
// and transfers the change by IXFR. A disabled member and a member of another group (plain UDP sockets standing in
// for secondaries) get no NOTIFY for the zone. Membership alone allows no transfer.

import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Opcode } from '../../src/dns/constants.js';
import { decodeMessage } from '../../src/dns/message.js';
import { keyFromText, type TsigKey } from '../../src/dns/tsig.js';
import { dig, postgresArgs, type Server, servedSerial, sqliteArgs, startDmsdDb, waitFor, zoneToolOk } from '../helpers/dmsd-db.support.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { type Secondary, startKnotSecondary, until } from '../helpers/secondaries.js';
import { freePort } from '../helpers/servers.js';

const ZONE = 'members.example';
// The filler makes a one-record change smaller as an IXFR than as a whole zone (dmsd sends the zone when it is not).
const zoneText = (www: string, extra = '') =>
  `$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A ${www}\n${extra}${Array.from({ length: 20 }, (_, i) => `h${i} TXT "filler ${i}"\n`).join('')}`;

/** A UDP socket that records the zone names of the NOTIFYs it receives (and never answers). */
async function notifySink(): Promise<{ port: number; zones: string[]; close: () => void }> {
  const sock: Socket = createSocket('udp4');
  const zones: string[] = [];
  sock.on('message', (msg) => {
    try {
      const m = decodeMessage(msg);
      if (m.opcode === Opcode.NOTIFY) zones.push(m.question[0]?.name.toString() ?? '');
    } catch {
      zones.push('<undecodable>');
    }
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, zones, close: () => sock.close() };
}

const short = (port: number, name: string, type: string) => dig(port, [name, type, '+short', '+norec']).trim();

for (const backend of ['sqlite', 'postgres'] as const)
  describe(`dmsd NOTIFYs the knotd member of the zone's server group on ${backend}`, () => {
    let data: string;
    let pg: TestPostgres | undefined;
    let url = '';
    let dmsd: Server;
    let knot: Secondary;
    let xfrKey: TsigKey;
    let disabledSink: Awaited<ReturnType<typeof notifySink>>;
    let otherSgSink: Awaited<ReturnType<typeof notifySink>>;
    const store = () => (backend === 'postgres' ? postgresArgs(url) : sqliteArgs(data));

    before(async () => {
      data = mkdtempSync(join(tmpdir(), 'dms-servers-e2e-'));
      if (backend === 'postgres') {
        pg = await startPostgres();
        url = await pg.createDatabase();
      }
      // The zone stays in the default group (its apex NS come from there); 'elsewhere' holds a server of another group.
      zoneToolOk(store(), ['create_sg', 'elsewhere']);
      const file = join(data, 'zone.txt');
      writeFileSync(file, zoneText('192.0.2.10'));
      zoneToolOk(store(), ['load_zone', file, ZONE]);
      const out = zoneToolOk(store(), ['generate_tsig_key', 'xfr.key']);
      xfrKey = keyFromText(/^(hmac-[a-z0-9]+:[^:\s]+:[A-Za-z0-9+/=]+)$/m.exec(out)?.[1] ?? 'x:xfr.key:');
      const knotPort = await freePort();
      disabledSink = await notifySink();
      otherSgSink = await notifySink();
      zoneToolOk(store(), ['create_server', '-g', 'default', 'knot1', `127.0.0.1#${knotPort}`, 'knot']);
      zoneToolOk(store(), ['create_server', '-g', 'default', 'resting', `127.0.0.1#${disabledSink.port}`]);
      zoneToolOk(store(), ['disable_server', 'resting']);
      zoneToolOk(store(), ['create_server', '-g', 'elsewhere', 'other1', `127.0.0.1#${otherSgSink.port}`]);
      dmsd = await startDmsdDb(store());
      await waitFor(() => servedSerial(dmsd.port, ZONE) !== undefined, 5000, 'zone served');
      knot = startKnotSecondary({ zone: ZONE, primaryPort: dmsd.tcpPort, port: knotPort, key: xfrKey });
    });
    after(async () => {
      await knot?.stop();
      await dmsd?.stop();
      disabledSink?.close();
      otherSgSink?.close();
      await pg?.stop();
      if (data) rmSync(data, { recursive: true, force: true });
    });

    test('membership allows no transfer; a transfer rule on the group does', async () => {
      // knotd asks at once: refused while the group has no rule (the member is not let in by its address).
      await until('knotd AXFR refused', () => /AXFR, incoming.*(REFUSED|NOTAUTH|failed)/i.test(knot.output()), knot.output);
      assert.doesNotMatch(knot.output(), /AXFR, incoming.*finished/);
      zoneToolOk(store(), ['add_transfer_rule', '-g', 'default', 'key=xfr.key']);
      // Publishing (here: a serial poke) NOTIFYs knot1 (signed with the group's transfer key): it transfers.
      const initial = servedSerial(dmsd.port, ZONE) ?? 0;
      zoneToolOk(store(), ['poke_zone_set_serial', ZONE]);
      await waitFor(() => (servedSerial(dmsd.port, ZONE) ?? 0) !== initial, 3000, 'dmsd serves the poked serial');
      const poked = servedSerial(dmsd.port, ZONE);
      await until('knotd AXFR', () => /AXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot.output()), () => knot.output() + dmsd.output());
      assert.equal(short(knot.port, `www.${ZONE}`, 'A'), '192.0.2.10');
      // It was the NOTIFY (not knotd's own retry) that brought the new serial.
      assert.match(knot.output(), new RegExp(`notify, incoming, remote 127\\.0\\.0\\.1@\\d+, serial ${poked}`, 'i'));
    });

    test('a zone_tool change reaches knotd by signed NOTIFY + IXFR; disabled and other-group servers get nothing', async () => {
      const before = servedSerial(dmsd.port, ZONE) ?? 0;
      const file = join(data, 'zone2.txt');
      writeFileSync(file, zoneText('192.0.2.20', 'new A 192.0.2.60\n'));
      zoneToolOk(store(), ['load_zone_zi', file, ZONE]);
      await waitFor(() => (servedSerial(dmsd.port, ZONE) ?? 0) > before, 3000, 'dmsd serves the change');
      const serial = servedSerial(dmsd.port, ZONE) as number;
      await until('knotd IXFR', () => /IXFR, incoming, remote 127\.0\.0\.1@\d+.*finished/.test(knot.output()), () => knot.output() + dmsd.output());
      assert.match(knot.output(), new RegExp(`notify, incoming, remote 127\\.0\\.0\\.1@\\d+.*serial ${serial}`, 'i'));
      assert.doesNotMatch(knot.output(), /ACL, denied|fallback to AXFR|IXFR.*failed/i);
      assert.equal(short(knot.port, `www.${ZONE}`, 'A'), '192.0.2.20');
      assert.equal(short(knot.port, `new.${ZONE}`, 'A'), '192.0.2.60');
      assert.match(short(knot.port, ZONE, 'SOA'), new RegExp(` ${serial} `));
      // dmsd logged an IXFR from the old serial, signed with the group's key.
      await until(
        'IXFR in the log of dmsd',
        () => dmsd.output().split('\n').some((l) => l.includes('"kind":"ixfr"') && l.includes(`"clientSerial":${before}`) && l.includes('xfr.key')),
        dmsd.output,
        5000,
      );
      assert.deepEqual(disabledSink.zones, []);
      assert.deepEqual(otherSgSink.zones, []);
      // Enabling the resting member: the next publish NOTIFYs it too.
      zoneToolOk(store(), ['enable_server', 'resting']);
      zoneToolOk(store(), ['poke_zone_set_serial', ZONE]);
      await until('NOTIFY at the enabled member', () => disabledSink.zones.includes(`${ZONE}.`), dmsd.output, 10000);
      assert.deepEqual(otherSgSink.zones, []);
    });
  });
