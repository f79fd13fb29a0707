// The one place zone_tool opens the store named by --data / --database-url / --config (or the DMS_* environment),
// through the services (zone_tool never imports src/store). Handlers then call the service functions with it.

import type { Store, StoreLocationArgs } from '../../services/index.js';

export interface Svc {
  store: Store;
  api: typeof import('../../services/index.js');
}

export async function openServices(
  location: StoreLocationArgs,
  env: NodeJS.ProcessEnv,
): Promise<{ svc: Svc; close: () => Promise<void> }> {
  const api = await import('../../services/index.js');
  const store = await api.openStore(api.resolveStoreOptions(location, env));
  return { svc: { store, api }, close: () => store.close() };
}
