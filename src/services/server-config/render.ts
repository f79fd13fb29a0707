// The configuration DMS generates for a secondary server (issue 11): pure functions from a description of the server
// and its server group to the text of the file the server's own main configuration includes, for BIND 9, Knot DNS
// and NSD. No I/O here: the caller gathers the input from the store and runs the real checker on the output.
//
// CMU's lesson (shared/reference/cmu-dns-architecture.txt): the generator refuses to produce a configuration it knows
// to be broken and says why, rather than handing a secondary something its checker (or worse, its reload) rejects.
// So every value that goes into the text is checked here first (addresses, key names, algorithms, secrets, zone
// names, file names) and a problem is a ConfigRefused listing every reason, not a half-written file.

import { addressInPrefix, ipVersion, parsePrefix } from '../../dns/address.js';
import { TSIG_ALGORITHMS } from '../../dns/tsig.js';
import { ServerConfigRefused } from '../errors.js';

export type ConfigServerType = 'bind9' | 'knot' | 'nsd';

export interface ConfigKey {
  /** Absolute, lower case ("xfr.sg1."). */
  name: string;
  algorithm: string;
  /** Base64. */
  secret: string;
}

export interface ConfigEndpoint {
  address: string;
  port: number;
}

export interface ConfigZone {
  /** Absolute, lower case, as stored ("example.com."). */
  name: string;
  /** Member through the zone's alternate server group (a migration in progress), not its primary one. */
  alt: boolean;
}

export interface ConfigInput {
  server: {
    name: string;
    type: ConfigServerType;
    address: string;
    port: number;
    /** Absolute directory for the zone files at the secondary, or null for the server's default. Knot needs it in
     *  practice: a template without `storage` falls back to the compiled-in /var/lib/knot, not the operator's. */
    zoneDir?: string | null;
  };
  sg: {
    name: string;
    /** The SG's master address, then its alternate master address: where the secondaries transfer from. */
    primaries: ConfigEndpoint[];
    /** The key the secondaries sign transfer requests with (DMS's transfer rule for the group names it). */
    key: ConfigKey | null;
    private: boolean;
    /** Who may query a private group's zones at its secondaries. */
    queryAcl: string[];
    /** The group's catalog zone (absolute), when its servers of a catalog-consuming type should use it. */
    catalog: string | null;
    zones: ConfigZone[];
    /**
     * The group's transfer rules (dmsd's side): the configuration is only useful when one of them admits the server
     * (its address, signed with `key`). Undefined: not checked.
     */
    transferRules?: { key: string | null; address: string | null }[];
    /** The operator's template for this server's type (set_sg_template), placeholders not yet filled in. */
    template?: string | null;
  };
}

export interface RenderedConfig {
  /** The file to include at the top level of the server's main configuration. */
  main: string;
  /** BIND only, when a catalog is used: the fragment to include inside `options { }`. */
  options: string | null;
  /** Zones the file lists one by one (the catalog zone itself included). */
  zones: string[];
  /** true when member zones come from the catalog zone rather than from this file. */
  catalog: boolean;
  /** configWarnings(): valid but not useful yet (also written into the file as comments). */
  warnings: string[];
}

/** The generator will not write this configuration; `reasons` says why (all of them, not just the first). */
export { ServerConfigRefused as ConfigRefused };

/** Server types that consume RFC 9432 catalog zones (BIND 9.18+, Knot 3.1+); NSD 4.6 does not. */
export const CATALOG_TYPES: readonly ConfigServerType[] = ['bind9', 'knot'];

/** How each type's main configuration includes DMS's file (docs and show_server_config's header). */
export function includeLine(type: ConfigServerType, path: string, part: 'main' | 'options' = 'main'): string {
  if (type === 'bind9') return part === 'options' ? `include "${path}";   # inside options { }` : `include "${path}";`;
  if (type === 'knot') return `include: ${path}`;
  return `include: "${path}"`;
}

// Zone names go into quoted strings of three configuration languages and into file names. Letters, digits, '-', '_',
// '.' and '/' (RFC 2317 classless reverse zones) are safe in all of them; anything else (a quote, a backslash escape,
// a space) is refused rather than escaped three different ways.
const SAFE_NAME = /^(?:[a-z0-9_/-]+\.)+$|^\.$/;
// Knot and NSD identifiers, BIND's primaries list name: derived from the group name, then checked.
const SAFE_ID = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * The file a listed zone is kept in at the secondary: the name without its final dot, '/' made '_', the root 'root'.
 * Not one-to-one ('a/b.' and 'a_b.' meet), which is why fileNames() refuses a collision instead of writing two zones
 * into one file.
 */
