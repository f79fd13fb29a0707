// zone_tool commands for the primary (issue 4): TSIG keys, per-zone update grants, transfer rules and also-notify
// targets (per zone, or per server group with -g), and the NOTIFYs waiting in the event queue. The table entries are
// spread into table.ts's COMMANDS and the handlers into handlers.ts's HANDLERS.

import { closeSync, existsSync, fchmodSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import { type CommandSpec, command } from './command-spec.js';
import type { TsigAlgorithm } from '../../dns/tsig.js';
import { emit } from './context.js';
import type { Handler } from './dispatch.js';
import { EX, ZoneToolError } from './errors.js';
import { col, fmtTime, OUTPUT_INDENT as I } from './format.js';
import type { ParsedArgs } from './argv.js';

const spec = command;

const TARGET_HELP = `with -g <sg-name> the entry belongs to the server group (it applies to every
                    zone of the group); otherwise to the zone named first`;

export const PRIMARY_COMMANDS: readonly CommandSpec[] = [
  spec(
    'generate_tsig_key',
    'Create a TSIG key with a random secret',
    `Create a TSIG key: generate_tsig_key [-f] <key-name> [algorithm] [file-name]

        where:
                algorithm   hmac-sha256 (default), hmac-sha512, hmac-sha384,
                            hmac-sha224, hmac-sha1 or hmac-md5
                file-name   also write the BIND key {} block there (mode
                            0600), for nsupdate -k and named.conf include
                -f          overwrite file-name if it exists

        Prints the key as a BIND key {} block and as a Knot key: entry, ready
        for the secondaries' configuration and for nsupdate -k / knsupdate.`,
    { options: 'f', min: 1, max: 3, args: ['other', 'other', 'file'] },
  ),
  spec('ls_tsig_key', 'List TSIG keys', 'List TSIG keys: ls_tsig_key\n\n        Shows name, algorithm and creation time (not the secret).', { aliases: ['ls_tsig_keys'] }),
  spec(
    'show_tsig_key',
    'Show a TSIG key with its secret',
    'Show a TSIG key: show_tsig_key <key-name>\n\n        Prints the BIND and Knot configuration of the key, secret included.',
    { min: 1, max: 1, args: ['other'] },
  ),
  spec('delete_tsig_key', 'Delete a TSIG key', 'Delete a TSIG key: delete_tsig_key <key-name>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'add_update_grant',
    'Add an RFC 2136 update grant to a zone',
    `Add an update grant: add_update_grant <domain-name> "<grant>"

        grant:  BIND update-policy rule, e.g.
                "grant dyn.key zonesub ANY"
                "grant acme.key name _acme-challenge.www.example.org. TXT"
                "deny dyn.key name ns1.example.org. ANY"
        Names are absolute (as in named.conf), with or without the final dot.
        The zone must have inc_updates set to accept updates. Rules apply in
        order; the first match decides.`,
    { min: 2, max: Number.POSITIVE_INFINITY, args: ['zone', 'other'] },
  ),
  spec('ls_update_grants', 'List the update grants of a zone', 'List update grants: ls_update_grants <domain-name>\n\n        Numbered in the order they apply.', {
    min: 1,
    max: 1,
    args: ['zone'],
  }),
  spec(
    'delete_update_grant',
    'Delete an update grant of a zone',
    'Delete an update grant: delete_update_grant <domain-name> <n>\n\n        n is the number shown by ls_update_grants.',
    { min: 2, max: 2, args: ['zone', 'other'] },
  ),
  spec(
    'add_transfer_rule',
    'Allow zone transfers by TSIG key and/or address',
    `Allow zone transfers: add_transfer_rule [-g sg-name] [domain-name] [key=<key-name>] [address=<prefix>]

        ${TARGET_HELP}.
        key=       the request must be signed with this key
        address=   the client must be in this address or CIDR prefix
        Given both, both must match. Without any rule a zone is not
        transferable (except with a <primary>.<secondary>._transfer.<zone> key).`,
    { options: 'g:', min: 1, max: 3, args: ['zone', 'other'] },
  ),
  spec(
    'ls_transfer_rules',
    'List transfer rules',
    'List transfer rules: ls_transfer_rules [-g sg-name] [domain-name]\n\n        Without a zone or SG, every rule.',
    { options: 'g:', max: 1, args: ['zone'] },
  ),
  spec('delete_transfer_rule', 'Delete a transfer rule', 'Delete a transfer rule: delete_transfer_rule <rule-id>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'add_also_notify',
    'NOTIFY an address on every publish of a zone or SG',
    `NOTIFY a secondary: add_also_notify [-g sg-name] [domain-name] <address>[#port] [key=<key-name>]

        ${TARGET_HELP}.
        The NOTIFY is signed with key=, else with the first key of the zone's
        transfer rules, else unsigned. Port default 53.`,
    { options: 'g:', min: 1, max: 3, args: ['zone', 'other'] },
  ),
  spec('ls_also_notify', 'List also-notify targets', 'List also-notify targets: ls_also_notify [-g sg-name] [domain-name]', {
    options: 'g:',
    max: 1,
    args: ['zone'],
  }),
  spec('delete_also_notify', 'Delete an also-notify target', 'Delete an also-notify target: delete_also_notify <id>', { min: 1, max: 1, args: ['other'] }),
  spec(
    'ls_pending_notifies',
    'List NOTIFYs waiting to be sent or retried',
    'List pending NOTIFYs: ls_pending_notifies\n\n        Shows event id, zone, target, state, attempts, next try and last error.',
  ),
];

// ---- handlers ------------------------------------------------------------------------------------------------------

function usage(msg: string): never {
  throw new ZoneToolError(msg, EX.USAGE, 'UsageError');
}

/** A key as the secondaries' configuration wants it: a BIND key {} block, a Knot key: entry and the -y form. */
async function keyText(k: { name: string; algorithm: string; secret: string }): Promise<{ text: string; data: unknown; bind: string }> {
  const [{ keyToBindConfig, keyToKnotConfig }, { Name }] = await Promise.all([import('../../dns/tsig.js'), import('../../dns/name.js')]);
  const key = { name: Name.parse(k.name), algorithm: k.algorithm as TsigAlgorithm, secret: new Uint8Array(Buffer.from(k.secret, 'base64')) };
  const plain = key.name.toString().replace(/\.$/, '');
  const bind = keyToBindConfig(key);
  return {
    bind,
    data: { name: key.name.toString(), algorithm: key.algorithm, secret: k.secret },
    text: `# BIND (named.conf, nsupdate -k):\n${bind}\n# Knot (knot.conf):\n${keyToKnotConfig(key)}\n# nsupdate -y / knsupdate -y:\n${key.algorithm}:${plain}:${k.secret}\n`,
  };
}

/** -g SG, else the first positional as the zone; returns the target and the remaining positionals. */
function target(a: ParsedArgs, needZone = true): { t?: { zone?: string; sg?: string }; rest: string[] } {
  const g = a.opts.g;
  if (typeof g === 'string') return { t: { sg: g }, rest: a.positional };
  if (a.positional.length === 0) {
    if (needZone) usage('give a zone name or -g <sg-name>');
    return { rest: [] };
  }
  return { t: { zone: a.positional[0] }, rest: a.positional.slice(1) };
}

function intId(text: string, what: string): number {
  if (!/^\d+$/.test(text)) usage(`${what} must be a number, not "${text}"`);
  return Number(text);
}

const generateTsigKey: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [name, algorithm, file] = a.positional;
  // The file is opened before the key is made (created 0600; an existing one only with -f, and not cut short until the
  // key is there), so that a file that cannot be written leaves no key behind and a refused key leaves the file as it
  // was; one made here is removed again.
  let fd: number | undefined;
  let made = false;
  if (file !== undefined) {
    try {
      made = !(a.opts.f && existsSync(file));
      fd = openSync(file, made ? 'wx' : 'r+', 0o600);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ZoneToolError(`${file}: ${code === 'EEXIST' ? 'exists (-f overwrites it)' : (e as Error).message}`, EX.CANTCREAT, 'CantCreate');
    }
  }
  try {
    const created = await s.call('generate_tsig_key', { name, ...(algorithm ? { algorithm } : {}) });
    const k = await keyText(created);
    if (fd !== undefined) {
      fchmodSync(fd, 0o600);
      ftruncateSync(fd, 0);
      writeSync(fd, `${k.bind.trimEnd()}\n`, 0);
    }
    emit(ctx, k.data, () => k.text);
    return 0;
  } catch (e) {
    if (made && file !== undefined) rmSync(file, { force: true });
    throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

const lsTsigKey: Handler = async (ctx) => {
  const s = await ctx.services();
  const keys = await s.call('list_tsig_key', {});
  emit(ctx, keys, () => keys.map((k) => `${I}${col(k.name, 40)} ${col(k.algorithm, 12)} ${fmtTime(k.ctime)}`).join('\n'));
  return 0;
};

const showTsigKey: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const k = await keyText(await s.call('show_tsig_key', { name: a.positional[0] }));
  emit(ctx, k.data, () => k.text);
  return 0;
};

const deleteTsigKey: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.call('delete_tsig_key', { name: a.positional[0] });
  return 0;
};

