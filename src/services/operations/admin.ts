// Operations: admin.

import type { Operation } from './define.js';

export const ADMIN_OPERATIONS = {} satisfies Record<string, Operation>;
