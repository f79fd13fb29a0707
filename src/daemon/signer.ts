// dmsd's signer: keeps, per zone with a DNSSEC policy, the signed state (src/dnssec SignedZone) of the newest version
// it signed, and brings it to each newly published version by applying only that version's change (the owners whose
// rows were born or died, services.loadPublishedChange) — so a change re-signs the RRsets and chain links it touches,
// not the zone. The signer's change is stored with the version's mark (services.storeSignerChange); serving processes
// read it back (zones.ts). Runs in the supervising process only. Keys come from the database, opened with the KEK.
//
// After a restart the state is rebuilt from the newest signed version's stored records (SignedZone.restore takes the
// stored signatures over, so nothing is signed again), then the versions published meanwhile are applied as one
// change. When two dmsd on one database sign the same version, the mark's primary key lets one win; the other
// rebuilds its state from the winner's rows, so both serve the same signatures.

import type { Logger } from 'pino';
import { RRType } from '../dns/constants.js';
import type { RR } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { SignedZone, signZone } from '../dnssec/zone.js';
import type { RecordDelta } from '../dnssec/chain.js';
import type { DnssecKey } from '../dnssec/keys.js';
import * as services from '../services/index.js';
import { checkParentDs, type ParentServerResult } from './parent-ds.js';
import { type SignPool, signDeferred, signZoneInPool } from './sign-pool.js';

interface State {
  version: number;
  zone: SignedZone;
  keySet: string;
  /** The policy's signature refresh (seconds before expiry). */
  refresh: number;
  /**
   * The signing policy signed with (denial of existence, NSEC3 parameters, validity, TTLs): another one (a policy
   * change, an algorithm rollover to a policy with other timings) is a full re-sign. The CDS delete switch is not part
   * of it: it changes the apex records only.
   */
  denial: string;
  /**
   * Signer records that differ from what is stored for `version` (restored with keys that moved on since it was
   * signed): not storable at `version` (its mark is there), so carried into the next version's change.
   */
  pending?: RecordDelta;
}

