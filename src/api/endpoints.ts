// The URLs of the API. `/jsonrpc` serves every operation to any account at the account's own tier. The original
// DMS's URLs work as they did there, where each was a WSGI script with its own method list, tier and security tag,
// and understand the original's calling convention beside DMS's own (original.ts): a control panel written for them
// works unchanged. Here the URL fixes the tier and the methods; the account (HTTP
// Basic as in the original, or a bearer token) must be of that tier or above, and a customer URL takes the security
// tag from the customer's account (in the original it was written into the script).

import type { Tier } from '../services/index.js';

export interface Endpoint {
  readonly path: string;
  /** The tier calls run at; null: the account's own tier. */
  readonly tier: Tier | null;
  /** The accounts that may use it. */
  readonly accounts: readonly Tier[];
  /** The methods it offers; null: every operation the tier may call. */
  readonly methods: ReadonlySet<string> | null;
  /** One of the original's URLs: calls in the original's form (original.ts) are understood there too. */
  readonly original: boolean;
}

/** What the original's customer scripts offered (value_reseller_dms and hosted_dms had nearly the same list). */
const CUSTOMER_METHODS = [
  'list_zone',
  'list_zi',
  'show_zone',
  'create_zone',
  'delete_zone',
  'edit_zone',
  'tickle_editlock',
  'cancel_edit_zone',
  // The save of an edit_zone: update_zone takes the zone as structured records (edit_zone with format "records"; in
  // the original's form, its zi_data layout), update_zone_text as zone-file text.
  'update_zone',
  'update_zone_text',
  'update_rrs',
];

/** The admin/helpdesk panels' listing URL: listings and shows only (it ran in a process of its own in the original). */
const LIST_METHODS = ['list_zone', 'list_zi', 'show_zone', 'show_zone_byid', 'show_zi', 'show_zi_byid'];

export const ENDPOINTS: readonly Endpoint[] = [
  { path: '/jsonrpc', tier: null, accounts: ['admin', 'helpdesk', 'customer'], methods: null, original: false },
  { path: '/admin_dms', tier: 'admin', accounts: ['admin'], methods: null, original: true },
  { path: '/helpdesk_dms', tier: 'helpdesk', accounts: ['admin', 'helpdesk'], methods: null, original: true },
  { path: '/list_zone', tier: 'helpdesk', accounts: ['admin', 'helpdesk'], methods: new Set(LIST_METHODS), original: true },
  { path: '/value_reseller_dms', tier: 'customer', accounts: ['customer'], methods: new Set(CUSTOMER_METHODS), original: true },
  { path: '/hosted_dms', tier: 'customer', accounts: ['customer'], methods: new Set(CUSTOMER_METHODS), original: true },
];
