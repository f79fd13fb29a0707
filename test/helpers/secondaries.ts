// knotd and named as TSIG secondaries of a primary already running on 127.0.0.1 (dmsd, or the in-process primary of
// xfr.support.ts): one zone each, transferred from the primary's TCP port signed with the key, NOTIFY accepted from
// 127.0.0.1 (knotd: only signed with the key). The process is only started: its first transfer is the caller's to wait
// for, in its log or by asking it. Also used by bench/primary.mjs (loaded through tsx: bench/lib.mjs testHelper).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyToBindConfig, keyToKnotConfig, type TsigKey } from '../../src/dns/tsig.js';
import { knotServerConf, type LoggedProcess, namedOptions, spawnLogged } from './servers.js';

export interface SecondaryOptions {
  /** The zone, without the final dot. */
  zone: string;
  /** The primary's TCP port on 127.0.0.1. */
  primaryPort: number;
  /** Signs the transfers (and, for knotd, the NOTIFYs it accepts). */
  key: TsigKey;
  /** Where the secondary listens on 127.0.0.1 (chosen beforehand: the primary's also-notify may name it). */
  port: number;
  /** Also serve AXFR/IXFR of the zone to clients signing with the key (for comparing its copy by a transfer). */
  serveTransfers?: boolean;
  /** named only: its debug level (-d). At 3 it logs whether each transfer's answer was incremental. */
  debugLevel?: number;
  /** named only: more primaries on 127.0.0.1 (TCP ports), tried in turn after the first (a master and alternate master). */
  morePrimaryPorts?: number[];
}

export interface Secondary extends LoggedProcess {
  label: 'named' | 'knotd';
  port: number;
  /** Its configuration and the transferred zone; removed by stop(). */
  dir: string;
}

const keyId = (key: TsigKey) => key.name.toString().replace(/\.$/, '');

export function namedSecondaryConf(dir: string, o: SecondaryOptions): string {
  return [
    keyToBindConfig(o.key),
    ...namedOptions(dir, o.port),
    `zone "${o.zone}" { type secondary; primaries port ${o.primaryPort} { 127.0.0.1 key "${keyId(o.key)}";${(o.morePrimaryPorts ?? []).map((p) => ` 127.0.0.1 port ${p} key "${keyId(o.key)}";`).join('')} }; file "${dir}/zone.db"; allow-notify { 127.0.0.1; };${o.serveTransfers ? ` allow-transfer { key "${keyId(o.key)}"; };` : ''} };`,
    '',
  ].join('\n');
}

export function knotSecondaryConf(dir: string, o: SecondaryOptions): string {
  return [
    ...knotServerConf(dir, o.port),
    keyToKnotConfig(o.key).trimEnd(),
    'remote:',
    '  - id: primary',
    `    address: 127.0.0.1@${o.primaryPort}`,
    `    key: ${keyId(o.key)}`,
    // The NOTIFY acl demands the key: an unsigned NOTIFY would be refused ("ACL, denied").
    'acl:',
    '  - id: notify-from-primary',
    '    address: 127.0.0.1',
    `    key: ${keyId(o.key)}`,
    '    action: notify',
    ...(o.serveTransfers ? ['  - id: transfer-out', `    key: ${keyId(o.key)}`, '    action: transfer'] : []),
    'zone:',
    `  - domain: ${o.zone}.`,
    `    storage: "${dir}"`,
    '    file: zone.txt',
    '    master: primary',
    `    acl: ${o.serveTransfers ? '[notify-from-primary, transfer-out]' : 'notify-from-primary'}`,
    '    zonefile-sync: -1',
    '',
  ].join('\n');
}

function startSecondary(label: Secondary['label'], o: SecondaryOptions): Secondary {
  const dir = mkdtempSync(join(tmpdir(), `dms-secondary-${label}-`));
  const conf = join(dir, `${label}.conf`);
  writeFileSync(conf, label === 'named' ? namedSecondaryConf(dir, o) : knotSecondaryConf(dir, o));
  const debug = label === 'named' && o.debugLevel ? ['-d', String(o.debugLevel)] : [];
  const args = label === 'named' ? ['-g', ...debug, '-c', conf, '-n', '1'] : ['-c', conf];
  return { ...spawnLogged(label, args, { dir, killAfterMs: 5000, maxOutput: 1 << 21 }), label, port: o.port, dir };
}

export const startNamedSecondary = (o: SecondaryOptions): Secondary => startSecondary('named', o);
export const startKnotSecondary = (o: SecondaryOptions): Secondary => startSecondary('knotd', o);

/** Check `pred` every `everyMs` until it holds; after `ms` throw with the end of `output()` (the peer's log). */
export async function until(what: string, pred: () => boolean | Promise<boolean>, output: () => string, ms = 20000, everyMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; log:\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Wait until a process's log shows `re` (dmsd gathers its log lines for up to 50 ms before writing them, so a line
 * about what a peer has just seen happen may not be there yet), then pass; after `ms` fail with the log's end.
 */
export async function logged(output: () => string, re: RegExp, ms = 5000): Promise<void> {
  await until(`log line ${re}`, () => re.test(output()), output, ms, 20);
}
