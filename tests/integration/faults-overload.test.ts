/**
 * Overload, full stack: a producer far faster than an endpoint limited to 4 PutLogEvents/s
 * (token bucket, ThrottlingException beyond it) for a bounded time (3 s per policy, scaled down
 * from the 60 s), with maxBufferedBytes 4 MiB and FAST_BACKOFF.
 * Buffered + in-flight bytes are sampled from the metrics after every add (the bound); RSS is
 * checked loosely (the test process also holds the endpoint's store and the SDK).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OverflowPolicy } from '../../src/batch/index.js';
import type { LocalEndpoint } from '../../src/local/index.js';
import { FAST_BACKOFF, GROUP, flushFunctionFor, idOf, identityHolds, makeBuffer, message, readBack, startEndpoint, streamName } from '../fixtures/faults/harness.js';
import { watchProcessErrors } from '../helpers/process-errors.js';

const STREAMS = 10;
const MAX_BUFFERED = 4 * 1024 * 1024;
const PRODUCE_MS = 3_000;

let endpoint: LocalEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('overload: producer much faster than a throttled endpoint', () => {
  for (const policy of ['block', 'drop-oldest', 'drop-newest'] as OverflowPolicy[]) {
    it(`'${policy}': memory bounded by maxBufferedBytes, policy honoured, every drop reported`, async () => {
      const watch = watchProcessErrors();
      endpoint = await startEndpoint({ faults: { requestsPerSecond: 4 } });
      const flush = flushFunctionFor(endpoint.url);
      const { buffer, reports } = makeBuffer(flush, { ...FAST_BACKOFF, maxBufferedBytes: MAX_BUFFERED, overflowPolicy: policy });
      buffer.start();
      const rssBefore = process.memoryUsage().rss;
      let peak = 0;
      let peakRss = rssBefore;
      let seq = 0;
      const until = Date.now() + PRODUCE_MS;
      while (Date.now() < until) {
        for (let s = 0; s < STREAMS; s++) {
          await buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, seq, 400) });
          const m = buffer.getMetrics();
          peak = Math.max(peak, m.bytesBuffered + m.bytesInFlight);
        }
        seq++;
        if (seq % 100 === 0) {
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const during = buffer.getMetrics();
      expect(identityHolds(during)).toBe(true);
      endpoint.setFaults({});
      await buffer.stop({ timeoutMs: 30_000 });
      flush.service.destroy();
      watch.dispose();

      const m = buffer.getMetrics();
      const total = seq * STREAMS;
      const back = readBack(endpoint, STREAMS);
      const droppedIds = new Set(reports.dropped.map((e) => idOf(e.message)));
      const stats = endpoint.stats();
      console.info(
        `[overload ${policy}]`,
        JSON.stringify({
          produced: total,
          delivered: m.eventsDelivered,
          dropped: m.eventsDropped,
          peakBufferedBytes: peak,
          bound: MAX_BUFFERED,
          throttled: stats.faults.throttledByRequestsPerSecond,
          rssGrowthMB: Math.round((peakRss - rssBefore) / 1048576),
        }),
      );
      expect(stats.faults.throttledByRequestsPerSecond).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(MAX_BUFFERED);
      // Loose: what the buffer holds plus the test's own copies (endpoint store, reports) and the SDK.
      expect(peakRss - rssBefore).toBeLessThan(256 * 1024 * 1024);
      expect(m.eventsAccepted).toBe(total);
      expect(identityHolds(m)).toBe(true);
      expect(back.duplicates).toBe(0);
      expect(back.outOfOrderStreams).toEqual([]);
      expect(m.eventsDropped).toBe(reports.dropped.length);
      expect(droppedIds.size).toBe(reports.dropped.length);
      for (let s = 0; s < STREAMS; s++) {
        for (let q = 0; q < seq; q++) {
          const id = `${s}:${q}`;
          expect((back.counts.get(id) ?? 0) + (droppedIds.has(id) ? 1 : 0), id).toBe(1);
        }
      }
      if (policy === 'block') {
        expect(m.eventsDropped).toBe(0);
      } else {
        expect(reports.droppedByReason.get('overflow')).toBe(m.eventsDropped);
        expect(m.eventsDropped).toBeGreaterThan(0);
        if (policy === 'drop-newest') {
          // The newest were refused: per stream, what was stored is a prefix-closed set in arrival order before each drop.
          expect(m.eventsDelivered).toBeGreaterThan(0);
        }
      }
      expect(watch.errors).toEqual([]);
    });
  }
});
