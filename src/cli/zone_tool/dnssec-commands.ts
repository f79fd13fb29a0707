// zone_tool commands for DNSSEC policies and keys (issue 9): create/ls/show_dnssec_policy, set_zone_dnssec_policy,
// show_dnssec, import/export_dnssec_key, rollover_zone_key, ds_seen and sign_zone (the original's name for a full
// re-sign). The table entries are spread into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS;
// every handler goes through the operations table (s.call).

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { policyLines } from '../../services/dnssec-text.js';
import type { DnssecPolicyInput, ZoneDnssecStatus } from '../../services/index.js';
import type { ParsedArgs } from './argv.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { col, fmtTime, OUTPUT_INDENT as I } from './format.js';
import { type CommandSpec, command } from './command-spec.js';

const spec = command;

function usage(msg: string): never {
  throw new ZoneToolError(msg, EX.USAGE, 'UsageError');
}

function keyTagArg(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) usage(`key tag must be a number 0..65535, not "${text}"`);
  return Number(text);
}

/** create_dnssec_policy's key=value words and the policy field each sets (with how its value is read). */
const POLICY_KEYS: Record<string, [keyof DnssecPolicyInput, 'text' | 'int' | 'bool' | 'ints' | 'list']> = {
  keys: ['keys', 'text'],
  algorithm: ['algorithm', 'text'],
  key_bits: ['keyBits', 'int'],
  csk_lifetime: ['cskLifetime', 'text'],
  ksk_lifetime: ['kskLifetime', 'text'],
  zsk_lifetime: ['zskLifetime', 'text'],
  signatures_validity: ['signatureValidity', 'text'],
  signatures_validity_dnskey: ['signatureValidityDnskey', 'text'],
  signatures_refresh: ['signatureRefresh', 'text'],
  signatures_jitter: ['signatureJitter', 'text'],
  dnskey_ttl: ['dnskeyTtl', 'text'],
  max_zone_ttl: ['maxZoneTtl', 'text'],
  zone_propagation_delay: ['zonePropagationDelay', 'text'],
  parent_ds_ttl: ['parentDsTtl', 'text'],
  parent_propagation_delay: ['parentPropagationDelay', 'text'],
  publish_safety: ['publishSafety', 'text'],
  retire_safety: ['retireSafety', 'text'],
  purge_keys: ['purgeKeys', 'text'],
  denial: ['denial', 'text'],
  nsec3_iterations: ['nsec3Iterations', 'int'],
  nsec3_salt_length: ['nsec3SaltLength', 'int'],
  nsec3_opt_out: ['nsec3OptOut', 'bool'],
  cds: ['cds', 'bool'],
  cdnskey: ['cdnskey', 'bool'],
  cds_digest_types: ['cdsDigestTypes', 'ints'],
  checkds: ['checkDs', 'text'],
  parental_agents: ['parentalAgents', 'list'],
};

function policyInput(words: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const w of words) {
    if (w === 'nsec' || w === 'nsec3') {
      out.denial = w;
      continue;
    }
    const m = /^([a-z0-9_]+)=(.*)$/.exec(w);
    const entry = m ? POLICY_KEYS[m[1]] : undefined;
    if (!m || !entry) usage(`unknown policy setting "${w}" (see help create_dnssec_policy)`);
    const [field, kind] = entry;
    const v = m[2];
    switch (kind) {
      case 'text':
        out[field] = v;
        break;
      case 'int':
        if (!/^\d+$/.test(v)) usage(`${m[1]} must be a number, not "${v}"`);
        out[field] = Number(v);
        break;
      case 'bool':
        if (!/^(yes|no|true|false|on|off)$/i.test(v)) usage(`${m[1]} must be yes or no, not "${v}"`);
        out[field] = /^(yes|true|on)$/i.test(v);
        break;
      case 'ints':
        if (!/^\d+(,\d+)*$/.test(v)) usage(`${m[1]} must be numbers separated by commas, not "${v}"`);
        out[field] = v.split(',').map(Number);
        break;
      case 'list':
        out[field] = v === '' ? [] : v.split(',');
        break;
    }
  }
  return out;
}

