/**
 * Runs and passes (src/batch/scheduler.ts): a flush() resolves once the events buffered at its
 * call are delivered, while a producer goes on adding (it does not chase the producer).
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import { T0 } from './helpers.js';

describe('flush() under a steady producer', () => {
  it('resolves once the events buffered at its call are delivered, while the producer goes on', async () => {
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const buffer = new BatchBufferImpl(
      async () => {
        await turn();
      },
      { maxEvents: 10, onError: () => undefined },
    );
    let producing = true;
    let turns = 0;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        for (let k = 0; k < 20; k++) await buffer.add('/g', 's', { timestamp: T0 + i, message: `e${i}.${k}` });
        await turn();
        turns++;
      }
    })();
    while (turns < 5) await turn();
    let flushed = false;
    const done = buffer.flush('/g', 's').then(() => {
      flushed = true;
    });
    for (let i = 0; i < 200 && !flushed; i++) await turn();
    const resolvedWhileProducing = flushed;
    producing = false;
    await producer;
    await done;
    await buffer.stop();
    expect(resolvedWhileProducing).toBe(true);
  });
});
