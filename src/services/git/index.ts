// git as one more way in and out of DMS (issue 12, docs/GIT.md). The rules:
//  - Mirror out: every published version of a zone of git_zones becomes one commit of the repository git_mirror
//    (branch git_branch): one file per zone, named after the zone without its final dot, holding the zone text as
//    show_zone prints it (DMS comments and flags kept); author = the version's change_by, committer = DMS, message =
//    zone, serial, ZI id and comment. Versions published while a push is in flight are batched into one push. A zone
//    the repository has never seen gets its current version only (all such zones in one commit), not its history.
//  - Source of truth in: files of git_managed zones are imported on git_pull, on a signed NOTIFY to dmsd or on the
//    poll: every changed file is checked with the zone-file checks and the whole push is imported in one transaction,
//    or nothing of it (every problem reported with file, line and column). `<zone>._keys` files hold the zone's TSIG
//    keys as DNSKEY records (ocaml-dns: flags 0, protocol 3, algorithm 163 = hmac-sha256 …).
//  - The database stays the authority of what is served: a remote that is down or refuses delays pushes and imports
//    and changes nothing; a remote branch that no longer descends from what DMS last saw (a force-push) is refused.
// No SQL here (store/queries/git.ts); git itself runs through repo.ts / run.ts.

import { Name } from '../../dns/name.js';
import { algorithmFromString, type TsigAlgorithm } from '../../dns/tsig.js';
import { RRType } from '../../dns/constants.js';
import { type Tx, writeTx } from '../../store/index.js';
import {
  deleteGitZoneState,
  type GitSelection,
  type GitZoneRow,
  gitLiveZones,
  gitPendingZis,
  gitRepoState,
  gitSelectedZones,
  gitStatesOfDeletedZones,
  gitZoneStates,
  putGitRepoState,
  putGitZoneState,
} from '../../store/queries/git.js';
import { deleteTsigKeyRow, grantTexts, insertTsigKey, replaceGrants, tsigKeyRows } from '../../store/queries/keys.js';
import { insertEvent } from '../../store/queries/events.js';
import { updateZoneRow } from '../../store/queries/zones.js';
import { parseZoneText } from '../../zonefile/index.js';
import type { ZoneRecord } from '../../zonefile/types.js';
import { loadSettings, type Settings } from '../config.js';
import { nowMs, type ServiceContext, withActor } from '../context.js';
import { commitVersion, findLiveZone, recordChange, validateZone, type ZoneRow } from '../core.js';
import { DmsError, type GitFileProblem, GitHistoryRewritten, GitImportFailed, GitNotConfigured, GitRemoteFailed } from '../errors.js';
import { normalizeZoneName } from '../names.js';
import { contentToText, CreateContext, createZoneIn, deleteZoneIn, getZoneContent, textZoneTtl } from '../zones.js';
import { type GitIdent, GitRepo, identOf, type ImportCommit } from './repo.js';

export { identOf } from './repo.js';

export interface GitConfig {
  url: string;
  branch: string;
  /** Zones mirrored out (null: none). */
  zones: GitSelection | null;
  /** Zones whose files are the source of truth (null: none). */
  managed: GitSelection | null;
  removed: 'delete' | 'ignore';
  committer: string;
  workdir: string;
  sshKey: string;
  /** Seconds between polls of the remote (null: no polling). */
  poll: number | null;
}

function selection(v: string): GitSelection | null {
  if (v === '') return null;
  if (v === 'all') return { all: true };
  const [k, name] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
  return k === 'sg' ? { sg: name } : { ref: name };
}

/** The git settings, or null when no repository is configured. */
export function gitConfigOf(st: Settings): GitConfig | null {
  const url = st.raw('git_mirror');
  if (url === '') return null;
  const branch = st.raw('git_branch') || 'main';
  let workdir = st.raw('git_workdir');
  if (workdir === '') {
    const os = process.getBuiltinModule('node:os');
    const path = process.getBuiltinModule('node:path');
    const h = process.getBuiltinModule('node:crypto').createHash('sha256').update(`${url}\n${branch}`).digest('hex').slice(0, 16);
    workdir = path.join(os.tmpdir(), 'dms-git', h);
  }
  return {
    url,
    branch,
    zones: selection(st.raw('git_zones')),
    managed: selection(st.raw('git_managed')),
    removed: st.raw('git_removed') === 'ignore' ? 'ignore' : 'delete',
    committer: st.raw('git_committer'),
    workdir,
    sshKey: st.raw('git_ssh_key'),
    poll: st.ttlOrNull('git_poll'),
  };
}

export async function gitConfig(ctx: ServiceContext): Promise<GitConfig | null> {
  return gitConfigOf(await loadSettings(ctx.store.db));
}

async function requireConfig(ctx: ServiceContext): Promise<GitConfig> {
  const cfg = await gitConfig(ctx);
  if (!cfg) throw new GitNotConfigured();
  return cfg;
}

function repoOf(cfg: GitConfig): GitRepo {
  const env: Record<string, string> = {};
  // ssh remotes with a configured key: that key only, never a prompt, the host key must be known.
  if (cfg.sshKey) env.GIT_SSH_COMMAND = `ssh -i '${cfg.sshKey.replace(/'/g, "'\\''")}' -o IdentitiesOnly=yes -o BatchMode=yes`;
  return new GitRepo(cfg.workdir, cfg.url, cfg.branch, env);
}

