// edit_zone and its lock. Zones with the edit_lock flag get an exclusive lock (random token, timeout, tickle); every
// zone gets optimistic concurrency: a save based on an old version is refused (EditConflict), never merged silently.

import { RRType } from '../dns/constants.js';
import { parseTtl } from '../zonefile/ttl.js';
import { writeTx } from '../store/index.js';
import { nowMs, type ServiceContext } from './context.js';
import { referenceName } from '../store/queries/references.js';
import { updateZoneRow } from '../store/queries/zones.js';
import { loadSettings } from './config.js';
import { commitVersion, findLiveZone, ms, newToken, recordsAt, resolveZi, type ZoneRow, ziInfo } from './core.js';
import { EditConflict, EditLockConflict, InvalidArgument, SerialInvalid, StaleEditToken } from './errors.js';
import { isValidSerial, wrapSerial } from './serial.js';
import { normalizeZoneName } from './names.js';
import type { EditSession, SaveOptions, SaveResult, ZoneRecord } from './types.js';
import { contentToText, parseText, textZoneTtl, zoneInfoById } from './zones.js';

/** Tokens of zones without edit_lock only carry the base version (nothing is stored). */
const UNLOCKED_PREFIX = 'v:';

function lockHeld(zone: ZoneRow, now: number): boolean {
  return zone.lock_token !== null && zone.lock_expires !== null && Number(zone.lock_expires) > now;
}

export async function editZone(ctx: ServiceContext, name: string, a: { timeoutSec?: number } = {}): Promise<EditSession> {
  const key = normalizeZoneName(name);
  if (a.timeoutSec !== undefined && !(a.timeoutSec > 0)) throw new InvalidArgument('edit lock timeout must be positive');
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const now = nowMs(ctx);
    const settings = await loadSettings(trx);
    let token: string;
    let expiresAt: Date | null = null;
    let lockedSince: Date | null = null;
    if (zone.edit_lock) {
      // The holder may take its own lock again (a crashed editor); its old token then stops working.
      if (lockHeld(zone, now) && zone.locked_by !== ctx.actor)
        throw new EditLockConflict(key, zone.locked_by, ms(zone.lock_expires));
      token = newToken();
      const timeout = (a.timeoutSec ?? settings.ttl('edit_lock_timeout')) * 1000;
      expiresAt = new Date(now + timeout);
      lockedSince = new Date(now);
      await updateZoneRow(trx, Number(zone.id), { lock_token: token, locked_by: ctx.actor, lock_since: now, lock_expires: now + timeout, lock_base_version: zone.latest_version });
    } else token = `${UNLOCKED_PREFIX}${zone.latest_version}:${newToken()}`;
    const zi = await resolveZi(trx, zone, 'latest');
    const records = await recordsAt(trx, zone, zi);
    const content = { zone: await zoneInfoById(trx, ctx, Number(zone.id)), zi: ziInfo(zone, zi), records };
    return { zone: key, token, baseVersion: zone.latest_version, expiresAt, lockedSince, content, text: contentToText(content) };
  });
}

/** Check the token against the locked zone row; returns the base version of the edit. */
function checkToken(zone: ZoneRow, token: string, now: number): number {
  if (token.startsWith(UNLOCKED_PREFIX)) {
    if (lockHeld(zone, now)) throw new EditLockConflict(zone.name, zone.locked_by, ms(zone.lock_expires));
    const base = Number(token.slice(UNLOCKED_PREFIX.length).split(':')[0]);
    if (!Number.isInteger(base)) throw new StaleEditToken(zone.name, 'malformed token');
    return base;
  }
  if (zone.lock_token === null) throw new StaleEditToken(zone.name, 'the zone is not locked for editing (lock expired, cleared or cancelled)');
  if (zone.lock_token !== token)
    throw new StaleEditToken(zone.name, `the edit lock is now held by ${zone.locked_by ?? 'someone else'} with another token`);
  if (Number(zone.lock_expires) <= now)
    throw new StaleEditToken(zone.name, `the edit lock expired at ${new Date(Number(zone.lock_expires)).toISOString()}`);
  return zone.lock_base_version ?? zone.latest_version;
}

export async function tickleEditLock(ctx: ServiceContext, name: string, token: string): Promise<Date | null> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const now = nowMs(ctx);
    checkToken(zone, token, now);
    if (token.startsWith(UNLOCKED_PREFIX)) return null;
    const timeout = (await loadSettings(trx)).ttl('edit_lock_timeout') * 1000;
    await updateZoneRow(trx, Number(zone.id), { lock_expires: now + timeout });
    return new Date(now + timeout);
  });
}

