/**
 * The bisection budget (issue 17): a batch the service refuses as a whole costs at most
 * bisectionCalls(n, bisectionBudget) calls; past it the rest is dropped `invalid` with the
 * service's message; every event is accounted for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, type DropReason, type InputLogEvent } from '../../../src/batch/index.js';
import { bisectionCalls } from '../../../src/batch/retry.js';
import { awsError, expectIdentity, T0, recorder } from './helpers.js';

interface Run {
  calls: number;
  delivered: string[];
  dropped: Array<{ message: string; reason: DropReason; error: unknown }>;
  metrics: ReturnType<BatchBufferImpl['getMetrics']>;
}

/**
 * n events (message `e<i>`) in one batch of one stream; the fake service refuses any batch that
 * holds an invalid event (`isBad`, or `refuse` for a batch-wide rule) with InvalidParameterException.
 */
async function run(n: number, isBad: (i: number) => boolean, budget?: number, refuse?: (events: InputLogEvent[]) => boolean): Promise<Run> {
  let calls = 0;
  const delivered: string[] = [];
  const dropped: Run['dropped'] = [];
  const buffer = new BatchBufferImpl(
    async (_g, _s, events) => {
      calls++;
      const bad = events.some((e) => isBad(Number(e.message.slice(1)))) || (refuse?.(events) ?? false);
      if (bad) throw awsError('InvalidParameterException', 400, { message: 'Log event is invalid (from the fake service)' });
      delivered.push(...events.map((e) => e.message));
    },
    {
      flushIntervalMs: 1_000_000,
      maxBufferedBytes: 64 * 1024 * 1024,
      ...(budget === undefined ? {} : { bisectionBudget: budget }),
      onError: () => undefined,
      onDrop: (events, reason, error) => dropped.push(...events.map((e) => ({ message: e.message, reason, error }))),
    },
  );
  for (let i = 0; i < n; i++) await buffer.add('/g', 's', { timestamp: T0 + i, message: `e${i}` });
  expect(buffer.getMetrics().eventsBuffered).toBe(n); // one batch (n <= 10,000 events, small)
  await buffer.flush('/g', 's');
  const metrics = buffer.getMetrics();
  await buffer.stop();
  return { calls, delivered, dropped, metrics };
}

const names = (n: number, keep: (i: number) => boolean): string[] => Array.from({ length: n }, (_, i) => i).filter(keep).map((i) => `e${i}`);

describe('bisection budget', () => {
  it('an all-invalid batch of 10,000 events stays within the budget; every event is dropped `invalid` with the service message', async () => {
    const r = await run(10_000, () => true);
    // Plain bisection paid 2n - 1 = 19,999 calls here.
    expect(r.calls).toBeLessThanOrEqual(bisectionCalls(10_000, 10));
    expect(bisectionCalls(10_000, 10)).toBe(161);
    expect(r.delivered).toEqual([]);
    expect(r.dropped).toHaveLength(10_000);
    expect(new Set(r.dropped.map((d) => d.message)).size).toBe(10_000);
    expect(r.dropped.every((d) => d.reason === 'invalid')).toBe(true);
    expect(r.dropped.every((d) => (d.error as Error).name === 'InvalidParameterException')).toBe(true);
    expect(r.metrics.droppedByReason.invalid).toBe(10_000);
    expect(r.metrics.eventsDelivered).toBe(0);
    expectIdentity(r.metrics);
  });

  it('3 invalid events among 10,000: the other 9,997 are delivered, in order, within 3 × (⌈log2 n⌉ + 2) + 1 calls', async () => {
    const poison = new Set([17, 5_000, 9_998]);
    const r = await run(10_000, (i) => poison.has(i));
    expect(r.calls).toBeLessThanOrEqual(bisectionCalls(10_000, 3)); // 49, about 3 × log2(10,000) + 9
    expect(r.delivered).toEqual(names(10_000, (i) => !poison.has(i)));
    expect(r.dropped.map((d) => d.message)).toEqual(['e17', 'e5000', 'e9998']);
    expect(r.metrics.eventsDelivered).toBe(9_997);
    expectIdentity(r.metrics);
  });

  it('bisectionBudget 0 drops an invalid batch whole after one call', async () => {
    const r = await run(100, (i) => i === 50, 0);
    expect(r.calls).toBe(1);
    expect(r.dropped).toHaveLength(100);
    expect(r.metrics.droppedByReason.invalid).toBe(100);
    expectIdentity(r.metrics);
  });

  it('a batch-wide refusal costs no valid event: an event found by elimination is confirmed alone', async () => {
    // The service refuses any batch holding both the first and the last event (as a span rule would).
    const n = 1_000;
    const r = await run(n, () => false, undefined, (events) => events.some((e) => e.message === 'e0') && events.some((e) => e.message === `e${n - 1}`));
    expect(r.delivered).toEqual(names(n, () => true));
    expect(r.dropped).toEqual([]);
    expect(r.calls).toBeLessThanOrEqual(bisectionCalls(n, 1));
  });

  it('property: for any n and invalid positions, calls stay within the budget, valid events before the cut are delivered in order, nothing is lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3_000 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            poison: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 25 }),
            budget: fc.integer({ min: 0, max: 12 }),
          }),
        ),
        async ({ n, poison, budget }) => {
          const bad = new Set(poison);
          const r = await run(n, (i) => bad.has(i), budget);
          expect(r.calls).toBeLessThanOrEqual(bisectionCalls(n, budget));
          // Accounting: each event exactly once, delivered or dropped `invalid`; no invalid event delivered.
          expect(r.delivered.length + r.dropped.length).toBe(n);
          expect(new Set([...r.delivered, ...r.dropped.map((d) => d.message)]).size).toBe(n);
          expect(r.dropped.every((d) => d.reason === 'invalid')).toBe(true);
          expect(r.delivered.some((m) => bad.has(Number(m.slice(1))))).toBe(false);
          expect(r.delivered).toEqual([...r.delivered].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
          expectIdentity(r.metrics);
          // Within the budget (and with bisection allowed) every valid event is delivered.
          if (bad.size === 0) expect(r.calls).toBe(1);
          else if (budget >= bad.size && n > 1) expect(r.dropped.map((d) => d.message).sort()).toEqual([...bad].map((i) => `e${i}`).sort());
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('bisecting blames only what was tried', () => {
  it('when the left half fails for another reason, the untried right half is requeued without a requeue count', async () => {
    let call = 0;
    const dropped: string[] = [];
    const rec = recorder(() => {
      call++;
      // 1: the whole batch is "invalid"; 2: its left half is refused outright (non-retryable).
      if (call === 1) throw Object.assign(new Error('bad'), { name: 'InvalidParameterException' });
      if (call === 2) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      maxRequeues: 0,
      onError: () => undefined,
      onDrop: (events, reason) => dropped.push(...events.map((e) => `${e.message}:${reason}`)),
    });
    for (let i = 0; i < 4; i++) await buffer.add('/g', 's', { timestamp: T0 + i, message: `m${i}` });
    await buffer.flush('/g', 's').catch(() => undefined);
    // The left half was tried and refused: with maxRequeues 0 it is dropped. The right half never went out.
    expect(dropped).toEqual(['m0:failed', 'm1:failed']);
    expect(buffer.getMetrics().eventsBuffered).toBe(2);
    await buffer.flush('/g', 's');
    expect(rec.calls.at(-1)!.events.map((e) => e.message)).toEqual(['m2', 'm3']);
  });
});