const repoKey = (cfg: GitConfig) => `${cfg.url}#${cfg.branch}`;

// ---- file names -------------------------------------------------------------------------------------------------------

/** A zone's file: its name without the final dot ('/' of RFC 2317 names escaped, so every zone is one top-level file). */
export function zoneFileName(zone: string): string {
  const n = zone.endsWith('.') ? zone.slice(0, -1) : zone;
  return n.replace(/%/g, '%25').replace(/\//g, '%2F');
}

const KEYS_SUFFIX = '._keys';

/** A file's zone and whether it is the zone's `_keys` file, or a problem. Dot files and sub-directories are not zones. */
export function fileZone(path: string): { zone: string; keys: boolean } | { skip: true } | { problem: string } {
  if (path.includes('/') || path.startsWith('.')) return { skip: true };
  const keys = path.endsWith(KEYS_SUFFIX);
  const base = keys ? path.slice(0, -KEYS_SUFFIX.length) : path;
  if (base === '' || base === '_keys') return { problem: 'keys for every zone (a bare _keys file) are not supported: use <zone>._keys' };
  let text: string;
  try {
    text = decodeURIComponent(base);
  } catch {
    return { problem: 'file name is not a zone name (bad %-escape)' };
  }
  try {
    const name = Name.from(text);
    if (name.isRoot() || name.labels.some((l) => l.length === 0)) throw new Error('empty label');
    const z = normalizeZoneName(name.toString());
    if (z.split('.').includes('*')) throw new Error('a zone name cannot contain a wildcard label');
    return { zone: z, keys };
  } catch (e) {
    return { problem: `file name is not a zone name: ${(e as Error).message}` };
  }
}

// ---- mirror out -------------------------------------------------------------------------------------------------------

export interface GitPushReport {
  /** Commits pushed (0: nothing pending). */
  commits: number;
  head: string | null;
  zones: string[];
  /** Remote changes imported first (git-managed zones). */
  imported?: GitImportReport;
}

function committerOf(cfg: GitConfig, time: number): GitIdent {
  return identOf(cfg.committer || 'DMS <dms@dms.invalid>', time);
}

function messageOf(zone: string, serial: number, ziId: number, version: number, comment: string | null): string {
  return `${zone} serial ${serial}\n\nZI ${ziId} (version ${version})${comment ? `\n\n${comment}` : ''}\n`;
}

interface Planned {
  commit: ImportCommit;
  /** Zone → the version this commit carries (deleted: -1). */
  zones: Map<string, number>;
}

/** What is to be committed: the new zones (one commit), every pending version (one commit each), the deletions. */
async function planPush(ctx: ServiceContext, cfg: GitConfig, names: readonly string[] | undefined, full: boolean): Promise<Planned[]> {
  const db = ctx.store.db;
  const sel = cfg.zones;
  const now = Date.now() / 1000;
  const plans: Planned[] = [];
  if (sel) {
    const zones = await gitSelectedZones(db, sel, names);
    const states = new Map((await gitZoneStates(db, full ? undefined : zones.map((z) => z.name))).map((s) => [s.zone_name, s]));
    const fresh = zones.filter((z) => !states.has(z.name) && z.published_version !== null);
    if (fresh.length > 0) {
      const files = new Map<string, string>();
      const carried = new Map<string, number>();
      for (const z of fresh) {
        const c = await getZoneContent(ctx, z.name, z.published_version as number);
        files.set(zoneFileName(z.name), contentToText(c));
        carried.set(z.name, z.published_version as number);
      }
      const msg =
        fresh.length === 1
          ? `${fresh[0].name} added to the mirror (version ${fresh[0].published_version})\n`
          : `${fresh.length} zones added to the mirror\n\n${fresh.map((z) => `${z.name} version ${z.published_version}`).join('\n')}\n`;
      plans.push({ commit: { author: committerOf(cfg, now), committer: committerOf(cfg, now), message: msg, files }, zones: carried });
    }
    const known = zones.filter((z) => states.has(z.name));
    for (const p of await gitPendingZis(db, known.map((z) => z.id))) {
      const c = await getZoneContent(ctx, p.zone_name, p.version);
      plans.push({
        commit: {
          author: identOf(p.change_by, p.ptime / 1000),
          committer: committerOf(cfg, now),
          message: messageOf(p.zone_name, p.soa_serial, p.zi_id, p.version, p.comment),
          files: new Map([[zoneFileName(p.zone_name), contentToText(c)]]),
        },
        zones: new Map([[p.zone_name, p.version]]),
      });
    }
  }
  // Zones deleted in DMS: their files go (kept in the repository's history, as every version is).
  const gone = full
    ? await gitStatesOfDeletedZones(db)
    : (await gitZoneStates(db, names)).filter((s) => s.pushed_commit !== null);
  const live = new Set((await gitLiveZones(db, gone.map((g) => g.zone_name))).map((z) => z.name));
  for (const g of gone) {
    if (live.has(g.zone_name)) continue;
    plans.push({
      commit: {
        author: committerOf(cfg, now),
        committer: committerOf(cfg, now),
        message: `${g.zone_name} deleted\n`,
        files: new Map([[zoneFileName(g.zone_name), null]]),
      },
      zones: new Map([[g.zone_name, -1]]),
    });
  }
  return plans;
}

/**
 * Commit and push what is pending. `zones`: only these zones (the change feed's); absent: every mirrored zone. The
 * remote moved since DMS last pushed: git-managed zones' changes are imported first, then DMS's commits go on top
 * (a rebase: DMS's files are whole zone texts, so a file DMS did not change keeps the remote's edit).
 */
export async function gitPush(ctx: ServiceContext, o: { zones?: readonly string[] } = {}): Promise<GitPushReport> {
  const cfg = await requireConfig(ctx);
  const repo = repoOf(cfg);
  const names = o.zones?.map(normalizeZoneName);
  return recordRepoError(ctx, cfg, () =>
    repo.locked(async () => {
      await repo.ensure();
      let imported: GitImportReport | undefined;
      for (let attempt = 0; ; attempt++) {
        const { remote, known, descends } = await fetchRemote(ctx, cfg, repo);
        if (remote !== known && remote !== null && cfg.managed) imported = await importIn(ctx, cfg, repo, known, remote, undefined, descends);
        else await descends;
        const plans = await planPush(ctx, cfg, names, names === undefined);
        if (plans.length === 0) {
          if (remote !== known) await putGitRepoState(ctx.store.db, repoKey(cfg), { remote_head: remote, last_error: null, updated: nowMs(ctx) });
          return { commits: 0, head: remote, zones: [], ...(imported ? { imported } : {}) };
        }
        const shas = await repo.writeCommits(remote, plans.map((p) => p.commit));
        const head = shas[shas.length - 1];
        if ((await repo.push(head)) === 'rejected') {
          // Someone pushed between our look at the remote and our push: look again (and import their change).
          if (attempt < 3) continue;
          throw new GitRemoteFailed(cfg.url, 'push rejected again and again (the branch keeps moving); will retry');
        }
        const t = nowMs(ctx);
        const zones: string[] = [];
        await writeTx(ctx.store, async (trx) => {
          for (let i = 0; i < plans.length; i++)
            for (const [zone, version] of plans[i].zones) {
              zones.push(zone);
              if (version < 0) await deleteGitZoneState(trx, zone);
              // A zone's last error comes from imports (a refused file, a conflict): the next import clears it.
              else await putGitZoneState(trx, zone, { pushed_version: version, pushed_commit: shas[i], pushed_time: t });
            }
          await putGitRepoState(trx, repoKey(cfg), { remote_head: head, local_head: head, last_error: null, updated: t });
        });
        return { commits: shas.length, head, zones: [...new Set(zones)], ...(imported ? { imported } : {}) };
      }
    }),
  );
}

/**
 * git_export: the whole current state (every mirrored zone's published version) as one commit, whatever was pushed
 * before; from then on each published version is a commit of its own.
 */
export async function gitExport(ctx: ServiceContext): Promise<GitPushReport> {
  const cfg = await requireConfig(ctx);
  if (!cfg.zones) throw new GitNotConfigured('git_zones');
  const repo = repoOf(cfg);
  return recordRepoError(ctx, cfg, () =>
    repo.locked(async () => {
      await repo.ensure();
      const remote = await checkedRemoteHead(ctx, cfg, repo);
      const zones = (await gitSelectedZones(ctx.store.db, cfg.zones as GitSelection)).filter((z) => z.published_version !== null);
      const files = new Map<string, string | null>();
      for (const z of zones) files.set(zoneFileName(z.name), contentToText(await getZoneContent(ctx, z.name, z.published_version as number)));
      const now = Date.now() / 1000;
      const [head] = await repo.writeCommits(remote, [
        { author: identOf(ctx.actor, now), committer: committerOf(cfg, now), message: `DMS export: ${zones.length} zones\n`, files },
      ]);
      if ((await repo.push(head)) === 'rejected') throw new GitRemoteFailed(cfg.url, 'push rejected: the branch moved meanwhile; try again');
      const t = nowMs(ctx);
      await writeTx(ctx.store, async (trx) => {
        for (const z of zones) await putGitZoneState(trx, z.name, { pushed_version: z.published_version as number, pushed_commit: head, pushed_time: t, last_error: null });
        await putGitRepoState(trx, repoKey(cfg), { remote_head: head, local_head: head, last_error: null, updated: t });
      });
      return { commits: 1, head, zones: zones.map((z) => z.name) };
    }),
  );
}

interface RemoteState {
  /** The remote branch's head, fetched (null: no such branch). */
  remote: string | null;
  /** What DMS last saw there. */
  known: string | null;
  /** Settles once `known` is found in the remote's history; rejects with GitHistoryRewritten when it is not. */
  descends: Promise<void>;
}

/**
 * Fetch the remote branch (one git process) and start the check that it descends from what DMS last saw there. The
 * check is left running, so that an import can read the changes meanwhile (its caller awaits `descends` before using
 * anything).
 */
async function fetchRemote(ctx: ServiceContext, cfg: GitConfig, repo: GitRepo, lap: Lap = () => {}): Promise<RemoteState> {
  const remote = await repo.fetchHead();
  lap('fetch');
  const known = (await gitRepoState(ctx.store.db, repoKey(cfg)))?.remote_head ?? null;
  if (remote === null) {
    if (known !== null) throw new GitHistoryRewritten(cfg.branch, known, '(branch deleted)'.padEnd(12));
    return { remote, known, descends: Promise.resolve() };
  }
  const descends =
    known !== null && known !== remote
      ? repo.isAncestor(known, remote).then((ok) => {
          if (!ok) throw new GitHistoryRewritten(cfg.branch, known, remote);
        })
      : Promise.resolve();
  // Awaited by the caller; not an unhandled rejection while it reads the changes.
  descends.catch(() => {});
  return { remote, known, descends };
}

/** The remote head, present locally, and descending from what DMS last saw there (else GitHistoryRewritten). */
async function checkedRemoteHead(ctx: ServiceContext, cfg: GitConfig, repo: GitRepo): Promise<string | null> {
  const s = await fetchRemote(ctx, cfg, repo);
  await s.descends;
  return s.remote;
}

/** Keep the repository's last error for git_status (cleared by the next success), and pass the error on. */
async function recordRepoError<T>(ctx: ServiceContext, cfg: GitConfig, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const msg = (e as Error).message;
    await putGitRepoState(ctx.store.db, repoKey(cfg), { last_error: msg, updated: nowMs(ctx) }).catch(() => {});
    throw e;
  }
}

