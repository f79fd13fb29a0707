// TSIG keys (RFC 8945) and the per-zone RFC 2136 update grants, stored so dmsd and zone_tool share them. Grants are
// update-policy lines kept as text: the server parses and enforces them (the CLI validates with the same parser).

import { typeFromString } from '../dns/constants.js';
import { Name } from '../dns/name.js';
import { algorithmFromString, macLength, type TsigAlgorithm, type TsigKey } from '../dns/tsig.js';
import { isUniqueViolation, readTx, type Tx, writeTx } from '../store/index.js';
import { deleteTsigKeyRow, grantTexts, insertTsigKey, replaceGrants, tsigKeyRow, tsigKeyRows } from '../store/queries/keys.js';
import { nowMs, type ServiceContext } from './context.js';
import { findLiveZone, recordChange, type ZoneRow } from './core.js';
import { InvalidArgument, TsigKeyExists, TsigKeyNotFound } from './errors.js';
import { normalizeZoneName } from './names.js';
import { parseGrant } from '../zone/update.js';

export interface TsigKeyInfo {
  name: string;
  algorithm: TsigAlgorithm;
  /** Base64. */
  secret: string;
  ctime: Date;
}

function keyName(name: string): string {
  try {
    return Name.from(name.trim()).key;
  } catch (e) {
    throw new InvalidArgument(`bad TSIG key name "${name}": ${(e as Error).message}`);
  }
}

/** A pseudo-zone row for key-set changes in the change feed (zone id 0, name "."). */
const KEYS_ROW = { id: 0, name: '.' } as ZoneRow;

/** generate_tsig_key / import: a random secret of the algorithm's MAC size unless one is given. */
export async function createTsigKey(
  ctx: ServiceContext,
  name: string,
  o: { algorithm?: string; secret?: Uint8Array | string } = {},
): Promise<TsigKeyInfo> {
  const key = keyName(name);
  const algorithm = algorithmFromString(o.algorithm ?? 'hmac-sha256');
  if (!algorithm) throw new InvalidArgument(`unknown TSIG algorithm "${o.algorithm}"`);
  let secret: Buffer;
  if (o.secret === undefined) secret = process.getBuiltinModule('node:crypto').randomBytes(macLength(algorithm));
  else if (typeof o.secret === 'string') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(o.secret)) throw new InvalidArgument('TSIG secret must be base64');
    secret = Buffer.from(o.secret, 'base64');
  } else secret = Buffer.from(o.secret);
  if (secret.length === 0) throw new InvalidArgument('empty TSIG secret');
  const t = nowMs(ctx);
  await writeTx(ctx.store, async (trx) => {
    try {
      await insertTsigKey(trx, { name: key, algorithm, secret: secret.toString('base64'), ctime: t });
    } catch (e) {
      if (isUniqueViolation(e)) throw new TsigKeyExists(key);
      throw e;
    }
    await recordChange(trx, ctx, KEYS_ROW, 'keys', null);
  });
  return { name: key, algorithm, secret: secret.toString('base64'), ctime: new Date(t) };
}

export async function deleteTsigKey(ctx: ServiceContext, name: string): Promise<void> {
  const key = keyName(name);
  await writeTx(ctx.store, async (trx) => {
    if (!(await deleteTsigKeyRow(trx, key))) throw new TsigKeyNotFound(key);
    await recordChange(trx, ctx, KEYS_ROW, 'keys', null);
  });
}

export async function listTsigKeys(ctx: ServiceContext): Promise<TsigKeyInfo[]> {
  const rows = await tsigKeyRows(ctx.store.db);
  return rows.map((r) => ({ name: r.name, algorithm: r.algorithm as TsigAlgorithm, secret: r.secret, ctime: new Date(Number(r.ctime)) }));
}

/** Every key in the form the TSIG code uses (dmsd keeps them in memory; reload on a 'keys' change). */
export async function loadTsigKeys(ctx: ServiceContext): Promise<TsigKey[]> {
  return (await listTsigKeys(ctx)).map((k) => ({ name: Name.parse(k.name), algorithm: k.algorithm, secret: new Uint8Array(Buffer.from(k.secret, 'base64')) }));
}

export async function getTsigKey(ctx: ServiceContext, name: string): Promise<TsigKey> {
  const key = keyName(name);
  const r = await tsigKeyRow(ctx.store.db, key);
  if (!r) throw new TsigKeyNotFound(key);
  return { name: Name.parse(r.name), algorithm: r.algorithm as TsigAlgorithm, secret: new Uint8Array(Buffer.from(r.secret, 'base64')) };
}

async function grantsIn(trx: Tx, zone: ZoneRow): Promise<string[]> {
  return grantTexts(trx, Number(zone.id));
}

export async function listUpdateGrants(ctx: ServiceContext, zone: string): Promise<string[]> {
  const key = normalizeZoneName(zone);
  return readTx(ctx.store, async (trx) => grantsIn(trx, await findLiveZone(trx, ctx, key, false)));
}

/** Replace the zone's grants (order kept: the server applies the first match). A change of the zone for dmsd. */
/**
 * A grant is stored only if the server can enforce it: checked with the parser the UPDATE path uses. Names are
 * absolute, as in named.conf update-policy.
 */
function checkGrant(grant: string): void {
  try {
    parseGrant(grant, (t) => Name.from(t), typeFromString);
  } catch (e) {
    throw new InvalidArgument(`bad update grant "${grant}": ${(e as Error).message}`);
  }
}

export async function setUpdateGrants(ctx: ServiceContext, zone: string, grants: string[]): Promise<void> {
  const key = normalizeZoneName(zone);
  const clean = grants.map((g) => g.trim().replace(/\s+/g, ' ')).filter((g) => g !== '');
  for (const g of clean) checkGrant(g);
  await writeTx(ctx.store, async (trx) => {
    const z = await findLiveZone(trx, ctx, key, true);
    await replaceGrants(trx, Number(z.id), clean);
    await recordChange(trx, ctx, z, 'update', z.published_version);
  });
}

export async function addUpdateGrant(ctx: ServiceContext, zone: string, grant: string): Promise<void> {
  const current = await listUpdateGrants(ctx, zone);
  const g = grant.trim().replace(/\s+/g, ' ');
  if (g === '') throw new InvalidArgument('empty update grant');
  checkGrant(g);
  if (!current.includes(g)) await setUpdateGrants(ctx, zone, [...current, g]);
}

export async function deleteUpdateGrant(ctx: ServiceContext, zone: string, grant: string): Promise<void> {
  const current = await listUpdateGrants(ctx, zone);
  const g = grant.trim().replace(/\s+/g, ' ');
  if (!current.includes(g)) throw new InvalidArgument(`zone ${normalizeZoneName(zone)} has no update grant "${g}"`);
  await setUpdateGrants(ctx, zone, current.filter((x) => x !== g));
}
