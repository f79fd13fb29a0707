// The serving layer's ports implemented by the services: IXFR history from the stored versions, and RFC 2136
// UPDATE committed as a delta. src/server knows only the port interfaces (XfrSource, ScopedUpdateSink); this
// composition root plugs the database behind them.

import { Rcode, RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import { Name } from '../dns/name.js';
import { soaSerialOf } from '../dns/serial.js';
import type { TransferRule } from '../server/acl.js';
import { recordsOfZone, type ScopedUpdateSink } from '../server/primary.js';
import { type UpdatableZone, UpdateConflict, UpdateRejected } from '../server/update.js';
import type { XfrSource } from '../server/xfr.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';
import type { ZoneDiff } from '../zone/ixfr.js';
import { matchingGrant, type UpdateGrant } from '../zone/update.js';
import type { Zone } from '../zone/zone.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * Version history for IXFR from the database: one condensed difference from the client's serial to the published
 * version (services.diffVersions), or undefined when that serial is not among the versions kept.
 */
export function servicesXfrHistory(
  store: Store,
  rulesFor: (origin: Name) => MaybePromise<readonly TransferRule[]>,
): Pick<XfrSource, 'getDiffs' | 'transferRules'> {
  return {
    async getDiffs(origin, fromSerial, toSerial): Promise<ZoneDiff[] | undefined> {
      let d: services.RecordDiff;
      try {
        d = await services.diffVersions(services.serviceContext(store), origin.toString(), { serial: fromSerial }, 'published');
        // Under a stream of changes the database has often published a newer version than the table serves yet (it
        // follows the change feed): the difference goes to the version served, found by its serial — never the whole
        // zone for that reason (each such answer cost a walk and a transfer of the zone).
        if (d.to.serial !== toSerial) d = await services.diffVersions(services.serviceContext(store), origin.toString(), { serial: fromSerial }, { serial: toSerial });
      } catch (e) {
        if (e instanceof services.ZiNotFound || e instanceof services.ZoneNotFound || e instanceof services.BadZoneName) return undefined;
        throw e;
      }
      if (d.from.serial !== fromSerial || d.to.serial !== toSerial) return undefined;
      // A signed zone: the signer's records born or died between the same versions (only the changed signatures and
      // chain records), when the version served is the signed one.
      const ctx = services.serviceContext(store);
      const head = await services.signedHead(ctx, origin.toString());
      if (head) {
        // Usually the version served is the published one, whose signed mark came with the head.
        const signed = d.to.version === head.version ? head.signed : await services.isSigned(ctx, head.zoneId, d.to.version);
        if (!signed) return undefined;
        const s = await services.signerDiff(ctx, head.zoneId, d.from.version, d.to.version);
        return [{ fromSerial, toSerial, removed: [d.fromSoa, ...d.removed, ...s.removed], added: [d.toSoa, ...d.added, ...s.added] }];
      }
      return [{ fromSerial, toSerial, removed: [d.fromSoa, ...d.removed], added: [d.toSoa, ...d.added] }];
    },
    transferRules: rulesFor,
  };
}

/**
 * UPDATE commits through services.applyRecordDelta: only the removed and added records are written and checked
 * (the cost follows the change, not the zone), against the version read as base (EditConflict → retry), change_by =
 * key. A result that breaks the zone is REFUSED.
 *
 * Reading: `getZoneAt` (used by Primary for each UPDATE) reads only the records at the names the message mentions.
 * `getZone` reads the whole newest version: from `table` (the server's compiled zones) when it serves exactly that
 * version and the zone has no disabled records (which the table does not hold), otherwise, and after a conflict,
 * from the database.
 */
export function servicesUpdateSink(
  store: Store,
  /** `texts`: the zone's grant lines when they were read with the zone (else the callee reads them). */
  grantsFor: (zone: { name: string }, texts?: readonly string[]) => MaybePromise<readonly UpdateGrant[]>,
  opts: {
    table?: { get(origin: Name): Zone | undefined };
    /** Why commits are refused now (a fenced old primary, daemon/leader.ts); undefined: they are not. */
    refuse?: () => string | undefined;
  } = {},
): Omit<ScopedUpdateSink, 'commit' | 'transact'> &
  Required<Pick<ScopedUpdateSink, 'getZoneAt'>> & {
    /** `committed`: what the commit changed in the served zone, when it was published (services.CommittedChange). */
    commit(change: Parameters<ScopedUpdateSink['commit']>[0]): Promise<{ serial: number; committed?: services.CommittedChange }>;
    transact(
      ...a: Parameters<NonNullable<ScopedUpdateSink['transact']>>
    ): Promise<{ serial: number; committed?: services.CommittedChange } | undefined | 'apart'>;
  } {
  // A name from the wire that cannot be a zone of ours (the root, white space in a label: BadZoneName) is a zone we
  // do not serve, like any other unknown one (NOTAUTH), not an internal error.
  const notFound = (e: unknown) =>
    e instanceof services.ZoneNotFound || e instanceof services.ZoneDeleted || e instanceof services.ZiNotFound || e instanceof services.BadZoneName;
  // Origins whose last commit conflicted: the next read goes to the database whatever the table says.
  const distrust = new Set<string>();
  // The grants each zone's UPDATE was checked against (read with the zone just before its commit): an address record
  // added under a rule carrying FORCEREV/TRACKREV gets those RR flags, so the auto-PTR step gives it a PTR.
  const lastGrants = new Map<string, readonly UpdateGrant[]>();
  // Zones whose last read found a DNSSEC policy (their UPDATEs naming the apex are not applied in one transaction).
  const signedSeen = new Set<string>();
  const fromTable = async (origin: Name) => {
    const cached = opts.table?.get(origin);
    if (!cached || distrust.has(origin.key)) return undefined;
    // A signed zone's table holds the signer's records too: the operator's records come from the database.
    if (cached.apex.hasType(RRType.RRSIG)) return undefined;
    const head = await services.getZoneHead(services.serviceContext(store), origin.toString());
    if (!head.zi.published || head.disabledRecords) return undefined;
    if (soaSerialOf(cached.soa) !== head.zi.soaSerial) return undefined;
    return { zone: head.zone, zi: head.zi, records: recordsOfZone(cached) };
  };
  type Read = { zone: services.ZoneInfo; zi: services.ZiInfo; records: readonly RR[]; updateGrants?: readonly string[] };
  const updatable = async (origin: Name, read: () => Promise<Read>): Promise<UpdatableZone | undefined> => {
    let c: Read;
    try {
      c = await read();
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
    const grants = await grantsFor(c.zone, c.updateGrants);
    lastGrants.set(origin.key, grants);
    return {
      origin,
      records: c.records,
      serial: c.zi.soaSerial,
      version: c.zi.version,
      incUpdates: c.zone.flags.incUpdates && c.zone.state !== 'DISABLED',
      grants,
    };
  };
  return {
    getZone: (origin) =>
      updatable(origin, async () => {
        const cached = await fromTable(origin);
        distrust.delete(origin.key);
        return cached ?? services.getZoneContent(services.serviceContext(store), origin.toString(), 'latest');
      }),
    // The grants come in the same read, and a signed zone's apex records of the signer: one transaction (five
    // statements, seven for a signed zone at its apex) per group of UPDATEs before its commit.
    async getZoneAt(origin, ownerKeys) {
      let c: Awaited<ReturnType<typeof services.getUpdateScope>>;
      try {
        // The owners the UPDATE names (the scope adds the apex's SOA and the DNAMEs above them); the signer's records
        // at the apex only when the UPDATE names it (two statements fewer for every other UPDATE of a signed zone).
        c = await services.getUpdateScope(services.serviceContext(store), origin.toString(), ownerKeys, { signerApex: ownerKeys.has(origin.key) });
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
      const grants = await grantsFor({ name: c.name }, c.updateGrants);
      lastGrants.set(origin.key, grants);
      // A signed zone's NSEC3PARAM is the signer's, not a record row: shown to the UPDATE engine at the apex so that
      // deleting it is seen (the commit turns NSEC3PARAM changes into the zone's denial of existence).
      // Likewise the DNSKEYs the signer publishes (the keys of the policy), so that deleting the DNSKEY RRset is seen.
      if (c.dnssecPolicy) signedSeen.add(origin.key);
      else signedSeen.delete(origin.key);
      const apex = c.signerApex;
      const param = apex?.nsec3param;
      const held = new Set(c.records.filter((r) => r.type === RRType.DNSKEY && r.name.equals(origin)).map((r) => Buffer.from(r.rdata).toString('hex')));
      const dnskeys = (apex?.dnskeys ?? []).filter((r) => !held.has(Buffer.from(r.rdata).toString('hex')));
      return {
        origin,
        records: [...c.records, ...(param ? [param] : []), ...dnskeys],
        ...(c.dnssecPolicy ? { signed: true } : {}),
        serial: c.zi.soaSerial,
        version: c.zi.version,
        incUpdates: c.incUpdates && c.state !== 'DISABLED',
        grants,
      };
    },
    // An UPDATE read, decided and committed in one transaction (services.applyUpdateInOneTx). A signed zone's UPDATE
    // that names the apex goes the other way (getZoneAt, then commit: the UPDATE engine sees the signer's NSEC3PARAM
    // and DNSKEYs there, and the commit turns their changes into the zone's denial of existence or its secure →
    // insecure transition), as does one with the signer's own types anywhere; any other is done here like an unsigned
    // zone's — one transaction instead of a read and a write one.
    async transact(origin, ownerKeys, author, decide) {
      const apexNamed = ownerKeys.has(origin.key);
      if (opts.refuse?.() || (apexNamed && signedSeen.has(origin.key))) return 'apart';
      let r: Awaited<ReturnType<typeof services.applyUpdateInOneTx>>;
      const ctx = services.serviceContext(store, { actor: author.changeBy, operation: 'rfc2136_update', ...(author.client ? { source: author.client } : {}) });
      try {
        r = await services.applyUpdateInOneTx(
          ctx,
          origin.toString(),
          ownerKeys,
          async (c) => {
            const grants = await grantsFor({ name: c.name }, c.updateGrants);
            lastGrants.set(origin.key, grants);
            const decided = decide({
              origin,
              records: c.records,
              serial: c.zi.soaSerial,
              version: c.zi.version,
              incUpdates: c.incUpdates && c.state !== 'DISABLED',
              grants,
            });
            if (!decided) return undefined;
            if (c.dnssecPolicy && [...decided.added, ...decided.removed].some((rr) => services.SIGNER_ONLY_TYPES.has(rr.type))) throw SIGNER_TYPES;
            return {
              removed: decided.removed,
              added: withGrantFlags(decided.added, grants, decided.changeBy),
              ...(decided.explicitSerial !== undefined ? { explicitSerial: decided.explicitSerial } : {}),
              comment: `RFC 2136 update: ${decided.added.length} added, ${decided.removed.length} removed`,
            };
          },
          { signed: !apexNamed },
        );
      } catch (e) {
        if (e === SIGNER_TYPES) {
          signedSeen.add(origin.key);
          return 'apart';
        }
        if (notFound(e)) {
          decide(undefined);
          return undefined;
        }
        throw updateError(e, origin);
      }
      if (r === 'signed') {
        signedSeen.add(origin.key);
        return 'apart';
      }
      if (!r) return undefined;
      if (r.signed) signedSeen.add(origin.key);
      else signedSeen.delete(origin.key);
      if (!r.committed) return { serial: r.serial };
      return { serial: r.serial, committed: r.signed ? r.committed : { ...r.committed, unsigned: true } };
    },
    async commit(change) {
      // Every read above gives the version; without it the difference has no base to apply to.
      const baseVersion = change.baseVersion;
      if (baseVersion === undefined) throw new UpdateRejected(Rcode.SERVFAIL, 'update without a base version');
      const refused = opts.refuse?.();
      if (refused) throw new UpdateRejected(Rcode.REFUSED, refused);
      // RRSIG, NSEC and NSEC3 of a signed zone are the signer's: not changed by UPDATE (BIND refuses them too). An
      // NSEC3PARAM added or deleted switches the zone's chain (NSEC3 with its parameters, or NSEC), as in BIND.
      const isParam = (r: RR) => r.type === RRType.NSEC3PARAM;
      // The signer's DNSKEYs (the policy's keys) are not record rows: deleting every one of them asks for the secure →
      // insecure transition, allowed only by dnssec_secure_to_insecure (as in BIND); deleting some of them is refused
      // (keys change by rollover). Other DNSKEY rows (the operator's own) are records like any other.
      if (change.removed.some((r) => r.type === RRType.DNSKEY && r.name.equals(change.origin))) {
        const ctx = services.serviceContext(store, { actor: change.changeBy, operation: 'rfc2136_update', ...(change.client ? { source: change.client } : {}) });
        const signer = await services.servedDnskeys(ctx, change.origin.toString());
        const hex = (r: RR) => Buffer.from(r.rdata).toString('hex');
        const ours = new Set((signer ?? []).map(hex));
        const isOurs = (r: RR) => r.type === RRType.DNSKEY && r.name.equals(change.origin) && ours.has(hex(r));
        const gone = new Set(change.removed.filter(isOurs).map(hex));
        if (gone.size > 0) {
          if (gone.size < ours.size)
            throw new UpdateRejected(Rcode.REFUSED, 'the DNSKEYs of a signed zone follow its DNSSEC policy: keys change by rollover (rollover_zone_key), not by UPDATE');
          if (change.added.some((r) => r.type === RRType.DNSKEY))
            throw new UpdateRejected(Rcode.REFUSED, 'DNSKEYs of a signed zone cannot be replaced by UPDATE: keys change by rollover (rollover_zone_key)');
          try {
            await services.unsignByUpdate(ctx, change.origin.toString());
          } catch (e) {
            if (e instanceof services.InvalidArgument || e instanceof services.DnssecRolloverPending) throw new UpdateRejected(Rcode.REFUSED, e.message);
            throw e;
          }
          change = { ...change, removed: change.removed.filter((r) => !isOurs(r)) };
          if (change.added.length + change.removed.length === 0) {
            // Nothing else changed: a new version (serial + 1) publishes the CDS/CDNSKEY delete records at once.
            const r = await services.pokeSerial(ctx, change.origin.toString(), () => undefined, 'secure → insecure by RFC 2136 update (every DNSKEY deleted)');
            return { serial: r.serial };
          }
        }
      }
      if (
        [...change.added, ...change.removed].some((r) => services.SIGNER_ONLY_TYPES.has(r.type)) &&
        (await services.hasDnssecPolicy(services.serviceContext(store), change.origin.toString()))
      ) {
        if ([...change.added, ...change.removed].some((r) => services.SIGNER_ONLY_TYPES.has(r.type) && !isParam(r)))
          throw new UpdateRejected(Rcode.REFUSED, 'DNSSEC records of a signed zone are made by the signer, not by UPDATE');
        const ctx = services.serviceContext(store, { actor: change.changeBy, operation: 'rfc2136_update', ...(change.client ? { source: change.client } : {}) });
        try {
          await services.setDenialByUpdate(ctx, change.origin.toString(), change.added.filter(isParam), change.removed.filter(isParam));
        } catch (e) {
          if (e instanceof services.InvalidArgument) throw new UpdateRejected(Rcode.REFUSED, e.message);
          throw e;
        }
        change = { ...change, added: change.added.filter((r) => !isParam(r)), removed: change.removed.filter((r) => !isParam(r)) };
        if (change.added.length + change.removed.length === 0) {
          // Nothing else changed: a new version (serial + 1) carries the new chain to the secondaries.
          const r = await services.pokeSerial(ctx, change.origin.toString(), () => undefined, 'NSEC3PARAM by RFC 2136 update');
          return { serial: r.serial };
        }
      }
      try {
        const r = await services.applyRecordDelta(services.serviceContext(store, { actor: change.changeBy, operation: 'rfc2136_update', ...(change.client ? { source: change.client } : {}) }), change.origin.toString(), {
          baseVersion,
          removed: change.removed,
          added: withGrantFlags(change.added, lastGrants.get(change.origin.key), change.changeBy),
          ...(change.explicitSerial !== undefined ? { explicitSerial: change.explicitSerial } : {}),
          comment: `RFC 2136 update: ${change.added.length} added, ${change.removed.length} removed`,
        });
        return r.committed ? { serial: r.serial, committed: r.committed } : { serial: r.serial };
      } catch (e) {
        throw updateError(e, change.origin);
      }
    },
  };
  /** A commit's failure as the UPDATE engine knows it: retry (conflict), refusal with an rcode, or the error itself. */
  function updateError(e: unknown, origin: Name): unknown {
    if (e instanceof services.EditConflict) {
      distrust.add(origin.key);
      return new UpdateConflict();
    }
    if (e instanceof services.ZoneValidationFailed) return new UpdateRejected(Rcode.REFUSED, e.message);
    // An operator holds the edit lock (edit_zone): as BIND answers UPDATEs to a frozen zone, REFUSED with the
    // reason ("temporarily disabled"); the client's retry after the edit gets through.
    if (e instanceof services.EditLockConflict) return new UpdateRejected(Rcode.REFUSED, `updates temporarily disabled: ${e.message}`);
    // A hot standby (issue 13): REFUSED, as a secondary refuses an UPDATE it does not forward (RFC 2136 §3.1
    // leaves forwarding optional); the client sends it to the primary site.
    if (services.isReadOnlyError(e)) return new UpdateRejected(Rcode.REFUSED, new services.ReadOnlyReplica().message);
    return e;
  }
}


/** Thrown out of a transaction whose UPDATE carries RRSIG, NSEC, NSEC3 or NSEC3PARAM records: done apart (commit). */
const SIGNER_TYPES = new Error('the signer\'s record types: committed apart');

/** Added A/AAAA records with the RR flags of the grant that allowed them (UpdateGrant.rrFlags), the rest as they are. */
function withGrantFlags(added: readonly RR[], grants: readonly UpdateGrant[] | undefined, changeBy: string): services.ZoneRecord[] {
  if (!grants?.some((g) => g.rrFlags) || !changeBy) return [...added];
  let key: Name;
  try {
    key = Name.from(changeBy);
  } catch {
    return [...added];
  }
  return added.map((r) => {
    if (r.type !== RRType.A && r.type !== RRType.AAAA) return r;
    const flags = matchingGrant(grants, key, r.name, r.type)?.rrFlags;
    return flags ? { ...r, flags: { ...flags } } : r;
  });
}
