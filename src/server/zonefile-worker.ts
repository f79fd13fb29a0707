// A thread that parses one zone file and hands its records over in packed batches (zonefile/batch.ts), so that the
// thread that started it compiles the zone while the file is still being parsed (zonedir.ts, loadZoneThreaded). Or,
// with `check`, a thread that parses the file whole and runs the zone check on it (zonedir.ts, checkZoneFileThreaded):
// a large zone is served first and checked beside the serving.

import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Name } from '../dns/name.js';
import { keyIsBelowOrAt, wireKey } from '../zone/key.js';
import { RunEncoder } from '../zone/zone.js';
import { RecordPacker } from '../zonefile/batch.js';
import { checkZone } from '../zonefile/check.js';
import type { ZoneFileProblem } from '../zonefile/types.js';
import { loadZoneFile } from './zonefile-files.js';

/** What the thread is started with. */
export interface ZoneFileJob {
  path: string;
  /** The zone's name in presentation format. */
  origin: string;
  /** Where the starting thread gives back the batches it has replayed (ArrayBuffers, for reuse). */
  recycle?: MessagePort;
  /** Check the zone instead of handing its records over: posts only the zone check's problems. */
  check?: boolean;
}

/**
 * The first message the thread receives: the file's bytes, read by the starting thread while this one started
 * (transferred), or null to read the file here.
 */
export type ZoneFileContent = Uint8Array | null;

/** What it posts: batches in file order (with the encodings of the names they hand over whole), then the parse's problems. */
export type ZoneFileMessage = { batch: Uint8Array; data?: Uint8Array } | { problems: ZoneFileProblem[] };

const job = workerData as ZoneFileJob;
const port = parentPort!;

function parse(content: ZoneFileContent): void {
  const recycle = job.recycle!;
  const origin = job.origin === '.' ? Name.root : Name.from(job.origin);
  const apexKey = wireKey(origin);
  const packer = new RecordPacker(
    (batch, data) =>
      port.postMessage({ batch, ...(data ? { data } : {}) } satisfies ZoneFileMessage, data ? [batch.buffer as ArrayBuffer, data.buffer as ArrayBuffer] : [batch.buffer as ArrayBuffer]),
    // Batches of 256 KiB (their names' encodings up to 1 MiB beside): the other thread files the last one after the
    // parse has ended, so a smaller last batch is a shorter end of the load (1 MiB batches: ~2.5 % longer loads).
    1 << 18,
    () => {
      // Read without waiting: the parse never stops for the other side (a new buffer is made when none is back yet).
      const back = receiveMessageOnPort(recycle)?.message as ArrayBuffer | undefined;
      return back === undefined ? undefined : new Uint8Array(back);
    },
    // Each owner's records encoded here as the builder would (its node then costs the other thread one entry, not
    // one record at a time and the encoding): the two threads' shares of the load even out.
    { apexKey, inZone: (key) => keyIsBelowOrAt(key, apexKey), encoder: (zoneClass) => new RunEncoder(zoneClass) },
  );
  // The same records as loadZone (zonedir.ts) gives its builder: flagged-disabled ones are not served.
  const parsed = loadZoneFile(
    job.path,
    {
      origin,
      sink: packer,
      onRecord: (r) => {
        if (!r.flags?.disable) packer.add(r);
      },
    },
    content ?? undefined,
  );
  packer.end();
  port.postMessage({ problems: parsed.problems } satisfies ZoneFileMessage);
  recycle.close();
}

/** The zone check of the file (its parse was already reported by the load: a file with errors is not checked). */
function check(content: ZoneFileContent): void {
  const origin = job.origin === '.' ? Name.root : Name.from(job.origin);
  const parsed = loadZoneFile(job.path, { origin }, content ?? undefined);
  const problems = parsed.problems.some((p) => p.severity === 'error') ? [] : checkZone(origin, parsed.records).problems;
  port.postMessage({ problems } satisfies ZoneFileMessage);
}

port.once('message', job.check ? check : parse);