const addUpdateGrant: Handler = async (ctx, a) => {
  const [zone, ...words] = a.positional;
  const s = await ctx.services();
  await s.call('add_update_grant', { zone, grant: words.join(' ') });
  return 0;
};

const lsUpdateGrants: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const grants = await s.call('list_update_grants', { zone: a.positional[0] });
  emit(ctx, grants.map((g, i) => ({ n: i + 1, grant: g })), () => grants.map((g, i) => `${I}${col(i + 1, 4)} ${g}`).join('\n'));
  return 0;
};

const deleteUpdateGrant: Handler = async (ctx, a) => {
  const s = await ctx.services();
  const [zone, nText] = a.positional;
  await s.call('delete_update_grant', { zone, n: intId(nText, 'grant number') });
  return 0;
};

function keyValues(words: string[], allowed: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const m = /^([a-z_]+)=(.+)$/.exec(w);
    if (!m || !allowed.includes(m[1])) usage(`expected ${allowed.map((k) => `${k}=…`).join(' or ')}, not "${w}"`);
    out[m[1]] = m[2];
  }
  return out;
}

const addTransferRule: Handler = async (ctx, a) => {
  const { t, rest } = target(a);
  const kv = keyValues(rest, ['key', 'address']);
  if (!kv.key && !kv.address) usage('add_transfer_rule needs key=<key-name> and/or address=<prefix>');
  const s = await ctx.services();
  const r = await s.call('add_transfer_rule', { ...t, ...kv });
  emit(ctx, r, () => `${I}transfer rule ${r.id} added`);
  return 0;
};

