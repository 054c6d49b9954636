import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findBatchViolation, planBatches, sortByTimestamp, type InputLogEvent } from '../../../src/batch/index.js';

const size = (e: InputLogEvent): number => Buffer.byteLength(e.message) + 26;
const total = (es: InputLogEvent[]): number => es.reduce((n, e) => n + size(e), 0);
const HOUR = 3_600_000;

describe('sortByTimestamp', () => {
  it('is stable and in place; leaves sorted input untouched', () => {
    const events = [
      { timestamp: 3, message: 'c' },
      { timestamp: 1, message: 'a1' },
      { timestamp: 2, message: 'b' },
      { timestamp: 1, message: 'a2' },
    ];
    const out = sortByTimestamp(events);
    expect(out).toBe(events);
    expect(out.map((e) => e.message)).toEqual(['a1', 'a2', 'b', 'c']);
  });
});

describe('planBatches', () => {
  it('cuts before maxEvents, maxBytes and the 24 h span would break, never after', () => {
    const events = Array.from({ length: 7 }, (_, i) => ({ timestamp: i, message: 'x'.repeat(74) })); // 100 bytes each
    expect(planBatches(events, { maxEvents: 3, maxBytes: 10_000 }).map((b) => b.events.length)).toEqual([3, 3, 1]);
    expect(planBatches(events, { maxEvents: 100, maxBytes: 250 }).map((b) => b.events.length)).toEqual([2, 2, 2, 1]);
    expect(planBatches(events, { maxEvents: 100, maxBytes: 300 }).map((b) => b.bytes)).toEqual([300, 300, 100]);
    const span = [0, 24 * HOUR, 24 * HOUR + 1, 48 * HOUR + 1].map((timestamp) => ({ timestamp, message: 'm' }));
    expect(planBatches(span, { maxEvents: 100, maxBytes: 10_000 }).map((b) => b.events.length)).toEqual([2, 2]);
  });

  it('empty input: no batches', () => {
    expect(planBatches([], { maxEvents: 1, maxBytes: 1 })).toEqual([]);
    expect(planBatches([], { maxEvents: 1, maxBytes: 1 }, 0)).toEqual([]);
  });

  const eventsArb = fc
    .array(
      fc.record({
        timestamp: fc.integer({ min: 0, max: 4 * 24 * HOUR }),
        message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
      }),
      { maxLength: 200 },
    )
    .map((es) => sortByTimestamp(es));
  const limitsArb = fc.record({ maxEvents: fc.integer({ min: 1, max: 50 }), maxBytes: fc.integer({ min: 2_000, max: 8_000 }) });

  it('property: batches are consecutive, obey the rules, are greedy, and knownBytes changes nothing', () => {
    fc.assert(
      fc.property(eventsArb, limitsArb, (events, limits) => {
        const batches = planBatches(events, limits);
        expect(batches.flatMap((b) => b.events)).toEqual(events);
        for (const b of batches) {
          expect(b.bytes).toBe(total(b.events));
          expect(findBatchViolation(b.events, { ...limits, maxEventBytes: 1_048_576 })).toBeUndefined();
        }
        // Greedy: the first event of each next batch would have broken a limit of the previous one.
        for (let i = 0; i + 1 < batches.length; i++) {
          const prev = batches[i]!;
          const next = batches[i + 1]!.events[0]!;
          const broke =
            prev.events.length + 1 > limits.maxEvents ||
            prev.bytes + size(next) > limits.maxBytes ||
            next.timestamp - prev.events[0]!.timestamp > 24 * HOUR;
          expect(broke).toBe(true);
        }
        expect(planBatches(events, limits, total(events))).toEqual(batches);
      }),
      { numRuns: 300 },
    );
  });

  describe('cutBetweenTimestamps', () => {
    // Few distinct timestamps: runs of equal timestamps, often longer than a batch.
    const tiedArb = fc
      .array(fc.record({ timestamp: fc.integer({ min: 0, max: 12 }), message: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) }), {
        maxLength: 200,
      })
      .map((es) => sortByTimestamp(es));

    it('ends a batch before a run of equal timestamps the cut would split, when half the batch stays', () => {
      const events = [10, 10, 11, 11, 11, 12, 12, 12, 13].map((timestamp, i) => ({ timestamp, message: `m${i}` }));
      const plan = (between: boolean) =>
        planBatches(events, { maxEvents: 4, maxBytes: 10_000, cutBetweenTimestamps: between }).map((b) => b.events.map((e) => e.timestamp));
      expect(plan(false)).toEqual([[10, 10, 11, 11], [11, 12, 12, 12], [13]]);
      expect(plan(true)).toEqual([[10, 10], [11, 11, 11], [12, 12, 12, 13]]);
      // A run longer than half the batch is cut through, as without the option.
      const long = [1, 2, 2, 2, 2, 2].map((timestamp, i) => ({ timestamp, message: `m${i}` }));
      expect(planBatches(long, { maxEvents: 4, maxBytes: 10_000, cutBetweenTimestamps: true }).map((b) => b.events.length)).toEqual([4, 2]);
    });

    it('property: batches obey the rules; a cut is greedy, or comes early only to keep a run of equal timestamps whole', () => {
      fc.assert(
        fc.property(fc.oneof(eventsArb, tiedArb), limitsArb, (events, limits) => {
          const batches = planBatches(events, { ...limits, cutBetweenTimestamps: true });
          expect(batches.flatMap((b) => b.events)).toEqual(events);
          let at = 0;
          for (let i = 0; i < batches.length; i++) {
            const b = batches[i]!;
            expect(b.events.length).toBeGreaterThan(0);
            expect(b.bytes).toBe(total(b.events));
            expect(findBatchViolation(b.events, { ...limits, maxEventBytes: 1_048_576 })).toBeUndefined();
            at += b.events.length;
            if (i + 1 === batches.length) break;
            // How many of the following events the greedy planner would still have put in this batch.
            let count = b.events.length;
            let bytes = b.bytes;
            let extra = 0;
            while (at + extra < events.length) {
              const e = events[at + extra]!;
              if (count + 1 > limits.maxEvents || bytes + size(e) > limits.maxBytes || e.timestamp - b.events[0]!.timestamp > 24 * HOUR) break;
              count++;
              bytes += size(e);
              extra++;
            }
            if (extra === 0) continue; // the greedy cut
            // An early cut: between two timestamps, before a run the greedy cut would have split,
            // keeping at least half of the greedy batch.
            const run = events[at]!.timestamp;
            expect(b.events.at(-1)!.timestamp).toBeLessThan(run);
            for (let k = at; k <= at + extra; k++) expect(events[k]!.timestamp).toBe(run);
            expect(b.events.length * 2).toBeGreaterThanOrEqual(b.events.length + extra);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('property: the plan of a single batch is the same with or without the option', () => {
      fc.assert(
        fc.property(fc.oneof(eventsArb, tiedArb), limitsArb, (events, limits) => {
          const plain = planBatches(events, limits);
          fc.pre(plain.length <= 1);
          expect(planBatches(events, { ...limits, cutBetweenTimestamps: true })).toEqual(plain);
        }),
      );
    });
  });
});
