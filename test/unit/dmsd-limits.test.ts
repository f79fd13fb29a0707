// dmsd's limit flags and their --config keys (src/daemon/limits.ts): the flag wins over the file, the file over the
// defaults; values out of range are refused with the key named.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseArgs } from '../../src/daemon/main.js';
import { resolveLimits } from '../../src/daemon/limits.js';

test('limits: flags, then --config keys (key = value or JSON), then defaults; bad values refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-limits-'));
  try {
    const conf = join(dir, 'dms.conf');
    writeFileSync(conf, 'data = /srv/dms\ntcp_max_clients = 5000\ntcp-idle-timeout = 2.5\nxfr_max_per_client = 3\n');
    const o = parseArgs(['--config', conf, '--tcp-max-clients', '200', '--tcp-io-timeout', '0.5', '--xfr-max-total', '0']);
    assert.deepEqual(o.limits, { tcp: { tcpMaxClients: 200, tcpIdleMs: 2500, tcpIoMs: 500 }, xfr: { maxTotal: 0, maxPerClient: 3 } });
    assert.deepEqual(parseArgs([]).limits, { tcp: {}, xfr: {} });
    const json = join(dir, 'dms.json');
    writeFileSync(json, JSON.stringify({ tcp_max_per_source: 7, tcp_max_pipeline: 4 }));
    assert.deepEqual(resolveLimits({}, json), { tcp: { tcpMaxPerSource: 7, tcpMaxInFlight: 4 }, xfr: {} });
    writeFileSync(conf, 'tcp_max_clients = lots\n');
    assert.throws(() => resolveLimits({}, conf), /tcp_max_clients: expected an integer/);
    writeFileSync(conf, 'tcp_io_timeout = 0\n');
    assert.throws(() => resolveLimits({}, conf), /tcp_io_timeout/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--udp-recv-buffer / udp_recv_buffer: octets, 0 = the system default; the flag wins; bad values refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-limits-'));
  try {
    const conf = join(dir, 'dms.conf');
    writeFileSync(conf, 'udp_recv_buffer = 33554432\n');
    assert.deepEqual(resolveLimits({}, conf).udp, { udpRecvBuffer: 33554432 });
    assert.deepEqual(parseArgs(['--config', conf, '--udp-recv-buffer', '0']).limits?.udp, { udpRecvBuffer: 0 });
    assert.equal(parseArgs([]).limits?.udp, undefined);
    writeFileSync(conf, 'udp_recv_buffer = -1\n');
    assert.throws(() => resolveLimits({}, conf), /udp_recv_buffer: expected an integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
