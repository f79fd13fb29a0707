// A thread that parses one zone file and hands its records over in packed batches (zonefile/batch.ts), so that the
// thread that started it compiles the zone while the file is still being parsed (zonedir.ts, loadZoneThreaded). Or,
// with `check`, a thread that parses the file whole and runs the zone check on it (zonedir.ts, checkZoneFileThreaded):
// a large zone is served first and checked beside the serving.

import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Name } from '../dns/name.js';
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

/** What it posts: batches in file order, then the parse's problems. */
export type ZoneFileMessage = { batch: Uint8Array } | { problems: ZoneFileProblem[] };

const job = workerData as ZoneFileJob;
const port = parentPort!;

function parse(content: ZoneFileContent): void {
  const recycle = job.recycle!;
  const packer = new RecordPacker(
    (batch) => port.postMessage({ batch } satisfies ZoneFileMessage, [batch.buffer as ArrayBuffer]),
    1 << 20,
    () => {
      // Read without waiting: the parse never stops for the other side (a new buffer is made when none is back yet).
      const back = receiveMessageOnPort(recycle)?.message as ArrayBuffer | undefined;
      return back === undefined ? undefined : new Uint8Array(back);
    },
  );
  const origin = job.origin === '.' ? Name.root : Name.from(job.origin);
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
