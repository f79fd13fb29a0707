// dmsd's foreground work (daemon/foreground.ts): background slices wait while an UPDATE is in progress, and resume on
// a later turn of the event loop than the one that ended it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Foreground } from '../../src/daemon/foreground.js';

test('a background slice waits for the foreground work in progress, then goes after what followed it', async () => {
  const fg = new Foreground();
  const order: string[] = [];
  let release!: () => void;
  const update = fg.run(
    () =>
      new Promise<void>((res) => {
        release = res;
      }),
  );
  assert.equal(fg.busy, true, 'busy while the work is in progress');
  const slice = fg.yield().then(() => order.push('slice'));
  // Several turns of the loop pass: the slice still waits.
  for (let i = 0; i < 5; i++) await new Promise<void>((res) => setImmediate(res));
  assert.equal(order.length, 0, 'no slice while the UPDATE is in progress');
  release();
  await update.then(() => order.push('answer'));
  await slice;
  assert.deepEqual(order, ['answer', 'slice'], 'the answer before the slice');
  assert.equal(fg.busy, false);
});

test('an error in the foreground work ends it all the same', async () => {
  const fg = new Foreground();
  await assert.rejects(
    fg.run(async () => {
      throw new Error('refused');
    }),
    /refused/,
  );
  assert.equal(fg.busy, false, 'not busy after a failure');
  await fg.yield();
});
