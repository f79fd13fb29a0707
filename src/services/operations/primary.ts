// Operations: primary.

import type { Operation } from './define.js';

export const PRIMARY_OPERATIONS = {} satisfies Record<string, Operation>;
