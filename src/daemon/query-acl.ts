// dmsd's query ACLs (allow-query) from the database: every zone's list in memory (QueryAclLists, consulted by the
// QueryHandler), loaded at start and reloaded on the change feed's 'acl' rows; while some server group has a list,
// the zones of each poll's other rows are looked up again (a new zone or one moved into or out of such a group).

import type { Logger } from 'pino';
import { QueryAclLists } from '../server/acl.js';
import * as services from '../services/index.js';
import type { Store } from '../store/index.js';

export class DbQueryAcl {
  readonly lists = new QueryAclLists();
  private groups = false;
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  async reload(): Promise<void> {
    const m = await services.queryAclMap(services.serviceContext(this.store));
    this.lists.replace(m.zones);
    this.groups = m.groups;
    this.log.debug({ zones: m.zones.size }, 'query ACLs loaded');
  }

  /** The feed's news (zones.ts onAcl). */
  async onFeed(changed: boolean, zones: string[]): Promise<void> {
    if (changed) return this.reload();
    if (!this.groups || zones.length === 0) return;
    for (const [name, list] of await services.queryAclOf(services.serviceContext(this.store), zones)) this.lists.set(name, list);
  }
}