export async function saveZoneEdit(
  ctx: ServiceContext,
  name: string,
  token: string,
  content: { records: ZoneRecord[] } | { text: string },
  o: SaveOptions = {},
): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  const records = 'text' in content ? parseText(key, content.text, `${key} (edited)`) : content.records;
  const zoneTtl = o.zoneTtl ?? ('text' in content ? textZoneTtl(content.text) : undefined);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    const base = checkToken(zone, token, nowMs(ctx));
    if (base !== zone.latest_version) throw new EditConflict(key, base, zone.latest_version);
    // The ;!REF: shown on the SOA is the zone's reference; an edit that changes it would otherwise be lost silently.
    const soaRef = records.find((r) => r.type === RRType.SOA && r.name.key === key)?.flags?.ref;
    if (soaRef !== undefined) {
      const current = zone.reference_id === null
        ? null
        : ((await referenceName(trx, Number(zone.reference_id))) ?? null);
      if (soaRef !== current)
        throw new InvalidArgument(
          `the ;!REF: flag on the SOA is the zone's reference (${current ?? 'none'}); change it with set_zone_reference, not in the zone text`,
        );
    }
    const { zoneRow: _z, ...res } = await commitVersion(trx, ctx, zone, await loadSettings(trx), {
      records,
      comment: o.comment ?? null,
      publish: o.publish ?? true,
      ...(zoneTtl !== undefined ? { zoneTtl } : {}),
    });
    if (!token.startsWith(UNLOCKED_PREFIX))
      await updateZoneRow(trx, Number(zone.id), { lock_token: null, locked_by: null, lock_since: null, lock_expires: null, lock_base_version: null });
    return res;
  });
}

export async function cancelEditZone(ctx: ServiceContext, name: string, token: string): Promise<void> {
  const key = normalizeZoneName(name);
  await writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    if (token.startsWith(UNLOCKED_PREFIX)) return;
    if (zone.lock_token !== token) throw new StaleEditToken(key, 'this token does not hold the edit lock');
    await updateZoneRow(trx, Number(zone.id), { lock_token: null, locked_by: null, lock_since: null, lock_expires: null, lock_base_version: null });
  });
}

export async function clearEditLock(ctx: ServiceContext, name: string): Promise<void> {
  const key = normalizeZoneName(name);
  await writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    await updateZoneRow(trx, Number(zone.id), { lock_token: null, locked_by: null, lock_since: null, lock_expires: null, lock_base_version: null });
  });
}

// ---- serial pokes -----------------------------------------------------------------------------------------------------

export async function pokeSerial(
  ctx: ServiceContext,
  name: string,
  pick: (last: number) => number | undefined,
  comment: string,
): Promise<SaveResult> {
  const key = normalizeZoneName(name);
  return writeTx(ctx.store, async (trx) => {
    const zone = await findLiveZone(trx, ctx, key, true);
    if (lockHeld(zone, nowMs(ctx))) throw new EditLockConflict(key, zone.locked_by, ms(zone.lock_expires));
    const zi = await resolveZi(trx, zone, 'latest');
    const records = (await recordsAt(trx, zone, zi)).slice(1);
    const { zoneRow: _z, ...res } = await commitVersion(trx, ctx, zone, await loadSettings(trx), {
      records,
      comment,
      publish: true,
      forceNew: true,
      serial: pick(Number(zi.soa_serial)),
    });
    return res;
  });
}

// ---- poke_zone_set_serial / poke_zone_wrap_serial -------------------------------------------------------------------

/** poke_zone_set_serial: a new ZI with the given serial (must be RFC 1982 greater) or just the next one. */
export async function pokeZoneSetSerial(
  ctx: ServiceContext,
  name: string,
  serial: number | undefined,
): Promise<SaveResult> {
  if (serial !== undefined && !isValidSerial(serial)) throw new SerialInvalid(`serial ${serial} is not in 0..4294967295`);
  return pokeSerial(ctx, name, () => serial, serial === undefined ? 'serial incremented' : `serial set to ${serial}`);
}

/** poke_zone_wrap_serial: add 2^31-1 (RFC 1982 §7.1 step) so a later change can reach a lower number. */
export async function pokeZoneWrapSerial(ctx: ServiceContext, name: string): Promise<SaveResult> {
  return pokeSerial(ctx, name, (last) => wrapSerial(last), 'serial wrapped (RFC 1982)');
}

export { parseTtl };