/** Told how long each step of an import took (ms), for dmsd's debug log. */
export type GitTrace = (phase: string, ms: number) => void;
type Lap = (phase: string) => void;

function lapper(trace: GitTrace | undefined): Lap {
  if (!trace) return () => {};
  let t = performance.now();
  return (phase) => {
    const n = performance.now();
    trace(phase, Math.round((n - t) * 10) / 10);
    t = n;
  };
}

// ---- source of truth in -----------------------------------------------------------------------------------------------

export interface GitImportReport {
  commit: string | null;
  zones: { zone: string; action: 'created' | 'updated' | 'merged' | 'deleted' | 'keys' | 'unchanged'; version?: number; by?: string }[];
  /** Files changed in the remote but kept as DMS has them (DMS's own change not pushed yet): see git_status. */
  conflicts: string[];
}

/**
 * `git_pull`: fetch, check every changed file, import them all or nothing. `force`: the branch was rewritten (a
 * force-push) and the operator takes it as it is: every file of its head is compared with DMS's zone, as on a first import.
 */
export async function gitPull(ctx: ServiceContext, o: { force?: boolean; trace?: GitTrace } = {}): Promise<GitImportReport> {
  const lap = lapper(o.trace);
  const cfg = await requireConfig(ctx);
  if (!cfg.managed) throw new GitNotConfigured('git_managed');
  const repo = repoOf(cfg);
  lap('config');
  return recordRepoError(ctx, cfg, () =>
    repo.locked(async () => {
      lap('lock');
      await repo.ensure();
      lap('ensure');
      if (o.force) {
        const remote = await repo.fetchHead();
        if (remote === null) return { commit: null, zones: [], conflicts: [] };
        return importIn(ctx, cfg, repo, null, remote);
      }
      const { remote, known, descends } = await fetchRemote(ctx, cfg, repo, lap);
      if (remote === null || remote === known) return { commit: remote, zones: [], conflicts: [] };
      return importIn(ctx, cfg, repo, known, remote, lap, descends);
    }),
  );
}

