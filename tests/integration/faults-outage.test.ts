/**
 * Outages and broken streams, full stack (real SDK client, embedded endpoint on loopback).
 *
 * Scaled for speed, said here once: the outage lasts until the buffer has failed a few flush
 * rounds and at least OUTAGE_MS = 2 s (not 30 s); back-off delays are FAST_BACKOFF and
 * `flushIntervalMs` is 100 ms (instead of 5 s) so the timer retries during the outage come
 * quickly; `maxBufferedBytes` is 1 MiB so the buffer fills during the outage with few events.
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlushFunction, InputLogEvent } from '../../src/batch/index.js';
import type { LocalEndpoint } from '../../src/local/index.js';
import { FAST_BACKOFF, GROUP, flushFunctionFor, idOf, identityHolds, makeBuffer, message, readBack, startEndpoint, streamName } from '../fixtures/faults/harness.js';
import { watchProcessErrors } from '../helpers/process-errors.js';
import { waitFor } from '../helpers/wait-for.js';

const STREAMS = 5;
const SIZE = 500;
const MAX_BUFFERED = 1024 * 1024;
/** The outage lasts at least this long (scaled down from the 30 s). */
const OUTAGE_MS = 2_000;

const endpoints: LocalEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
});

function merge(...counts: Array<Map<string, number>>): Map<string, number> {
  const all = new Map<string, number>();
  for (const c of counts) for (const [id, n] of c) all.set(id, (all.get(id) ?? 0) + n);
  return all;
}

describe('endpoint down (connection refused), then back on the same port', () => {
  it("'block': nothing lost, and add() callers are held back while the buffer is full", async () => {
    const watch = watchProcessErrors();
    const first = await startEndpoint();
    endpoints.push(first);
    const flush = flushFunctionFor(first.url);
    const { buffer, reports } = makeBuffer(flush, { ...FAST_BACKOFF, flushIntervalMs: 100, maxBufferedBytes: MAX_BUFFERED });
    buffer.start();
    let seq = 0;
    const addRound = (): Promise<void[]> =>
      Promise.all(Array.from({ length: STREAMS }, (_, s) => buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, seq, SIZE) }))).finally(() => seq++);

    for (let i = 0; i < 200; i++) await addRound();
    await buffer.flushAll();
    await first.close();
    const closedAt = Date.now();

    // Outage: keep adding until an add is held back.
    let held: Promise<unknown> | undefined;
    let heldResolved = false;
    while (held === undefined) {
      const round = addRound();
      let done = false;
      void round.then(() => (done = true));
      await new Promise((resolve) => setImmediate(resolve));
      if (!done) {
        held = round;
        void round.then(() => (heldResolved = true));
      }
    }
    const failedAtHold = buffer.getMetrics().flushesFailed;
    // Several failed flush rounds later, the caller is still held and memory is within the bound.
    await waitFor(
      () => buffer.getMetrics().flushesFailed >= failedAtHold + 3 && Date.now() - closedAt >= OUTAGE_MS,
      'three more failed flushes and a 2 s outage',
    );
    const during = buffer.getMetrics();
    expect(heldResolved).toBe(false);
    expect(during.bytesBuffered + during.bytesInFlight).toBeLessThanOrEqual(MAX_BUFFERED);
    expect(identityHolds(during)).toBe(true);

    const second = await startEndpoint({ port: first.port });
    endpoints.push(second);
    await held;
    for (let i = 0; i < 100; i++) await addRound();
    await buffer.stop({ timeoutMs: 30_000 });
    flush.service.destroy();
    watch.dispose();

    const metrics = buffer.getMetrics();
    const total = seq * STREAMS;
    const counts = merge(readBack(first, STREAMS).counts, readBack(second, STREAMS).counts);
    console.info('[outage block]', JSON.stringify({ total, rounds: seq, failedFlushes: metrics.flushesFailed, stored: counts.size, peak: during.bytesBuffered + during.bytesInFlight }));
    expect(metrics.eventsAccepted).toBe(total);
    expect(metrics.eventsDelivered).toBe(total);
    expect(reports.dropped).toEqual([]);
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(watch.errors).toEqual([]);
  });

  it("'drop-oldest': memory stays under maxBufferedBytes and exactly the dropped events are reported", async () => {
    const watch = watchProcessErrors();
    const first = await startEndpoint();
    endpoints.push(first);
    const flush = flushFunctionFor(first.url);
    const { buffer, reports } = makeBuffer(flush, {
      ...FAST_BACKOFF,
      flushIntervalMs: 100,
      maxBufferedBytes: MAX_BUFFERED,
      overflowPolicy: 'drop-oldest',
    });
    buffer.start();
    let peak = 0;
    let seq = 0;
    const addRound = async (): Promise<void> => {
      for (let s = 0; s < STREAMS; s++) {
        await buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, seq, SIZE) });
        const m = buffer.getMetrics();
        peak = Math.max(peak, m.bytesBuffered + m.bytesInFlight);
      }
      seq++;
    };
    for (let i = 0; i < 200; i++) await addRound();
    await buffer.flushAll();
    await first.close();
    const closedAt = Date.now();
    // Outage: three times the bound's worth of events, while flushes fail.
    const failedBefore = buffer.getMetrics().flushesFailed;
    const outageRounds = Math.ceil((3 * MAX_BUFFERED) / ((SIZE + 26) * STREAMS));
    for (let i = 0; i < outageRounds; i++) {
      await addRound();
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(
      () => buffer.getMetrics().flushesFailed >= failedBefore + 3 && Date.now() - closedAt >= OUTAGE_MS,
      'three failed flushes and a 2 s outage',
    );
    expect(reports.droppedByReason.get('overflow') ?? 0).toBeGreaterThan(0);
    const second = await startEndpoint({ port: first.port });
    endpoints.push(second);
    for (let i = 0; i < 100; i++) await addRound();
    await buffer.stop({ timeoutMs: 30_000 });
    flush.service.destroy();
    watch.dispose();

    const metrics = buffer.getMetrics();
    const total = seq * STREAMS;
    const counts = merge(readBack(first, STREAMS).counts, readBack(second, STREAMS).counts);
    const droppedIds = new Set(reports.dropped.map((e: InputLogEvent) => idOf(e.message)));
    console.info('[outage drop-oldest]', JSON.stringify({ total, stored: counts.size, dropped: droppedIds.size, peak, bound: MAX_BUFFERED }));
    expect(peak).toBeLessThanOrEqual(MAX_BUFFERED);
    expect(metrics.eventsAccepted).toBe(total);
    expect(metrics.eventsDropped).toBe(reports.dropped.length);
    expect(droppedIds.size).toBe(reports.dropped.length);
    expect(metrics.eventsDelivered + metrics.eventsDropped).toBe(total);
    // Every id is either stored once or reported dropped, never both, never neither.
    for (let s = 0; s < STREAMS; s++) {
      for (let q = 0; q < seq; q++) {
        const id = `${s}:${q}`;
        const stored = counts.get(id) ?? 0;
        expect(stored + (droppedIds.has(id) ? 1 : 0), id).toBe(1);
      }
    }
    expect(watch.errors).toEqual([]);
  });
});