const lsTransferRules: Handler = async (ctx, a) => {
  const { t } = target(a, false);
  const s = await ctx.services();
  const rules = await s.call('list_transfer_rules', t ?? {});
  emit(ctx, rules, () =>
    rules
      .map((r) => `${I}${col(r.id, 6)} ${col(r.zone ?? `sg:${r.sg}`, 32)} ${r.key ? `key=${r.key}` : ''}${r.key && r.address ? ' ' : ''}${r.address ? `address=${r.address}` : ''}`)
      .join('\n'),
  );
  return 0;
};

const deleteTransferRule: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.call('delete_transfer_rule', { id: intId(a.positional[0], 'rule id') });
  return 0;
};

const addAlsoNotify: Handler = async (ctx, a) => {
  const { t, rest } = target(a);
  const [addr, ...more] = rest;
  if (!addr) usage('add_also_notify needs an address');
  const kv = keyValues(more, ['key']);
  const m = /^\[?([^\]#]+)\]?(?:#(\d+))?$/.exec(addr);
  if (!m) usage(`bad address "${addr}" (address or address#port)`);
  const s = await ctx.services();
  const r = await s.call('add_also_notify', { ...t, address: m[1], ...(m[2] ? { port: Number(m[2]) } : {}), ...(kv.key ? { key: kv.key } : {}) });
  emit(ctx, r, () => `${I}also-notify ${r.id} added`);
  return 0;
};

const lsAlsoNotify: Handler = async (ctx, a) => {
  const { t } = target(a, false);
  const s = await ctx.services();
  const list = await s.call('list_also_notify', t ?? {});
  emit(ctx, list, () =>
    list.map((r) => `${I}${col(r.id, 6)} ${col(r.zone ?? `sg:${r.sg}`, 32)} ${r.address}#${r.port}${r.key ? ` key=${r.key}` : ''}`).join('\n'),
  );
  return 0;
};

const deleteAlsoNotify: Handler = async (ctx, a) => {
  const s = await ctx.services();
  await s.call('delete_also_notify', { id: intId(a.positional[0], 'also-notify id') });
  return 0;
};

const lsPendingNotifies: Handler = async (ctx) => {
  const s = await ctx.services();
  const events = await s.call('list_pending_notifies', {});
  emit(ctx, events, () =>
    events
      .map((e) => {
        const p = (e.payload ?? {}) as { address?: string; port?: number; key?: string; serial?: number };
        return `${I}${col(e.id, 8)} ${col(e.zone ?? '', 28)} ${col(`${p.address}#${p.port ?? 53}`, 24)} ${col(e.state, 6)} ${col(e.attempts, 3)} ${fmtTime(e.scheduled)}${p.key ? ` key=${p.key}` : ''}${e.lastError ? `  (${e.lastError})` : ''}`;
      })
      .join('\n'),
  );
  return 0;
};

export const PRIMARY_HANDLERS: Record<string, Handler> = {
  generate_tsig_key: generateTsigKey,
  ls_tsig_key: lsTsigKey,
  show_tsig_key: showTsigKey,
  delete_tsig_key: deleteTsigKey,
  add_update_grant: addUpdateGrant,
  ls_update_grants: lsUpdateGrants,
  delete_update_grant: deleteUpdateGrant,
  add_transfer_rule: addTransferRule,
  ls_transfer_rules: lsTransferRules,
  delete_transfer_rule: deleteTransferRule,
  add_also_notify: addAlsoNotify,
  ls_also_notify: lsAlsoNotify,
  delete_also_notify: deleteAlsoNotify,
  ls_pending_notifies: lsPendingNotifies,
};
