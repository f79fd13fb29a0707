// git mirroring and import (issue 12): the git_zone_state / git_repo_state side tables (migration 0019), and the zones
// and published versions a push or an import works on.

import { type Kysely, type Selectable, sql } from 'kysely';
import type { GitRepoStateTable, GitTables, GitZoneStateTable } from '../migrations-git.js';
import type { Database } from '../schema.js';
import type { Db } from '../store.js';

type GDb = Kysely<Database & GitTables>;
/** The git tables come from a later migration, outside the base Database type. */
const gdb = (d: Db): GDb => d as unknown as GDb;

export type GitZoneStateRow = Selectable<GitZoneStateTable>;
export type GitRepoStateRow = Selectable<GitRepoStateTable>;

/** Which zones: every live zone, those of one server group, or those of one reference. */
export type GitSelection = { all: true } | { sg: string } | { ref: string };

/** A live zone of a selection, with its reference and server group names. */
export interface GitZoneRow {
  id: number;
  name: string;
  published_version: number | null;
  ref_name: string | null;
  sg_name: string;
}

function selectZones(db: Db, sel: GitSelection) {
  let q = db
    .selectFrom('zones as z')
    .innerJoin('server_groups as sg', 'sg.id', 'z.sg_id')
    .leftJoin('zone_references as ref', 'ref.id', 'z.reference_id')
    .select(['z.id', 'z.name', 'z.published_version', 'ref.name as ref_name', 'sg.name as sg_name'])
    .where('z.state', '<>', sql.lit('DELETED'));
  if ('sg' in sel) q = q.where('sg.name', '=', sel.sg);
  else if ('ref' in sel) q = q.where('ref.name', '=', sel.ref);
  return q;
}

const toZone = (r: { id: number; name: string; published_version: number | null; ref_name: string | null; sg_name: string }): GitZoneRow => ({
  id: Number(r.id),
  name: r.name,
  published_version: r.published_version === null ? null : Number(r.published_version),
  ref_name: r.ref_name,
  sg_name: r.sg_name,
});

/** Every live zone of the selection (names given: only those), by name. */
export async function gitSelectedZones(db: Db, sel: GitSelection, names?: readonly string[]): Promise<GitZoneRow[]> {
  if (names !== undefined && names.length === 0) return [];
  let q = selectZones(db, sel);
  if (names !== undefined) q = q.where('z.name', 'in', names);
  return (await q.orderBy('z.name').execute()).map(toZone);
}

/** The live zones of these names, whichever selection they are in (to tell "not managed" from "new"). */
export async function gitLiveZones(db: Db, names: readonly string[]): Promise<GitZoneRow[]> {
  if (names.length === 0) return [];
  return (await selectZones(db, { all: true }).where('z.name', 'in', names).execute()).map(toZone);
}

/** A published version not yet committed to the repository. */
export interface PendingZi {
  zone_id: number;
  zone_name: string;
  version: number;
  zi_id: number;
  soa_serial: number;
  change_by: string;
  comment: string | null;
  ptime: number;
}

/**
 * Published versions of these zones newer than the version last committed for them, oldest publication first. Only
 * zones with a state row: a zone the repository has never seen gets its current version (gitNewZones), not its history.
 */
export async function gitPendingZis(db: Db, zoneIds: readonly number[]): Promise<PendingZi[]> {
  if (zoneIds.length === 0) return [];
  const rows = await gdb(db)
    .selectFrom('zone_instances as zi')
    .innerJoin('zones as z', 'z.id', 'zi.zone_id')
    .innerJoin('git_zone_state as g', 'g.zone_name', 'z.name')
    .select(['zi.zone_id', 'z.name as zone_name', 'zi.version', 'zi.id as zi_id', 'zi.soa_serial', 'zi.change_by', 'zi.comment', 'zi.ptime'])
    .where('zi.zone_id', 'in', zoneIds)
    .where('zi.ptime', 'is not', null)
    .whereRef('zi.version', '>', 'g.pushed_version')
    .orderBy('zi.ptime')
    .orderBy('zi.id')
    .execute();
  return rows.map((r) => ({
    zone_id: Number(r.zone_id),
    zone_name: r.zone_name,
    version: Number(r.version),
    zi_id: Number(r.zi_id),
    soa_serial: Number(r.soa_serial),
    change_by: r.change_by,
    comment: r.comment,
    ptime: Number(r.ptime),
  }));
}

export async function gitZoneStates(db: Db, names?: readonly string[]): Promise<GitZoneStateRow[]> {
  if (names !== undefined && names.length === 0) return [];
  let q = gdb(db).selectFrom('git_zone_state').selectAll();
  if (names !== undefined) q = q.where('zone_name', 'in', names);
  return q.orderBy('zone_name').execute();
}

/** Insert or update a zone's state row with the columns given. */
export async function putGitZoneState(db: Db, name: string, set: Partial<Omit<GitZoneStateRow, 'zone_name'>>): Promise<void> {
  const row: GitZoneStateRow = {
    zone_name: name,
    pushed_version: 0,
    pushed_commit: null,
    pushed_time: null,
    imported_commit: null,
    imported_version: null,
    imported_time: null,
    last_error: null,
    ...set,
  };
  await gdb(db)
    .insertInto('git_zone_state')
    .values(row)
    .onConflict((oc) => oc.column('zone_name').doUpdateSet(set))
    .execute();
}

export async function deleteGitZoneState(db: Db, name: string): Promise<void> {
  await gdb(db).deleteFrom('git_zone_state').where('zone_name', '=', name).execute();
}

/** State rows of zones no longer live (deleted in DMS): their files are to be removed from the repository. */
export async function gitStatesOfDeletedZones(db: Db): Promise<GitZoneStateRow[]> {
  return gdb(db)
    .selectFrom('git_zone_state as g')
    .selectAll('g')
    .where('g.pushed_commit', 'is not', null)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('zones as z').select('z.id').whereRef('z.name', '=', 'g.zone_name').where('z.state', '<>', sql.lit('DELETED')))),
    )
    .execute();
}

export async function gitRepoState(db: Db, repo: string): Promise<GitRepoStateRow | undefined> {
  return gdb(db).selectFrom('git_repo_state').selectAll().where('repo', '=', repo).executeTakeFirst();
}

export async function putGitRepoState(db: Db, repo: string, set: Partial<Omit<GitRepoStateRow, 'repo'>> & { updated: number }): Promise<void> {
  const row: GitRepoStateRow = { repo, remote_head: null, local_head: null, last_error: null, ...set };
  await gdb(db)
    .insertInto('git_repo_state')
    .values(row)
    .onConflict((oc) => oc.column('repo').doUpdateSet(set))
    .execute();
}