const HMAC_BY_DNSKEY_ALG: Readonly<Record<number, TsigAlgorithm>> = {
  157: 'hmac-md5',
  161: 'hmac-sha1',
  162: 'hmac-sha224',
  163: 'hmac-sha256',
  164: 'hmac-sha384',
  165: 'hmac-sha512',
};

interface KeySpec {
  name: string;
  algorithm: TsigAlgorithm;
  secret: string;
  update: boolean;
}

/** A `_keys` file: DNSKEY records named `<name>._update.<zone>` / `<name>._transfer.<zone>` (or a subdomain's). */
function parseKeysFile(zone: string, path: string, text: string, problems: GitFileProblem[]): KeySpec[] {
  const origin = Name.parse(zone);
  const res = parseZoneText(text, { origin, file: path, defaultTtl: 0 });
  for (const p of res.problems) if (p.severity === 'error') problems.push({ file: path, line: p.line || undefined, column: p.column || undefined, message: p.message });
  const out: KeySpec[] = [];
  for (const r of res.records) {
    const at = { file: path, ...(r.line ? { line: r.line } : {}) };
    if (r.type !== RRType.DNSKEY) {
      problems.push({ ...at, message: `only DNSKEY records hold keys in a _keys file (found type ${r.type})` });
      continue;
    }
    const labels = r.name.labels.map((l) => Buffer.from(l).toString('latin1').toLowerCase());
    const op = labels.findIndex((l) => l === '_update' || l === '_transfer');
    const domain = op < 0 ? undefined : Name.from(`${labels.slice(op + 1).join('.')}.`);
    if (op < 1 || !domain || !domain.isSubdomainOf(origin)) {
      problems.push({ ...at, message: `key ${r.name.toString()} is not named <name>._update.${zone} or <name>._transfer.${zone}` });
      continue;
    }
    const d = r.rdata;
    const flags = (d[0] << 8) | d[1];
    const alg = HMAC_BY_DNSKEY_ALG[d[3]];
    if (d.length < 5 || flags !== 0 || d[2] !== 3 || !alg) {
      problems.push({ ...at, message: `key ${r.name.toString()}: expected DNSKEY 0 3 <163|164|165|…> <base64 secret> (flags 0, protocol 3, an HMAC algorithm)` });
      continue;
    }
    if (!algorithmFromString(alg)) continue;
    out.push({ name: r.name.key, algorithm: alg, secret: Buffer.from(d.subarray(4)).toString('base64'), update: labels[op] === '_update' });
  }
  return out;
}

