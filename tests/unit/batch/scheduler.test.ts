/**
 * Runs and passes (src/batch/scheduler.ts): a flush() resolves once the events buffered at its
 * call are delivered, while a producer goes on adding (it does not chase the producer).
 */
import { describe, expect, it, vi } from 'vitest';
import { BatchBufferImpl, type InputLogEvent } from '../../../src/batch/index.js';
import { PendingEvents } from '../../../src/batch/stream-buffer.js';
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

describe('a pass of several batches, in order, by value', () => {
  it('makes each batch into objects when its own call may start, not all of them when the pass takes them', async () => {
    const make = vi.spyOn(PendingEvents.prototype, 'make');
    try {
      // At each call: how many batches had been made into objects so far.
      const madeAtCall: number[] = [];
      const received: InputLogEvent[][] = [];
      const buffer = new BatchBufferImpl(
        async (_g, _s, events) => {
          madeAtCall.push(make.mock.calls.length);
          received.push(events);
          await new Promise((resolve) => setImmediate(resolve));
        },
        { maxEvents: 10, maxConcurrentFlushes: 1, flushIntervalMs: 2_147_483_647, onError: () => undefined },
      );
      // One synchronous burst: the 10th event starts a pass of one batch; the next 25 wait for
      // the pass after it, which takes them as three batches (10, 10, 5).
      const events = Array.from({ length: 35 }, (_, i) => ({ timestamp: T0 + i, message: `e${i}` }));
      for (const event of events) expect(buffer.tryAdd('/g', 's', event)).toBe(true);
      await buffer.flush('/g', 's');
      expect(received.map((batch) => batch.length)).toEqual([10, 10, 10, 5]);
      expect(received.flat()).toEqual(events);
      expect(madeAtCall).toEqual([1, 2, 3, 4]);
      await buffer.stop();
    } finally {
      make.mockRestore();
    }
  });
});
