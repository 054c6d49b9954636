/**
 * Batches of one flush run are sent up to maxConcurrentFlushes at a time (AWS allows concurrent
 * PutLogEvents on a stream since 2023), except across a timestamp tie (which the planner avoids
 * where it can) and for a stream with a legacy sequence token; and tryAdd() accepts
 * synchronously only when add() would not wait.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, FlushFailedError } from '../../../src/batch/index.js';
import { awsError, ev, expectIdentity, G, S, settle, T0, gate } from './helpers.js';
import { quiet } from '../../helpers/quiet.js';

/**
 * With maxEvents 4: pass 1 (size-triggered by the fifth event) is [0, 1, 2, 3]; pass 2 holds runs
 * of equal timestamps that greedy cuts of 4 would split ([10,10,11,11] [11,12,12,12] [13]).
 */
function addTiedRuns(buffer: BatchBufferImpl): void {
  const t = [0, 1, 2, 3, 10, 10, 11, 11, 11, 12, 12, 12, 13];
  t.forEach((ts, i) => buffer.tryAdd(G, S, ev(i, `m${i}`, T0 + ts)));
}

describe('pipelined sends within one stream', () => {
  it('sends the batches of one run concurrently, up to maxConcurrentFlushes, in batch order', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxEvents: 2, maxConcurrentFlushes: 3 }));
    // The third event size-triggers a run of [0, 1]; the rest wait for the next pass of that run.
    for (let i = 0; i < 10; i++) buffer.tryAdd(G, S, ev(i));
    const done = buffer.flush(G, S);
    await settle();
    expect(g.pending.map((p) => p.events.map((e) => e.timestamp - T0))).toEqual([[0, 1]]);
    g.pending[0]!.answer.resolve(undefined);
    await settle();
    // Next pass: 4 batches, at most 3 at once, started in order.
    expect(g.pending.slice(1).map((p) => p.events.map((e) => e.timestamp - T0))).toEqual([[2, 3], [4, 5], [6, 7]]);
    expect(buffer.getMetrics().flushesPending).toBe(3);
    g.pending[2]!.answer.resolve(undefined);
    await settle();
    expect(g.pending).toHaveLength(5);
    for (const p of g.pending) p.answer.resolve(undefined);
    await done;
    expect(buffer.getMetrics().eventsDelivered).toBe(10);
  });

  it('a batch that starts at the timestamp the previous one ends at waits for it (ties keep their order)', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxEvents: 2, maxConcurrentFlushes: 4 }));
    // [a, b] [c, d] share the timestamp at their boundary; [e] does not.
    const t = [T0, T0 + 1, T0 + 1, T0 + 2, T0 + 3];
    t.forEach((ts, i) => buffer.tryAdd(G, S, ev(i, `m${i}`, ts)));
    const done = buffer.flush(G, S);
    await settle();
    expect(g.pending.map((p) => p.events.map((e) => e.message))).toEqual([['m0', 'm1']]);
    g.pending[0]!.answer.resolve(undefined);
    await settle();
    expect(g.pending.map((p) => p.events.map((e) => e.message))).toEqual([['m0', 'm1'], ['m2', 'm3'], ['m4']]);
    g.pending[1]!.answer.resolve(undefined);
    g.pending[2]!.answer.resolve(undefined);
    await done;
  });

  it('a fast producer (many events per millisecond) still gets concurrent sends: batches are cut between timestamps', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxEvents: 4, maxConcurrentFlushes: 4 }));
    addTiedRuns(buffer);
    const done = buffer.flush(G, S);
    await settle();
    g.pending[0]!.answer.resolve(undefined);
    await settle();
    expect(g.pending.slice(1).map((p) => p.events.map((e) => e.timestamp - T0))).toEqual([[10, 10], [11, 11, 11], [12, 12, 12, 13]]);
    for (const p of g.pending) p.answer.resolve(undefined);
    await done;
    expect(buffer.getMetrics().eventsDelivered).toBe(13);
  });

  it('a stream sending one batch at a time keeps plain greedy cuts', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxEvents: 4, maxConcurrentFlushes: 1 }));
    addTiedRuns(buffer);
    const done = buffer.flush(G, S);
    const sent: number[][] = [];
    for (let k = 0; k < 4; k++) {
      await settle();
      expect(g.pending).toHaveLength(k + 1);
      sent.push(g.pending[k]!.events.map((e) => e.timestamp - T0));
      g.pending[k]!.answer.resolve(undefined);
    }
    await done;
    expect(sent).toEqual([[0, 1, 2, 3], [10, 10, 11, 11], [11, 12, 12, 12], [13]]);
  });

  it('a stream with a legacy sequence token sends one batch at a time', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxEvents: 1, maxConcurrentFlushes: 4 }));
    buffer.tryAdd(G, S, ev(0));
    let done = buffer.flush(G, S);
    await settle();
    g.pending[0]!.answer.resolve({ nextSequenceToken: 'token-1' });
    await done;
    for (let i = 1; i <= 3; i++) buffer.tryAdd(G, S, ev(i));
    done = buffer.flush(G, S);
    await settle();
    expect(g.pending).toHaveLength(2);
    expect(g.pending[1]!.token).toBe('token-1');
    g.pending[1]!.answer.resolve({ nextSequenceToken: 'token-2' });
    await settle();
    expect(g.pending).toHaveLength(3);
    expect(g.pending[2]!.token).toBe('token-2');
    g.pending[2]!.answer.resolve({});
    await settle();
    g.pending[3]!.answer.resolve({});
    await done;
    expect(buffer.getMetrics().eventsDelivered).toBe(4);
  });

  it('when one of several concurrent batches fails, only it and the unsent ones go back, in order', async () => {
    const g = gate();
    const errors: unknown[] = [];
    const buffer = new BatchBufferImpl(g.flush, {
      onError: (e) => errors.push(e),
      maxEvents: 2,
      maxConcurrentFlushes: 2,
      maxRetries: 0,
    });
    // The third add starts a background run of [0, 1]; the later full batches ask it for another pass.
    for (let i = 0; i < 8; i++) buffer.tryAdd(G, S, ev(i));
    await settle();
    g.pending[0]!.answer.resolve(undefined); // [0, 1]
    await settle();
    // The next pass: [2, 3] and [4, 5] at once; [6, 7] waits for a lane.
    expect(g.pending.slice(1).map((p) => p.events.map((e) => e.timestamp - T0))).toEqual([[2, 3], [4, 5]]);
    g.pending[1]!.answer.reject(awsError('ServiceUnavailableException', 503));
    g.pending[2]!.answer.resolve(undefined);
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FlushFailedError);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(4);
    expect(m.eventsBuffered).toBe(4);
    expectIdentity(m);
    // They wait at the front, in order: the next run sends 2, 3, 6, 7.
    const next = buffer.flush(G, S);
    for (let round = 0; round < 3; round++) {
      await settle();
      for (const p of g.pending.slice(3)) p.answer.resolve(undefined);
    }
    await next;
    expect(g.pending.slice(3).flatMap((p) => p.events.map((e) => e.timestamp - T0))).toEqual([2, 3, 6, 7]);
    expect(buffer.getMetrics().eventsDelivered).toBe(8);
  });

  it('a flush() that arrives during a failing run waits for it, then makes its own attempt', async () => {
    let failing = true;
    const calls: number[] = [];
    const buffer = new BatchBufferImpl(
      async (_g, _s, events) => {
        calls.push(events.length);
        await Promise.resolve();
        if (failing) {
          failing = false;
          throw awsError('ServiceUnavailableException', 503);
        }
      },
      quiet({ maxEvents: 2, maxRetries: 0 }),
    );
    for (let i = 0; i < 3; i++) buffer.tryAdd(G, S, ev(i)); // the third starts a run of [0, 1], which fails
    await buffer.flush(G, S);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(3);
    expect(m.eventsBuffered + m.eventsInFlight).toBe(0);
    expect(m.flushesFailed).toBe(1);
  });
});