/** The zone file as the configuration names it: in the server's zone directory when it has one. */
function filePath(input: ConfigInput, zone: string): string {
  const dir = input.server.zoneDir;
  return dir ? `${dir.replace(/\/+$/, '')}/${zoneFileName(zone)}` : zoneFileName(zone);
}

export function zoneFileName(zone: string): string {
  if (zone === '.') return 'root.zone';
  return `${zone.replace(/\.$/, '').replace(/\//g, '_')}.zone`;
}

export function groupId(sg: string): string {
  const id = `dms-${sg.toLowerCase().replace(/[^a-z0-9_.-]/g, '_')}`;
  return id;
}

function keyOk(k: ConfigKey, reasons: string[]): void {
  if (!SAFE_NAME.test(k.name) || k.name === '.') reasons.push(`TSIG key name "${k.name}" cannot be written into a configuration (letters, digits, '-', '_' and dots only)`);
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(k.algorithm)) reasons.push(`TSIG key ${k.name} has algorithm "${k.algorithm}" no secondary knows`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(k.secret) || k.secret.length % 4 !== 0) reasons.push(`TSIG key ${k.name} has a secret that is not base64`);
}

function endpointOk(what: string, e: ConfigEndpoint, reasons: string[]): void {
  if (!ipVersion(e.address)) reasons.push(`${what} "${e.address}" is not an IPv4 or IPv6 address`);
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) reasons.push(`${what} port ${e.port} is out of range`);
}

/**
 * Every check the input must pass before any text is written. Returns the reasons (empty = fine). Scope 'server':
 * only the problems that come from this server in this group (its type, its zone directory, its type against the
 * group's zones or privacy) — what a server command (move_server_sg, set_server_type…) must not introduce; a group
 * that is not complete yet (no master address) is the group's business, reported when its files are generated.
 */
export function configProblems(input: ConfigInput, scope: 'all' | 'server' = 'all'): string[] {
  const reasons: string[] = [];
  const { server, sg } = input;
  if (!['bind9', 'knot', 'nsd'].includes(server.type)) reasons.push(`server type "${server.type}" has no configuration generator`);
  if (server.zoneDir != null && !/^\/[A-Za-z0-9._/+-]*$/.test(server.zoneDir))
    reasons.push(`zone directory "${server.zoneDir}" must be an absolute path of letters, digits and ._/+-`);
  if (sg.private && server.type === 'knot')
    reasons.push(`Knot DNS cannot refuse queries by client address, so server ${server.name} (knot) cannot serve private server group ${sg.name}`);
  zoneNameProblems(input, reasons);
  if (scope === 'server') return reasons;
  if (sg.primaries.length === 0) reasons.push(`server group ${sg.name} has no master address: its secondaries would not know where to transfer from (set_sg_master_address)`);
  for (const [i, p] of sg.primaries.entries()) endpointOk(i === 0 ? `master address of ${sg.name}` : `alternate master address of ${sg.name}`, p, reasons);
  if (!SAFE_ID.test(groupId(sg.name))) reasons.push(`server group name "${sg.name}" gives no usable configuration identifier`);
  if (sg.key) keyOk(sg.key, reasons);
  if (sg.private) {
    if (sg.queryAcl.length === 0) reasons.push(`private server group ${sg.name} has no query ACL (set_sg_config ${sg.name} query_acl=...)`);
    for (const a of sg.queryAcl) if (!parsePrefix(a)) reasons.push(`query ACL entry "${a}" of ${sg.name} is not an address or prefix`);
  }
  if (sg.catalog !== null && !SAFE_NAME.test(sg.catalog)) reasons.push(`catalog zone name "${sg.catalog}" cannot be written into a configuration`);
  return reasons;
}

/**
 * What makes a configuration valid but useless, said in the file and by show_server_config: no transfer rule of the
 * group admits the server (its transfers would be refused; a zone's own rules may still admit it for that zone).
 */
export function configWarnings(input: ConfigInput): string[] {
  const { server, sg } = input;
  if (sg.transferRules === undefined) return [];
  const key = sg.key?.name ?? null;
  const admits = sg.transferRules.some((r) => (r.key === null || r.key === key) && (r.address === null || addressInPrefix(server.address, r.address)));
  if (admits) return [];
  return [
    `no transfer rule of server group ${sg.name} admits server ${server.name} (${server.address}${key ? `, key ${key}` : ', no key'}): its transfers would be refused (add_transfer_rule -g ${sg.name} ${key ? `key=${key}` : `address=${server.address}`})`,
  ];
}

