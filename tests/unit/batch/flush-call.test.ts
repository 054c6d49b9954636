/**
 * One call of the flush function (src/batch/flush-call.ts) when the function misbehaves: it throws
 * synchronously, returns garbage or never settles (cut off after flushTimeoutMs); each case is
 * retried or reported, nothing is lost, and the process never sees an unhandled rejection.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { FlushContext, FlushFunction, InputLogEvent } from '../../../src/batch/index.js';
import { identityHolds } from '../../fixtures/faults/harness.js';
import { failOnProcessErrors } from '../../helpers/process-errors.js';
import { reportingBuffer } from './helpers.js';

const G = 'group';
const S = 'stream';
const NOW = Date.UTC(2026, 10, 26, 12);

failOnProcessErrors();

describe('misbehaving flush functions', () => {
  it('throws synchronously: treated as a failure, retried, reported; nothing lost', async () => {
    let calls = 0;
    const stored: InputLogEvent[] = [];
    const flush = ((_g: string, _s: string, events: InputLogEvent[]) => {
      if (++calls <= 2) throw Object.assign(new Error('sync boom'), { name: 'ServiceUnavailableException' });
      stored.push(...events);
      return Promise.resolve();
    }) as FlushFunction;
    const { b } = reportingBuffer(flush);
    for (let i = 0; i < 10; i++) await b.add(G, S, { timestamp: NOW, message: `m${i}` });
    await b.flushAll();
    await b.stop();
    expect(stored).toHaveLength(10);
    expect(b.getMetrics().retries).toBe(2);
  });

  it('throws a non-retryable error synchronously: requeued maxRequeues times, then a reported drop', async () => {
    const flush = (() => {
      throw new TypeError('not a service error');
    }) as unknown as FlushFunction;
    const { b, dropped } = reportingBuffer(flush, { maxRequeues: 2 });
    for (let i = 0; i < 5; i++) await b.add(G, S, { timestamp: NOW, message: `m${i}` });
    for (let i = 0; i < 3; i++) await expect(b.flushAll()).rejects.toMatchObject({ code: 'FLUSH_FAILED' });
    expect(dropped.map((d) => [d.reason, d.events.length])).toEqual([['failed', 5]]);
    await b.stop();
    expect(identityHolds(b.getMetrics())).toBe(true);
  });

  it('returns garbage: reported as InvalidFlushResultError, counted delivered, identity holds', async () => {
    const answers: unknown[] = [42, 'ok', true, Symbol('x'), { rejectedLogEventsInfo: 'nonsense' }, { rejectedLogEventsInfo: { tooNewLogEventStartIndex: 'x', tooOldLogEventEndIndex: Number.NaN } }, [], { rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1e9 } }];
    for (const answer of answers) {
      const flush = (() => Promise.resolve(answer)) as unknown as FlushFunction;
      const { b, errors } = reportingBuffer(flush);
      for (let i = 0; i < 4; i++) await b.add(G, S, { timestamp: NOW, message: `m${i}` });
      await b.stop();
      const m = b.getMetrics();
      expect(identityHolds(m), String(answer as string)).toBe(true);
      expect(m.eventsDelivered + m.eventsRejected).toBe(4);
      if (typeof answer !== 'object') expect(errors.some((e) => (e as { code?: string }).code === 'INVALID_FLUSH_RESULT')).toBe(true);
    }
  });

  it('never settles: cut off after flushTimeoutMs, retried; stop() resolves at its deadline and reports the drop', async () => {
    const flush: FlushFunction = () => new Promise(() => undefined);
    const { b, dropped } = reportingBuffer(flush, { flushTimeoutMs: 20, maxRetries: 1 });
    for (let i = 0; i < 3; i++) await b.add(G, S, { timestamp: NOW, message: `m${i}` });
    await expect(b.flushAll()).rejects.toMatchObject({ code: 'FLUSH_FAILED' });
    expect(b.getMetrics().eventsBuffered).toBe(3);
    await b.stop({ timeoutMs: 100 });
    expect(dropped.map((d) => [d.reason, d.events.length])).toEqual([['unknown', 3]]);
    expect(identityHolds(b.getMetrics())).toBe(true);
  });

  it('the context: a signal read only after the cut-off reads as aborted with the reason; it offers no way to abort', async () => {
    const contexts: FlushContext[] = [];
    const flush: FlushFunction = (_g, _s, _e, _t, context) => {
      contexts.push(context!);
      return new Promise(() => undefined);
    };
    const { b } = reportingBuffer(flush, { flushTimeoutMs: 20, maxRetries: 0, maxRequeues: 0 });
    await b.add(G, S, { timestamp: NOW, message: 'm' });
    await expect(b.flushAll()).rejects.toMatchObject({ code: 'FLUSH_FAILED' });
    const [context] = contexts;
    // Never read during the call: made at the abort, and aborted.
    expect(context!.signal.aborted).toBe(true);
    expect(context!.signal.reason).toMatchObject({ name: 'FlushTimeoutError' });
    expect(context!.signal).toBe(context!.signal);
    expect('abort' in context!).toBe(false);
    await b.stop({ timeoutMs: 0 });
  });

  it('a throwing hook (onDrop, onError) never escapes', async () => {
    const b = new BatchBufferImpl(() => Promise.reject(new Error('fatal')), {
      maxRequeues: 0,
      onDrop: () => {
        throw new Error('onDrop threw');
      },
      onError: () => {
        throw new Error('onError threw');
      },
    });
    await b.add(G, S, { timestamp: NOW, message: 'm' });
    await expect(b.flushAll()).rejects.toMatchObject({ code: 'FLUSH_FAILED' });
    await b.stop();
    expect(b.getMetrics().eventsDropped).toBe(1);
  });
});