describe('tryAdd', () => {
  it('accepts at once when there is room, and reports false (buffering nothing) when add() would wait', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxBufferedBytes: 300, maxConcurrentFlushes: 1 }));
    const message = 'x'.repeat(74); // 100 bytes with the overhead
    expect(buffer.tryAdd(G, S, { timestamp: T0, message })).toBe(true);
    expect(buffer.tryAdd(G, S, { timestamp: T0, message })).toBe(true);
    expect(buffer.tryAdd(G, S, { timestamp: T0, message })).toBe(true);
    expect(buffer.tryAdd(G, S, { timestamp: T0, message })).toBe(false);
    expect(buffer.getMetrics().eventsAccepted).toBe(3);
    const waiting = buffer.add(G, S, { timestamp: T0, message });
    await settle();
    expect(g.pending).toHaveLength(1);
    g.pending[0]!.answer.resolve(undefined);
    await waiting;
    expect(buffer.getMetrics().eventsAccepted).toBe(4);
  });

  it('leaves oversized events to add(), and throws what add() rejects with', () => {
    const buffer = new BatchBufferImpl(async () => undefined, quiet());
    expect(buffer.tryAdd(G, S, { timestamp: T0, message: 'x'.repeat(2_000_000) })).toBe(false);
    expect(buffer.getMetrics().eventsAccepted).toBe(0);
    expect(() => buffer.tryAdd(G, S, { timestamp: -1, message: 'x' })).toThrow(/timestamp/);
    expect(() => buffer.tryAdd('aws/reserved', S, { timestamp: 1, message: 'x' })).toThrow(/logGroupName/);
  });

  it('under a drop policy it accepts (and reports the drop) instead of refusing', () => {
    const drops: string[] = [];
    const buffer = new BatchBufferImpl(() => new Promise(() => undefined), quiet({
      maxBufferedBytes: 200,
      overflowPolicy: 'drop-newest',
      onDrop: (events, reason) => drops.push(...events.map((e) => `${e.message.length}:${reason}`)),
    }));
    const message = 'y'.repeat(74);
    for (let i = 0; i < 3; i++) expect(buffer.tryAdd(G, S, { timestamp: T0, message })).toBe(true);
    expect(drops).toEqual(['74:overflow']);
    expectIdentity(buffer.getMetrics());
  });
});

describe('tryAdd and waiting add() calls', () => {
  it('refuses while add() calls wait for room, even when this event would fit: it must not overtake them', async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, quiet({ maxBufferedBytes: 300 }));
    expect(buffer.tryAdd(G, S, { timestamp: T0, message: 'x'.repeat(74) })).toBe(true); // 100 bytes
    const flushing = buffer.flush(G, S); // in flight, held by the gate
    await settle();
    const big = buffer.add(G, S, { timestamp: T0, message: 'y'.repeat(224) }); // 250 bytes: waits
    await settle();
    // 27 bytes would fit (100 + 27 <= 300), but the 250-byte add() came first.
    expect(buffer.tryAdd(G, S, { timestamp: T0, message: 'w' })).toBe(false);
    expect(buffer.getMetrics().eventsAccepted).toBe(1);
    g.pending[0]!.answer.resolve(undefined);
    await flushing;
    await big;
    expect(buffer.tryAdd(G, S, { timestamp: T0, message: 'w' })).toBe(true);
  });
});