export const DNSSEC_COMMANDS: readonly CommandSpec[] = [
  spec(
    'create_dnssec_policy',
    'Create a DNSSEC policy',
    `Create a DNSSEC policy: create_dnssec_policy <name> [setting=value ...]

        Settings not given take the built-in default policy's values (BIND 9.20's
        default: one CSK, ECDSAP256SHA256, unlimited lifetime, signatures valid
        14d refreshed 5d before expiry with 12h jitter, DNSKEY TTL 3600, NSEC).
        Durations are seconds or 14d / 1d12h / 90m / PT12H; lifetimes may be
        "unlimited".
                keys=csk|ksk-zsk            one combined key, or KSK and ZSK
                algorithm=ECDSAP256SHA256   or ED25519, RSASHA256, ... or a number
                key_bits=2048               RSA only
                csk_lifetime= ksk_lifetime= zsk_lifetime=
                signatures_validity= signatures_validity_dnskey=
                signatures_refresh= signatures_jitter=
                dnskey_ttl= max_zone_ttl=
                zone_propagation_delay= parent_ds_ttl= parent_propagation_delay=
                publish_safety= retire_safety= purge_keys=
                nsec | nsec3                denial of existence
                nsec3_iterations=0 nsec3_salt_length=0 nsec3_opt_out=no
                                            (RFC 9276: 0 iterations, no salt)
                cds=yes cdnskey=yes cds_digest_types=2
                checkds=auto|explicit|no    parent DS check (no: confirm with ds_seen)
                parental_agents=192.0.2.1,2001:db8::53#5353
        A policy whose timings cannot work (a lifetime shorter than a rollover
        takes, a refresh not shorter than the validity, ...) is refused with
        the reasons.`,
    { min: 1, max: Number.POSITIVE_INFINITY, args: ['other', 'other'] },
  ),
  spec('ls_dnssec_policy', 'List DNSSEC policies', 'List DNSSEC policies: ls_dnssec_policy\n\n        Name, keys, algorithm, denial and how many zones follow each.', {
    aliases: ['ls_dnssec_policies'],
  }),
  spec('show_dnssec_policy', 'Show a DNSSEC policy', 'Show a DNSSEC policy: show_dnssec_policy <name>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'set_zone_dnssec_policy',
    'Sign a zone with a DNSSEC policy (or none)',
    `Sign a zone with a DNSSEC policy: set_zone_dnssec_policy <domain-name> <policy-name>|none

        The zone's keys are generated now (kept when the ones it has fit the
        policy; otherwise an algorithm rollover is requested). "none" makes the
        zone unsigned once its DS is gone from the parent. The zone flags
        auto_dnssec and nsec3 follow (set_zone auto_dnssec uses the built-in
        policies default / default-nsec3).`,
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  spec(
    'show_dnssec',
    'Show the DNSSEC keys of a zone and the DS for the registrar',
    `Show a zone's DNSSEC status: show_dnssec <domain-name>

        Each key: tag, role, algorithm, state, DS state and its next step with
        when; the DS records to give the registrar (SHA-256); what the zone is
        waiting for. --json for all fields.`,
    { min: 1, max: 1, args: ['zone'] },
  ),
  spec(
    'import_dnssec_key',
    'Import a BIND key pair into a zone',
    `Import a BIND DNSSEC key: import_dnssec_key <domain-name> <K....private> [K....key]

        The .key file defaults to the .private file's name with .key. The key
        must belong to the zone, fit its policy's algorithm, and its two halves
        must match; its BIND timing (Publish, Activate, Inactive) gives its
        state. The private key is stored sealed with the key-encryption key.`,
    { min: 2, max: 3, args: ['zone', 'file', 'file'] },
  ),
  spec(
    'export_dnssec_key',
    'Export a zone key as BIND key files',
    `Export a DNSSEC key: export_dnssec_key <domain-name> <key-tag> [directory]

        Writes K<zone>+<alg>+<tag>.key and .private (mode 0600) into the
        directory (default: the current one), as dnssec-keygen would. The
        .private file holds the private key: keep it safe.`,
    { min: 2, max: 3, args: ['zone', 'other', 'file'] },
  ),
  spec(
    'rollover_zone_key',
    'Ask for a key rollover of a zone',
    `Roll a zone key: rollover_zone_key <domain-name> ksk|zsk|csk

        Recorded for the signer, which rolls the key with the policy's timing
        (ZSK by pre-publication, KSK/CSK by double-DS). One rollover at a time.`,
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  spec(
    'ds_seen',
    'Confirm the parent serves the DS of a key',
    `Confirm the parent DS: ds_seen <domain-name> <key-tag>

        Tells DMS the parent zone now serves the DS of this KSK/CSK (what BIND's
        rndc dnssec -checkds published does), so its rollover can go on.`,
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  spec(
    'ds_withdrawn',
    'Confirm the parent no longer serves the DS of a key',
    `Confirm the parent DS is gone: ds_withdrawn <domain-name> <key-tag>

        Tells DMS the parent zone no longer serves the DS of this KSK/CSK (BIND's
        rndc dnssec -checkds withdrawn), so an algorithm rollover or the way to
        an unsigned zone (set_zone_dnssec_policy <zone> none) can go on.`,
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  spec(
    'sign_zone',
    'Ask for a full re-sign of a zone',
    `Re-sign a zone: sign_zone <domain-name>

        Every signature is made anew by the signer, with the keys the zone's
        policy has now.  loadkeys_zone (the original's "rndc loadkeys") does
        the same here: the signer takes new keys up by itself.`,
    { min: 1, max: 1, args: ['zone'], aliases: ['loadkeys_zone'] },
  ),
];

const createDnssecPolicy: Handler = async (ctx, a) => {
  const [name, ...words] = a.positional;
  const s = await ctx.services();
  const p = await s.call('create_dnssec_policy', { name, policy: policyInput(words) });
  emit(ctx, p, () => policyLines(p).map(([k, v]) => `${I}${`${k}:`.padEnd(17)} ${v}`).join('\n'));
  return 0;
};

const lsDnssecPolicy: Handler = async (ctx) => {
  const s = await ctx.services();
  const list = await s.call('ls_dnssec_policy', {});
  emit(ctx, list, () =>
    list
      .map((p) => `${I}${col(p.name, 20)} ${col(p.keys, 8)} ${col(p.algorithm, 16)} ${col(p.denial.toUpperCase(), 6)} ${p.zones} zone${p.zones === 1 ? '' : 's'}`)
      .join('\n'),
  );
  return 0;
};

const showDnssecPolicy: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const p = await s.call('show_dnssec_policy', { name: a.positional[0] });
  emit(ctx, p, () => policyLines(p).map(([k, v]) => `${I}${`${k}:`.padEnd(17)} ${v}`).join('\n'));
  return 0;
};

function statusText(st: ZoneDnssecStatus): string {
  const lines = [`${I}zone:            ${st.zone}`, `${I}policy:          ${st.policy ?? 'none (unsigned)'}${st.denial ? ` (${st.denial.toUpperCase()})` : ''}`];
  if (st.keys.length > 0) {
    lines.push(`${I}keys:`);
    lines.push(`${I}  ${col('tag', 6)} ${col('role', 4)} ${col('algorithm', 16)} ${col('state', 9)} ${col('DS', 7)} next`);
    for (const k of st.keys) {
      const next = k.next ? `${k.next.transition} ${k.next.at ? `at ${fmtTime(k.next.at)}` : '(waiting)'}` : 'none';
      lines.push(`${I}  ${col(k.tag, 6)} ${col(k.role.toUpperCase(), 4)} ${col(k.algorithm, 16)} ${col(k.state, 9)} ${col(k.dsState ?? '-', 7)} ${next}`);
    }
  }
  if (st.ds.length > 0) {
    lines.push(`${I}DS records for the registrar:`);
    for (const d of st.ds) lines.push(`${I}  ${d}`);
  }
  if (st.rollover) lines.push(`${I}rollover:        ${st.rollover.role} requested ${fmtTime(st.rollover.requested)}`);
  if (st.resignRequested) lines.push(`${I}re-sign:         requested ${fmtTime(st.resignRequested)}`);
  for (const w of st.waiting) lines.push(`${I}waiting:         ${w}`);
  if (st.events.length > 0) {
    lines.push(`${I}recent events:`);
    for (const e of st.events.slice(0, 8)) lines.push(`${I}  ${fmtTime(e.at)} ${e.summary}`);
  }
  return lines.join('\n');
}

const setZoneDnssecPolicy: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const st = await s.call('set_zone_dnssec_policy', { zone: a.positional[0], policy: a.positional[1] });
  emit(ctx, st, () => statusText(st));
  return 0;
};

const showDnssec: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const st = await s.call('show_dnssec', { zone: a.positional[0] });
  emit(ctx, st, () => statusText(st));
  return 0;
};

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ZoneToolError(`cannot read ${path}: ${(e as Error).message}`, EX.NOINPUT, 'FileError');
  }
}