function zoneNameProblems(input: ConfigInput, reasons: string[]): void {
  const { server } = input;
  const seen = new Map<string, string>();
  for (const z of listedZones(input)) {
    if (!SAFE_NAME.test(z)) {
      reasons.push(`zone "${z}" has characters a ${server.type} configuration cannot carry (letters, digits, '-', '_', '/' only)`);
      continue;
    }
    const f = zoneFileName(z);
    const other = seen.get(f);
    if (other !== undefined) reasons.push(`zones ${other} and ${z} map to one file name ${f}`);
    else seen.set(f, z);
  }
}

/** Does this server get its member zones from the catalog? Not NSD (no catalog support), not a private group. */
export function usesCatalog(input: ConfigInput): boolean {
  return input.sg.catalog !== null && CATALOG_TYPES.includes(input.server.type) && !input.sg.private;
}

function listedZones(input: ConfigInput): string[] {
  if (usesCatalog(input)) return [input.sg.catalog as string];
  return input.sg.zones.map((z) => z.name);
}

/**
 * The group's template for this server type with its placeholders filled in, as lines ([] without one): {sg} the
 * group's name, {id} the configuration identifier DMS uses for it (dms-<sg>), {master} the master address, {key} the
 * transfer key's name (BIND's spelling without the final dot for bind9; NOKEY / none when the group has no key).
 * The text itself is the operator's: its validity is for the real checker to judge (set_sg_template runs it).
 */
export function templateLines(input: ConfigInput): string[] {
  const t = input.sg.template;
  if (!t?.trim()) return [];
  const { sg, server } = input;
  const key = sg.key ? (server.type === 'bind9' ? noDot(sg.key.name) : sg.key.name) : server.type === 'nsd' ? 'NOKEY' : 'none';
  const values: Record<string, string> = { sg: sg.name, id: groupId(sg.name), master: sg.primaries[0]?.address ?? '', key };
  const filled = t.replace(/\{(sg|id|master|key)\}/g, (_m, k: string) => values[k]);
  const lines = filled
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '');
  // Common indentation removed, relative indentation kept (nested YAML in a Knot template).
  const indent = Math.min(...lines.map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent));
}

const noDot = (n: string) => (n === '.' ? '.' : n.replace(/\.$/, ''));

function header(input: ConfigInput, comment: string): string[] {
  const { server, sg } = input;
  return [
    `${comment} Generated by DMS for server ${server.name} (${server.type}) of server group ${sg.name}.`,
    `${comment} Do not edit: zone_tool reconfig_server ${server.name} writes it again.`,
    ...configWarnings(input).map((w) => `${comment} WARNING: ${w}`),
  ];
}

function renderBind(input: ConfigInput): Omit<RenderedConfig, 'warnings'> {
  const { sg } = input;
  const id = groupId(sg.name);
  const keyRef = sg.key ? ` key "${noDot(sg.key.name)}"` : '';
  const prims = sg.primaries.map((p) => `${p.address} port ${p.port}${keyRef};`).join(' ');
  const out = header(input, '#');
  if (sg.key) out.push(`key "${noDot(sg.key.name)}" {`, `\talgorithm ${sg.key.algorithm};`, `\tsecret "${sg.key.secret}";`, '};');
  out.push(`primaries "${id}" { ${prims} };`);
  // NOTIFY from the masters is accepted by default (BIND accepts it from a zone's primaries); a private group also
  // refuses queries outside its ACL and transfers to anyone.
  const acl = sg.private ? ` allow-query { ${sg.queryAcl.map((a) => `${a};`).join(' ')} }; allow-transfer { none; };` : '';
  // The template's zone options go into every zone statement the file lists (with a catalog, only the catalog zone's:
  // BIND gives catalog member zones no per-zone options from here).
  const extra = templateLines(input).map((l) => ` ${l.trim()}`).join('');
  const catalog = usesCatalog(input);
  const zones = listedZones(input);
  for (const z of zones) out.push(`zone "${noDot(z)}" { type secondary; primaries { "${id}"; }; file "${filePath(input, z)}";${acl}${extra} };`);
  let options: string | null = null;
  if (catalog) {
    options = [
      ...header(input, '#'),
      '# Include inside options { }: BIND takes catalog-zones there only.',
      `catalog-zones { zone "${noDot(sg.catalog as string)}" default-primaries { ${prims} }${input.server.zoneDir ? ` zone-directory "${input.server.zoneDir}"` : ''} in-memory no min-update-interval 1; };`,
      '',
    ].join('\n');
  }
  return { main: `${out.join('\n')}\n`, options, zones, catalog };
}

