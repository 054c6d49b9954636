/**
 * Value slots in chunks from a pool shared by a buffer's streams (value-slots.ts): a chunk a
 * made run gives back is filled by the next stream that needs one, never while its events are
 * still wanted.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { InputLogEvent } from '../../../src/batch/index.js';
import { planBatches } from '../../../src/batch/planner.js';
import { eventsOf, PendingEvents, StreamBuffer } from '../../../src/batch/stream-buffer.js';
import { CHUNK_SLOTS, SlotPool, SMALL_CHUNK_SLOTS } from '../../../src/batch/value-slots.js';

const events = (prefix: string, n: number): InputLogEvent[] => Array.from({ length: n }, (_, i) => ({ timestamp: 1_700_000_000_000 + i, message: `${prefix}${i}` }));

function fill(stream: StreamBuffer, list: InputLogEvent[]): void {
  for (const e of list) stream.push(e.timestamp, e.message, 100);
}

function takeRun(stream: StreamBuffer): PendingEvents {
  const taken = stream.takeRun().events;
  expect(taken).toBeInstanceOf(PendingEvents);
  return taken as PendingEvents;
}

describe('SlotPool', () => {
  it('hands out the chunks of the size asked that were given back, newest first, and keeps at most maxSlots free', () => {
    const pool = new SlotPool(2 * CHUNK_SLOTS + SMALL_CHUNK_SLOTS);
    const [a, b, c] = [pool.take(CHUNK_SLOTS), pool.take(CHUNK_SLOTS), pool.take(CHUNK_SLOTS)];
    const small = pool.take(SMALL_CHUNK_SLOTS);
    expect(a.timestamps).toHaveLength(CHUNK_SLOTS);
    expect(a.messages).toHaveLength(CHUNK_SLOTS);
    expect(small.messages).toHaveLength(SMALL_CHUNK_SLOTS);
    pool.give([small, a, b, c]);
    // c did not fit under maxSlots.
    expect(pool.freeSlots).toBe(2 * CHUNK_SLOTS + SMALL_CHUNK_SLOTS);
    expect(pool.take(SMALL_CHUNK_SLOTS)).toBe(small);
    expect(pool.take(CHUNK_SLOTS)).toBe(b);
    expect(pool.take(CHUNK_SLOTS)).toBe(a);
    expect(pool.freeSlots).toBe(0);
    // Empty: new chunks.
    expect([a, b, c]).not.toContain(pool.take(CHUNK_SLOTS));
    expect(pool.take(SMALL_CHUNK_SLOTS)).not.toBe(small);
  });

  it('keeps free about an eighth of the bound in slots (16 bytes each, events of 128 bytes)', () => {
    const pool = SlotPool.forBound(64 * 1024 * 1024);
    pool.give(Array.from({ length: 10_000 }, () => pool.take(CHUNK_SLOTS)));
    expect(pool.freeSlots * 16).toBe(8 * 1024 * 1024);
  });
});

describe('streams sharing a pool', () => {
  it('fill the chunks a made run gave back, and leave alone those of a run not made yet', () => {
    const pool = new SlotPool(100 * CHUNK_SLOTS);
    const a = new StreamBuffer('g', 'a', pool);
    const b = new StreamBuffer('g', 'b', pool);
    const first = events('a-first-', 2 * CHUNK_SLOTS + 3);
    const second = events('a-second-', CHUNK_SLOTS + 1);
    fill(a, first);
    const firstRun = takeRun(a);
    fill(a, second);
    const secondRun = takeRun(a);
    expect(pool.freeSlots).toBe(0);
    expect([firstRun.first, firstRun.last]).toEqual([first[0]!.timestamp, first.at(-1)!.timestamp]);

    // The first run is made: its three chunks go back, and stream b fills them.
    expect(firstRun.make()).toEqual(first);
    const given = pool.freeSlots;
    expect(given).toBeGreaterThanOrEqual(first.length);
    const other = events('b-', given);
    fill(b, other);
    // A new stream starts with a small chunk, then takes large ones: all but a small one reused.
    expect(pool.freeSlots).toBeLessThanOrEqual(SMALL_CHUNK_SLOTS);

    // The second run, made after b overwrote the first run's slots, is intact; so are b's events.
    expect(eventsOf(secondRun)).toEqual(second);
    expect(b.takeAll().events).toEqual(other);
    expect(a.count).toBe(0);
  });

  it('lets the messages go when their events are made into objects (nothing kept alive through the pool)', () => {
    const pool = new SlotPool(100 * CHUNK_SLOTS);
    const a = new StreamBuffer('g', 'a', pool);
    fill(a, events('m', CHUNK_SLOTS + 5));
    takeRun(a).make();
    const chunks = [pool.take(SMALL_CHUNK_SLOTS), pool.take(CHUNK_SLOTS)];
    expect(pool.freeSlots).toBe(0);
    for (const chunk of chunks) expect(chunk.messages.every((m) => m === '' || m === undefined)).toBe(true);
  });

  it('gives a stream whose last take held a few events a small first chunk, and one that held more a large one', () => {
    const pool = new SlotPool(0);
    const take = vi.spyOn(pool, 'take');
    const a = new StreamBuffer('g', 'a', pool);
    fill(a, events('m', SMALL_CHUNK_SLOTS + 1));
    expect(take.mock.calls.map(([slots]) => slots)).toEqual([SMALL_CHUNK_SLOTS, CHUNK_SLOTS]);
    takeRun(a).make();
    fill(a, events('n', 1));
    expect(take.mock.calls.at(-1)).toEqual([CHUNK_SLOTS]);
    takeRun(a).make();
    fill(a, events('o', 1));
    expect(take.mock.calls.at(-1)).toEqual([SMALL_CHUNK_SLOTS]);
  });
});

describe('a take by value planned into batches (PendingEvents.plan)', () => {
  // Rising timestamps with ties, messages of assorted sizes (some multi-byte), up to a few chunks.
  const runArb = fc
    .array(fc.record({ step: fc.constantFrom(0, 0, 1, 5, 90_000_000), message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) }), { minLength: 1, maxLength: 3 * CHUNK_SLOTS + 20 })
    .map((items) => {
      let t = 1_700_000_000_000;
      return items.map(({ step, message }) => ({ timestamp: (t += step), message }));
    });
  const limitsArb = fc.record({
    maxEvents: fc.integer({ min: 1, max: 200 }),
    maxBytes: fc.integer({ min: 1_000, max: 8_000 }),
    cutBetweenTimestamps: fc.boolean(),
  });

  it('cuts exactly as planBatches cuts the same events as objects, and each batch, made in any order, holds its events (property)', () => {
    fc.assert(
      fc.property(runArb, limitsArb, fc.boolean(), fc.integer({ min: 0, max: 2 }), (run, limits, smallFirst, reversed) => {
        const pool = new SlotPool(100 * CHUNK_SLOTS);
        const stream = new StreamBuffer('g', 's', pool);
        // A stream whose last take held more than a small chunk starts its next take with a large one.
        if (!smallFirst) {
          fill(stream, events('warm', SMALL_CHUNK_SLOTS + 1));
          takeRun(stream).make();
        }
        fill(stream, run);
        const whole = takeRun(stream);
        const expected = planBatches(run, limits);
        const planned = whole.plan(limits);
        expect(planned.map((b) => [b.events.length, b.bytes, b.events.first, b.events.last])).toEqual(
          expected.map((b) => [b.events.length, b.bytes, b.events[0]!.timestamp, b.events.at(-1)!.timestamp]),
        );
        expect(() => whole.make()).toThrow('after make() or plan()');
        // Made in order, backwards, or middle first: the chunks go back once, after the last.
        const order = planned.map((_, k) => k);
        if (reversed === 1) order.reverse();
        if (reversed === 2) order.unshift(...order.splice(order.length >> 1));
        const free = pool.freeSlots;
        order.forEach((k, made) => {
          expect(planned[k]!.events.make()).toEqual(expected[k]!.events);
          if (made < order.length - 1) expect(pool.freeSlots).toBe(free);
        });
        expect(pool.freeSlots).toBeGreaterThanOrEqual(free + run.length);
      }),
    );
  });
});