const importDnssecKey: Handler = async (ctx, a: ParsedArgs) => {
  const [zone, privPath, keyPathArg] = a.positional;
  if (!privPath.endsWith('.private')) usage(`${privPath}: give the K....private file (the .key file is found beside it)`);
  const keyPath = keyPathArg ?? `${privPath.slice(0, -'.private'.length)}.key`;
  const privateText = readKeyFile(privPath);
  const keyText = readKeyFile(keyPath);
  const s = await ctx.services();
  const k = await s.call('import_dnssec_key', { zone, keyText, privateText, fileName: basename(privPath) });
  emit(ctx, k, () => `${I}imported key ${k.tag} (${k.role.toUpperCase()}, ${k.algorithm}), ${k.state}`);
  return 0;
};

const exportDnssecKey: Handler = async (ctx, a) => {
  const [zone, tagText, dir = '.'] = a.positional;
  const s = await ctx.services();
  const files = await s.call('export_dnssec_key', { zone, keyTag: keyTagArg(tagText) });
  const keyFile = join(dir, `${files.baseName}.key`);
  const privFile = join(dir, `${files.baseName}.private`);
  for (const f of [keyFile, privFile]) if (existsSync(f)) throw new ZoneToolError(`${f} exists: not overwritten`, EX.CANTCREAT, 'FileExists');
  try {
    writeFileSync(keyFile, files.keyText, { mode: 0o644 });
    writeFileSync(privFile, files.privateText, { mode: 0o600, flag: 'wx' });
    chmodSync(privFile, 0o600);
  } catch (e) {
    throw new ZoneToolError(`cannot write the key files: ${(e as Error).message}`, EX.CANTCREAT, 'FileError');
  }
  // The private key goes to the file only, never to the output.
  emit(ctx, { baseName: files.baseName, keyFile, privateFile: privFile }, () => `${I}${keyFile}\n${I}${privFile}`);
  return 0;
};

