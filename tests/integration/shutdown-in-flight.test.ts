/**
 * Issue 21, acceptance: `stop({ timeoutMs: 1000 })` against 1.5 s of server latency reports no
 * event as not delivered (`shutdown`) that the service stored. The real embedded endpoint
 * (loopback) and the real AWS SDK flush function: the endpoint reads the request, waits 1.5 s,
 * and stores it even though the client aborted at the deadline. Those events are reported
 * `unknown` (the outcome could not be known), and the accounting identity holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalEndpoint } from '../../src/local/index.js';
import { GROUP, flushFunctionFor, identityHolds, makeBuffer, message, startEndpoint, streamName } from '../fixtures/faults/harness.js';
import { waitFor } from '../helpers/wait-for.js';

let endpoint: LocalEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('stop() with a request in flight at its deadline', () => {
  it('1.5 s of latency, stop({ timeoutMs: 1000 }): every stored event is reported unknown, none shutdown', async () => {
    endpoint = await startEndpoint();
    const flush = flushFunctionFor(endpoint.url);
    const { buffer, reports } = makeBuffer(flush, { flushTimeoutMs: 30_000 });
    const stream = streamName(0);
    // Create the group and stream while the endpoint is quick.
    await buffer.add(GROUP, stream, { timestamp: Date.now(), message: message(0, 0, 50) });
    await buffer.flushAll();
    expect(endpoint.store.eventCount(GROUP, stream)).toBe(1);

    endpoint.setFaults({ latencyMs: 1500 });
    for (let i = 1; i <= 100; i++) await buffer.add(GROUP, stream, { timestamp: Date.now(), message: message(0, i, 50) });
    await buffer.stop({ timeoutMs: 1000 });
    // The service answers late, but it stores the request.
    await waitFor(() => endpoint!.store.eventCount(GROUP, stream) === 101, 'the late request to be stored', 10_000);

    const stored = new Set([...endpoint.store.events(GROUP, stream)].map((e) => e.message));
    const m = buffer.getMetrics();
    console.info('[shutdown in flight]', JSON.stringify({ stored: stored.size, droppedByReason: m.droppedByReason }));
    expect(identityHolds(m)).toBe(true);
    expect(reports.droppedByReason.get('shutdown') ?? 0).toBe(0);
    expect(reports.droppedByReason.get('unknown')).toBe(100);
    expect(reports.dropped.every((e) => stored.has(e.message))).toBe(true);
    expect(m.eventsDelivered).toBe(1);
    flush.service.destroy();
  }, 20_000);
});