interface ZoneFilePlan {
  path: string;
  zone: string;
  records: ZoneRecord[];
  zoneTtl?: number;
  existing?: GitZoneRow;
  /** DMS's unpushed change and the remote's, merged: the result is new to the repository too (pushed next). */
  merged?: boolean;
}

/**
 * Both sides changed a zone since the commit DMS last synchronised (`known`): DMS (a version not pushed yet) and the
 * remote (its file). Their changes, each against the file at `known`, are compared by RRset (owner + type; the SOA
 * is DMS's): disjoint → DMS's records with the RRsets the remote changed taken from the remote ('rebase'); an RRset
 * changed on both sides → 'conflict'. 'invalid': the remote's file has errors (in `problems`).
 */
async function mergeBoth(
  ctx: ServiceContext,
  repo: GitRepo,
  known: string | null,
  zone: string,
  path: string,
  theirsText: string,
  problems: GitFileProblem[],
): Promise<ZoneRecord[] | 'conflict' | 'invalid'> {
  const origin = Name.parse(zone);
  const theirs = parseZoneText(theirsText, { origin, file: path });
  const errs = theirs.problems.filter((p) => p.severity === 'error');
  for (const p of errs) problems.push({ file: path, line: p.line || undefined, column: p.column || undefined, message: p.message });
  if (errs.length > 0) return 'invalid';
  if (known === null) return 'conflict';
  const baseText = (await repo.readFiles(known, [path])).get(path);
  if (baseText === undefined) return 'conflict';
  const base = parseZoneText(baseText, { origin, file: path });
  if (base.problems.some((p) => p.severity === 'error')) return 'conflict';
  const ours = (await getZoneContent(ctx, zone)).records;
  const setKey = (r: ZoneRecord) => `${r.name.key}\t${r.type}`;
  const key = (r: ZoneRecord) => `${setKey(r)}\t${r.ttl}\t${Buffer.from(r.rdata).toString('hex')}\t${r.flags?.disable ? 'd' : ''}`;
  const index = (rs: readonly ZoneRecord[]) => new Map(rs.filter((r) => r.type !== RRType.SOA).map((r) => [key(r), r]));
  const changed = (a: Map<string, ZoneRecord>, b: Map<string, ZoneRecord>) => {
    const out = new Set<string>();
    for (const [k, r] of a) if (!b.has(k)) out.add(setKey(r));
    for (const [k, r] of b) if (!a.has(k)) out.add(setKey(r));
    return out;
  };
  const b = index(base.records);
  const oursChanged = changed(b, index(ours));
  const theirsChanged = changed(b, index(theirs.records));
  for (const k of theirsChanged) if (oursChanged.has(k)) return 'conflict';
  const out = ours.filter((r) => r.type === RRType.SOA || !theirsChanged.has(setKey(r)));
  for (const r of theirs.records) if (r.type !== RRType.SOA && theirsChanged.has(setKey(r))) out.push(r);
  return out;
}

/** Import remote..known changes (caller holds the repository lock). Throws GitImportFailed with every problem. */
async function importIn(
  ctx: ServiceContext,
  cfg: GitConfig,
  repo: GitRepo,
  known: string | null,
  remote: string,
  lap: Lap = () => {},
  descends: Promise<void> = Promise.resolve(),
): Promise<GitImportReport> {
  // Three read-only git processes at once: the history check, the changed files (diff-tree between the two commits,
  // never every file) and their authors; and the cat-file that reads the files, started now, fed once they are known.
  // A rewritten history is the answer even when the others fail too.
  const reader = repo.objectReader();
  try {
    return await importWith(ctx, cfg, repo, known, remote, lap, descends, reader);
  } finally {
    reader.close();
  }
}

