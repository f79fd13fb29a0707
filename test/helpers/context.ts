// The service context tests pass: the store, an actor recorded as change_by, admin unless a tenant is given, and the
// system clock unless the test injects one.

import { type Clock, serviceContext, type ServiceContext, type Tenant } from '../../src/services/index.js';
import type { Store } from '../../src/store/index.js';

export function ctxOf(store: Store, actor = 'tester@test/Admin', o: { tenant?: Tenant; clock?: Clock } = {}): ServiceContext {
  return serviceContext(store, { actor, ...o });
}

/** A clock that stands still until moved: for tests of ages, expiries and schedules. */
export function manualClock(start: Date | number): Clock & { set(t: Date | number): void; advance(ms: number): void } {
  let t = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => new Date(t),
    set: (v) => {
      t = typeof v === 'number' ? v : v.getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
