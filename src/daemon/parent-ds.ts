// The parent DS check (issue 9; BIND's checkds with parental-agents, Knot's ds-push check): asks each of the parent's
// servers for the zone's DS RRset and says, per server, whether it serves the DS of the keys in question (or, for a
// DS being withdrawn, no longer serves it). The rollover engine moves on only when every server agrees
// (services.recordParentCheck). Servers are the policy's parental agents, or — checkDs 'auto' — the name servers of
// the parent zone, found with the system's resolver or the one given (dmsd --dnssec-resolver): the closest enclosing
// zone that has NS records.
//
// Only authoritative answers count (AA set, NOERROR or NXDOMAIN): a server that does not serve the parent zone, or
// a timeout, is "not yet" rather than an answer either way.

import { RRType } from '../dns/constants.js';
import { decodeMessage, emptyMessage, encodeMessage } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { dsRdata } from '../dnssec/index.js';
import { type ParentDsWork, tcpAsk, udpAsk } from '../services/index.js';

export interface ParentServerResult {
  server: string;
  ok: boolean;
  detail: string;
}

/** "192.0.2.1", "192.0.2.1#5353", "2001:db8::1", "[2001:db8::1]#5353" → address and port. */
export function parseAgent(s: string): { address: string; port: number } {
  const m = /^\[?([0-9a-fA-F:.]+?)\]?(?:#([0-9]{1,5}))?$/.exec(s.trim());
  if (!m) throw new Error(`parental agent "${s}" is not an address or address#port`);
  return { address: m[1], port: m[2] === undefined ? 53 : Number(m[2]) };
}

/** Ask one server for the zone's DS RRset and judge the answer against `work`. */
export async function askParentServer(work: ParentDsWork, address: string, port: number, timeoutMs = 3000): Promise<ParentServerResult> {
  const server = address.includes(':') ? `[${address}]#${port}` : `${address}#${port}`;
  const origin = Name.parse(work.zone);
  const m = emptyMessage(process.getBuiltinModule('node:crypto').randomInt(0x10000));
  m.question = [{ name: origin, type: RRType.DS, class: 1 }];
  m.edns = { udpSize: 1232, version: 0, do: false, flags: 0, extRcode: 0, options: [] };
  const q = encodeMessage(m);
  let a: ReturnType<typeof decodeMessage>;
  try {
    let bytes = await udpAsk(address, port, q, timeoutMs);
    if (decodeMessage(bytes).tc) bytes = await tcpAsk(address, port, q, timeoutMs);
    a = decodeMessage(bytes);
  } catch (e) {
    return { server, ok: false, detail: (e as Error).message };
  }
  if (!a.aa || (a.rcode !== 0 && a.rcode !== 3)) return { server, ok: false, detail: `not an authoritative answer (rcode ${a.rcode}${a.aa ? '' : ', AA not set'})` };
  const ds = a.answer.filter((r) => r.type === RRType.DS && r.name.equals(origin));
  const has = (k: { dnskey: Uint8Array }) =>
    ds.some((r) => {
      try {
        return Buffer.compare(Buffer.from(dsRdata(origin, k.dnskey, r.rdata[3])), Buffer.from(r.rdata)) === 0;
      } catch {
        return false; // a digest type we cannot compute is not ours
      }
    });
  const present = work.keys.filter(has).map((k) => k.tag);
  if (work.want === 'seen') {
    const missing = work.keys.filter((k) => !has(k)).map((k) => k.tag);
    return missing.length === 0
      ? { server, ok: true, detail: `serves DS ${present.join(', ')}` }
      : { server, ok: false, detail: `DS ${missing.join(', ')} not served (${ds.length} DS record${ds.length === 1 ? '' : 's'})` };
  }
  return present.length === 0 ? { server, ok: true, detail: 'DS gone' } : { server, ok: false, detail: `still serves DS ${present.join(', ')}` };
}

/**
 * The parent zone's name servers' addresses (checkDs 'auto'), found with the system's resolver (/etc/resolv.conf) or
 * with `resolvers` ("address" or "address#port", as parental agents are written): the nearest ancestor of the zone
 * that has NS records is its parent zone. The name servers are asked on port 53, where a parent serves its zone.
 */
export async function parentServers(zone: string, resolvers?: readonly string[]): Promise<{ address: string; port: number }[]> {
  const { Resolver } = process.getBuiltinModule('node:dns').promises;
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (resolvers?.length)
    r.setServers(
      resolvers.map((x) => {
        const { address, port } = parseAgent(x);
        return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      }),
    );
  const origin = Name.parse(zone);
  for (let n = 1; n <= origin.labelCount; n++) {
    const parent = origin.parent(n);
    let ns: string[];
    try {
      ns = await r.resolveNs(parent.labelCount === 0 ? '.' : parent.toString().replace(/\.$/, ''));
    } catch (e) {
      // No NS there but the name exists (not a zone cut): look further up. Any other failure (the name does not
      // exist, no resolver): no parent found, never a guess higher up (the root would say "no DS" for anything).
      if ((e as { code?: string }).code === 'ENODATA') continue;
      return [];
    }
    if (ns.length === 0) continue;
    const out: { address: string; port: number }[] = [];
    for (const host of ns) {
      for (const f of [r.resolve4.bind(r), r.resolve6.bind(r)])
        try {
          for (const address of await f(host)) out.push({ address, port: 53 });
        } catch {
          // no address of that family
        }
    }
    return out;
  }
  return [];
}

/**
 * Ask every server of `work` (the parental agents, or the parent's name servers found through `resolvers`, default
 * the system's) in parallel.
 */
export async function checkParentDs(work: ParentDsWork, timeoutMs = 3000, resolvers?: readonly string[]): Promise<ParentServerResult[]> {
  const servers = work.servers === 'auto' ? await parentServers(work.zone, resolvers) : work.servers.map(parseAgent);
  return Promise.all(servers.map((s) => askParentServer(work, s.address, s.port, timeoutMs)));
}
