import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InputLogEvent } from '../../../src/batch/index.js';
import { calculateEventSize } from '../../../src/batch/index.js';
import { eventsOf, PendingEvents, StreamBuffer } from '../../../src/batch/stream-buffer.js';
import { StreamRegistry } from '../../../src/batch/stream-registry.js';
import { CHUNK_SLOTS, SlotPool, SMALL_CHUNK_SLOTS } from '../../../src/batch/value-slots.js';
import { ev } from './helpers.js';

const size = (e: { message: string }): number => calculateEventSize(e.message);
const push = (buffer: StreamBuffer, e: InputLogEvent, bytes: number): void => buffer.push(e.timestamp, e.message, bytes);

describe('StreamBuffer (one stream\'s events)', () => {
  it('keeps arrival order and bytes, and flags an event that came before an earlier one', () => {
    const buffer = new StreamBuffer('g', 's');
    push(buffer, ev(1), size(ev(1)));
    push(buffer, ev(2), size(ev(2)));
    let taken = buffer.takeAll();
    expect(taken.events).toEqual([ev(1), ev(2)]);
    expect(taken.bytes).toBe(size(ev(1)) + size(ev(2)));
    expect(taken.unordered).toBe(false);
    expect(buffer.count).toBe(0);
    expect(buffer.bytes).toBe(0);
    push(buffer, ev(5), size(ev(5)));
    push(buffer, ev(3), size(ev(3)));
    taken = buffer.takeAll();
    expect(taken.unordered).toBe(true);
    // The flag is per take: the next events start clean.
    push(buffer, ev(6), size(ev(6)));
    expect(buffer.takeAll().unordered).toBe(false);
  });

  it('puts events back in front of newer ones (and asks for a sort)', () => {
    const buffer = new StreamBuffer('g', 's');
    push(buffer, ev(3), size(ev(3)));
    buffer.putBack([ev(1), ev(2)], size(ev(1)) + size(ev(2)));
    const taken = buffer.takeAll();
    expect(taken.events).toEqual([ev(1), ev(2), ev(3)]);
    expect(taken.unordered).toBe(true);
  });

  it('takes the oldest events until at least the asked bytes are freed', () => {
    const buffer = new StreamBuffer('g', 's');
    for (let i = 0; i < 4; i++) push(buffer, ev(i, 'x'.repeat(74)), 100);
    const freed = buffer.takeOldest(150, () => 100);
    expect(freed.events.map((e) => e.timestamp)).toEqual([ev(0).timestamp, ev(1).timestamp]);
    expect(freed.bytes).toBe(200);
    expect(buffer.count).toBe(2);
    expect(buffer.bytes).toBe(200);
    expect(buffer.takeOldest(10_000, () => 100).events).toHaveLength(2);
    expect(buffer.takeOldest(1, () => 100)).toEqual({ events: [], bytes: 0 });
  });

  it('says when the next event would break a batch limit, and when it holds a batch', () => {
    const buffer = new StreamBuffer('g', 's');
    push(buffer, ev(0), 600);
    expect(buffer.wouldFillBatch(400, 10, 1_000)).toBe(false);
    expect(buffer.wouldFillBatch(401, 10, 1_000)).toBe(true);
    expect(buffer.wouldFillBatch(1, 1, 1_000)).toBe(true);
    expect(buffer.holdsBatch(10, 600)).toBe(true);
    expect(buffer.holdsBatch(10, 601)).toBe(false);
  });
});