describe('broken streams', () => {
  it('a stream whose group was deleted mid-run is recreated (createMissing)', async () => {
    const endpoint = await startEndpoint();
    endpoints.push(endpoint);
    const flush = flushFunctionFor(endpoint.url);
    const { buffer, reports } = makeBuffer(flush, { ...FAST_BACKOFF });
    const add = (s: number, seq: number): Promise<void> =>
      buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, seq, 100) });
    for (let q = 0; q < 100; q++) for (let s = 0; s < STREAMS; s++) await add(s, q);
    await buffer.flushAll();
    expect(endpoint.store.totalEvents()).toBe(100 * STREAMS);
    await flush.service.client.send(new DeleteLogGroupCommand({ logGroupName: GROUP }));
    expect(endpoint.store.groupNames()).not.toContain(GROUP);
    for (let q = 100; q < 200; q++) for (let s = 0; s < STREAMS; s++) await add(s, q);
    await buffer.stop({ timeoutMs: 10_000 });
    flush.service.destroy();
    const back = readBack(endpoint, STREAMS);
    expect(buffer.getMetrics().eventsDelivered).toBe(200 * STREAMS);
    expect(reports.dropped).toEqual([]);
    // The events after the deletion are all in the recreated group, once each.
    expect(back.stored).toBe(100 * STREAMS);
    expect(back.duplicates).toBe(0);
    for (let s = 0; s < STREAMS; s++) for (let q = 100; q < 200; q++) expect(back.counts.get(`${s}:${q}`)).toBe(1);
  });

  it("a stream that keeps failing does not hold back healthy streams (one stream's retries never block another's flushes)", async () => {
    const endpoint = await startEndpoint();
    endpoints.push(endpoint);
    const cloudwatch = flushFunctionFor(endpoint.url);
    const bad = streamName(0);
    let badCalls = 0;
    const flush: FlushFunction = (group, stream, events, token, context) => {
      if (stream === bad) {
        badCalls++;
        return Promise.reject(Object.assign(new Error('The service cannot complete the request.'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }));
      }
      return cloudwatch(group, stream, events, token, context);
    };
    // Default back-off (100 ms base, 20 s cap) and one flush slot: the strictest setting.
    const { buffer, reports } = makeBuffer(flush, { maxConcurrentFlushes: 1, flushIntervalMs: 50 });
    buffer.start();
    for (let q = 0; q < 50; q++) for (let s = 0; s < STREAMS; s++) await buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, q, 100) });
    // The bad stream starts failing and backing off.
    const badFlush = buffer.flush(GROUP, bad).catch((error: unknown) => error);
    await waitFor(() => badCalls >= 2, 'the bad stream to be retried');
    // Healthy streams flush while the bad one is still in its retries.
    for (let s = 1; s < STREAMS; s++) {
      const started = Date.now();
      await buffer.flush(GROUP, streamName(s));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(endpoint.store.eventCount(GROUP, streamName(s))).toBe(50);
    }
    // The timer keeps delivering new events of healthy streams while the bad one keeps failing.
    for (let q = 50; q < 100; q++) for (let s = 0; s < STREAMS; s++) await buffer.add(GROUP, streamName(s), { timestamp: Date.now(), message: message(s, q, 100) });
    await waitFor(() => {
      for (let s = 1; s < STREAMS; s++) if (endpoint.store.eventCount(GROUP, streamName(s)) < 100) return false;
      return true;
    }, 'healthy streams to be delivered by the timer');
    expect(await badFlush).toMatchObject({ code: expect.any(String) });
    expect(endpoint.store.eventCount(GROUP, bad)).toBe(0);
    await buffer.stop({ timeoutMs: 200 });
    cloudwatch.service.destroy();
    const m = buffer.getMetrics();
    expect(identityHolds(m)).toBe(true);
    // The bad stream's 100 events are reported dropped at shutdown, nothing else.
    expect(m.eventsDelivered).toBe(100 * (STREAMS - 1));
    expect(reports.droppedByReason.get('shutdown')).toBe(100);
    expect(m.eventsDropped).toBe(100);
  });
});
