/**
 * Stream creation under load (issue 17): many new streams at once, CreateLogStream and
 * CreateLogGroup throttled half the time (seeded), through BatchBufferImpl, the flush function and
 * the real SDK client against the stub. Nothing lost, nothing duplicated, each stream's events
 * read back in the order they were added, and DescribeLogStreams never called.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudWatchFlushFunction } from '../../../src/aws/index.js';
import { BatchBufferImpl, type InputLogEvent } from '../../../src/batch/index.js';
import { startStub, stubClientConfig, type Stub } from './stub-server.js';
import { mulberry32 as seeded } from '../../../src/local/faults.js';

let stub: Stub;
beforeEach(async () => {
  stub = await startStub();
});
afterEach(async () => {
  await stub.close();
});

/** What CloudWatch shows when reading a stream: events by timestamp, arrival order among equals. */
const byTimestamp = (events: readonly InputLogEvent[]) => events.map((e, i) => ({ e, i })).sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i).map(({ e }) => e);

describe('creating streams under load', () => {
  it.each([{ concurrency: 1 }, { concurrency: 4 }])('60 new streams, create calls throttled half the time, maxConcurrentFlushes $concurrency: all delivered once, in order', async ({ concurrency }) => {
    const throttle = seeded(17);
    let throttled = 0;
    stub.override = (r) => {
      if ((r.op === 'CreateLogStream' || r.op === 'CreateLogGroup') && throttle() < 0.5) {
        throttled++;
        return { error: 'ThrottlingException', message: 'Rate exceeded' };
      }
      return undefined;
    };
    const flush = createCloudWatchFlushFunction({
      clientConfig: stubClientConfig(stub.url),
      createRetry: { random: seeded(3), sleep: async () => undefined, maxAttempts: 3 },
    });
    // random 0: the buffer's own back-off (when the create retries are exhausted) waits 0 ms.
    const buffer = new BatchBufferImpl(flush, { maxEvents: 40, maxConcurrentFlushes: concurrency, random: () => 0, onError: () => undefined });
    const base = Date.now() - 60_000;
    const added = new Map<string, InputLogEvent[]>();
    const adds: Array<Promise<void>> = [];
    for (let i = 0; i < 12_000; i++) {
      const stream = `app-${i % 60}`;
      // Runs of equal timestamps, so that the order among equals is checked too.
      const event = { timestamp: base + Math.floor(i / 300), message: `${stream} #${i}` };
      added.set(stream, [...(added.get(stream) ?? []), event]);
      adds.push(buffer.add(i % 2 === 0 ? '/load/a' : '/load/b', stream, event));
    }
    await Promise.all(adds);
    await buffer.stop();
    flush.service.destroy();

    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(12_000);
    expect(m.eventsDropped + m.eventsRejected).toBe(0);
    expect(throttled).toBeGreaterThan(20);
    for (const [stream, events] of added) {
      const group = Number(stream.slice(4)) % 2 === 0 ? '/load/a' : '/load/b';
      const stored = stub.groups.get(group)!.streams.get(stream)!;
      expect(stored).toHaveLength(events.length);
      expect(byTimestamp(stored)).toEqual(events);
      if (concurrency === 1) expect(stored).toEqual(events); // one call at a time: stored in the order added
    }
    expect(stub.ops()).not.toContain('DescribeLogStreams');
  });
});