function renderKnot(input: ConfigInput): Omit<RenderedConfig, 'warnings'> {
  const { sg } = input;
  const id = groupId(sg.name);
  const storage = input.server.zoneDir ? [`    storage: "${input.server.zoneDir}"`] : [];
  const acls = sg.key ? `[${id}-notify, ${id}-notify-key]` : `${id}-notify`;
  // The template's lines are options of both zone templates (so of every zone, catalog members included).
  const extra = templateLines(input).map((l) => `    ${l}`);
  const out = header(input, '#');
  if (sg.key) out.push('key:', `  - id: ${sg.key.name}`, `    algorithm: ${sg.key.algorithm}`, `    secret: ${sg.key.secret}`);
  out.push(
    'remote:',
    `  - id: ${id}-primary`,
    `    address: [${sg.primaries.map((p) => `${p.address}@${p.port}`).join(', ')}]`,
    ...(sg.key ? [`    key: ${sg.key.name}`] : []),
    // dmsd signs a NOTIFY with the zone's transfer key when it has one, else not; a Knot acl with a key matches only
    // signed requests and one without only unsigned ones, so there is one of each.
    'acl:',
    `  - id: ${id}-notify`,
    `    address: [${sg.primaries.map((p) => p.address).join(', ')}]`,
    '    action: notify',
    ...(sg.key ? [`  - id: ${id}-notify-key`, `    address: [${sg.primaries.map((p) => p.address).join(', ')}]`, `    key: ${sg.key.name}`, '    action: notify'] : []),
    'template:',
    // Member zones of the catalog get the first template; those whose `group` property is "alt" (a zone migrating
    // into or out of this group) get the second, which is the same: the property is there for operators' templates.
    `  - id: ${id}`,
    `    master: ${id}-primary`,
    `    acl: ${acls}`,
    ...storage,
    ...extra,
    `  - id: ${id}-alt`,
    `    master: ${id}-primary`,
    `    acl: ${acls}`,
    ...storage,
    ...extra,
    'zone:',
  );
  const catalog = usesCatalog(input);
  const zones = listedZones(input);
  if (catalog) out.push(`  - domain: ${sg.catalog}`, `    template: ${id}`, '    catalog-role: interpret', `    catalog-template: [${id}, ${id}-alt]`);
  else for (const z of zones) out.push(`  - domain: "${z}"`, `    template: ${id}`, `    file: "${zoneFileName(z)}"`);
  // An empty `zone:` section is not valid: a group without zones gets none.
  if (!catalog && zones.length === 0) out.pop();
  return { main: `${out.join('\n')}\n`, options: null, zones, catalog };
}

function renderNsd(input: ConfigInput): Omit<RenderedConfig, 'warnings'> {
  const { sg } = input;
  const id = groupId(sg.name);
  const out = header(input, '#');
  const keyName = sg.key ? sg.key.name : 'NOKEY';
  if (sg.key) out.push('key:', `  name: "${sg.key.name}"`, `  algorithm: ${sg.key.algorithm}`, `  secret: "${sg.key.secret}"`);
  out.push('pattern:', `  name: "${id}"`);
  for (const p of sg.primaries) out.push(`  request-xfr: ${p.address}@${p.port} ${keyName}`);
  // NSD's NOKEY matches only unsigned requests; dmsd signs a NOTIFY when the zone has a transfer key.
  for (const p of sg.primaries) {
    out.push(`  allow-notify: ${p.address} NOKEY`);
    if (sg.key) out.push(`  allow-notify: ${p.address} ${sg.key.name}`);
  }
  if (sg.private) for (const a of sg.queryAcl) out.push(`  allow-query: ${a} NOKEY`);
  // The template's lines are options of the group's pattern (so of every zone).
  for (const l of templateLines(input)) out.push(`  ${l}`);
  const zones = listedZones(input);
  for (const z of zones) out.push('zone:', `  name: "${noDot(z)}"`, `  include-pattern: "${id}"`, `  zonefile: "${filePath(input, z)}"`);
  return { main: `${out.join('\n')}\n`, options: null, zones, catalog: false };
}

/** The configuration for a server, or ConfigRefused with every reason it would be broken. */
export function renderServerConfig(input: ConfigInput): RenderedConfig {
  const reasons = configProblems(input);
  if (reasons.length) throw new ServerConfigRefused(input.server.name, reasons);
  const warnings = configWarnings(input);
  if (input.server.type === 'bind9') return { ...renderBind(input), warnings };
  if (input.server.type === 'knot') return { ...renderKnot(input), warnings };
  return { ...renderNsd(input), warnings };
}
