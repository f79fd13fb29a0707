// The one place zone_tool opens the store named by --data / --database-url / --config (or the DMS_* environment),
// through the services (zone_tool never imports src/store). Handlers reach the services only through `call`: the
// operations table, with the one service context of this process (actor: DMS_CHANGE_BY or user@host/Admin).

import type { OperationName, OperationParams, OperationResult, ServiceContext, Store, StoreLocationArgs } from '../../services/index.js';

export interface Svc {
  store: Store;
  /** What every service call of this process passes: the store and the actor recorded as change_by. */
  ctx: ServiceContext;
  /** Run an operation of the operations table as this process's context (what every handler goes through). */
  call<K extends OperationName>(name: K, params: OperationParams<K>): Promise<OperationResult<K>>;
}

export async function openServices(
  location: StoreLocationArgs,
  env: NodeJS.ProcessEnv,
  actor: string,
  /** restricted mode (restricted.ts): the helpdesk tier. */
  tier: 'admin' | 'helpdesk' = 'admin',
): Promise<{ svc: Svc; close: () => Promise<void> }> {
  const api = await import('../../services/index.js');
  const store = await api.openStore(api.resolveStoreOptions(location, env));
  // The DNSSEC key-encryption key: --dnssec-kek, DMS_DNSSEC_KEK or <data dir>/dnssec-kek, read only when a key is.
  const ctx = api.serviceContext(store, {
    actor,
    source: 'cli',
    kek: api.kekFile(api.kekLocation(location, env)),
    tenant: { tier, sectag: null },
  });
  return { svc: { store, ctx, call: (name, params) => api.call(ctx, name, params) }, close: () => store.close() };
}