async function importWith(
  ctx: ServiceContext,
  cfg: GitConfig,
  repo: GitRepo,
  known: string | null,
  remote: string,
  lap: Lap,
  descends: Promise<void>,
  reader: ReturnType<GitRepo['objectReader']>,
): Promise<GitImportReport> {
  const db = ctx.store.db;
  const managed = cfg.managed as GitSelection;
  const problems: GitFileProblem[] = [];
  const [d, c, a] = await Promise.allSettled([descends, repo.changes(known, remote), repo.lastAuthors(known, remote)]);
  if (d.status === 'rejected') throw d.reason;
  if (c.status === 'rejected') throw c.reason;
  if (a.status === 'rejected') throw a.reason;
  const changes = c.value;
  const authors = a.value;
  lap('changes');
  const zoneFiles: { path: string; zone: string; status: 'A' | 'M' | 'D'; blob?: string }[] = [];
  const keyFiles: { path: string; zone: string; status: 'A' | 'M' | 'D'; blob?: string }[] = [];
  for (const c of changes) {
    const f = fileZone(c.path);
    if ('skip' in f) continue;
    if ('problem' in f) {
      if (c.status !== 'D') problems.push({ file: c.path, message: f.problem });
      continue;
    }
    (f.keys ? keyFiles : zoneFiles).push({ path: c.path, zone: f.zone, status: c.status, ...(c.blob ? { blob: c.blob } : {}) });
  }
  const names = [...new Set([...zoneFiles, ...keyFiles].map((f) => f.zone))];
  const live = new Map((await gitLiveZones(db, names)).map((z) => [z.name, z]));
  const mine = new Set((await gitSelectedZones(db, managed, names)).map((z) => z.name));
  lap('zones');
  // By blob id: a `<commit>:<path>` lookup walks the tree for every file (quadratic in a push of many files).
  const texts = await reader.read(new Map([...zoneFiles, ...keyFiles].flatMap((f) => (f.blob ? [[f.path, f.blob] as const] : []))));
  lap('read');
  const states = new Map((await gitZoneStates(db, names)).map((s) => [s.zone_name, s]));

  const notMine = (zone: string, path: string) => {
    // A first (or forced) import reads every file: those of zones only mirrored out are DMS's own copies, not edits.
    if (known === null) return;
    const z = live.get(zone) as GitZoneRow;
    problems.push({
      file: path,
      message: `zone ${zone} exists but is not git-managed (server group ${z.sg_name}${z.ref_name ? `, reference ${z.ref_name}` : ''}; git_managed is ${
        'all' in managed ? 'all' : 'sg' in managed ? `sg:${managed.sg}` : `ref:${managed.ref}`
      }): not imported`,
    });
  };
  const plans: ZoneFilePlan[] = [];
  const deletes: GitZoneRow[] = [];
  const conflicts: string[] = [];
  for (const f of zoneFiles) {
    const existing = live.get(f.zone);
    if (existing && !mine.has(f.zone)) {
      if (f.status !== 'D') notMine(f.zone, f.path);
      continue;
    }
    if (f.status === 'D') {
      if (existing && cfg.removed === 'delete') deletes.push(existing);
      continue;
    }
    // DMS changed this zone and has not pushed it yet, and the remote changed the file too: a rebase at RRset level
    // when the two touched different RRsets (both changes kept); otherwise keep DMS's version (it is pushed on top
    // next, the remote's edit stays in the history), and say so (git_status, a failed event with both sides).
    const st = states.get(f.zone);
    if (existing && st && existing.published_version !== null && existing.published_version > Number(st.pushed_version) && st.pushed_commit !== null) {
      const m = await mergeBoth(ctx, repo, known, f.zone, f.path, texts.get(f.path) ?? '', problems);
      if (m === 'conflict') conflicts.push(f.path);
      else if (m !== 'invalid') plans.push({ path: f.path, zone: f.zone, records: m, existing, merged: true });
      continue;
    }
    const text = texts.get(f.path) ?? '';
    const origin = Name.parse(f.zone);
    const res = parseZoneText(text, { origin, file: f.path });
    const errs = res.problems.filter((p) => p.severity === 'error');
    for (const p of errs) problems.push({ file: f.path, line: p.line || undefined, column: p.column || undefined, message: p.message });
    if (errs.length > 0) continue;
    for (const p of validateZone(origin, res.records).problems)
      if (p.severity === 'error')
        problems.push({ file: f.path, ...(p.line ? { line: p.line } : {}), message: `${p.owner ? `${p.owner} ` : ''}${p.type ? `${p.type} ` : ''}${p.message}` });
    if (!res.records.some((r) => r.type === RRType.SOA && r.name.equals(origin))) problems.push({ file: f.path, message: `no SOA record at the zone apex ${f.zone}` });
    const zoneTtl = textZoneTtl(text);
    plans.push({ path: f.path, zone: f.zone, records: res.records, ...(zoneTtl !== undefined ? { zoneTtl } : {}), ...(existing ? { existing } : {}) });
  }
  const keySets: { path: string; zone: string; keys: KeySpec[] }[] = [];
  const created = new Set(plans.filter((p) => !p.existing).map((p) => p.zone));
  for (const f of keyFiles) {
    if (live.has(f.zone) && !mine.has(f.zone)) {
      if (f.status !== 'D') notMine(f.zone, f.path);
      continue;
    }
    if (!live.has(f.zone) && !created.has(f.zone)) {
      if (f.status !== 'D') problems.push({ file: f.path, message: `keys for zone ${f.zone}, which neither exists nor is added by this push` });
      continue;
    }
    keySets.push({ path: f.path, zone: f.zone, keys: f.status === 'D' ? [] : parseKeysFile(f.zone, f.path, texts.get(f.path) ?? '', problems) });
  }
  lap('check');
  if (problems.length > 0) throw await importFailed(ctx, cfg, remote, problems, names);

  // Both sides of each conflict, for the failed event (read before the write transaction).
  const ours = new Map<string, string>();
  for (const path of conflicts) {
    const zone = (fileZone(path) as { zone: string }).zone;
    ours.set(path, contentToText(await getZoneContent(ctx, zone)));
  }
  const report: GitImportReport = { commit: remote, zones: [], conflicts };
  const settings = await loadSettings(db);
  const cc = new CreateContext(settings);
  const t = nowMs(ctx);
  const short = remote.slice(0, 12);
  lap('prepare');
  try {
    await writeTx(ctx.store, async (trx) => {
      lap('tx-begin');
      const versions = new Map<string, number>();
      const merged = new Map<string, number>();
      for (const p of plans) {
        const who = authors.get(p.path);
        const actx = withActor(ctx, who?.author ?? 'git');
        const comment = `git ${short}${who?.subject ? `: ${who.subject}` : ''}`;
        try {
          if (p.existing) {
            const zone = await findLiveZone(trx, actx, p.zone, true);
            const r = await commitVersion(trx, actx, zone, settings, {
              records: p.records,
              comment,
              publish: true,
              ...(p.zoneTtl !== undefined ? { zoneTtl: p.zoneTtl } : {}),
            });
            const v = r.zoneRow.published_version === null ? zone.latest_version : Number(r.zoneRow.published_version);
            if (p.merged) merged.set(p.zone, v);
            else versions.set(p.zone, v);
            report.zones.push({ zone: p.zone, action: p.merged ? 'merged' : v === Number(zone.published_version) ? 'unchanged' : 'updated', version: v, by: actx.actor });
          } else {
            const sg = 'sg' in managed ? managed.sg : undefined;
            const reference = 'ref' in managed ? managed.ref : undefined;
            const { zone } = await createZoneIn(trx, actx, cc, p.zone, {
              ...(sg ? { sg } : {}),
              ...(reference ? { reference } : {}),
              comment,
              // The file is the truth: its NS records are served, not the server group's apex NS.
              flags: { useApexNs: false },
              ...(p.zoneTtl !== undefined ? { zoneTtl: p.zoneTtl } : {}),
            }, p.records);
            versions.set(p.zone, Number(zone.published_version ?? zone.latest_version));
            report.zones.push({ zone: p.zone, action: 'created', version: Number(zone.published_version ?? zone.latest_version), by: actx.actor });
          }
        } catch (e) {
          if (!(e instanceof DmsError)) throw e;
          const vp = (e as { problems?: { message: string; line?: number; column?: number }[] }).problems;
          if (vp?.length) for (const q of vp) problems.push({ file: p.path, ...(q.line ? { line: q.line } : {}), ...(q.column ? { column: q.column } : {}), message: q.message });
          else problems.push({ file: p.path, message: e.message });
        }
      }
      lap('tx-versions');
      for (const z of deletes) {
        const zone = await findLiveZone(trx, ctx, z.name, true);
        await deleteZoneIn(trx, withActor(ctx, authors.get(zoneFileName(z.name))?.author ?? 'git'), zone);
        report.zones.push({ zone: z.name, action: 'deleted' });
      }
      for (const k of keySets) await applyKeys(trx, ctx, k.zone, k.keys, report);
      if (problems.length > 0) throw new GitImportFailed(remote, problems);
      // What was imported is what the repository holds: not to be pushed back.
      for (const [zone, v] of versions)
        await putGitZoneState(trx, zone, {
          imported_commit: remote,
          imported_version: v,
          imported_time: t,
          pushed_version: v,
          pushed_commit: remote,
          pushed_time: t,
          last_error: null,
        });
      // A merge is new to the repository: imported, but still to be pushed (with DMS's versions before it).
      for (const [zone, v] of merged) await putGitZoneState(trx, zone, { imported_commit: remote, imported_version: v, imported_time: t, last_error: null });
      for (const z of deletes) await deleteGitZoneState(trx, z.name);
      for (const path of conflicts) {
        const zone = (fileZone(path) as { zone: string }).zone;
        const msg = `conflict: ${path} changed in git (${short}) while DMS's newer version was not pushed yet; DMS's version is kept and pushed on top — compare with: git diff ${short} <next DMS commit> -- ${path}`;
        await putGitZoneState(trx, zone, { last_error: msg });
        await insertEvent(trx, {
          event_type: 'git_conflict',
          zone_id: live.get(zone)?.id ?? null,
          zone_name: zone,
          state: 'FAILURE',
          payload: JSON.stringify({ file: path, remote, ours: ours.get(path) ?? '', theirs: texts.get(path) ?? '' }),
          attempts: 0,
          last_error: msg,
          created: t,
          scheduled: t,
          processed: t,
        });
      }
      await putGitRepoState(trx, repoKey(cfg), { remote_head: remote, last_error: null, updated: t });
      lap('tx-rest');
    });
  } catch (e) {
    if (e instanceof GitImportFailed) throw await importFailed(ctx, cfg, remote, e.problems, names);
    throw e;
  }
  lap('commit');
  return report;
}

