/**
 * Faults, full stack: BatchBufferImpl + createCloudWatchFlushFunction + the real AWS SDK v3
 * client against the embedded endpoint on loopback, with seeded faults. Every event carries a
 * unique id and is read back by it: none lost, none duplicated.
 *
 * Configuration: the buffer's defaults (maxEvents 10,000, maxBytes 1 MiB, flushIntervalMs 5 s,
 * maxRetries 3, maxBufferedBytes 64 MiB, 'block', 4 concurrent flushes, flushTimeoutMs 30 s),
 * except that the back-off delays are scaled down (FAST_BACKOFF: base 5 ms, throttling base
 * 10 ms, cap 200 ms) so the tests run in seconds. Messages are ~500 bytes so that batches are
 * cut by bytes (~2,000 events per request) and each run makes enough requests for the fault
 * rates to bite; each test checks that its faults were actually injected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalEndpoint, LocalFaults } from '../../src/local/index.js';
import type { FlushFunction } from '../../src/batch/index.js';
import { FAST_BACKOFF, flushFunctionFor, identityHolds, makeBuffer, missingIds, produce, readBack, startEndpoint } from '../fixtures/faults/harness.js';
import { watchProcessErrors } from '../helpers/process-errors.js';

const STREAMS = 20;
const SIZE = 500;

let endpoint: LocalEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

interface Outcome {
  accepted: number;
  delivered: number;
  stored: number;
  duplicates: number;
  missing: number;
  dropped: number;
  retries: number;
  requests: number;
  seconds: number;
  faults: ReturnType<LocalEndpoint['stats']>['faults'];
  failedWith503: { calls: number; events: number };
}

async function run(faults: LocalFaults, perStream: number): Promise<Outcome> {
  const watch = watchProcessErrors();
  const started = Date.now();
  endpoint = await startEndpoint({ faults });
  const cloudwatch = flushFunctionFor(endpoint.url);
  // Counts the calls that failed with a 503 (to compare with the endpoint's store-then-fail counter).
  const failedWith503 = { calls: 0, events: 0 };
  const flush: FlushFunction = async (group, stream, events, token, context) => {
    try {
      return await cloudwatch(group, stream, events, token, context);
    } catch (error) {
      if ((error as { name?: string }).name === 'ServiceUnavailableException') {
        failedWith503.calls++;
        failedWith503.events += events.length;
      }
      throw error;
    }
  };
  const { buffer, reports } = makeBuffer(flush, { ...FAST_BACKOFF });
  buffer.start();
  try {
    await produce(buffer, { streams: STREAMS, perStream, size: SIZE, every: 5000, onProgress: () => expect(identityHolds(buffer.getMetrics())).toBe(true) });
    await buffer.stop({ timeoutMs: 60_000 });
  } finally {
    cloudwatch.service.destroy();
    watch.dispose();
  }
  const metrics = buffer.getMetrics();
  expect(identityHolds(metrics)).toBe(true);
  const back = readBack(endpoint, STREAMS);
  const stats = endpoint.stats();
  expect(watch.errors).toEqual([]);
  expect(reports.dropped).toEqual([]);
  expect(back.outOfOrderStreams).toEqual([]);
  return {
    accepted: metrics.eventsAccepted,
    delivered: metrics.eventsDelivered,
    stored: back.stored,
    duplicates: back.duplicates,
    missing: missingIds(back.counts, STREAMS, perStream).length,
    dropped: metrics.eventsDropped,
    retries: metrics.retries,
    requests: stats.putLogEventsRequests,
    seconds: (Date.now() - started) / 1000,
    faults: stats.faults,
    failedWith503,
  };
}

function expectNoneLostNoneDuplicated(outcome: Outcome, total: number): void {
  expect(outcome.accepted).toBe(total);
  expect(outcome.delivered).toBe(total);
  expect(outcome.missing).toBe(0);
  expect(outcome.duplicates).toBe(0);
  expect(outcome.stored).toBe(total);
  expect(outcome.dropped).toBe(0);
}

describe('faults, full stack with the real SDK client', () => {
  it('30% throttling: none lost, none duplicated', async () => {
    const perStream = 2_500;
    const outcome = await run({ throttleRate: 0.3 }, perStream);
    console.info('[faults] throttling 30%', JSON.stringify(outcome));
    expectNoneLostNoneDuplicated(outcome, STREAMS * perStream);
    expect(outcome.faults.throttledByRate).toBeGreaterThan(0);
  });

  it('5% 503 ServiceUnavailable: none lost, none duplicated', async () => {
    const perStream = 2_500;
    const outcome = await run({ unavailableRate: 0.05 }, perStream);
    console.info('[faults] 503 5%', JSON.stringify(outcome));
    expectNoneLostNoneDuplicated(outcome, STREAMS * perStream);
    expect(outcome.faults.unavailable).toBeGreaterThan(0);
  });

  it('2% dropped connections: none lost, none duplicated', async () => {
    const perStream = 2_500;
    const outcome = await run({ dropConnectionRate: 0.02 }, perStream);
    console.info('[faults] dropped connections 2%', JSON.stringify(outcome));
    expectNoneLostNoneDuplicated(outcome, STREAMS * perStream);
    expect(outcome.faults.droppedConnections).toBeGreaterThan(0);
  });

  it('0-500 ms latency jitter: none lost, none duplicated', async () => {
    const perStream = 2_500;
    const outcome = await run({ latencyMs: [0, 500] }, perStream);
    console.info('[faults] latency 0-500 ms', JSON.stringify(outcome));
    expectNoneLostNoneDuplicated(outcome, STREAMS * perStream);
    expect(outcome.faults.delayedRequests).toBeGreaterThan(0);
  });

  it('all together, 200,000 events over 20 streams: none lost, none duplicated', async () => {
    const perStream = 10_000;
    const outcome = await run(
      { throttleRate: 0.3, unavailableRate: 0.05, dropConnectionRate: 0.02, latencyMs: [0, 500] },
      perStream,
    );
    console.info('[faults] all together', JSON.stringify(outcome));
    expectNoneLostNoneDuplicated(outcome, STREAMS * perStream);
    expect(outcome.faults.throttledByRate).toBeGreaterThan(0);
    expect(outcome.faults.unavailable + outcome.faults.droppedConnections).toBeGreaterThan(0);
  });

  it('store-then-fail 5%: the only duplicates are the re-sent stored batches, and they are counted', async () => {
    const perStream = 2_500;
    // No other 503 source, so every 503 the flush function saw is a store-then-fail.
    const outcome = await run({ storeThenFailRate: 0.05, throttleRate: 0.1 }, perStream);
    console.info('[faults] store-then-fail 5%', JSON.stringify(outcome));
    const total = STREAMS * perStream;
    expect(outcome.faults.storeThenFail).toBeGreaterThan(0);
    expect(outcome.failedWith503.calls).toBe(outcome.faults.storeThenFail);
    expect(outcome.missing).toBe(0);
    expect(outcome.delivered).toBe(total);
    // Each store-then-fail stored its whole batch once more than the buffer counts as delivered.
    expect(outcome.duplicates).toBe(outcome.failedWith503.events);
    expect(outcome.stored).toBe(total + outcome.failedWith503.events);
  });
});
