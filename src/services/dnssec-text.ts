// DNSSEC policies as text for people (zone_tool, logs): pure functions of the policy, no service call, so zone_tool
// may import them beside the operations it calls.

import type { DnssecPolicy } from './dnssec.js';

/** "1d12h", "5m", "0s". */
export function formatDuration(s: number): string {
  if (s === 0) return '0s';
  let out = '';
  let rest = s;
  for (const [u, n] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (u === 'w' && rest % n !== 0) continue; // weeks only when exact: "10d", not "1w3d"
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out;
}

const lifetimeText = (s: number | undefined): string => (s === undefined ? '-' : s === 0 ? 'unlimited' : formatDuration(s));

/** The policy as `key: value` lines (zone_tool's text output, and a readable form for logs: holds no secret). */
export function policyLines(p: DnssecPolicy): [string, string][] {
  const d = formatDuration;
  return [
    ['name', p.name + (p.builtin ? ' (built-in)' : '')],
    ['keys', p.keys === 'csk' ? `csk lifetime ${lifetimeText(p.lifetimes.csk)}` : `ksk lifetime ${lifetimeText(p.lifetimes.ksk)}, zsk lifetime ${lifetimeText(p.lifetimes.zsk)}`],
    ['algorithm', `${p.algorithm} (${p.algorithmNumber})${p.keyBits ? ` ${p.keyBits} bits` : ''}`],
    ['signatures', `validity ${d(p.signatureValidity)}, DNSKEY validity ${d(p.signatureValidityDnskey)}, refresh ${d(p.signatureRefresh)}, jitter ${d(p.signatureJitter)}`],
    ['dnskey_ttl', String(p.dnskeyTtl)],
    ['max_zone_ttl', String(p.maxZoneTtl)],
    ['propagation', `zone ${d(p.zonePropagationDelay)}, parent ${d(p.parentPropagationDelay)}, parent DS TTL ${p.parentDsTtl}`],
    ['safety', `publish ${d(p.publishSafety)}, retire ${d(p.retireSafety)}, purge keys ${p.purgeKeys ? d(p.purgeKeys) : 'never'}`],
    ['denial', p.denial === 'nsec' ? 'NSEC' : `NSEC3 iterations ${p.nsec3.iterations}, salt length ${p.nsec3.saltLength}${p.nsec3.optOut ? ', opt-out' : ''}`],
    ['cds', `${p.cds ? `CDS (digest ${p.cdsDigestTypes.join(',')})` : 'no CDS'}, ${p.cdnskey ? 'CDNSKEY' : 'no CDNSKEY'}`],
    ['parent_ds_check', `${p.checkDs}${p.parentalAgents.length ? ` (${p.parentalAgents.join(' ')})` : ''}`],
    ['zones', String(p.zones)],
  ];
}
