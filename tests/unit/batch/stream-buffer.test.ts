import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InputLogEvent } from '../../../src/batch/index.js';
import { calculateEventSize } from '../../../src/batch/index.js';
import { StreamBuffer } from '../../../src/batch/stream-buffer.js';
import { StreamRegistry } from '../../../src/batch/stream-registry.js';
import { ev } from './helpers.js';

const size = (e: { message: string }): number => calculateEventSize(e.message);

describe('StreamBuffer (one stream\'s events)', () => {
  it('keeps arrival order and bytes, and flags an event that came before an earlier one', () => {
    const buffer = new StreamBuffer('g', 's');
    buffer.push(ev(1), size(ev(1)));
    buffer.push(ev(2), size(ev(2)));
    let taken = buffer.takeAll();
    expect(taken.events).toEqual([ev(1), ev(2)]);
    expect(taken.bytes).toBe(size(ev(1)) + size(ev(2)));
    expect(taken.unordered).toBe(false);
    expect(buffer.count).toBe(0);
    expect(buffer.bytes).toBe(0);
    buffer.push(ev(5), size(ev(5)));
    buffer.push(ev(3), size(ev(3)));
    taken = buffer.takeAll();
    expect(taken.unordered).toBe(true);
    // The flag is per take: the next events start clean.
    buffer.push(ev(6), size(ev(6)));
    expect(buffer.takeAll().unordered).toBe(false);
  });

  it('puts events back in front of newer ones (and asks for a sort)', () => {
    const buffer = new StreamBuffer('g', 's');
    buffer.push(ev(3), size(ev(3)));
    buffer.putBack([ev(1), ev(2)], size(ev(1)) + size(ev(2)));
    const taken = buffer.takeAll();
    expect(taken.events).toEqual([ev(1), ev(2), ev(3)]);
    expect(taken.unordered).toBe(true);
  });

  it('takes the oldest events until at least the asked bytes are freed', () => {
    const buffer = new StreamBuffer('g', 's');
    for (let i = 0; i < 4; i++) buffer.push(ev(i, 'x'.repeat(74)), 100);
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
    buffer.push(ev(0), 600);
    expect(buffer.wouldFillBatch(400, 10, 1_000)).toBe(false);
    expect(buffer.wouldFillBatch(401, 10, 1_000)).toBe(true);
    expect(buffer.wouldFillBatch(1, 1, 1_000)).toBe(true);
    expect(buffer.holdsBatch(10, 600)).toBe(true);
    expect(buffer.holdsBatch(10, 601)).toBe(false);
  });
});

describe('StreamBuffer against a model (one array of events, oldest first)', () => {
  type Op = { op: 'push'; ts: number } | { op: 'takeAll' } | { op: 'putBack'; n: number } | { op: 'takeOldest'; n: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('push' as const), ts: fc.integer({ min: 0, max: 50 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'takeAll' as const }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('putBack' as const), n: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('takeOldest' as const), n: fc.integer({ min: 0, max: 5 }) }) },
  );

  it('takes, puts back and drops exactly what the model does, and flags disorder only when some event came before an earlier one (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const buffer = new StreamBuffer('g', 's');
        let model: InputLogEvent[] = [];
        // Whether an event came before the one pushed before it, or events were put back, since
        // the last take (a take starts clean: nothing buffered is older than the next event).
        let disordered = false;
        let newest = 0;
        let serial = 0;
        for (const o of ops) {
          if (o.op === 'push') {
            const event = { timestamp: o.ts, message: `m${serial++}` };
            if (o.ts < newest) disordered = true;
            newest = o.ts;
            buffer.push(event, 100);
            model.push(event);
          } else if (o.op === 'takeAll') {
            const taken = buffer.takeAll();
            // The same objects, in arrival order (the stream keeps them as they came).
            expect(taken.events).toHaveLength(model.length);
            taken.events.forEach((event, k) => expect(event).toBe(model[k]));
            expect(taken.bytes).toBe(100 * model.length);
            expect(taken.unordered).toBe(disordered);
            // Never "in order" when they are not: the flush sorts only when told to.
            if (taken.events.some((event, k) => k > 0 && event.timestamp < taken.events[k - 1]!.timestamp)) expect(taken.unordered).toBe(true);
            model = [];
            disordered = false;
            newest = 0;
          } else if (o.op === 'putBack') {
            const back = Array.from({ length: o.n }, (_, k) => ({ timestamp: k, message: `back${serial++}` }));
            buffer.putBack(back, 100 * o.n);
            model = back.concat(model);
            if (o.n > 0) disordered = true;
          } else {
            const taken = buffer.takeOldest(o.n * 100, () => 100);
            expect(taken.events).toEqual(model.slice(0, o.n));
            expect(taken.bytes).toBe(100 * Math.min(o.n, model.length));
            model = model.slice(o.n);
          }
          expect(buffer.count).toBe(model.length);
          expect(buffer.bytes).toBe(100 * model.length);
        }
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
