'use strict';
// The compiled addon (node-gyp puts it in build/Release); require() throws when it was not built, and the caller
// (dmsd's UDP listener) then stays on libuv's path.
module.exports = require('./build/Release/dms_udp.node');