/** Record a refused push (repository and each zone named) and return the error to throw. */
async function importFailed(ctx: ServiceContext, cfg: GitConfig, remote: string, problems: readonly GitFileProblem[], zones: readonly string[]): Promise<GitImportFailed> {
  const err = new GitImportFailed(remote, problems);
  const t = nowMs(ctx);
  await writeTx(ctx.store, async (trx) => {
    for (const z of zones) {
      const mineProblems = problems.filter((p) => (fileZone(p.file) as { zone?: string }).zone === z);
      if (mineProblems.length > 0) await putGitZoneState(trx, z, { last_error: new GitImportFailed(remote, mineProblems).message });
    }
    await putGitRepoState(trx, repoKey(cfg), { last_error: err.message, updated: t });
  }).catch(() => {});
  return err;
}

/**
 * A zone's `_keys` file → its TSIG keys (replacing the keys of that zone's `._update.` / `._transfer.` names) and, for
 * `_update` keys, an update grant for the zone and everything below it (ocaml-dns: a key may change its domain and
 * all subdomains). The zone accepts UPDATEs from then on (inc_updates).
 */
async function applyKeys(trx: Tx, ctx: ServiceContext, zone: string, keys: readonly KeySpec[], report: GitImportReport): Promise<void> {
  const t = nowMs(ctx);
  const isZoneKey = (n: string) => {
    const labels = n.split('.');
    const op = labels.findIndex((l) => l === '_update' || l === '_transfer');
    return op > 0 && Name.from(`${labels.slice(op + 1).join('.')}`).isSubdomainOf(Name.parse(zone));
  };
  for (const k of await tsigKeyRows(trx)) if (isZoneKey(k.name)) await deleteTsigKeyRow(trx, k.name);
  for (const k of keys) {
    await deleteTsigKeyRow(trx, k.name);
    await insertTsigKey(trx, { name: k.name, algorithm: k.algorithm, secret: k.secret, ctime: t });
  }
  const z: ZoneRow = await findLiveZone(trx, ctx, zone, true);
  const kept = (await grantTexts(trx, Number(z.id))).filter((g) => {
    const key = g.split(/\s+/)[1] ?? '';
    return !isZoneKey(key.toLowerCase().endsWith('.') ? key.toLowerCase() : `${key.toLowerCase()}.`);
  });
  const grants = [...kept, ...keys.filter((k) => k.update).map((k) => `grant ${k.name} subdomain ${k.name.slice(k.name.indexOf('._update.') + '._update.'.length)} ANY`)];
  await replaceGrants(trx, Number(z.id), grants);
  if (keys.some((k) => k.update) && !z.inc_updates) await updateZoneRow(trx, Number(z.id), { inc_updates: 1 });
  await recordChange(trx, ctx, { id: 0, name: '.' } as ZoneRow, 'keys', null);
  await recordChange(trx, ctx, z, 'update', z.published_version);
  report.zones.push({ zone, action: 'keys' });
}

