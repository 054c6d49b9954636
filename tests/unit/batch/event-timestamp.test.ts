import { describe, expect, it } from 'vitest';
import { eventTimestamp } from '../../../src/batch/index.js';

const NOW = 1_700_000_000_123;
const fallback = (): number => NOW;

describe('eventTimestamp', () => {
  it('reads numbers (seconds scaled), numeric strings, ISO strings and Dates', () => {
    expect(eventTimestamp(1_700_000_000_456, fallback)).toBe(1_700_000_000_456);
    expect(eventTimestamp(1_700_000_000.5, fallback)).toBe(1_700_000_000_500);
    expect(eventTimestamp('1700000000456', fallback)).toBe(1_700_000_000_456);
    expect(eventTimestamp('2024-01-02T03:04:05.678Z', fallback)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(eventTimestamp(new Date(1_600_000_000_000), fallback)).toBe(1_600_000_000_000);
  });

  it('falls back for anything unusable', () => {
    for (const value of [undefined, null, {}, -1, Number.NaN, Infinity, 'yesterday', '', new Date(Number.NaN), 1e300]) {
      expect(eventTimestamp(value, fallback)).toBe(NOW);
    }
  });

  it('the same string read again, or in turn with others, keeps its value (the last one read is cached)', () => {
    const a = '2024-01-02T03:04:05.678Z';
    const b = '2024-01-02T03:04:05.679Z';
    const seen = [a, a, b, b, a, b, a].map((s) => eventTimestamp(s, fallback));
    expect(seen).toEqual([678, 678, 679, 679, 678, 679, 678].map((ms) => Date.UTC(2024, 0, 2, 3, 4, 5, ms)));
    // An equal string built separately (a different string object) gives the same value.
    expect(eventTimestamp(['2024-01-02T03:04:05', '.678Z'].join(''), fallback)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  });

  it('an unusable string is never cached: the fallback is asked every time', () => {
    let calls = 0;
    const counting = (): number => ++calls;
    expect(eventTimestamp('not a time', counting)).toBe(1);
    expect(eventTimestamp('not a time', counting)).toBe(2);
    // ...and it does not disturb the cached value of a good one.
    expect(eventTimestamp('2024-01-02T03:04:05.678Z', counting)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(eventTimestamp('not a time', counting)).toBe(3);
    expect(eventTimestamp('2024-01-02T03:04:05.678Z', counting)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  });
});