const rolloverZoneKey: Handler = async (ctx, a) => {
  const role = a.positional[1].toLowerCase();
  if (role !== 'ksk' && role !== 'zsk' && role !== 'csk') usage(`key role must be ksk, zsk or csk, not "${a.positional[1]}"`);
  const s = await ctx.services();
  const st = await s.call('rollover_zone_key', { zone: a.positional[0], role });
  emit(ctx, st, () => statusText(st));
  return 0;
};

const dsSeen: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const k = await s.call('ds_seen', { zone: a.positional[0], keyTag: keyTagArg(a.positional[1]) });
  emit(ctx, k, () => `${I}DS ${k.tag} seen at the parent${k.dsSeen ? ` (${fmtTime(k.dsSeen)})` : ''}`);
  return 0;
};

const dsWithdrawn: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const k = await s.call('ds_withdrawn', { zone: a.positional[0], keyTag: keyTagArg(a.positional[1]) });
  emit(ctx, k, () => `${I}DS ${k.tag} withdrawn from the parent`);
  return 0;
};

const signZone: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const r = await s.call('sign_zone', { zone: a.positional[0] });
  emit(ctx, r, () => `${I}full re-sign of ${r.zone} requested`);
  return 0;
};

export const DNSSEC_HANDLERS: Record<string, Handler> = {
  create_dnssec_policy: createDnssecPolicy,
  ls_dnssec_policy: lsDnssecPolicy,
  show_dnssec_policy: showDnssecPolicy,
  set_zone_dnssec_policy: setZoneDnssecPolicy,
  show_dnssec: showDnssec,
  import_dnssec_key: importDnssecKey,
  export_dnssec_key: exportDnssecKey,
  rollover_zone_key: rolloverZoneKey,
  ds_seen: dsSeen,
  ds_withdrawn: dsWithdrawn,
  sign_zone: signZone,
};