// ---- status -----------------------------------------------------------------------------------------------------------

export interface GitZoneStatus {
  zone: string;
  managed: boolean;
  lastPushedCommit: string | null;
  lastPushedVersion: number;
  lastPushed: Date | null;
  lastImportedCommit: string | null;
  lastImported: Date | null;
  /** Published versions not in the repository yet. */
  pendingPushes: number;
  lastError: string | null;
}

export interface GitStatus {
  repository: string | null;
  branch: string | null;
  remoteHead: string | null;
  lastError: string | null;
  updated: Date | null;
  zones: GitZoneStatus[];
}

export async function gitStatus(ctx: ServiceContext, o: { zone?: string } = {}): Promise<GitStatus> {
  const cfg = await gitConfig(ctx);
  if (!cfg) return { repository: null, branch: null, remoteHead: null, lastError: null, updated: null, zones: [] };
  const db = ctx.store.db;
  const names = o.zone !== undefined ? [normalizeZoneName(o.zone)] : undefined;
  const zones = cfg.zones ? await gitSelectedZones(db, cfg.zones, names) : [];
  const managedZones = cfg.managed ? await gitSelectedZones(db, cfg.managed, names) : [];
  const managed = new Set(managedZones.map((z) => z.name));
  const all = new Map([...zones, ...managedZones].map((z) => [z.name, z]));
  const states = new Map((await gitZoneStates(db, names ?? [...all.keys()])).map((s) => [s.zone_name, s]));
  const pending = new Map<string, number>();
  for (const p of await gitPendingZis(db, [...all.values()].map((z) => z.id))) pending.set(p.zone_name, (pending.get(p.zone_name) ?? 0) + 1);
  const repo = await gitRepoState(db, repoKey(cfg));
  const d = (n: number | null) => (n === null ? null : new Date(Number(n)));
  return {
    repository: cfg.url,
    branch: cfg.branch,
    remoteHead: repo?.remote_head ?? null,
    lastError: repo?.last_error ?? null,
    updated: d(repo?.updated ?? null),
    zones: [...all.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((z) => {
        const s = states.get(z.name);
        return {
          zone: z.name,
          managed: managed.has(z.name),
          lastPushedCommit: s?.pushed_commit ?? null,
          lastPushedVersion: Number(s?.pushed_version ?? 0),
          lastPushed: d(s?.pushed_time ?? null),
          lastImportedCommit: s?.imported_commit ?? null,
          lastImported: d(s?.imported_time ?? null),
          // A zone the repository has never seen: its current version is pending.
          pendingPushes: s ? (pending.get(z.name) ?? 0) : z.published_version !== null && cfg.zones ? 1 : 0,
          lastError: s?.last_error ?? null,
        };
      }),
  };
}

/** Whether `zone` is (or, not existing yet, would be) git-managed: a signed NOTIFY for it makes dmsd pull. */
export async function gitManagesZone(ctx: ServiceContext, zone: string): Promise<boolean> {
  const cfg = await gitConfig(ctx);
  if (!cfg?.managed) return false;
  const name = normalizeZoneName(zone);
  const live = await gitLiveZones(ctx.store.db, [name]);
  if (live.length === 0) return true;
  return (await gitSelectedZones(ctx.store.db, cfg.managed, [name])).length > 0;
}
