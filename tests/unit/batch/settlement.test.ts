/**
 * Truthful outcomes at stop()'s deadline (issue 21): events whose request got no answer are
 * reported `unknown` (the service may have stored them), never `shutdown` ("not delivered");
 * events never sent are `shutdown`; in durable mode what is left is `kept` (spool/spool.test.ts).
 * An injected clock (fake timers): the flush function "stores" its batch 1.5 s after the call,
 * whatever the abort signal says, as a server with 1.5 s of latency does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { BatchMetrics, DropReason, FlushFunction, InputLogEvent } from '../../../src/batch/index.js';
import { expectIdentity } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const G = '/g';

afterEach(() => {
  vi.useRealTimers();
});

interface Drop {
  reason: DropReason;
  messages: string[];
  metrics: BatchMetrics;
}

/** A service with `latencyMs` per request that stores every request it received, answered or not. */
function slowService(latencyMs: number) {
  const stored: string[] = [];
  const called: string[] = [];
  const flush: FlushFunction = (_group, stream, events: InputLogEvent[]) => {
    called.push(stream);
    return new Promise<undefined>((resolve) =>
      setTimeout(() => {
        for (const e of events) stored.push(e.message);
        resolve(undefined);
      }, latencyMs),
    );
  };
  return { flush, stored, called };
}

describe('stop() at its deadline: what each event is reported as', () => {
  it('stop({ timeoutMs: 1000 }) against 1.5 s of latency: no stored event is reported not delivered', async () => {
    vi.useFakeTimers({ now: T0 });
    const service = slowService(1500);
    const drops: Drop[] = [];
    let buffer: BatchBufferImpl | undefined = undefined;
    buffer = new BatchBufferImpl(service.flush, {
      // One call at a time: stream "a" is in flight at the deadline, stream "b" never called.
      maxConcurrentFlushes: 1,
      flushTimeoutMs: 60_000,
      onError: () => undefined,
      onDrop: (events, reason) => drops.push({ reason, messages: events.map((e) => e.message), metrics: buffer!.getMetrics() }),
    });
    for (let i = 0; i < 100; i++) await buffer.add(G, 'a', { timestamp: T0, message: `a${i}` });
    await buffer.add(G, 'b', { timestamp: T0, message: 'b0' });
    const stopped = buffer.stop({ timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    // The server answers after the client gave up: it stored the request all the same.
    await vi.advanceTimersByTimeAsync(500);
    expect(service.called).toEqual(['a']);
    expect(service.stored).toHaveLength(100);

    const reported = (reason: DropReason): string[] => drops.filter((d) => d.reason === reason).flatMap((d) => d.messages);
    const stored = new Set(service.stored);
    // Acceptance: nothing reported "not delivered" (shutdown) was stored.
    expect(reported('shutdown').filter((m) => stored.has(m))).toEqual([]);
    expect(reported('unknown').sort()).toEqual([...service.stored].sort());
    expect(reported('shutdown')).toEqual(['b0']);

    // Counted in eventsDropped, under their own reasons, before the hooks ran.
    const m = buffer.getMetrics();
    expect(m.droppedByReason).toMatchObject({ unknown: 100, shutdown: 1, kept: 0 });
    expect(m.eventsDropped).toBe(101);
    expectIdentity(m);
    const first = drops[0] as Drop;
    expect(first.metrics.droppedByReason[first.reason]).toBeGreaterThanOrEqual(first.messages.length);
    for (const d of drops) expectIdentity(d.metrics);
  });

  it('a call cut off after flushTimeoutMs leaves its events unknown, even if a later call fails outright', async () => {
    vi.useFakeTimers({ now: T0 });
    let calls = 0;
    const flush: FlushFunction = () => {
      calls++;
      // The first call hangs (cut off by flushTimeoutMs); every later one is refused at once.
      if (calls === 1) return new Promise<undefined>(() => undefined);
      return Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    };
    const reasons: DropReason[] = [];
    const buffer = new BatchBufferImpl(flush, {
      flushTimeoutMs: 100,
      retryBaseDelayMs: 10,
      throttleBaseDelayMs: 10,
      onError: () => undefined,
      onDrop: (events, reason) => reasons.push(...events.map(() => reason)),
    });
    await buffer.add(G, 'a', { timestamp: T0, message: 'x' });
    const stopped = buffer.stop({ timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    expect(calls).toBeGreaterThan(1);
    expect(reasons).toEqual(['unknown']);
    expectIdentity(buffer.getMetrics());
  });

  it('events refused by every call (never unanswered) are still reported shutdown', async () => {
    vi.useFakeTimers({ now: T0 });
    const flush: FlushFunction = () => Promise.reject(Object.assign(new Error('down'), { name: 'ServiceUnavailableException' }));
    const reasons: DropReason[] = [];
    const buffer = new BatchBufferImpl(flush, {
      retryBaseDelayMs: 10,
      onError: () => undefined,
      onDrop: (events, reason) => reasons.push(...events.map(() => reason)),
    });
    for (let i = 0; i < 3; i++) await buffer.add(G, 'a', { timestamp: T0, message: `m${i}` });
    const stopped = buffer.stop({ timeoutMs: 200 });
    await vi.advanceTimersByTimeAsync(200);
    await stopped;
    expect(reasons).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(buffer.getMetrics().droppedByReason).toMatchObject({ shutdown: 3, unknown: 0 });
  });
});
