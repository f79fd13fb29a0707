// The one place zone_tool reaches below the services: opening the store named by --data / --database-url /
// --config (or the DMS_* environment). Handlers then call the service functions with that store.

import type { StoreLocationArgs } from '../../store/index.js';

export interface Svc {
  store: import('../../store/index.js').Store;
  api: typeof import('../../services/index.js');
}

export async function openServices(
  location: StoreLocationArgs,
  env: NodeJS.ProcessEnv,
): Promise<{ svc: Svc; close: () => Promise<void> }> {
  const [storeMod, api] = await Promise.all([import('../../store/index.js'), import('../../services/index.js')]);
  const store = await storeMod.openStore(storeMod.resolveStoreOptions(location, env));
  return { svc: { store, api }, close: () => store.close() };
}
