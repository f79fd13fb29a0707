// RFC 2136 UPDATEs racing zone_tool edits of the same zone on a real dmsd: neither change is ever lost. While an
// operator's edit_zone holds the edit lock, UPDATEs are answered REFUSED (as BIND answers them for a frozen zone) and
// change nothing; every UPDATE answered NOERROR — before, during or after the edits — and every edit is in the zone
// at the end, in the store and served.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { type TsigKey, signMessage, verifyResponse } from '../../src/dns/tsig.js';
import { startDmsdOn, ZONE_TOOL, zoneTool, zoneToolKey } from '../helpers/acme.js';
import { query, udpExchange } from '../helpers/dns-client.js';
import { rrText } from '../helpers/xfr.support.js';

const ZONE = Name.from('race.example');
const KEY_NAME = 'r._update.race.example';

async function update(port: number, key: TsigKey, name: string): Promise<number | 'lost'> {
  const m = emptyMessage(Math.floor(Math.random() * 65536));
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: ZONE, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [rrText(`${name} 300 TXT "u"`, ZONE)];
  const req = signMessage(encodeMessage(m), key, Date.now() / 1000);
  let bytes: Uint8Array;
  try {
    bytes = await udpExchange(port, req.bytes, 5000);
  } catch {
    return 'lost';
  }
  const resp = decodeMessage(bytes);
  assert.ok(resp.tsigOffset !== undefined);
  assert.equal(verifyResponse(bytes, resp.tsigOffset, key, req.mac, Date.now() / 1000), 0);
  return resp.rcode;
}

describe('UPDATEs racing zone_tool edits', () => {
  test('nothing acknowledged is lost; during an edit UPDATEs are REFUSED, never SERVFAIL', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dms-update-race-'));
    const where = { dataDir };
    try {
      zoneTool(where, ['create_zone', '-i', ZONE.toString()]);
      const key = zoneToolKey(where, KEY_NAME);
      const server = await startDmsdOn(where);
      try {
        // The editor: appends one record and takes a little time, as a person would (the lock is held meanwhile).
        const editor = join(dataDir, 'editor.sh');
        writeFileSync(editor, '#!/bin/sh\nsleep 0.3\nfor f; do :; done\necho "edit$EDIT_N 300 IN A 192.0.2.77" >> "$f"\n');
        chmodSync(editor, 0o755);
        const acked: string[] = [];
        const rcodes = new Map<number, number>();
        let stop = false;
        const clients = Array.from({ length: 3 }, async (_, c) => {
          for (let i = 0; !stop; i++) {
            const name = `c${c}-${i}`;
            const r = await update(server.port, key, name);
            assert.notEqual(r, 'lost', `UPDATE ${name} got no answer:\n${server.output()}`);
            rcodes.set(r as number, (rcodes.get(r as number) ?? 0) + 1);
            if (r === Rcode.NOERROR) acked.push(name);
            else assert.equal(r, Rcode.REFUSED, `UPDATE ${name}: rcode ${r}:\n${server.output().slice(-3000)}`);
          }
        });
        // Three edits while the UPDATEs stream in.
        for (let n = 0; n < 3; n++) {
          await new Promise((res) => setTimeout(res, 300));
          // Asynchronously: the UPDATE clients of this process keep sending while zone_tool edits.
          const r = await new Promise<{ status: number | null; out: string }>((res) => {
            const p = spawn(process.execPath, [ZONE_TOOL, '--data', dataDir, 'edit_zone', ZONE.toString()], {
              env: { ...process.env, EDITOR: editor, VISUAL: editor, EDIT_N: String(n) },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let out = '';
            p.stdout.on('data', (d) => (out += d));
            p.stderr.on('data', (d) => (out += d));
            p.on('exit', (status) => res({ status, out }));
          });
          assert.equal(r.status, 0, `edit ${n}: ${r.out}`);
        }
        await new Promise((res) => setTimeout(res, 300));
        stop = true;
        await Promise.all(clients);
        assert.ok((rcodes.get(Rcode.NOERROR) ?? 0) > 0, 'UPDATEs got through');
        assert.ok((rcodes.get(Rcode.REFUSED) ?? 0) > 0, `some UPDATEs met an edit lock: ${JSON.stringify([...rcodes])}`);
        // Every acknowledged UPDATE and every edit: in the stored zone and served.
        const shown = zoneTool(where, ['show_zone', ZONE.toString()]);
        for (const name of acked) assert.match(shown, new RegExp(`^${name}\\s`, 'm'), `${name} (acknowledged) is stored`);
        for (let n = 0; n < 3; n++) assert.match(shown, new RegExp(`^edit${n}\\s.*192\\.0\\.2\\.77`, 'm'), `edit ${n} is stored`);
        for (const name of [...acked.slice(-5), 'edit0', 'edit2']) {
          const deadline = Date.now() + 5000;
          for (;;) {
            const a = await query(server.port, { name: Name.parse(name, ZONE), type: name.startsWith('edit') ? RRType.A : RRType.TXT });
            if (a.msg?.rcode === Rcode.NOERROR && (a.msg.answer.length ?? 0) > 0) break;
            assert.ok(Date.now() < deadline, `${name} is not served`);
            await new Promise((res) => setTimeout(res, 50));
          }
        }
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
