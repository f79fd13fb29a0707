// Operations: servers.

import type { Operation } from './define.js';

export const SERVER_OPERATIONS = {} satisfies Record<string, Operation>;
