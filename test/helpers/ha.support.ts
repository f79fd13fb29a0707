// Shared by the HA tests with real PostgreSQL replication (issue 13): TSIG-signed UPDATEs to a dmsd (acknowledged
// only on a verified NOERROR), answers read back over DNS, zone_tool runs that may fail, and the HTTP /health.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Opcode, Rcode, RRClass, RRType } from '../../src/dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { rdataToText } from '../../src/dns/rdata.js';
import { type TsigKey, signMessage, verifyResponse } from '../../src/dns/tsig.js';
import { type Server, storeArgs } from './acme.js';
import { ZONE_TOOL } from './dmsd-db.support.js';
import { query, tcpExchange, udpExchange } from './dns-client.js';
import { rrText } from './xfr.support.js';

export type Where = { dataDir: string; databaseUrl: string };

/** UPDATE number i of `zone`: adds `u<i> 300 TXT v<i>`, signed with `key`. */
export function updateMessage(i: number, key: TsigKey, zone: Name): { bytes: Uint8Array; mac: Uint8Array; id: number } {
  const m = emptyMessage((i * 7919) & 0xffff);
  m.opcode = Opcode.UPDATE;
  m.question = [{ name: zone, type: RRType.SOA, class: RRClass.IN }];
  m.authority = [rrText(`u${i} 300 TXT v${i}`, zone)];
  const signed = signMessage(encodeMessage(m), key, Date.now() / 1000);
  return { ...signed, id: m.id };
}

/** The rcode of update i sent to `s` (the answer signed and verified); undefined without an answer in `ms`. */
export async function updateRcode(s: Server, key: TsigKey, i: number, zone: Name, ms = 3000): Promise<number | undefined> {
  const req = updateMessage(i, key, zone);
  let bytes: Uint8Array;
  try {
    bytes = await (i % 2 === 1 ? udpExchange(s.port, req.bytes, ms) : tcpExchange(s.tcpPort, req.bytes, ms));
  } catch {
    return undefined;
  }
  const resp = decodeMessage(bytes);
  assert.equal(resp.id, req.id);
  if (resp.tsigOffset === undefined) {
    // An error the server could not sign (a failing database: SERVFAIL); never an acknowledgement.
    assert.notEqual(resp.rcode, Rcode.NOERROR, 'a NOERROR to a signed UPDATE is signed');
    return resp.rcode;
  }
  assert.equal(verifyResponse(bytes, resp.tsigOffset, key, req.mac, Date.now() / 1000), 0, 'the answer verifies');
  return resp.rcode;
}

/** The TXT strings at `owner` (relative to `zone`) served by the DNS server on `port`. */
export async function txt(port: number, owner: string, zone: Name): Promise<string[]> {
  const a = await query(port, { name: Name.parse(owner, zone), type: RRType.TXT }).catch(() => undefined);
  return (a?.msg?.answer ?? []).filter((x) => x.type === RRType.TXT).map((x) => rdataToText(RRType.TXT, x.rdata));
}

/** The SOA query of `zone`: its rcode and serial (undefined without an answer). */
export async function soa(port: number, zone: Name): Promise<{ rcode: number | undefined; serial: number | undefined }> {
  const a = await query(port, { name: zone, type: RRType.SOA }).catch(() => undefined);
  const rr = a?.msg?.answer.find((x) => x.type === RRType.SOA);
  return { rcode: a?.msg?.rcode, serial: rr ? Number(rdataToText(RRType.SOA, rr.rdata, zone).split(/\s+/)[2]) : undefined };
}

/** zone_tool on the database; the exit code and everything it printed (never throws). */
export function tool(where: Where, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [ZONE_TOOL, ...storeArgs(where), ...args], {
    encoding: 'utf8',
    env: { ...process.env, DMS_CHANGE_BY: 'tester@test/Admin' },
    timeout: 90_000,
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** GET a dmsd's HTTP URL: status and body. */
export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}