describe('StreamBuffer against a model (one array of events, oldest first)', () => {
  type Op =
    | { op: 'push'; ts: number; kept: boolean }
    | { op: 'burst'; ts: number; n: number }
    | { op: 'takeAll' }
    | { op: 'takeRun' }
    | { op: 'make' }
    | { op: 'putBack'; n: number }
    | { op: 'takeOldest'; n: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('push' as const), ts: fc.integer({ min: 0, max: 50 }), kept: fc.boolean() }) },
    // Enough events by value to fill chunks (CHUNK_SLOTS each) and cross into the next.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('burst' as const), ts: fc.integer({ min: 0, max: 50 }), n: fc.integer({ min: 1, max: 3 * CHUNK_SLOTS + 1 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'takeAll' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'takeRun' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'make' as const }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('putBack' as const), n: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('takeOldest' as const), n: fc.integer({ min: 0, max: 5 }) }) },
  );

  it('takes (all, or a run by value made later), puts back and drops exactly what the model does, and flags disorder only when some event came before an earlier one (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        // A pool that keeps few slots free: chunks given back are reused, and some are not kept.
        const buffer = new StreamBuffer('g', 's', new SlotPool(CHUNK_SLOTS + 2 * SMALL_CHUNK_SLOTS));
        let model: InputLogEvent[] = [];
        // Whether an event came before the one pushed before it, or events were put back, since
        // the last take (a take starts clean: nothing buffered is older than the next event).
        let disordered = false;
        let newest = 0;
        let serial = 0;
        // Events handed over as objects (pushKept, putBack): the stream hands back those very objects.
        const objects = new Set<InputLogEvent>();
        // Runs' events taken by value, not yet made into objects, oldest first.
        const pending: Array<{ events: PendingEvents; expected: InputLogEvent[] }> = [];
        // How many of the oldest buffered events the stream holds as objects: any operation on
        // objects (pushKept, putBack, takeOldest) turns the events kept by value into objects first.
        let asObjects = 0;
        for (const o of ops) {
          if (o.op === 'push') {
            const event = { timestamp: o.ts, message: `m${serial++}` };
            if (o.ts < newest) disordered = true;
            newest = o.ts;
            if (o.kept) {
              buffer.pushKept(event, 100);
              objects.add(event);
            } else buffer.push(event.timestamp, event.message, 100);
            model.push(event);
            if (o.kept) asObjects = model.length;
          } else if (o.op === 'burst') {
            if (o.ts < newest) disordered = true;
            for (let k = 0; k < o.n; k++) {
              const event = { timestamp: o.ts + k, message: `m${serial++}` };
              buffer.push(event.timestamp, event.message, 100);
              model.push(event);
            }
            newest = o.ts + o.n - 1;
          } else if (o.op === 'takeAll' || o.op === 'takeRun') {
            const taken = o.op === 'takeAll' ? buffer.takeAll() : buffer.takeRun();
            // A run takes events kept by value as they are: exactly when none was given as an object.
            const byValue = o.op === 'takeRun' && model.length > 0 && asObjects === 0;
            expect(taken.events instanceof PendingEvents).toBe(byValue);
            if (taken.events instanceof PendingEvents) {
              expect(taken.events.length).toBe(model.length);
              expect([taken.events.first, taken.events.last]).toEqual([model[0]!.timestamp, model.at(-1)!.timestamp]);
              // Made later, after more pushes and takes: the stream reuses those arrays only once given back.
              pending.push({ events: taken.events, expected: model });
            } else {
              const events = eventsOf(taken.events);
              // The same events, in arrival order; the very objects where it was given objects.
              expect(events).toEqual(model);
              events.forEach((event, k) => {
                if (objects.has(model[k]!)) expect(event).toBe(model[k]);
              });
              // Never "in order" when they are not: the flush sorts only when told to.
              if (events.some((event, k) => k > 0 && event.timestamp < events[k - 1]!.timestamp)) expect(taken.unordered).toBe(true);
            }
            expect(taken.bytes).toBe(100 * model.length);
            expect(taken.unordered).toBe(disordered);
            model = [];
            asObjects = 0;
            disordered = false;
            newest = 0;
          } else if (o.op === 'make') {
            const next = pending.shift();
            if (next !== undefined) {
              expect(next.events.make()).toEqual(next.expected);
              // Once only: its slots may be the stream's again by now.
              expect(() => next.events.make()).toThrow('after make() or plan()');
            }
          } else if (o.op === 'putBack') {
            const back = Array.from({ length: o.n }, (_, k) => ({ timestamp: k, message: `back${serial++}` }));
            buffer.putBack(back, 100 * o.n);
            for (const event of back) objects.add(event);
            model = back.concat(model);
            if (o.n > 0) asObjects = model.length;
            if (o.n > 0) disordered = true;
          } else {
            const taken = buffer.takeOldest(o.n * 100, () => 100);
            expect(taken.events).toEqual(model.slice(0, o.n));
            expect(taken.bytes).toBe(100 * Math.min(o.n, model.length));
            model = model.slice(o.n);
            asObjects = model.length;
          }
          expect(buffer.count).toBe(model.length);
          expect(buffer.bytes).toBe(100 * model.length);
        }
        // Whatever was left pending is still intact when made at the end.
        for (const next of pending) expect(next.events.make()).toEqual(next.expected);
        expect(buffer.takeAll().events).toEqual(model);
      }),
    );
  });
});

describe('StreamRegistry (find, create, check names once)', () => {
  it('creates a stream once and finds it again; find() never creates', () => {
    const registry = new StreamRegistry();
    expect(registry.find('g', 's')).toBeUndefined();
    const a = registry.get('g', 's');
    expect(registry.get('g', 's')).toBe(a);
    const b = registry.get('g', 't');
    registry.get('h', 's');
    expect(registry.get('g', 's')).toBe(a);
    expect(registry.find('g', 't')).toBe(b);
    expect([...registry.all()].map((x) => `${x.group}/${x.stream}`)).toEqual(['g/s', 'g/t', 'h/s']);
  });

  it('refuses names AWS refuses, naming the field, and remembers nothing for them', () => {
    const registry = new StreamRegistry();
    expect(() => registry.get('aws/x', 's')).toThrow(expect.objectContaining({ name: 'InvalidNameError', field: 'logGroupName' }));
    expect(() => registry.get('g', 'a:b')).toThrow(expect.objectContaining({ name: 'InvalidNameError', field: 'logStreamName' }));
    expect([...registry.all()]).toEqual([]);
  });
});