const denialOf = (s: services.ZoneSigning): string =>
  JSON.stringify({ ...s.policy, cdsDelete: undefined }, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

function rrId(r: RR): string {
  return `${r.name.key}/${r.type}/${Buffer.from(r.rdata).toString('hex')}/${r.ttl}`;
}

/** Two consecutive signer changes as one (a record added then removed vanishes, and the other way round). */
function mergeDeltas(a: RecordDelta, b: RecordDelta): RecordDelta {
  const removed = new Map(a.remove.map((r) => [rrId(r), r]));
  const added = new Map(a.add.map((r) => [rrId(r), r]));
  for (const r of b.remove) {
    const k = rrId(r);
    if (added.has(k)) added.delete(k);
    else removed.set(k, r);
  }
  for (const r of b.add) {
    const k = rrId(r);
    if (removed.has(k)) removed.delete(k);
    else added.set(k, r);
  }
  return { remove: [...removed.values()], add: [...added.values()] };
}

export class ZoneSigner {
  private readonly states = new Map<string, State>();
  /** The zones' private keys decrypted once (services.zoneSigning keeps each zone's current ones). */
  private readonly openedKeys = new Map<string, Map<string, DnssecKey>>();
  /**
   * Whether this process may sign now (issue 13: only the dmsd holding the leader lease signs; the others serve what
   * it stores). Checked before each signing and each refresh round.
   */
  mayAct: () => boolean = () => true;
  /**
   * The signing threads (dmsd --signing-threads): a full sign and the signatures of a large change are computed there,
   * off the query path and on every core. Without it everything is signed inline (tests of the signer's logic).
   */
  pool: SignPool | undefined;
  /** Zones whose next version is signed in full (sign_zone): every signature made anew. */
  private readonly fullNext = new Map<string, number>();

  /** Zones whose parent DS check is under way (one at a time per zone; a slow parent must not pile them up). */
  private readonly checking = new Set<string>();

  constructor(
    private readonly ctx: services.ServiceContext,
    private readonly log: Logger,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
    /** Asks the parent's servers (tests and other transports may replace it). */
    private readonly askParent: (w: services.ParentDsWork) => Promise<ParentServerResult[]> = (w) => checkParentDs(w),
  ) {}

  /**
   * The parent DS check of one zone signed here: when a KSK/CSK waits for its DS at the parent (or for it to be gone),
   * ask the parent's servers; when every one agrees the key moves on (services.recordParentCheck) and the rollover
   * step that follows carries on. Returns whether keys moved. Runs beside the timer, not blocking it.
   */
  async parentCheck(name: string): Promise<boolean> {
    if (!this.states.has(name) || this.checking.has(name)) return false;
    this.checking.add(name);
    try {
      const work = await services.parentDsWork(this.ctx, name);
      if (!work) return false;
      const found = await this.askParent(work);
      const done = await services.recordParentCheck(this.ctx, work, found);
      this.log.info(
        { zone: name, want: work.want, keys: work.keys.map((k) => k.tag), servers: found, done },
        done ? `parent DS check: DS ${work.want} at every parent server` : 'parent DS check: not yet',
      );
      return done;
    } finally {
      this.checking.delete(name);
    }
  }

  /**
   * Make sure the zone's published version is signed (stored with its mark). Returns the version now signed, or
   * undefined when the zone has no DNSSEC policy or is not published (`onUnsigned` is called then, when this process
   * looked). Throws when it cannot sign (no KEK, bad data).
   */
  async signPublished(
    name: string,
    o: {
      onUnsigned?: () => void;
      onStored?: (version: number, st: services.SignedState) => void;
      /** The operator's change from `from` that this signing read (the served copy is patched with it too). */
      onChange?: (from: number, c: services.PublishedChange & { kind: 'change' }) => void;
      /**
       * The change from `from` to `to` signed and stored here: every owner whose signer records changed, and every
       * owner of the operator's change, with the signer records there now (what the stored rows alive at `to` are;
       * the served copy is patched with them instead of reading them back).
       */
      onSigned?: (from: number, to: number, owners: Map<string, { name: Name; records: RR[] }>, zoneId: number) => void;
      /** The change-feed row the signer's change was stored with (the caller serves it already: not again). */
      onFeedRow?: (seq: number) => void;
      /** The change an UPDATE committed in this process (what loadPublishedChange would read back): not read again. */
      committed?: services.CommittedChange;
    } = {},
  ): Promise<number | undefined> {
    if (!this.mayAct()) return undefined;
    // One read for what follows (services.signerRead): the set-up, the published version, whether it is signed, and
    // the operator's change since the version held here. The version signed already (the feed row of our own stored
    // change, most often) is known without opening the private keys.
    const held = this.states.get(name);
    const committed = o.committed && held && o.committed.fromVersion === held.version ? o.committed : undefined;
    const read = await services.signerRead(this.ctx, name, { opened: this.openedKeys, heldVersion: held?.version, changeKnown: committed !== undefined });
    if (read?.kind === 'held') return read.version;
    if (!read) {
      this.states.delete(name);
      o.onUnsigned?.();
      return undefined;
    }
    const s = read.s;
    if (read.version === null) {
      this.states.delete(name);
      return undefined;
    }
    const version = read.version;
    const threadedBefore = this.pool?.stats.threaded ?? 0;
    let state = this.states.get(name);
    if (state && state.version === version) return version;
    if (read.signed) {
      // Signed already (by us before a restart, or by another dmsd): take its records over.
      await this.restoreAt(name, s, version, undefined, o.onStored);
      return version;
    }
    let full = false;
    let delta: RecordDelta = { remove: [], add: [] };
    /** The version the change was signed from, and the operator's owners in it (for onSigned). */
    let changedFrom: { version: number; owners: readonly Name[] } | undefined;
    // sign_zone, or the policy now asks for another chain (NSEC ↔ NSEC3, other NSEC3 parameters): signed in full.
    if (this.fullNext.has(name) || (state && state.denial !== denialOf(s))) state = undefined;
    else if (!state) {
      const last = await services.lastSignedVersion(this.ctx, s.zoneId, version);
      if (last) {
        state = await this.restoreAt(name, s, last.version, (d) => {
          delta = d;
        });
      }
    }
    const now = this.now();
    if (state && state.version !== version) {
      const known: services.PublishedChange | undefined =
        state !== held ? undefined : committed?.version === version ? { kind: 'change', ...committed } : read.change;
      const c = known ?? (await services.loadPublishedChange(this.ctx, name, state.version));
      if (c.kind !== 'change') state = undefined;
      else {
        o.onChange?.(state.version, c);
        changedFrom = { version: state.version, owners: c.owners.map((w) => w.name) };
        const owners = c.owners.map((o) => ({ name: o.name, records: [...o.records] }));
        // The SOA is not a record row (it lives in the version): the apex's list gets the new one.
        let apex = owners.find((o) => o.name.equals(s.origin));
        if (!apex) {
          apex = { name: s.origin, records: state.zone.recordsAt(s.origin).filter((r) => r.type !== RRType.SOA) };
          owners.push(apex);
        }
        apex.records = [c.soa, ...apex.records.filter((r) => r.type !== RRType.SOA)];
        state.zone.cdsDelete = s.policy.cdsDelete ?? false;
        if (state.pending) delta = mergeDeltas(delta, state.pending);
        const zone = state.zone;
        // Every new version also re-signs what is about to expire (the refresh rides on the change).
        let changed: RecordDelta;
        let refreshed: RecordDelta;
        try {
          [changed, refreshed] = await signDeferred(zone, this.pool, () => [
            zone.replaceOwners(owners, s.keys, now),
            zone.refresh(s.keys, now, now + s.refresh),
          ]);
        } catch (e) {
          // The state may hold signatures never completed: rebuilt from the stored rows on the next try.
          this.states.delete(name);
          throw e;
        }
        delta = mergeDeltas(mergeDeltas(delta, changed), refreshed);
      }
    }
    if (!state) {
      const z = await services.loadPublishedZone(this.ctx, name);
      if (!z || z.version !== version) return undefined; // moved on meanwhile: the next feed row brings it
      this.log.info({ zone: name, version, records: z.records.length }, 'full sign started');
      const zone = this.pool ? await signZoneInPool(s.origin, z.records, s.keys, s.policy, now, this.pool) : signZone(s.origin, z.records, s.keys, s.policy, now);
      state = { version, zone, keySet: s.keySet, refresh: s.refresh, denial: denialOf(s) };
      delta = { remove: [], add: state.zone.generated() };
      full = true;
    }
    const started = performance.now();
    const r = await services.storeSignerChange(this.ctx, s, name, version, delta, { full, ...(o.onFeedRow ? { onFeedRow: o.onFeedRow } : {}) });
    if (r === 'lost') {
      this.log.info({ zone: name, version }, 'version signed by another process: taking its signatures');
      await this.restoreAt(name, s, version, undefined, o.onStored);
      return version;
    }
    this.states.set(name, { version, zone: state.zone, keySet: s.keySet, refresh: s.refresh, denial: denialOf(s) });
    if (o.onSigned && changedFrom && !full) {
      const owners = new Map<string, { name: Name; records: RR[] }>();
      for (const n of changedFrom.owners) owners.set(n.key, { name: n, records: [] });
      for (const r of delta.remove) owners.set(r.name.key, { name: r.name, records: [] });
      for (const r of delta.add) owners.set(r.name.key, { name: r.name, records: [] });
      for (const e of owners.values()) e.records = state.zone.generatedAt(e.name);
      o.onSigned(changedFrom.version, version, owners, s.zoneId);
    }
    const asked = this.fullNext.get(name);
    if (asked !== undefined && full) {
      this.fullNext.delete(name);
      await services.clearResignRequest(this.ctx, s.zoneId, asked);
    }
    this.log.info(
      {
        zone: name, version, full, removed: delta.remove.length, added: delta.add.length, ms: Math.round(performance.now() - started),
        // Signatures computed by the signing threads (the rest inline: a small change, or no pool).
        threaded: (this.pool?.stats.threaded ?? 0) - threadedBefore,
      },
      'zone signed',
    );
    return version;
  }

  /**
   * Rebuild the state of `version` from the database (no signing unless keys changed: `onDelta` gets the rest).
   * `onStored` gets the rows read: the caller serving that version compiles them instead of reading them again (a
   * million-record signed zone's rows take tens of seconds to read at a start).
   */
  private async restoreAt(
    name: string,
    s: services.ZoneSigning,
    version: number,
    onDelta?: (d: RecordDelta) => void,
    onStored?: (version: number, st: services.SignedState) => void,
  ): Promise<State | undefined> {
    const st = await services.signedStateAt(this.ctx, s.zoneId, version);
    if (!st) return undefined;
    onStored?.(version, st);
    const { zone, delta } = SignedZone.restore(s.origin, s.policy, st.records, st.stored, s.keys, this.now());
    let pending: RecordDelta | undefined;
    if (delta.add.length + delta.remove.length > 0) {
      if (onDelta) onDelta(delta);
      else {
        pending = delta;
        this.log.warn({ zone: name, version, changed: delta.add.length }, 'stored signatures do not match the keys in force: they change with the next version');
      }
    }
    // The key set the version was signed with (its mark): when the keys moved on since (a transition whose version was
    // never made, dmsd killed in between), setupChanged sees the difference and makes that version.
    const mark = await services.lastSignedVersion(this.ctx, s.zoneId, version);
    const state: State = { version, zone, keySet: mark?.version === version ? mark.keySet : s.keySet, refresh: s.refresh, denial: denialOf(s), ...(pending ? { pending } : {}) };
    this.states.set(name, state);
    return state;
  }

  /**
   * Signatures of a zone about to expire (within the policy's refresh): publish a new version of the same data (serial
   * incremented, change_by "dmsd signer", comment "DNSSEC signature refresh") whose signing re-signs them — secondaries
   * need a new serial to fetch new signatures. Skipped (false) when the zone has a newer unpublished version (the
   * operator's draft must not be published by us) or is not signed here.
   */
  async refreshDue(name: string): Promise<boolean> {
    const state = this.states.get(name);
    const oldest = state?.zone.oldestExpiration();
    if (!state || oldest === undefined || oldest - this.now() > state.refresh) return false;
    if (!(await this.newVersion(name, state.version, 'DNSSEC signature refresh'))) return false;
    this.log.info({ zone: name, oldest }, 'signatures due: new version made for the refresh');
    return true;
  }

  /**
   * A new version of the zone's published data (serial + 1): how a change of keys or of signatures reaches the
   * secondaries. Not when the newest version is not the one signed (an operator's unpublished draft is not ours to
   * publish) or the zone is locked for editing: false, retried later.
   */
  private async newVersion(name: string, signed: number, comment: string): Promise<boolean> {
    const head = await services.getZoneHead(this.ctx, name);
    if (head.zi.version !== signed) {
      this.log.warn({ zone: name, newest: head.zi.version, signed, why: comment }, 'the zone has a newer unpublished version: signer change retried later');
      return false;
    }
    try {
      await services.pokeSerial(this.ctx, name, () => undefined, comment);
    } catch (e) {
      if (e instanceof services.EditLockConflict) {
        this.log.warn({ zone: name, err: (e as Error).message, why: comment }, 'the zone is locked for editing: signer change retried later');
        return false;
      }
      throw e;
    }
    return true;
  }

  /**
   * The rollover engine's step for one zone signed here (services.advanceDnssecKeys: the policy's key timings); when
   * keys changed state, a new version carries the new key set. Returns the transitions.
   */
  async rolloverStep(name: string): Promise<services.KeyTransition[]> {
    const state = this.states.get(name);
    if (!state) return [];
    const moved = await services.advanceDnssecKeys(this.ctx, name);
    if (moved.length === 0) return moved;
    this.log.info({ zone: name, transitions: moved }, 'DNSSEC keys moved along the policy');
    await this.newVersion(name, state.version, `DNSSEC keys: ${moved.map((m) => `${m.role.toUpperCase()} ${m.tag} ${m.to}`).join(', ')}`);
    return moved;
  }

  /** sign_zone asked for a full re-sign: the next version is signed in full; made now. */
  async fullResignIfAsked(name: string): Promise<boolean> {
    const state = this.states.get(name);
    if (!state || this.fullNext.has(name)) return false;
    const s = await services.zoneSigning(this.ctx, name, { opened: this.openedKeys });
    if (!s || s.resignRequested === null) return false;
    this.fullNext.set(name, s.resignRequested);
    if (await this.newVersion(name, state.version, 'DNSSEC full re-sign (sign_zone)')) return true;
    this.fullNext.delete(name);
    return false;
  }

  /**
   * The zone's signing set-up changed since its last signed version without a new version (set_zone_dnssec_policy to
   * another chain, keys imported or changed by hand): a new version carries the change to the secondaries.
   */
  async setupChanged(name: string): Promise<boolean> {
    const state = this.states.get(name);
    if (!state) return false;
    const s = await services.zoneSigning(this.ctx, name, { opened: this.openedKeys });
    if (!s || (s.keySet === state.keySet && denialOf(s) === state.denial)) return false;
    return this.newVersion(name, state.version, 'DNSSEC signing set-up changed (keys or denial of existence)');
  }

  /** The rollover step and refreshDue for every zone signed here (a timer calls it). */
  async refreshAll(): Promise<void> {
    for (const name of [...this.states.keys()]) {
      if (!this.mayAct()) return;
      try {
        if (await this.fullResignIfAsked(name)) continue;
        if (await this.setupChanged(name)) continue;
        if ((await this.rolloverStep(name)).length > 0) continue; // the new version re-signs what is due too
        await this.refreshDue(name);
        void this.parentCheck(name).catch((e: Error) => this.log.error({ zone: name, err: e.message }, 'parent DS check failed'));
      } catch (e) {
        this.log.error({ zone: name, err: (e as Error).message }, 'signature refresh failed');
      }
    }
  }

  forget(name: string): void {
    this.states.delete(name);
  }

  /**
   * Drop every signed state (this process stopped leading: another leader may sign meanwhile; when this one leads
   * again each state is rebuilt from the stored rows, never advanced from a stale one).
   */
  reset(): void {
    this.states.clear();
    this.fullNext.clear();
    this.openedKeys.clear();
  }
}

/**
 * The signer on its own, following the change feed (dmsd --workers: the supervising process serves no zone but signs
 * them all; the workers serve what it stored). Signs every zone with a policy at start. Returns the stop function.
 */
export async function startSigningFeed(ctx: services.ServiceContext, signer: ZoneSigner, log: Logger, intervalMs = 250): Promise<() => Promise<void>> {
  const seq = await services.currentChangeSeq(ctx);
  const sign = async (name: string) => {
    try {
      await signer.signPublished(name);
    } catch (e) {
      log.error({ zone: name, err: (e as Error).message }, 'cannot sign the published version; the previous signed version stays served');
    }
  };
  for (const name of await services.signedZoneNames(ctx)) await sign(name);
  return services.followChanges(
    ctx,
    seq,
    async (poll) => {
      const names = new Set<string>();
      for (const c of poll.changes) if (c.kind !== 'keys' && c.zoneId !== 0) names.add(c.zone);
      for (const n of names) await sign(n);
    },
    { intervalMs, onError: (e) => log.error({ err: (e as Error).message }, 'change feed poll failed (signer)') },
  );
}
