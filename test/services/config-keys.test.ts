// zone_tool's shell completes set_config's keys from its own list (zone_tool may import only the services' types):
// that list must name every key the services know, and no other.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_KEYS as COMPLETED } from '../../src/cli/zone_tool/table.js';
import { CONFIG_KEYS } from '../../src/services/index.js';

test("zone_tool's shell completes every configuration key there is, and only those", () => {
  assert.deepEqual([...COMPLETED].sort(), Object.keys(CONFIG_KEYS).sort());
});
