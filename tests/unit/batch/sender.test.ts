/**
 * The sender's pacer: asked before every call of the flush function and told how each went, so
 * a pacer that adapts the request rate (AIMD on throttles) can replace the concurrency slots.
 */
import { describe, expect, it, vi } from 'vitest';
import { ConcurrencySlots, type CallOutcome, type Pacer } from '../../../src/batch/sender.js';
import { Sender } from '../../../src/batch/sender.js';
import { Ledger } from '../../../src/batch/ledger.js';
import { Lifecycle } from '../../../src/batch/lifecycle.js';
import { Fairness } from '../../../src/batch/fairness.js';
import { Notices } from '../../../src/batch/notices.js';
import { SequenceTokenManager } from '../../../src/batch/sequencing.js';
import { PendingEvents, StreamBuffer } from '../../../src/batch/stream-buffer.js';
import { calculateEventSize, type InputLogEvent } from '../../../src/batch/index.js';
import { awsError, ev, settle } from './helpers.js';

describe('ConcurrencySlots', () => {
  it('lets `limit` calls through, then hands each freed slot to the next waiter, first come first served', async () => {
    const slots = new ConcurrencySlots(2);
    const order: number[] = [];
    await slots.acquire();
    await slots.acquire();
    const waiting = [3, 4].map((n) => slots.acquire().then(() => order.push(n)));
    await settle();
    expect(order).toEqual([]);
    slots.release();
    await settle();
    expect(order).toEqual([3]);
    slots.release();
    await Promise.all(waiting);
    expect(order).toEqual([3, 4]);
  });
});

describe('Sender and its pacer', () => {
  it('asks the pacer before each call and tells it how the call went (throttled, failed, delivered)', async () => {
    const log: string[] = [];
    const pacer: Pacer = {
      acquire: () => {
        log.push('acquire');
        return Promise.resolve();
      },
      release: (outcome: CallOutcome) => void log.push(outcome),
    };
    const answers = [awsError('ThrottlingException'), awsError('ServiceUnavailableException', 503), undefined];
    const delivered: number[] = [];
    const sender = new Sender({
      flushFunction: async () => {
        log.push('call');
        const answer = answers.shift();
        if (answer !== undefined) throw answer;
      },
      policy: { maxRetries: 3, retryBaseDelayMs: 0, throttleBaseDelayMs: 0, retryMaxDelayMs: 0, flushTimeoutMs: 60_000, maxConcurrentFlushes: 1 },
      tokens: new SequenceTokenManager(),
      pacer,
      lifecycle: new Lifecycle(),
      ledger: new Ledger(),
      fairness: new Fairness(1_048_576),
      settlement: { delivered: (_t, events) => void delivered.push(events.length), invalid: () => undefined },
      notices: new Notices({}),
      hooks: {},
      now: () => 0,
      random: () => 0,
    });
    const events: InputLogEvent[] = [ev(0), ev(1)];
    const bytes = events.reduce((n, e) => n + calculateEventSize(e), 0);
    const left = await sender.sendRun(new StreamBuffer('g', 's'), [{ events, bytes }]);
    expect(left).toBeUndefined();
    expect(delivered).toEqual([2]);
    expect(log).toEqual(['acquire', 'call', 'throttled', 'acquire', 'call', 'failed', 'acquire', 'call', 'delivered']);
  });
});

describe('Sender, a batch still by value (PendingEvents)', () => {
  /** A sender whose pacer opens one call at a time when the test says; `answers` are thrown by the first calls. */
  function setUp(answers: unknown[]) {
    let open: () => void = () => undefined;
    const pacer: Pacer = { acquire: () => new Promise<void>((resolve) => (open = resolve)), release: () => undefined };
    const received: InputLogEvent[][] = [];
    const invalid: InputLogEvent[][] = [];
    const lifecycle = new Lifecycle();
    const sender = new Sender({
      flushFunction: async (_g, _s, events) => {
        received.push(events);
        const answer = answers.shift();
        if (answer !== undefined) throw answer;
      },
      policy: { maxRetries: 1, retryBaseDelayMs: 0, throttleBaseDelayMs: 0, retryMaxDelayMs: 0, flushTimeoutMs: 60_000, maxConcurrentFlushes: 1 },
      tokens: new SequenceTokenManager(),
      pacer,
      lifecycle,
      ledger: new Ledger(),
      fairness: new Fairness(1_048_576),
      settlement: { delivered: () => undefined, invalid: (_t, events) => void invalid.push(events) },
      notices: new Notices({}),
      hooks: {},
      now: () => 0,
      random: () => 0,
    });
    const take = (): PendingEvents => {
      const stream = new StreamBuffer('g', 's');
      for (const e of [ev(0), ev(1), ev(2)]) stream.push(e.timestamp, e.message, calculateEventSize(e));
      const taken = stream.takeRun().events;
      expect(taken).toBeInstanceOf(PendingEvents);
      return taken as PendingEvents;
    };
    /** Opens the pacer for each call until `sent` settles. */
    const openUntil = async <T>(sent: Promise<T>): Promise<T> => {
      let done = false;
      void sent.finally(() => (done = true));
      while (!done) {
        open();
        await settle();
      }
      return sent;
    };
    return { sender, lifecycle, received, invalid, take, open: () => open(), openUntil };
  }

  it('makes its objects once, when its first call may start (not while it waits for the pacer), and retries with the same objects', async () => {
    const { sender, received, take, openUntil } = setUp([awsError('ServiceUnavailableException', 503)]);
    const pending = take();
    const make = vi.spyOn(pending, 'make');
    const sent = sender.sendRun(new StreamBuffer('g', 's'), [{ events: pending, bytes: 0 }]);
    await settle();
    // Waiting for a slot: still by value.
    expect(make).not.toHaveBeenCalled();
    expect(received).toEqual([]);
    expect(await openUntil(sent)).toBeUndefined();
    // The failed call and its retry received the very same array of objects, made once.
    expect(received).toHaveLength(2);
    expect(received[0]).toEqual([ev(0), ev(1), ev(2)]);
    expect(received[1]).toBe(received[0]);
    expect(make).toHaveBeenCalledTimes(1);
    // Made once: its value slots went back to the stream for reuse.
    expect(() => pending.make()).toThrow('after make() or plan()');
  });

  it('searches a batch the service calls invalid among the objects it sent', async () => {
    // The whole batch, then its first half [ev(0)] refused: ev(0) is dropped, the rest delivered.
    const { sender, received, invalid, take, openUntil } = setUp([awsError('InvalidParameterException'), awsError('InvalidParameterException')]);
    const pending = take();
    expect(await openUntil(sender.sendRun(new StreamBuffer('g', 's'), [{ events: pending, bytes: 0 }]))).toBeUndefined();
    expect(received).toEqual([[ev(0), ev(1), ev(2)], [ev(0)], [ev(1), ev(2)]]);
    expect(received[1]![0]).toBe(received[0]![0]);
    expect(invalid).toEqual([[ev(0)]]);
  });

  it('requeues its events as objects, in order, if stop() comes while it waits for the pacer', async () => {
    const { sender, lifecycle, received, take, open } = setUp([]);
    const requeued = sender.sendRun(new StreamBuffer('g', 's'), [{ events: take(), bytes: 0 }]);
    await settle();
    lifecycle.abandon();
    open();
    const left = await requeued;
    expect(left?.map((piece) => piece.events)).toEqual([[ev(0), ev(1), ev(2)]]);
    expect(received).toEqual([]);
  });
});
